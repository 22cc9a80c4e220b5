package partnership_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

func TestFormPartnership(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	res, err := w.svc.FormPartnership(w.Ctx, lead, partnership.FormPartnership{PartnershipID: id, Name: " Infinity Academies Trust ", Kind: partnership.KindTrust})
	w.ThenEvents(res, err, partnership.PartnershipFormed{PartnershipID: id, Name: "Infinity Academies Trust", Kind: partnership.KindTrust, FormedOn: day(2025, 9, 1)})

	for _, c := range []struct {
		name string
		cmd  partnership.FormPartnership
		rule error
	}{
		{"again", partnership.FormPartnership{PartnershipID: id, Name: "Again", Kind: partnership.KindTrust}, domain.ErrAlreadyExists},
		{"no id", partnership.FormPartnership{Name: "X", Kind: partnership.KindTrust}, domain.ErrRequired},
		{"no name", partnership.FormPartnership{PartnershipID: domaintest.ID(), Name: "  ", Kind: partnership.KindTrust}, domain.ErrRequired},
		{"bad kind", partnership.FormPartnership{PartnershipID: domaintest.ID(), Name: "X", Kind: "federation"}, domain.ErrInvalidValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.svc.FormPartnership(w.Ctx, lead, c.cmd)
			w.ThenError(err, c.rule)
		})
	}
}

func TestJoinAndLeaveKeepHistory(t *testing.T) {
	w := newWorld(t)
	d := domaintest.ID()
	w.dir.AddSchool(d)

	res, err := w.svc.JoinPartnership(w.Ctx, lead, partnership.JoinPartnership{PartnershipID: w.pid, SchoolID: d})
	w.ThenEvents(res, err, partnership.SchoolJoinedPartnership{PartnershipID: w.pid, SchoolID: d, JoinedOn: day(2025, 9, 1)})

	_, err = w.svc.JoinPartnership(w.Ctx, lead, partnership.JoinPartnership{PartnershipID: w.pid, SchoolID: d})
	detailHas(t, w.ThenError(err, partnership.ErrAlreadyPartnershipMember), "since 2025-09-01")
	_, err = w.svc.JoinPartnership(w.Ctx, lead, partnership.JoinPartnership{PartnershipID: w.pid, SchoolID: domaintest.ID()})
	w.ThenError(err, domain.ErrNotFound)
	_, err = w.svc.JoinPartnership(w.Ctx, lead, partnership.JoinPartnership{PartnershipID: domaintest.ID(), SchoolID: w.outsider})
	w.ThenError(err, domain.ErrNotFound)
	_, err = w.svc.JoinPartnership(w.Ctx, lead, partnership.JoinPartnership{PartnershipID: w.pid, SchoolID: w.outsider, JoinedOn: day(2025, 6, 30)})
	w.ThenError(err, domain.ErrInvalidValue)

	w.Clock.Set(day(2026, 1, 10))
	res, err = w.svc.LeavePartnership(w.Ctx, lead, partnership.LeavePartnership{PartnershipID: w.pid, SchoolID: d, LeftOn: day(2025, 12, 31)})
	w.ThenEvents(res, err, partnership.SchoolLeftPartnership{PartnershipID: w.pid, SchoolID: d, LeftOn: day(2025, 12, 31)})
	_, err = w.svc.LeavePartnership(w.Ctx, lead, partnership.LeavePartnership{PartnershipID: w.pid, SchoolID: d})
	detailHas(t, w.ThenError(err, partnership.ErrNotPartnershipMember), "has left")
	_, err = w.svc.LeavePartnership(w.Ctx, lead, partnership.LeavePartnership{PartnershipID: w.pid, SchoolID: w.outsider})
	detailHas(t, w.ThenError(err, partnership.ErrNotPartnershipMember), "not a member")
	_, err = w.svc.LeavePartnership(w.Ctx, lead, partnership.LeavePartnership{PartnershipID: w.pid, SchoolID: w.a, LeftOn: day(2025, 6, 1)})
	w.ThenError(err, domain.ErrInvalidValue)
	_, err = w.svc.JoinPartnership(w.Ctx, lead, partnership.JoinPartnership{PartnershipID: w.pid, SchoolID: d, JoinedOn: day(2025, 12, 31)})
	w.ThenError(err, domain.ErrInvalidValue)

	p := w.partnership()
	if p.IsMember(d) || !p.WasMember(d) || !p.MemberOn(d, day(2025, 10, 1)) || p.MemberOn(d, day(2026, 1, 1)) {
		t.Fatalf("after leaving: member=%v was=%v", p.IsMember(d), p.WasMember(d))
	}
	if got := p.MemberSchools(); len(got) != 3 {
		t.Fatalf("members=%v, want A, B, C", got)
	}

	// A school that left can join again; both periods stay on record.
	res, err = w.svc.JoinPartnership(w.Ctx, lead, partnership.JoinPartnership{PartnershipID: w.pid, SchoolID: d})
	w.ThenEvents(res, err, partnership.SchoolJoinedPartnership{PartnershipID: w.pid, SchoolID: d, JoinedOn: day(2026, 1, 10)})
	p = w.partnership()
	var periods int
	for _, m := range p.Memberships {
		if m.SchoolID == d {
			periods++
		}
	}
	if periods != 2 || !p.IsMember(d) || p.MemberOn(d, day(2026, 1, 5)) {
		t.Fatalf("periods=%d member=%v", periods, p.IsMember(d))
	}
}

