package views

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
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
	owner, borrowers := uuid.New(), []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	v, feed, pids, resources := registered(t, 6, func(int) uuid.UUID { return owner })
	borrowerOf := map[uuid.UUID]uuid.UUID{}
	var loans []started
	base := time.Date(2024, 9, 1, 9, 0, 0, 0, time.UTC)
	for range 300 {
		r := resources[rng.IntN(len(resources))]
		l := started{pid: r.PartnershipID, id: uuid.New(), res: r.ResourceID, start: base.AddDate(0, 0, rng.IntN(600))}
		borrower := borrowers[rng.IntN(len(borrowers))]
		borrowerOf[l.id] = borrower
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
	// The state read back, asked for a period once, then folded on (as
	// the engine folds a reading's state up to the position asked for),
	// picks the period's loans again: a loan requested since is in it.
	more := partnership.LoanKeys{PartnershipID: pids[0], ResourceID: resources[0].ResourceID, LoanID: uuid.New(), OwnerSchoolID: owner, BorrowerSchoolID: borrowers[0]}
	l := started{pid: pids[0], id: more.LoanID, res: more.ResourceID, start: base.AddDate(0, 1, 0)}
	withMore := append(slices.Clone(loans), l)
	later := domain.Message{Recorded: domain.Recorded{Position: 1 << 20}, Event: partnership.LoanRequested{LoanKeys: more, Start: l.start, End: l.start.Add(time.Hour)}}
	if err := cold.Apply(later); err != nil {
		t.Fatal(err)
	}
	for _, y := range []string{"", "2024-25"} {
		var got []uuid.UUID
		for _, k := range cold.keysIn(pids[0], periodOf(y)) {
			got = append(got, k.id)
		}
		if want := ruleOrder(withMore, pids[0], periodOf(y)); !slices.Equal(got, want) {
			t.Errorf("read back, folded on, period %q: %d loans, want %d in the rule's order", y, len(got), len(want))
		}
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
				got := pagedIDs(t, 7, len(want), func(from, n int) ([]LoanEntry, int) { return view.RegisterPage(pid, p, base, from, n) })
				if !slices.Equal(got, want) {
					t.Errorf("%s, period %q: pages list %d loans not in the rule's order (want %d)", name, p.Year, len(got), len(want))
				}
				// Pages of one borrower's loans (as a school's page shows
				// them): the rule's order, other borrowers' loans left out.
				var mine []uuid.UUID
				for _, id := range want {
					if borrowerOf[id] == borrowers[0] {
						mine = append(mine, id)
					}
				}
				keep := func(o, b uuid.UUID) bool { return o == owner && b == borrowers[0] }
				got = pagedIDs(t, 5, len(mine), func(from, n int) ([]LoanEntry, int) {
					return view.RegisterPageOf(pid, p.Year, base, from, n, keep)
				})
				if len(mine) == 0 || !slices.Equal(got, mine) {
					t.Errorf("%s, period %q, one borrower: pages list %d loans, want %d in the rule's order", name, p.Year, len(got), len(mine))
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
		// In pages, the same events in the same order, each page telling
		// how many there are in all.
		for _, label := range []string{"", "2025-26", "not a year"} {
			want := ruleOrder(all, pid, periodOf(label))
			for name, view := range map[string]*CPD{"live": v, "read back": back} {
				for _, size := range []int{1, 7, 100} {
					got := inPages(t, size, len(want), func(from, n int) ([]CPDEventInfo, int) { return view.EventsPage(pid, label, from, n) },
						func(e CPDEventInfo) uuid.UUID { return e.ID })
					if !slices.Equal(got, want) {
						t.Errorf("%s, year %q, pages of %d: %d events not in the rule's order (want %d)", name, label, size, len(got), len(want))
					}
				}
			}
		}
	}
}

// TestOverdueLoansFollowTheRule: over random loans of resources in two
// partnerships, each requested, then perhaps approved, collected,
// returned, declined or cancelled, at random days the overdue loans are
// the partnership's loans collected and not returned whose window has
// ended (the rule, worked out here from the events fed), by end then
// loan id: in the live view (whose loan index tracks collected loans), in
// one read back (no index: every loan looked at) and in one read back
// whose index was then built from its state.
func TestOverdueLoansFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 13))
	owner, borrower := uuid.New(), uuid.New()
	v, feed, pids, resources := registered(t, 6, func(int) uuid.UUID { return owner })
	type loan struct {
		pid, id   uuid.UUID
		end       time.Time
		collected bool // collected and not returned
	}
	var loans []*loan
	base := time.Date(2024, 9, 1, 9, 0, 0, 0, time.UTC)
	for range 400 {
		r := resources[rng.IntN(len(resources))]
		start := base.AddDate(0, 0, rng.IntN(300))
		l := &loan{pid: r.PartnershipID, id: uuid.New(), end: start.Add(time.Duration(1+rng.IntN(48)) * time.Hour)}
		keys := partnership.LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, LoanID: l.id, OwnerSchoolID: owner, BorrowerSchoolID: borrower}
		feed(partnership.LoanRequested{LoanKeys: keys, Start: start, End: l.end})
		switch rng.IntN(4) {
		case 0:
			feed(partnership.LoanDeclined{LoanKeys: keys})
		case 1:
			feed(partnership.LoanApproved{LoanKeys: keys, Start: start, End: l.end})
			feed(partnership.LoanCancelled{LoanKeys: keys, WasStatus: partnership.LoanApprovedStatus})
		default:
			feed(partnership.LoanApproved{LoanKeys: keys, Start: start, End: l.end})
			feed(partnership.LoanCollected{LoanKeys: keys, CollectedAt: start})
			l.collected = true
			if rng.IntN(2) == 0 {
				feed(partnership.LoanReturned{LoanKeys: keys, ReturnedAt: l.end, Condition: partnership.ConditionGood})
				l.collected = false
			}
		}
		loans = append(loans, l)
	}
	cold := readBack(t, v, NewResources())
	built := readBack(t, v, NewResources())
	built.state.index()
	// A state restored as the live one builds its index when first
	// needed (here by the first list of overdue loans).
	live := readBack(t, v, NewResources())
	live.Live()
	// The index tracks exactly the loans out: a returned loan leaves it.
	out := 0
	for _, l := range loans {
		if l.collected {
			out++
		}
	}
	for name, view := range map[string]*Resources{"live": v, "read back, indexed": built} {
		if n := len(view.state.indexed().collected); n != out {
			t.Errorf("%s: the index tracks %d loans as collected, %d are", name, n, out)
		}
	}
	for range 20 {
		now := base.AddDate(0, 0, rng.IntN(320))
		for _, pid := range pids {
			var want []*loan
			for _, l := range loans {
				if l.pid == pid && l.collected && !now.Before(l.end) {
					want = append(want, l)
				}
			}
			slices.SortFunc(want, func(a, b *loan) int { return cmp.Or(a.end.Compare(b.end), uuidCmp(a.id, b.id)) })
			var wantIDs []uuid.UUID
			for _, l := range want {
				wantIDs = append(wantIDs, l.id)
			}
			if len(wantIDs) == 0 && now.After(base.AddDate(0, 0, 30)) {
				t.Fatalf("no loan overdue on %s: the test has nothing to check", now)
			}
			for name, view := range map[string]*Resources{"live": v, "read back": cold, "read back, indexed": built, "restored live": live} {
				var got []uuid.UUID
				for _, e := range view.Overdue(pid, now) {
					if e.Status != "overdue" {
						t.Errorf("%s: loan %s listed overdue reads %q", name, e.LoanID, e.Status)
					}
					got = append(got, e.LoanID)
				}
				if !slices.Equal(got, wantIDs) {
					t.Errorf("%s, %s: %d overdue loans, want %d by the rule", name, now.Format(time.DateOnly), len(got), len(wantIDs))
				}
			}
		}
	}
	if cold.state.indexed() != nil {
		t.Error("listing overdue loans built the index of a state read back")
	}
	if x := live.state.indexed(); x == nil || len(x.collected) != out {
		t.Error("listing overdue loans did not build the index of the state restored live")
	}
}

