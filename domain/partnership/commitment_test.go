package partnership_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

func (w *world) priority() uuid.UUID {
	w.t.Helper()
	id := domaintest.ID()
	w.Given(partnership.PartnershipStream(w.pid), partnership.PriorityAgreed{PartnershipID: w.pid, PriorityID: id, Title: "Academic transition", AcademicYear: "2025-26"})
	return id
}

func (w *world) commitment(id uuid.UUID) *partnership.Commitment {
	w.t.Helper()
	c, _, err := domain.Load(w.Ctx, w.Handler, partnership.CommitmentStream(id), partnership.NewCommitment)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func TestMakeCommitment(t *testing.T) {
	w := newWorld(t)
	prio := w.priority()
	islc := domaintest.ID()
	w.dir.AddCommunity(islc, w.c)
	id := domaintest.ID()
	cmd := partnership.MakeCommitment{CommitmentID: id, PartnershipID: w.pid, PriorityID: prio, PartyKind: partnership.PartyCommunity, PartyID: islc,
		OwnerID: w.c1, DueOn: day(2026, 7, 17), SuccessMeasure: "Every Year 6 pupil in the cluster taught two science lessons by secondary staff"}
	res, err := w.svc.MakeCommitment(w.Ctx, as(w.c1), cmd)
	w.ThenEvents(res, err, partnership.CommitmentMade{PartnershipID: w.pid, CommitmentID: id, PriorityID: prio, AcademicYear: "2025-26",
		PartyKind: partnership.PartyCommunity, PartyID: islc, SchoolID: w.c, OwnerID: w.c1, DueOn: day(2026, 7, 17), SuccessMeasure: cmd.SuccessMeasure})

	outsiderISLC := domaintest.ID()
	w.dir.AddCommunity(outsiderISLC, w.outsider)
	for _, c := range []struct {
		name   string
		change func(*partnership.MakeCommitment)
		rule   error
	}{
		{"same id", func(c *partnership.MakeCommitment) { c.CommitmentID = id }, domain.ErrAlreadyExists},
		{"unknown priority", func(c *partnership.MakeCommitment) { c.PriorityID = domaintest.ID() }, domain.ErrNotFound},
		{"unknown ISLC", func(c *partnership.MakeCommitment) { c.PartyID = domaintest.ID() }, domain.ErrNotFound},
		{"ISLC of a school outside", func(c *partnership.MakeCommitment) { c.PartyID = outsiderISLC }, partnership.ErrNotPartnershipMember},
		{"school outside", func(c *partnership.MakeCommitment) { c.PartyKind, c.PartyID = partnership.PartySchool, w.outsider }, partnership.ErrNotPartnershipMember},
		{"bad party kind", func(c *partnership.MakeCommitment) { c.PartyKind = "person" }, domain.ErrInvalidValue},
		{"no due day", func(c *partnership.MakeCommitment) { c.DueOn = zeroTime }, domain.ErrRequired},
		{"no measure", func(c *partnership.MakeCommitment) { c.SuccessMeasure = "" }, domain.ErrRequired},
		{"no owner", func(c *partnership.MakeCommitment) { c.OwnerID = uuid.Nil }, domain.ErrRequired},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			cc.CommitmentID = domaintest.ID()
			c.change(&cc)
			_, err := w.svc.MakeCommitment(w.Ctx, as(w.c1), cc)
			w.ThenError(err, c.rule)
		})
	}
}

