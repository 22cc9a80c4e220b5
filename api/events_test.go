package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// personalOf returns the "personal" object of an event's data.
func personalOf(t *testing.T, e LedgerEvent) shownPersonal {
	t.Helper()
	var d struct {
		Personal json.RawMessage `json:"personal"`
	}
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(d.Personal), "sealed") {
		t.Fatalf("sealed ciphertext shown: %s", e.Data)
	}
	var p shownPersonal
	if err := json.Unmarshal(d.Personal, &p); err != nil {
		t.Fatalf("personal %s: %v", d.Personal, err)
	}
	return p
}

// TestEventsListsTheWholeLogInPages pages through the log as the
// school's Director, who reads every event of this one-school world.
func TestEventsListsTheWholeLogInPages(t *testing.T) {
	w := newFeedWorld(t, "")
	ctx := context.Background()
	head, err := w.L.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var all EventPage
	w.getJSON("/v1/events", "director", &all)
	if got := uint64(len(all.Events)); got != head || all.Next != 0 {
		t.Fatalf("%d events, next %d; want %d events and no next", got, all.Next, head)
	}
	for i, e := range all.Events {
		if e.Position != uint64(i+1) {
			t.Fatalf("event %d has position %d", i, e.Position)
		}
	}
	// Personal data is shown opened (contact details too: the reader is
	// the person's Director), and the envelope is complete: the Director
	// registered the staff.
	var staff LedgerEvent
	for _, e := range all.Events {
		if e.Type == "StaffRegistered" && e.Stream == governance.PersonStream(w.Staff[1]) {
			staff = e
		}
	}
	if p := personalOf(t, staff); p.Name != feedPeople[1].Name || p.Email != feedPeople[1].Email || p.Erased {
		t.Fatalf("personal = %+v", p)
	}
	if staff.Actor != w.Director.String() || staff.Role != domain.RoleDirector || staff.Schema != 1 || staff.RecordedAt.IsZero() || staff.Correlation == [16]byte{} {
		t.Fatalf("envelope = %+v", staff)
	}
	// Read again (event types learnt to carry no personal data are no
	// longer decoded), the log is shown the same; every event without
	// personal data is shown exactly as recorded.
	var again EventPage
	w.getJSON("/v1/events", "director", &again)
	if !reflect.DeepEqual(all, again) {
		t.Fatalf("the log read a second time differs from the first")
	}
	recs, err := w.L.Store.ReadAll(ctx, 1, 0)
	if err != nil || len(recs) != len(again.Events) {
		t.Fatalf("read %d events (%v), want %d", len(recs), err, len(again.Events))
	}
	plain := 0
	for i, e := range again.Events {
		if !bytes.Contains(recs[i].Data, []byte(`"personal"`)) {
			plain++
			if !bytes.Equal(e.Data, recs[i].Data) {
				t.Fatalf("%s at %d shown as %s, recorded as %s", e.Type, e.Position, e.Data, recs[i].Data)
			}
		}
	}
	if plain == 0 || plain == len(recs) {
		t.Fatalf("%d of %d events without personal data: the world should have both kinds", plain, len(recs))
	}

	// Pages of 2, followed through the Link header, give the same events.
	var seen []uint64
	path := "/v1/events?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages > int(head) {
			t.Fatal("pagination does not end")
		}
		var p EventPage
		resp := w.getJSON(path, "director", &p)
		if len(p.Events) > 2 {
			t.Fatalf("%d events in a page of 2", len(p.Events))
		}
		for _, e := range p.Events {
			seen = append(seen, e.Position)
		}
		link := resp.Header.Get("Link")
		if (p.Next != 0) != (link != "") {
			t.Fatalf("next %d but Link %q", p.Next, link)
		}
		path = ""
		if link != "" {
			path = strings.TrimSuffix(strings.TrimPrefix(strings.Split(link, ";")[0], "<"), ">")
			if !strings.Contains(path, fmt.Sprintf("cursor=%d", p.Next)) {
				t.Fatalf("Link %q does not carry cursor %d", link, p.Next)
			}
		}
	}
	if uint64(len(seen)) != head {
		t.Fatalf("paged through %d events, want %d", len(seen), head)
	}
	for i, p := range seen {
		if p != uint64(i+1) {
			t.Fatalf("page order: %v", seen)
		}
	}
}

