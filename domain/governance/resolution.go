package governance

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// A proposal submitted to the Leadership Team is decided by the Team, not
// by one of its members (seed 000: "The Team have the authority to
// approve or send back for revision proposals from each ISLC"; "Chairing
// the Team will be the responsibility of the Director"). Submitting a
// version opens a resolution: a round of votes of the Team. Each member
// in office votes once, to approve or send back, with a reason and the
// alignment check against the mission, vision and values. The Director,
// who chairs the Team and signs off its decisions, closes the round once
// a quorum of the Team in office at that moment has voted (a majority by
// default; a school may set another rule with SetTeamQuorum): the Team's
// outcome is approval when more members voted to approve than to send
// back, and sending back otherwise (a tie sends back: a proposal passes
// only with a majority of the votes). The Director then signs the outcome
// off, which records the decision (ProposalApproved or ProposalReturned),
// or refers it back to the Team, which opens a new round.
//
// The chair of the proposing ISLC takes part and votes like every other
// member. Seed 000 composes the Team of "one Chair from each ISLC and the
// Director", gives the authority to approve or send back to the Team as a
// whole, makes the Team "collectively" responsible for the alignment of
// every ISLC's work, and makes each member "a conduit between the Team
// and their associated ISLC": the proposing chair brings the ISLC's work
// and carries the Team's decision back, as a member of the body that
// decides, and the Director "will not sit above others". Leaving the
// proposing chair out would take the ISLC's only voice out of the room
// and shift the quorum for that ISLC's proposals alone. What keeps the
// chair from deciding their own proposal is that they hold one vote of
// the Team's, every vote is recorded with its reasons, a quorum and a
// majority are needed, the Director signs off, and governors can
// challenge the decision.
//
// Votes count only from the Team in office when the round is closed: a
// chair succeeded, removed or who left the ISLC or the school, or a
// Director replaced, no longer decides, and a vote they cast before is
// recorded as lapsed.

// Team vote choices.
const (
	// VoteApprove is a vote to approve the proposal.
	VoteApprove = "approve"
	// VoteSendBack is a vote to send the proposal back for revision.
	VoteSendBack = "send_back"
)

// Resolution statuses.
const (
	// ResolutionVoting: the Team is voting.
	ResolutionVoting = "voting"
	// ResolutionStatusSignedOff: the Director signed off the Team's
	// outcome.
	ResolutionStatusSignedOff = "signed_off"
	// ResolutionStatusReferredBack: the Director referred the outcome
	// back to the Team, which votes again in a new round.
	ResolutionStatusReferredBack = "referred_back"
)

// TeamResolutionOpened records that a submitted version of a proposal went
// to a vote of the Leadership Team.
type TeamResolutionOpened struct {
	ProposalID       uuid.UUID   `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID      uuid.UUID   `json:"community_id" doc:"Id of the proposing ISLC."`
	SchoolID         uuid.UUID   `json:"school_id" doc:"Id of the school."`
	Year             string      `json:"year" doc:"Academic year."`
	Version          int         `json:"version" doc:"The version the Team votes on."`
	Round            int         `json:"round" doc:"The round of the Team's votes on this proposal, numbered from 1 over all its submissions; a referral back by the Director opens the next."`
	Team             []uuid.UUID `json:"team" doc:"The Team in office when the round opened: the Director and the chairs in office of the school's ISLCs."`
	ProposingChairID uuid.UUID   `json:"proposing_chair_id" doc:"The chair of the proposing ISLC, who votes as a member of the Team (all zeros if the seat is vacant)."`
	Quorum           Quorum      `json:"quorum" doc:"How many of the Team in office must vote before the round can be closed."`
}

// TeamVoteCast records one Team member's vote on a proposal.
type TeamVoteCast struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the proposing ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Round       int       `json:"round" doc:"The round voted in."`
	VoterID     uuid.UUID `json:"voter_id" doc:"The Team member who voted (the acting person)."`
	Vote        string    `json:"vote" doc:"approve or send_back."`
	Reason      string    `json:"reason" doc:"Why they voted so (for send_back: what to revise)."`
	Alignment   Alignment `json:"alignment" doc:"Their check of the proposal against the mission, vision and values; a vote to approve needs it aligned."`
}

// TeamVoteRecord is one vote as the closing of a round records it.
type TeamVoteRecord struct {
	VoterID uuid.UUID `json:"voter_id" doc:"The Team member."`
	Vote    string    `json:"vote" doc:"approve or send_back."`
	Aligned bool      `json:"aligned" doc:"Whether they found it aligned with the mission, vision and values."`
	Counted bool      `json:"counted" doc:"False when the voter was no longer on the Team when the round closed (the vote lapsed)."`
}

// TeamVoteClosed records the Team's outcome of a round: every vote, the
// quorum and the outcome.
type TeamVoteClosed struct {
	ProposalID     uuid.UUID        `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID    uuid.UUID        `json:"community_id" doc:"Id of the proposing ISLC."`
	SchoolID       uuid.UUID        `json:"school_id" doc:"Id of the school."`
	Year           string           `json:"year" doc:"Academic year."`
	Version        int              `json:"version" doc:"The version voted on."`
	Round          int              `json:"round" doc:"The round closed."`
	TeamInOffice   []uuid.UUID      `json:"team_in_office" doc:"The Team in office when the round closed, whose votes count."`
	QuorumRequired int              `json:"quorum_required" doc:"How many votes of the Team in office the quorum required."`
	Turnout        int              `json:"turnout" doc:"How many of the Team in office voted."`
	Approve        int              `json:"approve" doc:"Votes to approve that count."`
	SendBack       int              `json:"send_back" doc:"Votes to send back that count."`
	Outcome        string           `json:"outcome" doc:"approve (more votes to approve than to send back) or send_back (otherwise, a tie included)."`
	Votes          []TeamVoteRecord `json:"votes" doc:"Every vote of the round, in the order cast."`
}

