package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

func init() {
	register(command{
		name:    "backup",
		summary: "write a consistent backup of a ledger (running, through its API, or stopped) to one file",
		run:     runBackup,
	})
	register(command{
		name:    "restore",
		summary: "restore a backup into a new data directory",
		run:     runRestore,
	})
}

const backupSynopsis = `--url URL --token TOKEN --out FILE
       concord backup --data DIR --out FILE

--url downloads a backup from a running ledger (GET /v1/admin/backup, an
admin token). --data backs up a stopped ledger's data directory. The file
is a tar.gz of the NDJSON export of the log up to its head, closed by a
signed checkpoint, the personal-data keys, the checkpoint key pair, the
trusted witnesses and the API tokens: everything "concord restore" needs.
It never holds a secret ballot's key (a ballot open at backup time cannot
be counted from a restore) nor the Idempotency-Key records. It holds the
keys that unseal personal data and the key that signs checkpoints: keep it
as safe as the data directory itself.`

func runBackup(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("backup", backupSynopsis)
	url := fs.String("url", "", "base `URL` of a running ledger")
	token := fs.String("token", "", "admin `token` (with --url; default $CONCORD_TOKEN)")
	data := fs.String("data", "", "data `directory` of a stopped ledger")
	out := fs.String("out", "", "backup `file` to write")
	timeout := fs.Duration("timeout", time.Hour, "give up after this long")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 || (*url == "") == (*data == "") {
		return Usagef("give --out and exactly one of --url or --data")
	}
	if *token == "" && m.Getenv != nil {
		*token = m.Getenv("CONCORD_TOKEN")
	}
	if *url != "" && *token == "" {
		return Usagef("--url needs an admin --token (or CONCORD_TOKEN)")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	// Written beside the target and renamed when complete, so a failed
	// backup never leaves a file that looks whole.
	f, err := os.CreateTemp(filepath.Dir(*out), "."+filepath.Base(*out)+".part*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var desc string
	if *url != "" {
		desc, err = backupURL(ctx, *url, *token, f)
	} else {
		desc, err = backupData(ctx, m, *data, f)
	}
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Check the file before calling it a backup.
	if _, err := readBackup(f.Name(), nil); err != nil {
		return fmt.Errorf("the backup written is not readable: %w", err)
	}
	if err := os.Rename(f.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "backup of %s written to %s\n", desc, *out)
	return nil
}

func backupURL(ctx context.Context, url, token string, w io.Writer) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/v1/admin/backup", nil)
	if err != nil {
		return "", Usagef("--url: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", fmt.Errorf("GET /v1/admin/backup: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return "", fmt.Errorf("download the backup: %w", err)
	}
	return url, nil
}

func backupData(ctx context.Context, m *Main, data string, w io.Writer) (string, error) {
	s, err := openDataStore(ctx, m, data)
	if err != nil {
		return "", err
	}
	defer s.Close()
	// A directory last run by an older version may keep ballot keys in
	// keys/, which the backup copies: move them out first.
	if err := ledger.SecureBallotKeys(ctx, s, data, slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))); err != nil {
		return "", err
	}
	write, done, err := api.PrepareBackup(ctx, s, data, nil)
	defer done()
	if err != nil {
		return "", err
	}
	sum, err := write(w)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%d events, %d key files, tokens: %v)", data, sum.Events, sum.Keys, sum.Tokens), nil
}

const restoreSynopsis = `--in FILE --data NEWDIR (--pubkey FILE | --trust-on-first-use FILE) [--witnesses FILE]

Restores a backup made by "concord backup" into NEWDIR, which must not
exist or be empty: checks the export against the ledger's public key you
hold (--pubkey; the backup's own key must be that one), writes the events
with their original positions, revisions and recorded times (so every
checkpoint still verifies), restores the personal-data keys, the
checkpoint key pair, the witnesses and the tokens, and saves the export's
closing checkpoint as checkpoint.latest. --trust-on-first-use FILE
instead trusts the key inside the backup, says so loudly and records it
in FILE. Then run "concord verify --data NEWDIR --pubkey FILE" and serve
from NEWDIR. The Merkle tree and the projections are rebuilt on first
start. Secret ballots open when the backup was taken cannot be counted
(their keys are never in a backup): closing one records it as failed.`

