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
