package kurrentdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeKurrent imitates, in process, the part of a KurrentDB server the
// Store uses: streams with optimistic concurrency, a $all log whose
// positions are byte offsets with gaps and which also holds system events
// and other ledgers' events, reads, and filtered catch-up subscriptions
// with checkpoints, CaughtUp and drops.
//
// It exists to exercise the Store's own logic (numbering, reads through
// the position log, idempotency, subscriptions, resubscription) without a
// server. It is not KurrentDB: passing on it says nothing about KurrentDB
// itself, which only contract_test.go against a real server can show.
type fakeKurrent struct {
	mu      sync.Mutex
	all     []*esdb.RecordedEvent
	streams map[string][]*esdb.RecordedEvent
	commit  uint64
	appends int
	changed chan struct{}

	// Knobs, set before use.
	window            int  // checkpoint every window events searched (the client's MaxSearchWindow)
	noCaughtUp        bool // a checkpoint instead of CaughtUp, as servers before 23.10
	dropEvery         int  // drop a subscription after this many messages (0: never)
	terseWrongVersion bool // wrong-version errors without the current revision
	denySubscriptions bool // subscriptions fail with PermissionDenied
}

func newFakeKurrent() *fakeKurrent {
	f := &fakeKurrent{streams: make(map[string][]*esdb.RecordedEvent), changed: make(chan struct{}), window: 32}
	// What a fresh server's $all starts with.
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i < 3; i++ {
		f.writeLocked("$users", esdb.EventData{EventType: "$UserCreated", Data: []byte(`{}`)})
	}
	f.writeLocked("$$$users", esdb.EventData{EventType: "$metadata", Data: []byte(`{}`)})
	return f
}

// writeLocked appends one event to stream and $all. f.mu must be held.
func (f *fakeKurrent) writeLocked(stream string, e esdb.EventData) *esdb.RecordedEvent {
	f.commit += 128 + uint64(len(e.Data)+len(e.Metadata)) // positions are byte offsets
	// KurrentDB stamps created dates in 100ns ticks.
	created := time.Unix(0, time.Now().UnixNano()/100*100).UTC()
	ct := "application/octet-stream"
	if e.ContentType == esdb.ContentTypeJson {
		ct = "application/json"
	}
	r := &esdb.RecordedEvent{
		EventID:        e.EventID,
		EventType:      e.EventType,
		ContentType:    ct,
		StreamID:       stream,
		EventNumber:    uint64(len(f.streams[stream])),
		Position:       esdb.Position{Commit: f.commit, Prepare: f.commit},
		CreatedDate:    created,
		Data:           bytes.Clone(e.Data),
		SystemMetadata: map[string]string{"type": e.EventType, "content-type": ct},
		UserMetadata:   bytes.Clone(e.Metadata),
	}
	f.streams[stream] = append(f.streams[stream], r)
	f.all = append(f.all, r)
	return r
}

func (f *fakeKurrent) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// write appends foreign events (another ledger's, or not Concord's) from
// outside any Store.
func (f *fakeKurrent) write(stream string, events ...esdb.EventData) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range events {
		f.writeLocked(stream, e)
	}
	f.notifyLocked()
}

// client returns a connection to f; closing it leaves f running.
func (f *fakeKurrent) client() *fakeClient {
	return &fakeClient{f: f, done: make(chan struct{})}
}

type fakeClient struct {
	f    *fakeKurrent
	once sync.Once
	done chan struct{}
}

var _ server = (*fakeClient)(nil)

func (c *fakeClient) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

// check fails a call the way the client does: a cancelled context as a
// gRPC Canceled status, a closed client as connection closed.
func (c *fakeClient) check(ctx context.Context) error {
	select {
	case <-c.done:
		return errors.New("[ErrorCodeConnectionClosed] the connection is already closed")
	default:
	}
	if ctx.Err() != nil {
		return fmt.Errorf("could not construct operation. Reason: %w", status.Error(codes.Canceled, "context canceled"))
	}
	return nil
}

