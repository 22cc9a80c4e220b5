package memory_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/eventstore/storetest"
	"github.com/google/uuid"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s := memory.New(memory.Options{})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// stepClock returns a clock that advances by step on every call, and may
// step back once every back calls, to exercise the clamping of recorded
// times.
func stepClock(step time.Duration, back int) func() time.Time {
	var mu sync.Mutex
	now := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	calls := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if back > 0 && calls%back == 0 {
			now = now.Add(-3 * step)
		} else {
			now = now.Add(step)
		}
		return now
	}
}

func TestContractPinnedClockAndSmallLimit(t *testing.T) {
	const limit = 4 << 10
	storetest.RunWithOptions(t, storetest.Options{MaxEventSize: limit}, func(t *testing.T) eventstore.Store {
		s := memory.New(memory.Options{MaxEventSize: limit, Now: stepClock(time.Millisecond, 0)})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestContractClockSteppingBack(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s := memory.New(memory.Options{Now: stepClock(time.Millisecond, 4)})
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestRecordedAtClampedWhenClockStepsBack(t *testing.T) {
	ctx := context.Background()
	times := []time.Time{
		time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC),
		time.Date(2025, 9, 1, 7, 0, 0, 0, time.UTC),                         // clock stepped back
		time.Date(2025, 9, 1, 11, 0, 0, 0, time.FixedZone("CEST", 2*60*60)), // 09:00 UTC
	}
	i := 0
	s := memory.New(memory.Options{Now: func() time.Time { t := times[i]; i++; return t }})
	defer s.Close()
	for range times {
		e := eventstore.EventData{ID: uuid.New(), Type: "T", Schema: 1, Data: []byte(`{}`)}
		if _, err := s.Append(ctx, "clock-1", eventstore.Any(), e); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ReadAll(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{times[0], times[0], time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)}
	for j, e := range all {
		if !e.RecordedAt.Equal(want[j]) || e.RecordedAt.Location() != time.UTC {
			t.Errorf("position %d: recorded_at=%v, want %v in UTC", e.Position, e.RecordedAt, want[j])
		}
	}
	for _, c := range []struct {
		at   time.Time
		want uint64
	}{
		{times[0].Add(-time.Nanosecond), 0},
		{times[0], 2},
		{times[0].Add(30 * time.Minute), 2},
		{want[2], 3},
	} {
		if got, err := s.PositionAt(ctx, c.at); err != nil || got != c.want {
			t.Errorf("PositionAt(%v)=%d, %v; want %d", c.at, got, err, c.want)
		}
	}
}
