package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
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

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
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
	Events    uint64  `json:"events"`
	ReplayEPS float64 `json:"replay_eps"`
	AsOfP50MS float64 `json:"asof_report_p50_ms"`
	AsOfP99MS float64 `json:"asof_report_p99_ms"`
	// The report "as corrected now" at random effective times.
	CorrectedP50MS float64 `json:"corrected_report_p50_ms"`
	CorrectedP99MS float64 `json:"corrected_report_p99_ms"`
	// Reads: every kind of web page and every API read route, served
	// in-process (see measureReads).
	Reads readTimings `json:"reads"`
	// ColdStartMS is reopening the ledger and catching the projections
	// up to the head (ready to serve).
	ColdStartMS float64 `json:"cold_start_ms"`
	// WarmMS is the server's warming of the readings in the past after
	// that (ledger.Warm); FirstAsOfMS and FirstCorrectedMS the first
	// report of each reading after it.
	WarmMS           float64 `json:"warm_ms"`
	FirstAsOfMS      float64 `json:"first_asof_report_ms"`
	FirstCorrectedMS float64 `json:"first_corrected_report_ms"`
	MaxRSSMiB        float64 `json:"max_rss_mib"`
	// MemoryLimit is the soft memory limit they ran under ("none").
	MemoryLimit string `json:"memory_limit"`
	// Peaks are the peaks of RSS's anonymous and file-backed parts,
	// sampled every 10 ms, with the phase each came in.
	Peaks memPeaks `json:"rss_peaks"`
	// LogBytes is the events' canonical encoding (as segments hold it);
	// EventsDirBytes the event store's files on disk (segments, as
	// allocated, and their index); ProjectionBytes the projection database.
	LogBytes        int64 `json:"log_bytes"`
	EventsDirBytes  int64 `json:"events_dir_bytes"`
	ProjectionBytes int64 `json:"projection_bytes"`
	generateDur     time.Duration
	replayDur       time.Duration
	reports         int
	corrected       int
}

// replayPlan is what to measure once the ledger exists.
type replayPlan struct {
	reports, corrected, samples, perKind int
	seed                                 int64
	log                                  io.Writer
	// asOfProfile, if set, is where a CPU profile of the as-of and
	// corrected reports alone is written.
	asOfProfile string
	// readsProfile, if set, is where a CPU profile of the pages and API
	// reads timed is written (not of the crawl that finds them).
	readsProfile string
	// memoryLimit is the soft memory limit the replay, the reads and the
	// restart run under, in bytes (0: the process's own).
	memoryLimit int64
	// genGOGC is the garbage collector's percentage while generating (0:
	// the process's own).
	genGOGC int
}

