package transparency

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// maxBatch is the most events the follower hashes and writes at once.
const maxBatch = 4096

// linger is how long the follower rests after a small batch before
// taking the next, so that under a steady stream of small commits it wakes
// (and makes its subscription wake) a few hundred times a second rather
// than once per commit. The tree lags the log by about this much; nothing
// waits on it but proofs and checkpoints, which run every few seconds.
const linger = 5 * time.Millisecond

// lingers reports whether the follower rests after a batch of n events
// taken from a subscription channel of capacity c. It rests only after a
// small batch that found the channel less than half full: a batch of half
// the channel or more means events arrive faster than one channel's worth
// a linger, and resting would cap the follower at c events per linger (51
// thousand a second for the segment store's 256), below the rate appends
// reach, so the tree would fall ever further behind.
func lingers(n, c int) bool {
	return n < maxBatch/8 && (c == 0 || n < c/2)
}

// Follower keeps a Tree in step with a store: it subscribes to the store's
// log from the tree's size+1 and appends every event's leaf, in order, in
// batches of whatever has arrived. Because it only uses Subscribe it works
// over any backend, and appends never wait for it.
type Follower struct {
	tree    *Tree
	onBatch func([]eventstore.RecordedEvent)
	cancel  context.CancelFunc
	done    chan struct{}

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced after every batch
	processed uint64        // tree size once the last batch's onBatch returned
	err       error
}

// Follow starts a follower that appends store's events to t from
// t.Size()+1 until ctx ends or Close is called. onBatch, if not nil, is
// called from the follower's goroutine after each batch's leaves are in
// the tree (the Log uses it to index checkpoint events). Returns the
// store's error if the subscription cannot start.
func Follow(ctx context.Context, store eventstore.Store, t *Tree, onBatch func([]eventstore.RecordedEvent)) (*Follower, error) {
	ctx, cancel := context.WithCancel(ctx)
	sub, err := store.Subscribe(ctx, t.Size()+1)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("follow the log: %w", err)
	}
	f := &Follower{tree: t, onBatch: onBatch, cancel: cancel, done: make(chan struct{}), changed: make(chan struct{}), processed: t.Size()}
	go f.run(ctx, sub)
	return f, nil
}

func (f *Follower) run(ctx context.Context, sub eventstore.Subscription) {
	defer close(f.done)
	defer sub.Close()
	events := sub.Events()
	batch := make([]eventstore.RecordedEvent, 0, maxBatch)
	for {
		batch = batch[:0]
		e, ok := <-events
		if !ok {
			f.stop(sub.Err())
			return
		}
		batch = append(batch, e)
	drain:
		for len(batch) < maxBatch {
			select {
			case e, ok := <-events:
				if !ok {
					break drain
				}
				batch = append(batch, e)
			default:
				break drain
			}
		}
		if err := f.tree.AppendEvents(batch); err != nil {
			f.stop(err)
			return
		}
		if f.onBatch != nil {
			f.onBatch(batch)
		}
		f.mu.Lock()
		f.processed = batch[len(batch)-1].Position
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
		if lingers(len(batch), cap(events)) {
			select {
			case <-time.After(linger):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			f.stop(ctx.Err())
			return
		}
	}
}

func (f *Follower) stop(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil || errors.Is(err, context.Canceled) {
		err = ErrClosed
	}
	if f.err == nil {
		f.err = err
	}
	close(f.changed)
}

// Err reports why the follower stopped: ErrClosed after Close or when its
// context ended, the store's error, or a tree write failure. It is nil
// while the follower runs.
func (f *Follower) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// WaitFor blocks until the tree holds at least size leaves and the
// onBatch hook has seen them. Returns the follower's error if it stopped
// first, or the context's error.
func (f *Follower) WaitFor(ctx context.Context, size uint64) error {
	for {
		f.mu.Lock()
		ch, err, done := f.changed, f.err, f.processed
		f.mu.Unlock()
		if done >= size {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Changed returns a channel closed at the follower's next batch (or when
// it stops).
func (f *Follower) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// Close stops the follower and waits for it. It does not close the tree.
func (f *Follower) Close() error {
	f.cancel()
	<-f.done
	return nil
}
