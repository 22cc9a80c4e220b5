package governance

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// A tied election is settled as the school decides: by run-offs between
// the tied candidates, as many as the school sets (DefaultRunOffs unless
// it sets another number with SetTieBreak), and when the last run-off ties
// too, by the casting vote of the Director, recorded. So no election ties
// for ever.

// DefaultRunOffs is how many run-offs settle a tie before the Director's
// casting vote, for a school that set no other rule: a run-off, then a
// second run-off.
const DefaultRunOffs = 2

// MaxRunOffs is the most run-offs a school may set.
const MaxRunOffs = 5

// TieBreakSet records how a school settles tied elections.
type TieBreakSet struct {
	SchoolID uuid.UUID `json:"school_id" doc:"Id of the school."`
	RunOffs  int       `json:"run_offs" doc:"How many run-offs between the tied candidates settle a tie before the Director's casting vote (0 to 5)."`
	Previous int       `json:"previous" doc:"The number it replaces (2 when none was set)."`
}

// CastingVoteAwaited records that an election tied after the run-offs the
// school allows: the Director's casting vote decides between the tied
// candidates.
type CastingVoteAwaited struct {
	ElectionID  uuid.UUID   `json:"election_id" doc:"Id of the tied election (the last run-off)."`
	CommunityID uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID   `json:"school_id" doc:"Id of the school."`
	Year        string      `json:"year" doc:"Academic year."`
	Candidates  []uuid.UUID `json:"candidates" doc:"The tied candidates, between whom the Director decides."`
	RunOffs     int         `json:"run_offs" doc:"How many run-offs were held before it."`
}

// CastingVoteCast records the Director's casting vote between the tied
// candidates; ChairElected follows in the same step.
type CastingVoteCast struct {
	ElectionID  uuid.UUID   `json:"election_id" doc:"Id of the tied election."`
	CommunityID uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID   `json:"school_id" doc:"Id of the school."`
	Year        string      `json:"year" doc:"Academic year."`
	DirectorID  uuid.UUID   `json:"director_id" doc:"The Director who cast it (the acting person)."`
	CandidateID uuid.UUID   `json:"candidate_id" doc:"The candidate the Director chose."`
	Candidates  []uuid.UUID `json:"candidates" doc:"The tied candidates."`
}

// EventType implements domain.Event.
func (TieBreakSet) EventType() string { return "TieBreakSet" }

// EventType implements domain.Event.
func (CastingVoteAwaited) EventType() string { return "CastingVoteAwaited" }

// EventType implements domain.Event.
func (CastingVoteCast) EventType() string { return "CastingVoteCast" }

func init() {
	domain.MustRegister[TieBreakSet](domain.Spec{Type: "TieBreakSet", Schema: 1, Group: Group,
		Doc: "A school set how many run-offs settle a tied election before the Director's casting vote (two until it does).", EmittedBy: []string{"SetTieBreak"}})
	domain.MustRegister[CastingVoteAwaited](domain.Spec{Type: "CastingVoteAwaited", Schema: 1, Group: Group, Uncorrectable: true,
		Doc: "An election tied after the run-offs the school allows; the Director's casting vote decides between the tied candidates.", EmittedBy: []string{"CloseElection"}})
	domain.MustRegister[CastingVoteCast](domain.Spec{Type: "CastingVoteCast", Schema: 1, Group: Group, Uncorrectable: true,
		Doc: "The Director's casting vote between the candidates of a tied election; ChairElected follows in the same step.", EmittedBy: []string{"CastCastingVote"}})
}

// RunOffLimit returns how many run-offs settle a tie in s before the
// Director's casting vote.
func (s *School) RunOffLimit() int {
	if s.tieBreakSet {
		return s.RunOffs
	}
	return DefaultRunOffs
}

// SetTieBreak sets how a school settles tied elections.
type SetTieBreak struct {
	SchoolID uuid.UUID `json:"school_id"`
	// RunOffs is how many run-offs settle a tie before the Director's
	// casting vote, 0 to 5; required (0 is a choice, not a default).
	RunOffs *int `json:"run_offs"`
}

