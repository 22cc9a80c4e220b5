package partnership

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// CPDKind is the kind of shared professional learning or event.
type CPDKind string

// The kinds of shared CPD and event.
const (
	CPDSession CPDKind = "cpd"
	TeachMeet  CPDKind = "teachmeet"
	Shadowing  CPDKind = "shadowing"
	Trip       CPDKind = "trip"
	Event      CPDKind = "event"
)

// String implements fmt.Stringer.
func (k CPDKind) String() string { return string(k) }

// Valid reports whether k is cpd, teachmeet, shadowing, trip or event.
func (k CPDKind) Valid() bool {
	switch k {
	case CPDSession, TeachMeet, Shadowing, Trip, Event:
		return true
	}
	return false
}

// CPDEventOrganised records a school organising shared CPD, a TeachMeet,
// staff shadowing, a trip or an event with places for its partners.
type CPDEventOrganised struct {
	PartnershipID     uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CPDID             uuid.UUID `json:"cpd_id" doc:"Id of the CPD event."`
	OrganiserSchoolID uuid.UUID `json:"organiser_school_id" doc:"Id of the school organising it."`
	Kind              CPDKind   `json:"kind" doc:"cpd, teachmeet, shadowing, trip or event."`
	Title             string    `json:"title" doc:"What it is, e.g. Retrieval practice TeachMeet."`
	StartsAt          time.Time `json:"starts_at" doc:"When it starts."`
	EndsAt            time.Time `json:"ends_at" doc:"When it ends."`
	AcademicYear      string    `json:"academic_year" doc:"Academic year it takes place in, e.g. 2025-26."`
	Places            int       `json:"places" doc:"Places offered to member schools."`
	CostPerPlacePence int64     `json:"cost_per_place_pence" doc:"Full cost of one place, in pence (0 when free)."`
	BulkMinPlaces     int       `json:"bulk_min_places" doc:"Places the partnership must book in all for the bulk discount to apply (0: no discount)."`
	BulkPercentOff    int       `json:"bulk_percent_off" doc:"Bulk discount on every place, in percent (0: none)."`
}

// CPDPlacesBooked records a member school booking places.
type CPDPlacesBooked struct {
	PartnershipID     uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CPDID             uuid.UUID `json:"cpd_id" doc:"Id of the CPD event."`
	OrganiserSchoolID uuid.UUID `json:"organiser_school_id" doc:"Id of the organising school."`
	BookingID         uuid.UUID `json:"booking_id" doc:"Id of the booking."`
	SchoolID          uuid.UUID `json:"school_id" doc:"Id of the school booking."`
	Places            int       `json:"places" doc:"Places booked."`
}

// CPDBookingCancelled records a booking called off; its places are free
// again.
type CPDBookingCancelled struct {
	PartnershipID     uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CPDID             uuid.UUID `json:"cpd_id" doc:"Id of the CPD event."`
	OrganiserSchoolID uuid.UUID `json:"organiser_school_id" doc:"Id of the organising school."`
	BookingID         uuid.UUID `json:"booking_id" doc:"Id of the booking."`
	SchoolID          uuid.UUID `json:"school_id" doc:"Id of the school that had booked."`
	Places            int       `json:"places" doc:"Places released."`
}

// CPDAttendanceRecorded records how many of a booking's places were used.
type CPDAttendanceRecorded struct {
	PartnershipID     uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CPDID             uuid.UUID `json:"cpd_id" doc:"Id of the CPD event."`
	OrganiserSchoolID uuid.UUID `json:"organiser_school_id" doc:"Id of the organising school."`
	BookingID         uuid.UUID `json:"booking_id" doc:"Id of the booking."`
	SchoolID          uuid.UUID `json:"school_id" doc:"Id of the school that booked."`
	Places            int       `json:"places" doc:"Places booked."`
	Attended          int       `json:"attended" doc:"How many people attended on those places."`
}

// EventType implements domain.Event.
func (CPDEventOrganised) EventType() string { return "CPDEventOrganised" }

