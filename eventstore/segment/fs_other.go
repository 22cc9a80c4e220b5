//go:build unix && !linux

package segment

import "os"

// fdatasync flushes f to stable storage (fsync: no fdatasync here).
func fdatasync(f *os.File) error { return f.Sync() }

// preallocate sizes f to size bytes (sparse: no fallocate here).
func preallocate(f *os.File, size int64) error { return f.Truncate(size) }

// nextData returns off: without SEEK_DATA every byte may hold data.
func nextData(f *os.File, off int64) (int64, bool) { return off, true }

// bootID is unknown off Linux, so an index left by an unclean shutdown is
// always rebuilt.
func bootID() string { return "" }
