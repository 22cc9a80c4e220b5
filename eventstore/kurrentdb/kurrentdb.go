// Package kurrentdb is an eventstore.Store backed by KurrentDB (formerly
// EventStoreDB), through the official Go client
// (github.com/EventStore/EventStore-Client-Go/v4/esdb).
//
// Concord streams are KurrentDB streams (named with an optional prefix),
// and Concord's envelope travels as the event's ID, type, JSON data and
// JSON metadata (EventMetadata). KurrentDB's $all positions are not the
// dense 1-based positions the contract needs, so the Store runs one
// follower: a filtered catch-up subscription to $all that numbers the
// store's events 1, 2, 3, … in $all order and keeps that numbering (and
// each event's recorded time, for PositionAt) in memory. Open rebuilds it
// by following $all from the start; Append returns once the follower has
// numbered the appended events. docs/kurrentdb.md describes the mapping
// and its caveats.
package kurrentdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// StreamPrefix is prepended to every Concord stream ID to name its
	// KurrentDB stream ("concord:" makes stream "community-c-1" the
	// KurrentDB stream "concord:community-c-1"). The store then sees only
	// streams with this prefix: its positions, Head, ReadAll and
	// subscriptions count only their events, so several Concord ledgers
	// (or test runs) can share one server. Empty means every non-system
	// stream belongs to the store. It must be at most
	// eventstore.MaxStreamIDLength letters, digits and "-_.:".
	StreamPrefix string
	// MaxEventSize is the largest canonical event size accepted;
	// 0 means eventstore.DefaultMaxEventSize. The server has its own limit
	// on a whole append (MaxAppendSize, 1 MiB by default): configure it
	// above the largest append Concord makes, or appends the server
	// refuses fail with ErrEventTooLarge.
	MaxEventSize int
	// Logger receives the client's and the follower's diagnostics; nil
	// discards them.
	Logger *slog.Logger
}

// Store is an eventstore.Store on a KurrentDB server or cluster. It is
// safe for concurrent use.
type Store struct {
	client       server
	prefix       string
	maxEventSize int
	logger       *slog.Logger

	// retry is the follower's first delay before resubscribing.
	retry time.Duration
	// base scopes the follower; stop cancels it.
	base       context.Context
	stop       context.CancelFunc
	followDone chan struct{}
	done       chan struct{} // closed by Close

	mu     sync.Mutex
	closed bool
	log    *positionLog
	// live is set when the follower's subscription reported it caught
	// up with $all.
	live bool
	// fatal is a follower error that retrying cannot fix (access denied);
	// calls that wait for the follower return it.
	fatal error
	// changed is closed and replaced whenever the log grows, the follower
	// fails or the store closes.
	changed chan struct{}
	// inflight holds the IDs of appends under way in this process, so that
	// two appends of one ID (in one stream or two) are decided one after
	// the other against the log.
	inflight map[uuid.UUID]chan struct{}
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to KurrentDB at url (esdb://, esdb+discover://,
// kurrentdb:// or kurrentdb+discover://, e.g.
// "esdb://localhost:2113?tls=false") and rebuilds the position log by
// following $all from the start until it has caught up. ctx bounds the
// whole of Open, including that catch-up, which reads every event of the
// store (and, with a prefix, lets the server skip the others).
//
// The connecting user must be able to read $all (by default, members of
// $admins).
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cs, err := connectionString(url)
	if err != nil {
		return nil, err
	}
	if opts, err = opts.normalize(); err != nil {
		return nil, err
	}
	cfg, err := esdb.ParseConnectionString(cs)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: connection string %q: %w", redact(url), err)
	}
	cfg.Logger = clientLogger(opts.Logger)
	client, err := esdb.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("kurrentdb: %w", err)
	}
	return open(ctx, clientServer{client}, opts, minRetry)
}

