package governance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// TestWholeYear replays a school year through the service: a school with
// six ISLCs and twenty staff; rosters that keep last year's members;
// elections (one failing its quorum, one tied and settled by a run-off);
// a lost confidence vote and the election it opens; proposals approved,
// one sent back, revised and approved; a member leaving early with an
// exception and one refused. It then checks the state through domain.Load
// and the query helpers.
func TestWholeYear(t *testing.T) {
	e := newEnv(t)
	admin := e.meta
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }
	do := func(res domain.Result, err error) []domain.Event {
		t.Helper()
		return e.ok(res, err)
	}
	refuse := func(err error, rule error) {
		t.Helper()
		e.ThenError(err, rule)
	}

	// --- Summer 2024: the school, its people and last year's ISLCs.
	e.Clock.Set(at(2024, 7, 1))
	do(e.svc.RegisterSchool(e.Ctx, admin, RegisterSchool{SchoolID: e.school, Name: "Infinity School",
		Mission: "Where everyone is a learner, teacher and leader.", Vision: "Liberated learning.", Values: "Agency, equity, collaboration."}))
	sc := e.schoolAgg()
	e.segs = sc.Segments
	do(e.svc.OpenAcademicYear(e.Ctx, admin, OpenAcademicYear{SchoolID: e.school, Year: prevYear}))
	do(e.svc.OpenAcademicYear(e.Ctx, admin, OpenAcademicYear{SchoolID: e.school, Year: year}))

	staff := make([]uuid.UUID, 20)
	for i := range staff {
		staff[i] = domaintest.ID()
		kind := StaffEducator
		if i%5 == 4 {
			kind = StaffAdministrator
		}
		do(e.svc.RegisterStaff(e.Ctx, admin, RegisterStaff{PersonID: staff[i], SchoolID: e.school, Kind: kind,
			PersonDetails: PersonDetails{Name: fmt.Sprintf("Teacher %02d", i), Email: fmt.Sprintf("t%02d@infinity.example", i)}}))
	}
	director := staff[19]
	do(e.svc.AppointDirector(e.Ctx, admin, AppointDirector{SchoolID: e.school, DirectorID: director}))

	communities := make([]uuid.UUID, 6)
	for i, g := range e.segs {
		res, err := e.svc.EstablishCommunity(e.Ctx, admin, EstablishCommunity{SchoolID: e.school, SegmentID: g.ID})
		do(res, err)
		communities[i] = CommunityID(e.school, g.ID)
	}
	govs := make([]uuid.UUID, 6)
	for i := range govs {
		govs[i] = domaintest.ID()
		do(e.svc.RegisterGovernor(e.Ctx, admin, RegisterGovernor{PersonID: govs[i], SchoolID: e.school, PersonDetails: PersonDetails{Name: fmt.Sprintf("Governor %d", i)}}))
		do(e.svc.LinkGovernor(e.Ctx, admin, LinkGovernor{CommunityID: communities[i], GovernorID: govs[i]}))
	}
	parent := domaintest.ID()
	do(e.svc.RegisterAdvisoryContact(e.Ctx, admin, RegisterAdvisoryContact{PersonID: parent, SchoolID: e.school, PersonDetails: PersonDetails{Name: "Forum secretary"}}))
	forum := domaintest.ID()
	do(e.svc.LinkAdvisoryGroup(e.Ctx, admin, LinkAdvisoryGroup{CommunityID: communities[0], GroupID: forum, Name: "Parent forum", Kind: AdvisoryParents, Contacts: []uuid.UUID{parent}}))

	// Last year: members 3i..3i+2 in ISLC i (staff 0..17), entered in
	// the summer for the year that is ending.
	for i, c := range communities {
		for j := range 3 {
			do(e.svc.JoinCommunity(e.Ctx, admin, JoinCommunity{CommunityID: c, PersonID: staff[3*i+j], Year: prevYear, Basis: []string{BasisInterest},
				EffectiveFrom: yearStart.AddDate(-1, 0, 0)}))
		}
	}

	// --- September 2025: this year's ISLCs. Each keeps its first member
	// of last year; the others rotate to the next ISLC.
	e.Clock.Set(at(2025, 9, 1))
	members := make([][]uuid.UUID, 6)
	for i := range communities {
		next := (i + 1) % 6
		members[i] = []uuid.UUID{staff[3*i], staff[3*next+1], staff[3*next+2]}
	}
	members[0] = append(members[0], staff[18], director)
	for i, c := range communities {
		for _, p := range members[i] {
			if i == 5 && p == staff[15] {
				continue // joins late, below
			}
			basis := []string{BasisInterest, BasisStrengths}
			do(e.svc.JoinCommunity(e.Ctx, as(p, domain.RoleStaff), JoinCommunity{CommunityID: c, PersonID: p, Year: year, Basis: basis}))
		}
	}
	// ISLC 5 keeps none of last year's members until staff 15 joins: its
	// roster cannot be confirmed without continuity.
	_, err := e.svc.ConfirmRoster(e.Ctx, admin, ConfirmRoster{CommunityID: communities[5], Year: year})
	refuse(err, ErrNoContinuity)
	// Staff 15 joins in October, backdated to 1 September.
	e.Clock.Set(at(2025, 10, 6))
	got := do(e.svc.JoinCommunity(e.Ctx, admin, JoinCommunity{CommunityID: communities[5], PersonID: staff[15], Year: year, Basis: []string{BasisInterest}, EffectiveFrom: yearStart}))
	if got[0].(MemberJoined).EffectiveFrom != yearStart {
		t.Fatalf("late join = %+v", got[0])
	}
	for _, c := range communities {
		do(e.svc.ConfirmRoster(e.Ctx, admin, ConfirmRoster{CommunityID: c, Year: year}))
	}
	for i, p := range staff {
		do(e.svc.RecordStrengthsAssessment(e.Ctx, admin, RecordStrengthsAssessment{PersonID: p, Year: year,
			Scores: Strengths{RelationshipBuilding: 40 + i, Executing: 60 - i, StrategicThinking: 50, Influencing: 2 * i}, Interests: []uuid.UUID{e.segs[i%6].ID}}))
	}
	for k := range 6 {
		do(e.svc.FormTriad(e.Ctx, admin, FormTriad{TriadID: domaintest.ID(), SchoolID: e.school, Year: year, Members: staff[3*k : 3*k+3]}))
	}

	// --- Elections. secretElection runs nominations, votes and the
	// close; votes maps voter to candidate.
	election := func(c uuid.UUID, candidates []uuid.UUID, votes map[uuid.UUID]uuid.UUID) (uuid.UUID, []domain.Event) {
		t.Helper()
		el := domaintest.ID()
		do(e.svc.OpenElection(e.Ctx, admin, OpenElection{CommunityID: c, ElectionID: el, Year: year}))
		for _, cand := range candidates {
			do(e.svc.Nominate(e.Ctx, as(cand, domain.RoleStaff), Nominate{CommunityID: c, ElectionID: el, NomineeID: cand}))
			do(e.svc.AcceptNomination(e.Ctx, as(cand, domain.RoleStaff), AnswerNomination{CommunityID: c, ElectionID: el}))
		}
		do(e.svc.OpenVoting(e.Ctx, admin, OpenVoting{CommunityID: c, ElectionID: el}))
		for voter, cand := range votes {
			do(e.svc.CastVote(e.Ctx, as(voter, domain.RoleStaff), CastVote{CommunityID: c, ElectionID: el, CandidateID: cand}))
		}
		return el, do(e.svc.CloseElection(e.Ctx, admin, CloseElection{CommunityID: c, ElectionID: el}))
	}
	e.Clock.Set(at(2025, 10, 13))
	m := members
	// ISLC 0 (5 members): a clear winner.
	if _, got := election(communities[0], m[0][:2], map[uuid.UUID]uuid.UUID{m[0][0]: m[0][0], m[0][2]: m[0][0], m[0][3]: m[0][1], director: m[0][0]}); types(got) != "ElectionClosed,ChairElected" {
		t.Fatalf("ISLC 0: %s", types(got))
	}
	// ISLC 1: one vote of three fails the quorum; a second election succeeds.
	if _, got := election(communities[1], m[1][:1], map[uuid.UUID]uuid.UUID{m[1][1]: m[1][0]}); types(got) != "ElectionFailed" {
		t.Fatalf("ISLC 1: %s", types(got))
	}
	if _, got := election(communities[1], m[1][1:2], map[uuid.UUID]uuid.UUID{m[1][0]: m[1][1], m[1][2]: m[1][1]}); types(got) != "ElectionClosed,ChairElected" {
		t.Fatalf("ISLC 1 again: %s", types(got))
	}
	// ISLC 2: a tie between two, settled by a run-off.
	tied, got := election(communities[2], m[2][:2], map[uuid.UUID]uuid.UUID{m[2][0]: m[2][0], m[2][1]: m[2][1]})
	if types(got) != "ElectionClosed,RunOffCalled,ElectionOpened,VotingOpened" {
		t.Fatalf("ISLC 2: %s", types(got))
	}
	runOff := RunOffID(tied)
	for voter, cand := range map[uuid.UUID]uuid.UUID{m[2][0]: m[2][0], m[2][1]: m[2][1], m[2][2]: m[2][1]} {
		do(e.svc.CastVote(e.Ctx, as(voter, domain.RoleStaff), CastVote{CommunityID: communities[2], ElectionID: runOff, CandidateID: cand}))
	}
	if got := do(e.svc.CloseElection(e.Ctx, admin, CloseElection{CommunityID: communities[2], ElectionID: runOff})); got[1].(ChairElected).ChairID != m[2][1] {
		t.Fatalf("run-off: %+v", got)
	}
	// ISLCs 3, 4, 5: the first member is elected.
	for i := 3; i < 6; i++ {
		if _, got := election(communities[i], m[i][:1], map[uuid.UUID]uuid.UUID{m[i][1]: m[i][0], m[i][2]: m[i][0]}); types(got) != "ElectionClosed,ChairElected" {
			t.Fatalf("ISLC %d: %s", i, types(got))
		}
	}
	for i, c := range communities {
		chair, _ := e.community(c).ChairInOffice(year)
		do(e.svc.RecordChairReward(e.Ctx, admin, RecordChairReward{CommunityID: c, Year: year, ChairID: chair, HoursPerWeek: 2, Stipend: &Money{AmountMinor: int64(100000 + i), Currency: "GBP"}}))
	}

	// --- January: ISLC 3 loses confidence in its chair; the new election
	// opens in the same step and elects member 1.
	e.Clock.Set(at(2026, 1, 19))
	vote := domaintest.ID()
	do(e.svc.CallConfidenceVote(e.Ctx, as(m[3][1], domain.RoleStaff), CallConfidenceVote{CommunityID: communities[3], VoteID: vote, Year: year}))
	for _, p := range m[3] {
		choice := ChoiceNoConfidence
		if p == m[3][0] {
			choice = ChoiceConfidence
		}
		do(e.svc.CastConfidenceVote(e.Ctx, as(p, domain.RoleStaff), CastConfidenceVote{CommunityID: communities[3], VoteID: vote, Choice: choice}))
	}
	if got := do(e.svc.CloseConfidenceVote(e.Ctx, admin, CloseConfidenceVote{CommunityID: communities[3], VoteID: vote})); types(got) != "ConfidenceVoteClosed,ChairRemoved,ElectionOpened" {
		t.Fatalf("confidence vote: %s", types(got))
	}
	next := NextElectionID(vote)
	do(e.svc.Nominate(e.Ctx, as(m[3][2], domain.RoleStaff), Nominate{CommunityID: communities[3], ElectionID: next, NomineeID: m[3][1]}))
	do(e.svc.AcceptNomination(e.Ctx, as(m[3][1], domain.RoleStaff), AnswerNomination{CommunityID: communities[3], ElectionID: next}))
	do(e.svc.OpenVoting(e.Ctx, admin, OpenVoting{CommunityID: communities[3], ElectionID: next}))
	for _, p := range m[3] {
		do(e.svc.CastVote(e.Ctx, as(p, domain.RoleStaff), CastVote{CommunityID: communities[3], ElectionID: next, CandidateID: m[3][1]}))
	}
	do(e.svc.CloseElection(e.Ctx, admin, CloseElection{CommunityID: communities[3], ElectionID: next}))

	// --- February: leaving early. A member of ISLC 4 on long-term
	// absence may leave; one of ISLC 5 without an exception may not.
	e.Clock.Set(at(2026, 2, 2))
	do(e.svc.LeaveCommunity(e.Ctx, admin, LeaveCommunity{CommunityID: communities[4], PersonID: m[4][2], Year: year, Exception: ExceptionLongTermAbsence}))
	_, err = e.svc.LeaveCommunity(e.Ctx, admin, LeaveCommunity{CommunityID: communities[5], PersonID: m[5][2], Year: year})
	refuse(err, ErrMinimumTermNotServed)
	newcomer := domaintest.ID()
	do(e.svc.RegisterStaff(e.Ctx, admin, RegisterStaff{PersonID: newcomer, SchoolID: e.school, Kind: StaffEducator, PersonDetails: PersonDetails{Name: "New teacher"}}))

	// --- Proposals. ISLC 0's is advised on and approved; ISLC 2's is
	// sent back, revised and approved.
	chairs := make([]uuid.UUID, len(communities))
	for i, c := range communities {
		chairs[i], _ = e.community(c).ChairInOffice(year)
	}
	teamVote := func(p uuid.UUID, vote string, by ...uuid.UUID) {
		t.Helper()
		for _, v := range by {
			do(e.svc.CastTeamVote(e.Ctx, as(v, domain.RoleChair), CastTeamVote{ProposalID: p, Vote: vote, Reason: "At the Team meeting.", Aligned: ptr(true), AlignmentNote: "In line."}))
		}
	}
	p0, p2 := domaintest.ID(), domaintest.ID()
	do(e.svc.DraftProposal(e.Ctx, as(m[0][2], domain.RoleStaff), DraftProposal{ProposalID: p0, CommunityID: communities[0], Year: year,
		ProposalText: ProposalText{Title: "Project weeks", Body: "Two cross-curricular project weeks.", ExpectedImpact: "Deeper learning."}}))
	do(e.svc.SubmitProposal(e.Ctx, as(chairs[0], domain.RoleChair), SubmitProposal{ProposalID: p0}))
	do(e.svc.GiveAdvice(e.Ctx, as(parent, domain.RoleStaff), GiveAdvice{ProposalID: p0, GroupID: forum, Stance: StanceSupport, Text: "Parents welcome it."}))
	teamVote(p0, VoteApprove, director, chairs[0], chairs[1], chairs[3])
	do(e.svc.SignOffResolution(e.Ctx, as(director, domain.RoleDirector), ResolveProposal{ProposalID: p0, Reason: "Clear plan."}))

	do(e.svc.DraftProposal(e.Ctx, as(m[2][0], domain.RoleStaff), DraftProposal{ProposalID: p2, CommunityID: communities[2], Year: year,
		ProposalText: ProposalText{Title: "Research leave", Body: "A term of research leave.", Costs: &Money{AmountMinor: 900000, Currency: "GBP"}, ExpectedImpact: "Published practice."}}))
	do(e.svc.SubmitProposal(e.Ctx, as(chairs[2], domain.RoleChair), SubmitProposal{ProposalID: p2}))
	_, err = e.svc.ApproveProposal(e.Ctx, as(m[2][0], domain.RoleStaff), DecideProposal{ProposalID: p2, Reason: "r", Aligned: ptr(true), AlignmentNote: "n"})
	refuse(err, ErrNotLeadershipTeam)
	teamVote(p2, VoteSendBack, chairs[3], chairs[4], chairs[5])
	teamVote(p2, VoteApprove, director)
	do(e.svc.SignOffResolution(e.Ctx, as(director, domain.RoleDirector), ResolveProposal{ProposalID: p2, Reason: "Too costly for one person; share it."}))
	do(e.svc.ReviseProposal(e.Ctx, as(m[2][2], domain.RoleStaff), ReviseProposal{ProposalID: p2,
		ProposalText: ProposalText{Title: "Research fellowships", Body: "Three half-term fellowships.", Costs: &Money{AmountMinor: 450000, Currency: "GBP"}, ExpectedImpact: "Published practice."}}))
	do(e.svc.SubmitProposal(e.Ctx, as(chairs[2], domain.RoleChair), SubmitProposal{ProposalID: p2}))
	teamVote(p2, VoteApprove, director, chairs[2], chairs[3], chairs[4])
	do(e.svc.SignOffResolution(e.Ctx, as(director, domain.RoleDirector), ResolveProposal{ProposalID: p2, Reason: "Shared and affordable."}))

	// --- The state at the end of the year, through Load.
	wantChairs := []uuid.UUID{m[0][0], m[1][1], m[2][1], m[3][1], m[4][0], m[5][0]}
	for i, c := range communities {
		com := e.community(c)
		if chair, ok := com.ChairInOffice(year); !ok || chair != wantChairs[i] {
			t.Errorf("ISLC %d chair = %s %v, want %s", i, chair, ok, wantChairs[i])
		}
		if com.GovernorID != govs[i] {
			t.Errorf("ISLC %d governor = %s", i, com.GovernorID)
		}
		if len(ContinuityMembers(com, year)) == 0 {
			t.Errorf("ISLC %d keeps no one from last year", i)
		}
	}
	com3 := e.community(communities[3])
	if len(com3.Chairs) != 2 || com3.Chairs[0].EndedBy != ChairRemovedBy || com3.Chairs[0].ChairID != m[3][0] {
		t.Fatalf("ISLC 3 chairs = %+v", com3.Chairs)
	}
	com1 := e.community(communities[1])
	if len(com1.Elections) != 2 || com1.Elections[0].Status != StatusFailed || com1.Elections[1].Status != StatusClosed {
		t.Fatalf("ISLC 1 elections = %+v", com1.Elections)
	}
	if got := e.community(communities[4]).Members(year); !slices.Equal(got, m[4][:2]) {
		t.Fatalf("ISLC 4 members = %v, want %v", got, m[4][:2])
	}
	if got := e.community(communities[5]).Members(year); len(got) != 3 {
		t.Fatalf("ISLC 5 members = %v", got)
	}
	prop0, prop2 := e.proposal(p0), e.proposal(p2)
	if prop0.Status != StatusApproved || len(prop0.Versions) != 1 || len(prop0.Advice) != 1 {
		t.Fatalf("proposal 0 = %+v", prop0)
	}
	if prop2.Status != StatusApproved || len(prop2.Versions) != 2 || prop2.Versions[0].Title != "Research leave" || prop2.Current().Title != "Research fellowships" ||
		len(prop2.Decisions) != 2 || prop2.Decisions[0].Outcome != StatusReturned || prop2.Decisions[0].DecidedBy != director || len(prop2.Resolutions) != 2 || prop2.Decisions[1].Version != 2 {
		t.Fatalf("proposal 2 = %+v", prop2)
	}

	// --- The same state through the pure fold and the query helpers.
	st, err := BuildState(e.Codec, e.Messages())
	if err != nil {
		t.Fatal(err)
	}
	team := st.LeadershipTeam(e.school, year)
	if want := append([]uuid.UUID{director}, wantChairs...); !slices.Equal(team.Members(), want) || len(team.Vacant) != 0 {
		t.Fatalf("team = %v, want %v", team.Members(), want)
	}
	// Flagged: the newcomer, and the member on long-term absence who left
	// their only ISLC.
	if got, want := sortedIDs(st.UnassignedStaff(e.school, year)), sortedIDs([]uuid.UUID{newcomer, m[4][2]}); !slices.Equal(got, want) {
		t.Fatalf("unassigned = %v, want %v", got, want)
	}
	if b := st.StrengthsBalance(communities[0], year); b.Members != 5 || b.Assessed != 5 {
		t.Fatalf("balance = %+v", b)
	}
	if len(st.Triads) != 6 || len(st.ProposalsOf(communities[2])) != 1 {
		t.Fatalf("triads %d, proposals %d", len(st.Triads), len(st.ProposalsOf(communities[2])))
	}
	// Names are nowhere in the log in plaintext.
	for _, r := range e.Log.All() {
		if slices.Contains([]string{"StaffRegistered", "GovernorRegistered"}, r.Type) && (strings.Contains(string(r.Data), "Teacher") || strings.Contains(string(r.Data), "Governor") || strings.Contains(string(r.Data), "infinity.example")) {
			t.Fatalf("plaintext personal data: %s", r.Data)
		}
	}
	// Sealed ballots are unreadable now that every ballot has closed.
	for _, mm := range e.Messages() {
		if v, ok := mm.Event.(VoteCast); ok && len(v.SealedChoice) > 0 {
			if _, err := e.box.Open(v.ElectionID, v.VoterID, v.SealedChoice); !errors.Is(err, ErrBallotKeyDestroyed) {
				t.Fatalf("a sealed vote still opens: %v", err)
			}
		}
	}
}
