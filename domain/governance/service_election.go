package governance

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// ballotMeta returns meta carrying the correlation id of ballot (an
// election or confidence vote of community), so every event of one
// decision shares it.
func (s *Service) ballotMeta(ctx context.Context, meta domain.Meta, community, ballot uuid.UUID) (domain.Meta, error) {
	if meta.CorrelationID != uuid.Nil {
		return meta, nil
	}
	c, _, err := domain.Peek(ctx, s.h, CommunityStream(community), NewCommunity)
	if err != nil {
		return meta, err
	}
	if e, ok := c.Election(ballot); ok {
		meta.CorrelationID = e.CorrelationID
	} else if v, ok := c.ConfidenceVote(ballot); ok {
		meta.CorrelationID = v.CorrelationID
	}
	return meta, nil
}

func establishedCommunity(c *Community, id uuid.UUID) error {
	if !c.Established() {
		return domain.RejectField(domain.ErrNotFound, "community_id", "no ISLC %s is established", id)
	}
	return nil
}

func findElection(c *Community, id uuid.UUID) (*Election, error) {
	e, ok := c.Election(id)
	if !ok {
		return nil, domain.RejectField(domain.ErrNotFound, "election_id", "the %s ISLC has no election %s", c.Name, id)
	}
	return e, nil
}

func findVote(c *Community, id uuid.UUID) (*ConfidenceVote, error) {
	v, ok := c.ConfidenceVote(id)
	if !ok {
		return nil, domain.RejectField(domain.ErrNotFound, "vote_id", "the %s ISLC has no confidence vote %s", c.Name, id)
	}
	return v, nil
}

// checkVoter applies "only members vote, once": voter must be in the
// ballot's electorate, still a member, and not have voted.
func checkVoter(c *Community, b *Ballot, voter uuid.UUID) error {
	if !c.IsMember(voter, b.Year) {
		return domain.RejectField(ErrNotAMember, "voter_id", "you are not a member of the %s ISLC for %s, so you cannot vote in its ballots", c.Name, b.Year)
	}
	if !b.InElectorate(voter) {
		return domain.RejectField(ErrNotAMember, "voter_id", "you joined the %s ISLC after this ballot opened, so you are not in its electorate", c.Name)
	}
	if b.HasVoted(voter) {
		return domain.RejectField(ErrAlreadyVoted, "voter_id", "you have already voted in this ballot: each member votes once, and a vote cannot be changed")
	}
	return nil
}

// newBallot checks that community can open a ballot with id for year and
// returns its electorate.
func newBallot(c *Community, id uuid.UUID, field, year string, q Quorum) ([]uuid.UUID, error) {
	if _, ok := c.Election(id); ok {
		return nil, domain.RejectField(domain.ErrAlreadyExists, field, "the %s ISLC already has a ballot %s", c.Name, id)
	}
	if _, ok := c.ConfidenceVote(id); ok {
		return nil, domain.RejectField(domain.ErrAlreadyExists, field, "the %s ISLC already has a ballot %s", c.Name, id)
	}
	if running, ok := c.RunningBallot(); ok {
		return nil, domain.Reject(ErrBallotInProgress, "ballot %s of the %s ISLC is still running; close it first", running, c.Name)
	}
	electorate := c.Members(year)
	if len(electorate) == 0 {
		return nil, domain.RejectField(ErrEmptyRoster, "year", "the %s ISLC has no members for %s", c.Name, year)
	}
	if err := q.validate(len(electorate)); err != nil {
		return nil, err
	}
	return electorate, nil
}

// OpenElection opens an election of an ISLC's chair for a year.
type OpenElection struct {
	CommunityID uuid.UUID `json:"community_id"`
	ElectionID  uuid.UUID `json:"election_id"`
	Year        string    `json:"year"`
	// Quorum defaults to a majority of the members.
	Quorum Quorum `json:"quorum,omitzero"`
	// Ballot is secret (the default) or open.
	Ballot string `json:"ballot,omitempty"`
}

