// Package jsonenctest fills values of any type with random contents that
// probe a JSON encoder's edges, for tests that compare jsonenc with
// encoding/json.
package jsonenctest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"time"
)

// Strings are the texts Fill draws from before it makes random ones:
// escapes, HTML, control characters, invalid UTF-8, the separators
// encoding/json escapes, long runs.
var Strings = []string{
	"", "plain", `quote " and back\slash`, "<b>&amp;</b>", "line\nbreak\r\ttab",
	"\b\f\x00\x01\x1f\x7f", "bad \xff\xfe utf-8", "trail \xe2\x80", "sep \u2028 and \u2029",
	"é ü ß 漢字 🙂", "a long run of text without anything to escape in it at all, repeated, repeated",
}

// Fill sets v (settable) to random contents, depth levels of nesting at
// most: nil and empty slices and maps, nil pointers and interfaces, zero
// and extreme numbers, times in several zones (now and then outside the
// years JSON times allow), raw JSON with spaces to compact.
func Fill(v reflect.Value, r *rand.Rand, depth int) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(randomTime(r)))
		return
	case reflect.TypeFor[json.RawMessage]():
		raws := []json.RawMessage{nil, json.RawMessage(`{"a": [1, 2 ,"x y"], "b":null}`), json.RawMessage(`"s"`), json.RawMessage(` 12 `)}
		v.Set(reflect.ValueOf(raws[r.IntN(len(raws))]))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := []int64{0, 1, -1, math.MaxInt8, math.MinInt8, r.Int64()}[r.IntN(6)]
		if !v.OverflowInt(n) {
			v.SetInt(n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := []uint64{0, 1, math.MaxUint8, r.Uint64()}[r.IntN(4)]
		if !v.OverflowUint(n) {
			v.SetUint(n)
		}
	case reflect.Float32, reflect.Float64:
		f := []float64{0, math.Copysign(0, -1), 1, -2.5, 1e-7, 1e-6, 5e20, 1e21, 123456789.125, 1e-300, r.NormFloat64() * 1e6}[r.IntN(11)]
		if v.Kind() == reflect.Float32 && math.Abs(f) > math.MaxFloat32 {
			f = 1
		}
		v.SetFloat(f)
	case reflect.String:
		if r.IntN(3) == 0 {
			b := make([]byte, r.IntN(20))
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			v.SetString(string(b))
		} else {
			v.SetString(Strings[r.IntN(len(Strings))])
		}
	case reflect.Pointer:
		if depth <= 0 || r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		Fill(p.Elem(), r, depth-1)
		v.Set(p)
	case reflect.Slice:
		switch n := r.IntN(5); {
		case depth <= 0 || n == 0:
			v.SetZero()
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := range n - 1 {
				Fill(s.Index(i), r, depth-1)
			}
			v.Set(s)
		}
	case reflect.Array:
		for i := range v.Len() {
			Fill(v.Index(i), r, depth-1)
		}
	case reflect.Map:
		if depth <= 0 || r.IntN(4) == 0 {
			v.SetZero()
			return
		}
		m := reflect.MakeMap(v.Type())
		for range r.IntN(4) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			Fill(k, r, depth-1)
			Fill(e, r, depth-1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		if v.NumMethod() > 0 || depth <= 0 || r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		choices := []any{"text \"q\"", 12.5, true, map[string]any{"k": "v", "a": []any{1.0, nil}}, []any{"x", 2.0}, struct {
			A string `json:"a"`
			B *int   `json:"b,omitempty"`
		}{A: "in an interface"}}
		v.Set(reflect.ValueOf(choices[r.IntN(len(choices))]))
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				Fill(f, r, depth)
			}
		}
	}
}

func randomTime(r *rand.Rand) time.Time {
	zones := []*time.Location{time.UTC, time.FixedZone("", 3600), time.FixedZone("X", -(9*3600 + 30*60)), time.Local}
	switch r.IntN(12) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(10000+r.IntN(100), 1, 1, 0, 0, 0, 0, time.UTC) // encoding/json refuses it
	}
	t := time.Unix(r.Int64N(4e9), 0).In(zones[r.IntN(len(zones))])
	if r.IntN(2) == 0 {
		t = t.Add(time.Duration(r.IntN(1e9)))
	}
	return t
}
