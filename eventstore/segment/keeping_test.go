package segment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// TestReadAllKeepingIsReadAllWithStubs: over a log of 10,300 events in 37
// streams, 10,000 of them indexed (read from the segment files) and the
// rest still in memory, ReadAllKeeping
// answers, for random ranges and random sets of streams kept, exactly
// what ReadAll answers for the events of the streams kept, and for the
// others a stub with the same position and recorded time and
// nothing else.
func TestReadAllKeepingIsReadAllWithStubs(t *testing.T) {
	// The indexer runs only when told (below): no timer moves the line
	// between the files and memory.
	s := mustOpen(t, t.TempDir(), Options{Logger: quietLogger(), IndexInterval: time.Hour})
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 8))
	streams := make([]string, 37)
	for i := range streams {
		streams[i] = fmt.Sprintf("keeping-%02d", i)
	}
	add := func(n int) {
		for i := 0; i < n; {
			k := min(1+rng.IntN(5), n-i)
			evs := make([]eventstore.EventData, k)
			for j := range evs {
				evs[j] = newEvent(i + j)
			}
			mustAppend(t, s, streams[rng.IntN(len(streams))], eventstore.Any(), evs...)
			i += k
		}
	}
	add(10000)
	if err := s.indexOnce(); err != nil {
		t.Fatal(err)
	}
	add(300)
	if st := s.Stats(); st.Indexed != 10000 || st.Head != 10300 {
		t.Fatalf("indexed %d of %d, want 10000 of 10300", st.Indexed, st.Head)
	}
	all := mustReadAll(t, s)
	for trial := range 60 {
		kept := map[string]bool{}
		for _, st := range streams {
			if rng.IntN(4) == 0 {
				kept[st] = true
			}
		}
		from := uint64(1 + rng.IntN(10300))
		limit := rng.IntN(400)
		switch trial % 6 {
		case 0:
			from, limit = 1, 0 // the whole log
		case 1:
			from = uint64(9900 + rng.IntN(200)) // across the files and memory
		}
		calls := 0
		got, err := s.ReadAllKeeping(ctx, from, limit, func(b []byte) bool {
			calls++
			return kept[string(b)]
		})
		if err != nil {
			t.Fatal(err)
		}
		want := all[from-1:]
		if limit > 0 {
			want = want[:min(limit, len(want))]
		}
		if calls != len(want) {
			t.Fatalf("from %d limit %d: keep asked %d times for %d events", from, limit, calls, len(want))
		}
		if len(got) != len(want) {
			t.Fatalf("from %d limit %d: %d events, want %d", from, limit, len(got), len(want))
		}
		for i, w := range want {
			if !kept[w.StreamID] {
				w = eventstore.RecordedEvent{Position: w.Position, RecordedAt: w.RecordedAt}
			}
			if !reflect.DeepEqual(got[i], w) {
				t.Fatalf("from %d limit %d: event %d is\n%+v\nwant\n%+v", from, limit, w.Position, got[i], w)
			}
		}
	}
}
