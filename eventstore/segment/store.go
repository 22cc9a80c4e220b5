// Package segment is Concord's default embedded event store: an
// append-only log of preallocated segment files with group commit, indexed
// in bbolt off the acknowledgement path.
//
// The log is the truth. Every acknowledged event is a CRC-framed canonical
// record (eventstore.EncodeCanonical) in a segment file that was
// fdatasync'ed before Append returned. The bbolt index (index.bolt) and the
// in-memory tail of not yet indexed events only make the log fast to read;
// both are rebuilt from the log when needed. docs/storage.md describes the
// on-disk format, the acknowledgement contract and recovery.
//
// Invariants, relied on throughout:
//
//   - positions are dense: the log holds records 1..head in order, each
//     segment's records continue the previous segment's;
//   - only the committer goroutine writes segments, and it publishes a
//     group (head, tail, notifications) only after its fdatasync;
//   - recorded times never decrease with position;
//   - the index covers positions 1..indexed, indexed <= head, and the
//     in-memory tail holds exactly positions indexed+1..head; an event
//     leaves the tail only after the index transaction holding it has
//     committed, so every lookup that checks the tail first and the index
//     second sees every published event.
package segment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/mapped"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

var _ eventstore.Store = (*Store)(nil)

// Defaults for Options.
const (
	DefaultSegmentSize   = 256 << 20
	DefaultIndexInterval = 100 * time.Millisecond
)

// MinSegmentSize is the smallest SegmentSize accepted (tests use small
// segments to exercise rolling).
const MinSegmentSize = 4 << 10

