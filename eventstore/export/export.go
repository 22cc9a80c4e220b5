// Package export owns Concord's export format: the whole log as NDJSON,
// one event per line with every envelope field, closed by a line carrying
// a freshly signed checkpoint of everything above it. It writes exports
// (Export), checks them offline against the ledger's public key (Verify)
// and loads them into a store (Import). docs/verification.md describes
// the format for auditors.
package export

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// Progress reports how far Export, Verify or Import got.
type Progress struct {
	// Events is the number of events done.
	Events uint64
	// Total is the number of events to do, or 0 when unknown (Verify and
	// Import read a stream of unknown length).
	Total uint64
	// Bytes is the number of export bytes written or read.
	Bytes int64
}

// progressEvery is how many events pass between progress reports.
const progressEvery = 1024

// Errors of Export and Import.
var (
	// ErrUnverifiedStore is returned (wrapped) by Export when the store does
	// not match its own signed checkpoints: it refuses to sign over a log
	// that was changed.
	ErrUnverifiedStore = errors.New("export: the store does not match its own checkpoints")
	// ErrDiverges is returned (wrapped) by Import when the export is not a
	// continuation of the store's log.
	ErrDiverges = errors.New("export: the export does not continue the store's log")
	// ErrIncomplete is returned (wrapped) by Import when the export ends
	// without its checkpoint line.
	ErrIncomplete = errors.New("export: the export has no checkpoint line at its end")
)

// Summary describes a finished Export or Import.
type Summary struct {
	// Events is the number of event lines.
	Events uint64
	// Checkpoint is the export's final, signed checkpoint.
	Checkpoint transparency.Checkpoint
	// Matched (Import) is how many events were already in the store,
	// identical.
	Matched uint64
	// Imported (Import) is how many events were written.
	Imported uint64
	// Restamped (Import) is how many written events the store recorded
	// with its own time instead of the exported one, because it does not
	// implement Importer; FirstRestamped is the first of them. Their
	// canonical bytes, hence the Merkle tree from there on, differ from
	// the export's.
	Restamped      uint64
	FirstRestamped uint64
}

