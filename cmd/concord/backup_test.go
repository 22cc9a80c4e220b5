package main

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections/views"
)

// adminOnly authenticates the token "admin-token" as the administrator.
type adminOnly struct{}

func (adminOnly) Authenticate(_ context.Context, tok string) (app.Actor, error) {
	if tok != "admin-token" {
		return app.Actor{}, errors.New("unknown token")
	}
	return app.Admin(), nil
}

// servedLedger opens a ledger in dir with a school and n staff, serves
// its API and returns the ledger, the URL and the staff ids.
func servedLedger(t *testing.T, dir string, n int) (*ledger.Ledger, string, []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Segment: segment.Options{SegmentSize: 1 << 20},
		Transparency: transparency.Options{CheckpointEvery: 1 << 40, CheckpointInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	meta := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	school := uuid.Must(uuid.NewV7())
	if _, err := l.Governance.RegisterSchool(ctx, meta, governance.RegisterSchool{SchoolID: school, Name: "Estuary School"}); err != nil {
		t.Fatal(err)
	}
	var staff []uuid.UUID
	for i := range n {
		id := uuid.Must(uuid.NewV7())
		d := governance.PersonDetails{Name: "Staff Person " + string(rune('A'+i)), Email: id.String()[:8] + "@estuary.example"}
		if _, err := l.Governance.RegisterStaff(ctx, meta, governance.RegisterStaff{PersonID: id, SchoolID: school, Kind: governance.StaffEducator, PersonDetails: d}); err != nil {
			t.Fatal(err)
		}
		staff = append(staff, id)
	}
	head, _ := l.Store.Head(ctx)
	if err := l.Log.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Log.SignCheckpoint(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(l, api.Options{Auth: adminOnly{}}))
	t.Cleanup(srv.Close)
	return l, srv.URL, staff
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	l, url, staff := servedLedger(t, src, 4)
	// A person erased before the backup stays erased after the restore.
	if _, err := l.Governance.ErasePersonalData(ctx, domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}, governance.ErasePersonalData{PersonID: staff[3], Reason: "request ER-2"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Erase(staff[3].String()); err != nil {
		t.Fatal(err)
	}
	// The token store travels with the backup.
	tokens, err := api.OpenTokens(filepath.Join(src, api.TokensFile), api.TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tokenSecret, _, err := tokens.Create(ctx, api.TokenSpec{Kind: app.KindAdmin, Label: "before the backup"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tokens.Close(); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	file := filepath.Join(work, "ledger.tar.gz")

	if code, _, stderr := run(t, "backup", "--url", url, "--token", "wrong", "--out", file); code != exitFailure || !strings.Contains(stderr, "401") {
		t.Fatalf("backup with a bad token: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a failed backup left a file")
	}
	code, stdout, stderr := run(t, "backup", "--url", url, "--token", "admin-token", "--out", file)
	if code != exitOK {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "written to") {
		t.Fatalf("backup output: %q", stdout)
	}
	// Events appended after the backup are not in it.
	if _, err := l.Governance.AmendPersonDetails(ctx, domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin},
		governance.AmendPersonDetails{PersonID: staff[0], PersonDetails: governance.PersonDetails{Name: "Staff Person A2"}}); err != nil {
		t.Fatal(err)
	}

	// The export inside the backup verifies with the ledger's public key
	// (erasure and all), and holds no plaintext of the erased person.
	exp := filepath.Join(work, "export.ndjson")
	if _, err := readBackup(file, func(name string, r io.Reader) error {
		if name == api.BackupExport {
			return writeSynced(exp, r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := run(t, "verify", "--export", exp, "--pubkey", filepath.Join(src, transparency.PubFile)); code != exitOK {
		t.Fatalf("verify --export of the backup: exit %d: %s %s", code, out, stderr)
	}
	if raw, err := os.ReadFile(exp); err != nil || strings.Contains(string(raw), "Staff Person D") || !strings.Contains(string(raw), "PersonalDataErased") {
		t.Fatalf("export: erased name present or erasure missing (%v)", err)
	}

	dst := filepath.Join(work, "restored")
	pub := filepath.Join(work, "trusted.pub")
	copyFile(t, filepath.Join(src, transparency.PubFile), pub)
	if code, _, _ := run(t, "restore", "--in", file, "--data", dst); code != exitUsage {
		t.Fatalf("restore without a key to trust: exit %d, want %d", code, exitUsage)
	}
	code, stdout, stderr = run(t, "restore", "--in", file, "--data", dst, "--pubkey", pub)
	if code != exitOK {
		t.Fatalf("restore: exit %d: %s", code, stderr)
	}
	if code, _, _ := run(t, "restore", "--in", file, "--data", dst, "--pubkey", pub); code != exitUsage {
		t.Fatalf("restore into a non-empty directory: exit %d, want %d", code, exitUsage)
	}
	restoredTokens, err := api.OpenTokens(filepath.Join(dst, api.TokensFile), api.TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restoredTokens.Authenticate(ctx, tokenSecret); err != nil {
		t.Fatalf("a token from before the backup does not authenticate after the restore: %v", err)
	}
	restoredTokens.Close()
	if code, out, stderr := run(t, "verify", "--data", dst, "--pubkey", pub); code != exitOK {
		t.Fatalf("verify --data after restore: exit %d: %s %s", code, out, stderr)
	}

	// The restored ledger holds the events up to the backup, byte for
	// byte, and opens the names with the restored keys.
	l2, err := ledger.Open(ctx, ledger.Config{DataDir: dst})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	h2, _ := l2.Store.Head(ctx)
	h1, _ := l.Store.Head(ctx)
	if h2 == 0 || h2 >= h1 {
		t.Fatalf("restored head %d; the source is at %d and the backup was taken one command earlier", h2, h1)
	}
	a, _ := l.Store.ReadAll(ctx, 1, int(h2))
	b, _ := l2.Store.ReadAll(ctx, 1, int(h2))
	for i := range b {
		if !a[i].RecordedAt.Equal(b[i].RecordedAt) || a[i].ID != b[i].ID || a[i].Revision != b[i].Revision {
			t.Fatalf("event %d differs after restore", i+1)
		}
	}
	if err := l2.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := l2.Views.PersonNames(ctx, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names.Name(staff[1]); got != "Staff Person B" {
		t.Fatalf("restored name = %q", got)
	}
	if got := names.Name(staff[3]); got != domain.ErasedName {
		t.Fatalf("erased person restored as %q", got)
	}

	// A damaged backup is refused and leaves the directory empty.
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(work, "bad.tar.gz")
	if err := os.WriteFile(bad, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(work, "empty")
	if code, _, _ := run(t, "restore", "--in", bad, "--data", empty, "--pubkey", pub); code != exitFailure {
		t.Fatalf("restore of a truncated backup: exit %d", code)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Fatalf("a failed restore left %d entries", len(entries))
	}
}

func TestVerifyURLAndWitnessAgainstTheAPI(t *testing.T) {
	dir := t.TempDir()
	l, url, _ := servedLedger(t, dir, 2)
	work := t.TempDir()
	saved := filepath.Join(work, "seen.checkpoint")
	pub := filepath.Join(dir, transparency.PubFile)
	if code, out, stderr := run(t, "verify", "--url", url, "--checkpoint", saved, "--pubkey", pub); code != exitOK {
		t.Fatalf("verify --url: exit %d: %s %s", code, out, stderr)
	}
	key := filepath.Join(work, "witness.key")
	code, vkey, stderr := run(t, "witness", "--init", "--name", "partner.example", "--key", key)
	if code != exitOK {
		t.Fatalf("witness --init: %s", stderr)
	}
	if err := l.Log.AddWitness(strings.TrimSpace(vkey)); err != nil {
		t.Fatal(err)
	}
	if code, out, stderr := run(t, "witness", "--url", url, "--key", key, "--checkpoint", filepath.Join(work, "w.checkpoint"), "--pubkey", pub); code != exitOK || !strings.Contains(out, "1 witness") {
		t.Fatalf("witness: exit %d: %s %s", code, out, stderr)
	}
}
