package transparency

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a signed statement that the log's first Size events hash
// to Root. Its Note is in the C2SP tlog-checkpoint format:
//
//	<origin>
//	<size, decimal>
//	<root, base64>
//
//	— <origin> <base64 signature>
//
// signed as a golang.org/x/mod/sumdb/note with an Ed25519 key named
// after the origin. It marshals to JSON as
// {"origin","tree_size","root_hex","note","position"}.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	// Note is the signed note: the body above, a blank line and one
	// signature line per signer (the ledger, then any witnesses).
	Note string
	// Position is where the CheckpointSigned event recording it sits in
	// the log (0 for a checkpoint not recorded in the log, such as the
	// last line of an export).
	Position uint64
}

type checkpointJSON struct {
	Origin   string `json:"origin"`
	Size     uint64 `json:"tree_size"`
	RootHex  string `json:"root_hex"`
	Note     string `json:"note"`
	Position uint64 `json:"position,omitempty"`
}

// MarshalJSON implements json.Marshaler.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointJSON{Origin: c.Origin, Size: c.Size, RootHex: hex.EncodeToString(c.Root), Note: c.Note, Position: c.Position})
}

// UnmarshalJSON implements json.Unmarshaler. It does not verify anything:
// use ParseCheckpoint on Note for that.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	var j checkpointJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	root, err := hex.DecodeString(j.RootHex)
	if err != nil {
		return fmt.Errorf("%w: root_hex: %v", ErrMalformedCheckpoint, err)
	}
	*c = Checkpoint{Origin: j.Origin, Size: j.Size, Root: root, Note: j.Note, Position: j.Position}
	return nil
}

// CheckpointBody returns the unsigned checkpoint text for origin, size and
// root: "origin\nsize\nbase64(root)\n".
func CheckpointBody(origin string, size uint64, root []byte) string {
	return origin + "\n" + strconv.FormatUint(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root) + "\n"
}

// SignCheckpoint signs the checkpoint of (origin, size, root) with s.
func SignCheckpoint(s note.Signer, origin string, size uint64, root []byte) (Checkpoint, error) {
	msg, err := note.Sign(&note.Note{Text: CheckpointBody(origin, size, root)}, s)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sign checkpoint: %w", err)
	}
	return Checkpoint{Origin: origin, Size: size, Root: bytes.Clone(root), Note: string(msg)}, nil
}

// ParseCheckpoint verifies msg's signature by v and parses its body.
// The origin must be v's name. Returns an error wrapping ErrBadSignature
// when the signature is missing or wrong, or ErrMalformedCheckpoint when
// the note or body cannot be parsed.
func ParseCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var inv *note.InvalidSignatureError
		var unv *note.UnverifiedNoteError
		switch {
		case errors.As(err, &inv):
			return Checkpoint{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
		case errors.As(err, &unv):
			return Checkpoint{}, fmt.Errorf("%w: no signature by %s", ErrBadSignature, v.Name())
		default:
			return Checkpoint{}, fmt.Errorf("%w: %v", ErrMalformedCheckpoint, err)
		}
	}
	c, err := ParseCheckpointBody(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q is not the key's name %q", ErrMalformedCheckpoint, c.Origin, v.Name())
	}
	c.Note = string(msg)
	return c, nil
}