func TestCommitmentProgressAndClosing(t *testing.T) {
	w := newWorld(t)
	prio := w.priority()
	commit := func(school uuid.UUID) uuid.UUID {
		id := domaintest.ID()
		w.ok(w.svc.MakeCommitment(w.Ctx, lead, partnership.MakeCommitment{CommitmentID: id, PartnershipID: w.pid, PriorityID: prio, PartyKind: partnership.PartySchool,
			PartyID: school, OwnerID: w.a1, DueOn: day(2026, 3, 31), SuccessMeasure: "Joint Year 6/7 maths scheme in use"}))
		return id
	}
	c1, c2, c3 := commit(w.a), commit(w.b), commit(w.c)

	pct := 40
	res, err := w.svc.UpdateCommitmentProgress(w.Ctx, as(w.a1), partnership.UpdateCommitmentProgress{CommitmentID: c1, Note: "Scheme drafted", Percent: &pct})
	want := 40
	w.ThenEvents(res, err, partnership.CommitmentProgressUpdated{PartnershipID: w.pid, CommitmentID: c1, SchoolID: w.a, Note: "Scheme drafted", Percent: &want, UpdatedOn: day(2025, 9, 1)})
	pct = 60 // the recorded event does not alias the command's value
	if p, _ := w.commitment(c1).LatestPercent(); p != 40 {
		t.Fatalf("percent=%d, want 40", p)
	}
	bad := 101
	_, err = w.svc.UpdateCommitmentProgress(w.Ctx, as(w.a1), partnership.UpdateCommitmentProgress{CommitmentID: c1, Note: "x", Percent: &bad})
	w.ThenError(err, domain.ErrInvalidValue)
	_, err = w.svc.UpdateCommitmentProgress(w.Ctx, as(w.a1), partnership.UpdateCommitmentProgress{CommitmentID: c1})
	w.ThenError(err, domain.ErrRequired)
	_, err = w.svc.UpdateCommitmentProgress(w.Ctx, as(w.a1), partnership.UpdateCommitmentProgress{CommitmentID: domaintest.ID(), Note: "x"})
	w.ThenError(err, domain.ErrNotFound)
	w.ok(w.svc.UpdateCommitmentProgress(w.Ctx, as(w.a1), partnership.UpdateCommitmentProgress{CommitmentID: c1, Note: "Taught in two primaries"}))

	w.Clock.Set(day(2026, 3, 30))
	_, err = w.svc.MarkCommitmentAchieved(w.Ctx, as(w.a1), partnership.CloseCommitment{CommitmentID: c1})
	w.ThenError(err, domain.ErrRequired)
	res, err = w.svc.MarkCommitmentAchieved(w.Ctx, as(w.a1), partnership.CloseCommitment{CommitmentID: c1, Evidence: "Scheme in use in all five schools"})
	w.ThenEvents(res, err, partnership.CommitmentAchieved{PartnershipID: w.pid, CommitmentID: c1, SchoolID: w.a, Evidence: "Scheme in use in all five schools", ClosedOn: day(2026, 3, 30)})
	res, err = w.svc.MarkCommitmentMissed(w.Ctx, as(w.b1), partnership.CloseCommitment{CommitmentID: c2, Evidence: "Staffing gap in spring"})
	w.ThenEvents(res, err, partnership.CommitmentMissed{PartnershipID: w.pid, CommitmentID: c2, SchoolID: w.b, Evidence: "Staffing gap in spring", ClosedOn: day(2026, 3, 30)})

	for _, id := range []uuid.UUID{c1, c2} {
		_, err = w.svc.UpdateCommitmentProgress(w.Ctx, as(w.a1), partnership.UpdateCommitmentProgress{CommitmentID: id, Note: "more"})
		w.ThenError(err, partnership.ErrCommitmentClosed)
		_, err = w.svc.MarkCommitmentMissed(w.Ctx, as(w.a1), partnership.CloseCommitment{CommitmentID: id, Evidence: "x"})
		w.ThenError(err, partnership.ErrCommitmentClosed)
		_, err = w.svc.MarkCommitmentAchieved(w.Ctx, as(w.a1), partnership.CloseCommitment{CommitmentID: id, Evidence: "x"})
		w.ThenError(err, partnership.ErrCommitmentClosed)
	}

	cs := []*partnership.Commitment{w.commitment(c1), w.commitment(c2), w.commitment(c3)}
	by := partnership.CommitmentsByStatus(cs...)
	if len(by[partnership.CommitmentAchievedStatus]) != 1 || len(by[partnership.CommitmentMissedStatus]) != 1 || by[partnership.CommitmentOpenStatus][0].ID != c3 {
		t.Fatalf("by status=%v", by)
	}
	if !cs[2].OverdueOn(day(2026, 4, 1)) || cs[2].OverdueOn(day(2026, 3, 31)) || cs[0].OverdueOn(day(2026, 4, 1)) {
		t.Fatal("overdue is for open commitments after their due day")
	}
	if !cs[0].Decided() || len(cs[0].Updates) != 2 {
		t.Fatalf("c1=%+v", cs[0])
	}
}
