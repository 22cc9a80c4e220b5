package governance

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// ok checks that a command succeeded and takes the log as the new
// baseline, for commands whose events hold random bytes (sealed votes,
// shuffled choices).
func (e *env) ok(res domain.Result, err error) []domain.Event {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("command failed: %v", err)
	}
	e.Mark()
	out := make([]domain.Event, len(res.Events))
	for i, m := range res.Events {
		out[i] = m.Event
	}
	return out
}

func types(es []domain.Event) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.EventType()
	}
	return strings.Join(s, ",")
}

// givenVoting records an election of c for year, open for voting between
// candidates, with electorate members.
func (e *env) givenVoting(c uuid.UUID, members, candidates []uuid.UUID, ballot string) uuid.UUID {
	e.t.Helper()
	el := domaintest.ID()
	evs := []domain.Event{ElectionOpened{ElectionID: el, CommunityID: c, SchoolID: e.school, Year: year, Quorum: Quorum{Rule: QuorumMajority}, Ballot: ballot, Electorate: members}}
	for _, cand := range candidates {
		evs = append(evs, CandidateNominated{ElectionID: el, CommunityID: c, NomineeID: cand, NominatedBy: cand}, NominationAccepted{ElectionID: el, CommunityID: c, NomineeID: cand})
	}
	evs = append(evs, VotingOpened{ElectionID: el, CommunityID: c, Candidates: candidates})
	e.Given(CommunityStream(c), evs...)
	return el
}

func (e *env) vote(c, el, voter, cand uuid.UUID) {
	e.t.Helper()
	e.ok(e.svc.CastVote(e.Ctx, as(voter, domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: cand}))
}

func TestOpenElection(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(5)
	c := e.givenCommunity(0)
	empty := e.givenCommunity(1)
	e.givenMembers(c, year, staff...)
	el := domaintest.ID()

	cases := []struct {
		name string
		cmd  OpenElection
		rule error
	}{
		{"no members", OpenElection{CommunityID: empty, ElectionID: el, Year: year}, ErrEmptyRoster},
		{"bad quorum rule", OpenElection{CommunityID: c, ElectionID: el, Year: year, Quorum: Quorum{Rule: "most"}}, domain.ErrInvalidValue},
		{"quorum above members", OpenElection{CommunityID: c, ElectionID: el, Year: year, Quorum: Quorum{Rule: QuorumCount, Count: 6}}, domain.ErrInvalidValue},
		{"quorum percent zero", OpenElection{CommunityID: c, ElectionID: el, Year: year, Quorum: Quorum{Rule: QuorumPercent}}, domain.ErrInvalidValue},
		{"bad ballot", OpenElection{CommunityID: c, ElectionID: el, Year: year, Ballot: "postal"}, domain.ErrInvalidValue},
		{"bad year", OpenElection{CommunityID: c, ElectionID: el, Year: "this year"}, domain.ErrInvalidValue},
		{"no ISLC", OpenElection{CommunityID: domaintest.ID(), ElectionID: el, Year: year}, domain.ErrNotFound},
	}
	for _, tc := range cases {
		_, err := e.svc.OpenElection(e.Ctx, e.meta, tc.cmd)
		e.ThenError(err, tc.rule)
	}

	res, err := e.svc.OpenElection(e.Ctx, e.meta, OpenElection{CommunityID: c, ElectionID: el, Year: year})
	e.ThenEvents(res, err, ElectionOpened{ElectionID: el, CommunityID: c, SchoolID: e.school, Year: year, Quorum: Quorum{Rule: QuorumMajority}, Ballot: BallotSecret, Electorate: staff})
	_, err = e.svc.OpenElection(e.Ctx, e.meta, OpenElection{CommunityID: c, ElectionID: domaintest.ID(), Year: year})
	e.ThenError(err, ErrBallotInProgress)
	_, err = e.svc.OpenElection(e.Ctx, e.meta, OpenElection{CommunityID: c, ElectionID: el, Year: year})
	e.ThenError(err, domain.ErrAlreadyExists)
}

func TestQuorumRequired(t *testing.T) {
	for _, tc := range []struct {
		q    Quorum
		n    int
		want int
	}{
		{Quorum{}, 5, 3}, {Quorum{}, 4, 3}, {Quorum{Rule: QuorumMajority}, 1, 1},
		{Quorum{Rule: QuorumPercent, Percent: 40}, 5, 2}, {Quorum{Rule: QuorumPercent, Percent: 50}, 5, 3}, {Quorum{Rule: QuorumPercent, Percent: 100}, 7, 7},
		{Quorum{Rule: QuorumCount, Count: 2}, 9, 2},
	} {
		if got := tc.q.Required(tc.n); got != tc.want {
			t.Errorf("%+v of %d = %d, want %d", tc.q, tc.n, got, tc.want)
		}
	}
}

