package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

// versionedLedger returns random events of schools, shared resources and
// their loans, and CPD events with their bookings, as messages at
// positions 1, 2, …: loans asked for, approved (some for another window),
// declined, cancelled, collected, returned; resources offered and
// withdrawn; places booked, cancelled and attended; answers with who gave
// them and why.
func versionedLedger(seed uint64, n int) []domain.Message {
	rng := rand.New(rand.NewPCG(seed, 3))
	var msgs []domain.Message
	emit := func(e domain.Event) {
		m := domain.Message{Recorded: domain.Recorded{Position: uint64(len(msgs) + 1), RecordedAt: time.Date(2025, 9, 1, 0, 0, len(msgs), 0, time.UTC)}, Event: e}
		m.ID = uuid.New()
		m.Meta.ActorID, m.Meta.ActorRole, m.Meta.Reason = uuid.NewString(), domain.RoleStaff, fmt.Sprint("reason ", len(msgs))
		msgs = append(msgs, m)
	}
	pid := uuid.New()
	var schools []uuid.UUID
	school := func() uuid.UUID {
		if len(schools) == 0 || rng.IntN(8) == 0 {
			id := uuid.New()
			schools = append(schools, id)
			emit(governance.SchoolRegistered{SchoolID: id, Name: fmt.Sprint("School ", len(schools))})
		}
		return schools[rng.IntN(len(schools))]
	}
	type loan struct {
		keys   partnership.LoanKeys
		status partnership.LoanStatus
		start  time.Time
	}
	var resources []partnership.ResourceRegistered
	var loans []*loan
	type cpd struct {
		e        partnership.CPDEventOrganised
		bookings []partnership.CPDPlacesBooked
	}
	var cpds []*cpd
	base := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	for len(msgs) < n {
		switch k := rng.IntN(10); {
		case k == 0 || len(resources) == 0:
			r := partnership.ResourceRegistered{PartnershipID: pid, ResourceID: uuid.New(), OwnerSchoolID: school(), Kind: "minibus",
				Name: fmt.Sprint("Bus ", len(resources)), HourlyValuePence: 150}
			resources = append(resources, r)
			emit(r)
		case k == 1:
			r := resources[rng.IntN(len(resources))]
			if rng.IntN(2) == 0 {
				emit(partnership.ResourceOffered{PartnershipID: pid, ResourceID: r.ResourceID, OwnerSchoolID: r.OwnerSchoolID})
			} else {
				emit(partnership.ResourceOfferWithdrawn{PartnershipID: pid, ResourceID: r.ResourceID, OwnerSchoolID: r.OwnerSchoolID})
			}
		case k <= 4 || len(loans) == 0:
			r := resources[rng.IntN(len(resources))]
			l := &loan{keys: partnership.LoanKeys{PartnershipID: pid, ResourceID: r.ResourceID, LoanID: uuid.New(), OwnerSchoolID: r.OwnerSchoolID,
				BorrowerSchoolID: school()}, status: partnership.LoanRequestedStatus, start: base.AddDate(0, 0, rng.IntN(400))}
			loans = append(loans, l)
			emit(partnership.LoanRequested{LoanKeys: l.keys, Start: l.start, End: l.start.Add(3 * time.Hour), Purpose: "a trip"})
		case k <= 6:
			l := loans[rng.IntN(len(loans))]
			switch l.status {
			case partnership.LoanRequestedStatus:
				switch rng.IntN(3) {
				case 0:
					l.status = partnership.LoanDeclinedStatus
					emit(partnership.LoanDeclined{LoanKeys: l.keys})
				default:
					l.status = partnership.LoanApprovedStatus
					emit(partnership.LoanApproved{LoanKeys: l.keys, Start: l.start.Add(-time.Hour * time.Duration(rng.IntN(30))), End: l.start.Add(5 * time.Hour)})
				}
			case partnership.LoanApprovedStatus:
				if rng.IntN(4) == 0 {
					l.status = partnership.LoanCancelledStatus
					emit(partnership.LoanCancelled{LoanKeys: l.keys, WasStatus: partnership.LoanApprovedStatus})
				} else {
					l.status = partnership.LoanCollectedStatus
					emit(partnership.LoanCollected{LoanKeys: l.keys, CollectedAt: l.start})
				}
			case partnership.LoanCollectedStatus:
				l.status = partnership.LoanReturnedStatus
				emit(partnership.LoanReturned{LoanKeys: l.keys, ReturnedAt: l.start.Add(time.Duration(rng.IntN(9)) * time.Hour),
					Condition: []partnership.Condition{partnership.ConditionGood, partnership.ConditionFair, partnership.ConditionDamaged}[rng.IntN(3)], Note: "ok"})
			}
		case k == 7 || len(cpds) == 0:
			start := base.AddDate(0, 0, rng.IntN(400))
			c := &cpd{e: partnership.CPDEventOrganised{PartnershipID: pid, CPDID: uuid.New(), OrganiserSchoolID: school(), Kind: partnership.TeachMeet,
				Title: "TeachMeet", StartsAt: start, EndsAt: start.Add(time.Hour), AcademicYear: partnership.AcademicYearOf(start), Places: 30,
				CostPerPlacePence: 1500, BulkMinPlaces: 6, BulkPercentOff: 20}}
			cpds = append(cpds, c)
			emit(c.e)
		default:
			c := cpds[rng.IntN(len(cpds))]
			if len(c.bookings) == 0 || rng.IntN(2) == 0 {
				b := partnership.CPDPlacesBooked{PartnershipID: pid, CPDID: c.e.CPDID, OrganiserSchoolID: c.e.OrganiserSchoolID, BookingID: uuid.New(),
					SchoolID: school(), Places: 1 + rng.IntN(3)}
				c.bookings = append(c.bookings, b)
				emit(b)
				continue
			}
			b := c.bookings[rng.IntN(len(c.bookings))]
			if rng.IntN(2) == 0 {
				emit(partnership.CPDBookingCancelled{PartnershipID: pid, CPDID: c.e.CPDID, OrganiserSchoolID: c.e.OrganiserSchoolID, BookingID: b.BookingID,
					SchoolID: b.SchoolID, Places: b.Places})
			} else {
				emit(partnership.CPDAttendanceRecorded{PartnershipID: pid, CPDID: c.e.CPDID, OrganiserSchoolID: c.e.OrganiserSchoolID, BookingID: b.BookingID,
					SchoolID: b.SchoolID, Places: b.Places, Attended: rng.IntN(b.Places + 1)})
			}
		}
	}
	return msgs
}

