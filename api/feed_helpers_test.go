package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// feedAuth is a fixed table of tokens for the tests of this file set:
// each names a person the world registered (or the administrator), and
// what they may do follows from the ledger.
type feedAuth map[string]app.Actor

func (a feedAuth) Authenticate(_ context.Context, tok string) (app.Actor, error) {
	p, ok := a[tok]
	if !ok {
		return app.Actor{}, fmt.Errorf("unknown token")
	}
	return p, nil
}

// feedWorld is a ledger with one school, its Director, staff and a
// governor, served over httptest.
type feedWorld struct {
	t        *testing.T
	L        *ledger.Ledger
	S        *Server
	HTTP     *httptest.Server
	School   uuid.UUID
	Director uuid.UUID
	Staff    []uuid.UUID // Staff[0] is the Director
	Governor uuid.UUID
	Auth     feedAuth
	// Other is a second school and OtherDirector its Director, once
	// otherSchool has registered them.
	Other, OtherDirector uuid.UUID
}

// feedPeople are the staff registered by newFeedWorld (fictional adults);
// the first is the Director.
var feedPeople = []governance.PersonDetails{
	{Name: "Director Quillon Ashdown", Email: "q.ashdown@school.example"},
	{Name: "Teacher Marisol Vantreece", Email: "m.vantreece@school.example"},
	{Name: "Teacher Osric Pellham", Email: "o.pellham@school.example"},
}

// feedGovernor is the school's governor.
var feedGovernor = governance.PersonDetails{Name: "Governor Tamsin Rook", Email: "t.rook@governors.example"}

// feedYear is the academic year the world's school opens.
const feedYear = "2025-26"

// adminMeta is the metadata of the system administrator's commands.
func adminMeta() domain.Meta { return domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin} }

// personMeta is the metadata of a command person records in role.
func personMeta(person uuid.UUID, role string) domain.Meta {
	return domain.Meta{ActorID: person.String(), ActorRole: role}
}

// newFeedWorld opens a ledger in dir ("" for memory) with transparency
// checkpoints signed on demand, seeds a school and serves it. Records are
// made by whoever the rules say makes them: the administrator registers
// the school and its first Director, the Director the year, the staff and
// the governor.
func newFeedWorld(t *testing.T, dir string) *feedWorld {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Segment: segment.Options{SegmentSize: 1 << 20}, Transparency: transparency.Options{CheckpointEvery: 1 << 40, CheckpointInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	w := &feedWorld{t: t, L: l, Auth: feedAuth{"admin": app.Admin()}}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close ledger: %v", err)
		}
	})
	w.School, w.Director = w.school("Harbour Academy", feedPeople[0])
	w.Staff = []uuid.UUID{w.Director}
	dm := personMeta(w.Director, domain.RoleDirector)
	for _, d := range feedPeople[1:] {
		id := uuid.Must(uuid.NewV7())
		w.must(l.Governance.RegisterStaff(ctx, dm, governance.RegisterStaff{PersonID: id, SchoolID: w.School, Kind: governance.StaffEducator, PersonDetails: d}))
		w.Staff = append(w.Staff, id)
	}
	w.Governor = uuid.Must(uuid.NewV7())
	w.must(l.Governance.RegisterGovernor(ctx, dm, governance.RegisterGovernor{PersonID: w.Governor, SchoolID: w.School, PersonDetails: feedGovernor}))
	w.Auth["director"] = app.Person(w.Director)
	w.Auth["staff"] = app.Person(w.Staff[1])
	w.Auth["governor"] = app.Person(w.Governor)
	w.S = New(l, Options{Auth: w.Auth})
	w.HTTP = httptest.NewServer(w.S)
	t.Cleanup(func() {
		w.S.CloseLiveFeeds()
		w.HTTP.Close()
	})
	return w
}

// school registers a school with its first Director (the administrator
// does both) and the Director opens the year.
func (w *feedWorld) school(name string, director governance.PersonDetails) (school, dir uuid.UUID) {
	w.t.Helper()
	ctx := context.Background()
	g := w.L.Governance
	school, dir = uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	w.must(g.RegisterSchool(ctx, adminMeta(), governance.RegisterSchool{SchoolID: school, Name: name}))
	w.must(g.RegisterStaff(ctx, adminMeta(), governance.RegisterStaff{PersonID: dir, SchoolID: school, Kind: governance.StaffAdministrator, PersonDetails: director}))
	w.must(g.AppointDirector(ctx, adminMeta(), governance.AppointDirector{SchoolID: school, DirectorID: dir}))
	w.must(g.OpenAcademicYear(ctx, personMeta(dir, domain.RoleDirector), governance.OpenAcademicYear{SchoolID: school, Year: feedYear}))
	return school, dir
}

// otherSchool registers a second school (Hill School) with its Director,
// whose token is "other-director", and returns the positions of the
// events that recorded it.
func (w *feedWorld) otherSchool() []uint64 {
	w.t.Helper()
	before, err := w.L.Store.Head(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	w.Other, w.OtherDirector = w.school("Hill School", governance.PersonDetails{Name: "Director Ione Fairweather", Email: "i.fairweather@hill.example"})
	w.Auth["other-director"] = app.Person(w.OtherDirector)
	after, err := w.L.Store.Head(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	var out []uint64
	for p := before + 1; p <= after; p++ {
		out = append(out, p)
	}
	return out
}

func (w *feedWorld) must(_ domain.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// catchUp brings the views up to the log's head.
func (w *feedWorld) catchUp() {
	w.t.Helper()
	if err := w.L.CatchUp(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// do sends a request with token (none if "") and returns the response
// and its body.
func (w *feedWorld) do(method, path, token, body string) (*http.Response, []byte) {
	w.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, w.HTTP.URL+path, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp, b
}

// getJSON GETs path and decodes a 200 answer into v.
func (w *feedWorld) getJSON(path, token string, v any) *http.Response {
	w.t.Helper()
	resp, b := w.do(http.MethodGet, path, token, "")
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		w.t.Fatalf("GET %s: %v: %s", path, err, b)
	}
	return resp
}

// wantProblem checks that resp is a problem with status.
func wantProblem(t *testing.T, resp *http.Response, body []byte, status int) Problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, body)
	}
	return p
}

func u64s(n uint64) string { return strconv.FormatUint(n, 10) }

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}
