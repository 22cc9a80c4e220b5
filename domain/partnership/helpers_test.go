package partnership_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

// world is a partnership of three schools, A, B and C, each with two
// staff, formed and joined as history.
type world struct {
	*domaintest.Fixture
	t   testing.TB
	svc *partnership.Service
	dir *partnership.MemoryDirectory

	pid              uuid.UUID
	a, b, c          uuid.UUID // member schools
	outsider         uuid.UUID // a registered school that is not a member
	a1, a2, b1, b2   uuid.UUID // staff of A and B
	c1, c2, stranger uuid.UUID // staff of C; staff of the outsider
}

func newWorld(t testing.TB) *world {
	t.Helper()
	f := domaintest.New(t)
	w := &world{Fixture: f, t: t, dir: &partnership.MemoryDirectory{}}
	w.svc = partnership.NewService(f.Handler, w.dir)
	id := domaintest.ID
	w.pid, w.a, w.b, w.c, w.outsider = id(), id(), id(), id(), id()
	w.a1, w.a2, w.b1, w.b2, w.c1, w.c2, w.stranger = id(), id(), id(), id(), id(), id(), id()
	for p, s := range map[uuid.UUID]uuid.UUID{w.a1: w.a, w.a2: w.a, w.b1: w.b, w.b2: w.b, w.c1: w.c, w.c2: w.c, w.stranger: w.outsider} {
		w.dir.AddStaff(p, s)
	}
	f.Given(partnership.PartnershipStream(w.pid),
		partnership.PartnershipFormed{PartnershipID: w.pid, Name: "Valleys Learning Partnership", Kind: partnership.KindCluster, FormedOn: day(2025, 7, 1)},
		partnership.SchoolJoinedPartnership{PartnershipID: w.pid, SchoolID: w.a, JoinedOn: day(2025, 7, 1)},
		partnership.SchoolJoinedPartnership{PartnershipID: w.pid, SchoolID: w.b, JoinedOn: day(2025, 7, 1)},
		partnership.SchoolJoinedPartnership{PartnershipID: w.pid, SchoolID: w.c, JoinedOn: day(2025, 7, 1)},
	)
	return w
}

// as returns the metadata of a staff member acting.
func as(person uuid.UUID) domain.Meta {
	return domain.Meta{ActorID: person.String(), ActorRole: domain.RoleStaff}
}

// lead is a partnership lead acting who is on no school's staff.
var lead = domain.Meta{ActorID: "00000000-0000-7000-8000-00000000001e", ActorRole: domain.RolePartnershipLead}

// zeroTime is the zero time, for commands that leave a day out.
var zeroTime time.Time

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func at(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

// ok fails the test unless the command succeeded, and marks the log as the
// baseline for the next ThenError.
func (w *world) ok(res domain.Result, err error) domain.Result {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("command failed: %v", err)
	}
	w.Mark()
	return res
}

// detailHas checks that a rejection's detail mentions every want.
func detailHas(t *testing.T, rej *domain.Rejection, want ...string) {
	t.Helper()
	if rej == nil {
		t.Fatal("no rejection")
	}
	for _, s := range want {
		if !strings.Contains(rej.Detail, s) {
			t.Errorf("detail %q does not mention %q", rej.Detail, s)
		}
	}
}

// none checks that a command succeeded and recorded nothing.
func (w *world) none(res domain.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("command failed: %v", err)
	}
	if len(res.Events) != 0 {
		w.t.Fatalf("recorded %d events, want none", len(res.Events))
	}
}

func (w *world) partnership() *partnership.Partnership {
	w.t.Helper()
	p, _, err := domain.Load(w.Ctx, w.Handler, partnership.PartnershipStream(w.pid), partnership.NewPartnership)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) resource(id uuid.UUID) *partnership.Resource {
	w.t.Helper()
	r, _, err := domain.Load(w.Ctx, w.Handler, partnership.ResourceStream(id), partnership.NewResource)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func TestCatalogue(t *testing.T) {
	domaintest.CheckCatalogue(t, partnership.Group, "../../docs/events.md")
}