func TestNominations(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(5)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff[:4]...)
	el := domaintest.ID()
	e.Given(CommunityStream(c), ElectionOpened{ElectionID: el, CommunityID: c, SchoolID: e.school, Year: year, Quorum: Quorum{Rule: QuorumMajority}, Ballot: BallotSecret, Electorate: staff[:4]})
	outsider := staff[4]

	// A member nominates (the nominator defaults to the acting person).
	res, err := e.svc.Nominate(e.Ctx, as(staff[1], domain.RoleStaff), Nominate{CommunityID: c, ElectionID: el, NomineeID: staff[0]})
	e.ThenEvents(res, err, CandidateNominated{ElectionID: el, CommunityID: c, NomineeID: staff[0], NominatedBy: staff[1]})
	res, err = e.svc.Nominate(e.Ctx, as(staff[2], domain.RoleStaff), Nominate{CommunityID: c, ElectionID: el, NomineeID: staff[0]})
	e.ThenEvents(res, err) // already nominated: nothing new
	res, err = e.svc.Nominate(e.Ctx, as(staff[2], domain.RoleStaff), Nominate{CommunityID: c, ElectionID: el, NomineeID: staff[2]})
	e.ThenEvents(res, err, CandidateNominated{ElectionID: el, CommunityID: c, NomineeID: staff[2], NominatedBy: staff[2]})

	for _, tc := range []struct {
		name string
		cmd  Nominate
		by   uuid.UUID
		rule error
	}{
		{"nominator not a member", Nominate{CommunityID: c, ElectionID: el, NomineeID: staff[3]}, outsider, ErrNotAMember},
		{"nominee not a member", Nominate{CommunityID: c, ElectionID: el, NomineeID: outsider}, staff[3], ErrNotAMember},
		{"no person acting", Nominate{CommunityID: c, ElectionID: el, NomineeID: staff[3]}, uuid.Nil, ErrNoActingPerson},
		{"no such election", Nominate{CommunityID: c, ElectionID: domaintest.ID(), NomineeID: staff[3]}, staff[3], domain.ErrNotFound},
	} {
		_, err := e.svc.Nominate(e.Ctx, actorMeta(e.meta, tc.by), tc.cmd)
		e.ThenError(err, tc.rule)
	}

	res, err = e.svc.AcceptNomination(e.Ctx, as(staff[0], domain.RoleStaff), AnswerNomination{CommunityID: c, ElectionID: el})
	e.ThenEvents(res, err, NominationAccepted{ElectionID: el, CommunityID: c, NomineeID: staff[0]})
	res, err = e.svc.AcceptNomination(e.Ctx, as(staff[0], domain.RoleStaff), AnswerNomination{CommunityID: c, ElectionID: el})
	e.ThenEvents(res, err)
	res, err = e.svc.DeclineNomination(e.Ctx, as(staff[2], domain.RoleStaff), AnswerNomination{CommunityID: c, ElectionID: el})
	e.ThenEvents(res, err, NominationDeclined{ElectionID: el, CommunityID: c, NomineeID: staff[2]})
	_, err = e.svc.AcceptNomination(e.Ctx, as(staff[2], domain.RoleStaff), AnswerNomination{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrNotNominated)
	_, err = e.svc.AcceptNomination(e.Ctx, as(staff[3], domain.RoleStaff), AnswerNomination{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrNotNominated)

	res, err = e.svc.OpenVoting(e.Ctx, e.meta, OpenVoting{CommunityID: c, ElectionID: el})
	e.ThenEvents(res, err, VotingOpened{ElectionID: el, CommunityID: c, Candidates: []uuid.UUID{staff[0]}})
	res, err = e.svc.OpenVoting(e.Ctx, e.meta, OpenVoting{CommunityID: c, ElectionID: el})
	e.ThenEvents(res, err)
	_, err = e.svc.Nominate(e.Ctx, as(staff[3], domain.RoleStaff), Nominate{CommunityID: c, ElectionID: el, NomineeID: staff[3]})
	e.ThenError(err, ErrNominationsClosed)
	_, err = e.svc.DeclineNomination(e.Ctx, as(staff[0], domain.RoleStaff), AnswerNomination{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrNominationsClosed)

	// Every event of the election shares the correlation id of its opening.
	var opened uuid.UUID
	for _, m := range e.Messages() {
		if _, ok := m.Event.(ElectionOpened); ok {
			opened = m.ID // given with no correlation: its own id starts one
			continue
		}
		if m.Stream == CommunityStream(c) && opened != uuid.Nil && m.Meta.CorrelationID != opened {
			if _, isJoin := m.Event.(MemberJoined); !isJoin {
				t.Fatalf("%s has correlation %s, want %s", m.Type, m.Meta.CorrelationID, opened)
			}
		}
	}
}

func TestOpenVotingNeedsCandidates(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(3)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	el := domaintest.ID()
	e.Given(CommunityStream(c), ElectionOpened{ElectionID: el, CommunityID: c, SchoolID: e.school, Year: year, Quorum: Quorum{Rule: QuorumMajority}, Ballot: BallotSecret, Electorate: staff},
		CandidateNominated{ElectionID: el, CommunityID: c, NomineeID: staff[0], NominatedBy: staff[1]})
	_, err := e.svc.OpenVoting(e.Ctx, e.meta, OpenVoting{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrNoCandidates)
	_, err = e.svc.CastVote(e.Ctx, as(staff[1], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]})
	e.ThenError(err, ErrElectionNotOpen)
	_, err = e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrElectionNotOpen)
}

func TestCastVote(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(6)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff[:4]...)
	el := e.givenVoting(c, staff[:4], staff[:2], BallotSecret)
	e.givenMembers(c, year, staff[4]) // joined after the election opened

	res, err := e.svc.CastVote(e.Ctx, as(staff[2], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]})
	got := e.ok(res, err)
	v := got[0].(VoteCast)
	if v.VoterID != staff[2] || v.CandidateID != nil || len(v.SealedChoice) == 0 {
		t.Fatalf("vote = %+v", v)
	}
	if strings.Contains(string(e.Log.All()[len(e.Log.All())-1].Data), staff[0].String()) {
		t.Fatal("a secret vote's data names the candidate")
	}
	if choice, err := e.box.Open(el, staff[2], v.SealedChoice); err != nil || choice != staff[0].String() {
		t.Fatalf("sealed choice opens to %q, %v", choice, err)
	}

	for _, tc := range []struct {
		name string
		cmd  CastVote
		by   uuid.UUID
		rule error
	}{
		{"twice", CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[1]}, staff[2], ErrAlreadyVoted},
		{"not a member", CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]}, staff[5], ErrNotAMember},
		{"joined after opening", CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]}, staff[4], ErrNotAMember},
		{"not a candidate", CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[3]}, staff[3], ErrNotCandidate},
		{"no candidate", CastVote{CommunityID: c, ElectionID: el}, staff[3], domain.ErrRequired},
		{"no person acting", CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]}, uuid.Nil, ErrNoActingPerson},
	} {
		_, err := e.svc.CastVote(e.Ctx, actorMeta(e.meta, tc.by), tc.cmd)
		e.ThenError(err, tc.rule)
		// The refusal is said to the voter, who is the actor: it names no
		// person's id.
		if (tc.rule == ErrAlreadyVoted || tc.rule == ErrNotAMember) && strings.Contains(err.Error(), tc.by.String()) {
			t.Errorf("%s: the refusal %q shows the voter's id", tc.name, err)
		}
	}
	// Results stay hidden while voting is open.
	if elec, _ := e.community(c).Election(el); elec.Turnout() != 1 {
		t.Fatalf("turnout = %d", elec.Turnout())
	} else if _, ok := elec.Results(); ok {
		t.Fatal("results visible before the close")
	}
}

