package partnership_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	p "github.com/concord-ledger/concord/domain/partnership"
)

// corrWorld is the partnership world with a history holding an event of
// every kind.
type corrWorld struct {
	*world
	d                                    uuid.UUID // a school that joined and left
	auditor, notAuditor                  uuid.UUID
	prio, res, l1, l2, l3                uuid.UUID
	s1, s2, s3, s4                       uuid.UUID
	cpd, k1, k2, review, finding, action uuid.UUID
	rating, cm1, cm2, tl, i1, i2         uuid.UUID
}

const y = "2025-26"

func newCorrWorld(t *testing.T) *corrWorld {
	w := &corrWorld{world: newWorld(t)}
	id := domaintest.ID
	w.d, w.prio, w.res, w.l1, w.l2, w.l3 = id(), id(), id(), id(), id(), id()
	w.s1, w.s2, w.s3, w.s4 = id(), id(), id(), id()
	w.cpd, w.k1, w.k2, w.review, w.finding, w.action = id(), id(), id(), id(), id(), id()
	w.rating, w.cm1, w.cm2, w.tl, w.i1, w.i2 = id(), id(), id(), id(), id(), id()
	w.dir.AddSchool(w.d)
	w.auditor, w.notAuditor = id(), id()
	w.dir.AddAuditor(w.auditor)
	pid := w.pid
	w.Given(p.PartnershipStream(pid),
		p.SchoolJoinedPartnership{PartnershipID: pid, SchoolID: w.d, JoinedOn: day(2025, 7, 1)},
		p.SchoolLeftPartnership{PartnershipID: pid, SchoolID: w.d, LeftOn: day(2025, 8, 15)},
		p.PartnershipLeadAppointed{PartnershipID: pid, LeadID: w.a1, LeadSchoolID: w.a},
		p.PriorityAgreed{PartnershipID: pid, PriorityID: w.prio, Title: "Reading", AcademicYear: y},
		p.AuditorAppointed{PartnershipID: pid, AuditorID: w.auditor, AppointedOn: day(2025, 9, 1)},
		p.AuditorAppointmentEnded{PartnershipID: pid, AuditorID: w.auditor, EndedOn: day(2025, 9, 1)},
		p.ContributionRecognised{PartnershipID: pid, RecognitionID: id(), RecipientKind: p.RecipientSchool, RecipientID: w.a, SchoolID: w.a, Citation: "Hosted us all.", RecognisedOn: day(2025, 9, 1)})
	w.Given(p.CostsStream(pid), p.TransactionCostRecorded{PartnershipID: pid, EntryID: id(), SchoolID: w.a, Category: p.CostMeetings, On: day(2025, 9, 1), AcademicYear: y, Hours: 2, Note: "Meeting"})
	keys := func(loan, borrower uuid.UUID) p.LoanKeys {
		return p.LoanKeys{PartnershipID: pid, ResourceID: w.res, LoanID: loan, OwnerSchoolID: w.a, BorrowerSchoolID: borrower}
	}
	w.Given(p.ResourceStream(w.res),
		p.ResourceRegistered{PartnershipID: pid, ResourceID: w.res, OwnerSchoolID: w.a, Kind: p.Minibus, Name: "Minibus", Capacity: 17},
		p.ResourceOffered{PartnershipID: pid, ResourceID: w.res, OwnerSchoolID: w.a},
		p.LoanRequested{LoanKeys: keys(w.l1, w.b), Start: at(2025, 10, 1, 9), End: at(2025, 10, 1, 17), Purpose: "Trip"},
		p.LoanApproved{LoanKeys: keys(w.l1, w.b), Start: at(2025, 10, 1, 9), End: at(2025, 10, 1, 17)},
		p.LoanCollected{LoanKeys: keys(w.l1, w.b), CollectedAt: at(2025, 10, 1, 9)},
		p.LoanReturned{LoanKeys: keys(w.l1, w.b), ReturnedAt: at(2025, 10, 1, 16), Condition: p.ConditionGood},
		p.LoanRequested{LoanKeys: keys(w.l2, w.c), Start: at(2025, 10, 2, 9), End: at(2025, 10, 2, 17), Purpose: "Trip"},
		p.LoanDeclined{LoanKeys: keys(w.l2, w.c)},
		p.LoanRequested{LoanKeys: keys(w.l3, w.b), Start: at(2025, 10, 3, 9), End: at(2025, 10, 3, 17), Purpose: "Trip"},
		p.LoanCancelled{LoanKeys: keys(w.l3, w.b), CancelledBySchoolID: w.b, WasStatus: p.LoanRequestedStatus},
		p.ResourceOfferWithdrawn{PartnershipID: pid, ResourceID: w.res, OwnerSchoolID: w.a})
	sk := func(s, to uuid.UUID) p.SecondmentKeys {
		return p.SecondmentKeys{PartnershipID: pid, SecondmentID: s, TeacherID: w.a2, LendingSchoolID: w.a, ReceivingSchoolID: to}
	}
	w.Given(p.SecondmentsStream(w.a2),
		p.SecondmentAgreed{SecondmentKeys: sk(w.s1, w.b), Subject: "Physics", Start: day(2025, 10, 1), End: day(2026, 1, 1), Fraction: 0.5, AcademicYear: y},
		p.SecondmentAgreed{SecondmentKeys: sk(w.s2, w.c), Subject: "Physics", Start: day(2025, 11, 1), End: day(2026, 2, 1), Fraction: 0.5, AcademicYear: y},
		p.SecondmentAgreed{SecondmentKeys: sk(w.s3, w.b), Subject: "Physics", Start: day(2026, 3, 1), End: day(2026, 4, 1), Fraction: 0.4, AcademicYear: y},
		p.SecondmentEndedEarly{SecondmentKeys: sk(w.s3, w.b), EndOn: day(2026, 3, 15), PlannedEnd: day(2026, 4, 1)},
		p.SecondmentAgreed{SecondmentKeys: sk(w.s4, w.c), Subject: "Physics", Start: day(2026, 5, 1), End: day(2026, 6, 1), Fraction: 0.2, AcademicYear: y},
		p.SecondmentCancelled{SecondmentKeys: sk(w.s4, w.c)})
	w.Given(p.CPDStream(w.cpd),
		p.CPDEventOrganised{PartnershipID: pid, CPDID: w.cpd, OrganiserSchoolID: w.b, Kind: p.TeachMeet, Title: "TeachMeet", StartsAt: at(2025, 10, 10, 9), EndsAt: at(2025, 10, 10, 17), AcademicYear: y, Places: 10},
		p.CPDPlacesBooked{PartnershipID: pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k1, SchoolID: w.a, Places: 4},
		p.CPDPlacesBooked{PartnershipID: pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k2, SchoolID: w.c, Places: 3},
		p.CPDBookingCancelled{PartnershipID: pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k2, SchoolID: w.c, Places: 3})
	w.Given(p.ProgressStream(pid, w.a), p.ProgressRated{PartnershipID: pid, SchoolID: w.a, RatingID: w.rating, Area: "Maths", Cohort: "Year 7", AcademicYear: y, Term: p.Autumn1, Rating: p.Red, Evidence: "Mocks", RatedOn: day(2025, 9, 1)})
	w.Given(p.CommitmentStream(w.cm1),
		p.CommitmentMade{PartnershipID: pid, CommitmentID: w.cm1, PriorityID: w.prio, AcademicYear: y, PartyKind: p.PartySchool, PartyID: w.a, SchoolID: w.a, OwnerID: w.a1, DueOn: day(2026, 3, 1), SuccessMeasure: "All read"},
		p.CommitmentProgressUpdated{PartnershipID: pid, CommitmentID: w.cm1, SchoolID: w.a, Note: "Half way", UpdatedOn: day(2025, 9, 1)},
		p.CommitmentAchieved{PartnershipID: pid, CommitmentID: w.cm1, SchoolID: w.a, Evidence: "Scores", ClosedOn: day(2025, 9, 1)})
	w.Given(p.CommitmentStream(w.cm2),
		p.CommitmentMade{PartnershipID: pid, CommitmentID: w.cm2, PriorityID: w.prio, AcademicYear: y, PartyKind: p.PartySchool, PartyID: w.b, SchoolID: w.b, OwnerID: w.b1, DueOn: day(2026, 3, 1), SuccessMeasure: "All write"},
		p.CommitmentMissed{PartnershipID: pid, CommitmentID: w.cm2, SchoolID: w.b, Evidence: "Staff left", ClosedOn: day(2025, 9, 1)})
	w.Given(p.TimelineStream(w.tl),
		p.TimelineCreated{PartnershipID: pid, TimelineID: w.tl, AcademicYear: y, Title: "Programme"},
		p.TimelineItemScheduled{PartnershipID: pid, TimelineID: w.tl, ItemID: w.i1, Kind: p.ItemVisit, Title: "Visit", On: day(2025, 10, 1)},
		p.TimelineItemRescheduled{PartnershipID: pid, TimelineID: w.tl, ItemID: w.i1, From: day(2025, 10, 1), On: day(2025, 10, 8)},
		p.TimelineItemScheduled{PartnershipID: pid, TimelineID: w.tl, ItemID: w.i2, Kind: p.ItemReport, Title: "Report", On: day(2025, 12, 1)},
		p.TimelineItemDone{PartnershipID: pid, TimelineID: w.tl, ItemID: w.i2, DoneOn: day(2025, 12, 2)})
	// After the CPD event and the review visit.
	w.Clock.Set(at(2025, 11, 20, 12))
	w.Given(p.CPDStream(w.cpd), p.CPDAttendanceRecorded{PartnershipID: pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k1, SchoolID: w.a, Places: 4, Attended: 3})
	w.Given(p.ReviewStream(w.review),
		p.PeerReviewScheduled{PartnershipID: pid, ReviewID: w.review, ReviewedSchoolID: w.c, ReviewerIDs: []uuid.UUID{w.b1}, ReviewerSchoolIDs: []uuid.UUID{w.b}, FocusAreas: []string{"Reading"}, On: day(2025, 11, 5), AcademicYear: y},
		p.ReviewFindingRecorded{PartnershipID: pid, ReviewID: w.review, ReviewedSchoolID: w.c, FindingID: w.finding, ReviewerID: w.b1, Area: "Reading", Rating: p.Red, Finding: "Weak"},
		p.PeerReviewCompleted{PartnershipID: pid, ReviewID: w.review, ReviewedSchoolID: w.c, Summary: "Work on reading", CompletedOn: day(2025, 11, 6)},
		p.FollowUpActionAgreed{PartnershipID: pid, ReviewID: w.review, ReviewedSchoolID: w.c, ActionID: w.action, FindingID: w.finding, Action: "Phonics", OwnerID: w.c1, DueOn: day(2025, 12, 1)},
		p.FollowUpActionCompleted{PartnershipID: pid, ReviewID: w.review, ReviewedSchoolID: w.c, ActionID: w.action, Note: "Done", CompletedOn: day(2025, 11, 20)})
	return w
}

