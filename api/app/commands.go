package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// run is every command use case: find the target, check the policy once,
// build the metadata (the actor is who acts, in the role the ledger gives
// them), then let the domain decide. Nothing is recorded when any step
// refuses.
func run[C any](ctx context.Context, a *App, actor Actor, name string, c C, target func(l *loader) (Target, error),
	exec func(context.Context, domain.Meta, C) (domain.Result, error)) (domain.Result, error) {
	t, err := target(a.load(ctx))
	if err != nil {
		return domain.Result{}, err
	}
	rel, err := a.authorize(ctx, actor, name, t)
	if err != nil {
		return domain.Result{}, err
	}
	ctx, m := meta(ctx, actor, rel.role())
	if Policies[name].ForAnother && rel != RelSelf && strings.TrimSpace(m.Reason) == "" {
		return domain.Result{}, domain.RejectField(ErrReasonForAnother, "reason", "you are recording this for someone else; say why (for example, \"from the paper form of 3 October\")")
	}
	return exec(ctx, m, c)
}

// Authorize checks that actor may run the use case name (a read or an
// operation of Policies) on t, for edges that answer it themselves (token
// management, backups, metrics, reads). It returns the relation that
// granted it, or a *domain.Rejection (403).
func (a *App) Authorize(ctx context.Context, actor Actor, name string, t Target) (Relation, error) {
	return a.authorize(ctx, actor, name, t)
}

// May reports whether actor may run the use case name on t (a refusal is
// false, not an error).
func (a *App) May(ctx context.Context, actor Actor, name string, t Target) (bool, error) {
	_, err := a.authorize(ctx, actor, name, t)
	if err == nil {
		return true, nil
	}
	if _, _, ok := domain.RuleOf(err); ok {
		return false, nil
	}
	return false, err
}

func none(*loader) (Target, error) { return Target{}, nil }

// Schools.

// RegisterSchool registers a school (the administrator).
func (a *App) RegisterSchool(ctx context.Context, actor Actor, c governance.RegisterSchool) (domain.Result, error) {
	return run(ctx, a, actor, "RegisterSchool", c, none, a.L.Governance.RegisterSchool)
}

// AddSegment adds a segment to a school (its Director).
func (a *App) AddSegment(ctx context.Context, actor Actor, c governance.AddSegment) (domain.Result, error) {
	return run(ctx, a, actor, "AddSegment", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.AddSegment)
}

// RenameSegment renames a segment of a school (its Director).
func (a *App) RenameSegment(ctx context.Context, actor Actor, c governance.RenameSegment) (domain.Result, error) {
	return run(ctx, a, actor, "RenameSegment", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.RenameSegment)
}

// AppointDirector appoints a school's Director (the administrator, for a
// new school; the Director, handing over).
func (a *App) AppointDirector(ctx context.Context, actor Actor, c governance.AppointDirector) (domain.Result, error) {
	return run(ctx, a, actor, "AppointDirector", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.AppointDirector)
}

// OpenAcademicYear opens an academic year of a school (its Director).
func (a *App) OpenAcademicYear(ctx context.Context, actor Actor, c governance.OpenAcademicYear) (domain.Result, error) {
	return run(ctx, a, actor, "OpenAcademicYear", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.OpenAcademicYear)
}

// People.

// RegisterStaff registers a staff member of a school (its Director).
func (a *App) RegisterStaff(ctx context.Context, actor Actor, c governance.RegisterStaff) (domain.Result, error) {
	return run(ctx, a, actor, "RegisterStaff", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.RegisterStaff)
}

// RegisterGovernor registers a governor of a school (its Director).
func (a *App) RegisterGovernor(ctx context.Context, actor Actor, c governance.RegisterGovernor) (domain.Result, error) {
	return run(ctx, a, actor, "RegisterGovernor", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.RegisterGovernor)
}

// RegisterAdvisoryContact registers an advisory-group contact (the
// school's Director).
func (a *App) RegisterAdvisoryContact(ctx context.Context, actor Actor, c governance.RegisterAdvisoryContact) (domain.Result, error) {
	return run(ctx, a, actor, "RegisterAdvisoryContact", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.RegisterAdvisoryContact)
}

// RegisterAuditor registers an outside auditor (the administrator).
func (a *App) RegisterAuditor(ctx context.Context, actor Actor, c governance.RegisterAuditor) (domain.Result, error) {
	return run(ctx, a, actor, "RegisterAuditor", c, none, a.L.Governance.RegisterAuditor)
}

