package api

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// Names inside a backup archive (a gzip-compressed tar). docs/operations.md
// describes the format and why a backup of a running ledger is consistent.
const (
	// BackupExport is the NDJSON export of the log up to the head when the
	// backup started, closed by a checkpoint line signed then.
	BackupExport = "export.ndjson"
	// BackupKeysDir holds the personal-data keyring's files (key files
	// and the erasure tombstones), as under <data>/keys.
	BackupKeysDir = "keys"
)

// backupKeyFiles are the data directory's files a backup carries besides
// the export and the keys (the ones present are copied).
var backupKeyFiles = []string{transparency.KeyFile, transparency.PubFile, transparency.WitnessesFile}

func init() { addRoutes(backupRoutes) }

func backupRoutes() []route {
	return []route{
		{Method: http.MethodGet, Pattern: "/v1/admin/backup", Summary: "Download a consistent backup of the ledger", Tag: "admin",
			Auth: true, UseCase: "TakeBackup", Handle: (*Server).backup},
	}
}

// BackupSummary describes a backup written by WriteBackup.
type BackupSummary struct {
	// Events is the number of events exported (the head when it started).
	Events uint64
	// Checkpoint is the export's closing checkpoint.
	Checkpoint transparency.Checkpoint
	// Keys is the number of files copied from the keyring.
	Keys int
}

// exportToTemp writes the export of store to a temporary file and returns
// it, rewound; the caller closes and removes it.
func exportToTemp(ctx context.Context, store eventstore.Store, key transparency.Key) (*os.File, export.Summary, error) {
	f, err := os.CreateTemp("", "concord-backup-*.ndjson")
	if err != nil {
		return nil, export.Summary{}, err
	}
	fail := func(err error) (*os.File, export.Summary, error) {
		f.Close()
		os.Remove(f.Name())
		return nil, export.Summary{}, err
	}
	sum, err := export.Export(ctx, store, f, key, nil)
	if err != nil {
		return fail(fmt.Errorf("export the log: %w", err))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return f, sum, nil
}

// PrepareBackup exports store (the ledger kept in dataDir, which holds the
// checkpoint key and the keyring) up to its current head into a temporary
// file; its write function then streams the backup archive to w. The export
// is done first, so that an error before anything is written can still be
// reported to an HTTP client as a problem. Call done in every case.
//
// Consistency: the log is append-only, so the export of positions 1..head
// is a consistent prefix however many appends run meanwhile. Keys are
// copied after the export, and a key is stored durably before any event
// sealed with it is appended, so every key the exported events need is
// copied — unless the person was erased in between, which leaves them
// erased in the backup too.
func PrepareBackup(ctx context.Context, store eventstore.Store, dataDir string) (write func(w io.Writer) (BackupSummary, error), done func(), err error) {
	if dataDir == "" {
		return nil, func() {}, problem(http.StatusConflict, "no-data-directory", "This ledger keeps nothing on disk",
			"an in-memory ledger cannot be backed up; run it with a data directory")
	}
	key, err := transparency.ReadKey(filepath.Join(dataDir, transparency.KeyFile))
	if err != nil {
		return nil, func() {}, fmt.Errorf("backup: the checkpoint key: %w", err)
	}
	f, sum, err := exportToTemp(ctx, store, key)
	if err != nil {
		return nil, func() {}, fmt.Errorf("backup: %w", err)
	}
	done = func() {
		f.Close()
		os.Remove(f.Name())
	}
	write = func(w io.Writer) (BackupSummary, error) {
		out := BackupSummary{Events: sum.Events, Checkpoint: sum.Checkpoint}
		gz := gzip.NewWriter(w)
		tw := tar.NewWriter(gz)
		now := time.Now().UTC()
		st, err := f.Stat()
		if err != nil {
			return out, err
		}
		if err := tw.WriteHeader(&tar.Header{Name: BackupExport, Mode: 0o600, Size: st.Size(), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return out, err
		}
		if _, err := io.Copy(tw, f); err != nil {
			return out, fmt.Errorf("backup: copy the export: %w", err)
		}
		add := func(name string, b []byte, mode int64) error {
			if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			_, err := tw.Write(b)
			return err
		}
		keys, err := os.ReadDir(filepath.Join(dataDir, BackupKeysDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, fmt.Errorf("backup: read the keyring: %w", err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: BackupKeysDir + "/", Mode: 0o700, ModTime: now, Typeflag: tar.TypeDir}); err != nil {
			return out, err
		}
		for _, k := range keys {
			// Whole key files and the tombstones only: the keyring writes
			// a key to a temporary name and renames it when complete.
			name := k.Name()
			if k.IsDir() || (!strings.HasSuffix(name, ".key") && name != "erased") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dataDir, BackupKeysDir, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue // erased since the listing
			}
			if err != nil {
				return out, fmt.Errorf("backup: read key %s: %w", name, err)
			}
			if err := add(BackupKeysDir+"/"+name, b, 0o600); err != nil {
				return out, err
			}
			out.Keys++
		}
		for _, name := range backupKeyFiles {
			b, err := os.ReadFile(filepath.Join(dataDir, name))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return out, fmt.Errorf("backup: read %s: %w", name, err)
			}
			if err := add(name, b, 0o600); err != nil {
				return out, err
			}
		}
		if err := tw.Close(); err != nil {
			return out, err
		}
		return out, gz.Close()
	}
	return write, done, nil
}

// backup answers GET /v1/admin/backup with the backup archive.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeOp(r, "TakeBackup"); err != nil {
		return err
	}
	write, done, err := PrepareBackup(r.Context(), s.L.Store, s.L.DataDir)
	defer done()
	if err != nil {
		return err
	}
	name := "concord-backup-" + s.Now().UTC().Format("20060102T150405Z") + ".tar.gz"
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	sum, err := write(w)
	if err != nil {
		// The status is sent; the client sees a truncated archive, which
		// gzip and tar reject.
		s.Logger.Error("backup failed while streaming", "request_id", RequestID(r.Context()), "err", err)
		return nil
	}
	s.Logger.Info("backup sent", "request_id", RequestID(r.Context()), "events", sum.Events, "keys", sum.Keys)
	return nil
}
