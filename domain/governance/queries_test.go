package governance

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

func TestQueriesOverState(t *testing.T) {
	e := newEnv(t).givenSchool()
	director := e.givenDirector()
	staff := e.givenStaff(6)
	c0, c1, c2 := e.givenCommunity(0), e.givenCommunity(1), e.givenCommunity(2)
	e.givenMembers(c0, prevYear, staff[0], staff[1])
	e.givenMembers(c0, year, staff[1], staff[2])
	e.givenMembers(c1, year, staff[3])
	e.givenMembers(c2, year, staff[4])
	e.Given(CommunityStream(c2), MemberLeft{CommunityID: c2, SchoolID: e.school, PersonID: staff[4], Year: year, LeftOn: yearStart, Exception: ExceptionLongTermAbsence})
	e.givenChair(c0, year, staff[1])
	e.givenChair(c1, year, staff[3])
	e.Given(PersonStream(staff[1]), StrengthsAssessed{PersonID: staff[1], SchoolID: e.school, Year: year, Scores: Strengths{80, 40, 60, 20}})
	e.Given(PersonStream(staff[2]), StrengthsAssessed{PersonID: staff[2], SchoolID: e.school, Year: year, Scores: Strengths{70, 60, 50, 31}})
	e.Given(PersonStream(staff[2]), StrengthsAssessed{PersonID: staff[2], SchoolID: e.school, Year: prevYear, Scores: Strengths{1, 1, 1, 1}})

	st, err := BuildState(e.Codec, e.Messages())
	if err != nil {
		t.Fatal(err)
	}
	team := st.LeadershipTeam(e.school, year)
	if !slices.Equal(team.Members(), []uuid.UUID{director, staff[1], staff[3]}) || !slices.Equal(team.Vacant, []uuid.UUID{c2}) {
		t.Fatalf("team = %+v", team)
	}
	if !team.Includes(director) || team.Includes(staff[0]) || team.Includes(uuid.Nil) {
		t.Fatal("team membership wrong")
	}
	if team.Chairs[0].CommunityID != c0 || team.Chairs[0].Community != "Curriculum & Pedagogy" {
		t.Fatalf("chairs = %+v", team.Chairs)
	}
	if got := st.LeadershipTeam(e.school, prevYear).Members(); !slices.Equal(got, []uuid.UUID{director}) {
		t.Fatalf("last year's team = %v", got)
	}

	// Staff[5] is in no ISLC; staff[4] left theirs; staff[0] was a member
	// only last year. The Director is in none either, but chairs the
	// Leadership Team over all of them: not unassigned.
	want := sortedIDs([]uuid.UUID{staff[0], staff[4], staff[5]})
	if got := sortedIDs(st.UnassignedStaff(e.school, year)); !slices.Equal(got, want) {
		t.Fatalf("unassigned = %v, want %v", got, want)
	}
	e.Given(PersonStream(staff[5]), PersonLeftSchool{PersonID: staff[5], SchoolID: e.school, LeftOn: yearStart})
	st, _ = BuildState(e.Codec, e.Messages())
	if got := st.UnassignedStaff(e.school, year); slices.Contains(got, staff[5]) {
		t.Fatal("someone who left the school is flagged")
	}

	b := st.StrengthsBalance(c0, year)
	if b.Members != 2 || b.Assessed != 2 || b.Sum != (Strengths{150, 100, 110, 51}) || b.Mean.Influencing != 25.5 || b.Mean.RelationshipBuilding != 75 {
		t.Fatalf("balance = %+v", b)
	}
	if b := st.StrengthsBalance(c1, year); b.Assessed != 0 || !slices.Equal(b.Unassessed, []uuid.UUID{staff[3]}) || b.Mean != (Means{}) {
		t.Fatalf("balance = %+v", b)
	}
	if got := ContinuityMembers(st.Communities[c0], year); !slices.Equal(got, []uuid.UUID{staff[1]}) {
		t.Fatalf("continuity = %v", got)
	}
	if got := st.CommunitiesOf(e.school); len(got) != 3 || got[0].ID != c0 || got[2].ID != c2 {
		t.Fatalf("communities = %v", got)
	}
	if len(st.StaffOf(e.school)) != 7 {
		t.Fatalf("staff = %d", len(st.StaffOf(e.school)))
	}
}

