package report

import (
	"bytes"
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
)

// bodyOracle is the template the report's body was drawn with before it
// was written in Go (writeBody): html/template escapes each value for the
// place it is in, which the test holds writeBody to.
var bodyOracle = template.Must(template.New("body").Parse(`{{define "report-body"}}<section class="report-numbers" aria-labelledby="numbers-h">
<h2 id="numbers-h">The year in numbers</h2>
<dl class="numbers">{{range .Numbers}}<div><dt>{{.Label}}</dt><dd>{{.Value}}</dd></div>{{end}}</dl>
</section>
{{range .Sections}}<section class="report-section" id="{{.ID}}" aria-labelledby="{{.ID}}-h">
<h2 id="{{.ID}}-h">{{.Title}}</h2>
<p>{{.Intro}}</p>
{{range .Parts}}<section class="report-part" id="part-{{.ID}}" aria-labelledby="p-{{.ID}}-h">
<h3 id="p-{{.ID}}-h">{{.Title}}</h3>
{{range .Sentences}}<p>{{.}}</p>
{{end}}{{.SVG}}{{range .Shown}}{{template "report-table" .}}{{end}}{{if .Folded}}<details><summary>{{.FoldedSummary}}</summary>
{{range .Folded}}{{template "report-table" .}}{{end}}</details>
{{end}}</section>
{{end}}</section>
{{end}}{{end}}
{{define "report-table"}}{{if .Rows}}<table class="report-table" id="t-{{.Name}}"><caption>{{.Title}}{{if .CSV}} <a class="csv" href="{{.CSV}}" download>CSV</a>{{end}}</caption>
<thead><tr>{{range .Header}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>{{.BodyRows}}</tbody></table>
{{else}}<p class="none" id="t-{{.Name}}">{{.Title}}: none.</p>
{{end}}{{end}}`))

// TestBodyDrawnInGoIsWhatTheTemplateDrew: random bodies, whose words hold
// every character html/template escapes (markup, quotes, plus, NUL,
// broken UTF-8) and whose CSV addresses are awkward (spaces, quotes,
// percent signs, other schemes), drawn by writeBody and by the template
// it replaced, byte for byte.
func TestBodyDrawnInGoIsWhatTheTemplateDrew(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "<", ">", "&", "'", `"`, "+", "\x00", "é", "≥", "\xff", "&amp;", "</p>", "=", "`", "\n", "£", "-h", "%", "%2", "?", "#"}
	rng := rand.New(rand.NewPCG(11, 13))
	word := func(maybeEmpty bool) string {
		n := rng.IntN(7)
		if !maybeEmpty {
			n++
		}
		var s strings.Builder
		for range n {
			s.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return s.String()
	}
	words := func() []string {
		var out []string
		for range rng.IntN(4) {
			out = append(out, word(true))
		}
		return out
	}
	table := func() LinkedTable {
		lt := LinkedTable{Table: Table{Name: word(false), Title: word(true), Header: words()}}
		for range rng.IntN(3) {
			lt.Rows = append(lt.Rows, words())
		}
		switch rng.IntN(4) {
		case 0:
		case 1:
			lt.CSV = "/report/download?format=csv&table=" + word(false)
		case 2:
			lt.CSV = []string{"javascript:alert(1)", "https://example.org/a b", "mailto:x@y", "data:text/csv,1"}[rng.IntN(4)]
		default:
			lt.CSV = word(true)
		}
		return lt
	}
	tables := func() []LinkedTable {
		var out []LinkedTable
		for range rng.IntN(3) {
			out = append(out, table())
		}
		return out
	}
	for range 300 {
		var body Body
		for range rng.IntN(4) {
			body.Numbers = append(body.Numbers, Number{Label: word(true), Value: word(true)})
		}
		for range rng.IntN(3) {
			sec := Section{ID: word(false), Title: word(true), Intro: word(true)}
			for range rng.IntN(3) {
				p := Part{ID: word(false), Title: word(true), Sentences: words(), Shown: tables(), Folded: tables(), FoldedSummary: word(true)}
				if rng.IntN(2) == 0 {
					p.SVG = template.HTML("<figure>" + word(true) + "</figure>") //nolint:gosec // drawn as given by both
				}
				sec.Parts = append(sec.Parts, p)
			}
			body.Sections = append(body.Sections, sec)
		}
		var want strings.Builder
		var got bytes.Buffer
		if err := bodyOracle.ExecuteTemplate(&want, "report-body", body); err != nil {
			t.Fatal(err)
		}
		if err := writeBody(&got, body); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("body %+v:\ngot  %q\nwant %q", body, got.String(), want.String())
		}
	}
}

// pageOracle is the page the HTML download was drawn with before its
// body was written in place (WriteHTML): one template, the body given
// whole.
var pageOracle = template.Must(template.New("report").Parse(pageHeadHTML + `{{.Body}}<footer>{{.Footer}}</footer>
</body>
</html>
`))

// TestPageDrawnInPlaceIsWhatTheTemplateDrew: the HTML download of reports
// whose names and readings hold markup and quotes, drawn by WriteHTML and
// by the page template it replaced around the same body.
func TestPageDrawnInPlaceIsWhatTheTemplateDrew(t *testing.T) {
	for _, name := range []string{"Northvale", `<script>alert("x")</script> & 'co'`, "A+B \x00 é"} {
		r := &Report{AcademicYear: "2025-26", Footer: Footer{Reading: name, Position: 42, Checkpoint: "</footer>" + name}}
		r.Partnership.Name = name
		body, err := r.BodyHTML(nil)
		if err != nil {
			t.Fatal(err)
		}
		var want, got strings.Builder
		if err := pageOracle.Execute(&want, struct {
			Title, Summary, Footer string
			CSS                    template.CSS
			Body                   template.HTML
		}{r.Title(), r.Summary(), r.FooterText(), template.CSS(ReportCSS), body}); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteHTML(&got); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("partnership %q:\ngot  %q\nwant %q", name, got.String(), want.String())
		}
	}
}
