package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
)

// Offbeat is an event that took effect at another time than it was
// recorded.
type Offbeat struct {
	Position  uint64    `json:"p"`
	Effective time.Time `json:"e"`
}

// Timeline is implemented by a projection that lists, in log order, the
// events that took effect at another time than they were recorded and the
// positions of the corrections (domain.EventCorrected). With one among its
// projections the engine reads as corrected now without reading the whole
// log (AsCorrectedAll).
type Timeline interface {
	Offbeat() []Offbeat
	Corrections() []uint64
}

// correctedPlan is what reading as corrected now at a moment needs: the
// corrections that apply then, the start of the log kept whole (its
// states are the states as of kept), and which events after it to fold:
// every one up to through, and after that only those listed in extra.
type correctedPlan struct {
	fixes   map[[16]byte]domain.EventCorrected
	kept    uint64
	through uint64
	extra   []uint64
}

// AsCorrectedAll returns the projections named as corrected now at until
// (no limit when zero), with the position they reflect (the head): the
// states FoldCorrectedAll folds from zero, found sooner. The longest start
// of the log in which every event took effect by until and none is
// corrected (by a correction that applies at until) is kept whole by that
// fold, in log order, so its states are the states as of its last
// position: those come from the nearest snapshots (AsOfAll). Only events
// after it are folded as FoldCorrectedAll would: with a Timeline
// projection, those recorded by until and the few recorded later that took
// effect by until or are corrected; without one, every later event, the
// ones that took effect after until skipped without being decoded.
func (e *Engine) AsCorrectedAll(ctx context.Context, names []string, until time.Time) (map[string]Projection, uint64, error) {
	rd, err := e.asCorrected(ctx, names, until, false)
	return rd.States, rd.Head, err
}

// CorrectedReading is a reading as corrected now (AsCorrectedRead).
type CorrectedReading struct {
	// States are the projections folded as corrected now.
	States map[string]Projection
	// Lensed are the projections read in place instead: nothing after
	// position At changes them in this reading, so their state is their
	// state as of At, which Engine.ViewPast(name, At, …) reads in the
	// live projection.
	Lensed map[string]bool
	At     uint64
	// Head is the position the reading reflects.
	Head uint64
}

// maxLensedFold is the most events a reading as corrected now folds after
// the start of the log it keeps whole and still reads in place the
// projections that fold none of them (AsCorrectedRead); with more, every
// projection is folded.
const maxLensedFold = 4096

// AsCorrectedRead is AsCorrectedAll for a reader that can read
// projections in place (Engine.ViewPast): a Lensed projection that has
// folded the start of the log kept whole, and that folds none of the few
// events after it, is not folded at all but named in Lensed.
func (e *Engine) AsCorrectedRead(ctx context.Context, names []string, until time.Time) (CorrectedReading, error) {
	return e.asCorrected(ctx, names, until, true)
}

func (e *Engine) asCorrected(ctx context.Context, names []string, until time.Time, lens bool) (CorrectedReading, error) {
	head, err := e.store.Head(ctx)
	if err != nil {
		return CorrectedReading{}, err
	}
	plan, err := e.planCorrected(ctx, until, head)
	if err != nil {
		return CorrectedReading{}, fmt.Errorf("as corrected at %s: %w", until.Format(time.RFC3339), err)
	}
	if lens && plan.kept > 0 && plan.through-plan.kept+uint64(len(plan.extra)) <= maxLensedFold {
		return e.asCorrectedLensed(ctx, names, until, plan, head)
	}
	out, err := e.asOfAll(ctx, names, plan.kept, false) // folded further below: no snapshot kept beside it
	if err != nil {
		return CorrectedReading{}, err
	}
	ps := make([]Projection, len(names))
	for i, n := range names {
		ps[i] = out[n]
	}
	err = e.readPlanned(ctx, plan, until, func(recs []eventstore.RecordedEvent) error {
		return foldCorrected(e.codec, ps, recs, plan.fixes, until)
	})
	if err != nil {
		return CorrectedReading{}, err
	}
	return CorrectedReading{States: out, Head: head}, nil
}