// EventType implements domain.Event.
func (CPDPlacesBooked) EventType() string { return "CPDPlacesBooked" }

// EventType implements domain.Event.
func (CPDBookingCancelled) EventType() string { return "CPDBookingCancelled" }

// EventType implements domain.Event.
func (CPDAttendanceRecorded) EventType() string { return "CPDAttendanceRecorded" }

func init() {
	domain.MustRegister[CPDEventOrganised](domain.Spec{Type: "CPDEventOrganised", Schema: 1, Group: Group,
		Doc: "A member school organised shared CPD, a TeachMeet, staff shadowing, a trip or an event, with places for the partnership, a cost per place and an optional bulk discount. Stream `cpd-<id>`, which also holds its bookings.", EmittedBy: []string{"OrganiseCPD"}})
	domain.MustRegister[CPDPlacesBooked](domain.Spec{Type: "CPDPlacesBooked", Schema: 1, Group: Group,
		Doc: "A member school booked places; an event is never booked beyond its places.", EmittedBy: []string{"BookCPDPlaces"}})
	domain.MustRegister[CPDBookingCancelled](domain.Spec{Type: "CPDBookingCancelled", Schema: 1, Group: Group,
		Doc: "A booking was cancelled before the event started and its places freed.", EmittedBy: []string{"CancelCPDBooking"}})
	domain.MustRegister[CPDAttendanceRecorded](domain.Spec{Type: "CPDAttendanceRecorded", Schema: 1, Group: Group,
		Doc: "How many people attended on a booking's places.", EmittedBy: []string{"RecordCPDAttendance"}})
}

// Booking is a school's booking of places.
type Booking struct {
	ID        uuid.UUID
	SchoolID  uuid.UUID
	Places    int
	Cancelled bool
	// Recorded is true once attendance is recorded, in Attended.
	Recorded bool
	Attended int
}

// CPDEvent is the aggregate of a shared CPD session or event and its
// bookings; it holds the rule that it is never overbooked.
type CPDEvent struct {
	ID                uuid.UUID
	PartnershipID     uuid.UUID
	OrganiserSchoolID uuid.UUID
	Kind              CPDKind
	Title             string
	StartsAt, EndsAt  time.Time
	AcademicYear      string
	Places            int
	CostPerPlacePence int64
	BulkMinPlaces     int
	BulkPercentOff    int
	// Bookings are in the order made.
	Bookings []Booking

	first uuid.UUID
}

// NewCPDEvent returns an empty CPDEvent aggregate.
func NewCPDEvent() *CPDEvent { return &CPDEvent{} }

// Organised reports whether the event has been organised.
func (c *CPDEvent) Organised() bool { return c.ID != uuid.Nil }

// CorrelationID implements domain.Correlated: every event of one CPD
// event shares the id of the event that organised it.
func (c *CPDEvent) CorrelationID() uuid.UUID { return c.first }

func (c *CPDEvent) booking(id uuid.UUID) *Booking {
	for i := range c.Bookings {
		if c.Bookings[i].ID == id {
			return &c.Bookings[i]
		}
	}
	return nil
}

// Apply implements domain.Aggregate.
func (c *CPDEvent) Apply(m domain.Message) {
	if c.first == uuid.Nil {
		c.first = m.ID
	}
	c.Fold(m.Event)
}

// Fold folds the event itself into c, as Apply does (which also notes the
// first event's id): a read model keeping CPD events with their changes
// folds them with it.
func (c *CPDEvent) Fold(e domain.Event) {
	switch e := e.(type) {
	case CPDEventOrganised:
		c.ID, c.PartnershipID, c.OrganiserSchoolID, c.Kind, c.Title = e.CPDID, e.PartnershipID, e.OrganiserSchoolID, e.Kind, e.Title
		c.StartsAt, c.EndsAt, c.AcademicYear, c.Places = e.StartsAt, e.EndsAt, e.AcademicYear, e.Places
		c.CostPerPlacePence, c.BulkMinPlaces, c.BulkPercentOff = e.CostPerPlacePence, e.BulkMinPlaces, e.BulkPercentOff
	case CPDPlacesBooked:
		c.Bookings = append(c.Bookings, Booking{ID: e.BookingID, SchoolID: e.SchoolID, Places: e.Places})
	case CPDBookingCancelled:
		if b := c.booking(e.BookingID); b != nil {
			b.Cancelled = true
		}
	case CPDAttendanceRecorded:
		if b := c.booking(e.BookingID); b != nil {
			b.Recorded, b.Attended = true, e.Attended
		}
	}
}

