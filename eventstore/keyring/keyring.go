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
// storage (docs/verification.md). Key bytes held in memory are zeroed
// when their subject is erased and when the keyring is closed.
//
// OpenDir opens a keyring in a directory of its own: the ledger keeps
// secret-ballot keys apart from personal-data keys that way, so that
// backups, which carry <dir>/keys, never carry a ballot key.
package keyring

import (
	"bufio"
	"crypto/cipher"
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

// ErrClosed is returned by Erase and Move after Close.
var ErrClosed = errors.New("keyring: closed")

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
	dir string // the directory holding the key files

	// mu guards keys. Seal and Open use a key under the read lock, so
	// Erase, which zeroes the key's bytes under the write lock, never
	// pulls a key from under a running encryption.
	mu   sync.RWMutex
	keys map[string]*held // subject -> key, loaded or created

	fileMu sync.Mutex // serialises key creation and erasure (the files)
	erased map[string]bool
	tomb   *os.File
}

var _ domain.Keyring = (*Keyring)(nil)

// held is a subject's key in memory with its AEAD, made once: making an
// AES-GCM AEAD is most of the cost of opening a name. Erasure and Close
// zero the key's bytes and drop both; Go cannot zero the AEAD's expanded
// key, which the garbage collector reclaims (as it did when one was made
// per call).
type held struct {
	key  []byte
	aead cipher.AEAD
}

// Open opens the keyring kept in dir/keys, creating it if needed; see
// OpenDir.
func Open(dir string) (*Keyring, error) { return OpenDir(filepath.Join(dir, keysDir)) }