func runRestore(ctx context.Context, m *Main, args []string) error {
	flags := m.FlagSet("restore", restoreSynopsis)
	in := flags.String("in", "", "backup `file` to read")
	data := flags.String("data", "", "new data `directory` (must not exist or be empty)")
	tr := trustFlags(flags, true)
	if err := Parse(flags, args); err != nil {
		return err
	}
	if *in == "" || *data == "" || flags.NArg() > 0 {
		return Usagef("--in and --data are required, and nothing else")
	}
	if *tr.pub == "" && *tr.tofu == "" {
		_, err := tr.verifier(m, "", "the backup")
		return err
	}
	if entries, err := os.ReadDir(*data); err == nil && len(entries) > 0 {
		return Usagef("%s is not empty; restore into a new directory", *data)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	sum, err := restore(ctx, m, *in, *data, tr)
	if err != nil {
		// Leave nothing half-restored behind: the directory was empty.
		cleanDir(*data)
		return err
	}
	fmt.Fprintf(m.Stdout, "restored %d events and %d key files into %s; checkpoint size %d root %x; %s\n", sum.Events, sum.Keys, *data, sum.Checkpoint.Size, sum.Checkpoint.Root, sum.Witnesses)
	return nil
}

func cleanDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// readBackup reads a backup archive, calling file for each regular file
// (nil: just check the archive reads to its end). Names are checked: only
// the backup's own names, nothing outside the directory.
func readBackup(name string, file func(name string, r io.Reader) error) (found map[string]bool, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s is not a backup (gzip): %w", name, err)
	}
	found = map[string]bool{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		clean := path.Clean(h.Name)
		if h.Typeflag != tar.TypeReg || !backupName(clean) {
			return nil, fmt.Errorf("%s: unexpected entry %q in a backup", name, h.Name)
		}
		found[clean] = true
		if file != nil {
			if err := file(clean, tr); err != nil {
				return nil, err
			}
		} else if _, err := io.Copy(io.Discard, tr); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	if !found[api.BackupExport] || !found[transparency.PubFile] {
		return nil, fmt.Errorf("%s: not a complete backup (no %s or %s)", name, api.BackupExport, transparency.PubFile)
	}
	return found, nil
}

func backupName(n string) bool {
	switch n {
	case api.BackupExport, transparency.KeyFile, transparency.PubFile, transparency.WitnessesFile, api.BackupTokens:
		return true
	}
	dir, file := path.Split(n)
	return dir == api.BackupKeysDir+"/" && file != "" && !strings.HasPrefix(file, ".") && !strings.Contains(file, "..")
}

type restoreSummary struct {
	Events     uint64
	Keys       int
	Checkpoint transparency.Checkpoint
	Witnesses  string
}

func restore(ctx context.Context, m *Main, in, data string, tr *trust) (restoreSummary, error) {
	var sum restoreSummary
	exportPath := filepath.Join(data, ".restore-"+api.BackupExport)
	defer os.Remove(exportPath)
	_, err := readBackup(in, func(name string, r io.Reader) error {
		dst := filepath.Join(data, filepath.FromSlash(name))
		if name == api.BackupExport {
			dst = exportPath
		}
		if strings.HasPrefix(name, api.BackupKeysDir+"/") {
			if err := os.MkdirAll(filepath.Join(data, api.BackupKeysDir), 0o700); err != nil {
				return err
			}
			sum.Keys++
		}
		return writeSynced(dst, r)
	})
	if err != nil {
		return sum, err
	}
	if err := syncDir(filepath.Join(data, api.BackupKeysDir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return sum, err
	}
	backupPub := filepath.Join(data, transparency.PubFile)
	v, err := tr.verifier(m, backupPub, "the backup "+in)
	if err != nil {
		return sum, err
	}
	if err := sameKey(v, backupPub, "the backup "+in); err != nil {
		return sum, fmt.Errorf("%w; nothing restored", err)
	}
	c, err := tr.checker(v)
	if err != nil {
		return sum, err
	}
	ef, err := os.Open(exportPath)
	if err != nil {
		return sum, err
	}
	defer ef.Close()
	p := newProgress(m, "verified")
	rep, err := export.VerifyWith(ef, c, p.update)
	p.done()
	if err != nil {
		return sum, fmt.Errorf("the backup's export does not verify; nothing restored: VERIFICATION FAILED: %w", err)
	}
	if err := tr.witnessed(rep); err != nil {
		return sum, fmt.Errorf("the backup's export: %w; nothing restored", err)
	}
	sum.Witnesses = witnessSummary(rep)
	if _, err := ef.Seek(0, io.SeekStart); err != nil {
		return sum, err
	}
	p = newProgress(m, "restored")
	n, cp, err := importKeepingTimes(ctx, filepath.Join(data, eventsDir), ef, p.update)
	p.done()
	if err != nil {
		return sum, err
	}
	sum.Events, sum.Checkpoint = n, cp
	// The export's closing checkpoint covers exactly the restored events:
	// it is the anchor "concord verify --data" checks the store against.
	if err := writeSynced(filepath.Join(data, transparency.LatestFile), strings.NewReader(cp.Note)); err != nil {
		return sum, err
	}
	return sum, syncDir(data)
}

func writeSynced(name string, r io.Reader) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// importClock is the segment store's clock during a restore: it reads the
// recorded time of the events being appended.
type importClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *importClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *importClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// importKeepingTimes writes an export's events into a new segment store in
// dir with their original positions, revisions and recorded times, so
// that their canonical bytes, hence the Merkle tree and every signed
// checkpoint, are the export's. The segment store stamps each append with
// its clock, so each run of events of one stream recorded at one time (one
// original append, or part of one group commit) is appended on its own,
// with the clock set to that time; positions and revisions are checked.
func importKeepingTimes(ctx context.Context, dir string, r io.Reader, progress func(export.Progress)) (uint64, transparency.Checkpoint, error) {
	clock := &importClock{}
	s, err := segment.Open(ctx, dir, segment.Options{Now: clock.now})
	if err != nil {
		return 0, transparency.Checkpoint{}, err
	}
	defer s.Close()
	if head, err := s.Head(ctx); err != nil || head != 0 {
		return 0, transparency.Checkpoint{}, fmt.Errorf("restore: the new store is not empty (head %d): %v", head, err)
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var (
		run   []eventstore.RecordedEvent
		count uint64
		cp    *transparency.Checkpoint
		pr    export.Progress
	)
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		first := run[0]
		exp := eventstore.NoStream()
		if first.Revision > 0 {
			exp = eventstore.Exact(first.Revision - 1)
		}
		data := make([]eventstore.EventData, len(run))
		for i, e := range run {
			data[i] = e.EventData
		}
		clock.set(first.RecordedAt)
		res, err := s.Append(ctx, first.StreamID, exp, data...)
		if err != nil {
			return fmt.Errorf("restore position %d: %w", first.Position, err)
		}
		for i, p := range res.Positions {
			if p != run[i].Position {
				return fmt.Errorf("restore: event %s landed at position %d, not %d", run[i].ID, p, run[i].Position)
			}
		}
		run = run[:0]
		return nil
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return count, transparency.Checkpoint{}, err
		}
		if len(line) > export.MaxLineSize {
			return count, transparency.Checkpoint{}, fmt.Errorf("restore: line %d is too long", count+1)
		}
		l, derr := export.DecodeLine(line)
		if derr != nil {
			return count, transparency.Checkpoint{}, fmt.Errorf("restore: line %d: %w", count+1, derr)
		}
		if l.Checkpoint != nil {
			cp = l.Checkpoint
			break
		}
		e := l.Event
		if n := len(run); n > 0 && (e.StreamID != run[0].StreamID || !e.RecordedAt.Equal(run[0].RecordedAt) || e.Revision != run[n-1].Revision+1) {
			if err := flush(); err != nil {
				return count, transparency.Checkpoint{}, err
			}
		}
		run = append(run, e)
		count++
		pr.Events, pr.Bytes = count, pr.Bytes+int64(len(line))
		if progress != nil && count%1024 == 0 {
			progress(pr)
		}
		if err == io.EOF {
			break
		}
	}
	if err := flush(); err != nil {
		return count, transparency.Checkpoint{}, err
	}
	if cp == nil {
		return count, transparency.Checkpoint{}, fmt.Errorf("restore: %w", export.ErrIncomplete)
	}
	if progress != nil {
		progress(pr)
	}
	return count, *cp, s.Close()
}