// Booking returns the booking with id.
func (c *CPDEvent) Booking(id uuid.UUID) (Booking, bool) {
	if b := c.booking(id); b != nil {
		return *b, true
	}
	return Booking{}, false
}

// PlacesBooked returns the places held by bookings not cancelled.
func (c *CPDEvent) PlacesBooked() int {
	n := 0
	for _, b := range c.Bookings {
		if !b.Cancelled {
			n += b.Places
		}
	}
	return n
}

// PlacesLeft returns the places still free.
func (c *CPDEvent) PlacesLeft() int { return c.Places - c.PlacesBooked() }

// Attendance returns, over the bookings whose attendance is recorded, the
// places booked and the people who attended.
func (c *CPDEvent) Attendance() (booked, attended int) {
	for _, b := range c.Bookings {
		if b.Recorded && !b.Cancelled {
			booked += b.Places
			attended += b.Attended
		}
	}
	return booked, attended
}

// DiscountApplies reports whether enough places are booked for the bulk
// discount.
func (c *CPDEvent) DiscountApplies() bool { return c.DiscountWith(c.PlacesBooked()) }

// DiscountWith reports whether the bulk discount applies with booked
// places booked (not cancelled) in all.
func (c *CPDEvent) DiscountWith(booked int) bool {
	return c.BulkPercentOff > 0 && c.BulkMinPlaces > 0 && booked >= c.BulkMinPlaces
}

// CPDCost is what places cost: at full price, what is paid, and the
// saving from the bulk discount.
type CPDCost struct {
	Places       int
	FullPence    int64
	PaidPence    int64
	SavingsPence int64
}

func (c *CPDCost) add(o CPDCost) {
	c.Places += o.Places
	c.FullPence += o.FullPence
	c.PaidPence += o.PaidPence
	c.SavingsPence += o.SavingsPence
}

// CPDCosts are an event's costs overall and by booking school.
type CPDCosts struct {
	CPDCost
	DiscountApplies bool
	BySchool        map[uuid.UUID]CPDCost
}

// Costs returns the cost of the places booked (not cancelled): each
// booking pays its places at the full price less the bulk discount when
// the partnership's bookings together reach the bulk threshold (the
// discount on each booking rounded down to a penny).
func (c *CPDEvent) Costs() CPDCosts {
	out := CPDCosts{DiscountApplies: c.DiscountApplies(), BySchool: map[uuid.UUID]CPDCost{}}
	c.EachCost(func(school uuid.UUID, cost CPDCost) {
		out.add(cost)
		s := out.BySchool[school]
		s.add(cost)
		out.BySchool[school] = s
	})
	return out
}

// Total is Costs without the split by school (and without building it).
func (c *CPDEvent) Total() (cost CPDCost, discount bool) {
	c.EachCost(func(_ uuid.UUID, one CPDCost) { cost.add(one) })
	return cost, c.DiscountApplies()
}

// EachCost calls fn with each booking's school and cost, as Costs reckons
// them (cancelled bookings cost nothing and are skipped).
func (c *CPDEvent) EachCost(fn func(school uuid.UUID, cost CPDCost)) {
	discount := c.DiscountApplies()
	for _, b := range c.Bookings {
		if !b.Cancelled {
			fn(b.SchoolID, c.BookingCost(b, discount))
		}
	}
}

