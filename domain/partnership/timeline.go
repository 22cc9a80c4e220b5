package partnership

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// ItemKind is the kind of an item of the improvement timeline.
type ItemKind string

// The kinds of timeline item.
const (
	ItemReview         ItemKind = "review"
	ItemVisit          ItemKind = "visit"
	ItemDataDrop       ItemKind = "data_drop"
	ItemLineManagement ItemKind = "line_management"
	ItemMeeting        ItemKind = "meeting"
	ItemTraining       ItemKind = "training"
	ItemReport         ItemKind = "report"
	ItemOther          ItemKind = "other"
)

// String implements fmt.Stringer.
func (k ItemKind) String() string { return string(k) }

// Valid reports whether k is one of the item kinds.
func (k ItemKind) Valid() bool {
	switch k {
	case ItemReview, ItemVisit, ItemDataDrop, ItemLineManagement, ItemMeeting, ItemTraining, ItemReport, ItemOther:
		return true
	}
	return false
}

// TimelineCreated records a school-improvement programme for an academic
// year.
type TimelineCreated struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	TimelineID    uuid.UUID `json:"timeline_id" doc:"Id of the timeline."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school it is for (all zeros for the whole partnership)."`
	AcademicYear  string    `json:"academic_year" doc:"Academic year, e.g. 2025-26."`
	Title         string    `json:"title" doc:"The programme's title."`
}

// TimelineItemScheduled records an item of the programme and its day.
type TimelineItemScheduled struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	TimelineID    uuid.UUID `json:"timeline_id" doc:"Id of the timeline."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school (all zeros for the whole partnership)."`
	ItemID        uuid.UUID `json:"item_id" doc:"Id of the item."`
	Kind          ItemKind  `json:"kind" doc:"review, visit, data_drop, line_management, meeting, training, report or other."`
	Title         string    `json:"title" doc:"What happens."`
	On            time.Time `json:"on" doc:"Day it is scheduled for."`
}

// TimelineItemRescheduled records an item moved to another day.
type TimelineItemRescheduled struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	TimelineID    uuid.UUID `json:"timeline_id" doc:"Id of the timeline."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school (all zeros for the whole partnership)."`
	ItemID        uuid.UUID `json:"item_id" doc:"Id of the item."`
	From          time.Time `json:"from" doc:"Day it was scheduled for."`
	On            time.Time `json:"on" doc:"Day it is now scheduled for."`
}

// TimelineItemDone records an item done.
type TimelineItemDone struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	TimelineID    uuid.UUID `json:"timeline_id" doc:"Id of the timeline."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school (all zeros for the whole partnership)."`
	ItemID        uuid.UUID `json:"item_id" doc:"Id of the item."`
	DoneOn        time.Time `json:"done_on" doc:"Day it was marked done."`
	Note          string    `json:"note" doc:"Optional note of what came of it."`
}

// EventType implements domain.Event.
func (TimelineCreated) EventType() string { return "TimelineCreated" }

// EventType implements domain.Event.
func (TimelineItemScheduled) EventType() string { return "TimelineItemScheduled" }

// EventType implements domain.Event.
func (TimelineItemRescheduled) EventType() string { return "TimelineItemRescheduled" }

// EventType implements domain.Event.
func (TimelineItemDone) EventType() string { return "TimelineItemDone" }

