// Package storetest is the contract suite every eventstore.Store backend
// must pass: round trips of the envelope, optimistic concurrency,
// idempotent re-appends, stream and global reads, the time index,
// subscriptions, input limits, closing, cancellation and atomicity.
//
// A backend's test calls Run (or RunWithOptions) with a function that opens
// a fresh, empty store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) eventstore.Store {
//			s := memory.New(memory.Options{})
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite only speaks through the eventstore.Store interface and asserts
// concrete values (revisions, positions, bytes), never sleeps to
// synchronise, and uses timeouts only as failure guards.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

// Options fits the suite to a backend. The zero value runs the default
// suite against a store configured with eventstore.DefaultMaxEventSize.
type Options struct {
	// MaxEventSize is the maximum canonical event size the stores returned
	// by open were configured with; 0 means eventstore.DefaultMaxEventSize.
	// The suite appends an event of exactly this size (it must be
	// accepted) and one of one byte more (it must be refused).
	MaxEventSize int
	// Appenders is how many goroutines race for each revision in the
	// optimistic-concurrency test (default 32).
	Appenders int
	// Rounds is how many revisions they race for (default 16).
	Rounds int
	// Writers and EventsPerWriter size the live-subscription test
	// (defaults 8 and 25).
	Writers, EventsPerWriter int
	// Timeout bounds every wait on a subscription or a goroutine. It is
	// only reached when a backend hangs, and then fails the test
	// (default 30s).
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxEventSize <= 0 {
		o.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if o.Appenders <= 0 {
		o.Appenders = 32
	}
	if o.Rounds <= 0 {
		o.Rounds = 16
	}
	if o.Writers <= 0 {
		o.Writers = 8
	}
	if o.EventsPerWriter <= 0 {
		o.EventsPerWriter = 25
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return o
}

// Run runs the contract suite with default Options: the stores returned by
// open must accept events up to eventstore.DefaultMaxEventSize.
//
// open must return a fresh store that holds no events (as seen through the
// Store interface: Head 0, ReadAll empty) and arrange its Close with
// t.Cleanup. Some subtests close the store themselves, so Close must be
// safe to call twice.
func Run(t *testing.T, open func(t *testing.T) eventstore.Store) {
	RunWithOptions(t, Options{}, open)
}

// RunWithOptions is Run with a backend's Options.
func RunWithOptions(t *testing.T, opts Options, open func(t *testing.T) eventstore.Store) {
	s := &suite{opts: opts.withDefaults(), open: open}
	t.Run("RoundTrip", s.testRoundTrip)
	t.Run("ExpectedRevision", s.testExpectedRevision)
	t.Run("ConcurrentAppenders", s.testConcurrentAppenders)
	t.Run("Idempotency", s.testIdempotency)
	t.Run("ReadStream", s.testReadStream)
	t.Run("GlobalOrder", s.testGlobalOrder)
	t.Run("PositionAt", s.testPositionAt)
	t.Run("Subscribe", s.testSubscribe)
	t.Run("Limits", s.testLimits)
	t.Run("Closed", s.testClosed)
	t.Run("Canceled", s.testCanceled)
	t.Run("Atomicity", s.testAtomicity)
}

type suite struct {
	opts Options
	open func(t *testing.T) eventstore.Store
}

// ctx returns a context that ends with the test or after the suite's
// timeout, whichever is first.
func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), s.opts.Timeout)
	t.Cleanup(cancel)
	return ctx
}

var eventSeq atomic.Uint64

// newEvent returns a valid event with every envelope field set to a
// distinctive value: unusual JSON whitespace and non-ASCII text in the
// data, a reason, causation and correlation ids and an effective time with
// nanoseconds.
func newEvent(typ string) eventstore.EventData {
	n := eventSeq.Add(1)
	return eventstore.EventData{
		ID:     uuid.New(),
		Type:   typ,
		Schema: uint32(n%3) + 1,
		Data:   []byte(fmt.Sprintf("{\"n\": %d,  \"text\":\"caf\u00e9 \\u00e9\",\n\t\"list\":[1, 2 ,3]}", n)),
		Metadata: eventstore.Metadata{
			ActorID:       fmt.Sprintf("person-%d", n),
			ActorRole:     "director",
			Reason:        fmt.Sprintf("minuted decision n\u00b0%d: \"yes\" \u2713", n),
			CausationID:   uuid.New(),
			CorrelationID: uuid.New(),
			EffectiveAt:   time.Date(2025, 9, 1, 8, 30, int(n%60), 123456789, time.UTC),
		},
	}
}

