package views

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// The binary state codec: the views' states as checkpoints and snapshots
// hold them, several times faster to write and read than JSON (no
// quoting, escaping, hex ids or formatted times), which is what a replay
// and a cold start spend most of their time on at a million events.
//
// It keeps exactly what the JSON codec kept: the exported fields of each
// struct, in declaration order, except those tagged `json:"-"`;
// unexported fields (caches, indexes rebuilt on demand) are left as the
// value decoded into has them. Nil and empty maps, slices and pointers
// stay apart. Maps are written in the order of their keys' encodings, so
// equal states give equal bytes. The canonical event JSON is untouched:
// this is only how a view saves its own state.
//
//	state    = magic, value
//	bool     = 1 byte
//	int*     = varint;  uint* = uvarint;  float* = the IEEE bits, 8 bytes
//	string   = uvarint length, bytes
//	[N]T     = N values
//	[]T, map = 0 for nil, else 1 + uvarint count, then the elements
//	           (a map's as key, value pairs)
//	*T       = 0 for nil, else 1, value
//	struct   = its kept fields' values, in order
//	time     = time.Time.MarshalBinary, as a string
//
// A type the codec does not know (an interface, a channel, a func) makes
// stateCodecFor fail, so a view can never save a state it cannot read.

// stateMagic starts every binary state; a JSON state never starts with
// a zero byte.
var stateMagic = []byte{0, 'C', 'S', 'B', 1}

// errStateCodec is returned for state bytes that do not decode.
var errStateCodec = errors.New("malformed binary view state")

type (
	encFn func(b []byte, v reflect.Value) []byte
	decFn func(r *stateReader, v reflect.Value)
)

type typeCodec struct {
	enc encFn
	dec decFn
	err error
}

var (
	codecs sync.Map // reflect.Type → *typeCodec, complete ones only
	// buildMu guards building: the codecs being built, published to
	// codecs once the outermost is complete (a recursive type reaches its
	// own entry here before its fields are built).
	buildMu  sync.Mutex
	building map[reflect.Type]*typeCodec
)

var timeType = reflect.TypeFor[time.Time]()

