package partnership_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

func (w *world) second(teacher, from, to uuid.UUID, start, end time.Time, fraction float64) uuid.UUID {
	w.t.Helper()
	id := domaintest.ID()
	w.ok(w.svc.ArrangeSecondment(w.Ctx, as(w.a1), partnership.ArrangeSecondment{SecondmentID: id, PartnershipID: w.pid, TeacherID: teacher,
		LendingSchoolID: from, ReceivingSchoolID: to, Subject: "Physics", Start: start, End: end, Fraction: fraction}))
	return id
}

func (w *world) secondments(teacher uuid.UUID) *partnership.Secondments {
	w.t.Helper()
	s, _, err := domain.Load(w.Ctx, w.Handler, partnership.SecondmentsStream(teacher), partnership.NewSecondments)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func TestArrangeSecondment(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	cmd := partnership.ArrangeSecondment{SecondmentID: id, PartnershipID: w.pid, TeacherID: w.a2, LendingSchoolID: w.a, ReceivingSchoolID: w.c,
		Subject: "Physics", Start: at(2026, 1, 5, 9), End: day(2026, 4, 1), Fraction: 0.4}
	res, err := w.svc.ArrangeSecondment(w.Ctx, as(w.a1), cmd)
	keys := partnership.SecondmentKeys{PartnershipID: w.pid, SecondmentID: id, TeacherID: w.a2, LendingSchoolID: w.a, ReceivingSchoolID: w.c}
	w.ThenEvents(res, err, partnership.SecondmentAgreed{SecondmentKeys: keys, Subject: "Physics", Start: day(2026, 1, 5), End: day(2026, 4, 1), Fraction: 0.4, AcademicYear: "2025-26"})

	for _, c := range []struct {
		name   string
		change func(*partnership.ArrangeSecondment)
		rule   error
	}{
		{"same id", func(*partnership.ArrangeSecondment) {}, domain.ErrAlreadyExists},
		{"same school", func(c *partnership.ArrangeSecondment) { c.ReceivingSchoolID = w.a }, partnership.ErrSecondmentSameSchool},
		{"not staff of the lending school", func(c *partnership.ArrangeSecondment) { c.TeacherID = w.b1 }, partnership.ErrNotStaffOfLendingSchool},
		{"receiving school not a member", func(c *partnership.ArrangeSecondment) { c.ReceivingSchoolID = w.outsider }, partnership.ErrNotPartnershipMember},
		{"lending school not a member", func(c *partnership.ArrangeSecondment) {
			c.LendingSchoolID, c.TeacherID = w.outsider, w.stranger
		}, partnership.ErrNotPartnershipMember},
		{"no time", func(c *partnership.ArrangeSecondment) { c.Fraction = 0 }, domain.ErrInvalidValue},
		{"more than full time", func(c *partnership.ArrangeSecondment) { c.Fraction = 1.2 }, domain.ErrInvalidValue},
		{"not a number", func(c *partnership.ArrangeSecondment) { c.Fraction = math.NaN() }, domain.ErrInvalidValue},
		{"ends before it starts", func(c *partnership.ArrangeSecondment) { c.End = day(2026, 1, 5) }, domain.ErrInvalidValue},
		{"no subject", func(c *partnership.ArrangeSecondment) { c.Subject = "" }, domain.ErrRequired},
		{"no teacher", func(c *partnership.ArrangeSecondment) { c.TeacherID = uuid.Nil }, domain.ErrRequired},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			cc.SecondmentID = domaintest.ID()
			if c.name == "same id" {
				cc.SecondmentID = id
			}
			c.change(&cc)
			_, err := w.svc.ArrangeSecondment(w.Ctx, as(w.a1), cc)
			w.ThenError(err, c.rule)
		})
	}
}

