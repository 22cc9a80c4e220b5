package main

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBenchHTTPJSON(t *testing.T) {
	code, stdout, stderr := run(t, "bench", "http", "--clients", "4", "--duration", "300ms", "--dir", t.TempDir(), "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res httpBenchResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	if strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Fatalf("--json printed more than one line: %q", stdout)
	}
	if res.Errors != 0 {
		t.Fatalf("%d requests failed: %s", res.Errors, res.FirstError)
	}
	if res.Clients != 4 || res.Commands == 0 || res.Queries == 0 || res.CommandsPerSec <= 0 || res.CommandP99ms < res.CommandP50ms || res.QueryP99ms < res.QueryP50ms {
		t.Fatalf("result = %+v", res)
	}
	// The empty server ran too, and the ratio is Concord's operations a
	// second over its.
	if res.FloorOpsPerSec <= 0 || res.FloorP99ms < res.FloorP50ms {
		t.Fatalf("no empty-server figures: %+v", res)
	}
	if want := (res.CommandsPerSec + res.QueriesPerSec) / res.FloorOpsPerSec; math.Abs(res.OpsToFloor-want) > 1e-9*want {
		t.Fatalf("ops_to_floor = %v, want %v", res.OpsToFloor, want)
	}
}

func TestBenchHTTPWithoutFloor(t *testing.T) {
	code, stdout, stderr := run(t, "bench", "http", "--clients", "2", "--duration", "200ms", "--floor=false", "--dir", t.TempDir(), "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res httpBenchResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("output %q: %v", stdout, err)
	}
	if res.Commands == 0 || res.FloorOpsPerSec != 0 || res.OpsToFloor != 0 {
		t.Fatalf("--floor=false: result = %+v", res)
	}
}

func TestBenchHTTPRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--clients", "0"}, {"--duration", "0s"}, {"--queries", "2"}, {"extra"}} {
		if code, _, _ := run(t, append([]string{"bench", "http"}, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if got := percentileMS(ds, 0.99); got != 99 {
		t.Errorf("p99 = %v, want 99", got)
	}
	if got := percentileMS(ds, 0.5); got != 50 {
		t.Errorf("p50 = %v, want 50", got)
	}
	if got := percentileMS(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
}

// BenchmarkHTTP runs b.N operations (half commands, half queries) of 64
// clients against the in-process API.
func BenchmarkHTTP(b *testing.B) {
	res, err := benchHTTP(context.Background(), httpBenchPlan{Dir: filepath.Join(b.TempDir(), "data"), Clients: 64, Ops: max(b.N, 64), QueryShare: 0.5})
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors > 0 {
		b.Fatalf("%d errors: %s", res.Errors, res.FirstError)
	}
	b.ReportMetric(res.CommandsPerSec, "commands/s")
	b.ReportMetric(res.CommandP99ms, "cmd-p99-ms")
	b.ReportMetric(res.QueryP99ms, "query-p99-ms")
}
