package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
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

// storedFingerprints returns the fingerprint of every record in the token
// store's file, by record key.
func storedFingerprints(t *testing.T, tok *Tokens) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := tok.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIdempotency).ForEach(func(k, v []byte) error {
			var rec idemRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out[string(k)] = rec.Fingerprint
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIdempotencyFingerprints: what a record keeps of a request is keyed
// with the server's secret (the plain SHA-256 of the request is nowhere in
// the file), and on a vote route does not depend on the body at all: two
// voters' records are the same whatever each chose, and a retry with
// another body is the same request.
func TestIdempotencyFingerprints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tok, err := OpenTokens(filepath.Join(dir, TokensFile), TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	var tokens []string
	for range 2 {
		s, _, err := tok.Create(ctx, TokenSpec{PersonID: uuid.New()})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, s)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = reply(w, http.StatusCreated, map[string]string{"ok": "yes"})
	})
	mw := NewIdempotency(tok, tok, IdempotencyOptions{Logger: coreQuiet}).Middleware(h)
	send := func(token, path, body, key string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		mw.ServeHTTP(w, req)
		return w
	}
	votes := "/v1/elections/" + uuid.NewString() + "/votes"
	bodies := []string{`{"candidate_id":"` + uuid.NewString() + `"}`, `{"candidate_id":"` + uuid.NewString() + `"}`}
	for i, token := range tokens {
		if w := send(token, votes, bodies[i], "vote-1"); w.Code != http.StatusCreated {
			t.Fatalf("vote %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := send(tokens[0], "/v1/proposals", `{"title":"Lesson study"}`, "p-1"); w.Code != http.StatusCreated {
		t.Fatalf("proposal: %d", w.Code)
	}
	fps := storedFingerprints(t, tok)
	if len(fps) != 3 {
		t.Fatalf("%d records, want 3", len(fps))
	}
	var voteFPs [][]byte
	for k, fp := range fps {
		if strings.HasSuffix(k, "\x00vote-1") {
			voteFPs = append(voteFPs, fp)
		}
	}
	if len(voteFPs) != 2 || !bytes.Equal(voteFPs[0], voteFPs[1]) {
		t.Fatalf("the two votes' records differ (%x): they depend on the choice", voteFPs)
	}
	file, err := os.ReadFile(filepath.Join(dir, TokensFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ path, body string }{{votes, bodies[0]}, {votes, bodies[1]}, {"/v1/proposals", `{"title":"Lesson study"}`}} {
		plain := sha256.New()
		fmt.Fprintf(plain, "%s\n%s\n", http.MethodPost, req.path)
		plain.Write([]byte(req.body))
		sum := plain.Sum(nil)
		if bytes.Contains(file, sum) || bytes.Contains(file, []byte(base64.StdEncoding.EncodeToString(sum))) {
			t.Errorf("the token store holds the plain SHA-256 of POST %s %s", req.path, req.body)
		}
	}
	// On a vote route the same key with another body is the same request:
	// replayed, not refused, and nothing runs again.
	if w := send(tokens[0], votes, bodies[1], "vote-1"); w.Code != http.StatusCreated || w.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("vote retried with another body: %d %v", w.Code, w.Header())
	}
	// Elsewhere it is refused.
	mustProblem(t, send(tokens[0], "/v1/proposals", `{"title":"Other"}`, "p-1"), http.StatusUnprocessableEntity)
	if fi, err := os.Stat(filepath.Join(dir, IdempotencySecretFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v, want mode 0600", fi, err)
	}
}

// TestIdempotencyAnswersFromTheLogWhenTheRecordWasLost plays a crash
// between a command's append and the record of its answer: the record is
// gone (the process died before writing it), the events are in the log. A
// retry with the same key, after a restart, must get the first answer —
// same events, positions, revision and Location — and append nothing; a
// command that would record again if run again (a strengths assessment)
// and one that creates a record (a school, its id chosen by the server)
// both.
func TestIdempotencyAnswersFromTheLogWhenTheRecordWasLost(t *testing.T) {
	records, err := OpenTokens(filepath.Join(t.TempDir(), TokensFile), TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { records.Close() })
	var current atomic.Pointer[Idempotency]
	start := func(e *coreEnv) { // a (re)start of the server
		current.Store(NewIdempotency(records, e.Tokens, IdempotencyOptions{Logger: coreQuiet, Log: e.L.Store, Now: func() time.Time { return apitest.Now }}))
	}
	env := coreServer(t, func(e *coreEnv) func(http.Handler) http.Handler {
		start(e)
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.Load().Middleware(next).ServeHTTP(w, r) })
		}
	})
	forget := func() { // the crash: every remembered answer is lost
		t.Helper()
		if err := records.db.Update(func(tx *bolt.Tx) error {
			if err := tx.DeleteBucket(bucketIdempotency); err != nil {
				return err
			}
			_, err := tx.CreateBucket(bucketIdempotency)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		start(env)
	}
	strengths := "/v1/people/" + env.PersonOf[RoleStaff].String() + "/strengths"
	cases := []struct {
		name string
		role Role
		path string
		body string
	}{
		{"a command that records again when run again", RoleStaff, strengths,
			`{"year":"` + apitest.Year + `","scores":{"relationship_building":60,"executing":70,"strategic_thinking":50,"influencing":40}}`},
		{"a command that creates a record", RoleAdmin, "/v1/schools", `{"name":"Harbour School"}`},
		{"a command that creates a person, their details sealed", RoleDirector, "/v1/people/staff",
			`{"school_id":"` + env.W.SchoolA.String() + `","kind":"educator","name":"Robin Retry","email":"robin@a.example"}`},
	}
	for n, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("lost-%d", n)
			first := env.do(t, c.role, http.MethodPost, c.path, []byte(c.body), "Idempotency-Key", key)
			if first.Code != http.StatusCreated {
				t.Fatalf("first: %d %s", first.Code, first.Body)
			}
			head := headOf(t, env)
			forget()

			again := env.do(t, c.role, http.MethodPost, c.path, []byte(c.body), "Idempotency-Key", key)
			if again.Code != first.Code || again.Body.String() != first.Body.String() {
				t.Fatalf("retry after the lost record: %d %s, want the first answer %d %s", again.Code, again.Body, first.Code, first.Body)
			}
			for _, h := range []string{"ETag", "Location"} {
				if got, want := again.Header().Get(h), first.Header().Get(h); got != want {
					t.Fatalf("%s = %q, want %q", h, got, want)
				}
			}
			if got := headOf(t, env); got != head {
				t.Fatalf("head %d after the retry, want %d: the command was recorded twice", got, head)
			}
			// The answer found in the log is remembered again.
			third := env.do(t, c.role, http.MethodPost, c.path, []byte(c.body), "Idempotency-Key", key)
			if third.Header().Get("Idempotent-Replayed") != "true" || third.Body.String() != first.Body.String() {
				t.Fatalf("third: %d %v %s", third.Code, third.Header(), third.Body)
			}
			// Another request under the same key is another command.
			if c.role == RoleAdmin {
				other := env.do(t, c.role, http.MethodPost, c.path, []byte(`{"name":"Another School"}`), "Idempotency-Key", "other-"+key)
				if other.Code != http.StatusCreated || other.Header().Get("Location") == first.Header().Get("Location") {
					t.Fatalf("another school: %d %s", other.Code, other.Header().Get("Location"))
				}
			}
		})
	}
}

