package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// witnessedDataDir builds a stopped ledger's data directory: 60 events,
// checkpoints every 25, the one at 25 events cosigned by the witness w.
func witnessedDataDir(t *testing.T, w transparency.Key) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	s, err := segment.Open(ctx, filepath.Join(dir, eventsDir), segment.Options{Logger: quiet, SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	l, err := transparency.Open(ctx, s, dir, transparency.Options{Logger: quiet, CheckpointEvery: 1 << 40, CheckpointInterval: time.Hour, Witnesses: []string{w.VerifierKey}})
	if err != nil {
		t.Fatal(err)
	}
	addEvents(t, s, 25)
	if err := l.WaitFor(ctx, 25); err != nil {
		t.Fatal(err)
	}
	cp, err := l.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := transparency.Cosign([]byte(cp.Note), l.Verifier(), w)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddCosignature(ctx, cp.Size, cosigned); err != nil {
		t.Fatal(err)
	}
	addEvents(t, s, 33)
	if err := l.Close(); err != nil { // signs the last checkpoint
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// forge rewrites the history in orig as someone with write access to its
// disk would, and returns the forged data directory: the event at position
// 10 is changed, every checkpoint recorded in the log is re-signed over
// the changed events with key (skey is its signer key), every witness
// cosignature is replaced by one from fake (named like the real witness),
// and the directory gets key as its own (checkpoint.key, .pub) and a
// matching checkpoint.latest. The result is consistent under key: nothing
// inside it betrays the rewrite.
func forge(t *testing.T, orig string, key transparency.Key, skey string, fake transparency.Key) string {
	t.Helper()
	ctx := context.Background()
	s, err := segment.Open(ctx, filepath.Join(orig, eventsDir), segment.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.ReadAll(ctx, 1, 0)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	tree := transparency.NewMemoryTree()
	notes := map[uint64]string{}
	var out []byte
	for _, e := range recs {
		switch {
		case e.Position == 10:
			e.Data = []byte(`{"n":999}`)
		case e.Type == "CheckpointSigned":
			var ev domain.CheckpointSigned
			if err := json.Unmarshal(e.Data, &ev); err != nil {
				t.Fatal(err)
			}
			root, err := tree.RootAt(ev.TreeSize)
			if err != nil {
				t.Fatal(err)
			}
			cp, err := transparency.SignCheckpoint(key.Signer, key.Name(), ev.TreeSize, root)
			if err != nil {
				t.Fatal(err)
			}
			ev.RootHash, ev.Note = hex.EncodeToString(root), cp.Note
			notes[ev.TreeSize] = cp.Note
			e.Data, _ = json.Marshal(ev)
		case e.Type == "CheckpointCosigned":
			var ev domain.CheckpointCosigned
			if err := json.Unmarshal(e.Data, &ev); err != nil {
				t.Fatal(err)
			}
			cosigned, err := transparency.Cosign([]byte(notes[ev.TreeSize]), key.Verifier, fake)
			if err != nil {
				t.Fatal(err)
			}
			ev.WitnessKey, ev.Note = fake.VerifierKey, string(cosigned)
			e.Data, _ = json.Marshal(ev)
		}
		if err := tree.AppendLeaves(e.Position-1, [][]byte{transparency.LeafHash(e)}); err != nil {
			t.Fatal(err)
		}
		out = export.AppendEvent(out, e)
	}
	size, root := tree.Root()
	last, err := transparency.SignCheckpoint(key.Signer, key.Name(), size, root)
	if err != nil {
		t.Fatal(err)
	}
	out = export.AppendCheckpoint(out, last)
	dir := t.TempDir()
	if _, _, err := importKeepingTimes(ctx, filepath.Join(dir, eventsDir), bytes.NewReader(out), nil); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		transparency.KeyFile:    skey + "\n",
		transparency.PubFile:    key.VerifierKey + "\n",
		transparency.LatestFile: last.Note,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestRewrittenHistoryIsRefusedEverywhere rewrites an event of a stopped
// ledger and re-signs its history, first with a key of the forger's own
// put in the data directory, then with the ledger's real key (it lies in
// the data directory, so whoever can rewrite the disk has it too). The
// forgery is consistent under the key beside it, as the first check
// shows. Every path that checks a history must refuse it, starting from
// what the verifier holds: the ledger's published key (--pubkey, or the
// key pinned on first use), and the keys of the witnesses it trusts.
func TestRewrittenHistoryIsRefusedEverywhere(t *testing.T) {
	witness, _, err := transparency.GenerateKey("partner.example")
	if err != nil {
		t.Fatal(err)
	}
	fakeWitness, _, _ := transparency.GenerateKey("partner.example")
	orig := witnessedDataDir(t, witness)
	held := t.TempDir()
	pub := filepath.Join(held, "ledger.pub")
	copyFile(t, filepath.Join(orig, transparency.PubFile), pub)
	witnesses := filepath.Join(held, "witnesses")
	if err := os.WriteFile(witnesses, []byte("# the partner school\n"+witness.VerifierKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pin := filepath.Join(held, "ledger.pinned")

	// The honest ledger passes every path, witnesses included, and its
	// key is pinned on first use.
	if code, out, stderr := run(t, "verify", "--data", orig, "--trust-on-first-use", pin); code != exitOK || !strings.Contains(stderr, "TRUST ON FIRST USE") {
		t.Fatalf("first use: exit %d: %s %s", code, out, stderr)
	}
	if code, out, stderr := run(t, "verify", "--data", orig, "--pubkey", pub, "--witnesses", witnesses); code != exitOK || !strings.Contains(out, "1 witness cosignatures by keys you trust (positions 1..25 witnessed)") {
		t.Fatalf("the honest ledger: exit %d: %s %s", code, out, stderr)
	}

	ownKey, ownSkey, err := transparency.GenerateKey(transparency.DefaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	realSkey, err := os.ReadFile(filepath.Join(orig, transparency.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	realKey, err := transparency.ParseKey(string(realSkey))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		dir  string
		// trust is what the verifier brings that catches this forgery.
		trust []string
	}{
		{"re-signed with a key of the forger's own", forge(t, orig, ownKey, ownSkey, fakeWitness), []string{"--pubkey", pub}},
		{"re-signed with the ledger's own key", forge(t, orig, realKey, strings.TrimSpace(string(realSkey)), fakeWitness), []string{"--pubkey", pub, "--witnesses", witnesses}},
	} {
		t.Run(f.name, func(t *testing.T) {
			own := filepath.Join(f.dir, transparency.PubFile)
			// The forgery holds together under the key beside it: what the
			// old "verify --data DIR" did, trusting that key, passes.
			if code, out, stderr := run(t, "verify", "--data", f.dir, "--pubkey", own); code != exitOK {
				t.Fatalf("the forgery is not self-consistent (the test forges badly): exit %d: %s %s", code, out, stderr)
			}
			refused := func(what string, wantCode int, args ...string) {
				t.Helper()
				code, out, stderr := run(t, args...)
				t.Logf("%s: exit %d: %s", what, code, strings.TrimSpace(stderr))
				if code != wantCode {
					t.Errorf("%s: exit %d, want %d: %s %s", what, code, wantCode, out, stderr)
				}
				if wantCode == exitFailure && !strings.Contains(stderr, "VERIFICATION FAILED") && !strings.Contains(stderr, "not imported") {
					t.Errorf("%s: refused without saying verification failed: %s", what, stderr)
				}
			}
			refused("verify --data with no key of the verifier's", exitUsage, "verify", "--data", f.dir)
			refused("verify --data", exitFailure, append([]string{"verify", "--data", f.dir}, f.trust...)...)
			if f.name == "re-signed with a key of the forger's own" {
				refused("verify --data against the key pinned on first use", exitFailure, "verify", "--data", f.dir, "--trust-on-first-use", pin)
			}

			work := t.TempDir()
			exp := filepath.Join(work, "forged.ndjson")
			if code, _, stderr := run(t, "export", "--data", f.dir, "--out", exp); code != exitOK {
				t.Fatalf("export of the forgery: exit %d: %s", code, stderr)
			}
			refused("verify --export", exitFailure, append([]string{"verify", "--export", exp}, f.trust...)...)
			refused("import with no key", exitUsage, "import", "--data", t.TempDir(), "--in", exp)
			into := t.TempDir()
			refused("import", exitFailure, append([]string{"import", "--data", into, "--in", exp}, f.trust...)...)
			if entries, _ := os.ReadDir(filepath.Join(into, eventsDir)); len(entries) != 0 {
				t.Errorf("a refused import wrote %d files", len(entries))
			}

			backup := filepath.Join(work, "forged.tar.gz")
			if code, _, stderr := run(t, "backup", "--data", f.dir, "--out", backup); code != exitOK {
				t.Fatalf("backup of the forgery: exit %d: %s", code, stderr)
			}
			refused("restore with no key", exitUsage, "restore", "--in", backup, "--data", filepath.Join(work, "r0"))
			restored := filepath.Join(work, "r1")
			refused("restore", exitFailure, append([]string{"restore", "--in", backup, "--data", restored}, f.trust...)...)
			if entries, _ := os.ReadDir(restored); len(entries) != 0 {
				t.Errorf("a refused restore left %d entries", len(entries))
			}
		})
	}
}
