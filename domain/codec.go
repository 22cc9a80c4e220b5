package domain

import (
	"encoding/json"

	"fmt"
	"reflect"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/google/uuid"
)

// Codec turns events into envelopes and back. It seals personal data with
// Keys on the way out and opens it on the way in; with a nil Keys, events
// carrying personal data cannot be encoded and decode with the data still
// sealed.
type Codec struct {
	Keys Keyring
}

// Encode returns the envelope of e with the given id and metadata.
// Returns ErrUnknownEventType for an unregistered type.
func (c *Codec) Encode(e Event, id uuid.UUID, meta Meta) (Envelope, error) {
	spec, ok := Lookup(e.EventType())
	if !ok {
		return Envelope{}, fmt.Errorf("encode %s: %w", e.EventType(), ErrUnknownEventType)
	}
	v := reflect.New(spec.goType).Elem()
	v.Set(reflect.ValueOf(e))
	if spec.personal != nil {
		p := v.FieldByIndex(spec.personal).Interface().(PersonalData)
		sealed, err := sealPersonal(c.Keys, subjectOf(v, spec), p)
		if err != nil {
			return Envelope{}, fmt.Errorf("encode %s: %w", spec.Type, err)
		}
		v.FieldByIndex(spec.personal).Set(reflect.ValueOf(sealed))
	}
	data, err := json.Marshal(v.Interface())
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s: %w", spec.Type, err)
	}
	return Envelope{ID: id, Type: spec.Type, Schema: spec.Schema, Data: data, Meta: meta}, nil
}

// Decode returns the event held by r, upcast to its current schema, with
// personal data opened (or marked erased). Returns ErrUnknownEventType for
// an unregistered type and an error for a schema newer than this build.
func (c *Codec) Decode(r Recorded) (Message, error) {
	spec, ok := Lookup(r.Type)
	if !ok {
		return Message{}, fmt.Errorf("decode %s at position %d: %w", r.Type, r.Position, ErrUnknownEventType)
	}
	data := r.Data
	if r.Schema > spec.Schema || r.Schema == 0 {
		return Message{}, fmt.Errorf("decode %s at position %d: schema %d is not known to this version (current %d)", r.Type, r.Position, r.Schema, spec.Schema)
	}
	for v := r.Schema; v < spec.Schema; v++ {
		up, err := spec.Upcasters[v](data)
		if err != nil {
			return Message{}, fmt.Errorf("decode %s at position %d: upcast from schema %d: %w", r.Type, r.Position, v, err)
		}
		data = up
	}
	v := reflect.New(spec.goType)
	if err := jsonv2.Unmarshal(data, v.Interface(), jsonV1); err != nil {
		return Message{}, fmt.Errorf("decode %s at position %d: %w", r.Type, r.Position, err)
	}
	ev := v.Elem()
	if spec.personal != nil {
		p := ev.FieldByIndex(spec.personal).Interface().(PersonalData)
		opened, err := openPersonal(c.Keys, subjectOf(ev, spec), p)
		if err != nil {
			return Message{}, fmt.Errorf("decode %s at position %d: %w", r.Type, r.Position, err)
		}
		ev.FieldByIndex(spec.personal).Set(reflect.ValueOf(opened))
	}
	return Message{Recorded: r, Event: ev.Interface().(Event)}, nil
}

func subjectOf(v reflect.Value, spec Spec) string {
	f := v.FieldByIndex(spec.subject)
	if id, ok := f.Interface().(uuid.UUID); ok {
		return id.String()
	}
	return fmt.Sprint(f.Interface())
}

// Subject returns the data subject of e if e carries personal data.
func Subject(e Event) (string, bool) {
	spec, ok := Lookup(e.EventType())
	if !ok || spec.subject == nil {
		return "", false
	}
	return subjectOf(reflect.ValueOf(e), spec), true
}

// jsonV1 decodes events with encoding/json's semantics at about twice its
// speed (measured: 2.6 µs against 6.0 µs for a LoanRequested); events are
// still encoded, and so hashed and exported, by encoding/json.
var jsonV1 = jsonv1.DefaultOptionsV1()
