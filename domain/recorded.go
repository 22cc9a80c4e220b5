package domain

import (
	"context"
	"fmt"
)

// RecordedLookup returns the events that the command being executed
// already appended to stream, in order, or none. It is how an edge that
// knows a command is a retry (an HTTP request with an Idempotency-Key
// whose answer was lost in a crash) tells Execute what the first attempt
// recorded.
type RecordedLookup func(ctx context.Context, stream string) ([]Recorded, error)

type recordedKey struct{}

// WithRecorded returns a context under which Execute first asks lookup
// whether the command already appended to its stream: when it has,
// Execute returns those events as its result, decides nothing and
// appends nothing. A use case that records on several streams then
// completes, on a retry, the steps the first attempt did not reach, each
// of which decides again on the state as it is.
func WithRecorded(ctx context.Context, lookup RecordedLookup) context.Context {
	return context.WithValue(ctx, recordedKey{}, lookup)
}

// alreadyRecorded returns the result of a command that already appended
// to stream, when ctx says so (see WithRecorded).
func alreadyRecorded(ctx context.Context, h *Handler, stream string) (Result, bool, error) {
	lookup, _ := ctx.Value(recordedKey{}).(RecordedLookup)
	if lookup == nil {
		return Result{}, false, nil
	}
	recs, err := lookup(ctx, stream)
	if err != nil || len(recs) == 0 {
		return Result{}, false, err
	}
	out := Result{Stream: stream, Revision: int64(recs[len(recs)-1].Revision)}
	for _, r := range recs {
		m, err := h.Codec.Decode(r)
		if err != nil {
			return Result{}, false, fmt.Errorf("decode %s@%d, recorded by the command before: %w", stream, r.Revision, err)
		}
		out.Events = append(out.Events, m)
	}
	return out, true, nil
}
