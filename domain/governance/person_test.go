package governance

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

func TestRegisterPeopleSealsPersonalData(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff, gov, contact := domaintest.ID(), domaintest.ID(), domaintest.ID()
	res, err := e.svc.RegisterStaff(e.Ctx, e.meta, RegisterStaff{PersonID: staff, SchoolID: e.school, Kind: StaffEducator, Subjects: []string{"Physics", " ", "Physics", "Maths"},
		PersonDetails: PersonDetails{Name: "Amara Osei", Email: "amara@example.org"}})
	e.ThenEvents(res, err, StaffRegistered{PersonID: staff, SchoolID: e.school, Kind: StaffEducator, Subjects: []string{"Physics", "Maths"},
		Personal: domain.PersonalData{Name: "Amara Osei", Email: "amara@example.org"}})
	res, err = e.svc.RegisterGovernor(e.Ctx, e.meta, RegisterGovernor{PersonID: gov, SchoolID: e.school, PersonDetails: PersonDetails{Name: "Gwen Hale"}})
	e.ThenEvents(res, err, GovernorRegistered{PersonID: gov, SchoolID: e.school, Personal: domain.PersonalData{Name: "Gwen Hale"}})
	res, err = e.svc.RegisterAdvisoryContact(e.Ctx, e.meta, RegisterAdvisoryContact{PersonID: contact, SchoolID: e.school, PersonDetails: PersonDetails{Name: "Pat Parent", Phone: "0100"}})
	e.ThenEvents(res, err, AdvisoryContactRegistered{PersonID: contact, SchoolID: e.school, Personal: domain.PersonalData{Name: "Pat Parent", Phone: "0100"}})

	for _, r := range e.Log.All() {
		if strings.Contains(string(r.Data), "Amara") || strings.Contains(string(r.Data), "example.org") || strings.Contains(string(r.Data), "Gwen") {
			t.Fatalf("plaintext personal data in %s: %s", r.Type, r.Data)
		}
	}
	p := e.person(staff)
	if p.Personal.Name != "Amara Osei" || p.Kind != PersonStaff || p.StaffKind != StaffEducator || !p.IsStaffOf(e.school) {
		t.Fatalf("person = %+v", p)
	}
	e.Keys.Erase(staff.String())
	if p := e.person(staff); !p.Personal.Erased || p.Personal.Name != domain.ErasedName {
		t.Fatalf("after erasure = %+v", p.Personal)
	}

	cases := []struct {
		name string
		run  func() error
		rule error
	}{
		{"again", func() error {
			_, err := e.svc.RegisterGovernor(e.Ctx, e.meta, RegisterGovernor{PersonID: gov, SchoolID: e.school, PersonDetails: PersonDetails{Name: "G"}})
			return err
		}, domain.ErrAlreadyExists},
		{"bad kind", func() error {
			_, err := e.svc.RegisterStaff(e.Ctx, e.meta, RegisterStaff{PersonID: domaintest.ID(), SchoolID: e.school, Kind: "head", PersonDetails: PersonDetails{Name: "H"}})
			return err
		}, domain.ErrInvalidValue},
		{"no name", func() error {
			_, err := e.svc.RegisterStaff(e.Ctx, e.meta, RegisterStaff{PersonID: domaintest.ID(), SchoolID: e.school, Kind: StaffAdministrator})
			return err
		}, domain.ErrRequired},
		{"unknown school", func() error {
			_, err := e.svc.RegisterAdvisoryContact(e.Ctx, e.meta, RegisterAdvisoryContact{PersonID: domaintest.ID(), SchoolID: domaintest.ID(), PersonDetails: PersonDetails{Name: "X"}})
			return err
		}, domain.ErrNotFound},
	}
	for _, c := range cases {
		e.ThenError(c.run(), c.rule)
	}
}