// AmendPersonDetails amends a person's details (themselves; their
// Director for them, with a reason).
func (a *App) AmendPersonDetails(ctx context.Context, actor Actor, c governance.AmendPersonDetails) (domain.Result, error) {
	return run(ctx, a, actor, "AmendPersonDetails", c, func(l *loader) (Target, error) { return l.person("person_id", c.PersonID) }, a.L.Governance.AmendPersonDetails)
}

// LeaveSchool records that a person left the school (its Director).
func (a *App) LeaveSchool(ctx context.Context, actor Actor, c governance.LeaveSchool) (domain.Result, error) {
	return run(ctx, a, actor, "LeaveSchool", c, func(l *loader) (Target, error) { return l.person("person_id", c.PersonID) }, a.L.Governance.LeaveSchool)
}

// RecordStrengthsAssessment records a strengths assessment (the person;
// their Director for them, with a reason).
func (a *App) RecordStrengthsAssessment(ctx context.Context, actor Actor, c governance.RecordStrengthsAssessment) (domain.Result, error) {
	return run(ctx, a, actor, "RecordStrengthsAssessment", c, func(l *loader) (Target, error) { return l.person("person_id", c.PersonID) }, a.L.Governance.RecordStrengthsAssessment)
}

// JoinDesignCommunity joins a design community (the person; their Director
// for them, with a reason).
func (a *App) JoinDesignCommunity(ctx context.Context, actor Actor, c governance.JoinDesignCommunity) (domain.Result, error) {
	return run(ctx, a, actor, "JoinDesignCommunity", c, func(l *loader) (Target, error) { return l.person("person_id", c.PersonID) }, a.L.Governance.JoinDesignCommunity)
}

// JoinLearningPathway joins a learning pathway (the person; their Director
// for them, with a reason).
func (a *App) JoinLearningPathway(ctx context.Context, actor Actor, c governance.JoinLearningPathway) (domain.Result, error) {
	return run(ctx, a, actor, "JoinLearningPathway", c, func(l *loader) (Target, error) { return l.person("person_id", c.PersonID) }, a.L.Governance.JoinLearningPathway)
}

// FormTriad forms a peer coaching triad (the school's Director).
func (a *App) FormTriad(ctx context.Context, actor Actor, c governance.FormTriad) (domain.Result, error) {
	return run(ctx, a, actor, "FormTriad", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.FormTriad)
}

// ErasePersonalData records a person's erasure and then destroys their key,
// so their name and contact details become unreadable everywhere (the
// Director of their school, or the administrator). A repeated request
// records nothing and destroys the key if a crash left it.
func (a *App) ErasePersonalData(ctx context.Context, actor Actor, c governance.ErasePersonalData) (domain.Result, error) {
	return run(ctx, a, actor, "ErasePersonalData", c, func(l *loader) (Target, error) { return l.person("person_id", c.PersonID) },
		func(ctx context.Context, m domain.Meta, c governance.ErasePersonalData) (domain.Result, error) {
			res, err := a.L.Governance.ErasePersonalData(ctx, m, c)
			if err != nil {
				return res, err
			}
			// Recorded first, destroyed second: a crash in between leaves
			// an erasure a retry completes, never a destroyed key with no
			// record.
			if err := a.L.Erase(c.PersonID.String()); err != nil {
				return res, fmt.Errorf("erase the key of %s: %w", c.PersonID, err)
			}
			return res, nil
		})
}

// ISLCs.

// EstablishCommunity establishes a segment's ISLC (the school's Director).
func (a *App) EstablishCommunity(ctx context.Context, actor Actor, c governance.EstablishCommunity) (domain.Result, error) {
	return run(ctx, a, actor, "EstablishCommunity", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.EstablishCommunity)
}

// memberTarget is an ISLC command about a person: the ISLC, with the
// person as subject.
func memberTarget(community, person uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) {
		t, err := l.community("community_id", community)
		t.Subject = person
		return t, err
	}
}

// JoinCommunity joins an ISLC (the staff member; the Director for them,
// with a reason).
func (a *App) JoinCommunity(ctx context.Context, actor Actor, c governance.JoinCommunity) (domain.Result, error) {
	return run(ctx, a, actor, "JoinCommunity", c, memberTarget(c.CommunityID, c.PersonID), a.L.Governance.JoinCommunity)
}

// LeaveCommunity leaves an ISLC (the member; the Director for them, with a
// reason).
func (a *App) LeaveCommunity(ctx context.Context, actor Actor, c governance.LeaveCommunity) (domain.Result, error) {
	return run(ctx, a, actor, "LeaveCommunity", c, memberTarget(c.CommunityID, c.PersonID), a.L.Governance.LeaveCommunity)
}

func communityOf(id uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) { return l.community("community_id", id) }
}

