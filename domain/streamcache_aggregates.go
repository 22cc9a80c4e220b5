package domain

import (
	"container/list"
	"context"
	"fmt"
	"reflect"
	"sync"
)

// AggregateCache keeps loaded aggregates in memory, by stream and
// aggregate type, at the revision they were folded to: a load takes a
// private copy of the cached aggregate and folds only the events appended
// since, and a command that appends folds its own events into the cached
// one, so a hot aggregate is never re-read or re-decoded from the start.
// Each cached aggregate is a snapshot of its stream held in memory, so a
// long stream costs one aggregate, not its events.
//
// Rules it keeps:
//
//   - Loads never share state: every load gets a deep copy (unexported
//     fields included, or the aggregate's own CopyAggregate, see Copier)
//     of the cached aggregate, and the cached one is never changed in
//     place (an update replaces it), so a command that mutates its
//     aggregate, or two commands on one stream at once, cannot disturb
//     each other or the cache. Only Peek and PeekSealed hand the cached
//     aggregate out, to callers that promise to read it only.
//   - Every load still asks the log for the events after the cached
//     revision, so a load never misses an event appended by another
//     writer; the cache saves decoding and folding, not the check.
//   - It never holds decrypted personal data. An aggregate whose stream
//     has events with personal data is cached only if its type implements
//     PersonalDataVerbatim, and then folded from events whose personal
//     data is still sealed; a load opens the sealed data in its own copy
//     with the person's key, so an erasure takes effect at the next load.
//     Other aggregates with personal events are not cached at all.
//   - A correction (EventCorrected) appended since the cached revision
//     changes how earlier events fold, so the aggregate is folded again
//     from the whole stream.
//
// It holds at most max aggregates and evicts the least recently used. It
// is safe for concurrent use.
type AggregateCache struct {
	mu      sync.Mutex
	max     int
	entries map[aggKey]*list.Element // of *aggEntry
	lru     list.List                // front: most recently used

	hits, misses, folds uint64
}

// PersonalDataVerbatim is implemented by aggregates whose Apply keeps the
// PersonalData of the events it folds as it comes (copies it into a
// field, map or slice) and derives nothing else from it. Such an
// aggregate can be cached with its personal data sealed and opened for
// each load, which is what makes caching it safe; see AggregateCache.
type PersonalDataVerbatim interface {
	PersonalDataVerbatim()
}

type aggKey struct {
	stream string
	typ    reflect.Type
}

// aggEntry is an immutable snapshot: a new one replaces it.
type aggEntry struct {
	key aggKey
	agg reflect.Value // a pointer to the aggregate, folded to rev-len(pending)
	// pending are the events after agg's, up to rev, not folded into it
	// (see with); their personal data is sealed.
	pending []Message
	rev     int64
	// subjects maps the sealed bytes of each PersonalData the fold met to
	// the data subject whose key opens them (nil when none).
	subjects map[string]string
	// empty returns a new, empty aggregate of the type (for checks that
	// fold the stream again).
	empty func() reflect.Value
}

// CacheStats are an AggregateCache's counters since it was made.
type CacheStats struct {
	Aggregates int    // aggregates held now
	Hits       uint64 // loads that started from a cached aggregate
	Misses     uint64 // loads that folded the whole stream
	Folds      uint64 // events folded into cached aggregates by appends or loads
}

// DefaultCachedAggregates is how many aggregates NewHandler's cache keeps.
const DefaultCachedAggregates = 50_000

// NewAggregateCache returns a cache holding at most max aggregates.
func NewAggregateCache(max int) *AggregateCache {
	c := &AggregateCache{max: max, entries: map[aggKey]*list.Element{}}
	c.lru.Init()
	return c
}

// Stats returns the cache's counters.
func (c *AggregateCache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Aggregates: len(c.entries), Hits: c.hits, Misses: c.misses, Folds: c.folds}
}

func (c *AggregateCache) get(k aggKey) *aggEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[k]
	if !ok {
		c.misses++
		return nil
	}
	c.hits++
	c.lru.MoveToFront(el)
	return el.Value.(*aggEntry)
}

