package views

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
)

// loanBooks are a resources view's books of its loans, for each
// partnership and academic year, in position order:
//   - utilisation: what each change to a loan added to the time it held
//     its resource within the year;
//   - statuses (statusBook): what each change added to the count of the
//     loans starting in the year in each status, and the spans of
//     positions in which each was collected, with its end (to tell the
//     overdue ones on a day);
//   - returns (returnBook): each loan returned in the year, its condition
//     and whether it came back late.
//
// A year's utilisation, counts or returns as of a position are the
// entries up to it added up, whatever the position: a reading in the past
// reads no loan for them.
//
// A view folded from zero keeps its books from its first event; a view
// read back builds them from its rows the first time a state in the past
// is looked up in it (ensure), and keeps them from then on. States in the
// past read the books of the view they were looked up in while it goes on
// folding events, hence the lock. The books assume, as the loan index
// does, that a resource's partnership and owner and a loan's borrower
// never change.
type loanBooks struct {
	mu sync.Mutex
	// ready is set while the books hold every change the view folded.
	ready    bool
	books    map[loanYear]*utilBook
	statuses map[loanYear]*statusBook
	returns  map[loanYear]*returnBook
	// open is, for each loan collected and not yet back, its span in its
	// year's statusBook.
	open map[uuid.UUID]spanRef
}

// statusBook is one partnership's book of the statuses of the loans
// starting in one academic year.
type statusBook struct {
	entries []statusEntry
	// spans are the spans of positions in which loans were collected, by
	// their first position.
	spans []collectedSpan
}

// statusEntry is what one change added (d) to the count of loans in a
// status (an index into loanStatuses).
type statusEntry struct {
	pos       uint64
	status, d int8
}

// collectedSpan is a loan collected from position from until position to
// (excluded; the largest position while it is out), due back at end
// (Unix nanoseconds).
type collectedSpan struct {
	from, to uint64
	end      int64
	loan     uuid.UUID
}

type spanRef struct {
	year loanYear
	i    int
}

// returnBook is one partnership's book of the loans returned in one
// academic year.
type returnBook struct{ entries []returnEntry }

// returnEntry is what a change at position pos added (d) to the count of
// loans returned in condition (an index into returnConditions), late or
// not.
type returnEntry struct {
	pos          uint64
	condition, d int8
	late         bool
}

// loanStatuses are the statuses a loan is recorded in, as CountsIn lists
// them (overdue is collected, and due back by the day asked about).
var loanStatuses = [...]partnership.LoanStatus{partnership.LoanRequestedStatus, partnership.LoanApprovedStatus, partnership.LoanCollectedStatus,
	partnership.LoanReturnedStatus, partnership.LoanDeclinedStatus, partnership.LoanCancelledStatus}

// returnConditions are the conditions ReturnedByCondition counts.
var returnConditions = [...]partnership.Condition{partnership.ConditionGood, partnership.ConditionFair, partnership.ConditionDamaged}

// loanYear is a book's partnership and academic year (its first calendar
// year: the year runs from 1 September of it, in UTC).
type loanYear struct {
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

// utilYearWindow returns the instants of academic year start: from
// 1 September of it to 1 September of the next, in UTC, as the period of
// the year (YearPeriod) holds them.
func utilYearWindow(start int) (from, to time.Time) {
	return partnership.AcademicYearBegins(start), partnership.AcademicYearBegins(start + 1)
}

// yearOfWindow returns the academic year whose instants are exactly
// [from, to), if there is one.
func yearOfWindow(from, to time.Time) (int, bool) {
	y := partnership.AcademicStartYear(from)
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
	return partnership.AcademicStartYear(a), partnership.AcademicStartYear(b.Add(-time.Nanosecond))
}

// loan books the change at pos that took a loan of resource r (of its
// partnership, registered) from before (nil for none) to after.
func (x *loanBooks) loan(pos uint64, r *partnership.Resource, before, after *partnership.Loan) {
	x.status(pos, r.PartnershipID, before, after)
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
			x.book(loanYear{r.PartnershipID, y}).add(pos, r, after.BorrowerSchoolID, d)
		}
	}
}

