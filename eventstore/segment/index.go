package segment

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// The index is a bbolt file (index.bolt) that makes old events findable
// without scanning the log. It is a cache of the log, never the truth:
//
//   - it is written off the acknowledgement path by the indexer goroutine,
//     and only with events already durable in the log, so it never knows
//     of an event the log does not hold;
//   - it is committed with NoSync. That is safe ONLY because it can be
//     rebuilt from the log: after a clean Close it is synced and marked
//     clean; after a process crash the page cache still holds every
//     committed page, so it is trusted if it was written during the
//     running boot (bootID); after an OS crash or power loss it may hold
//     torn pages, so it is deleted and rebuilt from the log;
//   - meta/last names the last position it covers and where that record
//     starts; recovery checks that record and scans the log from there.
//
// Buckets and their keys (integers big-endian):
//
//	meta       "last" -> u64 position | u64 offset of its record in its segment
//	           "boot" -> boot id of the last writer; "clean" -> present after Close
//	streams    stream id | 0x00 | u64 first revision -> n × (u64 position | u64 offset),
//	           the locations of revisions first..first+n-1 (a run of the
//	           stream's events indexed together; a stream's last run gives
//	           its head)
//	ids        16-byte event id -> u64 position | u64 offset
//	positions  u64 position -> u64 offset, for every sparseEvery-th position
//	times      u64 seconds since 0001-01-01 | u32 nanos | u64 position -> u64 offset,
//	           for the same sparse positions (recorded times never decrease
//	           with position, so this is ordered like positions)
var (
	bucketMeta      = []byte("meta")
	bucketStreams   = []byte("streams")
	bucketIDs       = []byte("ids")
	bucketPositions = []byte("positions")
	bucketTimes     = []byte("times")

	keyLast    = []byte("last")
	keyBoot    = []byte("boot")
	keyClean   = []byte("clean")
	keyVersion = []byte("version")
)

const (
	indexFile = "index.bolt"
	// indexVersion 2 keeps a stream's locations in runs (one key per
	// stream per index commit) and has no heads bucket; an index of
	// version 1 is rebuilt from the log.
	indexVersion = 2
	// maxRun bounds the revisions one streams entry holds (64 KiB).
	maxRun = 4096
	// sparseEvery spaces the positions and times entries: a lookup reads
	// at most sparseEvery-1 records forward from the entry it finds.
	sparseEvery = 64
)

// errIndexUnusable marks an index that must be rebuilt from the log.
var errIndexUnusable = errors.New("index unusable")

type index struct {
	db   *bolt.DB
	path string
}

// indexMeta is what the index says about its coverage.
type indexMeta struct {
	last    uint64 // last position indexed, 0 if none
	lastOff int64  // offset of that position's record
	clean   bool
	boot    string
}

func boltOptions() *bolt.Options {
	return &bolt.Options{
		Timeout:         time.Second,
		NoGrowSync:      true,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 1 << 30,
	}
}

// openIndex opens (or creates) the index at path and returns what it
// covers. An index that cannot be opened or read, or that may hold torn
// pages (unclean shutdown in an earlier boot), is deleted and recreated
// empty, with a warning: recovery then rebuilds it from the log.
//
// Before returning it durably removes the clean mark (twice, so that both
// bbolt meta pages postdate it) and records this boot, then switches the
// database to NoSync.
func openIndex(path string, logger *slog.Logger) (*index, indexMeta, error) {
	x, m, err := tryOpenIndex(path)
	if err != nil {
		if x != nil {
			x.db.Close()
		}
		logger.Warn("segment store: index unusable, rebuilding it from the log", "path", path, "err", err)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, indexMeta{}, fmt.Errorf("remove index: %w", err)
		}
		if x, m, err = tryOpenIndex(path); err != nil {
			if x != nil {
				x.db.Close()
			}
			return nil, indexMeta{}, fmt.Errorf("create index: %w", err)
		}
	}
	boot := bootID()
	for range 2 {
		err := x.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketMeta)
			if err := b.Delete(keyClean); err != nil {
				return err
			}
			return b.Put(keyBoot, []byte(boot))
		})
		if err != nil {
			x.db.Close()
			return nil, indexMeta{}, fmt.Errorf("mark index in use: %w", err)
		}
	}
	x.db.NoSync = true
	return x, m, nil
}

