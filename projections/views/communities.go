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

// CommunitiesView is the name of the "communities" view.
const CommunitiesView = "communities"

func init() { register(func() projections.Projection { return NewCommunities() }) }

// Communities is the "communities" view: each ISLC with its members per
// academic year, chairs, governor, advisory groups, strengths balance and
// continuity members.
type Communities struct {
	Schools govSchools                                    `json:"schools"`
	C       map[uuid.UUID]*communityRec                   `json:"communities"`
	Scores  map[uuid.UUID]map[string]governance.Strengths `json:"scores"`
}

type communityRec struct {
	govCommunity
	Governor uuid.UUID              `json:"governor"`
	Advisory []advisoryRec          `json:"advisory,omitempty"`
	Members  []membershipRec        `json:"members,omitempty"`
	Chairs   []govChair             `json:"chairs,omitempty"`
	Rosters  map[string][]uuid.UUID `json:"rosters,omitempty"`
}

type advisoryRec struct {
	ID       uuid.UUID   `json:"id"`
	Name     string      `json:"name"`
	Kind     string      `json:"kind"`
	Contacts []uuid.UUID `json:"contacts"`
}

type membershipRec struct {
	Person     uuid.UUID `json:"p"`
	Year       string    `json:"y"`
	Basis      []string  `json:"b,omitempty"`
	From       time.Time `json:"f"`
	TermEndsOn time.Time `json:"t"`
	LeftOn     time.Time `json:"l,omitzero"`
	Exception  string    `json:"x,omitempty"`
	ApprovedBy uuid.UUID `json:"a,omitzero"`
}

// NewCommunities returns an empty "communities" view.
func NewCommunities() *Communities {
	return &Communities{Schools: govSchools{}, C: map[uuid.UUID]*communityRec{}, Scores: map[uuid.UUID]map[string]governance.Strengths{}}
}

// Name implements projections.Projection.
func (*Communities) Name() string { return CommunitiesView }

// Version implements projections.Projection.
func (*Communities) Version() int { return 3 }

// Apply implements projections.Projection.
func (v *Communities) Apply(m domain.Message) error {
	if v.Schools.apply(m) {
		return nil
	}
	if e, ok := m.Event.(governance.StrengthsAssessed); ok {
		if v.Scores[e.PersonID] == nil {
			v.Scores[e.PersonID] = map[string]governance.Strengths{}
		}
		v.Scores[e.PersonID][e.Year] = e.Scores
		return nil
	}
	kind, id, ok := governance.ParseStream(m.Stream)
	if !ok || kind != governance.KindCommunity {
		return nil
	}
	if e, ok := m.Event.(governance.CommunityEstablished); ok {
		v.C[id] = &communityRec{govCommunity: govCommunity{Name: e.Name, School: e.SchoolID, Segment: e.SegmentID}}
		return nil
	}
	c, ok := v.C[id]
	if !ok {
		return nil
	}
	if govChairs(&c.Chairs, m) {
		return nil
	}
	switch e := m.Event.(type) {
	case governance.MemberJoined:
		c.Members = append(c.Members, membershipRec{Person: e.PersonID, Year: e.Year, Basis: slices.Clone(e.Basis),
			From: governance.Date(e.EffectiveFrom), TermEndsOn: governance.Date(e.TermEndsOn)})
	case governance.MemberLeft:
		for i := len(c.Members) - 1; i >= 0; i-- {
			if mb := &c.Members[i]; mb.Person == e.PersonID && mb.Year == e.Year && mb.LeftOn.IsZero() {
				mb.LeftOn, mb.Exception, mb.ApprovedBy = governance.Date(e.LeftOn), e.Exception, e.ApprovedBy
				break
			}
		}
	case governance.RosterConfirmed:
		if c.Rosters == nil {
			c.Rosters = map[string][]uuid.UUID{}
		}
		c.Rosters[e.Year] = slices.Clone(e.Continuing)
	case governance.GovernorLinked:
		c.Governor = e.GovernorID
	case governance.AdvisoryGroupLinked:
		c.Advisory = append(c.Advisory, advisoryRec{ID: e.GroupID, Name: e.Name, Kind: e.Kind, Contacts: slices.Clone(e.Contacts)})
	}
	return nil
}

// MarshalState implements projections.Projection.
func (v *Communities) MarshalState() ([]byte, error) { return encodeState(v, 0) }

// UnmarshalState implements projections.Projection.
func (v *Communities) UnmarshalState(b []byte) error {
	fresh := NewCommunities()
	if err := decodeState(b, fresh); err != nil {
		return err
	}
	if fresh.Schools == nil {
		fresh.Schools = govSchools{}
	}
	if fresh.C == nil {
		fresh.C = map[uuid.UUID]*communityRec{}
	}
	if fresh.Scores == nil {
		fresh.Scores = map[uuid.UUID]map[string]governance.Strengths{}
	}
	*v = *fresh
	return nil
}

