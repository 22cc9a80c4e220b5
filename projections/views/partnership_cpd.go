package views

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewCPD() }) }

// CPD is the "cpd" view: shared CPD, TeachMeets, shadowing, trips and
// events, the places offered, booked and attended per school, and what
// they cost and saved.
//
// It is versioned (projections.Versioned): each CPD event is kept with
// its own changes and their positions, so its state as of a past position
// is looked up (At) rather than folded from a snapshot: a CPD event that
// has not changed since is shared as it is, and one that has is folded
// from its own few changes.
type CPD struct{ stateView[cpdState] }

type cpdState struct {
	// Rows are the CPD events, each with its changes.
	Rows map[uuid.UUID]*cpdRow `json:"rows"`
	// Schools are the schools' names with the positions they were given
	// at; Names the names they give now (not saved).
	Schools schoolNames      `json:"schools"`
	Names   partnershipNames `json:"-"`
	// byStart indexes each partnership's events by start, then id (an
	// event's start is set when it is organised and never changes), so a
	// year's events are found without reading ten years'. Not saved:
	// rebuilt when a state is read.
	byStart map[uuid.UUID][]cpdKey
	// sums caches what BySchool and Totals add up of a partnership's
	// events starting in one academic year, so that ten years are read as
	// ten sums rather than tens of thousands of events. Apply drops a
	// year's sums when one of its events changes; readers fill them. Not
	// saved.
	sums   map[cpdYear]*cpdSums
	sumsMu *sync.Mutex // readers share a view
	// lastChange is, for each year whose sums are kept, the position of
	// the last change to one of its events (under sumsMu). A state in
	// the past reads a year's sums from the live view when no event of
	// that year has changed since its position. Not saved: worked out
	// when a state is read.
	lastChange map[cpdYear]uint64
	// books are, for each academic year, what each change of its events
	// added to the year's sums (cpdBook), under rowsMu and sumsMu. The
	// live view folding from zero (booked) makes a year's book at its
	// first change; one read back from a checkpoint builds it from the
	// rows when a reading in the past first needs it. Apply keeps the
	// books there are up to date. Not saved.
	books  map[cpdYear]*cpdBook
	booked bool
	// rowsMu guards Rows against a state in the past (At), which reads
	// the live view's rows after the engine's lock is released: the live
	// view holds it while it changes Rows.
	rowsMu *sync.RWMutex
	// past marks a state looked up in the past (At): it shares rows
	// with the live view, so it appends to none of their lists in place.
	past bool
	// live is, in a state looked up in the past until it is saved or
	// folded further, the live view's state whose rows up to at stand
	// for Rows (see event and settle): a reading looks up only the rows
	// it reads instead of copying tens of thousands.
	live *cpdLive
	at   uint64
	// lensed marks a lens (CPD.Lens): a state in the past that also
	// reads the live view's byStart, in place, under the engine's lock.
	lensed bool
}

// cpdLive is what a state in the past reads of the live view: its rows
// and the sums it keeps, each map with its lock.
type cpdLive struct {
	rows       map[uuid.UUID]*cpdRow
	rowsMu     *sync.RWMutex
	sums       map[cpdYear]*cpdSums
	lastChange map[cpdYear]uint64
	books      map[cpdYear]*cpdBook
	sumsMu     *sync.Mutex
	// folded keeps the events this state folded from their changes (the
	// rows changed since its position), so that a reading that reads a
	// year's events twice (its sums, then its list) folds each once.
	foldedMu sync.Mutex
	folded   map[uuid.UUID]*partnership.CPDEvent
	// events keeps, by year, each CPD event's take-up and costs at this
	// state's position from the year's book (eventSum), under foldedMu.
	events map[cpdYear]*[]cpdPart
}

// cpdYear names a partnership's academic year.
type cpdYear struct {
	pid  uuid.UUID
	year string
}

