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

	"github.com/google/uuid"
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

func TestIdempotencyReplaysTheFirstResponseAndWritesNothing(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	env := coreServer(t, idempotent(IdempotencyOptions{Now: func() time.Time { return now }}))
	body := []byte(`{"role":"admin","label":"ops"}`)

	first := env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", body, "Idempotency-Key", "k-1")
	if first.Code != http.StatusCreated {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	n := countTokens(t, env.Tokens)

	again := env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", body, "Idempotency-Key", "k-1")
	if again.Code != first.Code || again.Body.String() != first.Body.String() {
		t.Fatalf("replay: %d %s, want %d %s", again.Code, again.Body, first.Code, first.Body)
	}
	if again.Header().Get("Idempotent-Replayed") != "true" || again.Header().Get("Location") != first.Header().Get("Location") {
		t.Fatalf("replay headers %v", again.Header())
	}
	if got := countTokens(t, env.Tokens); got != n {
		t.Fatalf("%d tokens after the replay, want %d (nothing written)", got, n)
	}

	// Same key, another body: refused.
	p := mustProblem(t, env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", []byte(`{"role":"admin","label":"other"}`), "Idempotency-Key", "k-1"),
		http.StatusUnprocessableEntity)
	if p.Code != "idempotency-key-reused" {
		t.Fatalf("code %q", p.Code)
	}
	// Same key, another path: refused too.
	mustProblem(t, env.do(t, RoleAdmin, http.MethodDelete, "/v1/tokens/"+uuid.NewString(), nil, "Idempotency-Key", "k-1"), http.StatusUnprocessableEntity)

	// Keys are per caller: another principal's k-1 is a new request.
	w := env.do(t, RoleDirector, http.MethodPost, "/v1/tokens", body, "Idempotency-Key", "k-1")
	mustProblem(t, w, http.StatusForbidden)

	// A failed response is not remembered: the corrected request runs.
	mustProblem(t, env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", []byte(`{"role":"wizard"}`), "Idempotency-Key", "k-2"), http.StatusUnprocessableEntity)
	if w := env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", body, "Idempotency-Key", "k-2"); w.Code != http.StatusCreated || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("after a failure: %d %v", w.Code, w.Header())
	}
	if got := countTokens(t, env.Tokens); got != n+1 {
		t.Fatalf("%d tokens, want %d", got, n+1)
	}

	// After the TTL the key is forgotten.
	now = now.Add(IdempotencyTTL + time.Minute)
	if w := env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", body, "Idempotency-Key", "k-1"); w.Code != http.StatusCreated || w.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("after the TTL: %d %v", w.Code, w.Header())
	}
	if got := countTokens(t, env.Tokens); got != n+2 {
		t.Fatalf("%d tokens, want %d", got, n+2)
	}

	// Malformed keys are refused.
	mustProblem(t, env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", body, "Idempotency-Key", strings.Repeat("k", 256)), http.StatusBadRequest)
}

func TestIdempotencyRecordsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), TokensFile)
	tok, err := OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret, info, err := tok.Create(ctx, TokenSpec{Role: RoleAdmin})
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
	secret, _, _ := tok.Create(context.Background(), TokenSpec{Role: RoleAdmin})
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