func (w *corrWorld) last(stream, typ string) uuid.UUID {
	w.t.Helper()
	var id uuid.UUID
	for _, m := range w.Messages() {
		if m.Stream == stream && m.Type == typ {
			id = m.ID
		}
	}
	if id == uuid.Nil {
		w.t.Fatalf("no %s in %s", typ, stream)
	}
	return id
}

// Every kind of partnership event: a correction that keeps the rules is
// accepted, one that breaks a rule (its own, or one a later event of the
// record must keep) is refused naming it.
func TestCorrectionsKeepPartnershipRules(t *testing.T) {
	type tc struct {
		name        string
		stream      func(*corrWorld) string
		typ         string
		replacement func(*corrWorld) domain.Event // nil result: a retraction
		rule        error                         // nil: accepted
	}
	part := func(w *corrWorld) string { return p.PartnershipStream(w.pid) }
	res := func(w *corrWorld) string { return p.ResourceStream(w.res) }
	sec := func(w *corrWorld) string { return p.SecondmentsStream(w.a2) }
	cpd := func(w *corrWorld) string { return p.CPDStream(w.cpd) }
	rev := func(w *corrWorld) string { return p.ReviewStream(w.review) }
	cm1 := func(w *corrWorld) string { return p.CommitmentStream(w.cm1) }
	tl := func(w *corrWorld) string { return p.TimelineStream(w.tl) }
	retract := func(*corrWorld) domain.Event { return nil }
	keys := func(w *corrWorld, loan, borrower uuid.UUID) p.LoanKeys {
		return p.LoanKeys{PartnershipID: w.pid, ResourceID: w.res, LoanID: loan, OwnerSchoolID: w.a, BorrowerSchoolID: borrower}
	}
	sk := func(w *corrWorld, s, to uuid.UUID) p.SecondmentKeys {
		return p.SecondmentKeys{PartnershipID: w.pid, SecondmentID: s, TeacherID: w.a2, LendingSchoolID: w.a, ReceivingSchoolID: to}
	}
	cpdKeys := func(w *corrWorld) p.CPDEventOrganised {
		return p.CPDEventOrganised{PartnershipID: w.pid, CPDID: w.cpd, OrganiserSchoolID: w.b, Kind: p.TeachMeet, Title: "TeachMeet", StartsAt: at(2025, 10, 10, 9), EndsAt: at(2025, 10, 10, 17), AcademicYear: y, Places: 10}
	}
	cases := []tc{
		{"partnership renamed", part, "PartnershipFormed", func(w *corrWorld) domain.Event {
			return p.PartnershipFormed{PartnershipID: w.pid, Name: "Valleys Partnership", Kind: p.KindCluster, FormedOn: day(2025, 7, 1)}
		}, nil},
		{"partnership of no known kind", part, "PartnershipFormed", func(w *corrWorld) domain.Event {
			return p.PartnershipFormed{PartnershipID: w.pid, Name: "Valleys", Kind: "league", FormedOn: day(2025, 7, 1)}
		}, domain.ErrInvalidValue},
		{"school joined a day later", part, "SchoolJoinedPartnership", func(w *corrWorld) domain.Event {
			return p.SchoolJoinedPartnership{PartnershipID: w.pid, SchoolID: w.d, JoinedOn: day(2025, 7, 2)}
		}, nil},
		{"school joined before the partnership was formed", part, "SchoolJoinedPartnership", func(w *corrWorld) domain.Event {
			return p.SchoolJoinedPartnership{PartnershipID: w.pid, SchoolID: w.d, JoinedOn: day(2025, 6, 1)}
		}, domain.ErrInvalidValue},
		{"school left later", part, "SchoolLeftPartnership", func(w *corrWorld) domain.Event {
			return p.SchoolLeftPartnership{PartnershipID: w.pid, SchoolID: w.d, LeftOn: day(2025, 8, 20)}
		}, nil},
		{"school left before it joined", part, "SchoolLeftPartnership", func(w *corrWorld) domain.Event {
			return p.SchoolLeftPartnership{PartnershipID: w.pid, SchoolID: w.d, LeftOn: day(2025, 6, 20)}
		}, domain.ErrInvalidValue},
		{"another lead", part, "PartnershipLeadAppointed", func(w *corrWorld) domain.Event {
			return p.PartnershipLeadAppointed{PartnershipID: w.pid, LeadID: w.b1, LeadSchoolID: w.b}
		}, nil},
		{"no lead", part, "PartnershipLeadAppointed", func(w *corrWorld) domain.Event {
			return p.PartnershipLeadAppointed{PartnershipID: w.pid}
		}, domain.ErrRequired},
		{"auditor appointed a day earlier", part, "AuditorAppointed", func(w *corrWorld) domain.Event {
			return p.AuditorAppointed{PartnershipID: w.pid, AuditorID: w.auditor, AppointedOn: day(2025, 8, 31)}
		}, nil},
		{"someone not an auditor appointed", part, "AuditorAppointed", func(w *corrWorld) domain.Event {
			return p.AuditorAppointed{PartnershipID: w.pid, AuditorID: w.notAuditor, AppointedOn: day(2025, 9, 1)}
		}, p.ErrNotAnAuditor},
		{"appointment ended a day later", part, "AuditorAppointmentEnded", func(w *corrWorld) domain.Event {
			return p.AuditorAppointmentEnded{PartnershipID: w.pid, AuditorID: w.auditor, EndedOn: day(2025, 9, 2)}
		}, nil},
		{"appointment ended of someone never appointed", part, "AuditorAppointmentEnded", func(w *corrWorld) domain.Event {
			return p.AuditorAppointmentEnded{PartnershipID: w.pid, AuditorID: w.notAuditor, EndedOn: day(2025, 9, 1)}
		}, domain.ErrNotFound},
		{"priority retitled", part, "PriorityAgreed", func(w *corrWorld) domain.Event {
			return p.PriorityAgreed{PartnershipID: w.pid, PriorityID: w.prio, Title: "Reading for pleasure", AcademicYear: y}
		}, nil},
		{"priority of no year", part, "PriorityAgreed", func(w *corrWorld) domain.Event {
			return p.PriorityAgreed{PartnershipID: w.pid, PriorityID: w.prio, Title: "Reading", AcademicYear: "2025"}
		}, domain.ErrInvalidValue},
		{"recognition reworded", part, "ContributionRecognised", func(w *corrWorld) domain.Event {
			r := w.partnership().Recognitions[0]
			r.Citation = "Hosted every TeachMeet."
			return r
		}, nil},
		{"recognition of a school never a member", part, "ContributionRecognised", func(w *corrWorld) domain.Event {
			r := w.partnership().Recognitions[0]
			r.RecipientID, r.SchoolID = w.outsider, w.outsider
			return r
		}, p.ErrNotPartnershipMember},
		{"cost of three hours", func(w *corrWorld) string { return p.CostsStream(w.pid) }, "TransactionCostRecorded", func(w *corrWorld) domain.Event {
			return p.TransactionCostRecorded{PartnershipID: w.pid, EntryID: w.costEntry(), SchoolID: w.a, Category: p.CostMeetings, On: day(2025, 9, 1), AcademicYear: y, Hours: 3, Note: "Meeting"}
		}, nil},
		{"cost in a year it is not in", func(w *corrWorld) string { return p.CostsStream(w.pid) }, "TransactionCostRecorded", func(w *corrWorld) domain.Event {
			return p.TransactionCostRecorded{PartnershipID: w.pid, EntryID: w.costEntry(), SchoolID: w.a, Category: p.CostMeetings, On: day(2025, 9, 1), AcademicYear: "2024-25", Hours: 3, Note: "Meeting"}
		}, p.ErrOutsideYear},
		{"cost of a school not a member that day", func(w *corrWorld) string { return p.CostsStream(w.pid) }, "TransactionCostRecorded", func(w *corrWorld) domain.Event {
			return p.TransactionCostRecorded{PartnershipID: w.pid, EntryID: w.costEntry(), SchoolID: w.d, Category: p.CostMeetings, On: day(2025, 9, 1), AcademicYear: y, Hours: 3, Note: "Meeting"}
		}, p.ErrNotPartnershipMember},
		{"resource renamed", res, "ResourceRegistered", func(w *corrWorld) domain.Event {
			return p.ResourceRegistered{PartnershipID: w.pid, ResourceID: w.res, OwnerSchoolID: w.a, Kind: p.Minibus, Name: "Minibus 2", Capacity: 17}
		}, nil},
		{"resource of no known kind", res, "ResourceRegistered", func(w *corrWorld) domain.Event {
			return p.ResourceRegistered{PartnershipID: w.pid, ResourceID: w.res, OwnerSchoolID: w.a, Kind: "tractor", Name: "Tractor"}
		}, domain.ErrInvalidValue},
		{"offer retracted under the loans requested", res, "ResourceOffered", retract, p.ErrResourceNotOffered},
		{"withdrawal of another resource", res, "ResourceOfferWithdrawn", func(w *corrWorld) domain.Event {
			return p.ResourceOfferWithdrawn{PartnershipID: w.pid, ResourceID: domaintest.ID(), OwnerSchoolID: w.a}
		}, domain.ErrCorrectionTarget},
		{"request for another purpose", res, "LoanRequested", func(w *corrWorld) domain.Event {
			return p.LoanRequested{LoanKeys: keys(w, w.l3, w.b), Start: at(2025, 10, 3, 9), End: at(2025, 10, 3, 17), Purpose: "Sports fixture"}
		}, nil},
		{"request overlapping an approved loan", res, "LoanRequested", func(w *corrWorld) domain.Event {
			return p.LoanRequested{LoanKeys: keys(w, w.l3, w.b), Start: at(2025, 10, 1, 12), End: at(2025, 10, 1, 18), Purpose: "Trip"}
		}, p.ErrLoanOverlaps},
		{"approval retracted under the collection", res, "LoanApproved", retract, p.ErrLoanNotApproved},
		{"approval of a shorter window", res, "LoanApproved", func(w *corrWorld) domain.Event {
			return p.LoanApproved{LoanKeys: keys(w, w.l1, w.b), Start: at(2025, 10, 1, 9), End: at(2025, 10, 1, 16)}
		}, nil},
		{"decline of a loan already approved", res, "LoanDeclined", func(w *corrWorld) domain.Event {
			return p.LoanDeclined{LoanKeys: keys(w, w.l1, w.b)}
		}, p.ErrLoanState},
		{"cancellation by the owner", res, "LoanCancelled", func(w *corrWorld) domain.Event {
			return p.LoanCancelled{LoanKeys: keys(w, w.l3, w.b), CancelledBySchoolID: w.a, WasStatus: p.LoanRequestedStatus}
		}, nil},
		{"cancellation by a third school", res, "LoanCancelled", func(w *corrWorld) domain.Event {
			return p.LoanCancelled{LoanKeys: keys(w, w.l3, w.b), CancelledBySchoolID: w.c, WasStatus: p.LoanRequestedStatus}
		}, p.ErrNotLoanParty},
		{"collected later", res, "LoanCollected", func(w *corrWorld) domain.Event {
			return p.LoanCollected{LoanKeys: keys(w, w.l1, w.b), CollectedAt: at(2025, 10, 1, 10)}
		}, nil},
		{"collection retracted under the return", res, "LoanCollected", retract, p.ErrLoanState},
		{"returned fair", res, "LoanReturned", func(w *corrWorld) domain.Event {
			return p.LoanReturned{LoanKeys: keys(w, w.l1, w.b), ReturnedAt: at(2025, 10, 1, 16), Condition: p.ConditionFair}
		}, nil},
		{"returned damaged without a note", res, "LoanReturned", func(w *corrWorld) domain.Event {
			return p.LoanReturned{LoanKeys: keys(w, w.l1, w.b), ReturnedAt: at(2025, 10, 1, 16), Condition: p.ConditionDamaged}
		}, p.ErrDamageNoteRequired},
		{"returned late but not marked so", res, "LoanReturned", func(w *corrWorld) domain.Event {
			return p.LoanReturned{LoanKeys: keys(w, w.l1, w.b), ReturnedAt: at(2025, 10, 2, 9), Condition: p.ConditionGood}
		}, domain.ErrInvalidValue},
		{"secondment in another subject", sec, "SecondmentAgreed", func(w *corrWorld) domain.Event {
			return p.SecondmentAgreed{SecondmentKeys: sk(w, w.s4, w.c), Subject: "Chemistry", Start: day(2026, 5, 1), End: day(2026, 6, 1), Fraction: 0.2, AcademicYear: y}
		}, nil},
		{"secondment moved to when the teacher is seconded full time", sec, "SecondmentAgreed", func(w *corrWorld) domain.Event {
			return p.SecondmentAgreed{SecondmentKeys: sk(w, w.s4, w.c), Subject: "Physics", Start: day(2025, 11, 1), End: day(2025, 12, 1), Fraction: 0.2, AcademicYear: y}
		}, p.ErrSecondmentOverCommitted},
		{"secondment ended a few days later", sec, "SecondmentEndedEarly", func(w *corrWorld) domain.Event {
			return p.SecondmentEndedEarly{SecondmentKeys: sk(w, w.s3, w.b), EndOn: day(2026, 3, 20), PlannedEnd: day(2026, 4, 1)}
		}, nil},
		{"secondment ended early after its end", sec, "SecondmentEndedEarly", func(w *corrWorld) domain.Event {
			return p.SecondmentEndedEarly{SecondmentKeys: sk(w, w.s3, w.b), EndOn: day(2026, 4, 20), PlannedEnd: day(2026, 4, 1)}
		}, domain.ErrInvalidValue},
		{"cancellation of a secondment already ended", sec, "SecondmentCancelled", func(w *corrWorld) domain.Event {
			return p.SecondmentCancelled{SecondmentKeys: sk(w, w.s3, w.b)}
		}, p.ErrSecondmentState},
		{"event retitled", cpd, "CPDEventOrganised", func(w *corrWorld) domain.Event {
			e := cpdKeys(w)
			e.Title = "Retrieval practice TeachMeet"
			return e
		}, nil},
		{"event with fewer places than booked", cpd, "CPDEventOrganised", func(w *corrWorld) domain.Event {
			e := cpdKeys(w)
			e.Places = 2
			return e
		}, p.ErrNoPlacesLeft},
		{"booking of five", cpd, "CPDPlacesBooked", func(w *corrWorld) domain.Event {
			return p.CPDPlacesBooked{PartnershipID: w.pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k2, SchoolID: w.c, Places: 5}
		}, nil},
		{"booking beyond the places", cpd, "CPDPlacesBooked", func(w *corrWorld) domain.Event {
			return p.CPDPlacesBooked{PartnershipID: w.pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k2, SchoolID: w.c, Places: 7}
		}, p.ErrNoPlacesLeft},
		{"cancellation of a booking never made", cpd, "CPDBookingCancelled", func(w *corrWorld) domain.Event {
			return p.CPDBookingCancelled{PartnershipID: w.pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: domaintest.ID(), SchoolID: w.c, Places: 3}
		}, domain.ErrNotFound},
		{"attendance of four", cpd, "CPDAttendanceRecorded", func(w *corrWorld) domain.Event {
			return p.CPDAttendanceRecorded{PartnershipID: w.pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k1, SchoolID: w.a, Places: 4, Attended: 4}
		}, nil},
		{"attendance beyond the places booked", cpd, "CPDAttendanceRecorded", func(w *corrWorld) domain.Event {
			return p.CPDAttendanceRecorded{PartnershipID: w.pid, CPDID: w.cpd, OrganiserSchoolID: w.b, BookingID: w.k1, SchoolID: w.a, Places: 4, Attended: 7}
		}, domain.ErrInvalidValue},
		{"review of another focus", rev, "PeerReviewScheduled", func(w *corrWorld) domain.Event {
			return p.PeerReviewScheduled{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, ReviewerIDs: []uuid.UUID{w.b1}, ReviewerSchoolIDs: []uuid.UUID{w.b}, FocusAreas: []string{"Writing"}, On: day(2025, 11, 5), AcademicYear: y}
		}, nil},
		{"review by the school reviewed", rev, "PeerReviewScheduled", func(w *corrWorld) domain.Event {
			return p.PeerReviewScheduled{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, ReviewerIDs: []uuid.UUID{w.c1}, ReviewerSchoolIDs: []uuid.UUID{w.c}, FocusAreas: []string{"Reading"}, On: day(2025, 11, 5), AcademicYear: y}
		}, p.ErrReviewerFromReviewedSchool},
		{"finding amber", rev, "ReviewFindingRecorded", func(w *corrWorld) domain.Event {
			return p.ReviewFindingRecorded{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, FindingID: w.finding, ReviewerID: w.b1, Area: "Reading", Rating: p.Amber, Finding: "Improving"}
		}, nil},
		{"finding by someone not a reviewer", rev, "ReviewFindingRecorded", func(w *corrWorld) domain.Event {
			return p.ReviewFindingRecorded{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, FindingID: w.finding, ReviewerID: w.a1, Area: "Reading", Rating: p.Red, Finding: "Weak"}
		}, p.ErrNotReviewer},
		{"review summary", rev, "PeerReviewCompleted", func(w *corrWorld) domain.Event {
			return p.PeerReviewCompleted{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, Summary: "Reading first", CompletedOn: day(2025, 11, 6)}
		}, nil},
		{"review completed before its visit", rev, "PeerReviewCompleted", func(w *corrWorld) domain.Event {
			return p.PeerReviewCompleted{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, Summary: "Reading first", CompletedOn: day(2025, 11, 1)}
		}, domain.ErrInvalidValue},
		{"action reworded", rev, "FollowUpActionAgreed", func(w *corrWorld) domain.Event {
			return p.FollowUpActionAgreed{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, ActionID: w.action, FindingID: w.finding, Action: "Phonics for Year 7", OwnerID: w.c1, DueOn: day(2025, 12, 1)}
		}, nil},
		{"action answering no finding of the review", rev, "FollowUpActionAgreed", func(w *corrWorld) domain.Event {
			return p.FollowUpActionAgreed{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, ActionID: w.action, FindingID: domaintest.ID(), Action: "Phonics", OwnerID: w.c1, DueOn: day(2025, 12, 1)}
		}, domain.ErrNotFound},
		{"action done a day later", rev, "FollowUpActionCompleted", func(w *corrWorld) domain.Event {
			return p.FollowUpActionCompleted{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, ActionID: w.action, Note: "Done", CompletedOn: day(2025, 11, 21)}
		}, nil},
		{"action done late not marked late", rev, "FollowUpActionCompleted", func(w *corrWorld) domain.Event {
			return p.FollowUpActionCompleted{PartnershipID: w.pid, ReviewID: w.review, ReviewedSchoolID: w.c, ActionID: w.action, Note: "Done", CompletedOn: day(2025, 12, 5)}
		}, domain.ErrInvalidValue},
		{"rating amber", func(w *corrWorld) string { return p.ProgressStream(w.pid, w.a) }, "ProgressRated", func(w *corrWorld) domain.Event {
			return p.ProgressRated{PartnershipID: w.pid, SchoolID: w.a, RatingID: w.rating, Area: "Maths", Cohort: "Year 7", AcademicYear: y, Term: p.Autumn1, Rating: p.Amber, Evidence: "Mocks", RatedOn: day(2025, 9, 1)}
		}, nil},
		{"rating of a half-term not started", func(w *corrWorld) string { return p.ProgressStream(w.pid, w.a) }, "ProgressRated", func(w *corrWorld) domain.Event {
			return p.ProgressRated{PartnershipID: w.pid, SchoolID: w.a, RatingID: w.rating, Area: "Maths", Cohort: "Year 7", AcademicYear: y, Term: p.Spring1, Rating: p.Red, Evidence: "Mocks", RatedOn: day(2025, 9, 1)}
		}, domain.ErrInvalidValue},
		{"commitment's measure", cm1, "CommitmentMade", func(w *corrWorld) domain.Event {
			return p.CommitmentMade{PartnershipID: w.pid, CommitmentID: w.cm1, PriorityID: w.prio, AcademicYear: y, PartyKind: p.PartySchool, PartyID: w.a, SchoolID: w.a, OwnerID: w.a1, DueOn: day(2026, 3, 1), SuccessMeasure: "All read daily"}
		}, nil},
		{"commitment to another partnership's priority", cm1, "CommitmentMade", func(w *corrWorld) domain.Event {
			return p.CommitmentMade{PartnershipID: w.pid, CommitmentID: w.cm1, PriorityID: domaintest.ID(), AcademicYear: y, PartyKind: p.PartySchool, PartyID: w.a, SchoolID: w.a, OwnerID: w.a1, DueOn: day(2026, 3, 1), SuccessMeasure: "All read"}
		}, domain.ErrNotFound},
		{"progress with a percentage", cm1, "CommitmentProgressUpdated", func(w *corrWorld) domain.Event {
			pct := 50
			return p.CommitmentProgressUpdated{PartnershipID: w.pid, CommitmentID: w.cm1, SchoolID: w.a, Note: "Half way", Percent: &pct, UpdatedOn: day(2025, 9, 1)}
		}, nil},
		{"progress beyond a hundred per cent", cm1, "CommitmentProgressUpdated", func(w *corrWorld) domain.Event {
			pct := 150
			return p.CommitmentProgressUpdated{PartnershipID: w.pid, CommitmentID: w.cm1, SchoolID: w.a, Note: "Half way", Percent: &pct, UpdatedOn: day(2025, 9, 1)}
		}, domain.ErrInvalidValue},
		{"achievement's evidence", cm1, "CommitmentAchieved", func(w *corrWorld) domain.Event {
			return p.CommitmentAchieved{PartnershipID: w.pid, CommitmentID: w.cm1, SchoolID: w.a, Evidence: "Reading scores up", ClosedOn: day(2025, 9, 1)}
		}, nil},
		{"achievement without evidence", cm1, "CommitmentAchieved", func(w *corrWorld) domain.Event {
			return p.CommitmentAchieved{PartnershipID: w.pid, CommitmentID: w.cm1, SchoolID: w.a, ClosedOn: day(2025, 9, 1)}
		}, domain.ErrRequired},
		{"miss's evidence", func(w *corrWorld) string { return p.CommitmentStream(w.cm2) }, "CommitmentMissed", func(w *corrWorld) domain.Event {
			return p.CommitmentMissed{PartnershipID: w.pid, CommitmentID: w.cm2, SchoolID: w.b, Evidence: "Two staff left", ClosedOn: day(2025, 9, 1)}
		}, nil},
		{"miss without evidence", func(w *corrWorld) string { return p.CommitmentStream(w.cm2) }, "CommitmentMissed", func(w *corrWorld) domain.Event {
			return p.CommitmentMissed{PartnershipID: w.pid, CommitmentID: w.cm2, SchoolID: w.b, ClosedOn: day(2025, 9, 1)}
		}, domain.ErrRequired},
		{"timeline retitled", tl, "TimelineCreated", func(w *corrWorld) domain.Event {
			return p.TimelineCreated{PartnershipID: w.pid, TimelineID: w.tl, AcademicYear: y, Title: "Improvement programme"}
		}, nil},
		{"timeline of no year", tl, "TimelineCreated", func(w *corrWorld) domain.Event {
			return p.TimelineCreated{PartnershipID: w.pid, TimelineID: w.tl, AcademicYear: "2025", Title: "Programme"}
		}, domain.ErrInvalidValue},
		{"item on another day", tl, "TimelineItemScheduled", func(w *corrWorld) domain.Event {
			return p.TimelineItemScheduled{PartnershipID: w.pid, TimelineID: w.tl, ItemID: w.i2, Kind: p.ItemReport, Title: "Report", On: day(2025, 12, 2)}
		}, nil},
		{"item in another year", tl, "TimelineItemScheduled", func(w *corrWorld) domain.Event {
			return p.TimelineItemScheduled{PartnershipID: w.pid, TimelineID: w.tl, ItemID: w.i2, Kind: p.ItemReport, Title: "Report", On: day(2026, 12, 1)}
		}, p.ErrOutsideYear},
		{"item moved to another day", tl, "TimelineItemRescheduled", func(w *corrWorld) domain.Event {
			return p.TimelineItemRescheduled{PartnershipID: w.pid, TimelineID: w.tl, ItemID: w.i1, From: day(2025, 10, 1), On: day(2025, 10, 9)}
		}, nil},
		{"item moved out of the year", tl, "TimelineItemRescheduled", func(w *corrWorld) domain.Event {
			return p.TimelineItemRescheduled{PartnershipID: w.pid, TimelineID: w.tl, ItemID: w.i1, From: day(2025, 10, 1), On: day(2026, 10, 9)}
		}, p.ErrOutsideYear},
		{"item done with a note", tl, "TimelineItemDone", func(w *corrWorld) domain.Event {
			return p.TimelineItemDone{PartnershipID: w.pid, TimelineID: w.tl, ItemID: w.i2, DoneOn: day(2025, 12, 2), Note: "Sent"}
		}, nil},
		{"item done on no day", tl, "TimelineItemDone", func(w *corrWorld) domain.Event {
			return p.TimelineItemDone{PartnershipID: w.pid, TimelineID: w.tl, ItemID: w.i2}
		}, domain.ErrRequired},
	}
	refused := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newCorrWorld(t)
			stream := c.stream(w)
			id := w.last(stream, c.typ)
			res, err := w.svc.CorrectEvent(w.Ctx, lead, stream, domain.Correction{EventID: id, Replacement: c.replacement(w), Reason: "corrected in a test"})
			if c.rule == nil {
				if err != nil {
					t.Fatalf("correction refused: %v", err)
				}
				if got := res.Events[0].Event.(domain.EventCorrected); got.Corrects != id {
					t.Fatalf("correction = %+v", got)
				}
				return
			}
			w.ThenError(err, c.rule)
		})
		if c.rule != nil {
			refused[c.typ] = true
		}
	}
	for _, s := range domain.Specs(p.Group) {
		if !s.Uncorrectable && !refused[s.Type] {
			t.Errorf("no test of a correction of %s that breaks a rule", s.Type)
		}
	}
}

