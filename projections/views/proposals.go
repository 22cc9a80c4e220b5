package views

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"sync"
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
//
// It is versioned (projections.Versioned): every entry of a proposal's
// lists, and each round's closing and sign-off, keeps the position it was
// recorded at, so the proposal as known at an earlier position is its
// lists cut there. A proposal is never changed in place: a change makes a
// new record whose lists have no room to grow into, so a state of the
// past shares the records unchanged since then with the live one.
type Proposals struct {
	CommunitiesAt map[uuid.UUID]history[govCommunity] `json:"communities"`
	SchoolsAt     schoolNames                         `json:"schools"`
	P             map[uuid.UUID]*proposalRec          `json:"proposals"`
	// Communities and Schools are the names as they are now.
	Communities map[uuid.UUID]govCommunity `json:"-"`
	Schools     map[uuid.UUID]string       `json:"-"`
	// lens is set on a state read in place in the past (Lens): the maps
	// above are the live view's, read-locked while it is read.
	lens *proposalsLens
	// decided indexes every decision of P by when it was made (then by
	// position), so that Decided reads a period's decisions, not every
	// proposal. Nil in a state of the past of its own (At), which has
	// none and scans; a lens reads the live view's.
	decided *decisionIndex
	// register is every proposal of P in the register's order (drafted
	// first, first), with what a filter asks of it that never changes:
	// a page of the register reads it instead of sorting P. Appended to
	// as proposals are drafted; a state of the past shares a prefix.
	// Nil where it is not kept (RegisterPage then sorts P).
	register []registerEntry
}

// registerEntry is a proposal as the register lists it.
type registerEntry struct {
	id, school, community uuid.UUID
	seq                   uint64
	year                  string
}

// buildRegister sets v.register from v.P.
func (v *Proposals) buildRegister() {
	v.register = make([]registerEntry, 0, len(v.P))
	for id, p := range v.P {
		v.register = append(v.register, registerEntry{id: id, school: p.School, community: p.Community, seq: p.Seq, year: p.Year})
	}
	slices.SortFunc(v.register, func(a, b registerEntry) int { return cmpU64(a.seq, b.seq) })
}

// decisionIndex is every decision of a view's proposals, by when it was
// made, then by position.
type decisionIndex struct{ entries []decisionKey }

// decisionKey is decision i of proposal id, made at instant at (Unix
// nanoseconds, held within their range) and recorded at position p.
type decisionKey struct {
	at int64
	p  uint64
	id uuid.UUID
	i  int32
}

func (a decisionKey) cmp(b decisionKey) int { return cmp.Or(cmp.Compare(a.at, b.at), cmpU64(a.p, b.p)) }

// unixNanos returns t in Unix nanoseconds, held within their range (from
// 1678 to 2262): the instants before it come first, those after it last.
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var minNanos, maxNanos = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

// add files decision i of proposal id.
func (x *decisionIndex) add(id uuid.UUID, i int, d decisionRec) {
	k := decisionKey{at: unixNanos(d.At), p: d.P, id: id, i: int32(i)}
	j, _ := slices.BinarySearchFunc(x.entries, k, decisionKey.cmp)
	x.entries = slices.Insert(x.entries, j, k)
}

// indexDecisions returns the index of the decisions of proposals.
func indexDecisions(proposals map[uuid.UUID]*proposalRec) *decisionIndex {
	x := &decisionIndex{}
	for id, r := range proposals {
		for i, d := range r.Decisions {
			x.entries = append(x.entries, decisionKey{at: unixNanos(d.At), p: d.P, id: id, i: int32(i)})
		}
	}
	slices.SortFunc(x.entries, decisionKey.cmp)
	return x
}

// proposalsLens is the position a lens reads at, and the state as of it
// (At), made once when a query needs more than Decided.
type proposalsLens struct {
	at   uint64
	once sync.Once
	past *Proposals
}