func TestAmendPersonDetails(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(1)[0]
	gov := domaintest.ID()
	e.Given(PersonStream(gov), GovernorRegistered{PersonID: gov, SchoolID: e.school, Personal: domain.PersonalData{Name: "G"}})

	res, err := e.svc.AmendPersonDetails(e.Ctx, e.meta, AmendPersonDetails{PersonID: staff, PersonDetails: PersonDetails{Name: "Amara Osei-Brown", Email: "ao@example.org"},
		Subjects: &[]string{"Chemistry"}})
	e.ThenEvents(res, err, PersonDetailsAmended{PersonID: staff, SchoolID: e.school, Personal: domain.PersonalData{Name: "Amara Osei-Brown", Email: "ao@example.org"},
		Subjects: &[]string{"Chemistry"}})
	if strings.Contains(string(e.Log.All()[len(e.Log.All())-1].Data), "Osei") {
		t.Fatal("amended details stored in plaintext")
	}
	if p := e.person(staff); p.Personal.Name != "Amara Osei-Brown" || len(p.Subjects) != 1 || p.Subjects[0] != "Chemistry" {
		t.Fatalf("person = %+v", p)
	}
	_, err = e.svc.AmendPersonDetails(e.Ctx, e.meta, AmendPersonDetails{PersonID: gov, PersonDetails: PersonDetails{Name: "G"}, Subjects: &[]string{"Art"}})
	e.ThenError(err, domain.ErrInvalidValue)
	_, err = e.svc.AmendPersonDetails(e.Ctx, e.meta, AmendPersonDetails{PersonID: domaintest.ID(), PersonDetails: PersonDetails{Name: "G"}})
	e.ThenError(err, domain.ErrNotFound)
	_, err = e.svc.AmendPersonDetails(e.Ctx, e.meta, AmendPersonDetails{PersonID: staff})
	e.ThenError(err, domain.ErrRequired)
}

func TestLeaveSchool(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(1)[0]
	day := time.Date(2025, 12, 19, 0, 0, 0, 0, time.UTC)
	// A leaving is recorded once it has happened: not a week ahead.
	_, err := e.svc.LeaveSchool(e.Ctx, e.meta, LeaveSchool{PersonID: staff, LeftOn: day})
	e.ThenError(err, domain.ErrFutureDate)
	e.Clock.Set(day.AddDate(0, 0, -1)) // the day before: within a day
	res, err := e.svc.LeaveSchool(e.Ctx, e.meta, LeaveSchool{PersonID: staff, LeftOn: day.Add(15 * time.Hour)})
	e.ThenEvents(res, err, PersonLeftSchool{PersonID: staff, SchoolID: e.school, LeftOn: day})
	e.Clock.Set(day.AddDate(0, 0, 5))
	res, err = e.svc.LeaveSchool(e.Ctx, e.meta, LeaveSchool{PersonID: staff, LeftOn: day})
	e.ThenEvents(res, err)
	_, err = e.svc.LeaveSchool(e.Ctx, e.meta, LeaveSchool{PersonID: staff, LeftOn: day.AddDate(0, 0, 1)})
	e.ThenError(err, ErrPersonLeft)
	if p := e.person(staff); !p.Left() || p.IsStaffOf(e.school) {
		t.Fatalf("person = %+v", p)
	}
	// Without a date: meta's effective day, else today.
	other := e.givenStaff(1)[0]
	m := e.meta
	m.EffectiveAt = day
	res, err = e.svc.LeaveSchool(e.Ctx, m, LeaveSchool{PersonID: other})
	e.ThenEvents(res, err, PersonLeftSchool{PersonID: other, SchoolID: e.school, LeftOn: day})
}

