package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/concord-ledger/concord/domain/partnership"
)

// svgRect is one shape of a chart, laid out in Go so the template only
// prints numbers and escaped text.
type svgRect struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

type svgText struct {
	X, Y   float64
	Anchor string
	Text   string
}

type chart struct {
	ID     string
	Title  string
	W, H   float64
	Rects  []svgRect
	Labels []svgText
}

var ragFill = map[string]string{"red": "#d9534f", "amber": "#f0ad4e", "green": "#5cb85c"}

// heatmap lays out the RAG board: one row per school × area × cohort, one
// column per half-term of the year, each cell the rating of that term.
func (r *Report) heatmap() chart {
	const left, top, cw, rh = 330.0, 30.0, 70.0, 22.0
	rows := r.Accountability.RAGBoard
	c := chart{ID: "rag-heatmap", Title: "RAG heatmap", W: left + cw*6 + 10, H: top + rh*float64(max(len(rows), 1)) + 10}
	for i, code := range partnership.TermCodes {
		c.Labels = append(c.Labels, svgText{X: left + cw*float64(i) + cw/2, Y: top - 10, Anchor: "middle", Text: code.Label()})
	}
	for j, cell := range rows {
		y := top + rh*float64(j)
		c.Labels = append(c.Labels, svgText{X: left - 8, Y: y + rh*0.7, Anchor: "end", Text: fmt.Sprintf("%s · %s · %s", name(cell.School), cell.Area, cell.Cohort)})
		for i, code := range partnership.TermCodes {
			fill, title := "#eeeeee", "not rated"
			label := partnership.Term{AcademicYear: r.AcademicYear, Code: code}.String()
			for _, s := range cell.Trend {
				if s.Term == label {
					fill, title = ragFill[s.Rating], s.Rating
					if s.Movement != "" {
						title += " (" + s.Movement + ")"
					}
				}
			}
			c.Rects = append(c.Rects, svgRect{X: left + cw*float64(i) + 1, Y: y + 1, W: cw - 2, H: rh - 2, Fill: fill, Title: label + ": " + title})
		}
	}
	return c
}

// bars lays out horizontal bars of values with labels.
func bars(id, title string, labels []string, values []float64, unit, fill string) chart {
	const left, top, width, rh = 260.0, 10.0, 420.0, 24.0
	c := chart{ID: id, Title: title, W: left + width + 90, H: top + rh*float64(max(len(values), 1)) + 10}
	hi := 0.0
	for _, v := range values {
		hi = max(hi, v)
	}
	for i, v := range values {
		y := top + rh*float64(i)
		w := 0.0
		if hi > 0 {
			w = width * v / hi
		}
		c.Labels = append(c.Labels, svgText{X: left - 8, Y: y + rh*0.65, Anchor: "end", Text: labels[i]})
		c.Rects = append(c.Rects, svgRect{X: left, Y: y + 3, W: w, H: rh - 6, Fill: fill, Title: fmt.Sprintf("%s: %s %s", labels[i], num(v), unit)})
		c.Labels = append(c.Labels, svgText{X: left + w + 6, Y: y + rh*0.65, Anchor: "start", Text: num(v) + " " + unit})
	}
	return c
}

func (r *Report) utilisationChart() chart {
	var labels []string
	var values []float64
	for _, u := range r.Reporting.Utilisation.Resources {
		labels = append(labels, u.Resource.Name)
		values = append(values, u.Hours)
	}
	return bars("resource-utilisation", "Resource utilisation (hours on loan)", labels, values, "h", "#337ab7")
}

// membershipChart charts the community membership over the years: the
// people in the ISLCs of the member schools, year by year.
func (r *Report) membershipChart() chart {
	var labels []string
	var values []float64
	for i, y := range r.CommunityMembership.Years {
		labels = append(labels, y)
		values = append(values, float64(r.CommunityMembership.Members[i]))
	}
	return bars("membership", "ISLC membership over the years (members)", labels, values, "members", "#6f5499")
}

type htmlSection struct {
	Title  string
	Intro  string
	Tables []Table
}

type htmlPage struct {
	Title   string
	Summary string
	Charts  []chart
	Parts   []htmlSection
	Footer  string
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{"f": func(v float64) string { return num(v) }}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.6rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.4rem 0}th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}tr:nth-child(even) td{background:#fafafa}.none{color:#777;font-style:italic}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}svg text{font-size:12px;fill:#333}
footer{margin-top:3rem;padding-top:.8rem;border-top:1px solid #ccc;font-size:.85rem;color:#555}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Summary}}</p>
{{range .Charts}}<figure id="{{.ID}}"><figcaption>{{.Title}}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{{.Title}}" width="{{f .W}}" height="{{f .H}}" viewBox="0 0 {{f .W}} {{f .H}}">
{{range .Rects}}<rect x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Labels}}<text x="{{f .X}}" y="{{f .Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>
{{end}}</svg></figure>
{{end}}{{range .Parts}}<section>
<h2>{{.Title}}</h2>
<p>{{.Intro}}</p>
{{range .Tables}}<h3>{{.Title}}</h3>
{{if .Rows}}<table><thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{else}}<p class="none">None.</p>
{{end}}{{end}}</section>
{{end}}<footer>{{.Footer}}</footer>
</body>
</html>
`))

// WriteHTML writes the report as one self-contained HTML page: inline CSS,
// inline SVG charts (RAG heatmap, resource utilisation, membership over
// the years), every table, and the footer.
func (r *Report) WriteHTML(w io.Writer) error {
	tables := byName(r.Tables())
	p := htmlPage{Title: r.Title(), Footer: r.FooterText(),
		Charts: []chart{r.heatmap(), r.utilisationChart(), r.membershipChart()}}
	var sum strings.Builder
	fmt.Fprintf(&sum, "%s (%s), %s to %s.", r.Partnership.Name, r.Partnership.Kind, day(r.From), day(r.To))
	if r.Partnership.Lead != nil {
		fmt.Fprintf(&sum, " Partnership lead: %s.", name(*r.Partnership.Lead))
	}
	p.Summary = sum.String()
	for _, s := range sections {
		hs := htmlSection{Title: s.title, Intro: s.intro}
		for _, n := range s.tables {
			hs.Tables = append(hs.Tables, tables[n])
		}
		p.Parts = append(p.Parts, hs)
	}
	var b bytes.Buffer
	if err := page.Execute(&b, p); err != nil {
		return fmt.Errorf("report html: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// Write renders the report in format: json, md, html, or csv (a zip of
// every table; use WriteCSV for one table). Returns an error for another
// format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatMarkdown:
		return r.WriteMarkdown(w)
	case FormatHTML:
		return r.WriteHTML(w)
	case FormatCSV:
		return r.WriteZip(w)
	}
	return fmt.Errorf("report: unknown format %q (json, md, html or csv)", format)
}