type proposalRec struct {
	Community   uuid.UUID         `json:"c"`
	School      uuid.UUID         `json:"s"`
	Segment     uuid.UUID         `json:"g"`
	Year        string            `json:"y"`
	Status      string            `json:"st"`
	Versions    []ProposalVersion `json:"v"`
	Submissions []submissionRec   `json:"sub,omitempty"`
	Advice      []adviceRec       `json:"adv,omitempty"`
	Decisions   []decisionRec     `json:"dec,omitempty"`
	Corrections []correctionRec   `json:"cor,omitempty"`
	Rounds      []roundRec        `json:"rnd,omitempty"`
	Correlation uuid.UUID         `json:"corr"`
	// Seq is the position it was drafted at, Last that of its latest
	// change.
	Seq  uint64 `json:"pos"`
	Last uint64 `json:"last"`
}

// correctionRec is a correction with the position it was recorded at.
type correctionRec struct {
	ProposalCorrection
	P uint64 `json:"p"`
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
	// The positions it was opened, closed and signed off (or referred
	// back) at; 0 for not yet.
	OpenedP, ClosedP, SignedP uint64
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
	P       uint64    `json:"p"`
}

type submissionRec struct {
	Version int       `json:"v"`
	By      uuid.UUID `json:"by"`
	At      time.Time `json:"at"`
	P       uint64    `json:"p"`
}

type adviceRec struct {
	Group     uuid.UUID `json:"g"`
	GroupName string    `json:"n"`
	Version   int       `json:"v"`
	Stance    string    `json:"s"`
	Text      string    `json:"t"`
	By        uuid.UUID `json:"by,omitzero"`
	At        time.Time `json:"at"`
	P         uint64    `json:"p"`
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
	P       uint64    `json:"p"`
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
	P              uint64            `json:"p"`
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
	return &Proposals{CommunitiesAt: map[uuid.UUID]history[govCommunity]{}, SchoolsAt: schoolNames{}, P: map[uuid.UUID]*proposalRec{},
		Communities: map[uuid.UUID]govCommunity{}, Schools: map[uuid.UUID]string{}, decided: &decisionIndex{}, register: []registerEntry{}}
}

// Name implements projections.Projection.
func (*Proposals) Name() string { return ProposalsView }

// Version implements projections.Projection.
func (*Proposals) Version() int { return 4 }

