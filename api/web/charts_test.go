package web

import (
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/views"
)

func TestNaturalCompare(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"Year 2", "Year 11", -1},
		{"Year 11", "Year 2", 1},
		{"Year 10", "Year 10", 0},
		{"Year 9", "Year 10", -1},
		{"Reception", "Year 1", -1},
		{"Year 1", "Year 1 set 2", -1},
		{"Y1 set 10", "Y1 set 9", 1},
		{"Year 007", "Year 8", -1},
		{"Year 02", "Year 2", -1}, // equal numbers: plain order decides
		{"", "Year 1", -1},
	} {
		if got := naturalCompare(c.a, c.b); got != c.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	got := []string{"Year 11", "Year 2", "Year 10", "Year 7", "Nursery", "Year 1"}
	slices.SortFunc(got, naturalCompare)
	want := []string{"Nursery", "Year 1", "Year 2", "Year 7", "Year 10", "Year 11"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted %v, want %v", got, want)
	}
}

func TestHeatmapCohortsInNaturalOrder(t *testing.T) {
	a, b := views.Ref{ID: uuid.New(), Name: "Alpha School"}, views.Ref{ID: uuid.New(), Name: "Beta School"}
	cells := []views.BoardCell{
		{School: b, Area: "Reading", Cohort: "Year 2", Rating: "green", Term: "2025-26 Autumn 1"},
		{School: a, Area: "Reading", Cohort: "Year 11", Rating: "red", Term: "2025-26 Autumn 2"},
		{School: a, Area: "Numeracy", Cohort: "Year 2", Rating: "amber", Term: "2025-26 Autumn 2",
			Trend: []views.TrendStep{{Rating: "red"}, {Rating: "amber"}}, Movement: "improved"},
		{School: a, Area: "Reading", Cohort: "Year 10", Rating: "green", Term: "2025-26 Autumn 2"},
	}
	h := newHeatmap(cells)
	if want := []string{"Year 2", "Year 10", "Year 11"}; !slices.Equal(h.Cohorts, want) {
		t.Fatalf("cohorts %v, want %v", h.Cohorts, want)
	}
	if len(h.Schools) != 2 || h.Schools[0].Name != "Alpha School" || h.Schools[1].Name != "Beta School" {
		t.Fatalf("schools %+v, want Alpha then Beta", h.Schools)
	}
	alpha := h.Schools[0]
	if len(alpha.Rows) != 2 || alpha.Rows[0].Area != "Numeracy" || alpha.Rows[1].Area != "Reading" {
		t.Fatalf("Alpha's rows %+v, want Numeracy then Reading", alpha.Rows)
	}
	// Each row has a cell per cohort, in the columns' order.
	reading := alpha.Rows[1].Cells
	if got := []string{reading[0].Rating, reading[1].Rating, reading[2].Rating}; !slices.Equal(got, []string{"", "green", "red"}) {
		t.Errorf("Alpha's reading by cohort %v, want none, green (Year 10), red (Year 11)", got)
	}
	num := alpha.Rows[0].Cells[0]
	if num.Term != "Autumn 2" || !slices.Equal(num.Trend, []string{"red", "amber"}) || !strings.Contains(num.Said, "improved") {
		t.Errorf("Alpha's numeracy cell %+v", num)
	}
	// The table beneath the map follows the same order.
	sortBoard(cells)
	var order []string
	for _, c := range cells {
		order = append(order, c.School.Name+"/"+c.Area+"/"+c.Cohort)
	}
	want := []string{"Alpha School/Numeracy/Year 2", "Alpha School/Reading/Year 10", "Alpha School/Reading/Year 11", "Beta School/Reading/Year 2"}
	if !slices.Equal(order, want) {
		t.Errorf("table order %v, want %v", order, want)
	}
}

