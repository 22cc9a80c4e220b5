package views

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sync"
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
//
// The view is versioned (projections.Versioned): schools and each
// person's strengths scores keep their versions with the positions they
// hold from; an ISLC's record is changed by copy (a change makes a new
// record, sharing the lists it does not change), its own fields keep
// their versions, and each membership, chair's term and advisory group
// keeps the position it was recorded at (a membership or term also the
// one it ended at). A state in the past shares the records unchanged
// since and cuts the others' lists (At).
type Communities struct {
	SchoolsAt map[uuid.UUID]history[govSchool]                       `json:"schools"`
	C         map[uuid.UUID]*communityRec                            `json:"communities"`
	ScoresAt  map[uuid.UUID]history[map[string]governance.Strengths] `json:"scores"`
	// Schools are the schools as they are now (not saved: SchoolsAt
	// gives them).
	Schools govSchools `json:"-"`
	// past marks a state looked up in the past (At): it shares its lists
	// with the live view, so it appends to none of them in place.
	past bool
	// people holds PeopleOverYears of every school, worked out in one
	// pass when first asked; Apply forgets it.
	people *peopleMemo
	// lens is set on a state read in place in the past (Lens): the
	// records above are the live view's, read-locked while it is read.
	lens *communitiesLens
	// heads counts the people in each school's ISLCs per year, with the
	// positions the counts hold from, for PeopleOverYearsOf in the past
	// (nil in a state looked up in the past, which counts its records).
	// Not saved: worked out from the memberships when a state is read.
	heads *headcount
}

// headcount keeps, by school and academic year, how many active
// memberships each person holds in the school's ISLCs, and how many
// people hold at least one, with the position each count holds from.
type headcount struct {
	held   map[schoolYear]map[uuid.UUID]int32
	counts map[uuid.UUID]map[string]history[int]
}

type schoolYear struct {
	school uuid.UUID
	year   string
}

func newHeadcount() *headcount {
	return &headcount{held: map[schoolYear]map[uuid.UUID]int32{}, counts: map[uuid.UUID]map[string]history[int]{}}
}

// move counts d more active memberships of person in school's ISLCs for
// year, at position pos: the year's count of people changes when the
// person held none before or holds none after.
func (h *headcount) move(school uuid.UUID, year string, person uuid.UUID, d int32, pos uint64) {
	k := schoolYear{school, year}
	held := h.held[k]
	if held == nil {
		held = map[uuid.UUID]int32{}
		h.held[k] = held
	}
	before := held[person]
	after := before + d
	if after == 0 {
		delete(held, person)
	} else {
		held[person] = after
	}
	if (before > 0) == (after > 0) {
		return
	}
	years := h.counts[school]
	if years == nil {
		years = map[string]history[int]{}
		h.counts[school] = years
	}
	n := years[year].current()
	if after > 0 {
		n++
	} else {
		n--
	}
	years[year] = years[year].add(pos, n)
}

// at returns, for each of schools, the people counted per year at
// position at (years with none left out), as PeopleOverYearsOf does.
func (h *headcount) at(schools []uuid.UUID, at uint64) []map[string]int {
	out := make([]map[string]int, len(schools))
	for i, s := range schools {
		out[i] = map[string]int{}
		for year, versions := range h.counts[s] {
			if n := versions.upTo(at).current(); n > 0 {
				out[i][year] = n
			}
		}
	}
	return out
}

// headcountOf works out the counts from the memberships of records, in
// the order of their positions.
func headcountOf(records map[uuid.UUID]*communityRec) *headcount {
	type move struct {
		pos    uint64
		school uuid.UUID
		year   string
		person uuid.UUID
		d      int32
	}
	var moves []move
	for _, c := range records {
		for _, m := range c.Members {
			moves = append(moves, move{m.P, c.School, m.Year, m.Person, 1})
			if !m.LeftOn.IsZero() {
				moves = append(moves, move{m.LeftP, c.School, m.Year, m.Person, -1})
			}
		}
	}
	slices.SortFunc(moves, func(a, b move) int { return cmp.Compare(a.pos, b.pos) })
	h := newHeadcount()
	for _, m := range moves {
		h.move(m.school, m.year, m.person, m.d, m.pos)
	}
	return h
}