// ConfirmRoster confirms an ISLC's roster (its chair, or the Director).
func (a *App) ConfirmRoster(ctx context.Context, actor Actor, c governance.ConfirmRoster) (domain.Result, error) {
	return run(ctx, a, actor, "ConfirmRoster", c, communityOf(c.CommunityID), a.L.Governance.ConfirmRoster)
}

// LinkGovernor links a governor to an ISLC (the Director).
func (a *App) LinkGovernor(ctx context.Context, actor Actor, c governance.LinkGovernor) (domain.Result, error) {
	return run(ctx, a, actor, "LinkGovernor", c, communityOf(c.CommunityID), a.L.Governance.LinkGovernor)
}

// LinkAdvisoryGroup links an advisory group to an ISLC (its chair, or the
// Director).
func (a *App) LinkAdvisoryGroup(ctx context.Context, actor Actor, c governance.LinkAdvisoryGroup) (domain.Result, error) {
	return run(ctx, a, actor, "LinkAdvisoryGroup", c, communityOf(c.CommunityID), a.L.Governance.LinkAdvisoryGroup)
}

// RecordChairReward records a chair's reward (the Director).
func (a *App) RecordChairReward(ctx context.Context, actor Actor, c governance.RecordChairReward) (domain.Result, error) {
	return run(ctx, a, actor, "RecordChairReward", c, communityOf(c.CommunityID), a.L.Governance.RecordChairReward)
}

// OpenElection opens an election of an ISLC's chair (its chair, the
// Director, or a member while the ISLC has no chair).
func (a *App) OpenElection(ctx context.Context, actor Actor, c governance.OpenElection) (domain.Result, error) {
	return run(ctx, a, actor, "OpenElection", c, communityOf(c.CommunityID), a.L.Governance.OpenElection)
}

// CallConfidenceVote calls a vote of confidence in the chair, in the
// caller's name (the domain: only members).
func (a *App) CallConfidenceVote(ctx context.Context, actor Actor, c governance.CallConfidenceVote) (domain.Result, error) {
	return run(ctx, a, actor, "CallConfidenceVote", c, communityOf(c.CommunityID), a.L.Governance.CallConfidenceVote)
}

// Nominate nominates a member for chair, in the nominator's name (the
// domain: only members nominate members).
func (a *App) Nominate(ctx context.Context, actor Actor, c governance.Nominate) (domain.Result, error) {
	return run(ctx, a, actor, "Nominate", c, communityOf(c.CommunityID), a.L.Governance.Nominate)
}

// AcceptNomination accepts the actor's own nomination.
func (a *App) AcceptNomination(ctx context.Context, actor Actor, c governance.AnswerNomination) (domain.Result, error) {
	return run(ctx, a, actor, "AcceptNomination", c, communityOf(c.CommunityID), a.L.Governance.AcceptNomination)
}

// DeclineNomination declines the actor's own nomination.
func (a *App) DeclineNomination(ctx context.Context, actor Actor, c governance.AnswerNomination) (domain.Result, error) {
	return run(ctx, a, actor, "DeclineNomination", c, communityOf(c.CommunityID), a.L.Governance.DeclineNomination)
}

// OpenVoting opens voting in an election (the chair, the Director, or a
// member while the ISLC has no chair).
func (a *App) OpenVoting(ctx context.Context, actor Actor, c governance.OpenVoting) (domain.Result, error) {
	return run(ctx, a, actor, "OpenVoting", c, communityOf(c.CommunityID), a.L.Governance.OpenVoting)
}

// CastVote casts the actor's own vote; no one votes for another.
func (a *App) CastVote(ctx context.Context, actor Actor, c governance.CastVote) (domain.Result, error) {
	return run(ctx, a, actor, "CastVote", c, communityOf(c.CommunityID), a.L.Governance.CastVote)
}

// CloseElection closes an election (the chair, the Director, or a member
// while the ISLC has no chair).
func (a *App) CloseElection(ctx context.Context, actor Actor, c governance.CloseElection) (domain.Result, error) {
	return run(ctx, a, actor, "CloseElection", c, communityOf(c.CommunityID), a.L.Governance.CloseElection)
}

// CastConfidenceVote casts the actor's own vote of confidence.
func (a *App) CastConfidenceVote(ctx context.Context, actor Actor, c governance.CastConfidenceVote) (domain.Result, error) {
	return run(ctx, a, actor, "CastConfidenceVote", c, communityOf(c.CommunityID), a.L.Governance.CastConfidenceVote)
}

// CloseConfidenceVote closes a vote of confidence (a member, or the
// Director).
func (a *App) CloseConfidenceVote(ctx context.Context, actor Actor, c governance.CloseConfidenceVote) (domain.Result, error) {
	return run(ctx, a, actor, "CloseConfidenceVote", c, communityOf(c.CommunityID), a.L.Governance.CloseConfidenceVote)
}

