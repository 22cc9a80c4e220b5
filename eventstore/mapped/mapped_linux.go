// Package mapped trims a bbolt database's mapping from the process's
// resident set once what was read through it is no longer needed.
package mapped

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// Drop tells the kernel that the pages of db's mapping this process has
// read need not stay in its resident set. bbolt reads through a shared,
// read-only mapping of its file, and every page read stays resident,
// counted in the process's memory, until the kernel needs it back: at a
// million events, reading the projections' stored states at start left
// 360 MB resident beside the views decoded from them, and reading the
// event index's IDs at open (the ID filter) 130 MB. The pages stay in the
// page cache, and a later read of the mapping finds them there. The
// mapping is read-only, so dropping its pages loses nothing. It is done
// within a read transaction, during which bbolt does not remap the file.
func Drop(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		base, size := db.Info().Data, uintptr(tx.Size())
		if size == 0 {
			return nil
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, base, size, unix.MADV_DONTNEED); errno != 0 {
			return errno
		}
		return nil
	})
}

// Resident returns how many bytes of db's mapping are in this process's
// resident set (the Rss of its mapping in /proc/self/smaps).
func Resident(db *bolt.DB) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := strconv.FormatUint(uint64(db.Info().Data), 16) + "-"
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = strings.HasPrefix(fields[0], start)
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			kb, err := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("smaps: %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("smaps: no mapping at %s", start)
}
