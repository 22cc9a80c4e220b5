package governance

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// vote casts by's Team vote on id and returns the command's result.
func (w *proposalWorld) vote(id, by uuid.UUID, vote string, aligned bool, reason string) (domain.Result, error) {
	return w.svc.CastTeamVote(w.Ctx, as(by, domain.RoleChair), CastTeamVote{ProposalID: id, Vote: vote, Reason: reason, Aligned: &aligned, AlignmentNote: "note of " + by.String()[:4]})
}

// cast is the TeamVoteCast that vote records in round.
func (w *proposalWorld) cast(id, by uuid.UUID, round int, vote string, aligned bool, reason string) TeamVoteCast {
	return TeamVoteCast{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Round: round, VoterID: by, Vote: vote, Reason: reason,
		Alignment: Alignment{Aligned: aligned, Note: "note of " + by.String()[:4]}}
}

func (w *proposalWorld) signOff(id, by uuid.UUID, reason string) (domain.Result, error) {
	return w.svc.SignOffResolution(w.Ctx, as(by, domain.RoleDirector), ResolveProposal{ProposalID: id, Reason: reason})
}

func TestTeamVoteRefusals(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()
	draft := w.givenDraft()
	outsider := w.staff[1] // a member of the proposing ISLC, not on the Team
	yes, no := true, false
	for _, tc := range []struct {
		name string
		cmd  CastTeamVote
		meta domain.Meta
		rule error
	}{
		{"no acting person", CastTeamVote{ProposalID: id, Vote: VoteApprove, Reason: "r", Aligned: &yes, AlignmentNote: "n"}, w.meta, ErrNoActingPerson},
		{"no reason", CastTeamVote{ProposalID: id, Vote: VoteApprove, Aligned: &yes, AlignmentNote: "n"}, as(w.director, domain.RoleDirector), domain.ErrRequired},
		{"no alignment", CastTeamVote{ProposalID: id, Vote: VoteApprove, Reason: "r", AlignmentNote: "n"}, as(w.director, domain.RoleDirector), domain.ErrRequired},
		{"no alignment note", CastTeamVote{ProposalID: id, Vote: VoteApprove, Reason: "r", Aligned: &yes}, as(w.director, domain.RoleDirector), domain.ErrRequired},
		{"no such vote", CastTeamVote{ProposalID: id, Vote: "abstain", Reason: "r", Aligned: &yes, AlignmentNote: "n"}, as(w.director, domain.RoleDirector), domain.ErrInvalidValue},
		{"not on the Team", CastTeamVote{ProposalID: id, Vote: VoteApprove, Reason: "r", Aligned: &yes, AlignmentNote: "n"}, as(outsider, domain.RoleStaff), ErrNotLeadershipTeam},
		{"not submitted", CastTeamVote{ProposalID: draft, Vote: VoteApprove, Reason: "r", Aligned: &yes, AlignmentNote: "n"}, as(w.director, domain.RoleDirector), ErrNotSubmitted},
		{"approve though not aligned", CastTeamVote{ProposalID: id, Vote: VoteApprove, Reason: "r", Aligned: &no, AlignmentNote: "n"}, as(w.director, domain.RoleDirector), ErrNotAligned},
		{"unknown proposal", CastTeamVote{ProposalID: domaintest.ID(), Vote: VoteApprove, Reason: "r", Aligned: &yes, AlignmentNote: "n"}, as(w.director, domain.RoleDirector), domain.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.svc.CastTeamVote(w.Ctx, tc.meta, tc.cmd)
			w.ThenError(err, tc.rule)
		})
	}
}

