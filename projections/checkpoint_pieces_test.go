package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/memory"
)

// sized is a projection whose state is its last position followed by as
// many patterned bytes as the last event's n: its state grows and shrinks
// with the events it folds. UnmarshalState refuses any bytes but the ones
// MarshalState gives, and says it read them (restored).
type sized struct {
	last     uint64
	size     int
	restored bool
}

func newSized() Projection { return &sized{} }

func (p *sized) Name() string { return "sized" }
func (p *sized) Version() int { return 1 }
func (p *sized) Apply(m domain.Message) error {
	if e, ok := m.Event.(happened); ok {
		p.size = e.N
	}
	p.last = m.Position
	return nil
}

func (p *sized) MarshalState() ([]byte, error) {
	out := binary.BigEndian.AppendUint64(make([]byte, 0, 8+p.size), p.last)
	for i := range p.size {
		out = append(out, byte(i*7)+byte(p.last))
	}
	return out, nil
}

func (p *sized) UnmarshalState(b []byte) error {
	if len(b) < 8 {
		return errors.New("sized: a state of fewer than 8 bytes")
	}
	p.last, p.size = binary.BigEndian.Uint64(b), len(b)-8
	if want, _ := p.MarshalState(); !bytes.Equal(want, b) {
		return errors.New("sized: the state read back is not the one stored")
	}
	p.restored = true
	return nil
}

// storedLayout is how a checkpoint sits in the database: whole (one
// value), or in pieces in the generation its generation key names, with
// the sizes of its pieces in order, and whether the other generation is
// there too.
type storedLayout struct {
	whole  bool
	gen    string
	pieces []int
	spare  bool
}

