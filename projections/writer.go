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
	// gen is the generation (pieceGens) its state was written to in
	// pieces before the transaction that stores it (stagePieces); nil
	// when the state is stored whole in that transaction.
	gen []byte
	// superseded is set when a later checkpoint of the same projection
	// is stored in the same transaction: this one is not stored.
	superseded bool
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
			if err = e.stagePieces(batch); err == nil {
				err = e.db.Update(e.put(batch))
			}
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
				if c.superseded {
					continue
				}
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
// header first), or, for a state written in pieces before (c.gen), its
// header and the name of the pieces' generation. Whatever the bucket held
// of the checkpoint before (whole or in pieces) is deleted.
func putCheckpoint(cps *bolt.Bucket, c cpWrite) error {
	key := []byte(c.name)
	var b *bolt.Bucket
	if c.gen == nil {
		if err := putState(cps, key, c.state); err != nil {
			return err
		}
		b = cps.Bucket(key)
		if err := dropPieces(b, nil); err != nil {
			return err
		}
	} else {
		// stagePieces made the bucket and wrote the pieces.
		if b = cps.Bucket(key); b == nil || b.Bucket(c.gen) == nil {
			return fmt.Errorf("the pieces of %s's state are missing", c.name)
		}
		if b.Get(stateKey) != nil {
			if err := b.Delete(stateKey); err != nil {
				return err
			}
		}
		if err := dropPieces(b, c.gen); err != nil {
			return err
		}
		if err := b.Put(genKey, c.gen); err != nil {
			return err
		}
	}
	head := encodeCheckpoint(checkpoint{Version: c.version, Position: c.pos})
	return b.Put(checkpointHeadKey, head)
}

// Large checkpoints. bbolt keeps a copy of every page a transaction writes
// until it commits, so a state stored in one transaction costs its size
// twice while it is stored: the state marshalled, and bbolt's copy. At a
// million events the audit view's state is about 140 MB, and its copy
// was the largest part of the replay's peak memory. A state larger than
// checkpointPieceBytes is therefore written first in pieces, each in a
// transaction of its own, to the generation of the checkpoint's bucket
// that its generation key (genKey) does not name; the transaction that
// stores the checkpoint's header then names that generation and deletes
// the other. Until that transaction commits, the checkpoint stored before
// is whole and is the one read: a crash among the pieces leaves pieces
// that no header names, which the next write of that checkpoint replaces.
var checkpointPieceBytes = 16 << 20 // a variable for tests

var (
	genKey    = []byte("g")
	pieceGens = [2][]byte{[]byte("p0"), []byte("p1")}
)

