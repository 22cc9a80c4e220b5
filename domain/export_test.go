package domain

import (
	"context"
	"fmt"
	"reflect"
)

// PlaintextIn returns every piece of personal data in plaintext that c's
// cached aggregates hold, walking them whole (unexported fields, maps and
// slices included), for tests that check the cache never keeps any.
func PlaintextIn(c *AggregateCache) []string {
	c.mu.Lock()
	var aggs []reflect.Value
	for el := c.lru.Front(); el != nil; el = el.Next() {
		ent := el.Value.(*aggEntry)
		aggs = append(aggs, deepCopy(ent.agg))
		for _, m := range ent.pending {
			ev := reflect.New(reflect.TypeOf(m.Event))
			ev.Elem().Set(reflect.ValueOf(m.Event))
			aggs = append(aggs, ev)
		}
	}
	c.mu.Unlock()
	var out []string
	for _, a := range aggs {
		_ = rewritePersonal(a, func(p PersonalData) (PersonalData, error) {
			if p.Name != "" || p.Email != "" || p.Phone != "" {
				out = append(out, fmt.Sprintf("%s %s %s", p.Name, p.Email, p.Phone))
			}
			if len(p.Sealed) == 0 {
				out = append(out, "personal data with nothing sealed")
			}
			return p, nil
		})
	}
	return out
}

// CheckCachedAggregates folds the stream of every aggregate h's cache
// holds, up to the cached revision, and returns an error naming the first
// cached aggregate that differs from its fold: one that a caller of Peek
// changed in place, for tests that check no one does.
func CheckCachedAggregates(ctx context.Context, h *Handler) error {
	c := h.Aggregates
	c.mu.Lock()
	var ents []*aggEntry
	for el := c.lru.Front(); el != nil; el = el.Next() {
		ents = append(ents, el.Value.(*aggEntry))
	}
	c.mu.Unlock()
	for _, ent := range ents {
		recs, err := h.Log.ReadStream(ctx, ent.key.stream)
		if err != nil {
			return err
		}
		if int64(len(recs)) <= ent.rev {
			return fmt.Errorf("%s: cached at revision %d, the stream has %d events", ent.key.stream, ent.rev, len(recs))
		}
		msgs := make([]Message, ent.rev+1)
		for i := range msgs {
			if msgs[i], err = sealedCodec.Decode(recs[i]); err != nil {
				return err
			}
		}
		if msgs, err = ApplyCorrections(sealedCodec, msgs); err != nil {
			return err
		}
		want := ent.empty()
		for _, m := range msgs {
			want.Interface().(Aggregate).Apply(m)
		}
		got := ent.folded().agg
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return fmt.Errorf("%s: the cached %s differs from its stream folded again", ent.key.stream, ent.key.typ)
		}
	}
	return nil
}

// CheckCopiers copies every aggregate h's cache holds whose type is a
// Copier both ways, with its CopyAggregate and with the reflective deep
// copy, and returns the types it checked, or an error naming the first
// whose copies differ or whose CopyAggregate shares memory with the
// original.
func CheckCopiers(h *Handler) ([]string, error) {
	c := h.Aggregates
	c.mu.Lock()
	var ents []*aggEntry
	for el := c.lru.Front(); el != nil; el = el.Next() {
		ents = append(ents, el.Value.(*aggEntry))
	}
	c.mu.Unlock()
	seen := map[string]bool{}
	var types []string
	for _, ent := range ents {
		cp, ok := ent.agg.Interface().(Copier)
		if !ok {
			continue
		}
		name := ent.key.typ.String()
		if !seen[name] {
			seen[name] = true
			types = append(types, name)
		}
		got, want := reflect.ValueOf(cp.CopyAggregate()), deepCopy(ent.agg)
		if got.Type() != want.Type() || !reflect.DeepEqual(got.Interface(), want.Interface()) {
			return nil, fmt.Errorf("%s of %s: CopyAggregate differs from the deep copy", name, ent.key.stream)
		}
		if where := sharedMemory(ent.agg, got, name); where != "" {
			return nil, fmt.Errorf("%s of %s: CopyAggregate shares %s with the original", name, ent.key.stream, where)
		}
	}
	return types, nil
}

// sharedMemory returns the path of the first map, slice array or pointer
// target a and b (values of one type) share, or "".
func sharedMemory(a, b reflect.Value, path string) string {
	if a.Type() == timeType {
		return ""
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return sharedMemory(a.Elem(), b.Elem(), path)
	case reflect.Interface:
		if a.IsNil() || b.IsNil() || a.Elem().Type() != b.Elem().Type() {
			return ""
		}
		return sharedMemory(a.Elem(), b.Elem(), path)
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for it := a.MapRange(); it.Next(); {
			if bv := b.MapIndex(it.Key()); bv.IsValid() {
				if w := sharedMemory(it.Value(), bv, fmt.Sprintf("%s[%v]", path, it.Key())); w != "" {
					return w
				}
			}
		}
	case reflect.Slice:
		if a.Cap() == 0 || b.Cap() == 0 {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for i := range min(a.Len(), b.Len()) {
			if w := sharedMemory(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); w != "" {
				return w
			}
		}
	case reflect.Array:
		for i := range a.Len() {
			if w := sharedMemory(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); w != "" {
				return w
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if w := sharedMemory(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); w != "" {
				return w
			}
		}
	}
	return ""
}

// SharesMemory reports whether a and b (of one type) share a map, a
// slice's array or a pointer's target.
func SharesMemory[T any](a, b T) bool {
	return sharedMemory(reflect.ValueOf(a), reflect.ValueOf(b), "value") != ""
}

// DeepCopyOf returns the cache's reflective deep copy of v.
func DeepCopyOf[T any](v T) T {
	return deepCopy(reflect.ValueOf(v)).Interface().(T)
}

// EventsIn returns how many decoded events c holds.
func EventsIn(c *StreamCache) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
