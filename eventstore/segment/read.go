package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/concord-ledger/concord/eventstore"
	bolt "go.etcd.io/bbolt"
)

// Head implements eventstore.Store. Returns ErrClosed after Close.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !s.enter(&s.ops) {
		return 0, eventstore.ErrClosed
	}
	defer s.ops.Done()
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.head, nil
}

// ReadAll implements eventstore.Store: indexed events come from the log
// with large sequential reads, newer ones from memory.
//
// Returns ErrClosed, the context's error, or an error wrapping
// eventstore.ErrCorrupt if a record fails its checksum.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	return s.ReadAllKeeping(ctx, from, limit, nil)
}

// ReadAllKeeping is ReadAll for a reader who sees only some streams: an
// event whose stream keep refuses comes back as a stub holding only its
// position and recorded time (no stream, no type: a reader tells a stub
// by its empty type), the rest of it not decoded; a nil keep keeps every stream. keep is given each stream id's
// bytes, which it must neither change nor keep, in position order and
// from one goroutine. A page of the log for a reader who sees one
// school's events decodes that school's events, not the thousands
// between them.
func (s *Store) ReadAllKeeping(ctx context.Context, from uint64, limit int, keep func(stream []byte) bool) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.enter(&s.ops) {
		return nil, eventstore.ErrClosed
	}
	defer s.ops.Done()
	evs, err := s.readAll(ctx, from, limit, nil, keep)
	if err != nil {
		return nil, fmt.Errorf("segment: read all from %d: %w", from, err)
	}
	return evs, nil
}

// logCursor remembers where a sequential reader stopped in the log, so the
// next page starts there without an index look-up.
type logCursor struct {
	pos uint64 // the position of the record at segs[si], offset off
	si  int
	off int64
}

func (s *Store) readAll(ctx context.Context, from uint64, limit int, cur *logCursor, keep func([]byte) bool) ([]eventstore.RecordedEvent, error) {
	from = max(from, 1)
	s.mu.RLock()
	indexed, head, tail := s.indexed, s.head, s.tail
	s.mu.RUnlock()
	if from > head {
		return nil, nil
	}
	n := head - from + 1
	if limit > 0 && uint64(limit) < n {
		n = uint64(limit)
	}
	out := make([]eventstore.RecordedEvent, n)
	done := uint64(0)
	if from <= indexed {
		to := min(indexed, from+n-1)
		if err := s.readLog(ctx, out[:to-from+1], from, cur, keep); err != nil {
			return nil, err
		}
		done = to - from + 1
	}
	for i := done; i < n; i++ {
		e := &tail.at(int(from + i - indexed - 1)).ev
		if keep != nil && !keep(unsafe.Slice(unsafe.StringData(e.StreamID), len(e.StreamID))) {
			out[i] = stub(e.Position, e.RecordedAt)
			continue
		}
		out[i] = copyEvent(e)
	}
	return out, nil
}

// copyEvent returns a copy of a tail event whose buffers the caller owns.
func copyEvent(e *eventstore.RecordedEvent) eventstore.RecordedEvent {
	c := *e
	c.Data = bytes.Clone(e.Data)
	return c
}

// parallelReadMin is the smallest read split between goroutines.
const parallelReadMin = 8192

