package governance

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// proposalWorld is a school with a Director, two ISLCs with chairs, and
// an advisory group on the first.
type proposalWorld struct {
	*env
	staff          []uuid.UUID
	c, other       uuid.UUID
	chair, chair2  uuid.UUID
	group, contact uuid.UUID
}

func newProposalWorld(t *testing.T) *proposalWorld {
	e := newEnv(t).givenSchool()
	w := &proposalWorld{env: e}
	e.givenDirector()
	w.staff = e.givenStaff(5)
	w.c, w.other = e.givenCommunity(0), e.givenCommunity(5)
	e.givenMembers(w.c, year, w.staff[:3]...)
	e.givenMembers(w.other, year, w.staff[3:]...)
	w.chair, w.chair2 = w.staff[0], w.staff[3]
	e.givenChair(w.c, year, w.chair)
	e.givenChair(w.other, year, w.chair2)
	w.group, w.contact = domaintest.ID(), domaintest.ID()
	e.Given(PersonStream(w.contact), AdvisoryContactRegistered{PersonID: w.contact, SchoolID: e.school, Personal: domain.PersonalData{Name: "P"}})
	e.Given(CommunityStream(w.c), AdvisoryGroupLinked{CommunityID: w.c, SchoolID: e.school, GroupID: w.group, Name: "Parent forum", Kind: AdvisoryParents, Contacts: []uuid.UUID{w.contact}})
	return w
}

var text1 = ProposalText{Title: "Reading buddies", Body: "Pair Year 7 and Year 10 readers weekly.", Costs: &Money{AmountMinor: 120000, Currency: "GBP"}, ExpectedImpact: "Reading ages up a year."}

func (w *proposalWorld) givenDraft() uuid.UUID {
	id := domaintest.ID()
	w.Given(ProposalStream(id), ProposalDrafted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, SegmentID: w.segs[0].ID, Year: year, Version: 1, ProposalText: text1, DraftedBy: w.staff[1]})
	return id
}

func (w *proposalWorld) givenSubmitted() uuid.UUID {
	id := w.givenDraft()
	w.Given(ProposalStream(id), ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, SubmittedBy: w.chair})
	return id
}

func TestDraftReviseSubmit(t *testing.T) {
	w := newProposalWorld(t)
	id := domaintest.ID()
	_, err := w.svc.DraftProposal(w.Ctx, as(w.staff[3], domain.RoleStaff), DraftProposal{ProposalID: id, CommunityID: w.c, Year: year, ProposalText: text1})
	w.ThenError(err, ErrNotAMember)
	_, err = w.svc.DraftProposal(w.Ctx, as(w.staff[1], domain.RoleStaff), DraftProposal{ProposalID: id, CommunityID: w.c, Year: year, ProposalText: ProposalText{Title: "T"}})
	w.ThenError(err, domain.ErrRequired)
	res, err := w.svc.DraftProposal(w.Ctx, as(w.staff[1], domain.RoleStaff), DraftProposal{ProposalID: id, CommunityID: w.c, Year: year, ProposalText: text1})
	w.ThenEvents(res, err, ProposalDrafted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, SegmentID: w.segs[0].ID, Year: year, Version: 1, ProposalText: text1, DraftedBy: w.staff[1]})
	_, err = w.svc.DraftProposal(w.Ctx, as(w.staff[1], domain.RoleStaff), DraftProposal{ProposalID: id, CommunityID: w.c, Year: year, ProposalText: text1})
	w.ThenError(err, domain.ErrAlreadyExists)

	text2 := text1
	text2.Costs = nil
	res, err = w.svc.ReviseProposal(w.Ctx, as(w.staff[2], domain.RoleStaff), ReviseProposal{ProposalID: id, ProposalText: text2})
	w.ThenEvents(res, err, ProposalRevised{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, ProposalText: text2, RevisedBy: w.staff[2]})
	_, err = w.svc.ReviseProposal(w.Ctx, as(w.staff[4], domain.RoleStaff), ReviseProposal{ProposalID: id, ProposalText: text2})
	w.ThenError(err, ErrNotAMember)

	_, err = w.svc.SubmitProposal(w.Ctx, as(w.staff[1], domain.RoleStaff), SubmitProposal{ProposalID: id})
	w.ThenError(err, ErrNotChair)
	_, err = w.svc.SubmitProposal(w.Ctx, as(w.chair2, domain.RoleStaff), SubmitProposal{ProposalID: id})
	w.ThenError(err, ErrNotChair) // a chair, but of another ISLC
	res, err = w.svc.SubmitProposal(w.Ctx, as(w.chair, domain.RoleChair), SubmitProposal{ProposalID: id})
	w.ThenEvents(res, err, ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, SubmittedBy: w.chair})
	_, err = w.svc.SubmitProposal(w.Ctx, as(w.chair, domain.RoleStaff), SubmitProposal{ProposalID: id})
	w.ThenError(err, ErrProposalLocked)
	_, err = w.svc.ReviseProposal(w.Ctx, as(w.staff[2], domain.RoleStaff), ReviseProposal{ProposalID: id, ProposalText: text1})
	w.ThenError(err, ErrProposalLocked)
	_, err = w.svc.SubmitProposal(w.Ctx, as(w.chair, domain.RoleStaff), SubmitProposal{ProposalID: domaintest.ID()})
	w.ThenError(err, domain.ErrNotFound)

	p := w.proposal(id)
	if p.Status != StatusSubmitted || len(p.Versions) != 2 || p.Versions[0].Costs == nil || p.Versions[1].Costs != nil || p.SubmittedVersion != 2 {
		t.Fatalf("proposal = %+v", p)
	}
}

