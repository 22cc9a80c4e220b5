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
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// routesAuth maps fixed tokens to the actors they authenticate: the
// administrator and people the tests register in the ledger (the routes'
// tests do not depend on the token store). A token says only who calls;
// what they may do follows from the ledger.
type routesAuth map[string]app.Actor

func (a routesAuth) Authenticate(_ context.Context, tok string) (app.Actor, error) {
	p, ok := a[tok]
	if !ok {
		return app.Actor{}, errors.New("unknown token")
	}
	return p, nil
}

// routesWorld is an API over an in-memory ledger with tokens of our own.
type routesWorld struct {
	t    testing.TB
	l    *ledger.Ledger
	h    http.Handler
	auth routesAuth
	// now is the world's clock, the ledger's and the server's: every
	// business date is checked against it (not in the future, inside the
	// academic year a command names).
	now time.Time
}

// routesNow is the routes world's clock: a Monday of the autumn term of
// 2025-26, so that every date the tests derive from it (a week before,
// two months after) falls inside the academic year of the commands that
// name it, whatever the day the tests run.
var routesNow = time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)

func newRoutesWorld(t testing.TB) *routesWorld {
	t.Helper()
	ctx := context.Background()
	clock := func() time.Time { return routesNow }
	l, err := ledger.Open(ctx, ledger.Config{NoTransparency: true, Logger: slog.New(slog.DiscardHandler), Now: clock})
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	auth := routesAuth{"admin": app.Admin()}
	return &routesWorld{t: t, l: l, auth: auth, now: routesNow,
		h: New(l, Options{Auth: auth, Logger: slog.New(slog.DiscardHandler), Now: clock})}
}

// token adds a token for person and returns it.
func (w *routesWorld) token(name string, person uuid.UUID) string {
	w.auth[name] = app.Person(person)
	return name
}

// school registers a school over the API (the administrator) with its
// first Director, who opens year, and returns the school, the Director
// and the Director's token. The Director's staff record is made through
// the domain in the administrator's name: the API offers no way to
// register a school's first staff member (see
// TestNewSchoolGetsItsFirstDirectorOverHTTP); the appointment itself is
// the administrator's, over the API.
func (w *routesWorld) school(name, directorName, year string) (school, director uuid.UUID, tok string) {
	w.t.Helper()
	school, director = uuid.New(), uuid.New()
	w.ok("admin", "/v1/schools", map[string]any{"school_id": school, "name": name, "mission": "Everyone a learner."})
	_, err := w.l.Governance.RegisterStaff(context.Background(), adminMeta(), governance.RegisterStaff{PersonID: director, SchoolID: school,
		Kind: governance.StaffAdministrator, PersonDetails: governance.PersonDetails{Name: directorName}})
	if err != nil {
		w.t.Fatalf("register the Director of %s: %v", name, err)
	}
	w.ok("admin", "/v1/schools/"+school.String()+"/director", map[string]any{"director_id": director})
	tok = w.token("director "+name, director)
	w.ok(tok, "/v1/schools/"+school.String()+"/years", map[string]any{"year": year})
	return school, director, tok
}

