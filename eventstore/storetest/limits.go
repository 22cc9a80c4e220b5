package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

func invalidStreamIDs() []string {
	return []string{"", "$x", "$all", "a b", "a/b", "caf\u00e9", strings.Repeat("a", eventstore.MaxStreamIDLength+1)}
}

func (s *suite) testLimits(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	mustAppend(t, ctx, st, "limits-1", eventstore.NoStream(), events("Baseline", 2)...)

	refuse := func(t *testing.T, what, stream string, want error, evs ...eventstore.EventData) {
		t.Helper()
		before := takeState(t, ctx, st)
		_, err := st.Append(ctx, stream, eventstore.Any(), evs...)
		if !errors.Is(err, want) {
			t.Errorf("%s: err=%v, want %v", what, err, want)
		}
		unchanged(t, ctx, st, before, what)
	}

	t.Run("EmptyAppend", func(t *testing.T) {
		refuse(t, "no events", "limits-1", eventstore.ErrEmptyAppend)
		refuse(t, "empty slice", "limits-1", eventstore.ErrEmptyAppend, []eventstore.EventData{}...)
	})
	t.Run("InvalidStreamID", func(t *testing.T) {
		for _, id := range invalidStreamIDs() {
			refuse(t, "stream "+truncate(id), id, eventstore.ErrInvalidStreamID, newEvent("E"))
		}
	})
	t.Run("LongestStreamID", func(t *testing.T) {
		id := strings.Repeat("L", eventstore.MaxStreamIDLength)
		e := newEvent("E")
		res := mustAppend(t, ctx, st, id, eventstore.NoStream(), e)
		got := mustReadStream(t, ctx, st, id, 0, eventstore.Forward, 0)
		if len(got) != 1 {
			t.Fatalf("read %d events, want 1", len(got))
		}
		checkEvent(t, "longest stream id", got[0], e, id, 0, res.Positions[0])
	})
	t.Run("EventSize", func(t *testing.T) {
		const stream = "size-1"
		refuse(t, "event one byte over the limit", stream, eventstore.ErrEventTooLarge, sizedEvent(t, stream, s.opts.MaxEventSize+1))
		refuse(t, "event far over the limit", stream, eventstore.ErrEventTooLarge, sizedEvent(t, stream, 2*s.opts.MaxEventSize))
		e := sizedEvent(t, stream, s.opts.MaxEventSize)
		res := mustAppend(t, ctx, st, stream, eventstore.NoStream(), e)
		got := mustReadStream(t, ctx, st, stream, 0, eventstore.Forward, 0)
		if len(got) != 1 {
			t.Fatalf("read %d events, want 1", len(got))
		}
		if !bytes.Equal(got[0].Data, e.Data) {
			t.Fatalf("event of exactly the limit read back with %d data bytes, want %d", len(got[0].Data), len(e.Data))
		}
		checkEvent(t, "event of exactly the limit", got[0], e, stream, 0, res.Positions[0])
	})
	t.Run("InvalidEvent", func(t *testing.T) {
		mutate := func(f func(e *eventstore.EventData)) eventstore.EventData {
			e := newEvent("Invalid")
			f(&e)
			return e
		}
		cases := []struct {
			name string
			e    eventstore.EventData
		}{
			{"nil id", mutate(func(e *eventstore.EventData) { e.ID = uuid.Nil })},
			{"schema 0", mutate(func(e *eventstore.EventData) { e.Schema = 0 })},
			{"data not JSON", mutate(func(e *eventstore.EventData) { e.Data = []byte(`{"n":1`) })},
			{"data empty", mutate(func(e *eventstore.EventData) { e.Data = nil })},
			{"two JSON values", mutate(func(e *eventstore.EventData) { e.Data = []byte(`{} {}`) })},
			{"empty type", mutate(func(e *eventstore.EventData) { e.Type = "" })},
			{"system type", mutate(func(e *eventstore.EventData) { e.Type = "$metadata" })},
			{"actor not UTF-8", mutate(func(e *eventstore.EventData) { e.Metadata.ActorID = "\xff" })},
			{"effective time out of range", mutate(func(e *eventstore.EventData) {
				e.Metadata.EffectiveAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
			})},
		}
		for _, c := range cases {
			refuse(t, c.name, "limits-1", eventstore.ErrInvalidEvent, c.e)
		}
	})
	t.Run("DuplicateIDInOneCall", func(t *testing.T) {
		a, b := newEvent("A"), newEvent("B")
		refuse(t, "same event twice", "limits-2", eventstore.ErrDuplicateEvent, a, b, a)
		c := b
		c.Type = "C"
		refuse(t, "same id, other content", "limits-2", eventstore.ErrDuplicateEvent, a, b, c)
	})
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

func (s *suite) testClosed(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	mustAppend(t, ctx, st, "closed-1", eventstore.NoStream(), newEvent("E"))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, eventstore.ErrClosed) {
			t.Errorf("%s after Close: err=%v, want ErrClosed", what, err)
		}
	}
	_, err := st.Append(ctx, "closed-1", eventstore.Any(), newEvent("E"))
	check("Append", err)
	_, err = st.Append(ctx, "closed-2", eventstore.NoStream(), newEvent("E"))
	check("Append to a new stream", err)
	_, err = st.ReadStream(ctx, "closed-1", 0, eventstore.Forward, 0)
	check("ReadStream", err)
	_, err = st.ReadAll(ctx, 0, 0)
	check("ReadAll", err)
	_, err = st.PositionAt(ctx, time.Now())
	check("PositionAt", err)
	_, err = st.Head(ctx)
	check("Head", err)
	sub, err := st.Subscribe(ctx, 0)
	if err == nil {
		sub.Close()
	}
	check("Subscribe", err)
}

func (s *suite) testCanceled(t *testing.T) {
	st := s.open(t)
	live := s.ctx(t)
	mustAppend(t, live, st, "cancel-1", eventstore.NoStream(), newEvent("E"))
	before := takeState(t, live, st)
	ctx, cancel := context.WithCancel(live)
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: err=%v, want context.Canceled", what, err)
		}
	}
	_, err := st.Append(ctx, "cancel-1", eventstore.Exact(0), newEvent("E"))
	check("Append", err)
	_, err = st.Append(ctx, "cancel-2", eventstore.Any(), newEvent("E"))
	check("Append to a new stream", err)
	unchanged(t, live, st, before, "appends with a cancelled context")
	_, err = st.ReadStream(ctx, "cancel-1", 0, eventstore.Forward, 0)
	check("ReadStream", err)
	_, err = st.ReadAll(ctx, 0, 0)
	check("ReadAll", err)
	_, err = st.PositionAt(ctx, time.Now())
	check("PositionAt", err)
	_, err = st.Head(ctx)
	check("Head", err)
}
