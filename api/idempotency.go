package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/api/app"
)

// IdempotencySecretFile is the file, beside the token store's, holding the
// server's secret that keys request fingerprints (32 random bytes, mode
// 0600). It is never put in a backup.
const IdempotencySecretFile = "idempotency.key"

// IdempotencyTTL is how long a remembered response is replayed by default.
const IdempotencyTTL = 24 * time.Hour

// replayHeaders are the response headers a replay repeats; the rest
// (Date, X-Request-ID) belong to the retry.
var replayHeaders = []string{"Content-Type", "ETag", "Location", "Cache-Control", "X-Content-Type-Options"}

// Idempotency makes POST and DELETE requests that carry an Idempotency-Key
// header safe to retry. The first successful (2xx) response to a key is
// remembered for the caller; a retry with the same key, method, path and
// body gets that response again (with Idempotent-Replayed: true) and
// writes nothing; the same key with another request is refused with 422;
// a retry while the first is still running gets 409. Failed responses are
// not remembered, so a request that failed may be retried as it is.
//
// The record is written before the response is sent, so a response a
// client saw is never forgotten by a crash. Records live in the token
// store's file (or in memory for an in-memory token store) for the TTL.
//
// What a record keeps of the request is a fingerprint: an HMAC-SHA-256,
// keyed with the server's secret (IdempotencySecretFile), of the method,
// the path and the body, so that the token store alone does not let
// anyone test guesses of what was sent. On the routes that cast a secret
// ballot's vote the body is left out of the fingerprint: a record there
// depends on who voted in which ballot (public in the log) and on nothing
// the voter chose, so not even the server's secret links a voter to a
// choice, during the ballot or after. A retry there with the same key and
// another body is answered with the first response, which is what the
// domain would say anyway: one vote per member.
type Idempotency struct {
	db     *bolt.DB // nil: memory
	secret []byte
	auth   Authenticator
	ttl    time.Duration
	now    func() time.Time
	log    *slog.Logger
	cmds   *commandIndex // nil: no log to look in

	mu       sync.Mutex
	mem      map[string]idemRecord
	inflight map[string]struct{}
	puts     int
}

// IdempotencyOptions configure NewIdempotency.
type IdempotencyOptions struct {
	// TTL is how long responses are remembered (default IdempotencyTTL).
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Log, when set, is the event log the ledger appends to: a retry
	// whose answer was not remembered (a crash between the append and
	// the record) is then answered from the command's events found there
	// instead of running again (see CommandLog).
	Log CommandLog
}

type idemRecord struct {
	Fingerprint []byte              `json:"fp"`
	Status      int                 `json:"status"`
	Header      map[string][]string `json:"header"`
	Body        []byte              `json:"body"`
	At          time.Time           `json:"at"`
}

// NewIdempotency returns the middleware's state, keeping records in t's
// file (in memory when t is in memory) and telling callers apart by what
// auth says their token is. The fingerprint secret is read from (or first
// made in) IdempotencySecretFile beside t's file; with a token store in
// memory it is random and lives as long as the process. A secret that
// cannot be read or written is logged and replaced by a random one for
// the process: records from before a restart then no longer match, which
// refuses (422) a retry rather than replaying it.
func NewIdempotency(t *Tokens, auth Authenticator, opts IdempotencyOptions) *Idempotency {
	i := &Idempotency{auth: auth, ttl: opts.TTL, now: opts.Now, log: opts.Logger,
		mem: map[string]idemRecord{}, inflight: map[string]struct{}{}}
	if t != nil {
		i.db = t.db
	}
	if opts.Log != nil {
		i.cmds = newCommandIndex(opts.Log)
	}
	if i.log == nil {
		i.log = slog.Default()
	}
	secretPath := ""
	if i.db != nil {
		secretPath = filepath.Join(filepath.Dir(i.db.Path()), IdempotencySecretFile)
	}
	var err error
	if i.secret, err = loadOrCreateSecret(secretPath); err != nil {
		i.log.Error("idempotency: the fingerprint secret is unusable; using one for this process only", "err", err)
		i.secret = make([]byte, sha256.Size)
		_, _ = rand.Read(i.secret)
	}
	if i.db != nil {
		// Records from concurrent requests share one commit; the short
		// delay bounds the latency this adds.
		i.db.MaxBatchDelay = 2 * time.Millisecond
	}
	if i.ttl <= 0 {
		i.ttl = IdempotencyTTL
	}
	if i.now == nil {
		i.now = time.Now
	}
	if err := i.Sweep(); err != nil {
		i.log.Warn("idempotency: sweeping expired records", "err", err)
	}
	return i
}

