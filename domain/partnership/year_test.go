package partnership_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

// TestPartnershipYear follows three schools through the 2025-26 academic
// year: Y Pant Comprehensive (a secondary with three physics teachers) and
// two primaries of its cluster, Cwm and Tonyrefail, which have none. Every
// step goes through the Service; the end state is checked through
// domain.Load and the query helpers the projections and the partnership
// report use.
func TestPartnershipYear(t *testing.T) {
	f := domaintest.New(t)
	dir := &partnership.MemoryDirectory{}
	svc := partnership.NewService(f.Handler, dir)
	ctx := f.Ctx
	id := domaintest.ID

	pid := id()
	pant, cwm, tony := id(), id(), id()
	// Staff: at Y Pant a Director, three physics teachers, a maths lead;
	// one leader at each primary.
	pantDirector, phys1, phys2, phys3, mathsLead := id(), id(), id(), id(), id()
	cwmHead, tonyHead := id(), id()
	for p, s := range map[uuid.UUID]uuid.UUID{pantDirector: pant, phys1: pant, phys2: pant, phys3: pant, mathsLead: pant, cwmHead: cwm, tonyHead: tony} {
		dir.AddStaff(p, s)
	}
	cwmScienceISLC := id()
	dir.AddCommunity(cwmScienceISLC, cwm)
	lead := domain.Meta{ActorID: pantDirector.String(), ActorRole: domain.RolePartnershipLead}

	must := func(res domain.Result, err error) domain.Result {
		t.Helper()
		if err != nil {
			t.Fatalf("%v", err)
		}
		return res
	}
	refused := func(err error, rule error) *domain.Rejection {
		t.Helper()
		if !errors.Is(err, rule) {
			t.Fatalf("err=%v, want %v", err, rule)
		}
		_, rej, _ := domain.RuleOf(err)
		return rej
	}
	on := func(d time.Time) { f.Clock.Set(d) }

	// 1 September: the cluster forms, the schools join, a lead is appointed,
	// priorities are agreed and the year's programme is laid out.
	on(at(2025, 9, 1, 8))
	must(svc.FormPartnership(ctx, lead, partnership.FormPartnership{PartnershipID: pid, Name: "Rhondda Learning Cluster", Kind: partnership.KindCluster}))
	for _, s := range []uuid.UUID{pant, cwm, tony} {
		must(svc.JoinPartnership(ctx, lead, partnership.JoinPartnership{PartnershipID: pid, SchoolID: s}))
	}
	must(svc.AppointPartnershipLead(ctx, lead, partnership.AppointPartnershipLead{PartnershipID: pid, LeadID: pantDirector}))
	transition, science := id(), id()
	must(svc.AgreePriority(ctx, lead, partnership.AgreePriority{PartnershipID: pid, PriorityID: transition, Title: "Academic transition from Year 6 to Year 7", AcademicYear: "2025-26"}))
	must(svc.AgreePriority(ctx, lead, partnership.AgreePriority{PartnershipID: pid, PriorityID: science, Title: "Specialist science teaching in the primaries", AcademicYear: "2025-26"}))
	timeline := id()
	must(svc.CreateTimeline(ctx, lead, partnership.CreateTimeline{TimelineID: timeline, PartnershipID: pid, AcademicYear: "2025-26", Title: "Cluster school-improvement programme 2025-26"}))

	// September: Y Pant shares its minibus and lab.
	minibus, lab := id(), id()
	must(svc.RegisterResource(ctx, as(pantDirector), partnership.RegisterResource{ResourceID: minibus, PartnershipID: pid, OwnerSchoolID: pant,
		Kind: partnership.Minibus, Name: "Minibus (17 seats)", Capacity: 17, HourlyValuePence: 2500, Offer: true}))
	must(svc.RegisterResource(ctx, as(pantDirector), partnership.RegisterResource{ResourceID: lab, PartnershipID: pid, OwnerSchoolID: pant,
		Kind: partnership.ScienceLab, Name: "Physics lab", Capacity: 30, HourlyValuePence: 4000, Offer: true}))
	on(at(2025, 9, 15, 9))
	tripLoan, clashLoan, labLoan := id(), id(), id()
	must(svc.RequestLoan(ctx, as(cwmHead), partnership.RequestLoan{ResourceID: minibus, LoanID: tripLoan, BorrowerSchoolID: cwm,
		Start: at(2025, 10, 6, 8), End: at(2025, 10, 6, 16), Purpose: "Year 6 trip to the Big Pit"}))
	must(svc.RequestLoan(ctx, as(tonyHead), partnership.RequestLoan{ResourceID: minibus, LoanID: clashLoan, BorrowerSchoolID: tony,
		Start: at(2025, 10, 6, 13), End: at(2025, 10, 6, 18), Purpose: "Football tournament"}))
	must(svc.RequestLoan(ctx, as(tonyHead), partnership.RequestLoan{ResourceID: lab, LoanID: labLoan, BorrowerSchoolID: tony,
		Start: at(2025, 11, 12, 9), End: at(2025, 11, 12, 12), Purpose: "Year 6 electricity practical"}))
	_, err := svc.ApproveLoan(ctx, as(cwmHead), partnership.ApproveLoan{ResourceID: minibus, LoanID: tripLoan})
	refused(err, partnership.ErrNotOwningSchool)
	must(svc.ApproveLoan(ctx, as(pantDirector), partnership.ApproveLoan{ResourceID: minibus, LoanID: tripLoan}))
	_, err = svc.ApproveLoan(ctx, as(pantDirector), partnership.ApproveLoan{ResourceID: minibus, LoanID: clashLoan})
	detailHas(t, refused(err, partnership.ErrLoanOverlaps), tripLoan.String())
	must(svc.DeclineLoan(ctx, domain.Meta{ActorID: pantDirector.String(), ActorRole: domain.RoleDirector, Reason: "Booked by Cwm that day"},
		partnership.DeclineLoan{ResourceID: minibus, LoanID: clashLoan}))
	must(svc.ApproveLoan(ctx, as(pantDirector), partnership.ApproveLoan{ResourceID: lab, LoanID: labLoan}))

	// The trip: collected, then returned a day late and damaged.
	on(at(2025, 10, 6, 8))
	must(svc.CollectLoan(ctx, as(cwmHead), partnership.CollectLoan{ResourceID: minibus, LoanID: tripLoan}))
	on(at(2025, 10, 7, 9))
	if got := partnership.OverdueLoans(f.Clock.Now(), loadResource(t, f, minibus)); len(got) != 1 || got[0].Loan.ID != tripLoan {
		t.Fatalf("overdue on the morning after = %+v", got)
	}
	_, err = svc.ReturnLoan(ctx, as(cwmHead), partnership.ReturnLoan{ResourceID: minibus, LoanID: tripLoan, Condition: partnership.ConditionDamaged})
	refused(err, partnership.ErrDamageNoteRequired)
	must(svc.ReturnLoan(ctx, as(cwmHead), partnership.ReturnLoan{ResourceID: minibus, LoanID: tripLoan, Condition: partnership.ConditionDamaged, Note: "Rear step bent"}))

	// October: Tonyrefail hosts a TeachMeet with a bulk discount.
	on(at(2025, 9, 22, 9))
	teachMeet := id()
	must(svc.OrganiseCPD(ctx, as(tonyHead), partnership.OrganiseCPD{CPDID: teachMeet, PartnershipID: pid, OrganiserSchoolID: tony, Kind: partnership.TeachMeet,
		Title: "Retrieval practice TeachMeet", StartsAt: at(2025, 10, 15, 16), EndsAt: at(2025, 10, 15, 18), Places: 12, CostPerPlacePence: 2000, BulkMinPlaces: 10, BulkPercentOff: 25}))
	pantBooking, cwmBooking, tonyBooking := id(), id(), id()
	must(svc.BookCPDPlaces(ctx, as(mathsLead), partnership.BookCPDPlaces{CPDID: teachMeet, BookingID: pantBooking, SchoolID: pant, Places: 6}))
	must(svc.BookCPDPlaces(ctx, as(cwmHead), partnership.BookCPDPlaces{CPDID: teachMeet, BookingID: cwmBooking, SchoolID: cwm, Places: 3}))
	must(svc.BookCPDPlaces(ctx, as(tonyHead), partnership.BookCPDPlaces{CPDID: teachMeet, BookingID: tonyBooking, SchoolID: tony, Places: 2}))
	_, err = svc.BookCPDPlaces(ctx, as(cwmHead), partnership.BookCPDPlaces{CPDID: teachMeet, BookingID: id(), SchoolID: cwm, Places: 2})
	refused(err, partnership.ErrNoPlacesLeft)
	on(at(2025, 10, 15, 19))
	for b, n := range map[uuid.UUID]int{pantBooking: 6, cwmBooking: 2, tonyBooking: 2} {
		must(svc.RecordCPDAttendance(ctx, as(tonyHead), partnership.RecordCPDAttendance{CPDID: teachMeet, BookingID: b, Attended: n}))
	}

	// Autumn: the lab loan happens; costs of running the cluster are logged.
	on(at(2025, 11, 12, 9))
	must(svc.CollectLoan(ctx, as(tonyHead), partnership.CollectLoan{ResourceID: lab, LoanID: labLoan}))
	on(at(2025, 11, 12, 12))
	must(svc.ReturnLoan(ctx, as(phys1), partnership.ReturnLoan{ResourceID: lab, LoanID: labLoan, Condition: partnership.ConditionGood}))
	for _, c := range []partnership.RecordTransactionCost{
		{SchoolID: pant, Category: partnership.CostMeetings, On: day(2025, 9, 30), Hours: 6, Note: "Half-termly cluster meeting (three leaders)"},
		{SchoolID: cwm, Category: partnership.CostTravel, On: day(2025, 9, 30), Hours: 1, AmountPence: 1800, Note: "Travel to the cluster meeting"},
		{SchoolID: tony, Category: partnership.CostCoordination, On: day(2025, 10, 10), Hours: 4, Note: "Organising the TeachMeet"},
		{SchoolID: pant, Category: partnership.CostCoordination, On: day(2025, 11, 10), Hours: 3, Note: "Timetabling the physics secondment"},
	} {
		c.PartnershipID, c.EntryID = pid, id()
		must(svc.RecordTransactionCost(ctx, as(pantDirector), c))
	}

	// A physics teacher is seconded to Cwm for the spring; a second
	// secondment that would take her past full time is refused.
	secondment, secondment2 := id(), id()
	must(svc.ArrangeSecondment(ctx, lead, partnership.ArrangeSecondment{SecondmentID: secondment, PartnershipID: pid, TeacherID: phys2, LendingSchoolID: pant,
		ReceivingSchoolID: cwm, Subject: "Physics", Start: day(2026, 1, 5), End: day(2026, 4, 13), Fraction: 0.6}))
	_, err = svc.ArrangeSecondment(ctx, lead, partnership.ArrangeSecondment{SecondmentID: id(), PartnershipID: pid, TeacherID: phys2, LendingSchoolID: pant,
		ReceivingSchoolID: tony, Subject: "Physics", Start: day(2026, 2, 23), End: day(2026, 5, 22), Fraction: 0.6})
	detailHas(t, refused(err, partnership.ErrSecondmentOverCommitted), secondment.String())
	must(svc.ArrangeSecondment(ctx, lead, partnership.ArrangeSecondment{SecondmentID: secondment2, PartnershipID: pid, TeacherID: phys2, LendingSchoolID: pant,
		ReceivingSchoolID: tony, Subject: "Physics", Start: day(2026, 2, 23), End: day(2026, 5, 22), Fraction: 0.4}))
	_, err = svc.ArrangeSecondment(ctx, lead, partnership.ArrangeSecondment{SecondmentID: id(), PartnershipID: pid, TeacherID: cwmHead, LendingSchoolID: pant,
		ReceivingSchoolID: tony, Subject: "Physics", Start: day(2026, 2, 23), End: day(2026, 5, 22), Fraction: 0.2})
	refused(err, partnership.ErrNotStaffOfLendingSchool)

	// November: peer review of Y Pant by the primaries' leaders.
	review := id()
	_, err = svc.SchedulePeerReview(ctx, lead, partnership.SchedulePeerReview{ReviewID: review, PartnershipID: pid, ReviewedSchoolID: pant,
		ReviewerIDs: []uuid.UUID{cwmHead, phys3}, FocusAreas: []string{"Transition"}, On: day(2025, 11, 19)})
	refused(err, partnership.ErrReviewerFromReviewedSchool)
	must(svc.SchedulePeerReview(ctx, lead, partnership.SchedulePeerReview{ReviewID: review, PartnershipID: pid, ReviewedSchoolID: pant,
		ReviewerIDs: []uuid.UUID{cwmHead, tonyHead}, FocusAreas: []string{"Transition", "Progress & Attainment"}, On: day(2025, 11, 19)}))
	on(at(2025, 11, 19, 15))
	findingTransition := id()
	must(svc.RecordReviewFinding(ctx, as(cwmHead), partnership.RecordReviewFinding{ReviewID: review, FindingID: findingTransition, Area: "Transition",
		Rating: partnership.Amber, Finding: "Pastoral transition strong; Year 7 maths repeats Year 6 content.", Recommendations: []string{"Joint Year 6/7 maths scheme"}}))
	must(svc.RecordReviewFinding(ctx, as(tonyHead), partnership.RecordReviewFinding{ReviewID: review, FindingID: id(), Area: "Progress & Attainment",
		Rating: partnership.Green, Finding: "Middle leaders use the traffic-light model well."}))
	must(svc.CompletePeerReview(ctx, as(tonyHead), partnership.CompletePeerReview{ReviewID: review, Summary: "A strong school; make the academic transition as good as the pastoral."}))
	action := id()
	must(svc.AgreeFollowUpAction(ctx, as(pantDirector), partnership.AgreeFollowUpAction{ReviewID: review, ActionID: action, FindingID: findingTransition,
		Action: "Write a joint Year 6/7 maths scheme with the primaries", OwnerID: mathsLead, DueOn: day(2026, 2, 13)}))

	// Traffic lights through the year; commitments made and closed.
	rate := func(when time.Time, school uuid.UUID, area, cohort, term string, r partnership.RAG) {
		t.Helper()
		on(when)
		must(svc.RateProgress(ctx, as(mathsLead), partnership.RateProgress{RatingID: id(), PartnershipID: pid, SchoolID: school, Area: area, Cohort: cohort,
			Term: term, Rating: r, Evidence: "Half-termly data drop and work scrutiny"}))
	}
	rate(at(2025, 10, 15, 12), pant, "Mathematics", "Year 7", "2025-26 Autumn 1", partnership.Red)
	rate(at(2025, 10, 15, 12), cwm, "Science", "Year 6", "2025-26 Autumn 1", partnership.Red)
	pantCommit, cwmCommit := id(), id()
	must(svc.MakeCommitment(ctx, lead, partnership.MakeCommitment{CommitmentID: pantCommit, PartnershipID: pid, PriorityID: transition, PartyKind: partnership.PartySchool,
		PartyID: pant, OwnerID: mathsLead, DueOn: day(2026, 3, 27), SuccessMeasure: "Joint Year 6/7 maths scheme taught in all three schools"}))
	must(svc.MakeCommitment(ctx, lead, partnership.MakeCommitment{CommitmentID: cwmCommit, PartnershipID: pid, PriorityID: science, PartyKind: partnership.PartyCommunity,
		PartyID: cwmScienceISLC, OwnerID: cwmHead, DueOn: day(2026, 7, 17), SuccessMeasure: "Every Year 6 class has a weekly practical lesson"}))
	rate(at(2025, 12, 3, 12), pant, "Mathematics", "Year 7", "2025-26 Autumn 2", partnership.Amber)
	rate(at(2025, 12, 3, 12), cwm, "Science", "Year 6", "2025-26 Autumn 2", partnership.Amber)
	on(at(2026, 2, 10, 9))
	pct := 80
	must(svc.UpdateCommitmentProgress(ctx, as(mathsLead), partnership.UpdateCommitmentProgress{CommitmentID: pantCommit, Note: "Scheme written; taught at Cwm", Percent: &pct}))
	must(svc.CompleteFollowUpAction(ctx, as(mathsLead), partnership.CompleteFollowUpAction{ReviewID: review, ActionID: action, Note: "Scheme agreed with both primaries"}))
	rate(at(2026, 2, 11, 12), pant, "Mathematics", "Year 7", "2025-26 Spring 1", partnership.Green)
	rate(at(2026, 2, 11, 12), cwm, "Science", "Year 6", "2025-26 Spring 1", partnership.Green)
	on(at(2026, 3, 26, 9))
	must(svc.MarkCommitmentAchieved(ctx, as(mathsLead), partnership.CloseCommitment{CommitmentID: pantCommit, Evidence: "Scheme in use in all three schools; Year 7 maths green"}))
	on(at(2026, 7, 17, 9))
	must(svc.MarkCommitmentMissed(ctx, as(cwmHead), partnership.CloseCommitment{CommitmentID: cwmCommit, Evidence: "Weekly practicals in two of three classes; the lab was unavailable in June"}))
	_, err = svc.UpdateCommitmentProgress(ctx, as(cwmHead), partnership.UpdateCommitmentProgress{CommitmentID: cwmCommit, Note: "late news"})
	refused(err, partnership.ErrCommitmentClosed)

	// Celebrating: the seconded teacher, and the primary's science ISLC.
	must(svc.RecogniseContribution(ctx, lead, partnership.RecogniseContribution{PartnershipID: pid, RecognitionID: id(), RecipientKind: partnership.RecipientPerson,
		RecipientID: phys2, ReferenceKind: partnership.RefSecondment, ReferenceID: secondment, Citation: "Brought specialist physics to Year 6 at Cwm and Tonyrefail."}))
	must(svc.RecogniseContribution(ctx, lead, partnership.RecogniseContribution{PartnershipID: pid, RecognitionID: id(), RecipientKind: partnership.RecipientSchool,
		RecipientID: pant, ReferenceKind: partnership.RefCommitment, ReferenceID: pantCommit, Citation: "Led the joint Year 6/7 maths scheme."}))

	// The timeline: the first items done, a visit moved.
	tl := loadTimeline(t, f, timeline)
	items := tl.Items()
	on(at(2025, 9, 20, 9))
	for _, it := range items[:3] {
		must(svc.MarkTimelineItemDone(ctx, lead, partnership.MarkTimelineItemDone{TimelineID: timeline, ItemID: it.ID}))
	}
	var visit partnership.TimelineItem
	for _, it := range items {
		if it.Kind == partnership.ItemVisit {
			visit = it
			break
		}
	}
	must(svc.RescheduleTimelineItem(ctx, domain.Meta{ActorID: pantDirector.String(), ActorRole: domain.RolePartnershipLead, Reason: "Clashes with the trip"},
		partnership.RescheduleTimelineItem{TimelineID: timeline, ItemID: visit.ID, On: visit.On.AddDate(0, 0, 7)}))

	// The state at the end of the year.
	p := loadPartnership(t, f, pid)
	if got := p.MemberSchools(); !reflect.DeepEqual(got, []uuid.UUID{pant, cwm, tony}) || p.LeadSchoolID != pant || len(p.Priorities) != 2 || len(p.Recognitions) != 2 {
		t.Fatalf("partnership=%+v", p)
	}
	bus := loadResource(t, f, minibus)
	if l, _ := bus.Loan(tripLoan); l.Status != partnership.LoanReturnedStatus || l.Condition != partnership.ConditionDamaged || l.ConditionNote != "Rear step bent" {
		t.Fatalf("trip loan=%+v", l)
	}
	if l, _ := bus.Loan(clashLoan); l.Status != partnership.LoanDeclinedStatus {
		t.Fatalf("clashing loan=%+v", l)
	}
	labR := loadResource(t, f, lab)
	year := [2]time.Time{day(2025, 9, 1), day(2026, 9, 1)}
	if h, v := bus.UtilisationHours(year[0], year[1]), labR.UtilisationHours(year[0], year[1]); h != 8 || v != 3 {
		t.Fatalf("utilisation: minibus %v h, lab %v h; want 8 and 3", h, v)
	}
	if benefit := bus.BenefitPence(year[0], year[1]) + labR.BenefitPence(year[0], year[1]); benefit != 8*2500+3*4000 {
		t.Fatalf("benefit=%d", benefit)
	}
	if got := partnership.OverdueLoans(at(2026, 7, 20, 9), bus, labR); len(got) != 0 {
		t.Fatalf("overdue at year end=%+v", got)
	}

	secs := partnership.AllSecondments(loadSecondments(t, f, phys2))
	if fte := partnership.FTEByReceivingSchool(secs, day(2026, 3, 2)); !near(fte[cwm], 0.6) || !near(fte[tony], 0.4) {
		t.Fatalf("FTE on 2 March=%v", fte)
	}
	if fte := partnership.FTEByLendingSchool(secs, day(2026, 3, 2)); !near(fte[pant], 1) {
		t.Fatalf("lent on 2 March=%v", fte)
	}
	if act := partnership.ActiveSecondments(secs, day(2026, 5, 1)); len(act) != 1 || act[0].ID != secondment2 {
		t.Fatalf("active on 1 May=%+v", act)
	}

	tm := loadCPD(t, f, teachMeet)
	costs := tm.Costs()
	if booked, attended := tm.Attendance(); booked != 11 || attended != 10 || !costs.DiscountApplies || costs.SavingsPence != 11*2000/4 || costs.BySchool[pant].PaidPence != 9000 {
		t.Fatalf("TeachMeet: attended %d of %d, costs %+v", attended, booked, costs)
	}

	rv := loadReview(t, f, review)
	if !rv.Completed || rv.RAGCounts()[partnership.Amber] != 1 || len(rv.OpenActions()) != 0 || !reflect.DeepEqual(rv.ReviewerSchoolIDs, []uuid.UUID{cwm, tony}) {
		t.Fatalf("review=%+v", rv)
	}

	trend := loadProgress(t, f, pid, pant).Trend("Mathematics", "Year 7")
	var moves []partnership.RAG
	for _, pt := range trend {
		moves = append(moves, pt.Rating.Rating)
	}
	if !reflect.DeepEqual(moves, []partnership.RAG{partnership.Red, partnership.Amber, partnership.Green}) || trend[2].Movement != partnership.MovementImproved {
		t.Fatalf("Year 7 maths trend=%v", moves)
	}
	latest := partnership.LatestRatings(append(loadProgress(t, f, pid, pant).Ratings, loadProgress(t, f, pid, cwm).Ratings...))
	if len(latest) != 2 || latest[0].Rating != partnership.Green || latest[1].Rating != partnership.Green {
		t.Fatalf("latest=%+v", latest)
	}

	by := partnership.CommitmentsByStatus(loadCommitment(t, f, pantCommit), loadCommitment(t, f, cwmCommit))
	if len(by[partnership.CommitmentAchievedStatus]) != 1 || len(by[partnership.CommitmentMissedStatus]) != 1 || len(by[partnership.CommitmentOpenStatus]) != 0 {
		t.Fatalf("commitments by status=%v", by)
	}
	if c := by[partnership.CommitmentMissedStatus][0]; c.SchoolID != cwm || c.PartyID != cwmScienceISLC {
		t.Fatalf("missed commitment=%+v", c)
	}

	ledger, _, err := domain.Load(ctx, f.Handler, partnership.CostsStream(pid), partnership.NewCostLedger)
	if err != nil {
		t.Fatal(err)
	}
	if tot := ledger.Totals(year[0], year[1]); tot.Hours != 14 || tot.AmountPence != 1800 || tot.BySchool[pant].Hours != 9 {
		t.Fatalf("costs=%+v", tot)
	}

	tl = loadTimeline(t, f, timeline)
	next := tl.NextItems(at(2025, 9, 20, 9), 3)
	if len(next) != 3 || next[0].ID != items[3].ID {
		t.Fatalf("what comes next on 20 September = %+v, want the fourth item first", next)
	}
	if it, _ := tl.Item(visit.ID); !it.On.Equal(visit.On.AddDate(0, 0, 7)) {
		t.Fatalf("visit on %s", it.On)
	}
	if n := tl.NextItems(at(2026, 7, 13, 9), 0); len(n) != 0 {
		t.Fatalf("items left after the annual report: %+v", n)
	}

	// Every event says which partnership it belongs to.
	for _, m := range f.Messages() {
		v := reflect.ValueOf(m.Event).FieldByName("PartnershipID")
		if !v.IsValid() || v.Interface().(uuid.UUID) != pid {
			t.Errorf("%s in %s does not carry the partnership id", m.Event.EventType(), m.Stream)
		}
	}
}

