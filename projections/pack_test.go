package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore/memory"
)

// TestPackedStatesUnpackAsTheyWere: every kind of state (empty, small,
// repetitive as the views' are, random as ids are) unpacks to its bytes;
// a repetitive one is stored smaller, a random one as it is.
func TestPackedStatesUnpackAsTheyWere(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]byte, 70_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var views strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&views, `{"id":"%08x-loan","status":"returned","condition":"good","school":"Pant Primary"}`, rng.Uint32()+uint32(i))
	}
	for _, tc := range []struct {
		name  string
		state []byte
		kind  byte
	}{
		{"empty", nil, packedPlain},
		{"small", []byte(`{"n":1}`), packedPlain},
		{"views", []byte(views.String()), packedLZ4},
		{"random", random, packedPlain},
	} {
		packed := packState(tc.state)
		if packed[0] != tc.kind {
			t.Errorf("%s: packed as kind %d, want %d", tc.name, packed[0], tc.kind)
		}
		if tc.kind == packedLZ4 && len(packed) > len(tc.state)/2 {
			t.Errorf("%s: %d bytes packed to %d", tc.name, len(tc.state), len(packed))
		}
		got, err := unpackState(packed)
		if err != nil || !bytes.Equal(got, tc.state) {
			t.Errorf("%s: unpacked %d bytes (err %v), want the %d packed", tc.name, len(got), err, len(tc.state))
		}
	}
}

// TestDamagedPackedStatesAreRefused: a packed state cut short or with any
// byte changed is refused with an error, never read as another state and
// never a panic.
func TestDamagedPackedStatesAreRefused(t *testing.T) {
	var state bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&state, `{"loan":%d,"status":"approved","start":"2026-03-%02dT09:00:00Z"}`, i, 1+i%28)
	}
	for _, original := range [][]byte{state.Bytes(), []byte("short and plain")} {
		packed := packState(original)
		for cut := 0; cut < len(packed); cut += 1 + cut/3 {
			if _, err := unpackState(packed[:cut]); err == nil {
				t.Fatalf("a packed state cut to %d of %d bytes was read", cut, len(packed))
			}
		}
		rng := rand.New(rand.NewPCG(5, uint64(len(packed))))
		for range 2000 {
			damaged := bytes.Clone(packed)
			i := rng.IntN(len(damaged))
			damaged[i] ^= byte(1 + rng.IntN(255))
			if got, err := unpackState(damaged); err == nil && !bytes.Equal(got, original) {
				t.Fatalf("byte %d changed: read as a state of %d bytes", i, len(got))
			}
		}
	}
}

// TestSnapshotsAreStoredPacked: the engine stores each snapshot packed,
// and each unpacks to the state a fold from zero has at its position.
func TestSnapshotsAreStoredPacked(t *testing.T) {
	ctx := context.Background()
	e, s, codec := counterLedger(t, 120)
	if err := e.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	e.WaitKept()
	if err := e.checkpointAll(true); err != nil {
		t.Fatal(err)
	}
	stored := map[uint64][]byte{}
	if err := e.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots).Bucket([]byte("counter"))
		return b.ForEach(func(k, _ []byte) error {
			if len(k) != 8 {
				return nil
			}
			sb := b.Bucket(k)
			if sb == nil || sb.Get(stateKey) != nil || sb.Get(packedKey) == nil {
				return fmt.Errorf("snapshot at %x is not stored packed", k)
			}
			stored[binary.BigEndian.Uint64(k)] = bytes.Clone(sb.Get(packedKey))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if len(stored) < 5 {
		t.Fatalf("%d snapshots over 120 events, one every 10 wanted", len(stored))
	}
	for pos, packed := range stored {
		got, err := unpackState(packed)
		if err != nil {
			t.Fatal(err)
		}
		want := newCounter()
		if err := Fold(ctx, s, codec, want, 1, pos, nil); err != nil {
			t.Fatal(err)
		}
		if wb, _ := want.MarshalState(); !bytes.Equal(got, wb) {
			t.Fatalf("snapshot at %d unpacks to %s, the fold to %s", pos, got, wb)
		}
	}
}

// counterLedger returns an engine with the counter projection, snapshots
// every ten events, over a store holding n events of seven streams.
func counterLedger(t *testing.T, n int) (*Engine, *memory.Store, *domain.Codec) {
	t.Helper()
	s := memory.New(memory.Options{})
	codec := &domain.Codec{}
	e, err := Open(s, codec, filepath.Join(t.TempDir(), "p.db"), Options{SnapshotEvery: 10}, newCounter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	for i := range n {
		appendHappened(t, s, codec, fmt.Sprintf("stream-%d", i%7), happened{Key: "k", N: 1})
	}
	return e, s, codec
}
