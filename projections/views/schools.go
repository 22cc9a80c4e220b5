package views

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

// SchoolsView is the name of the "schools" view.
const SchoolsView = "schools"

func init() { register(func() projections.Projection { return NewSchools() }) }

// Schools is the "schools" view: schools with their segments, Director and
// academic years, and the staff assignment: each staff member with their
// ISLCs per year, flagged when they are in none.
type Schools struct {
	S     govSchools                 `json:"schools"`
	Staff map[uuid.UUID]*staffRec    `json:"staff"`
	Names map[uuid.UUID]govCommunity `json:"communities"`

	// bySchool indexes Staff by school, each school's ids in order (not
	// saved: rebuilt from Staff on restore), so reading a school does not
	// walk the partnership's staff.
	bySchool map[uuid.UUID][]uuid.UUID
}

type staffRec struct {
	School uuid.UUID   `json:"school"`
	Kind   string      `json:"kind"`
	Since  time.Time   `json:"since"`
	LeftOn time.Time   `json:"left_on,omitzero"`
	In     []staffMemb `json:"in,omitempty"`
}

type staffMemb struct {
	Community uuid.UUID `json:"c"`
	Year      string    `json:"y"`
	From      time.Time `json:"f"`
	LeftOn    time.Time `json:"l,omitzero"`
}

// NewSchools returns an empty "schools" view.
func NewSchools() *Schools {
	return &Schools{S: govSchools{}, Staff: map[uuid.UUID]*staffRec{}, Names: map[uuid.UUID]govCommunity{}, bySchool: map[uuid.UUID][]uuid.UUID{}}
}

// index puts person in school's list of staff (out of another school's
// list, when they were registered there before).
func (v *Schools) index(person, school uuid.UUID) {
	if old, ok := v.Staff[person]; ok {
		ids := v.bySchool[old.School]
		if i, found := slices.BinarySearchFunc(ids, person, uuidCmp); found {
			v.bySchool[old.School] = slices.Delete(ids, i, i+1)
		}
	}
	ids := v.bySchool[school]
	if i, found := slices.BinarySearchFunc(ids, person, uuidCmp); !found {
		v.bySchool[school] = slices.Insert(ids, i, person)
	}
}

// Name implements projections.Projection.
func (*Schools) Name() string { return SchoolsView }

// Version implements projections.Projection.
func (*Schools) Version() int { return 2 }

// Apply implements projections.Projection.
func (v *Schools) Apply(m domain.Message) error {
	if v.S.apply(m) {
		return nil
	}
	switch e := m.Event.(type) {
	case governance.StaffRegistered:
		v.index(e.PersonID, e.SchoolID)
		v.Staff[e.PersonID] = &staffRec{School: e.SchoolID, Kind: e.Kind, Since: governance.Date(m.Effective())}
	case governance.PersonLeftSchool:
		if s, ok := v.Staff[e.PersonID]; ok {
			s.LeftOn = governance.Date(e.LeftOn)
		}
	case governance.CommunityEstablished:
		v.Names[e.CommunityID] = govCommunity{Name: e.Name, School: e.SchoolID, Segment: e.SegmentID}
	case governance.MemberJoined:
		if s, ok := v.Staff[e.PersonID]; ok {
			s.In = append(s.In, staffMemb{Community: e.CommunityID, Year: e.Year, From: governance.Date(e.EffectiveFrom)})
		}
	case governance.MemberLeft:
		if s, ok := v.Staff[e.PersonID]; ok {
			for i := len(s.In) - 1; i >= 0; i-- {
				if in := &s.In[i]; in.Community == e.CommunityID && in.Year == e.Year && in.LeftOn.IsZero() {
					in.LeftOn = governance.Date(e.LeftOn)
					break
				}
			}
		}
	}
	return nil
}

// MarshalState implements projections.Projection.
func (v *Schools) MarshalState() ([]byte, error) { return govMarshal(v) }

// UnmarshalState implements projections.Projection.
func (v *Schools) UnmarshalState(b []byte) error {
	fresh := NewSchools()
	if err := govUnmarshal(b, fresh); err != nil {
		return err
	}
	if fresh.S == nil {
		fresh.S = govSchools{}
	}
	if fresh.Staff == nil {
		fresh.Staff = map[uuid.UUID]*staffRec{}
	}
	if fresh.Names == nil {
		fresh.Names = map[uuid.UUID]govCommunity{}
	}
	for id, st := range fresh.Staff {
		fresh.bySchool[st.School] = append(fresh.bySchool[st.School], id)
	}
	for _, ids := range fresh.bySchool {
		slices.SortFunc(ids, uuidCmp)
	}
	*v = *fresh
	return nil
}

// SchoolSummary is a school in the list of schools.
type SchoolSummary struct {
	ID       uuid.UUID      `json:"id"`
	Name     string         `json:"name"`
	Director *Ref           `json:"director,omitempty"`
	Segments []Ref          `json:"segments"`
	Years    []AcademicYear `json:"years"`
	// Staff counts the staff who have not left.
	Staff int `json:"staff"`
}

// School is a school with its staff.
type School struct {
	SchoolSummary
	StaffList []StaffMember `json:"staff_list"`
}