// BookingCost is what booking b costs, the bulk discount applying or not
// (a cancelled booking costs what its places would).
func (c *CPDEvent) BookingCost(b Booking, discount bool) CPDCost {
	cost := CPDCost{Places: b.Places, FullPence: int64(b.Places) * c.CostPerPlacePence}
	if discount {
		cost.SavingsPence = cost.FullPence * int64(c.BulkPercentOff) / 100
	}
	cost.PaidPence = cost.FullPence - cost.SavingsPence
	return cost
}

// CPDTotals sums the costs and attendance of several events, for the
// partnership report.
type CPDTotals struct {
	CPDCost
	Events   int
	Booked   int
	Attended int
}

// SumCPD sums the costs and recorded attendance of events.
func SumCPD(events ...*CPDEvent) CPDTotals {
	var t CPDTotals
	for _, e := range events {
		t.Events++
		cost, _ := e.Total()
		t.add(cost)
		b, a := e.Attendance()
		t.Booked += b
		t.Attended += a
	}
	return t
}

func (s *Service) cpdEvent(ctx context.Context, id uuid.UUID) (*CPDEvent, error) {
	c, _, err := domain.Peek(ctx, s.h, CPDStream(id), NewCPDEvent)
	if err != nil {
		return nil, err
	}
	if !c.Organised() {
		return nil, domain.RejectField(domain.ErrNotFound, "cpd_id", "no CPD event %s is organised", id)
	}
	return c, nil
}

// OrganiseCPD is the command for a member school to organise shared CPD or
// an event.
type OrganiseCPD struct {
	CPDID             uuid.UUID `json:"cpd_id"`
	PartnershipID     uuid.UUID `json:"partnership_id"`
	OrganiserSchoolID uuid.UUID `json:"organiser_school_id"`
	Kind              CPDKind   `json:"kind"`
	Title             string    `json:"title"`
	StartsAt          time.Time `json:"starts_at"`
	EndsAt            time.Time `json:"ends_at"`
	Places            int       `json:"places"`
	CostPerPlacePence int64     `json:"cost_per_place_pence"`
	// BulkMinPlaces and BulkPercentOff set an optional bulk discount: when
	// the partnership books at least BulkMinPlaces places in all, every
	// place costs BulkPercentOff percent less.
	BulkMinPlaces  int `json:"bulk_min_places"`
	BulkPercentOff int `json:"bulk_percent_off"`
}

// OrganiseCPD records CPDEventOrganised. Returns domain.ErrNotFound for an
// unknown partnership, ErrNotPartnershipMember when the organiser is not a
// member, domain.ErrAlreadyExists for an id already used, and
// domain.ErrRequired or ErrInvalidValue for missing fields, an end not
// after the start, no places, a negative cost or a discount that is not
// 1–100% with a threshold of at least one place.
func (s *Service) OrganiseCPD(ctx context.Context, meta domain.Meta, cmd OrganiseCPD) (domain.Result, error) {
	if err := requireIDs(fieldID{"cpd_id", cmd.CPDID}, fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"organiser_school_id", cmd.OrganiserSchoolID}); err != nil {
		return domain.Result{}, err
	}
	if !cmd.Kind.Valid() {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of event: use cpd, teachmeet, shadowing, trip or event", cmd.Kind)
	}
	title, err := text("title", cmd.Title, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	if err := requireWindow("starts_at", cmd.StartsAt, cmd.EndsAt); err != nil {
		return domain.Result{}, err
	}
	if cmd.Places < 1 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "places", "offer at least one place (not %d)", cmd.Places)
	}
	if cmd.CostPerPlacePence < 0 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "cost_per_place_pence", "the cost of a place cannot be negative (%d)", cmd.CostPerPlacePence)
	}
	if cmd.BulkPercentOff != 0 || cmd.BulkMinPlaces != 0 {
		if cmd.BulkPercentOff < 1 || cmd.BulkPercentOff > 100 {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "bulk_percent_off", "a bulk discount is 1 to 100 percent, not %d", cmd.BulkPercentOff)
		}
		if cmd.BulkMinPlaces < 1 {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "bulk_min_places", "say how many places must be booked for the bulk discount (at least 1, not %d)", cmd.BulkMinPlaces)
		}
	}
	if _, err := s.member(ctx, cmd.PartnershipID, fieldID{"organiser_school_id", cmd.OrganiserSchoolID}); err != nil {
		return domain.Result{}, err
	}
	starts, ends := utc(cmd.StartsAt), utc(cmd.EndsAt)
	return run(ctx, s, CPDStream(cmd.CPDID), NewCPDEvent, meta, func(c *CPDEvent) ([]domain.Event, error) {
		if c.Organised() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "cpd_id", "CPD event %s (%s) is already organised", c.ID, c.Title)
		}
		return events(CPDEventOrganised{PartnershipID: cmd.PartnershipID, CPDID: cmd.CPDID, OrganiserSchoolID: cmd.OrganiserSchoolID, Kind: cmd.Kind,
			Title: title, StartsAt: starts, EndsAt: ends, AcademicYear: AcademicYearOf(starts), Places: cmd.Places,
			CostPerPlacePence: cmd.CostPerPlacePence, BulkMinPlaces: cmd.BulkMinPlaces, BulkPercentOff: cmd.BulkPercentOff}), nil
	})
}

