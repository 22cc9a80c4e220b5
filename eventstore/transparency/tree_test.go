package transparency

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

var errorsIs = errors.Is

func fakeLeaves(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = hasher.HashLeaf([]byte(fmt.Sprintf("leaf %d", from+i)))
	}
	return out
}

func mustOpenTree(t *testing.T, dir string) *Tree {
	t.Helper()
	tr, err := OpenTree(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open tree: %v", err)
	}
	return tr
}

func TestTreeReopen(t *testing.T) {
	dir := t.TempDir()
	tr := mustOpenTree(t, dir)
	if err := tr.AppendLeaves(0, fakeLeaves(0, 1000)); err != nil {
		t.Fatal(err)
	}
	size, root := tr.Root()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	tr = mustOpenTree(t, dir)
	defer tr.Close()
	gotSize, gotRoot := tr.Root()
	if gotSize != size || !bytes.Equal(gotRoot, root) {
		t.Fatalf("reopened size=%d root=%x, want %d %x", gotSize, gotRoot, size, root)
	}
	// It keeps growing from where it was, with the same result as a
	// tree built in one go.
	if err := tr.AppendLeaves(1000, fakeLeaves(1000, 337)); err != nil {
		t.Fatal(err)
	}
	ref := NewMemoryTree()
	if err := ref.AppendLeaves(0, fakeLeaves(0, 1337)); err != nil {
		t.Fatal(err)
	}
	for _, size := range []uint64{1, 999, 1000, 1001, 1337} {
		a, _ := tr.RootAt(size)
		b, _ := ref.RootAt(size)
		if !bytes.Equal(a, b) {
			t.Errorf("root at %d=%x, want %x", size, a, b)
		}
	}
}

// TestTreeReopenTrustsOnlySyncedSize: leaves appended after the last Sync
// are dropped at open (the follower re-appends them from the log).
func TestTreeReopenTrustsOnlySyncedSize(t *testing.T) {
	dir := t.TempDir()
	tr := mustOpenTree(t, dir)
	if err := tr.AppendLeaves(0, fakeLeaves(0, 300)); err != nil {
		t.Fatal(err)
	}
	if err := tr.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := tr.AppendLeaves(300, fakeLeaves(300, 211)); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash: drop the files without Close (no final Sync).
	tr.mu.Lock()
	tr.closeFiles()
	tr.closed = true
	tr.mu.Unlock()

	tr = mustOpenTree(t, dir)
	defer tr.Close()
	if got, want := tr.Size(), uint64(300); got != want {
		t.Fatalf("size after crash=%d, want %d", got, want)
	}
	if err := tr.AppendLeaves(300, fakeLeaves(300, 211)); err != nil {
		t.Fatal(err)
	}
	ref := NewMemoryTree()
	ref.AppendLeaves(0, fakeLeaves(0, 511))
	_, a := tr.Root()
	_, b := ref.Root()
	if !bytes.Equal(a, b) {
		t.Fatalf("root after rebuild=%x, want %x", a, b)
	}
}

func TestTreeRebuildsWhenFilesDamaged(t *testing.T) {
	for name, damage := range map[string]func(dir string) error{
		"level file cut short": func(dir string) error { return os.Truncate(filepath.Join(dir, "level-00"), 32*10) },
		// 100 = 64+32+4: the node at level 6 is one of the three the
		// tree reloads at open.
		"node changed": func(dir string) error {
			f, err := os.OpenFile(filepath.Join(dir, "level-06"), os.O_RDWR, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte{0xff}, 5)
			return err
		},
		"state unreadable": func(dir string) error { return os.WriteFile(filepath.Join(dir, stateFile), []byte("{"), 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			tr := mustOpenTree(t, dir)
			tr.memFrom = 1
			if err := tr.AppendLeaves(0, fakeLeaves(0, 100)); err != nil {
				t.Fatal(err)
			}
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if err := damage(dir); err != nil {
				t.Fatal(err)
			}
			tr = mustOpenTree(t, dir)
			defer tr.Close()
			if got := tr.Size(); got != 0 {
				t.Fatalf("size after damage=%d, want 0 (rebuild)", got)
			}
		})
	}
}
