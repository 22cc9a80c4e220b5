package memory

import (
	"context"
	"sync"

	"github.com/concord-ledger/concord/eventstore"
)

// batchSize bounds how many events a subscription copies per lock.
const batchSize = 256

// Subscribe implements eventstore.Store.Subscribe. from 0 is treated as 1.
// Appends never wait for a subscriber: the subscription copies events from
// the log at its own pace.
func (s *Store) Subscribe(ctx context.Context, from uint64) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, eventstore.ErrClosed
	}
	sub := &subscription{
		events:  make(chan eventstore.RecordedEvent, 16),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go sub.run(ctx, s, max(from, 1))
	return sub, nil
}

type subscription struct {
	events   chan eventstore.RecordedEvent
	stop     chan struct{} // closed by Close
	stopOnce sync.Once
	stopped  chan struct{} // closed when run returns

	mu  sync.Mutex
	err error
}

func (sub *subscription) run(ctx context.Context, s *Store, next uint64) {
	defer close(sub.stopped)
	defer close(sub.events)
	for {
		s.mu.Lock()
		closed := s.closed
		batch := s.readAll(next, batchSize)
		changed := s.changed
		s.mu.Unlock()
		if closed {
			sub.end(eventstore.ErrClosed)
			return
		}
		for _, e := range batch {
			select {
			case sub.events <- e:
				next++
			case <-ctx.Done():
				sub.end(ctx.Err())
				return
			case <-sub.stop:
				return
			case <-s.done:
				sub.end(eventstore.ErrClosed)
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			sub.end(ctx.Err())
			return
		case <-sub.stop:
			return
		case <-s.done:
			sub.end(eventstore.ErrClosed)
			return
		}
	}
}

func (sub *subscription) end(err error) {
	sub.mu.Lock()
	sub.err = err
	sub.mu.Unlock()
}

// Events implements eventstore.Subscription.
func (sub *subscription) Events() <-chan eventstore.RecordedEvent { return sub.events }

// Err implements eventstore.Subscription: nil while running and after
// Close, the context's error, or ErrClosed if the store closed.
func (sub *subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// Close implements eventstore.Subscription. It waits for the subscription
// to stop; the Events channel is closed when it returns.
func (sub *subscription) Close() error {
	sub.stopOnce.Do(func() { close(sub.stop) })
	<-sub.stopped
	return nil
}