// put stores e unless the cache already holds the aggregate at e.rev or
// later; when after is not nil, only if the cache still holds after (so an
// update made from a snapshot never overwrites a newer one; e may then be
// at after's revision, as when Peek folds after's pending events).
func (c *AggregateCache) put(e *aggEntry, after *aggEntry, folded int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.folds += uint64(folded)
	if el, ok := c.entries[e.key]; ok {
		cur := el.Value.(*aggEntry)
		if after != nil && cur != after || after == nil && cur.rev >= e.rev {
			return
		}
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	if after != nil {
		return // evicted meanwhile
	}
	c.entries[e.key] = c.lru.PushFront(e)
	for len(c.entries) > c.max && c.lru.Len() > 1 {
		old := c.lru.Back()
		delete(c.entries, old.Value.(*aggEntry).key)
		c.lru.Remove(old)
	}
}

// forget drops the cached aggregate of k.
func (c *AggregateCache) forget(k aggKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[k]; ok {
		delete(c.entries, k)
		c.lru.Remove(el)
	}
}

// sealedCodec decodes events leaving their personal data sealed.
var sealedCodec = &Codec{}

// loaded is what Load learned for the handler's cache: the snapshot the
// aggregate was taken from (nil if none is cached).
type loaded struct {
	key   aggKey
	entry *aggEntry
}

// loadCached is Load through the aggregate cache. ok is false when the
// cache cannot serve this aggregate type or stream; the caller then folds
// the stream as without a cache.
func loadCached[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A) (agg A, rev int64, from loaded, ok bool, err error) {
	key, cacheable := cacheKey[A](stream)
	if !cacheable {
		return agg, -1, from, false, nil
	}
	from.key = key
	ent, fresh, rev, err := h.current(ctx, key, func() reflect.Value { return reflect.ValueOf(newAgg()) })
	if err != nil {
		return agg, -1, from, false, err
	}
	from.entry = ent
	if fresh.IsValid() {
		return fresh.Interface().(A), rev, from, true, nil
	}
	if ent == nil {
		return agg, rev, loaded{}, false, nil
	}
	a, err := h.checkout(ent)
	if err != nil {
		return agg, -1, from, false, err
	}
	if !a.IsValid() {
		return agg, -1, from, false, nil
	}
	return a.Interface().(A), ent.rev, from, true, nil
}

// cacheKey returns the cache key of A's aggregate of stream; ok is false
// when the cache cannot hold A (it keeps pointers to structs only).
func cacheKey[A Aggregate](stream string) (aggKey, bool) {
	typ := reflect.TypeFor[A]()
	if typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
		return aggKey{}, false
	}
	return aggKey{stream, typ}, true
}

// current brings the cached snapshot of key up to the end of its stream
// and returns it. When the stream had to be folded whole (nothing cached,
// or a correction since), fresh is that fold, the caller's own, and ent
// the snapshot cached beside it (nil if the rules keep this aggregate out
// of the cache); otherwise fresh is invalid and rev is ent.rev.
func (h *Handler) current(ctx context.Context, key aggKey, newAgg func() reflect.Value) (ent *aggEntry, fresh reflect.Value, rev int64, err error) {
	ent = h.Aggregates.get(key)
	if ent == nil {
		fresh, rev, ent, err = h.foldAndCache(ctx, key, newAgg)
		return ent, fresh, rev, err
	}
	recs, err := h.readFrom(ctx, key.stream, uint64(ent.rev+1))
	if err != nil {
		return nil, reflect.Value{}, -1, err
	}
	if len(recs) == 0 {
		return ent, reflect.Value{}, ent.rev, nil
	}
	next, err := h.advance(ent, recs)
	if err != nil {
		return nil, reflect.Value{}, -1, err
	}
	if next == nil { // a correction, or something the cache cannot fold
		h.Aggregates.forget(key)
		fresh, rev, ent, err = h.foldAndCache(ctx, key, newAgg)
		return ent, fresh, rev, err
	}
	h.Aggregates.put(next, ent, len(recs))
	return next, reflect.Value{}, next.rev, nil
}

// readFrom returns the recorded events of stream from revision from on.
func (h *Handler) readFrom(ctx context.Context, stream string, from uint64) ([]Recorded, error) {
	if rf, ok := h.Log.(StreamReaderFrom); ok {
		recs, err := rf.ReadStreamFrom(ctx, stream, from)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", stream, err)
		}
		return recs, nil
	}
	recs, err := h.Log.ReadStream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if uint64(len(recs)) < from {
		return nil, fmt.Errorf("read %s: the stream has %d events, fewer than the %d already folded", stream, len(recs), from)
	}
	return recs[from:], nil
}