// Sweep deletes records older than the TTL.
func (i *Idempotency) Sweep() error {
	cutoff := i.now().Add(-i.ttl)
	if i.db == nil {
		i.mu.Lock()
		defer i.mu.Unlock()
		for k, rec := range i.mem {
			if rec.At.Before(cutoff) {
				delete(i.mem, k)
			}
		}
		return nil
	}
	return i.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIdempotency)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var rec idemRecord
			if json.Unmarshal(v, &rec) != nil || rec.At.Before(cutoff) {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (i *Idempotency) get(key string) (idemRecord, bool, error) {
	var rec idemRecord
	var found bool
	if i.db == nil {
		i.mu.Lock()
		rec, found = i.mem[key]
		i.mu.Unlock()
	} else {
		err := i.db.View(func(tx *bolt.Tx) error {
			v := tx.Bucket(bucketIdempotency).Get([]byte(key))
			if v == nil {
				return nil
			}
			found = true
			return json.Unmarshal(v, &rec)
		})
		if err != nil {
			return rec, false, fmt.Errorf("read idempotency record: %w", err)
		}
	}
	if found && rec.At.Before(i.now().Add(-i.ttl)) {
		return idemRecord{}, false, nil
	}
	return rec, found, nil
}

func (i *Idempotency) put(key string, rec idemRecord) error {
	i.mu.Lock()
	i.puts++
	sweep := i.puts%1024 == 0
	if i.db == nil {
		i.mem[key] = rec
	}
	i.mu.Unlock()
	if i.db != nil {
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := i.db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(bucketIdempotency).Put([]byte(key), b) }); err != nil {
			return fmt.Errorf("write idempotency record: %w", err)
		}
	}
	if sweep {
		if err := i.Sweep(); err != nil {
			i.log.Warn("idempotency: sweeping expired records", "err", err)
		}
	}
	return nil
}

// principalKey names the caller of r for the records, or "" when r
// carries no valid credentials (such requests are passed on untouched),
// and returns the caller.
func (i *Idempotency) principalKey(r *http.Request) (string, app.Actor) {
	p, ok := ActorOf(r.Context())
	if !ok {
		tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found || i.auth == nil {
			return "", p
		}
		var err error
		if p, err = i.auth.Authenticate(r.Context(), strings.TrimSpace(tok)); err != nil {
			return "", p
		}
	}
	if p.TokenID != "" {
		return "token:" + p.TokenID, p
	}
	return string(p.Kind) + ":" + p.PersonID.String(), p
}

