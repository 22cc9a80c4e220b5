package api

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/eventstore"
)

// TestEventPagesReadWithoutDecodingAreTheSame: on the embedded store the
// log is read for GET /v1/events without decoding the events of streams
// the caller does not see. For every actor of the test world, from every
// cursor, with pages of 1, 3 and 1,000 and with and without a time
// window, the page is the one read with every event decoded.
func TestEventPagesReadWithoutDecodingAreTheSame(t *testing.T) {
	w := apitest.NewOnDisk(t)
	if _, ok := w.L.Store.(keepingReader); !ok {
		t.Fatalf("the on-disk world's store (%T) does not read without decoding: this test would test nothing", w.L.Store)
	}
	s := New(w.L, Options{Logger: coreQuiet, Now: func() time.Time { return apitest.Now }})
	ctx := context.Background()
	head, err := w.L.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := w.L.Store.ReadAll(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	mid := all[len(all)/2].RecordedAt
	refused := 0 // events left undecoded
	for name, actor := range w.Actor {
		for _, limit := range []int{1, 3, 1000} {
			for _, to := range []time.Time{{}, mid} {
				for cursor := uint64(0); cursor <= head; cursor += 7 {
					page := func(keeping bool) []eventstore.RecordedEvent {
						er, err := s.newEventReader(ctx, actor)
						if err != nil {
							t.Fatal(err)
						}
						q := eventQuery{Limit: limit, Cursor: cursor, To: to, visible: er.visible}
						if keeping {
							q.visibleStream = func(stream []byte) (bool, error) {
								ok, err := er.visibleStream(stream)
								if !ok {
									refused++
								}
								return ok, err
							}
						}
						evs, err := s.eventsByStore(ctx, &q)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						return evs
					}
					decoded, keeping := page(false), page(true)
					if !reflect.DeepEqual(keeping, decoded) {
						t.Fatalf("%s, limit %d, to %v, cursor %d: %d events read without decoding, %d decoded, not the same", name, limit, to, cursor, len(keeping), len(decoded))
					}
				}
			}
		}
	}
	if refused == 0 {
		t.Fatal("every event was decoded: nobody was refused one, so the pages compared nothing")
	}
}
