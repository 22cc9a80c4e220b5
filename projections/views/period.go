package views

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/concord-ledger/concord/domain/partnership"
)

// Period is the span of days a reading covers: from From to To, both days
// included; a zero From or To leaves that end open. An academic year is
// the period from 1 September to 31 August (YearPeriod), and then Year
// names it.
type Period struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Year is the academic year's label when the period is one, e.g.
	// "2025-26" ("" for another span).
	Year string `json:"academic_year,omitempty"`
	// empty marks a period holding no day (a malformed year label).
	empty bool
}

// ErrPeriod is returned for a period that ends before it starts.
var ErrPeriod = errors.New("views: a period ends on or after the day it starts")

// YearPeriod returns the period of academic year label, e.g. "2025-26":
// 1 September to 31 August. An empty label is all time. Returns an error
// for a malformed label.
func YearPeriod(label string) (Period, error) {
	if label == "" {
		return Period{}, nil
	}
	from, err := partnership.AcademicYearStart(label)
	if err != nil {
		return Period{}, err
	}
	return Period{From: from, To: from.AddDate(1, 0, -1), Year: label}, nil
}

// NewPeriod returns the period of the days from to to, both included (a
// zero end is open). Returns ErrPeriod when to is before from.
func NewPeriod(from, to time.Time) (Period, error) {
	p := Period{From: partnership.Date(from), To: partnership.Date(to)}
	if !p.From.IsZero() && !p.To.IsZero() && p.To.Before(p.From) {
		return Period{}, fmt.Errorf("%w: %s to %s", ErrPeriod, day(p.From), day(p.To))
	}
	if y, err := YearPeriod(partnership.AcademicYearOf(p.From)); err == nil && !p.From.IsZero() && y.From.Equal(p.From) && y.To.Equal(p.To) {
		p.Year = y.Year
	}
	return p, nil
}

// periodOf returns the period of year label for the year-based queries: all
// time for "", nothing for a malformed label.
func periodOf(label string) Period {
	p, err := YearPeriod(label)
	if err != nil {
		return Period{empty: true}
	}
	return p
}

// window returns the period as the instants [from, to): from midnight of
// its first day to midnight after its last, open ends far away.
func (p Period) window() (from, to time.Time) {
	from, to = p.From, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	switch {
	case p.To.IsZero():
	case p.To.Location() == time.UTC:
		// A day in UTC is always 24 hours (AddDate costs far more, and
		// every item a period filters asks).
		to = p.To.Add(24 * time.Hour)
	default:
		to = p.To.AddDate(0, 0, 1)
	}
	if p.empty {
		return to, to
	}
	return from, to
}

// Contains reports whether instant t falls on a day of the period.
func (p Period) Contains(t time.Time) bool {
	from, to := p.window()
	return !t.Before(from) && t.Before(to)
}

// overlaps reports whether the instants [a, b) meet the period.
func (p Period) overlaps(a, b time.Time) bool {
	from, to := p.window()
	return a.Before(to) && from.Before(b)
}

// overlapsYear reports whether academic year label meets the period.
func (p Period) overlapsYear(label string) bool {
	y, err := YearPeriod(label)
	if err != nil {
		return false
	}
	from, to := y.window()
	return p.overlaps(from, to)
}

// lastYear returns the label of the academic year the period ends in (""
// for an open end).
func (p Period) lastYear() string {
	if p.To.IsZero() {
		return ""
	}
	return partnership.AcademicYearOf(p.To)
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// pageRange returns the indexes [lo, hi) of the page of a list of total
// entries that starts at entry from and holds at most n entries.
func pageRange(from, n, total int) (lo, hi int) {
	lo = min(max(from, 0), total)
	return lo, lo + min(max(n, 0), total-lo)
}

// smallestSorted reorders s so that s[:k] holds its k smallest elements
// by cmp, in order; the rest of s is left in no particular order. cmp must
// be a total order (no two elements equal), as the lists it pages are.
// For a first page of a long list it takes about one comparison per
// element, where sorting the whole list takes a logarithm's worth.
func smallestSorted[T any](s []T, k int, cmp func(a, b T) int) {
	k = min(max(k, 0), len(s))
	if k == 0 {
		return
	}
	if k > len(s)/4 {
		slices.SortFunc(s, cmp)
		return
	}
	// s[:k] is a heap with the largest of the k smallest so far on top.
	h := s[:k]
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= k {
				return
			}
			if c+1 < k && cmp(h[c+1], h[c]) > 0 {
				c++
			}
			if cmp(h[c], h[i]) <= 0 {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for i := k; i < len(s); i++ {
		if cmp(s[i], h[0]) < 0 {
			h[0], s[i] = s[i], h[0]
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
}
