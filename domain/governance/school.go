package governance

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// DefaultSegmentNames are the six segments a school starts with when it
// names none.
var DefaultSegmentNames = []string{
	"Curriculum & Pedagogy",
	"Progress & Attainment",
	"Research, Innovation & Professional Development",
	"Culture & Climate",
	"Infrastructure",
	"Finance & Enterprise",
}

// Segment is one of a school's overlapping areas, each led by an ISLC.
type Segment struct {
	ID   uuid.UUID `json:"segment_id" doc:"Id of the segment."`
	Name string    `json:"name" doc:"The segment's name, e.g. Culture & Climate."`
}

// SchoolRegistered records a new school with its segments.
type SchoolRegistered struct {
	SchoolID       uuid.UUID `json:"school_id" doc:"Id of the school."`
	Name           string    `json:"name" doc:"The school's name."`
	Mission        string    `json:"mission,omitempty" doc:"The school's mission, against which the Leadership Team checks proposals."`
	Vision         string    `json:"vision,omitempty" doc:"The school's vision."`
	Values         string    `json:"values,omitempty" doc:"The school's values."`
	Segments       []Segment `json:"segments" doc:"The school's segments, in order."`
	YearStartMonth int       `json:"year_start_month" doc:"Month (1-12) the school's academic years start in by default (9: September)."`
	YearStartDay   int       `json:"year_start_day" doc:"Day of the month its academic years start on by default (1)."`
}

// SegmentAdded records a new segment of a school.
type SegmentAdded struct {
	SchoolID  uuid.UUID `json:"school_id" doc:"Id of the school."`
	SegmentID uuid.UUID `json:"segment_id" doc:"Id of the new segment."`
	Name      string    `json:"name" doc:"The segment's name."`
}

// SegmentRenamed records a segment's new name.
type SegmentRenamed struct {
	SchoolID  uuid.UUID `json:"school_id" doc:"Id of the school."`
	SegmentID uuid.UUID `json:"segment_id" doc:"Id of the segment."`
	OldName   string    `json:"old_name" doc:"The name it had."`
	Name      string    `json:"name" doc:"Its new name."`
}

// DirectorAppointed records the school's Director.
type DirectorAppointed struct {
	SchoolID   uuid.UUID `json:"school_id" doc:"Id of the school."`
	DirectorID uuid.UUID `json:"director_id" doc:"Id of the staff member appointed Director."`
	PreviousID uuid.UUID `json:"previous_id" doc:"Id of the Director replaced (all zeros for the first)."`
}

// AcademicYearOpened records an academic year of a school.
type AcademicYearOpened struct {
	SchoolID uuid.UUID `json:"school_id" doc:"Id of the school."`
	Year     string    `json:"year" doc:"The year's label, e.g. 2025-26."`
	StartsOn time.Time `json:"starts_on" doc:"First day of the year."`
	EndsOn   time.Time `json:"ends_on" doc:"Last day of the year."`
}

// TeamQuorumSet records the quorum a school sets for the votes of its
// Leadership Team.
type TeamQuorumSet struct {
	SchoolID uuid.UUID `json:"school_id" doc:"Id of the school."`
	Quorum   Quorum    `json:"quorum" doc:"How many of the Team in office must vote before a round on a proposal is closed."`
	Previous Quorum    `json:"previous" doc:"The rule it replaces (majority when none was set)."`
}

// EventType implements domain.Event.
func (TeamQuorumSet) EventType() string { return "TeamQuorumSet" }

// EventType implements domain.Event.
func (SchoolRegistered) EventType() string { return "SchoolRegistered" }

// EventType implements domain.Event.
func (SegmentAdded) EventType() string { return "SegmentAdded" }

// EventType implements domain.Event.
func (SegmentRenamed) EventType() string { return "SegmentRenamed" }

// EventType implements domain.Event.
func (DirectorAppointed) EventType() string { return "DirectorAppointed" }

// EventType implements domain.Event.
func (AcademicYearOpened) EventType() string { return "AcademicYearOpened" }

