package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore/benchmark"
)

// runBenchCLI runs the program in-process with args and returns its exit
// code, stdout and stderr.
func runBenchCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	code = m.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func TestBenchListsBenchmarks(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"bench"}, exitUsage},
		{[]string{"bench", "help"}, exitOK},
		{[]string{"bench", "--help"}, exitOK},
		{[]string{"bench", "no-such"}, exitUsage},
	} {
		code, _, stderr := runBenchCLI(t, c.args...)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d", c.args, code, c.code)
		}
		for name := range benchmarks {
			if !strings.Contains(stderr, "  "+name+" ") {
				t.Errorf("%v: benchmark %q not listed in\n%s", c.args, name, stderr)
			}
		}
	}
}

func TestBenchAppendJSON(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runBenchCLI(t, "bench", "append", "--duration", "200ms", "--concurrency", "4", "--dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var got struct {
		Results []map[string]float64 `json:"results"`
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("output is not the documented JSON: %v\n%s", err, stdout)
	}
	if len(got.Results) != 1 {
		t.Fatalf("%d results, want 1:\n%s", len(got.Results), stdout)
	}
	r := got.Results[0]
	if r["concurrency"] != 4 {
		t.Errorf("concurrency=%v, want 4", r["concurrency"])
	}
	for _, key := range []string{"raw_fsync_eps", "naive_fsync_eps", "concord_eps", "sqlite_eps",
		"concord_p50_ms", "concord_p99_ms", "raw_p99_ms", "sqlite_p99_ms"} {
		if v, ok := r[key]; !ok || v <= 0 {
			t.Errorf("%s=%v (present %t), want a positive number", key, v, ok)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("scratch left behind in %s: %v", dir, left)
	}
}

func TestBenchAppendTable(t *testing.T) {
	code, stdout, stderr := runBenchCLI(t, "bench", "append", "--duration", "100ms", "--concurrency", "2", "--dir", t.TempDir())
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"writers", "concord/raw", "concord/sqlite", "sqlite p50/p99 ms", "not measured"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchAppendRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--concurrency", "x"},
		{"--concurrency", "0"},
		{"--duration", "0s"},
		{"--rounds", "0"},
		{"extra"},
	} {
		code, _, _ := runBenchCLI(t, append([]string{"bench", "append", "--dir", t.TempDir()}, args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestBenchAppendTableReportsTargets(t *testing.T) {
	result := func(engine string, events int64) benchmark.Result {
		return benchmark.Result{Engine: engine, Writers: targetWriters, Events: events, Elapsed: time.Second}
	}
	row := func(concord int64, withPG bool) []benchmark.Row {
		row := benchmark.Row{Writers: targetWriters, Results: map[string]benchmark.Result{
			engineRaw: result(engineRaw, 1000), engineNaive: result(engineNaive, 100),
			engineConcord: result(engineConcord, concord), engineSQLite: result(engineSQLite, 200),
		}, Runs: map[string][]benchmark.Result{}}
		if withPG {
			row.Results[enginePG] = result(enginePG, 100)
		}
		for name, r := range row.Results {
			row.Runs[name] = []benchmark.Result{r}
		}
		return []benchmark.Row{row}
	}
	line := func(what string, got, target float64, verdict string) string {
		return fmt.Sprintf("  %-16s %6.2f  target >= %.1f  %s\n", what, got, target, verdict)
	}
	for _, c := range []struct {
		concord       int64
		pg            bool
		raw, sqlt, pq string
	}{
		{800, true, "met", "met", "met"},
		{650, true, "NOT met (7% short)", "met", "met"},
		{450, true, "NOT met (36% short)", "NOT met (25% short)", "NOT met (10% short)"},
		{800, false, "met", "met", ""},
		{598, true, "NOT met (15% short)", "NOT met (0.3% short)", "met"},
	} {
		var out bytes.Buffer
		if err := writeAppendTable(&out, row(c.concord, c.pg), time.Second, 1); err != nil {
			t.Fatal(err)
		}
		wants := []string{
			line("concord/raw", float64(c.concord)/1000, 0.7, c.raw),
			line("concord/sqlite", float64(c.concord)/200, 3, c.sqlt),
		}
		if c.pg {
			wants = append(wants, line("concord/postgres", float64(c.concord)/100, 5, c.pq), "postgres p50/p99 ms")
		} else {
			wants = append(wants, "concord/postgres   not measured")
		}
		for _, want := range wants {
			if !strings.Contains(out.String(), want) {
				t.Errorf("concord %d, postgres %t: output lacks %q:\n%s", c.concord, c.pg, want, out.String())
			}
		}
	}
}
