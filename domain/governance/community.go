package governance

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Bases of joining an ISLC.
const (
	BasisInterest  = "interest"
	BasisStrengths = "strengths"
)

// Exceptions that let a member leave an ISLC before their year ends.
const (
	ExceptionLeftSchool       = "left_school"
	ExceptionLongTermAbsence  = "long_term_absence"
	ExceptionDirectorApproved = "director_approved"
)

// Kinds of advisory group.
const (
	AdvisoryStudents           = "students"
	AdvisoryParents            = "parents"
	AdvisoryStudentsAndParents = "students_and_parents"
)

// CommunityEstablished records the ISLC of a school segment.
type CommunityEstablished struct {
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC (derived from school and segment)."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	SegmentID   uuid.UUID `json:"segment_id" doc:"Id of the segment it leads."`
	Name        string    `json:"name" doc:"Its name: the segment's name when established."`
}

// MemberJoined records that a staff member joined an ISLC for an academic
// year. Schema 2 records the basis as a list; schema 1 had one string
// ("interest", "strengths" or "both").
type MemberJoined struct {
	CommunityID   uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school."`
	PersonID      uuid.UUID `json:"person_id" doc:"Id of the staff member."`
	Year          string    `json:"year" doc:"Academic year of the membership."`
	Basis         []string  `json:"basis" doc:"What the place is based on: interest, strengths, or both (schema 1 held one string: interest, strengths or both)."`
	EffectiveFrom time.Time `json:"effective_from" doc:"Day the membership starts (may be earlier than when it was recorded)."`
	TermEndsOn    time.Time `json:"term_ends_on" doc:"Last day of the minimum term: the end of the academic year."`
}

// MemberLeft records that a member left an ISLC; the membership stays in
// the history.
type MemberLeft struct {
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	PersonID    uuid.UUID `json:"person_id" doc:"Id of the member."`
	Year        string    `json:"year" doc:"Academic year of the membership."`
	LeftOn      time.Time `json:"left_on" doc:"Their last day in the ISLC."`
	Exception   string    `json:"exception,omitempty" doc:"Why they left before the year ended: left_school, long_term_absence or director_approved; empty when the term was served."`
	ApprovedBy  uuid.UUID `json:"approved_by" doc:"The Director who approved an early leaving (all zeros otherwise)."`
}

// RosterConfirmed records an ISLC's roster for a year.
type RosterConfirmed struct {
	CommunityID  uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	SchoolID     uuid.UUID   `json:"school_id" doc:"Id of the school."`
	Year         string      `json:"year" doc:"Academic year."`
	Members      []uuid.UUID `json:"members" doc:"The members for the year."`
	PreviousYear string      `json:"previous_year" doc:"The year before."`
	Continuing   []uuid.UUID `json:"continuing" doc:"Members who were also members in the previous year (institutional memory)."`
}