// TestIdempotencyRetryCompletesAnErasureCutByACrash plays a crash inside
// an erasure: the PersonalDataErased event recorded (under the request's
// command id), the key not yet destroyed, the answer never sent nor
// remembered. The retry with the same key must record nothing more,
// answer with the first attempt's events, and destroy the key.
func TestIdempotencyRetryCompletesAnErasureCutByACrash(t *testing.T) {
	ctx := context.Background()
	records, err := OpenTokens(filepath.Join(t.TempDir(), TokensFile), TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { records.Close() })
	var idem *Idempotency
	env := coreServer(t, func(e *coreEnv) func(http.Handler) http.Handler {
		idem = NewIdempotency(records, e.Tokens, IdempotencyOptions{Logger: coreQuiet, Log: e.L.Store, Now: func() time.Time { return apitest.Now }})
		return idem.Middleware
	})
	person := env.W.StaffA2
	path := "/v1/people/" + person.String() + "/erasure"
	body := []byte(`{"reason":"request ER-9"}`)
	const key = "erase-1"

	// The first attempt, cut by the crash after its append.
	director, err := env.Tokens.Authenticate(ctx, env.Token[RoleDirector])
	if err != nil {
		t.Fatal(err)
	}
	cmdID := idem.commandID("token:"+director.TokenID+"\x00"+key, idem.fingerprint(httptest.NewRequest(http.MethodPost, path, nil), body))
	first, err := env.L.Governance.ErasePersonalData(ctx, domain.Meta{ActorID: director.ID(), ActorRole: domain.RoleDirector, Reason: "request ER-9", CausationID: cmdID},
		governance.ErasePersonalData{PersonID: person, Reason: "request ER-9"})
	if err != nil || len(first.Events) == 0 {
		t.Fatalf("the first attempt: %v, %d events", err, len(first.Events))
	}
	if env.L.Keys.IsErased(person.String()) {
		t.Fatal("the key is destroyed before the retry: the crash was not played")
	}
	head := headOf(t, env)

	again := env.do(t, RoleDirector, http.MethodPost, path, body, "Idempotency-Key", key)
	if again.Code != http.StatusCreated {
		t.Fatalf("retry: %d %s", again.Code, again.Body)
	}
	var res CommandResult
	if err := json.Unmarshal(again.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != len(first.Events) || res.Events[0].ID != first.Events[0].ID || res.Events[0].Position != first.Events[0].Position {
		t.Fatalf("retry answered %s, want the first attempt's events %v", again.Body, first.Events[0].Recorded)
	}
	if got := headOf(t, env); got != head {
		t.Fatalf("head %d after the retry, want %d", got, head)
	}
	if !env.L.Keys.IsErased(person.String()) {
		t.Fatal("the retry did not destroy the key the crash left")
	}
}