// codecOf returns t's codec, building it once.
func codecOf(t reflect.Type) *typeCodec {
	if c, ok := codecs.Load(t); ok {
		return c.(*typeCodec)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	return codecLocked(t)
}

func codecLocked(t reflect.Type) *typeCodec {
	if c, ok := codecs.Load(t); ok {
		return c.(*typeCodec)
	}
	if c, ok := building[t]; ok {
		return c
	}
	outer := building == nil
	if outer {
		building = map[reflect.Type]*typeCodec{}
	}
	c := &typeCodec{}
	building[t] = c
	build(t, c)
	if outer {
		for t, c := range building {
			codecs.Store(t, c)
		}
		building = nil
	}
	return c
}

func build(t reflect.Type, c *typeCodec) {
	if t == timeType {
		c.enc = func(b []byte, v reflect.Value) []byte {
			raw, _ := v.Interface().(time.Time).MarshalBinary()
			return appendString(b, raw)
		}
		c.dec = func(r *stateReader, v reflect.Value) {
			raw := r.next(r.length())
			if v.CanAddr() {
				// Into the field itself: no time boxed on the way.
				tm := v.Addr().Interface().(*time.Time)
				*tm = time.Time{}
				if r.err == nil && tm.UnmarshalBinary(raw) != nil {
					*tm = time.Time{}
					r.fail()
				}
				return
			}
			var tm time.Time
			if r.err == nil && tm.UnmarshalBinary(raw) != nil {
				tm = time.Time{}
				r.fail()
			}
			v.Set(reflect.ValueOf(tm))
		}
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		c.enc = func(b []byte, v reflect.Value) []byte {
			if v.Bool() {
				return append(b, 1)
			}
			return append(b, 0)
		}
		c.dec = func(r *stateReader, v reflect.Value) { v.SetBool(r.byte() == 1) }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		c.enc = func(b []byte, v reflect.Value) []byte { return binary.AppendVarint(b, v.Int()) }
		c.dec = func(r *stateReader, v reflect.Value) { v.SetInt(r.varint()) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		c.enc = func(b []byte, v reflect.Value) []byte { return binary.AppendUvarint(b, v.Uint()) }
		c.dec = func(r *stateReader, v reflect.Value) { v.SetUint(r.uvarint()) }
	case reflect.Float32, reflect.Float64:
		c.enc = func(b []byte, v reflect.Value) []byte {
			return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float()))
		}
		c.dec = func(r *stateReader, v reflect.Value) {
			if raw := r.next(8); r.err == nil {
				v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(raw)))
			}
		}
	case reflect.String:
		c.enc = func(b []byte, v reflect.Value) []byte { return appendString(b, v.String()) }
		c.dec = func(r *stateReader, v reflect.Value) { v.SetString(r.str(r.length())) }
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			// Ids: the bytes as they are.
			n := t.Len()
			c.enc = func(b []byte, v reflect.Value) []byte {
				if v.CanAddr() {
					return append(b, v.Bytes()...)
				}
				for i := range n {
					b = append(b, byte(v.Index(i).Uint()))
				}
				return b
			}
			c.dec = func(r *stateReader, v reflect.Value) {
				if raw := r.next(n); r.err == nil {
					copy(v.Bytes(), raw)
				}
			}
			return
		}
		ec := codecLocked(t.Elem())
		n := t.Len()
		c.enc = func(b []byte, v reflect.Value) []byte {
			for i := range n {
				b = ec.enc(b, v.Index(i))
			}
			return b
		}
		c.dec = func(r *stateReader, v reflect.Value) {
			for i := 0; i < n && r.err == nil; i++ {
				ec.dec(r, v.Index(i))
			}
		}
		c.err = ec.err
	case reflect.Slice:
		ec := codecLocked(t.Elem())
		c.enc = func(b []byte, v reflect.Value) []byte {
			if v.IsNil() {
				return append(b, 0)
			}
			b = append(b, 1)
			n := v.Len()
			b = binary.AppendUvarint(b, uint64(n))
			for i := range n {
				b = ec.enc(b, v.Index(i))
			}
			return b
		}
		c.dec = func(r *stateReader, v reflect.Value) {
			if r.byte() == 0 {
				v.SetZero()
				return
			}
			n := r.count()
			s := reflect.MakeSlice(t, n, n)
			for i := 0; i < n && r.err == nil; i++ {
				ec.dec(r, s.Index(i))
			}
			v.Set(s)
		}
		c.err = ec.err
	case reflect.Map:
		kc, vc := codecLocked(t.Key()), codecLocked(t.Elem())
		c.enc = func(b []byte, v reflect.Value) []byte {
			if v.IsNil() {
				return append(b, 0)
			}
			b = append(b, 1)
			n := v.Len()
			b = binary.AppendUvarint(b, uint64(n))
			// Keys encoded apart, then written in the order of their bytes.
			type entry struct {
				key []byte
				val reflect.Value
			}
			entries := make([]entry, 0, n)
			var keys []byte
			// The key is set into an addressable value (no copy per key
			// on the heap); the value is kept as the map holds it.
			k := reflect.New(t.Key()).Elem()
			it := v.MapRange()
			for it.Next() {
				k.SetIterKey(it)
				start := len(keys)
				keys = kc.enc(keys, k)
				if start == 0 {
					// Room for every key at the first one's size.
					keys = slices.Grow(keys, len(keys)*(n+1))
				}
				entries = append(entries, entry{keys[start:len(keys):len(keys)], it.Value()})
			}
			slices.SortFunc(entries, func(x, y entry) int { return bytes.Compare(x.key, y.key) })
			for _, e := range entries {
				b = append(b, e.key...)
				b = vc.enc(b, e.val)
			}
			return b
		}
		c.dec = func(r *stateReader, v reflect.Value) {
			if r.byte() == 0 {
				v.SetZero()
				return
			}
			n := r.count()
			m := v
			if v.IsNil() || v.Len() == 0 {
				// Made at its size: a fresh state's empty maps would
				// otherwise grow (and rehash) all the way.
				m = reflect.MakeMapWithSize(t, n)
			}
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			for i := 0; i < n && r.err == nil; i++ {
				k.SetZero()
				e.SetZero()
				kc.dec(r, k)
				vc.dec(r, e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
		c.err = errors.Join(kc.err, vc.err)
	case reflect.Pointer:
		ec := codecLocked(t.Elem())
		c.enc = func(b []byte, v reflect.Value) []byte {
			if v.IsNil() {
				return append(b, 0)
			}
			return ec.enc(append(b, 1), v.Elem())
		}
		c.dec = func(r *stateReader, v reflect.Value) {
			if r.byte() == 0 {
				v.SetZero()
				return
			}
			if v.IsNil() {
				v.Set(reflect.New(t.Elem()))
			}
			ec.dec(r, v.Elem())
		}
		c.err = ec.err
	case reflect.Struct:
		var fields []int
		var fcs []*typeCodec
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			fields = append(fields, i)
			fc := codecLocked(f.Type)
			fcs = append(fcs, fc)
			if fc.err != nil {
				c.err = fmt.Errorf("%s.%s: %w", t, f.Name, fc.err)
			}
		}
		c.enc = func(b []byte, v reflect.Value) []byte {
			for j, i := range fields {
				b = fcs[j].enc(b, v.Field(i))
			}
			return b
		}
		c.dec = func(r *stateReader, v reflect.Value) {
			for j, i := range fields {
				if r.err != nil {
					return
				}
				fcs[j].dec(r, v.Field(i))
			}
		}
	default:
		c.err = fmt.Errorf("views: the binary state codec cannot hold a %s", t)
	}
}

