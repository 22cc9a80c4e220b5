// Package projections builds Concord's read models from the global log:
// pure folds of events in position order, checkpointed durably, able to
// answer "as of" any past position or time (as known then) and "as
// corrected now" (corrections applied from their effective dates).
package projections

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/mapped"
)

// Projection is a read model built by folding events in global order.
// Apply must be a pure fold of the state it holds: the same events in the
// same order give the same state (and the same MarshalState bytes).
type Projection interface {
	// Name identifies the projection (checkpoints, metrics, /readyz).
	Name() string
	// Version changes whenever the state's shape or the fold changes; a
	// checkpoint stored by another version is discarded and the
	// projection rebuilt from zero.
	Version() int
	// Apply folds one event. An error stops the projection at that event.
	Apply(m domain.Message) error
	// MarshalState returns the state's bytes for checkpoints and
	// snapshots; equal states give equal bytes.
	MarshalState() ([]byte, error)
	// UnmarshalState restores a state from MarshalState's bytes. b is
	// only valid during the call (it may be the database's own memory):
	// the state must not keep it.
	UnmarshalState(b []byte) error
}

// Selective is a Projection that folds only some events. Wants reports,
// from a recorded event's type and stream alone (before it is decoded),
// whether Apply could change the state: an event it does not want must
// leave the state exactly as it was (each view's claim is tested at every
// event of the test ledgers). A past reading (AsOf, AsOfAll, as
// corrected) then neither decodes nor applies the events that none of the
// projections it folds wants: a large state snapshotted far behind the
// reading costs the events of its own kind, not every event since.
type Selective interface {
	Wants(eventType, stream string) bool
}

// Live is a Projection that keeps indexes worth building only for a
// state that is read many times. A state read back for one past reading
// skips them (building one would cost more than the reading); the engine
// calls Live on each projection it keeps up to date once its state is
// restored (or, with nothing to restore, before it folds from zero, and
// on a rebuilt one), so that the live one builds them when first needed.
type Live interface {
	Live()
}

// Versioned is a Projection that keeps every version of its rows, each
// with the position from which it holds, so that its state as of any
// position it has folded is looked up rather than folded: the engine
// answers "as of" from the live projection (At), reading no snapshot and
// folding no event it has already folded, and keeps no snapshots of it.
type Versioned interface {
	// At returns a new projection holding the state as of pos (at most
	// the position the receiver has folded): the state, and the
	// MarshalState bytes, that folding events 1..pos from zero gives. It
	// is called under the engine's read lock: it must not change the
	// receiver's state, and what it returns must share nothing that the
	// receiver (or the returned projection, folded further) goes on
	// changing.
	At(pos uint64) Projection
}

// Lensed is a Versioned projection whose state as of a past position it
// has folded can also be read in place: Lens returns a projection that
// answers the view's queries as of pos by looking each row up in the
// receiver's own versions, copying none. It is called under the engine's
// read lock, and what it returns is read only while that lock is held
// (see Engine.ViewPast): it must never be folded, saved or kept.
type Lensed interface {
	Versioned
	Lens(pos uint64) Projection
}

// Releaser is a lens (Lensed.Lens) that took memory for its reading and
// gives it back for the next: ViewPast calls Release once fn has
// returned, after which nothing the lens holds may be read (fn keeps
// copies of what it reads, never the lens or what points into it).
type Releaser interface {
	Release()
}

// firstSnapshot is the position from which a snapshot of p is due: none
// ever for a Versioned projection, whose past states are looked up.
func firstSnapshot(p Projection) uint64 {
	if _, ok := p.(Versioned); ok {
		return math.MaxUint64
	}
	return 0
}

// wantsOf returns, for each projection, its Wants, or nil when it folds
// every event.
func wantsOf(ps []Projection) []func(string, string) bool {
	out := make([]func(string, string) bool, len(ps))
	for i, p := range ps {
		if s, ok := p.(Selective); ok {
			out[i] = s.Wants
		}
	}
	return out
}

// wanted returns the records of recs that at least one projection wants:
// projection j wants the records from froms[j] on that wants[j] (nil: all)
// accepts. recs is returned as it is when every record is wanted.
func wanted(recs []eventstore.RecordedEvent, wants []func(string, string) bool, froms []uint64) []eventstore.RecordedEvent {
	keep := func(rec eventstore.RecordedEvent) bool {
		for j, w := range wants {
			if rec.Position >= froms[j] && (w == nil || w(rec.Type, rec.StreamID)) {
				return true
			}
		}
		return false
	}
	i := 0
	for i < len(recs) && keep(recs[i]) {
		i++
	}
	if i == len(recs) {
		return recs
	}
	out := append(make([]eventstore.RecordedEvent, 0, len(recs)), recs[:i]...)
	for _, rec := range recs[i+1:] {
		if keep(rec) {
			out = append(out, rec)
		}
	}
	return out
}

// Factory returns a projection with an empty state.
type Factory func() Projection

// Failure says where and why a projection stopped.
type Failure struct {
	Position uint64    `json:"position"`
	EventID  string    `json:"event_id"`
	Type     string    `json:"type"`
	Err      string    `json:"error"`
	At       time.Time `json:"at"`
}

// Status is a projection's progress, for metrics and /readyz.
type Status struct {
	Name     string   `json:"name"`
	Position uint64   `json:"position"`
	Head     uint64   `json:"head"`
	Lag      uint64   `json:"lag"`
	Failure  *Failure `json:"failure,omitempty"`
}

// Errors of the engine.
var (
	// ErrUnknownProjection is returned for a projection name not registered.
	ErrUnknownProjection = errors.New("projections: unknown projection")
	// ErrFutureAsOf is returned when "as of" names a position beyond the log.
	ErrFutureAsOf = errors.New("projections: as-of position is beyond the end of the log")
	// ErrNotFollowing is returned by WaitFor when no Run is following the
	// log, so nothing would wake it: call CatchUp instead.
	ErrNotFollowing = errors.New("projections: no Run is following the log")
)

