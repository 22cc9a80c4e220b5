package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

func (s *suite) testRoundTrip(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	const stream = "roundtrip-1"

	full := newEvent("MemberJoined")
	local := newEvent("LoanReturned")
	local.Metadata.EffectiveAt = time.Date(2025, 10, 3, 18, 45, 1, 7, time.FixedZone("CEST", 2*60*60))
	want := []eventstore.EventData{
		full,
		local,
		bareEvent("MemberLeft", `{}`),
		bareEvent("Note", `"caf\u00e9 \u00e9 \u2713"`),
		bareEvent("Count", `42`),
		bareEvent("List", ` [1,2,  3] `),
		bareEvent("Nothing", `null`),
	}
	// The store must copy what it keeps: the caller may reuse its buffers.
	appended := make([]eventstore.EventData, len(want))
	for i, e := range want {
		e.Data = bytes.Clone(e.Data)
		appended[i] = e
	}
	r1 := mustAppend(t, ctx, st, stream, eventstore.NoStream(), appended[0])
	r2 := mustAppend(t, ctx, st, stream, eventstore.Exact(0), appended[1:]...)
	for _, e := range appended {
		for i := range e.Data {
			e.Data[i] = 'x'
		}
	}
	if got, want := r1.Revision, uint64(0); got != want {
		t.Errorf("first append: revision=%d, want %d", got, want)
	}
	if got, want := r2.Revision, uint64(len(want)-1); got != want {
		t.Errorf("second append: revision=%d, want %d", got, want)
	}
	positions := append(append([]uint64{}, r1.Positions...), r2.Positions...)
	for i, p := range positions {
		if p != uint64(i+1) {
			t.Fatalf("positions=%v, want 1..%d", positions, len(want))
		}
	}

	t.Run("ReadStream", func(t *testing.T) {
		got := mustReadStream(t, ctx, st, stream, 0, eventstore.Forward, 0)
		if len(got) != len(want) {
			t.Fatalf("read %d events, want %d", len(got), len(want))
		}
		for i, e := range got {
			checkEvent(t, fmt.Sprintf("event %d", i), e, want[i], stream, uint64(i), uint64(i+1))
		}
	})
	t.Run("ReadAll", func(t *testing.T) {
		got := mustReadAll(t, ctx, st, 0, 0)
		if len(got) != len(want) {
			t.Fatalf("read %d events, want %d", len(got), len(want))
		}
		for i, e := range got {
			checkEvent(t, fmt.Sprintf("event %d", i), e, want[i], stream, uint64(i), uint64(i+1))
		}
	})
	t.Run("Subscribe", func(t *testing.T) {
		got := s.receive(t, st, 0, len(want))
		for i, e := range got {
			checkEvent(t, fmt.Sprintf("event %d", i), e, want[i], stream, uint64(i), uint64(i+1))
		}
	})
	t.Run("ReturnedBuffersAreCopies", func(t *testing.T) {
		got := mustReadAll(t, ctx, st, 1, 1)
		if len(got) != 1 {
			t.Fatalf("read %d events, want 1", len(got))
		}
		for i := range got[0].Data {
			got[0].Data[i] = 'x'
		}
		again := mustReadAll(t, ctx, st, 1, 1)
		if len(again) != 1 || !bytes.Equal(again[0].Data, want[0].Data) {
			t.Fatalf("after the caller changed a returned event, the store returns %q, want %q", again[0].Data, want[0].Data)
		}
	})
}

