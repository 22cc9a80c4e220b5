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

const verifySynopsis = `--export FILE --pubkey FILE [--witnesses FILE]
       concord verify --url URL --checkpoint FILE --pubkey FILE
       concord verify --data DIR (--pubkey FILE | --trust-on-first-use FILE) [--witnesses FILE]

--export checks an export offline: every event's hash, every signed
checkpoint in it and the one on its last line. --url checks that a
running ledger's latest checkpoint extends the one saved in --checkpoint
(and then saves the new one there). --data re-verifies a stopped ledger's
store against its checkpoints.

Verification starts from the ledger's public key as you hold it
(--pubkey), never from the one beside the data: whoever rewrote the data
could have re-signed it with a key of their own. --trust-on-first-use
FILE instead trusts the key found in the data directory the first time,
says so loudly, and records it in FILE, refusing any other key later.
Witness cosignatures count only from the keys listed in --witnesses;
with it, at least one checkpoint must be cosigned by one of them.

Exit status: 0 verified, 1 verification failed (the message names the
first bad position and why), 2 usage.`

func runVerify(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("verify", verifySynopsis)
	exp := fs.String("export", "", "export `file` to verify offline")
	url := fs.String("url", "", "base `URL` of a running ledger")
	saved := fs.String("checkpoint", "", "`file` holding the checkpoint verified last time (with --url; created on first use)")
	data := fs.String("data", "", "data `directory` of a stopped ledger")
	tr := trustFlags(fs, true)
	pub := tr.pub
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
	if *tr.tofu != "" && *data == "" {
		return Usagef("--trust-on-first-use is for --data; an export or a running ledger is checked with --pubkey")
	}
	if *tr.witnesses != "" && *url != "" {
		return Usagef("--witnesses is for --export and --data; --url checks a ledger against the checkpoint you saved")
	}
	switch {
	case *exp != "":
		if *pub == "" {
			return Usagef("--export needs --pubkey: the ledger's public key as you obtained it from a source you trust")
		}
		return verifyExportFile(m, *exp, tr)
	case *url != "":
		if *pub == "" || *saved == "" {
			return Usagef("--url needs --pubkey and --checkpoint")
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		return verifyURL(ctx, m, *url, *saved, *pub)
	default:
		return verifyData(ctx, m, *data, tr)
	}
}

// verifyExportFile verifies an export file with tr's key and witnesses,
// drawing progress on stderr and a summary on stdout.
func verifyExportFile(m *Main, path string, tr *trust) error {
	v, err := tr.verifier(m, "", path)
	if err != nil {
		return err
	}
	c, err := tr.checker(v)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	p := newProgress(m, "verified")
	rep, err := export.VerifyWith(f, c, p.update)
	p.done()
	if err != nil {
		return fmt.Errorf("%s: VERIFICATION FAILED: %w", path, err)
	}
	if err := tr.witnessed(rep); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(m.Stdout, "OK: %s holds %d events, all covered by a checkpoint signed by %s; %d signed checkpoints inside verified; %s; root %x\n",
		path, rep.Events, v.Name(), rep.Checkpoints-1, witnessSummary(rep), rep.Root)
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
	if err := os.WriteFile(tmp, []byte(cp.Note), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// verifyData re-verifies a stopped ledger's store against its signed
// checkpoints and the latest checkpoint file, with tr's key and witnesses.
func verifyData(ctx context.Context, m *Main, data string, tr *trust) error {
	v, err := tr.verifier(m, filepath.Join(data, transparency.PubFile), "the data directory "+data)
	if err != nil {
		return err
	}
	c, err := tr.checker(v)
	if err != nil {
		return err
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
	rep, err := c.CheckStore(ctx, s, anchor)
	if err != nil {
		return fmt.Errorf("%s: VERIFICATION FAILED: %w", data, err)
	}
	if err := tr.witnessed(rep); err != nil {
		return fmt.Errorf("%s: %w", data, err)
	}
	inside := rep.Checkpoints
	if anchor != nil {
		inside-- // the latest checkpoint file was checked too
	}
	fmt.Fprintf(m.Stdout, "OK: %s holds %d events; %d signed checkpoints in it verified, covering positions 1..%d; %s; %d later events not yet signed\n",
		data, rep.Events, inside, rep.Verified, witnessSummary(rep), rep.Events-rep.Verified)
	return nil
}
