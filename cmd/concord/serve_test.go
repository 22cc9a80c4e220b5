package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// lockedBuffer is a bytes.Buffer safe for the server's logger and the test.
type lockedBuffer struct {
	ch chan struct{}
	b  bytes.Buffer
}

func newLockedBuffer() *lockedBuffer { return &lockedBuffer{ch: make(chan struct{}, 1)} }

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.ch <- struct{}{}
	defer func() { <-l.ch }()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.ch <- struct{}{}
	defer func() { <-l.ch }()
	return l.b.String()
}

// metricValue is the value of the sample named name (with its labels) in
// a Prometheus text exposition, 0 when absent.
func metricValue(text, name string) float64 {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return 0
}

func httpDo(t *testing.T, method, url, token string, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestServe runs the token and serve commands through Main: a token made
// on the command line authenticates against the served API; health,
// readiness, metrics, a command with an Idempotency-Key and the request
// log work; and cancelling the context shuts the server down.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CONCORD_DATA": dir, "CONCORD_ADDR": "127.0.0.1:0", "CONCORD_METRICS_ADDR": ""}
	getenv := func(k string) string { return env[k] }

	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: getenv}
	if code := m.Run(context.Background(), []string{"token", "create", "--admin", "--label", "test"}); code != exitOK {
		t.Fatalf("token create: exit %d: %s", code, errOut.String())
	}
	admin := strings.TrimSpace(out.String())
	if !strings.HasPrefix(admin, "concord_") {
		t.Fatalf("token create printed %q", admin)
	}

	pr, pw := io.Pipe()
	logs := newLockedBuffer()
	sm := &Main{Stdout: pw, Stderr: logs, Getenv: getenv}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- sm.Run(ctx, []string{"serve", "--log-level", "info"}); pw.Close() }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the serve banner: %v (logs: %s)", err, logs.String())
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("banner %q has no URL", line)
	}
	url := strings.TrimSpace(line[i:])

	if code, _, body := httpDo(t, "GET", url+"/healthz", "", ""); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Fatalf("healthz: %d %s", code, body)
	}
	if code, _, body := httpDo(t, "GET", url+"/readyz", "", ""); code != 200 || !strings.Contains(body, `"ready"`) {
		t.Fatalf("readyz: %d %s", code, body)
	}
	if code, _, body := httpDo(t, "GET", url+"/v1/tokens", admin, ""); code != 200 || !strings.Contains(body, `"label":"test"`) {
		t.Fatalf("GET /v1/tokens with the command line's token: %d %s", code, body)
	}
	if code, _, _ := httpDo(t, "GET", url+"/v1/tokens", "", ""); code != 401 {
		t.Fatalf("GET /v1/tokens without a token: %d", code)
	}

	// /metrics needs the administrator's token on the main address.
	if code, _, _ := httpDo(t, "GET", url+"/metrics", "", ""); code != 401 {
		t.Fatalf("GET /metrics without a token: %d, want 401", code)
	}
	// The append metrics are the process's (every ledger it opens), so
	// they are compared before and after.
	_, _, before := httpDo(t, "GET", url+"/metrics", admin, "")

	school := `{"school_id":"` + uuid.NewString() + `","name":"Hill Top Primary"}`
	code1, h1, body1 := httpDo(t, "POST", url+"/v1/schools", admin, school, "Idempotency-Key", "register-hill-top")
	code2, h2, body2 := httpDo(t, "POST", url+"/v1/schools", admin, school, "Idempotency-Key", "register-hill-top")
	if code1 != 201 || code2 != 201 || body1 != body2 || h2.Get("Idempotent-Replayed") != "true" || h1.Get("ETag") != h2.Get("ETag") {
		t.Fatalf("command and its retry: %d %s / %d %s %v", code1, body1, code2, body2, h2)
	}

	code, _, metrics := httpDo(t, "GET", url+"/metrics", admin, "")
	if code != 200 {
		t.Fatalf("metrics: %d %s\nlogs: %s", code, metrics, logs.String())
	}
	for name, want := range map[string]float64{
		`concord_http_request_duration_seconds_count{method="POST",route="/v1/schools",status="2xx"}`: 2,
		`concord_store_events_appended_total{type="SchoolRegistered"}`:                                1,
		`concord_store_append_batch_events_count`:                                                     1,
	} {
		if got := metricValue(metrics, name) - metricValue(before, name); got != want {
			t.Errorf("%s grew by %v, want %v", name, got, want)
		}
	}
	for _, want := range []string{
		`concord_projection_lag_events{projection=`,
		`go_goroutines`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("serve exited %d: %s", code, logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of its context ending")
	}

	// The request log is JSON with request ids.
	var sawRequest bool
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if rec["msg"] == "request" && rec["route"] == "/v1/schools" && rec["request_id"] != "" && rec["status"] == float64(201) {
			sawRequest = true
		}
	}
	if !sawRequest {
		t.Errorf("no request log line for POST /v1/schools in:\n%s", logs.String())
	}
}

