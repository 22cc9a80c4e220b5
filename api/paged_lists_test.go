package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
)

// The reviews, the commitments and the proposals build only the page a
// request asks for. Over a generated partnership (two schools, two
// years), the pages of each, followed by their links with limits of 1, 2
// and 7, are together the whole list read in one page, entry for entry,
// and each page announces the whole list's total.
func TestListsBuiltAPageAtATimeAreTheWholeList(t *testing.T) {
	ctx := context.Background()
	clock := demo.NewClock(nil)
	l, err := ledger.Open(ctx, ledger.Config{Now: clock.Now, Logger: slog.New(slog.DiscardHandler), NoTransparency: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: 2, Years: 2, Seed: 7, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	auth := routesAuth{"director": app.Person(sum.Sample[domain.RoleDirector])}
	w := &routesWorld{t: t, l: l, auth: auth, now: clock.Now(), h: New(l, Options{Auth: auth, Logger: slog.New(slog.DiscardHandler), Now: clock.Now})}
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
			if len(got) != len(whole) {
				t.Fatalf("%s, limit %d: %d entries in pages, want %d", list, limit, len(got), len(whole))
			}
			for i := range got {
				if string(got[i]) != string(whole[i]) {
					t.Fatalf("%s, limit %d: entry %d differs from the whole list's:\n%s\n%s", list, limit, i, got[i], whole[i])
				}
			}
		}
	}
}