// Index lag limits: the committer wakes the indexer early once
// kickIndexLag events wait in memory for the index, and stops committing
// (back-pressure) while maxIndexLag do, which bounds the tail's memory.
const (
	kickIndexLag = 1 << 15
	maxIndexLag  = 1 << 18
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// MaxEventSize is the largest canonical event accepted, in bytes
	// (default eventstore.DefaultMaxEventSize; at most 16 MiB minus 8).
	// All events of one Append together may take at most 16 MiB on disk.
	MaxEventSize int
	// SegmentSize is the size new segment files are preallocated to
	// (default 256 MiB, at least MinSegmentSize). A segment holding one
	// record larger than this is made as large as that record.
	SegmentSize int64
	// IndexInterval is how often the indexer commits newly acknowledged
	// events to the bbolt index (default 100ms). Until then they are
	// served from memory.
	IndexInterval time.Duration
	// Now is the clock that stamps RecordedAt (default time.Now). The
	// store never records a time earlier than the previous event's.
	Now func() time.Time
	// Logger receives warnings about recovery and the index (default
	// slog.Default()).
	Logger *slog.Logger
	// CutDamagedTail makes recovery cut the last segment at a damaged
	// record even when complete records follow it, or data lies beyond
	// the reach of one unfinished write. DANGEROUS: it DROPS RECORDS THAT
	// MAY HAVE BEEN ACKNOWLEDGED. Without it Open fails with a
	// *DamagedTailError and changes nothing. Only for an operator's
	// explicit repair (concord repair --cut), never in a server.
	CutDamagedTail bool
	// RepairHint is the command an operator runs to cut a damaged tail,
	// quoted in a *DamagedTailError (e.g. "concord repair --data DIR --cut").
	RepairHint string
	// DeferSync, DANGEROUS: Append returns once its group is written to
	// the segment, BEFORE it is fdatasync'ed. The store syncs when
	// DeferSyncInterval has passed since the last sync, before the
	// unsynced bytes would exceed 16 MiB, when it rolls to a new segment
	// and on Close. An acknowledged event then survives the process being
	// killed (the page cache holds it) but NOT an OS crash or power loss
	// before the next sync: at most 16 MiB are ever unsynced, so recovery
	// then cuts them as a torn write, or, when page write-back left
	// complete records after a hole, refuses until an operator cuts the
	// log (CutDamagedTail). Only for bulk loads that can be redone, such
	// as generating the demo ledger; never for a live ledger.
	DeferSync bool
	// DeferSyncInterval is the longest time between syncs with DeferSync
	// (default 1s).
	DeferSyncInterval time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxEventSize <= 0 {
		o.MaxEventSize = eventstore.DefaultMaxEventSize
	}
	if o.MaxEventSize > maxPayload {
		return o, fmt.Errorf("segment: MaxEventSize %d exceeds the limit of %d bytes", o.MaxEventSize, maxPayload)
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SegmentSize < MinSegmentSize {
		return o, fmt.Errorf("segment: SegmentSize %d is below the minimum of %d bytes", o.SegmentSize, MinSegmentSize)
	}
	if o.IndexInterval <= 0 {
		o.IndexInterval = DefaultIndexInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DeferSyncInterval <= 0 {
		o.DeferSyncInterval = time.Second
	}
	return o, nil
}

// Store is the segment-log event store. It implements eventstore.Store;
// all methods are safe for concurrent use. Only one Store may have a
// directory open at a time (enforced with a lock file).
type Store struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File
	idx  *index

	// segs is the list of segment files, replaced (never modified) by the
	// committer when it rolls to a new segment.
	segs atomic.Pointer[[]*segment]

	// Owned by the committer goroutine. Only the segment being written
	// can hold data not yet synced, and at most one group's worth
	// (maxAppendBytes): the committer writes a group only once the
	// previous one is synced.
	wseg     *segment // segment being written
	woff     int64    // offset of the end of its data
	wcap     int64    // its preallocated size
	wzeroed  int64    // its bytes before this offset have been written (data or zeros)
	lastTime time.Time
	// With DeferSync: the bytes written to wseg since its last sync, and
	// when that was. Owned by whichever of the committer and the syncer
	// holds the turn (syncFree): the committer while it writes, the
	// syncer while it syncs.
	unsynced int64
	syncedAt time.Time

	reqs       chan *request
	stopCommit chan struct{}
	commitDone chan struct{}
	syncCh     chan *group   // committer -> syncer
	syncDone   chan struct{} // closed when the syncer has stopped
	syncFree   chan struct{} // holds the token while the syncer is idle
	kickIndex  chan struct{}
	stopIndex  chan struct{}
	indexDone  chan struct{}
	done       chan struct{} // closed by Close: ends subscriptions

	// indexMu makes index commits one at a time.
	indexMu sync.Mutex

	// mu guards the published state.
	mu          sync.RWMutex
	head        uint64
	indexed     uint64
	tail        tailLog              // positions indexed+1..head
	tailIDs     map[uuid.UUID]uint64 // event id -> position, for the tail
	tailStreams map[string][]uint64  // stream -> positions in the tail, in order
	notify      chan struct{}        // closed and replaced at each publication
	// heads caches the last revision (-1: none) of streams appended to
	// or looked up since Open; see setHead and learnHead.
	heads map[string]int64
	// The ID filters: idsLive holds every event published since Open,
	// idsOld (nil until built, in the background) every event the log held
	// at Open. See mayBeStored.
	idsLive idFilter
	idsOld  *idFilter
	// oldFilterDone is closed once building idsOld has ended.
	oldFilterDone chan struct{}
	// publishedSeq is the sequence number of the last group published.
	publishedSeq atomic.Uint64
	indexedCh    chan struct{} // closed and replaced when indexed advances

	// failed is the sticky error of a failed write: once set, no append is
	// accepted, because the log's end is no longer known.
	failed atomic.Pointer[error]

	life    sync.Mutex
	closed  bool
	appends sync.WaitGroup // Append calls in flight
	ops     sync.WaitGroup // other calls and subscriptions in flight

	stats struct {
		appends, events, groups, syncs, lastBatch atomic.Uint64
		// indexLookups counts appends that had to read the index (an ID
		// the filters could not rule out, or a stream not seen since Open).
		indexLookups atomic.Uint64
	}
	// lastSync is how long the last group's fdatasync took (ns), which
	// bounds how long the committer lingers for callers to come back.
	lastSync atomic.Int64
	// answeredAt is when (monoNow) the syncer last answered a group's
	// callers: a request queued since is one of them come back, or new.
	answeredAt atomic.Int64
}

// tailEntry is a published event not yet in the index, and where its
// record starts in its segment.
type tailEntry struct {
	ev  eventstore.RecordedEvent
	off int64
}

// Open opens the store in dir, creating dir if needed (mode 0700; an
// existing one is tightened to 0700 with its files 0600), and recovers it:
// it checks the index, scans the log from the last indexed position, cuts
// a torn tail (an incomplete last write) and indexes what the index lacks.
// A missing or unusable index is rebuilt from the log, with a warning.
//
// Returns an error wrapping eventstore.ErrCorrupt if the log is damaged
// anywhere but at its tail: recovery refuses to drop data that may have
// been acknowledged. Damage in the last segment that complete records
// follow is a *DamagedTailError (see Options.CutDamagedTail). Returns the
// context's error if ctx ends first.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("segment: open %s: %w", dir, err)
	}
	if err := tighten(dir); err != nil {
		return nil, fmt.Errorf("segment: open %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("segment: open %s: %w", dir, err)
	}
	s := &Store{
		dir:           dir,
		opts:          opts,
		log:           opts.Logger,
		lock:          lock,
		reqs:          make(chan *request, 1024),
		stopCommit:    make(chan struct{}),
		commitDone:    make(chan struct{}),
		syncCh:        make(chan *group, 1),
		syncDone:      make(chan struct{}),
		syncFree:      make(chan struct{}, 1),
		kickIndex:     make(chan struct{}, 1),
		stopIndex:     make(chan struct{}),
		indexDone:     make(chan struct{}),
		done:          make(chan struct{}),
		tailIDs:       make(map[uuid.UUID]uint64),
		tailStreams:   make(map[string][]uint64),
		heads:         make(map[string]int64),
		oldFilterDone: make(chan struct{}),
		notify:        make(chan struct{}),
		indexedCh:     make(chan struct{}),
	}
	if err := s.recover(ctx); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("segment: open %s: %w", dir, err)
	}
	s.syncFree <- struct{}{}
	if s.head == 0 {
		s.idsOld = &idFilter{}
		close(s.oldFilterDone)
	} else {
		s.ops.Add(1)
		go s.buildOldFilter(s.head)
	}
	go s.commitLoop()
	go s.indexLoop()
	return s, nil
}

