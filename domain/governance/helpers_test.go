package governance

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

const (
	year     = "2025-26"
	prevYear = "2024-25"
)

var (
	yearStart = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)
	yearEnd   = time.Date(2026, 8, 31, 0, 0, 0, 0, time.UTC)
)

// env is one test's world: a fixture, the service, and ids of what was
// given.
type env struct {
	*domaintest.Fixture
	t        *testing.T
	svc      *Service
	box      *MemoryBallotBox
	school   uuid.UUID
	segs     []Segment
	director uuid.UUID
	meta     domain.Meta
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f := domaintest.New(t)
	box := NewMemoryBallotBox()
	return &env{Fixture: f, t: t, svc: NewService(f.Handler, box), box: box, school: domaintest.ID(),
		meta: domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin}}
}

// givenSchool records a school with the default segments and the years
// 2024-25 and 2025-26 open.
func (e *env) givenSchool() *env {
	e.t.Helper()
	for _, n := range DefaultSegmentNames {
		e.segs = append(e.segs, Segment{ID: DefaultSegmentID(e.school, n), Name: n})
	}
	e.Given(SchoolStream(e.school),
		SchoolRegistered{SchoolID: e.school, Name: "Infinity School", Mission: "Everyone a learner, teacher and leader.", Segments: e.segs, YearStartMonth: 9, YearStartDay: 1},
		AcademicYearOpened{SchoolID: e.school, Year: prevYear, StartsOn: yearStart.AddDate(-1, 0, 0), EndsOn: yearEnd.AddDate(-1, 0, 0)},
		AcademicYearOpened{SchoolID: e.school, Year: year, StartsOn: yearStart, EndsOn: yearEnd})
	return e
}

// givenStaff registers n educators of the school.
func (e *env) givenStaff(n int) []uuid.UUID {
	e.t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = domaintest.ID()
		e.Given(PersonStream(ids[i]), StaffRegistered{PersonID: ids[i], SchoolID: e.school, Kind: StaffEducator,
			Personal: domain.PersonalData{Name: fmt.Sprintf("Staff member %d", i+1)}})
	}
	return ids
}

// givenDirector registers a staff member and appoints them Director.
func (e *env) givenDirector() uuid.UUID {
	e.t.Helper()
	e.director = e.givenStaff(1)[0]
	e.Given(SchoolStream(e.school), DirectorAppointed{SchoolID: e.school, DirectorID: e.director})
	return e.director
}

// givenCommunity establishes the ISLC of segment i.
func (e *env) givenCommunity(i int) uuid.UUID {
	e.t.Helper()
	id := CommunityID(e.school, e.segs[i].ID)
	e.Given(CommunityStream(id), CommunityEstablished{CommunityID: id, SchoolID: e.school, SegmentID: e.segs[i].ID, Name: e.segs[i].Name})
	return id
}

func (e *env) joined(c uuid.UUID, y string, p uuid.UUID) MemberJoined {
	start, end := yearStart, yearEnd
	if y == prevYear {
		start, end = start.AddDate(-1, 0, 0), end.AddDate(-1, 0, 0)
	}
	return MemberJoined{CommunityID: c, SchoolID: e.school, PersonID: p, Year: y, Basis: []string{BasisInterest}, EffectiveFrom: start, TermEndsOn: end}
}

// givenMembers records people as members of c for y.
func (e *env) givenMembers(c uuid.UUID, y string, people ...uuid.UUID) {
	e.t.Helper()
	for _, p := range people {
		e.Given(CommunityStream(c), e.joined(c, y, p))
	}
}

// givenChair records chair as the chair in office of c for y.
func (e *env) givenChair(c uuid.UUID, y string, chair uuid.UUID) uuid.UUID {
	e.t.Helper()
	el := domaintest.ID()
	e.Given(CommunityStream(c), ChairElected{CommunityID: c, SchoolID: e.school, SegmentID: e.segmentOf(c), Year: y, ChairID: chair, ElectionID: el})
	return el
}

func (e *env) segmentOf(c uuid.UUID) uuid.UUID {
	for _, g := range e.segs {
		if CommunityID(e.school, g.ID) == c {
			return g.ID
		}
	}
	return uuid.Nil
}

func (e *env) community(id uuid.UUID) *Community {
	e.t.Helper()
	c, _, err := domain.Load(e.Ctx, e.Handler, CommunityStream(id), NewCommunity)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) proposal(id uuid.UUID) *Proposal {
	e.t.Helper()
	p, _, err := domain.Load(e.Ctx, e.Handler, ProposalStream(id), NewProposal)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) person(id uuid.UUID) *Person {
	e.t.Helper()
	p, _, err := domain.Load(e.Ctx, e.Handler, PersonStream(id), NewPerson)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) schoolAgg() *School {
	e.t.Helper()
	s, _, err := domain.Load(e.Ctx, e.Handler, SchoolStream(e.school), NewSchool)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// as returns the service meta of person acting in role.
// actorMeta returns the metadata of person acting, or fallback when
// person is zero.
func actorMeta(fallback domain.Meta, person uuid.UUID) domain.Meta {
	if person == uuid.Nil {
		return fallback
	}
	return as(person, domain.RoleStaff)
}

func as(person uuid.UUID, role string) domain.Meta {
	return domain.Meta{ActorID: person.String(), ActorRole: role}
}

func must(t *testing.T, _ domain.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
