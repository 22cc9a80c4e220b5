package web

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/views"
)

func TestGroupTimeline(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 12, d, 0, 0, 0, 0, time.UTC) }
	school := func(name string) *views.Ref { return &views.Ref{ID: uuid.New(), Name: name} }
	drop := "Data drop: RAG ratings"
	entries := []views.TimelineEntry{
		{On: day(2), Kind: "data_drop", Title: drop, School: school("Cwm Primary")},
		{On: day(2), Kind: "data_drop", Title: drop, School: school("Ysgol y Pant")},
		{On: day(2), Kind: "visit", Title: "Peer review", School: school("Cwm Primary"), Rescheduled: 1},
		{On: day(2), Kind: "data_drop", Title: drop, School: school("Aber School")},
		{On: day(2), Kind: "data_drop", Title: drop}, // the partnership's own
		{On: day(3), Kind: "data_drop", Title: drop, School: school("Cwm Primary")},
	}
	got := groupTimeline(entries, 4, 0)
	if len(got) != 3 {
		t.Fatalf("%d groups, want 3 (the data drop of 2 Dec once, the visit, the data drop of 3 Dec): %+v", len(got), got)
	}
	g := got[0]
	if g.Title != drop || !g.On.Equal(day(2)) || g.Schools != 3 || !g.Partnership || g.Every {
		t.Errorf("first group %+v", g)
	}
	if want := []string{"the partnership", "Aber School", "Cwm Primary", "Ysgol y Pant"}; !slices.Equal(g.Where, want) {
		t.Errorf("where %v, want %v", g.Where, want)
	}
	if got, want := g.ForWhom(), "the partnership and 3 schools"; got != want {
		t.Errorf("for whom %q, want %q", got, want)
	}
	if !g.Listed() {
		t.Error("a group of 3 schools out of 4 is not listed")
	}
	if v := got[1]; v.ForWhom() != "Cwm Primary" || v.Listed() || v.Rescheduled != 1 {
		t.Errorf("the visit reads %q (listed %v, rescheduled %d), want Cwm Primary alone, rescheduled once", v.ForWhom(), v.Listed(), v.Rescheduled)
	}
	if d := got[2]; !d.On.Equal(day(3)) || d.ForWhom() != "Cwm Primary" {
		t.Errorf("the data drop of 3 Dec is %+v", d)
	}
	// Every member school: said so, not listed.
	all := groupTimeline(entries[:4], 3, 0)
	if g := all[0]; !g.Every || g.Listed() || g.ForWhom() != "every school (3)" {
		t.Errorf("a data drop of every school reads %q (every %v, listed %v)", g.ForWhom(), g.Every, g.Listed())
	}
	// Only the partnership's own.
	if g := groupTimeline(entries[4:5], 3, 0)[0]; g.ForWhom() != "the partnership" || g.Listed() {
		t.Errorf("the partnership's item reads %q", g.ForWhom())
	}
	// The limit counts groups, not entries.
	if n := len(groupTimeline(entries, 4, 2)); n != 2 {
		t.Errorf("limit 2 gives %d groups", n)
	}
}