// OpenElection records ElectionOpened, with the year's members as the
// electorate. Returns ErrBallotInProgress while another ballot runs,
// ErrEmptyRoster without members, domain.ErrInvalidValue for an impossible
// quorum, domain.ErrAlreadyExists for a used id.
func (s *Service) OpenElection(ctx context.Context, meta domain.Meta, cmd OpenElection) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("election_id", cmd.ElectionID, "the election"), validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	kind, err := ballotKind(cmd.Ballot)
	if err != nil {
		return domain.Result{}, err
	}
	q := cmd.Quorum.normal()
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		electorate, err := newBallot(c, cmd.ElectionID, "election_id", cmd.Year, q)
		if err != nil {
			return nil, err
		}
		return events(ElectionOpened{ElectionID: cmd.ElectionID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: cmd.Year, Quorum: q, Ballot: kind, Electorate: electorate}), nil
	})
}

// Nominate nominates a member for chair.
type Nominate struct {
	CommunityID uuid.UUID `json:"community_id"`
	ElectionID  uuid.UUID `json:"election_id"`
	NomineeID   uuid.UUID `json:"nominee_id"`
}

// Nominate records CandidateNominated by the acting person (nothing if the
// nominee's nomination is pending or accepted). Returns ErrNoActingPerson
// without a person acting, ErrNotAMember if the nominator or the
// nominee is not a member for the election's year, ErrNominationsClosed
// once voting has opened.
func (s *Service) Nominate(ctx context.Context, meta domain.Meta, cmd Nominate) (domain.Result, error) {
	by, err := actor(meta, "nominated_by", "Nominating")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("election_id", cmd.ElectionID, "the election"),
		required("nominee_id", cmd.NomineeID, "the member nominated")); err != nil {
		return domain.Result{}, err
	}
	meta, err = s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.ElectionID)
	if err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		e, err := findElection(c, cmd.ElectionID)
		if err != nil {
			return nil, err
		}
		if e.Status != StatusNominating {
			return nil, domain.Reject(ErrNominationsClosed, "voting in this election has opened; nominations are closed")
		}
		if !c.IsMember(by, e.Year) {
			return nil, domain.RejectField(ErrNotAMember, "nominated_by", "person %s is not a member of the %s ISLC for %s, so cannot nominate", by, c.Name, e.Year)
		}
		if !c.IsMember(cmd.NomineeID, e.Year) {
			return nil, domain.RejectField(ErrNotAMember, "nominee_id", "person %s is not a member of the %s ISLC for %s, so cannot stand", cmd.NomineeID, c.Name, e.Year)
		}
		if n, ok := e.Nomination(cmd.NomineeID); ok && (n.Answer == AnswerPending || n.Answer == AnswerAccepted) {
			return nil, nil
		}
		return events(CandidateNominated{ElectionID: e.ID, CommunityID: c.ID, NomineeID: cmd.NomineeID, NominatedBy: by}), nil
	})
}

// AnswerNomination is a nominee's answer to their nomination: the acting
// person answers for themselves.
type AnswerNomination struct {
	CommunityID uuid.UUID `json:"community_id"`
	ElectionID  uuid.UUID `json:"election_id"`
}

// AcceptNomination records NominationAccepted (nothing if already
// accepted). Returns ErrNotNominated without a pending nomination,
// ErrNominationsClosed once voting has opened.
func (s *Service) AcceptNomination(ctx context.Context, meta domain.Meta, cmd AnswerNomination) (domain.Result, error) {
	return s.answer(ctx, meta, cmd, true)
}

// DeclineNomination records NominationDeclined (nothing if already
// declined); a nominee who accepted may still decline before voting
// opens. Returns ErrNotNominated without a nomination,
// ErrNominationsClosed once voting has opened.
func (s *Service) DeclineNomination(ctx context.Context, meta domain.Meta, cmd AnswerNomination) (domain.Result, error) {
	return s.answer(ctx, meta, cmd, false)
}

func (s *Service) answer(ctx context.Context, meta domain.Meta, cmd AnswerNomination, accept bool) (domain.Result, error) {
	nominee, err := actor(meta, "nominee_id", "Answering a nomination")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("election_id", cmd.ElectionID, "the election")); err != nil {
		return domain.Result{}, err
	}
	meta, err = s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.ElectionID)
	if err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		e, err := findElection(c, cmd.ElectionID)
		if err != nil {
			return nil, err
		}
		if e.Status != StatusNominating {
			return nil, domain.Reject(ErrNominationsClosed, "voting in this election has opened; nominations can no longer be answered")
		}
		n, ok := e.Nomination(nominee)
		switch {
		case !ok || n.Answer == AnswerWithdrawn || accept && n.Answer == AnswerDeclined:
			return nil, domain.RejectField(ErrNotNominated, "nominee_id", "person %s has no open nomination in this election; a member must nominate them first", nominee)
		case accept && n.Answer == AnswerAccepted, !accept && n.Answer == AnswerDeclined:
			return nil, nil
		case accept:
			return events(NominationAccepted{ElectionID: e.ID, CommunityID: c.ID, NomineeID: nominee}), nil
		default:
			return events(NominationDeclined{ElectionID: e.ID, CommunityID: c.ID, NomineeID: nominee}), nil
		}
	})
}