// Options configure an Engine.
type Options struct {
	// CheckpointEvery writes a checkpoint after this many events (default
	// 100000; the interval below checkpoints a live ledger sooner).
	CheckpointEvery int
	// CheckpointInterval writes a checkpoint at least this often while
	// events arrive (default 1s).
	CheckpointInterval time.Duration
	// SnapshotEvery keeps a snapshot of each projection at most every this
	// many positions for "as of" queries (default 1000). A projection with
	// a large state is snapshotted less often: at least its state's size
	// divided by SnapshotBytesPerEvent positions apart, so snapshots take
	// space in proportion to the log, not to its square.
	SnapshotEvery uint64
	// SnapshotBytesPerEvent bounds the snapshot bytes kept per event per
	// projection while following the log (default 32); it also spaces
	// checkpoints of large states. "As of" readings that had to fold far
	// store a snapshot where they looked, so snapshots also grow where
	// readers ask.
	SnapshotBytesPerEvent int
	// Retired names projections no longer kept: their checkpoints and
	// snapshots are dropped when the engine opens.
	Retired []string
	Logger  *slog.Logger
}

// Engine runs projections over a store.
type Engine struct {
	store eventstore.Store
	codec *domain.Codec
	db    *bolt.DB
	opts  Options
	log   *slog.Logger

	// storing, if set (by tests), is told the states of each group of
	// checkpoints as it is stored.
	storing func(states [][]byte)

	mu    sync.RWMutex
	projs map[string]*running
	order []string
	head  uint64

	// WaitFor's state: fed is the last position fed to every projection
	// (those restored ahead of it excepted), advanced is closed and
	// replaced when fed moves, following counts Run loops.
	// keeping is set while a snapshot asked by an "as of" reading is being
	// stored; keepers counts them, for Close.
	keeping atomic.Bool
	keepers sync.WaitGroup
	closed  atomic.Bool

	waitMu    sync.Mutex
	fed       uint64
	advanced  chan struct{}
	following int

	// The writer of snapshots and checkpoints (writer.go).
	writes        chan pendingWrite
	writerDone    chan struct{}
	stopOnce      sync.Once
	writeMu       sync.RWMutex // guards writerStopped and sending on writes
	writerStopped bool
}

type running struct {
	factory Factory
	mu      sync.RWMutex
	proj    Projection
	pos     uint64
	lastCP  uint64
	cpAt    time.Time
	// cpSize is the size of the last checkpointed state; nextSnap the
	// position from which the next snapshot is due.
	cpSize   int
	nextSnap uint64
	failure  *Failure
}

var (
	bucketCheckpoints = []byte("checkpoints")
	bucketSnapshots   = []byte("snapshots")
)

// checkpoint is a projection's stored state and the position it reflects.
// Stored in a bucket of its own at the projection's name (writer.go):
// checkpointHeadKey holds checkpointMagic, the version (uvarint) and the
// position (8 bytes, big-endian), stateKey the state's bytes as
// MarshalState gave them (which need not be JSON). Checkpoints of the
// older forms, one plain value (the header followed by the state, or
// JSON), are still read.
type checkpoint struct {
	Version  int             `json:"version"`
	Position uint64          `json:"position"`
	State    json.RawMessage `json:"state"`
	// Pieces hold the state instead of State when it was stored in
	// pieces.
	Pieces [][]byte `json:"-"`
}

var checkpointMagic = []byte("CCP1")

func encodeCheckpoint(cp checkpoint) []byte {
	out := append([]byte(nil), checkpointMagic...)
	out = binary.AppendUvarint(out, uint64(cp.Version))
	out = binary.BigEndian.AppendUint64(out, cp.Position)
	return append(out, cp.State...)
}

func decodeCheckpoint(raw []byte) (checkpoint, error) {
	var cp checkpoint
	rest, ok := bytes.CutPrefix(raw, checkpointMagic)
	if !ok {
		err := json.Unmarshal(raw, &cp)
		return cp, err
	}
	v, n := binary.Uvarint(rest)
	if n <= 0 || len(rest) < n+8 {
		return cp, errors.New("truncated checkpoint")
	}
	cp.Version = int(v)
	cp.Position = binary.BigEndian.Uint64(rest[n:])
	cp.State = append([]byte(nil), rest[n+8:]...)
	return cp, nil
}

