package views

import (
	"reflect"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// offHeap hands out memory the garbage collector does not manage, for a
// view's large arrays of pointer-free values (the audit view's records,
// summaries and links: at a million events about 180 MB). Memory on the
// heap sets the collector's pace: the heap may grow to twice what is live
// before the next collection, so every byte a view holds there costs two
// in the process's peak; memory held here costs one. It is given back to
// the system once the offHeap that handed it out is unreachable
// (runtime.AddCleanup), so whatever points into it must keep the offHeap
// reachable while it reads (its owner holds it, as Audit.mem does).
//
// Where the system cannot map memory (mapAnon fails, or on a platform
// without it), it is taken from the heap instead: slower to collect, never
// wrong.
type offHeap struct{ list *mappedList }

// mappedList is the regions an offHeap mapped, unmapped together by the
// cleanup once the offHeap is unreachable.
type mappedList struct{ regions [][]byte }

func newOffHeap() *offHeap {
	o := &offHeap{list: &mappedList{}}
	runtime.AddCleanup(o, (*mappedList).unmapAll, o.list)
	return o
}

func (l *mappedList) unmapAll() {
	for _, b := range l.regions {
		unmapAnon(b)
	}
	if f := unmapped.Load(); f != nil {
		(*f)(l, len(l.regions))
	}
	l.regions = nil
}

// unmapped, when set (by tests), is called by each cleanup with the list
// it has just unmapped and how many regions it held.
var unmapped atomic.Pointer[func(l *mappedList, regions int)]

// offHeapFrom is the first chunk (counted from 0) of each of a view's
// arenas taken off the heap: the first stays on it, so that the many small
// views folded in tests and in readings of the past map nothing. A
// variable for tests.
var offHeapFrom = 1

// offHeapSlice returns an empty slice of capacity n of pointer-free values
// of type T outside the heap (from o, created when nil), or on the heap
// when chunk comes before offHeapFrom or T holds pointers (which the
// collector must see).
func offHeapSlice[T any](o **offHeap, chunk, n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if chunk < offHeapFrom || n == 0 || size == 0 || !pointerFree(reflect.TypeFor[T]()) {
		return make([]T, 0, n)
	}
	if *o == nil {
		*o = newOffHeap()
	}
	b, err := mapRegion(n * size)
	if err != nil {
		return make([]T, 0, n)
	}
	(*o).list.regions = append((*o).list.regions, b)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)[:0]
}

// mapRegion maps memory for offHeapSlice (mapAnon; a variable for tests).
var mapRegion = mapAnon

// pointerFree reports whether values of type t hold no pointers.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	default:
		return false
	}
}
