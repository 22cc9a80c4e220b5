//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package views

import "errors"

// mapAnon is not available here: offHeapSlice takes the heap instead.
func mapAnon(int) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapAnon([]byte) {}