// ResolutionSignedOff records the Director signing off the Team's
// outcome; the decision itself follows in the same step.
type ResolutionSignedOff struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the proposing ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year        string    `json:"year" doc:"Academic year."`
	Version     int       `json:"version" doc:"The version decided."`
	Round       int       `json:"round" doc:"The round signed off."`
	DirectorID  uuid.UUID `json:"director_id" doc:"The Director who signed off (the acting person)."`
	Outcome     string    `json:"outcome" doc:"The Team's outcome signed off: approve or send_back."`
	Reason      string    `json:"reason" doc:"The Director's account of the Team's decision."`
}

// ResolutionReferredBack records the Director referring the Team's
// outcome back to the Team, which votes again in a new round.
type ResolutionReferredBack struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the proposing ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year        string    `json:"year" doc:"Academic year."`
	Version     int       `json:"version" doc:"The version voted on."`
	Round       int       `json:"round" doc:"The round referred back."`
	DirectorID  uuid.UUID `json:"director_id" doc:"The Director who referred it back (the acting person)."`
	Reason      string    `json:"reason" doc:"Why the Team should consider it again."`
}

// EventType implements domain.Event.
func (TeamResolutionOpened) EventType() string { return "TeamResolutionOpened" }

// EventType implements domain.Event.
func (TeamVoteCast) EventType() string { return "TeamVoteCast" }

// EventType implements domain.Event.
func (TeamVoteClosed) EventType() string { return "TeamVoteClosed" }

// EventType implements domain.Event.
func (ResolutionSignedOff) EventType() string { return "ResolutionSignedOff" }

// EventType implements domain.Event.
func (ResolutionReferredBack) EventType() string { return "ResolutionReferredBack" }

func init() {
	// The Team's votes and their outcome cannot be corrected.
	reg := func(spec domain.Spec) domain.Spec {
		spec.Schema, spec.Group, spec.Uncorrectable = 1, Group, true
		return spec
	}
	domain.MustRegister[TeamResolutionOpened](reg(domain.Spec{Type: "TeamResolutionOpened",
		Doc:       "A submitted version of a proposal went to a vote of the Leadership Team: the Team in office, the quorum, and the proposing ISLC's chair, who votes as a member of the Team.",
		EmittedBy: []string{"SubmitProposal", "ReferBackResolution", "CastTeamVote (for a proposal submitted before Team votes)"}}))
	domain.MustRegister[TeamVoteCast](reg(domain.Spec{Type: "TeamVoteCast",
		Doc: "A member of the Leadership Team voted to approve or send back a proposal, with a reason and their alignment check; one vote per member per round.", EmittedBy: []string{"CastTeamVote"}}))
	domain.MustRegister[TeamVoteClosed](reg(domain.Spec{Type: "TeamVoteClosed",
		Doc:       "The Director closed a round once a quorum of the Team in office had voted: every vote (lapsed ones marked), the quorum and the Team's outcome.",
		EmittedBy: []string{"SignOffResolution", "ReferBackResolution"}}))
	domain.MustRegister[ResolutionSignedOff](reg(domain.Spec{Type: "ResolutionSignedOff",
		Doc: "The Director signed off the Team's outcome; ProposalApproved or ProposalReturned follows in the same step.", EmittedBy: []string{"SignOffResolution"}}))
	domain.MustRegister[ResolutionReferredBack](reg(domain.Spec{Type: "ResolutionReferredBack",
		Doc: "The Director referred the Team's outcome back to the Team, saying why; a new round opens in the same step.", EmittedBy: []string{"ReferBackResolution"}}))
}

