package partnership_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

// scheduledReview has B1 and C1 review school A on 20 November 2025.
func (w *world) scheduledReview() uuid.UUID {
	w.t.Helper()
	id := domaintest.ID()
	w.Given(partnership.ReviewStream(id), partnership.PeerReviewScheduled{PartnershipID: w.pid, ReviewID: id, ReviewedSchoolID: w.a,
		ReviewerIDs: []uuid.UUID{w.b1, w.c1}, ReviewerSchoolIDs: []uuid.UUID{w.b, w.c}, FocusAreas: []string{"Culture & Climate"}, On: day(2025, 11, 20), AcademicYear: "2025-26"})
	return id
}

func (w *world) review(id uuid.UUID) *partnership.Review {
	w.t.Helper()
	r, _, err := domain.Load(w.Ctx, w.Handler, partnership.ReviewStream(id), partnership.NewReview)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func TestSchedulePeerReview(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	cmd := partnership.SchedulePeerReview{ReviewID: id, PartnershipID: w.pid, ReviewedSchoolID: w.b, ReviewerIDs: []uuid.UUID{w.a1, w.c2},
		FocusAreas: []string{" Progress & Attainment ", "", "Year 9 science"}, On: at(2025, 11, 19, 9)}
	res, err := w.svc.SchedulePeerReview(w.Ctx, lead, cmd)
	w.ThenEvents(res, err, partnership.PeerReviewScheduled{PartnershipID: w.pid, ReviewID: id, ReviewedSchoolID: w.b, ReviewerIDs: []uuid.UUID{w.a1, w.c2},
		ReviewerSchoolIDs: []uuid.UUID{w.a, w.c}, FocusAreas: []string{"Progress & Attainment", "Year 9 science"}, On: day(2025, 11, 19), AcademicYear: "2025-26"})

	for _, c := range []struct {
		name   string
		change func(*partnership.SchedulePeerReview)
		rule   error
	}{
		{"same id", func(c *partnership.SchedulePeerReview) { c.ReviewID = id }, domain.ErrAlreadyExists},
		{"reviewer from the reviewed school", func(c *partnership.SchedulePeerReview) { c.ReviewerIDs = []uuid.UUID{w.a1, w.b2} }, partnership.ErrReviewerFromReviewedSchool},
		{"reviewer from outside the partnership", func(c *partnership.SchedulePeerReview) { c.ReviewerIDs = []uuid.UUID{w.stranger} }, partnership.ErrNotPartnershipMember},
		{"reviewer on no staff", func(c *partnership.SchedulePeerReview) { c.ReviewerIDs = []uuid.UUID{domaintest.ID()} }, domain.ErrNotFound},
		{"reviewed school not a member", func(c *partnership.SchedulePeerReview) { c.ReviewedSchoolID = w.outsider }, partnership.ErrNotPartnershipMember},
		{"no reviewers", func(c *partnership.SchedulePeerReview) { c.ReviewerIDs = nil }, domain.ErrRequired},
		{"reviewer twice", func(c *partnership.SchedulePeerReview) { c.ReviewerIDs = []uuid.UUID{w.a1, w.a1} }, domain.ErrInvalidValue},
		{"no focus", func(c *partnership.SchedulePeerReview) { c.FocusAreas = []string{" "} }, domain.ErrRequired},
		{"no day", func(c *partnership.SchedulePeerReview) { c.On = zeroTime }, domain.ErrRequired},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			cc.ReviewID = domaintest.ID()
			c.change(&cc)
			_, err := w.svc.SchedulePeerReview(w.Ctx, lead, cc)
			w.ThenError(err, c.rule)
		})
	}
}