// everything returns what a view holds, the state it saves and what it
// works out from it (which a reader sees), as bytes: equal states give
// equal bytes.
func everything(t *testing.T, p projections.Projection) []byte {
	t.Helper()
	var derived any
	switch v := p.(type) {
	case *Resources:
		answers := map[uuid.UUID]*LoanAnswer{}
		for id, r := range v.state.Resources {
			for _, l := range r.LoanList {
				answers[l.ID] = v.state.answerOf(id, l.ID)
			}
		}
		derived = []any{v.state.Resources, v.state.Names, answers}
	case *CPD:
		events := map[uuid.UUID]*partnership.CPDEvent{}
		for id, r := range v.state.Rows {
			events[id] = r.cur
		}
		index := map[uuid.UUID][]uuid.UUID{}
		for pid, keys := range v.state.byStart {
			for _, k := range keys {
				index[pid] = append(index[pid], k.id)
			}
		}
		derived = []any{events, v.state.Names, index}
	default:
		t.Fatalf("no digest for %T", p)
	}
	b, err := json.Marshal(derived)
	if err != nil {
		t.Fatal(err)
	}
	// Saved after what it works out is read: a state looked up in the
	// past answers from the live view's rows until it is saved.
	saved, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	return append(append(saved, '\n'), b...)
}

// TestVersionedViewsLookUpThePastAsAFoldOfIt: for random ledgers of
// loans and CPD, a versioned view's state as of a position (At), read
// from the live view and from one restored from its saved state, is the
// state folding the events up to that position from zero gives: the
// state it saves, the resources, loans, answers, CPD events and names it
// works out, and its index; and a view restored from its saved state
// holds what the live one holds.
func TestVersionedViewsLookUpThePastAsAFoldOfIt(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		msgs := versionedLedger(seed, 1500)
		for _, fresh := range []func() projections.Projection{
			func() projections.Projection { return NewResources() },
			func() projections.Projection { return NewCPD() },
		} {
			live := fresh()
			for _, m := range msgs {
				if err := live.Apply(m); err != nil {
					t.Fatal(err)
				}
			}
			name := live.Name()
			saved, err := live.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			restored := fresh()
			if err := restored.UnmarshalState(saved); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(everything(t, restored), everything(t, live)) {
				t.Fatalf("seed %d %s: the view restored from its state differs from the live one", seed, name)
			}
			rng := rand.New(rand.NewPCG(seed, 9))
			positions := []uint64{0, 1, uint64(len(msgs))}
			for range 25 {
				positions = append(positions, rng.Uint64N(uint64(len(msgs))))
			}
			for _, pos := range positions {
				want := fresh()
				for _, m := range msgs[:pos] {
					if err := want.Apply(m); err != nil {
						t.Fatal(err)
					}
				}
				for from, v := range map[string]projections.Projection{"live": live, "restored": restored} {
					got := v.(projections.Versioned).At(pos)
					if !bytes.Equal(everything(t, got), everything(t, want)) {
						t.Fatalf("seed %d %s as of %d, looked up in the %s view: differs from the fold of events 1..%d", seed, name, pos, from, pos)
					}
				}
			}
		}
	}
}

// TestVersionedViewsInThePastShareNothingTheLiveOneChanges: a state
// looked up in the past is read while the live view goes on folding
// events (as the engine's readers do once its lock is released), and
// still holds the past (run with -race, this also shows the two share no
// memory that is written).
func TestVersionedViewsInThePastShareNothingTheLiveOneChanges(t *testing.T) {
	msgs := versionedLedger(7, 3000)
	half := len(msgs) / 2
	for _, fresh := range []func() projections.Projection{
		func() projections.Projection { return NewResources() },
		func() projections.Projection { return NewCPD() },
	} {
		live, want := fresh(), fresh()
		for _, m := range msgs[:half] {
			if err := live.Apply(m); err != nil {
				t.Fatal(err)
			}
			if err := want.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
		past := live.(projections.Versioned).At(uint64(half))
		done := make(chan error)
		go func() {
			for _, m := range msgs[half:] {
				if err := live.Apply(m); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		got := everything(t, past)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, everything(t, want)) {
			t.Errorf("%s as of %d, read while the live view folded on: differs from the fold of events 1..%d", live.Name(), half, half)
		}
	}
}