func TestDecideProposal(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()
	draft := w.givenDraft()
	outsider := w.staff[1] // a member, not a chair

	refused := []struct {
		name string
		cmd  DecideProposal
		by   uuid.UUID
		rule error
	}{
		{"no reason", DecideProposal{ProposalID: id, Aligned: ptr(true), AlignmentNote: "n"}, w.director, domain.ErrRequired},
		{"no alignment", DecideProposal{ProposalID: id, Reason: "r", AlignmentNote: "n"}, w.director, domain.ErrRequired},
		{"no alignment note", DecideProposal{ProposalID: id, Reason: "r", Aligned: ptr(true)}, w.director, domain.ErrRequired},
		{"not on the Team", DecideProposal{ProposalID: id, Reason: "r", Aligned: ptr(true), AlignmentNote: "n"}, outsider, ErrNotLeadershipTeam},
		{"not submitted", DecideProposal{ProposalID: draft, Reason: "r", Aligned: ptr(true), AlignmentNote: "n"}, w.director, ErrNotSubmitted},
		{"approved though not aligned", DecideProposal{ProposalID: id, Reason: "r", Aligned: ptr(false), AlignmentNote: "n"}, w.director, ErrNotAligned},
	}
	for _, tc := range refused {
		_, err := w.svc.ApproveProposal(w.Ctx, actorMeta(w.meta, tc.by), tc.cmd)
		w.ThenError(err, tc.rule)
	}
	_, err := w.svc.ReturnProposal(w.Ctx, as(w.chair2, domain.RoleStaff), DecideProposal{ProposalID: draft, Reason: "r", Aligned: ptr(true), AlignmentNote: "n"})
	w.ThenError(err, ErrNotSubmitted)

	// Any Team member may record the decision: here another ISLC's chair
	// sends it back.
	align := Alignment{Aligned: false, Note: "Reads as a cost without a plan for the values of inclusion."}
	res, err := w.svc.ReturnProposal(w.Ctx, as(w.chair2, domain.RoleChair), DecideProposal{ProposalID: id, Reason: "Say how pupils with low reading ages are included.", Aligned: ptr(false), AlignmentNote: align.Note})
	w.ThenEvents(res, err, ProposalReturned{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, DecidedBy: w.chair2,
		Reason: "Say how pupils with low reading ages are included.", Alignment: align})
	if p := w.proposal(id); p.Status != StatusReturned || p.RevisedSinceReturn() {
		t.Fatalf("proposal = %+v", p)
	}
	_, err = w.svc.SubmitProposal(w.Ctx, as(w.chair, domain.RoleStaff), SubmitProposal{ProposalID: id})
	w.ThenError(err, ErrRevisionNeeded)

	text2 := text1
	text2.Body += " Pupils with low reading ages are paired first."
	res, err = w.svc.ReviseProposal(w.Ctx, as(w.staff[1], domain.RoleStaff), ReviseProposal{ProposalID: id, ProposalText: text2})
	w.ThenEvents(res, err, ProposalRevised{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, ProposalText: text2, RevisedBy: w.staff[1]})
	res, err = w.svc.SubmitProposal(w.Ctx, as(w.chair, domain.RoleStaff), SubmitProposal{ProposalID: id})
	w.ThenEvents(res, err, ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, SubmittedBy: w.chair})
	res, err = w.svc.ApproveProposal(w.Ctx, as(w.director, domain.RoleDirector), DecideProposal{ProposalID: id, Reason: "Inclusive and affordable.", Aligned: ptr(true), AlignmentNote: "Fits the mission."})
	w.ThenEvents(res, err, ProposalApproved{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, DecidedBy: w.director,
		Reason: "Inclusive and affordable.", Alignment: Alignment{Aligned: true, Note: "Fits the mission."}})
	_, err = w.svc.ApproveProposal(w.Ctx, as(w.director, domain.RoleStaff), DecideProposal{ProposalID: id, Reason: "r", Aligned: ptr(true), AlignmentNote: "n"})
	w.ThenError(err, ErrNotSubmitted)

	p := w.proposal(id)
	if p.Status != StatusApproved || len(p.Versions) != 2 || p.Versions[0].Body != text1.Body || len(p.Decisions) != 2 || !p.Decided() {
		t.Fatalf("proposal = %+v", p)
	}
	// The whole proposal is one decision: one correlation id.
	var corr uuid.UUID
	for _, m := range w.Messages() {
		if m.Stream != ProposalStream(id) {
			continue
		}
		if corr == uuid.Nil {
			corr = m.ID
			continue
		}
		if m.Meta.ActorID != "system" && m.Meta.CorrelationID != corr { // given history carries none
			t.Fatalf("%s correlation %s, want %s", m.Type, m.Meta.CorrelationID, corr)
		}
	}
}

