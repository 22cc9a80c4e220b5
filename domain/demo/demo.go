// Package demo generates a realistic demonstration partnership by driving
// the governance and partnership services' commands, so every event it
// produces passed every rule the ledger enforces. It owns no events and
// does no I/O of its own: it records only through the services it is
// given.
//
// The history is a partnership (a trust) of schools, each with its six
// leadership communities (ISLCs), its Director, 20 to 40 staff with their
// annual strengths assessments, governors and student and parent advisory
// groups, over one or more academic years ending with the current one:
// rosters that keep members from year to year, chair elections (some
// failing their quorum, a tie settled by a run-off, a confidence vote
// lost and a new election), proposals drafted, advised, submitted,
// approved and sent back, peer coaching triads; and between schools,
// shared resources and their loans (approved, declined, returned, one
// damaged, one overdue), secondments, CPD with bookings and attendance,
// the costs of collaborating, peer reviews with findings and follow-up
// actions, traffic-light ratings per school, area and cohort every
// half-term, priorities and commitments, recognised contributions and the
// school-improvement timeline with its upcoming items.
//
// People are adults with fictional names drawn from fixed lists; no pupil
// is ever named (advisory groups and ratings are per group or cohort).
//
// # Time
//
// The services decide "today" from their handler's clock. While Generate
// runs it points the handler's Now (and NewID, for ids derived from the
// seed) at a simulated Clock that walks through the history, and restores
// them when it returns; give the same Clock's Now to the event store so
// recorded times follow the history as well. Memberships also carry their
// effective dates.
//
// # Size
//
// Schools and Years scale the history linearly; Volume multiplies the
// partnership activity of each school-year (loan requests, CPD, ratings
// and costs), so that large sizes (e.g. 50 schools over 10 years) reach
// about a million events (Volume 15). See EventsPerSchoolYear.
//
// # Speed
//
// Every command loads its aggregate from the handler's aggregate cache
// (a copy, folded up to the end of its stream) and the services' checks
// read other aggregates without copying them (domain.Peek), so the cost
// of a command grows only slowly with the history: on a memory store
// about 20,000 events/s at 10 schools over 3 years, Volume 15 (31 µs of
// CPU an event); on the segment store with deferred syncs about 10,000
// events/s at 10 schools over 10 years, and a million events (50 schools,
// 10 years, Volume 15) in 70 to 80 s on 2 loaded cores. See
// docs/benchmarks.md.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// Options size and seed a generation. The zero value generates the
// default demo (4 schools, 2 years, seed 0) ending before the real today.
type Options struct {
	// Schools is the number of schools (default 4).
	Schools int
	// Years is how many academic years to generate, ending with the
	// current one (default 2).
	Years int
	// Seed makes the generation deterministic: the same seed and options
	// give the same commands, ids and event types in the same order.
	Seed int64
	// Volume multiplies the partnership activity of each school-year
	// (loans, CPD, ratings, costs); default 1.
	Volume int
	// Now is "today" (default time.Now): the history ends before it.
	Now func() time.Time
	// Clock, if set, is driven through the history (share its Now with
	// the event store); otherwise Generate uses a clock of its own.
	Clock *Clock
	// Progress, if set, is called after every command with the number of
	// events recorded so far.
	Progress func(events uint64)
}

// Summary is what Generate recorded.
type Summary struct {
	PartnershipID uuid.UUID
	// Name is the partnership's name.
	Name string
	// Schools are the member schools, in order of registration.
	Schools []uuid.UUID
	// Years are the academic years generated, e.g. ["2025-26", "2026-27"].
	Years []string
	// Events and Commands count what was recorded.
	Events   uint64
	Commands int
	// People is the number of people registered (staff, governors,
	// advisory-group contacts).
	People int
	// From and To bound the simulated time of the history.
	From, To time.Time
	// Sample names, for each role a person can act in (domain.RoleDirector,
	// RoleStaff, RoleChair, RoleGovernor, RolePartnershipLead), one person
	// who holds it at the end (of the first school where there is one), for
	// demo sign-in. A role no one holds (a chair before the first
	// elections) is absent.
	Sample map[string]uuid.UUID
}

// EventsPerSchoolYear is about how many events one school generates in one
// full academic year at Volume 1 (measured: 512 to 546 with 4 to 10
// schools); each unit of Volume adds about 95 (loans and CPD), so Volume 15
// gives about 2,000 (measured: 1,910 with 10 schools over 3 years, 2,245
// with 50 schools in one year) and 50 schools over 10 years about a million
// events. See BenchmarkGenerate.
const EventsPerSchoolYear = 530

// MillionVolume is the Volume at which 50 schools over 10 years generate
// about a million events.
const MillionVolume = 15

// ErrNoServices is returned when Generate is called without services.
var ErrNoServices = errors.New("demo: governance and partnership services are required")

// step is how far the simulated clock moves on after each command.
const step = 40 * time.Millisecond

// adminActor is the actor id of the administrator who sets the schools up.
const adminActor = "demo-admin"

