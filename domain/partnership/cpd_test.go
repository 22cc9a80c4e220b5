package partnership_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

// teachMeet has school B organise a TeachMeet on 15 October 2025, 16:00
// to 18:00, with 10 places at £20 and 25% off once 8 are booked.
func (w *world) teachMeet() uuid.UUID {
	w.t.Helper()
	id := domaintest.ID()
	w.Given(partnership.CPDStream(id), partnership.CPDEventOrganised{PartnershipID: w.pid, CPDID: id, OrganiserSchoolID: w.b, Kind: partnership.TeachMeet,
		Title: "Retrieval practice TeachMeet", StartsAt: at(2025, 10, 15, 16), EndsAt: at(2025, 10, 15, 18), AcademicYear: "2025-26",
		Places: 10, CostPerPlacePence: 2000, BulkMinPlaces: 8, BulkPercentOff: 25})
	return id
}

func (w *world) book(cpd, school uuid.UUID, places int) uuid.UUID {
	w.t.Helper()
	id := domaintest.ID()
	w.ok(w.svc.BookCPDPlaces(w.Ctx, lead, partnership.BookCPDPlaces{CPDID: cpd, BookingID: id, SchoolID: school, Places: places}))
	return id
}

func (w *world) cpd(id uuid.UUID) *partnership.CPDEvent {
	w.t.Helper()
	c, _, err := domain.Load(w.Ctx, w.Handler, partnership.CPDStream(id), partnership.NewCPDEvent)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func TestOrganiseCPD(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	cmd := partnership.OrganiseCPD{CPDID: id, PartnershipID: w.pid, OrganiserSchoolID: w.c, Kind: partnership.Trip, Title: "Year 10 trip to the Big Pit",
		StartsAt: at(2026, 3, 12, 8), EndsAt: at(2026, 3, 12, 16), Places: 120, CostPerPlacePence: 1500, BulkMinPlaces: 100, BulkPercentOff: 10}
	res, err := w.svc.OrganiseCPD(w.Ctx, as(w.c1), cmd)
	w.ThenEvents(res, err, partnership.CPDEventOrganised{PartnershipID: w.pid, CPDID: id, OrganiserSchoolID: w.c, Kind: partnership.Trip, Title: cmd.Title,
		StartsAt: cmd.StartsAt, EndsAt: cmd.EndsAt, AcademicYear: "2025-26", Places: 120, CostPerPlacePence: 1500, BulkMinPlaces: 100, BulkPercentOff: 10})

	for _, c := range []struct {
		name   string
		change func(*partnership.OrganiseCPD)
		rule   error
	}{
		{"same id", func(c *partnership.OrganiseCPD) { c.CPDID = id }, domain.ErrAlreadyExists},
		{"organiser not a member", func(c *partnership.OrganiseCPD) { c.OrganiserSchoolID = w.outsider }, partnership.ErrNotPartnershipMember},
		{"bad kind", func(c *partnership.OrganiseCPD) { c.Kind = "party" }, domain.ErrInvalidValue},
		{"no places", func(c *partnership.OrganiseCPD) { c.Places = 0 }, domain.ErrInvalidValue},
		{"negative cost", func(c *partnership.OrganiseCPD) { c.CostPerPlacePence = -1 }, domain.ErrInvalidValue},
		{"discount over 100%", func(c *partnership.OrganiseCPD) { c.BulkPercentOff = 101 }, domain.ErrInvalidValue},
		{"discount with no threshold", func(c *partnership.OrganiseCPD) { c.BulkMinPlaces = 0 }, domain.ErrInvalidValue},
		{"threshold with no discount", func(c *partnership.OrganiseCPD) { c.BulkPercentOff = 0 }, domain.ErrInvalidValue},
		{"ends before it starts", func(c *partnership.OrganiseCPD) { c.EndsAt = c.StartsAt }, domain.ErrInvalidValue},
		{"no title", func(c *partnership.OrganiseCPD) { c.Title = "" }, domain.ErrRequired},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			cc.CPDID = domaintest.ID()
			c.change(&cc)
			_, err := w.svc.OrganiseCPD(w.Ctx, as(w.c1), cc)
			w.ThenError(err, c.rule)
		})
	}
}

