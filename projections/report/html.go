package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"
	"unicode"
)

// Number is one figure of "the year in numbers".
type Number struct {
	Label, Value string
}

// Numbers returns the year in a few numbers, in words.
func (r *Report) Numbers() []Number {
	h := r.Reporting.Headline
	return []Number{
		{"Resources shared", itoa(h.ResourcesShared)},
		{"Hours resources were on loan", num(h.HoursUsed)},
		{"Loans", itoa(h.Loans)},
		{"Secondments (FTE years)", fixed2(h.SecondmentFTEYears)},
		{"CPD places booked", itoa(h.CPDPlacesBooked)},
		{"CPD places attended", itoa(h.CPDAttended)},
		{"Peer reviews", itoa(h.PeerReviews)},
		{"Benefit", money(h.BenefitPence)},
		{"Cost of collaborating", fmt.Sprintf("%s and %s", money(h.CostPence), hoursText(h.CostHours))},
	}
}

// Summary is the report's opening sentence: the partnership, its kind,
// the period and its lead.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (a %s), %s to %s.", r.Partnership.Name, Words(r.Partnership.Kind), longDay(r.From), longDay(r.To))
	if r.Partnership.Lead != nil {
		fmt.Fprintf(&b, " Partnership lead: %s.", name(*r.Partnership.Lead))
	}
	return b.String()
}

// LinkedTable is a table with the address of its CSV download ("" for
// none).
type LinkedTable struct {
	Table
	CSV string
}

// BodyRows draws the table's rows, each cell escaped exactly as
// html/template escapes text (cellEscaper).
func (t LinkedTable) BodyRows() template.HTML {
	b := pageBuffers.get()
	defer pageBuffers.put(b)
	t.writeRows(b)
	return template.HTML(b.String()) //nolint:gosec // every cell escaped by writeRows
}

// writeRows writes the table's rows to b (see BodyRows): a ten-year report
// has thousands of cells.
func (t LinkedTable) writeRows(b *bytes.Buffer) {
	n := 0 // the held rows' size before escaping, so that b grows once
	for _, row := range t.Rows {
		n += len("<tr></tr>\n")
		for _, cell := range row {
			n += len("<td></td>") + len(cell)
		}
	}
	b.Grow(n)
	_ = t.EachRow(func(row []string) error { // writing to a buffer does not fail
		b.WriteString("<tr>")
		for _, cell := range row {
			b.WriteString("<td>")
			writeEscaped(b, cell)
			b.WriteString("</td>")
		}
		b.WriteString("</tr>\n")
		return nil
	})
}

// cellEscaper escapes text in an element's content as html/template does
// (its replacement table: NUL, quotes, ampersand, apostrophe, plus, and
// angle brackets).
var cellEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// WriteEscaped writes s to b escaped exactly as html/template escapes a
// value in an element's content or in a quoted attribute value, for pages
// that draw their long lists in Go.
func WriteEscaped(b *strings.Builder, s string) {
	cellEscaper.WriteString(b, s) //nolint:errcheck // a strings.Builder does not fail
}

// cellSpecial marks the bytes cellEscaper replaces.
var cellSpecial = func() (t [256]bool) {
	for _, c := range []byte("\x00\"&'+<>") {
		t[c] = true
	}
	return t
}()

// writeEscaped is WriteEscaped into a bytes.Buffer. Most cells (names,
// numbers, dates) hold none of the bytes it replaces and are written as
// they are.
func writeEscaped(b *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if cellSpecial[s[i]] {
			cellEscaper.WriteString(b, s) //nolint:errcheck // a bytes.Buffer does not fail
			return
		}
	}
	b.WriteString(s)
}

// Part is one part of a section of the report: a heading, a few
// sentences, at most one chart, the tables shown, and the longer tables
// folded away behind a summary line.
type Part struct {
	ID        string
	Title     string
	Sentences []string
	Chart     *Chart
	// SVG is Chart drawn.
	SVG    template.HTML
	Shown  []LinkedTable
	Folded []LinkedTable
	// FoldedSummary is the line that opens the folded tables.
	FoldedSummary string
}

// Section is one of the report's sections.
type Section struct {
	ID, Title, Intro string
	Parts            []Part
}

// Body is the report as the page and the HTML download show it.
type Body struct {
	Numbers  []Number
	Sections []Section
}

