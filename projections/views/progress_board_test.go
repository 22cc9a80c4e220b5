package views_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/views"
)

// TestBoardMatchesTrend checks the RAG board against its rule, written
// here from the domain's own functions: ratings whose half-term starts in
// the period are grouped by school, area (trimmed, any case) and cohort
// as written; a cell shows its group's latest rating (the last recorded
// of the latest half-term), its trend is partnership.Trend over the
// group's ratings for the latest rating's school, area and cohort, and its
// movement compares the trend's first and last ratings. Random ratings
// with areas in mixed case and spacing, cohorts written loosely (which
// Trend's normalised cohort does not match), repeated half-terms and two
// partnerships.
func TestBoardMatchesTrend(t *testing.T) {
	areas := []string{"Reading", "reading", " Reading ", "Maths", "MATHS"}
	cohorts := []string{"Year 7", "year 7", "Year 8", "Reception"}
	years := []string{"2024-25", "2025-26", "2026-27"}
	rags := []partnership.RAG{partnership.Red, partnership.Amber, partnership.Green}
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		pid, other := uuid.New(), uuid.New()
		schools := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
		// v is folded from empty (its index kept by Apply throughout);
		// half is read back from v's state half way, asked for a board
		// (building its index from the state) and folded on; end is read
		// back from v's final state (its index built by the first board).
		v, half, end := views.NewProgress(), views.NewProgress(), views.NewProgress()
		readBack := func(to *views.Progress) {
			b, err := v.MarshalState()
			if err != nil {
				t.Fatal(err)
			}
			if err := to.UnmarshalState(b); err != nil {
				t.Fatal(err)
			}
		}
		var all []partnership.Rating
		n := 20 + rng.IntN(200)
		for i := range n {
			if i == n/2 {
				readBack(half)
				if len(half.Board(pid, "")) == 0 {
					t.Fatal("the half-way board is empty")
				}
			}
			e := partnership.ProgressRated{PartnershipID: pid, SchoolID: schools[rng.IntN(len(schools))], RatingID: uuid.New(),
				Area: areas[rng.IntN(len(areas))], Cohort: cohorts[rng.IntN(len(cohorts))],
				AcademicYear: years[rng.IntN(len(years))], Term: partnership.TermCodes[rng.IntN(len(partnership.TermCodes))],
				Rating: rags[rng.IntN(len(rags))], RatedOn: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			if rng.IntN(10) == 0 {
				e.PartnershipID = other
			}
			m := domain.Message{Recorded: domain.Recorded{Position: uint64(i + 1)}, Event: e}
			if err := v.Apply(m); err != nil {
				t.Fatal(err)
			}
			if i >= n/2 {
				if err := half.Apply(m); err != nil {
					t.Fatal(err)
				}
			}
			if e.PartnershipID == pid {
				all = append(all, partnership.Rating{ID: e.RatingID, PartnershipID: pid, SchoolID: e.SchoolID, Area: e.Area, Cohort: e.Cohort,
					Term: partnership.Term{AcademicYear: e.AcademicYear, Code: e.Term}, Rating: e.Rating, RatedOn: e.RatedOn})
			}
		}
		readBack(end)
		for _, year := range append([]string{""}, years...) {
			want := referenceBoard(t, all, year)
			for name, view := range map[string]*views.Progress{"folded": v, "read back half way": half, "read back": end} {
				got := map[string]views.BoardCell{}
				for _, c := range view.Board(pid, year) {
					got[fmt.Sprint(c.School.ID, "|", strings.ToLower(strings.TrimSpace(c.Area)), "|", c.Cohort)] = c
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d year %q, %s: board differs from the rule\n got %+v\nwant %+v", seed, year, name, got, want)
				}
				// The board read in pages is the board.
				board := view.Board(pid, year)
				size := 1 + rng.IntN(7)
				var paged []views.BoardCell
				for from := 0; ; from += size {
					page, total := view.BoardPage(pid, year, from, size)
					if total != len(board) {
						t.Fatalf("seed %d year %q, %s: total %d, the board has %d cells", seed, year, name, total, len(board))
					}
					if len(page) == 0 {
						break
					}
					paged = append(paged, page...)
				}
				if !reflect.DeepEqual(paged, board) {
					t.Fatalf("seed %d year %q, %s: the board in pages of %d differs from the board", seed, year, name, size)
				}
			}
		}
	}
}

// referenceBoard is the board's rule over ratings (in the order recorded),
// keyed by school, area (trimmed, lower case) and cohort.
func referenceBoard(t *testing.T, ratings []partnership.Rating, year string) map[string]views.BoardCell {
	t.Helper()
	var period views.Period
	if year != "" {
		p, err := views.YearPeriod(year)
		if err != nil {
			t.Fatal(err)
		}
		period = p
	}
	groups := map[string][]partnership.Rating{}
	latest := map[string]partnership.Rating{}
	for _, r := range ratings {
		if !period.Contains(r.Term.Starts()) {
			continue
		}
		k := fmt.Sprint(r.SchoolID, "|", strings.ToLower(strings.TrimSpace(r.Area)), "|", r.Cohort)
		if l, ok := latest[k]; !ok || r.Term.Ordinal() >= l.Term.Ordinal() {
			latest[k] = r
		}
		groups[k] = append(groups[k], r)
	}
	out := map[string]views.BoardCell{}
	for k, l := range latest {
		c := views.BoardCell{School: views.Ref{ID: l.SchoolID}, Area: l.Area, Cohort: l.Cohort, Rating: string(l.Rating), Term: l.Term.String(), Trend: []views.TrendStep{}}
		trend := partnership.Trend(groups[k], l.SchoolID, l.Area, l.Cohort)
		for _, p := range trend {
			c.Trend = append(c.Trend, views.TrendStep{Term: p.Rating.Term.String(), Rating: string(p.Rating.Rating), Movement: string(p.Movement)})
		}
		if len(trend) > 1 {
			first, last := trend[0].Rating.Rating.Rank(), trend[len(trend)-1].Rating.Rating.Rank()
			switch {
			case last > first:
				c.Movement = "improved"
			case last < first:
				c.Movement = "declined"
			default:
				c.Movement = "unchanged"
			}
		}
		out[k] = c
	}
	return out
}