// pieceKey is the key of a state's i-th piece: pieces are read in order.
// Each piece is stored in a bucket of its own at its key (putState), so
// that writing one does not write again the pieces beside it in its
// leaf.
func pieceKey(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

// dropPieces deletes the generations of pieces in b other than keep (all
// of them when keep is nil), and the generation key when keep is nil.
func dropPieces(b *bolt.Bucket, keep []byte) error {
	for _, g := range pieceGens {
		if string(g) == string(keep) || b.Bucket(g) == nil {
			continue
		}
		if err := b.DeleteBucket(g); err != nil {
			return err
		}
	}
	if keep == nil && b.Get(genKey) != nil {
		return b.Delete(genKey)
	}
	return nil
}

// stagePieces writes the state of each large checkpoint in batch in
// pieces, each piece in a transaction of its own, before the transaction
// that stores the batch (see checkpointPieceBytes). Of several
// checkpoints of one projection in a batch, only the last is stored; the
// others are marked superseded.
func (e *Engine) stagePieces(batch []pendingWrite) error {
	last := map[string]*cpWrite{}
	for i := range batch {
		for j := range batch[i].cps {
			c := &batch[i].cps[j]
			if prev := last[c.name]; prev != nil {
				prev.superseded = true
			}
			last[c.name] = c
		}
	}
	for _, c := range last {
		if len(c.state) <= checkpointPieceBytes {
			continue
		}
		gen, err := e.writePieces(c.name, c.state)
		if err != nil {
			return fmt.Errorf("checkpoint %s in pieces: %w", c.name, err)
		}
		c.gen = gen
	}
	return nil
}

// writePieces writes state in pieces to the spare generation of the
// checkpoint name's bucket, one transaction a piece, and returns the
// generation; nil (the state to be stored whole) when the checkpoint is
// still in the oldest layout, one plain value.
func (e *Engine) writePieces(name string, state []byte) ([]byte, error) {
	key := []byte(name)
	var gen []byte
	for i, off := 0, 0; off < len(state); i, off = i+1, off+checkpointPieceBytes {
		piece := state[off:min(off+checkpointPieceBytes, len(state))]
		err := e.db.Update(func(tx *bolt.Tx) error {
			cps := tx.Bucket(bucketCheckpoints)
			if i > 0 {
				b := cps.Bucket(key)
				if b == nil || b.Bucket(gen) == nil {
					return errors.New("the pieces written before this one are gone")
				}
				return putState(b.Bucket(gen), pieceKey(i), piece)
			}
			if cps.Get(key) != nil {
				return nil
			}
			b, err := cps.CreateBucketIfNotExists(key)
			if err != nil {
				return err
			}
			gen = pieceGens[0]
			if string(b.Get(genKey)) == string(gen) {
				gen = pieceGens[1]
			}
			if b.Bucket(gen) != nil {
				if err := b.DeleteBucket(gen); err != nil {
					return err
				}
			}
			pieces, err := b.CreateBucket(gen)
			if err != nil {
				return err
			}
			return putState(pieces, pieceKey(i), piece)
		})
		if err != nil || gen == nil {
			return nil, err
		}
	}
	return gen, nil
}

// readPieces returns the pieces of the state held in b, in order (bbolt's
// bytes, valid only within the transaction).
func readPieces(b *bolt.Bucket) ([][]byte, error) {
	if b == nil {
		return nil, errors.New("the generation its header names is missing")
	}
	var pieces [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		piece, _, _ := getState(b, k)
		if piece == nil {
			return nil, fmt.Errorf("piece %x is missing", k)
		}
		pieces = append(pieces, piece)
	}
	return pieces, nil
}

// stateBytes is the bytes of a stored state: whole, or in pieces.
func stateBytes(state []byte, pieces [][]byte) int {
	n := len(state)
	for _, p := range pieces {
		n += len(p)
	}
	return n
}

// joinPieces returns pieces joined in one slice of the caller's.
func joinPieces(pieces [][]byte) []byte {
	state := make([]byte, 0, stateBytes(nil, pieces))
	for _, p := range pieces {
		state = append(state, p...)
	}
	return state
}

// PiecesUnmarshaler is a Projection that reads its state back from the
// pieces a large checkpoint is stored in (see checkpointPieceBytes), in
// order, as UnmarshalState reads them joined. Joining a state of 150 MB
// cost half a second of a restart, most of it the kernel handing the
// process fresh pages for the copy.
type PiecesUnmarshaler interface {
	UnmarshalPieces(pieces [][]byte) error
}

// unmarshalStored restores p from a stored state: whole, or in pieces.
func unmarshalStored(p Projection, state []byte, pieces [][]byte) error {
	if pieces == nil {
		return p.UnmarshalState(state)
	}
	if u, ok := p.(PiecesUnmarshaler); ok {
		return u.UnmarshalPieces(pieces)
	}
	return p.UnmarshalState(joinPieces(pieces))
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
	head := b.Get(checkpointHeadKey)
	if head == nil {
		// Only pieces of a first checkpoint that was never stored.
		return cp, false, nil
	}
	cp, err = decodeCheckpoint(head)
	if gen := b.Get(genKey); gen != nil {
		var perr error
		cp.Pieces, perr = readPieces(b.Bucket(gen))
		err = errors.Join(err, perr)
	} else {
		cp.State = b.Get(stateKey)
	}
	if err == nil && cp.State == nil && cp.Pieces == nil {
		err = errors.New("checkpoint without a state")
	}
	return cp, true, err
}
