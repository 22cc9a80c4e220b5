package segment

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/concord-ledger/concord/eventstore"
)

// Recovery rules (docs/storage.md has the why):
//
//  1. The index says which position it covers last and where that record
//     starts. If that record is not there, the index is rebuilt from the
//     log; if the log then ends before that position, acknowledged events
//     are missing and Open fails with ErrCorrupt.
//  2. The log is scanned from there. Each record must frame correctly,
//     match its CRC, decode, and carry the next position.
//  3. In any segment but the last, the first record that fails is
//     corruption (a segment is fdatasync'ed whole before the next one is
//     written): ErrCorrupt. So is a segment whose name does not continue
//     the positions.
//  4. In the last segment, the first record that fails (or the zero length
//     that ends the data) is the end of the log. Only the one write in
//     flight at a crash can have left bytes after it, and a write is at
//     most maxAppendBytes long, so a non-zero byte further than that (in
//     the tailBand after the window) is damage to acknowledged data:
//     ErrCorrupt. Within that window, a complete record (framed, its CRC
//     matching, decoding to a later position) after the failing one means
//     the failing one is not the end of the log but damage in its middle:
//     a torn write leaves a prefix of its bytes, not a hole with records
//     after it. Open then fails with a *DamagedTailError naming the
//     position and the records that follow, and cuts nothing, unless
//     Options.CutDamagedTail asks for the cut (concord repair --cut).
//     Otherwise the non-zero bytes of the window are a torn write: they
//     are zeroed and the segment synced, so a later recovery can never
//     mistake them for records.

// DamagedTailError is returned (wrapped) by Open when the last segment
// holds complete records after a damaged one, or data beyond the reach of
// one unfinished write: cutting the log at the damage would drop records
// that may have been acknowledged, so Open refuses and changes nothing.
// It matches eventstore.ErrCorrupt with errors.Is. Opening with
// Options.CutDamagedTail cuts the log there instead.
type DamagedTailError struct {
	Segment  string // file name of the segment
	Offset   int64  // where the damaged record starts in it
	Position uint64 // the position that was due there: the log would end at Position-1
	Reason   string // what is wrong with the record at Offset
	// Following is the first and last position of the complete records
	// found after the damaged one (zero when none).
	Following [2]uint64
	// Beyond is the offset of data found beyond what one unfinished write
	// can reach, or -1.
	Beyond int64
	// Hint is the command that cuts the log (Options.RepairHint).
	Hint string
}

func (e *DamagedTailError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: segment %s: the record at offset %d (position %d) is damaged (%s)", eventstore.ErrCorrupt, e.Segment, e.Offset, e.Position, e.Reason)
	if e.Following[0] > 0 {
		fmt.Fprintf(&b, ", yet complete records follow it (positions %d..%d)", e.Following[0], e.Following[1])
	}
	if e.Beyond >= 0 {
		fmt.Fprintf(&b, ", and the segment holds data at offset %d, beyond what one unfinished write can leave", e.Beyond)
	}
	fmt.Fprintf(&b, ": this is damage to acknowledged data, not a torn write, so nothing was cut. Restore from a backup, or cut the log after position %d, DROPPING everything from position %d on", e.Position-1, e.Position)
	if e.Hint != "" {
		fmt.Fprintf(&b, ", with: %s", e.Hint)
	} else {
		b.WriteString(" (open with CutDamagedTail, as concord repair --cut does)")
	}
	return b.String()
}

// Is makes a DamagedTailError match eventstore.ErrCorrupt.
func (e *DamagedTailError) Is(target error) bool { return target == eventstore.ErrCorrupt }

// recoverBatch is how many records recovery indexes per bbolt transaction.
const recoverBatch = 1 << 16

