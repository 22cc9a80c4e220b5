package partnership_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

func TestDefaultTemplate(t *testing.T) {
	for _, year := range []string{"2025-26", "2026-27", "2030-31"} {
		items, err := partnership.DefaultTemplate(year)
		if err != nil {
			t.Fatal(err)
		}
		start, _ := partnership.AcademicYearStart(year)
		if !items[0].On.Equal(start) {
			t.Errorf("%s: first item on %s, want 1 September", year, items[0].On.Format(time.DateOnly))
		}
		kinds := map[partnership.ItemKind]int{}
		terms := map[partnership.TermCode]map[partnership.ItemKind]bool{}
		for i, it := range items {
			if partnership.AcademicYearOf(it.On) != year || it.Title == "" || !it.Kind.Valid() {
				t.Errorf("%s: item %d = %+v", year, i, it)
			}
			if i > 0 && it.On.Before(items[i-1].On) {
				t.Errorf("%s: item %d out of order", year, i)
			}
			if wd := it.On.Weekday(); i > 0 && (wd == time.Saturday || wd == time.Sunday) {
				t.Errorf("%s: %q falls on a %s", year, it.Title, wd)
			}
			kinds[it.Kind]++
			code := partnership.TermOf(it.On).Code
			if terms[code] == nil {
				terms[code] = map[partnership.ItemKind]bool{}
			}
			terms[code][it.Kind] = true
		}
		// Half-termly line management and data drops; reviews and visits.
		for _, code := range partnership.TermCodes {
			if !terms[code][partnership.ItemLineManagement] || !terms[code][partnership.ItemDataDrop] {
				t.Errorf("%s %s lacks line management or a data drop: %v", year, code, terms[code])
			}
		}
		if kinds[partnership.ItemReview] < 2 || kinds[partnership.ItemVisit] < 3 || kinds[partnership.ItemReport] < 3 {
			t.Errorf("%s: kinds=%v", year, kinds)
		}
	}
	if _, err := partnership.DefaultTemplate("2025"); err == nil {
		t.Fatal("template of a malformed year")
	}
}

func TestCreateTimelineFromTemplate(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	res, err := w.svc.CreateTimeline(w.Ctx, lead, partnership.CreateTimeline{TimelineID: id, PartnershipID: w.pid, AcademicYear: "2025-26", Title: "School improvement 2025-26"})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _ := partnership.DefaultTemplate("2025-26")
	want := []domain.Event{partnership.TimelineCreated{PartnershipID: w.pid, TimelineID: id, AcademicYear: "2025-26", Title: "School improvement 2025-26"}}
	for i, it := range tmpl {
		want = append(want, partnership.TimelineItemScheduled{PartnershipID: w.pid, TimelineID: id, ItemID: partnership.ItemID(id, i), Kind: it.Kind, Title: it.Title, On: it.On})
	}
	w.ThenEvents(res, err, want...)

	_, err = w.svc.CreateTimeline(w.Ctx, lead, partnership.CreateTimeline{TimelineID: id, PartnershipID: w.pid, AcademicYear: "2025-26", Title: "Again"})
	w.ThenError(err, domain.ErrAlreadyExists)
	for _, c := range []struct {
		name string
		cmd  partnership.CreateTimeline
		rule error
	}{
		{"school not a member", partnership.CreateTimeline{PartnershipID: w.pid, SchoolID: w.outsider, AcademicYear: "2025-26", Title: "x"}, partnership.ErrNotPartnershipMember},
		{"bad year", partnership.CreateTimeline{PartnershipID: w.pid, AcademicYear: "2025/26", Title: "x"}, domain.ErrInvalidValue},
		{"no title", partnership.CreateTimeline{PartnershipID: w.pid, AcademicYear: "2025-26"}, domain.ErrRequired},
		{"item outside the year", partnership.CreateTimeline{PartnershipID: w.pid, AcademicYear: "2025-26", Title: "x",
			Items: []partnership.PlannedItem{{Kind: partnership.ItemVisit, Title: "Visit", On: day(2026, 9, 2)}}}, domain.ErrInvalidValue},
		{"item of unknown kind", partnership.CreateTimeline{PartnershipID: w.pid, AcademicYear: "2025-26", Title: "x",
			Items: []partnership.PlannedItem{{Kind: "party", Title: "Party", On: day(2025, 12, 19)}}}, domain.ErrInvalidValue},
		{"item id twice", partnership.CreateTimeline{PartnershipID: w.pid, AcademicYear: "2025-26", Title: "x",
			Items: []partnership.PlannedItem{{ItemID: id, Kind: partnership.ItemVisit, Title: "A", On: day(2025, 12, 1)}, {ItemID: id, Kind: partnership.ItemVisit, Title: "B", On: day(2025, 12, 2)}}}, domain.ErrInvalidValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cmd.TimelineID = domaintest.ID()
			_, err := w.svc.CreateTimeline(w.Ctx, lead, c.cmd)
			w.ThenError(err, c.rule)
		})
	}
}

