package views

import (
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
)

// cpdBook is one academic year's book of changes to its sums: for each
// change to one of the year's CPD events, in position order, what it
// added to the year's totals and to each school's part. The year's sums
// as of a position are the entries up to it added up (sumsAt), whatever
// the position: a reading in the past reads no CPD event.
//
// An entry is flat (no pointers: the collector does not scan a book), one
// per school whose part the change moved.
type cpdBook struct {
	schools []uuid.UUID
	index   map[uuid.UUID]uint32
	// events are the CPD events the entries are of, by the index
	// eventIndex gives.
	events     []uuid.UUID
	eventIndex map[uuid.UUID]uint32
	entries    []cpdEntry
}

func newCPDBook() *cpdBook {
	return &cpdBook{index: map[uuid.UUID]uint32{}, eventIndex: map[uuid.UUID]uint32{}}
}

// cpdEntry is what one change added to one school's part (and, through
// it, to the totals: a school's part of an event's totals is exactly its
// share of them), and to the totals' events and full price.
type cpdEntry struct {
	pos           uint64
	school, event uint32
	// present counts the reasons the school has a part: organising an
	// event, and each booking not cancelled. A school is in the sums when
	// its count is above zero, as sumCPD lists it.
	events, present, offered, booked, attended int32
	full, paid, savings                        int64
}

// cpdPart is one school's part of one CPD event's sums (cpdPartsOf).
type cpdPart struct {
	school                             uuid.UUID
	present, offered, booked, attended int32
	paid, savings, full                int64
}

// cpdPartsOf appends to parts each school's part of CPD event c's sums, as
// sumCPD adds them up (none for a nil c); the first part is the
// organiser's.
func cpdPartsOf(c *partnership.CPDEvent, parts []cpdPart) []cpdPart {
	if c == nil {
		return parts
	}
	at := func(school uuid.UUID) *cpdPart {
		for i := range parts {
			if parts[i].school == school {
				return &parts[i]
			}
		}
		parts = append(parts, cpdPart{school: school})
		return &parts[len(parts)-1]
	}
	o := at(c.OrganiserSchoolID)
	o.present++
	o.offered += int32(c.Places)
	for _, b := range c.Bookings {
		if b.Cancelled {
			continue
		}
		p := at(b.SchoolID)
		p.present++
		p.booked += int32(b.Places)
		if b.Recorded {
			p.attended += int32(b.Attended)
		}
	}
	c.EachCost(func(id uuid.UUID, cost partnership.CPDCost) {
		p := at(id)
		p.paid += cost.PaidPence
		p.savings += cost.SavingsPence
		p.full += cost.FullPence
	})
	return parts
}

// change books the change at position pos that took a CPD event from was
// (nil before it was organised) to now. When only bookings changed and the
// bulk discount did not, it books the parts of the bookings that changed;
// otherwise every school's part of the event, before and after.
func (b *cpdBook) change(pos uint64, was, now *partnership.CPDEvent) {
	if was == nil || !sameTerms(was, now) || len(now.Bookings) < len(was.Bookings) || was.DiscountApplies() != now.DiscountApplies() {
		b.parts(pos, was, now)
		return
	}
	discount := now.DiscountApplies()
	for i, bk := range now.Bookings {
		var d cpdPart
		if i < len(was.Bookings) {
			if was.Bookings[i] == bk {
				continue
			}
			d = bookingPart(was.Bookings[i], was, discount)
		}
		b.one(pos, now.ID, bk.SchoolID, bookingPart(bk, now, discount).minus(d), 0)
	}
}

// sameTerms reports whether a and b have the same organiser, places,
// price and discount terms.
func sameTerms(a, b *partnership.CPDEvent) bool {
	return a.OrganiserSchoolID == b.OrganiserSchoolID && a.Places == b.Places && a.CostPerPlacePence == b.CostPerPlacePence &&
		a.BulkMinPlaces == b.BulkMinPlaces && a.BulkPercentOff == b.BulkPercentOff
}