// Layout returns the report's body: the year in numbers once, then its
// sections, each part a few sentences and a chart, with its tables
// folded behind a summary. csv, when not nil, gives the address of a
// table's CSV download.
func (r *Report) Layout(csv func(table string) string) (Body, error) {
	tables := byName(r.Tables())
	link := func(names ...string) []LinkedTable {
		var out []LinkedTable
		for _, n := range names {
			lt := LinkedTable{Table: tables[n]}
			if csv != nil {
				lt.CSV = csv(n)
			}
			out = append(out, lt)
		}
		return out
	}
	charts := map[string]Chart{}
	for _, c := range r.Charts() {
		charts[c.ID] = c
	}
	part := func(id, title string, chart string, sentences []string, shown []string, folded ...string) Part {
		p := Part{ID: id, Title: title, Sentences: sentences, Shown: link(shown...), Folded: link(folded...)}
		if chart != "" {
			c := charts[chart]
			p.Chart = &c
		}
		rows := 0
		for _, t := range p.Folded {
			rows += t.Len()
		}
		var titles []string
		for _, t := range p.Folded {
			titles = append(titles, lowerFirst(t.Title))
		}
		if len(titles) > 0 {
			p.FoldedSummary = fmt.Sprintf("%s in full: %s (%s)", capital(plural(len(titles), "table", "tables")), strings.Join(titles, "; "), plural(rows, "row", "rows"))
		}
		return p
	}
	rp, ac, ce, tl := r.Reporting, r.Accountability, r.Celebrating, r.Timeline

	// Collective reporting.
	members := 0
	for _, m := range r.Partnership.Members {
		if m.Current {
			members++
		}
	}
	who := []string{fmt.Sprintf("The partnership has %s.", plural(members, "member school", "member schools"))}
	if cm := r.CommunityMembership; len(cm.Years) > 0 {
		last := len(cm.Years) - 1
		s := fmt.Sprintf("In %s, %s took part in the ISLCs of the member schools", cm.Years[last], plural(cm.Members[last], "person", "people"))
		if last > 0 {
			s += fmt.Sprintf(" (%d in %s)", cm.Members[last-1], cm.Years[last-1])
		}
		who = append(who, s+".")
	}
	loans := 0
	for _, s := range rp.LoansByStatus {
		loans += s.Count
	}
	shared := []string{fmt.Sprintf("%s shared; %s, on loan for %s in all, worth %s.",
		capital(plural(len(rp.Resources), "resource", "resources")), plural(loans, "loan", "loans"), hoursText(rp.Utilisation.TotalHours), money(rp.Utilisation.TotalBenefitPence))}
	var overdueShown []string
	if n := len(rp.OverdueLoans); n > 0 {
		shared = append(shared, fmt.Sprintf("%s overdue.", capital(plural(n, "loan is", "loans are"))))
		overdueShown = []string{"overdue_loans"}
	} else {
		shared = append(shared, "No loan is overdue.")
	}
	people := []string{fmt.Sprintf("%s, %s in all; %s.",
		capital(plural(len(rp.Secondments), "secondment", "secondments")), fte(r.Reporting.Headline.SecondmentFTEYears),
		fmt.Sprintf("%s, %s booked and %s attended, saving %s", plural(rp.CPD.Events, "CPD event", "CPD events"), plural(rp.CPD.Booked, "place", "places"), itoa(rp.CPD.Attended), money(rp.CPD.SavingsPence)))}
	completed := 0
	for _, v := range rp.PeerReviews {
		if v.Completed {
			completed++
		}
	}
	reviews := []string{fmt.Sprintf("%s, %d completed.", capital(plural(len(rp.PeerReviews), "peer review", "peer reviews")), completed)}
	costs := []string{fmt.Sprintf("Collaborating brought %s (resource hours shared and CPD savings) and cost %s and %s of staff time.",
		money(rp.Headline.BenefitPence), money(rp.Costs.Total.AmountPence), hoursText(rp.Costs.Total.Hours))}

	// Collective accountability.
	var open, achieved, missed, overdue int
	for _, g := range ac.Commitments {
		for _, c := range g.Commitments {
			switch c.Status {
			case "open":
				open++
			case "achieved":
				achieved++
			case "missed":
				missed++
			}
			if c.Overdue {
				overdue++
			}
		}
	}
	commitments := []string{fmt.Sprintf("%s: %d open, %d achieved, %d missed; %d overdue.", capital(plural(open+achieved+missed, "commitment", "commitments")), open, achieved, missed, overdue)}
	var improved, declined int
	for _, a := range ac.RAGByArea {
		improved += a.Improved
		declined += a.Declined
	}
	ratings := []string{fmt.Sprintf("%s rated; since the term before, %s improved and %s declined.",
		capital(plural(len(ac.RAGBoard), "cohort", "cohorts")), plural(improved, "rating", "ratings"), itoa(declined))}
	var approved, sentBack, changed int
	for _, p := range ac.ProposalsDecided {
		switch p.Outcome {
		case "approved":
			approved++
		case "returned":
			sentBack++
		}
		if p.ChangedAfterDecision {
			changed++
		}
	}
	proposals := []string{fmt.Sprintf("%s decided: %d approved, %d sent back for revision.", capital(plural(len(ac.ProposalsDecided), "proposal", "proposals")), approved, sentBack)}
	if changed > 0 {
		proposals = append(proposals, fmt.Sprintf("%s corrected after the decision.", capital(plural(changed, "was", "were"))))
	}
	ch := ac.Challenges.Counts
	challenges := []string{fmt.Sprintf("%s raised: %d answered (%d late), %d open (%d overdue).",
		capital(plural(ch.Open+ch.Answered, "challenge", "challenges")), ch.Answered, ch.AnsweredLate, ch.Open, ch.Overdue)}
	follow := []string{fmt.Sprintf("%s agreed after peer reviews: %d done, %d open (%d overdue).",
		capital(plural(len(ac.FollowUps.Actions), "follow-up action", "follow-up actions")), ac.FollowUps.Done, ac.FollowUps.Open, ac.FollowUps.Overdue)}

	// Collective celebrating.
	celebrated := []string{fmt.Sprintf("%s: %s, %s and %s recognised.", capital(plural(len(ce.Recognitions), "recognition", "recognitions")),
		plural(len(ce.Tallies.People), "person", "people"), plural(len(ce.Tallies.Schools), "school", "schools"), plural(len(ce.Tallies.Communities), "ISLC", "ISLCs"))}
	var recShown, recFolded []string
	if len(ce.Recognitions) > 0 && len(ce.Recognitions) <= 6 {
		recShown = []string{"recognitions"}
	} else {
		recFolded = []string{"recognitions"}
	}

	timeline := []string{fmt.Sprintf("%s next, %s outstanding, %s done.", capital(plural(len(tl.Next), "item", "items")), itoa(len(tl.Outstanding)), itoa(len(tl.Done)))}

	body := Body{Numbers: r.Numbers(), Sections: []Section{
		{ID: "reporting", Title: "Collective reporting", Intro: "What the partnership did and what it brought, next to the costs of collaborating.", Parts: []Part{
			part("who", "Who took part", "chart-membership", who, nil, "members", "membership_by_year", "community_membership_by_year"),
			part("resources", "Resources shared", "chart-utilisation", shared, overdueShown, "school_utilisation", "resource_utilisation", "loans_by_status", "loans_returned"),
			part("people", "Secondments and CPD", "", people, nil, "secondments", "secondment_fte", "cpd_events", "cpd_schools"),
			part("reviews", "Peer reviews", "", reviews, nil, "peer_reviews"),
			part("costs", "Costs beside benefits", "chart-costs", costs, nil, "costs_schools", "costs_categories"),
		}},
		{ID: "accountability", Title: "Collective accountability", Intro: "Who committed to what and how it went; progress ratings and their movement; proposals decided; governors' challenges; peer-review follow-ups.", Parts: []Part{
			part("commitments", "Commitments", "", commitments, nil, "commitments"),
			part("ratings", "Progress ratings", "chart-rag", ratings, nil, "rag_board"),
			part("proposals", "Proposals decided", "", proposals, nil, "proposals_decided"),
			part("challenges", "Governors' challenges", "", challenges, nil, "challenges"),
			part("follow-ups", "Peer-review follow-ups", "", follow, nil, "follow_ups"),
		}},
		{ID: "celebrating", Title: "Collective celebrating", Intro: "Contributions recognised, by person, school and ISLC.", Parts: []Part{
			part("celebrated", "What was celebrated", "chart-celebrated", celebrated, recShown, append(recFolded, "recognised_people", "recognised_schools", "recognised_islcs")...),
		}},
		{ID: "timeline", Title: "Improvement timeline", Intro: "What comes next, what is outstanding and what is done.", Parts: []Part{
			part("next", "What comes next", "", timeline, []string{"timeline_next"}, "timeline_outstanding", "timeline_done"),
		}},
	}}
	for i := range body.Sections {
		for j := range body.Sections[i].Parts {
			p := &body.Sections[i].Parts[j]
			if p.Chart == nil {
				continue
			}
			svg, err := p.Chart.SVG()
			if err != nil {
				return Body{}, err
			}
			p.SVG = svg
		}
	}
	return body, nil
}

