package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
)

type happened struct {
	Key string `json:"key"`
	N   int    `json:"n"`
}

func (happened) EventType() string { return "ProjTestHappened" }

func init() {
	domain.MustRegister[happened](domain.Spec{Type: "ProjTestHappened", Schema: 1, Group: "test", Doc: "test"})
}

// tally sums n per key; it fails on n < 0 (to test failure handling).
type tally struct {
	Sums map[string]int `json:"sums"`
	Last uint64         `json:"last"`
}

func newTally() Projection { return &tally{Sums: map[string]int{}} }

func (t *tally) Name() string { return "tally" }
func (t *tally) Version() int { return 1 }
func (t *tally) Apply(m domain.Message) error {
	switch e := m.Event.(type) {
	case happened:
		if e.N < 0 {
			return fmt.Errorf("negative n %d", e.N)
		}
		t.Sums[e.Key] += e.N
	case domain.EventCorrected:
	}
	t.Last = m.Position
	return nil
}
func (t *tally) MarshalState() ([]byte, error) { return json.Marshal(t) }
func (t *tally) UnmarshalState(b []byte) error { return json.Unmarshal(b, t) }

func appendHappened(t *testing.T, s eventstore.Store, codec *domain.Codec, stream string, e happened) uuid.UUID {
	t.Helper()
	env, err := codec.Encode(e, uuid.Must(uuid.NewV7()), domain.Meta{ActorID: "t", ActorRole: "system"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(context.Background(), stream, eventstore.Any(), domainlog.ToStore(env)); err != nil {
		t.Fatal(err)
	}
	return env.ID
}

func fromZero(t *testing.T, s eventstore.Store, codec *domain.Codec, upto uint64) []byte {
	t.Helper()
	p := newTally()
	if err := Fold(context.Background(), s, codec, p, 1, upto, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := p.MarshalState()
	return b
}

// TestAsOfEqualsFoldFromZero is a property test over random histories:
// for every position, the engine's as-of answer (snapshot + tail) equals
// folding events 1..pos from zero.
func TestAsOfEqualsFoldFromZero(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed))
		ctx := context.Background()
		s := memory.New(memory.Options{})
		codec := &domain.Codec{}
		e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{SnapshotEvery: uint64(1 + rng.IntN(20)), CheckpointEvery: 1 + rng.IntN(30)}, newTally)
		if err != nil {
			t.Fatal(err)
		}
		n := 50 + rng.IntN(150)
		for i := 0; i < n; i++ {
			appendHappened(t, s, codec, fmt.Sprintf("s-%d", rng.IntN(5)), happened{Key: fmt.Sprint(rng.IntN(7)), N: rng.IntN(100)})
			if rng.IntN(10) == 0 {
				if err := e.CatchUp(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := e.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
		for pos := uint64(0); pos <= uint64(n); pos++ {
			p, err := e.AsOf(ctx, "tally", pos)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := p.MarshalState()
			if want := fromZero(t, s, codec, pos); !bytes.Equal(got, want) {
				t.Fatalf("seed %d pos %d: as-of %s, from zero %s", seed, pos, got, want)
			}
		}
		if _, err := e.AsOf(ctx, "tally", uint64(n)+1); err == nil {
			t.Fatal("as-of beyond the head succeeded")
		}
		e.Close()
	}
}

func TestCheckpointResumeAndRebuildEqualsLive(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	e, err := Open(s, codec, path, Options{}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		appendHappened(t, s, codec, "s", happened{Key: "a", N: i})
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		appendHappened(t, s, codec, "s", happened{Key: "b", N: 1})
	}
	// Reopen: resumes after event 30, neither reprocessing nor skipping.
	e, err = Open(s, codec, path, Options{}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if st := e.Status(ctx)[0]; st.Position != 30 || st.Lag != 10 {
		t.Fatalf("after reopen status = %+v, want position 30 lag 10", st)
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var live []byte
	e.View("tally", func(p Projection) error { live, _ = p.MarshalState(); return nil })
	if want := fromZero(t, s, codec, 40); !bytes.Equal(live, want) {
		t.Fatalf("live %s, from zero %s", live, want)
	}
	var done uint64
	if err := e.Rebuild(ctx, "tally", func(d, total uint64) { done = d }); err != nil {
		t.Fatal(err)
	}
	var rebuilt []byte
	e.View("tally", func(p Projection) error { rebuilt, _ = p.MarshalState(); return nil })
	if !bytes.Equal(rebuilt, live) || done != 40 {
		t.Fatalf("rebuilt %s (progress %d), live %s", rebuilt, done, live)
	}
}

func TestFailureStopsAtEventAndResumes(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 1})
	bad := appendHappened(t, s, codec, "s", happened{Key: "a", N: -1})
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 1})
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	st := e.Status(ctx)[0]
	if st.Failure == nil || st.Failure.Position != 2 || st.Failure.EventID != bad.String() || st.Position != 1 || st.Lag != 2 {
		t.Fatalf("status = %+v, want stopped at position 2", st)
	}
	// It never skips: retrying without a fix stops at the same event.
	e.Retry("tally")
	e.CatchUp(ctx)
	if st := e.Status(ctx)[0]; st.Failure == nil || st.Position != 1 {
		t.Fatalf("after retry without fix: %+v", st)
	}
}

