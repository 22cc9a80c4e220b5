package views

import (
	"cmp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewProgress() }) }

// Progress is the "progress" view: the RAG board — every traffic-light
// rating of every member school kept, the latest per school × area ×
// cohort, and its trend over the half-terms (red → amber → green).
type Progress struct{ stateView[progressState] }

type progressState struct {
	// Records are keyed by progress id (partnership.ProgressID).
	Records map[uuid.UUID]*partnership.Progress `json:"records"`
	Names   partnershipNames                    `json:"names"`
}

// NewProgress returns an empty "progress" view.
func NewProgress() *Progress {
	return &Progress{newStateView("progress", 2, func() progressState {
		return progressState{Records: map[uuid.UUID]*partnership.Progress{}, Names: newNames(false)}
	})}
}

// Apply implements projections.Projection.
func (v *Progress) Apply(m domain.Message) error {
	if v.state.Names.apply(m) {
		return nil
	}
	e, ok := m.Event.(partnership.ProgressRated)
	if !ok {
		return nil
	}
	id := partnership.ProgressID(e.PartnershipID, e.SchoolID)
	applyByID(v.state.Records, id, m, partnership.NewProgress)
	return nil
}

// TrendStep is the rating of one half-term and its movement from the one
// before ("improved", "declined", "unchanged"; "" for the first).
type TrendStep struct {
	Term     string `json:"term"`
	Rating   string `json:"rating"`
	Movement string `json:"movement,omitempty"`
}

// BoardCell is one school × area × cohort of the RAG board.
type BoardCell struct {
	School Ref    `json:"school"`
	Area   string `json:"area"`
	Cohort string `json:"cohort"`
	// Rating and Term are the latest rating and its half-term.
	Rating string `json:"rating"`
	Term   string `json:"term"`
	// Movement is how the rating moved over the period asked for:
	// improved, declined or unchanged from its first rating in the period
	// ("" with only one).
	Movement string      `json:"movement,omitempty"`
	Trend    []TrendStep `json:"trend"`
}

// Board returns the RAG board of partnership pid for academic year: per
// school × area × cohort rated in that year (all years for ""), its latest
// rating in the year, the trend over the year's half-terms, and the
// movement from first to last. Cells are by school name, area and cohort.
func (v *Progress) Board(pid uuid.UUID, year string) []BoardCell {
	return v.BoardIn(pid, periodOf(year))
}

// BoardIn is Board for the half-terms starting in period p.
//
// It is partnership.Trend applied to each cell's ratings, worked out once
// per half-term and per cell rather than once per rating: the board of
// ten years is tens of thousands of ratings (TestBoardMatchesTrend checks
// it against Trend itself).
func (v *Progress) BoardIn(pid uuid.UUID, p Period) []BoardCell {
	// The ratings in the period, grouped by cell (school, area as
	// written in any case, cohort) as they are read, each group with its
	// latest rating (the last read of the latest half-term): each cell's
	// trend is computed over its own ratings only.
	type cellKey struct {
		school       uuid.UUID
		area, cohort string
	}
	type rated struct {
		r    *partnership.Rating
		term *termInfo
	}
	type cellGroup struct {
		ratings []rated
		latest  int
	}
	groups := map[cellKey]*cellGroup{}
	var cells []*cellGroup
	areas := map[string]string{}
	terms := map[partnership.Term]*termInfo{} // each half-term worked out once
	for _, rec := range v.state.Records {
		if rec.PartnershipID != pid {
			continue
		}
		for i := range rec.Ratings {
			r := &rec.Ratings[i]
			t := terms[r.Term]
			if t == nil {
				t = &termInfo{in: p.Contains(r.Term.Starts()), ord: r.Term.Ordinal()}
				terms[r.Term] = t
			}
			if !t.in {
				continue
			}
			area, ok := areas[r.Area]
			if !ok {
				area = strings.ToLower(strings.TrimSpace(r.Area))
				areas[r.Area] = area
			}
			k := cellKey{r.SchoolID, area, r.Cohort}
			g := groups[k]
			if g == nil {
				g = &cellGroup{}
				groups[k] = g
				cells = append(cells, g)
			}
			g.ratings = append(g.ratings, rated{r, t})
			if n := len(g.ratings); n == 1 || t.ord >= g.ratings[g.latest].term.ord {
				g.latest = n - 1
			}
		}
	}
	out := make([]BoardCell, 0, len(cells))
	var points []rated
	for _, g := range cells {
		latest := g.ratings[g.latest]
		lr := latest.r
		cell := BoardCell{School: v.state.Names.school(lr.SchoolID), Area: lr.Area, Cohort: lr.Cohort,
			Rating: string(lr.Rating), Term: latest.term.label(lr.Term)}
		// partnership.Trend's points: the ratings of the latest's school,
		// area (trimmed, any case) and normalised cohort, the last
		// recorded per half-term, in half-term order.
		area, cohort := strings.TrimSpace(lr.Area), lr.Cohort
		if c, ok := partnership.NormaliseCohort(cohort); ok {
			cohort = c
		}
		points = points[:0]
		if lr.Cohort == cohort { // every rating of the group has the latest's cohort
			for _, x := range g.ratings {
				if strings.EqualFold(strings.TrimSpace(x.r.Area), area) {
					points = append(points, x)
				}
			}
		}
		slices.SortStableFunc(points, func(a, b rated) int { return cmp.Compare(a.term.ord, b.term.ord) })
		// Keep the last of each half-term.
		n := 0
		for i, x := range points {
			if i+1 < len(points) && points[i+1].term.ord == x.term.ord {
				continue
			}
			points[n] = x
			n++
		}
		points = points[:n]
		cell.Trend = make([]TrendStep, len(points))
		for i, x := range points {
			cell.Trend[i] = TrendStep{Term: x.term.label(x.r.Term), Rating: string(x.r.Rating)}
			if i > 0 {
				cell.Trend[i].Movement = string(movement(points[i-1].r.Rating, x.r.Rating))
			}
		}
		if len(points) > 1 {
			cell.Movement = string(movement(points[0].r.Rating, points[len(points)-1].r.Rating))
		}
		out = append(out, cell)
	}
	slices.SortFunc(out, func(a, b BoardCell) int {
		return cmp.Or(byName(a.School, b.School), strings.Compare(strings.ToLower(a.Area), strings.ToLower(b.Area)), strings.Compare(a.Cohort, b.Cohort))
	})
	return out
}

// termInfo is what BoardIn works out once per half-term.
type termInfo struct {
	in   bool
	ord  int
	name string
}

func (t *termInfo) label(term partnership.Term) string {
	if t.name == "" {
		t.name = term.String()
	}
	return t.name
}

// movement is how a rating moved from one to the next, as
// partnership.Trend says it.
func movement(from, to partnership.RAG) partnership.Movement {
	switch a, b := from.Rank(), to.Rank(); {
	case b > a:
		return partnership.MovementImproved
	case b < a:
		return partnership.MovementDeclined
	}
	return partnership.MovementUnchanged
}

// AreaSummary counts the latest ratings of one school in one area.
type AreaSummary struct {
	School   Ref    `json:"school"`
	Area     string `json:"area"`
	Red      int    `json:"red"`
	Amber    int    `json:"amber"`
	Green    int    `json:"green"`
	Improved int    `json:"improved"`
	Declined int    `json:"declined"`
}

// ByArea folds Board's cells into one row per school × area: how many
// cohorts are red, amber and green at their latest rating, and how many
// improved or declined over the year.
func (v *Progress) ByArea(pid uuid.UUID, year string) []AreaSummary {
	return v.ByAreaIn(pid, periodOf(year))
}

// ByAreaIn is ByArea for the half-terms starting in period p.
func (v *Progress) ByAreaIn(pid uuid.UUID, p Period) []AreaSummary {
	return ByArea(v.BoardIn(pid, p))
}

// ByArea folds a board's cells into one row per school × area (see
// Progress.ByArea), for a caller that has the board already.
func ByArea(board []BoardCell) []AreaSummary {
	out := []AreaSummary{}
	idx := map[string]int{}
	for _, c := range board {
		k := c.School.ID.String() + "\x00" + strings.ToLower(c.Area)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, AreaSummary{School: c.School, Area: c.Area})
		}
		switch partnership.RAG(c.Rating) {
		case partnership.Red:
			out[i].Red++
		case partnership.Amber:
			out[i].Amber++
		case partnership.Green:
			out[i].Green++
		}
		switch partnership.Movement(c.Movement) {
		case partnership.MovementImproved:
			out[i].Improved++
		case partnership.MovementDeclined:
			out[i].Declined++
		}
	}
	return out
}
