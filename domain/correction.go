package domain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// Checker is implemented by aggregates whose events can be corrected.
// Check reports whether m could have been recorded on the aggregate's
// current state (the events before it, folded): it returns the rule m
// would break (a *Rejection) or nil, with the same checks the command
// that records m makes, at m's effective moment. It must not change the
// aggregate: the fold applies m afterwards.
type Checker interface {
	Aggregate
	Check(m Message) error
}

// Rules of corrections.
var (
	// ErrCorrectionReason is returned when a correction gives no reason.
	ErrCorrectionReason = NewRule("correction-reason", KindInvalid, "A correction needs a reason",
		"A correction must say why the original was wrong.")
	// ErrUncorrectable is returned when a correction names a vote or an
	// outcome computed from votes.
	ErrUncorrectable = NewRule("uncorrectable-ballot", KindConflict, "Votes and their outcomes cannot be corrected",
		"A vote, a sealed choice, a tally and every outcome computed from votes (a chair elected, a decision of the Leadership Team) stand as recorded; an outcome changes only by a new vote.")
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

// Correct records an EventCorrected in stream. The correction is
// accepted only if the record, folded with the corrected event in place
// (or without it, for a retraction), still satisfies every rule: the
// replacement must pass the checks its command makes (the aggregate's
// Check, at the replacement's effective moment, and facts, the checks of
// other records the caller passes), and no later event of the record may
// break a rule it did not break before. Returns ErrCorrectionTarget if
// the event is not in the stream or is itself a correction, or the
// replacement's type differs; ErrCorrectionReason without a reason;
// ErrUncorrectable for a vote or an outcome computed from votes; the rule
// the corrected record would break otherwise (its detail names the event
// that would break it).
func Correct[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A, meta Meta, c Correction, facts ...func(Message) error) (Result, error) {
	if c.Reason == "" {
		return Result{}, RejectField(ErrCorrectionReason, "reason", "say why the event is being corrected")
	}
	for attempt := 0; ; attempt++ {
		rev, ev, err := checkCorrection(ctx, h, stream, newAgg, meta, c, facts)
		if err != nil {
			return Result{}, err
		}
		res, err := Execute(ctx, h, Command[A]{
			Stream: stream, New: newAgg, Meta: meta, Expected: &rev,
			Decide: func(a A) ([]Event, error) {
				if d, ok := any(a).(Decided); ok && d.Decided() {
					ev.ChangedAfterDecision = true
				}
				return []Event{ev}, nil
			},
		})
		// The checks were made on revision rev: if the record changed
		// since, check again on its new state.
		if errors.Is(err, ErrRevisionMismatch) && attempt < 4 {
			continue
		}
		return res, err
	}
}

// checkCorrection reads stream, checks correction c against its rules and
// returns the revision checked and the EventCorrected to record.
func checkCorrection[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A, meta Meta, c Correction, facts []func(Message) error) (int64, EventCorrected, error) {
	recs, err := h.Log.ReadStream(ctx, stream)
	if err != nil {
		return 0, EventCorrected{}, fmt.Errorf("read %s: %w", stream, err)
	}
	rev := int64(len(recs)) - 1
	var target *Recorded
	for i := range recs {
		if recs[i].ID == c.EventID {
			target = &recs[i]
		}
	}
	if target == nil || target.Type == "EventCorrected" {
		return 0, EventCorrected{}, RejectField(ErrCorrectionTarget, "event_id", "event %s is not a correctable event of %s", c.EventID, stream)
	}
	spec, _ := Lookup(target.Type)
	if spec.Uncorrectable {
		return 0, EventCorrected{}, RejectField(ErrUncorrectable, "event_id", "%s %s is a vote or an outcome computed from votes; it stands as recorded, and only a new vote can change the outcome", target.Type, c.EventID)
	}
	ev := EventCorrected{Corrects: c.EventID, CorrectsType: target.Type, Reason: c.Reason, EffectiveFrom: c.EffectiveFrom}
	if ev.EffectiveFrom.IsZero() {
		ev.EffectiveFrom = target.Effective()
	}
	if c.Replacement == nil {
		ev.Retracted = true
	} else {
		if c.Replacement.EventType() != target.Type {
			return 0, EventCorrected{}, RejectField(ErrCorrectionTarget, "replacement", "a %s can only be replaced by a %s, not a %s", target.Type, target.Type, c.Replacement.EventType())
		}
		env, err := h.Codec.Encode(c.Replacement, uuid.Nil, meta)
		if err != nil {
			return 0, EventCorrected{}, err
		}
		ev.Replacement = env.Data
	}
	msgs := make([]Message, len(recs))
	for i, r := range recs {
		if msgs[i], err = h.Codec.Decode(r); err != nil {
			return 0, EventCorrected{}, fmt.Errorf("read %s: %w", stream, err)
		}
	}
	if msgs, err = ApplyCorrections(h.Codec, msgs); err != nil {
		return 0, EventCorrected{}, fmt.Errorf("read %s: %w", stream, err)
	}
	at := slices.IndexFunc(msgs, func(m Message) bool { return m.ID == c.EventID })
	if at < 0 {
		// Retracted already: there is nothing left to correct.
		return 0, EventCorrected{}, RejectField(ErrCorrectionTarget, "event_id", "event %s of %s was retracted; record what happened as a new event instead", c.EventID, stream)
	}
	corrected := slices.Clone(msgs)
	if ev.Retracted {
		corrected = slices.Delete(corrected, at, at+1)
	} else {
		fixed, err := Corrected(h.Codec, msgs[at], ev)
		if err != nil {
			return 0, EventCorrected{}, err
		}
		corrected[at] = fixed
		for _, f := range facts {
			if err := f(fixed); err != nil {
				return 0, EventCorrected{}, err
			}
		}
	}
	if _, ok := any(newAgg()).(Checker); !ok {
		return rev, ev, nil
	}
	replaced := at
	if ev.Retracted {
		replaced = -1
	}
	after := violations(newAgg, corrected, at, replaced)
	if len(after) == 0 {
		return rev, ev, nil
	}
	// Only what the correction breaks counts: a later event that broke a
	// rule before it (history recorded under older rules) is excused.
	before := violations(newAgg, msgs, at, -1)
	for _, v := range after {
		if v.replaced || !slices.ContainsFunc(before, func(b violation) bool { return b.id == v.id }) {
			return 0, EventCorrected{}, v.explain(ev.Retracted)
		}
	}
	return rev, ev, nil
}

// violation is an event of a record that breaks a rule.
type violation struct {
	id       uuid.UUID
	typ      string
	replaced bool
	err      error
}

// explain returns v's rule, its detail saying which event breaks it with
// the correction.
func (v violation) explain(retracted bool) error {
	rule, rej, ok := RuleOf(v.err)
	if !ok {
		return v.err
	}
	detail := rule.Statement
	if rej != nil {
		detail = rej.Detail
	}
	switch {
	case v.replaced:
		return &Rejection{Rule: rule, Field: "replacement", Detail: "the corrected " + v.typ + " breaks the rule: " + detail}
	case retracted:
		return &Rejection{Rule: rule, Field: "event_id", Detail: fmt.Sprintf("without the retracted event, the later %s %s would break the rule: %s", v.typ, v.id, detail)}
	}
	return &Rejection{Rule: rule, Field: "replacement", Detail: fmt.Sprintf("with the correction, the later %s %s would break the rule: %s", v.typ, v.id, detail)}
}

// violations folds msgs into a new aggregate, checking each event from
// index from on before applying it, and returns those that break a rule;
// replaced is the index of the corrected event (-1: none).
func violations[A Aggregate](newAgg func() A, msgs []Message, from, replaced int) []violation {
	agg := newAgg()
	ch := any(agg).(Checker)
	var out []violation
	for i, m := range msgs {
		if i >= from && m.Type != "EventCorrected" {
			if err := ch.Check(m); err != nil {
				out = append(out, violation{id: m.ID, typ: m.Type, replaced: i == replaced, err: err})
			}
		}
		agg.Apply(m)
	}
	return out
}

// ApplyCorrections returns msgs "as corrected now": each corrected event
// replaced by its latest correction's data (decoded with codec) or dropped
// when retracted. The EventCorrected messages themselves are kept, so a
// reader can mark what changed. Events are returned in their original
// order. It is ApplyCorrectionsAt with no moment: every correction counts,
// whatever its EffectiveFrom.
func ApplyCorrections(codec *Codec, msgs []Message) ([]Message, error) {
	return ApplyCorrectionsAt(codec, msgs, time.Time{})
}

// ApplyCorrectionsAt returns msgs as corrected now, read at moment at:
// each corrected event is shown as its correction says where a
// correction's effective period covers at, and as recorded elsewhere. A
// correction's period starts at its EffectiveFrom; of the corrections of
// one event whose period has started by at, the one recorded last applies
// (later knowledge wins). Where one applies, the event carries its data
// (or is dropped when retracted) and takes effect at EffectiveFrom; where
// none does yet, the original stands, with its own effective time. A zero
// at applies every correction. The EventCorrected messages are kept, and
// events stay in their original order; the caller keeps or leaves out
// events by their effective time.
func ApplyCorrectionsAt(codec *Codec, msgs []Message, at time.Time) ([]Message, error) {
	latest := map[uuid.UUID]EventCorrected{}
	for _, m := range msgs {
		if c, ok := m.Event.(EventCorrected); ok && (at.IsZero() || !c.EffectiveFrom.After(at)) {
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
		fixed, err := Corrected(codec, m, c)
		if err != nil {
			return nil, err
		}
		out = append(out, fixed)
	}
	return out, nil
}

// Corrected returns m with correction c's data in place of its own,
// decoded with codec, taking effect at c.EffectiveFrom. Requires c not
// retracted.
func Corrected(codec *Codec, m Message, c EventCorrected) (Message, error) {
	r := m.Recorded
	spec, _ := Lookup(r.Type)
	r.Data, r.Schema = c.Replacement, spec.Schema
	r.Meta.EffectiveAt = c.EffectiveFrom
	fixed, err := codec.Decode(r)
	if err != nil {
		return Message{}, fmt.Errorf("apply correction of %s: %w", m.ID, err)
	}
	return fixed, nil
}
