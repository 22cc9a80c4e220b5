package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestBenchReplayJSONAndReuse: bench replay generates a small partnership,
// prints its figures as JSON (every kind of page and API read among them), and --reuse measures the same
// ledger again without generating.
func TestBenchReplayJSONAndReuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	parse := func(stdout string) map[string]any {
		t.Helper()
		var got map[string]any
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("output is not the JSON line: %v\n%s", err, stdout)
		}
		num := func(k string) float64 {
			v, ok := got[k].(float64)
			if !ok {
				t.Errorf("JSON lacks the number %q: %s", k, stdout)
			}
			return v
		}
		if num("events") < 100 || num("replay_eps") <= 0 || num("max_rss_mib") <= 0 || num("cold_start_ms") <= 0 ||
			num("asof_report_p99_ms") <= 0 || num("corrected_report_p99_ms") <= 0 || num("log_bytes") <= 0 || num("projection_bytes") <= 0 {
			t.Errorf("implausible figures: %s", stdout)
		}
		// Where /proc is (Linux), the peaks of RSS's two parts and their
		// phases.
		if _, err := os.Stat("/proc/self/status"); err == nil {
			peaks, _ := got["rss_peaks"].(map[string]any)
			anon, _ := peaks["anon_mib"].(float64)
			phase, _ := peaks["anon_phase"].(string)
			if anon <= 0 || phase == "" {
				t.Errorf("no peak of anonymous RSS with its phase: %v", peaks)
			}
		}
		reads, _ := got["reads"].(map[string]any)
		pages, _ := reads["pages"].([]any)
		apiReads, _ := reads["api"].([]any)
		// The kinds of page a Director and a lead reach from the overview,
		// written from the site's routes, and API reads a person may make.
		kinds := map[string]bool{}
		for _, p := range pages {
			kinds[p.(map[string]any)["route"].(string)] = true
		}
		for _, want := range []string{"/", "/schools/{id}", "/communities/{id}", "/resources", "/progress", "/accountability", "/audit", "/report", "/verify"} {
			if !kinds[want] {
				t.Errorf("page %s was not timed; timed %v", want, kinds)
			}
		}
		routes := map[string]bool{}
		for _, a := range apiReads {
			routes[a.(map[string]any)["route"].(string)] = true
		}
		for _, want := range []string{"/v1/schools", "/v1/schools/{id}", "/v1/reports/partnership"} {
			if !routes[want] {
				t.Errorf("API read %s was not timed; timed %v, skipped %v", want, routes, reads["skipped"])
			}
		}
		return got
	}
	code, stdout, stderr := runBenchCLI(t, "bench", "replay", "--schools", "1", "--years", "1", "--reports", "3", "--corrected-reports", "2", "--samples", "2", "--dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := parse(stdout)
	// The reuse also writes the CPU profiles of the readings and of the
	// pages and API reads: gzipped protocol buffers, as pprof reads them.
	asOfProf, readsProf := filepath.Join(t.TempDir(), "asof.prof"), filepath.Join(t.TempDir(), "reads.prof")
	code, stdout, stderr = runBenchCLI(t, "bench", "replay", "--reports", "3", "--corrected-reports", "2", "--samples", "2", "--dir", dir, "--reuse", "--json",
		"--asof-cpuprofile", asOfProf, "--reads-cpuprofile", readsProf)
	if code != exitOK {
		t.Fatalf("--reuse: exit %d: %s", code, stderr)
	}
	for _, p := range []string{asOfProf, readsProf} {
		if b, err := os.ReadFile(p); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("profile %s: %d bytes, %v; want a gzipped profile", filepath.Base(p), len(b), err)
		}
	}
	if again := parse(stdout); again["events"] != first["events"] {
		t.Fatalf("--reuse measured %v events, the generated ledger has %v", again["events"], first["events"])
	}
	if code, _, _ := runBenchCLI(t, "bench", "replay", "--reuse"); code != exitUsage {
		t.Fatalf("--reuse without --dir: exit %d, want %d", code, exitUsage)
	}
	if code, _, _ := runBenchCLI(t, "bench", "replay", "--sync", "sometimes"); code != exitUsage {
		t.Fatalf("--sync sometimes: exit %d, want %d", code, exitUsage)
	}
	// A bad memory limit is refused before anything is generated.
	empty := t.TempDir()
	if code, _, _ := runBenchCLI(t, "bench", "replay", "--memory-limit", "lots", "--schools", "1", "--years", "1", "--dir", empty); code != exitUsage {
		t.Fatalf("--memory-limit lots: exit %d, want %d", code, exitUsage)
	}
	if left, _ := os.ReadDir(empty); len(left) != 0 {
		t.Fatalf("--memory-limit lots left %d files in --dir, want none", len(left))
	}
	// So is a profile that cannot be written.
	for _, flag := range []string{"--asof-cpuprofile", "--reads-cpuprofile"} {
		nowhere := filepath.Join(t.TempDir(), "missing", "x.prof")
		if code, _, _ := runBenchCLI(t, "bench", "replay", flag, nowhere, "--schools", "1", "--years", "1", "--dir", empty); code != exitUsage {
			t.Fatalf("%s %s: exit %d, want %d", flag, nowhere, code, exitUsage)
		}
		if left, _ := os.ReadDir(empty); len(left) != 0 {
			t.Fatalf("%s to a missing directory left %d files in --dir, want none", flag, len(left))
		}
	}
	// Generating with a sync per command gives the same ledger.
	code, stdout, stderr = runBenchCLI(t, "bench", "replay", "--schools", "1", "--years", "1", "--reports", "3", "--corrected-reports", "2", "--samples", "2", "--sync", "each", "--json")
	if code != exitOK {
		t.Fatalf("--sync each: exit %d: %s", code, stderr)
	}
	if each := parse(stdout); each["events"] != first["events"] {
		t.Fatalf("--sync each generated %v events, deferred %v", each["events"], first["events"])
	}
}
