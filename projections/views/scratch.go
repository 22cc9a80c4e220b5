package views

import "sync"

// scratch keeps slices that a reading fills, reads and drops before the
// function that took one returns, for the next reading. A report in the
// past allocates a few megabytes, and every one it need not allocate
// makes the collector run less often among readings. Only for a slice
// nothing keeps once that function returns.
type scratch[T any] struct{ pool sync.Pool }

// get returns an empty slice; put it back when done.
func (s *scratch[T]) get() *[]T {
	if b, ok := s.pool.Get().(*[]T); ok {
		return b
	}
	return new([]T)
}

// put empties b, dropping what its elements pointed to, and keeps it.
func (s *scratch[T]) put(b *[]T) {
	clear((*b)[:cap(*b)])
	*b = (*b)[:0]
	s.pool.Put(b)
}

// mapScratch keeps maps as scratch keeps slices: emptied when put back,
// their room kept.
type mapScratch[K comparable, V any] struct{ pool sync.Pool }

// get returns an empty map; put it back when done.
func (s *mapScratch[K, V]) get() map[K]V {
	if m, ok := s.pool.Get().(map[K]V); ok {
		return m
	}
	return map[K]V{}
}

// put empties m and keeps it.
func (s *mapScratch[K, V]) put(m map[K]V) {
	clear(m)
	s.pool.Put(m)
}
