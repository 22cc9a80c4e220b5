package governance

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

func TestEstablishCommunity(t *testing.T) {
	e := newEnv(t).givenSchool()
	seg := e.segs[3]
	id := CommunityID(e.school, seg.ID)
	res, err := e.svc.EstablishCommunity(e.Ctx, e.meta, EstablishCommunity{SchoolID: e.school, SegmentID: seg.ID})
	e.ThenEvents(res, err, CommunityEstablished{CommunityID: id, SchoolID: e.school, SegmentID: seg.ID, Name: "Culture & Climate"})
	if res.Stream != CommunityStream(id) {
		t.Fatalf("stream = %s", res.Stream)
	}
	_, err = e.svc.EstablishCommunity(e.Ctx, e.meta, EstablishCommunity{SchoolID: e.school, SegmentID: seg.ID})
	e.ThenError(err, domain.ErrAlreadyExists)
	_, err = e.svc.EstablishCommunity(e.Ctx, e.meta, EstablishCommunity{SchoolID: e.school, SegmentID: domaintest.ID()})
	e.ThenError(err, ErrUnknownSegment)
	_, err = e.svc.EstablishCommunity(e.Ctx, e.meta, EstablishCommunity{SchoolID: domaintest.ID(), SegmentID: seg.ID})
	e.ThenError(err, domain.ErrNotFound)
}

func TestJoinCommunity(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(4)
	c := e.givenCommunity(0)
	e.Given(PersonStream(staff[3]), PersonLeftSchool{PersonID: staff[3], SchoolID: e.school, LeftOn: yearStart})
	gov := domaintest.ID()
	e.Given(PersonStream(gov), GovernorRegistered{PersonID: gov, SchoolID: e.school, Personal: domain.PersonalData{Name: "G"}})

	res, err := e.svc.JoinCommunity(e.Ctx, e.meta, JoinCommunity{CommunityID: c, PersonID: staff[0], Year: year, Basis: []string{BasisStrengths, BasisInterest}})
	e.ThenEvents(res, err, MemberJoined{CommunityID: c, SchoolID: e.school, PersonID: staff[0], Year: year, Basis: []string{BasisInterest, BasisStrengths},
		EffectiveFrom: yearStart, TermEndsOn: yearEnd})
	if !res.Events[0].Meta.EffectiveAt.IsZero() {
		t.Fatalf("effective at = %s; want none when the join takes effect the day it is recorded", res.Events[0].Meta.EffectiveAt)
	}

	cases := []struct {
		name string
		cmd  JoinCommunity
		rule error
	}{
		{"again", JoinCommunity{CommunityID: c, PersonID: staff[0], Year: year, Basis: []string{BasisInterest}}, ErrAlreadyMember},
		{"no basis", JoinCommunity{CommunityID: c, PersonID: staff[1], Year: year}, domain.ErrRequired},
		{"bad basis", JoinCommunity{CommunityID: c, PersonID: staff[1], Year: year, Basis: []string{"friendship"}}, domain.ErrInvalidValue},
		{"left school", JoinCommunity{CommunityID: c, PersonID: staff[3], Year: year, Basis: []string{BasisInterest}}, ErrPersonLeft},
		{"governor", JoinCommunity{CommunityID: c, PersonID: gov, Year: year, Basis: []string{BasisInterest}}, ErrNotStaff},
		{"year not open", JoinCommunity{CommunityID: c, PersonID: staff[1], Year: "2029-30", Basis: []string{BasisInterest}}, ErrYearNotOpen},
		{"outside year", JoinCommunity{CommunityID: c, PersonID: staff[1], Year: year, Basis: []string{BasisInterest}, EffectiveFrom: yearEnd.AddDate(0, 0, 1)}, ErrOutsideYear},
		{"no such ISLC", JoinCommunity{CommunityID: domaintest.ID(), PersonID: staff[1], Year: year, Basis: []string{BasisInterest}}, domain.ErrNotFound},
	}
	for _, tc := range cases {
		_, err := e.svc.JoinCommunity(e.Ctx, e.meta, tc.cmd)
		e.ThenError(err, tc.rule)
	}
}