func TestLeftSchoolTakesPartInNothingNew(t *testing.T) {
	w := newWorld(t)
	w.Given(partnership.PartnershipStream(w.pid), partnership.SchoolLeftPartnership{PartnershipID: w.pid, SchoolID: w.c, LeftOn: day(2025, 8, 31)})
	_, err := w.svc.RecordTransactionCost(w.Ctx, as(w.c1), partnership.RecordTransactionCost{PartnershipID: w.pid, EntryID: domaintest.ID(), SchoolID: w.c,
		Category: partnership.CostMeetings, Hours: 2, Note: "cluster meeting"})
	rej := w.ThenError(err, partnership.ErrNotPartnershipMember)
	detailHas(t, rej, "has left")
	if rej.Field != "school_id" {
		t.Fatalf("field=%q, want school_id", rej.Field)
	}
}

func TestAppointPartnershipLead(t *testing.T) {
	w := newWorld(t)
	res, err := w.svc.AppointPartnershipLead(w.Ctx, lead, partnership.AppointPartnershipLead{PartnershipID: w.pid, LeadID: w.a1})
	w.ThenEvents(res, err, partnership.PartnershipLeadAppointed{PartnershipID: w.pid, LeadID: w.a1, LeadSchoolID: w.a})
	w.none(w.svc.AppointPartnershipLead(w.Ctx, lead, partnership.AppointPartnershipLead{PartnershipID: w.pid, LeadID: w.a1}))

	trustLead := domaintest.ID() // employed by the trust, on no school's staff
	res, err = w.svc.AppointPartnershipLead(w.Ctx, lead, partnership.AppointPartnershipLead{PartnershipID: w.pid, LeadID: trustLead})
	w.ThenEvents(res, err, partnership.PartnershipLeadAppointed{PartnershipID: w.pid, LeadID: trustLead, PreviousLeadID: w.a1})
	if p := w.partnership(); p.LeadID != trustLead || p.LeadSchoolID != uuid.Nil {
		t.Fatalf("lead=%s school=%s", p.LeadID, p.LeadSchoolID)
	}
	_, err = w.svc.AppointPartnershipLead(w.Ctx, lead, partnership.AppointPartnershipLead{PartnershipID: domaintest.ID(), LeadID: w.a1})
	w.ThenError(err, domain.ErrNotFound)
}

func TestAgreePriority(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	cmd := partnership.AgreePriority{PartnershipID: w.pid, PriorityID: id, Title: "Academic transition KS2 to KS3", Description: "Secondary teachers teach in the primaries.", AcademicYear: "2025-26"}
	res, err := w.svc.AgreePriority(w.Ctx, lead, cmd)
	w.ThenEvents(res, err, partnership.PriorityAgreed{PartnershipID: w.pid, PriorityID: id, Title: cmd.Title, Description: cmd.Description, AcademicYear: "2025-26"})
	_, err = w.svc.AgreePriority(w.Ctx, lead, cmd)
	w.ThenError(err, domain.ErrAlreadyExists)
	for _, y := range []string{"2025", "2025-27", "25-26", ""} {
		c := cmd
		c.PriorityID, c.AcademicYear = domaintest.ID(), y
		_, err = w.svc.AgreePriority(w.Ctx, lead, c)
		if y == "" {
			w.ThenError(err, domain.ErrRequired)
		} else {
			w.ThenError(err, domain.ErrInvalidValue)
		}
	}
	if got := w.partnership().PrioritiesOf("2025-26"); len(got) != 1 || got[0].ID != id {
		t.Fatalf("priorities=%+v", got)
	}
}

