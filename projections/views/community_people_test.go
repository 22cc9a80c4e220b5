package views

import (
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// TestPeopleOverYearsCountsEachActiveMemberOncePerYear: a school's
// community membership in a year is the number of different people who
// are active members of at least one of its ISLCs that year. Expected
// counts are worked out by hand from that rule.
func TestPeopleOverYearsCountsEachActiveMemberOncePerYear(t *testing.T) {
	school, other := uuid.New(), uuid.New()
	islc1, islc2, elsewhere := uuid.New(), uuid.New(), uuid.New()
	ann, bob, cat, dan := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	day := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	joined := func(c, s, p uuid.UUID, year string) domain.Event {
		return governance.MemberJoined{CommunityID: c, SchoolID: s, PersonID: p, Year: year, Basis: []string{"interest"}, EffectiveFrom: day, TermEndsOn: day}
	}
	left := func(c, s, p uuid.UUID, year string) domain.Event {
		return governance.MemberLeft{CommunityID: c, SchoolID: s, PersonID: p, Year: year, LeftOn: day}
	}
	given := []domain.Event{
		governance.CommunityEstablished{CommunityID: islc1, SchoolID: school, SegmentID: uuid.New(), Name: "Early years"},
		governance.CommunityEstablished{CommunityID: islc2, SchoolID: school, SegmentID: uuid.New(), Name: "Science"},
		governance.CommunityEstablished{CommunityID: elsewhere, SchoolID: other, SegmentID: uuid.New(), Name: "Maths"},
		// 2024-25: Ann in both ISLCs (once), Bob in one: 2 people.
		joined(islc1, school, ann, "2024-25"), joined(islc2, school, ann, "2024-25"), joined(islc1, school, bob, "2024-25"),
		// 2025-26: Ann stays in one, leaves the other (still counted);
		// Bob joins and leaves (not counted); Cat joins; Dan joins only
		// another school's ISLC (not counted): 2 people.
		joined(islc1, school, ann, "2025-26"), joined(islc2, school, ann, "2025-26"), left(islc2, school, ann, "2025-26"),
		joined(islc2, school, bob, "2025-26"), left(islc2, school, bob, "2025-26"),
		joined(islc2, school, cat, "2025-26"), joined(elsewhere, other, dan, "2025-26"),
		// 2026-27: only a member who left: no active member, no year.
		joined(islc1, school, dan, "2026-27"), left(islc1, school, dan, "2026-27"),
	}
	v := NewCommunities()
	for i, e := range given {
		var islc uuid.UUID
		switch e := e.(type) {
		case governance.CommunityEstablished:
			islc = e.CommunityID
		case governance.MemberJoined:
			islc = e.CommunityID
		case governance.MemberLeft:
			islc = e.CommunityID
		}
		if err := v.Apply(messageAt(i, governance.CommunityStream(islc), e)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		school uuid.UUID
		want   map[string]int
	}{
		{school, map[string]int{"2024-25": 2, "2025-26": 2}},
		{other, map[string]int{"2025-26": 1}},
		{uuid.New(), map[string]int{}},
		{school, map[string]int{"2024-25": 2, "2025-26": 2}}, // asked twice in one call
	}
	var schools []uuid.UUID
	for _, c := range cases {
		if got := v.PeopleOverYears(c.school); !maps.Equal(got, c.want) {
			t.Errorf("PeopleOverYears = %v, want %v", got, c.want)
		}
		schools = append(schools, c.school)
	}
	// Every school in one pass, as the report asks.
	answers := v.PeopleOverYearsOf(schools)
	for i, got := range answers {
		if !maps.Equal(got, cases[i].want) {
			t.Errorf("PeopleOverYearsOf, school %d = %v, want %v", i, got, cases[i].want)
		}
	}
	// A caller's map is its own; an event changes the next answer.
	answers[0]["2024-25"] = 99
	if got := v.PeopleOverYears(school); got["2024-25"] != 2 {
		t.Errorf("once a caller changed its answer, PeopleOverYears = %v, want 2 in 2024-25", got)
	}
	if err := v.Apply(messageAt(len(given), governance.CommunityStream(islc1), joined(islc1, school, cat, "2024-25"))); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"2024-25": 3, "2025-26": 2} // Cat joins 2024-25 late
	if got := v.PeopleOverYears(school); !maps.Equal(got, want) {
		t.Errorf("after Cat joins for 2024-25, PeopleOverYears = %v, want %v", got, want)
	}
}