func init() {
	domain.MustRegister[TimelineCreated](domain.Spec{Type: "TimelineCreated", Schema: 1, Group: Group,
		Doc: "A school-improvement programme (a timeline of events through the academic year) was created for the partnership or one member school, followed in the same command by one TimelineItemScheduled per item. Stream `timeline-<id>`.", EmittedBy: []string{"CreateTimeline"}})
	domain.MustRegister[TimelineItemScheduled](domain.Spec{Type: "TimelineItemScheduled", Schema: 1, Group: Group,
		Doc: "An item (a review, visit, data drop, line-management meeting, training, report…) was scheduled on the timeline.", EmittedBy: []string{"CreateTimeline", "AddTimelineItem"}})
	domain.MustRegister[TimelineItemRescheduled](domain.Spec{Type: "TimelineItemRescheduled", Schema: 1, Group: Group,
		Doc: "An item of the timeline was moved to another day.", EmittedBy: []string{"RescheduleTimelineItem"}})
	domain.MustRegister[TimelineItemDone](domain.Spec{Type: "TimelineItemDone", Schema: 1, Group: Group,
		Doc: "An item of the timeline was done.", EmittedBy: []string{"MarkTimelineItemDone"}})
}

// TimelineItem is one item of a timeline.
type TimelineItem struct {
	ID    uuid.UUID
	Kind  ItemKind
	Title string
	On    time.Time
	Done  bool
	// DoneOn and Note are set once done.
	DoneOn time.Time
	Note   string
	// Rescheduled counts the times it was moved.
	Rescheduled int
}

// Timeline is the aggregate of a school-improvement programme.
type Timeline struct {
	ID            uuid.UUID
	PartnershipID uuid.UUID
	SchoolID      uuid.UUID
	AcademicYear  string
	Title         string
	// ItemList is every item in the order scheduled; Items sorts them.
	ItemList []TimelineItem
}

// NewTimeline returns an empty Timeline aggregate.
func NewTimeline() *Timeline { return &Timeline{} }

// Created reports whether the timeline has been created.
func (t *Timeline) Created() bool { return t.ID != uuid.Nil }

func (t *Timeline) item(id uuid.UUID) *TimelineItem {
	for i := range t.ItemList {
		if t.ItemList[i].ID == id {
			return &t.ItemList[i]
		}
	}
	return nil
}

// Apply implements domain.Aggregate.
func (t *Timeline) Apply(m domain.Message) {
	switch e := m.Event.(type) {
	case TimelineCreated:
		t.ID, t.PartnershipID, t.SchoolID, t.AcademicYear, t.Title = e.TimelineID, e.PartnershipID, e.SchoolID, e.AcademicYear, e.Title
	case TimelineItemScheduled:
		t.ItemList = append(t.ItemList, TimelineItem{ID: e.ItemID, Kind: e.Kind, Title: e.Title, On: e.On})
	case TimelineItemRescheduled:
		if it := t.item(e.ItemID); it != nil {
			it.On = e.On
			it.Rescheduled++
		}
	case TimelineItemDone:
		if it := t.item(e.ItemID); it != nil {
			it.Done, it.DoneOn, it.Note = true, e.DoneOn, e.Note
		}
	}
}

// Item returns the item with id.
func (t *Timeline) Item(id uuid.UUID) (TimelineItem, bool) {
	if it := t.item(id); it != nil {
		return *it, true
	}
	return TimelineItem{}, false
}

func byDay(a, b TimelineItem) int {
	return cmp.Or(a.On.Compare(b.On), cmp.Compare(a.Title, b.Title))
}

// Items returns every item by day (then title).
func (t *Timeline) Items() []TimelineItem {
	out := slices.Clone(t.ItemList)
	slices.SortStableFunc(out, byDay)
	return out
}