// The heart of the secret ballot: after the close the tally and the
// shuffled choices are recorded, the key is gone, and nothing recorded
// links a voter to a choice.
func TestSecretBallotClose(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(5)
	c := e.givenCommunity(3)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:2], BallotSecret)
	votes := map[uuid.UUID]uuid.UUID{staff[0]: staff[0], staff[1]: staff[0], staff[2]: staff[1], staff[3]: staff[0]}
	for voter, cand := range votes {
		e.vote(c, el, voter, cand)
	}
	var sealed []VoteCast
	for _, m := range e.Messages() {
		if v, ok := m.Event.(VoteCast); ok {
			sealed = append(sealed, v)
		}
	}

	res, err := e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	got := e.ok(res, err)
	if types(got) != "ElectionClosed,ChairElected" {
		t.Fatalf("recorded %s", types(got))
	}
	closed := got[0].(ElectionClosed)
	wantTally := []TallyEntry{{CandidateID: staff[0], Votes: 3}, {CandidateID: staff[1], Votes: 1}}
	if !slices.Equal(closed.Tally, wantTally) || closed.Turnout != 4 || closed.ElectorateSize != 5 || closed.QuorumRequired != 3 || closed.Tie {
		t.Fatalf("closed = %+v", closed)
	}
	if got, want := sortedIDs(closed.Choices), sortedIDs([]uuid.UUID{staff[0], staff[0], staff[0], staff[1]}); !slices.Equal(got, want) {
		t.Fatalf("choices = %v, want %v in any order", got, want)
	}
	if ce := got[1].(ChairElected); ce.ChairID != staff[0] || ce.ElectionID != el || ce.SegmentID != e.segs[3].ID || ce.Year != year {
		t.Fatalf("chair elected = %+v", ce)
	}

	// The key is destroyed: no sealed choice can be opened again.
	for _, v := range sealed {
		if _, err := e.box.Open(el, v.VoterID, v.SealedChoice); !errors.Is(err, ErrBallotKeyDestroyed) {
			t.Fatalf("open after close: err = %v, want ErrBallotKeyDestroyed", err)
		}
	}
	// No recorded event links a voter and a choice: votes carry no
	// candidate, and the result carries no voter.
	for _, r := range e.Log.All() {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r.Data, &fields); err != nil {
			t.Fatal(err)
		}
		switch r.Type {
		case "VoteCast":
			if _, ok := fields["candidate_id"]; ok {
				t.Fatalf("a secret VoteCast names its candidate: %s", r.Data)
			}
		case "ElectionClosed", "ChairElected":
			for voter := range votes {
				if !slices.Contains(staff[:2], voter) && strings.Contains(string(r.Data), voter.String()) {
					t.Fatalf("%s names voter %s: %s", r.Type, voter, r.Data)
				}
			}
		}
	}
	com := e.community(c)
	if chair, ok := com.ChairInOffice(year); !ok || chair != staff[0] {
		t.Fatalf("chair = %s %v", chair, ok)
	}
	elec, _ := com.Election(el)
	if tally, ok := elec.Results(); !ok || !slices.Equal(tally, wantTally) || !elec.Decided() {
		t.Fatalf("results = %v %v", tally, ok)
	}
	_, err = e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrElectionNotOpen)
	_, err = e.svc.CastVote(e.Ctx, as(staff[4], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]})
	e.ThenError(err, ErrElectionNotOpen)
}