func (w *corrWorld) first(stream, typ string) uuid.UUID {
	for _, m := range w.Messages() {
		if m.Stream == stream && m.Type == typ {
			return m.ID
		}
	}
	w.t.Fatalf("no %s in %s", typ, stream)
	return uuid.Nil
}

func (w *corrWorld) costEntry() uuid.UUID {
	for _, m := range w.Messages() {
		if e, ok := m.Event.(p.TransactionCostRecorded); ok {
			return e.EntryID
		}
	}
	return uuid.Nil
}

// A correction that keeps its own event within the rules is still refused
// when a later event of the record would break one: raising a secondment
// to 60% makes the next one, at 50%, take the teacher past full time.
func TestCorrectionBreakingALaterEvent(t *testing.T) {
	w := newCorrWorld(t)
	stream := p.SecondmentsStream(w.a2)
	_, err := w.svc.CorrectEvent(w.Ctx, lead, stream, domain.Correction{EventID: w.first(stream, "SecondmentAgreed"), Reason: "share mistyped",
		Replacement: p.SecondmentAgreed{SecondmentKeys: p.SecondmentKeys{PartnershipID: w.pid, SecondmentID: w.s1, TeacherID: w.a2, LendingSchoolID: w.a, ReceivingSchoolID: w.b},
			Subject: "Physics", Start: day(2025, 10, 1), End: day(2026, 1, 1), Fraction: 0.6, AcademicYear: y}})
	rej := w.ThenError(err, p.ErrSecondmentOverCommitted)
	detailHas(t, rej, "later SecondmentAgreed")
}

