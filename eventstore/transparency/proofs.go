package transparency

import (
	"bytes"
	"encoding/hex"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/eventstore"
)

// InclusionProof proves that one event is in the log's tree of a given
// size. It is the body of GET /v1/proofs/inclusion.
type InclusionProof struct {
	// LeafIndex is the event's position minus one.
	LeafIndex uint64 `json:"leaf_index"`
	TreeSize  uint64 `json:"tree_size"`
	// LeafHex is the event's canonical encoding (docs/events.md). The API
	// gives it only to a caller allowed to read the event; a public proof
	// carries the leaf hash alone, and whoever holds the event checks that
	// it hashes to LeafHashHex.
	LeafHex string `json:"leaf_hex,omitempty"`
	// LeafHashHex is SHA-256(0x00 || leaf).
	LeafHashHex string `json:"leaf_hash_hex"`
	// PathHex is the RFC 6962 audit path, from the leaf up.
	PathHex []string `json:"path_hex"`
	// RootHex is the tree's root at TreeSize.
	RootHex string `json:"root_hex"`
	// Checkpoint is the signed checkpoint note at TreeSize, or "" when no
	// checkpoint was signed at exactly that size.
	Checkpoint string `json:"checkpoint"`
}

// ConsistencyProof proves that the tree of size From is a prefix of the
// tree of size To. It is the body of GET /v1/proofs/consistency.
type ConsistencyProof struct {
	From    uint64   `json:"from"`
	To      uint64   `json:"to"`
	PathHex []string `json:"path_hex"`
}

// Verify checks p on its own terms: the leaf (when LeafHex is given) hashes
// to LeafHashHex, the path leads from it to RootHex, and, when v is not
// nil, Checkpoint is
// signed by v and states TreeSize and RootHex (a proof without a
// checkpoint then fails). Returns an error wrapping ErrInconsistent,
// ErrBadSignature or ErrMalformedCheckpoint.
func (p InclusionProof) Verify(v note.Verifier) error {
	leafHash, err := hex.DecodeString(p.LeafHashHex)
	if err != nil || len(leafHash) != hasher.Size() {
		return fmt.Errorf("%w: leaf_hash_hex is not a SHA-256 hash", ErrInconsistent)
	}
	if p.LeafHex != "" {
		leaf, err := hex.DecodeString(p.LeafHex)
		if err != nil {
			return fmt.Errorf("%w: leaf_hex: %v", ErrInconsistent, err)
		}
		if !bytes.Equal(leafHash, hasher.HashLeaf(leaf)) {
			return fmt.Errorf("%w: leaf_hash_hex is not the hash of leaf_hex", ErrInconsistent)
		}
		if e, err := eventstore.DecodeCanonical(leaf); err != nil || e.Position != p.LeafIndex+1 {
			return fmt.Errorf("%w: leaf_hex is not the canonical event at position %d", ErrInconsistent, p.LeafIndex+1)
		}
	}
	path, err := unhexes(p.PathHex)
	if err != nil {
		return err
	}
	root, err := hex.DecodeString(p.RootHex)
	if err != nil {
		return fmt.Errorf("%w: root_hex: %v", ErrInconsistent, err)
	}
	if err := proof.VerifyInclusion(hasher, p.LeafIndex, p.TreeSize, leafHash, path, root); err != nil {
		return fmt.Errorf("%w: inclusion of leaf %d in tree of size %d: %v", ErrInconsistent, p.LeafIndex, p.TreeSize, err)
	}
	if v == nil {
		return nil
	}
	cp, err := ParseCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return err
	}
	if cp.Size != p.TreeSize || !bytes.Equal(cp.Root, root) {
		return fmt.Errorf("%w: the checkpoint states size %d root %x, the proof size %d root %x", ErrInconsistent, cp.Size, cp.Root, p.TreeSize, root)
	}
	return nil
}

// Verify checks that p proves the tree of size p.From with root1 is a
// prefix of the tree of size p.To with root2. Returns an error wrapping
// ErrInconsistent.
func (p ConsistencyProof) Verify(root1, root2 []byte) error {
	path, err := unhexes(p.PathHex)
	if err != nil {
		return err
	}
	if err := proof.VerifyConsistency(hasher, p.From, p.To, path, root1, root2); err != nil {
		return fmt.Errorf("%w: consistency from %d to %d: %v", ErrInconsistent, p.From, p.To, err)
	}
	return nil
}

func unhexes(hs []string) ([][]byte, error) {
	out := make([][]byte, len(hs))
	for i, h := range hs {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != HashSize {
			return nil, fmt.Errorf("%w: path_hex[%d] is not a %d-byte hex hash", ErrInconsistent, i, HashSize)
		}
		out[i] = b
	}
	return out, nil
}

// CheckConsistent verifies that checkpoint next extends checkpoint prev
// (both already verified), using p. Equal sizes need equal roots; a
// smaller next is a rollback. Returns an error wrapping ErrInconsistent.
func CheckConsistent(prev, next Checkpoint, p ConsistencyProof) error {
	switch {
	case next.Size < prev.Size:
		return fmt.Errorf("%w: the log went back from size %d to %d", ErrInconsistent, prev.Size, next.Size)
	case p.From != prev.Size || p.To != next.Size:
		return fmt.Errorf("%w: proof is from %d to %d, wanted %d to %d", ErrInconsistent, p.From, p.To, prev.Size, next.Size)
	}
	return p.Verify(prev.Root, next.Root)
}