// cpdSums are the sums of some CPD events: the totals and each school's
// part (its Ref left for the reader to fill, names being able to change).
type cpdSums struct {
	totals  CPDTotals
	schools map[uuid.UUID]CPDSchool
}

// cpdKey is a CPD event's place in its partnership's index, and the
// position it was organised at (filed).
type cpdKey struct {
	start time.Time
	id    uuid.UUID
	p     uint64
}

func (a cpdKey) cmp(b cpdKey) int { return cmp.Or(a.start.Compare(b.start), uuidCmp(a.id, b.id)) }

// startRange returns the index range of keys (sorted by start) whose
// events start in period p.
// keysIn returns the keys of partnership pid's events starting in period
// p, by start: a lens's (see CPD.Lens) only those organised by its
// position, picked from the live view's into buf (from cpdKeys; the
// caller puts it back once done with the keys).
func (s *cpdState) keysIn(pid uuid.UUID, p Period, buf *[]cpdKey) []cpdKey {
	keys := s.byStart[pid]
	lo, hi := startRange(keys, p)
	keys = keys[lo:hi:hi]
	if !s.lensed {
		return keys
	}
	n := 0
	for i := range keys {
		if keys[i].p <= s.at {
			n++
		}
	}
	if n == len(keys) {
		return keys
	}
	out := slices.Grow((*buf)[:0], n)
	for _, k := range keys {
		if k.p <= s.at {
			out = append(out, k)
		}
	}
	*buf = out
	return out
}

// cpdKeys are keysIn's keys picked in the past, kept between readings.
var cpdKeys scratch[cpdKey]

func startRange(keys []cpdKey, p Period) (lo, hi int) {
	from, to := p.window()
	lo = sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(from) })
	hi = max(lo, sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(to) }))
	return lo, hi
}

// cpdRow is a CPD event with the changes it was folded from, in
// position order. cur is the event as they leave it; it is never changed
// once made (the next change makes a new one), so states as of the past
// share it.
type cpdRow struct {
	Changes []cpdChange `json:"c"`
	cur     *partnership.CPDEvent
	// terms is the position of the last change that (re)organised the
	// event, its terms (termsOf).
	terms uint64
}

// lastTerms returns the position of the last of changes that organised
// the event (0 for none).
func lastTerms(changes []cpdChange) uint64 {
	for i := len(changes) - 1; i >= 0; i-- {
		if changes[i].Organised != nil {
			return changes[i].P
		}
	}
	return 0
}

// cpdChange is one event folded into a CPD event, with as much of it as
// the fold reads: the organisation (whole), or a booking made, cancelled,
// or its attendance recorded (the booking by its place in Bookings).
type cpdChange struct {
	P         uint64                         `json:"p"`
	Organised *partnership.CPDEventOrganised `json:"o,omitempty"`
	Booked    *cpdBooked                     `json:"b,omitempty"`
	Cancelled *int                           `json:"x,omitempty"`
	Attended  *[2]int                        `json:"a,omitempty"`
}

// cpdBooked is a booking made.
type cpdBooked struct {
	ID     uuid.UUID `json:"id"`
	School uuid.UUID `json:"s"`
	Places int       `json:"n"`
}

// cpdChangeOf returns m's change to CPD event c (nil before its first),
// false when m changes nothing of it.
func cpdChangeOf(c *partnership.CPDEvent, m domain.Message) (cpdChange, bool) {
	slot := func(booking uuid.UUID) int {
		if c != nil {
			for i, b := range c.Bookings {
				if b.ID == booking {
					return i
				}
			}
		}
		return -1
	}
	ch := cpdChange{P: m.Position}
	switch e := m.Event.(type) {
	case partnership.CPDEventOrganised:
		ch.Organised = &e
	case partnership.CPDPlacesBooked:
		ch.Booked = &cpdBooked{e.BookingID, e.SchoolID, e.Places}
	case partnership.CPDBookingCancelled:
		i := slot(e.BookingID)
		if i < 0 {
			return ch, false
		}
		ch.Cancelled = &i
	case partnership.CPDAttendanceRecorded:
		i := slot(e.BookingID)
		if i < 0 {
			return ch, false
		}
		ch.Attended = &[2]int{i, e.Attended}
	default:
		return ch, false
	}
	return ch, true
}