// StaffMember is a staff member of a school with their ISLCs.
type StaffMember struct {
	Person Ref `json:"person"`
	// Kind is educator or administrator.
	Kind   string    `json:"kind"`
	Since  time.Time `json:"since"`
	LeftOn time.Time `json:"left_on,omitzero"`
	// Communities lists their memberships, every year.
	Communities []StaffMembership `json:"communities"`
}

// StaffMembership is one ISLC membership of a staff member.
type StaffMembership struct {
	Community Ref       `json:"community"`
	Year      string    `json:"year"`
	From      time.Time `json:"from"`
	LeftOn    time.Time `json:"left_on,omitzero"`
}

func (v *Schools) summary(id uuid.UUID, sc *govSchool, names PersonNames) SchoolSummary {
	s := SchoolSummary{ID: id, Name: sc.Name, Director: optPersonRef(names, sc.Director), Segments: []Ref{}, Years: slices.Clone(sc.Years)}
	if s.Years == nil {
		s.Years = []AcademicYear{}
	}
	for _, g := range sc.Segments {
		s.Segments = append(s.Segments, Ref{ID: g.ID, Name: g.Name})
	}
	// The school's staff from its index: walking the partnership's whole
	// staff for each school made listing fifty schools walk it fifty times.
	for _, pid := range v.staffOf(id) {
		if st := v.Staff[pid]; st != nil && st.School == id && st.LeftOn.IsZero() {
			s.Staff++
		}
	}
	return s
}

// Schools returns every school, ordered by name then id.
func (v *Schools) Schools(names PersonNames) []SchoolSummary {
	out := []SchoolSummary{}
	for id, sc := range v.S {
		out = append(out, v.summary(id, sc, names))
	}
	slices.SortFunc(out, func(a, b SchoolSummary) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out
}

// School returns school id with its staff (those who left included),
// ordered by id.
func (v *Schools) School(id uuid.UUID, names PersonNames) (School, bool) {
	sc, ok := v.S[id]
	if !ok {
		return School{}, false
	}
	out := School{SchoolSummary: v.summary(id, sc, names), StaffList: []StaffMember{}}
	for _, pid := range v.staffOf(id) {
		st := v.Staff[pid]
		m := StaffMember{Person: personRef(names, pid), Kind: st.Kind, Since: st.Since, LeftOn: st.LeftOn, Communities: []StaffMembership{}}
		for _, in := range st.In {
			m.Communities = append(m.Communities, StaffMembership{Community: Ref{ID: in.Community, Name: v.Names[in.Community].Name}, Year: in.Year, From: in.From, LeftOn: in.LeftOn})
		}
		out.StaffList = append(out.StaffList, m)
	}
	return out, true
}

// staffOf returns the ids of school's staff in the order of their text
// (the order of their bytes); the caller must not change the slice.
func (v *Schools) staffOf(school uuid.UUID) []uuid.UUID { return v.bySchool[school] }

// Assignment is a staff member's place in the ISLCs of one year.
type Assignment struct {
	Person Ref    `json:"person"`
	Kind   string `json:"kind"`
	// Communities are the ISLCs they are an active member of for the year.
	Communities []Ref `json:"communities"`
	// Unassigned flags a staff member in no ISLC of the school for the
	// year (those who left an ISLC no longer count as in it): the rule
	// that every staff member belongs to at least one.
	Unassigned bool `json:"unassigned"`
	// NoCommunityAtStart flags a staff member who was staff on the first
	// day of the year but in no ISLC on that day (memberships backdated to
	// it count).
	NoCommunityAtStart bool `json:"no_community_at_start"`
	// Director marks the school's Director, who chairs the Leadership
	// Team over every ISLC and is never flagged for belonging to none.
	Director bool `json:"director,omitempty"`
}

// StaffAssignment returns the staff of school still in post with their
// ISLCs for year and the two flags, ordered by id. Staff who have left
// the school are not listed; the Director is marked and never flagged.
func (v *Schools) StaffAssignment(school uuid.UUID, year string, names PersonNames) []Assignment {
	start, hasYear := v.S.year(school, year)
	out := []Assignment{}
	for _, pid := range v.staffOf(school) {
		st := v.Staff[pid]
		if !st.LeftOn.IsZero() {
			continue
		}
		a := Assignment{Person: personRef(names, pid), Kind: st.Kind, Communities: []Ref{}}
		atStart := false
		for _, in := range st.In {
			c, ok := v.Names[in.Community]
			if in.Year != year || !ok || c.School != school {
				continue
			}
			if in.LeftOn.IsZero() {
				a.Communities = append(a.Communities, Ref{ID: in.Community, Name: c.Name})
			}
			if hasYear && !in.From.After(start.StartsOn) && (in.LeftOn.IsZero() || !in.LeftOn.Before(start.StartsOn)) {
				atStart = true
			}
		}
		a.Director = pid == v.S[school].Director
		a.Unassigned = len(a.Communities) == 0 && !a.Director
		a.NoCommunityAtStart = hasYear && !st.Since.After(start.StartsOn) && !atStart && !a.Director
		out = append(out, a)
	}
	return out
}

// Unassigned returns the staff of school in no ISLC for year (the
// Unassigned flag of StaffAssignment), ordered by id: the same people as
// governance.UnassignedStaff.
func (v *Schools) Unassigned(school uuid.UUID, year string, names PersonNames) []Assignment {
	out := []Assignment{}
	for _, a := range v.StaffAssignment(school, year, names) {
		if a.Unassigned {
			out = append(out, a)
		}
	}
	return out
}