// staff registers a staff member of school (its Director, over the API)
// and returns them and their token.
func (w *routesWorld) staff(directorTok string, school uuid.UUID, name string) (uuid.UUID, string) {
	w.t.Helper()
	id := uuid.New()
	res := w.ok(directorTok, "/v1/people/staff", map[string]any{"person_id": id, "school_id": school, "kind": "educator", "name": name})
	if res.Location != "/v1/people/"+id.String() {
		w.t.Fatalf("registering %s: location %q, want /v1/people/%s", name, res.Location, id)
	}
	return id, w.token(name, id)
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

// schoolYear is what a walk through a school year sets up: school A with
// its Director and staff S1 (elected chair of C1), S2 (member of C1) and
// S3 (member of C2); school B with its Director and staff SB; a
// partnership of A and B led by Lee (staff of B); an election, a proposal
// decided, a resource of A lent to B.
type schoolYear struct {
	year                        string
	schoolA, schoolB            uuid.UUID
	director, s1, s2, s3, sb    uuid.UUID
	directorB, lead             uuid.UUID
	c1, c2                      uuid.UUID
	tDirector, tS1, tS2, tS3    string
	tB, tDirectorB, tLead       string
	election, proposal          uuid.UUID
	partnership, resource, loan uuid.UUID
	gov, challenge              uuid.UUID // a governor of A and their challenge of the decision, answered
	tGov                        string
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
	rd, resp := w.get(y.tDirector, "/v1/schools/"+y.schoolA.String(), &school)
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
	w.get(y.tS3, "/v1/communities/"+y.c1.String(), &comm)
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

	type ref struct {
		ID uuid.UUID `json:"id"`
	}
	var prop struct {
		Status    string `json:"status"`
		Decisions []struct {
			Outcome   string `json:"outcome"`
			Aligned   bool   `json:"aligned"`
			DecidedBy ref    `json:"decided_by"`
		} `json:"decisions"`
		Rounds []struct {
			Status         string `json:"status"`
			Team           []ref  `json:"team"`
			ProposingChair *ref   `json:"proposing_chair"`
			Votes          []struct {
				Voter   ref    `json:"voter"`
				Vote    string `json:"vote"`
				Aligned bool   `json:"aligned"`
				Lapsed  bool   `json:"lapsed"`
			} `json:"votes"`
			QuorumRequired int    `json:"quorum_required"`
			Turnout        int    `json:"turnout"`
			Approve        int    `json:"approve"`
			SendBack       int    `json:"send_back"`
			Outcome        string `json:"outcome"`
			Director       *ref   `json:"director"`
		} `json:"team_rounds"`
	}
	w.get(y.tS2, "/v1/proposals/"+y.proposal.String(), &prop)
	if prop.Status != governance.StatusApproved || len(prop.Decisions) != 1 || !prop.Decisions[0].Aligned ||
		prop.Decisions[0].Outcome != governance.StatusApproved || prop.Decisions[0].DecidedBy.ID != y.director {
		t.Errorf("proposal = %+v, want approved with one aligned decision, signed off by the Director", prop)
	}
	// The Team's round: the Director and S1 on the Team, S1 voting as the
	// proposing chair; both voted to approve, the quorum of two was met,
	// and the Director signed the outcome off.
	if len(prop.Rounds) != 1 {
		t.Fatalf("the proposal has %d rounds of the Team's votes, want 1: %+v", len(prop.Rounds), prop.Rounds)
	}
	r := prop.Rounds[0]
	if r.Status != governance.ResolutionStatusSignedOff || r.Director == nil || r.Director.ID != y.director ||
		r.Outcome != governance.VoteApprove || r.QuorumRequired != 2 || r.Turnout != 2 || r.Approve != 2 || r.SendBack != 0 {
		t.Errorf("the Team's round = %+v, want signed off by the Director: approve, 2 of 2 voting, a quorum of 2", r)
	}
	if len(r.Team) != 2 || r.Team[0].ID != y.director || r.Team[1].ID != y.s1 || r.ProposingChair == nil || r.ProposingChair.ID != y.s1 {
		t.Errorf("the round's Team = %+v, proposing chair %+v; want the Director and S1, S1 proposing", r.Team, r.ProposingChair)
	}
	if len(r.Votes) != 2 || r.Votes[0].Voter.ID != y.s1 || r.Votes[1].Voter.ID != y.director {
		t.Errorf("the round's votes = %+v, want S1's then the Director's", r.Votes)
	}
	for _, v := range r.Votes {
		if v.Vote != governance.VoteApprove || !v.Aligned || v.Lapsed {
			t.Errorf("vote %+v, want an aligned vote to approve that counted", v)
		}
	}

	var team struct {
		Members []struct {
			ID uuid.UUID `json:"id"`
		} `json:"members"`
	}
	w.get(y.tDirector, "/v1/schools/"+y.schoolA.String()+"/leadership-team?year="+y.year, &team)
	if len(team.Members) != 2 || team.Members[0].ID != y.director || team.Members[1].ID != y.s1 {
		t.Errorf("Leadership Team = %+v, want the Director then %s", team.Members, y.s1)
	}

	// The governor reads their challenge back, answered on time by the
	// Director; the school's open challenges are none.
	var ch struct {
		Governor ref `json:"governor"`
		Subject  struct {
			Kind   string    `json:"kind"`
			Within uuid.UUID `json:"within"`
			Name   string    `json:"name"`
		} `json:"subject"`
		Answered bool   `json:"answered"`
		Director *ref   `json:"director"`
		Answer   string `json:"answer"`
		Late     bool   `json:"late"`
	}
	w.get(y.tGov, "/v1/challenges/"+y.challenge.String(), &ch)
	if ch.Governor.ID != y.gov || ch.Subject.Kind != governance.SubjectDecision || ch.Subject.Within != y.proposal || ch.Subject.Name != "Lesson study" ||
		!ch.Answered || ch.Director == nil || ch.Director.ID != y.director || ch.Answer == "" || ch.Late {
		t.Errorf("challenge = %+v, want the governor's challenge of the decision on Lesson study, answered on time by the Director", ch)
	}
	var listed []struct {
		ID uuid.UUID `json:"id"`
	}
	w.get(y.tDirector, "/v1/challenges?school="+y.schoolA.String()+"&status=open", &listed)
	if len(listed) != 0 {
		t.Errorf("open challenges = %+v, want none", listed)
	}
	w.get(y.tGov, "/v1/challenges?school="+y.schoolA.String()+"&status=answered", &listed)
	if len(listed) != 1 || listed[0].ID != y.challenge {
		t.Errorf("answered challenges = %+v, want %s", listed, y.challenge)
	}
	// B's governors and staff read none of A's challenges.
	if r := w.do(y.tB, http.MethodGet, "/v1/challenges/"+y.challenge.String(), nil); r.Status != http.StatusForbidden {
		t.Errorf("B's staff reading A's challenge: status %d, want 403", r.Status)
	}

	// Every staff member is in an ISLC but the Director, who chairs the
	// Leadership Team over them all and is not listed, and a newcomer.
	newcomer, _ := w.staff(y.tDirector, y.schoolA, "Dot Newcomer")
	var unassigned []struct {
		Person struct {
			ID uuid.UUID `json:"id"`
		} `json:"person"`
	}
	w.get(y.tDirector, "/v1/schools/"+y.schoolA.String()+"/unassigned-staff?year="+y.year, &unassigned)
	if len(unassigned) != 1 || unassigned[0].Person.ID != newcomer {
		t.Errorf("unassigned = %+v, want only the newcomer %s (not the Director %s)", unassigned, newcomer, y.director)
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
	w.get(y.tDirector, "/v1/loans?partnership="+y.partnership.String(), &loans)
	if len(loans) != 1 || loans[0].LoanID != y.loan {
		t.Errorf("loans = %+v, want the one loan", loans)
	}
	var overdue []json.RawMessage
	w.get(y.tLead, "/v1/loans?overdue=true", &overdue)
	if len(overdue) != 0 {
		t.Errorf("overdue loans = %d, want 0", len(overdue))
	}
	// The administrator registered the schools but reads none of their
	// records.
	if r := w.do("admin", http.MethodGet, "/v1/schools/"+y.schoolA.String(), nil); r.Status != http.StatusForbidden || problemCode(r.Body) != "not-for-administrators" {
		t.Errorf("the administrator reading school A: status %d %s, want 403 not-for-administrators", r.Status, r.Body)
	}
}

// eventTypes returns the types of the events a command recorded, in order.
func eventTypes(res CommandResult) []string {
	out := []string{}
	for _, e := range res.Events {
		out = append(out, e.Type)
	}
	return out
}

// problemCode returns the code of a problem body ("" for none).
func problemCode(body []byte) string {
	var p Problem
	_ = json.Unmarshal(body, &p)
	return p.Code
}

// TestNewSchoolGetsItsFirstDirectorOverHTTP: the administrator registers a
// school and appoints its first Director (docs/api.md: "appoints a new
// school's first Director"), who then runs the school, all over the API.
// The Director must be a staff member of the school before the
// appointment, and only a Director registers staff; the administrator
// must be able to register the first one.
func TestNewSchoolGetsItsFirstDirectorOverHTTP(t *testing.T) {
	w := newRoutesWorld(t)
	school, director := uuid.New(), uuid.New()
	w.ok("admin", "/v1/schools", map[string]any{"school_id": school, "name": "New School"})
	w.ok("admin", "/v1/people/staff", map[string]any{"person_id": director, "school_id": school, "kind": "administrator", "name": "Nia New"})
	w.ok("admin", "/v1/schools/"+school.String()+"/director", map[string]any{"director_id": director})
	tok := w.token("new director", director)
	w.ok(tok, "/v1/schools/"+school.String()+"/years", map[string]any{"year": partnership.AcademicYearOf(w.now)})
	// Once the school has a Director, its staff are the Director's to
	// register.
	p := w.refused("admin", "/v1/people/staff", map[string]any{"school_id": school, "kind": "educator", "name": "Ola Other"}, http.StatusForbidden)
	if p.Code != "not-for-administrators" {
		t.Errorf("the administrator registering staff of a school with a Director: %+v, want not-for-administrators", p)
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
		Rounds []struct {
			Status string            `json:"status"`
			Votes  []json.RawMessage `json:"votes"`
		} `json:"team_rounds"`
	}
	// Find the sign-off's position from the proposal's stream: the
	// Director's sign-off records the round's closing first.
	recs, err := w.l.Store.ReadStream(context.Background(), governance.ProposalStream(y.proposal), 0, 0, 0)
	if err != nil || len(recs) < 2 {
		t.Fatalf("proposal stream: %v (%d events)", err, len(recs))
	}
	for _, r := range recs {
		if r.Type == "TeamVoteClosed" {
			before = r.Position - 1 // just before the sign-off
		}
	}
	if before == 0 {
		t.Fatalf("the proposal's stream has no TeamVoteClosed: %d events", len(recs))
	}
	rd, resp := w.get(y.tS2, fmt.Sprintf("/v1/proposals/%s?as_of=%d", y.proposal, before), &prop)
	if prop.Status != governance.StatusSubmitted || len(prop.Rounds) != 1 || prop.Rounds[0].Status != governance.ResolutionVoting || len(prop.Rounds[0].Votes) != 2 {
		t.Errorf("as of %d: %+v, want submitted, the Team's round open with both votes cast", before, prop)
	}
	if rd.Reading != ReadingKnownThen || rd.Position != before || rd.AsOf != fmt.Sprint(before) {
		t.Errorf("envelope = %+v, want as known then at %d", rd, before)
	}
	if resp.Header.Get("ETag") != "" {
		t.Errorf("a read in the past has ETag %q; only live reads carry one", resp.Header.Get("ETag"))
	}
	rd, _ = w.get(y.tS2, "/v1/proposals/"+y.proposal.String()+"?reading=corrected", &prop)
	if rd.Reading != ReadingCorrected || prop.Status != governance.StatusApproved {
		t.Errorf("corrected reading = %q, status %q; want as corrected now, approved", rd.Reading, prop.Status)
	}
	if r := w.do(y.tS2, http.MethodGet, "/v1/proposals/"+y.proposal.String()+"?as_of=999999", nil); r.Status != http.StatusBadRequest {
		t.Errorf("as_of beyond the head: status %d, want 400: %s", r.Status, r.Body)
	}
}

// TestIfMatch: a stale If-Match is refused with 412 and writes nothing; the
// ETag of a live read is accepted.
func TestIfMatch(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	path := "/v1/schools/" + y.schoolA.String()
	_, resp := w.get(y.tDirector, path, nil)
	tag := resp.Header.Get("ETag")
	if tag == "" {
		t.Fatal("no ETag on the school")
	}
	seg := map[string]any{"name": "Wellbeing"}
	w.refused(y.tDirector, path+"/segments", seg, http.StatusPreconditionFailed, "If-Match", `"0"`)
	res := w.ok(y.tDirector, path+"/segments", seg, "If-Match", tag)
	if got, want := etag(res.Revision), tag; got == want {
		t.Errorf("revision after the command = %s, still %s", got, want)
	}
	// The same ETag is now stale.
	w.refused(y.tDirector, path+"/segments", map[string]any{"name": "Outdoors"}, http.StatusPreconditionFailed, "If-Match", tag)
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
	// Voting on, or signing off, an approved proposal: the Team's round
	// is closed.
	prop := "/v1/proposals/" + y.proposal.String()
	p = w.refused(y.tDirector, prop+"/team-votes",
		map[string]any{"vote": "approve", "reason": "again", "aligned": true, "alignment_note": "fine"}, http.StatusConflict)
	if p.Code != "proposal-not-submitted" {
		t.Errorf("voting on an approved proposal: %+v, want proposal-not-submitted", p)
	}
	for _, path := range []string{prop + "/sign-off", prop + "/refer-back"} {
		if p = w.refused(y.tDirector, path, map[string]any{"reason": "again"}, http.StatusConflict); p.Code != "proposal-not-submitted" {
			t.Errorf("POST %s on an approved proposal: %+v, want proposal-not-submitted", path, p)
		}
	}
	// A vote is approve or send_back, with a reason and the check of
	// alignment; a sign-off says why.
	for _, c := range []struct {
		path, field string
		body        map[string]any
	}{
		{prop + "/team-votes", "vote", map[string]any{"vote": "maybe", "reason": "r", "aligned": true, "alignment_note": "n"}},
		{prop + "/team-votes", "reason", map[string]any{"vote": "approve", "aligned": true, "alignment_note": "n"}},
		{prop + "/team-votes", "aligned", map[string]any{"vote": "approve", "reason": "r", "alignment_note": "n"}},
		{prop + "/sign-off", "reason", map[string]any{}},
	} {
		p = w.refused(y.tDirector, c.path, c.body, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
			t.Errorf("POST %s %v: problem %+v, want the field %s", c.path, c.body, p, c.field)
		}
	}
	// An id in the body that differs from the path's.
	p = w.refused(y.tDirector, "/v1/schools/"+y.schoolA.String()+"/years",
		map[string]any{"school_id": y.schoolB, "year": "2030-31"}, http.StatusUnprocessableEntity)
	if len(p.Errors) != 1 || p.Errors[0].Field != "school_id" {
		t.Errorf("problem = %+v, want the field school_id", p)
	}
	// Unknown election.
	w.refused(y.tS1, "/v1/elections/"+uuid.NewString()+"/voting", nil, http.StatusNotFound)
	// Malformed id.
	w.refused(y.tS1, "/v1/elections/not-a-uuid/voting", nil, http.StatusBadRequest)
}

// TestBodiesNameNoActor: who acts is the authenticated caller, so a body
// naming a voter, a nominee answering, a caller, a drafter, a submitter or
// a decider is refused (422 naming the field) and nothing is written.
func TestBodiesNameNoActor(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	// A second election of C1, nominating S2, for the election's fields.
	election := uuid.New()
	w.ok(y.tS1, "/v1/communities/"+y.c1.String()+"/elections", map[string]any{"election_id": election, "year": y.year})
	el := "/v1/elections/" + election.String()
	w.ok(y.tS1, el+"/nominations", map[string]any{"nominee_id": y.s2})
	draft := uuid.New()
	w.ok(y.tS2, "/v1/proposals", map[string]any{"proposal_id": draft, "community_id": y.c1, "year": y.year,
		"title": "Quiet reading", "body": "Twenty minutes a day.", "expected_impact": "Calmer mornings."})
	due := w.now.AddDate(0, 0, 14)
	for _, c := range []struct {
		who, path, field string
		body             map[string]any
	}{
		{y.tS2, el + "/nomination/accept", "nominee_id", map[string]any{"nominee_id": y.s2}},
		{y.tS2, el + "/nomination/decline", "nominee_id", map[string]any{"nominee_id": y.s2}},
		{y.tS1, el + "/nominations", "nominated_by", map[string]any{"nominee_id": y.s1, "nominated_by": y.s2}},
		{y.tS2, "/v1/communities/" + y.c1.String() + "/confidence-votes", "called_by", map[string]any{"year": y.year, "called_by": y.s2}},
		{y.tS2, "/v1/proposals", "drafted_by", map[string]any{"community_id": y.c1, "year": y.year, "title": "x", "body": "y", "expected_impact": "z", "drafted_by": y.s3}},
		{y.tS1, "/v1/proposals/" + draft.String() + "/submit", "submitted_by", map[string]any{"submitted_by": y.s1}},
		{y.tS1, "/v1/proposals/" + draft.String() + "/team-votes", "voter_id", map[string]any{"vote": "send_back", "reason": "r", "aligned": true, "alignment_note": "n", "voter_id": y.director}},
		{y.tDirector, "/v1/proposals/" + draft.String() + "/team-votes", "decided_by", map[string]any{"vote": "send_back", "reason": "r", "aligned": true, "alignment_note": "n", "decided_by": y.s1}},
		{y.tDirector, "/v1/proposals/" + draft.String() + "/sign-off", "director_id", map[string]any{"reason": "r", "director_id": y.director}},
		{y.tDirector, "/v1/proposals/" + draft.String() + "/refer-back", "director_id", map[string]any{"reason": "r", "director_id": y.director}},
		{y.tGov, "/v1/challenges", "governor_id", map[string]any{"subject": map[string]any{"kind": "school", "id": y.schoolA}, "text": "Why?", "due_on": due, "governor_id": y.gov}},
	} {
		p := w.refused(c.who, c.path, c.body, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
			t.Errorf("POST %s with %s: problem %+v, want the field %s", c.path, c.field, p, c.field)
		}
	}
	// Without them, the same people act in their own name.
	w.ok(y.tS2, el+"/nomination/accept", nil)
	actedBy := func(res CommandResult, typ string, who uuid.UUID) {
		t.Helper()
		recs, err := w.l.Store.ReadStream(context.Background(), res.Stream, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Type == typ && r.Metadata.ActorID == who.String() {
				return
			}
		}
		t.Errorf("%s has no %s recorded by %s", res.Stream, typ, who)
	}
	actedBy(w.ok(y.tS1, "/v1/proposals/"+draft.String()+"/submit", nil), "ProposalSubmitted", y.s1)
	res := w.ok(y.tS1, "/v1/proposals/"+draft.String()+"/team-votes", map[string]any{"vote": "send_back", "reason": "Say what it costs.", "aligned": true, "alignment_note": "In line."})
	actedBy(res, "TeamVoteCast", y.s1)
	actedBy(w.ok(y.tGov, "/v1/challenges", map[string]any{"subject": map[string]any{"kind": "school", "id": y.schoolA}, "text": "Why quiet reading?", "due_on": due}), "ChallengeRaised", y.gov)
}

// TestReasonAndEffectiveDateAreBodyFields: why and since when are given in
// the command's body (the headers that once carried them are gone), and
// are recorded with the events; the Director recording a fact for someone
// else must say why.
func TestReasonAndEffectiveDateAreBodyFields(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	path := "/v1/people/" + y.s2.String() + "/strengths"
	scores := map[string]any{"relationship_building": 60, "executing": 70, "strategic_thinking": 50, "influencing": 40}
	p := w.refused(y.tDirector, path, map[string]any{"year": y.year, "scores": scores}, http.StatusUnprocessableEntity, "X-Concord-Reason", "From the paper form.")
	if p.Code != "reason-for-another" || len(p.Errors) != 1 || p.Errors[0].Field != "reason" {
		t.Errorf("the Director recording for S2 with the reason in a header: %+v, want reason-for-another on the field reason", p)
	}
	when := w.now.AddDate(0, 0, -7).Format(time.DateOnly)
	const why = "From the paper form of last week."
	res := w.ok(y.tDirector, path, map[string]any{"year": y.year, "scores": scores, "reason": why, "effective_at": when}, "X-Concord-Effective-At", "2000-01-01")
	recs, err := w.l.Store.ReadStream(context.Background(), res.Stream, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := recs[len(recs)-1].Metadata
	if m.Reason != why || m.EffectiveAt.UTC().Format(time.DateOnly) != when || m.ActorID != y.director.String() {
		t.Errorf("recorded reason %q, effective %s, by %s; want %q, %s, by the Director", m.Reason, m.EffectiveAt, m.ActorID, why, when)
	}
	// S2 records their own without a reason.
	w.ok(y.tS2, path, map[string]any{"year": y.year, "scores": scores})

	// The effective date is the business date: not one to come (beyond a
	// day's tolerance), and inside the academic year the command names.
	for _, c := range []struct {
		when, code string
	}{
		{w.now.AddDate(0, 0, 3).Format(time.DateOnly), "date-in-future"},
		{"2025-08-29", "outside-academic-year"}, // in 2024-25
		{"2026-09-01", "date-in-future"},        // in 2026-27, and to come
	} {
		p := w.refused(y.tDirector, path, map[string]any{"year": y.year, "scores": scores, "reason": why, "effective_at": c.when}, http.StatusUnprocessableEntity)
		if p.Code != c.code {
			t.Errorf("effective_at %s for %s: %+v, want %s", c.when, y.year, p, c.code)
		}
	}
}

// TestScope: a staff member acts only in their own ISLC, school and
// records; governors write nothing but their challenges, about their own
// school.
func TestScope(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)

	// S3 is in C2, not C1: they may not run C1's election (403 from the
	// rights the ledger gives), and C1's business refuses a non-member
	// (422 from the domain: the record's rule, not theirs).
	election2 := uuid.New()
	if p := w.refused(y.tS3, "/v1/communities/"+y.c1.String()+"/elections", map[string]any{"election_id": election2, "year": y.year}, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("S3 opening C1's election: %+v, want not-permitted", p)
	}
	if p := w.refused(y.tS3, "/v1/communities/"+y.c1.String()+"/confidence-votes", map[string]any{"year": y.year}, http.StatusUnprocessableEntity); p.Code != "not-an-islc-member" {
		t.Errorf("S3 calling a confidence vote in C1: %+v, want not-an-islc-member", p)
	}
	if p := w.refused(y.tS3, "/v1/proposals", map[string]any{"community_id": y.c1, "year": y.year, "title": "x", "body": "y", "expected_impact": "z"}, http.StatusUnprocessableEntity); p.Code != "not-an-islc-member" {
		t.Errorf("S3 drafting in C1: %+v, want not-an-islc-member", p)
	}
	// Staff join only themselves.
	w.refused(y.tS3, "/v1/communities/"+y.c2.String()+"/members", map[string]any{"person_id": y.s2, "year": y.year, "basis": []string{"interest"}}, http.StatusForbidden)
	// S2 is a member of C1 but not its chair: cannot submit.
	draft := uuid.New()
	w.ok(y.tS2, "/v1/proposals", map[string]any{"proposal_id": draft, "community_id": y.c1, "year": y.year, "title": "Reading buddies", "body": "Pair year 7 and year 12 readers.", "expected_impact": "Reading ages up."})
	if p := w.refused(y.tS2, "/v1/proposals/"+draft.String()+"/submit", nil, http.StatusForbidden); p.Code != "not-the-chair" {
		t.Errorf("S2 submitting: %+v, want not-the-chair", p)
	}
	w.ok(y.tS1, "/v1/proposals/"+draft.String()+"/submit", nil)
	// A staff member of school B acting on school A's things.
	w.refused(y.tB, "/v1/schools/"+y.schoolA.String()+"/segments", map[string]any{"name": "x"}, http.StatusForbidden)

	// A second loan, requested by B: B may not approve it (it is A's resource).
	loan2 := uuid.New()
	start := w.now.AddDate(0, 0, 20).Truncate(24 * time.Hour)
	w.ok(y.tB, "/v1/resources/"+y.resource.String()+"/loans", map[string]any{"loan_id": loan2, "borrower_school_id": y.schoolB,
		"start": start, "end": start.Add(3 * time.Hour), "purpose": "Year 10 practicals"})
	p := w.refused(y.tB, "/v1/loans/"+loan2.String()+"/approve", nil, http.StatusForbidden)
	if p.Code != "not-permitted" || !strings.Contains(p.Detail, "staff") {
		t.Errorf("problem = %+v, want not-permitted saying only the owning school's staff may approve", p)
	}
	w.refused(y.tB, "/v1/loans/"+loan2.String()+"/decline", nil, http.StatusForbidden)
	// B may cancel its own request (naming the resource: no lookup).
	w.refused(y.tB, "/v1/loans/"+loan2.String()+"/cancel", map[string]any{"resource_id": uuid.New()}, http.StatusNotFound)
	w.ok(y.tB, "/v1/loans/"+loan2.String()+"/cancel", map[string]any{"resource_id": y.resource})

	// Governors take no part in the school's business; they read their
	// own school only.
	gov, govB := uuid.New(), uuid.New()
	w.ok(y.tDirector, "/v1/people/governors", map[string]any{"person_id": gov, "school_id": y.schoolA, "name": "Gil Governor"})
	w.ok(y.tDirectorB, "/v1/people/governors", map[string]any{"person_id": govB, "school_id": y.schoolB, "name": "Gwen Governor"})
	tGov, tGovB := w.token("governor", gov), w.token("governor-b", govB)
	w.refused(tGov, "/v1/communities/"+y.c1.String()+"/elections", map[string]any{"year": y.year}, http.StatusForbidden)
	vote := map[string]any{"vote": "approve", "reason": "r", "aligned": true, "alignment_note": "n"}
	w.refused(tGov, "/v1/proposals/"+draft.String()+"/team-votes", vote, http.StatusForbidden)
	w.refused(tGov, "/v1/proposals/"+draft.String()+"/sign-off", map[string]any{"reason": "r"}, http.StatusForbidden)
	// A governor challenges the Director of their own school only.
	if p := w.refused(tGovB, "/v1/challenges", map[string]any{"subject": map[string]any{"kind": "proposal", "id": draft}, "text": "Why?", "due_on": w.now.AddDate(0, 0, 7)},
		http.StatusUnprocessableEntity); p.Code != "challenge-outside-school" {
		t.Errorf("B's governor challenging A's proposal: %+v, want challenge-outside-school", p)
	}
	// Another school's Director is not on A's Leadership Team.
	if p := w.refused(y.tDirectorB, "/v1/proposals/"+draft.String()+"/team-votes", vote, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("B's Director voting on A's proposal: %+v, want not-permitted", p)
	}
	if r := w.do(tGovB, http.MethodGet, "/v1/schools/"+y.schoolA.String(), nil); r.Status != http.StatusForbidden {
		t.Errorf("a governor of B reading school A: status %d, want 403", r.Status)
	}
	if r := w.do(tGov, http.MethodGet, "/v1/schools/"+y.schoolA.String(), nil); r.Status != http.StatusOK {
		t.Errorf("a governor of A reading school A: status %d, want 200", r.Status)
	}
	// The administrator takes no governance decision: neither votes with
	// the Team nor signs off for the Director, nor raises or answers a
	// challenge.
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/v1/proposals/" + draft.String() + "/team-votes", vote},
		{"/v1/proposals/" + draft.String() + "/sign-off", map[string]any{"reason": "r"}},
		{"/v1/proposals/" + draft.String() + "/refer-back", map[string]any{"reason": "r"}},
		{"/v1/challenges", map[string]any{"subject": map[string]any{"kind": "school", "id": y.schoolA}, "text": "Why?", "due_on": w.now.AddDate(0, 0, 7)}},
		{"/v1/challenges/" + y.challenge.String() + "/answer", map[string]any{"answer": "Because."}},
	} {
		if p := w.refused("admin", c.path, c.body, http.StatusForbidden); p.Code != "not-for-administrators" {
			t.Errorf("the administrator: POST %s: %+v, want not-for-administrators", c.path, p)
		}
	}
	if p := w.refused("admin", "/v1/communities", map[string]any{"school_id": y.schoolA, "segment_id": governance.DefaultSegmentID(y.schoolA, governance.DefaultSegmentNames[2])}, http.StatusForbidden); p.Code != "not-for-administrators" {
		t.Errorf("the administrator establishing an ISLC: %+v, want not-for-administrators", p)
	}
}

// walkSchoolYear does the school year through the API and returns its ids.
func walkSchoolYear(t testing.TB, w *routesWorld) schoolYear {
	t.Helper()
	now := w.now
	y := schoolYear{year: partnership.AcademicYearOf(now),
		election: uuid.New(), proposal: uuid.New(), partnership: uuid.New(), resource: uuid.New(), loan: uuid.New()}
	y.schoolA, y.director, y.tDirector = w.school("North School", "Dee Director", y.year)
	y.schoolB, y.directorB, y.tDirectorB = w.school("South School", "Bo Director", y.year)
	segs := governance.DefaultSegmentNames
	y.c1 = governance.CommunityID(y.schoolA, governance.DefaultSegmentID(y.schoolA, segs[0]))
	y.c2 = governance.CommunityID(y.schoolA, governance.DefaultSegmentID(y.schoolA, segs[1]))

	y.s1, y.tS1 = w.staff(y.tDirector, y.schoolA, "Ada Staff")
	y.s2, y.tS2 = w.staff(y.tDirector, y.schoolA, "Ben Staff")
	y.s3, y.tS3 = w.staff(y.tDirector, y.schoolA, "Cy Staff")
	y.sb, y.tB = w.staff(y.tDirectorB, y.schoolB, "Sol South")
	y.lead, y.tLead = w.staff(y.tDirectorB, y.schoolB, "Lee Lead")

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
	w.ok(y.tS1, el+"/nomination/accept", nil)
	w.ok(y.tS1, el+"/voting", nil)
	w.ok(y.tS1, el+"/votes", map[string]any{"candidate_id": y.s1})
	w.ok(y.tS2, el+"/votes", map[string]any{"candidate_id": y.s1})
	p := w.refused(y.tS2, el+"/votes", map[string]any{"candidate_id": y.s1}, http.StatusConflict)
	if p.Code != "already-voted" || p.Rule == "" {
		t.Errorf("voting twice: problem %+v, want the rule already-voted", p)
	}
	// S3 is staff of the school but not in C1: the domain refuses them.
	if p := w.refused(y.tS3, el+"/votes", map[string]any{"candidate_id": y.s1}, http.StatusUnprocessableEntity); p.Code != "not-an-islc-member" {
		t.Errorf("S3 voting in C1: problem %+v, want not-an-islc-member", p)
	}
	// A staff member of another school is refused before the domain is
	// asked.
	if p := w.refused(y.tB, el+"/votes", map[string]any{"candidate_id": y.s1}, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("B's staff voting in C1: problem %+v, want not-permitted", p)
	}
	w.ok(y.tS1, el+"/close", nil)

	// A proposal to a decision: S1, chair since the election, submits with
	// the token they already held, which opens a round of the Leadership
	// Team's votes.
	w.ok(y.tS2, "/v1/proposals", map[string]any{"proposal_id": y.proposal, "community_id": y.c1, "year": y.year,
		"title": "Lesson study", "body": "Termly lesson study cycles in every department.", "expected_impact": "Better questioning."})
	prop := "/v1/proposals/" + y.proposal.String()
	if got, want := eventTypes(w.ok(y.tS1, prop+"/submit", nil)), []string{"ProposalSubmitted", "TeamResolutionOpened"}; !slices.Equal(got, want) {
		t.Errorf("submitting recorded %v, want %v", got, want)
	}
	// The Team decides it together: the Director and S1 (the chair of C1;
	// C2 has none) are the Team in office, and the quorum, a majority of
	// the two, is both. Each votes in their own name; the Director then
	// signs the Team's outcome off.
	approve := map[string]any{"vote": "approve", "reason": "Well argued.", "aligned": true, "alignment_note": "Serves the mission."}
	signOff := map[string]any{"reason": "The Team approved it, both members finding it aligned."}
	// S2 is a member of C1 but chairs nothing: not on the Team.
	if p := w.refused(y.tS2, prop+"/team-votes", approve, http.StatusForbidden); p.Code != "not-leadership-team" {
		t.Errorf("S2 voting on the proposal: %+v, want not-leadership-team", p)
	}
	if got, want := eventTypes(w.ok(y.tS1, prop+"/team-votes", approve)), []string{"TeamVoteCast"}; !slices.Equal(got, want) {
		t.Errorf("S1's vote recorded %v, want %v", got, want)
	}
	// One vote of the two is short of the quorum.
	if p := w.refused(y.tDirector, prop+"/sign-off", signOff, http.StatusConflict); p.Code != "team-quorum-not-reached" {
		t.Errorf("signing off after one vote of two: %+v, want team-quorum-not-reached", p)
	}
	w.ok(y.tDirector, prop+"/team-votes", approve)
	// Only the school's Director signs off: not the chair who voted, not
	// another school's Director.
	if p := w.refused(y.tS1, prop+"/sign-off", signOff, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("S1 signing off: %+v, want not-permitted", p)
	}
	if p := w.refused(y.tDirectorB, prop+"/sign-off", signOff, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("B's Director signing off A's proposal: %+v, want not-permitted", p)
	}
	signed := w.ok(y.tDirector, prop+"/sign-off", signOff)
	if got, want := eventTypes(signed), []string{"TeamVoteClosed", "ResolutionSignedOff", "ProposalApproved"}; !slices.Equal(got, want) {
		t.Fatalf("the Director's sign-off recorded %v, want %v", got, want)
	}

	// A governor holds the Director to account: they challenge the
	// decision, and the Director answers. Neither does the other's part.
	y.gov = uuid.New()
	w.ok(y.tDirector, "/v1/people/governors", map[string]any{"person_id": y.gov, "school_id": y.schoolA, "name": "Gail Governor"})
	y.tGov = w.token("Gail Governor", y.gov)
	challenge := map[string]any{"subject": map[string]any{"kind": "decision", "id": signed.Events[2].ID, "within": y.proposal},
		"text": "How was the cost of cover weighed?", "due_on": now.AddDate(0, 0, 14)}
	if p := w.refused(y.tDirector, "/v1/challenges", challenge, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("the Director raising a challenge: %+v, want not-permitted", p)
	}
	if p := w.refused(y.tS1, "/v1/challenges", challenge, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("a staff member raising a challenge: %+v, want not-permitted", p)
	}
	raised := w.ok(y.tGov, "/v1/challenges", challenge)
	if got, want := eventTypes(raised), []string{"ChallengeRaised"}; !slices.Equal(got, want) || raised.Location != "/v1/challenges/"+raised.ID {
		t.Fatalf("raising a challenge recorded %v at %q, want %v at /v1/challenges/{id}", got, raised.Location, want)
	}
	challengeID, err := uuid.Parse(raised.ID)
	if err != nil {
		t.Fatalf("the challenge's id %q: %v", raised.ID, err)
	}
	y.challenge = challengeID
	answer := map[string]any{"answer": "Cover is costed in the proposal's second annex; the Team read it."}
	if p := w.refused(y.tGov, raised.Location+"/answer", answer, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("the governor answering their own challenge: %+v, want not-permitted", p)
	}
	if p := w.refused(y.tDirectorB, raised.Location+"/answer", answer, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("another school's Director answering: %+v, want not-permitted", p)
	}
	if got, want := eventTypes(w.ok(y.tDirector, raised.Location+"/answer", answer)), []string{"ChallengeAnswered"}; !slices.Equal(got, want) {
		t.Errorf("the Director's answer recorded %v, want %v", got, want)
	}
	if p := w.refused(y.tDirector, raised.Location+"/answer", answer, http.StatusConflict); p.Code != "challenge-answered" {
		t.Errorf("answering twice: %+v, want challenge-answered", p)
	}

	// A loan between the two schools of a partnership: the administrator
	// forms it and appoints its lead, the Directors bring their schools.
	w.ok("admin", "/v1/partnerships", map[string]any{"partnership_id": y.partnership, "name": "River Trust", "kind": "trust"})
	if p := w.refused("admin", "/v1/partnerships/"+y.partnership.String()+"/schools", map[string]any{"school_id": y.schoolA}, http.StatusForbidden); p.Code != "not-for-administrators" {
		t.Errorf("the administrator adding a school to the partnership: %+v, want not-for-administrators", p)
	}
	w.ok(y.tDirector, "/v1/partnerships/"+y.partnership.String()+"/schools", map[string]any{"school_id": y.schoolA})
	w.ok(y.tDirectorB, "/v1/partnerships/"+y.partnership.String()+"/schools", map[string]any{"school_id": y.schoolB})
	w.ok("admin", "/v1/partnerships/"+y.partnership.String()+"/lead", map[string]any{"lead_id": y.lead})
	w.ok(y.tS1, "/v1/resources", map[string]any{"resource_id": y.resource, "partnership_id": y.partnership, "owner_school_id": y.schoolA,
		"kind": "science_lab", "name": "Physics lab", "capacity": 30, "hourly_value_pence": 5000, "offer": true})
	start := now.AddDate(0, 0, 10).Truncate(24 * time.Hour)
	w.ok(y.tB, "/v1/resources/"+y.resource.String()+"/loans", map[string]any{"loan_id": y.loan, "borrower_school_id": y.schoolB,
		"start": start, "end": start.Add(2 * time.Hour), "purpose": "Year 11 required practicals"})
	w.refused(y.tB, "/v1/loans/"+y.loan.String()+"/approve", nil, http.StatusForbidden)
	w.ok(y.tS1, "/v1/loans/"+y.loan.String()+"/approve", nil)
	// The views (the partnerships list among them, which rights read)
	// reflect the walk.
	if err := w.l.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
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
		name := fmt.Sprintf("School %02d", i)
		w.ok("admin", "/v1/schools", map[string]any{"school_id": id, "name": name})
		var schools []struct {
			ID   uuid.UUID `json:"id"`
			Name string    `json:"name"`
		}
		rd, _ := w.get("admin", "/v1/schools", &schools)
		found := false
		for _, sc := range schools {
			found = found || sc.ID == id && sc.Name == name
		}
		if !found || rd.Position != w.head() {
			t.Fatalf("read after the command: %+v at %d, want %q at %d", schools, rd.Position, name, w.head())
		}
	}
}

