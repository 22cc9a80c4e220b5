package views

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
)

// utilBooks are a resources view's books of utilisation: for each
// partnership and academic year, what each change to one of its loans
// added to the time the loan held its resource within the year, in
// position order. A year's utilisation as of a position is the entries up
// to it added up (at), whatever the position: a reading in the past reads
// no loan for it.
//
// A view folded from zero keeps its books from its first event; a view
// read back builds them from its rows the first time a state in the past
// is looked up in it (ensure), and keeps them from then on. States in the
// past read the books of the view they were looked up in while it goes on
// folding events, hence the lock. The books assume, as the loan index
// does, that a resource's partnership and owner and a loan's borrower
// never change.
type utilBooks struct {
	mu sync.Mutex
	// ready is set while the books hold every change the view folded.
	ready bool
	books map[utilYear]*utilBook
}

// utilYear is a book's partnership and academic year (its first calendar
// year: the year runs from 1 September of it, in UTC).
type utilYear struct {
	pid   uuid.UUID
	start int
}

// utilBook is one partnership's book of one academic year. Its entries
// are flat (no pointers: the collector does not scan a book).
type utilBook struct {
	resources []uuid.UUID
	resIndex  map[uuid.UUID]uint32
	// owner is each resource's owning school, by index into schools.
	owner       []uint32
	schools     []uuid.UUID
	schoolIndex map[uuid.UUID]uint32
	entries     []utilEntry
}

// utilEntry is what one change to a loan added to the time it held its
// resource (res) in the year, lent by the resource's owner to borrower.
type utilEntry struct {
	pos           uint64
	d             time.Duration
	res, borrower uint32
}

// utilYearOf returns the academic year instant t falls in.
func utilYearOf(t time.Time) int {
	t = t.UTC()
	if t.Month() < time.September {
		return t.Year() - 1
	}
	return t.Year()
}

// utilYearWindow returns the instants of academic year start: from
// 1 September of it to 1 September of the next, in UTC, as the period of
// the year (YearPeriod) holds them.
func utilYearWindow(start int) (from, to time.Time) {
	return time.Date(start, time.September, 1, 0, 0, 0, 0, time.UTC), time.Date(start+1, time.September, 1, 0, 0, 0, 0, time.UTC)
}

// yearOfWindow returns the academic year whose instants are exactly
// [from, to), if there is one.
func yearOfWindow(from, to time.Time) (int, bool) {
	y := utilYearOf(from)
	a, b := utilYearWindow(y)
	return y, a.Equal(from) && b.Equal(to)
}

// heldYears returns the academic years loan l (nil for none) holds its
// resource in, first and last (last < first for none).
func heldYears(l *partnership.Loan) (first, last int) {
	if l == nil {
		return 0, -1
	}
	a, b, ok := l.Held()
	if !ok || !a.Before(b) {
		return 0, -1
	}
	return utilYearOf(a), utilYearOf(b.Add(-time.Nanosecond))
}

// loan books the change at pos that took a loan of resource r (of its
// partnership, registered) from before (nil for none) to after.
func (x *utilBooks) loan(pos uint64, r *partnership.Resource, before, after *partnership.Loan) {
	f0, l0 := heldYears(before)
	f1, l1 := heldYears(after)
	if l0 < f0 && l1 < f1 {
		return
	}
	first, last := f1, l1
	if l1 < f1 {
		first, last = f0, l0
	} else if l0 >= f0 {
		first, last = min(f0, f1), max(l0, l1)
	}
	for y := first; y <= last; y++ {
		from, to := utilYearWindow(y)
		var d time.Duration
		if after != nil {
			d = after.HeldIn(from, to)
		}
		if before != nil {
			d -= before.HeldIn(from, to)
		}
		if d != 0 {
			x.book(utilYear{r.PartnershipID, y}).add(pos, r, after.BorrowerSchoolID, d)
		}
	}
}

// book returns the book of year k, a new one if it has none.
func (x *utilBooks) book(k utilYear) *utilBook {
	b := x.books[k]
	if b == nil {
		b = &utilBook{resIndex: map[uuid.UUID]uint32{}, schoolIndex: map[uuid.UUID]uint32{}}
		if x.books == nil {
			x.books = map[utilYear]*utilBook{}
		}
		x.books[k] = b
	}
	return b
}

