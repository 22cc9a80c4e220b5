package projections

import (
	"context"
	"fmt"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
)

// decodedBatch is a batch of events read and decoded ahead of the fold.
type decodedBatch struct {
	recs []eventstore.RecordedEvent
	msgs []domain.Message
	errs []error
	err  error // reading failed
}

// CatchUp feeds every projection up to the log's current head and
// returns, after a checkpoint of each. The next batch is read and decoded
// while the one before is folded, so reading, decoding and folding keep
// every core busy (folding alone is uneven: each projection is folded by
// one goroutine, and the largest takes longest).
func (e *Engine) CatchUp(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	batches := make(chan decodedBatch, 1)
	from := e.minPosition() + 1
	go func() {
		defer close(batches)
		for {
			recs, err := e.store.ReadAll(ctx, from, 4096)
			if err != nil {
				batches <- decodedBatch{err: fmt.Errorf("catch up projections from %d: %w", from, err)}
				return
			}
			if len(recs) == 0 {
				return
			}
			msgs, errs := decodeBatchOwned(e.codec, recs, true)
			select {
			case batches <- decodedBatch{recs: recs, msgs: msgs, errs: errs}:
			case <-ctx.Done():
				return
			}
			from = recs[len(recs)-1].Position + 1
		}
	}()
	// The reader ends (and is waited for) before CatchUp returns.
	defer func() {
		cancel()
		for range batches {
		}
	}()
	for b := range batches {
		if b.err != nil {
			return b.err
		}
		e.feedDecoded(b.recs, b.msgs, b.errs)
		e.advance(b.recs[len(b.recs)-1].Position)
		if e.allFailed() {
			break
		}
	}
	return e.checkpointAll(true)
}
