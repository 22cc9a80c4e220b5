package api

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/concord-ledger/concord/projections/jsonenc"
	"github.com/concord-ledger/concord/projections/jsonenc/jsonenctest"
)

// answerTypes are the types of every route's answer, and of the data in
// every Reading.
func answerTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, rt := range Routes() {
		if rt.Response == nil {
			continue
		}
		out[reflect.TypeOf(rt.Response).String()] = reflect.TypeOf(rt.Response)
		if rd, ok := rt.Response.(Reading); ok && rd.Data != nil {
			out[reflect.TypeOf(rd.Data).String()] = reflect.TypeOf(rd.Data)
		}
	}
	return out
}

// TestEveryAnswerHasAPlan: every answer is written by a jsonenc plan, so
// a field that would send an answer back to encoding/json (and make it
// slow again) is seen here.
func TestEveryAnswerHasAPlan(t *testing.T) {
	types := answerTypes()
	if len(types) < 50 {
		t.Fatalf("only %d answer types found: the routes' table is not read", len(types))
	}
	for name, typ := range types {
		if _, err := jsonenc.Append(nil, reflect.New(typ).Elem().Interface()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestAnswersAsEncodingJSONWritesThem fills every answer type with random
// contents and compares jsonenc's bytes with encoding/json's.
func TestAnswersAsEncodingJSONWritesThem(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for name, typ := range answerTypes() {
		for i := range 60 {
			v := reflect.New(typ).Elem()
			jsonenctest.Fill(v, r, 4)
			got, err := jsonenc.Append(nil, v.Interface())
			var want bytes.Buffer
			wantErr := answerEncoder(&want).Encode(v.Interface())
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%s, value %d: jsonenc error %v, encoding/json error %v", name, i, err, wantErr)
			}
			if err == nil && !bytes.Equal(append(got, '\n'), want.Bytes()) {
				t.Fatalf("%s, value %d differs:\njsonenc:       %s\nencoding/json: %s", name, i, got, want.Bytes())
			}
		}
	}
}