// normalize checks opts and fills in defaults.
func (opts Options) normalize() (Options, error) {
	if opts.StreamPrefix != "" {
		if err := eventstore.ValidateStreamID(opts.StreamPrefix); err != nil {
			return opts, fmt.Errorf("kurrentdb: stream prefix %q: %w", opts.StreamPrefix, err)
		}
	}
	if opts.MaxEventSize <= 0 {
		opts.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	return opts, nil
}

// open starts a Store on srv, closing srv if it fails.
func open(ctx context.Context, srv server, opts Options, retry time.Duration) (*Store, error) {
	opts, err := opts.normalize()
	if err != nil {
		srv.Close()
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base, stop := context.WithCancel(context.Background())
	s := &Store{
		client:       srv,
		prefix:       opts.StreamPrefix,
		maxEventSize: opts.MaxEventSize,
		logger:       logger,
		retry:        retry,
		base:         base,
		stop:         stop,
		followDone:   make(chan struct{}),
		done:         make(chan struct{}),
		log:          newPositionLog(opts.StreamPrefix),
		changed:      make(chan struct{}),
		inflight:     make(map[uuid.UUID]chan struct{}),
	}
	end, nonEmpty, err := s.endOfAll(ctx)
	if err != nil {
		stop()
		srv.Close()
		return nil, fmt.Errorf("kurrentdb: open: read the end of $all: %w", err)
	}
	go s.follow()
	err = s.await(ctx, func() bool { return s.live || !nonEmpty || s.log.reached(end) })
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("kurrentdb: open: catching up with $all: %w", err)
	}
	return s, nil
}

// endOfAll returns the $all position of the last event on the server, and
// false if $all is empty.
func (s *Store) endOfAll(ctx context.Context) (esdb.Position, bool, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return esdb.Position{}, false, translate("read $all", err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) {
		return esdb.Position{}, false, nil
	}
	if err != nil {
		return esdb.Position{}, false, translate("read $all", err)
	}
	if r := ev.OriginalEvent(); r != nil {
		return r.Position, true, nil
	}
	return esdb.Position{}, false, nil
}

// notifyLocked wakes everything waiting on the log. s.mu must be held.
func (s *Store) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// await waits until cond (called with s.mu held) is true, the follower
// failed for good, the store closed or ctx ended.
func (s *Store) await(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ok, closed, fatal, changed := cond(), s.closed, s.fatal, s.changed
		s.mu.Unlock()
		switch {
		case ok:
			return nil
		case closed:
			return eventstore.ErrClosed
		case fatal != nil:
			return fatal
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// fail maps an error of a call to the server: the context's error if ctx
// ended, ErrClosed if the store closed, else translate's mapping.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	return translate(op, err)
}

// check is the common start of every call.
func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	return nil
}

// Append implements eventstore.Store.Append.
//
// The events are validated before any network call. If every ID is
// already in the log, in stream at consecutive revisions, the stored
// events are read back and compared: the same content returns the original
// result without writing (whatever expected says), other content or place
// returns ErrDuplicateEvent. Otherwise the events are appended with
// KurrentDB's matching expected revision, and Append waits for the
// follower to number them. If ctx ends during that wait the events may
// have been written: re-append them (same IDs) to learn their positions.
//
// Appends of the same ID from this process are serialised, so the ID
// checks are exact for one process. Other processes writing the same
// streams are not coordinated with: see docs/kurrentdb.md.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	op := "append to " + stream
	if err := eventstore.ValidateAppend(stream, events, s.maxEventSize); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.check(ctx); err != nil {
		return eventstore.AppendResult{}, err
	}
	release, err := s.reserve(ctx, events)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	defer release()

	if res, found, err := s.stored(ctx, stream, events); found || err != nil {
		return res, err
	}
	proposed := make([]esdb.EventData, len(events))
	for i, e := range events {
		proposed[i] = toProposed(e)
	}
	wr, err := s.client.AppendToStream(ctx, s.prefix+stream, esdb.AppendToStreamOptions{ExpectedRevision: toExpected(expected)}, proposed...)
	if err != nil {
		return eventstore.AppendResult{}, s.appendError(ctx, stream, expected, err)
	}
	n := uint64(len(events))
	last := wr.NextExpectedVersion
	if last+1 < n {
		return eventstore.AppendResult{}, fmt.Errorf("%s: kurrentdb reported revision %d after appending %d events", op, last, n)
	}
	first := last + 1 - n
	err = s.await(ctx, func() bool { _, ok := s.log.position(stream, last); return ok })
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: written up to revision %d, but not yet numbered: %w", op, last, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res := eventstore.AppendResult{Revision: last, Positions: make([]uint64, n)}
	for i, e := range events {
		p, ok := s.log.position(stream, first+uint64(i))
		ent, _ := s.log.get(p)
		if !ok || ent.id != e.ID {
			// KurrentDB accepted the append as a retry of events that
			// were written around this store.
			return eventstore.AppendResult{}, fmt.Errorf("%s: %w: revision %d holds event %s, not %s", op, eventstore.ErrDuplicateEvent, first+uint64(i), ent.id, e.ID)
		}
		res.Positions[i] = p
	}
	return res, nil
}

