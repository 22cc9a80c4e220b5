package views

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
)

// cpdSumsOf is what CPD v answers of each partnership's sums: for all
// time and for each academic year its events start in.
func cpdSumsOf(v *CPD, years []string, pids []uuid.UUID) map[string]any {
	out := map[string]any{}
	for _, pid := range pids {
		for _, y := range append([]string{""}, years...) {
			out[pid.String()+" "+y] = []any{v.Totals(pid, y), v.BySchool(pid, y)}
		}
	}
	return out
}

func foldCPD(t *testing.T, msgs []domain.Message) *CPD {
	t.Helper()
	v := NewCPD()
	for _, m := range msgs {
		if err := v.Apply(m); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// TestCPDReadingsInThePastKeepTheLiveSumsRight: readings in the past
// share the sums of years none of whose events changed since with the
// live view, in both directions. Readings taken before the live view has
// added anything up, and events folded after them, leave the live view
// and every later reading answering what a fold from zero answers.
func TestCPDReadingsInThePastKeepTheLiveSumsRight(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		msgs := versionedLedger(seed, 1500)
		if seed%2 == 0 {
			// Every event organised first, so that a year keeps its
			// events and only their bookings change after a reading.
			slices.SortStableFunc(msgs, func(a, b domain.Message) int {
				_, ao := a.Event.(partnership.CPDEventOrganised)
				_, bo := b.Event.(partnership.CPDEventOrganised)
				switch {
				case ao && !bo:
					return -1
				case bo && !ao:
					return 1
				}
				return 0
			})
			for i := range msgs {
				msgs[i].Position = uint64(i + 1)
			}
		}
		var years []string
		pids := map[uuid.UUID]bool{}
		for _, m := range msgs {
			if e, ok := m.Event.(partnership.CPDEventOrganised); ok {
				years = append(years, partnership.AcademicYearOf(e.StartsAt))
				pids[e.PartnershipID] = true
			}
		}
		var pidList []uuid.UUID
		for pid := range pids {
			pidList = append(pidList, pid)
		}
		rng := rand.New(rand.NewPCG(seed, 4))
		live := foldCPD(t, msgs[:1000])
		check := func(when string, upTo int) {
			for range 12 {
				p := rng.IntN(upTo + 1)
				past := live.At(uint64(p)).(*CPD)
				want := cpdSumsOf(foldCPD(t, msgs[:p]), years, pidList)
				if got := cpdSumsOf(past, years, pidList); !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d, %s: the sums as of %d differ from a fold of the events up to it", seed, when, p)
				}
			}
			if got, want := cpdSumsOf(live, years, pidList), cpdSumsOf(foldCPD(t, msgs[:upTo]), years, pidList); !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, %s: the live sums differ from a fold of its events", seed, when)
			}
		}
		check("readings before the live view added up", 1000)
		for _, m := range msgs[1000:] {
			if err := live.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
		check("after more events", len(msgs))
	}
}

// TestCPDEventOrganisedAgainIsListedAsItWasThen: a CPD event organised a
// second time (which the domain refuses, but a view folds what the
// ledger holds) with other terms after a reading's position is listed,
// in that reading, with the terms and take-up it had then: in the live
// view read in place and as of the position, and in one read back, as a
// fold of the events up to the position lists it.
func TestCPDEventOrganisedAgainIsListedAsItWasThen(t *testing.T) {
	pid, host, guest, id := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	starts := time.Date(2025, 10, 6, 9, 0, 0, 0, time.UTC)
	organised := partnership.CPDEventOrganised{PartnershipID: pid, CPDID: id, OrganiserSchoolID: host, Kind: partnership.TeachMeet,
		Title: "Phonics", StartsAt: starts, EndsAt: starts.Add(2 * time.Hour), AcademicYear: "2025-26", Places: 10,
		CostPerPlacePence: 1000, BulkMinPlaces: 4, BulkPercentOff: 10}
	again := organised
	again.Title, again.Places, again.CostPerPlacePence, again.BulkMinPlaces = "Phonics and spelling", 20, 2500, 0
	book := func(n int) partnership.CPDPlacesBooked {
		return partnership.CPDPlacesBooked{PartnershipID: pid, CPDID: id, OrganiserSchoolID: host, BookingID: uuid.New(), SchoolID: guest, Places: n}
	}
	var msgs []domain.Message
	for _, e := range []domain.Event{organised, book(3), book(2), again, book(4)} {
		msgs = append(msgs, messageAt(len(msgs), "", e))
	}
	live := foldCPD(t, msgs)
	saved, err := live.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	back := NewCPD()
	if err := back.UnmarshalState(saved); err != nil {
		t.Fatal(err)
	}
	year := periodOf("2025-26")
	for pos := 1; pos <= len(msgs); pos++ {
		want := foldCPD(t, msgs[:pos]).EventsIn(pid, year)
		if len(want) != 1 {
			t.Fatalf("as of %d the fold lists %d events", pos, len(want))
		}
		for name, got := range map[string][]CPDEventInfo{
			"read in place":            live.Lens(uint64(pos)).(*CPD).EventsIn(pid, year),
			"as of":                    live.At(uint64(pos)).(*CPD).EventsIn(pid, year),
			"read back, read in place": back.Lens(uint64(pos)).(*CPD).EventsIn(pid, year),
		} {
			if !reflect.DeepEqual(got, want) {
				t.Errorf("as of %d, %s: %+v, want %+v", pos, name, got, want)
			}
		}
	}
}
