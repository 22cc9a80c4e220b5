package memory

import (
	"context"
	"fmt"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

// Import appends events recorded elsewhere (an export) keeping their
// positions, revisions and recorded times, so the imported log has the
// same canonical bytes, and so the same Merkle tree and checkpoints, as
// the exported one. It implements export.Importer.
//
// The events must continue the log exactly: the first at position
// Head()+1 and the rest dense, each revision the next of its stream, IDs
// not stored yet nor repeated, recorded times not before the previous
// event's. Each event is checked as Append checks it. All or nothing:
// returns an error wrapping eventstore.ErrInvalidEvent,
// eventstore.ErrInvalidStreamID, eventstore.ErrEventTooLarge or
// eventstore.ErrDuplicateEvent and writes nothing; ErrClosed after Close.
func (s *Store) Import(ctx context.Context, events []eventstore.RecordedEvent) error {
	if len(events) == 0 {
		return eventstore.ErrEmptyAppend
	}
	for _, e := range events {
		if err := eventstore.ValidateAppend(e.StreamID, []eventstore.EventData{e.EventData}, s.maxEventSize); err != nil {
			return fmt.Errorf("import position %d: %w", e.Position, err)
		}
		if y := e.RecordedAt.Year(); y < 1 || y > 9999 {
			return fmt.Errorf("import position %d: %w: recorded time out of range", e.Position, eventstore.ErrInvalidEvent)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	// Check everything before changing anything.
	next := uint64(len(s.log)) + 1
	revs := map[string]uint64{}
	ids := make(map[uuid.UUID]struct{}, len(events))
	var last eventstore.RecordedEvent
	if len(s.log) > 0 {
		last = s.log[len(s.log)-1]
	}
	for i, e := range events {
		if want := next + uint64(i); e.Position != want {
			return fmt.Errorf("import: %w: position %d where %d was due", eventstore.ErrInvalidEvent, e.Position, want)
		}
		rev, ok := revs[e.StreamID]
		if !ok {
			rev = uint64(len(s.streams[e.StreamID]))
		}
		if e.Revision != rev {
			return fmt.Errorf("import position %d: %w: revision %d of %s where %d was due", e.Position, eventstore.ErrInvalidEvent, e.Revision, e.StreamID, rev)
		}
		revs[e.StreamID] = rev + 1
		if _, dup := s.ids[e.ID]; dup {
			return fmt.Errorf("import position %d: %w: id %s is already stored", e.Position, eventstore.ErrDuplicateEvent, e.ID)
		}
		if _, dup := ids[e.ID]; dup {
			return fmt.Errorf("import position %d: %w: id %s appears twice", e.Position, eventstore.ErrDuplicateEvent, e.ID)
		}
		ids[e.ID] = struct{}{}
		if e.RecordedAt.Before(last.RecordedAt) {
			return fmt.Errorf("import position %d: %w: recorded at %s, before the previous event (%s)", e.Position, eventstore.ErrInvalidEvent,
				eventstore.FormatTime(e.RecordedAt), eventstore.FormatTime(last.RecordedAt))
		}
		last = e
	}
	for _, e := range events {
		e.EventData = clone(e.EventData)
		e.RecordedAt = e.RecordedAt.UTC()
		s.log = append(s.log, e)
		s.streams[e.StreamID] = append(s.streams[e.StreamID], e.Position)
		s.ids[e.ID] = e.Position
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}
