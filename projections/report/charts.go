package report

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Chart is one chart of the report, laid out in Go and drawn as inline
// SVG (no script): the template only prints numbers and escaped text.
// Every chart carries a title and a description in words, and its data
// is also in a table next to it.
type Chart struct {
	// ID is the chart's id in the page (its figure's id).
	ID string
	// Title names the chart; Desc says what it shows in a sentence or two
	// (the SVG's <title> and <desc>, its text alternative).
	Title, Desc string
	W, H        float64
	Rects       []svgRect
	Texts       []svgText
	// Empty, when not "", is shown instead of a chart with no data.
	Empty string
}

// svgRect is one bar or swatch; Title is its tooltip.
type svgRect struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

// svgText is one label or value. Class is "label", "value", "axis" or
// "legend"; Title, when set, is the full text of a shortened label.
type svgText struct {
	X, Y   float64
	Anchor string
	Class  string
	Text   string
	Title  string
}

// Chart geometry. Text is 13 px; charWidth is a generous average width
// of one character at that size, so that a label measured with it never
// runs into the bar or value beside it.
const (
	fontPx    = 13.0
	charWidth = 7.6
	rowH      = 26.0
	barH      = 16.0
	labelW    = 260.0 // room for row labels, right-aligned
	barMax    = 330.0 // the longest bar
	gap       = 8.0   // between a label, its bar and its value
)

var (
	fillBlue   = "#1d4f91"
	fillTeal   = "#00707a"
	fillOrange = "#a64b00"
	fillPurple = "#5b3a8e"
	ragFills   = map[string]string{"red": "#b3261e", "amber": "#e0a100", "green": "#1e7b34"}
)

// textWidth is the width text takes at fontPx, measured generously.
func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

// fit shortens s to at most w wide, ending it with "…" when cut.
func fit(s string, w float64) string {
	n := int(w / charWidth)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max(n-1, 1)])) + "…"
}

// seg is one segment of a bar.
type seg struct {
	V     float64
	Fill  string
	Title string
}

// barRow is one bar: its label (left), its segments (stacked) and the
// value written after its end.
type barRow struct {
	Label string
	Segs  []seg
	Value string
	// GroupStart puts a little space above the row (a new group).
	GroupStart bool
}

// legendItem is one swatch of a chart's legend.
type legendItem struct{ Fill, Text string }

// hbars lays out horizontal bars: labels in a column on the left (cut to
// fit it), bars scaled to the largest total, each value written after
// its bar's end in a column reserved wide enough for the longest value,
// so labels, bars and values never overlap.
func hbars(id, title, desc string, rows []barRow, legend []legendItem) Chart {
	c := Chart{ID: id, Title: title, Desc: desc}
	valueW := 0.0
	hi := 0.0
	for _, r := range rows {
		valueW = max(valueW, textWidth(r.Value))
		t := 0.0
		for _, s := range r.Segs {
			t += s.V
		}
		hi = max(hi, t)
	}
	y := 6.0
	if len(legend) > 0 {
		x := 0.0
		for _, l := range legend {
			c.Rects = append(c.Rects, svgRect{X: x, Y: y, W: 14, H: 14, Fill: l.Fill, Title: l.Text})
			c.Texts = append(c.Texts, svgText{X: x + 20, Y: y + 12, Anchor: "start", Class: "legend", Text: l.Text})
			x += 20 + textWidth(l.Text) + 18
		}
		y += 28
	}
	for _, r := range rows {
		if r.GroupStart {
			y += 8
		}
		mid := y + rowH/2
		if r.Label != "" {
			t := svgText{X: labelW - gap, Y: mid + fontPx*0.35, Anchor: "end", Class: "label", Text: fit(r.Label, labelW-gap)}
			if t.Text != r.Label {
				t.Title = r.Label
			}
			c.Texts = append(c.Texts, t)
		}
		x := labelW
		for _, s := range r.Segs {
			w := 0.0
			if hi > 0 {
				w = barMax * s.V / hi
			}
			if w > 0 {
				c.Rects = append(c.Rects, svgRect{X: x, Y: mid - barH/2, W: w, H: barH, Fill: s.Fill, Title: s.Title})
			}
			x += w
		}
		c.Texts = append(c.Texts, svgText{X: x + gap, Y: mid + fontPx*0.35, Anchor: "start", Class: "value", Text: r.Value})
		y += rowH
	}
	c.W = labelW + barMax + gap + valueW + 4
	if len(legend) > 0 {
		lw := 0.0
		for _, l := range legend {
			lw += 20 + textWidth(l.Text) + 18
		}
		c.W = max(c.W, lw)
	}
	c.H = y + 6
	return c
}

