package partnership_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

func TestTerms(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"2025-26 Autumn 1", "2025-26 Autumn 1", true},
		{" 2025-26   summer 2 ", "2025-26 Summer 2", true},
		{"2025-26 spring_1", "2025-26 Spring 1", true},
		{"2099-00 Autumn 2", "2099-00 Autumn 2", true},
		{"2025-27 Autumn 1", "", false},
		{"2025-26 Autumn", "", false},
		{"2025-26 Winter 1", "", false},
		{"Autumn 1", "", false},
		{"", "", false},
	} {
		got, err := partnership.ParseTerm(c.in)
		if (err == nil) != c.ok || c.ok && got.String() != c.want {
			t.Errorf("ParseTerm(%q) = %v, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
	a1, _ := partnership.ParseTerm("2025-26 Autumn 1")
	s2, _ := partnership.ParseTerm("2025-26 Summer 2")
	n1, _ := partnership.ParseTerm("2026-27 Autumn 1")
	if !a1.Before(s2) || !s2.Before(n1) || n1.Before(a1) {
		t.Fatal("terms out of order")
	}
	for _, c := range []struct {
		d    time.Time
		want string
	}{
		{day(2025, 9, 1), "2025-26 Autumn 1"},
		{day(2025, 10, 31), "2025-26 Autumn 1"}, // half-term holiday
		{day(2025, 11, 3), "2025-26 Autumn 2"},
		{day(2026, 1, 5), "2025-26 Spring 1"},
		{day(2026, 2, 23), "2025-26 Spring 2"},
		{day(2026, 4, 13), "2025-26 Summer 1"},
		{day(2026, 8, 31), "2025-26 Summer 2"},
		{day(2026, 9, 1), "2026-27 Autumn 1"},
	} {
		if got := partnership.TermOf(c.d).String(); got != c.want {
			t.Errorf("TermOf(%s) = %s, want %s", c.d.Format(time.DateOnly), got, c.want)
		}
	}
	if got := partnership.AcademicYearOf(day(2026, 8, 31)); got != "2025-26" {
		t.Fatalf("AcademicYearOf = %s", got)
	}
}

func TestNormaliseCohort(t *testing.T) {
	for in, want := range map[string]string{
		"Year 7": "Year 7", "year7": "Year 7", " YEAR  13 ": "Year 13", "reception": "Reception", "Nursery": "Nursery",
		"KS3": "Key Stage 3", "key stage 5": "Key Stage 5", "sixth form": "Sixth Form",
		"Year 14": "", "Year 0": "", "Amara Osei": "", "7": "", "Year 7 set 2": "", "KS6": "",
	} {
		got, ok := partnership.NormaliseCohort(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormaliseCohort(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func (w *world) rate(school uuid.UUID, area, cohort, term string, rating partnership.RAG) {
	w.t.Helper()
	w.ok(w.svc.RateProgress(w.Ctx, as(w.a1), partnership.RateProgress{RatingID: domaintest.ID(), PartnershipID: w.pid, SchoolID: school,
		Area: area, Cohort: cohort, Term: term, Rating: rating, Evidence: "Work scrutiny and lesson visits"}))
}

func (w *world) progress(school uuid.UUID) *partnership.Progress {
	w.t.Helper()
	p, _, err := domain.Load(w.Ctx, w.Handler, partnership.ProgressStream(w.pid, school), partnership.NewProgress)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func TestRateProgress(t *testing.T) {
	w := newWorld(t)
	w.Clock.Set(day(2025, 10, 20))
	id := domaintest.ID()
	cmd := partnership.RateProgress{RatingID: id, PartnershipID: w.pid, SchoolID: w.a, Area: "Mathematics", Cohort: "year 7", Term: "2025-26 Autumn 1",
		Rating: partnership.Red, Evidence: "Baseline tests: fractions weak across the cohort."}
	res, err := w.svc.RateProgress(w.Ctx, as(w.a1), cmd)
	w.ThenEvents(res, err, partnership.ProgressRated{PartnershipID: w.pid, SchoolID: w.a, RatingID: id, Area: "Mathematics", Cohort: "Year 7",
		AcademicYear: "2025-26", Term: partnership.Autumn1, Rating: partnership.Red, Evidence: cmd.Evidence, RatedOn: day(2025, 10, 20)})
	if res.Stream != partnership.ProgressStream(w.pid, w.a) {
		t.Fatalf("stream=%s", res.Stream)
	}

	for _, c := range []struct {
		name   string
		change func(*partnership.RateProgress)
		rule   error
	}{
		{"same id", func(c *partnership.RateProgress) { c.RatingID = id }, domain.ErrAlreadyExists},
		{"a pupil instead of a cohort", func(c *partnership.RateProgress) { c.Cohort = "Amara Osei" }, domain.ErrInvalidValue},
		{"no cohort", func(c *partnership.RateProgress) { c.Cohort = "" }, domain.ErrRequired},
		{"bad term", func(c *partnership.RateProgress) { c.Term = "Autumn 2025" }, domain.ErrInvalidValue},
		{"no term", func(c *partnership.RateProgress) { c.Term = "" }, domain.ErrRequired},
		{"term not started", func(c *partnership.RateProgress) { c.Term = "2025-26 Autumn 2" }, domain.ErrInvalidValue},
		{"bad rating", func(c *partnership.RateProgress) { c.Rating = "yellow" }, domain.ErrInvalidValue},
		{"no evidence", func(c *partnership.RateProgress) { c.Evidence = " " }, domain.ErrRequired},
		{"no area", func(c *partnership.RateProgress) { c.Area = "" }, domain.ErrRequired},
		{"not a member", func(c *partnership.RateProgress) { c.SchoolID = w.outsider }, partnership.ErrNotPartnershipMember},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			cc.RatingID = domaintest.ID()
			c.change(&cc)
			_, err := w.svc.RateProgress(w.Ctx, as(w.a1), cc)
			w.ThenError(err, c.rule)
		})
	}
}

func TestProgressTrend(t *testing.T) {
	w := newWorld(t)
	w.Clock.Set(day(2026, 3, 1))
	w.rate(w.a, "Mathematics", "Year 7", "2025-26 Autumn 1", partnership.Red)
	w.rate(w.a, "Mathematics", "Year 7", "2025-26 Spring 1", partnership.Green)
	w.rate(w.a, "mathematics", "year 7", "2025-26 Autumn 2", partnership.Amber) // recorded late, rated in order
	w.rate(w.a, "Mathematics", "Year 7", "2025-26 Spring 2", partnership.Amber)
	w.rate(w.a, "Mathematics", "Year 7", "2025-26 Spring 2", partnership.Green) // supersedes the amber
	w.rate(w.a, "English", "Year 7", "2025-26 Autumn 1", partnership.Amber)
	w.rate(w.a, "English", "Year 7", "2025-26 Autumn 2", partnership.Red)

	p := w.progress(w.a)
	if len(p.Ratings) != 7 {
		t.Fatalf("ratings kept=%d, want 7", len(p.Ratings))
	}
	trend := p.Trend("MATHEMATICS", "Year 7")
	want := []struct {
		term   string
		rating partnership.RAG
		move   partnership.Movement
	}{
		{"2025-26 Autumn 1", partnership.Red, partnership.MovementNone},
		{"2025-26 Autumn 2", partnership.Amber, partnership.MovementImproved},
		{"2025-26 Spring 1", partnership.Green, partnership.MovementImproved},
		{"2025-26 Spring 2", partnership.Green, partnership.MovementUnchanged},
	}
	if len(trend) != len(want) {
		t.Fatalf("trend=%+v", trend)
	}
	for i, x := range want {
		if g := trend[i]; g.Rating.Term.String() != x.term || g.Rating.Rating != x.rating || g.Movement != x.move {
			t.Errorf("point %d = %s %s %q, want %s %s %q", i, g.Rating.Term, g.Rating.Rating, g.Movement, x.term, x.rating, x.move)
		}
	}
	if got := partnership.Trend(p.Ratings, w.a, "English", "Year 7"); got[1].Movement != partnership.MovementDeclined {
		t.Fatalf("English trend=%+v", got)
	}
	if l, ok := p.Latest("English", "Year 7"); !ok || l.Rating != partnership.Red {
		t.Fatalf("latest English=%+v", l)
	}
	if _, ok := p.Latest("Science", "Year 7"); ok {
		t.Fatal("latest of an unrated area")
	}
	w.rate(w.b, "Science", "Year 10", "2025-26 Spring 2", partnership.Amber)
	latest := partnership.LatestRatings(append(p.Ratings, w.progress(w.b).Ratings...))
	if len(latest) != 3 || latest[0].Area != "English" || latest[0].Rating != partnership.Red || latest[1].Rating != partnership.Amber || latest[2].Rating != partnership.Green {
		t.Fatalf("latest ratings, red first: %+v", latest)
	}
}

// TestAcademicYearLabelsAreWrittenAsTheRuleSays: a year's label is its
// first calendar year, a hyphen and the next year's last two digits, for
// years the labels are kept for and for others.
func TestAcademicYearLabelsAreWrittenAsTheRuleSays(t *testing.T) {
	for start, want := range map[int]string{1899: "1899-00", 1900: "1900-01", 1999: "1999-00", 2025: "2025-26", 2199: "2199-00", 2200: "2200-01", 12345: "12345-46"} {
		if got := partnership.AcademicYearLabel(start); got != want {
			t.Errorf("AcademicYearLabel(%d) = %q, want %q", start, got, want)
		}
	}
}