// Apply implements projections.Projection.
func (v *Proposals) Apply(m domain.Message) error {
	if v.lens != nil {
		return errLens
	}
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		v.SchoolsAt[e.SchoolID] = v.SchoolsAt[e.SchoolID].add(m.Position, e.Name)
		v.Schools[e.SchoolID] = e.Name
		return nil
	case governance.CommunityEstablished:
		c := govCommunity{Name: e.Name, School: e.SchoolID, Segment: e.SegmentID}
		v.CommunitiesAt[e.CommunityID] = v.CommunitiesAt[e.CommunityID].add(m.Position, c)
		v.Communities[e.CommunityID] = c
		return nil
	case governance.ProposalDrafted:
		corr := m.Meta.CorrelationID
		if corr == uuid.Nil {
			corr = m.ID
		}
		_, again := v.P[e.ProposalID]
		v.P[e.ProposalID] = &proposalRec{Community: e.CommunityID, School: e.SchoolID, Segment: e.SegmentID, Year: e.Year, Status: governance.StatusDraft,
			Versions: []ProposalVersion{version(e.Version, e.ProposalText, e.DraftedBy, m)}, Correlation: corr, Seq: m.Position, Last: m.Position}
		switch {
		case again: // drafted once more under the same id: listed anew
			v.buildRegister()
		case v.register != nil:
			v.register = append(v.register, registerEntry{id: e.ProposalID, school: e.SchoolID, community: e.CommunityID, seq: m.Position, year: e.Year})
		}
		return nil
	}
	kind, id, ok := governance.ParseStream(m.Stream)
	if !ok || kind != governance.KindProposal {
		return nil
	}
	old, ok := v.P[id]
	if !ok {
		return nil
	}
	// The record as it was may be shared with states of the past: the
	// change is made to a copy.
	p := new(proposalRec)
	*p = *old
	changed := true
	at := m.Effective().UTC()
	decided := func(outcome string, version int, by uuid.UUID, reason string, al governance.Alignment) {
		p.Status = outcome
		p.Decisions = grow(p.Decisions, decisionRec{Outcome: outcome, Version: version, By: by, Role: m.Meta.ActorRole, Reason: reason,
			Aligned: al.Aligned, Note: al.Note, At: at, Event: m.ID, P: m.Position})
	}
	// round returns round n of p's own copy of its rounds.
	round := func(n int) *roundRec {
		i := slices.IndexFunc(p.Rounds, func(r roundRec) bool { return r.Round == n })
		if i < 0 {
			changed = false
			return nil
		}
		p.Rounds = slices.Clone(p.Rounds)
		return &p.Rounds[i]
	}
	switch e := m.Event.(type) {
	case governance.ProposalRevised:
		p.Versions = grow(p.Versions, version(e.Version, e.ProposalText, e.RevisedBy, m))
	case governance.ProposalSubmitted:
		p.Status = governance.StatusSubmitted
		p.Submissions = grow(p.Submissions, submissionRec{Version: e.Version, By: e.SubmittedBy, At: at, P: m.Position})
	case governance.AdviceGiven:
		p.Advice = grow(p.Advice, adviceRec{Group: e.GroupID, GroupName: e.GroupName, Version: e.Version, Stance: e.Stance, Text: e.Text, By: e.GivenBy, At: at, P: m.Position})
	case governance.ProposalApproved:
		decided(governance.StatusApproved, e.Version, e.DecidedBy, e.Reason, e.Alignment)
	case governance.ProposalReturned:
		decided(governance.StatusReturned, e.Version, e.DecidedBy, e.Reason, e.Alignment)
	case governance.TeamResolutionOpened:
		p.Rounds = grow(p.Rounds, roundRec{Round: e.Round, Version: e.Version, Team: slices.Clone(e.Team), Chair: e.ProposingChairID, Quorum: e.Quorum,
			Status: governance.ResolutionVoting, OpenedAt: at, OpenedP: m.Position})
	case governance.TeamVoteCast:
		if r := round(e.Round); r != nil {
			r.Votes = grow(r.Votes, teamVoteRec{Voter: e.VoterID, Vote: e.Vote, Reason: e.Reason, Aligned: e.Alignment.Aligned, Note: e.Alignment.Note, At: at, P: m.Position})
		}
	case governance.TeamVoteClosed:
		if r := round(e.Round); r != nil {
			r.InOffice, r.Required, r.Turnout, r.Approve, r.SendBack, r.Outcome = slices.Clone(e.TeamInOffice), e.QuorumRequired, e.Turnout, e.Approve, e.SendBack, e.Outcome
			r.ClosedAt, r.ClosedP = at, m.Position
			r.Votes = slices.Clone(r.Votes)
			for _, v := range e.Votes {
				for i := range r.Votes {
					if r.Votes[i].Voter == v.VoterID {
						r.Votes[i].Lapsed = !v.Counted
					}
				}
			}
		}
	case governance.ResolutionSignedOff:
		if r := round(e.Round); r != nil {
			r.Status, r.Director, r.Said, r.SignedP = governance.ResolutionStatusSignedOff, e.DirectorID, e.Reason, m.Position
		}
	case governance.ResolutionReferredBack:
		if r := round(e.Round); r != nil {
			r.Status, r.Director, r.Said, r.SignedP = governance.ResolutionStatusReferredBack, e.DirectorID, e.Reason, m.Position
		}
	case domain.EventCorrected:
		p.Corrections = grow(p.Corrections, correctionRec{ProposalCorrection: ProposalCorrection{EventID: e.Corrects, EventType: e.CorrectsType, Reason: e.Reason,
			Retracted: e.Retracted, ChangedAfterDecision: e.ChangedAfterDecision || len(p.Decisions) > 0, At: m.RecordedAt.UTC(), By: m.Meta.ActorID}, P: m.Position})
	default:
		changed = false
	}
	if changed {
		p.Last = m.Position
		v.P[id] = p
		if n := len(p.Decisions); v.decided != nil && n > len(old.Decisions) {
			v.decided.add(id, n-1, p.Decisions[n-1])
		}
	}
	return nil
}

// grow returns s with x appended, in a new array when s has no room left
// (as append does) and also when it has: arrays shared with a record of
// the past are never written.
func grow[T any](s []T, x T) []T { return append(s[:len(s):len(s)], x) }

