package api

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// lockedLog is a log destination safe for the server's goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// untar returns the regular files of a backup archive by name.
func untar(t *testing.T, archive []byte) map[string][]byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			out[h.Name] = b
		}
	}
}

// TestNothingLinksAVoterToAChoiceAfterTheBallotCloses is the secret
// ballot's promise, end to end over the API as concord serve wires it
// (token store on disk, Idempotency-Key records, request logs, metrics):
// members vote in a secret election (with Idempotency-Key, one retried), a
// backup is taken while the ballot is open, the election closes, a second
// backup is taken. Then someone holding both backups, every file of the
// data directory (every key, the token store and the idempotency secret
// included), the logs and the metrics, and knowing exactly what each
// voter's request looked like, cannot tell who chose whom:
//
//   - no 32-byte file anywhere opens any sealed choice, and the ballot's
//     key (seen before the close) appears in no byte of any of it;
//   - no fingerprint of any voter's request with any candidate, plain
//     SHA-256 or keyed with the secret found on disk, is stored anywhere;
//   - no vote's body is stored anywhere.
//
// The same search before the close finds the key in the data directory,
// so the search can find what it looks for.
func TestNothingLinksAVoterToAChoiceAfterTheBallotCloses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var logs lockedLog
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Logger: logger,
		Transparency: transparency.Options{CheckpointEvery: 1 << 40, CheckpointInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tokens, err := OpenTokens(filepath.Join(dir, TokensFile), TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	metrics := NewMetrics()
	if err := metrics.WatchLedger(l); err != nil {
		t.Fatal(err)
	}
	idem := NewIdempotency(tokens, tokens, IdempotencyOptions{Logger: logger})
	srv := New(l, Options{Auth: tokens, Logger: logger,
		Middleware: []func(http.Handler) http.Handler{RequestLog(logger), metrics.Middleware, BodyDeadline(0), idem.Middleware}})

	call := func(token, path string, body any, status int, header ...string) []byte {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req := httptest.NewRequest(http.MethodPost, path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != status {
			t.Fatalf("POST %s: %d %s, want %d", path, rec.Code, rec.Body, status)
		}
		return rec.Body.Bytes()
	}
	newToken := func(spec TokenSpec) string {
		t.Helper()
		s, _, err := tokens.Create(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	admin := newToken(TokenSpec{Kind: app.KindAdmin})
	school, director := uuid.New(), uuid.New()
	year := partnership.AcademicYearOf(time.Now().UTC())
	call(admin, "/v1/schools", map[string]any{"school_id": school, "name": "Moorside School"}, http.StatusCreated)
	members := make([]uuid.UUID, 4)
	staffTokens := make([]string, 4)
	call(admin, "/v1/people/staff", map[string]any{"person_id": director, "school_id": school, "kind": "educator", "name": "Dana Director"}, http.StatusCreated)
	call(admin, "/v1/schools/"+school.String()+"/director", map[string]any{"director_id": director}, http.StatusCreated)
	tDirector := newToken(TokenSpec{PersonID: director})
	call(tDirector, "/v1/schools/"+school.String()+"/years", map[string]any{"year": year}, http.StatusCreated)
	seg := governance.DefaultSegmentID(school, governance.DefaultSegmentNames[0])
	community := governance.CommunityID(school, seg)
	call(tDirector, "/v1/communities", map[string]any{"school_id": school, "segment_id": seg}, http.StatusCreated)
	for i := range members {
		members[i] = uuid.New()
		call(tDirector, "/v1/people/staff", map[string]any{"person_id": members[i], "school_id": school, "kind": "educator", "name": fmt.Sprintf("Member %c", 'A'+i)}, http.StatusCreated)
		staffTokens[i] = newToken(TokenSpec{PersonID: members[i]})
		call(staffTokens[i], "/v1/communities/"+community.String()+"/members", map[string]any{"person_id": members[i], "year": year, "basis": []string{"interest"}}, http.StatusCreated)
	}
	election := uuid.New()
	call(staffTokens[0], "/v1/communities/"+community.String()+"/elections", map[string]any{"election_id": election, "year": year}, http.StatusCreated)
	el := "/v1/elections/" + election.String()
	candidates := members[:2]
	for i, c := range candidates {
		call(staffTokens[i], el+"/nominations", map[string]any{"nominee_id": c}, http.StatusCreated)
		call(staffTokens[i], el+"/nomination/accept", nil, http.StatusCreated)
	}
	call(staffTokens[0], el+"/voting", nil, http.StatusCreated)

	// The votes, each with an Idempotency-Key; the first is retried.
	choice := []uuid.UUID{candidates[1], candidates[0], candidates[1], candidates[0]}
	voteBody := func(c uuid.UUID) []byte { b, _ := json.Marshal(map[string]any{"candidate_id": c}); return b }
	for i, tok := range staffTokens {
		call(tok, el+"/votes", map[string]any{"candidate_id": choice[i]}, http.StatusCreated, "Idempotency-Key", "vote-"+fmt.Sprint(i))
	}
	call(staffTokens[0], el+"/votes", map[string]any{"candidate_id": choice[0]}, http.StatusCreated, "Idempotency-Key", "vote-0")

	type sealedVote struct {
		voter  uuid.UUID
		sealed []byte
	}
	var votes []sealedVote
	recs, err := l.Store.ReadAll(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == "VoteCast" {
			var v governance.VoteCast
			if err := json.Unmarshal(r.Data, &v); err != nil {
				t.Fatal(err)
			}
			votes = append(votes, sealedVote{v.VoterID, v.SealedChoice})
		}
	}
	if len(votes) != len(members) {
		t.Fatalf("%d votes recorded, want %d", len(votes), len(members))
	}
	subject := "ballot-" + election.String()
	opens := func(key []byte) bool {
		for _, v := range votes {
			if _, err := domain.OpenWithKey(key, subject, v.sealed); err == nil {
				return true
			}
		}
		return false
	}

	// What an adversary holds: every file under the data directory, the
	// backups, the logs, the metrics.
	type evidence struct {
		where string
		b     []byte
	}
	fromBackups := func(backups ...[]byte) []evidence {
		var out []evidence
		for i, archive := range backups {
			out = append(out, evidence{fmt.Sprintf("backup %d", i+1), archive})
			for name, b := range untar(t, archive) {
				out = append(out, evidence{fmt.Sprintf("backup %d: %s", i+1, name), b})
			}
		}
		return out
	}
	gather := func(backups ...[]byte) []evidence {
		t.Helper()
		out := fromBackups(backups...)
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out = append(out, evidence{path, b})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		out = append(out, evidence{"metrics", rec.Body.Bytes()}, evidence{"logs", logs.Bytes()})
		return out
	}
	backup := func() []byte {
		t.Helper()
		write, done, err := PrepareBackup(ctx, l.Store, dir, tokens)
		defer done()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		sum, err := write(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !sum.Tokens {
			t.Fatal("the backup holds no tokens")
		}
		return buf.Bytes()
	}
	keysThatOpen := func(ev []evidence) (found []string, key []byte) {
		for _, e := range ev {
			if len(e.b) == 32 && opens(e.b) {
				found, key = append(found, e.where), e.b
			}
		}
		return found, key
	}

	open := backup()
	// While the ballot is open its key is on disk (the count needs it),
	// and this search finds it; never in the backup.
	found, ballotKey := keysThatOpen(gather())
	if len(found) != 1 {
		t.Fatalf("while the ballot is open, keys opening its votes: %v, want exactly its one key file", found)
	}
	if found, _ := keysThatOpen(fromBackups(open)); len(found) != 0 {
		t.Fatalf("the backup taken while the ballot was open holds its key: %v", found)
	}

	call(staffTokens[0], el+"/close", nil, http.StatusCreated)
	closed := backup()
	everything := gather(open, closed)

	if found, _ := keysThatOpen(everything); len(found) != 0 {
		t.Errorf("after the close, these open a sealed vote: %v", found)
	}
	secret := []byte(nil)
	for _, e := range everything {
		if bytes.Contains(e.b, ballotKey) {
			t.Errorf("the ballot's key is still in %s", e.where)
		}
		if filepath.Base(e.where) == IdempotencySecretFile {
			secret = e.b
		}
	}
	if secret == nil {
		t.Fatal("no idempotency secret on disk: the adversary's search below would be weaker than the test says")
	}
	for i, voter := range members {
		for _, c := range candidates {
			msg := fmt.Appendf(nil, "%s\n%s\n%s", http.MethodPost, el+"/votes", voteBody(c))
			plain := sha256.Sum256(msg)
			mac := hmac.New(sha256.New, secret)
			mac.Write(msg)
			for _, digest := range [][]byte{plain[:], mac.Sum(nil)} {
				for _, form := range [][]byte{digest, []byte(base64.StdEncoding.EncodeToString(digest))} {
					for _, e := range everything {
						if bytes.Contains(e.b, form) {
							t.Errorf("%s holds a fingerprint of member %d (%s) voting for %s", e.where, i, voter, c)
						}
					}
				}
			}
		}
		for _, e := range everything {
			if bytes.Contains(e.b, voteBody(choice[i])) {
				t.Errorf("%s holds the body of member %d's vote", e.where, i)
			}
		}
	}

	// The election was counted all the same.
	recs, err = l.Store.ReadAll(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	counted := false
	for _, r := range recs {
		if r.Type == "ElectionClosed" {
			var ec governance.ElectionClosed
			if err := json.Unmarshal(r.Data, &ec); err != nil {
				t.Fatal(err)
			}
			counted = ec.Turnout == len(members) && len(ec.Choices) == len(members) && strings.Contains(string(r.Data), candidates[0].String())
		}
	}
	if !counted {
		t.Fatal("the election was not counted")
	}
}
