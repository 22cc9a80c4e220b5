package transparency

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
)

// Defaults for Options.
const (
	DefaultOrigin             = "concord.local/ledger"
	DefaultCheckpointEvery    = 1000
	DefaultCheckpointInterval = 10 * time.Second
)

// Files the Log keeps in its directory.
const (
	// KeyFile holds the checkpoint signing key (note signer key format,
	// mode 0600). Generated on first start unless Options.KeyFile is set.
	KeyFile = "checkpoint.key"
	// PubFile holds the matching verifier key, for auditors and witnesses.
	PubFile = "checkpoint.pub"
	// LatestFile holds the latest signed checkpoint note, an anchor kept
	// outside the store for VerifyStore. It is rewritten (atomically,
	// fsynced) on every CheckpointInterval tick and at Close, so it may
	// lag the latest checkpoint by one interval.
	LatestFile = "checkpoint.latest"
	// WitnessesFile lists trusted witness verifier keys, one a line
	// ('#' starts a comment).
	WitnessesFile = "witnesses"
	// TreeDir is the directory of the Merkle tree's node files.
	TreeDir = "merkle"
)

// Options configure a Log. The zero value is usable.
type Options struct {
	// Origin names the log: the first line of every checkpoint and the
	// signing key's name. Default DefaultOrigin for a new key, else the
	// existing key's name; a different name from an existing key's is an
	// error.
	Origin string
	// KeyFile is the signing key's path (default <dir>/checkpoint.key).
	KeyFile string
	// CheckpointEvery signs a checkpoint once this many events are
	// unsigned (default 1000).
	CheckpointEvery uint64
	// CheckpointInterval signs a checkpoint this often when any event is
	// unsigned (default 10s). Checkpoints are also signed on Close. On the
	// same tick the tree's files are fsynced and checkpoint.latest is
	// rewritten.
	CheckpointInterval time.Duration
	// Witnesses are the note verifier keys of trusted witnesses, in
	// addition to those listed in <dir>/witnesses.
	Witnesses []string
	// Logger receives warnings (default slog.Default()).
	Logger *slog.Logger
}

// Log is the ledger's transparency log: a Merkle tree kept in step with a
// store by a Follower, checkpoints signed at intervals and recorded in the
// store itself (stream "checkpoints"), proofs, and witness cosignatures.
// Its methods back the HTTP API's /v1/checkpoints and /v1/proofs routes.
// All methods are safe for concurrent use.
type Log struct {
	store    eventstore.Store
	dir      string
	opts     Options
	log      *slog.Logger
	key      Key
	tree     *Tree
	follower *Follower

	witnesses map[string]note.Verifier // by verifier key

	mu          sync.Mutex
	checkpoints map[uint64]entry // by tree size
	sizes       []uint64         // sorted keys of checkpoints
	latest      uint64           // largest size in checkpoints, 0 if none
	hasLatest   bool
	cosigners   map[uint64][]Cosigner
	lastOther   uint64 // last position seen outside domain.CheckpointStream
	persisted   uint64 // size of the checkpoint last written to LatestFile

	// audit is the self-audit's finding, set once: from then on nothing
	// is signed or recorded.
	audit atomic.Pointer[AuditError]

	signMu   sync.Mutex // one checkpoint signed at a time
	cosignMu sync.Mutex // one cosignature recorded at a time

	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
	closeMu  sync.Mutex
	isClosed bool
}

type entry struct {
	cp      Checkpoint
	eventID uuid.UUID
}

// Cosigner is a witness's recorded cosignature of a checkpoint. It
// marshals to {"witness","witness_key","tree_size","note","position"}.
type Cosigner struct {
	Witness    string `json:"witness"`
	WitnessKey string `json:"witness_key"`
	TreeSize   uint64 `json:"tree_size"`
	Note       string `json:"note"`
	// Position is where the CheckpointCosigned event sits in the log.
	Position uint64 `json:"position"`
}

