package views

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

// ProposalsView is the name of the "proposals" view.
const ProposalsView = "proposals"

func init() { register(func() projections.Projection { return NewProposals() }) }

// Proposals is the "proposals" view: the proposal register, with every
// version in full, submissions, advice, the decision trail and the
// corrections recorded against each proposal.
type Proposals struct {
	Communities map[uuid.UUID]govCommunity `json:"communities"`
	Schools     map[uuid.UUID]string       `json:"schools"`
	P           map[uuid.UUID]*proposalRec `json:"proposals"`
}

type proposalRec struct {
	Community   uuid.UUID            `json:"c"`
	School      uuid.UUID            `json:"s"`
	Segment     uuid.UUID            `json:"g"`
	Year        string               `json:"y"`
	Status      string               `json:"st"`
	Versions    []ProposalVersion    `json:"v"`
	Submissions []submissionRec      `json:"sub,omitempty"`
	Advice      []adviceRec          `json:"adv,omitempty"`
	Decisions   []decisionRec        `json:"dec,omitempty"`
	Corrections []ProposalCorrection `json:"cor,omitempty"`
	Rounds      []roundRec           `json:"rnd,omitempty"`
	Correlation uuid.UUID            `json:"corr"`
	Seq         uint64               `json:"pos"`
}

// roundRec is one round of the Leadership Team's votes.
type roundRec struct {
	Round    int               `json:"r"`
	Version  int               `json:"v"`
	Team     []uuid.UUID       `json:"t"`
	Chair    uuid.UUID         `json:"pc,omitzero"`
	Quorum   governance.Quorum `json:"q"`
	Votes    []teamVoteRec     `json:"votes,omitempty"`
	Status   string            `json:"st"`
	OpenedAt time.Time         `json:"at"`
	// Set when the round closed.
	InOffice []uuid.UUID `json:"in,omitempty"`
	Required int         `json:"req,omitempty"`
	Turnout  int         `json:"n,omitempty"`
	Approve  int         `json:"yes,omitempty"`
	SendBack int         `json:"no,omitempty"`
	Outcome  string      `json:"o,omitempty"`
	Director uuid.UUID   `json:"d,omitzero"`
	Said     string      `json:"dr,omitempty"`
	ClosedAt time.Time   `json:"cat,omitzero"`
}

type teamVoteRec struct {
	Voter   uuid.UUID `json:"by"`
	Vote    string    `json:"v"`
	Reason  string    `json:"r"`
	Aligned bool      `json:"al"`
	Note    string    `json:"n,omitempty"`
	At      time.Time `json:"at"`
	Lapsed  bool      `json:"l,omitempty"`
}

type submissionRec struct {
	Version int       `json:"v"`
	By      uuid.UUID `json:"by"`
	At      time.Time `json:"at"`
}

type adviceRec struct {
	Group     uuid.UUID `json:"g"`
	GroupName string    `json:"n"`
	Version   int       `json:"v"`
	Stance    string    `json:"s"`
	Text      string    `json:"t"`
	By        uuid.UUID `json:"by,omitzero"`
	At        time.Time `json:"at"`
}

type decisionRec struct {
	Outcome string    `json:"o"`
	Version int       `json:"v"`
	By      uuid.UUID `json:"by"`
	Role    string    `json:"role"`
	Reason  string    `json:"r"`
	Aligned bool      `json:"al"`
	Note    string    `json:"n,omitempty"`
	At      time.Time `json:"at"`
	Event   uuid.UUID `json:"e"`
}

// ProposalVersion is one version of a proposal, in full.
type ProposalVersion struct {
	Version        int               `json:"version"`
	Title          string            `json:"title"`
	Body           string            `json:"body"`
	Costs          *governance.Money `json:"costs,omitempty"`
	ExpectedImpact string            `json:"expected_impact"`
	By             uuid.UUID         `json:"by"`
	At             time.Time         `json:"at"`
}

// ProposalCorrection is a correction recorded against one of a
// proposal's events.
type ProposalCorrection struct {
	EventID   uuid.UUID `json:"event_id"`
	EventType string    `json:"event_type"`
	Reason    string    `json:"reason"`
	Retracted bool      `json:"retracted,omitempty"`
	// ChangedAfterDecision is true when the proposal had been decided.
	ChangedAfterDecision bool      `json:"changed_after_decision"`
	At                   time.Time `json:"at"`
	By                   string    `json:"by"`
}

