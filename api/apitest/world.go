// Package apitest builds, for the API's and the web pages' tests, a ledger
// holding a small world of two partnerships, three schools and people in
// every standing, with one record of each kind in school A and
// partnership P1, and a token for each person. Everything is recorded
// through the domain's commands, in the name of whoever the rules say
// records it, so the rights the tests exercise come from the ledger.
package apitest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// Now is the world's clock: a Monday of the autumn term of 2025-26.
var Now = time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)

// Year is the world's academic year.
const Year = "2025-26"

// The principals, by the name the tests and docs/api.md's table use.
const (
	DirA    = "dirA"    // Director of school A
	StaffA  = "staffA"  // staff of A, member of ISLC X
	ChairA  = "chairA"  // staff of A, chair in office of ISLC X
	GovA    = "govA"    // governor of A, linked to ISLC X
	DirB    = "dirB"    // Director of school B (partnership P1, like A)
	StaffB  = "staffB"  // staff of B
	Lead    = "lead"    // staff of B, lead of partnership P1
	Auditor = "auditor" // outside auditor appointed to P1
	DirC    = "dirC"    // Director of school C (partnership P2)
	Admin   = "admin"   // the system administrator
	None    = "none"    // no token
)

// Principals lists every principal, in the table's column order.
var Principals = []string{DirA, StaffA, ChairA, GovA, DirB, StaffB, Lead, Auditor, DirC, Admin, None}

// Private markers: text only school A's readers may see (the proposal's
// title), and only StaffA and DirA (StaffA's contact details).
const (
	ProposalTitleA = "Outdoor learning for every class (school A private)"
	EmailStaffA    = "staff.a.private@a.example"
)

// World is the ledger with its records and people.
type World struct {
	L     *ledger.Ledger
	App   *app.App
	Actor map[string]app.Actor
	// Person maps a principal to its person (zero for admin and none).
	Person map[string]uuid.UUID

	P1, P2                    uuid.UUID
	SchoolA, SchoolB, SchoolC uuid.UUID
	SegmentA                  uuid.UUID
	CommunityX                uuid.UUID // ISLC X of school A
	CommunityY                uuid.UUID // ISLC Y of school A: ChairA and StaffA2, who chairs it
	StaffA2                   uuid.UUID // another member of X
	Election                  uuid.UUID // an election of X, nominating
	ConfidenceVote            uuid.UUID // in StaffA2's chairing of Y, called by ChairA
	Proposal                  uuid.UUID // drafted by StaffA, submitted by ChairA
	Group                     uuid.UUID // advisory group of X
	Resource                  uuid.UUID // A's minibus, offered
	Loan                      uuid.UUID // requested by B
	CPD                       uuid.UUID // organised by A
	Booking                   uuid.UUID // B's booking
	Review                    uuid.UUID // of A, by B's staff
	Commitment                uuid.UUID // A's
	Priority                  uuid.UUID // P1's
	Timeline                  uuid.UUID // A's
	TimelineItem              uuid.UUID
	Secondment                uuid.UUID // StaffA2 lent from A to B
	Triad                     uuid.UUID
	ResourceC                 uuid.UUID // C's resource in P2
	Challenge                 uuid.UUID // GovA's challenge about A, open
}

// New builds the world on an in-memory ledger.
func New(t testing.TB) *World {
	t.Helper()
	return build(t, "")
}

// NewOnDisk builds the world on a ledger in a temporary directory, with
// the embedded segment store.
func NewOnDisk(t testing.TB) *World {
	t.Helper()
	return build(t, t.TempDir())
}

func build(t testing.TB, dir string) *World {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler), NoTransparency: true, Now: func() time.Time { return Now }})
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	w := &World{L: l, App: &app.App{L: l, Now: func() time.Time { return Now }}, Actor: map[string]app.Actor{Admin: app.Admin()}, Person: map[string]uuid.UUID{}}
	b := &builder{t: t, ctx: ctx, w: w}
	b.build()
	if err := l.CatchUp(ctx); err != nil {
		t.Fatalf("catch up: %v", err)
	}
	return w
}

type builder struct {
	t   testing.TB
	ctx context.Context
	w   *World
}

func id() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func admin() domain.Meta { return domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin} }

func as(p uuid.UUID) domain.Meta {
	return domain.Meta{ActorID: p.String(), ActorRole: domain.RoleStaff}
}

