package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/api/app"
)

// TokenPrefix starts every token Concord issues, so that a leaked token is
// recognisable (secret scanners, logs).
const TokenPrefix = "concord_"

// TokensFile is the name of the token store inside a data directory. It
// also keeps the Idempotency-Key records.
const TokensFile = "tokens.db"

// Errors of the token store.
var (
	// ErrUnknownToken is returned by Authenticate when the token is not one
	// the store issued, or is malformed.
	ErrUnknownToken = errors.New("unknown token")
	// ErrRevokedToken is returned by Authenticate when the token was revoked.
	ErrRevokedToken = errors.New("token revoked")
	// ErrExpiredToken is returned by Authenticate after the token's expiry.
	ErrExpiredToken = errors.New("token expired")
	// ErrNoSuchToken is returned by Revoke when no token has the id.
	ErrNoSuchToken = errors.New("no token with that id")
	// ErrInvalidTokenSpec is returned by Create for a spec of an unknown
	// kind, a person token without a person, an admin token bound to one,
	// or an expiry in the past.
	ErrInvalidTokenSpec = errors.New("invalid token spec")
	// ErrTokensClosed is returned after Close.
	ErrTokensClosed = errors.New("token store closed")
)

var (
	bucketTokens      = []byte("tokens")      // token id → TokenInfo JSON (with the hash)
	bucketIdempotency = []byte("idempotency") // principal key \x00 Idempotency-Key → record JSON
)

