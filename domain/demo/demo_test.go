package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
)

// world is an in-memory ledger with the real services, its store stamped
// by the generation's clock.
type world struct {
	store *memory.Store
	codec *domain.Codec
	h     *domain.Handler
	gov   *governance.Service
	part  *partnership.Service
	clock *Clock
}

// testToday is the pinned "testToday" of the tests: late in the spring term.
var testToday = time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)

func newWorld(t testing.TB) *world {
	t.Helper()
	clk := NewClock(func() time.Time { return testToday })
	s := memory.New(memory.Options{Now: clk.Now})
	t.Cleanup(func() { _ = s.Close() })
	codec := &domain.Codec{Keys: domain.NewMemoryKeyring()}
	h := domain.NewHandler(domainlog.Log{Store: s}, codec)
	return &world{store: s, codec: codec, h: h, gov: governance.NewService(h, nil), part: partnership.NewService(h, governance.NewDirectory(h)), clock: clk}
}

func (w *world) generate(t testing.TB, opts Options) Summary {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testToday }
	}
	opts.Clock = w.clock
	sum, err := Generate(context.Background(), w.gov, w.part, opts)
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return sum
}

// messages reads and decodes the whole log.
func (w *world) messages(t testing.TB) []domain.Message {
	t.Helper()
	recs, err := w.store.ReadAll(context.Background(), 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]domain.Message, len(recs))
	for i, r := range recs {
		if out[i], err = w.codec.Decode(domainlog.ToDomain(r)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func load[A domain.Aggregate](t *testing.T, w *world, stream string, newAgg func() A) A {
	t.Helper()
	a, _, err := domain.Load(context.Background(), w.h, stream, newAgg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestGenerateShape generates three schools over two years (the second
// under way) and checks the history has what the demo promises.
func TestGenerateShape(t *testing.T) {
	w := newWorld(t)
	var progressed uint64
	sum := w.generate(t, Options{Schools: 3, Years: 2, Seed: 7, Progress: func(n uint64) { progressed = n }})
	msgs := w.messages(t)
	if uint64(len(msgs)) != sum.Events || progressed != sum.Events {
		t.Fatalf("summary counts %d events, progress %d, the log holds %d", sum.Events, progressed, len(msgs))
	}
	if got, want := strings.Join(sum.Years, ","), "2024-25,2025-26"; got != want {
		t.Fatalf("years = %s, want %s", got, want)
	}
	if len(sum.Schools) != 3 || sum.PartnershipID == uuid.Nil {
		t.Fatalf("summary = %+v", sum)
	}
	for _, role := range []string{domain.RoleDirector, domain.RoleStaff, domain.RoleChair, domain.RoleGovernor, domain.RolePartnershipLead} {
		if sum.Sample[role] == uuid.Nil {
			t.Errorf("no sample person for role %s", role)
		}
	}
	// The history is in the past, and recorded times follow it.
	first, last := msgs[0].RecordedAt, msgs[len(msgs)-1].RecordedAt
	if !first.Before(time.Date(2024, 7, 2, 0, 0, 0, 0, time.UTC)) || !last.Before(testToday) || last.Before(testToday.Add(-24*time.Hour)) {
		t.Fatalf("recorded from %s to %s, want July 2024 to just before %s", first, last, testToday)
	}

	st, err := governance.BuildState(w.codec, msgs)
	if err != nil {
		t.Fatal(err)
	}
	const year = "2025-26"
	for _, id := range sum.Schools {
		sc := st.Schools[id]
		if len(sc.Segments) != 6 {
			t.Fatalf("%s has %d segments", sc.Name, len(sc.Segments))
		}
		for _, g := range sc.Segments {
			c := st.Communities[governance.CommunityID(id, g.ID)]
			if c == nil {
				t.Fatalf("%s: no ISLC for %s", sc.Name, g.Name)
			}
			if _, ok := c.ChairInOffice(year); !ok {
				t.Errorf("%s, %s ISLC: no chair in %s", sc.Name, g.Name, year)
			}
			if c.GovernorID == uuid.Nil || len(c.AdvisoryGroups) == 0 {
				t.Errorf("%s, %s ISLC: governor %s, %d advisory groups", sc.Name, g.Name, c.GovernorID, len(c.AdvisoryGroups))
			}
			if len(governance.ContinuityMembers(c, year)) == 0 {
				t.Errorf("%s, %s ISLC keeps no one from last year", sc.Name, g.Name)
			}
		}
		staff := 0
		for _, p := range st.People {
			if p.SchoolID == id && p.Kind == governance.PersonStaff && !p.Left() {
				staff++
			}
		}
		if staff < 20 || staff > 41 {
			t.Errorf("%s has %d staff", sc.Name, staff)
		}
	}

	count := map[string]int{}
	lost, quorumFailed := 0, 0
	var resources []*partnership.Resource
	for _, m := range msgs {
		count[m.Type]++
		switch e := m.Event.(type) {
		case governance.ElectionFailed:
			if e.Reason == "quorum_not_reached" {
				quorumFailed++
			}
		case governance.ConfidenceVoteClosed:
			if e.Outcome == governance.OutcomeLost {
				lost++
			}
		case partnership.ResourceRegistered:
			resources = append(resources, load(t, w, m.Stream, partnership.NewResource))
		}
	}
	if quorumFailed == 0 || lost == 0 || count["RunOffCalled"] == 0 || count["ChairRemoved"] == 0 {
		t.Errorf("elections: %d failed for quorum, %d confidence votes lost, %d run-offs, %d chairs removed", quorumFailed, lost, count["RunOffCalled"], count["ChairRemoved"])
	}
	for _, typ := range []string{"ProposalApproved", "ProposalReturned", "ProposalRevised", "AdviceGiven", "TriadFormed", "StrengthsAssessed",
		"LoanApproved", "LoanDeclined", "LoanReturned", "SecondmentAgreed", "CPDPlacesBooked", "CPDAttendanceRecorded", "TransactionCostRecorded",
		"PeerReviewCompleted", "FollowUpActionAgreed", "FollowUpActionCompleted", "CommitmentMade", "CommitmentAchieved", "CommitmentMissed",
		"ContributionRecognised", "TimelineItemDone", "MemberLeft", "PersonLeftSchool", "TeamVoteCast", "ResolutionSignedOff", "ChallengeRaised", "ChallengeAnswered"} {
		if count[typ] == 0 {
			t.Errorf("no %s in the history", typ)
		}
	}
	if got := partnership.OverdueLoans(testToday, resources...); len(got) != 1 {
		t.Errorf("%d overdue loans testToday, want 1", len(got))
	}
	damaged := 0
	for _, r := range resources {
		for _, l := range r.Loans() {
			if l.Condition == partnership.ConditionDamaged {
				damaged++
			}
		}
	}
	if damaged == 0 {
		t.Error("no loan came back damaged")
	}

	// Traffic lights move between half-terms.
	improved, declined := 0, 0
	for _, id := range sum.Schools {
		p := load(t, w, partnership.ProgressStream(sum.PartnershipID, id), partnership.NewProgress)
		for _, area := range areas {
			for _, cohort := range append(primaryCohorts, secondaryCohorts...) {
				for _, pt := range p.Trend(area, cohort) {
					switch pt.Movement {
					case partnership.MovementImproved:
						improved++
					case partnership.MovementDeclined:
						declined++
					}
				}
			}
		}
	}
	if improved == 0 || declined == 0 {
		t.Errorf("RAG movement: %d improved, %d declined", improved, declined)
	}

	// The timeline still has items to come.
	tl := 0
	for _, m := range msgs {
		if e, ok := m.Event.(partnership.TimelineItemScheduled); ok && e.On.After(testToday) {
			tl++
		}
	}
	if tl == 0 {
		t.Error("no upcoming timeline items")
	}
}

// TestNoPupilNamed checks that people's names appear only sealed in their
// own registration events, and that every name decoded there is an adult's
// from the fixed lists: the history names no pupil anywhere.
func TestNoPupilNamed(t *testing.T) {
	w := newWorld(t)
	w.generate(t, Options{Schools: 2, Years: 1, Seed: 3})
	jsonString := regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	word := regexp.MustCompile(`\b(` + strings.Join(firstNames, "|") + `)\b`)
	for _, m := range w.messages(t) {
		for _, str := range jsonString.FindAll(m.Data, -1) {
			if len(str) > 24 && !strings.ContainsAny(string(str), " ") {
				continue // an id, a time or sealed bytes
			}
			if loc := word.FindIndex(str); loc != nil {
				t.Fatalf("%s in %s names %q in plain text: %s", m.Type, m.Stream, str[loc[0]:loc[1]], m.Data)
			}
		}
		var pd domain.PersonalData
		switch e := m.Event.(type) {
		case governance.StaffRegistered:
			pd = e.Personal
		case governance.GovernorRegistered:
			pd = e.Personal
		case governance.AdvisoryContactRegistered:
			pd = e.Personal
		default:
			continue
		}
		first, last, ok := strings.Cut(pd.Name, " ")
		if !ok || !contains(firstNames, first) || !contains(lastNames, last) {
			t.Fatalf("%s registers %q, not an adult name from the lists", m.Type, pd.Name)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// TestDeterministic generates twice with one seed and once with another:
// the same seed gives the same events (ids, streams, types) in the same
// order.
func TestDeterministic(t *testing.T) {
	trace := func(seed int64) []string {
		w := newWorld(t)
		w.generate(t, Options{Schools: 2, Years: 1, Seed: seed})
		var out []string
		for _, m := range w.messages(t) {
			out = append(out, m.ID.String()+" "+m.Stream+" "+m.Type)
		}
		return out
	}
	a, b, c := trace(11), trace(11), trace(12)
	if len(a) != len(b) {
		t.Fatalf("same seed: %d and %d events", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, event %d: %s and %s", i, a[i], b[i])
		}
	}
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Fatal("another seed gave the same history")
	}
}

// TestGenerateRestoresHandler checks the handler's clock and ids are the
// caller's again afterwards, and that a cancelled context stops the run.
func TestGenerateRestoresHandler(t *testing.T) {
	w := newWorld(t)
	pinned := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	w.h.Now = func() time.Time { return pinned }
	w.generate(t, Options{Schools: 1, Years: 1, Seed: 1})
	if got := w.h.Now(); !got.Equal(pinned) {
		t.Fatalf("handler clock reads %s after generation", got)
	}
	if got := w.clock.Now(); !got.Equal(testToday) {
		t.Fatalf("demo clock reads %s after generation, want the real clock", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, newWorld(t).gov, newWorld(t).part, Options{Schools: 1, Years: 1, Now: func() time.Time { return testToday }}); err == nil {
		t.Fatal("a cancelled generation reported success")
	}
	if _, err := Generate(context.Background(), nil, nil, Options{}); err != ErrNoServices {
		t.Fatalf("err = %v, want ErrNoServices", err)
	}
}

// BenchmarkGenerate measures generation on a memory store: events per
// second and events per school-year (the figure behind EventsPerSchoolYear
// and the Volume needed for a million events).
func BenchmarkGenerate(b *testing.B) {
	for _, size := range []struct{ schools, years, volume int }{{4, 2, 1}, {10, 3, 1}, {10, 3, 15}, {50, 1, 15}} {
		b.Run(fmt.Sprintf("%d-schools-%d-years-volume-%d", size.schools, size.years, size.volume), func(b *testing.B) {
			var events uint64
			for b.Loop() {
				w := newWorld(b)
				sum := w.generate(b, Options{Schools: size.schools, Years: size.years, Volume: size.volume, Seed: 1,
					Now: func() time.Time { return time.Date(2026, 8, 30, 0, 0, 0, 0, time.UTC) }})
				events = sum.Events
			}
			b.ReportMetric(float64(events), "events")
			b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(events)/float64(size.schools*size.years), "events/school-year")
		})
	}
}

var (
	sealedBytes = regexp.MustCompile(`"sealed[a-z_]*":"[^"]*"`)
	choiceList  = regexp.MustCompile(`"choices":\[[^\]]*\]`)
)

// TestAggregateCacheChangesNothing generates the same history with the
// handler's aggregate cache and without it: every command must decide the
// same on cached aggregates as on aggregates folded from their streams,
// so the two logs are the same events in the same order.
func TestAggregateCacheChangesNothing(t *testing.T) {
	run := func(cache bool) []string {
		w := newWorld(t)
		if !cache {
			w.h.Aggregates = nil
		} else if w.h.Aggregates == nil {
			t.Fatal("the handler has no aggregate cache; this test would prove nothing")
		}
		w.generate(t, Options{Schools: 3, Years: 2, Volume: 3, Seed: 5})
		var out []string
		for _, m := range w.messages(t) {
			// Sealed data differs (a random nonce each time) and a closed
			// ballot's choices are shuffled: compare them as a multiset.
			b, err := json.Marshal(m.Event)
			if err != nil {
				t.Fatal(err)
			}
			ev := sealedBytes.ReplaceAllString(string(b), `"sealed…"`)
			ev = choiceList.ReplaceAllStringFunc(ev, func(c string) string {
				ids := strings.Split(strings.TrimSuffix(strings.TrimPrefix(c, `"choices":[`), "]"), ",")
				slices.Sort(ids)
				return `"choices":` + strings.Join(ids, " ")
			})
			out = append(out, fmt.Sprintf("%s %s %s %s %s", m.Stream, m.Type, m.ID, m.Meta.CorrelationID, ev))
		}
		return out
	}
	folded, cached := run(false), run(true)
	for i := range min(len(folded), len(cached)) {
		if folded[i] != cached[i] {
			t.Fatalf("event %d: without the cache %s, with it %s", i, folded[i], cached[i])
		}
	}
	if len(folded) != len(cached) {
		t.Fatalf("%d events without the cache, %d with it", len(folded), len(cached))
	}
}
