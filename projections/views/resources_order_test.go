package views

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
)

// TestResourcesListFollowsTheRuleAsResourcesAreAdded: the resources of a
// partnership are listed by name, then id (the rule), and a resource
// registered or withdrawn after a listing is in the next one as it is
// now, though the view keeps the order between listings; live and read
// back alike.
func TestResourcesListFollowsTheRuleAsResourcesAreAdded(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 23))
	names := []string{"Minibus", "Kiln", "Drama studio", "Kiln", "3D printer", "Telescope"}
	v, feed, pids, resources := registered(t, 0, nil)
	offered := map[uuid.UUID]bool{}
	check := func(when string, view *Resources) {
		t.Helper()
		for _, pid := range pids {
			var want []partnership.ResourceRegistered
			for _, r := range resources {
				if r.PartnershipID == pid {
					want = append(want, r)
				}
			}
			slices.SortFunc(want, func(a, b partnership.ResourceRegistered) int {
				return cmp.Or(strings.Compare(a.Name, b.Name), uuidCmp(a.ResourceID, b.ResourceID))
			})
			got := view.List(pid)
			if len(got) != len(want) {
				t.Fatalf("%s: %d resources listed, want %d", when, len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ResourceID || got[i].Offered != offered[want[i].ResourceID] {
					t.Errorf("%s: resource %d is %s (offered %v), want %s (offered %v)", when, i, got[i].Name, got[i].Offered, want[i].Name, offered[want[i].ResourceID])
				}
			}
		}
	}
	for round := range 5 {
		for range 1 + rng.IntN(6) {
			r := partnership.ResourceRegistered{PartnershipID: pids[rng.IntN(2)], ResourceID: uuid.New(), OwnerSchoolID: uuid.New(),
				Kind: "minibus", Name: names[rng.IntN(len(names))], HourlyValuePence: 100}
			feed(r)
			resources = append(resources, r)
		}
		check("live, registered in round "+string(rune('1'+round)), v)
		r := resources[rng.IntN(len(resources))]
		if offered[r.ResourceID] {
			feed(partnership.ResourceOfferWithdrawn{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, OwnerSchoolID: r.OwnerSchoolID})
		} else {
			feed(partnership.ResourceOffered{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, OwnerSchoolID: r.OwnerSchoolID})
		}
		offered[r.ResourceID] = !offered[r.ResourceID]
		check("live, offered or withdrawn in round "+string(rune('1'+round)), v)
	}
	check("read back", readBack(t, v, NewResources()))
}
