package transparency_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

func appendN(t testing.TB, s eventstore.Store, stream string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := s.Append(context.Background(), stream, eventstore.Any(), eventstore.EventData{
			ID: uuid.New(), Type: "TestHappened", Schema: 1,
			Data:     []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Metadata: eventstore.Metadata{ActorID: "p-1", ActorRole: "staff", CorrelationID: uuid.New()},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func head(t testing.TB, s eventstore.Store) uint64 {
	t.Helper()
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func openLog(t testing.TB, s eventstore.Store, dir string, opts transparency.Options) *transparency.Log {
	t.Helper()
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = time.Hour // tests trigger checkpoints by count or by hand
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	l, err := transparency.Open(context.Background(), s, dir, opts)
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	return l
}

func waitCheckpoint(t testing.TB, l *transparency.Log, size uint64) transparency.Checkpoint {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cp, err := l.LatestCheckpoint(); err == nil && cp.Size >= size {
			return cp
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no checkpoint of size >= %d", size)
	return transparency.Checkpoint{}
}

// waitSettled waits until the tree holds every event of s and the latest
// checkpoint leaves fewer than every events unsigned, so that no
// checkpoint is due by count: the log then signs nothing more until more
// events arrive. Returns the latest checkpoint.
func waitSettled(t testing.TB, l *transparency.Log, s eventstore.Store, every uint64) transparency.Checkpoint {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h := head(t, s)
		cp, err := l.LatestCheckpoint()
		if err == nil && l.Tree().Size() == h && h-cp.Size < every {
			return cp
		}
		time.Sleep(5 * time.Millisecond)
	}
	cp, err := l.LatestCheckpoint()
	t.Fatalf("the log did not settle: tree %d of %d events, latest checkpoint %d (%v), want fewer than %d unsigned", l.Tree().Size(), head(t, s), cp.Size, err, every)
	return transparency.Checkpoint{}
}

func TestLogCheckpointsProofsAndReopen(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	dir := t.TempDir()
	l := openLog(t, s, dir, transparency.Options{CheckpointEvery: 50, Origin: "school.example/ledger"})

	appendN(t, s, "stream-a", 120)
	cp := waitSettled(t, l, s, 50)
	if cp.Origin != "school.example/ledger" || cp.Position <= cp.Size {
		t.Fatalf("checkpoint %+v: want origin school.example/ledger and a position after its size", cp)
	}
	// The key and public key are in the data directory.
	if fi, err := os.Stat(filepath.Join(dir, transparency.KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, transparency.PubFile))
	if err != nil || strings.TrimSpace(string(pub)) != l.PublicKey() {
		t.Fatalf("public key file %q (%v), want %q", pub, err, l.PublicKey())
	}
	v, err := note.NewVerifier(l.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	// The checkpoint is recorded in the log itself.
	recs, _ := s.ReadStream(ctx, domain.CheckpointStream, 0, eventstore.Forward, 0)
	if len(recs) == 0 || recs[0].Type != "CheckpointSigned" {
		t.Fatalf("checkpoint stream %v: want CheckpointSigned events", recs)
	}
	var ev domain.CheckpointSigned
	if err := json.Unmarshal(recs[0].Data, &ev); err != nil {
		t.Fatal(err)
	}
	// Signed by count only: each checkpoint covers at least 50 events more
	// than the one before it.
	prev := uint64(0)
	for _, r := range recs {
		var e domain.CheckpointSigned
		if err := json.Unmarshal(r.Data, &e); err != nil {
			t.Fatal(err)
		}
		if e.TreeSize < prev+50 {
			t.Errorf("checkpoint of size %d follows one of size %d: want at least CheckpointEvery (50) events between them", e.TreeSize, prev)
		}
		prev = e.TreeSize
	}
	if _, err := transparency.ParseCheckpoint([]byte(ev.Note), v); err != nil {
		t.Fatalf("recorded note does not verify: %v", err)
	}

	// An inclusion proof for every position verifies against the signed checkpoint.
	for pos := uint64(1); pos <= cp.Size; pos++ {
		p, err := l.InclusionProof(ctx, pos, cp.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(v); err != nil {
			t.Fatalf("proof of %d: %v", pos, err)
		}
	}
	// The JSON shape is the documented one.
	p, _ := l.InclusionProof(ctx, 7, 0)
	b, _ := json.Marshal(p)
	var shape map[string]any
	json.Unmarshal(b, &shape)
	for _, k := range []string{"leaf_index", "tree_size", "leaf_hex", "leaf_hash_hex", "path_hex", "root_hex", "checkpoint"} {
		if _, ok := shape[k]; !ok {
			t.Errorf("inclusion proof JSON %s lacks %q", b, k)
		}
	}
	if len(shape) != 7 {
		t.Errorf("inclusion proof JSON %s has %d keys, want 7", b, len(shape))
	}
	if got := p.TreeSize; got != cp.Size {
		t.Errorf("tree_size=%d for tree size 0, want the latest checkpoint's %d", got, cp.Size)
	}
	// A tampered proof does not verify.
	p.LeafHex = strings.Replace(p.LeafHex, "7b226e22", "7b226f22", 1) // {"n" -> {"o"
	if err := p.Verify(v); !errors.Is(err, transparency.ErrInconsistent) {
		t.Errorf("tampered proof: %v, want ErrInconsistent", err)
	}

	// Errors.
	if _, err := l.InclusionProof(ctx, cp.Size+1, cp.Size); !errors.Is(err, transparency.ErrPositionBeyondTree) {
		t.Errorf("position beyond size: %v", err)
	}
	if _, err := l.InclusionProof(ctx, 1, 1<<40); !errors.Is(err, transparency.ErrSizeBeyondTree) {
		t.Errorf("size beyond tree: %v", err)
	}
	if _, err := l.InclusionProof(ctx, 0, 1); !errors.Is(err, transparency.ErrInvalidRange) {
		t.Errorf("position 0: %v", err)
	}
	if _, err := l.ConsistencyProof(5, 4); !errors.Is(err, transparency.ErrInvalidRange) {
		t.Errorf("consistency 5..4: %v", err)
	}
	if _, err := l.Checkpoint(3); !errors.Is(err, transparency.ErrNoCheckpoint) {
		t.Errorf("checkpoint at 3: %v", err)
	}

	// Consistency between checkpoints.
	appendN(t, s, "stream-b", 80)
	cp2, err := l.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := l.ConsistencyProof(cp.Size, cp2.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := transparency.CheckConsistent(cp, cp2, cons); err != nil {
		t.Fatalf("consistency %d..%d: %v", cp.Size, cp2.Size, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	last := head(t, s)

	// Reopen: checkpoints come back from the log, the tree from its files.
	l = openLog(t, s, dir, transparency.Options{CheckpointEvery: 50})
	defer l.Close()
	if got, err := l.Checkpoint(cp.Size); err != nil || got.Note != cp.Note {
		t.Fatalf("checkpoint %d after reopen: %v %v", cp.Size, got, err)
	}
	if err := l.WaitFor(ctx, last); err != nil {
		t.Fatal(err)
	}
	if got := l.Tree().Size(); got != last {
		t.Fatalf("tree size after reopen=%d, want %d", got, last)
	}
	if _, err := transparency.Open(ctx, s, t.TempDir(), transparency.Options{Logger: slog.New(slog.DiscardHandler), KeyFile: filepath.Join(dir, transparency.KeyFile), Origin: "other"}); !errors.Is(err, transparency.ErrBadKey) {
		t.Errorf("open with a key of another origin: %v, want ErrBadKey", err)
	}
}

func TestLogSignsOnIntervalAndClose(t *testing.T) {
	s := memory.New(memory.Options{})
	l := openLog(t, s, t.TempDir(), transparency.Options{CheckpointInterval: 20 * time.Millisecond})
	appendN(t, s, "a", 3)
	cp := waitCheckpoint(t, l, 3)
	// The checkpoint event itself is not a reason for another checkpoint.
	time.Sleep(100 * time.Millisecond)
	if got, _ := l.LatestCheckpoint(); got.Size != cp.Size {
		t.Fatalf("checkpoint moved from %d to %d with no new events", cp.Size, got.Size)
	}
	appendN(t, s, "a", 2)
	l2 := l
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	recs, _ := s.ReadStream(context.Background(), domain.CheckpointStream, eventstore.LastRevision, eventstore.Backward, 1)
	var ev domain.CheckpointSigned
	json.Unmarshal(recs[0].Data, &ev)
	if ev.TreeSize < cp.Size+2 {
		t.Fatalf("last checkpoint covers %d, want >= %d (signed on close)", ev.TreeSize, cp.Size+2)
	}
}

// TestLogRebuildsTree: with the tree's files gone, or belonging to
// another log, the tree is rebuilt from the store.
func TestLogRebuildsTree(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	dir := t.TempDir()
	l := openLog(t, s, dir, transparency.Options{})
	appendN(t, s, "a", 40)
	cp, err := l.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if err := os.RemoveAll(filepath.Join(dir, transparency.TreeDir)); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, s, dir, transparency.Options{})
	if err := l.WaitFor(ctx, head(t, s)); err != nil {
		t.Fatal(err)
	}
	if root, _ := l.Tree().RootAt(cp.Size); hex.EncodeToString(root) != hex.EncodeToString(cp.Root) {
		t.Fatalf("rebuilt root %x, want %x", root, cp.Root)
	}
	l.Close()

	// The same data directory over a different store: the tree is reset.
	other := memory.New(memory.Options{})
	appendN(t, other, "b", 10)
	l = openLog(t, other, dir, transparency.Options{})
	defer l.Close()
	if err := l.WaitFor(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if got := l.Tree().Size(); got != 10 {
		t.Fatalf("tree size over the other store=%d, want 10", got)
	}
}

func TestCosignatures(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	wkey, _, err := transparency.GenerateKey("partner.example")
	if err != nil {
		t.Fatal(err)
	}
	stranger, _, _ := transparency.GenerateKey("stranger.example")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, transparency.WitnessesFile), []byte("# partner school\n"+wkey.VerifierKey+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, s, dir, transparency.Options{})
	defer l.Close()
	appendN(t, s, "a", 10)
	if err := l.WaitFor(ctx, 10); err != nil {
		t.Fatal(err)
	}
	cp, err := l.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := transparency.Cosign([]byte(cp.Note), l.Verifier(), wkey)
	if err != nil {
		t.Fatal(err)
	}
	strange, _ := transparency.Cosign([]byte(cp.Note), l.Verifier(), stranger)
	forged := forge(t, cosigned, "partner.example")
	otherText := []byte(strings.Replace(string(cosigned), "\n10\n", "\n11\n", 1))

	for _, tc := range []struct {
		name string
		size uint64
		msg  []byte
		want error
	}{
		{"no such checkpoint", 3, cosigned, transparency.ErrNoCheckpoint},
		{"unknown witness", cp.Size, strange, transparency.ErrUnknownWitness},
		{"only the log's own signature", cp.Size, []byte(cp.Note), transparency.ErrUnknownWitness},
		{"forged signature", cp.Size, forged, transparency.ErrBadSignature},
		{"other text", cp.Size, otherText, transparency.ErrBadSignature},
		{"garbage", cp.Size, []byte("hello"), transparency.ErrMalformedCheckpoint},
	} {
		if _, err := l.AddCosignature(ctx, tc.size, tc.msg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	got, err := l.AddCosignature(ctx, cp.Size, cosigned)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Witness != "partner.example" || got[0].WitnessKey != wkey.VerifierKey {
		t.Fatalf("cosigners %+v", got)
	}
	// Posting again records nothing new.
	h := head(t, s)
	if _, err := l.AddCosignature(ctx, cp.Size, cosigned); err != nil {
		t.Fatal(err)
	}
	if head(t, s) != h {
		t.Fatal("a repeated cosignature was recorded twice")
	}
	// The cosignature is in the log and the whole log verifies.
	if err := l.WaitFor(ctx, h); err != nil {
		t.Fatal(err)
	}
	// A verifier that holds no witness key counts the cosignature as
	// untrusted; one that holds the partner's key counts it; one that
	// holds another key under the partner's name refuses the log.
	rep, err := transparency.VerifyStore(ctx, s, l.Verifier(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cosignatures != 0 || rep.UntrustedCosignatures != 1 || rep.Witnessed != 0 || rep.Checkpoints != 1 || rep.Events != h {
		t.Fatalf("report without trusted witnesses %+v", rep)
	}
	c := transparency.NewChecker(l.Verifier())
	if err := c.TrustWitness(wkey.VerifierKey); err != nil {
		t.Fatal(err)
	}
	if rep, err = c.CheckStore(ctx, s, nil); err != nil {
		t.Fatal(err)
	}
	if rep.Cosignatures != 1 || rep.UntrustedCosignatures != 0 || rep.Witnessed != cp.Size {
		t.Fatalf("report trusting the partner %+v", rep)
	}
	impostor, _, _ := transparency.GenerateKey("partner.example")
	c = transparency.NewChecker(l.Verifier())
	if err := c.TrustWitness(impostor.VerifierKey); err != nil {
		t.Fatal(err)
	}
	var ve *transparency.VerifyError
	if _, err := c.CheckStore(ctx, s, nil); !errors.As(err, &ve) || ve.Problem != transparency.BadSignature {
		t.Fatalf("checking with another key for the partner: %v, want a bad signature", err)
	}
}

// forge flips a bit of name's signature in msg.
func forge(t *testing.T, msg []byte, name string) []byte {
	t.Helper()
	lines := strings.Split(string(msg), "\n")
	for i, line := range lines {
		if b64, ok := strings.CutPrefix(line, "— "+name+" "); ok {
			sig, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			sig[len(sig)-1] ^= 1
			lines[i] = "— " + name + " " + base64.StdEncoding.EncodeToString(sig)
			return []byte(strings.Join(lines, "\n"))
		}
	}
	t.Fatalf("no signature by %s in %q", name, msg)
	return nil
}

// handler serves the API routes the client uses, from a Log, the way the
// HTTP API will.
func handler(l *transparency.Log) http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"title": "error", "detail": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	num := func(r *http.Request, k string) uint64 {
		n, _ := strconv.ParseUint(r.URL.Query().Get(k), 10, 64)
		return n
	}
	mux.HandleFunc("GET /v1/checkpoints/latest", func(w http.ResponseWriter, r *http.Request) {
		cp, err := l.LatestCheckpoint()
		write(w, cp, err)
	})
	mux.HandleFunc("GET /v1/proofs/consistency", func(w http.ResponseWriter, r *http.Request) {
		p, err := l.ConsistencyProof(num(r, "from"), num(r, "to"))
		write(w, p, err)
	})
	mux.HandleFunc("GET /v1/proofs/inclusion", func(w http.ResponseWriter, r *http.Request) {
		p, err := l.InclusionProof(r.Context(), num(r, "position"), num(r, "tree_size"))
		write(w, p, err)
	})
	mux.HandleFunc("POST /v1/checkpoints/{size}/cosignatures", func(w http.ResponseWriter, r *http.Request) {
		var req transparency.CosignatureRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			write(w, nil, err)
			return
		}
		size, _ := strconv.ParseUint(r.PathValue("size"), 10, 64)
		c, err := l.AddCosignature(r.Context(), size, []byte(req.Note))
		write(w, c, err)
	})
	return mux
}

func TestClientUpdate(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	l := openLog(t, s, t.TempDir(), transparency.Options{})
	defer l.Close()
	srv := httptest.NewServer(handler(l))
	defer srv.Close()
	c := &transparency.Client{URL: srv.URL}

	appendN(t, s, "a", 5)
	l.WaitFor(ctx, 5)
	l.SignCheckpoint(ctx)
	first, err := c.Update(ctx, l.Verifier(), nil)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "a", 30)
	l.WaitFor(ctx, head(t, s))
	l.SignCheckpoint(ctx)
	next, err := c.Update(ctx, l.Verifier(), &first)
	if err != nil {
		t.Fatal(err)
	}
	if next.Size <= first.Size {
		t.Fatalf("next size %d, want > %d", next.Size, first.Size)
	}
	// Same checkpoint again: fine.
	if _, err := c.Update(ctx, l.Verifier(), &next); err != nil {
		t.Fatal(err)
	}
	// A saved checkpoint from a forked history is caught.
	fork := next
	fork.Root = make([]byte, 32)
	if _, err := c.Update(ctx, l.Verifier(), &fork); !errors.Is(err, transparency.ErrInconsistent) {
		t.Fatalf("forked history: %v, want ErrInconsistent", err)
	}
	// A saved checkpoint larger than the ledger's: rollback.
	ahead := next
	ahead.Size += 100
	if _, err := c.Update(ctx, l.Verifier(), &ahead); !errors.Is(err, transparency.ErrInconsistent) {
		t.Fatalf("rollback: %v, want ErrInconsistent", err)
	}
	// The wrong key.
	wrong, _, _ := transparency.GenerateKey(l.Origin())
	if _, err := c.Update(ctx, wrong.Verifier, &first); !errors.Is(err, transparency.ErrBadSignature) {
		t.Fatalf("wrong key: %v, want ErrBadSignature", err)
	}
	// Inclusion through the client.
	p, err := c.InclusionProof(ctx, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(l.Verifier()); err != nil {
		t.Fatal(err)
	}
}

// tamperStore returns a store whose ReadAll changes one event's data.
type tamperStore struct {
	eventstore.Store
	at uint64
}

func (s tamperStore) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, from, limit)
	for i := range recs {
		if recs[i].Position == s.at {
			recs[i].Data = []byte(`{"n":999}`)
		}
	}
	return recs, err
}

// shortStore returns a store that lost every event after position end.
type shortStore struct {
	eventstore.Store
	end uint64
}

func (s shortStore) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	recs, err := s.Store.ReadAll(ctx, from, limit)
	for i := range recs {
		if recs[i].Position > s.end {
			return recs[:i], err
		}
	}
	return recs, err
}

func TestVerifyStore(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	dir := t.TempDir()
	l := openLog(t, s, dir, transparency.Options{CheckpointEvery: 25})
	appendN(t, s, "a", 100)
	// Checkpoints signed meanwhile sit among the 100 events: wait for the
	// store's head, not for position 100.
	if err := l.WaitFor(ctx, head(t, s)); err != nil {
		t.Fatal(err)
	}
	cp, err := l.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	anchor, err := os.ReadFile(filepath.Join(dir, transparency.LatestFile))
	if err != nil || string(anchor) != cp.Note {
		t.Fatalf("latest checkpoint file %q (%v), want the last checkpoint", anchor, err)
	}
	v, _ := transparency.ReadVerifier(filepath.Join(dir, transparency.PubFile))
	rep, err := transparency.VerifyStore(ctx, s, v, anchor)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verified != cp.Size || rep.Checkpoints < 2 {
		t.Fatalf("report %+v", rep)
	}
	// An event of the ledger's own (not a checkpoint's record, which the
	// checkpointer placed wherever it ran) changed in the store.
	recs, err := s.ReadAll(ctx, 30, 10)
	if err != nil {
		t.Fatal(err)
	}
	at := recs[slices.IndexFunc(recs, func(r eventstore.RecordedEvent) bool { return r.StreamID != domain.CheckpointStream })].Position
	_, err = transparency.VerifyStore(ctx, tamperStore{s, at}, v, anchor)
	var ve *transparency.VerifyError
	if !errors.As(err, &ve) || ve.Problem != transparency.Changed || ve.Position > at || ve.To < at {
		t.Fatalf("tampered store: %v, want changed in a range holding %d", err, at)
	}
	// A store cut short below the anchor's size.
	if _, err := transparency.VerifyStore(ctx, shortStore{s, 60}, v, anchor); !errors.As(err, &ve) || ve.Problem != transparency.Missing {
		t.Fatalf("short store: %v, want missing", err)
	}
}