// Proposals.

// DraftProposal drafts a proposal in the drafter's name (the domain: only
// members of the ISLC).
func (a *App) DraftProposal(ctx context.Context, actor Actor, c governance.DraftProposal) (domain.Result, error) {
	return run(ctx, a, actor, "DraftProposal", c, communityOf(c.CommunityID), a.L.Governance.DraftProposal)
}

func proposalOf(id uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) { return l.proposal(id) }
}

// ReviseProposal revises a proposal in the reviser's name.
func (a *App) ReviseProposal(ctx context.Context, actor Actor, c governance.ReviseProposal) (domain.Result, error) {
	return run(ctx, a, actor, "ReviseProposal", c, proposalOf(c.ProposalID), a.L.Governance.ReviseProposal)
}

// SubmitProposal submits a proposal to the Leadership Team (the domain:
// only the ISLC's chair in office).
func (a *App) SubmitProposal(ctx context.Context, actor Actor, c governance.SubmitProposal) (domain.Result, error) {
	return run(ctx, a, actor, "SubmitProposal", c, proposalOf(c.ProposalID), a.L.Governance.SubmitProposal)
}

// GiveAdvice records an advisory group's advice (a contact of the group,
// or staff recording it for the group).
func (a *App) GiveAdvice(ctx context.Context, actor Actor, c governance.GiveAdvice) (domain.Result, error) {
	return run(ctx, a, actor, "GiveAdvice", c, proposalOf(c.ProposalID), a.L.Governance.GiveAdvice)
}

// CastTeamVote casts the actor's vote in the Leadership Team's open round
// on a proposal (the domain: only the Team in office votes).
func (a *App) CastTeamVote(ctx context.Context, actor Actor, c governance.CastTeamVote) (domain.Result, error) {
	return run(ctx, a, actor, "CastTeamVote", c, proposalOf(c.ProposalID), a.L.Governance.CastTeamVote)
}

// SignOffResolution closes the Team's round and signs its outcome off
// (the Director).
func (a *App) SignOffResolution(ctx context.Context, actor Actor, c governance.ResolveProposal) (domain.Result, error) {
	return run(ctx, a, actor, "SignOffResolution", c, proposalOf(c.ProposalID), a.L.Governance.SignOffResolution)
}

// ReferBackResolution closes the Team's round and refers it back for a new
// round (the Director).
func (a *App) ReferBackResolution(ctx context.Context, actor Actor, c governance.ResolveProposal) (domain.Result, error) {
	return run(ctx, a, actor, "ReferBackResolution", c, proposalOf(c.ProposalID), a.L.Governance.ReferBackResolution)
}

// SetTeamQuorum sets the quorum of the school's Leadership Team (the
// Director).
func (a *App) SetTeamQuorum(ctx context.Context, actor Actor, c governance.SetTeamQuorum) (domain.Result, error) {
	return run(ctx, a, actor, "SetTeamQuorum", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.SetTeamQuorum)
}

// SetTieBreak sets how many run-offs settle a tie before the Director's
// casting vote (the Director).
func (a *App) SetTieBreak(ctx context.Context, actor Actor, c governance.SetTieBreak) (domain.Result, error) {
	return run(ctx, a, actor, "SetTieBreak", c, func(l *loader) (Target, error) { return l.school("school_id", c.SchoolID) }, a.L.Governance.SetTieBreak)
}

// CastCastingVote settles a tied election by the Director's casting vote.
func (a *App) CastCastingVote(ctx context.Context, actor Actor, c governance.CastCastingVote) (domain.Result, error) {
	return run(ctx, a, actor, "CastCastingVote", c, communityOf(c.CommunityID), a.L.Governance.CastCastingVote)
}

// RaiseChallenge raises a governor's challenge to the Director on a
// record of their school.
func (a *App) RaiseChallenge(ctx context.Context, actor Actor, c governance.RaiseChallenge) (domain.Result, error) {
	return run(ctx, a, actor, "RaiseChallenge", c, func(l *loader) (Target, error) { return l.own(actor) }, a.L.Governance.RaiseChallenge)
}

// AnswerChallenge answers a governor's challenge (the Director).
func (a *App) AnswerChallenge(ctx context.Context, actor Actor, c governance.AnswerChallenge) (domain.Result, error) {
	return run(ctx, a, actor, "AnswerChallenge", c, func(l *loader) (Target, error) { return l.challenge(c.ChallengeID) }, a.L.Governance.AnswerChallenge)
}