// readLog fills dst with the events at positions from..from+len(dst)-1,
// all in the log and the index. Large reads are split between up to
// GOMAXPROCS goroutines, each decoding its own range of positions.
func (s *Store) readLog(ctx context.Context, dst []eventstore.RecordedEvent, from uint64, cur *logCursor, keep func([]byte) bool) error {
	parts := min(runtime.GOMAXPROCS(0), len(dst)/(parallelReadMin/2))
	if cur != nil || parts < 2 || keep != nil {
		return s.readRange(ctx, dst, from, cur, keep) // keep is called in order, from one goroutine
	}
	errs := make([]error, parts)
	var wg sync.WaitGroup
	per := (len(dst) + parts - 1) / parts
	for i := range parts {
		lo, hi := i*per, min(len(dst), (i+1)*per)
		wg.Go(func() { errs[i] = s.readRange(ctx, dst[lo:hi], from+uint64(lo), nil, keep) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// readRange fills dst with the events from position from on, reading
// forward from the nearest sparse position entry (or from cur when it
// points at from, in which case it leaves cur after the last event); the
// events of streams keep refuses (keep nil: none) as stubs.
func (s *Store) readRange(ctx context.Context, dst []eventstore.RecordedEvent, from uint64, cur *logCursor, keep func([]byte) bool) error {
	if len(dst) == 0 {
		return nil
	}
	segs := *s.segs.Load()
	var sc *scanner
	p := from
	if cur != nil && cur.pos == from && cur.si < len(segs) {
		sc = newScanner(segs, cur.si, cur.off)
	} else {
		var off int64
		var ok bool
		err := s.idx.view(func(tx *bolt.Tx) error {
			p, off, ok = seekPosition(tx, from)
			return nil
		})
		if err != nil {
			return err
		}
		if !ok {
			p, off = 1, 0
		}
		si := segmentFor(segs, p)
		if si < 0 {
			return fmt.Errorf("%w: no segment holds position %d", eventstore.ErrCorrupt, p)
		}
		sc = newScanner(segs, si, off)
		// The first pread asks for about what the events take (a record
		// is some hundreds of bytes), with the sparse entry's lead.
		sc.chunk = min(scanBufSize, max(minChunk, (len(dst)+sparseEvery)*chunkPerEvent))
	}
	defer sc.release()
	var blk blocks
	to := from + uint64(len(dst)) - 1
	for ; p <= to; p++ {
		if p%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		payload, st, err := sc.nextRecord()
		if err != nil {
			return err
		}
		if st != frameOK {
			return fmt.Errorf("%w: segment %s offset %d: %v where position %d is due", eventstore.ErrCorrupt, segmentName(sc.seg().base), sc.offset(), st, p)
		}
		if got := peekPosition(payload); got != p {
			return fmt.Errorf("%w: segment %s offset %d: position %d where %d is due", eventstore.ErrCorrupt, segmentName(sc.seg().base), sc.recOff, got, p)
		}
		if p < from {
			continue
		}
		if keep != nil {
			if e, ok := peekStub(payload, &blk); ok && !keep(e.stream) {
				// dst is fresh from readAll (zero): a stub sets its two
				// fields, not the whole event.
				d := &dst[p-from]
				d.Position, d.RecordedAt = p, e.at
				continue
			}
		}
		if dst[p-from], err = decodeEvent(payload, &blk); err != nil {
			return fmt.Errorf("segment %s offset %d: %w", segmentName(sc.seg().base), sc.recOff, err)
		}
	}
	if cur != nil {
		*cur = logCursor{pos: p, si: sc.si, off: sc.offset()}
	}
	return nil
}

// minChunk and chunkPerEvent size a range read's first pread (see
// scanner.chunk).
const (
	minChunk      = 64 << 10
	chunkPerEvent = 1 << 10
)

var smallBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// readAt reads the single event at position pos, whose record starts at
// off in its segment (as the index says).
func (s *Store) readAt(pos uint64, off int64) (eventstore.RecordedEvent, error) {
	segs := *s.segs.Load()
	si := segmentFor(segs, pos)
	if si < 0 {
		return eventstore.RecordedEvent{}, fmt.Errorf("%w: no segment holds position %d", eventstore.ErrCorrupt, pos)
	}
	return readRecord(segs[si], off, pos)
}

// readRecord reads and decodes the record at off in sg, which must hold
// position pos: one small pread for most events.
func readRecord(sg *segment, off int64, pos uint64) (eventstore.RecordedEvent, error) {
	bp := smallBufs.Get().(*[]byte)
	defer smallBufs.Put(bp)
	buf := *bp
	bad := func(why any) (eventstore.RecordedEvent, error) {
		return eventstore.RecordedEvent{}, fmt.Errorf("%w: segment %s offset %d (position %d): %v", eventstore.ErrCorrupt, segmentName(sg.base), off, pos, why)
	}
	n, err := sg.f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return eventstore.RecordedEvent{}, fmt.Errorf("read segment %s: %w", segmentName(sg.base), err)
	}
	if n < frameHeaderSize {
		return bad("short read")
	}
	if l := int(binary.BigEndian.Uint32(buf)); l > 0 && l <= maxPayload && frameHeaderSize+l > n {
		buf = make([]byte, frameHeaderSize+l)
		if n, err = sg.f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return eventstore.RecordedEvent{}, fmt.Errorf("read segment %s: %w", segmentName(sg.base), err)
		}
	}
	payload, _, st := parseFrame(buf[:n], 0)
	if st != frameOK {
		return bad(st)
	}
	ev, err := decodeEvent(payload, nil)
	if err != nil {
		return bad(err)
	}
	if ev.Position != pos {
		return bad(fmt.Sprintf("holds position %d", ev.Position))
	}
	return ev, nil
}

// ReadStream implements eventstore.Store: the stream's indexed events are
// found in the index and read with one pread each, newer ones come from
// memory.
//
// Returns ErrInvalidStreamID, ErrClosed, the context's error, or an error
// wrapping eventstore.ErrCorrupt.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := eventstore.ValidateStreamID(stream); err != nil {
		return nil, fmt.Errorf("segment: read stream: %w", err)
	}
	if !s.enter(&s.ops) {
		return nil, eventstore.ErrClosed
	}
	defer s.ops.Done()
	evs, err := s.readStream(ctx, stream, from, dir, limit)
	if err != nil {
		return nil, fmt.Errorf("segment: read stream %s: %w", stream, err)
	}
	return evs, nil
}