// SetTieBreak records TieBreakSet (nothing if unchanged). Returns
// domain.ErrNotFound for an unknown school, domain.ErrRequired without a
// number of run-offs, domain.ErrInvalidValue for one outside 0 to 5.
func (s *Service) SetTieBreak(ctx context.Context, meta domain.Meta, cmd SetTieBreak) (domain.Result, error) {
	if err := required("school_id", cmd.SchoolID, "the school"); err != nil {
		return domain.Result{}, err
	}
	if cmd.RunOffs == nil {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "run_offs", "say how many run-offs settle a tie before the Director's casting vote, 0 to 5")
	}
	runOffs := *cmd.RunOffs
	if err := checkRunOffs(runOffs); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, SchoolStream(cmd.SchoolID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
		if !sc.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", cmd.SchoolID)
		}
		if sc.RunOffLimit() == runOffs {
			return nil, nil
		}
		return events(TieBreakSet{SchoolID: sc.ID, RunOffs: runOffs, Previous: sc.RunOffLimit()}), nil
	})
}

func checkRunOffs(n int) error {
	if n < 0 || n > MaxRunOffs {
		return domain.RejectField(domain.ErrInvalidValue, "run_offs", "%d run-offs is not a rule; give 0 to %d", n, MaxRunOffs)
	}
	return nil
}

// CastCastingVote is the Director's casting vote in a tied election.
type CastCastingVote struct {
	CommunityID uuid.UUID `json:"community_id"`
	ElectionID  uuid.UUID `json:"election_id"`
	CandidateID uuid.UUID `json:"candidate_id"`
}

// CastCastingVote records CastingVoteCast and ChairElected. The Director
// is the acting person. Returns ErrNoActingPerson without a person
// acting, ErrNotDirector unless they are the school's Director,
// ErrNoCastingVoteDue unless the election awaits a casting vote,
// ErrNotCandidate for someone not among the tied candidates.
func (s *Service) CastCastingVote(ctx context.Context, meta domain.Meta, cmd CastCastingVote) (domain.Result, error) {
	by, err := actor(meta, "director_id", "A casting vote")
	if err != nil {
		return domain.Result{}, err
	}
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("election_id", cmd.ElectionID, "the election"),
		required("candidate_id", cmd.CandidateID, "the candidate")); err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "community_id", cmd.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	sc, err := s.school(ctx, "community_id", c.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	if sc.DirectorID == uuid.Nil || sc.DirectorID != by {
		return domain.Result{}, domain.RejectField(ErrNotDirector, "director_id", "person %s is not the Director of %s; the Director casts the deciding vote", by, sc.Name)
	}
	meta, err = s.ballotMeta(ctx, meta, cmd.CommunityID, cmd.ElectionID)
	if err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		e, err := findElection(c, cmd.ElectionID)
		if err != nil {
			return nil, err
		}
		if !e.AwaitingCastingVote() {
			return nil, domain.Reject(ErrNoCastingVoteDue, "election %s of the %s ISLC awaits no casting vote", e.ID, c.Name)
		}
		if !slices.Contains(e.CastingCandidates, cmd.CandidateID) {
			return nil, domain.RejectField(ErrNotCandidate, "candidate_id", "person %s is not one of the tied candidates", cmd.CandidateID)
		}
		prev, _ := c.ChairInOffice(e.Year)
		return events(
			CastingVoteCast{ElectionID: e.ID, CommunityID: c.ID, SchoolID: c.SchoolID, Year: e.Year, DirectorID: by, CandidateID: cmd.CandidateID, Candidates: slices.Clone(e.CastingCandidates)},
			ChairElected{CommunityID: c.ID, SchoolID: c.SchoolID, SegmentID: c.SegmentID, Year: e.Year, ChairID: cmd.CandidateID, ElectionID: e.ID, PreviousID: prev}), nil
	})
}

// AwaitingCastingVote reports whether the election tied after every
// run-off allowed and waits for the Director's casting vote.
func (e *Election) AwaitingCastingVote() bool {
	return len(e.CastingCandidates) > 0 && e.ChairID == uuid.Nil
}