// TestUtilisationFollowsTheRule: over random loans (windows of minutes to
// days, some moved on approval, some declined, cancelled, collected,
// returned early or late) of resources owned by several schools in two
// partnerships, a period's utilisation is, per resource and per school,
// the time each loan held its resource within the period (the rule,
// worked out here: an approved or collected loan holds its window, a
// returned one until the end of its window or its return if earlier, a
// declined or cancelled one nothing), and the loans returned in the
// period are counted by condition and lateness, in the live view (read
// through its loan index), in one read back (every loan read) and in one
// restored as the live one (its index built when first needed).
func TestUtilisationFollowsTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 19))
	schools := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	v, feed, pids, resources := registered(t, 8, func(i int) uuid.UUID { return schools[i%3] })
	type loan struct {
		pid, res, owner, borrower uuid.UUID
		start, end                time.Time // the window it holds, if it holds
		holds                     bool
		returned                  time.Time // when returned (zero: not)
		condition                 partnership.Condition
		late                      bool
	}
	var loans []loan
	base := time.Date(2024, 8, 1, 9, 0, 0, 0, time.UTC)
	for range 500 {
		r := resources[rng.IntN(len(resources))]
		start := base.Add(time.Duration(rng.IntN(700*24*60)) * time.Minute)
		window := time.Duration(10+rng.IntN(60*24*(1+rng.IntN(4)))) * time.Minute
		l := loan{pid: r.PartnershipID, res: r.ResourceID, owner: r.OwnerSchoolID, borrower: schools[rng.IntN(len(schools))], start: start, end: start.Add(window)}
		keys := partnership.LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, LoanID: uuid.New(), OwnerSchoolID: r.OwnerSchoolID, BorrowerSchoolID: l.borrower}
		feed(partnership.LoanRequested{LoanKeys: keys, Start: l.start, End: l.end})
		switch rng.IntN(6) {
		case 0:
			feed(partnership.LoanDeclined{LoanKeys: keys})
		case 1:
			feed(partnership.LoanApproved{LoanKeys: keys, Start: l.start, End: l.end})
			feed(partnership.LoanCancelled{LoanKeys: keys, WasStatus: partnership.LoanApprovedStatus})
		case 2:
			// Approved for another window (longer, and earlier).
			l.start = l.start.Add(-time.Duration(rng.IntN(3*24*60)) * time.Minute)
			l.end = l.end.Add(time.Duration(rng.IntN(2*24*60)) * time.Minute)
			feed(partnership.LoanApproved{LoanKeys: keys, Start: l.start, End: l.end})
			l.holds = true
		default:
			feed(partnership.LoanApproved{LoanKeys: keys, Start: l.start, End: l.end})
			feed(partnership.LoanCollected{LoanKeys: keys, CollectedAt: l.start})
			l.holds = true
			if rng.IntN(2) == 0 {
				back := l.start.Add(time.Duration(rng.IntN(int(2*window/time.Minute))) * time.Minute)
				cond := []partnership.Condition{partnership.ConditionGood, partnership.ConditionFair, partnership.ConditionDamaged}[rng.IntN(3)]
				feed(partnership.LoanReturned{LoanKeys: keys, ReturnedAt: back, Condition: cond})
				l.returned, l.condition, l.late = back, cond, back.After(l.end)
				if back.Before(l.end) {
					l.end = back
				}
				l.holds = l.start.Before(l.end)
			}
		}
		loans = append(loans, l)
	}
	// A loan starting half an hour before the end of 2024-25 counts that
	// half hour in that year (and in its last week), and the rest in the
	// next.
	{
		r := resources[0]
		l := loan{pid: r.PartnershipID, res: r.ResourceID, owner: r.OwnerSchoolID, borrower: schools[1],
			start: time.Date(2025, 8, 31, 23, 30, 0, 0, time.UTC), end: time.Date(2025, 9, 1, 1, 30, 0, 0, time.UTC), holds: true}
		keys := partnership.LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, LoanID: uuid.New(), OwnerSchoolID: r.OwnerSchoolID, BorrowerSchoolID: l.borrower}
		feed(partnership.LoanRequested{LoanKeys: keys, Start: l.start, End: l.end})
		feed(partnership.LoanApproved{LoanKeys: keys, Start: l.start, End: l.end})
		loans = append(loans, l)
	}
	// A loan returned at midnight on 1 September 2025, late: returned in
	// 2025-26, not in 2024-25.
	{
		r := resources[0]
		l := loan{pid: r.PartnershipID, res: r.ResourceID, owner: r.OwnerSchoolID, borrower: schools[2],
			start: time.Date(2025, 8, 29, 9, 0, 0, 0, time.UTC), end: time.Date(2025, 8, 29, 17, 0, 0, 0, time.UTC), holds: true,
			returned: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), condition: partnership.ConditionDamaged, late: true}
		keys := partnership.LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, LoanID: uuid.New(), OwnerSchoolID: r.OwnerSchoolID, BorrowerSchoolID: l.borrower}
		feed(partnership.LoanRequested{LoanKeys: keys, Start: l.start, End: l.end})
		feed(partnership.LoanApproved{LoanKeys: keys, Start: l.start, End: l.end})
		feed(partnership.LoanCollected{LoanKeys: keys, CollectedAt: l.start})
		feed(partnership.LoanReturned{LoanKeys: keys, ReturnedAt: l.returned, Condition: l.condition, Note: "Seat torn."})
		loans = append(loans, l)
	}
	cold := readBack(t, v, NewResources())
	live := readBack(t, v, NewResources())
	live.Live()
	y1, _ := YearPeriod("2024-25")
	y2, _ := YearPeriod("2025-26")
	lastWeek := Period{From: time.Date(2025, 8, 25, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 8, 31, 0, 0, 0, 0, time.UTC)}
	for _, p := range []Period{{}, y1, y2, {From: base.AddDate(0, 3, 0), To: base.AddDate(0, 3, 9)}, lastWeek} {
		from, to := p.window()
		for _, pid := range pids {
			res := map[uuid.UUID]time.Duration{}
			borrowed, lent := map[uuid.UUID]time.Duration{}, map[uuid.UUID]time.Duration{}
			for _, l := range loans {
				if l.pid != pid || !l.holds {
					continue
				}
				if d := overlap(l.start, l.end, from, to); d > 0 {
					res[l.res] += d
					borrowed[l.borrower] += d
					lent[l.owner] += d
				}
			}
			for name, view := range map[string]*Resources{"live": v, "read back": cold, "restored live": live} {
				u := view.UtilisationIn(pid, p)
				var total float64
				for _, ru := range u.Resources {
					if want := res[ru.Resource.ID].Hours(); ru.Hours != want {
						t.Errorf("%s, %v–%v: %s held %v h, want %v", name, p.From, p.To, ru.Resource.Name, ru.Hours, want)
					}
					total += ru.Hours
				}
				if u.TotalHours != total || (len(res) > 0) != (total > 0) {
					t.Errorf("%s: total %v h, the resources' %v", name, u.TotalHours, total)
				}
				for _, s := range u.Schools {
					if s.HoursBorrowed != borrowed[s.School.ID].Hours() || s.HoursLent != lent[s.School.ID].Hours() {
						t.Errorf("%s: school %s borrowed %v h and lent %v h, want %v and %v", name, s.School.ID, s.HoursBorrowed, s.HoursLent,
							borrowed[s.School.ID].Hours(), lent[s.School.ID].Hours())
					}
				}
				if n := len(u.Schools); n != len(union(borrowed, lent)) {
					t.Errorf("%s: %d schools listed, %d used or lent", name, n, len(union(borrowed, lent)))
				}
				// Loans returned in the period, by condition, and how
				// many of them late.
				want := []ConditionCount{{Condition: "good"}, {Condition: "fair"}, {Condition: "damaged"}}
				for _, l := range loans {
					if l.pid != pid || l.returned.IsZero() || l.returned.Before(from) || !l.returned.Before(to) {
						continue
					}
					for i := range want {
						if want[i].Condition == string(l.condition) {
							want[i].Count++
							if l.late {
								want[i].Late++
							}
						}
					}
				}
				if got := view.ReturnedByCondition(pid, p); !slices.Equal(got, want) {
					t.Errorf("%s, %v–%v: returned %v, want %v", name, p.From, p.To, got, want)
				}
			}
		}
	}
	if cold.state.indexed() != nil {
		t.Error("utilisation built the index of a state read back")
	}
	if live.state.indexed() == nil {
		t.Error("utilisation did not build the index of the state restored live")
	}
}