// A membership from 1 September entered in October carries both dates:
// when it took effect (in its data and in meta.EffectiveAt) and when it
// was recorded.
func TestJoinCommunityTwoDates(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(2)
	c := e.givenCommunity(1)
	october := time.Date(2025, 10, 14, 9, 30, 0, 0, time.UTC)
	e.Clock.Set(october)

	res, err := e.svc.JoinCommunity(e.Ctx, e.meta, JoinCommunity{CommunityID: c, PersonID: staff[0], Year: year, Basis: []string{BasisInterest}, EffectiveFrom: yearStart})
	e.ThenEvents(res, err, MemberJoined{CommunityID: c, SchoolID: e.school, PersonID: staff[0], Year: year, Basis: []string{BasisInterest}, EffectiveFrom: yearStart, TermEndsOn: yearEnd})
	rec := res.Events[0].Recorded
	if !rec.RecordedAt.Equal(october) || !rec.Meta.EffectiveAt.Equal(yearStart) || !rec.Effective().Equal(yearStart) {
		t.Fatalf("recorded %s effective %s; want recorded %s effective %s", rec.RecordedAt, rec.Effective(), october, yearStart)
	}
	m, _ := e.community(c).MembershipOf(staff[0], year)
	if !m.EffectiveFrom.Equal(yearStart) || !m.RecordedAt.Equal(october) {
		t.Fatalf("membership = %+v", m)
	}

	// The effective day may also come from meta.EffectiveAt alone.
	meta := e.meta
	meta.EffectiveAt = time.Date(2025, 9, 8, 0, 0, 0, 0, time.UTC)
	res, err = e.svc.JoinCommunity(e.Ctx, meta, JoinCommunity{CommunityID: c, PersonID: staff[1], Year: year, Basis: []string{BasisStrengths}})
	e.ThenEvents(res, err, MemberJoined{CommunityID: c, SchoolID: e.school, PersonID: staff[1], Year: year, Basis: []string{BasisStrengths}, EffectiveFrom: meta.EffectiveAt, TermEndsOn: yearEnd})
}

