// Package report builds the collective partnership report: for one
// partnership and academic year (or any span of days), read at one moment
// of the ledger, what
// the partnership did and what it brought (collective reporting), who
// committed to what and how it went (collective accountability), and whose
// contributions were recognised (collective celebrating). It reads only
// the views, renders JSON, Markdown, one self-contained HTML page (charts
// drawn as inline SVG, each with a description in words; long tables
// folded; a print stylesheet) and CSV, and gives byte-identical output for
// the same ledger position.
package report

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

// Errors of Build.
var (
	// ErrNoPartnership is returned when the partnership asked for was not
	// formed at the moment read.
	ErrNoPartnership = errors.New("report: no such partnership at that moment")

	// errStepFailed is a part of the report whose working out panicked.
	errStepFailed = errors.New("a part of the report could not be worked out")
)

// Report is the collective partnership report.
type Report struct {
	Partnership views.PartnershipInfo `json:"partnership"`
	// AcademicYear names the period when it is one academic year ("" for
	// another span); From and To are its first and last day.
	AcademicYear string                 `json:"academic_year"`
	From         time.Time              `json:"from"`
	To           time.Time              `json:"to"`
	Membership   []views.YearMembership `json:"membership_by_year"`
	// CommunityMembership is the membership of the member schools' ISLCs
	// over the years, in people.
	CommunityMembership CommunityMembership `json:"community_membership_by_year"`

	Reporting      Reporting      `json:"collective_reporting"`
	Accountability Accountability `json:"collective_accountability"`
	Celebrating    Celebrating    `json:"collective_celebrating"`
	Timeline       Timeline       `json:"timeline"`

	Footer Footer `json:"footer"`

	// raw is the JSON of the shared parts kept from an earlier live
	// reading at the same position (see sharedParts), for AppendJSON.
	raw map[string][]byte
}

// Footer says which reading of the ledger the report shows, so a reader
// can check it.
type Footer struct {
	// Reading is AsOf.Describe() of the reading asked for.
	Reading string `json:"reading"`
	// Position is the ledger position every view was read at.
	Position uint64 `json:"position"`
	// ReckonedOn is the day overdue items and "what comes next" are
	// reckoned from: the as-of time, else when the last event read was
	// recorded (never the wall clock, so the same position reads the same).
	ReckonedOn time.Time `json:"reckoned_on"`
	// Checkpoint is the signed checkpoint covering Position (its root
	// hash), when the caller has one; set it before rendering.
	Checkpoint string `json:"checkpoint,omitempty"`
}

// CommunityMembership is how many people were members of the ISLCs of
// the partnership's schools, year by year.
type CommunityMembership struct {
	Years []string `json:"years"`
	// Members[i] is how many different people were active members of an
	// ISLC of a member school in Years[i].
	Members []int           `json:"members"`
	Schools []SchoolMembers `json:"schools"`
}

// SchoolMembers is one school's ISLC membership, in people, per year of
// the report's CommunityMembership.
type SchoolMembers struct {
	School  views.Ref `json:"school"`
	Members []int     `json:"members"`
}

// Headline is the year in a few numbers.
type Headline struct {
	ResourcesShared    int     `json:"resources_shared"`
	HoursUsed          float64 `json:"resource_hours_used"`
	Loans              int     `json:"loans"`
	SecondmentFTEYears float64 `json:"secondment_fte_years"`
	CPDPlacesBooked    int     `json:"cpd_places_booked"`
	CPDAttended        int     `json:"cpd_attended"`
	PeerReviews        int     `json:"peer_reviews"`
	// BenefitPence is the value of the resource hours shared plus the CPD
	// bulk-discount savings.
	BenefitPence int64 `json:"benefit_pence"`
	// CostHours and CostPence are the transaction costs of collaborating.
	CostHours float64 `json:"cost_hours"`
	CostPence int64   `json:"cost_pence"`
}

