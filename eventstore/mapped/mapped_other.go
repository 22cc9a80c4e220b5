//go:build !linux

package mapped

import (
	"errors"

	bolt "go.etcd.io/bbolt"
)

// Drop does nothing where the resident set is not trimmed this way.
func Drop(*bolt.DB) error { return nil }

// Resident is not known here.
func Resident(*bolt.DB) (int64, error) { return 0, errors.ErrUnsupported }
