package views

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

func refIDs(rs []Ref) []uuid.UUID {
	out := make([]uuid.UUID, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func sortIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func TestPeopleViewNamesAndErasure(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	v := w.fold(PeopleView, w.head()).(*People)
	if got := v.NameOf(w.keys, w.staff[2]); got != "Teacher 02" {
		t.Fatalf("name = %q, want Teacher 02", got)
	}
	p, ok := v.Person(w.keys, w.governor)
	if !ok || p.Kind != governance.PersonGovernor || p.Name != "Governor Grey" || p.SchoolID != w.school {
		t.Fatalf("governor = %+v", p)
	}
	// The state never holds a plaintext name.
	b, _ := v.MarshalState()
	if bytes.Contains(b, []byte("Teacher")) || bytes.Contains(b, []byte("Grey")) {
		t.Fatalf("plaintext name in the view's state: %s", b)
	}
	// Erasure shows at once, without a rebuild.
	w.keys.Erase(w.staff[2].String())
	if got := v.NameOf(w.keys, w.staff[2]); got != domain.ErasedName {
		t.Fatalf("erased name = %q", got)
	}
	if p, _ := v.Person(w.keys, w.staff[2]); !p.Erased {
		t.Fatalf("erased person = %+v", p)
	}
	if got := len(v.PeopleOf(w.keys, w.school)); got != len(w.staff)+3 {
		t.Fatalf("people of school = %d, want %d", got, len(w.staff)+3)
	}
}

func TestCommunitiesView(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	v := w.fold(CommunitiesView, w.head()).(*Communities)
	c0, c1 := w.communities[0], w.communities[1]
	c, ok := v.Community(c0, names)
	if !ok {
		t.Fatal("ISLC 0 not found")
	}
	if c.Name != w.segs[0].Name || c.School.Name != "Infinity School" || c.Segment.ID != w.segs[0].ID || c.Segment.Name != w.segs[0].Name {
		t.Fatalf("community = %+v", c)
	}
	if c.Governor == nil || c.Governor.ID != w.governor || c.Governor.Name != "Governor Grey" {
		t.Fatalf("governor = %+v", c.Governor)
	}
	if len(c.Advisory) != 1 || c.Advisory[0].Name != "Parent forum" || c.Advisory[0].Contacts[0].Name != "Forum secretary" {
		t.Fatalf("advisory = %+v", c.Advisory)
	}
	if c.Chair == nil || c.Chair.ID != w.chair0 || c.Chair.Name != "Teacher 00" {
		t.Fatalf("chair = %+v", c.Chair)
	}
	if len(c.ChairHistory) != 1 || !c.ChairHistory[0].InOffice || c.ChairHistory[0].ElectionID != w.elections[0] {
		t.Fatalf("chair history = %+v", c.ChairHistory)
	}
	if len(c.Years) != 2 || c.Years[0].Year != scPrevYear || c.Years[1].Year != scYear {
		t.Fatalf("years = %+v", c.Years)
	}
	this := c.Years[1]
	if this.Active != 2 || len(this.Members) != 3 {
		t.Fatalf("members this year: active %d of %d", this.Active, len(this.Members))
	}
	var left Member
	for _, m := range this.Members {
		if m.Person.ID == w.leaver {
			left = m
		}
	}
	if left.Active || left.Exception != governance.ExceptionLongTermAbsence || left.LeftOn.IsZero() || left.Person.Name != "Teacher 03" {
		t.Fatalf("leaver = %+v", left)
	}
	if got := refIDs(this.Continuity); !slices.Equal(got, []uuid.UUID{w.staff[0]}) {
		t.Fatalf("continuity = %v, want staff 0", got)
	}
	// Strengths: staff 0 (60, 50, 40, 30) and staff 2 (70, 50, 40, 50).
	if b := this.Balance; b.Members != 2 || b.Assessed != 2 || b.RelationshipBuilding != 65 || b.Influencing != 40 || len(b.Unassessed) != 0 {
		t.Fatalf("balance = %+v", b)
	}
	// The same answers as the domain's query helpers.
	st, err := governance.BuildState(w.codec, w.messages())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := refIDs(this.Continuity), governance.ContinuityMembers(st.Communities[c0], scYear); !slices.Equal(got, want) {
		t.Fatalf("continuity %v, domain %v", got, want)
	}
	if b, want := this.Balance, st.StrengthsBalance(c0, scYear); b.Assessed != want.Assessed || b.Executing != want.Mean.Executing {
		t.Fatalf("balance %+v, domain %+v", b, want)
	}

	list := v.CommunitiesOf(w.school, names)
	if len(list) != 2 || list[0].ID != c0 || list[1].ID != c1 || list[1].Chair == nil || list[1].Chair.ID != w.chair1 || list[0].Members[scYear] != 2 {
		t.Fatalf("communities of school = %+v", list)
	}
	chart := v.MembershipOverYears(w.school)
	if !slices.Equal(chart.Years, []string{scPrevYear, scYear}) || len(chart.Series) != 2 ||
		!slices.Equal(chart.Series[0].Counts, []int{2, 2}) || !slices.Equal(chart.Series[1].Counts, []int{0, 3}) {
		t.Fatalf("chart = %+v", chart)
	}
	if _, ok := v.Community(uuid.New(), names); ok {
		t.Fatal("unknown community found")
	}
}

// TestSchoolsCountStaffInPost: a school's summary counts the staff in
// post; those who left the school are no longer counted, though its staff
// list keeps them.
func TestSchoolsCountStaffInPost(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	w.afterTheYear() // a member of staff and the Director leave the school
	v := w.fold(SchoolsView, w.head()).(*Schools)
	// Registered: w.staff (the Director among them) and w.late.
	registered := len(w.staff) + 1
	all := v.Schools(w.names())
	if len(all) != 1 || all[0].Staff != registered-2 {
		t.Fatalf("schools = %+v, want one school with %d staff in post", all, registered-2)
	}
	if sc, ok := v.School(w.school, w.names()); !ok || sc.Staff != registered-2 || len(sc.StaffList) != registered {
		t.Fatalf("school: %d in post, %d listed; want %d and %d", sc.Staff, len(sc.StaffList), registered-2, registered)
	}
}

func TestSchoolsViewFlagsUnassignedStaff(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	v := w.fold(SchoolsView, w.head()).(*Schools)
	all := v.Schools(names)
	if len(all) != 1 || all[0].Name != "Infinity School" || all[0].Director == nil || all[0].Director.ID != w.director ||
		len(all[0].Segments) != 6 || len(all[0].Years) != 2 || all[0].Staff != len(w.staff)+1 {
		t.Fatalf("schools = %+v", all)
	}
	sc, ok := v.School(w.school, names)
	if !ok || len(sc.StaffList) != len(w.staff)+1 {
		t.Fatalf("school staff = %d", len(sc.StaffList))
	}
	// The staff list is everyone registered at the school, in the order
	// of their ids' text, live and after a restore from saved state.
	wantStaff := sortIDs(append([]uuid.UUID{w.late}, w.staff...)) // the Director is one of w.staff
	restored := NewSchools()
	if b, err := v.MarshalState(); err != nil || restored.UnmarshalState(b) != nil {
		t.Fatalf("save and restore the schools view: %v", err)
	}
	for _, sv := range []*Schools{v, restored} {
		sc, _ := sv.School(w.school, names)
		var got []uuid.UUID
		for _, m := range sc.StaffList {
			got = append(got, m.Person.ID)
		}
		if !slices.Equal(got, wantStaff) {
			t.Fatalf("staff list %v, want %v", got, wantStaff)
		}
	}
	// Flagged: staff 1 (in an ISLC last year only), staff 6 (never
	// joined), the leaver (left their only ISLC), and the February
	// newcomer; the same as the domain's rule.
	got := sortIDs(func() []uuid.UUID {
		var ids []uuid.UUID
		for _, a := range v.Unassigned(w.school, scYear, names) {
			ids = append(ids, a.Person.ID)
		}
		return ids
	}())
	want := sortIDs([]uuid.UUID{w.staff[1], w.staff[6], w.leaver, w.late})
	if !slices.Equal(got, want) {
		t.Fatalf("unassigned = %v, want %v", got, want)
	}
	st, err := governance.BuildState(w.codec, w.messages())
	if err != nil {
		t.Fatal(err)
	}
	if domainWant := sortIDs(st.UnassignedStaff(w.school, scYear)); !slices.Equal(got, domainWant) {
		t.Fatalf("unassigned = %v, domain says %v", got, domainWant)
	}
	// The Director, once in no ISLC, is marked and never flagged: they
	// chair the Leadership Team over every ISLC.
	w.now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	w.do(w.svc.LeaveCommunity(w.ctx, w.admin, governance.LeaveCommunity{CommunityID: w.communities[1], PersonID: w.director, Year: scYear, Exception: governance.ExceptionLongTermAbsence}))
	v = w.fold(SchoolsView, w.head()).(*Schools)
	for _, a := range v.StaffAssignment(w.school, scYear, names) {
		if a.Person.ID == w.director && (!a.Director || a.Unassigned || a.NoCommunityAtStart || len(a.Communities) != 0) {
			t.Fatalf("the Director's assignment = %+v", a)
		}
		if a.Director && a.Person.ID != w.director {
			t.Fatalf("%s marked Director", a.Person.Name)
		}
	}
	if st, _ := governance.BuildState(w.codec, w.messages()); slices.Contains(st.UnassignedStaff(w.school, scYear), w.director) {
		t.Fatal("the domain flags the Director as unassigned")
	}
	// At the start of the year: staff 1 and 6 had no ISLC; the leaver
	// had one; the newcomer was not staff yet.
	for _, a := range v.StaffAssignment(w.school, scYear, names) {
		wantStart := a.Person.ID == w.staff[6] || a.Person.ID == w.staff[1]
		if a.NoCommunityAtStart != wantStart {
			t.Errorf("%s no community at start = %v, want %v", a.Person.Name, a.NoCommunityAtStart, wantStart)
		}
	}
}

func TestLeadershipTeamView(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	v := w.fold(LeadershipTeamView, w.head()).(*LeadershipTeams)
	team, ok := v.Team(w.school, scYear, names)
	if !ok {
		t.Fatal("no team")
	}
	if team.Director == nil || team.Director.ID != w.director || team.Director.Name != "Teacher 07" {
		t.Fatalf("director = %+v", team.Director)
	}
	if got, want := refIDs(team.Members), []uuid.UUID{w.director, w.chair0, w.chair1}; !slices.Equal(got, want) {
		t.Fatalf("members = %v, want %v", got, want)
	}
	if len(team.Seats) != 2 || team.Seats[0].Community.ID != w.communities[0] || team.Seats[0].Segment.Name != w.segs[0].Name || len(team.Vacant) != 0 {
		t.Fatalf("seats = %+v", team.Seats)
	}
	st, err := governance.BuildState(w.codec, w.messages())
	if err != nil {
		t.Fatal(err)
	}
	if want := st.LeadershipTeam(w.school, scYear).Members(); !slices.Equal(refIDs(team.Members), want) {
		t.Fatalf("members %v, domain %v", refIDs(team.Members), want)
	}
	if len(team.Decisions) != 2 {
		t.Fatalf("decisions = %+v", team.Decisions)
	}
	d0, d1 := team.Decisions[0], team.Decisions[1]
	if d0.Outcome != governance.StatusReturned || d0.Version != 1 || d0.Reason != "Halve the cost." || d0.DecidedBy.ID != w.director || d0.Role != domain.RoleDirector ||
		d1.Outcome != governance.StatusApproved || d1.Version != 2 || d1.Proposal.Name != "One project week" || !d1.Aligned {
		t.Fatalf("decisions = %+v", team.Decisions)
	}
	// Each decision says how the Team voted in the round signed off.
	if want := (TeamTally{Round: 1, TeamInOffice: 3, QuorumRequired: 2, Turnout: 2, SendBack: 2}); d0.Tally == nil || *d0.Tally != want {
		t.Fatalf("tally of the return = %+v, want %+v", d0.Tally, want)
	}
	if want := (TeamTally{Round: 2, TeamInOffice: 3, QuorumRequired: 2, Turnout: 2, Approve: 2}); d1.Tally == nil || *d1.Tally != want {
		t.Fatalf("tally of the approval = %+v, want %+v", d1.Tally, want)
	}
	// Last year: no chairs, both seats vacant.
	prev, _ := v.Team(w.school, scPrevYear, names)
	if len(prev.Vacant) != 2 || len(prev.Members) != 1 || len(prev.Decisions) != 0 {
		t.Fatalf("last year's team = %+v", prev)
	}
}

func TestElectionsView(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	v := w.fold(ElectionsView, w.head()).(*Elections)
	e, ok := v.Election(w.elections[0], names)
	if !ok {
		t.Fatal("election not found")
	}
	if e.Status != governance.StatusClosed || e.Elected == nil || e.Elected.ID != w.chair0 || e.Turnout != (Turnout{Voted: 3, Eligible: 3, Required: 2, QuorumMet: true}) {
		t.Fatalf("election = %+v", e)
	}
	if len(e.Tally) != 2 || e.Tally[0].Candidate.ID != w.staff[0] || e.Tally[0].Votes != 2 || e.Tally[1].Votes != 1 || len(e.Candidates) != 2 || e.Ballot != governance.BallotSecret {
		t.Fatalf("tally = %+v candidates %+v", e.Tally, e.Candidates)
	}
	f, _ := v.Election(w.failed, names)
	if f.Status != governance.StatusFailed || f.FailReason == "" || f.Turnout.Voted != 1 || f.Turnout.Eligible != 3 || f.Turnout.QuorumMet || f.Elected != nil || len(f.Tally) != 0 {
		t.Fatalf("failed election = %+v", f)
	}
	b := v.Of(w.communities[1], scYear, names)
	if len(b.Elections) != 2 || b.Elections[0].ID != w.failed || b.Elections[1].Elected == nil || b.Elections[1].Elected.ID != w.chair1 {
		t.Fatalf("ballots of ISLC 1 = %+v", b)
	}
	// Never who voted for whom: no voter id in the state or the answers.
	state, _ := v.MarshalState()
	answer, _ := json.Marshal(b)
	for _, voter := range []uuid.UUID{w.staff[5], w.staff[3]} {
		if bytes.Contains(state, []byte(voter.String())) || bytes.Contains(answer, []byte(voter.String())) {
			t.Fatalf("voter %s appears in the elections view", voter)
		}
	}
}

func TestProposalsView(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	v := w.fold(ProposalsView, w.head()).(*Proposals)
	p, ok := v.Proposal(w.proposal, names)
	if !ok {
		t.Fatal("proposal not found")
	}
	if p.Status != governance.StatusApproved || p.Title != "One project week" || p.Current != 2 || p.Community.Name != w.segs[0].Name {
		t.Fatalf("proposal = %+v", p)
	}
	if len(p.Versions) != 2 || p.Versions[0].Title != "Project weeks" || p.Versions[0].Costs.AmountMinor != 250000 || p.Versions[1].Costs.AmountMinor != 125000 ||
		p.Versions[0].By.Name != "Teacher 02" {
		t.Fatalf("versions = %+v", p.Versions)
	}
	if len(p.Submissions) != 2 || p.Submissions[1].Version != 2 || p.Submissions[0].By.ID != w.chair0 {
		t.Fatalf("submissions = %+v", p.Submissions)
	}
	if len(p.Advice) != 1 || p.Advice[0].Stance != governance.StanceConcerns || p.Advice[0].Group.Name != "Parent forum" {
		t.Fatalf("advice = %+v", p.Advice)
	}
	if len(p.Decisions) != 2 || p.Decisions[0].Outcome != governance.StatusReturned || p.Decisions[0].Reason != "Halve the cost." ||
		p.Decisions[1].Outcome != governance.StatusApproved || p.Decisions[1].DecidedBy.Name != "Teacher 07" || !p.Decisions[1].Aligned {
		t.Fatalf("decisions = %+v", p.Decisions)
	}
	// The register keeps, with DecidedIn, the proposals whose last
	// decision falls in the period: the day of the approval, not the day
	// before nor the day after.
	last := p.Decisions[1].At.UTC()
	day := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to time.Time
		want     bool
	}{
		{day, day, true},
		{day.AddDate(0, 0, -3), day.AddDate(0, 0, -1), false},
		{day.AddDate(0, 0, 1), day.AddDate(0, 0, 5), false},
		{day.AddDate(-1, 0, 0), day.AddDate(1, 0, 0), true},
	} {
		period, err := NewPeriod(c.from, c.to)
		if err != nil {
			t.Fatal(err)
		}
		got := v.Register(ProposalFilter{School: p.School.ID, DecidedIn: &period}, names)
		if found := slices.ContainsFunc(got, func(x Proposal) bool { return x.ID == w.proposal }); found != c.want {
			t.Errorf("decided %s to %s: listed %v, want %v (last decided %s)", c.from.Format(time.DateOnly), c.to.Format(time.DateOnly), found, c.want, last)
		}
		// Decided lists what Register lists with DecidedIn, as the report
		// shows it.
		var want []DecidedSummary
		for _, x := range v.Register(ProposalFilter{DecidedIn: &period}, names) {
			d := x.Decisions[len(x.Decisions)-1]
			want = append(want, DecidedSummary{ID: x.ID, Title: x.Title, School: x.School, Community: x.Community, Outcome: d.Outcome, At: d.At,
				ChangedAfterDecision: x.ChangedAfterDecision})
		}
		if sum := v.Decided(period); len(sum) != len(want) || (len(want) > 0 && !reflect.DeepEqual(sum, want)) {
			t.Errorf("decided %s to %s: Decided %+v, Register %+v", c.from.Format(time.DateOnly), c.to.Format(time.DateOnly), sum, want)
		}
		for _, x := range got {
			if len(x.Decisions) == 0 || !period.Contains(x.Decisions[len(x.Decisions)-1].At) {
				t.Errorf("decided %s to %s: listed %s, last decided outside", c.from.Format(time.DateOnly), c.to.Format(time.DateOnly), x.ID)
			}
		}
	}
	// Each round of the Team's votes: who voted what, the outcome and the
	// Director's sign-off.
	if len(p.Rounds) != 2 {
		t.Fatalf("rounds = %+v", p.Rounds)
	}
	r1, r2 := p.Rounds[0], p.Rounds[1]
	if r1.Round != 1 || r1.Version != 1 || len(r1.Team) != 3 || r1.ProposingChair == nil || r1.ProposingChair.ID != w.chair0 || len(r1.Votes) != 2 ||
		r1.Votes[0].Voter.Name != "Teacher 07" || r1.Votes[0].Vote != governance.VoteSendBack || r1.Votes[1].Voter.ID != w.chair1 ||
		r1.Outcome != governance.VoteSendBack || r1.Turnout != 2 || r1.QuorumRequired != 2 || r1.SendBack != 2 ||
		r1.Status != governance.ResolutionStatusSignedOff || r1.Director == nil || r1.Director.ID != w.director || r1.DirectorReason != "Halve the cost." {
		t.Fatalf("round 1 = %+v", r1)
	}
	if r2.Round != 2 || r2.Version != 2 || r2.Outcome != governance.VoteApprove || r2.Approve != 2 || len(r2.Votes) != 2 || r2.Votes[1].Voter.ID != w.chair0 ||
		r2.Votes[1].Reason != "Ready." || r2.Status != governance.ResolutionStatusSignedOff {
		t.Fatalf("round 2 = %+v", r2)
	}
	if p.ChangedAfterDecision {
		t.Fatal("changed after decision before any correction")
	}
	// The approval is the Team's outcome: it cannot be corrected.
	var approval, advice uuid.UUID
	var given governance.AdviceGiven
	for _, m := range w.messages() {
		switch e := m.Event.(type) {
		case governance.ProposalApproved:
			approval = m.ID
		case governance.AdviceGiven:
			advice, given = m.ID, e
		}
	}
	if _, err := w.svc.CorrectEvent(w.ctx, as(w.director, domain.RoleDirector), governance.ProposalStream(w.proposal), domain.Correction{EventID: approval,
		Reason: "Reason mistyped."}); !errors.Is(err, domain.ErrUncorrectable) {
		t.Fatalf("correction of the approval: %v, want %v", err, domain.ErrUncorrectable)
	}
	// A correction of the advice, after the decision, marks it changed
	// after decision.
	given.Text = "Costly for families."
	w.do(w.svc.CorrectEvent(w.ctx, as(w.director, domain.RoleDirector), governance.ProposalStream(w.proposal), domain.Correction{EventID: advice,
		Replacement: given, Reason: "Text mistyped."}))
	v = w.fold(ProposalsView, w.head()).(*Proposals)
	p, _ = v.Proposal(w.proposal, names)
	if !p.ChangedAfterDecision || len(p.Corrections) != 1 || p.Corrections[0].EventID != advice || p.Corrections[0].Reason != "Text mistyped." {
		t.Fatalf("after correction = %+v", p.Corrections)
	}
	if d := v.Decided(Period{}); len(d) != 1 || d[0].ID != w.proposal || !d[0].ChangedAfterDecision {
		t.Fatalf("decided after correction = %+v, want the proposal changed after decision", d)
	}
	// As known then the advice keeps its first text; as corrected now it
	// reads the corrected one, still marked.
	if p.Advice[0].Text != "Costly." {
		t.Fatalf("as known then: advice %q", p.Advice[0].Text)
	}
	corrected := NewProposals()
	if _, err := projections.FoldCorrected(w.ctx, w.store, w.codec, corrected, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if cp, _ := corrected.Proposal(w.proposal, names); cp.Advice[0].Text != "Costly for families." || !cp.ChangedAfterDecision {
		t.Fatalf("as corrected now: %+v", cp.Advice)
	}
	if reg := v.Register(ProposalFilter{School: w.school, Status: governance.StatusApproved}, names); len(reg) != 1 || reg[0].ID != w.proposal {
		t.Fatalf("register = %+v", reg)
	}
	if reg := v.Register(ProposalFilter{Community: w.communities[1]}, names); len(reg) != 0 {
		t.Fatalf("register of ISLC 1 = %+v", reg)
	}
}

func TestAuditViewFiltersAndPages(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	head := w.head()
	v := w.fold(AuditView, head).(*Audit)
	if v.Len() != int(head) {
		t.Fatalf("audit holds %d events, log %d", v.Len(), head)
	}
	// Paging through everything visits every position once, in order.
	var seen []uint64
	cursor := uint64(0)
	for pages := 0; ; pages++ {
		page := v.Events(AuditFilter{}, cursor, 7, names)
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
	for i, p := range seen {
		if p != uint64(i+1) {
			t.Fatalf("paged positions %v", seen)
		}
	}
	// By type.
	page := v.Events(AuditFilter{Type: "ChairElected"}, 0, 100, names)
	if len(page.Entries) != 2 || page.Entries[0].Type != "ChairElected" || !strings.Contains(page.Entries[0].Summary, "elected") {
		t.Fatalf("ChairElected entries = %+v", page.Entries)
	}
	// By person: the leaver's registration, joining, vote, leaving.
	page = v.Events(AuditFilter{Person: w.leaver}, 0, 100, names)
	types := map[string]bool{}
	for _, e := range page.Entries {
		types[e.Type] = true
	}
	for _, want := range []string{"StaffRegistered", "MemberJoined", "VoteCast", "MemberLeft"} {
		if !types[want] {
			t.Errorf("person filter lacks %s: %v", want, types)
		}
	}
	for _, e := range page.Entries {
		if e.Type == "VoteCast" && (e.Actor.ID != w.leaver || e.Actor.Name != "Teacher 03" || e.Role != domain.RoleStaff) {
			t.Fatalf("vote entry actor = %+v", e.Actor)
		}
	}
	// By community and school: every event of ISLC 1's stream is linked.
	page = v.Events(AuditFilter{Community: w.communities[1]}, 0, 1000, names)
	n := 0
	for _, m := range w.messages() {
		if m.Stream == governance.CommunityStream(w.communities[1]) {
			n++
		}
	}
	if len(page.Entries) < n {
		t.Fatalf("community filter: %d entries, the stream alone has %d", len(page.Entries), n)
	}
	all := v.Events(AuditFilter{School: w.school}, 0, 1000, names)
	if len(all.Entries) != int(head) {
		t.Fatalf("school filter: %d entries, want every one of %d", len(all.Entries), head)
	}
	// By time: only the February events.
	feb := v.Events(AuditFilter{From: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, 0, 100, names)
	for _, e := range feb.Entries {
		if e.RecordedAt.Month() != 2 {
			t.Fatalf("time filter returned %s at %s", e.Type, e.RecordedAt)
		}
	}
	if len(feb.Entries) != 2 {
		t.Fatalf("february entries = %d, want 2", len(feb.Entries))
	}
	// Combined, and a proposal link carries its title.
	dec := v.Events(AuditFilter{Type: "ProposalApproved", Person: w.director}, 0, 100, names)
	if len(dec.Entries) != 1 || dec.Entries[0].CorrelationID == uuid.Nil {
		t.Fatalf("approvals by the Director = %+v", dec.Entries)
	}
	found := false
	for _, l := range dec.Entries[0].Links {
		if l.Kind == LinkProposal && l.ID == w.proposal && l.Name == "One project week" {
			found = true
		}
	}
	if !found {
		t.Fatalf("links = %+v", dec.Entries[0].Links)
	}
	if none := v.Events(AuditFilter{Person: uuid.New()}, 0, 10, names); len(none.Entries) != 0 {
		t.Fatal("unknown person matched")
	}
}

// TestRebuiltEqualsLive runs the engine live over the year, then rebuilds
// each view from zero: the same bytes.
func TestRebuiltEqualsLive(t *testing.T) {
	w := newGovWorld(t)
	factories := govFactories()
	e, err := projections.Open(w.store, w.codec, filepath.Join(t.TempDir(), "p.db"), projections.Options{SnapshotEvery: 16}, factories...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	w.run(nil)
	if err := e.CatchUp(w.ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range govViews {
		live := viewBytes(t, e, name)
		if want, _ := w.fold(name, w.head()).MarshalState(); !bytes.Equal(live, want) {
			t.Fatalf("%s: live differs from a fold from zero", name)
		}
		if err := e.Rebuild(w.ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		if rebuilt := viewBytes(t, e, name); !bytes.Equal(rebuilt, live) {
			t.Fatalf("%s: rebuilt differs from live", name)
		}
	}
	for _, st := range e.Status(w.ctx) {
		if st.Failure != nil || st.Lag != 0 {
			t.Fatalf("status %+v", st)
		}
	}
}

func govFactories() []projections.Factory {
	var out []projections.Factory
	for _, n := range govViews {
		f, _ := factory(n)
		out = append(out, f)
	}
	return out
}

func viewBytes(t *testing.T, e *projections.Engine, name string) []byte {
	t.Helper()
	var b []byte
	if _, err := e.View(name, func(p projections.Projection) error {
		var err error
		b, err = p.MarshalState()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAsOfEqualsFoldFromZeroOverGovViews is the as-of property over random
// school years: for random positions, the engine's answer (snapshot plus
// tail) equals folding events 1..pos from zero, for every view here.
func TestAsOfEqualsFoldFromZeroOverGovViews(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		w := newGovWorld(t)
		e, err := projections.Open(w.store, w.codec, filepath.Join(t.TempDir(), "p.db"),
			projections.Options{SnapshotEvery: uint64(3 + rng.IntN(25)), CheckpointEvery: 1 + rng.IntN(40)}, govFactories()...)
		if err != nil {
			t.Fatal(err)
		}
		w.run(rng)
		if err := e.CatchUp(w.ctx); err != nil {
			t.Fatal(err)
		}
		head := w.head()
		positions := []uint64{1, head}
		for range 12 {
			positions = append(positions, 1+uint64(rng.IntN(int(head))))
		}
		for _, name := range govViews {
			for _, pos := range positions {
				p, err := e.AsOf(context.Background(), name, pos)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := p.MarshalState()
				want, _ := w.fold(name, pos).MarshalState()
				if !bytes.Equal(got, want) {
					t.Fatalf("seed %d %s at %d: as-of differs from a fold from zero", seed, name, pos)
				}
			}
		}
		e.Close()
	}
}

// TestConfidenceVoteAndRunOff extends the year: ISLC 1 loses confidence
// in its chair; the election opened in the same step ties and a run-off
// elects staff 5. The elections, communities and leadership-team views
// follow.
func TestConfidenceVoteAndRunOff(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	ctx, admin, s, c1 := w.ctx, w.admin, w.staff, w.communities[1]
	w.now = time.Date(2026, 4, 20, 9, 0, 0, 0, time.UTC)
	vote := newID()
	w.do(w.svc.CallConfidenceVote(ctx, as(s[5], domain.RoleStaff), governance.CallConfidenceVote{CommunityID: c1, VoteID: vote, Year: scYear}))
	for p, choice := range map[uuid.UUID]string{s[4]: governance.ChoiceConfidence, s[5]: governance.ChoiceNoConfidence, w.director: governance.ChoiceNoConfidence} {
		w.do(w.svc.CastConfidenceVote(ctx, as(p, domain.RoleStaff), governance.CastConfidenceVote{CommunityID: c1, VoteID: vote, Choice: choice}))
	}
	w.do(w.svc.CloseConfidenceVote(ctx, admin, governance.CloseConfidenceVote{CommunityID: c1, VoteID: vote}))
	next := governance.NextElectionID(vote)
	for _, p := range []uuid.UUID{s[5], w.director} {
		w.do(w.svc.Nominate(ctx, as(p, domain.RoleStaff), governance.Nominate{CommunityID: c1, ElectionID: next, NomineeID: p}))
		w.do(w.svc.AcceptNomination(ctx, as(p, domain.RoleStaff), governance.AnswerNomination{CommunityID: c1, ElectionID: next}))
	}
	w.do(w.svc.OpenVoting(ctx, admin, governance.OpenVoting{CommunityID: c1, ElectionID: next}))
	for _, p := range []uuid.UUID{s[5], w.director} {
		w.do(w.svc.CastVote(ctx, as(p, domain.RoleStaff), governance.CastVote{CommunityID: c1, ElectionID: next, CandidateID: p}))
	}
	w.do(w.svc.CloseElection(ctx, admin, governance.CloseElection{CommunityID: c1, ElectionID: next}))
	runOff := governance.RunOffID(next)
	for _, p := range []uuid.UUID{s[4], s[5]} {
		w.do(w.svc.CastVote(ctx, as(p, domain.RoleStaff), governance.CastVote{CommunityID: c1, ElectionID: runOff, CandidateID: s[5]}))
	}
	w.do(w.svc.CloseElection(ctx, admin, governance.CloseElection{CommunityID: c1, ElectionID: runOff}))

	names := w.names()
	ev := w.fold(ElectionsView, w.head()).(*Elections)
	cv, ok := ev.ConfidenceVote(vote, names)
	if !ok || cv.Outcome != governance.OutcomeLost || cv.Confidence != 1 || cv.NoConfidence != 2 || cv.NextElection != next || cv.Chair.ID != s[4] ||
		cv.Turnout != (Turnout{Voted: 3, Eligible: 3, Required: 2, QuorumMet: true}) {
		t.Fatalf("confidence vote = %+v", cv)
	}
	tied, _ := ev.Election(next, names)
	if !tied.Tie || tied.RunOff != runOff || tied.Elected != nil || tied.AfterConfidenceVote != vote || tied.CorrelationID != cv.CorrelationID {
		t.Fatalf("tied election = %+v", tied)
	}
	ro, _ := ev.Election(runOff, names)
	if ro.RunOffOf != next || ro.Elected == nil || ro.Elected.ID != s[5] || ro.Status != governance.StatusClosed || ro.Turnout.Voted != 2 {
		t.Fatalf("run-off = %+v", ro)
	}
	if b := ev.Of(c1, "", names); len(b.Elections) != 4 || len(b.ConfidenceVotes) != 1 || b.Elections[3].ID != runOff {
		t.Fatalf("ballots = %d elections, %d votes", len(b.Elections), len(b.ConfidenceVotes))
	}

	cv2 := w.fold(CommunitiesView, w.head()).(*Communities)
	c, _ := cv2.Community(c1, names)
	if c.Chair == nil || c.Chair.ID != s[5] || len(c.ChairHistory) != 2 || c.ChairHistory[0].EndedBy != governance.ChairRemovedBy || c.ChairHistory[0].InOffice ||
		c.ChairHistory[1].ElectionID != runOff {
		t.Fatalf("chairs = %+v", c.ChairHistory)
	}
	team, _ := w.fold(LeadershipTeamView, w.head()).(*LeadershipTeams).Team(w.school, scYear, names)
	if got, want := refIDs(team.Members), []uuid.UUID{w.director, w.chair0, s[5]}; !slices.Equal(got, want) {
		t.Fatalf("team = %v, want %v", got, want)
	}
}

// The challenges view shows the governors' challenges open and answered,
// and what they are about.
func TestChallengesView(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	names := w.names()
	v := w.fold(ChallengesView, w.head()).(*Challenges)
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	all := v.List(ChallengeFilter{Schools: []uuid.UUID{w.school}}, now, names)
	if len(all) != 2 {
		t.Fatalf("challenges = %+v", all)
	}
	open, answered := all[0], all[1]
	if open.ID != w.openChallenge || open.Answered || !open.Overdue || open.Subject.Kind != governance.SubjectSchool || open.Subject.Name != "Infinity School" ||
		open.Governor.Name != "Governor Grey" || open.School.Name != "Infinity School" {
		t.Fatalf("open challenge = %+v", open)
	}
	if answered.ID != w.challenged || !answered.Answered || !answered.Late || answered.Director == nil || answered.Director.ID != w.director ||
		answered.Subject.Name != "One project week" || answered.Answer != "Pupil voice and work scrutiny." || !answered.AnsweredOn.Equal(time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("answered challenge = %+v", answered)
	}
	if got := v.Counts(ChallengeFilter{}, now); got != (ChallengeCounts{Open: 1, Overdue: 1, Answered: 1, AnsweredLate: 1}) {
		t.Fatalf("counts = %+v", got)
	}
	if got := v.List(ChallengeFilter{Status: ChallengeOpen, From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)}, now, names); len(got) != 1 || got[0].ID != w.openChallenge {
		t.Fatalf("open in March = %+v", got)
	}
	if got := v.List(ChallengeFilter{Schools: []uuid.UUID{newID()}}, now, names); len(got) != 0 {
		t.Fatalf("another school's = %+v", got)
	}
}
