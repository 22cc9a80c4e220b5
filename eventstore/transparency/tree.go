package transparency

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/bits"
	"os"
	"path/filepath"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/concord-ledger/concord/eventstore"
)

// HashSize is the size of every hash in the tree (SHA-256).
const HashSize = 32

// memLevels is the lowest level a file-backed tree also keeps in memory.
// Levels below it are read from their files with one pread per node;
// levels from it up hold 1/2^memLevels of the nodes (N/4 bytes for N
// leaves), so a proof never needs more than memLevels reads per path.
const memLevels = 8

var (
	hasher  = rfc6962.DefaultHasher
	factory = &compact.RangeFactory{Hash: hashChildren}
)

// hashChildren is RFC 6962's interior node hash, SHA-256(0x01 || left ||
// right), as hasher.HashChildren computes it, without making a hash
// state per node: the follower makes about one node per event.
func hashChildren(left, right []byte) []byte {
	var b [1 + 2*HashSize]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(b[1:], left)
	copy(b[1+HashSize:], right)
	h := sha256.Sum256(b[:])
	return h[:]
}

// LeafHash returns the RFC 6962 leaf hash of a stored event:
// SHA-256(0x00 || eventstore.EncodeCanonical(e)).
func LeafHash(e eventstore.RecordedEvent) []byte {
	h, _ := appendLeafHash(nil, e)
	return h[:]
}

// appendLeafHash returns e's leaf hash, encoding e into buf (reused by a
// caller hashing many events; returned for the next call) with no hash
// state made.
func appendLeafHash(buf []byte, e eventstore.RecordedEvent) ([HashSize]byte, []byte) {
	buf = eventstore.AppendCanonical(append(buf[:0], rfc6962.RFC6962LeafHashPrefix), e)
	return sha256.Sum256(buf), buf
}

// EmptyRoot is the root of the tree of size 0, SHA-256 of nothing.
func EmptyRoot() []byte { return hasher.EmptyRoot() }

// Tree is an RFC 6962 Merkle tree over the log's leaves (leaf index =
// position-1). It stores the hash of every perfect subtree, level by
// level, so inclusion and consistency proofs for any past tree size are
// read, not recomputed: a proof costs at most two root-to-leaf paths of
// node reads plus the few hashes of the one ephemeral node on the right
// edge.
//
// A file-backed tree (OpenTree) keeps level L in the append-only file
// level-LL, node i at byte offset 32*i, so level L holds exactly size>>L
// nodes. The files are derived data: new nodes gather in memory and are
// written, without fsync, once 256 KiB have gathered; Sync writes the rest,
// fsyncs the files and then records the size it made durable in the file
// "state" (with the root at that size). The Log syncs before signing each
// checkpoint and on Close. OpenTree
// trusts only that size, truncates anything beyond it, and checks the
// stored nodes against the recorded root; whatever is missing is rebuilt
// from the log by the follower.
//
// Tree is safe for concurrent use: one appender, any number of readers.
type Tree struct {
	dir string // "" for a memory tree
	log *slog.Logger

	mu      sync.RWMutex
	files   []*os.File // per level, file-backed trees only
	mem     [][]byte   // per level >= memFrom: the nodes, 32 bytes each
	memFrom uint
	// pending holds, per level of a file-backed tree, the nodes appended
	// since the last flush; flushed counts the nodes already in the file.
	// Writing in large flushes instead of after every batch keeps the
	// follower to a few syscalls per thousands of events.
	pending      [][]byte
	flushed      []uint64
	pendingBytes int
	rng          *compact.Range
	// rootMu guards the cached root of the current size, computed on
	// demand (not per batch: that would cost log2(size) hashes each time).
	rootMu   sync.Mutex
	root     []byte
	rootSize uint64
	closed   bool
	// syncMu serialises Sync calls so two never interleave state writes.
	syncMu sync.Mutex
}

