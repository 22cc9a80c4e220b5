package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

func init() {
	register(command{
		name:    "rebuild",
		summary: "rebuild projections from zero (all, or one with --view), then print each view's position",
		run:     runRebuild,
	})
}

func runRebuild(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("rebuild", "[--data DIR] [--view NAME]")
	data := fs.String("data", "", "data `directory` (default $CONCORD_DATA, else concord-data)")
	view := fs.String("view", "", "rebuild only the view `name`d (default: every view)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments %q", fs.Args())
	}
	names := views.Names()
	if *view != "" {
		names = []string{*view}
	}
	l, err := openQuietLedger(ctx, m, ledgerDataDir(m, *data))
	if err != nil {
		return err
	}
	defer l.Close()
	for _, name := range names {
		bar := &rebuildBar{m: m, name: name}
		start := time.Now()
		err := l.Engine.Rebuild(ctx, views.Canonical(name), bar.update)
		bar.done(time.Since(start))
		if errors.Is(err, projections.ErrUnknownProjection) {
			return Usagef("no view %q; the views are %v", name, views.Names())
		}
		if err != nil {
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
	}
	for _, st := range l.Engine.Status(ctx) {
		line := fmt.Sprintf("%-22s position %d of %d", st.Name, st.Position, st.Head)
		if st.Failure != nil {
			line += fmt.Sprintf("  STOPPED at %d (%s): %s", st.Failure.Position, st.Failure.Type, st.Failure.Err)
		}
		fmt.Fprintln(m.Stdout, line)
	}
	return nil
}

// rebuildBar draws a progress bar on stderr, rewritten in place with \r
// at most ten times a second.
type rebuildBar struct {
	m     *Main
	name  string
	last  time.Time
	total uint64
	n     uint64
}

const barWidth = 30

func (b *rebuildBar) update(done, total uint64) {
	b.n, b.total = done, total
	if time.Since(b.last) < 100*time.Millisecond && done != total {
		return
	}
	b.last = time.Now()
	b.draw()
}

func (b *rebuildBar) draw() {
	filled, pct := barWidth, uint64(100)
	if b.total > 0 {
		filled = int(b.n * barWidth / b.total)
		pct = b.n * 100 / b.total
	}
	bar := make([]byte, barWidth)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '='
		}
	}
	fmt.Fprintf(b.m.Stderr, "\rrebuilding %-22s [%s] %3d%% %d/%d events ", b.name, bar, pct, b.n, b.total)
}

// done draws the bar full and ends its line.
func (b *rebuildBar) done(took time.Duration) {
	b.n = b.total
	b.draw()
	fmt.Fprintf(b.m.Stderr, "in %s\n", took.Round(time.Millisecond))
}