// CorrectEvent records a correction of event id of stream: the Director of
// the record's school, or the lead of the record's partnership. build makes
// the correction from the original event, once the actor may correct it
// (so that nothing about the event is revealed to anyone else).
func (a *App) CorrectEvent(ctx context.Context, actor Actor, stream string, id uuid.UUID, build func(orig domain.Message) (domain.Correction, error)) (domain.Result, error) {
	_, _, isGov := governance.ParseStream(stream)
	return run(ctx, a, actor, "CorrectEvent", id, func(l *loader) (Target, error) {
		t, ok, err := a.StreamTarget(ctx, stream)
		if err != nil {
			return t, err
		}
		if !ok {
			return t, notFound("stream", "there is no record %s to correct", stream)
		}
		if isGov {
			t.Partnership = uuid.Nil // a school's own record: its Director corrects it
		}
		return t, nil
	}, func(ctx context.Context, m domain.Meta, id uuid.UUID) (domain.Result, error) {
		orig, err := a.findEvent(ctx, stream, id)
		if err != nil {
			return domain.Result{}, err
		}
		c, err := build(orig)
		if err != nil {
			return domain.Result{}, err
		}
		c.EventID = id
		if isGov {
			return a.L.Governance.CorrectEvent(ctx, m, stream, c)
		}
		return a.L.Partnership.CorrectEvent(ctx, m, stream, c)
	})
}

// findEvent reads event id of stream back, decoded.
func (a *App) findEvent(ctx context.Context, stream string, id uuid.UUID) (domain.Message, error) {
	recs, err := a.L.Handler.Log.ReadStream(ctx, stream)
	if err != nil {
		return domain.Message{}, fmt.Errorf("read %s: %w", stream, err)
	}
	for _, rec := range recs {
		if rec.ID == id {
			m, err := a.L.Codec.Decode(rec)
			if err != nil {
				return domain.Message{}, fmt.Errorf("decode event %s: %w", id, err)
			}
			return m, nil
		}
	}
	return domain.Message{}, domain.RejectField(domain.ErrNotFound, "event_id", "%s has no event %s", stream, id)
}

// Partnerships.

// FormPartnership forms a partnership (the administrator).
func (a *App) FormPartnership(ctx context.Context, actor Actor, c partnership.FormPartnership) (domain.Result, error) {
	return run(ctx, a, actor, "FormPartnership", c, none, a.L.Partnership.FormPartnership)
}

func partnershipOf(id uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) {
		t, _, err := l.partnership("partnership_id", id)
		return t, err
	}
}

// JoinPartnership adds a school to a partnership (its lead, or the
// joining school's Director).
func (a *App) JoinPartnership(ctx context.Context, actor Actor, c partnership.JoinPartnership) (domain.Result, error) {
	return run(ctx, a, actor, "JoinPartnership", c, func(l *loader) (Target, error) { return l.inPartnership(c.PartnershipID, c.SchoolID) },
		a.L.Partnership.JoinPartnership)
}

// LeavePartnership records a school leaving (the lead, or the school's
// Director).
func (a *App) LeavePartnership(ctx context.Context, actor Actor, c partnership.LeavePartnership) (domain.Result, error) {
	return run(ctx, a, actor, "LeavePartnership", c, func(l *loader) (Target, error) { return l.inPartnership(c.PartnershipID, c.SchoolID) },
		a.L.Partnership.LeavePartnership)
}

// AppointPartnershipLead appoints the lead (the administrator, or the lead
// handing over).
func (a *App) AppointPartnershipLead(ctx context.Context, actor Actor, c partnership.AppointPartnershipLead) (domain.Result, error) {
	return run(ctx, a, actor, "AppointPartnershipLead", c, partnershipOf(c.PartnershipID), a.L.Partnership.AppointPartnershipLead)
}

// AppointAuditor appoints an auditor to a partnership (the administrator
// or the lead).
func (a *App) AppointAuditor(ctx context.Context, actor Actor, c partnership.AppointAuditor) (domain.Result, error) {
	return run(ctx, a, actor, "AppointAuditor", c, partnershipOf(c.PartnershipID), a.L.Partnership.AppointAuditor)
}

// EndAuditorAppointment ends an auditor's appointment (the administrator
// or the lead).
func (a *App) EndAuditorAppointment(ctx context.Context, actor Actor, c partnership.EndAuditorAppointment) (domain.Result, error) {
	return run(ctx, a, actor, "EndAuditorAppointment", c, partnershipOf(c.PartnershipID), a.L.Partnership.EndAuditorAppointment)
}

// AgreePriority records a priority the partnership agreed (its lead).
func (a *App) AgreePriority(ctx context.Context, actor Actor, c partnership.AgreePriority) (domain.Result, error) {
	return run(ctx, a, actor, "AgreePriority", c, partnershipOf(c.PartnershipID), a.L.Partnership.AgreePriority)
}