func TestReviewFindingsAndCompletion(t *testing.T) {
	w := newWorld(t)
	id := w.scheduledReview()
	f1 := domaintest.ID()
	cmd := partnership.RecordReviewFinding{ReviewID: id, FindingID: f1, Area: "Culture & Climate", Rating: partnership.Amber,
		Finding: "Behaviour on corridors calm; lesson transitions slow.", Recommendations: []string{"Share the partnership's transitions routine", ""}}

	_, err := w.svc.CompletePeerReview(w.Ctx, as(w.b1), partnership.CompletePeerReview{ReviewID: id, Summary: "Done"})
	detailHas(t, w.ThenError(err, partnership.ErrReviewState), "no findings")
	_, err = w.svc.RecordReviewFinding(w.Ctx, as(w.a1), cmd) // the reviewed school's own staff
	w.ThenError(err, partnership.ErrNotReviewer)
	_, err = w.svc.RecordReviewFinding(w.Ctx, lead, cmd)
	w.ThenError(err, partnership.ErrNotReviewer)

	res, err := w.svc.RecordReviewFinding(w.Ctx, as(w.c1), cmd)
	w.ThenEvents(res, err, partnership.ReviewFindingRecorded{PartnershipID: w.pid, ReviewID: id, ReviewedSchoolID: w.a, FindingID: f1, ReviewerID: w.c1,
		Area: "Culture & Climate", Rating: partnership.Amber, Finding: cmd.Finding, Recommendations: []string{"Share the partnership's transitions routine"}})
	for _, c := range []struct {
		name   string
		change func(*partnership.RecordReviewFinding)
		rule   error
	}{
		{"same id", func(*partnership.RecordReviewFinding) {}, domain.ErrAlreadyExists},
		{"bad rating", func(c *partnership.RecordReviewFinding) { c.FindingID, c.Rating = domaintest.ID(), "blue" }, domain.ErrInvalidValue},
		{"no area", func(c *partnership.RecordReviewFinding) { c.FindingID, c.Area = domaintest.ID(), "" }, domain.ErrRequired},
		{"no finding", func(c *partnership.RecordReviewFinding) { c.FindingID, c.Finding = domaintest.ID(), "" }, domain.ErrRequired},
		{"unknown review", func(c *partnership.RecordReviewFinding) { c.FindingID, c.ReviewID = domaintest.ID(), domaintest.ID() }, domain.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			c.change(&cc)
			_, err := w.svc.RecordReviewFinding(w.Ctx, as(w.c1), cc)
			w.ThenError(err, c.rule)
		})
	}
	w.ok(w.svc.RecordReviewFinding(w.Ctx, as(w.b1), partnership.RecordReviewFinding{ReviewID: id, FindingID: domaintest.ID(), Area: "Year 9 science", Rating: partnership.Green, Finding: "Strong practicals."}))

	_, err = w.svc.CompletePeerReview(w.Ctx, as(w.a1), partnership.CompletePeerReview{ReviewID: id, Summary: "Good"})
	w.ThenError(err, partnership.ErrNotReviewer)
	_, err = w.svc.CompletePeerReview(w.Ctx, as(w.b1), partnership.CompletePeerReview{ReviewID: id})
	w.ThenError(err, domain.ErrRequired)
	w.Clock.Set(day(2025, 11, 21))
	res, err = w.svc.CompletePeerReview(w.Ctx, as(w.b1), partnership.CompletePeerReview{ReviewID: id, Summary: "A calm school; tighten transitions."})
	w.ThenEvents(res, err, partnership.PeerReviewCompleted{PartnershipID: w.pid, ReviewID: id, ReviewedSchoolID: w.a, Summary: "A calm school; tighten transitions.", CompletedOn: day(2025, 11, 21)})
	_, err = w.svc.CompletePeerReview(w.Ctx, as(w.b1), partnership.CompletePeerReview{ReviewID: id, Summary: "again"})
	w.ThenError(err, partnership.ErrReviewState)
	cc := cmd
	cc.FindingID = domaintest.ID()
	_, err = w.svc.RecordReviewFinding(w.Ctx, as(w.c1), cc)
	detailHas(t, w.ThenError(err, partnership.ErrReviewState), "completed on 2025-11-21")

	r := w.review(id)
	if got := r.RAGCounts(); got[partnership.Amber] != 1 || got[partnership.Green] != 1 || got[partnership.Red] != 0 || !r.Decided() {
		t.Fatalf("counts=%v decided=%v", got, r.Decided())
	}
	// Every event of the review shares its correlation id; a correction
	// after completion is marked changed after decision.
	msgs := w.Messages()
	var first domain.Message
	for _, m := range msgs {
		if m.Stream == partnership.ReviewStream(id) {
			if first.ID == uuid.Nil {
				first = m
			}
			if m.Meta.CorrelationID != first.ID && m.Event.EventType() != "PeerReviewScheduled" {
				t.Fatalf("%s correlates with %s, want %s", m.Event.EventType(), m.Meta.CorrelationID, first.ID)
			}
		}
	}
	var finding domain.Message
	for _, m := range msgs {
		if e, ok := m.Event.(partnership.ReviewFindingRecorded); ok && e.FindingID == f1 {
			finding = m
		}
	}
	fixed := finding.Event.(partnership.ReviewFindingRecorded)
	fixed.Rating = partnership.Red
	res = w.ok(w.svc.CorrectEvent(w.Ctx, as(w.c1), partnership.ReviewStream(id), domain.Correction{EventID: finding.ID, Replacement: fixed, Reason: "rating typed wrongly"}))
	if !res.Events[0].Event.(domain.EventCorrected).ChangedAfterDecision {
		t.Fatal("correction after completion not marked changed after decision")
	}
	if f, _ := w.review(id).Finding(f1); f.Rating != partnership.Red {
		t.Fatalf("as corrected now: %s", f.Rating)
	}
}