func TestFoldCorrected(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	log := domainlog.Log{Store: s}
	h := domain.NewHandler(log, codec)
	first := appendHappened(t, s, codec, "s", happened{Key: "a", N: 5})
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 1})
	newAgg := func() *nopAgg { return &nopAgg{} }
	if _, err := domain.Correct(ctx, h, "s", newAgg, domain.Meta{ActorID: "d"}, domain.Correction{EventID: first, Replacement: happened{Key: "a", N: 50}, Reason: "typo"}); err != nil {
		t.Fatal(err)
	}
	// As known then: 6. As corrected now: 51.
	then := newTally().(*tally)
	if err := Fold(ctx, s, codec, then, 1, 3, nil); err != nil {
		t.Fatal(err)
	}
	now := newTally().(*tally)
	if _, err := FoldCorrected(ctx, s, codec, now, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if then.Sums["a"] != 6 || now.Sums["a"] != 51 {
		t.Fatalf("as known then %d (want 6), as corrected now %d (want 51)", then.Sums["a"], now.Sums["a"])
	}
	keys := make([]string, 0)
	for k := range now.Sums {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) != 1 {
		t.Fatalf("keys %v", keys)
	}
}

type nopAgg struct{}

func (*nopAgg) Apply(domain.Message) {}

// counter counts events per stream; a second projection for AsOfAll.
type counter struct {
	Streams map[string]int `json:"streams"`
}

func newCounter() Projection { return &counter{Streams: map[string]int{}} }

func (c *counter) Name() string { return "counter" }
func (c *counter) Version() int { return 1 }
func (c *counter) Apply(m domain.Message) error {
	c.Streams[m.Stream]++
	return nil
}
func (c *counter) MarshalState() ([]byte, error) { return json.Marshal(c) }
func (c *counter) UnmarshalState(b []byte) error { return json.Unmarshal(b, c) }

// marshalCounter is a counter that counts its MarshalState calls.
type marshalCounter struct {
	counter
	marshals *atomic.Int64
}

func (c *marshalCounter) MarshalState() ([]byte, error) {
	c.marshals.Add(1)
	return c.counter.MarshalState()
}

// TestAsOfNearASnapshotDoesNotMarshal: a reading that folds further than
// on-demand snapshots start at, but less far than the nearest snapshot's
// size spaces snapshots, neither keeps a snapshot nor marshals its state
// to find that out; a reading past that spacing keeps one.
func TestAsOfNearASnapshotDoesNotMarshal(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	var marshals atomic.Int64
	factory := func() Projection {
		return &marshalCounter{counter: counter{Streams: map[string]int{}}, marshals: &marshals}
	}
	// Ten events a snapshot at least; 16 bytes of packed state a position.
	const perEvent = 16
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{SnapshotEvery: 10, SnapshotBytesPerEvent: perEvent}, factory)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i := range 2500 {
		appendHappened(t, s, codec, fmt.Sprintf("stream-%04d", i), happened{Key: "k", N: 1})
	}
	if _, err := e.AsOf(ctx, "counter", 1000); err != nil { // from zero: kept
		t.Fatal(err)
	}
	e.WaitKept()
	at, _, stored, ok := e.nearestSnapshot("counter", 1, 1000)
	spacing := uint64(stored / perEvent)
	if !ok || at != 1000 || spacing < 100 {
		t.Fatalf("snapshot at %d (%v, %d bytes): want one kept at 1000, spaced at least 100 apart", at, ok, stored)
	}
	// 50 positions on: past 4 × SnapshotEvery, within the spacing.
	before := marshals.Load()
	if _, err := e.AsOf(ctx, "counter", 1050); err != nil {
		t.Fatal(err)
	}
	e.WaitKept()
	if n := marshals.Load() - before; n != 0 {
		t.Errorf("a reading 50 positions past a snapshot of %d bytes marshalled its state %d times, want none", stored, n)
	}
	if at, _, _, _ := e.nearestSnapshot("counter", 1, 1050); at != 1000 {
		t.Errorf("nearest snapshot to 1050 is at %d, want 1000 (none kept)", at)
	}
	// Well past the spacing: kept.
	far := 1000 + 2*spacing
	if _, err := e.AsOf(ctx, "counter", far); err != nil {
		t.Fatal(err)
	}
	e.WaitKept()
	if at, _, _, _ := e.nearestSnapshot("counter", 1, far); at != far {
		t.Errorf("nearest snapshot to %d is at %d, want one kept there", far, at)
	}
}

