// Package projectionstest holds checks shared by the tests of projections
// and of the views built on them.
package projectionstest

import (
	"bytes"
	"context"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/projections"
)

// CheckWants folds the whole log of store into a fresh projection of each
// factory that is projections.Selective, every event applied, and checks
// at every event the projection does not want that applying it left the
// state byte for byte as it was: what Wants promises the past readings
// that skip those events. A selective projection that wants none or all
// of the log's events is reported too: the check would say nothing of it.
// It returns the number of events checked per event type.
func CheckWants(t testing.TB, ctx context.Context, store eventstore.Store, codec *domain.Codec, factories ...projections.Factory) map[string]int {
	t.Helper()
	checked := map[string]int{}
	for _, f := range factories {
		p := f()
		s, ok := p.(projections.Selective)
		if !ok {
			continue
		}
		wanted, unwanted := 0, 0
		for from := uint64(1); ; {
			recs, err := store.ReadAll(ctx, from, 1024)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			for _, rec := range recs {
				m, err := codec.Decode(domainlog.ToDomain(rec))
				if err != nil {
					t.Fatal(err)
				}
				if s.Wants(rec.Type, rec.StreamID) {
					wanted++
					if err := p.Apply(m); err != nil {
						t.Fatalf("%s at %d: %v", p.Name(), rec.Position, err)
					}
					continue
				}
				unwanted++
				checked[rec.Type]++
				before, err := p.MarshalState()
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Apply(m); err != nil {
					t.Fatalf("%s at %d: %v", p.Name(), rec.Position, err)
				}
				after, err := p.MarshalState()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(before, after) {
					t.Errorf("%s: the %s at position %d (stream %s) changed the state, but Wants says the view does not want it", p.Name(), rec.Type, rec.Position, rec.StreamID)
				}
			}
			from = recs[len(recs)-1].Position + 1
		}
		if wanted == 0 || unwanted == 0 {
			t.Errorf("%s wants %d and not %d of the log's events: the log cannot check its Wants", p.Name(), wanted, unwanted)
		}
	}
	return checked
}
