package api

import (
	"archive/tar"
	"bytes"
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
	bolt "go.etcd.io/bbolt"
)

// Names inside a backup archive (a gzip-compressed tar). docs/operations.md
// describes the format and why a backup of a running ledger is consistent.
const (
	// BackupExport is the NDJSON export of the log up to the head when the
	// backup started, closed by a checkpoint line signed then.
	BackupExport = "export.ndjson"
	// BackupKeysDir holds the personal-data keyring's files (key files
	// and the erasure tombstones), as under <data>/keys. Never a ballot
	// key: those live in <data>/ballots, which no backup holds.
	BackupKeysDir = "keys"
	// BackupTokens is a copy of the token store (TokensFile) as of one
	// moment, without its Idempotency-Key records.
	BackupTokens = TokensFile
)

// backupKeyFiles are the data directory's files a backup carries besides
// the export and the keys (the ones present are copied).
var backupKeyFiles = []string{transparency.KeyFile, transparency.PubFile, transparency.WitnessesFile}

func init() { addRoutes(backupRoutes) }

func backupRoutes() []route {
	return []route{
		{Method: http.MethodGet, Pattern: "/v1/admin/backup", Summary: "Download a consistent backup of the ledger", Tag: "admin",
			Auth: true, UseCase: "TakeBackup", Handle: (*Server).backup},
		{Method: http.MethodGet, Pattern: "/v1/admin/export", Summary: "Download the whole log as an export, closed by a freshly signed checkpoint", Tag: "admin",
			Auth: true, UseCase: "ExportLedger", Handle: (*Server).exportLog},
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
	// Tokens reports whether the token store was copied.
	Tokens bool
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
// tokens is the token store a running server holds open; nil reads
// <dataDir>/tokens.db, if there is one (the ledger must then be stopped).
// The archive holds the export, the personal-data keys (keys/), the
// checkpoint key pair, the witnesses and the tokens; never a ballot key
// (<dataDir>/ballots), the Idempotency-Key records or their secret.
//
// Consistency: the log is append-only, so the export of positions 1..head
// is a consistent prefix however many appends run meanwhile. Keys are
// copied after the export, and a key is stored durably before any event
// sealed with it is appended, so every key the exported events need is
// copied — unless the person was erased in between, which leaves them
// erased in the backup too. The tokens are copied in one read transaction
// of their store, so as they were at one moment.
func PrepareBackup(ctx context.Context, store eventstore.Store, dataDir string, tokens *Tokens) (write func(w io.Writer) (BackupSummary, error), done func(), err error) {
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
		b, err := copyTokens(tokens, filepath.Join(dataDir, TokensFile))
		if err != nil {
			return out, fmt.Errorf("backup: copy the tokens: %w", err)
		}
		if b != nil {
			if err := add(BackupTokens, b, 0o600); err != nil {
				return out, err
			}
			out.Tokens = true
		}
		if err := tw.Close(); err != nil {
			return out, err
		}
		return out, gz.Close()
	}
	return write, done, nil
}

// copyTokens returns a copy of the token store t (or, when t is nil, of
// the file at path, if there is one; nil when there is none), made in one
// read transaction, without the Idempotency-Key records: a new bbolt file
// into which every bucket but those is copied, so that not even free pages
// carry a record.
func copyTokens(t *Tokens, path string) ([]byte, error) {
	db := (*bolt.DB)(nil)
	if t != nil {
		db = t.db
	}
	if db == nil {
		if t != nil {
			return nil, nil // an in-memory token store
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		src, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return nil, fmt.Errorf("open %s (is the ledger running? back it up through its API): %w", path, err)
		}
		defer src.Close()
		db = src
	}
	tmp, err := os.MkdirTemp("", "concord-backup-tokens-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dst, err := bolt.Open(filepath.Join(tmp, TokensFile), 0o600, nil)
	if err != nil {
		return nil, err
	}
	err = db.View(func(stx *bolt.Tx) error {
		return dst.Update(func(dtx *bolt.Tx) error {
			return stx.ForEach(func(name []byte, b *bolt.Bucket) error {
				nb, err := dtx.CreateBucketIfNotExists(name)
				if err != nil || bytes.Equal(name, bucketIdempotency) {
					return err
				}
				return copyBucket(b, nb)
			})
		})
	})
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(tmp, TokensFile))
}

// copyBucket copies every key, and every nested bucket, of from into to.
func copyBucket(from, to *bolt.Bucket) error {
	return from.ForEach(func(k, v []byte) error {
		if v != nil {
			return to.Put(bytes.Clone(k), bytes.Clone(v))
		}
		nb, err := to.CreateBucketIfNotExists(k)
		if err != nil {
			return err
		}
		return copyBucket(from.Bucket(k), nb)
	})
}

// exportLog answers GET /v1/admin/export with the export of the log up to
// the head when the request came (the export format of package export,
// NDJSON), its last line a checkpoint signed now over exactly those
// events: what concord export writes for a stopped ledger, checkable
// offline with concord verify --export. The export is written to a
// temporary file first, so that a store that no longer matches its own
// checkpoints is answered with a problem rather than a cut-off file.
func (s *Server) exportLog(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeOp(r, "ExportLedger"); err != nil {
		return err
	}
	if s.L.DataDir == "" {
		return problem(http.StatusConflict, "no-data-directory", "This ledger keeps nothing on disk",
			"an in-memory ledger has no checkpoint key to sign an export with; run it with a data directory")
	}
	if s.L.Log != nil {
		if e := s.L.Log.AuditFailure(); e != nil {
			return problem(http.StatusServiceUnavailable, "audit-failed", "The ledger's self-audit failed",
				"%v; it signs nothing more", e)
		}
	}
	key, err := transparency.ReadKey(filepath.Join(s.L.DataDir, transparency.KeyFile))
	if err != nil {
		return fmt.Errorf("export: the checkpoint key: %w", err)
	}
	f, sum, err := exportToTemp(r.Context(), s.L.Store, key)
	if errors.Is(err, export.ErrUnverifiedStore) {
		return problem(http.StatusServiceUnavailable, "audit-failed", "The log does not match its own checkpoints", "%v", err)
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	name := "concord-export-" + s.Now().UTC().Format("20060102T150405Z") + ".ndjson"
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Length", fmt.Sprint(st.Size()))
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil {
		s.Logger.Warn("export cut off while streaming", "request_id", RequestID(r.Context()), "err", err)
		return nil
	}
	s.Logger.Info("export sent", "request_id", RequestID(r.Context()), "events", sum.Events, "tree_size", sum.Checkpoint.Size)
	return nil
}

// backup answers GET /v1/admin/backup with the backup archive.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeOp(r, "TakeBackup"); err != nil {
		return err
	}
	tokens, _ := s.Auth.(*Tokens)
	write, done, err := PrepareBackup(r.Context(), s.L.Store, s.L.DataDir, tokens)
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
	s.Logger.Info("backup sent", "request_id", RequestID(r.Context()), "events", sum.Events, "keys", sum.Keys, "tokens", sum.Tokens)
	return nil
}