// readPlanned calls fn with the events plan folds after the start of the
// log it keeps whole, in log order, a batch at a time: those up to
// plan.through that took effect by until or are corrected, then those
// listed in plan.extra.
func (e *Engine) readPlanned(ctx context.Context, plan correctedPlan, until time.Time, fn func([]eventstore.RecordedEvent) error) error {
	planned := func(recs []eventstore.RecordedEvent) error {
		in := recs[:0:0]
		for _, rec := range recs {
			if _, fixed := plan.fixes[rec.ID]; fixed || until.IsZero() || !effectiveOf(rec).After(until) {
				in = append(in, rec)
			}
		}
		return fn(in)
	}
	for from := plan.kept + 1; from <= plan.through; {
		recs, err := e.store.ReadAll(ctx, from, int(min(4096, plan.through-from+1)))
		if err != nil {
			return fmt.Errorf("fold as corrected from %d: %w", from, err)
		}
		if len(recs) == 0 {
			break
		}
		from = recs[len(recs)-1].Position + 1
		if i := slices.IndexFunc(recs, func(r eventstore.RecordedEvent) bool { return r.Position > plan.through }); i >= 0 {
			recs = recs[:i]
		}
		if err := planned(recs); err != nil {
			return err
		}
	}
	var extra []eventstore.RecordedEvent
	for _, pos := range plan.extra {
		recs, err := e.store.ReadAll(ctx, pos, 1)
		if err != nil {
			return fmt.Errorf("fold as corrected at %d: %w", pos, err)
		}
		if len(recs) == 1 && recs[0].Position == pos {
			extra = append(extra, recs[0])
		}
	}
	return planned(extra)
}

// asCorrectedLensed is AsCorrectedRead for a plan with few events to fold
// after the start kept whole: they are read and decoded first, so that
// each projection that folds none of them is read in place as of
// plan.kept, and the others are folded from there.
func (e *Engine) asCorrectedLensed(ctx context.Context, names []string, until time.Time, plan correctedPlan, head uint64) (CorrectedReading, error) {
	var recs []eventstore.RecordedEvent
	err := e.readPlanned(ctx, plan, until, func(batch []eventstore.RecordedEvent) error {
		recs = append(recs, batch...)
		return nil
	})
	if err != nil {
		return CorrectedReading{}, err
	}
	msgs, err := correctedMessages(e.codec, recs, plan.fixes, until)
	if err != nil {
		return CorrectedReading{}, err
	}
	rd := CorrectedReading{Lensed: map[string]bool{}, At: plan.kept, Head: head}
	var fold []string
	for _, n := range names {
		if e.CanViewPast(n, plan.kept) && !e.foldsAny(n, msgs) {
			rd.Lensed[n] = true
		} else {
			fold = append(fold, n)
		}
	}
	if rd.States, err = e.asOfAll(ctx, fold, plan.kept, false); err != nil {
		return CorrectedReading{}, err
	}
	ps := make([]Projection, len(fold))
	for i, n := range fold {
		ps[i] = rd.States[n]
	}
	if err := applyCorrected(ps, msgs); err != nil {
		return CorrectedReading{}, err
	}
	return rd, nil
}

// foldsAny reports whether the projection named name folds any of msgs.
func (e *Engine) foldsAny(name string, msgs []domain.Message) bool {
	r, ok := e.projs[name]
	if !ok {
		return true
	}
	s, selective := r.proj.(Selective)
	for _, m := range msgs {
		if !selective || s.Wants(m.Event.EventType(), m.Stream) {
			return true
		}
	}
	return false
}