// At implements projections.Versioned: the proposals drafted by pos, each
// as it was then, with the names as they were.
func (v *Proposals) At(pos uint64) projections.Projection {
	if v.lens != nil {
		pos = min(pos, v.lens.at)
	}
	out := &Proposals{CommunitiesAt: rowsUpTo(v.CommunitiesAt, pos), P: make(map[uuid.UUID]*proposalRec, len(v.P))}
	out.SchoolsAt, _ = v.SchoolsAt.upTo(pos)
	out.derive()
	for id, p := range v.P {
		switch {
		case p.Seq > pos:
		case p.Last <= pos:
			out.P[id] = p
		default:
			out.P[id] = p.upTo(pos)
		}
	}
	if v.register != nil {
		// The proposals drafted by pos are a prefix of the register.
		k := sort.Search(len(v.register), func(i int) bool { return v.register[i].seq > pos })
		out.register = v.register[:k:k]
	}
	return out
}

// Lens implements projections.Lensed: the view as known at pos, read in
// the live view v while v is read-locked. Decided (what a report asks)
// looks the proposals and names up as they were at pos; the other
// queries read the state as of pos (At), made when first asked.
func (v *Proposals) Lens(pos uint64) projections.Projection {
	return &Proposals{CommunitiesAt: v.CommunitiesAt, SchoolsAt: v.SchoolsAt, P: v.P, Communities: v.Communities, Schools: v.Schools,
		lens: &proposalsLens{at: pos}, decided: v.decided, register: v.register}
}

// resolved returns the state a lens reads as a state of its own (At),
// made once; v itself when v is no lens.
func (v *Proposals) resolved() *Proposals {
	if v.lens == nil {
		return v
	}
	v.lens.once.Do(func() { v.lens.past = v.At(v.lens.at).(*Proposals) })
	return v.lens.past
}

// derive sets the names as they are now from their histories.
func (v *Proposals) derive() {
	v.Communities = make(map[uuid.UUID]govCommunity, len(v.CommunitiesAt))
	for id, h := range v.CommunitiesAt {
		v.Communities[id] = h.current()
	}
	v.Schools = make(map[uuid.UUID]string, len(v.SchoolsAt))
	for id, h := range v.SchoolsAt {
		v.Schools[id] = h.current()
	}
}

// cut returns the entries of s recorded at or before pos: a prefix, since
// they are recorded in order, with no room to grow into.
// Most lists in a reading are wholly before pos or wholly after it, so
// both ends are looked at before the search.
func cut[T any](s []T, pos uint64, at func(*T) uint64) []T {
	n := len(s)
	switch {
	case n == 0 || at(&s[0]) > pos:
		return nil
	case at(&s[n-1]) > pos:
		n = sort.Search(n, func(i int) bool { return at(&s[i]) > pos })
	}
	if n == 0 {
		return nil
	}
	return s[:n:n]
}

// upTo returns p as it was at pos, which is at or after its draft: its
// lists cut there, its status from the last submission or decision by
// then, its rounds as they stood.
func (p *proposalRec) upTo(pos uint64) *proposalRec {
	q := *p
	q.Versions = cut(q.Versions, pos, func(x *ProposalVersion) uint64 { return x.P })
	q.Submissions = cut(q.Submissions, pos, func(x *submissionRec) uint64 { return x.P })
	q.Advice = cut(q.Advice, pos, func(x *adviceRec) uint64 { return x.P })
	q.Decisions = cut(q.Decisions, pos, func(x *decisionRec) uint64 { return x.P })
	q.Corrections = cut(q.Corrections, pos, func(x *correctionRec) uint64 { return x.P })
	q.Rounds = slices.Clone(cut(q.Rounds, pos, func(x *roundRec) uint64 { return x.OpenedP }))
	q.Status, q.Last = governance.StatusDraft, q.Seq
	var last uint64
	for _, x := range q.Submissions {
		last, q.Status = x.P, governance.StatusSubmitted
	}
	if n := len(q.Decisions); n > 0 && q.Decisions[n-1].P > last {
		last, q.Status = q.Decisions[n-1].P, q.Decisions[n-1].Outcome
	}
	q.Last = max(q.Last, last)
	for _, x := range q.Versions {
		q.Last = max(q.Last, x.P)
	}
	for _, x := range q.Advice {
		q.Last = max(q.Last, x.P)
	}
	if n := len(q.Corrections); n > 0 {
		q.Last = max(q.Last, q.Corrections[n-1].P)
	}
	for i := range q.Rounds {
		r := &q.Rounds[i]
		r.Votes = cut(r.Votes, pos, func(x *teamVoteRec) uint64 { return x.P })
		if r.SignedP > pos {
			r.Status, r.Director, r.Said, r.SignedP = governance.ResolutionVoting, uuid.Nil, "", 0
		}
		if r.ClosedP > pos {
			r.InOffice, r.Required, r.Turnout, r.Approve, r.SendBack, r.Outcome = nil, 0, 0, 0, 0, ""
			r.ClosedAt, r.ClosedP = time.Time{}, 0
			r.Votes = slices.Clone(r.Votes)
			for j := range r.Votes {
				r.Votes[j].Lapsed = false
			}
		}
		q.Last = max(q.Last, r.OpenedP, r.ClosedP, r.SignedP)
		if n := len(r.Votes); n > 0 {
			q.Last = max(q.Last, r.Votes[n-1].P)
		}
	}
	return &q
}

