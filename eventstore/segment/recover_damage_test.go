package segment

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/concord-ledger/concord/eventstore"
)

// TestDamageFollowedByRecordsIsRefused damages a record of the last
// segment that complete records follow. A torn write leaves a prefix of
// its bytes, never a hole with whole records after it, so this is damage
// to acknowledged data: Open must fail naming the position and the repair
// command, and change nothing; only CutDamagedTail cuts, and then exactly
// at the damaged record.
func TestDamageFollowedByRecordsIsRefused(t *testing.T) {
	const n = 20
	cases := []struct {
		name string
		// damage harms record i (0-based) of the segment, given the
		// offsets of all its records and the end of its data.
		damage    func(t *testing.T, path string, offs []int64, end int64)
		bad       int // 0-based index of the damaged record: position bad+1
		following [2]uint64
	}{
		{"flipped byte in a middle record", func(t *testing.T, path string, offs []int64, end int64) {
			flipByte(t, path, offs[10]+frameHeaderSize+40)
		}, 10, [2]uint64{12, 20}},
		{"middle record zeroed", func(t *testing.T, path string, offs []int64, end int64) {
			patchFile(t, path, offs[10], make([]byte, offs[11]-offs[10]))
		}, 10, [2]uint64{12, 20}},
		{"flipped checksum of the last but one record", func(t *testing.T, path string, offs []int64, end int64) {
			flipByte(t, path, offs[n-2]+5)
		}, n - 2, [2]uint64{20, 20}},
		{"length of the last but one record cut to garbage", func(t *testing.T, path string, offs []int64, end int64) {
			patchFile(t, path, offs[n-2], []byte{0xff, 0xff, 0xff, 0xff})
		}, n - 2, [2]uint64{20, 20}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, noIndexing)
			want := appendN(t, s, n)
			crash(s)
			if err := os.Remove(filepath.Join(dir, indexFile)); err != nil {
				t.Fatal(err)
			}
			paths := segmentPaths(t, dir)
			if len(paths) != 1 {
				t.Fatalf("%d segments, want 1", len(paths))
			}
			path := paths[0]
			offs := recordOffsets(t, path)
			_, end, _ := parseFrame(mustReadFile(t, path), offs[len(offs)-1])
			c.damage(t, path, offs, end)
			before := mustReadFile(t, path)

			opts := noIndexing
			opts.RepairHint = "concord repair --data /srv/concord --cut"
			s, err := Open(context.Background(), dir, opts)
			if err == nil {
				s.Close()
				t.Fatal("open succeeded on a log with records after a damaged one")
			}
			var dt *DamagedTailError
			if !errors.As(err, &dt) || !errors.Is(err, eventstore.ErrCorrupt) {
				t.Fatalf("open: %v, want a *DamagedTailError matching ErrCorrupt", err)
			}
			if got, want := dt.Position, uint64(c.bad+1); got != want {
				t.Errorf("damaged position %d, want %d", got, want)
			}
			if dt.Following != c.following {
				t.Errorf("following records %v, want %v", dt.Following, c.following)
			}
			for _, s := range []string{"position " + strconv.Itoa(c.bad+1), "concord repair --data /srv/concord --cut", "nothing was cut"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
			if !bytes.Equal(mustReadFile(t, path), before) {
				t.Fatal("the refused open changed the segment")
			}

			// The explicit repair cuts exactly at the damaged record.
			var logs logBuffer
			opts.CutDamagedTail = true
			opts.Logger = logs.logger()
			s = mustOpen(t, dir, opts)
			if got := s.Stats().Head; got != uint64(c.bad) {
				t.Fatalf("head=%d after the repair, want %d", got, c.bad)
			}
			sameEvents(t, "after the repair", mustReadAll(t, s), want[:c.bad])
			if !strings.Contains(logs.String(), "CUT DAMAGED LOG") {
				t.Errorf("the repair logged no error about what it cut:\n%s", logs.String())
			}
			res := mustAppend(t, s, "s-0", eventstore.Any(), newEvent(100))
			if got, want := res.Positions[0], uint64(c.bad+1); got != want {
				t.Errorf("next append at position %d, want %d", got, want)
			}
			after := mustReadAll(t, s)
			crash(s)
			s = mustOpen(t, dir, noIndexing)
			sameEvents(t, "reopened after the repair", mustReadAll(t, s), after)
		})
	}
}

// TestOpenTightensModes opens a store in a directory an older version left
// open to other users: the directory becomes 0700 and every file 0600, and
// new files are created so.
func TestOpenTightensModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "events")
	s := mustOpen(t, dir, Options{SegmentSize: MinSegmentSize, Logger: quietLogger()})
	appendN(t, s, 5)
	mustClose(t, s)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s = mustOpen(t, dir, Options{SegmentSize: MinSegmentSize, Logger: quietLogger()})
	appendN(t, s, 200) // rolls to new segments
	mustClose(t, s)
	checkModes(t, dir)
}

// checkModes fails for any directory under root not 0700 and any file not
// 0600.
func checkModes(t *testing.T, root string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 3 {
		t.Fatalf("only %d files under %s", files, root)
	}
}

// BenchmarkRecordsAfter measures the worst case recovery adds to an Open
// after a crash: looking for complete records in a full window
// (maxAppendBytes) of non-zero bytes after the end of the log, at every
// offset.
func BenchmarkRecordsAfter(b *testing.B) {
	dir := b.TempDir()
	sg, err := createSegment(dir, 1, maxAppendBytes+MinSegmentSize)
	if err != nil {
		b.Fatal(err)
	}
	defer sg.close()
	junk := make([]byte, maxAppendBytes)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	if _, err := sg.f.WriteAt(junk, 0); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(junk)))
	for b.Loop() {
		if got, err := recordsAfter(sg, 0, int64(len(junk)), 1); err != nil || len(got) != 0 {
			b.Fatalf("%v %v", got, err)
		}
	}
}
