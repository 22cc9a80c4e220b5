package domain_test

import (
	"testing"

	"github.com/concord-ledger/concord/domain"
)

func TestGrowCopy(t *testing.T) {
	if got := domain.GrowCopy([]int(nil), 3); got != nil {
		t.Errorf("nil copied to %#v, want nil", got)
	}
	if got := domain.GrowCopy([]int{}, 3); got == nil || len(got) != 0 {
		t.Errorf("empty copied to %#v, want empty, not nil", got)
	}
	s := []int{1, 2, 3}
	got := domain.GrowCopy(s, 2)
	if len(got) != 3 || cap(got) < 5 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("copy %v (cap %d), want [1 2 3] with room for 2 more", got, cap(got))
	}
	got[0] = 9
	if s[0] != 1 {
		t.Error("the copy shares the original's array")
	}
}
