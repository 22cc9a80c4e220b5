package segment

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

func TestReopenPreservesEverything(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)}
	opts := Options{SegmentSize: 32 << 10, Now: clock.Now, Logger: quietLogger()}
	s := mustOpen(t, dir, opts)
	for i := range 200 {
		clock.t = clock.t.Add(time.Duration(i%3) * time.Millisecond)
		e := newEvent(i)
		e.Metadata.Reason = strings.Repeat("r", i%5)
		e.Metadata.CorrelationID = uuid.Must(uuid.NewV7())
		if i%4 == 0 {
			e.Metadata.EffectiveAt = time.Date(2025, 9, 1, 0, 0, 0, i, time.FixedZone("X", 3600))
		}
		if i%10 == 0 {
			mustAppend(t, s, fmt.Sprintf("s-%d", i%6), eventstore.Any(), e, newEvent(1000+i))
		} else {
			mustAppend(t, s, fmt.Sprintf("s-%d", i%6), eventstore.Any(), e)
		}
	}
	want := mustReadAll(t, s)
	checkStore(t, s, want) // half from memory, half from the index
	mustClose(t, s)

	s = mustOpen(t, dir, opts)
	if got, err := s.Head(context.Background()); err != nil || got != uint64(len(want)) {
		t.Fatalf("head=%d, %v; want %d", got, err, len(want))
	}
	checkStore(t, s, want)
	clock.t = clock.t.Add(time.Second)
	res := mustAppend(t, s, "s-0", eventstore.Any(), newEvent(5000))
	if res.Positions[0] != uint64(len(want)+1) {
		t.Errorf("append after reopen at position %d, want %d", res.Positions[0], len(want)+1)
	}
}

func TestRollingSegments(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: MinSegmentSize, IndexInterval: time.Millisecond, Logger: quietLogger()}
	s := mustOpen(t, dir, opts)
	for i := range 60 {
		e := sizedEvent(900)
		if i == 30 {
			e = sizedEvent(10 << 10) // larger than a segment
		}
		if i%7 == 0 {
			mustAppend(t, s, fmt.Sprintf("s-%d", i%4), eventstore.Any(), e, sizedEvent(900), sizedEvent(900))
		} else {
			mustAppend(t, s, fmt.Sprintf("s-%d", i%4), eventstore.Any(), e)
		}
	}
	want := mustReadAll(t, s)
	checkStore(t, s, want)
	mustClose(t, s)

	paths := segmentPaths(t, dir)
	if len(paths) < 10 {
		t.Fatalf("%d segments, want many with SegmentSize %d", len(paths), MinSegmentSize)
	}
	pos := uint64(1)
	for _, p := range paths {
		data := mustReadFile(t, p)
		for i, off := range recordOffsets(t, p) {
			payload, _, _ := parseFrame(data, off)
			if got := peekPosition(payload); got != pos {
				t.Fatalf("%s record %d: position %d, want %d", filepath.Base(p), i, got, pos)
			}
			if i == 0 && filepath.Base(p) != segmentName(pos) {
				t.Fatalf("segment %s starts with position %d", filepath.Base(p), pos)
			}
			pos++
		}
	}
	if pos-1 != uint64(len(want)) {
		t.Fatalf("segments hold %d records, want %d", pos-1, len(want))
	}

	s = mustOpen(t, dir, opts)
	checkStore(t, s, want)
}

func TestPositionAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	clock := &fakeClock{t: t0}
	opts := Options{IndexInterval: time.Hour, Now: clock.Now, Logger: quietLogger()}
	s := mustOpen(t, dir, opts)
	// Event i+1 is recorded at t0 + i seconds, except that the clock goes
	// back 10s at event 150: recorded times never decrease.
	const n = 300
	for i := range n {
		clock.t = t0.Add(time.Duration(i) * time.Second)
		if i == 150 {
			clock.t = clock.t.Add(-10 * time.Second)
		}
		mustAppend(t, s, "clock", eventstore.Any(), newEvent(i))
	}
	at := func(i int) time.Time {
		if i == 150 {
			return t0.Add(149 * time.Second)
		}
		return t0.Add(time.Duration(i) * time.Second)
	}
	cases := []struct {
		t    time.Time
		want uint64
	}{
		{t0.Add(-time.Hour), 0},
		{t0.Add(-time.Nanosecond), 0},
		{t0, 1},
		{t0.Add(time.Second / 2), 1},
		{t0.Add(63 * time.Second), 64},
		{t0.Add(64 * time.Second), 65},
		{t0.Add(65*time.Second - 1), 65},
		{at(149), 151}, // events 150 and 151 share a time
		{t0.Add(299 * time.Second), n},
		{t0.Add(time.Hour), n},
	}
	check := func(what string) {
		t.Helper()
		for _, c := range cases {
			got, err := s.PositionAt(context.Background(), c.t)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("%s: PositionAt(%v)=%d, want %d", what, c.t, got, c.want)
			}
		}
		for i := range n {
			got, _ := s.PositionAt(context.Background(), at(i))
			want := uint64(i + 1)
			if i == 149 {
				want = 151
			}
			if got != want {
				t.Fatalf("%s: PositionAt(recorded time of %d)=%d, want %d", what, i+1, got, want)
			}
		}
	}
	check("in memory")
	evs := mustReadAll(t, s)
	if got := evs[150].RecordedAt; !got.Equal(evs[149].RecordedAt) {
		t.Errorf("event 151 recorded at %v, before event 150 (%v)", got, evs[149].RecordedAt)
	}
	if err := s.indexOnce(); err != nil {
		t.Fatal(err)
	}
	check("indexed")
	mustClose(t, s)
	s = mustOpen(t, dir, opts)
	check("reopened")
}

func TestIdempotencyAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Logger: quietLogger()}
	s := mustOpen(t, dir, opts)
	batch := []eventstore.EventData{newEvent(1), newEvent(2), newEvent(3)}
	mustAppend(t, s, "other", eventstore.NoStream(), newEvent(0))
	first := mustAppend(t, s, "idem", eventstore.NoStream(), batch...)
	for i := range 100 {
		mustAppend(t, s, "idem", eventstore.Any(), newEvent(10+i))
	}
	mustClose(t, s)

	for round := range 2 {
		s = mustOpen(t, dir, opts)
		head := s.Stats().Head
		for _, expected := range []eventstore.ExpectedRevision{eventstore.NoStream(), eventstore.Any()} {
			res, err := s.Append(context.Background(), "idem", expected, batch...)
			if err != nil {
				t.Fatalf("round %d: re-append: %v", round, err)
			}
			if res.Revision != first.Revision || fmt.Sprint(res.Positions) != fmt.Sprint(first.Positions) {
				t.Errorf("round %d: re-append result %+v, want %+v", round, res, first)
			}
		}
		changed := batch[1]
		changed.Data = []byte(`{"changed":true}`)
		if _, err := s.Append(context.Background(), "idem", eventstore.Any(), batch[0], changed, batch[2]); !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Errorf("round %d: re-append with changed data: %v, want ErrDuplicateEvent", round, err)
		}
		if _, err := s.Append(context.Background(), "elsewhere", eventstore.Any(), batch...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Errorf("round %d: re-append to another stream: %v, want ErrDuplicateEvent", round, err)
		}
		if got := s.Stats().Head; got != head {
			t.Errorf("round %d: head moved from %d to %d", round, head, got)
		}
		if round == 0 {
			mustClose(t, s)
		}
	}
}

// TestConcurrentExactAppends races 32 goroutines for each revision of one
// stream, while the index commits all the time: exactly one wins each
// round.
func TestConcurrentExactAppends(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{IndexInterval: time.Millisecond, Logger: quietLogger()})
	const racers, rounds = 32, 25
	mustAppend(t, s, "race", eventstore.NoStream(), newEvent(0))
	for round := range rounds {
		var wg sync.WaitGroup
		wins := make(chan eventstore.AppendResult, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				res, err := s.Append(context.Background(), "race", eventstore.Exact(uint64(round)), newEvent(i))
				switch {
				case err == nil:
					wins <- res
				case !errors.Is(err, eventstore.ErrWrongExpectedRevision):
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		close(wins)
		if len(wins) != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, len(wins))
		}
		if res := <-wins; res.Revision != uint64(round+1) {
			t.Fatalf("round %d: winner at revision %d", round, res.Revision)
		}
	}
	evs, err := s.ReadStream(context.Background(), "race", 0, eventstore.Forward, 0)
	if err != nil || len(evs) != rounds+1 {
		t.Fatalf("stream has %d events (%v), want %d", len(evs), err, rounds+1)
	}
}