// OpenVoting closes nominations and opens voting.
type OpenVoting struct {
	CommunityID uuid.UUID `json:"community_id"`
	ElectionID  uuid.UUID `json:"election_id"`
}

// OpenVoting records VotingOpened with the nominees who accepted (nothing
// if voting is already open). Returns ErrNoCandidates if no one accepted,
// ErrElectionNotOpen if the election is decided.
func (s *Service) OpenVoting(ctx context.Context, meta domain.Meta, cmd OpenVoting) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("election_id", cmd.ElectionID, "the election")); err != nil {
		return domain.Result{}, err
	}
	meta, err := s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.ElectionID)
	if err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		e, err := findElection(c, cmd.ElectionID)
		if err != nil {
			return nil, err
		}
		switch e.Status {
		case StatusVoting:
			return nil, nil
		case StatusClosed, StatusFailed:
			return nil, domain.Reject(ErrElectionNotOpen, "this election has already been decided")
		}
		candidates := e.Accepted()
		if len(candidates) == 0 {
			return nil, domain.Reject(ErrNoCandidates, "no nominee has accepted yet; voting opens once at least one member stands")
		}
		return events(VotingOpened{ElectionID: e.ID, CommunityID: c.ID, Candidates: candidates}), nil
	})
}

// CastVote casts a member's vote for a candidate.
type CastVote struct {
	CommunityID uuid.UUID `json:"community_id"`
	ElectionID  uuid.UUID `json:"election_id"`
	CandidateID uuid.UUID `json:"candidate_id"`
}

// CastVote records VoteCast: for a secret ballot with the choice sealed by
// the BallotBox, for an open ballot with the candidate. The voter is the
// acting person, always: no one votes for another. Returns
// ErrNoActingPerson without a person acting, ErrElectionNotOpen unless voting is open, ErrNotAMember unless the voter
// is in the electorate and still a member, ErrAlreadyVoted,
// ErrNotCandidate for someone not standing.
func (s *Service) CastVote(ctx context.Context, meta domain.Meta, cmd CastVote) (domain.Result, error) {
	voter, err := actor(meta, "voter_id", "Voting")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("election_id", cmd.ElectionID, "the election"),
		required("candidate_id", cmd.CandidateID, "the candidate")); err != nil {
		return domain.Result{}, err
	}
	meta, err = s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.ElectionID)
	if err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		e, err := findElection(c, cmd.ElectionID)
		if err != nil {
			return nil, err
		}
		if e.Status != StatusVoting {
			return nil, domain.Reject(ErrElectionNotOpen, "voting in this election is %s", map[string]string{StatusNominating: "not open yet", StatusClosed: "closed", StatusFailed: "closed"}[e.Status])
		}
		if err := checkVoter(c, &e.Ballot, voter); err != nil {
			return nil, err
		}
		if !e.Standing(cmd.CandidateID) {
			return nil, domain.RejectField(ErrNotCandidate, "candidate_id", "person %s is not standing in this election", cmd.CandidateID)
		}
		ev := VoteCast{ElectionID: e.ID, CommunityID: c.ID, VoterID: voter}
		if e.Secret() {
			sealed, err := s.box.Seal(e.ID, voter, cmd.CandidateID.String())
			if err != nil {
				return nil, fmt.Errorf("seal vote in election %s: %w", e.ID, err)
			}
			ev.SealedChoice = sealed
		} else {
			cand := cmd.CandidateID
			ev.CandidateID = &cand
		}
		return events(ev), nil
	})
}