// ParseCheckpointBody parses an unsigned checkpoint body strictly: an
// origin line, a decimal size without leading zeros and a base64 root of
// HashSize bytes; extension lines, if any, follow and are ignored.
func ParseCheckpointBody(text string) (Checkpoint, error) {
	lines := strings.SplitAfter(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return Checkpoint{}, fmt.Errorf("%w: want origin, size and root lines", ErrMalformedCheckpoint)
	}
	origin := strings.TrimSuffix(lines[0], "\n")
	sizeS := strings.TrimSuffix(lines[1], "\n")
	rootS := strings.TrimSuffix(lines[2], "\n")
	if origin == "" {
		return Checkpoint{}, fmt.Errorf("%w: empty origin", ErrMalformedCheckpoint)
	}
	size, err := strconv.ParseUint(sizeS, 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != sizeS {
		return Checkpoint{}, fmt.Errorf("%w: size %q", ErrMalformedCheckpoint, sizeS)
	}
	root, err := base64.StdEncoding.Strict().DecodeString(rootS)
	if err != nil || len(root) != HashSize || base64.StdEncoding.EncodeToString(root) != rootS {
		return Checkpoint{}, fmt.Errorf("%w: root %q", ErrMalformedCheckpoint, rootS)
	}
	return Checkpoint{Origin: origin, Size: size, Root: root}, nil
}

// Key is the ledger's (or a witness's) note signing key with its public
// verifier key.
type Key struct {
	Signer note.Signer
	// VerifierKey is the public key in note verifier format
	// ("name+hash+base64"), as written to checkpoint.pub.
	VerifierKey string
	Verifier    note.Verifier
}

// Name returns the key's name (the log's origin, or the witness's name).
func (k Key) Name() string { return k.Signer.Name() }

// GenerateKey returns a new Ed25519 note key named name. name must be a
// valid note name: no spaces or '+', e.g. "school.example/ledger".
func GenerateKey(name string) (Key, string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return Key{}, "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	k, err := ParseKey(skey)
	return k, skey, err
}

// ParseKey parses a note signer key ("PRIVATE+KEY+name+hash+base64") and
// derives its verifier key. Returns an error wrapping ErrBadKey.
func ParseKey(skey string) (Key, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	// The signer key's fifth field is base64(0x01 || ed25519 seed); the
	// base64 may itself hold '+'.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return Key{}, fmt.Errorf("%w: not a note signer key", ErrBadKey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return Key{}, fmt.Errorf("%w: not an Ed25519 note key", ErrBadKey)
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil || v.KeyHash() != s.KeyHash() {
		return Key{}, fmt.Errorf("%w: derived verifier does not match the signer", ErrBadKey)
	}
	return Key{Signer: s, VerifierKey: vkey, Verifier: v}, nil
}

// ReadKey reads a signer key file.
func ReadKey(path string) (Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Key{}, err
	}
	k, err := ParseKey(string(b))
	if err != nil {
		return Key{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateKey returns the signer key in path, first generating one
// named name (mode 0600) if the file does not exist. It (re)writes the
// verifier key to pubPath when pubPath is not empty. If name is not empty
// and the existing key has another name, it returns an error wrapping
// ErrBadKey: the checkpoint origin is the key's name.
func LoadOrCreateKey(path, pubPath, name string) (Key, error) {
	k, err := ReadKey(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if name == "" {
			return Key{}, fmt.Errorf("%w: no key at %s and no name to create one", ErrBadKey, path)
		}
		var skey string
		k, skey, err = GenerateKey(name)
		if err != nil {
			return Key{}, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return Key{}, err
		}
		if err := writeFileAtomic(path, []byte(skey+"\n"), 0o600); err != nil {
			return Key{}, fmt.Errorf("write key: %w", err)
		}
	case err != nil:
		return Key{}, err
	case name != "" && k.Name() != name:
		return Key{}, fmt.Errorf("%w: %s is the key of %q, not %q", ErrBadKey, path, k.Name(), name)
	}
	if pubPath != "" {
		if old, err := os.ReadFile(pubPath); err != nil || strings.TrimSpace(string(old)) != k.VerifierKey {
			if err := writeFileAtomic(pubPath, []byte(k.VerifierKey+"\n"), 0o600); err != nil {
				return Key{}, fmt.Errorf("write public key: %w", err)
			}
		}
	}
	return k, nil
}

// ReadVerifier reads a note verifier key file (such as checkpoint.pub).
func ReadVerifier(path string) (note.Verifier, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", path, ErrBadKey, err)
	}
	return v, nil
}

// Cosign adds k's signature to a checkpoint note that carries the log's
// verified signature (checked with logKey), keeping the signatures it
// already has. It is what a witness posts back to the ledger.
func Cosign(msg []byte, logKey note.Verifier, k Key) ([]byte, error) {
	n, err := note.Open(msg, note.VerifierList(logKey))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return note.Sign(n, k.Signer)
}