func (s *suite) testExpectedRevision(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	cases := []struct {
		name     string
		existing int
		expected eventstore.ExpectedRevision
		ok       bool
		actual   int64 // stream's last revision before the append, -1 for none
	}{
		{"any on missing stream", 0, eventstore.Any(), true, -1},
		{"no stream on missing stream", 0, eventstore.NoStream(), true, -1},
		{"stream exists on missing stream", 0, eventstore.StreamExists(), false, -1},
		{"exact 0 on missing stream", 0, eventstore.Exact(0), false, -1},
		{"exact 3 on missing stream", 0, eventstore.Exact(3), false, -1},
		{"any on existing stream", 2, eventstore.Any(), true, 1},
		{"zero value on existing stream", 2, eventstore.ExpectedRevision{}, true, 1},
		{"no stream on existing stream", 2, eventstore.NoStream(), false, 1},
		{"stream exists on existing stream", 2, eventstore.StreamExists(), true, 1},
		{"exact current revision", 2, eventstore.Exact(1), true, 1},
		{"exact behind", 2, eventstore.Exact(0), false, 1},
		{"exact ahead", 2, eventstore.Exact(2), false, 1},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stream := fmt.Sprintf("expect-%d", i)
			if c.existing > 0 {
				mustAppend(t, ctx, st, stream, eventstore.NoStream(), events("Seed", c.existing)...)
			}
			before := takeState(t, ctx, st)
			e := newEvent("Proposed")
			res, err := st.Append(ctx, stream, c.expected, e)
			if !c.ok {
				wantWrongRevision(t, "append", err, stream, c.expected, c.actual)
				unchanged(t, ctx, st, before, "a refused append")
				if got := mustReadStream(t, ctx, st, stream, 0, eventstore.Forward, 0); len(got) != c.existing {
					t.Errorf("stream has %d events, want %d", len(got), c.existing)
				}
				return
			}
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			wantRev, wantPos := uint64(c.actual+1), before.head+1
			if res.Revision != wantRev || len(res.Positions) != 1 || res.Positions[0] != wantPos {
				t.Fatalf("result=%+v, want revision %d positions [%d]", res, wantRev, wantPos)
			}
			got := mustReadStream(t, ctx, st, stream, eventstore.LastRevision, eventstore.Backward, 1)
			if len(got) != 1 {
				t.Fatalf("read %d events, want 1", len(got))
			}
			checkEvent(t, "last event", got[0], e, stream, wantRev, wantPos)
		})
	}
}

func (s *suite) testConcurrentAppenders(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	const stream = "contended-1"
	seed := newEvent("Seed")
	mustAppend(t, ctx, st, stream, eventstore.NoStream(), seed)
	winners := []eventstore.EventData{seed}

	type outcome struct {
		i   int
		res eventstore.AppendResult
		err error
	}
	for round := 0; round < s.opts.Rounds; round++ {
		current := uint64(round)
		proposed := events("Contended", s.opts.Appenders)
		start := make(chan struct{})
		out := make(chan outcome, len(proposed))
		for i, e := range proposed {
			go func() {
				<-start
				res, err := st.Append(ctx, stream, eventstore.Exact(current), e)
				out <- outcome{i, res, err}
			}()
		}
		close(start)
		won := -1
		for range proposed {
			var o outcome
			select {
			case o = <-out:
			case <-ctx.Done():
				t.Fatalf("round %d: appenders did not return: %v", round, ctx.Err())
			}
			if o.err == nil {
				if won >= 0 {
					t.Fatalf("round %d: appenders %d and %d both won Exact(%d)", round, won, o.i, current)
				}
				won = o.i
				if got, want := o.res.Revision, current+1; got != want {
					t.Errorf("round %d: winner's revision=%d, want %d", round, got, want)
				}
				if got, want := o.res.Positions, []uint64{current + 2}; len(got) != 1 || got[0] != want[0] {
					t.Errorf("round %d: winner's positions=%v, want %v", round, got, want)
				}
				continue
			}
			wantWrongRevision(t, fmt.Sprintf("round %d appender %d", round, o.i), o.err, stream, eventstore.Exact(current), int64(current+1))
		}
		if won < 0 {
			t.Fatalf("round %d: no appender won Exact(%d)", round, current)
		}
		winners = append(winners, proposed[won])
	}

	got := mustReadStream(t, ctx, st, stream, 0, eventstore.Forward, 0)
	if len(got) != len(winners) {
		t.Fatalf("stream has %d events, want %d (one per round plus the seed)", len(got), len(winners))
	}
	for i, e := range got {
		checkEvent(t, fmt.Sprintf("revision %d", i), e, winners[i], stream, uint64(i), uint64(i+1))
	}
	if got, want := mustHead(t, ctx, st), uint64(len(winners)); got != want {
		t.Errorf("head=%d, want %d", got, want)
	}
}

