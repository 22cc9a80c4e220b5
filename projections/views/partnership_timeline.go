package views

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewTimelines() }) }

// Timelines is the "timeline" view: the school-improvement timelines of a
// partnership and its schools, "what comes next" and what is done.
type Timelines struct{ stateView[timelineState] }

type timelineState struct {
	Timelines map[uuid.UUID]*partnership.Timeline `json:"timelines"`
	Names     partnershipNames                    `json:"names"`
}

// NewTimelines returns an empty "timeline" view.
func NewTimelines() *Timelines {
	return &Timelines{newStateView("timeline", 2, func() timelineState {
		return timelineState{Timelines: map[uuid.UUID]*partnership.Timeline{}, Names: newNames(false)}
	})}
}

// Apply implements projections.Projection.
func (v *Timelines) Apply(m domain.Message) error {
	if v.state.Names.apply(m) {
		return nil
	}
	var id uuid.UUID
	switch e := m.Event.(type) {
	case partnership.TimelineCreated:
		id = e.TimelineID
	case partnership.TimelineItemScheduled:
		id = e.TimelineID
	case partnership.TimelineItemRescheduled:
		id = e.TimelineID
	case partnership.TimelineItemDone:
		id = e.TimelineID
	default:
		return nil
	}
	applyByID(v.state.Timelines, id, m, partnership.NewTimeline)
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

func (v *Timelines) of(pid uuid.UUID, p Period) []*partnership.Timeline {
	var out []*partnership.Timeline
	for _, t := range v.state.Timelines {
		if t.Created() && t.PartnershipID == pid && p.overlapsYear(t.AcademicYear) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *partnership.Timeline) int { return uuidCmp(a.ID, b.ID) })
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

func sortEntries(out []TimelineEntry) {
	slices.SortFunc(out, func(a, b TimelineEntry) int {
		return cmp.Or(a.On.Compare(b.On), uuidCmp(a.TimelineID, b.TimelineID), uuidCmp(a.ItemID, b.ItemID))
	})
}

// Next answers "what comes next" for partnership pid: the items of its
// timelines of academic year (all for "") not yet done and scheduled on
// or after day now, by day; at most n (all for n ≤ 0).
func (v *Timelines) Next(pid uuid.UUID, year string, now time.Time, n int) []TimelineEntry {
	return v.NextIn(pid, periodOf(year), now, n)
}

// NextIn is Next for the items scheduled in period p.
func (v *Timelines) NextIn(pid uuid.UUID, p Period, now time.Time, n int) []TimelineEntry {
	out := []TimelineEntry{}
	for _, t := range v.of(pid, p) {
		for _, it := range t.NextItems(now, 0) {
			if p.Contains(it.On) {
				out = append(out, v.entry(t, it))
			}
		}
	}
	sortEntries(out)
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Outstanding returns the items of partnership pid's timelines of
// academic year that are not done although their day is before now.
func (v *Timelines) Outstanding(pid uuid.UUID, year string, now time.Time) []TimelineEntry {
	return v.OutstandingIn(pid, periodOf(year), now)
}

// OutstandingIn is Outstanding for the items scheduled in period p.
func (v *Timelines) OutstandingIn(pid uuid.UUID, p Period, now time.Time) []TimelineEntry {
	out := []TimelineEntry{}
	for _, t := range v.of(pid, p) {
		for _, it := range t.Outstanding(now) {
			if p.Contains(it.On) {
				out = append(out, v.entry(t, it))
			}
		}
	}
	sortEntries(out)
	return out
}

// DonePage is the page of Done from index from, at most n entries, and
// how many the whole list has: only the page's entries are built.
func (v *Timelines) DonePage(pid uuid.UUID, year string, from, n int) ([]TimelineEntry, int) {
	return v.donePage(pid, periodOf(year), from, n)
}

// donePage is DonePage for the items scheduled in period p, ordered as
// sortEntries orders entries (day, timeline id, item id).
func (v *Timelines) donePage(pid uuid.UUID, p Period, from, n int) ([]TimelineEntry, int) {
	type ref struct {
		on time.Time // the item's, kept here for the sort
		t  *partnership.Timeline
		it *partnership.TimelineItem
	}
	var refs []ref
	for _, t := range v.of(pid, p) {
		for i := range t.ItemList {
			if it := &t.ItemList[i]; it.Done && p.Contains(it.On) {
				refs = append(refs, ref{it.On, t, it})
			}
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		if c := a.on.Compare(b.on); c != 0 {
			return c
		}
		return cmp.Or(uuidCmp(a.t.ID, b.t.ID), uuidCmp(a.it.ID, b.it.ID))
	})
	lo, hi := pageRange(from, n, len(refs))
	out := make([]TimelineEntry, 0, hi-lo)
	for _, r := range refs[lo:hi] {
		out = append(out, v.entry(r.t, *r.it))
	}
	return out, len(refs)
}

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