func tryOpenIndex(path string) (x *index, m indexMeta, err error) {
	defer func() {
		if r := recover(); r != nil { // bbolt panics on some corrupt pages
			err = fmt.Errorf("%w: %v", errIndexUnusable, r)
		}
	}()
	db, err := bolt.Open(path, 0o644, boltOptions())
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, m, fmt.Errorf("index %s is locked by another process: %w", path, err)
		}
		return nil, m, fmt.Errorf("%w: %v", errIndexUnusable, err)
	}
	x = &index{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketStreams, bucketIDs, bucketPositions, bucketTimes} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		b := tx.Bucket(bucketMeta)
		if v := b.Get(keyVersion); v == nil {
			if b.Get(keyLast) != nil {
				return fmt.Errorf("%w: no version", errIndexUnusable)
			}
			if err := b.Put(keyVersion, binary.BigEndian.AppendUint32(nil, indexVersion)); err != nil {
				return err
			}
		} else if len(v) != 4 || binary.BigEndian.Uint32(v) != indexVersion {
			return fmt.Errorf("%w: version %x", errIndexUnusable, v)
		}
		if v := b.Get(keyLast); v != nil {
			if len(v) != 16 {
				return fmt.Errorf("%w: bad meta/last", errIndexUnusable)
			}
			m.last, m.lastOff = binary.BigEndian.Uint64(v), int64(binary.BigEndian.Uint64(v[8:]))
		}
		m.clean = b.Get(keyClean) != nil
		m.boot = string(b.Get(keyBoot))
		return nil
	})
	if err != nil {
		return x, m, fmt.Errorf("%w: %v", errIndexUnusable, err)
	}
	if m.last > 0 && !m.clean && (m.boot == "" || m.boot != bootID()) {
		return x, m, fmt.Errorf("%w: not closed cleanly and last written before this boot; it may hold torn pages", errIndexUnusable)
	}
	return x, m, nil
}

// indexEntry is one event to index and where its record starts.
type indexEntry struct {
	ev  *eventstore.RecordedEvent
	off int64
}

