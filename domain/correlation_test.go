package domain_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// TestCommandCorrelation checks where a command's correlation id comes
// from: the Meta's if it names one, else the command's Correlation (in
// place of the aggregate's Correlated), else the command's first event.
func TestCommandCorrelation(t *testing.T) {
	given, part, caller := uuid.New(), uuid.New(), uuid.New()
	for _, tc := range []struct {
		name        string
		meta        uuid.UUID
		correlation func(*counter) uuid.UUID
		want        func(first uuid.UUID, c *counter) uuid.UUID
	}{
		{"the aggregate's", uuid.Nil, nil, func(_ uuid.UUID, c *counter) uuid.UUID { return c.corr }},
		{"the command's, over the aggregate's", uuid.Nil, func(*counter) uuid.UUID { return part },
			func(uuid.UUID, *counter) uuid.UUID { return part }},
		{"a new one when the command's is zero", uuid.Nil, func(*counter) uuid.UUID { return uuid.Nil },
			func(first uuid.UUID, _ *counter) uuid.UUID { return first }},
		{"the caller's, over the command's", caller, func(*counter) uuid.UUID { return part },
			func(uuid.UUID, *counter) uuid.UUID { return caller }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := domaintest.New(t)
			f.Meta.CorrelationID = given
			f.Given("counter-c", counted{By: 1})
			var seen *counter
			res, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*counter]{
				Stream: "counter-c", New: func() *counter { return &counter{} },
				Meta:        domain.Meta{ActorID: "p-1", ActorRole: domain.RoleStaff, CorrelationID: tc.meta},
				Correlation: tc.correlation,
				Decide: func(c *counter) ([]domain.Event, error) {
					seen = &counter{corr: c.corr}
					return []domain.Event{counted{By: 1}, counted{By: 2}}, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			first := res.Events[0].ID
			want := tc.want(first, seen)
			for i, m := range res.Events {
				if got := m.Meta.CorrelationID; got != want {
					t.Errorf("event %d: correlation=%s, want %s", i, got, want)
				}
			}
		})
	}
}
