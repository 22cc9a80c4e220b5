package segment

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Modes of the store's directory and files: the log holds sealed personal
// data and who voted, so only the ledger's own user may read it.
const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600
)

// tighten sets dir to dirMode and every file in it to fileMode, so that a
// directory made by an older version (0755, files 0644) is closed to other
// users from the first Open on.
func tighten(dir string) error {
	if err := os.Chmod(dir, dirMode); err != nil {
		return fmt.Errorf("tighten %s: %w", dir, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("tighten %s: %w", dir, err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("tighten %s: %w", dir, err)
		}
		if info.Mode().Perm()&^fileMode == 0 {
			continue
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), info.Mode().Perm()&fileMode); err != nil {
			return fmt.Errorf("tighten %s: %w", dir, err)
		}
	}
	return nil
}
