package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Upcaster turns the JSON data of one schema version of an event into the
// next version's.
type Upcaster func(data []byte) ([]byte, error)

// Spec describes a registered event type. It is the source of the event
// catalogue in docs/events.md.
type Spec struct {
	// Type is the event's name, a past-tense fact in CamelCase.
	Type string
	// Schema is the current version of the data shape (1 for a new type).
	Schema uint32
	// Group is the catalogue section: "governance", "partnership" or
	// "system".
	Group string
	// Doc is one or two sentences saying what the event records.
	Doc string
	// EmittedBy names the command(s) that record it.
	EmittedBy []string
	// Uncorrectable marks a vote or an outcome computed from votes: no
	// correction may replace or retract it (ErrUncorrectable).
	Uncorrectable bool
	// Upcasters maps an old version v to the function that turns v's data
	// into v+1's. Every version from 1 to Schema-1 needs one.
	Upcasters map[uint32]Upcaster

	goType   reflect.Type
	personal []int // index of the PersonalData field, if any
	subject  []int // index of the field naming the data subject
}

var (
	registryMu sync.RWMutex
	registry   = map[string]*Spec{}
)

// Register records event type E under spec. It is called from the init
// functions of the domain packages and returns an error for a duplicate or
// inconsistent spec (MustRegister panics instead, for init).
//
// An event that carries personal data has one field of type PersonalData
// and one string or uuid.UUID field tagged `concord:"subject"` naming the
// person it belongs to; the codec seals the personal data with that
// person's key.
func Register[E Event](spec Spec) error {
	var zero E
	t := reflect.TypeOf(zero)
	if t == nil || t.Kind() != reflect.Struct {
		return fmt.Errorf("register %s: event must be a struct type", spec.Type)
	}
	if zero.EventType() != spec.Type {
		return fmt.Errorf("register %s: EventType() returns %q", spec.Type, zero.EventType())
	}
	if spec.Schema == 0 || spec.Group == "" || spec.Doc == "" {
		return fmt.Errorf("register %s: schema, group and doc are required", spec.Type)
	}
	for v := uint32(1); v < spec.Schema; v++ {
		if spec.Upcasters[v] == nil {
			return fmt.Errorf("register %s: no upcaster from schema %d", spec.Type, v)
		}
	}
	spec.goType = t
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type == reflect.TypeOf(PersonalData{}) {
			spec.personal = f.Index
		}
		if f.Tag.Get("concord") == "subject" {
			spec.subject = f.Index
		}
	}
	if (spec.personal == nil) != (spec.subject == nil) {
		return fmt.Errorf("register %s: a PersonalData field needs a field tagged concord:\"subject\"", spec.Type)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[spec.Type]; dup {
		return fmt.Errorf("register %s: type registered twice", spec.Type)
	}
	s := spec
	registry[spec.Type] = &s
	return nil
}

// MustRegister is Register for init functions: it panics on a programming
// error in the spec, which a test run reveals at once.
func MustRegister[E Event](spec Spec) {
	if err := Register[E](spec); err != nil {
		panic(err)
	}
}

// Lookup returns the spec of a registered event type.
func Lookup(eventType string) (Spec, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	s, ok := registry[eventType]
	if !ok {
		return Spec{}, false
	}
	return *s, true
}

// Specs returns every registered spec of group ("" for all), sorted by
// type.
func Specs(group string) []Spec {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var out []Spec
	for _, s := range registry {
		if group == "" || s.Group == group {
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type < out[j].Type })
	return out
}

// ErrUnknownEventType is returned by the codec for a type no package
// registered.
var ErrUnknownEventType = errors.New("domain: unknown event type")

// Catalogue renders the markdown catalogue of one group's events: type,
// schema version, what it records, which commands emit it, and its fields
// (from the json and doc struct tags). docs/events.md holds one such
// section per group between "<!-- catalogue:GROUP:start -->" and
// "<!-- catalogue:GROUP:end -->", checked by a test in each package.
func Catalogue(group string) string {
	var b strings.Builder
	for _, s := range Specs(group) {
		fmt.Fprintf(&b, "### %s (schema %d)\n\n%s\n\n", s.Type, s.Schema, s.Doc)
		if len(s.EmittedBy) > 0 {
			fmt.Fprintf(&b, "Emitted by: %s.\n\n", strings.Join(s.EmittedBy, ", "))
		}
		if len(s.Upcasters) > 0 {
			fmt.Fprintf(&b, "Older schema versions are upcast on read.\n\n")
		}
		if s.Uncorrectable {
			fmt.Fprintf(&b, "Cannot be corrected: a vote, or an outcome computed from votes, changes only by a new vote.\n\n")
		}
		b.WriteString("| field | type | description |\n| --- | --- | --- |\n")
		writeFields(&b, s.goType, "")
		b.WriteString("\n")
	}
	return b.String()
}

func writeFields(b *strings.Builder, t reflect.Type, prefix string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			writeFields(b, f.Type, prefix)
			continue
		}
		if name == "" {
			name = f.Name
		}
		doc := f.Tag.Get("doc")
		if f.Type == reflect.TypeOf(PersonalData{}) {
			doc = strings.TrimSpace(doc + " Name and contact details, sealed with the person's own key (AES-256-GCM); unreadable once the person is erased.")
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s |\n", prefix, name, jsonTypeName(f.Type), doc)
	}
}

var (
	timeType = reflect.TypeOf(time.Time{})
	uuidType = reflect.TypeOf(uuid.UUID{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

func jsonTypeName(t reflect.Type) string {
	switch {
	case t == timeType:
		return "time (RFC 3339)"
	case t == uuidType:
		return "uuid"
	case t == rawType:
		return "JSON"
	case t == reflect.TypeOf(PersonalData{}):
		return "sealed personal data"
	}
	if t.Implements(reflect.TypeOf((*fmt.Stringer)(nil)).Elem()) && t.Kind() == reflect.String {
		return "string (enum)"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "list of " + jsonTypeName(t.Elem())
	case reflect.Map:
		return "map of " + jsonTypeName(t.Elem())
	case reflect.Pointer:
		return jsonTypeName(t.Elem()) + " (optional)"
	case reflect.Struct:
		return "object " + t.Name()
	}
	return t.Kind().String()
}
