package governance

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

func TestRegisterSchool(t *testing.T) {
	e := newEnv(t)
	res, err := e.svc.RegisterSchool(e.Ctx, e.meta, RegisterSchool{SchoolID: e.school, Name: " Infinity School ", Mission: "m", Vision: "v", Values: "w"})
	var segs []Segment
	for _, n := range DefaultSegmentNames {
		segs = append(segs, Segment{ID: DefaultSegmentID(e.school, n), Name: n})
	}
	e.ThenEvents(res, err, SchoolRegistered{SchoolID: e.school, Name: "Infinity School", Mission: "m", Vision: "v", Values: "w",
		Segments: segs, YearStartMonth: 9, YearStartDay: 1})
	if sc := e.schoolAgg(); len(sc.Segments) != 6 || sc.Segments[3].Name != "Culture & Climate" {
		t.Fatalf("segments = %+v", sc.Segments)
	}

	_, err = e.svc.RegisterSchool(e.Ctx, e.meta, RegisterSchool{SchoolID: e.school, Name: "Again"})
	e.ThenError(err, domain.ErrAlreadyExists)

	for name, cmd := range map[string]RegisterSchool{
		"no id":          {Name: "X"},
		"no name":        {SchoolID: domaintest.ID()},
		"blank segment":  {SchoolID: domaintest.ID(), Name: "X", Segments: []Segment{{Name: " "}}},
		"bad start date": {SchoolID: domaintest.ID(), Name: "X", YearStartMonth: 2, YearStartDay: 30},
	} {
		_, err := e.svc.RegisterSchool(e.Ctx, e.meta, cmd)
		if _, _, ok := domain.RuleOf(err); !ok {
			t.Errorf("%s: err = %v, want a rule", name, err)
		}
		e.ThenError(err, err) // whatever the rule, the log is unchanged
	}
	_, err = e.svc.RegisterSchool(e.Ctx, e.meta, RegisterSchool{SchoolID: domaintest.ID(), Name: "X", Segments: []Segment{{Name: "Arts"}, {Name: "arts"}}})
	e.ThenError(err, domain.ErrInvalidValue)
}

func TestRegisterSchoolCustomCalendarAndSegments(t *testing.T) {
	e := newEnv(t)
	seg := domaintest.ID()
	res, err := e.svc.RegisterSchool(e.Ctx, e.meta, RegisterSchool{SchoolID: e.school, Name: "Southern", Segments: []Segment{{ID: seg, Name: "Arts"}, {Name: "Sport"}},
		YearStartMonth: 1, YearStartDay: 28})
	e.ThenEvents(res, err, SchoolRegistered{SchoolID: e.school, Name: "Southern", Segments: []Segment{{ID: seg, Name: "Arts"}, {ID: DefaultSegmentID(e.school, "Sport"), Name: "Sport"}},
		YearStartMonth: 1, YearStartDay: 28})
	res, err = e.svc.OpenAcademicYear(e.Ctx, e.meta, OpenAcademicYear{SchoolID: e.school, Year: "2026-27"})
	e.ThenEvents(res, err, AcademicYearOpened{SchoolID: e.school, Year: "2026-27",
		StartsOn: time.Date(2026, 1, 28, 0, 0, 0, 0, time.UTC), EndsOn: time.Date(2027, 1, 27, 0, 0, 0, 0, time.UTC)})
}

