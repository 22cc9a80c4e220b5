// Package eventstore owns Concord's append-only event log: the Store
// contract every backend satisfies, the event envelope, its canonical
// encoding, and the errors a caller can act on.
//
// Backends live in sub-packages: eventstore/segment (the embedded default:
// an append-only segment log with group commit, indexed in bbolt) and
// eventstore/kurrentdb (KurrentDB). eventstore/storetest is the contract
// suite both must pass.
package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// DefaultMaxEventSize is the largest encoded event a store accepts unless
// configured otherwise (1 MiB).
const DefaultMaxEventSize = 1 << 20

// MaxStreamIDLength is the longest stream ID accepted, in bytes.
const MaxStreamIDLength = 200

// Store is the narrow contract of an event store. All methods are safe for
// concurrent use.
//
// Positions are global, 1-based and dense: the first event ever appended has
// position 1 and every later event the next integer, in commit order.
// Revisions are per stream and 0-based.
type Store interface {
	// Append atomically appends events to stream if the stream's current
	// revision satisfies expected. Either all events are durable when it
	// returns nil, or none is written.
	//
	// Returns ErrEmptyAppend, ErrInvalidStreamID, ErrInvalidEvent or
	// ErrEventTooLarge for bad input; a *WrongExpectedRevisionError (matching
	// ErrWrongExpectedRevision) when expected is not met; ErrDuplicateEvent
	// when an event ID already exists with other content or elsewhere;
	// ErrClosed after Close; the context's error when ctx ends first.
	//
	// Re-appending events whose IDs were all appended before, at the same
	// place and with identical content, returns the original result and
	// writes nothing, however long after.
	Append(ctx context.Context, stream string, expected ExpectedRevision, events ...EventData) (AppendResult, error)

	// ReadStream returns up to limit events of stream starting at revision
	// from, in the given direction (for Backward, from is the highest
	// revision wanted; use LastRevision for the end). limit <= 0 means no
	// limit. A stream that does not exist reads as empty with no error.
	// Returns ErrInvalidStreamID, ErrClosed or the context's error.
	ReadStream(ctx context.Context, stream string, from uint64, dir Direction, limit int) ([]RecordedEvent, error)

	// ReadAll returns up to limit events with position >= from in global
	// order. from 0 is treated as 1. limit <= 0 means no limit.
	// Returns ErrClosed or the context's error.
	ReadAll(ctx context.Context, from uint64, limit int) ([]RecordedEvent, error)

	// PositionAt returns the last position recorded at or before t, or 0 if
	// no event was recorded by then. It uses a time index, not a scan.
	// Returns ErrClosed or the context's error.
	PositionAt(ctx context.Context, t time.Time) (uint64, error)

	// Head returns the position of the last acknowledged event (0 when the
	// store is empty).
	Head(ctx context.Context) (uint64, error)

	// Subscribe delivers every event with position >= from, first the ones
	// already stored (catch-up) and then new ones as they are acknowledged
	// (live), in global order with no gap and no duplicate. The
	// subscription ends when ctx ends, when Close is called on it or on the
	// store; Err then says why.
	Subscribe(ctx context.Context, from uint64) (Subscription, error)

	// Close releases the store. Calls in flight finish or fail with
	// ErrClosed; later calls return ErrClosed.
	Close() error
}

// Subscription is a running subscription to the global log.
type Subscription interface {
	// Events yields events in global order. It is closed when the
	// subscription ends.
	Events() <-chan RecordedEvent
	// Err reports why the subscription ended: nil after Close, the
	// context's error, ErrClosed, or a read failure.
	Err() error
	// Close ends the subscription and waits for it to stop.
	Close() error
}

// Direction is the order in which ReadStream walks a stream.
type Direction int

const (
	// Forward reads from the given revision upwards.
	Forward Direction = iota
	// Backward reads from the given revision downwards.
	Backward
)

