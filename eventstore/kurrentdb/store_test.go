package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/storetest"
	"github.com/google/uuid"
)

// These tests run the Store's logic over fakeKurrent (fake_test.go): they
// check the numbering, reads, idempotency and subscriptions of this
// package, not KurrentDB. contract_test.go is the test against a server.

var prefixSeq atomic.Uint64

func freshPrefix() string { return fmt.Sprintf("ledger%d:", prefixSeq.Add(1)) }

func openFake(t *testing.T, f *fakeKurrent, prefix string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := open(ctx, f.client(), Options{StreamPrefix: prefix}, time.Millisecond)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noise writes what else a shared server's $all holds: another ledger's
// Concord events and events with no Concord metadata.
func noise(f *fakeKurrent) {
	other := toProposed(eventstore.EventData{ID: uuid.New(), Type: "Other", Schema: 1, Data: []byte(`{}`)})
	f.write("elsewhere:community-1", other)
	f.write("plain-stream", esdb.EventData{EventID: uuid.New(), EventType: "Plain", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)})
}

func TestContractOnFakeServer(t *testing.T) {
	f := newFakeKurrent()
	noise(f)
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		noise(f)
		return openFake(t, f, freshPrefix())
	})
}

// TestContractOnFakeServerWithoutPrefix gives each store a server of its
// own and no prefix: every non-system stream is the store's.
func TestContractOnFakeServerWithoutPrefix(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		return openFake(t, newFakeKurrent(), "")
	})
}

// TestContractOnFlakyOldFakeServer drops the follower's subscription every
// few messages and, like servers before 23.10, sends a checkpoint instead
// of CaughtUp: the follower must resubscribe without gaps or doubles.
func TestContractOnFlakyOldFakeServer(t *testing.T) {
	f := newFakeKurrent()
	f.dropEvery = 5
	f.noCaughtUp = true
	f.window = 3
	storetest.RunWithOptions(t, storetest.Options{Rounds: 6, Writers: 4, EventsPerWriter: 10}, func(t *testing.T) eventstore.Store {
		noise(f)
		return openFake(t, f, freshPrefix())
	})
}

func TestReopenRebuildsPositions(t *testing.T) {
	ctx := t.Context()
	f := newFakeKurrent()
	prefix := freshPrefix()
	first := openFake(t, f, prefix)
	var results []eventstore.AppendResult
	var appended [][]eventstore.EventData
	for i := 0; i < 12; i++ {
		noise(f)
		evs := []eventstore.EventData{newEventData(), newEventData()}
		res, err := first.Append(ctx, fmt.Sprintf("s-%d", i%3), eventstore.Any(), evs...)
		if err != nil {
			t.Fatal(err)
		}
		results, appended = append(results, res), append(appended, evs)
	}
	before, err := first.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	again := openFake(t, f, prefix)
	after, err := again.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || len(after) != 24 {
		t.Fatalf("reopened store has %d events, want %d (and 24)", len(after), len(before))
	}
	for i := range after {
		a, b := after[i], before[i]
		if a.ID != b.ID || a.Position != b.Position || a.Revision != b.Revision || a.StreamID != b.StreamID || !a.RecordedAt.Equal(b.RecordedAt) {
			t.Errorf("position %d: reopened %s %s@%d at %v, want %s %s@%d at %v", b.Position, a.ID, a.StreamID, a.Revision, a.RecordedAt, b.ID, b.StreamID, b.Revision, b.RecordedAt)
		}
	}
	for i, evs := range appended {
		res, err := again.Append(ctx, fmt.Sprintf("s-%d", i%3), eventstore.NoStream(), evs...)
		if err != nil {
			t.Fatalf("re-append %d after reopening: %v", i, err)
		}
		if res.Revision != results[i].Revision || fmt.Sprint(res.Positions) != fmt.Sprint(results[i].Positions) {
			t.Errorf("re-append %d after reopening: %+v, want the original %+v", i, res, results[i])
		}
	}
	if h, _ := again.Head(ctx); h != 24 {
		t.Errorf("head=%d after idempotent re-appends, want 24", h)
	}
}