// NewMemoryTree returns an empty tree held entirely in memory (64 bytes
// per leaf), for verifiers and tests.
func NewMemoryTree() *Tree {
	return &Tree{rng: factory.NewEmptyRange(0), log: slog.New(slog.DiscardHandler)}
}

type treeState struct {
	Size uint64 `json:"size"`
	Root string `json:"root"`
}

const stateFile = "state"

// OpenTree opens (creating if needed) the file-backed tree in dir. A tree
// whose files are shorter than their recorded size or whose nodes do not
// hash to the recorded root is reset to empty, with a warning to logger,
// and rebuilt by the follower.
func OpenTree(dir string, logger *slog.Logger) (*Tree, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("merkle tree: %w", err)
	}
	if err := tightenDir(dir); err != nil {
		return nil, fmt.Errorf("merkle tree: %w", err)
	}
	t := &Tree{dir: dir, log: logger, memFrom: memLevels}
	st, err := readState(dir)
	if err != nil {
		logger.Warn("merkle tree: unreadable state, rebuilding from the log", "dir", dir, "err", err)
		st = treeState{}
	}
	if err := t.load(st); err != nil {
		if errors.Is(err, errRebuild) {
			logger.Warn("merkle tree: stored nodes do not match their recorded state, rebuilding from the log", "dir", dir, "err", err)
			if err := t.load(treeState{}); err != nil {
				t.closeFiles()
				return nil, err
			}
		} else {
			t.closeFiles()
			return nil, err
		}
	}
	return t, nil
}

var errRebuild = errors.New("merkle tree needs a rebuild")

// load opens the level files and cuts them to st.Size.
func (t *Tree) load(st treeState) error {
	t.closeFiles()
	t.files, t.mem, t.pending, t.flushed, t.pendingBytes = nil, nil, nil, nil, 0
	t.invalidateRoot()
	size := st.Size
	top := uint(bits.Len64(size)) // levels 0..top-1 hold nodes
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return fmt.Errorf("merkle tree: %w", err)
	}
	maxLevel := int(top) - 1
	for _, e := range entries {
		var l int
		if _, err := fmt.Sscanf(e.Name(), "level-%02d", &l); err == nil && l > maxLevel {
			maxLevel = l
		}
	}
	for l := 0; l <= maxLevel; l++ {
		f, err := t.file(uint(l))
		if err != nil {
			return err
		}
		want := int64(size>>uint(l)) * HashSize
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("merkle tree: %w", err)
		}
		if fi.Size() < want {
			return fmt.Errorf("%w: level %d has %d bytes, want %d", errRebuild, l, fi.Size(), want)
		}
		if fi.Size() > want {
			if err := f.Truncate(want); err != nil {
				return fmt.Errorf("merkle tree: %w", err)
			}
		}
		t.flushed[l] = uint64(want / HashSize)
		t.pending[l] = t.pending[l][:0]
		if uint(l) >= t.memFrom && want > 0 {
			b := make([]byte, want)
			if _, err := f.ReadAt(b, 0); err != nil {
				return fmt.Errorf("merkle tree: read level %d: %w", l, err)
			}
			t.mem[l] = b
		}
	}
	ids := compact.RangeNodes(0, size, nil)
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		h, err := t.node(id, nil)
		if err != nil {
			return err
		}
		hashes[i] = h
	}
	rng, err := factory.NewRange(0, size, hashes)
	if err != nil {
		return fmt.Errorf("%w: %v", errRebuild, err)
	}
	t.rng = rng
	root := t.currentRoot()
	if st.Root != "" && hex.EncodeToString(root) != st.Root {
		return fmt.Errorf("%w: root at size %d is %x, state says %s", errRebuild, size, root, st.Root)
	}
	return nil
}

func readState(dir string) (treeState, error) {
	var st treeState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return treeState{}, err
	}
	return st, nil
}