// TestAsOfAllEqualsEachFromZero: folding several projections in one pass,
// each from its own snapshot, gives each the state of folding it alone
// from zero.
func TestAsOfAllEqualsEachFromZero(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{SnapshotEvery: 7, CheckpointEvery: 5}, newTally, newCounter)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 120; i++ {
		appendHappened(t, s, codec, fmt.Sprintf("s-%d", rng.IntN(4)), happened{Key: fmt.Sprint(rng.IntN(5)), N: rng.IntN(9)})
		if i%13 == 0 {
			if err := e.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	for pos := uint64(0); pos <= 120; pos += 1 + uint64(rng.IntN(6)) {
		all, err := e.AsOfAll(ctx, []string{"tally", "counter"}, pos)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []Factory{newTally, newCounter} {
			want := f()
			if err := Fold(ctx, s, codec, want, 1, pos, nil); err != nil {
				t.Fatal(err)
			}
			wb, _ := want.MarshalState()
			gb, _ := all[want.Name()].MarshalState()
			if !bytes.Equal(gb, wb) {
				t.Fatalf("pos %d %s: AsOfAll %s, from zero %s", pos, want.Name(), gb, wb)
			}
		}
	}
	if _, err := e.AsOfAll(ctx, []string{"tally", "nope"}, 3); err == nil {
		t.Fatal("AsOfAll with an unknown name succeeded")
	}
}

// TestSnapshotSpacingGrowsWithState: a growing state is snapshotted ever
// more rarely (space in proportion to the log), and as-of answers stay
// exact.
func TestSnapshotSpacingGrowsWithState(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{SnapshotEvery: 1, SnapshotBytesPerEvent: 1}, newCounter)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const n = 300
	for i := 0; i < n; i++ {
		appendHappened(t, s, codec, fmt.Sprintf("stream-%03d", i), happened{Key: "k", N: 1})
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	snaps := 0
	e.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSnapshots).Bucket([]byte("counter")).ForEach(func(k, _ []byte) error {
			if len(k) == 8 {
				snaps++
			}
			return nil
		})
	})
	// The state grows by ~20 bytes an event, so with one byte per event
	// snapshots are ~20× further apart each time: a handful, not 300.
	if snaps == 0 || snaps > 12 {
		t.Fatalf("%d snapshots of a growing state over %d events, want a few", snaps, n)
	}
	for _, pos := range []uint64{1, 77, 150, 299, n} {
		p, err := e.AsOf(ctx, "counter", pos)
		if err != nil {
			t.Fatal(err)
		}
		want := newCounter()
		if err := Fold(ctx, s, codec, want, 1, pos, nil); err != nil {
			t.Fatal(err)
		}
		gb, _ := p.MarshalState()
		wb, _ := want.MarshalState()
		if !bytes.Equal(gb, wb) {
			t.Fatalf("as of %d: %s, want %s", pos, gb, wb)
		}
	}
}

// binaryCounter stores its state in a form that is not JSON.
type binaryCounter struct{ counter }

func newBinaryCounter() Projection { return &binaryCounter{counter{Streams: map[string]int{}}} }

func (c *binaryCounter) Name() string { return "binary" }
func (c *binaryCounter) MarshalState() ([]byte, error) {
	b, err := json.Marshal(c.counter)
	return append([]byte{0x01, 0xff}, b...), err
}
func (c *binaryCounter) UnmarshalState(b []byte) error {
	if len(b) < 2 || b[0] != 0x01 {
		return fmt.Errorf("not a binary counter state")
	}
	return json.Unmarshal(b[2:], &c.counter)
}

func TestCheckpointOfANonJSONStateResumes(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	e, err := Open(s, codec, path, Options{}, newBinaryCounter)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		appendHappened(t, s, codec, fmt.Sprintf("s-%d", i%2), happened{Key: "k", N: 1})
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(s, codec, path, Options{}, newBinaryCounter)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if st := e.Status(ctx)[0]; st.Position != 5 || st.Failure != nil {
		t.Fatalf("status after reopen %+v, want position 5", st)
	}
	e.View("binary", func(p Projection) error {
		if got := p.(*binaryCounter).Streams; got["s-0"] != 3 || got["s-1"] != 2 {
			t.Fatalf("restored state %v", got)
		}
		return nil
	})
}