// Open starts the transparency log of store with its files in dir: it
// loads or creates the signing key, opens the Merkle tree (rebuilding it
// from the log if missing, behind or not matching), loads the checkpoints
// recorded in the store, and starts the follower and the checkpointer.
// Close the Log before the store.
func Open(ctx context.Context, store eventstore.Store, dir string, opts Options) (*Log, error) {
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = DefaultCheckpointEvery
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.KeyFile == "" {
		opts.KeyFile = filepath.Join(dir, KeyFile)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("transparency log: %w", err)
	}
	for _, name := range []string{opts.KeyFile, filepath.Join(dir, PubFile), filepath.Join(dir, LatestFile)} {
		if err := tightenFile(name); err != nil {
			return nil, fmt.Errorf("transparency log: %w", err)
		}
	}
	name := opts.Origin
	if _, err := os.Stat(opts.KeyFile); name == "" && errors.Is(err, fs.ErrNotExist) {
		name = DefaultOrigin
	}
	key, err := LoadOrCreateKey(opts.KeyFile, filepath.Join(dir, PubFile), name)
	if err != nil {
		return nil, fmt.Errorf("transparency log: %w", err)
	}
	l := &Log{
		store: store, dir: dir, opts: opts, log: opts.Logger, key: key,
		witnesses:   map[string]note.Verifier{},
		checkpoints: map[uint64]entry{},
		cosigners:   map[uint64][]Cosigner{},
		kick:        make(chan struct{}, 1),
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
	}
	if err := l.loadWitnesses(); err != nil {
		return nil, err
	}
	l.tree, err = OpenTree(filepath.Join(dir, TreeDir), opts.Logger)
	if err != nil {
		return nil, err
	}
	if err := l.start(ctx); err != nil {
		l.tree.Close()
		return nil, err
	}
	return l, nil
}

func (l *Log) start(ctx context.Context) error {
	recs, err := l.store.ReadStream(ctx, domain.CheckpointStream, 0, eventstore.Forward, 0)
	if err != nil {
		return fmt.Errorf("transparency log: read checkpoints: %w", err)
	}
	for _, r := range recs {
		l.index(r)
	}
	if err := l.checkTree(ctx); err != nil {
		return err
	}
	if err := l.findUnsigned(ctx); err != nil {
		return err
	}
	l.follower, err = Follow(context.WithoutCancel(ctx), l.store, l.tree, l.onBatch)
	if err != nil {
		return err
	}
	go l.checkpointer()
	return nil
}

// checkTree resets the tree if it does not belong to the store: longer
// than the log, its last leaf not the log's event, or its root not the
// one signed at the latest checkpoint it covers.
func (l *Log) checkTree(ctx context.Context) error {
	size := l.tree.Size()
	if size == 0 {
		return nil
	}
	reason := ""
	head, err := l.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("transparency log: %w", err)
	}
	if size > head {
		reason = fmt.Sprintf("tree has %d leaves, the log only %d events", size, head)
	} else {
		recs, err := l.store.ReadAll(ctx, size, 1)
		if err != nil {
			return fmt.Errorf("transparency log: %w", err)
		}
		leaf, _ := l.tree.LeafHashAt(size - 1)
		if len(recs) != 1 || !bytes.Equal(LeafHash(recs[0]), leaf) {
			reason = fmt.Sprintf("leaf %d does not match the log's event", size)
		}
	}
	if reason == "" {
		l.mu.Lock()
		i := sort.Search(len(l.sizes), func(i int) bool { return l.sizes[i] > size })
		var cp Checkpoint
		if i > 0 {
			cp = l.checkpoints[l.sizes[i-1]].cp
		}
		l.mu.Unlock()
		if cp.Size > 0 {
			if root, err := l.tree.RootAt(cp.Size); err != nil || !bytes.Equal(root, cp.Root) {
				reason = fmt.Sprintf("root at size %d is not the signed one", cp.Size)
			}
		}
	}
	if reason != "" {
		l.log.Warn("transparency log: Merkle tree does not match the log, rebuilding it", "reason", reason)
		return l.tree.Reset()
	}
	return nil
}

