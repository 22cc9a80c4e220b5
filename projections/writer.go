package projections

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"sync"

	"github.com/pierrec/lz4/v4"
	bolt "go.etcd.io/bbolt"
)

// The engine's writes of snapshots and checkpoints go through one writer
// goroutine, in the order they were asked for. A replay hands its writes
// over and goes on folding while they are committed (a commit is an
// fsync, and storing a state of tens of megabytes copies it through
// bbolt's pages): folding and storing overlap. Writes queued while a
// commit runs are committed together, in one transaction.
//
// Invariant: writes are committed in the order they were queued, so a
// later checkpoint of a projection is never overwritten by an earlier
// one; a caller that needs its write durable (Close, checkpointMany)
// waits for it, and with it for every write queued before.

// snapWrite is a snapshot to store; packed is its state packed
// (packState).
type snapWrite struct {
	name    string
	version int
	pos     uint64
	packed  []byte
}

// cpWrite is a checkpoint to store.
type cpWrite struct {
	name    string
	version int
	pos     uint64
	state   []byte
}

// pendingWrite is what one caller asks to store in one transaction.
type pendingWrite struct {
	snaps []snapWrite
	cps   []cpWrite
	// done, if not nil, receives the commit's error.
	done chan error
}

func (w pendingWrite) empty() bool { return len(w.snaps) == 0 && len(w.cps) == 0 }

// writeQueue is how many writes may wait for the writer before a caller
// handing over another one blocks: it bounds the memory that states
// marshalled but not yet stored take.
const writeQueue = 2

// startWriter starts the writer goroutine; stopWriter ends it.
func (e *Engine) startWriter() {
	e.writes = make(chan pendingWrite, writeQueue)
	e.writerDone = make(chan struct{})
	go e.writeLoop()
}

// stopWriter waits for every queued write, then ends the writer. It may be
// called more than once; writes handed over after it are refused
// (bolt.ErrDatabaseNotOpen), as the closed database would refuse them.
func (e *Engine) stopWriter() {
	e.stopOnce.Do(func() {
		e.writeMu.Lock()
		e.writerStopped = true
		close(e.writes)
		e.writeMu.Unlock()
		<-e.writerDone
	})
}

// send hands w to the writer; false once the writer is stopped. A send
// blocked on a full queue holds writeMu's read lock only until the writer,
// which drains the queue until it is closed, takes w.
func (e *Engine) send(w pendingWrite) bool {
	e.writeMu.RLock()
	defer e.writeMu.RUnlock()
	if e.writerStopped {
		return false
	}
	e.writes <- w
	return true
}

func (e *Engine) writeLoop() {
	defer close(e.writerDone)
	for w := range e.writes {
		batch := []pendingWrite{w}
		// Whatever else is already queued joins this transaction.
	more:
		for {
			select {
			case next, ok := <-e.writes:
				if !ok {
					break more
				}
				batch = append(batch, next)
			default:
				break more
			}
		}
		var err error
		if slices.ContainsFunc(batch, func(w pendingWrite) bool { return !w.empty() }) {
			err = e.db.Update(e.put(batch))
		}
		waited := false
		for _, w := range batch {
			if w.done != nil {
				w.done <- err
				waited = true
			}
		}
		if err != nil && !waited {
			e.log.Warn("projection snapshots and checkpoints failed", "err", err)
		}
	}
}

// put stores batch's snapshots and checkpoints, in order.
func (e *Engine) put(batch []pendingWrite) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		cps := tx.Bucket(bucketCheckpoints)
		for _, w := range batch {
			for _, sn := range w.snaps {
				if err := putSnapshot(tx, sn.name, sn.version, sn.pos, sn.packed); err != nil {
					return fmt.Errorf("snapshot %s: %w", sn.name, err)
				}
			}
			for _, c := range w.cps {
				if err := putCheckpoint(cps, c); err != nil {
					return fmt.Errorf("checkpoint %s: %w", c.name, err)
				}
			}
		}
		return nil
	}
}

