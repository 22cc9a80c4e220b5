package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/web"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
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

var (
	proofRE = regexp.MustCompile(`href="/verify/proof/(\d+)" title="Inclusion proof`)
	uuidRE  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	moreRE  = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older events`)
)

// auditRows returns the rows of the audit table on body, with the
// position of each.
func auditRows(t *testing.T, body string) ([]string, []uint64) {
	t.Helper()
	_, table, ok := strings.Cut(body, `<table class="audit">`)
	if !ok {
		return nil, nil
	}
	table, _, _ = strings.Cut(table, "</table>")
	var rows []string
	var pos []uint64
	for _, r := range strings.Split(table, "<tr>")[2:] {
		m := proofRE.FindStringSubmatch(r)
		if m == nil {
			t.Fatalf("an audit row without its position:\n%s", r)
		}
		p, _ := strconv.ParseUint(m[1], 10, 64)
		rows, pos = append(rows, r), append(pos, p)
	}
	return rows, pos
}

// TestAuditPage: the audit log reads newest first, page after page, and
// filters by names (kinds of event in words, ISLCs, people, schools) and
// by dates.
func TestAuditPage(t *testing.T) {
	f := newFixture(t)
	// The log starts with the latest event: a newcomer at Pant.
	f.must(f.l.Governance.RegisterStaff(f.ctx, adminMeta, governance.RegisterStaff{PersonID: uuid.New(), SchoolID: f.pant, Kind: governance.StaffEducator,
		PersonDetails: governance.PersonDetails{Name: "Nia Newcomer"}}))
	if err := f.l.CatchUp(f.ctx); err != nil {
		t.Fatal(err)
	}
	b := f.signIn("director-token")
	_, body := b.get("/audit")
	rows, pos := auditRows(t, body)
	if len(pos) != 50 || pos[0] != f.head() || !strings.Contains(rows[0], "Nia Newcomer") {
		t.Fatalf("the first page holds %d events from position %v, want 50 from the newcomer's registration at %d", len(pos), pos, f.head())
	}
	// Older pages follow, each newest first, never repeating.
	seen := map[uint64]bool{}
	last := pos[0] + 1
	for page := 1; ; page++ {
		for _, p := range pos {
			if p >= last || seen[p] {
				t.Fatalf("page %d: position %d after %d", page, p, last)
			}
			seen[p], last = true, p
		}
		m := moreRE.FindStringSubmatch(body)
		if m == nil {
			break
		}
		if !strings.Contains(m[1], "before=") {
			t.Fatalf("the next page is %s", m[1])
		}
		_, body = b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
		if !strings.Contains(body, "Newest events") {
			t.Errorf("page %d does not link back to the newest", page+1)
		}
		_, pos = auditRows(t, body)
	}
	if len(seen) < 60 {
		t.Errorf("the director's log has %d events", len(seen))
	}

	// The filters name things; no id is shown.
	_, body = b.get("/audit")
	form, _, _ := strings.Cut(strings.SplitN(body, `class="filters"`, 2)[1], "</form>")
	if ids := uuidRE.FindAllString(words(form), -1); len(ids) > 0 {
		t.Errorf("the filter form shows ids %v", ids)
	}
	if strings.Contains(form, `type="text"`) || strings.Contains(form, `<input id="f-person"`) {
		t.Error("the filter form asks for typed ids")
	}
	for _, want := range []string{`<option value="ChairElected">Chair elected</option>`, `<option value="` + f.ana.String() + `">Ana Evans</option>`,
		`<option value="` + f.finance.String() + `">Finance &amp; Enterprise</option>`, `<option value="CommunityEstablished">ISLC established</option>`} {
		if !strings.Contains(form, want) {
			t.Errorf("the filter form lacks %s", want)
		}
	}
	if strings.Contains(form, `id="f-school"`) {
		t.Error("a Director, who reads one school's log, is offered a school filter")
	}

	check := func(who *browser, path, what string, ok func(row string) bool) {
		t.Helper()
		_, body := who.get(path)
		rows, pos := auditRows(t, body)
		if len(rows) == 0 {
			t.Errorf("%s: nothing shown", path)
		}
		for i, r := range rows {
			if !ok(r) {
				t.Errorf("%s: event %d is not %s:\n%s", path, pos[i], what, words(r))
			}
			if i > 0 && pos[i] >= pos[i-1] {
				t.Errorf("%s: not newest first: %v", path, pos)
			}
		}
	}
	check(b, "/audit?type=ChairElected", "a chair's election", func(r string) bool {
		return strings.Contains(r, `<strong title="ChairElected">Chair elected</strong>`)
	})
	check(b, "/audit?person="+f.ana.String(), "about Ana Evans", func(r string) bool { return strings.Contains(r, "Ana Evans") })
	check(b, "/audit?community="+f.finance.String(), "about the finance ISLC", func(r string) bool { return strings.Contains(r, "Finance &amp; Enterprise") })
	check(b, "/audit?from=2025-10-06&to=2025-10-06", "of 6 October 2025", func(r string) bool { return strings.Contains(r, "<td>6 Oct 2025 ") })
	check(b, "/audit?from=2025-11-01", "of November 2025 or later", func(r string) bool { return strings.Contains(r, " Nov 2025 ") || strings.Contains(r, " Dec 2025 ") })
	check(b, "/audit?to=2025-08-20", "of 20 August 2025", func(r string) bool { return strings.Contains(r, "<td>20 Aug 2025 ") })
	check(b, "/audit?type=MemberJoined&person="+f.ben.String()+"&from=2025-09-01&to=2025-09-01", "Ben joining on 1 September",
		func(r string) bool {
			return strings.Contains(r, "Member joined") && strings.Contains(r, "Ben Morgan") && strings.Contains(r, "1 Sep 2025")
		})

	// The partnership's auditor reads every member school's log, the first
	// by name unless they choose another.
	auditor := f.signIn("auditor-token")
	_, body = auditor.get("/audit")
	for _, want := range []string{`<select id="f-school" name="school">`, `<option value="` + f.cwm.String() + `" selected>Cwm Primary</option>`,
		`<option value="` + f.pant.String() + `">Ysgol y Pant</option>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the auditor's audit page lacks %s", want)
		}
	}
	check(auditor, "/audit", "about Cwm Primary", func(r string) bool { return strings.Contains(r, "Cwm Primary") })
	check(auditor, "/audit?school="+f.pant.String(), "about Ysgol y Pant", func(r string) bool { return strings.Contains(r, "Ysgol y Pant") })
}

