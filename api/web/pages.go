package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/replay"
	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
)

// academicYear is the academic year ("2025-26") that day t falls in: it
// starts on 1 September.
func academicYear(t time.Time) string {
	y := t.Year()
	if t.Month() < time.September {
		y--
	}
	return fmt.Sprintf("%d-%02d", y, (y+1)%100)
}

// year is the academic year a page shows: ?year= or the one of rq.now.
func (rq *req) year() (string, error) {
	y := rq.r.URL.Query().Get("year")
	if y == "" {
		return academicYear(rq.now), nil
	}
	if len(y) != 7 || y[4] != '-' {
		return "", badInput{fmt.Sprintf("year %q is not an academic year like 2025-26", y)}
	}
	if _, err := strconv.Atoi(y[:4]); err != nil {
		return "", badInput{fmt.Sprintf("year %q is not an academic year like 2025-26", y)}
	}
	return y, nil
}

func pathID(rq *req, name string) (uuid.UUID, error) {
	s := chi.URLParam(rq.r, name)
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, badInput{fmt.Sprintf("%q is not a valid id", s)}
	}
	return id, nil
}

func queryID(rq *req, name string) (uuid.UUID, error) {
	s := rq.r.URL.Query().Get(name)
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, badInput{fmt.Sprintf("%s %q is not a valid id", name, s)}
	}
	return id, nil
}

// forbiddenError is a page outside the caller's scope.
type forbiddenError struct{ what string }

func (e forbiddenError) Error() string { return e.what }

// visibility returns what the signed-in person may read, from the
// application layer's policy, worked out once per page.
func (st *site) visibility(rq *req) (app.Visibility, error) {
	if rq.vis == nil {
		v, err := st.s.App.Visibility(rq.ctx, rq.actor)
		if err != nil {
			return v, err
		}
		rq.vis = &v
	}
	return *rq.vis, nil
}

// scopeSchool refuses a page of a school whose records the signed-in
// person may not read ("ReadSchool", as the API's reads).
func (st *site) scopeSchool(rq *req, school uuid.UUID) error {
	if school == uuid.Nil {
		return nil
	}
	v, err := st.visibility(rq)
	if err != nil {
		return err
	}
	if v.ReadsSchool(school) {
		return nil
	}
	return forbiddenError{"these are another school's own records: only its staff, governors and its partnership's auditors read them"}
}

// read reads view name of type V at the page's reading.
func read[V projections.Projection](st *site, rq *req, name string, fn func(V) error) (uint64, error) {
	pos, err := views.Read(rq.ctx, st.s.L.Views, name, rq.asOf, fn)
	if pos > rq.data.Pos {
		rq.data.Pos = pos
	}
	return pos, err
}

// partnershipOf picks the partnership a partnership page shows:
// ?partnership=, else the principal's, else the first.
func (st *site) partnershipOf(rq *req) (views.PartnershipInfo, []views.PartnershipInfo, error) {
	want, err := queryID(rq, "partnership")
	if err != nil {
		return views.PartnershipInfo{}, nil, err
	}
	vis, err := st.visibility(rq)
	if err != nil {
		return views.PartnershipInfo{}, nil, err
	}
	if want != uuid.Nil && !vis.ReadsPartnership(want) {
		return views.PartnershipInfo{}, nil, forbiddenError{"you are not part of that partnership: only its schools' people, its lead and its auditors read it"}
	}
	var list []views.PartnershipInfo
	_, err = read(st, rq, "partnerships", func(v *views.Partnerships) error {
		for _, p := range v.List(rq.names) {
			if vis.ReadsPartnership(p.ID) {
				list = append(list, p)
			}
		}
		return nil
	})
	if err != nil {
		return views.PartnershipInfo{}, nil, err
	}
	for _, p := range list {
		if want == uuid.Nil || p.ID == want {
			return p, list, nil
		}
	}
	if want != uuid.Nil && rq.r.URL.Query().Get("partnership") != "" {
		return views.PartnershipInfo{}, list, notFound("there is no partnership %s %s", want, rq.asOf.Describe())
	}
	if len(list) > 0 {
		return list[0], list, nil
	}
	return views.PartnershipInfo{}, list, nil
}

// --- Overview.

type overviewData struct {
	Partnership  views.PartnershipInfo
	Partnerships []views.PartnershipInfo
	Schools      []views.SchoolSummary
	Year         string
	Loans        []views.StatusCount
	Resources    int
	CPD          views.CPDTotals
	Secondments  int
	Commitments  map[string]int
	Recognised   int
	Costs        views.CostSummary
	// Next and Outstanding are timeline items, the same item of several
	// schools' timelines on one line.
	Next        []timelineGroup
	Outstanding []timelineGroup
}

