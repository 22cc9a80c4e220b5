package segment

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// A record in a segment file is
//
//	u32 length   of the payload, big-endian; 0 marks the end of written data
//	u32 crc      CRC-32C (Castagnoli) of the payload, big-endian
//	payload      eventstore.EncodeCanonical of the recorded event
//
// Records follow each other with no padding. The payload carries the
// event's position, so a segment can be checked for density on its own.
const frameHeaderSize = 8

// maxAppendBytes bounds the framed size of one Append and of one group
// commit. It also bounds how much unacknowledged data a crash can leave
// after the end of the log, which recovery relies on (see recover.go).
const maxAppendBytes = 16 << 20

// maxPayload is the largest payload a frame may announce. Anything larger
// is a torn or corrupt length.
const maxPayload = maxAppendBytes - frameHeaderSize

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends the framed canonical encoding of e to b.
func appendRecord(b []byte, e *eventstore.RecordedEvent) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = eventstore.AppendCanonical(b, *e)
	payload := b[start+frameHeaderSize:]
	binary.BigEndian.PutUint32(b[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[start+4:], crc32.Checksum(payload, castagnoli))
	return b
}

// frameStatus says what parseFrame found at an offset.
type frameStatus int

const (
	frameOK     frameStatus = iota
	frameEnd                // zero length, or no room for a header: end of data
	frameTorn               // length runs past the file or past maxPayload
	frameBadCRC             // checksum mismatch
)

// parseFrame looks at the frame starting at off in data. On frameOK it
// returns the payload (aliasing data) and the offset of the next frame.
func parseFrame(data []byte, off int64) (payload []byte, next int64, st frameStatus) {
	if off+frameHeaderSize > int64(len(data)) {
		for _, b := range data[off:] {
			if b != 0 {
				return nil, off, frameTorn // part of a header
			}
		}
		return nil, off, frameEnd
	}
	n := int64(binary.BigEndian.Uint32(data[off:]))
	if n == 0 {
		return nil, off, frameEnd
	}
	if n > maxPayload || off+frameHeaderSize+n > int64(len(data)) {
		return nil, off, frameTorn
	}
	sum := binary.BigEndian.Uint32(data[off+4:])
	payload = data[off+frameHeaderSize : off+frameHeaderSize+n]
	if crc32.Checksum(payload, castagnoli) != sum {
		return nil, off, frameBadCRC
	}
	return payload, off + frameHeaderSize + n, frameOK
}

func (s frameStatus) String() string {
	switch s {
	case frameOK:
		return "ok"
	case frameEnd:
		return "end of data"
	case frameTorn:
		return "torn length"
	case frameBadCRC:
		return "checksum mismatch"
	}
	return fmt.Sprintf("frameStatus(%d)", int(s))
}

// Offsets of fields in a canonical payload (see eventstore.EncodeCanonical).
const (
	payloadPositionOff = 1
	payloadStreamLen   = 1 + 8 + 8 + 16
)

// peekPosition returns the position in a canonical payload without decoding
// the rest. It returns 0 if the payload is too short.
func peekPosition(p []byte) uint64 {
	if len(p) < payloadPositionOff+8 {
		return 0
	}
	return binary.BigEndian.Uint64(p[payloadPositionOff:])
}

// peekRecordedAt returns the recorded-at time of a canonical payload
// without decoding the rest.
func peekRecordedAt(p []byte) (time.Time, error) {
	off := payloadStreamLen
	skip16 := func() bool {
		if off+2 > len(p) {
			return false
		}
		off += 2 + int(binary.BigEndian.Uint16(p[off:]))
		return off <= len(p)
	}
	if !skip16() || !skip16() { // stream id, type
		return time.Time{}, fmt.Errorf("%w: canonical encoding truncated", eventstore.ErrCorrupt)
	}
	off += 4 // schema
	if off+2 > len(p) {
		return time.Time{}, fmt.Errorf("%w: canonical encoding truncated", eventstore.ErrCorrupt)
	}
	n := int(binary.BigEndian.Uint16(p[off:]))
	off += 2
	if off+n > len(p) {
		return time.Time{}, fmt.Errorf("%w: canonical encoding truncated", eventstore.ErrCorrupt)
	}
	t, err := time.Parse(eventstore.TimeLayout, string(p[off:off+n]))
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: recorded_at %q: %v", eventstore.ErrCorrupt, p[off:off+n], err)
	}
	return t, nil
}

// stubFields are what a stub of a canonical payload holds (see peekStub):
// the stream id's bytes (aliasing the payload) and the recorded time.
type stubFields struct {
	stream []byte
	at     time.Time
}

// peekStub reads the stream id and the recorded time of a canonical
// payload without decoding the rest; false if they cannot be read (then
// decoding the payload reports why).
func peekStub(p []byte, blk *blocks) (stubFields, bool) {
	off := payloadStreamLen
	field := func() ([]byte, bool) {
		if off+2 > len(p) {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(p[off:]))
		off += 2
		if off+n > len(p) {
			return nil, false
		}
		off += n
		return p[off-n : off], true
	}
	stream, ok := field()
	if !ok {
		return stubFields{}, false
	}
	if _, ok := field(); !ok { // type
		return stubFields{}, false
	}
	off += 4 // schema
	at, ok := field()
	if !ok {
		return stubFields{}, false
	}
	t, ok := blk.recordedAt(at)
	if !ok {
		return stubFields{}, false
	}
	return stubFields{stream: stream, at: t}, true
}

// stub is the event at position pos, recorded at at, with nothing else
// of it decoded.
func stub(pos uint64, at time.Time) eventstore.RecordedEvent {
	return eventstore.RecordedEvent{Position: pos, RecordedAt: at}
}
