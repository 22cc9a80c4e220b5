package report

import (
	"errors"
	"sync/atomic"
	"testing"
)

// TestEachOnCoresCallsEveryStepOnceAndKeepsTheirErrors: every index is
// called exactly once however many run at once; the steps' errors come
// back joined, and a step that panics is an error naming the failed part,
// not the end of the process.
func TestEachOnCoresCallsEveryStepOnceAndKeepsTheirErrors(t *testing.T) {
	const n = 40
	var calls [n]atomic.Int32
	errOdd := errors.New("odd step")
	err := eachOnCores(n, func(i int) error {
		calls[i].Add(1)
		switch {
		case i == 7:
			panic("step seven")
		case i%2 == 1:
			return errOdd
		}
		return nil
	})
	for i := range calls {
		if got := calls[i].Load(); got != 1 {
			t.Errorf("step %d called %d times, want once", i, got)
		}
	}
	if !errors.Is(err, errOdd) {
		t.Errorf("the steps' errors were lost: %v", err)
	}
	if !errors.Is(err, errStepFailed) {
		t.Errorf("a panicking step is not an error of its own: %v", err)
	}
	if err := eachOnCores(n, func(int) error { return nil }); err != nil {
		t.Errorf("no step failed, got %v", err)
	}
	if err := eachOnCores(0, func(int) error { t.Error("called with no steps"); return nil }); err != nil {
		t.Error(err)
	}
}