func (c *fakeClient) AppendToStream(ctx context.Context, stream string, opts esdb.AppendToStreamOptions, events ...esdb.EventData) (*esdb.WriteResult, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	actual := int64(len(f.streams[stream])) - 1
	var ok bool
	var expected string
	switch e := opts.ExpectedRevision.(type) {
	case nil, esdb.Any:
		ok, expected = true, "any"
	case esdb.NoStream:
		ok, expected = actual < 0, "no_stream"
	case esdb.StreamExists:
		ok, expected = actual >= 0, "stream_exists"
	case esdb.StreamRevision:
		ok, expected = actual >= 0 && uint64(actual) == e.Value, strconv.FormatUint(e.Value, 10)
	}
	if !ok {
		current := "no_stream"
		if actual >= 0 {
			current = strconv.FormatInt(actual, 10)
		}
		msg := fmt.Sprintf("wrong expected version: expecting '%s' but got '%s'", expected, current)
		if f.terseWrongVersion {
			msg = "wrong expected version"
		}
		return nil, &wrongVersionError{errors.New("[ErrorCodeWrongExpectedVersion] an append request failed the optimistic concurrency on the server: " + msg)}
	}
	f.appends++
	if f.appends%3 == 0 {
		// Another ledger commits between this store's appends.
		f.writeLocked("elsewhere:s", esdb.EventData{EventType: "Other", ContentType: esdb.ContentTypeJson, Data: []byte(`{}`), Metadata: []byte(`{}`)})
	}
	var last *esdb.RecordedEvent
	for _, e := range events {
		last = f.writeLocked(stream, e)
	}
	// A system projection links the events into a category stream.
	f.writeLocked("$ce-"+strings.SplitN(stream, "-", 2)[0], esdb.EventData{EventType: "$>", Data: []byte(fmt.Sprintf("%d@%s", last.EventNumber, stream))})
	f.notifyLocked()
	return &esdb.WriteResult{CommitPosition: last.Position.Commit, PreparePosition: last.Position.Prepare, NextExpectedVersion: last.EventNumber}, nil
}

func (c *fakeClient) ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) (eventReader, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	evs := f.streams[stream]
	if len(evs) == 0 {
		return &fakeReader{err: &streamNotFoundError{fmt.Errorf("stream '%s' is not found", stream)}}, nil
	}
	last := uint64(len(evs) - 1)
	var from uint64
	switch p := opts.From.(type) {
	case nil, esdb.Start:
		from = 0
	case esdb.End:
		from = last
	case esdb.StreamRevision:
		from = p.Value
	}
	var out []*esdb.RecordedEvent
	if opts.Direction == esdb.Backwards {
		for r := int64(min(from, last)); r >= 0 && uint64(len(out)) < count; r-- {
			out = append(out, evs[r])
		}
	} else {
		for r := from; r <= last && uint64(len(out)) < count; r++ {
			out = append(out, evs[r])
		}
	}
	return &fakeReader{events: out}, nil
}

func (c *fakeClient) ReadAll(ctx context.Context, opts esdb.ReadAllOptions, count uint64) (eventReader, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*esdb.RecordedEvent
	if opts.Direction == esdb.Backwards {
		i := len(f.all) - 1
		if p, ok := opts.From.(esdb.Position); ok {
			for i >= 0 && after(f.all[i].Position, p) {
				i--
			}
		}
		for ; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, f.all[i])
		}
		return &fakeReader{events: out}, nil
	}
	i := 0
	switch p := opts.From.(type) {
	case esdb.End:
		i = len(f.all)
	case esdb.Position:
		for i < len(f.all) && after(p, f.all[i].Position) {
			i++
		}
	}
	for ; i < len(f.all) && uint64(len(out)) < count; i++ {
		out = append(out, f.all[i])
	}
	return &fakeReader{events: out}, nil
}

