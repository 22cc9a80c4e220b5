package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/concord-ledger/concord/eventstore/transparency"
)

func init() {
	register(command{
		name:    "witness",
		summary: "as a partner school, check a ledger's latest checkpoint and cosign it",
		run:     runWitness,
	})
}

const witnessSynopsis = `--init --name NAME --key FILE
       concord witness --url URL --key FILE --checkpoint FILE --pubkey FILE

--init makes the witness's own signing key (FILE, mode 0600) and its
public key (FILE.pub): give the line in FILE.pub to the ledger's
administrator, who adds it to <data>/witnesses. Then, run regularly (e.g.
hourly from cron): fetch the ledger's latest checkpoint, check its
signature with the ledger's key (--pubkey) and that it extends the
checkpoint this witness saw last (--checkpoint, created on first use),
cosign it and post the cosignature back.`

func runWitness(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("witness", witnessSynopsis)
	initKey := fs.Bool("init", false, "create the witness key and exit")
	name := fs.String("name", "", "the witness's `name` (with --init), e.g. partner-school.example")
	keyPath := fs.String("key", "", "the witness's signing key `file`")
	url := fs.String("url", "", "base `URL` of the ledger to witness")
	saved := fs.String("checkpoint", "", "`file` holding the checkpoint this witness verified last")
	pub := fs.String("pubkey", "", "the ledger's checkpoint public key `file` (its checkpoint.pub)")
	timeout := fs.Duration("timeout", 30*time.Second, "network timeout")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *keyPath == "" {
		return Usagef("--key is required")
	}
	if *initKey {
		if *name == "" || *url != "" || *saved != "" {
			return Usagef("--init takes --name and --key only")
		}
		return witnessInit(m, *name, *keyPath)
	}
	if *url == "" || *saved == "" || *pub == "" {
		return Usagef("--url, --key, --checkpoint and --pubkey are required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return witnessOnce(ctx, m, *url, *keyPath, *saved, *pub)
}

func witnessInit(m *Main, name, path string) error {
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists; not overwriting a key", path)
	}
	k, skey, err := transparency.GenerateKey(name)
	if err != nil {
		return Usagef("%v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(skey+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(path+".pub", []byte(k.VerifierKey+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s\n", k.VerifierKey)
	fmt.Fprintf(m.Stderr, "witness key written to %s (keep it secret) and %s.pub; give the line above to the ledger's administrator\n", path, path)
	return nil
}

func witnessOnce(ctx context.Context, m *Main, url, keyPath, savedPath, pubPath string) error {
	k, err := transparency.ReadKey(keyPath)
	if err != nil {
		return Usagef("witness key: %v", err)
	}
	v, err := transparency.ReadVerifier(pubPath)
	if err != nil {
		return Usagef("ledger public key: %v", err)
	}
	prev, err := readSavedCheckpoint(savedPath, v)
	if err != nil {
		return err
	}
	c := &transparency.Client{URL: url}
	next, err := c.Update(ctx, v, prev)
	if err != nil {
		if isVerifyFailure(err) {
			return fmt.Errorf("%s: NOT COSIGNED, VERIFICATION FAILED: %w", url, err)
		}
		return err
	}
	cosigned, err := transparency.Cosign([]byte(next.Note), v, k)
	if err != nil {
		return err
	}
	cosigners, err := c.PostCosignature(ctx, next.Size, cosigned)
	if err != nil {
		return fmt.Errorf("post cosignature: %w", err)
	}
	// Saved only once the ledger took it: the next run proves consistency
	// from here.
	if err := saveCheckpoint(savedPath, next); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "cosigned %s checkpoint size %d root %x", v.Name(), next.Size, next.Root)
	if prev != nil {
		fmt.Fprintf(m.Stdout, " (consistent with size %d)", prev.Size)
	}
	fmt.Fprintf(m.Stdout, "; %d witness(es) have cosigned it\n", len(cosigners))
	return nil
}
