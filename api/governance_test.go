package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// routesAuth maps fixed tokens to principals (the routes' tests do not
// depend on the token store).
type routesAuth map[string]Principal

func (a routesAuth) Authenticate(_ context.Context, tok string) (Principal, error) {
	p, ok := a[tok]
	if !ok {
		return Principal{}, errors.New("unknown token")
	}
	return p, nil
}

// routesWorld is an API over an in-memory ledger with tokens of our own.
type routesWorld struct {
	t    testing.TB
	l    *ledger.Ledger
	h    http.Handler
	auth routesAuth
}

func newRoutesWorld(t testing.TB) *routesWorld {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, ledger.Config{NoTransparency: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	auth := routesAuth{"admin": {Role: RoleAdmin}}
	return &routesWorld{t: t, l: l, auth: auth,
		h: New(l, Options{Auth: auth, Logger: slog.New(slog.DiscardHandler)})}
}

// token adds a token for p and returns it.
func (w *routesWorld) token(name string, p Principal) string {
	w.auth[name] = p
	return name
}

type routesResp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (w *routesWorld) do(token, method, path string, body any, header ...string) routesResp {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, req)
	return routesResp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// ok runs a command that must succeed (201) and returns its result.
func (w *routesWorld) ok(token, path string, body any, header ...string) CommandResult {
	w.t.Helper()
	r := w.do(token, http.MethodPost, path, body, header...)
	if r.Status != http.StatusCreated {
		w.t.Fatalf("POST %s: status %d, want 201: %s", path, r.Status, r.Body)
	}
	var out CommandResult
	if err := json.Unmarshal(r.Body, &out); err != nil {
		w.t.Fatalf("POST %s: %v", path, err)
	}
	return out
}

// refused runs a command that must be refused with status, checks it
// answered problem+json and wrote nothing, and returns the problem.
func (w *routesWorld) refused(token, path string, body any, status int, header ...string) Problem {
	w.t.Helper()
	before := w.head()
	r := w.do(token, http.MethodPost, path, body, header...)
	if r.Status != status {
		w.t.Fatalf("POST %s: status %d, want %d: %s", path, r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		w.t.Fatalf("POST %s: Content-Type %q, want application/problem+json", path, ct)
	}
	var p Problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		w.t.Fatalf("POST %s: problem: %v", path, err)
	}
	if after := w.head(); after != before {
		w.t.Fatalf("POST %s was refused but the head moved from %d to %d", path, before, after)
	}
	return p
}

func (w *routesWorld) head() uint64 {
	w.t.Helper()
	h, err := w.l.Store.Head(context.Background())
	if err != nil {
		w.t.Fatalf("head: %v", err)
	}
	return h
}

// get reads path (200 expected) into the envelope, data decoded into v.
func (w *routesWorld) get(token, path string, v any) (Reading, routesResp) {
	w.t.Helper()
	r := w.do(token, http.MethodGet, path, nil)
	if r.Status != http.StatusOK {
		w.t.Fatalf("GET %s: status %d: %s", path, r.Status, r.Body)
	}
	var env struct {
		Reading
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		w.t.Fatalf("GET %s: %v", path, err)
	}
	if v != nil {
		if err := json.Unmarshal(env.Data, v); err != nil {
			w.t.Fatalf("GET %s: data: %v", path, err)
		}
	}
	return env.Reading, r
}

// schoolYear is what a walk through a school year sets up.
type schoolYear struct {
	year                        string
	schoolA, schoolB            uuid.UUID
	director, s1, s2, s3, sb    uuid.UUID
	c1, c2                      uuid.UUID
	tDirector, tS1, tS2, tS3    string
	tB                          string
	election, proposal          uuid.UUID
	partnership, resource, loan uuid.UUID
}

// TestWalkThroughASchoolYear registers a school, its staff and ISLCs,
// elects a chair, takes a proposal to a decision and lends a resource
// between two schools, all over HTTP, then reads it back.
func TestWalkThroughASchoolYear(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)

	// Reads return what was done.
	var school struct {
		Name     string `json:"name"`
		Director *struct {
			ID uuid.UUID `json:"id"`
		} `json:"director"`
		Staff int `json:"staff"`
	}
	rd, resp := w.get("admin", "/v1/schools/"+y.schoolA.String(), &school)
	if school.Name != "North School" || school.Director == nil || school.Director.ID != y.director || school.Staff != 4 {
		t.Errorf("school = %+v, want North School with its Director and 4 staff", school)
	}
	if rd.Reading != ReadingLive || rd.Position != w.head() {
		t.Errorf("reading = %q at %d, want live at the head %d", rd.Reading, rd.Position, w.head())
	}
	if resp.Header.Get("ETag") == "" {
		t.Errorf("a live item read has no ETag")
	}

	var comm struct {
		Chair *struct {
			ID   uuid.UUID `json:"id"`
			Name string    `json:"name"`
		} `json:"chair"`
	}
	w.get("admin", "/v1/communities/"+y.c1.String(), &comm)
	if comm.Chair == nil || comm.Chair.ID != y.s1 || comm.Chair.Name != "Ada Staff" {
		t.Errorf("ISLC chair = %+v, want Ada Staff (%s)", comm.Chair, y.s1)
	}

	var el struct {
		Status  string `json:"status"`
		Elected *struct {
			ID uuid.UUID `json:"id"`
		} `json:"elected"`
	}
	w.get(y.tS2, "/v1/elections/"+y.election.String(), &el)
	if el.Status != governance.StatusClosed || el.Elected == nil || el.Elected.ID != y.s1 {
		t.Errorf("election = %+v, want closed electing %s", el, y.s1)
	}

	var prop struct {
		Status    string `json:"status"`
		Decisions []struct {
			Outcome string `json:"outcome"`
			Aligned bool   `json:"aligned"`
		} `json:"decisions"`
	}
	w.get(y.tS2, "/v1/proposals/"+y.proposal.String(), &prop)
	if prop.Status != governance.StatusApproved || len(prop.Decisions) != 1 || !prop.Decisions[0].Aligned {
		t.Errorf("proposal = %+v, want approved with one aligned decision", prop)
	}

	var team struct {
		Members []struct {
			ID uuid.UUID `json:"id"`
		} `json:"members"`
	}
	w.get("admin", "/v1/schools/"+y.schoolA.String()+"/leadership-team?year="+y.year, &team)
	if len(team.Members) != 2 || team.Members[0].ID != y.director || team.Members[1].ID != y.s1 {
		t.Errorf("Leadership Team = %+v, want the Director then %s", team.Members, y.s1)
	}

	var unassigned []struct {
		Person struct {
			ID uuid.UUID `json:"id"`
		} `json:"person"`
	}
	w.get("admin", "/v1/schools/"+y.schoolA.String()+"/unassigned-staff?year="+y.year, &unassigned)
	if len(unassigned) != 1 || unassigned[0].Person.ID != y.director {
		t.Errorf("unassigned = %+v, want only the Director", unassigned)
	}

	var loan struct {
		Status   string `json:"status"`
		Borrower struct {
			ID uuid.UUID `json:"id"`
		} `json:"borrower"`
	}
	w.get(y.tB, "/v1/loans/"+y.loan.String(), &loan)
	if loan.Status != "approved" || loan.Borrower.ID != y.schoolB {
		t.Errorf("loan = %+v, want approved to school B", loan)
	}
	var loans []struct {
		LoanID uuid.UUID `json:"loan_id"`
	}
	w.get("admin", "/v1/loans?partnership="+y.partnership.String(), &loans)
	if len(loans) != 1 || loans[0].LoanID != y.loan {
		t.Errorf("loans = %+v, want the one loan", loans)
	}
	var overdue []json.RawMessage
	w.get("admin", "/v1/loans?overdue=true", &overdue)
	if len(overdue) != 0 {
		t.Errorf("overdue loans = %d, want 0", len(overdue))
	}
}

