package main

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchSoakShort runs the soak for a couple of seconds with a small
// interval on a one-school demo: every kind of load runs without an error
// and every sample holds the process's figures.
func TestBenchSoakShort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var rows []string
	res, err := soak(ctx, soakPlan{Dir: filepath.Join(t.TempDir(), "data"), Duration: 2 * time.Second, Interval: 250 * time.Millisecond,
		Clients: 2, Rate: 100, Feeds: 2, BackupEvery: 500 * time.Millisecond, Schools: 1, Years: 1,
		Row: func(s soakSample) { rows = append(rows, soakRow(s)) }})
	if err != nil {
		t.Fatal(err)
	}
	tot := res.Totals
	if tot.Errors != 0 {
		t.Fatalf("%d operations failed; first: %s", tot.Errors, tot.FirstError)
	}
	if tot.Commands == 0 || tot.Queries == 0 || tot.Reports == 0 || tot.Backups == 0 || tot.FeedEvents == 0 {
		t.Fatalf("not every kind of load ran: %+v", tot)
	}
	if n := len(res.Samples); n < 8 || len(rows) != n {
		t.Fatalf("%d samples and %d rows, want the same, at least 8 (2s every 250ms)", n, len(rows))
	}
	var ops int
	for i, s := range res.Samples {
		if s.RSSMiB <= 0 || s.AnonMiB <= 0 || s.AnonMiB > s.RSSMiB || s.HeapMiB <= 0 || s.Goroutines <= 0 || s.OpenFiles <= 0 {
			t.Errorf("sample %d lacks a process figure: %+v", i, s)
		}
		if i > 0 && (s.At <= res.Samples[i-1].At || s.Head < res.Samples[i-1].Head) {
			t.Errorf("sample %d goes back: %+v after %+v", i, s, res.Samples[i-1])
		}
		ops += s.Ops
	}
	if done := tot.Commands + tot.Queries + tot.Reports + tot.Backups + tot.FeedConnects; ops > done {
		t.Errorf("the samples count %d operations, the run only %d", ops, done)
	}
	if first, last := res.Samples[0].Head, res.Samples[len(res.Samples)-1].Head; last <= first {
		t.Errorf("head %d → %d: the commands recorded nothing", first, last)
	}
	if !res.Judged {
		t.Errorf("%d samples were not judged", len(res.Samples))
	}
	if got, want := len(strings.Fields(rows[0])), len(strings.Fields(strings.NewReplacer(" MiB", "", " p99 ms", "", "feed events", "feed_events").Replace(soakHeader))); got != want {
		t.Errorf("a row has %d columns, the header %d:\n%s\n%s", got, want, soakHeader, rows[0])
	}
}

func TestSoakGrowthRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	series := func(n int, f func(i int) float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = f(i)
		}
		return xs
	}
	for _, c := range []struct {
		name   string
		xs     []float64
		slack  float64
		grows  bool
		judged bool
	}{
		// 100 MiB growing by 5 MiB a sample: second quarter ~150, last
		// ~225 > 1.25 × 150 + 16.
		{"linear growth", series(30, func(i int) float64 { return 100 + 5*float64(i) }), 16, true, true},
		// A leak of 2 goroutines a sample over 60 samples from 50.
		{"goroutine leak", series(60, func(i int) float64 { return 50 + 2*float64(i) }), 16, true, true},
		// Flat at 100 with ±10 of noise and a few spikes (GC, a backup).
		{"flat noisy", series(30, func(i int) float64 {
			v := 90 + 20*rng.Float64()
			if i%7 == 6 {
				v += 60
			}
			return v
		}), 16, false, true},
		// Warm-up: steep first quarter, flat after.
		{"warm-up then flat", series(20, func(i int) float64 { return 100 + 10*min(float64(i), 5) }), 16, false, true},
		// Within the slack: 40 → 55 goroutines.
		{"small growth within slack", series(16, func(i int) float64 { return 40 + float64(i) }), 16, false, true},
		{"too few samples", []float64{1, 1000, 1e6}, 16, false, false},
	} {
		grows, judged, q2, q4 := judgeGrowth(c.xs, soakGrowthRatio, c.slack)
		if grows != c.grows || judged != c.judged {
			t.Errorf("%s: grows=%v judged=%v (second-quarter median %.1f, last %.1f), want grows=%v judged=%v", c.name, grows, judged, q2, q4, c.grows, c.judged)
		}
	}
}

// TestJudgeSoakNamesTheMeasure checks that a soak whose goroutines leak
// fails naming goroutines, and that a flat one passes.
func TestJudgeSoakNamesTheMeasure(t *testing.T) {
	var flat, leaking []soakSample
	for i := range 20 {
		s := soakSample{RSSMiB: 80 + float64(i%3), AnonMiB: 70 + float64(i%3), FileMiB: 10 + 5*float64(i), HeapMiB: 30 + float64(i%2), Goroutines: 60 + i%4, OpenFiles: 50}
		flat = append(flat, s)
		s.Goroutines = 60 + 10*i
		leaking = append(leaking, s)
	}
	// The file-backed part (the mapped index) grows with the data: shown,
	// not judged.
	if growth, judged := judgeSoak(flat); len(growth) != 0 || !judged {
		t.Errorf("flat soak: growth %q, judged %v", growth, judged)
	}
	growth, judged := judgeSoak(leaking)
	if len(growth) != 1 || !strings.HasPrefix(growth[0], "goroutines:") || !judged {
		t.Errorf("leaking soak: growth %q, judged %v, want goroutines alone", growth, judged)
	}
	if v := soakVerdict(soakResult{Growth: growth, Judged: true}); !strings.HasPrefix(v, "FAIL") {
		t.Errorf("verdict %q", v)
	}
}

func TestBenchSoakRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--duration", "0s"}, {"--interval", "-1s"}, {"--clients", "0"}, {"--feeds", "100"}, {"--schools", "0"}, {"extra"}} {
		if code, _, _ := run(t, append([]string{"bench", "soak"}, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
