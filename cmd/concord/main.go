// Command concord is Concord's one binary: it serves the ledger, generates
// the demo partnership, verifies, replays and reports, exports and imports,
// and benchmarks. Run "concord help" for the list of commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// Exit codes, documented in docs/operations.md.
const (
	exitOK       = 0
	exitFailure  = 1 // the command ran and failed (or found a problem)
	exitUsage    = 2 // bad flags or arguments
	exitInternal = 3 // could not run at all (e.g. data directory unusable)
)

// command is one subcommand of the binary. Each lives in its own file and
// registers itself in init, so commands do not collide.
type command struct {
	name    string
	summary string
	// run parses args with fs (already named) and runs the command.
	run func(ctx context.Context, m *Main, args []string) error
}

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("concord: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// Main is the program: its streams and environment, so end-to-end tests
// can run any command in-process without a shell.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

// usageError marks errors caused by bad flags or arguments (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Usagef returns an error that makes the program exit with code 2.
func Usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Run runs the command named by args[0] and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		m.usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(m.Stderr, "concord: unknown command %q\n\n", args[0])
		m.usage()
		return exitUsage
	}
	err := c.run(ctx, m, args[1:])
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(m.Stderr, "concord %s: %v\n", c.name, err)
		return exitUsage
	default:
		fmt.Fprintf(m.Stderr, "concord %s: %v\n", c.name, err)
		return exitFailure
	}
}

// FlagSet returns a flag set for the named command whose errors and help go
// to m.Stderr. Parse errors come back as usage errors.
func (m *Main) FlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("concord "+name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "usage: concord %s %s\n\n%s\n\nflags:\n", name, synopsis, commands[name].summary)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args into fs, turning parse failures into usage errors.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

func (m *Main) usage() {
	fmt.Fprintln(m.Stderr, "usage: concord <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(m.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(m.Stderr, "\nRun \"concord <command> --help\" for a command's flags.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := NewMain().Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