func TestEventsFilters(t *testing.T) {
	w := newFeedWorld(t, "")
	w.catchUp()
	count := func(q string, want func(LedgerEvent) bool) int {
		t.Helper()
		var p EventPage
		w.getJSON("/v1/events?"+q, "director", &p)
		for _, e := range p.Events {
			if !want(e) {
				t.Fatalf("%s: event %d (%s in %s) should not match", q, e.Position, e.Type, e.Stream)
			}
		}
		return len(p.Events)
	}
	any := func(LedgerEvent) bool { return true }
	person := w.Staff[2].String()
	cases := []struct {
		query string
		want  int
		match func(LedgerEvent) bool
	}{
		{"type=StaffRegistered", 3, func(e LedgerEvent) bool { return e.Type == "StaffRegistered" }},
		{"type=StaffRegistered&limit=2", 2, func(e LedgerEvent) bool { return e.Type == "StaffRegistered" }},
		{"type=NoSuchEvent", 0, any},
		{"stream=" + governance.PersonStream(w.Staff[2]), 1, func(e LedgerEvent) bool { return e.Stream == governance.PersonStream(w.Staff[2]) }},
		{"person=" + person, 1, func(e LedgerEvent) bool { return strings.Contains(string(e.Data), person) }},
		// The Director is touched by their registration and appointment,
		// and by the four things they recorded: the year, two staff and
		// the governor.
		{"person=" + w.Director.String(), 6, any},
		{"school=" + w.School.String() + "&type=DirectorAppointed", 1, func(e LedgerEvent) bool { return e.Type == "DirectorAppointed" }},
		{"school=" + w.School.String() + "&stream=" + governance.SchoolStream(w.School), 3, func(e LedgerEvent) bool { return e.Stream == governance.SchoolStream(w.School) }},
		{"from=2000-01-01&to=2000-01-02", 0, any},
		{"from=2999-01-01", 0, any},
		{"to=2999-01-01T00:00:00Z&type=AcademicYearOpened", 1, func(e LedgerEvent) bool { return e.Type == "AcademicYearOpened" }},
		{"cursor=3&limit=1", 1, func(e LedgerEvent) bool { return e.Position == 4 }},
	}
	for _, c := range cases {
		if got := count(c.query, c.match); got != c.want {
			t.Errorf("%s: %d events, want %d", c.query, got, c.want)
		}
	}
	var all EventPage
	w.getJSON("/v1/events?from=2000-01-01", "director", &all)
	if head, _ := w.L.Store.Head(context.Background()); uint64(len(all.Events)) != head {
		t.Errorf("from a past date: %d events, want all %d", len(all.Events), head)
	}

	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "school=nope", "from=yesterday", "cursor=-1", "from=2025-01-02&to=2025-01-01", "stream=" + url.QueryEscape("$all")} {
		resp, body := w.do(http.MethodGet, "/v1/events?"+q, "director", "")
		wantProblem(t, resp, body, http.StatusBadRequest)
	}
	resp, body := w.do(http.MethodGet, "/v1/events", "", "")
	wantProblem(t, resp, body, http.StatusUnauthorized)

	// The administrator reads no school's records: the log shows them
	// nothing, and asking for the school's is refused.
	var none EventPage
	w.getJSON("/v1/events", "admin", &none)
	if len(none.Events) != 0 {
		t.Errorf("the administrator read %d events", len(none.Events))
	}
	resp, body = w.do(http.MethodGet, "/v1/events?school="+w.School.String(), "admin", "")
	if p := wantProblem(t, resp, body, http.StatusForbidden); p.Code != "not-for-administrators" {
		t.Errorf("the administrator asking for the school's events: %+v, want not-for-administrators", p)
	}
}

func TestEventsFarFutureFromThroughAudit(t *testing.T) {
	w := newFeedWorld(t, "")
	w.catchUp()
	var p EventPage
	w.getJSON("/v1/events?type=StaffRegistered&from=2999-01-01", "director", &p)
	if len(p.Events) != 0 {
		t.Fatalf("%d events recorded after 2999", len(p.Events))
	}
}

// TestEventsShowEachReaderTheirOwnSchool: each caller reads the events of
// their own school only, and contact details only of themselves (or, for
// the Director, of the school's people).
func TestEventsShowEachReaderTheirOwnSchool(t *testing.T) {
	w := newFeedWorld(t, "")
	ours, _ := w.L.Store.Head(context.Background())
	theirs := w.otherSchool()
	positions := func(p EventPage) []uint64 {
		var out []uint64
		for _, e := range p.Events {
			out = append(out, e.Position)
		}
		return out
	}
	var want []uint64
	for p := uint64(1); p <= ours; p++ {
		want = append(want, p)
	}
	// No catch-up: a filtered read waits for the audit view itself.
	for _, q := range []string{"", "?school=" + w.School.String()} {
		var mine EventPage
		w.getJSON("/v1/events"+q, "staff", &mine)
		if got := positions(mine); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("own school%s: events %v, want %v (every event of the school, none of the other)", q, got, want)
		}
		// A staff member sees their own contact details, no one else's.
		for _, e := range mine.Events {
			if e.Type != "StaffRegistered" {
				continue
			}
			p := personalOf(t, e)
			self := e.Stream == governance.PersonStream(w.Staff[1])
			if self != (p.Email != "") {
				t.Errorf("%s: staff shown %+v (self %v): contact details only of themselves", e.Stream, p, self)
			}
		}
	}
	var other EventPage
	w.getJSON("/v1/events", "other-director", &other)
	if got := positions(other); fmt.Sprint(got) != fmt.Sprint(theirs) {
		t.Fatalf("the other school's Director read events %v, want only their school's %v", got, theirs)
	}
	resp, body := w.do(http.MethodGet, "/v1/events?school="+w.School.String(), "other-director", "")
	if p := wantProblem(t, resp, body, http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("another school's Director asking for ours: %+v, want not-permitted", p)
	}
}

