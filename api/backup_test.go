package api

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

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
