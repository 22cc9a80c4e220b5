package eventstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// CanonicalVersion is the first byte of every canonical encoding.
const CanonicalVersion = 1

// TimeLayout is the one text form of times in the canonical encoding:
// RFC 3339 in UTC with exactly nine fractional digits.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// Field limits checked by Validate.
const (
	maxTypeLength   = 128
	maxActorLength  = 200
	maxRoleLength   = 64
	maxReasonLength = 16 << 10
)

// FormatTime renders t in TimeLayout (after converting it to UTC).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// appendTime16 appends FormatTime(t) with its uint16 length, as
// appendString16 would, writing the digits itself for years 0 to 9999
// (time.Format parses its layout on every call, which was most of the
// cost of encoding an event).
func appendTime16(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return appendString16(b, FormatTime(t))
	}
	hour, minute, sec := t.Clock()
	b = binary.BigEndian.AppendUint16(b, uint16(len(TimeLayout)))
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits appends the n last decimal digits of v (v ≥ 0), with
// leading zeros.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, make([]byte, n)...)
	for i := len(b) - 1; i >= len(b)-n; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// EncodeCanonical returns the canonical encoding of a stored event: the
// byte-exact form that is hashed into the Merkle log, written to the
// embedded store's segments and exported. docs/events.md specifies it so a
// third party can re-create it:
//
//	u8   version (1)
//	u64  position
//	u64  revision
//	16B  event id
//	u16  len | stream id
//	u16  len | type
//	u32  schema
//	u16  len | recorded_at   (TimeLayout)
//	u16  len | actor_id
//	u16  len | actor_role
//	u32  len | reason
//	16B  causation id
//	16B  correlation id
//	u16  len | effective_at  (TimeLayout, or empty)
//	u32  len | data          (JSON, as appended)
//
// Integers are unsigned big-endian; len is the byte length of the UTF-8
// string or data that follows it.
func EncodeCanonical(e RecordedEvent) []byte {
	return AppendCanonical(make([]byte, 0, canonicalSize(e)), e)
}

// AppendCanonical appends the canonical encoding of e to b.
func AppendCanonical(b []byte, e RecordedEvent) []byte {
	b = append(b, CanonicalVersion)
	b = binary.BigEndian.AppendUint64(b, e.Position)
	b = binary.BigEndian.AppendUint64(b, e.Revision)
	b = append(b, e.ID[:]...)
	b = appendString16(b, e.StreamID)
	b = appendString16(b, e.Type)
	b = binary.BigEndian.AppendUint32(b, e.Schema)
	b = appendTime16(b, e.RecordedAt)
	b = appendString16(b, e.Metadata.ActorID)
	b = appendString16(b, e.Metadata.ActorRole)
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Metadata.Reason)))
	b = append(b, e.Metadata.Reason...)
	b = append(b, e.Metadata.CausationID[:]...)
	b = append(b, e.Metadata.CorrelationID[:]...)
	if e.Metadata.EffectiveAt.IsZero() {
		b = appendString16(b, "")
	} else {
		b = appendTime16(b, e.Metadata.EffectiveAt)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Data)))
	b = append(b, e.Data...)
	return b
}

func canonicalSize(e RecordedEvent) int {
	return 1 + 8 + 8 + 16 + 2 + len(e.StreamID) + 2 + len(e.Type) + 4 + 2 + len(TimeLayout) +
		2 + len(e.Metadata.ActorID) + 2 + len(e.Metadata.ActorRole) + 4 + len(e.Metadata.Reason) +
		16 + 16 + 2 + len(TimeLayout) + 4 + len(e.Data)
}

func appendString16(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// DecodeCanonical parses a canonical encoding. It is strict: trailing
// bytes, an unknown version or a bad time are errors wrapping ErrCorrupt.
// DecodeCanonical(EncodeCanonical(e)) equals e for every valid e.
func DecodeCanonical(b []byte) (RecordedEvent, error) {
	d := decoder{b: b}
	var e RecordedEvent
	if v := d.u8(); v != CanonicalVersion && d.err == nil {
		return e, fmt.Errorf("%w: canonical version %d", ErrCorrupt, v)
	}
	e.Position = d.u64()
	e.Revision = d.u64()
	e.ID = d.uuid()
	e.StreamID = d.str(d.u16len())
	e.Type = d.str(d.u16len())
	e.Schema = d.u32()
	e.RecordedAt = d.time(d.str(d.u16len()), false)
	e.Metadata.ActorID = d.str(d.u16len())
	e.Metadata.ActorRole = d.str(d.u16len())
	e.Metadata.Reason = d.str(int(d.u32()))
	e.Metadata.CausationID = d.uuid()
	e.Metadata.CorrelationID = d.uuid()
	e.Metadata.EffectiveAt = d.time(d.str(d.u16len()), true)
	n := int(d.u32())
	if data := d.bytes(n); data != nil {
		e.Data = json.RawMessage(bytes.Clone(data))
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.b))
	}
	if d.err != nil {
		return RecordedEvent{}, d.err
	}
	return e, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("%w: canonical encoding truncated", ErrCorrupt)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() uint8 {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u16len() int {
	if v := d.bytes(2); v != nil {
		return int(binary.BigEndian.Uint16(v))
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.bytes(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if v := d.bytes(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) uuid() uuid.UUID {
	var id uuid.UUID
	if v := d.bytes(16); v != nil {
		copy(id[:], v)
	}
	return id
}

func (d *decoder) str(n int) string { return string(d.bytes(n)) }

func (d *decoder) time(s string, optional bool) time.Time {
	if d.err != nil || (optional && s == "") {
		return time.Time{}
	}
	t, err := time.Parse(TimeLayout, s)
	switch {
	case err != nil:
		d.err = fmt.Errorf("%w: time %q: %v", ErrCorrupt, s, err)
	case FormatTime(t) != s:
		// time.Parse also takes a comma before the fraction: one event,
		// one encoding.
		d.err = fmt.Errorf("%w: time %q is not in its canonical form %q", ErrCorrupt, s, FormatTime(t))
	case optional && t.IsZero():
		// A missing optional time is encoded empty, never as the zero time.
		d.err = fmt.Errorf("%w: time %q stands for no time but is not empty", ErrCorrupt, s)
	}
	return t
}
