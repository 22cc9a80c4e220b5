//go:build linux

package segment

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data (and the metadata needed to read it back) to
// stable storage.
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// preallocate makes f size bytes long with its blocks reserved, so appends
// neither grow the file nor fail for lack of space halfway through a group.
// Where fallocate is not supported it falls back to a sparse truncate.
func preallocate(f *os.File, size int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		switch {
		case err == nil:
			return nil
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS):
			return f.Truncate(size)
		default:
			return err
		}
	}
}

// nextData returns the first offset >= off of f that may hold data (not a
// hole or unwritten extent), or ok=false if there is none before the end.
// Where SEEK_DATA is unsupported it returns off.
func nextData(f *os.File, off int64) (next int64, ok bool) {
	n, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	switch {
	case err == nil:
		return n, true
	case errors.Is(err, unix.ENXIO):
		return 0, false
	default:
		return off, true
	}
}

// bootID identifies the running kernel boot. The index is trusted after an
// unclean shutdown only if it was written during this boot (see index.go).
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
