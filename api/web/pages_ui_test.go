package web_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
)

// TestOverviewTimelineNamesSchools: an item on several schools' timelines
// is one line saying for whom; an item of one school names it.
func TestOverviewTimelineNamesSchools(t *testing.T) {
	f := newFixture(t)
	lead := as(f.director, domain.RolePartnershipLead)
	drop := "Data drop: progress ratings by area and cohort"
	for _, s := range []uuid.UUID{f.pant, f.cwm} {
		items := []partnership.PlannedItem{{Kind: partnership.ItemDataDrop, Title: drop, On: at(2025, 10, 20, 0)},
			{Kind: partnership.ItemDataDrop, Title: drop, On: at(2026, 2, 2, 0)}}
		if s == f.pant {
			items = append(items, partnership.PlannedItem{Kind: partnership.ItemVisit, Title: "School-improvement visit", On: at(2025, 11, 24, 0)})
		}
		f.must(f.l.Partnership.CreateTimeline(f.ctx, lead, partnership.CreateTimeline{TimelineID: uuid.New(), PartnershipID: f.pid, SchoolID: s,
			AcademicYear: year, Title: "Improvement programme", Items: items}))
	}
	f.must(f.l.Partnership.CreateTimeline(f.ctx, lead, partnership.CreateTimeline{TimelineID: uuid.New(), PartnershipID: f.pid,
		AcademicYear: year, Title: "Partnership programme", Items: []partnership.PlannedItem{{Kind: partnership.ItemTraining, Title: "TeachMeet", On: at(2025, 12, 3, 0)}}}))
	if err := f.l.CatchUp(f.ctx); err != nil {
		t.Fatal(err)
	}
	b := f.signIn("director-token")
	_, body := b.get("/")
	overdue, next, ok := strings.Cut(body, "Overdue on the timeline")
	if !ok {
		t.Fatalf("the overview shows nothing overdue:\n%s", body)
	}
	overdue, _, _ = strings.Cut(next, "</ul>")
	next, _, _ = strings.Cut(strings.SplitN(body, "What comes next", 2)[1], "</ol>")
	// Overdue (the clock is at 10 November 2025): the October data drop of
	// both schools, once.
	if n := strings.Count(overdue, drop); n != 1 {
		t.Errorf("the overdue data drop is listed %d times, want once:\n%s", n, overdue)
	}
	if !strings.Contains(overdue, "every school (2)") {
		t.Errorf("the overdue data drop does not say it is every school's:\n%s", overdue)
	}
	for _, want := range []string{"School-improvement visit — <strong class=\"for\">Ysgol y Pant</strong>", "TeachMeet — <strong class=\"for\">the partnership</strong>",
		drop + " — <strong class=\"for\">every school (2)</strong>"} {
		if !strings.Contains(next, want) {
			t.Errorf("what comes next lacks %q:\n%s", want, next)
		}
	}
	if n := strings.Count(next, drop); n != 1 {
		t.Errorf("the February data drop is listed %d times, want once:\n%s", n, next)
	}
}
