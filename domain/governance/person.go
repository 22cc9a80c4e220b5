package governance

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Kinds of person the governance ledger knows.
const (
	// PersonStaff is an educator or administrator of the school.
	PersonStaff = "staff"
	// PersonGovernor is a member of the Trust or Governing Body.
	PersonGovernor = "governor"
	// PersonAdvisoryContact is an adult contact of a student or parent
	// advisory group (a parent, or a staff liaison of a student council);
	// never a pupil.
	PersonAdvisoryContact = "advisory_contact"
	// PersonAuditor is an outside auditor or inspector: registered with no
	// school, and given rights only by an appointment to a partnership.
	PersonAuditor = "auditor"
)

// Kinds of staff.
const (
	StaffEducator      = "educator"
	StaffAdministrator = "administrator"
)

// ScoreMax is the top of the strengths scale: each domain of the
// Strengths-based Leadership Framework is scored from 0 to ScoreMax.
const ScoreMax = 100

// Strengths are the scores (0 to 100) of one assessment against the four
// domains of the Strengths-based Leadership Framework.
type Strengths struct {
	RelationshipBuilding int `json:"relationship_building" doc:"Relationship building, 0 to 100."`
	Executing            int `json:"executing" doc:"Executing, 0 to 100."`
	StrategicThinking    int `json:"strategic_thinking" doc:"Strategic thinking, 0 to 100."`
	Influencing          int `json:"influencing" doc:"Influencing, 0 to 100."`
}

func (s Strengths) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"relationship_building", s.RelationshipBuilding}, {"executing", s.Executing}, {"strategic_thinking", s.StrategicThinking}, {"influencing", s.Influencing}} {
		if f.v < 0 || f.v > ScoreMax {
			return domain.RejectField(domain.ErrInvalidValue, "scores."+f.name, "a score of %d is off the scale; scores run from 0 to %d", f.v, ScoreMax)
		}
	}
	return nil
}

// StaffRegistered records a staff member of a school.
type StaffRegistered struct {
	PersonID uuid.UUID           `json:"person_id" concord:"subject" doc:"Id of the person."`
	SchoolID uuid.UUID           `json:"school_id" doc:"Id of their school."`
	Kind     string              `json:"kind" doc:"educator or administrator."`
	Subjects []string            `json:"subjects,omitempty" doc:"Subjects they teach (used for secondments between schools)."`
	Personal domain.PersonalData `json:"personal" doc:"Their name and contact details."`
}

// GovernorRegistered records a governor of a school.
type GovernorRegistered struct {
	PersonID uuid.UUID           `json:"person_id" concord:"subject" doc:"Id of the person."`
	SchoolID uuid.UUID           `json:"school_id" doc:"Id of the school they govern."`
	Personal domain.PersonalData `json:"personal" doc:"Their name and contact details."`
}

// AdvisoryContactRegistered records an adult contact of a student or
// parent advisory group.
type AdvisoryContactRegistered struct {
	PersonID uuid.UUID           `json:"person_id" concord:"subject" doc:"Id of the person (an adult: a parent or a staff liaison, never a pupil)."`
	SchoolID uuid.UUID           `json:"school_id" doc:"Id of the school."`
	Personal domain.PersonalData `json:"personal" doc:"Their name and contact details."`
}

// AuditorRegistered records an outside auditor or inspector. They belong
// to no school; an appointment to a partnership (partnership's
// AuditorAppointed) is what lets them read its records.
type AuditorRegistered struct {
	PersonID     uuid.UUID           `json:"person_id" concord:"subject" doc:"Id of the person."`
	Organisation string              `json:"organisation,omitempty" doc:"The body they audit or inspect for, e.g. a diocesan board."`
	Personal     domain.PersonalData `json:"personal" doc:"Their name and contact details."`
}

// PersonDetailsAmended records a person's new details.
type PersonDetailsAmended struct {
	PersonID uuid.UUID           `json:"person_id" concord:"subject" doc:"Id of the person."`
	SchoolID uuid.UUID           `json:"school_id" doc:"Id of their school."`
	Personal domain.PersonalData `json:"personal" doc:"Their full details as amended (replacing the earlier ones)."`
	Subjects *[]string           `json:"subjects,omitempty" doc:"The subjects a staff member teaches, when amended; absent when unchanged."`
}

// PersonLeftSchool records that a person left the school.
type PersonLeftSchool struct {
	PersonID uuid.UUID `json:"person_id" doc:"Id of the person."`
	SchoolID uuid.UUID `json:"school_id" doc:"Id of the school."`
	LeftOn   time.Time `json:"left_on" doc:"Their last day."`
}