// findUnsigned sets lastOther from the events the follower will not see:
// those after the latest checkpoint that are already in the tree.
func (l *Log) findUnsigned(ctx context.Context) error {
	l.mu.Lock()
	from := uint64(1)
	if l.hasLatest {
		from = l.latest + 1
	}
	l.mu.Unlock()
	to := l.tree.Size()
	for from <= to {
		recs, err := l.store.ReadAll(ctx, from, 256)
		if err != nil {
			return fmt.Errorf("transparency log: %w", err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if r.Position > to {
				return nil
			}
			if r.StreamID != domain.CheckpointStream {
				l.mu.Lock()
				l.lastOther = max(l.lastOther, r.Position)
				l.mu.Unlock()
				return nil
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
	return nil
}

func (l *Log) loadWitnesses() error {
	keys := append([]string(nil), l.opts.Witnesses...)
	b, err := os.ReadFile(filepath.Join(l.dir, WitnessesFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("transparency log: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			keys = append(keys, line)
		}
	}
	for _, k := range keys {
		if err := l.AddWitness(k); err != nil {
			return err
		}
	}
	return nil
}

// AddWitness trusts the witness whose note verifier key is vkey: its
// cosignatures will be accepted by AddCosignature. Returns an error
// wrapping ErrBadKey for a malformed key or one named like the log.
func (l *Log) AddWitness(vkey string) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("%w: witness key %q: %v", ErrBadKey, vkey, err)
	}
	if v.Name() == l.key.Name() {
		return fmt.Errorf("%w: witness key %q has the log's own name", ErrBadKey, vkey)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.witnesses[vkey] = v
	return nil
}

// index records a checkpoint-stream event. Idempotent.
func (l *Log) index(r eventstore.RecordedEvent) {
	switch r.Type {
	case "CheckpointSigned":
		var ev domain.CheckpointSigned
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			l.log.Warn("transparency log: unreadable CheckpointSigned", "position", r.Position, "err", err)
			return
		}
		cp, err := ParseCheckpoint([]byte(ev.Note), l.key.Verifier)
		if err != nil || cp.Size != ev.TreeSize || hex.EncodeToString(cp.Root) != ev.RootHash {
			l.log.Warn("transparency log: CheckpointSigned does not verify with this log's key; ignored", "position", r.Position, "err", err)
			return
		}
		cp.Position = r.Position
		l.mu.Lock()
		defer l.mu.Unlock()
		if _, ok := l.checkpoints[cp.Size]; ok {
			return
		}
		l.checkpoints[cp.Size] = entry{cp: cp, eventID: r.ID}
		i := sort.Search(len(l.sizes), func(i int) bool { return l.sizes[i] >= cp.Size })
		l.sizes = append(l.sizes, 0)
		copy(l.sizes[i+1:], l.sizes[i:])
		l.sizes[i] = cp.Size
		if !l.hasLatest || cp.Size > l.latest {
			l.latest, l.hasLatest = cp.Size, true
		}
	case "CheckpointCosigned":
		var ev domain.CheckpointCosigned
		if err := json.Unmarshal(r.Data, &ev); err != nil {
			l.log.Warn("transparency log: unreadable CheckpointCosigned", "position", r.Position, "err", err)
			return
		}
		// Only cosignatures by witnesses this ledger trusts are served as
		// such: the key in the event is whatever its writer put there.
		l.mu.Lock()
		wv, trusted := l.witnesses[ev.WitnessKey]
		l.mu.Unlock()
		if !trusted {
			l.log.Warn("transparency log: CheckpointCosigned by a witness not in the witnesses list; not served as a cosignature", "position", r.Position, "witness", ev.Witness)
			return
		}
		if _, err := note.Open([]byte(ev.Note), note.VerifierList(wv)); err != nil {
			l.log.Warn("transparency log: CheckpointCosigned does not verify with its witness's key; ignored", "position", r.Position, "witness", ev.Witness, "err", err)
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range l.cosigners[ev.TreeSize] {
			if c.WitnessKey == ev.WitnessKey {
				return
			}
		}
		l.cosigners[ev.TreeSize] = append(l.cosigners[ev.TreeSize], Cosigner{
			Witness: ev.Witness, WitnessKey: ev.WitnessKey, TreeSize: ev.TreeSize, Note: ev.Note, Position: r.Position,
		})
	}
}

// onBatch runs in the follower after each batch is in the tree.
func (l *Log) onBatch(batch []eventstore.RecordedEvent) {
	first, last := batch[0].Position, batch[len(batch)-1].Position
	for _, r := range batch {
		if r.StreamID == domain.CheckpointStream {
			l.index(r)
		} else {
			l.mu.Lock()
			l.lastOther = max(l.lastOther, r.Position)
			l.mu.Unlock()
		}
	}
	// Self-audit: every checkpoint this batch reaches must still hold.
	l.mu.Lock()
	i := sort.Search(len(l.sizes), func(i int) bool { return l.sizes[i] >= first })
	var check []Checkpoint
	var prev []uint64 // the size of the checkpoint before each in check
	for ; i < len(l.sizes) && l.sizes[i] <= last; i++ {
		check = append(check, l.checkpoints[l.sizes[i]].cp)
		p := uint64(0)
		if i > 0 {
			p = l.sizes[i-1]
		}
		prev = append(prev, p)
	}
	due := l.lastOther > l.latest && last-l.latest >= l.opts.CheckpointEvery
	l.mu.Unlock()
	for j, cp := range check {
		if root, err := l.tree.RootAt(cp.Size); err != nil || !bytes.Equal(root, cp.Root) {
			l.failAudit(&AuditError{TreeSize: cp.Size, Position: cp.Position, FirstBad: prev[j] + 1, SignedRoot: cp.Root, Root: root}, err)
			return
		}
	}
	if due && l.audit.Load() == nil {
		select {
		case l.kick <- struct{}{}:
		default:
		}
	}
}

// failAudit records the self-audit's first finding, logs it as an error
// naming the first bad position, and stops signing.
func (l *Log) failAudit(e *AuditError, err error) {
	if !l.audit.CompareAndSwap(nil, e) {
		return
	}
	l.log.Error("transparency log: SELF-AUDIT FAILED: the log no longer matches a checkpoint it signed; its events were changed after signing. Signing has stopped: no checkpoint or cosignature will be recorded over this log",
		"first_bad_position", e.FirstBad, "last_bad_position", e.TreeSize, "tree_size", e.TreeSize, "checkpoint_position", e.Position,
		"signed_root", hex.EncodeToString(e.SignedRoot), "root", hex.EncodeToString(e.Root), "err", err,
		"what_to_do", "stop the server, run concord verify --data with the published public key, and restore from a backup")
}

// AuditFailure returns the self-audit's finding, or nil while every
// checkpoint the log has reached still holds. Once it is set the log signs
// and records nothing more; only a restart (after repair) clears it.
func (l *Log) AuditFailure() *AuditError { return l.audit.Load() }

func (l *Log) checkpointer() {
	defer close(l.done)
	t := time.NewTicker(l.opts.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			// The slow, fsyncing upkeep runs on the clock, not per
			// checkpoint, so that frequent checkpoints stay cheap.
			l.signIf(l.due)
			l.persist()
			continue
		case <-l.kick:
		}
		// A kick left from a batch seen while the last checkpoint was
		// being signed may be stale: sign only if CheckpointEvery events
		// are still unsigned.
		l.signIf(l.dueByCount)
	}
}

// signIf signs a checkpoint if due says one is due, asked once no other
// signing is under way: a checkpoint signed meanwhile (by a caller of
// SignCheckpoint) may have covered what made one due, and signing again
// would only cover that checkpoint's own record.
func (l *Log) signIf(due func() bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l.signMu.Lock()
	defer l.signMu.Unlock()
	if !due() {
		return
	}
	if _, err := l.signCheckpoint(ctx); err != nil && !errors.Is(err, eventstore.ErrClosed) {
		l.log.Error("transparency log: sign checkpoint", "err", err)
	}
}

// persist syncs the tree's files and writes the latest checkpoint to
// <dir>/checkpoint.latest if it changed since last time. Both are
// fsynced, so they run on the checkpoint interval and at Close, not for
// every checkpoint.
func (l *Log) persist() error {
	var errs []error
	if err := l.tree.Sync(); err != nil && !errors.Is(err, ErrClosed) {
		errs = append(errs, err)
	}
	l.mu.Lock()
	var note string
	if l.hasLatest && l.latest != l.persisted {
		note = l.checkpoints[l.latest].cp.Note
	}
	latest := l.latest
	l.mu.Unlock()
	if note != "" {
		if err := writeFileAtomic(filepath.Join(l.dir, LatestFile), []byte(note), 0o600); err != nil {
			errs = append(errs, fmt.Errorf("write latest checkpoint: %w", err))
		} else {
			l.mu.Lock()
			l.persisted = latest
			l.mu.Unlock()
		}
	}
	err := errors.Join(errs...)
	if err != nil {
		l.log.Warn("transparency log: persist", "err", err)
	}
	return err
}

// due reports whether the tree holds events, other than checkpoint
// records, that no checkpoint covers.
func (l *Log) due() bool {
	if l.audit.Load() != nil {
		return false // signing has stopped
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastOther > l.latest // latest is 0 until the first checkpoint
}

// dueByCount reports whether at least CheckpointEvery events the tree
// holds are not covered by the latest checkpoint, some of them other than
// checkpoints.
func (l *Log) dueByCount() bool {
	size := l.tree.Size()
	if !l.due() {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return size-min(size, l.latest) >= l.opts.CheckpointEvery
}

// SignCheckpoint signs a checkpoint of the tree as it is now, records it
// in the store (a CheckpointSigned event in stream "checkpoints") and
// returns it. If the tree has not grown since the latest checkpoint it
// returns that one. <dir>/checkpoint.latest follows on the next interval
// tick or at Close.
//
// Returns an error matching ErrAuditFailed (the *AuditError) once the
// self-audit failed.
func (l *Log) SignCheckpoint(ctx context.Context) (Checkpoint, error) {
	l.signMu.Lock()
	defer l.signMu.Unlock()
	return l.signCheckpoint(ctx)
}

// signCheckpoint is SignCheckpoint, called with signMu held.
func (l *Log) signCheckpoint(ctx context.Context) (Checkpoint, error) {
	if e := l.audit.Load(); e != nil {
		return Checkpoint{}, fmt.Errorf("sign checkpoint: %w", e)
	}
	size, root := l.tree.Root()
	l.mu.Lock()
	if l.hasLatest && l.latest >= size {
		cp := l.checkpoints[l.latest].cp
		l.mu.Unlock()
		return cp, nil
	}
	l.mu.Unlock()
	cp, err := SignCheckpoint(l.key.Signer, l.key.Name(), size, root)
	if err != nil {
		return Checkpoint{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Checkpoint{}, err
	}
	ev := domain.CheckpointSigned{Origin: cp.Origin, TreeSize: size, RootHash: hex.EncodeToString(root), Note: cp.Note}
	data, err := json.Marshal(ev)
	if err != nil {
		return Checkpoint{}, err
	}
	res, err := l.store.Append(ctx, domain.CheckpointStream, eventstore.Any(), eventstore.EventData{
		ID: id, Type: ev.EventType(), Schema: 1, Data: data,
		Metadata: eventstore.Metadata{ActorID: domain.RoleSystem, ActorRole: domain.RoleSystem, CorrelationID: id},
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("record checkpoint %d: %w", size, err)
	}
	cp.Position = res.Positions[0]
	l.index(eventstore.RecordedEvent{EventData: eventstore.EventData{ID: id, Type: ev.EventType(), Data: data},
		StreamID: domain.CheckpointStream, Position: cp.Position})
	return cp, nil
}

// PublicKey returns the checkpoint verifier key (note format,
// "origin+hash+base64"), the content of <dir>/checkpoint.pub.
func (l *Log) PublicKey() string { return l.key.VerifierKey }

// Verifier returns the checkpoint signature verifier.
func (l *Log) Verifier() note.Verifier { return l.key.Verifier }

// Origin returns the log's origin (its key's name).
func (l *Log) Origin() string { return l.key.Name() }

// Tree returns the log's Merkle tree.
func (l *Log) Tree() *Tree { return l.tree }

// WaitFor blocks until the tree covers position size. Returns the
// follower's error if it stopped, or the context's.
func (l *Log) WaitFor(ctx context.Context, size uint64) error { return l.follower.WaitFor(ctx, size) }

// LatestCheckpoint returns the checkpoint with the largest tree size.
// Returns ErrNoCheckpoint if none was signed yet.
func (l *Log) LatestCheckpoint() (Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.hasLatest {
		return Checkpoint{}, fmt.Errorf("%w: none signed yet", ErrNoCheckpoint)
	}
	return l.checkpoints[l.latest].cp, nil
}

// Checkpoint returns the checkpoint signed at tree size size. Returns
// ErrNoCheckpoint if none was.
func (l *Log) Checkpoint(size uint64) (Checkpoint, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.checkpoints[size]
	if !ok {
		return Checkpoint{}, fmt.Errorf("%w: none at tree size %d", ErrNoCheckpoint, size)
	}
	return e.cp, nil
}

// Checkpoints returns the tree sizes of every signed checkpoint, in order.
func (l *Log) Checkpoints() []uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]uint64(nil), l.sizes...)
}

// InclusionProof proves that the event at position is in the tree of size
// treeSize (0 means the latest checkpoint's size). Requires
// 0 < position <= treeSize <= the tree's size. Returns ErrInvalidRange for
// position 0, ErrNoCheckpoint when treeSize is 0 and nothing was signed,
// ErrSizeBeyondTree, ErrPositionBeyondTree, or an error wrapping
// ErrInconsistent if the store's event no longer matches its leaf.
func (l *Log) InclusionProof(ctx context.Context, position, treeSize uint64) (InclusionProof, error) {
	if position == 0 {
		return InclusionProof{}, fmt.Errorf("%w: positions start at 1", ErrInvalidRange)
	}
	if treeSize == 0 {
		cp, err := l.LatestCheckpoint()
		if err != nil {
			return InclusionProof{}, err
		}
		treeSize = cp.Size
	}
	if size := l.tree.Size(); treeSize > size {
		return InclusionProof{}, fmt.Errorf("%w: tree size %d asked, the tree has %d", ErrSizeBeyondTree, treeSize, size)
	}
	if position > treeSize {
		return InclusionProof{}, fmt.Errorf("%w: position %d is beyond tree size %d", ErrPositionBeyondTree, position, treeSize)
	}
	recs, err := l.store.ReadAll(ctx, position, 1)
	if err != nil {
		return InclusionProof{}, err
	}
	if len(recs) != 1 || recs[0].Position != position {
		return InclusionProof{}, fmt.Errorf("%w: the store has no event at position %d", ErrInconsistent, position)
	}
	leaf := eventstore.EncodeCanonical(recs[0])
	leafHash := hasher.HashLeaf(leaf)
	if stored, err := l.tree.LeafHashAt(position - 1); err != nil || !bytes.Equal(stored, leafHash) {
		return InclusionProof{}, fmt.Errorf("%w: the store's event at position %d no longer matches its Merkle leaf", ErrInconsistent, position)
	}
	path, err := l.tree.InclusionProof(position-1, treeSize)
	if err != nil {
		return InclusionProof{}, err
	}
	root, err := l.tree.RootAt(treeSize)
	if err != nil {
		return InclusionProof{}, err
	}
	if err := proof.VerifyInclusion(hasher, position-1, treeSize, leafHash, path, root); err != nil {
		l.log.Error("transparency log: Merkle tree files are damaged; remove the merkle directory to rebuild them", "err", err)
		return InclusionProof{}, fmt.Errorf("%w: the stored tree gives a proof that does not verify", ErrInconsistent)
	}
	p := InclusionProof{
		LeafIndex: position - 1, TreeSize: treeSize,
		LeafHex: hex.EncodeToString(leaf), LeafHashHex: hex.EncodeToString(leafHash),
		PathHex: hexes(path), RootHex: hex.EncodeToString(root),
	}
	if cp, err := l.Checkpoint(treeSize); err == nil {
		p.Checkpoint = cp.Note
	}
	return p, nil
}

// ConsistencyProof proves that the tree of size from is a prefix of the
// tree of size to. Requires from <= to <= the tree's size; returns
// ErrInvalidRange or ErrSizeBeyondTree otherwise.
func (l *Log) ConsistencyProof(from, to uint64) (ConsistencyProof, error) {
	path, err := l.tree.ConsistencyProof(from, to)
	if err != nil {
		return ConsistencyProof{}, err
	}
	// A served proof is checked first: a damaged node file must not
	// make an honest log look rewritten.
	root1, err1 := l.tree.RootAt(from)
	root2, err2 := l.tree.RootAt(to)
	if err := errors.Join(err1, err2); err != nil {
		return ConsistencyProof{}, err
	}
	if err := proof.VerifyConsistency(hasher, from, to, path, root1, root2); err != nil {
		l.log.Error("transparency log: Merkle tree files are damaged; remove the merkle directory to rebuild them", "err", err)
		return ConsistencyProof{}, fmt.Errorf("%w: the stored tree gives a proof that does not verify", ErrInconsistent)
	}
	return ConsistencyProof{From: from, To: to, PathHex: hexes(path)}, nil
}

// AddCosignature verifies a witness's cosignature of the checkpoint at
// size and records it (one CheckpointCosigned event per new witness
// signature in the note). msg is the checkpoint note with the witness's
// signature added (see Cosign). Returns the checkpoint's cosigners.
//
// Returns ErrNoCheckpoint if no checkpoint was signed at size,
// ErrMalformedCheckpoint for an unparsable note, ErrCheckpointMismatch if
// its text is not that checkpoint, ErrBadSignature if a signature by a
// known key does not verify, ErrUnknownWitness if no trusted witness
// signed it, and an error matching ErrAuditFailed once the self-audit
// failed.
func (l *Log) AddCosignature(ctx context.Context, size uint64, msg []byte) ([]Cosigner, error) {
	if e := l.audit.Load(); e != nil {
		return nil, fmt.Errorf("record cosignature: %w", e)
	}
	l.mu.Lock()
	e, ok := l.checkpoints[size]
	list := []note.Verifier{l.key.Verifier}
	for _, v := range l.witnesses {
		list = append(list, v)
	}
	l.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: none at tree size %d", ErrNoCheckpoint, size)
	}
	n, err := note.Open(msg, note.VerifierList(list...))
	if err != nil {
		var inv *note.InvalidSignatureError
		var unv *note.UnverifiedNoteError
		switch {
		case errors.As(err, &inv):
			return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
		case errors.As(err, &unv):
			return nil, fmt.Errorf("%w: no signature by a trusted witness", ErrUnknownWitness)
		default:
			return nil, fmt.Errorf("%w: %v", ErrMalformedCheckpoint, err)
		}
	}
	if body, _, _ := strings.Cut(e.cp.Note, "\n\n"); n.Text != body+"\n" {
		return nil, fmt.Errorf("%w: the note's text is not the checkpoint signed at size %d", ErrCheckpointMismatch, size)
	}
	l.cosignMu.Lock()
	defer l.cosignMu.Unlock()
	found := false
	for _, sig := range n.Sigs {
		if sig.Name == l.key.Name() && sig.Hash == l.key.Verifier.KeyHash() {
			continue
		}
		found = true
		vkey := l.witnessKey(sig.Name, sig.Hash)
		if l.hasCosigner(size, vkey) {
			continue
		}
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		ev := domain.CheckpointCosigned{Witness: sig.Name, WitnessKey: vkey, TreeSize: size, Note: string(msg)}
		data, err := json.Marshal(ev)
		if err != nil {
			return nil, err
		}
		res, err := l.store.Append(ctx, domain.CheckpointStream, eventstore.Any(), eventstore.EventData{
			ID: id, Type: ev.EventType(), Schema: 1, Data: data,
			Metadata: eventstore.Metadata{ActorID: domain.RoleSystem, ActorRole: domain.RoleSystem,
				Reason: "cosigned by witness " + sig.Name, CausationID: e.eventID, CorrelationID: e.eventID},
		})
		if err != nil {
			return nil, fmt.Errorf("record cosignature of %s: %w", sig.Name, err)
		}
		l.index(eventstore.RecordedEvent{EventData: eventstore.EventData{ID: id, Type: ev.EventType(), Data: data},
			StreamID: domain.CheckpointStream, Position: res.Positions[0]})
	}
	if !found {
		return nil, fmt.Errorf("%w: no signature by a trusted witness", ErrUnknownWitness)
	}
	return l.Cosigners(size), nil
}

func (l *Log) witnessKey(name string, hash uint32) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, v := range l.witnesses {
		if v.Name() == name && v.KeyHash() == hash {
			return k
		}
	}
	return ""
}

func (l *Log) hasCosigner(size uint64, vkey string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.cosigners[size] {
		if c.WitnessKey == vkey {
			return true
		}
	}
	return false
}

// Cosigners returns the witnesses that cosigned the checkpoint at size,
// in the order recorded (none if there is no such checkpoint).
func (l *Log) Cosigners(size uint64) []Cosigner {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Cosigner(nil), l.cosigners[size]...)
}

// Close stops the checkpointer, waits (up to 10s) for the follower to
// reach the store's head and signs a last checkpoint if any event is
// unsigned, then stops the follower and syncs and closes the tree. The
// store must still be open.
func (l *Log) Close() error {
	l.closeMu.Lock()
	defer l.closeMu.Unlock()
	if l.isClosed {
		return nil
	}
	l.isClosed = true
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if head, err := l.store.Head(ctx); err == nil {
		if err := l.follower.WaitFor(ctx, head); err == nil && l.due() {
			if _, err := l.SignCheckpoint(ctx); err != nil {
				errs = append(errs, fmt.Errorf("final checkpoint: %w", err))
			}
		}
	} else if !errors.Is(err, eventstore.ErrClosed) {
		errs = append(errs, err)
	} else {
		l.log.Warn("transparency log: store closed before the log; no final checkpoint")
	}
	l.follower.Close()
	if err := l.persist(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, l.tree.Close())
	return errors.Join(errs...)
}

func hexes(path [][]byte) []string {
	out := make([]string, len(path))
	for i, h := range path {
		out[i] = hex.EncodeToString(h)
	}
	return out
}
