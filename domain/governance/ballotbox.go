package governance

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/google/uuid"
)

// BallotBox seals the choices of secret ballots with a key that belongs to
// one ballot (an election or a confidence vote) alone, and destroys that
// key when the ballot closes. The Service depends on it; implementations
// must be safe for concurrent use.
type BallotBox interface {
	// Seal encrypts voter's choice in ballot, creating the ballot's key if
	// needed. Returns ErrBallotKeyDestroyed once the ballot's key is gone.
	Seal(ballot, voter uuid.UUID, choice string) ([]byte, error)
	// Open decrypts a choice sealed for voter in ballot. Returns
	// ErrBallotKeyDestroyed once the ballot's key is gone.
	Open(ballot, voter uuid.UUID, sealed []byte) (string, error)
	// Destroy deletes ballot's key for good: its sealed choices can never
	// be opened again. Destroying twice is not an error.
	Destroy(ballot uuid.UUID) error
}

// ErrBallotKeyDestroyed is returned by a BallotBox for a ballot whose key
// has been destroyed (or never existed).
var ErrBallotKeyDestroyed = errors.New("governance: the ballot's key has been destroyed")

// choiceSize is the padded length of a sealed choice, so ciphertexts do
// not reveal which choice they hold by their length.
const choiceSize = 64

// MemoryBallotBox is a BallotBox holding its keys in memory only, with
// AES-256-GCM. Keys do not survive a restart: a server using it cannot
// close a secret ballot opened before it restarted.
type MemoryBallotBox struct {
	mu        sync.Mutex
	keys      map[uuid.UUID][]byte
	destroyed map[uuid.UUID]bool
}

// NewMemoryBallotBox returns an empty MemoryBallotBox.
func NewMemoryBallotBox() *MemoryBallotBox {
	return &MemoryBallotBox{keys: map[uuid.UUID][]byte{}, destroyed: map[uuid.UUID]bool{}}
}

func (b *MemoryBallotBox) key(ballot uuid.UUID, create bool) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.destroyed[ballot] {
		return nil, ErrBallotKeyDestroyed
	}
	k, ok := b.keys[ballot]
	if ok {
		return k, nil
	}
	if !create {
		return nil, ErrBallotKeyDestroyed
	}
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("new ballot key: %w", err)
	}
	b.keys[ballot] = k
	return k, nil
}

// additional binds a sealed choice to its ballot and voter, so it cannot
// be replayed as someone else's vote.
func additional(ballot, voter uuid.UUID) []byte {
	return append(ballot[:len(ballot):len(ballot)], voter[:]...)
}

// Seal implements BallotBox.
func (b *MemoryBallotBox) Seal(ballot, voter uuid.UUID, choice string) ([]byte, error) {
	if len(choice) > choiceSize-1 {
		return nil, fmt.Errorf("seal choice: %d bytes is too long", len(choice))
	}
	k, err := b.key(ballot, true)
	if err != nil {
		return nil, err
	}
	aead, err := gcm(k)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, choiceSize)
	plain[0] = byte(len(choice))
	copy(plain[1:], choice)
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+choiceSize+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal choice: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, additional(ballot, voter)), nil
}

// Open implements BallotBox.
func (b *MemoryBallotBox) Open(ballot, voter uuid.UUID, sealed []byte) (string, error) {
	k, err := b.key(ballot, false)
	if err != nil {
		return "", err
	}
	aead, err := gcm(k)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("open choice: sealed choice too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], additional(ballot, voter))
	if err != nil {
		return "", fmt.Errorf("open choice of %s in %s: %w", voter, ballot, err)
	}
	if len(plain) != choiceSize || int(plain[0]) > choiceSize-1 {
		return "", errors.New("open choice: malformed plaintext")
	}
	return string(plain[1 : 1+int(plain[0])]), nil
}

// Destroy implements BallotBox.
func (b *MemoryBallotBox) Destroy(ballot uuid.UUID) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k, ok := b.keys[ballot]; ok {
		clear(k)
		delete(b.keys, ballot)
	}
	b.destroyed[ballot] = true
	return nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ballot key: %w", err)
	}
	return cipher.NewGCM(block)
}

// shuffle returns a copy of s in an order drawn with crypto/rand
// (Fisher–Yates), so the recorded order of choices says nothing about the
// order of voting.
func shuffle[T any](s []T) ([]T, error) {
	out := append([]T(nil), s...)
	for i := len(out) - 1; i > 0; i-- {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return nil, fmt.Errorf("shuffle: %w", err)
		}
		j := int(n.Int64())
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}