// put indexes entries, which continue the positions the index covers, in
// one transaction.
//
// Each stream's events in entries are consecutive revisions (entries are
// in position order and every event of the stream since the index's last
// commit is there), so they go in as one run: one key per stream per
// commit rather than one per event. bbolt inserts into an in-memory node
// by shifting the entries after the new key, and splits nodes only at
// commit, so keys inserted out of order make a large transaction
// quadratic: put sorts each bucket's keys first (positions and times
// already are in order, and are filled to the brim since they only grow).
func (x *index) put(entries []indexEntry) error {
	if len(entries) == 0 {
		return nil
	}
	type kv struct{ k, v []byte }
	// Every key and value lives in one arena: bbolt keeps the slices it is
	// given until commit.
	arena := make([]byte, 0, len(entries)*(16+16+16+20+8))
	alloc := func(n int) []byte {
		if len(arena)+n > cap(arena) {
			arena = make([]byte, 0, max(n, 64<<10))
		}
		b := arena[len(arena) : len(arena)+n : len(arena)+n]
		arena = arena[:len(arena)+n]
		return b
	}
	type run struct {
		first uint64
		locs  []byte
	}
	runs := make(map[string][]run)
	ids := make([]kv, 0, len(entries))
	var positions, times []kv
	for _, e := range entries {
		ev := e.ev
		loc := alloc(16)
		binary.BigEndian.PutUint64(loc, ev.Position)
		binary.BigEndian.PutUint64(loc[8:], uint64(e.off))
		rs := runs[ev.StreamID]
		if n := len(rs); n == 0 || len(rs[n-1].locs) == maxRun*16 || rs[n-1].first+uint64(len(rs[n-1].locs)/16) != ev.Revision {
			rs = append(rs, run{first: ev.Revision})
		}
		r := &rs[len(rs)-1]
		r.locs = append(r.locs, loc...)
		runs[ev.StreamID] = rs
		ik := alloc(16)
		copy(ik, ev.ID[:])
		ids = append(ids, kv{ik, loc})
		if ev.Position%sparseEvery == 1 {
			positions = append(positions, kv{loc[0:8:8], loc[8:16:16]})
			tk := alloc(20)
			timeKey(tk[:0], ev.RecordedAt)
			copy(tk[12:], loc[:8])
			times = append(times, kv{tk, loc[8:16:16]})
		}
	}
	streams := make([]kv, 0, len(runs))
	for stream, rs := range runs {
		for _, r := range rs {
			streams = append(streams, kv{streamKey(nil, stream, r.first), r.locs})
		}
	}
	byKey := func(a, b kv) int { return bytes.Compare(a.k, b.k) }
	slices.SortFunc(streams, byKey)
	slices.SortFunc(ids, byKey)

	return x.db.Update(func(tx *bolt.Tx) error {
		for _, b := range []struct {
			name []byte
			kvs  []kv
			fill float64
		}{
			{bucketStreams, streams, bolt.DefaultFillPercent}, {bucketIDs, ids, bolt.DefaultFillPercent},
			{bucketPositions, positions, 1}, {bucketTimes, times, 1},
		} {
			bk := tx.Bucket(b.name)
			bk.FillPercent = b.fill
			for _, p := range b.kvs {
				if err := bk.Put(p.k, p.v); err != nil {
					return err
				}
			}
		}
		final := entries[len(entries)-1]
		v := binary.BigEndian.AppendUint64(nil, final.ev.Position)
		v = binary.BigEndian.AppendUint64(v, uint64(final.off))
		return tx.Bucket(bucketMeta).Put(keyLast, v)
	})
}

// closeIndex marks the index clean, syncs and closes it. clean is false
// when the log may hold events the index lacks in a way recovery must not
// skip (it never is today, but a failed final put must not mark it clean).
func (x *index) close(clean bool) error {
	var errs []error
	if clean {
		err := x.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyClean, []byte{1})
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("mark index clean: %w", err))
		}
	}
	if err := x.db.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("sync index: %w", err))
	}
	if err := x.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close index: %w", err))
	}
	return errors.Join(errs...)
}

// view runs fn in a read transaction, turning a bbolt panic on a corrupt
// page into an error wrapping eventstore.ErrCorrupt.
func (x *index) view(fn func(tx *bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: index: %v", eventstore.ErrCorrupt, r)
		}
	}()
	return x.db.View(fn)
}

func streamKey(b []byte, stream string, rev uint64) []byte {
	b = append(b, stream...)
	b = append(b, 0)
	return binary.BigEndian.AppendUint64(b, rev)
}

// zeroSeconds is the Unix time of 0001-01-01T00:00:00Z, the earliest time
// a canonical encoding can hold.
const zeroSeconds = -62135596800

func timeKey(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()-zeroSeconds))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

func decodeLoc(v []byte) (pos uint64, off int64, ok bool) {
	if len(v) != 16 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(v), int64(binary.BigEndian.Uint64(v[8:])), true
}

// lookupID returns where the event with id is, if the index has it.
func lookupID(tx *bolt.Tx, id uuid.UUID) (pos uint64, off int64, ok bool, err error) {
	v := tx.Bucket(bucketIDs).Get(id[:])
	if v == nil {
		return 0, 0, false, nil
	}
	if pos, off, ok = decodeLoc(v); !ok {
		return 0, 0, false, fmt.Errorf("%w: index entry for event %s", eventstore.ErrCorrupt, id)
	}
	return pos, off, true, nil
}

// lookupHead returns the stream's last indexed revision, or -1: the end
// of its last run.
func lookupHead(tx *bolt.Tx, stream string) (int64, error) {
	c := tx.Bucket(bucketStreams).Cursor()
	k, v := c.Seek(append([]byte(stream), 1))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	first, ok, err := runKey(k, v, stream)
	if !ok || err != nil {
		return -1, err
	}
	return int64(first) + int64(len(v)/16) - 1, nil
}

