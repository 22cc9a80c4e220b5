package views

import (
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/projections"
)

// stateView is the part of a view that is the same for every view whose
// state is one document: its name and version, and saving and restoring
// its state (in the binary state codec, statecodec.go). A view embeds it
// and adds Apply and its queries, which reach the state as v.state.
type stateView[S any] struct {
	name    string
	version int
	fresh   func() S
	state   S
	// size is the last saved state's length (read and written
	// atomically: saving runs under the engine's read lock), so the next
	// one is allocated once.
	size int64
}

// newStateView returns a stateView holding fresh's empty state.
func newStateView[S any](name string, version int, fresh func() S) stateView[S] {
	return stateView[S]{name: name, version: version, fresh: fresh, state: fresh()}
}

// reading returns a view of v's name, version and empty state holding
// state: a state read in the past in place (a lens).
func (v *stateView[S]) reading(state S) stateView[S] {
	return stateView[S]{name: v.name, version: v.version, fresh: v.fresh, state: state}
}

// saved is MarshalState for a view that may be a lens: a lens (lensed)
// saves the state as of its position at, as past (the view's At) gives
// it, which is what folding events 1..at saves.
func (v *stateView[S]) saved(lensed bool, at uint64, past func(uint64) projections.Projection) ([]byte, error) {
	if !lensed {
		return v.MarshalState()
	}
	return past(at).MarshalState()
}

// Name implements projections.Projection.
func (v *stateView[S]) Name() string { return v.name }

// Version implements projections.Projection.
func (v *stateView[S]) Version() int { return v.version }

// MarshalState implements projections.Projection.
func (v *stateView[S]) MarshalState() ([]byte, error) {
	b, err := encodeState(&v.state, int(atomic.LoadInt64(&v.size)))
	atomic.StoreInt64(&v.size, int64(len(b)))
	return b, err
}

// UnmarshalState implements projections.Projection: the state read
// replaces the whole state (maps left empty by the document are fresh).
func (v *stateView[S]) UnmarshalState(b []byte) error {
	s := v.fresh()
	if err := decodeState(b, &s); err != nil {
		return err
	}
	if r, ok := any(&s).(stateRestorer); ok {
		if err := r.restore(); err != nil {
			return err
		}
	}
	v.state = s
	return nil
}

// stateRestorer is a state that works out what it does not save (the
// current versions of its rows, the names they give) once it is read.
type stateRestorer interface {
	restore() error
}

// applyByID folds m into the aggregate of id in aggs, creating it with
// fresh the first time: the partnership views keep the domain's own
// aggregates, one per id, rebuilt by the domain's Apply.
func applyByID[A interface{ Apply(domain.Message) }](aggs map[uuid.UUID]A, id uuid.UUID, m domain.Message, fresh func() A) {
	a, ok := aggs[id]
	if !ok {
		a = fresh()
		aggs[id] = a
	}
	a.Apply(m)
}