// apply folds the change into c, through the domain's own fold.
func (ch cpdChange) apply(c *partnership.CPDEvent) {
	var e domain.Event
	booking := func(i int) uuid.UUID {
		if i >= 0 && i < len(c.Bookings) {
			return c.Bookings[i].ID
		}
		return uuid.Nil
	}
	switch {
	case ch.Organised != nil:
		e = *ch.Organised
	case ch.Booked != nil:
		e = partnership.CPDPlacesBooked{BookingID: ch.Booked.ID, SchoolID: ch.Booked.School, Places: ch.Booked.Places}
	case ch.Cancelled != nil:
		e = partnership.CPDBookingCancelled{BookingID: booking(*ch.Cancelled)}
	case ch.Attended != nil:
		e = partnership.CPDAttendanceRecorded{BookingID: booking(ch.Attended[0]), Attended: ch.Attended[1]}
	default:
		return
	}
	c.Fold(e)
}

// foldChanges returns the CPD event changes fold to.
func foldChanges(changes []cpdChange) *partnership.CPDEvent {
	c := partnership.NewCPDEvent()
	for _, ch := range changes {
		ch.apply(c)
	}
	return c
}

// upTo returns the row as known at pos (nil when it did not exist then).
func (r *cpdRow) upTo(pos uint64) *cpdRow {
	switch changes := cut(r.Changes, pos, func(ch *cpdChange) uint64 { return ch.P }); len(changes) {
	case 0:
		return nil
	case len(r.Changes):
		return r // a row is never changed: a change makes a new one
	default:
		return &cpdRow{Changes: changes, cur: foldChanges(changes), terms: lastTerms(changes)}
	}
}

// organisedAt returns the position of the row's first organisation (0
// for none).
func (r *cpdRow) organisedAt() uint64 {
	for _, ch := range r.Changes {
		if ch.Organised != nil {
			return ch.P
		}
	}
	return 0
}

// event returns CPD event id as it is now (nil for none).
func (s *cpdState) event(id uuid.UUID) *partnership.CPDEvent {
	l := s.live
	if l == nil {
		if r := s.Rows[id]; r != nil {
			return r.cur
		}
		return nil
	}
	l.rowsMu.RLock()
	r := l.rows[id]
	l.rowsMu.RUnlock()
	if r == nil {
		return nil
	}
	if n := len(r.Changes); n > 0 && r.Changes[n-1].P <= s.at {
		return r.cur // not changed since: as it is now
	}
	l.foldedMu.Lock()
	c, ok := l.folded[id]
	l.foldedMu.Unlock()
	if ok {
		return c
	}
	if r = r.upTo(s.at); r != nil {
		c = r.cur
	}
	l.foldedMu.Lock()
	if l.folded == nil {
		l.folded = map[uuid.UUID]*partnership.CPDEvent{}
	}
	l.folded[id] = c
	l.foldedMu.Unlock()
	return c
}

// settle gives a state in the past its own rows, the live view's as
// they were at its position, before it is saved or folded further.
func (s *cpdState) settle() {
	l := s.live
	if l == nil {
		return
	}
	l.rowsMu.RLock()
	defer l.rowsMu.RUnlock()
	organised := 0
	for _, keys := range s.byStart {
		organised += len(keys)
	}
	s.Rows = make(map[uuid.UUID]*cpdRow, organised)
	for id, r := range l.rows {
		if r = r.upTo(s.at); r != nil {
			s.Rows[id] = r
		}
	}
	s.live = nil
}

