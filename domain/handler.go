package domain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// EventLog is what the command handler needs of an event store. The
// eventstore packages satisfy it through a small adapter (they do not
// import domain); tests use domaintest.Log.
type EventLog interface {
	// ReadStream returns every event of stream in revision order; a stream
	// with no events reads as empty.
	ReadStream(ctx context.Context, stream string) ([]Recorded, error)
	// AppendStream appends events atomically if the stream's last revision
	// is expected (-1: the stream must have no events), and returns them as
	// recorded. Returns an error wrapping ErrStreamConflict if the
	// expectation is not met; nothing is written then.
	AppendStream(ctx context.Context, stream string, expected int64, events []Envelope) ([]Recorded, error)
}

// ErrStreamConflict is returned by an EventLog when a stream changed since
// it was read.
var ErrStreamConflict = errors.New("domain: stream changed since it was read")

// ErrRevisionMismatch is returned when a command carried an explicit
// expected revision (HTTP If-Match) that the record no longer has.
var ErrRevisionMismatch = NewRule("revision-mismatch", KindConflict, "The record has changed",
	"A command sent with an expected revision applies only if the record is still at that revision; reload it and decide again.")

// Aggregate is a consistency boundary rebuilt by applying its events.
type Aggregate interface {
	// Apply folds one of the aggregate's recorded events into its state.
	// It must not fail: events are facts already recorded.
	Apply(m Message)
}

// Correlated is implemented by aggregates that carry a decision's
// correlation id (an election, a proposal, a loan): the handler stamps it
// on new events when the command's Meta names none, so the whole chain of
// a decision shares one correlation id.
type Correlated interface {
	CorrelationID() uuid.UUID
}

// Handler runs commands: load the aggregate, decide, append with the
// expected revision; on a concurrent change reload and decide again, a
// bounded number of times. It never half-applies: a command's events are
// appended in one atomic call or not at all.
type Handler struct {
	Log   EventLog
	Codec *Codec
	// Aggregates keeps loaded aggregates in memory (nil: fold every
	// aggregate from its stream on every load). See AggregateCache.
	Aggregates *AggregateCache
	// Cache keeps decoded events of recent streams for the loads the
	// aggregate cache does not serve (nil: decode every event on every
	// such load).
	Cache *StreamCache
	// Now is the clock (UTC); tests pin it.
	Now func() time.Time
	// NewID returns event ids (UUID v7).
	NewID func() uuid.UUID
	// MaxAttempts bounds retries on concurrent changes (default 5).
	MaxAttempts int
}

// DefaultCacheEvents is how many decoded events NewHandler's cache keeps.
const DefaultCacheEvents = 200_000

// NewHandler returns a handler with the system clock and UUID v7 ids.
func NewHandler(log EventLog, codec *Codec) *Handler {
	return &Handler{Log: log, Codec: codec, Aggregates: NewAggregateCache(DefaultCachedAggregates), Cache: NewStreamCache(DefaultCacheEvents),
		Now: func() time.Time { return time.Now().UTC() }, NewID: newV7}
}

func newV7() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}

// Command is one command against one aggregate stream.
type Command[A Aggregate] struct {
	// Stream is the aggregate's stream, e.g. "community-<id>".
	Stream string
	// New returns an empty aggregate.
	New func() A
	// Meta is stamped on every event.
	Meta Meta
	// Expected, if set, is the revision the caller saw (-1: none); a
	// different revision fails with ErrRevisionMismatch and no retry.
	Expected *int64
	// Correlation, if set, returns the correlation id the aggregate gives
	// the command's events when Meta names none (a loan's, for a command
	// on one loan of a resource), in place of the aggregate's
	// Correlated; a zero id starts a new correlation. It lets a command
	// on a part of an aggregate use the aggregate's own type, which the
	// handler's aggregate cache can keep.
	Correlation func(A) uuid.UUID
	// Decide returns the events the command records, or a rule error. It
	// is called again with fresh state after a concurrent change, so it
	// must have no side effects.
	Decide func(A) ([]Event, error)
}

type expectedKey struct{}

// WithExpectedRevision returns a context under which the next command
// executed (one whose Command.Expected is not set) requires its aggregate's
// stream to be at revision rev (-1: empty), failing with
// ErrRevisionMismatch otherwise and never retrying. It carries an HTTP
// If-Match header through a service method to the handler.
func WithExpectedRevision(ctx context.Context, rev int64) context.Context {
	return context.WithValue(ctx, expectedKey{}, rev)
}

// FutureTolerance is how far ahead of the server's clock an effective
// time may be: a day, so a date written in any time zone is accepted on
// the day it is.
const FutureTolerance = 24 * time.Hour

