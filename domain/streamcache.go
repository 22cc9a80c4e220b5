package domain

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"unsafe"
)

// StreamReaderFrom is an EventLog that can read a stream from a revision
// on; the handler's cache then reads only the events it has not seen.
type StreamReaderFrom interface {
	// ReadStreamFrom returns the events of stream from revision from on,
	// in revision order.
	ReadStreamFrom(ctx context.Context, stream string, from uint64) ([]Recorded, error)
}

// StreamCache keeps the decoded events of recently loaded streams, so
// loading an aggregate again decodes only the events appended since. The
// log is append-only, so what was read stays true. Events that carry
// personal data are never kept decoded: they are decoded again on every
// load, so an erasure takes effect at once and no plaintext lingers in
// memory. Loads receive deep copies of cached events, so an aggregate can
// never change what another load sees. It is safe for concurrent use.
type StreamCache struct {
	mu      sync.Mutex
	max     int
	size    int
	tick    uint64
	streams map[string]*cachedStream
}

type cachedStream struct {
	used uint64
	msgs []cachedMessage
}

type cachedMessage struct {
	msg      Message // Event is nil when personal
	personal bool
}

// NewStreamCache returns a cache holding about max events (at least one
// stream is always kept whole).
func NewStreamCache(max int) *StreamCache {
	return &StreamCache{max: max, streams: map[string]*cachedStream{}}
}

// get returns the cached events of stream (a slice the caller must not
// modify).
func (c *StreamCache) get(stream string) []cachedMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.streams[stream]
	if !ok {
		return nil
	}
	c.tick++
	s.used = c.tick
	return s.msgs
}

// forget drops stream's events, if held.
func (c *StreamCache) forget(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.streams[stream]; ok {
		c.size -= len(s.msgs)
		delete(c.streams, stream)
	}
}

// put records that stream holds msgs (from revision 0), if that is more
// than the cache knows, and evicts the least recently used streams beyond
// the budget.
func (c *StreamCache) put(stream string, msgs []cachedMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.streams[stream]
	if ok && len(s.msgs) >= len(msgs) {
		return
	}
	c.tick++
	if ok {
		c.size -= len(s.msgs)
	}
	c.streams[stream] = &cachedStream{used: c.tick, msgs: msgs}
	c.size += len(msgs)
	for c.size > c.max && len(c.streams) > 1 {
		var oldest string
		var at uint64 = ^uint64(0)
		for name, s := range c.streams {
			if name != stream && s.used < at {
				oldest, at = name, s.used
			}
		}
		c.size -= len(c.streams[oldest].msgs)
		delete(c.streams, oldest)
	}
}

