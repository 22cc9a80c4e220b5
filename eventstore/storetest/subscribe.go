package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

func (s *suite) subscribe(t *testing.T, ctx context.Context, st eventstore.Store, from uint64) eventstore.Subscription {
	t.Helper()
	sub, err := st.Subscribe(ctx, from)
	if err != nil {
		t.Fatalf("Subscribe(%d): %v", from, err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

// next returns the subscription's next n events, failing the test if the
// channel closes first or they do not come within the suite's timeout.
func (s *suite) next(t *testing.T, sub eventstore.Subscription, n int) []eventstore.RecordedEvent {
	t.Helper()
	out := make([]eventstore.RecordedEvent, 0, n)
	timeout := time.NewTimer(s.opts.Timeout)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended after %d of %d events: Err()=%v", len(out), n, sub.Err())
			}
			out = append(out, e)
		case <-timeout.C:
			t.Fatalf("received %d of %d events within %v", len(out), n, s.opts.Timeout)
		}
	}
	return out
}

// drain reads the subscription until its channel closes, failing the test
// if it stays open past the suite's timeout.
func (s *suite) drain(t *testing.T, sub eventstore.Subscription) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	timeout := time.NewTimer(s.opts.Timeout)
	defer timeout.Stop()
	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				return out
			}
			out = append(out, e)
		case <-timeout.C:
			t.Fatalf("subscription channel still open after %v", s.opts.Timeout)
		}
	}
}

// receive subscribes from from, takes n events and closes the
// subscription.
func (s *suite) receive(t *testing.T, st eventstore.Store, from uint64, n int) []eventstore.RecordedEvent {
	t.Helper()
	sub := s.subscribe(t, s.ctx(t), st, from)
	evs := s.next(t, sub, n)
	if err := sub.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	return evs
}

// wantPositions checks that evs have positions first, first+1, … and are
// exactly the events ReadAll returns there.
func wantPositions(t *testing.T, what string, evs []eventstore.RecordedEvent, first uint64, all []eventstore.RecordedEvent) {
	t.Helper()
	for i, e := range evs {
		want := first + uint64(i)
		if e.Position != want {
			t.Fatalf("%s: event %d has position %d, want %d (no gap, no duplicate)", what, i, e.Position, want)
		}
		if want > uint64(len(all)) {
			t.Fatalf("%s: position %d beyond ReadAll's %d events", what, want, len(all))
		}
		w := all[want-1]
		checkEvent(t, fmt.Sprintf("%s position %d", what, want), e, w.EventData, w.StreamID, w.Revision, w.Position)
	}
}