// bareEvent returns a valid event with only the required fields set.
func bareEvent(typ string, data string) eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: typ, Schema: 1, Data: []byte(data)}
}

func events(typ string, n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = newEvent(typ)
	}
	return out
}

// sizedEvent returns a valid event whose canonical size in stream is
// exactly size bytes.
func sizedEvent(t *testing.T, stream string, size int) eventstore.EventData {
	t.Helper()
	e := newEvent("Sized")
	e.Data = []byte(`""`)
	base := len(eventstore.EncodeCanonical(eventstore.RecordedEvent{EventData: e, StreamID: stream}))
	pad := size - base
	if pad < 0 {
		t.Fatalf("size %d is below the smallest event (%d bytes)", size, base)
	}
	e.Data = []byte(`"` + strings.Repeat("a", pad) + `"`)
	if got := len(eventstore.EncodeCanonical(eventstore.RecordedEvent{EventData: e, StreamID: stream})); got != size {
		t.Fatalf("sized event is %d bytes, want %d", got, size)
	}
	return e
}

func mustAppend(t *testing.T, ctx context.Context, st eventstore.Store, stream string, expected eventstore.ExpectedRevision, evs ...eventstore.EventData) eventstore.AppendResult {
	t.Helper()
	res, err := st.Append(ctx, stream, expected, evs...)
	if err != nil {
		t.Fatalf("append %d events to %s (expected %s): %v", len(evs), stream, expected, err)
	}
	if got, want := len(res.Positions), len(evs); got != want {
		t.Fatalf("append to %s: %d positions, want %d", stream, got, want)
	}
	return res
}

func mustReadAll(t *testing.T, ctx context.Context, st eventstore.Store, from uint64, limit int) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := st.ReadAll(ctx, from, limit)
	if err != nil {
		t.Fatalf("ReadAll(%d, %d): %v", from, limit, err)
	}
	return evs
}

func mustReadStream(t *testing.T, ctx context.Context, st eventstore.Store, stream string, from uint64, dir eventstore.Direction, limit int) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := st.ReadStream(ctx, stream, from, dir, limit)
	if err != nil {
		t.Fatalf("ReadStream(%s, %d, %d, %d): %v", stream, from, dir, limit, err)
	}
	return evs
}

func mustHead(t *testing.T, ctx context.Context, st eventstore.Store) uint64 {
	t.Helper()
	h, err := st.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

// checkEvent compares every field of a recorded event with what was
// appended and where it must have landed.
func checkEvent(t *testing.T, what string, got eventstore.RecordedEvent, want eventstore.EventData, stream string, rev, pos uint64) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s: id=%s, want %s", what, got.ID, want.ID)
		return
	}
	if got.StreamID != stream {
		t.Errorf("%s: stream=%q, want %q", what, got.StreamID, stream)
	}
	if got.Revision != rev {
		t.Errorf("%s: revision=%d, want %d", what, got.Revision, rev)
	}
	if got.Position != pos {
		t.Errorf("%s: position=%d, want %d", what, got.Position, pos)
	}
	checkContent(t, what, got, want)
}