// NextItems answers "what comes next": the first n items not yet done
// that are scheduled on or after the day of now, by day. With n ≤ 0 it
// returns them all.
func (t *Timeline) NextItems(now time.Time, n int) []TimelineItem {
	today := Date(now)
	var out []TimelineItem
	for _, it := range t.ItemList { // filtered, then sorted as Items sorts
		if !it.Done && !it.On.Before(today) {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, byDay)
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Outstanding returns the items not done whose day is before the day of
// now, by day.
func (t *Timeline) Outstanding(now time.Time) []TimelineItem {
	today := Date(now)
	var out []TimelineItem
	for _, it := range t.ItemList { // filtered, then sorted as Items sorts
		if !it.Done && it.On.Before(today) {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, byDay)
	return out
}

// PlannedItem is an item to put on a timeline.
type PlannedItem struct {
	// ItemID may be left empty when creating a timeline: it is then
	// derived from the timeline's id and the item's place in the list.
	ItemID uuid.UUID `json:"item_id"`
	Kind   ItemKind  `json:"kind"`
	Title  string    `json:"title"`
	On     time.Time `json:"on"`
}

// DefaultTemplate returns the default school-improvement programme for an
// academic year label such as "2025-26", from 1 September, after the
// trust handbooks it is modelled on: INSET and a school development plan
// meeting with each Director in the first weeks; half-termly
// line-management meetings on first-hand evidence and traffic-light data
// drops; school-improvement visits each term; peer review visits in
// Autumn 2 and Spring 2; TeachMeets; termly reports to trustees and
// governors; and the year-end self-evaluation and annual partnership
// report. Half-terms start as Term.Starts gives; items are in date order,
// without ids (CreateTimeline derives them). Returns an error for a
// malformed label.
func DefaultTemplate(academicYear string) ([]PlannedItem, error) {
	if _, err := ParseAcademicYear(academicYear); err != nil {
		return nil, err
	}
	at := func(code TermCode, week int, weekday time.Weekday) time.Time {
		start := Term{AcademicYear: academicYear, Code: code}.Starts()
		monday := start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		d := monday.AddDate(0, 0, (week-1)*7+(int(weekday)+6)%7)
		if d.Before(start) {
			return start
		}
		return d
	}
	const (
		lineMgmt = "Half-termly line-management meetings: first-hand evidence reviewed with middle leaders"
		dataDrop = "Data drop: traffic-light (red, amber, green) progress ratings by area and cohort"
		teachMt  = "Partnership TeachMeet"
		siVisit  = "School-improvement visit"
		peerRev  = "Peer review visit by partner schools"
		report   = "Termly report to trustees and governors"
	)
	items := []PlannedItem{
		{Kind: ItemTraining, Title: "INSET: the school-improvement handbook and this year's timeline", On: at(Autumn1, 1, time.Monday)},
		{Kind: ItemMeeting, Title: "Summer exam results analysis", On: at(Autumn1, 2, time.Wednesday)},
		{Kind: ItemMeeting, Title: "School development plan, context review and leadership coaching with each Director", On: at(Autumn1, 3, time.Thursday)},
		{Kind: ItemLineManagement, Title: lineMgmt, On: at(Autumn1, 5, time.Tuesday)},
		{Kind: ItemVisit, Title: siVisit, On: at(Autumn1, 6, time.Thursday)},
		{Kind: ItemDataDrop, Title: dataDrop, On: at(Autumn1, 7, time.Wednesday)},

		{Kind: ItemTraining, Title: teachMt, On: at(Autumn2, 2, time.Thursday)},
		{Kind: ItemReview, Title: peerRev, On: at(Autumn2, 3, time.Wednesday)},
		{Kind: ItemLineManagement, Title: lineMgmt, On: at(Autumn2, 4, time.Tuesday)},
		{Kind: ItemDataDrop, Title: dataDrop, On: at(Autumn2, 5, time.Wednesday)},
		{Kind: ItemReport, Title: report, On: at(Autumn2, 6, time.Monday)},

		{Kind: ItemTraining, Title: "INSET: partnership CPD day", On: at(Spring1, 1, time.Monday)},
		{Kind: ItemVisit, Title: siVisit, On: at(Spring1, 3, time.Thursday)},
		{Kind: ItemLineManagement, Title: lineMgmt, On: at(Spring1, 4, time.Tuesday)},
		{Kind: ItemDataDrop, Title: dataDrop, On: at(Spring1, 5, time.Wednesday)},

		{Kind: ItemTraining, Title: teachMt, On: at(Spring2, 2, time.Thursday)},
		{Kind: ItemReview, Title: peerRev, On: at(Spring2, 3, time.Wednesday)},
		{Kind: ItemLineManagement, Title: lineMgmt, On: at(Spring2, 4, time.Tuesday)},
		{Kind: ItemReport, Title: report, On: at(Spring2, 5, time.Monday)},
		{Kind: ItemDataDrop, Title: dataDrop, On: at(Spring2, 5, time.Wednesday)},

		{Kind: ItemVisit, Title: siVisit, On: at(Summer1, 2, time.Thursday)},
		{Kind: ItemLineManagement, Title: lineMgmt, On: at(Summer1, 4, time.Tuesday)},
		{Kind: ItemDataDrop, Title: dataDrop, On: at(Summer1, 5, time.Wednesday)},

		{Kind: ItemTraining, Title: teachMt, On: at(Summer2, 1, time.Thursday)},
		{Kind: ItemLineManagement, Title: lineMgmt, On: at(Summer2, 3, time.Tuesday)},
		{Kind: ItemDataDrop, Title: "Data drop: end-of-year traffic-light progress ratings", On: at(Summer2, 4, time.Wednesday)},
		{Kind: ItemReview, Title: "Year-end self-evaluation and next year's school development plan", On: at(Summer2, 5, time.Monday)},
		{Kind: ItemReport, Title: "Annual partnership report: collective reporting, accountability and celebrating", On: at(Summer2, 6, time.Monday)},
	}
	slices.SortStableFunc(items, func(a, b PlannedItem) int { return a.On.Compare(b.On) })
	return items, nil
}

// ItemID returns the id CreateTimeline gives the i-th (0-based) planned
// item of timeline when the item names none.
func ItemID(timeline uuid.UUID, i int) uuid.UUID {
	return uuid.NewSHA1(timeline, []byte(fmt.Sprintf("item:%d", i)))
}

// checkItem validates a planned item against the academic year's days.
func checkItem(field string, it PlannedItem, year string) (PlannedItem, error) {
	if !it.Kind.Valid() {
		return it, domain.RejectField(domain.ErrInvalidValue, field, "%q is not a kind of timeline item: use review, visit, data_drop, line_management, meeting, training, report or other", it.Kind)
	}
	title, err := text(field, it.Title, maxName, true)
	if err != nil {
		return it, err
	}
	it.Title = title
	it.On = Date(it.On)
	if it.On.IsZero() {
		return it, domain.RejectField(domain.ErrRequired, field, "give the day of %q", title)
	}
	if got := AcademicYearOf(it.On); got != year {
		return it, domain.RejectField(domain.ErrInvalidValue, field, "%q is on %s, which is in %s, not in the timeline's year %s", title, day(it.On), got, year)
	}
	return it, nil
}

// CreateTimeline is the command to create a school-improvement programme.
type CreateTimeline struct {
	TimelineID    uuid.UUID `json:"timeline_id"`
	PartnershipID uuid.UUID `json:"partnership_id"`
	// SchoolID optionally makes it one member school's programme.
	SchoolID     uuid.UUID `json:"school_id"`
	AcademicYear string    `json:"academic_year"`
	Title        string    `json:"title"`
	// Items are the programme; when empty, DefaultTemplate(AcademicYear)
	// is used.
	Items []PlannedItem `json:"items"`
}

// CreateTimeline records TimelineCreated and one TimelineItemScheduled
// per item. Returns domain.ErrNotFound for an unknown partnership,
// ErrNotPartnershipMember for a school that is not a member,
// domain.ErrAlreadyExists for a timeline id already used, and
// domain.ErrRequired or ErrInvalidValue for a missing title, a malformed
// year, or an item of an unknown kind, without a title, with a repeated id
// or on a day outside the year.
func (s *Service) CreateTimeline(ctx context.Context, meta domain.Meta, cmd CreateTimeline) (domain.Result, error) {
	if err := requireIDs(fieldID{"timeline_id", cmd.TimelineID}, fieldID{"partnership_id", cmd.PartnershipID}); err != nil {
		return domain.Result{}, err
	}
	title, err := text("title", cmd.Title, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	if err := academicYear("academic_year", cmd.AcademicYear); err != nil {
		return domain.Result{}, err
	}
	items := cmd.Items
	if len(items) == 0 {
		if items, err = DefaultTemplate(cmd.AcademicYear); err != nil {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "academic_year", "%v", err)
		}
	}
	var schools []fieldID
	if cmd.SchoolID != uuid.Nil {
		schools = append(schools, fieldID{"school_id", cmd.SchoolID})
	}
	if _, err := s.member(ctx, cmd.PartnershipID, schools...); err != nil {
		return domain.Result{}, err
	}
	es := events(TimelineCreated{PartnershipID: cmd.PartnershipID, TimelineID: cmd.TimelineID, SchoolID: cmd.SchoolID, AcademicYear: cmd.AcademicYear, Title: title})
	seen := map[uuid.UUID]bool{}
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		it, err := checkItem(field, it, cmd.AcademicYear)
		if err != nil {
			return domain.Result{}, err
		}
		if it.ItemID == uuid.Nil {
			it.ItemID = ItemID(cmd.TimelineID, i)
		}
		if seen[it.ItemID] {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, field, "item id %s is used twice", it.ItemID)
		}
		seen[it.ItemID] = true
		es = append(es, TimelineItemScheduled{PartnershipID: cmd.PartnershipID, TimelineID: cmd.TimelineID, SchoolID: cmd.SchoolID,
			ItemID: it.ItemID, Kind: it.Kind, Title: it.Title, On: it.On})
	}
	return run(ctx, s, TimelineStream(cmd.TimelineID), NewTimeline, meta, func(t *Timeline) ([]domain.Event, error) {
		if t.Created() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "timeline_id", "timeline %s (%s) already exists", t.ID, t.Title)
		}
		return es, nil
	})
}

