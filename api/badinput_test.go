package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// allowedRole is a role the route admits (admin when it may).
func allowedRole(rt route) Role {
	if slices.Contains(rt.Roles, RoleAdmin) || len(rt.Roles) == 0 {
		return RoleAdmin
	}
	return rt.Roles[0]
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
// — unknown fields, wrong types, bodies over 1 MiB, bad JSON, malformed ids
// in the path, bad dates — as a role the route allows: every answer is a
// 4xx problem+json (never a 5xx), and the store's head does not move.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	env := coreServer(t)
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
	}
	checked := 0
	for _, rt := range Routes() {
		if rt.Roles == nil {
			continue
		}
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
				attempt{name: "bad effective date", target: target, body: []byte(`{}`), header: []string{"X-Concord-Effective-At", "next Tuesday"}},
				attempt{name: "bad If-Match", target: target, body: []byte(`{}`), header: []string{"If-Match", `"three"`}},
			)
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
			req.Header.Set("Authorization", "Bearer "+env.Token[allowedRole(rt)])
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
				t.Errorf("%s %s, %s: %d %s", rt.Method, rt.Pattern, a.name, w.Code, strings.TrimSpace(w.Body.String()))
				continue
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
// the token route whose handler decodes first.
func TestDecodeRefusalsAreExact(t *testing.T) {
	env := coreServer(t)
	for _, c := range []struct {
		name   string
		body   []byte
		ct     string
		status int
		field  string
	}{
		{"unknown field", []byte(`{"role":"admin","colour":"red"}`), "", http.StatusUnprocessableEntity, "colour"},
		{"wrong type", []byte(`{"role":7}`), "", http.StatusUnprocessableEntity, "role"},
		{"bad uuid in body", []byte(`{"role":"staff","person_id":"nope"}`), "", http.StatusUnprocessableEntity, ""},
		{"too large", append([]byte(`{"label":"`), bytes.Repeat([]byte("y"), MaxBodySize+10)...), "", http.StatusRequestEntityTooLarge, ""},
		{"bad JSON", []byte(`{"role":`), "", http.StatusBadRequest, ""},
		{"not JSON", []byte(`role=admin`), "text/plain", http.StatusUnsupportedMediaType, ""},
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
}
