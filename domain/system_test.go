package domain_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

func TestSystemEventsRegistered(t *testing.T) {
	for _, typ := range []string{"CheckpointSigned", "CheckpointCosigned", "EventCorrected"} {
		spec, ok := domain.Lookup(typ)
		if !ok {
			t.Fatalf("%s is not registered", typ)
		}
		if got, want := spec.Group, "system"; got != want {
			t.Errorf("%s group=%q, want %q", typ, got, want)
		}
	}
}

func TestCheckpointEventsRoundTrip(t *testing.T) {
	c := domain.Codec{}
	for _, e := range []domain.Event{
		domain.CheckpointSigned{Origin: "school.example/ledger", TreeSize: 42, RootHash: "ab01", Note: "school.example/ledger\n42\nqwE=\n\n— school.example/ledger AAAA\n"},
		domain.CheckpointCosigned{Witness: "partner.example", WitnessKey: "partner.example+01234567+AQ==", TreeSize: 42, Note: "n"},
	} {
		env, err := c.Encode(e, uuid.New(), domain.Meta{ActorID: "system", ActorRole: domain.RoleSystem})
		if err != nil {
			t.Fatalf("encode %s: %v", e.EventType(), err)
		}
		m, err := c.Decode(domain.Recorded{Envelope: env, Stream: domain.CheckpointStream, Position: 43})
		if err != nil {
			t.Fatalf("decode %s: %v", e.EventType(), err)
		}
		if !reflect.DeepEqual(m.Event, e) {
			t.Errorf("round trip %s:\n got %+v\nwant %+v", e.EventType(), m.Event, e)
		}
	}
}
