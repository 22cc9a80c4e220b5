// Package jsonenc encodes Go values as JSON with the same bytes as
// encoding/json's Encoder with HTML escaping off (the API's answers), but
// several times faster on the answers' shapes: structs of strings, ids,
// times, numbers and slices of such.
//
// The speed comes from doing once, per type, what encoding/json redoes
// per value: a plan of field offsets, names already quoted and an
// encoder per kind, run over the value's memory without reflect.Value.
// Identifiers (uuid.UUID), times (time.Time) and json.RawMessage, which
// encoding/json reaches through their Marshal methods, are written
// directly, with their methods' results.
//
// What the plans do not cover is never guessed at: a type whose bytes
// could differ from encoding/json's (a Marshaler on the pointer only, a
// field option such as ",string", an embedded pointer, two fields of one
// name) makes Append report ErrUnplanned, and the caller encodes with
// encoding/json instead. Other types with their own Marshal methods, maps
// whose keys are not strings and byte slices are handed to encoding/json
// value by value inside a plan. Errors encoding/json would report (a time
// outside years 0 to 9999, a NaN) make Append fail too, so the caller's
// fallback reports them in encoding/json's words.
package jsonenc

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/google/uuid"
)

// ErrUnplanned is Append's answer for a value whose type has no plan:
// encode it with encoding/json.
var ErrUnplanned = errors.New("jsonenc: no plan for this type")

// Append appends v's JSON to b, as encoding/json's Encoder with
// SetEscapeHTML(false) writes it, without the Encoder's newline. On error
// b's contents past its length are undefined; use b[:len(b)] again.
func Append(b []byte, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	rv := reflect.ValueOf(v)
	p, err := planOf(rv.Type())
	if err != nil {
		return b, err
	}
	// A value in an interface is not addressable; copy it to memory the
	// plan can read. Pointers are read where they point.
	if rv.Kind() == reflect.Pointer {
		ptr := rv.UnsafePointer()
		return p.enc(b, unsafe.Pointer(&ptr))
	}
	cp := reflect.New(rv.Type())
	cp.Elem().Set(rv)
	return p.enc(b, cp.UnsafePointer())
}

// encFn appends the JSON of the value of its plan's type at p.
type encFn func(b []byte, p unsafe.Pointer) ([]byte, error)

// plan is a type's encoder. enc is set once the plan is built; a
// recursive type reaches its own plan through the pointer.
type plan struct {
	enc encFn
	err error
}

var (
	plansMu sync.Mutex
	plans   sync.Map // reflect.Type → *plan, done (or failed)
)

func planOf(t reflect.Type) (*plan, error) {
	if p, ok := plans.Load(t); ok {
		return p.(*plan), p.(*plan).err
	}
	plansMu.Lock()
	defer plansMu.Unlock()
	building := map[reflect.Type]*plan{}
	p := build(t, building)
	if p.err != nil {
		// The plans begun under it may refer to it: none is kept. (A
		// type's failure is its every container's.)
		plans.Store(t, p)
		return nil, p.err
	}
	for bt, bp := range building {
		plans.Store(bt, bp)
	}
	return p, nil
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	timeType          = reflect.TypeFor[time.Time]()
	uuidType          = reflect.TypeFor[uuid.UUID]()
	rawType           = reflect.TypeFor[json.RawMessage]()
	numberType        = reflect.TypeFor[json.Number]()
)

// build returns t's plan; plansMu is held. building holds the plans begun
// in this call, which a recursive type refers to before they are done.
func build(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p, ok := building[t]; ok {
		return p
	}
	p := &plan{}
	building[t] = p
	enc, err := newEncoder(t, building)
	if err != nil {
		p.err = fmt.Errorf("%w: %s: %v", ErrUnplanned, t, err)
	} else {
		// A recursive reference calls through p, whose enc is set now.
		p.enc = enc
	}
	return p
}

// unplanned says why a type has no plan.
func unplanned(format string, args ...any) error { return fmt.Errorf(format, args...) }