// buildOldFilter fills the ID filter of the events the log held at Open
// (positions 1..head, all indexed by recovery) from the index, in the
// background: until it is done, appends look every ID up in the index.
// A store of a million events takes a fraction of a second. It gives up
// when the store closes.
func (s *Store) buildOldFilter(head uint64) {
	defer s.ops.Done()
	defer close(s.oldFilterDone)
	f := &idFilter{}
	err := s.idx.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIDs).Cursor()
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if n++; n%65536 == 0 {
				select {
				case <-s.done:
					return eventstore.ErrClosed
				default:
				}
			}
			if pos, _, ok := decodeLoc(v); !ok || len(k) != 16 {
				return fmt.Errorf("%w: index entry for event %x", eventstore.ErrCorrupt, k)
			} else if pos <= head {
				f.add(uuid.UUID(k))
			}
		}
		return nil
	})
	if err != nil {
		if !errors.Is(err, eventstore.ErrClosed) {
			s.log.Warn("segment store: cannot build the ID filter; appends will look every ID up in the index", "dir", s.dir, "err", err)
		}
		return
	}
	s.mu.Lock()
	s.idsOld = f
	s.mu.Unlock()
	// The scan read every page of the IDs' bucket through bbolt's mapping
	// (at a million events about 130 MB, held resident for as long as the
	// process ran, though the filter now answers for them).
	if err := mapped.Drop(s.idx.db); err != nil {
		s.log.Warn("segment store: the index's pages read for the ID filter not dropped", "dir", s.dir, "err", err)
	}
}

// lockDir takes an exclusive lock on dir/LOCK, held until Close.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock: directory is in use by another store: %w", err)
	}
	return f, nil
}

// closeFiles closes whatever Open or recovery opened.
func (s *Store) closeFiles() error {
	var errs []error
	if s.idx != nil {
		if err := s.idx.db.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if p := s.segs.Load(); p != nil {
		for _, sg := range *p {
			if err := sg.close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if s.lock != nil {
		s.lock.Close()
	}
	return errors.Join(errs...)
}

// enter registers a call; it reports false once the store is closed.
func (s *Store) enter(wg *sync.WaitGroup) bool {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return false
	}
	wg.Add(1)
	return true
}

// Close flushes every Append in flight, stops the committer, commits the
// index a last time (synced and marked clean), ends subscriptions with
// ErrClosed and closes the files. Later calls, Close included, return
// ErrClosed.
func (s *Store) Close() error {
	s.life.Lock()
	if s.closed {
		s.life.Unlock()
		return eventstore.ErrClosed
	}
	s.closed = true
	s.life.Unlock()

	s.appends.Wait() // their groups commit: the committer still runs
	close(s.stopCommit)
	<-s.commitDone
	close(s.stopIndex)
	<-s.indexDone
	close(s.done)
	s.ops.Wait()

	var errs []error
	err := s.indexOnce()
	if err != nil {
		errs = append(errs, fmt.Errorf("segment: close: final index commit: %w", err))
	}
	if cerr := s.idx.close(err == nil); cerr != nil {
		errs = append(errs, fmt.Errorf("segment: close: %w", cerr))
	}
	s.idx = nil
	if err := s.closeFiles(); err != nil {
		errs = append(errs, fmt.Errorf("segment: close: %w", err))
	}
	return errors.Join(errs...)
}

// Stats are counters for metrics, since Open.
type Stats struct {
	Appends       uint64 // Append calls that succeeded (idempotent ones included)
	Events        uint64 // events written
	Groups        uint64 // groups written (one write each, more when one crosses a segment end)
	Syncs         uint64 // fdatasync calls on segments (at most one per group, more when rolling)
	LastSyncCalls uint64 // Append calls acknowledged by the last fdatasync
	IndexLookups  uint64 // appends that read the index (see docs/storage.md)
	Head          uint64 // last acknowledged position
	Indexed       uint64 // last position in the bbolt index
	IndexLag      uint64 // Head - Indexed: events served from memory
	Segments      int    // segment files
}

// Stats returns the store's counters. It is cheap and safe to call at any
// time, also after Close. Every Append that has returned is counted (the
// counters are updated before the caller is answered); an Append still in
// flight may already be counted.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	head, indexed := s.head, s.indexed
	s.mu.RUnlock()
	st := Stats{
		Appends:       s.stats.appends.Load(),
		Events:        s.stats.events.Load(),
		Groups:        s.stats.groups.Load(),
		Syncs:         s.stats.syncs.Load(),
		LastSyncCalls: s.stats.lastBatch.Load(),
		IndexLookups:  s.stats.indexLookups.Load(),
		Head:          head,
		Indexed:       indexed,
		IndexLag:      head - indexed,
	}
	if p := s.segs.Load(); p != nil {
		st.Segments = len(*p)
	}
	return st
}

// Dir returns the directory the store keeps its files in.
func (s *Store) Dir() string { return s.dir }
