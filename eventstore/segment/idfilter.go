package segment

import (
	"encoding/binary"
	"math/bits"

	"github.com/google/uuid"
)

// idFilter is a Bloom filter of event IDs that grows with the log: it
// answers "certainly not stored" for almost every new ID, so an append
// looks its IDs up in the index only when the filter says "maybe" (an ID
// that is stored, or about one false positive in a hundred).
//
// It is a list of fixed-size filters; each takes filterBitsPerID bits per
// ID for its capacity, and once the last is full a new one twice its size
// is added, so the false-positive rate stays about 1% whatever the log's
// length, at about 1.3 bytes per event.
//
// An idFilter is not safe for concurrent use; the store guards it with
// its mutex.
type idFilter struct {
	parts []*bloom
	n     int // IDs added
}

const (
	filterBitsPerID = 10
	filterHashes    = 7
	filterFirstCap  = 1 << 16
)

type bloom struct {
	words []uint64
	mask  uint64 // bits - 1; bits is a power of two
	cap   int
	n     int
}

func newBloom(capacity int) *bloom {
	nbits := uint64(1) << bits.Len64(uint64(capacity*filterBitsPerID-1))
	return &bloom{words: make([]uint64, nbits/64), mask: nbits - 1, cap: capacity}
}

// idHashes derives the two hashes of double hashing from an ID. IDs are
// mostly UUID v7 (48 bits of time, then random bits) but may be anything a
// client chose, so all 16 bytes are mixed.
func idHashes(id uuid.UUID) (h1, h2 uint64) {
	a := binary.LittleEndian.Uint64(id[0:8])
	b := binary.LittleEndian.Uint64(id[8:16])
	h1 = mix64(a ^ mix64(b))
	h2 = mix64(b+0x9e3779b97f4a7c15) | 1
	return h1, h2
}

// mix64 is a 64-bit finaliser (from SplitMix64).
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (b *bloom) add(h1, h2 uint64) {
	for i := range uint64(filterHashes) {
		bit := (h1 + i*h2) & b.mask
		b.words[bit>>6] |= 1 << (bit & 63)
	}
	b.n++
}

func (b *bloom) has(h1, h2 uint64) bool {
	for i := range uint64(filterHashes) {
		bit := (h1 + i*h2) & b.mask
		if b.words[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

// add records id.
func (f *idFilter) add(id uuid.UUID) {
	if len(f.parts) == 0 || f.parts[len(f.parts)-1].n >= f.parts[len(f.parts)-1].cap {
		c := filterFirstCap
		if len(f.parts) > 0 {
			c = 2 * f.parts[len(f.parts)-1].cap
		}
		f.parts = append(f.parts, newBloom(c))
	}
	h1, h2 := idHashes(id)
	f.parts[len(f.parts)-1].add(h1, h2)
	f.n++
}

// mayHave reports whether id may have been added; false is certain.
func (f *idFilter) mayHave(id uuid.UUID) bool {
	h1, h2 := idHashes(id)
	for _, p := range f.parts {
		if p.has(h1, h2) {
			return true
		}
	}
	return false
}