// RecordTransactionCost records a school's time and money spent on the
// partnership (its staff, or the lead).
func (a *App) RecordTransactionCost(ctx context.Context, actor Actor, c partnership.RecordTransactionCost) (domain.Result, error) {
	return run(ctx, a, actor, "RecordTransactionCost", c, func(l *loader) (Target, error) { return l.inPartnership(c.PartnershipID, c.SchoolID) },
		a.L.Partnership.RecordTransactionCost)
}

// RecogniseContribution honours a contribution (the lead, or a member
// school's Director).
func (a *App) RecogniseContribution(ctx context.Context, actor Actor, c partnership.RecogniseContribution) (domain.Result, error) {
	return run(ctx, a, actor, "RecogniseContribution", c, partnershipOf(c.PartnershipID), a.L.Partnership.RecogniseContribution)
}

// RateProgress rates a school's progress in an area (its staff, or the
// lead).
func (a *App) RateProgress(ctx context.Context, actor Actor, c partnership.RateProgress) (domain.Result, error) {
	return run(ctx, a, actor, "RateProgress", c, func(l *loader) (Target, error) { return l.inPartnership(c.PartnershipID, c.SchoolID) },
		a.L.Partnership.RateProgress)
}

// Resources and loans.

// RegisterResource registers a shared resource of a school (its staff).
func (a *App) RegisterResource(ctx context.Context, actor Actor, c partnership.RegisterResource) (domain.Result, error) {
	return run(ctx, a, actor, "RegisterResource", c, func(l *loader) (Target, error) { return l.inPartnership(c.PartnershipID, c.OwnerSchoolID) },
		a.L.Partnership.RegisterResource)
}

func resourceOf(id uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) {
		t, _, err := l.resource(id)
		return t, err
	}
}

// OfferResource offers a resource to partners (the owning school's staff).
func (a *App) OfferResource(ctx context.Context, actor Actor, c partnership.OfferResource) (domain.Result, error) {
	return run(ctx, a, actor, "OfferResource", c, resourceOf(c.ResourceID), a.L.Partnership.OfferResource)
}

// WithdrawResourceOffer withdraws a resource's offer (the owning school's
// staff).
func (a *App) WithdrawResourceOffer(ctx context.Context, actor Actor, c partnership.WithdrawResourceOffer) (domain.Result, error) {
	return run(ctx, a, actor, "WithdrawResourceOffer", c, resourceOf(c.ResourceID), a.L.Partnership.WithdrawResourceOffer)
}

// RequestLoan requests a loan of a resource for the borrowing school (its
// staff).
func (a *App) RequestLoan(ctx context.Context, actor Actor, c partnership.RequestLoan) (domain.Result, error) {
	return run(ctx, a, actor, "RequestLoan", c, func(l *loader) (Target, error) {
		t, _, err := l.resource(c.ResourceID)
		if err != nil {
			return t, err
		}
		t.School, t.Parties = c.BorrowerSchoolID, []uuid.UUID{c.BorrowerSchoolID}
		return t, nil
	}, a.L.Partnership.RequestLoan)
}

func loanOf(resource, loan uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) { return l.loan(resource, loan) }
}

// ApproveLoan approves a loan (the owning school's staff).
func (a *App) ApproveLoan(ctx context.Context, actor Actor, c partnership.ApproveLoan) (domain.Result, error) {
	return run(ctx, a, actor, "ApproveLoan", c, loanOf(c.ResourceID, c.LoanID), a.L.Partnership.ApproveLoan)
}

// DeclineLoan declines a loan (the owning school's staff).
func (a *App) DeclineLoan(ctx context.Context, actor Actor, c partnership.DeclineLoan) (domain.Result, error) {
	return run(ctx, a, actor, "DeclineLoan", c, loanOf(c.ResourceID, c.LoanID), a.L.Partnership.DeclineLoan)
}

// CancelLoan cancels a loan (staff of the owning or borrowing school).
func (a *App) CancelLoan(ctx context.Context, actor Actor, c partnership.CancelLoan) (domain.Result, error) {
	return run(ctx, a, actor, "CancelLoan", c, loanOf(c.ResourceID, c.LoanID), a.L.Partnership.CancelLoan)
}

// CollectLoan records a loan collected (staff of either school).
func (a *App) CollectLoan(ctx context.Context, actor Actor, c partnership.CollectLoan) (domain.Result, error) {
	return run(ctx, a, actor, "CollectLoan", c, loanOf(c.ResourceID, c.LoanID), a.L.Partnership.CollectLoan)
}