func layoutOf(t *testing.T, db *bolt.DB, name string) storedLayout {
	t.Helper()
	var l storedLayout
	if err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCheckpoints).Bucket([]byte(name))
		if b == nil {
			return errors.New("no checkpoint bucket")
		}
		l.whole = b.Get(stateKey) != nil
		l.gen = string(b.Get(genKey))
		for _, g := range pieceGens {
			pb := b.Bucket(g)
			switch {
			case pb == nil:
			case string(g) == l.gen:
				if err := pb.ForEach(func(k, _ []byte) error {
					piece, _, _ := getState(pb, k)
					l.pieces = append(l.pieces, len(piece))
					return nil
				}); err != nil {
					return err
				}
			default:
				l.spare = true
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return l
}

// warnings is a slog handler that keeps the messages of warnings.
type warnings struct{ msgs *[]string }

func (w warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w warnings) Handle(_ context.Context, r slog.Record) error {
	*w.msgs = append(*w.msgs, r.Message)
	return nil
}
func (w warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w warnings) WithGroup(string) slog.Handler      { return w }

// readBack reopens the engine on path and returns the sized projection as
// read back, before any event is folded, and the warnings logged.
func readBack(t *testing.T, s eventstore.Store, codec *domain.Codec, path string) (sized, []string) {
	t.Helper()
	var msgs []string
	e, err := Open(s, codec, path, Options{Logger: slog.New(warnings{&msgs})}, newSized)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var got sized
	if _, err := e.View("sized", func(p Projection) error { got = *p.(*sized); return nil }); err != nil {
		t.Fatal(err)
	}
	return got, msgs
}

// TestLargeCheckpointsAreStoredInPieces: a state larger than
// checkpointPieceBytes is stored in pieces of at most that size, in the
// generation the one before it did not use; a smaller one is stored
// whole; either way nothing of the layout before is left, and the state
// is read back exactly on reopening.
func TestLargeCheckpointsAreStoredInPieces(t *testing.T) {
	defer func(n int) { checkpointPieceBytes = n }(checkpointPieceBytes)
	checkpointPieceBytes = 100
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	// Each step: the state's patterned bytes (the state is 8 more), and
	// the layout the rules give it.
	steps := []struct {
		n      int
		gen    string // "" when stored whole
		pieces int
	}{
		{n: 1000, gen: "p0", pieces: 11}, // 1008 bytes
		{n: 1500, gen: "p1", pieces: 16}, // 1508
		{n: 1592, gen: "p0", pieces: 16}, // 1600: whole pieces only
		{n: 50, gen: ""},                 // 58: whole
		{n: 92, gen: ""},                 // 100: exactly the bound, whole
		{n: 93, gen: "p0", pieces: 2},    // 101
	}
	for i, st := range steps {
		appendHappened(t, s, codec, "s", happened{Key: "a", N: st.n})
		var got storedLayout
		catchUpAndClose(t, s, codec, path, newSized, func(e *Engine) { got = layoutOf(t, e.db, "sized") })
		size := 8 + st.n
		if st.gen == "" {
			if !got.whole || got.gen != "" || len(got.pieces) != 0 || got.spare {
				t.Fatalf("step %d: a state of %d bytes stored as %+v, want whole and nothing else", i, size, got)
			}
		} else {
			if got.whole || got.gen != st.gen || len(got.pieces) != st.pieces || got.spare {
				t.Fatalf("step %d: a state of %d bytes stored as %+v, want %d pieces in %s and nothing else", i, size, got, st.pieces, st.gen)
			}
			total := 0
			for _, n := range got.pieces {
				if n > checkpointPieceBytes {
					t.Fatalf("step %d: a piece of %d bytes, more than %d", i, n, checkpointPieceBytes)
				}
				total += n
			}
			if total != size {
				t.Fatalf("step %d: pieces of %d bytes in all, want %d", i, total, size)
			}
		}
		back, warned := readBack(t, s, codec, path)
		if !back.restored || back.last != uint64(i+1) || back.size != st.n || len(warned) > 0 {
			t.Fatalf("step %d: read back %+v (warnings %v), want the state at position %d with %d bytes", i, back, warned, i+1, st.n)
		}
	}
}

// TestACrashAmongPiecesKeepsTheCheckpointBefore: pieces written without
// the transaction that names them (a crash between the two) are never
// read: the checkpoint before is, and the next checkpoint in pieces
// replaces them. Pieces of a first checkpoint never stored are no
// checkpoint at all (no warning: the projection folds from zero).
func TestACrashAmongPiecesKeepsTheCheckpointBefore(t *testing.T) {
	defer func(n int) { checkpointPieceBytes = n }(checkpointPieceBytes)
	checkpointPieceBytes = 100
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")

	// Pieces of a first checkpoint, and no header.
	strayPieces := func(gen string, n int) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error {
			cps, err := tx.CreateBucketIfNotExists(bucketCheckpoints)
			if err != nil {
				return err
			}
			b, err := cps.CreateBucketIfNotExists([]byte("sized"))
			if err != nil {
				return err
			}
			pb, err := b.CreateBucketIfNotExists([]byte(gen))
			if err != nil {
				return err
			}
			for i := range n {
				if err := putState(pb, pieceKey(i), []byte(strings.Repeat("x", 100))); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	strayPieces("p0", 3)
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 500})
	back, warned := readBack(t, s, codec, path)
	if back.restored || len(warned) > 0 {
		t.Fatalf("pieces without a header read back as %+v (warnings %v), want no checkpoint", back, warned)
	}

	catchUpAndClose(t, s, codec, path, newSized, nil)
	// 508 bytes: 6 pieces, in p0, since no generation is named yet; the
	// three stray pieces there are replaced.
	if got := layoutIn(t, path, "sized"); got.gen != "p0" || len(got.pieces) != 6 || got.spare {
		t.Fatalf("the first checkpoint stored as %+v, want 6 pieces in p0, the stray ones replaced", got)
	}

	// A crash while the next checkpoint's pieces were written: thirty
	// pieces in the spare generation, p1, and the header unchanged.
	strayPieces("p1", 30)
	back, warned = readBack(t, s, codec, path)
	if !back.restored || back.last != 1 || back.size != 500 || len(warned) > 0 {
		t.Fatalf("after a crash among pieces, read back %+v (warnings %v), want the checkpoint before: position 1, 500 bytes", back, warned)
	}

	appendHappened(t, s, codec, "s", happened{Key: "a", N: 300})
	catchUpAndClose(t, s, codec, path, newSized, nil)
	if got := layoutIn(t, path, "sized"); got.gen != "p1" || len(got.pieces) != 4 || got.spare {
		t.Fatalf("the next checkpoint stored as %+v, want 4 pieces in p1 (the stray ones replaced) and p0 gone", got)
	}
	back, _ = readBack(t, s, codec, path)
	if !back.restored || back.last != 2 || back.size != 300 {
		t.Fatalf("read back %+v, want position 2, 300 bytes", back)
	}
}

// layoutIn is layoutOf read from the closed database at path.
func layoutIn(t *testing.T, path, name string) storedLayout {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return layoutOf(t, db, name)
}

// TestTheLastCheckpointOfABatchIsStored: when one transaction stores two
// checkpoints of a projection, one large and one small in either order,
// the later one is the checkpoint.
func TestTheLastCheckpointOfABatchIsStored(t *testing.T) {
	defer func(n int) { checkpointPieceBytes = n }(checkpointPieceBytes)
	checkpointPieceBytes = 100
	large := bytes.Repeat([]byte("L"), 450)
	small := []byte("small")
	for _, order := range [][2][]byte{{large, small}, {small, large}} {
		e, err := Open(memory.New(memory.Options{}), &domain.Codec{}, filepath.Join(t.TempDir(), "p.db"), Options{}, newSized)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.writeWait(pendingWrite{cps: []cpWrite{
			{name: "sized", version: 1, pos: 1, state: order[0]},
			{name: "sized", version: 1, pos: 2, state: order[1]},
		}}); err != nil {
			t.Fatalf("storing %d then %d bytes: %v", len(order[0]), len(order[1]), err)
		}
		if err := e.db.View(func(tx *bolt.Tx) error {
			cp, ok, err := getCheckpoint(tx.Bucket(bucketCheckpoints), []byte("sized"))
			size := stateBytes(cp.State, cp.Pieces)
			if cp.Pieces != nil {
				cp.State = joinPieces(cp.Pieces)
			}
			if err != nil || !ok || cp.Position != 2 || size != len(order[1]) || !bytes.Equal(cp.State, order[1]) {
				t.Errorf("storing %d then %d bytes gave position %d and %d bytes (%v, %v), want the second", len(order[0]), len(order[1]), cp.Position, len(cp.State), ok, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// piecewise is sized read back from its pieces as they are stored
// (PiecesUnmarshaler), counting them.
type piecewise struct {
	sized
	pieces int
}

func (p *piecewise) UnmarshalPieces(pieces [][]byte) error {
	p.pieces = len(pieces)
	return p.UnmarshalState(joinPieces(pieces))
}

// TestAProjectionReadsItsPiecesAsStored: a projection that reads pieces
// is given the checkpoint's pieces, not the state joined.
func TestAProjectionReadsItsPiecesAsStored(t *testing.T) {
	defer func(n int) { checkpointPieceBytes = n }(checkpointPieceBytes)
	checkpointPieceBytes = 100
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	factory := func() Projection { return &piecewise{} }
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 1000})
	for _, want := range []int{0, 11} { // folded, then read back from 1008 bytes
		var got piecewise
		catchUpAndClose(t, s, codec, path, factory, func(e *Engine) {
			if _, err := e.View("sized", func(p Projection) error { got = *p.(*piecewise); return nil }); err != nil {
				t.Fatal(err)
			}
		})
		if got.pieces != want || got.size != 1000 || got.last != 1 {
			t.Fatalf("read %d pieces into a state of %d bytes at %d, want %d pieces, 1000 bytes at 1", got.pieces, got.size, got.last, want)
		}
	}
}

// catchUpAndClose opens the engine on path with one projection, catches
// it up (which checkpoints it), calls look if not nil, and closes it.
func catchUpAndClose(t *testing.T, s eventstore.Store, codec *domain.Codec, path string, f Factory, look func(*Engine)) {
	t.Helper()
	e, err := Open(s, codec, path, Options{}, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if look != nil {
		look(e)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}
