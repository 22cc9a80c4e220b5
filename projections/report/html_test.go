package report_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
	"github.com/concord-ledger/concord/projections/views/partnershiptest"
)

// memberWorld is the test year with ISLC members: at Pant one teacher in
// two ISLCs and another in one, at Cwm its head; three people in four
// memberships.
func memberWorld(t *testing.T) *partnershiptest.World {
	t.Helper()
	w := partnershiptest.New(t, 16)
	w.Year()
	ctx, admin := w.Ctx, domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	must := func(_ domain.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []uuid.UUID{w.Pant, w.Cwm} {
		must(w.Gov.OpenAcademicYear(ctx, admin, governance.OpenAcademicYear{SchoolID: s, Year: "2025-26"}))
	}
	var pant []uuid.UUID
	for _, n := range governance.DefaultSegmentNames[:2] {
		seg := governance.DefaultSegmentID(w.Pant, n)
		must(w.Gov.EstablishCommunity(ctx, admin, governance.EstablishCommunity{SchoolID: w.Pant, SegmentID: seg}))
		pant = append(pant, governance.CommunityID(w.Pant, seg))
	}
	join := func(c, p uuid.UUID) {
		must(w.Gov.JoinCommunity(ctx, admin, governance.JoinCommunity{CommunityID: c, PersonID: p, Year: "2025-26", Basis: []string{governance.BasisInterest}}))
	}
	join(pant[0], w.Phys1)
	join(pant[1], w.Phys1)
	join(pant[1], w.MathsLead)
	join(w.CwmScienceISLC, w.CwmHead)
	w.CatchUp()
	return w
}

var (
	tagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
	styleRE = regexp.MustCompile(`(?s)<style>.*?</style>|<title>[^<]*</title>`)
	thRE    = regexp.MustCompile(`<th scope="col">([^<]*)</th>`)
	// codeRE is a code name: lower-case words joined by underscores.
	codeRE = regexp.MustCompile(`\b[a-z]+(_[a-z]+)+\b`)
)

// visibleText is what a reader sees of an HTML page: its text without
// tags, styles or the document title.
func visibleText(html string) string {
	return tagRE.ReplaceAllString(styleRE.ReplaceAllString(html, " "), " ")
}

// The report a governor reads, as the page's body and as the HTML
// download: the year in numbers once, human headings and words, and every
// chart with a title and a description in words.
func TestReportHTMLReadsAsAGovernor(t *testing.T) {
	w := memberWorld(t)
	r := build(t, w, views.AsOf{})
	body, err := r.BodyHTML(func(table string) string { return "/csv/" + table })
	if err != nil {
		t.Fatal(err)
	}
	for name, html := range map[string]string{"download": string(render(t, r, report.FormatHTML)), "body": string(body)} {
		if n := strings.Count(html, ">The year in numbers<"); n != 1 {
			t.Errorf("%s: \"The year in numbers\" appears %d times, want once", name, n)
		}
		text := visibleText(html)
		for _, code := range []string{"joined_on", "benefit_gbp", "teaching_resource", "science_lab", "hours_borrowed", "due_on", "academic_year", "teachmeet"} {
			if strings.Contains(text, code) {
				t.Errorf("%s: a reader sees the code name %q", name, code)
			}
		}
		if m := codeRE.FindAllString(text, -1); len(m) > 0 {
			t.Errorf("%s: a reader sees code names %q", name, m)
		}
		heads := thRE.FindAllStringSubmatch(html, -1)
		if len(heads) == 0 {
			t.Fatalf("%s: no column heading", name)
		}
		for _, h := range heads {
			if r, _ := utf8.DecodeRuneInString(h[1]); !unicode.IsUpper(r) {
				t.Errorf("%s: column heading %q does not start as a heading does", name, h[1])
			}
		}
		// Every chart is there, with a title and a description.
		for _, id := range []string{"chart-membership", "chart-utilisation", "chart-costs", "chart-rag", "chart-celebrated"} {
			fig := regexp.MustCompile(`(?s)<figure class="chart" id="` + id + `"><figcaption>([^<]+)</figcaption>.*?<svg [^>]*role="img" aria-labelledby="` + id + `-t ` + id +
				`-d"[^>]*>\s*<title id="` + id + `-t">([^<]+)</title><desc id="` + id + `-d">([^<]+)</desc>.*?</svg></figure>`).FindStringSubmatch(html)
			if fig == nil {
				t.Errorf("%s: no chart %s with a caption, a title and a description", name, id)
				continue
			}
			if strings.TrimSpace(fig[2]) == "" || len(fig[3]) < 20 {
				t.Errorf("%s: chart %s: title %q, description %q", name, id, fig[2], fig[3])
			}
		}
		// The figures the rules give: 18 hours of the minibus at £25 and 3
		// of the lab at £40 plus £55 of CPD savings; 14 hours of
		// collaborating; three people (not four memberships, not two
		// schools) in the ISLCs in 2025-26.
		for _, want := range []string{"£625.00", "14 hours", "2025-26: 3 members", "science lab", "TeachMeet", "Costs beside benefits", "What was celebrated"} {
			if !strings.Contains(text, want) && !strings.Contains(html, want) {
				t.Errorf("%s lacks %q", name, want)
			}
		}
	}
	if !strings.Contains(string(body), `href="/csv/commitments"`) {
		t.Error("the body's tables do not link their CSV")
	}
	md := string(render(t, r, report.FormatMarkdown))
	if n := strings.Count(md, "The year in numbers"); n != 1 {
		t.Errorf("Markdown: \"The year in numbers\" appears %d times, want once", n)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && codeRE.MatchString(line) {
			t.Errorf("Markdown: a table line carries a code name: %s", line)
		}
	}
}

// A period with nothing to chart says so in a sentence instead of
// drawing empty axes.
func TestReportChartsWithNoData(t *testing.T) {
	w, _ := world(t)
	p, err := views.NewPeriod(partnershiptest.Day(2030, 1, 1), partnershiptest.Day(2030, 1, 31))
	if err != nil {
		t.Fatal(err)
	}
	r, err := report.BuildPeriod(w.Ctx, w.Reader, w.PID, p, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	html := string(render(t, r, report.FormatHTML))
	if strings.Contains(html, "<svg") {
		t.Error("a month with nothing in it draws a chart")
	}
	for _, want := range []string{"No resource was on loan in this period.", "No benefit or cost was recorded in this period.", "No contribution was recognised in this period."} {
		if !strings.Contains(html, want) {
			t.Errorf("the empty month lacks %q", want)
		}
	}
}