// countingBox counts how often sealed choices are opened.
type countingBox struct {
	*MemoryBallotBox
	opened atomic.Int32
}

func (b *countingBox) Open(ballot, voter uuid.UUID, sealed []byte) (string, error) {
	b.opened.Add(1)
	return b.MemoryBallotBox.Open(ballot, voter, sealed)
}

func TestElectionFailsWithoutQuorum(t *testing.T) {
	e := newEnv(t).givenSchool()
	box := &countingBox{MemoryBallotBox: e.box}
	e.svc = NewService(e.Handler, box)
	staff := e.givenStaff(5)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:2], BallotSecret)
	e.vote(c, el, staff[0], staff[1])
	e.vote(c, el, staff[1], staff[1])

	res, err := e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	e.ThenEvents(res, err, ElectionFailed{ElectionID: el, CommunityID: c, SchoolID: e.school, Year: year, Reason: "quorum_not_reached", ElectorateSize: 5, Turnout: 2, QuorumRequired: 3})
	if n := box.opened.Load(); n != 0 {
		t.Fatalf("opened %d sealed votes of an inquorate election", n)
	}
	if _, err := e.box.Seal(el, staff[2], staff[0].String()); !errors.Is(err, ErrBallotKeyDestroyed) {
		t.Fatalf("key still usable after the close: %v", err)
	}
	com := e.community(c)
	if _, ok := com.ChairInOffice(year); ok {
		t.Fatal("a failed election elected a chair")
	}
	if elec, _ := com.Election(el); elec.Status != StatusFailed || elec.FailReason != "quorum_not_reached" {
		t.Fatalf("election = %+v", elec)
	}
	// Another election can now be opened.
	e.ok(e.svc.OpenElection(e.Ctx, e.meta, OpenElection{CommunityID: c, ElectionID: domaintest.ID(), Year: year, Quorum: Quorum{Rule: QuorumCount, Count: 2}}))
}