// TeamVote is one Team member's vote in a round.
type TeamVote struct {
	VoterID   uuid.UUID
	Vote      string
	Reason    string
	Alignment Alignment
	At        time.Time
}

// Resolution is one round of the Leadership Team's votes on a submitted
// version of a proposal.
type Resolution struct {
	Round            int
	Version          int
	Team             []uuid.UUID
	ProposingChairID uuid.UUID
	Quorum           Quorum
	Votes            []TeamVote
	// Status is voting, signed_off or referred_back.
	Status   string
	OpenedAt time.Time
	// Closed is the round's closing, once the Director signed it off or
	// referred it back.
	Closed *TeamVoteClosed
	// DirectorID and DirectorReason are the sign-off or the referral.
	DirectorID     uuid.UUID
	DirectorReason string
}

// Voted reports whether person voted in the round.
func (r *Resolution) Voted(person uuid.UUID) bool {
	return slices.ContainsFunc(r.Votes, func(v TeamVote) bool { return v.VoterID == person })
}

// OpenResolution returns the round being voted on, if any.
func (p *Proposal) OpenResolution() (*Resolution, bool) {
	if n := len(p.Resolutions); n > 0 && p.Resolutions[n-1].Status == ResolutionVoting {
		return p.Resolutions[n-1], true
	}
	return nil, false
}

func (p *Proposal) resolution(round int) *Resolution {
	for _, r := range p.Resolutions {
		if r.Round == round {
			return r
		}
	}
	return &Resolution{} // an event of an unknown round: fold it harmlessly
}

// applyResolution folds the events of the Team's rounds.
func (p *Proposal) applyResolution(m domain.Message) {
	switch e := m.Event.(type) {
	case TeamResolutionOpened:
		p.Resolutions = append(p.Resolutions, &Resolution{Round: e.Round, Version: e.Version, Team: slices.Clone(e.Team), ProposingChairID: e.ProposingChairID,
			Quorum: e.Quorum, Status: ResolutionVoting, OpenedAt: m.Effective()})
	case TeamVoteCast:
		r := p.resolution(e.Round)
		r.Votes = append(r.Votes, TeamVote{VoterID: e.VoterID, Vote: e.Vote, Reason: e.Reason, Alignment: e.Alignment, At: m.Effective()})
	case TeamVoteClosed:
		c := e
		c.Votes, c.TeamInOffice = slices.Clone(e.Votes), slices.Clone(e.TeamInOffice)
		p.resolution(e.Round).Closed = &c
	case ResolutionSignedOff:
		r := p.resolution(e.Round)
		r.Status, r.DirectorID, r.DirectorReason = ResolutionStatusSignedOff, e.DirectorID, e.Reason
	case ResolutionReferredBack:
		r := p.resolution(e.Round)
		r.Status, r.DirectorID, r.DirectorReason = ResolutionStatusReferredBack, e.DirectorID, e.Reason
	}
}

// closeRound counts the votes of round r of p from the Team in office
// (team). It returns the closing and whether the quorum is reached.
func closeRound(p *Proposal, r *Resolution, team []uuid.UUID) (TeamVoteClosed, bool) {
	c := TeamVoteClosed{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: r.Version, Round: r.Round,
		TeamInOffice: slices.Clone(team), QuorumRequired: r.Quorum.Required(len(team)), Votes: []TeamVoteRecord{}}
	if c.TeamInOffice == nil {
		c.TeamInOffice = []uuid.UUID{}
	}
	for _, v := range r.Votes {
		counted := slices.Contains(team, v.VoterID)
		c.Votes = append(c.Votes, TeamVoteRecord{VoterID: v.VoterID, Vote: v.Vote, Aligned: v.Alignment.Aligned, Counted: counted})
		if !counted {
			continue
		}
		c.Turnout++
		if v.Vote == VoteApprove {
			c.Approve++
		} else {
			c.SendBack++
		}
	}
	c.Outcome = VoteSendBack
	if c.Approve > c.SendBack {
		c.Outcome = VoteApprove
	}
	return c, c.Turnout >= c.QuorumRequired && c.QuorumRequired > 0 && c.QuorumRequired <= len(team)
}

// alignmentOf sums up the alignment checks of the counted votes of c.
func alignmentOf(c TeamVoteClosed) Alignment {
	aligned := 0
	for _, v := range c.Votes {
		if v.Counted && v.Aligned {
			aligned++
		}
	}
	return Alignment{Aligned: aligned*2 > c.Turnout,
		Note: fmt.Sprintf("%d of the %d Team members voting found it aligned with the mission, vision and values", aligned, c.Turnout)}
}