// TestCorrections: an event is corrected by naming it; the proposal then
// reads as changed after its decision. Only the school's Director
// corrects its records: not the Director of another school, not a
// partnership's lead, not the administrator.
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

	w.refused(y.tDirectorB, "/v1/corrections", body, http.StatusForbidden)
	w.refused(y.tLead, "/v1/corrections", body, http.StatusForbidden)
	w.refused(y.tS1, "/v1/corrections", body, http.StatusForbidden)
	if p := w.refused("admin", "/v1/corrections", body, http.StatusForbidden); p.Code != "not-for-administrators" {
		t.Errorf("the administrator correcting: %+v, want not-for-administrators", p)
	}
	bad := map[string]any{"stream": stream, "event_id": drafted.ID, "replacement": map[string]any{"no_such_field": 1}, "reason": "x"}
	if p := w.refused(y.tDirector, "/v1/corrections", bad, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != "replacement" {
		t.Errorf("problem = %+v, want the field replacement", p)
	}
	w.refused(y.tDirector, "/v1/corrections", map[string]any{"stream": stream, "event_id": uuid.New(), "reason": "x"}, http.StatusNotFound)
	w.refused(y.tDirector, "/v1/corrections", map[string]any{"stream": "nonsense", "event_id": drafted.ID, "reason": "x"}, http.StatusUnprocessableEntity)
	// A correction keeps the rules of the command it corrects: S3, not a
	// member of C1, cannot be made the drafter of C1's proposal.
	other := map[string]any{}
	for k, v := range data {
		other[k] = v
	}
	other["drafted_by"] = y.s3
	if p := w.refused(y.tDirector, "/v1/corrections", map[string]any{"stream": stream, "event_id": drafted.ID, "replacement": other, "reason": "Drafted by S3."},
		http.StatusUnprocessableEntity); p.Code != "not-an-islc-member" {
		t.Errorf("correcting the drafter to a non-member: %+v, want not-an-islc-member", p)
	}
	// The Team's votes and the outcome computed from them stand as
	// recorded: neither retracted nor replaced.
	uncorrectable := 0
	for _, r := range recs {
		switch r.Type {
		case "TeamResolutionOpened", "TeamVoteCast", "TeamVoteClosed", "ResolutionSignedOff", "ProposalApproved":
		default:
			continue
		}
		uncorrectable++
		var as map[string]any
		if err := json.Unmarshal(r.Data, &as); err != nil {
			t.Fatalf("%s: %v", r.Type, err)
		}
		for _, body := range []map[string]any{
			{"stream": stream, "event_id": r.ID, "reason": "Retract it."},
			{"stream": stream, "event_id": r.ID, "replacement": as, "reason": "Restate it."},
		} {
			if p := w.refused(y.tDirector, "/v1/corrections", body, http.StatusConflict); p.Code != "uncorrectable-ballot" {
				t.Errorf("correcting %s: %+v, want uncorrectable-ballot", r.Type, p)
			}
		}
	}
	if uncorrectable != 6 {
		t.Errorf("the proposal's stream holds %d events of the Team's round and decision, want 6 (opened, two votes, closed, signed off, approved)", uncorrectable)
	}

	w.ok(y.tDirector, "/v1/corrections", body)
	var prop struct {
		Title                string            `json:"title"`
		ChangedAfterDecision bool              `json:"changed_after_decision"`
		Corrections          []json.RawMessage `json:"corrections"`
	}
	w.get(y.tS2, "/v1/proposals/"+y.proposal.String()+"?reading=corrected", &prop)
	if prop.Title != "Lesson study in every department" || !prop.ChangedAfterDecision || len(prop.Corrections) != 1 {
		t.Errorf("corrected proposal = %+v, want the new title, one correction, changed after decision", prop)
	}
}
