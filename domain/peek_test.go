package domain_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
)

func peekTally(t *testing.T, f *domaintest.Fixture, stream string) (*tally, int64) {
	t.Helper()
	a, rev, err := domain.Peek(f.Ctx, f.Handler, stream, newTally)
	if err != nil {
		t.Fatal(err)
	}
	return a, rev
}

func countOne(f *domaintest.Fixture, stream string) error {
	_, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*tally]{
		Stream: stream, New: newTally, Meta: f.Meta,
		Decide: func(a *tally) ([]domain.Event, error) { return []domain.Event{counted{By: len(a.order) + 1}}, nil },
	})
	return err
}

// TestPeekSharesTheCachedAggregate checks that Peek reads the stream as
// Load does (every event, whoever appended it) without copying: two peeks
// with nothing appended between them get the same aggregate.
func TestPeekSharesTheCachedAggregate(t *testing.T) {
	f := domaintest.New(t)
	f.Given("tally-p1", counted{By: 1})
	a, rev := peekTally(t, f, "tally-p1")
	if rev != 0 || fmt.Sprint(a.order) != "[1]" {
		t.Fatalf("first peek: rev %d order %v, want 0 and [1]", rev, a.order)
	}
	b, _ := peekTally(t, f, "tally-p1")
	c, _ := peekTally(t, f, "tally-p1")
	if b != c {
		t.Error("two peeks with nothing appended between them returned different aggregates: Peek copies")
	}
	// Another writer's events, then a command's own (kept pending beside
	// the snapshot), are all seen.
	f.Given("tally-p1", counted{By: 2})
	if err := countOne(f, "tally-p1"); err != nil {
		t.Fatal(err)
	}
	if err := countOne(f, "tally-p1"); err != nil {
		t.Fatal(err)
	}
	d, rev := peekTally(t, f, "tally-p1")
	if rev != 3 || fmt.Sprint(d.order) != "[1 2 3 4]" {
		t.Fatalf("after appends: rev %d order %v, want 3 and [1 2 3 4]", rev, d.order)
	}
	if fmt.Sprint(c.order) != "[1]" {
		t.Errorf("an earlier peek's aggregate changed to %v after later appends", c.order)
	}
	// Loads still get private copies of what Peek shares.
	l, rev := loadTally(t, f, "tally-p1")
	if l == d || rev != 3 || fmt.Sprint(l.order) != "[1 2 3 4]" {
		t.Fatalf("load after peek: same %v, rev %d order %v", l == d, rev, l.order)
	}
	l.order[0] = 99
	if e, _ := peekTally(t, f, "tally-p1"); e.order[0] != 1 {
		t.Errorf("a change to a loaded copy reached the shared aggregate: %v", e.order)
	}
	if err := domain.CheckCachedAggregates(f.Ctx, f.Handler); err != nil {
		t.Fatal(err)
	}
}

// TestCheckCachedAggregatesFindsAChangedPeek checks the check the demo
// test below relies on: a caller that changes a peeked aggregate is found.
func TestCheckCachedAggregatesFindsAChangedPeek(t *testing.T) {
	f := domaintest.New(t)
	f.Given("tally-p2", counted{By: 1}, counted{By: 2})
	peekTally(t, f, "tally-p2") // folds the stream and caches it
	a, _ := peekTally(t, f, "tally-p2")
	if err := domain.CheckCachedAggregates(f.Ctx, f.Handler); err != nil {
		t.Fatalf("before any change: %v", err)
	}
	a.seen[7] = true // what a careless caller of Peek might do
	if err := domain.CheckCachedAggregates(f.Ctx, f.Handler); err == nil {
		t.Fatal("a peeked aggregate changed in place went unnoticed")
	}
}

