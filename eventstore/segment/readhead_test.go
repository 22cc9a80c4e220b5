package segment

import (
	"context"
	"testing"

	"github.com/concord-ledger/concord/eventstore"
)

// TestReadStreamFromPastTheHead checks forward reads that start at or past
// a stream's last revision, which the store answers from its published
// heads: they are empty, and a read from a revision that exists still
// returns it, whether the stream's events are in the tail or, after a
// reopen, only in the index.
func TestReadStreamFromPastTheHead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Logger: quietLogger()})
	mustAppend(t, s, "s", eventstore.NoStream(), newEvent(0), newEvent(1), newEvent(2))
	mustAppend(t, s, "other", eventstore.NoStream(), newEvent(3))
	check := func(when string, from uint64, want int) {
		t.Helper()
		got, err := s.ReadStream(ctx, "s", from, eventstore.Forward, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Fatalf("%s: %d events from revision %d, want %d", when, len(got), from, want)
		}
		for i, e := range got {
			if e.Revision != from+uint64(i) || e.StreamID != "s" {
				t.Fatalf("%s: event %d is %s@%d, want s@%d", when, i, e.StreamID, e.Revision, from+uint64(i))
			}
		}
	}
	check("in the tail", 3, 0)
	check("in the tail", 4, 0)
	check("in the tail", 2, 1)
	check("in the tail", 0, 3)
	if got, err := s.ReadStream(ctx, "never", 0, eventstore.Forward, 0); err != nil || len(got) != 0 {
		t.Fatalf("a stream never written: %d events, %v", len(got), err)
	}

	mustClose(t, s)
	s = mustOpen(t, dir, Options{Logger: quietLogger()})
	check("after reopening", 3, 0)
	check("after reopening", 1, 2)
	// The head learned by an append, then moved by it.
	mustAppend(t, s, "s", eventstore.Exact(2), newEvent(4))
	check("after another append", 4, 0)
	check("after another append", 3, 1)
	check("after another append", 0, 4)

	// A read learns the heads of streams no append has touched since the
	// reopen, "never written" included; appends after it still show.
	mustClose(t, s)
	s = mustOpen(t, dir, Options{Logger: quietLogger()})
	check("after reopening again", 0, 4)
	check("after reopening again", 4, 0)
	if got, err := s.ReadStream(ctx, "never", 0, eventstore.Forward, 0); err != nil || len(got) != 0 {
		t.Fatalf("a stream never written, after reopening: %d events, %v", len(got), err)
	}
	mustAppend(t, s, "never", eventstore.NoStream(), newEvent(5))
	if got, err := s.ReadStream(ctx, "never", 0, eventstore.Forward, 0); err != nil || len(got) != 1 {
		t.Fatalf("a stream first written after its head was learnt: %d events, %v", len(got), err)
	}
	mustAppend(t, s, "s", eventstore.Exact(3), newEvent(6))
	check("after an append to a learnt stream", 4, 1)
	check("after an append to a learnt stream", 5, 0)
}
