package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// scanBufSize is how much a scanner reads per pread: large enough that
// sequential reads cost about one system call per thousand small events.
const scanBufSize = 1 << 20

var scanBufs = sync.Pool{New: func() any { b := make([]byte, scanBufSize); return &b }}

// scanner reads frames in order from a segment with large preads, and can
// move on to the following segment. It is used by recovery and by every
// sequential read; it holds no lock and never writes.
type scanner struct {
	segs    []*segment
	si      int    // current segment
	fileOff int64  // offset in the segment file of buf[0]
	buf     []byte // holds buf[r:w] unread bytes of the file
	r, w    int
	eof     bool  // the file has no bytes after buf[w]
	recOff  int64 // offset of the frame last returned by next
	pooled  *[]byte
	// chunk, when set, is how much the next pread asks for (at least what
	// the frame needs), doubling with each read up to the buffer: a read of
	// a few hundred events does not pread a whole megabyte.
	chunk int
}

func newScanner(segs []*segment, si int, off int64) *scanner {
	p := scanBufs.Get().(*[]byte)
	return &scanner{segs: segs, si: si, fileOff: off, buf: *p, pooled: p}
}

// release returns the scanner's buffer to the pool; the scanner and any
// payload it returned must not be used afterwards.
func (sc *scanner) release() {
	if sc.pooled != nil && cap(sc.buf) == scanBufSize {
		*sc.pooled = sc.buf[:scanBufSize]
		scanBufs.Put(sc.pooled)
	}
	sc.pooled, sc.buf = nil, nil
}

func (sc *scanner) seg() *segment { return sc.segs[sc.si] }

// offset is the file offset of the next unread frame.
func (sc *scanner) offset() int64 { return sc.fileOff + int64(sc.r) }

// fill makes at least need unread bytes available unless the file ends
// first.
func (sc *scanner) fill(need int) error {
	if sc.w-sc.r >= need || sc.eof {
		return nil
	}
	if need > len(sc.buf) {
		nb := make([]byte, max(need, 2*len(sc.buf)))
		copy(nb, sc.buf[sc.r:sc.w])
		sc.buf = nb
	} else {
		copy(sc.buf, sc.buf[sc.r:sc.w])
	}
	sc.fileOff += int64(sc.r)
	sc.w -= sc.r
	sc.r = 0
	for sc.w < need && !sc.eof {
		end := len(sc.buf)
		if sc.chunk > 0 {
			end = min(end, max(need, sc.w+sc.chunk))
			sc.chunk = min(2*sc.chunk, len(sc.buf))
		}
		n, err := sc.seg().f.ReadAt(sc.buf[sc.w:end], sc.fileOff+int64(sc.w))
		sc.w += n
		if errors.Is(err, io.EOF) {
			sc.eof = true
		} else if err != nil {
			return fmt.Errorf("read segment %s at %d: %w", segmentName(sc.seg().base), sc.fileOff+int64(sc.w), err)
		}
	}
	return nil
}

// next returns the payload of the next frame in the current segment (valid
// until the following call) or the status that stops the scan there. It
// does not move past a bad frame.
func (sc *scanner) next() ([]byte, frameStatus, error) {
	if err := sc.fill(frameHeaderSize); err != nil {
		return nil, frameEnd, err
	}
	if sc.w-sc.r < frameHeaderSize {
		_, _, st := parseFrame(sc.buf[sc.r:sc.w], 0)
		return nil, st, nil
	}
	n := int(binary.BigEndian.Uint32(sc.buf[sc.r:]))
	if n == 0 {
		return nil, frameEnd, nil
	}
	if n > maxPayload {
		return nil, frameTorn, nil
	}
	if err := sc.fill(frameHeaderSize + n); err != nil {
		return nil, frameEnd, err
	}
	payload, _, st := parseFrame(sc.buf[sc.r:sc.w], 0)
	if st != frameOK {
		return nil, st, nil
	}
	sc.recOff = sc.fileOff + int64(sc.r)
	sc.r += frameHeaderSize + n
	return payload, frameOK, nil
}

// advance moves to the start of the next segment. It reports false if
// there is none.
func (sc *scanner) advance() bool {
	if sc.si+1 >= len(sc.segs) {
		return false
	}
	sc.si++
	sc.fileOff, sc.r, sc.w, sc.eof = 0, 0, 0, false
	return true
}

// nextRecord is next that moves on to the following segment at the end of
// one. Readers use it for positions known to be committed, so any status
// but frameOK (other than the end of the last segment) is corruption.
func (sc *scanner) nextRecord() ([]byte, frameStatus, error) {
	for {
		p, st, err := sc.next()
		if err == nil && st == frameEnd && sc.advance() {
			continue
		}
		return p, st, err
	}
}
