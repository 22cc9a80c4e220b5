//go:build linux

package mapped

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestDropTrimsWhatWasRead: the pages read through the mapping are
// resident until Drop, and only the few a transaction reads afterwards
// are resident after it; what was stored reads back the same.
func TestDropTrimsWhatWasRead(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("b"))
		if err != nil {
			return err
		}
		for i := range 8000 {
			val := make([]byte, 1000) // bbolt holds each value until the commit
			binary.BigEndian.PutUint32(val, uint32(i))
			if err := b.Put(binary.BigEndian.AppendUint32(nil, uint32(i)), val); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	readAll := func() int {
		n := 0
		db.View(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("b")).ForEach(func(k, v []byte) error {
				if binary.BigEndian.Uint32(v) == binary.BigEndian.Uint32(k) {
					n++
				}
				return nil
			})
		})
		return n
	}
	if n := readAll(); n != 8000 {
		t.Fatalf("%d values read, want 8000", n)
	}
	before, err := Resident(db)
	if err != nil {
		t.Fatal(err)
	}
	// 8,000 values of 1,000 bytes: about 8 MB read through the mapping.
	if before < 7<<20 {
		t.Fatalf("%d bytes resident after reading 8 MB, want at least 7 MiB", before)
	}
	if err := Drop(db); err != nil {
		t.Fatal(err)
	}
	after, err := Resident(db)
	if err != nil {
		t.Fatal(err)
	}
	// Drop's own transaction reads the meta pages and the root.
	if after > 64<<10 {
		t.Fatalf("%d bytes resident after Drop, want at most 64 KiB", after)
	}
	if n := readAll(); n != 8000 {
		t.Fatalf("after Drop, %d values read back, want 8000", n)
	}
}
