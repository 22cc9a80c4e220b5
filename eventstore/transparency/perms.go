package transparency

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// The log's files (the signing key, the tree's nodes, the latest
// checkpoint) are the ledger user's alone: directories 0700, files 0600.
// Files an older version created more open are tightened on Open.

// tightenFile narrows path's mode to 0600; a missing file, or anything
// but a regular file, is left alone.
func tightenFile(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() && fi.Mode().Perm()&^0o600 != 0 {
		return os.Chmod(path, fi.Mode().Perm()&0o600)
	}
	return nil
}

// tightenDir sets dir to 0700 and narrows every file in it to 0600.
func tightenDir(dir string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := tightenFile(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
