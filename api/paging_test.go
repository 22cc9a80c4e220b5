package api

import (
	"bytes"
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
	for path != "" {
		var page []loanRow
		rd, resp := w.get(token, path, &page)
		rows = append(rows, page...)
		readings = append(readings, rd)
		path = ""
		if link := resp.Header.Get("Link"); link != "" {
			m := nextLink.FindStringSubmatch(link)
			if m == nil {
				w.t.Fatalf("Link %q is not a next link", link)
			}
			path = m[1]
		}
		if after != nil && len(readings) == 1 {
			after()
		}
	}
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
