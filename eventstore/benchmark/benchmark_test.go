package benchmark

import (
	"context"
	"fmt"
	"testing"

	"github.com/concord-ledger/concord/eventstore/segment"
)

// benchWriters are the concurrency levels of the go test benchmarks, the
// same as "concord bench append"'s defaults.
var benchWriters = []int{1, 16, 64, 256}

// benchEngine runs e with b.N appends in total at each concurrency level
// and reports events/s and latency percentiles. Run the engines side by
// side with, for example:
//
//	go test -run '^$' -bench 'Append|Fsync' -benchtime 3s ./eventstore/benchmark/
func benchEngine(b *testing.B, e Engine) {
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			ctx := context.Background()
			a, err := e.Open(ctx, b.TempDir(), writers)
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			b.SetBytes(EventSize)
			b.ResetTimer()
			res, err := Run(ctx, a, Config{Writers: writers, Events: b.N})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.EventsPerSecond(), "events/s")
			b.ReportMetric(float64(res.Latency.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(res.Latency.P99.Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkRawGroupFsync measures the device limit (see RawGroupFsync).
func BenchmarkRawGroupFsync(b *testing.B) { benchEngine(b, RawGroupFsync()) }

// BenchmarkNaiveFsync measures one write and fsync per append (see NaiveFsync).
func BenchmarkNaiveFsync(b *testing.B) { benchEngine(b, NaiveFsync()) }

// BenchmarkConcordAppend measures the embedded segment store (see Concord).
func BenchmarkConcordAppend(b *testing.B) { benchEngine(b, Concord(segment.Options{})) }

// BenchmarkSQLiteAppend measures SQLite with group commit (see SQLite).
func BenchmarkSQLiteAppend(b *testing.B) { benchEngine(b, SQLite()) }

// BenchmarkPostgresAppend measures PostgreSQL (see Postgres) at
// CONCORD_TEST_PG; it is skipped when that is not set.
func BenchmarkPostgresAppend(b *testing.B) {
	url := pgURL()
	if url == "" {
		b.Skip("CONCORD_TEST_PG not set (docs/benchmarks.md starts a private PostgreSQL)")
	}
	benchEngine(b, Postgres(url))
}
