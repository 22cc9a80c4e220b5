package transparency_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// benchTreeSize is the tree size of the proof benchmarks:
// CONCORD_BENCH_TREE_SIZE (e.g. 1000000) or 65536.
func benchTreeSize() uint64 {
	if n, err := strconv.ParseUint(os.Getenv("CONCORD_BENCH_TREE_SIZE"), 10, 64); err == nil && n > 0 {
		return n
	}
	return 1 << 16
}

var (
	benchTreeOnce sync.Once
	benchTree     *transparency.Tree
)

// fileTree returns a file-backed tree of benchTreeSize leaves, built once
// per process.
func fileTree(b *testing.B) *transparency.Tree {
	benchTreeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "concord-bench-tree")
		if err != nil {
			b.Fatal(err)
		}
		tr, err := transparency.OpenTree(dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		n := benchTreeSize()
		const batch = 1 << 14
		leaves := make([][]byte, 0, batch)
		var buf [8]byte
		for i := uint64(0); i < n; {
			leaves = leaves[:0]
			for j := 0; j < batch && i+uint64(j) < n; j++ {
				binary.BigEndian.PutUint64(buf[:], i+uint64(j))
				h := sha256.Sum256(buf[:])
				leaves = append(leaves, h[:])
			}
			if err := tr.AppendLeaves(i, leaves); err != nil {
				b.Fatal(err)
			}
			i += uint64(len(leaves))
		}
		if err := tr.Sync(); err != nil {
			b.Fatal(err)
		}
		benchTree = tr
	})
	if benchTree == nil {
		b.Fatal("bench tree not built")
	}
	return benchTree
}

// BenchmarkInclusionProof: an audit path for a random leaf in the
// file-backed tree, at its full size and at a random past size.
func BenchmarkInclusionProof(b *testing.B) {
	tr := fileTree(b)
	n := tr.Size()
	b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tr.InclusionProof(r.Uint64N(n), n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("past-size<=%d", n), func(b *testing.B) {
		r := rand.New(rand.NewPCG(3, 4))
		b.ReportAllocs()
		for b.Loop() {
			size := 1 + r.Uint64N(n)
			if _, err := tr.InclusionProof(r.Uint64N(size), size); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConsistencyProof: a proof from a random earlier size to the
// full size, and between two random sizes.
func BenchmarkConsistencyProof(b *testing.B) {
	tr := fileTree(b)
	n := tr.Size()
	b.Run(fmt.Sprintf("to=%d", n), func(b *testing.B) {
		r := rand.New(rand.NewPCG(5, 6))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tr.ConsistencyProof(1+r.Uint64N(n), n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("between<=%d", n), func(b *testing.B) {
		r := rand.New(rand.NewPCG(7, 8))
		b.ReportAllocs()
		for b.Loop() {
			x, y := 1+r.Uint64N(n), 1+r.Uint64N(n)
			if _, err := tr.ConsistencyProof(min(x, y), max(x, y)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchEvent returns an event of about size bytes with a version 7 id,
// as the domain gives every event (ids in time order, as the store's id
// index sees them in use).
func benchEvent(size int) eventstore.EventData {
	pad := strings.Repeat("x", max(0, size-16))
	return eventstore.EventData{
		ID: uuid.Must(uuid.NewV7()), Type: "BenchHappened", Schema: 1,
		Data:     []byte(`{"pad":"` + pad + `"}`),
		Metadata: eventstore.Metadata{ActorID: "p-1", ActorRole: "staff", CorrelationID: uuid.New()},
	}
}

// appendAll appends events from writers goroutines, each to its own
// stream, one event per call.
func appendAll(b *testing.B, s eventstore.Store, evs []eventstore.EventData, writers int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stream := fmt.Sprintf("s-%02d", w)
			for i := w; i < len(evs); i += writers {
				if _, err := s.Append(ctx, stream, eventstore.Any(), evs[i]); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkAppendOverhead appends 512-byte events to segment stores side
// by side: one plain, one followed by the Merkle follower, one under a
// full Log (follower plus checkpoints every 1000 events). The timed
// region of the followed stores runs until the tree has caught up, so
// the ratio is end to end. Reported: events/s of each and the ratios
// followed/plain (1.0 = no overhead; the target is >= 0.9), over the
// whole run and as the median of the rounds' ratios (steadier when fsync
// latency drifts).
func BenchmarkAppendOverhead(b *testing.B) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			open := func() *segment.Store {
				s, err := segment.Open(ctx, b.TempDir(), segment.Options{Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				return s
			}
			plain, followed, logged := open(), open(), open()
			tr, err := transparency.OpenTree(b.TempDir(), quiet)
			if err != nil {
				b.Fatal(err)
			}
			f, err := transparency.Follow(ctx, followed, tr, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			l, err := transparency.Open(ctx, logged, b.TempDir(), transparency.Options{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()

			// Rounds interleave the three stores, each round in another
			// order, so drift (page cache, fsync latency, CPU frequency)
			// hits each alike.
			const rounds = 6
			per := max(b.N/rounds, 1)
			evs := make([]eventstore.EventData, per)
			var took [3]time.Duration
			var ratioF, ratioL []float64 // per round
			phase := [3]func(){
				func() { appendAll(b, plain, evs, writers) },
				func() {
					appendAll(b, followed, evs, writers)
					h, _ := followed.Head(ctx)
					if err := f.WaitFor(ctx, h); err != nil {
						b.Fatal(err)
					}
				},
				func() {
					appendAll(b, logged, evs, writers)
					h, _ := logged.Head(ctx)
					if err := l.WaitFor(ctx, h); err != nil {
						b.Fatal(err)
					}
				},
			}
			b.ResetTimer()
			for round := range rounds {
				var this [3]time.Duration
				for k := range 3 {
					which := (round + k) % 3
					for i := range evs {
						evs[i] = benchEvent(512)
					}
					start := time.Now()
					phase[which]()
					this[which] = time.Since(start)
					took[which] += this[which]
				}
				ratioF = append(ratioF, this[0].Seconds()/this[1].Seconds())
				ratioL = append(ratioL, this[0].Seconds()/this[2].Seconds())
			}
			dPlain, dFollowed, dLogged := took[0], took[1], took[2]
			b.StopTimer()
			n := float64(per * rounds)
			b.ReportMetric(n/dPlain.Seconds(), "plain-events/s")
			b.ReportMetric(n/dFollowed.Seconds(), "followed-events/s")
			b.ReportMetric(n/dLogged.Seconds(), "logged-events/s")
			b.ReportMetric(dPlain.Seconds()/dFollowed.Seconds(), "followed/plain")
			b.ReportMetric(dPlain.Seconds()/dLogged.Seconds(), "logged/plain")
			b.ReportMetric(median(ratioF), "followed/plain-median")
			b.ReportMetric(median(ratioL), "logged/plain-median")
			b.ReportMetric(0, "ns/op")
		})
	}
}