func TestRecogniseContribution(t *testing.T) {
	w := newWorld(t)
	islc := domaintest.ID()
	w.dir.AddCommunity(islc, w.b)
	outsiderISLC := domaintest.ID()
	w.dir.AddCommunity(outsiderISLC, w.outsider)
	prio := domaintest.ID()
	w.Given(partnership.PartnershipStream(w.pid), partnership.PriorityAgreed{PartnershipID: w.pid, PriorityID: prio, Title: "Transition", AcademicYear: "2025-26"})

	rid := domaintest.ID()
	res, err := w.svc.RecogniseContribution(w.Ctx, lead, partnership.RecogniseContribution{PartnershipID: w.pid, RecognitionID: rid,
		RecipientKind: partnership.RecipientPerson, RecipientID: w.a1, ReferenceKind: partnership.RefPriority, ReferenceID: prio, Citation: "Taught Year 6 physics in two primaries all year."})
	w.ThenEvents(res, err, partnership.ContributionRecognised{PartnershipID: w.pid, RecognitionID: rid, RecipientKind: partnership.RecipientPerson, RecipientID: w.a1,
		SchoolID: w.a, ReferenceKind: partnership.RefPriority, ReferenceID: prio, Citation: "Taught Year 6 physics in two primaries all year.", RecognisedOn: day(2025, 9, 1)})

	rid2 := domaintest.ID()
	res, err = w.svc.RecogniseContribution(w.Ctx, lead, partnership.RecogniseContribution{PartnershipID: w.pid, RecognitionID: rid2,
		RecipientKind: partnership.RecipientCommunity, RecipientID: islc, Citation: "Ran the partnership's behaviour TeachMeets."})
	w.ThenEvents(res, err, partnership.ContributionRecognised{PartnershipID: w.pid, RecognitionID: rid2, RecipientKind: partnership.RecipientCommunity, RecipientID: islc,
		SchoolID: w.b, Citation: "Ran the partnership's behaviour TeachMeets.", RecognisedOn: day(2025, 9, 1)})

	base := partnership.RecogniseContribution{PartnershipID: w.pid, RecipientKind: partnership.RecipientSchool, RecipientID: w.c, Citation: "Lent its minibus every week."}
	for _, c := range []struct {
		name   string
		change func(*partnership.RecogniseContribution)
		rule   error
	}{
		{"same id", func(c *partnership.RecogniseContribution) { c.RecognitionID = rid }, domain.ErrAlreadyExists},
		{"never a member", func(c *partnership.RecogniseContribution) { c.RecipientID = w.outsider }, partnership.ErrNotPartnershipMember},
		{"ISLC of an outsider", func(c *partnership.RecogniseContribution) {
			c.RecipientKind, c.RecipientID = partnership.RecipientCommunity, outsiderISLC
		}, partnership.ErrNotPartnershipMember},
		{"unknown ISLC", func(c *partnership.RecogniseContribution) {
			c.RecipientKind, c.RecipientID = partnership.RecipientCommunity, domaintest.ID()
		}, domain.ErrNotFound},
		{"bad recipient kind", func(c *partnership.RecogniseContribution) { c.RecipientKind = "pupil" }, domain.ErrInvalidValue},
		{"no citation", func(c *partnership.RecogniseContribution) { c.Citation = "" }, domain.ErrRequired},
		{"unknown commitment", func(c *partnership.RecogniseContribution) {
			c.ReferenceKind, c.ReferenceID = partnership.RefCommitment, domaintest.ID()
		}, domain.ErrNotFound},
		{"unknown priority", func(c *partnership.RecogniseContribution) {
			c.ReferenceKind, c.ReferenceID = partnership.RefPriority, domaintest.ID()
		}, domain.ErrNotFound},
		{"reference without kind", func(c *partnership.RecogniseContribution) { c.ReferenceID = domaintest.ID() }, domain.ErrRequired},
		{"reference kind without id", func(c *partnership.RecogniseContribution) { c.ReferenceKind = partnership.RefLoan }, domain.ErrRequired},
		{"bad reference kind", func(c *partnership.RecogniseContribution) {
			c.ReferenceKind, c.ReferenceID = "award", domaintest.ID()
		}, domain.ErrInvalidValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := base
			cmd.RecognitionID = domaintest.ID()
			c.change(&cmd)
			_, err := w.svc.RecogniseContribution(w.Ctx, lead, cmd)
			w.ThenError(err, c.rule)
		})
	}
	// A loan is recorded as referenced (its record is keyed by resource).
	cmd := base
	cmd.RecognitionID, cmd.ReferenceKind, cmd.ReferenceID = domaintest.ID(), partnership.RefLoan, domaintest.ID()
	w.ok(w.svc.RecogniseContribution(w.Ctx, lead, cmd))
	if got := len(w.partnership().Recognitions); got != 3 {
		t.Fatalf("recognitions=%d, want 3", got)
	}
}

func TestServiceWithoutDirectory(t *testing.T) {
	f := domaintest.New(t)
	svc := partnership.NewService(f.Handler, nil)
	_, err := svc.JoinPartnership(f.Ctx, lead, partnership.JoinPartnership{PartnershipID: domaintest.ID(), SchoolID: domaintest.ID()})
	if err == nil || !errors.Is(err, partnership.ErrNoDirectory) {
		t.Fatalf("err=%v, want ErrNoDirectory", err)
	}
}

