package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

func init() {
	register(command{
		name:    "verify",
		summary: "check that the ledger's history was not rewritten (an export, a live ledger, or a data directory)",
		run:     runVerify,
	})
}

const verifySynopsis = `--export FILE --pubkey FILE
       concord verify --url URL --checkpoint FILE --pubkey FILE
       concord verify --data DIR [--pubkey FILE]

--export checks an export offline: every event's hash, every signed
checkpoint in it and the one on its last line. --url checks that a
running ledger's latest checkpoint extends the one saved in --checkpoint
(and then saves the new one there). --data re-verifies a stopped ledger's
store against its checkpoints.

Exit status: 0 verified, 1 verification failed (the message names the
first bad position and why), 2 usage.`

func runVerify(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("verify", verifySynopsis)
	exp := fs.String("export", "", "export `file` to verify offline")
	url := fs.String("url", "", "base `URL` of a running ledger")
	saved := fs.String("checkpoint", "", "`file` holding the checkpoint verified last time (with --url; created on first use)")
	data := fs.String("data", "", "data `directory` of a stopped ledger")
	pub := fs.String("pubkey", "", "the ledger's checkpoint public key `file` (checkpoint.pub)")
	timeout := fs.Duration("timeout", 30*time.Second, "network timeout (with --url)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	modes := 0
	for _, s := range []string{*exp, *url, *data} {
		if s != "" {
			modes++
		}
	}
	if modes != 1 || fs.NArg() > 0 {
		return Usagef("give exactly one of --export, --url or --data")
	}
	switch {
	case *exp != "":
		if *pub == "" {
			return Usagef("--export needs --pubkey")
		}
		return verifyExportFile(m, *exp, *pub)
	case *url != "":
		if *pub == "" || *saved == "" {
			return Usagef("--url needs --pubkey and --checkpoint")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return verifyURL(ctx, m, *url, *saved, *pub)
	default:
		if *pub == "" {
			*pub = filepath.Join(*data, transparency.PubFile)
		}
		return verifyData(ctx, m, *data, *pub)
	}
}

// verifyExportFile verifies an export file, drawing progress on stderr
// and a summary on stdout.
func verifyExportFile(m *Main, path, pubPath string) error {
	v, err := transparency.ReadVerifier(pubPath)
	if err != nil {
		return Usagef("public key: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	p := newProgress(m, "verified")
	rep, err := export.Verify(f, v, p.update)
	p.done()
	if err != nil {
		return fmt.Errorf("%s: VERIFICATION FAILED: %w", path, err)
	}
	fmt.Fprintf(m.Stdout, "OK: %s holds %d events, all covered by a checkpoint signed by %s; %d signed checkpoints and %d witness cosignatures inside verified; root %x\n",
		path, rep.Events, v.Name(), rep.Checkpoints-1, rep.Cosignatures, rep.Root)
	return nil
}

// verifyURL proves the ledger's latest checkpoint consistent with the one
// saved earlier, then saves the new one.
func verifyURL(ctx context.Context, m *Main, url, savedPath, pubPath string) error {
	v, err := transparency.ReadVerifier(pubPath)
	if err != nil {
		return Usagef("public key: %v", err)
	}
	prev, err := readSavedCheckpoint(savedPath, v)
	if err != nil {
		return err
	}
	c := &transparency.Client{URL: url}
	next, err := c.Update(ctx, v, prev)
	if err != nil {
		if isVerifyFailure(err) {
			return fmt.Errorf("%s: VERIFICATION FAILED: %w", url, err)
		}
		return err
	}
	if err := saveCheckpoint(savedPath, next); err != nil {
		return err
	}
	if prev == nil {
		fmt.Fprintf(m.Stdout, "OK: first checkpoint of %s saved: size %d root %x (signature verified; nothing earlier to compare)\n", v.Name(), next.Size, next.Root)
		return nil
	}
	fmt.Fprintf(m.Stdout, "OK: %s size %d extends the saved size %d (consistency proven); saved size %d root %x\n", v.Name(), next.Size, prev.Size, next.Size, next.Root)
	return nil
}

// readSavedCheckpoint reads and verifies a saved checkpoint note; nil if
// the file does not exist yet.
func readSavedCheckpoint(path string, v note.Verifier) (*transparency.Checkpoint, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cp, err := transparency.ParseCheckpoint(b, v)
	if err != nil {
		return nil, fmt.Errorf("saved checkpoint %s: %w", path, err)
	}
	return &cp, nil
}

// saveCheckpoint replaces the saved checkpoint atomically.
func saveCheckpoint(path string, cp transparency.Checkpoint) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(cp.Note), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// verifyData re-verifies a stopped ledger's store against its signed
// checkpoints and the latest checkpoint file.
func verifyData(ctx context.Context, m *Main, data, pubPath string) error {
	v, err := transparency.ReadVerifier(pubPath)
	if err != nil {
		return Usagef("public key: %v", err)
	}
	anchor, err := os.ReadFile(filepath.Join(data, transparency.LatestFile))
	if errors.Is(err, fs.ErrNotExist) {
		anchor = nil
		fmt.Fprintf(m.Stderr, "note: no %s in %s; checking the store against the checkpoints inside it only\n", transparency.LatestFile, data)
	} else if err != nil {
		return err
	}
	s, err := openDataStore(ctx, m, data)
	if err != nil {
		return fmt.Errorf("VERIFICATION FAILED: %w", err)
	}
	defer s.Close()
	rep, err := transparency.VerifyStore(ctx, s, v, anchor)
	if err != nil {
		return fmt.Errorf("%s: VERIFICATION FAILED: %w", data, err)
	}
	inside := rep.Checkpoints
	if anchor != nil {
		inside-- // the latest checkpoint file was checked too
	}
	fmt.Fprintf(m.Stdout, "OK: %s holds %d events; %d signed checkpoints in it verified, covering positions 1..%d; %d witness cosignatures; %d later events not yet signed\n",
		data, rep.Events, inside, rep.Verified, rep.Cosignatures, rep.Events-rep.Verified)
	return nil
}
