package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
)

func init() {
	register(command{
		name:    "demo",
		summary: "generate the demo partnership into a data directory (if empty), write sign-in tokens, and serve it",
		run:     runDemo,
	})
}

// demoServe serves an open ledger on addr and calls ready with its URL
// once it listens. It is nil until the HTTP API's serve command exists:
// cmd/concord/serve.go sets it to serveLedger in its init.
var demoServe func(ctx context.Context, m *Main, l *ledger.Ledger, addr string, ready func(url string)) error

// demoTokensFile is the file in the data directory where demo writes the
// sign-in tokens it issued, readable only by its owner.
const demoTokensFile = "tokens.json"

// demoToken is one sign-in token of the demo, as tokens.json lists it.
// Role says which of the demo's people it signs in as (what the ledger
// says they are): the token itself carries no role, only the person.
type demoToken struct {
	Role     string    `json:"role"`
	PersonID uuid.UUID `json:"person_id,omitzero"`
	Label    string    `json:"label"`
	Token    string    `json:"token"`
}

// issueDemoTokens issues one token per kind of person into the data
// directory's token store: the first school's Director, a staff member, a
// chair and a governor, the partnership lead, the outside auditor
// appointed to the partnership, and the system administrator.
func issueDemoTokens(ctx context.Context, dir string, sum demo.Summary) ([]demoToken, error) {
	ts, err := api.OpenTokens(filepath.Join(dir, api.TokensFile), api.TokensOptions{})
	if err != nil {
		return nil, fmt.Errorf("open the token store: %w", err)
	}
	defer ts.Close()
	people := []struct {
		role, label string
	}{
		{domain.RoleDirector, "demo: Director of the first school"},
		{domain.RoleStaff, "demo: a staff member of the first school"},
		{domain.RoleChair, "demo: an ISLC chair of the first school"},
		{domain.RoleGovernor, "demo: a governor of the first school"},
		{domain.RolePartnershipLead, "demo: the partnership lead"},
		{domain.RoleAuditor, "demo: the auditor appointed to the partnership"},
	}
	secret, _, err := ts.Create(ctx, api.TokenSpec{Kind: app.KindAdmin, Label: "demo: system administrator"})
	if err != nil {
		return nil, fmt.Errorf("create the administrator's token: %w", err)
	}
	out := []demoToken{{Role: domain.RoleAdmin, Label: "demo: system administrator", Token: secret}}
	for _, p := range people {
		person := sum.Sample[p.role]
		if person == uuid.Nil {
			continue // no one holds the office yet (no chair before the first elections)
		}
		secret, _, err := ts.Create(ctx, api.TokenSpec{Kind: app.KindPerson, PersonID: person, Label: p.label})
		if err != nil {
			return nil, fmt.Errorf("create the %s token: %w", p.role, err)
		}
		out = append(out, demoToken{Role: p.role, PersonID: person, Label: p.label, Token: secret})
	}
	return out, nil
}

