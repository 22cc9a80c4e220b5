package transparency

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
)

// Checker verifies a log read in order, from position 1, without trusting
// whoever supplied it: it rebuilds the Merkle tree from every event's
// canonical bytes, checks that positions and stream revisions run without
// gap, and checks every CheckpointSigned event it meets (signature by the
// ledger's key, and root equal to the rebuilt tree's at that size) and
// every CheckpointCosigned (the witness's signature on that checkpoint).
// The offline verifier, Export and VerifyStore are built on it. A Checker
// holds the whole tree in memory (64 bytes per event).
//
// Trust starts from keys the verifier holds: the ledger's key given to
// NewChecker, and the witness keys given to TrustWitness. A cosignature
// recorded in the log carries its witness's key, which whoever wrote the
// log chose; it counts as a witness's only when that key is one the
// verifier trusts (Report.Cosignatures), and is otherwise only checked
// for form and reported apart (Report.UntrustedCosignatures).
type Checker struct {
	v         note.Verifier
	witnesses map[string]string // trusted witness name -> verifier key
	tree      *Tree
	revs      map[string]uint64 // next revision of each stream
	bodies    map[uint64]string // checkpoint body by size
	report    Report
	leafBuf   []byte
	leafHash  [1][]byte
}

// Report summarises a successful verification.
type Report struct {
	// Events is the number of events checked (the log's size).
	Events uint64
	// Root is the rebuilt tree's root over all Events.
	Root []byte
	// Checkpoints is how many signed checkpoints were verified.
	Checkpoints int
	// Cosignatures is how many cosignatures by trusted witnesses (see
	// Checker.TrustWitness) were verified.
	Cosignatures int
	// UntrustedCosignatures is how many recorded cosignatures name a
	// witness key the verifier does not hold: well-formed, but vouching
	// for nothing.
	UntrustedCosignatures int
	// Witnessed is the largest tree size a trusted witness cosigned: the
	// events up to it are vouched for by someone other than the ledger.
	Witnessed uint64
	// Verified is the largest tree size a verified checkpoint covers:
	// events after it are well-formed but vouched for by no signature.
	Verified uint64
}

// NewChecker returns a Checker of logs signed by v.
func NewChecker(v note.Verifier) *Checker {
	return &Checker{v: v, witnesses: map[string]string{}, tree: NewMemoryTree(), revs: map[string]uint64{}, bodies: map[uint64]string{}}
}

// TrustWitness makes the Checker trust cosignatures by the witness whose
// note verifier key is vkey. Returns an error wrapping ErrBadKey for a
// malformed key, or one named like the ledger's.
func (c *Checker) TrustWitness(vkey string) error {
	vkey = strings.TrimSpace(vkey)
	wv, err := note.NewVerifier(vkey)
	if err != nil {
		return fmt.Errorf("%w: witness key %q: %v", ErrBadKey, vkey, err)
	}
	if wv.Name() == c.v.Name() {
		return fmt.Errorf("%w: witness key %q has the ledger's own name", ErrBadKey, vkey)
	}
	c.witnesses[wv.Name()] = vkey
	return nil
}

// Size returns how many events were added.
func (c *Checker) Size() uint64 { return c.tree.Size() }

// Report returns what was verified so far.
func (c *Checker) Report() Report {
	r := c.report
	r.Events, r.Root = c.tree.Root()
	return r
}

// Add checks the next event. It returns a *VerifyError for the first
// problem: a position that does not follow (Missing, Inserted), a stream
// revision that does not follow (Changed), a checkpoint whose signature
// fails (BadSignature) or whose root is not the rebuilt one (Changed, over
// the range since the last verified checkpoint). After an error the
// Checker must not be used further.
func (c *Checker) Add(e eventstore.RecordedEvent) error {
	next := c.tree.Size() + 1
	switch {
	case e.Position == next:
	case e.Position < next:
		return &VerifyError{Position: e.Position, Problem: Inserted, Reason: fmt.Sprintf("position %d appears again after position %d", e.Position, next-1)}
	default:
		return &VerifyError{Position: next, Problem: Missing, Reason: fmt.Sprintf("the log jumps from position %d to %d", next-1, e.Position)}
	}
	if want := c.revs[e.StreamID]; e.Revision != want {
		return &VerifyError{Position: e.Position, Problem: Changed,
			Reason: fmt.Sprintf("stream %s: revision %d where %d was due", e.StreamID, e.Revision, want)}
	}
	if e.StreamID == domain.CheckpointStream {
		if err := c.checkRecord(e); err != nil {
			return err
		}
	}
	c.revs[e.StreamID]++
	c.leafBuf = eventstore.AppendCanonical(c.leafBuf[:0], e)
	c.leafHash[0] = hasher.HashLeaf(c.leafBuf)
	if err := c.tree.AppendLeaves(e.Position-1, c.leafHash[:]); err != nil {
		return err
	}
	return nil
}