func TestBuildStateAppliesCorrections(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(2)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff[0])
	msgs := e.Messages()
	join := msgs[len(msgs)-1]
	fixed := e.joined(c, year, staff[1])
	e.ok(e.svc.CorrectEvent(e.Ctx, e.meta, CommunityStream(c), domain.Correction{EventID: join.ID, Replacement: fixed, Reason: "wrong person entered"}))

	asKnownThen := NewState()
	for _, m := range e.Messages() {
		asKnownThen.Apply(m)
	}
	now, err := BuildState(e.Codec, e.Messages())
	if err != nil {
		t.Fatal(err)
	}
	if got := asKnownThen.Communities[c].Members(year); !slices.Equal(got, []uuid.UUID{staff[0]}) {
		t.Fatalf("as known then = %v", got)
	}
	if got := now.Communities[c].Members(year); !slices.Equal(got, []uuid.UUID{staff[1]}) {
		t.Fatalf("as corrected now = %v", got)
	}
	if got := e.community(c).Members(year); !slices.Equal(got, []uuid.UUID{staff[1]}) {
		t.Fatalf("loaded = %v", got)
	}
}

func TestMemoryBallotBox(t *testing.T) {
	box := NewMemoryBallotBox()
	ballot, voter, other := domaintest.ID(), domaintest.ID(), domaintest.ID()
	a, err := box.Seal(ballot, voter, ChoiceConfidence)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := box.Seal(ballot, voter, ChoiceNoConfidence)
	c, _ := box.Seal(ballot, voter, ChoiceConfidence)
	if len(a) != len(b) {
		t.Fatalf("sealed lengths %d and %d reveal the choice", len(a), len(b))
	}
	if bytes.Equal(a, c) {
		t.Fatal("the same choice seals to the same bytes")
	}
	if got, err := box.Open(ballot, voter, a); err != nil || got != ChoiceConfidence {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := box.Open(ballot, other, a); err == nil {
		t.Fatal("a sealed choice opened as another voter's")
	}
	if _, err := box.Open(domaintest.ID(), voter, a); !errors.Is(err, ErrBallotKeyDestroyed) {
		t.Fatalf("open in an unknown ballot: %v", err)
	}
	tampered := bytes.Clone(a)
	tampered[len(tampered)-1] ^= 1
	if _, err := box.Open(ballot, voter, tampered); err == nil {
		t.Fatal("opened a tampered choice")
	}
	if _, err := box.Seal(ballot, voter, string(make([]byte, 64))); err == nil {
		t.Fatal("sealed an over-long choice")
	}
	if err := box.Destroy(ballot); err != nil {
		t.Fatal(err)
	}
	if err := box.Destroy(ballot); err != nil {
		t.Fatal(err)
	}
	if _, err := box.Open(ballot, voter, a); !errors.Is(err, ErrBallotKeyDestroyed) {
		t.Fatalf("open after destroy: %v", err)
	}
	if _, err := box.Seal(ballot, voter, ChoiceConfidence); !errors.Is(err, ErrBallotKeyDestroyed) {
		t.Fatalf("seal after destroy: %v", err)
	}
}

func TestShuffleKeepsElements(t *testing.T) {
	in := []int{1, 2, 3, 4, 5, 6, 7, 8}
	moved := false
	for range 20 {
		out, err := shuffle(in)
		if err != nil {
			t.Fatal(err)
		}
		s := slices.Clone(out)
		slices.Sort(s)
		if !slices.Equal(s, in) {
			t.Fatalf("shuffle lost elements: %v", out)
		}
		moved = moved || !slices.Equal(out, in)
	}
	if !moved {
		t.Fatal("twenty shuffles all kept the order")
	}
}

// Every rule has a code unique in the package, a title and a statement.
func TestRulesAreDistinct(t *testing.T) {
	rules := []*domain.Rule{ErrUnknownSegment, ErrYearNotOpen, ErrYearsOverlap, ErrNotStaff, ErrPersonLeft, ErrNotGovernor, ErrNotAdvisoryContact,
		ErrNotAMember, ErrAlreadyMember, ErrMinimumTermNotServed, ErrNotDirector, ErrEmptyRoster, ErrNoContinuity,
		ErrBallotInProgress, ErrNominationsClosed, ErrNotNominated, ErrNoCandidates, ErrElectionNotOpen, ErrNotCandidate, ErrAlreadyVoted, ErrNotChair, ErrNoChair,
		ErrNotLeadershipTeam, ErrNotSubmitted, ErrProposalLocked, ErrRevisionNeeded, ErrNotAligned, ErrAdvisoryGroupNotLinked, ErrTriadSize, ErrTriadMixedSchools,
		ErrQuorumNotReached, ErrNotDirectorSignOff, ErrOutsideYear, ErrErasureFinal, ErrNoCastingVoteDue, ErrChallengeOutsideSchool, ErrChallengeAnswered, ErrNoActingPerson}
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.Code] || r.Title == "" || r.Statement == "" {
			t.Errorf("rule %q duplicated or incomplete", r.Code)
		}
		seen[r.Code] = true
	}
}