func TestServeFlagsAndEnvironment(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"serve"}, nil, "--data"},
		{[]string{"serve", "--data", t.TempDir(), "--log-level", "loud"}, nil, "log level"},
		{[]string{"serve", "--data", t.TempDir()}, map[string]string{"CONCORD_LOG_LEVEL": "shouty"}, "log level"},
		{[]string{"serve", "extra"}, nil, "unexpected"},
		{[]string{"serve", "--data", t.TempDir(), "--memory-limit", "lots"}, nil, "--memory-limit"},
		{[]string{"serve", "--data", t.TempDir()}, map[string]string{"CONCORD_MEMORY_LIMIT": "700MB"}, "such as 700MiB"},
	} {
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return c.env[k] }}
		if code := m.Run(context.Background(), c.args); code != exitUsage || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", c.args, code, errOut.String(), exitUsage, c.want)
		}
	}
}

func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
		code := m.Run(context.Background(), args)
		return code, out.String(), errOut.String()
	}
	person := uuid.NewString()
	code, out, stderr := run("token", "create", "--data", dir, "--person", person, "--expires", "720h", "--json")
	if code != exitOK {
		t.Fatalf("create: %d %s", code, stderr)
	}
	var created struct {
		Token, ID, Kind string
		PersonID        string `json:"person_id"`
		ExpiresAt       string `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Kind != "person" || created.PersonID != person || created.ExpiresAt == "" {
		t.Fatalf("create printed %s (%v)", out, err)
	}
	if code, _, _ := run("token", "create", "--data", dir); code != exitUsage {
		t.Errorf("a token for no one: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := run("token", "create", "--data", dir, "--person", "bob"); code != exitUsage {
		t.Errorf("a malformed person id: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := run("token", "create", "--data", dir, "--admin", "--person", person); code != exitUsage {
		t.Errorf("an admin token bound to a person: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := run("token", "create", "--data", dir, "--person", person, "--expires", "2001-01-01T00:00:00Z"); code != exitUsage {
		t.Errorf("a token already expired: exit %d, want %d", code, exitUsage)
	}
	if code, out, _ := run("token", "revoke", "--data", dir, created.ID); code != exitOK || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s", code, out)
	}
	code, out, _ = run("token", "list", "--data", dir)
	if code != exitOK || !strings.Contains(out, created.ID) || strings.Contains(out, created.Token) || strings.Count(out, "\n") != 2 {
		t.Fatalf("list: %d\n%s", code, out)
	}
	if code, _, _ := run("token", "revoke", "--data", dir, uuid.NewString()); code != exitFailure {
		t.Errorf("revoking an unknown token: exit %d, want %d", code, exitFailure)
	}
	if code, _, _ := run("token", "frobnicate"); code != exitUsage {
		t.Errorf("unknown subcommand: exit %d", code)
	}
}

// TestServeMetricsAddress: --metrics-addr serves /metrics (and the
// profiler) without a token on its own address, and only there.
func TestServeMetricsAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"CONCORD_DATA": t.TempDir(), "CONCORD_ADDR": "127.0.0.1:0"}
	pr, pw := io.Pipe()
	logs := newLockedBuffer()
	sm := &Main{Stdout: pw, Stderr: logs, Getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- sm.Run(ctx, []string{"serve", "--metrics-addr", maddr}); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the serve banner: %v (logs: %s)", err, logs.String())
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSpace(line[strings.Index(line, "http://"):])
	if code, _, body := httpDo(t, "GET", "http://"+maddr+"/metrics", "", ""); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics address: %d", code)
	}
	if code, _, _ := httpDo(t, "GET", "http://"+maddr+"/v1/schools", "", ""); code != 404 {
		t.Fatalf("the metrics address serves the API: %d", code)
	}
	// The profiler is on the private address only.
	if code, _, body := httpDo(t, "GET", "http://"+maddr+"/debug/pprof/heap?debug=1", "", ""); code != 200 || !strings.Contains(body, "heap profile") {
		t.Fatalf("metrics address /debug/pprof/heap: %d", code)
	}
	if code, _, _ := httpDo(t, "GET", url+"/debug/pprof/heap", "", ""); code == 200 {
		t.Fatalf("the main address serves the profiler")
	}
	if code, _, _ := httpDo(t, "GET", url+"/metrics", "", ""); code != 401 {
		t.Fatalf("main address /metrics without a token: %d, want 401", code)
	}
	cancel()
	<-done
}
