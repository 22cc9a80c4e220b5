package governance

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

func (s *Service) proposal(ctx context.Context, id uuid.UUID) (*Proposal, error) {
	p, _, err := domain.Peek(ctx, s.h, ProposalStream(id), NewProposal)
	if err != nil {
		return nil, err
	}
	if !p.Drafted() {
		return nil, domain.RejectField(domain.ErrNotFound, "proposal_id", "no proposal %s has been drafted", id)
	}
	return p, nil
}

func notDrafted(p *Proposal, id uuid.UUID) error {
	if !p.Drafted() {
		return domain.RejectField(domain.ErrNotFound, "proposal_id", "no proposal %s has been drafted", id)
	}
	return nil
}

// DraftProposal drafts an ISLC's proposal.
type DraftProposal struct {
	ProposalID  uuid.UUID `json:"proposal_id"`
	CommunityID uuid.UUID `json:"community_id"`
	Year        string    `json:"year"`
	ProposalText
}

// DraftProposal records ProposalDrafted as version 1, for the ISLC's
// segment. Returns ErrNotAMember unless the drafter is a member for the
// year, domain.ErrAlreadyExists for a used id.
func (s *Service) DraftProposal(ctx context.Context, meta domain.Meta, cmd DraftProposal) (domain.Result, error) {
	by, err := actor(meta, "drafted_by", "Drafting a proposal")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("proposal_id", cmd.ProposalID, "the proposal"), required("community_id", cmd.CommunityID, "the ISLC"),
		validYear("year", cmd.Year), cmd.ProposalText.validate()); err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "community_id", cmd.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	if !c.IsMember(by, cmd.Year) {
		return domain.Result{}, domain.RejectField(ErrNotAMember, "drafted_by", "person %s is not a member of the %s ISLC for %s, so cannot draft its proposals", by, c.Name, cmd.Year)
	}
	return run(ctx, s, ProposalStream(cmd.ProposalID), NewProposal, meta, func(p *Proposal) ([]domain.Event, error) {
		if p.Drafted() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "proposal_id", "proposal %s already exists (%q)", p.ID, p.Current().Title)
		}
		return events(ProposalDrafted{ProposalID: cmd.ProposalID, CommunityID: c.ID, SchoolID: c.SchoolID, SegmentID: c.SegmentID, Year: cmd.Year,
			Version: 1, ProposalText: cmd.ProposalText, DraftedBy: by}), nil
	})
}

// ReviseProposal records a new version of a proposal, in full.
type ReviseProposal struct {
	ProposalID uuid.UUID `json:"proposal_id"`
	ProposalText
}

// ReviseProposal records ProposalRevised with the next version number.
// Returns ErrProposalLocked while the proposal is submitted or once
// approved, ErrNotAMember unless the reviser is a member of its ISLC.
func (s *Service) ReviseProposal(ctx context.Context, meta domain.Meta, cmd ReviseProposal) (domain.Result, error) {
	by, err := actor(meta, "revised_by", "Revising a proposal")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("proposal_id", cmd.ProposalID, "the proposal"), cmd.ProposalText.validate()); err != nil {
		return domain.Result{}, err
	}
	p, err := s.proposal(ctx, cmd.ProposalID)
	if err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "proposal_id", p.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	if !c.IsMember(by, p.Year) {
		return domain.Result{}, domain.RejectField(ErrNotAMember, "revised_by", "person %s is not a member of the %s ISLC for %s, so cannot revise its proposals", by, c.Name, p.Year)
	}
	return run(ctx, s, ProposalStream(cmd.ProposalID), NewProposal, meta, func(p *Proposal) ([]domain.Event, error) {
		if err := notDrafted(p, cmd.ProposalID); err != nil {
			return nil, err
		}
		if p.Status == StatusSubmitted || p.Status == StatusApproved {
			return nil, domain.Reject(ErrProposalLocked, "%q is %s; it can be revised only while its ISLC holds it", p.Current().Title, p.Status)
		}
		return events(ProposalRevised{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year,
			Version: p.Current().Version + 1, ProposalText: cmd.ProposalText, RevisedBy: by}), nil
	})
}