func TestTieCallsRunOff(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(5)
	c := e.givenCommunity(1)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:3], BallotSecret)
	e.vote(c, el, staff[0], staff[0])
	e.vote(c, el, staff[1], staff[1])
	e.vote(c, el, staff[2], staff[0])
	e.vote(c, el, staff[3], staff[1])

	res, err := e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	got := e.ok(res, err)
	if types(got) != "ElectionClosed,RunOffCalled,ElectionOpened,VotingOpened" {
		t.Fatalf("recorded %s", types(got))
	}
	runOff := RunOffID(el)
	tied := []uuid.UUID{staff[0], staff[1]}
	if closed := got[0].(ElectionClosed); !closed.Tie || closed.Tally[2].Votes != 0 {
		t.Fatalf("closed = %+v", closed)
	}
	if r := got[1].(RunOffCalled); r.RunOffID != runOff || !slices.Equal(r.Candidates, tied) {
		t.Fatalf("run-off = %+v", r)
	}
	if o := got[2].(ElectionOpened); o.ElectionID != runOff || o.RunOffOf != el || o.Ballot != BallotSecret || len(o.Electorate) != 5 {
		t.Fatalf("opened = %+v", o)
	}
	if v := got[3].(VotingOpened); v.ElectionID != runOff || !slices.Equal(v.Candidates, tied) {
		t.Fatalf("voting = %+v", v)
	}
	// Only the tied candidates stand in the run-off.
	_, err = e.svc.CastVote(e.Ctx, as(staff[0], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: runOff, CandidateID: staff[2]})
	e.ThenError(err, ErrNotCandidate)
	e.vote(c, runOff, staff[0], staff[1])
	e.vote(c, runOff, staff[1], staff[1])
	e.vote(c, runOff, staff[4], staff[0])
	got = e.ok(e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: runOff}))
	if types(got) != "ElectionClosed,ChairElected" || got[1].(ChairElected).ChairID != staff[1] || got[1].(ChairElected).ElectionID != runOff {
		t.Fatalf("run-off recorded %s %+v", types(got), got)
	}
	// The run-off belongs to the same decision as the tied election.
	msgs := e.Messages()
	var corr uuid.UUID
	for _, m := range msgs {
		if o, ok := m.Event.(ElectionOpened); ok && o.ElectionID == el {
			corr = m.ID // given with no correlation: its own id starts one
		}
	}
	for _, m := range msgs[len(msgs)-len(got)-3-4:] {
		if m.Meta.CorrelationID != corr {
			t.Fatalf("%s has correlation %s, want %s", m.Type, m.Meta.CorrelationID, corr)
		}
	}
}

func TestOpenBallot(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(3)
	c := e.givenCommunity(4)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:2], BallotOpen)
	res, err := e.svc.CastVote(e.Ctx, as(staff[2], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[1]})
	e.ThenEvents(res, err, VoteCast{ElectionID: el, CommunityID: c, VoterID: staff[2], CandidateID: ptr(staff[1])})
	res, err = e.svc.CastVote(e.Ctx, as(staff[1], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[1]})
	e.ThenEvents(res, err, VoteCast{ElectionID: el, CommunityID: c, VoterID: staff[1], CandidateID: ptr(staff[1])})
	if elec, _ := e.community(c).Election(el); elec.Secret() {
		t.Fatal("open ballot reads as secret")
	} else if _, ok := elec.Results(); ok {
		t.Fatal("open ballot results visible before close")
	}
	res, err = e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el})
	e.ThenEvents(res, err,
		ElectionClosed{ElectionID: el, CommunityID: c, SchoolID: e.school, Year: year, Ballot: BallotOpen, ElectorateSize: 3, Turnout: 2, QuorumRequired: 2,
			Tally: []TallyEntry{{CandidateID: staff[0]}, {CandidateID: staff[1], Votes: 2}}, Choices: []uuid.UUID{staff[1], staff[1]}},
		ChairElected{CommunityID: c, SchoolID: e.school, SegmentID: e.segs[4].ID, Year: year, ChairID: staff[1], ElectionID: el})
}

func TestWithdrawnCandidateCannotWin(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(5)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:2], BallotSecret)
	e.vote(c, el, staff[2], staff[0])
	e.vote(c, el, staff[3], staff[0])
	e.vote(c, el, staff[4], staff[1])
	got := e.ok(e.svc.LeaveCommunity(e.Ctx, e.meta, LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, Exception: ExceptionLongTermAbsence}))
	if types(got) != "MemberLeft,CandidateWithdrawn" {
		t.Fatalf("leaving recorded %s", types(got))
	}
	_, err := e.svc.CastVote(e.Ctx, as(staff[1], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]})
	e.ThenError(err, ErrNotCandidate)
	got = e.ok(e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el}))
	closed := got[0].(ElectionClosed)
	if !closed.Tally[0].Withdrawn || closed.Tally[0].Votes != 2 || got[1].(ChairElected).ChairID != staff[1] {
		t.Fatalf("recorded %+v", got)
	}
}

