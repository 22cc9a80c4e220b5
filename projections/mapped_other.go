//go:build !linux

package projections

import bolt "go.etcd.io/bbolt"

// dropMapped does nothing where the resident set is not trimmed this way.
func dropMapped(*bolt.DB) error { return nil }