// communitiesLens is the position a lens reads at, and the state as of
// it (At), made once when a query needs more than PeopleOverYearsOf.
type communitiesLens struct {
	at   uint64
	once sync.Once
	past *Communities
}

// peopleMemo is PeopleOverYears of every school with an ISLC (nil until
// asked), guarded by mu: readers share a view.
type peopleMemo struct {
	mu       sync.Mutex
	bySchool map[uuid.UUID]map[string]int
}

type communityRec struct {
	// communityFields are the record's own fields as they are now (not
	// saved: Versions gives them).
	communityFields `json:"-"`
	Advisory        []advisoryRec   `json:"advisory,omitempty"`
	Members         []membershipRec `json:"members,omitempty"`
	Chairs          []govChair      `json:"chairs,omitempty"`
	// Versions are the versions of the record's own fields; the first is
	// the ISLC's establishment.
	Versions history[communityFields] `json:"versions"`
	// Last is the position of the record's last change.
	Last uint64 `json:"last"`
}

// communityFields are an ISLC's name, school, segment, governor and
// confirmed rosters.
type communityFields struct {
	Name     string                 `json:"name"`
	School   uuid.UUID              `json:"school"`
	Segment  uuid.UUID              `json:"segment"`
	Governor uuid.UUID              `json:"governor"`
	Rosters  map[string][]uuid.UUID `json:"rosters,omitempty"`
}

type advisoryRec struct {
	ID       uuid.UUID   `json:"id"`
	Name     string      `json:"name"`
	Kind     string      `json:"kind"`
	Contacts []uuid.UUID `json:"contacts"`
	P        uint64      `json:"pp"`
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
	// P is the position the membership was recorded at, LeftP the one
	// it ended at (0 while it lasts).
	P     uint64 `json:"pp"`
	LeftP uint64 `json:"lp,omitempty"`
}

// NewCommunities returns an empty "communities" view.
func NewCommunities() *Communities {
	return &Communities{SchoolsAt: map[uuid.UUID]history[govSchool]{}, C: map[uuid.UUID]*communityRec{},
		ScoresAt: map[uuid.UUID]history[map[string]governance.Strengths]{}, Schools: govSchools{}, people: &peopleMemo{},
		heads: newHeadcount()}
}

// Name implements projections.Projection.
func (*Communities) Name() string { return CommunitiesView }

// Version implements projections.Projection.
func (*Communities) Version() int { return 4 }

// appendTo appends x to s: in place for the live view, into a new array
// for a state in the past, whose lists the live view shares.
func appendTo[T any](past bool, s []T, x T) []T {
	if past {
		return append(s[:len(s):len(s)], x)
	}
	return append(s, x)
}