// applyRow folds m into a copy of CPD event id (a new event for its
// first change) and keeps m's change; it returns the event, nil when m
// changed nothing.
func (s *cpdState) applyRow(id uuid.UUID, m domain.Message) *partnership.CPDEvent {
	r := s.Rows[id]
	var last *partnership.CPDEvent
	if r != nil {
		last = r.cur
	}
	ch, ok := cpdChangeOf(last, m)
	if !ok {
		return nil
	}
	c := partnership.NewCPDEvent()
	if last != nil {
		*c = *last
		c.Bookings = slices.Clone(last.Bookings)
	}
	c.Apply(m)
	// A change makes a new row (states in the past share the old one).
	if r == nil {
		r = &cpdRow{}
	}
	row := &cpdRow{Changes: appendTo(s.past, r.Changes, ch), cur: c, terms: r.terms}
	if ch.Organised != nil {
		row.terms = ch.P
	}
	s.rowsMu.Lock()
	s.Rows[id] = row
	if c.Organised() {
		// Under rowsMu, so that a book built from the rows meanwhile
		// (cpdLive.bookSums) holds the change either way, once.
		s.note(last, c, m.Position)
	}
	s.rowsMu.Unlock()
	return c
}

// file puts CPD event c, organised at position p, in the index (once).
func (s *cpdState) file(c *partnership.CPDEvent, p uint64) {
	k := cpdKey{c.StartsAt, c.ID, p}
	keys := s.byStart[c.PartnershipID]
	if i, found := slices.BinarySearchFunc(keys, k, cpdKey.cmp); !found {
		s.byStart[c.PartnershipID] = slices.Insert(keys, i, k)
	}
}

// NewCPD returns an empty "cpd" view.
func NewCPD() *CPD {
	return &CPD{newStateView("cpd", 3, func() cpdState {
		return cpdState{Rows: map[uuid.UUID]*cpdRow{}, Schools: schoolNames{}, Names: newNames(false),
			byStart: map[uuid.UUID][]cpdKey{}, sums: map[cpdYear]*cpdSums{}, sumsMu: new(sync.Mutex),
			lastChange: map[cpdYear]uint64{}, books: map[cpdYear]*cpdBook{}, rowsMu: new(sync.RWMutex)}
	})}
}

// UnmarshalState implements projections.Projection: the state read, with
// its names and index worked out.
func (v *CPD) UnmarshalState(b []byte) error {
	if err := v.stateView.UnmarshalState(b); err != nil {
		return err
	}
	s := &v.state
	s.Names, s.sums, s.sumsMu = s.Schools.current(), map[cpdYear]*cpdSums{}, new(sync.Mutex)
	s.lastChange, s.books, s.rowsMu = map[cpdYear]uint64{}, map[cpdYear]*cpdBook{}, new(sync.RWMutex)
	for _, r := range s.Rows {
		r.cur, r.terms = foldChanges(r.Changes), lastTerms(r.Changes)
		if c := r.cur; c.Organised() {
			s.byStart[c.PartnershipID] = append(s.byStart[c.PartnershipID], cpdKey{c.StartsAt, c.ID, r.organisedAt()})
			k := cpdYear{c.PartnershipID, partnership.AcademicYearOf(c.StartsAt)}
			s.lastChange[k] = max(s.lastChange[k], r.Changes[len(r.Changes)-1].P)
		}
	}
	for _, keys := range s.byStart {
		slices.SortFunc(keys, cpdKey.cmp)
	}
	return nil
}

// At implements projections.Versioned: the view as known at pos, its
// index the live one's keys of the events organised by then, each CPD
// event looked up when read as its changes up to pos leave it, and the
// sums of years none of whose events has changed since pos read from the
// live view.
func (v *CPD) At(pos uint64) projections.Projection {
	if v.state.lensed {
		pos = min(pos, v.state.at)
	}
	out := v.past(pos)
	s := &out.state
	// Each list of the index is counted before it is copied.
	for pid, keys := range v.state.byStart {
		n := 0
		for i := range keys {
			if keys[i].p <= pos { // a start never changes once organised
				n++
			}
		}
		if n == 0 {
			continue
		}
		kept := make([]cpdKey, 0, n)
		for _, k := range keys {
			if k.p <= pos {
				kept = append(kept, k)
			}
		}
		s.byStart[pid] = kept
	}
	return out
}

