package domain_test

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// tally is an aggregate with private state of every shape the cache must
// copy: a map, a slice, a pointer; Apply and its users change them.
type tally struct {
	seen  map[int]bool
	order []int
	last  *int
}

func newTally() *tally { return &tally{seen: map[int]bool{}} }

func (a *tally) Apply(m domain.Message) {
	if e, ok := m.Event.(counted); ok {
		a.seen[e.By] = true
		a.order = append(a.order, e.By)
		n := e.By
		a.last = &n
	}
}

// member keeps a person's details verbatim, as governance.Person does.
type member struct {
	details []domain.PersonalData
	names   map[string]domain.PersonalData
}

func (*member) PersonalDataVerbatim() {}

func (a *member) Apply(m domain.Message) {
	if a.names == nil {
		a.names = map[string]domain.PersonalData{}
	}
	if e, ok := m.Event.(registered); ok {
		a.details = append(a.details, e.Personal)
		a.names[e.Person] = e.Personal
	}
}

func loadTally(t *testing.T, f *domaintest.Fixture, stream string) (*tally, int64) {
	t.Helper()
	a, rev, err := domain.Load(f.Ctx, f.Handler, stream, newTally)
	if err != nil {
		t.Fatal(err)
	}
	return a, rev
}

func TestAggregateCacheLoadsPrivateCopies(t *testing.T) {
	f := domaintest.New(t)
	f.Given("tally-1", counted{By: 1}, counted{By: 2})
	for i := range 3 {
		a, rev := loadTally(t, f, "tally-1")
		if rev != 1 || fmt.Sprint(a.order) != "[1 2]" || len(a.seen) != 2 || *a.last != 2 {
			t.Fatalf("load %d: rev %d order %v seen %v last %d: an earlier load's change leaked through the cache", i, rev, a.order, a.seen, *a.last)
		}
		// Change everything this load got, as a careless command might.
		a.seen[99] = true
		a.order[0] = 99
		a.order = append(a.order, 98)
		*a.last = 97
	}
	if st := f.Handler.Aggregates.Stats(); st.Hits != 2 || st.Misses != 1 {
		t.Errorf("stats %+v, want 1 miss then 2 hits", st)
	}
}

func TestAggregateCacheFoldsNewEventsOnly(t *testing.T) {
	f := domaintest.New(t)
	f.Given("tally-2", counted{By: 1})
	loadTally(t, f, "tally-2")
	// Events appended by another writer are read on the next load.
	f.Given("tally-2", counted{By: 2}, counted{By: 3})
	a, rev := loadTally(t, f, "tally-2")
	if rev != 2 || fmt.Sprint(a.order) != "[1 2 3]" {
		t.Fatalf("rev %d order %v, want 2 and [1 2 3]", rev, a.order)
	}
	// A command's own events are folded into the cached aggregate.
	res, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*tally]{
		Stream: "tally-2", New: newTally, Meta: f.Meta,
		Decide: func(a *tally) ([]domain.Event, error) { return []domain.Event{counted{By: len(a.order) + 1}}, nil },
	})
	if err != nil || res.Revision != 3 {
		t.Fatalf("execute: %v, revision %d", err, res.Revision)
	}
	before := f.Handler.Aggregates.Stats()
	a, rev = loadTally(t, f, "tally-2")
	if rev != 3 || fmt.Sprint(a.order) != "[1 2 3 4]" {
		t.Fatalf("after the command: rev %d order %v, want 3 and [1 2 3 4]", rev, a.order)
	}
	after := f.Handler.Aggregates.Stats()
	if after.Misses != before.Misses || after.Folds != before.Folds {
		t.Errorf("the load after a command folded again (stats %+v, then %+v)", before, after)
	}
}

func TestAggregateCacheRefoldsAfterACorrection(t *testing.T) {
	f := domaintest.New(t)
	f.Given("tally-3", counted{By: 1}, counted{By: 2})
	loadTally(t, f, "tally-3")
	target := f.Log.All()[0].ID
	if _, err := domain.Correct(f.Ctx, f.Handler, "tally-3", newTally, f.Meta,
		domain.Correction{EventID: target, Replacement: counted{By: 5}, Reason: "miscounted"}); err != nil {
		t.Fatal(err)
	}
	a, rev := loadTally(t, f, "tally-3")
	if rev != 2 || fmt.Sprint(a.order) != "[5 2]" {
		t.Fatalf("after the correction: rev %d order %v, want 2 and [5 2]", rev, a.order)
	}
}

