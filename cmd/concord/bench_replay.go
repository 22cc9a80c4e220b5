package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
)

func init() {
	registerBenchmark(benchCommand{
		name:    "replay",
		summary: "generate demo data, then measure full replay of every view, as-of reports and memory",
		run:     runBenchReplay,
	})
}

// replayResult is what "concord bench replay --json" prints.
type replayResult struct {
	Events      uint64  `json:"events"`
	ReplayEPS   float64 `json:"replay_eps"`
	AsOfP50MS   float64 `json:"asof_report_p50_ms"`
	AsOfP99MS   float64 `json:"asof_report_p99_ms"`
	MaxRSSMiB   float64 `json:"max_rss_mib"`
	generateDur time.Duration
	replayDur   time.Duration
	reports     int
}

func runBenchReplay(ctx context.Context, m *Main, args []string) error {
	fs := benchFlagSet(m, "replay", "[--schools N] [--years N] [--volume N] [--reports N] [--seed N] [--sync deferred|each] [--dir DIR [--reuse]] [--json]")
	schools := fs.Int("schools", 8, "schools in the demo partnership")
	years := fs.Int("years", 3, "academic years of history")
	volume := fs.Int("volume", 1, "partnership activity multiplier of the demo generator")
	reports := fs.Int("reports", 200, "as-of reports to time, at random positions")
	seed := fs.Int64("seed", 1, "seed of the demo data and of the random positions")
	dir := fs.String("dir", "", "data directory to generate into (default: a temporary one, removed afterwards)")
	reuse := fs.Bool("reuse", false, "measure the ledger already in --dir instead of generating one (from an earlier run with the same --dir)")
	asJSON := fs.Bool("json", false, `print exactly {"events","replay_eps","asof_report_p50_ms","asof_report_p99_ms","max_rss_mib"}`)
	syncMode := fs.String("sync", "deferred", `how the store syncs while generating: "deferred" (a bulk load: the segment store's DeferSync, events safe from a killed process but not from a power loss until the next sync, at most a second later) or "each" (every command waits for its fsync, as a live ledger does)`)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the generation and replay to this file")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *syncMode != "deferred" && *syncMode != "each" {
		return Usagef(`--sync must be "deferred" or "each"`)
	}
	if *schools < 1 || *years < 1 || *reports < 1 || *volume < 1 {
		return Usagef("--schools, --years, --volume and --reports must be at least 1")
	}
	data := *dir
	if *reuse && data == "" {
		return Usagef("--reuse needs --dir")
	}
	if data == "" {
		tmp, err := os.MkdirTemp("", "concord-bench-replay-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		data = tmp
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	res, err := benchReplay(ctx, data, *schools, *years, *volume, *reports, *seed, *reuse, *syncMode == "deferred", m.Stderr, !*asJSON)
	if err != nil {
		return err
	}
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Fprintln(m.Stdout, string(b))
		return nil
	}
	if *reuse {
		fmt.Fprintf(m.Stdout, "events              %d (the ledger already in %s)\n", res.Events, data)
	} else {
		fmt.Fprintf(m.Stdout, "events              %d (generated in %s, %.0f events/s, sync %s)\n", res.Events, res.generateDur.Round(time.Millisecond),
			float64(res.Events)/res.generateDur.Seconds(), *syncMode)
	}
	fmt.Fprintf(m.Stdout, "full replay         %s, %.0f events/s into %d views\n", res.replayDur.Round(time.Millisecond), res.ReplayEPS, len(views.All()))
	fmt.Fprintf(m.Stdout, "as-of report        p50 %.2f ms, p99 %.2f ms over %d random positions\n", res.AsOfP50MS, res.AsOfP99MS, res.reports)
	fmt.Fprintf(m.Stdout, "max RSS             %.1f MiB\n", res.MaxRSSMiB)
	return nil
}