func TestTwoStoresOnOnePrefixAgree(t *testing.T) {
	ctx := t.Context()
	f := newFakeKurrent()
	prefix := freshPrefix()
	a, b := openFake(t, f, prefix), openFake(t, f, prefix)
	sub, err := b.Subscribe(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	e := newEventData()
	res, err := a.Append(ctx, "shared-1", eventstore.NoStream(), e)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub.Events():
		if got.ID != e.ID || got.Position != res.Positions[0] {
			t.Errorf("b saw %s at %d, want %s at %d", got.ID, got.Position, e.ID, res.Positions[0])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b did not see a's event")
	}
	// b's follower has numbered it, so b's reads and revision checks see it.
	_, err = b.Append(ctx, "shared-1", eventstore.NoStream(), newEventData())
	var werr *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &werr) || werr.Actual != 0 {
		t.Errorf("b appending NoStream after a: err=%v, want wrong expected revision with actual 0", err)
	}
	// b retrying a's append is idempotent.
	again, err := b.Append(ctx, "shared-1", eventstore.Any(), e)
	if err != nil || again.Revision != res.Revision || again.Positions[0] != res.Positions[0] {
		t.Errorf("b re-appending a's event: %+v, %v; want %+v", again, err, res)
	}
}

func TestWrongVersionWithoutActualReadsIt(t *testing.T) {
	ctx := t.Context()
	f := newFakeKurrent()
	f.terseWrongVersion = true
	s := openFake(t, f, freshPrefix())
	for _, c := range []struct {
		stream   string
		existing int
		expected eventstore.ExpectedRevision
		actual   int64
	}{
		{"missing", 0, eventstore.Exact(3), -1},
		{"three", 3, eventstore.NoStream(), 2},
		{"three-b", 3, eventstore.Exact(0), 2},
	} {
		for i := 0; i < c.existing; i++ {
			if _, err := s.Append(ctx, c.stream, eventstore.Any(), newEventData()); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.Append(ctx, c.stream, c.expected, newEventData())
		var werr *eventstore.WrongExpectedRevisionError
		if !errors.As(err, &werr) || werr.Actual != c.actual || werr.Stream != c.stream || werr.Expected != c.expected {
			t.Errorf("%s: err=%v, want wrong expected revision %s with actual %d", c.stream, err, c.expected, c.actual)
		}
	}
}

func TestOpenFailsWhenFollowingIsDenied(t *testing.T) {
	f := newFakeKurrent()
	f.denySubscriptions = true
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := open(ctx, f.client(), Options{}, time.Millisecond)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "Access denied") {
		t.Fatalf("open: err=%v (ctx %v), want the access denied error at once", err, ctx.Err())
	}
}

func TestStoreSkipsForeignEventsInItsStreams(t *testing.T) {
	ctx := t.Context()
	f := newFakeKurrent()
	prefix := freshPrefix()
	s := openFake(t, f, prefix)
	e1, e2 := newEventData(), newEventData()
	if _, err := s.Append(ctx, "mixed", eventstore.NoStream(), e1); err != nil {
		t.Fatal(err)
	}
	// Something writes into the store's stream without Concord metadata.
	f.write(prefix+"mixed", esdb.EventData{EventID: uuid.New(), EventType: "Foreign", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)})
	res, err := s.Append(ctx, "mixed", eventstore.Exact(1), e2)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revision != 2 || res.Positions[0] != 2 {
		t.Errorf("append after a foreign event: %+v, want revision 2 (KurrentDB's) at position 2 (dense)", res)
	}
	got, err := s.ReadStream(ctx, "mixed", 0, eventstore.Forward, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != e1.ID || got[1].ID != e2.ID || got[1].Revision != 2 {
		t.Errorf("ReadStream returned %d events, want e1@0 and e2@2", len(got))
	}
	all, err := s.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Position != 1 || all[1].Position != 2 {
		t.Errorf("ReadAll returned %d events, want positions 1 and 2", len(all))
	}
}