// Generate records a demo partnership through gov and part. The services
// must share the store and must not be used by anyone else while it runs
// (it points their handler's clock and id source at the simulated history
// and restores them on return). Returns ErrNoServices without them, the
// context's error when ctx ends, and otherwise the first refused command
// wrapped with what it was doing (a bug: every command is meant to pass).
func Generate(ctx context.Context, gov *governance.Service, part *partnership.Service, opts Options) (Summary, error) {
	if gov == nil || part == nil {
		return Summary{}, ErrNoServices
	}
	if opts.Schools <= 0 {
		opts.Schools = 4
	}
	if opts.Years <= 0 {
		opts.Years = 2
	}
	if opts.Volume <= 0 {
		opts.Volume = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	clk := opts.Clock
	if clk == nil {
		clk = NewClock(opts.Now)
	}
	g := &gen{ctx: ctx, gov: gov, part: part, opts: opts, clk: clk, now: opts.Now().UTC(),
		rng:   rand.New(rand.NewPCG(uint64(opts.Seed), 0x636f6e636f7264)),
		idRng: rand.New(rand.NewPCG(uint64(opts.Seed), 0x6964732d64656d6f)),
	}
	// Point the handlers at the simulated history for the duration.
	for _, h := range uniqueHandlers(gov.Handler(), part.Handler()) {
		now, newID := h.Now, h.NewID
		h.Now, h.NewID = clk.Now, g.eventID
		defer func() { h.Now, h.NewID = now, newID }()
	}
	defer clk.release()
	err := g.run()
	g.sum.To = clk.Now()
	return g.sum, err
}

func uniqueHandlers(hs ...*domain.Handler) []*domain.Handler {
	var out []*domain.Handler
	for _, h := range hs {
		if h != nil && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// gen is one generation's state: what has been recorded, as the
// generator needs to know it to choose valid next commands.
type gen struct {
	ctx   context.Context
	gov   *governance.Service
	part  *partnership.Service
	opts  Options
	clk   *Clock
	now   time.Time
	rng   *rand.Rand
	idRng *rand.Rand
	err   error
	sum   Summary

	pid       uuid.UUID
	lead      uuid.UUID
	auditor   uuid.UUID
	schools   []*school
	year      string // the academic year being generated
	yearIndex int
	phases    []time.Time
	phase     int

	resources   []*resource
	loans       []*loan // approved, not yet returned
	cpds        []*cpdEvent
	reviews     []*review
	actions     []*action
	commitments []*commitment
	timelines   []*timeline
	priorities  []uuid.UUID
	secondments []uuid.UUID
	ratings     map[[3]int]int // school, area, cohort → 0 red, 1 amber, 2 green
	damaged     bool           // this year's damaged return happened
}

type school struct {
	idx       int
	id        uuid.UUID
	name      string
	domain    string
	secondary bool
	segs      []governance.Segment
	comms     []uuid.UUID
	director  uuid.UUID
	staff     []uuid.UUID
	govs      []uuid.UUID
	contacts  []uuid.UUID
	groups    []uuid.UUID   // advisory group per ISLC
	members   [][]uuid.UUID // this year's members per ISLC
	keepers   [][]uuid.UUID // members kept from last year per ISLC
	chairs    []uuid.UUID   // chair in office per ISLC (Nil: none)
	failed    []int         // ISLCs whose election failed this year
	proposals []*proposal
}

type resource struct {
	id      uuid.UUID
	owner   *school
	name    string
	windows [][2]time.Time // approved loans
}

type loan struct {
	id         uuid.UUID
	res        *resource
	borrower   *school
	start, end time.Time
}

type cpdEvent struct {
	id        uuid.UUID
	organiser *school
	starts    time.Time
	bookings  []booking
}

type booking struct {
	id     uuid.UUID
	school *school
	places int
}

type review struct {
	id        uuid.UUID
	reviewed  *school
	reviewers []uuid.UUID
	on        time.Time
}

type action struct {
	review, id uuid.UUID
	owner      uuid.UUID
	due        time.Time
}

type commitment struct {
	id      uuid.UUID
	school  *school
	owner   uuid.UUID
	due     time.Time
	percent int
}

type timeline struct {
	id    uuid.UUID
	items []timelineItem
}

type timelineItem struct {
	id   uuid.UUID
	on   time.Time
	done bool
}

type proposal struct {
	id     uuid.UUID
	ci     int
	status string
	title  string
	year   string
}

// run generates the whole history.
func (g *gen) run() error {
	cur := g.now.Year()
	if g.now.Month() < time.September {
		cur--
	}
	first := cur - g.opts.Years + 1
	for i := range g.opts.Years {
		g.sum.Years = append(g.sum.Years, governance.YearLabel(first+i))
	}
	start := time.Date(first, time.July, 1, 8, 0, 0, 0, time.UTC)
	if !start.Before(g.now) {
		return fmt.Errorf("demo: the history would start on %s, not before today (%s)", start.Format(time.DateOnly), g.now.Format(time.DateOnly))
	}
	g.clk.set(start)
	g.sum.From = start
	g.setup()
	if g.err != nil {
		return g.err
	}
	for yi, label := range g.sum.Years {
		g.year, g.yearIndex, g.damaged = label, yi, false
		g.phases = phaseDates(first + yi)
		for pi, at := range g.phases {
			if !at.Before(g.now) {
				break
			}
			if err := g.ctx.Err(); err != nil {
				return err
			}
			g.phase = pi
			g.clk.set(at)
			g.runPhase(pi)
			if g.err != nil {
				return g.err
			}
		}
	}
	g.finale()
	if g.err == nil {
		g.sample()
	}
	return g.err
}

// phaseDates are the days the generator acts on in the academic year
// starting in September of first: the summer before it, then the first and
// the fourth week of each half-term.
func phaseDates(first int) []time.Time {
	year := governance.YearLabel(first)
	out := []time.Time{time.Date(first, time.August, 25, 8, 0, 0, 0, time.UTC)}
	for i, code := range partnership.TermCodes {
		s := partnership.Term{AcademicYear: year, Code: code}.Starts().Add(8 * time.Hour)
		late := 28
		if i == len(partnership.TermCodes)-1 {
			late = 21
		}
		if i == 0 {
			out = append(out, s, s.AddDate(0, 0, 7), s.AddDate(0, 0, late))
			continue
		}
		out = append(out, s.AddDate(0, 0, 7), s.AddDate(0, 0, late))
	}
	return out
}

// Phases, by index into phaseDates.
const (
	phaseSummer      = 0
	phaseJoin        = 1
	phaseElect       = 2
	phaseAutumn1Late = 3
	phaseAutumn2     = 4
	phaseAutumn2Late = 5
	phaseSpring1     = 6
	phaseSpring1Late = 7
	phaseSpring2     = 8
	phaseSpring2Late = 9
	phaseSummer1     = 10
	phaseSummer1Late = 11
	phaseSummer2     = 12
	phaseSummer2Late = 13
)

func (g *gen) runPhase(pi int) {
	switch pi {
	case phaseSummer:
		g.openYear()
	case phaseJoin:
		g.joinCommunities()
	case phaseElect:
		g.confirmRosters()
		g.elections()
	case phaseAutumn1Late:
		g.rerunFailedElections()
		g.draftProposals(1)
	case phaseAutumn2:
		g.decideProposals()
		g.scheduleReviews(0)
	case phaseAutumn2Late, phaseSpring2Late:
		g.conductReviews()
	case phaseSpring1:
		g.confidenceVotes()
		g.arrangeSecondments()
		g.midYearChanges()
	case phaseSpring1Late:
		g.reviseReturnedProposals()
		g.completeActions()
	case phaseSpring2:
		g.scheduleReviews(1)
		g.draftProposals(2)
	case phaseSummer1:
		g.decideProposals()
	case phaseSummer1Late:
		g.completeActions()
	case phaseSummer2Late:
		g.recognise()
	}
	if pi >= phaseElect {
		g.settleLoans(g.clk.Now())
		g.attendCPD()
		g.requestLoans()
		if pi%2 == 0 {
			g.organiseCPD()
		} else {
			g.rateProgress(pi)
			g.recordCosts()
			g.updateCommitments(pi)
		}
	}
	g.timelineDone()
}

// --- plumbing

// on returns the function that accounts for one command's outcome: what
// names the command in the error if it was refused.
func (g *gen) on(what string) func(domain.Result, error) domain.Result {
	return func(res domain.Result, err error) domain.Result { return g.done(what, res, err) }
}

func (g *gen) done(what string, res domain.Result, err error) domain.Result {
	if err != nil {
		if g.err == nil {
			g.err = fmt.Errorf("demo: %s on %s: %w", what, g.clk.Now().Format(time.DateOnly), err)
		}
		return res
	}
	g.sum.Commands++
	g.sum.Events += uint64(len(res.Events))
	g.clk.advance(step)
	if g.opts.Progress != nil {
		g.opts.Progress(g.sum.Events)
	}
	return res
}

// id returns the next aggregate id derived from the seed.
func (g *gen) id() uuid.UUID {
	var u uuid.UUID
	for i := range 2 {
		v := g.idRng.Uint64()
		for j := range 8 {
			u[8*i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// eventID returns a UUID v7 of the simulated time, its random bits from
// the seed.
func (g *gen) eventID() uuid.UUID {
	u := g.id()
	ms := uint64(g.clk.Now().UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (8 * (5 - i)))
	}
	u[6] = u[6]&0x0f | 0x70
	return u
}

func (g *gen) pick(n int) int { return g.rng.IntN(n) }

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func pickOf[T any](g *gen, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *gen) shuffled(xs []uuid.UUID) []uuid.UUID {
	out := slices.Clone(xs)
	g.rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func admin() domain.Meta { return domain.Meta{ActorID: adminActor, ActorRole: domain.RoleAdmin} }

func as(p uuid.UUID, role string) domain.Meta {
	return domain.Meta{ActorID: p.String(), ActorRole: role}
}

func because(m domain.Meta, reason string) domain.Meta { m.Reason = reason; return m }

func (g *gen) leadMeta() domain.Meta { return as(g.lead, domain.RolePartnershipLead) }

func (s *school) directorMeta() domain.Meta { return as(s.director, domain.RoleDirector) }

func today(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (g *gen) today() time.Time { return today(g.clk.Now()) }

func (g *gen) personName() string {
	return pickOf(g, firstNames) + " " + pickOf(g, lastNames)
}

func (g *gen) staffOf(s *school, except ...uuid.UUID) uuid.UUID {
	for range 20 {
		p := pickOf(g, s.staff)
		if !slices.Contains(except, p) {
			return p
		}
	}
	return s.staff[0]
}

// --- setup: schools, people, ISLCs, the partnership and its resources

func (g *gen) setup() {
	names := g.shuffledNames(g.opts.Schools)
	for i := range g.opts.Schools {
		s := &school{idx: i, id: g.id(), name: names[i], secondary: i%3 == 0}
		s.domain = strings.ToLower(strings.Fields(s.name)[0]) + ".sch.example"
		g.schools = append(g.schools, s)
		g.sum.Schools = append(g.sum.Schools, s.id)
		g.setupSchool(s)
		if g.err != nil {
			return
		}
	}
	g.lead = g.schools[0].director
	g.pid = g.id()
	g.sum.PartnershipID = g.pid
	g.sum.Name = "North Vale Learning Partnership"
	g.on("form the partnership")(g.part.FormPartnership(g.ctx, because(g.leadMeta(), "The trust's schools agreed to share resources, staff and review."),
		partnership.FormPartnership{PartnershipID: g.pid, Name: g.sum.Name, Kind: partnership.KindTrust}))
	for _, s := range g.schools {
		g.on("join the partnership")(g.part.JoinPartnership(g.ctx, g.leadMeta(), partnership.JoinPartnership{PartnershipID: g.pid, SchoolID: s.id}))
	}
	g.on("appoint the lead")(g.part.AppointPartnershipLead(g.ctx, g.leadMeta(), partnership.AppointPartnershipLead{PartnershipID: g.pid, LeadID: g.lead}))
	g.auditor = g.id()
	g.on("register the auditor")(g.gov.RegisterAuditor(g.ctx, admin(), governance.RegisterAuditor{PersonID: g.auditor, Organisation: "Diocesan Board of Education",
		PersonDetails: governance.PersonDetails{Name: "Imogen Hart", Email: "imogen.hart@dbe.example"}}))
	g.on("appoint the auditor")(g.part.AppointAuditor(g.ctx, g.leadMeta(), partnership.AppointAuditor{PartnershipID: g.pid, AuditorID: g.auditor}))
	kinds := []struct {
		kind  partnership.ResourceKind
		name  string
		cap   int
		value int64
	}{
		{partnership.Minibus, "Minibus (17 seats)", 17, 2500},
		{partnership.ScienceLab, "Physics lab", 30, 4000},
		{partnership.SportsHall, "Sports hall", 120, 6000},
		{partnership.TeachingResource, "Class set of microscopes", 30, 800},
		{partnership.Coach, "Coach (49 seats)", 49, 7500},
	}
	for _, s := range g.schools {
		n := 1 + g.pick(2)
		if s.secondary {
			n++
		}
		n *= g.opts.Volume
		for k := range n {
			kd := kinds[(s.idx+k*2)%len(kinds)]
			r := &resource{id: g.id(), owner: s, name: kd.name}
			g.on("register a resource")(g.part.RegisterResource(g.ctx, s.directorMeta(), partnership.RegisterResource{ResourceID: r.id, PartnershipID: g.pid,
				OwnerSchoolID: s.id, Kind: kd.kind, Name: kd.name, Description: "Shared with the partnership's schools", Capacity: kd.cap, HourlyValuePence: kd.value, Offer: true}))
			g.resources = append(g.resources, r)
		}
	}
}

func (g *gen) shuffledNames(n int) []string {
	pool := slices.Clone(schoolNames)
	g.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	out := make([]string, n)
	for i := range n {
		out[i] = pool[i%len(pool)]
		if i >= len(pool) {
			out[i] = fmt.Sprintf("%s (site %d)", pool[i%len(pool)], i/len(pool)+1)
		}
	}
	return out
}

func (g *gen) setupSchool(s *school) {
	g.on("register a school")(g.gov.RegisterSchool(g.ctx, admin(), governance.RegisterSchool{SchoolID: s.id, Name: s.name,
		Mission: "Where everyone is a learner, a teacher and a leader.", Vision: "Learning that is shared, led by those who do it.",
		Values: "Agency, equity, collaboration, curiosity."}))
	for _, n := range governance.DefaultSegmentNames {
		seg := governance.Segment{ID: governance.DefaultSegmentID(s.id, n), Name: n}
		s.segs = append(s.segs, seg)
		s.comms = append(s.comms, governance.CommunityID(s.id, seg.ID))
	}
	n := 20 + g.pick(21)
	for range n {
		g.registerStaff(s)
	}
	s.director = s.staff[0]
	g.on("appoint the Director")(g.gov.AppointDirector(g.ctx, because(admin(), "Appointed by the governing body"), governance.AppointDirector{SchoolID: s.id, DirectorID: s.director}))
	for _, seg := range s.segs {
		g.on("establish an ISLC")(g.gov.EstablishCommunity(g.ctx, s.directorMeta(), governance.EstablishCommunity{SchoolID: s.id, SegmentID: seg.ID}))
	}
	for i := range s.comms {
		gv := g.id()
		g.on("register a governor")(g.gov.RegisterGovernor(g.ctx, admin(), governance.RegisterGovernor{PersonID: gv, SchoolID: s.id, PersonDetails: g.details(s)}))
		g.sum.People++
		s.govs = append(s.govs, gv)
		g.on("link a governor")(g.gov.LinkGovernor(g.ctx, s.directorMeta(), governance.LinkGovernor{CommunityID: s.comms[i], GovernorID: gv}))
	}
	for range 2 {
		c := g.id()
		g.on("register an advisory contact")(g.gov.RegisterAdvisoryContact(g.ctx, admin(), governance.RegisterAdvisoryContact{PersonID: c, SchoolID: s.id, PersonDetails: g.details(s)}))
		g.sum.People++
		s.contacts = append(s.contacts, c)
	}
	groups := []struct{ name, kind string }{
		{"Student council", governance.AdvisoryStudents}, {"Parent forum", governance.AdvisoryParents},
		{"Student and parent panel", governance.AdvisoryStudentsAndParents},
	}
	for i, seg := range s.segs {
		gr := groups[i%len(groups)]
		id := g.id()
		s.groups = append(s.groups, id)
		g.on("link an advisory group")(g.gov.LinkAdvisoryGroup(g.ctx, s.directorMeta(), governance.LinkAdvisoryGroup{CommunityID: s.comms[i], GroupID: id,
			Name: gr.name + " (" + seg.Name + ")", Kind: gr.kind, Contacts: s.contacts}))
	}
	s.members = make([][]uuid.UUID, len(s.comms))
	s.chairs = make([]uuid.UUID, len(s.comms))
}

func (g *gen) details(s *school) governance.PersonDetails {
	name := g.personName()
	return governance.PersonDetails{Name: name, Email: strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(name, " ", "."), "'", "")) + "@" + s.domain}
}

func (g *gen) registerStaff(s *school) uuid.UUID {
	p := g.id()
	kind := governance.StaffEducator
	var subj []string
	if len(s.staff)%6 == 5 {
		kind = governance.StaffAdministrator
	} else {
		subj = []string{pickOf(g, subjects)}
		if g.chance(0.3) {
			subj = append(subj, pickOf(g, subjects))
		}
	}
	g.on("register staff")(g.gov.RegisterStaff(g.ctx, admin(), governance.RegisterStaff{PersonID: p, SchoolID: s.id, Kind: kind, Subjects: subj, PersonDetails: g.details(s)}))
	g.sum.People++
	s.staff = append(s.staff, p)
	return p
}

// --- the governance year

// openYear opens the academic year in every school, lets some staff go
// and recruits others, and sets the partnership's priorities, timelines and
// commitments for the year.
func (g *gen) openYear() {
	for _, s := range g.schools {
		g.on("open the academic year")(g.gov.OpenAcademicYear(g.ctx, s.directorMeta(), governance.OpenAcademicYear{SchoolID: s.id, Year: g.year}))
		// Keep one or two members of each ISLC for institutional memory.
		s.keepers = make([][]uuid.UUID, len(s.comms))
		keep := map[uuid.UUID]bool{s.director: true}
		for ci, ms := range s.members {
			if len(ms) == 0 {
				continue
			}
			k := 1 + g.pick(2)
			for _, p := range g.shuffled(ms)[:min(k, len(ms))] {
				s.keepers[ci] = append(s.keepers[ci], p)
				keep[p] = true
			}
		}
		if g.yearIndex > 0 {
			var leavers []uuid.UUID
			for _, p := range s.staff {
				if !keep[p] && g.chance(0.08) {
					leavers = append(leavers, p)
				}
			}
			// Their last day is this summer's day: a leaving is recorded
			// once it has happened.
			lastDay := g.today()
			for _, p := range leavers {
				g.on("leave the school")(g.gov.LeaveSchool(g.ctx, because(s.directorMeta(), "Moved to a post at another school"), governance.LeaveSchool{PersonID: p, LeftOn: lastDay}))
				s.staff = slices.DeleteFunc(s.staff, func(x uuid.UUID) bool { return x == p })
			}
			for range len(leavers) {
				g.registerStaff(s)
			}
		}
		for ci := range s.members {
			s.members[ci] = nil
			s.chairs[ci] = uuid.Nil
		}
		s.failed = nil
	}
	// Priorities, timelines and commitments.
	g.priorities = nil
	for k := range 3 {
		id := g.id()
		title := priorityTitles[(g.yearIndex*3+k)%len(priorityTitles)]
		g.on("agree a priority")(g.part.AgreePriority(g.ctx, g.leadMeta(), partnership.AgreePriority{PartnershipID: g.pid, PriorityID: id, Title: title,
			Description: "Agreed by the Directors at the summer meeting", AcademicYear: g.year}))
		g.priorities = append(g.priorities, id)
	}
	g.timelines = nil
	g.createTimeline(uuid.Nil, "North Vale school-improvement programme "+g.year)
	for _, s := range g.schools {
		g.createTimeline(s.id, s.name+": improvement timeline "+g.year)
	}
	start, _ := partnership.ParseAcademicYear(g.year)
	for _, s := range g.schools {
		for k, pr := range g.priorities {
			if (s.idx+k+g.yearIndex)%2 == 1 {
				continue
			}
			c := &commitment{id: g.id(), school: s, owner: g.staffOf(s, s.director), due: time.Date(start+1, time.Month(2+g.pick(6)), 1+g.pick(27), 0, 0, 0, 0, time.UTC)}
			kind, party := partnership.PartySchool, s.id
			if g.chance(0.5) {
				kind, party = partnership.PartyCommunity, s.comms[g.pick(len(s.comms))]
			}
			g.on("make a commitment")(g.part.MakeCommitment(g.ctx, g.leadMeta(), partnership.MakeCommitment{CommitmentID: c.id, PartnershipID: g.pid, PriorityID: pr,
				PartyKind: kind, PartyID: party, OwnerID: c.owner, DueOn: c.due, SuccessMeasure: "Improvement visible in the half-termly traffic lights and agreed at the review"}))
			g.commitments = append(g.commitments, c)
		}
	}
}

func (g *gen) createTimeline(school uuid.UUID, title string) {
	t := &timeline{id: g.id()}
	res := g.on("create a timeline")(g.part.CreateTimeline(g.ctx, g.leadMeta(), partnership.CreateTimeline{TimelineID: t.id, PartnershipID: g.pid, SchoolID: school,
		AcademicYear: g.year, Title: title}))
	for _, m := range res.Events {
		if it, ok := m.Event.(partnership.TimelineItemScheduled); ok {
			t.items = append(t.items, timelineItem{id: it.ItemID, on: it.On})
		}
	}
	g.timelines = append(g.timelines, t)
}

// joinCommunities places every staff member in at least one ISLC for the
// year (keeping last year's keepers), and records their strengths,
// learning and triads.
func (g *gen) joinCommunities() {
	yearStart := time.Date(g.clk.Now().Year(), time.September, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range g.schools {
		assigned := map[uuid.UUID]bool{}
		for ci, ks := range s.keepers {
			for _, p := range ks {
				if slices.Contains(s.staff, p) {
					s.members[ci] = append(s.members[ci], p)
					assigned[p] = true
				}
			}
		}
		for _, p := range g.shuffled(s.staff) {
			if assigned[p] {
				continue
			}
			best := g.pick(len(s.comms))
			for ci := range s.comms {
				if len(s.members[ci]) < len(s.members[best]) {
					best = ci
				}
			}
			s.members[best] = append(s.members[best], p)
			assigned[p] = true
		}
		for _, p := range s.staff {
			if g.chance(0.2) {
				ci := g.pick(len(s.comms))
				if !slices.Contains(s.members[ci], p) {
					s.members[ci] = append(s.members[ci], p)
				}
			}
		}
		for ci, ms := range s.members {
			for _, p := range ms {
				basis := []string{governance.BasisInterest}
				if g.chance(0.6) {
					basis = append(basis, governance.BasisStrengths)
				}
				g.on("join an ISLC")(g.gov.JoinCommunity(g.ctx, as(p, domain.RoleStaff), governance.JoinCommunity{CommunityID: s.comms[ci], PersonID: p, Year: g.year,
					Basis: basis, EffectiveFrom: yearStart}))
			}
		}
		for _, p := range s.staff {
			interests := []uuid.UUID{pickOf(g, s.segs).ID}
			if g.chance(0.5) {
				if seg := pickOf(g, s.segs).ID; seg != interests[0] {
					interests = append(interests, seg)
				}
			}
			g.on("assess strengths")(g.gov.RecordStrengthsAssessment(g.ctx, s.directorMeta(), governance.RecordStrengthsAssessment{PersonID: p, Year: g.year,
				Scores:    governance.Strengths{RelationshipBuilding: 20 + g.pick(81), Executing: 20 + g.pick(81), StrategicThinking: 20 + g.pick(81), Influencing: 20 + g.pick(81)},
				Interests: interests, Themes: []string{pickOf(g, strengthThemes), pickOf(g, strengthThemes)}}))
			g.on("join a design community")(g.gov.JoinDesignCommunity(g.ctx, as(p, domain.RoleStaff), governance.JoinDesignCommunity{PersonID: p, Year: g.year, Name: pickOf(g, designCommunities)}))
			g.on("join a learning pathway")(g.gov.JoinLearningPathway(g.ctx, as(p, domain.RoleStaff), governance.JoinLearningPathway{PersonID: p, Year: g.year, Name: pickOf(g, pathways)}))
		}
		order := g.shuffled(s.staff)
		for k := 0; k+3 <= len(order); k += 3 {
			g.on("form a triad")(g.gov.FormTriad(g.ctx, s.directorMeta(), governance.FormTriad{TriadID: g.id(), SchoolID: s.id, Year: g.year, Members: order[k : k+3]}))
		}
	}
}

func (g *gen) confirmRosters() {
	for _, s := range g.schools {
		for ci := range s.comms {
			if len(s.members[ci]) > 0 {
				g.on("confirm a roster")(g.gov.ConfirmRoster(g.ctx, s.directorMeta(), governance.ConfirmRoster{CommunityID: s.comms[ci], Year: g.year}))
			}
		}
	}
}

// Election scenarios.
const (
	electNormal = iota
	electFail
	electTie
)

// elections elects every ISLC's chair: in each year one fails its quorum
// and one ties and goes to a run-off, in different schools where there are
// several; a few more fail by chance.
func (g *gen) elections() {
	n := len(g.schools)
	for _, s := range g.schools {
		for ci := range s.comms {
			mode := electNormal
			switch {
			case s.idx == g.yearIndex%n && ci == 1:
				mode = electFail
			case s.idx == (g.yearIndex+1)%n && ci == 2:
				mode = electTie
			case g.chance(0.06):
				mode = electFail
			}
			g.election(s, ci, mode)
		}
	}
}

func (g *gen) rerunFailedElections() {
	for _, s := range g.schools {
		for _, ci := range s.failed {
			if s.chairs[ci] == uuid.Nil {
				g.election(s, ci, electNormal)
			}
		}
		s.failed = nil
	}
}

// election runs one election of ISLC ci from nominations to the result.
func (g *gen) election(s *school, ci, mode int) {
	members := s.members[ci]
	if len(members) == 0 || g.err != nil {
		return
	}
	if mode == electTie && len(members) < 2 {
		mode = electNormal
	}
	c := s.comms[ci]
	dm := s.directorMeta()
	el := g.id()
	g.on("open an election")(g.gov.OpenElection(g.ctx, because(dm, "Annual election of the chair"), governance.OpenElection{CommunityID: c, ElectionID: el, Year: g.year}))
	order := g.shuffled(members)
	ncand := 1
	if mode == electTie || (len(order) > 2 && g.chance(0.5)) {
		ncand = 2
	}
	cands := order[:ncand]
	for i, cand := range cands {
		by := order[(i+1)%len(order)]
		g.on("nominate")(g.gov.Nominate(g.ctx, as(by, domain.RoleStaff), governance.Nominate{CommunityID: c, ElectionID: el, NomineeID: cand}))
		g.on("accept a nomination")(g.gov.AcceptNomination(g.ctx, as(cand, domain.RoleStaff), governance.AnswerNomination{CommunityID: c, ElectionID: el}))
	}
	if len(order) > ncand+1 && g.chance(0.3) {
		other := order[ncand]
		g.on("nominate")(g.gov.Nominate(g.ctx, as(order[0], domain.RoleStaff), governance.Nominate{CommunityID: c, ElectionID: el, NomineeID: other}))
		g.on("decline a nomination")(g.gov.DeclineNomination(g.ctx, because(as(other, domain.RoleStaff), "Not this year: I am leading the Year 6 transition project"),
			governance.AnswerNomination{CommunityID: c, ElectionID: el}))
	}
	g.on("open voting")(g.gov.OpenVoting(g.ctx, dm, governance.OpenVoting{CommunityID: c, ElectionID: el}))
	n := len(order)
	q := n/2 + 1
	voters := g.shuffled(order)
	vote := func(voter, cand uuid.UUID) {
		g.on("vote")(g.gov.CastVote(g.ctx, as(voter, domain.RoleStaff), governance.CastVote{CommunityID: c, ElectionID: el, CandidateID: cand}))
	}
	switch mode {
	case electFail:
		for _, v := range voters[:q-1] {
			vote(v, cands[0])
		}
	case electTie:
		k := (q + 1) / 2
		for i, v := range voters[:2*k] {
			vote(v, cands[i%2])
		}
	default:
		turnout := q + g.pick(n-q+1)
		for i, v := range voters[:turnout] {
			if i <= turnout/2 {
				vote(v, cands[0])
			} else {
				vote(v, pickOf(g, cands))
			}
		}
	}
	res := g.on("close an election")(g.gov.CloseElection(g.ctx, dm, governance.CloseElection{CommunityID: c, ElectionID: el}))
	g.afterBallot(s, ci, res)
}

// afterBallot follows a ballot's result: a chair elected is rewarded, a
// run-off is voted and closed, a failed election is run again later, and
// an election opened after a lost confidence vote is run.
func (g *gen) afterBallot(s *school, ci int, res domain.Result) {
	c := s.comms[ci]
	for _, m := range res.Events {
		switch e := m.Event.(type) {
		case governance.ChairElected:
			s.chairs[ci] = e.ChairID
			g.on("record the chair's reward")(g.gov.RecordChairReward(g.ctx, s.directorMeta(), governance.RecordChairReward{CommunityID: c, Year: g.year, ChairID: e.ChairID,
				HoursPerWeek: 2, Stipend: &governance.Money{AmountMinor: 150000, Currency: "GBP"}}))
		case governance.ChairRemoved:
			s.chairs[ci] = uuid.Nil
		case governance.ElectionFailed:
			if !slices.Contains(s.failed, ci) {
				s.failed = append(s.failed, ci)
			}
		case governance.RunOffCalled:
			// Everyone votes again; the first candidate carries it.
			voters := g.shuffled(s.members[ci])
			for i, v := range voters {
				cand := e.Candidates[0]
				if i%3 == 2 {
					cand = e.Candidates[1]
				}
				g.on("vote in the run-off")(g.gov.CastVote(g.ctx, as(v, domain.RoleStaff), governance.CastVote{CommunityID: c, ElectionID: e.RunOffID, CandidateID: cand}))
			}
			r := g.on("close the run-off")(g.gov.CloseElection(g.ctx, s.directorMeta(), governance.CloseElection{CommunityID: c, ElectionID: e.RunOffID}))
			g.afterBallot(s, ci, r)
		case governance.ElectionOpened:
			if e.AfterConfidenceVote == uuid.Nil {
				continue
			}
			g.newElectionAfterVote(s, ci, e.ElectionID)
		}
	}
}

func (g *gen) newElectionAfterVote(s *school, ci int, el uuid.UUID) {
	c := s.comms[ci]
	members := g.shuffled(s.members[ci])
	cand := members[0]
	g.on("nominate")(g.gov.Nominate(g.ctx, as(members[1%len(members)], domain.RoleStaff), governance.Nominate{CommunityID: c, ElectionID: el, NomineeID: cand}))
	g.on("accept a nomination")(g.gov.AcceptNomination(g.ctx, as(cand, domain.RoleStaff), governance.AnswerNomination{CommunityID: c, ElectionID: el}))
	g.on("open voting")(g.gov.OpenVoting(g.ctx, s.directorMeta(), governance.OpenVoting{CommunityID: c, ElectionID: el}))
	for _, v := range members {
		g.on("vote")(g.gov.CastVote(g.ctx, as(v, domain.RoleStaff), governance.CastVote{CommunityID: c, ElectionID: el, CandidateID: cand}))
	}
	res := g.on("close the election")(g.gov.CloseElection(g.ctx, s.directorMeta(), governance.CloseElection{CommunityID: c, ElectionID: el}))
	g.afterBallot(s, ci, res)
}

// confidenceVotes holds, each year, one confidence vote the chair loses
// (a new election follows) and, with several schools, one the chair keeps.
func (g *gen) confidenceVotes() {
	n := len(g.schools)
	for k, lose := range []bool{true, false} {
		if k == 1 && n < 2 {
			break
		}
		s := g.schools[(g.yearIndex+2+k)%n]
		ci := 3 + k
		chair := s.chairs[ci]
		members := s.members[ci]
		if chair == uuid.Nil || len(members) < 3 {
			continue
		}
		c := s.comms[ci]
		caller := uuid.Nil
		for _, p := range members {
			if p != chair {
				caller = p
				break
			}
		}
		vote := g.id()
		reason := "The ISLC's proposals have stalled since the autumn"
		if !lose {
			reason = "Members asked to confirm the chair after a difficult term"
		}
		g.on("call a confidence vote")(g.gov.CallConfidenceVote(g.ctx, because(as(caller, domain.RoleStaff), reason),
			governance.CallConfidenceVote{CommunityID: c, VoteID: vote, Year: g.year}))
		for i, p := range members {
			choice := governance.ChoiceConfidence
			if lose && p != chair || !lose && i%4 == 3 {
				choice = governance.ChoiceNoConfidence
			}
			g.on("vote on confidence")(g.gov.CastConfidenceVote(g.ctx, as(p, domain.RoleStaff), governance.CastConfidenceVote{CommunityID: c, VoteID: vote, Choice: choice}))
		}
		res := g.on("close a confidence vote")(g.gov.CloseConfidenceVote(g.ctx, s.directorMeta(), governance.CloseConfidenceVote{CommunityID: c, VoteID: vote}))
		g.afterBallot(s, ci, res)
	}
}

// midYearChanges: someone leaves the school in the spring (leaving their
// ISLCs with the left_school exception) and a newcomer starts, who has no
// ISLC until September and so is flagged.
func (g *gen) midYearChanges() {
	for _, s := range g.schools {
		if !g.chance(0.5) {
			continue
		}
		var leaver uuid.UUID
		for _, p := range g.shuffled(s.staff) {
			if p != s.director && !slices.Contains(s.chairs, p) {
				leaver = p
				break
			}
		}
		if leaver == uuid.Nil {
			continue
		}
		// Leaving the school ends their memberships (left_school) too.
		g.on("leave the school")(g.gov.LeaveSchool(g.ctx, because(s.directorMeta(), "Relocating with family"), governance.LeaveSchool{PersonID: leaver}))
		for ci, ms := range s.members {
			s.members[ci] = slices.DeleteFunc(slices.Clone(ms), func(x uuid.UUID) bool { return x == leaver })
		}
		s.staff = slices.DeleteFunc(s.staff, func(x uuid.UUID) bool { return x == leaver })
		g.registerStaff(s)
	}
}

// --- proposals

func (g *gen) draftProposals(round int) {
	for _, s := range g.schools {
		for ci := range s.comms {
			ms := s.members[ci]
			if len(ms) == 0 || round == 2 && !g.chance(0.5) {
				continue
			}
			titles := proposalTitles[ci%len(proposalTitles)]
			p := &proposal{id: g.id(), ci: ci, status: governance.StatusDraft, title: titles[(g.yearIndex+round+s.idx)%len(titles)], year: g.year}
			var costs *governance.Money
			if g.chance(0.5) {
				costs = &governance.Money{AmountMinor: int64(50000 + g.pick(40)*25000), Currency: "GBP"}
			}
			drafter := pickOf(g, ms)
			g.on("draft a proposal")(g.gov.DraftProposal(g.ctx, as(drafter, domain.RoleStaff), governance.DraftProposal{ProposalID: p.id, CommunityID: s.comms[ci], Year: g.year,
				ProposalText: governance.ProposalText{Title: p.title, Body: "The ISLC proposes: " + strings.ToLower(p.title) + ", piloted for a term and reviewed with the advisory group.",
					Costs: costs, ExpectedImpact: "Measurable improvement in the areas rated red or amber this year."}}))
			if chair := s.chairs[ci]; chair != uuid.Nil {
				stance := pickOf(g, []string{governance.StanceSupport, governance.StanceSupport, governance.StanceConcerns, governance.StanceNeutral})
				g.on("give advice")(g.gov.GiveAdvice(g.ctx, because(as(chair, domain.RoleChair), "Recorded from the group's meeting notes"), governance.GiveAdvice{ProposalID: p.id,
					GroupID: s.groups[ci], Stance: stance, Text: "The group discussed the proposal and asks that families hear about it early."}))
			}
			s.proposals = append(s.proposals, p)
		}
	}
}

// decideProposals submits this year's drafts and has the Leadership Team
// decide them: most are approved, some sent back (at least one a year).
func (g *gen) decideProposals() {
	n := len(g.schools)
	for _, s := range g.schools {
		for i, p := range s.proposals {
			if p.year != g.year || p.status != governance.StatusDraft {
				continue
			}
			chair := s.chairs[p.ci]
			if chair == uuid.Nil {
				continue
			}
			g.on("submit a proposal")(g.gov.SubmitProposal(g.ctx, as(chair, domain.RoleChair), governance.SubmitProposal{ProposalID: p.id}))
			p.status = governance.StatusSubmitted
			back := g.chance(0.25) || s.idx == g.yearIndex%n && i == firstOfYear(s, g.year)
			g.decide(s, p, !back)
			// Now and then a governor challenges the Director on the
			// decision (every year at the first school); most are
			// answered, one in three after a while.
			if len(s.govs) > 0 && (g.chance(0.2) || s.idx == 0 && i == firstOfYear(s, g.year)) {
				g.challenge(s, p)
			}
		}
	}
}

// challenge has a governor of s challenge the Director on the Team's
// decision on p, and the Director answer it unless it is left open.
func (g *gen) challenge(s *school, p *proposal) {
	id := g.id()
	gov := pickOf(g, s.govs)
	g.on("raise a challenge")(g.gov.RaiseChallenge(g.ctx, as(gov, domain.RoleGovernor), governance.RaiseChallenge{ChallengeID: id,
		Subject: governance.ChallengeSubject{Kind: governance.SubjectProposal, ID: p.id},
		Text:    "How was the cost weighed against the other ISLCs' proposals?", DueOn: g.today().AddDate(0, 0, 14)}))
	if g.chance(0.3) {
		return
	}
	g.on("answer a challenge")(g.gov.AnswerChallenge(g.ctx, s.directorMeta(), governance.AnswerChallenge{ChallengeID: id,
		Answer: "The Team compared the costs of every proposal of the term; the minutes are with the clerk."}))
}

func firstOfYear(s *school, year string) int {
	for i, p := range s.proposals {
		if p.year == year {
			return i
		}
	}
	return -1
}

// decide has the Leadership Team vote on p (the Director and every chair
// in office, the proposing ISLC's chair among them), with a dissenting
// vote now and then, and the Director sign the outcome off.
func (g *gen) decide(s *school, p *proposal, approve bool) {
	team := []uuid.UUID{s.director}
	for _, ch := range s.chairs {
		if ch != uuid.Nil && !slices.Contains(team, ch) {
			team = append(team, ch)
		}
	}
	dissent := -1
	if len(team) >= 3 && g.chance(0.4) {
		dissent = 1 + g.rng.IntN(len(team)-1)
	}
	yes := true
	for i, m := range team {
		vote := approve
		if i == dissent {
			vote = !approve
		}
		role := domain.RoleChair
		if m == s.director {
			role = domain.RoleDirector
		}
		if vote {
			g.on("vote to approve a proposal")(g.gov.CastTeamVote(g.ctx, as(m, role), governance.CastTeamVote{ProposalID: p.id, Vote: governance.VoteApprove,
				Reason: "A clear plan with a measure of success.", Aligned: &yes, AlignmentNote: "In line with the mission: learners, teachers and leaders together."}))
			continue
		}
		g.on("vote to send back a proposal")(g.gov.CastTeamVote(g.ctx, as(m, role), governance.CastTeamVote{ProposalID: p.id, Vote: governance.VoteSendBack,
			Reason: "Share the cost with a partner school and say how impact will be measured.", Aligned: &yes, AlignmentNote: "Aligned with the values; the plan needs work."}))
	}
	meta := because(s.directorMeta(), "Decided at the Leadership Team meeting")
	if approve {
		g.on("sign off an approval")(g.gov.SignOffResolution(g.ctx, meta, governance.ResolveProposal{ProposalID: p.id, Reason: "The Team approved a clear plan with a measure of success."}))
		p.status = governance.StatusApproved
		return
	}
	g.on("sign off a sending back")(g.gov.SignOffResolution(g.ctx, meta, governance.ResolveProposal{ProposalID: p.id,
		Reason: "The Team sent it back: share the cost with a partner school and say how impact will be measured."}))
	p.status = governance.StatusReturned
}

func (g *gen) reviseReturnedProposals() {
	for _, s := range g.schools {
		for _, p := range s.proposals {
			if p.year != g.year || p.status != governance.StatusReturned || len(s.members[p.ci]) == 0 || s.chairs[p.ci] == uuid.Nil {
				continue
			}
			g.on("revise a proposal")(g.gov.ReviseProposal(g.ctx, as(pickOf(g, s.members[p.ci]), domain.RoleStaff), governance.ReviseProposal{ProposalID: p.id,
				ProposalText: governance.ProposalText{Title: p.title + " (shared with a partner school)", Body: "Revised after the Leadership Team's advice: the cost is shared with a partner school and impact is measured half-termly.",
					Costs: &governance.Money{AmountMinor: 40000, Currency: "GBP"}, ExpectedImpact: "Ratings in the targeted areas move from red or amber to green within the year."}}))
			g.on("resubmit a proposal")(g.gov.SubmitProposal(g.ctx, as(s.chairs[p.ci], domain.RoleChair), governance.SubmitProposal{ProposalID: p.id}))
			g.decide(s, p, !g.chance(0.1))
		}
	}
}

// --- between schools

func (g *gen) requestLoans() {
	if len(g.schools) < 2 {
		return
	}
	for range g.opts.Volume {
		for _, b := range g.schools {
			if !g.chance(0.8) {
				continue
			}
			r := pickOf(g, g.resources)
			if r.owner == b {
				continue
			}
			start := g.today().AddDate(0, 0, 2+g.pick(10)).Add(time.Duration(8+g.pick(4)) * time.Hour)
			for _, w := range r.windows {
				if w[1].After(start) {
					start = w[1].Add(time.Hour)
				}
			}
			end := start.Add(time.Duration(2+g.pick(6)) * time.Hour)
			l := &loan{id: g.id(), res: r, borrower: b, start: start, end: end}
			g.on("request a loan")(g.part.RequestLoan(g.ctx, as(g.staffOf(b), domain.RoleStaff), partnership.RequestLoan{ResourceID: r.id, LoanID: l.id,
				BorrowerSchoolID: b.id, Start: start, End: end, Purpose: pickOf(g, []string{"Year 6 trip", "Practical science lessons", "Sports festival", "Revision day", "Transition visit"})}))
			// Sometimes another school asks for the same slot and is declined.
			if other := g.schools[(b.idx+1)%len(g.schools)]; other != r.owner && other != b && g.chance(0.15) {
				clash := g.id()
				g.on("request a loan")(g.part.RequestLoan(g.ctx, as(g.staffOf(other), domain.RoleStaff), partnership.RequestLoan{ResourceID: r.id, LoanID: clash,
					BorrowerSchoolID: other.id, Start: start.Add(time.Hour), End: end.Add(time.Hour), Purpose: "Football tournament"}))
				g.approve(l)
				g.on("decline a loan")(g.part.DeclineLoan(g.ctx, because(r.owner.directorMeta(), "Already lent for that time"), partnership.DeclineLoan{ResourceID: r.id, LoanID: clash}))
				continue
			}
			if g.chance(0.05) {
				g.on("decline a loan")(g.part.DeclineLoan(g.ctx, because(r.owner.directorMeta(), "Needed for our own exams that week"), partnership.DeclineLoan{ResourceID: r.id, LoanID: l.id}))
				continue
			}
			g.approve(l)
		}
	}
}

func (g *gen) approve(l *loan) {
	g.on("approve a loan")(g.part.ApproveLoan(g.ctx, l.res.owner.directorMeta(), partnership.ApproveLoan{ResourceID: l.res.id, LoanID: l.id}))
	l.res.windows = append(l.res.windows, [2]time.Time{l.start, l.end})
	g.loans = append(g.loans, l)
}

// settleLoans collects and returns every approved loan that has ended by
// now: most in good order, a few late, one a year damaged.
func (g *gen) settleLoans(now time.Time) {
	var keep []*loan
	for _, l := range g.loans {
		if !l.end.Before(now) {
			keep = append(keep, l)
			continue
		}
		actor := as(g.staffOf(l.borrower), domain.RoleStaff)
		g.on("collect a loan")(g.part.CollectLoan(g.ctx, actor, partnership.CollectLoan{ResourceID: l.res.id, LoanID: l.id, CollectedAt: l.start}))
		back, cond, note := l.end, partnership.ConditionGood, ""
		switch {
		case !g.damaged:
			cond, note, g.damaged = partnership.ConditionDamaged, "Rear step bent; reported to the owning school", true
		case g.chance(0.1):
			cond, note = partnership.ConditionFair, "Minor wear"
		case g.chance(0.05):
			back = l.end.Add(20 * time.Hour)
		}
		if back.After(now) {
			back = l.end
		}
		g.on("return a loan")(g.part.ReturnLoan(g.ctx, actor, partnership.ReturnLoan{ResourceID: l.res.id, LoanID: l.id, ReturnedAt: back, Condition: cond, Note: note}))
	}
	g.loans = keep
}

func (g *gen) organiseCPD() {
	kinds := []partnership.CPDKind{partnership.TeachMeet, partnership.CPDSession, partnership.Shadowing, partnership.Trip, partnership.Event}
	for v := range g.opts.Volume {
		for k := range max(1, len(g.schools)/2) {
			org := g.schools[(g.phase+k+v)%len(g.schools)]
			starts := g.today().AddDate(0, 0, 3+g.pick(10)).Add(15*time.Hour + 30*time.Minute)
			e := &cpdEvent{id: g.id(), organiser: org, starts: starts}
			places := 20 + g.pick(21)
			bulkMin, bulkOff := 0, 0
			if g.chance(0.4) {
				bulkMin, bulkOff = 8, 20
			}
			g.on("organise CPD")(g.part.OrganiseCPD(g.ctx, org.directorMeta(), partnership.OrganiseCPD{CPDID: e.id, PartnershipID: g.pid, OrganiserSchoolID: org.id,
				Kind: pickOf(g, kinds), Title: pickOf(g, cpdTitles), StartsAt: starts, EndsAt: starts.Add(2 * time.Hour), Places: places,
				CostPerPlacePence: int64(g.pick(5) * 1000), BulkMinPlaces: bulkMin, BulkPercentOff: bulkOff}))
			left := places
			for _, s := range g.schools {
				n := 1 + g.pick(4)
				if n > left {
					break
				}
				b := booking{id: g.id(), school: s, places: n}
				g.on("book CPD places")(g.part.BookCPDPlaces(g.ctx, as(g.staffOf(s), domain.RoleStaff), partnership.BookCPDPlaces{CPDID: e.id, BookingID: b.id, SchoolID: s.id, Places: n}))
				left -= n
				if g.chance(0.08) {
					g.on("cancel a CPD booking")(g.part.CancelCPDBooking(g.ctx, because(as(g.staffOf(s), domain.RoleStaff), "Cover could not be found"),
						partnership.CancelCPDBooking{CPDID: e.id, BookingID: b.id}))
					continue
				}
				e.bookings = append(e.bookings, b)
			}
			g.cpds = append(g.cpds, e)
		}
	}
}

func (g *gen) attendCPD() {
	now := g.clk.Now()
	var keep []*cpdEvent
	for _, e := range g.cpds {
		if now.Before(e.starts.Add(2 * time.Hour)) {
			keep = append(keep, e)
			continue
		}
		for _, b := range e.bookings {
			g.on("record CPD attendance")(g.part.RecordCPDAttendance(g.ctx, as(g.staffOf(e.organiser), domain.RoleStaff),
				partnership.RecordCPDAttendance{CPDID: e.id, BookingID: b.id, Attended: b.places - g.pick(min(2, b.places+1))}))
		}
	}
	g.cpds = keep
}

func (g *gen) recordCosts() {
	cats := []partnership.CostCategory{partnership.CostMeetings, partnership.CostTravel, partnership.CostCoordination, partnership.CostOther}
	{
		for _, s := range g.schools {
			cat := pickOf(g, cats)
			var pence int64
			if cat == partnership.CostTravel || cat == partnership.CostOther {
				pence = int64(500 + g.pick(40)*100)
			}
			g.on("record a transaction cost")(g.part.RecordTransactionCost(g.ctx, s.directorMeta(), partnership.RecordTransactionCost{PartnershipID: g.pid, EntryID: g.id(),
				SchoolID: s.id, Category: cat, On: g.today(), Hours: float64(1 + g.pick(6)), AmountPence: pence, Note: "Half-termly partnership meeting and follow-up"}))
		}
	}
}

// rateProgress records this half-term's traffic lights for every school,
// area and cohort; ratings drift, mostly towards green.
func (g *gen) rateProgress(pi int) {
	if g.ratings == nil {
		g.ratings = map[[3]int]int{}
	}
	term := partnership.Term{AcademicYear: g.year, Code: partnership.TermCodes[(pi-phaseAutumn1Late)/2]}
	rags := []partnership.RAG{partnership.Red, partnership.Amber, partnership.Green}
	for _, s := range g.schools {
		cohorts := primaryCohorts
		if s.secondary {
			cohorts = secondaryCohorts
		}
		rater := s.director
		for ai, area := range areas {
			for ki, cohort := range cohorts {
				key := [3]int{s.idx, ai, ki}
				r, ok := g.ratings[key]
				switch x := g.rng.Float64(); {
				case !ok:
					r = g.pick(3)
				case x < 0.3 && r < 2:
					r++
				case x > 0.88 && r > 0:
					r--
				}
				g.ratings[key] = r
				g.on("rate progress")(g.part.RateProgress(g.ctx, as(rater, domain.RoleDirector), partnership.RateProgress{RatingID: g.id(), PartnershipID: g.pid, SchoolID: s.id,
					Area: area, Cohort: cohort, Term: term.String(), Rating: rags[r], Evidence: "Half-termly data drop, work scrutiny and pupil voice (per cohort)"}))
			}
		}
	}
}

func (g *gen) updateCommitments(pi int) {
	if pi < phaseAutumn2Late {
		return
	}
	today := g.today()
	var open []*commitment
	for _, c := range g.commitments {
		switch {
		case today.After(c.due) && pi >= phaseSpring1Late:
			x := g.rng.Float64()
			meta := as(c.owner, domain.RoleStaff)
			if x < 0.65 {
				g.on("mark a commitment achieved")(g.part.MarkCommitmentAchieved(g.ctx, meta, partnership.CloseCommitment{CommitmentID: c.id, Evidence: "Agreed at the review meeting; the traffic lights moved to green"}))
				continue
			}
			if x < 0.9 {
				g.on("mark a commitment missed")(g.part.MarkCommitmentMissed(g.ctx, meta, partnership.CloseCommitment{CommitmentID: c.id, Evidence: "Staffing changes delayed the work; carried into next year's plan"}))
				continue
			}
			open = append(open, c) // still in progress, past its day
		default:
			c.percent = min(95, c.percent+10+g.pick(25))
			pct := c.percent
			g.on("update a commitment")(g.part.UpdateCommitmentProgress(g.ctx, as(c.owner, domain.RoleStaff), partnership.UpdateCommitmentProgress{CommitmentID: c.id,
				Note: "Progress reported at the half-termly meeting", Percent: &pct}))
			open = append(open, c)
		}
	}
	g.commitments = open
}

func (g *gen) arrangeSecondments() {
	n := len(g.schools)
	if n < 2 {
		return
	}
	for k := range max(1, n/2) {
		from, to := g.schools[(g.yearIndex+2*k)%n], g.schools[(g.yearIndex+2*k+1)%n]
		teacher := g.staffOf(from, from.director)
		id := g.id()
		start := g.today().AddDate(0, 0, 7)
		g.on("arrange a secondment")(g.part.ArrangeSecondment(g.ctx, because(g.leadMeta(), to.name+" has no specialist in this subject"), partnership.ArrangeSecondment{SecondmentID: id,
			PartnershipID: g.pid, TeacherID: teacher, LendingSchoolID: from.id, ReceivingSchoolID: to.id, Subject: pickOf(g, subjects),
			Start: start, End: start.AddDate(0, 0, 84), Fraction: float64(1+g.pick(3)) / 5}))
		g.secondments = append(g.secondments, id)
	}
}

var focusAreas = []string{"Transition", "Progress & Attainment", "Curriculum & Pedagogy", "Culture & Climate", "Reading"}

// scheduleReviews schedules peer reviews of half the schools (half 0 in the
// autumn, half 1 in the spring), on the next phase's day, by staff of two
// other schools.
func (g *gen) scheduleReviews(half int) {
	n := len(g.schools)
	if n < 2 || g.phase+1 >= len(g.phases) {
		return
	}
	on := today(g.phases[g.phase+1])
	for _, s := range g.schools {
		if s.idx%2 != half {
			continue
		}
		var reviewers []uuid.UUID
		for k := 1; k <= min(2, n-1); k++ {
			o := g.schools[(s.idx+k)%n]
			reviewers = append(reviewers, g.staffOf(o, o.director))
		}
		r := &review{id: g.id(), reviewed: s, reviewers: reviewers, on: on}
		g.on("schedule a peer review")(g.part.SchedulePeerReview(g.ctx, g.leadMeta(), partnership.SchedulePeerReview{ReviewID: r.id, PartnershipID: g.pid,
			ReviewedSchoolID: s.id, ReviewerIDs: reviewers, FocusAreas: []string{pickOf(g, focusAreas), pickOf(g, focusAreas[1:])}[:1+g.pick(2)], On: on}))
		g.reviews = append(g.reviews, r)
	}
}

func (g *gen) conductReviews() {
	rags := []partnership.RAG{partnership.Red, partnership.Amber, partnership.Amber, partnership.Green, partnership.Green}
	var keep []*review
	for _, r := range g.reviews {
		if g.today().Before(r.on) {
			keep = append(keep, r)
			continue
		}
		var findings []uuid.UUID
		for i := range 2 + g.pick(2) {
			f := g.id()
			by := r.reviewers[i%len(r.reviewers)]
			g.on("record a review finding")(g.part.RecordReviewFinding(g.ctx, as(by, domain.RoleStaff), partnership.RecordReviewFinding{ReviewID: r.id, FindingID: f,
				Area: pickOf(g, focusAreas), Rating: pickOf(g, rags), Finding: pickOf(g, findingTexts), Recommendations: []string{"Agree an action with a named owner and a date"}}))
			findings = append(findings, f)
		}
		g.on("complete a peer review")(g.part.CompletePeerReview(g.ctx, as(r.reviewers[0], domain.RoleStaff), partnership.CompletePeerReview{ReviewID: r.id,
			Summary: "A school that knows itself well; the findings name what would make the biggest difference next."}))
		for _, f := range findings[:1+g.pick(2)] {
			a := &action{review: r.id, id: g.id(), owner: g.staffOf(r.reviewed), due: g.today().AddDate(0, 0, 42+g.pick(28))}
			g.on("agree a follow-up action")(g.part.AgreeFollowUpAction(g.ctx, r.reviewed.directorMeta(), partnership.AgreeFollowUpAction{ReviewID: r.id, ActionID: a.id,
				FindingID: f, Action: "Act on the finding and report back at the next line-management meeting", OwnerID: a.owner, DueOn: a.due}))
			g.actions = append(g.actions, a)
		}
	}
	g.reviews = keep
}

func (g *gen) completeActions() {
	var open []*action
	for _, a := range g.actions {
		if g.chance(0.7) {
			g.on("complete a follow-up action")(g.part.CompleteFollowUpAction(g.ctx, as(a.owner, domain.RoleStaff), partnership.CompleteFollowUpAction{ReviewID: a.review, ActionID: a.id,
				Note: "Done and reported at the line-management meeting"}))
			continue
		}
		open = append(open, a)
	}
	g.actions = open
}

// recognise records, at the end of the year, one contribution per school:
// a person, the school or one of its ISLCs.
func (g *gen) recognise() {
	for _, s := range g.schools {
		var cmd partnership.RecogniseContribution
		if (s.idx+g.yearIndex)%2 == 1 {
			continue
		}
		switch (s.idx + g.yearIndex) % 3 {
		case 0:
			cmd = partnership.RecogniseContribution{RecipientKind: partnership.RecipientPerson, RecipientID: g.staffOf(s),
				Citation: "Led CPD for colleagues across the partnership and shared resources generously."}
			if len(g.secondments) > 0 {
				cmd.ReferenceKind, cmd.ReferenceID = partnership.RefPriority, g.priorities[0]
			}
		case 1:
			cmd = partnership.RecogniseContribution{RecipientKind: partnership.RecipientSchool, RecipientID: s.id, ReferenceKind: partnership.RefPriority, ReferenceID: pickOf(g, g.priorities),
				Citation: "Hosted the partnership's TeachMeets and lent its minibus all year."}
		default:
			cmd = partnership.RecogniseContribution{RecipientKind: partnership.RecipientCommunity, RecipientID: pickOf(g, s.comms),
				Citation: "The ISLC's proposals changed practice across the school."}
		}
		cmd.PartnershipID, cmd.RecognitionID = g.pid, g.id()
		g.on("recognise a contribution")(g.part.RecogniseContribution(g.ctx, g.leadMeta(), cmd))
	}
}

// timelineDone marks most items whose day has passed done, and moves a few
// that slipped.
func (g *gen) timelineDone() {
	today := g.today()
	for _, t := range g.timelines {
		for i := range t.items {
			it := &t.items[i]
			if it.done || !it.on.Before(today) {
				continue
			}
			it.done = true
			if g.chance(0.06) {
				continue // left undone: it shows as missed
			}
			g.on("mark a timeline item done")(g.part.MarkTimelineItemDone(g.ctx, g.leadMeta(), partnership.MarkTimelineItemDone{TimelineID: t.id, ItemID: it.id}))
		}
	}
}

// finale closes the history just before today: loans that have ended are
// settled, and one loan collected two days ago is not back (overdue).
func (g *gen) finale() {
	if g.err != nil || len(g.schools) < 2 {
		return
	}
	g.clk.set(g.now.Add(-time.Hour))
	g.settleLoans(g.now.Add(-time.Hour))
	day := today(g.now).AddDate(0, 0, -2)
	start, end := day.Add(9*time.Hour), day.Add(15*time.Hour)
	var res *resource
	for _, r := range g.resources {
		free := true
		for _, w := range r.windows {
			if w[0].Before(end) && start.Before(w[1]) {
				free = false
			}
		}
		if free {
			res = r
			break
		}
	}
	if res == nil {
		return
	}
	b := g.schools[(res.owner.idx+1)%len(g.schools)]
	l := &loan{id: g.id(), res: res, borrower: b, start: start, end: end}
	g.on("request a loan")(g.part.RequestLoan(g.ctx, as(g.staffOf(b), domain.RoleStaff), partnership.RequestLoan{ResourceID: res.id, LoanID: l.id,
		BorrowerSchoolID: b.id, Start: start, End: end, Purpose: "Geography field trip"}))
	g.approve(l)
	g.on("collect a loan")(g.part.CollectLoan(g.ctx, as(g.staffOf(b), domain.RoleStaff), partnership.CollectLoan{ResourceID: res.id, LoanID: l.id, CollectedAt: start}))
	g.loans = slices.DeleteFunc(g.loans, func(x *loan) bool { return x == l })
}

// sample names, for demo sign-in, a person of the first school in each
// role.
func (g *gen) sample() {
	s := g.schools[0]
	g.sum.Sample = map[string]uuid.UUID{domain.RoleDirector: s.director, domain.RolePartnershipLead: g.lead, domain.RoleGovernor: s.govs[0],
		domain.RoleAuditor: g.auditor}
	for _, sc := range g.schools {
		for _, c := range sc.chairs {
			if c != uuid.Nil && c != sc.director && g.sum.Sample[domain.RoleChair] == uuid.Nil {
				g.sum.Sample[domain.RoleChair] = c
			}
		}
	}
	for _, p := range s.staff {
		if p != s.director && !slices.Contains(s.chairs, p) {
			g.sum.Sample[domain.RoleStaff] = p
			break
		}
	}
}
