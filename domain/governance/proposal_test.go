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
	w.Given(ProposalStream(id), ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, SubmittedBy: w.chair},
		w.opened(id, 1, 1))
	return id
}

// team is the Leadership Team of the world: the Director, then the
// chairs in segment order.
func (w *proposalWorld) team() []uuid.UUID { return []uuid.UUID{w.director, w.chair, w.chair2} }

// opened is the opening of round of the Team's votes on version of id,
// with the world's Team and the default quorum.
func (w *proposalWorld) opened(id uuid.UUID, version, round int) TeamResolutionOpened {
	return TeamResolutionOpened{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: version, Round: round,
		Team: w.team(), ProposingChairID: w.chair, Quorum: Quorum{Rule: QuorumMajority}}
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
	w.ThenEvents(res, err, ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, SubmittedBy: w.chair}, w.opened(id, 2, 1))
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
