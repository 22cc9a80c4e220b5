package views

import (
	"maps"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
)

// cpdModel is what the test fed of one CPD event.
type cpdModel struct {
	pid, id, organiser uuid.UUID
	start              time.Time
	places             int
	cost               int64
	bulkMin, bulkOff   int
	bookings           []*bookingModel
}

type bookingModel struct {
	id, school         uuid.UUID
	places             int
	cancelled, counted bool // counted: attendance recorded
	attended           int
}

// cpdRule works out, from the rules of CPD take-up and costs, the totals
// and each school's part of the events of pid starting in p: a school
// offers its events' places; books the places of its bookings not
// cancelled; attended counts where attendance was recorded; a booking
// costs its places at full price, less the bulk discount (percent off
// every place, in whole pence per booking) when the event's places booked
// reach its bulk minimum.
func cpdRule(evs []*cpdModel, pid uuid.UUID, p Period) (CPDTotals, map[uuid.UUID]CPDSchool) {
	var t CPDTotals
	by := map[uuid.UUID]CPDSchool{}
	for _, e := range evs {
		if e.pid != pid || !p.Contains(e.start) {
			continue
		}
		t.Events++
		t.Offered += e.places
		o := by[e.organiser]
		o.Offered += e.places
		by[e.organiser] = o
		booked := 0
		for _, b := range e.bookings {
			if !b.cancelled {
				booked += b.places
			}
		}
		discount := e.bulkOff > 0 && e.bulkMin > 0 && booked >= e.bulkMin
		for _, b := range e.bookings {
			if b.cancelled {
				continue
			}
			s := by[b.school]
			full := int64(b.places) * e.cost
			var saved int64
			if discount {
				saved = full * int64(e.bulkOff) / 100
			}
			t.Booked += b.places
			t.FullPence += full
			t.SavingsPence += saved
			t.PaidPence += full - saved
			s.Booked += b.places
			s.PaidPence += full - saved
			s.SavingsPence += saved
			if b.counted {
				t.Attended += b.attended
				s.Attended += b.attended
			}
			by[b.school] = s
		}
	}
	return t, by
}

// TestCPDSumsFollowTheRule: over random CPD events of two partnerships in
// three academic years, booked, cancelled and attended at random, the
// totals and each school's part of all time, of each year, of a span
// across two years and of a malformed year are what the rule gives, read
// again after more bookings change some years (the view keeps each
// year's sums between readings), live and in a view read back.
func TestCPDSumsFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 17))
	v := NewCPD()
	fed := feeder(t, v)
	feeds := uint64(0) // the position of the last event fed
	feed := func(e domain.Event) { fed(e); feeds++ }
	pids := []uuid.UUID{uuid.New(), uuid.New()}
	schools := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	var evs []*cpdModel
	base := time.Date(2023, 9, 1, 9, 0, 0, 0, time.UTC)
	for range 120 {
		e := &cpdModel{pid: pids[rng.IntN(2)], id: uuid.New(), organiser: schools[rng.IntN(4)],
			start: base.AddDate(0, 0, rng.IntN(3*365)), places: 5 + rng.IntN(20), cost: int64(rng.IntN(4)) * 1250}
		if rng.IntN(3) == 0 {
			e.bulkMin, e.bulkOff = 4+rng.IntN(8), 10+rng.IntN(30)
		}
		feed(partnership.CPDEventOrganised{PartnershipID: e.pid, CPDID: e.id, OrganiserSchoolID: e.organiser, Kind: partnership.TeachMeet,
			Title: "TeachMeet", StartsAt: e.start, EndsAt: e.start.Add(time.Hour), AcademicYear: partnership.AcademicYearOf(e.start),
			Places: e.places, CostPerPlacePence: e.cost, BulkMinPlaces: e.bulkMin, BulkPercentOff: e.bulkOff})
		evs = append(evs, e)
	}
	// book adds n random bookings, then cancels or records some.
	book := func(n int) {
		for range n {
			e := evs[rng.IntN(len(evs))]
			b := &bookingModel{id: uuid.New(), school: schools[rng.IntN(4)], places: 1 + rng.IntN(4)}
			feed(partnership.CPDPlacesBooked{PartnershipID: e.pid, CPDID: e.id, OrganiserSchoolID: e.organiser, BookingID: b.id, SchoolID: b.school, Places: b.places})
			e.bookings = append(e.bookings, b)
			switch rng.IntN(4) {
			case 0:
				feed(partnership.CPDBookingCancelled{PartnershipID: e.pid, CPDID: e.id, OrganiserSchoolID: e.organiser, BookingID: b.id, SchoolID: b.school, Places: b.places})
				b.cancelled = true
			case 1:
				b.counted, b.attended = true, rng.IntN(b.places+1)
				feed(partnership.CPDAttendanceRecorded{PartnershipID: e.pid, CPDID: e.id, OrganiserSchoolID: e.organiser, BookingID: b.id, SchoolID: b.school, Places: b.places, Attended: b.attended})
			}
		}
	}
	span, err := NewPeriod(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	periods := []Period{{}, periodOf("2023-24"), periodOf("2024-25"), periodOf("2025-26"), span, periodOf("not a year")}
	check := func(when string, view *CPD, evs []*cpdModel) {
		t.Helper()
		for _, pid := range pids {
			for _, p := range periods {
				wantT, wantBy := cpdRule(evs, pid, p)
				if got := view.TotalsIn(pid, p); got != wantT {
					t.Errorf("%s, period %q %s–%s: totals %+v, want %+v", when, p.Year, day(p.From), day(p.To), got, wantT)
				}
				got := map[uuid.UUID]CPDSchool{}
				for _, s := range view.BySchoolIn(pid, p) {
					id := s.School.ID
					s.School = Ref{}
					got[id] = s
				}
				if !maps.Equal(got, wantBy) {
					t.Errorf("%s, period %q %s–%s: by school %+v, want %+v", when, p.Year, day(p.From), day(p.To), got, wantBy)
				}
			}
		}
	}
	// then copies the events as they are now, for readings of the past.
	then := func() []*cpdModel {
		out := make([]*cpdModel, len(evs))
		for i, e := range evs {
			c := *e
			c.bookings = nil
			for _, b := range e.bookings {
				bc := *b
				c.bookings = append(c.bookings, &bc)
			}
			out[i] = &c
		}
		return out
	}
	book(300)
	check("first reading", v, evs)
	first, firstPos := then(), feeds
	book(60) // changes some years' sums after they were kept
	check("after more bookings", v, evs)
	back := readBack(t, v, NewCPD())
	check("read back", back, evs)
	book(30)
	check("after more bookings again", v, evs)
	// The past, looked up in the live view and in the one read back.
	check("as of the first reading", v.At(firstPos).(*CPD), first)
	check("read back, as of the first reading", back.At(firstPos).(*CPD), first)
	check("as of the start", v.At(0).(*CPD), nil)
}