func (b *builder) do(what string, _ domain.Result, err error) {
	b.t.Helper()
	if err != nil {
		b.t.Fatalf("world: %s: %v", what, err)
	}
}

// school registers a school with its Director and the year open.
func (b *builder) school(name string) (school, director uuid.UUID) {
	g := b.w.L.Governance
	school, director = id(), id()
	r, err := g.RegisterSchool(b.ctx, admin(), governance.RegisterSchool{SchoolID: school, Name: name, Mission: "Every learner a leader."})
	b.do("register "+name, r, err)
	r, err = g.RegisterStaff(b.ctx, admin(), governance.RegisterStaff{PersonID: director, SchoolID: school, Kind: governance.StaffAdministrator,
		PersonDetails: governance.PersonDetails{Name: "Director of " + name}})
	b.do("register the Director", r, err)
	r, err = g.AppointDirector(b.ctx, admin(), governance.AppointDirector{SchoolID: school, DirectorID: director})
	b.do("appoint the Director", r, err)
	r, err = g.OpenAcademicYear(b.ctx, as(director), governance.OpenAcademicYear{SchoolID: school, Year: Year})
	b.do("open the year", r, err)
	return school, director
}

func (b *builder) staff(school, director uuid.UUID, name, email string) uuid.UUID {
	p := id()
	r, err := b.w.L.Governance.RegisterStaff(b.ctx, as(director), governance.RegisterStaff{PersonID: p, SchoolID: school, Kind: governance.StaffEducator,
		PersonDetails: governance.PersonDetails{Name: name, Email: email}})
	b.do("register "+name, r, err)
	return p
}

