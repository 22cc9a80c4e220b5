package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concord-ledger/concord/eventstore/segment"
)

// damageRecord flips a byte in the payload of the record at position in
// the data directory's (single) segment.
func damageRecord(t *testing.T, data string, position uint64) {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(data, eventsDir, "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("%d segments, want 1", len(segs))
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off+8 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[off:]))
		if n == 0 {
			break
		}
		if binary.BigEndian.Uint64(b[off+9:]) == position {
			b[off+8+n-2] ^= 0x01
			if err := os.WriteFile(segs[0], b, 0o600); err != nil {
				t.Fatal(err)
			}
			return
		}
		off += 8 + n
	}
	t.Fatalf("no record at position %d", position)
}

// TestRepairCutsOnlyWhenTold: a damaged record near the end of the log
// with complete records after it (found by recovery's scan: the index is
// gone) stops every command that opens the log,
// naming the position and the repair command; concord repair says what a
// cut would drop and changes nothing; concord repair --cut cuts there.
func TestRepairCutsOnlyWhenTold(t *testing.T) {
	data := makeDataDir(t, 80)
	if code, out, stderr := run(t, "repair", "--data", data); code != exitOK || !strings.Contains(out, "nothing to repair") {
		t.Fatalf("repair of a sound log: exit %d: %s %s", code, out, stderr)
	}
	head := func() uint64 {
		s, err := segment.Open(context.Background(), filepath.Join(data, eventsDir), segment.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		h, _ := s.Head(context.Background())
		return h
	}
	total := head()
	damageRecord(t, data, 70)
	// Recovery scans the log from the last indexed record; without the
	// index (lost, or behind after a crash) it scans it all.
	if err := os.Remove(filepath.Join(data, eventsDir, "index.bolt")); err != nil {
		t.Fatal(err)
	}
	seg, _ := filepath.Glob(filepath.Join(data, eventsDir, "*.seg"))
	before, _ := os.ReadFile(seg[0])

	code, _, stderr := run(t, "export", "--data", data, "--out", filepath.Join(t.TempDir(), "x.ndjson"))
	if code != exitFailure || !strings.Contains(stderr, "position 70") || !strings.Contains(stderr, "concord repair --data "+data+" --cut") {
		t.Fatalf("export of the damaged log: exit %d: %s", code, stderr)
	}
	code, out, _ := run(t, "repair", "--data", data)
	if code != exitFailure || !strings.Contains(out, "end the log at position 69") || !strings.Contains(out, "Nothing was changed") {
		t.Fatalf("repair without --cut: exit %d: %s", code, out)
	}
	if after, _ := os.ReadFile(seg[0]); !bytes.Equal(before, after) {
		t.Fatal("repair without --cut changed the segment")
	}
	code, out, stderr = run(t, "repair", "--data", data, "--cut")
	if code != exitOK || !strings.Contains(out, "now ends at position 69") || !strings.Contains(out, "DROPPED") {
		t.Fatalf("repair --cut: exit %d: %s %s", code, out, stderr)
	}
	if got := head(); got != 69 || total <= 70 {
		t.Fatalf("head after the cut %d (was %d), want 69", got, total)
	}
}
