package eventstore

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"github.com/google/uuid"
)

// ValidateStreamID returns an error wrapping ErrInvalidStreamID unless id
// is 1..MaxStreamIDLength bytes of letters, digits and "-_.:", not starting
// with '$' (reserved for system streams).
func ValidateStreamID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty", ErrInvalidStreamID)
	}
	if len(id) > MaxStreamIDLength {
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrInvalidStreamID, len(id), MaxStreamIDLength)
	}
	for i := 0; i < len(id); i++ {
		if !isIDByte(id[i]) {
			return fmt.Errorf("%w: %q has character %q at %d; use letters, digits and -_.:", ErrInvalidStreamID, id, id[i], i)
		}
	}
	return nil
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == ':'
}

// ValidateAppend checks an append's arguments as every backend must before
// writing anything: the stream ID, at least one event, each event's ID,
// type, schema, data and metadata, no ID twice in the call, and each
// event's canonical size against maxEventSize (DefaultMaxEventSize if
// maxEventSize <= 0). The returned error wraps ErrInvalidStreamID,
// ErrEmptyAppend, ErrInvalidEvent, ErrDuplicateEvent or ErrEventTooLarge.
func ValidateAppend(stream string, events []EventData, maxEventSize int) error {
	if err := ValidateStreamID(stream); err != nil {
		return err
	}
	if len(events) == 0 {
		return ErrEmptyAppend
	}
	if maxEventSize <= 0 {
		maxEventSize = DefaultMaxEventSize
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		if err := validateEvent(e); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		if _, dup := seen[e.ID]; dup {
			return fmt.Errorf("event %d: %w: id %s appears twice in one append", i, ErrDuplicateEvent, e.ID)
		}
		seen[e.ID] = struct{}{}
		if n := canonicalSize(RecordedEvent{EventData: e, StreamID: stream}); n > maxEventSize {
			return fmt.Errorf("event %d (%s): %w: %d bytes, limit %d", i, e.Type, ErrEventTooLarge, n, maxEventSize)
		}
	}
	return nil
}

func validateEvent(e EventData) error {
	switch {
	case e.ID == uuid.Nil:
		return fmt.Errorf("%w: missing id", ErrInvalidEvent)
	case e.Type == "" || len(e.Type) > maxTypeLength || e.Type[0] == '$':
		return fmt.Errorf("%w: type %q must be 1..%d characters and not start with '$'", ErrInvalidEvent, e.Type, maxTypeLength)
	case e.Schema == 0:
		return fmt.Errorf("%w: %s: schema version must be 1 or more", ErrInvalidEvent, e.Type)
	case len(e.Data) == 0 || !validJSON(e.Data):
		return fmt.Errorf("%w: %s: data is not a JSON value", ErrInvalidEvent, e.Type)
	case !utf8.ValidString(e.Type) || !utf8.ValidString(e.Metadata.ActorID) ||
		!utf8.ValidString(e.Metadata.ActorRole) || !utf8.ValidString(e.Metadata.Reason):
		return fmt.Errorf("%w: %s: type and metadata must be UTF-8", ErrInvalidEvent, e.Type)
	case len(e.Metadata.ActorID) > maxActorLength:
		return fmt.Errorf("%w: %s: actor id over %d bytes", ErrInvalidEvent, e.Type, maxActorLength)
	case len(e.Metadata.ActorRole) > maxRoleLength:
		return fmt.Errorf("%w: %s: actor role over %d bytes", ErrInvalidEvent, e.Type, maxRoleLength)
	case len(e.Metadata.Reason) > maxReasonLength:
		return fmt.Errorf("%w: %s: reason over %d bytes", ErrInvalidEvent, e.Type, maxReasonLength)
	case !e.Metadata.EffectiveAt.IsZero() && (e.Metadata.EffectiveAt.Year() < 1 || e.Metadata.EffectiveAt.Year() > 9999):
		return fmt.Errorf("%w: %s: effective time out of range", ErrInvalidEvent, e.Type)
	}
	return nil
}

// SameContent reports whether two events are the same event for the
// purpose of an idempotent re-append: equal ID, type, schema, data bytes
// and metadata.
func SameContent(a, b EventData) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Schema == b.Schema &&
		bytes.Equal(a.Data, b.Data) &&
		a.Metadata.ActorID == b.Metadata.ActorID &&
		a.Metadata.ActorRole == b.Metadata.ActorRole &&
		a.Metadata.Reason == b.Metadata.Reason &&
		a.Metadata.CausationID == b.Metadata.CausationID &&
		a.Metadata.CorrelationID == b.Metadata.CorrelationID &&
		a.Metadata.EffectiveAt.Equal(b.Metadata.EffectiveAt)
}