// TestReadsAsOfAPastPosition reads a proposal as known before it was
// decided, in the one envelope every read uses.
func TestReadsAsOfAPastPosition(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	var before uint64
	var prop struct {
		Status string `json:"status"`
	}
	// Find the decision's position from the proposal's decision trail.
	var full struct {
		Submissions []json.RawMessage `json:"submissions"`
	}
	w.get("admin", "/v1/proposals/"+y.proposal.String(), &full)
	recs, err := w.l.Store.ReadStream(context.Background(), governance.ProposalStream(y.proposal), 0, 0, 0)
	if err != nil || len(recs) < 2 {
		t.Fatalf("proposal stream: %v (%d events)", err, len(recs))
	}
	before = recs[len(recs)-1].Position - 1 // just before the decision
	rd, resp := w.get("admin", fmt.Sprintf("/v1/proposals/%s?as_of=%d", y.proposal, before), &prop)
	if prop.Status != governance.StatusSubmitted {
		t.Errorf("status as of %d = %q, want submitted", before, prop.Status)
	}
	if rd.Reading != ReadingKnownThen || rd.Position != before || rd.AsOf != fmt.Sprint(before) {
		t.Errorf("envelope = %+v, want as known then at %d", rd, before)
	}
	if resp.Header.Get("ETag") != "" {
		t.Errorf("a read in the past has ETag %q; only live reads carry one", resp.Header.Get("ETag"))
	}
	rd, _ = w.get("admin", "/v1/proposals/"+y.proposal.String()+"?reading=corrected", &prop)
	if rd.Reading != ReadingCorrected || prop.Status != governance.StatusApproved {
		t.Errorf("corrected reading = %q, status %q; want as corrected now, approved", rd.Reading, prop.Status)
	}
	if r := w.do("admin", http.MethodGet, "/v1/proposals/"+y.proposal.String()+"?as_of=999999", nil); r.Status != http.StatusBadRequest {
		t.Errorf("as_of beyond the head: status %d, want 400: %s", r.Status, r.Body)
	}
}

