package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/eventstore/storetest"
)

// The suite must be able to fail. Each mutant below breaks one promise of
// the contract on top of the reference store; TestSuiteCatchesMutants runs
// the suite against each in a child process and requires it to fail in the
// subtest that guards that promise.

const mutantEnv = "STORETEST_MUTANT"

type mutant struct {
	name     string
	failsIn  string // a subtest that must fail
	newStore func() eventstore.Store
}

func base() *memory.Store { return memory.New(memory.Options{}) }

var mutants = []mutant{
	{"ignores expected revision", "TestMutant/ExpectedRevision", func() eventstore.Store { return anyRevision{base()} }},
	{"wrong actual revision", "TestMutant/ConcurrentAppenders", func() eventstore.Store { return wrongActual{base()} }},
	{"stale head", "TestMutant/GlobalOrder", func() eventstore.Store { return staleHead{base()} }},
	{"position at off by one", "TestMutant/PositionAt", func() eventstore.Store { return positionAtOffByOne{base()} }},
	{"backward read ignores limit", "TestMutant/ReadStream", func() eventstore.Store { return backwardNoLimit{base()} }},
	{"subscription repeats events", "TestMutant/Subscribe", func() eventstore.Store { return lossySubscription{base()} }},
	{"ignores cancellation", "TestMutant/Canceled", func() eventstore.Store { return noContext{base()} }},
	{"close is a no-op", "TestMutant/Closed", func() eventstore.Store { return noClose{base()} }},
	{"recorded time not UTC", "TestMutant/RoundTrip", func() eventstore.Store { return localTime{base()} }},
	{"re-append refused", "TestMutant/Idempotency", func() eventstore.Store { return noIdempotency{base()} }},
	{"half-applied batches", "TestMutant/Atomicity", func() eventstore.Store { return splitBatches{base()} }},
}

// TestMutant runs the suite against the mutant named in STORETEST_MUTANT;
// it is skipped unless started by TestSuiteCatchesMutants.
func TestMutant(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesMutants")
	}
	for _, m := range mutants {
		if m.name == name {
			storetest.RunWithOptions(t, storetest.Options{Timeout: 3 * time.Second}, func(t *testing.T) eventstore.Store {
				s := m.newStore()
				t.Cleanup(func() { s.Close() })
				return s
			})
			return
		}
	}
	t.Fatalf("no mutant %q", name)
}

func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child test process per mutant")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutant$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed against a store that breaks the contract (%s)", m.name)
			}
			if !strings.Contains(string(out), "--- FAIL: "+m.failsIn) {
				t.Fatalf("the suite failed, but not in %s:\n%s", m.failsIn, tail(string(out), 3000))
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

type anyRevision struct{ *memory.Store }

func (s anyRevision) Append(ctx context.Context, stream string, _ eventstore.ExpectedRevision, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	return s.Store.Append(ctx, stream, eventstore.Any(), evs...)
}

type wrongActual struct{ *memory.Store }

func (s wrongActual) Append(ctx context.Context, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	res, err := s.Store.Append(ctx, stream, exp, evs...)
	var w *eventstore.WrongExpectedRevisionError
	if errors.As(err, &w) {
		w.Actual--
	}
	return res, err
}

type staleHead struct{ *memory.Store }

func (s staleHead) Head(ctx context.Context) (uint64, error) {
	h, err := s.Store.Head(ctx)
	if h > 3 {
		h--
	}
	return h, err
}

type positionAtOffByOne struct{ *memory.Store }

func (s positionAtOffByOne) PositionAt(ctx context.Context, t time.Time) (uint64, error) {
	p, err := s.Store.PositionAt(ctx, t)
	if p > 1 {
		p--
	}
	return p, err
}

type backwardNoLimit struct{ *memory.Store }

func (s backwardNoLimit) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	if dir == eventstore.Backward {
		limit = 0
	}
	return s.Store.ReadStream(ctx, stream, from, dir, limit)
}

type lossySubscription struct{ *memory.Store }

func (s lossySubscription) Subscribe(ctx context.Context, from uint64) (eventstore.Subscription, error) {
	inner, err := s.Store.Subscribe(ctx, from)
	if err != nil {
		return nil, err
	}
	out := &lossy{Subscription: inner, events: make(chan eventstore.RecordedEvent)}
	go func() {
		defer close(out.events)
		for e := range inner.Events() {
			out.events <- e
			if e.Position%7 == 0 {
				out.events <- e // delivered twice
			}
		}
	}()
	return out, nil
}

type lossy struct {
	eventstore.Subscription
	events chan eventstore.RecordedEvent
}

func (l *lossy) Events() <-chan eventstore.RecordedEvent { return l.events }

func (l *lossy) Close() error {
	err := l.Subscription.Close()
	for range l.events {
	}
	return err
}

type noContext struct{ *memory.Store }

func (s noContext) Append(_ context.Context, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	return s.Store.Append(context.Background(), stream, exp, evs...)
}

type noClose struct{ *memory.Store }

func (noClose) Close() error { return nil }

type localTime struct{ *memory.Store }

func (s localTime) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	evs, err := s.Store.ReadStream(ctx, stream, from, dir, limit)
	for i := range evs {
		evs[i].RecordedAt = evs[i].RecordedAt.In(time.FixedZone("CEST", 2*60*60))
	}
	return evs, err
}

type noIdempotency struct{ *memory.Store }

func (s noIdempotency) Append(ctx context.Context, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	for _, e := range evs {
		if got, _ := s.Store.ReadAll(ctx, 0, 0); containsID(got, e) {
			return eventstore.AppendResult{}, eventstore.ErrDuplicateEvent
		}
	}
	return s.Store.Append(ctx, stream, exp, evs...)
}

func containsID(all []eventstore.RecordedEvent, e eventstore.EventData) bool {
	for _, r := range all {
		if r.ID == e.ID {
			return true
		}
	}
	return false
}

// splitBatches appends a multi-event append one event at a time, so a
// refusal of a later event leaves the earlier ones written.
type splitBatches struct{ *memory.Store }

func (s splitBatches) Append(ctx context.Context, stream string, exp eventstore.ExpectedRevision, evs ...eventstore.EventData) (eventstore.AppendResult, error) {
	if len(evs) < 2 {
		return s.Store.Append(ctx, stream, exp, evs...)
	}
	var res eventstore.AppendResult
	for i, e := range evs {
		if i > 0 {
			exp = eventstore.Any()
		}
		r, err := s.Store.Append(ctx, stream, exp, e)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		res.Revision = r.Revision
		res.Positions = append(res.Positions, r.Positions...)
	}
	return res, nil
}
