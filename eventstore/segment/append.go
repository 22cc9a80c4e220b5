package segment

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// A request is one Append call waiting for the committer.
type request struct {
	stream   string
	expected eventstore.ExpectedRevision
	events   []eventstore.EventData
	size     int // framed bytes
	pre      precheck

	// state moves from reqQueued to reqTaken (by the committer, which then
	// always answers) or to reqAbandoned (by the caller whose context ended
	// first, after which the committer skips it). The CAS makes sure a
	// caller told "canceled" never has its events written.
	state atomic.Int32
	done  chan struct{} // closed by the committer once res and err are set
	res   eventstore.AppendResult
	err   error
}

const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

// precheck is what the caller learned before queueing, so the committer
// only has to look at what happened since.
type precheck struct {
	// checked: none of the request's event IDs is at positions 1..checked.
	checked uint64
	// indexedAt is the last position of the index view the caller used,
	// and head the stream's last revision in it (-1 for none).
	indexedAt uint64
	head      int64
}

// Append implements eventstore.Store. It returns once the events are
// fdatasync'ed in the log (not yet in the index).
//
// Returns ErrEmptyAppend, ErrInvalidStreamID, ErrInvalidEvent or
// ErrEventTooLarge (also when the events together exceed 16 MiB) for bad
// input; a *WrongExpectedRevisionError; ErrDuplicateEvent; ErrClosed; the
// context's error when ctx ends before the group holding the events is
// written (once it is being written, Append waits for the outcome); or the
// error of a failed write, after which every Append fails with it.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := eventstore.ValidateAppend(stream, events, s.opts.MaxEventSize); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	size := 0
	for i := range events {
		size += recordSize(stream, &events[i])
	}
	if size > maxAppendBytes {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w: %d events take %d bytes, at most %d allowed in one append",
			stream, eventstore.ErrEventTooLarge, len(events), size, maxAppendBytes)
	}
	if !s.enter(&s.appends) {
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	defer s.appends.Done()
	if err := s.failure(); err != nil {
		return eventstore.AppendResult{}, err
	}

	pre, existing, err := s.precheck(stream, events)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if existing != nil {
		res, err := matchExisting(stream, events, existing)
		if err == nil {
			s.stats.appends.Add(1)
		}
		return res, err
	}

	r := &request{stream: stream, expected: expected, events: events, size: size, pre: pre, done: make(chan struct{})}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return eventstore.AppendResult{}, ctx.Err()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return eventstore.AppendResult{}, ctx.Err()
		}
		<-r.done // being written: the outcome is what counts
	}
	return r.res, r.err
}

// recordSize is the framed size of e in stream.
func recordSize(stream string, e *eventstore.EventData) int {
	const timeLen = len(eventstore.TimeLayout)
	n := frameHeaderSize + 1 + 8 + 8 + 16 + 2 + len(stream) + 2 + len(e.Type) + 4 + 2 + timeLen +
		2 + len(e.Metadata.ActorID) + 2 + len(e.Metadata.ActorRole) + 4 + len(e.Metadata.Reason) +
		16 + 16 + 2 + 4 + len(e.Data)
	if !e.Metadata.EffectiveAt.IsZero() {
		n += timeLen
	}
	return n
}

// precheck looks the event IDs up in the tail, then in the index (in that
// order: an event leaves the tail only once indexed), and reads the
// stream's indexed head. existing is nil if no ID is stored, else holds
// the stored event for each ID found.
func (s *Store) precheck(stream string, events []eventstore.EventData) (pre precheck, existing []*eventstore.RecordedEvent, err error) {
	found := func(i int, ev eventstore.RecordedEvent) {
		if existing == nil {
			existing = make([]*eventstore.RecordedEvent, len(events))
		}
		existing[i] = &ev
	}
	s.mu.RLock()
	head, indexed := s.head, s.indexed
	if len(s.tailIDs) > 0 {
		for i := range events {
			if p, ok := s.tailIDs[events[i].ID]; ok {
				found(i, s.tail[p-indexed-1].ev)
			}
		}
	}
	s.mu.RUnlock()
	err = s.idx.view(func(tx *bolt.Tx) error {
		pre.indexedAt = indexedLast(tx)
		if pre.indexedAt == 0 {
			pre.head = -1
			return nil
		}
		for i := range events {
			if existing != nil && existing[i] != nil {
				continue
			}
			pos, off, ok, err := lookupID(tx, events[i].ID)
			if err != nil {
				return err
			}
			if ok {
				ev, err := s.readAt(pos, off)
				if err != nil {
					return err
				}
				found(i, ev)
			}
		}
		var err error
		pre.head, err = lookupHead(tx, stream)
		return err
	})
	pre.checked = max(head, pre.indexedAt)
	return pre, existing, err
}