func (st *site) overview(rq *req) (string, error) {
	rq.data.Title, rq.data.Nav = "Partnership overview", "overview"
	d := &overviewData{Commitments: map[string]int{}}
	rq.data.Data = d
	var err error
	if d.Year, err = rq.year(); err != nil {
		return "", err
	}
	if d.Partnership, d.Partnerships, err = st.partnershipOf(rq); err != nil {
		return "", err
	}
	if _, err := read(st, rq, views.SchoolsView, func(v *views.Schools) error {
		for _, sc := range v.Schools(rq.names) {
			if st.scopeSchool(rq, sc.ID) == nil {
				d.Schools = append(d.Schools, sc)
			}
		}
		return nil
	}); err != nil {
		return "", err
	}
	pid := d.Partnership.ID
	if pid == uuid.Nil {
		return "overview", nil
	}
	steps := []struct {
		name string
		fn   func(projections.Projection) error
	}{
		{"loans", func(p projections.Projection) error {
			d.Loans = p.(*views.Loans).Counts(pid, d.Year, rq.now)
			return nil
		}},
		{"resources", func(p projections.Projection) error { d.Resources = len(p.(*views.Resources).List(pid)); return nil }},
		{"cpd", func(p projections.Projection) error { d.CPD = p.(*views.CPD).Totals(pid, d.Year); return nil }},
		{"secondments", func(p projections.Projection) error {
			l, err := p.(*views.Secondments).List(pid, d.Year, nil)
			d.Secondments = len(l)
			return err
		}},
		{"commitments", func(p projections.Projection) error {
			for _, c := range p.(*views.Commitments).List(pid, d.Year, rq.now, nil) {
				d.Commitments[c.Status]++
				if c.Overdue {
					d.Commitments["overdue"]++
				}
			}
			return nil
		}},
		{"celebrations", func(p projections.Projection) error {
			d.Recognised = len(p.(*views.Celebrations).List(pid, d.Year, nil))
			return nil
		}},
		{"costs", func(p projections.Projection) error {
			var err error
			d.Costs, err = p.(*views.Costs).Summary(pid, d.Year)
			return err
		}},
		{"timeline", func(p projections.Projection) error {
			t := p.(*views.Timelines)
			d.Next = groupTimeline(t.Next(pid, d.Year, rq.now, 0), d.Partnership.Current, 6)
			d.Outstanding = groupTimeline(t.Outstanding(pid, d.Year, rq.now), d.Partnership.Current, 0)
			return nil
		}},
	}
	for _, s := range steps {
		pos, err := st.s.L.Views.View(rq.ctx, s.name, rq.asOf, s.fn)
		if err != nil {
			return "", err
		}
		rq.data.Pos = max(rq.data.Pos, pos)
	}
	return "overview", nil
}

// --- School.

type schoolData struct {
	School      views.School
	Year        string
	Years       []string
	Communities []communityRow
	Team        views.Team
	HasTeam     bool
	Unassigned  []views.Assignment
	Chart       barChart
}

type communityRow struct {
	views.CommunitySummary
	Active  int
	Balance views.Balance
}