// planCorrected works out what AsCorrectedAll folds, from the timeline
// when a Timeline projection has one (caught up to head by reading the
// events it has not seen yet), else by reading the whole log.
func (e *Engine) planCorrected(ctx context.Context, until time.Time, head uint64) (correctedPlan, error) {
	late := func(eff time.Time) bool { return !until.IsZero() && eff.After(until) }
	offbeat, corrections, seen, ok := e.timeline()
	if !ok {
		offbeat, corrections, seen = nil, nil, 0
	}
	// The events the timeline has not seen, read from the log (all of
	// them without a timeline); without one, the first late event is found
	// on the way.
	firstLate := head + 1
	err := scanFrom(ctx, e.store, seen+1, head, func(rec eventstore.RecordedEvent) error {
		if eff := effectiveOf(rec); !eff.Equal(rec.RecordedAt) {
			offbeat = append(offbeat, Offbeat{Position: rec.Position, Effective: eff})
		}
		if rec.Type == "EventCorrected" {
			corrections = append(corrections, rec.Position)
		}
		if !ok && firstLate > head && late(effectiveOf(rec)) {
			firstLate = rec.Position
		}
		return nil
	})
	if err != nil {
		return correctedPlan{}, err
	}
	plan := correctedPlan{fixes: map[[16]byte]domain.EventCorrected{}, through: head}
	fixedIn := map[[16]byte]string{}
	for _, pos := range corrections {
		recs, err := e.store.ReadAll(ctx, pos, 1)
		if err != nil {
			return correctedPlan{}, err
		}
		if len(recs) != 1 || recs[0].Type != "EventCorrected" {
			return correctedPlan{}, fmt.Errorf("no correction at position %d", pos)
		}
		m, err := e.codec.Decode(domainlog.ToDomain(recs[0]))
		if err != nil {
			return correctedPlan{}, fmt.Errorf("at position %d: %w", pos, err)
		}
		c := m.Event.(domain.EventCorrected)
		if until.IsZero() || !c.EffectiveFrom.After(until) {
			plan.fixes[c.Corrects] = c
			fixedIn[c.Corrects] = recs[0].StreamID
		}
	}
	if ok && !until.IsZero() {
		// Events recorded after until took effect after it unless they
		// are offbeat: only those offbeat ones (and the corrected) are read.
		p, err := e.store.PositionAt(ctx, until)
		if err != nil {
			return correctedPlan{}, err
		}
		plan.through = p
		for _, o := range offbeat {
			if o.Position > p && !late(o.Effective) {
				plan.extra = append(plan.extra, o.Position)
			}
		}
	}
	plan.kept = min(firstLate-1, plan.through)
	for _, o := range offbeat {
		if o.Position <= plan.kept && late(o.Effective) {
			plan.kept = o.Position - 1
			break
		}
	}
	for id, stream := range fixedIn {
		pos, found, err := e.positionIn(ctx, stream, id)
		if err != nil {
			return correctedPlan{}, err
		}
		if !found {
			// Not beside its correction: fold the whole log, as
			// FoldCorrectedAll does.
			return correctedPlan{fixes: plan.fixes, kept: 0, through: head}, nil
		}
		plan.kept = min(plan.kept, pos-1)
		if pos > plan.through && !slices.Contains(plan.extra, pos) {
			plan.extra = append(plan.extra, pos)
		}
	}
	slices.Sort(plan.extra)
	return plan, nil
}

// timeline returns the lists of the engine's Timeline projection and the
// position it has reached; ok is false when it has none (or it failed).
func (e *Engine) timeline() (offbeat []Offbeat, corrections []uint64, pos uint64, ok bool) {
	for _, r := range e.projs {
		r.mu.RLock()
		if t, is := r.proj.(Timeline); is && r.failure == nil {
			offbeat, corrections, pos, ok = slices.Clone(t.Offbeat()), slices.Clone(t.Corrections()), r.pos, true
		}
		r.mu.RUnlock()
		if ok {
			return offbeat, corrections, pos, true
		}
	}
	return nil, nil, 0, false
}