func newEncoder(t reflect.Type, building map[reflect.Type]*plan) (encFn, error) {
	switch t {
	case timeType:
		return encTime, nil
	case uuidType:
		return encUUID, nil
	case rawType:
		return encRaw, nil
	case numberType:
		return nil, unplanned("json.Number")
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		ptr := reflect.PointerTo(t)
		if (ptr.Implements(marshalerType) && !t.Implements(marshalerType)) ||
			(ptr.Implements(textMarshalerType) && !t.Implements(textMarshalerType)) {
			// encoding/json calls these only where the value is
			// addressable, which depends on where it is, not its type.
			return nil, unplanned("a Marshal method on the pointer only")
		}
	}
	if t.Kind() != reflect.Interface && (t.Implements(marshalerType) || t.Implements(textMarshalerType)) {
		elem := t.Elem
		if t.Kind() == reflect.Pointer && (elem().Implements(marshalerType) || elem().Implements(textMarshalerType)) {
			// The value's own methods, or null.
			p := build(elem(), building)
			if p.err != nil {
				return nil, p.err
			}
			return pointerTo(p), nil
		}
		// A value with its own methods, or a pointer whose methods are
		// on the pointer: encoding/json calls them the same wherever
		// the value is.
		return byEncodingJSON(t), nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			return strconv.AppendBool(b, *(*bool)(p)), nil
		}, nil
	case reflect.Int:
		return intEnc[int], nil
	case reflect.Int8:
		return intEnc[int8], nil
	case reflect.Int16:
		return intEnc[int16], nil
	case reflect.Int32:
		return intEnc[int32], nil
	case reflect.Int64:
		return intEnc[int64], nil
	case reflect.Uint:
		return uintEnc[uint], nil
	case reflect.Uint8:
		return uintEnc[uint8], nil
	case reflect.Uint16:
		return uintEnc[uint16], nil
	case reflect.Uint32:
		return uintEnc[uint32], nil
	case reflect.Uint64:
		return uintEnc[uint64], nil
	case reflect.Uintptr:
		return uintEnc[uintptr], nil
	case reflect.Float32:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return appendFloat(b, float64(*(*float32)(p)), 32) }, nil
	case reflect.Float64:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return appendFloat(b, *(*float64)(p), 64) }, nil
	case reflect.String:
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return AppendString(b, *(*string)(p)), nil }, nil
	case reflect.Pointer:
		elem := build(t.Elem(), building)
		if elem.err != nil {
			return nil, elem.err
		}
		return pointerTo(elem), nil
	case reflect.Interface:
		return encInterface(t), nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return byEncodingJSON(t), nil // base64, or the elements' own methods
		}
		elem := build(t.Elem(), building)
		if elem.err != nil {
			return nil, elem.err
		}
		size := t.Elem().Size()
		return func(b []byte, p unsafe.Pointer) ([]byte, error) {
			s := (*sliceHeader)(p)
			if s.data == nil {
				return append(b, "null"...), nil
			}
			return appendElems(b, elem, s.data, s.len, size)
		}, nil
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return byEncodingJSON(t), nil
		}
		elem := build(t.Elem(), building)
		if elem.err != nil {
			return nil, elem.err
		}
		size, n := t.Elem().Size(), t.Len()
		return func(b []byte, p unsafe.Pointer) ([]byte, error) { return appendElems(b, elem, p, n, size) }, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return byEncodingJSON(t), nil
		}
		elem := build(t.Elem(), building)
		if elem.err != nil {
			return nil, elem.err
		}
		return encMap(t, elem), nil
	case reflect.Struct:
		return newStructEncoder(t, building)
	}
	return nil, unplanned("kind %s", t.Kind())
}

func intEnc[T int | int8 | int16 | int32 | int64](b []byte, p unsafe.Pointer) ([]byte, error) {
	return strconv.AppendInt(b, int64(*(*T)(p)), 10), nil
}

func uintEnc[T uint | uint8 | uint16 | uint32 | uint64 | uintptr](b []byte, p unsafe.Pointer) ([]byte, error) {
	return strconv.AppendUint(b, uint64(*(*T)(p)), 10), nil
}

type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

func appendElems(b []byte, elem *plan, data unsafe.Pointer, n int, size uintptr) ([]byte, error) {
	b = append(b, '[')
	var err error
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = elem.enc(b, unsafe.Add(data, uintptr(i)*size)); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func pointerTo(elem *plan) encFn {
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			return append(b, "null"...), nil
		}
		return elem.enc(b, q)
	}
}