// Apply implements projections.Projection.
func (v *Communities) Apply(m domain.Message) error {
	if v.lens != nil {
		return errLens
	}
	if v.people != nil {
		v.people.mu.Lock()
		v.people.bySchool = nil
		v.people.mu.Unlock()
	}
	if v.applySchool(m) {
		return nil
	}
	if e, ok := m.Event.(governance.StrengthsAssessed); ok {
		h := v.ScoresAt[e.PersonID]
		scores := maps.Clone(h.current())
		if scores == nil {
			scores = map[string]governance.Strengths{}
		}
		scores[e.Year] = e.Scores
		v.ScoresAt[e.PersonID] = appendTo(v.past, h, rowVersion[map[string]governance.Strengths]{m.Position, scores})
		return nil
	}
	kind, id, ok := governance.ParseStream(m.Stream)
	if !ok || kind != governance.KindCommunity {
		return nil
	}
	if e, ok := m.Event.(governance.CommunityEstablished); ok {
		f := communityFields{Name: e.Name, School: e.SchoolID, Segment: e.SegmentID}
		v.C[id] = &communityRec{communityFields: f, Versions: history[communityFields]{{m.Position, f}}, Last: m.Position}
		return nil
	}
	old, ok := v.C[id]
	if !ok {
		return nil
	}
	c := *old // a change makes a new record
	fields := func(fn func(*communityFields)) {
		f := c.communityFields
		fn(&f)
		c.communityFields = f
		c.Versions = appendTo(v.past, c.Versions, rowVersion[communityFields]{m.Position, f})
	}
	switch e := m.Event.(type) {
	case governance.ChairElected, governance.ChairRemoved, governance.ChairVacated:
		chairs := slices.Clone(c.Chairs)
		govChairs(&chairs, m)
		if len(chairs) == len(c.Chairs) && !slices.ContainsFunc(chairs, func(t govChair) bool { return t.EndP == m.Position }) {
			return nil // a removal or vacancy of no term in office
		}
		c.Chairs = chairs
	case governance.MemberJoined:
		c.Members = appendTo(v.past, c.Members, membershipRec{Person: e.PersonID, Year: e.Year, Basis: slices.Clone(e.Basis),
			From: governance.Date(e.EffectiveFrom), TermEndsOn: governance.Date(e.TermEndsOn), P: m.Position})
		if v.heads != nil {
			v.heads.move(c.School, e.Year, e.PersonID, 1, m.Position)
		}
	case governance.MemberLeft:
		i := len(c.Members) - 1
		for ; i >= 0; i-- {
			if mb := &c.Members[i]; mb.Person == e.PersonID && mb.Year == e.Year && mb.LeftOn.IsZero() {
				break
			}
		}
		if i < 0 {
			return nil
		}
		c.Members = slices.Clone(c.Members)
		mb := &c.Members[i]
		mb.LeftOn, mb.Exception, mb.ApprovedBy, mb.LeftP = governance.Date(e.LeftOn), e.Exception, e.ApprovedBy, m.Position
		if v.heads != nil {
			v.heads.move(c.School, e.Year, e.PersonID, -1, m.Position)
		}
	case governance.RosterConfirmed:
		fields(func(f *communityFields) {
			f.Rosters = maps.Clone(f.Rosters)
			if f.Rosters == nil {
				f.Rosters = map[string][]uuid.UUID{}
			}
			f.Rosters[e.Year] = slices.Clone(e.Continuing)
		})
	case governance.GovernorLinked:
		fields(func(f *communityFields) { f.Governor = e.GovernorID })
	case governance.AdvisoryGroupLinked:
		c.Advisory = appendTo(v.past, c.Advisory, advisoryRec{ID: e.GroupID, Name: e.Name, Kind: e.Kind, Contacts: slices.Clone(e.Contacts), P: m.Position})
	default:
		return nil
	}
	c.Last = m.Position
	v.C[id] = &c
	return nil
}

// applySchool folds a fact of a school's stream into a new version of
// the school; it reports whether m was one.
func (v *Communities) applySchool(m domain.Message) bool {
	id, ok := schoolOf(m.Event)
	if !ok {
		return false
	}
	one := govSchools{}
	h := v.SchoolsAt[id]
	if len(h) > 0 {
		sc := h.current()
		sc.Segments, sc.Years = slices.Clone(sc.Segments), slices.Clone(sc.Years)
		one[id] = &sc
	}
	one.apply(m)
	if sc, ok := one[id]; ok {
		v.SchoolsAt[id] = appendTo(v.past, h, rowVersion[govSchool]{m.Position, *sc})
		v.Schools[id] = sc
	}
	return true
}

// schoolOf returns the school a fact of a school's stream that govSchools
// folds is of.
func schoolOf(e domain.Event) (uuid.UUID, bool) {
	switch e := e.(type) {
	case governance.SchoolRegistered:
		return e.SchoolID, true
	case governance.SegmentAdded:
		return e.SchoolID, true
	case governance.SegmentRenamed:
		return e.SchoolID, true
	case governance.DirectorAppointed:
		return e.SchoolID, true
	case governance.DirectorLeft:
		return e.SchoolID, true
	case governance.AcademicYearOpened:
		return e.SchoolID, true
	}
	return uuid.Nil, false
}