// TestRejectedAloneInGroup holds the syncer's turn so that appends pile up
// in one group: the one whose expectation fails is answered at once, the
// others commit together once the turn comes.
func TestRejectedAloneInGroup(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Logger: quietLogger()})
	ctx := context.Background()
	<-s.syncFree // the syncer is "busy"

	type outcome struct {
		i   int
		res eventstore.AppendResult
		err error
	}
	out := make(chan outcome, 3)
	for i := range 2 {
		go func() {
			res, err := s.Append(ctx, "contended", eventstore.NoStream(), newEvent(i))
			out <- outcome{i, res, err}
		}()
	}
	// One of the two takes the stream; the other is refused while the
	// winner still waits for its group.
	lost := <-out
	if !errors.Is(lost.err, eventstore.ErrWrongExpectedRevision) {
		t.Fatalf("first answer: %+v, want a refusal", lost)
	}
	go func() {
		res, err := s.Append(ctx, "bystander", eventstore.Any(), newEvent(9))
		out <- outcome{9, res, err}
	}()
	if h := s.Stats().Head; h != 0 {
		t.Fatalf("head=%d before the group was written", h)
	}
	s.syncFree <- struct{}{}
	for range 2 {
		o := <-out
		if o.err != nil {
			t.Fatalf("append %d: %v", o.i, o.err)
		}
	}
	if got := s.Stats().Head; got != 2 {
		t.Fatalf("head=%d, want 2", got)
	}
}

// TestCanceledWhileQueued cancels an append that waits behind a full
// group: its caller gets the context's error and its event is never
// written, while the group ahead of it commits.
func TestCanceledWhileQueued(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Logger: quietLogger()})
	ctx := context.Background()
	<-s.syncFree // the syncer is "busy": groups wait

	// A request filling a group to just under maxAppendBytes goes into the
	// queue first, so the committer takes it first; any request behind it
	// would overflow the group and stays queued, not taken, until the
	// syncer's turn comes.
	var big []eventstore.EventData
	size := 0
	for size+(1<<20) < maxAppendBytes {
		e := sizedEvent(1<<20 - 200)
		big = append(big, e)
		size += recordSize("big", &e)
	}
	pre, _, err := s.precheck("big", big)
	if err != nil {
		t.Fatal(err)
	}
	rBig := &request{stream: "big", expected: eventstore.Any(), events: big, size: size, pre: pre, done: make(chan struct{})}
	s.reqs <- rBig

	cctx, cancel := context.WithCancel(ctx)
	small := sizedEvent(1 << 20)
	smallDone := make(chan error, 1)
	go func() {
		_, err := s.Append(cctx, "small", eventstore.Any(), small)
		smallDone <- err
	}()
	cancel()
	if err := <-smallDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled append: %v, want context.Canceled", err)
	}
	s.syncFree <- struct{}{}
	<-rBig.done
	if rBig.err != nil {
		t.Fatalf("big append: %v", rBig.err)
	}
	// A later append goes through the queue after the abandoned one.
	mustAppend(t, s, "after", eventstore.Any(), newEvent(1))
	for _, e := range mustReadAll(t, s) {
		if e.ID == small.ID {
			t.Fatal("the canceled event was written")
		}
	}
	if got, want := s.Stats().Head, uint64(len(big)+1); got != want {
		t.Fatalf("head=%d, want %d", got, want)
	}
}

// TestStickyWriteFailure makes a segment write fail: the caller gets the
// error, later appends are refused, reads go on, and a reopened store is
// intact.
func TestStickyWriteFailure(t *testing.T) {
	dir := t.TempDir()
	// Reads come from memory: the segment file is about to be closed.
	s := mustOpen(t, dir, Options{IndexInterval: time.Hour, Logger: quietLogger()})
	want := appendN(t, s, 10)
	// Break the file under the committer (it is idle: no append runs).
	s.wseg.f.Close()
	if _, err := s.Append(context.Background(), "s-0", eventstore.Any(), newEvent(11)); err == nil {
		t.Fatal("append succeeded with a closed segment file")
	}
	_, err := s.Append(context.Background(), "s-1", eventstore.Any(), newEvent(12))
	if err == nil || !strings.Contains(err.Error(), "refuses appends") {
		t.Fatalf("append after a failure: %v, want the sticky error", err)
	}
	sameEvents(t, "reads after the failure", mustReadAll(t, s), want)
	if h, _ := s.Head(context.Background()); h != 10 {
		t.Fatalf("head=%d, want 10", h)
	}
	s.Close()
	s = mustOpen(t, dir, Options{Logger: quietLogger()})
	sameEvents(t, "after reopening", mustReadAll(t, s), want)
	mustAppend(t, s, "s-0", eventstore.Any(), newEvent(13))
}