// LastRevision, passed as from to a Backward ReadStream, starts at the end.
const LastRevision = ^uint64(0)

// EventData is an event as proposed by a writer: everything the store
// records except where and when it was recorded.
type EventData struct {
	// ID identifies the event; it must be set (UUID v7 by convention) and
	// is the key for idempotent re-appends.
	ID uuid.UUID
	// Type names the event, e.g. "MemberJoined".
	Type string
	// Schema is the version of Type's data shape, starting at 1.
	Schema uint32
	// Data is the event's body: a JSON value, stored byte for byte.
	Data json.RawMessage
	// Metadata says who, why and in answer to what.
	Metadata Metadata
}

// Metadata is the part of the envelope that explains an event.
type Metadata struct {
	// ActorID is the id of the person or system that caused the event.
	ActorID string `json:"actor_id"`
	// ActorRole is the role they acted in (director, staff, system, …).
	ActorRole string `json:"actor_role"`
	// Reason is an optional human explanation.
	Reason string `json:"reason,omitempty"`
	// CausationID is the id of the event or command that caused this one.
	CausationID uuid.UUID `json:"causation_id"`
	// CorrelationID groups every event of one decision or conversation.
	CorrelationID uuid.UUID `json:"correlation_id"`
	// EffectiveAt, when set, is the real-world time the fact took effect,
	// if different from when it was recorded (a membership from
	// 1 September entered in October).
	EffectiveAt time.Time `json:"effective_at,omitzero"`
}

// RecordedEvent is an event as stored.
type RecordedEvent struct {
	EventData
	// StreamID is the stream the event belongs to.
	StreamID string
	// Revision is the event's 0-based index within its stream.
	Revision uint64
	// Position is the event's 1-based place in the global log.
	Position uint64
	// RecordedAt is when the store committed the event (UTC).
	RecordedAt time.Time
}

// AppendResult describes a successful append.
type AppendResult struct {
	// Revision is the stream's revision after the append (that of the last
	// event appended).
	Revision uint64
	// Positions are the global positions of the appended events, in order.
	Positions []uint64
	// RecordedAt is the events' recorded time when the backend reports it
	// (the segment store does; zero otherwise), so a caller can know the
	// recorded events without reading them back.
	RecordedAt time.Time
}

// ExpectedRevision is the optimistic-concurrency condition of an append.
// The zero value means Any.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// Any accepts the append whatever the stream's state.
func Any() ExpectedRevision { return ExpectedRevision{kind: expectAny} }

// NoStream accepts the append only if the stream has no events.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectNoStream} }

// StreamExists accepts the append only if the stream has at least one event.
func StreamExists() ExpectedRevision { return ExpectedRevision{kind: expectStreamExists} }

// Exact accepts the append only if the stream's last event has revision rev.
func Exact(rev uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: rev} }

// IsAny reports whether e is Any.
func (e ExpectedRevision) IsAny() bool { return e.kind == expectAny }

// IsNoStream reports whether e is NoStream.
func (e ExpectedRevision) IsNoStream() bool { return e.kind == expectNoStream }

// IsStreamExists reports whether e is StreamExists.
func (e ExpectedRevision) IsStreamExists() bool { return e.kind == expectStreamExists }

// ExactRevision returns the revision and true if e is Exact.
func (e ExpectedRevision) ExactRevision() (uint64, bool) {
	return e.revision, e.kind == expectExact
}

// Matches reports whether a stream whose current state is actual (-1 when
// the stream does not exist, else its last revision) satisfies e.
func (e ExpectedRevision) Matches(actual int64) bool {
	switch e.kind {
	case expectNoStream:
		return actual < 0
	case expectStreamExists:
		return actual >= 0
	case expectExact:
		return actual >= 0 && uint64(actual) == e.revision
	default:
		return true
	}
}

// String renders e for error messages.
func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return fmt.Sprintf("revision %d", e.revision)
	default:
		return "any"
	}
}
