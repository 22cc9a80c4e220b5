package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/projections"
)

// The reviews, the commitments, the proposals and the follow-up actions
// build only the page a request asks for. Over a generated partnership (two schools, two
// years), the pages of each, followed by their links with limits of 1, 2
// and 7, are together the whole list read in one page, entry for entry,
// and each page announces the whole list's total.
func TestListsBuiltAPageAtATimeAreTheWholeList(t *testing.T) {
	l, sum, clock := apitest.Demo(t)
	w := demoWorld(t, l, sum, clock)
	for _, list := range []string{"/v1/reviews", "/v1/commitments", "/v1/proposals"} {
		var whole []json.RawMessage
		rd, _ := w.get("director", list+"?limit=1000", &whole)
		if len(whole) < 3 || rd.Total == nil || *rd.Total != len(whole) {
			t.Fatalf("%s: %d entries (total %v) in the demo: too few to page", list, len(whole), rd.Total)
		}
		for _, limit := range []int{1, 2, 7} {
			var got []json.RawMessage
			w.followPages("director", fmt.Sprintf("%s?limit=%d", list, limit), func(rd Reading, data []byte) {
				var page []json.RawMessage
				if err := json.Unmarshal(data, &page); err != nil {
					t.Fatalf("%s: %v", list, err)
				}
				if len(page) > limit || rd.Total == nil || *rd.Total != len(whole) {
					t.Errorf("%s, limit %d: a page of %d, total %v; want at most %d of %d", list, limit, len(page), rd.Total, limit, len(whole))
				}
				got = append(got, page...)
			})
			sameEntries(t, fmt.Sprintf("%s, limit %d", list, limit), got, whole)
		}
	}
	// The follow-ups answer their counts whole and their actions in pages.
	type followUps struct {
		Done    int               `json:"done"`
		Open    int               `json:"open"`
		Overdue int               `json:"overdue"`
		Actions []json.RawMessage `json:"actions"`
	}
	var whole followUps
	rd, _ := w.get("director", "/v1/reviews/follow-ups?limit=1000", &whole)
	if len(whole.Actions) < 3 || whole.Done+whole.Open != len(whole.Actions) || rd.Total == nil || *rd.Total != len(whole.Actions) {
		t.Fatalf("follow-ups: %d actions, %d done and %d open, total %v: too few to page, or miscounted", len(whole.Actions), whole.Done, whole.Open, rd.Total)
	}
	for _, limit := range []int{1, 2, 7} {
		var got []json.RawMessage
		w.followPages("director", fmt.Sprintf("/v1/reviews/follow-ups?limit=%d", limit), func(rd Reading, data []byte) {
			var page followUps
			if err := json.Unmarshal(data, &page); err != nil {
				t.Fatal(err)
			}
			if len(page.Actions) > limit || page.Done != whole.Done || page.Open != whole.Open || page.Overdue != whole.Overdue || rd.Total == nil || *rd.Total != len(whole.Actions) {
				t.Errorf("follow-ups, limit %d: %d actions, counts %d/%d/%d, total %v; want at most %d and the whole's counts %d/%d/%d of %d",
					limit, len(page.Actions), page.Done, page.Open, page.Overdue, rd.Total, limit, whole.Done, whole.Open, whole.Overdue, len(whole.Actions))
			}
			got = append(got, page.Actions...)
		})
		sameEntries(t, fmt.Sprintf("follow-ups, limit %d", limit), got, whole.Actions)
	}
}

// sameEntries fails t unless got and want are the same JSON entries in
// the same order.
func sameEntries(t *testing.T, what string, got, want []json.RawMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d entries in pages, want %d", what, len(got), len(want))
	}
	for i := range got {
		if string(got[i]) != string(want[i]) {
			t.Fatalf("%s: entry %d differs from the whole list's:\n%s\n%s", what, i, got[i], want[i])
		}
	}
}

// A partnership read without ?partnership= finds the caller's partnership
// in the partnerships view. On a ledger whose views have not followed the
// log (no one read them since the partnership was formed), the read waits
// for the view rather than refusing the caller.
func TestPartnershipReadWithoutItsIDWaitsForTheView(t *testing.T) {
	ctx := t.Context()
	l, sum, clock := apitest.DemoViewsBehind(t)
	head, err := l.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pos, err := l.Engine.View("partnerships", func(projections.Projection) error { return nil })
	if err != nil || pos >= head {
		t.Fatalf("the partnerships view stands at %d of %d (%v): this test needs it behind", pos, head, err)
	}
	w := demoWorld(t, l, sum, clock)
	var reviews []json.RawMessage
	if rd, _ := w.get("director", "/v1/reviews", &reviews); rd.Total == nil || *rd.Total == 0 {
		t.Errorf("the Director's reviews: total %v, want the partnership's", rd.Total)
	}
}

// demoWorld serves the demo ledger l over the API on the demo's clock,
// with the token "director" for its sample Director.
func demoWorld(t *testing.T, l *ledger.Ledger, sum demo.Summary, clock *demo.Clock) *routesWorld {
	auth := routesAuth{"director": app.Person(sum.Sample[domain.RoleDirector])}
	return &routesWorld{t: t, l: l, auth: auth, now: clock.Now(), h: New(l, Options{Auth: auth, Logger: slog.New(slog.DiscardHandler), Now: clock.Now})}
}