// file returns level l's file, opening it (and growing the per-level
// slices) if needed. Requires t.mu held for writing, or exclusive access.
func (t *Tree) file(l uint) (*os.File, error) {
	for uint(len(t.mem)) <= l {
		t.mem = append(t.mem, nil)
		t.pending = append(t.pending, nil)
		t.flushed = append(t.flushed, 0)
		if t.dir != "" {
			t.files = append(t.files, nil)
		}
	}
	if t.dir == "" {
		return nil, nil
	}
	if t.files[l] == nil {
		f, err := os.OpenFile(filepath.Join(t.dir, fmt.Sprintf("level-%02d", l)), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("merkle tree: %w", err)
		}
		t.files[l] = f
	}
	return t.files[l], nil
}

// currentRoot returns the root at the current size. Requires t.mu held
// (for reading is enough).
func (t *Tree) currentRoot() []byte {
	t.rootMu.Lock()
	defer t.rootMu.Unlock()
	if t.root == nil || t.rootSize != t.rng.End() {
		t.root, t.rootSize = rootOf(t.rng), t.rng.End()
	}
	return t.root
}

func (t *Tree) invalidateRoot() {
	t.rootMu.Lock()
	t.root = nil
	t.rootMu.Unlock()
}

func rootOf(r *compact.Range) []byte {
	if r.End() == 0 {
		return hasher.EmptyRoot()
	}
	root, _ := r.GetRootHash(nil) // cannot fail: the range starts at 0
	return root
}

// node returns the hash of the perfect subtree id, appending it to buf's
// storage when it must be read from a file. Requires t.mu held.
func (t *Tree) node(id compact.NodeID, buf []byte) ([]byte, error) {
	l := id.Level
	off := id.Index * HashSize
	if t.dir == "" || l >= t.memFrom {
		if l >= uint(len(t.mem)) || off+HashSize > uint64(len(t.mem[l])) {
			return nil, fmt.Errorf("merkle tree: node %d/%d not stored", l, id.Index)
		}
		return t.mem[l][off : off+HashSize : off+HashSize], nil
	}
	if l >= uint(len(t.files)) || t.files[l] == nil {
		return nil, fmt.Errorf("merkle tree: node %d/%d not stored", l, id.Index)
	}
	if id.Index >= t.flushed[l] {
		off := (id.Index - t.flushed[l]) * HashSize
		if off+HashSize > uint64(len(t.pending[l])) {
			return nil, fmt.Errorf("merkle tree: node %d/%d not stored", l, id.Index)
		}
		return t.pending[l][off : off+HashSize : off+HashSize], nil
	}
	if cap(buf) < HashSize {
		buf = make([]byte, HashSize)
	}
	buf = buf[:HashSize]
	if _, err := t.files[l].ReadAt(buf, int64(off)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("merkle tree: node %d/%d not stored", l, id.Index)
		}
		return nil, fmt.Errorf("merkle tree: read node %d/%d: %w", l, id.Index, err)
	}
	return buf, nil
}

// Size returns the number of leaves in the tree.
func (t *Tree) Size() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.rng.End()
}

// Root returns the tree's size and root hash.
func (t *Tree) Root() (uint64, []byte) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.rng.End(), bytes.Clone(t.currentRoot())
}