func runBenchReplay(ctx context.Context, m *Main, args []string) error {
	fs := benchFlagSet(m, "replay", "[--schools N] [--years N] [--volume N] [--reports N] [--seed N] [--sync deferred|each] [--generate-gogc N] [--dir DIR [--reuse]] [--json]")
	schools := fs.Int("schools", 8, "schools in the demo partnership")
	years := fs.Int("years", 3, "academic years of history")
	volume := fs.Int("volume", 1, "partnership activity multiplier of the demo generator")
	reports := fs.Int("reports", 200, "as-of reports to time, at random positions")
	corrected := fs.Int("corrected-reports", 10, `reports "as corrected now" to time, at random effective times`)
	samples := fs.Int("samples", 20, "times each kind of web page and each API read is requested")
	seed := fs.Int64("seed", 1, "seed of the demo data and of the random positions")
	dir := fs.String("dir", "", "data directory to generate into (default: a temporary one, removed afterwards)")
	reuse := fs.Bool("reuse", false, "measure the ledger already in --dir instead of generating one (from an earlier run with the same --dir)")
	asJSON := fs.Bool("json", false, "print the figures as one JSON object")
	syncMode := fs.String("sync", "deferred", `how the store syncs while generating: "deferred" (a bulk load: the segment store's DeferSync, events safe from a killed process but not from a power loss until the next sync, at most a second later) or "each" (every command waits for its fsync, as a live ledger does)`)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the generation and replay to this file")
	asOfProfile := fs.String("asof-cpuprofile", "", "write a CPU profile of the as-of and corrected reports alone to this file")
	readsProfile := fs.String("reads-cpuprofile", "", "write a CPU profile of the web pages and API reads timed (not the crawl that finds them) to this file")
	memoryLimit := fs.String("memory-limit", "", "soft memory `size` the replay, reads and restart run under, as concord serve --memory-limit sets it (default: the process's own, $GOMEMLIMIT or none)")
	genGOGC := fs.Int("generate-gogc", 400, "the garbage collector's GOGC percentage while generating (a bulk load: less CPU for more memory; 0 leaves the process's own); the replay and reads run with the process's")
	if err := Parse(fs, args); err != nil {
		return err
	}
	limit, err := parseMemoryLimit(*memoryLimit)
	if err != nil {
		return err
	}
	// The readings' profiles are written minutes in, after the ledger is
	// generated and replayed: a path that cannot be written is refused now.
	for flag, path := range map[string]string{"--asof-cpuprofile": *asOfProfile, "--reads-cpuprofile": *readsProfile} {
		if path == "" {
			continue
		}
		f, err := os.Create(path)
		if err != nil {
			return Usagef("%s: cannot write %s: %v", flag, path, err)
		}
		f.Close()
	}
	if *syncMode != "deferred" && *syncMode != "each" {
		return Usagef(`--sync must be "deferred" or "each"`)
	}
	if *schools < 1 || *years < 1 || *reports < 1 || *volume < 1 || *corrected < 1 || *samples < 1 {
		return Usagef("--schools, --years, --volume, --reports, --corrected-reports and --samples must be at least 1")
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
	var progress io.Writer
	if !*asJSON {
		progress = m.Stderr
	}
	plan := replayPlan{reports: *reports, corrected: *corrected, samples: *samples, perKind: 3, seed: *seed, log: progress, asOfProfile: *asOfProfile, readsProfile: *readsProfile, genGOGC: *genGOGC, memoryLimit: limit}
	res, err := benchReplay(ctx, data, *schools, *years, *volume, *reuse, *syncMode == "deferred", plan)
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
		gc := "GOGC as the process's"
		if *genGOGC > 0 {
			gc = fmt.Sprintf("GOGC %d", *genGOGC)
		}
		fmt.Fprintf(m.Stdout, "events              %d (generated in %s, %.0f events/s, sync %s, %s)\n", res.Events, res.generateDur.Round(time.Millisecond),
			float64(res.Events)/res.generateDur.Seconds(), *syncMode, gc)
	}
	fmt.Fprintf(m.Stdout, "full replay         %s, %.0f events/s into %d views\n", res.replayDur.Round(time.Millisecond), res.ReplayEPS, len(views.All()))
	fmt.Fprintf(m.Stdout, "as-of report        p50 %.2f ms, p99 %.2f ms over %d random positions (as known then)\n", res.AsOfP50MS, res.AsOfP99MS, res.reports)
	fmt.Fprintf(m.Stdout, "corrected report    p50 %.2f ms, p99 %.2f ms over %d random effective times (as corrected now)\n", res.CorrectedP50MS, res.CorrectedP99MS, res.corrected)
	fmt.Fprintf(m.Stdout, "web pages           p99 %.2f ms over %d kinds of page (%d samples each); slowest:\n", res.Reads.PagesP99, len(res.Reads.Pages), *samples)
	for _, t := range res.Reads.Pages[:min(5, len(res.Reads.Pages))] {
		fmt.Fprintf(m.Stdout, "                      %-44s p50 %8.2f ms, p99 %8.2f ms\n", t.Route, t.P50MS, t.P99MS)
	}
	fmt.Fprintf(m.Stdout, "API reads           p99 %.2f ms over %d routes (%d not timed); slowest:\n", res.Reads.APIP99, len(res.Reads.API), len(res.Reads.Skipped))
	for _, t := range res.Reads.API[:min(5, len(res.Reads.API))] {
		fmt.Fprintf(m.Stdout, "                      %-44s p50 %8.2f ms, p99 %8.2f ms\n", t.Route, t.P50MS, t.P99MS)
	}
	fmt.Fprintf(m.Stdout, "cold start          %.0f ms (reopen, projections caught up to the head)\n", res.ColdStartMS)
	fmt.Fprintf(m.Stdout, "warm-up             %.0f ms (the readings in the past warmed after the restart, while serving)\n", res.WarmMS)
	fmt.Fprintf(m.Stdout, "first reports       %.1f ms as known then, %.1f ms as corrected now (the first of each after the warm-up)\n", res.FirstAsOfMS, res.FirstCorrectedMS)
	fmt.Fprintf(m.Stdout, "max RSS             %.1f MiB under a soft memory limit of %s (peaks sampled: all %.1f MiB in %s; anonymous %.1f MiB in %s, file-backed %.1f MiB in %s)\n",
		res.MaxRSSMiB, res.MemoryLimit, res.Peaks.RSSMiB, res.Peaks.RSSPhase, res.Peaks.AnonMiB, res.Peaks.AnonPhase, res.Peaks.FileMiB, res.Peaks.FilePhase)
	fmt.Fprintf(m.Stdout, "data                events %.1f MiB (files %.1f MiB with index and preallocation), projections %.1f MiB = %.2fx the events\n",
		mib(res.LogBytes), mib(res.EventsDirBytes), mib(res.ProjectionBytes), float64(res.ProjectionBytes)/float64(max(res.LogBytes, 1)))
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func benchReplay(ctx context.Context, data string, schools, years, volume int, reuse, deferSync bool, plan replayPlan) (replayResult, error) {
	var res replayResult
	seed := plan.seed
	if reuse {
		return measureReplay(ctx, data, plan, res)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := &demo.Clock{}
	l, err := ledger.Open(ctx, ledger.Config{DataDir: data, Now: clock.Now, Logger: quiet, NoTransparency: true,
		Segment: segment.Options{DeferSync: deferSync}})
	if err != nil {
		return res, fmt.Errorf("open ledger: %w", err)
	}
	restoreGC := func() {}
	if plan.genGOGC > 0 {
		old := debug.SetGCPercent(plan.genGOGC)
		restoreGC = func() { debug.SetGCPercent(old) }
	}
	start := time.Now()
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: schools, Years: years, Seed: seed, Volume: volume, Clock: clock})
	restoreGC()
	if err != nil {
		l.Close()
		return res, fmt.Errorf("generate: %w", err)
	}
	res.generateDur = time.Since(start)
	if plan.log != nil {
		fmt.Fprintf(plan.log, "generated %d events (%d commands, %d schools, years %v) in %s\n", sum.Events, sum.Commands, len(sum.Schools), sum.Years, res.generateDur.Round(time.Millisecond))
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
	return measureReplay(ctx, data, plan, res)
}

// measureReplay rebuilds every view of the ledger in data from zero, times
// as-of reports in both readings, every kind of web page and API read,
// and a cold start. The peak-RSS mark is reset first (Linux), so the
// memory figure is the replay's, the reads' and the restart's, not the
// generator's.
func measureReplay(ctx context.Context, data string, plan replayPlan, res replayResult) (replayResult, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	progress := func(format string, args ...any) {
		if plan.log != nil {
			fmt.Fprintf(plan.log, format+"\n", args...)
		}
	}
	// Full replay: a fresh projection database, every view from zero.
	if err := os.Remove(filepath.Join(data, ledger.ProjectionsFile)); err != nil && !os.IsNotExist(err) {
		return res, err
	}
	cfg := ledger.Config{DataDir: data, Logger: quiet, NoTransparency: true}
	l, err := ledger.Open(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("reopen ledger: %w", err)
	}
	defer func() {
		if l != nil {
			l.Close()
		}
	}()
	// The log's size and span are read first, so that the garbage of
	// reading it is collected below, before anything is timed or its
	// memory counted.
	lastEffective, logBytes, err := logSpan(ctx, l)
	if err != nil {
		return res, err
	}
	res.LogBytes = logBytes

	res.MemoryLimit = describeLimit(setMemoryLimit(plan.memoryLimit))
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	mem := startMemSampler("replay", 10*time.Millisecond)
	defer func() {
		if mem != nil {
			mem.finish()
		}
	}()
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
	progress("replayed %d events in %s", head, res.replayDur.Round(time.Millisecond))
	mem.enter("as-of reports")

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
	rng := rand.New(rand.NewPCG(uint64(plan.seed), 99))
	timeReport := func(a views.AsOf) (float64, error) {
		t0 := time.Now()
		rep, err := report.Build(ctx, l.Views, pid, "", a)
		if err != nil {
			return 0, fmt.Errorf("report %s: %w", a.Describe(), err)
		}
		if err := rep.WriteHTML(io.Discard); err != nil {
			return 0, err
		}
		return float64(time.Since(t0).Microseconds()) / 1000, nil
	}
	randomPosition := func() uint64 { return first + rng.Uint64N(head-first+1) }
	stopProfile, err := startCPUProfile(plan.asOfProfile)
	if err != nil {
		return res, err
	}
	defer stopProfile()
	var times []float64
	for range plan.reports {
		ms, err := timeReport(views.AsOf{Position: randomPosition()})
		if err != nil {
			return res, err
		}
		times = append(times, ms)
	}
	slices.Sort(times)
	res.reports = len(times)
	res.AsOfP50MS = percentile(times, 0.50)
	res.AsOfP99MS = percentile(times, 0.99)
	progress("timed %d as-of reports", res.reports)

	// The report as corrected now, at random effective times between the
	// partnership's formation and the last event's effective time.
	from := list[0].FormedOn
	until := from
	if lastEffective.After(until) {
		until = lastEffective
	}
	randomTime := func() time.Time { return from.Add(time.Duration(rng.Int64N(int64(until.Sub(from)) + 1))) }
	times = times[:0]
	for range plan.corrected {
		ms, err := timeReport(views.AsOf{Corrected: true, Time: randomTime()})
		if err != nil {
			return res, err
		}
		times = append(times, ms)
	}
	slices.Sort(times)
	res.corrected = len(times)
	res.CorrectedP50MS = percentile(times, 0.50)
	res.CorrectedP99MS = percentile(times, 0.99)
	progress("timed %d reports as corrected now", res.corrected)
	stopProfile()

	mem.enter("pages and API reads")
	// Every kind of page and API read, as a school's Director and as the
	// partnership's lead.
	var readers []uuid.UUID
	if _, err := views.Read(ctx, l.Views, "schools", views.AsOf{}, func(v *views.Schools) error {
		for _, sc := range v.Schools(nil) {
			if sc.Director != nil {
				readers = append(readers, sc.Director.ID)
				break
			}
		}
		return nil
	}); err != nil {
		return res, err
	}
	if list[0].Lead != nil {
		readers = append(readers, list[0].Lead.ID)
	}
	if res.Reads, err = measureReads(ctx, l, readers, plan.perKind, plan.samples, plan.readsProfile, plan.log); err != nil {
		return res, fmt.Errorf("reads: %w", err)
	}

	// Cold start: close, reopen, catch up.
	if err := l.Close(); err != nil {
		return res, err
	}
	l = nil
	// A restart is a new process: the closed ledger's memory is returned
	// before the reopening is timed, so neither the time nor the peak
	// counts the garbage of the instance just closed.
	runtime.GC()
	debug.FreeOSMemory()
	mem.enter("cold start")
	t0 := time.Now()
	if l, err = ledger.Open(ctx, cfg); err != nil {
		return res, fmt.Errorf("reopen ledger: %w", err)
	}
	if err := l.CatchUp(ctx); err != nil {
		return res, fmt.Errorf("catch up after reopening: %w", err)
	}
	res.ColdStartMS = float64(time.Since(t0).Microseconds()) / 1000
	// The server then warms the readings in the past (ledger.Run), and
	// serves meanwhile.
	t0 = time.Now()
	l.Warm(ctx)
	res.WarmMS = float64(time.Since(t0).Microseconds()) / 1000
	// The first readers after the restart: a report as known then and
	// one as corrected now, at random moments.
	if res.FirstAsOfMS, err = timeReport(views.AsOf{Position: randomPosition()}); err != nil {
		return res, err
	}
	if res.FirstCorrectedMS, err = timeReport(views.AsOf{Corrected: true, Time: randomTime()}); err != nil {
		return res, err
	}
	res.MaxRSSMiB = maxRSSMiB()
	res.Peaks, mem = mem.finish(), nil
	res.EventsDirBytes = dirBytes(filepath.Join(data, "events"))
	if fi, err := os.Stat(filepath.Join(data, ledger.ProjectionsFile)); err == nil {
		res.ProjectionBytes = fi.Size()
	}
	return res, nil
}

// logSpan reads the whole log once: the effective time of its last event
// (the latest of the last events of each batch read) and the bytes of its
// events' canonical encoding (the form segments hold and exports carry).
func logSpan(ctx context.Context, l *ledger.Ledger) (time.Time, int64, error) {
	var bytes int64
	var last time.Time
	for pos := uint64(1); ; {
		recs, err := l.Store.ReadAll(ctx, pos, 4096)
		if err != nil {
			return last, bytes, err
		}
		if len(recs) == 0 {
			break
		}
		for _, rec := range recs {
			bytes += int64(len(eventstore.EncodeCanonical(rec)))
		}
		m, err := l.Codec.Decode(domainlog.ToDomain(recs[len(recs)-1]))
		if err != nil {
			return last, bytes, err
		}
		if e := m.Effective(); e.After(last) {
			last = e
		}
		pos = recs[len(recs)-1].Position + 1
	}
	return last, bytes, nil
}

// dirBytes is the disk space the files under dir take (allocated blocks).
func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			} else {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
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