func init() {
	domain.MustRegister[SchoolRegistered](domain.Spec{Type: "SchoolRegistered", Schema: 1, Group: Group,
		Doc:       "A school was registered with its mission, vision and values, its segments (by default the six of the collaborative model) and the day its academic years start.",
		EmittedBy: []string{"RegisterSchool"}})
	domain.MustRegister[SegmentAdded](domain.Spec{Type: "SegmentAdded", Schema: 1, Group: Group,
		Doc: "A school added a segment.", EmittedBy: []string{"AddSegment"}})
	domain.MustRegister[SegmentRenamed](domain.Spec{Type: "SegmentRenamed", Schema: 1, Group: Group,
		Doc: "A school renamed a segment; its ISLC keeps its id.", EmittedBy: []string{"RenameSegment"}})
	domain.MustRegister[DirectorAppointed](domain.Spec{Type: "DirectorAppointed", Schema: 1, Group: Group,
		Doc: "A staff member of the school was appointed its Director, who chairs the Leadership Team.", EmittedBy: []string{"AppointDirector"}})
	domain.MustRegister[TeamQuorumSet](domain.Spec{Type: "TeamQuorumSet", Schema: 1, Group: Group,
		Doc: "A school set the quorum of its Leadership Team's votes on proposals (a majority of the Team in office until it does); rounds opened afterwards use it.", EmittedBy: []string{"SetTeamQuorum"}})
	domain.MustRegister[AcademicYearOpened](domain.Spec{Type: "AcademicYearOpened", Schema: 1, Group: Group,
		Doc: "A school opened an academic year, with its first and last day.", EmittedBy: []string{"OpenAcademicYear"}})
}

// AcademicYear is one of a school's years; both days are included.
type AcademicYear struct {
	Label    string
	StartsOn time.Time
	EndsOn   time.Time
}

// Contains reports whether day d falls in the year.
func (y AcademicYear) Contains(d time.Time) bool {
	d = Date(d)
	return !d.Before(y.StartsOn) && !d.After(y.EndsOn)
}

// School is the aggregate of a school: its segments, Director and years.
type School struct {
	ID                      uuid.UUID
	Name                    string
	Mission, Vision, Values string
	Segments                []Segment
	YearStartMonth          int
	YearStartDay            int
	DirectorID              uuid.UUID
	// TeamQuorum is the quorum of the Leadership Team's votes (the zero
	// value: a majority of the Team in office).
	TeamQuorum Quorum
	// RunOffs is how many run-offs settle a tied election before the
	// Director's casting vote, once set (see RunOffLimit).
	RunOffs     int
	tieBreakSet bool
	// Years are the opened academic years, in order of their start.
	Years []AcademicYear
}

// NewSchool returns an empty School aggregate.
func NewSchool() *School { return &School{} }

// Registered reports whether the school has been registered.
func (s *School) Registered() bool { return s.ID != uuid.Nil }

// Segment returns the segment with id.
func (s *School) Segment(id uuid.UUID) (Segment, bool) {
	for _, g := range s.Segments {
		if g.ID == id {
			return g, true
		}
	}
	return Segment{}, false
}

// Year returns the academic year labelled label.
func (s *School) Year(label string) (AcademicYear, bool) {
	for _, y := range s.Years {
		if y.Label == label {
			return y, true
		}
	}
	return AcademicYear{}, false
}

// YearOn returns the academic year that contains day d.
func (s *School) YearOn(d time.Time) (AcademicYear, bool) {
	for _, y := range s.Years {
		if y.Contains(d) {
			return y, true
		}
	}
	return AcademicYear{}, false
}

// DefaultYear returns the dates of the year labelled label under the
// school's default start day: from the start day to the day before the
// next year's start.
func (s *School) DefaultYear(label string) (AcademicYear, bool) {
	first, ok := ParseYear(label)
	if !ok {
		return AcademicYear{}, false
	}
	m, d := s.YearStartMonth, s.YearStartDay
	if m == 0 {
		m, d = 9, 1
	}
	start := time.Date(first, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return AcademicYear{Label: label, StartsOn: start, EndsOn: start.AddDate(1, 0, -1)}, true
}

// Apply implements domain.Aggregate.
func (s *School) Apply(m domain.Message) {
	switch e := m.Event.(type) {
	case SchoolRegistered:
		s.ID, s.Name, s.Mission, s.Vision, s.Values = e.SchoolID, e.Name, e.Mission, e.Vision, e.Values
		s.Segments = slices.Clone(e.Segments)
		s.YearStartMonth, s.YearStartDay = e.YearStartMonth, e.YearStartDay
	case SegmentAdded:
		s.Segments = append(s.Segments, Segment{ID: e.SegmentID, Name: e.Name})
	case SegmentRenamed:
		for i := range s.Segments {
			if s.Segments[i].ID == e.SegmentID {
				s.Segments[i].Name = e.Name
			}
		}
	case DirectorAppointed:
		s.DirectorID = e.DirectorID
	case TeamQuorumSet:
		s.TeamQuorum = e.Quorum
	case TieBreakSet:
		s.RunOffs, s.tieBreakSet = e.RunOffs, true
	case DirectorLeft:
		if s.DirectorID == e.DirectorID {
			s.DirectorID = uuid.Nil
		}
	case AcademicYearOpened:
		s.Years = append(s.Years, AcademicYear{Label: e.Year, StartsOn: Date(e.StartsOn), EndsOn: Date(e.EndsOn)})
		slices.SortFunc(s.Years, func(a, b AcademicYear) int { return a.StartsOn.Compare(b.StartsOn) })
	}
}
