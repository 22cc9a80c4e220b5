package report

import (
	"strings"
	"testing"
)

// box is a text's or a bar's extent along x in one row of a chart.
type box struct{ x0, x1, y float64 }

func textBox(t svgText) box {
	w := textWidth(t.Text)
	switch t.Anchor {
	case "end":
		return box{t.X - w, t.X, t.Y}
	case "middle":
		return box{t.X - w/2, t.X + w/2, t.Y}
	}
	return box{t.X, t.X + w, t.Y}
}

// A label never runs into its bar or its value, whatever their lengths:
// a long label is cut (its full text kept as its title), the value
// starts after the bar's end, and everything lies inside the chart.
func TestBarLabelsNeverOverlapTheirValues(t *testing.T) {
	long := strings.Repeat("Ysgol Gynradd Gymraeg ", 4)
	rows := []barRow{
		{Label: long, Segs: []seg{{V: 1000, Fill: fillBlue}}, Value: "1,000 hours borrowed from every school there is"},
		{Label: "Short", Segs: []seg{{V: 1, Fill: fillBlue}}, Value: "1 hour"},
		{Label: "Nothing", Segs: []seg{{V: 0, Fill: fillBlue}}, Value: "0 hours"},
	}
	c := hbars("c", "Chart", "A chart.", rows, []legendItem{{fillBlue, "Hours"}})
	var labels, values []svgText
	for _, x := range c.Texts {
		switch x.Class {
		case "label":
			labels = append(labels, x)
		case "value":
			values = append(values, x)
		}
	}
	if len(labels) != 3 || len(values) != 3 {
		t.Fatalf("%d labels and %d values, want 3 and 3", len(labels), len(values))
	}
	if labels[0].Title != long || !strings.HasSuffix(labels[0].Text, "…") {
		t.Errorf("the long label is %q (title %q), want it cut with its full text as title", labels[0].Text, labels[0].Title)
	}
	for i := range labels {
		l, v := textBox(labels[i]), textBox(values[i])
		if l.x0 < 0 {
			t.Errorf("row %d: label starts at %.1f, outside the chart", i, l.x0)
		}
		barEnd := labelW
		for _, r := range c.Rects {
			if r.Y < l.y && l.y < r.Y+r.H+fontPx && r.X >= labelW {
				if r.X < l.x1 {
					t.Errorf("row %d: the bar starts at %.1f, under its label ending at %.1f", i, r.X, l.x1)
				}
				barEnd = max(barEnd, r.X+r.W)
			}
		}
		if v.x0 < barEnd || v.x0 < l.x1 {
			t.Errorf("row %d: the value starts at %.1f, before the bar's end %.1f or the label's %.1f", i, v.x0, barEnd, l.x1)
		}
		if v.x1 > c.W {
			t.Errorf("row %d: the value ends at %.1f, outside the chart's width %.1f", i, v.x1, c.W)
		}
	}
}

// Columns leave room for their labels and values: no two labels of
// neighbouring columns overlap.
func TestColumnLabelsDoNotOverlap(t *testing.T) {
	c := columns("c", "Chart", "A chart.", []string{"2024-25 (from March)", "2025-26", "2026-27"}, []float64{12345678, 5, 0}, fillPurple)
	var prev *box
	for _, x := range c.Texts {
		if x.Class != "axis" {
			continue
		}
		b := textBox(x)
		if b.x0 < 0 || b.x1 > c.W {
			t.Errorf("label %q from %.1f to %.1f lies outside the chart (width %.1f)", x.Text, b.x0, b.x1, c.W)
		}
		if prev != nil && b.x0 < prev.x1 {
			t.Errorf("label %q starts at %.1f, before the previous one ends at %.1f", x.Text, b.x0, prev.x1)
		}
		prev = &b
	}
}
