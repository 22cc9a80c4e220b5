package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// exportURL downloads the export of a running ledger (GET /v1/admin/export)
// to out, written beside it and renamed only once it is whole: it must end
// with its checkpoint line, and, with pubPath, verify against that key.
func exportURL(ctx context.Context, m *Main, url, token, out, pubPath string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/v1/admin/export", nil)
	if err != nil {
		return Usagef("--url: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("GET /v1/admin/export: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	var w io.Writer = m.Stdout
	var f *os.File
	if out != "-" {
		f, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".part*")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		w = f
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return fmt.Errorf("download the export: %w", err)
	}
	if f == nil {
		return nil
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// Whole, or not called an export: its last line is the checkpoint.
	rep, cp, err := checkExport(f, pubPath)
	if err != nil {
		return fmt.Errorf("the export downloaded from %s: %w", url, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "exported %d events (%.1f MB) from %s; checkpoint %s size %d root %x\n", rep, float64(n)/1e6, url, cp.Origin, cp.Size, cp.Root)
	if pubPath != "" {
		fmt.Fprintf(m.Stderr, "verified against %s\n", pubPath)
	} else {
		fmt.Fprintf(m.Stderr, "not verified yet: run concord verify --export %s --pubkey <the ledger's published key>\n", out)
	}
	return nil
}

// checkExport reads an export to its end: with pubPath it verifies it in
// full; without, it checks that its last line is a checkpoint covering
// every event line before it. It returns the number of events and the
// checkpoint that closes them (with pubPath, its verified size and root).
func checkExport(r io.Reader, pubPath string) (uint64, transparency.Checkpoint, error) {
	if pubPath != "" {
		v, err := transparency.ReadVerifier(pubPath)
		if err != nil {
			return 0, transparency.Checkpoint{}, Usagef("public key: %v", err)
		}
		rep, err := export.Verify(r, v, nil)
		if err != nil {
			return 0, transparency.Checkpoint{}, fmt.Errorf("VERIFICATION FAILED: %w", err)
		}
		return rep.Events, transparency.Checkpoint{Origin: v.Name(), Size: rep.Events, Root: rep.Root}, nil
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var last []byte
	events := uint64(0)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err == io.EOF {
			return 0, transparency.Checkpoint{}, fmt.Errorf("it is cut short in a line (%w)", export.ErrIncomplete)
		}
		if err != nil {
			return 0, transparency.Checkpoint{}, err
		}
		if last != nil {
			events++
		}
		last = line
	}
	if last == nil {
		return 0, transparency.Checkpoint{}, fmt.Errorf("it is empty (%w)", export.ErrIncomplete)
	}
	l, err := export.DecodeLine(last)
	if err != nil || l.Checkpoint == nil {
		return 0, transparency.Checkpoint{}, fmt.Errorf("it does not end with its checkpoint line (%w)", export.ErrIncomplete)
	}
	if l.Checkpoint.Size != events {
		return 0, transparency.Checkpoint{}, fmt.Errorf("its checkpoint covers %d events, the file holds %d", l.Checkpoint.Size, events)
	}
	return events, *l.Checkpoint, nil
}
