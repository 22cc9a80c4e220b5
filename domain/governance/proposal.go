package governance

import (
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Proposal statuses.
const (
	StatusDraft     = "draft"
	StatusSubmitted = "submitted"
	StatusReturned  = "returned"
	StatusApproved  = "approved"
)

// Advice stances.
const (
	StanceSupport  = "support"
	StanceConcerns = "concerns"
	StanceNeutral  = "neutral"
)

// ProposalText is the full text of one version of a proposal.
type ProposalText struct {
	Title          string `json:"title" doc:"The proposal's title."`
	Body           string `json:"body" doc:"The proposal in full."`
	Costs          *Money `json:"costs,omitempty" doc:"What it would cost, if anything."`
	ExpectedImpact string `json:"expected_impact" doc:"The impact the ISLC expects."`
}

func (t ProposalText) validate() error {
	if err := firstErr(requiredText("title", t.Title, "a title"), requiredText("body", t.Body, "the text of the proposal"),
		requiredText("expected_impact", t.ExpectedImpact, "the impact the ISLC expects")); err != nil {
		return err
	}
	if t.Costs != nil {
		return t.Costs.validate("costs")
	}
	return nil
}

// Alignment is the Leadership Team's check of a proposal against the
// school's mission, vision and values.
type Alignment struct {
	Aligned bool   `json:"aligned" doc:"Whether the proposal is in line with the mission, vision and values."`
	Note    string `json:"note" doc:"The Team's note on the alignment."`
}

// ProposalDrafted records a proposal's first version.
type ProposalDrafted struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC proposing it."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	SegmentID   uuid.UUID `json:"segment_id" doc:"Id of the segment it concerns."`
	Year        string    `json:"year" doc:"Academic year."`
	Version     int       `json:"version" doc:"Version number: 1."`
	ProposalText
	DraftedBy uuid.UUID `json:"drafted_by" doc:"The member who drafted it."`
}

// ProposalRevised records a new version of a proposal, in full; earlier
// versions are kept.
type ProposalRevised struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year        string    `json:"year" doc:"Academic year."`
	Version     int       `json:"version" doc:"The new version number."`
	ProposalText
	RevisedBy uuid.UUID `json:"revised_by" doc:"The member who revised it."`
}

// ProposalSubmitted records that the chair brought a proposal to the
// Leadership Team.
type ProposalSubmitted struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year        string    `json:"year" doc:"Academic year."`
	Version     int       `json:"version" doc:"The version submitted."`
	SubmittedBy uuid.UUID `json:"submitted_by" doc:"The chair in office who submitted it."`
}

// AdviceGiven records a student or parent group's advice on a proposal.
// Advice is not a vote.
type AdviceGiven struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	GroupID     uuid.UUID `json:"group_id" doc:"Id of the advisory group."`
	GroupName   string    `json:"group_name" doc:"The group's name, e.g. Parent forum."`
	Version     int       `json:"version" doc:"The version advised on."`
	Stance      string    `json:"stance" doc:"support, concerns or neutral."`
	Text        string    `json:"text" doc:"The advice."`
	GivenBy     uuid.UUID `json:"given_by" doc:"The group's contact who recorded it (all zeros if not given)."`
}

// ProposalApproved records the Leadership Team's approval.
type ProposalApproved struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year        string    `json:"year" doc:"Academic year."`
	Version     int       `json:"version" doc:"The version approved."`
	DecidedBy   uuid.UUID `json:"decided_by" doc:"The Director who signed off the Team's decision (in events recorded before Team votes: the Team member who recorded it)."`
	Reason      string    `json:"reason" doc:"Why the Team approved it, in the Director's words; each member's reasons are in their TeamVoteCast."`
	Alignment   Alignment `json:"alignment" doc:"The Team's check against the mission, vision and values: aligned when most members voting found it so."`
}