func union[V any](a, b map[uuid.UUID]V) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// registered returns a resources view fed, at increasing positions, by
// its feed function, and n resources registered in it, alternately in
// two partnerships (pids), resource i owned by owner(i), named "Bus i"
// and valued at 100+i pence an hour.
func registered(t *testing.T, n int, owner func(i int) uuid.UUID) (v *Resources, feed func(domain.Event), pids []uuid.UUID, resources []partnership.ResourceRegistered) {
	t.Helper()
	v = NewResources()
	feed = feeder(t, v)
	pids = []uuid.UUID{uuid.New(), uuid.New()}
	for i := range n {
		r := partnership.ResourceRegistered{PartnershipID: pids[i%2], ResourceID: uuid.New(), OwnerSchoolID: owner(i), Kind: "minibus",
			Name: fmt.Sprint("Bus ", i), HourlyValuePence: int64(100 + i)}
		resources = append(resources, r)
		feed(r)
	}
	return v, feed, pids, resources
}

// pagedIDs reads a register in pages of size through page (the entries
// from an index and how many there are in all) until a page is empty,
// checking each page's total is total, and returns the loans' ids.
func pagedIDs(t *testing.T, size, total int, page func(from, n int) ([]LoanEntry, int)) []uuid.UUID {
	t.Helper()
	return inPages(t, size, total, page, func(e LoanEntry) uuid.UUID { return e.LoanID })
}