// foldCorrected decodes recs (on every core) and folds them into each of
// ps (each on one core, in order) as corrected at until: an event fixed
// by a correction in fixes as the correction says (left out when it
// retracts), and only events that took effect by until (any, when zero).
func foldCorrected(codec *domain.Codec, ps []Projection, recs []eventstore.RecordedEvent, fixes map[[16]byte]domain.EventCorrected, until time.Time) error {
	recs = wanted(recs, wantsOf(ps), make([]uint64, len(ps)))
	kept, err := correctedMessages(codec, recs, fixes, until)
	if err != nil {
		return err
	}
	return applyCorrected(ps, kept)
}

// correctedMessages decodes recs (on every core) as corrected at until:
// an event fixed by a correction in fixes as the correction says (left
// out when it retracts), and only events that took effect by until (any,
// when zero).
func correctedMessages(codec *domain.Codec, recs []eventstore.RecordedEvent, fixes map[[16]byte]domain.EventCorrected, until time.Time) ([]domain.Message, error) {
	msgs, errs := decodeBatch(codec, recs)
	kept := msgs[:0]
	for i, m := range msgs {
		if errs[i] != nil {
			return nil, fmt.Errorf("at position %d (%s): %w", recs[i].Position, recs[i].Type, errs[i])
		}
		if fix, ok := fixes[recs[i].ID]; ok {
			if fix.Retracted {
				continue
			}
			var err error
			if m, err = domain.Corrected(codec, m, fix); err != nil {
				return nil, fmt.Errorf("at position %d (%s): %w", recs[i].Position, recs[i].Type, err)
			}
		}
		if !until.IsZero() && m.Effective().After(until) {
			continue
		}
		kept = append(kept, m)
	}
	return kept, nil
}

// applyCorrected folds msgs into each of ps (each on one core, in order),
// those it wants.
func applyCorrected(ps []Projection, msgs []domain.Message) error {
	wants := wantsOf(ps)
	fails := make([]error, len(ps))
	parallel(len(ps), func(j int) {
		w := wants[j]
		for _, m := range msgs {
			if w != nil && !w(m.Event.EventType(), m.Stream) {
				continue
			}
			if err := ps[j].Apply(m); err != nil {
				fails[j] = fmt.Errorf("at position %d (%s): %s: %w", m.Position, m.Event.EventType(), ps[j].Name(), err)
				return
			}
		}
	})
	return errors.Join(fails...)
}

// effectiveOf is when a recorded event took effect, read from its
// metadata as domain.Recorded.Effective reads it.
func effectiveOf(rec eventstore.RecordedEvent) time.Time {
	if !rec.Metadata.EffectiveAt.IsZero() {
		return rec.Metadata.EffectiveAt
	}
	return rec.RecordedAt
}

// positionIn returns the position of event id in stream (a correction is
// recorded in the stream of the event it corrects); found is false when
// the stream does not hold it.
func (e *Engine) positionIn(ctx context.Context, stream string, id [16]byte) (uint64, bool, error) {
	for rev := uint64(0); ; {
		recs, err := e.store.ReadStream(ctx, stream, rev, eventstore.Forward, 4096)
		if err != nil {
			return 0, false, err
		}
		for _, r := range recs {
			if r.ID == id {
				return r.Position, true, nil
			}
		}
		if len(recs) < 4096 {
			return 0, false, nil
		}
		rev = recs[len(recs)-1].Revision + 1
	}
}

// scanFrom calls fn for every event from..head in order.
func scanFrom(ctx context.Context, store eventstore.Store, from, head uint64, fn func(eventstore.RecordedEvent) error) error {
	for from <= head {
		recs, err := store.ReadAll(ctx, from, 4096)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			if rec.Position > head {
				return nil
			}
			if err := fn(rec); err != nil {
				return fmt.Errorf("at position %d (%s): %w", rec.Position, rec.Type, err)
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
	return nil
}