// TestAsOfKeepsASnapshotWhereItFoldedFar: a reading far from every
// snapshot leaves one behind, and the next reading there uses it.
func TestAsOfKeepsASnapshotWhereItFoldedFar(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{SnapshotEvery: 10}, newCounter)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i := 0; i < 300; i++ {
		appendHappened(t, s, codec, fmt.Sprintf("stream-%03d", i), happened{Key: "k", N: 1})
	}
	// Nothing was fed, so there is no snapshot yet.
	if _, _, _, ok := e.nearestSnapshot("counter", 1, 300); ok {
		t.Fatal("a snapshot exists before any reading")
	}
	if _, err := e.AsOf(ctx, "counter", 250); err != nil {
		t.Fatal(err)
	}
	e.WaitKept()
	at, _, _, ok := e.nearestSnapshot("counter", 1, 300)
	if !ok || at != 250 {
		t.Fatalf("after a far reading: snapshot at %d (%v), want 250", at, ok)
	}
	again, err := e.AsOf(ctx, "counter", 260)
	if err != nil {
		t.Fatal(err)
	}
	want := newCounter()
	if err := Fold(ctx, s, codec, want, 1, 260, nil); err != nil {
		t.Fatal(err)
	}
	gb, _ := again.MarshalState()
	wb, _ := want.MarshalState()
	if !bytes.Equal(gb, wb) {
		t.Fatalf("as of 260 from the kept snapshot: %s, want %s", gb, wb)
	}
}

// TestWaitForWakesOnFeed checks read-your-writes without polling: a
// WaitFor for a position not yet folded returns once the running engine
// has fed it, and the view then shows it; WaitFor says when no Run
// follows the log, and gives up with its context.
func TestWaitForWakesOnFeed(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 1})
	if err := e.WaitFor(ctx, 1); !errors.Is(err, ErrNotFollowing) {
		t.Fatalf("WaitFor with no Run: err=%v, want ErrNotFollowing", err)
	}
	if err := e.WaitFor(ctx, 0); err != nil {
		t.Fatalf("WaitFor(0): %v", err)
	}

	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- e.Run(runCtx) }()
	// Until Run has subscribed, WaitFor says no one follows the log.
	for errors.Is(e.WaitFor(ctx, 1), ErrNotFollowing) {
		if t.Context().Err() != nil {
			t.Fatal("Run never started following the log")
		}
		runtime.Gosched()
	}
	for i := 2; i <= 50; i++ {
		appendHappened(t, s, codec, "s", happened{Key: "a", N: 1})
		head, _ := s.Head(ctx)
		if err := e.WaitFor(ctx, head); err != nil {
			t.Fatalf("WaitFor(%d): %v", head, err)
		}
		var sum int
		pos, _ := e.View("tally", func(p Projection) error { sum = p.(*tally).Sums["a"]; return nil })
		if pos < head || sum != i {
			t.Fatalf("after WaitFor(%d): view at %d with sum %d, want %d", head, pos, sum, i)
		}
	}
	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.WaitFor(short, 1000); !errors.Is(err, context.Canceled) && !errors.Is(err, ErrNotFollowing) {
		t.Fatalf("WaitFor beyond the head with an ended context: err=%v", err)
	}
	stop()
	<-ran
	if err := e.WaitFor(ctx, 1000); !errors.Is(err, ErrNotFollowing) {
		t.Fatalf("WaitFor after Run stopped: err=%v, want ErrNotFollowing", err)
	}
}

// liveCounter is a counter that records whether the engine told it it is
// the live one (Live).
type liveCounter struct {
	counter
	live bool
}

func (c *liveCounter) Live() { c.live = true }

// TestEngineTellsTheRestoredStateItIsLive: a projection the engine keeps
// up to date is told it is the live one, whether folded from empty or
// restored from its checkpoint; a state the engine folds for a past
// reading is not.
func TestEngineTellsTheRestoredStateItIsLive(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	factory := func() Projection { return &liveCounter{counter: counter{Streams: map[string]int{}}} }
	e, err := Open(s, codec, path, Options{SnapshotEvery: 5}, factory)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 12; i++ {
		appendHappened(t, s, codec, "s", happened{Key: "a", N: i})
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	isLive := func(e *Engine) bool {
		var live bool
		e.View("counter", func(p Projection) error { live = p.(*liveCounter).live; return nil })
		return live
	}
	if !isLive(e) {
		t.Error("the state folded from empty and kept up to date was not told it is the live one")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(s, codec, path, Options{SnapshotEvery: 5}, factory)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !isLive(e) {
		t.Error("the state restored from the checkpoint was not told it is the live one")
	}
	past, err := e.AsOf(ctx, "counter", 7)
	if err != nil {
		t.Fatal(err)
	}
	if past.(*liveCounter).live {
		t.Error("a state folded for a past reading was told it is the live one")
	}
}
