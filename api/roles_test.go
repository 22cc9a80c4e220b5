package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// flushCancel ends a request's context at its first flush, so streaming
// routes (the live feed) answer the matrix instead of streaming forever.
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

// serveRoute sends one request for rt as role ("" for no token).
func (e *coreEnv) serveRoute(t *testing.T, rt route, role Role) *httptest.ResponseRecorder {
	t.Helper()
	var body []byte
	if rt.Request != nil {
		body = []byte("{}")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, rt.Method, sampleTarget(rt.Pattern), bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.Token[role])
	}
	w := flushCancel{httptest.NewRecorder(), cancel}
	e.Srv.ServeHTTP(w, req)
	return w.ResponseRecorder
}

// TestRoleMatrix walks every route of the table as every role and as a
// caller without a token: no token is 401, a role the route does not
// allow is 403 (both problem+json, from the role check), and an allowed
// role passes the role check (whatever the handler then says of the
// made-up ids, it is not a 5xx).
func TestRoleMatrix(t *testing.T) {
	env := coreServer(t)
	routes := Routes()
	if len(routes) < 5 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, rt := range routes {
		t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
			w := env.serveRoute(t, rt, "")
			if rt.Roles == nil {
				if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code >= 500 {
					t.Errorf("public route without a token: %d %s", w.Code, w.Body)
				}
				return
			}
			if p := mustProblem(t, w, http.StatusUnauthorized); p.Code != "unauthenticated" {
				t.Errorf("no token: code %q", p.Code)
			}
			for _, role := range AllRoles {
				w := env.serveRoute(t, rt, role)
				roleCheck := fmt.Sprintf("a %s may not %s", role, lowerFirst(rt.Summary))
				if !slices.Contains(rt.Roles, role) {
					if p := mustProblem(t, w, http.StatusForbidden); p.Detail != roleCheck {
						t.Errorf("%s: detail %q, want the role check's %q", role, p.Detail, roleCheck)
					}
					continue
				}
				switch {
				case w.Code == http.StatusUnauthorized:
					t.Errorf("%s is allowed but got 401: %s", role, w.Body)
				case w.Code == http.StatusForbidden && problemDetail(w) == roleCheck:
					t.Errorf("%s is allowed but the role check refused it", role)
				case w.Code >= 500:
					t.Errorf("%s: %d %s", role, w.Code, w.Body)
				}
			}
		})
	}
}

func problemDetail(w *httptest.ResponseRecorder) string {
	var p Problem
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	return p.Detail
}

// TestRoleMatrixRefusesBadCredentials checks the forms of a bad
// Authorization header on one route of every tag.
func TestRoleMatrixRefusesBadCredentials(t *testing.T) {
	env := coreServer(t)
	revoked, info, _ := env.Tokens.Create(context.Background(), TokenSpec{Role: RoleAdmin})
	if _, err := env.Tokens.Revoke(context.Background(), info.ID); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rt := range Routes() {
		if rt.Roles == nil || seen[rt.Tag] {
			continue
		}
		seen[rt.Tag] = true
		for _, h := range []string{"Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer concord_nope", "Bearer " + revoked, "bearer " + env.Token[RoleAdmin], strings.TrimPrefix(env.Token[RoleAdmin], TokenPrefix)} {
			req := httptest.NewRequest(rt.Method, sampleTarget(rt.Pattern), strings.NewReader("{}"))
			req.Header.Set("Authorization", h)
			w := httptest.NewRecorder()
			env.Srv.ServeHTTP(w, req)
			mustProblem(t, w, http.StatusUnauthorized)
		}
	}
}