// ReturnLoan records a loan returned and its condition (staff of either
// school).
func (a *App) ReturnLoan(ctx context.Context, actor Actor, c partnership.ReturnLoan) (domain.Result, error) {
	return run(ctx, a, actor, "ReturnLoan", c, loanOf(c.ResourceID, c.LoanID), a.L.Partnership.ReturnLoan)
}

// Secondments.

// ArrangeSecondment arranges a secondment (the Director of the lending or
// receiving school, or the lead).
func (a *App) ArrangeSecondment(ctx context.Context, actor Actor, c partnership.ArrangeSecondment) (domain.Result, error) {
	return run(ctx, a, actor, "ArrangeSecondment", c, func(l *loader) (Target, error) {
		t, _, err := l.partnership("partnership_id", c.PartnershipID)
		t.Parties = []uuid.UUID{c.LendingSchoolID, c.ReceivingSchoolID}
		return t, err
	}, a.L.Partnership.ArrangeSecondment)
}

// CancelSecondment cancels a secondment (a party school's Director, or the
// lead).
func (a *App) CancelSecondment(ctx context.Context, actor Actor, c partnership.CancelSecondment) (domain.Result, error) {
	return run(ctx, a, actor, "CancelSecondment", c, func(l *loader) (Target, error) { return l.secondment(c.TeacherID, c.SecondmentID) },
		a.L.Partnership.CancelSecondment)
}

// EndSecondmentEarly ends a secondment early (a party school's Director, or
// the lead).
func (a *App) EndSecondmentEarly(ctx context.Context, actor Actor, c partnership.EndSecondmentEarly) (domain.Result, error) {
	return run(ctx, a, actor, "EndSecondmentEarly", c, func(l *loader) (Target, error) { return l.secondment(c.TeacherID, c.SecondmentID) },
		a.L.Partnership.EndSecondmentEarly)
}

// CPD.

// OrganiseCPD organises a CPD event for the partnership (the organising
// school's staff, or the lead).
func (a *App) OrganiseCPD(ctx context.Context, actor Actor, c partnership.OrganiseCPD) (domain.Result, error) {
	return run(ctx, a, actor, "OrganiseCPD", c, func(l *loader) (Target, error) { return l.inPartnership(c.PartnershipID, c.OrganiserSchoolID) },
		a.L.Partnership.OrganiseCPD)
}

// BookCPDPlaces books places for a school (its staff).
func (a *App) BookCPDPlaces(ctx context.Context, actor Actor, c partnership.BookCPDPlaces) (domain.Result, error) {
	return run(ctx, a, actor, "BookCPDPlaces", c, func(l *loader) (Target, error) {
		t, _, err := l.cpd(c.CPDID)
		t.School, t.Parties = c.SchoolID, []uuid.UUID{c.SchoolID}
		return t, err
	}, a.L.Partnership.BookCPDPlaces)
}

// CancelCPDBooking cancels a booking (the booking school's staff, or the
// lead).
func (a *App) CancelCPDBooking(ctx context.Context, actor Actor, c partnership.CancelCPDBooking) (domain.Result, error) {
	return run(ctx, a, actor, "CancelCPDBooking", c, func(l *loader) (Target, error) { return l.booking(c.CPDID, c.BookingID) },
		a.L.Partnership.CancelCPDBooking)
}

// RecordCPDAttendance records attendance (staff of the organising or
// booking school, or the lead).
func (a *App) RecordCPDAttendance(ctx context.Context, actor Actor, c partnership.RecordCPDAttendance) (domain.Result, error) {
	return run(ctx, a, actor, "RecordCPDAttendance", c, func(l *loader) (Target, error) { return l.booking(c.CPDID, c.BookingID) },
		a.L.Partnership.RecordCPDAttendance)
}

// Peer reviews.

// SchedulePeerReview schedules a peer review (the lead, or a member
// school's Director).
func (a *App) SchedulePeerReview(ctx context.Context, actor Actor, c partnership.SchedulePeerReview) (domain.Result, error) {
	return run(ctx, a, actor, "SchedulePeerReview", c, partnershipOf(c.PartnershipID), a.L.Partnership.SchedulePeerReview)
}

func reviewOf(id uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) { return l.review(id) }
}

// RecordReviewFinding records a finding (the domain: only the review's
// reviewers).
func (a *App) RecordReviewFinding(ctx context.Context, actor Actor, c partnership.RecordReviewFinding) (domain.Result, error) {
	return run(ctx, a, actor, "RecordReviewFinding", c, reviewOf(c.ReviewID), a.L.Partnership.RecordReviewFinding)
}

// CompletePeerReview completes a review (the domain: only its reviewers).
func (a *App) CompletePeerReview(ctx context.Context, actor Actor, c partnership.CompletePeerReview) (domain.Result, error) {
	return run(ctx, a, actor, "CompletePeerReview", c, reviewOf(c.ReviewID), a.L.Partnership.CompletePeerReview)
}

