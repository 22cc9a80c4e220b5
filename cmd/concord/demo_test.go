package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/eventstore/segment"
)

// storeHead opens the data directory's store and returns its head.
func storeHead(t *testing.T, dir string) uint64 {
	t.Helper()
	s, err := segment.Open(context.Background(), filepath.Join(dir, eventsDir), segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestDemoNoServe generates a small demo into a data directory through
// Main, runs it again (which keeps the data), and then with --fresh.
func TestDemoNoServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, errOut := run(t, "demo", "--no-serve", "--data", dir, "--schools", "2", "--years", "1", "--seed", "5")
	if code != exitOK {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(out, "Data directory: "+dir) || !strings.Contains(out, "Generated North Vale Learning Partnership: 2 schools") {
		t.Fatalf("stdout: %s", out)
	}
	head := storeHead(t, dir)
	if head < 500 {
		t.Fatalf("the store holds %d events", head)
	}
	// One working token per role, in tokens.json and the token store.
	b, err := os.ReadFile(filepath.Join(dir, demoTokensFile))
	if err != nil {
		t.Fatal(err)
	}
	var tokens []demoToken
	if err := json.Unmarshal(b, &tokens); err != nil {
		t.Fatal(err)
	}
	ts, err := api.OpenTokens(filepath.Join(dir, api.TokensFile), api.TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	roles := map[api.Role]bool{}
	for _, tk := range tokens {
		p, err := ts.Authenticate(context.Background(), tk.Token)
		if err != nil || p.Role != tk.Role || p.PersonID != tk.PersonID {
			t.Errorf("%s token: principal %+v, %v", tk.Role, p, err)
		}
		if tk.Role != api.RoleAdmin && tk.PersonID == uuid.Nil {
			t.Errorf("%s token is bound to no one", tk.Role)
		}
		roles[tk.Role] = true
	}
	_ = ts.Close()
	for _, r := range api.AllRoles {
		if !roles[r] {
			t.Errorf("no %s token", r)
		}
	}
	code, out, errOut = run(t, "demo", "--no-serve", "--data", dir, "--schools", "2", "--years", "1")
	if code != exitOK || !strings.Contains(out, "already holds") || storeHead(t, dir) != head {
		t.Fatalf("second run: exit %d, head %d (was %d)\nstdout: %s\nstderr: %s", code, storeHead(t, dir), head, out, errOut)
	}
	code, out, errOut = run(t, "demo", "--no-serve", "--fresh", "--data", dir, "--schools", "1", "--years", "1")
	if code != exitOK || strings.Contains(out, "already holds") || storeHead(t, dir) >= head {
		t.Fatalf("fresh run: exit %d, head %d (was %d)\nstdout: %s\nstderr: %s", code, storeHead(t, dir), head, out, errOut)
	}
}

func TestDemoFreshRefusesOtherDirectories(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "demo", "--no-serve", "--fresh", "--data", dir)
	if code != exitFailure || !strings.Contains(errOut, "not deleting") {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "thesis.tex")); err != nil {
		t.Fatalf("the file is gone: %v", err)
	}
	if code, _, _ := run(t, "demo", "--schools", "0"); code != exitUsage {
		t.Fatalf("--schools 0: exit %d, want %d", code, exitUsage)
	}
}

// TestDemoWithoutServer checks that, while this build has no HTTP server,
// the default path says so and fails rather than pretending to serve.
func TestDemoWithoutServer(t *testing.T) {
	if demoServe != nil {
		t.Skip("this build serves the demo")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	code, _, errOut := run(t, "demo", "--data", dir, "--schools", "1", "--years", "1")
	if code != exitFailure || !strings.Contains(errOut, "Serving is not available yet") {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	if storeHead(t, dir) == 0 {
		t.Fatal("nothing was generated")
	}
}