// Member is one membership of an ISLC for a year.
type Member struct {
	Person Ref `json:"person"`
	// Basis is what the place rests on: interest, strengths or both.
	Basis      []string  `json:"basis"`
	JoinedOn   time.Time `json:"joined_on"`
	TermEndsOn time.Time `json:"term_ends_on"`
	// LeftOn is set when they left; Exception says why they could leave
	// before their term ended (left_school, long_term_absence or
	// director_approved).
	LeftOn     time.Time `json:"left_on,omitzero"`
	Exception  string    `json:"exception,omitempty"`
	ApprovedBy *Ref      `json:"approved_by,omitempty"`
	Active     bool      `json:"active"`
}

// Balance is the strengths balance of an ISLC's members for a year, from
// their assessments of that year: a guide, never a rule.
type Balance struct {
	Members    int   `json:"members"`
	Assessed   int   `json:"assessed"`
	Unassessed []Ref `json:"unassessed"`
	// Mean scores in the four domains of the Strengths-based Leadership
	// Framework (0 when no one was assessed).
	RelationshipBuilding float64 `json:"relationship_building"`
	Executing            float64 `json:"executing"`
	StrategicThinking    float64 `json:"strategic_thinking"`
	Influencing          float64 `json:"influencing"`
}

// CommunityYear is an ISLC in one academic year.
type CommunityYear struct {
	Year string `json:"year"`
	// Members lists every membership of the year, those who left too.
	Members []Member `json:"members"`
	// Active counts the members who have not left.
	Active int  `json:"active"`
	Chair  *Ref `json:"chair,omitempty"`
	// Continuity lists members also members the year before: the ISLC's
	// institutional memory.
	Continuity []Ref   `json:"continuity"`
	Balance    Balance `json:"balance"`
}

// AdvisoryGroup is a student or parent group linked to an ISLC (no pupil
// is named: only the group and its adult contacts).
type AdvisoryGroup struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Contacts []Ref     `json:"contacts"`
}

// Community is an ISLC as the "communities" view shows it.
type Community struct {
	ID       uuid.UUID       `json:"id"`
	Name     string          `json:"name"`
	School   Ref             `json:"school"`
	Segment  Ref             `json:"segment"`
	Governor *Ref            `json:"governor,omitempty"`
	Advisory []AdvisoryGroup `json:"advisory_groups"`
	// Chair is the chair in office in the latest year that had one.
	Chair        *Ref            `json:"chair,omitempty"`
	ChairHistory []ChairTerm     `json:"chair_history"`
	Years        []CommunityYear `json:"years"`
}

// Community returns ISLC id with people named through names.
func (v *Communities) Community(id uuid.UUID, names PersonNames) (Community, bool) {
	c, ok := v.C[id]
	if !ok {
		return Community{}, false
	}
	out := Community{ID: id, Name: c.Name, School: v.Schools.ref(c.School), Segment: v.Schools.segment(c.School, c.Segment),
		Governor: optPersonRef(names, c.Governor), ChairHistory: chairTerms(names, c.Chairs), Advisory: []AdvisoryGroup{}}
	for _, g := range c.Advisory {
		out.Advisory = append(out.Advisory, AdvisoryGroup{ID: g.ID, Name: g.Name, Kind: g.Kind, Contacts: personRefs(names, g.Contacts)})
	}
	for _, y := range v.years(c) {
		out.Years = append(out.Years, v.communityYear(c, y, names))
	}
	for i := len(out.Years) - 1; i >= 0 && out.Chair == nil; i-- {
		out.Chair = out.Years[i].Chair
	}
	return out, true
}

// years returns the academic years c has memberships or chairs in,
// in order.
func (v *Communities) years(c *communityRec) []string {
	var ys []string
	for _, m := range c.Members {
		ys = append(ys, m.Year)
	}
	for _, t := range c.Chairs {
		ys = append(ys, t.Year)
	}
	slices.Sort(ys)
	return slices.Compact(ys)
}

func activeMembers(c *communityRec, year string) []uuid.UUID {
	var out []uuid.UUID
	for _, m := range c.Members {
		if m.Year == year && m.LeftOn.IsZero() {
			out = append(out, m.Person)
		}
	}
	return out
}