// ProposalReturned records that the Leadership Team sent a proposal back to
// its ISLC for revision.
type ProposalReturned struct {
	ProposalID  uuid.UUID `json:"proposal_id" doc:"Id of the proposal."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year        string    `json:"year" doc:"Academic year."`
	Version     int       `json:"version" doc:"The version sent back."`
	DecidedBy   uuid.UUID `json:"decided_by" doc:"The Director who signed off the Team's decision (in events recorded before Team votes: the Team member who recorded it)."`
	Reason      string    `json:"reason" doc:"Why it was sent back: what to revise, in the Director's words; each member's reasons are in their TeamVoteCast."`
	Alignment   Alignment `json:"alignment" doc:"The Team's check against the mission, vision and values: aligned when most members voting found it so."`
}

// EventType implements domain.Event.
func (ProposalDrafted) EventType() string { return "ProposalDrafted" }

// EventType implements domain.Event.
func (ProposalRevised) EventType() string { return "ProposalRevised" }

// EventType implements domain.Event.
func (ProposalSubmitted) EventType() string { return "ProposalSubmitted" }

// EventType implements domain.Event.
func (AdviceGiven) EventType() string { return "AdviceGiven" }

// EventType implements domain.Event.
func (ProposalApproved) EventType() string { return "ProposalApproved" }

// EventType implements domain.Event.
func (ProposalReturned) EventType() string { return "ProposalReturned" }

func init() {
	reg := func(spec domain.Spec) domain.Spec { spec.Schema, spec.Group = 1, Group; return spec }
	domain.MustRegister[ProposalDrafted](reg(domain.Spec{Type: "ProposalDrafted",
		Doc: "An ISLC drafted a proposal for its segment: version 1, in full.", EmittedBy: []string{"DraftProposal"}}))
	domain.MustRegister[ProposalRevised](reg(domain.Spec{Type: "ProposalRevised",
		Doc: "An ISLC revised a proposal as a new version, in full; every version is kept.", EmittedBy: []string{"ReviseProposal"}}))
	domain.MustRegister[ProposalSubmitted](reg(domain.Spec{Type: "ProposalSubmitted",
		Doc: "The ISLC's chair submitted a version of the proposal to the Leadership Team; TeamResolutionOpened follows in the same step.", EmittedBy: []string{"SubmitProposal"}}))
	domain.MustRegister[AdviceGiven](reg(domain.Spec{Type: "AdviceGiven",
		Doc: "A student or parent advisory group linked to the ISLC gave advice on a proposal (advice, not a vote).", EmittedBy: []string{"GiveAdvice"}}))
	// A decision is the outcome of the Team's votes: it cannot be
	// corrected.
	decision := func(spec domain.Spec) domain.Spec { spec = reg(spec); spec.Uncorrectable = true; return spec }
	domain.MustRegister[ProposalApproved](decision(domain.Spec{Type: "ProposalApproved",
		Doc: "The Leadership Team approved a proposal, as the Director signed off: why, and the Team's check of alignment with the mission, vision and values. Follows ResolutionSignedOff in the same step.", EmittedBy: []string{"SignOffResolution"}}))
	domain.MustRegister[ProposalReturned](decision(domain.Spec{Type: "ProposalReturned",
		Doc: "The Leadership Team sent a proposal back to its ISLC for revision, as the Director signed off, saying why, with its alignment check. Follows ResolutionSignedOff in the same step.", EmittedBy: []string{"SignOffResolution"}}))
}

// ProposalVersion is one version of a proposal, kept in full.
type ProposalVersion struct {
	Version int
	ProposalText
	By         uuid.UUID
	RecordedAt time.Time
}

// Decision is one decision of the Leadership Team on a proposal.
type Decision struct {
	Outcome   string // StatusApproved or StatusReturned
	Version   int
	DecidedBy uuid.UUID
	Reason    string
	Alignment Alignment
	At        time.Time
}

// Advice is one advisory group's advice on a proposal.
type Advice struct {
	GroupID   uuid.UUID
	GroupName string
	Version   int
	Stance    string
	Text      string
	GivenBy   uuid.UUID
	At        time.Time
}

// Proposal is the aggregate of one proposal: its versions, submissions,
// advice and decisions.
type Proposal struct {
	ID          uuid.UUID
	CommunityID uuid.UUID
	SchoolID    uuid.UUID
	SegmentID   uuid.UUID
	Year        string
	Status      string
	Versions    []ProposalVersion
	// SubmittedVersion is the version last submitted (0 if never).
	SubmittedVersion int
	Decisions        []Decision
	Advice           []Advice
	// Resolutions are the Leadership Team's rounds of votes, in order.
	Resolutions []*Resolution

	correlation uuid.UUID
}

// NewProposal returns an empty Proposal aggregate.
func NewProposal() *Proposal { return &Proposal{} }

// Drafted reports whether the proposal exists.
func (p *Proposal) Drafted() bool { return p.ID != uuid.Nil }

// Current returns the latest version.
func (p *Proposal) Current() ProposalVersion {
	if len(p.Versions) == 0 {
		return ProposalVersion{}
	}
	return p.Versions[len(p.Versions)-1]
}

// RevisedSinceReturn reports whether a version newer than the one last
// sent back exists.
func (p *Proposal) RevisedSinceReturn() bool {
	for i := len(p.Decisions) - 1; i >= 0; i-- {
		if p.Decisions[i].Outcome == StatusReturned {
			return p.Current().Version > p.Decisions[i].Version
		}
	}
	return true
}

// CorrelationID implements domain.Correlated: every event of a proposal
// shares the id of the event that drafted it.
func (p *Proposal) CorrelationID() uuid.UUID { return p.correlation }

// Decided implements domain.Decided: once the Team has decided (approved
// or sent back), corrections are marked changed after decision.
func (p *Proposal) Decided() bool { return len(p.Decisions) > 0 }

// Apply implements domain.Aggregate.
func (p *Proposal) Apply(m domain.Message) {
	if p.correlation == uuid.Nil {
		p.correlation = m.Meta.CorrelationID
		if p.correlation == uuid.Nil {
			p.correlation = m.ID
		}
	}
	switch e := m.Event.(type) {
	case ProposalDrafted:
		p.ID, p.CommunityID, p.SchoolID, p.SegmentID, p.Year, p.Status = e.ProposalID, e.CommunityID, e.SchoolID, e.SegmentID, e.Year, StatusDraft
		p.Versions = append(p.Versions, ProposalVersion{Version: e.Version, ProposalText: e.ProposalText, By: e.DraftedBy, RecordedAt: m.RecordedAt})
	case ProposalRevised:
		p.Versions = append(p.Versions, ProposalVersion{Version: e.Version, ProposalText: e.ProposalText, By: e.RevisedBy, RecordedAt: m.RecordedAt})
	case ProposalSubmitted:
		p.Status, p.SubmittedVersion = StatusSubmitted, e.Version
	case AdviceGiven:
		p.Advice = append(p.Advice, Advice{GroupID: e.GroupID, GroupName: e.GroupName, Version: e.Version, Stance: e.Stance, Text: e.Text, GivenBy: e.GivenBy, At: m.Effective()})
	case ProposalApproved:
		p.Status = StatusApproved
		p.Decisions = append(p.Decisions, Decision{Outcome: StatusApproved, Version: e.Version, DecidedBy: e.DecidedBy, Reason: e.Reason, Alignment: e.Alignment, At: m.Effective()})
	case ProposalReturned:
		p.Status = StatusReturned
		p.Decisions = append(p.Decisions, Decision{Outcome: StatusReturned, Version: e.Version, DecidedBy: e.DecidedBy, Reason: e.Reason, Alignment: e.Alignment, At: m.Effective()})
	default:
		p.applyResolution(m)
	}
}
