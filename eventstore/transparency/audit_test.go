package transparency_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// syncBuffer collects log output from the follower's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSelfAuditFailureStopsSigning: an event under a signed checkpoint is
// changed on disk by someone who fixes the frame's checksum, and the
// Merkle files are removed so the tree is rebuilt from the changed log.
// When the follower reaches that checkpoint, the log must stop signing
// (checkpoints and cosignatures), report the finding, and log an error
// naming the first position that may have changed: the one after the
// previous checkpoint, which still holds.
func TestSelfAuditFailureStopsSigning(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	opts := segment.Options{Logger: quiet, SegmentSize: 1 << 20}
	dir := t.TempDir()
	s, err := segment.Open(ctx, filepath.Join(dir, "events"), opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := transparency.Open(ctx, s, dir, transparency.Options{Logger: quiet, CheckpointEvery: 1 << 20, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []uint64
	for i := range 3 {
		appendN(t, s, "stream-"+string(rune('a'+i)), 50)
		if err := l.WaitFor(ctx, head(t, s)); err != nil {
			t.Fatal(err)
		}
		cp, err := l.SignCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, cp.Size)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Checkpoints at 50, 101 and 152 (each checkpoint event takes a
	// position). Change the event at position 70, under the second.
	if sizes[0] != 50 || sizes[1] != 101 {
		t.Fatalf("checkpoint sizes %v, want 50, 101, …", sizes)
	}
	const changed = 70
	clean := t.TempDir()
	copyDir(t, dir, clean)
	segs, _ := filepath.Glob(filepath.Join(dir, "events", "*.seg"))
	var target *record
	for _, p := range segs {
		recs, _ := frames(t, p)
		for i := range recs {
			if recs[i].position == changed {
				target = &recs[i]
			}
		}
	}
	if target == nil {
		t.Fatalf("no record at position %d", changed)
	}
	path := filepath.Join(dir, "events", target.seg)
	flip(t, path, target.end-2, 0x01) // the last digit of {"n":18}
	fixCRC(t, path, *target)

	for _, c := range []struct {
		name    string
		dir     string
		tamper  bool
		wantLog string
	}{
		{"untouched copy", clean, false, ""},
		{"changed event", dir, true, "first_bad_position=51"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.RemoveAll(filepath.Join(c.dir, transparency.TreeDir)); err != nil {
				t.Fatal(err)
			}
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			s, err := segment.Open(ctx, filepath.Join(c.dir, "events"), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			l, err := transparency.Open(ctx, s, c.dir, transparency.Options{Logger: logger, CheckpointEvery: 1 << 20, CheckpointInterval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := l.WaitFor(ctx, head(t, s)); err != nil {
				t.Fatal(err)
			}
			appendN(t, s, "later", 3)
			if err := l.WaitFor(ctx, head(t, s)); err != nil {
				t.Fatal(err)
			}
			_, signErr := l.SignCheckpoint(ctx)
			found := l.AuditFailure()
			if !c.tamper {
				if found != nil || signErr != nil {
					t.Fatalf("untouched log: audit %v, sign %v", found, signErr)
				}
				return
			}
			if found == nil {
				t.Fatal("the self-audit found nothing")
			}
			if found.FirstBad != 51 || found.TreeSize != 101 {
				t.Errorf("audit names positions %d..%d, want 51..101", found.FirstBad, found.TreeSize)
			}
			if !errors.Is(signErr, transparency.ErrAuditFailed) {
				t.Errorf("SignCheckpoint after the audit failed: %v, want ErrAuditFailed", signErr)
			}
			latest, _ := l.LatestCheckpoint()
			if latest.Size != sizes[2] {
				t.Errorf("latest checkpoint size %d after the failure, want still %d", latest.Size, sizes[2])
			}
			if _, err := l.AddCosignature(ctx, sizes[2], []byte(latest.Note)); !errors.Is(err, transparency.ErrAuditFailed) {
				t.Errorf("AddCosignature after the audit failed: %v, want ErrAuditFailed", err)
			}
			out := logs.String()
			if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, c.wantLog) || !strings.Contains(out, "SELF-AUDIT FAILED") {
				t.Errorf("the log does not hold an error naming the first bad position (%s):\n%s", c.wantLog, out)
			}
		})
	}
}