// SubmitProposal brings a proposal's latest version to the Leadership
// Team.
type SubmitProposal struct {
	ProposalID uuid.UUID `json:"proposal_id"`
}

// SubmitProposal records ProposalSubmitted for the latest version and,
// in the same step, TeamResolutionOpened: the Leadership Team in office
// votes on it (see CastTeamVote). Returns ErrNotChair unless the
// submitter is the ISLC's chair in office for the proposal's year,
// ErrProposalLocked if already submitted or approved, ErrRevisionNeeded
// if it was sent back and not revised since.
func (s *Service) SubmitProposal(ctx context.Context, meta domain.Meta, cmd SubmitProposal) (domain.Result, error) {
	by, err := actor(meta, "submitted_by", "Submitting a proposal")
	if err != nil {
		return domain.Result{}, err
	}
	if err := required("proposal_id", cmd.ProposalID, "the proposal"); err != nil {
		return domain.Result{}, err
	}
	p, err := s.proposal(ctx, cmd.ProposalID)
	if err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "proposal_id", p.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	if chair, ok := c.ChairInOffice(p.Year); !ok || chair != by {
		return domain.Result{}, domain.RejectField(ErrNotChair, "submitted_by", "person %s is not the chair in office of the %s ISLC for %s; the chair submits its proposals", by, c.Name, p.Year)
	}
	sc, team, err := s.teamOf(ctx, p)
	if err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, ProposalStream(cmd.ProposalID), NewProposal, meta, func(p *Proposal) ([]domain.Event, error) {
		if err := notDrafted(p, cmd.ProposalID); err != nil {
			return nil, err
		}
		switch {
		case p.Status == StatusSubmitted || p.Status == StatusApproved:
			return nil, domain.Reject(ErrProposalLocked, "%q is already %s", p.Current().Title, p.Status)
		case p.Status == StatusReturned && !p.RevisedSinceReturn():
			return nil, domain.Reject(ErrRevisionNeeded, "the Leadership Team sent back version %d of %q; revise it before submitting again", p.Current().Version, p.Current().Title)
		}
		v := p.Current().Version
		return events(ProposalSubmitted{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: v, SubmittedBy: by},
			openRound(p, sc, team, v, len(p.Resolutions)+1, by)), nil
	})
}

// GiveAdvice records an advisory group's advice on a proposal.
type GiveAdvice struct {
	ProposalID uuid.UUID `json:"proposal_id"`
	GroupID    uuid.UUID `json:"group_id"`
	// Stance is support, concerns or neutral.
	Stance string `json:"stance"`
	Text   string `json:"text"`
}

// GiveAdvice records AdviceGiven on the latest version. Returns
// ErrAdvisoryGroupNotLinked unless the group advises the proposal's ISLC,
// The advice is recorded as given by the acting person when they are one
// of the group's contacts (otherwise someone recorded it for the group:
// the event's metadata names who).
// ErrProposalLocked once approved.
func (s *Service) GiveAdvice(ctx context.Context, meta domain.Meta, cmd GiveAdvice) (domain.Result, error) {
	if err := firstErr(required("proposal_id", cmd.ProposalID, "the proposal"), required("group_id", cmd.GroupID, "the advisory group"),
		requiredText("text", cmd.Text, "the advice")); err != nil {
		return domain.Result{}, err
	}
	switch cmd.Stance {
	case StanceSupport, StanceConcerns, StanceNeutral:
	default:
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "stance", "%q is not a stance; use support, concerns or neutral", cmd.Stance)
	}
	p, err := s.proposal(ctx, cmd.ProposalID)
	if err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "proposal_id", p.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	g, ok := c.AdvisoryGroup(cmd.GroupID)
	if !ok {
		return domain.Result{}, domain.RejectField(ErrAdvisoryGroupNotLinked, "group_id", "group %s is not linked to the %s ISLC; link it before it gives advice", cmd.GroupID, c.Name)
	}
	var givenBy uuid.UUID
	if a, err := uuid.Parse(meta.ActorID); err == nil && slices.Contains(g.Contacts, a) {
		givenBy = a
	}
	return run(ctx, s, ProposalStream(cmd.ProposalID), NewProposal, meta, func(p *Proposal) ([]domain.Event, error) {
		if err := notDrafted(p, cmd.ProposalID); err != nil {
			return nil, err
		}
		if p.Status == StatusApproved {
			return nil, domain.Reject(ErrProposalLocked, "%q is already approved; advice is taken before the decision", p.Current().Title)
		}
		return events(AdviceGiven{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, GroupID: g.ID, GroupName: g.Name,
			Version: p.Current().Version, Stance: cmd.Stance, Text: strings.TrimSpace(cmd.Text), GivenBy: givenBy}), nil
	})
}