// runKey reports whether k is a streams key of stream, and its first
// revision. A key of the stream whose value is not whole locations is
// corrupt.
func runKey(k, v []byte, stream string) (first uint64, ok bool, err error) {
	if len(k) != len(stream)+9 || k[len(stream)] != 0 || string(k[:len(stream)]) != stream {
		return 0, false, nil
	}
	if len(v) == 0 || len(v)%16 != 0 {
		return 0, false, fmt.Errorf("%w: index entry %q", eventstore.ErrCorrupt, k)
	}
	return binary.BigEndian.Uint64(k[len(stream)+1:]), true, nil
}

// streamLocs returns the locations ({position, offset}) of stream's
// indexed revisions from from up to to (inclusive), in revision order, or
// from to down to from when backward; at most limit of them when limit >
// 0.
func streamLocs(tx *bolt.Tx, stream string, from, to uint64, backward bool, limit int) ([][2]uint64, error) {
	if from > to {
		return nil, nil
	}
	var out [][2]uint64
	full := func() bool { return limit > 0 && len(out) >= limit }
	c := tx.Bucket(bucketStreams).Cursor()
	// The run holding a revision r is the last key <= stream|0|r.
	seekRun := func(r uint64) ([]byte, []byte) {
		key := streamKey(nil, stream, r)
		k, v := c.Seek(key)
		if k != nil && bytes.Equal(k, key) {
			return k, v
		}
		if k == nil {
			return c.Last()
		}
		return c.Prev()
	}
	if !backward {
		k, v := seekRun(from)
		if first, ok, err := runKey(k, v, stream); err != nil {
			return nil, err
		} else if !ok || first+uint64(len(v)/16) <= from {
			k, v = c.Next() // from is before the stream's first run, or after the run found
		}
		for ; !full(); k, v = c.Next() {
			first, ok, err := runKey(k, v, stream)
			if err != nil {
				return nil, err
			}
			if !ok || first > to {
				break
			}
			for i := 0; i < len(v)/16 && !full(); i++ {
				if r := first + uint64(i); r >= from && r <= to {
					out = append(out, [2]uint64{binary.BigEndian.Uint64(v[16*i:]), binary.BigEndian.Uint64(v[16*i+8:])})
				}
			}
		}
		return out, nil
	}
	for k, v := seekRun(to); !full(); k, v = c.Prev() {
		first, ok, err := runKey(k, v, stream)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		for i := len(v)/16 - 1; i >= 0 && !full(); i-- {
			if r := first + uint64(i); r >= from && r <= to {
				out = append(out, [2]uint64{binary.BigEndian.Uint64(v[16*i:]), binary.BigEndian.Uint64(v[16*i+8:])})
			}
		}
		if first <= from {
			break
		}
	}
	return out, nil
}

// indexedLast returns the last position the transaction's view covers.
func indexedLast(tx *bolt.Tx) uint64 {
	if v := tx.Bucket(bucketMeta).Get(keyLast); len(v) == 16 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// seekPosition returns the sparse entry with the greatest position <= pos.
func seekPosition(tx *bolt.Tx, pos uint64) (p uint64, off int64, ok bool) {
	c := tx.Bucket(bucketPositions).Cursor()
	key := binary.BigEndian.AppendUint64(nil, pos)
	k, v := c.Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		k, v = c.Prev()
	}
	if len(k) != 8 || len(v) != 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(k), int64(binary.BigEndian.Uint64(v)), true
}

// seekTime returns the sparse entry with the greatest recorded time <= t.
func seekTime(tx *bolt.Tx, t time.Time) (p uint64, off int64, ok bool) {
	c := tx.Bucket(bucketTimes).Cursor()
	key := timeKey(nil, t)
	key = append(key, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	k, v := c.Seek(key)
	if k == nil || bytes.Compare(k, key) > 0 {
		k, v = c.Prev()
	}
	if len(k) != 20 || len(v) != 8 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(k[12:]), int64(binary.BigEndian.Uint64(v)), true
}
