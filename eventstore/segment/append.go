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
	queued   int64 // when it was queued (monoNow)

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
	// When fromIndex, head is the stream's last revision (-1 for none) in
	// the index as of its position indexedAt.
	fromIndex bool
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

	r := &request{stream: stream, expected: expected, events: events, size: size, pre: pre, done: make(chan struct{}), queued: monoNow()}
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

// precheck looks the event IDs up in the tail and in the ID filters, and
// only the IDs the filters cannot rule out in the index (in that order:
// an event leaves the tail only once indexed); it reads the stream's head
// from the published heads, or from the index for a stream not seen since
// Open. existing is nil if no ID is stored, else holds the stored event
// for each ID found. In the common case (new IDs, a known stream) it
// takes one read lock and no index transaction.
func (s *Store) precheck(stream string, events []eventstore.EventData) (pre precheck, existing []*eventstore.RecordedEvent, err error) {
	found := func(i int, ev eventstore.RecordedEvent) {
		if existing == nil {
			existing = make([]*eventstore.RecordedEvent, len(events))
		}
		existing[i] = &ev
	}
	var lookup []int // events whose IDs only the index can tell about
	s.mu.RLock()
	head, indexed := s.head, s.indexed
	_, headKnown := s.heads[stream]
	for i := range events {
		id := events[i].ID
		if p, ok := s.tailIDs[id]; ok {
			found(i, s.tail.at(int(p-indexed-1)).ev)
			continue
		}
		if s.mayBeStored(id) {
			lookup = append(lookup, i)
		}
	}
	s.mu.RUnlock()
	pre.checked = head
	if len(lookup) == 0 && headKnown {
		return pre, existing, nil
	}
	s.stats.indexLookups.Add(1)
	err = s.idx.view(func(tx *bolt.Tx) error {
		pre.indexedAt = indexedLast(tx)
		for _, i := range lookup {
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
		if headKnown {
			return nil
		}
		var err error
		pre.head, err = lookupHead(tx, stream)
		pre.fromIndex = err == nil
		return err
	})
	if err == nil && pre.fromIndex {
		s.learnHead(stream, pre.head, pre.indexedAt)
	}
	return pre, existing, err
}

// mayBeStored reports whether an event with id may be in the log (s.mu
// held): false is certain, from the ID filters, which cover every
// published event once the filter of the events that were in the log at
// Open is built.
func (s *Store) mayBeStored(id uuid.UUID) bool {
	return s.idsOld == nil || s.idsOld.mayHave(id) || s.idsLive.mayHave(id)
}

// learnHead records in s.heads the head of a stream read from the index
// as of position indexedAt, unless something about the stream was
// published since that the index view did not hold: then the value could
// be stale, and the stream is left to the next look-up.
func (s *Store) learnHead(stream string, head int64, indexedAt uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.heads[stream]; ok || s.indexed != indexedAt || len(s.tailStreams[stream]) > 0 {
		return
	}
	s.setHead(stream, head)
}

// setHead records stream's head (s.mu write-held). The map is a cache:
// when it holds maxHeads streams it starts again empty, and look-ups fall
// back to the tail and the index.
func (s *Store) setHead(stream string, head int64) {
	if _, ok := s.heads[stream]; !ok && len(s.heads) >= maxHeads {
		s.heads = make(map[string]int64)
	}
	s.heads[stream] = head
}

// maxHeads bounds how many streams' heads the store keeps in memory (about
// 100 bytes each).
const maxHeads = 1 << 20

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
	res.RecordedAt = first.RecordedAt
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

// A group is the unit of group commit: the requests the committer
// accepted while the previous group was being synced, written with one
// write and made durable with one fdatasync.
type group struct {
	seq   uint64
	now   time.Time   // RecordedAt of its events
	size  int         // framed bytes of its requests (an upper bound of buf)
	evs   []tailEntry // accepted events, in position order
	acks  []*request  // answered, in order, once the group is durable
	files []*segment  // segments the group was written to
}

// commitLoop is the committer. It takes Append calls off the queue and
// decides each at once against the log and the groups not yet published,
// adding accepted events to the current group, until the syncer is free;
// then it drains whatever is still queued into the group, writes the
// group with one write and hands it to the syncer, which fdatasyncs,
// publishes and answers it. Validating and encoding the next group thus
// overlaps the previous group's fdatasync, while the disk sees exactly one
// write and one fdatasync per group.
func (s *Store) commitLoop() {
	defer close(s.commitDone)
	go s.syncLoop()
	defer func() {
		close(s.syncCh)
		<-s.syncDone
	}()
	c := &committer{
		s:         s,
		next:      s.head + 1,
		pendHeads: map[string]pending{},
		pendIDs:   map[uuid.UUID]pending{},
	}
	var carry *request
next:
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
		g := c.newGroup()
		c.add(g, first)
	gather:
		for carry == nil {
			select {
			case r := <-s.reqs:
				if g.size+r.size > maxAppendBytes {
					carry = r
					break gather
				}
				c.add(g, r)
			case <-s.syncFree:
				// Drain what is queued now: callers the syncer just
				// answered are already back with their next append.
				for carry == nil {
					select {
					case r := <-s.reqs:
						if g.size+r.size > maxAppendBytes {
							carry = r
						} else {
							c.add(g, r)
						}
						continue
					default:
					}
					break
				}
				if carry == nil {
					c.linger(g, &carry)
				}
				c.flush(g)
				continue next
			}
		}
		// The group is full: wait for the syncer.
		<-s.syncFree
		c.flush(g)
	}
}

