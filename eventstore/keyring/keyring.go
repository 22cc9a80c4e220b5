// Package keyring owns the durable keys that seal personal data: one
// AES-256 key per person, each in its own file, kept apart from the event
// log so that destroying a person's key (erasure, "crypto-shredding")
// makes their name and contact details unreadable while the log, its
// hashes and its proofs stay exactly as they were.
//
// Layout, under <dir>/keys (mode 0700):
//
//	<sha256(person id) in hex>.key   32 random bytes, mode 0600
//	erased                           tombstones: one sha256(person id) in hex a line
//
// A key file is written through a temporary file that is fsynced and
// renamed, then the directory is fsynced, so a key is either wholly there
// or not at all. Erase first records the tombstone (fsynced), then
// overwrites the key file with zeros, fsyncs it, removes it and fsyncs the
// directory; Open finishes any erasure a crash interrupted. Overwriting
// cannot reach copies a filesystem or SSD keeps elsewhere (journals,
// copy-on-write, wear levelling): keep the data directory on encrypted
// storage (docs/verification.md).
package keyring

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/concord-ledger/concord/domain"
)

// KeySize is the size of every key (AES-256).
const KeySize = 32

const (
	keysDir     = "keys"
	tombstones  = "erased"
	keySuffix   = ".key"
	tempPrefix  = ".tmp-"
	keyFileMode = 0o600
	keysDirMode = 0o700
)

// Keyring is a durable domain.Keyring. It is safe for concurrent use.
type Keyring struct {
	dir   string // <data dir>/keys
	cache *domain.MemoryKeyring

	mu     sync.Mutex // serialises key creation and erasure
	erased map[string]bool
	tomb   *os.File
}

var _ domain.Keyring = (*Keyring)(nil)

// Open opens the keyring kept in dir/keys, creating it if needed, and
// completes any erasure a crash interrupted (and removes temporary files
// a crash left, after zeroing them).
func Open(dir string) (*Keyring, error) {
	kd := filepath.Join(dir, keysDir)
	if err := os.MkdirAll(kd, keysDirMode); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k := &Keyring{dir: kd, cache: domain.NewMemoryKeyring(), erased: map[string]bool{}}
	b, err := os.ReadFile(filepath.Join(kd, tombstones))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		// A line cut short by a crash is not a full hash and is ignored;
		// the erasure it began was then not acknowledged.
		if h := strings.TrimSpace(sc.Text()); len(h) == 2*sha256.Size {
			k.erased[h] = true
		}
	}
	entries, err := os.ReadDir(kd)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if err := shred(filepath.Join(kd, name)); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, keySuffix) && k.erased[strings.TrimSuffix(name, keySuffix)]:
			if err := shred(filepath.Join(kd, name)); err != nil {
				return nil, err
			}
		}
	}
	if err := syncDir(kd); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k.tomb, err = os.OpenFile(filepath.Join(kd, tombstones), os.O_WRONLY|os.O_APPEND|os.O_CREATE, keyFileMode)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return k, nil
}

func subjectHash(subject string) string {
	h := sha256.Sum256([]byte(subject))
	return hex.EncodeToString(h[:])
}

func (k *Keyring) keyPath(h string) string { return filepath.Join(k.dir, h+keySuffix) }

// key returns subject's key, loading it from its file, or creating it when
// create is set. Returns domain.ErrErased for an erased subject, or for a
// subject with no key when create is not set (nothing sealed for them can
// be opened).
func (k *Keyring) key(subject string, create bool) ([]byte, error) {
	if key, ok := k.cache.Key(subject); ok {
		return key, nil
	}
	h := subjectHash(subject)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.erased[h] {
		return nil, domain.ErrErased
	}
	if key, ok := k.cache.Key(subject); ok {
		return key, nil
	}
	key, err := os.ReadFile(k.keyPath(h))
	switch {
	case err == nil:
		if len(key) != KeySize {
			return nil, fmt.Errorf("keyring: key file of %s has %d bytes, want %d", subject, len(key), KeySize)
		}
	case errors.Is(err, fs.ErrNotExist) && create:
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("keyring: new key: %w", err)
		}
		if err := k.writeKey(h, key); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, domain.ErrErased
	default:
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k.cache.SetKey(subject, key)
	return key, nil
}

// writeKey stores a new key durably: temporary file, fsync, rename,
// directory fsync.
func (k *Keyring) writeKey(h string, key []byte) error {
	f, err := os.CreateTemp(k.dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		shred(tmp)
		return fmt.Errorf("keyring: write key: %w", err)
	}
	if err := f.Chmod(keyFileMode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(key); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, k.keyPath(h)); err != nil {
		shred(tmp)
		return fmt.Errorf("keyring: write key: %w", err)
	}
	if err := syncDir(k.dir); err != nil {
		return fmt.Errorf("keyring: write key: %w", err)
	}
	return nil
}

// Seal implements domain.Keyring: it encrypts plaintext with subject's key
// (AES-256-GCM, subject as additional data), creating and storing the key
// first if subject has none. Returns domain.ErrErased if subject was
// erased.
func (k *Keyring) Seal(subject string, plaintext []byte) ([]byte, error) {
	key, err := k.key(subject, true)
	if err != nil {
		return nil, err
	}
	return domain.SealWithKey(key, subject, plaintext)
}

// Open implements domain.Keyring. Returns domain.ErrErased if subject was
// erased or has no key.
func (k *Keyring) Open(subject string, sealed []byte) ([]byte, error) {
	key, err := k.key(subject, false)
	if err != nil {
		return nil, err
	}
	return domain.OpenWithKey(key, subject, sealed)
}

// IsErased reports whether subject was erased.
func (k *Keyring) IsErased(subject string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.erased[subjectHash(subject)]
}

// Erase destroys subject's key, so everything sealed for them can never be
// opened again and nothing more can be sealed for them. It records a
// tombstone (fsynced), overwrites the key file with zeros, fsyncs and
// removes it, and fsyncs the directory. Erasing twice, or a subject that
// never had a key, is not an error.
func (k *Keyring) Erase(subject string) error {
	h := subjectHash(subject)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tomb == nil {
		return errors.New("keyring: closed")
	}
	if !k.erased[h] {
		if _, err := k.tomb.WriteString(h + "\n"); err != nil {
			return fmt.Errorf("keyring: record erasure: %w", err)
		}
		if err := k.tomb.Sync(); err != nil {
			return fmt.Errorf("keyring: record erasure: %w", err)
		}
		k.erased[h] = true
	}
	k.cache.Erase(subject)
	if err := shred(k.keyPath(h)); err != nil {
		return err
	}
	if err := syncDir(k.dir); err != nil {
		return fmt.Errorf("keyring: erase: %w", err)
	}
	return nil
}

// Close releases the keyring.
func (k *Keyring) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tomb == nil {
		return nil
	}
	err := k.tomb.Close()
	k.tomb = nil
	return err
}

// shred overwrites the file at path with zeros, fsyncs it and removes it.
// A missing file is not an error.
func shred(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keyring: erase: %w", err)
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = f.WriteAt(make([]byte, fi.Size()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("keyring: erase: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("keyring: erase: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