// TokenSpec says whom a new token authenticates. A token carries no role
// and no scope: what its holder may do follows from the ledger.
type TokenSpec struct {
	// Kind is "person" (the default) or "admin" (the system administrator).
	Kind app.Kind `json:"kind,omitempty" enum:"person,admin"`
	// PersonID is the person the token authenticates (none for admin).
	PersonID uuid.UUID `json:"person_id,omitzero"`
	// Label is a note for the people who manage tokens ("Ana's laptop").
	Label string `json:"label,omitempty"`
	// ExpiresAt, when set, is when the token stops working.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// TokenInfo describes an issued token, never its secret.
type TokenInfo struct {
	ID        string     `json:"id"`
	Kind      app.Kind   `json:"kind"`
	PersonID  uuid.UUID  `json:"person_id,omitzero"`
	Label     string     `json:"label,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// storedV1 reads tokens written before tokens stopped carrying a role.
type storedV1 struct {
	Role string `json:"role"`
}

// storedToken is a TokenInfo with the SHA-256 of its secret, as stored.
type storedToken struct {
	TokenInfo
	Hash []byte `json:"hash"`
}

// Tokens is the store of bearer tokens: random secrets kept only as SHA-256
// hashes, each bound to a person (or the administrator), with an optional
// expiry. It
// implements Authenticator. All tokens are held in memory (there are few)
// and written through to a bbolt file, so authentication costs a hash and
// a map lookup.
type Tokens struct {
	db  *bolt.DB // nil: in memory only
	now func() time.Time

	mu     sync.RWMutex
	byHash map[[sha256.Size]byte]*storedToken
	byID   map[string]*storedToken
	closed bool
}

// TokensOptions configure OpenTokens.
type TokensOptions struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Timeout bounds the wait for the file's lock, held by a running server
	// (default 1s).
	Timeout time.Duration
}

// OpenTokens opens (creating if needed) the token store at path; path ""
// keeps tokens in memory only. Returns an error when the file is locked by
// another process (a running server) after opts.Timeout.
func OpenTokens(path string, opts TokensOptions) (*Tokens, error) {
	t := &Tokens{now: opts.Now, byHash: map[[sha256.Size]byte]*storedToken{}, byID: map[string]*storedToken{}}
	if t.now == nil {
		t.now = time.Now
	}
	if path == "" {
		return t, nil
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open tokens %s: locked by another process (is concord serve running? then manage tokens through the API): %w", path, err)
		}
		return nil, fmt.Errorf("open tokens %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketTokens, bucketIdempotency} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
			var st storedToken
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("token %s: %w", k, err)
			}
			if st.Kind == "" {
				var old storedV1
				if err := json.Unmarshal(v, &old); err != nil {
					return fmt.Errorf("token %s: %w", k, err)
				}
				st.Kind = app.KindPerson
				if old.Role == "admin" {
					st.Kind, st.PersonID = app.KindAdmin, uuid.Nil
				}
			}
			if len(st.Hash) != sha256.Size {
				return fmt.Errorf("token %s: hash of %d bytes", k, len(st.Hash))
			}
			t.index(&st)
			return nil
		})
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open tokens %s: %w", path, err)
	}
	t.db = db
	return t, nil
}

func (t *Tokens) index(st *storedToken) {
	t.byHash[[sha256.Size]byte(st.Hash)] = st
	t.byID[st.ID] = st
}

// Create issues a new token for spec and returns its secret, which is
// shown this once and never stored. Returns a *TokenSpecError (matching
// ErrInvalidTokenSpec) naming the field at fault.
func (t *Tokens) Create(ctx context.Context, spec TokenSpec) (secret string, info TokenInfo, err error) {
	if spec.Kind == "" {
		spec.Kind = app.KindPerson
	}
	if field, msg := spec.problem(t.now()); field != "" {
		return "", TokenInfo{}, &TokenSpecError{Field: field, Msg: msg}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", TokenInfo{}, fmt.Errorf("create token: %w", err)
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	hash := sha256.Sum256([]byte(secret))
	id, err := uuid.NewV7()
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("create token: %w", err)
	}
	st := &storedToken{TokenInfo: TokenInfo{ID: id.String(), Kind: spec.Kind, PersonID: spec.PersonID, Label: spec.Label,
		CreatedAt: t.now().UTC().Truncate(time.Second)}, Hash: hash[:]}
	if !spec.ExpiresAt.IsZero() {
		exp := spec.ExpiresAt.UTC()
		st.ExpiresAt = &exp
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return "", TokenInfo{}, ErrTokensClosed
	}
	if err := t.put(st); err != nil {
		return "", TokenInfo{}, fmt.Errorf("create token: %w", err)
	}
	t.index(st)
	return secret, st.TokenInfo, nil
}

// put writes st durably (nothing in memory).
func (t *Tokens) put(st *storedToken) error {
	if t.db == nil {
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return t.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketTokens).Put([]byte(st.ID), b) })
}

// Revoke revokes the token with id; it authenticates no more. Revoking a
// revoked token changes nothing. Returns ErrNoSuchToken for an unknown id.
func (t *Tokens) Revoke(ctx context.Context, id string) (TokenInfo, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return TokenInfo{}, ErrTokensClosed
	}
	st, ok := t.byID[id]
	if !ok {
		return TokenInfo{}, fmt.Errorf("revoke %q: %w", id, ErrNoSuchToken)
	}
	if st.RevokedAt != nil {
		return st.TokenInfo, nil
	}
	next := *st
	at := t.now().UTC().Truncate(time.Second)
	next.RevokedAt = &at
	if err := t.put(&next); err != nil {
		return TokenInfo{}, fmt.Errorf("revoke %s: %w", id, err)
	}
	t.index(&next)
	return next.TokenInfo, nil
}

// List returns every token, revoked ones included, oldest first.
func (t *Tokens) List(ctx context.Context) ([]TokenInfo, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return nil, ErrTokensClosed
	}
	out := make([]TokenInfo, 0, len(t.byID))
	for _, st := range t.byID {
		out = append(out, st.TokenInfo)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Authenticate implements Authenticator. Returns ErrUnknownToken,
// ErrRevokedToken or ErrExpiredToken.
func (t *Tokens) Authenticate(ctx context.Context, token string) (app.Actor, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return app.Actor{}, ErrUnknownToken
	}
	hash := sha256.Sum256([]byte(token))
	t.mu.RLock()
	st, ok := t.byHash[hash]
	closed := t.closed
	t.mu.RUnlock()
	switch {
	case closed:
		return app.Actor{}, ErrTokensClosed
	case !ok:
		return app.Actor{}, ErrUnknownToken
	}
	return t.actorOf(st)
}

// Check returns the actor of token id if it still authenticates: the web
// pages' sessions call it on every request, so a revoked or expired token
// ends its sessions at once. Returns ErrUnknownToken, ErrRevokedToken or
// ErrExpiredToken.
func (t *Tokens) Check(ctx context.Context, id string) (app.Actor, error) {
	t.mu.RLock()
	st, ok := t.byID[id]
	closed := t.closed
	t.mu.RUnlock()
	switch {
	case closed:
		return app.Actor{}, ErrTokensClosed
	case !ok:
		return app.Actor{}, ErrUnknownToken
	}
	return t.actorOf(st)
}

func (t *Tokens) actorOf(st *storedToken) (app.Actor, error) {
	switch {
	case st.RevokedAt != nil:
		return app.Actor{}, ErrRevokedToken
	case st.ExpiresAt != nil && !t.now().Before(*st.ExpiresAt):
		return app.Actor{}, ErrExpiredToken
	}
	return app.Actor{Kind: st.Kind, PersonID: st.PersonID, TokenID: st.ID}, nil
}

// TokenSpecError is the error of Create for a spec it refuses: the field
// at fault and why. It matches ErrInvalidTokenSpec with errors.Is.
type TokenSpecError struct {
	Field, Msg string
}

func (e *TokenSpecError) Error() string { return ErrInvalidTokenSpec.Error() + ": " + e.Msg }

// Is makes errors.Is(err, ErrInvalidTokenSpec) true.
func (e *TokenSpecError) Is(target error) bool { return target == ErrInvalidTokenSpec }

// problem returns the field at fault in spec and why ("" when none).
func (spec TokenSpec) problem(now time.Time) (field, msg string) {
	switch {
	case spec.Kind != app.KindPerson && spec.Kind != app.KindAdmin:
		return "kind", fmt.Sprintf("kind %q is neither person nor admin", spec.Kind)
	case spec.Kind == app.KindPerson && spec.PersonID == uuid.Nil:
		return "person_id", "a person's token needs the person it authenticates"
	case spec.Kind == app.KindAdmin && spec.PersonID != uuid.Nil:
		return "person_id", "an admin token authenticates the system administrator, not a person"
	case len(spec.Label) > 200:
		return "label", "the label is over 200 characters"
	case !spec.ExpiresAt.IsZero() && !spec.ExpiresAt.After(now):
		return "expires_at", "the expiry is in the past"
	}
	return "", ""
}

// Close closes the store's file.
func (t *Tokens) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.db != nil {
		return t.db.Close()
	}
	return nil
}

// tokenManager is what the token routes need of the server's Authenticator.
type tokenManager interface {
	Create(ctx context.Context, spec TokenSpec) (string, TokenInfo, error)
	Revoke(ctx context.Context, id string) (TokenInfo, error)
	List(ctx context.Context) ([]TokenInfo, error)
}

// CreatedToken is the answer to creating a token: its secret, shown once.
type CreatedToken struct {
	Token string `json:"token"`
	TokenInfo
}

func init() { addRoutes(tokenRoutes) }

func tokenRoutes() []route {
	return []route{
		{Method: http.MethodPost, Pattern: "/v1/tokens", Summary: "Create a token", Tag: "Tokens", Auth: true, UseCase: "ManageTokens",
			Request: TokenSpec{}, Response: CreatedToken{}, Status: http.StatusCreated, Handle: createToken},
		{Method: http.MethodGet, Pattern: "/v1/tokens", Summary: "List tokens", Tag: "Tokens", Auth: true, UseCase: "ManageTokens",
			Response: []TokenInfo{}, Handle: listTokens},
		{Method: http.MethodDelete, Pattern: "/v1/tokens/{id}", Summary: "Revoke a token", Tag: "Tokens", Auth: true, UseCase: "ManageTokens",
			Response: TokenInfo{}, Handle: revokeToken},
	}
}

// tokens returns the server's token manager once the application layer
// allows the caller to manage tokens.
func (s *Server) tokens(r *http.Request) (tokenManager, error) {
	if err := s.authorizeOp(r, "ManageTokens"); err != nil {
		return nil, err
	}
	tm, ok := s.Auth.(tokenManager)
	if !ok {
		return nil, problem(http.StatusNotImplemented, "tokens-not-managed", "Tokens are not managed here",
			"this server's tokens are not managed through the API")
	}
	return tm, nil
}

func createToken(s *Server, w http.ResponseWriter, r *http.Request) error {
	tm, err := s.tokens(r)
	if err != nil {
		return err
	}
	var spec TokenSpec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	secret, info, err := tm.Create(r.Context(), spec)
	var specErr *TokenSpecError
	if errors.As(err, &specErr) {
		return invalidField(specErr.Field, "%s", specErr.Msg)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/tokens/"+info.ID)
	markSecret(r, "token")
	return reply(w, http.StatusCreated, CreatedToken{Token: secret, TokenInfo: info})
}

func listTokens(s *Server, w http.ResponseWriter, r *http.Request) error {
	tm, err := s.tokens(r)
	if err != nil {
		return err
	}
	list, err := tm.List(r.Context())
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, list)
}

func revokeToken(s *Server, w http.ResponseWriter, r *http.Request) error {
	tm, err := s.tokens(r)
	if err != nil {
		return err
	}
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	info, err := tm.Revoke(r.Context(), id.String())
	if errors.Is(err, ErrNoSuchToken) {
		return notFound("there is no token %s", id)
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, info)
}
