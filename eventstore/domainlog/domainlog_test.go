package domainlog

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/eventstore/segment"
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

func TestReadStreamFrom(t *testing.T) {
	ctx := context.Background()
	l := Log{Store: memory.New(memory.Options{})}
	var envs []domain.Envelope
	for i := 0; i < 4; i++ {
		envs = append(envs, domain.Envelope{ID: uuid.Must(uuid.NewV7()), Type: "T", Schema: 1, Data: []byte(`{}`)})
	}
	if _, err := l.AppendStream(ctx, "s-2", -1, envs); err != nil {
		t.Fatal(err)
	}
	for from, want := range []int{4, 3, 2, 1, 0} {
		got, err := l.ReadStreamFrom(ctx, "s-2", uint64(from))
		if err != nil || len(got) != want {
			t.Fatalf("from %d: %d events, %v; want %d", from, len(got), err, want)
		}
		if want > 0 && (got[0].Revision != uint64(from) || got[0].ID != envs[from].ID) {
			t.Fatalf("from %d: first is revision %d", from, got[0].Revision)
		}
	}
}

// TestAppendWithoutReadBack checks that what AppendStream returns when the
// store reports the recorded time (the segment store) is exactly what
// reading the stream back gives, for a fresh append and an idempotent
// re-append.
func TestAppendWithoutReadBack(t *testing.T) {
	ctx := context.Background()
	s, err := segment.Open(ctx, t.TempDir(), segment.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := Log{Store: s}
	paris := time.FixedZone("CET", 3600)
	envs := []domain.Envelope{
		{ID: uuid.Must(uuid.NewV7()), Type: "T", Schema: 1, Data: []byte(`{"a":1}`),
			Meta: domain.Meta{ActorID: "p", ActorRole: "staff", Reason: "r", CorrelationID: uuid.New(), EffectiveAt: time.Date(2025, 9, 1, 9, 0, 0, 0, paris)}},
		{ID: uuid.Must(uuid.NewV7()), Type: "U", Schema: 2, Data: []byte(`[1, 2]`), Meta: domain.Meta{ActorID: "q", ActorRole: "system"}},
	}
	if _, err := l.AppendStream(ctx, "s-0", -1, envs[:1]); err != nil {
		t.Fatal(err)
	}
	got, err := l.AppendStream(ctx, "s-1", -1, envs)
	if err == nil {
		t.Fatal("an event id used in another stream was accepted")
	}
	envs[0].ID = uuid.Must(uuid.NewV7())
	got, err = l.AppendStream(ctx, "s-1", -1, envs)
	if err != nil {
		t.Fatal(err)
	}
	again, err := l.AppendStream(ctx, "s-1", -1, envs)
	if err != nil {
		t.Fatalf("idempotent re-append: %v", err)
	}
	read, err := l.ReadStream(ctx, "s-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, read) || !reflect.DeepEqual(again, read) {
		t.Fatalf("appended %+v\nre-appended %+v\nread back %+v", got, again, read)
	}
}