// The Team decides: one member's vote decides nothing; the Director
// signs off once a quorum has voted; the outcome is the majority of the
// votes, a tie sending the proposal back; the decision records every
// vote, the outcome and the sign-off.
func TestTeamDecidesProposal(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()

	// The chair of another ISLC votes to send it back: nothing is decided.
	res, err := w.vote(id, w.chair2, VoteSendBack, false, "Say how pupils with low reading ages are included.")
	w.ThenEvents(res, err, w.cast(id, w.chair2, 1, VoteSendBack, false, "Say how pupils with low reading ages are included."))
	if p := w.proposal(id); p.Status != StatusSubmitted || p.Decided() {
		t.Fatalf("after one vote the proposal is %s (decided %v), want still submitted", p.Status, p.Decided())
	}
	_, err = w.vote(id, w.chair2, VoteApprove, true, "changed my mind")
	w.ThenError(err, ErrAlreadyVoted)

	// One vote of three: no quorum (a majority is two).
	_, err = w.signOff(id, w.director, "Decided at the Team meeting.")
	w.ThenError(err, ErrQuorumNotReached)

	// The proposing ISLC's chair is a member of the Team and votes.
	res, err = w.vote(id, w.chair, VoteApprove, true, "The ISLC's plan is ready.")
	w.ThenEvents(res, err, w.cast(id, w.chair, 1, VoteApprove, true, "The ISLC's plan is ready."))

	// Only the Director signs off.
	_, err = w.signOff(id, w.chair, "Decided.")
	w.ThenError(err, ErrNotDirectorSignOff)
	_, err = w.svc.SignOffResolution(w.Ctx, as(w.director, domain.RoleDirector), ResolveProposal{ProposalID: id})
	w.ThenError(err, domain.ErrRequired)

	// One to approve, one to send back: a tie sends it back.
	res, err = w.signOff(id, w.director, "The Team is divided; include every reader first.")
	w.ThenEvents(res, err,
		TeamVoteClosed{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, Round: 1, TeamInOffice: w.team(), QuorumRequired: 2,
			Turnout: 2, Approve: 1, SendBack: 1, Outcome: VoteSendBack, Votes: []TeamVoteRecord{
				{VoterID: w.chair2, Vote: VoteSendBack, Aligned: false, Counted: true},
				{VoterID: w.chair, Vote: VoteApprove, Aligned: true, Counted: true}}},
		ResolutionSignedOff{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, Round: 1, DirectorID: w.director, Outcome: VoteSendBack,
			Reason: "The Team is divided; include every reader first."},
		ProposalReturned{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, DecidedBy: w.director,
			Reason: "The Team is divided; include every reader first.", Alignment: Alignment{Aligned: false, Note: "1 of the 2 Team members voting found it aligned with the mission, vision and values"}})
	if p := w.proposal(id); p.Status != StatusReturned || p.RevisedSinceReturn() {
		t.Fatalf("proposal = %s, want returned awaiting revision", p.Status)
	}
	_, err = w.vote(id, w.director, VoteApprove, true, "late")
	w.ThenError(err, ErrNotSubmitted)
	_, err = w.signOff(id, w.director, "again")
	w.ThenError(err, ErrNotSubmitted)

	// Revised and submitted again: round 2, which the Team approves.
	text2 := text1
	text2.Body += " Pupils with low reading ages are paired first."
	w.ok(w.svc.ReviseProposal(w.Ctx, as(w.staff[1], domain.RoleStaff), ReviseProposal{ProposalID: id, ProposalText: text2}))
	res, err = w.svc.SubmitProposal(w.Ctx, as(w.chair, domain.RoleChair), SubmitProposal{ProposalID: id})
	w.ThenEvents(res, err, ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, SubmittedBy: w.chair}, w.opened(id, 2, 2))
	w.ok(w.vote(id, w.director, VoteApprove, true, "Inclusive now."))
	w.ok(w.vote(id, w.chair2, VoteApprove, true, "My point was taken."))
	res, err = w.signOff(id, w.director, "Approved: inclusive and affordable.")
	w.ThenEvents(res, err,
		TeamVoteClosed{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, Round: 2, TeamInOffice: w.team(), QuorumRequired: 2,
			Turnout: 2, Approve: 2, SendBack: 0, Outcome: VoteApprove, Votes: []TeamVoteRecord{
				{VoterID: w.director, Vote: VoteApprove, Aligned: true, Counted: true},
				{VoterID: w.chair2, Vote: VoteApprove, Aligned: true, Counted: true}}},
		ResolutionSignedOff{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, Round: 2, DirectorID: w.director, Outcome: VoteApprove,
			Reason: "Approved: inclusive and affordable."},
		ProposalApproved{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, DecidedBy: w.director,
			Reason: "Approved: inclusive and affordable.", Alignment: Alignment{Aligned: true, Note: "2 of the 2 Team members voting found it aligned with the mission, vision and values"}})

	p := w.proposal(id)
	if p.Status != StatusApproved || len(p.Resolutions) != 2 || len(p.Decisions) != 2 {
		t.Fatalf("proposal = %s with %d rounds and %d decisions, want approved, 2 and 2", p.Status, len(p.Resolutions), len(p.Decisions))
	}
	if r := p.Resolutions[1]; r.Status != ResolutionStatusSignedOff || r.DirectorID != w.director || len(r.Votes) != 2 || r.Closed == nil || r.Closed.Outcome != VoteApprove {
		t.Fatalf("round 2 = %+v", r)
	}
	// The whole proposal is one decision: one correlation id.
	var corr uuid.UUID
	for _, m := range w.Messages() {
		if m.Stream != ProposalStream(id) || m.Meta.ActorID == "system" { // given history carries none
			continue
		}
		if corr == uuid.Nil {
			corr = m.Meta.CorrelationID
		}
		if m.Meta.CorrelationID != corr {
			t.Fatalf("%s correlation %s, want %s", m.Type, m.Meta.CorrelationID, corr)
		}
	}
}