// GovernorLinked records the governor who oversees an ISLC.
type GovernorLinked struct {
	CommunityID uuid.UUID `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	GovernorID  uuid.UUID `json:"governor_id" doc:"Id of the governor (oversight, read-only)."`
	PreviousID  uuid.UUID `json:"previous_id" doc:"Id of the governor replaced (all zeros for the first)."`
}

// AdvisoryGroupLinked records a student or parent advisory group of an
// ISLC.
type AdvisoryGroupLinked struct {
	CommunityID uuid.UUID   `json:"community_id" doc:"Id of the ISLC."`
	SchoolID    uuid.UUID   `json:"school_id" doc:"Id of the school."`
	GroupID     uuid.UUID   `json:"group_id" doc:"Id of the advisory group."`
	Name        string      `json:"name" doc:"The group's name, e.g. Year 9 student council or Parent forum (never a pupil's name)."`
	Kind        string      `json:"kind" doc:"students, parents or students_and_parents."`
	Contacts    []uuid.UUID `json:"contacts" doc:"Ids of its adult contacts, registered as advisory contacts."`
}

// EventType implements domain.Event.
func (CommunityEstablished) EventType() string { return "CommunityEstablished" }

// EventType implements domain.Event.
func (MemberJoined) EventType() string { return "MemberJoined" }

// EventType implements domain.Event.
func (MemberLeft) EventType() string { return "MemberLeft" }

// EventType implements domain.Event.
func (RosterConfirmed) EventType() string { return "RosterConfirmed" }

// EventType implements domain.Event.
func (GovernorLinked) EventType() string { return "GovernorLinked" }

// EventType implements domain.Event.
func (AdvisoryGroupLinked) EventType() string { return "AdvisoryGroupLinked" }

// upcastMemberJoined1 turns schema 1 of MemberJoined (basis a single
// string) into schema 2 (basis a list).
func upcastMemberJoined1(data []byte) ([]byte, error) {
	var v map[string]json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("member joined v1: %w", err)
	}
	var basis string
	if raw, ok := v["basis"]; ok {
		if err := json.Unmarshal(raw, &basis); err != nil {
			return nil, fmt.Errorf("member joined v1 basis: %w", err)
		}
	}
	var list []string
	switch basis {
	case "":
		list = []string{}
	case "both":
		list = []string{BasisInterest, BasisStrengths}
	default:
		list = []string{basis}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	v["basis"] = b
	return json.Marshal(v)
}

func init() {
	domain.MustRegister[CommunityEstablished](domain.Spec{Type: "CommunityEstablished", Schema: 1, Group: Group,
		Doc: "The ISLC (leadership community) of a school segment was established; there is one per segment.", EmittedBy: []string{"EstablishCommunity"}})
	domain.MustRegister[MemberJoined](domain.Spec{Type: "MemberJoined", Schema: 2, Group: Group,
		Doc:       "A staff member joined an ISLC for an academic year, on the basis of interest, strengths or both, from a day that may precede the recording; the minimum term runs to the end of the year.",
		EmittedBy: []string{"JoinCommunity"},
		Upcasters: map[uint32]domain.Upcaster{1: upcastMemberJoined1}})
	domain.MustRegister[MemberLeft](domain.Spec{Type: "MemberLeft", Schema: 1, Group: Group,
		Doc: "A member left an ISLC, with the exception that allowed an early leaving; the membership stays in the history. Leaving the school ends every membership not over by then, with the exception left_school.", EmittedBy: []string{"LeaveCommunity", "LeaveSchool"}})
	domain.MustRegister[RosterConfirmed](domain.Spec{Type: "RosterConfirmed", Schema: 1, Group: Group,
		Doc: "An ISLC's roster for a year was confirmed, with the members continuing from the previous year.", EmittedBy: []string{"ConfirmRoster"}})
	domain.MustRegister[GovernorLinked](domain.Spec{Type: "GovernorLinked", Schema: 1, Group: Group,
		Doc: "A governor was linked to an ISLC for oversight.", EmittedBy: []string{"LinkGovernor"}})
	domain.MustRegister[AdvisoryGroupLinked](domain.Spec{Type: "AdvisoryGroupLinked", Schema: 1, Group: Group,
		Doc: "A student or parent advisory group, with its adult contacts, was linked to an ISLC.", EmittedBy: []string{"LinkAdvisoryGroup"}})
}

// Membership is one membership of an ISLC for a year. Leaving sets LeftOn;
// nothing is removed.
type Membership struct {
	PersonID      uuid.UUID
	Year          string
	Basis         []string
	EffectiveFrom time.Time
	TermEndsOn    time.Time
	// RecordedAt is when the join was recorded.
	RecordedAt time.Time
	LeftOn     time.Time
	Exception  string
	ApprovedBy uuid.UUID
}

// Active reports whether the member has not left.
func (m Membership) Active() bool { return m.LeftOn.IsZero() }

// AdvisoryGroup is a student or parent group advising an ISLC.
type AdvisoryGroup struct {
	ID       uuid.UUID
	Name     string
	Kind     string
	Contacts []uuid.UUID
}

// Roster is a confirmed roster of a year.
type Roster struct {
	Year       string
	Members    []uuid.UUID
	Continuing []uuid.UUID
}

// Chair-term endings.
const (
	ChairSucceeded = "succeeded"
	ChairRemovedBy = "removed"
	ChairVacatedBy = "vacated"
)

// ChairTerm is one chair's term in office for a year.
type ChairTerm struct {
	Year       string
	ChairID    uuid.UUID
	ElectionID uuid.UUID
	From       time.Time
	// Until is when the term ended (zero while in office) and EndedBy why:
	// succeeded, removed (confidence lost) or vacated (left the ISLC).
	Until   time.Time
	EndedBy string
}

// InOffice reports whether the term has not ended.
func (t ChairTerm) InOffice() bool { return t.EndedBy == "" }

// ChairReward is a reward recorded for a chair.
type ChairReward struct {
	Year         string
	ChairID      uuid.UUID
	HoursPerWeek float64
	Stipend      *Money
}

// Community is the aggregate of one ISLC: its members by year, rosters,
// governor, advisory groups, elections, confidence votes and chairs.
type Community struct {
	ID        uuid.UUID
	SchoolID  uuid.UUID
	SegmentID uuid.UUID
	Name      string
	// Memberships lists every join in order; leaving marks, never removes.
	Memberships     []Membership
	Rosters         map[string]Roster
	GovernorID      uuid.UUID
	AdvisoryGroups  []AdvisoryGroup
	Elections       []*Election
	ConfidenceVotes []*ConfidenceVote
	Chairs          []ChairTerm
	Rewards         []ChairReward

	// ballotOf maps the id of each ballot event to its ballot, for
	// marking corrections after decision.
	ballotOf map[uuid.UUID]uuid.UUID
}

// NewCommunity returns an empty Community aggregate.
func NewCommunity() *Community {
	return &Community{Rosters: map[string]Roster{}, ballotOf: map[uuid.UUID]uuid.UUID{}}
}

// Established reports whether the ISLC has been established.
func (c *Community) Established() bool { return c.ID != uuid.Nil }

// Members returns the members of year who have not left, in order of
// joining.
func (c *Community) Members(year string) []uuid.UUID {
	var out []uuid.UUID
	for _, m := range c.Memberships {
		if m.Year == year && m.Active() {
			out = append(out, m.PersonID)
		}
	}
	return out
}

// IsMember reports whether person is a member for year and has not left.
func (c *Community) IsMember(person uuid.UUID, year string) bool {
	_, ok := c.activeMembership(person, year)
	return ok
}

// MembershipOf returns person's latest membership of year, left or not.
func (c *Community) MembershipOf(person uuid.UUID, year string) (Membership, bool) {
	for i := len(c.Memberships) - 1; i >= 0; i-- {
		if m := c.Memberships[i]; m.PersonID == person && m.Year == year {
			return m, true
		}
	}
	return Membership{}, false
}

func (c *Community) activeMembership(person uuid.UUID, year string) (int, bool) {
	for i := len(c.Memberships) - 1; i >= 0; i-- {
		if m := c.Memberships[i]; m.PersonID == person && m.Year == year && m.Active() {
			return i, true
		}
	}
	return -1, false
}

// ChairInOffice returns the chair in office for year.
func (c *Community) ChairInOffice(year string) (uuid.UUID, bool) {
	for i := len(c.Chairs) - 1; i >= 0; i-- {
		if t := c.Chairs[i]; t.Year == year && t.InOffice() {
			return t.ChairID, true
		}
	}
	return uuid.Nil, false
}

// Election returns the election with id.
func (c *Community) Election(id uuid.UUID) (*Election, bool) {
	for _, e := range c.Elections {
		if e.ID == id {
			return e, true
		}
	}
	return nil, false
}

// ConfidenceVote returns the confidence vote with id.
func (c *Community) ConfidenceVote(id uuid.UUID) (*ConfidenceVote, bool) {
	for _, v := range c.ConfidenceVotes {
		if v.ID == id {
			return v, true
		}
	}
	return nil, false
}

// RunningBallot returns the id of the election or confidence vote in
// progress (an election awaiting the Director's casting vote included),
// if any.
func (c *Community) RunningBallot() (uuid.UUID, bool) {
	for _, e := range c.Elections {
		if !e.Decided() || e.AwaitingCastingVote() {
			return e.ID, true
		}
	}
	for _, v := range c.ConfidenceVotes {
		if !v.Decided() {
			return v.ID, true
		}
	}
	return uuid.Nil, false
}

// AdvisoryGroup returns the linked advisory group with id.
func (c *Community) AdvisoryGroup(id uuid.UUID) (AdvisoryGroup, bool) {
	for _, g := range c.AdvisoryGroups {
		if g.ID == id {
			return g, true
		}
	}
	return AdvisoryGroup{}, false
}

// ballotDecided reports whether the event with id belongs to an election
// or confidence vote that has been decided.
func (c *Community) ballotDecided(event uuid.UUID) bool {
	b, ok := c.ballotOf[event]
	if !ok {
		return false
	}
	if e, ok := c.Election(b); ok {
		return e.Decided()
	}
	if v, ok := c.ConfidenceVote(b); ok {
		return v.Decided()
	}
	return false
}

func (c *Community) endChair(year string, chair uuid.UUID, at time.Time, why string) {
	for i := len(c.Chairs) - 1; i >= 0; i-- {
		if t := &c.Chairs[i]; t.Year == year && t.InOffice() && (chair == uuid.Nil || t.ChairID == chair) {
			t.Until, t.EndedBy = at, why
		}
	}
}

// Apply implements domain.Aggregate.
func (c *Community) Apply(m domain.Message) {
	if c.ballotOf == nil {
		c.ballotOf = map[uuid.UUID]uuid.UUID{}
	}
	if c.Rosters == nil {
		c.Rosters = map[string]Roster{}
	}
	switch e := m.Event.(type) {
	case CommunityEstablished:
		c.ID, c.SchoolID, c.SegmentID, c.Name = e.CommunityID, e.SchoolID, e.SegmentID, e.Name
	case MemberJoined:
		c.Memberships = append(c.Memberships, Membership{PersonID: e.PersonID, Year: e.Year, Basis: slices.Clone(e.Basis),
			EffectiveFrom: Date(e.EffectiveFrom), TermEndsOn: Date(e.TermEndsOn), RecordedAt: m.RecordedAt})
	case MemberLeft:
		if i, ok := c.activeMembership(e.PersonID, e.Year); ok {
			c.Memberships[i].LeftOn = Date(e.LeftOn)
			c.Memberships[i].Exception, c.Memberships[i].ApprovedBy = e.Exception, e.ApprovedBy
		}
	case RosterConfirmed:
		c.Rosters[e.Year] = Roster{Year: e.Year, Members: slices.Clone(e.Members), Continuing: slices.Clone(e.Continuing)}
	case GovernorLinked:
		c.GovernorID = e.GovernorID
	case AdvisoryGroupLinked:
		c.AdvisoryGroups = append(c.AdvisoryGroups, AdvisoryGroup{ID: e.GroupID, Name: e.Name, Kind: e.Kind, Contacts: slices.Clone(e.Contacts)})
	default:
		c.applyBallot(m)
	}
}
