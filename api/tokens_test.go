package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
)

func TestTokensAuthenticateRevokeAndSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), TokensFile)
	tok, err := OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	person := uuid.New()
	secret, info, err := tok.Create(ctx, TokenSpec{Kind: app.KindPerson, PersonID: person, Label: "governor laptop"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+43 {
		t.Fatalf("secret %q: want %s + 43 base64url characters", secret, TokenPrefix)
	}
	keep, _, err := tok.Create(ctx, TokenSpec{Kind: app.KindAdmin})
	if err != nil {
		t.Fatal(err)
	}
	a, err := tok.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if a != (app.Actor{Kind: app.KindPerson, PersonID: person, TokenID: info.ID}) {
		t.Fatalf("actor %+v, want the person %s by token %s", a, person, info.ID)
	}
	if _, err := tok.Revoke(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if err := tok.Close(); err != nil {
		t.Fatal(err)
	}

	tok, err = OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if _, err := tok.Authenticate(ctx, secret); !errors.Is(err, ErrRevokedToken) {
		t.Fatalf("revoked token after reopen: err %v, want ErrRevokedToken", err)
	}
	if a, err := tok.Authenticate(ctx, keep); err != nil || !a.IsAdmin() || a.PersonID != uuid.Nil {
		t.Fatalf("admin token after reopen: %+v, %v", a, err)
	}
	for _, bad := range []string{"", "concord_", "concord_AAAA", secret + "x", "Bearer " + keep, strings.TrimPrefix(keep, TokenPrefix)} {
		if _, err := tok.Authenticate(ctx, bad); !errors.Is(err, ErrUnknownToken) {
			t.Errorf("Authenticate(%q): err %v, want ErrUnknownToken", bad, err)
		}
	}
	list, err := tok.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != info.ID || list[0].RevokedAt == nil || list[1].RevokedAt != nil {
		t.Fatalf("list %+v", list)
	}
	// The file holds hashes only.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, keep, strings.TrimPrefix(keep, TokenPrefix)} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("%s holds a token's secret", path)
		}
	}
}

func TestTokensRejectBadSpecs(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tok, _ := OpenTokens("", TokensOptions{Now: func() time.Time { return now }})
	for _, c := range []struct {
		spec  TokenSpec
		field string
	}{
		{TokenSpec{Kind: "janitor", PersonID: uuid.New()}, "kind"},
		{TokenSpec{Kind: "director", PersonID: uuid.New()}, "kind"},
		{TokenSpec{Kind: app.KindPerson}, "person_id"},
		{TokenSpec{}, "person_id"}, // a person's token by default
		{TokenSpec{Kind: app.KindAdmin, PersonID: uuid.New()}, "person_id"},
		{TokenSpec{Kind: app.KindAdmin, Label: strings.Repeat("x", 201)}, "label"},
		{TokenSpec{Kind: app.KindAdmin, ExpiresAt: now.Add(-time.Minute)}, "expires_at"},
		{TokenSpec{Kind: app.KindPerson, PersonID: uuid.New(), ExpiresAt: now}, "expires_at"},
	} {
		_, _, err := tok.Create(context.Background(), c.spec)
		var specErr *TokenSpecError
		if !errors.Is(err, ErrInvalidTokenSpec) || !errors.As(err, &specErr) || specErr.Field != c.field {
			t.Errorf("Create(%+v): err %v, want ErrInvalidTokenSpec naming %s", c.spec, err, c.field)
		}
	}
	if list, _ := tok.List(context.Background()); len(list) != 0 {
		t.Errorf("%d tokens after refused specs, want 0", len(list))
	}
}

func TestTokensFileIsLockedWhileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), TokensFile)
	tok, err := OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if _, err := OpenTokens(path, TokensOptions{Timeout: 50 * time.Millisecond}); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second open: err %v, want a locked error", err)
	}
}