// AppendLeaves appends leaf hashes (each HashSize bytes) as leaves
// first, first+1, … Returns ErrNotContiguous unless first equals Size(),
// and ErrClosed after Close.
func (t *Tree) AppendLeaves(first uint64, leaves [][]byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	if first != t.rng.End() {
		return fmt.Errorf("%w: leaf %d appended to a tree of size %d", ErrNotContiguous, first, t.rng.End())
	}
	var verr error
	visit := func(id compact.NodeID, h []byte) {
		if verr != nil {
			return
		}
		if _, err := t.file(id.Level); err != nil {
			verr = err
			return
		}
		if id.Level >= t.memFrom || t.dir == "" {
			t.mem[id.Level] = append(t.mem[id.Level], h...)
		}
		if t.dir != "" {
			t.pending[id.Level] = append(t.pending[id.Level], h...)
			t.pendingBytes += len(h)
		}
	}
	for _, h := range leaves {
		if len(h) != HashSize {
			return fmt.Errorf("merkle tree: leaf hash of %d bytes", len(h))
		}
		if err := t.rng.Append(h, visit); err != nil {
			return fmt.Errorf("merkle tree: %w", err)
		}
	}
	if verr == nil && t.pendingBytes >= flushBytes {
		verr = t.flushPending()
	}
	if verr != nil {
		// The files may now hold part of this batch: reload what was
		// durable and let the follower rebuild the rest.
		t.log.Error("merkle tree: write failed, reloading", "err", verr)
		if t.dir != "" {
			if st, err := readState(t.dir); err == nil {
				_ = t.load(st)
			}
		}
		return verr
	}
	return nil
}

// flushBytes is how many bytes of new nodes a file-backed tree gathers
// in memory before writing them to their files.
const flushBytes = 256 << 10

// flushPending writes the nodes gathered since the last flush at the end
// of their level files. Requires t.mu held for writing.
func (t *Tree) flushPending() error {
	if t.dir == "" {
		return nil
	}
	for l, p := range t.pending {
		if len(p) == 0 {
			continue
		}
		if _, err := t.files[l].WriteAt(p, int64(t.flushed[l])*HashSize); err != nil {
			return fmt.Errorf("merkle tree: write level %d: %w", l, err)
		}
		t.flushed[l] += uint64(len(p) / HashSize)
		t.pending[l] = p[:0]
	}
	t.pendingBytes = 0
	return nil
}

// AppendEvents appends the leaves of events, which must continue the
// tree: the first event's position is Size()+1 and positions increase by
// one. Returns ErrNotContiguous otherwise.
func (t *Tree) AppendEvents(events []eventstore.RecordedEvent) error {
	if len(events) == 0 {
		return nil
	}
	// The leaf hashes, SHA-256(0x00 || canonical encoding), share one
	// array, and no hash state is made per leaf.
	leaves := make([][]byte, len(events))
	sums := make([]byte, HashSize*len(events))
	var buf []byte
	for i, e := range events {
		if e.Position != events[0].Position+uint64(i) || e.Position == 0 {
			return fmt.Errorf("%w: position %d follows %d", ErrNotContiguous, e.Position, events[0].Position+uint64(i)-1)
		}
		var h [HashSize]byte
		h, buf = appendLeafHash(buf, e)
		leaves[i] = sums[HashSize*i : HashSize*(i+1) : HashSize*(i+1)]
		copy(leaves[i], h[:])
	}
	return t.AppendLeaves(events[0].Position-1, leaves)
}

// RootAt returns the root of the tree as it was at size. Returns
// ErrSizeBeyondTree if size > Size().
func (t *Tree) RootAt(size uint64) ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if size > t.rng.End() {
		return nil, fmt.Errorf("%w: root at size %d asked of a tree of size %d", ErrSizeBeyondTree, size, t.rng.End())
	}
	if size == t.rng.End() {
		return bytes.Clone(t.currentRoot()), nil
	}
	if size == 0 {
		return hasher.EmptyRoot(), nil
	}
	ids := compact.RangeNodes(0, size, nil)
	hashes := make([][]byte, len(ids))
	for i, id := range ids {
		h, err := t.node(id, nil)
		if err != nil {
			return nil, err
		}
		hashes[i] = h
	}
	root := hashes[len(hashes)-1]
	for i := len(hashes) - 2; i >= 0; i-- {
		root = hashChildren(hashes[i], root)
	}
	return root, nil
}

// LeafHashAt returns the hash of leaf index. Returns ErrPositionBeyondTree
// if index >= Size().
func (t *Tree) LeafHashAt(index uint64) ([]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if index >= t.rng.End() {
		return nil, fmt.Errorf("%w: leaf %d of a tree of size %d", ErrPositionBeyondTree, index, t.rng.End())
	}
	h, err := t.node(compact.NewNodeID(0, index), nil)
	return bytes.Clone(h), err
}

