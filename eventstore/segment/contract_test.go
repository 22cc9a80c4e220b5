package segment

import (
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/storetest"
)

func TestContract(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
	}{
		// Events mostly served from the in-memory tail.
		{"Default", Options{}},
		// The indexer commits all the time, so reads and look-ups cross
		// from the index to the tail, and small segments roll often.
		{"EagerIndex", Options{IndexInterval: time.Millisecond, SegmentSize: MinSegmentSize}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) eventstore.Store {
				s, err := Open(t.Context(), t.TempDir(), c.opts)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			})
		})
	}
}
