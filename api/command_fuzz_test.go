package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
)

// bodyRoutes are the routes that take a request body from a caller with
// a token: every command of the API (commandRoute), corrections and
// tokens. The fuzzer picks one of them by index.
func bodyRoutes() []route {
	var out []route
	for _, rt := range Routes() {
		if rt.Auth && rt.Method != http.MethodGet && rt.Request != nil {
			out = append(out, rt)
		}
	}
	return out
}

// worldIDs lists every id of the tests' world (its records and people),
// for filling the path parameters of a fuzzed request so that it can
// reach the domain's rules, not only "not found".
func worldIDs(w *apitest.World) []string {
	var ids []string
	v := reflect.ValueOf(w).Elem()
	for i := range v.NumField() {
		if id, ok := v.Field(i).Interface().(uuid.UUID); ok && id != uuid.Nil {
			ids = append(ids, id.String())
		}
	}
	for _, p := range apitest.Principals {
		if id := w.Person[p]; id != uuid.Nil {
			ids = append(ids, id.String())
		}
	}
	return append(ids, "00000000-0000-7000-8000-000000000000", "not-a-uuid")
}

// FuzzCommandBody posts fuzzed bodies to every command route of the API
// (the route, the principal and the path's ids are picked from the input)
// with a valid token, against an in-memory ledger of the tests' world.
// Whatever the body: no 5xx; every answer that is not 2xx is
// application/problem+json with a type, a title, a detail and its status;
// and a refused command leaves the store's last position where it was.
//
// The world is built once per fuzzing process and the commands that
// succeed change it, so a failure may depend on what ran before; re-run a
// failing input alone (go test -run=FuzzCommandBody/NAME) to see whether
// it does.
func FuzzCommandBody(f *testing.F) {
	env := coreServer(f)
	routes := bodyRoutes()
	if len(routes) == 0 {
		f.Fatal("no route takes a body")
	}
	ids := worldIDs(env.W)
	for i, rt := range routes {
		zero, err := json.Marshal(rt.Request)
		if err != nil {
			f.Fatalf("%s %s: %v", rt.Method, rt.Pattern, err)
		}
		found := foundPathIDs(env, rt, ids)
		f.Add(uint16(i), uint8(0), found, zero)
		f.Add(uint16(i), uint8(0), found, []byte(`{}`))
		f.Add(uint16(i), uint8(0), uint64(i)*7919, []byte(`{}`))
		f.Add(uint16(i), uint8(200), found, []byte(`{"reason":"fuzz","effective_at":"2025-09-01"}`))
	}

	var (
		once    sync.Once
		allowed map[string]Role // route → a principal the policy table lets through
	)
	f.Fuzz(func(t *testing.T, pick uint16, who uint8, pathIDs uint64, body []byte) {
		once.Do(func() {
			table := policyTable(t)
			allowed = map[string]Role{}
			for _, rt := range routes {
				allowed[rt.Method+" "+rt.Pattern] = allowedPrincipal(t, table, rt)
			}
		})
		rt := routes[int(pick)%len(routes)]
		principal := allowed[rt.Method+" "+rt.Pattern]
		if who >= 128 {
			// Someone else: the policy, not the body, may refuse.
			principal = apitest.Principals[int(who)%(len(apitest.Principals)-1)]
		}
		target := fillPath(rt.Pattern, ids, pathIDs)

		ctx := context.Background()
		before, err := env.L.Store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(rt.Method, target, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+env.Token[principal])
		w := httptest.NewRecorder()
		env.Srv.ServeHTTP(w, req)

		what := rt.Method + " " + target + " as " + principal
		if w.Code >= 500 {
			t.Fatalf("%s with %q: %d %s", what, body, w.Code, w.Body)
		}
		if w.Code/100 == 2 {
			return
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s with %q: %d with content type %q, want application/problem+json", what, body, w.Code, ct)
		}
		var p Problem
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatalf("%s with %q: %d problem does not decode: %v: %s", what, body, w.Code, err, w.Body)
		}
		if p.Type == "" || p.Title == "" || p.Detail == "" || p.Status != w.Code {
			t.Fatalf("%s with %q: problem %+v lacks a type, title or detail, or says another status than %d", what, body, p, w.Code)
		}
		after, err := env.L.Store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after != before {
			t.Fatalf("%s with %q was refused (%d %s) but the store moved from position %d to %d", what, body, w.Code, p.Title, before, after)
		}
	})
}

// fillPath puts ids into pattern's parameters, picked by the digits of n
// in base len(ids), the first parameter by the lowest.
func fillPath(pattern string, ids []string, n uint64) string {
	return pathParam.ReplaceAllStringFunc(pattern, func(string) string {
		id := ids[n%uint64(len(ids))]
		n /= uint64(len(ids))
		return id
	})
}

// foundPathIDs returns a choice of world ids for rt's path parameters that
// the administrator does not get 404 for with an empty body, parameter
// after parameter (0 when none is found): seeds that reach the domain's
// rules rather than "not found".
func foundPathIDs(env *coreEnv, rt route, ids []string) uint64 {
	params := len(pathParam.FindAllString(rt.Pattern, -1))
	var n, place uint64 = 0, 1
	for range params {
		best := uint64(0)
		for d := range uint64(len(ids)) {
			req := httptest.NewRequest(rt.Method, fillPath(rt.Pattern, ids, n+d*place), strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+env.Token[RoleAdmin])
			w := httptest.NewRecorder()
			env.Srv.ServeHTTP(w, req)
			if w.Code != http.StatusNotFound {
				best = d
				break
			}
		}
		n += best * place
		place *= uint64(len(ids))
	}
	return n
}
