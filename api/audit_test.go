package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// forgeEvent changes old to new (same length) inside the event recorded at
// position in the data directory's segment files and recomputes the
// frame's checksum, as someone who knows the format would. It fails the
// test if no record at position holds old.
func forgeEvent(t *testing.T, dataDir string, position uint64, old, new string) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dataDir, ledger.EventsDir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range segs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+8 <= len(b); {
			n := int(binary.BigEndian.Uint32(b[off:]))
			if n == 0 {
				break
			}
			payload := b[off+8 : off+8+n]
			if binary.BigEndian.Uint64(payload[1:]) == position {
				i := bytes.Index(payload, []byte(old))
				if i < 0 {
					t.Fatalf("the event at position %d does not hold %q", position, old)
				}
				copy(payload[i:], new)
				binary.BigEndian.PutUint32(b[off+4:], crc32.Checksum(payload, crc32.MakeTable(crc32.Castagnoli)))
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			off += 8 + n
		}
	}
	t.Fatalf("no record at position %d", position)
}

// TestSelfAuditFailureFailsReadiness: an event under a signed checkpoint is
// changed on disk (checksum recomputed) and the Merkle files removed, so
// the tree is rebuilt from the changed log. Once the log's follower has
// caught up, /readyz answers 503 naming the first bad position, the
// metrics say so, and nothing more is signed: no checkpoint, no export.
func TestSelfAuditFailureFailsReadiness(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := ledger.Config{DataDir: dir, Logger: coreQuiet, Transparency: transparency.Options{CheckpointEvery: 1 << 40, CheckpointInterval: time.Hour}}
	l, err := ledger.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	meta := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	sign := func() transparency.Checkpoint {
		t.Helper()
		head, _ := l.Store.Head(ctx)
		if err := l.Log.WaitFor(ctx, head); err != nil {
			t.Fatal(err)
		}
		cp, err := l.Log.SignCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	if _, err := l.Governance.RegisterSchool(ctx, meta, governance.RegisterSchool{SchoolID: uuid.New(), Name: "Hill Top Primary"}); err != nil {
		t.Fatal(err)
	}
	first := sign()
	res, err := l.Governance.RegisterSchool(ctx, meta, governance.RegisterSchool{SchoolID: uuid.New(), Name: "Harbour Academy"})
	if err != nil {
		t.Fatal(err)
	}
	changed := res.Events[0].Position
	second := sign()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if changed <= first.Size || changed > second.Size {
		t.Fatalf("the event to change is at %d, not between the checkpoints at %d and %d", changed, first.Size, second.Size)
	}
	forgeEvent(t, dir, changed, "Harbour", "Jarbour")
	if err := os.RemoveAll(filepath.Join(dir, transparency.TreeDir)); err != nil {
		t.Fatal(err)
	}

	l, err = ledger.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	head, _ := l.Store.Head(ctx)
	if err := l.Log.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	auth := feedAuth{"admin": app.Admin()}
	metrics := NewMetrics()
	if err := metrics.WatchLedger(l); err != nil {
		t.Fatal(err)
	}
	srv := New(l, Options{Auth: auth, Logger: coreQuiet})

	wantFirst := first.Size + 1 // the events up to the first checkpoint still hold
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	p := mustProblem(t, rec, http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "self-audit failed") || !strings.Contains(p.Detail, "first bad position "+strconv.FormatUint(wantFirst, 10)) {
		t.Fatalf("readyz detail %q does not name the failed audit and position %d", p.Detail, wantFirst)
	}

	rec = httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for name, want := range map[string]float64{
		"concord_transparency_audit_failed":             1,
		"concord_transparency_audit_first_bad_position": float64(wantFirst),
	} {
		if got := metricSample(text, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}

	if _, err := l.Log.SignCheckpoint(ctx); err == nil {
		t.Error("a checkpoint was signed after the self-audit failed")
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/admin/export", nil)
	req.Header.Set("Authorization", "Bearer admin")
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	mustProblem(t, rec, http.StatusServiceUnavailable)
}

// metricSample is the value of the unlabelled sample name in a Prometheus
// text exposition, -1 when absent.
func metricSample(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