// status books the change at pos that took a loan of partnership pid
// from before (nil for none) to after: its status counted in the year of
// its start, its time out collected, and its return. A change the domain
// refuses (a returned loan changed again, say) is booked as the view
// folds it: the loan as it was taken out, as it is put in.
func (x *loanBooks) status(pos uint64, pid uuid.UUID, before, after *partnership.Loan) {
	k1 := loanYear{pid, partnership.AcademicStartYear(after.Start)}
	s1 := int8(slices.Index(loanStatuses[:], after.Status))
	var k0 loanYear
	s0 := int8(-1)
	if before != nil {
		k0, s0 = loanYear{pid, partnership.AcademicStartYear(before.Start)}, int8(slices.Index(loanStatuses[:], before.Status))
	}
	if k0 != k1 || s0 != s1 {
		if s0 >= 0 {
			x.statusBook(k0).entries = append(x.statusBook(k0).entries, statusEntry{pos: pos, status: s0, d: -1})
		}
		if s1 >= 0 {
			x.statusBook(k1).entries = append(x.statusBook(k1).entries, statusEntry{pos: pos, status: s1, d: 1})
		}
	}
	was := before != nil && before.Status == partnership.LoanCollectedStatus
	is := after.Status == partnership.LoanCollectedStatus
	moved := was && is && (k0 != k1 || !before.End.Equal(after.End))
	if was && (!is || moved) {
		if ref, ok := x.open[before.ID]; ok {
			x.statuses[ref.year].spans[ref.i].to = pos
			delete(x.open, before.ID)
		}
	}
	if is && (!was || moved) {
		b := x.statusBook(k1)
		b.spans = append(b.spans, collectedSpan{from: pos, to: math.MaxUint64, end: unixNanos(after.End), loan: after.ID})
		if x.open == nil {
			x.open = map[uuid.UUID]spanRef{}
		}
		x.open[after.ID] = spanRef{k1, len(b.spans) - 1}
	}
	r0, ok0 := returnOf(pid, before)
	r1, ok1 := returnOf(pid, after)
	if ok0 && ok1 && r0 == r1 {
		return
	}
	if ok0 {
		x.returnBook(r0.year).entries = append(x.returnBook(r0.year).entries, returnEntry{pos: pos, condition: r0.condition, late: r0.late, d: -1})
	}
	if ok1 {
		x.returnBook(r1.year).entries = append(x.returnBook(r1.year).entries, returnEntry{pos: pos, condition: r1.condition, late: r1.late, d: 1})
	}
}

// loanReturned is how a returned loan is counted: in the year of its
// return, by its condition, late or not.
type loanReturned struct {
	year      loanYear
	condition int8
	late      bool
}

// returnOf returns how loan l (nil for none) of partnership pid is
// counted among the returns, if it is.
func returnOf(pid uuid.UUID, l *partnership.Loan) (loanReturned, bool) {
	if l == nil || l.Status != partnership.LoanReturnedStatus {
		return loanReturned{}, false
	}
	c := int8(slices.Index(returnConditions[:], l.Condition))
	return loanReturned{loanYear{pid, partnership.AcademicStartYear(l.ReturnedAt)}, c, l.ReturnedAt.After(l.End)}, c >= 0
}

// bookOfYear returns the book of year k in books, a new one (fresh) if it
// has none.
func bookOfYear[B any](books *map[loanYear]*B, k loanYear, fresh func() *B) *B {
	b := (*books)[k]
	if b == nil {
		b = fresh()
		if *books == nil {
			*books = map[loanYear]*B{}
		}
		(*books)[k] = b
	}
	return b
}

// returnBook returns the return book of year k, a new one if it has
// none.
func (x *loanBooks) returnBook(k loanYear) *returnBook {
	return bookOfYear(&x.returns, k, func() *returnBook { return &returnBook{} })
}

