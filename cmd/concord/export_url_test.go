package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// TestExportOfARunningLedger: concord export --url exports a served ledger
// through its API, events recorded after its last checkpoint included,
// closed by a checkpoint signed for the export, and the file verifies
// offline with the published key exactly like a stopped ledger's export.
func TestExportOfARunningLedger(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, url, staff := servedLedger(t, dir, 3)
	// Recorded after the ledger's last checkpoint: no signature covers
	// them until the export's own.
	if _, err := l.Governance.AmendPersonDetails(ctx, domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin},
		governance.AmendPersonDetails{PersonID: staff[0], PersonDetails: governance.PersonDetails{Name: "Staff Person A2"}}); err != nil {
		t.Fatal(err)
	}
	head, _ := l.Store.Head(ctx)
	if cp, _ := l.Log.LatestCheckpoint(); cp.Size >= head {
		t.Fatalf("the last checkpoint (%d) already covers the head (%d)", cp.Size, head)
	}
	pub := filepath.Join(t.TempDir(), "ledger.pub")
	copyFile(t, filepath.Join(dir, transparency.PubFile), pub)
	work := t.TempDir()
	out := filepath.Join(work, "live.ndjson")

	if code, _, stderr := run(t, "export", "--url", url, "--token", "wrong", "--out", out); code != exitFailure || !strings.Contains(stderr, "401") {
		t.Fatalf("export with a bad token: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a failed export left a file")
	}
	if code, _, stderr := run(t, "export", "--url", url, "--out", out); code != exitUsage {
		t.Fatalf("export --url without a token: exit %d: %s", code, stderr)
	}
	code, _, stderr := run(t, "export", "--url", url, "--token", "admin-token", "--out", out, "--pubkey", pub)
	if code != exitOK || !strings.Contains(stderr, fmt.Sprintf("exported %d events", head)) || !strings.Contains(stderr, "verified against") {
		t.Fatalf("export --url: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(t, "verify", "--export", out, "--pubkey", pub)
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("holds %d events, all covered by a checkpoint signed by", head)) {
		t.Fatalf("verify the live export: exit %d: %s %s", code, stdout, stderr)
	}
	// The ledger itself recorded nothing for the export: its checkpoint
	// is the export's alone.
	if h, _ := l.Store.Head(ctx); h != head {
		t.Fatalf("the export changed the log: head %d -> %d", head, h)
	}
	// The same checks a stopped ledger's export gets: another key refuses.
	other, _, _ := transparency.GenerateKey("impostor.example")
	otherPub := filepath.Join(work, "other.pub")
	if err := os.WriteFile(otherPub, []byte(other.VerifierKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := run(t, "verify", "--export", out, "--pubkey", otherPub); code != exitFailure {
		t.Fatalf("verify with another key: exit %d, want %d", code, exitFailure)
	}
}