func TestAggregateCacheNeverHoldsPlaintext(t *testing.T) {
	f := domaintest.New(t)
	f.Given("member-1", registered{Person: "p-1", Personal: domain.PersonalData{Name: "Ines Moreau", Email: "ines@example.org"}})
	load := func() *member {
		t.Helper()
		a, _, err := domain.Load(f.Ctx, f.Handler, "member-1", func() *member { return &member{} })
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := load(); a.details[0].Name != "Ines Moreau" || a.names["p-1"].Email != "ines@example.org" {
		t.Fatalf("first load: %+v", a)
	}
	// An amendment through a command, then one from another writer.
	if _, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*member]{
		Stream: "member-1", New: func() *member { return &member{} }, Meta: f.Meta,
		Decide: func(*member) ([]domain.Event, error) {
			return []domain.Event{registered{Person: "p-1", Personal: domain.PersonalData{Name: "Ines Moreau-Diallo"}}}, nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	f.Given("member-1", registered{Person: "p-1", Personal: domain.PersonalData{Name: "Ines M. Diallo", Phone: "0100"}})
	a := load()
	if got := []string{a.details[0].Name, a.details[1].Name, a.details[2].Name, a.names["p-1"].Phone}; fmt.Sprint(got) != "[Ines Moreau Ines Moreau-Diallo Ines M. Diallo 0100]" {
		t.Fatalf("loaded details %v", got)
	}
	if st := f.Handler.Aggregates.Stats(); st.Aggregates != 1 || st.Hits < 2 {
		t.Fatalf("stats %+v: the aggregate should be cached and loaded from the cache", st)
	}
	// Nothing the cache holds is plaintext.
	plain := domain.PlaintextIn(f.Handler.Aggregates)
	if len(plain) > 0 {
		t.Fatalf("the cache holds personal data in plaintext: %v", plain)
	}
	// Erasure shows at the next load, with no event in between.
	f.Keys.Erase("p-1")
	a = load()
	for i, d := range a.details {
		if !d.Erased || d.Name != domain.ErasedName || d.Email != "" || d.Phone != "" {
			t.Errorf("details %d after erasure: %+v, want erased", i, d)
		}
	}
	if d := a.names["p-1"]; !d.Erased {
		t.Errorf("map entry after erasure: %+v, want erased", d)
	}
}

func TestAggregateCacheSkipsAggregatesThatMayDerivePersonalData(t *testing.T) {
	f := domaintest.New(t)
	f.Given("person-p-2", registered{Person: "p-2", Personal: domain.PersonalData{Name: "Tomas Berg"}})
	if a := loadMutator(t, f, "person-p-2"); a.names[0] != "Tomas Berg" {
		t.Fatalf("names %v", a.names)
	}
	if st := f.Handler.Aggregates.Stats(); st.Aggregates != 0 {
		t.Errorf("an aggregate that is not PersonalDataVerbatim was cached with personal events (stats %+v)", st)
	}
	f.Keys.Erase("p-2")
	if a := loadMutator(t, f, "person-p-2"); a.names[0] != domain.ErasedName {
		t.Errorf("after erasure: names %v", a.names)
	}
}

func TestAggregateCacheEvicts(t *testing.T) {
	f := domaintest.New(t)
	f.Handler.Aggregates = domain.NewAggregateCache(2)
	for i := range 4 {
		s := fmt.Sprintf("tally-e%d", i)
		f.Given(s, counted{By: i})
		loadTally(t, f, s)
	}
	if st := f.Handler.Aggregates.Stats(); st.Aggregates != 2 {
		t.Errorf("%d aggregates held, want at most 2", st.Aggregates)
	}
	// An evicted aggregate still loads whole.
	if a, rev := loadTally(t, f, "tally-e0"); rev != 0 || fmt.Sprint(a.order) != "[0]" {
		t.Errorf("evicted: rev %d order %v", rev, a.order)
	}
}

// TestAggregateCacheConcurrentCommands runs commands on one stream from
// many goroutines: each decides from the state it loaded, so every
// command must see every event before it (no lost update, no shared
// state); the stream ends as 0, 1, 2, … in order.
func TestAggregateCacheConcurrentCommands(t *testing.T) {
	f := domaintest.New(t)
	f.Handler.MaxAttempts = 1000
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*tally]{
					Stream: "tally-c", New: newTally, Meta: f.Meta,
					Decide: func(a *tally) ([]domain.Event, error) {
						n := len(a.order)
						a.order = append(a.order, -1) // a command that mutates its aggregate
						a.seen[-1] = true
						return []domain.Event{counted{By: n}}, nil
					},
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	a, rev := loadTally(t, f, "tally-c")
	want := make([]int, workers*each)
	for i := range want {
		want[i] = i
	}
	if rev != workers*each-1 || !reflect.DeepEqual(a.order, want) {
		t.Fatalf("rev %d, order %v; want %d events 0..%d in order", rev, a.order, workers*each, workers*each-1)
	}
}

// TestAStreamFoldedIntoACachedAggregateIsNotKeptDecoded: once an
// aggregate's snapshot is cached, its stream's decoded events are not
// kept beside it (the next load starts from the snapshot), and new events
// are still folded; the stream of an aggregate the cache may not hold
// stays in the stream cache, which spares it decoding again.
func TestAStreamFoldedIntoACachedAggregateIsNotKeptDecoded(t *testing.T) {
	f := domaintest.New(t)
	f.Given("tally-9", counted{By: 1}, counted{By: 2})
	loadTally(t, f, "tally-9")
	if n := domain.EventsIn(f.Handler.Cache); n != 0 {
		t.Fatalf("the stream cache holds %d events of a stream whose aggregate is cached, want 0", n)
	}
	f.Given("tally-9", counted{By: 3})
	if a, rev := loadTally(t, f, "tally-9"); rev != 2 || fmt.Sprint(a.order) != "[1 2 3]" {
		t.Fatalf("after a new event: rev %d order %v, want 2 and [1 2 3]", rev, a.order)
	}
	if n := domain.EventsIn(f.Handler.Cache); n != 0 {
		t.Fatalf("after the new event the stream cache holds %d events, want 0", n)
	}
	f.Given("person-p-3", registered{Person: "p-3", Personal: domain.PersonalData{Name: "Ada Quist"}}, registered{Person: "p-3", Personal: domain.PersonalData{Name: "Ada Quist-Berg"}})
	loadMutator(t, f, "person-p-3")
	if n := domain.EventsIn(f.Handler.Cache); n != 2 {
		t.Fatalf("the stream cache holds %d events of a stream whose aggregate is never cached, want its 2", n)
	}
}