// teamOf loads the school of proposal p and its Leadership Team in office
// for p's year, now.
func (s *Service) teamOf(ctx context.Context, p *Proposal) (*School, Team, error) {
	sc, err := s.school(ctx, "proposal_id", p.SchoolID)
	if err != nil {
		return nil, Team{}, err
	}
	communities, err := s.communitiesOf(ctx, sc)
	if err != nil {
		return nil, Team{}, err
	}
	return sc, LeadershipTeam(sc, communities, p.Year), nil
}

// openRound returns the opening of round of the Team's vote on version of
// p, with the Team in office and the school's quorum rule.
func openRound(p *Proposal, sc *School, team Team, version, round int, proposingChair uuid.UUID) TeamResolutionOpened {
	members := team.Members()
	if members == nil {
		members = []uuid.UUID{}
	}
	return TeamResolutionOpened{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: version, Round: round,
		Team: members, ProposingChairID: proposingChair, Quorum: sc.TeamQuorum.normal()}
}

// CastTeamVote is a Leadership Team member's vote on a submitted
// proposal. The voter is the acting person.
type CastTeamVote struct {
	ProposalID uuid.UUID `json:"proposal_id"`
	// Vote is approve or send_back.
	Vote string `json:"vote"`
	// Reason says why (for send_back: what to revise).
	Reason string `json:"reason"`
	// Aligned and AlignmentNote are the member's check against the
	// school's mission, vision and values; both are required.
	Aligned       *bool  `json:"aligned"`
	AlignmentNote string `json:"alignment_note"`
}