// checkContent compares the envelope fields (not the placement).
func checkContent(t *testing.T, what string, got eventstore.RecordedEvent, want eventstore.EventData) {
	t.Helper()
	if got.Type != want.Type {
		t.Errorf("%s: type=%q, want %q", what, got.Type, want.Type)
	}
	if got.Schema != want.Schema {
		t.Errorf("%s: schema=%d, want %d", what, got.Schema, want.Schema)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("%s: data=%q, want exactly %q", what, got.Data, want.Data)
	}
	gm, wm := got.Metadata, want.Metadata
	if gm.ActorID != wm.ActorID || gm.ActorRole != wm.ActorRole {
		t.Errorf("%s: actor=%q/%q, want %q/%q", what, gm.ActorID, gm.ActorRole, wm.ActorID, wm.ActorRole)
	}
	if gm.Reason != wm.Reason {
		t.Errorf("%s: reason=%q, want %q", what, gm.Reason, wm.Reason)
	}
	if gm.CausationID != wm.CausationID {
		t.Errorf("%s: causation=%s, want %s", what, gm.CausationID, wm.CausationID)
	}
	if gm.CorrelationID != wm.CorrelationID {
		t.Errorf("%s: correlation=%s, want %s", what, gm.CorrelationID, wm.CorrelationID)
	}
	if !gm.EffectiveAt.Equal(wm.EffectiveAt) || gm.EffectiveAt.IsZero() != wm.EffectiveAt.IsZero() {
		t.Errorf("%s: effective_at=%v, want %v", what, gm.EffectiveAt, wm.EffectiveAt)
	}
	if !eventstore.SameContent(got.EventData, want) {
		t.Errorf("%s: eventstore.SameContent=false for the event as read back", what)
	}
	if got.RecordedAt.IsZero() {
		t.Errorf("%s: recorded_at is zero", what)
	}
	if got.RecordedAt.Location() != time.UTC {
		t.Errorf("%s: recorded_at location=%v, want UTC", what, got.RecordedAt.Location())
	}
}

// state is what a refused call must leave exactly as it was.
type state struct {
	head uint64
	all  []eventstore.RecordedEvent
}

func takeState(t *testing.T, ctx context.Context, st eventstore.Store) state {
	t.Helper()
	return state{head: mustHead(t, ctx, st), all: mustReadAll(t, ctx, st, 0, 0)}
}

// unchanged fails the test unless st still shows exactly the state before.
func unchanged(t *testing.T, ctx context.Context, st eventstore.Store, before state, after string) {
	t.Helper()
	now := takeState(t, ctx, st)
	if now.head != before.head {
		t.Errorf("after %s: head=%d, want %d (unchanged)", after, now.head, before.head)
	}
	if len(now.all) != len(before.all) {
		t.Errorf("after %s: ReadAll has %d events, want %d (unchanged)", after, len(now.all), len(before.all))
		return
	}
	for i := range now.all {
		g, w := now.all[i], before.all[i]
		if g.ID != w.ID || g.Position != w.Position || g.Revision != w.Revision || g.StreamID != w.StreamID ||
			!g.RecordedAt.Equal(w.RecordedAt) || !eventstore.SameContent(g.EventData, w.EventData) {
			t.Errorf("after %s: event at position %d changed: %s %s@%d, want %s %s@%d",
				after, w.Position, g.ID, g.StreamID, g.Revision, w.ID, w.StreamID, w.Revision)
		}
	}
}

// wantWrongRevision checks that err is a *WrongExpectedRevisionError for
// stream with the given expectation and actual revision.
func wantWrongRevision(t *testing.T, what string, err error, stream string, expected eventstore.ExpectedRevision, actual int64) {
	t.Helper()
	if !errors.Is(err, eventstore.ErrWrongExpectedRevision) {
		t.Errorf("%s: err=%v, want ErrWrongExpectedRevision", what, err)
		return
	}
	var werr *eventstore.WrongExpectedRevisionError
	if !errors.As(err, &werr) {
		t.Errorf("%s: err=%v (%T) is not a *WrongExpectedRevisionError", what, err, err)
		return
	}
	if werr.Actual != actual {
		t.Errorf("%s: Actual=%d, want %d", what, werr.Actual, actual)
	}
	if werr.Stream != stream {
		t.Errorf("%s: Stream=%q, want %q", what, werr.Stream, stream)
	}
	if werr.Expected != expected {
		t.Errorf("%s: Expected=%s, want %s", what, werr.Expected, expected)
	}
}

func sameResult(a, b eventstore.AppendResult) bool {
	if a.Revision != b.Revision || len(a.Positions) != len(b.Positions) {
		return false
	}
	for i := range a.Positions {
		if a.Positions[i] != b.Positions[i] {
			return false
		}
	}
	return true
}

func consecutive(first uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = first + uint64(i)
	}
	return out
}
