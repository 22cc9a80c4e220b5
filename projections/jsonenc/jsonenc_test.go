package jsonenc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/jsonenc"
	"github.com/concord-ledger/concord/projections/jsonenc/jsonenctest"
)

// std is what jsonenc must match: encoding/json's Encoder with HTML
// escaping off, without its newline.
func std(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

type ref struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

type inner struct {
	N int     `json:"n"`
	F float64 `json:"f,omitempty"`
}

type Embedded struct {
	Shared string `json:"shared"`
	Deep   int    `json:"deep"`
}

type unexportedEmbedded struct {
	Promoted string
	Tagged   bool `json:"tagged,omitempty"`
}

// valueMarshaler writes JSON with spaces, which encoding/json compacts.
type valueMarshaler struct{ X int }

func (v valueMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(`{ "x" : ` + strconv.Itoa(v.X) + ` , "html": "<&>" }`), nil
}

type textual int

func (t textual) MarshalText() ([]byte, error) {
	return []byte("<t&" + strconv.Itoa(int(t)) + "\n>"), nil
}

type tree struct {
	Name string  `json:"name"`
	Kids []*tree `json:"kids,omitempty"`
}

// kitchen holds every shape the API's answers use, and some they may.
type kitchen struct {
	Embedded
	unexportedEmbedded
	Ref      ref
	Opt      *ref `json:"opt,omitempty"`
	Refs     []ref
	Arr      [3]int8
	ID       uuid.UUID
	IDs      []uuid.UUID `json:"ids"`
	NullID   uuid.NullUUID
	At       time.Time
	AtP      *time.Time `json:"at_p,omitempty"`
	Closed   time.Time  `json:"closed,omitzero"`
	Both     string     `json:"both,omitempty,omitzero"`
	Raw      json.RawMessage
	Bytes    []byte
	Map      map[string]inner
	IntMap   map[int]string
	Any      any
	AnyOmit  any `json:"any_omit,omitempty"`
	F32      float32
	F64      float64 `json:"f64,omitempty"`
	U        uint16
	I64      int64 `json:",omitempty"`
	B        bool  `json:"b,omitempty"`
	Ptr      *int  `json:"ptr,omitempty"`
	VM       valueMarshaler
	VMP      *valueMarshaler
	T        textual
	TS       []textual
	Tree     *tree
	Shared   string `json:"shared"` // hides Embedded.Shared
	Skip     string `json:"-"`
	Dash     string `json:"-,"`
	BadTag   string `json:"a\\b"`
	Zeroable inner  `json:"zeroable,omitzero"`
	private  int
}

// TestAppendMatchesEncodingJSON compares the bytes of random values of
// every shape with encoding/json's, and their failures.
func TestAppendMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	failures := 0
	for i := range 4000 {
		var k kitchen
		jsonenctest.Fill(reflect.ValueOf(&k).Elem(), r, 3)
		k.private = i
		want, wantErr := std(k)
		got, err := jsonenc.Append([]byte("prefix"), k)
		if errors.Is(err, jsonenc.ErrUnplanned) {
			t.Fatalf("kitchen has no plan: %v", err)
		}
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("value %d: jsonenc error %v, encoding/json error %v", i, err, wantErr)
		}
		if err != nil {
			failures++
			continue
		}
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("value %d: the bytes before were not kept: %q", i, got)
		}
		if got = got[len("prefix"):]; !bytes.Equal(got, want) {
			t.Fatalf("value %d differs:\njsonenc:       %s\nencoding/json: %s", i, got, want)
		}
		// A pointer to it encodes the same.
		if pgot, err := jsonenc.Append(nil, &k); err != nil || !bytes.Equal(pgot, want) {
			t.Fatalf("value %d through a pointer: %v\n%s\n%s", i, err, pgot, want)
		}
	}
	if failures == 0 || failures > 2000 {
		t.Errorf("%d of 4000 values failed (times after year 9999): the test should try some, not mostly", failures)
	}
}