// At implements projections.Versioned: the view as known at pos. The
// records unchanged since are the live view's own (a change makes a new
// record); the others are cut to pos.
func (v *Communities) At(pos uint64) projections.Projection {
	if v.lens != nil {
		pos = min(pos, v.lens.at)
	}
	out := &Communities{SchoolsAt: rowsUpTo(v.SchoolsAt, pos), C: make(map[uuid.UUID]*communityRec, len(v.C)),
		ScoresAt: rowsUpTo(v.ScoresAt, pos), past: true, people: &peopleMemo{}}
	out.derive()
	for id, c := range v.C {
		switch {
		case len(c.Versions) == 0 || c.Versions[0].P > pos:
		case c.Last <= pos:
			out.C[id] = c
		default:
			out.C[id] = c.upTo(pos)
		}
	}
	return out
}

// Lens implements projections.Lensed: the view as known at pos, read in
// the live view v while v is read-locked. PeopleOverYearsOf (what a
// report asks) looks the memberships up as they were at pos; the other
// queries read the state As of pos, made when first asked.
func (v *Communities) Lens(pos uint64) projections.Projection {
	return &Communities{SchoolsAt: v.SchoolsAt, C: v.C, ScoresAt: v.ScoresAt, Schools: v.Schools, past: true,
		lens: &communitiesLens{at: pos}, heads: v.heads}
}

// resolved returns the state a lens reads as a state of its own (At),
// made once; v itself when v is no lens.
func (v *Communities) resolved() *Communities {
	if v.lens == nil {
		return v
	}
	v.lens.once.Do(func() { v.lens.past = v.At(v.lens.at).(*Communities) })
	return v.lens.past
}

// upTo returns the record as known at pos (established by then).
func (c *communityRec) upTo(pos uint64) *communityRec {
	out := &communityRec{Versions: c.Versions.upTo(pos)}
	out.communityFields = out.Versions.current()
	out.Last = out.Versions[len(out.Versions)-1].P
	out.Advisory = cut(c.Advisory, pos, func(a *advisoryRec) uint64 { return a.P })
	out.Members = cut(c.Members, pos, func(mb *membershipRec) uint64 { return mb.P })
	for i, cloned := 0, false; i < len(out.Members); i++ {
		if out.Members[i].LeftP > pos { // left after pos: still a member then
			if !cloned {
				out.Members, cloned = slices.Clone(out.Members), true
			}
			mb := &out.Members[i]
			mb.LeftOn, mb.Exception, mb.ApprovedBy, mb.LeftP = time.Time{}, "", uuid.Nil, 0
		}
	}
	out.Chairs = cut(c.Chairs, pos, func(t *govChair) uint64 { return t.P })
	for i, cloned := 0, false; i < len(out.Chairs); i++ {
		if out.Chairs[i].EndP > pos { // ended after pos: in office then
			if !cloned {
				out.Chairs, cloned = slices.Clone(out.Chairs), true
			}
			t := &out.Chairs[i]
			t.Until, t.EndedBy, t.EndP = time.Time{}, "", 0
		}
	}
	for _, a := range out.Advisory {
		out.Last = max(out.Last, a.P)
	}
	for _, mb := range out.Members {
		out.Last = max(out.Last, mb.P, mb.LeftP)
	}
	for _, t := range out.Chairs {
		out.Last = max(out.Last, t.P, t.EndP)
	}
	return out
}

// derive sets the schools as they are now from their versions.
func (v *Communities) derive() {
	v.Schools = make(govSchools, len(v.SchoolsAt))
	for id, h := range v.SchoolsAt {
		sc := h.current()
		v.Schools[id] = &sc
	}
}

// score returns person p's strengths scores for year, if assessed.
func (v *Communities) score(p uuid.UUID, year string) (governance.Strengths, bool) {
	s, ok := v.ScoresAt[p].current()[year]
	return s, ok
}

// MarshalState implements projections.Projection; a lens saves the state
// as of its position.
func (v *Communities) MarshalState() ([]byte, error) { return encodeState(v.resolved(), 0) }