// fte says FTE years.
func fte(f float64) string {
	if f == 1 {
		return "1 FTE year"
	}
	return fixed2(f) + " FTE years"
}

// writeBody draws a Body: the year in numbers, then the sections with
// their charts and tables, starting at <h2>, under the page's <h1>. It
// writes what html/template drew from the template kept as its test's
// oracle (bodyOracle), byte for byte: every value is escaped with
// cellEscaper, and a table's CSV address through csvLink, as
// html/template escapes a URL in an attribute.
func writeBody(b *bytes.Buffer, body Body) error {
	b.WriteString("<section class=\"report-numbers\" aria-labelledby=\"numbers-h\">\n<h2 id=\"numbers-h\">The year in numbers</h2>\n<dl class=\"numbers\">")
	for _, n := range body.Numbers {
		b.WriteString("<div><dt>")
		writeEscaped(b, n.Label)
		b.WriteString("</dt><dd>")
		writeEscaped(b, n.Value)
		b.WriteString("</dd></div>")
	}
	b.WriteString("</dl>\n</section>\n")
	for _, sec := range body.Sections {
		openSection(b, "report-section", "", sec.ID, "h2", sec.Title)
		b.WriteString("<p>")
		writeEscaped(b, sec.Intro)
		b.WriteString("</p>\n")
		for _, p := range sec.Parts {
			openSection(b, "report-part", "p-", p.ID, "h3", p.Title)
			for _, sentence := range p.Sentences {
				b.WriteString("<p>")
				writeEscaped(b, sentence)
				b.WriteString("</p>\n")
			}
			b.WriteString(string(p.SVG))
			for _, t := range p.Shown {
				if err := writeTable(b, t); err != nil {
					return err
				}
			}
			if len(p.Folded) > 0 {
				b.WriteString("<details><summary>")
				writeEscaped(b, p.FoldedSummary)
				b.WriteString("</summary>\n")
				for _, t := range p.Folded {
					if err := writeTable(b, t); err != nil {
						return err
					}
				}
				b.WriteString("</details>\n")
			}
			b.WriteString("</section>\n")
		}
		b.WriteString("</section>\n")
	}
	return nil
}