// statusBook returns the status book of year k, a new one if it has
// none.
func (x *loanBooks) statusBook(k loanYear) *statusBook {
	return bookOfYear(&x.statuses, k, func() *statusBook { return &statusBook{} })
}

// book returns the book of year k, a new one if it has none.
func (x *loanBooks) book(k loanYear) *utilBook {
	return bookOfYear(&x.books, k, func() *utilBook {
		return &utilBook{resIndex: map[uuid.UUID]uint32{}, schoolIndex: map[uuid.UUID]uint32{}}
	})
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
func (x *loanBooks) changed(pos uint64, r *partnership.Resource, slot int, before *partnership.Loan) {
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
func (x *loanBooks) registered(pos uint64, r *partnership.Resource) {
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
func (x *loanBooks) ensure(rows map[uuid.UUID]*resourceRow, resources map[uuid.UUID]*partnership.Resource) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ready {
		return
	}
	x.books, x.statuses, x.returns, x.open = nil, nil, nil, nil
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
	for _, b := range x.statuses {
		slices.SortStableFunc(b.entries, func(p, q statusEntry) int { return cmpU64(p.pos, q.pos) })
		slices.SortStableFunc(b.spans, func(p, q collectedSpan) int { return cmpU64(p.from, q.from) })
	}
	for _, b := range x.returns {
		slices.SortStableFunc(b.entries, func(p, q returnEntry) int { return cmpU64(p.pos, q.pos) })
	}
	// The spans still open, found by their loans from now on, moved.
	for k, b := range x.statuses {
		for i, sp := range b.spans {
			if sp.to == math.MaxUint64 {
				x.open[sp.loan] = spanRef{k, i}
			}
		}
	}
	x.ready = true
}

// utilSums are a year's utilisation added up: the time each resource
// asked about was held (in the order asked), and borrowed and lent by
// school (those with some time only).
type utilSums struct {
	held     []time.Duration
	bySchool map[uuid.UUID]*utilUse
}

// utilUse is the time a school borrowed and lent resources.
type utilUse struct{ borrowed, lent time.Duration }

// at adds up year k's entries up to position pos, the time held for each
// of resources.
func (x *loanBooks) at(k loanYear, pos uint64, resources []*partnership.Resource) utilSums {
	out := utilSums{held: make([]time.Duration, len(resources)), bySchool: map[uuid.UUID]*utilUse{}}
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
	for i, r := range resources {
		if j, ok := b.resIndex[r.ID]; ok {
			out.held[i] = held[j]
		}
	}
	for i := range use {
		if u := use[i]; u.borrowed > 0 || u.lent > 0 {
			out.bySchool[b.schools[i]] = &u
		}
	}
	return out
}

// countsAt returns the count of partnership pid's loans starting in
// academic year y in each status (by loanStatuses) as of position pos,
// and how many of the collected ones were overdue on day now.
func (x *loanBooks) countsAt(k loanYear, pos uint64, now time.Time) (n [len(loanStatuses)]int, overdue int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.statuses[k]
	if b == nil {
		return n, 0
	}
	for _, e := range b.entries[:sort.Search(len(b.entries), func(i int) bool { return b.entries[i].pos > pos })] {
		n[e.status] += int(e.d)
	}
	due := unixNanos(now)
	for _, sp := range b.spans[:sort.Search(len(b.spans), func(i int) bool { return b.spans[i].from > pos })] {
		if sp.to > pos && sp.end <= due {
			overdue++
		}
	}
	return n, overdue
}

// returnsAt returns, as of position pos, the loans of partnership pid
// returned in academic year y by condition (returnConditions), and the
// late ones.
func (x *loanBooks) returnsAt(k loanYear, pos uint64) (n, late [len(returnConditions)]int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	b := x.returns[k]
	if b == nil {
		return n, late
	}
	for _, e := range b.entries {
		if e.pos > pos {
			break
		}
		n[e.condition] += int(e.d)
		if e.late {
			late[e.condition] += int(e.d)
		}
	}
	return n, late
}
