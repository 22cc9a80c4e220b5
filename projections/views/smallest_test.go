package views

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSmallestSortedIsTheSortedListsStart: for random lists (of distinct
// values, many close together) and every k, the first k elements after
// smallestSorted are the first k of the whole list sorted, and the list
// still holds the same elements.
func TestSmallestSortedIsTheSortedListsStart(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for trial := range 300 {
		n := rng.IntN(200)
		if trial%50 == 0 {
			n = 2000 + rng.IntN(3000)
		}
		// Distinct values: a permutation of 0..n-1 scaled, so the order is total.
		s := make([]int, n)
		for i, p := range rng.Perm(n) {
			s[i] = p * 3
		}
		want := slices.Sorted(slices.Values(s))
		ks := []int{-1, 0, 1, 2, n / 4, n/4 + 1, n / 2, n, n + 5}
		for range 5 {
			ks = append(ks, rng.IntN(n+1))
		}
		for _, k := range ks {
			got := slices.Clone(s)
			smallestSorted(got, k, cmp.Compare[int])
			kk := min(max(k, 0), n)
			if !slices.Equal(got[:kk], want[:kk]) {
				t.Fatalf("n=%d k=%d: first %d are %v, want %v", n, k, kk, got[:min(kk, 10)], want[:min(kk, 10)])
			}
			if !slices.Equal(slices.Sorted(slices.Values(got)), want) {
				t.Fatalf("n=%d k=%d: the list lost or gained elements", n, k)
			}
		}
	}
}
