package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
)

// flushCancel ends a request's context at its first flush, so streaming
// routes (the live feed) answer instead of streaming forever.
type flushCancel struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

func (f flushCancel) Flush() {
	f.ResponseRecorder.Flush()
	f.cancel()
}

// sampleTarget fills a route's path parameters with fresh ids.
func sampleTarget(pattern string) string {
	return pathParam.ReplaceAllStringFunc(pattern, func(string) string { return uuid.NewString() })
}

// allowedPrincipal returns a principal docs/api.md's policy table lets
// through on rt (the first ✓ of its row), so that what answers bad input
// is the input's check, not the caller's rights.
func allowedPrincipal(t *testing.T, table map[string][]string, rt route) Role {
	t.Helper()
	row, ok := table[rt.Method+" "+rt.Pattern]
	if !ok {
		t.Fatalf("%s %s is not in docs/api.md's policy table", rt.Method, rt.Pattern)
	}
	for i, mark := range row {
		if mark == "✓" && apitest.Principals[i] != apitest.None {
			return apitest.Principals[i]
		}
	}
	return RoleAdmin
}

// overLongBody returns a JSON object giving v's first plain string field
// (no format: not an id, date or time) a value one character over its
// limit, and that field's name ("" when v has none).
func overLongBody(v any) ([]byte, string) {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, ""
	}
	props := map[string]any{}
	var req []string
	(&schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}}).fields(t, props, &req, map[reflect.Type]bool{})
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s, _ := props[n].(map[string]any)
		if s["type"] != "string" || s["format"] != nil || n == "reason" {
			continue
		}
		long, _ := json.Marshal(strings.Repeat("x", MaxTextLength+1))
		return []byte(`{"` + n + `":` + string(long) + `}`), n
	}
	return nil, ""
}

// wrongTypedBody returns a JSON object giving v's first JSON field a value
// of the wrong type, and that field's name ("" when v has no field).
func wrongTypedBody(v any) ([]byte, string) {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return []byte(`"not an object"`), ""
	}
	props := map[string]any{}
	var req []string
	(&schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}}).fields(t, props, &req, map[reflect.Type]bool{})
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s, _ := props[n].(map[string]any)
		wrong := `"not a number"`
		switch s["type"] {
		case "string":
			wrong = `12345`
		case nil:
			if s["$ref"] == nil {
				continue // any JSON value is fine
			}
			wrong = `12345`
		}
		return []byte(`{"` + n + `":` + wrong + `}`), n
	}
	return []byte(`{"zz":1}`), ""
}

