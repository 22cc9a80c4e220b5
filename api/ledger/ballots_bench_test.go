package ledger

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/keyring"
	"github.com/concord-ledger/concord/eventstore/segment"
)

// BenchmarkBallotSweep measures what start-up pays to destroy the keys of
// decided ballots, side by side: the sweep when the ballot keyring is
// empty (nothing to read), and when it holds a key (the whole log is read
// for the ballots' decisions). CONCORD_BENCH_EVENTS sets the log's size
// (default 100000); one event in 1000 is a ballot's.
func BenchmarkBallotSweep(b *testing.B) {
	n := 100_000
	if s := os.Getenv("CONCORD_BENCH_EVENTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	dir := b.TempDir()
	s, err := segment.Open(ctx, filepath.Join(dir, EventsDir), segment.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]eventstore.EventData, 0, 1000)
	for i := range n {
		typ, data := "StrengthsAssessed", fmt.Sprintf(`{"person_id":%q,"year":"2025-26","scores":{"relationship_building":60}}`, uuid.NewString())
		if i%1000 == 999 {
			typ, data = "ElectionClosed", fmt.Sprintf(`{"election_id":%q}`, uuid.NewString())
		}
		batch = append(batch, eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: typ, Schema: 1, Data: []byte(data),
			Metadata: eventstore.Metadata{ActorID: "admin", ActorRole: "admin"}})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := s.Append(ctx, "s-"+strconv.Itoa(i/1000), eventstore.Any(), batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	personal, err := keyring.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer personal.Close()
	for _, c := range []struct {
		name string
		key  bool
	}{{"no ballot key", false}, {"a ballot key", true}} {
		b.Run(c.name, func(b *testing.B) {
			bk, err := keyring.OpenDir(filepath.Join(b.TempDir(), BallotKeysDir))
			if err != nil {
				b.Fatal(err)
			}
			defer bk.Close()
			if c.key {
				if _, err := bk.Seal(ballotSubject(uuid.New()), []byte("open ballot")); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := sweepBallotKeys(ctx, s, bk, personal, false, quiet); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
		})
	}
}
