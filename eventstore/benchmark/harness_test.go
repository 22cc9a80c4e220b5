package benchmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/segment"
)

func TestNewEventSize(t *testing.T) {
	a, b := NewEvent(), NewEvent()
	if a.ID == b.ID {
		t.Fatal("two events share an id")
	}
	if err := eventstore.ValidateAppend(StreamID(0), []eventstore.EventData{a}, 0); err != nil {
		t.Fatalf("benchmark event is invalid: %v", err)
	}
	for _, w := range []int{0, 7, 255} {
		e := eventstore.RecordedEvent{EventData: a, StreamID: StreamID(w), Revision: 12, Position: 99, RecordedAt: time.Now()}
		if got, want := len(eventstore.EncodeCanonical(e)), EventSize; got != want {
			t.Errorf("writer %d: canonical size=%d, want %d", w, got, want)
		}
	}
}

// stored counts what an engine left in its directory, reading it back
// independently of the engine.
var stored = map[string]func(t *testing.T, dir string) int64{
	"raw":   func(t *testing.T, dir string) int64 { return mustCount(t, filepath.Join(dir, RawFile)) },
	"naive": func(t *testing.T, dir string) int64 { return mustCount(t, filepath.Join(dir, NaiveFile)) },
	"sqlite": func(t *testing.T, dir string) int64 {
		db, err := OpenSQLite(filepath.Join(dir, SQLiteFile))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int64
		if err := db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		var streams, badRevisions int64
		if err := db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(n - 1 != top), 0) FROM
			(SELECT COUNT(*) AS n, MAX(revision) AS top FROM events GROUP BY stream)`).Scan(&streams, &badRevisions); err != nil {
			t.Fatal(err)
		}
		if badRevisions != 0 {
			t.Errorf("sqlite: %d of %d streams have gaps in their revisions", badRevisions, streams)
		}
		return n
	},
	"concord": func(t *testing.T, dir string) int64 {
		ctx := context.Background()
		s, err := segment.Open(ctx, dir, segment.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		evs, err := s.ReadAll(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		next := map[string]uint64{}
		for _, e := range evs {
			if e.Type != EventType || e.Revision != next[e.StreamID] {
				t.Fatalf("concord: event %d is %s at %s@%d, want %s@%d", e.Position, e.Type, e.StreamID, e.Revision, e.StreamID, next[e.StreamID])
			}
			next[e.StreamID]++
		}
		return int64(len(evs))
	},
}

func mustCount(t *testing.T, path string) int64 {
	t.Helper()
	n, err := countRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pgURL is the PostgreSQL server the PostgreSQL engine's tests use:
// CONCORD_TEST_PG (e.g. postgres://bench@127.0.0.1:54329/postgres, see
// docs/benchmarks.md), or "" to skip them.
func pgURL() string { return os.Getenv("CONCORD_TEST_PG") }

func engines() []Engine {
	es := []Engine{RawGroupFsync(), NaiveFsync(), Concord(segment.Options{}), SQLite()}
	if url := pgURL(); url != "" {
		es = append(es, Postgres(url))
		stored["postgres"] = func(t *testing.T, _ string) int64 {
			n, gapped, err := PostgresCount(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			if gapped != 0 {
				t.Errorf("postgres: %d streams have gaps in their revisions", gapped)
			}
			return n
		}
	}
	return es
}

// TestSQLPeersRefuseAWrongRevision checks that the SQL peers do the
// optimistic-concurrency check they are credited with: an append whose
// writer expects a revision its stream is not at is refused with
// ErrWrongExpectedRevision and stores nothing, while the other appends
// of the same batch commit.
func TestSQLPeersRefuseAWrongRevision(t *testing.T) {
	ctx := context.Background()
	type peer struct {
		name  string
		open  func(t *testing.T) (Appender, []sqlWriter)
		count func(t *testing.T) int64
	}
	dir := t.TempDir()
	peers := []peer{{
		name: "sqlite",
		open: func(t *testing.T) (Appender, []sqlWriter) {
			a, err := SQLite().Open(ctx, dir, 3)
			if err != nil {
				t.Fatal(err)
			}
			return a, a.(*sqliteAppender).ws
		},
		count: func(t *testing.T) int64 { return stored["sqlite"](t, dir) },
	}}
	if url := pgURL(); url != "" {
		peers = append(peers, peer{
			name: "postgres",
			open: func(t *testing.T) (Appender, []sqlWriter) {
				a, err := Postgres(url).Open(ctx, "", 3)
				if err != nil {
					t.Fatal(err)
				}
				return a, a.(*pgAppender).ws
			},
			count: func(t *testing.T) int64 {
				n, _, err := PostgresCount(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				return n
			},
		})
	} else {
		t.Log("CONCORD_TEST_PG not set: the PostgreSQL peer is not checked")
	}
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			a, ws := p.open(t)
			for w := range 3 {
				if err := a.Append(ctx, w); err != nil {
					t.Fatalf("writer %d: %v", w, err)
				}
			}
			ws[1].rev = 5 // writer 1 now expects revision 5; its stream is at 0
			var wrong *eventstore.WrongExpectedRevisionError
			if err := a.Append(ctx, 1); !errors.As(err, &wrong) || wrong.Actual != 0 {
				t.Fatalf("append expecting revision 5 of a stream at 0: err=%v, want a WrongExpectedRevisionError with actual 0", err)
			}
			ws[2].rev = -1 // writer 2 now expects no stream
			if err := a.Append(ctx, 2); !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
				t.Fatalf("append expecting no stream to an existing one: err=%v", err)
			}
			if err := a.Append(ctx, 0); err != nil {
				t.Fatalf("writer 0 after the refusals: %v", err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if got, want := p.count(t), int64(4); got != want {
				t.Errorf("stored=%d, want %d (3 first appends and writer 0's second)", got, want)
			}
		})
	}
}

// TestEnginesStoreWhatTheyReport runs every engine briefly and checks that
// the events it reports are exactly the events on disk.
func TestEnginesStoreWhatTheyReport(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"timed", Config{Writers: 4, Duration: 200 * time.Millisecond}},
		{"counted", Config{Writers: 4, Events: 37}},
	}
	for _, e := range engines() {
		for _, c := range cases {
			t.Run(e.Name+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				res, err := RunEngine(context.Background(), e, dir, c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if res.Engine != e.Name || res.Writers != c.cfg.Writers {
					t.Errorf("result for %s with %d writers, want %s with %d", res.Engine, res.Writers, e.Name, c.cfg.Writers)
				}
				if res.Events == 0 {
					t.Fatal("no events appended")
				}
				if c.cfg.Events > 0 && res.Events != int64(c.cfg.Events) {
					t.Errorf("events=%d, want %d", res.Events, c.cfg.Events)
				}
				if got, want := stored[e.Name](t, dir), res.Events; got != want {
					t.Errorf("stored=%d, reported %d", got, want)
				}
				l := res.Latency
				if !(0 < l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) {
					t.Errorf("latency percentiles out of order: %+v", l)
				}
				if res.EventsPerSecond() <= 0 {
					t.Errorf("events/s=%v", res.EventsPerSecond())
				}
			})
		}
	}
}

func TestRawGroupFsyncGrowsPastItsPreallocation(t *testing.T) {
	dir := t.TempDir()
	a, err := RawGroupFsync().Open(context.Background(), dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	ra := a.(*rawAppender)
	ra.off = ra.allocated - 100 // the next record does not fit
	if err := a.Append(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, RawFile))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Size(), int64(2*rawChunk); got != want {
		t.Errorf("size=%d, want %d", got, want)
	}
}

// countingAppender appends nothing and fails its failAt'th call.
type countingAppender struct {
	calls  atomic.Int64
	failAt int64
	closed bool
}

var errBoom = errors.New("boom")

func (a *countingAppender) Append(ctx context.Context, w int) error {
	if n := a.calls.Add(1); n == a.failAt {
		return errBoom
	}
	return ctx.Err()
}

func (a *countingAppender) Close() error { a.closed = true; return nil }

func TestRunStopsAtFirstError(t *testing.T) {
	a := &countingAppender{failAt: 100}
	res, err := Run(context.Background(), a, Config{Writers: 3, Duration: time.Minute})
	if !errors.Is(err, errBoom) {
		t.Fatalf("err=%v, want %v", err, errBoom)
	}
	if calls := a.calls.Load(); res.Events >= calls {
		t.Errorf("events=%d after %d calls, one of which failed", res.Events, calls)
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Writers: 0, Events: 1}, {Writers: 1}} {
		if _, err := Run(context.Background(), &countingAppender{}, cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestSummarize(t *testing.T) {
	ds := make([]time.Duration, 1000)
	for i := range ds {
		ds[len(ds)-1-i] = time.Duration(i+1) * time.Millisecond
	}
	got := summarize(ds)
	want := Latency{P50: 500 * time.Millisecond, P90: 900 * time.Millisecond, P99: 990 * time.Millisecond, P999: 999 * time.Millisecond, Max: time.Second}
	if got != want {
		t.Errorf("summarize=%+v, want %+v", got, want)
	}
	if got := summarize(nil); got != (Latency{}) {
		t.Errorf("summarize(nil)=%+v", got)
	}
	if got := summarize([]time.Duration{7}); got.P50 != 7 || got.Max != 7 {
		t.Errorf("summarize(one)=%+v", got)
	}
}

func TestMedian(t *testing.T) {
	r := func(events int64, p99 time.Duration) Result {
		return Result{Events: events, Elapsed: time.Second, Latency: Latency{P99: p99}}
	}
	got := Median([]Result{r(30, 1), r(10, 5), r(20, 9)})
	if got.Events != 20 || got.Latency.P99 != 5 {
		t.Errorf("median: events=%d p99=%v, want 20 and 5", got.Events, got.Latency.P99)
	}
	if got := Median([]Result{r(30, 1), r(10, 2)}); got.Events != 10 {
		t.Errorf("median of two: events=%d, want the lower, 10", got.Events)
	}
}

func TestCompareInterleavesAndCleansUp(t *testing.T) {
	var order []string
	fake := func(name string) Engine {
		return Engine{Name: name, Open: func(ctx context.Context, dir string, n int) (Appender, error) {
			order = append(order, fmt.Sprintf("%s/%d", name, n))
			if err := os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644); err != nil {
				return nil, err
			}
			return &countingAppender{}, nil
		}}
	}
	dir := t.TempDir()
	var progress int
	rows, err := Compare(context.Background(), Plan{
		Engines:  []Engine{fake("a"), fake("b")},
		Writers:  []int{1, 2},
		Duration: time.Millisecond,
		Rounds:   2,
		Dir:      dir,
		Progress: func(int, Result) { progress++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(order), "[a/1 b/1 a/1 b/1 a/2 b/2 a/2 b/2]"; got != want {
		t.Errorf("run order %s, want %s", got, want)
	}
	if progress != 8 {
		t.Errorf("progress called %d times, want 8", progress)
	}
	if len(rows) != 2 || rows[0].Writers != 1 || rows[1].Writers != 2 || len(rows[1].Results) != 2 || len(rows[1].Runs["b"]) != 2 {
		t.Errorf("rows=%+v", rows)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("scratch left behind: %v", left)
	}

	failing := Engine{Name: "f", Open: func(context.Context, string, int) (Appender, error) { return nil, errBoom }}
	if _, err := Compare(context.Background(), Plan{Engines: []Engine{failing}, Writers: []int{1}, Duration: time.Millisecond, Dir: dir}); !errors.Is(err, errBoom) {
		t.Errorf("err=%v, want %v", err, errBoom)
	}
}

func TestRowRatio(t *testing.T) {
	runs := func(events ...int64) []Result {
		rs := make([]Result, len(events))
		for i, n := range events {
			rs[i] = Result{Events: n, Elapsed: time.Second}
		}
		return rs
	}
	row := Row{Runs: map[string][]Result{
		"a":    runs(50, 60, 90),
		"b":    runs(100, 100, 30),
		"zero": runs(1, 0, 1),
		"two":  runs(10, 30),
	}}
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"a", "b", 0.6}, // ratios 0.5, 0.6, 3: the median, not 60/100 of the medians
		{"b", "a", 100.0 / 60},
		{"a", "zero", 0},
		{"a", "missing", 0},
		{"a", "two", 0},
		{"two", "two", 1},
	} {
		if got := row.Ratio(c.a, c.b); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Ratio(%s, %s)=%v, want %v", c.a, c.b, got, c.want)
		}
	}
}
