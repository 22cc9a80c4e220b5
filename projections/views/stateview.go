package views

// stateView is the part of a view that is the same for every view whose
// state is one JSON document: its name and version, and saving and
// restoring its state. A view embeds it and adds Apply and its queries,
// which reach the state as v.state.
type stateView[S any] struct {
	name    string
	version int
	fresh   func() S
	state   S
}

// newStateView returns a stateView holding fresh's empty state.
func newStateView[S any](name string, version int, fresh func() S) stateView[S] {
	return stateView[S]{name: name, version: version, fresh: fresh, state: fresh()}
}

// Name implements projections.Projection.
func (v *stateView[S]) Name() string { return v.name }

// Version implements projections.Projection.
func (v *stateView[S]) Version() int { return v.version }

// MarshalState implements projections.Projection.
func (v *stateView[S]) MarshalState() ([]byte, error) { return marshalState(v.state) }

// UnmarshalState implements projections.Projection: the state read
// replaces the whole state (maps left empty by the document are fresh).
func (v *stateView[S]) UnmarshalState(b []byte) error {
	s := v.fresh()
	if err := unmarshalState(b, &s); err != nil {
		return err
	}
	v.state = s
	return nil
}
