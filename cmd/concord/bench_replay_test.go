package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestBenchReplayJSONAndReuse: bench replay generates a small partnership,
// prints exactly the documented JSON, and --reuse measures the same
// ledger again without generating.
func TestBenchReplayJSONAndReuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	parse := func(stdout string) map[string]float64 {
		t.Helper()
		var got map[string]float64
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("output is not the JSON line: %v\n%s", err, stdout)
		}
		for _, k := range []string{"events", "replay_eps", "asof_report_p50_ms", "asof_report_p99_ms", "max_rss_mib"} {
			if _, ok := got[k]; !ok {
				t.Errorf("JSON lacks %q: %s", k, stdout)
			}
		}
		if len(got) != 5 {
			t.Errorf("JSON has %d keys, want exactly 5: %s", len(got), stdout)
		}
		if got["events"] < 100 || got["replay_eps"] <= 0 || got["max_rss_mib"] <= 0 {
			t.Errorf("implausible figures: %s", stdout)
		}
		return got
	}
	code, stdout, stderr := runBenchCLI(t, "bench", "replay", "--schools", "1", "--years", "1", "--reports", "3", "--dir", dir, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := parse(stdout)
	code, stdout, stderr = runBenchCLI(t, "bench", "replay", "--reports", "3", "--dir", dir, "--reuse", "--json")
	if code != exitOK {
		t.Fatalf("--reuse: exit %d: %s", code, stderr)
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
	// Generating with a sync per command gives the same ledger.
	code, stdout, stderr = runBenchCLI(t, "bench", "replay", "--schools", "1", "--years", "1", "--reports", "3", "--sync", "each", "--json")
	if code != exitOK {
		t.Fatalf("--sync each: exit %d: %s", code, stderr)
	}
	if each := parse(stdout); each["events"] != first["events"] {
		t.Fatalf("--sync each generated %v events, deferred %v", each["events"], first["events"])
	}
}