// bookingPart is booking bk's part of CPD event c's sums (its school's,
// less the organiser's places), as cpdPartsOf counts it, the bulk
// discount applying or not.
func bookingPart(bk partnership.Booking, c *partnership.CPDEvent, discount bool) cpdPart {
	if bk.Cancelled {
		return cpdPart{}
	}
	cost := c.BookingCost(bk, discount)
	p := cpdPart{present: 1, booked: int32(bk.Places), full: cost.FullPence, paid: cost.PaidPence, savings: cost.SavingsPence}
	if bk.Recorded {
		p.attended = int32(bk.Attended)
	}
	return p
}

// add adds what entry e booked to p.
func (p *cpdPart) add(e cpdEntry) {
	p.present += e.present
	p.offered += e.offered
	p.booked += e.booked
	p.attended += e.attended
	p.full += e.full
	p.paid += e.paid
	p.savings += e.savings
}

// minus returns p less o (field by field; the school is p's).
func (p cpdPart) minus(o cpdPart) cpdPart {
	return cpdPart{school: p.school, present: p.present - o.present, offered: p.offered - o.offered, booked: p.booked - o.booked,
		attended: p.attended - o.attended, paid: p.paid - o.paid, savings: p.savings - o.savings, full: p.full - o.full}
}

// parts books every school's part of the event before (was, nil for
// none) and after the change.
func (b *cpdBook) parts(pos uint64, was, now *partnership.CPDEvent) {
	b.diff(pos, now.ID, cpdPartsOf(was, nil), cpdPartsOf(now, nil))
}

// diff books the change at pos that took CPD event ev's parts from before
// to after.
func (b *cpdBook) diff(pos uint64, ev uuid.UUID, before, after []cpdPart) {
	events := int32(0)
	if len(before) == 0 && len(after) > 0 {
		events = 1
	}
	for _, n := range after {
		d := n
		for _, w := range before {
			if w.school == n.school {
				d = n.minus(w)
			}
		}
		b.one(pos, ev, n.school, d, events)
		events = 0
	}
	for _, w := range before {
		if !slices.ContainsFunc(after, func(n cpdPart) bool { return n.school == w.school }) {
			b.one(pos, ev, w.school, cpdPart{}.minus(w), 0)
		}
	}
}

// one books d, what a change at pos to CPD event ev added to school's
// part, and events, what it added to the count of events; nothing when
// both are nothing.
func (b *cpdBook) one(pos uint64, ev, school uuid.UUID, d cpdPart, events int32) {
	d.school = uuid.Nil
	if events == 0 && d == (cpdPart{}) {
		return
	}
	i, ok := b.index[school]
	if !ok {
		i = uint32(len(b.schools))
		b.schools = append(b.schools, school)
		b.index[school] = i
	}
	e, ok := b.eventIndex[ev]
	if !ok {
		e = uint32(len(b.events))
		b.events = append(b.events, ev)
		b.eventIndex[ev] = e
	}
	b.entries = append(b.entries, cpdEntry{pos: pos, school: i, event: e, events: events, present: d.present, offered: d.offered,
		booked: d.booked, attended: d.attended, full: d.full, paid: d.paid, savings: d.savings})
}

// eventsAt adds up, for each CPD event, the entries of its changes up to
// position at: its take-up and costs then (the school left empty), by
// the event's index in the book (an event with no part then, present 0,
// was not organised by then).
func (b *cpdBook) eventsAt(at uint64) *[]cpdPart {
	n := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].pos > at })
	buf := cpdParts.get() // zeroed up to its capacity
	acc := slices.Grow((*buf)[:0], len(b.events))[:len(b.events)]
	for _, e := range b.entries[:n] {
		acc[e.event].add(e)
	}
	*buf = acc
	return buf
}

// cpdParts keep the take-up and costs a lens worked out for a year's
// events between readings (CPD.Release).
var cpdParts scratch[cpdPart]

