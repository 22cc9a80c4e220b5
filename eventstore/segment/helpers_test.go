package segment

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
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

// crash stops s the way a killed process leaves it: no final index
// commit, the index not marked clean, files closed without further
// syncs. The index keeps whatever the indexer had committed.
func crash(s *Store) {
	s.life.Lock()
	s.closed = true
	s.life.Unlock()
	s.appends.Wait()
	close(s.stopCommit)
	<-s.commitDone
	close(s.stopIndex)
	<-s.indexDone
	close(s.done)
	s.ops.Wait()
	s.closeFiles()
}

// segmentPaths returns the store's segment files in order.
func segmentPaths(t testing.TB, dir string) []string {
	t.Helper()
	bases, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(bases))
	for i, b := range bases {
		paths[i] = filepath.Join(dir, segmentName(b))
	}
	return paths
}

// recordOffsets returns the offset of each record in a segment file.
func recordOffsets(t testing.TB, path string) []int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for off := int64(0); ; {
		_, next, st := parseFrame(data, off)
		if st != frameOK {
			return offs
		}
		offs = append(offs, off)
		off = next
	}
}

// patchFile overwrites bytes of a file at off.
func patchFile(t testing.TB, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// flipByte inverts the bits of the byte at off.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	patchFile(t, path, off, []byte{^data[off]})
}

func mustAppend(t testing.TB, s eventstore.Store, stream string, expected eventstore.ExpectedRevision, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(context.Background(), stream, expected, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s: %v", len(evs), stream, err)
	}
	return res
}

func mustReadAll(t testing.TB, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := s.ReadAll(context.Background(), 0, 0)
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	return evs
}

// sameEvents fails unless got and want are the same events, field for
// field.
func sameEvents(t testing.TB, what string, got, want []eventstore.RecordedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s: event %d is\n%+v\nwant\n%+v", what, i, got[i], want[i])
		}
	}
}

// logBuffer is a slog handler target that tests can read.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
