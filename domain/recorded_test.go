package domain_test

import (
	"context"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// TestExecuteReturnsWhatARetriedCommandRecorded: given a command that
// recorded on counter-1 before its answer was lost, when it is executed
// again under WithRecorded, then it returns the events it recorded then,
// decides nothing and appends nothing; on a stream it did not reach, it
// decides as usual.
func TestExecuteReturnsWhatARetriedCommandRecorded(t *testing.T) {
	f := domaintest.New(t)
	f.Given("counter-1", counted{By: 1})
	first, err := count(f, 2)
	if err != nil {
		t.Fatal(err)
	}
	before := f.Log.Fingerprint()
	recorded := func(_ context.Context, stream string) ([]domain.Recorded, error) {
		if stream != "counter-1" {
			return nil, nil
		}
		var out []domain.Recorded
		for _, m := range first.Events {
			out = append(out, m.Recorded)
		}
		return out, nil
	}
	ctx := f.Ctx
	f.Ctx = domain.WithRecorded(ctx, recorded)
	again, err := count(f, 2)
	f.Ctx = ctx
	if err != nil {
		t.Fatal(err)
	}
	if f.Log.Fingerprint() != before {
		t.Fatal("the retry appended to the log")
	}
	if again.Stream != first.Stream || again.Revision != first.Revision || len(again.Events) != 1 ||
		again.Events[0].ID != first.Events[0].ID || again.Events[0].Position != first.Events[0].Position {
		t.Fatalf("retry returned %+v, want the first result %+v", again, first)
	}
	if c, ok := again.Events[0].Event.(counted); !ok || c.By != 2 {
		t.Fatalf("retry's event decoded as %#v", again.Events[0].Event)
	}

	// Another stream is decided as usual.
	res, err := domain.Execute(domain.WithRecorded(f.Ctx, recorded), f.Handler, domain.Command[*counter]{
		Stream: "counter-2", New: func() *counter { return &counter{} }, Meta: domain.Meta{ActorID: "p-1", ActorRole: domain.RoleStaff},
		Decide: func(*counter) ([]domain.Event, error) { return []domain.Event{counted{By: 3}}, nil },
	})
	f.ThenEvents(res, err, counted{By: 3})
}