// openChoices returns every vote's choice, opening sealed ones.
func (s *Service) openChoices(b *Ballot) ([]string, error) {
	out := make([]string, 0, len(b.votes))
	for _, v := range b.votes {
		if v.sealed == nil {
			out = append(out, v.choice)
			continue
		}
		choice, err := s.box.Open(b.ID, v.voter, v.sealed)
		if err != nil {
			return nil, fmt.Errorf("open the votes of ballot %s: %w", b.ID, err)
		}
		out = append(out, choice)
	}
	return out, nil
}

// CloseElection closes voting in an election.
type CloseElection struct {
	CommunityID uuid.UUID `json:"community_id"`
	ElectionID  uuid.UUID `json:"election_id"`
	// RunOffID is the id of the run-off opened on a tie (default
	// RunOffID(ElectionID)).
	RunOffID uuid.UUID `json:"run_off_id,omitzero"`
}

// CloseElection decides an election and then destroys its ballot key.
// Without a quorum it records ElectionFailed (the sealed votes are never
// opened). With one it opens the votes and records ElectionClosed with the
// tally and the shuffled choices, then either ChairElected, or on a tie
// RunOffCalled with the run-off's ElectionOpened and VotingOpened between
// the tied candidates (while the school's run-offs are not exhausted:
// SetTieBreak, two by default) or CastingVoteAwaited (once they are: the
// Director's casting vote decides, CastCastingVote), or ElectionFailed if
// no standing candidate had a vote; if the ballot's key is gone (a ledger
// restored from a backup, which never holds ballot keys), ElectionFailed
// with reason ballot_key_lost. Returns ErrElectionNotOpen unless voting is
// open; a close attempt on a decided election destroys its key all the
// same (a crash may have come between the result and the destruction). An
// error from destroying the key after the result was recorded is returned
// with the result.
func (s *Service) CloseElection(ctx context.Context, meta domain.Meta, cmd CloseElection) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("election_id", cmd.ElectionID, "the election")); err != nil {
		return domain.Result{}, err
	}
	runOff := cmd.RunOffID
	if runOff == uuid.Nil {
		runOff = RunOffID(cmd.ElectionID)
	}
	meta, err := s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.ElectionID)
	if err != nil {
		return domain.Result{}, err
	}
	decided := false
	// The school's rule for ties: how many run-offs before the
	// Director's casting vote.
	limit := DefaultRunOffs
	if c, err := s.community(ctx, "community_id", cmd.CommunityID); err == nil {
		sc, err := s.school(ctx, "community_id", c.SchoolID)
		if err != nil {
			return domain.Result{}, err
		}
		limit = sc.RunOffLimit()
	}
	res, err := run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		e, err := findElection(c, cmd.ElectionID)
		if err != nil {
			return nil, err
		}
		if e.Status != StatusVoting {
			decided = e.Decided()
			return nil, domain.Reject(ErrElectionNotOpen, "only an election whose voting is open can be closed; this one is %s", e.Status)
		}
		return s.decideElection(c, e, runOff, limit)
	})
	if err != nil {
		if decided {
			err = errors.Join(err, s.box.Destroy(cmd.ElectionID))
		}
		return res, err
	}
	if err := s.box.Destroy(cmd.ElectionID); err != nil {
		return res, fmt.Errorf("election %s closed but its ballot key was not destroyed: %w", cmd.ElectionID, err)
	}
	return res, nil
}

