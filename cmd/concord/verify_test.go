package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// run runs the program in-process and returns its exit code, stdout and
// stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	code := m.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func addEvents(t *testing.T, s eventstore.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := s.Append(context.Background(), fmt.Sprintf("stream-%d", i%4), eventstore.Any(), eventstore.EventData{
			ID: uuid.New(), Type: "TestHappened", Schema: 1, Data: []byte(fmt.Sprintf(`{"n":%d}`, i)),
			Metadata: eventstore.Metadata{ActorID: "p-1", ActorRole: "staff", CorrelationID: uuid.New()},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// makeDataDir builds a stopped ledger's data directory with n events and
// checkpoints signed every 25.
func makeDataDir(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	s, err := segment.Open(ctx, filepath.Join(dir, eventsDir), segment.Options{Logger: quiet, SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	l, err := transparency.Open(ctx, s, dir, transparency.Options{Logger: quiet, CheckpointEvery: 25, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addEvents(t, s, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExportVerifyImportCLI(t *testing.T) {
	data := makeDataDir(t, 80)
	pub := filepath.Join(data, transparency.PubFile)
	out := filepath.Join(t.TempDir(), "ledger.ndjson")

	if code, _, stderr := run(t, "export", "--data", data, "--out", out); code != exitOK {
		t.Fatalf("export: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(t, "verify", "--export", out, "--pubkey", pub)
	if code != exitOK || !strings.HasPrefix(stdout, "OK:") {
		t.Fatalf("verify: exit %d: %s %s", code, stdout, stderr)
	}
	if code, stdout, stderr := run(t, "verify", "--data", data, "--pubkey", pub); code != exitOK || !strings.HasPrefix(stdout, "OK:") {
		t.Fatalf("verify --data: exit %d: %s %s", code, stdout, stderr)
	}

	// A changed export fails with exit 1, naming where and why.
	b, _ := os.ReadFile(out)
	lines := strings.SplitAfter(string(b), "\n")
	lines[10], lines[11] = lines[11], lines[10]
	bad := filepath.Join(t.TempDir(), "bad.ndjson")
	os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644)
	code, _, stderr = run(t, "verify", "--export", bad, "--pubkey", pub)
	if code != exitFailure || !strings.Contains(stderr, "position 11: reordered") {
		t.Fatalf("verify swapped lines: exit %d: %s", code, stderr)
	}

	// Usage errors exit 2.
	for _, args := range [][]string{
		{"verify"},
		{"verify", "--export", out},
		{"verify", "--export", out, "--url", "http://x", "--pubkey", pub},
		{"verify", "--url", "http://x", "--pubkey", pub},
		{"export", "--data", data},
		{"import", "--data", data},
		{"verify", "--data", data},
		{"import", "--data", t.TempDir(), "--in", out},
		{"verify", "--data", data, "--pubkey", pub, "--trust-on-first-use", filepath.Join(t.TempDir(), "pin")},
		{"witness", "--init", "--key", filepath.Join(t.TempDir(), "k")},
	} {
		if code, _, _ := run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}

	// Import into a fresh data directory: verified first, then loaded;
	// the segment store stamps its own times, which is reported.
	fresh := t.TempDir()
	code, _, stderr = run(t, "import", "--data", fresh, "--in", out, "--pubkey", pub)
	if code != exitOK || !strings.Contains(stderr, "0 already present") {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: this store records its own times") {
		t.Logf("segment store kept recorded times (implements Importer?): %s", stderr)
	}
	// A tampered export is not imported.
	if code, _, stderr := run(t, "import", "--data", t.TempDir(), "--in", bad, "--pubkey", pub); code != exitFailure || !strings.Contains(stderr, "not imported") {
		t.Fatalf("import of a tampered export: exit %d: %s", code, stderr)
	}
}

// serve starts an HTTP server with the API routes the CLI uses, built
// from a Log the way the HTTP API serves them.
func serve(t *testing.T, l *transparency.Log) string {
	t.Helper()
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any, err error) {
		if err != nil {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"title": "Bad request", "detail": err.Error()})
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
		reply(w, cp, err)
	})
	mux.HandleFunc("GET /v1/proofs/consistency", func(w http.ResponseWriter, r *http.Request) {
		p, err := l.ConsistencyProof(num(r, "from"), num(r, "to"))
		reply(w, p, err)
	})
	mux.HandleFunc("POST /v1/checkpoints/{size}/cosignatures", func(w http.ResponseWriter, r *http.Request) {
		var req transparency.CosignatureRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			reply(w, nil, err)
			return
		}
		size, _ := strconv.ParseUint(r.PathValue("size"), 10, 64)
		c, err := l.AddCosignature(r.Context(), size, []byte(req.Note))
		reply(w, c, err)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestVerifyURLAndWitnessCLI(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	dir := t.TempDir()
	l, err := transparency.Open(ctx, s, dir, transparency.Options{Logger: slog.New(slog.DiscardHandler), CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	url := serve(t, l)
	pub := filepath.Join(dir, transparency.PubFile)
	grow := func(n int) transparency.Checkpoint {
		addEvents(t, s, n)
		h, _ := s.Head(ctx)
		l.WaitFor(ctx, h)
		cp, err := l.SignCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	grow(10)

	saved := filepath.Join(t.TempDir(), "seen.checkpoint")
	code, stdout, stderr := run(t, "verify", "--url", url, "--checkpoint", saved, "--pubkey", pub)
	if code != exitOK || !strings.Contains(stdout, "first checkpoint") {
		t.Fatalf("first verify --url: exit %d: %s %s", code, stdout, stderr)
	}
	cp := grow(17)
	code, stdout, stderr = run(t, "verify", "--url", url, "--checkpoint", saved, "--pubkey", pub)
	if code != exitOK || !strings.Contains(stdout, "consistency proven") {
		t.Fatalf("second verify --url: exit %d: %s %s", code, stdout, stderr)
	}
	if b, _ := os.ReadFile(saved); string(b) != cp.Note {
		t.Fatalf("saved checkpoint %q, want %q", b, cp.Note)
	}

	// A ledger that rewrote its history (another log under the same key)
	// is caught against the saved checkpoint.
	forked := memory.New(memory.Options{})
	fdir := t.TempDir()
	for _, f := range []string{transparency.KeyFile, transparency.PubFile} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(fdir, f), b, 0o600)
	}
	fl, err := transparency.Open(ctx, forked, fdir, transparency.Options{Logger: slog.New(slog.DiscardHandler), CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	addEvents(t, forked, 60)
	fl.WaitFor(ctx, 60)
	fl.SignCheckpoint(ctx)
	code, _, stderr = run(t, "verify", "--url", serve(t, fl), "--checkpoint", saved, "--pubkey", pub)
	if code != exitFailure || !strings.Contains(stderr, "VERIFICATION FAILED") {
		t.Fatalf("verify a forked ledger: exit %d: %s", code, stderr)
	}

	// Witnessing: a partner makes its key, the ledger trusts it, the
	// witness cosigns.
	wkey := filepath.Join(t.TempDir(), "witness.key")
	code, stdout, _ = run(t, "witness", "--init", "--name", "partner.example", "--key", wkey)
	if code != exitOK {
		t.Fatalf("witness --init: exit %d", code)
	}
	if fi, err := os.Stat(wkey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("witness key file: %v %v", fi, err)
	}
	if err := l.AddWitness(strings.TrimSpace(stdout)); err != nil {
		t.Fatal(err)
	}
	wsaved := filepath.Join(t.TempDir(), "witness.checkpoint")
	for round := 0; round < 2; round++ {
		cp = grow(5)
		code, stdout, stderr = run(t, "witness", "--url", url, "--key", wkey, "--checkpoint", wsaved, "--pubkey", pub)
		if code != exitOK || !strings.Contains(stdout, "cosigned") {
			t.Fatalf("witness round %d: exit %d: %s %s", round, code, stdout, stderr)
		}
		cos := l.Cosigners(cp.Size)
		if len(cos) != 1 || cos[0].Witness != "partner.example" {
			t.Fatalf("cosigners of %d: %+v", cp.Size, cos)
		}
	}
	// The witness refuses to cosign the forked ledger.
	code, _, stderr = run(t, "witness", "--url", serve(t, fl), "--key", wkey, "--checkpoint", wsaved, "--pubkey", pub)
	if code != exitFailure || !strings.Contains(stderr, "NOT COSIGNED") {
		t.Fatalf("witness of a forked ledger: exit %d: %s", code, stderr)
	}
	// An unknown witness is refused by the ledger.
	other := filepath.Join(t.TempDir(), "other.key")
	run(t, "witness", "--init", "--name", "stranger.example", "--key", other)
	code, _, stderr = run(t, "witness", "--url", url, "--key", other, "--checkpoint", filepath.Join(t.TempDir(), "c"), "--pubkey", pub)
	if code != exitFailure || !strings.Contains(stderr, "unknown witness") {
		t.Fatalf("unknown witness: exit %d: %s", code, stderr)
	}
}

// copyFile copies a file, as a verifier keeps its own copy of a key.
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
