package views

import "testing"

// TestScratchPutEmptiesAndDropsWhatItHeld: a slice put back is empty, and
// every element it ever held is zeroed, so a pooled slice keeps nothing
// alive and the next reading starts from nothing.
func TestScratchPutEmptiesAndDropsWhatItHeld(t *testing.T) {
	var s scratch[*int]
	b := s.get()
	if len(*b) != 0 {
		t.Fatalf("a new slice holds %d", len(*b))
	}
	x, y := 1, 2
	*b = append(*b, &x, &y, &x)
	held := (*b)[:cap(*b)]
	*b = (*b)[:1] // the caller cut it, as a reading may
	s.put(b)
	if len(*b) != 0 {
		t.Fatalf("a slice put back holds %d", len(*b))
	}
	for i, p := range held {
		if p != nil {
			t.Fatalf("element %d still points at %d after put", i, *p)
		}
	}
}
