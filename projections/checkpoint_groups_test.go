package projections

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore/memory"
)

// bulky is a projection whose state is size bytes, whatever it folds.
type bulky struct {
	name string
	size int
	last uint64
}

func (b *bulky) Name() string                     { return b.name }
func (b *bulky) Version() int                     { return 1 }
func (b *bulky) Apply(m domain.Message) error     { b.last = m.Position; return nil }
func (b *bulky) UnmarshalState(data []byte) error { b.size = len(data); return nil }
func (b *bulky) MarshalState() ([]byte, error) {
	return []byte(fmt.Sprintf("%d%s", b.last, strings.Repeat(" ", b.size))), nil
}

// TestCheckpointsAreStoredInBoundedGroups: the first checkpoint after a
// replay from zero (no state's size known yet) stores the states in
// groups of at most checkpointGroupBytes, a larger state alone, never all
// at once; every state is stored exactly once, and each is read back on
// reopening.
func TestCheckpointsAreStoredInBoundedGroups(t *testing.T) {
	defer func(n int) { checkpointGroupBytes = n }(checkpointGroupBytes)
	checkpointGroupBytes = 64 << 10
	sizes := []int{40 << 10, 30 << 10, 5 << 10, 90 << 10, 1 << 10, 20 << 10}
	var factories []Factory
	total := 0
	for i, n := range sizes {
		name := fmt.Sprintf("bulky-%d", i)
		factories = append(factories, func() Projection { return &bulky{name: name, size: n} })
		total += n
	}
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	path := filepath.Join(t.TempDir(), "p.db")
	e, err := Open(s, codec, path, Options{}, factories...)
	if err != nil {
		t.Fatal(err)
	}
	appendHappened(t, s, codec, "s", happened{Key: "a", N: 1})
	stored, groups := 0, 0
	e.storing = func(states [][]byte) {
		groups++
		bytes := 0
		for _, st := range states {
			bytes += len(st)
			stored++
		}
		if len(states) > 1 && bytes > checkpointGroupBytes {
			t.Errorf("a group of %d states holds %d bytes, more than %d", len(states), bytes, checkpointGroupBytes)
		}
	}
	// The replay from zero ends with the first checkpoint of every state.
	if err := e.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	if stored != len(sizes) {
		t.Fatalf("%d states stored, want each of %d once", stored, len(sizes))
	}
	if groups < 2 || total <= checkpointGroupBytes {
		t.Fatalf("%d groups for %d bytes of states", groups, total)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = Open(s, codec, path, Options{}, factories...)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i, n := range sizes {
		name := fmt.Sprintf("bulky-%d", i)
		if _, err := e.View(name, func(p Projection) error {
			if got := p.(*bulky).size; got != n+1 {
				return fmt.Errorf("%s read back %d bytes, want %d", name, got, n+1)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