func (s *Store) recover(ctx context.Context) error {
	idx, m, err := openIndex(filepath.Join(s.dir, indexFile), s.log)
	if err != nil {
		return err
	}
	s.idx = idx
	// bbolt creates the index with the mode index.go asks for; a new or
	// rebuilt one is tightened like every other file.
	if err := tighten(s.dir); err != nil {
		return err
	}

	bases, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	segs := make([]*segment, 0, len(bases))
	s.segs.Store(&segs)
	for _, b := range bases {
		sg, err := openSegment(s.dir, b)
		if err != nil {
			return err
		}
		segs = append(segs, sg)
		s.segs.Store(&segs)
	}

	next := uint64(1)
	var sc *scanner
	mustReach := uint64(0)
	if m.last > 0 {
		si := segmentFor(segs, m.last)
		var ev eventstore.RecordedEvent
		err := errIndexUnusable
		if si >= 0 {
			ev, err = readRecord(segs[si], m.lastOff, m.last)
		}
		if err != nil {
			s.log.Warn("segment store: index does not match the log, rebuilding it from the log",
				"dir", s.dir, "indexed", m.last, "err", err)
			if err := s.resetIndex(); err != nil {
				return err
			}
			mustReach = m.last
		} else {
			sc = newScanner(segs, si, m.lastOff)
			if _, st, err := sc.next(); err != nil || st != frameOK {
				sc.release()
				return fmt.Errorf("reread indexed record %d: %v %w", m.last, st, err)
			}
			next = m.last + 1
			s.lastTime = ev.RecordedAt
		}
	}
	if sc == nil && len(segs) > 0 {
		if segs[0].base != 1 {
			return fmt.Errorf("%w: first segment %s does not start at position 1", eventstore.ErrCorrupt, segmentName(segs[0].base))
		}
		sc = newScanner(segs, 0, 0)
	}

	var batch []indexEntry
	flush := func() error {
		if err := s.idx.put(batch); err != nil {
			return fmt.Errorf("index recovered events: %w", err)
		}
		clear(batch)
		batch = batch[:0]
		return nil
	}
	for sc != nil {
		if next%4096 == 0 {
			if err := ctx.Err(); err != nil {
				sc.release()
				return err
			}
		}
		p, st, err := sc.next()
		if err != nil {
			sc.release()
			return err
		}
		bad := sc.offset()
		why := st.String()
		if st == frameOK {
			ev, err := decodeEvent(p, nil)
			switch {
			case err != nil:
				why = err.Error()
			case ev.Position != next:
				why = fmt.Sprintf("position %d where %d was due", ev.Position, next)
			default:
				batch = append(batch, indexEntry{ev: &ev, off: sc.recOff})
				s.lastTime = ev.RecordedAt
				next++
				if len(batch) == recoverBatch {
					if err := flush(); err != nil {
						sc.release()
						return err
					}
				}
				continue
			}
			bad = sc.recOff
		}
		seg := sc.seg()
		if sc.si < len(segs)-1 {
			if st != frameEnd {
				sc.release()
				return fmt.Errorf("%w: segment %s at offset %d: %s, and later segments follow", eventstore.ErrCorrupt, segmentName(seg.base), bad, why)
			}
			sc.advance()
			if b := sc.seg().base; b != next {
				sc.release()
				return fmt.Errorf("%w: segment %s follows a segment ending at position %d", eventstore.ErrCorrupt, segmentName(b), next-1)
			}
			continue
		}
		sc.release()
		if err := s.cutTail(seg, bad, next, st == frameEnd, why); err != nil {
			return err
		}
		s.wseg, s.woff, s.wzeroed = seg, bad, bad
		break
	}
	if err := flush(); err != nil {
		return err
	}
	head := next - 1
	if m.last == 0 && head > 0 {
		s.log.Warn("segment store: the index covered nothing; rebuilding it from the log", "dir", s.dir, "events", head)
	}
	if head < mustReach {
		return fmt.Errorf("%w: the log ends at position %d but the index had covered %d: acknowledged events are missing", eventstore.ErrCorrupt, head, mustReach)
	}
	if s.wseg == nil {
		sg, err := createSegment(s.dir, 1, s.opts.SegmentSize)
		if err != nil {
			return err
		}
		segs = append(segs, sg)
		s.segs.Store(&segs)
		s.wseg, s.woff = sg, 0
	}
	if s.wcap, err = s.wseg.size(); err != nil {
		return err
	}
	s.head, s.indexed = head, head
	return nil
}

// resetIndex replaces the index with an empty one.
func (s *Store) resetIndex() error {
	path := s.idx.path
	if err := s.idx.db.Close(); err != nil {
		return fmt.Errorf("close index: %w", err)
	}
	s.idx = nil
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove index: %w", err)
	}
	idx, _, err := openIndex(path, s.log)
	if err != nil {
		return err
	}
	s.idx = idx
	return tighten(s.dir)
}

// tailBand is how much of the last segment recovery checks beyond the
// window one unfinished write can reach (rule 4). Acknowledged records
// that a damaged spot cut off from the rest of the log would lie right
// there, so checking a band rather than the whole rest of a 256 MiB
// segment finds them, at a bounded cost on every Open.
const tailBand = 1 << 20