// NewProposals returns an empty "proposals" view.
func NewProposals() *Proposals {
	return &Proposals{Communities: map[uuid.UUID]govCommunity{}, Schools: map[uuid.UUID]string{}, P: map[uuid.UUID]*proposalRec{}}
}

// Name implements projections.Projection.
func (*Proposals) Name() string { return ProposalsView }

// Version implements projections.Projection.
func (*Proposals) Version() int { return 3 }

// Apply implements projections.Projection.
func (v *Proposals) Apply(m domain.Message) error {
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		v.Schools[e.SchoolID] = e.Name
		return nil
	case governance.CommunityEstablished:
		v.Communities[e.CommunityID] = govCommunity{Name: e.Name, School: e.SchoolID, Segment: e.SegmentID}
		return nil
	case governance.ProposalDrafted:
		corr := m.Meta.CorrelationID
		if corr == uuid.Nil {
			corr = m.ID
		}
		v.P[e.ProposalID] = &proposalRec{Community: e.CommunityID, School: e.SchoolID, Segment: e.SegmentID, Year: e.Year, Status: governance.StatusDraft,
			Versions: []ProposalVersion{version(e.Version, e.ProposalText, e.DraftedBy, m)}, Correlation: corr, Seq: m.Position}
		return nil
	}
	kind, id, ok := governance.ParseStream(m.Stream)
	if !ok || kind != governance.KindProposal {
		return nil
	}
	p, ok := v.P[id]
	if !ok {
		return nil
	}
	decided := func(outcome string, version int, by uuid.UUID, reason string, al governance.Alignment) {
		p.Status = outcome
		p.Decisions = append(p.Decisions, decisionRec{Outcome: outcome, Version: version, By: by, Role: m.Meta.ActorRole, Reason: reason,
			Aligned: al.Aligned, Note: al.Note, At: m.Effective().UTC(), Event: m.ID})
	}
	switch e := m.Event.(type) {
	case governance.ProposalRevised:
		p.Versions = append(p.Versions, version(e.Version, e.ProposalText, e.RevisedBy, m))
	case governance.ProposalSubmitted:
		p.Status = governance.StatusSubmitted
		p.Submissions = append(p.Submissions, submissionRec{Version: e.Version, By: e.SubmittedBy, At: m.Effective().UTC()})
	case governance.AdviceGiven:
		p.Advice = append(p.Advice, adviceRec{Group: e.GroupID, GroupName: e.GroupName, Version: e.Version, Stance: e.Stance, Text: e.Text, By: e.GivenBy, At: m.Effective().UTC()})
	case governance.ProposalApproved:
		decided(governance.StatusApproved, e.Version, e.DecidedBy, e.Reason, e.Alignment)
	case governance.ProposalReturned:
		decided(governance.StatusReturned, e.Version, e.DecidedBy, e.Reason, e.Alignment)
	case governance.TeamResolutionOpened:
		p.Rounds = append(p.Rounds, roundRec{Round: e.Round, Version: e.Version, Team: slices.Clone(e.Team), Chair: e.ProposingChairID, Quorum: e.Quorum,
			Status: governance.ResolutionVoting, OpenedAt: m.Effective().UTC()})
	case governance.TeamVoteCast:
		if r := p.round(e.Round); r != nil {
			r.Votes = append(r.Votes, teamVoteRec{Voter: e.VoterID, Vote: e.Vote, Reason: e.Reason, Aligned: e.Alignment.Aligned, Note: e.Alignment.Note, At: m.Effective().UTC()})
		}
	case governance.TeamVoteClosed:
		if r := p.round(e.Round); r != nil {
			r.InOffice, r.Required, r.Turnout, r.Approve, r.SendBack, r.Outcome = slices.Clone(e.TeamInOffice), e.QuorumRequired, e.Turnout, e.Approve, e.SendBack, e.Outcome
			r.ClosedAt = m.Effective().UTC()
			for _, v := range e.Votes {
				for i := range r.Votes {
					if r.Votes[i].Voter == v.VoterID {
						r.Votes[i].Lapsed = !v.Counted
					}
				}
			}
		}
	case governance.ResolutionSignedOff:
		if r := p.round(e.Round); r != nil {
			r.Status, r.Director, r.Said = governance.ResolutionStatusSignedOff, e.DirectorID, e.Reason
		}
	case governance.ResolutionReferredBack:
		if r := p.round(e.Round); r != nil {
			r.Status, r.Director, r.Said = governance.ResolutionStatusReferredBack, e.DirectorID, e.Reason
		}
	case domain.EventCorrected:
		p.Corrections = append(p.Corrections, ProposalCorrection{EventID: e.Corrects, EventType: e.CorrectsType, Reason: e.Reason, Retracted: e.Retracted,
			ChangedAfterDecision: e.ChangedAfterDecision || len(p.Decisions) > 0, At: m.RecordedAt.UTC(), By: m.Meta.ActorID})
	}
	return nil
}