// sumsAt adds up the entries up to position at.
func (b *cpdBook) sumsAt(at uint64) *cpdSums {
	n := sort.Search(len(b.entries), func(i int) bool { return b.entries[i].pos > at })
	acc := make([]cpdPart, len(b.schools))
	out := &cpdSums{schools: map[uuid.UUID]CPDSchool{}}
	t := &out.totals
	for _, e := range b.entries[:n] {
		acc[e.school].add(e)
		t.Events += int(e.events)
		t.FullPence += e.full
	}
	for i, a := range acc {
		if a.present <= 0 {
			continue
		}
		out.schools[b.schools[i]] = CPDSchool{Offered: int(a.offered), Booked: int(a.booked), Attended: int(a.attended),
			PaidPence: a.paid, SavingsPence: a.savings}
		t.Offered += int(a.offered)
		t.Booked += int(a.booked)
		t.Attended += int(a.attended)
		t.PaidPence += a.paid
		t.SavingsPence += a.savings
	}
	return out
}

// bookSums returns year k's sums as of position at from its book, built
// from the live view's rows when first asked (under the rows' read lock,
// so that the live view's changes meanwhile are in it, or added to it
// once it is kept, never both: see cpdState.applyRow).
func (l *cpdLive) bookSums(k cpdYear, at uint64) *cpdSums {
	var out *cpdSums
	l.withBook(k, func(b *cpdBook) { out = b.sumsAt(at) })
	return out
}

// eventSum returns CPD event id's take-up and costs as eventsAt gives them
// for year k's book at the position of the state l stands for (worked out
// once for that state, for every event of the year); false when the event
// had no part then.
func (l *cpdLive) eventSum(k cpdYear, at uint64, id uuid.UUID) (cpdPart, bool) {
	l.foldedMu.Lock()
	kept, ok := l.events[k]
	l.foldedMu.Unlock()
	var parts []cpdPart
	if ok {
		parts = *kept
	}
	var i uint32
	var found bool
	l.withBook(k, func(b *cpdBook) {
		if !ok {
			kept = b.eventsAt(at)
			parts = *kept
		}
		i, found = b.eventIndex[id]
	})
	if !ok {
		l.foldedMu.Lock()
		if l.events == nil {
			l.events = map[cpdYear]*[]cpdPart{}
		}
		l.events[k] = kept
		l.foldedMu.Unlock()
	}
	if !found || int(i) >= len(parts) || parts[i].present <= 0 {
		return cpdPart{}, false
	}
	return parts[i], true
}

// withBook calls fn with year k's book, under the lock the live view
// changes books under; the book is built from the live view's rows when
// first asked (under the rows' read lock, so that the live view's changes
// meanwhile are in it, or added to it once it is kept, never both: see
// cpdState.applyRow).
func (l *cpdLive) withBook(k cpdYear, fn func(*cpdBook)) {
	l.sumsMu.Lock()
	if b := l.books[k]; b != nil {
		defer l.sumsMu.Unlock()
		fn(b)
		return
	}
	l.sumsMu.Unlock()
	l.rowsMu.RLock()
	defer l.rowsMu.RUnlock()
	built := bookOf(l.rows, k)
	l.sumsMu.Lock()
	defer l.sumsMu.Unlock()
	if l.books[k] == nil {
		l.books[k] = built
	}
	fn(l.books[k])
}