// cutTail makes off, where position next was due, the end of the last
// segment's data (rule 4).
func (s *Store) cutTail(sg *segment, off int64, next uint64, clean bool, why string) error {
	size, err := sg.size()
	if err != nil {
		return err
	}
	window := min(size, off+maxAppendBytes)
	beyond, err := lastNonZero(sg.f, window, min(size, window+tailBand))
	if err != nil {
		return fmt.Errorf("check tail of %s: %w", segmentName(sg.base), err)
	}
	last, err := lastNonZero(sg.f, off, window)
	if err != nil {
		return fmt.Errorf("check tail of %s: %w", segmentName(sg.base), err)
	}
	var after []uint64
	if last > off {
		if after, err = recordsAfter(sg, off, last+1, next); err != nil {
			return fmt.Errorf("check tail of %s: %w", segmentName(sg.base), err)
		}
	}
	if (beyond >= 0 || len(after) > 0) && !s.opts.CutDamagedTail {
		e := &DamagedTailError{Segment: segmentName(sg.base), Offset: off, Position: next, Reason: why, Beyond: beyond, Hint: s.opts.RepairHint}
		if len(after) > 0 {
			e.Following = [2]uint64{after[0], after[len(after)-1]}
		}
		return e
	}
	if beyond >= 0 {
		last = beyond
	}
	if last < 0 {
		if !clean {
			s.log.Warn("segment store: cut torn tail", "segment", segmentName(sg.base), "offset", off, "reason", why)
		}
		return nil
	}
	if len(after) > 0 || beyond >= 0 {
		s.log.Error("segment store: CUT DAMAGED LOG as asked (CutDamagedTail): records after the damaged one are dropped",
			"segment", segmentName(sg.base), "offset", off, "position", next, "reason", why, "dropped_records", len(after), "bytes", last+1-off)
	} else {
		s.log.Warn("segment store: cut torn tail", "segment", segmentName(sg.base), "offset", off, "reason", why, "bytes", last+1-off)
	}
	zeros := make([]byte, min(last+1-off, 1<<20))
	for at := off; at <= last; {
		n := min(int64(len(zeros)), last+1-at)
		if _, err := sg.f.WriteAt(zeros[:n], at); err != nil {
			return fmt.Errorf("zero torn tail of %s: %w", segmentName(sg.base), err)
		}
		at += n
	}
	if err := fdatasync(sg.f); err != nil {
		return fmt.Errorf("sync %s: %w", segmentName(sg.base), err)
	}
	return nil
}

// recordsAfter returns the positions of the complete records found in
// sg's bytes [from, to): frames whose length fits, whose CRC matches and
// whose payload decodes to a position from next on (the record at from,
// which failed, counts only if it is whole and names a later position: the
// ones before it are missing). It looks at every offset, since the bytes
// after a damaged record need not start where that record claimed to end.
// After the first record found it follows the frames from there.
func recordsAfter(sg *segment, from, to int64, next uint64) ([]uint64, error) {
	buf := make([]byte, to-from)
	n, err := sg.f.ReadAt(buf, from)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	buf = buf[:n]
	var out []uint64
	for i := int64(0); i+frameHeaderSize < int64(len(buf)); i++ {
		l := int64(binary.BigEndian.Uint32(buf[i:]))
		if l == 0 || l > maxPayload || i+frameHeaderSize+l > int64(len(buf)) {
			continue
		}
		// Cheap filters before the checksum: the canonical version byte
		// and a plausible position.
		p := buf[i+frameHeaderSize : i+frameHeaderSize+l]
		if p[0] != 1 || peekPosition(p) < next || peekPosition(p) > next+uint64(len(buf)) {
			continue
		}
		for {
			payload, end, st := parseFrame(buf, i)
			if st != frameOK {
				break
			}
			ev, err := decodeEvent(payload, nil)
			if err != nil || ev.Position < next {
				break
			}
			out = append(out, ev.Position)
			i = end
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return out, nil
}

// lastNonZero returns the offset of the last non-zero byte of f in
// [from, to), or -1. It skips holes and unwritten extents where the file
// system can say where they are.
func lastNonZero(f *os.File, from, to int64) (int64, error) {
	buf := make([]byte, 1<<20)
	zero := make([]byte, len(buf))
	last := int64(-1)
	for at := from; at < to; {
		d, ok := nextData(f, at)
		if !ok || d >= to {
			break
		}
		at = max(at, d)
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-at)], at)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return -1, err
		}
		chunk := buf[:n]
		if !bytes.Equal(chunk, zero[:n]) {
			for i := n - 1; i >= 0; i-- {
				if chunk[i] != 0 {
					last = at + int64(i)
					break
				}
			}
		}
		at += int64(n)
	}
	return last, nil
}