// TestPeekOpensPersonalDataInACopy checks that an aggregate cached with
// sealed personal data is never shared: Peek returns a private copy with
// the data opened, and an erasure shows at the next peek.
func TestPeekOpensPersonalDataInACopy(t *testing.T) {
	f := domaintest.New(t)
	f.Given("member-p3", registered{Person: "p-3", Personal: domain.PersonalData{Name: "Ada Okafor"}})
	peek := func() *member {
		t.Helper()
		a, _, err := domain.Peek(f.Ctx, f.Handler, "member-p3", func() *member { return &member{} })
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := peek(), peek()
	if a == b || a.details[0].Name != "Ada Okafor" {
		t.Fatalf("peeks: same %v, name %q", a == b, a.details[0].Name)
	}
	if plain := domain.PlaintextIn(f.Handler.Aggregates); len(plain) > 0 {
		t.Fatalf("the cache holds personal data in plaintext: %v", plain)
	}
	f.Keys.Erase("p-3")
	if c := peek(); !c.details[0].Erased {
		t.Errorf("after erasure: %+v, want erased", c.details[0])
	}
}

// TestPeekSealedLeavesPersonalDataSealed checks that PeekSealed shares a
// cached aggregate with personal data as cached: sealed, never opened in
// place.
func TestPeekSealedLeavesPersonalDataSealed(t *testing.T) {
	f := domaintest.New(t)
	f.Given("member-p5", registered{Person: "p-5", Personal: domain.PersonalData{Name: "Noor Haddad"}})
	peek := func() *member {
		t.Helper()
		a, _, err := domain.PeekSealed(f.Ctx, f.Handler, "member-p5", func() *member { return &member{} })
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := peek(); a.details[0].Name != "Noor Haddad" {
		t.Fatalf("first peek (nothing cached yet): name %q, want it opened", a.details[0].Name)
	}
	a, b := peek(), peek()
	if a != b {
		t.Error("two sealed peeks returned different aggregates: PeekSealed copies")
	}
	if d := a.details[0]; d.Name != "" || len(d.Sealed) == 0 {
		t.Fatalf("sealed peek: %+v, want the data sealed", d)
	}
	if plain := domain.PlaintextIn(f.Handler.Aggregates); len(plain) > 0 {
		t.Fatalf("the cache holds personal data in plaintext: %v", plain)
	}
	if l, _, err := domain.Peek(f.Ctx, f.Handler, "member-p5", func() *member { return &member{} }); err != nil || l.details[0].Name != "Noor Haddad" {
		t.Fatalf("peek after sealed peeks: %v, %+v", err, l)
	}
}

// TestPeekWithoutCache checks Peek is Load when the handler keeps no
// aggregates.
func TestPeekWithoutCache(t *testing.T) {
	f := domaintest.New(t)
	f.Handler.Aggregates = nil
	f.Given("tally-p4", counted{By: 3})
	a, rev := peekTally(t, f, "tally-p4")
	b, _ := peekTally(t, f, "tally-p4")
	if a == b || rev != 0 || fmt.Sprint(a.order) != "[3]" {
		t.Fatalf("same %v, rev %d, order %v", a == b, rev, a.order)
	}
}

// generateDemo generates a demo partnership through the real services on
// a memory store and returns the handler, its cache warm.
func generateDemo(t *testing.T) *domain.Handler {
	t.Helper()
	today := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	clk := demo.NewClock(func() time.Time { return today })
	s := memory.New(memory.Options{Now: clk.Now})
	t.Cleanup(func() { _ = s.Close() })
	h := domain.NewHandler(domainlog.Log{Store: s}, &domain.Codec{Keys: domain.NewMemoryKeyring()})
	gov, part := governance.NewService(h, nil), partnership.NewService(h, governance.NewDirectory(h))
	sum, err := demo.Generate(context.Background(), gov, part, demo.Options{Schools: 3, Years: 2, Volume: 2, Seed: 3, Clock: clk,
		Now: func() time.Time { return today }})
	if err != nil {
		t.Fatal(err)
	}
	st := h.Aggregates.Stats()
	if sum.Events < 1000 || st.Aggregates < 100 || st.Hits < sum.Events {
		t.Fatalf("%d events, cache %+v: too little was generated or cached for this test to prove anything", sum.Events, st)
	}
	return h
}

// TestDemoLeavesCachedAggregatesIntact generates a demo partnership
// through the real services, whose checks read other aggregates with
// Peek, and then folds every cached aggregate again from its stream: none
// may have been changed in place by a caller.
func TestDemoLeavesCachedAggregatesIntact(t *testing.T) {
	h := generateDemo(t)
	if err := domain.CheckCachedAggregates(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	// (An empty PersonalData, such as a zero value, is reported as
	// "nothing sealed"; it holds no one's data.)
	for _, p := range domain.PlaintextIn(h.Aggregates) {
		if p != "personal data with nothing sealed" {
			t.Fatalf("the cache holds personal data in plaintext: %v", p)
		}
	}
}

// TestCopiersCopyDeeply checks every domain.Copier on the aggregates of a
// generated demo: its copy equals the reflective deep copy and shares no
// map, slice or pointer with the original.
func TestCopiersCopyDeeply(t *testing.T) {
	h := generateDemo(t)
	types, err := domain.CheckCopiers(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*governance.Community", "*partnership.Resource", "*partnership.CPDEvent", "*partnership.Progress"} {
		if !slices.Contains(types, want) {
			t.Errorf("no cached %s was checked (checked %v)", want, types)
		}
	}
}

// TestSharedMemoryIsFound checks the check above: a copy that shares a
// map, a slice or a pointer's target is caught.
func TestSharedMemoryIsFound(t *testing.T) {
	for _, tc := range []struct {
		name string
		copy func(*tally) *tally
	}{
		{"map", func(a *tally) *tally { b := *a; b.order = slices.Clone(a.order); n := *a.last; b.last = &n; return &b }},
		{"slice", func(a *tally) *tally { b := *a; b.seen = maps.Clone(a.seen); n := *a.last; b.last = &n; return &b }},
		{"pointer", func(a *tally) *tally { b := *a; b.seen, b.order = maps.Clone(a.seen), slices.Clone(a.order); return &b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 3
			a := &tally{seen: map[int]bool{3: true}, order: []int{3}, last: &n}
			if !domain.SharesMemory(a, tc.copy(a)) {
				t.Errorf("a copy sharing its %s was not caught", tc.name)
			}
		})
	}
	n := 3
	a := &tally{seen: map[int]bool{3: true}, order: []int{3}, last: &n}
	if domain.SharesMemory(a, domain.DeepCopyOf(a)) {
		t.Error("the deep copy was found to share memory")
	}
}

// TestPeekWhileCommandsRun peeks a stream from some goroutines while
// others run commands on it: every peek sees a consistent aggregate (its
// order is 0, 1, 2, … up to its revision) and, under the race detector,
// no peek reads memory a command writes.
func TestPeekWhileCommandsRun(t *testing.T) {
	f := domaintest.New(t)
	f.Handler.MaxAttempts = 1000
	const writers, each, readers = 4, 25, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*each+readers)
	done := make(chan struct{})
	for range writers {
		wg.Go(func() {
			for range each {
				_, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*tally]{
					Stream: "tally-pw", New: newTally, Meta: f.Meta,
					Decide: func(a *tally) ([]domain.Event, error) {
						n := len(a.order)
						a.order = append(a.order, -1) // a command may change its own copy
						return []domain.Event{counted{By: n}}, nil
					},
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	var rg sync.WaitGroup
	for range readers {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				a, rev, err := domain.Peek(f.Ctx, f.Handler, "tally-pw", newTally)
				if err != nil {
					errs <- err
					return
				}
				if int64(len(a.order)) != rev+1 {
					errs <- fmt.Errorf("peek at revision %d holds %d events", rev, len(a.order))
					return
				}
				for i, v := range a.order {
					if v != i {
						errs <- fmt.Errorf("peek at revision %d: order %v", rev, a.order)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if a, rev := peekTally(t, f, "tally-pw"); rev != writers*each-1 || len(a.order) != writers*each {
		t.Fatalf("rev %d, %d events; want %d", rev, len(a.order), writers*each)
	}
}
