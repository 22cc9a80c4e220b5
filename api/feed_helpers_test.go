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

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// feedAuth is a fixed table of tokens for the tests of this file set.
type feedAuth map[string]Principal

func (a feedAuth) Authenticate(_ context.Context, tok string) (Principal, error) {
	p, ok := a[tok]
	if !ok {
		return Principal{}, fmt.Errorf("unknown token")
	}
	return p, nil
}

// feedWorld is a ledger with one school, its Director and staff, served
// over httptest.
type feedWorld struct {
	t        *testing.T
	L        *ledger.Ledger
	S        *Server
	HTTP     *httptest.Server
	School   uuid.UUID
	Director uuid.UUID
	Staff    []uuid.UUID
	Auth     feedAuth
	meta     domain.Meta
}

// feedPeople are the staff registered by newFeedWorld (fictional adults).
var feedPeople = []governance.PersonDetails{
	{Name: "Director Quillon Ashdown", Email: "q.ashdown@school.example"},
	{Name: "Teacher Marisol Vantreece", Email: "m.vantreece@school.example"},
	{Name: "Teacher Osric Pellham", Email: "o.pellham@school.example"},
}

// newFeedWorld opens a ledger in dir ("" for memory) with transparency
// checkpoints signed on demand, seeds a school and serves it.
func newFeedWorld(t *testing.T, dir string) *feedWorld {
	t.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Segment: segment.Options{SegmentSize: 1 << 20}, Transparency: transparency.Options{CheckpointEvery: 1 << 40, CheckpointInterval: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	w := &feedWorld{t: t, L: l, School: uuid.Must(uuid.NewV7()), meta: domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close ledger: %v", err)
		}
	})
	w.must(l.Governance.RegisterSchool(ctx, w.meta, governance.RegisterSchool{SchoolID: w.School, Name: "Harbour Academy"}))
	w.must(l.Governance.OpenAcademicYear(ctx, w.meta, governance.OpenAcademicYear{SchoolID: w.School, Year: "2025-26"}))
	for _, d := range feedPeople {
		id := uuid.Must(uuid.NewV7())
		w.must(l.Governance.RegisterStaff(ctx, w.meta, governance.RegisterStaff{PersonID: id, SchoolID: w.School, Kind: governance.StaffEducator, PersonDetails: d}))
		w.Staff = append(w.Staff, id)
	}
	w.Director = w.Staff[0]
	w.must(l.Governance.AppointDirector(ctx, w.meta, governance.AppointDirector{SchoolID: w.School, DirectorID: w.Director}))
	w.Auth = feedAuth{
		"admin":    {Role: RoleAdmin},
		"director": {PersonID: w.Director, Role: RoleDirector, SchoolID: w.School},
		"staff":    {PersonID: w.Staff[1], Role: RoleStaff, SchoolID: w.School},
		"auditor":  {Role: RoleAuditor},
		// A director of another school.
		"other-director": {PersonID: uuid.Must(uuid.NewV7()), Role: RoleDirector, SchoolID: uuid.Must(uuid.NewV7())},
	}
	w.S = New(l, Options{Auth: w.Auth})
	w.HTTP = httptest.NewServer(w.S)
	t.Cleanup(func() {
		w.S.CloseLiveFeeds()
		w.HTTP.Close()
	})
	return w
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
