//go:build linux

package benchmark

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data, and the metadata needed to read it back, to
// stable storage.
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// preallocate reserves f's first size bytes (extending f), falling back to
// a sparse truncate where fallocate is not supported.
func preallocate(f *os.File, size int64) error { return preallocateMore(f, 0, size) }

// preallocateMore reserves size more bytes of f from off.
func preallocateMore(f *os.File, off, size int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, off, size)
		switch {
		case err == nil:
			return nil
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS):
			return f.Truncate(off + size)
		default:
			return err
		}
	}
}
