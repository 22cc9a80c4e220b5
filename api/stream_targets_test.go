package api

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain/governance"
)

// A stream's target read at one head is kept for readers of that head;
// the next event (a later head) has it worked out again, and a reader of
// an earlier head does not replace what a later one kept.
func TestStreamTargetsAreKeptAtOneHeadOnly(t *testing.T) {
	w := apitest.New(t)
	ctx := context.Background()
	school := uuid.Must(uuid.NewV7())
	stream := governance.SchoolStream(school)
	before, err := w.L.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := w.App.StreamTargetAt(ctx, stream, before); err != nil || ok {
		t.Fatalf("an unregistered school's stream has a target (ok=%v, err=%v)", ok, err)
	}
	if _, err := w.App.RegisterSchool(ctx, app.Admin(), governance.RegisterSchool{SchoolID: school, Name: "Dale School", Mission: "Learning together."}); err != nil {
		t.Fatal(err)
	}
	after, err := w.L.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		head   uint64
		wantOK bool
	}{
		{"a reader of the head after the event", after, true},
		{"a reader of the head before it, whose answer is no longer kept", before, true},
		{"the reader after the event again", after, true},
	}
	for _, c := range cases {
		tg, ok, err := w.App.StreamTargetAt(ctx, stream, c.head)
		if err != nil || ok != c.wantOK || (ok && tg.School != school) {
			t.Errorf("%s: target %+v, ok=%v, err=%v; want the school %s", c.name, tg, ok, err, school)
		}
	}
}