// InclusionProof returns the audit path proving leaf index is in the tree
// of size size, in RFC 6962 order (from the leaf up). Requires
// index < size <= Size(); returns ErrPositionBeyondTree or
// ErrSizeBeyondTree otherwise.
func (t *Tree) InclusionProof(index, size uint64) ([][]byte, error) {
	if index >= size {
		return nil, fmt.Errorf("%w: leaf %d is not in a tree of size %d", ErrPositionBeyondTree, index, size)
	}
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return t.fetch(n, size)
}

// ConsistencyProof returns the proof that the tree of size size1 is a
// prefix of the tree of size size2. Requires size1 <= size2 <= Size();
// returns ErrInvalidRange or ErrSizeBeyondTree otherwise.
func (t *Tree) ConsistencyProof(size1, size2 uint64) ([][]byte, error) {
	if size1 > size2 {
		return nil, fmt.Errorf("%w: from %d is after to %d", ErrInvalidRange, size1, size2)
	}
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return t.fetch(n, size2)
}

func (t *Tree) fetch(n proof.Nodes, size uint64) ([][]byte, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if size > t.rng.End() {
		return nil, fmt.Errorf("%w: proof for size %d asked of a tree of size %d", ErrSizeBeyondTree, size, t.rng.End())
	}
	// One allocation for every node read from a file; nodes held in
	// memory are copied into it too, so the proof owns its bytes.
	buf := make([]byte, len(n.IDs)*HashSize)
	hashes := make([][]byte, len(n.IDs))
	for i, id := range n.IDs {
		dst := buf[i*HashSize : (i+1)*HashSize : (i+1)*HashSize]
		h, err := t.node(id, dst)
		if err != nil {
			return nil, err
		}
		if &h[0] != &dst[0] {
			copy(dst, h)
		}
		hashes[i] = dst
	}
	return n.Rehash(hashes, hashChildren)
}

// Sync makes the tree durable up to its current size: it fsyncs the level
// files, then atomically records the size and root in the state file, so
// a later OpenTree starts from there.
func (t *Tree) Sync() error {
	if t.dir == "" {
		return nil
	}
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrClosed
	}
	if err := t.flushPending(); err != nil {
		t.mu.Unlock()
		return err
	}
	st := treeState{Size: t.rng.End(), Root: hex.EncodeToString(t.currentRoot())}
	files := append([]*os.File(nil), t.files...)
	t.mu.Unlock()
	// Appends made after the snapshot only add beyond it, so syncing the
	// files now covers at least st.Size leaves.
	for _, f := range files {
		if f == nil {
			continue
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("merkle tree: sync: %w", err)
		}
	}
	b, _ := json.Marshal(st)
	return writeFileAtomic(filepath.Join(t.dir, stateFile), b, 0o600)
}

// Reset empties the tree (files included), for a tree found not to match
// its log.
func (t *Tree) Reset() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == "" {
		t.mem, t.pending, t.flushed = nil, nil, nil
		t.rng = factory.NewEmptyRange(0)
		t.invalidateRoot()
		return nil
	}
	if err := os.Remove(filepath.Join(t.dir, stateFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("merkle tree: %w", err)
	}
	return t.load(treeState{})
}

// Close syncs the tree and releases its files.
func (t *Tree) Close() error {
	err := t.Sync()
	if errors.Is(err, ErrClosed) {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	t.closeFiles()
	return err
}

func (t *Tree) closeFiles() {
	for i, f := range t.files {
		if f != nil {
			f.Close()
			t.files[i] = nil
		}
	}
}

// writeFileAtomic writes data to path through a temporary file that is
// fsynced and renamed over path, then fsyncs the directory.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this is a no-op
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
