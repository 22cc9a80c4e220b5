package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/projections/replay"
	"github.com/concord-ledger/concord/projections/views"
)

func init() {
	register(command{
		name:    "replay",
		summary: "replay one decision (proposal, election or loan) step by step, with the state before and after each step",
		run:     runReplay,
	})
}

// ledgerDataDir returns the data directory: the flag, else CONCORD_DATA,
// else "concord-data".
func ledgerDataDir(m *Main, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if d := m.Getenv("CONCORD_DATA"); d != "" {
		return d
	}
	return "concord-data"
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := Parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// openQuietLedger opens the ledger in dir, logging only warnings.
func openQuietLedger(ctx context.Context, m *Main, dir string) (*ledger.Ledger, error) {
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("open ledger in %s: %w", dir, err)
	}
	return l, nil
}

// ledgerPosition turns an --as-of value (a position or an RFC 3339 time)
// into a ledger position; "" is 0 (the head).
func ledgerPosition(ctx context.Context, l *ledger.Ledger, s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if n == 0 {
			return 0, Usagef("--as-of position starts at 1")
		}
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, Usagef("--as-of %q is neither a position nor an RFC 3339 time", s)
	}
	pos, err := l.Store.PositionAt(ctx, t)
	if err != nil {
		return 0, fmt.Errorf("position at %s: %w", s, err)
	}
	if pos == 0 {
		return 0, fmt.Errorf("nothing was recorded by %s", s)
	}
	return pos, nil
}

func runReplay(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("replay", "proposal|election|loan ID [--data DIR] [--as-of POSITION|RFC3339] [--json]")
	data := fs.String("data", "", "data `directory` (default $CONCORD_DATA, else concord-data)")
	asOf := fs.String("as-of", "", "stop at this ledger `position` or RFC 3339 time (default: now)")
	asJSON := fs.Bool("json", false, "print the replay as JSON, with the full state before and after each step")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return Usagef("give the kind (proposal, election or loan) and the id")
	}
	kind := pos[0]
	if !slices.Contains([]string{replay.KindProposal, replay.KindElection, replay.KindLoan}, kind) {
		return Usagef("%q is not a kind of decision; use proposal, election or loan", kind)
	}
	id, err := uuid.Parse(pos[1])
	if err != nil {
		return Usagef("%q is not an id", pos[1])
	}
	l, err := openQuietLedger(ctx, m, ledgerDataDir(m, *data))
	if err != nil {
		return err
	}
	defer l.Close()
	at, err := ledgerPosition(ctx, l, *asOf)
	if err != nil {
		return err
	}
	rp := &replay.Replayer{Store: l.Store, Codec: l.Codec}
	req := replay.Request{Kind: kind, ID: id, AsOf: at}
	head, err := l.Store.Head(ctx)
	if err != nil {
		return err
	}
	namesAt := at
	if namesAt == 0 {
		namesAt = head
	}
	if namesAt > 0 && namesAt <= head {
		names, err := l.Views.PersonNames(ctx, views.AsOf{Position: namesAt})
		if err != nil {
			return err
		}
		req.Names = names
	}
	r, err := rp.Replay(ctx, req)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return printReplay(m.Stdout, r)
}

// printReplay writes r as text: one block per step, with the fields of
// the state that the step changed.
func printReplay(w io.Writer, r *replay.Replay) error {
	fmt.Fprintf(w, "Replay of %s %s (%s), as of ledger position %d: %d steps\n", r.Kind, r.ID, r.Stream, r.AsOf, len(r.Steps))
	for i, s := range r.Steps {
		actor := s.ActorID
		if s.ActorName != "" {
			actor = fmt.Sprintf("%s (%s)", s.ActorName, s.ActorID)
		}
		fmt.Fprintf(w, "\n%2d. #%d %s  %s\n", i+1, s.Position, s.RecordedAt.Format(time.RFC3339), s.Type)
		fmt.Fprintf(w, "    %s\n", s.Heading)
		fmt.Fprintf(w, "    by %s as %s\n", actor, s.Role)
		if !s.EffectiveAt.Equal(s.RecordedAt) {
			fmt.Fprintf(w, "    effective %s\n", s.EffectiveAt.Format(time.RFC3339))
		}
		if s.Reason != "" {
			fmt.Fprintf(w, "    reason: %s\n", s.Reason)
		}
		if changed := changedFields(s.Before, s.After); len(changed) > 0 {
			fmt.Fprintf(w, "    changed: %s\n", strings.Join(changed, ", "))
		}
	}
	return nil
}

// changedFields returns the top-level fields of two JSON objects that
// differ, sorted.
func changedFields(before, after json.RawMessage) []string {
	var b, a map[string]json.RawMessage
	if json.Unmarshal(before, &b) != nil || json.Unmarshal(after, &a) != nil {
		return nil
	}
	var out []string
	for k, v := range a {
		if string(b[k]) != string(v) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
