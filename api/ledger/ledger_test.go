package ledger

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections/views"
)

var quiet = slog.New(slog.DiscardHandler)

func registerStaff(t *testing.T, ctx context.Context, l *Ledger) (school, person uuid.UUID) {
	t.Helper()
	school, person = uuid.New(), uuid.New()
	meta := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	if _, err := l.Governance.RegisterSchool(ctx, meta, governance.RegisterSchool{SchoolID: school, Name: "Hill Top Primary"}); err != nil {
		t.Fatalf("register school: %v", err)
	}
	if _, err := l.Governance.RegisterStaff(ctx, meta, governance.RegisterStaff{PersonID: person, SchoolID: school, Kind: governance.StaffEducator,
		PersonDetails: governance.PersonDetails{Name: "Rosalind Achebe-Quist", Email: "rosalind@example.org"}}); err != nil {
		t.Fatalf("register staff: %v", err)
	}
	return school, person
}

func TestOpenOnDiskKeepsEventsKeysAndDirectoryAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Logger: quiet, Transparency: transparency.Options{CheckpointInterval: time.Hour}}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l.Backend != "segment" || l.Log == nil {
		t.Fatalf("backend %q, log %v", l.Backend, l.Log)
	}
	school, person := registerStaff(t, ctx, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{EventsDir, "keys", ProjectionsFile, "checkpoint.key"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("data directory lacks %s: %v", p, err)
		}
	}

	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	head, err := l.Store.Head(ctx)
	if err != nil || head < 2 {
		t.Fatalf("head after reopen = %d, %v", head, err)
	}
	if ok, err := l.Directory.IsStaffOf(ctx, person, school); err != nil || !ok {
		t.Fatalf("directory after reopen: IsStaffOf = %v, %v", ok, err)
	}
	p, _, err := domain.Load(ctx, l.Handler, governance.PersonStream(person), governance.NewPerson)
	if err != nil || p.Personal.Name != "Rosalind Achebe-Quist" {
		t.Fatalf("person after reopen = %+v, %v (key not durable?)", p.Personal, err)
	}
	// Erasure destroys the key: the name is gone, the events stay.
	if err := l.Erase(person.String()); err != nil {
		t.Fatal(err)
	}
	p, _, err = domain.Load(ctx, l.Handler, governance.PersonStream(person), governance.NewPerson)
	if err != nil || !p.Personal.Erased || p.Personal.Name != domain.ErasedName {
		t.Fatalf("person after erasure = %+v, %v", p.Personal, err)
	}
	if h, _ := l.Store.Head(ctx); h != head {
		t.Fatalf("erasure changed the log: head %d → %d", head, h)
	}
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOpenInMemoryLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, Config{Logger: quiet, NoTransparency: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.Backend != "memory" || l.Log != nil {
		t.Fatalf("backend %q, log %v", l.Backend, l.Log)
	}
	registerStaff(t, ctx, l)
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.tmpDir); !os.IsNotExist(err) {
		t.Fatalf("scratch directory %s still there after Close: %v", l.tmpDir, err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestOpenKurrentDBNeedsADataDirectory(t *testing.T) {
	_, err := Open(context.Background(), Config{KurrentDBURL: "esdb://localhost:2113?tls=false", Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "data directory") {
		t.Fatalf("err = %v, want a data directory error", err)
	}
}

// A catch-up releases the fold's garbage once when it folded at least
// releaseAfter events, and not otherwise.
func TestCatchUpReleasesMemoryAfterALongFold(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Logger: quiet, NoTransparency: true}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	registerStaff(t, ctx, l)
	registerStaff(t, ctx, l)
	head, err := l.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	released := 0
	defer func(after uint64, was func()) { releaseAfter, release = after, was }(releaseAfter, release)
	release = func() { released++ }

	cases := []struct {
		name  string
		after uint64 // releaseAfter
		fresh bool   // the projections rebuilt from zero (head events to fold)
		want  int
	}{
		{"a rebuild of exactly the threshold releases", head, true, 1},
		{"a rebuild of one event fewer than the threshold does not", head + 1, true, 0},
		{"a catch-up with nothing to fold does not", 1, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.fresh {
				if err := os.Remove(filepath.Join(dir, ProjectionsFile)); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if !c.fresh {
				if err := l.CatchUp(ctx); err != nil {
					t.Fatal(err)
				}
			}
			releaseAfter, released = c.after, 0
			if err := l.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			if released != c.want {
				t.Fatalf("released %d times, want %d (head %d, threshold %d)", released, c.want, head, c.after)
			}
		})
	}
}

// Warm reads each partnership's report twice, once in each reading, and
// nothing on a ledger with no partnership.
func TestWarmReadsEveryPartnershipInBothReadings(t *testing.T) {
	ctx := context.Background()
	clock := demo.NewClock(time.Now)
	l, err := Open(ctx, Config{Logger: quiet, NoTransparency: true, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := l.Warm(ctx); got != 0 {
		t.Fatalf("Warm on an empty ledger made %d readings, want 0", got)
	}
	if _, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: 3, Years: 1, Seed: 1, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var partnerships int
	if _, err := views.Read(ctx, l.Views, "partnerships", views.AsOf{}, func(v *views.Partnerships) error {
		partnerships = len(v.List(nil))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if partnerships == 0 {
		t.Fatal("the demo formed no partnership")
	}
	if got, want := l.Warm(ctx), 2*partnerships; got != want {
		t.Fatalf("Warm made %d readings, want %d (two for each of %d partnerships)", got, want, partnerships)
	}

	// A partnership formed at the end of the log has no report half way
	// through it: its two readings are made at the head and now, with no
	// warning logged.
	var director uuid.UUID
	if _, err := views.Read(ctx, l.Views, "schools", views.AsOf{}, func(v *views.Schools) error {
		for _, sc := range v.Schools(nil) {
			if sc.Director != nil {
				director = sc.Director.ID
				return nil
			}
		}
		return nil
	}); err != nil || director == uuid.Nil {
		t.Fatalf("no school with a Director (%v)", err)
	}
	lead := domain.Meta{ActorID: director.String(), ActorRole: domain.RolePartnershipLead}
	if _, err := l.Partnership.FormPartnership(ctx, lead, partnership.FormPartnership{PartnershipID: uuid.New(), Name: "Late Partnership", Kind: partnership.KindCluster}); err != nil {
		t.Fatal(err)
	}
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	l.logger = slog.New(slog.NewTextHandler(&logged, nil))
	if got, want := l.Warm(ctx), 2*(partnerships+1); got != want {
		t.Fatalf("Warm made %d readings with a late partnership, want %d", got, want)
	}
	if logged.Len() > 0 {
		t.Fatalf("Warm logged: %s", logged.String())
	}
}