// timeline runs decide on timeline id once it is known to exist.
func (s *Service) timeline(ctx context.Context, meta domain.Meta, id uuid.UUID, decide func(*Timeline) ([]domain.Event, error)) (domain.Result, error) {
	return run(ctx, s, TimelineStream(id), NewTimeline, meta, func(t *Timeline) ([]domain.Event, error) {
		if !t.Created() {
			return nil, domain.RejectField(domain.ErrNotFound, "timeline_id", "no timeline %s exists", id)
		}
		return decide(t)
	})
}

// AddTimelineItem is the command to add an item to a timeline.
type AddTimelineItem struct {
	TimelineID uuid.UUID `json:"timeline_id"`
	ItemID     uuid.UUID `json:"item_id"`
	Kind       ItemKind  `json:"kind"`
	Title      string    `json:"title"`
	On         time.Time `json:"on"`
}

// AddTimelineItem records TimelineItemScheduled. Returns
// domain.ErrNotFound for an unknown timeline, domain.ErrAlreadyExists for
// an item id already used, and domain.ErrRequired or ErrInvalidValue for
// an unknown kind, a missing title or a day outside the timeline's year.
func (s *Service) AddTimelineItem(ctx context.Context, meta domain.Meta, cmd AddTimelineItem) (domain.Result, error) {
	if err := requireIDs(fieldID{"timeline_id", cmd.TimelineID}, fieldID{"item_id", cmd.ItemID}); err != nil {
		return domain.Result{}, err
	}
	return s.timeline(ctx, meta, cmd.TimelineID, func(t *Timeline) ([]domain.Event, error) {
		it, err := checkItem("on", PlannedItem{ItemID: cmd.ItemID, Kind: cmd.Kind, Title: cmd.Title, On: cmd.On}, t.AcademicYear)
		if err != nil {
			return nil, err
		}
		if _, ok := t.Item(cmd.ItemID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "item_id", "item %s is already on the timeline", cmd.ItemID)
		}
		return events(TimelineItemScheduled{PartnershipID: t.PartnershipID, TimelineID: t.ID, SchoolID: t.SchoolID, ItemID: it.ItemID, Kind: it.Kind, Title: it.Title, On: it.On}), nil
	})
}

