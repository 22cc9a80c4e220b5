package views

import (
	"errors"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/google/uuid"
)

// checkOffHeap fails unless a's off-heap memory holds exactly want
// regions, each the memory of one of a's chunks.
func checkOffHeap(t *testing.T, a *Audit, want int) {
	t.Helper()
	if want == 0 {
		if a.mem != nil && len(a.mem.list.regions) > 0 {
			t.Fatalf("%d regions mapped, want none", len(a.mem.list.regions))
		}
		return
	}
	if a.mem == nil || len(a.mem.list.regions) != want {
		got := 0
		if a.mem != nil {
			got = len(a.mem.list.regions)
		}
		t.Fatalf("%d regions mapped, want %d", got, want)
	}
	mapped := map[uintptr]bool{}
	for _, r := range a.mem.list.regions {
		mapped[uintptr(unsafe.Pointer(unsafe.SliceData(r)))] = true
	}
	found := 0
	for _, c := range a.Records {
		if mapped[uintptr(unsafe.Pointer(unsafe.SliceData(c)))] {
			found++
		}
	}
	for _, c := range a.text {
		if mapped[uintptr(unsafe.Pointer(unsafe.SliceData(c)))] {
			found++
		}
	}
	for _, c := range a.linkArena {
		if mapped[uintptr(unsafe.Pointer(unsafe.SliceData(c)))] {
			found++
		}
	}
	if found != want {
		t.Fatalf("%d of the audit's chunks are in its %d mapped regions", found, want)
	}
}

// TestPointerFree: only values the collector need not look into may be
// held off the heap.
func TestPointerFree(t *testing.T) {
	type flat struct {
		A uint64
		B [16]byte
		C struct{ D, E int32 }
	}
	type withString struct {
		A int
		S string
	}
	for _, c := range []struct {
		t    reflect.Type
		want bool
	}{
		{reflect.TypeFor[byte](), true},
		{reflect.TypeFor[uint32](), true},
		{reflect.TypeFor[float64](), true},
		{reflect.TypeFor[uuid.UUID](), true},
		{reflect.TypeFor[flat](), true},
		{reflect.TypeFor[auditRec](), true},
		{reflect.TypeFor[arenaRef](), true},
		{reflect.TypeFor[string](), false},
		{reflect.TypeFor[[]byte](), false},
		{reflect.TypeFor[*int](), false},
		{reflect.TypeFor[map[int]int](), false},
		{reflect.TypeFor[withString](), false},
		{reflect.TypeFor[[2]string](), false},
		{reflect.TypeFor[any](), false},
		{reflect.TypeFor[func()](), false},
		{reflect.TypeFor[chan int](), false},
		{reflect.TypeFor[unsafe.Pointer](), false},
		{reflect.TypeFor[uintptr](), false},
	} {
		if got := pointerFree(c.t); got != c.want {
			t.Errorf("pointerFree(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

// TestOffHeapSlice: chunks before offHeapFrom, and values holding
// pointers, are on the heap; the rest are mapped, with room for n values
// and none yet.
func TestOffHeapSlice(t *testing.T) {
	var o *offHeap
	if s := offHeapSlice[auditRec](&o, 0, 10); cap(s) != 10 || len(s) != 0 || o != nil {
		t.Fatalf("first chunk: cap %d len %d, off heap %v; want 10, 0, nothing mapped", cap(s), len(s), o != nil)
	}
	if s := offHeapSlice[string](&o, 3, 10); cap(s) != 10 || o != nil {
		t.Fatalf("strings: cap %d, off heap %v; want 10 on the heap", cap(s), o != nil)
	}
	s := offHeapSlice[auditRec](&o, 1, 1000)
	if cap(s) != 1000 || len(s) != 0 || o == nil || len(o.list.regions) != 1 {
		t.Fatalf("second chunk: cap %d len %d; want 1000, 0, one region mapped", cap(s), len(s))
	}
	if got, want := len(o.list.regions[0]), 1000*int(unsafe.Sizeof(auditRec{})); got != want {
		t.Fatalf("region of %d bytes, want %d", got, want)
	}
	s = append(s, auditRec{Pos: 7, Summary: arenaRef{chunk: 1, off: 2, n: 3}})
	s = s[:cap(s)]
	if s[0].Pos != 7 || s[0].Summary.n != 3 || s[999] != (auditRec{}) {
		t.Fatalf("mapped records read back %+v, last %+v", s[0], s[999])
	}
	if b := offHeapSlice[byte](&o, 5, 4096); cap(b) != 4096 || len(o.list.regions) != 2 {
		t.Fatalf("bytes: cap %d, %d regions; want 4096, 2", cap(b), len(o.list.regions))
	}
}

// TestOffHeapSliceFallsBackToTheHeap: where memory cannot be mapped, the
// chunk comes from the heap, with the capacity asked for, and nothing is
// recorded to unmap.
func TestOffHeapSliceFallsBackToTheHeap(t *testing.T) {
	defer func(m func(int) ([]byte, error)) { mapRegion = m }(mapRegion)
	mapRegion = func(int) ([]byte, error) { return nil, errors.ErrUnsupported }
	var o *offHeap
	s := offHeapSlice[auditRec](&o, 3, 100)
	if cap(s) != 100 || len(s) != 0 {
		t.Fatalf("cap %d len %d, want 100, 0", cap(s), len(s))
	}
	if o != nil && len(o.list.regions) != 0 {
		t.Fatalf("%d regions recorded for a chunk that was not mapped", len(o.list.regions))
	}
	a := NewAudit()
	for i := range 2*auditChunk + 1 {
		a.push(auditRec{Pos: uint64(i + 1)})
	}
	checkOffHeap(t, a, 0)
	if a.Len() != 2*auditChunk+1 || a.rec(2*auditChunk).Pos != 2*auditChunk+1 {
		t.Fatalf("%d records, the last at %d", a.Len(), a.rec(a.Len()-1).Pos)
	}
}

// TestOffHeapMemoryIsGivenBack: once the view holding it is unreachable,
// its mapped regions are unmapped, all of them.
func TestOffHeapMemoryIsGivenBack(t *testing.T) {
	// Views left by other tests may be given back meanwhile: only this
	// one's list is counted.
	var list atomic.Pointer[mappedList]
	var given atomic.Int64
	count := func(l *mappedList, n int) {
		if l == list.Load() {
			given.Store(int64(n) + 1)
		}
	}
	unmapped.Store(&count)
	defer unmapped.Store(nil)
	func() {
		a := NewAudit()
		for i := range 2*auditChunk + 1 {
			a.push(auditRec{Pos: uint64(i + 1)})
		}
		if a.mem == nil || len(a.mem.list.regions) != 2 {
			t.Fatal("two record chunks off the heap, want two regions mapped")
		}
		list.Store(a.mem.list)
	}()
	// Cleanups run after a collection finds the view unreachable, on a
	// goroutine of their own: collect until it has run (no clock).
	for i := 0; given.Load() == 0; i++ {
		if i == 10000 {
			t.Fatal("the view's regions were not given back after 10,000 collections")
		}
		runtime.GC()
		runtime.Gosched()
	}
	if n := given.Load() - 1; n != 2 {
		t.Fatalf("%d regions given back, want 2", n)
	}
}
