package views

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

// ElectionsView is the name of the "elections" view.
const ElectionsView = "elections"

func init() { register(func() projections.Projection { return NewElections() }) }

// Elections is the "elections" view: the elections of ISLC chairs and the
// confidence votes in them, with status, candidates, turnout, results,
// run-offs and failures. It never holds who voted for whom: only how many
// voted until the close, then the tally recorded at the close.
type Elections struct {
	Communities map[uuid.UUID]govCommunity `json:"communities"`
	Schools     map[uuid.UUID]string       `json:"schools"`
	E           map[uuid.UUID]*electionRec `json:"elections"`
	V           map[uuid.UUID]*voteRec     `json:"votes"`
}

type electionRec struct {
	Community   uuid.UUID               `json:"c"`
	Year        string                  `json:"y"`
	Quorum      governance.Quorum       `json:"q"`
	Ballot      string                  `json:"b"`
	Electorate  int                     `json:"n"`
	Status      string                  `json:"s"`
	Nominations []nominationRec         `json:"nom,omitempty"`
	Candidates  []uuid.UUID             `json:"cand,omitempty"`
	Withdrawn   []uuid.UUID             `json:"wd,omitempty"`
	Voted       int                     `json:"voted"`
	Required    int                     `json:"req,omitempty"`
	Tally       []governance.TallyEntry `json:"tally,omitempty"`
	Tie         bool                    `json:"tie,omitempty"`
	Chair       uuid.UUID               `json:"chair,omitzero"`
	RunOffOf    uuid.UUID               `json:"rof,omitzero"`
	RunOff      uuid.UUID               `json:"ro,omitzero"`
	AfterVote   uuid.UUID               `json:"acv,omitzero"`
	FailReason  string                  `json:"fail,omitempty"`
	Casting     []uuid.UUID             `json:"cast,omitempty"`
	CastingBy   uuid.UUID               `json:"castby,omitzero"`
	Correlation uuid.UUID               `json:"corr"`
	OpenedAt    time.Time               `json:"at"`
	ClosedAt    time.Time               `json:"closed,omitzero"`
	Seq         uint64                  `json:"pos"`
}

type nominationRec struct {
	Nominee uuid.UUID `json:"n"`
	By      uuid.UUID `json:"by"`
	Answer  string    `json:"a"`
}

type voteRec struct {
	Community    uuid.UUID         `json:"c"`
	Year         string            `json:"y"`
	Chair        uuid.UUID         `json:"chair"`
	CalledBy     uuid.UUID         `json:"by"`
	Quorum       governance.Quorum `json:"q"`
	Ballot       string            `json:"b"`
	Electorate   int               `json:"n"`
	Status       string            `json:"s"`
	Voted        int               `json:"voted"`
	Required     int               `json:"req,omitempty"`
	Outcome      string            `json:"o,omitempty"`
	Confidence   int               `json:"yes"`
	NoConfidence int               `json:"no"`
	Next         uuid.UUID         `json:"next,omitzero"`
	Correlation  uuid.UUID         `json:"corr"`
	OpenedAt     time.Time         `json:"at"`
	ClosedAt     time.Time         `json:"closed,omitzero"`
	Seq          uint64            `json:"pos"`
}

// NewElections returns an empty "elections" view.
func NewElections() *Elections {
	return &Elections{Communities: map[uuid.UUID]govCommunity{}, Schools: map[uuid.UUID]string{}, E: map[uuid.UUID]*electionRec{}, V: map[uuid.UUID]*voteRec{}}
}

// Name implements projections.Projection.
func (*Elections) Name() string { return ElectionsView }

// Version implements projections.Projection.
func (*Elections) Version() int { return 4 }

func answer(e *electionRec, person uuid.UUID, a string) {
	for i := len(e.Nominations) - 1; i >= 0; i-- {
		if e.Nominations[i].Nominee == person {
			e.Nominations[i].Answer = a
			return
		}
	}
}