// Reporting is what the partnership did and what it brought, next to the
// transaction costs of collaborating.
type Reporting struct {
	Headline      Headline             `json:"headline"`
	Resources     []views.ResourceInfo `json:"resources"`
	Utilisation   views.Utilisation    `json:"utilisation"`
	LoansByStatus []views.StatusCount  `json:"loans_by_status"`
	// LoansReturned counts the loans returned in the period by the
	// condition they came back in (and how many late).
	LoansReturned []views.ConditionCount  `json:"loans_returned_by_condition"`
	OverdueLoans  []views.LoanEntry       `json:"overdue_loans"`
	Secondments   []views.SecondmentEntry `json:"secondments"`
	SecondmentFTE []views.SchoolFTE       `json:"secondment_fte"`
	CPD           views.CPDTotals         `json:"cpd"`
	CPDEvents     []views.CPDEventInfo    `json:"cpd_events"`
	CPDSchools    []views.CPDSchool       `json:"cpd_schools"`
	PeerReviews   []views.ReviewInfo      `json:"peer_reviews"`
	Costs         views.CostSummary       `json:"costs"`
}

// DecidedProposal is a proposal of a member school decided in the year.
type DecidedProposal struct {
	ID        uuid.UUID `json:"id"`
	Title     string    `json:"title"`
	School    views.Ref `json:"school"`
	Community views.Ref `json:"community"`
	Outcome   string    `json:"outcome"`
	DecidedAt time.Time `json:"decided_at"`
	// ChangedAfterDecision marks a decision corrected afterwards.
	ChangedAfterDecision bool `json:"changed_after_decision,omitempty"`
}

// Accountability is each commitment with its owner, status and evidence,
// RAG movement per school and area, proposals decided, peer-review
// follow-ups done and open, and the governors' challenges to the
// Directors of the member schools, open and answered.
type Accountability struct {
	Commitments      []views.StatusGroup `json:"commitments"`
	RAGBoard         []views.BoardCell   `json:"rag_board"`
	RAGByArea        []views.AreaSummary `json:"rag_by_area"`
	ProposalsDecided []DecidedProposal   `json:"proposals_decided"`
	FollowUps        views.FollowUps     `json:"follow_ups"`
	Challenges       Challenges          `json:"challenges"`
}

// Challenges are the governors' challenges raised in the period to the
// Directors of the member schools.
type Challenges struct {
	Counts   views.ChallengeCounts `json:"counts"`
	Open     []views.ChallengeInfo `json:"open"`
	Answered []views.ChallengeInfo `json:"answered"`
}

// Celebrating is the contributions recognised, by person, school and ISLC.
type Celebrating struct {
	Recognitions []views.CelebrationInfo `json:"recognitions"`
	Tallies      views.Tallies           `json:"tallies"`
}

// Timeline is the improvement timeline of the year: what comes next and
// what is done.
type Timeline struct {
	Next        []views.TimelineEntry `json:"next"`
	Outstanding []views.TimelineEntry `json:"outstanding"`
	Done        []views.TimelineEntry `json:"done"`
}

// nextItems is how many upcoming timeline items the report lists.
const nextItems = 10

// Build gathers the report of partnership pid for academic year (e.g.
// "2025-26"; "" for the year of the reckoning day) read at at. A live
// reading is pinned to one position: if the views have reached different
// positions, all are read as of the furthest. Returns ErrNoPartnership
// when the partnership was not formed at that moment, an error for a
// malformed year, and the errors of views.Reader.View.
func Build(ctx context.Context, r *views.Reader, pid uuid.UUID, year string, at views.AsOf) (*Report, error) {
	var p *views.Period
	if year != "" {
		yp, err := views.YearPeriod(year)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		p = &yp
	}
	return buildPinned(ctx, r, pid, p, at)
}

// BuildPeriod is Build for the days from p.From to p.To (both included;
// see views.NewPeriod): what happened in them, with the membership charts
// through the academic year p ends in. Requires p to have both ends.
// Returns the errors of Build.
func BuildPeriod(ctx context.Context, r *views.Reader, pid uuid.UUID, p views.Period, at views.AsOf) (*Report, error) {
	if p.From.IsZero() || p.To.IsZero() {
		return nil, fmt.Errorf("report: %w: give its first and last day", views.ErrPeriod)
	}
	return buildPinned(ctx, r, pid, &p, at)
}

