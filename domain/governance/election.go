package governance

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// ElectionOpened records the opening of an election of an ISLC's chair.
type ElectionOpened struct {
	ElectionID          uuid.UUID   `json:"election_id" doc:"Id of the election."`
	CommunityID         uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	SchoolID            uuid.UUID   `json:"school_id" doc:"Id of the school."`
	Year                string      `json:"year" doc:"Academic year of the chair's term."`
	Quorum              Quorum      `json:"quorum" doc:"How many of the electorate must vote."`
	Ballot              string      `json:"ballot" doc:"secret (the default) or open."`
	Electorate          []uuid.UUID `json:"electorate" doc:"The members for the year when the election opened: who may vote."`
	RunOffOf            uuid.UUID   `json:"run_off_of" doc:"For a run-off, the tied election it settles (all zeros otherwise)."`
	AfterConfidenceVote uuid.UUID   `json:"after_confidence_vote" doc:"The lost confidence vote that opened this election (all zeros otherwise)."`
}

// CandidateNominated records a nomination for chair.
type CandidateNominated struct {
	ElectionID  uuid.UUID `json:"election_id" doc:"Id of the election."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	NomineeID   uuid.UUID `json:"nominee_id" doc:"The member nominated."`
	NominatedBy uuid.UUID `json:"nominated_by" doc:"The member who nominated them (may be themselves)."`
}

// NominationAccepted records that a nominee stands.
type NominationAccepted struct {
	ElectionID  uuid.UUID `json:"election_id" doc:"Id of the election."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	NomineeID   uuid.UUID `json:"nominee_id" doc:"The nominee who accepted."`
}

