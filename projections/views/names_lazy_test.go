package views_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/views"
)

// TestNamesOpenedWhenAskedAreTheReadingsNames: the names a read opens as
// it shows them (Reader.Names) are those of the whole name map of the same
// reading (Reader.PersonNames), for every person and an unknown id: live,
// at the position the live view stands at, at earlier positions, as
// corrected now, and from a pinned reader.
func TestNamesOpenedWhenAskedAreTheReadingsNames(t *testing.T) {
	w := year(t)
	head, err := w.Store.Head(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	live, err := w.Reader.PersonNames(w.Ctx, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) < 5 {
		t.Fatalf("the world has %d people, want several", len(live))
	}
	ids := []uuid.UUID{uuid.New()}
	for id := range live {
		ids = append(ids, id)
	}
	pinned, err := w.Reader.At(w.Ctx, views.AsOf{Position: head / 2}, views.PeopleView)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    *views.Reader
		a    views.AsOf
	}{
		{"live", w.Reader, views.AsOf{}},
		{"at the head", w.Reader, views.AsOf{Position: head}},
		{"halfway", w.Reader, views.AsOf{Position: head / 2}},
		{"at the start", w.Reader, views.AsOf{Position: 3}},
		{"as corrected now", w.Reader, views.AsOf{Corrected: true}},
		{"pinned halfway", pinned, views.AsOf{Position: head / 2}},
	} {
		want, err := c.r.PersonNames(w.Ctx, c.a)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := c.r.Names(w.Ctx, c.a)
		known := 0
		for _, id := range ids {
			if g, x := got.Name(id), want.Name(id); g != x {
				t.Errorf("%s: %s is %q, want %q", c.name, id, g, x)
			} else if x != "" {
				known++
			}
			if got.Name(id) != want.Name(id) { // asked again: the same
				t.Errorf("%s: %s asked twice, changed", c.name, id)
			}
		}
		if c.a.Position == 3 && known >= len(ids)-1 {
			t.Errorf("%s: every person is known three events in; the reading is not the one asked", c.name)
		}
	}
}