// On the store on disk, a second page read at the same head takes the
// streams' targets kept by the first (app.StreamTargetAt), and shows the
// Director the contact details of the school's people as the first did.
func TestEventsReadAgainAtOneHeadShowTheSameContacts(t *testing.T) {
	w := newFeedWorld(t, t.TempDir())
	if _, ok := w.L.Store.(keepingReader); !ok {
		t.Fatalf("the store on disk (%T) reads without decoding no more: this test would not take kept targets", w.L.Store)
	}
	for read := range 2 {
		var page EventPage
		w.getJSON("/v1/events", "director", &page)
		shown := 0
		for _, e := range page.Events {
			if e.Type == "StaffRegistered" {
				if p := personalOf(t, e); p.Email == "" {
					t.Errorf("read %d: %s shown without contact details to the school's Director", read+1, e.Stream)
				}
				shown++
			}
		}
		if shown != len(feedPeople) {
			t.Fatalf("read %d: %d staff registered shown, want %d", read+1, shown, len(feedPeople))
		}
	}
}

// A stream read in pages gives its events once each, in order, whatever
// the page size and wherever a cursor falls (on one of its events, between
// them, before the first or after the last): the same events as the whole
// log filtered by stream.
func TestEventsOfAStreamInPagesFromAnyCursor(t *testing.T) {
	w := newFeedWorld(t, "")
	stream := governance.SchoolStream(w.School)
	var all EventPage
	w.getJSON("/v1/events", "director", &all)
	var want []uint64
	for _, e := range all.Events {
		if e.Stream == stream {
			want = append(want, e.Position)
		}
	}
	if len(want) < 3 {
		t.Fatalf("the school's stream has %d events; the test needs 3", len(want))
	}
	last := all.Events[len(all.Events)-1].Position
	for _, limit := range []int{1, 2, 1000} {
		for cursor := uint64(0); cursor <= last; cursor++ {
			var after []uint64
			for _, p := range want {
				if p > cursor {
					after = append(after, p)
				}
			}
			var got []uint64
			next := cursor
			for pages := 0; ; pages++ {
				if pages > len(want)+1 {
					t.Fatalf("limit %d cursor %d: pagination does not end", limit, cursor)
				}
				var p EventPage
				w.getJSON(fmt.Sprintf("/v1/events?stream=%s&limit=%d&cursor=%d", stream, limit, next), "director", &p)
				for _, e := range p.Events {
					got = append(got, e.Position)
				}
				if p.Next == 0 {
					break
				}
				next = p.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(after) {
				t.Fatalf("limit %d cursor %d: %v, want %v", limit, cursor, got, after)
			}
		}
	}
}

// TestEventsByTypeShowOnlyTheReadersOwn: a filter the audit view answers
// (a type) picks events of every school; the caller is shown only their
// own, page after page, each once, none missed, when the events they may
// not see fall inside and at the end of a page.
func TestEventsByTypeShowOnlyTheReadersOwn(t *testing.T) {
	w := newFeedWorld(t, "")
	theirs := w.otherSchool()
	w.catchUp()
	recs, err := w.L.Store.ReadAll(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want, others []uint64
	for _, e := range recs {
		if e.Type != "StaffRegistered" {
			continue
		}
		if slices.Contains(theirs, e.Position) {
			want = append(want, e.Position)
		} else {
			others = append(others, e.Position)
		}
	}
	if len(want) == 0 || len(others) < 2 {
		t.Fatalf("%d staff registered in the other school, %d in ours: the test needs both", len(want), len(others))
	}
	for _, limit := range []int{1, 2, 100} {
		var got []uint64
		path := fmt.Sprintf("/v1/events?type=StaffRegistered&limit=%d", limit)
		for pages := 0; path != ""; pages++ {
			if pages > len(recs) {
				t.Fatal("pagination does not end")
			}
			var p EventPage
			resp := w.getJSON(path, "other-director", &p)
			for _, e := range p.Events {
				got = append(got, e.Position)
			}
			path = ""
			if link := resp.Header.Get("Link"); link != "" {
				path = strings.TrimSuffix(strings.TrimPrefix(strings.Split(link, ";")[0], "<"), ">")
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("limit %d: the other school's Director read staff registered at %v, want only theirs, %v (ours are at %v)", limit, got, want, others)
		}
	}
}