func TestChairReward(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(2)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	e.givenChair(c, year, staff[0])
	stipend := &Money{AmountMinor: 150000, Currency: "GBP"}
	res, err := e.svc.RecordChairReward(e.Ctx, e.meta, RecordChairReward{CommunityID: c, Year: year, ChairID: staff[0], HoursPerWeek: 2.5, Stipend: stipend})
	e.ThenEvents(res, err, ChairRewardRecorded{CommunityID: c, SchoolID: e.school, Year: year, ChairID: staff[0], HoursPerWeek: 2.5, Stipend: stipend})
	for _, tc := range []struct {
		cmd  RecordChairReward
		rule error
	}{
		{RecordChairReward{CommunityID: c, Year: year, ChairID: staff[1], HoursPerWeek: 2}, ErrNotChair},
		{RecordChairReward{CommunityID: c, Year: year, ChairID: staff[0]}, domain.ErrRequired},
		{RecordChairReward{CommunityID: c, Year: year, ChairID: staff[0], HoursPerWeek: 50}, domain.ErrInvalidValue},
		{RecordChairReward{CommunityID: c, Year: year, ChairID: staff[0], Stipend: &Money{AmountMinor: 1, Currency: "pounds"}}, domain.ErrInvalidValue},
		{RecordChairReward{CommunityID: c, Year: year, ChairID: staff[0], Stipend: &Money{AmountMinor: -1, Currency: "GBP"}}, domain.ErrInvalidValue},
	} {
		_, err := e.svc.RecordChairReward(e.Ctx, e.meta, tc.cmd)
		e.ThenError(err, tc.rule)
	}
	if r := e.community(c).Rewards; len(r) != 1 || r[0].Stipend.String() != "GBP 1500.00" {
		t.Fatalf("rewards = %+v", r)
	}
}

func TestConfidenceVoteLost(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(5)
	c := e.givenCommunity(2)
	e.givenMembers(c, year, staff...)
	vote := domaintest.ID()

	_, err := e.svc.CallConfidenceVote(e.Ctx, as(staff[1], domain.RoleStaff), CallConfidenceVote{CommunityID: c, VoteID: vote, Year: year})
	e.ThenError(err, ErrNoChair)
	e.givenChair(c, year, staff[0])
	outsider := e.givenStaff(1)[0]
	_, err = e.svc.CallConfidenceVote(e.Ctx, as(outsider, domain.RoleStaff), CallConfidenceVote{CommunityID: c, VoteID: vote, Year: year})
	e.ThenError(err, ErrNotAMember)

	res, err := e.svc.CallConfidenceVote(e.Ctx, as(staff[1], domain.RoleStaff), CallConfidenceVote{CommunityID: c, VoteID: vote, Year: year})
	e.ThenEvents(res, err, ConfidenceVoteCalled{VoteID: vote, CommunityID: c, SchoolID: e.school, Year: year, ChairID: staff[0], CalledBy: staff[1],
		Quorum: Quorum{Rule: QuorumMajority}, Ballot: BallotSecret, Electorate: staff})
	_, err = e.svc.OpenElection(e.Ctx, e.meta, OpenElection{CommunityID: c, ElectionID: domaintest.ID(), Year: year})
	e.ThenError(err, ErrBallotInProgress)

	for i, choice := range []string{ChoiceNoConfidence, ChoiceNoConfidence, ChoiceNoConfidence, ChoiceConfidence} {
		got := e.ok(e.svc.CastConfidenceVote(e.Ctx, as(staff[i+1], domain.RoleStaff), CastConfidenceVote{CommunityID: c, VoteID: vote, Choice: choice}))
		if v := got[0].(ConfidenceVoteCast); v.Choice != "" || len(v.SealedChoice) == 0 {
			t.Fatalf("secret confidence vote = %+v", v)
		}
	}
	_, err = e.svc.CastConfidenceVote(e.Ctx, as(staff[1], domain.RoleStaff), CastConfidenceVote{CommunityID: c, VoteID: vote, Choice: ChoiceConfidence})
	e.ThenError(err, ErrAlreadyVoted)
	_, err = e.svc.CastConfidenceVote(e.Ctx, as(staff[0], domain.RoleStaff), CastConfidenceVote{CommunityID: c, VoteID: vote, Choice: "abstain"})
	e.ThenError(err, domain.ErrInvalidValue)
	_, err = e.svc.CastConfidenceVote(e.Ctx, as(outsider, domain.RoleStaff), CastConfidenceVote{CommunityID: c, VoteID: vote, Choice: ChoiceConfidence})
	e.ThenError(err, ErrNotAMember)

	got := e.ok(e.svc.CloseConfidenceVote(e.Ctx, e.meta, CloseConfidenceVote{CommunityID: c, VoteID: vote}))
	if types(got) != "ConfidenceVoteClosed,ChairRemoved,ElectionOpened" {
		t.Fatalf("recorded %s", types(got))
	}
	closed := got[0].(ConfidenceVoteClosed)
	if closed.Outcome != OutcomeLost || closed.Confidence != 1 || closed.NoConfidence != 3 || len(closed.Choices) != 4 || closed.ChairID != staff[0] {
		t.Fatalf("closed = %+v", closed)
	}
	next := NextElectionID(vote)
	if r := got[1].(ChairRemoved); r.ChairID != staff[0] || r.VoteID != vote || r.NextElectionID != next {
		t.Fatalf("removed = %+v", r)
	}
	if o := got[2].(ElectionOpened); o.ElectionID != next || o.AfterConfidenceVote != vote || o.Ballot != BallotSecret || len(o.Electorate) != 5 {
		t.Fatalf("opened = %+v", o)
	}
	if _, err := e.box.Open(vote, staff[1], nil); !errors.Is(err, ErrBallotKeyDestroyed) {
		t.Fatalf("confidence vote key survives the close: %v", err)
	}
	com := e.community(c)
	if _, ok := com.ChairInOffice(year); ok {
		t.Fatal("removed chair still in office")
	}
	if el, ok := com.Election(next); !ok || el.Status != StatusNominating {
		t.Fatalf("new election = %+v", el)
	}
	if v, _ := com.ConfidenceVote(vote); !v.Decided() || v.Outcome != OutcomeLost || v.NextElectionID != next {
		t.Fatalf("vote = %+v", v)
	}
	_, err = e.svc.CloseConfidenceVote(e.Ctx, e.meta, CloseConfidenceVote{CommunityID: c, VoteID: vote})
	e.ThenError(err, ErrElectionNotOpen)
}

