// Package benchmark owns Concord's append benchmark harness: the engines
// that are compared (a raw group-commit file that stands for the device
// limit, a naive fsync-per-append file, Concord's embedded segment store
// and SQLite), the timed runs that drive them with concurrent writers and
// measure every append, and the interleaved comparison behind
// "concord bench append". The go test benchmarks of this package and the
// CLI use the same code, so their numbers mean the same thing.
//
// Every engine appends the same event (NewEvent: EventSize bytes in its
// canonical encoding), one per call, each writer to its own stream, and
// acknowledges only once the event is durable on disk.
package benchmark

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Appender is an opened engine. Append is called concurrently for
// different writers but never concurrently for the same one, so an
// Appender may keep per-writer state indexed by writer without locking.
type Appender interface {
	// Append durably appends one event for writer w (0 <= w < the writers
	// the Appender was opened for) and returns once it is on stable
	// storage.
	Append(ctx context.Context, w int) error
	// Close releases the engine, leaving what it wrote on disk.
	Close() error
}

// Engine is one way of appending events, opened fresh for each run.
type Engine struct {
	// Name identifies the engine in results ("raw", "naive", "concord",
	// "sqlite").
	Name string
	// Open opens the engine in dir, an existing empty directory it may fill,
	// for up to writers concurrent writers.
	Open func(ctx context.Context, dir string, writers int) (Appender, error)
}

// Config is the shape of one run.
type Config struct {
	// Writers is the number of goroutines appending concurrently (at least 1).
	Writers int
	// Duration is how long writers keep starting appends. Appends in
	// flight when it ends are finished and counted.
	Duration time.Duration
	// Events, when positive, replaces Duration: the run stops after
	// exactly this many appends in total (as go test -bench's b.N).
	Events int
}

// Result is what one run measured.
type Result struct {
	Engine  string
	Writers int
	// Events is the number of appends that returned successfully.
	Events int64
	// Elapsed is the time from the start of the run until the last writer
	// returned.
	Elapsed time.Duration
	// Latency describes how long single appends took.
	Latency Latency
}

// EventsPerSecond is the run's throughput.
func (r Result) EventsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Events) / r.Elapsed.Seconds()
}

// Latency summarises the durations of individual appends, by nearest rank.
type Latency struct {
	P50, P90, P99, P999, Max time.Duration
}

// summarize returns the percentiles of ds, which it sorts.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	return Latency{P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), P999: rank(0.999), Max: ds[len(ds)-1]}
}

// RunEngine opens e in dir, runs it with cfg and closes it. dir must exist
// and be empty; what the engine wrote stays there for the caller to
// inspect or remove.
func RunEngine(ctx context.Context, e Engine, dir string, cfg Config) (res Result, err error) {
	if cfg.Writers < 1 {
		return Result{}, fmt.Errorf("benchmark %s: %d writers, need at least 1", e.Name, cfg.Writers)
	}
	a, err := e.Open(ctx, dir, cfg.Writers)
	if err != nil {
		return Result{}, fmt.Errorf("benchmark %s: open: %w", e.Name, err)
	}
	defer func() {
		if cerr := a.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("benchmark %s: close: %w", e.Name, cerr)
		}
	}()
	res, err = Run(ctx, a, cfg)
	res.Engine = e.Name
	if err != nil {
		return res, fmt.Errorf("benchmark %s: %w", e.Name, err)
	}
	return res, nil
}

// Run drives a with cfg.Writers goroutines, each calling Append in a loop
// and timing every call, until cfg.Duration has passed (or cfg.Events
// appends were started). It returns the first append error, after
// stopping every writer, or ctx's error if ctx ended.
func Run(ctx context.Context, a Appender, cfg Config) (Result, error) {
	if cfg.Writers < 1 {
		return Result{}, fmt.Errorf("%d writers, need at least 1", cfg.Writers)
	}
	if cfg.Events <= 0 && cfg.Duration <= 0 {
		return Result{}, errors.New("neither a duration nor an event count")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var stop atomic.Bool
	var started atomic.Int64
	more := func() bool {
		if stop.Load() || ctx.Err() != nil {
			return false
		}
		return cfg.Events <= 0 || started.Add(1) <= int64(cfg.Events)
	}
	lat := make([][]time.Duration, cfg.Writers)
	var wg sync.WaitGroup
	start := time.Now()
	if cfg.Events <= 0 {
		t := time.AfterFunc(cfg.Duration, func() { stop.Store(true) })
		defer t.Stop()
	}
	for w := range cfg.Writers {
		wg.Go(func() {
			ds := make([]time.Duration, 0, 1024)
			for more() {
				t0 := time.Now()
				if err := a.Append(ctx, w); err != nil {
					cancel(fmt.Errorf("writer %d: %w", w, err))
					break
				}
				ds = append(ds, time.Since(t0))
			}
			lat[w] = ds
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	all := make([]time.Duration, 0, cfg.Writers*len(lat[0]))
	for _, ds := range lat {
		all = append(all, ds...)
	}
	res := Result{Writers: cfg.Writers, Events: int64(len(all)), Elapsed: elapsed, Latency: summarize(all)}
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	return res, nil
}

// Median returns the result whose throughput is the median of rs (the
// lower middle one for an even count), with each latency percentile
// replaced by the median of that percentile over rs. Requires len(rs) > 0.
func Median(rs []Result) Result {
	byEPS := slices.Clone(rs)
	slices.SortFunc(byEPS, func(a, b Result) int {
		return cmp.Compare(a.EventsPerSecond(), b.EventsPerSecond())
	})
	m := byEPS[(len(byEPS)-1)/2]
	pick := func(f func(Latency) time.Duration) time.Duration {
		ds := make([]time.Duration, len(rs))
		for i, r := range rs {
			ds[i] = f(r.Latency)
		}
		slices.Sort(ds)
		return ds[(len(ds)-1)/2]
	}
	m.Latency = Latency{
		P50:  pick(func(l Latency) time.Duration { return l.P50 }),
		P90:  pick(func(l Latency) time.Duration { return l.P90 }),
		P99:  pick(func(l Latency) time.Duration { return l.P99 }),
		P999: pick(func(l Latency) time.Duration { return l.P999 }),
		Max:  pick(func(l Latency) time.Duration { return l.Max }),
	}
	return m
}