func TestLeaveCommunity(t *testing.T) {
	e := newEnv(t).givenSchool()
	director := e.givenDirector()
	staff := e.givenStaff(6)
	c := e.givenCommunity(2)
	e.givenMembers(c, year, staff...)
	e.Given(PersonStream(staff[1]), PersonLeftSchool{PersonID: staff[1], SchoolID: e.school, LeftOn: time.Date(2025, 12, 19, 0, 0, 0, 0, time.UTC)})
	feb := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	// Recorded at the end of the year, after every leaving.
	e.Clock.Set(yearEnd)

	// by is who records the leaving (zero: the administrator).
	metaOf := func(by uuid.UUID) domain.Meta {
		if by == uuid.Nil {
			return e.meta
		}
		return as(by, domain.RoleStaff)
	}
	refused := []struct {
		name string
		cmd  LeaveCommunity
		by   uuid.UUID
		rule error
	}{
		{"no exception", LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, LeftOn: feb}, uuid.Nil, ErrMinimumTermNotServed},
		{"left school not recorded", LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, LeftOn: feb, Exception: ExceptionLeftSchool}, uuid.Nil, ErrMinimumTermNotServed},
		{"approved by a non-Director", LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, LeftOn: feb, Exception: ExceptionDirectorApproved}, staff[2], ErrNotDirector},
		{"approval recorded by the administrator", LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, LeftOn: feb, Exception: ExceptionDirectorApproved}, uuid.Nil, ErrNotDirector},
		{"unknown exception", LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, LeftOn: feb, Exception: "bored"}, uuid.Nil, domain.ErrInvalidValue},
		{"not a member", LeaveCommunity{CommunityID: c, PersonID: director, Year: year, LeftOn: feb, Exception: ExceptionLongTermAbsence}, uuid.Nil, ErrNotAMember},
		{"before joining", LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, LeftOn: yearStart.AddDate(0, 0, -3), Exception: ExceptionLongTermAbsence}, uuid.Nil, domain.ErrInvalidValue},
		{"after the year", LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, LeftOn: yearEnd.AddDate(0, 0, 1)}, uuid.Nil, ErrOutsideYear},
	}
	for _, tc := range refused {
		_, err := e.svc.LeaveCommunity(e.Ctx, metaOf(tc.by), tc.cmd)
		rej := e.ThenError(err, tc.rule)
		if rej == nil || rej.Detail == "" {
			t.Fatalf("%s: no detail", tc.name)
		}
	}

	accepted := []struct {
		cmd  LeaveCommunity
		by   uuid.UUID
		want MemberLeft
	}{
		{LeaveCommunity{CommunityID: c, PersonID: staff[1], Year: year, LeftOn: time.Date(2025, 12, 19, 0, 0, 0, 0, time.UTC), Exception: ExceptionLeftSchool}, uuid.Nil,
			MemberLeft{CommunityID: c, SchoolID: e.school, PersonID: staff[1], Year: year, LeftOn: time.Date(2025, 12, 19, 0, 0, 0, 0, time.UTC), Exception: ExceptionLeftSchool}},
		{LeaveCommunity{CommunityID: c, PersonID: staff[2], Year: year, LeftOn: feb, Exception: ExceptionLongTermAbsence}, uuid.Nil,
			MemberLeft{CommunityID: c, SchoolID: e.school, PersonID: staff[2], Year: year, LeftOn: feb, Exception: ExceptionLongTermAbsence}},
		{LeaveCommunity{CommunityID: c, PersonID: staff[3], Year: year, LeftOn: feb, Exception: ExceptionDirectorApproved}, director,
			MemberLeft{CommunityID: c, SchoolID: e.school, PersonID: staff[3], Year: year, LeftOn: feb, Exception: ExceptionDirectorApproved, ApprovedBy: director}},
		// At the end of the year no exception is needed (and none is kept).
		{LeaveCommunity{CommunityID: c, PersonID: staff[4], Year: year, LeftOn: yearEnd, Exception: ExceptionLongTermAbsence}, uuid.Nil,
			MemberLeft{CommunityID: c, SchoolID: e.school, PersonID: staff[4], Year: year, LeftOn: yearEnd}},
	}
	for _, tc := range accepted {
		res, err := e.svc.LeaveCommunity(e.Ctx, metaOf(tc.by), tc.cmd)
		e.ThenEvents(res, err, tc.want)
	}
	com := e.community(c)
	if got := com.Members(year); !slices.Equal(got, []uuid.UUID{staff[0], staff[5]}) {
		t.Fatalf("members = %v", got)
	}
	// Leaving never removes history.
	if len(com.Memberships) != 6 {
		t.Fatalf("memberships = %d, want all 6 kept", len(com.Memberships))
	}
	if m, ok := com.MembershipOf(staff[3], year); !ok || m.Active() || m.ApprovedBy != director {
		t.Fatalf("membership = %+v", m)
	}
	_, err := e.svc.LeaveCommunity(e.Ctx, e.meta, LeaveCommunity{CommunityID: c, PersonID: staff[2], Year: year, LeftOn: feb, Exception: ExceptionLongTermAbsence})
	e.ThenError(err, ErrNotAMember)
}

func TestLeavingChairVacatesAndWithdraws(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(4)
	c := e.givenCommunity(0)
	e.givenMembers(c, year, staff...)
	e.givenChair(c, year, staff[0])
	el := domaintest.ID()
	e.Given(CommunityStream(c),
		ElectionOpened{ElectionID: el, CommunityID: c, SchoolID: e.school, Year: year, Quorum: Quorum{Rule: QuorumMajority}, Ballot: BallotSecret, Electorate: staff},
		CandidateNominated{ElectionID: el, CommunityID: c, NomineeID: staff[0], NominatedBy: staff[1]},
		NominationAccepted{ElectionID: el, CommunityID: c, NomineeID: staff[0]})

	res, err := e.svc.LeaveCommunity(e.Ctx, e.meta, LeaveCommunity{CommunityID: c, PersonID: staff[0], Year: year, Exception: ExceptionLongTermAbsence})
	e.ThenEvents(res, err,
		MemberLeft{CommunityID: c, SchoolID: e.school, PersonID: staff[0], Year: year, LeftOn: yearStart, Exception: ExceptionLongTermAbsence},
		ChairVacated{CommunityID: c, SchoolID: e.school, Year: year, ChairID: staff[0], Reason: "left_community"},
		CandidateWithdrawn{ElectionID: el, CommunityID: c, CandidateID: staff[0], Reason: "left_community"})
	com := e.community(c)
	if _, ok := com.ChairInOffice(year); ok {
		t.Fatal("a chair who left is still in office")
	}
	if got := com.Chairs[0].EndedBy; got != ChairVacatedBy {
		t.Fatalf("term ended by %q", got)
	}
	elec, _ := com.Election(el)
	if len(elec.Accepted()) != 0 {
		t.Fatalf("accepted = %v", elec.Accepted())
	}
	_, err = e.svc.OpenVoting(e.Ctx, e.meta, OpenVoting{CommunityID: c, ElectionID: el})
	e.ThenError(err, ErrNoCandidates)
}

