package segment

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestTailLogIsTheListOfEventsNotYetIndexed holds the blocked tail to a
// plain slice through random pushes and drops, across block edges, and
// checks that copies taken along the way still read what they held.
func TestTailLogIsTheListOfEventsNotYetIndexed(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var tl tailLog
	var want []uint64 // positions, oldest first
	next := uint64(1)
	type copyOf struct {
		tl   tailLog
		want []uint64
	}
	var copies []copyOf
	for step := range 3000 {
		switch r := rng.IntN(10); {
		case r < 7:
			for range rng.IntN(3 * tailChunk / 2) {
				tl.push(tailEntry{off: int64(next)})
				want = append(want, next)
				next++
			}
		default:
			k := rng.IntN(len(want) + 1)
			tl.drop(k)
			want = want[k:]
		}
		if tl.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", step, tl.len(), len(want))
		}
		for i, p := range want {
			if got := uint64(tl.at(i).off); got != p {
				t.Fatalf("step %d: entry %d is %d, want %d", step, i, got, p)
			}
		}
		if len(tl.blocks) > len(want)/tailChunk+2 {
			t.Fatalf("step %d: %d blocks kept for %d entries", step, len(tl.blocks), len(want))
		}
		if step%97 == 0 {
			copies = append(copies, copyOf{tl, append([]uint64(nil), want...)})
		}
	}
	for j, c := range copies {
		for i, p := range c.want {
			if got := uint64(c.tl.at(i).off); got != p {
				t.Fatalf("copy %d: entry %d is %d, want %d", j, i, got, p)
			}
		}
	}
}

// TestTailLogCopiesReadWhilePublishing runs readers of copies beside a
// publisher and an indexer, as the store does (the race detector checks
// that they never touch the same entry).
func TestTailLogCopiesReadWhilePublishing(t *testing.T) {
	var mu sync.RWMutex
	var tl tailLog
	first := uint64(1) // position of tl.at(0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.RLock()
				c, p0 := tl, first
				mu.RUnlock()
				for i := range c.len() {
					if got := uint64(c.at(i).off); got != p0+uint64(i) {
						t.Errorf("entry %d of a copy is %d, want %d", i, got, p0+uint64(i))
						return
					}
				}
			}
		}()
	}
	next := uint64(1)
	for round := range 3000 {
		mu.Lock()
		for range 37 {
			tl.push(tailEntry{off: int64(next)})
			next++
		}
		if round%5 == 4 {
			k := tl.len() - 11
			tl.drop(k)
			first += uint64(k)
		}
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
}