func TestConfidenceVoteKeptOrInquorate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		choices []string
		outcome string
		ballot  string
	}{
		{"tie keeps the chair", []string{ChoiceNoConfidence, ChoiceConfidence}, OutcomeKept, BallotOpen},
		{"majority for", []string{ChoiceConfidence, ChoiceConfidence, ChoiceNoConfidence}, OutcomeKept, BallotSecret},
		{"no quorum", []string{ChoiceNoConfidence}, OutcomeNoQuorum, BallotSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t).givenSchool()
			staff := e.givenStaff(4)
			c := e.givenCommunity(0)
			e.givenMembers(c, year, staff...)
			e.givenChair(c, year, staff[0])
			vote := domaintest.ID()
			e.ok(e.svc.CallConfidenceVote(e.Ctx, as(staff[3], domain.RoleStaff), CallConfidenceVote{CommunityID: c, VoteID: vote, Year: year, Ballot: tc.ballot,
				Quorum: Quorum{Rule: QuorumPercent, Percent: 50}}))
			for i, ch := range tc.choices {
				got := e.ok(e.svc.CastConfidenceVote(e.Ctx, as(staff[i], domain.RoleStaff), CastConfidenceVote{CommunityID: c, VoteID: vote, Choice: ch}))
				if v := got[0].(ConfidenceVoteCast); tc.ballot == BallotOpen && v.Choice != ch {
					t.Fatalf("open confidence vote = %+v", v)
				}
			}
			got := e.ok(e.svc.CloseConfidenceVote(e.Ctx, e.meta, CloseConfidenceVote{CommunityID: c, VoteID: vote}))
			if len(got) != 1 || got[0].(ConfidenceVoteClosed).Outcome != tc.outcome {
				t.Fatalf("recorded %+v", got)
			}
			if chair, ok := e.community(c).ChairInOffice(year); !ok || chair != staff[0] {
				t.Fatal("chair lost office")
			}
		})
	}
}

// raceLog lets a member leave between the moment a vote is decided and
// the moment it is appended, as a concurrent command would.
type raceLog struct {
	*domaintest.Log
	e     *env
	leave domain.Event
	done  atomic.Bool
}

func (l *raceLog) AppendStream(ctx context.Context, stream string, expected int64, events []domain.Envelope) ([]domain.Recorded, error) {
	if events[0].Type == "VoteCast" && l.done.CompareAndSwap(false, true) {
		env, err := l.e.Codec.Encode(l.leave, domaintest.ID(), domain.Meta{ActorID: "other", ActorRole: domain.RoleStaff})
		if err != nil {
			return nil, err
		}
		if _, err := l.Log.AppendStream(ctx, stream, expected, []domain.Envelope{env}); err != nil {
			return nil, err
		}
	}
	return l.Log.AppendStream(ctx, stream, expected, events)
}