func runDemo(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("demo", "[--data DIR] [--schools N] [--years N] [--seed S] [--addr HOST:PORT] [--no-serve] [--fresh]")
	data := fs.String("data", "", "data `directory` (default $CONCORD_DATA, else concord-demo in the system's temporary directory)")
	schools := fs.Int("schools", 4, "number of `schools` in the partnership")
	years := fs.Int("years", 2, "academic `years` of history, ending with the current one")
	seed := fs.Int64("seed", 1, "`seed` of the generator (the same seed gives the same history)")
	volume := fs.Int("volume", 1, "multiplies each school-year's loans and CPD (`factor`; 15 with --schools 50 --years 10 gives about a million events)")
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to serve on")
	noServe := fs.Bool("no-serve", false, "generate (if needed) and exit without serving")
	fresh := fs.Bool("fresh", false, "DELETE the data directory first and generate a new demo")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments: %v", fs.Args())
	}
	if *schools < 1 || *years < 1 || *volume < 1 {
		return Usagef("--schools, --years and --volume must be at least 1")
	}
	dir := *data
	if dir == "" {
		dir = m.Getenv("CONCORD_DATA")
	}
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "concord-demo")
	}
	fmt.Fprintf(m.Stdout, "Data directory: %s\n", dir)
	if *fresh {
		if err := removeDataDir(dir); err != nil {
			return err
		}
	}

	clock := demo.NewClock(time.Now)
	logger := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l, err := ledger.Open(ctx, withStoreMetrics(ledger.Config{DataDir: dir, Now: clock.Now, Logger: logger}))
	if err != nil {
		return err
	}
	defer l.Close()
	head, err := l.Store.Head(ctx)
	if err != nil {
		return fmt.Errorf("read the store's head: %w", err)
	}
	if head == 0 {
		if err := generateDemo(ctx, m, l, clock, dir, demo.Options{Schools: *schools, Years: *years, Seed: *seed, Volume: *volume}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(m.Stdout, "The store already holds %d events; using them (--fresh starts again).\n", head)
	}
	start := time.Now()
	if err := l.CatchUp(ctx); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "projections caught up in %v\n", time.Since(start).Round(time.Millisecond))
	if *noServe {
		return nil
	}
	if demoServe == nil {
		fmt.Fprintf(m.Stderr, "Serving is not available yet in this build: the HTTP API is still being written.\nThe demo data is in %s; run with --no-serve to generate only.\n", dir)
		return errors.New("serving is not available yet")
	}
	return demoServe(ctx, m, l, *addr, func(url string) {
		// One write, so that a reader of the output never sees the URL
		// without the tokens that go with it.
		msg := fmt.Sprintf("Concord demo is running at %s — sign in with a token below\n", url)
		if b, err := os.ReadFile(filepath.Join(dir, demoTokensFile)); err == nil {
			msg += fmt.Sprintf("Tokens (%s):\n%s\n", filepath.Join(dir, demoTokensFile), b)
		}
		fmt.Fprint(m.Stdout, msg)
	})
}

// generateDemo generates the demo into an empty ledger with a progress
// line on stderr, then issues the sign-in tokens and writes tokens.json.
func generateDemo(ctx context.Context, m *Main, l *ledger.Ledger, clock *demo.Clock, dir string, opts demo.Options) error {
	start := time.Now()
	last := start
	opts.Clock = clock
	opts.Progress = func(n uint64) {
		if now := time.Now(); now.Sub(last) >= 250*time.Millisecond {
			last = now
			fmt.Fprintf(m.Stderr, "\rgenerating the demo partnership: %d events", n)
		}
	}
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, opts)
	fmt.Fprintf(m.Stderr, "\rgenerating the demo partnership: %d events\n", sum.Events)
	if err != nil {
		return fmt.Errorf("generate the demo: %w", err)
	}
	took := time.Since(start)
	fmt.Fprintf(m.Stdout, "Generated %s: %d schools, %s, %d people, %d events in %v (%.0f events/s).\n",
		sum.Name, len(sum.Schools), yearsText(sum.Years), sum.People, sum.Events, took.Round(time.Millisecond), float64(sum.Events)/took.Seconds())
	tokens, err := issueDemoTokens(ctx, dir, sum)
	if err != nil {
		return fmt.Errorf("issue the demo's tokens: %w", err)
	}
	b, err := json.MarshalIndent(tokens, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, demoTokensFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write the tokens: %w", err)
	}
	fmt.Fprintf(m.Stdout, "Sign-in tokens, one per role, are in %s.\n", filepath.Join(dir, demoTokensFile))
	return nil
}

func yearsText(ys []string) string {
	if len(ys) == 1 {
		return ys[0]
	}
	sort.Strings(ys)
	return ys[0] + " to " + ys[len(ys)-1]
}

// removeDataDir deletes dir for --fresh, but only if it is missing, empty
// or looks like a Concord data directory, so a mistyped --data cannot wipe
// anything else.
func removeDataDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--fresh: %w", err)
	}
	if len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(dir, ledger.EventsDir)); err != nil {
			return fmt.Errorf("--fresh: %s is not empty and holds no %s/ directory; not deleting what may not be a Concord data directory", dir, ledger.EventsDir)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("--fresh: %w", err)
	}
	return nil
}
