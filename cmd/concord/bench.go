package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
)

// benchCommand is one "concord bench" subcommand (a benchmark). Each lives in its own file
// (bench_append.go, …) and registers itself from init with
// registerBenchmark, as commands register with register, so benchmarks
// added later do not touch this file.
type benchCommand struct {
	name    string
	summary string
	// run parses args (those after "concord bench <name>") and runs the
	// benchmark. Use benchFlagSet for its flags.
	run func(ctx context.Context, m *Main, args []string) error
}

var benchmarks = map[string]benchCommand{}

func registerBenchmark(b benchCommand) {
	if _, dup := benchmarks[b.name]; dup {
		panic("concord: benchmark registered twice: " + b.name)
	}
	benchmarks[b.name] = b
}

func init() {
	register(command{
		name:    "bench",
		summary: "measure the event store against the device and its peers",
		run:     runBench,
	})
}

// runBench dispatches "concord bench <benchmark> [flags]". With no
// benchmark named it lists them and fails with a usage error; "help", -h
// and --help list them and succeed.
func runBench(ctx context.Context, m *Main, args []string) error {
	if len(args) == 0 {
		benchUsage(m)
		return Usagef("name a benchmark")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		benchUsage(m)
		return flag.ErrHelp
	}
	b, ok := benchmarks[args[0]]
	if !ok {
		benchUsage(m)
		return Usagef("unknown benchmark %q", args[0])
	}
	return b.run(ctx, m, args[1:])
}

func benchUsage(m *Main) {
	fmt.Fprintln(m.Stderr, "usage: concord bench <benchmark> [flags]\n\nbenchmarks:")
	names := make([]string, 0, len(benchmarks))
	for n := range benchmarks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(m.Stderr, "  %-10s %s\n", n, benchmarks[n].summary)
	}
	fmt.Fprintln(m.Stderr, "\nRun \"concord bench <benchmark> --help\" for a benchmark's flags.")
}

// benchFlagSet is m.FlagSet for the benchmark called name: errors and help
// go to m.Stderr, and help shows the benchmark's summary.
func benchFlagSet(m *Main, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("concord bench "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "usage: concord bench %s %s\n\n%s\n\nflags:\n", name, synopsis, benchmarks[name].summary)
		fs.PrintDefaults()
	}
	return fs
}

// benchScratch makes a benchmark's scratch directory, named prefix plus a
// random suffix, inside dir ("" for the working directory, created when
// missing); the caller removes it.
func benchScratch(dir, prefix string) (string, error) {
	base := dir
	if base == "" {
		base = "."
	} else if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	scratch, err := os.MkdirTemp(base, prefix)
	if err != nil {
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	return scratch, nil
}
