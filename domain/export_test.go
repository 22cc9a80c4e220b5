package domain

import (
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
