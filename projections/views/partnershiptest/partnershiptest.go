// Package partnershiptest builds a small ledger with one partnership year
// in it, recorded through the real governance and partnership services,
// for the tests of the partnership views and of the partnership report.
package partnershiptest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

// Clock is a settable clock for the handler and the store.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Set moves the clock to t (the store never lets recorded times go back).
func (c *Clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t.UTC() }

// World is a ledger in memory: store, keyring, codec, handler, both
// services, the projection engine with every view, and a Reader.
type World struct {
	T      testing.TB
	Ctx    context.Context
	Clock  *Clock
	Store  *memory.Store
	Keys   *domain.MemoryKeyring
	Codec  *domain.Codec
	H      *domain.Handler
	Gov    *governance.Service
	Part   *partnership.Service
	Dir    *partnership.MemoryDirectory
	Engine *projections.Engine
	Reader *views.Reader

	// Ids of the year's cast.
	PID                                    uuid.UUID
	Pant, Cwm, Tony                        uuid.UUID
	PantDirector, Phys1, Phys2, MathsLead  uuid.UUID
	CwmHead, TonyHead                      uuid.UUID
	CwmScienceISLC                         uuid.UUID
	Minibus, Lab                           uuid.UUID
	TripLoan, ClashLoan, LabLoan, LateLoan uuid.UUID
	Secondment, Secondment2                uuid.UUID
	TeachMeet, Review, Action              uuid.UUID
	PantCommit, CwmCommit, OpenCommit      uuid.UUID
	Timeline                               uuid.UUID

	// Late, when set, records the year after the fact: the clock stays at
	// Late and every command carries the day it happened as its effective
	// time (X-Concord-Effective-At), as a school entering a whole year
	// afterwards would. Zero records the year live, the clock moving with
	// the story.
	Late time.Time
	// when is the story's moment of the command being recorded.
	when time.Time
	// ids counts the ids handed out, so two worlds recording the same
	// story have the same ids.
	ids int
}

// ID returns the world's next id: deterministic, so the same story
// recorded twice names the same things.
func (w *World) ID() uuid.UUID {
	w.ids++
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("partnershiptest:%d", w.ids)))
}

// on moves the story to moment t: the clock when recording live, the
// effective time of the next commands when recording late.
func (w *World) on(t time.Time) {
	w.when = t
	if w.Late.IsZero() {
		w.Clock.Set(t)
		return
	}
	w.Clock.Set(w.Late)
}

// M returns meta for a command of the story: when recording late, with the
// moment the fact happened as its effective time.
func (w *World) M(meta domain.Meta) domain.Meta {
	if !w.Late.IsZero() {
		meta.EffectiveAt = w.when
	}
	return meta
}

// New returns an empty World whose engine snapshots every snapshotEvery
// positions. Everything is closed when the test ends.
func New(t testing.TB, snapshotEvery uint64) *World {
	t.Helper()
	w := &World{T: t, Ctx: context.Background(), Clock: &Clock{}, Keys: domain.NewMemoryKeyring(), Dir: &partnership.MemoryDirectory{}}
	w.Clock.Set(time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC))
	w.Store = memory.New(memory.Options{Now: w.Clock.Now})
	w.Codec = &domain.Codec{Keys: w.Keys}
	w.H = domain.NewHandler(domainlog.Log{Store: w.Store}, w.Codec)
	w.H.Now = w.Clock.Now
	w.Gov = governance.NewService(w.H, nil)
	w.Part = partnership.NewService(w.H, w.Dir)
	e, err := projections.Open(w.Store, w.Codec, filepath.Join(t.TempDir(), "projections.db"), projections.Options{SnapshotEvery: snapshotEvery}, views.All()...)
	if err != nil {
		t.Fatal(err)
	}
	w.Engine = e
	w.Reader = &views.Reader{Engine: e, Store: w.Store, Codec: w.Codec}
	t.Cleanup(func() { e.Close(); w.Store.Close() })
	return w
}