// reserve waits until no other append of this process holds any of the
// events' IDs, then holds them until release is called.
func (s *Store) reserve(ctx context.Context, events []eventstore.EventData) (release func(), err error) {
	for {
		s.mu.Lock()
		var busy chan struct{}
		for _, e := range events {
			if ch, ok := s.inflight[e.ID]; ok {
				busy = ch
				break
			}
		}
		if busy == nil {
			mine := make(chan struct{})
			for _, e := range events {
				s.inflight[e.ID] = mine
			}
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				for _, e := range events {
					delete(s.inflight, e.ID)
				}
				s.mu.Unlock()
				close(mine)
			}, nil
		}
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// stored reports whether any of events' IDs is in the log. If all are,
// in stream at consecutive revisions and with the same content (read back
// from the server), it returns their original result; otherwise an error
// wrapping ErrDuplicateEvent.
func (s *Store) stored(ctx context.Context, stream string, events []eventstore.EventData) (eventstore.AppendResult, bool, error) {
	op := "append to " + stream
	s.mu.Lock()
	entries := make([]entry, len(events))
	positions := make([]uint64, len(events))
	found, missing := 0, -1
	for i, e := range events {
		if p, ok := s.log.byEventID(e.ID); ok {
			positions[i] = p
			entries[i], _ = s.log.get(p)
			found++
		} else if missing < 0 {
			missing = i
		}
	}
	s.mu.Unlock()
	if found == 0 {
		return eventstore.AppendResult{}, false, nil
	}
	if missing >= 0 {
		return eventstore.AppendResult{}, true, fmt.Errorf("%s: %w: event %s is new but others of the append are already stored", op, eventstore.ErrDuplicateEvent, events[missing].ID)
	}
	for i, ent := range entries {
		switch {
		case ent.stream != stream:
			return eventstore.AppendResult{}, true, fmt.Errorf("%s: %w: event %s is stored in stream %s", op, eventstore.ErrDuplicateEvent, ent.id, ent.stream)
		case i > 0 && ent.revision != entries[i-1].revision+1:
			return eventstore.AppendResult{}, true, fmt.Errorf("%s: %w: event %s is stored at revision %d, not after revision %d", op, eventstore.ErrDuplicateEvent, ent.id, ent.revision, entries[i-1].revision)
		}
	}
	got, err := s.readRange(ctx, stream, entries[0].revision, esdb.Forwards, uint64(len(entries)))
	if err != nil {
		return eventstore.AppendResult{}, true, s.fail(ctx, op, err)
	}
	if len(got) != len(events) {
		return eventstore.AppendResult{}, true, fmt.Errorf("%s: kurrentdb: %d of %d stored events read back", op, len(got), len(events))
	}
	for i, e := range events {
		if got[i].ID != e.ID || !eventstore.SameContent(got[i].EventData, e) {
			return eventstore.AppendResult{}, true, fmt.Errorf("%s: %w: event %s is stored with other content", op, eventstore.ErrDuplicateEvent, e.ID)
		}
	}
	return eventstore.AppendResult{Revision: entries[len(entries)-1].revision, Positions: positions}, true, nil
}

// appendError maps a failed AppendToStream.
func (s *Store) appendError(ctx context.Context, stream string, expected eventstore.ExpectedRevision, err error) error {
	op := "append to " + stream
	var wv *wrongVersionError
	if ctx.Err() == nil && errors.As(err, &wv) {
		actual, ok := parseActual(wv.Error())
		if !ok {
			var rerr error
			if actual, rerr = s.serverLastRevision(ctx, stream); rerr != nil {
				return s.fail(ctx, op+": wrong expected revision; reading the actual one", rerr)
			}
		}
		return &eventstore.WrongExpectedRevisionError{Stream: stream, Expected: expected, Actual: actual}
	}
	return s.fail(ctx, op, err)
}

// serverLastRevision reads stream's last revision from the server (-1 if
// it has no events).
func (s *Store) serverLastRevision(ctx context.Context, stream string) (int64, error) {
	rs, err := s.client.ReadStream(ctx, s.prefix+stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	ev, err := rs.Recv()
	var nf *streamNotFoundError
	switch {
	case errors.Is(err, io.EOF), errors.As(err, &nf):
		return -1, nil
	case err != nil:
		return 0, err
	}
	return int64(ev.OriginalEvent().EventNumber), nil
}

// readRange reads up to count events of stream from revision from in the
// given direction, converted but with no position set. A missing stream
// reads as empty.
func (s *Store) readRange(ctx context.Context, stream string, from uint64, dir esdb.Direction, count uint64) ([]eventstore.RecordedEvent, error) {
	rs, err := s.client.ReadStream(ctx, s.prefix+stream, esdb.ReadStreamOptions{Direction: dir, From: esdb.Revision(from)}, count)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []eventstore.RecordedEvent
	for {
		ev, err := rs.Recv()
		var nf *streamNotFoundError
		switch {
		case errors.Is(err, io.EOF), errors.As(err, &nf):
			return out, nil
		case err != nil:
			return nil, err
		}
		r := ev.OriginalEvent()
		e, err := fromRecorded(s.prefix, r)
		if err != nil {
			// Not a Concord event (written around the store): the
			// follower skipped it too.
			continue
		}
		out = append(out, e)
	}
}

// ReadStream implements eventstore.Store.ReadStream. It returns the
// events the follower has numbered (every event this process appended,
// and others' once the follower has seen them), so a read never shows an
// event without its position.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, dir eventstore.Direction, limit int) ([]eventstore.RecordedEvent, error) {
	op := "read " + stream
	if err := eventstore.ValidateStreamID(stream); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	last, ok := s.log.lastRevision(stream)
	s.mu.Unlock()
	if !ok {
		return nil, nil
	}
	var esDir esdb.Direction
	var count uint64
	switch {
	case dir == eventstore.Backward:
		esDir = esdb.Backwards
		from = min(from, last)
		count = from + 1
	case from > last:
		return nil, nil
	default:
		esDir = esdb.Forwards
		count = last - from + 1
	}
	if limit > 0 {
		count = min(count, uint64(limit))
	}
	count = min(count, math.MaxInt64)
	evs, err := s.readRange(ctx, stream, from, esDir, count)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := evs[:0]
	for _, e := range evs {
		p, ok := s.log.position(stream, e.Revision)
		if !ok {
			continue
		}
		ent, _ := s.log.get(p)
		e.Position, e.RecordedAt = p, ent.recorded
		out = append(out, e)
	}
	return out, nil
}

// ReadAll implements eventstore.Store.ReadAll: it looks up the $all
// positions of the wanted events in the position log and reads them from
// $all.
func (s *Store) ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	from = max(from, 1)
	s.mu.Lock()
	want := s.log.slice(from, limit)
	s.mu.Unlock()
	if len(want) == 0 {
		return nil, nil
	}
	evs, err := s.fetch(ctx, from, want)
	if err != nil {
		return nil, s.fail(ctx, "read $all", err)
	}
	return evs, nil
}

