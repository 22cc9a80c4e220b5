package web

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/concord-ledger/concord/projections/views"
)

// naturalCompare orders strings as people read them: runs of digits are
// compared as numbers, so "Year 2" comes before "Year 11". Text between
// the numbers is compared byte by byte; a tie (as "Year 02" and "Year 2")
// falls back to plain comparison, so the order is total.
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
		i++
		j++
	}
	if c := cmp.Compare(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// heatmap is the RAG board as an HTML table: a row per school × area
// (schools as row groups), a column per cohort in natural order, each
// cell coloured by its latest rating (classes heat-red, heat-amber,
// heat-green in style.css) with its trend over the half-terms as small
// squares beneath the label.
type heatmap struct {
	Cohorts []string
	Schools []heatSchool
}

type heatSchool struct {
	Name string
	Rows []heatRow
}

type heatRow struct {
	Area  string
	Cells []heatCell // one per cohort; Rating "" where none was rated
}

type heatCell struct {
	Rating   string
	Term     string
	Movement string
	Trend    []string
	// Said is the cell in words, for screen readers and the tooltip.
	Said string
}

// shortTerm drops the academic year from a half-term ("2025-26 Autumn 2"
// → "Autumn 2"): the page already says which year it shows.
func shortTerm(t string) string {
	if len(t) > 8 && t[4] == '-' && t[7] == ' ' {
		return t[8:]
	}
	return t
}

// sortBoard orders cells by school name, area and cohort, cohorts in
// natural order.
func sortBoard(cells []views.BoardCell) {
	slices.SortStableFunc(cells, func(a, b views.BoardCell) int {
		return cmp.Or(strings.Compare(a.School.Name, b.School.Name), strings.Compare(a.School.ID.String(), b.School.ID.String()),
			strings.Compare(a.Area, b.Area), naturalCompare(a.Cohort, b.Cohort))
	})
}

func newHeatmap(cells []views.BoardCell) heatmap {
	cells = slices.Clone(cells)
	sortBoard(cells)
	var h heatmap
	col := map[string]int{}
	for _, c := range cells {
		if _, ok := col[c.Cohort]; !ok {
			col[c.Cohort] = 0
			h.Cohorts = append(h.Cohorts, c.Cohort)
		}
	}
	slices.SortFunc(h.Cohorts, naturalCompare)
	for i, c := range h.Cohorts {
		col[c] = i
	}
	var school *heatSchool
	var row *heatRow
	lastID := ""
	for _, c := range cells {
		if school == nil || c.School.ID.String() != lastID {
			h.Schools = append(h.Schools, heatSchool{Name: c.School.Name})
			school, row, lastID = &h.Schools[len(h.Schools)-1], nil, c.School.ID.String()
		}
		if row == nil || row.Area != c.Area {
			school.Rows = append(school.Rows, heatRow{Area: c.Area, Cells: make([]heatCell, len(h.Cohorts))})
			row = &school.Rows[len(school.Rows)-1]
		}
		hc := heatCell{Rating: c.Rating, Term: shortTerm(c.Term), Movement: c.Movement,
			Said: fmt.Sprintf("%s, %s, %s: %s in %s", c.School.Name, c.Area, c.Cohort, c.Rating, c.Term)}
		for k, t := range c.Trend {
			if k >= 8 {
				break
			}
			hc.Trend = append(hc.Trend, t.Rating)
		}
		if hc.Movement != "" {
			hc.Said += " (" + hc.Movement + ")"
		}
		if len(hc.Trend) > 1 {
			hc.Said += "; over the half-terms: " + strings.Join(hc.Trend, ", ")
		}
		row.Cells[col[c.Cohort]] = hc
	}
	return h
}

// barChart is a chart of counts drawn as HTML: each group (an ISLC) is
// named on its own line above its bars, one bar per series (an academic
// year) with the series' name before the bar and the count after it, so
// no label can ever run over a bar or its value. Bars are SVG rectangles
// scaled to the largest count (the pages' CSP forbids inline styles).
type barChart struct {
	Series []string
	Groups []barGroup
}

type barGroup struct {
	Name string
	Bars []bar
}

type bar struct {
	Series string
	Count  int
	// Width is the bar's length in percent of the longest (at least 1
	// so that a zero is still drawn as a sliver beside its 0).
	Width int
}

func newMembershipChart(m views.MembershipChart) barChart {
	c := barChart{Series: m.Years}
	maxCount := 1
	for _, s := range m.Series {
		for _, n := range s.Counts {
			maxCount = max(maxCount, n)
		}
	}
	for _, s := range m.Series {
		g := barGroup{Name: s.Community.Name}
		for j, n := range s.Counts {
			g.Bars = append(g.Bars, bar{Series: m.Years[j], Count: n, Width: max(1, n*100/maxCount)})
		}
		c.Groups = append(c.Groups, g)
	}
	return c
}