func TestConfirmRoster(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(5)
	c := e.givenCommunity(0)
	e.givenMembers(c, prevYear, staff[0], staff[1])

	// The first year has no previous members: any roster will do.
	res, err := e.svc.ConfirmRoster(e.Ctx, e.meta, ConfirmRoster{CommunityID: c, Year: prevYear})
	e.ThenEvents(res, err, RosterConfirmed{CommunityID: c, SchoolID: e.school, Year: prevYear, Members: []uuid.UUID{staff[0], staff[1]}, PreviousYear: "2023-24", Continuing: []uuid.UUID{}})

	_, err = e.svc.ConfirmRoster(e.Ctx, e.meta, ConfirmRoster{CommunityID: c, Year: year})
	e.ThenError(err, ErrEmptyRoster)

	e.givenMembers(c, year, staff[2], staff[3])
	_, err = e.svc.ConfirmRoster(e.Ctx, e.meta, ConfirmRoster{CommunityID: c, Year: year})
	rej := e.ThenError(err, ErrNoContinuity)
	if rej.Field != "year" {
		t.Fatalf("rejection = %+v", rej)
	}

	e.givenMembers(c, year, staff[1])
	if got := ContinuityMembers(e.community(c), year); !slices.Equal(got, []uuid.UUID{staff[1]}) {
		t.Fatalf("continuity = %v", got)
	}
	res, err = e.svc.ConfirmRoster(e.Ctx, e.meta, ConfirmRoster{CommunityID: c, Year: year})
	e.ThenEvents(res, err, RosterConfirmed{CommunityID: c, SchoolID: e.school, Year: year, Members: []uuid.UUID{staff[2], staff[3], staff[1]}, PreviousYear: prevYear, Continuing: []uuid.UUID{staff[1]}})
	res, err = e.svc.ConfirmRoster(e.Ctx, e.meta, ConfirmRoster{CommunityID: c, Year: year})
	e.ThenEvents(res, err) // unchanged: nothing new
	if r := e.community(c).Rosters[year]; len(r.Members) != 3 || len(r.Continuing) != 1 {
		t.Fatalf("roster = %+v", r)
	}
}

