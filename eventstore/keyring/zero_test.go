package keyring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/concord-ledger/concord/domain"
)

// TestEraseZeroesTheKeyInMemory: the bytes the keyring held for an erased
// subject are zeros afterwards, as are all of them after Close.
func TestEraseZeroesTheKeyInMemory(t *testing.T) {
	k, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	for _, s := range []string{"person-1", "person-2"} {
		if _, err := k.Seal(s, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	held1, held2 := k.keys["person-1"].key, k.keys["person-2"].key
	if len(held1) != KeySize || bytes.Equal(held1, make([]byte, KeySize)) {
		t.Fatalf("person-1's key in memory is %x", held1)
	}
	if err := k.Erase("person-1"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(held1, make([]byte, KeySize)) {
		t.Errorf("person-1's key bytes after erasure are %x, want zeros", held1)
	}
	if bytes.Equal(held2, make([]byte, KeySize)) {
		t.Error("erasing person-1 zeroed person-2's key")
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(held2, make([]byte, KeySize)) {
		t.Errorf("person-2's key bytes after Close are %x, want zeros", held2)
	}
	if err := k.Erase("person-2"); !errors.Is(err, ErrClosed) {
		t.Errorf("erase after close: %v, want ErrClosed", err)
	}
}

// TestMoveHandsTheKeyOver: after Move only the destination opens what was
// sealed, the source has no file left, and a second Move is harmless.
func TestMoveHandsTheKeyOver(t *testing.T) {
	dir := t.TempDir()
	from, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	to, err := OpenDir(filepath.Join(dir, "ballots"))
	if err != nil {
		t.Fatal(err)
	}
	defer to.Close()
	sealed, err := from.Seal("ballot-1", []byte("candidate-a"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := from.Move("ballot-1", to); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := to.Open("ballot-1", sealed); err != nil || string(got) != "candidate-a" {
		t.Fatalf("open in the destination: %q %v", got, err)
	}
	if _, err := from.Open("ballot-1", sealed); !errors.Is(err, domain.ErrErased) {
		t.Errorf("open in the source after the move: %v, want ErrErased", err)
	}
	if n, err := from.Count(); err != nil || n != 0 {
		t.Errorf("source holds %d keys (%v), want 0", n, err)
	}
	if n, err := to.Count(); err != nil || n != 1 {
		t.Errorf("destination holds %d keys (%v), want 1", n, err)
	}
}

// TestOpenDirTightensModes: a keyring directory an older version left
// readable by others is closed on open.
func TestOpenDirTightensModes(t *testing.T) {
	dir := t.TempDir()
	k, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Seal("p", []byte("x")); err != nil {
		t.Fatal(err)
	}
	k.Close()
	kd := filepath.Join(dir, "keys")
	ents, _ := os.ReadDir(kd)
	for _, e := range ents {
		os.Chmod(filepath.Join(kd, e.Name()), 0o644)
	}
	os.Chmod(kd, 0o755)
	k, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if fi, _ := os.Stat(kd); fi.Mode().Perm() != 0o700 {
		t.Errorf("keys dir mode %v, want 0700", fi.Mode().Perm())
	}
	ents, _ = os.ReadDir(kd)
	for _, e := range ents {
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
}
