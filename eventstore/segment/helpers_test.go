package segment

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

// mustOpen opens a store in dir and closes it when the test ends (a
// second Close from the test itself is harmless).
func mustOpen(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustClose(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// sizedEvent returns a valid event whose canonical encoding in a stream
// named like "s-00" is about size bytes.
func sizedEvent(size int) eventstore.EventData {
	const overhead = 1 + 8 + 8 + 16 + 2 + 4 + 2 + 4 + 4 + 2 + 30 + 2 + 6 + 2 + 6 + 4 + 16 + 16 + 2 + 4 + 2
	pad := max(size-overhead, 0)
	return eventstore.EventData{
		ID:     uuid.Must(uuid.NewV7()),
		Type:   "Test",
		Schema: 1,
		Data:   []byte(`"` + strings.Repeat("x", pad) + `"`),
		Metadata: eventstore.Metadata{
			ActorID:       "actor1",
			ActorRole:     "system",
			CausationID:   uuid.Must(uuid.NewV7()),
			CorrelationID: uuid.Must(uuid.NewV7()),
		},
	}
}

func newEvent(n int) eventstore.EventData {
	return eventstore.EventData{
		ID:     uuid.Must(uuid.NewV7()),
		Type:   "Numbered",
		Schema: 1,
		Data:   []byte(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata: eventstore.Metadata{
			ActorID:   "tester",
			ActorRole: "system",
		},
	}
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