// past returns a state as of pos that reads the live view's rows (see
// cpdState.live), with no index.
func (v *CPD) past(pos uint64) *CPD {
	out := NewCPD()
	s := &out.state
	s.past = true
	l := &v.state
	if l.live != nil { // a lens: the live view it reads
		s.live = &cpdLive{rows: l.live.rows, rowsMu: l.live.rowsMu, sums: l.live.sums, lastChange: l.live.lastChange,
			books: l.live.books, sumsMu: l.live.sumsMu}
	} else {
		s.live = &cpdLive{rows: l.Rows, rowsMu: l.rowsMu, sums: l.sums, lastChange: l.lastChange, books: l.books, sumsMu: l.sumsMu}
	}
	s.at = pos
	s.Schools, s.Names = v.state.Schools.upTo(pos)
	return out
}

// Release implements projections.Releaser: a lens gives back the
// take-up and costs it worked out for each year's events, for the next
// reading.
func (v *CPD) Release() {
	l := v.state.live
	if !v.state.lensed || l == nil {
		return
	}
	l.foldedMu.Lock()
	defer l.foldedMu.Unlock()
	for k, parts := range l.events {
		cpdParts.put(parts)
		delete(l.events, k)
	}
}

// Lens implements projections.Lensed: the state as of pos, reading the
// live view's rows and index in place while it is read-locked; a
// reading picks the keys of the period it reads.
func (v *CPD) Lens(pos uint64) projections.Projection {
	out := v.past(pos)
	out.state.byStart, out.state.lensed = v.state.byStart, true
	return out
}

// MarshalState implements projections.Projection: a state in the past
// saves the rows it stands for (on a copy: readers may share it).
func (v *CPD) MarshalState() ([]byte, error) {
	if v.state.live == nil {
		return v.stateView.MarshalState()
	}
	c := &CPD{newStateView("cpd", v.version, v.fresh)}
	c.state = v.state
	c.state.settle()
	return c.stateView.MarshalState()
}

// Apply implements projections.Projection.
func (v *CPD) Apply(m domain.Message) error {
	if v.state.lensed {
		return errLens
	}
	v.state.settle()
	if v.state.Schools.apply(m, &v.state.Names) {
		return nil
	}
	var id uuid.UUID
	switch e := m.Event.(type) {
	case partnership.CPDEventOrganised:
		if c := v.state.applyRow(e.CPDID, m); c != nil && c.Organised() {
			v.state.file(c, m.Position)
		}
		return nil
	case partnership.CPDPlacesBooked:
		id = e.CPDID
	case partnership.CPDBookingCancelled:
		id = e.CPDID
	case partnership.CPDAttendanceRecorded:
		id = e.CPDID
	default:
		return nil
	}
	v.state.applyRow(id, m)
	return nil
}

// note drops the sums of the year CPD event c starts in, which changed
// at position p from was (nil before it was organised), and adds the
// change to the year's book, if it has one.
func (s *cpdState) note(was, c *partnership.CPDEvent, p uint64) {
	k := cpdYear{c.PartnershipID, partnership.AcademicYearOf(c.StartsAt)}
	s.sumsMu.Lock()
	defer s.sumsMu.Unlock()
	delete(s.sums, k)
	s.lastChange[k] = p
	b := s.books[k]
	if b == nil && s.booked {
		b = newCPDBook()
		s.books[k] = b
	}
	if b != nil {
		if was != nil && !was.Organised() {
			was = nil
		}
		b.change(p, was, c)
	}
}

// Live implements projections.Live: a live view that folds from zero
// keeps every year's book of changes from its first change on (one read
// back builds a year's when a reading first needs it).
func (v *CPD) Live() {
	if len(v.state.Rows) == 0 {
		v.state.booked = true
	}
}

