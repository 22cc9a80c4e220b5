package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The report's money, days and minutes read as the rules write them:
// pounds with two decimals, ISO days and minutes in UTC.
func TestTableCellsAreWrittenAsTheRulesSay(t *testing.T) {
	money := []struct {
		pence int64
		want  string
	}{
		{0, "0.00"}, {5, "0.05"}, {10, "0.10"}, {99, "0.99"}, {100, "1.00"}, {1800, "18.00"}, {123456, "1234.56"},
		{-5, "-0.05"}, {-1800, "-18.00"}, {math.MaxInt64, "92233720368547758.07"}, {math.MinInt64, "-92233720368547758.08"},
	}
	for _, c := range money {
		if got := gbp(c.pence); got != c.want {
			t.Errorf("gbp(%d) = %q, want %q", c.pence, got, c.want)
		}
	}
	plus2 := time.FixedZone("+02", 2*60*60)
	days := []struct {
		t         time.Time
		day, when string
	}{
		{time.Time{}, "", ""},
		{time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), "2026-09-01", "2026-09-01 00:00"},
		{time.Date(2026, 12, 7, 9, 5, 59, 0, time.UTC), "2026-12-07", "2026-12-07 09:05"},
		{time.Date(2026, 9, 1, 0, 30, 0, 0, plus2), "2026-08-31", "2026-08-31 22:30"},
		{time.Date(999, 1, 5, 23, 59, 0, 0, time.UTC), "0999-01-05", "0999-01-05 23:59"},
	}
	for _, c := range days {
		if got := day(c.t); got != c.day {
			t.Errorf("day(%v) = %q, want %q", c.t, got, c.day)
		}
		if c.t.IsZero() {
			continue
		}
		if got := minute(c.t); got != c.when {
			t.Errorf("minute(%v) = %q, want %q", c.t, got, c.when)
		}
	}
	// Any moment reads as the standard library writes it in UTC.
	rng := rand.New(rand.NewPCG(4, 4))
	for range 10000 {
		tm := time.Unix(rng.Int64N(1<<38)-1<<37, 0).In(plus2)
		if tm.UTC().Year() < 0 || tm.UTC().Year() > 9999 {
			continue
		}
		if got, want := day(tm), tm.UTC().Format("2006-01-02"); got != want {
			t.Fatalf("day(%v) = %q, want %q", tm, got, want)
		}
		if got, want := minute(tm), tm.UTC().Format("2006-01-02 15:04"); got != want {
			t.Fatalf("minute(%v) = %q, want %q", tm, got, want)
		}
	}
}