// NominationDeclined records that a nominee does not stand.
type NominationDeclined struct {
	ElectionID  uuid.UUID `json:"election_id" doc:"Id of the election."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	NomineeID   uuid.UUID `json:"nominee_id" doc:"The nominee who declined."`
}

// VotingOpened records that nominations closed and voting began.
type VotingOpened struct {
	ElectionID  uuid.UUID   `json:"election_id" doc:"Id of the election."`
	CommunityID uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	Candidates  []uuid.UUID `json:"candidates" doc:"The members standing."`
}

// VoteCast records that a member voted. For a secret ballot it carries the
// choice sealed with the election's own key, destroyed at close; for an
// open ballot, the candidate.
type VoteCast struct {
	ElectionID   uuid.UUID  `json:"election_id" doc:"Id of the election."`
	CommunityID  uuid.UUID  `json:"community_id" doc:"Id of the ISLC."`
	VoterID      uuid.UUID  `json:"voter_id" doc:"The member who voted."`
	SealedChoice []byte     `json:"sealed_choice,omitempty" doc:"Secret ballot: the choice, AES-256-GCM sealed with the election's key (base64 in JSON; unreadable once the election closes)."`
	CandidateID  *uuid.UUID `json:"candidate_id,omitempty" doc:"Open ballot: the candidate voted for."`
}

// CandidateWithdrawn records that a nominee or candidate no longer stands
// because they left the ISLC.
type CandidateWithdrawn struct {
	ElectionID  uuid.UUID `json:"election_id" doc:"Id of the election."`
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	CandidateID uuid.UUID `json:"candidate_id" doc:"The member withdrawn."`
	Reason      string    `json:"reason" doc:"Why: left_community or left_school."`
}

// TallyEntry is one candidate's votes.
type TallyEntry struct {
	CandidateID uuid.UUID `json:"candidate_id" doc:"The candidate."`
	Votes       int       `json:"votes" doc:"Votes received."`
	Withdrawn   bool      `json:"withdrawn,omitempty" doc:"True if the candidate left the ISLC before the close and could not be elected."`
}

// ElectionClosed records a quorate election's result: the tally and the
// choices in shuffled order, with no voter ids.
type ElectionClosed struct {
	ElectionID     uuid.UUID    `json:"election_id" doc:"Id of the election."`
	CommunityID    uuid.UUID    `json:"community_id" doc:"Id of the ISLC."`
	SchoolID       uuid.UUID    `json:"school_id" doc:"Id of the school."`
	Year           string       `json:"year" doc:"Academic year."`
	Ballot         string       `json:"ballot" doc:"secret or open."`
	ElectorateSize int          `json:"electorate_size" doc:"How many could vote."`
	Turnout        int          `json:"turnout" doc:"How many voted."`
	QuorumRequired int          `json:"quorum_required" doc:"How many votes the quorum required."`
	Tally          []TallyEntry `json:"tally" doc:"Votes per candidate, in the order they stood."`
	Choices        []uuid.UUID  `json:"choices" doc:"Every vote's candidate, shuffled, without voter ids."`
	Tie            bool         `json:"tie,omitempty" doc:"True when the top standing candidates tied (a run-off follows)."`
}

// ElectionFailed records an election that elected no one: the quorum was
// not reached, or no standing candidate received a vote. Sealed choices
// of an inquorate election are never opened.
type ElectionFailed struct {
	ElectionID     uuid.UUID `json:"election_id" doc:"Id of the election."`
	CommunityID    uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID       uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year           string    `json:"year" doc:"Academic year."`
	Reason         string    `json:"reason" doc:"quorum_not_reached, no_standing_candidate, or ballot_key_lost (the votes could not be counted: the ballot's key is gone, as in a ledger restored from a backup)."`
	ElectorateSize int       `json:"electorate_size" doc:"How many could vote."`
	Turnout        int       `json:"turnout" doc:"How many voted."`
	QuorumRequired int       `json:"quorum_required" doc:"How many votes the quorum required."`
}

// ChairElected records the ISLC's new chair for a year.
type ChairElected struct {
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	SegmentID   uuid.UUID `json:"segment_id" doc:"Id of the segment the ISLC leads."`
	Year        string    `json:"year" doc:"Academic year of the term."`
	ChairID     uuid.UUID `json:"chair_id" doc:"The member elected."`
	ElectionID  uuid.UUID `json:"election_id" doc:"The election that elected them."`
	PreviousID  uuid.UUID `json:"previous_id" doc:"The chair they succeed in the same year (all zeros if none)."`
}

// RunOffCalled records that a tied election is settled by a run-off
// between the tied candidates.
type RunOffCalled struct {
	ElectionID  uuid.UUID   `json:"election_id" doc:"Id of the tied election."`
	CommunityID uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	Year        string      `json:"year" doc:"Academic year."`
	RunOffID    uuid.UUID   `json:"run_off_id" doc:"Id of the run-off election, opened in the same step."`
	Candidates  []uuid.UUID `json:"candidates" doc:"The tied candidates, who stand in the run-off."`
}

// ChairRewardRecorded records the reward a chair receives for the role.
type ChairRewardRecorded struct {
	CommunityID  uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID     uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year         string    `json:"year" doc:"Academic year."`
	ChairID      uuid.UUID `json:"chair_id" doc:"The chair."`
	HoursPerWeek float64   `json:"hours_per_week,omitempty" doc:"Time allowance in hours per week."`
	Stipend      *Money    `json:"stipend,omitempty" doc:"Stipend for the year."`
}

// ConfidenceVoteCalled records that members called a vote of confidence
// in their chair.
type ConfidenceVoteCalled struct {
	VoteID      uuid.UUID   `json:"vote_id" doc:"Id of the confidence vote."`
	CommunityID uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID   `json:"school_id" doc:"Id of the school."`
	Year        string      `json:"year" doc:"Academic year."`
	ChairID     uuid.UUID   `json:"chair_id" doc:"The chair whose position is voted on."`
	CalledBy    uuid.UUID   `json:"called_by" doc:"The member who called the vote."`
	Quorum      Quorum      `json:"quorum" doc:"How many of the electorate must vote."`
	Ballot      string      `json:"ballot" doc:"secret (the default) or open."`
	Electorate  []uuid.UUID `json:"electorate" doc:"The members who may vote."`
}

// Confidence vote choices.
const (
	ChoiceConfidence   = "confidence"
	ChoiceNoConfidence = "no_confidence"
)

// ConfidenceVoteCast records that a member voted in a confidence vote.
type ConfidenceVoteCast struct {
	VoteID       uuid.UUID `json:"vote_id" doc:"Id of the confidence vote."`
	CommunityID  uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	VoterID      uuid.UUID `json:"voter_id" doc:"The member who voted."`
	SealedChoice []byte    `json:"sealed_choice,omitempty" doc:"Secret ballot: the choice, sealed with the vote's own key (base64 in JSON; unreadable once it closes)."`
	Choice       string    `json:"choice,omitempty" doc:"Open ballot: confidence or no_confidence."`
}

// Confidence vote outcomes.
const (
	OutcomeKept     = "kept"
	OutcomeLost     = "lost"
	OutcomeNoQuorum = "no_quorum"
	// OutcomeVoid: the votes could not be counted because the vote's key
	// is gone (a ledger restored from a backup, which never holds ballot
	// keys); the chair stays.
	OutcomeVoid = "void"
)

// ConfidenceVoteClosed records a confidence vote's result.
type ConfidenceVoteClosed struct {
	VoteID         uuid.UUID `json:"vote_id" doc:"Id of the confidence vote."`
	CommunityID    uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID       uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year           string    `json:"year" doc:"Academic year."`
	ChairID        uuid.UUID `json:"chair_id" doc:"The chair voted on."`
	Outcome        string    `json:"outcome" doc:"kept, lost (more votes of no confidence than of confidence), no_quorum (the chair stays) or void (the votes could not be counted: the vote's key is gone; the chair stays)."`
	ElectorateSize int       `json:"electorate_size" doc:"How many could vote."`
	Turnout        int       `json:"turnout" doc:"How many voted."`
	QuorumRequired int       `json:"quorum_required" doc:"How many votes the quorum required."`
	Confidence     int       `json:"confidence" doc:"Votes of confidence (0 without quorum: sealed votes are then not opened)."`
	NoConfidence   int       `json:"no_confidence" doc:"Votes of no confidence."`
	Choices        []string  `json:"choices" doc:"Every vote's choice, shuffled, without voter ids."`
}

// ChairRemoved records that a chair lost a confidence vote and left
// office.
type ChairRemoved struct {
	CommunityID    uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID       uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year           string    `json:"year" doc:"Academic year."`
	ChairID        uuid.UUID `json:"chair_id" doc:"The chair removed."`
	VoteID         uuid.UUID `json:"vote_id" doc:"The confidence vote lost."`
	NextElectionID uuid.UUID `json:"next_election_id" doc:"The election opened in the same step to elect a new chair."`
}

// ChairVacated records that a chair stopped being chair because they left
// the ISLC.
type ChairVacated struct {
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year        string    `json:"year" doc:"Academic year."`
	ChairID     uuid.UUID `json:"chair_id" doc:"The chair who left."`
	Reason      string    `json:"reason" doc:"Why: left_community or left_school."`
}

// EventType implements domain.Event.
func (ElectionOpened) EventType() string { return "ElectionOpened" }

// EventType implements domain.Event.
func (CandidateNominated) EventType() string { return "CandidateNominated" }

// EventType implements domain.Event.
func (NominationAccepted) EventType() string { return "NominationAccepted" }

// EventType implements domain.Event.
func (NominationDeclined) EventType() string { return "NominationDeclined" }

// EventType implements domain.Event.
func (VotingOpened) EventType() string { return "VotingOpened" }

// EventType implements domain.Event.
func (VoteCast) EventType() string { return "VoteCast" }

// EventType implements domain.Event.
func (CandidateWithdrawn) EventType() string { return "CandidateWithdrawn" }

// EventType implements domain.Event.
func (ElectionClosed) EventType() string { return "ElectionClosed" }

// EventType implements domain.Event.
func (ElectionFailed) EventType() string { return "ElectionFailed" }

// EventType implements domain.Event.
func (ChairElected) EventType() string { return "ChairElected" }

// EventType implements domain.Event.
func (RunOffCalled) EventType() string { return "RunOffCalled" }

// EventType implements domain.Event.
func (ChairRewardRecorded) EventType() string { return "ChairRewardRecorded" }

// EventType implements domain.Event.
func (ConfidenceVoteCalled) EventType() string { return "ConfidenceVoteCalled" }

// EventType implements domain.Event.
func (ConfidenceVoteCast) EventType() string { return "ConfidenceVoteCast" }

// EventType implements domain.Event.
func (ConfidenceVoteClosed) EventType() string { return "ConfidenceVoteClosed" }

// EventType implements domain.Event.
func (ChairRemoved) EventType() string { return "ChairRemoved" }

// EventType implements domain.Event.
func (ChairVacated) EventType() string { return "ChairVacated" }

func init() {
	// Every event of an election or a confidence vote is part of a ballot
	// or an outcome computed from one: none can be corrected, only a new
	// vote changes the outcome. A chair's reward can.
	reg := func(spec domain.Spec) domain.Spec {
		spec.Schema, spec.Group, spec.Uncorrectable = 1, Group, spec.Type != "ChairRewardRecorded"
		return spec
	}
	domain.MustRegister[ElectionOpened](reg(domain.Spec{Type: "ElectionOpened",
		Doc:       "An election of an ISLC's chair opened, with its quorum rule, kind of ballot and electorate; a run-off or an election after a lost confidence vote names what opened it.",
		EmittedBy: []string{"OpenElection", "CloseElection", "CloseConfidenceVote"}}))
	domain.MustRegister[CandidateNominated](reg(domain.Spec{Type: "CandidateNominated",
		Doc: "A member nominated a member (possibly themselves) for chair.", EmittedBy: []string{"Nominate"}}))
	domain.MustRegister[NominationAccepted](reg(domain.Spec{Type: "NominationAccepted",
		Doc: "A nominee accepted and stands for chair.", EmittedBy: []string{"AcceptNomination"}}))
	domain.MustRegister[NominationDeclined](reg(domain.Spec{Type: "NominationDeclined",
		Doc: "A nominee declined to stand.", EmittedBy: []string{"DeclineNomination"}}))
	domain.MustRegister[VotingOpened](reg(domain.Spec{Type: "VotingOpened",
		Doc: "Nominations closed and voting opened between the standing candidates.", EmittedBy: []string{"OpenVoting", "CloseElection"}}))
	domain.MustRegister[VoteCast](reg(domain.Spec{Type: "VoteCast",
		Doc:       "A member voted: for a secret ballot, who voted and their choice sealed with the election's key (destroyed at close, so no one can later link voter and choice); for an open ballot, who voted for whom.",
		EmittedBy: []string{"CastVote"}}))
	domain.MustRegister[CandidateWithdrawn](reg(domain.Spec{Type: "CandidateWithdrawn",
		Doc: "A nominee or candidate stopped standing because they left the ISLC (reason left_community) or the school (left_school).", EmittedBy: []string{"LeaveCommunity", "LeaveSchool"}}))
	domain.MustRegister[ElectionClosed](reg(domain.Spec{Type: "ElectionClosed",
		Doc:       "A quorate election closed: turnout, quorum, the tally and every choice in shuffled order without voter ids. The election's ballot key is destroyed afterwards.",
		EmittedBy: []string{"CloseElection"}}))
	domain.MustRegister[ElectionFailed](reg(domain.Spec{Type: "ElectionFailed",
		Doc: "An election elected no one because the quorum was not reached (the sealed votes are never opened) or no standing candidate had a vote.", EmittedBy: []string{"CloseElection"}}))
	domain.MustRegister[ChairElected](reg(domain.Spec{Type: "ChairElected",
		Doc: "A member was elected chair of the ISLC for the year and sits on the Leadership Team.", EmittedBy: []string{"CloseElection"}}))
	domain.MustRegister[RunOffCalled](reg(domain.Spec{Type: "RunOffCalled",
		Doc: "A tied election is settled by a run-off between the tied candidates, opened in the same step.", EmittedBy: []string{"CloseElection"}}))
	domain.MustRegister[ChairRewardRecorded](reg(domain.Spec{Type: "ChairRewardRecorded",
		Doc: "The time allowance and/or stipend a chair receives for the role.", EmittedBy: []string{"RecordChairReward"}}))
	domain.MustRegister[ConfidenceVoteCalled](reg(domain.Spec{Type: "ConfidenceVoteCalled",
		Doc: "A member called a vote of confidence in the ISLC's chair.", EmittedBy: []string{"CallConfidenceVote"}}))
	domain.MustRegister[ConfidenceVoteCast](reg(domain.Spec{Type: "ConfidenceVoteCast",
		Doc: "A member voted in a confidence vote, under the same secrecy as elections.", EmittedBy: []string{"CastConfidenceVote"}}))
	domain.MustRegister[ConfidenceVoteClosed](reg(domain.Spec{Type: "ConfidenceVoteClosed",
		Doc: "A confidence vote closed: the chair kept or lost the ISLC's confidence, or the quorum was not reached.", EmittedBy: []string{"CloseConfidenceVote"}}))
	domain.MustRegister[ChairRemoved](reg(domain.Spec{Type: "ChairRemoved",
		Doc: "A chair who lost a confidence vote left office; a new election opens in the same step.", EmittedBy: []string{"CloseConfidenceVote"}}))
	domain.MustRegister[ChairVacated](reg(domain.Spec{Type: "ChairVacated",
		Doc: "A chair stopped being chair, and left the Leadership Team, because they left the ISLC (reason left_community) or the school (left_school).", EmittedBy: []string{"LeaveCommunity", "LeaveSchool"}}))
}

// Ballot statuses.
const (
	StatusNominating = "nominating"
	StatusVoting     = "voting"
	StatusClosed     = "closed"
	StatusFailed     = "failed"
)

// cast is one recorded vote.
type cast struct {
	voter  uuid.UUID
	sealed []byte
	choice string // open ballots only
}

// Ballot is what elections and confidence votes share.
type Ballot struct {
	ID         uuid.UUID
	Year       string
	Quorum     Quorum
	Kind       string // BallotSecret or BallotOpen
	Electorate []uuid.UUID
	Status     string
	// CorrelationID is shared by every event of the decision.
	CorrelationID uuid.UUID
	OpenedAt      time.Time
	ClosedAt      time.Time

	votes []cast
}

// Secret reports whether the ballot is secret.
func (b *Ballot) Secret() bool { return b.Kind != BallotOpen }

// Decided reports whether the ballot is closed (or failed); corrections of
// its events are then marked changed after decision.
func (b *Ballot) Decided() bool { return b.Status == StatusClosed || b.Status == StatusFailed }

// InElectorate reports whether person may vote.
func (b *Ballot) InElectorate(person uuid.UUID) bool { return slices.Contains(b.Electorate, person) }

// HasVoted reports whether person has voted.
func (b *Ballot) HasVoted(person uuid.UUID) bool {
	return slices.ContainsFunc(b.votes, func(c cast) bool { return c.voter == person })
}

// Voters returns who has voted, in order (never what they chose).
func (b *Ballot) Voters() []uuid.UUID {
	out := make([]uuid.UUID, len(b.votes))
	for i, c := range b.votes {
		out[i] = c.voter
	}
	return out
}

// Turnout returns how many have voted.
func (b *Ballot) Turnout() int { return len(b.votes) }

// QuorumRequired returns how many votes reach the quorum.
func (b *Ballot) QuorumRequired() int { return b.Quorum.Required(len(b.Electorate)) }

// Nomination answers.
const (
	AnswerPending   = "pending"
	AnswerAccepted  = "accepted"
	AnswerDeclined  = "declined"
	AnswerWithdrawn = "withdrawn"
)

// Nomination is one nomination for chair.
type Nomination struct {
	NomineeID   uuid.UUID
	NominatedBy uuid.UUID
	Answer      string // pending, accepted, declined or withdrawn
}

// Election is an election of an ISLC's chair.
type Election struct {
	Ballot
	RunOffOf            uuid.UUID
	AfterConfidenceVote uuid.UUID
	Nominations         []Nomination
	// Candidates are those standing when voting opened; Withdrawn those of
	// them who left the ISLC since.
	Candidates []uuid.UUID
	Withdrawn  []uuid.UUID

	// Results, once decided.
	Tally      []TallyEntry
	Choices    []uuid.UUID
	ChairID    uuid.UUID
	RunOffID   uuid.UUID
	FailReason string
	// RunOffDepth is 0 for an election, 1 for its run-off, 2 for a second
	// run-off, and so on.
	RunOffDepth int
	// CastingCandidates are the tied candidates of an election the
	// Director's casting vote decides; CastingVoteBy is the Director once
	// cast.
	CastingCandidates []uuid.UUID
	CastingVoteBy     uuid.UUID
}

// Standing reports whether person is a candidate still standing.
func (e *Election) Standing(person uuid.UUID) bool {
	return slices.Contains(e.Candidates, person) && !slices.Contains(e.Withdrawn, person)
}

// Nomination returns person's latest nomination.
func (e *Election) Nomination(person uuid.UUID) (Nomination, bool) {
	for i := len(e.Nominations) - 1; i >= 0; i-- {
		if e.Nominations[i].NomineeID == person {
			return e.Nominations[i], true
		}
	}
	return Nomination{}, false
}

// Accepted returns the nominees who accepted and still stand, in order of
// nomination.
func (e *Election) Accepted() []uuid.UUID {
	var out []uuid.UUID
	for _, n := range e.Nominations {
		if n.Answer == AnswerAccepted && !slices.Contains(out, n.NomineeID) {
			if last, _ := e.Nomination(n.NomineeID); last.Answer == AnswerAccepted {
				out = append(out, n.NomineeID)
			}
		}
	}
	return out
}

// Results returns the tally once the election is decided: results are
// hidden until the close.
func (e *Election) Results() ([]TallyEntry, bool) {
	if !e.Decided() {
		return nil, false
	}
	return e.Tally, true
}

func (e *Election) answer(person uuid.UUID, answer string) {
	for i := len(e.Nominations) - 1; i >= 0; i-- {
		if e.Nominations[i].NomineeID == person {
			e.Nominations[i].Answer = answer
			return
		}
	}
}

// ConfidenceVote is a vote of confidence in an ISLC's chair.
type ConfidenceVote struct {
	Ballot
	ChairID  uuid.UUID
	CalledBy uuid.UUID

	// Results, once decided.
	Outcome        string
	Confidence     int
	NoConfidence   int
	Choices        []string
	NextElectionID uuid.UUID
}

// applyBallot folds the events of elections, chairs and confidence votes.
func (c *Community) applyBallot(m domain.Message) {
	corr := m.Meta.CorrelationID
	if corr == uuid.Nil {
		corr = m.ID
	}
	election := func(id uuid.UUID) *Election {
		c.ballotOf[m.ID] = id
		e, _ := c.Election(id)
		if e == nil {
			e = &Election{} // an event for an unknown election: fold it harmlessly
		}
		return e
	}
	vote := func(id uuid.UUID) *ConfidenceVote {
		c.ballotOf[m.ID] = id
		v, _ := c.ConfidenceVote(id)
		if v == nil {
			v = &ConfidenceVote{}
		}
		return v
	}
	switch e := m.Event.(type) {
	case ElectionOpened:
		c.ballotOf[m.ID] = e.ElectionID
		depth := 0
		if parent, ok := c.Election(e.RunOffOf); ok && e.RunOffOf != uuid.Nil {
			depth = parent.RunOffDepth + 1
		}
		c.Elections = append(c.Elections, &Election{
			Ballot: Ballot{ID: e.ElectionID, Year: e.Year, Quorum: e.Quorum, Kind: e.Ballot, Electorate: slices.Clone(e.Electorate),
				Status: StatusNominating, CorrelationID: corr, OpenedAt: m.Effective()},
			RunOffOf: e.RunOffOf, AfterConfidenceVote: e.AfterConfidenceVote, RunOffDepth: depth})
	case CastingVoteAwaited:
		election(e.ElectionID).CastingCandidates = slices.Clone(e.Candidates)
	case CastingVoteCast:
		election(e.ElectionID).CastingVoteBy = e.DirectorID
	case CandidateNominated:
		el := election(e.ElectionID)
		el.Nominations = append(el.Nominations, Nomination{NomineeID: e.NomineeID, NominatedBy: e.NominatedBy, Answer: AnswerPending})
	case NominationAccepted:
		election(e.ElectionID).answer(e.NomineeID, AnswerAccepted)
	case NominationDeclined:
		election(e.ElectionID).answer(e.NomineeID, AnswerDeclined)
	case VotingOpened:
		el := election(e.ElectionID)
		el.Status, el.Candidates = StatusVoting, slices.Clone(e.Candidates)
	case VoteCast:
		el := election(e.ElectionID)
		v := cast{voter: e.VoterID, sealed: e.SealedChoice}
		if e.CandidateID != nil {
			v.choice = e.CandidateID.String()
		}
		el.votes = append(el.votes, v)
	case CandidateWithdrawn:
		el := election(e.ElectionID)
		if el.Status == StatusVoting {
			el.Withdrawn = append(el.Withdrawn, e.CandidateID)
		} else {
			el.answer(e.CandidateID, AnswerWithdrawn)
		}
	case ElectionClosed:
		el := election(e.ElectionID)
		el.Status, el.ClosedAt = StatusClosed, m.Effective()
		el.Tally, el.Choices = slices.Clone(e.Tally), slices.Clone(e.Choices)
	case ElectionFailed:
		el := election(e.ElectionID)
		el.Status, el.ClosedAt, el.FailReason = StatusFailed, m.Effective(), e.Reason
	case RunOffCalled:
		election(e.ElectionID).RunOffID = e.RunOffID
	case ChairElected:
		election(e.ElectionID).ChairID = e.ChairID
		c.endChair(e.Year, uuid.Nil, m.Effective(), ChairSucceeded)
		c.Chairs = append(c.Chairs, ChairTerm{Year: e.Year, ChairID: e.ChairID, ElectionID: e.ElectionID, From: m.Effective()})
	case ChairRewardRecorded:
		c.Rewards = append(c.Rewards, ChairReward{Year: e.Year, ChairID: e.ChairID, HoursPerWeek: e.HoursPerWeek, Stipend: e.Stipend})
	case ConfidenceVoteCalled:
		c.ballotOf[m.ID] = e.VoteID
		c.ConfidenceVotes = append(c.ConfidenceVotes, &ConfidenceVote{
			Ballot: Ballot{ID: e.VoteID, Year: e.Year, Quorum: e.Quorum, Kind: e.Ballot, Electorate: slices.Clone(e.Electorate),
				Status: StatusVoting, CorrelationID: corr, OpenedAt: m.Effective()},
			ChairID: e.ChairID, CalledBy: e.CalledBy})
	case ConfidenceVoteCast:
		v := vote(e.VoteID)
		v.votes = append(v.votes, cast{voter: e.VoterID, sealed: e.SealedChoice, choice: e.Choice})
	case ConfidenceVoteClosed:
		v := vote(e.VoteID)
		v.Status, v.ClosedAt, v.Outcome = StatusClosed, m.Effective(), e.Outcome
		v.Confidence, v.NoConfidence, v.Choices = e.Confidence, e.NoConfidence, slices.Clone(e.Choices)
	case ChairRemoved:
		vote(e.VoteID).NextElectionID = e.NextElectionID
		c.endChair(e.Year, e.ChairID, m.Effective(), ChairRemovedBy)
	case ChairVacated:
		c.endChair(e.Year, e.ChairID, m.Effective(), ChairVacatedBy)
	}
}