// fresh copies a stored event as the client decodes it from each response:
// no two reads share buffers.
func fresh(r *esdb.RecordedEvent) *esdb.RecordedEvent {
	c := *r
	c.Data = bytes.Clone(r.Data)
	c.UserMetadata = bytes.Clone(r.UserMetadata)
	return &c
}

type fakeReader struct {
	events []*esdb.RecordedEvent
	err    error
}

func (r *fakeReader) Recv() (*esdb.ResolvedEvent, error) {
	if r.err != nil {
		return nil, r.err
	}
	if len(r.events) == 0 {
		return nil, io.EOF
	}
	e := r.events[0]
	r.events = r.events[1:]
	return &esdb.ResolvedEvent{Event: fresh(e)}, nil
}

func (r *fakeReader) Close() {}

func (c *fakeClient) SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscriptionReader, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.denySubscriptions {
		return nil, fmt.Errorf("failed to construct subscription. Reason: %w", status.Error(codes.PermissionDenied, "Access denied"))
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &fakeSubscription{c: c, ctx: sctx, cancel: cancel, filter: opts.Filter}
	if opts.Filter != nil && opts.Filter.Regex != "" {
		s.re = regexp.MustCompile(opts.Filter.Regex)
	}
	switch p := opts.From.(type) {
	case nil, esdb.End:
		s.next = len(f.all)
	case esdb.Start:
		s.next = 0
	case esdb.Position:
		// Subscriptions start after the position they are given.
		for s.next < len(f.all) && !after(f.all[s.next].Position, p) {
			s.next++
		}
	}
	return s, nil
}

type fakeSubscription struct {
	c        *fakeClient
	ctx      context.Context
	cancel   context.CancelFunc
	filter   *esdb.SubscriptionFilter
	re       *regexp.Regexp
	next     int
	searched int
	sent     int
	caughtUp bool
}

func (s *fakeSubscription) matches(r *esdb.RecordedEvent) bool {
	if s.filter == nil {
		return true
	}
	subject := r.EventType
	if s.filter.Type == esdb.StreamFilterType {
		subject = r.StreamID
	}
	for _, p := range s.filter.Prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return s.re != nil && s.re.MatchString(subject)
}

func (s *fakeSubscription) Recv() *esdb.SubscriptionEvent {
	f := s.c.f
	for {
		select {
		case <-s.c.done:
			return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: errors.New("connection closed")}}
		default:
		}
		if s.ctx.Err() != nil {
			return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: status.Error(codes.Canceled, "context canceled")}}
		}
		f.mu.Lock()
		if f.dropEvery > 0 && s.sent >= f.dropEvery {
			f.mu.Unlock()
			return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: status.Error(codes.Unavailable, "leader changed")}}
		}
		if s.next < len(f.all) {
			r := f.all[s.next]
			s.next++
			s.searched++
			if s.matches(r) {
				s.sent++
				f.mu.Unlock()
				return &esdb.SubscriptionEvent{EventAppeared: &esdb.ResolvedEvent{Event: fresh(r)}}
			}
			if s.filter != nil && s.searched%f.window == 0 {
				s.sent++
				f.mu.Unlock()
				pos := r.Position
				return &esdb.SubscriptionEvent{CheckPointReached: &pos}
			}
			f.mu.Unlock()
			continue
		}
		if !s.caughtUp {
			s.caughtUp = true
			s.sent++
			if f.noCaughtUp {
				var pos esdb.Position
				if n := len(f.all); n > 0 {
					pos = f.all[n-1].Position
				}
				f.mu.Unlock()
				return &esdb.SubscriptionEvent{CheckPointReached: &pos}
			}
			f.mu.Unlock()
			return &esdb.SubscriptionEvent{CaughtUp: &esdb.Subscription{}}
		}
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-s.ctx.Done():
		case <-s.c.done:
		}
	}
}

func (s *fakeSubscription) Close() error {
	s.cancel()
	return nil
}
