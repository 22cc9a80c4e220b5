package views

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// TestAuditNewestFirst pages the audit log backwards: every position once,
// newest first, and each filter gives the same entries as the oldest-first
// reading, reversed.
func TestAuditNewestFirst(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	head := w.head()
	v := w.fold(AuditView, head).(*Audit)
	var seen []uint64
	cursor := uint64(0)
	for pages := 0; ; pages++ {
		page := v.EventsBefore(AuditFilter{}, cursor, 7, names)
		for _, e := range page.Entries {
			seen = append(seen, e.Position)
		}
		if page.Next == 0 {
			break
		}
		if len(page.Entries) != 7 || page.Next != page.Entries[6].Position {
			t.Fatalf("page %d: %d entries, next %d", pages, len(page.Entries), page.Next)
		}
		cursor = page.Next
	}
	if len(seen) != int(head) {
		t.Fatalf("paged %d positions, the log has %d", len(seen), head)
	}
	for i, p := range seen {
		if p != head-uint64(i) {
			t.Fatalf("position %d of the newest-first reading is %d, want %d", i, p, head-uint64(i))
		}
	}
	positions := func(p AuditPage) []uint64 {
		var out []uint64
		for _, e := range p.Entries {
			out = append(out, e.Position)
		}
		return out
	}
	for name, f := range map[string]AuditFilter{
		"type":      {Type: "ChairElected"},
		"person":    {Person: w.leaver},
		"community": {Community: w.communities[1]},
		"school":    {School: w.school},
		"february":  {From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		"combined":  {Type: "ProposalApproved", Person: w.director},
	} {
		want := positions(v.Events(f, 0, 10000, names))
		slices.Reverse(want)
		if got := positions(v.EventsBefore(f, 0, 10000, names)); !slices.Equal(got, want) || len(got) == 0 {
			t.Errorf("%s: newest first %v, want %v", name, got, want)
		}
	}
	if page := v.EventsBefore(AuditFilter{Person: uuid.New()}, 0, 10, names); len(page.Entries) != 0 {
		t.Error("an unknown person matched")
	}
}

func TestAuditChoices(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	v := w.fold(AuditView, w.head()).(*Audit)
	for _, school := range []uuid.UUID{uuid.Nil, w.school} {
		c := v.Choices(school, names)
		if len(c.Schools) != 1 || c.Schools[0].ID != w.school || c.Schools[0].Name == "" {
			t.Errorf("schools %+v", c.Schools)
		}
		got := map[uuid.UUID]bool{}
		for _, x := range c.Communities {
			got[x.ID] = true
			if x.Parent != w.school || x.Name == "" {
				t.Errorf("ISLC choice %+v", x)
			}
		}
		for _, id := range w.communities {
			if !got[id] {
				t.Errorf("ISLC %s is not offered", id)
			}
		}
		people := map[uuid.UUID]string{}
		for _, p := range c.People {
			people[p.ID] = p.Name
		}
		if people[w.leaver] != "Teacher 03" || people[w.director] == "" {
			t.Errorf("people %v lack the leaver or the Director", people)
		}
		if !slices.IsSortedFunc(c.People, func(a, b AuditChoice) int {
			if a.Name < b.Name {
				return -1
			}
			if a.Name > b.Name {
				return 1
			}
			return 0
		}) {
			t.Error("people are not in name order")
		}
		for _, typ := range []string{"ChairElected", "StaffRegistered", "ProposalApproved"} {
			if !slices.Contains(c.Types, typ) {
				t.Errorf("types %v lack %s", c.Types, typ)
			}
		}
		if !slices.IsSorted(c.Types) {
			t.Errorf("types %v are not sorted", c.Types)
		}
	}
	if s := v.Schools(); len(s) != 1 || s[0].ID != w.school || s[0].Name == "" {
		t.Errorf("schools %+v", s)
	}
	// Another school's log offers nothing of this one.
	if c := v.Choices(uuid.New(), names); len(c.Schools)+len(c.Communities)+len(c.People)+len(c.Types) != 0 {
		t.Errorf("an unknown school's choices %+v", c)
	}
}

// TestAuditChoicesOfTypesBySchool: a school's audit log offers the types
// of the events touching that school, and the whole log every type; the
// same after the view is read back from its state, and after more events.
func TestAuditChoicesOfTypesBySchool(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	ca := uuid.New()
	events := []domain.Event{
		governance.SchoolRegistered{SchoolID: a, Name: "A"},
		governance.SchoolRegistered{SchoolID: b, Name: "B"},
		governance.StaffRegistered{PersonID: uuid.New(), SchoolID: a, Kind: "educator"},
		governance.CommunityEstablished{CommunityID: ca, SchoolID: b, SegmentID: uuid.New(), Name: "Early years"},
		governance.ChairElected{CommunityID: ca, SchoolID: b, SegmentID: uuid.New(), Year: "2026-27", ChairID: uuid.New(), ElectionID: uuid.New()},
	}
	v := NewAudit()
	apply := func(v *Audit, from int, evs ...domain.Event) {
		for i, e := range evs {
			m := domain.Message{Recorded: domain.Recorded{Position: uint64(from + i + 1), Envelope: domain.Envelope{ID: uuid.New(), Type: reflect.TypeOf(e).Name()}}, Event: e}
			if err := v.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	apply(v, 0, events...)
	want := map[uuid.UUID][]string{
		a:          {"SchoolRegistered", "StaffRegistered"},
		b:          {"ChairElected", "CommunityEstablished", "SchoolRegistered"},
		uuid.Nil:   {"ChairElected", "CommunityEstablished", "SchoolRegistered", "StaffRegistered"},
		uuid.New(): nil,
	}
	check := func(v *Audit, when string) {
		t.Helper()
		for school, types := range want {
			if got := v.Choices(school, nil).Types; !slices.Equal(got, types) {
				t.Errorf("%s: types of school %s: %v, want %v", when, school, got, types)
			}
		}
	}
	check(v, "folded")
	state, err := v.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	back := NewAudit()
	if err := back.UnmarshalState(state); err != nil {
		t.Fatal(err)
	}
	check(back, "read back")
	// A type new to school a, on both.
	more := governance.GovernorRegistered{PersonID: uuid.New(), SchoolID: a}
	apply(v, len(events), more)
	apply(back, len(events), more)
	want[a] = []string{"GovernorRegistered", "SchoolRegistered", "StaffRegistered"}
	want[uuid.Nil] = []string{"ChairElected", "CommunityEstablished", "GovernorRegistered", "SchoolRegistered", "StaffRegistered"}
	check(v, "after one more")
	check(back, "read back, after one more")
}