// foldBooking folds row r's changes into a new CPD event, which it
// returns, booking each change from its organisation on in the book
// bookOf gives for the event (then organised). It folds in place, and
// books a change to one booking, the terms and the bulk discount staying
// as they were, from that booking before and after; any other change from
// every school's part before (the event put back as it was for a moment)
// and after.
func foldBooking(r *cpdRow, bookOf func(*partnership.CPDEvent) *cpdBook) *partnership.CPDEvent {
	c := partnership.NewCPDEvent()
	var b *cpdBook
	for _, ch := range r.Changes {
		idx := -1
		switch {
		case ch.Booked != nil:
			idx = len(c.Bookings)
		case ch.Cancelled != nil:
			idx = *ch.Cancelled
		case ch.Attended != nil:
			idx = ch.Attended[0]
		}
		var before partnership.Booking
		had := idx >= 0 && idx < len(c.Bookings)
		if had {
			before = c.Bookings[idx]
		}
		n0, terms0, d0, organised0 := len(c.Bookings), termsOf(c), c.DiscountApplies(), c.Organised()
		ch.apply(c)
		if !c.Organised() {
			continue
		}
		if b == nil {
			b = bookOf(c)
		}
		d1 := c.DiscountApplies()
		if organised0 && ch.Organised == nil && termsOf(c) == terms0 && d0 == d1 && len(c.Bookings) >= n0 && len(c.Bookings) <= n0+1 {
			if idx >= 0 && idx < len(c.Bookings) {
				var was cpdPart
				if had {
					was = bookingPart(before, c, d0)
				}
				bk := c.Bookings[idx]
				b.one(ch.P, c.ID, bk.SchoolID, bookingPart(bk, c, d1).minus(was), 0)
			}
			continue
		}
		// Every part, before and after: the event as it was, for a moment.
		var wasParts []cpdPart
		if organised0 {
			terms1, now := termsOf(c), c.Bookings
			setTerms(c, terms0)
			if had {
				c.Bookings = slices.Clone(now[:max(n0, idx+1)])
				c.Bookings[idx] = before
			}
			c.Bookings = c.Bookings[:n0]
			wasParts = cpdPartsOf(c, nil)
			setTerms(c, terms1)
			c.Bookings = now
		}
		b.diff(ch.P, c.ID, wasParts, cpdPartsOf(c, nil))
	}
	return c
}

// cpdTerms are the fields of a CPD event its parts are worked out from,
// besides its bookings.
type cpdTerms struct {
	organiser                uuid.UUID
	places, bulkMin, bulkOff int
	costPerPlace             int64
}

func termsOf(c *partnership.CPDEvent) cpdTerms {
	return cpdTerms{c.OrganiserSchoolID, c.Places, c.BulkMinPlaces, c.BulkPercentOff, c.CostPerPlacePence}
}

func setTerms(c *partnership.CPDEvent, t cpdTerms) {
	c.OrganiserSchoolID, c.Places, c.BulkMinPlaces, c.BulkPercentOff, c.CostPerPlacePence = t.organiser, t.places, t.bulkMin, t.bulkOff, t.costPerPlace
}

// sortEntries puts the book's entries in position order (entries of one
// position are one change's, in any order: they add).
func (b *cpdBook) sortEntries() {
	slices.SortFunc(b.entries, func(x, y cpdEntry) int { return cmpU64(x.pos, y.pos) })
}

// bookOf builds year k's book from the changes of its CPD events in rows.
func bookOf(rows map[uuid.UUID]*cpdRow, k cpdYear) *cpdBook {
	// The year's events (those starting in it, as AcademicYearOf says:
	// from 1 September in UTC), and room for an entry per change.
	from, err := partnership.AcademicYearStart(k.year)
	to := from.AddDate(1, 0, 0)
	inYear := func(t time.Time) bool {
		if err != nil {
			return partnership.AcademicYearOf(t) == k.year
		}
		t = t.UTC()
		return !t.Before(from) && t.Before(to)
	}
	var mine []*cpdRow
	changes := 0
	for _, r := range rows {
		if c := r.cur; c != nil && c.Organised() && c.PartnershipID == k.pid && inYear(c.StartsAt) {
			mine = append(mine, r)
			changes += len(r.Changes)
		}
	}
	b := newCPDBook()
	b.entries = make([]cpdEntry, 0, changes+changes/8)
	for _, r := range mine {
		foldBooking(r, func(*partnership.CPDEvent) *cpdBook { return b })
	}
	b.sortEntries()
	return b
}
