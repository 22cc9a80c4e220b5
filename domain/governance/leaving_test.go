package governance

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// leaversCalled records the calls of a Leavers.
type leaversCalled struct {
	calls []uuid.UUID
	days  []time.Time
}

func (l *leaversCalled) PersonLeftSchool(_ context.Context, meta domain.Meta, person, school uuid.UUID, lastDay time.Time) ([]domain.Message, error) {
	l.calls = append(l.calls, person)
	l.days = append(l.days, lastDay)
	return nil, nil
}

// Leaving the school ends, at its day, every membership not over by then,
// the chair held, the nominations in running elections, the seat on the
// Leadership Team and the votes of an open round, each as events the
// history shows; and tells the Leavers (secondments).
func TestLeavingTheSchoolEndsEveryPlace(t *testing.T) {
	w := newProposalWorld(t)
	hook := &leaversCalled{}
	w.svc.AddLeavers(hook)
	x := w.chair // chairs ISLC c; also a member of the other ISLC, nominated there
	w.givenMembers(w.other, year, x)
	w.givenMembers(w.c, prevYear, x) // last year's membership: over already
	el := domaintest.ID()
	w.Given(CommunityStream(w.other),
		ElectionOpened{ElectionID: el, CommunityID: w.other, SchoolID: w.school, Year: year, Quorum: Quorum{Rule: QuorumMajority}, Ballot: BallotSecret, Electorate: []uuid.UUID{w.staff[3], w.staff[4], x}},
		CandidateNominated{ElectionID: el, CommunityID: w.other, NomineeID: x, NominatedBy: w.staff[3]})
	id := w.givenSubmitted()
	w.ok(w.vote(id, x, VoteApprove, true, "Ready."))

	left := time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC)
	w.Clock.Set(left.AddDate(0, 0, 3)) // recorded after the fact
	res, err := w.svc.LeaveSchool(w.Ctx, w.meta, LeaveSchool{PersonID: x, LeftOn: left})
	w.ThenEvents(res, err,
		PersonLeftSchool{PersonID: x, SchoolID: w.school, LeftOn: left},
		MemberLeft{CommunityID: w.c, SchoolID: w.school, PersonID: x, Year: year, LeftOn: left, Exception: ExceptionLeftSchool},
		ChairVacated{CommunityID: w.c, SchoolID: w.school, Year: year, ChairID: x, Reason: ReasonLeftSchool},
		MemberLeft{CommunityID: w.other, SchoolID: w.school, PersonID: x, Year: year, LeftOn: left, Exception: ExceptionLeftSchool},
		CandidateWithdrawn{ElectionID: el, CommunityID: w.other, CandidateID: x, Reason: ReasonLeftSchool})
	for _, m := range res.Events[1:] {
		if !m.Meta.EffectiveAt.Equal(left) || m.Meta.CausationID != res.Events[0].ID {
			t.Fatalf("%s effective %s caused by %s; want the leaving day and the leaving", m.Type, m.Meta.EffectiveAt, m.Meta.CausationID)
		}
	}
	if len(hook.calls) != 1 || hook.calls[0] != x || !hook.days[0].Equal(left) {
		t.Fatalf("leavers told %v on %v, want %s on %s", hook.calls, hook.days, x, left)
	}
	c := w.community(w.c)
	if _, ok := c.ChairInOffice(year); ok || c.IsMember(x, year) {
		t.Fatal("still chair or member after leaving the school")
	}
	if m, _ := c.MembershipOf(x, prevYear); !m.Active() {
		t.Fatal("last year's membership was ended too")
	}
	// No longer on the Team: cannot vote, and the vote cast lapses.
	_, err = w.vote(id, x, VoteApprove, true, "again")
	w.ThenError(err, ErrNotLeadershipTeam)
	w.ok(w.vote(id, w.director, VoteApprove, true, "Yes."))
	w.ok(w.vote(id, w.chair2, VoteApprove, true, "Yes."))
	closed := w.ok(w.signOff(id, w.director, "Approved."))[0].(TeamVoteClosed)
	if len(closed.TeamInOffice) != 2 || closed.Turnout != 2 || closed.Votes[0].VoterID != x || closed.Votes[0].Counted {
		t.Fatalf("closed = %+v", closed)
	}
	// Recording the leaving again completes what is missing: nothing.
	res, err = w.svc.LeaveSchool(w.Ctx, w.meta, LeaveSchool{PersonID: x, LeftOn: left})
	w.ThenEvents(res, err)
}

// A membership of a year not yet started ends before it starts.
func TestLeavingEndsAMembershipOfNextYear(t *testing.T) {
	e := newEnv(t).givenSchool()
	p := e.givenStaff(1)[0]
	c := e.givenCommunity(0)
	next := MemberJoined{CommunityID: c, SchoolID: e.school, PersonID: p, Year: "2026-27", Basis: []string{BasisInterest},
		EffectiveFrom: yearStart.AddDate(1, 0, 0), TermEndsOn: yearEnd.AddDate(1, 0, 0)}
	e.Given(CommunityStream(c), next)
	left := time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC)
	e.Clock.Set(left)
	res, err := e.svc.LeaveSchool(e.Ctx, e.meta, LeaveSchool{PersonID: p, LeftOn: left})
	e.ThenEvents(res, err, PersonLeftSchool{PersonID: p, SchoolID: e.school, LeftOn: left},
		MemberLeft{CommunityID: c, SchoolID: e.school, PersonID: p, Year: "2026-27", LeftOn: left, Exception: ExceptionLeftSchool})
}

// The Director leaving leaves the school without a Director, and the
// Team's decisions wait for a new one to sign them off.
func TestDirectorLeavingTheSchool(t *testing.T) {
	w := newProposalWorld(t)
	id := w.givenSubmitted()
	w.ok(w.vote(id, w.chair, VoteApprove, true, "Yes."))
	w.ok(w.vote(id, w.chair2, VoteApprove, true, "Yes."))
	left := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	w.Clock.Set(left)
	res, err := w.svc.LeaveSchool(w.Ctx, w.meta, LeaveSchool{PersonID: w.director, LeftOn: left})
	w.ThenEvents(res, err, PersonLeftSchool{PersonID: w.director, SchoolID: w.school, LeftOn: left},
		DirectorLeft{SchoolID: w.school, DirectorID: w.director, LeftOn: left})
	if sc := w.schoolAgg(); sc.DirectorID != uuid.Nil {
		t.Fatalf("Director still %s", sc.DirectorID)
	}
	_, err = w.signOff(id, w.director, "Approved.")
	w.ThenError(err, ErrNotDirectorSignOff)
	successor := w.staff[4]
	w.ok(w.svc.AppointDirector(w.Ctx, w.meta, AppointDirector{SchoolID: w.school, DirectorID: successor}))
	w.ok(w.signOff(id, successor, "Approved by the Team; signed off by the new Director."))
}