func (s *suite) testIdempotency(t *testing.T) {
	t.Run("SameCallTwice", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		e := newEvent("MemberJoined")
		first := mustAppend(t, ctx, st, "idem-1", eventstore.NoStream(), e)
		before := takeState(t, ctx, st)
		again, err := st.Append(ctx, "idem-1", eventstore.NoStream(), e)
		if err != nil {
			t.Fatalf("re-append: %v", err)
		}
		if !sameResult(again, first) {
			t.Errorf("re-append result=%+v, want the original %+v", again, first)
		}
		unchanged(t, ctx, st, before, "an idempotent re-append")
	})
	t.Run("ExpectedAny", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		mustAppend(t, ctx, st, "idem-1", eventstore.Any(), newEvent("Seed"))
		e := newEvent("MemberJoined")
		first := mustAppend(t, ctx, st, "idem-1", eventstore.Any(), e)
		before := takeState(t, ctx, st)
		again, err := st.Append(ctx, "idem-1", eventstore.Any(), e)
		if err != nil {
			t.Fatalf("re-append: %v", err)
		}
		if !sameResult(again, first) {
			t.Errorf("re-append result=%+v, want the original %+v", again, first)
		}
		unchanged(t, ctx, st, before, "an idempotent re-append")
	})
	t.Run("AfterOtherAppends", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		mustAppend(t, ctx, st, "idem-2", eventstore.NoStream(), newEvent("Other"))
		e := newEvent("MemberJoined")
		first := mustAppend(t, ctx, st, "idem-1", eventstore.NoStream(), e)
		mid := mustAppend(t, ctx, st, "idem-1", eventstore.Exact(0), newEvent("Next"), newEvent("Next"))
		for i := 0; i < 20; i++ {
			mustAppend(t, ctx, st, "idem-1", eventstore.Any(), newEvent("Later"))
			mustAppend(t, ctx, st, fmt.Sprintf("idem-other-%d", i%3), eventstore.Any(), newEvent("Elsewhere"))
		}
		before := takeState(t, ctx, st)
		for _, c := range []struct {
			name     string
			expected eventstore.ExpectedRevision
			evs      []eventstore.EventData
			want     eventstore.AppendResult
		}{
			{"same expected", eventstore.NoStream(), []eventstore.EventData{e}, first},
			{"expected any", eventstore.Any(), []eventstore.EventData{e}, first},
		} {
			again, err := st.Append(ctx, "idem-1", c.expected, c.evs...)
			if err != nil {
				t.Fatalf("%s: re-append: %v", c.name, err)
			}
			if !sameResult(again, c.want) {
				t.Errorf("%s: re-append result=%+v, want the original %+v", c.name, again, c.want)
			}
		}
		unchanged(t, ctx, st, before, "idempotent re-appends")
		if want := (eventstore.AppendResult{Revision: 2, Positions: []uint64{3, 4}}); !sameResult(mid, want) {
			t.Errorf("middle append: result=%+v, want %+v", mid, want)
		}
	})
	t.Run("MultiEventResentWhole", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		mustAppend(t, ctx, st, "idem-1", eventstore.NoStream(), newEvent("Seed"), newEvent("Seed"))
		batch := events("Batch", 3)
		first := mustAppend(t, ctx, st, "idem-1", eventstore.Exact(1), batch...)
		if want := (eventstore.AppendResult{Revision: 4, Positions: []uint64{3, 4, 5}}); !sameResult(first, want) {
			t.Fatalf("append result=%+v, want %+v", first, want)
		}
		for i := 0; i < 10; i++ {
			mustAppend(t, ctx, st, "idem-1", eventstore.Any(), newEvent("Later"))
			mustAppend(t, ctx, st, "idem-2", eventstore.Any(), newEvent("Elsewhere"))
		}
		before := takeState(t, ctx, st)
		for _, expected := range []eventstore.ExpectedRevision{eventstore.Exact(1), eventstore.Any()} {
			again, err := st.Append(ctx, "idem-1", expected, batch...)
			if err != nil {
				t.Fatalf("re-append with expected %s: %v", expected, err)
			}
			if !sameResult(again, first) {
				t.Errorf("re-append with expected %s: result=%+v, want the original %+v", expected, again, first)
			}
		}
		unchanged(t, ctx, st, before, "idempotent re-appends")
	})
	t.Run("Refused", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		a, b := newEvent("A"), newEvent("B")
		mustAppend(t, ctx, st, "idem-1", eventstore.NoStream(), a, b)
		mustAppend(t, ctx, st, "idem-1", eventstore.Exact(1), newEvent("C"))
		otherData := a
		otherData.Data = []byte(`{"n": -1}`)
		otherReason := a
		otherReason.Metadata.Reason = "a different reason"
		otherType := a
		otherType.Type = "NotA"
		otherSchema := a
		otherSchema.Schema = a.Schema + 1
		otherCausation := a
		otherCausation.Metadata.CausationID = b.Metadata.CausationID
		otherEffective := a
		otherEffective.Metadata.EffectiveAt = a.Metadata.EffectiveAt.Add(time.Nanosecond)
		cases := []struct {
			name     string
			stream   string
			expected eventstore.ExpectedRevision
			evs      []eventstore.EventData
		}{
			{"other data", "idem-1", eventstore.Any(), []eventstore.EventData{otherData}},
			{"other reason", "idem-1", eventstore.Any(), []eventstore.EventData{otherReason}},
			{"other type", "idem-1", eventstore.Any(), []eventstore.EventData{otherType}},
			{"other schema", "idem-1", eventstore.Any(), []eventstore.EventData{otherSchema}},
			{"other causation", "idem-1", eventstore.Any(), []eventstore.EventData{otherCausation}},
			{"other effective time", "idem-1", eventstore.Any(), []eventstore.EventData{otherEffective}},
			{"other content, same expected", "idem-1", eventstore.NoStream(), []eventstore.EventData{otherData, b}},
			{"another stream", "idem-2", eventstore.Any(), []eventstore.EventData{a}},
			{"another stream, no stream", "idem-2", eventstore.NoStream(), []eventstore.EventData{a, b}},
			{"another revision", "idem-1", eventstore.Any(), []eventstore.EventData{b, a}},
			{"with a new event", "idem-1", eventstore.Any(), []eventstore.EventData{newEvent("New"), a}},
			{"after a new event", "idem-1", eventstore.Any(), []eventstore.EventData{b, newEvent("New")}},
		}
		for _, c := range cases {
			before := takeState(t, ctx, st)
			_, err := st.Append(ctx, c.stream, c.expected, c.evs...)
			if !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Errorf("%s: err=%v, want ErrDuplicateEvent", c.name, err)
			}
			unchanged(t, ctx, st, before, c.name)
		}
		if got := mustReadStream(t, ctx, st, "idem-2", 0, eventstore.Forward, 0); len(got) != 0 {
			t.Errorf("idem-2 has %d events, want none", len(got))
		}
	})
}