// foldAndCache folds the whole stream into a new aggregate for the caller
// (personal data opened) and caches a sealed snapshot of it when the rules
// allow; snap is that snapshot (nil when none was cached).
func (h *Handler) foldAndCache(ctx context.Context, key aggKey, newAgg func() reflect.Value) (agg reflect.Value, rev int64, snap *aggEntry, err error) {
	msgs, err := h.loadMessages(ctx, key.stream)
	if err != nil {
		return reflect.Value{}, -1, nil, err
	}
	rev = int64(len(msgs)) - 1
	fixed, err := ApplyCorrections(h.Codec, msgs)
	if err != nil {
		return reflect.Value{}, -1, nil, fmt.Errorf("load %s: %w", key.stream, err)
	}
	agg = newAgg()
	ag := agg.Interface().(Aggregate)
	for _, m := range fixed {
		ag.Apply(m)
	}
	personal := false
	for _, m := range msgs {
		if _, ok := Subject(m.Event); ok {
			personal = true
			break
		}
	}
	if !personal {
		snap = &aggEntry{key: key, agg: copyAggregate(agg), rev: rev, empty: newAgg}
		h.cacheFolded(snap)
		return agg, rev, snap, nil
	}
	if _, ok := ag.(PersonalDataVerbatim); !ok {
		return agg, rev, nil, nil // never cached: see AggregateCache
	}
	// Fold again from the events with their personal data sealed: the
	// snapshot must never hold plaintext.
	sealed := make([]Message, len(msgs))
	subjects := map[string]string{}
	for i, m := range msgs {
		if sealed[i], err = sealedCodec.Decode(m.Recorded); err != nil {
			return reflect.Value{}, -1, nil, fmt.Errorf("load %s: %w", key.stream, err)
		}
		noteSubject(subjects, sealed[i].Event)
	}
	if sealed, err = ApplyCorrections(sealedCodec, sealed); err != nil {
		return reflect.Value{}, -1, nil, fmt.Errorf("load %s: %w", key.stream, err)
	}
	sv := newAgg()
	sa := sv.Interface().(Aggregate)
	for _, m := range sealed {
		noteSubject(subjects, m.Event)
		sa.Apply(m)
	}
	snap = &aggEntry{key: key, agg: sv, rev: rev, subjects: subjects, empty: newAgg}
	h.cacheFolded(snap)
	return agg, rev, snap, nil
}

// cacheFolded caches the snapshot of an aggregate folded from its whole
// stream, and drops the stream's decoded events from the stream cache:
// the next load starts from the snapshot and reads only the events after
// it, so the events would only take memory (at a million events, about
// 90 MB of the live heap). A stream is decoded whole again only when its
// snapshot cannot be advanced (a correction) or was evicted.
func (h *Handler) cacheFolded(snap *aggEntry) {
	h.Aggregates.put(snap, nil, 0)
	if h.Cache != nil {
		h.Cache.forget(snap.key.stream)
	}
}

// noteSubject records whose key opens e's sealed personal data, if any.
func noteSubject(subjects map[string]string, e Event) {
	spec, ok := Lookup(e.EventType())
	if !ok || spec.personal == nil {
		return
	}
	v := reflect.ValueOf(e)
	if p := v.FieldByIndex(spec.personal).Interface().(PersonalData); len(p.Sealed) > 0 {
		subjects[string(p.Sealed)] = subjectOf(v, spec)
	}
}

// advance returns a new snapshot: ent with recs folded in (personal data
// sealed), or nil if recs cannot be folded incrementally (a correction, a
// revision gap, personal data in an aggregate that may not cache it).
func (h *Handler) advance(ent *aggEntry, recs []Recorded) (*aggEntry, error) {
	msgs := make([]Message, len(recs))
	for i, r := range recs {
		if r.Type == "EventCorrected" || r.Revision != uint64(ent.rev+1+int64(i)) {
			return nil, nil
		}
		m, err := sealedCodec.Decode(r)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", ent.key.stream, err)
		}
		msgs[i] = m
	}
	return ent.with(msgs), nil
}

// with returns a new snapshot: ent with msgs (the next events, personal
// data sealed, not shared with anything else) folded in; nil if one
// carries personal data the aggregate may not cache.
//
// Folding needs a copy of the aggregate (the snapshot is never changed in
// place), and so does every load: to copy a large aggregate once per
// command rather than twice, up to maxPending events are kept beside the
// snapshot, unfolded, and each load folds them into its own copy; the
// next event after that folds them all into a new snapshot.
func (ent *aggEntry) with(msgs []Message) *aggEntry {
	next := &aggEntry{key: ent.key, agg: ent.agg, rev: ent.rev + int64(len(msgs)), subjects: ent.subjects, empty: ent.empty}
	copied := false // next.subjects is ent's until the first new subject
	_, verbatim := ent.agg.Interface().(PersonalDataVerbatim)
	for _, m := range msgs {
		if _, ok := Subject(m.Event); ok {
			if !verbatim {
				return nil
			}
			if !copied {
				next.subjects, copied = cloneMap(ent.subjects), true
			}
			noteSubject(next.subjects, m.Event)
		}
	}
	if len(ent.pending)+len(msgs) <= maxPending {
		next.pending = append(append(make([]Message, 0, len(ent.pending)+len(msgs)), ent.pending...), msgs...)
		return next
	}
	next.agg = copyAggregate(ent.agg)
	ag := next.agg.Interface().(Aggregate)
	for _, m := range ent.pending {
		ag.Apply(privateMessage(m))
	}
	for _, m := range msgs {
		ag.Apply(m)
	}
	return next
}

