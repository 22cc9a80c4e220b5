package segment

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

func testRecorded(i int) eventstore.RecordedEvent {
	e := newEvent(i)
	e.Metadata.Reason = "why not"
	e.Metadata.CausationID = uuid.Must(uuid.NewV7())
	if i%2 == 0 {
		e.Metadata.EffectiveAt = time.Date(2025, 9, 1, 8, 0, 0, i, time.UTC)
	}
	return eventstore.RecordedEvent{
		EventData:  e,
		StreamID:   "stream-1",
		Revision:   uint64(i),
		Position:   uint64(i + 1),
		RecordedAt: time.Date(2026, 1, 2, 3, 4, 5, 6+i, time.UTC),
	}
}

func TestFrameRoundTrip(t *testing.T) {
	var buf []byte
	var want [][]byte
	for i := range 5 {
		ev := testRecorded(i)
		buf = appendRecord(buf, &ev)
		want = append(want, eventstore.EncodeCanonical(ev))
	}
	buf = append(buf, make([]byte, 64)...) // preallocated zeros
	off := int64(0)
	for i, w := range want {
		p, next, st := parseFrame(buf, off)
		if st != frameOK {
			t.Fatalf("record %d: status %v", i, st)
		}
		if !bytes.Equal(p, w) {
			t.Fatalf("record %d: payload is not the canonical encoding", i)
		}
		if got, want := peekPosition(p), uint64(i+1); got != want {
			t.Errorf("record %d: peekPosition=%d, want %d", i, got, want)
		}
		at, err := peekRecordedAt(p)
		if err != nil || !at.Equal(testRecorded(i).RecordedAt) {
			t.Errorf("record %d: peekRecordedAt=%v, %v", i, at, err)
		}
		off = next
	}
	if _, _, st := parseFrame(buf, off); st != frameEnd {
		t.Errorf("after the last record: status %v, want end", st)
	}
}

func TestFrameDamage(t *testing.T) {
	ev := testRecorded(1)
	rec := appendRecord(nil, &ev)
	cases := []struct {
		name string
		data func() []byte
		want frameStatus
	}{
		{"intact", func() []byte { return bytes.Clone(rec) }, frameOK},
		{"empty", func() []byte { return nil }, frameEnd},
		{"half a header", func() []byte { return bytes.Clone(rec[:5]) }, frameTorn},
		{"zeros shorter than a header", func() []byte { return make([]byte, 5) }, frameEnd},
		{"zero length", func() []byte { return make([]byte, 100) }, frameEnd},
		{"cut in the payload", func() []byte { return bytes.Clone(rec[:len(rec)-1]) }, frameTorn},
		{"length too large", func() []byte {
			b := bytes.Clone(rec)
			binary.BigEndian.PutUint32(b, maxPayload+1)
			return b
		}, frameTorn},
		{"flipped payload byte", func() []byte {
			b := bytes.Clone(rec)
			b[len(b)/2] ^= 0x40
			return b
		}, frameBadCRC},
		{"flipped checksum byte", func() []byte {
			b := bytes.Clone(rec)
			b[5] ^= 1
			return b
		}, frameBadCRC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, got := parseFrame(c.data(), 0); got != c.want {
				t.Errorf("status=%v, want %v", got, c.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{
		"2026-01-02T03:04:05.000000006Z",
		"0001-01-01T00:00:00.000000000Z",
		"9999-12-31T23:59:59.999999999Z",
		"2024-02-29T12:00:00.000000000Z",
		"2023-02-29T12:00:00.000000000Z", // not a leap year
		"2000-02-29T12:00:00.000000000Z",
		"1900-02-29T12:00:00.000000000Z",
		"2026-04-31T00:00:00.000000000Z",
		"2026-13-01T00:00:00.000000000Z",
		"2026-00-01T00:00:00.000000000Z",
		"2026-01-00T00:00:00.000000000Z",
		"2026-01-01T24:00:00.000000000Z",
		"2026-01-01T00:60:00.000000000Z",
		"2026-01-01T00:00:60.000000000Z",
		"2026-01-01T00:00:00.00000000Z",
		"2026-01-01T00:00:00.0000000000",
		"2026-01-01 00:00:00.000000000Z",
		"2026-01-01T00:00:00.00000000xZ",
		"+026-01-01T00:00:00.000000000Z",
	} {
		want, werr := time.Parse(eventstore.TimeLayout, s)
		got, ok := parseTime([]byte(s))
		if ok != (werr == nil) {
			t.Errorf("%s: parseTime ok=%v, time.Parse err=%v", s, ok, werr)
			continue
		}
		if ok && !reflect.DeepEqual(got, want) {
			t.Errorf("%s: parseTime=%v, time.Parse=%v", s, got, want)
		}
	}
}

// FuzzDecodeEvent checks that the fast decoder agrees with
// eventstore.DecodeCanonical on every input: same error-or-not, same
// event.
func FuzzDecodeEvent(f *testing.F) {
	for i := range 4 {
		f.Add(eventstore.EncodeCanonical(testRecorded(i)))
	}
	ev := testRecorded(7)
	ev.Metadata = eventstore.Metadata{}
	f.Add(eventstore.EncodeCanonical(ev))
	f.Fuzz(func(t *testing.T, p []byte) {
		want, werr := eventstore.DecodeCanonical(p)
		for _, blk := range []*blocks{nil, {}} {
			got, gerr := decodeEvent(p, blk)
			if (gerr == nil) != (werr == nil) {
				t.Fatalf("decodeEvent err=%v, DecodeCanonical err=%v", gerr, werr)
			}
			if werr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("decodeEvent=%+v\nDecodeCanonical=%+v", got, want)
			}
		}
	})
}

func TestBlocksCopiesAreIndependent(t *testing.T) {
	var blk blocks
	a := blk.bytes([]byte("first"))
	b := blk.bytes([]byte("second"))
	a = append(a, "!!!"...) // must not run into b
	if string(b) != "second" {
		t.Errorf("appending to one copy changed the next: %q", b)
	}
	s1 := blk.string([]byte("one"))
	for range blockSize / 8 {
		blk.string([]byte("filler--"))
	}
	if s1 != "one" {
		t.Errorf("string changed after its block filled: %q", s1)
	}
	_ = a
}
