//go:build linux || darwin || freebsd || netbsd || openbsd

package views

import "golang.org/x/sys/unix"

// mapAnon maps n bytes of private, zeroed memory.
func mapAnon(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
}

func unmapAnon(b []byte) { _ = unix.Munmap(b) }
