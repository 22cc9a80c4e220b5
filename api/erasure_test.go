package api

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections/views"
)

// grepTree returns the files under dir that contain any of needles.
func grepTree(t *testing.T, dir string, needles ...string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				hits = append(hits, path+": "+n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func TestErasureLeavesNoPlaintextAndProofsHold(t *testing.T) {
	dir := t.TempDir()
	w := newFeedWorld(t, dir)
	w.otherSchool()
	ctx := context.Background()
	erased, kept := w.Staff[1], w.Staff[2]
	path := "/v1/people/" + erased.String() + "/erasure"

	// Refusals first: nothing is recorded and the key survives. Only the
	// person's Director and the administrator erase; staff, governors and
	// the Director of another school may not.
	refusals := []struct {
		token, path, body string
		status            int
	}{
		{"", path, `{"reason":"ER-1"}`, http.StatusUnauthorized},
		{"staff", path, `{"reason":"ER-1"}`, http.StatusForbidden},
		{"governor", path, `{"reason":"ER-1"}`, http.StatusForbidden},
		{"other-director", path, `{"reason":"ER-1"}`, http.StatusForbidden},
		{"admin", path, `{}`, http.StatusUnprocessableEntity},
		{"admin", path, `{"reason":"ER-1","extra":1}`, http.StatusUnprocessableEntity},
		{"admin", path, `{"reason":"ER-1","person_id":"` + kept.String() + `"}`, http.StatusUnprocessableEntity},
		{"admin", "/v1/people/not-an-id/erasure", `{"reason":"ER-1"}`, http.StatusBadRequest},
		{"admin", "/v1/people/" + w.School.String() + "/erasure", `{"reason":"ER-1"}`, http.StatusNotFound},
		{"director", "/v1/people/" + w.School.String() + "/erasure", `{"reason":"ER-1"}`, http.StatusNotFound},
	}
	head0, _ := w.L.Store.Head(ctx)
	for _, r := range refusals {
		resp, body := w.do(http.MethodPost, r.path, r.token, r.body)
		wantProblem(t, resp, body, r.status)
	}
	if head, _ := w.L.Store.Head(ctx); head != head0 || w.L.Keys.IsErased(erased.String()) {
		t.Fatalf("a refused erasure changed something: head %d→%d, erased %v", head0, head, w.L.Keys.IsErased(erased.String()))
	}

	// The Director of the person's school erases them.
	resp, body := w.do(http.MethodPost, path, "director", `{"reason":"erasure request ER-17"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("erasure: %s: %s", resp.Status, body)
	}
	if !w.L.Keys.IsErased(erased.String()) || w.L.Keys.IsErased(kept.String()) {
		t.Fatal("the wrong key was destroyed")
	}
	// Again: nothing new, and still fine.
	resp, body = w.do(http.MethodPost, path, "admin", `{"reason":"again"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("repeated erasure: %s: %s", resp.Status, body)
	}

	// The audit log and the views show the person as erased; their
	// events are all still there.
	w.catchUp()
	var page EventPage
	w.getJSON("/v1/events?stream="+governance.PersonStream(erased), "director", &page)
	if len(page.Events) != 2 || page.Events[1].Type != "PersonalDataErased" {
		t.Fatalf("person's stream: %+v", page.Events)
	}
	if p := personalOf(t, page.Events[0]); p.Name != domain.ErasedName || !p.Erased || p.Email != "" {
		t.Fatalf("erased person shown as %+v", p)
	}
	w.getJSON("/v1/events?stream="+governance.PersonStream(kept), "director", &page)
	if p := personalOf(t, page.Events[0]); p.Name != feedPeople[2].Name {
		t.Fatalf("kept person shown as %+v", p)
	}
	names, err := w.L.Views.PersonNames(ctx, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if names.Name(erased) != domain.ErasedName || names.Name(kept) != feedPeople[2].Name {
		t.Fatalf("people view: %q, %q", names.Name(erased), names.Name(kept))
	}

	// An export made now verifies with the ledger's key.
	cp := w.sign()
	key, err := transparency.ReadKey(filepath.Join(dir, transparency.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	exportPath := filepath.Join(t.TempDir(), "ledger.ndjson")
	f, err := os.Create(exportPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := export.Export(ctx, w.L.Store, f, key, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ef, err := os.Open(exportPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	rep, err := export.Verify(ef, w.L.Log.Verifier(), nil)
	if err != nil {
		t.Fatalf("export after erasure: %v", err)
	}
	if rep.Events < cp.Size {
		t.Fatalf("export verified %d events, fewer than the checkpoint's %d", rep.Events, cp.Size)
	}

	// Close the ledger (projections and the tree are written out), then
	// look for the plaintext in every file of the data directory and in
	// the export.
	w.HTTP.Close()
	if err := w.L.Close(); err != nil {
		t.Fatal(err)
	}
	secret := []string{"Vantreece", feedPeople[1].Email}
	if hits := grepTree(t, dir, secret...); len(hits) > 0 {
		t.Fatalf("erased plaintext found: %v", hits)
	}
	if hits := grepTree(t, filepath.Dir(exportPath), secret...); len(hits) > 0 {
		t.Fatalf("erased plaintext found in the export: %v", hits)
	}
	// The search does read the files: the school's name (not personal
	// data) is there.
	if hits := grepTree(t, dir, "Harbour Academy"); len(hits) == 0 {
		t.Fatal("the school's name is in no file of the data directory; the search reads nothing")
	}
}