// TestBadInputIsRefusedAndChangesNothing sends every route malformed input
// — unknown fields, wrong types, bodies over 1 MiB, bad JSON, strings over
// their limit, malformed ids in the path, bad dates — as a principal the
// route allows: every answer is a 4xx problem+json (never a 5xx), and the
// store's head does not move.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	env := coreServer(t)
	table := policyTable(t)
	ctx := context.Background()
	head, err := env.L.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	huge := append(append([]byte(`{"label":"`), bytes.Repeat([]byte("x"), MaxBodySize)...), `"}`...)

	type attempt struct {
		name   string
		target string
		body   []byte
		header []string
		// want lists the acceptable statuses; nil: any 4xx.
		want []int
		// mayIgnore: a route that takes no such parameter may answer 200.
		mayIgnore bool
		// field, when set, must be the one field the problem names.
		field string
	}
	checked := 0
	for _, rt := range Routes() {
		if !rt.Auth {
			continue
		}
		who := allowedPrincipal(t, table, rt)
		var tries []attempt
		target := sampleTarget(rt.Pattern)
		if rt.Request != nil {
			wrong, field := wrongTypedBody(rt.Request)
			tries = append(tries,
				attempt{name: "unknown field", target: target, body: []byte(`{"zz_not_a_field":1}`)},
				attempt{name: "wrong type of " + field, target: target, body: wrong},
				attempt{name: "over 1 MiB", target: target, body: huge},
				attempt{name: "bad JSON", target: target, body: []byte(`{"role":`)},
				attempt{name: "two values", target: target, body: []byte(`{} {}`)},
				attempt{name: "empty body", target: target, body: []byte{}},
				attempt{name: "not JSON", target: target, body: []byte(`role=admin`), header: []string{"Content-Type", "application/x-www-form-urlencoded"}},
				attempt{name: "bad If-Match", target: target, body: []byte(`{}`), header: []string{"If-Match", `"three"`}},
			)
			if long, field := overLongBody(rt.Request); field != "" {
				tries = append(tries, attempt{name: "over-long " + field, target: target, body: long,
					want: []int{http.StatusUnprocessableEntity}, field: field})
			}
			_, isCorrection := rt.Request.(CorrectionRequest)
			if _, isCommand := rt.Response.(CommandResult); isCommand && !isCorrection {
				// Every command takes its effective date and reason in the
				// body, and only there.
				tries = append(tries,
					attempt{name: "bad effective_at", target: target, body: []byte(`{"effective_at":"next Tuesday"}`),
						want: []int{http.StatusUnprocessableEntity}, field: "effective_at"},
					attempt{name: "effective_at not a string", target: target, body: []byte(`{"effective_at":20250901}`),
						want: []int{http.StatusUnprocessableEntity}, field: "effective_at"},
					attempt{name: "over-long reason", target: target, body: []byte(`{"reason":"` + strings.Repeat("r", MaxTextLength+1) + `"}`),
						want: []int{http.StatusUnprocessableEntity}, field: "reason"},
				)
			}
		}
		if rt.Method == http.MethodGet {
			tries = append(tries,
				attempt{name: "bad as_of date", target: target + "?as_of=2025-13-45", mayIgnore: true},
				attempt{name: "bad as_of", target: target + "?as_of=yesterday", mayIgnore: true},
				attempt{name: "bad reading", target: target + "?reading=maybe", mayIgnore: true},
			)
		}
		for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
			if isIDParam(m[1]) {
				bad := strings.Replace(rt.Pattern, m[0], "not-a-uuid", 1)
				var body []byte
				if rt.Request != nil {
					body = []byte(`{}`)
				}
				tries = append(tries, attempt{name: "malformed " + m[1], target: sampleTarget(bad), body: body,
					want: []int{http.StatusBadRequest, http.StatusNotFound}})
			}
		}
		for _, a := range tries {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			req := httptest.NewRequestWithContext(ctx, rt.Method, a.target, bytes.NewReader(a.body))
			if a.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+env.Token[who])
			for i := 0; i+1 < len(a.header); i += 2 {
				req.Header.Set(a.header[i], a.header[i+1])
			}
			rec := flushCancel{httptest.NewRecorder(), cancel}
			env.Srv.ServeHTTP(rec, req)
			cancel()
			w := rec.ResponseRecorder
			checked++
			ok := w.Code >= 400 && w.Code < 500 || a.mayIgnore && w.Code == http.StatusOK
			if a.want != nil {
				ok = slices.Contains(a.want, w.Code)
			}
			if !ok {
				t.Errorf("%s %s as %s, %s: %d %s", rt.Method, rt.Pattern, who, a.name, w.Code, strings.TrimSpace(w.Body.String()))
				continue
			}
			if a.field != "" {
				var p Problem
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || len(p.Errors) != 1 || p.Errors[0].Field != a.field {
					t.Errorf("%s %s, %s: problem %s, want the field %s", rt.Method, rt.Pattern, a.name, strings.TrimSpace(w.Body.String()), a.field)
				}
			}
			if w.Code >= 400 && w.Header().Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s, %s: %d with content type %q, want a problem", rt.Method, rt.Pattern, a.name, w.Code, w.Header().Get("Content-Type"))
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d requests checked", checked)
	}
	if after, err := env.L.Store.Head(ctx); err != nil || after != head {
		t.Fatalf("head %d (%v) after bad input, want %d", after, err, head)
	}
}

// TestDecodeRefusalsAreExact pins the statuses strict decoding gives, on
// the token route (a token carries no role or scope any more: such fields
// are unknown), and no token is made.
func TestDecodeRefusalsAreExact(t *testing.T) {
	env := coreServer(t)
	n := countTokens(t, env.Tokens)
	for _, c := range []struct {
		name   string
		body   []byte
		ct     string
		status int
		field  string
	}{
		{"unknown field", []byte(`{"kind":"admin","colour":"red"}`), "", http.StatusUnprocessableEntity, "colour"},
		{"a role is no longer a token's", []byte(`{"kind":"person","role":"director"}`), "", http.StatusUnprocessableEntity, "role"},
		{"a scope is no longer a token's", []byte(`{"kind":"person","school_id":"` + uuid.NewString() + `"}`), "", http.StatusUnprocessableEntity, "school_id"},
		{"wrong type", []byte(`{"kind":7}`), "", http.StatusUnprocessableEntity, "kind"},
		{"bad uuid in body", []byte(`{"kind":"person","person_id":"nope"}`), "", http.StatusUnprocessableEntity, ""},
		{"too large", append([]byte(`{"label":"`), bytes.Repeat([]byte("y"), MaxBodySize+10)...), "", http.StatusRequestEntityTooLarge, ""},
		{"bad JSON", []byte(`{"kind":`), "", http.StatusBadRequest, ""},
		{"not JSON", []byte(`kind=admin`), "text/plain", http.StatusUnsupportedMediaType, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.ct != "" {
				hdr = []string{"Content-Type", c.ct}
			}
			p := mustProblem(t, env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", c.body, hdr...), c.status)
			if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field) {
				t.Errorf("errors %+v, want field %s", p.Errors, c.field)
			}
		})
	}
	if got := countTokens(t, env.Tokens); got != n {
		t.Errorf("%d tokens after refused requests, want %d", got, n)
	}
}
