package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestTokensAuthenticateRevokeAndSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), TokensFile)
	tok, err := OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	person, school := uuid.New(), uuid.New()
	secret, info, err := tok.Create(ctx, TokenSpec{PersonID: person, Role: RoleGovernor, SchoolID: school, Label: "governor laptop"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+43 {
		t.Fatalf("secret %q: want %s + 43 base64url characters", secret, TokenPrefix)
	}
	keep, _, err := tok.Create(ctx, TokenSpec{Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tok.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if p.PersonID != person || p.Role != RoleGovernor || p.SchoolID != school || p.TokenID != info.ID {
		t.Fatalf("principal %+v", p)
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
	if p, err := tok.Authenticate(ctx, keep); err != nil || p.Role != RoleAdmin {
		t.Fatalf("admin token after reopen: %+v, %v", p, err)
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
	tok, _ := OpenTokens("", TokensOptions{})
	for _, spec := range []TokenSpec{
		{Role: "janitor", PersonID: uuid.New()},
		{Role: RoleStaff},
		{Role: RoleAdmin, Label: strings.Repeat("x", 201)},
	} {
		if _, _, err := tok.Create(context.Background(), spec); !errors.Is(err, ErrInvalidTokenSpec) {
			t.Errorf("Create(%+v): err %v, want ErrInvalidTokenSpec", spec, err)
		}
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
	person := uuid.New()
	w := env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", []byte(`{"person_id":"`+person.String()+`","role":"staff","label":"x"}`))
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	created := mustJSON[CreatedToken](t, w)
	if created.PersonID != person || created.Role != RoleStaff || !strings.HasPrefix(created.Token, TokenPrefix) {
		t.Fatalf("created %+v", created)
	}
	if p, err := env.Tokens.Authenticate(context.Background(), created.Token); err != nil || p.PersonID != person {
		t.Fatalf("new token authenticates as %+v, %v", p, err)
	}

	w = env.do(t, RoleAdmin, http.MethodGet, "/v1/tokens", nil)
	if strings.Contains(w.Body.String(), created.Token) || strings.Contains(w.Body.String(), `"hash"`) {
		t.Fatalf("list leaks secrets: %s", w.Body)
	}
	if list := mustJSON[[]TokenInfo](t, w); len(list) != len(AllRoles)+1 {
		t.Fatalf("list has %d tokens, want %d", len(list), len(AllRoles)+1)
	}

	p := mustProblem(t, env.do(t, RoleAdmin, http.MethodPost, "/v1/tokens", []byte(`{"role":"wizard"}`)), http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "role" {
		t.Fatalf("bad role problem %+v", p)
	}
	mustProblem(t, env.do(t, RoleAdmin, http.MethodDelete, "/v1/tokens/"+uuid.NewString(), nil), http.StatusNotFound)
	mustProblem(t, env.do(t, RoleAdmin, http.MethodDelete, "/v1/tokens/nope", nil), http.StatusBadRequest)

	w = env.do(t, RoleAdmin, http.MethodDelete, "/v1/tokens/"+created.ID, nil)
	if w.Code != http.StatusOK || mustJSON[TokenInfo](t, w).RevokedAt == nil {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}
	// The revoked token is refused with 401.
	env.Token["revoked"] = created.Token
	mustProblem(t, env.do(t, "revoked", http.MethodGet, "/v1/tokens", nil), http.StatusUnauthorized)
}