// loadMessages returns every event of stream decoded, through the cache
// when the handler has one.
func (h *Handler) loadMessages(ctx context.Context, stream string) ([]Message, error) {
	if h.Cache == nil {
		recs, err := h.Log.ReadStream(ctx, stream)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		msgs := make([]Message, len(recs))
		for i, r := range recs {
			if msgs[i], err = h.Codec.Decode(r); err != nil {
				return nil, fmt.Errorf("load %s: %w", stream, err)
			}
		}
		return msgs, nil
	}
	cached := h.Cache.get(stream)
	var recs []Recorded
	var err error
	if rf, ok := h.Log.(StreamReaderFrom); ok {
		recs, err = rf.ReadStreamFrom(ctx, stream, uint64(len(cached)))
	} else {
		recs, err = h.Log.ReadStream(ctx, stream)
		if err == nil {
			if len(recs) < len(cached) {
				return nil, fmt.Errorf("read %s: the stream has %d events, fewer than the %d already read", stream, len(recs), len(cached))
			}
			recs = recs[len(cached):]
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	msgs := make([]Message, 0, len(cached)+len(recs))
	for _, c := range cached {
		if c.personal {
			m, err := h.Codec.Decode(c.msg.Recorded)
			if err != nil {
				return nil, fmt.Errorf("load %s: %w", stream, err)
			}
			msgs = append(msgs, m)
			continue
		}
		m := c.msg
		m.Event = deepCopy(reflect.ValueOf(m.Event)).Interface().(Event)
		msgs = append(msgs, m)
	}
	if len(recs) == 0 {
		return msgs, nil
	}
	all := make([]cachedMessage, len(cached), len(cached)+len(recs))
	copy(all, cached)
	for i, r := range recs {
		if r.Revision != uint64(len(cached)+i) {
			return nil, fmt.Errorf("read %s: revision %d where %d was expected", stream, r.Revision, len(cached)+i)
		}
		m, err := h.Codec.Decode(r)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", stream, err)
		}
		msgs = append(msgs, m)
		if _, personal := Subject(m.Event); personal {
			all = append(all, cachedMessage{msg: Message{Recorded: r}, personal: true})
		} else {
			all = append(all, cachedMessage{msg: Message{Recorded: r, Event: deepCopy(reflect.ValueOf(m.Event)).Interface().(Event)}})
		}
	}
	h.Cache.put(stream, all)
	return msgs, nil
}

// deepCopy returns a copy of v sharing no slice, map or pointer with it,
// unexported fields included (aggregates keep private maps). Functions and
// channels are shared; values must not hold reference cycles.
func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Elem().Type())
		out.Elem().Set(deepCopy(v.Elem()))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(deepCopy(v.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		if isFlat(v.Type().Elem()) {
			reflect.Copy(out, v)
			return out
		}
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		t := v.Type()
		out := reflect.MakeMapWithSize(t, v.Len())
		flatKey, flatElem := isFlat(t.Key()), isFlat(t.Elem())
		k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		for it := v.MapRange(); it.Next(); {
			k.SetIterKey(it)
			e.SetIterValue(it)
			key, elem := k, e
			if !flatKey {
				key = deepCopy(k)
			}
			if !flatElem {
				elem = deepCopy(e)
			}
			out.SetMapIndex(key, elem)
		}
		return out
	case reflect.Struct:
		deep := deepFields(v.Type())
		if deep == nil {
			return v
		}
		if !v.CanAddr() {
			a := reflect.New(v.Type()).Elem()
			a.Set(v)
			v = a
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for _, i := range deep {
			settable(out.Field(i)).Set(deepCopy(settable(v.Field(i))))
		}
		return out
	case reflect.Array:
		if isFlat(v.Type()) {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(deepCopy(v.Index(i)))
		}
		return out
	}
	return v
}

// settable returns v (an addressable value, such as a field of a struct
// reached through a pointer) in a form that can be read into other values
// and set, even when it is an unexported field. deepCopy and the aggregate
// cache use it on values they own, to copy aggregates' private state.
func settable(v reflect.Value) reflect.Value {
	if v.CanSet() || !v.CanAddr() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

var flatTypes sync.Map // reflect.Type → bool

var deepFieldsOf sync.Map // reflect.Type (a struct) → []int

// deepFields returns the indexes of the fields of struct type t that are
// not flat (nil when t is flat), which deepCopy copies one by one.
func deepFields(t reflect.Type) []int {
	if d, ok := deepFieldsOf.Load(t); ok {
		return d.([]int)
	}
	var deep []int
	for i := 0; i < t.NumField(); i++ {
		if !isFlat(t.Field(i).Type) {
			deep = append(deep, i)
		}
	}
	deepFieldsOf.Store(t, deep)
	return deep
}

// isFlat reports whether values of t hold no slice, map, pointer or
// interface, so a plain assignment copies them fully.
func isFlat(t reflect.Type) bool {
	if f, ok := flatTypes.Load(t); ok {
		return f.(bool)
	}
	flat := true
	if t == timeType {
		// A time's location pointer is shared and never changed: times
		// are values.
		flatTypes.Store(t, true)
		return true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		flat = false
	case reflect.Array:
		flat = isFlat(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if !isFlat(t.Field(i).Type) {
				flat = false
				break
			}
		}
	}
	flatTypes.Store(t, flat)
	return flat
}