// Middleware is the http middleware.
func (i *Idempotency) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || (r.Method != http.MethodPost && r.Method != http.MethodDelete && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 || strings.ContainsFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			writeProblem(w, r, badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters"))
			return
		}
		who, actor := i.principalKey(r)
		if who == "" {
			next.ServeHTTP(w, r) // the route answers 401, or is public
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
		if err != nil {
			writeProblem(w, r, badRequest("reading the body: %v", err))
			return
		}
		if len(body) > MaxBodySize { // the handler answers 413
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			next.ServeHTTP(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fp := i.fingerprint(r, body)
		rkey := who + "\x00" + key

		i.mu.Lock()
		if _, busy := i.inflight[rkey]; busy {
			i.mu.Unlock()
			writeProblem(w, r, problem(http.StatusConflict, "idempotency-key-in-use", "A request with this key is still running",
				"a request with Idempotency-Key %q is still being answered; retry when it is done", key))
			return
		}
		i.inflight[rkey] = struct{}{}
		i.mu.Unlock()
		defer func() {
			i.mu.Lock()
			delete(i.inflight, rkey)
			i.mu.Unlock()
		}()

		rec, found, err := i.get(rkey)
		if err != nil {
			i.log.Error("idempotency", "request_id", RequestID(r.Context()), "err", err)
			writeProblem(w, r, ProblemOf(err))
			return
		}
		if found {
			if !bytes.Equal(rec.Fingerprint, fp) {
				writeProblem(w, r, problem(http.StatusUnprocessableEntity, "idempotency-key-reused", "The Idempotency-Key was used for another request",
					"Idempotency-Key %q was first used with another method, path or body; use a new key for a new request", key))
				return
			}
			for k, vs := range rec.Header {
				w.Header().Del(k)
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.Status)
			_, _ = w.Write(rec.Body)
			return
		}

		cmd := &keyedCommand{id: i.commandID(rkey, fp)}
		if i.cmds != nil {
			if cmd.prior, err = i.cmds.lookup(r.Context(), cmd.id, actor.ID(), i.now(), i.ttl); err != nil {
				i.log.Error("idempotency", "request_id", RequestID(r.Context()), "err", err)
				writeProblem(w, r, ProblemOf(err))
				return
			}
		}
		bw := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		secret := &secretField{}
		ctx := context.WithValue(r.Context(), secretKey{}, secret)
		next.ServeHTTP(bw, r.WithContext(context.WithValue(ctx, keyedCommandKey{}, cmd)))
		if bw.status >= 200 && bw.status < 300 {
			rec := idemRecord{Fingerprint: fp, Status: bw.status, Header: map[string][]string{}, Body: withoutSecrets(secret, bw.body.Bytes()), At: i.now().UTC()}
			for _, k := range replayHeaders {
				if v := bw.header.Values(k); len(v) > 0 {
					rec.Header[k] = v
				}
			}
			if err := i.put(rkey, rec); err != nil {
				// The command is recorded; the client is told so, but a retry
				// with this key would run it again.
				i.log.Error("idempotency: the response could not be remembered", "request_id", RequestID(r.Context()), "err", err)
			}
		}
		for k, v := range bw.header {
			w.Header()[k] = v
		}
		w.WriteHeader(bw.status)
		_, _ = w.Write(bw.body.Bytes())
	})
}

// fingerprint is what a record keeps of a request: the HMAC of its
// method, path and (except on a secret ballot's vote) body.
func (i *Idempotency) fingerprint(r *http.Request, body []byte) []byte {
	mac := hmac.New(sha256.New, i.secret)
	fmt.Fprintf(mac, "%s\n%s\n", r.Method, r.URL.RequestURI())
	if !castsVote(r) {
		mac.Write(body)
	}
	return mac.Sum(nil)
}

// castsVote reports whether r is routed to a route that casts a vote in a
// ballot (".../votes"): its body holds the voter's choice.
func castsVote(r *http.Request) bool {
	p := routePattern(r)
	if p == "" {
		p = r.URL.Path
	}
	return strings.HasSuffix(strings.TrimSuffix(p, "/"), "/votes")
}

// loadOrCreateSecret returns the secret in path, first writing a new random
// one (mode 0600, synced) if there is none; path "" gives a random secret
// that is not kept.
func loadOrCreateSecret(path string) ([]byte, error) {
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil && len(b) == sha256.Size:
			return b, nil
		case err == nil:
			return nil, fmt.Errorf("%s holds %d bytes, want %d", path, len(b), sha256.Size)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	secret := make([]byte, sha256.Size)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if path == "" {
		return secret, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(secret); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return secret, f.Close()
}

// bufferedWriter holds a response until it is remembered.
type bufferedWriter struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if !b.wroteHeader {
		b.status, b.wroteHeader = status, true
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wroteHeader = true
	return b.body.Write(p)
}

// Flush is a no-op: the response is sent whole once remembered.
func (b *bufferedWriter) Flush() {}

// secretField is put on a remembered request's context: a handler whose
// answer holds a secret shown once (a new token's) names its JSON field,
// which is blanked in the remembered answer, so no idempotency record holds
// a secret and a replay says the secret was shown once.
type secretField struct{ name string }

type secretKey struct{}

// markSecret names the field of r's answer that holds a secret, when r's
// answer is to be remembered.
func markSecret(r *http.Request, field string) {
	if m, ok := r.Context().Value(secretKey{}).(*secretField); ok {
		m.name = field
	}
}

// withoutSecrets returns body with the secret field named by m replaced.
func withoutSecrets(m *secretField, body []byte) []byte {
	if m.name == "" {
		return body
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return []byte(`{}`)
	}
	obj[m.name], _ = json.Marshal("(shown once, when it was made: revoke this one and create another if it was lost)")
	out, err := json.Marshal(obj)
	if err != nil {
		return []byte(`{}`)
	}
	return out
}
