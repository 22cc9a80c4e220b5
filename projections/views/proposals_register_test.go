package views

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/governance"
)

// TestRegisterPagesReadAlongTheRegister: a page of the proposals'
// register read along the register kept in drafting order is the page
// the proposals sorted afresh give, for every filter, page and reading:
// the live view, one read back from its state, states of the past (At)
// and lenses.
func TestRegisterPagesReadAlongTheRegister(t *testing.T) {
	msgs := proposalsLedger(4, 1500)
	live := NewProposals()
	for _, m := range msgs {
		if err := live.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	saved, err := live.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	restored := NewProposals()
	if err := restored.UnmarshalState(saved); err != nil {
		t.Fatal(err)
	}
	var schools, communities []uuid.UUID
	for _, p := range live.P {
		schools, communities = append(schools, p.School), append(communities, p.Community)
	}
	if len(live.P) < 20 {
		t.Fatalf("%d proposals: too few to page", len(live.P))
	}
	span, err := NewPeriod(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	filters := []ProposalFilter{{}, {School: schools[0]}, {School: schools[len(schools)-1]}, {Community: communities[1]},
		{Status: governance.StatusDraft}, {Status: "approved"}, {DecidedIn: &span}, {School: schools[2], Status: "submitted"}, {School: uuid.New()}}
	for _, p := range live.P {
		filters = append(filters, ProposalFilter{Year: p.Year}, ProposalFilter{School: p.School, Year: p.Year})
		break
	}
	pages := [][2]int{{0, 1000}, {0, 3}, {5, 7}, {17, 100}, {1 << 20, 5}}
	check := func(reading string, v *Proposals) {
		v = v.resolved()
		if v.register == nil || len(v.register) != len(v.P) {
			t.Fatalf("%s: a register of %d for %d proposals: the pages would be sorted, not read along it", reading, len(v.register), len(v.P))
		}
		sorted := *v
		sorted.register = nil // RegisterPage sorts P
		shown := 0
		for _, f := range filters {
			for _, pg := range pages {
				got, n := v.RegisterPage(f, nil, pg[0], pg[1])
				want, m := sorted.RegisterPage(f, nil, pg[0], pg[1])
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if n != m || string(g) != string(w) {
					t.Fatalf("%s, filter %+v, page %v: %d proposals along the register, %d sorted; pages differ:\n%s\n%s", reading, f, pg, n, m, g, w)
				}
				shown += len(got)
			}
		}
		if shown == 0 && len(v.P) > 0 {
			t.Fatalf("%s: every page empty", reading)
		}
	}
	check("live", live)
	check("read back", restored)
	for _, pos := range []uint64{1, uint64(len(msgs)) / 3, uint64(len(msgs)) / 2, uint64(len(msgs)) - 1} {
		check("at", live.At(pos).(*Proposals))
		check("lens", live.Lens(pos).(*Proposals))
		check("at, read back", restored.At(pos).(*Proposals))
	}
}