// inPages reads a list in pages of size through page (the entries from an
// index and how many there are in all) until a page is empty, checking
// each page's total is total, and returns the id of every entry.
func inPages[E any](t *testing.T, size, total int, page func(from, n int) ([]E, int), id func(E) uuid.UUID) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for from := 0; ; from += size {
		entries, n := page(from, size)
		if n != total {
			t.Fatalf("pages of %d from %d: total %d, want %d", size, from, n, total)
		}
		if len(entries) == 0 {
			return ids
		}
		for _, e := range entries {
			ids = append(ids, id(e))
		}
	}
}

// feeder returns a function applying events to p at increasing positions.
func feeder(t *testing.T, p projections.Projection) func(domain.Event) {
	var pos uint64
	return func(e domain.Event) {
		t.Helper()
		pos++
		if err := p.Apply(domain.Message{Recorded: domain.Recorded{Position: pos}, Event: e}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLiveUtilisationIsWorkedOutAfterEachEvent: the live state keeps its
// utilisation answers until its next event. Fed the same random loans
// as a state that works every answer out, after each event it answers
// every partnership's utilisation over all time, each academic year and
// a week as that state does, though the answers it gave before were
// changed by their callers.
func TestLiveUtilisationIsWorkedOutAfterEachEvent(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 29))
	schools := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	live, feedLive, pids, resources := registered(t, 6, func(i int) uuid.UUID { return schools[i%3] })
	live.Live()
	fresh := NewResources()
	feedFresh := feeder(t, fresh)
	for _, r := range resources {
		feedFresh(r)
	}
	feed := func(e domain.Event) { feedLive(e); feedFresh(e) }
	week, err := NewPeriod(time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	periods := []Period{{}, periodOf("2024-25"), periodOf("2025-26"), week}
	check := func(step int) {
		for _, pid := range pids {
			for _, p := range periods {
				want := fresh.UtilisationIn(pid, p)
				for read := range 2 {
					got := live.UtilisationIn(pid, p)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("step %d, %v, read %d: the live state answers %+v, want %+v", step, p, read, got, want)
					}
					// A caller changing its answer changes no later one.
					for i := range got.Resources {
						got.Resources[i].Hours = -1
					}
					for i := range got.Schools {
						got.Schools[i].HoursLent = -1
					}
				}
			}
		}
	}
	base := time.Date(2024, 9, 2, 9, 0, 0, 0, time.UTC)
	for step := range 150 {
		r := resources[rng.IntN(len(resources))]
		start := base.Add(time.Duration(rng.IntN(600*24)) * time.Hour)
		end := start.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
		keys := partnership.LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, LoanID: uuid.New(), OwnerSchoolID: r.OwnerSchoolID, BorrowerSchoolID: schools[rng.IntN(3)]}
		feed(partnership.LoanRequested{LoanKeys: keys, Start: start, End: end})
		check(step)
		feed(partnership.LoanApproved{LoanKeys: keys, Start: start, End: end})
		check(step)
		if rng.IntN(2) == 0 {
			feed(partnership.LoanCollected{LoanKeys: keys, CollectedAt: start})
			feed(partnership.LoanReturned{LoanKeys: keys, ReturnedAt: start.Add(end.Sub(start) / 2), Condition: partnership.ConditionGood})
			check(step)
		}
	}
}