func TestSegments(t *testing.T) {
	e := newEnv(t).givenSchool()
	arts := domaintest.ID()
	res, err := e.svc.AddSegment(e.Ctx, e.meta, AddSegment{SchoolID: e.school, SegmentID: arts, Name: "Arts & Wellbeing"})
	e.ThenEvents(res, err, SegmentAdded{SchoolID: e.school, SegmentID: arts, Name: "Arts & Wellbeing"})
	// Retrying the same command records nothing.
	res, err = e.svc.AddSegment(e.Ctx, e.meta, AddSegment{SchoolID: e.school, SegmentID: arts, Name: "Arts & Wellbeing"})
	e.ThenEvents(res, err)

	_, err = e.svc.AddSegment(e.Ctx, e.meta, AddSegment{SchoolID: e.school, SegmentID: domaintest.ID(), Name: "infrastructure"})
	e.ThenError(err, domain.ErrAlreadyExists)
	_, err = e.svc.AddSegment(e.Ctx, e.meta, AddSegment{SchoolID: e.school, SegmentID: arts, Name: "Other"})
	e.ThenError(err, domain.ErrAlreadyExists)
	_, err = e.svc.AddSegment(e.Ctx, e.meta, AddSegment{SchoolID: domaintest.ID(), SegmentID: domaintest.ID(), Name: "Other"})
	e.ThenError(err, domain.ErrNotFound)
	_, err = e.svc.AddSegment(e.Ctx, e.meta, AddSegment{SchoolID: e.school, SegmentID: domaintest.ID()})
	e.ThenError(err, domain.ErrRequired)

	infra := e.segs[4]
	res, err = e.svc.RenameSegment(e.Ctx, e.meta, RenameSegment{SchoolID: e.school, SegmentID: infra.ID, Name: "Buildings & Digital"})
	e.ThenEvents(res, err, SegmentRenamed{SchoolID: e.school, SegmentID: infra.ID, OldName: "Infrastructure", Name: "Buildings & Digital"})
	_, err = e.svc.RenameSegment(e.Ctx, e.meta, RenameSegment{SchoolID: e.school, SegmentID: domaintest.ID(), Name: "X"})
	e.ThenError(err, ErrUnknownSegment)
	_, err = e.svc.RenameSegment(e.Ctx, e.meta, RenameSegment{SchoolID: e.school, SegmentID: infra.ID, Name: "Culture & Climate"})
	e.ThenError(err, domain.ErrAlreadyExists)
	if g, _ := e.schoolAgg().Segment(infra.ID); g.Name != "Buildings & Digital" {
		t.Fatalf("renamed segment = %+v", g)
	}
}

func TestAppointDirector(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(2)
	gov := domaintest.ID()
	e.Given(PersonStream(gov), GovernorRegistered{PersonID: gov, SchoolID: e.school, Personal: domain.PersonalData{Name: "G"}})
	other := domaintest.ID()
	e.Given(PersonStream(other), StaffRegistered{PersonID: other, SchoolID: domaintest.ID(), Kind: StaffEducator})
	e.Given(PersonStream(staff[1]), PersonLeftSchool{PersonID: staff[1], SchoolID: e.school, LeftOn: yearStart})

	res, err := e.svc.AppointDirector(e.Ctx, e.meta, AppointDirector{SchoolID: e.school, DirectorID: staff[0]})
	e.ThenEvents(res, err, DirectorAppointed{SchoolID: e.school, DirectorID: staff[0]})
	res, err = e.svc.AppointDirector(e.Ctx, e.meta, AppointDirector{SchoolID: e.school, DirectorID: staff[0]})
	e.ThenEvents(res, err)

	for _, c := range []struct {
		id   uuid.UUID
		rule error
	}{{gov, ErrNotStaff}, {other, ErrNotStaff}, {staff[1], ErrPersonLeft}, {domaintest.ID(), domain.ErrNotFound}, {uuid.Nil, domain.ErrRequired}} {
		_, err := e.svc.AppointDirector(e.Ctx, e.meta, AppointDirector{SchoolID: e.school, DirectorID: c.id})
		e.ThenError(err, c.rule)
	}
	if got := e.schoolAgg().DirectorID; got != staff[0] {
		t.Fatalf("director = %s, want %s", got, staff[0])
	}
}