// TestIfMatch: a stale If-Match is refused with 412 and writes nothing; the
// ETag of a live read is accepted.
func TestIfMatch(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	path := "/v1/schools/" + y.schoolA.String()
	_, resp := w.get("admin", path, nil)
	tag := resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag on the school")
	}
	seg := map[string]any{"name": "Wellbeing"}
	w.refused("admin", path+"/segments", seg, http.StatusPreconditionFailed, "If-Match", `"0"`)
	res := w.ok("admin", path+"/segments", seg, "If-Match", tag)
	if got, want := etag(res.Revision), tag; got == want {
		t.Errorf("revision after the command = %s, still %s", got, want)
	}
	// The same ETag is now stale.
	w.refused("admin", path+"/segments", map[string]any{"name": "Outdoors"}, http.StatusPreconditionFailed, "If-Match", tag)
}

// TestRejectionsAreProblemsWithTheRule: domain rejections come back as
// problem+json naming the rule, and the store is unchanged.
func TestRejectionsAreProblemsWithTheRule(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	// The election is closed: voting again breaks "voting is not open".
	p := w.refused(y.tS2, "/v1/elections/"+y.election.String()+"/votes", map[string]any{"candidate_id": y.s1}, http.StatusConflict)
	if p.Code != "election-not-open" || p.Rule == "" {
		t.Errorf("problem = %+v, want the rule election-not-open stated", p)
	}
	// Approving an approved proposal.
	p = w.refused(y.tDirector, "/v1/proposals/"+y.proposal.String()+"/decision",
		map[string]any{"outcome": "approve", "reason": "again", "aligned": true, "alignment_note": "fine"}, http.StatusConflict)
	if p.Code != "proposal-not-submitted" {
		t.Errorf("problem = %+v, want proposal-not-submitted", p)
	}
	p = w.refused(y.tDirector, "/v1/proposals/"+y.proposal.String()+"/decision",
		map[string]any{"outcome": "maybe"}, http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "outcome" {
		t.Errorf("problem = %+v, want the field outcome", p)
	}
	// An id in the body that differs from the path's.
	p = w.refused("admin", "/v1/schools/"+y.schoolA.String()+"/years",
		map[string]any{"school_id": y.schoolB, "year": "2030-31"}, http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "school_id" {
		t.Errorf("problem = %+v, want the field school_id", p)
	}
	// Unknown election.
	w.refused(y.tS1, "/v1/elections/"+uuid.NewString()+"/voting", nil, http.StatusNotFound)
	// Malformed id.
	w.refused(y.tS1, "/v1/elections/not-a-uuid/voting", nil, http.StatusBadRequest)
}

// TestScope: staff of another ISLC may not act in it, a school may not
// approve another school's loan, governors never write.
func TestScope(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)

	// S3 is in C2, not C1.
	election2 := uuid.New()
	w.refused(y.tS3, "/v1/communities/"+y.c1.String()+"/elections", map[string]any{"election_id": election2, "year": y.year}, http.StatusForbidden)
	w.refused(y.tS3, "/v1/communities/"+y.c1.String()+"/confidence-votes", map[string]any{"year": y.year}, http.StatusForbidden)
	w.refused(y.tS3, "/v1/proposals", map[string]any{"community_id": y.c1, "year": y.year, "title": "x", "body": "y", "expected_impact": "z"}, http.StatusForbidden)
	// Staff join only themselves.
	w.refused(y.tS3, "/v1/communities/"+y.c2.String()+"/members", map[string]any{"person_id": y.s2, "year": y.year, "basis": []string{"interest"}}, http.StatusForbidden)
	// S2 is a member of C1 but not its chair: cannot submit.
	draft := uuid.New()
	w.ok(y.tS2, "/v1/proposals", map[string]any{"proposal_id": draft, "community_id": y.c1, "year": y.year, "title": "Reading buddies", "body": "Pair year 7 and year 12 readers.", "expected_impact": "Reading ages up."})
	w.refused(y.tS2, "/v1/proposals/"+draft.String()+"/submit", nil, http.StatusForbidden)
	w.ok(y.tS1, "/v1/proposals/"+draft.String()+"/submit", nil)
	// A staff member of school B acting on school A's things.
	w.refused(y.tB, "/v1/schools/"+y.schoolA.String()+"/segments", map[string]any{"name": "x"}, http.StatusForbidden)

	// A second loan, requested by B: B may not approve it (it is A's resource).
	loan2 := uuid.New()
	start := time.Now().UTC().AddDate(0, 0, 20).Truncate(24 * time.Hour)
	w.ok(y.tB, "/v1/resources/"+y.resource.String()+"/loans", map[string]any{"loan_id": loan2, "borrower_school_id": y.schoolB,
		"start": start, "end": start.Add(3 * time.Hour), "purpose": "Year 10 practicals"})
	p := w.refused(y.tB, "/v1/loans/"+loan2.String()+"/approve", nil, http.StatusForbidden)
	if !strings.Contains(p.Detail, "owns") {
		t.Errorf("problem = %+v, want it to say only the owning school may approve", p)
	}
	w.refused(y.tB, "/v1/loans/"+loan2.String()+"/decline", nil, http.StatusForbidden)
	// B may cancel its own request (naming the resource: no lookup).
	w.refused(y.tB, "/v1/loans/"+loan2.String()+"/cancel", map[string]any{"resource_id": uuid.New()}, http.StatusNotFound)
	w.ok(y.tB, "/v1/loans/"+loan2.String()+"/cancel", map[string]any{"resource_id": y.resource})

	// Governors and auditors never write (the route table refuses them).
	gov := w.token("governor", Principal{Role: RoleGovernor, SchoolID: y.schoolA})
	w.refused(gov, "/v1/communities/"+y.c1.String()+"/elections", map[string]any{"year": y.year}, http.StatusForbidden)
	// A governor of school B reads nothing of school A.
	govB := w.token("governor-b", Principal{Role: RoleGovernor, SchoolID: y.schoolB})
	if r := w.do(govB, http.MethodGet, "/v1/schools/"+y.schoolA.String(), nil); r.Status != http.StatusForbidden {
		t.Errorf("a governor of B reading school A: status %d, want 403", r.Status)
	}
	if r := w.do(gov, http.MethodGet, "/v1/schools/"+y.schoolA.String(), nil); r.Status != http.StatusOK {
		t.Errorf("a governor of A reading school A: status %d, want 200", r.Status)
	}
}

// walkSchoolYear does the school year through the API and returns its ids.
func walkSchoolYear(t testing.TB, w *routesWorld) schoolYear {
	t.Helper()
	now := time.Now().UTC()
	y := schoolYear{year: partnership.AcademicYearOf(now),
		schoolA: uuid.New(), schoolB: uuid.New(), director: uuid.New(), s1: uuid.New(), s2: uuid.New(), s3: uuid.New(), sb: uuid.New(),
		election: uuid.New(), proposal: uuid.New(), partnership: uuid.New(), resource: uuid.New(), loan: uuid.New()}
	segs := governance.DefaultSegmentNames
	y.c1 = governance.CommunityID(y.schoolA, governance.DefaultSegmentID(y.schoolA, segs[0]))
	y.c2 = governance.CommunityID(y.schoolA, governance.DefaultSegmentID(y.schoolA, segs[1]))

	w.ok("admin", "/v1/schools", map[string]any{"school_id": y.schoolA, "name": "North School", "mission": "Everyone a learner."})
	w.ok("admin", "/v1/schools", map[string]any{"school_id": y.schoolB, "name": "South School"})
	w.ok("admin", "/v1/schools/"+y.schoolA.String()+"/years", map[string]any{"year": y.year})
	w.ok("admin", "/v1/schools/"+y.schoolB.String()+"/years", map[string]any{"year": y.year})
	for id, name := range map[uuid.UUID]string{y.director: "Dee Director", y.s1: "Ada Staff", y.s2: "Ben Staff", y.s3: "Cy Staff"} {
		w.ok("admin", "/v1/people/staff", map[string]any{"person_id": id, "school_id": y.schoolA, "kind": "educator", "name": name})
	}
	w.ok("admin", "/v1/people/staff", map[string]any{"person_id": y.sb, "school_id": y.schoolB, "kind": "educator", "name": "Sol South"})
	w.ok("admin", "/v1/schools/"+y.schoolA.String()+"/director", map[string]any{"director_id": y.director})

	y.tDirector = w.token("director", Principal{PersonID: y.director, Role: RoleDirector, SchoolID: y.schoolA})
	y.tS1 = w.token("s1", Principal{PersonID: y.s1, Role: RoleStaff, SchoolID: y.schoolA})
	y.tS2 = w.token("s2", Principal{PersonID: y.s2, Role: RoleStaff, SchoolID: y.schoolA})
	y.tS3 = w.token("s3", Principal{PersonID: y.s3, Role: RoleStaff, SchoolID: y.schoolA})
	y.tB = w.token("sb", Principal{PersonID: y.sb, Role: RoleStaff, SchoolID: y.schoolB})

	w.ok(y.tDirector, "/v1/communities", map[string]any{"school_id": y.schoolA, "segment_id": governance.DefaultSegmentID(y.schoolA, segs[0])})
	w.ok(y.tDirector, "/v1/communities", map[string]any{"school_id": y.schoolA, "segment_id": governance.DefaultSegmentID(y.schoolA, segs[1])})
	for _, m := range []struct {
		tok  string
		who  uuid.UUID
		comm uuid.UUID
	}{{y.tS1, y.s1, y.c1}, {y.tS2, y.s2, y.c1}, {y.tS3, y.s3, y.c2}} {
		w.ok(m.tok, "/v1/communities/"+m.comm.String()+"/members", map[string]any{"person_id": m.who, "year": y.year, "basis": []string{"interest"}})
	}

	// An election of C1's chair, run by its members while it has none.
	w.ok(y.tS1, "/v1/communities/"+y.c1.String()+"/elections", map[string]any{"election_id": y.election, "year": y.year})
	el := "/v1/elections/" + y.election.String()
	w.ok(y.tS2, el+"/nominations", map[string]any{"nominee_id": y.s1})
	w.ok(y.tS1, el+"/nominations/"+y.s1.String()+"/accept", nil)
	w.ok(y.tS1, el+"/voting", nil)
	w.ok(y.tS1, el+"/votes", map[string]any{"candidate_id": y.s1})
	w.ok(y.tS2, el+"/votes", map[string]any{"candidate_id": y.s1})
	p := w.refused(y.tS2, el+"/votes", map[string]any{"candidate_id": y.s1}, http.StatusConflict)
	if p.Code != "already-voted" || p.Rule == "" {
		t.Errorf("voting twice: problem %+v, want the rule already-voted", p)
	}
	// S3 is not in C1: refused before the domain is asked.
	w.refused(y.tS3, el+"/votes", map[string]any{"candidate_id": y.s1}, http.StatusForbidden)
	w.ok(y.tS1, el+"/close", nil)

	// A proposal to a decision.
	w.ok(y.tS2, "/v1/proposals", map[string]any{"proposal_id": y.proposal, "community_id": y.c1, "year": y.year,
		"title": "Lesson study", "body": "Termly lesson study cycles in every department.", "expected_impact": "Better questioning."})
	y.tS1 = w.token("s1-chair", Principal{PersonID: y.s1, Role: RoleChair, SchoolID: y.schoolA})
	w.ok(y.tS1, "/v1/proposals/"+y.proposal.String()+"/submit", nil)
	w.ok(y.tDirector, "/v1/proposals/"+y.proposal.String()+"/decision",
		map[string]any{"outcome": "approve", "reason": "Well argued.", "aligned": true, "alignment_note": "Serves the mission."})

	// A loan between the two schools of a partnership.
	w.ok("admin", "/v1/partnerships", map[string]any{"partnership_id": y.partnership, "name": "River Trust", "kind": "trust"})
	w.ok("admin", "/v1/partnerships/"+y.partnership.String()+"/schools", map[string]any{"school_id": y.schoolA})
	w.ok("admin", "/v1/partnerships/"+y.partnership.String()+"/schools", map[string]any{"school_id": y.schoolB})
	w.ok(y.tS1, "/v1/resources", map[string]any{"resource_id": y.resource, "partnership_id": y.partnership, "owner_school_id": y.schoolA,
		"kind": "science_lab", "name": "Physics lab", "capacity": 30, "hourly_value_pence": 5000, "offer": true})
	start := now.AddDate(0, 0, 10).Truncate(24 * time.Hour)
	w.ok(y.tB, "/v1/resources/"+y.resource.String()+"/loans", map[string]any{"loan_id": y.loan, "borrower_school_id": y.schoolB,
		"start": start, "end": start.Add(2 * time.Hour), "purpose": "Year 11 required practicals"})
	w.refused(y.tB, "/v1/loans/"+y.loan.String()+"/approve", nil, http.StatusForbidden)
	w.ok(y.tS1, "/v1/loans/"+y.loan.String()+"/approve", nil)
	return y
}

// TestReadsReflectAcknowledgedCommands: with the projections following the
// log in the background (as serve runs them), a read made after a command
// was acknowledged reflects it.
func TestReadsReflectAcknowledgedCommands(t *testing.T) {
	w := newRoutesWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.l.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	for i := range 20 {
		id := uuid.New()
		w.ok("admin", "/v1/schools", map[string]any{"school_id": id, "name": fmt.Sprintf("School %02d", i)})
		var sc struct {
			Name string `json:"name"`
		}
		rd, _ := w.get("admin", "/v1/schools/"+id.String(), &sc)
		if want := fmt.Sprintf("School %02d", i); sc.Name != want || rd.Position != w.head() {
			t.Fatalf("read after the command: %q at %d, want %q at %d", sc.Name, rd.Position, want, w.head())
		}
	}
}

// TestCorrections: an event is corrected by naming it; the proposal then
// reads as changed after its decision, and a director of another school
// may not correct it.
func TestCorrections(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	stream := governance.ProposalStream(y.proposal)
	recs, err := w.l.Store.ReadStream(context.Background(), stream, 0, 0, 0)
	if err != nil || len(recs) == 0 {
		t.Fatalf("read %s: %v", stream, err)
	}
	drafted := recs[0]
	var data map[string]any
	if err := json.Unmarshal(drafted.Data, &data); err != nil {
		t.Fatalf("drafted: %v", err)
	}
	data["title"] = "Lesson study in every department"
	body := map[string]any{"stream": stream, "event_id": drafted.ID, "replacement": data, "reason": "The title was cut short."}

	other := w.token("director-other", Principal{PersonID: uuid.New(), Role: RoleDirector, SchoolID: y.schoolB})
	w.refused(other, "/v1/corrections", body, http.StatusForbidden)
	lead := w.token("lead", Principal{PersonID: uuid.New(), Role: RolePartnershipLead})
	w.refused(lead, "/v1/corrections", body, http.StatusForbidden)
	bad := map[string]any{"stream": stream, "event_id": drafted.ID, "replacement": map[string]any{"no_such_field": 1}, "reason": "x"}
	if p := w.refused(y.tDirector, "/v1/corrections", bad, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != "replacement" {
		t.Errorf("problem = %+v, want the field replacement", p)
	}
	w.refused(y.tDirector, "/v1/corrections", map[string]any{"stream": stream, "event_id": uuid.New(), "reason": "x"}, http.StatusNotFound)
	w.refused(y.tDirector, "/v1/corrections", map[string]any{"stream": "nonsense", "event_id": drafted.ID, "reason": "x"}, http.StatusUnprocessableEntity)

	w.ok(y.tDirector, "/v1/corrections", body)
	var prop struct {
		Title                string            `json:"title"`
		ChangedAfterDecision bool              `json:"changed_after_decision"`
		Corrections          []json.RawMessage `json:"corrections"`
	}
	w.get("admin", "/v1/proposals/"+y.proposal.String()+"?reading=corrected", &prop)
	if prop.Title != "Lesson study in every department" || !prop.ChangedAfterDecision || len(prop.Corrections) != 1 {
		t.Errorf("corrected proposal = %+v, want the new title, one correction, changed after decision", prop)
	}
}
