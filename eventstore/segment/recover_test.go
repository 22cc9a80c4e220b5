package segment

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	bolt "go.etcd.io/bbolt"
)

// noIndexing keeps every event in the tail until the test says otherwise,
// so a crash leaves the log ahead of the index.
var noIndexing = Options{IndexInterval: time.Hour, SegmentSize: 1 << 20, Logger: quietLogger()}

// appendN appends n events, one per call, over three streams, and returns
// them as read back.
func appendN(t testing.TB, s *Store, n int) []eventstore.RecordedEvent {
	t.Helper()
	for i := range n {
		mustAppend(t, s, fmt.Sprintf("s-%d", i%3), eventstore.Any(), newEvent(i))
	}
	return mustReadAll(t, s)
}

func TestTornTail(t *testing.T) {
	const n = 20
	cases := []struct {
		name string
		// damage harms the segment whose last record starts at last and
		// whose data ends at end.
		damage func(t *testing.T, path string, last, end int64)
		keep   int  // events that survive
		quiet  bool // no warning expected: the log just ends there
	}{
		{"file cut mid-record", func(t *testing.T, path string, last, end int64) {
			if err := os.Truncate(path, last+20); err != nil {
				t.Fatal(err)
			}
		}, n - 1, false},
		// The high bytes of a small record's length are zeros: the log
		// just ends.
		{"file cut in the length", func(t *testing.T, path string, last, end int64) {
			if err := os.Truncate(path, last+3); err != nil {
				t.Fatal(err)
			}
		}, n - 1, true},
		{"file cut mid-header", func(t *testing.T, path string, last, end int64) {
			if err := os.Truncate(path, last+6); err != nil {
				t.Fatal(err)
			}
		}, n - 1, false},
		{"file cut at the last record", func(t *testing.T, path string, last, end int64) {
			if err := os.Truncate(path, last); err != nil {
				t.Fatal(err)
			}
		}, n - 1, true},
		{"last record's end unwritten", func(t *testing.T, path string, last, end int64) {
			patchFile(t, path, end-10, make([]byte, 10))
		}, n - 1, false},
		{"flipped byte in the last record", func(t *testing.T, path string, last, end int64) {
			flipByte(t, path, last+frameHeaderSize+40)
		}, n - 1, false},
		{"flipped byte in the last checksum", func(t *testing.T, path string, last, end int64) {
			flipByte(t, path, last+5)
		}, n - 1, false},
		{"absurd last length", func(t *testing.T, path string, last, end int64) {
			patchFile(t, path, last, []byte{0xff, 0xff, 0xff, 0xff})
		}, n - 1, false},
		{"half a record after the end", func(t *testing.T, path string, last, end int64) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			patchFile(t, path, end, data[last:last+(end-last)/2])
		}, n, false},
		{"garbage after the end", func(t *testing.T, path string, last, end int64) {
			patchFile(t, path, end+1000, []byte("not a record"))
		}, n, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, noIndexing)
			want := appendN(t, s, n)
			crash(s)

			paths := segmentPaths(t, dir)
			path := paths[len(paths)-1]
			offs := recordOffsets(t, path)
			last := offs[len(offs)-1]
			_, end, _ := parseFrame(mustReadFile(t, path), last)
			c.damage(t, path, last, end)

			var logs logBuffer
			opts := noIndexing
			opts.Logger = logs.logger()
			s = mustOpen(t, dir, opts)
			if got := s.Stats().Head; got != uint64(c.keep) {
				t.Fatalf("head=%d after recovery, want %d", got, c.keep)
			}
			sameEvents(t, "after recovery", mustReadAll(t, s), want[:c.keep])
			if c.keep < n && !c.quiet && !strings.Contains(logs.String(), "cut torn tail") {
				t.Errorf("no warning about the torn tail in the log:\n%s", logs.String())
			}

			// Appends continue densely, and survive another crash.
			res := mustAppend(t, s, "s-0", eventstore.Any(), newEvent(100))
			if got, want := res.Positions[0], uint64(c.keep+1); got != want {
				t.Errorf("next append at position %d, want %d", got, want)
			}
			after := mustReadAll(t, s)
			crash(s)
			s = mustOpen(t, dir, noIndexing)
			sameEvents(t, "after a second recovery", mustReadAll(t, s), after)
			if evs, err := s.ReadStream(context.Background(), "s-0", 0, eventstore.Forward, 0); err != nil {
				t.Fatal(err)
			} else {
				for i, e := range evs {
					if e.Revision != uint64(i) {
						t.Fatalf("s-0 revision %d at index %d", e.Revision, i)
					}
				}
			}
		})
	}
}

func mustReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCorruptionIsRefused damages the log where recovery cannot tell it
// from a torn tail; Open must fail with ErrCorrupt rather than drop data.
func TestCorruptionIsRefused(t *testing.T) {
	small := Options{IndexInterval: time.Hour, SegmentSize: MinSegmentSize, Logger: quietLogger()}
	cases := []struct {
		name   string
		opts   Options
		events int
		size   int // event size, 0 for small ones
		clean  bool
		damage func(t *testing.T, dir string)
	}{
		{"flipped byte in an older segment", small, 200, 0, false, func(t *testing.T, dir string) {
			p := segmentPaths(t, dir)[1]
			flipByte(t, p, recordOffsets(t, p)[1]+frameHeaderSize+30)
		}},
		{"zeroed record in an older segment", small, 200, 0, false, func(t *testing.T, dir string) {
			p := segmentPaths(t, dir)[0]
			offs := recordOffsets(t, p)
			patchFile(t, p, offs[1], make([]byte, offs[2]-offs[1]))
		}},
		{"missing segment", small, 200, 0, false, func(t *testing.T, dir string) {
			if err := os.Remove(segmentPaths(t, dir)[1]); err != nil {
				t.Fatal(err)
			}
		}},
		{"missing first segment", small, 200, 0, false, func(t *testing.T, dir string) {
			if err := os.Remove(segmentPaths(t, dir)[0]); err != nil {
				t.Fatal(err)
			}
		}},
		{"flipped byte far before the end of the last segment",
			Options{IndexInterval: time.Hour, SegmentSize: 64 << 20, Logger: quietLogger()},
			300, 60 << 10, false, func(t *testing.T, dir string) {
				p := segmentPaths(t, dir)[0]
				flipByte(t, p, recordOffsets(t, p)[3]+frameHeaderSize+30)
			}},
		{"log shorter than the index", small, 40, 0, true, func(t *testing.T, dir string) {
			paths := segmentPaths(t, dir)
			p := paths[len(paths)-1]
			offs := recordOffsets(t, p)
			if err := os.Truncate(p, offs[len(offs)-1]); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, c.opts)
			for i := range c.events {
				e := newEvent(i)
				if c.size > 0 {
					e = sizedEvent(c.size)
				}
				mustAppend(t, s, fmt.Sprintf("s-%d", i%3), eventstore.Any(), e)
			}
			if c.clean {
				mustClose(t, s)
			} else {
				crash(s)
				if err := os.Remove(filepath.Join(dir, indexFile)); err != nil {
					t.Fatal(err)
				}
			}
			c.damage(t, dir)
			s, err := Open(context.Background(), dir, c.opts)
			if err == nil {
				s.Close()
				t.Fatal("open succeeded on a damaged log")
			}
			if !errors.Is(err, eventstore.ErrCorrupt) {
				t.Fatalf("open: %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestIndexRebuild reopens a store whose index is missing, unreadable or
// untrustworthy: it is rebuilt from the log and nothing changes.
func TestIndexRebuild(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("not bbolt ", 1000)), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"left by a crash in an earlier boot", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketMeta)
				if err := b.Delete(keyClean); err != nil {
					return err
				}
				return b.Put(keyBoot, []byte("some other boot"))
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"pointing at the wrong record", func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o644, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.Update(func(tx *bolt.Tx) error {
				v := binary.BigEndian.AppendUint64(nil, 150)
				v = binary.BigEndian.AppendUint64(v, 12345)
				return tx.Bucket(bucketMeta).Put(keyLast, v)
			})
			if err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
			opts := Options{SegmentSize: 64 << 10, Now: clock.Now, Logger: quietLogger()}
			s := mustOpen(t, dir, opts)
			var all []eventstore.EventData
			for i := range 300 {
				clock.t = clock.t.Add(time.Second)
				e := newEvent(i)
				all = append(all, e)
				mustAppend(t, s, fmt.Sprintf("s-%d", i%7), eventstore.Any(), e)
			}
			want := mustReadAll(t, s)
			mustClose(t, s)

			c.damage(t, filepath.Join(dir, indexFile))
			var logs logBuffer
			opts.Logger = logs.logger()
			s = mustOpen(t, dir, opts)
			if !strings.Contains(logs.String(), "rebuilding") {
				t.Errorf("no warning about rebuilding the index:\n%s", logs.String())
			}
			if st := s.Stats(); st.Indexed != 300 || st.Head != 300 {
				t.Errorf("stats after rebuild: %+v, want head and indexed 300", st)
			}
			checkStore(t, s, want)
			// Old events are still known: re-appending is idempotent.
			res, err := s.Append(context.Background(), "s-3", eventstore.Any(), all[3])
			if err != nil || res.Positions[0] != 4 || res.Revision != 0 {
				t.Errorf("re-append of event 4: %+v, %v; want position 4 revision 0", res, err)
			}
		})
	}
}