// queueWrite hands w to the writer without waiting for its commit (a failure
// is logged: it costs a later restart or "as of" reading some folding,
// nothing else).
func (e *Engine) queueWrite(w pendingWrite) {
	if w.empty() {
		return
	}
	if !e.send(w) {
		e.log.Warn("projection snapshots and checkpoints after close dropped")
	}
}

// writeWait hands w to the writer and waits until it, and every write
// queued before it, is committed.
func (e *Engine) writeWait(w pendingWrite) error {
	w.done = make(chan error, 1)
	if !e.send(w) {
		return bolt.ErrDatabaseNotOpen
	}
	return <-w.done
}

// flushWrites waits until every write queued so far is committed.
func (e *Engine) flushWrites() error { return e.writeWait(pendingWrite{}) }

// sortedCheckpoints orders cps by name, so transactions touch the
// checkpoints' bucket in key order.
func sortedCheckpoints(cps []cpWrite) []cpWrite {
	slices.SortFunc(cps, func(a, b cpWrite) int { return strings.Compare(a.name, b.name) })
	return cps
}

// Large values. A bbolt leaf node is split only when it holds more than
// four keys, so a state stored as a plain value shares its node with up to
// three neighbours, and storing it copies them too: appending a snapshot
// rewrote the three before it, and checkpointing a small view rewrote
// the audit view's hundred-odd megabytes beside it. Each state is
// therefore stored alone, as the one value (key stateKey) of a bucket of
// its own at its key: writing it touches only its own pages and a bucket
// header in the parent. States stored as plain values by earlier versions
// are still read.

var stateKey = []byte("v")

// putState stores state at key in parent, in a bucket of its own.
func putState(parent *bolt.Bucket, key, state []byte) error {
	b, err := stateBucket(parent, key)
	if err != nil {
		return err
	}
	return b.Put(stateKey, state)
}

// stateBucket returns the bucket of its own at key in parent, made if
// missing (a plain value an earlier version stored there is replaced).
func stateBucket(parent *bolt.Bucket, key []byte) (*bolt.Bucket, error) {
	if parent.Bucket(key) == nil && parent.Get(key) != nil {
		if err := parent.Delete(key); err != nil {
			return nil, err
		}
	}
	return parent.CreateBucketIfNotExists(key)
}

// getState returns the state stored at key in parent (any layout), nil
// if none or if a packed state does not unpack, and the bytes it takes in
// the database. A plain state's bytes are bbolt's, valid only within the
// transaction; an unpacked one's are the caller's (owned).
func getState(parent *bolt.Bucket, key []byte) (state []byte, stored int, owned bool) {
	if v := parent.Get(key); v != nil {
		return v, len(v), false
	}
	b := parent.Bucket(key)
	if b == nil {
		return nil, 0, false
	}
	if packed := b.Get(packedKey); packed != nil {
		state, err := unpackState(packed)
		if err != nil {
			return nil, 0, false
		}
		return state, len(packed), true
	}
	v := b.Get(stateKey)
	return v, len(v), false
}

// storedSize is the bytes the state getState would read at key takes
// stored, found without unpacking it; false when there is none.
func storedSize(parent *bolt.Bucket, key []byte) (int, bool) {
	if v := parent.Get(key); v != nil {
		return len(v), true
	}
	b := parent.Bucket(key)
	if b == nil {
		return 0, false
	}
	if v := b.Get(packedKey); v != nil {
		return len(v), true
	}
	v := b.Get(stateKey)
	return len(v), v != nil
}

// packedKey holds a snapshot's state packed (packState), in the bucket of
// its own at its position.
var packedKey = []byte("z")

// putPacked stores a snapshot's packed state at key in parent.
func putPacked(parent *bolt.Bucket, key, packed []byte) error {
	b, err := stateBucket(parent, key)
	if err != nil {
		return err
	}
	if b.Get(stateKey) != nil {
		if err := b.Delete(stateKey); err != nil {
			return err
		}
	}
	return b.Put(packedKey, packed)
}

// Snapshots are stored packed: LZ4 blocks, which the views' states shrink
// to between a half and a sixth (ids do not compress; names, statuses and
// times do), and which unpack at gigabytes a second. Their spacing is
// reckoned on the packed size, so within the same bytes per event a large
// state is snapshotted two to six times as often, and a reading in the
// past folds that much less. Checkpoints, written far more often and read
// once at start, are stored plain.
const (
	packedPlain byte = 0
	packedLZ4   byte = 1
)

