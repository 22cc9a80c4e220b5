package web_test

import (
	"net/http"
	"net/url"
	"regexp"
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

// rowOf returns the table row of body that links to the replay of loan.
func rowOf(t *testing.T, body string, loan uuid.UUID) string {
	t.Helper()
	i := strings.Index(body, "/loans/"+loan.String()+"/replay")
	if i < 0 {
		t.Fatalf("the page has no row for loan %s:\n%s", loan, body)
	}
	start := strings.LastIndex(body[:i], "<tr")
	end := strings.Index(body[i:], "</tr>")
	return body[start : i+end]
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

func words(html string) string {
	return strings.Join(strings.Fields(tagRE.ReplaceAllString(html, " ")), " ")
}

// TestResourcesAnswerColumn: every reader sees how each request was
// answered; only staff of the owning school are offered the forms.
func TestResourcesAnswerColumn(t *testing.T) {
	f := newFixture(t)
	// The overdue loan was approved by Gwen Price (staff of Pant) on 22
	// September 2025; the carol concert waits for Pant.
	approved := "approved by Gwen Price (staff), 22 Sep 2025"
	for _, c := range []struct {
		token string
		forms bool
	}{{"governor-token", false}, {"head-token", false}, {"auditor-token", false}, {"director-token", true}} {
		b := f.signIn(c.token)
		_, body := b.get("/resources?school=all")
		if !strings.Contains(body, `<th scope="col">Answer</th>`) {
			t.Errorf("%s: no Answer column", c.token)
		}
		if got := words(rowOf(t, body, f.overdueLoan)); !strings.Contains(got, approved) {
			t.Errorf("%s: the overdue loan's row reads %q, want %q", c.token, got, approved)
		}
		waiting := rowOf(t, body, f.requestedLoan)
		if has := strings.Contains(waiting, "/approve"); has != c.forms {
			t.Errorf("%s: approve form offered %v, want %v:\n%s", c.token, has, c.forms, waiting)
		}
		if !c.forms && !strings.Contains(words(waiting), "waiting for Ysgol y Pant") {
			t.Errorf("%s: the waiting request reads %q", c.token, words(waiting))
		}
	}
	// Declined with a reason: the reason and who show to a governor.
	b := f.signIn("director-token")
	b.get("/resources")
	res, body := b.post("/resources/"+f.minibus.String()+"/loans/"+f.requestedLoan.String()+"/decline", url.Values{"reason": {"No driver that day"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "The loan was declined") {
		t.Fatalf("decline: %d\n%s", res.StatusCode, body)
	}
	_, body = f.signIn("governor-token").get("/resources?school=all")
	want := "declined by Gwen Price (staff), 10 Nov 2025 : “No driver that day”"
	if got := words(rowOf(t, body, f.requestedLoan)); !strings.Contains(got, want) {
		t.Errorf("the declined loan reads %q, want %q", got, want)
	}
}