// RescheduleTimelineItem is the command to move an item to another day.
// Say why in meta.Reason.
type RescheduleTimelineItem struct {
	TimelineID uuid.UUID `json:"timeline_id"`
	ItemID     uuid.UUID `json:"item_id"`
	On         time.Time `json:"on"`
}

// RescheduleTimelineItem records TimelineItemRescheduled; moving an item
// to the day it is already on records nothing. Returns domain.ErrNotFound
// for an unknown timeline or item, ErrTimelineItemDone for an item already
// done, and domain.ErrRequired or ErrInvalidValue for no day or a day
// outside the timeline's year.
func (s *Service) RescheduleTimelineItem(ctx context.Context, meta domain.Meta, cmd RescheduleTimelineItem) (domain.Result, error) {
	if err := requireIDs(fieldID{"timeline_id", cmd.TimelineID}, fieldID{"item_id", cmd.ItemID}); err != nil {
		return domain.Result{}, err
	}
	on := Date(cmd.On)
	if on.IsZero() {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "on", "give the new day")
	}
	return s.timeline(ctx, meta, cmd.TimelineID, func(t *Timeline) ([]domain.Event, error) {
		it, ok := t.Item(cmd.ItemID)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "item_id", "timeline %s has no item %s", t.ID, cmd.ItemID)
		}
		if it.Done {
			return nil, domain.Reject(ErrTimelineItemDone, "%q was done on %s; it cannot be moved", it.Title, day(it.DoneOn))
		}
		if got := AcademicYearOf(on); got != t.AcademicYear {
			return nil, domain.RejectField(domain.ErrInvalidValue, "on", "%s is in %s, not in the timeline's year %s", day(on), got, t.AcademicYear)
		}
		if on.Equal(it.On) {
			return nil, nil
		}
		return events(TimelineItemRescheduled{PartnershipID: t.PartnershipID, TimelineID: t.ID, SchoolID: t.SchoolID, ItemID: it.ID, From: it.On, On: on}), nil
	})
}