// TestResourcesLoansInPages: the loans table read a page at a time (one
// loan a page here) lists the loans the whole table lists, in its order,
// each page saying which ones it holds, for every school and for one
// school's loans (those it owns or borrows).
func TestResourcesLoansInPages(t *testing.T) {
	f := newFixture(t)
	// A third school borrows the minibus too: Cwm's loans are not all.
	bryn, brynHead := uuid.New(), uuid.New()
	f.must(f.l.Governance.RegisterSchool(f.ctx, adminMeta, governance.RegisterSchool{SchoolID: bryn, Name: "Bryn Academy"}))
	f.must(f.l.Governance.RegisterStaff(f.ctx, adminMeta, governance.RegisterStaff{PersonID: brynHead, SchoolID: bryn, Kind: governance.StaffEducator,
		PersonDetails: governance.PersonDetails{Name: "Bryn Head"}}))
	f.must(f.l.Partnership.JoinPartnership(f.ctx, as(f.director, domain.RolePartnershipLead), partnership.JoinPartnership{PartnershipID: f.pid, SchoolID: bryn}))
	brynLoan := uuid.New()
	f.must(f.l.Partnership.RequestLoan(f.ctx, as(brynHead, domain.RoleStaff), partnership.RequestLoan{ResourceID: f.minibus, LoanID: brynLoan, BorrowerSchoolID: bryn,
		Start: at(2025, 11, 20, 8), End: at(2025, 11, 20, 16), Purpose: "Choir trip"}))
	if err := f.l.CatchUp(f.ctx); err != nil {
		t.Fatal(err)
	}
	b := f.signIn("director-token")
	loanRE := regexp.MustCompile(`/loans/([0-9a-f-]{36})/replay\?step=1`)
	loansOf := func(body string) []string {
		var ids []string
		for _, m := range loanRE.FindAllStringSubmatch(body[strings.Index(body, "<h2"):], -1) {
			if !slices.Contains(ids, m[1]) {
				ids = append(ids, m[1])
			}
		}
		return ids
	}
	for _, filter := range []string{"school=all", "school=" + f.cwm.String()} {
		_, whole := b.get("/resources?" + filter)
		want := loansOf(whole)
		if len(want) < 2 {
			t.Fatalf("%s: %d loans, the test needs two or more", filter, len(want))
		}
		if all := filter == "school=all"; slices.Contains(want, brynLoan.String()) != all {
			t.Errorf("%s: Bryn's loan listed: %v, want %v", filter, !all, all)
		}
		func() {
			defer web.SetLoansPerPage(1)()
			var got []string
			for page := 1; page <= len(want)+1; page++ {
				_, body := b.get(fmt.Sprintf("/resources?%s&page=%d", filter, page))
				ids := loansOf(body)
				if page <= len(want) {
					if !strings.Contains(body, fmt.Sprintf("<p>%d loans; these are %d to %d.</p>", len(want), page, page)) {
						t.Errorf("%s page %d: does not say it holds loan %d of %d", filter, page, page, len(want))
					}
					if (page < len(want)) != strings.Contains(body, `rel="next"`) {
						t.Errorf("%s page %d: a link to the next page is wrong", filter, page)
					}
				}
				got = append(got, ids...)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: pages list %v, the whole table %v", filter, got, want)
			}
		}()
	}
}