// Apply implements projections.Projection.
func (v *Elections) Apply(m domain.Message) error {
	corr := m.Meta.CorrelationID
	if corr == uuid.Nil {
		corr = m.ID
	}
	el := func(id uuid.UUID) *electionRec {
		if e, ok := v.E[id]; ok {
			return e
		}
		return &electionRec{} // an event of an unknown election folds harmlessly
	}
	vote := func(id uuid.UUID) *voteRec {
		if x, ok := v.V[id]; ok {
			return x
		}
		return &voteRec{}
	}
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		v.Schools[e.SchoolID] = e.Name
	case governance.CommunityEstablished:
		v.Communities[e.CommunityID] = govCommunity{Name: e.Name, School: e.SchoolID, Segment: e.SegmentID}
	case governance.ElectionOpened:
		v.E[e.ElectionID] = &electionRec{Community: e.CommunityID, Year: e.Year, Quorum: e.Quorum, Ballot: e.Ballot, Electorate: len(e.Electorate),
			Status: governance.StatusNominating, RunOffOf: e.RunOffOf, AfterVote: e.AfterConfidenceVote, Correlation: corr, OpenedAt: m.Effective().UTC(),
			Required: e.Quorum.Required(len(e.Electorate)), Seq: m.Position}
	case governance.CandidateNominated:
		x := el(e.ElectionID)
		x.Nominations = append(x.Nominations, nominationRec{Nominee: e.NomineeID, By: e.NominatedBy, Answer: governance.AnswerPending})
	case governance.NominationAccepted:
		answer(el(e.ElectionID), e.NomineeID, governance.AnswerAccepted)
	case governance.NominationDeclined:
		answer(el(e.ElectionID), e.NomineeID, governance.AnswerDeclined)
	case governance.VotingOpened:
		x := el(e.ElectionID)
		x.Status, x.Candidates = governance.StatusVoting, slices.Clone(e.Candidates)
	case governance.VoteCast:
		el(e.ElectionID).Voted++
	case governance.CandidateWithdrawn:
		x := el(e.ElectionID)
		if x.Status == governance.StatusVoting {
			x.Withdrawn = append(x.Withdrawn, e.CandidateID)
		} else {
			answer(x, e.CandidateID, governance.AnswerWithdrawn)
		}
	case governance.ElectionClosed:
		x := el(e.ElectionID)
		x.Status, x.ClosedAt, x.Tally, x.Tie = governance.StatusClosed, m.Effective().UTC(), slices.Clone(e.Tally), e.Tie
		x.Electorate, x.Voted, x.Required = e.ElectorateSize, e.Turnout, e.QuorumRequired
	case governance.ElectionFailed:
		x := el(e.ElectionID)
		x.Status, x.ClosedAt, x.FailReason = governance.StatusFailed, m.Effective().UTC(), e.Reason
		x.Electorate, x.Voted, x.Required = e.ElectorateSize, e.Turnout, e.QuorumRequired
	case governance.RunOffCalled:
		el(e.ElectionID).RunOff = e.RunOffID
	case governance.CastingVoteAwaited:
		el(e.ElectionID).Casting = slices.Clone(e.Candidates)
	case governance.CastingVoteCast:
		el(e.ElectionID).CastingBy = e.DirectorID
	case governance.ChairElected:
		el(e.ElectionID).Chair = e.ChairID
	case governance.ConfidenceVoteCalled:
		v.V[e.VoteID] = &voteRec{Community: e.CommunityID, Year: e.Year, Chair: e.ChairID, CalledBy: e.CalledBy, Quorum: e.Quorum, Ballot: e.Ballot,
			Electorate: len(e.Electorate), Status: governance.StatusVoting, Required: e.Quorum.Required(len(e.Electorate)), Correlation: corr,
			OpenedAt: m.Effective().UTC(), Seq: m.Position}
	case governance.ConfidenceVoteCast:
		vote(e.VoteID).Voted++
	case governance.ConfidenceVoteClosed:
		x := vote(e.VoteID)
		x.Status, x.ClosedAt, x.Outcome = governance.StatusClosed, m.Effective().UTC(), e.Outcome
		x.Confidence, x.NoConfidence, x.Electorate, x.Voted, x.Required = e.Confidence, e.NoConfidence, e.ElectorateSize, e.Turnout, e.QuorumRequired
	case governance.ChairRemoved:
		vote(e.VoteID).Next = e.NextElectionID
	}
	return nil
}

// MarshalState implements projections.Projection.
func (v *Elections) MarshalState() ([]byte, error) { return encodeState(v, 0) }