// BookCPDPlaces is the command for a member school to book places.
type BookCPDPlaces struct {
	CPDID     uuid.UUID `json:"cpd_id"`
	BookingID uuid.UUID `json:"booking_id"`
	SchoolID  uuid.UUID `json:"school_id"`
	Places    int       `json:"places"`
}

// BookCPDPlaces records CPDPlacesBooked. Returns domain.ErrNotFound for an
// unknown event, ErrNotPartnershipMember for a school that is not a
// member, ErrNoPlacesLeft when fewer places are left than asked for,
// ErrBookingState once the event has ended, domain.ErrAlreadyExists for a
// booking id already used, and domain.ErrInvalidValue for fewer than one
// place.
func (s *Service) BookCPDPlaces(ctx context.Context, meta domain.Meta, cmd BookCPDPlaces) (domain.Result, error) {
	if err := requireIDs(fieldID{"cpd_id", cmd.CPDID}, fieldID{"booking_id", cmd.BookingID}, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	if cmd.Places < 1 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "places", "book at least one place (not %d)", cmd.Places)
	}
	c, err := s.cpdEvent(ctx, cmd.CPDID)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := s.member(ctx, c.PartnershipID, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	now := s.at(meta)
	return run(ctx, s, CPDStream(cmd.CPDID), NewCPDEvent, meta, func(c *CPDEvent) ([]domain.Event, error) {
		if _, ok := c.Booking(cmd.BookingID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "booking_id", "booking %s is already made", cmd.BookingID)
		}
		if !now.Before(c.EndsAt) {
			return nil, domain.Reject(ErrBookingState, "%s ended on %s; it can no longer be booked", c.Title, day(c.EndsAt))
		}
		if left := c.PlacesLeft(); cmd.Places > left {
			return nil, domain.RejectField(ErrNoPlacesLeft, "places", "%s has %d of its %d places left, and %d were asked for; book fewer places or ask the organiser to offer more", c.Title, left, c.Places, cmd.Places)
		}
		return events(CPDPlacesBooked{PartnershipID: c.PartnershipID, CPDID: c.ID, OrganiserSchoolID: c.OrganiserSchoolID, BookingID: cmd.BookingID, SchoolID: cmd.SchoolID, Places: cmd.Places}), nil
	})
}

// CancelCPDBooking is the command to cancel a booking before the event
// starts. Say why in meta.Reason.
type CancelCPDBooking struct {
	CPDID     uuid.UUID `json:"cpd_id"`
	BookingID uuid.UUID `json:"booking_id"`
}

