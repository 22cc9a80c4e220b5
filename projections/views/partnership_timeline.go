package views

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewTimelines() }) }

// Timelines is the "timeline" view: the school-improvement timelines of a
// partnership and its schools, "what comes next" and what is done.
//
// It is versioned (projections.Versioned): each timeline is kept with its
// own events and their positions (a row), and a change makes a new row
// whose timeline is a new value, so a state as of a past position shares
// the rows unchanged since and folds the others from their own events up
// to it (At).
type Timelines struct{ stateView[timelineState] }

type timelineState struct {
	// Rows are the timelines, each with its events (saved).
	Rows map[uuid.UUID]*timelineRow `json:"rows"`
	// Schools are the schools' names with the positions they were given
	// at.
	Schools schoolNames `json:"schools"`
	// Timelines are the rows' timelines as they are now and Names the
	// names the schools have now (not saved: the rows and Schools give
	// them).
	Timelines map[uuid.UUID]*partnership.Timeline `json:"-"`
	Names     partnershipNames                    `json:"-"`
	// past marks a state looked up in the past (At): it shares rows with
	// the live view, so it appends to none of their lists in place.
	past bool
	// lensed marks a lens (Timelines.Lens): Rows are the live view's,
	// read as they were at position at, and Timelines is not kept.
	lensed bool
	at     uint64
	// folds are, in a lens, the timelines its readings folded (those
	// changed since at), kept for its next readings: a report asks after
	// the same timelines three times.
	folds *timelineFolds
}

// timelineFolds are the timelines a lens read as they were, by id; a
// lens's readers may share it, hence the lock.
type timelineFolds struct {
	mu sync.Mutex
	m  map[uuid.UUID]pastTimeline
}

