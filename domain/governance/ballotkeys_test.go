package governance

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// failingOnceBox fails the first Destroy, as a crash between recording a
// result and destroying the key leaves it.
type failingOnceBox struct {
	*MemoryBallotBox
	failed bool
}

func (b *failingOnceBox) Destroy(ballot uuid.UUID) error {
	if !b.failed {
		b.failed = true
		return errors.New("disk gone")
	}
	return b.MemoryBallotBox.Destroy(ballot)
}

// Given an election closed whose key was not destroyed, when anyone tries
// to close it again, then the attempt is refused as before and the key is
// destroyed.
func TestCloseAttemptDestroysAKeyLeftBehind(t *testing.T) {
	e := newEnv(t).givenSchool()
	box := &failingOnceBox{MemoryBallotBox: e.box}
	e.svc = NewService(e.Handler, box)
	staff := e.givenStaff(3)
	c := e.givenCommunity(1)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:2], BallotSecret)
	e.vote(c, el, staff[0], staff[1])
	e.vote(c, el, staff[1], staff[1])
	var sealed VoteCast
	for _, m := range e.Messages() {
		if v, ok := m.Event.(VoteCast); ok {
			sealed = v
		}
	}
	_, err := e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	if err == nil {
		t.Fatal("the first close reported no failure to destroy the key")
	}
	if _, err := e.box.Open(el, sealed.VoterID, sealed.SealedChoice); err != nil {
		t.Fatalf("the key should have survived the failed destruction: %v", err)
	}
	if elec, _ := e.community(c).Election(el); !elec.Decided() {
		t.Fatal("the election was not closed")
	}
	e.Mark()

	_, err = e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrElectionNotOpen)
	if _, err := e.box.Open(el, sealed.VoterID, sealed.SealedChoice); !errors.Is(err, ErrBallotKeyDestroyed) {
		t.Fatalf("open after the second close attempt: %v, want ErrBallotKeyDestroyed", err)
	}
}

// Given a secret ballot whose key is gone before it closes (a ledger
// restored from a backup, which holds no ballot keys), when it is closed,
// then it fails (an election) or closes void (a confidence vote) instead
// of staying open for ever, and the chair is untouched.
func TestBallotWithLostKeyClosesWithoutACount(t *testing.T) {
	t.Run("election", func(t *testing.T) {
		e := newEnv(t).givenSchool()
		staff := e.givenStaff(3)
		c := e.givenCommunity(2)
		e.givenMembers(c, year, staff...)
		el := e.givenVoting(c, staff, staff[:2], BallotSecret)
		e.vote(c, el, staff[0], staff[0])
		e.vote(c, el, staff[1], staff[0])
		if err := e.box.Destroy(el); err != nil {
			t.Fatal(err)
		}
		got := e.ok(e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el}))
		if types(got) != "ElectionFailed" {
			t.Fatalf("recorded %s, want ElectionFailed", types(got))
		}
		if f := got[0].(ElectionFailed); f.Reason != "ballot_key_lost" || f.Turnout != 2 {
			t.Fatalf("failed = %+v", f)
		}
		if _, ok := e.community(c).ChairInOffice(year); ok {
			t.Fatal("a chair was elected without a count")
		}
	})
	t.Run("confidence vote", func(t *testing.T) {
		e := newEnv(t).givenSchool()
		staff := e.givenStaff(3)
		c := e.givenCommunity(0)
		e.givenMembers(c, year, staff...)
		e.givenChair(c, year, staff[0])
		vote := domaintest.ID()
		e.ok(e.svc.CallConfidenceVote(e.Ctx, as(staff[2], domain.RoleStaff), CallConfidenceVote{CommunityID: c, VoteID: vote, Year: year}))
		for _, voter := range staff[1:] {
			e.ok(e.svc.CastConfidenceVote(e.Ctx, as(voter, domain.RoleStaff), CastConfidenceVote{CommunityID: c, VoteID: vote, Choice: ChoiceNoConfidence}))
		}
		if err := e.box.Destroy(vote); err != nil {
			t.Fatal(err)
		}
		got := e.ok(e.svc.CloseConfidenceVote(e.Ctx, e.meta, CloseConfidenceVote{CommunityID: c, VoteID: vote}))
		if len(got) != 1 || got[0].(ConfidenceVoteClosed).Outcome != OutcomeVoid {
			t.Fatalf("recorded %+v, want one ConfidenceVoteClosed, void", got)
		}
		if chair, ok := e.community(c).ChairInOffice(year); !ok || chair != staff[0] {
			t.Fatal("the chair lost office without a count")
		}
	})
}