// The Director may refer the Team's outcome back to it: a new round
// opens, with the Team then in office, and members vote again.
func TestReferBackOpensNewRound(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()
	w.ok(w.vote(id, w.director, VoteApprove, true, "Fine."))
	w.ok(w.vote(id, w.chair2, VoteApprove, true, "Fine."))
	_, err := w.svc.ReferBackResolution(w.Ctx, as(w.chair2, domain.RoleChair), ResolveProposal{ProposalID: id, Reason: "r"})
	w.ThenError(err, ErrNotDirectorSignOff)
	res, err := w.svc.ReferBackResolution(w.Ctx, as(w.director, domain.RoleDirector), ResolveProposal{ProposalID: id, Reason: "The costs have changed since the vote."})
	w.ThenEvents(res, err,
		TeamVoteClosed{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, Round: 1, TeamInOffice: w.team(), QuorumRequired: 2,
			Turnout: 2, Approve: 2, Outcome: VoteApprove, Votes: []TeamVoteRecord{
				{VoterID: w.director, Vote: VoteApprove, Aligned: true, Counted: true},
				{VoterID: w.chair2, Vote: VoteApprove, Aligned: true, Counted: true}}},
		ResolutionReferredBack{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, Round: 1, DirectorID: w.director,
			Reason: "The costs have changed since the vote."},
		w.opened(id, 1, 2))
	if p := w.proposal(id); p.Status != StatusSubmitted || p.Decided() {
		t.Fatalf("after a referral the proposal is %s, want still submitted and undecided", p.Status)
	}
	res, err = w.vote(id, w.director, VoteSendBack, true, "Share the cost first.")
	w.ThenEvents(res, err, w.cast(id, w.director, 2, VoteSendBack, true, "Share the cost first."))
}