func TestClosedStore(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Logger: quietLogger()})
	mustAppend(t, s, "a", eventstore.Any(), newEvent(1))
	sub, err := s.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	<-sub.Events()
	mustClose(t, s)
	for range sub.Events() {
	}
	if !errors.Is(sub.Err(), eventstore.ErrClosed) {
		t.Errorf("subscription ended with %v, want ErrClosed", sub.Err())
	}
	ctx := context.Background()
	calls := map[string]error{
		"Close": s.Close(),
	}
	_, calls["Append"] = s.Append(ctx, "a", eventstore.Any(), newEvent(2))
	_, calls["ReadAll"] = s.ReadAll(ctx, 0, 0)
	_, calls["ReadStream"] = s.ReadStream(ctx, "a", 0, eventstore.Forward, 0)
	_, calls["PositionAt"] = s.PositionAt(ctx, time.Now())
	_, calls["Head"] = s.Head(ctx)
	_, calls["Subscribe"] = s.Subscribe(ctx, 0)
	for name, err := range calls {
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

func TestDirectoryLocked(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir, Options{Logger: quietLogger()})
	if s, err := Open(context.Background(), dir, Options{Logger: quietLogger()}); err == nil {
		s.Close()
		t.Fatal("a second store opened the same directory")
	}
}

func TestAppendTooLarge(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{Logger: quietLogger()})
	var evs []eventstore.EventData
	for range 17 {
		evs = append(evs, sizedEvent(1<<20-100))
	}
	if _, err := s.Append(context.Background(), "big", eventstore.Any(), evs...); !errors.Is(err, eventstore.ErrEventTooLarge) {
		t.Fatalf("append of 17 MiB: %v, want ErrEventTooLarge", err)
	}
	if h := s.Stats().Head; h != 0 {
		t.Fatalf("head=%d after a refused append", h)
	}
}

func TestOptions(t *testing.T) {
	for _, opts := range []Options{
		{MaxEventSize: maxPayload + 1},
		{SegmentSize: MinSegmentSize - 1},
	} {
		if s, err := Open(context.Background(), t.TempDir(), opts); err == nil {
			s.Close()
			t.Errorf("Open accepted %+v", opts)
		}
	}
}

func TestStats(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{IndexInterval: time.Hour, Logger: quietLogger()})
	mustAppend(t, s, "a", eventstore.Any(), newEvent(1), newEvent(2))
	mustAppend(t, s, "a", eventstore.Any(), newEvent(3))
	st := s.Stats()
	if st.Appends != 2 || st.Events != 3 || st.Head != 3 || st.IndexLag != 3 || st.Groups < 1 || st.Syncs < 1 || st.Segments != 1 {
		t.Errorf("stats %+v", st)
	}
	if err := s.indexOnce(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Indexed != 3 || st.IndexLag != 0 {
		t.Errorf("stats after indexing %+v", st)
	}
}

// TestStatsCountEveryAcknowledgedAppend checks after every acknowledged
// Append that the counters already include it: Stats is read by metrics
// and by tests right after an append returns, so the counters must be
// updated before the caller is answered, not after.
func TestStatsCountEveryAcknowledgedAppend(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{IndexInterval: time.Hour, Logger: quietLogger()})
	var events uint64
	for i := 1; i <= 300; i++ {
		evs := []eventstore.EventData{newEvent(2 * i)}
		if i%2 == 0 {
			evs = append(evs, newEvent(2*i+1))
		}
		mustAppend(t, s, "a", eventstore.Any(), evs...)
		events += uint64(len(evs))
		st := s.Stats()
		if st.Appends != uint64(i) || st.Events != events || st.Head != events {
			t.Fatalf("after acknowledged append %d (%d events in all): stats %+v", i, events, st)
		}
	}
}

// TestSubscribeAcrossIndexing subscribes while appends run and the index
// keeps taking events out of memory: every event arrives once, in order.
func TestSubscribeAcrossIndexing(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{IndexInterval: time.Millisecond, SegmentSize: 64 << 10, Logger: quietLogger()})
	appendN(t, s, 500)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := s.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const writers, each = 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(ctx, fmt.Sprintf("w-%d", w), eventstore.Any(), newEvent(i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for want := uint64(1); want <= 500+writers*each; want++ {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended at %d: %v", want, sub.Err())
			}
			if e.Position != want {
				t.Fatalf("got position %d, want %d", e.Position, want)
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %d: %v", want, ctx.Err())
		}
	}
	wg.Wait()
	if err := sub.Close(); err != nil || sub.Err() != nil {
		t.Errorf("close: %v, err %v", err, sub.Err())
	}
}