// Open opens (creating if needed) the engine's checkpoint database at path
// and restores every projection from its checkpoint. Projections whose
// version changed start from zero.
func Open(store eventstore.Store, codec *domain.Codec, path string, opts Options, factories ...Factory) (*Engine, error) {
	if opts.CheckpointEvery <= 0 {
		opts.CheckpointEvery = 100000
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = time.Second
	}
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = 1000
	}
	if opts.SnapshotBytesPerEvent <= 0 {
		opts.SnapshotBytesPerEvent = 32
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open projection checkpoints %s: %w", path, err)
	}
	e := &Engine{store: store, codec: codec, db: db, opts: opts, log: opts.Logger, projs: map[string]*running{}, advanced: make(chan struct{})}
	runs := make([]*running, len(factories))
	errs := make([]error, len(factories))
	for i, f := range factories {
		p := f()
		runs[i] = &running{factory: f, proj: p, cpAt: time.Now(), nextSnap: firstSnapshot(p)}
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCheckpoints)
		if err == nil {
			_, err = tx.CreateBucketIfNotExists(bucketSnapshots)
		}
		if err == nil {
			err = dropStaleSnapshots(tx, runs)
		}
		if err == nil {
			err = dropRetired(tx, opts.Retired)
		}
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("init projection checkpoints: %w", err)
	}
	// Each view's checkpoint is decoded on its own core: at a million
	// events the states take seconds to unmarshal one after another.
	// Once a state is decoded, the pages its stored copy was read from are
	// dropped from the process's resident set (mapped.Drop), so that the
	// stored states and the views decoded from them are never all held at
	// once.
	parallel(len(runs), func(i int) {
		if errs[i] = e.restore(runs[i]); errs[i] == nil {
			if err := mapped.Drop(e.db); err != nil {
				e.log.Warn("projection states read back: pages not dropped", "err", err)
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		db.Close()
		return nil, err
	}
	for _, r := range runs {
		e.projs[r.proj.Name()] = r
		e.order = append(e.order, r.proj.Name())
	}
	e.fed = e.minPosition()
	e.startWriter()
	return e, nil
}

// WaitFor blocks until the projections following the log (Run) have
// folded every event up to position, and returns nil then; a projection
// that failed is not waited for. It is woken by the engine as it feeds
// events, not by a timer. Returns ErrNotFollowing when no Run is
// following the log (or once it stops), and the context's error when ctx
// ends first.
func (e *Engine) WaitFor(ctx context.Context, position uint64) error {
	for {
		e.waitMu.Lock()
		fed, ch, following := e.fed, e.advanced, e.following
		e.waitMu.Unlock()
		if fed >= position {
			return nil
		}
		if following == 0 {
			return ErrNotFollowing
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// advance records that every projection has been fed up to pos, waking
// WaitFor.
func (e *Engine) advance(pos uint64) {
	e.waitMu.Lock()
	defer e.waitMu.Unlock()
	if pos > e.fed {
		e.fed = pos
		close(e.advanced)
		e.advanced = make(chan struct{})
	}
}

// follow registers a Run loop (n = 1) or its end (n = -1), waking WaitFor
// so it sees the change.
func (e *Engine) follow(n int) {
	e.waitMu.Lock()
	defer e.waitMu.Unlock()
	e.following += n
	close(e.advanced)
	e.advanced = make(chan struct{})
}

// restore reads r's state back: from its checkpoint, or from its latest
// snapshot when that is further on (a snapshot is a state folded up to its
// position, as good as a checkpoint: a replay does not write a checkpoint
// where it takes a snapshot). A state that does not read falls back to
// the other one, then to zero.
func (e *Engine) restore(r *running) error {
	name, version := r.proj.Name(), r.proj.Version()
	return e.db.View(func(tx *bolt.Tx) error {
		type candidate struct {
			pos    uint64
			state  []byte
			pieces [][]byte // the state in pieces, instead of state
			what   string
		}
		var cands []candidate
		if cp, ok, err := getCheckpoint(tx.Bucket(bucketCheckpoints), []byte(name)); ok {
			switch {
			case err != nil:
				e.log.Warn("projection checkpoint unreadable", "projection", name, "err", err)
			case cp.Version != version:
				e.log.Info("projection version changed; rebuilding", "projection", name, "stored", cp.Version, "current", version)
			default:
				cands = append(cands, candidate{pos: cp.Position, state: cp.State, pieces: cp.Pieces, what: "checkpoint"})
			}
		}
		after := uint64(0) // a snapshot no newer than the checkpoint is not unpacked
		if len(cands) > 0 {
			after = cands[0].pos
		}
		if pos, state, stored, ok := latestSnapshot(tx, name, version, after); ok {
			r.nextSnap = max(r.nextSnap, pos+e.spacing(stored))
			if state != nil {
				cands = append([]candidate{{pos: pos, state: state, what: "snapshot"}}, cands...)
			}
		}
		for _, c := range cands {
			if err := unmarshalStored(r.proj, c.state, c.pieces); err != nil {
				e.log.Warn("projection state unreadable", "projection", name, "from", c.what, "position", c.pos, "err", err)
				r.proj = r.factory()
				continue
			}
			r.pos, r.lastCP, r.cpSize = c.pos, c.pos, stateBytes(c.state, c.pieces)
			if l, ok := r.proj.(Live); ok {
				l.Live()
			}
			return nil
		}
		if len(cands) > 0 {
			e.log.Warn("projection rebuilding from zero", "projection", name)
		}
		// Folded from zero, it is kept up to date all the same.
		if l, ok := r.proj.(Live); ok {
			l.Live()
		}
		return nil
	})
}

// latestSnapshot returns the last snapshot of projection name, if its
// snapshots are of version: its position, its state (the caller's) and
// the bytes it takes stored.
//
// Its state is read only when pos is after after (nil otherwise): at a
// million events, unpacking every view's last snapshot only to find its
// checkpoint newer took a third of a restart.
func latestSnapshot(tx *bolt.Tx, name string, version int, after uint64) (pos uint64, state []byte, stored int, ok bool) {
	b := tx.Bucket(bucketSnapshots).Bucket([]byte(name))
	if b == nil || string(b.Get([]byte("version"))) != fmt.Sprint(version) {
		return 0, nil, 0, false
	}
	c := b.Cursor()
	k, _ := c.Last()
	for k != nil && len(k) != 8 {
		k, _ = c.Prev()
	}
	if k == nil {
		return 0, nil, 0, false
	}
	if pos = binary.BigEndian.Uint64(k); pos <= after {
		size, ok := storedSize(b, k)
		return pos, nil, size, ok
	}
	v, stored, owned := getState(b, k)
	if v != nil && !owned {
		v = append([]byte(nil), v...)
	}
	return binary.BigEndian.Uint64(k), v, stored, v != nil
}

// dropStaleSnapshots removes the snapshots of each projection whose
// snapshots were stored by another version: once a new version stores one,
// the old ones would otherwise pass for it.
// dropRetired deletes what is stored of the projections named (their
// checkpoint and snapshots), in either layout.
func dropRetired(tx *bolt.Tx, names []string) error {
	for _, name := range names {
		key := []byte(name)
		for _, b := range []*bolt.Bucket{tx.Bucket(bucketCheckpoints), tx.Bucket(bucketSnapshots)} {
			var err error
			switch {
			case b.Bucket(key) != nil:
				err = b.DeleteBucket(key)
			case b.Get(key) != nil:
				err = b.Delete(key)
			}
			if err != nil {
				return fmt.Errorf("drop the retired projection %s: %w", name, err)
			}
		}
	}
	return nil
}

func dropStaleSnapshots(tx *bolt.Tx, runs []*running) error {
	all := tx.Bucket(bucketSnapshots)
	for _, r := range runs {
		name := []byte(r.proj.Name())
		b := all.Bucket(name)
		if b == nil || string(b.Get([]byte("version"))) == fmt.Sprint(r.proj.Version()) {
			continue
		}
		if err := all.DeleteBucket(name); err != nil {
			return fmt.Errorf("drop stale snapshots of %s: %w", name, err)
		}
	}
	return nil
}

// WaitKept waits until the snapshots that "as of" readings asked to keep
// are stored.
func (e *Engine) WaitKept() { e.keepers.Wait() }

// Close writes final checkpoints and closes the database.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.keepers.Wait()
	err := e.checkpointAll(true)
	e.stopWriter()
	if cerr := e.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// Run follows the log and feeds every projection until ctx ends. It
// returns ctx's error, or a store error.
func (e *Engine) Run(ctx context.Context) error {
	from := e.minPosition() + 1
	sub, err := e.store.Subscribe(ctx, from)
	if err != nil {
		return fmt.Errorf("subscribe projections from %d: %w", from, err)
	}
	defer sub.Close()
	e.follow(1)
	defer e.follow(-1)
	tick := time.NewTicker(e.opts.CheckpointInterval)
	defer tick.Stop()
	events := sub.Events()
	for {
		select {
		case rec, ok := <-events:
			if !ok {
				e.checkpointAll(true)
				if err := sub.Err(); err != nil && !errors.Is(err, context.Canceled) {
					return err
				}
				return ctx.Err()
			}
			e.feed(rec)
			if len(events) == 0 {
				// Wake readers once per burst, not per event.
				e.advance(rec.Position)
			}
		case <-tick.C:
			e.checkpointAll(false)
		}
	}
}

func (e *Engine) allFailed() bool {
	for _, r := range e.projs {
		r.mu.RLock()
		ok := r.failure == nil
		r.mu.RUnlock()
		if ok {
			return false
		}
	}
	return true
}

func (e *Engine) minPosition() uint64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	min := ^uint64(0)
	for _, r := range e.projs {
		r.mu.RLock()
		if r.failure == nil && r.pos < min {
			min = r.pos
		}
		r.mu.RUnlock()
	}
	if min == ^uint64(0) {
		min = 0
		for _, r := range e.projs {
			if r.pos > min {
				min = r.pos
			}
		}
	}
	return min
}

// feed applies one recorded event to every projection that has not seen
// it. Decoding happens once per event.
func (e *Engine) feed(rec eventstore.RecordedEvent) {
	e.mu.Lock()
	if rec.Position > e.head {
		e.head = rec.Position
	}
	e.mu.Unlock()
	var msg domain.Message
	var decErr error
	decoded := false
	var snap, cp []string
	for _, name := range e.order {
		r := e.projs[name]
		r.mu.Lock()
		if r.failure != nil || r.pos >= rec.Position {
			r.mu.Unlock()
			continue
		}
		if !decoded {
			msg, decErr = e.codec.Decode(domainlog.ToDomain(rec))
			ownStrings(&msg, map[string]string{})
			decoded = true
		}
		err := decErr
		if err == nil {
			err = r.proj.Apply(msg)
		}
		if err != nil {
			r.failure = &Failure{Position: rec.Position, EventID: rec.ID.String(), Type: rec.Type, Err: err.Error(), At: time.Now().UTC()}
			e.log.Error("projection stopped at event", "projection", name, "position", rec.Position, "event_id", rec.ID, "type", rec.Type, "err", err)
		} else {
			r.pos = rec.Position
		}
		r.mu.Unlock()
		if err == nil && rec.Position >= r.nextSnap && rec.Position%e.opts.SnapshotEvery == 0 {
			snap = append(snap, name)
		}
		if err == nil && (int(rec.Position-r.lastCP) >= e.opts.CheckpointEvery) {
			cp = append(cp, name)
		}
	}
	if len(snap) > 0 {
		if err := e.snapshotMany(snap); err != nil {
			e.log.Warn("projection snapshots failed", "position", rec.Position, "err", err)
		}
	}
	if len(cp) > 0 {
		if err := e.checkpointMany(cp); err != nil {
			e.log.Warn("projection checkpoints failed", "position", rec.Position, "err", err)
		}
	}
}

// workers is how many goroutines decode a batch of events and fold it
// into the projections (each projection is folded by one of them, in
// order): the projections are independent, so a batch is folded on every
// core.
var workers = max(2, runtime.GOMAXPROCS(0))

// parallel runs fn(0) … fn(n-1) on up to workers goroutines and waits.
func parallel(n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// decodeBatch decodes recs on every core; errs holds each one's error.
func decodeBatch(codec *domain.Codec, recs []eventstore.RecordedEvent) ([]domain.Message, []error) {
	return decodeBatchOwned(codec, recs, false)
}

// decodeBatchOwned is decodeBatch, with the messages' envelope strings
// their own (see ownStrings) if own: for the live projections, which keep
// them for the life of the process; a fold for one reading does not.
func decodeBatchOwned(codec *domain.Codec, recs []eventstore.RecordedEvent, own bool) ([]domain.Message, []error) {
	msgs, errs := make([]domain.Message, len(recs)), make([]error, len(recs))
	const chunk = 256
	parallel((len(recs)+chunk-1)/chunk, func(c int) {
		var seen map[string]string
		if own {
			seen = map[string]string{}
		}
		for i := c * chunk; i < min(len(recs), (c+1)*chunk); i++ {
			msgs[i], errs[i] = codec.Decode(domainlog.ToDomain(recs[i]))
			if own {
				ownStrings(&msgs[i], seen)
			}
		}
	})
	return msgs, errs
}

// ownStrings gives m's stream, type, actor, role and reason strings of
// their own. A store may hand them out as slices of a block shared by
// many events' text (the segment store does, 64 KiB at a time), and a
// view that keeps one string of an event (the audit view keeps them all,
// interned) would keep the whole block alive: at a million events, over
// a hundred megabytes of text for a few distinct strings. seen shares
// one copy between the events of a batch.
func ownStrings(m *domain.Message, seen map[string]string) {
	own := func(s *string) {
		if *s == "" {
			return
		}
		if o, ok := seen[*s]; ok {
			*s = o
			return
		}
		o := strings.Clone(*s)
		seen[o] = o
		*s = o
	}
	own(&m.Stream)
	own(&m.Type)
	own(&m.Meta.ActorID)
	own(&m.Meta.ActorRole)
	own(&m.Meta.Reason)
}

// feedBatch is feed for a batch of events in position order: it decodes
// them once, on every core, then folds them into the projections, each
// projection on one core; snapshots due inside the batch are taken where
// they fall. A snapshot stands for a checkpoint (restore reads whichever
// is further on), so no state is marshalled twice; a checkpoint without a
// snapshot is due after CheckpointEvery events, or, for a large state,
// after as many events as its snapshots are spaced, so a replay marshals
// each state a bounded number of bytes per event, not the whole state
// every CheckpointEvery events. Snapshots and checkpoints are handed to
// the writer, which stores them while the next batch is folded.
func (e *Engine) feedBatch(recs []eventstore.RecordedEvent) {
	if len(recs) == 0 {
		return
	}
	msgs, errs := decodeBatchOwned(e.codec, recs, true)
	e.feedDecoded(recs, msgs, errs)
}

// feedDecoded is feedBatch for events already decoded: msgs[i] (or
// errs[i]) is recs[i]'s.
func (e *Engine) feedDecoded(recs []eventstore.RecordedEvent, msgs []domain.Message, errs []error) {
	if len(recs) == 0 {
		return
	}
	e.noteHead(recs)
	var (
		mu  sync.Mutex
		out pendingWrite
	)
	parallel(len(e.order), func(j int) {
		w := e.feedOne(e.order[j], recs, msgs, errs)
		if !w.empty() {
			mu.Lock()
			out.snaps = append(out.snaps, w.snaps...)
			out.cps = append(out.cps, w.cps...)
			mu.Unlock()
		}
	})
	sortedCheckpoints(out.cps)
	e.queueWrite(out)
}

// noteHead raises the head the engine has seen to recs' last position.
func (e *Engine) noteHead(recs []eventstore.RecordedEvent) {
	e.mu.Lock()
	if last := recs[len(recs)-1].Position; last > e.head {
		e.head = last
	}
	e.mu.Unlock()
}

// feedOne folds the events of recs past projection name's position into
// it (msgs[i] or errs[i] being recs[i]'s), and returns the snapshots and
// the checkpoint that fell due, to store.
func (e *Engine) feedOne(name string, recs []eventstore.RecordedEvent, msgs []domain.Message, errs []error) pendingWrite {
	r := e.projs[name]
	r.mu.Lock()
	defer r.mu.Unlock()
	var w pendingWrite
	for i, rec := range recs {
		if r.failure != nil || r.pos >= rec.Position {
			continue
		}
		err := errs[i]
		if err == nil {
			err = r.proj.Apply(msgs[i])
		}
		if err != nil {
			r.failure = &Failure{Position: rec.Position, EventID: rec.ID.String(), Type: rec.Type, Err: err.Error(), At: time.Now().UTC()}
			e.log.Error("projection stopped at event", "projection", name, "position", rec.Position, "event_id", rec.ID, "type", rec.Type, "err", err)
			continue
		}
		r.pos = rec.Position
		if rec.Position >= r.nextSnap && rec.Position%e.opts.SnapshotEvery == 0 {
			state, err := r.proj.MarshalState()
			if err != nil {
				e.log.Warn("projection snapshot failed", "projection", name, "position", rec.Position, "err", err)
				continue
			}
			packed := packState(state)
			r.nextSnap = rec.Position + e.spacing(len(packed))
			w.snaps = append(w.snaps, snapWrite{name, r.proj.Version(), rec.Position, packed})
			// A snapshot is a checkpoint too (restore reads the
			// latest of both): none is written beside it.
			r.lastCP, r.cpAt, r.cpSize = rec.Position, time.Now(), len(state)
		}
	}
	if r.failure == nil && r.pos-r.lastCP >= max(uint64(e.opts.CheckpointEvery), e.spacing(r.cpSize)) {
		state, err := r.proj.MarshalState()
		if err != nil {
			e.log.Warn("projection checkpoint failed", "projection", name, "position", r.pos, "err", err)
		} else {
			w.cps = append(w.cps, cpWrite{name: name, version: r.proj.Version(), pos: r.pos, state: state})
			r.lastCP, r.cpAt, r.cpSize = r.pos, time.Now(), len(state)
		}
	}
	return w
}

func (e *Engine) snapshot(r *running, name string) (int, error) {
	r.mu.RLock()
	state, err := r.proj.MarshalState()
	pos, version := r.pos, r.proj.Version()
	r.mu.RUnlock()
	if err != nil {
		return 0, err
	}
	packed := packState(state)
	return len(packed), e.db.Update(func(tx *bolt.Tx) error { return putSnapshot(tx, name, version, pos, packed) })
}

// putSnapshot stores a snapshot of projection name at pos: its state
// packed (packState).
func putSnapshot(tx *bolt.Tx, name string, version int, pos uint64, packed []byte) error {
	b, err := tx.Bucket(bucketSnapshots).CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return err
	}
	if err := b.Put([]byte("version"), []byte(fmt.Sprint(version))); err != nil {
		return err
	}
	return putPacked(b, posKey(pos), packed)
}

// snapshotMany hands a snapshot of each named projection to the writer,
// which stores them in one transaction (one fsync for all of them).
func (e *Engine) snapshotMany(names []string) error {
	var w pendingWrite
	for _, name := range names {
		r := e.projs[name]
		r.mu.Lock()
		state, err := r.proj.MarshalState()
		if err == nil {
			packed := packState(state)
			w.snaps = append(w.snaps, snapWrite{name, r.proj.Version(), r.pos, packed})
			r.nextSnap = r.pos + e.spacing(len(packed))
		}
		r.mu.Unlock()
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", name, err)
		}
	}
	e.queueWrite(w)
	return nil
}

// spacing is how many positions apart snapshots of a state of size bytes
// are kept.
func (e *Engine) spacing(size int) uint64 {
	return max(e.opts.SnapshotEvery, uint64(size/e.opts.SnapshotBytesPerEvent))
}

func posKey(p uint64) []byte { return binary.BigEndian.AppendUint64(nil, p) }

func (e *Engine) checkpointAll(force bool) error {
	var due []string
	for _, name := range e.order {
		r := e.projs[name]
		r.mu.RLock()
		// A large state is checkpointed on the interval only once enough
		// events have passed to be worth marshalling it again.
		enough := r.pos-r.lastCP >= uint64(r.cpSize/(16*e.opts.SnapshotBytesPerEvent))
		if r.pos != r.lastCP && (force || time.Since(r.cpAt) >= e.opts.CheckpointInterval && enough) {
			due = append(due, name)
		}
		r.mu.RUnlock()
	}
	return e.checkpointMany(due)
}

// checkpointGroupBytes bounds the states checkpointMany holds and stores
// at once: at a million events the states take a few hundred megabytes,
// and holding them all, with bbolt's copy of each, at the same time would
// add as much again to the process's peak memory.
var checkpointGroupBytes = 64 << 20 // a variable for tests

// checkpointMany durably records the state and position of each named
// projection, so a restart resumes exactly after the last event each
// folded. The states are marshalled a few at a time (as many as there are
// workers, on every core) and stored in groups of about
// checkpointGroupBytes, each group in one transaction (each checkpoint is
// whole on its own): the process holds a group and the states being
// marshalled, never every state at once, even when no size is known yet
// (the first checkpoint after a replay from zero). It returns once they
// (and every snapshot and checkpoint handed to the writer before) are
// stored.
func (e *Engine) checkpointMany(names []string) error {
	if len(names) == 0 {
		return e.flushWrites()
	}
	var group []checkpointed
	bytes := 0
	for start := 0; start < len(names); start += workers {
		wave, err := e.marshalCheckpoints(names[start:min(start+workers, len(names))])
		if err != nil {
			return err
		}
		for _, c := range wave {
			if len(group) > 0 && bytes+len(c.w.state) > checkpointGroupBytes {
				if err := e.storeCheckpoints(group); err != nil {
					return err
				}
				group, bytes = nil, 0
			}
			group = append(group, c)
			bytes += len(c.w.state)
		}
	}
	return e.storeCheckpoints(group)
}

// checkpointed is a projection's checkpoint, marshalled, to store.
type checkpointed struct {
	r *running
	w cpWrite
}

// marshalCheckpoints marshals the states of names on every core.
func (e *Engine) marshalCheckpoints(names []string) ([]checkpointed, error) {
	out := make([]checkpointed, len(names))
	errs := make([]error, len(names))
	parallel(len(names), func(i int) {
		name := names[i]
		r := e.projs[name]
		r.mu.RLock()
		state, err := r.proj.MarshalState()
		pos, version := r.pos, r.proj.Version()
		r.mu.RUnlock()
		if err != nil {
			errs[i] = fmt.Errorf("checkpoint %s: %w", name, err)
			return
		}
		out[i] = checkpointed{r, cpWrite{name: name, version: version, pos: pos, state: state}}
	})
	return out, errors.Join(errs...)
}

// storeCheckpoints stores a group of checkpoints in one transaction.
func (e *Engine) storeCheckpoints(group []checkpointed) error {
	w := pendingWrite{cps: make([]cpWrite, len(group))}
	states := make([][]byte, len(group))
	for i, c := range group {
		w.cps[i], states[i] = c.w, c.w.state
	}
	if e.storing != nil {
		e.storing(states)
	}
	sortedCheckpoints(w.cps)
	if err := e.writeWait(w); err != nil {
		return fmt.Errorf("checkpoint projections: %w", err)
	}
	now := time.Now()
	for _, c := range group {
		c.r.mu.Lock()
		c.r.lastCP, c.r.cpAt, c.r.cpSize = c.w.pos, now, len(c.w.state)
		c.r.mu.Unlock()
	}
	return nil
}

// checkpoint records one projection's checkpoint.
func (e *Engine) checkpoint(r *running, name string) error {
	return e.checkpointMany([]string{name})
}

// Status returns every projection's progress.
func (e *Engine) Status(ctx context.Context) []Status {
	head, err := e.store.Head(ctx)
	if err != nil {
		e.mu.RLock()
		head = e.head
		e.mu.RUnlock()
	}
	out := make([]Status, 0, len(e.order))
	for _, name := range e.order {
		r := e.projs[name]
		r.mu.RLock()
		s := Status{Name: name, Position: r.pos, Head: head, Failure: r.failure}
		r.mu.RUnlock()
		if head > s.Position {
			s.Lag = head - s.Position
		}
		out = append(out, s)
	}
	return out
}

// Retry clears a projection's failure so it resumes from the event it
// stopped at (after the cause was fixed, e.g. by a new build).
func (e *Engine) Retry(name string) error {
	r, ok := e.projs[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownProjection, name)
	}
	r.mu.Lock()
	r.failure = nil
	r.mu.Unlock()
	return nil
}

// View calls fn with the live projection named name, holding its read
// lock: fn must not keep the projection after returning. It returns the
// position the projection has reached.
func (e *Engine) View(name string, fn func(p Projection) error) (uint64, error) {
	r, ok := e.projs[name]
	if !ok {
		return 0, fmt.Errorf("%w: %s", ErrUnknownProjection, name)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.pos, fn(r.proj)
}

// ViewAt calls fn with the live projection named name, read-locked, when
// it stands exactly at position pos, and reports whether it did: a reading
// as of the position the live view is at needs no fold (the next page of
// a list read live, say). Returns ErrUnknownProjection for an unknown name.
func (e *Engine) ViewAt(name string, pos uint64, fn func(p Projection) error) (bool, error) {
	r, ok := e.projs[name]
	if !ok {
		return false, fmt.Errorf("%w: %s", ErrUnknownProjection, name)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.pos != pos {
		return false, nil
	}
	return true, fn(r.proj)
}

// ViewPast calls fn with the projection named name as known at position
// pos, read in place (Lensed.Lens) in the live projection, read-locked,
// when that is Lensed and has folded pos; it reports whether it did. fn
// must not keep the projection. Returns ErrUnknownProjection for an
// unknown name.
func (e *Engine) ViewPast(name string, pos uint64, fn func(p Projection) error) (bool, error) {
	r, ok := e.projs[name]
	if !ok {
		return false, fmt.Errorf("%w: %s", ErrUnknownProjection, name)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	l, ok := r.proj.(Lensed)
	if !ok || r.pos < pos {
		return false, nil
	}
	p := l.Lens(pos)
	err := fn(p)
	if rel, ok := p.(Releaser); ok {
		rel.Release()
	}
	return true, err
}

// CanViewPast reports whether ViewPast answers the projection named name
// at pos now. Once it does, it goes on doing so unless the projection is
// rebuilt (ViewPast then reports false).
func (e *Engine) CanViewPast(name string, pos uint64) bool {
	r, ok := e.projs[name]
	if !ok {
		return false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok = r.proj.(Lensed)
	return ok && r.pos >= pos
}

// versionedAt returns, when r's projection is Versioned, its state as of
// pos, or as of the position it has folded when that is before pos (the
// caller folds the rest), and that position.
func (r *running) versionedAt(pos uint64) (Projection, uint64, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.proj.(Versioned)
	if !ok {
		return nil, 0, false
	}
	at := min(pos, r.pos)
	return v.At(at), at, true
}

// AsOf returns a fresh projection named name holding the state as known at
// position pos: the nearest stored snapshot at or before pos, plus the
// events after it up to pos (a Versioned projection's state looked up). Its state equals folding events 1..pos from
// zero.
func (e *Engine) AsOf(ctx context.Context, name string, pos uint64) (Projection, error) {
	r, ok := e.projs[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownProjection, name)
	}
	head, err := e.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if pos > head {
		return nil, fmt.Errorf("%w: position %d, head %d", ErrFutureAsOf, pos, head)
	}
	if p, at, ok := r.versionedAt(pos); ok {
		if err := FoldAll(ctx, e.store, e.codec, []Projection{p}, []uint64{at + 1}, pos); err != nil {
			return nil, err
		}
		return p, nil
	}
	p := r.factory()
	from, stored := uint64(1), 0
	if snapPos, state, size, ok := e.nearestSnapshot(name, p.Version(), pos); ok {
		if err := p.UnmarshalState(state); err == nil {
			from, stored = snapPos+1, size
		} else {
			p = r.factory()
		}
	}
	if err := FoldAll(ctx, e.store, e.codec, []Projection{p}, []uint64{from}, pos); err != nil {
		return nil, err
	}
	e.keepSnapshot(p, from, pos, stored)
	return p, nil
}

// AsOfAll is AsOf for several projections at once: each starts from its
// own nearest snapshot, and the events after the earliest of them are read
// and decoded once for all. The result maps each name to its projection.
func (e *Engine) AsOfAll(ctx context.Context, names []string, pos uint64) (map[string]Projection, error) {
	return e.asOfAll(ctx, names, pos, true)
}

// asOfAll is AsOfAll; keep says whether a long fold may be kept as a
// snapshot, which is marshalled beside the caller's reading: a caller that
// goes on changing the projections (AsCorrectedAll) must not let it.
func (e *Engine) asOfAll(ctx context.Context, names []string, pos uint64, keep bool) (map[string]Projection, error) {
	head, err := e.store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if pos > head {
		return nil, fmt.Errorf("%w: position %d, head %d", ErrFutureAsOf, pos, head)
	}
	out := make(map[string]Projection, len(names))
	ps := make([]Projection, len(names))
	froms := make([]uint64, len(names))
	stored := make([]int, len(names))
	for _, name := range names {
		if _, ok := e.projs[name]; !ok {
			return nil, fmt.Errorf("%w: %s", ErrUnknownProjection, name)
		}
	}
	// Each from its nearest snapshot, read and decoded on every core.
	parallel(len(names), func(i int) {
		r := e.projs[names[i]]
		if p, at, ok := r.versionedAt(pos); ok {
			ps[i], froms[i] = p, at+1
			return
		}
		p := r.factory()
		from := uint64(1)
		if snapPos, state, size, ok := e.nearestSnapshot(names[i], p.Version(), pos); ok {
			if err := p.UnmarshalState(state); err == nil {
				from, stored[i] = snapPos+1, size
			} else {
				p = r.factory()
			}
		}
		ps[i], froms[i] = p, from
	})
	for i, name := range names {
		out[name] = ps[i]
	}
	if err := FoldAll(ctx, e.store, e.codec, ps, froms, pos); err != nil {
		return nil, err
	}
	for i, p := range ps {
		if keep {
			e.keepSnapshot(p, froms[i], pos, stored[i])
		}
	}
	return out, nil
}

// keepSnapshot stores p's state at pos as a snapshot when answering cost
// a long fold (from its nearest snapshot at from-1, which took stored
// bytes; 0 for none), so the next reading near pos is quick: snapshots
// are also made on demand, where readers look. A fold no longer than the
// spacing the nearest snapshot's size calls for keeps nothing, and is not
// marshalled to find that out (states grow, so a state at pos is spaced
// at least as widely as the one before it). A failure only costs speed;
// it is logged.
func (e *Engine) keepSnapshot(p Projection, from, pos uint64, stored int) {
	if _, ok := p.(Versioned); ok {
		return
	}
	if pos < from || pos-from+1 < 4*e.opts.SnapshotEvery || pos-from+1 < e.spacing(stored) {
		return
	}
	// Marshalling a large state costs the reader as much as the fold it
	// saves the next one: it is done beside the reading (which only reads
	// p too), one at a time; when one is already being kept, this one is
	// skipped.
	if !e.keeping.CompareAndSwap(false, true) {
		return
	}
	e.keepers.Add(1)
	go func() {
		defer e.keepers.Done()
		defer e.keeping.Store(false)
		state, err := p.MarshalState()
		var packed []byte
		if err == nil {
			packed = packState(state)
			if pos-from+1 < e.spacing(len(packed)) {
				return
			}
			err = e.db.Update(func(tx *bolt.Tx) error { return putSnapshot(tx, p.Name(), p.Version(), pos, packed) })
		}
		if err != nil && !errors.Is(err, bolt.ErrDatabaseNotOpen) {
			e.log.Warn("projection snapshot on demand failed", "projection", p.Name(), "position", pos, "err", err)
		}
	}()
}

// FoldAll folds events into several projections in one pass up to to
// (inclusive): projection i receives the events from froms[i] on that it
// wants (Selective; all when it is not). Each event is read once, and
// decoded once if any of them wants it.
func FoldAll(ctx context.Context, store eventstore.Store, codec *domain.Codec, ps []Projection, froms []uint64, to uint64) error {
	if len(ps) != len(froms) {
		return errors.New("projections: FoldAll needs one start per projection")
	}
	wants := wantsOf(ps)
	from := to + 1
	for _, f := range froms {
		from = min(from, f)
	}
	for from <= to {
		limit := 4096
		if to-from+1 < uint64(limit) {
			limit = int(to - from + 1)
		}
		recs, err := store.ReadAll(ctx, from, limit)
		if err != nil {
			return fmt.Errorf("fold from %d: %w", from, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for i, rec := range recs {
			if rec.Position > to {
				recs = recs[:i]
				break
			}
		}
		if len(recs) == 0 {
			return nil
		}
		next := recs[len(recs)-1].Position + 1
		recs = wanted(recs, wants, froms)
		msgs, errs := decodeBatch(codec, recs)
		for i, err := range errs {
			if err != nil {
				return fmt.Errorf("fold at position %d: %w", recs[i].Position, err)
			}
		}
		// Each projection on one core, every event it wants in order.
		fails := make([]error, len(ps))
		parallel(len(ps), func(j int) {
			p, w := ps[j], wants[j]
			for i, m := range msgs {
				if m.Position < froms[j] || (w != nil && !w(recs[i].Type, recs[i].StreamID)) {
					continue
				}
				if err := p.Apply(m); err != nil {
					fails[j] = fmt.Errorf("fold %s at position %d (%s %s): %w", p.Name(), m.Position, recs[i].Type, recs[i].ID, err)
					return
				}
			}
		})
		for _, err := range fails {
			if err != nil {
				return err
			}
		}
		from = next
	}
	return nil
}

// AsOfTime is AsOf at the last position recorded at or before t.
func (e *Engine) AsOfTime(ctx context.Context, name string, t time.Time) (Projection, uint64, error) {
	pos, err := e.store.PositionAt(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	p, err := e.AsOf(ctx, name, pos)
	return p, pos, err
}

// nearestSnapshot returns the last snapshot of projection name at or
// before pos, if its snapshots are of version: its position, its state
// (the caller's) and the bytes it takes stored.
func (e *Engine) nearestSnapshot(name string, version int, pos uint64) (at uint64, state []byte, stored int, ok bool) {
	e.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots).Bucket([]byte(name))
		if b == nil || string(b.Get([]byte("version"))) != fmt.Sprint(version) {
			return nil
		}
		c := b.Cursor()
		k, _ := c.Seek(posKey(pos + 1))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for k != nil && len(k) != 8 {
			k, _ = c.Prev()
		}
		if k != nil {
			at = binary.BigEndian.Uint64(k)
			v, size, owned := getState(b, k)
			if owned {
				state = v
			} else if v != nil {
				state = append([]byte(nil), v...)
			}
			stored = size
		}
		return nil
	})
	return at, state, stored, state != nil && at <= pos
}

// Rebuild folds projection name from zero into a fresh state up to the
// current head, reporting progress, and replaces the live one with it
// (checkpoint included). Snapshots are rewritten as the fold passes them.
func (e *Engine) Rebuild(ctx context.Context, name string, progress func(done, total uint64)) error {
	r, ok := e.projs[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownProjection, name)
	}
	head, err := e.store.Head(ctx)
	if err != nil {
		return err
	}
	// Snapshots handed to the writer are stored before the old ones are
	// dropped, not after.
	if err := e.flushWrites(); err != nil {
		return err
	}
	if err := e.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketSnapshots).Bucket([]byte(name)) != nil {
			return tx.Bucket(bucketSnapshots).DeleteBucket([]byte(name))
		}
		return nil
	}); err != nil {
		return err
	}
	fresh := &running{factory: r.factory, proj: r.factory(), cpAt: time.Now()}
	if l, ok := fresh.proj.(Live); ok {
		l.Live() // it replaces the live one
	}
	fresh.nextSnap = firstSnapshot(fresh.proj)
	err = Fold(ctx, e.store, e.codec, fresh.proj, 1, head, func(m domain.Message) {
		fresh.pos = m.Position
		if m.Position >= fresh.nextSnap && m.Position%e.opts.SnapshotEvery == 0 {
			if size, err := e.snapshot(fresh, name); err == nil {
				fresh.nextSnap = m.Position + e.spacing(size)
			}
		}
		if progress != nil && (m.Position%4096 == 0 || m.Position == head) {
			progress(m.Position, head)
		}
	})
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", name, err)
	}
	// Events the live projection folded while we rebuilt: fold them too,
	// holding its lock so none slips between the two.
	r.mu.Lock()
	pos := head
	if r.pos > head {
		if err := Fold(ctx, e.store, e.codec, fresh.proj, head+1, r.pos, nil); err != nil {
			r.mu.Unlock()
			return fmt.Errorf("rebuild %s: %w", name, err)
		}
		pos = r.pos
	}
	r.proj, r.pos, r.failure = fresh.proj, pos, nil
	r.mu.Unlock()
	return e.checkpoint(r, name)
}