// openSection opens a section of the body: its element, of class class,
// with id id (after "part-" when prefix is not ""), labelled by its
// heading h (id prefix+id+"-h") reading title.
func openSection(b *bytes.Buffer, class, prefix, id, h, title string) {
	b.WriteString(`<section class="` + class + `" id="`)
	if prefix != "" {
		b.WriteString("part-")
	}
	writeEscaped(b, id)
	b.WriteString(`" aria-labelledby="` + prefix)
	writeEscaped(b, id)
	b.WriteString("-h\">\n<" + h + ` id="` + prefix)
	writeEscaped(b, id)
	b.WriteString(`-h">`)
	writeEscaped(b, title)
	b.WriteString("</" + h + ">\n")
}

// writeTable draws one table of the body (see writeBody), or the line
// saying it has no rows.
func writeTable(b *bytes.Buffer, t LinkedTable) error {
	if t.Len() == 0 {
		b.WriteString("<p class=\"none\" id=\"t-")
		writeEscaped(b, t.Name)
		b.WriteString("\">")
		writeEscaped(b, t.Title)
		b.WriteString(": none.</p>\n")
		return nil
	}
	b.WriteString("<table class=\"report-table\" id=\"t-")
	writeEscaped(b, t.Name)
	b.WriteString("\"><caption>")
	writeEscaped(b, t.Title)
	if t.CSV != "" {
		if err := csvLink.Execute(b, t.CSV); err != nil {
			return fmt.Errorf("report body: %w", err)
		}
	}
	b.WriteString("</caption>\n<thead><tr>")
	for _, h := range t.Header {
		b.WriteString("<th scope=\"col\">")
		writeEscaped(b, h)
		b.WriteString("</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>")
	t.writeRows(b)
	b.WriteString("</tbody></table>\n")
	return nil
}

// csvLink draws a table's CSV download link: html/template checks and
// escapes the address as a URL in an attribute (a few links a page).
var csvLink = template.Must(template.New("csv").Parse(` <a class="csv" href="{{.}}" download>CSV</a>`))

// ReportCSS styles the report's body, on screen and on paper; the HTML
// download carries it inline.
const ReportCSS = `
dl.numbers{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.5rem;margin:.5rem 0 1rem}
dl.numbers div{border:1px solid #c8c8c8;padding:.5rem;border-radius:4px}
dl.numbers dt{font-size:.9rem;color:#4a4a4a}dl.numbers dd{margin:0;font-size:1.4rem;font-weight:700}
figure.chart{margin:.75rem 0 1rem}figure.chart figcaption{font-weight:700;margin-bottom:.3rem}
figure.chart svg{max-width:100%;height:auto}
figure.chart text{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:13px;fill:#1a1a1a}
table.report-table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0 1rem}
table.report-table caption{text-align:left;font-weight:700;padding:.25rem 0}
table.report-table th,table.report-table td{border-bottom:1px solid #c8c8c8;padding:.25rem .45rem;text-align:left;vertical-align:top}
table.report-table thead th{border-bottom:2px solid #1a1a1a}
details{margin:.5rem 0 1rem}details summary{cursor:pointer;color:#1d4f91}
.none{color:#4a4a4a;font-style:italic}
@media print{
  details:not([open]){display:none}
  h2,h3,caption,figcaption,.report-section>p:first-of-type,.report-part>p:last-of-type{break-after:avoid;page-break-after:avoid}
  figure.chart,dl.numbers,tr{break-inside:avoid;page-break-inside:avoid}
  figure.chart svg rect{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}
`

// BodyHTML draws the report's body (see Layout and writeBody) for a page
// that gives it its <h1> and styles (ReportCSS).
func (r *Report) BodyHTML(csv func(table string) string) (template.HTML, error) {
	body, err := r.Layout(csv)
	if err != nil {
		return "", err
	}
	b := pageBuffers.get()
	defer pageBuffers.put(b)
	if err := writeBody(b, body); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil //nolint:gosec // every value escaped by writeBody
}

// bufferPool keeps the buffers documents are drawn in, so that drawing a
// report (most of a megabyte for ten years) reuses one rather than
// allocating and growing it each time; a buffer grown past max is let go.
type bufferPool struct {
	pool sync.Pool
	max  int
}

// get returns an empty buffer.
func (p *bufferPool) get() *bytes.Buffer {
	if b, ok := p.pool.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// put gives b back once nothing refers to its bytes any more.
func (p *bufferPool) put(b *bytes.Buffer) {
	if b.Cap() > p.max {
		return
	}
	b.Reset()
	p.pool.Put(b)
}

// pageBuffers are the report's pages' and bodies' buffers.
var pageBuffers = &bufferPool{max: 16 << 20}

// pageHeadHTML is the HTML download's page before its body.
const pageHeadHTML = `<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.6rem}h2{border-bottom:2px solid #c8c8c8;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.1rem;margin:1.2rem 0 .3rem}
footer{margin-top:2.5rem;padding-top:.8rem;border-top:1px solid #c8c8c8;font-size:.85rem;color:#4a4a4a}
{{.CSS}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
`

// pageHead and pageFoot are the HTML download's page around its body.
var pageHead = template.Must(template.New("head").Parse(pageHeadHTML))

var pageFoot = template.Must(template.New("foot").Parse(`<footer>{{.}}</footer>
</body>
</html>
`))

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// (with its print rules), the year in numbers, inline SVG charts, and
// every table, the longer ones folded, and the footer.
//
// The page is drawn into one buffer, the body (most of it) written in
// place.
func (r *Report) WriteHTML(w io.Writer) error {
	body, err := r.Layout(nil)
	if err != nil {
		return err
	}
	b := pageBuffers.get()
	defer pageBuffers.put(b)
	if err := pageHead.Execute(b, struct {
		Title, Summary string
		CSS            template.CSS
	}{r.Title(), r.Summary(), template.CSS(ReportCSS)}); err != nil { //nolint:gosec // a constant
		return fmt.Errorf("report html: %w", err)
	}
	if err := writeBody(b, body); err != nil {
		return err
	}
	if err := pageFoot.Execute(b, r.FooterText()); err != nil {
		return fmt.Errorf("report html: %w", err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// lowerFirst puts a title's first letter in lower case for use inside a
// sentence, unless it starts an abbreviation ("RAG", "CPD").
func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) < 2 || unicode.IsUpper(r[1]) {
		return s
	}
	r[0] = unicode.ToLower(r[0])
	return string(r)
}
