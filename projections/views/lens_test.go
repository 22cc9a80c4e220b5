package views

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

// lensIDs are the ids a lens's queries are asked about, taken from the
// fold of the whole ledger: schools, partnerships and rows.
type lensIDs struct {
	schools, partnerships, rows []uuid.UUID
}

// idsOf returns the ids p holds, for lensAnswers.
func idsOf(p projections.Projection) lensIDs {
	var ids lensIDs
	add := func(list *[]uuid.UUID, id uuid.UUID) {
		if !slices.Contains(*list, id) {
			*list = append(*list, id)
		}
	}
	switch v := p.(type) {
	case *Challenges:
		v.state.C.each(func(id uuid.UUID, r challengeRec) {
			add(&ids.schools, r.School)
			add(&ids.rows, id)
		})
	case *Timelines:
		for _, tl := range v.state.Timelines {
			add(&ids.partnerships, tl.PartnershipID)
			add(&ids.rows, tl.ID)
		}
	case *Communities:
		for id, c := range v.C {
			add(&ids.schools, c.School)
			add(&ids.rows, id)
		}
		slices.SortFunc(ids.schools, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	case *Proposals:
		for id, r := range v.P {
			add(&ids.schools, r.School)
			add(&ids.rows, id)
		}
		slices.SortFunc(ids.schools, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	case *Costs:
		for pid := range v.state.Ledgers {
			add(&ids.partnerships, pid)
			add(&ids.rows, pid)
		}
	case *Partnerships:
		v.state.Partnerships.each(func(id uuid.UUID, _ *partnership.Partnership) {
			add(&ids.partnerships, id)
			add(&ids.rows, id)
		})
	case *Progress:
		for id, rec := range v.state.Records {
			add(&ids.partnerships, rec.PartnershipID)
			add(&ids.rows, id)
		}
	case *Resources:
		for id, r := range v.state.Resources {
			if r.Registered() {
				add(&ids.partnerships, r.PartnershipID)
			}
			add(&ids.rows, id)
		}
	case *Celebrations:
		for _, r := range v.state.Recognitions {
			add(&ids.partnerships, r.PartnershipID)
			add(&ids.rows, r.RecognitionID)
		}
	case *People:
		for id, h := range v.P {
			add(&ids.schools, h.current().SchoolID)
			add(&ids.rows, id)
		}
	case *Reviews:
		v.state.Reviews.each(func(id uuid.UUID, r *partnership.Review) {
			add(&ids.partnerships, r.PartnershipID)
			add(&ids.rows, id)
		})
	case *Commitments:
		v.state.Commitments.each(func(id uuid.UUID, c *partnership.Commitment) {
			add(&ids.partnerships, c.PartnershipID)
			add(&ids.rows, id)
		})
	case *Secondments:
		v.state.Teachers.each(func(_ uuid.UUID, a *partnership.Secondments) {
			for _, s := range a.List {
				add(&ids.partnerships, s.PartnershipID)
				add(&ids.rows, s.ID)
			}
		})
	case *CPD:
		for pid, keys := range v.state.byStart {
			add(&ids.partnerships, pid)
			for _, k := range keys {
				add(&ids.rows, k.id)
			}
		}
	}
	return ids
}

// lensAnswers returns what a reader asks of a view that can be read in
// place in the past (projections.Lensed), through its queries alone,
// about ids, and whether p is one.
func lensAnswers(t *testing.T, p projections.Projection, ids lensIDs) ([]byte, bool) {
	t.Helper()
	var out []any
	switch v := p.(type) {
	case *Challenges:
		for _, now := range []time.Time{time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)} {
			for _, status := range []string{"", ChallengeOpen, ChallengeAnswered} {
				filters := []ChallengeFilter{{Status: status},
					{Status: status, From: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}}
				for _, s := range ids.schools {
					filters = append(filters, ChallengeFilter{Status: status, Schools: []uuid.UUID{s}})
				}
				for _, f := range filters {
					out = append(out, v.List(f, now, nil), v.Counts(f, now))
				}
			}
		}
	case *Costs:
		span, err := NewPeriod(time.Date(2025, 10, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2025-26", "2026-27"} {
				sum, err := v.Summary(pid, year)
				out = append(out, sum, fmt.Sprint(err))
			}
			out = append(out, v.SummaryIn(pid, span), v.ByYear(pid))
		}
	case *Partnerships:
		out = append(out, v.List(nil), v.LastRecordedOn())
		for _, id := range ids.rows {
			p, ok := v.Get(id, nil)
			out = append(out, p, ok, v.MembershipByYear(id, ""), v.MembershipByYear(id, "2026-27"))
		}
	case *Progress:
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2024-25", "2025-26", "2026-27"} {
				page, n := v.BoardPage(pid, year, 1, 3)
				out = append(out, v.Board(pid, year), page, n, v.ByArea(pid, year))
			}
		}
	case *Resources:
		span, err := NewPeriod(time.Date(2025, 10, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
		for _, pid := range ids.partnerships {
			out = append(out, v.List(pid), v.Overdue(pid, now), v.UtilisationIn(pid, span), v.RegisterIn(pid, span, now),
				v.CountsIn(pid, span, now), v.ReturnedByCondition(pid, span))
			for _, year := range []string{"", "2025-26", "2026-27"} {
				page, n := v.RegisterPage(pid, periodOf(year), now, 1, 3)
				mine, m := v.RegisterPageOf(pid, year, now, 0, 4, func(owner, _ uuid.UUID) bool { return owner == ids.rows[0] || owner.String() < "8" })
				out = append(out, v.UtilisationIn(pid, periodOf(year)), v.Register(pid, year, now), page, n, mine, m,
					v.Counts(pid, year, now), v.ReturnedByCondition(pid, periodOf(year)))
			}
		}
		for _, id := range ids.rows {
			out = append(out, v.Calendar(id))
		}
	case *Celebrations:
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2025-26", "2026-27"} {
				out = append(out, v.List(pid, year, nil), v.Tallies(pid, year, nil))
			}
		}
	case *People:
		out = append(out, v.NameMap(peopleKeys), v.PeopleOf(peopleKeys, uuid.Nil))
		for _, s := range ids.schools {
			out = append(out, v.PeopleOf(peopleKeys, s))
		}
		for _, id := range ids.rows {
			p, ok := v.Person(peopleKeys, id)
			out = append(out, v.NameOf(peopleKeys, id), p, ok)
		}
	case *Reviews:
		now := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2025-26", "2026-27"} {
				page, n := v.LogPage(pid, year, now, nil, 1, 2)
				ups, m := v.FollowUpsPage(pid, year, now, nil, 0, 3)
				out = append(out, v.Log(pid, year, now, nil), page, n, v.FollowUps(pid, year, now, nil), ups, m)
			}
			for _, id := range ids.rows {
				r, ok := v.Review(pid, id, now, nil)
				out = append(out, r, ok)
			}
		}
	case *Commitments:
		now := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2025-26", "2026-27"} {
				page, n := v.ListPage(pid, year, now, nil, 1, 2)
				out = append(out, v.List(pid, year, now, nil), page, n, v.ByStatus(pid, year, now, nil), v.ByOwner(pid, year, now, nil))
			}
			for _, id := range ids.rows {
				c, ok := v.Commitment(pid, id, now, nil)
				out = append(out, c, ok)
			}
		}
	case *Secondments:
		on := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2025-26", "2026-27"} {
				list, err := v.List(pid, year, nil)
				by, err2 := v.BySchool(pid, year, on)
				teachers, err3 := v.ByTeacher(pid, year, nil)
				out = append(out, list, by, teachers, fmt.Sprint(err, err2, err3))
			}
		}
		for _, id := range ids.rows {
			t, ok := v.TeacherOfSecondment(id)
			out = append(out, t, ok)
		}
	case *CPD:
		span, err := NewPeriod(time.Date(2025, 10, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2024-25", "2025-26", "2026-27"} {
				page, n := v.EventsPage(pid, year, 1, 3)
				out = append(out, v.Totals(pid, year), v.BySchool(pid, year), v.Events(pid, year), page, n)
			}
			out = append(out, v.TotalsIn(pid, span), v.BySchoolIn(pid, span), v.EventsIn(pid, span))
			for _, id := range ids.rows {
				e, ok := v.Event(pid, id)
				out = append(out, e, ok)
			}
		}
	case *Communities:
		out = append(out, v.PeopleOverYearsOf(ids.schools))
		for _, s := range ids.schools {
			out = append(out, v.PeopleOverYears(s), v.CommunitiesOf(s, nil), v.MembershipOverYears(s))
		}
		for _, id := range ids.rows {
			c, ok := v.Community(id, nil)
			out = append(out, c, ok)
		}
	case *Proposals:
		for _, year := range []string{"", "2024-25", "2025-26", "2026-27"} {
			out = append(out, v.Decided(periodOf(year)))
		}
		out = append(out, v.Register(ProposalFilter{}, nil))
		for _, s := range ids.schools {
			page, n := v.RegisterPage(ProposalFilter{School: s}, nil, 1, 2)
			out = append(out, page, n)
		}
		for _, id := range ids.rows {
			p, ok := v.Proposal(id, nil)
			out = append(out, p, ok)
		}
	case *Timelines:
		now := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
		for _, pid := range ids.partnerships {
			for _, year := range []string{"", "2024-25", "2025-26"} {
				p := periodOf(year)
				page, n := v.DonePage(pid, year, 1, 2)
				out = append(out, v.NextIn(pid, p, now, 0), v.NextIn(pid, p, now, 3), v.OutstandingIn(pid, p, now), v.DoneIn(pid, p), page, n)
			}
		}
	default:
		return nil, false
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

