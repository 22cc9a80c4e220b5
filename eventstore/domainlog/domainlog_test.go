package domainlog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore/memory"
)

func TestAppendReadAndConflict(t *testing.T) {
	ctx := context.Background()
	l := Log{Store: memory.New(memory.Options{})}
	env := domain.Envelope{ID: uuid.Must(uuid.NewV7()), Type: "T", Schema: 1, Data: []byte(`{"a":1}`),
		Meta: domain.Meta{ActorID: "p", ActorRole: "staff", Reason: "r", CausationID: uuid.New(), CorrelationID: uuid.New(), EffectiveAt: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)}}
	recs, err := l.AppendStream(ctx, "s-1", -1, []domain.Envelope{env})
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[0]; got.Position != 1 || got.Revision != 0 || got.Stream != "s-1" || got.RecordedAt.IsZero() ||
		got.Meta != env.Meta || got.ID != env.ID || string(got.Data) != `{"a":1}` {
		t.Fatalf("recorded %+v", got)
	}
	env2 := env
	env2.ID = uuid.Must(uuid.NewV7())
	if _, err := l.AppendStream(ctx, "s-1", -1, []domain.Envelope{env2}); !errors.Is(err, domain.ErrStreamConflict) {
		t.Fatalf("err=%v, want ErrStreamConflict", err)
	}
	read, err := l.ReadStream(ctx, "s-1")
	if err != nil || len(read) != 1 || read[0].ID != env.ID {
		t.Fatalf("read %v %v", read, err)
	}
}
