package views

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/projections"
)

const (
	scYear     = "2025-26"
	scPrevYear = "2024-25"
)

// govWorld is a school year recorded through the real governance service
// on a memory store.
type govWorld struct {
	t     testing.TB
	ctx   context.Context
	store eventstore.Store
	keys  *domain.MemoryKeyring
	codec *domain.Codec
	svc   *governance.Service
	h     *domain.Handler
	now   time.Time
	admin domain.Meta

	school      uuid.UUID
	segs        []governance.Segment
	staff       []uuid.UUID
	director    uuid.UUID
	communities []uuid.UUID
	governor    uuid.UUID
	contact     uuid.UUID
	forum       uuid.UUID
	late        uuid.UUID // staff registered in February
	leaver      uuid.UUID // left ISLC 0 early
	elections   []uuid.UUID
	failed      uuid.UUID // ISLC 1's inquorate election
	proposal    uuid.UUID
	chair0      uuid.UUID
	chair1      uuid.UUID
	// challenged was answered late; openChallenge is open.
	challenged, openChallenge uuid.UUID
}

func newGovWorld(t testing.TB) *govWorld {
	t.Helper()
	w := &govWorld{t: t, ctx: context.Background(), keys: domain.NewMemoryKeyring(),
		admin: domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin}}
	// The store stamps events with the story's clock, so recorded times
	// are the story's days.
	w.store = memory.New(memory.Options{Now: func() time.Time { return w.now }})
	w.codec = &domain.Codec{Keys: w.keys}
	h := domain.NewHandler(domainlog.Log{Store: w.store}, w.codec)
	h.Now = func() time.Time { return w.now }
	w.svc = governance.NewService(h, governance.NewMemoryBallotBox())
	w.h = h
	return w
}