func (b *builder) build() {
	w, g, pt := b.w, b.w.L.Governance, b.w.L.Partnership
	ctx := b.ctx
	var dirA, dirB, dirC uuid.UUID
	w.SchoolA, dirA = b.school("Ashby School")
	w.SchoolB, dirB = b.school("Brook School")
	w.SchoolC, dirC = b.school("Cedar School")
	staffA := b.staff(w.SchoolA, dirA, "Sam Staff", EmailStaffA)
	chairA := b.staff(w.SchoolA, dirA, "Chris Chair", "chris@a.example")
	w.StaffA2 = b.staff(w.SchoolA, dirA, "Alex Another", "alex@a.example")
	staffB := b.staff(w.SchoolB, dirB, "Bea Staff", "bea@b.example")
	lead := b.staff(w.SchoolB, dirB, "Lee Lead", "lee@b.example")
	staffC := b.staff(w.SchoolC, dirC, "Cal Staff", "cal@c.example")
	govA := id()
	r, err := g.RegisterGovernor(ctx, as(dirA), governance.RegisterGovernor{PersonID: govA, SchoolID: w.SchoolA, PersonDetails: governance.PersonDetails{Name: "Gale Governor"}})
	b.do("register the governor", r, err)
	contact := id()
	r, err = g.RegisterAdvisoryContact(ctx, as(dirA), governance.RegisterAdvisoryContact{PersonID: contact, SchoolID: w.SchoolA, PersonDetails: governance.PersonDetails{Name: "Pat Parent"}})
	b.do("register the advisory contact", r, err)
	auditor, auditorC := id(), id()
	r, err = g.RegisterAuditor(ctx, admin(), governance.RegisterAuditor{PersonID: auditor, PersonDetails: governance.PersonDetails{Name: "Ida Auditor"}})
	b.do("register the auditor", r, err)
	r, err = g.RegisterAuditor(ctx, admin(), governance.RegisterAuditor{PersonID: auditorC, PersonDetails: governance.PersonDetails{Name: "Otto Auditor"}})
	b.do("register P2's auditor", r, err)

	// ISLC X of school A: four members, StaffA and ChairA among them; a
	// first election made ChairA chair.
	w.SegmentA = governance.DefaultSegmentID(w.SchoolA, governance.DefaultSegmentNames[0])
	w.CommunityX = governance.CommunityID(w.SchoolA, w.SegmentA)
	r, err = g.EstablishCommunity(ctx, as(dirA), governance.EstablishCommunity{SchoolID: w.SchoolA, SegmentID: w.SegmentA})
	b.do("establish ISLC X", r, err)
	for _, p := range []uuid.UUID{staffA, chairA, w.StaffA2} {
		r, err = g.JoinCommunity(ctx, as(p), governance.JoinCommunity{CommunityID: w.CommunityX, PersonID: p, Year: Year, Basis: []string{governance.BasisInterest}})
		b.do("join ISLC X", r, err)
	}
	first := id()
	r, err = g.OpenElection(ctx, as(staffA), governance.OpenElection{CommunityID: w.CommunityX, ElectionID: first, Year: Year, Ballot: governance.BallotOpen})
	b.do("open the first election", r, err)
	r, err = g.Nominate(ctx, as(staffA), governance.Nominate{CommunityID: w.CommunityX, ElectionID: first, NomineeID: chairA})
	b.do("nominate", r, err)
	r, err = g.AcceptNomination(ctx, as(chairA), governance.AnswerNomination{CommunityID: w.CommunityX, ElectionID: first})
	b.do("accept", r, err)
	r, err = g.OpenVoting(ctx, as(staffA), governance.OpenVoting{CommunityID: w.CommunityX, ElectionID: first})
	b.do("open voting", r, err)
	for _, p := range []uuid.UUID{staffA, chairA, w.StaffA2} {
		r, err = g.CastVote(ctx, as(p), governance.CastVote{CommunityID: w.CommunityX, ElectionID: first, CandidateID: chairA})
		b.do("vote", r, err)
	}
	r, err = g.CloseElection(ctx, as(staffA), governance.CloseElection{CommunityID: w.CommunityX, ElectionID: first})
	b.do("close the first election", r, err)
	r, err = g.LinkGovernor(ctx, as(dirA), governance.LinkGovernor{CommunityID: w.CommunityX, GovernorID: govA})
	b.do("link the governor", r, err)
	w.Group = id()
	r, err = g.LinkAdvisoryGroup(ctx, as(chairA), governance.LinkAdvisoryGroup{CommunityID: w.CommunityX, GroupID: w.Group, Name: "Parent forum",
		Kind: governance.AdvisoryParents, Contacts: []uuid.UUID{contact}})
	b.do("link the advisory group", r, err)
	// An election of next term's chair, nominating (a by-election drill).
	w.Election = id()
	r, err = g.OpenElection(ctx, as(chairA), governance.OpenElection{CommunityID: w.CommunityX, ElectionID: w.Election, Year: Year})
	b.do("open the election", r, err)
	r, err = g.Nominate(ctx, as(w.StaffA2), governance.Nominate{CommunityID: w.CommunityX, ElectionID: w.Election, NomineeID: staffA})
	b.do("nominate StaffA", r, err)

	// ISLC Y: ChairA and StaffA2, who chairs it; ChairA called a vote of
	// confidence in StaffA2.
	segY := governance.DefaultSegmentID(w.SchoolA, governance.DefaultSegmentNames[1])
	w.CommunityY = governance.CommunityID(w.SchoolA, segY)
	r, err = g.EstablishCommunity(ctx, as(dirA), governance.EstablishCommunity{SchoolID: w.SchoolA, SegmentID: segY})
	b.do("establish ISLC Y", r, err)
	for _, p := range []uuid.UUID{chairA, w.StaffA2} {
		r, err = g.JoinCommunity(ctx, as(p), governance.JoinCommunity{CommunityID: w.CommunityY, PersonID: p, Year: Year, Basis: []string{governance.BasisStrengths}})
		b.do("join ISLC Y", r, err)
	}
	ey := id()
	r, err = g.OpenElection(ctx, as(chairA), governance.OpenElection{CommunityID: w.CommunityY, ElectionID: ey, Year: Year, Ballot: governance.BallotOpen})
	b.do("open Y's election", r, err)
	r, err = g.Nominate(ctx, as(chairA), governance.Nominate{CommunityID: w.CommunityY, ElectionID: ey, NomineeID: w.StaffA2})
	b.do("nominate StaffA2", r, err)
	r, err = g.AcceptNomination(ctx, as(w.StaffA2), governance.AnswerNomination{CommunityID: w.CommunityY, ElectionID: ey})
	b.do("accept in Y", r, err)
	r, err = g.OpenVoting(ctx, as(chairA), governance.OpenVoting{CommunityID: w.CommunityY, ElectionID: ey})
	b.do("open voting in Y", r, err)
	for _, p := range []uuid.UUID{chairA, w.StaffA2} {
		r, err = g.CastVote(ctx, as(p), governance.CastVote{CommunityID: w.CommunityY, ElectionID: ey, CandidateID: w.StaffA2})
		b.do("vote in Y", r, err)
	}
	r, err = g.CloseElection(ctx, as(chairA), governance.CloseElection{CommunityID: w.CommunityY, ElectionID: ey})
	b.do("close Y's election", r, err)
	w.ConfidenceVote = id()
	r, err = g.CallConfidenceVote(ctx, as(chairA), governance.CallConfidenceVote{CommunityID: w.CommunityY, VoteID: w.ConfidenceVote, Year: Year})
	b.do("call a confidence vote", r, err)

	// A proposal of X, submitted.
	w.Proposal = id()
	r, err = g.DraftProposal(ctx, as(staffA), governance.DraftProposal{ProposalID: w.Proposal, CommunityID: w.CommunityX, Year: Year,
		ProposalText: governance.ProposalText{Title: ProposalTitleA, Body: "Every class spends a morning a week outdoors.", ExpectedImpact: "Better attendance."}})
	b.do("draft the proposal", r, err)
	r, err = g.SubmitProposal(ctx, as(chairA), governance.SubmitProposal{ProposalID: w.Proposal})
	b.do("submit the proposal", r, err)
	w.Triad = id()
	r, err = g.FormTriad(ctx, as(dirA), governance.FormTriad{TriadID: w.Triad, SchoolID: w.SchoolA, Year: Year, Members: []uuid.UUID{staffA, chairA, w.StaffA2}})
	b.do("form the triad", r, err)

	// Partnerships: P1 of A and B led by Lead and audited by Auditor; P2
	// of C, led by C's Director.
	w.P1, w.P2 = id(), id()
	r, err = pt.FormPartnership(ctx, admin(), partnership.FormPartnership{PartnershipID: w.P1, Name: "Vale Partnership", Kind: partnership.KindTrust, FormedOn: Now.AddDate(-1, 0, 0)})
	b.do("form P1", r, err)
	r, err = pt.FormPartnership(ctx, admin(), partnership.FormPartnership{PartnershipID: w.P2, Name: "Hill Partnership", Kind: partnership.KindCluster, FormedOn: Now.AddDate(-1, 0, 0)})
	b.do("form P2", r, err)
	for _, m := range []struct{ p, s uuid.UUID }{{w.P1, w.SchoolA}, {w.P1, w.SchoolB}, {w.P2, w.SchoolC}} {
		r, err = pt.JoinPartnership(ctx, admin(), partnership.JoinPartnership{PartnershipID: m.p, SchoolID: m.s, JoinedOn: Now.AddDate(-1, 0, 0)})
		b.do("join a partnership", r, err)
	}
	r, err = pt.AppointPartnershipLead(ctx, admin(), partnership.AppointPartnershipLead{PartnershipID: w.P1, LeadID: lead})
	b.do("appoint P1's lead", r, err)
	r, err = pt.AppointPartnershipLead(ctx, admin(), partnership.AppointPartnershipLead{PartnershipID: w.P2, LeadID: dirC})
	b.do("appoint P2's lead", r, err)
	r, err = pt.AppointAuditor(ctx, as(lead), partnership.AppointAuditor{PartnershipID: w.P1, AuditorID: auditor})
	b.do("appoint P1's auditor", r, err)
	r, err = pt.AppointAuditor(ctx, as(dirC), partnership.AppointAuditor{PartnershipID: w.P2, AuditorID: auditorC})
	b.do("appoint P2's auditor", r, err)
	w.Priority = id()
	r, err = pt.AgreePriority(ctx, as(lead), partnership.AgreePriority{PartnershipID: w.P1, PriorityID: w.Priority, Title: "Reading for pleasure", AcademicYear: Year})
	b.do("agree a priority", r, err)

	// A's minibus, offered, with B's loan request.
	w.Resource, w.Loan = id(), id()
	r, err = pt.RegisterResource(ctx, as(staffA), partnership.RegisterResource{ResourceID: w.Resource, PartnershipID: w.P1, OwnerSchoolID: w.SchoolA,
		Kind: partnership.Minibus, Name: "Minibus", Capacity: 16, HourlyValuePence: 2500, Offer: true})
	b.do("register the minibus", r, err)
	start := time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)
	r, err = pt.RequestLoan(ctx, as(staffB), partnership.RequestLoan{ResourceID: w.Resource, LoanID: w.Loan, BorrowerSchoolID: w.SchoolB,
		Start: start, End: start.Add(6 * time.Hour), Purpose: "Museum trip"})
	b.do("request a loan", r, err)
	w.ResourceC = id()
	r, err = pt.RegisterResource(ctx, as(staffC), partnership.RegisterResource{ResourceID: w.ResourceC, PartnershipID: w.P2, OwnerSchoolID: w.SchoolC,
		Kind: partnership.SportsHall, Name: "Sports hall", Capacity: 100, HourlyValuePence: 5000, Offer: true})
	b.do("register C's hall", r, err)

	// A's CPD event with B's booking.
	w.CPD, w.Booking = id(), id()
	r, err = pt.OrganiseCPD(ctx, as(staffA), partnership.OrganiseCPD{CPDID: w.CPD, PartnershipID: w.P1, OrganiserSchoolID: w.SchoolA, Kind: partnership.TeachMeet,
		Title: "TeachMeet", StartsAt: time.Date(2025, 11, 27, 16, 0, 0, 0, time.UTC), EndsAt: time.Date(2025, 11, 27, 18, 0, 0, 0, time.UTC), Places: 30})
	b.do("organise CPD", r, err)
	r, err = pt.BookCPDPlaces(ctx, as(staffB), partnership.BookCPDPlaces{CPDID: w.CPD, BookingID: w.Booking, SchoolID: w.SchoolB, Places: 3})
	b.do("book CPD", r, err)

	// A peer review of A by B's staff.
	w.Review = id()
	r, err = pt.SchedulePeerReview(ctx, as(lead), partnership.SchedulePeerReview{ReviewID: w.Review, PartnershipID: w.P1, ReviewedSchoolID: w.SchoolA,
		ReviewerIDs: []uuid.UUID{staffB}, FocusAreas: []string{"Reading"}, On: time.Date(2025, 11, 10, 0, 0, 0, 0, time.UTC)})
	b.do("schedule a review", r, err)

	// A's commitment to the priority, and A's timeline.
	w.Commitment = id()
	r, err = pt.MakeCommitment(ctx, as(staffA), partnership.MakeCommitment{CommitmentID: w.Commitment, PartnershipID: w.P1, PriorityID: w.Priority,
		PartyKind: partnership.PartySchool, PartyID: w.SchoolA, OwnerID: staffA, DueOn: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), SuccessMeasure: "Every class reads daily."})
	b.do("make a commitment", r, err)
	w.Timeline, w.TimelineItem = id(), id()
	r, err = pt.CreateTimeline(ctx, as(dirA), partnership.CreateTimeline{TimelineID: w.Timeline, PartnershipID: w.P1, SchoolID: w.SchoolA, AcademicYear: Year,
		Title: "Ashby improvement programme", Items: []partnership.PlannedItem{{ItemID: w.TimelineItem, Kind: partnership.ItemDataDrop, Title: "Data drop", On: time.Date(2025, 12, 5, 0, 0, 0, 0, time.UTC)}}})
	b.do("create a timeline", r, err)

	// StaffA2 lent to B one day a week.
	w.Secondment = id()
	r, err = pt.ArrangeSecondment(ctx, as(dirA), partnership.ArrangeSecondment{SecondmentID: w.Secondment, PartnershipID: w.P1, TeacherID: w.StaffA2,
		LendingSchoolID: w.SchoolA, ReceivingSchoolID: w.SchoolB, Subject: "Physics", Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC),
		End: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Fraction: 0.2})
	b.do("arrange a secondment", r, err)

	w.Challenge = id()
	r, err = g.RaiseChallenge(ctx, as(govA), governance.RaiseChallenge{ChallengeID: w.Challenge, Subject: governance.ChallengeSubject{Kind: "school", ID: w.SchoolA},
		Text: "How does the Team check proposals against the values?", DueOn: time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)})
	b.do("raise a challenge", r, err)

	for name, p := range map[string]uuid.UUID{DirA: dirA, StaffA: staffA, ChairA: chairA, GovA: govA, DirB: dirB, StaffB: staffB, Lead: lead, Auditor: auditor, DirC: dirC} {
		w.Person[name] = p
		w.Actor[name] = app.Person(p)
	}
	w.Person["contact"] = contact
	w.Person["staffC"] = staffC
}

// String names the world's main ids, for test failure messages.
func (w *World) String() string {
	return fmt.Sprintf("world{A %s, B %s, C %s, X %s}", w.SchoolA, w.SchoolB, w.SchoolC, w.CommunityX)
}