func (s *Service) decideElection(c *Community, e *Election, runOff uuid.UUID, runOffs int) ([]domain.Event, error) {
	n, turnout, req := len(e.Electorate), e.Turnout(), e.QuorumRequired()
	if turnout < req {
		return events(ElectionFailed{ElectionID: e.ID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: e.Year, Reason: "quorum_not_reached",
			ElectorateSize: n, Turnout: turnout, QuorumRequired: req}), nil
	}
	opened, err := s.openChoices(&e.Ballot)
	if errors.Is(err, ErrBallotKeyDestroyed) {
		return events(ElectionFailed{ElectionID: e.ID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: e.Year, Reason: "ballot_key_lost",
			ElectorateSize: n, Turnout: turnout, QuorumRequired: req}), nil
	}
	if err != nil {
		return nil, err
	}
	counts := map[uuid.UUID]int{}
	choices := make([]uuid.UUID, 0, len(opened))
	for _, o := range opened {
		id, err := uuid.Parse(o)
		if err != nil {
			return nil, fmt.Errorf("election %s: a vote holds %q, not a candidate id", e.ID, o)
		}
		counts[id]++
		choices = append(choices, id)
	}
	if choices, err = shuffle(choices); err != nil {
		return nil, err
	}
	tally := make([]TallyEntry, len(e.Candidates))
	top := 0
	for i, cand := range e.Candidates {
		tally[i] = TallyEntry{CandidateID: cand, Votes: counts[cand], Withdrawn: !e.Standing(cand)}
		if e.Standing(cand) {
			top = max(top, counts[cand])
		}
	}
	var winners []uuid.UUID
	for _, t := range tally {
		if !t.Withdrawn && t.Votes == top && top > 0 {
			winners = append(winners, t.CandidateID)
		}
	}
	closed := ElectionClosed{ElectionID: e.ID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: e.Year, Ballot: e.Kind,
		ElectorateSize: n, Turnout: turnout, QuorumRequired: req, Tally: tally, Choices: choices, Tie: len(winners) > 1}
	switch {
	case len(winners) == 0:
		return events(closed, ElectionFailed{ElectionID: e.ID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: e.Year, Reason: "no_standing_candidate",
			ElectorateSize: n, Turnout: turnout, QuorumRequired: req}), nil
	case len(winners) == 1:
		prev, _ := c.ChairInOffice(e.Year)
		return events(closed, ChairElected{CommunityID: c.ID, SchoolID: c.SchoolID, SegmentID: c.SegmentID, Year: e.Year, ChairID: winners[0], ElectionID: e.ID, PreviousID: prev}), nil
	}
	if e.RunOffDepth >= runOffs {
		// Tied after every run-off the school allows: the Director
		// decides.
		return events(closed, CastingVoteAwaited{ElectionID: e.ID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: e.Year, Candidates: winners, RunOffs: e.RunOffDepth}), nil
	}
	if _, ok := c.Election(runOff); ok {
		return nil, domain.RejectField(domain.ErrAlreadyExists, "run_off_id", "the %s ISLC already has an election %s; name another id for the run-off", c.Name, runOff)
	}
	return events(closed,
		RunOffCalled{ElectionID: e.ID, CommunityID: c.ID, Year: e.Year, RunOffID: runOff, Candidates: winners},
		ElectionOpened{ElectionID: runOff, CommunityID: c.ID, SchoolID: c.SchoolID, Year: e.Year, Quorum: e.Quorum, Ballot: e.Kind,
			Electorate: c.Members(e.Year), RunOffOf: e.ID},
		VotingOpened{ElectionID: runOff, CommunityID: c.ID, Candidates: winners}), nil
}

// RecordChairReward records the reward of an ISLC's chair in office.
type RecordChairReward struct {
	CommunityID uuid.UUID `json:"community_id"`
	Year        string    `json:"year"`
	ChairID     uuid.UUID `json:"chair_id"`
	// HoursPerWeek is the time allowance (0 to 40).
	HoursPerWeek float64 `json:"hours_per_week,omitempty"`
	Stipend      *Money  `json:"stipend,omitempty"`
}

// RecordChairReward records ChairRewardRecorded. Returns ErrNotChair unless
// ChairID is the chair in office for the year, domain.ErrRequired without
// hours or a stipend.
func (s *Service) RecordChairReward(ctx context.Context, meta domain.Meta, cmd RecordChairReward) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("chair_id", cmd.ChairID, "the chair"), validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	if cmd.HoursPerWeek == 0 && cmd.Stipend == nil {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "hours_per_week", "give the time allowance, the stipend, or both")
	}
	if cmd.HoursPerWeek < 0 || cmd.HoursPerWeek > 40 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "hours_per_week", "%.1f hours a week is not a possible allowance; give 0 to 40", cmd.HoursPerWeek)
	}
	if cmd.Stipend != nil {
		if err := cmd.Stipend.validate("stipend"); err != nil {
			return domain.Result{}, err
		}
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		if chair, ok := c.ChairInOffice(cmd.Year); !ok || chair != cmd.ChairID {
			return nil, domain.RejectField(ErrNotChair, "chair_id", "person %s is not the chair in office of the %s ISLC for %s", cmd.ChairID, c.Name, cmd.Year)
		}
		return events(ChairRewardRecorded{CommunityID: c.ID, SchoolID: c.SchoolID, Year: cmd.Year, ChairID: cmd.ChairID, HoursPerWeek: cmd.HoursPerWeek, Stipend: cmd.Stipend}), nil
	})
}