func appendString[S string | []byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// stateReader reads a binary state; the first error sticks and the reads
// after it return zeros.
type stateReader struct {
	b   []byte
	err error
	// strs holds one copy of each short string read: a state repeats
	// its statuses, kinds, roles and names thousands of times, and one
	// copy each costs less to make and to keep than one per place.
	strs map[string]string
}

// Strings up to internMax bytes are shared (stateReader.strs), up to
// internCount of them a state.
const (
	internMax   = 64
	internCount = 1 << 14
)

// str returns the next n bytes as a string, shared with the same string
// read before when it is short.
func (r *stateReader) str(n int) string {
	b := r.next(n)
	if r.err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > internMax {
		return string(b)
	}
	if s, ok := r.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.strs == nil {
		r.strs = map[string]string{}
	}
	if len(r.strs) < internCount {
		r.strs[s] = s
	}
	return s
}

func (r *stateReader) fail() {
	if r.err == nil {
		r.err = errStateCodec
	}
	r.b = nil
}

func (r *stateReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *stateReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// length reads a length no larger than the bytes left.
func (r *stateReader) length() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

// count reads an element count; each element takes at least a byte in
// all but degenerate types, so a count beyond the bytes left is refused
// (bad input cannot ask for a huge allocation).
func (r *stateReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *stateReader) next(n int) []byte {
	if n > len(r.b) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// lastSizes holds the size of the last state encoded of each type, the
// expected size of the next one when the caller has none.
var lastSizes sync.Map // reflect.Type → int

// encodeState returns the binary state of *ptr; sizeHint is the expected
// size (the last one's; 0 for the last one of its type), to allocate once.
func encodeState(ptr any, sizeHint int) ([]byte, error) {
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, errors.New("views: encodeState needs a non-nil pointer")
	}
	rv = rv.Elem()
	c := codecOf(rv.Type())
	if c.err != nil {
		return nil, c.err
	}
	if sizeHint == 0 {
		if n, ok := lastSizes.Load(rv.Type()); ok {
			sizeHint = n.(int)
		}
	}
	b := make([]byte, 0, max(64, sizeHint+sizeHint/16))
	b = append(b, stateMagic...)
	b = c.enc(b, rv)
	lastSizes.Store(rv.Type(), len(b))
	return b, nil
}

// decodeState reads a binary state into *ptr, over the value it holds:
// fields the state does not keep (unexported ones) stay as they are.
func decodeState(b []byte, ptr any) error {
	rest, ok := bytes.CutPrefix(b, stateMagic)
	if !ok {
		return fmt.Errorf("%w: not a binary state", errStateCodec)
	}
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("views: decodeState needs a non-nil pointer")
	}
	c := codecOf(rv.Type().Elem())
	if c.err != nil {
		return c.err
	}
	r := &stateReader{b: rest}
	c.dec(r, rv.Elem())
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	return r.err
}
