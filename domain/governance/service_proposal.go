package governance

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

func (s *Service) proposal(ctx context.Context, id uuid.UUID) (*Proposal, error) {
	p, _, err := domain.Load(ctx, s.h, ProposalStream(id), NewProposal)
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

// SubmitProposal records ProposalSubmitted for the latest version.
// Returns ErrNotChair unless the submitter is the ISLC's chair in office
// for the proposal's year, ErrProposalLocked if already submitted or
// approved, ErrRevisionNeeded if it was sent back and not revised since.
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
		return events(ProposalSubmitted{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: p.Current().Version, SubmittedBy: by}), nil
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

// DecideProposal is the Leadership Team's decision on a submitted
// proposal.
type DecideProposal struct {
	ProposalID uuid.UUID `json:"proposal_id"`
	// Reason says why (for a return: what to revise).
	Reason string `json:"reason"`
	// Aligned and AlignmentNote are the Team's check against the school's
	// mission, vision and values; both are required.
	Aligned       *bool  `json:"aligned"`
	AlignmentNote string `json:"alignment_note"`
}

// ApproveProposal records ProposalApproved. Returns domain.ErrRequired
// without a reason or an alignment check, ErrNotLeadershipTeam unless the
// decider sits on the Team for the proposal's year, ErrNotSubmitted unless
// the proposal awaits a decision, ErrNotAligned if the Team found it out of
// line with the mission, vision and values.
func (s *Service) ApproveProposal(ctx context.Context, meta domain.Meta, cmd DecideProposal) (domain.Result, error) {
	return s.decide(ctx, meta, cmd, true)
}

// ReturnProposal records ProposalReturned: the proposal goes back to its
// ISLC (status returned) to be revised as a new version. Returns
// domain.ErrRequired without a reason or an alignment check,
// ErrNotLeadershipTeam, ErrNotSubmitted.
func (s *Service) ReturnProposal(ctx context.Context, meta domain.Meta, cmd DecideProposal) (domain.Result, error) {
	return s.decide(ctx, meta, cmd, false)
}

func (s *Service) decide(ctx context.Context, meta domain.Meta, cmd DecideProposal, approve bool) (domain.Result, error) {
	by, err := actor(meta, "decided_by", "Deciding a proposal")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("proposal_id", cmd.ProposalID, "the proposal"),
		requiredText("reason", cmd.Reason, "the reason for the decision")); err != nil {
		return domain.Result{}, err
	}
	if cmd.Aligned == nil {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "aligned", "record whether the proposal is aligned with the school's mission, vision and values")
	}
	if err := requiredText("alignment_note", cmd.AlignmentNote, "the Team's note on alignment with the mission, vision and values"); err != nil {
		return domain.Result{}, err
	}
	p, err := s.proposal(ctx, cmd.ProposalID)
	if err != nil {
		return domain.Result{}, err
	}
	sc, err := s.school(ctx, "proposal_id", p.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	communities, err := s.communitiesOf(ctx, sc)
	if err != nil {
		return domain.Result{}, err
	}
	if team := LeadershipTeam(sc, communities, p.Year); !team.Includes(by) {
		return domain.Result{}, domain.RejectField(ErrNotLeadershipTeam, "decided_by", "person %s is neither the Director of %s nor a chair in office for %s", by, sc.Name, p.Year)
	}
	align := Alignment{Aligned: *cmd.Aligned, Note: strings.TrimSpace(cmd.AlignmentNote)}
	reason := strings.TrimSpace(cmd.Reason)
	return run(ctx, s, ProposalStream(cmd.ProposalID), NewProposal, meta, func(p *Proposal) ([]domain.Event, error) {
		if err := notDrafted(p, cmd.ProposalID); err != nil {
			return nil, err
		}
		if p.Status != StatusSubmitted {
			return nil, domain.Reject(ErrNotSubmitted, "%q is %s; the Team decides proposals once their chair submits them", p.Current().Title, p.Status)
		}
		if approve {
			if !align.Aligned {
				return nil, domain.RejectField(ErrNotAligned, "aligned", "the Team found %q not aligned with the mission, vision and values; send it back instead", p.Current().Title)
			}
			return events(ProposalApproved{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: p.SubmittedVersion,
				DecidedBy: by, Reason: reason, Alignment: align}), nil
		}
		return events(ProposalReturned{ProposalID: p.ID, CommunityID: p.CommunityID, SchoolID: p.SchoolID, Year: p.Year, Version: p.SubmittedVersion,
			DecidedBy: by, Reason: reason, Alignment: align}), nil
	})
}
