package views

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
)

// utilModel is the rule of utilisation, kept beside a random ledger: an
// approved or collected loan holds its resource for its window, a
// returned one until the end of its window or its return if earlier, a
// requested, declined or cancelled one not at all; only the loans of a
// registered resource count, for the resource's partnership, lent by its
// owner.
type utilModel struct {
	registered map[uuid.UUID]partnership.ResourceRegistered
	loans      []*utilModelLoan
}

type utilModelLoan struct {
	res, borrower uuid.UUID
	holds         bool
	from, to      time.Time // held
	// The loan's window, status, and return.
	status     partnership.LoanStatus
	start, end time.Time
	returned   time.Time
	condition  partnership.Condition
}

// counts returns, by the rule, the count of partnership pid's loans
// starting in [from, to) in each status on day now, in CountsIn's order
// (a collected loan due back by now is overdue), and the loans returned
// in [from, to) by condition (good, fair, damaged), and the late ones
// (returned after the end of their window).
func (m *utilModel) counts(pid uuid.UUID, from, to, now time.Time) (statuses map[partnership.LoanStatus]int, returned, late [3]int) {
	statuses = map[partnership.LoanStatus]int{}
	for _, l := range m.loans {
		if r, ok := m.registered[l.res]; !ok || r.PartnershipID != pid {
			continue
		}
		if !l.start.Before(from) && l.start.Before(to) {
			s := l.status
			if s == partnership.LoanCollectedStatus && !now.Before(l.end) {
				s = partnership.LoanOverdue
			}
			statuses[s]++
		}
		if l.status == partnership.LoanReturnedStatus && !l.returned.Before(from) && l.returned.Before(to) {
			i := slices.Index([]partnership.Condition{partnership.ConditionGood, partnership.ConditionFair, partnership.ConditionDamaged}, l.condition)
			returned[i]++
			if l.returned.After(l.end) {
				late[i]++
			}
		}
	}
	return statuses, returned, late
}

// overlap returns how long [a, b) and [from, to) overlap (0 for not at
// all): the time a loan holding its resource from a to b holds it in the
// period from to to.
func overlap(a, b, from, to time.Time) time.Duration {
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if a.Before(b) {
		return b.Sub(a)
	}
	return 0
}

// utilWant is a period's utilisation by the rule.
type utilWant struct {
	held             map[uuid.UUID]time.Duration
	borrowed, lent   map[uuid.UUID]time.Duration
	resources, total int
}

func (m *utilModel) want(pid uuid.UUID, from, to time.Time) utilWant {
	w := utilWant{held: map[uuid.UUID]time.Duration{}, borrowed: map[uuid.UUID]time.Duration{}, lent: map[uuid.UUID]time.Duration{}}
	for _, r := range m.registered {
		if r.PartnershipID == pid {
			w.resources++
		}
	}
	for _, l := range m.loans {
		r, ok := m.registered[l.res]
		if !ok || r.PartnershipID != pid || !l.holds {
			continue
		}
		if d := overlap(l.from, l.to, from, to); d > 0 {
			w.held[l.res] += d
			w.borrowed[l.borrower] += d
			w.lent[r.OwnerSchoolID] += d
		}
	}
	return w
}