func version(n int, t governance.ProposalText, by uuid.UUID, m domain.Message) ProposalVersion {
	return ProposalVersion{Version: n, Title: t.Title, Body: t.Body, Costs: t.Costs, ExpectedImpact: t.ExpectedImpact, By: by, At: m.Effective().UTC(), P: m.Position}
}

// MarshalState implements projections.Projection.
// A lens saves the state as of its position.
func (v *Proposals) MarshalState() ([]byte, error) { return encodeState(v.resolved(), 0) }

// UnmarshalState implements projections.Projection.
func (v *Proposals) UnmarshalState(b []byte) error {
	fresh := NewProposals()
	if err := decodeState(b, fresh); err != nil {
		return err
	}
	if fresh.CommunitiesAt == nil {
		fresh.CommunitiesAt = map[uuid.UUID]history[govCommunity]{}
	}
	if fresh.SchoolsAt == nil {
		fresh.SchoolsAt = schoolNames{}
	}
	if fresh.P == nil {
		fresh.P = map[uuid.UUID]*proposalRec{}
	}
	fresh.derive()
	fresh.decided = indexDecisions(fresh.P)
	fresh.buildRegister()
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
		Segment: p.Segment, Year: p.Year, Status: p.Status, Versions: make([]VersionView, 0, len(p.Versions)),
		Submissions: make([]Submission, 0, len(p.Submissions)), Advice: make([]Advice, 0, len(p.Advice)),
		Decisions: make([]Decision, 0, len(p.Decisions)), Rounds: make([]TeamRound, 0, len(p.Rounds)),
		Corrections: make([]ProposalCorrection, 0, len(p.Corrections)), CorrelationID: p.Correlation}
	for _, c := range p.Corrections {
		out.Corrections = append(out.Corrections, c.ProposalCorrection)
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
			Status: r.Status, OpenedAt: r.OpenedAt, Votes: make([]TeamVote, 0, len(r.Votes)), QuorumRequired: r.Required, Turnout: r.Turnout, Approve: r.Approve,
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
	type sel struct {
		id uuid.UUID
		r  *proposalRec
	}
	at := uint64(math.MaxUint64)
	if v.lens != nil {
		at = v.lens.at
	}
	decidedIn := func(ds []decisionRec) bool { return len(ds) > 0 && p.Contains(ds[len(ds)-1].At) }
	var picked []sel
	if x := v.decided; x != nil {
		// The decisions made in the period and recorded by then, each the
		// latest of its proposal by then.
		from, to := p.window()
		lo, _ := slices.BinarySearchFunc(x.entries, decisionKey{at: unixNanos(from)}, decisionKey.cmp)
		for _, k := range x.entries[lo:] {
			if !time.Unix(0, k.at).Before(to) {
				break
			}
			r := v.P[k.id]
			if k.p > at || r == nil || r.Seq > at || (int(k.i)+1 < len(r.Decisions) && r.Decisions[k.i+1].P <= at) {
				continue
			}
			if r.Last > at {
				r = r.upTo(at) // changed since: as it was
			}
			picked = append(picked, sel{k.id, r})
		}
	} else {
		for id, r := range v.P {
			switch {
			case r.Seq > at: // drafted later
			case r.Last <= at:
				if decidedIn(r.Decisions) {
					picked = append(picked, sel{id, r})
				}
			case decidedIn(cut(r.Decisions, at, func(d *decisionRec) uint64 { return d.P })):
				picked = append(picked, sel{id, r.upTo(at)}) // changed since: as it was
			}
		}
	}
	slices.SortFunc(picked, func(a, b sel) int { return cmpU64(a.r.Seq, b.r.Seq) })
	school, community := func(id uuid.UUID) string { return v.Schools[id] }, func(id uuid.UUID) string { return v.Communities[id].Name }
	if v.lens != nil {
		school = func(id uuid.UUID) string { return v.SchoolsAt[id].upTo(at).current() }
		community = func(id uuid.UUID) string { return v.CommunitiesAt[id].upTo(at).current().Name }
	}
	out := make([]DecidedSummary, 0, len(picked))
	for _, pk := range picked {
		id, r := pk.id, pk.r
		d := r.Decisions[len(r.Decisions)-1]
		ds := DecidedSummary{ID: id, School: Ref{ID: r.School, Name: school(r.School)},
			Community: Ref{ID: r.Community, Name: community(r.Community)}, Outcome: d.Outcome, At: d.At}
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
	v = v.resolved()
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
	out, _ := v.RegisterPage(f, names, 0, math.MaxInt)
	return out
}

// registerPage is RegisterPage read along v.register: the proposals in
// order, filtered by what never changes without looking each up.
func (v *Proposals) registerPage(f ProposalFilter, names PersonNames, from, n int) ([]Proposal, int) {
	byRecord := f.Status != "" || f.DecidedIn != nil
	var picked []int32
	for i := range v.register {
		e := &v.register[i]
		if (f.School != uuid.Nil && e.school != f.School) || (f.Community != uuid.Nil && e.community != f.Community) || (f.Year != "" && e.year != f.Year) {
			continue
		}
		if byRecord {
			p := v.P[e.id]
			if (f.Status != "" && p.Status != f.Status) ||
				(f.DecidedIn != nil && (len(p.Decisions) == 0 || !f.DecidedIn.Contains(p.Decisions[len(p.Decisions)-1].At))) {
				continue
			}
		}
		picked = append(picked, int32(i))
	}
	lo, hi := pageRange(from, n, len(picked))
	out := make([]Proposal, 0, hi-lo)
	for _, i := range picked[lo:hi] {
		id := v.register[i].id
		out = append(out, v.proposal(id, v.P[id], names))
	}
	return out, len(picked)
}

// RegisterPage is the page of Register from entry from, at most n
// entries, and how many proposals f selects: only the page's proposals
// are built, and only their people named.
func (v *Proposals) RegisterPage(f ProposalFilter, names PersonNames, from, n int) ([]Proposal, int) {
	v = v.resolved()
	if v.register != nil && len(v.register) == len(v.P) {
		return v.registerPage(f, names, from, n)
	}
	type sel struct {
		id uuid.UUID
		p  *proposalRec
	}
	var picked []sel
	for id, p := range v.P {
		if (f.School == uuid.Nil || p.School == f.School) && (f.Community == uuid.Nil || p.Community == f.Community) &&
			(f.Year == "" || p.Year == f.Year) && (f.Status == "" || p.Status == f.Status) &&
			(f.DecidedIn == nil || len(p.Decisions) > 0 && f.DecidedIn.Contains(p.Decisions[len(p.Decisions)-1].At)) {
			picked = append(picked, sel{id, p})
		}
	}
	// Sorted with the rows at hand, not looked up again for every
	// comparison.
	slices.SortFunc(picked, func(a, b sel) int { return cmpU64(a.p.Seq, b.p.Seq) })
	lo, hi := pageRange(from, n, len(picked))
	out := make([]Proposal, 0, hi-lo)
	for _, s := range picked[lo:hi] {
		out = append(out, v.proposal(s.id, s.p, names))
	}
	return out, len(picked)
}