// fetch reads the events of want (the entries of positions first, first+1,
// …) from $all, in batches, skipping the events of $all that are not the
// store's.
func (s *Store) fetch(ctx context.Context, first uint64, want []entry) ([]eventstore.RecordedEvent, error) {
	out := make([]eventstore.RecordedEvent, 0, len(want))
	from := want[0].pos
	inclusive := true // from itself is wanted
	for len(out) < len(want) {
		batch := uint64(min(max(2*(len(want)-len(out)), 64), 4096))
		last, progressed, err := s.fetchBatch(ctx, from, inclusive, batch, first, want, &out)
		if err != nil {
			return nil, err
		}
		if !progressed && len(out) < len(want) {
			w := want[len(out)]
			return nil, fmt.Errorf("kurrentdb: position %d (%s@%d, $all %d/%d) is no longer in $all: was it deleted or scavenged?",
				first+uint64(len(out)), w.stream, w.revision, w.pos.Commit, w.pos.Prepare)
		}
		from, inclusive = last, false
	}
	return out, nil
}

// fetchBatch reads up to count events of $all from position from
// (inclusive: ReadAll starts at from) and appends the wanted ones to out.
// It returns the last $all position read and whether it read anything new
// (past from, or from itself when inclusive).
func (s *Store) fetchBatch(ctx context.Context, from esdb.Position, inclusive bool, count uint64, first uint64, want []entry, out *[]eventstore.RecordedEvent) (esdb.Position, bool, error) {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Forwards, From: from}, count)
	if err != nil {
		return from, false, err
	}
	defer rs.Close()
	last, progressed := from, false
	for len(*out) < len(want) {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return from, false, err
		}
		r := ev.OriginalEvent()
		if r == nil {
			continue
		}
		if after(r.Position, from) || inclusive && r.Position == from {
			progressed = true
		}
		if after(r.Position, last) {
			last = r.Position
		}
		w := want[len(*out)]
		if after(w.pos, r.Position) {
			continue // not the store's, or returned already
		}
		if r.Position != w.pos {
			return from, false, fmt.Errorf("kurrentdb: position %d (%s@%d) is missing from $all: was it deleted or scavenged?", first+uint64(len(*out)), w.stream, w.revision)
		}
		e, err := fromRecorded(s.prefix, r)
		if err != nil {
			return from, false, fmt.Errorf("position %d: %w", first+uint64(len(*out)), err)
		}
		if e.ID != w.id || e.StreamID != w.stream || e.Revision != w.revision {
			return from, false, fmt.Errorf("kurrentdb: position %d: $all holds %s %s@%d, the position log %s %s@%d",
				first+uint64(len(*out)), e.ID, e.StreamID, e.Revision, w.id, w.stream, w.revision)
		}
		e.Position, e.RecordedAt = first+uint64(len(*out)), w.recorded
		*out = append(*out, e)
	}
	return last, progressed, nil
}

// PositionAt implements eventstore.Store.PositionAt from the recorded
// times in the position log.
func (s *Store) PositionAt(ctx context.Context, t time.Time) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.at(t), nil
}

// Head implements eventstore.Store.Head: the last position the follower
// has numbered.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.head(), nil
}

// Close implements eventstore.Store.Close: it stops the follower and the
// subscriptions (which end with ErrClosed) and closes the client. Calls in
// flight fail with ErrClosed. Closing twice is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.notifyLocked()
	s.mu.Unlock()
	s.stop()
	<-s.followDone
	return s.client.Close()
}

// clientLogger adapts the client's logging to slog (nil: discard).
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	if l == nil {
		return esdb.NoopLogging()
	}
	return func(level esdb.LogLevel, format string, args ...any) {
		lv := slog.LevelDebug
		switch level {
		case esdb.LogInfo:
			lv = slog.LevelInfo
		case esdb.LogWarn:
			lv = slog.LevelWarn
		case esdb.LogError:
			lv = slog.LevelError
		}
		l.Log(context.Background(), lv, "kurrentdb client: "+fmt.Sprintf(format, args...))
	}
}