// matchExisting decides an append some of whose event IDs are stored:
// existing[i] is the stored event with events[i]'s ID, or nil. It is an
// idempotent re-append, answered with the original result, only if every
// event is stored, in stream, at consecutive revisions in the same order
// and with the same content. Anything else is ErrDuplicateEvent.
func matchExisting(stream string, events []eventstore.EventData, existing []*eventstore.RecordedEvent) (eventstore.AppendResult, error) {
	dup := func(i int, why string) (eventstore.AppendResult, error) {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: event %d (%s): %w: %s", stream, i, events[i].ID, eventstore.ErrDuplicateEvent, why)
	}
	for i, ev := range existing {
		if ev != nil {
			continue
		}
		for j, other := range existing {
			if other != nil {
				return dup(j, fmt.Sprintf("already stored at %s@%d while event %d (%s) is new", other.StreamID, other.Revision, i, events[i].ID))
			}
		}
	}
	first := existing[0]
	res := eventstore.AppendResult{Positions: make([]uint64, len(events))}
	for i, ev := range existing {
		switch {
		case ev.StreamID != stream || ev.Revision != first.Revision+uint64(i):
			return dup(i, fmt.Sprintf("already stored at %s@%d", ev.StreamID, ev.Revision))
		case !eventstore.SameContent(ev.EventData, events[i]):
			return dup(i, "already stored with other content")
		}
		res.Positions[i] = ev.Position
		res.Revision = ev.Revision
	}
	return res, nil
}

// failure returns the sticky write error, if any.
func (s *Store) failure() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// fail makes err the sticky error: the store refuses appends from now on.
func (s *Store) fail(err error) {
	err = fmt.Errorf("segment: store refuses appends after a failure: %w", err)
	if s.failed.CompareAndSwap(nil, &err) {
		s.log.Error("segment store: failing", "dir", s.dir, "err", err)
		s.mu.Lock()
		close(s.indexedCh) // wake a committer waiting for the indexer
		s.indexedCh = make(chan struct{})
		s.mu.Unlock()
	}
}

// commitLoop is the committer: it gathers whatever Append calls are queued
// into a group of at most maxAppendBytes and commits it with one write and
// one fdatasync.
func (s *Store) commitLoop() {
	defer close(s.commitDone)
	c := &committer{s: s, pendHeads: map[string]uint64{}, pendIDs: map[uuid.UUID]int{}}
	var carry *request
	group := make([]*request, 0, 256)
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-s.reqs:
			case <-s.stopCommit:
				// Close waits for every Append to return before it stops
				// the committer: the queue holds only abandoned requests.
				return
			}
		}
		s.waitIndexLag()
		group = append(group[:0], first)
		size := first.size
	drain:
		for {
			select {
			case r := <-s.reqs:
				if size+r.size > maxAppendBytes {
					carry = r
					break drain
				}
				group = append(group, r)
				size += r.size
			default:
				break drain
			}
		}
		c.commit(group)
		clear(group)
	}
}

// waitIndexLag holds the committer back while the indexer is far behind,
// so the in-memory tail stays bounded.
func (s *Store) waitIndexLag() {
	for {
		s.mu.RLock()
		lag, ch := s.head-s.indexed, s.indexedCh
		s.mu.RUnlock()
		if lag >= kickIndexLag {
			select {
			case s.kickIndex <- struct{}{}:
			default:
			}
		}
		if lag < maxIndexLag || s.failure() != nil {
			return
		}
		<-ch
	}
}