// relativeLuminance is WCAG 2.2's relative luminance of an sRGB colour
// written #rrggbb.
func relativeLuminance(t *testing.T, hex string) float64 {
	t.Helper()
	if len(hex) == 4 { // #rgb
		hex = "#" + strings.Repeat(hex[1:2], 2) + strings.Repeat(hex[2:3], 2) + strings.Repeat(hex[3:4], 2)
	}
	if len(hex) != 7 || hex[0] != '#' {
		t.Fatalf("%q is not a #rrggbb colour", hex)
	}
	var ch [3]float64
	for i := range 3 {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			t.Fatalf("%q: %v", hex, err)
		}
		c := float64(v) / 255
		if c <= 0.04045 {
			ch[i] = c / 12.92
		} else {
			ch[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2]
}

func contrastRatio(t *testing.T, a, b string) float64 {
	la, lb := relativeLuminance(t, a), relativeLuminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

func TestContrastRatioKnownPairs(t *testing.T) {
	// WCAG's extremes and a pair published with its ratio (#767676 on
	// white is the lightest grey that passes 4.5:1).
	for _, c := range []struct {
		a, b string
		want float64
	}{{"#000000", "#ffffff", 21}, {"#ffffff", "#ffffff", 1}, {"#767676", "#ffffff", 4.54}} {
		if got := contrastRatio(t, c.a, c.b); math.Abs(got-c.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", c.a, c.b, got, c.want)
		}
	}
}

var (
	cssVarRE  = regexp.MustCompile(`--([a-z-]+)\s*:\s*(#[0-9a-fA-F]{3,6})`)
	cssRuleRE = regexp.MustCompile(`([^{}]+?)\s*\{([^}]*)\}`)
)

// cssRules maps each selector of static/style.css to its declarations
// (property → value), and returns the custom properties of :root.
func cssRules(t *testing.T) (map[string]map[string]string, map[string]string) {
	t.Helper()
	b, err := os.ReadFile("static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	src := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
	rules, vars := map[string]map[string]string{}, map[string]string{}
	for _, m := range cssRuleRE.FindAllStringSubmatch(src, -1) {
		decl := map[string]string{}
		for _, d := range strings.Split(m[2], ";") {
			k, v, ok := strings.Cut(d, ":")
			if ok {
				decl[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		for _, sel := range strings.Split(m[1], ",") {
			sel = strings.TrimSpace(sel)
			if rules[sel] == nil {
				rules[sel] = map[string]string{}
			}
			for k, v := range decl {
				rules[sel][k] = v
			}
		}
		if strings.TrimSpace(m[1]) == ":root" {
			for _, v := range cssVarRE.FindAllStringSubmatch(m[2], -1) {
				vars[v[1]] = strings.ToLower(v[2])
			}
		}
	}
	return rules, vars
}

// TestRAGContrast computes the WCAG contrast of every RAG colour with the
// text drawn on it, from the values in static/style.css: the heatmap's
// cells (text on the rating's colour) and the table's rating words (the
// rating's colour on the page's background) must reach 4.5:1.
func TestRAGContrast(t *testing.T) {
	rules, vars := cssRules(t)
	resolve := func(v string) string {
		t.Helper()
		if strings.HasPrefix(v, "var(--") {
			name := strings.TrimSuffix(strings.TrimPrefix(v, "var(--"), ")")
			c, ok := vars[name]
			if !ok {
				t.Fatalf("style.css uses --%s, which :root does not set", name)
			}
			return c
		}
		return strings.ToLower(v)
	}
	for _, r := range []string{"red", "amber", "green", "none"} {
		sel := ".heat-" + r
		rule, ok := rules[sel]
		if !ok {
			t.Errorf("style.css has no rule %s", sel)
			continue
		}
		bg, fg := resolve(rule["background"]), resolve(rule["color"])
		if got := contrastRatio(t, fg, bg); got < 4.5 {
			t.Errorf("%s: text %s on %s has contrast %.2f:1, want at least 4.5:1", sel, fg, bg, got)
		} else {
			t.Logf("%s: text %s on %s: %.2f:1", sel, fg, bg, got)
		}
	}
	page := vars["bg"]
	for _, r := range []string{"red", "amber", "green"} {
		sel := ".rag-" + r
		rule, ok := rules[sel]
		if !ok {
			t.Errorf("style.css has no rule %s", sel)
			continue
		}
		fg := resolve(rule["color"])
		if got := contrastRatio(t, fg, page); got < 4.5 {
			t.Errorf("%s: text %s on the page's %s has contrast %.2f:1, want at least 4.5:1", sel, fg, page, got)
		}
	}
}
