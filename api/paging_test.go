package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

var nextLink = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

type loanRow struct {
	LoanID uuid.UUID `json:"loan_id"`
	Start  time.Time `json:"start"`
}

// pages follows a list's Link headers from path, limit entries a page,
// and returns every entry, each page's reading and the totals announced.
// A hook runs after the first page.
func (w *routesWorld) pages(token, path string, after func()) (rows []loanRow, readings []Reading) {
	w.t.Helper()
	w.followPages(token, path, func(rd Reading, data []byte) {
		var page []loanRow
		if err := json.Unmarshal(data, &page); err != nil {
			w.t.Fatalf("GET %s: page: %v", path, err)
		}
		rows = append(rows, page...)
		readings = append(readings, rd)
		if after != nil && len(readings) == 1 {
			after()
		}
	})
	return rows, readings
}

// TestListsAnswerInPagesOfOneReading: a list read answers a page (limit
// entries from cursor) with the list's total and, while entries follow, a
// next cursor and Link; the pages of a list read live are pinned to the
// first page's position, so a loan requested between two pages appears in
// none of them; the register's order is by start, then loan id (the rule
// of the loans register).
func TestListsAnswerInPagesOfOneReading(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)

	// The walk's loan, and seven more on days chosen so that two share a
	// start (then ordered by id) and the order of requests is not the
	// register's.
	var first struct {
		Start time.Time `json:"start"`
	}
	w.get(y.tB, "/v1/loans/"+y.loan.String(), &first)
	want := []loanRow{{LoanID: y.loan, Start: first.Start}}
	base := w.now.AddDate(0, 0, 30).Truncate(24 * time.Hour)
	for _, day := range []int{9, 2, 5, 2, 14, 1, 7} {
		id, start := uuid.New(), base.AddDate(0, 0, day)
		w.ok(y.tB, "/v1/resources/"+y.resource.String()+"/loans", map[string]any{"loan_id": id, "borrower_school_id": y.schoolB,
			"start": start, "end": start.Add(time.Hour), "purpose": "Practicals"})
		want = append(want, loanRow{LoanID: id, Start: start})
	}
	slices.SortFunc(want, func(a, b loanRow) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return bytes.Compare(a.LoanID[:], b.LoanID[:])
	})

	path := "/v1/loans?partnership=" + y.partnership.String() + "&limit=3"
	late := uuid.New()
	got, readings := w.pages(y.tLead, path, func() {
		start := base.AddDate(0, 0, 3)
		w.ok(y.tB, "/v1/resources/"+y.resource.String()+"/loans", map[string]any{"loan_id": late, "borrower_school_id": y.schoolB,
			"start": start, "end": start.Add(time.Hour), "purpose": "Late"})
	})
	if len(readings) != 3 {
		t.Fatalf("%d pages of 3 for %d loans, want 3", len(readings), len(want))
	}
	if len(got) != len(want) {
		t.Fatalf("pages hold %d loans, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].LoanID != want[i].LoanID {
			t.Errorf("entry %d is loan %s, want %s (by start, then id)", i, got[i].LoanID, want[i].LoanID)
		}
	}
	for i, rd := range readings {
		if rd.Total == nil || *rd.Total != len(want) {
			t.Errorf("page %d: total %v, want %d", i, rd.Total, len(want))
		}
		if rd.Position != readings[0].Position {
			t.Errorf("page %d read at %d, want the first page's %d", i, rd.Position, readings[0].Position)
		}
		wantNext := uint64(3 * (i + 1))
		if i == len(readings)-1 {
			if rd.Next != nil {
				t.Errorf("last page: next %d, want none", *rd.Next)
			}
		} else if rd.Next == nil || *rd.Next != wantNext {
			t.Errorf("page %d: next %v, want %d", i, rd.Next, wantNext)
		}
	}
	if readings[0].Reading != ReadingLive || readings[1].Reading != ReadingKnownThen {
		t.Errorf("readings %q then %q, want live then as known then (pinned)", readings[0].Reading, readings[1].Reading)
	}
	// Read live again, the late loan is there.
	again, _ := w.pages(y.tLead, path, nil)
	if len(again) != len(want)+1 || !slices.ContainsFunc(again, func(r loanRow) bool { return r.LoanID == late }) {
		t.Errorf("a new live read lists %d loans, want %d with the late one", len(again), len(want)+1)
	}

	// A list of another shape pages the same way: the school's people,
	// two by two, are the whole list in its order.
	var all []struct {
		ID uuid.UUID `json:"id"`
	}
	people := "/v1/people?school=" + y.schoolA.String()
	w.get(y.tDirector, people+"&limit=1000", &all)
	if len(all) < 3 {
		t.Fatalf("school A has %d people, want at least 3", len(all))
	}
	var paged []uuid.UUID
	for cursor := 0; ; cursor += 2 {
		var page []struct {
			ID uuid.UUID `json:"id"`
		}
		rd, _ := w.get(y.tDirector, people+"&limit=2&cursor="+strconv.Itoa(cursor), &page)
		for _, p := range page {
			paged = append(paged, p.ID)
		}
		if rd.Total == nil || *rd.Total != len(all) {
			t.Fatalf("people total %v, want %d", rd.Total, len(all))
		}
		if rd.Next == nil {
			break
		}
	}
	for i := range all {
		if i >= len(paged) || paged[i] != all[i].ID {
			t.Fatalf("people in pages %v, want %v", paged, all)
		}
	}

	// Bad pages are refused, saying what to ask for.
	for _, q := range []string{"&limit=0", "&limit=1001", "&cursor=soon", "&limit=-1"} {
		r := w.do(y.tLead, http.MethodGet, path[:strings.Index(path, "&limit")]+q, nil)
		if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET /v1/loans%s: %d %s, want 400 problem+json", q, r.Status, r.Body)
		}
	}
}

