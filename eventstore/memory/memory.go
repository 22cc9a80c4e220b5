// Package memory is an in-memory eventstore.Store: the reference
// implementation of the contract, for tests of projections and the API.
// It keeps everything in process memory and loses it on exit.
//
// Invariants, all guarded by Store.mu:
//   - log[i] is the event at position i+1; positions are dense and in
//     commit order because appends are serialised by the mutex.
//   - streams[id][r] is the position of revision r of stream id.
//   - ids maps every stored event ID to its position.
//   - RecordedAt never decreases along the log (the clock is clamped), so
//     PositionAt can binary-search it.
package memory

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// MaxEventSize is the largest canonical event size accepted;
	// 0 means eventstore.DefaultMaxEventSize.
	MaxEventSize int
	// Now is the clock that stamps RecordedAt; nil means time.Now. A
	// clock that steps back is clamped so recorded times never decrease.
	Now func() time.Time
}

// Store is an in-memory eventstore.Store. It is safe for concurrent use.
type Store struct {
	maxEventSize int
	now          func() time.Time

	mu      sync.Mutex
	closed  bool
	log     []eventstore.RecordedEvent
	streams map[string][]uint64
	ids     map[uuid.UUID]uint64
	// changed is closed and replaced whenever the log grows, waking
	// subscriptions that have caught up.
	changed chan struct{}
	// done is closed by Close.
	done chan struct{}
}

var _ eventstore.Store = (*Store)(nil)

// New returns an empty Store.
func New(opts Options) *Store {
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{
		maxEventSize: opts.MaxEventSize,
		now:          opts.Now,
		streams:      make(map[string][]uint64),
		ids:          make(map[uuid.UUID]uint64),
		changed:      make(chan struct{}),
		done:         make(chan struct{}),
	}
}

// Append implements eventstore.Store.Append. The store copies the events;
// the caller may reuse their buffers.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events, s.maxEventSize); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	// Idempotency comes before the revision check: a retry of an append
	// that succeeded must succeed again, whatever happened since.
	if res, found, err := s.stored(stream, events); found || err != nil {
		return res, err
	}
	revs := s.streams[stream]
	actual := int64(len(revs)) - 1
	if !expected.Matches(actual) {
		return eventstore.AppendResult{}, &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: actual}
	}
	at := s.now().UTC()
	if n := len(s.log); n > 0 && at.Before(s.log[n-1].RecordedAt) {
		at = s.log[n-1].RecordedAt
	}
	res := eventstore.AppendResult{Positions: make([]uint64, len(events))}
	for i, e := range events {
		pos := uint64(len(s.log)) + 1
		rev := uint64(len(revs))
		s.log = append(s.log, eventstore.RecordedEvent{
			EventData:  clone(e),
			StreamID:   stream,
			Revision:   rev,
			Position:   pos,
			RecordedAt: at,
		})
		revs = append(revs, pos)
		s.ids[e.ID] = pos
		res.Positions[i] = pos
		res.Revision = rev
	}
	s.streams[stream] = revs
	close(s.changed)
	s.changed = make(chan struct{})
	return res, nil
}

// stored reports whether any of events' IDs is already stored. If all are,
// in stream at consecutive revisions and with the same content, it returns
// their original result; if only some are, or elsewhere, or with other
// content, it returns an error wrapping ErrDuplicateEvent.
func (s *Store) stored(stream string, events []eventstore.EventData) (eventstore.AppendResult, bool, error) {
	found := false
	for _, e := range events {
		if _, ok := s.ids[e.ID]; ok {
			found = true
			break
		}
	}
	if !found {
		return eventstore.AppendResult{}, false, nil
	}
	res := eventstore.AppendResult{Positions: make([]uint64, len(events))}
	for i, e := range events {
		pos, ok := s.ids[e.ID]
		if !ok {
			return eventstore.AppendResult{}, true, fmt.Errorf("append to %s: %w: event %s is new but others of the append are already stored", stream, eventstore.ErrDuplicateEvent, e.ID)
		}
		old := s.log[pos-1]
		switch {
		case old.StreamID != stream:
			return eventstore.AppendResult{}, true, fmt.Errorf("append to %s: %w: event %s is stored in stream %s", stream, eventstore.ErrDuplicateEvent, e.ID, old.StreamID)
		case i > 0 && old.Revision != res.Revision+1:
			return eventstore.AppendResult{}, true, fmt.Errorf("append to %s: %w: event %s is stored at revision %d, not after revision %d", stream, eventstore.ErrDuplicateEvent, e.ID, old.Revision, res.Revision)
		case !eventstore.SameContent(old.EventData, e):
			return eventstore.AppendResult{}, true, fmt.Errorf("append to %s: %w: event %s is stored with other content", stream, eventstore.ErrDuplicateEvent, e.ID)
		}
		res.Positions[i] = pos
		res.Revision = old.Revision
	}
	return res, true, nil
}

// ReadStream implements eventstore.Store.ReadStream.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamID(stream); err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	revs := s.streams[stream]
	n := uint64(len(revs))
	var out []eventstore.RecordedEvent
	full := func() bool { return limit > 0 && len(out) >= limit }
	if dir == eventstore.Backward {
		if n == 0 {
			return nil, nil
		}
		r := min(from, n-1)
		for !full() {
			out = append(out, copyEvent(s.log[revs[r]-1]))
			if r == 0 {
				break
			}
			r--
		}
		return out, nil
	}
	for r := from; r < n && !full(); r++ {
		out = append(out, copyEvent(s.log[revs[r]-1]))
	}
	return out, nil
}

// ReadAll implements eventstore.Store.ReadAll.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	return s.readAll(from, limit), nil
}

// readAll copies up to limit events from position from. s.mu must be held.
func (s *Store) readAll(from uint64, limit int) []eventstore.RecordedEvent {
	from = max(from, 1)
	n := uint64(len(s.log))
	if from > n {
		return nil
	}
	end := n
	if limit > 0 && from-1+uint64(limit) < n {
		end = from - 1 + uint64(limit)
	}
	out := make([]eventstore.RecordedEvent, 0, end-(from-1))
	for _, e := range s.log[from-1 : end] {
		out = append(out, copyEvent(e))
	}
	return out
}

// PositionAt implements eventstore.Store.PositionAt by binary search over
// the (non-decreasing) recorded times.
func (s *Store) PositionAt(ctx context.Context, t time.Time) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, eventstore.ErrClosed
	}
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].RecordedAt.After(t) })
	return uint64(i), nil
}

// Head implements eventstore.Store.Head.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, eventstore.ErrClosed
	}
	return uint64(len(s.log)), nil
}

// Close implements eventstore.Store.Close. Subscriptions end with
// ErrClosed. Closing twice is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	return nil
}

func clone(e eventstore.EventData) eventstore.EventData {
	e.Data = bytes.Clone(e.Data)
	if !e.Metadata.EffectiveAt.IsZero() {
		e.Metadata.EffectiveAt = e.Metadata.EffectiveAt.UTC()
	}
	return e
}

func copyEvent(e eventstore.RecordedEvent) eventstore.RecordedEvent {
	e.Data = bytes.Clone(e.Data)
	return e
}
