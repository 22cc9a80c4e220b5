package projections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
)

// AsCorrectedAll returns the projections named as corrected now at until
// (no limit when zero), with the position they reflect (the head): the
// states FoldCorrectedAll folds from zero, found sooner. The longest start
// of the log in which every event took effect by until and none is
// corrected (by a correction that applies at until) is kept whole by that
// fold, in log order, so its states are the states as of its last
// position: those come from the nearest snapshots (AsOfAll). Only the
// events after it are folded as FoldCorrectedAll would, and of those the
// ones that took effect after until and are not corrected are skipped
// without being decoded.
func (e *Engine) AsCorrectedAll(ctx context.Context, names []string, until time.Time) (map[string]Projection, uint64, error) {
	head, err := e.store.Head(ctx)
	if err != nil {
		return nil, 0, err
	}
	late := func(rec eventstore.RecordedEvent) bool {
		return !until.IsZero() && effectiveOf(rec).After(until)
	}
	// The corrections that apply at until, and the first event that took
	// effect after it.
	fixes := map[[16]byte]domain.EventCorrected{}
	fixedIn := map[[16]byte]string{}
	firstLate := head + 1
	err = scan(ctx, e.store, head, func(rec eventstore.RecordedEvent) error {
		if firstLate > head && late(rec) {
			firstLate = rec.Position
		}
		if rec.Type != "EventCorrected" {
			return nil
		}
		m, err := e.codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			return err
		}
		c := m.Event.(domain.EventCorrected)
		if until.IsZero() || !c.EffectiveFrom.After(until) {
			fixes[c.Corrects] = c
			fixedIn[c.Corrects] = rec.StreamID
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("as corrected at %s: %w", until.Format(time.RFC3339), err)
	}
	kept := firstLate - 1
	for id, stream := range fixedIn {
		pos, found, err := e.positionIn(ctx, stream, id)
		if err != nil {
			return nil, 0, fmt.Errorf("as corrected at %s: %w", until.Format(time.RFC3339), err)
		}
		if !found { // not beside its correction: fold it all, as FoldCorrectedAll does
			pos = 1
		}
		kept = min(kept, pos-1)
	}
	out, err := e.AsOfAll(ctx, names, kept)
	if err != nil {
		return nil, 0, err
	}
	ps := make([]Projection, len(names))
	for i, n := range names {
		ps[i] = out[n]
	}
	for from := kept + 1; from <= head; {
		recs, err := e.store.ReadAll(ctx, from, 4096)
		if err != nil {
			return nil, 0, fmt.Errorf("fold as corrected from %d: %w", from, err)
		}
		if len(recs) == 0 {
			break
		}
		from = recs[len(recs)-1].Position + 1
		wanted := recs[:0:0]
		for _, rec := range recs {
			if rec.Position > head {
				break
			}
			if _, fixed := fixes[rec.ID]; fixed || !late(rec) {
				wanted = append(wanted, rec)
			}
		}
		msgs, errs := decodeBatch(e.codec, wanted)
		ms := msgs[:0]
		for i, m := range msgs {
			if errs[i] != nil {
				return nil, 0, fmt.Errorf("at position %d (%s): %w", wanted[i].Position, wanted[i].Type, errs[i])
			}
			if fix, ok := fixes[wanted[i].ID]; ok {
				if fix.Retracted {
					continue
				}
				if m, err = domain.Corrected(e.codec, m, fix); err != nil {
					return nil, 0, fmt.Errorf("at position %d (%s): %w", wanted[i].Position, wanted[i].Type, err)
				}
			}
			if !until.IsZero() && m.Effective().After(until) {
				continue
			}
			ms = append(ms, m)
		}
		fails := make([]error, len(ps))
		parallel(len(ps), func(j int) {
			for _, m := range ms {
				if err := ps[j].Apply(m); err != nil {
					fails[j] = fmt.Errorf("at position %d (%s): %s: %w", m.Position, m.Event.EventType(), ps[j].Name(), err)
					return
				}
			}
		})
		if err := errors.Join(fails...); err != nil {
			return nil, 0, err
		}
	}
	return out, head, nil
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
