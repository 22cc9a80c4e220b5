package governance

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// tie has the first four members vote two each way between candidates a
// and b in election el, and closes it.
func (e *env) tie(c, el, a, b uuid.UUID, voters []uuid.UUID) []domain.Event {
	e.t.Helper()
	for i, v := range voters[:4] {
		cand := a
		if i%2 == 1 {
			cand = b
		}
		e.vote(c, el, v, cand)
	}
	return e.ok(e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el}))
}

// A tie is settled as the school decides: by default a run-off, then a
// second run-off, then the Director's casting vote, recorded; so no
// election ties for ever.
func TestTieBreakEndsInTheDirectorsCastingVote(t *testing.T) {
	e := newEnv(t).givenSchool()
	director := e.givenDirector()
	staff := e.givenStaff(5)
	c := e.givenCommunity(1)
	e.givenMembers(c, year, staff...)
	a, b := staff[0], staff[1]
	el := e.givenVoting(c, staff, []uuid.UUID{a, b}, BallotSecret)
	if got := types(e.tie(c, el, a, b, staff)); got != "ElectionClosed,RunOffCalled,ElectionOpened,VotingOpened" {
		t.Fatalf("the election's tie recorded %s, want a run-off", got)
	}
	first := RunOffID(el)
	if got := types(e.tie(c, first, a, b, staff)); got != "ElectionClosed,RunOffCalled,ElectionOpened,VotingOpened" {
		t.Fatalf("the run-off's tie recorded %s, want a second run-off", got)
	}
	second := RunOffID(first)
	got := e.tie(c, second, a, b, staff)
	if types(got) != "ElectionClosed,CastingVoteAwaited" {
		t.Fatalf("the second run-off's tie recorded %s, want the Director's casting vote awaited", types(got))
	}
	if w := got[1].(CastingVoteAwaited); w.ElectionID != second || w.RunOffs != 2 || !slices.Equal(w.Candidates, []uuid.UUID{a, b}) {
		t.Fatalf("awaited = %+v", w)
	}
	// No other ballot while the casting vote is due.
	_, err := e.svc.OpenElection(e.Ctx, e.meta, OpenElection{CommunityID: c, ElectionID: domaintest.ID(), Year: year})
	e.ThenError(err, ErrBallotInProgress)

	cast := func(by, cand uuid.UUID) (domain.Result, error) {
		return e.svc.CastCastingVote(e.Ctx, as(by, domain.RoleDirector), CastCastingVote{CommunityID: c, ElectionID: second, CandidateID: cand})
	}
	_, err = cast(staff[2], a)
	e.ThenError(err, ErrNotDirector)
	_, err = cast(director, staff[2])
	e.ThenError(err, ErrNotCandidate)
	_, err = e.svc.CastCastingVote(e.Ctx, as(director, domain.RoleDirector), CastCastingVote{CommunityID: c, ElectionID: el, CandidateID: a})
	e.ThenError(err, ErrNoCastingVoteDue)
	res, err := cast(director, b)
	e.ThenEvents(res, err,
		CastingVoteCast{ElectionID: second, CommunityID: c, SchoolID: e.school, Year: year, DirectorID: director, CandidateID: b, Candidates: []uuid.UUID{a, b}},
		ChairElected{CommunityID: c, SchoolID: e.school, SegmentID: e.segs[1].ID, Year: year, ChairID: b, ElectionID: second})
	if chair, ok := e.community(c).ChairInOffice(year); !ok || chair != b {
		t.Fatalf("chair = %s %v, want %s", chair, ok, b)
	}
	_, err = cast(director, a)
	e.ThenError(err, ErrNoCastingVoteDue)
	// Its correlation is the election's: the whole tie-break is one
	// decision.
	if res.Events[0].Meta.CorrelationID != e.community(c).Elections[0].CorrelationID {
		t.Fatal("the casting vote is not part of the election's decision")
	}
}

// A school may decide that the Director's casting vote settles a tie at
// once, or after more run-offs.
func TestSchoolSetsTheTieBreak(t *testing.T) {
	e := newEnv(t).givenSchool()
	e.givenDirector()
	staff := e.givenStaff(5)
	c := e.givenCommunity(1)
	e.givenMembers(c, year, staff...)
	_, err := e.svc.SetTieBreak(e.Ctx, e.meta, SetTieBreak{SchoolID: e.school})
	e.ThenError(err, domain.ErrRequired)
	_, err = e.svc.SetTieBreak(e.Ctx, e.meta, SetTieBreak{SchoolID: e.school, RunOffs: new(6)})
	e.ThenError(err, domain.ErrInvalidValue)
	res, err := e.svc.SetTieBreak(e.Ctx, e.meta, SetTieBreak{SchoolID: e.school, RunOffs: new(0)})
	e.ThenEvents(res, err, TieBreakSet{SchoolID: e.school, RunOffs: 0, Previous: DefaultRunOffs})
	res, err = e.svc.SetTieBreak(e.Ctx, e.meta, SetTieBreak{SchoolID: e.school, RunOffs: new(0)})
	e.ThenEvents(res, err)
	el := e.givenVoting(c, staff, staff[:2], BallotOpen)
	if got := types(e.tie(c, el, staff[0], staff[1], staff)); got != "ElectionClosed,CastingVoteAwaited" {
		t.Fatalf("with no run-offs a tie recorded %s, want the casting vote awaited", got)
	}
}