// maxLinger bounds how long the committer waits for callers to come back
// before it hands a group to the syncer (see linger).
const maxLinger = 200 * time.Microsecond

// lingerFrom is the size of the last group from which the committer
// lingers: fewer callers than that are not worth waiting for.
const lingerFrom = 4

// epoch and monoNow give monotonic instants as numbers.
var epoch = time.Now()

func monoNow() int64 { return int64(time.Since(epoch)) }

// linger waits, once the syncer is free, for the callers the syncer just
// answered to come back with their next appends, so that they join this
// group rather than the next: until g holds as many requests queued since
// that answer as the last group had callers, for at most half the last
// fdatasync (and maxLinger). Without it, writers settle into two cohorts,
// one syncing while the other gathers, and every group holds half of
// them; syncs are one at a time, so that halves the appends each sync
// makes durable. After a group of fewer than lingerFrom callers (a lone
// writer), or on a store that does not sync, it never waits.
func (c *committer) linger(g *group, carry **request) {
	s := c.s
	last := int(s.stats.lastBatch.Load())
	d := min(maxLinger, time.Duration(s.lastSync.Load())/2)
	if last < lingerFrom || d <= 0 {
		return
	}
	answered := s.answeredAt.Load()
	back := 0
	for _, r := range g.acks {
		if r.queued >= answered {
			back++
		}
	}
	if back >= last {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for back < last {
		select {
		case r := <-s.reqs:
			if g.size+r.size > maxAppendBytes {
				*carry = r
				return
			}
			n := len(g.acks)
			c.add(g, r)
			if len(g.acks) > n && r.queued >= answered {
				back++
			}
		case <-t.C:
			return
		}
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

// committer holds the committer goroutine's state.
type committer struct {
	s    *Store
	next uint64 // position of the next event accepted
	seq  uint64 // sequence number of the last group started

	// Events of groups accepted but not yet seen published: the committer
	// checks them before the published tail.
	pendHeads map[string]pending
	pendIDs   map[uuid.UUID]pending
	inflight  []*group
	buf       []byte // the current group's records
	ends      []int  // where each record ends in buf
	// evsHint is how many events the current group holds so far: the
	// next group's room for its events starts at the last one's size.
	evsHint int
}

// pending is an event of a group not yet known to be published: the
// group's i-th event.
type pending struct {
	g *group
	i int
}

func (p pending) ev() *eventstore.RecordedEvent { return &p.g.evs[p.i].ev }

func answer(r *request, res eventstore.AppendResult, err error) {
	r.res, r.err = res, err
	close(r.done)
}

// newGroup starts a group, stamped with the time now (never earlier than
// the previous group's).
func (c *committer) newGroup() *group {
	c.reclaim()
	now := c.s.opts.Now().UTC()
	if now.Before(c.s.lastTime) {
		now = c.s.lastTime
	}
	c.s.lastTime = now
	c.seq++
	c.buf, c.ends = c.buf[:0], c.ends[:0]
	return &group{seq: c.seq, now: now, evs: make([]tailEntry, 0, max(c.evsHint, 8))}
}

// reclaim forgets the pending events of groups the syncer has published:
// the tail has them now.
func (c *committer) reclaim() {
	published := c.s.publishedSeq.Load()
	for len(c.inflight) > 0 && c.inflight[0].seq <= published {
		g := c.inflight[0]
		for i := range g.evs {
			ev := &g.evs[i].ev
			if p, ok := c.pendIDs[ev.ID]; ok && p.g == g {
				delete(c.pendIDs, ev.ID)
			}
			if p, ok := c.pendHeads[ev.StreamID]; ok && p.g == g {
				delete(c.pendHeads, ev.StreamID)
			}
		}
		c.inflight[0] = nil
		c.inflight = c.inflight[1:]
	}
}

// add decides r and adds it to g, or answers it at once if refused.
func (c *committer) add(g *group, r *request) {
	if !r.state.CompareAndSwap(reqQueued, reqTaken) {
		return // abandoned: its caller already returned
	}
	if err := c.s.failure(); err != nil {
		answer(r, eventstore.AppendResult{}, err)
		return
	}
	g.size += r.size
	c.s.mu.RLock()
	err := c.decide(g, r, c.s.indexed)
	c.s.mu.RUnlock()
	if err != nil {
		answer(r, eventstore.AppendResult{}, err)
		return
	}
	g.acks = append(g.acks, r)
}

// flush writes g and hands it to the syncer, whose turn token the caller
// holds; an empty group hands the token back.
func (c *committer) flush(g *group) {
	s := c.s
	if len(g.acks) == 0 {
		s.syncFree <- struct{}{}
		return
	}
	if err := s.failure(); err != nil {
		c.failGroup(g, err)
		return
	}
	if len(g.evs) > 0 {
		if s.opts.DeferSync && s.unsynced > 0 && s.unsynced+int64(len(c.buf)) > maxAppendBytes {
			// Never more than one group's worth unsynced: recovery
			// relies on it.
			if err := s.syncWritten(); err != nil {
				s.fail(err)
				c.failGroup(g, s.failure())
				return
			}
		}
		if err := c.write(g); err != nil {
			s.fail(err)
			c.failGroup(g, s.failure())
			return
		}
		s.unsynced += int64(len(c.buf))
	}
	c.inflight = append(c.inflight, g)
	s.stats.groups.Add(1)
	s.syncCh <- g
}

func (c *committer) failGroup(g *group, err error) {
	for _, r := range g.acks {
		answer(r, eventstore.AppendResult{}, err)
	}
	c.s.syncFree <- struct{}{}
}

// decide checks r against the log as of the groups so far (s.mu read-held)
// and, if it is accepted, adds its events to g with their revisions,
// positions and time, and encodes them. It sets r.res for accepted and
// idempotent requests and returns the refusal otherwise.
func (c *committer) decide(g *group, r *request, indexed uint64) error {
	s := c.s
	var existing []*eventstore.RecordedEvent
	for i := range r.events {
		var ev *eventstore.RecordedEvent
		if p, ok := c.pendIDs[r.events[i].ID]; ok {
			ev = p.ev()
		} else if p, ok := s.tailIDs[r.events[i].ID]; ok {
			ev = &s.tail.at(int(p - indexed - 1)).ev
		}
		if ev != nil {
			if existing == nil {
				existing = make([]*eventstore.RecordedEvent, len(r.events))
			}
			existing[i] = ev
		}
	}

	var head int64
	known := false
	if p, ok := c.pendHeads[r.stream]; ok {
		head, known = int64(p.ev().Revision), true
	} else if h, ok := s.heads[r.stream]; ok {
		head, known = h, true
	} else if ps := s.tailStreams[r.stream]; len(ps) > 0 {
		head, known = int64(s.tail.at(int(ps[len(ps)-1]-indexed-1)).ev.Revision), true
	} else if r.pre.fromIndex && indexed <= r.pre.indexedAt {
		head, known = r.pre.head, true
	}
	// Events published since the caller's look-up are in the tail unless
	// an index commit took them out of it: then the filters say which IDs
	// the index must be asked about (rare, and rarer still to be asked).
	var lookup []int
	if indexed > r.pre.checked {
		for i := range r.events {
			if (existing == nil || existing[i] == nil) && s.mayBeStored(r.events[i].ID) {
				lookup = append(lookup, i)
			}
		}
	}
	if len(lookup) > 0 || !known {
		s.stats.indexLookups.Add(1)
		err := s.idx.view(func(tx *bolt.Tx) error {
			for _, i := range lookup {
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
	res := eventstore.AppendResult{Revision: rev + uint64(len(r.events)) - 1, Positions: make([]uint64, len(r.events)), RecordedAt: g.now}
	for i := range r.events {
		e := r.events[i]
		e.Data = bytes.Clone(e.Data)
		if !e.Metadata.EffectiveAt.IsZero() {
			e.Metadata.EffectiveAt = e.Metadata.EffectiveAt.UTC()
		}
		g.evs = append(g.evs, tailEntry{ev: eventstore.RecordedEvent{
			EventData:  e,
			StreamID:   r.stream,
			Revision:   rev + uint64(i),
			Position:   c.next,
			RecordedAt: g.now,
		}})
		p := pending{g, len(g.evs) - 1}
		c.buf = appendRecord(c.buf, p.ev())
		c.ends = append(c.ends, len(c.buf))
		c.pendIDs[e.ID] = p
		c.pendHeads[r.stream] = p
		res.Positions[i] = c.next
		c.next++
	}
	c.evsHint = len(g.evs)
	r.res = res
	return nil
}

// write appends g's records to the log, one write per segment touched
// (one, unless the group crosses a segment end), rolling to new segments
// as needed, and sets each event's offset. It does not sync except the
// segment it rolls away from.
func (c *committer) write(g *group) error {
	s := c.s
	buf := c.buf
	first, from := 0, 0 // first record not written, and where it starts in buf
	for first < len(g.evs) {
		room := s.wcap - s.woff
		last := first
		for last < len(g.evs) && int64(c.ends[last]-from) <= room {
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
			if err := c.roll(g.evs[first].ev.Position, need); err != nil {
				return err
			}
			continue
		}
		chunk := buf[from:c.ends[last-1]]
		if _, err := s.wseg.f.WriteAt(chunk, s.woff); err != nil {
			return fmt.Errorf("write segment %s: %w", segmentName(s.wseg.base), err)
		}
		if end := s.woff + int64(len(chunk)); end > s.wzeroed {
			// Write zeros ahead (see zeroAhead).
			to := min(s.wcap, (end+zeroAhead+4095)&^4095)
			for at := end; at < to; {
				n := min(int64(len(zeroPage)), to-at)
				if _, err := s.wseg.f.WriteAt(zeroPage[:n], at); err != nil {
					return fmt.Errorf("write segment %s: %w", segmentName(s.wseg.base), err)
				}
				at += n
			}
			s.wzeroed = to
		}
		if len(g.files) == 0 || g.files[len(g.files)-1] != s.wseg {
			g.files = append(g.files, s.wseg)
		}
		off := s.woff
		for i := first; i < last; i++ {
			g.evs[i].off = off
			off += int64(c.ends[i] - from)
			from = c.ends[i]
		}
		s.woff = off
		first = last
	}
	if cap(c.buf) > 4*maxAppendBytes {
		c.buf = nil // do not keep a huge buffer after an unusual group
	}
	return nil
}

// zeroAhead is how far past the end of its data the committer writes
// zeros. A preallocated segment's blocks start "unwritten": the first
// write to each changes extent metadata, and an fdatasync after such a
// write must also commit the file system journal, which measured here
// made group commits about half again as slow. Writing zeros ahead in
// 1 MiB steps makes that happen once per MiB instead of once per group.
// Zeros past the end of data are what recovery expects there anyway.
const zeroAhead = 1 << 20

var zeroPage = make([]byte, 256<<10)

// roll syncs the segment being written (so no segment but the last ever
// holds unsynced data) and starts a new one whose first record has
// position base and which holds at least need bytes.
func (c *committer) roll(base uint64, need int64) error {
	s := c.s
	s.stats.syncs.Add(1)
	if err := fdatasync(s.wseg.f); err != nil {
		return fmt.Errorf("sync segment %s: %w", segmentName(s.wseg.base), err)
	}
	size := max(s.opts.SegmentSize, need)
	sg, err := createSegment(s.dir, base, size)
	if err != nil {
		return err
	}
	old := *s.segs.Load()
	segs := make([]*segment, len(old), len(old)+1)
	copy(segs, old)
	segs = append(segs, sg)
	s.segs.Store(&segs)
	s.wseg, s.woff, s.wcap, s.wzeroed, s.unsynced = sg, 0, size, 0, 0
	return nil
}

// syncLoop is the syncer: it makes each group the committer wrote
// durable with one fdatasync, publishes it and answers its callers, then
// gives the committer its turn back.
func (s *Store) syncLoop() {
	defer close(s.syncDone)
	for g := range s.syncCh {
		s.syncGroup(g)
		s.syncFree <- struct{}{}
	}
	if s.unsynced > 0 && s.failure() == nil {
		if err := s.syncWritten(); err != nil {
			s.fail(err)
		}
	}
}

// syncWritten fdatasyncs the segment being written (DeferSync).
func (s *Store) syncWritten() error {
	s.stats.syncs.Add(1)
	if err := fdatasync(s.wseg.f); err != nil {
		return fmt.Errorf("sync segment %s: %w", segmentName(s.wseg.base), err)
	}
	s.unsynced, s.syncedAt = 0, time.Now()
	return nil
}

func (s *Store) syncGroup(g *group) {
	err := s.failure()
	files := g.files
	if s.opts.DeferSync && time.Since(s.syncedAt) < s.opts.DeferSyncInterval {
		files = nil // see Options.DeferSync; rolling synced the older segments
	}
	began := time.Now()
	defer func() { s.lastSync.Store(int64(time.Since(began))) }()
	for _, f := range files {
		if err != nil {
			break
		}
		s.stats.syncs.Add(1)
		if serr := fdatasync(f.f); serr != nil {
			s.fail(fmt.Errorf("sync segment %s: %w", segmentName(f.base), serr))
			err = s.failure()
		}
	}
	if len(files) > 0 && err == nil {
		s.unsynced, s.syncedAt = 0, time.Now()
	}
	if err != nil {
		for _, r := range g.acks {
			answer(r, eventstore.AppendResult{}, err)
		}
		return
	}

	// Count the group before anyone sees it: a caller that reads Stats
	// right after its Append returns must find its append in the counters.
	s.stats.events.Add(uint64(len(g.evs)))
	s.stats.appends.Add(uint64(len(g.acks)))
	s.stats.lastBatch.Store(uint64(len(g.acks)))
	if len(g.evs) > 0 {
		s.mu.Lock()
		for i := range g.evs {
			e := &g.evs[i]
			s.tail.push(*e)
			s.tailIDs[e.ev.ID] = e.ev.Position
			s.tailStreams[e.ev.StreamID] = append(s.tailStreams[e.ev.StreamID], e.ev.Position)
			s.idsLive.add(e.ev.ID)
			s.setHead(e.ev.StreamID, int64(e.ev.Revision))
		}
		s.head = g.evs[len(g.evs)-1].ev.Position
		s.publishedSeq.Store(g.seq)
		close(s.notify)
		s.notify = make(chan struct{})
		s.mu.Unlock()
	} else {
		s.publishedSeq.Store(g.seq)
	}
	s.answeredAt.Store(monoNow())
	for _, r := range g.acks {
		close(r.done)
	}
}