// checkStore checks that every way of reading s agrees with want, the
// whole log in order.
func checkStore(t *testing.T, s *Store, want []eventstore.RecordedEvent) {
	t.Helper()
	ctx := context.Background()
	sameEvents(t, "ReadAll", mustReadAll(t, s), want)
	for from := 1; from <= len(want); from += 37 {
		got, err := s.ReadAll(ctx, uint64(from), 5)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, fmt.Sprintf("ReadAll(%d, 5)", from), got, want[from-1:min(len(want), from+4)])
	}
	streams := map[string][]eventstore.RecordedEvent{}
	for _, e := range want {
		streams[e.StreamID] = append(streams[e.StreamID], e)
	}
	for name, evs := range streams {
		got, err := s.ReadStream(ctx, name, 0, eventstore.Forward, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameEvents(t, "ReadStream "+name, got, evs)
		back, err := s.ReadStream(ctx, name, eventstore.LastRevision, eventstore.Backward, 3)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range back {
			if w := evs[len(evs)-1-i]; e.Position != w.Position {
				t.Fatalf("ReadStream %s backward: event %d at position %d, want %d", name, i, e.Position, w.Position)
			}
		}
	}
	for i, e := range want {
		if i%23 != 0 && i != len(want)-1 {
			continue
		}
		p, err := s.PositionAt(ctx, e.RecordedAt)
		if err != nil {
			t.Fatal(err)
		}
		// The last event recorded at that time.
		last := i
		for last+1 < len(want) && !want[last+1].RecordedAt.After(e.RecordedAt) {
			last++
		}
		if p != want[last].Position {
			t.Errorf("PositionAt(%v)=%d, want %d", e.RecordedAt, p, want[last].Position)
		}
	}
}

// TestRecoveryIndexesTheTail crashes a store whose index covers only part
// of the log: recovery indexes the rest.
func TestRecoveryIndexesTheTail(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, noIndexing)
	appendN(t, s, 150)
	if err := s.indexOnce(); err != nil {
		t.Fatal(err)
	}
	want := appendN(t, s, 100)
	if st := s.Stats(); st.Indexed != 150 || st.IndexLag != 100 {
		t.Fatalf("stats before the crash: %+v", st)
	}
	crash(s)
	s = mustOpen(t, dir, noIndexing)
	if st := s.Stats(); st.Indexed != 250 || st.Head != 250 {
		t.Fatalf("stats after recovery: %+v, want head and indexed 250", st)
	}
	checkStore(t, s, want)
}