// TestLensesAnswerAsTheFoldOfThePast: a view read in place as of a
// position (Lens, no row copied) answers every query as the state folding
// events 1..pos from zero does, at random positions of random ledgers,
// both before and after the live view folds on past them, and in a view
// read back from its saved state, and saves the fold's state; it refuses
// to be folded itself, and the live view it reads is left as it was.
func TestLensesAnswerAsTheFoldOfThePast(t *testing.T) {
	tried := 0
	for _, c := range versionedCases() {
		if _, ok := c.fresh().(projections.Lensed); !ok {
			continue
		}
		tried++
		msgs := c.ledger(11, 1500)
		all := c.fresh()
		for _, m := range msgs {
			if err := all.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
		ids := idsOf(all)
		if len(ids.rows) == 0 {
			t.Fatalf("%s: the ledger gives it no rows", all.Name())
		}
		saved, err := all.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		readBack := c.fresh()
		if err := readBack.UnmarshalState(saved); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(11, 3))
		positions := []uint64{0, 1, uint64(len(msgs))}
		for range 20 {
			positions = append(positions, rng.Uint64N(uint64(len(msgs))))
		}
		half := len(msgs) / 2
		live := c.fresh()
		for _, m := range msgs[:half] {
			if err := live.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
		before, err := live.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		for _, pos := range positions {
			want := c.fresh()
			for _, m := range msgs[:pos] {
				if err := want.Apply(m); err != nil {
					t.Fatal(err)
				}
			}
			wantAnswers, _ := lensAnswers(t, want, ids)
			for from, v := range map[string]projections.Projection{"the whole ledger": all, "half of it": live, "the whole ledger read back": readBack} {
				if from == "half of it" && pos > uint64(half) {
					continue
				}
				lens := v.(projections.Lensed).Lens(pos)
				got, _ := lensAnswers(t, lens, ids)
				if string(got) != string(wantAnswers) {
					t.Fatalf("%s read in place as of %d in a view of %s: answers differ from the fold of events 1..%d", v.Name(), pos, from, pos)
				}
				if err := lens.Apply(msgs[0]); err == nil {
					t.Fatalf("%s: a lens took an event", v.Name())
				}
				saved, err := lens.MarshalState()
				if err != nil {
					t.Fatal(err)
				}
				if wantSaved, _ := want.MarshalState(); string(saved) != string(wantSaved) {
					t.Fatalf("%s read in place as of %d in a view of %s: saves another state than the fold of events 1..%d", v.Name(), pos, from, pos)
				}
				// What a lens gives back is the next lens's to use: the
				// readings after it read it again, and must still agree.
				if r, ok := lens.(projections.Releaser); ok {
					r.Release()
				}
			}
		}
		after, err := live.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		if string(after) != string(before) {
			t.Fatalf("%s: reading in place changed the live view", live.Name())
		}
	}
	if tried == 0 {
		t.Fatal("no view can be read in place")
	}
}

// TestPinnedReaderReadsLensedViewsInPlace: a Reader pinned to a past
// position reads a view that can be read in place from the live view,
// folding nothing, when the live view has folded that position, and folds
// it as before when the live view is behind; both answer as the fold of
// events 1..pos from zero does.
func TestPinnedReaderReadsLensedViewsInPlace(t *testing.T) {
	w := newGovWorld(t)
	w.run(rand.New(rand.NewPCG(5, 5)))
	head := w.head()
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	answer := func(p projections.Projection) string {
		v := p.(*Challenges)
		b, err := json.Marshal([]any{v.List(ChallengeFilter{}, now, nil), v.Counts(ChallengeFilter{Status: ChallengeOpen}, now)})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, caughtUp := range []bool{true, false} {
		e, err := projections.Open(w.store, w.codec, t.TempDir()+"/p.db", projections.Options{SnapshotEvery: 16}, govFactories()...)
		if err != nil {
			t.Fatal(err)
		}
		if caughtUp {
			if err := e.CatchUp(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		r := &Reader{Engine: e, Store: w.store, Codec: w.codec}
		seen := map[string]bool{}
		for _, pos := range []uint64{1, head / 3, head / 2, head} {
			pinned, err := r.At(w.ctx, AsOf{Position: pos}, ChallengesView, PeopleView)
			if err != nil {
				t.Fatal(err)
			}
			if pinned.lensed[ChallengesView] != caughtUp {
				t.Fatalf("caught up %v: challenges read in place: %v", caughtUp, pinned.lensed[ChallengesView])
			}
			if _, folded := pinned.pinned[ChallengesView]; folded == caughtUp {
				t.Fatalf("caught up %v: challenges folded: %v", caughtUp, folded)
			}
			var got string
			at, err := pinned.View(w.ctx, ChallengesView, AsOf{Position: pos}, func(p projections.Projection) error {
				got = answer(p)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if at != pos {
				t.Fatalf("read at %d, want %d", at, pos)
			}
			if want := answer(w.fold(ChallengesView, pos)); got != want {
				t.Fatalf("caught up %v, as of %d: %s, want the fold's %s", caughtUp, pos, got, want)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Fatal("the challenges read the same at every position: the story raises none")
		}
		e.Close()
	}
}

// TestPinnedReaderReadsAsCorrectedInPlace: read as corrected now at
// moments across a story, a pinned reader reads in place the views that
// fold none of the events after the start of the log the reading keeps
// whole (never one that cannot be read in place, the schools), and every
// view answers as the fold from zero (a reader with no engine) does.
func TestPinnedReaderReadsAsCorrectedInPlace(t *testing.T) {
	w := newGovWorld(t)
	w.run(rand.New(rand.NewPCG(5, 5)))
	e, err := projections.Open(w.store, w.codec, t.TempDir()+"/p.db", projections.Options{SnapshotEvery: 16}, govFactories()...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.CatchUp(w.ctx); err != nil {
		t.Fatal(err)
	}
	r := &Reader{Engine: e, Store: w.store, Codec: w.codec}
	zero := &Reader{Store: w.store, Codec: w.codec}
	msgs := w.messages()
	moments := []time.Time{{}}
	for _, i := range []int{len(msgs) / 5, len(msgs) / 3, len(msgs) / 2, len(msgs) * 4 / 5, len(msgs) - 1} {
		moments = append(moments, msgs[i].Effective(), msgs[i].Effective().Add(-time.Nanosecond))
	}
	names := []string{ChallengesView, CommunitiesView, PeopleView, SchoolsView}
	lensed := map[string]int{}
	for _, at := range moments {
		a := AsOf{Corrected: true, Time: at}
		pinned, err := r.At(w.ctx, a, names...)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if pinned.lensed[name] {
				lensed[name]++
			}
			state := func(r *Reader) ([]byte, uint64) {
				var b []byte
				pos, err := r.View(w.ctx, name, a, func(p projections.Projection) error {
					var err error
					b, err = p.MarshalState()
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return b, pos
			}
			got, gotPos := state(pinned)
			want, wantPos := state(zero)
			if gotPos != wantPos || string(got) != string(want) {
				t.Fatalf("%s %s (read in place: %v): position %d, want %d; the state differs from the fold from zero: %v",
					a.Describe(), name, pinned.lensed[name], gotPos, wantPos, string(got) != string(want))
			}
		}
	}
	if lensed[SchoolsView] > 0 {
		t.Fatal("schools, which cannot be read in place, was")
	}
	if lensed[ChallengesView] == 0 || lensed[CommunitiesView] == 0 || lensed[PeopleView] == 0 {
		t.Fatalf("read in place: %v; the story's moments should read the challenges, the ISLCs and the people in place", lensed)
	}
}

// TestLensesReadTogether: many readers reading one live view in place at
// once, each at its own position (as readings under the engine's read
// lock do), each giving back what it took, answer as one reader alone
// does. Run with the race detector, it checks that what lenses work out
// once and share (orders, indexes, books, items, given-back memory) is
// shared safely.
func TestLensesReadTogether(t *testing.T) {
	for _, c := range versionedCases() {
		if _, ok := c.fresh().(projections.Lensed); !ok {
			continue
		}
		msgs := c.ledger(5, 1200)
		fold := func() projections.Projection {
			v := c.fresh()
			for _, m := range msgs {
				if err := v.Apply(m); err != nil {
					t.Fatal(err)
				}
			}
			return v
		}
		// The readers together read a view of their own, whose caches
		// they fill between them.
		alone, live := fold(), fold()
		ids := idsOf(alone)
		positions := []uint64{1, uint64(len(msgs)) / 3, uint64(len(msgs)) / 2, uint64(len(msgs)) * 4 / 5, uint64(len(msgs))}
		read := func(v projections.Projection, pos uint64) []byte {
			lens := v.(projections.Lensed).Lens(pos)
			b, _ := lensAnswers(t, lens, ids)
			if r, ok := lens.(projections.Releaser); ok {
				r.Release()
			}
			return b
		}
		want := make([][]byte, len(positions))
		for i, pos := range positions {
			want[i] = read(alone, pos)
		}
		const readers = 8
		got := make([][][]byte, readers)
		var wg sync.WaitGroup
		for g := range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for round := range 3 {
					for i := range positions {
						k := (i + g + round) % len(positions)
						got[g] = append(got[g], read(live, positions[k]))
					}
				}
			}()
		}
		wg.Wait()
		for g := range readers {
			for j, b := range got[g] {
				round, i := j/len(positions), j%len(positions)
				k := (i + g + round) % len(positions)
				if string(b) != string(want[k]) {
					t.Fatalf("%s: reader %d at %d, read beside others, answers otherwise than alone", live.Name(), g, positions[k])
				}
			}
		}
	}
}
