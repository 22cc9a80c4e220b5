package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// The data directory, as the export, import and verify commands use it:
//
//	<data>/events/           the embedded segment store
//	<data>/checkpoint.key    the checkpoint signing key (transparency.KeyFile)
//	<data>/checkpoint.pub    its public key, for auditors and witnesses
//	<data>/checkpoint.latest the latest signed checkpoint
//	<data>/witnesses         trusted witness keys, one a line
//	<data>/merkle/           the Merkle tree's node files (derived data)
//	<data>/keys/             personal-data keys (eventstore/keyring)
const eventsDir = "events"

// openDataStore opens the segment store of a data directory.
func openDataStore(ctx context.Context, m *Main, data string) (*segment.Store, error) {
	if data == "" {
		return nil, Usagef("--data is required")
	}
	s, err := segment.Open(ctx, filepath.Join(data, eventsDir), segment.Options{RepairHint: ledger.RepairCommand(data)})
	if err != nil {
		return nil, fmt.Errorf("open the event store in %s: %w", data, err)
	}
	return s, nil
}

func init() {
	register(command{
		name:    "export",
		summary: "write the whole log as NDJSON, ending with a freshly signed checkpoint",
		run:     runExport,
	})
	register(command{
		name:    "import",
		summary: "load an export into a data directory (continuing its log)",
		run:     runImport,
	})
}

const exportSynopsis = `--data DIR --out FILE
       concord export --url URL --token TOKEN --out FILE [--pubkey FILE]

--data exports a stopped ledger, opening its store directly. --url
exports a running one through its API (GET /v1/admin/export, an admin or
auditor token). Either way the file is the whole log as NDJSON, its last
line a checkpoint signed at that moment over exactly the events in it,
checkable offline with concord verify --export FILE --pubkey KEY (done
here at once when --pubkey is given).`

func runExport(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("export", exportSynopsis)
	data := fs.String("data", "", "data `directory` of the ledger (stopped: the store is opened directly)")
	url := fs.String("url", "", "base `URL` of a running ledger")
	token := fs.String("token", "", "admin or auditor `token` (with --url; default $CONCORD_TOKEN)")
	out := fs.String("out", "", "export `file` to write (\"-\" for standard output)")
	key := fs.String("key", "", "checkpoint signing key `file` (default <data>/checkpoint.key)")
	pub := fs.String("pubkey", "", "with --url: check the export against this public key `file` once written")
	timeout := fs.Duration("timeout", time.Hour, "with --url: give up after this long")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 || (*url == "") == (*data == "") {
		return Usagef("give --out and exactly one of --data or --url, and nothing else")
	}
	if *url != "" {
		if *token == "" && m.Getenv != nil {
			*token = m.Getenv("CONCORD_TOKEN")
		}
		if *token == "" || *key != "" {
			return Usagef("--url needs a --token (or CONCORD_TOKEN), and no --key: the running ledger signs")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return exportURL(ctx, m, *url, *token, *out, *pub)
	}
	if *key == "" {
		*key = filepath.Join(*data, transparency.KeyFile)
	}
	k, err := transparency.ReadKey(*key)
	if err != nil {
		return fmt.Errorf("checkpoint key: %w", err)
	}
	s, err := openDataStore(ctx, m, *data)
	if err != nil {
		return err
	}
	defer s.Close()
	var w io.Writer = m.Stdout
	var f *os.File
	if *out != "-" {
		// Written beside the target and renamed at the end, so a failed
		// export never leaves a file that looks whole.
		f, err = os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".part*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		w = f
	}
	p := newProgress(m, "exported")
	sum, err := export.Export(ctx, s, w, k, p.update)
	p.done()
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), *out); err != nil {
			return err
		}
	}
	fmt.Fprintf(m.Stderr, "exported %d events; checkpoint %s size %d root %x\n", sum.Events, sum.Checkpoint.Origin, sum.Checkpoint.Size, sum.Checkpoint.Root)
	return nil
}

func runImport(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("import", "--data DIR --in FILE --pubkey FILE [--witnesses FILE]")
	data := fs.String("data", "", "data `directory` to import into (created if needed; the ledger must be stopped)")
	in := fs.String("in", "", "export `file` to read")
	tr := trustFlags(fs, false)
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *in == "" || fs.NArg() > 0 {
		return Usagef("--data and --in are required, and nothing else")
	}
	// The export is verified before anything is written: an import takes
	// only a history signed by the key the operator trusts.
	if err := verifyExportFile(m, *in, tr); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return err
		}
		return fmt.Errorf("not imported: %w", err)
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	s, err := openDataStore(ctx, m, *data)
	if err != nil {
		return err
	}
	defer s.Close()
	p := newProgress(m, "imported")
	sum, err := export.Import(ctx, s, f, p.update)
	p.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "read %d events: %d already present, %d imported\n", sum.Events, sum.Matched, sum.Imported)
	if sum.Restamped > 0 {
		fmt.Fprintf(m.Stderr, "warning: this store records its own times: %d imported events, from position %d, have a recorded_at other than the export's.\n"+
			"Their canonical bytes differ, so the export's checkpoints do not hold for this store from position %d; the export itself still verifies.\n",
			sum.Restamped, sum.FirstRestamped, sum.FirstRestamped)
	}
	return nil
}

// progress draws a one-line progress report on stderr, rewritten in place
// with \r at most ten times a second.
type progress struct {
	m     *Main
	verb  string
	last  time.Time
	shown bool
}

func newProgress(m *Main, verb string) *progress { return &progress{m: m, verb: verb} }

func (p *progress) update(pr export.Progress) {
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.shown = true
	if pr.Total > 0 {
		fmt.Fprintf(p.m.Stderr, "\r%s %d/%d events (%d%%), %.1f MB ", p.verb, pr.Events, pr.Total, pr.Events*100/pr.Total, float64(pr.Bytes)/1e6)
		return
	}
	fmt.Fprintf(p.m.Stderr, "\r%s %d events, %.1f MB ", p.verb, pr.Events, float64(pr.Bytes)/1e6)
}

// done ends the progress line, if one was drawn.
func (p *progress) done() {
	if p.shown {
		fmt.Fprintln(p.m.Stderr)
	}
}

// isVerifyFailure reports whether err is a verification finding (as
// opposed to a file or network problem).
func isVerifyFailure(err error) bool {
	var ve *transparency.VerifyError
	return errors.As(err, &ve) || errors.Is(err, transparency.ErrBadSignature) ||
		errors.Is(err, transparency.ErrInconsistent) || errors.Is(err, transparency.ErrMalformedCheckpoint)
}
