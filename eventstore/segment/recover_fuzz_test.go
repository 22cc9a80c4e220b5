package segment

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// fuzzOpenDeadline is how long one Open of a fuzzed segment may take
// before the fuzzer calls it a hang: generous, as recovery of a one-file
// log takes milliseconds even on a loaded machine.
const fuzzOpenDeadline = 2 * time.Minute

// openWithin opens dir, failing t if Open does not return within
// fuzzOpenDeadline.
func openWithin(t *testing.T, dir string, opts Options) (*Store, error) {
	t.Helper()
	type opened struct {
		s   *Store
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		s, err := Open(context.Background(), dir, opts)
		ch <- opened{s, err}
	}()
	select {
	case o := <-ch:
		return o.s, o.err
	case <-time.After(fuzzOpenDeadline):
		t.Fatalf("Open did not return within %v", fuzzOpenDeadline)
		return nil, nil
	}
}

// FuzzRecoverSegment writes arbitrary bytes as the only segment of a
// store with no index and opens it (as is, and with CutDamagedTail). Open
// must return an error or a consistent store, never panic or hang: the
// events read back are positions 1..head in order, each stream's
// revisions count from 0, an append lands at head+1, and the store reopens
// to exactly the same log.
func FuzzRecoverSegment(f *testing.F) {
	// Seeds: a real segment of a few events (its data, and with the zeros
	// of a preallocated file after it), cut, flipped and empty.
	src := f.TempDir()
	s, err := Open(context.Background(), src, Options{IndexInterval: time.Hour, SegmentSize: MinSegmentSize, Logger: quietLogger()})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 4 {
		if _, err := s.Append(context.Background(), []string{"s-0", "s-1"}[i%2], eventstore.Any(), newEvent(i)); err != nil {
			f.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		f.Fatal(err)
	}
	seg, err := os.ReadFile(filepath.Join(src, segmentName(1)))
	if err != nil {
		f.Fatal(err)
	}
	data := bytes.TrimRight(seg, "\x00")
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 0x40
	for _, seed := range [][]byte{data, append(bytes.Clone(data), make([]byte, 512)...), data[:len(data)/2], data[:len(data)-3], flipped, {}, make([]byte, 64)} {
		f.Add(seed, false)
		f.Add(seed, true)
	}

	f.Fuzz(func(t *testing.T, seg []byte, cut bool) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), seg, 0o600); err != nil {
			t.Fatal(err)
		}
		opts := Options{IndexInterval: time.Hour, SegmentSize: MinSegmentSize, Logger: quietLogger(), CutDamagedTail: cut}
		s, err := openWithin(t, dir, opts)
		if err != nil {
			return // refused: fine, as long as it said so
		}
		defer s.Close()
		ctx := context.Background()
		before := checkConsistent(t, s)

		added := newEvent(1 << 20)
		res, err := s.Append(ctx, "fuzz-added", eventstore.Any(), added)
		if err != nil {
			t.Fatalf("append to a recovered log of %d events: %v", len(before), err)
		}
		if got, want := res.Positions, []uint64{uint64(len(before)) + 1}; len(got) != 1 || got[0] != want[0] {
			t.Fatalf("append landed at positions %v, want %v", got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		opts.CutDamagedTail = false
		s2, err := openWithin(t, dir, opts)
		if err != nil {
			t.Fatalf("reopen after recovery and one append: %v", err)
		}
		defer s2.Close()
		after := checkConsistent(t, s2)
		if len(after) != len(before)+1 {
			t.Fatalf("reopened log has %d events, want %d", len(after), len(before)+1)
		}
		for i, e := range before {
			if after[i].ID != e.ID || !bytes.Equal(after[i].Data, e.Data) || after[i].StreamID != e.StreamID {
				t.Fatalf("position %d changed on reopen: %+v, was %+v", i+1, after[i], e)
			}
		}
		if last := after[len(after)-1]; last.ID != added.ID || last.StreamID != "fuzz-added" {
			t.Fatalf("the added event reads back as %+v", last)
		}
	})
}

// checkConsistent reads the whole log of s and checks that it is
// positions 1..head in order, that each stream's revisions count from 0,
// and that reading each stream gives its events of the log.
func checkConsistent(t *testing.T, s *Store) []eventstore.RecordedEvent {
	t.Helper()
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	all, err := s.ReadAll(ctx, 1, 0)
	if err != nil {
		t.Fatalf("read the recovered log: %v", err)
	}
	if uint64(len(all)) != head {
		t.Fatalf("head %d but %d events read", head, len(all))
	}
	streams := map[string][]eventstore.RecordedEvent{}
	for i, e := range all {
		if e.Position != uint64(i)+1 {
			t.Fatalf("event %d has position %d", i+1, e.Position)
		}
		if got, want := e.Revision, uint64(len(streams[e.StreamID])); got != want {
			t.Fatalf("position %d: revision %d of %s, want %d", e.Position, got, e.StreamID, want)
		}
		streams[e.StreamID] = append(streams[e.StreamID], e)
	}
	for id, want := range streams {
		got, err := s.ReadStream(ctx, id, 0, eventstore.Forward, 0)
		if err != nil {
			t.Fatalf("read stream %s: %v", id, err)
		}
		if len(got) != len(want) {
			t.Fatalf("stream %s reads %d events, the log holds %d", id, len(got), len(want))
		}
		for i := range got {
			if got[i].Position != want[i].Position || got[i].ID != want[i].ID {
				t.Fatalf("stream %s event %d: position %d, the log says %d", id, i, got[i].Position, want[i].Position)
			}
		}
	}
	return all
}