func TestTokenRoutes(t *testing.T) {
	env := coreServer(t)
	issued := len(env.Token)
	person := env.PersonOf[RoleStaff]
	w := env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", []byte(`{"person_id":"`+person.String()+`","kind":"person","label":"x"}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	created := mustJSON[CreatedToken](t, w)
	if created.PersonID != person || created.Kind != app.KindPerson || !strings.HasPrefix(created.Token, TokenPrefix) {
		t.Fatalf("created %+v", created)
	}
	if w.Header().Get("Location") != "/v1/tokens/"+created.ID || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("create headers %v: want Location /v1/tokens/%s and Cache-Control no-store", w.Header(), created.ID)
	}
	if a, err := env.Tokens.Authenticate(context.Background(), created.Token); err != nil || a.PersonID != person || a.Kind != app.KindPerson {
		t.Fatalf("new token authenticates as %+v, %v", a, err)
	}
	// The new token acts as the person: StaffA reads their own school.
	env.Token["new"] = created.Token
	if w := env.do(t, "new", http.MethodGet, "/v1/schools/"+env.W.SchoolA.String(), nil); w.Code != http.StatusOK {
		t.Errorf("StaffA's new token reading school A: %d %s", w.Code, w.Body)
	}

	w = env.do(t, RoleAdmin, http.MethodGet, "/v1/tokens", nil)
	if strings.Contains(w.Body.String(), created.Token) || strings.Contains(w.Body.String(), `"hash"`) {
		t.Fatalf("list leaks secrets: %s", w.Body)
	}
	if list := mustJSON[[]TokenInfo](t, w); len(list) != issued+1 {
		t.Fatalf("list has %d tokens, want %d", len(list), issued+1)
	}

	p := mustProblem(t, env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", []byte(`{"kind":"wizard"}`)), http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "kind" {
		t.Fatalf("bad kind problem %+v", p)
	}
	// Only the administrator manages tokens: a Director may not make one
	// for their own staff.
	before := countTokens(t, env.Tokens)
	if p := mustProblem(t, env.do(t, RoleDirector, http.MethodPost, "/v1/tokens", []byte(`{"person_id":"`+person.String()+`"}`)), http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("a Director making a token: code %q, want not-permitted", p.Code)
	}
	if got := countTokens(t, env.Tokens); got != before {
		t.Errorf("%d tokens after a refused request, want %d", got, before)
	}
	mustProblem(t, env.do(t, RoleAdmin, http.MethodDelete, "/v1/tokens/"+uuid.NewString(), nil), http.StatusNotFound)
	mustProblem(t, env.do(t, RoleAdmin, http.MethodDelete, "/v1/tokens/nope", nil), http.StatusBadRequest)

	w = env.do(t, RoleAdmin, http.MethodDelete, "/v1/tokens/"+created.ID, nil)
	if w.Code != http.StatusOK || mustJSON[TokenInfo](t, w).RevokedAt == nil {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	// The revoked token is refused with 401.
	mustProblem(t, env.do(t, "new", http.MethodGet, "/v1/schools/"+env.W.SchoolA.String(), nil), http.StatusUnauthorized)
}

// TestBadCredentialsAre401 checks the forms of a bad Authorization header
// on one route of every tag: each is 401 problem+json, whatever the route.
func TestBadCredentialsAre401(t *testing.T) {
	env := coreServer(t)
	revoked, info, err := env.Tokens.Create(context.Background(), TokenSpec{Kind: app.KindAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Tokens.Revoke(context.Background(), info.ID); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rt := range Routes() {
		if !rt.Auth || seen[rt.Tag] {
			continue
		}
		seen[rt.Tag] = true
		for _, h := range []string{"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer concord_nope", "Bearer " + revoked,
			"bearer " + env.Token[RoleAdmin], strings.TrimPrefix(env.Token[RoleAdmin], TokenPrefix)} {
			req := httptest.NewRequest(rt.Method, sampleTarget(rt.Pattern), strings.NewReader("{}"))
			if h != "" {
				req.Header.Set("Authorization", h)
			}
			w := httptest.NewRecorder()
			env.Srv.ServeHTTP(w, req)
			if p := mustProblem(t, w, http.StatusUnauthorized); p.Code != "unauthenticated" {
				t.Errorf("%s %s with %q: code %q, want unauthenticated", rt.Method, rt.Pattern, h, p.Code)
			}
		}
	}
	if len(seen) < 5 {
		t.Fatalf("only %d tags checked", len(seen))
	}
}

// TestNewTokenAnswerCarriesNoInternalHeader: the header that tells the
// idempotency records which field holds a secret is internal (its doc: "The
// header itself is not sent"), with or without an Idempotency-Key.
func TestNewTokenAnswerCarriesNoInternalHeader(t *testing.T) {
	env := coreServer(t, idempotent(IdempotencyOptions{}))
	for _, key := range []string{"", "k-1"} {
		var hdr []string
		if key != "" {
			hdr = []string{"Idempotency-Key", key}
		}
		w := env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", []byte(`{"kind":"admin"}`), hdr...)
		if w.Code != http.StatusCreated {
			t.Fatalf("create (key %q): %d %s", key, w.Code, w.Body)
		}
		if v := w.Header().Get("X-Concord-Secret-Field"); v != "" {
			t.Errorf("create (key %q): the answer carries an internal header: %q", key, v)
		}
	}
}