// columns lays out vertical columns, one per label, each value written
// above its column and each label below it, centred in a slot wide
// enough for both.
func columns(id, title, desc string, labels []string, values []float64, fill string) Chart {
	c := Chart{ID: id, Title: title, Desc: desc}
	const top, plot, bottom = 24.0, 160.0, 30.0
	slot := 90.0
	for i := range labels {
		slot = max(slot, textWidth(labels[i])+16, textWidth(num(values[i]))+16)
	}
	hi := 0.0
	for _, v := range values {
		hi = max(hi, v)
	}
	for i, v := range values {
		x := slot * float64(i)
		h := 0.0
		if hi > 0 {
			h = plot * v / hi
		}
		bw := min(56.0, slot-16)
		c.Rects = append(c.Rects, svgRect{X: x + (slot-bw)/2, Y: top + plot - h, W: bw, H: h, Fill: fill, Title: fmt.Sprintf("%s: %s", labels[i], num(v))})
		c.Texts = append(c.Texts, svgText{X: x + slot/2, Y: top + plot - h - 6, Anchor: "middle", Class: "value", Text: num(v)})
		c.Texts = append(c.Texts, svgText{X: x + slot/2, Y: top + plot + 20, Anchor: "middle", Class: "axis", Text: labels[i]})
	}
	c.W, c.H = max(slot*float64(len(values)), 200), top+plot+bottom
	return c
}

// membershipChart: people in the ISLCs of the member schools, year by
// year (people, not schools).
func (r *Report) membershipChart() Chart {
	cm := r.CommunityMembership
	const id, title = "chart-membership", "ISLC membership over the years"
	if len(cm.Years) == 0 {
		return Chart{ID: id, Title: title, Empty: "No ISLC of a member school had members in this period."}
	}
	var values []float64
	var parts []string
	for i, y := range cm.Years {
		values = append(values, float64(cm.Members[i]))
		parts = append(parts, fmt.Sprintf("%s: %s", y, plural(cm.Members[i], "member", "members")))
	}
	desc := "People who were members of an ISLC of a member school, by academic year. " + strings.Join(parts, "; ") + "."
	return columns(id, title, desc, cm.Years, values, fillPurple)
}

// utilisationChart: hours each school borrowed and lent.
func (r *Report) utilisationChart() Chart {
	const id, title = "chart-utilisation", "Resource use by school"
	u := r.Reporting.Utilisation
	var rows []barRow
	var parts []string
	for _, s := range u.Schools {
		if s.HoursBorrowed == 0 && s.HoursLent == 0 {
			continue
		}
		rows = append(rows,
			barRow{Label: name(s.School), Segs: []seg{{V: s.HoursBorrowed, Fill: fillBlue, Title: name(s.School) + " borrowed " + hoursText(s.HoursBorrowed)}}, Value: hoursText(s.HoursBorrowed) + " borrowed", GroupStart: len(rows) > 0},
			barRow{Segs: []seg{{V: s.HoursLent, Fill: fillTeal, Title: name(s.School) + " lent " + hoursText(s.HoursLent)}}, Value: hoursText(s.HoursLent) + " lent"})
		parts = append(parts, fmt.Sprintf("%s borrowed %s and lent %s", name(s.School), hoursText(s.HoursBorrowed), hoursText(s.HoursLent)))
	}
	if len(rows) == 0 {
		return Chart{ID: id, Title: title, Empty: "No resource was on loan in this period."}
	}
	desc := "Hours of shared resources each member school borrowed and lent. " + strings.Join(parts, "; ") + "."
	return hbars(id, title, desc, rows, []legendItem{{fillBlue, "Hours borrowed"}, {fillTeal, "Hours lent"}})
}