func TestBookCPDPlaces(t *testing.T) {
	w := newWorld(t)
	tm := w.teachMeet()
	bid := domaintest.ID()
	res, err := w.svc.BookCPDPlaces(w.Ctx, as(w.a1), partnership.BookCPDPlaces{CPDID: tm, BookingID: bid, SchoolID: w.a, Places: 6})
	w.ThenEvents(res, err, partnership.CPDPlacesBooked{PartnershipID: w.pid, CPDID: tm, OrganiserSchoolID: w.b, BookingID: bid, SchoolID: w.a, Places: 6})

	_, err = w.svc.BookCPDPlaces(w.Ctx, as(w.c1), partnership.BookCPDPlaces{CPDID: tm, BookingID: domaintest.ID(), SchoolID: w.c, Places: 5})
	rej := w.ThenError(err, partnership.ErrNoPlacesLeft)
	detailHas(t, rej, "4 of its 10 places left", "5 were asked for")
	for _, c := range []struct {
		name string
		cmd  partnership.BookCPDPlaces
		rule error
	}{
		{"same booking", partnership.BookCPDPlaces{CPDID: tm, BookingID: bid, SchoolID: w.a, Places: 1}, domain.ErrAlreadyExists},
		{"not a member", partnership.BookCPDPlaces{CPDID: tm, BookingID: domaintest.ID(), SchoolID: w.outsider, Places: 1}, partnership.ErrNotPartnershipMember},
		{"no places", partnership.BookCPDPlaces{CPDID: tm, BookingID: domaintest.ID(), SchoolID: w.c, Places: 0}, domain.ErrInvalidValue},
		{"unknown event", partnership.BookCPDPlaces{CPDID: domaintest.ID(), BookingID: domaintest.ID(), SchoolID: w.c, Places: 1}, domain.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.svc.BookCPDPlaces(w.Ctx, as(w.c1), c.cmd)
			w.ThenError(err, c.rule)
		})
	}
	c4 := w.book(tm, w.c, 4) // exactly the places left
	_, err = w.svc.BookCPDPlaces(w.Ctx, as(w.c1), partnership.BookCPDPlaces{CPDID: tm, BookingID: domaintest.ID(), SchoolID: w.c, Places: 1})
	w.ThenError(err, partnership.ErrNoPlacesLeft)

	// Cancelling frees the places.
	res, err = w.svc.CancelCPDBooking(w.Ctx, as(w.c1), partnership.CancelCPDBooking{CPDID: tm, BookingID: c4})
	w.ThenEvents(res, err, partnership.CPDBookingCancelled{PartnershipID: w.pid, CPDID: tm, OrganiserSchoolID: w.b, BookingID: c4, SchoolID: w.c, Places: 4})
	_, err = w.svc.CancelCPDBooking(w.Ctx, as(w.c1), partnership.CancelCPDBooking{CPDID: tm, BookingID: c4})
	w.ThenError(err, partnership.ErrBookingState)
	_, err = w.svc.CancelCPDBooking(w.Ctx, as(w.c1), partnership.CancelCPDBooking{CPDID: tm, BookingID: domaintest.ID()})
	w.ThenError(err, domain.ErrNotFound)
	w.book(tm, w.c, 3)
	if c := w.cpd(tm); c.PlacesLeft() != 1 || c.PlacesBooked() != 9 {
		t.Fatalf("left=%d booked=%d, want 1 and 9", c.PlacesLeft(), c.PlacesBooked())
	}

	// Once it starts, bookings stand; once it ends, no more are taken.
	w.Clock.Set(at(2025, 10, 15, 16))
	_, err = w.svc.CancelCPDBooking(w.Ctx, as(w.a1), partnership.CancelCPDBooking{CPDID: tm, BookingID: bid})
	detailHas(t, w.ThenError(err, partnership.ErrBookingState), "started")
	w.Clock.Set(at(2025, 10, 15, 18))
	_, err = w.svc.BookCPDPlaces(w.Ctx, as(w.c1), partnership.BookCPDPlaces{CPDID: tm, BookingID: domaintest.ID(), SchoolID: w.c, Places: 1})
	w.ThenError(err, partnership.ErrBookingState)
}

