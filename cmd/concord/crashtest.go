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
		summary: "kill a writer to the embedded event store at random moments and check that nothing acknowledged is lost",
		run:     runCrashTest,
	})
}

// runCrashTest runs segment.CrashTest with this binary as the child: it
// re-executes itself as "concord crashtest --child --dir D", kills that
// process with SIGKILL at a random moment, reopens the store and checks
// it, cycle after cycle.
func runCrashTest(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("crashtest", "[--cycles N] [--dir DIR]")
	cycles := fs.Int("cycles", 20, "kill-and-recover cycles to run")
	dir := fs.String("dir", "", "store directory; default a new temporary one, removed after a successful run")
	child := fs.Bool("child", false, "internal: be the child process, appending to --dir until killed")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments %q", fs.Args())
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