// A vote racing the voter's own leaving: the leaving lands first, the
// handler decides the vote again on the new state, and refuses it.
func TestVoteRacingLeavingIsRefused(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(3)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:1], BallotSecret)
	e.Handler.Log = &raceLog{Log: e.Log, e: e, leave: MemberLeft{CommunityID: c, SchoolID: e.school, PersonID: staff[2], Year: year, LeftOn: yearStart, Exception: ExceptionLongTermAbsence}}

	_, err := e.svc.CastVote(e.Ctx, as(staff[2], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[0]})
	if !errors.Is(err, ErrNotAMember) {
		t.Fatalf("err = %v, want ErrNotAMember", err)
	}
	elec, _ := e.community(c).Election(el)
	if elec.Turnout() != 0 {
		t.Fatalf("turnout = %d: a vote from a departed member was counted", elec.Turnout())
	}
}

// Two votes of one member racing each other: only one is recorded.
func TestConcurrentDoubleVote(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(3)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:2], BallotSecret)
	errs := make(chan error, 8)
	for i := range 8 {
		go func() {
			_, err := e.svc.CastVote(e.Ctx, as(staff[2], domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: staff[i%2]})
			errs <- err
		}()
	}
	okCount := 0
	for range 8 {
		if err := <-errs; err == nil {
			okCount++
		} else if !errors.Is(err, ErrAlreadyVoted) && !errors.Is(err, domain.ErrConcurrentChange) {
			t.Fatalf("err = %v", err)
		}
	}
	if elec, _ := e.community(c).Election(el); okCount != 1 || elec.Turnout() != 1 {
		t.Fatalf("%d votes accepted, turnout %d; want 1", okCount, elec.Turnout())
	}
}

// A vote, an outcome computed from votes, and the rest of a ballot cannot
// be corrected, before the close or after it; a membership can, and is not
// marked changed after decision.
func TestBallotEventsCannotBeCorrected(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(3)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	el := e.givenVoting(c, staff, staff[:2], BallotOpen)
	e.vote(c, el, staff[0], staff[1])
	find := func(typ string) uuid.UUID {
		for _, m := range e.Messages() {
			if m.Type == typ {
				return m.ID
			}
		}
		t.Fatalf("no %s", typ)
		return uuid.Nil
	}
	voteID, joinID := find("VoteCast"), find("MemberJoined")
	_, err := e.svc.CorrectEvent(e.Ctx, e.meta, CommunityStream(c), domain.Correction{EventID: voteID,
		Replacement: VoteCast{ElectionID: el, CommunityID: c, VoterID: staff[0], CandidateID: ptr(staff[0])}, Reason: "entered for the wrong candidate"})
	e.ThenError(err, domain.ErrUncorrectable)
	e.vote(c, el, staff[1], staff[1])
	e.ok(e.svc.CloseElection(e.Ctx, e.meta, CloseElection{CommunityID: c, ElectionID: el}))
	for _, typ := range []string{"VoteCast", "ElectionClosed", "ChairElected", "ElectionOpened", "VotingOpened", "CandidateNominated"} {
		_, err = e.svc.CorrectEvent(e.Ctx, e.meta, CommunityStream(c), domain.Correction{EventID: find(typ), Reason: "cast by mistake"})
		e.ThenError(err, domain.ErrUncorrectable)
	}
	// A membership is not a decision.
	res, err := e.svc.CorrectEvent(e.Ctx, e.meta, CommunityStream(c), domain.Correction{EventID: joinID,
		Replacement: MemberJoined{CommunityID: c, SchoolID: e.school, PersonID: staff[0], Year: year, Basis: []string{BasisStrengths}, EffectiveFrom: yearStart, TermEndsOn: yearEnd},
		Reason:      "basis was strengths"})
	if got := e.ok(res, err); got[0].(domain.EventCorrected).ChangedAfterDecision {
		t.Fatal("membership correction marked changed after decision")
	}
	// The membership of someone who voted cannot be retracted: their
	// vote would no longer be a member's.
	_, err = e.svc.CorrectEvent(e.Ctx, e.meta, CommunityStream(c), domain.Correction{EventID: joinID, Reason: "never joined"})
	e.ThenError(err, ErrNotAMember)
	_, err = e.svc.CorrectEvent(e.Ctx, e.meta, "loan-"+c.String(), domain.Correction{EventID: joinID, Reason: "x"})
	e.ThenError(err, domain.ErrCorrectionTarget)
}