func TestRecordStrengthsAssessment(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(2)
	gov := domaintest.ID()
	e.Given(PersonStream(gov), GovernorRegistered{PersonID: gov, SchoolID: e.school, Personal: domain.PersonalData{Name: "G"}})
	e.Given(PersonStream(staff[1]), PersonLeftSchool{PersonID: staff[1], SchoolID: e.school, LeftOn: yearStart})
	scores := Strengths{RelationshipBuilding: 80, Executing: 55, StrategicThinking: 70, Influencing: 0}

	res, err := e.svc.RecordStrengthsAssessment(e.Ctx, e.meta, RecordStrengthsAssessment{PersonID: staff[0], Year: year, Scores: scores,
		Interests: []uuid.UUID{e.segs[3].ID, e.segs[3].ID, e.segs[0].ID}, Themes: []string{"Achiever", "Learner"}})
	e.ThenEvents(res, err, StrengthsAssessed{PersonID: staff[0], SchoolID: e.school, Year: year, Scores: scores,
		Interests: []uuid.UUID{e.segs[3].ID, e.segs[0].ID}, Themes: []string{"Achiever", "Learner"}, AssessedOn: yearStart})
	if a := e.person(staff[0]).Assessments[year]; a.Scores != scores || len(a.Interests) != 2 {
		t.Fatalf("assessment = %+v", a)
	}

	cases := []struct {
		name string
		cmd  RecordStrengthsAssessment
		rule error
	}{
		{"score above scale", RecordStrengthsAssessment{PersonID: staff[0], Year: year, Scores: Strengths{Executing: 101}}, domain.ErrInvalidValue},
		{"negative score", RecordStrengthsAssessment{PersonID: staff[0], Year: year, Scores: Strengths{Influencing: -1}}, domain.ErrInvalidValue},
		{"unknown segment", RecordStrengthsAssessment{PersonID: staff[0], Year: year, Interests: []uuid.UUID{domaintest.ID()}}, ErrUnknownSegment},
		{"year not open", RecordStrengthsAssessment{PersonID: staff[0], Year: "2030-31"}, ErrYearNotOpen},
		{"governor", RecordStrengthsAssessment{PersonID: gov, Year: year}, ErrNotStaff},
		{"left", RecordStrengthsAssessment{PersonID: staff[1], Year: year}, ErrPersonLeft},
		{"unknown", RecordStrengthsAssessment{PersonID: domaintest.ID(), Year: year}, domain.ErrNotFound},
		{"outside the year", RecordStrengthsAssessment{PersonID: staff[0], Year: prevYear}, ErrOutsideYear},
		{"a day to come", RecordStrengthsAssessment{PersonID: staff[0], Year: year, AssessedOn: yearStart.AddDate(0, 1, 0)}, domain.ErrFutureDate},
	}
	for _, c := range cases {
		_, err := e.svc.RecordStrengthsAssessment(e.Ctx, e.meta, c.cmd)
		e.ThenError(err, c.rule)
	}
	// Entered later: the assessment's day is the effective date sent.
	e.Clock.Set(yearStart.AddDate(0, 3, 0))
	m := e.meta
	m.EffectiveAt = yearStart.AddDate(0, 0, 20).Add(14 * time.Hour)
	res, err = e.svc.RecordStrengthsAssessment(e.Ctx, m, RecordStrengthsAssessment{PersonID: staff[0], Year: year, Scores: scores})
	e.ThenEvents(res, err, StrengthsAssessed{PersonID: staff[0], SchoolID: e.school, Year: year, Scores: scores, AssessedOn: yearStart.AddDate(0, 0, 20)})
}