// MarkTimelineItemDone is the command to mark an item done.
type MarkTimelineItemDone struct {
	TimelineID uuid.UUID `json:"timeline_id"`
	ItemID     uuid.UUID `json:"item_id"`
	Note       string    `json:"note"`
}

// MarkTimelineItemDone records TimelineItemDone. Returns
// domain.ErrNotFound for an unknown timeline or item and
// ErrTimelineItemDone for an item already done.
func (s *Service) MarkTimelineItemDone(ctx context.Context, meta domain.Meta, cmd MarkTimelineItemDone) (domain.Result, error) {
	if err := requireIDs(fieldID{"timeline_id", cmd.TimelineID}, fieldID{"item_id", cmd.ItemID}); err != nil {
		return domain.Result{}, err
	}
	note, err := text("note", cmd.Note, maxText, false)
	if err != nil {
		return domain.Result{}, err
	}
	today := s.day(meta)
	return s.timeline(ctx, meta, cmd.TimelineID, func(t *Timeline) ([]domain.Event, error) {
		it, ok := t.Item(cmd.ItemID)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "item_id", "timeline %s has no item %s", t.ID, cmd.ItemID)
		}
		if it.Done {
			return nil, domain.Reject(ErrTimelineItemDone, "%q was already marked done on %s", it.Title, day(it.DoneOn))
		}
		return events(TimelineItemDone{PartnershipID: t.PartnershipID, TimelineID: t.ID, SchoolID: t.SchoolID, ItemID: it.ID, DoneOn: today, Note: note}), nil
	})
}
