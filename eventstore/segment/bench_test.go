package segment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// BenchmarkAppend appends 512-byte events, one per call, from 1, 16 and 64
// goroutines, each to its own stream with Any.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := mustOpen(b, b.TempDir(), Options{Logger: quietLogger()})
			ctx := context.Background()
			evs := make([]eventstore.EventData, b.N)
			for i := range evs {
				evs[i] = sizedEvent(512)
			}
			b.ReportAllocs()
			b.SetBytes(512)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					stream := fmt.Sprintf("s-%02d", w)
					for i := w; i < b.N; i += writers {
						if _, err := s.Append(ctx, stream, eventstore.Any(), evs[i]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			st := s.Stats()
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			if st.Groups > 0 {
				b.ReportMetric(float64(st.Appends)/float64(st.Groups), "calls/group")
				b.ReportMetric(float64(elapsed.Microseconds())/float64(st.Syncs), "µs/sync")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// fillStore appends n 512-byte events in batches of 100 and returns the
// store still open.
func fillStore(tb testing.TB, dir string, n int, opts Options) *Store {
	tb.Helper()
	s := mustOpen(tb, dir, opts)
	ctx := context.Background()
	const batch = 100
	evs := make([]eventstore.EventData, batch)
	for done := 0; done < n; {
		k := min(batch, n-done)
		for i := range k {
			evs[i] = sizedEvent(512)
		}
		if _, err := s.Append(ctx, fmt.Sprintf("s-%02d", done/batch%64), eventstore.Any(), evs[:k]...); err != nil {
			tb.Fatal(err)
		}
		done += k
	}
	return s
}

// benchEvents is the size of the large stores, CONCORD_BENCH_EVENTS or
// 200k.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("CONCORD_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// BenchmarkReadAll reads a warm store of 100k events from the log (all
// indexed, so none from memory) in pages of 10k; one op is one event.
func BenchmarkReadAll(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	mustClose(b, fillStore(b, dir, n, Options{Logger: quietLogger()}))
	s := mustOpen(b, dir, Options{Logger: quietLogger()})
	ctx := context.Background()
	read := func(from uint64, limit int) int {
		evs, err := s.ReadAll(ctx, from, limit)
		if err != nil {
			b.Fatal(err)
		}
		return len(evs)
	}
	for from := uint64(1); from <= n; from += 10_000 {
		read(from, 10_000) // warm the page cache
	}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	from := uint64(1)
	for done := 0; done < b.N; {
		got := read(from, min(10_000, b.N-done))
		done += got
		if from += uint64(got); from > n {
			from = 1
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	// The machine may be shared: events per second of this process's CPU
	// time (all threads, the garbage collector's included) is steadier.
	b.ReportMetric(float64(b.N)/(cpuTime()-cpu).Seconds(), "events/cpu-s")
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOpen opens (and recovers) a store of benchEvents() events:
// closed cleanly, and with its index deleted so that Open rebuilds it
// from the log.
func BenchmarkOpen(b *testing.B) {
	n := benchEvents()
	dir := b.TempDir()
	mustClose(b, fillStore(b, dir, n, Options{Logger: quietLogger()}))
	for _, c := range []struct {
		name    string
		prepare func()
	}{
		{"clean", func() {}},
		{"rebuild-index", func() {
			if err := os.Remove(filepath.Join(dir, indexFile)); err != nil {
				b.Fatal(err)
			}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				c.prepare()
				b.StartTimer()
				s, err := Open(context.Background(), dir, Options{Logger: quietLogger()})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if h := s.Stats().Head; h != uint64(n) {
					b.Fatalf("head=%d, want %d", h, n)
				}
				mustClose(b, s)
				b.StartTimer()
			}
			b.ReportMetric(float64(n), "events")
		})
	}
}
