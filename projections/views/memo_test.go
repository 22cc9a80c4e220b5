package views_test

import (
	"testing"

	"github.com/concord-ledger/concord/projections/views"
	"github.com/concord-ledger/concord/projections/views/partnershiptest"
)

func TestMemoAnswersOnlyAtThePositionItWasWorkedOutAt(t *testing.T) {
	var m views.Memo
	m.Put("a", 10, "ten")
	cases := []struct {
		key  string
		pos  uint64
		want any
	}{
		{"a", 10, "ten"},
		{"a", 9, nil},
		{"a", 11, nil},
		{"b", 10, nil},
	}
	for _, c := range cases {
		got, ok := m.Get(c.key, c.pos)
		if ok != (c.want != nil) || (ok && got != c.want) {
			t.Errorf("Get(%s, %d) = %v, %v; want %v", c.key, c.pos, got, ok, c.want)
		}
	}
	// A later answer replaces an earlier one; an earlier one arriving
	// late (a slower reader) does not replace a later one.
	m.Put("a", 12, "twelve")
	m.Put("a", 11, "eleven")
	if got, ok := m.Get("a", 12); !ok || got != "twelve" {
		t.Errorf("Get(a, 12) = %v, %v after a late earlier answer", got, ok)
	}
	if _, ok := m.Get("a", 11); ok {
		t.Error("the late earlier answer was kept")
	}
	// An answer of a later position drops those of earlier ones, which no
	// reader will ask for again; answers of the same position stay.
	m.Put("b", 12, "b twelve")
	m.Put("c", 13, "c thirteen")
	m.Put("d", 13, "d thirteen")
	for _, c := range []struct {
		key  string
		pos  uint64
		kept bool
	}{{"a", 12, false}, {"b", 12, false}, {"c", 13, true}, {"d", 13, true}} {
		if _, ok := m.Get(c.key, c.pos); ok != c.kept {
			t.Errorf("Get(%s, %d) kept=%v, want %v", c.key, c.pos, ok, c.kept)
		}
	}
}

func TestMemoStaysBounded(t *testing.T) {
	var m views.Memo
	for i := range 1000 {
		m.Put(i, uint64(i), i)
		if got, ok := m.Get(i, uint64(i)); !ok || got != i {
			t.Fatalf("the answer just kept under %d is gone", i)
		}
	}
	kept := 0
	for i := range 1000 {
		if _, ok := m.Get(i, uint64(i)); ok {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("%d answers kept of 1000 at 1000 positions, want the last one", kept)
	}
	// At one position, at most 64.
	for i := range 1000 {
		m.Put(i, 5000, i)
	}
	kept = 0
	for i := range 1000 {
		if _, ok := m.Get(i, 5000); ok {
			kept++
		}
	}
	if kept == 0 || kept > 64 {
		t.Errorf("%d answers kept of 1000 at one position, want between 1 and 64", kept)
	}
}

func TestPinnedReaderHasNoMemo(t *testing.T) {
	w := partnershiptest.New(t, 16)
	w.Year()
	w.CatchUp()
	if w.Reader.Memo() == nil {
		t.Fatal("a live reader has no memo")
	}
	pinned, err := w.Reader.At(t.Context(), views.AsOf{Position: 1})
	if err != nil {
		t.Fatal(err)
	}
	if pinned.Memo() != nil {
		t.Error("a reader pinned to a position has a memo of live answers")
	}
}