func load[A domain.Aggregate](t *testing.T, f *domaintest.Fixture, stream string, newAgg func() A) A {
	t.Helper()
	a, _, err := domain.Load(f.Ctx, f.Handler, stream, newAgg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func loadPartnership(t *testing.T, f *domaintest.Fixture, id uuid.UUID) *partnership.Partnership {
	return load(t, f, partnership.PartnershipStream(id), partnership.NewPartnership)
}

func loadResource(t *testing.T, f *domaintest.Fixture, id uuid.UUID) *partnership.Resource {
	return load(t, f, partnership.ResourceStream(id), partnership.NewResource)
}

func loadSecondments(t *testing.T, f *domaintest.Fixture, teacher uuid.UUID) *partnership.Secondments {
	return load(t, f, partnership.SecondmentsStream(teacher), partnership.NewSecondments)
}

func loadCPD(t *testing.T, f *domaintest.Fixture, id uuid.UUID) *partnership.CPDEvent {
	return load(t, f, partnership.CPDStream(id), partnership.NewCPDEvent)
}

func loadReview(t *testing.T, f *domaintest.Fixture, id uuid.UUID) *partnership.Review {
	return load(t, f, partnership.ReviewStream(id), partnership.NewReview)
}

func loadProgress(t *testing.T, f *domaintest.Fixture, pid, school uuid.UUID) *partnership.Progress {
	return load(t, f, partnership.ProgressStream(pid, school), partnership.NewProgress)
}

func loadCommitment(t *testing.T, f *domaintest.Fixture, id uuid.UUID) *partnership.Commitment {
	return load(t, f, partnership.CommitmentStream(id), partnership.NewCommitment)
}

func loadTimeline(t *testing.T, f *domaintest.Fixture, id uuid.UUID) *partnership.Timeline {
	return load(t, f, partnership.TimelineStream(id), partnership.NewTimeline)
}
