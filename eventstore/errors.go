package eventstore

import (
	"errors"
	"fmt"
)

// Errors returned for input a store refuses. A refused call writes nothing.
var (
	// ErrEmptyAppend is returned when Append is called with no events.
	ErrEmptyAppend = errors.New("eventstore: append has no events")
	// ErrInvalidStreamID is returned when a stream ID is empty, longer than
	// MaxStreamIDLength, starts with '$' or holds characters other than
	// letters, digits and "-_.:".
	ErrInvalidStreamID = errors.New("eventstore: invalid stream id")
	// ErrInvalidEvent is returned when an event has no ID, no or a bad
	// type, schema 0, data that is not a JSON value, or bad metadata.
	ErrInvalidEvent = errors.New("eventstore: invalid event")
	// ErrEventTooLarge is returned when an event's encoding exceeds the
	// store's maximum event size.
	ErrEventTooLarge = errors.New("eventstore: event too large")
)

// Errors returned when the log's state refuses an append.
var (
	// ErrWrongExpectedRevision is returned (as a *WrongExpectedRevisionError)
	// when a stream's revision does not satisfy the append's expectation.
	ErrWrongExpectedRevision = errors.New("eventstore: wrong expected revision")
	// ErrDuplicateEvent is returned when an event ID is already stored with
	// other content, in another stream or at another revision, or appears
	// twice in one append.
	ErrDuplicateEvent = errors.New("eventstore: event id already used for a different event")
)

// Errors returned about the store itself.
var (
	// ErrClosed is returned when the store or subscription has been closed.
	ErrClosed = errors.New("eventstore: store is closed")
	// ErrCorrupt is returned when stored data fails its checksum or framing
	// in a place recovery cannot repair (not at the tail of the log).
	ErrCorrupt = errors.New("eventstore: corrupt data")
)

// WrongExpectedRevisionError carries the stream's actual revision when an
// append's expectation was not met. It matches ErrWrongExpectedRevision
// with errors.Is.
type WrongExpectedRevisionError struct {
	Stream   string
	Expected ExpectedRevision
	// Actual is the stream's last revision, or -1 if it has no events.
	Actual int64
}

func (e *WrongExpectedRevisionError) Error() string {
	actual := "no stream"
	if e.Actual >= 0 {
		actual = fmt.Sprintf("revision %d", e.Actual)
	}
	return fmt.Sprintf("eventstore: wrong expected revision on %s: expected %s, actual %s", e.Stream, e.Expected, actual)
}

// Is makes errors.Is(err, ErrWrongExpectedRevision) true.
func (e *WrongExpectedRevisionError) Is(target error) bool { return target == ErrWrongExpectedRevision }