func TestLinkGovernorAndAdvisoryGroup(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(1)[0]
	c := e.givenCommunity(3)
	gov, gov2, contact := domaintest.ID(), domaintest.ID(), domaintest.ID()
	e.Given(PersonStream(gov), GovernorRegistered{PersonID: gov, SchoolID: e.school, Personal: domain.PersonalData{Name: "G"}})
	e.Given(PersonStream(gov2), GovernorRegistered{PersonID: gov2, SchoolID: e.school, Personal: domain.PersonalData{Name: "H"}})
	e.Given(PersonStream(contact), AdvisoryContactRegistered{PersonID: contact, SchoolID: e.school, Personal: domain.PersonalData{Name: "P"}})

	res, err := e.svc.LinkGovernor(e.Ctx, e.meta, LinkGovernor{CommunityID: c, GovernorID: gov})
	e.ThenEvents(res, err, GovernorLinked{CommunityID: c, SchoolID: e.school, GovernorID: gov})
	res, err = e.svc.LinkGovernor(e.Ctx, e.meta, LinkGovernor{CommunityID: c, GovernorID: gov})
	e.ThenEvents(res, err)
	res, err = e.svc.LinkGovernor(e.Ctx, e.meta, LinkGovernor{CommunityID: c, GovernorID: gov2})
	e.ThenEvents(res, err, GovernorLinked{CommunityID: c, SchoolID: e.school, GovernorID: gov2, PreviousID: gov})
	_, err = e.svc.LinkGovernor(e.Ctx, e.meta, LinkGovernor{CommunityID: c, GovernorID: staff})
	e.ThenError(err, ErrNotGovernor)

	group := domaintest.ID()
	res, err = e.svc.LinkAdvisoryGroup(e.Ctx, e.meta, LinkAdvisoryGroup{CommunityID: c, GroupID: group, Name: "Year 9 student council", Kind: AdvisoryStudents, Contacts: []uuid.UUID{contact}})
	e.ThenEvents(res, err, AdvisoryGroupLinked{CommunityID: c, SchoolID: e.school, GroupID: group, Name: "Year 9 student council", Kind: AdvisoryStudents, Contacts: []uuid.UUID{contact}})
	cases := []struct {
		cmd  LinkAdvisoryGroup
		rule error
	}{
		{LinkAdvisoryGroup{CommunityID: c, GroupID: group, Name: "Parent forum", Kind: AdvisoryParents, Contacts: []uuid.UUID{contact}}, domain.ErrAlreadyExists},
		{LinkAdvisoryGroup{CommunityID: c, GroupID: domaintest.ID(), Name: "Parent forum", Kind: AdvisoryParents, Contacts: []uuid.UUID{staff}}, ErrNotAdvisoryContact},
		{LinkAdvisoryGroup{CommunityID: c, GroupID: domaintest.ID(), Name: "Parent forum", Kind: "pupils", Contacts: []uuid.UUID{contact}}, domain.ErrInvalidValue},
		{LinkAdvisoryGroup{CommunityID: c, GroupID: domaintest.ID(), Name: "Parent forum", Kind: AdvisoryParents}, domain.ErrRequired},
		{LinkAdvisoryGroup{CommunityID: c, GroupID: domaintest.ID(), Kind: AdvisoryParents, Contacts: []uuid.UUID{contact}}, domain.ErrRequired},
	}
	for _, tc := range cases {
		_, err := e.svc.LinkAdvisoryGroup(e.Ctx, e.meta, tc.cmd)
		e.ThenError(err, tc.rule)
	}
	com := e.community(c)
	if com.GovernorID != gov2 || len(com.AdvisoryGroups) != 1 {
		t.Fatalf("community = %+v", com)
	}
}

// MemberJoined schema 1 recorded the basis as one string; it is upcast to
// schema 2's list on read.
func TestMemberJoinedUpcast(t *testing.T) {
	e := newEnv(t)
	c, p := domaintest.ID(), domaintest.ID()
	for _, tc := range []struct {
		v1   string
		want []string
	}{{"interest", []string{BasisInterest}}, {"strengths", []string{BasisStrengths}}, {"both", []string{BasisInterest, BasisStrengths}}} {
		data, _ := json.Marshal(map[string]any{"community_id": c, "school_id": e.school, "person_id": p, "year": year, "basis": tc.v1,
			"effective_from": yearStart, "term_ends_on": yearEnd})
		m, err := e.Codec.Decode(domain.Recorded{Envelope: domain.Envelope{Type: "MemberJoined", Schema: 1, Data: data}})
		if err != nil {
			t.Fatal(err)
		}
		want := MemberJoined{CommunityID: c, SchoolID: e.school, PersonID: p, Year: year, Basis: tc.want, EffectiveFrom: yearStart, TermEndsOn: yearEnd}
		got := m.Event.(MemberJoined)
		if !slices.Equal(got.Basis, want.Basis) || got.PersonID != p || !got.EffectiveFrom.Equal(yearStart) {
			t.Fatalf("v1 basis %q upcast to %+v, want %+v", tc.v1, got, want)
		}
	}
	// A schema-1 event in a stream folds like a schema-2 one.
	data, _ := json.Marshal(map[string]any{"community_id": c, "school_id": e.school, "person_id": p, "year": year, "basis": "both", "effective_from": yearStart, "term_ends_on": yearEnd})
	if _, err := e.Log.AppendStream(e.Ctx, CommunityStream(c), -1, []domain.Envelope{{ID: domaintest.ID(), Type: "MemberJoined", Schema: 1, Data: data}}); err != nil {
		t.Fatal(err)
	}
	if m, ok := e.community(c).MembershipOf(p, year); !ok || len(m.Basis) != 2 {
		t.Fatalf("membership = %+v", m)
	}
	if _, err := upcastMemberJoined1([]byte(`{"basis": 3}`)); err == nil {
		t.Fatal("upcast a numeric basis")
	}
}