// A chair removed from office is no longer on the Team.
func TestFormerChairCannotDecide(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()
	w.Given(CommunityStream(w.other), ChairRemoved{CommunityID: w.other, SchoolID: w.school, Year: year, ChairID: w.chair2, VoteID: domaintest.ID()})
	_, err := w.svc.ApproveProposal(w.Ctx, as(w.chair2, domain.RoleStaff), DecideProposal{ProposalID: id, Reason: "r", Aligned: ptr(true), AlignmentNote: "n"})
	w.ThenError(err, ErrNotLeadershipTeam)
}

func TestGiveAdvice(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()
	res, err := w.svc.GiveAdvice(w.Ctx, as(w.contact, domain.RoleStaff), GiveAdvice{ProposalID: id, GroupID: w.group, Stance: StanceConcerns, Text: " Evenings are hard for working parents. "})
	w.ThenEvents(res, err, AdviceGiven{ProposalID: id, CommunityID: w.c, SchoolID: w.school, GroupID: w.group, GroupName: "Parent forum", Version: 1,
		Stance: StanceConcerns, Text: "Evenings are hard for working parents.", GivenBy: w.contact})
	// A member records the group's advice from its meeting notes: the
	// advice is the group's, recorded by someone who is not its contact.
	res, err = w.svc.GiveAdvice(w.Ctx, as(w.staff[0], domain.RoleStaff), GiveAdvice{ProposalID: id, GroupID: w.group, Stance: StanceSupport, Text: "From the forum's notes."})
	w.ThenEvents(res, err, AdviceGiven{ProposalID: id, CommunityID: w.c, SchoolID: w.school, GroupID: w.group, GroupName: "Parent forum", Version: 1,
		Stance: StanceSupport, Text: "From the forum's notes."})
	if got := res.Events[0].Meta.ActorID; got != w.staff[0].String() {
		t.Fatalf("advice recorded by %q, want the member %s", got, w.staff[0])
	}
	otherGroup := domaintest.ID()
	w.Given(CommunityStream(w.other), AdvisoryGroupLinked{CommunityID: w.other, SchoolID: w.school, GroupID: otherGroup, Name: "Year 9 student council", Kind: AdvisoryStudents, Contacts: []uuid.UUID{w.contact}})
	for _, tc := range []struct {
		cmd  GiveAdvice
		by   uuid.UUID
		rule error
	}{
		{GiveAdvice{ProposalID: id, GroupID: otherGroup, Stance: StanceSupport, Text: "t"}, uuid.Nil, ErrAdvisoryGroupNotLinked},
		{GiveAdvice{ProposalID: id, GroupID: w.group, Stance: "veto", Text: "t"}, uuid.Nil, domain.ErrInvalidValue},
		{GiveAdvice{ProposalID: id, GroupID: w.group, Stance: StanceSupport}, uuid.Nil, domain.ErrRequired},
	} {
		_, err := w.svc.GiveAdvice(w.Ctx, actorMeta(w.meta, tc.by), tc.cmd)
		w.ThenError(err, tc.rule)
	}
	w.Given(ProposalStream(id), ProposalApproved{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, DecidedBy: w.director, Reason: "r", Alignment: Alignment{Aligned: true, Note: "n"}})
	_, err = w.svc.GiveAdvice(w.Ctx, w.meta, GiveAdvice{ProposalID: id, GroupID: w.group, Stance: StanceSupport, Text: "t"})
	w.ThenError(err, ErrProposalLocked)
	if p := w.proposal(id); len(p.Advice) != 2 || p.Advice[0].Stance != StanceConcerns {
		t.Fatalf("advice = %+v", p.Advice)
	}
}