// TestLoansInThePastFollowTheRule: over a random ledger of loans
// (windows of minutes to a year and more, many across the first of
// September, some moved on approval, declined, cancelled, returned early
// or late in any condition, some asked of a resource before its
// registration) in two partnerships, a state looked up as of a position
// gives, for each academic year and for other periods, the utilisation,
// the loans by status on a day (overdue: collected and due back by then)
// and the returns by condition the rule gives for the loans as they were
// at that position. The state is looked up in a
// view folded from zero (which keeps its books as it folds), in one read
// back and then folded on (its books built at the first look-up, kept as
// it folds from then on), and in one read back after it folded on (built
// at the first look-up).
func TestLoansInThePastFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 43))
	pids := []uuid.UUID{uuid.New(), uuid.New()}
	schools := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	model := &utilModel{registered: map[uuid.UUID]partnership.ResourceRegistered{}}
	type loan struct {
		keys     partnership.LoanKeys
		status   partnership.LoanStatus
		from, to time.Time
		m        *utilModelLoan
	}
	var msgs []domain.Message
	var pending []partnership.ResourceRegistered // announced by a loan, registered later
	var resources []partnership.ResourceRegistered
	var loans []*loan
	emit := func(e domain.Event) { msgs = append(msgs, messageAt(len(msgs), "", e)) }
	register := func(r partnership.ResourceRegistered) {
		emit(r)
		model.registered[r.ResourceID] = r
		resources = append(resources, r)
	}
	newResource := func() partnership.ResourceRegistered {
		return partnership.ResourceRegistered{PartnershipID: pids[rng.IntN(2)], ResourceID: uuid.New(), OwnerSchoolID: schools[rng.IntN(len(schools))],
			Kind: "minibus", Name: fmt.Sprint("Bus ", len(resources)+len(pending)), HourlyValuePence: 120}
	}
	// Windows start around the first of September of 2025 and 2026, or
	// anywhere in three years.
	start := func() time.Time {
		if rng.IntN(2) == 0 {
			edge := time.Date(2025+rng.IntN(2), 9, 1, 0, 0, 0, 0, time.UTC)
			return edge.Add(time.Duration(rng.IntN(20*24*60)-10*24*60) * time.Minute)
		}
		return time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(3*365*24)) * time.Hour)
	}
	window := func() time.Duration {
		switch rng.IntN(10) {
		case 0:
			return time.Duration(200+rng.IntN(400)) * 24 * time.Hour
		case 1, 2:
			return time.Duration(1+rng.IntN(12*24)) * time.Hour
		}
		return time.Duration(10+rng.IntN(8*60)) * time.Minute
	}
	// ask asks for a loan of r.
	ask := func(r partnership.ResourceRegistered) {
		l := &loan{keys: partnership.LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ResourceID, LoanID: uuid.New(),
			OwnerSchoolID: r.OwnerSchoolID, BorrowerSchoolID: schools[rng.IntN(len(schools))]}, status: partnership.LoanRequestedStatus}
		l.from = start()
		l.to = l.from.Add(window())
		l.m = &utilModelLoan{res: r.ResourceID, borrower: l.keys.BorrowerSchoolID, status: partnership.LoanRequestedStatus, start: l.from, end: l.to}
		loans, model.loans = append(loans, l), append(model.loans, l.m)
		emit(partnership.LoanRequested{LoanKeys: l.keys, Start: l.from, End: l.to})
	}
	snapshots := map[uint64]*utilModel{}
	for len(msgs) < 2500 {
		switch k := rng.IntN(20); {
		case k == 0 || len(resources) == 0:
			register(newResource())
		case k == 1 && len(pending) > 0:
			register(pending[0])
			pending = pending[1:]
		case k == 2 && len(pending) < 2:
			// A loan asked of a resource not yet registered.
			r := newResource()
			pending = append(pending, r)
			ask(r)
		case k <= 9 || len(loans) == 0:
			ask(resources[rng.IntN(len(resources))])
		default:
			l := loans[rng.IntN(len(loans))]
			switch l.status {
			case partnership.LoanRequestedStatus:
				switch rng.IntN(5) {
				case 0:
					emit(partnership.LoanDeclined{LoanKeys: l.keys})
					l.status, l.m.status = partnership.LoanDeclinedStatus, partnership.LoanDeclinedStatus
				default:
					if rng.IntN(3) == 0 { // approved for another window
						l.from = l.from.Add(-time.Duration(rng.IntN(3*24*60)) * time.Minute)
						l.to = l.to.Add(time.Duration(rng.IntN(3*24*60)) * time.Minute)
					}
					emit(partnership.LoanApproved{LoanKeys: l.keys, Start: l.from, End: l.to})
					l.status, l.m.status, l.m.start, l.m.end = partnership.LoanApprovedStatus, partnership.LoanApprovedStatus, l.from, l.to
					l.m.holds, l.m.from, l.m.to = true, l.from, l.to
				}
			case partnership.LoanApprovedStatus:
				if rng.IntN(4) == 0 {
					emit(partnership.LoanCancelled{LoanKeys: l.keys, WasStatus: partnership.LoanApprovedStatus})
					l.status, l.m.status = partnership.LoanCancelledStatus, partnership.LoanCancelledStatus
					l.m.holds = false
				} else {
					emit(partnership.LoanCollected{LoanKeys: l.keys, CollectedAt: l.from})
					l.status, l.m.status = partnership.LoanCollectedStatus, partnership.LoanCollectedStatus
				}
			case partnership.LoanCollectedStatus:
				back := l.from.Add(time.Duration(rng.Int64N(int64(2*l.to.Sub(l.from)) + 1)))
				cond := []partnership.Condition{partnership.ConditionGood, partnership.ConditionFair, partnership.ConditionDamaged}[rng.IntN(3)]
				emit(partnership.LoanReturned{LoanKeys: l.keys, ReturnedAt: back, Condition: cond})
				l.status, l.m.status, l.m.returned, l.m.condition = partnership.LoanReturnedStatus, partnership.LoanReturnedStatus, back, cond
				if back.Before(l.m.to) {
					l.m.to = back
				}
				l.m.holds = l.m.from.Before(l.m.to)
			}
		}
		if pos := uint64(len(msgs)); rng.IntN(60) == 0 || pos%1000 == 0 {
			snap := &utilModel{registered: map[uuid.UUID]partnership.ResourceRegistered{}}
			for id, r := range model.registered {
				snap.registered[id] = r
			}
			for _, l := range model.loans {
				c := *l
				snap.loans = append(snap.loans, &c)
			}
			snapshots[pos] = snap
		}
	}
	if len(pending) == len(model.loans) {
		t.Fatal("the ledger registers no resource announced by a loan")
	}

	foldTo := func(v *Resources, from, to int) {
		for _, m := range msgs[from:to] {
			if err := v.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	readBack := func(v *Resources) *Resources {
		b, err := v.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		out := NewResources()
		if err := out.UnmarshalState(b); err != nil {
			t.Fatal(err)
		}
		out.Live()
		return out
	}
	half := len(msgs) / 2
	fromZero := NewResources()
	fromZero.Live()
	foldTo(fromZero, 0, len(msgs))
	keptOn := NewResources()
	foldTo(keptOn, 0, half)
	keptOn = readBack(keptOn)
	keptOn.At(uint64(half / 2)) // builds its books
	foldTo(keptOn, half, len(msgs))
	builtLate := NewResources()
	foldTo(builtLate, 0, half)
	builtLate = readBack(builtLate)
	foldTo(builtLate, half, len(msgs))

	var periods []Period
	for _, y := range []string{"2023-24", "2024-25", "2025-26", "2026-27", "2027-28"} {
		p, err := YearPeriod(y)
		if err != nil {
			t.Fatal(err)
		}
		periods = append(periods, p)
	}
	periods = append(periods, Period{}, Period{From: time.Date(2025, 8, 20, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 9, 10, 0, 0, 0, 0, time.UTC)})
	checked := 0
	for pos, snap := range snapshots {
		for name, v := range map[string]*Resources{"folded from zero": fromZero, "read back, then folded on": keptOn, "read back after folding on": builtLate} {
			past := v.At(pos).(*Resources)
			for _, p := range periods {
				from, to := p.window()
				for _, pid := range pids {
					w := snap.want(pid, from, to)
					u := past.UtilisationIn(pid, p)
					at := fmt.Sprintf("%s, as of %d, %s %v–%v", name, pos, p.Year, p.From.Format(time.DateOnly), p.To.Format(time.DateOnly))
					if len(u.Resources) != w.resources {
						t.Fatalf("%s: %d resources, want %d", at, len(u.Resources), w.resources)
					}
					for _, ru := range u.Resources {
						if want := w.held[ru.Resource.ID].Hours(); ru.Hours != want {
							t.Fatalf("%s: %s held %v h, want %v", at, ru.Resource.Name, ru.Hours, want)
						}
					}
					schools := 0
					for id := range w.borrowed {
						if w.borrowed[id] > 0 || w.lent[id] > 0 {
							schools++
						}
					}
					for id := range w.lent {
						if _, ok := w.borrowed[id]; !ok && w.lent[id] > 0 {
							schools++
						}
					}
					if len(u.Schools) != schools {
						t.Fatalf("%s: %d schools, want %d", at, len(u.Schools), schools)
					}
					for _, s := range u.Schools {
						if s.HoursBorrowed != w.borrowed[s.School.ID].Hours() || s.HoursLent != w.lent[s.School.ID].Hours() {
							t.Fatalf("%s: school %s borrowed %v h and lent %v h, want %v and %v", at, s.School.ID, s.HoursBorrowed, s.HoursLent,
								w.borrowed[s.School.ID].Hours(), w.lent[s.School.ID].Hours())
						}
					}
					if len(w.held) > 0 {
						checked++
					}
					// The loans starting in the period by status, on a day
					// before most loans end and on one after, and the
					// returns.
					days := []time.Time{time.Date(2025, 9, 3, 12, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
					for _, l := range snap.loans {
						if l.status == partnership.LoanCollectedStatus {
							days = append(days, l.end) // due back that instant: overdue
							break
						}
					}
					for _, now := range days {
						statuses, returned, late := snap.counts(pid, from, to, now)
						for _, c := range past.CountsIn(pid, p, now) {
							if c.Count != statuses[partnership.LoanStatus(c.Status)] {
								t.Fatalf("%s, on %s: %d loans %s, want %d", at, now.Format(time.DateOnly), c.Count, c.Status, statuses[partnership.LoanStatus(c.Status)])
							}
							delete(statuses, partnership.LoanStatus(c.Status))
						}
						if len(statuses) > 0 {
							t.Fatalf("%s: statuses not counted: %v", at, statuses)
						}
						for i, c := range past.ReturnedByCondition(pid, p) {
							if c.Count != returned[i] || c.Late != late[i] {
								t.Fatalf("%s: returned %s %d (%d late), want %d (%d late)", at, c.Condition, c.Count, c.Late, returned[i], late[i])
							}
						}
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d readings had a loan holding a resource", checked)
	}
}