// byEncodingJSON encodes values of t with encoding/json: t has its own
// Marshal methods (called on the value, as encoding/json calls them), or
// is a byte slice or a map keyed by other than strings.
func byEncodingJSON(t reflect.Type) encFn {
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		return appendStd(b, reflect.NewAt(t, p).Elem().Interface())
	}
}

// AppendAny is Append for any value: a value whose type has no plan is
// encoded by encoding/json, so every value is written as encoding/json
// writes it with HTML escaping off (without its newline).
func AppendAny(b []byte, v any) ([]byte, error) {
	n := len(b)
	if out, err := Append(b, v); err == nil {
		return out, nil
	}
	return appendStd(b[:n], v)
}

// appendStd appends v as encoding/json encodes it with HTML escaping off.
func appendStd(b []byte, v any) ([]byte, error) {
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return b, err
	}
	out := buf.Bytes()
	return out[:len(out)-1], nil // the Encoder's newline
}

func encInterface(t reflect.Type) encFn {
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		v := reflect.NewAt(t, p).Elem()
		if v.IsNil() {
			return append(b, "null"...), nil
		}
		return Append(b, v.Elem().Interface())
	}
}

func encMap(t reflect.Type, elem *plan) encFn {
	type kv struct {
		k string
		v reflect.Value
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		m := reflect.NewAt(t, p).Elem()
		if m.IsNil() {
			return append(b, "null"...), nil
		}
		kvs := make([]kv, 0, m.Len())
		for it := m.MapRange(); it.Next(); {
			kvs = append(kvs, kv{it.Key().String(), it.Value()})
		}
		slices.SortFunc(kvs, func(a, b kv) int { return strings.Compare(a.k, b.k) })
		b = append(b, '{')
		tmp := reflect.New(t.Elem())
		var err error
		for i, e := range kvs {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, e.k)
			b = append(b, ':')
			tmp.Elem().Set(e.v)
			if b, err = elem.enc(b, tmp.UnsafePointer()); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
}

// field is one member of a struct's plan.
type field struct {
	name   string // `"name":`
	offset uintptr
	enc    *plan
	omit   func(p unsafe.Pointer) bool // nil: never left out
	depth  int
}

func newStructEncoder(t reflect.Type, building map[reflect.Type]*plan) (encFn, error) {
	var fields []field
	if err := collectFields(t, 0, 0, building, &fields); err != nil {
		return nil, err
	}
	// A name at two depths: the shallower field alone is encoded; at one
	// depth, encoding/json's rules get subtle, so it is not planned.
	byName := map[string][]int{}
	for i, f := range fields {
		byName[f.name] = append(byName[f.name], i)
	}
	keep := fields[:0:0]
	for i, f := range fields {
		same := byName[f.name]
		if len(same) == 1 {
			keep = append(keep, f)
			continue
		}
		shallowest, count := math.MaxInt, 0
		for _, j := range same {
			switch d := fields[j].depth; {
			case d < shallowest:
				shallowest, count = d, 1
			case d == shallowest:
				count++
			}
		}
		if count > 1 {
			return nil, unplanned("two fields named %s", f.name)
		}
		if f.depth == shallowest {
			keep = append(keep, fields[i])
		}
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, error) {
		b = append(b, '{')
		first := true
		var err error
		for i := range keep {
			f := &keep[i]
			fp := unsafe.Add(p, f.offset)
			if f.omit != nil && f.omit(fp) {
				continue
			}
			if first {
				b = append(b, f.name[1:]...)
				first = false
			} else {
				b = append(b, f.name...)
			}
			if b, err = f.enc.enc(b, fp); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}, nil
}

// collectFields appends the encoded fields of struct t (at offset base,
// embedded depth levels down) to out, as encoding/json's typeFields
// chooses them.
func collectFields(t reflect.Type, base uintptr, depth int, building map[reflect.Type]*plan, out *[]field) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !isValidTag(name) {
			name = ""
		}
		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				return unplanned("embedded pointer %s", sf.Name)
			}
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
			if name == "" && ft.Kind() == reflect.Struct {
				if err := collectFields(ft, base+sf.Offset, depth+1, building, out); err != nil {
					return err
				}
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		var omitEmpty, omitZero bool
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty":
				omitEmpty = true
			case "omitzero":
				omitZero = true
			case "string":
				return unplanned("field %s has the string option", sf.Name)
			}
		}
		p := build(sf.Type, building)
		if p.err != nil {
			return p.err
		}
		f := field{name: "," + string(AppendString(nil, name)) + ":", offset: base + sf.Offset, enc: p, depth: depth}
		empty, zero := emptyTest(sf.Type), zeroTest(sf.Type)
		switch {
		case omitEmpty && omitZero:
			f.omit = func(p unsafe.Pointer) bool { return empty(p) || zero(p) }
		case omitEmpty:
			f.omit = empty
		case omitZero:
			if zero == nil {
				return unplanned("omitzero on %s", sf.Type)
			}
			f.omit = zero
		}
		*out = append(*out, f)
	}
	return nil
}