func benchReplay(ctx context.Context, data string, schools, years, volume, reports int, seed int64, reuse, deferSync bool, log io.Writer, verbose bool) (replayResult, error) {
	var res replayResult
	if reuse {
		return measureReplay(ctx, data, reports, seed, res)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := &demo.Clock{}
	l, err := ledger.Open(ctx, ledger.Config{DataDir: data, Now: clock.Now, Logger: quiet, NoTransparency: true,
		Segment: segment.Options{DeferSync: deferSync}})
	if err != nil {
		return res, fmt.Errorf("open ledger: %w", err)
	}
	start := time.Now()
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: schools, Years: years, Seed: seed, Volume: volume, Clock: clock})
	if err != nil {
		l.Close()
		return res, fmt.Errorf("generate: %w", err)
	}
	res.generateDur = time.Since(start)
	if verbose {
		fmt.Fprintf(log, "generated %d events (%d commands, %d schools, years %v) in %s\n", sum.Events, sum.Commands, len(sum.Schools), sum.Years, res.generateDur.Round(time.Millisecond))
	}
	head, err := l.Store.Head(ctx)
	if err != nil {
		l.Close()
		return res, err
	}
	res.Events = head
	if err := l.Close(); err != nil {
		return res, err
	}
	return measureReplay(ctx, data, reports, seed, res)
}

// measureReplay rebuilds every view of the ledger in data from zero and
// times as-of reports. The peak-RSS mark is reset first (Linux), so the
// memory figure is the replay's and the reports', not the generator's.
func measureReplay(ctx context.Context, data string, reports int, seed int64, res replayResult) (replayResult, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)

	// Full replay: a fresh projection database, every view from zero.
	if err := os.Remove(filepath.Join(data, ledger.ProjectionsFile)); err != nil && !os.IsNotExist(err) {
		return res, err
	}
	l, err := ledger.Open(ctx, ledger.Config{DataDir: data, Logger: quiet, NoTransparency: true})
	if err != nil {
		return res, fmt.Errorf("reopen ledger: %w", err)
	}
	defer l.Close()
	head, err := l.Store.Head(ctx)
	if err != nil {
		return res, err
	}
	res.Events = head
	start := time.Now()
	if err := l.CatchUp(ctx); err != nil {
		return res, fmt.Errorf("replay: %w", err)
	}
	res.replayDur = time.Since(start)
	res.ReplayEPS = float64(head) / res.replayDur.Seconds()
	for _, s := range l.Engine.Status(ctx) {
		if s.Failure != nil {
			return res, fmt.Errorf("view %s failed at %d: %s", s.Name, s.Failure.Position, s.Failure.Err)
		}
	}

	// As-of reports at random positions past the partnership's formation.
	var list []views.PartnershipInfo
	if _, err := views.Read(ctx, l.Views, "partnerships", views.AsOf{}, func(v *views.Partnerships) error { list = v.List(nil); return nil }); err != nil {
		return res, err
	}
	if len(list) == 0 {
		return res, fmt.Errorf("the demo data holds no partnership")
	}
	pid := list[0].ID
	first := firstPositionWith(ctx, l, pid, head)
	rng := rand.New(rand.NewPCG(uint64(seed), 99))
	var times []float64
	for range reports {
		pos := first + rng.Uint64N(head-first+1)
		t0 := time.Now()
		rep, err := report.Build(ctx, l.Views, pid, "", views.AsOf{Position: pos})
		if err != nil {
			return res, fmt.Errorf("as-of report at %d: %w", pos, err)
		}
		if err := rep.WriteHTML(io.Discard); err != nil {
			return res, err
		}
		times = append(times, float64(time.Since(t0).Microseconds())/1000)
	}
	slices.Sort(times)
	res.reports = len(times)
	res.AsOfP50MS = percentile(times, 0.50)
	res.AsOfP99MS = percentile(times, 0.99)
	res.MaxRSSMiB = maxRSSMiB()
	return res, nil
}

// firstPositionWith returns the first position at which partnership pid
// is formed, by bisection over as-of reads of the "partnerships" view.
func firstPositionWith(ctx context.Context, l *ledger.Ledger, pid [16]byte, head uint64) uint64 {
	formed := func(pos uint64) bool {
		ok := false
		views.Read(ctx, l.Views, "partnerships", views.AsOf{Position: pos}, func(v *views.Partnerships) error {
			_, ok = v.Get(pid, nil)
			return nil
		})
		return ok
	}
	lo, hi := uint64(1), head
	for lo < hi {
		mid := lo + (hi-lo)/2
		if formed(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)) + 0.5)
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// maxRSSMiB returns the process's peak resident set: VmHWM from
// /proc/self/status, else getrusage's maxrss (KiB on Linux).
func maxRSSMiB() float64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
					return kb / 1024
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}
