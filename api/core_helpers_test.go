package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/ledger"
)

// Role names a principal of the tests' world (apitest): who the tests act
// as. Tokens carry no role; these are people the ledger gives rights to.
type Role = string

// The tests' principals, by the standing the ledger gives them in the
// world: A's Director, a staff member and the chair of ISLC X, a
// governor, the partnership's lead and auditor, the administrator.
const (
	RoleAdmin           Role = apitest.Admin
	RoleDirector        Role = apitest.DirA
	RoleStaff           Role = apitest.StaffA
	RoleChair           Role = apitest.ChairA
	RoleGovernor        Role = apitest.GovA
	RolePartnershipLead Role = apitest.Lead
	RoleAuditor         Role = apitest.Auditor
)

// AllRoles lists the principals the core tests use.
var AllRoles = []Role{RoleAdmin, RoleDirector, RoleStaff, RoleChair, RoleGovernor, RolePartnershipLead, RoleAuditor}

// coreEnv is a server on the tests' world with a token per principal.
type coreEnv struct {
	W      *apitest.World
	L      *ledger.Ledger
	Tokens *Tokens
	Srv    *Server
	// Token holds a token for every principal; PersonOf the person it is.
	Token    map[Role]string
	PersonOf map[Role]uuid.UUID
}

var coreQuiet = slog.New(slog.DiscardHandler)

// coreServer builds the environment; middleware wrap every route.
func coreServer(t testing.TB, middleware ...func(*coreEnv) func(http.Handler) http.Handler) *coreEnv {
	t.Helper()
	w := apitest.New(t)
	tok, err := OpenTokens("", TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tok.Close() })
	env := &coreEnv{W: w, L: w.L, Tokens: tok, Token: map[Role]string{}, PersonOf: map[Role]uuid.UUID{}}
	for name, a := range w.Actor {
		secret, _, err := tok.Create(t.Context(), TokenSpec{Kind: a.Kind, PersonID: a.PersonID, Label: name})
		if err != nil {
			t.Fatalf("create %s token: %v", name, err)
		}
		env.Token[name], env.PersonOf[name] = secret, a.PersonID
	}
	var mw []func(http.Handler) http.Handler
	for _, m := range middleware {
		mw = append(mw, m(env))
	}
	env.Srv = New(w.L, Options{Auth: tok, Logger: coreQuiet, Middleware: mw, Now: func() time.Time { return apitest.Now }})
	return env
}

// do sends a request as role ("" for none) and returns the recorded answer.
func (e *coreEnv) do(t *testing.T, role Role, method, target string, body []byte, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.Token[role])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.Srv.ServeHTTP(w, req)
	return w
}

// mustProblem decodes w's body as a problem, failing unless it is one
// with status.
func mustProblem(t *testing.T, w *httptest.ResponseRecorder, status int) Problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, w.Body)
	}
	if p.Status != status || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v, want status %d with type and title", p, status)
	}
	return p
}

func mustJSON[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, w.Body)
	}
	return v
}