// ragChart: per area, the latest ratings of every school's cohorts, red,
// amber and green, and how many moved up or down.
func (r *Report) ragChart() Chart {
	const id, title = "chart-rag", "Progress ratings and their movement, by area"
	type area struct {
		name                                  string
		red, amber, green, improved, declined int
	}
	var areas []*area
	idx := map[string]*area{}
	for _, a := range r.Accountability.RAGByArea {
		k := strings.ToLower(a.Area)
		x := idx[k]
		if x == nil {
			x = &area{name: a.Area}
			idx[k] = x
			areas = append(areas, x)
		}
		x.red += a.Red
		x.amber += a.Amber
		x.green += a.Green
		x.improved += a.Improved
		x.declined += a.Declined
	}
	if len(areas) == 0 {
		return Chart{ID: id, Title: title, Empty: "No progress was rated in this period."}
	}
	slices.SortFunc(areas, func(a, b *area) int { return strings.Compare(a.name, b.name) })
	var rows []barRow
	var parts []string
	for _, a := range areas {
		move := fmt.Sprintf("%d improved, %d declined", a.improved, a.declined)
		rows = append(rows, barRow{Label: a.name, Segs: []seg{
			{V: float64(a.red), Fill: ragFills["red"], Title: fmt.Sprintf("%s: %d red", a.name, a.red)},
			{V: float64(a.amber), Fill: ragFills["amber"], Title: fmt.Sprintf("%s: %d amber", a.name, a.amber)},
			{V: float64(a.green), Fill: ragFills["green"], Title: fmt.Sprintf("%s: %d green", a.name, a.green)},
		}, Value: move})
		parts = append(parts, fmt.Sprintf("%s: %d red, %d amber, %d green; %d improved, %d declined", a.name, a.red, a.amber, a.green, a.improved, a.declined))
	}
	desc := "For each area, the latest rating of every school's cohorts (red, amber, green) and how many ratings moved up or down since the term before. " + strings.Join(parts, "; ") + "."
	return hbars(id, title, desc, rows, []legendItem{{ragFills["red"], "Red"}, {ragFills["amber"], "Amber"}, {ragFills["green"], "Green"}})
}

// costChart: what collaborating brought beside what it cost, in pounds.
func (r *Report) costChart() Chart {
	const id, title = "chart-costs", "Benefits beside costs, in pounds"
	u, cpd, costs := r.Reporting.Utilisation, r.Reporting.CPD, r.Reporting.Costs
	if u.TotalBenefitPence == 0 && cpd.SavingsPence == 0 && costs.Total.AmountPence == 0 && costs.Total.Hours == 0 {
		return Chart{ID: id, Title: title, Empty: "No benefit or cost was recorded in this period."}
	}
	rows := []barRow{
		{Label: "Resource hours shared", Segs: []seg{{V: float64(u.TotalBenefitPence), Fill: fillBlue, Title: "Value of resource hours shared: " + money(u.TotalBenefitPence)}}, Value: money(u.TotalBenefitPence)},
		{Label: "CPD discounts", Segs: []seg{{V: float64(cpd.SavingsPence), Fill: fillTeal, Title: "CPD bulk-discount savings: " + money(cpd.SavingsPence)}}, Value: money(cpd.SavingsPence)},
		{Label: "Money spent collaborating", Segs: []seg{{V: float64(costs.Total.AmountPence), Fill: fillOrange, Title: "Money spent on collaborating: " + money(costs.Total.AmountPence)}},
			Value: fmt.Sprintf("%s and %s of staff time", money(costs.Total.AmountPence), hoursText(costs.Total.Hours)), GroupStart: true},
	}
	desc := fmt.Sprintf("Benefits: resource hours shared worth %s and CPD bulk-discount savings of %s. Costs: %s spent and %s of staff time on collaborating.",
		money(u.TotalBenefitPence), money(cpd.SavingsPence), money(costs.Total.AmountPence), hoursText(costs.Total.Hours))
	return hbars(id, title, desc, rows, []legendItem{{fillBlue, "Benefit: resources"}, {fillTeal, "Benefit: CPD"}, {fillOrange, "Cost"}})
}