// CastTeamVote records TeamVoteCast in the open round of the proposal
// (for a proposal submitted before the Team voted on proposals, the
// round's TeamResolutionOpened first, in the same step).
// Returns ErrNoActingPerson without a person acting, domain.ErrRequired
// without a reason or an alignment check, domain.ErrInvalidValue for a
// vote other than approve or send_back, ErrNotSubmitted unless the
// proposal awaits the Team's decision, ErrNotLeadershipTeam unless the
// voter is on the Team in office for the proposal's year,
// ErrAlreadyVoted for a second vote in the round, ErrNotAligned for a
// vote to approve a proposal the voter found out of line with the
// mission, vision and values.
func (s *Service) CastTeamVote(ctx context.Context, meta domain.Meta, cmd CastTeamVote) (domain.Result, error) {
	by, err := actor(meta, "voter_id", "Voting on a proposal")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("proposal_id", cmd.ProposalID, "the proposal"),
		requiredText("reason", cmd.Reason, "the reason for the vote")); err != nil {
		return domain.Result{}, err
	}
	if cmd.Vote != VoteApprove && cmd.Vote != VoteSendBack {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "vote", "%q is not a vote; vote approve or send_back", cmd.Vote)
	}
	if cmd.Aligned == nil {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "aligned", "record whether the proposal is aligned with the school's mission, vision and values")
	}
	if err := requiredText("alignment_note", cmd.AlignmentNote, "the note on alignment with the mission, vision and values"); err != nil {
		return domain.Result{}, err
	}
	p, err := s.proposal(ctx, cmd.ProposalID)
	if err != nil {
		return domain.Result{}, err
	}
	sc, team, err := s.teamOf(ctx, p)
	if err != nil {
		return domain.Result{}, err
	}
	if !team.Includes(by) {
		return domain.Result{}, domain.RejectField(ErrNotLeadershipTeam, "voter_id", "person %s is neither the Director of %s nor a chair in office for %s", by, sc.Name, p.Year)
	}
	align := Alignment{Aligned: *cmd.Aligned, Note: strings.TrimSpace(cmd.AlignmentNote)}
	reason := strings.TrimSpace(cmd.Reason)
	return run(ctx, s, ProposalStream(cmd.ProposalID), NewProposal, meta, func(p *Proposal) ([]domain.Event, error) {
		if err := notDrafted(p, cmd.ProposalID); err != nil {
			return nil, err
		}
		if p.Status != StatusSubmitted {
			return nil, domain.Reject(ErrNotSubmitted, "%q is %s; the Team votes on proposals once their chair submits them", p.Current().Title, p.Status)
		}
		var out []domain.Event
		r, ok := p.OpenResolution()
		if !ok {
			// Submitted before the Team voted on proposals: the first vote
			// opens the round.
			opened := openRound(p, sc, team, p.SubmittedVersion, len(p.Resolutions)+1, proposingChair(team, p.CommunityID))
			out = append(out, opened)
			r = &Resolution{Round: opened.Round, Version: opened.Version}
		}
		if r.Voted(by) {
			return nil, domain.RejectField(ErrAlreadyVoted, "voter_id", "you have already voted in round %d on %q: each Team member votes once a round", r.Round, p.Current().Title)
		}
		if cmd.Vote == VoteApprove && !align.Aligned {
			return nil, domain.RejectField(ErrNotAligned, "aligned", "you found %q not aligned with the mission, vision and values; vote to send it back instead", p.Current().Title)
		}
		return append(out, TeamVoteCast{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Round: r.Round, VoterID: by, Vote: cmd.Vote,
			Reason: reason, Alignment: align}), nil
	})
}

// DecideProposal is a Leadership Team member's vote to approve or send
// back a proposal (the body of ApproveProposal and ReturnProposal).
type DecideProposal struct {
	ProposalID uuid.UUID `json:"proposal_id"`
	// Reason says why (for a return: what to revise).
	Reason string `json:"reason"`
	// Aligned and AlignmentNote are the member's check against the
	// school's mission, vision and values; both are required.
	Aligned       *bool  `json:"aligned"`
	AlignmentNote string `json:"alignment_note"`
}

// ApproveProposal is CastTeamVote with the vote approve: one member's
// vote, never the decision, which the Team takes (see
// SignOffResolution). Returns the errors of CastTeamVote.
func (s *Service) ApproveProposal(ctx context.Context, meta domain.Meta, cmd DecideProposal) (domain.Result, error) {
	return s.CastTeamVote(ctx, meta, CastTeamVote{ProposalID: cmd.ProposalID, Vote: VoteApprove, Reason: cmd.Reason, Aligned: cmd.Aligned, AlignmentNote: cmd.AlignmentNote})
}

// ReturnProposal is CastTeamVote with the vote send_back. Returns the
// errors of CastTeamVote.
func (s *Service) ReturnProposal(ctx context.Context, meta domain.Meta, cmd DecideProposal) (domain.Result, error) {
	return s.CastTeamVote(ctx, meta, CastTeamVote{ProposalID: cmd.ProposalID, Vote: VoteSendBack, Reason: cmd.Reason, Aligned: cmd.Aligned, AlignmentNote: cmd.AlignmentNote})
}

// ResolveProposal is the Director's sign-off or referral of the Team's
// outcome on a proposal.
type ResolveProposal struct {
	ProposalID uuid.UUID `json:"proposal_id"`
	// Reason is the Director's account of the Team's decision (sign-off)
	// or why the Team should consider it again (referral).
	Reason string `json:"reason"`
}

