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
	cpdRowsTemplate        = `{{range .}}<tr><th scope="row">{{.Title}} <span class="muted">({{human .Kind}})</span></th><td>{{.Organiser.Name}}</td><td>{{datetime .StartsAt}}</td><td>{{.Offered}}</td><td>{{.Booked}}</td><td>{{.Attended}}</td><td>{{pence .SavingsPence}}</td></tr>{{end}}`
	offeredOptionsTemplate = `{{$sel := .Selected}}{{range .Resources}}{{if .Offered}}<option value="{{.ID}}"{{if eq $sel (print .ID)}} selected{{end}}>{{.Name}} ({{.Owner.Name}})</option>{{end}}{{end}}`
)

// TestListsDrawnInGoAreWhatTheTemplatesDrew: for random CPD events and
// resources whose names hold every character html/template escapes (and
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
	}
	if got := cpdRows(nil) + offeredOptions(nil, ""); got != "" {
		t.Errorf("nothing to draw drew %q", got)
	}
}