func TestFollowUpActions(t *testing.T) {
	w := newWorld(t)
	id := w.scheduledReview()
	f1 := domaintest.ID()
	w.ok(w.svc.RecordReviewFinding(w.Ctx, as(w.c1), partnership.RecordReviewFinding{ReviewID: id, FindingID: f1, Area: "Culture & Climate", Rating: partnership.Red, Finding: "Transitions slow."}))
	act := domaintest.ID()
	cmd := partnership.AgreeFollowUpAction{ReviewID: id, ActionID: act, FindingID: f1, Action: "Adopt the shared transitions routine", OwnerID: w.a2, DueOn: day(2026, 1, 30)}

	_, err := w.svc.AgreeFollowUpAction(w.Ctx, as(w.a1), cmd)
	detailHas(t, w.ThenError(err, partnership.ErrReviewState), "not completed")
	w.ok(w.svc.CompletePeerReview(w.Ctx, as(w.c1), partnership.CompletePeerReview{ReviewID: id, Summary: "Work on transitions."}))

	res, err := w.svc.AgreeFollowUpAction(w.Ctx, as(w.a1), cmd)
	w.ThenEvents(res, err, partnership.FollowUpActionAgreed{PartnershipID: w.pid, ReviewID: id, ReviewedSchoolID: w.a, ActionID: act, FindingID: f1,
		Action: cmd.Action, OwnerID: w.a2, DueOn: day(2026, 1, 30)})
	for _, c := range []struct {
		name   string
		change func(*partnership.AgreeFollowUpAction)
		rule   error
	}{
		{"same id", func(*partnership.AgreeFollowUpAction) {}, domain.ErrAlreadyExists},
		{"unknown finding", func(c *partnership.AgreeFollowUpAction) { c.ActionID, c.FindingID = domaintest.ID(), domaintest.ID() }, domain.ErrNotFound},
		{"no owner", func(c *partnership.AgreeFollowUpAction) { c.ActionID, c.OwnerID = domaintest.ID(), uuid.Nil }, domain.ErrRequired},
		{"no due day", func(c *partnership.AgreeFollowUpAction) { c.ActionID, c.DueOn = domaintest.ID(), zeroTime }, domain.ErrRequired},
		{"no action", func(c *partnership.AgreeFollowUpAction) { c.ActionID, c.Action = domaintest.ID(), "" }, domain.ErrRequired},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			c.change(&cc)
			_, err := w.svc.AgreeFollowUpAction(w.Ctx, as(w.a1), cc)
			w.ThenError(err, c.rule)
		})
	}
	act2 := domaintest.ID()
	w.ok(w.svc.AgreeFollowUpAction(w.Ctx, as(w.a1), partnership.AgreeFollowUpAction{ReviewID: id, ActionID: act2, Action: "Report back to the partnership", OwnerID: w.a1, DueOn: day(2026, 3, 1)}))

	r := w.review(id)
	if got := r.OverdueActions(day(2026, 2, 2)); len(got) != 1 || got[0].ID != act {
		t.Fatalf("overdue=%+v", got)
	}
	w.Clock.Set(day(2026, 2, 2))
	res, err = w.svc.CompleteFollowUpAction(w.Ctx, as(w.a2), partnership.CompleteFollowUpAction{ReviewID: id, ActionID: act, Note: "Routine in place since January."})
	w.ThenEvents(res, err, partnership.FollowUpActionCompleted{PartnershipID: w.pid, ReviewID: id, ReviewedSchoolID: w.a, ActionID: act, Note: "Routine in place since January.", CompletedOn: day(2026, 2, 2), Late: true})
	_, err = w.svc.CompleteFollowUpAction(w.Ctx, as(w.a2), partnership.CompleteFollowUpAction{ReviewID: id, ActionID: act})
	w.ThenError(err, partnership.ErrReviewState)
	_, err = w.svc.CompleteFollowUpAction(w.Ctx, as(w.a2), partnership.CompleteFollowUpAction{ReviewID: id, ActionID: domaintest.ID()})
	w.ThenError(err, domain.ErrNotFound)
	if got := w.review(id).OpenActions(); len(got) != 1 || got[0].ID != act2 {
		t.Fatalf("open=%+v", got)
	}
}