func (p *proposalRec) round(n int) *roundRec {
	for i := range p.Rounds {
		if p.Rounds[i].Round == n {
			return &p.Rounds[i]
		}
	}
	return nil
}

func version(n int, t governance.ProposalText, by uuid.UUID, m domain.Message) ProposalVersion {
	return ProposalVersion{Version: n, Title: t.Title, Body: t.Body, Costs: t.Costs, ExpectedImpact: t.ExpectedImpact, By: by, At: m.Effective().UTC()}
}

// MarshalState implements projections.Projection.
func (v *Proposals) MarshalState() ([]byte, error) { return encodeState(v, 0) }

// UnmarshalState implements projections.Projection.
func (v *Proposals) UnmarshalState(b []byte) error {
	fresh := NewProposals()
	if err := decodeState(b, fresh); err != nil {
		return err
	}
	if fresh.Communities == nil {
		fresh.Communities = map[uuid.UUID]govCommunity{}
	}
	if fresh.Schools == nil {
		fresh.Schools = map[uuid.UUID]string{}
	}
	if fresh.P == nil {
		fresh.P = map[uuid.UUID]*proposalRec{}
	}
	*v = *fresh
	return nil
}

// Submission is a version submitted to the Leadership Team.
type Submission struct {
	Version int       `json:"version"`
	By      Ref       `json:"by"`
	At      time.Time `json:"at"`
}

// Advice is what a student or parent advisory group said (advice, not a
// vote).
type Advice struct {
	Group   Ref       `json:"group"`
	Version int       `json:"version"`
	Stance  string    `json:"stance"`
	Text    string    `json:"text"`
	By      *Ref      `json:"by,omitempty"`
	At      time.Time `json:"at"`
}

// Decision is one step of a proposal's decision trail.
type Decision struct {
	Outcome       string    `json:"outcome"` // approved or returned
	Version       int       `json:"version"`
	DecidedBy     Ref       `json:"decided_by"`
	Role          string    `json:"role"`
	Reason        string    `json:"reason"`
	Aligned       bool      `json:"aligned"`
	AlignmentNote string    `json:"alignment_note,omitempty"`
	At            time.Time `json:"at"`
	EventID       uuid.UUID `json:"event_id"`
}

// TeamVote is one Leadership Team member's vote in a round.
type TeamVote struct {
	Voter         Ref       `json:"voter"`
	Vote          string    `json:"vote"` // approve or send_back
	Reason        string    `json:"reason"`
	Aligned       bool      `json:"aligned"`
	AlignmentNote string    `json:"alignment_note,omitempty"`
	At            time.Time `json:"at"`
	// Lapsed marks a vote that did not count: the voter was no longer on
	// the Team when the round closed.
	Lapsed bool `json:"lapsed,omitempty"`
}