// yearSums returns the sums of partnership pid's events starting in
// academic year y, from the cache or added up (and kept).
func (v *CPD) yearSums(pid uuid.UUID, y Period) *cpdSums {
	s := &v.state
	s.sumsMu.Lock()
	defer s.sumsMu.Unlock()
	k := cpdYear{pid, y.Year}
	if sums := s.sums[k]; sums != nil {
		return sums
	}
	if l := s.live; l != nil {
		l.sumsMu.Lock()
		sums, settled := l.sums[k], l.lastChange[k] <= s.at
		l.sumsMu.Unlock()
		if settled && sums != nil {
			s.sums[k] = sums
			return sums
		}
		if !settled {
			// Changed since: the year's book of changes, up to at.
			sums := l.bookSums(k, s.at)
			s.sums[k] = sums
			return sums
		}
	}
	sums := sumCPD(v.of(pid, y))
	s.sums[k] = sums
	if l := s.live; l != nil {
		// Still settled, the year's sums are the live view's too.
		l.sumsMu.Lock()
		if l.lastChange[k] <= s.at && l.sums[k] == nil {
			l.sums[k] = sums
		}
		l.sumsMu.Unlock()
	}
	return sums
}

// sumsIn returns the sums of partnership pid's events starting in period
// p: for an academic year or all time, from each year's sums; for another
// span, added up from its events.
func (v *CPD) sumsIn(pid uuid.UUID, p Period) *cpdSums {
	buf := cpdKeys.get()
	defer cpdKeys.put(buf)
	keys := v.state.keysIn(pid, p, buf)
	if p.empty || len(keys) == 0 {
		return sumCPD(nil)
	}
	var years []string
	switch {
	case p.Year != "":
		years = []string{p.Year}
	case p.From.IsZero() && p.To.IsZero():
		first, _ := partnership.ParseAcademicYear(partnership.AcademicYearOf(keys[0].start))
		last, _ := partnership.ParseAcademicYear(partnership.AcademicYearOf(keys[len(keys)-1].start))
		for y := first; y <= last; y++ {
			years = append(years, partnership.AcademicYearLabel(y))
		}
	}
	out := &cpdSums{schools: map[uuid.UUID]CPDSchool{}}
	for _, label := range years {
		y, err := YearPeriod(label)
		if err != nil {
			break
		}
		out.add(v.yearSums(pid, y))
	}
	if out.totals.Events != len(keys) { // not whole years: add up the events
		return sumCPD(v.of(pid, p))
	}
	return out
}

// sumCPD adds up events as BySchool and Totals count them: per school,
// the places it offered (as organiser), booked (not cancelled) and
// attended (where recorded), and what its places cost and saved.
func sumCPD(evs []*partnership.CPDEvent) *cpdSums {
	sum := partnership.SumCPD(evs...)
	out := &cpdSums{schools: map[uuid.UUID]CPDSchool{},
		totals: CPDTotals{Events: sum.Events, Attended: sum.Attended, FullPence: sum.FullPence, PaidPence: sum.PaidPence, SavingsPence: sum.SavingsPence}}
	for _, c := range evs {
		out.totals.Offered += c.Places
		out.totals.Booked += c.PlacesBooked()
		sc := out.schools[c.OrganiserSchoolID]
		sc.Offered += c.Places
		out.schools[c.OrganiserSchoolID] = sc
		for _, b := range c.Bookings {
			if b.Cancelled {
				continue
			}
			sc := out.schools[b.SchoolID]
			sc.Booked += b.Places
			if b.Recorded {
				sc.Attended += b.Attended
			}
			out.schools[b.SchoolID] = sc
		}
		c.EachCost(func(id uuid.UUID, cost partnership.CPDCost) {
			sc := out.schools[id]
			sc.PaidPence += cost.PaidPence
			sc.SavingsPence += cost.SavingsPence
			out.schools[id] = sc
		})
	}
	return out
}