// buildPinned builds the report of period p (nil: the academic year of
// the reckoning day) read at at, pinned to one position.
func buildPinned(ctx context.Context, r *views.Reader, pid uuid.UUID, p *views.Period, at views.AsOf) (*Report, error) {
	if !at.Live() {
		pinned, err := r.At(ctx, at, Views...)
		if err != nil {
			return nil, err
		}
		r = pinned
	}
	var erasures uint64
	if at.Live() {
		if rep, ok := keptWhole(r, pid, p); ok {
			return rep, nil
		}
		if r.Erasures != nil {
			erasures = r.Erasures()
		}
	}
	rep, positions, err := build(ctx, r, pid, p, at)
	if err != nil {
		return nil, err
	}
	if at.Live() {
		var hi uint64
		same := true
		for _, p := range positions {
			same = same && p == positions[0]
			hi = max(hi, p)
		}
		if !same && hi > 0 {
			pinned, err := r.At(ctx, views.AsOf{Position: hi}, Views...)
			if err != nil {
				return nil, err
			}
			rep, _, err = build(ctx, pinned, pid, p, views.AsOf{Position: hi})
			if err != nil {
				return nil, err
			}
			rep.Footer.Reading = at.Describe()
		} else if err := keepWhole(r, pid, p, erasures, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// Views are the views a report reads; a past reading folds them together
// in one pass (views.Reader.At).
var Views = []string{views.PeopleView, "partnerships", "resources", "loans", "secondments", "cpd", "reviews",
	"costs", "commitments", "progress", views.ProposalsView, "celebrations", "timeline", views.CommunitiesView, views.ChallengesView}

func build(ctx context.Context, r *views.Reader, pid uuid.UUID, period *views.Period, at views.AsOf) (*Report, []uint64, error) {
	var positions []uint64
	rep := &Report{Footer: Footer{Reading: at.Describe()}}
	read := func(name string, fn func(any) error) error {
		pos, err := r.View(ctx, name, at, func(p projections.Projection) error { return fn(p) })
		positions = append(positions, pos)
		return err
	}
	names := r.Names(ctx, at)
	var found bool
	var lastOn time.Time
	if err := read("partnerships", func(p any) error {
		v := p.(*views.Partnerships)
		rep.Partnership, found = v.Get(pid, names)
		lastOn = v.LastRecordedOn()
		return nil
	}); err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: %s (%s)", ErrNoPartnership, pid, at.Describe())
	}
	now := lastOn
	if !at.Time.IsZero() {
		now = at.Time.UTC()
	}
	rep.Footer.ReckonedOn = partnership.Date(now)
	var pd views.Period
	var err error
	if period != nil {
		pd = *period
	} else if pd, err = views.YearPeriod(partnership.AcademicYearOf(now)); err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	rep.AcademicYear, rep.From, rep.To = pd.Year, pd.From, pd.To
	through := partnership.AcademicYearOf(pd.To)
	if err := read("partnerships", func(p any) error {
		rep.Membership = p.(*views.Partnerships).MembershipByYear(pid, through)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	// The schools that were members at some time in the period.
	var schools []uuid.UUID
	for _, m := range rep.Partnership.Members {
		left := pd.To
		if m.LeftOn != nil {
			left = *m.LeftOn
		}
		if !m.JoinedOn.After(pd.To) && !left.Before(pd.From) && !slices.Contains(schools, m.School.ID) {
			schools = append(schools, m.School.ID)
		}
	}

	rp, ac, ce, tl := &rep.Reporting, &rep.Accountability, &rep.Celebrating, &rep.Timeline
	// shared steps work out parts that name no one (sharedParts).
	steps := []struct {
		view   string
		shared bool
		fn     func(any) error
	}{
		{"resources", true, func(p any) (err error) {
			v := p.(*views.Resources)
			rp.Resources = v.List(pid)
			rp.Utilisation = v.UtilisationIn(pid, pd)
			return nil
		}},
		{"loans", true, func(p any) error {
			v := p.(*views.Loans)
			rp.LoansByStatus = v.CountsIn(pid, pd, now)
			rp.LoansReturned = v.ReturnedByCondition(pid, pd)
			rp.OverdueLoans = v.Overdue(pid, now)
			return nil
		}},
		{"secondments", false, func(p any) error {
			v := p.(*views.Secondments)
			rp.Secondments, rp.SecondmentFTE = v.ListIn(pid, pd, names), v.BySchoolIn(pid, pd, now)
			return nil
		}},
		{"cpd", true, func(p any) error {
			v := p.(*views.CPD)
			rp.CPD, rp.CPDEvents, rp.CPDSchools = v.TotalsIn(pid, pd), v.EventsIn(pid, pd), v.BySchoolIn(pid, pd)
			return nil
		}},
		{"reviews", false, func(p any) error {
			v := p.(*views.Reviews)
			rp.PeerReviews = v.LogIn(pid, pd, now, names)
			ac.FollowUps = v.FollowUpsIn(pid, pd, now, names)
			return nil
		}},
		{"costs", true, func(p any) error {
			rp.Costs = p.(*views.Costs).SummaryIn(pid, pd)
			return nil
		}},
		{"commitments", false, func(p any) error {
			ac.Commitments = p.(*views.Commitments).ByStatusIn(pid, pd, now, names)
			return nil
		}},
		{"progress", true, func(p any) error {
			v := p.(*views.Progress)
			ac.RAGBoard = v.BoardIn(pid, pd)
			ac.RAGByArea = views.ByArea(ac.RAGBoard)
			return nil
		}},
		{views.ProposalsView, true, func(p any) error {
			ac.ProposalsDecided = decided(p.(*views.Proposals), schools, pd)
			return nil
		}},
		{"celebrations", false, func(p any) error {
			v := p.(*views.Celebrations)
			ce.Recognitions, ce.Tallies = v.ListIn(pid, pd, names), v.TalliesIn(pid, pd, names)
			return nil
		}},
		{"timeline", true, func(p any) error {
			v := p.(*views.Timelines)
			tl.Next, tl.Outstanding, tl.Done = v.NextIn(pid, pd, now, nextItems), v.OutstandingIn(pid, pd, now), v.DoneIn(pid, pd)
			return nil
		}},
		{views.CommunitiesView, true, func(p any) error {
			rep.CommunityMembership = communityMembership(p.(*views.Communities), rep.Partnership, schools, through)
			return nil
		}},
		{views.ChallengesView, false, func(p any) error {
			v := p.(*views.Challenges)
			f := views.ChallengeFilter{Schools: schools, From: pd.From, To: pd.To}
			if len(schools) == 0 {
				f.Schools = []uuid.UUID{uuid.Nil} // no member school: none
			}
			f.Status = views.ChallengeOpen
			ac.Challenges.Open = v.List(f, now, names)
			f.Status = views.ChallengeAnswered
			ac.Challenges.Answered = v.List(f, now, names)
			f.Status = ""
			ac.Challenges.Counts = v.Counts(f, now)
			return nil
		}},
	}
	// A live report takes the shared parts kept at the position its
	// views stand at, when every view they come from still stands there.
	memo, at0 := r.Memo(), positions[0]
	if !at.Live() {
		memo = nil
	}
	var k *kept
	if memo != nil {
		if v, ok := memo.Get(memoKeyOf(pid, pd), at0); ok {
			k = v.(*kept)
		}
		for _, s := range steps {
			if k != nil && s.shared && !r.StandsAt(s.view, at0) {
				k = nil
			}
		}
	}
	// The steps left run on every core, a view's steps one after another
	// (a view's queries are read by one at a time), each setting only its
	// own part of rep; the names they open are shared, behind a lock.
	byView := map[string][]int{}
	var order []string
	for i, s := range steps {
		if k != nil && s.shared {
			positions = append(positions, at0)
			continue
		}
		v := views.Canonical(s.view)
		if _, ok := byView[v]; !ok {
			order = append(order, v)
		}
		byView[v] = append(byView[v], i)
	}
	names = &lockedNames{names: names}
	got := make([][]uint64, len(order))
	if err := eachOnCores(len(order), func(j int) error {
		for _, i := range byView[order[j]] {
			pos, err := r.View(ctx, steps[i].view, at, func(p projections.Projection) error { return steps[i].fn(p) })
			got[j] = append(got[j], pos)
			if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	for _, g := range got {
		positions = append(positions, g...)
	}
	same := true
	rep.Footer.Position = positions[0]
	for _, p := range positions {
		rep.Footer.Position = max(rep.Footer.Position, p)
		same = same && p == at0
	}
	switch {
	case k != nil:
		copyShared(rep, k.rep)
		rep.raw = k.raw
	case memo != nil && same:
		if k, err = keep(rep); err != nil {
			return nil, nil, err
		}
		memo.Put(memoKeyOf(pid, pd), at0, k)
		rep.raw = k.raw
	}
	rp.Headline = headline(rep)
	return rep, positions, nil
}

// decided returns the proposals of schools (those members during the
// period) decided in period p, in the order the register gives.
func decided(v *views.Proposals, schools []uuid.UUID, p views.Period) []DecidedProposal {
	all := v.Decided(p) // one pass over the register, not one per school
	n := 0
	for _, d := range all {
		if slices.Contains(schools, d.School.ID) {
			n++
		}
	}
	out := make([]DecidedProposal, 0, n)
	for _, school := range schools {
		for _, d := range all {
			if d.School.ID != school {
				continue
			}
			out = append(out, DecidedProposal{ID: d.ID, Title: d.Title, School: d.School, Community: d.Community, Outcome: d.Outcome,
				DecidedAt: d.At, ChangedAfterDecision: d.ChangedAfterDecision})
		}
	}
	return out
}

// communityMembership counts the people in the ISLCs of schools, per
// academic year from the partnership's first through year through.
func communityMembership(v *views.Communities, p views.PartnershipInfo, schools []uuid.UUID, through string) CommunityMembership {
	out := CommunityMembership{Years: []string{}, Members: []int{}, Schools: []SchoolMembers{}}
	first := partnership.AcademicYearOf(p.FormedOn)
	per := v.PeopleOverYearsOf(schools)
	for i := range schools {
		for y := range per[i] {
			if y >= first && y <= through && !slices.Contains(out.Years, y) {
				out.Years = append(out.Years, y)
			}
		}
	}
	slices.Sort(out.Years)
	out.Members = make([]int, len(out.Years))
	for i, s := range schools {
		sm := SchoolMembers{School: schoolRef(p, s), Members: make([]int, len(out.Years))}
		for j, y := range out.Years {
			sm.Members[j] = per[i][y]
			out.Members[j] += per[i][y]
		}
		out.Schools = append(out.Schools, sm)
	}
	slices.SortFunc(out.Schools, func(a, b SchoolMembers) int { return strings.Compare(a.School.Name, b.School.Name) })
	return out
}

func schoolRef(p views.PartnershipInfo, id uuid.UUID) views.Ref {
	for _, m := range p.Members {
		if m.School.ID == id {
			return m.School
		}
	}
	return views.Ref{ID: id}
}

func headline(r *Report) Headline {
	rp := r.Reporting
	h := Headline{ResourcesShared: len(rp.Resources), HoursUsed: rp.Utilisation.TotalHours, CPDPlacesBooked: rp.CPD.Booked,
		CPDAttended: rp.CPD.Attended, PeerReviews: len(rp.PeerReviews), BenefitPence: rp.Utilisation.TotalBenefitPence + rp.CPD.SavingsPence,
		CostHours: rp.Costs.Total.Hours, CostPence: rp.Costs.Total.AmountPence}
	for _, s := range rp.LoansByStatus {
		h.Loans += s.Count
	}
	for _, s := range rp.Secondments {
		h.SecondmentFTEYears += s.FTEYears
	}
	return h
}

// lockedNames is a PersonNames read by several steps at once.
type lockedNames struct {
	mu    sync.Mutex
	names views.PersonNames
}

// Name implements views.PersonNames.
func (n *lockedNames) Name(id uuid.UUID) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.names.Name(id)
}

// eachOnCores calls fn(0), …, fn(n-1), as many at once as there are
// cores, and returns their errors joined once all have returned; a panic
// in one is its error, not the process's end.
func eachOnCores(n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, n)
	call := func(i int) {
		defer func() {
			if p := recover(); p != nil {
				errs[i] = fmt.Errorf("%w: %v", errStepFailed, p)
			}
		}()
		errs[i] = fn(i)
	}
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				call(i)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
