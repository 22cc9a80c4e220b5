package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// seen keeps what order keeps, each entry with the position of its event,
// so that its state as of a past position is looked up (Versioned) or
// read in place (Lensed). It folds every event.
type seen struct {
	P    []uint64 `json:"p"`
	Seen []string `json:"seen"`
	// lens marks a state read in place: P and Seen are the live ones,
	// read up to at.
	lens bool
	at   uint64
}

func (*seen) Name() string { return "seen" }
func (*seen) Version() int { return 1 }
func (s *seen) Apply(m domain.Message) error {
	if s.lens {
		return errors.New("seen: a state read in place is not folded")
	}
	s.P = append(s.P, m.Position)
	s.Seen = append(s.Seen, orderEntry(m))
	return nil
}

// upTo returns the entries of positions up to pos, sharing s's arrays.
func (s *seen) upTo(pos uint64) seen {
	n := sort.Search(len(s.P), func(i int) bool { return s.P[i] > pos })
	if n == 0 {
		return seen{}
	}
	return seen{P: s.P[:n:n], Seen: s.Seen[:n:n]}
}

func (s *seen) state() seen {
	if s.lens {
		return s.upTo(s.at)
	}
	return *s
}

func (s *seen) At(pos uint64) Projection {
	st := s.state()
	past := st.upTo(pos)
	return &past
}
func (s *seen) Lens(pos uint64) Projection { return &seen{P: s.P, Seen: s.Seen, lens: true, at: pos} }
func (s *seen) MarshalState() ([]byte, error) {
	st := s.state()
	return json.Marshal(&st)
}
func (s *seen) UnmarshalState(b []byte) error { *s = seen{}; return json.Unmarshal(b, s) }

// seenIn is seen folding only the events of stream s-0 (Selective:
// others leave it as it was).
type seenIn struct{ seen }

func (s *seenIn) Apply(m domain.Message) error {
	if !s.Wants(m.Type, m.Stream) {
		return nil
	}
	return s.seen.Apply(m)
}

func (*seenIn) Name() string                    { return "seen-s0" }
func (*seenIn) Wants(_, stream string) bool     { return stream == "s-0" }
func (s *seenIn) At(pos uint64) Projection      { return &seenIn{*s.seen.At(pos).(*seen)} }
func (s *seenIn) Lens(pos uint64) Projection    { return &seenIn{*s.seen.Lens(pos).(*seen)} }
func (s *seenIn) UnmarshalState(b []byte) error { return s.seen.UnmarshalState(b) }

// A reading as corrected now reads in place (AsCorrectedRead) a
// projection that can be read so and folds none of the events after the
// start of the log kept whole, and folds the others: at every moment of
// random histories with corrections, each projection, read in place or
// folded, is the fold from zero; a projection that cannot be read in
// place is always folded, and both ways are taken.
func TestEngineAsCorrectedReadsInPlaceWhatFoldsNothingMore(t *testing.T) {
	ctx := context.Background()
	names := []string{"facts", "seen", "seen-s0"}
	lensed, folded := map[string]int{}, map[string]int{}
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 0xbeef))
		h := randomHistoryIn(t, rng, seed%3 != 0)
		factories := []Factory{func() Projection { return &facts{F: map[uuid.UUID]fact{}} },
			func() Projection { return &seen{} }, func() Projection { return &seenIn{} }}
		if seed%2 == 0 {
			factories = append(factories, func() Projection { return &timeline{} })
		}
		e := caughtUpEngine(t, h, rng, factories)
		for _, at := range h.moments() {
			want := []Projection{&facts{F: map[uuid.UUID]fact{}}, &seen{}, &seenIn{}}
			wantPos, err := FoldCorrectedAll(ctx, h.store, h.codec, want, at)
			if err != nil {
				t.Fatal(err)
			}
			rd, err := e.AsCorrectedRead(ctx, names, at)
			if err != nil {
				t.Fatal(err)
			}
			if rd.Head != wantPos {
				t.Fatalf("seed %d, at %s: position %d, want %d", seed, at.Format(time.RFC3339Nano), rd.Head, wantPos)
			}
			for i, name := range names {
				var got []byte
				if rd.Lensed[name] {
					lensed[name]++
					if _, folded := rd.States[name]; folded {
						t.Fatalf("seed %d: %s both read in place and folded", seed, name)
					}
					done, err := e.ViewPast(name, rd.At, func(p Projection) error {
						var err error
						got, err = p.MarshalState()
						return err
					})
					if err != nil || !done {
						t.Fatalf("seed %d: %s not read in place at %d: %v", seed, name, rd.At, err)
					}
				} else {
					folded[name]++
					if got, err = rd.States[name].MarshalState(); err != nil {
						t.Fatal(err)
					}
				}
				if w, _ := want[i].MarshalState(); string(got) != string(w) {
					t.Fatalf("seed %d, at %s: %s (read in place: %v)\n got %s\nwant %s", seed, at.Format(time.RFC3339Nano), name, rd.Lensed[name], got, w)
				}
			}
		}
		e.Close()
	}
	if lensed["facts"] > 0 {
		t.Fatal("facts, which cannot be read in place, was")
	}
	for _, name := range names[1:] {
		if lensed[name] == 0 || folded[name] == 0 {
			t.Errorf("%s: read in place %d times, folded %d: both ways should be taken", name, lensed[name], folded[name])
		}
	}
	if lensed["seen-s0"] <= lensed["seen"] {
		t.Errorf("seen-s0, which folds one stream, read in place %d times, no more than seen (%d)", lensed["seen-s0"], lensed["seen"])
	}
	t.Log(fmt.Sprint("read in place ", lensed, ", folded ", folded))
}

// lendingSeen is seen whose lens gives back, once read, what it took for
// the reading (Releaser): released counts the lenses given back.
type lendingSeen struct {
	seen
	released *int
}

func (*lendingSeen) Name() string { return "lending" }
func (s *lendingSeen) Lens(pos uint64) Projection {
	return &lendingSeen{seen: *s.seen.Lens(pos).(*seen), released: s.released}
}
func (s *lendingSeen) Release() { *s.released++ }

// TestViewPastReleasesTheLensOnceRead: a lens that gives back what it
// took is given back once its reader has returned, never while it reads,
// and also when the reader fails (whose error ViewPast returns).
func TestViewPastReleasesTheLensOnceRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	h := randomHistoryIn(t, rng, false)
	released := 0
	e := caughtUpEngine(t, h, rng, []Factory{func() Projection { return &lendingSeen{released: &released} }})
	defer e.Close()
	head, err := h.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	failed := errors.New("the reader failed")
	for _, fail := range []bool{false, true} {
		before := released
		done, err := e.ViewPast("lending", head/2, func(p Projection) error {
			if released != before {
				t.Error("the lens was given back while it was read")
			}
			if st, _ := p.MarshalState(); len(st) == 0 {
				t.Error("the lens saves nothing")
			}
			if fail {
				return failed
			}
			return nil
		})
		if !done || (fail && !errors.Is(err, failed)) || (!fail && err != nil) {
			t.Fatalf("ViewPast: done %v, err %v", done, err)
		}
		if released != before+1 {
			t.Fatalf("the lens was given back %d times once read, want once", released-before)
		}
	}
}
