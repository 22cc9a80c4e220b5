package segment

import (
	"context"
	"sync"

	"github.com/concord-ledger/concord/eventstore"
)

// subscriptionPage is how many events a subscription reads at a time.
const subscriptionPage = 1024

// Subscribe implements eventstore.Store. The subscription reads pages of
// ReadAll at its own pace, so a slow consumer never holds up the
// committer; it waits for a publication once it has caught up. It ends
// with ctx (Err is the context's error), its Close (Err nil), the store's
// Close (ErrClosed) or a read failure.
//
// Returns ErrClosed or the context's error if it cannot start.
func (s *Store) Subscribe(ctx context.Context, from uint64) (eventstore.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.enter(&s.ops) {
		return nil, eventstore.ErrClosed
	}
	sub := &subscription{
		ch:       make(chan eventstore.RecordedEvent, 256),
		stop:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	go func() {
		defer s.ops.Done()
		sub.run(ctx, s, max(from, 1))
	}()
	return sub, nil
}

type subscription struct {
	ch       chan eventstore.RecordedEvent
	stop     chan struct{}
	stopOnce sync.Once
	finished chan struct{}

	mu  sync.Mutex
	err error
}

func (sub *subscription) run(ctx context.Context, s *Store, next uint64) {
	var err error
	defer func() {
		sub.mu.Lock()
		sub.err = err
		sub.mu.Unlock()
		close(sub.ch)
		close(sub.finished)
	}()
	// ended reports why the subscription must stop, if it must.
	ended := func() (bool, error) {
		select {
		case <-sub.stop:
			return true, nil
		case <-ctx.Done():
			return true, ctx.Err()
		case <-s.done:
			return true, eventstore.ErrClosed
		default:
			return false, nil
		}
	}
	var cur logCursor
	for {
		s.mu.RLock()
		head, wake := s.head, s.notify
		s.mu.RUnlock()
		if next > head {
			select {
			case <-wake:
				continue
			case <-sub.stop:
				return
			case <-ctx.Done():
				err = ctx.Err()
				return
			case <-s.done:
				err = eventstore.ErrClosed
				return
			}
		}
		if stop, why := ended(); stop {
			err = why
			return
		}
		evs, rerr := s.readAll(ctx, next, subscriptionPage, &cur, nil)
		if rerr != nil {
			err = rerr
			if stop, why := ended(); stop {
				err = why
			}
			return
		}
		for _, ev := range evs {
			select {
			case sub.ch <- ev:
			case <-sub.stop:
				return
			case <-ctx.Done():
				err = ctx.Err()
				return
			case <-s.done:
				err = eventstore.ErrClosed
				return
			}
		}
		next += uint64(len(evs))
	}
}

// Events implements eventstore.Subscription.
func (sub *subscription) Events() <-chan eventstore.RecordedEvent { return sub.ch }

// Err implements eventstore.Subscription: nil while it runs and after
// Close, else why it ended.
func (sub *subscription) Err() error {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return sub.err
}

// Close implements eventstore.Subscription. It waits for the
// subscription's goroutine to stop; Events is closed by then.
func (sub *subscription) Close() error {
	sub.stopOnce.Do(func() { close(sub.stop) })
	<-sub.finished
	return nil
}
