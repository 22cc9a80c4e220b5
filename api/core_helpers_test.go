package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/ledger"
)

// coreEnv is a server on an in-memory ledger with a token per role.
type coreEnv struct {
	L      *ledger.Ledger
	Tokens *Tokens
	Srv    *Server
	// Token holds a token for every role; PersonOf the person it acts as.
	Token    map[Role]string
	PersonOf map[Role]uuid.UUID
}

var coreQuiet = slog.New(slog.DiscardHandler)

// coreServer builds the environment; middleware wrap every route.
func coreServer(t testing.TB, middleware ...func(*coreEnv) func(http.Handler) http.Handler) *coreEnv {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, ledger.Config{Logger: coreQuiet, NoTransparency: true})
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	tok, err := OpenTokens("", TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tok.Close() })
	env := &coreEnv{L: l, Tokens: tok, Token: map[Role]string{}, PersonOf: map[Role]uuid.UUID{}}
	for _, role := range AllRoles {
		person := uuid.New()
		secret, _, err := tok.Create(ctx, TokenSpec{PersonID: person, Role: role, Label: string(role)})
		if err != nil {
			t.Fatalf("create %s token: %v", role, err)
		}
		env.Token[role], env.PersonOf[role] = secret, person
	}
	var mw []func(http.Handler) http.Handler
	for _, m := range middleware {
		mw = append(mw, m(env))
	}
	env.Srv = New(l, Options{Auth: tok, Logger: coreQuiet, Middleware: mw})
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