func TestRecognitionReferences(t *testing.T) {
	w := newWorld(t)
	tm := w.teachMeet()
	rv := w.scheduledReview()
	// A CPD event of another partnership cannot be referenced.
	other := domaintest.ID()
	w.Given(partnership.CPDStream(other), partnership.CPDEventOrganised{PartnershipID: domaintest.ID(), CPDID: other, OrganiserSchoolID: w.outsider,
		Kind: partnership.CPDSession, Title: "Elsewhere", StartsAt: at(2025, 10, 1, 9), EndsAt: at(2025, 10, 1, 12), Places: 5})
	for _, c := range []struct {
		kind partnership.ReferenceKind
		id   uuid.UUID
		rule error
	}{
		{partnership.RefCPDEvent, tm, nil},
		{partnership.RefReview, rv, nil},
		{partnership.RefSecondment, domaintest.ID(), nil},
		{partnership.RefCPDEvent, other, domain.ErrNotFound},
		{partnership.RefReview, domaintest.ID(), domain.ErrNotFound},
	} {
		cmd := partnership.RecogniseContribution{PartnershipID: w.pid, RecognitionID: domaintest.ID(), RecipientKind: partnership.RecipientSchool, RecipientID: w.b,
			ReferenceKind: c.kind, ReferenceID: c.id, Citation: "Thank you"}
		res, err := w.svc.RecogniseContribution(w.Ctx, lead, cmd)
		if c.rule == nil {
			w.ThenEvents(res, err, partnership.ContributionRecognised{PartnershipID: w.pid, RecognitionID: cmd.RecognitionID, RecipientKind: partnership.RecipientSchool,
				RecipientID: w.b, SchoolID: w.b, ReferenceKind: c.kind, ReferenceID: c.id, Citation: "Thank you", RecognisedOn: day(2025, 9, 1)})
			continue
		}
		w.ThenError(err, c.rule)
	}
}

// Corrections are accepted in every partnership stream; those of a decided
// record are marked changed after decision.
func TestCorrectEventInEachStream(t *testing.T) {
	w := newWorld(t)
	prio := w.priority()
	cid := domaintest.ID()
	w.ok(w.svc.MakeCommitment(w.Ctx, lead, partnership.MakeCommitment{CommitmentID: cid, PartnershipID: w.pid, PriorityID: prio, PartyKind: partnership.PartySchool,
		PartyID: w.a, OwnerID: w.a1, DueOn: day(2026, 3, 1), SuccessMeasure: "x"}))
	w.ok(w.svc.MarkCommitmentAchieved(w.Ctx, lead, partnership.CloseCommitment{CommitmentID: cid, Evidence: "done"}))
	w.ok(w.svc.RecordTransactionCost(w.Ctx, lead, partnership.RecordTransactionCost{PartnershipID: w.pid, EntryID: domaintest.ID(), SchoolID: w.a,
		Category: partnership.CostMeetings, Hours: 2, Note: "meeting"}))
	rid := w.minibus()
	loan := w.request(rid, w.b, at(2025, 10, 1, 9), at(2025, 10, 1, 10))

	first := map[string]domain.Message{}
	for _, m := range w.Messages() {
		if _, ok := first[m.Stream]; !ok {
			first[m.Stream] = m
		}
	}
	var requested domain.Message
	for _, m := range w.Messages() {
		if e, ok := m.Event.(partnership.LoanRequested); ok && e.LoanID == loan {
			requested = m
		}
	}
	for _, c := range []struct {
		stream  string
		event   domain.Message
		decided bool
	}{
		{partnership.CommitmentStream(cid), first[partnership.CommitmentStream(cid)], true},
		{partnership.CostsStream(w.pid), first[partnership.CostsStream(w.pid)], false},
		{partnership.PartnershipStream(w.pid), first[partnership.PartnershipStream(w.pid)], false},
		{partnership.ResourceStream(rid), requested, false}, // the loan is still awaiting a decision
	} {
		res, err := w.svc.CorrectEvent(w.Ctx, lead, c.stream, domain.Correction{EventID: c.event.ID, Replacement: c.event.Event, Reason: "checking"})
		w.ok(res, err)
		if got := res.Events[0].Event.(domain.EventCorrected).ChangedAfterDecision; got != c.decided {
			t.Errorf("%s: changed after decision=%v, want %v", c.stream, got, c.decided)
		}
	}
	_, err := w.svc.CorrectEvent(w.Ctx, lead, "nonsense", domain.Correction{EventID: domaintest.ID(), Reason: "x"})
	w.ThenError(err, domain.ErrCorrectionTarget)
}