// Day is midnight UTC of a day.
func Day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// At is hour h UTC of a day.
func At(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

func (w *World) must(_ domain.Result, err error) {
	w.T.Helper()
	if err != nil {
		w.T.Fatalf("command failed: %v", err)
	}
}

// As is the metadata of a person acting as staff.
func As(person uuid.UUID) domain.Meta {
	return domain.Meta{ActorID: person.String(), ActorRole: domain.RoleStaff}
}

var admin = domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}

// CatchUp feeds every view up to the head of the log.
func (w *World) CatchUp() {
	w.T.Helper()
	if err := w.Engine.CatchUp(w.Ctx); err != nil {
		w.T.Fatal(err)
	}
}

// Year records the 2025-26 year of the Rhondda Learning Cluster: three
// schools (Y Pant Comprehensive and the primaries Cwm and Tonyrefail),
// shared minibus and lab with a declined clash and a loan left overdue, a
// physics secondment, a TeachMeet with a bulk discount, a peer review with
// a follow-up action, RAG ratings red → amber → green, commitments
// achieved, missed and open, recognitions, the year's timeline and
// transaction costs. It mirrors domain/partnership's year test.
func (w *World) Year() {
	t, ctx, svc := w.T, w.Ctx, w.Part
	t.Helper()
	id := w.ID
	on := w.on
	w.PID = id()
	w.Pant, w.Cwm, w.Tony = id(), id(), id()
	w.PantDirector, w.Phys1, w.Phys2, w.MathsLead = id(), id(), id(), id()
	w.CwmHead, w.TonyHead = id(), id()

	on(At(2025, 8, 20, 9))
	for s, name := range map[uuid.UUID]string{w.Pant: "Y Pant Comprehensive", w.Cwm: "Cwm Primary", w.Tony: "Tonyrefail Primary"} {
		w.must(w.Gov.RegisterSchool(ctx, w.M(admin), governance.RegisterSchool{SchoolID: s, Name: name}))
	}
	staff := []struct {
		id     uuid.UUID
		school uuid.UUID
		name   string
	}{
		{w.PantDirector, w.Pant, "Gwen Price"}, {w.Phys1, w.Pant, "Dafydd Evans"}, {w.Phys2, w.Pant, "Mari Jones"},
		{w.MathsLead, w.Pant, "Rhys Morgan"}, {w.CwmHead, w.Cwm, "Sian Davies"}, {w.TonyHead, w.Tony, "Owain Lewis"},
	}
	for _, s := range staff {
		w.must(w.Gov.RegisterStaff(ctx, w.M(admin), governance.RegisterStaff{PersonID: s.id, SchoolID: s.school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: s.name}}))
		w.Dir.AddStaff(s.id, s.school)
	}
	seg := governance.DefaultSegmentID(w.Cwm, "Research, Innovation & Professional Development")
	w.must(w.Gov.EstablishCommunity(ctx, w.M(admin), governance.EstablishCommunity{SchoolID: w.Cwm, SegmentID: seg}))
	w.CwmScienceISLC = governance.CommunityID(w.Cwm, seg)
	w.Dir.AddCommunity(w.CwmScienceISLC, w.Cwm)
	lead := domain.Meta{ActorID: w.PantDirector.String(), ActorRole: domain.RolePartnershipLead}

	on(At(2025, 9, 1, 8))
	w.must(svc.FormPartnership(ctx, w.M(lead), partnership.FormPartnership{PartnershipID: w.PID, Name: "Rhondda Learning Cluster", Kind: partnership.KindCluster}))
	for _, s := range []uuid.UUID{w.Pant, w.Cwm, w.Tony} {
		w.must(svc.JoinPartnership(ctx, w.M(lead), partnership.JoinPartnership{PartnershipID: w.PID, SchoolID: s}))
	}
	w.must(svc.AppointPartnershipLead(ctx, w.M(lead), partnership.AppointPartnershipLead{PartnershipID: w.PID, LeadID: w.PantDirector}))
	transition, science := id(), id()
	w.must(svc.AgreePriority(ctx, w.M(lead), partnership.AgreePriority{PartnershipID: w.PID, PriorityID: transition, Title: "Academic transition from Year 6 to Year 7", AcademicYear: "2025-26"}))
	w.must(svc.AgreePriority(ctx, w.M(lead), partnership.AgreePriority{PartnershipID: w.PID, PriorityID: science, Title: "Specialist science teaching in the primaries", AcademicYear: "2025-26"}))
	w.Timeline = id()
	w.must(svc.CreateTimeline(ctx, w.M(lead), partnership.CreateTimeline{TimelineID: w.Timeline, PartnershipID: w.PID, AcademicYear: "2025-26", Title: "Cluster programme 2025-26"}))

	w.Minibus, w.Lab = id(), id()
	w.must(svc.RegisterResource(ctx, w.M(As(w.PantDirector)), partnership.RegisterResource{ResourceID: w.Minibus, PartnershipID: w.PID, OwnerSchoolID: w.Pant,
		Kind: partnership.Minibus, Name: "Minibus (17 seats)", Capacity: 17, HourlyValuePence: 2500, Offer: true}))
	w.must(svc.RegisterResource(ctx, w.M(As(w.PantDirector)), partnership.RegisterResource{ResourceID: w.Lab, PartnershipID: w.PID, OwnerSchoolID: w.Pant,
		Kind: partnership.ScienceLab, Name: "Physics lab", Capacity: 30, HourlyValuePence: 4000, Offer: true}))
	on(At(2025, 9, 15, 9))
	w.TripLoan, w.ClashLoan, w.LabLoan, w.LateLoan = id(), id(), id(), id()
	w.must(svc.RequestLoan(ctx, w.M(As(w.CwmHead)), partnership.RequestLoan{ResourceID: w.Minibus, LoanID: w.TripLoan, BorrowerSchoolID: w.Cwm,
		Start: At(2025, 10, 6, 8), End: At(2025, 10, 6, 16), Purpose: "Year 6 trip to the Big Pit"}))
	w.must(svc.RequestLoan(ctx, w.M(As(w.TonyHead)), partnership.RequestLoan{ResourceID: w.Minibus, LoanID: w.ClashLoan, BorrowerSchoolID: w.Tony,
		Start: At(2025, 10, 6, 13), End: At(2025, 10, 6, 18), Purpose: "Football tournament"}))
	w.must(svc.RequestLoan(ctx, w.M(As(w.TonyHead)), partnership.RequestLoan{ResourceID: w.Lab, LoanID: w.LabLoan, BorrowerSchoolID: w.Tony,
		Start: At(2025, 11, 12, 9), End: At(2025, 11, 12, 12), Purpose: "Year 6 electricity practical"}))
	w.must(svc.RequestLoan(ctx, w.M(As(w.TonyHead)), partnership.RequestLoan{ResourceID: w.Minibus, LoanID: w.LateLoan, BorrowerSchoolID: w.Tony,
		Start: At(2026, 6, 1, 8), End: At(2026, 6, 1, 18), Purpose: "Sports day"}))
	w.must(svc.ApproveLoan(ctx, w.M(As(w.PantDirector)), partnership.ApproveLoan{ResourceID: w.Minibus, LoanID: w.TripLoan}))
	if _, err := svc.ApproveLoan(ctx, w.M(As(w.PantDirector)), partnership.ApproveLoan{ResourceID: w.Minibus, LoanID: w.ClashLoan}); err == nil {
		t.Fatal("an overlapping loan was approved")
	}
	w.must(svc.DeclineLoan(ctx, w.M(As(w.PantDirector)), partnership.DeclineLoan{ResourceID: w.Minibus, LoanID: w.ClashLoan}))
	w.must(svc.ApproveLoan(ctx, w.M(As(w.PantDirector)), partnership.ApproveLoan{ResourceID: w.Lab, LoanID: w.LabLoan}))
	w.must(svc.ApproveLoan(ctx, w.M(As(w.PantDirector)), partnership.ApproveLoan{ResourceID: w.Minibus, LoanID: w.LateLoan}))

	on(At(2025, 10, 6, 8))
	w.must(svc.CollectLoan(ctx, w.M(As(w.CwmHead)), partnership.CollectLoan{ResourceID: w.Minibus, LoanID: w.TripLoan}))
	on(At(2025, 10, 7, 9))
	w.must(svc.ReturnLoan(ctx, w.M(As(w.CwmHead)), partnership.ReturnLoan{ResourceID: w.Minibus, LoanID: w.TripLoan, Condition: partnership.ConditionDamaged, Note: "Rear step bent"}))

	on(At(2025, 9, 22, 9))
	w.TeachMeet = id()
	w.must(svc.OrganiseCPD(ctx, w.M(As(w.TonyHead)), partnership.OrganiseCPD{CPDID: w.TeachMeet, PartnershipID: w.PID, OrganiserSchoolID: w.Tony, Kind: partnership.TeachMeet,
		Title: "Retrieval practice TeachMeet", StartsAt: At(2025, 10, 15, 16), EndsAt: At(2025, 10, 15, 18), Places: 12, CostPerPlacePence: 2000, BulkMinPlaces: 10, BulkPercentOff: 25}))
	pantB, cwmB, tonyB := id(), id(), id()
	w.must(svc.BookCPDPlaces(ctx, w.M(As(w.MathsLead)), partnership.BookCPDPlaces{CPDID: w.TeachMeet, BookingID: pantB, SchoolID: w.Pant, Places: 6}))
	w.must(svc.BookCPDPlaces(ctx, w.M(As(w.CwmHead)), partnership.BookCPDPlaces{CPDID: w.TeachMeet, BookingID: cwmB, SchoolID: w.Cwm, Places: 3}))
	w.must(svc.BookCPDPlaces(ctx, w.M(As(w.TonyHead)), partnership.BookCPDPlaces{CPDID: w.TeachMeet, BookingID: tonyB, SchoolID: w.Tony, Places: 2}))
	on(At(2025, 10, 15, 19))
	for _, b := range []struct {
		id uuid.UUID
		n  int
	}{{pantB, 6}, {cwmB, 2}, {tonyB, 2}} {
		w.must(svc.RecordCPDAttendance(ctx, w.M(As(w.TonyHead)), partnership.RecordCPDAttendance{CPDID: w.TeachMeet, BookingID: b.id, Attended: b.n}))
	}

	on(At(2025, 11, 12, 9))
	w.must(svc.CollectLoan(ctx, w.M(As(w.TonyHead)), partnership.CollectLoan{ResourceID: w.Lab, LoanID: w.LabLoan}))
	on(At(2025, 11, 12, 12))
	w.must(svc.ReturnLoan(ctx, w.M(As(w.Phys1)), partnership.ReturnLoan{ResourceID: w.Lab, LoanID: w.LabLoan, Condition: partnership.ConditionGood}))
	for _, c := range []partnership.RecordTransactionCost{
		{SchoolID: w.Pant, Category: partnership.CostMeetings, On: Day(2025, 9, 30), Hours: 6, Note: "Half-termly cluster meeting"},
		{SchoolID: w.Cwm, Category: partnership.CostTravel, On: Day(2025, 9, 30), Hours: 1, AmountPence: 1800, Note: "Travel to the cluster meeting"},
		{SchoolID: w.Tony, Category: partnership.CostCoordination, On: Day(2025, 10, 10), Hours: 4, Note: "Organising the TeachMeet"},
		{SchoolID: w.Pant, Category: partnership.CostCoordination, On: Day(2025, 11, 10), Hours: 3, Note: "Timetabling the physics secondment"},
	} {
		c.PartnershipID, c.EntryID = w.PID, id()
		w.must(svc.RecordTransactionCost(ctx, w.M(As(w.PantDirector)), c))
	}

	w.Secondment, w.Secondment2 = id(), id()
	w.must(svc.ArrangeSecondment(ctx, w.M(lead), partnership.ArrangeSecondment{SecondmentID: w.Secondment, PartnershipID: w.PID, TeacherID: w.Phys2, LendingSchoolID: w.Pant,
		ReceivingSchoolID: w.Cwm, Subject: "Physics", Start: Day(2026, 1, 5), End: Day(2026, 4, 13), Fraction: 0.6}))
	w.must(svc.ArrangeSecondment(ctx, w.M(lead), partnership.ArrangeSecondment{SecondmentID: w.Secondment2, PartnershipID: w.PID, TeacherID: w.Phys2, LendingSchoolID: w.Pant,
		ReceivingSchoolID: w.Tony, Subject: "Physics", Start: Day(2026, 2, 23), End: Day(2026, 5, 22), Fraction: 0.4}))

	w.Review = id()
	w.must(svc.SchedulePeerReview(ctx, w.M(lead), partnership.SchedulePeerReview{ReviewID: w.Review, PartnershipID: w.PID, ReviewedSchoolID: w.Pant,
		ReviewerIDs: []uuid.UUID{w.CwmHead, w.TonyHead}, FocusAreas: []string{"Transition", "Progress & Attainment"}, On: Day(2025, 11, 19)}))
	on(At(2025, 11, 19, 15))
	finding := id()
	w.must(svc.RecordReviewFinding(ctx, w.M(As(w.CwmHead)), partnership.RecordReviewFinding{ReviewID: w.Review, FindingID: finding, Area: "Transition",
		Rating: partnership.Amber, Finding: "Pastoral transition strong; Year 7 maths repeats Year 6 content.", Recommendations: []string{"Joint Year 6/7 maths scheme"}}))
	w.must(svc.RecordReviewFinding(ctx, w.M(As(w.TonyHead)), partnership.RecordReviewFinding{ReviewID: w.Review, FindingID: id(), Area: "Progress & Attainment",
		Rating: partnership.Green, Finding: "Middle leaders use the traffic-light model well."}))
	w.must(svc.CompletePeerReview(ctx, w.M(As(w.TonyHead)), partnership.CompletePeerReview{ReviewID: w.Review, Summary: "A strong school."}))
	w.Action = id()
	w.must(svc.AgreeFollowUpAction(ctx, w.M(As(w.PantDirector)), partnership.AgreeFollowUpAction{ReviewID: w.Review, ActionID: w.Action, FindingID: finding,
		Action: "Write a joint Year 6/7 maths scheme with the primaries", OwnerID: w.MathsLead, DueOn: Day(2026, 2, 13)}))
	w.must(svc.AgreeFollowUpAction(ctx, w.M(As(w.PantDirector)), partnership.AgreeFollowUpAction{ReviewID: w.Review, ActionID: id(),
		Action: "Share the traffic-light model with the primaries", OwnerID: w.Phys1, DueOn: Day(2026, 1, 9)}))

	rate := func(when time.Time, school uuid.UUID, area, cohort, term string, r partnership.RAG) {
		on(when)
		w.must(svc.RateProgress(ctx, w.M(As(w.MathsLead)), partnership.RateProgress{RatingID: id(), PartnershipID: w.PID, SchoolID: school, Area: area, Cohort: cohort,
			Term: term, Rating: r, Evidence: "Half-termly data drop"}))
	}
	rate(At(2025, 10, 15, 12), w.Pant, "Mathematics", "Year 7", "2025-26 Autumn 1", partnership.Red)
	rate(At(2025, 10, 15, 12), w.Cwm, "Science", "Year 6", "2025-26 Autumn 1", partnership.Green)
	w.PantCommit, w.CwmCommit, w.OpenCommit = id(), id(), id()
	w.must(svc.MakeCommitment(ctx, w.M(lead), partnership.MakeCommitment{CommitmentID: w.PantCommit, PartnershipID: w.PID, PriorityID: transition, PartyKind: partnership.PartySchool,
		PartyID: w.Pant, OwnerID: w.MathsLead, DueOn: Day(2026, 3, 27), SuccessMeasure: "Joint Year 6/7 maths scheme taught in all three schools"}))
	w.must(svc.MakeCommitment(ctx, w.M(lead), partnership.MakeCommitment{CommitmentID: w.CwmCommit, PartnershipID: w.PID, PriorityID: science, PartyKind: partnership.PartyCommunity,
		PartyID: w.CwmScienceISLC, OwnerID: w.CwmHead, DueOn: Day(2026, 7, 17), SuccessMeasure: "Every Year 6 class has a weekly practical lesson"}))
	w.must(svc.MakeCommitment(ctx, w.M(lead), partnership.MakeCommitment{CommitmentID: w.OpenCommit, PartnershipID: w.PID, PriorityID: science, PartyKind: partnership.PartySchool,
		PartyID: w.Tony, OwnerID: w.TonyHead, DueOn: Day(2026, 6, 30), SuccessMeasure: "A science club every term"}))
	rate(At(2025, 12, 3, 12), w.Pant, "Mathematics", "Year 7", "2025-26 Autumn 2", partnership.Amber)
	rate(At(2025, 12, 3, 12), w.Cwm, "Science", "Year 6", "2025-26 Autumn 2", partnership.Amber)
	on(At(2026, 2, 10, 9))
	pct := 80
	w.must(svc.UpdateCommitmentProgress(ctx, w.M(As(w.MathsLead)), partnership.UpdateCommitmentProgress{CommitmentID: w.PantCommit, Note: "Scheme written; taught at Cwm", Percent: &pct}))
	w.must(svc.CompleteFollowUpAction(ctx, w.M(As(w.MathsLead)), partnership.CompleteFollowUpAction{ReviewID: w.Review, ActionID: w.Action, Note: "Scheme agreed"}))
	rate(At(2026, 2, 11, 12), w.Pant, "Mathematics", "Year 7", "2025-26 Spring 1", partnership.Green)
	on(At(2026, 3, 26, 9))
	w.must(svc.MarkCommitmentAchieved(ctx, w.M(As(w.MathsLead)), partnership.CloseCommitment{CommitmentID: w.PantCommit, Evidence: "Scheme in use in all three schools"}))
	on(At(2026, 6, 1, 8))
	w.must(svc.CollectLoan(ctx, w.M(As(w.TonyHead)), partnership.CollectLoan{ResourceID: w.Minibus, LoanID: w.LateLoan}))

	on(At(2026, 7, 17, 9))
	w.must(svc.MarkCommitmentMissed(ctx, w.M(As(w.CwmHead)), partnership.CloseCommitment{CommitmentID: w.CwmCommit, Evidence: "Weekly practicals in two of three classes"}))
	w.must(svc.RecogniseContribution(ctx, w.M(lead), partnership.RecogniseContribution{PartnershipID: w.PID, RecognitionID: id(), RecipientKind: partnership.RecipientPerson,
		RecipientID: w.Phys2, ReferenceKind: partnership.RefSecondment, ReferenceID: w.Secondment, Citation: "Brought specialist physics to Year 6."}))
	w.must(svc.RecogniseContribution(ctx, w.M(lead), partnership.RecogniseContribution{PartnershipID: w.PID, RecognitionID: id(), RecipientKind: partnership.RecipientSchool,
		RecipientID: w.Pant, ReferenceKind: partnership.RefCommitment, ReferenceID: w.PantCommit, Citation: "Led the joint maths scheme."}))
	w.must(svc.RecogniseContribution(ctx, w.M(lead), partnership.RecogniseContribution{PartnershipID: w.PID, RecognitionID: id(), RecipientKind: partnership.RecipientCommunity,
		RecipientID: w.CwmScienceISLC, Citation: "Practical science for every class."}))

	on(At(2026, 7, 18, 9))
	tl, _, err := domain.Load(ctx, w.H, partnership.TimelineStream(w.Timeline), partnership.NewTimeline)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range tl.Items()[:3] {
		w.must(svc.MarkTimelineItemDone(ctx, w.M(lead), partnership.MarkTimelineItemDone{TimelineID: w.Timeline, ItemID: it.ID}))
	}
}