func TestLearningStructures(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(4)
	res, err := e.svc.JoinDesignCommunity(e.Ctx, e.meta, JoinDesignCommunity{PersonID: staff[0], Year: year, Name: "Year 7 projects"})
	e.ThenEvents(res, err, DesignCommunityJoined{PersonID: staff[0], SchoolID: e.school, Year: year, Name: "Year 7 projects"})
	res, err = e.svc.JoinDesignCommunity(e.Ctx, e.meta, JoinDesignCommunity{PersonID: staff[0], Year: year, Name: "Year 7 projects"})
	e.ThenEvents(res, err)
	res, err = e.svc.JoinLearningPathway(e.Ctx, e.meta, JoinLearningPathway{PersonID: staff[0], Year: year, Name: "Coaching"})
	e.ThenEvents(res, err, LearningPathwayJoined{PersonID: staff[0], SchoolID: e.school, Year: year, Name: "Coaching"})
	_, err = e.svc.JoinLearningPathway(e.Ctx, e.meta, JoinLearningPathway{PersonID: staff[0], Year: "2031-32", Name: "Coaching"})
	e.ThenError(err, ErrYearNotOpen)
	_, err = e.svc.JoinLearningPathway(e.Ctx, e.meta, JoinLearningPathway{PersonID: staff[0], Year: year})
	e.ThenError(err, domain.ErrRequired)
	if p := e.person(staff[0]); p.DesignCommunities[year][0] != "Year 7 projects" || p.Pathways[year][0] != "Coaching" {
		t.Fatalf("person = %+v", p)
	}

	triad := domaintest.ID()
	res, err = e.svc.FormTriad(e.Ctx, e.meta, FormTriad{TriadID: triad, SchoolID: e.school, Year: year, Members: staff[:3]})
	e.ThenEvents(res, err, TriadFormed{TriadID: triad, SchoolID: e.school, Year: year, Members: staff[:3]})

	elsewhere := domaintest.ID()
	e.Given(PersonStream(elsewhere), StaffRegistered{PersonID: elsewhere, SchoolID: domaintest.ID(), Kind: StaffEducator})
	cases := []struct {
		name    string
		id      uuid.UUID
		members []uuid.UUID
		rule    error
	}{
		{"two", domaintest.ID(), staff[:2], ErrTriadSize},
		{"four", domaintest.ID(), staff, ErrTriadSize},
		{"repeated", domaintest.ID(), []uuid.UUID{staff[0], staff[1], staff[0]}, ErrTriadSize},
		{"other school", domaintest.ID(), []uuid.UUID{staff[0], staff[1], elsewhere}, ErrTriadMixedSchools},
		{"unknown person", domaintest.ID(), []uuid.UUID{staff[0], staff[1], domaintest.ID()}, domain.ErrNotFound},
		{"exists", triad, staff[1:], domain.ErrAlreadyExists},
	}
	for _, c := range cases {
		_, err := e.svc.FormTriad(e.Ctx, e.meta, FormTriad{TriadID: c.id, SchoolID: e.school, Year: year, Members: c.members})
		e.ThenError(err, c.rule)
	}
}

func TestRegisterAuditor(t *testing.T) {
	e := newEnv(t)
	id := domaintest.ID()
	// When an auditor is registered, then AuditorRegistered with no school;
	// registering the same id again is refused.
	res, err := e.svc.RegisterAuditor(e.Ctx, e.meta, RegisterAuditor{PersonID: id, Organisation: " Diocesan board ", PersonDetails: PersonDetails{Name: "Ines Auditor"}})
	e.ThenEvents(res, err, AuditorRegistered{PersonID: id, Organisation: "Diocesan board", Personal: domain.PersonalData{Name: "Ines Auditor"}})
	_, err = e.svc.RegisterAuditor(e.Ctx, e.meta, RegisterAuditor{PersonID: id, PersonDetails: PersonDetails{Name: "Again"}})
	e.ThenError(err, domain.ErrAlreadyExists)
	_, err = e.svc.RegisterAuditor(e.Ctx, e.meta, RegisterAuditor{PersonID: domaintest.ID()})
	e.ThenError(err, domain.ErrRequired)
	p, _, lerr := domain.Load(e.Ctx, e.Handler, PersonStream(id), NewPerson)
	if lerr != nil || p.Kind != PersonAuditor || p.SchoolID != uuid.Nil {
		t.Fatalf("auditor = %+v, %v", p, lerr)
	}
}