func TestTimelineWhatComesNext(t *testing.T) {
	w := newWorld(t)
	id, visit, review, drop := domaintest.ID(), domaintest.ID(), domaintest.ID(), domaintest.ID()
	w.ok(w.svc.CreateTimeline(w.Ctx, lead, partnership.CreateTimeline{TimelineID: id, PartnershipID: w.pid, SchoolID: w.b, AcademicYear: "2025-26", Title: "School B's year",
		Items: []partnership.PlannedItem{
			{ItemID: review, Kind: partnership.ItemReview, Title: "Peer review", On: day(2025, 11, 19)},
			{ItemID: visit, Kind: partnership.ItemVisit, Title: "School-improvement visit", On: day(2025, 10, 9)},
		}}))
	res, err := w.svc.AddTimelineItem(w.Ctx, lead, partnership.AddTimelineItem{TimelineID: id, ItemID: drop, Kind: partnership.ItemDataDrop, Title: "Data drop", On: at(2025, 10, 15, 9)})
	w.ThenEvents(res, err, partnership.TimelineItemScheduled{PartnershipID: w.pid, TimelineID: id, SchoolID: w.b, ItemID: drop, Kind: partnership.ItemDataDrop, Title: "Data drop", On: day(2025, 10, 15)})
	_, err = w.svc.AddTimelineItem(w.Ctx, lead, partnership.AddTimelineItem{TimelineID: id, ItemID: drop, Kind: partnership.ItemDataDrop, Title: "Data drop", On: day(2025, 10, 15)})
	w.ThenError(err, domain.ErrAlreadyExists)
	_, err = w.svc.AddTimelineItem(w.Ctx, lead, partnership.AddTimelineItem{TimelineID: id, ItemID: domaintest.ID(), Kind: partnership.ItemDataDrop, Title: "Data drop", On: day(2026, 10, 15)})
	w.ThenError(err, domain.ErrInvalidValue)
	_, err = w.svc.AddTimelineItem(w.Ctx, lead, partnership.AddTimelineItem{TimelineID: domaintest.ID(), ItemID: domaintest.ID(), Kind: partnership.ItemDataDrop, Title: "x", On: day(2025, 10, 15)})
	w.ThenError(err, domain.ErrNotFound)

	tl := func() *partnership.Timeline {
		x, _, err := domain.Load(w.Ctx, w.Handler, partnership.TimelineStream(id), partnership.NewTimeline)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	ids := func(items []partnership.TimelineItem) []uuid.UUID {
		var out []uuid.UUID
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	if got := ids(tl().NextItems(at(2025, 10, 9, 15), 2)); len(got) != 2 || got[0] != visit || got[1] != drop {
		t.Fatalf("next on the day of the visit = %v, want visit, data drop", got)
	}

	// The visit moves; moving it to the same day records nothing.
	w.Clock.Set(day(2025, 10, 8))
	res, err = w.svc.RescheduleTimelineItem(w.Ctx, lead, partnership.RescheduleTimelineItem{TimelineID: id, ItemID: visit, On: day(2025, 10, 16)})
	w.ThenEvents(res, err, partnership.TimelineItemRescheduled{PartnershipID: w.pid, TimelineID: id, SchoolID: w.b, ItemID: visit, From: day(2025, 10, 9), On: day(2025, 10, 16)})
	w.none(w.svc.RescheduleTimelineItem(w.Ctx, lead, partnership.RescheduleTimelineItem{TimelineID: id, ItemID: visit, On: at(2025, 10, 16, 14)}))
	_, err = w.svc.RescheduleTimelineItem(w.Ctx, lead, partnership.RescheduleTimelineItem{TimelineID: id, ItemID: visit, On: day(2026, 9, 16)})
	w.ThenError(err, domain.ErrInvalidValue)
	_, err = w.svc.RescheduleTimelineItem(w.Ctx, lead, partnership.RescheduleTimelineItem{TimelineID: id, ItemID: domaintest.ID(), On: day(2025, 10, 16)})
	w.ThenError(err, domain.ErrNotFound)

	w.Clock.Set(day(2025, 10, 15))
	res, err = w.svc.MarkTimelineItemDone(w.Ctx, lead, partnership.MarkTimelineItemDone{TimelineID: id, ItemID: drop, Note: "All ratings in"})
	w.ThenEvents(res, err, partnership.TimelineItemDone{PartnershipID: w.pid, TimelineID: id, SchoolID: w.b, ItemID: drop, DoneOn: day(2025, 10, 15), Note: "All ratings in"})
	_, err = w.svc.MarkTimelineItemDone(w.Ctx, lead, partnership.MarkTimelineItemDone{TimelineID: id, ItemID: drop})
	w.ThenError(err, partnership.ErrTimelineItemDone)
	_, err = w.svc.RescheduleTimelineItem(w.Ctx, lead, partnership.RescheduleTimelineItem{TimelineID: id, ItemID: drop, On: day(2025, 10, 20)})
	w.ThenError(err, partnership.ErrTimelineItemDone)

	x := tl()
	if got := ids(x.NextItems(day(2025, 10, 15), 0)); len(got) != 2 || got[0] != visit || got[1] != review {
		t.Fatalf("what comes next = %v, want visit then review", got)
	}
	if got := ids(x.Outstanding(day(2025, 10, 17))); len(got) != 1 || got[0] != visit {
		t.Fatalf("outstanding = %v, want the visit", got)
	}
	if it, _ := x.Item(visit); it.Rescheduled != 1 || !it.On.Equal(day(2025, 10, 16)) {
		t.Fatalf("visit=%+v", it)
	}
}