// at returns timeline id as row r held it at pos, worked out once.
func (f *timelineFolds) at(id uuid.UUID, r *timelineRow, pos uint64) pastTimeline {
	if r.Changes[len(r.Changes)-1].P <= pos {
		return pastTimeline{t: r.cur}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.m[id]; ok {
		return t
	}
	t := r.pastAt(pos)
	if f.m == nil {
		f.m = map[uuid.UUID]pastTimeline{}
	}
	f.m[id] = t
	return t
}

// pastTimeline is a timeline as a reading sees it. In a lens, t's item
// list is the live timeline's own array cut to the items scheduled by
// then (nothing is copied), and over holds, by their place in it, those
// of them that changed since, as they were then: read items through item.
type pastTimeline struct {
	t    *partnership.Timeline
	over map[int32]*partnership.TimelineItem
	// store holds over's items (from timelineItems; given back with over
	// by Release).
	store *[]partnership.TimelineItem
}

// item returns the item at place i of the timeline's list as read.
func (p pastTimeline) item(i int) *partnership.TimelineItem {
	if it, ok := p.over[int32(i)]; ok {
		return it
	}
	return &p.t.ItemList[i]
}

// itemsOf returns, for each of the row's changes, the place in the
// item list of the item it is of: the item it scheduled, or the first
// item with its id scheduled before it, as the timeline's Apply finds it
// (-1 for none, and for a creation). Worked out once per row, when a
// lens first reads it in the past; the row never changes.
func (r *timelineRow) itemsOf() []int32 {
	if p := r.items.Load(); p != nil {
		return *p
	}
	out := make([]int32, len(r.Changes))
	first := map[uuid.UUID]int32{}
	n := int32(0)
	for i, ch := range r.Changes {
		out[i] = -1
		var id uuid.UUID
		switch {
		case ch.Scheduled != nil:
			if _, ok := first[ch.Scheduled.ItemID]; !ok {
				first[ch.Scheduled.ItemID] = n
			}
			out[i] = n
			n++
			continue
		case ch.Rescheduled != nil:
			id = ch.Rescheduled.ItemID
		case ch.Done != nil:
			id = ch.Done.ItemID
		default:
			continue
		}
		if at, ok := first[id]; ok {
			out[i] = at
		}
	}
	r.items.Store(&out)
	return out
}

// pastAt returns the row's timeline as it was at pos (at least its first
// change came by then): its fields from the last creation by then, its
// items the live timeline's first ones, those changed since folded from
// their own changes up to pos.
func (r *timelineRow) pastAt(pos uint64) pastTimeline {
	items := r.itemsOf()
	n := cut(r.Changes, pos, func(ch *timelineChange) uint64 { return ch.P })
	k := 0 // the items scheduled by pos
	for i := range n {
		if n[i].Scheduled != nil {
			k++
		}
	}
	t := partnership.NewTimeline()
	if c := r.createdAt(pos); c != nil {
		t.Apply(domain.Message{Event: *c})
	}
	t.ItemList = r.cur.ItemList[:k:k]
	// The items scheduled by pos that changed since, and then each folded
	// from its scheduling through its changes up to pos, as the
	// timeline's Apply folds it.
	var over map[int32]*partnership.TimelineItem
	for i := len(n); i < len(r.Changes); i++ {
		if at := items[i]; at >= 0 && int(at) < k && r.Changes[i].Scheduled == nil {
			if over == nil {
				over = overMaps.get()
			}
			over[at] = nil
		}
	}
	var buf *[]partnership.TimelineItem
	if over != nil {
		// The items in one array (with room for all, so that none
		// moves); each change folded into a timeline of that one item,
		// in a list of one that is reused.
		buf = timelineItems.get()
		store := slices.Grow((*buf)[:0], len(over))
		one, list := partnership.NewTimeline(), make([]partnership.TimelineItem, 1)
		for i, ch := range n {
			at := items[i]
			it, ok := over[at]
			if !ok || at < 0 {
				continue
			}
			if ch.Scheduled != nil {
				one.ItemList = list[:0]
			} else {
				list[0], one.ItemList = *it, list[:1]
			}
			one.Apply(ch.message())
			if it == nil {
				store = append(store, partnership.TimelineItem{})
				it = &store[len(store)-1]
				over[at] = it
			}
			*it = list[0]
		}
		*buf = store
	}
	return pastTimeline{t: t, over: over, store: buf}
}

// overMaps and timelineItems keep a lens's items changed since between
// readings (Release).
var (
	overMaps      mapScratch[int32, *partnership.TimelineItem]
	timelineItems scratch[partnership.TimelineItem]
)

// Release implements projections.Releaser: a lens gives back the items
// it folded, for the next reading.
func (v *Timelines) Release() {
	f := v.state.folds
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, t := range f.m {
		if t.over != nil {
			overMaps.put(t.over)
			timelineItems.put(t.store)
		}
		delete(f.m, id)
	}
}

// timelineRow is a timeline with the events it was folded from, in
// position order. cur is never changed once made: a change makes a new
// row.
type timelineRow struct {
	Changes []timelineChange `json:"c"`
	cur     *partnership.Timeline
	// items are, once a lens read the row in the past, each change's
	// item (itemsOf).
	items atomic.Pointer[[]int32]
	// creations are the places in Changes of its creations (one, unless
	// the ledger holds a second), so that a reading in the past finds
	// whose timeline it was without reading every item's change.
	creations []int32
}

// creationsOf returns the places in changes of the timeline's creations.
func creationsOf(changes []timelineChange) []int32 {
	var out []int32
	for i := range changes {
		if changes[i].Created != nil {
			out = append(out, int32(i))
		}
	}
	return out
}

// createdAt returns the row's last creation by position pos, nil for
// none.
func (r *timelineRow) createdAt(pos uint64) *partnership.TimelineCreated {
	var out *partnership.TimelineCreated
	for _, i := range r.creations {
		if r.Changes[i].P > pos {
			break
		}
		out = r.Changes[i].Created
	}
	return out
}

// timelineChange is one event of a timeline, with its position.
type timelineChange struct {
	P           uint64                               `json:"p"`
	Created     *partnership.TimelineCreated         `json:"n,omitempty"`
	Scheduled   *partnership.TimelineItemScheduled   `json:"s,omitempty"`
	Rescheduled *partnership.TimelineItemRescheduled `json:"r,omitempty"`
	Done        *partnership.TimelineItemDone        `json:"d,omitempty"`
}

// message returns the change as the message the timeline folds.
func (ch timelineChange) message() domain.Message {
	m := domain.Message{Recorded: domain.Recorded{Position: ch.P}}
	switch {
	case ch.Created != nil:
		m.Event = *ch.Created
	case ch.Scheduled != nil:
		m.Event = *ch.Scheduled
	case ch.Rescheduled != nil:
		m.Event = *ch.Rescheduled
	case ch.Done != nil:
		m.Event = *ch.Done
	}
	return m
}

// foldTimeline returns last (nil for none) with m folded into a copy: an
// item moved or done is changed in a copy of the list, a new one appended
// (in place only for the live view: past is false).
func foldTimeline(last *partnership.Timeline, m domain.Message, past bool) *partnership.Timeline {
	t := partnership.NewTimeline()
	if last != nil {
		*t = *last
	}
	switch m.Event.(type) {
	case partnership.TimelineItemRescheduled, partnership.TimelineItemDone:
		t.ItemList = slices.Clone(t.ItemList)
	case partnership.TimelineItemScheduled:
		if past {
			t.ItemList = t.ItemList[:len(t.ItemList):len(t.ItemList)]
		}
	}
	t.Apply(m)
	return t
}

// NewTimelines returns an empty "timeline" view.
func NewTimelines() *Timelines {
	return &Timelines{newStateView("timeline", 3, func() timelineState {
		return timelineState{Rows: map[uuid.UUID]*timelineRow{}, Schools: schoolNames{}, Timelines: map[uuid.UUID]*partnership.Timeline{},
			Names: newNames(false)}
	})}
}

// Apply implements projections.Projection.
func (v *Timelines) Apply(m domain.Message) error {
	s := &v.state
	if s.lensed {
		return errLens
	}
	if s.Schools.apply(m, &s.Names) {
		return nil
	}
	ch := timelineChange{P: m.Position}
	var id uuid.UUID
	switch e := m.Event.(type) {
	case partnership.TimelineCreated:
		id, ch.Created = e.TimelineID, &e
	case partnership.TimelineItemScheduled:
		id, ch.Scheduled = e.TimelineID, &e
	case partnership.TimelineItemRescheduled:
		id, ch.Rescheduled = e.TimelineID, &e
	case partnership.TimelineItemDone:
		id, ch.Done = e.TimelineID, &e
	default:
		return nil
	}
	// A change makes a new row (states in the past share the old one).
	r := s.Rows[id]
	if r == nil {
		r = &timelineRow{}
	}
	t := foldTimeline(r.cur, m, s.past)
	row := &timelineRow{Changes: appendTo(s.past, r.Changes, ch), cur: t, creations: r.creations}
	if ch.Created != nil {
		row.creations = grow(r.creations, int32(len(row.Changes)-1))
	}
	s.Rows[id] = row
	s.Timelines[id] = t
	return nil
}

// upTo returns the row as known at pos: itself when it has not changed
// since, nil when it had no event by then.
func (r *timelineRow) upTo(pos uint64) *timelineRow {
	switch changes := cut(r.Changes, pos, func(ch *timelineChange) uint64 { return ch.P }); len(changes) {
	case 0:
		return nil
	case len(r.Changes):
		return r
	default:
		return &timelineRow{Changes: changes, cur: foldTimelineChanges(changes), creations: creationsOf(changes)}
	}
}

// foldTimelineChanges returns the timeline changes leave: a new one,
// folded in place (none of its versions but the last is ever seen).
func foldTimelineChanges(changes []timelineChange) *partnership.Timeline {
	t := partnership.NewTimeline()
	items := 0
	for _, ch := range changes {
		if ch.Scheduled != nil {
			items++
		}
	}
	if items > 0 {
		t.ItemList = make([]partnership.TimelineItem, 0, items) // one array, not one per doubling
	}
	for _, ch := range changes {
		t.Apply(ch.message())
	}
	return t
}

// Lens implements projections.Lensed: the view as known at pos, its
// rows read in place in v's while v is read-locked; a reading folds only
// the timelines it reads that changed since.
func (v *Timelines) Lens(pos uint64) projections.Projection {
	out := &Timelines{v.reading(timelineState{})}
	out.state = timelineState{Rows: v.state.Rows, past: true, lensed: true, at: pos, folds: &timelineFolds{}}
	out.state.Schools, out.state.Names = v.state.Schools.upTo(pos)
	return out
}

// MarshalState implements projections.Projection; a lens saves the state
// as of its position.
func (v *Timelines) MarshalState() ([]byte, error) {
	return v.saved(v.state.lensed, v.state.at, v.At)
}

// At implements projections.Versioned: the view as known at pos.
func (v *Timelines) At(pos uint64) projections.Projection {
	if v.state.lensed {
		pos = min(pos, v.state.at)
	}
	out := NewTimelines()
	s := &out.state
	s.past = true
	for id, r := range v.state.Rows {
		if r = r.upTo(pos); r != nil {
			s.Rows[id], s.Timelines[id] = r, r.cur
		}
	}
	s.Schools, s.Names = v.state.Schools.upTo(pos)
	return out
}

// UnmarshalState implements projections.Projection: the state read, with
// its timelines and names worked out.
func (v *Timelines) UnmarshalState(b []byte) error {
	if err := v.stateView.UnmarshalState(b); err != nil {
		return err
	}
	s := &v.state
	for id, r := range s.Rows {
		if len(r.Changes) == 0 {
			return fmt.Errorf("timeline: %s has no events", id)
		}
		r.cur, r.creations = foldTimelineChanges(r.Changes), creationsOf(r.Changes)
		s.Timelines[id] = r.cur
	}
	s.Names = s.Schools.current()
	return nil
}

// TimelineEntry is one item of an improvement timeline.
type TimelineEntry struct {
	TimelineID  uuid.UUID  `json:"timeline_id"`
	Timeline    string     `json:"timeline"`
	School      *Ref       `json:"school,omitempty"`
	ItemID      uuid.UUID  `json:"item_id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	On          time.Time  `json:"on"`
	Done        bool       `json:"done"`
	DoneOn      *time.Time `json:"done_on,omitempty"`
	Note        string     `json:"note,omitempty"`
	Rescheduled int        `json:"rescheduled"`
}

func (v *Timelines) of(pid uuid.UUID, p Period) []pastTimeline {
	var out []pastTimeline
	if s := &v.state; s.lensed {
		for id, r := range s.Rows {
			// The last creation by then says whose and which year's it
			// was (a creation sets both): only those read are folded.
			created := r.createdAt(s.at)
			if created == nil || created.PartnershipID != pid || !p.overlapsYear(created.AcademicYear) {
				continue
			}
			if t := s.folds.at(id, r, s.at); t.t.Created() {
				out = append(out, t)
			}
		}
	} else {
		for _, t := range v.state.Timelines {
			if t.Created() && t.PartnershipID == pid && p.overlapsYear(t.AcademicYear) {
				out = append(out, pastTimeline{t: t})
			}
		}
	}
	slices.SortFunc(out, func(a, b pastTimeline) int { return uuidCmp(a.t.ID, b.t.ID) })
	return out
}

func (v *Timelines) entry(t *partnership.Timeline, it partnership.TimelineItem) TimelineEntry {
	e := TimelineEntry{TimelineID: t.ID, Timeline: t.Title, ItemID: it.ID, Kind: string(it.Kind), Title: it.Title, On: it.On,
		Done: it.Done, Note: it.Note, Rescheduled: it.Rescheduled}
	if t.SchoolID != uuid.Nil {
		s := v.state.Names.school(t.SchoolID)
		e.School = &s
	}
	if it.Done {
		d := it.DoneOn
		e.DoneOn = &d
	}
	return e
}

// Next answers "what comes next" for partnership pid: the items of its
// timelines of academic year (all for "") not yet done and scheduled on
// or after day now, by day; at most n (all for n ≤ 0).
func (v *Timelines) Next(pid uuid.UUID, year string, now time.Time, n int) []TimelineEntry {
	return v.NextIn(pid, periodOf(year), now, n)
}

// NextIn is Next for the items scheduled in period p.
func (v *Timelines) NextIn(pid uuid.UUID, p Period, now time.Time, n int) []TimelineEntry {
	if n <= 0 {
		n = math.MaxInt
	}
	today := partnership.Date(now)
	out, _ := v.itemsPage(pid, p, 0, n, func(it *partnership.TimelineItem) bool { return !it.Done && !it.On.Before(today) })
	return out
}

// Outstanding returns the items of partnership pid's timelines of
// academic year that are not done although their day is before now.
func (v *Timelines) Outstanding(pid uuid.UUID, year string, now time.Time) []TimelineEntry {
	return v.OutstandingIn(pid, periodOf(year), now)
}

// OutstandingIn is Outstanding for the items scheduled in period p.
func (v *Timelines) OutstandingIn(pid uuid.UUID, p Period, now time.Time) []TimelineEntry {
	today := partnership.Date(now)
	out, _ := v.itemsPage(pid, p, 0, math.MaxInt, func(it *partnership.TimelineItem) bool { return !it.Done && it.On.Before(today) })
	return out
}

// DonePage is the page of Done from index from, at most n entries, and
// how many the whole list has: only the page's entries are built.
func (v *Timelines) DonePage(pid uuid.UUID, year string, from, n int) ([]TimelineEntry, int) {
	return v.donePage(pid, periodOf(year), from, n)
}

// donePage is DonePage for the items scheduled in period p, ordered by
// day, timeline id and item id.
func (v *Timelines) donePage(pid uuid.UUID, p Period, from, n int) ([]TimelineEntry, int) {
	return v.itemsPage(pid, p, from, n, func(it *partnership.TimelineItem) bool { return it.Done })
}

// itemsPage returns the page from index from, at most n entries, of the
// items of partnership pid's timelines scheduled in period p for which
// keep holds, ordered by day, timeline id and item id, and how many there
// are: the items are ordered as small references, only as far as the
// page's end, and only the page's entries are built.
func (v *Timelines) itemsPage(pid uuid.UUID, p Period, from, n int, keep func(*partnership.TimelineItem) bool) ([]TimelineEntry, int) {
	type ref = timelineRef
	ts := v.of(pid, p)
	buf := timelineRefs.get()
	defer timelineRefs.put(buf)
	refs := *buf
	defer func() { *buf = refs }()
	for ti, t := range ts {
		for ii := range t.t.ItemList {
			if it := t.item(ii); keep(it) && p.Contains(it.On) {
				refs = append(refs, ref{it.On.UnixNano(), int32(ti), int32(ii)})
			}
		}
	}
	lo, hi := pageRange(from, n, len(refs))
	smallestSorted(refs, hi, func(a, b ref) int {
		if a.on != b.on {
			return cmp.Compare(a.on, b.on)
		}
		ta, tb := ts[a.ti], ts[b.ti]
		return cmp.Or(uuidCmp(ta.t.ID, tb.t.ID), uuidCmp(ta.item(int(a.ii)).ID, tb.item(int(b.ii)).ID))
	})
	out := make([]TimelineEntry, 0, hi-lo)
	for _, r := range refs[lo:hi] {
		t := ts[r.ti]
		out = append(out, v.entry(t.t, *t.item(int(r.ii))))
	}
	return out, len(refs)
}

// timelineRef is an item itemsPage orders: its day (Unix nanoseconds),
// kept for the order, and its timeline's place ti and its own ii.
type timelineRef struct {
	on     int64
	ti, ii int32
}

// timelineRefs are itemsPage's references, kept between readings.
var timelineRefs scratch[timelineRef]

// Done returns the items of partnership pid's timelines of academic year
// that are done, by day.
func (v *Timelines) Done(pid uuid.UUID, year string) []TimelineEntry {
	return v.DoneIn(pid, periodOf(year))
}

// DoneIn is Done for the items scheduled in period p.
func (v *Timelines) DoneIn(pid uuid.UUID, p Period) []TimelineEntry {
	out, _ := v.donePage(pid, p, 0, math.MaxInt)
	return out
}