func TestCorrectDecidedProposal(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenDraft()
	first := w.Messages()[len(w.Messages())-1]
	fixed := text1
	fixed.Costs = &Money{AmountMinor: 12000, Currency: "GBP"}
	res, err := w.svc.CorrectEvent(w.Ctx, w.meta, ProposalStream(id), domain.Correction{EventID: first.ID, Reason: "cost mistyped",
		Replacement: ProposalDrafted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, SegmentID: w.segs[0].ID, Year: year, Version: 1, ProposalText: fixed, DraftedBy: w.staff[1]}})
	if got := w.ok(res, err); got[0].(domain.EventCorrected).ChangedAfterDecision {
		t.Fatal("correction of an undecided proposal marked changed after decision")
	}
	if p := w.proposal(id); p.Current().Costs.AmountMinor != 12000 {
		t.Fatalf("as corrected now: %+v", p.Current())
	}
	w.Given(ProposalStream(id),
		ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, SubmittedBy: w.chair},
		ProposalApproved{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, DecidedBy: w.director, Reason: "r", Alignment: Alignment{Aligned: true, Note: "n"}})
	res, err = w.svc.CorrectEvent(w.Ctx, w.meta, ProposalStream(id), domain.Correction{EventID: first.ID, Reason: "impact overstated",
		Replacement: ProposalDrafted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, SegmentID: w.segs[0].ID, Year: year, Version: 1, ProposalText: text1, DraftedBy: w.staff[1]}})
	if got := w.ok(res, err); !got[0].(domain.EventCorrected).ChangedAfterDecision {
		t.Fatal("correction of a decided proposal not marked changed after decision")
	}
	_, err = w.svc.CorrectEvent(w.Ctx, w.meta, ProposalStream(id), domain.Correction{EventID: first.ID})
	w.ThenError(err, domain.ErrCorrectionReason)
}