// celebrationChart: what the recognitions were for.
func (r *Report) celebrationChart() Chart {
	const id, title = "chart-celebrated", "Recognitions, by what they were for"
	counts := map[string]int{}
	var kinds []string
	for _, c := range r.Celebrating.Recognitions {
		k := "contribution"
		if c.ReferenceKind != "" {
			k = c.ReferenceKind
		}
		if counts[k] == 0 {
			kinds = append(kinds, k)
		}
		counts[k]++
	}
	if len(kinds) == 0 {
		return Chart{ID: id, Title: title, Empty: "No contribution was recognised in this period."}
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	var rows []barRow
	var parts []string
	for _, k := range kinds {
		label := capital(forWhat(k))
		rows = append(rows, barRow{Label: label, Segs: []seg{{V: float64(counts[k]), Fill: fillPurple, Title: fmt.Sprintf("%s: %d", label, counts[k])}}, Value: plural(counts[k], "recognition", "recognitions")})
		parts = append(parts, fmt.Sprintf("%s: %d", label, counts[k]))
	}
	desc := "Recognitions in the period by what they were for. " + strings.Join(parts, "; ") + "."
	return hbars(id, title, desc, rows, nil)
}

// forWhat says what a recognition of reference kind k was for.
func forWhat(k string) string {
	switch k {
	case "commitment":
		return "a commitment kept"
	case "loan":
		return "a resource lent"
	case "review":
		return "a peer review"
	case "cpd_event":
		return "CPD led"
	case "secondment":
		return "a secondment"
	case "priority":
		return "work on a priority"
	case "contribution":
		return "other contributions"
	}
	return Words(k)
}

// hoursText is a number of hours, e.g. "1 hour", "2.5 hours".
func hoursText(h float64) string {
	if h == 1 {
		return "1 hour"
	}
	return num(h) + " hours"
}

// money formats pence as pounds, e.g. 183400 → "£1,834.00".
func money(p int64) string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	s := fmt.Sprint(p / 100)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s£%s.%02d", sign, b.String(), p%100)
}

// SVG returns the chart as a figure holding inline SVG (or its Empty
// sentence). It is drawn in Go, every value escaped as html/template
// escapes it: the template it replaces (kept in the tests, which hold
// the two to the same bytes) spent most of its time reflecting on each
// of a chart's hundreds of values.
func (c Chart) SVG() (template.HTML, error) {
	var b strings.Builder
	b.Grow(512 + 160*len(c.Rects) + 120*len(c.Texts))
	str := func(parts ...string) {
		for _, s := range parts {
			b.WriteString(s)
		}
	}
	esc := func(s string) { WriteEscaped(&b, s) }
	var num []byte
	f := func(v float64) {
		num = strconv.AppendFloat(num[:0], v, 'f', 1, 64)
		WriteEscaped(&b, string(num))
	}
	if c.Empty != "" {
		str(`<p class="none" id="`)
		esc(c.ID)
		str(`">`)
		esc(c.Empty)
		str("</p>\n")
		return template.HTML(b.String()), nil //nolint:gosec // every value escaped above
	}
	str(`<figure class="chart" id="`)
	esc(c.ID)
	str(`"><figcaption>`)
	esc(c.Title)
	str("</figcaption>\n", `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="`)
	esc(c.ID)
	str("-t ")
	esc(c.ID)
	str(`-d" width="`)
	f(c.W)
	str(`" height="`)
	f(c.H)
	str(`" viewBox="0 0 `)
	f(c.W)
	str(" ")
	f(c.H)
	str(`" font-size="13">`, "\n", `<title id="`)
	esc(c.ID)
	str(`-t">`)
	esc(c.Title)
	str(`</title><desc id="`)
	esc(c.ID)
	str(`-d">`)
	esc(c.Desc)
	str("</desc>\n")
	// xy writes an element's opening up to its position; title its
	// tooltip, if any, once the opening tag is closed.
	xy := func(elem string, x, y float64) {
		str("<", elem, ` x="`)
		f(x)
		str(`" y="`)
		f(y)
	}
	title := func(s string) {
		if s != "" {
			str("<title>")
			esc(s)
			str("</title>")
		}
	}
	for _, r := range c.Rects {
		xy("rect", r.X, r.Y)
		str(`" width="`)
		f(r.W)
		str(`" height="`)
		f(r.H)
		str(`" fill="`)
		esc(r.Fill)
		str(`">`)
		title(r.Title)
		str("</rect>\n")
	}
	for _, t := range c.Texts {
		xy("text", t.X, t.Y)
		str(`" text-anchor="`)
		esc(t.Anchor)
		str(`" class="`)
		esc(t.Class)
		str(`">`)
		title(t.Title)
		esc(t.Text)
		str("</text>\n")
	}
	str("</svg></figure>\n")
	return template.HTML(b.String()), nil //nolint:gosec // every value escaped above
}

// Charts returns the report's charts in the order it shows them:
// membership over the years, resource use by school, costs beside
// benefits, progress ratings by area, what was celebrated.
func (r *Report) Charts() []Chart {
	return []Chart{r.membershipChart(), r.utilisationChart(), r.costChart(), r.ragChart(), r.celebrationChart()}
}
