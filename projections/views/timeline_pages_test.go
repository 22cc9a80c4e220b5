package views

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
)

// TestTimelineDonePagesFollowTheRule: over random timelines of two
// partnerships, with items scheduled, some moved and some done, the done
// items of a year read in pages are the items done of the partnership's
// timelines of that year, (as last scheduled) on a day of the year, by day, then timeline id,
// then item id (the rule, worked out here from the events fed), each page
// telling how many there are in all; live and read back alike.
func TestTimelineDonePagesFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	v := NewTimelines()
	feed := feeder(t, v)
	type item struct {
		pid, timeline, id uuid.UUID
		year              string // the timeline's academic year
		on                time.Time
		done              bool
	}
	pids := []uuid.UUID{uuid.New(), uuid.New()}
	var items []*item
	base := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	for range 12 {
		pid, tid := pids[rng.IntN(2)], uuid.New()
		year := []string{"2024-25", "2025-26"}[rng.IntN(2)]
		feed(partnership.TimelineCreated{PartnershipID: pid, TimelineID: tid, AcademicYear: year, Title: "Programme"})
		for range 1 + rng.IntN(30) {
			it := &item{pid: pid, timeline: tid, year: year, id: uuid.New(), on: base.AddDate(0, 0, rng.IntN(700))}
			if len(items) > 0 && rng.IntN(8) == 0 {
				it.on = items[rng.IntN(len(items))].on // same day: ordered by ids
			}
			feed(partnership.TimelineItemScheduled{PartnershipID: pid, TimelineID: tid, ItemID: it.id, Kind: partnership.ItemKind("review"), Title: "Review", On: it.on})
			items = append(items, it)
		}
	}
	for _, it := range items {
		if rng.IntN(4) == 0 {
			to := it.on.AddDate(0, 0, rng.IntN(90)-30)
			feed(partnership.TimelineItemRescheduled{PartnershipID: it.pid, TimelineID: it.timeline, ItemID: it.id, From: it.on, On: to})
			it.on = to
		}
		if rng.IntN(3) != 0 {
			feed(partnership.TimelineItemDone{PartnershipID: it.pid, TimelineID: it.timeline, ItemID: it.id, DoneOn: it.on})
			it.done = true
		}
	}
	back := readBack(t, v, NewTimelines())
	for _, pid := range pids {
		for _, label := range []string{"", "2025-26", "not a year"} {
			var want []*item
			for _, it := range items {
				ofYear := label == "" || it.year == label // a timeline of the year
				if it.pid == pid && it.done && ofYear && periodOf(label).Contains(it.on) {
					want = append(want, it)
				}
			}
			slices.SortFunc(want, func(a, b *item) int {
				return cmp.Or(a.on.Compare(b.on), uuidCmp(a.timeline, b.timeline), uuidCmp(a.id, b.id))
			})
			var wantIDs []uuid.UUID
			for _, it := range want {
				wantIDs = append(wantIDs, it.id)
			}
			for name, view := range map[string]*Timelines{"live": v, "read back": back} {
				for _, size := range []int{1, 5, 1000} {
					got := inPages(t, size, len(want), func(from, n int) ([]TimelineEntry, int) { return view.DonePage(pid, label, from, n) },
						func(e TimelineEntry) uuid.UUID {
							if !e.Done || e.TimelineID == uuid.Nil {
								t.Errorf("%s: entry %+v is not a done item of a timeline", name, e)
							}
							return e.ItemID
						})
					if !slices.Equal(got, wantIDs) {
						t.Errorf("%s, year %q, pages of %d: %d items not in the rule's order (want %d)", name, label, size, len(got), len(wantIDs))
					}
				}
				// The whole list, as Done gives it, is the same.
				var all []uuid.UUID
				for _, e := range view.Done(pid, label) {
					all = append(all, e.ItemID)
				}
				if !slices.Equal(all, wantIDs) {
					t.Errorf("%s, year %q: Done lists %d items not in the rule's order (want %d)", name, label, len(all), len(wantIDs))
				}
			}
		}
	}
}