func TestCPDAttendanceAndCosts(t *testing.T) {
	w := newWorld(t)
	tm := w.teachMeet()
	a := w.book(tm, w.a, 5)
	c := w.book(tm, w.c, 2)

	// Seven places: below the bulk threshold of eight.
	costs := w.cpd(tm).Costs()
	if costs.DiscountApplies || costs.FullPence != 14000 || costs.PaidPence != 14000 || costs.SavingsPence != 0 {
		t.Fatalf("below threshold: %+v", costs)
	}
	b := w.book(tm, w.b, 1) // the organiser's own staff count towards the bulk total
	costs = w.cpd(tm).Costs()
	if !costs.DiscountApplies || costs.FullPence != 16000 || costs.PaidPence != 12000 || costs.SavingsPence != 4000 ||
		costs.BySchool[w.a] != (partnership.CPDCost{Places: 5, FullPence: 10000, PaidPence: 7500, SavingsPence: 2500}) {
		t.Fatalf("at threshold: %+v", costs)
	}
	if total, discount := w.cpd(tm).Total(); !discount || total != (partnership.CPDCost{Places: 8, FullPence: 16000, PaidPence: 12000, SavingsPence: 4000}) {
		t.Fatalf("total at threshold: %+v (discount %v)", total, discount)
	}

	_, err := w.svc.RecordCPDAttendance(w.Ctx, lead, partnership.RecordCPDAttendance{CPDID: tm, BookingID: a, Attended: 5})
	detailHas(t, w.ThenError(err, partnership.ErrBookingState), "once it has started")
	w.Clock.Set(at(2025, 10, 15, 19))
	res, err := w.svc.RecordCPDAttendance(w.Ctx, lead, partnership.RecordCPDAttendance{CPDID: tm, BookingID: a, Attended: 4})
	w.ThenEvents(res, err, partnership.CPDAttendanceRecorded{PartnershipID: w.pid, CPDID: tm, OrganiserSchoolID: w.b, BookingID: a, SchoolID: w.a, Places: 5, Attended: 4})
	for _, x := range []struct {
		name string
		cmd  partnership.RecordCPDAttendance
		rule error
	}{
		{"twice", partnership.RecordCPDAttendance{CPDID: tm, BookingID: a, Attended: 5}, partnership.ErrBookingState},
		{"more than booked", partnership.RecordCPDAttendance{CPDID: tm, BookingID: c, Attended: 3}, domain.ErrInvalidValue},
		{"negative", partnership.RecordCPDAttendance{CPDID: tm, BookingID: c, Attended: -1}, domain.ErrInvalidValue},
		{"unknown booking", partnership.RecordCPDAttendance{CPDID: tm, BookingID: domaintest.ID(), Attended: 1}, domain.ErrNotFound},
	} {
		t.Run(x.name, func(t *testing.T) {
			_, err := w.svc.RecordCPDAttendance(w.Ctx, lead, x.cmd)
			w.ThenError(err, x.rule)
		})
	}
	w.ok(w.svc.RecordCPDAttendance(w.Ctx, lead, partnership.RecordCPDAttendance{CPDID: tm, BookingID: c, Attended: 2}))
	w.ok(w.svc.RecordCPDAttendance(w.Ctx, lead, partnership.RecordCPDAttendance{CPDID: tm, BookingID: b, Attended: 0}))

	ev := w.cpd(tm)
	if booked, attended := ev.Attendance(); booked != 8 || attended != 6 {
		t.Fatalf("attendance=%d of %d, want 6 of 8", attended, booked)
	}
	tot := partnership.SumCPD(ev, w.cpd(w.teachMeet()))
	if tot.Events != 2 || tot.SavingsPence != 4000 || tot.Attended != 6 || tot.Places != 8 {
		t.Fatalf("totals=%+v", tot)
	}
}

// A cancelled booking has no attendance.
func TestAttendanceOfCancelledBooking(t *testing.T) {
	w := newWorld(t)
	tm := w.teachMeet()
	x := w.book(tm, w.a, 2)
	w.ok(w.svc.CancelCPDBooking(w.Ctx, lead, partnership.CancelCPDBooking{CPDID: tm, BookingID: x}))
	w.Clock.Set(at(2025, 10, 16, 9))
	_, err := w.svc.RecordCPDAttendance(w.Ctx, lead, partnership.RecordCPDAttendance{CPDID: tm, BookingID: x, Attended: 1})
	w.ThenError(err, partnership.ErrBookingState)
}
