package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// EventCorrected records that an earlier event of the same record was
// wrong. Nothing is changed in place: readers that want "as corrected now"
// read the corrected event with Replacement's data (or not at all when
// Retracted) from EffectiveFrom; readers that want "as known then" ignore
// corrections recorded after their moment.
type EventCorrected struct {
	Corrects      uuid.UUID       `json:"corrects" doc:"Id of the event being corrected; it is in the same stream."`
	CorrectsType  string          `json:"corrects_type" doc:"Type of the corrected event."`
	Replacement   json.RawMessage `json:"replacement,omitempty" doc:"The corrected event's data, in its current schema; absent when retracted."`
	Retracted     bool            `json:"retracted,omitempty" doc:"True when the corrected event should not have been recorded at all."`
	Reason        string          `json:"reason" doc:"Why the correction is made."`
	EffectiveFrom time.Time       `json:"effective_from" doc:"From when the correction takes effect."`
	// ChangedAfterDecision marks corrections to something already decided
	// (a proposal decision, an election result).
	ChangedAfterDecision bool `json:"changed_after_decision" doc:"True when the record had already been decided; views mark it \"changed after decision\"."`
}

// EventType implements Event.
func (EventCorrected) EventType() string { return "EventCorrected" }

// Decided is implemented by aggregates that can be decided (a proposal, an
// election); a correction recorded once Decided is true is marked
// "changed after decision".
type Decided interface {
	Decided() bool
}

// Rules of corrections.
var (
	// ErrCorrectionReason is returned when a correction gives no reason.
	ErrCorrectionReason = NewRule("correction-reason", KindInvalid, "A correction needs a reason",
		"A correction must say why the original was wrong.")
)

func init() {
	MustRegister[EventCorrected](Spec{
		Type: "EventCorrected", Schema: 1, Group: "system",
		Doc:       "An earlier event of the same record was wrong: its corrected data (or its retraction), why, and from when the correction takes effect. The original stays in the log.",
		EmittedBy: []string{"CorrectEvent"},
	})
}

// Correction is the command to correct an earlier event of a stream.
type Correction struct {
	// EventID is the event to correct.
	EventID uuid.UUID
	// Replacement is the corrected event (same type), or nil to retract.
	Replacement Event
	// Reason is required.
	Reason string
	// EffectiveFrom defaults to the corrected event's effective time.
	EffectiveFrom time.Time
}

// Correct records an EventCorrected in stream. Returns ErrCorrectionTarget
// if the event is not in the stream or is itself a correction, or the
// replacement's type differs; ErrCorrectionReason without a reason.
func Correct[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A, meta Meta, c Correction) (Result, error) {
	if c.Reason == "" {
		return Result{}, RejectField(ErrCorrectionReason, "reason", "say why the event is being corrected")
	}
	recs, err := h.Log.ReadStream(ctx, stream)
	if err != nil {
		return Result{}, fmt.Errorf("read %s: %w", stream, err)
	}
	var target *Recorded
	for i := range recs {
		if recs[i].ID == c.EventID {
			target = &recs[i]
		}
	}
	if target == nil || target.Type == "EventCorrected" {
		return Result{}, RejectField(ErrCorrectionTarget, "event_id", "event %s is not a correctable event of %s", c.EventID, stream)
	}
	ev := EventCorrected{Corrects: c.EventID, CorrectsType: target.Type, Reason: c.Reason, EffectiveFrom: c.EffectiveFrom}
	if ev.EffectiveFrom.IsZero() {
		ev.EffectiveFrom = target.Effective()
	}
	if c.Replacement == nil {
		ev.Retracted = true
	} else {
		if c.Replacement.EventType() != target.Type {
			return Result{}, RejectField(ErrCorrectionTarget, "replacement", "a %s can only be replaced by a %s, not a %s", target.Type, target.Type, c.Replacement.EventType())
		}
		env, err := h.Codec.Encode(c.Replacement, uuid.Nil, meta)
		if err != nil {
			return Result{}, err
		}
		ev.Replacement = env.Data
	}
	return Execute(ctx, h, Command[A]{
		Stream: stream, New: newAgg, Meta: meta,
		Decide: func(a A) ([]Event, error) {
			if d, ok := any(a).(Decided); ok && d.Decided() {
				ev.ChangedAfterDecision = true
			}
			return []Event{ev}, nil
		},
	})
}

// ApplyCorrections returns msgs "as corrected now": each corrected event
// replaced by its latest correction's data (decoded with codec) or dropped
// when retracted. The EventCorrected messages themselves are kept, so a
// reader can mark what changed. Events are returned in their original
// order.
func ApplyCorrections(codec *Codec, msgs []Message) ([]Message, error) {
	latest := map[uuid.UUID]EventCorrected{}
	for _, m := range msgs {
		if c, ok := m.Event.(EventCorrected); ok {
			latest[c.Corrects] = c
		}
	}
	if len(latest) == 0 {
		return msgs, nil
	}
	out := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		c, ok := latest[m.ID]
		if !ok {
			out = append(out, m)
			continue
		}
		if c.Retracted {
			continue
		}
		r := m.Recorded
		spec, _ := Lookup(r.Type)
		r.Data, r.Schema = c.Replacement, spec.Schema
		r.Meta.EffectiveAt = c.EffectiveFrom
		fixed, err := codec.Decode(r)
		if err != nil {
			return nil, fmt.Errorf("apply correction of %s: %w", m.ID, err)
		}
		out = append(out, fixed)
	}
	return out, nil
}
