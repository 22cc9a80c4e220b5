package views_test

import (
	"bytes"
	"testing"

	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
	"github.com/concord-ledger/concord/projections/views/partnershiptest"
)

// TestReaderAtEqualsEachReading: a pinned reader (every view folded in one
// pass) answers exactly what reading each view on its own answers, for
// readings by position, by time and as corrected now.
func TestReaderAtEqualsEachReading(t *testing.T) {
	w := partnershiptest.New(t, 16)
	w.Year()
	w.CatchUp()
	head, err := w.Store.Head(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	readings := []views.AsOf{
		{Position: head / 3},
		{Position: head},
		{Time: partnershiptest.Day(2026, 1, 15)},
		{Corrected: true},
		{Corrected: true, Time: partnershiptest.Day(2026, 1, 15)},
	}
	for _, a := range readings {
		pinned, err := w.Reader.At(w.Ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", a.Describe(), err)
		}
		for _, name := range views.Names() {
			state := func(r *views.Reader) ([]byte, uint64) {
				var b []byte
				pos, err := r.View(w.Ctx, name, a, func(p projections.Projection) error {
					var err error
					b, err = p.MarshalState()
					return err
				})
				if err != nil {
					t.Fatalf("%s %s: %v", a.Describe(), name, err)
				}
				return b, pos
			}
			got, gotPos := state(pinned)
			want, wantPos := state(w.Reader)
			if gotPos != wantPos || !bytes.Equal(got, want) {
				t.Fatalf("%s %s: pinned (pos %d) differs from a reading of its own (pos %d)", a.Describe(), name, gotPos, wantPos)
			}
		}
	}
	if r, err := w.Reader.At(w.Ctx, views.AsOf{}); err != nil || r != w.Reader {
		t.Fatalf("a live reading should not pin: %v, %v", r, err)
	}
}
