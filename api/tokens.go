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
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
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
	// ErrNoSuchToken is returned by Revoke when no token has the id.
	ErrNoSuchToken = errors.New("no token with that id")
	// ErrInvalidTokenSpec is returned by Create for a spec without a known
	// role, or without a person for any role but admin.
	ErrInvalidTokenSpec = errors.New("invalid token spec")
	// ErrTokensClosed is returned after Close.
	ErrTokensClosed = errors.New("token store closed")
)

var (
	bucketTokens      = []byte("tokens")      // token id → TokenInfo JSON (with the hash)
	bucketIdempotency = []byte("idempotency") // principal key \x00 Idempotency-Key → record JSON
)

// TokenSpec says whom a new token acts for.
type TokenSpec struct {
	// PersonID is the person the token acts as (may be zero for an admin
	// token, which then acts as "admin").
	PersonID uuid.UUID `json:"person_id,omitempty"`
	Role     Role      `json:"role"`
	// SchoolID and PartnershipID restrict the token to one school or
	// partnership (zero: any).
	SchoolID      uuid.UUID `json:"school_id,omitempty"`
	PartnershipID uuid.UUID `json:"partnership_id,omitempty"`
	// Label is a note for the people who manage tokens ("Ana's laptop").
	Label string `json:"label,omitempty"`
}

// TokenInfo describes an issued token, never its secret.
type TokenInfo struct {
	ID            string     `json:"id"`
	PersonID      uuid.UUID  `json:"person_id"`
	Role          Role       `json:"role"`
	SchoolID      uuid.UUID  `json:"school_id,omitempty"`
	PartnershipID uuid.UUID  `json:"partnership_id,omitempty"`
	Label         string     `json:"label,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
}

// storedToken is a TokenInfo with the SHA-256 of its secret, as stored.
type storedToken struct {
	TokenInfo
	Hash []byte `json:"hash"`
}

// Tokens is the store of bearer tokens: random secrets kept only as SHA-256
// hashes, each bound to a person, a role and an optional scope. It
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
// shown this once and never stored. Returns an error wrapping
// ErrInvalidTokenSpec for an unknown role or a missing person (only admin
// tokens may have none).
func (t *Tokens) Create(ctx context.Context, spec TokenSpec) (secret string, info TokenInfo, err error) {
	if !slices.Contains(AllRoles, spec.Role) {
		return "", TokenInfo{}, fmt.Errorf("%w: role %q is not one of %s", ErrInvalidTokenSpec, spec.Role, roleList())
	}
	if spec.PersonID == uuid.Nil && spec.Role != RoleAdmin {
		return "", TokenInfo{}, fmt.Errorf("%w: a %s token needs the person it acts as", ErrInvalidTokenSpec, spec.Role)
	}
	if len(spec.Label) > 200 {
		return "", TokenInfo{}, fmt.Errorf("%w: the label is over 200 characters", ErrInvalidTokenSpec)
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
	st := &storedToken{TokenInfo: TokenInfo{ID: id.String(), PersonID: spec.PersonID, Role: spec.Role, SchoolID: spec.SchoolID,
		PartnershipID: spec.PartnershipID, Label: spec.Label, CreatedAt: t.now().UTC().Truncate(time.Second)}, Hash: hash[:]}

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

// Authenticate implements Authenticator. Returns ErrUnknownToken or
// ErrRevokedToken.
func (t *Tokens) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 128 {
		return Principal{}, ErrUnknownToken
	}
	hash := sha256.Sum256([]byte(token))
	t.mu.RLock()
	st, ok := t.byHash[hash]
	closed := t.closed
	t.mu.RUnlock()
	switch {
	case closed:
		return Principal{}, ErrTokensClosed
	case !ok:
		return Principal{}, ErrUnknownToken
	case st.RevokedAt != nil:
		return Principal{}, ErrRevokedToken
	}
	return Principal{PersonID: st.PersonID, Role: st.Role, SchoolID: st.SchoolID, PartnershipID: st.PartnershipID, TokenID: st.ID}, nil
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

func roleList() string {
	s := make([]string, len(AllRoles))
	for i, r := range AllRoles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
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
	admin := []Role{RoleAdmin}
	return []route{
		{Method: http.MethodPost, Pattern: "/v1/tokens", Summary: "Create a token", Tag: "Tokens", Roles: admin,
			Request: TokenSpec{}, Response: CreatedToken{}, Status: http.StatusCreated, Handle: createToken},
		{Method: http.MethodGet, Pattern: "/v1/tokens", Summary: "List tokens", Tag: "Tokens", Roles: admin,
			Response: []TokenInfo{}, Handle: listTokens},
		{Method: http.MethodDelete, Pattern: "/v1/tokens/{id}", Summary: "Revoke a token", Tag: "Tokens", Roles: admin,
			Response: TokenInfo{}, Handle: revokeToken},
	}
}

func (s *Server) tokens() (tokenManager, error) {
	tm, ok := s.Auth.(tokenManager)
	if !ok {
		return nil, problem(http.StatusNotImplemented, "tokens-not-managed", "Tokens are not managed here",
			"this server's tokens are not managed through the API")
	}
	return tm, nil
}

func createToken(s *Server, w http.ResponseWriter, r *http.Request) error {
	tm, err := s.tokens()
	if err != nil {
		return err
	}
	var spec TokenSpec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	secret, info, err := tm.Create(r.Context(), spec)
	if errors.Is(err, ErrInvalidTokenSpec) {
		field := "person_id"
		switch {
		case !slices.Contains(AllRoles, spec.Role):
			field = "role"
		case len(spec.Label) > 200:
			field = "label"
		}
		return invalidField(field, "%v", err)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/tokens/"+info.ID)
	return reply(w, http.StatusCreated, CreatedToken{Token: secret, TokenInfo: info})
}

func listTokens(s *Server, w http.ResponseWriter, r *http.Request) error {
	tm, err := s.tokens()
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
	tm, err := s.tokens()
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
