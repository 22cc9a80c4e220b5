package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/concord-ledger/concord/eventstore/segment"
)

func init() {
	register(command{
		name:    "crashtest",
		summary: "kill a writer to the embedded event store (or, with --http, the whole server under load) at random moments and check that nothing acknowledged is lost",
		run:     runCrashTest,
	})
}

// runCrashTest runs segment.CrashTest with this binary as the child: it
// re-executes itself as "concord crashtest --child --dir D", kills that
// process with SIGKILL at a random moment, reopens the store and checks
// it, cycle after cycle.
func runCrashTest(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("crashtest", "[--cycles N] [--dir DIR] [--http [--clients N] [--max-run D] [--seed S]]")
	cycles := fs.Int("cycles", 20, "kill-and-recover cycles to run")
	dir := fs.String("dir", "", "store directory (with --http: work directory); default a new temporary one, removed after a successful run")
	child := fs.Bool("child", false, "internal: be the child process, appending to --dir until killed")
	httpMode := fs.Bool("http", false, "crash the whole server: run \"concord serve\" as a child under concurrent clients, SIGKILL and restart it, and check commands, views, the Merkle tree and checkpoints")
	clients := fs.Int("clients", 4, "with --http: staff members sending commands concurrently (besides the administrator)")
	maxRun := fs.Duration("max-run", 1500*time.Millisecond, "with --http: the longest the server runs under load before it is killed")
	seed := fs.Uint64("seed", 0, "with --http: seed of the clients' choices and the kill times (default: from the clock)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments %q", fs.Args())
	}
	if *httpMode {
		if *cycles < 1 || *clients < 1 || *maxRun <= 0 {
			return Usagef("--cycles and --clients must be at least 1 and --max-run positive")
		}
		return runHTTPCrashCommand(ctx, m, httpCrashPlan{Cycles: *cycles, Clients: *clients, MaxRun: *maxRun, Seed: *seed, Out: m.Stdout}, *dir)
	}
	if *child {
		if *dir == "" {
			return Usagef("--child needs --dir")
		}
		return segment.CrashChild(ctx, *dir, m.Stdout)
	}
	if *cycles < 1 {
		return Usagef("--cycles must be at least 1")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program to run it as the child: %w", err)
	}
	d, temporary := *dir, *dir == ""
	if temporary {
		if d, err = os.MkdirTemp("", "concord-crashtest-"); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.Stdout, "crash test: %d cycles on %s\n", *cycles, d)
	start := time.Now()
	err = segment.CrashTest(ctx, d, *cycles, func() *exec.Cmd {
		return exec.Command(exe, "crashtest", "--child", "--dir", d)
	}, m.Stdout)
	if err != nil {
		return fmt.Errorf("%w (the store is left in %s)", err, d)
	}
	fmt.Fprintf(m.Stdout, "ok: %d crashes, nothing acknowledged was lost (%v)\n", *cycles, time.Since(start).Round(time.Millisecond))
	if temporary {
		return os.RemoveAll(d)
	}
	return nil
}
