package eventstore

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestValidJSONIsEncodingJSONValid: the append path's JSON check accepts
// and refuses exactly what encoding/json.Valid does, on well-formed
// documents and on documents cut, spliced and sprinkled with stray bytes,
// duplicate names, invalid UTF-8, deep nesting and odd numbers.
func TestValidJSONIsEncodingJSONValid(t *testing.T) {
	seeds := []string{
		`{"partnership_id":"0192f3a0-0000-7000-8000-000000000001","places":10,"cost":-2.5e3,"ok":true,"none":null}`,
		`[1,2.0,-0,1e10,1E-2,{"a":[{}],"b":""}]`, `"plain"`, `0`, `-1.5`, `true`, `null`, ` {"a" : [ 1 , 2 ] } `,
		`{"a":1,"a":2}`, "{\"bad\":\"\xff\xfe\"}", "\"\xed\xa0\x80\"", `{"esc":"\u00e9\n\t\\\"\/"}`, `"\ud800"`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, `01`, `1.`, `.5`, `+1`, `1e`, `[1,]`, `{"a":1,}`,
		`{a:1}`, `'x'`, `NaN`, `"tab	in"`, "\"nul\x00\"", ``, ` `, `{} {}`, `[] x`, `"é"`, `{"":""}`,
		// Long strings, which the check skips eight bytes at a time: quotes,
		// escapes, control characters and bytes above 0x7f at every offset.
		`{"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`,
		`["abcdefghijklmnop\"qrstuvwxyz\\0123456789\u00e9ABCDEFGH\nIJKLMNOPQRSTUVW","0123456789abcdef"]`,
		"\"ééééééé long text \xff\xfe\x7f and more text after it, well past eight bytes\"",
		"{\"k\":\"abcdefghijklmno\x1fpqrstuvwxyz\",\"l\":\"0123456\x01789abcdefghij\"}",
	}
	alphabet := []byte("{}[]\":,.-+eE0123456789 \t\n\r\x00\x1f\x7f\\/aftnrul\xff\xc3\xa9")
	rng := rand.New(rand.NewPCG(41, 43))
	check := func(b []byte) {
		t.Helper()
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Errorf("%q: validJSON %v, encoding/json.Valid %v", b, got, want)
		}
	}
	for _, s := range seeds {
		check([]byte(s))
	}
	for range 200000 {
		b := []byte(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			switch rng.IntN(4) {
			case 0: // cut
				if len(b) > 0 {
					i := rng.IntN(len(b))
					b = b[:i:i]
				}
			case 1: // a stray byte
				i := rng.IntN(len(b) + 1)
				b = append(b[:i:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			case 2: // a byte replaced
				if len(b) > 0 {
					b = append([]byte(nil), b...)
					b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
				}
			case 3: // another document spliced in
				o := seeds[rng.IntN(len(seeds))]
				i := rng.IntN(len(b) + 1)
				b = append(b[:i:i], append([]byte(o), b[i:]...)...)
			}
		}
		check(b)
	}
}

// FuzzValidJSON: go test -fuzz FuzzValidJSON ./eventstore/ looks for a
// document the two checks judge differently.
func FuzzValidJSON(f *testing.F) {
	f.Add([]byte(`{"a":[1,2,{"b":null}]}`))
	f.Add([]byte("{\"a\":\"\xff\",\"a\":1}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Errorf("%q: validJSON %v, encoding/json.Valid %v", b, got, want)
		}
	})
}

// TestValidJSONNestsAsDeepAsEncodingJSON: both checks agree around the
// depth encoding/json allows (10,000).
func TestValidJSONNestsAsDeepAsEncodingJSON(t *testing.T) {
	for _, depth := range []int{9999, 10000, 10001, 20000} {
		b := make([]byte, 0, 2*depth)
		for range depth {
			b = append(b, '[')
		}
		for range depth {
			b = append(b, ']')
		}
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Errorf("depth %d: validJSON %v, encoding/json.Valid %v", depth, got, want)
		}
	}
}

// BenchmarkValidJSON: the append path's check beside encoding/json.Valid
// on a benchmark event's data (a 512-byte document) and on a domain
// event's.
func BenchmarkValidJSON(b *testing.B) {
	docs := map[string][]byte{
		"padded": []byte(`{"pad":"` + strings.Repeat("x", 500) + `"}`),
		"domain": []byte(`{"partnership_id":"0192f3a0-0000-7000-8000-000000000001","school_id":"0192f3a0-0000-7000-8000-000000000002",` +
			`"title":"Phonics across the partnership","places":24,"cost_pence":-2500,"starts":"2026-01-12T09:00:00Z","online":false,"tags":["early years","reading"]}`),
	}
	for name, doc := range docs {
		b.Run(name+"/concord", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if !validJSON(doc) {
					b.Fatal("refused")
				}
			}
		})
		b.Run(name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if !json.Valid(doc) {
					b.Fatal("refused")
				}
			}
		})
	}
}
