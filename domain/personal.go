package domain

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

// PersonalData is a person's name and contact details. It appears only in
// the events that register or amend a person. The plaintext fields are
// never serialised: the codec seals them with the person's own key into
// Sealed, so destroying that key (erasure) makes them unreadable without
// rewriting the log.
type PersonalData struct {
	Name  string `json:"-"`
	Email string `json:"-"`
	Phone string `json:"-"`
	// Erased is set on decode when the person's key has been destroyed.
	Erased bool `json:"-"`
	// Sealed is the AES-256-GCM ciphertext of the fields above.
	Sealed []byte `json:"sealed,omitempty"`
}

// IsZero reports whether no personal detail is set.
func (p PersonalData) IsZero() bool { return p.Name == "" && p.Email == "" && p.Phone == "" }

type personalPlain struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// ErasedName is what views show in place of an erased person's name.
const ErasedName = "(erased)"

// Keyring seals and opens personal data with one key per data subject.
// Implementations must be safe for concurrent use.
type Keyring interface {
	// Seal encrypts plaintext with subject's key, creating the key if
	// needed. Returns ErrErased if subject's key was destroyed.
	Seal(subject string, plaintext []byte) ([]byte, error)
	// Open decrypts sealed with subject's key. Returns ErrErased if the
	// key was destroyed.
	Open(subject string, sealed []byte) ([]byte, error)
}

// ErrErased is returned by a Keyring for a person whose key was destroyed.
var ErrErased = errors.New("domain: personal data erased")

// MemoryKeyring is a Keyring holding keys in memory: for tests, and the
// core of the durable keyring that persists them.
type MemoryKeyring struct {
	mu     sync.Mutex
	keys   map[string][]byte
	erased map[string]bool
}

// NewMemoryKeyring returns an empty keyring.
func NewMemoryKeyring() *MemoryKeyring {
	return &MemoryKeyring{keys: map[string][]byte{}, erased: map[string]bool{}}
}

// Key returns subject's key and whether it exists (for persistence).
func (k *MemoryKeyring) Key(subject string) ([]byte, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[subject]
	return key, ok
}

// SetKey installs subject's key (when loading persisted keys).
func (k *MemoryKeyring) SetKey(subject string, key []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[subject] = key
}

// Erase destroys subject's key: everything sealed with it becomes
// unreadable, and nothing more can be sealed for subject.
func (k *MemoryKeyring) Erase(subject string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.keys, subject)
	k.erased[subject] = true
}

// IsErased reports whether subject's key was destroyed.
func (k *MemoryKeyring) IsErased(subject string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.erased[subject]
}

// Seal implements Keyring.
func (k *MemoryKeyring) Seal(subject string, plaintext []byte) ([]byte, error) {
	k.mu.Lock()
	key, ok := k.keys[subject]
	if !ok {
		if k.erased[subject] {
			k.mu.Unlock()
			return nil, ErrErased
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			k.mu.Unlock()
			return nil, fmt.Errorf("new key: %w", err)
		}
		k.keys[subject] = key
	}
	k.mu.Unlock()
	return SealWithKey(key, subject, plaintext)
}

// Open implements Keyring.
func (k *MemoryKeyring) Open(subject string, sealed []byte) ([]byte, error) {
	key, ok := k.Key(subject)
	if !ok {
		return nil, ErrErased
	}
	return OpenWithKey(key, subject, sealed)
}

// SealWithKey encrypts plaintext with AES-256-GCM under key, binding it to
// subject as additional data. The result is nonce || ciphertext.
func SealWithKey(key []byte, subject string, plaintext []byte) ([]byte, error) {
	aead, err := NewPersonalAEAD(key)
	if err != nil {
		return nil, err
	}
	return SealWith(aead, subject, plaintext)
}

// SealWith is SealWithKey with the key's AEAD already made by
// NewPersonalAEAD (a keyring keeps one per subject: making it is most of
// the cost of opening a short value).
func SealWith(aead cipher.AEAD, subject string, plaintext []byte) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, plaintext, []byte(subject)), nil
}

// OpenWithKey reverses SealWithKey.
func OpenWithKey(key []byte, subject string, sealed []byte) ([]byte, error) {
	aead, err := NewPersonalAEAD(key)
	if err != nil {
		return nil, err
	}
	return OpenWith(aead, subject, sealed)
}

// OpenWith reverses SealWith.
func OpenWith(aead cipher.AEAD, subject string, sealed []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("sealed personal data too short")
	}
	out, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(subject))
	if err != nil {
		return nil, fmt.Errorf("open personal data of %s: %w", subject, err)
	}
	return out, nil
}

// NewPersonalAEAD returns the AES-256-GCM AEAD of a personal data key.
func NewPersonalAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("personal data key: %w", err)
	}
	return cipher.NewGCM(block)
}

func sealPersonal(k Keyring, subject string, p PersonalData) (PersonalData, error) {
	if p.IsZero() {
		return PersonalData{}, nil
	}
	if k == nil {
		return PersonalData{}, errors.New("personal data present but the codec has no keyring")
	}
	plain, err := json.Marshal(personalPlain{Name: p.Name, Email: p.Email, Phone: p.Phone})
	if err != nil {
		return PersonalData{}, err
	}
	sealed, err := k.Seal(subject, plain)
	if err != nil {
		return PersonalData{}, fmt.Errorf("seal personal data of %s: %w", subject, err)
	}
	return PersonalData{Sealed: sealed}, nil
}

func openPersonal(k Keyring, subject string, p PersonalData) (PersonalData, error) {
	if len(p.Sealed) == 0 {
		return p, nil
	}
	if k == nil {
		return PersonalData{Sealed: p.Sealed, Erased: false}, nil
	}
	plain, err := k.Open(subject, p.Sealed)
	if errors.Is(err, ErrErased) {
		return PersonalData{Sealed: p.Sealed, Erased: true, Name: ErasedName}, nil
	}
	if err != nil {
		return PersonalData{}, err
	}
	var pp personalPlain
	if err := json.Unmarshal(plain, &pp); err != nil {
		return PersonalData{}, fmt.Errorf("personal data of %s: %w", subject, err)
	}
	return PersonalData{Name: pp.Name, Email: pp.Email, Phone: pp.Phone, Sealed: p.Sealed}, nil
}
