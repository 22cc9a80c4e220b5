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
//	streams    stream id | 0x00 | u64 revision -> u64 position | u64 offset
//	heads      stream id -> u64 last revision
//	ids        16-byte event id -> u64 position | u64 offset
//	positions  u64 position -> u64 offset, for every sparseEvery-th position
//	times      u64 seconds since 0001-01-01 | u32 nanos | u64 position -> u64 offset,
//	           for the same sparse positions (recorded times never decrease
//	           with position, so this is ordered like positions)
var (
	bucketMeta      = []byte("meta")
	bucketStreams   = []byte("streams")
	bucketHeads     = []byte("heads")
	bucketIDs       = []byte("ids")
	bucketPositions = []byte("positions")
	bucketTimes     = []byte("times")

	keyLast    = []byte("last")
	keyBoot    = []byte("boot")
	keyClean   = []byte("clean")
	keyVersion = []byte("version")
)

const (
	indexFile    = "index.bolt"
	indexVersion = 1
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
		for _, name := range [][]byte{bucketMeta, bucketStreams, bucketHeads, bucketIDs, bucketPositions, bucketTimes} {
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
// bbolt inserts into an in-memory node by shifting the entries after the
// new key, and splits nodes only at commit, so keys inserted out of order
// make a large transaction quadratic. put therefore sorts each bucket's
// keys first (positions and times already are in order).
func (x *index) put(entries []indexEntry) error {
	if len(entries) == 0 {
		return nil
	}
	type kv struct{ k, v []byte }
	// Every key and value lives in one arena: bbolt keeps the slices it is
	// given until commit.
	arena := make([]byte, 0, len(entries)*(16+16+8+20+8)+len(entries)*24)
	alloc := func(n int) []byte {
		if len(arena)+n > cap(arena) {
			arena = make([]byte, 0, max(n, 64<<10))
		}
		b := arena[len(arena) : len(arena)+n : len(arena)+n]
		arena = arena[:len(arena)+n]
		return b
	}
	streams := make([]kv, 0, len(entries))
	ids := make([]kv, 0, len(entries))
	var positions, times []kv
	last := make(map[string]uint64)
	for _, e := range entries {
		ev := e.ev
		loc := alloc(16)
		binary.BigEndian.PutUint64(loc, ev.Position)
		binary.BigEndian.PutUint64(loc[8:], uint64(e.off))
		sk := alloc(len(ev.StreamID) + 1 + 8)
		streamKey(sk[:0], ev.StreamID, ev.Revision)
		streams = append(streams, kv{sk, loc})
		ik := alloc(16)
		copy(ik, ev.ID[:])
		ids = append(ids, kv{ik, loc})
		last[ev.StreamID] = ev.Revision
		if ev.Position%sparseEvery == 1 {
			positions = append(positions, kv{loc[0:8:8], loc[8:16:16]})
			tk := alloc(20)
			timeKey(tk[:0], ev.RecordedAt)
			copy(tk[12:], loc[:8])
			times = append(times, kv{tk, loc[8:16:16]})
		}
	}
	heads := make([]kv, 0, len(last))
	for stream, rev := range last {
		heads = append(heads, kv{[]byte(stream), binary.BigEndian.AppendUint64(nil, rev)})
	}
	byKey := func(a, b kv) int { return bytes.Compare(a.k, b.k) }
	slices.SortFunc(streams, byKey)
	slices.SortFunc(ids, byKey)
	slices.SortFunc(heads, byKey)

	return x.db.Update(func(tx *bolt.Tx) error {
		for _, b := range []struct {
			name []byte
			kvs  []kv
		}{
			{bucketStreams, streams}, {bucketIDs, ids}, {bucketHeads, heads},
			{bucketPositions, positions}, {bucketTimes, times},
		} {
			bk := tx.Bucket(b.name)
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

// lookupHead returns the stream's last indexed revision, or -1.
func lookupHead(tx *bolt.Tx, stream string) (int64, error) {
	v := tx.Bucket(bucketHeads).Get([]byte(stream))
	if v == nil {
		return -1, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: index head of %s", eventstore.ErrCorrupt, stream)
	}
	return int64(binary.BigEndian.Uint64(v)), nil
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
