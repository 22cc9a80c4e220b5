package domain_test

import (
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// listed holds a slice an aggregate could be tempted to change in place.
type listed struct {
	Items []string `json:"items"`
}

func (listed) EventType() string { return "TestListed" }

// mutator is an aggregate that (wrongly, but it must not matter) changes
// the slices of the events it applies.
type mutator struct {
	items []string
	names []string
}

func (a *mutator) Apply(m domain.Message) {
	switch e := m.Event.(type) {
	case listed:
		a.items = e.Items
		for i := range e.Items {
			e.Items[i] += "!"
		}
	case registered:
		a.names = append(a.names, e.Personal.Name)
	}
}

func init() {
	domain.MustRegister[listed](domain.Spec{Type: "TestListed", Schema: 1, Group: "test", Doc: "Listed."})
}

func loadMutator(t *testing.T, f *domaintest.Fixture, stream string) *mutator {
	t.Helper()
	a, _, err := domain.Load(f.Ctx, f.Handler, stream, func() *mutator { return &mutator{} })
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestStreamCacheLoadsAreIndependentAndFresh(t *testing.T) {
	f := domaintest.New(t)
	if f.Handler.Cache == nil {
		t.Fatal("the handler has no cache; this test would prove nothing")
	}
	f.Given("list-1", listed{Items: []string{"a", "b"}})
	for i := 0; i < 3; i++ {
		a := loadMutator(t, f, "list-1")
		if got := a.items; len(got) != 2 || got[0] != "a!" || got[1] != "b!" {
			t.Fatalf("load %d: items %v: an earlier load's change leaked through the cache", i, got)
		}
	}
	// Events appended after the stream was cached are read.
	f.Given("list-1", listed{Items: []string{"c"}})
	if a := loadMutator(t, f, "list-1"); len(a.items) != 1 || a.items[0] != "c!" {
		t.Fatalf("after a new event: items %v", a.items)
	}
	// Personal data is never served from the cache: erasure shows at once.
	f.Given("person-p-9", registered{Person: "p-9", Personal: domain.PersonalData{Name: "Ines Moreau"}})
	if a := loadMutator(t, f, "person-p-9"); len(a.names) != 1 || a.names[0] != "Ines Moreau" {
		t.Fatalf("names before erasure %v", a.names)
	}
	f.Keys.Erase("p-9")
	if a := loadMutator(t, f, "person-p-9"); len(a.names) != 1 || a.names[0] != domain.ErasedName {
		t.Fatalf("names after erasure %v, want %q", a.names, domain.ErasedName)
	}
}

func TestStreamCacheEvictsBeyondItsBudget(t *testing.T) {
	f := domaintest.New(t)
	f.Handler.Cache = domain.NewStreamCache(3)
	for _, s := range []string{"list-a", "list-b", "list-c"} {
		f.Given(s, listed{Items: []string{s}}, listed{Items: []string{s + "2"}})
		if a := loadMutator(t, f, s); a.items[0] != s+"2!" {
			t.Fatalf("%s: items %v", s, a.items)
		}
	}
	// list-a was evicted; loading it again still gives the whole stream.
	if a := loadMutator(t, f, "list-a"); a.items[0] != "list-a2!" {
		t.Fatalf("after eviction: items %v", a.items)
	}
}