// TeamRound is one round of the Leadership Team's votes on a proposal:
// who was on the Team, every vote, the quorum and outcome once closed,
// and the Director's sign-off or referral back.
type TeamRound struct {
	Round   int   `json:"round"`
	Version int   `json:"version"`
	Team    []Ref `json:"team"`
	// ProposingChair is the proposing ISLC's chair, who votes as a member.
	ProposingChair *Ref              `json:"proposing_chair,omitempty"`
	Quorum         governance.Quorum `json:"quorum"`
	// Status is voting, signed_off or referred_back.
	Status   string     `json:"status"`
	OpenedAt time.Time  `json:"opened_at"`
	Votes    []TeamVote `json:"votes"`
	// Set once the round closed: the Team in office then, the quorum
	// required, the votes that counted and the Team's outcome (approve or
	// send_back).
	TeamInOffice   []Ref     `json:"team_in_office,omitempty"`
	QuorumRequired int       `json:"quorum_required,omitempty"`
	Turnout        int       `json:"turnout,omitempty"`
	Approve        int       `json:"approve,omitempty"`
	SendBack       int       `json:"send_back,omitempty"`
	Outcome        string    `json:"outcome,omitempty"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	// Director signed the outcome off or referred it back, saying why.
	Director       *Ref   `json:"director,omitempty"`
	DirectorReason string `json:"director_reason,omitempty"`
}

// VersionView is a version with its author named.
type VersionView struct {
	Version        int               `json:"version"`
	Title          string            `json:"title"`
	Body           string            `json:"body"`
	Costs          *governance.Money `json:"costs,omitempty"`
	ExpectedImpact string            `json:"expected_impact"`
	By             Ref               `json:"by"`
	At             time.Time         `json:"at"`
}

// Proposal is a proposal as the register shows it.
type Proposal struct {
	ID        uuid.UUID `json:"id"`
	Title     string    `json:"title"` // of the current version
	Community Ref       `json:"community"`
	School    Ref       `json:"school"`
	Segment   uuid.UUID `json:"segment_id"`
	Year      string    `json:"year"`
	// Status is draft, submitted, returned or approved.
	Status      string        `json:"status"`
	Current     int           `json:"current_version"`
	Versions    []VersionView `json:"versions"`
	Submissions []Submission  `json:"submissions"`
	Advice      []Advice      `json:"advice"`
	Decisions   []Decision    `json:"decisions"`
	// Rounds are the Leadership Team's rounds of votes, oldest first.
	Rounds      []TeamRound          `json:"team_rounds"`
	Corrections []ProposalCorrection `json:"corrections"`
	// ChangedAfterDecision marks a proposal one of whose events was
	// corrected after it had been decided.
	ChangedAfterDecision bool      `json:"changed_after_decision"`
	CorrelationID        uuid.UUID `json:"correlation_id"`
}

func (v *Proposals) proposal(id uuid.UUID, p *proposalRec, names PersonNames) Proposal {
	out := Proposal{ID: id, Community: Ref{ID: p.Community, Name: v.Communities[p.Community].Name}, School: Ref{ID: p.School, Name: v.Schools[p.School]},
		Segment: p.Segment, Year: p.Year, Status: p.Status, Versions: []VersionView{}, Submissions: []Submission{}, Advice: []Advice{},
		Decisions: []Decision{}, Rounds: []TeamRound{}, Corrections: slices.Clone(p.Corrections), CorrelationID: p.Correlation}
	if out.Corrections == nil {
		out.Corrections = []ProposalCorrection{}
	}
	for _, x := range p.Versions {
		out.Versions = append(out.Versions, VersionView{Version: x.Version, Title: x.Title, Body: x.Body, Costs: x.Costs, ExpectedImpact: x.ExpectedImpact,
			By: personRef(names, x.By), At: x.At})
		out.Title, out.Current = x.Title, x.Version
	}
	for _, s := range p.Submissions {
		out.Submissions = append(out.Submissions, Submission{Version: s.Version, By: personRef(names, s.By), At: s.At})
	}
	for _, a := range p.Advice {
		out.Advice = append(out.Advice, Advice{Group: Ref{ID: a.Group, Name: a.GroupName}, Version: a.Version, Stance: a.Stance, Text: a.Text,
			By: optPersonRef(names, a.By), At: a.At})
	}
	for _, d := range p.Decisions {
		out.Decisions = append(out.Decisions, Decision{Outcome: d.Outcome, Version: d.Version, DecidedBy: personRef(names, d.By), Role: d.Role,
			Reason: d.Reason, Aligned: d.Aligned, AlignmentNote: d.Note, At: d.At, EventID: d.Event})
	}
	for _, r := range p.Rounds {
		tr := TeamRound{Round: r.Round, Version: r.Version, Team: personRefs(names, r.Team), ProposingChair: optPersonRef(names, r.Chair), Quorum: r.Quorum,
			Status: r.Status, OpenedAt: r.OpenedAt, Votes: []TeamVote{}, QuorumRequired: r.Required, Turnout: r.Turnout, Approve: r.Approve,
			SendBack: r.SendBack, Outcome: r.Outcome, ClosedAt: r.ClosedAt, Director: optPersonRef(names, r.Director), DirectorReason: r.Said}
		if r.InOffice != nil {
			tr.TeamInOffice = personRefs(names, r.InOffice)
		}
		for _, v := range r.Votes {
			tr.Votes = append(tr.Votes, TeamVote{Voter: personRef(names, v.Voter), Vote: v.Vote, Reason: v.Reason, Aligned: v.Aligned, AlignmentNote: v.Note, At: v.At, Lapsed: v.Lapsed})
		}
		out.Rounds = append(out.Rounds, tr)
	}
	for _, c := range p.Corrections {
		if c.ChangedAfterDecision {
			out.ChangedAfterDecision = true
		}
	}
	return out
}

// DecidedSummary is a proposal's latest decision, as the partnership
// report lists it: no person named.
type DecidedSummary struct {
	ID        uuid.UUID
	Title     string // the latest version's
	School    Ref
	Community Ref
	Outcome   string
	At        time.Time
	// ChangedAfterDecision marks a decision corrected afterwards.
	ChangedAfterDecision bool
}

// Decided returns the proposals whose latest decision falls in period p,
// in the register's order, as Register with DecidedIn would list them but
// without building each one whole (its versions, votes and the names of
// the people in them).
func (v *Proposals) Decided(p Period) []DecidedSummary {
	var ids []uuid.UUID
	for id, r := range v.P {
		if len(r.Decisions) > 0 && p.Contains(r.Decisions[len(r.Decisions)-1].At) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return cmpU64(v.P[a].Seq, v.P[b].Seq) })
	out := make([]DecidedSummary, 0, len(ids))
	for _, id := range ids {
		r := v.P[id]
		d := r.Decisions[len(r.Decisions)-1]
		ds := DecidedSummary{ID: id, School: Ref{ID: r.School, Name: v.Schools[r.School]},
			Community: Ref{ID: r.Community, Name: v.Communities[r.Community].Name}, Outcome: d.Outcome, At: d.At}
		if n := len(r.Versions); n > 0 {
			ds.Title = r.Versions[n-1].Title
		}
		for _, c := range r.Corrections {
			ds.ChangedAfterDecision = ds.ChangedAfterDecision || c.ChangedAfterDecision
		}
		out = append(out, ds)
	}
	return out
}

// Proposal returns proposal id.
func (v *Proposals) Proposal(id uuid.UUID, names PersonNames) (Proposal, bool) {
	p, ok := v.P[id]
	if !ok {
		return Proposal{}, false
	}
	return v.proposal(id, p, names), true
}

// ProposalFilter selects proposals of the register; zero fields match
// everything.
type ProposalFilter struct {
	School    uuid.UUID
	Community uuid.UUID
	Year      string
	Status    string
	// DecidedIn, when set, keeps only the proposals whose last decision
	// falls in the period.
	DecidedIn *Period
}

// Register returns the proposals f selects, in the order they were
// drafted.
func (v *Proposals) Register(f ProposalFilter, names PersonNames) []Proposal {
	var ids []uuid.UUID
	for id, p := range v.P {
		if (f.School == uuid.Nil || p.School == f.School) && (f.Community == uuid.Nil || p.Community == f.Community) &&
			(f.Year == "" || p.Year == f.Year) && (f.Status == "" || p.Status == f.Status) &&
			(f.DecidedIn == nil || len(p.Decisions) > 0 && f.DecidedIn.Contains(p.Decisions[len(p.Decisions)-1].At)) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return cmpU64(v.P[a].Seq, v.P[b].Seq) })
	out := make([]Proposal, 0, len(ids))
	for _, id := range ids {
		out = append(out, v.proposal(id, v.P[id], names))
	}
	return out
}