// When returns the moment a command's fact happened: given if it is not
// zero, else meta.EffectiveAt, else now. It is the business date of the
// command; the recorded time stays the server's. Returns ErrFutureDate
// (naming field, or effective_at when the date came from meta) when that
// moment is later than now by more than FutureTolerance.
func When(meta Meta, field string, given, now time.Time) (time.Time, error) {
	at := given
	if at.IsZero() {
		at, field = meta.EffectiveAt, "effective_at"
	}
	if at.IsZero() {
		return now.UTC(), nil
	}
	if at.After(now.Add(FutureTolerance)) {
		return time.Time{}, RejectField(ErrFutureDate, field, "%s is in the future (it is now %s); record a fact once it has happened",
			at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return at.UTC(), nil
}

// Result is what a successful command recorded.
type Result struct {
	Stream string
	// Revision is the stream's revision after the command (-1 if empty).
	Revision int64
	// Events are the recorded events; empty when the command changed
	// nothing.
	Events []Message
}

// Execute runs cmd; under a context made by WithRecorded, a command that
// already appended to its stream returns those events instead. Returns
// ErrFutureDate when cmd.Meta.EffectiveAt is later than now (beyond
// FutureTolerance), the rule error from Decide as is, a *Rejection of
// ErrRevisionMismatch or ErrConcurrentChange, or a wrapped I/O error.
func Execute[A Aggregate](ctx context.Context, h *Handler, cmd Command[A]) (Result, error) {
	attempts := h.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	if cmd.Expected == nil {
		if rev, ok := ctx.Value(expectedKey{}).(int64); ok {
			cmd.Expected = &rev
		}
	}
	if _, err := When(cmd.Meta, "effective_at", time.Time{}, h.Now()); err != nil {
		return Result{}, err
	}
	if res, done, err := alreadyRecorded(ctx, h, cmd.Stream); err != nil || done {
		return res, err
	}
	for attempt := 0; attempt < attempts; attempt++ {
		agg, rev, from, err := load(ctx, h, cmd.Stream, cmd.New)
		if err != nil {
			return Result{}, err
		}
		if cmd.Expected != nil && *cmd.Expected != rev {
			return Result{}, Reject(ErrRevisionMismatch, "%s is at revision %d, not %d as expected", cmd.Stream, rev, *cmd.Expected)
		}
		events, err := cmd.Decide(agg)
		if err != nil {
			return Result{}, err
		}
		if len(events) == 0 {
			return Result{Stream: cmd.Stream, Revision: rev}, nil
		}
		meta := cmd.Meta
		if meta.CorrelationID == uuid.Nil {
			if cmd.Correlation != nil {
				meta.CorrelationID = cmd.Correlation(agg)
			} else if c, ok := any(agg).(Correlated); ok {
				meta.CorrelationID = c.CorrelationID()
			}
		}
		envs, err := h.envelopes(events, meta)
		if err != nil {
			return Result{}, err
		}
		recs, err := h.Log.AppendStream(ctx, cmd.Stream, rev, envs)
		if errors.Is(err, ErrStreamConflict) {
			if cmd.Expected != nil {
				return Result{}, Reject(ErrRevisionMismatch, "%s changed while the command was decided", cmd.Stream)
			}
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("append to %s: %w", cmd.Stream, err)
		}
		if h.Aggregates != nil {
			h.recordAppended(from, events, recs)
		}
		out := Result{Stream: cmd.Stream, Revision: rev + int64(len(recs))}
		for i, r := range recs {
			out.Events = append(out.Events, Message{Recorded: r, Event: events[i]})
		}
		return out, nil
	}
	return Result{}, Reject(ErrConcurrentChange, "%s kept changing; gave up after %d attempts", cmd.Stream, attempts)
}

// envelopes encodes a command's events. The first event's id starts the
// correlation when meta names none; later events of the command are caused
// by the first unless meta names a cause.
func (h *Handler) envelopes(events []Event, meta Meta) ([]Envelope, error) {
	out := make([]Envelope, len(events))
	for i, e := range events {
		id := h.NewID()
		m := meta
		if i == 0 && meta.CorrelationID == uuid.Nil {
			meta.CorrelationID = id
			m.CorrelationID = id
		}
		if i > 0 && m.CausationID == uuid.Nil {
			m.CausationID = out[0].ID
		}
		env, err := h.Codec.Encode(e, id, m)
		if err != nil {
			return nil, err
		}
		out[i] = env
	}
	return out, nil
}

// Load rebuilds the aggregate of stream and returns it with its revision
// (-1 if the stream has no events). Use it for read-only checks of other
// aggregates inside a command's Decide preparation. With the handler's
// aggregate cache it starts from the cached aggregate and folds only the
// events appended since; the aggregate returned is the caller's own (see
// Peek for a check that only reads it, without the copy).
func Load[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A) (A, int64, error) {
	agg, rev, _, err := load(ctx, h, stream, newAgg)
	return agg, rev, err
}

// load is Load that also says which cached snapshot the aggregate came
// from, so Execute can fold the command's events into it.
func load[A Aggregate](ctx context.Context, h *Handler, stream string, newAgg func() A) (A, int64, loaded, error) {
	if h.Aggregates != nil {
		agg, rev, from, ok, err := loadCached(ctx, h, stream, newAgg)
		if err != nil {
			return agg, -1, loaded{}, err
		}
		if ok {
			return agg, rev, from, nil
		}
	}
	agg := newAgg()
	msgs, err := h.loadMessages(ctx, stream)
	if err != nil {
		return agg, -1, loaded{}, err
	}
	rev := int64(len(msgs)) - 1
	// Decisions are taken on today's knowledge: corrections applied.
	if msgs, err = ApplyCorrections(h.Codec, msgs); err != nil {
		return agg, -1, loaded{}, fmt.Errorf("load %s: %w", stream, err)
	}
	for _, m := range msgs {
		agg.Apply(m)
	}
	return agg, rev, loaded{}, nil
}
