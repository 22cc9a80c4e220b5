package governance

import (
	"slices"

	"github.com/google/uuid"
)

// ContinuityMembers returns the members of c for year who were also
// members for the year before: the ISLC's institutional memory.
func ContinuityMembers(c *Community, year string) []uuid.UUID {
	prev := c.Members(PreviousYear(year))
	var out []uuid.UUID
	for _, id := range c.Members(year) {
		if slices.Contains(prev, id) {
			out = append(out, id)
		}
	}
	return out
}

// TeamChair is one ISLC's chair on the Leadership Team.
type TeamChair struct {
	CommunityID uuid.UUID
	SegmentID   uuid.UUID
	Community   string
	ChairID     uuid.UUID
}

// Team is a school's Leadership Team for a year: the Director, who chairs
// it, and the chair in office of each ISLC.
type Team struct {
	SchoolID   uuid.UUID
	Year       string
	DirectorID uuid.UUID // zero if no Director is appointed
	Chairs     []TeamChair
	// Vacant lists the ISLCs with no chair in office.
	Vacant []uuid.UUID
}

// Members returns the Team's members: the Director first, then the chairs
// in segment order (a person who chairs two ISLCs is listed once).
func (t Team) Members() []uuid.UUID {
	var out []uuid.UUID
	if t.DirectorID != uuid.Nil {
		out = append(out, t.DirectorID)
	}
	for _, c := range t.Chairs {
		if !slices.Contains(out, c.ChairID) {
			out = append(out, c.ChairID)
		}
	}
	return out
}

// Includes reports whether person sits on the Team.
func (t Team) Includes(person uuid.UUID) bool {
	return person != uuid.Nil && slices.Contains(t.Members(), person)
}

// LeadershipTeam derives school's Leadership Team for year from its
// Director and the chairs in office of communities (those of other schools
// are ignored). Communities are listed in the school's segment order.
func LeadershipTeam(school *School, communities []*Community, year string) Team {
	t := Team{SchoolID: school.ID, Year: year, DirectorID: school.DirectorID}
	for _, c := range schoolOrder(school, communities) {
		if chair, ok := c.ChairInOffice(year); ok {
			t.Chairs = append(t.Chairs, TeamChair{CommunityID: c.ID, SegmentID: c.SegmentID, Community: c.Name, ChairID: chair})
		} else {
			t.Vacant = append(t.Vacant, c.ID)
		}
	}
	return t
}

// schoolOrder returns the communities of school in its segment order.
func schoolOrder(school *School, communities []*Community) []*Community {
	var out []*Community
	for _, g := range school.Segments {
		for _, c := range communities {
			if c.SchoolID == school.ID && c.SegmentID == g.ID {
				out = append(out, c)
			}
		}
	}
	return out
}

// UnassignedStaff returns the staff of school who are in no ISLC of the
// school for year: the check that every staff member belongs to at least
// one. Staff who have left the school are not listed, nor is the Director,
// who chairs the Leadership Team over every ISLC rather than belonging to
// one; members who left an ISLC no longer count as in it. The order is
// that of staff.
func UnassignedStaff(school *School, staff []*Person, communities []*Community, year string) []uuid.UUID {
	var out []uuid.UUID
	for _, p := range staff {
		if !p.IsStaffOf(school.ID) || p.ID == school.DirectorID {
			continue
		}
		in := slices.ContainsFunc(communities, func(c *Community) bool {
			return c.SchoolID == school.ID && c.IsMember(p.ID, year)
		})
		if !in {
			out = append(out, p.ID)
		}
	}
	return out
}

// Means are the mean scores of a set of assessments.
type Means struct {
	RelationshipBuilding float64
	Executing            float64
	StrategicThinking    float64
	Influencing          float64
}

// Balance is the balance of strengths of an ISLC's members for a year,
// from their latest assessments of that year: for the Director, as a
// guide, never a rule.
type Balance struct {
	CommunityID uuid.UUID
	Year        string
	Members     int
	Assessed    int
	// Unassessed are members with no assessment for the year.
	Unassessed []uuid.UUID
	Sum        Strengths
	Mean       Means
}

// StrengthsBalance sums and averages the four strength domains over the
// members of c for year, using each member's assessment for that year
// from people (keyed by person id).
func StrengthsBalance(c *Community, people map[uuid.UUID]*Person, year string) Balance {
	b := Balance{CommunityID: c.ID, Year: year}
	for _, id := range c.Members(year) {
		b.Members++
		p, ok := people[id]
		var a Assessment
		if ok {
			a, ok = p.Assessments[year]
		}
		if !ok {
			b.Unassessed = append(b.Unassessed, id)
			continue
		}
		b.Assessed++
		b.Sum.RelationshipBuilding += a.Scores.RelationshipBuilding
		b.Sum.Executing += a.Scores.Executing
		b.Sum.StrategicThinking += a.Scores.StrategicThinking
		b.Sum.Influencing += a.Scores.Influencing
	}
	if b.Assessed > 0 {
		n := float64(b.Assessed)
		b.Mean = Means{
			RelationshipBuilding: float64(b.Sum.RelationshipBuilding) / n,
			Executing:            float64(b.Sum.Executing) / n,
			StrategicThinking:    float64(b.Sum.StrategicThinking) / n,
			Influencing:          float64(b.Sum.Influencing) / n,
		}
	}
	return b
}