// StrengthsAssessed records a staff member's annual strengths assessment.
type StrengthsAssessed struct {
	PersonID   uuid.UUID   `json:"person_id" doc:"Id of the staff member."`
	SchoolID   uuid.UUID   `json:"school_id" doc:"Id of their school."`
	Year       string      `json:"year" doc:"Academic year of the assessment."`
	Scores     Strengths   `json:"scores" doc:"Scores in the four domains of the Strengths-based Leadership Framework, 0 to 100."`
	Interests  []uuid.UUID `json:"interests,omitempty" doc:"Ids of the segments they are interested in."`
	Themes     []string    `json:"themes,omitempty" doc:"Strength-Finder themes, e.g. Achiever."`
	AssessedOn time.Time   `json:"assessed_on" doc:"Day of the assessment."`
}

// DesignCommunityJoined records that a staff member joined a design
// community for a year.
type DesignCommunityJoined struct {
	PersonID uuid.UUID `json:"person_id" doc:"Id of the staff member."`
	SchoolID uuid.UUID `json:"school_id" doc:"Id of their school."`
	Year     string    `json:"year" doc:"Academic year."`
	Name     string    `json:"name" doc:"Name of the design community, e.g. Year 7 humanities projects."`
}

// LearningPathwayJoined records that a staff member joined a professional
// learning pathway for a year.
type LearningPathwayJoined struct {
	PersonID uuid.UUID `json:"person_id" doc:"Id of the staff member."`
	SchoolID uuid.UUID `json:"school_id" doc:"Id of their school."`
	Year     string    `json:"year" doc:"Academic year."`
	Name     string    `json:"name" doc:"Name of the pathway, e.g. Early career teachers."`
}

// EventType implements domain.Event.
func (StaffRegistered) EventType() string { return "StaffRegistered" }

// EventType implements domain.Event.
func (GovernorRegistered) EventType() string { return "GovernorRegistered" }

// EventType implements domain.Event.
func (AdvisoryContactRegistered) EventType() string { return "AdvisoryContactRegistered" }

// EventType implements domain.Event.
func (AuditorRegistered) EventType() string { return "AuditorRegistered" }

// EventType implements domain.Event.
func (PersonDetailsAmended) EventType() string { return "PersonDetailsAmended" }

// EventType implements domain.Event.
func (PersonLeftSchool) EventType() string { return "PersonLeftSchool" }

// EventType implements domain.Event.
func (StrengthsAssessed) EventType() string { return "StrengthsAssessed" }

// EventType implements domain.Event.
func (DesignCommunityJoined) EventType() string { return "DesignCommunityJoined" }

// EventType implements domain.Event.
func (LearningPathwayJoined) EventType() string { return "LearningPathwayJoined" }

func init() {
	domain.MustRegister[StaffRegistered](domain.Spec{Type: "StaffRegistered", Schema: 1, Group: Group,
		Doc: "An educator or administrator was registered as staff of a school.", EmittedBy: []string{"RegisterStaff"}})
	domain.MustRegister[GovernorRegistered](domain.Spec{Type: "GovernorRegistered", Schema: 1, Group: Group,
		Doc: "A governor of a school was registered.", EmittedBy: []string{"RegisterGovernor"}})
	domain.MustRegister[AdvisoryContactRegistered](domain.Spec{Type: "AdvisoryContactRegistered", Schema: 1, Group: Group,
		Doc: "An adult contact of a student or parent advisory group was registered.", EmittedBy: []string{"RegisterAdvisoryContact"}})
	domain.MustRegister[AuditorRegistered](domain.Spec{Type: "AuditorRegistered", Schema: 1, Group: Group,
		Doc: "An outside auditor or inspector was registered; they belong to no school and read only what an appointment to a partnership opens to them.", EmittedBy: []string{"RegisterAuditor"}})
	domain.MustRegister[PersonDetailsAmended](domain.Spec{Type: "PersonDetailsAmended", Schema: 1, Group: Group,
		Doc: "A person's name, contact details or subjects were amended.", EmittedBy: []string{"AmendPersonDetails"}})
	domain.MustRegister[PersonLeftSchool](domain.Spec{Type: "PersonLeftSchool", Schema: 1, Group: Group,
		Doc: "A person left the school; their history stays.", EmittedBy: []string{"LeaveSchool"}})
	domain.MustRegister[StrengthsAssessed](domain.Spec{Type: "StrengthsAssessed", Schema: 1, Group: Group,
		Doc:       "A staff member's annual assessment against the Strengths-based Leadership Framework, with their areas of interest and Strength-Finder themes. The latest of a year counts.",
		EmittedBy: []string{"RecordStrengthsAssessment"}})
	domain.MustRegister[DesignCommunityJoined](domain.Spec{Type: "DesignCommunityJoined", Schema: 1, Group: Group,
		Doc: "A staff member joined a design community for a year.", EmittedBy: []string{"JoinDesignCommunity"}})
	domain.MustRegister[LearningPathwayJoined](domain.Spec{Type: "LearningPathwayJoined", Schema: 1, Group: Group,
		Doc: "A staff member joined a professional learning pathway for a year.", EmittedBy: []string{"JoinLearningPathway"}})
}