// school returns the index of school id in the book, adding it.
func (b *utilBook) school(id uuid.UUID) uint32 {
	i, ok := b.schoolIndex[id]
	if !ok {
		i = uint32(len(b.schools))
		b.schools = append(b.schools, id)
		b.schoolIndex[id] = i
	}
	return i
}

// add books d, what the change at pos added to the time a loan of r to
// borrower held it.
func (b *utilBook) add(pos uint64, r *partnership.Resource, borrower uuid.UUID, d time.Duration) {
	i, ok := b.resIndex[r.ID]
	if !ok {
		i = uint32(len(b.resources))
		b.resources = append(b.resources, r.ID)
		b.resIndex[r.ID] = i
		b.owner = append(b.owner, b.school(r.OwnerSchoolID))
	}
	b.entries = append(b.entries, utilEntry{pos: pos, d: d, res: i, borrower: b.school(borrower)})
}

// changed books, when the books are kept, the change at pos that took
// the loan at slot of resource r from before (nil for a request) to what
// it is now; a resource not registered books nothing (its loans are
// booked at its registration: registered).
func (x *utilBooks) changed(pos uint64, r *partnership.Resource, slot int, before *partnership.Loan) {
	if x == nil || !r.Registered() {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ready {
		x.loan(pos, r, before, &r.LoanList[slot])
	}
}

// registered books, when the books are kept, the loans of resource r,
// registered at pos, as they stand (asked for before it was registered,
// which the domain refuses, but a view folds what the ledger holds).
func (x *utilBooks) registered(pos uint64, r *partnership.Resource) {
	if x == nil || len(r.LoanList) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ready {
		for i := range r.LoanList {
			x.loan(pos, r, nil, &r.LoanList[i])
		}
	}
}

// ensure builds the books from the view's rows and resources if they are
// not kept yet; the view does not fold meanwhile (At runs under the
// engine's read lock, Apply under its write lock).
func (x *utilBooks) ensure(rows map[uuid.UUID]*resourceRow, resources map[uuid.UUID]*partnership.Resource) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ready {
		return
	}
	x.books = nil
	for id, row := range rows {
		r := resources[id]
		if r == nil || !r.Registered() {
			continue
		}
		var registeredAt uint64
		for _, ch := range row.Changes {
			if ch.Registered != nil {
				registeredAt = ch.P
				break
			}
		}
		for _, lcs := range row.Loans {
			if len(lcs) == 0 || lcs[0].Requested == nil {
				continue
			}
			l := lcs[0].Requested.loan()
			x.loan(max(lcs[0].P, registeredAt), r, nil, &l)
			for _, ch := range lcs[1:] {
				if ch.Requested != nil {
					continue
				}
				before := l
				l.Fold(ch.event())
				x.loan(max(ch.P, registeredAt), r, &before, &l)
			}
		}
	}
	for _, b := range x.books {
		slices.SortStableFunc(b.entries, func(p, q utilEntry) int { return cmpU64(p.pos, q.pos) })
	}
	x.ready = true
}

// utilSums are a year's utilisation added up: time held by resource, and
// borrowed and lent by school (those with some time only).
type utilSums struct {
	held     map[uuid.UUID]time.Duration
	bySchool map[uuid.UUID]*utilUse
}

// utilUse is the time a school borrowed and lent resources.
type utilUse struct{ borrowed, lent time.Duration }

// at adds up year k's entries up to position pos.
func (x *utilBooks) at(k utilYear, pos uint64) utilSums {
	out := utilSums{held: map[uuid.UUID]time.Duration{}, bySchool: map[uuid.UUID]*utilUse{}}
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.books[k]
	if b == nil {
		return out
	}
	n := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].pos > pos })
	held := make([]time.Duration, len(b.resources))
	use := make([]utilUse, len(b.schools))
	for _, e := range b.entries[:n] {
		held[e.res] += e.d
		use[e.borrower].borrowed += e.d
		use[b.owner[e.res]].lent += e.d
	}
	for i, d := range held {
		if d > 0 {
			out.held[b.resources[i]] = d
		}
	}
	for i := range use {
		if u := use[i]; u.borrowed > 0 || u.lent > 0 {
			out.bySchool[b.schools[i]] = &u
		}
	}
	return out
}