func TestSecondmentOverCommitment(t *testing.T) {
	w := newWorld(t)
	// 0.5 to B for the spring term's first half, 0.5 to C for its second.
	s1 := w.second(w.a2, w.a, w.b, day(2026, 1, 5), day(2026, 2, 16), 0.5)
	s2 := w.second(w.a2, w.a, w.c, day(2026, 2, 16), day(2026, 4, 1), 0.5)
	// Another 0.5 across both fits: at no moment does the total pass 1.
	w.second(w.a2, w.a, w.c, day(2026, 2, 1), day(2026, 3, 1), 0.5)

	// But 0.1 more in February does not, and the refusal names the
	// secondments it clashes with.
	_, err := w.svc.ArrangeSecondment(w.Ctx, as(w.a1), partnership.ArrangeSecondment{SecondmentID: domaintest.ID(), PartnershipID: w.pid, TeacherID: w.a2,
		LendingSchoolID: w.a, ReceivingSchoolID: w.b, Subject: "Physics", Start: day(2026, 2, 10), End: day(2026, 2, 20), Fraction: 0.1})
	detailHas(t, w.ThenError(err, partnership.ErrSecondmentOverCommitted), s1.String(), s2.String(), "already seconded for up to 100% of their time", "at most 0% more", "not 10%")

	// Summer is free: full time is fine; and 0.3 + 0.7 make exactly 1.
	w.second(w.a2, w.a, w.b, day(2026, 4, 13), day(2026, 5, 22), 0.3)
	w.second(w.a2, w.a, w.c, day(2026, 4, 13), day(2026, 5, 22), 0.7)

	// A cancelled secondment frees its share.
	w.Clock.Set(day(2026, 3, 1))
	x := w.second(w.a1, w.a, w.b, day(2026, 6, 1), day(2026, 7, 20), 1)
	_, err = w.svc.ArrangeSecondment(w.Ctx, as(w.a1), partnership.ArrangeSecondment{SecondmentID: domaintest.ID(), PartnershipID: w.pid, TeacherID: w.a1,
		LendingSchoolID: w.a, ReceivingSchoolID: w.c, Subject: "Physics", Start: day(2026, 7, 1), End: day(2026, 7, 10), Fraction: 0.2})
	w.ThenError(err, partnership.ErrSecondmentOverCommitted)
	w.ok(w.svc.CancelSecondment(w.Ctx, as(w.a1), partnership.CancelSecondment{TeacherID: w.a1, SecondmentID: x}))
	w.second(w.a1, w.a, w.c, day(2026, 7, 1), day(2026, 7, 10), 0.2)
}

func TestEndAndCancelSecondment(t *testing.T) {
	w := newWorld(t)
	s1 := w.second(w.a2, w.a, w.c, day(2026, 1, 5), day(2026, 4, 1), 0.5)
	keys := partnership.SecondmentKeys{PartnershipID: w.pid, SecondmentID: s1, TeacherID: w.a2, LendingSchoolID: w.a, ReceivingSchoolID: w.c}

	w.Clock.Set(day(2026, 2, 2))
	_, err := w.svc.CancelSecondment(w.Ctx, as(w.a1), partnership.CancelSecondment{TeacherID: w.a2, SecondmentID: s1})
	detailHas(t, w.ThenError(err, partnership.ErrSecondmentState), "end it early")
	for _, endOn := range []time.Time{day(2026, 1, 5), day(2026, 4, 1), day(2026, 5, 1)} {
		_, err = w.svc.EndSecondmentEarly(w.Ctx, as(w.a1), partnership.EndSecondmentEarly{TeacherID: w.a2, SecondmentID: s1, EndOn: endOn})
		w.ThenError(err, domain.ErrInvalidValue)
	}
	_, err = w.svc.EndSecondmentEarly(w.Ctx, as(w.a1), partnership.EndSecondmentEarly{TeacherID: w.a2, SecondmentID: domaintest.ID()})
	w.ThenError(err, domain.ErrNotFound)

	res, err := w.svc.EndSecondmentEarly(w.Ctx, as(w.a1), partnership.EndSecondmentEarly{TeacherID: w.a2, SecondmentID: s1})
	w.ThenEvents(res, err, partnership.SecondmentEndedEarly{SecondmentKeys: keys, EndOn: day(2026, 2, 2), PlannedEnd: day(2026, 4, 1)})
	_, err = w.svc.EndSecondmentEarly(w.Ctx, as(w.a1), partnership.EndSecondmentEarly{TeacherID: w.a2, SecondmentID: s1, EndOn: day(2026, 2, 1)})
	w.ThenError(err, partnership.ErrSecondmentState)

	s2 := w.second(w.a2, w.a, w.b, day(2026, 3, 2), day(2026, 4, 1), 1) // fits now s1 has ended
	res, err = w.svc.CancelSecondment(w.Ctx, as(w.a1), partnership.CancelSecondment{TeacherID: w.a2, SecondmentID: s2})
	keys.SecondmentID, keys.ReceivingSchoolID = s2, w.b
	w.ThenEvents(res, err, partnership.SecondmentCancelled{SecondmentKeys: keys})
	_, err = w.svc.CancelSecondment(w.Ctx, as(w.a1), partnership.CancelSecondment{TeacherID: w.a2, SecondmentID: s2})
	w.ThenError(err, partnership.ErrSecondmentState)

	sec := w.secondments(w.a2)
	if x, _ := sec.Secondment(s1); x.Status != partnership.SecondmentEndedEarlyStatus || !x.End.Equal(day(2026, 2, 2)) || !x.PlannedEnd.Equal(day(2026, 4, 1)) {
		t.Fatalf("ended secondment=%+v", x)
	}
	// Both events of s1 share the correlation id of its agreement.
	var corr []uuid.UUID
	for _, m := range w.Messages() {
		switch e := m.Event.(type) {
		case partnership.SecondmentAgreed:
			if e.SecondmentID == s1 {
				corr = append(corr, m.Meta.CorrelationID)
			}
		case partnership.SecondmentEndedEarly:
			corr = append(corr, m.Meta.CorrelationID)
		}
	}
	if len(corr) != 2 || corr[0] != corr[1] {
		t.Fatalf("correlations=%v", corr)
	}
}

