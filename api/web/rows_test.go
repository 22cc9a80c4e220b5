package web

import (
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/views"
)

// The lists rows.go draws, as the resources page's template drew them
// before: the reference the Go drawing is held to.
const (
	cpdRowsTemplate = `{{range .}}<tr><th scope="row">{{.Title}} <span class="muted">({{human .Kind}})</span></th><td>{{.Organiser.Name}}</td><td>{{datetime .StartsAt}}</td><td>{{.Offered}}</td><td>{{.Booked}}</td><td>{{.Attended}}</td><td>{{pence .SavingsPence}}</td></tr>{{end}}`
	heatmapTemplate = `{{range $s := .Schools}}<tbody>{{range $i, $row := $s.Rows}}<tr>{{if eq $i 0}}<th scope="rowgroup" rowspan="{{len $s.Rows}}" class="school">{{$s.Name}}</th>{{end}}<th scope="row">{{$row.Area}}</th>
{{range $row.Cells}}{{if .Rating}}<td class="heat heat-{{.Rating}}" title="{{.Said}}"><span class="heat-label">{{upper .Rating}}</span> <span class="heat-term">{{.Term}}{{if eq .Movement "improved"}} <span aria-hidden="true">↑</span><span class="sr-only">improved</span>{{else if eq .Movement "declined"}} <span aria-hidden="true">↓</span><span class="sr-only">declined</span>{{end}}</span>{{if gt (len .Trend) 1}}<span class="trend" aria-hidden="true">{{range .Trend}}<span class="sq heat-{{.}}"></span>{{end}}</span><span class="sr-only">; over the half-terms: {{range $k, $t := .Trend}}{{if $k}}, {{end}}{{$t}}{{end}}</span>{{end}}</td>{{else}}<td class="heat heat-none"><span class="sr-only">not rated</span></td>{{end}}{{end}}</tr>{{end}}</tbody>{{end}}`
	boardRowsTemplate      = `{{range .}}<tr><th scope="row">{{.School.Name}}</th><td>{{.Area}}</td><td>{{.Cohort}}</td><td class="rag-{{.Rating}}">{{.Rating}} ({{.Term}})</td><td>{{range $i, $t := .Trend}}{{if $i}} → {{end}}{{$t.Rating}}{{end}}</td><td>{{if .Movement}}{{.Movement}}{{else}}—{{end}}</td></tr>{{end}}`
	offeredOptionsTemplate = `{{$sel := .Selected}}{{range .Resources}}{{if .Offered}}<option value="{{.ID}}"{{if eq $sel (print .ID)}} selected{{end}}>{{.Name}} ({{.Owner.Name}})</option>{{end}}{{end}}`
)

