package projections

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore/memory"
)

// crash ends e as a killed process would after its last commit: what the
// writer was handed is stored, no final checkpoint is written.
func crash(t *testing.T, e *Engine) {
	t.Helper()
	e.closed.Store(true)
	e.stopWriter()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreFromALaterSnapshot: a replay writes no checkpoint beside its
// snapshots, so after a crash the engine resumes from the latest snapshot
// (past the checkpoint), neither reprocessing nor skipping an event.
func TestRestoreFromALaterSnapshot(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	opts := Options{SnapshotEvery: 10, CheckpointEvery: 1 << 20}
	e, err := Open(s, codec, path, opts, newTally)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 37 {
		appendHappened(t, s, codec, "s", happened{Key: fmt.Sprint(i % 3), N: i})
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	// CatchUp ended with a checkpoint at 37; the batch after it only
	// snapshots (at 40, 50 and 60).
	for i := range 25 {
		appendHappened(t, s, codec, "s", happened{Key: "late", N: i})
	}
	recs, err := s.ReadAll(ctx, 38, 100)
	if err != nil {
		t.Fatal(err)
	}
	e.feedBatch(recs)
	crash(t, e)

	e, err = Open(s, codec, path, opts, newTally)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// The last snapshot at or before 62 on a multiple of 10 is 60.
	if st := e.Status(ctx)[0]; st.Position != 60 {
		t.Fatalf("restored at %d, want 60 (the latest snapshot, past the checkpoint at 37)", st.Position)
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var live []byte
	e.View("tally", func(p Projection) error { live, _ = p.MarshalState(); return nil })
	if want := fromZero(t, s, codec, 62); !bytes.Equal(live, want) {
		t.Fatalf("after resuming: %s, from zero %s", live, want)
	}
}

// tallyV2 is tally after a change of its fold: version 2.
type tallyV2 struct{ tally }

func newTallyV2() Projection    { return &tallyV2{tally{Sums: map[string]int{}}} }
func (t *tallyV2) Version() int { return 2 }

// TestNewVersionDropsOldSnapshots: the snapshots a former version stored
// are dropped when a new version opens, so neither a restart nor an "as
// of" reading takes one of them for the new version's.
func TestNewVersionDropsOldSnapshots(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	opts := Options{SnapshotEvery: 5}
	e, err := Open(s, codec, path, opts, newTally)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		appendHappened(t, s, codec, "s", happened{Key: "a", N: i})
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(s, codec, path, opts, newTallyV2)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if st := e.Status(ctx)[0]; st.Position != 0 {
		t.Fatalf("version 2 restored at %d, want 0 (rebuilt)", st.Position)
	}
	e.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSnapshots).Bucket([]byte("tally")) != nil {
			t.Error("version 1's snapshots are still stored")
		}
		return nil
	})
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := e.AsOf(ctx, "tally", 17)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := p.MarshalState()
	if want := fromZero(t, s, codec, 17); !bytes.Equal(got, want) {
		t.Fatalf("as of 17: %s, from zero %s", got, want)
	}
}

// TestRetiredProjectionsAreDropped: what is stored of a projection named
// retired (its checkpoint and its snapshots) is gone once the engine
// opens; the projections still kept are restored as they were.
func TestRetiredProjectionsAreDropped(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	e, err := Open(s, codec, path, Options{SnapshotEvery: 5}, newTally, newCounter)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		appendHappened(t, s, codec, "s", happened{Key: "a", N: i})
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	stored := func(db *bolt.DB, name string) (cp, snaps bool) {
		db.View(func(tx *bolt.Tx) error {
			_, cp, _ = getCheckpoint(tx.Bucket(bucketCheckpoints), []byte(name))
			snaps = tx.Bucket(bucketSnapshots).Bucket([]byte(name)) != nil
			return nil
		})
		return cp, snaps
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cp, snaps := stored(db, "counter"); !cp && !snaps {
		t.Fatal("the counter stored nothing to retire")
	}
	db.Close()
	e, err = Open(s, codec, path, Options{SnapshotEvery: 5, Retired: []string{"counter"}}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if cp, snaps := stored(e.db, "counter"); cp || snaps {
		t.Errorf("the retired counter: checkpoint %v, snapshots %v; want neither", cp, snaps)
	}
	if cp, snaps := stored(e.db, "tally"); !cp && !snaps {
		t.Error("the kept tally lost what it stored")
	}
	if st := e.Status(ctx)[0]; st.Name != "tally" || st.Position != 30 {
		t.Errorf("tally restored at %d, want 30", st.Position)
	}
}

// TestStatesStoredAsPlainValuesStillRead: checkpoints and snapshots that
// earlier versions stored as plain values (not in a bucket of their own)
// are restored and read "as of", and are replaced when written again.
func TestStatesStoredAsPlainValuesStillRead(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	for i := range 20 {
		appendHappened(t, s, codec, "s", happened{Key: "a", N: i})
	}
	at := func(pos uint64) []byte {
		p := newTally()
		if err := Fold(ctx, s, codec, p, 1, pos, nil); err != nil {
			t.Fatal(err)
		}
		b, _ := p.MarshalState()
		return b
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		cps, err := tx.CreateBucketIfNotExists(bucketCheckpoints)
		if err != nil {
			return err
		}
		if err := cps.Put([]byte("tally"), encodeCheckpoint(checkpoint{Version: 1, Position: 15, State: at(15)})); err != nil {
			return err
		}
		snaps, err := tx.CreateBucketIfNotExists(bucketSnapshots)
		if err != nil {
			return err
		}
		b, err := snaps.CreateBucketIfNotExists([]byte("tally"))
		if err != nil {
			return err
		}
		if err := b.Put([]byte("version"), []byte("1")); err != nil {
			return err
		}
		return b.Put(posKey(10), at(10))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	e, err := Open(s, codec, path, Options{SnapshotEvery: 1000}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Status(ctx)[0]; st.Position != 15 {
		t.Fatalf("restored at %d, want 15 (the plain checkpoint)", st.Position)
	}
	if at, _, _, ok := e.nearestSnapshot("tally", 1, 12); !ok || at != 10 {
		t.Fatalf("nearest snapshot to 12: %d (%v), want the plain one at 10", at, ok)
	}
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(s, codec, path, Options{SnapshotEvery: 1000}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var live []byte
	e.View("tally", func(p Projection) error { live, _ = p.MarshalState(); return nil })
	if st := e.Status(ctx)[0]; st.Position != 20 || !bytes.Equal(live, at(20)) {
		t.Fatalf("after rewriting the checkpoint: at %d %s, want 20 %s", st.Position, live, at(20))
	}
}

// TestCheckpointAfterCloseIsAnError: a checkpoint asked for after Close
// (a Run that outlived it) is refused with an error, not a panic.
func TestCheckpointAfterCloseIsAnError(t *testing.T) {
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{}, newTally)
	if err != nil {
		t.Fatal(err)
	}
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 1})
	if err := e.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.checkpointMany([]string{"tally"}); err == nil {
		t.Fatal("a checkpoint after Close succeeded")
	}
	e.snapshotMany([]string{"tally"})
}