func TestSecondmentQueries(t *testing.T) {
	w := newWorld(t)
	w.second(w.a2, w.a, w.c, day(2026, 1, 5), day(2026, 4, 1), 0.4)
	w.second(w.a1, w.a, w.c, day(2026, 1, 5), day(2026, 2, 16), 0.6)
	w.second(w.b2, w.b, w.c, day(2026, 2, 2), day(2026, 7, 22), 1)
	all := partnership.AllSecondments(w.secondments(w.a2), w.secondments(w.a1), w.secondments(w.b2))

	for _, c := range []struct {
		on            time.Time
		active        int
		toC, fromA, f float64
	}{
		{day(2026, 1, 4), 0, 0, 0, 0},
		{day(2026, 1, 5), 2, 1, 1, 1},
		{day(2026, 2, 10), 3, 2, 1, 2},
		{day(2026, 2, 16), 2, 1.4, 0.4, 1.4}, // the end day is excluded
		{day(2026, 4, 1), 1, 1, 0, 1},
	} {
		act := partnership.ActiveSecondments(all, c.on)
		if len(act) != c.active || !near(partnership.FTE(act), c.f) ||
			!near(partnership.FTEByReceivingSchool(all, c.on)[w.c], c.toC) || !near(partnership.FTEByLendingSchool(all, c.on)[w.a], c.fromA) {
			t.Errorf("%s: active=%d FTE=%v toC=%v fromA=%v; want %d %v %v %v", c.on.Format(time.DateOnly), len(act), partnership.FTE(act),
				partnership.FTEByReceivingSchool(all, c.on)[w.c], partnership.FTEByLendingSchool(all, c.on)[w.a], c.active, c.f, c.toC, c.fromA)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// A teacher who has left the lending school's staff cannot be seconded
// by it.
func TestSecondmentOfLeaver(t *testing.T) {
	w := newWorld(t)
	w.dir.RemoveStaff(w.a2)
	_, err := w.svc.ArrangeSecondment(w.Ctx, as(w.a1), partnership.ArrangeSecondment{SecondmentID: domaintest.ID(), PartnershipID: w.pid, TeacherID: w.a2,
		LendingSchoolID: w.a, ReceivingSchoolID: w.b, Subject: "Physics", Start: day(2026, 1, 5), End: day(2026, 2, 1), Fraction: 0.5})
	detailHas(t, w.ThenError(err, partnership.ErrNotStaffOfLendingSchool), w.a2.String())
}

// A teacher leaving the school that lends them ends their secondments
// from it at that day: the one running ends early, the one not started is
// cancelled; one already over, and one from another school, stay.
func TestTeacherLeavingEndsSecondments(t *testing.T) {
	w := newWorld(t)
	sk := func(s, from, to uuid.UUID) partnership.SecondmentKeys {
		return partnership.SecondmentKeys{PartnershipID: w.pid, SecondmentID: s, TeacherID: w.a2, LendingSchoolID: from, ReceivingSchoolID: to}
	}
	over, running, future, other := domaintest.ID(), domaintest.ID(), domaintest.ID(), domaintest.ID()
	w.Given(partnership.SecondmentsStream(w.a2),
		partnership.SecondmentAgreed{SecondmentKeys: sk(over, w.a, w.b), Subject: "Physics", Start: day(2025, 9, 1), End: day(2025, 10, 1), Fraction: 0.2, AcademicYear: "2025-26"},
		partnership.SecondmentAgreed{SecondmentKeys: sk(running, w.a, w.b), Subject: "Physics", Start: day(2025, 10, 1), End: day(2026, 1, 1), Fraction: 0.5, AcademicYear: "2025-26"},
		partnership.SecondmentAgreed{SecondmentKeys: sk(future, w.a, w.c), Subject: "Physics", Start: day(2026, 2, 1), End: day(2026, 3, 1), Fraction: 0.5, AcademicYear: "2025-26"},
		partnership.SecondmentAgreed{SecondmentKeys: sk(other, w.b, w.c), Subject: "Physics", Start: day(2025, 10, 1), End: day(2026, 1, 1), Fraction: 0.2, AcademicYear: "2025-26"})
	w.Clock.Set(day(2025, 12, 2))
	meta := domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin, EffectiveAt: day(2025, 11, 30)}
	got, err := w.svc.PersonLeftSchool(w.Ctx, meta, w.a2, w.a, day(2025, 11, 30))
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Event{
		partnership.SecondmentEndedEarly{SecondmentKeys: sk(running, w.a, w.b), EndOn: day(2025, 12, 1), PlannedEnd: day(2026, 1, 1)},
		partnership.SecondmentCancelled{SecondmentKeys: sk(future, w.a, w.c)},
	}
	if len(got) != len(want) {
		t.Fatalf("recorded %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i].Event, want[i]) {
			t.Fatalf("event %d = %+v, want %+v", i, got[i].Event, want[i])
		}
	}
	again, err := w.svc.PersonLeftSchool(w.Ctx, meta, w.a2, w.a, day(2025, 11, 30))
	if err != nil || len(again) != 0 {
		t.Fatalf("again: %d events, %v; want none", len(again), err)
	}
}

// Wired together, leaving the school (governance) ends the teacher's
// secondments (partnership) in the same call.
func TestLeaveSchoolEndsSecondmentsWhenWired(t *testing.T) {
	w := newWorld(t)
	gov := governance.NewService(w.Handler, nil)
	gov.AddLeavers(w.svc)
	w.Given(governance.SchoolStream(w.a), governance.SchoolRegistered{SchoolID: w.a, Name: "School A", YearStartMonth: 9, YearStartDay: 1})
	w.Given(governance.PersonStream(w.a2), governance.StaffRegistered{PersonID: w.a2, SchoolID: w.a, Kind: governance.StaffEducator, Personal: domain.PersonalData{Name: "Teacher"}})
	running := w.second(w.a2, w.a, w.b, day(2025, 10, 1), day(2026, 1, 1), 0.5)
	w.Clock.Set(day(2025, 12, 2))
	res, err := gov.LeaveSchool(w.Ctx, domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin}, governance.LeaveSchool{PersonID: w.a2, LeftOn: day(2025, 11, 30)})
	if err != nil {
		t.Fatal(err)
	}
	last := res.Events[len(res.Events)-1]
	if e, ok := last.Event.(partnership.SecondmentEndedEarly); !ok || e.SecondmentID != running || !e.EndOn.Equal(day(2025, 12, 1)) || !last.Meta.EffectiveAt.Equal(day(2025, 11, 30)) {
		t.Fatalf("last event = %s %+v", last.Type, last.Event)
	}
}