// AgreeFollowUpAction agrees a follow-up action (the reviewed school's
// staff, or the lead).
func (a *App) AgreeFollowUpAction(ctx context.Context, actor Actor, c partnership.AgreeFollowUpAction) (domain.Result, error) {
	return run(ctx, a, actor, "AgreeFollowUpAction", c, reviewOf(c.ReviewID), a.L.Partnership.AgreeFollowUpAction)
}

// CompleteFollowUpAction completes a follow-up action (the reviewed
// school's staff, or the lead).
func (a *App) CompleteFollowUpAction(ctx context.Context, actor Actor, c partnership.CompleteFollowUpAction) (domain.Result, error) {
	return run(ctx, a, actor, "CompleteFollowUpAction", c, reviewOf(c.ReviewID), a.L.Partnership.CompleteFollowUpAction)
}

// Commitments.

// MakeCommitment makes a school's (or one of its ISLCs') commitment to a
// priority (that school's staff, or the lead).
func (a *App) MakeCommitment(ctx context.Context, actor Actor, c partnership.MakeCommitment) (domain.Result, error) {
	return run(ctx, a, actor, "MakeCommitment", c, func(l *loader) (Target, error) {
		school := c.PartyID
		if c.PartyKind == partnership.PartyCommunity {
			ct, err := l.community("party_id", c.PartyID)
			if err != nil {
				return ct, err
			}
			school = ct.School
		}
		return l.inPartnership(c.PartnershipID, school)
	}, a.L.Partnership.MakeCommitment)
}

func commitmentOf(id uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) { return l.commitment(id) }
}

// UpdateCommitmentProgress records progress (the school's staff, or the
// lead).
func (a *App) UpdateCommitmentProgress(ctx context.Context, actor Actor, c partnership.UpdateCommitmentProgress) (domain.Result, error) {
	return run(ctx, a, actor, "UpdateCommitmentProgress", c, commitmentOf(c.CommitmentID), a.L.Partnership.UpdateCommitmentProgress)
}

// MarkCommitmentAchieved closes a commitment as achieved.
func (a *App) MarkCommitmentAchieved(ctx context.Context, actor Actor, c partnership.CloseCommitment) (domain.Result, error) {
	return run(ctx, a, actor, "MarkCommitmentAchieved", c, commitmentOf(c.CommitmentID), a.L.Partnership.MarkCommitmentAchieved)
}

// MarkCommitmentMissed closes a commitment as missed.
func (a *App) MarkCommitmentMissed(ctx context.Context, actor Actor, c partnership.CloseCommitment) (domain.Result, error) {
	return run(ctx, a, actor, "MarkCommitmentMissed", c, commitmentOf(c.CommitmentID), a.L.Partnership.MarkCommitmentMissed)
}

// Improvement timeline.

// CreateTimeline creates an improvement timeline, the partnership's or one
// school's (that school's Director, or the lead).
func (a *App) CreateTimeline(ctx context.Context, actor Actor, c partnership.CreateTimeline) (domain.Result, error) {
	return run(ctx, a, actor, "CreateTimeline", c, func(l *loader) (Target, error) { return l.inPartnership(c.PartnershipID, c.SchoolID) },
		a.L.Partnership.CreateTimeline)
}

func timelineOf(id uuid.UUID) func(l *loader) (Target, error) {
	return func(l *loader) (Target, error) { return l.timeline(id) }
}

// AddTimelineItem adds an item (the school's Director, or the lead).
func (a *App) AddTimelineItem(ctx context.Context, actor Actor, c partnership.AddTimelineItem) (domain.Result, error) {
	return run(ctx, a, actor, "AddTimelineItem", c, timelineOf(c.TimelineID), a.L.Partnership.AddTimelineItem)
}

// RescheduleTimelineItem reschedules an item (the school's Director, or the
// lead).
func (a *App) RescheduleTimelineItem(ctx context.Context, actor Actor, c partnership.RescheduleTimelineItem) (domain.Result, error) {
	return run(ctx, a, actor, "RescheduleTimelineItem", c, timelineOf(c.TimelineID), a.L.Partnership.RescheduleTimelineItem)
}

// MarkTimelineItemDone marks an item done (the school's staff, or the
// lead).
func (a *App) MarkTimelineItemDone(ctx context.Context, actor Actor, c partnership.MarkTimelineItemDone) (domain.Result, error) {
	return run(ctx, a, actor, "MarkTimelineItemDone", c, timelineOf(c.TimelineID), a.L.Partnership.MarkTimelineItemDone)
}