// committer holds the committer goroutine's scratch state.
type committer struct {
	s         *Store
	evs       []tailEntry // the group's new events
	acks      []*request  // requests answered after the write
	pendHeads map[string]uint64
	pendIDs   map[uuid.UUID]int // event id -> index in evs
	ends      []int
}

func answer(r *request, res eventstore.AppendResult, err error) {
	r.res, r.err = res, err
	close(r.done)
}

func (c *committer) commit(group []*request) {
	s := c.s
	if err := s.failure(); err != nil {
		for _, r := range group {
			if r.state.CompareAndSwap(reqQueued, reqTaken) {
				answer(r, eventstore.AppendResult{}, err)
			}
		}
		return
	}
	now := s.opts.Now().UTC()
	if now.Before(s.lastTime) {
		now = s.lastTime
	}
	c.evs, c.acks = c.evs[:0], c.acks[:0]
	clear(c.pendHeads)
	clear(c.pendIDs)

	s.mu.RLock()
	indexed, next := s.indexed, s.head+1
	for _, r := range group {
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			continue
		}
		if err := c.decide(r, indexed, &next, now); err != nil {
			answer(r, eventstore.AppendResult{}, err)
			continue
		}
		c.acks = append(c.acks, r)
	}
	s.mu.RUnlock()

	if len(c.evs) > 0 {
		if err := c.write(); err != nil {
			s.fail(err)
			err = s.failure()
			for _, r := range c.acks {
				answer(r, eventstore.AppendResult{}, err)
			}
			return
		}
		s.lastTime = now
		c.publish()
	}
	s.stats.groups.Add(1)
	s.stats.lastGroup.Store(uint64(len(group)))
	s.stats.appends.Add(uint64(len(c.acks)))
	for _, r := range c.acks {
		close(r.done)
	}
}