// checkRecord verifies a CheckpointSigned or CheckpointCosigned event
// against the tree built so far (which holds every position before it).
func (c *Checker) checkRecord(e eventstore.RecordedEvent) error {
	switch e.Type {
	case "CheckpointSigned":
		var ev domain.CheckpointSigned
		if err := strictJSON(e.Data, &ev); err != nil {
			return &VerifyError{Position: e.Position, Problem: Malformed, Reason: "CheckpointSigned data: " + err.Error()}
		}
		cp, err := c.CheckNote([]byte(ev.Note), e.Position)
		if err != nil {
			return err
		}
		if cp.Size != ev.TreeSize || hex.EncodeToString(cp.Root) != ev.RootHash || cp.Origin != ev.Origin {
			return &VerifyError{Position: e.Position, Problem: Changed, Reason: "the CheckpointSigned fields differ from its signed note"}
		}
	case "CheckpointCosigned":
		var ev domain.CheckpointCosigned
		if err := strictJSON(e.Data, &ev); err != nil {
			return &VerifyError{Position: e.Position, Problem: Malformed, Reason: "CheckpointCosigned data: " + err.Error()}
		}
		body, ok := c.bodies[ev.TreeSize]
		if !ok {
			return &VerifyError{Position: e.Position, Problem: Changed, Reason: fmt.Sprintf("cosignature of a checkpoint at size %d that the log does not hold", ev.TreeSize)}
		}
		wv, err := note.NewVerifier(ev.WitnessKey)
		if err != nil || wv.Name() != ev.Witness {
			return &VerifyError{Position: e.Position, Problem: Changed, Reason: fmt.Sprintf("witness key %q is not a key of %q", ev.WitnessKey, ev.Witness)}
		}
		n, err := note.Open([]byte(ev.Note), note.VerifierList(wv))
		if err != nil {
			return &VerifyError{Position: e.Position, Problem: BadSignature, Reason: fmt.Sprintf("cosignature of %s at size %d: %v", ev.Witness, ev.TreeSize, err)}
		}
		if n.Text != body {
			return &VerifyError{Position: e.Position, Problem: Changed, Reason: fmt.Sprintf("%s cosigned a text that is not the checkpoint at size %d", ev.Witness, ev.TreeSize)}
		}
		trusted, known := c.witnesses[ev.Witness]
		switch {
		case !known:
			c.report.UntrustedCosignatures++
		case trusted != strings.TrimSpace(ev.WitnessKey):
			return &VerifyError{Position: e.Position, Problem: BadSignature,
				Reason: fmt.Sprintf("the cosignature names witness %s, whose key you trust, but is signed by another key (%s)", ev.Witness, ev.WitnessKey)}
		default:
			c.report.Cosignatures++
			c.report.Witnessed = max(c.report.Witnessed, ev.TreeSize)
		}
	}
	return nil
}

// CheckNote verifies a checkpoint note against the events added so far:
// its signature by the ledger's key, and its root equal to the rebuilt
// tree's at its size. at is the position of the event recording it (0 for
// a checkpoint from outside the log, such as an export's last line or a
// saved anchor), for error messages. Returns a *VerifyError: BadSignature
// or Malformed for the note, Missing when it covers more events than were
// added, Changed when the root differs.
func (c *Checker) CheckNote(msg []byte, at uint64) (Checkpoint, error) {
	where := "the checkpoint"
	pos := at
	if at > 0 {
		where = fmt.Sprintf("the checkpoint recorded at position %d", at)
	}
	cp, err := ParseCheckpoint(msg, c.v)
	if err != nil {
		p := BadSignature
		if errors.Is(err, ErrMalformedCheckpoint) {
			p = Malformed
		}
		if pos == 0 {
			pos = c.tree.Size()
		}
		return Checkpoint{}, &VerifyError{Position: pos, Problem: p, Reason: where + ": " + err.Error()}
	}
	size := c.tree.Size()
	if cp.Size > size {
		if at > 0 {
			return Checkpoint{}, &VerifyError{Position: at, Problem: Changed, Reason: fmt.Sprintf("%s claims tree size %d, beyond its own position", where, cp.Size)}
		}
		return Checkpoint{}, &VerifyError{Position: size + 1, Problem: Missing,
			Reason: fmt.Sprintf("%s covers %d events but only %d are present: positions %d..%d are missing", where, cp.Size, size, size+1, cp.Size)}
	}
	root, err := c.tree.RootAt(cp.Size)
	if err != nil {
		return Checkpoint{}, err
	}
	if !bytes.Equal(root, cp.Root) {
		from := c.report.Verified + 1
		if c.report.Verified >= cp.Size {
			from = 1
		}
		return Checkpoint{}, &VerifyError{Position: from, To: cp.Size, Problem: Changed,
			Reason: fmt.Sprintf("the events up to position %d do not hash to the root signed in %s (tree size %d): an event in positions %d..%d was changed",
				cp.Size, where, cp.Size, from, cp.Size)}
	}
	body, _, _ := strings.Cut(cp.Note, "\n\n")
	c.bodies[cp.Size] = body + "\n"
	c.report.Checkpoints++
	c.report.Verified = max(c.report.Verified, cp.Size)
	cp.Position = at
	return cp, nil
}

// strictJSON decodes data into v rejecting unknown fields and trailing
// data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// VerifyStore re-verifies a whole store against the ledger's checkpoint
// key v: it reads every event from position 1 through a Checker, and then
// checks anchor, when not nil: a checkpoint note kept outside the store
// (<dir>/checkpoint.latest, or one a witness saved), which catches a store
// cut short below a size that was signed. Returns the Report and a
// *VerifyError naming the first bad position, or the store's error
// (eventstore.ErrCorrupt when its own checksums fail).
func VerifyStore(ctx context.Context, store eventstore.Store, v note.Verifier, anchor []byte) (Report, error) {
	return NewChecker(v).CheckStore(ctx, store, anchor)
}

// CheckStore is VerifyStore with the Checker's trust (its ledger key and
// the witnesses it trusts). The Checker must be new.
func (c *Checker) CheckStore(ctx context.Context, store eventstore.Store, anchor []byte) (Report, error) {
	from := uint64(1)
	for {
		recs, err := store.ReadAll(ctx, from, 4096)
		if err != nil {
			return c.Report(), fmt.Errorf("read position %d: %w", from, err)
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if err := c.Add(r); err != nil {
				return c.Report(), err
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
	if anchor != nil {
		if _, err := c.CheckNote(anchor, 0); err != nil {
			return c.Report(), err
		}
	}
	return c.Report(), nil
}
