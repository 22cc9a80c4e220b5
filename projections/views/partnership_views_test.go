package views_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/projectionstest"
	"github.com/concord-ledger/concord/projections/views"
	"github.com/concord-ledger/concord/projections/views/partnershiptest"
)

var partnershipViews = []string{"partnerships", "resources", "secondments", "cpd", "reviews", "progress", "commitments", "celebrations", "timeline", "costs"}

func year(t *testing.T) *partnershiptest.World {
	t.Helper()
	w := partnershiptest.New(t, 16)
	w.Year()
	w.CatchUp()
	return w
}

func read[V projections.Projection](t *testing.T, w *partnershiptest.World, name string, fn func(V)) {
	t.Helper()
	if _, err := views.Read(w.Ctx, w.Reader, name, views.AsOf{}, func(v V) error { fn(v); return nil }); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, w *partnershiptest.World) views.PersonNames {
	t.Helper()
	n, err := w.Reader.PersonNames(w.Ctx, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

var day, at = partnershiptest.Day, partnershiptest.At

func TestPartnershipViewsAnswerTheYear(t *testing.T) {
	w := year(t)
	pn := names(t, w)
	const y = "2025-26"

	read(t, w, "partnerships", func(v *views.Partnerships) {
		p, ok := v.Get(w.PID, pn)
		if !ok || p.Name != "Rhondda Learning Cluster" || p.Current != 3 || len(p.Priorities) != 2 {
			t.Fatalf("partnership=%+v", p)
		}
		if p.Lead == nil || p.Lead.Name != "Gwen Price" || p.LeadSchool == nil || p.LeadSchool.Name != "Y Pant Comprehensive" {
			t.Errorf("lead=%+v at %+v", p.Lead, p.LeadSchool)
		}
		if got := v.MembershipByYear(w.PID, "2026-27"); len(got) != 2 || got[0].Members != 3 || got[0].Joined != 3 || got[1].Members != 3 || got[1].Joined != 0 {
			t.Errorf("membership by year=%+v", got)
		}
	})

	read(t, w, "resources", func(v *views.Resources) {
		cal := v.Calendar(w.Minibus)
		if len(cal) != 2 || cal[0].LoanID != w.TripLoan || cal[1].LoanID != w.LateLoan {
			t.Fatalf("minibus calendar=%+v, want the trip and the sports day (the clash was declined)", cal)
		}
		for i := 1; i < len(cal); i++ {
			if cal[i].Start.Before(cal[i-1].End) {
				t.Errorf("bookings %d and %d overlap", i-1, i)
			}
		}
		u, err := v.Utilisation(w.PID, y)
		if err != nil {
			t.Fatal(err)
		}
		hours := map[uuid.UUID]float64{}
		for _, r := range u.Resources {
			hours[r.Resource.ID] = r.Hours
		}
		if hours[w.Minibus] != 18 || hours[w.Lab] != 3 || u.TotalBenefitPence != 18*2500+3*4000 {
			t.Errorf("utilisation=%+v", u)
		}
		school := map[uuid.UUID]views.SchoolUse{}
		for _, s := range u.Schools {
			school[s.School.ID] = s
		}
		if school[w.Cwm].HoursBorrowed != 8 || school[w.Tony].HoursBorrowed != 13 || school[w.Pant].HoursLent != 21 || school[w.Pant].School.Name != "Y Pant Comprehensive" {
			t.Errorf("utilisation by school=%+v", u.Schools)
		}
		if u, _ := v.Utilisation(w.PID, "2024-25"); u.TotalHours != 0 {
			t.Errorf("hours in 2024-25=%v", u.TotalHours)
		}
	})

	read(t, w, "loans", func(v *views.Loans) {
		if od := v.Overdue(w.PID, at(2026, 6, 1, 12)); len(od) != 0 {
			t.Errorf("overdue during the loan=%+v", od)
		}
		od := v.Overdue(w.PID, day(2026, 6, 2))
		if len(od) != 1 || od[0].LoanID != w.LateLoan || od[0].Status != "overdue" || od[0].Borrower.Name != "Tonyrefail Primary" {
			t.Fatalf("overdue the day after=%+v", od)
		}
		reg := v.Register(w.PID, y, day(2026, 6, 2))
		st := map[uuid.UUID]string{}
		for _, e := range reg {
			st[e.LoanID] = e.Status
		}
		if len(reg) != 4 || st[w.TripLoan] != "returned" || st[w.ClashLoan] != "declined" || st[w.LabLoan] != "returned" || st[w.LateLoan] != "overdue" {
			t.Errorf("register=%v", st)
		}
		if reg[0].LoanID != w.TripLoan || reg[0].Condition != "damaged" || reg[0].Note != "Rear step bent" {
			t.Errorf("first loan=%+v", reg[0])
		}
		// Each answered request says who answered it, as what and when.
		for _, e := range reg {
			a := e.Answer
			want := map[uuid.UUID]string{w.TripLoan: "approved", w.ClashLoan: "declined", w.LabLoan: "approved", w.LateLoan: "approved"}[e.LoanID]
			if a == nil || a.Outcome != want || a.ByID != w.PantDirector || a.Role != domain.RoleStaff || !a.At.Equal(at(2025, 9, 15, 9)) {
				t.Errorf("loan %s (%s) answered %+v, want %s by the Director of Pant on 15 September", e.Purpose, e.Status, a, want)
			}
		}
	})

	read(t, w, "secondments", func(v *views.Secondments) {
		by, err := v.BySchool(w.PID, y, day(2026, 3, 2))
		if err != nil {
			t.Fatal(err)
		}
		m := map[uuid.UUID]views.SchoolFTE{}
		for _, s := range by {
			m[s.School.ID] = s
		}
		if !near(m[w.Pant].LentOn, 1) || !near(m[w.Cwm].ReceivedOn, 0.6) || !near(m[w.Tony].ReceivedOn, 0.4) || m[w.Pant].Teachers != 1 {
			t.Errorf("FTE on 2 March=%+v", by)
		}
		if !near(m[w.Pant].LentFTEYears, m[w.Cwm].ReceivedFTEYears+m[w.Tony].ReceivedFTEYears) || m[w.Cwm].ReceivedFTEYears <= 0 {
			t.Errorf("FTE-years=%+v", by)
		}
		bt, _ := v.ByTeacher(w.PID, y, pn)
		if len(bt) != 1 || bt[0].Teacher.Name != "Mari Jones" || len(bt[0].Secondments) != 2 {
			t.Errorf("by teacher=%+v", bt)
		}
	})

	read(t, w, "cpd", func(v *views.CPD) {
		tot := v.Totals(w.PID, y)
		if tot.Events != 1 || tot.Booked != 11 || tot.Attended != 10 || tot.Offered != 12 || tot.SavingsPence != 11*2000/4 {
			t.Errorf("CPD totals=%+v", tot)
		}
		by := map[uuid.UUID]views.CPDSchool{}
		for _, s := range v.BySchool(w.PID, y) {
			by[s.School.ID] = s
		}
		if by[w.Tony].Offered != 12 || by[w.Pant].Booked != 6 || by[w.Pant].PaidPence != 9000 || by[w.Cwm].Attended != 2 {
			t.Errorf("CPD by school=%+v", by)
		}
		// One event is read by its id as the list shows it, and only in
		// its own partnership.
		all := v.Events(w.PID, "")
		if len(all) == 0 {
			t.Fatal("no CPD events listed")
		}
		for _, e := range all {
			if got, ok := v.Event(w.PID, e.ID); !ok || got != e {
				t.Errorf("CPD event %s by id: %+v (%v), listed as %+v", e.ID, got, ok, e)
			}
			if _, ok := v.Event(uuid.New(), e.ID); ok {
				t.Errorf("CPD event %s found in another partnership", e.ID)
			}
		}
		if _, ok := v.Event(w.PID, uuid.New()); ok {
			t.Error("an unknown CPD event was found")
		}
	})

	read(t, w, "reviews", func(v *views.Reviews) {
		log := v.Log(w.PID, y, day(2026, 7, 18), pn)
		if len(log) != 1 || !log[0].Completed || log[0].Amber != 1 || log[0].Green != 1 || len(log[0].Reviewers) != 2 {
			t.Fatalf("review log=%+v", log)
		}
		if r := log[0].Reviewers[0]; r.Person.Name != "Sian Davies" || r.School.Name != "Cwm Primary" {
			t.Errorf("reviewer=%+v", r)
		}
		// A review by id is its entry in the log; not in another
		// partnership, nor an id that is no review.
		if got, ok := v.Review(w.PID, log[0].ID, day(2026, 7, 18), pn); !ok || !reflect.DeepEqual(got, log[0]) {
			t.Errorf("Review(%s) = %+v, %v, want the log's entry %+v", log[0].ID, got, ok, log[0])
		}
		if _, ok := v.Review(uuid.New(), log[0].ID, day(2026, 7, 18), pn); ok {
			t.Error("a review was found in another partnership")
		}
		if _, ok := v.Review(w.PID, uuid.New(), day(2026, 7, 18), pn); ok {
			t.Error("an id that is no review was found")
		}
		f := v.FollowUps(w.PID, y, day(2026, 7, 18), pn)
		if f.Done != 1 || f.Open != 1 || f.Overdue != 1 || f.Actions[0].Done || f.Actions[0].Owner.Name != "Dafydd Evans" {
			t.Errorf("follow-ups=%+v", f)
		}
	})

	read(t, w, "progress", func(v *views.Progress) {
		board := v.Board(w.PID, y)
		if len(board) != 2 {
			t.Fatalf("board=%+v", board)
		}
		cells := map[uuid.UUID]views.BoardCell{}
		for _, c := range board {
			cells[c.School.ID] = c
		}
		maths := cells[w.Pant]
		var trend []string
		for _, s := range maths.Trend {
			trend = append(trend, s.Rating+"/"+s.Movement)
		}
		if maths.Rating != "green" || maths.Movement != "improved" || !slices.Equal(trend, []string{"red/", "amber/improved", "green/improved"}) {
			t.Errorf("Year 7 maths=%+v trend %v", maths, trend)
		}
		if sci := cells[w.Cwm]; sci.Rating != "amber" || sci.Movement != "declined" {
			t.Errorf("Year 6 science=%+v", sci)
		}
	})

	read(t, w, "commitments", func(v *views.Commitments) {
		groups := v.ByStatus(w.PID, y, day(2026, 7, 18), pn)
		if len(groups) != 3 || len(groups[0].Commitments) != 1 || len(groups[1].Commitments) != 1 || len(groups[2].Commitments) != 1 {
			t.Fatalf("by status=%+v", groups)
		}
		open, achieved, missed := groups[0].Commitments[0], groups[1].Commitments[0], groups[2].Commitments[0]
		// A commitment by id is as listed; not in another partnership,
		// nor an id that is no commitment.
		for _, c := range []views.CommitmentInfo{open, achieved, missed} {
			if got, ok := v.Commitment(w.PID, c.ID, day(2026, 7, 18), pn); !ok || !reflect.DeepEqual(got, c) {
				t.Errorf("Commitment(%s) = %+v, %v, want %+v", c.ID, got, ok, c)
			}
		}
		if _, ok := v.Commitment(uuid.New(), open.ID, day(2026, 7, 18), pn); ok {
			t.Error("a commitment was found in another partnership")
		}
		if _, ok := v.Commitment(w.PID, uuid.New(), day(2026, 7, 18), pn); ok {
			t.Error("an id that is no commitment was found")
		}
		if open.ID != w.OpenCommit || !open.Overdue || open.Owner.Name != "Owain Lewis" {
			t.Errorf("open=%+v", open)
		}
		if achieved.ID != w.PantCommit || achieved.Percent == nil || *achieved.Percent != 80 || achieved.Evidence == "" || len(achieved.Updates) != 1 {
			t.Errorf("achieved=%+v", achieved)
		}
		if missed.Party.Name != "Research, Innovation & Professional Development" || missed.School.Name != "Cwm Primary" || missed.Priority.Name != "Specialist science teaching in the primaries" {
			t.Errorf("missed=%+v", missed)
		}
		if by := v.ByOwner(w.PID, y, day(2026, 7, 18), pn); len(by) != 3 || by[0].Owner.Name != "Owain Lewis" {
			t.Errorf("by owner=%+v", by)
		}
	})

	read(t, w, "celebrations", func(v *views.Celebrations) {
		tl := v.Tallies(w.PID, y, pn)
		if len(tl.People) != 1 || tl.People[0].Name != "Mari Jones" || len(tl.Communities) != 1 {
			t.Errorf("people=%+v communities=%+v", tl.People, tl.Communities)
		}
		if len(tl.Schools) != 2 || tl.Schools[0].ID != w.Pant || tl.Schools[0].Count != 2 || tl.Schools[1].ID != w.Cwm || tl.Schools[1].Count != 1 {
			t.Errorf("schools=%+v", tl.Schools)
		}
	})

	read(t, w, "timeline", func(v *views.Timelines) {
		done := v.Done(w.PID, y)
		next := v.Next(w.PID, y, day(2025, 9, 1), 3)
		if len(done) != 3 || len(next) != 3 || next[0].ItemID == done[0].ItemID {
			t.Errorf("done=%d next=%+v", len(done), next)
		}
		for _, n := range next {
			if n.Done || n.On.Before(day(2025, 9, 1)) {
				t.Errorf("next item %+v", n)
			}
		}
	})

	read(t, w, "costs", func(v *views.Costs) {
		s, err := v.Summary(w.PID, y)
		if err != nil {
			t.Fatal(err)
		}
		if s.Total.Hours != 14 || s.Total.AmountPence != 1800 || len(s.Schools) != 3 || s.Categories[2].Category != "coordination" || s.Categories[2].Hours != 7 {
			t.Errorf("costs=%+v", s)
		}
		for _, sc := range s.Schools {
			if sc.School.ID == w.Pant && sc.Hours != 9 {
				t.Errorf("Y Pant hours=%v", sc.Hours)
			}
		}
	})
}

func marshal(t *testing.T, p projections.Projection) []byte {
	t.Helper()
	b, err := p.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fresh(t *testing.T, name string) projections.Projection {
	t.Helper()
	for _, f := range views.All() {
		if p := f(); p.Name() == name {
			return p
		}
	}
	t.Fatalf("no view %s", name)
	return nil
}

func TestPartnershipViewsRebuildEqualsLive(t *testing.T) {
	w := year(t)
	head, err := w.Store.Head(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range partnershipViews {
		var live []byte
		if _, err := w.Engine.View(name, func(p projections.Projection) error { live = marshal(t, p); return nil }); err != nil {
			t.Fatal(err)
		}
		p := fresh(t, name)
		if err := projections.Fold(w.Ctx, w.Store, w.Codec, p, 1, head, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(marshal(t, p), live) {
			t.Errorf("%s: fold from zero differs from the live view", name)
		}
		if err := w.Engine.Rebuild(w.Ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		var rebuilt []byte
		w.Engine.View(name, func(p projections.Projection) error { rebuilt = marshal(t, p); return nil })
		if !bytes.Equal(rebuilt, live) {
			t.Errorf("%s: rebuilt view differs from the live one", name)
		}
		// A state read back gives the same bytes.
		q := fresh(t, name)
		if err := q.UnmarshalState(live); err != nil || !bytes.Equal(marshal(t, q), live) {
			t.Errorf("%s: state does not survive a round trip (err %v)", name, err)
		}
	}
}

func TestPartnershipViewsAsOfEqualsFoldFromZero(t *testing.T) {
	w := year(t)
	head, err := w.Store.Head(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(head)))
	positions := []uint64{1, head}
	for range 6 {
		positions = append(positions, 1+rng.Uint64N(head))
	}
	for _, pos := range positions {
		for _, name := range partnershipViews {
			var got []byte
			if _, err := w.Reader.View(w.Ctx, name, views.AsOf{Position: pos}, func(p projections.Projection) error { got = marshal(t, p); return nil }); err != nil {
				t.Fatal(err)
			}
			p := fresh(t, name)
			if err := projections.Fold(w.Ctx, w.Store, w.Codec, p, 1, pos, nil); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, marshal(t, p)) {
				t.Errorf("%s as of %d differs from the fold of 1..%d", name, pos, pos)
			}
		}
	}
}

func TestPartnershipViewsAsKnownThen(t *testing.T) {
	w := year(t)
	pos, err := w.Store.PositionAt(w.Ctx, at(2025, 12, 31, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = views.Read(w.Ctx, w.Reader, "commitments", views.AsOf{Position: pos}, func(v *views.Commitments) error {
		groups := v.ByStatus(w.PID, "2025-26", day(2025, 12, 31), nil)
		if len(groups[0].Commitments) != 3 || len(groups[1].Commitments) != 0 {
			t.Errorf("as known at the end of December: %+v", groups)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPartnershipViewsShowErasedPeople(t *testing.T) {
	w := year(t)
	w.Keys.Erase(w.Phys2.String())
	read(t, w, "celebrations", func(v *views.Celebrations) {
		found := 0
		for _, c := range v.List(w.PID, "2025-26", names(t, w)) {
			if c.Recipient.ID == w.Phys2 {
				found++
				if c.Recipient.Name != domain.ErasedName {
					t.Errorf("erased recipient shows as %q", c.Recipient.Name)
				}
			}
		}
		if found != 1 {
			t.Errorf("%d recognitions of the erased teacher, want 1", found)
		}
	})
}

func TestPartnershipViewsRejectMalformedYear(t *testing.T) {
	w := partnershiptest.New(t, 16)
	read(t, w, "costs", func(v *views.Costs) {
		if _, err := v.Summary(uuid.New(), "2025-2026"); err == nil {
			t.Error("a malformed year was accepted")
		}
	})
}

// TestLoansIsTheResourcesView: "loans" is another name of the "resources"
// view, one projection folded and stored once: the engine knows no
// "loans", and the Reader answers both names with the same state, live
// (the one projection) and from a reader pinned to a past position that
// names both (read in place in the live one, the same state saved).
func TestLoansIsTheResourcesView(t *testing.T) {
	w := year(t)
	if slices.Contains(views.Names(), views.LoansView) || views.Canonical(views.LoansView) != views.ResourcesView {
		t.Fatalf("views %v, canonical %q: want loans answered by resources", views.Names(), views.Canonical(views.LoansView))
	}
	head, err := w.Store.Head(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	pinned, err := w.Reader.At(w.Ctx, views.AsOf{Position: head / 2}, views.LoansView, views.ResourcesView)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    *views.Reader
		a    views.AsOf
	}{{"live", w.Reader, views.AsOf{}}, {"pinned", pinned, views.AsOf{Position: head / 2}}} {
		var loans, resources projections.Projection
		var loansState, resourcesState []byte
		read := func(name string, p *projections.Projection, state *[]byte) {
			if _, err := c.r.View(w.Ctx, name, c.a, func(v projections.Projection) error {
				*p = v
				var err error
				*state, err = v.MarshalState()
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		read(views.LoansView, &loans, &loansState)
		read(views.ResourcesView, &resources, &resourcesState)
		if _, ok := loans.(*views.Resources); !ok || c.name == "live" && loans != resources {
			t.Errorf("%s: loans %p and resources %p are not one projection", c.name, loans, resources)
		}
		if string(loansState) != string(resourcesState) {
			t.Errorf("%s: loans and resources hold other states", c.name)
		}
	}
}

// TestPartnershipYearLeavesUnwantingViewsAsTheyWere is
// TestUnwantedEventsLeaveTheViewsAsTheyWere over the partnership year:
// loans, CPD, progress, timelines and the rest of the trust's work.
func TestPartnershipYearLeavesUnwantingViewsAsTheyWere(t *testing.T) {
	w := year(t)
	// A loan request corrected: the views that do not want the correction
	// must not be changed by it either.
	stream := partnership.ResourceStream(w.Minibus)
	recs, err := w.Store.ReadStream(w.Ctx, stream, 0, eventstore.Forward, 100)
	if err != nil {
		t.Fatal(err)
	}
	corrected := false
	for _, rec := range recs {
		if rec.Type != "LoanRequested" {
			continue
		}
		m, err := w.Codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			t.Fatal(err)
		}
		fixed := m.Event.(partnership.LoanRequested)
		fixed.Purpose += " (corrected)"
		lead := domain.Meta{ActorID: w.PantDirector.String(), ActorRole: domain.RolePartnershipLead}
		if _, err := w.Part.CorrectEvent(w.Ctx, lead, stream, domain.Correction{EventID: rec.ID, Replacement: fixed, Reason: "purpose mistyped"}); err != nil {
			t.Fatal(err)
		}
		corrected = true
		break
	}
	if !corrected {
		t.Fatal("the year has no loan request to correct")
	}
	checked := projectionstest.CheckWants(t, w.Ctx, w.Store, w.Codec, views.All()...)
	for _, typ := range []string{"LoanRequested", "CPDAttendanceRecorded", "ProgressRated", "TimelineItemDone", "StaffRegistered", "EventCorrected"} {
		if checked[typ] == 0 {
			t.Errorf("no %s was checked: the year no longer exercises the views' Wants", typ)
		}
	}
}

// TestViewsKeepNoReferenceToTheBytesTheyRead: every view's state read
// back from bytes is the same after those bytes are overwritten (the
// Projection contract: UnmarshalState keeps no reference to them, as it
// may be handed the database's own memory, valid only during the call).
func TestViewsKeepNoReferenceToTheBytesTheyRead(t *testing.T) {
	w := year(t)
	checked := 0
	defer func() {
		if checked < len(views.All())-2 {
			t.Errorf("only %d of %d views had a state to check", checked, len(views.All()))
		}
	}()
	for _, f := range views.All() {
		name := f().Name()
		var live []byte
		if _, err := w.Engine.View(name, func(p projections.Projection) error { live = marshal(t, p); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(live) < 64 {
			t.Logf("%s: the year leaves its state nearly empty (%d bytes): not checked", name, len(live))
			continue
		}
		checked++
		buf := bytes.Clone(live)
		q := fresh(t, name)
		if err := q.UnmarshalState(buf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range buf {
			buf[i] = 0xA5
		}
		if !bytes.Equal(marshal(t, q), live) {
			t.Errorf("%s: the state read changed when the bytes it was read from were overwritten", name)
		}
	}
}
