package api

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

func TestBackupRoute(t *testing.T) {
	w := newFeedWorld(t, t.TempDir())
	// Backups are the administrator's: not even a Director takes one.
	resp, body := w.do(http.MethodGet, "/v1/admin/backup", "director", "")
	if p := wantProblem(t, resp, body, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("a Director taking a backup: %+v, want not-permitted", p)
	}

	resp, body = w.do(http.MethodGet, "/v1/admin/backup", "admin", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/gzip" {
		t.Fatalf("backup: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	gz, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
	keys := 0
	for n := range files {
		if strings.HasPrefix(n, BackupKeysDir+"/") && strings.HasSuffix(n, ".key") {
			keys++
		}
	}
	if people := len(w.Staff) + 1; keys != people { // the staff and the governor
		t.Errorf("%d key files, want one per person (%d)", keys, people)
	}
	for _, n := range []string{transparency.KeyFile, transparency.PubFile, BackupExport} {
		if len(files[n]) == 0 {
			t.Errorf("no %s in the backup", n)
		}
	}
	rep, err := export.Verify(bytes.NewReader(files[BackupExport]), w.L.Log.Verifier(), nil)
	if err != nil {
		t.Fatalf("the backup's export: %v", err)
	}
	if head, _ := w.L.Store.Head(t.Context()); rep.Events != head {
		t.Errorf("export holds %d events, head is %d", rep.Events, head)
	}

	mem := newFeedWorld(t, "")
	resp, body = mem.do(http.MethodGet, "/v1/admin/backup", "admin", "")
	wantProblem(t, resp, body, http.StatusConflict)
}

// TestBackupCarriesTokensButNoIdempotencyRecords: a backup of a running
// ledger holds its token store as of one moment (the tokens still
// authenticate from the copy), without the Idempotency-Key records, not
// even in free pages, and without the fingerprint secret.
func TestBackupCarriesTokensButNoIdempotencyRecords(t *testing.T) {
	ctx := t.Context()
	w := newFeedWorld(t, t.TempDir())
	tok, err := OpenTokens(filepath.Join(w.L.DataDir, TokensFile), TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	secret, info, err := tok.Create(ctx, TokenSpec{Kind: app.KindAdmin, Label: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = reply(w, http.StatusCreated, map[string]string{"done": "yes"})
	})
	mw := NewIdempotency(tok, tok, IdempotencyOptions{Logger: coreQuiet}).Middleware(h)
	const key = "remember-me-0123456789"
	req := httptest.NewRequest(http.MethodPost, "/v1/things", strings.NewReader(`{"a":1}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Idempotency-Key", key)
	mw.ServeHTTP(httptest.NewRecorder(), req)

	write, done, err := PrepareBackup(ctx, w.L.Store, w.L.DataDir, tok)
	defer done()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sum, err := write(&buf)
	if err != nil || !sum.Tokens {
		t.Fatalf("backup: %+v %v", sum, err)
	}
	files := map[string][]byte{}
	gz, _ := gzip.NewReader(&buf)
	tr := tar.NewReader(gz)
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[hd.Name], _ = io.ReadAll(tr)
	}
	copied := files[BackupTokens]
	if len(copied) == 0 {
		t.Fatalf("no %s in the backup (%d files)", BackupTokens, len(files))
	}
	if _, ok := files[IdempotencySecretFile]; ok {
		t.Error("the backup holds the idempotency secret")
	}
	if bytes.Contains(copied, []byte(key)) {
		t.Error("the copied token store holds an Idempotency-Key record")
	}
	path := filepath.Join(t.TempDir(), TokensFile)
	if err := os.WriteFile(path, copied, 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := OpenTokens(path, TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	p, err := restored.Authenticate(ctx, secret)
	if err != nil || p.TokenID != info.ID || !p.IsAdmin() {
		t.Fatalf("the token from before the backup: %+v %v", p, err)
	}
	if n := len(storedFingerprints(t, restored)); n != 0 {
		t.Fatalf("%d Idempotency-Key records in the copy", n)
	}
}