// TestListsDrawnInGoAreWhatTheTemplatesDrew: for random CPD events,
// resources, heatmaps and ratings whose names hold every character html/template escapes (and
// others), the rows and options drawn in Go are byte for byte what the
// templates they replace drew, with html/template's own escaping.
func TestListsDrawnInGoAreWhatTheTemplatesDrew(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	nasty := []string{"", "plain", `<script>alert("x")</script>`, "Tom & Jerry's", "a+b", "nul\x00here", "café – ünïcode", "{{.}}", "under_score", "\"quoted\"", "a\nb\tc"}
	str := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			b.WriteString(nasty[rng.IntN(len(nasty))])
		}
		return b.String()
	}
	cpdT := template.Must(template.New("cpd").Funcs(funcs).Parse(cpdRowsTemplate))
	optT := template.Must(template.New("opt").Funcs(funcs).Parse(offeredOptionsTemplate))
	heatT := template.Must(template.New("heat").Funcs(funcs).Parse(heatmapTemplate))
	boardT := template.Must(template.New("board").Funcs(funcs).Parse(boardRowsTemplate))
	// A rating is a word, or (to check the escaping) anything; movements
	// are the two the heatmap marks, or others.
	rating := func() string { return []string{"", "red", "amber", "green", str()}[rng.IntN(5)] }
	movement := func() string { return []string{"", "improved", "declined", "unchanged", str()}[rng.IntN(5)] }
	for round := range 200 {
		var events []views.CPDEventInfo
		var resources []views.ResourceInfo
		for range rng.IntN(6) {
			starts := time.Time{}
			if rng.IntN(4) != 0 {
				starts = time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(1e6)) * time.Minute)
			}
			events = append(events, views.CPDEventInfo{ID: uuid.New(), Title: str(), Kind: str(), Organiser: views.Ref{ID: uuid.New(), Name: str()},
				StartsAt: starts, Offered: rng.IntN(100) - 5, Booked: rng.IntN(100), Attended: rng.IntN(100), SavingsPence: rng.Int64N(2e7) - 1e6})
			resources = append(resources, views.ResourceInfo{ID: uuid.New(), Name: str(), Owner: views.Ref{ID: uuid.New(), Name: str()}, Offered: rng.IntN(3) != 0})
		}
		selected := ""
		switch {
		case len(resources) > 0 && rng.IntN(2) == 0:
			selected = resources[rng.IntN(len(resources))].ID.String()
		case rng.IntN(2) == 0:
			selected = str()
		}
		var want strings.Builder
		if err := cpdT.Execute(&want, events); err != nil {
			t.Fatal(err)
		}
		if got := string(cpdRows(events)); got != want.String() {
			t.Fatalf("round %d: the CPD rows drawn in Go\n%s\ndiffer from the template's\n%s", round, got, want.String())
		}
		want.Reset()
		if err := optT.Execute(&want, map[string]any{"Resources": resources, "Selected": selected}); err != nil {
			t.Fatal(err)
		}
		if got := string(offeredOptions(resources, selected)); got != want.String() {
			t.Fatalf("round %d: the options drawn in Go\n%s\ndiffer from the template's\n%s", round, got, want.String())
		}
		var cells []views.BoardCell
		var m heatmap
		for range rng.IntN(4) {
			m.Cohorts = append(m.Cohorts, str())
		}
		for range rng.IntN(4) {
			s := heatSchool{Name: str()}
			for range rng.IntN(4) {
				row := heatRow{Area: str()}
				for range len(m.Cohorts) {
					c := heatCell{Rating: rating(), Term: str(), Movement: movement(), Said: str()}
					for range rng.IntN(4) {
						c.Trend = append(c.Trend, rating())
					}
					row.Cells = append(row.Cells, c)
				}
				s.Rows = append(s.Rows, row)
			}
			m.Schools = append(m.Schools, s)
		}
		for range rng.IntN(5) {
			c := views.BoardCell{School: views.Ref{ID: uuid.New(), Name: str()}, Area: str(), Cohort: str(), Rating: rating(), Term: str(), Movement: movement()}
			for range rng.IntN(4) {
				c.Trend = append(c.Trend, views.TrendStep{Term: str(), Rating: rating()})
			}
			cells = append(cells, c)
		}
		want.Reset()
		if err := heatT.Execute(&want, m); err != nil {
			t.Fatal(err)
		}
		if got := string(heatmapBodies(m)); got != want.String() {
			t.Fatalf("round %d: the heatmap drawn in Go\n%s\ndiffers from the template's\n%s", round, got, want.String())
		}
		want.Reset()
		if err := boardT.Execute(&want, cells); err != nil {
			t.Fatal(err)
		}
		if got := string(boardRows(cells)); got != want.String() {
			t.Fatalf("round %d: the ratings drawn in Go\n%s\ndiffer from the template's\n%s", round, got, want.String())
		}
	}
	if got := cpdRows(nil) + offeredOptions(nil, "") + heatmapBodies(heatmap{}) + boardRows(nil); got != "" {
		t.Errorf("nothing to draw drew %q", got)
	}
}