func (s *Store) readStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	s.mu.RLock()
	indexed, tail, ps := s.indexed, s.tail, s.tailStreams[stream]
	head, headKnown := s.heads[stream]
	s.mu.RUnlock()
	if dir == eventstore.Forward && headKnown && (head < 0 || from > uint64(head)) {
		// Nothing after from: the published heads say so without an
		// index transaction (a command's load asks this of every stream
		// it has cached).
		return nil, nil
	}
	tailEv := func(i int) *eventstore.RecordedEvent { return &tail.at(int(ps[i] - indexed - 1)).ev }
	full := func(out []eventstore.RecordedEvent) bool { return limit > 0 && len(out) >= limit }
	// Revisions below tailFirst are in the index; tailFirst and above in
	// memory. With no tail events, the index has them all.
	tailFirst := uint64(1<<64 - 1)
	if len(ps) > 0 {
		tailFirst = tailEv(0).Revision
	}

	var out []eventstore.RecordedEvent
	var locs [][2]uint64
	readLocs := func() error {
		for i, l := range locs {
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			ev, err := s.readAt(l[0], int64(l[1]))
			if err != nil {
				return err
			}
			out = append(out, ev)
		}
		return nil
	}
	if dir == eventstore.Backward {
		for i := len(ps) - 1; i >= 0 && !full(out); i-- {
			if ev := tailEv(i); ev.Revision <= from {
				out = append(out, copyEvent(ev))
			}
		}
		if full(out) || tailFirst == 0 {
			return out, nil
		}
		upper := min(from, tailFirst-1) // tailFirst-1 is max uint64 - 1 without tail events
		left := 0
		if limit > 0 {
			left = limit - len(out)
		}
		err := s.idx.view(func(tx *bolt.Tx) error {
			var err error
			locs, err = streamLocs(tx, stream, 0, upper, true, left)
			return err
		})
		if err != nil {
			return nil, err
		}
		if err := readLocs(); err != nil {
			return nil, err
		}
		return out, nil
	}

	if from < tailFirst {
		learn := !headKnown && len(ps) == 0
		var learnt int64
		var indexedAt uint64
		err := s.idx.view(func(tx *bolt.Tx) error {
			var err error
			locs, err = streamLocs(tx, stream, from, tailFirst-1, false, limit)
			if err == nil && learn {
				// The stream's head as of this view, for the next read
				// from past it (a cached aggregate's check for newer
				// events) to answer without an index transaction.
				indexedAt = indexedLast(tx)
				learnt, err = lookupHead(tx, stream)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if learn {
			s.learnHead(stream, learnt, indexedAt)
		}
		if err := readLocs(); err != nil {
			return nil, err
		}
	}
	for i := range ps {
		if full(out) {
			break
		}
		if ev := tailEv(i); ev.Revision >= from {
			out = append(out, copyEvent(ev))
		}
	}
	return out, nil
}

// PositionAt implements eventstore.Store: a binary search of the tail, or
// the sparse time index and a forward read of at most sparseEvery-1
// records.
//
// Returns ErrClosed, the context's error, or an error wrapping
// eventstore.ErrCorrupt.
func (s *Store) PositionAt(ctx context.Context, t time.Time) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if !s.enter(&s.ops) {
		return 0, eventstore.ErrClosed
	}
	defer s.ops.Done()
	s.mu.RLock()
	tail := s.tail
	s.mu.RUnlock()
	if tail.len() > 0 && !t.Before(tail.at(0).ev.RecordedAt) {
		i := sort.Search(tail.len(), func(i int) bool { return tail.at(i).ev.RecordedAt.After(t) })
		return tail.at(i - 1).ev.Position, nil
	}
	var p0, last uint64
	var off int64
	var ok bool
	err := s.idx.view(func(tx *bolt.Tx) error {
		p0, off, ok = seekTime(tx, t)
		last = indexedLast(tx)
		return nil
	})
	if err != nil || !ok {
		return 0, err
	}
	segs := *s.segs.Load()
	si := segmentFor(segs, p0)
	if si < 0 {
		return 0, fmt.Errorf("segment: position at: %w: no segment holds position %d", eventstore.ErrCorrupt, p0)
	}
	sc := newScanner(segs, si, off)
	defer sc.release()
	found := p0
	for p := p0; p <= last && p < p0+sparseEvery; p++ {
		payload, st, err := sc.nextRecord()
		if err != nil {
			return 0, fmt.Errorf("segment: position at: %w", err)
		}
		if st != frameOK || peekPosition(payload) != p {
			return 0, fmt.Errorf("segment: position at: %w: segment %s: record for position %d", eventstore.ErrCorrupt, segmentName(sc.seg().base), p)
		}
		at, err := peekRecordedAt(payload)
		if err != nil {
			return 0, fmt.Errorf("segment: position at: %w", err)
		}
		if at.After(t) {
			break
		}
		found = p
	}
	return found, nil
}