// CallConfidenceVote calls a vote of confidence in an ISLC's chair.
type CallConfidenceVote struct {
	CommunityID uuid.UUID `json:"community_id"`
	VoteID      uuid.UUID `json:"vote_id"`
	Year        string    `json:"year"`
	// Quorum defaults to a majority of the members.
	Quorum Quorum `json:"quorum,omitzero"`
	// Ballot is secret (the default) or open.
	Ballot string `json:"ballot,omitempty"`
}

// CallConfidenceVote records ConfidenceVoteCalled. Returns ErrNoChair
// without a chair in office, ErrNotAMember unless the caller is a member,
// ErrBallotInProgress while another ballot runs.
func (s *Service) CallConfidenceVote(ctx context.Context, meta domain.Meta, cmd CallConfidenceVote) (domain.Result, error) {
	by, err := actor(meta, "called_by", "Calling a confidence vote")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("vote_id", cmd.VoteID, "the confidence vote"),
		validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	kind, err := ballotKind(cmd.Ballot)
	if err != nil {
		return domain.Result{}, err
	}
	q := cmd.Quorum.normal()
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		chair, ok := c.ChairInOffice(cmd.Year)
		if !ok {
			return nil, domain.RejectField(ErrNoChair, "year", "the %s ISLC has no chair in office for %s", c.Name, cmd.Year)
		}
		if !c.IsMember(by, cmd.Year) {
			return nil, domain.RejectField(ErrNotAMember, "called_by", "person %s is not a member of the %s ISLC for %s, so cannot call a confidence vote", by, c.Name, cmd.Year)
		}
		electorate, err := newBallot(c, cmd.VoteID, "vote_id", cmd.Year, q)
		if err != nil {
			return nil, err
		}
		return events(ConfidenceVoteCalled{VoteID: cmd.VoteID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: cmd.Year, ChairID: chair, CalledBy: by,
			Quorum: q, Ballot: kind, Electorate: electorate}), nil
	})
}

// CastConfidenceVote casts a member's vote in a confidence vote.
type CastConfidenceVote struct {
	CommunityID uuid.UUID `json:"community_id"`
	VoteID      uuid.UUID `json:"vote_id"`
	// Choice is confidence or no_confidence.
	Choice string `json:"choice"`
}

// CastConfidenceVote records ConfidenceVoteCast, sealed for a secret
// ballot. Returns ErrElectionNotOpen once closed, ErrNotAMember,
// ErrAlreadyVoted, domain.ErrInvalidValue for another choice.
func (s *Service) CastConfidenceVote(ctx context.Context, meta domain.Meta, cmd CastConfidenceVote) (domain.Result, error) {
	voter, err := actor(meta, "voter_id", "Voting")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("vote_id", cmd.VoteID, "the confidence vote")); err != nil {
		return domain.Result{}, err
	}
	if cmd.Choice != ChoiceConfidence && cmd.Choice != ChoiceNoConfidence {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "choice", "%q is not a choice; vote confidence or no_confidence", cmd.Choice)
	}
	meta, err = s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.VoteID)
	if err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		v, err := findVote(c, cmd.VoteID)
		if err != nil {
			return nil, err
		}
		if v.Status != StatusVoting {
			return nil, domain.Reject(ErrElectionNotOpen, "this confidence vote is closed")
		}
		if err := checkVoter(c, &v.Ballot, voter); err != nil {
			return nil, err
		}
		ev := ConfidenceVoteCast{VoteID: v.ID, CommunityID: c.ID, VoterID: voter}
		if v.Secret() {
			sealed, err := s.box.Seal(v.ID, voter, cmd.Choice)
			if err != nil {
				return nil, fmt.Errorf("seal vote in confidence vote %s: %w", v.ID, err)
			}
			ev.SealedChoice = sealed
		} else {
			ev.Choice = cmd.Choice
		}
		return events(ev), nil
	})
}

// CloseConfidenceVote closes a confidence vote.
type CloseConfidenceVote struct {
	CommunityID uuid.UUID `json:"community_id"`
	VoteID      uuid.UUID `json:"vote_id"`
	// NextElectionID is the id of the election opened if the chair loses
	// (default NextElectionID(VoteID)).
	NextElectionID uuid.UUID `json:"next_election_id,omitzero"`
}