// SignOffResolution closes the open round and signs off the Team's
// outcome: it records TeamVoteClosed (every vote, the quorum, the
// outcome), ResolutionSignedOff and the decision, ProposalApproved when
// more of the Team in office voted to approve than to send back, else
// ProposalReturned (the proposal goes back to its ISLC to be revised).
// Returns ErrNoActingPerson without a person acting, domain.ErrRequired
// without a reason, ErrNotDirectorSignOff unless the acting person is the
// school's Director, ErrNotSubmitted unless a round is open,
// ErrQuorumNotReached until a quorum of the Team in office has voted.
func (s *Service) SignOffResolution(ctx context.Context, meta domain.Meta, cmd ResolveProposal) (domain.Result, error) {
	return s.resolve(ctx, meta, cmd, true)
}

// ReferBackResolution closes the open round and refers the Team's outcome
// back to the Team: it records TeamVoteClosed, ResolutionReferredBack and
// TeamResolutionOpened for the next round, with the Team then in office.
// Returns the errors of SignOffResolution.
func (s *Service) ReferBackResolution(ctx context.Context, meta domain.Meta, cmd ResolveProposal) (domain.Result, error) {
	return s.resolve(ctx, meta, cmd, false)
}

func (s *Service) resolve(ctx context.Context, meta domain.Meta, cmd ResolveProposal, signOff bool) (domain.Result, error) {
	by, err := actor(meta, "director_id", "Signing off the Team's decision")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("proposal_id", cmd.ProposalID, "the proposal"), requiredText("reason", cmd.Reason, "the reason")); err != nil {
		return domain.Result{}, err
	}
	p, err := s.proposal(ctx, cmd.ProposalID)
	if err != nil {
		return domain.Result{}, err
	}
	sc, team, err := s.teamOf(ctx, p)
	if err != nil {
		return domain.Result{}, err
	}
	if sc.DirectorID == uuid.Nil || sc.DirectorID != by {
		return domain.Result{}, domain.RejectField(ErrNotDirectorSignOff, "director_id", "person %s is not the Director of %s; the Director, who chairs the Leadership Team, signs off its decisions", by, sc.Name)
	}
	reason := strings.TrimSpace(cmd.Reason)
	return run(ctx, s, ProposalStream(cmd.ProposalID), NewProposal, meta, func(p *Proposal) ([]domain.Event, error) {
		if err := notDrafted(p, cmd.ProposalID); err != nil {
			return nil, err
		}
		r, ok := p.OpenResolution()
		if p.Status != StatusSubmitted || !ok {
			return nil, domain.Reject(ErrNotSubmitted, "%q is %s; there is no vote of the Team to close", p.Current().Title, p.Status)
		}
		closed, quorate := closeRound(p, r, team.Members())
		if !quorate {
			return nil, domain.Reject(ErrQuorumNotReached, "%d of the %d members of the Team in office have voted on %q; the quorum is %d",
				closed.Turnout, len(closed.TeamInOffice), p.Current().Title, closed.QuorumRequired)
		}
		if !signOff {
			return events(closed,
				ResolutionReferredBack{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: r.Version, Round: r.Round, DirectorID: by, Reason: reason},
				openRound(p, sc, team, r.Version, r.Round+1, proposingChair(team, p.CommunityID))), nil
		}
		out := events(closed, ResolutionSignedOff{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: r.Version, Round: r.Round,
			DirectorID: by, Outcome: closed.Outcome, Reason: reason})
		align := alignmentOf(closed)
		if closed.Outcome == VoteApprove {
			return append(out, ProposalApproved{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: r.Version,
				DecidedBy: by, Reason: reason, Alignment: align}), nil
		}
		return append(out, ProposalReturned{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: r.Version,
			DecidedBy: by, Reason: reason, Alignment: align}), nil
	})
}

// proposingChair returns the chair in office of community on team.
func proposingChair(team Team, community uuid.UUID) uuid.UUID {
	for _, c := range team.Chairs {
		if c.CommunityID == community {
			return c.ChairID
		}
	}
	return uuid.Nil
}