func TestOpenAcademicYear(t *testing.T) {
	e := newEnv(t).givenSchool()
	res, err := e.svc.OpenAcademicYear(e.Ctx, e.meta, OpenAcademicYear{SchoolID: e.school, Year: "2026-27"})
	e.ThenEvents(res, err, AcademicYearOpened{SchoolID: e.school, Year: "2026-27", StartsOn: yearStart.AddDate(1, 0, 0), EndsOn: yearEnd.AddDate(1, 0, 0)})
	res, err = e.svc.OpenAcademicYear(e.Ctx, e.meta, OpenAcademicYear{SchoolID: e.school, Year: "2026-27"})
	e.ThenEvents(res, err) // the same year again: nothing new

	custom := OpenAcademicYear{SchoolID: e.school, Year: "2027-28", StartsOn: time.Date(2027, 9, 6, 0, 0, 0, 0, time.UTC), EndsOn: time.Date(2028, 7, 21, 15, 0, 0, 0, time.UTC)}
	res, err = e.svc.OpenAcademicYear(e.Ctx, e.meta, custom)
	e.ThenEvents(res, err, AcademicYearOpened{SchoolID: e.school, Year: "2027-28", StartsOn: time.Date(2027, 9, 6, 0, 0, 0, 0, time.UTC), EndsOn: time.Date(2028, 7, 21, 0, 0, 0, 0, time.UTC)})

	cases := []struct {
		name string
		cmd  OpenAcademicYear
		rule error
	}{
		{"bad label", OpenAcademicYear{SchoolID: e.school, Year: "2025/26"}, domain.ErrInvalidValue},
		{"label not consecutive", OpenAcademicYear{SchoolID: e.school, Year: "2025-27"}, domain.ErrInvalidValue},
		{"no label", OpenAcademicYear{SchoolID: e.school}, domain.ErrRequired},
		{"same label other dates", OpenAcademicYear{SchoolID: e.school, Year: year, StartsOn: time.Date(2025, 9, 3, 0, 0, 0, 0, time.UTC)}, domain.ErrAlreadyExists},
		{"overlap", OpenAcademicYear{SchoolID: e.school, Year: "2028-29", StartsOn: time.Date(2028, 7, 1, 0, 0, 0, 0, time.UTC)}, ErrYearsOverlap},
		{"ends before start", OpenAcademicYear{SchoolID: e.school, Year: "2030-31", EndsOn: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, domain.ErrInvalidValue},
		{"unknown school", OpenAcademicYear{SchoolID: domaintest.ID(), Year: "2030-31"}, domain.ErrNotFound},
	}
	for _, c := range cases {
		_, err := e.svc.OpenAcademicYear(e.Ctx, e.meta, c.cmd)
		e.ThenError(err, c.rule)
	}
	sc := e.schoolAgg()
	if y, ok := sc.YearOn(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)); !ok || y.Label != year {
		t.Fatalf("year on 2026-03-01 = %+v %v", y, ok)
	}
	if len(sc.Years) != 4 || sc.Years[0].Label != prevYear || sc.Years[3].Label != "2027-28" {
		t.Fatalf("years = %+v", sc.Years)
	}
}

func TestYearLabels(t *testing.T) {
	for _, c := range []struct {
		label string
		first int
		ok    bool
		prev  string
	}{{"2025-26", 2025, true, "2024-25"}, {"1999-00", 1999, true, "1998-99"}, {"2025-25", 0, false, ""}, {"25-26", 0, false, ""}} {
		first, ok := ParseYear(c.label)
		if first != c.first || ok != c.ok || PreviousYear(c.label) != c.prev {
			t.Errorf("%s: %d %v %q", c.label, first, ok, PreviousYear(c.label))
		}
	}
}

func TestParseStream(t *testing.T) {
	id := domaintest.ID()
	for _, s := range []string{SchoolStream(id), PersonStream(id), CommunityStream(id), ProposalStream(id), TriadStream(id)} {
		if _, got, ok := ParseStream(s); !ok || got != id {
			t.Errorf("ParseStream(%s) = %s %v", s, got, ok)
		}
	}
	for _, s := range []string{"loan-" + id.String(), "school-x", "school"} {
		if _, _, ok := ParseStream(s); ok {
			t.Errorf("ParseStream(%s) ok", s)
		}
	}
	if CommunityID(id, id) == CommunityID(id, domaintest.ID()) {
		t.Fatal("community ids of different segments are equal")
	}
}