// OpenDir opens the keyring whose files are in kd, creating kd if needed
// (mode 0700; an existing directory is tightened to 0700 and its files to
// 0600), and completes any erasure a crash interrupted (and removes
// temporary files a crash left, after zeroing them).
func OpenDir(kd string) (*Keyring, error) {
	if err := os.MkdirAll(kd, keysDirMode); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if err := os.Chmod(kd, keysDirMode); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	k := &Keyring{dir: kd, keys: map[string]*held{}, erased: map[string]bool{}}
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
		path := filepath.Join(kd, name)
		switch {
		case strings.HasPrefix(name, tempPrefix):
			if err := shred(path); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, keySuffix) && k.erased[strings.TrimSuffix(name, keySuffix)]:
			if err := shred(path); err != nil {
				return nil, err
			}
		case e.Type().IsRegular():
			if err := os.Chmod(path, keyFileMode); err != nil {
				return nil, fmt.Errorf("keyring: %w", err)
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

// Dir returns the directory holding the key files.
func (k *Keyring) Dir() string { return k.dir }

func subjectHash(subject string) string {
	h := sha256.Sum256([]byte(subject))
	return hex.EncodeToString(h[:])
}

func (k *Keyring) keyPath(h string) string { return filepath.Join(k.dir, h+keySuffix) }

// use calls f with subject's key (and its AEAD) under the read lock, loading the key from
// its file, or creating it when create is set. f must not keep the key.
// Returns domain.ErrErased for an erased subject, or for a subject with no
// key when create is not set (nothing sealed for them can be opened).
func (k *Keyring) use(subject string, create bool, f func(h *held) error) error {
	k.mu.RLock()
	key, ok := k.keys[subject]
	if ok {
		defer k.mu.RUnlock()
		return f(key)
	}
	k.mu.RUnlock()
	if err := k.load(subject, create); err != nil {
		return err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok = k.keys[subject]
	if !ok { // erased in between
		return domain.ErrErased
	}
	return f(key)
}

// load puts subject's key in the cache, from its file or, when create is
// set, newly made and stored durably.
func (k *Keyring) load(subject string, create bool) error {
	h := subjectHash(subject)
	k.fileMu.Lock()
	defer k.fileMu.Unlock()
	if k.erased[h] {
		return domain.ErrErased
	}
	k.mu.RLock()
	_, ok := k.keys[subject]
	k.mu.RUnlock()
	if ok {
		return nil
	}
	key, err := os.ReadFile(k.keyPath(h))
	switch {
	case err == nil:
		if len(key) != KeySize {
			clear(key)
			return fmt.Errorf("keyring: key file of %s has %d bytes, want %d", subject, len(key), KeySize)
		}
	case errors.Is(err, fs.ErrNotExist) && create:
		if k.tomb == nil {
			return ErrClosed
		}
		key = make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("keyring: new key: %w", err)
		}
		if err := k.writeKey(h, key); err != nil {
			clear(key)
			return err
		}
	case errors.Is(err, fs.ErrNotExist):
		return domain.ErrErased
	default:
		return fmt.Errorf("keyring: %w", err)
	}
	aead, err := domain.NewPersonalAEAD(key)
	if err != nil {
		clear(key)
		return fmt.Errorf("keyring: key of %s: %w", subject, err)
	}
	k.mu.Lock()
	k.keys[subject] = &held{key: key, aead: aead}
	k.mu.Unlock()
	return nil
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
	var out []byte
	err := k.use(subject, true, func(h *held) error {
		var err error
		out, err = domain.SealWith(h.aead, subject, plaintext)
		return err
	})
	return out, err
}

// Open implements domain.Keyring. Returns domain.ErrErased if subject was
// erased or has no key.
func (k *Keyring) Open(subject string, sealed []byte) ([]byte, error) {
	var out []byte
	err := k.use(subject, false, func(h *held) error {
		var err error
		out, err = domain.OpenWith(h.aead, subject, sealed)
		return err
	})
	return out, err
}

// IsErased reports whether subject was erased.
func (k *Keyring) IsErased(subject string) bool {
	k.fileMu.Lock()
	defer k.fileMu.Unlock()
	return k.erased[subjectHash(subject)]
}

// Has reports whether subject has a key on disk.
func (k *Keyring) Has(subject string) bool {
	k.fileMu.Lock()
	defer k.fileMu.Unlock()
	_, err := os.Stat(k.keyPath(subjectHash(subject)))
	return err == nil
}

// Count returns how many keys the keyring holds on disk.
func (k *Keyring) Count() (int, error) {
	k.fileMu.Lock()
	defer k.fileMu.Unlock()
	ents, err := os.ReadDir(k.dir)
	if err != nil {
		return 0, fmt.Errorf("keyring: %w", err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), keySuffix) && !strings.HasPrefix(e.Name(), tempPrefix) {
			n++
		}
	}
	return n, nil
}

// Erase destroys subject's key, so everything sealed for them can never be
// opened again and nothing more can be sealed for them. It records a
// tombstone (fsynced), zeroes the key's bytes in memory, overwrites the
// key file with zeros, fsyncs and removes it, and fsyncs the directory.
// Erasing twice, or a subject that never had a key, is not an error.
// Returns ErrClosed after Close.
func (k *Keyring) Erase(subject string) error {
	h := subjectHash(subject)
	k.fileMu.Lock()
	defer k.fileMu.Unlock()
	if k.tomb == nil {
		return ErrClosed
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
	k.mu.Lock()
	if h, ok := k.keys[subject]; ok {
		clear(h.key)
		delete(k.keys, subject)
	}
	k.mu.Unlock()
	if err := shred(k.keyPath(h)); err != nil {
		return err
	}
	if err := syncDir(k.dir); err != nil {
		return fmt.Errorf("keyring: erase: %w", err)
	}
	return nil
}

// Move gives subject's key to the keyring to (stored durably there first)
// and then erases it here, so that from then on only to holds it. A
// subject with no key here, or already erased, is left as it is. Returns
// domain.ErrErased if to has erased subject, ErrClosed after Close.
func (k *Keyring) Move(subject string, to *Keyring) error {
	h := subjectHash(subject)
	k.fileMu.Lock()
	if k.erased[h] {
		k.fileMu.Unlock()
		return nil
	}
	key, err := os.ReadFile(k.keyPath(h))
	k.fileMu.Unlock()
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("keyring: move %s: %w", subject, err)
	}
	defer clear(key)
	if len(key) != KeySize {
		return fmt.Errorf("keyring: key file of %s has %d bytes, want %d", subject, len(key), KeySize)
	}
	if err := to.adopt(subject, key); err != nil {
		return err
	}
	return k.Erase(subject)
}

// adopt stores key as subject's unless subject already has one.
func (k *Keyring) adopt(subject string, key []byte) error {
	h := subjectHash(subject)
	k.fileMu.Lock()
	defer k.fileMu.Unlock()
	if k.tomb == nil {
		return ErrClosed
	}
	if k.erased[h] {
		return domain.ErrErased
	}
	if _, err := os.Stat(k.keyPath(h)); err == nil {
		return nil
	}
	return k.writeKey(h, key)
}

// Close releases the keyring and zeroes the key bytes it held in memory.
func (k *Keyring) Close() error {
	k.fileMu.Lock()
	defer k.fileMu.Unlock()
	k.mu.Lock()
	for s, h := range k.keys {
		clear(h.key)
		delete(k.keys, s)
	}
	k.mu.Unlock()
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
