package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/concord-ledger/concord/eventstore/benchmark"
	"github.com/concord-ledger/concord/eventstore/segment"
)

// Targets "concord bench append" reports against (docs/benchmarks.md), at
// targetWriters concurrent writers.
const (
	targetWriters  = 64
	targetRawRatio = 0.7 // concord events/s ≥ 0.7 × the device limit
	targetSQLRatio = 3.0 // concord events/s ≥ 3 × SQLite with group commit
	targetPGRatio  = 5.0 // concord events/s ≥ 5 × PostgreSQL
)

// Engine names, as benchmark's constructors name them.
const (
	engineRaw     = "raw"
	engineNaive   = "naive"
	engineConcord = "concord"
	engineSQLite  = "sqlite"
	enginePG      = "postgres"
)

func init() {
	registerBenchmark(benchCommand{
		name:    "append",
		summary: "durable appends/s: device limit, naive fsync, Concord's store, SQLite and PostgreSQL side by side",
		run:     runBenchAppend,
	})
}

func runBenchAppend(ctx context.Context, m *Main, args []string) error {
	fs := benchFlagSet(m, "append", "[--concurrency 1,16,64,256] [--duration 3s] [--rounds 1] [--dir DIR] [--pg URL] [--json] [--cpuprofile FILE]")
	levels := intList{1, 16, 64, 256}
	fs.Var(&levels, "concurrency", "comma-separated numbers of concurrent writers")
	duration := fs.Duration("duration", 3*time.Second, "length of each run")
	rounds := fs.Int("rounds", 1, "runs of each engine at each level; the median is reported")
	dir := fs.String("dir", "", "scratch directory (default: a temporary directory in the current one); a fresh subdirectory is used and removed")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	pg := fs.String("pg", "", "PostgreSQL URL of a server to measure as a peer (it must sync commits); the table "+benchmark.PostgresTable+" is dropped and recreated; without it the PostgreSQL peer is skipped")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	if err := Parse(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return Usagef("unexpected argument %q", fs.Arg(0))
	case *duration <= 0:
		return Usagef("--duration must be positive")
	case *rounds < 1:
		return Usagef("--rounds must be at least 1")
	}

	scratch, err := benchScratch(*dir, ".concord-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)

	storeLog := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Fprintf(m.Stderr, "bench append: %d-byte events, %v per run, %d round(s), scratch %s\n",
		benchmark.EventSize, *duration, *rounds, scratch)
	engines := []benchmark.Engine{
		benchmark.RawGroupFsync(),
		benchmark.NaiveFsync(),
		benchmark.Concord(segment.Options{Logger: storeLog}),
		benchmark.SQLite(),
	}
	if *pg != "" {
		engines = append(engines, benchmark.Postgres(*pg))
	} else {
		fmt.Fprintln(m.Stderr, "bench append: PostgreSQL peer skipped (no --pg URL; docs/benchmarks.md shows how to start a private server)")
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	rows, err := benchmark.Compare(ctx, benchmark.Plan{
		Engines:  engines,
		Writers:  levels,
		Duration: *duration,
		Rounds:   *rounds,
		Dir:      scratch,
		Progress: func(round int, r benchmark.Result) {
			fmt.Fprintf(m.Stderr, "  %4d writers  round %d  %-8s %10.0f events/s  p50 %s  p99 %s\n",
				r.Writers, round+1, r.Engine, r.EventsPerSecond(), ms(r.Latency.P50), ms(r.Latency.P99))
		},
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeAppendJSON(m.Stdout, rows)
	}
	return writeAppendTable(m.Stdout, rows, *duration, *rounds)
}

// appendJSON is one concurrency level of --json output. The key names are
// a published interface (docs/benchmarks.md): add keys, never rename.
type appendJSON struct {
	Concurrency        int     `json:"concurrency"`
	RawFsyncEPS        float64 `json:"raw_fsync_eps"`
	NaiveFsyncEPS      float64 `json:"naive_fsync_eps"`
	ConcordEPS         float64 `json:"concord_eps"`
	SQLiteEPS          float64 `json:"sqlite_eps"`
	ConcordP50ms       float64 `json:"concord_p50_ms"`
	ConcordP99ms       float64 `json:"concord_p99_ms"`
	RawP50ms           float64 `json:"raw_p50_ms"`
	RawP99ms           float64 `json:"raw_p99_ms"`
	NaiveP50ms         float64 `json:"naive_p50_ms"`
	NaiveP99ms         float64 `json:"naive_p99_ms"`
	SQLiteP50ms        float64 `json:"sqlite_p50_ms"`
	SQLiteP99ms        float64 `json:"sqlite_p99_ms"`
	ConcordRawRatio    float64 `json:"concord_raw_ratio"`
	ConcordSQLiteRatio float64 `json:"concord_sqlite_ratio"`
	// The PostgreSQL peer's figures, present only when it ran (--pg).
	PostgresEPS    *float64 `json:"postgres_eps,omitempty"`
	PostgresP50ms  *float64 `json:"postgres_p50_ms,omitempty"`
	PostgresP99ms  *float64 `json:"postgres_p99_ms,omitempty"`
	ConcordPGRatio *float64 `json:"concord_postgres_ratio,omitempty"`
}

func writeAppendJSON(w io.Writer, rows []benchmark.Row) error {
	out := struct {
		Results []appendJSON `json:"results"`
	}{Results: []appendJSON{}}
	for _, row := range rows {
		raw, naive := row.Results[engineRaw], row.Results[engineNaive]
		con, sql := row.Results[engineConcord], row.Results[engineSQLite]
		j := appendJSON{
			Concurrency:        row.Writers,
			RawFsyncEPS:        round(raw.EventsPerSecond(), 1),
			NaiveFsyncEPS:      round(naive.EventsPerSecond(), 1),
			ConcordEPS:         round(con.EventsPerSecond(), 1),
			SQLiteEPS:          round(sql.EventsPerSecond(), 1),
			ConcordP50ms:       msFloat(con.Latency.P50),
			ConcordP99ms:       msFloat(con.Latency.P99),
			RawP50ms:           msFloat(raw.Latency.P50),
			RawP99ms:           msFloat(raw.Latency.P99),
			NaiveP50ms:         msFloat(naive.Latency.P50),
			NaiveP99ms:         msFloat(naive.Latency.P99),
			SQLiteP50ms:        msFloat(sql.Latency.P50),
			SQLiteP99ms:        msFloat(sql.Latency.P99),
			ConcordRawRatio:    round(row.Ratio(engineConcord, engineRaw), 3),
			ConcordSQLiteRatio: round(row.Ratio(engineConcord, engineSQLite), 3),
		}
		if pg, ok := row.Results[enginePG]; ok {
			eps, p50, p99, ratio := round(pg.EventsPerSecond(), 1), msFloat(pg.Latency.P50), msFloat(pg.Latency.P99), round(row.Ratio(engineConcord, enginePG), 3)
			j.PostgresEPS, j.PostgresP50ms, j.PostgresP99ms, j.ConcordPGRatio = &eps, &p50, &p99, &ratio
		}
		out.Results = append(out.Results, j)
	}
	return json.NewEncoder(w).Encode(out)
}

func writeAppendTable(w io.Writer, rows []benchmark.Row, d time.Duration, rounds int) error {
	withPG := false
	for _, row := range rows {
		_, ok := row.Results[enginePG]
		withPG = withPG || ok
	}
	fmt.Fprintf(w, "Durable appends of %d-byte events, one event per call, %v per run", benchmark.EventSize, d)
	if rounds > 1 {
		fmt.Fprintf(w, ", median of %d rounds (ratios: median of the rounds' ratios)", rounds)
	}
	fmt.Fprint(w, ".\nraw: group commit on a preallocated file (the device limit); naive: O_APPEND + fsync per append;\n"+
		"concord: the embedded segment store (Exact expected revision); sqlite: WAL, synchronous=FULL, group commit\n"+
		"(a batch of queued appends per transaction)")
	if withPG {
		fmt.Fprint(w, "; postgres: one connection per writer, one transaction per append")
	}
	fmt.Fprint(w, ".\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "writers\traw eps\tnaive eps\tconcord eps\tsqlite eps\t")
	if withPG {
		fmt.Fprint(tw, "postgres eps\t")
	}
	fmt.Fprint(tw, "concord/raw\tconcord/sqlite\t")
	if withPG {
		fmt.Fprint(tw, "concord/postgres\t")
	}
	fmt.Fprint(tw, "raw p50/p99 ms\tnaive p50/p99 ms\tconcord p50/p99 ms\tsqlite p50/p99 ms\t")
	if withPG {
		fmt.Fprint(tw, "postgres p50/p99 ms\t")
	}
	fmt.Fprint(tw, "\n")
	for _, row := range rows {
		raw, naive := row.Results[engineRaw], row.Results[engineNaive]
		con, sql, pg := row.Results[engineConcord], row.Results[engineSQLite], row.Results[enginePG]
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t%.0f\t", row.Writers, raw.EventsPerSecond(), naive.EventsPerSecond(), con.EventsPerSecond(), sql.EventsPerSecond())
		if withPG {
			fmt.Fprintf(tw, "%.0f\t", pg.EventsPerSecond())
		}
		fmt.Fprintf(tw, "%.2f\t%.2f\t", row.Ratio(engineConcord, engineRaw), row.Ratio(engineConcord, engineSQLite))
		if withPG {
			fmt.Fprintf(tw, "%.2f\t", row.Ratio(engineConcord, enginePG))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t", p50p99(raw), p50p99(naive), p50p99(con), p50p99(sql))
		if withPG {
			fmt.Fprintf(tw, "%s\t", p50p99(pg))
		}
		fmt.Fprint(tw, "\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nTargets at %d writers:\n", targetWriters)
	for _, row := range rows {
		if row.Writers != targetWriters {
			continue
		}
		targets := []struct {
			what   string
			got    float64
			target float64
		}{
			{"concord/raw     ", row.Ratio(engineConcord, engineRaw), targetRawRatio},
			{"concord/sqlite  ", row.Ratio(engineConcord, engineSQLite), targetSQLRatio},
		}
		if withPG {
			targets = append(targets, struct {
				what   string
				got    float64
				target float64
			}{"concord/postgres", row.Ratio(engineConcord, enginePG), targetPGRatio})
		}
		for _, t := range targets {
			verdict := "met"
			if t.got < t.target {
				short := 100 * (1 - t.got/t.target)
				verdict = fmt.Sprintf("NOT met (%.0f%% short)", short)
				if short < 1 {
					verdict = fmt.Sprintf("NOT met (%.1f%% short)", short)
				}
			}
			fmt.Fprintf(w, "  %s %6.2f  target >= %.1f  %s\n", t.what, t.got, t.target, verdict)
		}
		if !withPG {
			fmt.Fprintf(w, "  concord/postgres   not measured (give --pg URL)\n")
		}
		return nil
	}
	_, err := fmt.Fprintf(w, "  not measured (add %d to --concurrency)\n", targetWriters)
	return err
}

func p50p99(r benchmark.Result) string {
	return strconv.FormatFloat(msFloat(r.Latency.P50), 'f', 2, 64) + " / " +
		strconv.FormatFloat(msFloat(r.Latency.P99), 'f', 2, 64)
}

func ms(d time.Duration) string { return strconv.FormatFloat(msFloat(d), 'f', 2, 64) + "ms" }

func msFloat(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// intList is a flag holding comma-separated positive integers.
type intList []int

func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, n := range *l {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	var out intList
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return errors.New("want comma-separated positive integers, e.g. 1,16,64")
		}
		out = append(out, n)
	}
	*l = out
	return nil
}

// startCPUProfile starts a CPU profile into path ("" for none) and returns
// the function that stops it.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
