package apitest

import (
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// The world's standings are what its package doc says: ChairA chairs X,
// the Directors are their schools', the auditor is appointed.
func TestWorldStandings(t *testing.T) {
	w := New(t)
	c, _, err := domain.Load(t.Context(), w.L.Handler, governance.CommunityStream(w.CommunityX), governance.NewCommunity)
	if err != nil {
		t.Fatal(err)
	}
	if chair, ok := c.ChairInOffice(Year); !ok || chair != w.Person[ChairA] {
		t.Fatalf("chair of X = %v, %v; want ChairA", chair, ok)
	}
	for name, want := range map[string]string{DirA: "Director of Ashby School", StaffA: "staff of Ashby School", GovA: "governor of Ashby School",
		Lead: "staff of Brook School; lead of Vale Partnership", Auditor: "auditor of Vale Partnership", DirC: "Director of Cedar School; lead of Hill Partnership"} {
		st, err := w.App.Standing(t.Context(), w.Actor[name])
		if err != nil {
			t.Fatal(err)
		}
		if st.Label != want {
			t.Errorf("%s: standing %q, want %q", name, st.Label, want)
		}
	}
}
