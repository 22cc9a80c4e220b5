package apitest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain/demo"
)

// Demo is a generated demo partnership of two schools and two years (seed
// 7) in a ledger in memory, its views caught up: the ledger, what the
// generator made (sample people of each role) and its clock, which the
// server should use as its own.
func Demo(t testing.TB) (*ledger.Ledger, demo.Summary, *demo.Clock) {
	t.Helper()
	l, sum, clock := DemoViewsBehind(t)
	if err := l.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l, sum, clock
}

// DemoViewsBehind is Demo with the views left where the generation left
// them, behind the log (no one has read them since).
func DemoViewsBehind(t testing.TB) (*ledger.Ledger, demo.Summary, *demo.Clock) {
	t.Helper()
	ctx := context.Background()
	clock := demo.NewClock(nil)
	l, err := ledger.Open(ctx, ledger.Config{Now: clock.Now, Logger: slog.New(slog.DiscardHandler), NoTransparency: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: 2, Years: 2, Seed: 7, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return l, sum, clock
}