// Fold applies events from..to (inclusive) to p in order, calling after
// (if not nil) after each event. Nothing is folded when to < from.
func Fold(ctx context.Context, store eventstore.Store, codec *domain.Codec, p Projection, from, to uint64, after func(domain.Message)) error {
	for from <= to {
		limit := 4096
		if to-from+1 < uint64(limit) {
			limit = int(to - from + 1)
		}
		recs, err := store.ReadAll(ctx, from, limit)
		if err != nil {
			return fmt.Errorf("fold %s from %d: %w", p.Name(), from, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			m, err := codec.Decode(domainlog.ToDomain(rec))
			if err != nil {
				return fmt.Errorf("fold %s: %w", p.Name(), err)
			}
			if err := p.Apply(m); err != nil {
				return fmt.Errorf("fold %s at position %d (%s %s): %w", p.Name(), rec.Position, rec.Type, rec.ID, err)
			}
			if after != nil {
				after(m)
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
	return nil
}

// FoldCorrected folds into p the whole log as known now with every
// correction applied ("as corrected now"), read at moment until (zero: no
// limit, every correction applied): each corrected event is folded as its
// correction says where the correction's effective period (from its
// EffectiveFrom; the last recorded of those started by until applies)
// covers until, and as recorded elsewhere (domain.ApplyCorrectionsAt);
// then only events that took effect at or before until are kept.
// Corrected events are folded at their original place in the order;
// retracted events are left out where their retraction applies.
func FoldCorrected(ctx context.Context, store eventstore.Store, codec *domain.Codec, p Projection, until time.Time) (uint64, error) {
	return FoldCorrectedAll(ctx, store, codec, []Projection{p}, until)
}

// FoldCorrectedAll is FoldCorrected for several projections in one pass.
func FoldCorrectedAll(ctx context.Context, store eventstore.Store, codec *domain.Codec, ps []Projection, until time.Time) (uint64, error) {
	head, err := store.Head(ctx)
	if err != nil {
		return 0, err
	}
	// First pass: the correction of each corrected event that applies at
	// until (the last recorded of those whose period has started).
	fixes := map[[16]byte]domain.EventCorrected{}
	err = scan(ctx, store, head, func(rec eventstore.RecordedEvent) error {
		if rec.Type != "EventCorrected" {
			return nil
		}
		m, err := codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			return err
		}
		c := m.Event.(domain.EventCorrected)
		if until.IsZero() || !c.EffectiveFrom.After(until) {
			fixes[c.Corrects] = c
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Second pass: batches decoded on every core, corrections applied,
	// then each projection folded on one core, every event in order.
	for from := uint64(1); from <= head; {
		recs, err := store.ReadAll(ctx, from, 4096)
		if err != nil {
			return 0, fmt.Errorf("fold as corrected from %d: %w", from, err)
		}
		for i, rec := range recs {
			if rec.Position > head {
				recs = recs[:i]
				break
			}
		}
		if len(recs) == 0 {
			break
		}
		if err := foldCorrected(codec, ps, recs, fixes, until); err != nil {
			return 0, err
		}
		from = recs[len(recs)-1].Position + 1
	}
	return head, err
}

func scan(ctx context.Context, store eventstore.Store, head uint64, fn func(eventstore.RecordedEvent) error) error {
	return scanFrom(ctx, store, 1, head, fn)
}
