package views

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

type codecInner struct {
	N     int
	Names []string
}

type codecSample struct {
	B      bool
	I      int64
	U      uint16
	F      float64
	S      string
	ID     uuid.UUID
	When   time.Time
	Zoned  time.Time
	Ptr    *codecInner
	NilPtr *codecInner
	Slice  []codecInner
	Nil    []int
	Empty  []int
	Map    map[uuid.UUID]*codecInner
	NilMap map[string]int
	EmptyM map[string]int
	ByStr  map[string][]uuid.UUID
	Arr    [3]int
	Strs   []string
	Skip   string `json:"-"`
	hidden int
}

func sample() codecSample {
	a, b := uuid.New(), uuid.New()
	return codecSample{
		B: true, I: -42, U: 7, F: 3.25, S: "héllo \x00 \"quoted\"", ID: a,
		When:   time.Date(2026, 12, 5, 8, 0, 0, 123456789, time.UTC),
		Zoned:  time.Date(2026, 6, 1, 9, 30, 0, 0, time.FixedZone("", 3600)),
		Ptr:    &codecInner{N: 1, Names: []string{"x", ""}},
		Slice:  []codecInner{{N: 2}, {N: 3, Names: []string{}}},
		Empty:  []int{},
		Map:    map[uuid.UUID]*codecInner{a: {N: 4}, b: nil},
		EmptyM: map[string]int{},
		ByStr:  map[string][]uuid.UUID{"z": {a, b}, "a": nil},
		Arr:    [3]int{1, -2, 3},
		// Repeated short strings are read as one copy; long ones, empty
		// ones and near misses are read as they are.
		Strs: []string{"returned", "returned", "", "returne", "returned ", strings.Repeat("long ", 20), strings.Repeat("long ", 20), "z"},
		Skip: "not kept", hidden: 9,
	}
}

// TestStateCodecRoundTrip: what the codec keeps comes back equal (nil and
// empty kept apart, times with their zone offset), fields tagged "-" and
// unexported ones are left as the value decoded into has them, and equal
// states give equal bytes whatever the maps' iteration order.
func TestStateCodecRoundTrip(t *testing.T) {
	in := sample()
	b, err := encodeState(&in, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := codecSample{Skip: "fresh", hidden: 5}
	if err := decodeState(b, &out); err != nil {
		t.Fatal(err)
	}
	want := in
	want.Skip, want.hidden = "fresh", 5
	if !out.When.Equal(want.When) || !out.Zoned.Equal(want.Zoned) {
		t.Fatalf("times %v %v, want %v %v", out.When, out.Zoned, want.When, want.Zoned)
	}
	if _, off := out.Zoned.Zone(); off != 3600 {
		t.Fatalf("zone offset %d, want 3600", off)
	}
	out.When, out.Zoned, want.When, want.Zoned = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", out, want)
	}
	if out.Nil != nil || out.Empty == nil || out.NilMap != nil || out.EmptyM == nil || out.NilPtr != nil {
		t.Fatal("nil and empty not kept apart")
	}
	for range 20 {
		again, _ := encodeState(&in, len(b))
		if !bytes.Equal(again, b) {
			t.Fatal("equal states gave different bytes")
		}
	}
	back, _ := decodeAndEncode(t, b)
	if !bytes.Equal(back, b) {
		t.Fatal("decode then encode changed the bytes")
	}
}

func decodeAndEncode(t *testing.T, b []byte) ([]byte, error) {
	t.Helper()
	var v codecSample
	if err := decodeState(b, &v); err != nil {
		return nil, err
	}
	return encodeState(&v, 0)
}

// TestStateCodecRefusesBadInput: every truncation and a JSON state are
// refused with an error, never a panic or a partial success; a type the
// codec cannot hold is refused when saving.
func TestStateCodecRefusesBadInput(t *testing.T) {
	in := sample()
	b, err := encodeState(&in, 0)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		var v codecSample
		if err := decodeState(b[:n], &v); !errors.Is(err, errStateCodec) {
			t.Fatalf("truncated at %d of %d: err %v", n, len(b), err)
		}
	}
	var v codecSample
	if err := decodeState(append(b, 0), &v); !errors.Is(err, errStateCodec) {
		t.Fatalf("trailing byte: err %v", err)
	}
	if err := decodeState([]byte(`{"B":true}`), &v); !errors.Is(err, errStateCodec) {
		t.Fatalf("JSON state: err %v", err)
	}
	type withFunc struct{ F func() }
	if _, err := encodeState(&withFunc{}, 0); err == nil {
		t.Fatal("a func field was accepted")
	}
	type withAny struct{ A any }
	if _, err := encodeState(&withAny{}, 0); err == nil {
		t.Fatal("an interface field was accepted")
	}
}

// TestStateCodecRecursiveType: a type that holds itself is encoded.
func TestStateCodecRecursiveType(t *testing.T) {
	type node struct {
		V    int
		Kids []*node
	}
	in := node{V: 1, Kids: []*node{{V: 2}, {V: 3, Kids: []*node{{V: 4}}}}}
	b, err := encodeState(&in, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out node
	if err := decodeState(b, &out); err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("decoded %+v (%v), want %+v", out, err, in)
	}
}

// FuzzStateCodec: no input makes the decoder panic, and what it accepts
// encodes to bytes that decode again.
func FuzzStateCodec(f *testing.F) {
	in := sample()
	b, _ := encodeState(&in, 0)
	f.Add(b)
	f.Add(append([]byte(nil), stateMagic...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v codecSample
		if err := decodeState(b, &v); err != nil {
			return
		}
		again, err := encodeState(&v, 0)
		if err != nil {
			t.Fatal(err)
		}
		var w codecSample
		if err := decodeState(again, &w); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
	})
}
