package projections

import (
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// dropMapped tells the kernel that the pages of the database's mapping
// this process has read need not stay in its resident set: the states
// read back at start are decoded into the views, and holding the stored
// copy beside them counted each state twice in the process's memory (at
// a million events, 360 MB). The pages stay in the page cache, and a
// later read of the mapping finds them there. The mapping is bbolt's,
// shared and read-only, so dropping its pages loses nothing. It is done
// within a read transaction, during which bbolt does not remap the file.
func dropMapped(db *bolt.DB) error {
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
