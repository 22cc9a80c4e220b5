package benchmark

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

// EventSize is the size of every benchmark event as stored: the length of
// its canonical encoding (eventstore.EncodeCanonical) in a writer's stream.
// Engines add their own framing on top.
const EventSize = 512

// EventType is the type of every benchmark event.
const EventType = "BenchmarkAppended"

// StreamID returns the stream that writer w appends to. Every writer owns
// one stream, so optimistic-concurrency appends never conflict.
func StreamID(w int) string { return fmt.Sprintf("bench-%04d", w) }

// template is the event every NewEvent copies: a JSON body padded so that
// the canonical encoding in StreamID(0) is exactly EventSize bytes.
var template = sync.OnceValue(func() eventstore.EventData {
	e := eventstore.EventData{
		Type:   EventType,
		Schema: 1,
		Metadata: eventstore.Metadata{
			ActorID:       "bench",
			ActorRole:     "system",
			CorrelationID: uuid.MustParse("0192f3a0-0000-7000-8000-00000000be4c"),
		},
	}
	size := func(pad int) int {
		e.Data = json.RawMessage(`{"pad":"` + strings.Repeat("x", pad) + `"}`)
		return len(eventstore.EncodeCanonical(eventstore.RecordedEvent{EventData: e, StreamID: StreamID(0)}))
	}
	size(EventSize - size(0)) // leaves e.Data padded to EventSize
	return e
})

// NewEvent returns a fresh benchmark event: a new UUID v7 and the shared
// padded body. Callers must not modify its Data.
func NewEvent() eventstore.EventData {
	e := template()
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	e.ID = id
	return e
}