// UnmarshalState implements projections.Projection.
func (v *Elections) UnmarshalState(b []byte) error {
	fresh := NewElections()
	if err := decodeState(b, fresh); err != nil {
		return err
	}
	if fresh.Communities == nil {
		fresh.Communities = map[uuid.UUID]govCommunity{}
	}
	if fresh.Schools == nil {
		fresh.Schools = map[uuid.UUID]string{}
	}
	if fresh.E == nil {
		fresh.E = map[uuid.UUID]*electionRec{}
	}
	if fresh.V == nil {
		fresh.V = map[uuid.UUID]*voteRec{}
	}
	*v = *fresh
	return nil
}

// Turnout is how many of the electorate voted against the quorum.
type Turnout struct {
	Voted     int  `json:"voted"`
	Eligible  int  `json:"eligible"`
	Required  int  `json:"quorum_required"`
	QuorumMet bool `json:"quorum_met"`
}

// Nomination is a nomination for chair and its answer.
type Nomination struct {
	Nominee     Ref    `json:"nominee"`
	NominatedBy Ref    `json:"nominated_by"`
	Answer      string `json:"answer"` // pending, accepted, declined or withdrawn
}

// TallyEntry is a candidate's votes, known once the election closed.
type TallyEntry struct {
	Candidate Ref  `json:"candidate"`
	Votes     int  `json:"votes"`
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// Election is an election of an ISLC's chair.
type Election struct {
	ID        uuid.UUID `json:"id"`
	Community Ref       `json:"community"`
	School    Ref       `json:"school"`
	Year      string    `json:"year"`
	// Status is nominating, voting, closed or failed.
	Status      string            `json:"status"`
	Ballot      string            `json:"ballot"` // secret or open
	Quorum      governance.Quorum `json:"quorum"`
	Turnout     Turnout           `json:"turnout"`
	Nominations []Nomination      `json:"nominations"`
	Candidates  []Ref             `json:"candidates"`
	Withdrawn   []Ref             `json:"withdrawn"`
	// Tally is set once the election closed with a quorum.
	Tally []TallyEntry `json:"tally,omitempty"`
	Tie   bool         `json:"tie,omitempty"`
	// Elected is the chair it elected, if any.
	Elected *Ref `json:"elected,omitempty"`
	// CastingVoteBetween are the tied candidates when the election tied
	// after every run-off the school allows; CastingVoteBy is the Director
	// once they cast the deciding vote (Elected is their choice).
	CastingVoteBetween []Ref `json:"casting_vote_between,omitempty"`
	CastingVoteBy      *Ref  `json:"casting_vote_by,omitempty"`
	// FailReason is quorum_not_reached or no_standing_candidate.
	FailReason string `json:"fail_reason,omitempty"`
	// RunOffOf is the tied election it settles; RunOff the run-off it
	// called; AfterConfidenceVote the lost vote that opened it.
	RunOffOf            uuid.UUID `json:"run_off_of,omitzero"`
	RunOff              uuid.UUID `json:"run_off,omitzero"`
	AfterConfidenceVote uuid.UUID `json:"after_confidence_vote,omitzero"`
	CorrelationID       uuid.UUID `json:"correlation_id"`
	OpenedAt            time.Time `json:"opened_at"`
	ClosedAt            time.Time `json:"closed_at,omitzero"`
}

// ConfidenceVote is a vote of confidence in an ISLC's chair.
type ConfidenceVote struct {
	ID        uuid.UUID         `json:"id"`
	Community Ref               `json:"community"`
	School    Ref               `json:"school"`
	Year      string            `json:"year"`
	Chair     Ref               `json:"chair"`
	CalledBy  Ref               `json:"called_by"`
	Status    string            `json:"status"` // voting or closed
	Ballot    string            `json:"ballot"`
	Quorum    governance.Quorum `json:"quorum"`
	Turnout   Turnout           `json:"turnout"`
	// Outcome is kept, lost or no_quorum once closed.
	Outcome       string    `json:"outcome,omitempty"`
	Confidence    int       `json:"confidence"`
	NoConfidence  int       `json:"no_confidence"`
	NextElection  uuid.UUID `json:"next_election,omitzero"`
	CorrelationID uuid.UUID `json:"correlation_id"`
	OpenedAt      time.Time `json:"opened_at"`
	ClosedAt      time.Time `json:"closed_at,omitzero"`
}

func (v *Elections) communityRefs(id uuid.UUID) (Ref, Ref) {
	c := v.Communities[id]
	return Ref{ID: id, Name: c.Name}, Ref{ID: c.School, Name: v.Schools[c.School]}
}

func (v *Elections) election(id uuid.UUID, x *electionRec, names PersonNames) Election {
	com, school := v.communityRefs(x.Community)
	out := Election{ID: id, Community: com, School: school, Year: x.Year, Status: x.Status, Ballot: x.Ballot, Quorum: x.Quorum,
		Turnout:     Turnout{Voted: x.Voted, Eligible: x.Electorate, Required: x.Required, QuorumMet: x.Voted >= x.Required},
		Nominations: []Nomination{}, Candidates: personRefs(names, x.Candidates), Withdrawn: personRefs(names, x.Withdrawn),
		Tie: x.Tie, Elected: optPersonRef(names, x.Chair), FailReason: x.FailReason, RunOffOf: x.RunOffOf, RunOff: x.RunOff,
		AfterConfidenceVote: x.AfterVote, CorrelationID: x.Correlation, OpenedAt: x.OpenedAt, ClosedAt: x.ClosedAt, CastingVoteBy: optPersonRef(names, x.CastingBy)}
	if len(x.Casting) > 0 {
		out.CastingVoteBetween = personRefs(names, x.Casting)
	}
	for _, n := range x.Nominations {
		out.Nominations = append(out.Nominations, Nomination{Nominee: personRef(names, n.Nominee), NominatedBy: personRef(names, n.By), Answer: n.Answer})
	}
	for _, t := range x.Tally {
		out.Tally = append(out.Tally, TallyEntry{Candidate: personRef(names, t.CandidateID), Votes: t.Votes, Withdrawn: t.Withdrawn})
	}
	return out
}

func (v *Elections) vote(id uuid.UUID, x *voteRec, names PersonNames) ConfidenceVote {
	com, school := v.communityRefs(x.Community)
	return ConfidenceVote{ID: id, Community: com, School: school, Year: x.Year, Chair: personRef(names, x.Chair), CalledBy: personRef(names, x.CalledBy),
		Status: x.Status, Ballot: x.Ballot, Quorum: x.Quorum,
		Turnout: Turnout{Voted: x.Voted, Eligible: x.Electorate, Required: x.Required, QuorumMet: x.Voted >= x.Required},
		Outcome: x.Outcome, Confidence: x.Confidence, NoConfidence: x.NoConfidence, NextElection: x.Next, CorrelationID: x.Correlation,
		OpenedAt: x.OpenedAt, ClosedAt: x.ClosedAt}
}

// Election returns election id.
func (v *Elections) Election(id uuid.UUID, names PersonNames) (Election, bool) {
	x, ok := v.E[id]
	if !ok {
		return Election{}, false
	}
	return v.election(id, x, names), true
}

// ConfidenceVote returns confidence vote id.
func (v *Elections) ConfidenceVote(id uuid.UUID, names PersonNames) (ConfidenceVote, bool) {
	x, ok := v.V[id]
	if !ok {
		return ConfidenceVote{}, false
	}
	return v.vote(id, x, names), true
}

// Ballots are an ISLC's elections and confidence votes.
type Ballots struct {
	Community       Ref              `json:"community"`
	Elections       []Election       `json:"elections"`
	ConfidenceVotes []ConfidenceVote `json:"confidence_votes"`
}

// Of returns the elections and confidence votes of ISLC community, in
// the order they opened; year "" means every year.
func (v *Elections) Of(community uuid.UUID, year string, names PersonNames) Ballots {
	com, _ := v.communityRefs(community)
	out := Ballots{Community: com, Elections: []Election{}, ConfidenceVotes: []ConfidenceVote{}}
	for id, x := range v.E {
		if x.Community == community && (year == "" || x.Year == year) {
			out.Elections = append(out.Elections, v.election(id, x, names))
		}
	}
	for id, x := range v.V {
		if x.Community == community && (year == "" || x.Year == year) {
			out.ConfidenceVotes = append(out.ConfidenceVotes, v.vote(id, x, names))
		}
	}
	slices.SortFunc(out.Elections, func(a, b Election) int { return cmpU64(v.E[a.ID].Seq, v.E[b.ID].Seq) })
	slices.SortFunc(out.ConfidenceVotes, func(a, b ConfidenceVote) int { return cmpU64(v.V[a.ID].Seq, v.V[b.ID].Seq) })
	return out
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