// CancelCPDBooking records CPDBookingCancelled. Returns domain.ErrNotFound
// for an unknown event or booking and ErrBookingState for a booking
// already cancelled or an event that has started.
func (s *Service) CancelCPDBooking(ctx context.Context, meta domain.Meta, cmd CancelCPDBooking) (domain.Result, error) {
	if err := requireIDs(fieldID{"cpd_id", cmd.CPDID}, fieldID{"booking_id", cmd.BookingID}); err != nil {
		return domain.Result{}, err
	}
	now := s.at(meta)
	return run(ctx, s, CPDStream(cmd.CPDID), NewCPDEvent, meta, func(c *CPDEvent) ([]domain.Event, error) {
		if !c.Organised() {
			return nil, domain.RejectField(domain.ErrNotFound, "cpd_id", "no CPD event %s is organised", cmd.CPDID)
		}
		b, ok := c.Booking(cmd.BookingID)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "booking_id", "%s has no booking %s", c.Title, cmd.BookingID)
		}
		if b.Cancelled {
			return nil, domain.Reject(ErrBookingState, "booking %s of %s is already cancelled", b.ID, c.Title)
		}
		if !now.Before(c.StartsAt) {
			return nil, domain.Reject(ErrBookingState, "%s started at %s; a booking can only be cancelled before then", c.Title, c.StartsAt.Format(time.RFC3339))
		}
		return events(CPDBookingCancelled{PartnershipID: c.PartnershipID, CPDID: c.ID, OrganiserSchoolID: c.OrganiserSchoolID, BookingID: b.ID, SchoolID: b.SchoolID, Places: b.Places}), nil
	})
}

// RecordCPDAttendance is the command to record how many attended on a
// booking.
type RecordCPDAttendance struct {
	CPDID     uuid.UUID `json:"cpd_id"`
	BookingID uuid.UUID `json:"booking_id"`
	Attended  int       `json:"attended"`
}

// RecordCPDAttendance records CPDAttendanceRecorded. Returns
// domain.ErrNotFound for an unknown event or booking, ErrBookingState for
// a cancelled booking, an event not yet started or attendance already
// recorded (correct it instead), and domain.ErrInvalidValue for a count
// below 0 or above the places booked.
func (s *Service) RecordCPDAttendance(ctx context.Context, meta domain.Meta, cmd RecordCPDAttendance) (domain.Result, error) {
	if err := requireIDs(fieldID{"cpd_id", cmd.CPDID}, fieldID{"booking_id", cmd.BookingID}); err != nil {
		return domain.Result{}, err
	}
	now := s.at(meta)
	return run(ctx, s, CPDStream(cmd.CPDID), NewCPDEvent, meta, func(c *CPDEvent) ([]domain.Event, error) {
		if !c.Organised() {
			return nil, domain.RejectField(domain.ErrNotFound, "cpd_id", "no CPD event %s is organised", cmd.CPDID)
		}
		b, ok := c.Booking(cmd.BookingID)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "booking_id", "%s has no booking %s", c.Title, cmd.BookingID)
		}
		switch {
		case b.Cancelled:
			return nil, domain.Reject(ErrBookingState, "booking %s of %s was cancelled; there is no attendance to record", b.ID, c.Title)
		case now.Before(c.StartsAt):
			return nil, domain.Reject(ErrBookingState, "%s starts at %s; record attendance once it has started", c.Title, c.StartsAt.Format(time.RFC3339))
		case b.Recorded:
			return nil, domain.Reject(ErrBookingState, "attendance of booking %s is already recorded (%d); correct that event if it was wrong", b.ID, b.Attended)
		}
		if cmd.Attended < 0 || cmd.Attended > b.Places {
			return nil, domain.RejectField(domain.ErrInvalidValue, "attended", "booking %s has %d places; attendance must be 0 to %d, not %d", b.ID, b.Places, b.Places, cmd.Attended)
		}
		return events(CPDAttendanceRecorded{PartnershipID: c.PartnershipID, CPDID: c.ID, OrganiserSchoolID: c.OrganiserSchoolID, BookingID: b.ID, SchoolID: b.SchoolID, Places: b.Places, Attended: cmd.Attended}), nil
	})
}