// Export writes every event of store, from position 1 to its head when
// Export starts, to w as NDJSON, then a line with a checkpoint of exactly
// those events signed with key (the ledger's checkpoint key). Before
// signing it checks the store against the checkpoints recorded in it;
// returns an error wrapping ErrUnverifiedStore (and writes no checkpoint
// line) if they do not hold. progress, if not nil, is called every 1024
// events and at the end.
func Export(ctx context.Context, store eventstore.Store, w io.Writer, key transparency.Key, progress func(Progress)) (Summary, error) {
	total, err := store.Head(ctx)
	if err != nil {
		return Summary{}, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	c := transparency.NewChecker(key.Verifier)
	var line []byte
	var p Progress
	p.Total = total
	for from := uint64(1); from <= total; {
		recs, err := store.ReadAll(ctx, from, int(min(1024, total-from+1)))
		if err != nil {
			return Summary{}, fmt.Errorf("read from position %d: %w", from, err)
		}
		if len(recs) == 0 {
			return Summary{}, fmt.Errorf("read from position %d: the store returned nothing below its head %d", from, total)
		}
		for _, e := range recs {
			if e.Position > total {
				break
			}
			if err := c.Add(e); err != nil {
				return Summary{}, fmt.Errorf("%w: %w", ErrUnverifiedStore, err)
			}
			line = AppendEvent(line[:0], e)
			if _, err := bw.Write(line); err != nil {
				return Summary{}, err
			}
			p.Events++
			p.Bytes += int64(len(line))
			if progress != nil && p.Events%progressEvery == 0 {
				progress(p)
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
	rep := c.Report()
	cp, err := transparency.SignCheckpoint(key.Signer, key.Name(), rep.Events, rep.Root)
	if err != nil {
		return Summary{}, err
	}
	line = AppendCheckpoint(line[:0], cp)
	if _, err := bw.Write(line); err != nil {
		return Summary{}, err
	}
	if err := bw.Flush(); err != nil {
		return Summary{}, err
	}
	p.Bytes += int64(len(line))
	if progress != nil {
		progress(p)
	}
	return Summary{Events: rep.Events, Checkpoint: cp}, nil
}

// lineReader reads an export line by line, with line numbers.
type lineReader struct {
	r     *bufio.Reader
	n     int // number of the line last read, from 1
	bytes int64
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20)}
}

// next returns the next line without its newline. It returns io.EOF at
// the end, and an error wrapping ErrMalformed for a line over MaxLineSize
// or a last line without its newline.
func (lr *lineReader) next() ([]byte, error) {
	var buf []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxLineSize+1 {
			lr.n++
			return nil, fmt.Errorf("%w: line %d is over %d bytes", ErrMalformed, lr.n, MaxLineSize)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF {
			if len(buf) == 0 {
				return nil, io.EOF
			}
			lr.n++
			lr.bytes += int64(len(buf))
			return nil, fmt.Errorf("%w: line %d does not end with a newline (cut short?)", ErrMalformed, lr.n)
		}
		if err != nil {
			return nil, err
		}
		lr.n++
		lr.bytes += int64(len(buf))
		return buf[:len(buf)-1], nil
	}
}

// Verify checks an export against the ledger's checkpoint verifier key
// v, trusting nothing else: every line must be in the fixed form, the
// positions must run 1, 2, 3… with none missing, repeated or out of order,
// every event's leaf is recomputed from its canonical bytes, every
// CheckpointSigned event inside the log and the final checkpoint line must
// be signed by v and match the rebuilt tree's root at their size, and the
// final checkpoint must cover exactly the events present.
//
// It returns a Report, or an error naming the line and wrapping a
// *transparency.VerifyError that gives the first bad position and why
// (changed, missing, inserted, reordered, bad signature, malformed).
// progress, if not nil, is called every 1024 events and at the end.
func Verify(r io.Reader, v note.Verifier, progress func(Progress)) (transparency.Report, error) {
	return VerifyWith(r, transparency.NewChecker(v), progress)
}

// VerifyWith is Verify with the trust of c, a new Checker (the ledger's
// key, and the witnesses it trusts: see transparency.Checker.TrustWitness).
func VerifyWith(r io.Reader, c *transparency.Checker, progress func(Progress)) (transparency.Report, error) {
	lr := newLineReader(r)
	var p Progress
	var trailer *transparency.Checkpoint
	trailerLine := 0
	for {
		raw, err := lr.next()
		if err == io.EOF {
			break
		}
		next := c.Size() + 1
		if err != nil {
			return c.Report(), lineErr(lr.n, &transparency.VerifyError{Position: next, Problem: transparency.Malformed, Reason: err.Error()})
		}
		if trailer != nil {
			return c.Report(), lineErr(lr.n, &transparency.VerifyError{Position: next, Problem: transparency.Inserted,
				Reason: fmt.Sprintf("a line follows the final checkpoint (line %d)", trailerLine)})
		}
		l, err := DecodeLine(raw)
		if err != nil {
			return c.Report(), lineErr(lr.n, &transparency.VerifyError{Position: next, Problem: transparency.Malformed, Reason: err.Error()})
		}
		if l.Checkpoint != nil {
			trailer, trailerLine = l.Checkpoint, lr.n
			continue
		}
		e := l.Event
		if e.Position != next {
			return c.Report(), lineErr(lr.n, classify(lr, e.Position, next))
		}
		if err := c.Add(e); err != nil {
			return c.Report(), lineErr(lr.n, err)
		}
		p.Events++
		p.Bytes = lr.bytes
		if progress != nil && p.Events%progressEvery == 0 {
			progress(p)
		}
	}
	if trailer == nil {
		return c.Report(), lineErr(lr.n, &transparency.VerifyError{Position: c.Size() + 1, Problem: transparency.Missing,
			Reason: "the export ends without its checkpoint line: it was cut short or its last line removed"})
	}
	cp, err := c.CheckNote([]byte(trailer.Note), 0)
	if err != nil {
		return c.Report(), lineErr(trailerLine, err)
	}
	if cp.Size != trailer.Size || !bytes.Equal(cp.Root, trailer.Root) || cp.Origin != trailer.Origin {
		return c.Report(), lineErr(trailerLine, &transparency.VerifyError{Position: c.Size(), Problem: transparency.Changed,
			Reason: "the checkpoint line's fields differ from its signed note"})
	}
	if cp.Size < c.Size() {
		return c.Report(), lineErr(trailerLine, &transparency.VerifyError{Position: cp.Size + 1, Problem: transparency.Inserted,
			Reason: fmt.Sprintf("positions %d..%d are not covered by the export's signed checkpoint (size %d)", cp.Size+1, c.Size(), cp.Size)})
	}
	p.Bytes = lr.bytes
	if progress != nil {
		progress(p)
	}
	return c.Report(), nil
}

// classify explains a position that is not the next one: a repeat
// (inserted), a jump whose missing position comes later (reordered), or a
// jump whose missing position never comes (missing). It reads the rest of
// the export to tell the last two apart. Until the first problem, line n
// holds position n, so a repeat's first line is its position.
func classify(lr *lineReader, got, want uint64) *transparency.VerifyError {
	if got == 0 {
		return &transparency.VerifyError{Position: want, Problem: transparency.Inserted, Reason: "an event claims position 0, which does not exist"}
	}
	if got < want {
		return &transparency.VerifyError{Position: got, Problem: transparency.Inserted,
			Reason: fmt.Sprintf("position %d appears again (first at line %d)", got, got)}
	}
	at := lr.n
	for {
		raw, err := lr.next()
		if err != nil {
			break
		}
		l, err := DecodeLine(raw)
		if err != nil || l.Checkpoint != nil {
			continue
		}
		if l.Event.Position == want {
			return &transparency.VerifyError{Position: want, Problem: transparency.Reordered,
				Reason: fmt.Sprintf("position %d comes at line %d, after position %d at line %d", want, lr.n, got, at)}
		}
	}
	return &transparency.VerifyError{Position: want, Problem: transparency.Missing,
		Reason: fmt.Sprintf("the log jumps from position %d to %d", want-1, got)}
}

// LineError is a verification error found at a line of an export.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

func lineErr(line int, err error) error { return &LineError{Line: line, Err: err} }

// Importer is implemented by stores that can take events as recorded
// elsewhere, keeping their positions, revisions and recorded times, so
// that an imported log has the same canonical bytes, hence the same Merkle
// tree and the same signed checkpoints, as the exported one.
type Importer interface {
	// Import appends events that continue the log exactly: the first one
	// at position Head()+1, positions dense, each revision the next of its
	// stream, IDs new, recorded times not decreasing. All or nothing.
	Import(ctx context.Context, events []eventstore.RecordedEvent) error
}

// importBatch is how many events Import writes at once.
const importBatch = 1024

// Import loads an export into store. Events the store already holds must
// be identical, byte for byte (so re-running an interrupted import
// resumes it); the first event it does not hold must be at its head+1.
// A store implementing Importer keeps every event's position, revision
// and recorded time; any other store is fed with Append, keeps positions
// and revisions (checked) but stamps its own recorded time, which Summary
// reports as Restamped: the imported log then no longer matches the
// export's checkpoints from the first restamped event.
//
// Import checks the export's form and order but not its signatures: run
// Verify first. It stops at the first problem, with the events before it
// imported. Returns an error wrapping ErrMalformed, ErrDiverges or
// ErrIncomplete, or the store's.
func Import(ctx context.Context, store eventstore.Store, r io.Reader, progress func(Progress)) (Summary, error) {
	head, err := store.Head(ctx)
	if err != nil {
		return Summary{}, err
	}
	imp, _ := store.(Importer)
	lr := newLineReader(r)
	var sum Summary
	var p Progress
	var batch []eventstore.RecordedEvent
	var have []eventstore.RecordedEvent // store events read ahead for comparison
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := write(ctx, store, imp, batch, &sum); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	var trailer *transparency.Checkpoint
	for {
		raw, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, lineErr(lr.n, err)
		}
		if trailer != nil {
			return sum, lineErr(lr.n, fmt.Errorf("%w: a line follows the checkpoint line", ErrMalformed))
		}
		l, err := DecodeLine(raw)
		if err != nil {
			return sum, lineErr(lr.n, err)
		}
		if l.Checkpoint != nil {
			trailer = l.Checkpoint
			continue
		}
		e := l.Event
		if want := sum.Events + 1; e.Position != want {
			return sum, lineErr(lr.n, fmt.Errorf("%w: position %d where %d was due; the export is out of order or incomplete", ErrMalformed, e.Position, want))
		}
		sum.Events++
		if e.Position <= head {
			if len(have) == 0 {
				if have, err = store.ReadAll(ctx, e.Position, importBatch); err != nil {
					return sum, err
				}
			}
			if len(have) == 0 || have[0].Position != e.Position || !bytes.Equal(eventstore.EncodeCanonical(have[0]), eventstore.EncodeCanonical(e)) {
				return sum, lineErr(lr.n, fmt.Errorf("%w: the store already holds a different event at position %d; this export is not this store's history", ErrDiverges, e.Position))
			}
			have = have[1:]
			sum.Matched++
		} else {
			batch = append(batch, e)
			if len(batch) >= importBatch {
				if err := flush(); err != nil {
					return sum, lineErr(lr.n, err)
				}
			}
		}
		p.Events, p.Bytes = sum.Events, lr.bytes
		if progress != nil && p.Events%progressEvery == 0 {
			progress(p)
		}
	}
	if err := flush(); err != nil {
		return sum, lineErr(lr.n, err)
	}
	if trailer == nil {
		return sum, fmt.Errorf("%w: %d events read, imported up to position %d", ErrIncomplete, sum.Events, head+sum.Imported)
	}
	sum.Checkpoint = *trailer
	p.Bytes = lr.bytes
	if progress != nil {
		progress(p)
	}
	return sum, nil
}

// write stores one batch, through Importer when the store has it, else
// with Append per run of one stream, checking positions and revisions.
func write(ctx context.Context, store eventstore.Store, imp Importer, batch []eventstore.RecordedEvent, sum *Summary) error {
	if imp != nil {
		if err := imp.Import(ctx, batch); err != nil {
			return fmt.Errorf("import positions %d..%d: %w", batch[0].Position, batch[len(batch)-1].Position, err)
		}
		sum.Imported += uint64(len(batch))
		return nil
	}
	for i := 0; i < len(batch); {
		j := i + 1
		for j < len(batch) && batch[j].StreamID == batch[i].StreamID {
			j++
		}
		run := batch[i:j]
		exp := eventstore.NoStream()
		if run[0].Revision > 0 {
			exp = eventstore.Exact(run[0].Revision - 1)
		}
		data := make([]eventstore.EventData, len(run))
		for k, e := range run {
			data[k] = e.EventData
		}
		res, err := store.Append(ctx, run[0].StreamID, exp, data...)
		if err != nil {
			return fmt.Errorf("%w: append position %d to %s at revision %d: %w", ErrDiverges, run[0].Position, run[0].StreamID, run[0].Revision, err)
		}
		for k, pos := range res.Positions {
			if pos != run[k].Position {
				return fmt.Errorf("%w: the store put event %s at position %d, not %d (another writer?)", ErrDiverges, run[k].ID, pos, run[k].Position)
			}
		}
		got, err := store.ReadAll(ctx, run[0].Position, len(run))
		if err != nil {
			return err
		}
		for k := range got {
			if !got[k].RecordedAt.Equal(run[k].RecordedAt) {
				if sum.Restamped == 0 {
					sum.FirstRestamped = run[k].Position
				}
				sum.Restamped++
			}
		}
		sum.Imported += uint64(len(run))
		i = j
	}
	return nil
}