func (v *Communities) communityYear(c *communityRec, year string, names PersonNames) CommunityYear {
	cy := CommunityYear{Year: year, Members: []Member{}, Continuity: []Ref{}}
	for _, m := range c.Members {
		if m.Year != year {
			continue
		}
		cy.Members = append(cy.Members, Member{Person: personRef(names, m.Person), Basis: m.Basis, JoinedOn: m.From, TermEndsOn: m.TermEndsOn,
			LeftOn: m.LeftOn, Exception: m.Exception, ApprovedBy: optPersonRef(names, m.ApprovedBy), Active: m.LeftOn.IsZero()})
	}
	if chair, ok := chairInOffice(c.Chairs, year); ok {
		r := personRef(names, chair)
		cy.Chair = &r
	}
	active := activeMembers(c, year)
	cy.Active = len(active)
	prev := activeMembers(c, governance.PreviousYear(year))
	b := Balance{Unassessed: []Ref{}}
	var sum governance.Strengths
	for _, p := range active {
		if slices.Contains(prev, p) {
			cy.Continuity = append(cy.Continuity, personRef(names, p))
		}
		b.Members++
		s, ok := v.Scores[p][year]
		if !ok {
			b.Unassessed = append(b.Unassessed, personRef(names, p))
			continue
		}
		b.Assessed++
		sum.RelationshipBuilding += s.RelationshipBuilding
		sum.Executing += s.Executing
		sum.StrategicThinking += s.StrategicThinking
		sum.Influencing += s.Influencing
	}
	if b.Assessed > 0 {
		n := float64(b.Assessed)
		b.RelationshipBuilding, b.Executing = float64(sum.RelationshipBuilding)/n, float64(sum.Executing)/n
		b.StrategicThinking, b.Influencing = float64(sum.StrategicThinking)/n, float64(sum.Influencing)/n
	}
	cy.Balance = b
	return cy
}

// CommunitySummary is one ISLC in a school's list.
type CommunitySummary struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	School   Ref       `json:"school"`
	Segment  Ref       `json:"segment"`
	Governor *Ref      `json:"governor,omitempty"`
	// Chair is the chair in office in the latest year that had one.
	Chair *Ref `json:"chair,omitempty"`
	// Members counts the active members per academic year.
	Members map[string]int `json:"members"`
}

// CommunitiesOf returns the ISLCs of school in its segment order.
func (v *Communities) CommunitiesOf(school uuid.UUID, names PersonNames) []CommunitySummary {
	var out []CommunitySummary
	for _, id := range v.ids(school) {
		c := v.C[id]
		s := CommunitySummary{ID: id, Name: c.Name, School: v.Schools.ref(c.School), Segment: v.Schools.segment(c.School, c.Segment),
			Governor: optPersonRef(names, c.Governor), Members: map[string]int{}}
		ys := v.years(c)
		for _, y := range ys {
			s.Members[y] = len(activeMembers(c, y))
		}
		for i := len(ys) - 1; i >= 0 && s.Chair == nil; i-- {
			if chair, ok := chairInOffice(c.Chairs, ys[i]); ok {
				s.Chair = optPersonRef(names, chair)
			}
		}
		out = append(out, s)
	}
	return out
}

// ids returns the ids of school's ISLCs in segment order.
func (v *Communities) ids(school uuid.UUID) []uuid.UUID {
	var ids []uuid.UUID
	for id, c := range v.C {
		if c.School == school {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int {
		ia, ib := v.Schools.segmentIndex(school, v.C[a].Segment), v.Schools.segmentIndex(school, v.C[b].Segment)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a.String(), b.String())
	})
	return ids
}

// MembershipSeries is one ISLC's active members per year of a chart.
type MembershipSeries struct {
	Community Ref `json:"community"`
	// Counts[i] is the number of active members in Years[i].
	Counts []int `json:"counts"`
}

// MembershipChart is the membership of a school's ISLCs over the years.
type MembershipChart struct {
	School Ref                `json:"school"`
	Years  []string           `json:"years"`
	Series []MembershipSeries `json:"series"`
}

// MembershipOverYears counts the active members of each ISLC of school in
// each academic year the school opened or that has memberships, oldest
// first.
func (v *Communities) MembershipOverYears(school uuid.UUID) MembershipChart {
	ch := MembershipChart{School: v.Schools.ref(school), Years: []string{}, Series: []MembershipSeries{}}
	if sc, ok := v.Schools[school]; ok {
		for _, y := range sc.Years {
			ch.Years = append(ch.Years, y.Label)
		}
	}
	ids := v.ids(school)
	for _, id := range ids {
		ch.Years = append(ch.Years, v.years(v.C[id])...)
	}
	slices.Sort(ch.Years)
	ch.Years = slices.Compact(ch.Years)
	for _, id := range ids {
		c := v.C[id]
		s := MembershipSeries{Community: Ref{ID: id, Name: c.Name}, Counts: make([]int, len(ch.Years))}
		for i, y := range ch.Years {
			s.Counts[i] = len(activeMembers(c, y))
		}
		ch.Series = append(ch.Series, s)
	}
	return ch
}

// PeopleOverYears returns, for each academic year in which school's ISLCs
// have members, how many different people are active members of at least
// one of them (a member of two ISLCs counts once): the school's community
// membership, in people.
func (v *Communities) PeopleOverYears(school uuid.UUID) map[string]int {
	people := map[string]map[uuid.UUID]bool{}
	for _, id := range v.ids(school) {
		c := v.C[id]
		for _, y := range v.years(c) {
			for _, p := range activeMembers(c, y) {
				if people[y] == nil {
					people[y] = map[uuid.UUID]bool{}
				}
				people[y][p] = true
			}
		}
	}
	out := make(map[string]int, len(people))
	for y, ps := range people {
		out[y] = len(ps)
	}
	return out
}
