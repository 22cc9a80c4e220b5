package segment

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// decodeEvent decodes a canonical payload exactly as
// eventstore.DecodeCanonical does (FuzzDecodeEvent checks this), but
// several times faster, which is most of what ReadAll costs: it parses the
// fixed time layout by hand and, given a block allocator, copies the text
// fields and the data into blocks shared by the events of one read rather
// than allocating for each. Anything it does not recognise goes to
// DecodeCanonical, which returns the error. blk may be nil.
func decodeEvent(p []byte, blk *blocks) (eventstore.RecordedEvent, error) {
	if e, ok := decodeFast(p, blk); ok {
		return e, nil
	}
	return eventstore.DecodeCanonical(p)
}

// blockSize is the size of the blocks a read carves event text and data
// from: a caller that keeps one event keeps at most two blocks alive.
const blockSize = 64 << 10

// blocks hands out copies of byte slices and strings from shared blocks.
// A data copy has its capacity cut to its length, so a caller appending to
// it reallocates instead of writing over the next event's data.
type blocks struct {
	data []byte          // unused tail of the current data block
	text strings.Builder // current text block; never grown past its capacity

	// The last recorded time parsed: the events of one group share it.
	lastTime    [len(eventstore.TimeLayout)]byte
	lastTimeVal time.Time
}

// recordedAt parses a recorded time, reusing the previous result when the
// text is the same.
func (b *blocks) recordedAt(p []byte) (time.Time, bool) {
	if b != nil && !b.lastTimeVal.IsZero() && bytes.Equal(p, b.lastTime[:]) {
		return b.lastTimeVal, true
	}
	t, ok := parseTime(p)
	if ok && b != nil {
		copy(b.lastTime[:], p)
		b.lastTimeVal = t
	}
	return t, ok
}

func (b *blocks) bytes(p []byte) []byte {
	// Empty stays empty but not nil, as eventstore.DecodeCanonical gives
	// it (a nil and an empty json.RawMessage marshal differently).
	if b == nil || len(p) == 0 || len(p) > blockSize/4 {
		return bytes.Clone(p)
	}
	if len(p) > len(b.data) {
		b.data = make([]byte, blockSize)
	}
	c := b.data[:len(p):len(p)]
	copy(c, p)
	b.data = b.data[len(p):]
	return c
}

func (b *blocks) string(p []byte) string {
	if b == nil || len(p) > blockSize/4 {
		return string(p)
	}
	if b.text.Cap()-b.text.Len() < len(p) {
		// A new block: strings already handed out keep the old one.
		b.text = strings.Builder{}
		b.text.Grow(blockSize)
	}
	start := b.text.Len()
	b.text.Write(p)
	return b.text.String()[start:]
}

func decodeFast(p []byte, blk *blocks) (e eventstore.RecordedEvent, ok bool) {
	// Offsets of the variable-length fields; the layout is in
	// eventstore.EncodeCanonical.
	off := 0
	need := func(n int) bool { return n >= 0 && off+n <= len(p) }
	u16 := func() (int, bool) {
		if !need(2) {
			return 0, false
		}
		n := int(binary.BigEndian.Uint16(p[off:]))
		off += 2
		return n, need(n)
	}
	if !need(1+8+8+16) || p[0] != eventstore.CanonicalVersion {
		return e, false
	}
	e.Position = binary.BigEndian.Uint64(p[1:])
	e.Revision = binary.BigEndian.Uint64(p[9:])
	copy(e.ID[:], p[17:33])
	off = 33
	var spans [5][2]int // stream, type, actor, role, reason: [start, end) in p
	n, good := u16()
	if !good {
		return e, false
	}
	spans[0] = [2]int{off, off + n}
	off += n
	if n, good = u16(); !good {
		return e, false
	}
	spans[1] = [2]int{off, off + n}
	off += n
	if !need(4) {
		return e, false
	}
	e.Schema = binary.BigEndian.Uint32(p[off:])
	off += 4
	if n, good = u16(); !good {
		return e, false
	}
	if e.RecordedAt, good = blk.recordedAt(p[off : off+n]); !good {
		return e, false
	}
	off += n
	for i := 2; i <= 3; i++ {
		if n, good = u16(); !good {
			return e, false
		}
		spans[i] = [2]int{off, off + n}
		off += n
	}
	if !need(4) {
		return e, false
	}
	n = int(binary.BigEndian.Uint32(p[off:]))
	off += 4
	if !need(n) {
		return e, false
	}
	spans[4] = [2]int{off, off + n}
	off += n
	if !need(32) {
		return e, false
	}
	copy(e.Metadata.CausationID[:], p[off:])
	copy(e.Metadata.CorrelationID[:], p[off+16:])
	off += 32
	if n, good = u16(); !good {
		return e, false
	}
	if n > 0 {
		// The zero time is encoded empty (as DecodeCanonical checks).
		if e.Metadata.EffectiveAt, good = parseTime(p[off : off+n]); !good || e.Metadata.EffectiveAt.IsZero() {
			return e, false
		}
	}
	off += n
	if !need(4) {
		return e, false
	}
	n = int(binary.BigEndian.Uint32(p[off:]))
	off += 4
	if !need(n) || off+n != len(p) {
		return e, false
	}
	e.Data = json.RawMessage(blk.bytes(p[off : off+n]))

	// One string for the text fields, which all lie before the data.
	text := blk.string(p[spans[0][0]:spans[4][1]])
	sub := func(i int) string {
		return text[spans[i][0]-spans[0][0] : spans[i][1]-spans[0][0]]
	}
	e.StreamID, e.Type = sub(0), sub(1)
	e.Metadata.ActorID, e.Metadata.ActorRole, e.Metadata.Reason = sub(2), sub(3), sub(4)
	return e, true
}

// parseTime parses b in eventstore.TimeLayout
// ("2006-01-02T15:04:05.000000000Z") with the checks time.Parse makes,
// reporting false for anything else.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) != len(eventstore.TimeLayout) || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[19] != '.' || b[29] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		v := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	nsec, ok7 := num(20, 29)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)%2)
}
