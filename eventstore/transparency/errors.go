package transparency

import (
	"errors"
	"fmt"
)

// Errors returned for a proof or checkpoint the log cannot give.
var (
	// ErrPositionBeyondTree is returned when a proof is asked for a
	// position that the requested (or current) tree size does not cover.
	ErrPositionBeyondTree = errors.New("transparency: position beyond the tree size")
	// ErrSizeBeyondTree is returned when a tree size larger than the
	// log's current tree is asked for.
	ErrSizeBeyondTree = errors.New("transparency: tree size beyond the log")
	// ErrInvalidRange is returned when a consistency proof is asked from a
	// larger size to a smaller one, or a position of 0 is given.
	ErrInvalidRange = errors.New("transparency: invalid range")
	// ErrNoCheckpoint is returned when no checkpoint was signed yet, or
	// none at the size asked for.
	ErrNoCheckpoint = errors.New("transparency: no such checkpoint")
)

// Errors returned when checking signatures and cosignatures.
var (
	// ErrBadSignature is returned when a checkpoint or cosignature does not
	// verify with the key it claims.
	ErrBadSignature = errors.New("transparency: bad signature")
	// ErrUnknownWitness is returned when a cosignature is not signed by
	// any witness the ledger trusts.
	ErrUnknownWitness = errors.New("transparency: cosignature from an unknown witness")
	// ErrCheckpointMismatch is returned when a cosigned note's text is not
	// the checkpoint the ledger signed at that size.
	ErrCheckpointMismatch = errors.New("transparency: note is not the ledger's checkpoint")
	// ErrMalformedCheckpoint is returned when a note or its checkpoint body
	// cannot be parsed.
	ErrMalformedCheckpoint = errors.New("transparency: malformed checkpoint")
	// ErrInconsistent is returned when a consistency or inclusion proof
	// does not verify: the log was rewritten, or the proof is wrong.
	ErrInconsistent = errors.New("transparency: proof does not verify")
	// ErrBadKey is returned when a key file cannot be parsed.
	ErrBadKey = errors.New("transparency: bad key")
)

// Errors about the tree and log themselves.
var (
	// ErrNotContiguous is returned when leaves are appended out of order.
	ErrNotContiguous = errors.New("transparency: leaves do not continue the tree")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("transparency: closed")
	// ErrAuditFailed is returned by SignCheckpoint and AddCosignature once
	// the log's self-audit found that its events no longer hash to a
	// checkpoint it signed: it signs and records nothing more (see
	// Log.AuditFailure).
	ErrAuditFailed = errors.New("transparency: self-audit failed; signing stopped")
)

// AuditError is the self-audit's finding: the events of the log no longer
// hash to the root of a checkpoint it signed. A root cannot say which
// event changed, so the damage is the range from the position after the
// last checkpoint that still held (FirstBad) to the checkpoint's size. It
// matches ErrAuditFailed with errors.Is.
type AuditError struct {
	// TreeSize is the size of the checkpoint that no longer holds, and
	// Position where its CheckpointSigned event is in the log.
	TreeSize, Position uint64
	// FirstBad is the first position that may have changed: one past the
	// previous checkpoint's size (which still held), or 1.
	FirstBad uint64
	// SignedRoot is the root that was signed; Root the one the log's
	// events hash to now (nil if it could not be computed).
	SignedRoot, Root []byte
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("the log no longer matches the checkpoint signed at tree size %d (recorded at position %d): an event in positions %d..%d was changed after signing",
		e.TreeSize, e.Position, e.FirstBad, e.TreeSize)
}

// Is makes an AuditError match ErrAuditFailed.
func (e *AuditError) Is(target error) bool { return target == ErrAuditFailed }

// Problem names what kind of damage a verification found.
type Problem string

// Kinds of damage, as reported by Checker and the offline verifier.
const (
	// Changed: an event's bytes differ from what was signed (leaf or
	// root mismatch).
	Changed Problem = "changed"
	// Missing: a position is absent (a gap, or the log ends early).
	Missing Problem = "missing"
	// Inserted: a position appears twice, or an event was added that the
	// signed log does not hold.
	Inserted Problem = "inserted"
	// Reordered: positions appear out of order.
	Reordered Problem = "reordered"
	// BadSignature: a checkpoint's signature does not verify.
	BadSignature Problem = "bad signature"
	// Malformed: a line or event cannot be decoded.
	Malformed Problem = "malformed"
)

// VerifyError reports the first damage found in a log: where, what kind,
// and why. Position is the first position known to be bad; for Changed it
// is the first position of the range (From..To) whose events no longer hash
// to the signed root, since a root cannot say which leaf changed.
type VerifyError struct {
	Position uint64
	Problem  Problem
	// To is the last position of the damaged range for Changed, else 0.
	To     uint64
	Reason string
}

func (e *VerifyError) Error() string {
	if e.Problem == Changed && e.To > e.Position {
		return fmt.Sprintf("positions %d..%d: %s: %s", e.Position, e.To, e.Problem, e.Reason)
	}
	return fmt.Sprintf("position %d: %s: %s", e.Position, e.Problem, e.Reason)
}