// isValidTag is encoding/json's rule for a name in a field's tag.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// emptyTest is omitempty's test for t: false, 0, a nil pointer or
// interface, an empty array, slice, map or string.
func emptyTest(t reflect.Type) func(unsafe.Pointer) bool {
	switch t.Kind() {
	case reflect.String:
		return func(p unsafe.Pointer) bool { return len(*(*string)(p)) == 0 }
	case reflect.Slice:
		return func(p unsafe.Pointer) bool { return (*sliceHeader)(p).len == 0 }
	case reflect.Array:
		n := t.Len()
		return func(unsafe.Pointer) bool { return n == 0 }
	case reflect.Struct:
		return func(unsafe.Pointer) bool { return false }
	case reflect.Map:
		return func(p unsafe.Pointer) bool { return reflect.NewAt(t, p).Elem().Len() == 0 }
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr, reflect.Pointer:
		size := t.Size()
		return func(p unsafe.Pointer) bool { return allZero(unsafe.Slice((*byte)(p), size)) }
	case reflect.Interface:
		// The interface's first word (its type, or its method table) is
		// nil only for a nil interface.
		return func(p unsafe.Pointer) bool { return (*[2]unsafe.Pointer)(p)[0] == nil }
	}
	return func(p unsafe.Pointer) bool { return reflect.NewAt(t, p).Elem().IsZero() }
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// zeroTest is omitzero's test for t: its IsZero method where it has one
// on the value, else the zero value. nil: a method on the pointer alone,
// left to encoding/json.
func zeroTest(t reflect.Type) func(unsafe.Pointer) bool {
	switch {
	case t == timeType:
		return func(p unsafe.Pointer) bool { return (*time.Time)(p).IsZero() }
	case t.Kind() == reflect.Interface || t.Kind() == reflect.Pointer:
		if t.Implements(isZeroerType) {
			return nil
		}
	case t.Implements(isZeroerType):
		return func(p unsafe.Pointer) bool { return reflect.NewAt(t, p).Elem().Interface().(isZeroer).IsZero() }
	case reflect.PointerTo(t).Implements(isZeroerType):
		return nil
	}
	return func(p unsafe.Pointer) bool { return reflect.NewAt(t, p).Elem().IsZero() }
}

// encTime writes a time as its MarshalJSON does: RFC 3339 with
// nanoseconds, quoted; outside years 0 to 9999 it is an error.
func encTime(b []byte, p unsafe.Pointer) ([]byte, error) {
	t := (*time.Time)(p)
	n := len(b)
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b[:n], err
	}
	return append(out, '"'), nil
}

const hexDigits = "0123456789abcdef"

// encUUID writes an id as its MarshalText does, quoted.
func encUUID(b []byte, p unsafe.Pointer) ([]byte, error) {
	u := (*[16]byte)(p)
	b = append(b, '"')
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(b, '"'), nil
}

// encRaw writes a json.RawMessage as encoding/json does: null when nil,
// else compacted (and an error when it is not JSON).
func encRaw(b []byte, p unsafe.Pointer) ([]byte, error) {
	raw := *(*json.RawMessage)(p)
	if raw == nil {
		return append(b, "null"...), nil
	}
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, raw); err != nil {
		return b, err
	}
	return buf.Bytes(), nil
}

// appendFloat writes f as encoding/json does (as ES6 converts a number to
// a string); NaN and infinities are an error.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, fmt.Errorf("jsonenc: unsupported value %v", f)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// e-09 is written e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// AppendString appends s quoted as encoding/json quotes a string with
// HTML escaping off: quotes, backslashes and control characters escaped,
// invalid UTF-8 as U+FFFD, and U+2028 and U+2029 escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
