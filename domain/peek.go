package domain

import (
	"context"
	"reflect"
)

// Peek is Load for a caller that only reads the aggregate: with the
// handler's aggregate cache it returns the cached aggregate itself, not a
// copy, so checking a large aggregate (a school's communities before a
// Leadership Team vote, a resource with every loan it has had) costs no
// copy. The aggregate is up to date with its stream when Peek returns, as
// Load's is.
//
// THE AGGREGATE RETURNED MAY BE SHARED WITH THE CACHE AND WITH OTHER
// CALLERS: the caller must not change it, nor anything reachable from it
// (maps, slices, pointers), nor hand it to code that might; use Load for
// an aggregate to change. Appending to one of its slices counts as a
// change: the slice may have room beyond its length, shared by every
// caller. Keeping it to read later is safe: a cached aggregate is never
// changed once cached (a newer one replaces it).
//
// An aggregate whose cached form holds sealed personal data is returned
// as Load returns it, a private copy with the data opened. Returns what
// Load returns on errors.
func Peek[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A) (A, int64, error) {
	return peek(ctx, h, stream, newAgg, false)
}

// PeekSealed is Peek for a caller that reads none of the aggregate's
// personal data (a person's school, kind or leaving day): an aggregate
// cached with sealed personal data is shared as cached, its PersonalData
// STILL SEALED (Name, Email and Phone empty), rather than copied and
// opened for this caller. Without a cached snapshot the data comes back
// opened, as from Load. The same rule as Peek's holds: do not change the
// aggregate.
func PeekSealed[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A) (A, int64, error) {
	return peek(ctx, h, stream, newAgg, true)
}

func peek[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A, sealed bool) (A, int64, error) {
	key, cacheable := cacheKey[A](stream)
	if h.Aggregates == nil || !cacheable {
		return Load(ctx, h, stream, newAgg)
	}
	ent, fresh, rev, err := h.current(ctx, key, func() reflect.Value { return reflect.ValueOf(newAgg()) })
	if err != nil {
		var zero A
		return zero, -1, err
	}
	if fresh.IsValid() {
		return fresh.Interface().(A), rev, nil
	}
	if ent == nil {
		return Load(ctx, h, stream, newAgg)
	}
	if ent.subjects != nil && !sealed {
		a, err := h.checkout(ent)
		if err != nil {
			var zero A
			return zero, -1, err
		}
		if !a.IsValid() { // sealed data of no known subject: fold it whole
			return Load(ctx, h, stream, newAgg)
		}
		return a.Interface().(A), ent.rev, nil
	}
	if len(ent.pending) > 0 {
		// Fold the pending events into a new snapshot, once, rather than
		// into a copy for this caller alone.
		folded := ent.folded()
		h.Aggregates.put(folded, ent, 0)
		ent = folded
	}
	return ent.agg.Interface().(A), ent.rev, nil
}

// folded returns a new snapshot: ent's aggregate copied with its pending
// events folded in.
func (ent *aggEntry) folded() *aggEntry {
	next := &aggEntry{key: ent.key, agg: copyAggregate(ent.agg), rev: ent.rev, subjects: ent.subjects, empty: ent.empty}
	ag := next.agg.Interface().(Aggregate)
	for _, m := range ent.pending {
		ag.Apply(privateMessage(m))
	}
	return next
}