// packState returns state packed: a kind byte, the state's length
// (uvarint), its CRC-32C (so a damaged snapshot is never read as a state),
// and its LZ4 block, or the state as it is where it does not compress.
func packState(state []byte) []byte {
	head := binary.AppendUvarint([]byte{packedLZ4}, uint64(len(state)))
	head = binary.BigEndian.AppendUint32(head, crc32.Checksum(state, castagnoli))
	out := make([]byte, len(head), len(head)+lz4.CompressBlockBound(len(state)))
	copy(out, head)
	c := compressors.Get().(*lz4.Compressor)
	n, err := c.CompressBlock(state, out[len(head):cap(out)])
	compressors.Put(c)
	if err != nil || n == 0 || n >= len(state) {
		out[0] = packedPlain
		return append(out[:len(head)], state...)
	}
	out = out[:len(head)+n]
	if cap(out) > 2*len(out) {
		out = slices.Clone(out) // what waits to be stored takes what it needs
	}
	return out
}

// compressors keeps LZ4 compressors (each a 64 KiB table) between packings.
var compressors = sync.Pool{New: func() any { return new(lz4.Compressor) }}

// unpackState returns the state packed holds; an error for bytes that are
// not a packed state or whose state fails its checksum (never a panic).
func unpackState(packed []byte) ([]byte, error) {
	if len(packed) < 2 {
		return nil, errors.New("packed state: too short")
	}
	n, k := binary.Uvarint(packed[1:])
	if k <= 0 || len(packed) < 1+k+4 {
		return nil, errors.New("packed state: bad header")
	}
	sum, body := binary.BigEndian.Uint32(packed[1+k:]), packed[1+k+4:]
	var out []byte
	switch packed[0] {
	case packedPlain:
		if uint64(len(body)) != n {
			return nil, fmt.Errorf("packed state: %d bytes, header says %d", len(body), n)
		}
		out = slices.Clone(body)
	case packedLZ4:
		// An LZ4 block expands at most 255 times.
		if n > 255*uint64(len(body))+64 {
			return nil, fmt.Errorf("packed state: %d bytes cannot unpack to %d", len(body), n)
		}
		out = make([]byte, n)
		m, err := lz4.UncompressBlock(body, out)
		if err != nil {
			return nil, fmt.Errorf("packed state: %w", err)
		}
		if uint64(m) != n {
			return nil, fmt.Errorf("packed state: unpacked %d bytes, header says %d", m, n)
		}
	default:
		return nil, fmt.Errorf("packed state: unknown kind %d", packed[0])
	}
	if crc32.Checksum(out, castagnoli) != sum {
		return nil, errors.New("packed state: checksum mismatch (the snapshot is damaged)")
	}
	return out, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var checkpointHeadKey = []byte("h")

// putCheckpoint stores c in the checkpoints' bucket: its header and its
// state as two values of its own bucket (the state is not copied behind a
// header first).
func putCheckpoint(cps *bolt.Bucket, c cpWrite) error {
	key := []byte(c.name)
	if err := putState(cps, key, c.state); err != nil {
		return err
	}
	head := encodeCheckpoint(checkpoint{Version: c.version, Position: c.pos})
	return cps.Bucket(key).Put(checkpointHeadKey, head)
}

// getCheckpoint reads the checkpoint at key (either layout); ok is false
// when there is none. The state is bbolt's, valid only within the
// transaction, except in the oldest (JSON) layout.
func getCheckpoint(cps *bolt.Bucket, key []byte) (cp checkpoint, ok bool, err error) {
	if raw := cps.Get(key); raw != nil {
		cp, err := decodeCheckpoint(raw)
		return cp, true, err
	}
	b := cps.Bucket(key)
	if b == nil {
		return cp, false, nil
	}
	cp, err = decodeCheckpoint(b.Get(checkpointHeadKey))
	cp.State = b.Get(stateKey)
	if err == nil && cp.State == nil {
		err = errors.New("checkpoint without a state")
	}
	return cp, true, err
}
