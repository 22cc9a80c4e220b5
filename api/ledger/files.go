package ledger

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of everything in a data directory: it holds sealed personal data,
// who voted, the signing key and the tokens' hashes, so only the ledger's
// own user may read any of it.
const (
	DirMode  fs.FileMode = 0o700
	FileMode fs.FileMode = 0o600
)

// TightenDataDir sets dir and every directory under it to DirMode and
// every regular file under it to FileMode (or narrower), so that a data
// directory made by an older version, or copied with a loose umask, is
// closed to other users. Symbolic links are left alone and not followed.
func TightenDataDir(dir string) error {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Chmod(path, DirMode)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			if perm := info.Mode().Perm(); perm&^FileMode != 0 {
				return os.Chmod(path, perm&FileMode)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tighten the data directory %s: %w", dir, err)
	}
	return nil
}

// RepairCommand is the command that cuts the damaged tail of the data
// directory dir's log, quoted when recovery refuses to (see
// segment.DamagedTailError).
func RepairCommand(dir string) string {
	return "concord repair --data " + dir + " --cut (with the server stopped; take a copy of the directory first)"
}