// Votes count only from the Team in office when the round closes: a chair
// removed from office after voting has a lapsed vote, and can no longer
// vote.
func TestLapsedTeamVote(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()
	w.ok(w.vote(id, w.chair2, VoteSendBack, false, "Not yet."))
	w.Given(CommunityStream(w.other), ChairRemoved{CommunityID: w.other, SchoolID: w.school, Year: year, ChairID: w.chair2, VoteID: domaintest.ID()})
	_, err := w.vote(id, w.chair2, VoteSendBack, false, "again")
	w.ThenError(err, ErrNotLeadershipTeam)
	w.ok(w.vote(id, w.director, VoteApprove, true, "Yes."))
	_, err = w.signOff(id, w.director, "r")
	w.ThenError(err, ErrQuorumNotReached) // one counted vote of a Team of two
	w.ok(w.vote(id, w.chair, VoteApprove, true, "Yes."))
	res, err := w.signOff(id, w.director, "Approved by the Team in office.")
	closed := w.ok(res, err)[0].(TeamVoteClosed)
	want := []TeamVoteRecord{{VoterID: w.chair2, Vote: VoteSendBack, Counted: false},
		{VoterID: w.director, Vote: VoteApprove, Aligned: true, Counted: true}, {VoterID: w.chair, Vote: VoteApprove, Aligned: true, Counted: true}}
	if closed.Outcome != VoteApprove || closed.Turnout != 2 || len(closed.TeamInOffice) != 2 || len(closed.Votes) != 3 {
		t.Fatalf("closed = %+v", closed)
	}
	for i := range want {
		if closed.Votes[i] != want[i] {
			t.Fatalf("vote %d = %+v, want %+v", i, closed.Votes[i], want[i])
		}
	}
}

// A school may set another quorum; rounds opened afterwards use it.
func TestTeamQuorumSetBySchool(t *testing.T) {
	w := newProposalWorld(t)
	_, err := w.svc.SetTeamQuorum(w.Ctx, w.meta, SetTeamQuorum{SchoolID: w.school, Quorum: Quorum{Rule: QuorumCount, Count: 8}})
	w.ThenError(err, domain.ErrInvalidValue) // six segments and the Director: at most seven
	res, err := w.svc.SetTeamQuorum(w.Ctx, w.meta, SetTeamQuorum{SchoolID: w.school, Quorum: Quorum{Rule: QuorumCount, Count: 3}})
	w.ThenEvents(res, err, TeamQuorumSet{SchoolID: w.school, Quorum: Quorum{Rule: QuorumCount, Count: 3}, Previous: Quorum{Rule: QuorumMajority}})
	id := w.givenDraft()
	res, err = w.svc.SubmitProposal(w.Ctx, as(w.chair, domain.RoleChair), SubmitProposal{ProposalID: id})
	opened := w.opened(id, 1, 1)
	opened.Quorum = Quorum{Rule: QuorumCount, Count: 3}
	w.ThenEvents(res, err, ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, SubmittedBy: w.chair}, opened)
	w.ok(w.vote(id, w.director, VoteApprove, true, "Yes."))
	w.ok(w.vote(id, w.chair, VoteApprove, true, "Yes."))
	_, err = w.signOff(id, w.director, "r")
	w.ThenError(err, ErrQuorumNotReached) // two of the three the school requires
	w.ok(w.vote(id, w.chair2, VoteSendBack, true, "No."))
	w.ok(w.signOff(id, w.director, "Approved, two to one."))
	if p := w.proposal(id); p.Status != StatusApproved {
		t.Fatalf("proposal = %s, want approved", p.Status)
	}
}

// A proposal submitted before the Team voted (no round opened) gets its
// round with the first vote.
func TestVoteOnProposalSubmittedBeforeTeamVotes(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenDraft()
	w.Given(ProposalStream(id), ProposalSubmitted{ProposalID: id, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, SubmittedBy: w.chair})
	res, err := w.vote(id, w.chair2, VoteApprove, true, "Yes.")
	w.ThenEvents(res, err, w.opened(id, 1, 1), w.cast(id, w.chair2, 1, VoteApprove, true, "Yes."))
}