func (s *suite) testSubscribe(t *testing.T) {
	t.Run("CatchUpThenLive", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		for i := 0; i < 5; i++ {
			mustAppend(t, ctx, st, fmt.Sprintf("sub-%d", i%2), eventstore.Any(), events("S", 2)...)
		}
		all := mustReadAll(t, ctx, st, 0, 0)
		froms := []uint64{0, 1, 4, 10}
		subs := make([]eventstore.Subscription, len(froms))
		for i, from := range froms {
			subs[i] = s.subscribe(t, ctx, st, from)
		}
		for i, from := range froms {
			first := max(from, 1)
			got := s.next(t, subs[i], int(10-first+1))
			wantPositions(t, fmt.Sprintf("catch-up from %d", from), got, first, all)
		}
		e := newEvent("Live")
		res := mustAppend(t, ctx, st, "sub-live", eventstore.NoStream(), e)
		for i, from := range froms {
			live := s.next(t, subs[i], 1)
			checkEvent(t, fmt.Sprintf("live event after catch-up from %d", from), live[0], e, "sub-live", 0, 11)
			if err := subs[i].Close(); err != nil {
				t.Errorf("from %d: Close: %v", from, err)
			}
			if rest := s.drain(t, subs[i]); len(rest) != 0 {
				t.Errorf("from %d: %d events after the last one appended", from, len(rest))
			}
		}
		if got := res.Positions[0]; got != 11 {
			t.Errorf("live event position=%d, want 11", got)
		}
	})
	t.Run("FromBeyondHead", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		mustAppend(t, ctx, st, "ahead-1", eventstore.NoStream(), events("S", 3)...)
		sub := s.subscribe(t, ctx, st, 6)
		for i := 0; i < 5; i++ {
			mustAppend(t, ctx, st, "ahead-1", eventstore.Any(), newEvent("S"))
		}
		got := s.next(t, sub, 3)
		wantPositions(t, "from 6", got, 6, mustReadAll(t, ctx, st, 0, 0))
	})
	t.Run("LiveUnderConcurrentAppends", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		mustAppend(t, ctx, st, "pre-1", eventstore.NoStream(), events("Pre", 3)...)
		fromStart := s.subscribe(t, ctx, st, 0)
		total := 3 + s.opts.Writers*s.opts.EventsPerWriter

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, s.opts.Writers)
		for w := 0; w < s.opts.Writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				stream := fmt.Sprintf("live-%d", w)
				for i := 0; i < s.opts.EventsPerWriter; i++ {
					expected := eventstore.NoStream()
					if i > 0 {
						expected = eventstore.Exact(uint64(i - 1))
					}
					if _, err := st.Append(ctx, stream, expected, newEvent("Live")); err != nil {
						errs <- fmt.Errorf("%s event %d: %w", stream, i, err)
						return
					}
				}
			}()
		}
		close(start)
		// A second subscriber joins while the writers run, from the middle.
		fromMiddle := s.subscribe(t, ctx, st, 2)

		var gotStart, gotMiddle []eventstore.RecordedEvent
		var readers sync.WaitGroup
		readers.Add(2)
		go func() { defer readers.Done(); gotStart = s.nextOrNil(fromStart, total) }()
		go func() { defer readers.Done(); gotMiddle = s.nextOrNil(fromMiddle, total-1) }()
		s.wait(t, &wg)
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		s.wait(t, &readers)
		all := mustReadAll(t, ctx, st, 0, 0)
		if len(all) != total {
			t.Fatalf("ReadAll has %d events, want %d", len(all), total)
		}
		if len(gotStart) != total {
			t.Fatalf("subscriber from 0 received %d events, want %d", len(gotStart), total)
		}
		if len(gotMiddle) != total-1 {
			t.Fatalf("subscriber from 2 received %d events, want %d", len(gotMiddle), total-1)
		}
		wantPositions(t, "subscriber from 0", gotStart, 1, all)
		wantPositions(t, "subscriber from 2", gotMiddle, 2, all)
	})
	t.Run("AppendsDoNotWaitForReaders", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		sub := s.subscribe(t, ctx, st, 0)
		const n = 300
		for i := 0; i < n; i++ {
			mustAppend(t, ctx, st, "unread-1", eventstore.Any(), newEvent("Unread"))
		}
		got := s.next(t, sub, n)
		wantPositions(t, "late reader", got, 1, mustReadAll(t, ctx, st, 0, 0))
	})
	t.Run("EndsWhenContextEnds", func(t *testing.T) {
		st := s.open(t)
		mustAppend(t, s.ctx(t), st, "end-1", eventstore.NoStream(), newEvent("E"))
		ctx, cancel := context.WithCancel(s.ctx(t))
		sub := s.subscribe(t, ctx, st, 0)
		s.next(t, sub, 1)
		cancel()
		if rest := s.drain(t, sub); len(rest) != 0 {
			t.Errorf("received %d events after cancelling, want 0", len(rest))
		}
		if err := sub.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err()=%v, want context.Canceled", err)
		}
	})
	t.Run("EndsOnClose", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		mustAppend(t, ctx, st, "end-1", eventstore.NoStream(), events("E", 3)...)
		sub := s.subscribe(t, ctx, st, 0)
		s.next(t, sub, 1)
		if err := sub.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		// Events may still hold what was sent before Close; it must close.
		if rest := s.drain(t, sub); len(rest) > 2 {
			t.Errorf("received %d events after Close, at most 2 were left", len(rest))
		}
		if err := sub.Err(); err != nil {
			t.Errorf("Err()=%v after Close, want nil", err)
		}
		// The store goes on.
		mustAppend(t, ctx, st, "end-1", eventstore.Exact(2), newEvent("E"))
	})
	t.Run("EndsWhenStoreCloses", func(t *testing.T) {
		ctx := s.ctx(t)
		st := s.open(t)
		mustAppend(t, ctx, st, "end-1", eventstore.NoStream(), newEvent("E"))
		sub := s.subscribe(t, ctx, st, 0)
		s.next(t, sub, 1)
		if err := st.Close(); err != nil {
			t.Fatalf("store Close: %v", err)
		}
		if rest := s.drain(t, sub); len(rest) != 0 {
			t.Errorf("received %d events after the store closed, want 0", len(rest))
		}
		if err := sub.Err(); !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("Err()=%v, want ErrClosed", err)
		}
	})
	t.Run("CanceledContext", func(t *testing.T) {
		st := s.open(t)
		mustAppend(t, s.ctx(t), st, "end-1", eventstore.NoStream(), newEvent("E"))
		ctx, cancel := context.WithCancel(s.ctx(t))
		cancel()
		sub, err := st.Subscribe(ctx, 0)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Subscribe with a cancelled context: err=%v, want context.Canceled", err)
			}
			return
		}
		// A store may instead return a subscription that ends at once.
		defer sub.Close()
		s.drain(t, sub)
		if err := sub.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe with a cancelled context: Err()=%v, want context.Canceled", err)
		}
	})
}

// nextOrNil is next for use off the test goroutine: it returns what it got
// (possibly fewer than n events) instead of failing the test.
func (s *suite) nextOrNil(sub eventstore.Subscription, n int) []eventstore.RecordedEvent {
	out := make([]eventstore.RecordedEvent, 0, n)
	timeout := time.NewTimer(s.opts.Timeout)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				return out
			}
			out = append(out, e)
		case <-timeout.C:
			return out
		}
	}
	return out
}
