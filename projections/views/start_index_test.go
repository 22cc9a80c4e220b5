package views

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

// started is something filed by start: a loan or a CPD event of a
// partnership.
type started struct {
	pid, id, res uuid.UUID
	start        time.Time
}

// ruleOrder returns the ids of the items of partnership pid starting in
// period p, by start then id: the registers' rule, worked out here from
// the items themselves.
func ruleOrder(items []started, pid uuid.UUID, p Period) []uuid.UUID {
	var in []started
	for _, it := range items {
		if it.pid == pid && p.Contains(it.start) {
			in = append(in, it)
		}
	}
	slices.SortFunc(in, func(a, b started) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	ids := make([]uuid.UUID, 0, len(in))
	for _, it := range in {
		ids = append(ids, it.id)
	}
	return ids
}

// readBack returns fresh holding p's saved state.
func readBack[P projections.Projection](t *testing.T, p, fresh P) P {
	t.Helper()
	saved, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.UnmarshalState(saved); err != nil {
		t.Fatal(err)
	}
	return fresh
}

// TestLoanRegisterPagesFollowTheRule: over random loans of resources in
// two partnerships, some approved for another window than requested, the
// register's pages are the partnership's loans starting in the period,
// ordered by start then loan id (the rule, computed here from the loans
// themselves), cut at the cursor; and a view read back from its saved
// state pages the same.
func TestLoanRegisterPagesFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	v := NewResources()
	pids := []uuid.UUID{uuid.New(), uuid.New()}
	owner, borrower := uuid.New(), uuid.New()
	var loans []started
	var resources []partnership.ResourceRegistered
	var pos uint64
	feed := func(e domain.Event) {
		pos++
		if err := v.Apply(domain.Message{Recorded: domain.Recorded{Position: pos}, Event: e}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 6 {
		r := partnership.ResourceRegistered{PartnershipID: pids[i%2], ResourceID: uuid.New(), OwnerSchoolID: owner, Kind: "minibus", Name: "Bus"}
		resources = append(resources, r)
		feed(r)
	}
	base := time.Date(2024, 9, 1, 9, 0, 0, 0, time.UTC)
	for range 300 {
		r := resources[rng.IntN(len(resources))]
		l := started{pid: r.PartnershipID, id: uuid.New(), res: r.ResourceID, start: base.AddDate(0, 0, rng.IntN(600))}
		keys := partnership.LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, LoanID: l.id, OwnerSchoolID: owner, BorrowerSchoolID: borrower}
		feed(partnership.LoanRequested{LoanKeys: keys, Start: l.start, End: l.start.Add(time.Hour)})
		if rng.IntN(3) == 0 {
			// Approved for another day: the loan moves in the register.
			l.start = l.start.AddDate(0, 0, rng.IntN(200)-100)
			feed(partnership.LoanApproved{LoanKeys: keys, Start: l.start, End: l.start.Add(time.Hour)})
		}
		loans = append(loans, l)
	}
	back := readBack(t, v, NewResources())
	// A state read back builds no index to count a period's loans: the
	// period's loans are picked and sorted, in the same order.
	cold := readBack(t, v, NewResources())
	for _, pid := range pids {
		for _, y := range []string{"", "2024-25", "2025-26"} {
			p := periodOf(y)
			var got []uuid.UUID
			for _, k := range cold.keysIn(pid, p) {
				got = append(got, k.id)
			}
			if want := ruleOrder(loans, pid, p); !slices.Equal(got, want) {
				t.Errorf("read back, no index, period %q: %d loans not in the rule's order (want %d)", y, len(got), len(want))
			}
			if got, want := cold.CountsIn(pid, p, base), v.CountsIn(pid, p, base); !slices.Equal(got, want) {
				t.Errorf("read back, no index, period %q: counts %v, live %v", y, got, want)
			}
		}
	}
	if cold.state.indexed() != nil {
		t.Error("counting a period's loans built the index of a state read back")
	}
	// Each loan is found by its id: its resource, and in its own
	// partnership's register only.
	for _, l := range loans {
		other := pids[0]
		if other == l.pid {
			other = pids[1]
		}
		for name, view := range map[string]*Resources{"live": v, "read back": back} {
			if res, ok := view.ResourceOfLoan(l.id); !ok || res != l.res {
				t.Fatalf("%s: loan %s is of resource %s (%v), want %s", name, l.id, res, ok, l.res)
			}
			if e, ok := view.LoanIn(l.pid, l.id, base); !ok || e.LoanID != l.id || !e.Start.Equal(l.start) {
				t.Fatalf("%s: loan %s in its partnership: %+v (%v), want it starting %s", name, l.id, e, ok, l.start)
			}
			if _, ok := view.LoanIn(other, l.id, base); ok {
				t.Fatalf("%s: loan %s found in another partnership's register", name, l.id)
			}
		}
	}
	if _, ok := v.LoanIn(pids[0], uuid.New(), base); ok {
		t.Fatal("an unknown loan was found")
	}
	year, err := YearPeriod("2025-26")
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		for _, p := range []Period{{}, year} {
			want := ruleOrder(loans, pid, p)
			for name, view := range map[string]*Resources{"live": v, "read back": back} {
				var got []uuid.UUID
				for from := 0; ; from += 7 {
					page, total := view.RegisterPage(pid, p, base, from, 7)
					if total != len(want) {
						t.Fatalf("%s, period %q: total %d, want %d", name, p.Year, total, len(want))
					}
					if len(page) == 0 {
						break
					}
					for _, e := range page {
						got = append(got, e.LoanID)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s, period %q: pages list %d loans not in the rule's order (want %d)", name, p.Year, len(got), len(want))
				}
			}
		}
	}
}

// TestCPDEventsOfAPeriodFollowTheRule: over random CPD events of two
// partnerships, the events of a period are the partnership's events
// starting in it, by start then id (the rule, computed here from the
// events organised), in the live view and in one read back from its
// saved state.
func TestCPDEventsOfAPeriodFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	v := NewCPD()
	pids := []uuid.UUID{uuid.New(), uuid.New()}
	var all []started
	base := time.Date(2024, 8, 20, 9, 0, 0, 0, time.UTC)
	for i := range 200 {
		o := started{pid: pids[rng.IntN(2)], id: uuid.New(), start: base.AddDate(0, 0, rng.IntN(700))}
		if i%10 == 0 && len(all) > 0 {
			o.start = all[rng.IntN(len(all))].start // same start: ordered by id
		}
		e := partnership.CPDEventOrganised{PartnershipID: o.pid, CPDID: o.id, OrganiserSchoolID: uuid.New(), Kind: partnership.TeachMeet,
			Title: "TeachMeet", StartsAt: o.start, EndsAt: o.start.Add(time.Hour), AcademicYear: partnership.AcademicYearOf(o.start), Places: 10}
		if err := v.Apply(domain.Message{Recorded: domain.Recorded{Position: uint64(i + 1)}, Event: e}); err != nil {
			t.Fatal(err)
		}
		all = append(all, o)
	}
	back := readBack(t, v, NewCPD())
	year, err := YearPeriod("2025-26")
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		for _, p := range []Period{{}, year, periodOf("not a year")} {
			want := ruleOrder(all, pid, p)
			for name, view := range map[string]*CPD{"live": v, "read back": back} {
				var got []uuid.UUID
				for _, e := range view.EventsIn(pid, p) {
					got = append(got, e.ID)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s, period %q: %d events not in the rule's order (want %d)", name, p.Year, len(got), len(want))
				}
			}
		}
	}
}