func (st *site) school(rq *req) (string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", err
	}
	d := &schoolData{}
	rq.data.Data, rq.data.Nav = d, "overview"
	found := false
	if _, err := read(st, rq, views.SchoolsView, func(v *views.Schools) error {
		d.School, found = v.School(id, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if !found {
		return "", notFound("there is no school %s %s", id, rq.asOf.Describe())
	}
	if err := st.scopeSchool(rq, id); err != nil {
		return "", err
	}
	rq.data.Title = d.School.Name
	for _, y := range d.School.Years {
		d.Years = append(d.Years, y.Label)
	}
	if d.Year, err = rq.year(); err != nil {
		return "", err
	}
	if rq.r.URL.Query().Get("year") == "" && len(d.Years) > 0 && !contains(d.Years, d.Year) {
		d.Year = d.Years[len(d.Years)-1]
	}
	if _, err := read(st, rq, views.CommunitiesView, func(v *views.Communities) error {
		for _, c := range v.CommunitiesOf(id, rq.names) {
			row := communityRow{CommunitySummary: c, Active: c.Members[d.Year]}
			if full, ok := v.Community(c.ID, rq.names); ok {
				for _, y := range full.Years {
					if y.Year == d.Year {
						row.Balance = y.Balance
					}
				}
			}
			d.Communities = append(d.Communities, row)
		}
		d.Chart = newMembershipChart(v.MembershipOverYears(id))
		return nil
	}); err != nil {
		return "", err
	}
	if _, err := read(st, rq, views.LeadershipTeamView, func(v *views.LeadershipTeams) error {
		d.Team, d.HasTeam = v.Team(id, d.Year, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if _, err := read(st, rq, views.SchoolsView, func(v *views.Schools) error {
		d.Unassigned = v.Unassigned(id, d.Year, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	return "school", nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// --- Community.

type communityData struct {
	C         views.Community
	Ballots   views.Ballots
	Proposals []views.Proposal
	Year      string
	Members   []views.Ref // active members of the latest year, for forms
	Me        uuid.UUID
}

func (st *site) community(rq *req) (string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", err
	}
	d := &communityData{Me: rq.actor.PersonID}
	rq.data.Data, rq.data.Nav = d, "overview"
	found := false
	if _, err := read(st, rq, views.CommunitiesView, func(v *views.Communities) error {
		d.C, found = v.Community(id, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if !found {
		return "", notFound("there is no ISLC %s %s", id, rq.asOf.Describe())
	}
	if err := st.scopeSchool(rq, d.C.School.ID); err != nil {
		return "", err
	}
	rq.data.Title = d.C.Name + " ISLC"
	if n := len(d.C.Years); n > 0 {
		d.Year = d.C.Years[n-1].Year
		for _, m := range d.C.Years[n-1].Members {
			if m.Active {
				d.Members = append(d.Members, m.Person)
			}
		}
	}
	if _, err := read(st, rq, views.ElectionsView, func(v *views.Elections) error {
		d.Ballots = v.Of(id, "", rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if _, err := read(st, rq, views.ProposalsView, func(v *views.Proposals) error {
		d.Proposals = v.Register(views.ProposalFilter{Community: id}, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	return "community", nil
}

// --- Proposal.

type proposalData struct {
	P        views.Proposal
	Versions []versionDiff
	Decided  bool
}

// versionDiff is a version with what changed from the one before.
type versionDiff struct {
	views.VersionView
	Changes []fieldChange
}

type fieldChange struct {
	Field string
	Words []diffWord
}

func (st *site) proposal(rq *req) (string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", err
	}
	d := &proposalData{}
	rq.data.Data, rq.data.Nav = d, "overview"
	found := false
	if _, err := read(st, rq, views.ProposalsView, func(v *views.Proposals) error {
		d.P, found = v.Proposal(id, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if !found {
		return "", notFound("there is no proposal %s %s", id, rq.asOf.Describe())
	}
	if err := st.scopeSchool(rq, d.P.School.ID); err != nil {
		return "", err
	}
	rq.data.Title = "Proposal: " + d.P.Title
	d.Decided = len(d.P.Decisions) > 0
	for i, v := range d.P.Versions {
		vd := versionDiff{VersionView: v}
		if i > 0 {
			vd.Changes = versionChanges(d.P.Versions[i-1], v)
		}
		d.Versions = append(d.Versions, vd)
	}
	return "proposal", nil
}

func moneyText(m *governance.Money) string {
	if m == nil {
		return "none"
	}
	return m.String()
}

func versionChanges(a, b views.VersionView) []fieldChange {
	var out []fieldChange
	for _, f := range []struct{ name, a, b string }{
		{"Title", a.Title, b.Title},
		{"Proposal", a.Body, b.Body},
		{"Costs", moneyText(a.Costs), moneyText(b.Costs)},
		{"Expected impact", a.ExpectedImpact, b.ExpectedImpact},
	} {
		if f.a != f.b {
			out = append(out, fieldChange{Field: f.name, Words: wordDiff(f.a, f.b)})
		}
	}
	return out
}

// diffWord is one word of a word-level diff: Op is "" (kept), "del" or
// "ins".
type diffWord struct {
	Op, Text string
}

// wordDiff is a longest-common-subsequence diff of two texts' words.
func wordDiff(a, b string) []diffWord {
	x, y := strings.Fields(a), strings.Fields(b)
	if len(x)*len(y) > 250000 { // too long to align: show old then new
		return []diffWord{{"del", a}, {"ins", b}}
	}
	l := make([][]int, len(x)+1)
	for i := range l {
		l[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var out []diffWord
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i] == y[j]:
			out = append(out, diffWord{"", x[i]})
			i, j = i+1, j+1
		case l[i+1][j] >= l[i][j+1]:
			out = append(out, diffWord{"del", x[i]})
			i++
		default:
			out = append(out, diffWord{"ins", y[j]})
			j++
		}
	}
	for ; i < len(x); i++ {
		out = append(out, diffWord{"del", x[i]})
	}
	for ; j < len(y); j++ {
		out = append(out, diffWord{"ins", y[j]})
	}
	return out
}

// --- Replay.

type replayData struct {
	Kind     string
	ID       uuid.UUID
	Back     string
	BackText string
	// What names the decision in words ("the proposal", "the loan").
	What  string
	Steps []replayStep
	Step  int
	Cur   replayStep
	Prev  int
	Next  int
}

type replayStep struct {
	N        int
	Position uint64
	Type     string
	// Heading says what happened in a sentence; State is the decision
	// after the step in labelled fields.
	Heading   string
	State     []replay.Field
	Summary   string
	Actor     string
	Role      string
	Reason    string
	At        time.Time
	Effective time.Time
}

// replay steps through a proposal's stream one event at a time: who, in
// what role, when, why, and the proposal as the register showed it just
// after that event.
func (st *site) replay(rq *req) (string, error) { return st.replayOf(rq, replay.KindProposal) }

// replayElection steps through an election of a chair.
func (st *site) replayElection(rq *req) (string, error) { return st.replayOf(rq, replay.KindElection) }

// replayLoan steps through a loan from its request to its return.
func (st *site) replayLoan(rq *req) (string, error) { return st.replayOf(rq, replay.KindLoan) }

func (st *site) replayOf(rq *req, kind string) (string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", err
	}
	d := &replayData{Kind: kind, ID: id}
	rq.data.Data, rq.data.Nav = d, "overview"
	limit := uint64(0)
	if !rq.asOf.Live() && !rq.asOf.Corrected {
		limit = rq.asOf.Position
		if limit == 0 {
			if limit, err = st.s.L.Store.PositionAt(rq.ctx, rq.asOf.Time); err != nil {
				return "", err
			}
			if limit == 0 {
				return "", notFound("nothing was recorded %s", rq.asOf.Describe())
			}
		}
	}
	if kind == replay.KindProposal {
		return st.replayProposal(rq, d, limit)
	}
	rp, err := st.s.Replayer(rq.ctx).Replay(rq.ctx, replay.Request{Kind: kind, ID: id, AsOf: limit, Names: rq.names})
	if errors.Is(err, replay.ErrNotFound) {
		return "", notFound("there is no %s %s %s", kind, id, rq.asOf.Describe())
	}
	if err != nil {
		return "", err
	}
	for _, s := range rp.Steps {
		actor, role := s.ActorName, s.Role
		if actor == "" {
			actor, role = replay.ByRole(s.Role), ""
		}
		d.Steps = append(d.Steps, replayStep{N: len(d.Steps) + 1, Position: s.Position, Type: s.Type, Heading: s.Heading, State: s.State, Summary: s.Summary,
			Actor: actor, Role: role, Reason: s.Reason, At: s.RecordedAt, Effective: s.EffectiveAt})
	}
	if len(d.Steps) == 0 {
		return "", notFound("there is no %s %s %s", kind, id, rq.asOf.Describe())
	}
	if err := chooseStep(rq, d); err != nil {
		return "", err
	}
	return st.replayOther(rq, d)
}

// chooseStep sets d's current step from ?step= (default: the last).
func chooseStep(rq *req, d *replayData) error {
	d.Step = len(d.Steps)
	if s := rq.r.URL.Query().Get("step"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > len(d.Steps) {
			return badInput{fmt.Sprintf("step %q is not between 1 and %d", s, len(d.Steps))}
		}
		d.Step = n
	}
	d.Cur = d.Steps[d.Step-1]
	d.Prev, d.Next = d.Step-1, d.Step+1
	if d.Next > len(d.Steps) {
		d.Next = 0
	}
	return nil
}

// replayProposal steps through a proposal from its own stream: every event
// of a proposal's decision is in it, so the page reads one stream and folds
// the domain's aggregate as it goes (the state after each step in words,
// without the JSON states replay.Replayer renders beside them).
func (st *site) replayProposal(rq *req, d *replayData, limit uint64) (string, error) {
	var p views.Proposal
	found := false
	if _, err := read(st, rq, views.ProposalsView, func(v *views.Proposals) error {
		p, found = v.Proposal(d.ID, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if !found {
		return "", notFound("there is no proposal %s %s", d.ID, rq.asOf.Describe())
	}
	if err := st.scopeSchool(rq, p.School.ID); err != nil {
		return "", err
	}
	recs, err := st.s.L.Store.ReadStream(rq.ctx, governance.ProposalStream(d.ID), 0, eventstore.Forward, 0)
	if err != nil {
		return "", err
	}
	named := map[uuid.UUID]string{p.Community.ID: p.Community.Name, p.School.ID: p.School.Name}
	namer := replay.Namer{People: rq.names.Name, Things: func(id uuid.UUID) string { return named[id] }}
	agg := governance.NewProposal()
	var title string
	for _, rec := range recs {
		if limit != 0 && rec.Position > limit {
			break
		}
		m, err := st.s.L.Codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			return "", fmt.Errorf("replay of proposal %s: decode position %d: %w", d.ID, rec.Position, err)
		}
		agg.Apply(m)
		named[d.ID] = agg.Current().Title
		actor, role := replay.Actor(m, namer), m.Meta.ActorRole
		if actor == replay.ByRole(role) {
			role = ""
		}
		summary := views.SummaryNamed(m, namer.Things)
		d.Steps = append(d.Steps, replayStep{N: len(d.Steps) + 1, Position: m.Position, Type: m.Type, Heading: replay.Heading(m, namer, summary),
			State: replay.ProposalFields(agg, namer), Actor: actor, Role: role, Summary: summary, Reason: m.Meta.Reason, At: m.RecordedAt.UTC(), Effective: m.Effective().UTC()})
	}
	if len(d.Steps) == 0 {
		return "", notFound("there is no proposal %s %s", d.ID, rq.asOf.Describe())
	}
	if err := chooseStep(rq, d); err != nil {
		return "", err
	}
	title = named[d.ID]
	d.What = "proposal"
	d.Back, d.BackText = "/proposals/"+d.ID.String(), "Back to the proposal"
	rq.data.Title = fmt.Sprintf("Replay of “%s”, step %d of %d", title, d.Step, len(d.Steps))
	return "replay", nil
}

// replayOther finishes the replay page of an election or a loan: the
// caller's scope and the page's title from the views.
func (st *site) replayOther(rq *req, d *replayData) (string, error) {
	d.What = d.Kind
	switch d.Kind {
	case replay.KindElection:
		var e views.Election
		found := false
		if _, err := read(st, rq, views.ElectionsView, func(v *views.Elections) error {
			e, found = v.Election(d.ID, rq.names)
			return nil
		}); err != nil {
			return "", err
		}
		if found {
			if err := st.scopeSchool(rq, e.School.ID); err != nil {
				return "", err
			}
			d.Back, d.BackText = "/communities/"+e.Community.ID.String(), "Back to "+e.Community.Name
			rq.data.Title = fmt.Sprintf("Replay of the election of the chair of %s, %s: step %d of %d", e.Community.Name, e.Year, d.Step, len(d.Steps))
			return "replay", nil
		}
	case replay.KindLoan:
		p, _, err := st.partnershipOf(rq)
		if err != nil {
			return "", err
		}
		var loan *views.LoanEntry
		if _, err := read(st, rq, "loans", func(v *views.Loans) error {
			if l, ok := v.LoanIn(p.ID, d.ID, rq.now); ok {
				loan = &l
			}
			return nil
		}); err != nil {
			return "", err
		}
		if loan != nil {
			// partnershipOf gave a partnership the caller reads.
			d.Back, d.BackText = "/resources#r-"+loan.ResourceID.String(), "Back to "+loan.ResourceName
			rq.data.Title = fmt.Sprintf("Replay of the loan of %s to %s: step %d of %d", loan.ResourceName, loan.Borrower.Name, d.Step, len(d.Steps))
			return "replay", nil
		}
	}
	if !rq.actor.IsAdmin() {
		return "", forbiddenError{"this is not one of your school's"}
	}
	rq.data.Title = fmt.Sprintf("Replay of %s %s: step %d of %d", d.Kind, d.ID, d.Step, len(d.Steps))
	return "replay", nil
}

// --- Resources.

type resourcesData struct {
	Partnership views.PartnershipInfo
	Year        string
	Resources   []resourceRow
	Loans       []loanRow
	Overdue     []views.LoanEntry
	Secondments []views.SecondmentEntry
	CPD         []views.CPDEventInfo
	CPDTotals   views.CPDTotals
	Schools     []views.Ref // member schools, for the loan form and the filter
	MySchool    uuid.UUID
	// School filters resources and loans (zero: every school).
	School uuid.UUID
	// Offered are the resources on offer, for the loan form.
	Offered []views.ResourceInfo
	// LoanCount is how many loans the filter selects; Loans holds one
	// page of them, from FirstLoan.
	LoanCount          int
	FirstLoan          int
	PrevPage, NextPage string
	// CPDRows and OfferedOptions are CPD and Offered drawn (rows.go).
	CPDRows, OfferedOptions template.HTML
}

type resourceRow struct {
	views.ResourceInfo
	Calendar []views.Booking
}

// loansPerPage bounds the loans table: a partnership of fifty schools
// records thousands of loans a year.
var loansPerPage = 100

func (st *site) resources(rq *req) (string, error) {
	d := &resourcesData{MySchool: rq.standing.School}
	rq.data.Data, rq.data.Title, rq.data.Nav = d, "Shared resources", "resources"
	var err error
	if d.Year, err = rq.year(); err != nil {
		return "", err
	}
	if d.Partnership, _, err = st.partnershipOf(rq); err != nil {
		return "", err
	}
	pid := d.Partnership.ID
	if pid == uuid.Nil {
		return "resources", nil
	}
	for _, m := range d.Partnership.Members {
		if m.Current {
			d.Schools = append(d.Schools, m.School)
		}
	}
	// Which school's resources and loans: ?school= (all for "all"), else
	// the caller's own school, else all.
	switch q := rq.r.URL.Query().Get("school"); q {
	case "all":
	case "":
		d.School = rq.standing.School
	default:
		if d.School, err = queryID(rq, "school"); err != nil {
			return "", err
		}
	}
	ours := func(ids ...uuid.UUID) bool {
		if d.School == uuid.Nil {
			return true
		}
		for _, id := range ids {
			if id == d.School {
				return true
			}
		}
		return false
	}
	page := 1
	if s := rq.r.URL.Query().Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 1 || page > 1<<30 {
			return "", badInput{fmt.Sprintf("page %q is not a page number", s)}
		}
	}
	// The calendars show the bookings of the year asked for.
	y, _ := strconv.Atoi(d.Year[:4])
	from := time.Date(y, time.September, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	if _, err := read(st, rq, "resources", func(v *views.Resources) error {
		for _, r := range v.List(pid) {
			if r.Offered {
				d.Offered = append(d.Offered, r)
			}
			// A school's calendars are those of the resources it owns;
			// what it borrows is in the loans below.
			if !ours(r.Owner.ID) {
				continue
			}
			row := resourceRow{ResourceInfo: r}
			for _, b := range v.Calendar(r.ID) {
				if b.End.After(from) && b.Start.Before(to) {
					row.Calendar = append(row.Calendar, b)
				}
			}
			d.Resources = append(d.Resources, row)
		}
		return nil
	}); err != nil {
		return "", err
	}
	var loans []views.LoanEntry
	if _, err := read(st, rq, "loans", func(v *views.Loans) error {
		var keep func(owner, borrower uuid.UUID) bool
		if d.School != uuid.Nil {
			keep = func(owner, borrower uuid.UUID) bool { return ours(owner, borrower) }
		}
		loans, d.LoanCount = v.RegisterPageOf(pid, d.Year, rq.now, (page-1)*loansPerPage, loansPerPage, keep)
		for _, l := range v.Overdue(pid, rq.now) {
			if ours(l.Owner.ID, l.Borrower.ID) {
				d.Overdue = append(d.Overdue, l)
			}
		}
		return nil
	}); err != nil {
		return "", err
	}
	if d.Loans, err = st.loanRows(rq, pid, loans); err != nil {
		return "", err
	}
	q := rq.r.URL.Query()
	if page > 1 {
		q.Set("page", strconv.Itoa(page-1))
		d.PrevPage = "/resources?" + q.Encode()
	}
	if page*loansPerPage < d.LoanCount {
		q.Set("page", strconv.Itoa(page+1))
		d.NextPage = "/resources?" + q.Encode()
	}
	d.FirstLoan = (page-1)*loansPerPage + 1
	if _, err := read(st, rq, "secondments", func(v *views.Secondments) error {
		list, err := v.List(pid, d.Year, rq.names)
		for _, sc := range list {
			if ours(sc.Lending.ID, sc.Receiving.ID) {
				d.Secondments = append(d.Secondments, sc)
			}
		}
		return err
	}); err != nil {
		return "", err
	}
	if _, err := read(st, rq, "cpd", func(v *views.CPD) error {
		d.CPD = v.Events(pid, d.Year)
		d.CPDTotals = v.Totals(pid, d.Year)
		return nil
	}); err != nil {
		return "", err
	}
	d.CPDRows, d.OfferedOptions = cpdRows(d.CPD), offeredOptions(d.Offered, rq.form.Value("loan", "resource_id"))
	return "resources", nil
}

// --- Progress.

type progressData struct {
	Partnership views.PartnershipInfo
	Year        string
	Areas       []views.AreaSummary
	Map         heatmap
	Cells       []views.BoardCell
	// MapBodies and CellRows are Map and Cells drawn (rows.go).
	MapBodies, CellRows template.HTML
}

func (st *site) progress(rq *req) (string, error) {
	d := &progressData{}
	rq.data.Data, rq.data.Title, rq.data.Nav = d, "Progress", "progress"
	var err error
	if d.Year, err = rq.year(); err != nil {
		return "", err
	}
	if d.Partnership, _, err = st.partnershipOf(rq); err != nil {
		return "", err
	}
	if d.Partnership.ID == uuid.Nil {
		return "progress", nil
	}
	if _, err := read(st, rq, "progress", func(v *views.Progress) error {
		d.Cells = v.Board(d.Partnership.ID, d.Year)
		d.Areas = v.ByArea(d.Partnership.ID, d.Year)
		sortBoard(d.Cells)
		return nil
	}); err != nil {
		return "", err
	}
	d.Map = newHeatmap(d.Cells)
	d.MapBodies, d.CellRows = heatmapBodies(d.Map), boardRows(d.Cells)
	return "progress", nil
}

// --- Accountability and celebrating.

type accountabilityData struct {
	// Challenges are the governors' challenges of the schools the reader
	// reads; MySchool is the reader's own (a governor raises challenges
	// about it).
	Challenges  []views.ChallengeInfo
	MySchool    uuid.UUID
	Partnership views.PartnershipInfo
	Year        string
	Owners      []views.OwnerGroup
	Statuses    []views.StatusGroup
	FollowUps   views.FollowUps
	Reviews     []views.ReviewInfo
	Celebrated  []views.CelebrationInfo
	Tallies     views.Tallies
}

func (st *site) accountability(rq *req) (string, error) {
	d := &accountabilityData{}
	rq.data.Data, rq.data.Title, rq.data.Nav = d, "Accountability and celebrating", "accountability"
	var err error
	if d.Year, err = rq.year(); err != nil {
		return "", err
	}
	if d.Partnership, _, err = st.partnershipOf(rq); err != nil {
		return "", err
	}
	pid := d.Partnership.ID
	if pid == uuid.Nil {
		return "accountability", nil
	}
	if _, err := read(st, rq, "commitments", func(v *views.Commitments) error {
		d.Owners = v.ByOwner(pid, d.Year, rq.now, rq.names)
		d.Statuses = v.ByStatus(pid, d.Year, rq.now, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if _, err := read(st, rq, "reviews", func(v *views.Reviews) error {
		d.FollowUps = v.FollowUps(pid, d.Year, rq.now, rq.names)
		d.Reviews = v.Log(pid, d.Year, rq.now, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	if _, err := read(st, rq, "celebrations", func(v *views.Celebrations) error {
		d.Celebrated = v.List(pid, d.Year, rq.names)
		d.Tallies = v.Tallies(pid, d.Year, rq.names)
		return nil
	}); err != nil {
		return "", err
	}
	vis, err := st.visibility(rq)
	if err != nil {
		return "", err
	}
	var schools []uuid.UUID
	for sc := range vis.Schools {
		schools = append(schools, sc)
	}
	if len(schools) > 0 {
		if _, err := read(st, rq, views.ChallengesView, func(v *views.Challenges) error {
			d.Challenges = v.List(views.ChallengeFilter{Schools: schools}, rq.now, rq.names)
			return nil
		}); err != nil {
			return "", err
		}
	}
	d.MySchool = rq.standing.School
	return "accountability", nil
}

// --- Audit log.

type auditData struct {
	Page   views.AuditPage
	Filter auditFilterIn
	// More links to the next (older) page, Newest to the first page when
	// this is not it.
	More, Newest string
	Choices      auditChoices
}

type auditFilterIn struct {
	School, Community, Person, Type, From, To string
}

func (st *site) audit(rq *req) (string, error) {
	d := &auditData{}
	rq.data.Data, rq.data.Title, rq.data.Nav = d, "Audit log", "audit"
	q := rq.r.URL.Query()
	d.Filter = auditFilterIn{School: q.Get("school"), Community: q.Get("community"), Person: q.Get("person"), Type: q.Get("type"), From: q.Get("from"), To: q.Get("to")}
	var f views.AuditFilter
	var err error
	if f.School, err = queryID(rq, "school"); err != nil {
		return "", err
	}
	if f.Community, err = queryID(rq, "community"); err != nil {
		return "", err
	}
	if f.Person, err = queryID(rq, "person"); err != nil {
		return "", err
	}
	if f.School == uuid.Nil {
		f.School = rq.standing.School // a school's people see its events
	}
	// A reader of several schools' logs (a partnership's auditor) chooses
	// among those they may read, the first by name unless they asked.
	if rq.standing.School == uuid.Nil {
		if d.Choices.Schools, err = st.readableSchools(rq); err != nil {
			return "", err
		}
		if f.School == uuid.Nil && len(d.Choices.Schools) > 0 {
			f.School = d.Choices.Schools[0].ID
			d.Filter.School = f.School.String()
		}
	}
	if may, err := st.s.App.May(rq.ctx, rq.actor, "ReadSchoolEvents", app.Target{School: f.School}); err != nil {
		return "", err
	} else if !may {
		return "", forbiddenError{"this is another school's audit log, or none you may read: a school's audit log is for its staff, governors and its partnership's auditors"}
	}
	f.Type = strings.TrimSpace(d.Filter.Type)
	for _, b := range []struct {
		s   string
		t   *time.Time
		add int
	}{{d.Filter.From, &f.From, 0}, {d.Filter.To, &f.To, 1}} {
		if b.s == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, b.s)
		if err != nil {
			return "", badInput{fmt.Sprintf("%q is not a date like 2025-10-01", b.s)}
		}
		*b.t = t.AddDate(0, 0, b.add)
	}
	// Newest first: a page holds the events before position "before".
	before := uint64(0)
	if s := q.Get("before"); s != "" {
		if before, err = strconv.ParseUint(s, 10, 64); err != nil {
			return "", badInput{fmt.Sprintf("before %q is not a position", s)}
		}
	}
	if _, err := read(st, rq, views.AuditView, func(v *views.Audit) error {
		d.Page = v.EventsBefore(f, before, 50, rq.names)
		schools := d.Choices.Schools
		d.Choices = newAuditChoices(v.Choices(f.School, rq.names), schools)
		return nil
	}); err != nil {
		return "", err
	}
	nq := url.Values{}
	for k, v := range q {
		nq[k] = v
	}
	if d.Page.Next != 0 {
		nq.Set("before", strconv.FormatUint(d.Page.Next, 10))
		d.More = "/audit?" + nq.Encode()
	}
	if before != 0 {
		nq.Del("before")
		d.Newest = "/audit?" + nq.Encode()
	}
	return "audit", nil
}

// linkURL is the page of what an audit entry touches.
func linkURL(l views.AuditLink) string {
	switch l.Kind {
	case views.LinkSchool:
		return "/schools/" + l.ID.String()
	case views.LinkCommunity:
		return "/communities/" + l.ID.String()
	case views.LinkProposal:
		return "/proposals/" + l.ID.String()
	case views.LinkResource:
		return "/resources#r-" + l.ID.String()
	case views.LinkPartnership:
		return "/?partnership=" + l.ID.String()
	case views.LinkPerson:
		return "/audit?person=" + l.ID.String()
	}
	return ""
}

// --- Report.

type reportData struct {
	Partnership views.PartnershipInfo
	Year        string
	// From and To are the period asked for (?from=&to=), as given.
	From, To string
	Title    string
	Summary  string
	Body     template.HTML
	Footer   string
	// Downloads are the report's formats, each URL carrying the page's
	// partnership, period and reading.
	Downloads []reportLink
}

type reportLink struct{ Label, URL string }

// reportQuery is the page's partnership, period and reading, for the
// download links; built in Go so that the template prints whole URLs.
func reportQuery(rq *req, p views.PartnershipInfo) url.Values {
	q := url.Values{}
	for _, k := range []string{"as_of", "position", "reading", "year", "from", "to"} {
		if v := rq.r.URL.Query().Get(k); v != "" {
			q.Set(k, v)
		}
	}
	q.Set("partnership", p.ID.String())
	return q
}

// reportDownloadURL is the address of the report in format (or one table
// as CSV when table is not "") with the page's query q.
func reportDownloadURL(q url.Values, format, table string) string {
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	if table != "" {
		v.Set("table", table)
	} else {
		v.Set("format", format)
	}
	return "/report/download?" + v.Encode()
}

// reportPeriod reads ?from= and ?to= (both days, both or neither).
func reportPeriod(rq *req) (*views.Period, error) {
	q := rq.r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if from == "" && to == "" {
		return nil, nil
	}
	if from == "" || to == "" {
		return nil, badInput{"give both the first day (from) and the last day (to) of the period, or neither"}
	}
	f, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return nil, badInput{fmt.Sprintf("from %q is not a day like 2025-09-01", from)}
	}
	t, err := time.Parse(time.DateOnly, to)
	if err != nil {
		return nil, badInput{fmt.Sprintf("to %q is not a day like 2026-08-31", to)}
	}
	p, err := views.NewPeriod(f, t)
	if err != nil {
		return nil, badInput{err.Error()}
	}
	return &p, nil
}

func (st *site) buildReport(rq *req) (*report.Report, views.PartnershipInfo, string, error) {
	year, err := rq.year()
	if err != nil {
		return nil, views.PartnershipInfo{}, "", err
	}
	period, err := reportPeriod(rq)
	if err != nil {
		return nil, views.PartnershipInfo{}, "", err
	}
	p, _, err := st.partnershipOf(rq)
	if err != nil || p.ID == uuid.Nil {
		return nil, p, year, err
	}
	var rep *report.Report
	if period != nil {
		rep, err = report.BuildPeriod(rq.ctx, st.s.L.Views, p.ID, *period, rq.asOf)
		year = period.From.Format(time.DateOnly) + "-to-" + period.To.Format(time.DateOnly)
	} else {
		rep, err = report.Build(rq.ctx, st.s.L.Views, p.ID, year, rq.asOf)
	}
	if errors.Is(err, report.ErrNoPartnership) {
		return nil, p, year, notFound("%s was not formed %s", p.Name, rq.asOf.Describe())
	}
	return rep, p, year, err
}

func (st *site) report(rq *req) (string, error) {
	d := &reportData{From: rq.r.URL.Query().Get("from"), To: rq.r.URL.Query().Get("to")}
	rq.data.Data, rq.data.Title, rq.data.Nav = d, "Partnership report", "report"
	rep, p, year, err := st.buildReport(rq)
	if err != nil {
		return "", err
	}
	d.Partnership, d.Year = p, year
	if rep == nil {
		return "report", nil
	}
	q := reportQuery(rq, p)
	body, err := rep.BodyHTML(func(table string) string { return reportDownloadURL(q, "", table) })
	if err != nil {
		return "", err
	}
	d.Title, d.Summary, d.Body, d.Footer = rep.Title(), rep.Summary(), body, rep.FooterText()
	rq.data.Title = rep.Title()
	d.Downloads = []reportLink{
		{"HTML (one page, prints well)", reportDownloadURL(q, report.FormatHTML, "")},
		{"Markdown", reportDownloadURL(q, report.FormatMarkdown, "")},
		{"CSV (every table, zipped)", reportDownloadURL(q, report.FormatCSV, "")},
		{"JSON", reportDownloadURL(q, report.FormatJSON, "")},
	}
	return "report", nil
}

// reportDownload answers the report in one format (html, md, json, csv as
// a zip of every table) or one table as CSV (?table=).
func (st *site) reportDownload(w http.ResponseWriter, r *http.Request) {
	rq, err := st.newReq(w, r)
	if err != nil {
		st.fail(w, r, err)
		return
	}
	rep, _, year, err := st.buildReport(rq)
	if err == nil && rep == nil {
		err = notFound("no partnership has been formed %s", rq.asOf.Describe())
	}
	if err != nil {
		st.fail(w, r, err)
		return
	}
	var buf bytes.Buffer
	format, table := r.URL.Query().Get("format"), r.URL.Query().Get("table")
	name := "partnership-report-" + year
	var ctype, ext string
	switch {
	case table != "":
		err, ctype, ext, name = rep.WriteCSV(&buf, table), "text/csv; charset=utf-8", "csv", name+"-"+table
	case format == report.FormatHTML:
		err, ctype, ext = rep.WriteHTML(&buf), "text/html; charset=utf-8", "html"
	case format == report.FormatMarkdown:
		err, ctype, ext = rep.WriteMarkdown(&buf), "text/markdown; charset=utf-8", "md"
	case format == report.FormatJSON:
		err, ctype, ext = rep.WriteJSON(&buf), "application/json", "json"
	case format == report.FormatCSV:
		err, ctype, ext = rep.WriteZip(&buf), "application/zip", "zip"
	default:
		st.fail(w, r, badInput{fmt.Sprintf("format %q is not one of html, md, json, csv", format)})
		return
	}
	if errors.Is(err, report.ErrUnknownTable) {
		st.fail(w, r, badInput{err.Error()})
		return
	}
	if err != nil {
		st.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name+"."+ext))
	if ctype == "text/html; charset=utf-8" {
		// The report's own page carries inline styles.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	}
	_, _ = buf.WriteTo(w)
}

// --- Verify.

type verifyData struct {
	Enabled    bool
	Checkpoint transparency.Checkpoint
	HasCP      bool
	Cosigners  []transparency.Cosigner
	PublicKey  string
	Origin     string
	Head       uint64
	Recent     []views.AuditEntry
	// URL is this ledger's address, for concord verify --url.
	URL string
}

func (st *site) verify(rq *req) (string, error) {
	d := &verifyData{URL: "http://" + rq.r.Host}
	if secure(rq.r) {
		d.URL = "https://" + rq.r.Host
	}
	rq.data.Data, rq.data.Title, rq.data.Nav = d, "Verify the ledger", "verify"
	head, err := st.s.L.Store.Head(rq.ctx)
	if err != nil {
		return "", err
	}
	d.Head = head
	tl := st.s.L.Log
	if tl == nil {
		return "verify", nil
	}
	d.Enabled, d.PublicKey, d.Origin = true, tl.PublicKey(), tl.Origin()
	cp, err := tl.LatestCheckpoint()
	switch {
	case errors.Is(err, transparency.ErrNoCheckpoint):
	case err != nil:
		return "", err
	default:
		d.Checkpoint, d.HasCP = cp, true
		d.Cosigners = tl.Cosigners(cp.Size)
	}
	if d.HasCP && d.Checkpoint.Size > 0 {
		from := uint64(0)
		if d.Checkpoint.Size > 10 {
			from = d.Checkpoint.Size - 10
		}
		if _, err := read(st, rq, views.AuditView, func(v *views.Audit) error {
			for _, e := range v.Events(views.AuditFilter{}, from, 10, rq.names).Entries {
				if e.Position <= d.Checkpoint.Size {
					d.Recent = append(d.Recent, e)
				}
			}
			return nil
		}); err != nil {
			return "", err
		}
	}
	return "verify", nil
}

type proofData struct {
	Position uint64
	Proof    transparency.InclusionProof
	Verified bool
	Problem  string
}

func (st *site) proof(rq *req) (string, error) {
	d := &proofData{}
	rq.data.Data, rq.data.Nav = d, "verify"
	pos, err := strconv.ParseUint(chi.URLParam(rq.r, "position"), 10, 64)
	if err != nil || pos == 0 {
		return "", badInput{"the position must be a whole number from 1"}
	}
	d.Position = pos
	rq.data.Title = fmt.Sprintf("Inclusion proof of event %d", pos)
	tl := st.s.L.Log
	if tl == nil {
		return "", notFound("this ledger keeps no transparency log")
	}
	cp, err := tl.LatestCheckpoint()
	if err != nil {
		return "", err
	}
	if pos > cp.Size {
		return "", notFound("event %d is not yet covered by a signed checkpoint (the latest covers %d events); try again after the next checkpoint", pos, cp.Size)
	}
	if d.Proof, err = tl.InclusionProof(rq.ctx, pos, cp.Size); err != nil {
		return "", err
	}
	if err := d.Proof.Verify(tl.Verifier()); err != nil {
		d.Problem = err.Error()
	} else {
		d.Verified = true
	}
	return "proof", nil
}