// UnmarshalState implements projections.Projection.
func (v *Communities) UnmarshalState(b []byte) error {
	fresh := NewCommunities()
	if err := decodeState(b, fresh); err != nil {
		return err
	}
	if fresh.SchoolsAt == nil {
		fresh.SchoolsAt = map[uuid.UUID]history[govSchool]{}
	}
	if fresh.C == nil {
		fresh.C = map[uuid.UUID]*communityRec{}
	}
	if fresh.ScoresAt == nil {
		fresh.ScoresAt = map[uuid.UUID]history[map[string]governance.Strengths]{}
	}
	for id, c := range fresh.C {
		if len(c.Versions) == 0 {
			return fmt.Errorf("communities: ISLC %s has no versions", id)
		}
		c.communityFields = c.Versions.current()
	}
	fresh.derive()
	fresh.heads = headcountOf(fresh.C)
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
	v = v.resolved()
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
		s, ok := v.score(p, year)
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
	v = v.resolved()
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
		return bytes.Compare(a[:], b[:]) // the order of their strings
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
	v = v.resolved()
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
	return v.PeopleOverYearsOf([]uuid.UUID{school})[0]
}

// PeopleOverYearsOf is PeopleOverYears for each of schools, in one pass
// over the ISLCs and their memberships: a report asks it of every member
// school.
//
// The answer for every school is worked out once, until the next event
// (a report asks after every school; the live view is read far more
// often than it changes). Callers get maps of their own.
func (v *Communities) PeopleOverYearsOf(schools []uuid.UUID) []map[string]int {
	if v.lens != nil {
		if v.heads == nil { // not the live view's: count the state as of then
			return v.resolved().PeopleOverYearsOf(schools)
		}
		return v.heads.at(schools, v.lens.at)
	}
	memo := v.people
	if memo == nil {
		return v.peopleOverYears(schools)
	}
	memo.mu.Lock()
	defer memo.mu.Unlock()
	if memo.bySchool == nil {
		var all []uuid.UUID
		seen := map[uuid.UUID]bool{}
		for _, c := range v.C {
			if !seen[c.School] {
				seen[c.School] = true
				all = append(all, c.School)
			}
		}
		memo.bySchool = make(map[uuid.UUID]map[string]int, len(all))
		for i, m := range v.peopleOverYears(all) {
			memo.bySchool[all[i]] = m
		}
	}
	out := make([]map[string]int, len(schools))
	for i, s := range schools {
		if out[i] = maps.Clone(memo.bySchool[s]); out[i] == nil {
			out[i] = map[string]int{}
		}
	}
	return out
}

// peopleOverYears works out PeopleOverYearsOf in one pass over the ISLCs
// and their memberships.
func (v *Communities) peopleOverYears(schools []uuid.UUID) []map[string]int {
	index := make(map[uuid.UUID]int, len(schools))
	for i, s := range schools {
		if _, ok := index[s]; !ok {
			index[s] = i
		}
	}
	// Each school's active members as (year, person), sorted, each pair
	// counted once. Years are numbered in the order first met, so that
	// the sort compares numbers.
	type active struct {
		year   int
		hi, lo uint64
	}
	sizes := make([]int, len(schools))
	for _, c := range v.C {
		if i, ok := index[c.School]; ok {
			sizes[i] += len(c.Members)
		}
	}
	all := make([][]active, len(schools))
	for i, n := range sizes {
		all[i] = make([]active, 0, n)
	}
	var labels []string
	number := map[string]int{}
	for _, c := range v.C {
		i, ok := index[c.School]
		if !ok {
			continue
		}
		for _, m := range c.Members {
			if !m.LeftOn.IsZero() {
				continue
			}
			y, ok := number[m.Year]
			if !ok {
				y = len(labels)
				labels = append(labels, m.Year)
				number[m.Year] = y
			}
			all[i] = append(all[i], active{y, binary.BigEndian.Uint64(m.Person[:8]), binary.BigEndian.Uint64(m.Person[8:])})
		}
	}
	out := make([]map[string]int, len(schools))
	for i, s := range schools {
		list := all[index[s]]
		slices.SortFunc(list, func(a, b active) int {
			return cmp.Or(cmp.Compare(a.year, b.year), cmp.Compare(a.hi, b.hi), cmp.Compare(a.lo, b.lo))
		})
		m := map[string]int{}
		for j, a := range list {
			if j == 0 || a != list[j-1] {
				m[labels[a.year]]++
			}
		}
		out[i] = m
	}
	return out
}