// followPages reads path and the pages its Link headers lead to, handing
// each page's reading and data to page.
func (w *routesWorld) followPages(token, path string, page func(Reading, []byte)) {
	w.t.Helper()
	for path != "" {
		var data json.RawMessage
		rd, resp := w.get(token, path, &data)
		page(rd, data)
		path = ""
		if link := resp.Header.Get("Link"); link != "" {
			m := nextLink.FindStringSubmatch(link)
			if m == nil {
				w.t.Fatalf("Link %q is not a next link", link)
			}
			path = m[1]
		}
	}
}

// TestCPDAndTimelineAnswerTheirLongListInPages: /v1/cpd answers its
// events, and /v1/timeline its items done, a page at a time (limit,
// cursor, total, next and Link as every list); every page carries the
// schools and totals of all the events, or what comes next and is
// outstanding; the pages together are the whole list in its order (CPD by
// start, items done by day).
func TestCPDAndTimelineAnswerTheirLongListInPages(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	P := y.partnership.String()
	base := w.now.AddDate(0, 0, 20).Truncate(24 * time.Hour)

	// Five CPD events organised out of the order of their starts.
	type ev struct {
		ID    uuid.UUID `json:"id"`
		Start time.Time `json:"starts_at"`
	}
	var want []ev
	for _, d := range []int{8, 3, 12, 1, 5} {
		e := ev{ID: uuid.New(), Start: base.AddDate(0, 0, d).Add(15 * time.Hour)}
		w.ok(y.tS1, "/v1/cpd", map[string]any{"cpd_id": e.ID, "partnership_id": y.partnership, "organiser_school_id": y.schoolA,
			"kind": "cpd", "title": "Questioning", "starts_at": e.Start, "ends_at": e.Start.Add(2 * time.Hour), "places": 10, "cost_per_place_pence": 2500})
		want = append(want, e)
	}
	slices.SortFunc(want, func(a, b ev) int { return a.Start.Compare(b.Start) })
	var got []ev
	pages := 0
	w.followPages(y.tDirector, "/v1/cpd?partnership="+P+"&limit=2", func(rd Reading, data []byte) {
		pages++
		var d struct {
			Events  []ev              `json:"events"`
			Schools []json.RawMessage `json:"schools"`
			Totals  struct {
				Events  int `json:"events"`
				Offered int `json:"places_offered"`
			} `json:"totals"`
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		if rd.Total == nil || *rd.Total != len(want) {
			t.Errorf("CPD page %d: total %v, want %d", pages, rd.Total, len(want))
		}
		if len(d.Events) > 2 || d.Totals.Events != len(want) || d.Totals.Offered != 10*len(want) || len(d.Schools) != 1 {
			t.Errorf("CPD page %d: %d events, totals %+v, %d schools; want at most 2 events, totals of all %d, school A", pages, len(d.Events), d.Totals, len(d.Schools), len(want))
		}
		got = append(got, d.Events...)
	})
	if pages != 3 || !slices.EqualFunc(got, want, func(a, b ev) bool { return a.ID == b.ID }) {
		t.Errorf("CPD in %d pages: %+v, want 3 pages of %+v", pages, got, want)
	}

	// A timeline of school A with four items done, one not yet.
	timeline := uuid.New()
	w.ok(y.tDirector, "/v1/timelines", map[string]any{"timeline_id": timeline, "partnership_id": y.partnership, "school_id": y.schoolA, "academic_year": y.year, "title": "Our year"})
	days := []int{4, 2, 9, 6, 7}
	ids := make([]uuid.UUID, len(days))
	for i, d := range days {
		ids[i] = uuid.New()
		w.ok(y.tDirector, "/v1/timelines/"+timeline.String()+"/items", map[string]any{"item_id": ids[i], "kind": "meeting", "title": "Meet", "on": base.AddDate(0, 0, d)})
		if i < 4 {
			w.ok(y.tS1, "/v1/timelines/"+timeline.String()+"/items/"+ids[i].String()+"/done", map[string]any{"note": "Done."})
		}
	}
	next := ids[4]
	wantDone := []uuid.UUID{ids[1], ids[0], ids[3], ids[2]} // by day: 2, 4, 6, 9
	var items, firstNext []uuid.UUID
	pages = 0
	w.followPages(y.tDirector, "/v1/timeline?partnership="+P+"&limit=3&next=10", func(rd Reading, data []byte) {
		pages++
		var d TimelineData
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		if rd.Total == nil || *rd.Total != 4 {
			t.Errorf("timeline page %d: total %v, want 4 items done", pages, rd.Total)
		}
		var nextIDs []uuid.UUID
		for _, e := range d.Next {
			nextIDs = append(nextIDs, e.ItemID)
		}
		if firstNext == nil {
			firstNext = nextIDs
		}
		if !slices.Contains(nextIDs, next) || !slices.Equal(nextIDs, firstNext) {
			t.Errorf("timeline page %d: next %v, want the item not done among them, the same on every page", pages, nextIDs)
		}
		for _, e := range d.Done {
			items = append(items, e.ItemID)
		}
	})
	if pages != 2 || !slices.Equal(items, wantDone) {
		t.Errorf("timeline in %d pages: items done %v, want 2 pages of %v", pages, items, wantDone)
	}

	// Bad pages are refused as on every list.
	for _, read := range []string{"/v1/cpd", "/v1/timeline", "/v1/reviews/follow-ups", "/v1/reviews", "/v1/commitments"} {
		for _, q := range []string{"&limit=0", "&limit=1001", "&cursor=soon"} {
			r := w.do(y.tDirector, http.MethodGet, read+"?partnership="+P+q, nil)
			if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("GET %s%s: %d %s, want 400 problem+json", read, q, r.Status, r.Body)
			}
		}
		// A page is no way round signing in.
		if r := w.do("", http.MethodGet, read+"?partnership="+P+"&limit=1&cursor=1", nil); r.Status != http.StatusUnauthorized {
			t.Errorf("GET %s without a token: %d %s, want 401", read, r.Status, r.Body)
		}
	}
}