func (s *suite) testAtomicity(t *testing.T) {
	t.Run("RefusedMultiEventAppendWritesNothing", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		existing := newEvent("Existing")
		mustAppend(t, ctx, st, "atom-1", eventstore.NoStream(), existing)
		mustAppend(t, ctx, st, "atom-2", eventstore.NoStream(), newEvent("Other"))
		elsewhere := mustReadStream(t, ctx, st, "atom-2", 0, eventstore.Forward, 1)
		if len(elsewhere) != 1 {
			t.Fatalf("atom-2 has %d events, want 1", len(elsewhere))
		}
		ok1, ok2 := newEvent("Fine"), newEvent("Fine")
		invalid := newEvent("Invalid")
		invalid.Schema = 0
		badJSON := newEvent("BadJSON")
		badJSON.Data = []byte(`{"n":`)
		cases := []struct {
			name     string
			expected eventstore.ExpectedRevision
			evs      []eventstore.EventData
			want     error
		}{
			{"one event too large", eventstore.Any(), []eventstore.EventData{ok1, sizedEvent(t, "atom-1", s.opts.MaxEventSize+1), ok2}, eventstore.ErrEventTooLarge},
			{"one invalid event", eventstore.Any(), []eventstore.EventData{ok1, ok2, invalid}, eventstore.ErrInvalidEvent},
			{"one event not JSON", eventstore.Exact(0), []eventstore.EventData{ok1, badJSON}, eventstore.ErrInvalidEvent},
			{"wrong expected revision", eventstore.NoStream(), []eventstore.EventData{ok1, ok2}, eventstore.ErrWrongExpectedRevision},
			{"one id used in another stream", eventstore.Any(), []eventstore.EventData{ok1, ok2, elsewhere[0].EventData}, eventstore.ErrDuplicateEvent},
			{"one id twice", eventstore.Any(), []eventstore.EventData{ok1, ok2, ok1}, eventstore.ErrDuplicateEvent},
		}
		for _, c := range cases {
			before := takeState(t, ctx, st)
			_, err := st.Append(ctx, "atom-1", c.expected, c.evs...)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: err=%v, want %v", c.name, err, c.want)
			}
			unchanged(t, ctx, st, before, c.name)
		}
		// The good events of the refused appends were not recorded: they
		// append now as new events.
		res := mustAppend(t, ctx, st, "atom-1", eventstore.Exact(0), ok1, ok2)
		if want := (eventstore.AppendResult{Revision: 2, Positions: []uint64{3, 4}}); !sameResult(res, want) {
			t.Errorf("append after refusals: result=%+v, want %+v", res, want)
		}
	})
	t.Run("AcceptedMultiEventAppendIsConsecutive", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		const writers, appends, perAppend = 4, 8, 5
		type written struct {
			stream string
			res    eventstore.AppendResult
			evs    []eventstore.EventData
		}
		out := make(chan written, writers*appends)
		errs := make(chan error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				stream := fmt.Sprintf("batch-%d", w)
				for i := 0; i < appends; i++ {
					evs := events("Batched", perAppend)
					expected := eventstore.NoStream()
					if i > 0 {
						expected = eventstore.Exact(uint64(i*perAppend - 1))
					}
					res, err := st.Append(ctx, stream, expected, evs...)
					if err != nil {
						errs <- fmt.Errorf("%s append %d: %w", stream, i, err)
						return
					}
					out <- written{stream, res, evs}
				}
			}()
		}
		close(start)
		s.wait(t, &wg)
		close(out)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		all := mustReadAll(t, ctx, st, 0, 0)
		if got, want := len(all), writers*appends*perAppend; got != want {
			t.Fatalf("ReadAll has %d events, want %d", got, want)
		}
		for w := range out {
			wantRev := w.res.Revision - perAppend + 1
			for i, p := range w.res.Positions {
				if i > 0 && p != w.res.Positions[i-1]+1 {
					t.Fatalf("%s: positions=%v, want consecutive", w.stream, w.res.Positions)
				}
				if p < 1 || p > uint64(len(all)) {
					t.Fatalf("%s: position %d beyond ReadAll's %d events", w.stream, p, len(all))
				}
				checkEvent(t, fmt.Sprintf("%s position %d", w.stream, p), all[p-1], w.evs[i], w.stream, wantRev+uint64(i), p)
			}
		}
	})
}

// wait waits for wg, failing the test after the suite's timeout.
func (s *suite) wait(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(s.opts.Timeout):
		t.Fatalf("goroutines did not finish within %v", s.opts.Timeout)
	}
}