func (w *govWorld) do(_ domain.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func as(p uuid.UUID, role string) domain.Meta {
	return domain.Meta{ActorID: p.String(), ActorRole: role}
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// run records the year. rng (may be nil) varies the number of staff and
// the votes, for the property tests; with nil the story is fixed:
//
//   - ISLC 0: staff 0, 2, 3 this year (0 and 1 last year); staff 0 elected
//     chair 2–1; staff 3 leaves early on long-term absence.
//   - ISLC 1: staff 4, 5 and the Director; a first election fails its
//     quorum (1 of 3), the second elects staff 4.
//   - staff 6 is in no ISLC; a newcomer registered in February neither.
//   - a proposal of ISLC 0 is sent back by the Leadership Team (the
//     Director and ISLC 1's chair voting so, the Director signing off),
//     revised, and approved (the Director and ISLC 0's chair).
//   - the governor challenges the Director on the proposal (answered
//     late) and on the school (open).
func (w *govWorld) run(rng *rand.Rand) {
	w.t.Helper()
	ctx, admin := w.ctx, w.admin
	w.now = time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC)
	w.school = newID()
	w.do(w.svc.RegisterSchool(ctx, admin, governance.RegisterSchool{SchoolID: w.school, Name: "Infinity School", Mission: "Everyone a learner."}))
	for _, n := range governance.DefaultSegmentNames {
		w.segs = append(w.segs, governance.Segment{ID: governance.DefaultSegmentID(w.school, n), Name: n})
	}
	w.do(w.svc.OpenAcademicYear(ctx, admin, governance.OpenAcademicYear{SchoolID: w.school, Year: scPrevYear}))
	w.do(w.svc.OpenAcademicYear(ctx, admin, governance.OpenAcademicYear{SchoolID: w.school, Year: scYear}))
	n := 8
	if rng != nil {
		n = 8 + rng.IntN(5)
	}
	for i := range n {
		id := newID()
		w.staff = append(w.staff, id)
		w.do(w.svc.RegisterStaff(ctx, admin, governance.RegisterStaff{PersonID: id, SchoolID: w.school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Teacher %02d", i)}}))
	}
	w.director = w.staff[7]
	w.do(w.svc.AppointDirector(ctx, admin, governance.AppointDirector{SchoolID: w.school, DirectorID: w.director}))
	for _, g := range w.segs[:2] {
		w.do(w.svc.EstablishCommunity(ctx, admin, governance.EstablishCommunity{SchoolID: w.school, SegmentID: g.ID}))
		w.communities = append(w.communities, governance.CommunityID(w.school, g.ID))
	}
	c0, c1 := w.communities[0], w.communities[1]
	w.governor, w.contact, w.forum = newID(), newID(), newID()
	w.do(w.svc.RegisterGovernor(ctx, admin, governance.RegisterGovernor{PersonID: w.governor, SchoolID: w.school, PersonDetails: governance.PersonDetails{Name: "Governor Grey"}}))
	w.do(w.svc.LinkGovernor(ctx, admin, governance.LinkGovernor{CommunityID: c0, GovernorID: w.governor}))
	w.do(w.svc.RegisterAdvisoryContact(ctx, admin, governance.RegisterAdvisoryContact{PersonID: w.contact, SchoolID: w.school, PersonDetails: governance.PersonDetails{Name: "Forum secretary"}}))
	w.do(w.svc.LinkAdvisoryGroup(ctx, admin, governance.LinkAdvisoryGroup{CommunityID: c0, GroupID: w.forum, Name: "Parent forum", Kind: governance.AdvisoryParents, Contacts: []uuid.UUID{w.contact}}))
	start := time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range w.staff[:2] {
		w.do(w.svc.JoinCommunity(ctx, admin, governance.JoinCommunity{CommunityID: c0, PersonID: p, Year: scPrevYear, Basis: []string{governance.BasisInterest}, EffectiveFrom: start.AddDate(-1, 0, 0)}))
	}

	w.now = time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	join := func(c, p uuid.UUID) {
		w.do(w.svc.JoinCommunity(ctx, as(p, domain.RoleStaff), governance.JoinCommunity{CommunityID: c, PersonID: p, Year: scYear,
			Basis: []string{governance.BasisInterest, governance.BasisStrengths}}))
	}
	for _, p := range []uuid.UUID{w.staff[0], w.staff[2], w.staff[3]} {
		join(c0, p)
	}
	for _, p := range []uuid.UUID{w.staff[4], w.staff[5], w.director} {
		join(c1, p)
	}
	// Extra staff of a random history join one ISLC or none.
	for _, p := range w.staff[8:] {
		if rng.IntN(3) > 0 {
			join(w.communities[rng.IntN(2)], p)
		}
	}
	for i, p := range []uuid.UUID{w.staff[0], w.staff[2]} {
		w.do(w.svc.RecordStrengthsAssessment(ctx, admin, governance.RecordStrengthsAssessment{PersonID: p, Year: scYear,
			Scores: governance.Strengths{RelationshipBuilding: 60 + 10*i, Executing: 50, StrategicThinking: 40, Influencing: 30 + 20*i}}))
	}

	w.now = time.Date(2025, 10, 13, 9, 0, 0, 0, time.UTC)
	election := func(c uuid.UUID, cands []uuid.UUID, votes [][2]uuid.UUID) uuid.UUID {
		el := newID()
		w.elections = append(w.elections, el)
		w.do(w.svc.OpenElection(ctx, admin, governance.OpenElection{CommunityID: c, ElectionID: el, Year: scYear}))
		for _, cand := range cands {
			w.do(w.svc.Nominate(ctx, as(cand, domain.RoleStaff), governance.Nominate{CommunityID: c, ElectionID: el, NomineeID: cand}))
			w.do(w.svc.AcceptNomination(ctx, as(cand, domain.RoleStaff), governance.AnswerNomination{CommunityID: c, ElectionID: el}))
		}
		w.do(w.svc.OpenVoting(ctx, admin, governance.OpenVoting{CommunityID: c, ElectionID: el}))
		for _, v := range votes {
			w.do(w.svc.CastVote(ctx, as(v[0], domain.RoleStaff), governance.CastVote{CommunityID: c, ElectionID: el, CandidateID: v[1]}))
		}
		w.do(w.svc.CloseElection(ctx, admin, governance.CloseElection{CommunityID: c, ElectionID: el}))
		return el
	}
	s := w.staff
	election(c0, []uuid.UUID{s[0], s[2]}, [][2]uuid.UUID{{s[0], s[0]}, {s[2], s[0]}, {s[3], s[2]}})
	w.chair0 = s[0]
	w.failed = election(c1, []uuid.UUID{s[4]}, [][2]uuid.UUID{{s[5], s[4]}})
	votes := [][2]uuid.UUID{{s[4], s[4]}, {s[5], s[4]}}
	if rng != nil && rng.IntN(2) == 0 {
		votes = append(votes, [2]uuid.UUID{w.director, s[4]})
	}
	election(c1, []uuid.UUID{s[4]}, votes)
	w.chair1 = s[4]

	w.now = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	w.leaver = s[3]
	w.do(w.svc.LeaveCommunity(ctx, admin, governance.LeaveCommunity{CommunityID: c0, PersonID: w.leaver, Year: scYear, Exception: governance.ExceptionLongTermAbsence}))
	w.late = newID()
	w.do(w.svc.RegisterStaff(ctx, admin, governance.RegisterStaff{PersonID: w.late, SchoolID: w.school, Kind: governance.StaffAdministrator,
		PersonDetails: governance.PersonDetails{Name: "New administrator"}}))

	w.now = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	w.proposal = newID()
	yes := true
	w.do(w.svc.DraftProposal(ctx, as(s[2], domain.RoleStaff), governance.DraftProposal{ProposalID: w.proposal, CommunityID: c0, Year: scYear,
		ProposalText: governance.ProposalText{Title: "Project weeks", Body: "Two project weeks.", ExpectedImpact: "Deeper learning.",
			Costs: &governance.Money{AmountMinor: 250000, Currency: "GBP"}}}))
	w.do(w.svc.SubmitProposal(ctx, as(w.chair0, domain.RoleChair), governance.SubmitProposal{ProposalID: w.proposal}))
	w.do(w.svc.GiveAdvice(ctx, as(w.contact, domain.RoleStaff), governance.GiveAdvice{ProposalID: w.proposal, GroupID: w.forum, Stance: governance.StanceConcerns, Text: "Costly."}))
	teamVote := func(by uuid.UUID, vote, reason string) {
		w.do(w.svc.CastTeamVote(ctx, as(by, domain.RoleChair), governance.CastTeamVote{ProposalID: w.proposal, Vote: vote, Reason: reason, Aligned: &yes, AlignmentNote: "Learners lead."}))
	}
	teamVote(w.director, governance.VoteSendBack, "Halve the cost.")
	teamVote(w.chair1, governance.VoteSendBack, "Too costly.")
	w.do(w.svc.SignOffResolution(ctx, as(w.director, domain.RoleDirector), governance.ResolveProposal{ProposalID: w.proposal, Reason: "Halve the cost."}))
	w.now = w.now.Add(48 * time.Hour)
	w.do(w.svc.ReviseProposal(ctx, as(s[2], domain.RoleStaff), governance.ReviseProposal{ProposalID: w.proposal,
		ProposalText: governance.ProposalText{Title: "One project week", Body: "One project week.", ExpectedImpact: "Deeper learning.",
			Costs: &governance.Money{AmountMinor: 125000, Currency: "GBP"}}}))
	w.do(w.svc.SubmitProposal(ctx, as(w.chair0, domain.RoleChair), governance.SubmitProposal{ProposalID: w.proposal}))
	teamVote(w.director, governance.VoteApprove, "Affordable now.")
	teamVote(w.chair0, governance.VoteApprove, "Ready.")
	w.do(w.svc.SignOffResolution(ctx, as(w.director, domain.RoleDirector), governance.ResolveProposal{ProposalID: w.proposal, Reason: "Affordable now."}))

	// The governor challenges the Director on the proposal, answered late,
	// and on the school, still open.
	w.now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	w.challenged, w.openChallenge = newID(), newID()
	gov := as(w.governor, domain.RoleGovernor)
	w.do(w.svc.RaiseChallenge(ctx, gov, governance.RaiseChallenge{ChallengeID: w.challenged, Subject: governance.ChallengeSubject{Kind: governance.SubjectProposal, ID: w.proposal},
		Text: "How will the week be evaluated?", DueOn: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)}))
	w.do(w.svc.RaiseChallenge(ctx, gov, governance.RaiseChallenge{ChallengeID: w.openChallenge, Subject: governance.ChallengeSubject{Kind: governance.SubjectSchool, ID: w.school},
		Text: "Staff in no ISLC?", DueOn: time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)}))
	w.now = time.Date(2026, 3, 24, 9, 0, 0, 0, time.UTC)
	w.do(w.svc.AnswerChallenge(ctx, as(w.director, domain.RoleDirector), governance.AnswerChallenge{ChallengeID: w.challenged, Answer: "Pupil voice and work scrutiny."}))
}

// messages decodes the whole log.
func (w *govWorld) messages() []domain.Message {
	w.t.Helper()
	recs, err := w.store.ReadAll(w.ctx, 1, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	out := make([]domain.Message, len(recs))
	for i, r := range recs {
		m, err := w.codec.Decode(domainlog.ToDomain(r))
		if err != nil {
			w.t.Fatal(err)
		}
		out[i] = m
	}
	return out
}

// fold folds the log's events 1..to into a fresh view named name.
func (w *govWorld) fold(name string, to uint64) projections.Projection {
	w.t.Helper()
	f, ok := factory(name)
	if !ok {
		w.t.Fatalf("no view %s", name)
	}
	p := f()
	if err := projections.Fold(w.ctx, w.store, w.codec, p, 1, to, nil); err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *govWorld) head() uint64 {
	h, err := w.store.Head(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

// names returns the people view's names at the head.
func (w *govWorld) names() NameMap {
	return w.fold(PeopleView, w.head()).(*People).NameMap(w.keys)
}

// govViews are the views this file's tests cover.
var govViews = []string{PeopleView, SchoolsView, CommunitiesView, LeadershipTeamView, ElectionsView, ProposalsView, AuditView, ChallengesView}
