package kurrentdb

import (
	"context"
	"sync"

	"github.com/concord-ledger/concord/eventstore"
)

// subscriptionBatch bounds how many events a subscription reads from $all
// at a time.
const subscriptionBatch = 256

// Subscribe implements eventstore.Store.Subscribe. from 0 is treated as 1.
// The subscription waits on the position log and reads the events it
// numbered from $all in batches, so appends never wait for subscribers and
// every subscriber sees the same dense order.
func (s *Store) Subscribe(ctx context.Context, from uint64) (eventstore.Subscription, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	sub := &subscription{
		events:  make(chan eventstore.RecordedEvent, 16),
		cancel:  cancel,
		stopped: make(chan struct{}),
	}
	go sub.run(ctx, runCtx, s, max(from, 1))
	return sub, nil
}

type subscription struct {
	events  chan eventstore.RecordedEvent
	cancel  context.CancelFunc
	stopped chan struct{}

	mu      sync.Mutex
	closing bool
	err     error
}

// run delivers events until parent ends (Err: its error), Close is called
// (Err: nil), the store closes (Err: ErrClosed) or a read fails.
func (sub *subscription) run(parent, ctx context.Context, s *Store, next uint64) {
	defer close(sub.stopped)
	defer close(sub.events)
	defer sub.cancel()
	for {
		s.mu.Lock()
		closed, fatal := s.closed, s.fatal
		want := s.log.slice(next, subscriptionBatch)
		changed := s.changed
		s.mu.Unlock()
		switch {
		case closed:
			sub.end(parent, eventstore.ErrClosed)
			return
		case len(want) == 0 && fatal != nil:
			sub.end(parent, fatal)
			return
		case len(want) == 0:
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				sub.end(parent, nil)
				return
			}
		}
		evs, err := s.fetch(ctx, next, want)
		if err != nil {
			sub.end(parent, s.fail(ctx, "subscription: read $all", err))
			return
		}
		for _, e := range evs {
			select {
			case sub.events <- e:
				next++
			case <-ctx.Done():
				sub.end(parent, nil)
				return
			case <-s.done:
				sub.end(parent, eventstore.ErrClosed)
				return
			}
		}
	}
}

// end records why the subscription ended: nil after Close, else the
// parent context's error if it ended, else ErrClosed if the store closed,
// else err.
func (sub *subscription) end(parent context.Context, err error) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	switch {
	case sub.closing:
		sub.err = nil
	case parent.Err() != nil:
		sub.err = parent.Err()
	case err == nil:
		sub.err = eventstore.ErrClosed
	default:
		sub.err = err
	}
}

// Events implements eventstore.Subscription.
func (sub *subscription) Events() <-chan eventstore.RecordedEvent { return sub.events }

// Err implements eventstore.Subscription.
func (sub *subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// Close implements eventstore.Subscription: it ends the subscription and
// waits for it to stop.
func (sub *subscription) Close() error {
	sub.mu.Lock()
	sub.closing = true
	sub.mu.Unlock()
	sub.cancel()
	<-sub.stopped
	return nil
}
