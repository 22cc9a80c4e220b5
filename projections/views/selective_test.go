package views

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/concord-ledger/concord/domain/governance"

	"github.com/concord-ledger/concord/projections/projectionstest"
)

// TestUnwantedEventsLeaveTheViewsAsTheyWere checks each selective view's
// Wants over school years recorded through the governance service (the
// fixed story and random ones): an event a view does not want never
// changes its state, so a past reading may skip it. The partnership
// year's ledger is checked in partnership_views_test.go.
func TestUnwantedEventsLeaveTheViewsAsTheyWere(t *testing.T) {
	seen := map[string]int{}
	for seed := uint64(0); seed <= 3; seed++ {
		w := newGovWorld(t)
		var rng *rand.Rand
		if seed > 0 {
			rng = rand.New(rand.NewPCG(seed, 7))
		}
		w.run(rng)
		w.afterTheYear()
		for typ, n := range projectionstest.CheckWants(t, w.ctx, w.store, w.codec, All()...) {
			seen[typ] += n
		}
	}
	types := make([]string, 0, len(seen))
	for typ := range seen {
		types = append(types, typ)
	}
	sort.Strings(types)
	t.Logf("unwanted events checked, by type: %v", types)
}

// afterTheYear records the school's facts the year's story leaves out: a
// segment added and renamed, a person's details amended, a member of staff
// and the Director leaving the school (which also ends the Director's
// places).
func (w *govWorld) afterTheYear() {
	w.t.Helper()
	ctx, admin := w.ctx, w.admin
	w.now = w.now.Add(24 * time.Hour)
	seg := newID()
	w.do(w.svc.AddSegment(ctx, admin, governance.AddSegment{SchoolID: w.school, SegmentID: seg, Name: "Sixth Form"}))
	w.do(w.svc.RenameSegment(ctx, admin, governance.RenameSegment{SchoolID: w.school, SegmentID: seg, Name: "Post-16"}))
	w.do(w.svc.AmendPersonDetails(ctx, admin, governance.AmendPersonDetails{PersonID: w.staff[6],
		PersonDetails: governance.PersonDetails{Name: "Staff Six", Email: "six@example.org"}}))
	w.do(w.svc.LeaveSchool(ctx, admin, governance.LeaveSchool{PersonID: w.staff[6]}))
	w.do(w.svc.LeaveSchool(ctx, admin, governance.LeaveSchool{PersonID: w.director}))
}