// decide checks r against the log as of the group so far (s.mu read-held)
// and, if it is accepted, adds its events to the group with their
// revisions, positions and time. It sets r.res for accepted and idempotent
// requests and returns the refusal otherwise.
func (c *committer) decide(r *request, indexed uint64, next *uint64, now time.Time) error {
	s := c.s
	var existing []*eventstore.RecordedEvent
	for i := range r.events {
		var ev *eventstore.RecordedEvent
		if j, ok := c.pendIDs[r.events[i].ID]; ok {
			ev = &c.evs[j].ev
		} else if p, ok := s.tailIDs[r.events[i].ID]; ok {
			ev = &s.tail[p-indexed-1].ev
		}
		if ev != nil {
			if existing == nil {
				existing = make([]*eventstore.RecordedEvent, len(r.events))
			}
			existing[i] = ev
		}
	}

	cur, known := c.pendHeads[r.stream]
	head := int64(cur)
	if !known {
		if ps := s.tailStreams[r.stream]; len(ps) > 0 {
			head, known = int64(s.tail[ps[len(ps)-1]-indexed-1].ev.Revision), true
		} else if indexed <= r.pre.indexedAt {
			head, known = r.pre.head, true
		}
	}
	// Events indexed since the caller's look-up may have left the tail:
	// ask the index (rare: only across an index commit).
	if indexed > r.pre.checked || !known {
		err := s.idx.view(func(tx *bolt.Tx) error {
			if indexed > r.pre.checked {
				for i := range r.events {
					if existing != nil && existing[i] != nil {
						continue
					}
					pos, off, ok, err := lookupID(tx, r.events[i].ID)
					if err != nil {
						return err
					}
					if ok {
						ev, err := s.readAt(pos, off)
						if err != nil {
							return err
						}
						if existing == nil {
							existing = make([]*eventstore.RecordedEvent, len(r.events))
						}
						existing[i] = &ev
					}
				}
			}
			if !known {
				var err error
				head, err = lookupHead(tx, r.stream)
				return err
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("append to %s: %w", r.stream, err)
		}
	}

	if existing != nil {
		res, err := matchExisting(r.stream, r.events, existing)
		r.res = res
		return err
	}
	if !r.expected.Matches(head) {
		return &eventstore.WrongExpectedRevisionError{Stream: r.stream, Expected: r.expected, Actual: head}
	}
	rev := uint64(head + 1)
	res := eventstore.AppendResult{Revision: rev + uint64(len(r.events)) - 1, Positions: make([]uint64, len(r.events))}
	for i := range r.events {
		e := r.events[i]
		e.Data = bytes.Clone(e.Data)
		if !e.Metadata.EffectiveAt.IsZero() {
			e.Metadata.EffectiveAt = e.Metadata.EffectiveAt.UTC()
		}
		c.pendIDs[e.ID] = len(c.evs)
		c.evs = append(c.evs, tailEntry{ev: eventstore.RecordedEvent{
			EventData:  e,
			StreamID:   r.stream,
			Revision:   rev + uint64(i),
			Position:   *next,
			RecordedAt: now,
		}})
		res.Positions[i] = *next
		*next++
	}
	c.pendHeads[r.stream] = res.Revision
	r.res = res
	return nil
}

// write appends the group's records to the log, rolling to new segments
// as needed, and makes them durable: one write and one fdatasync per
// segment touched (one of each, unless the group crosses a segment end).
// It sets each event's offset.
func (c *committer) write() error {
	s := c.s
	buf := s.buf[:0]
	c.ends = c.ends[:0]
	for i := range c.evs {
		buf = appendRecord(buf, &c.evs[i].ev)
		c.ends = append(c.ends, len(buf))
	}
	if cap(buf) <= 2*maxAppendBytes {
		s.buf = buf
	}
	first, from := 0, 0 // first record not written, and where it starts in buf
	for first < len(c.evs) {
		room := s.wcap - s.woff
		last := first
		for last < len(c.evs) && int64(c.ends[last]-from) <= room {
			last++
		}
		if last == first {
			need := int64(c.ends[first] - from)
			if s.woff == 0 {
				// An empty segment smaller than this one record: grow it.
				if err := preallocate(s.wseg.f, need); err != nil {
					return fmt.Errorf("grow segment %s: %w", segmentName(s.wseg.base), err)
				}
				s.wcap = need
				continue
			}
			if err := c.roll(c.evs[first].ev.Position, need); err != nil {
				return err
			}
			continue
		}
		chunk := buf[from:c.ends[last-1]]
		if _, err := s.wseg.f.WriteAt(chunk, s.woff); err != nil {
			return fmt.Errorf("write segment %s: %w", segmentName(s.wseg.base), err)
		}
		off := s.woff
		for i := first; i < last; i++ {
			c.evs[i].off = off
			off += int64(c.ends[i] - from)
			from = c.ends[i]
		}
		s.woff = off
		first = last
	}
	s.stats.syncs.Add(1)
	if err := fdatasync(s.wseg.f); err != nil {
		return fmt.Errorf("sync segment %s: %w", segmentName(s.wseg.base), err)
	}
	return nil
}

// roll syncs the segment being written and starts a new one whose first
// record has position base and which holds at least need bytes.
func (c *committer) roll(base uint64, need int64) error {
	s := c.s
	s.stats.syncs.Add(1)
	if err := fdatasync(s.wseg.f); err != nil {
		return fmt.Errorf("sync segment %s: %w", segmentName(s.wseg.base), err)
	}
	sg, err := createSegment(s.dir, base, max(s.opts.SegmentSize, need))
	if err != nil {
		return err
	}
	old := *s.segs.Load()
	segs := make([]*segment, len(old), len(old)+1)
	copy(segs, old)
	segs = append(segs, sg)
	s.segs.Store(&segs)
	s.wseg, s.woff, s.wcap = sg, 0, max(s.opts.SegmentSize, need)
	return nil
}

// publish makes the written group visible: it extends the tail, moves the
// head and wakes subscribers.
func (c *committer) publish() {
	s := c.s
	s.mu.Lock()
	for i := range c.evs {
		e := &c.evs[i]
		s.tail = append(s.tail, *e)
		s.tailIDs[e.ev.ID] = e.ev.Position
		s.tailStreams[e.ev.StreamID] = append(s.tailStreams[e.ev.StreamID], e.ev.Position)
	}
	s.head = c.evs[len(c.evs)-1].ev.Position
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	s.stats.events.Add(uint64(len(c.evs)))
}