// Assessment is a staff member's latest strengths assessment of a year.
type Assessment struct {
	Year       string
	Scores     Strengths
	Interests  []uuid.UUID
	Themes     []string
	AssessedOn time.Time
}

// Person is the aggregate of one person known to a school.
type Person struct {
	ID       uuid.UUID
	Kind     string // PersonStaff, PersonGovernor or PersonAdvisoryContact
	SchoolID uuid.UUID
	// StaffKind is educator or administrator, for staff.
	StaffKind string
	Subjects  []string
	// Personal is the latest name and contact details (Erased once the
	// person's key is destroyed).
	Personal domain.PersonalData
	// LeftOn is the day they left the school (zero while they are there).
	LeftOn time.Time
	// Assessments holds the latest strengths assessment per academic year.
	Assessments map[string]Assessment
	// DesignCommunities and Pathways list the names joined per year.
	DesignCommunities map[string][]string
	Pathways          map[string][]string
}

// NewPerson returns an empty Person aggregate.
func NewPerson() *Person {
	return &Person{Assessments: map[string]Assessment{}, DesignCommunities: map[string][]string{}, Pathways: map[string][]string{}}
}

// Registered reports whether the person has been registered.
func (p *Person) Registered() bool { return p.ID != uuid.Nil }

// Left reports whether the person has left the school.
func (p *Person) Left() bool { return !p.LeftOn.IsZero() }

// IsStaffOf reports whether p is staff of school and has not left.
func (p *Person) IsStaffOf(school uuid.UUID) bool {
	return p.Kind == PersonStaff && p.SchoolID == school && !p.Left()
}

// PersonalDataVerbatim implements domain.PersonalDataVerbatim: Apply keeps
// the events' personal data as it comes and derives nothing from it, so
// the handler may cache a Person with that data sealed. Keep it so.
func (*Person) PersonalDataVerbatim() {}

// Apply implements domain.Aggregate.
func (p *Person) Apply(m domain.Message) {
	if p.Assessments == nil || p.DesignCommunities == nil || p.Pathways == nil {
		// A zero Person works too.
		fresh := NewPerson()
		p.Assessments, p.DesignCommunities, p.Pathways = fresh.Assessments, fresh.DesignCommunities, fresh.Pathways
	}
	switch e := m.Event.(type) {
	case StaffRegistered:
		p.ID, p.Kind, p.SchoolID, p.StaffKind, p.Personal = e.PersonID, PersonStaff, e.SchoolID, e.Kind, e.Personal
		p.Subjects = slices.Clone(e.Subjects)
	case GovernorRegistered:
		p.ID, p.Kind, p.SchoolID, p.Personal = e.PersonID, PersonGovernor, e.SchoolID, e.Personal
	case AdvisoryContactRegistered:
		p.ID, p.Kind, p.SchoolID, p.Personal = e.PersonID, PersonAdvisoryContact, e.SchoolID, e.Personal
	case AuditorRegistered:
		p.ID, p.Kind, p.Personal = e.PersonID, PersonAuditor, e.Personal
	case PersonDetailsAmended:
		p.Personal = e.Personal
		if e.Subjects != nil {
			p.Subjects = slices.Clone(*e.Subjects)
		}
	case PersonLeftSchool:
		p.LeftOn = Date(e.LeftOn)
	case StrengthsAssessed:
		p.Assessments[e.Year] = Assessment{Year: e.Year, Scores: e.Scores, Interests: slices.Clone(e.Interests), Themes: slices.Clone(e.Themes), AssessedOn: Date(e.AssessedOn)}
	case DesignCommunityJoined:
		p.DesignCommunities[e.Year] = append(p.DesignCommunities[e.Year], e.Name)
	case LearningPathwayJoined:
		p.Pathways[e.Year] = append(p.Pathways[e.Year], e.Name)
	}
}