// CloseConfidenceVote records ConfidenceVoteClosed and destroys the vote's
// ballot key. The chair loses when, with a quorum, votes of no confidence
// outnumber votes of confidence (a tie keeps the chair); then ChairRemoved
// and a new election's ElectionOpened (secret, majority quorum) are
// recorded in the same step. A vote whose key is gone closes void (the
// chair stays). Returns ErrElectionNotOpen once closed; a close attempt on
// a closed vote destroys its key all the same.
func (s *Service) CloseConfidenceVote(ctx context.Context, meta domain.Meta, cmd CloseConfidenceVote) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("vote_id", cmd.VoteID, "the confidence vote")); err != nil {
		return domain.Result{}, err
	}
	next := cmd.NextElectionID
	if next == uuid.Nil {
		next = NextElectionID(cmd.VoteID)
	}
	meta, err := s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.VoteID)
	if err != nil {
		return domain.Result{}, err
	}
	decided := false
	res, err := run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if err := establishedCommunity(c, cmd.CommunityID); err != nil {
			return nil, err
		}
		v, err := findVote(c, cmd.VoteID)
		if err != nil {
			return nil, err
		}
		if v.Status != StatusVoting {
			decided = v.Decided()
			return nil, domain.Reject(ErrElectionNotOpen, "this confidence vote is already closed")
		}
		return s.decideConfidence(c, v, next)
	})
	if err != nil {
		if decided {
			err = errors.Join(err, s.box.Destroy(cmd.VoteID))
		}
		return res, err
	}
	if err := s.box.Destroy(cmd.VoteID); err != nil {
		return res, fmt.Errorf("confidence vote %s closed but its ballot key was not destroyed: %w", cmd.VoteID, err)
	}
	return res, nil
}

func (s *Service) decideConfidence(c *Community, v *ConfidenceVote, next uuid.UUID) ([]domain.Event, error) {
	closed := ConfidenceVoteClosed{VoteID: v.ID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: v.Year, ChairID: v.ChairID,
		ElectorateSize: len(v.Electorate), Turnout: v.Turnout(), QuorumRequired: v.QuorumRequired(), Choices: []string{}}
	if closed.Turnout < closed.QuorumRequired {
		closed.Outcome = OutcomeNoQuorum
		return events(closed), nil
	}
	opened, err := s.openChoices(&v.Ballot)
	if errors.Is(err, ErrBallotKeyDestroyed) {
		closed.Outcome = OutcomeVoid
		return events(closed), nil
	}
	if err != nil {
		return nil, err
	}
	for _, o := range opened {
		switch o {
		case ChoiceConfidence:
			closed.Confidence++
		case ChoiceNoConfidence:
			closed.NoConfidence++
		default:
			return nil, fmt.Errorf("confidence vote %s: a vote holds %q", v.ID, o)
		}
	}
	if closed.Choices, err = shuffle(opened); err != nil {
		return nil, err
	}
	closed.Outcome = OutcomeKept
	if closed.NoConfidence > closed.Confidence {
		closed.Outcome = OutcomeLost
	}
	out := events(closed)
	if chair, ok := c.ChairInOffice(v.Year); closed.Outcome != OutcomeLost || !ok || chair != v.ChairID {
		// Kept, or the chair has already left office: nothing more to do.
		return out, nil
	}
	electorate := c.Members(v.Year)
	if len(electorate) == 0 {
		// Everyone has left since voting: no one to elect from.
		return append(out, ChairRemoved{CommunityID: c.ID, SchoolID: c.SchoolID, Year: v.Year, ChairID: v.ChairID, VoteID: v.ID}), nil
	}
	if _, taken := c.Election(next); taken {
		return nil, domain.RejectField(domain.ErrAlreadyExists, "next_election_id", "the %s ISLC already has an election %s; name another id for the new election", c.Name, next)
	}
	return append(out,
		ChairRemoved{CommunityID: c.ID, SchoolID: c.SchoolID, Year: v.Year, ChairID: v.ChairID, VoteID: v.ID, NextElectionID: next},
		ElectionOpened{ElectionID: next, CommunityID: c.ID, SchoolID: c.SchoolID, Year: v.Year, Quorum: Quorum{Rule: QuorumMajority}, Ballot: BallotSecret,
			Electorate: electorate, AfterConfidenceVote: v.ID}), nil
}
