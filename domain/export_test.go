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
