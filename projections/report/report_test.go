package report_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
	"github.com/concord-ledger/concord/projections/views/partnershiptest"
)

func world(t *testing.T) (*partnershiptest.World, uint64) {
	t.Helper()
	return report.YearWorld(t)
}

func build(t *testing.T, w *partnershiptest.World, at views.AsOf) *report.Report {
	t.Helper()
	r, err := report.Build(w.Ctx, w.Reader, w.PID, "2025-26", at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func render(t *testing.T, r *report.Report, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r.Write(&b, format); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var formats = []string{report.FormatJSON, report.FormatMarkdown, report.FormatHTML, report.FormatCSV}

func TestReportSamePositionSameBytes(t *testing.T) {
	w, head := world(t)
	for _, pos := range []uint64{head, head / 2} {
		a, b := build(t, w, views.AsOf{Position: pos}), build(t, w, views.AsOf{Position: pos})
		for _, f := range formats {
			if !bytes.Equal(render(t, a, f), render(t, b, f)) {
				t.Errorf("%s at position %d differs between two builds", f, pos)
			}
		}
		if a.Footer.Position != pos {
			t.Errorf("footer position=%d, want %d", a.Footer.Position, pos)
		}
	}
	live := build(t, w, views.AsOf{})
	pinned := build(t, w, views.AsOf{Position: head})
	live.Footer.Reading = pinned.Footer.Reading
	if !bytes.Equal(render(t, live, report.FormatJSON), render(t, pinned, report.FormatJSON)) {
		t.Error("the live report differs from the report as of the head")
	}
}

func TestReportContents(t *testing.T) {
	w, head := world(t)
	r := build(t, w, views.AsOf{Position: head})
	h := r.Reporting.Headline
	if h.ResourcesShared != 2 || h.HoursUsed != 21 || h.Loans != 4 || h.CPDPlacesBooked != 11 || h.PeerReviews != 1 || h.CostHours != 14 {
		t.Errorf("headline=%+v", h)
	}
	if h.BenefitPence != 18*2500+3*4000+5500 {
		t.Errorf("benefit=%d", h.BenefitPence)
	}
	if len(r.Reporting.OverdueLoans) != 1 || r.Reporting.OverdueLoans[0].LoanID != w.LateLoan {
		t.Errorf("overdue loans on %s = %+v", r.Footer.ReckonedOn, r.Reporting.OverdueLoans)
	}
	if len(r.Accountability.Commitments) != 3 || r.Accountability.FollowUps.Done != 1 || r.Accountability.FollowUps.Open != 1 {
		t.Errorf("accountability=%+v", r.Accountability)
	}
	if len(r.Celebrating.Recognitions) != 3 || len(r.Timeline.Done) != 3 {
		t.Errorf("celebrating=%+v timeline done=%d", r.Celebrating, len(r.Timeline.Done))
	}
	// Read as known before the partnership was formed: no report.
	if _, err := report.Build(w.Ctx, w.Reader, w.PID, "2025-26", views.AsOf{Position: 3}); !errors.Is(err, report.ErrNoPartnership) {
		t.Errorf("err=%v, want ErrNoPartnership", err)
	}
	if _, err := report.Build(w.Ctx, w.Reader, uuid.New(), "2025-26", views.AsOf{}); !errors.Is(err, report.ErrNoPartnership) {
		t.Errorf("unknown partnership: err=%v", err)
	}
	if _, err := report.Build(w.Ctx, w.Reader, w.PID, "2025/26", views.AsOf{}); err == nil {
		t.Error("a malformed year was accepted")
	}
	// An earlier position tells an earlier story.
	early := build(t, w, views.AsOf{Position: head / 2})
	if early.Reporting.Headline == h {
		t.Error("half way through the log the headline is already the year's")
	}
}

func TestReportHTML(t *testing.T) {
	w, head := world(t)
	r := build(t, w, views.AsOf{Position: head})
	r.Footer.Checkpoint = "root 5f2c…e1"
	html := string(render(t, r, report.FormatHTML))
	for _, want := range []string{`<figure class="chart" id="chart-utilisation">`, `<figure class="chart" id="chart-rag">`, `<figure class="chart" id="chart-costs">`, "<svg", "<style>",
		fmt.Sprintf("Ledger position %d.", head), "as known at ledger position", "root 5f2c…e1", "Mari Jones", "Y Pant Comprehensive", "@media print"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, ext := range []string{"<script", "<link", "src=\"http"} {
		if strings.Contains(html, ext) {
			t.Errorf("HTML is not self-contained: has %q", ext)
		}
	}
}

func TestReportErasedPerson(t *testing.T) {
	w, head := world(t)
	w.Keys.Erase(w.Phys2.String())
	r := build(t, w, views.AsOf{Position: head})
	md := string(render(t, r, report.FormatMarkdown))
	if strings.Contains(md, "Mari Jones") {
		t.Error("the erased teacher is still named")
	}
	if !strings.Contains(md, "| a person | "+domain.ErasedName+" |") {
		t.Errorf("the erased teacher is not shown as %s", domain.ErasedName)
	}
	if !strings.Contains(md, "Gwen Price") {
		t.Error("people not erased lost their names")
	}
}

func TestReportCSV(t *testing.T) {
	w, head := world(t)
	r := build(t, w, views.AsOf{Position: head})
	for _, name := range report.TableNames() {
		var b bytes.Buffer
		if err := r.WriteCSV(&b, name); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(recs) == 0 {
			t.Fatalf("%s: no header", name)
		}
	}
	var b bytes.Buffer
	if err := r.WriteCSV(&b, "commitments"); err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(&b).ReadAll()
	if len(recs) != 4 || recs[0][0] != "Priority" {
		t.Errorf("commitments csv=%v", recs)
	}
	if err := r.WriteCSV(io.Discard, "nope"); !errors.Is(err, report.ErrUnknownTable) {
		t.Errorf("err=%v", err)
	}
	z := render(t, r, report.FormatCSV)
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(report.TableNames())+1 {
		t.Errorf("zip has %d files", len(zr.File))
	}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".csv") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := csv.NewReader(rc).ReadAll(); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		rc.Close()
	}
}

func BenchmarkReportAsOf(b *testing.B) {
	w := partnershiptest.New(b, 64)
	w.Year()
	w.CatchUp()
	head, _ := w.Store.Head(w.Ctx)
	b.ResetTimer()
	for i := range b.N {
		pos := uint64(i)%(head-40) + 40
		if _, err := report.Build(w.Ctx, w.Reader, w.PID, "2025-26", views.AsOf{Position: pos}); err != nil {
			b.Fatal(err)
		}
	}
}

// A whole year recorded after the fact, every command carrying the day it
// happened as its effective date, gives the same report as the same year
// recorded live; the recorded times stay the server's.
func TestYearRecordedAfterTheFactReportsAsLive(t *testing.T) {
	live := partnershiptest.New(t, 16)
	live.Year()
	live.CatchUp()
	late := partnershiptest.New(t, 16)
	late.Late = time.Date(2027, 1, 15, 10, 0, 0, 0, time.UTC)
	late.Year()
	late.CatchUp()

	endOfYear := views.AsOf{Corrected: true, Time: partnershiptest.At(2026, 8, 31, 23)}
	a, b := build(t, live, endOfYear), build(t, late, endOfYear)
	if len(a.Celebrating.Recognitions) != 3 || len(a.Accountability.Commitments) == 0 || a.Reporting.Headline.Loans == 0 {
		t.Fatalf("the live report is nearly empty: %+v", a.Reporting.Headline)
	}
	a.Footer, b.Footer = report.Footer{}, report.Footer{}
	ja, jb := render(t, a, report.FormatJSON), render(t, b, report.FormatJSON)
	if !bytes.Equal(ja, jb) {
		la, lb := strings.Split(string(ja), "\n"), strings.Split(string(jb), "\n")
		for i := range min(len(la), len(lb)) {
			if la[i] != lb[i] {
				t.Fatalf("the year recorded late reports otherwise than live; first difference at line %d:\n live: %s\n late: %s", i+1, la[i], lb[i])
			}
		}
		t.Fatalf("the reports differ in length: %d and %d lines", len(la), len(lb))
	}
	// Recorded when it was entered, effective when it happened.
	recs, err := late.Store.ReadAll(late.Ctx, 1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.RecordedAt.Before(late.Late) {
			t.Fatalf("%s recorded at %s, before it was entered (%s)", r.Type, r.RecordedAt, late.Late)
		}
		if r.Metadata.EffectiveAt.IsZero() || r.Metadata.EffectiveAt.After(endOfYear.Time) {
			t.Fatalf("%s effective %s, not the day it happened", r.Type, r.Metadata.EffectiveAt)
		}
	}
}

// The report shows the loans returned by condition, covers a span of
// days as well as a year, charts ISLC membership in people, and shows the
// governors' challenges to the member schools' Directors.
func TestReportPeriodConditionsMembershipChallenges(t *testing.T) {
	w := partnershiptest.New(t, 16)
	w.Year()
	ctx, admin := w.Ctx, domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	must := func(_ domain.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// ISLC members: at Pant one teacher in two ISLCs and another in one;
	// at Cwm its head. Three people, four memberships.
	for _, s := range []uuid.UUID{w.Pant, w.Cwm} {
		must(w.Gov.OpenAcademicYear(ctx, admin, governance.OpenAcademicYear{SchoolID: s, Year: "2025-26"}))
	}
	var pantISLCs []uuid.UUID
	for _, n := range governance.DefaultSegmentNames[:2] {
		seg := governance.DefaultSegmentID(w.Pant, n)
		must(w.Gov.EstablishCommunity(ctx, admin, governance.EstablishCommunity{SchoolID: w.Pant, SegmentID: seg}))
		pantISLCs = append(pantISLCs, governance.CommunityID(w.Pant, seg))
	}
	join := func(c, p uuid.UUID) {
		must(w.Gov.JoinCommunity(ctx, admin, governance.JoinCommunity{CommunityID: c, PersonID: p, Year: "2025-26", Basis: []string{governance.BasisInterest}}))
	}
	join(pantISLCs[0], w.Phys1)
	join(pantISLCs[1], w.Phys1)
	join(pantISLCs[1], w.MathsLead)
	join(w.CwmScienceISLC, w.CwmHead)
	// A governor of Pant challenges its Director twice; one is answered.
	gov := uuid.New()
	must(w.Gov.RegisterGovernor(ctx, admin, governance.RegisterGovernor{PersonID: gov, SchoolID: w.Pant, PersonDetails: governance.PersonDetails{Name: "Governor Rees"}}))
	must(w.Gov.AppointDirector(ctx, admin, governance.AppointDirector{SchoolID: w.Pant, DirectorID: w.PantDirector}))
	asGov := domain.Meta{ActorID: gov.String(), ActorRole: domain.RoleGovernor}
	answered, open := uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{answered, open} {
		must(w.Gov.RaiseChallenge(ctx, asGov, governance.RaiseChallenge{ChallengeID: id, Subject: governance.ChallengeSubject{Kind: governance.SubjectSchool, ID: w.Pant},
			Text: "How is the cluster's cost justified?", DueOn: partnershiptest.Day(2026, 7, 31)}))
	}
	must(w.Gov.AnswerChallenge(ctx, domain.Meta{ActorID: w.PantDirector.String(), ActorRole: domain.RoleDirector}, governance.AnswerChallenge{ChallengeID: answered, Answer: "See the benefit table."}))
	w.CatchUp()

	r := build(t, w, views.AsOf{})
	if got := r.Reporting.LoansReturned; len(got) != 3 || got[0] != (views.ConditionCount{Condition: "good", Count: 1}) ||
		got[1] != (views.ConditionCount{Condition: "fair"}) || got[2] != (views.ConditionCount{Condition: "damaged", Count: 1, Late: 1}) {
		t.Errorf("loans returned by condition = %+v", got)
	}
	cm := r.CommunityMembership
	if len(cm.Years) != 1 || cm.Years[0] != "2025-26" || cm.Members[0] != 3 || len(cm.Schools) != 3 {
		t.Fatalf("community membership = %+v", cm)
	}
	for _, s := range cm.Schools {
		want := map[uuid.UUID]int{w.Pant: 2, w.Cwm: 1, w.Tony: 0}[s.School.ID]
		if s.Members[0] != want {
			t.Errorf("%s members = %d, want %d", s.School.Name, s.Members[0], want)
		}
	}
	ch := r.Accountability.Challenges
	if ch.Counts != (views.ChallengeCounts{Open: 1, Answered: 1}) || len(ch.Open) != 1 || ch.Open[0].ID != open || len(ch.Answered) != 1 || ch.Answered[0].Answer != "See the benefit table." {
		t.Errorf("challenges = %+v", ch)
	}
	html := string(render(t, r, report.FormatHTML))
	if !strings.Contains(html, "ISLC membership over the years") || !strings.Contains(html, "Governors&#39; challenges") {
		t.Error("the HTML report lacks the membership chart in members or the challenges")
	}

	// Autumn only: the TeachMeet and two of the loans, the autumn costs;
	// no summer recognitions.
	autumn, err := views.NewPeriod(partnershiptest.Day(2025, 10, 1), partnershiptest.Day(2025, 12, 31))
	if err != nil {
		t.Fatal(err)
	}
	a, err := report.BuildPeriod(w.Ctx, w.Reader, w.PID, autumn, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if a.AcademicYear != "" || !a.From.Equal(partnershiptest.Day(2025, 10, 1)) || !a.To.Equal(partnershiptest.Day(2025, 12, 31)) || !strings.Contains(a.Title(), "2025-10-01 to 2025-12-31") {
		t.Errorf("period report %q from %s to %s", a.Title(), a.From, a.To)
	}
	if h := a.Reporting.Headline; h.Loans != 3 || h.CostHours != 7 || h.PeerReviews != 1 || h.CPDPlacesBooked != 11 {
		t.Errorf("autumn headline = %+v", h)
	}
	if len(a.Celebrating.Recognitions) != 0 || len(a.Accountability.Challenges.Open)+len(a.Accountability.Challenges.Answered) != 0 {
		t.Errorf("autumn shows summer recognitions or challenges: %+v %+v", a.Celebrating.Recognitions, a.Accountability.Challenges)
	}
	if _, err := views.NewPeriod(partnershiptest.Day(2025, 12, 31), partnershiptest.Day(2025, 10, 1)); !errors.Is(err, views.ErrPeriod) {
		t.Errorf("a period ending before it starts: %v", err)
	}
	// The year as a period is the year's report.
	y, _ := views.NewPeriod(partnershiptest.Day(2025, 9, 1), partnershiptest.Day(2026, 8, 31))
	yr, err := report.BuildPeriod(w.Ctx, w.Reader, w.PID, y, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(render(t, yr, report.FormatJSON), render(t, r, report.FormatJSON)) {
		t.Error("the report of 1 September to 31 August differs from the year's")
	}
}
