//go:build !linux

package benchmark

import "os"

// fdatasync falls back to fsync where fdatasync is not available.
func fdatasync(f *os.File) error { return f.Sync() }

// preallocate extends f to size bytes (sparse: no fallocate here).
func preallocate(f *os.File, size int64) error { return preallocateMore(f, 0, size) }

// preallocateMore extends f to off+size bytes.
func preallocateMore(f *os.File, off, size int64) error { return f.Truncate(off + size) }
