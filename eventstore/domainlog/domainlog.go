// Package domainlog adapts any eventstore.Store to the domain's EventLog,
// translating envelopes and errors, so the domain's command handler never
// imports a store and the stores never import the domain.
package domainlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
)

// Log is a domain.EventLog over an eventstore.Store.
type Log struct {
	Store eventstore.Store
}

var (
	_ domain.EventLog         = Log{}
	_ domain.StreamReaderFrom = Log{}
)

// ReadStream implements domain.EventLog.
func (l Log) ReadStream(ctx context.Context, stream string) ([]domain.Recorded, error) {
	recs, err := l.Store.ReadStream(ctx, stream, 0, eventstore.Forward, 0)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Recorded, len(recs))
	for i, r := range recs {
		out[i] = ToDomain(r)
	}
	return out, nil
}

// ReadStreamFrom implements domain.StreamReaderFrom.
func (l Log) ReadStreamFrom(ctx context.Context, stream string, from uint64) ([]domain.Recorded, error) {
	recs, err := l.Store.ReadStream(ctx, stream, from, eventstore.Forward, 0)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Recorded, len(recs))
	for i, r := range recs {
		out[i] = ToDomain(r)
	}
	return out, nil
}

// AppendStream implements domain.EventLog. A wrong expected revision
// becomes an error wrapping domain.ErrStreamConflict.
func (l Log) AppendStream(ctx context.Context, stream string, expected int64, events []domain.Envelope) ([]domain.Recorded, error) {
	exp := eventstore.NoStream()
	if expected >= 0 {
		exp = eventstore.Exact(uint64(expected))
	}
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		data[i] = ToStore(e)
	}
	res, err := l.Store.Append(ctx, stream, exp, data...)
	if errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		return nil, fmt.Errorf("%w: %v", domain.ErrStreamConflict, err)
	}
	if err != nil {
		return nil, err
	}
	out := make([]domain.Recorded, len(events))
	first := res.Revision + 1 - uint64(len(events))
	if !res.RecordedAt.IsZero() && len(res.Positions) == len(events) {
		// The store said where and when: the events as recorded are the
		// ones sent (stored byte for byte, times in UTC).
		for i := range data {
			d := data[i]
			if !d.Metadata.EffectiveAt.IsZero() {
				d.Metadata.EffectiveAt = d.Metadata.EffectiveAt.UTC()
			}
			out[i] = ToDomain(eventstore.RecordedEvent{EventData: d, StreamID: stream, Revision: first + uint64(i), Position: res.Positions[i], RecordedAt: res.RecordedAt.UTC()})
		}
		return out, nil
	}
	recs, err := l.Store.ReadStream(ctx, stream, first, eventstore.Forward, len(events))
	if err != nil {
		return nil, fmt.Errorf("read back %s: %w", stream, err)
	}
	if len(recs) != len(events) {
		return nil, fmt.Errorf("read back %s: got %d events, want %d", stream, len(recs), len(events))
	}
	for i, r := range recs {
		out[i] = ToDomain(r)
	}
	return out, nil
}

// ToStore converts a domain envelope to the store's event data.
func ToStore(e domain.Envelope) eventstore.EventData {
	return eventstore.EventData{
		ID: e.ID, Type: e.Type, Schema: e.Schema, Data: e.Data,
		Metadata: eventstore.Metadata{
			ActorID: e.Meta.ActorID, ActorRole: e.Meta.ActorRole, Reason: e.Meta.Reason,
			CausationID: e.Meta.CausationID, CorrelationID: e.Meta.CorrelationID, EffectiveAt: e.Meta.EffectiveAt,
		},
	}
}

// ToDomain converts a stored event to the domain's recorded form.
func ToDomain(r eventstore.RecordedEvent) domain.Recorded {
	return domain.Recorded{
		Envelope: domain.Envelope{
			ID: r.ID, Type: r.Type, Schema: r.Schema, Data: r.Data,
			Meta: domain.Meta{
				ActorID: r.Metadata.ActorID, ActorRole: r.Metadata.ActorRole, Reason: r.Metadata.Reason,
				CausationID: r.Metadata.CausationID, CorrelationID: r.Metadata.CorrelationID, EffectiveAt: r.Metadata.EffectiveAt,
			},
		},
		Stream: r.StreamID, Revision: r.Revision, Position: r.Position, RecordedAt: r.RecordedAt,
	}
}