// BenchmarkCorrectLoan measures a correction checked against the rules,
// which folds the whole record with the corrected event in place and
// checks every later event, side by side with a command on the same
// record (a loan request, which folds it once).
func BenchmarkCorrectLoan(b *testing.B) {
	for _, n := range []int{100, 1000} {
		w := newWorld(b)
		rid := domaintest.ID()
		evs := []domain.Event{
			p.ResourceRegistered{PartnershipID: w.pid, ResourceID: rid, OwnerSchoolID: w.a, Kind: p.Minibus, Name: "Minibus"},
			p.ResourceOffered{PartnershipID: w.pid, ResourceID: rid, OwnerSchoolID: w.a},
		}
		var first p.LoanRequested
		for i := range n {
			k := p.LoanKeys{PartnershipID: w.pid, ResourceID: rid, LoanID: domaintest.ID(), OwnerSchoolID: w.a, BorrowerSchoolID: w.b}
			start := at(2025, 10, 1, 8).Add(time.Duration(i) * 24 * time.Hour)
			req := p.LoanRequested{LoanKeys: k, Start: start, End: start.Add(8 * time.Hour), Purpose: "Trip"}
			if i == 0 {
				first = req
			}
			evs = append(evs, req, p.LoanApproved{LoanKeys: k, Start: req.Start, End: req.End})
		}
		w.Given(p.ResourceStream(rid), evs...)
		var target uuid.UUID
		for _, m := range w.Messages() {
			if m.Type == "LoanRequested" && target == uuid.Nil {
				target = m.ID
			}
		}
		b.Run(fmt.Sprintf("correct/events=%d", len(evs)), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				fixed := first
				fixed.Purpose = fmt.Sprintf("Trip %d", i)
				if _, err := w.svc.CorrectEvent(w.Ctx, lead, p.ResourceStream(rid), domain.Correction{EventID: target, Replacement: fixed, Reason: "purpose"}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("request/events=%d", len(evs)), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				start := at(2030, 1, 1, 8).Add(time.Duration(i) * 24 * time.Hour)
				if _, err := w.svc.RequestLoan(w.Ctx, as(w.b1), p.RequestLoan{ResourceID: rid, LoanID: domaintest.ID(), BorrowerSchoolID: w.b,
					Start: start, End: start.Add(time.Hour), Purpose: "Trip"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
