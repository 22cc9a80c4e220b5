package web

import (
	"html/template"
	"strconv"
	"strings"

	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
)

// Long lists drawn in Go. html/template calls each function and its own
// escaper through reflection for every value it writes, which on the
// resources page of a fifty-school partnership (a thousand and more
// resources to choose from, hundreds of CPD events a year) was most of the
// page's time. Each list is drawn exactly as its template drew it, every
// value escaped as html/template escapes it (report.WriteEscaped);
// TestListsDrawnInGoAreWhatTheTemplatesDrew compares the two.

// html is a page fragment being drawn.
type html struct{ strings.Builder }

// text writes s escaped.
func (h *html) text(s string) { report.WriteEscaped(&h.Builder, s) }

// done returns the fragment (every value in it escaped by text).
func (h *html) done() template.HTML { return template.HTML(h.String()) } //nolint:gosec // escaped as written

// cpdRows draws the CPD table's rows of the resources page.
func cpdRows(events []views.CPDEventInfo) template.HTML {
	var h html
	h.Grow(len(events) * 256)
	for _, e := range events {
		h.WriteString(`<tr><th scope="row">`)
		h.text(e.Title)
		h.WriteString(` <span class="muted">(`)
		h.text(humanText(e.Kind))
		h.WriteString(`)</span></th><td>`)
		h.text(e.Organiser.Name)
		h.WriteString(`</td><td>`)
		h.text(datetimeText(e.StartsAt))
		for _, n := range []int{e.Offered, e.Booked, e.Attended} {
			h.WriteString(`</td><td>`)
			h.WriteString(strconv.Itoa(n))
		}
		h.WriteString(`</td><td>`)
		h.text(penceText(e.SavingsPence))
		h.WriteString(`</td></tr>`)
	}
	return h.done()
}

// offeredOptions draws the loan form's choice of resources on offer, with
// selected (a resource id, or "") chosen.
func offeredOptions(resources []views.ResourceInfo, selected string) template.HTML {
	var h html
	h.Grow(len(resources) * 96)
	for _, r := range resources {
		if !r.Offered {
			continue
		}
		id := r.ID.String()
		h.WriteString(`<option value="`)
		h.text(id)
		h.WriteString(`"`)
		if id == selected {
			h.WriteString(` selected`)
		}
		h.WriteString(`>`)
		h.text(r.Name)
		h.WriteString(` (`)
		h.text(r.Owner.Name)
		h.WriteString(`)</option>`)
	}
	return h.done()
}

// heatmapBodies draws the progress page's heatmap: a tbody per school.
func heatmapBodies(m heatmap) template.HTML {
	var h html
	for _, s := range m.Schools {
		h.WriteString(`<tbody>`)
		for i, row := range s.Rows {
			h.WriteString(`<tr>`)
			if i == 0 {
				h.WriteString(`<th scope="rowgroup" rowspan="`)
				h.WriteString(strconv.Itoa(len(s.Rows)))
				h.WriteString(`" class="school">`)
				h.text(s.Name)
				h.WriteString(`</th>`)
			}
			h.WriteString(`<th scope="row">`)
			h.text(row.Area)
			h.WriteString("</th>\n")
			for _, c := range row.Cells {
				heatmapCell(&h, c)
			}
			h.WriteString(`</tr>`)
		}
		h.WriteString(`</tbody>`)
	}
	return h.done()
}

// heatmapCell draws one cell of the heatmap.
func heatmapCell(h *html, c heatCell) {
	if c.Rating == "" {
		h.WriteString(`<td class="heat heat-none"><span class="sr-only">not rated</span></td>`)
		return
	}
	h.WriteString(`<td class="heat heat-`)
	h.text(c.Rating)
	h.WriteString(`" title="`)
	h.text(c.Said)
	h.WriteString(`"><span class="heat-label">`)
	h.text(strings.ToUpper(c.Rating))
	h.WriteString(`</span> <span class="heat-term">`)
	h.text(c.Term)
	switch c.Movement {
	case "improved":
		h.WriteString(` <span aria-hidden="true">↑</span><span class="sr-only">improved</span>`)
	case "declined":
		h.WriteString(` <span aria-hidden="true">↓</span><span class="sr-only">declined</span>`)
	}
	h.WriteString(`</span>`)
	if len(c.Trend) > 1 {
		h.WriteString(`<span class="trend" aria-hidden="true">`)
		for _, t := range c.Trend {
			h.WriteString(`<span class="sq heat-`)
			h.text(t)
			h.WriteString(`"></span>`)
		}
		h.WriteString(`</span><span class="sr-only">; over the half-terms: `)
		for k, t := range c.Trend {
			if k > 0 {
				h.WriteString(`, `)
			}
			h.text(t)
		}
		h.WriteString(`</span>`)
	}
	h.WriteString(`</td>`)
}

// boardRows draws the progress page's table of every rating.
func boardRows(cells []views.BoardCell) template.HTML {
	var h html
	h.Grow(len(cells) * 160)
	for _, c := range cells {
		h.WriteString(`<tr><th scope="row">`)
		h.text(c.School.Name)
		h.WriteString(`</th><td>`)
		h.text(c.Area)
		h.WriteString(`</td><td>`)
		h.text(c.Cohort)
		h.WriteString(`</td><td class="rag-`)
		h.text(c.Rating)
		h.WriteString(`">`)
		h.text(c.Rating)
		h.WriteString(` (`)
		h.text(c.Term)
		h.WriteString(`)</td><td>`)
		for i, t := range c.Trend {
			if i > 0 {
				h.WriteString(` → `)
			}
			h.text(t.Rating)
		}
		h.WriteString(`</td><td>`)
		if c.Movement != "" {
			h.text(c.Movement)
		} else {
			h.WriteString(`—`)
		}
		h.WriteString(`</td></tr>`)
	}
	return h.done()
}
