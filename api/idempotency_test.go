package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
)

func idempotent(opts IdempotencyOptions) func(e *coreEnv) func(http.Handler) http.Handler {
	return func(e *coreEnv) func(http.Handler) http.Handler {
		return NewIdempotency(e.Tokens, e.Tokens, opts).Middleware
	}
}

func countTokens(t *testing.T, tok *Tokens) int {
	t.Helper()
	list, err := tok.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// headOf returns the ledger's head.
func headOf(t *testing.T, e *coreEnv) uint64 {
	t.Helper()
	h, err := e.L.Store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestIdempotencyReplaysTheFirstResponseAndWritesNothing retries a command
// that would record again if run again (a strengths assessment, StaffA's
// own): the retry gets the first answer and the ledger does not move.
func TestIdempotencyReplaysTheFirstResponseAndWritesNothing(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	env := coreServer(t, idempotent(IdempotencyOptions{Now: func() time.Time { return now }}))
	path := "/v1/people/" + env.PersonOf[RoleStaff].String() + "/strengths"
	body := []byte(`{"year":"` + apitest.Year + `","scores":{"relationship_building":60,"executing":70,"strategic_thinking":50,"influencing":40}}`)

	first := env.do(t, RoleStaff, http.MethodPost, path, body, "Idempotency-Key", "k-1")
	if first.Code != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	n := headOf(t, env)

	again := env.do(t, RoleStaff, http.MethodPost, path, body, "Idempotency-Key", "k-1")
	if again.Code != first.Code || again.Body.String() != first.Body.String() {
		t.Fatalf("replay: %d %s, want %d %s", again.Code, again.Body, first.Code, first.Body)
	}
	if again.Header().Get("Idempotent-Replayed") != "true" || again.Header().Get("ETag") != first.Header().Get("ETag") {
		t.Fatalf("replay headers %v", again.Header())
	}
	if got := headOf(t, env); got != n {
		t.Fatalf("head %d after the replay, want %d (nothing written)", got, n)
	}

	// Same key, another body: refused.
	other := []byte(`{"year":"` + apitest.Year + `","scores":{"relationship_building":61,"executing":70,"strategic_thinking":50,"influencing":40}}`)
	p := mustProblem(t, env.do(t, RoleStaff, http.MethodPost, path, other, "Idempotency-Key", "k-1"), http.StatusUnprocessableEntity)
	if p.Code != "idempotency-key-reused" {
		t.Fatalf("code %q", p.Code)
	}
	// Same key, another path: refused too.
	mustProblem(t, env.do(t, RoleStaff, http.MethodPost, "/v1/people/"+env.PersonOf[RoleChair].String()+"/strengths", body, "Idempotency-Key", "k-1"), http.StatusUnprocessableEntity)

	// Keys are per caller: another person's k-1 is a new request, which
	// the chair may not make for StaffA (a replay would have been 201).
	if p := mustProblem(t, env.do(t, RoleChair, http.MethodPost, path, body, "Idempotency-Key", "k-1"), http.StatusForbidden); p.Code != "not-permitted" {
		t.Fatalf("another caller's key: code %q, want not-permitted", p.Code)
	}

	// A failed response is not remembered: the corrected request runs.
	mustProblem(t, env.do(t, RoleStaff, http.MethodPost, path, []byte(`{"year":"nonsense"}`), "Idempotency-Key", "k-2"), http.StatusUnprocessableEntity)
	if w := env.do(t, RoleStaff, http.MethodPost, path, body, "Idempotency-Key", "k-2"); w.Code != http.StatusCreated || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("after a failure: %d %v", w.Code, w.Header())
	}
	if got := headOf(t, env); got != n+1 {
		t.Fatalf("head %d, want %d", got, n+1)
	}

	// After the TTL the key is forgotten.
	now = now.Add(IdempotencyTTL + time.Minute)
	if w := env.do(t, RoleStaff, http.MethodPost, path, body, "Idempotency-Key", "k-1"); w.Code != http.StatusCreated || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("after the TTL: %d %v", w.Code, w.Header())
	}
	if got := headOf(t, env); got != n+2 {
		t.Fatalf("head %d, want %d", got, n+2)
	}

	// Malformed keys are refused.
	mustProblem(t, env.do(t, RoleStaff, http.MethodPost, path, body, "Idempotency-Key", strings.Repeat("k", 256)), http.StatusBadRequest)
	if got := headOf(t, env); got != n+2 {
		t.Fatalf("head %d after a malformed key, want %d", got, n+2)
	}
}

func TestIdempotencyRecordsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), TokensFile)
	tok, err := OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret, info, err := tok.Create(ctx, TokenSpec{Kind: app.KindAdmin})
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.Header().Set("ETag", `"7"`)
		w.Header().Set("X-Other", "not replayed")
		_ = reply(w, http.StatusCreated, map[string]int32{"run": runs.Load()})
	})
	send := func(tok *Tokens) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/things", strings.NewReader(`{"a":1}`))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Idempotency-Key", "abc")
		w := httptest.NewRecorder()
		NewIdempotency(tok, tok, IdempotencyOptions{Logger: coreQuiet}).Middleware(h).ServeHTTP(w, req)
		return w
	}
	first := send(tok)
	if err := tok.Close(); err != nil {
		t.Fatal(err)
	}
	tok, err = OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	again := send(tok)
	if runs.Load() != 1 {
		t.Fatalf("handler ran %d times, want 1", runs.Load())
	}
	if again.Code != http.StatusCreated || again.Body.String() != first.Body.String() || again.Header().Get("ETag") != `"7"` || again.Header().Get("X-Other") != "" {
		t.Fatalf("replay after reopen: %d %v %q (first %q)", again.Code, again.Header(), again.Body, first.Body)
	}
	_ = info
}

func TestIdempotencyRefusesARetryWhileTheFirstRuns(t *testing.T) {
	tok, _ := OpenTokens("", TokensOptions{})
	secret, _, _ := tok.Create(context.Background(), TokenSpec{Kind: app.KindAdmin})
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(http.StatusNoContent)
	})
	mw := NewIdempotency(tok, tok, IdempotencyOptions{Logger: coreQuiet}).Middleware(h)
	send := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/x", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Idempotency-Key", "same")
		w := httptest.NewRecorder()
		mw.ServeHTTP(w, req)
		return w
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- send() }()
	<-entered
	p := mustProblem(t, send(), http.StatusConflict)
	if p.Code != "idempotency-key-in-use" {
		t.Fatalf("code %q", p.Code)
	}
	close(release)
	if w := <-done; w.Code != http.StatusNoContent {
		t.Fatalf("first: %d", w.Code)
	}
}
