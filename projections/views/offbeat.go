package views

import (
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewOffbeats() }) }

// OffbeatView is the name of the offbeat view.
const OffbeatView = "offbeat"

// Offbeats is the "offbeat" view: the few events that took effect at
// another time than they were recorded (a membership from 1 September
// entered in October) and the positions of the corrections. With it the
// engine reads the ledger as corrected now at a moment by seeking (see
// projections.Timeline) instead of reading the whole log.
type Offbeats struct {
	stateView[offbeatState]
}

type offbeatState struct {
	Offbeat     []projections.Offbeat `json:"offbeat"`
	Corrections []uint64              `json:"corrections"`
}

var _ projections.Timeline = (*Offbeats)(nil)

// NewOffbeats returns an empty "offbeat" view.
func NewOffbeats() *Offbeats {
	return &Offbeats{newStateView(OffbeatView, 1, func() offbeatState {
		return offbeatState{Offbeat: []projections.Offbeat{}, Corrections: []uint64{}}
	})}
}

// Apply implements projections.Projection.
func (v *Offbeats) Apply(m domain.Message) error {
	if eff := m.Meta.EffectiveAt; !eff.IsZero() && !eff.Equal(m.RecordedAt) {
		v.state.Offbeat = append(v.state.Offbeat, projections.Offbeat{Position: m.Position, Effective: eff.UTC()})
	}
	if m.Type == "EventCorrected" {
		v.state.Corrections = append(v.state.Corrections, m.Position)
	}
	return nil
}

// Offbeat implements projections.Timeline.
func (v *Offbeats) Offbeat() []projections.Offbeat { return v.state.Offbeat }

// Corrections implements projections.Timeline.
func (v *Offbeats) Corrections() []uint64 { return v.state.Corrections }
