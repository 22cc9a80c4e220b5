package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

// drillToken is a token the drill's load issued, and what became of it.
type drillToken struct {
	secret  string
	info    api.TokenInfo
	revoked *api.TokenInfo // its state once revoked, if it was
	// settled is set when the token's last change finished before the
	// backup started.
	settled bool
}

// TestBackupRestoreDrillUnderLoad backs up a running ledger through its
// API while clients keep recording commands (staff members' assessments,
// sealed details, new staff) and the administrator keeps issuing and
// revoking tokens, restores the backup into a new directory and compares:
// the log up to the backup's head, event by event; every view's state
// with the source's as of that head; the Merkle root with the source's at
// that size and the backup's own checkpoint; and the tokens, which must
// be those of one moment: every token settled before the backup began is
// there as it was, every token there is as the source had it at some
// moment, and a token authenticates after the restore exactly when it is
// there unrevoked.
func TestBackupRestoreDrillUnderLoad(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.Open(ctx, ledger.Config{DataDir: src, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tokens, err := api.OpenTokens(filepath.Join(src, api.TokensFile), api.TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	admin, _, err := tokens.Create(ctx, api.TokenSpec{Kind: app.KindAdmin, Label: "drill"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(l, api.Options{Auth: tokens, Logger: quiet}))
	defer srv.Close()
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- l.Run(runCtx) }()
	defer func() {
		stopRun()
		<-runDone
	}()

	adminMeta := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	school := uuid.Must(uuid.NewV7())
	year := governance.YearLabel(time.Now().UTC().AddDate(0, -8, 0).Year())
	if _, err := l.Governance.RegisterSchool(ctx, adminMeta, governance.RegisterSchool{SchoolID: school, Name: "Drill School"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Governance.OpenAcademicYear(ctx, adminMeta, governance.OpenAcademicYear{SchoolID: school, Year: year}); err != nil {
		t.Fatal(err)
	}
	register := func(name string) uuid.UUID {
		id := uuid.Must(uuid.NewV7())
		if _, err := l.Governance.RegisterStaff(ctx, adminMeta, governance.RegisterStaff{PersonID: id, SchoolID: school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: name}}); err != nil {
			t.Error(err)
		}
		return id
	}
	var staff []uuid.UUID
	for i := range 3 {
		staff = append(staff, register(fmt.Sprintf("Drill Teacher %d", i+1)))
	}

	// The load: three staff members record and amend, one client
	// registers staff, one issues and revokes tokens, until stopped.
	var (
		stop     atomic.Bool
		appended atomic.Int64
		backupAt atomic.Pointer[time.Time] // when the backup started
		wg       sync.WaitGroup
		mu       sync.Mutex
		issued   []*drillToken
		progress = make(chan struct{}, 1) // signalled after each step of the load
	)
	step := func() {
		select {
		case progress <- struct{}{}:
		default:
		}
	}
	for i, p := range staff {
		wg.Add(1)
		go func() {
			defer wg.Done()
			meta := domain.Meta{ActorID: p.String(), ActorRole: domain.RoleStaff}
			for n := 0; !stop.Load(); n++ {
				var err error
				if n%3 == 2 {
					_, err = l.Governance.AmendPersonDetails(ctx, meta, governance.AmendPersonDetails{PersonID: p,
						PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Drill Teacher %d", i+1), Email: fmt.Sprintf("t%d-%d@drill.example", i, n)}})
				} else {
					_, err = l.Governance.RecordStrengthsAssessment(ctx, meta, governance.RecordStrengthsAssessment{PersonID: p, Year: year,
						Scores: governance.Strengths{RelationshipBuilding: n % 101, Executing: (n * 7) % 101, StrategicThinking: 50, Influencing: i * 10}})
				}
				if err != nil {
					t.Error(err)
					return
				}
				appended.Add(1)
				step()
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for n := 0; !stop.Load(); n++ {
			register(fmt.Sprintf("Drill Newcomer %d", n))
			appended.Add(1)
			step()
		}
	}()
	go func() {
		defer wg.Done()
		for n := 0; !stop.Load(); n++ {
			secret, info, err := tokens.Create(ctx, api.TokenSpec{Kind: app.KindPerson, PersonID: staff[n%len(staff)], Label: fmt.Sprintf("drill %d", n)})
			if err != nil {
				t.Error(err)
				return
			}
			d := &drillToken{secret: secret, info: info}
			if n%3 == 0 {
				rev, err := tokens.Revoke(ctx, info.ID)
				if err != nil {
					t.Error(err)
					return
				}
				d.revoked = &rev
			}
			b := backupAt.Load()
			d.settled = b == nil // finished before the backup started
			mu.Lock()
			issued = append(issued, d)
			mu.Unlock()
			step()
		}
	}()
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()

	issuedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(issued)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.NewTimer(2 * time.Minute)
		defer deadline.Stop()
		for !cond() {
			select {
			case <-progress:
			case <-deadline.C:
				t.Fatalf("gave up waiting for %s", what)
			}
		}
	}
	waitFor("load before the backup", func() bool { return appended.Load() >= 50 && issuedCount() >= 5 })

	work := t.TempDir()
	file := filepath.Join(work, "drill.tar.gz")
	now := time.Now()
	backupAt.Store(&now)
	if code, out, stderr := run(t, "backup", "--url", srv.URL, "--token", admin, "--out", file); code != exitOK {
		t.Fatalf("backup under load: exit %d: %s %s", code, out, stderr)
	}
	// The load goes on after the backup: what it adds now is not in it.
	afterEvents, afterTokens := appended.Load(), issuedCount()
	waitFor("load after the backup", func() bool { return appended.Load() >= afterEvents+20 && issuedCount() >= afterTokens+3 })
	stop.Store(true)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// What the backup holds: its export's head and closing checkpoint.
	var cp *transparency.Checkpoint
	var exportHead uint64
	if _, err := readBackup(file, func(name string, r io.Reader) error {
		if name != api.BackupExport {
			return nil
		}
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			ln, err := export.DecodeLine(line)
			if err != nil {
				return err
			}
			if ln.Checkpoint != nil {
				cp = ln.Checkpoint
			} else {
				exportHead = ln.Event.Position
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if cp == nil || cp.Size != exportHead || exportHead == 0 {
		t.Fatalf("the backup's export: head %d, closing checkpoint %+v", exportHead, cp)
	}

	dst := filepath.Join(work, "restored")
	pub := filepath.Join(work, "trusted.pub")
	copyFile(t, filepath.Join(src, transparency.PubFile), pub)
	if code, out, stderr := run(t, "restore", "--in", file, "--data", dst, "--pubkey", pub); code != exitOK {
		t.Fatalf("restore: exit %d: %s %s", code, out, stderr)
	}
	if code, out, stderr := run(t, "verify", "--data", dst, "--pubkey", pub); code != exitOK {
		t.Fatalf("verify --data after restore: exit %d: %s %s", code, out, stderr)
	}

	l2, err := ledger.Open(ctx, ledger.Config{DataDir: dst, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if err := l2.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	head, err := l2.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srcHead, _ := l.Store.Head(ctx)
	if head != exportHead || srcHead <= head {
		t.Fatalf("restored head %d, the backup's %d, the source's now %d (the load went on after the backup)", head, exportHead, srcHead)
	}

	// The log, event by event.
	a, err := l.Store.ReadAll(ctx, 1, int(head))
	if err != nil {
		t.Fatal(err)
	}
	b, err := l2.Store.ReadAll(ctx, 1, int(head))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d events in the source up to %d, %d restored", len(a), head, len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].StreamID != b[i].StreamID || a[i].Revision != b[i].Revision || !a[i].RecordedAt.Equal(b[i].RecordedAt) || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("event %d differs after the restore", i+1)
		}
	}

	// Every view: the restored ledger's, caught up, equals the source's
	// rebuilt from zero up to the backup's head.
	for _, f := range views.All() {
		want := f()
		name := want.Name()
		if err := projections.Fold(ctx, l.Store, l.Codec, want, 1, head, nil); err != nil {
			t.Fatalf("fold %s: %v", name, err)
		}
		wantState, err := want.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		pos, err := l2.Engine.View(name, func(p projections.Projection) error {
			got, err = p.MarshalState()
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if pos != head {
			t.Fatalf("restored view %s at %d, want %d", name, pos, head)
		}
		if !bytes.Equal(got, wantState) {
			t.Fatalf("restored view %s differs from the source's as of the backup (%d bytes, want %d)", name, len(got), len(wantState))
		}
	}
	// People's names open with the restored keys.
	names, err := l2.Views.PersonNames(ctx, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names.Name(staff[1]); got != "Drill Teacher 2" {
		t.Fatalf("restored name %q", got)
	}

	// The Merkle root at the backup's head: the source's, the restored
	// ledger's and the backup's checkpoint's.
	if err := l.Log.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	if err := l2.Log.WaitFor(ctx, head); err != nil {
		t.Fatal(err)
	}
	srcRoot, err := l.Log.Tree().RootAt(head)
	if err != nil {
		t.Fatal(err)
	}
	dstRoot, err := l2.Log.Tree().RootAt(head)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(srcRoot, dstRoot) || !bytes.Equal(srcRoot, cp.Root) {
		t.Fatalf("Merkle roots at %d differ: source %x, restored %x, backup checkpoint %x", head, srcRoot, dstRoot, cp.Root)
	}

	// The tokens: one moment's.
	restored, err := api.OpenTokens(filepath.Join(dst, api.TokensFile), api.TokensOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	list, err := restored.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]api.TokenInfo{}
	for _, ti := range list {
		have[ti.ID] = ti
	}
	if _, err := restored.Authenticate(ctx, admin); err != nil {
		t.Fatalf("the administrator's token after the restore: %v", err)
	}
	settled, present := 0, 0
	for _, d := range issued {
		got, ok := have[d.info.ID]
		if d.settled {
			settled++
			if !ok {
				t.Fatalf("token %s, issued before the backup, is not restored", d.info.ID)
			}
			want := d.info
			if d.revoked != nil {
				want = *d.revoked
			}
			if !sameToken(got, want) {
				t.Fatalf("token %s restored as %+v, want %+v", d.info.ID, got, want)
			}
		}
		if !ok {
			continue
		}
		present++
		if !sameToken(got, d.info) && (d.revoked == nil || !sameToken(got, *d.revoked)) {
			t.Fatalf("token %s restored as %+v: a state the source never had", d.info.ID, got)
		}
		_, err := restored.Authenticate(ctx, d.secret)
		if revoked := got.RevokedAt != nil; revoked != (err != nil) {
			t.Fatalf("token %s (revoked in the backup: %v) authenticates after the restore: %v", d.info.ID, revoked, err == nil)
		}
	}
	if settled == 0 || present == len(issued) {
		t.Fatalf("the drill did not test a token store under change: %d tokens settled before the backup, %d of %d in it", settled, present, len(issued))
	}
}

// sameToken reports whether two token records say the same.
func sameToken(a, b api.TokenInfo) bool {
	eqTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.ID == b.ID && a.Kind == b.Kind && a.PersonID == b.PersonID && a.Label == b.Label &&
		a.CreatedAt.Equal(b.CreatedAt) && eqTime(a.ExpiresAt, b.ExpiresAt) && eqTime(a.RevokedAt, b.RevokedAt)
}