// maxPending is how many events a snapshot keeps unfolded (see with).
const maxPending = 8

// privateMessage returns m with an event value shared with nothing else,
// for an Apply that may keep parts of it.
func privateMessage(m Message) Message {
	m.Event = deepCopy(reflect.ValueOf(m.Event)).Interface().(Event)
	return m
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// checkout returns a private copy of ent's aggregate, its pending events
// folded in, with its personal data opened; an invalid Value if some
// sealed data has no known subject.
func (h *Handler) checkout(ent *aggEntry) (reflect.Value, error) {
	out := copyAggregate(ent.agg)
	if len(ent.pending) > 0 {
		ag := out.Interface().(Aggregate)
		for _, m := range ent.pending {
			ag.Apply(privateMessage(m))
		}
	}
	if ent.subjects == nil {
		return out, nil
	}
	ok := true
	err := rewritePersonal(out, func(p PersonalData) (PersonalData, error) {
		if len(p.Sealed) == 0 {
			return p, nil
		}
		subject, known := ent.subjects[string(p.Sealed)]
		if !known {
			ok = false
			return p, nil
		}
		return openPersonal(h.Codec.Keys, subject, p)
	})
	if err != nil || !ok {
		return reflect.Value{}, err
	}
	return out, nil
}

// recordAppended folds a command's recorded events into the snapshot its
// aggregate was loaded from, so the next load starts from there. events
// are the command's events (their personal data in plaintext, so those
// are decoded again from the recorded envelopes, sealed).
func (h *Handler) recordAppended(from loaded, events []Event, recs []Recorded) {
	if from.entry == nil || len(recs) != len(events) {
		return
	}
	msgs := make([]Message, len(recs))
	for i, r := range recs {
		if r.Type == "EventCorrected" || r.Revision != uint64(from.entry.rev+1+int64(i)) {
			h.Aggregates.forget(from.key)
			return
		}
		if _, personal := Subject(events[i]); personal {
			m, err := sealedCodec.Decode(r)
			if err != nil {
				h.Aggregates.forget(from.key)
				return
			}
			msgs[i] = m
			continue
		}
		msgs[i] = Message{Recorded: r, Event: deepCopy(reflect.ValueOf(events[i])).Interface().(Event)}
	}
	next := from.entry.with(msgs)
	if next == nil {
		h.Aggregates.forget(from.key)
		return
	}
	h.Aggregates.put(next, from.entry, len(msgs))
}

var personalType = reflect.TypeFor[PersonalData]()

// rewritePersonal replaces every PersonalData reachable from v (a pointer
// to a value no one else holds) with f's result.
func rewritePersonal(v reflect.Value, f func(PersonalData) (PersonalData, error)) error {
	if !mayHoldPersonal(v.Type()) {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if v.Kind() == reflect.Interface {
			e := v.Elem()
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			if err := rewritePersonal(c.Addr(), f); err != nil {
				return err
			}
			settable(v).Set(c)
			return nil
		}
		return rewritePersonal(v.Elem(), f)
	case reflect.Struct:
		if v.Type() == personalType {
			p, err := f(v.Interface().(PersonalData))
			if err != nil {
				return err
			}
			settable(v).Set(reflect.ValueOf(p))
			return nil
		}
		for i := 0; i < v.NumField(); i++ {
			if err := rewritePersonal(settable(v.Field(i)), f); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := rewritePersonal(v.Index(i), f); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		type kv struct{ k, v reflect.Value }
		var set []kv
		for it.Next() {
			c := reflect.New(v.Type().Elem()).Elem()
			c.Set(it.Value())
			if err := rewritePersonal(c, f); err != nil {
				return err
			}
			set = append(set, kv{it.Key(), c})
		}
		for _, e := range set {
			v.SetMapIndex(e.k, e.v)
		}
	}
	return nil
}

var holdsPersonal sync.Map // reflect.Type → bool

// mayHoldPersonal reports whether a value of t can contain a PersonalData
// (an interface might hold anything).
func mayHoldPersonal(t reflect.Type) bool {
	if r, ok := holdsPersonal.Load(t); ok {
		return r.(bool)
	}
	holdsPersonal.Store(t, true) // assume so while looking (recursive types)
	r := false
	switch t.Kind() {
	case reflect.Interface:
		r = true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		r = mayHoldPersonal(t.Elem())
	case reflect.Struct:
		if t == personalType {
			r = true
			break
		}
		for i := 0; i < t.NumField(); i++ {
			if mayHoldPersonal(t.Field(i).Type) {
				r = true
				break
			}
		}
	}
	holdsPersonal.Store(t, r)
	return r
}