// add adds o's sums to s's.
func (s *cpdSums) add(o *cpdSums) {
	t := &s.totals
	t.Events += o.totals.Events
	t.Offered += o.totals.Offered
	t.Booked += o.totals.Booked
	t.Attended += o.totals.Attended
	t.FullPence += o.totals.FullPence
	t.PaidPence += o.totals.PaidPence
	t.SavingsPence += o.totals.SavingsPence
	for id, sc := range o.schools {
		mine := s.schools[id]
		mine.Offered += sc.Offered
		mine.Booked += sc.Booked
		mine.Attended += sc.Attended
		mine.PaidPence += sc.PaidPence
		mine.SavingsPence += sc.SavingsPence
		s.schools[id] = mine
	}
}

func (v *CPD) of(pid uuid.UUID, p Period) []*partnership.CPDEvent {
	buf := cpdKeys.get()
	defer cpdKeys.put(buf)
	keys := v.state.keysIn(pid, p, buf)
	out := make([]*partnership.CPDEvent, 0, len(keys))
	for _, k := range keys {
		out = append(out, v.state.event(k.id))
	}
	return out
}

// CPDEventInfo is one CPD event with its take-up and costs.
type CPDEventInfo struct {
	ID              uuid.UUID `json:"id"`
	Title           string    `json:"title"`
	Kind            string    `json:"kind"`
	Organiser       Ref       `json:"organiser"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
	Offered         int       `json:"places_offered"`
	Booked          int       `json:"places_booked"`
	Attended        int       `json:"attended"`
	FullPence       int64     `json:"full_pence"`
	PaidPence       int64     `json:"paid_pence"`
	SavingsPence    int64     `json:"savings_pence"`
	DiscountApplies bool      `json:"discount_applies"`
}

// Events returns the CPD events of partnership pid in academic year (all
// for ""), by start.
func (v *CPD) Events(pid uuid.UUID, year string) []CPDEventInfo {
	return v.EventsIn(pid, periodOf(year))
}

// EventsIn is Events for the events starting in period p.
func (v *CPD) EventsIn(pid uuid.UUID, p Period) []CPDEventInfo {
	out, _ := v.eventsPage(pid, p, 0, math.MaxInt)
	return out
}

// EventsPage is the page of Events from index from, at most n of them,
// and how many events the whole list has: only the page's entries are
// built (ten years of a partnership's CPD are tens of thousands).
func (v *CPD) EventsPage(pid uuid.UUID, year string, from, n int) ([]CPDEventInfo, int) {
	return v.eventsPage(pid, periodOf(year), from, n)
}

// eventsPage is EventsPage for the events starting in period p.
func (v *CPD) eventsPage(pid uuid.UUID, p Period, from, n int) ([]CPDEventInfo, int) {
	buf := cpdKeys.get()
	defer cpdKeys.put(buf)
	keys := v.state.keysIn(pid, p, buf)
	first, last := pageRange(from, n, len(keys))
	out := make([]CPDEventInfo, 0, last-first)
	for _, k := range keys[first:last] {
		if info, ok := v.pastInfo(pid, k); ok {
			out = append(out, info)
			continue
		}
		out = append(out, v.info(v.state.event(k.id)))
	}
	return out, len(keys)
}

// pastInfo returns, in a state in the past, CPD event k as Events lists
// it when it has not changed since the state's position, or only through
// its bookings: its terms as they are now, its take-up and costs from its
// year's book (worked out once for the state), no booking read. False
// otherwise (it is then folded).
func (v *CPD) pastInfo(pid uuid.UUID, k cpdKey) (CPDEventInfo, bool) {
	s := &v.state
	l := s.live
	if l == nil {
		return CPDEventInfo{}, false
	}
	l.rowsMu.RLock()
	r := l.rows[k.id]
	l.rowsMu.RUnlock()
	if r == nil || len(r.Changes) == 0 || r.terms > s.at {
		return CPDEventInfo{}, false // its terms changed since
	}
	c := r.cur
	if !c.Organised() || c.PartnershipID != pid {
		return CPDEventInfo{}, false
	}
	part, ok := l.eventSum(cpdYear{pid, partnership.AcademicYearOf(c.StartsAt)}, s.at, k.id)
	if !ok {
		return CPDEventInfo{}, false
	}
	return CPDEventInfo{ID: c.ID, Title: c.Title, Kind: string(c.Kind), Organiser: s.Names.school(c.OrganiserSchoolID),
		StartsAt: c.StartsAt, EndsAt: c.EndsAt, Offered: c.Places, Booked: int(part.booked), Attended: int(part.attended),
		FullPence: part.full, PaidPence: part.paid, SavingsPence: part.savings,
		DiscountApplies: c.DiscountWith(int(part.booked))}, true
}

// Event returns CPD event id of partnership pid as Events lists it;
// false when it is no organised event of pid's.
func (v *CPD) Event(pid, id uuid.UUID) (CPDEventInfo, bool) {
	c := v.state.event(id)
	if c == nil || !c.Organised() || c.PartnershipID != pid {
		return CPDEventInfo{}, false
	}
	return v.info(c), true
}

func (v *CPD) info(c *partnership.CPDEvent) CPDEventInfo {
	costs, discount := c.Total()
	_, attended := c.Attendance()
	return CPDEventInfo{ID: c.ID, Title: c.Title, Kind: string(c.Kind), Organiser: v.state.Names.school(c.OrganiserSchoolID),
		StartsAt: c.StartsAt, EndsAt: c.EndsAt, Offered: c.Places, Booked: c.PlacesBooked(), Attended: attended,
		FullPence: costs.FullPence, PaidPence: costs.PaidPence, SavingsPence: costs.SavingsPence, DiscountApplies: discount}
}

// CPDSchool is one school's part in the partnership's CPD in a year.
type CPDSchool struct {
	School       Ref   `json:"school"`
	Offered      int   `json:"places_offered"`
	Booked       int   `json:"places_booked"`
	Attended     int   `json:"attended"`
	PaidPence    int64 `json:"paid_pence"`
	SavingsPence int64 `json:"savings_pence"`
}

// BySchool returns, per school, the places it offered (as organiser),
// booked (not cancelled) and attended, and what its places cost and
// saved, in academic year, by school name.
func (v *CPD) BySchool(pid uuid.UUID, year string) []CPDSchool {
	return v.BySchoolIn(pid, periodOf(year))
}

// BySchoolIn is BySchool for the events starting in period p.
func (v *CPD) BySchoolIn(pid uuid.UUID, p Period) []CPDSchool {
	sums := v.sumsIn(pid, p)
	out := make([]CPDSchool, 0, len(sums.schools))
	for id, sc := range sums.schools {
		sc.School = v.state.Names.school(id)
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b CPDSchool) int { return byName(a.School, b.School) })
	return out
}

// CPDTotals sums a year's CPD of a partnership.
type CPDTotals struct {
	Events       int   `json:"events"`
	Offered      int   `json:"places_offered"`
	Booked       int   `json:"places_booked"`
	Attended     int   `json:"attended"`
	FullPence    int64 `json:"full_pence"`
	PaidPence    int64 `json:"paid_pence"`
	SavingsPence int64 `json:"savings_pence"`
}

// Totals sums the CPD of partnership pid in academic year. Booked counts
// every place not cancelled; attendance counts recorded attendance.
func (v *CPD) Totals(pid uuid.UUID, year string) CPDTotals {
	return v.TotalsIn(pid, periodOf(year))
}

// TotalsIn is Totals for the events starting in period p.
func (v *CPD) TotalsIn(pid uuid.UUID, p Period) CPDTotals {
	return v.sumsIn(pid, p).totals
}
