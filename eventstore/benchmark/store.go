package benchmark

import (
	"context"
	"io"
	"log/slog"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/segment"
)

// StoreEngine benchmarks any eventstore.Store through its interface, the
// way Concord's commands use it: each writer appends one event per call to
// its own stream, expecting the revision it last wrote (NoStream for its
// first append). open is called with a fresh directory for every run; the
// store is closed at the end of the run.
func StoreEngine(name string, open func(ctx context.Context, dir string) (eventstore.Store, error)) Engine {
	return Engine{Name: name, Open: func(ctx context.Context, dir string, n int) (Appender, error) {
		s, err := open(ctx, dir)
		if err != nil {
			return nil, err
		}
		a := &storeAppender{s: s, streams: make([]string, n), revs: make([]int64, n)}
		for w := range n {
			a.streams[w] = StreamID(w)
			a.revs[w] = -1
		}
		return a, nil
	}}
}

// Concord is Concord's embedded store (eventstore/segment) opened with
// opts, as a StoreEngine named "concord". A nil opts.Logger discards the
// store's log.
func Concord(opts segment.Options) Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return StoreEngine("concord", func(ctx context.Context, dir string) (eventstore.Store, error) {
		return segment.Open(ctx, dir, opts)
	})
}

type storeAppender struct {
	s       eventstore.Store
	streams []string
	revs    []int64 // per writer: its stream's last revision, -1 for none
}

func (a *storeAppender) Append(ctx context.Context, w int) error {
	expected := eventstore.NoStream()
	if a.revs[w] >= 0 {
		expected = eventstore.Exact(uint64(a.revs[w]))
	}
	res, err := a.s.Append(ctx, a.streams[w], expected, NewEvent())
	if err != nil {
		return err
	}
	a.revs[w] = int64(res.Revision)
	return nil
}

func (a *storeAppender) Close() error { return a.s.Close() }
