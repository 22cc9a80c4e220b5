package partnership_test

import (
	"testing"
	"time"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

// Every business date is the effective date the client sent, not the
// server's day: a July recognition entered in December is a July one.
func TestBusinessDatesAreTheEffectiveDates(t *testing.T) {
	w := newWorld(t)
	w.Clock.Set(at(2026, 12, 7, 10)) // entered in December
	july := day(2026, 7, 14)
	eff := func(person string) domain.Meta {
		m := lead
		if person != "" {
			m = domain.Meta{ActorID: person, ActorRole: domain.RoleStaff}
		}
		m.EffectiveAt = july.Add(11 * time.Hour)
		return m
	}
	prio := w.priority()
	cid, rid := domaintest.ID(), domaintest.ID()
	res, err := w.svc.RecogniseContribution(w.Ctx, eff(""), partnership.RecogniseContribution{PartnershipID: w.pid, RecognitionID: rid,
		RecipientKind: partnership.RecipientSchool, RecipientID: w.a, Citation: "Hosted the summer TeachMeet."})
	w.ThenEvents(res, err, partnership.ContributionRecognised{PartnershipID: w.pid, RecognitionID: rid, RecipientKind: partnership.RecipientSchool,
		RecipientID: w.a, SchoolID: w.a, Citation: "Hosted the summer TeachMeet.", RecognisedOn: july})
	if m := res.Events[0]; !m.RecordedAt.Equal(at(2026, 12, 7, 10)) {
		t.Fatalf("recorded at %s, want the server's time", m.RecordedAt)
	}
	w.ok(w.svc.MakeCommitment(w.Ctx, eff(""), partnership.MakeCommitment{CommitmentID: cid, PartnershipID: w.pid, PriorityID: prio, PartyKind: partnership.PartySchool,
		PartyID: w.a, OwnerID: w.a1, DueOn: day(2026, 7, 31), SuccessMeasure: "All read"}))
	res, err = w.svc.MarkCommitmentAchieved(w.Ctx, eff(""), partnership.CloseCommitment{CommitmentID: cid, Evidence: "Scores"})
	w.ThenEvents(res, err, partnership.CommitmentAchieved{PartnershipID: w.pid, CommitmentID: cid, SchoolID: w.a, Evidence: "Scores", ClosedOn: july})

	rating := domaintest.ID()
	res, err = w.svc.RateProgress(w.Ctx, eff(w.a1.String()), partnership.RateProgress{RatingID: rating, PartnershipID: w.pid, SchoolID: w.a, Area: "Maths",
		Cohort: "Year 7", Term: "2025-26 Summer 2", Rating: partnership.Green, Evidence: "Data drop"})
	w.ThenEvents(res, err, partnership.ProgressRated{PartnershipID: w.pid, SchoolID: w.a, RatingID: rating, Area: "Maths", Cohort: "Year 7",
		AcademicYear: "2025-26", Term: partnership.Summer2, Rating: partnership.Green, Evidence: "Data drop", RatedOn: july})
	// A rating belongs to its term's year: one made in the next year is
	// outside the year it claims.
	m := eff(w.a1.String())
	m.EffectiveAt = day(2026, 9, 14)
	_, err = w.svc.RateProgress(w.Ctx, m, partnership.RateProgress{RatingID: domaintest.ID(), PartnershipID: w.pid, SchoolID: w.a, Area: "Maths",
		Cohort: "Year 7", Term: "2025-26 Summer 2", Rating: partnership.Green, Evidence: "Data drop"})
	w.ThenError(err, partnership.ErrOutsideYear)
	// A date to come is refused.
	m.EffectiveAt = day(2026, 12, 25)
	_, err = w.svc.RecogniseContribution(w.Ctx, m, partnership.RecogniseContribution{PartnershipID: w.pid, RecognitionID: domaintest.ID(),
		RecipientKind: partnership.RecipientSchool, RecipientID: w.a, Citation: "Christmas concert."})
	w.ThenError(err, domain.ErrFutureDate)
}
