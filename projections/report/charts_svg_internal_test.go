package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"math/rand/v2"
	"testing"
)

// chartOracle is the template the charts were drawn with before SVG drew
// them in Go: the tests hold the two to the same bytes.
var chartOracle = template.Must(template.New("chart").Funcs(template.FuncMap{"f": func(v float64) string { return fmt.Sprintf("%.1f", v) }}).Parse(
	`{{if .Empty}}<p class="none" id="{{.ID}}">{{.Empty}}</p>{{else}}<figure class="chart" id="{{.ID}}"><figcaption>{{.Title}}</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{{.ID}}-t {{.ID}}-d" width="{{f .W}}" height="{{f .H}}" viewBox="0 0 {{f .W}} {{f .H}}" font-size="13">
<title id="{{.ID}}-t">{{.Title}}</title><desc id="{{.ID}}-d">{{.Desc}}</desc>
{{range .Rects}}<rect x="{{f .X}}" y="{{f .Y}}" width="{{f .W}}" height="{{f .H}}" fill="{{.Fill}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</rect>
{{end}}{{range .Texts}}<text x="{{f .X}}" y="{{f .Y}}" text-anchor="{{.Anchor}}" class="{{.Class}}">{{if .Title}}<title>{{.Title}}</title>{{end}}{{.Text}}</text>
{{end}}</svg></figure>{{end}}
`))

// TestChartsDrawnInGoAreWhatTheTemplateDrew: random charts whose words
// hold every character html/template escapes (markup, quotes, plus, NUL,
// broken UTF-8) and whose numbers are awkward (negative, huge, halves,
// infinite, not a number), drawn by SVG and by the template, byte for
// byte.
func TestChartsDrawnInGoAreWhatTheTemplateDrew(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "<", ">", "&", "'", `"`, "+", "\x00", "é", "≥", "\xff", "&amp;", "</title>", "=", "`", "\n", "£", "-t"}
	rng := rand.New(rand.NewPCG(3, 5))
	word := func(maybeEmpty bool) string {
		n := rng.IntN(7)
		if !maybeEmpty {
			n++
		}
		var s string
		for range n {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		return s
	}
	number := func() float64 {
		switch rng.IntN(8) {
		case 0:
			return -rng.Float64() * 100
		case 1:
			return math.Round(rng.Float64()*20) / 4 // halves and quarters
		case 2:
			return rng.Float64() * 1e12
		case 3:
			return []float64{math.Inf(1), math.Inf(-1), math.NaN(), 0, math.Copysign(0, -1), 0.05, 0.15, 0.25}[rng.IntN(8)]
		default:
			return rng.Float64() * 800
		}
	}
	check := func(c Chart) {
		t.Helper()
		var want bytes.Buffer
		if err := chartOracle.Execute(&want, c); err != nil {
			t.Fatal(err)
		}
		got, err := c.SVG()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want.String() {
			t.Fatalf("chart %+v:\ngot  %q\nwant %q", c, got, want.String())
		}
	}
	for range 400 {
		c := Chart{ID: word(false), Title: word(true), Desc: word(true), W: number(), H: number()}
		if rng.IntN(6) == 0 {
			c.Empty = word(false)
		}
		for range rng.IntN(5) {
			c.Rects = append(c.Rects, svgRect{X: number(), Y: number(), W: number(), H: number(), Fill: word(true), Title: word(true)})
		}
		for range rng.IntN(5) {
			c.Texts = append(c.Texts, svgText{X: number(), Y: number(), Anchor: word(true), Class: word(true), Text: word(true), Title: word(true)})
		}
		check(c)
	}
}