func TestAppendTopLevelValues(t *testing.T) {
	var nilMap map[string]int
	var nilPtr *ref
	cases := []any{nil, "s\u2028", 3, -0.0, 1e-7, []int(nil), []int{}, nilMap, nilPtr, map[string]int{"b": 1, "a": 2},
		uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), time.Date(2026, 12, 8, 1, 2, 3, 4, time.FixedZone("", -5400)),
		json.RawMessage(nil), []any{nil, "x", 1.5}, [0]int{}}
	for _, v := range cases {
		want, err := std(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := jsonenc.Append(nil, v)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%#v: got %s (%v), want %s", v, got, err, want)
		}
	}
}

type ptrMarshaler struct{}

func (*ptrMarshaler) MarshalJSON() ([]byte, error) { return []byte(`"p"`), nil }

type ptrZero struct{ N int }

func (*ptrZero) IsZero() bool { return true }

type cyclic struct {
	Back *cyclicBack
	C    chan int
}

type cyclicBack struct{ To *cyclic }

// TestUnplanned lists the types jsonenc leaves to encoding/json: where
// its bytes could differ. Append says so, and does not guess.
func TestUnplanned(t *testing.T) {
	cases := map[string]any{
		"a Marshal method on the pointer only": struct{ P ptrMarshaler }{},
		"the string option": struct {
			N int `json:",string"`
		}{},
		"an embedded pointer": struct{ *Embedded }{Embedded: &Embedded{}},
		"two fields of one name at one depth": struct {
			A string `json:"X"`
			X string
		}{},
		"a channel":   struct{ C chan int }{},
		"json.Number": json.Number("1"),
		"omitzero with IsZero on the pointer": struct {
			Z ptrZero `json:",omitzero"`
		}{},
		"a type containing one that has no plan": cyclicBack{},
		"that type itself":                       cyclic{},
	}
	for name, v := range cases {
		if _, err := jsonenc.Append(nil, v); !errors.Is(err, jsonenc.ErrUnplanned) {
			t.Errorf("%s: got %v, want ErrUnplanned", name, err)
		}
		// AppendAny writes them as encoding/json does.
		want, wantErr := std(v)
		got, err := jsonenc.AppendAny([]byte("x"), v)
		if (err != nil) != (wantErr != nil) || (err == nil && string(got) != "x"+string(want)) {
			t.Errorf("%s: AppendAny gave %s (%v), want x%s (%v)", name, got, err, want, wantErr)
		}
	}
	// A pointer type whose method is on the pointer is encoded by
	// encoding/json wherever it is: it is planned.
	v := struct{ P *ptrMarshaler }{P: &ptrMarshaler{}}
	got, err := jsonenc.Append(nil, v)
	if want, _ := std(v); err != nil || !bytes.Equal(got, want) {
		t.Errorf("a pointer with its method: got %s (%v), want %s", got, err, want)
	}
}

func TestAppendStringTable(t *testing.T) {
	for _, s := range append(jsonenctest.Strings, "\x00", "\\", "\u2029end", "\xed\xa0\x80") {
		want, _ := std(s)
		if got := jsonenc.AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range jsonenctest.Strings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := std(s)
		if got := jsonenc.AppendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

// row is shaped like the API's list entries: ids, names, times, counts
// and nested lists of them.
type row struct {
	ID      uuid.UUID `json:"id"`
	Title   string    `json:"title"`
	School  ref       `json:"school"`
	Status  string    `json:"status"`
	Version int       `json:"version"`
	Votes   []struct {
		Voter   ref       `json:"voter"`
		Vote    string    `json:"vote"`
		Reason  string    `json:"reason"`
		Aligned bool      `json:"aligned"`
		At      time.Time `json:"at"`
		Lapsed  bool      `json:"lapsed,omitempty"`
	} `json:"votes"`
	Chair    *ref      `json:"chair,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
}

// BenchmarkAppend compares jsonenc with encoding/json on a page of 100
// rows shaped like the API's answers.
func BenchmarkAppend(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	page := make([]row, 100)
	for i := range page {
		for {
			jsonenctest.Fill(reflect.ValueOf(&page[i]).Elem(), r, 3)
			if _, err := std(page[i]); err == nil {
				break
			}
		}
	}
	b.Run("jsonenc", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			var err error
			if buf, err = jsonenc.Append(buf[:0], page); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding-json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(page); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
}
