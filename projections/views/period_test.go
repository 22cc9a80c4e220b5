package views

import (
	"testing"
	"time"
	_ "time/tzdata" // the zone database, whatever the machine has
)

// TestPeriodContainsItsDaysOnly: a period holds every instant of its first
// through its last day and nothing either side; NewPeriod's days are UTC
// days, and a period whose last day was given in another zone ends at
// that zone's next midnight; an open end holds everything that way.
func TestPeriodContainsItsDaysOnly(t *testing.T) {
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	year, err := YearPeriod("2025-26")
	if err != nil {
		t.Fatal(err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	days, err := NewPeriod(time.Date(2026, 3, 28, 0, 0, 0, 0, london), time.Date(2026, 3, 29, 0, 0, 0, 0, london))
	if err != nil {
		t.Fatal(err)
	}
	// 29 March 2026 is 23 hours long in London (the clocks go forward):
	// it ends at 23:00 UTC.
	short := Period{From: time.Date(2026, 3, 28, 0, 0, 0, 0, london), To: time.Date(2026, 3, 29, 0, 0, 0, 0, london)}
	for _, c := range []struct {
		name string
		p    Period
		t    time.Time
		want bool
	}{
		{"the year's first instant", year, utc(2025, 9, 1, 0, 0), true},
		{"the instant before it", year, utc(2025, 8, 31, 23, 59), false},
		{"the year's last day, late", year, utc(2026, 8, 31, 23, 59), true},
		{"the day after the year", year, utc(2026, 9, 1, 0, 0), false},
		{"an open period, long ago", Period{}, utc(1901, 1, 1, 0, 0), true},
		{"an open period, far ahead", Period{}, utc(2999, 1, 1, 0, 0), true},
		{"no period at all", periodOf("nonsense"), utc(2025, 10, 1, 0, 0), false},
		{"the last UTC day, late", days, utc(2026, 3, 29, 23, 59), true},
		{"the next UTC day, in London", days, time.Date(2026, 3, 30, 1, 30, 0, 0, london), false},
		{"the short day's last hour", short, utc(2026, 3, 29, 22, 30), true},
		{"after the short day's end", short, utc(2026, 3, 29, 23, 30), false},
	} {
		if got := c.p.Contains(c.t); got != c.want {
			t.Errorf("%s: Contains(%s) = %v, want %v", c.name, c.t, got, c.want)
		}
	}
}
