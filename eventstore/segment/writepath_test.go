package segment

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/mapped"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// TestReadStreamAcrossRuns reads streams whose events were indexed in
// runs of different lengths (index commits between appends), some still
// in the tail, next to streams whose names extend theirs, from every
// revision in both directions and with limits, and checks each answer
// against the revisions appended.
func TestReadStreamAcrossRuns(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t, t.TempDir(), Options{IndexInterval: time.Hour, Logger: quietLogger()})
	streams := []string{"a", "a-b", "a.", "b"}
	counts := map[string]int{}
	appendTo := func(stream string) {
		t.Helper()
		exp := eventstore.NoStream()
		if counts[stream] > 0 {
			exp = eventstore.Exact(uint64(counts[stream] - 1))
		}
		if _, err := s.Append(ctx, stream, exp, newEvent(counts[stream])); err != nil {
			t.Fatal(err)
		}
		counts[stream]++
	}
	// Runs of 1, 3, 7 and 2 events of "a", the others interleaved, with
	// the last run left in the tail.
	for _, run := range []int{1, 3, 7, 2} {
		for i := range run {
			appendTo("a")
			appendTo(streams[1+i%3])
		}
		if run != 2 {
			if err := s.indexOnce(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, stream := range streams {
		n := counts[stream]
		for from := 0; from <= n+1; from++ {
			for _, limit := range []int{0, 1, 2, 5} {
				for _, dir := range []eventstore.Direction{eventstore.Forward, eventstore.Backward} {
					var want []uint64
					if dir == eventstore.Forward {
						for r := from; r < n && (limit == 0 || len(want) < limit); r++ {
							want = append(want, uint64(r))
						}
					} else {
						for r := min(from, n-1); r >= 0 && (limit == 0 || len(want) < limit); r-- {
							want = append(want, uint64(r))
						}
					}
					got, err := s.ReadStream(ctx, stream, uint64(from), dir, limit)
					if err != nil {
						t.Fatal(err)
					}
					var revs []uint64
					for _, e := range got {
						if e.StreamID != stream {
							t.Fatalf("%s from %d: got an event of %s", stream, from, e.StreamID)
						}
						revs = append(revs, e.Revision)
					}
					if fmt.Sprint(revs) != fmt.Sprint(want) {
						t.Errorf("%s from %d dir %d limit %d: revisions %v, want %v", stream, from, dir, limit, revs, want)
					}
				}
			}
		}
		got, err := s.ReadStream(ctx, stream, eventstore.LastRevision, eventstore.Backward, 1)
		if err != nil || len(got) != 1 || got[0].Revision != uint64(n-1) {
			t.Errorf("%s: last event %v (%v), want revision %d", stream, got, err, n-1)
		}
	}
	// Heads read from the index alone (as after a reopen) are the ends of
	// the streams' last runs.
	if err := s.indexOnce(); err != nil {
		t.Fatal(err)
	}
	err := s.idx.view(func(tx *bolt.Tx) error {
		for _, stream := range append(streams, "c", "a-") {
			got, err := lookupHead(tx, stream)
			if err != nil {
				return err
			}
			if want := int64(counts[stream]) - 1; got != want {
				t.Errorf("indexed head of %s=%d, want %d", stream, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAppendsAfterReopenUseTheFilters appends to a store reopened with
// events in it: a known stream and new IDs need no index look-up once the
// filter of the old events is built, while a re-append of an old event is
// still recognised (idempotent) and an old ID in another stream refused.
func TestAppendsAfterReopenUseTheFilters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Logger: quietLogger()})
	var old []eventstore.EventData
	for i := range 200 {
		e := newEvent(i)
		old = append(old, e)
		if _, err := s.Append(ctx, "old", eventstore.Any(), e); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, s)

	s = mustOpen(t, dir, Options{Logger: quietLogger()})
	waitFilter(t, s)
	if _, err := s.Append(ctx, "old", eventstore.Exact(199), newEvent(200)); err != nil {
		t.Fatal(err)
	}
	before := s.Stats().IndexLookups
	for i := range 50 {
		if _, err := s.Append(ctx, "old", eventstore.Exact(uint64(200+i)), newEvent(201+i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Stats().IndexLookups - before; got > 2 {
		t.Errorf("%d of 50 appends of new events to a known stream read the index, want about none (1%% false positives)", got)
	}
	res, err := s.Append(ctx, "old", eventstore.Exact(9), old[10])
	if err != nil || res.Positions[0] != 11 {
		t.Errorf("re-append of event 10: %v %v, want its original position 11", res, err)
	}
	if _, err := s.Append(ctx, "other", eventstore.Any(), old[5]); !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Errorf("old id in another stream: err=%v, want ErrDuplicateEvent", err)
	}
	if _, err := s.Append(ctx, "old", eventstore.Exact(3), newEvent(0)); !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		t.Errorf("stale expectation: err=%v, want ErrWrongExpectedRevision", err)
	}
}

func waitFilter(t *testing.T, s *Store) {
	t.Helper()
	select {
	case <-s.oldFilterDone:
	case <-t.Context().Done():
		t.Fatal("filter never built")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.idsOld == nil {
		t.Fatal("building the filter failed")
	}
}

// TestIDFilter checks that the filter never forgets an ID and rules out
// almost every other, across its growth.
func TestIDFilter(t *testing.T) {
	var f idFilter
	ids := make([]uuid.UUID, 3*filterFirstCap)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
		f.add(ids[i])
	}
	if len(f.parts) < 2 {
		t.Fatalf("%d parts after %d ids, want growth", len(f.parts), len(ids))
	}
	for _, id := range ids {
		if !f.mayHave(id) {
			t.Fatalf("filter forgot %s", id)
		}
	}
	fp := 0
	const trials = 100000
	for range trials {
		if f.mayHave(uuid.New()) {
			fp++
		}
	}
	// One filter part is at about 1%; a lookup asks every part.
	if rate := float64(fp) / trials; rate > 0.03 {
		t.Errorf("false positive rate %.3f, want about 0.01 per part", rate)
	}
}

// TestDeferSync checks the bulk-load mode: appends are acknowledged
// without a sync each (far fewer syncs than groups), and every
// acknowledged event is there after the process stops without closing
// (the page cache keeps what was written), in order.
func TestDeferSync(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{DeferSync: true, DeferSyncInterval: time.Hour, Logger: quietLogger()})
	const n = 300
	ids := make([]uuid.UUID, n)
	for i := range n {
		e := newEvent(i)
		ids[i] = e.ID
		if _, err := s.Append(ctx, "bulk", eventstore.Any(), e); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Groups != n || st.Syncs > 1 {
		t.Errorf("%d syncs for %d groups; DeferSync should sync at most once (the first group) within the interval", st.Syncs, st.Groups)
	}
	crash(s)
	s = mustOpen(t, dir, Options{Logger: quietLogger()})
	got, err := s.ReadStream(ctx, "bulk", 0, eventstore.Forward, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d events after the crash, want the %d acknowledged", len(got), n)
	}
	for i, e := range got {
		if e.ID != ids[i] || e.Revision != uint64(i) {
			t.Fatalf("event %d is %s at revision %d, want %s", i, e.ID, e.Revision, ids[i])
		}
	}
}

// TestTheIDFilterLeavesTheIndexUnmapped: building the filter of the old
// events reads every ID in the index through bbolt's mapping; once it is
// built those pages are no longer in the process's resident set (at a
// million events they were 130 MB of it, for as long as the process ran).
func TestTheIDFilterLeavesTheIndexUnmapped(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the resident set of a mapping is read from Linux's /proc/self/smaps")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Logger: quietLogger()})
	batch := make([]eventstore.EventData, 500)
	for i := range 40 {
		for j := range batch {
			batch[j] = newEvent(i*len(batch) + j)
		}
		if _, err := s.Append(ctx, fmt.Sprintf("s-%d", i), eventstore.Any(), batch...); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, s)
	s = mustOpen(t, dir, Options{Logger: quietLogger()})
	defer mustClose(t, s)
	waitFilter(t, s)
	// Measured before the IDs' pages are counted, which reads them again.
	resident, err := mapped.Resident(s.idx.db)
	if err != nil {
		t.Fatal(err)
	}
	var ids int64
	if err := s.idx.db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketIDs).Stats()
		ids = int64(st.BranchPageN+st.LeafPageN+st.BranchOverflowN+st.LeafOverflowN) * int64(s.idx.db.Info().PageSize)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ids < 512<<10 {
		t.Fatalf("the IDs of 20,000 events take %d bytes of the index: too few to tell", ids)
	}
	if resident > ids/4 {
		t.Fatalf("%d bytes of the index resident after the filter read %d bytes of IDs, want at most a quarter", resident, ids)
	}
}
