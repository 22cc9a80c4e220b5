package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain"
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
	roles := map[string]bool{}
	for _, tk := range tokens {
		p, err := ts.Authenticate(context.Background(), tk.Token)
		if err != nil || p.PersonID != tk.PersonID || (p.Kind == app.KindAdmin) != (tk.Role == domain.RoleAdmin) {
			t.Errorf("%s token: actor %+v, %v", tk.Role, p, err)
		}
		if tk.Role != domain.RoleAdmin && tk.PersonID == uuid.Nil {
			t.Errorf("%s token is bound to no one", tk.Role)
		}
		roles[tk.Role] = true
	}
	_ = ts.Close()
	for _, r := range []string{domain.RoleAdmin, domain.RoleDirector, domain.RoleStaff, domain.RoleChair, domain.RoleGovernor, domain.RolePartnershipLead, domain.RoleAuditor} {
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

// syncBuffer is a bytes.Buffer safe to write from the program while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDemoServes runs "concord demo" end to end as a person would: it
// generates, prints the URL and the tokens, and the printed URL answers
// with a printed token; cancelling the context stops it.
func TestDemoServes(t *testing.T) {
	if demoServe == nil {
		t.Skip("this build cannot serve yet")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	var out, errOut syncBuffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- m.Run(ctx, []string{"demo", "--data", dir, "--addr", "127.0.0.1:0", "--schools", "2", "--years", "1"})
	}()
	// The URL and the tokens are printed in one write: once the URL shows,
	// the tokens are there too.
	url := ""
	for url == "" {
		select {
		case code := <-done:
			t.Fatalf("demo ended with %d before serving\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
		if _, rest, ok := strings.Cut(out.String(), "Concord demo is running at "); ok {
			url = strings.Fields(rest)[0]
		}
	}
	printed := out.String()
	i := strings.Index(printed, "[")
	if i < 0 {
		t.Fatalf("the URL was printed without the tokens:\n%s", printed)
	}
	var tokens []demoToken
	if err := json.Unmarshal([]byte(printed[i:]), &tokens); err != nil {
		t.Fatalf("the printed tokens do not parse: %v\n%s", err, printed)
	}
	for _, tk := range tokens {
		if tk.Role != domain.RoleGovernor {
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(url, "/")+"/v1/schools", nil)
		req.Header.Set("Authorization", "Bearer "+tk.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// A governor reads their own school's records, and no other's.
		if resp.StatusCode != http.StatusOK || strings.Count(string(body), `"segments"`) != 1 {
			t.Fatalf("GET /v1/schools as the governor: %d %s", resp.StatusCode, body)
		}
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("exit %d after cancel\nstderr: %s", code, errOut.String())
	}
}
