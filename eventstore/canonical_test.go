package eventstore

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

func sampleEvent() RecordedEvent {
	return RecordedEvent{
		EventData: EventData{
			ID:     uuid.MustParse("0192f3a0-0000-7000-8000-000000000001"),
			Type:   "MemberJoined",
			Schema: 2,
			Data:   []byte(`{"community":"c-1","person":"p-1"}`),
			Metadata: Metadata{
				ActorID:       "p-9",
				ActorRole:     "director",
				Reason:        "new year",
				CausationID:   uuid.MustParse("0192f3a0-0000-7000-8000-000000000002"),
				CorrelationID: uuid.MustParse("0192f3a0-0000-7000-8000-000000000003"),
				EffectiveAt:   time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC),
			},
		},
		StreamID:   "community-c-1",
		Revision:   3,
		Position:   42,
		RecordedAt: time.Date(2025, 10, 2, 8, 30, 0, 120, time.UTC),
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	for _, e := range []RecordedEvent{sampleEvent(), func() RecordedEvent {
		e := sampleEvent()
		e.Metadata = Metadata{}
		return e
	}()} {
		b := EncodeCanonical(e)
		got, err := DecodeCanonical(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
		}
		if !bytes.Equal(EncodeCanonical(got), b) {
			t.Fatal("re-encoding differs")
		}
	}
}

// TestCanonicalKnownAnswer pins the byte layout documented in
// docs/events.md; a change here is a change to every hash in every ledger.
func TestCanonicalKnownAnswer(t *testing.T) {
	e := sampleEvent()
	e.Metadata.EffectiveAt = time.Time{}
	e.Metadata.Reason = ""
	e.Data = []byte(`{}`)
	got := hex.EncodeToString(EncodeCanonical(e))
	want := "01" + "000000000000002a" + "0000000000000003" + "0192f3a0000070008000000000000001" +
		"000d" + hex.EncodeToString([]byte("community-c-1")) +
		"000c" + hex.EncodeToString([]byte("MemberJoined")) +
		"00000002" +
		"001e" + hex.EncodeToString([]byte("2025-10-02T08:30:00.000000120Z")) +
		"0003" + hex.EncodeToString([]byte("p-9")) +
		"0008" + hex.EncodeToString([]byte("director")) +
		"00000000" +
		"0192f3a0000070008000000000000002" + "0192f3a0000070008000000000000003" +
		"0000" +
		"00000002" + hex.EncodeToString([]byte("{}"))
	if got != want {
		t.Fatalf("canonical bytes\n got %s\nwant %s", got, want)
	}
}

func TestDecodeCanonicalRejectsDamage(t *testing.T) {
	b := EncodeCanonical(sampleEvent())
	for _, bad := range [][]byte{nil, b[:len(b)-1], append(bytes.Clone(b), 0), append([]byte{9}, b[1:]...)} {
		if _, err := DecodeCanonical(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("len %d: err=%v, want ErrCorrupt", len(bad), err)
		}
	}
}

// TestDecodeCanonicalRejectsOtherSpellings checks that an event has one
// encoding: a recorded time with a comma before its fraction (which
// time.Parse takes) and an effective time spelled as the zero time
// (encoded empty) are refused, not decoded to bytes that re-encode
// differently.
func TestDecodeCanonicalRejectsOtherSpellings(t *testing.T) {
	e := sampleEvent()
	e.Metadata.EffectiveAt = time.Time{}
	b := EncodeCanonical(e)
	rec := []byte(FormatTime(e.RecordedAt))
	comma := bytes.Replace(b, rec, bytes.Replace(rec, []byte("."), []byte(","), 1), 1)
	zero := FormatTime(time.Time{})
	// The empty effective time is the "0000" before the data's length.
	i := len(b) - 4 - len(e.Data) - 2
	if got := b[i : i+2]; !bytes.Equal(got, []byte{0, 0}) {
		t.Fatalf("effective time length %x, want 0000", got)
	}
	spelled := append(append(append(bytes.Clone(b[:i]), 0, byte(len(zero))), zero...), b[i+2:]...)
	for name, bad := range map[string][]byte{"comma": comma, "zero effective time": spelled} {
		if _, err := DecodeCanonical(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err=%v, want ErrCorrupt", name, err)
		}
	}
	if _, err := DecodeCanonical(b); err != nil {
		t.Fatalf("the canonical spelling: %v", err)
	}
}

func FuzzDecodeCanonical(f *testing.F) {
	f.Add(EncodeCanonical(sampleEvent()))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeCanonical(b)
		if err != nil {
			return
		}
		if !bytes.Equal(EncodeCanonical(e), b) {
			t.Fatalf("decoded event re-encodes differently")
		}
	})
}

func TestValidateAppend(t *testing.T) {
	ok := EventData{ID: uuid.New(), Type: "T", Schema: 1, Data: []byte(`{}`)}
	big := ok
	big.Data = []byte(`"` + string(bytes.Repeat([]byte("a"), 2000)) + `"`)
	noID := ok
	noID.ID = uuid.Nil
	badJSON := ok
	badJSON.Data = []byte(`{`)
	cases := []struct {
		name   string
		stream string
		events []EventData
		max    int
		want   error
	}{
		{"ok", "s-1", []EventData{ok}, 0, nil},
		{"empty stream", "", []EventData{ok}, 0, ErrInvalidStreamID},
		{"system stream", "$all", []EventData{ok}, 0, ErrInvalidStreamID},
		{"space", "a b", []EventData{ok}, 0, ErrInvalidStreamID},
		{"long", string(bytes.Repeat([]byte("a"), 201)), []EventData{ok}, 0, ErrInvalidStreamID},
		{"no events", "s-1", nil, 0, ErrEmptyAppend},
		{"no id", "s-1", []EventData{noID}, 0, ErrInvalidEvent},
		{"bad json", "s-1", []EventData{badJSON}, 0, ErrInvalidEvent},
		{"twice", "s-1", []EventData{ok, ok}, 0, ErrDuplicateEvent},
		{"too large", "s-1", []EventData{big}, 1000, ErrEventTooLarge},
	}
	for _, c := range cases {
		err := ValidateAppend(c.stream, c.events, c.max)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err=%v, want %v", c.name, err, c.want)
		}
	}
}

// TestCanonicalTimesAreFormatTimes: the canonical encoding writes a time
// as FormatTime does (RFC 3339 in UTC, nine fractional digits), for times
// across and beyond years 0 to 9999, in any zone, with any nanoseconds.
func TestCanonicalTimesAreFormatTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 37))
	zones := []*time.Location{time.UTC, time.FixedZone("east", 13*3600+45*60), time.FixedZone("west", -11*3600)}
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 12, 31, 23, 59, 59, 1, time.UTC),
		time.Date(2026, 12, 6, 4, 5, 6, 7, time.UTC),
		time.Date(2026, 12, 31, 23, 30, 0, 0, zones[2]), // next year in UTC
	}
	for range 2000 {
		sec := rng.Int64N(400*365*86400) - 100*365*86400 // 1870 to 2370
		times = append(times, time.Unix(sec, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))]))
	}
	for _, tm := range times {
		got := appendTime16(nil, tm)
		want := appendString16(nil, FormatTime(tm))
		if !bytes.Equal(got, want) {
			t.Errorf("%v: canonical time %q, want %q", tm, got, want)
		}
	}
}
