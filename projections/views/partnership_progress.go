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
func (v *Progress) BoardIn(pid uuid.UUID, p Period) []BoardCell {
	// The ratings in the period, grouped by cell (school, area as
	// written in any case, cohort) as they are read, each group with its
	// latest rating (the last read of the latest half-term): each cell's
	// trend is computed over its own ratings only.
	type cellKey struct {
		school       uuid.UUID
		area, cohort string
	}
	type cellGroup struct {
		ratings   []partnership.Rating
		latest    int
		latestOrd int
	}
	groups := map[cellKey]*cellGroup{}
	var cells []*cellGroup
	areas := map[string]string{}
	in := map[partnership.Term]bool{} // whether each half-term starts in p, worked out once
	for _, rec := range v.state.Records {
		if rec.PartnershipID != pid {
			continue
		}
		for i := range rec.Ratings {
			r := &rec.Ratings[i]
			ok, seen := in[r.Term]
			if !seen {
				ok = p.Contains(r.Term.Starts())
				in[r.Term] = ok
			}
			if !ok {
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
			g.ratings = append(g.ratings, *r)
			if ord := r.Term.Ordinal(); len(g.ratings) == 1 || ord >= g.latestOrd {
				g.latest, g.latestOrd = len(g.ratings)-1, ord
			}
		}
	}
	out := make([]BoardCell, 0, len(cells))
	for _, g := range cells {
		latest := g.ratings[g.latest]
		cell := BoardCell{School: v.state.Names.school(latest.SchoolID), Area: latest.Area, Cohort: latest.Cohort,
			Rating: string(latest.Rating), Term: latest.Term.String(), Trend: []TrendStep{}}
		trend := partnership.Trend(g.ratings, latest.SchoolID, latest.Area, latest.Cohort)
		for _, tp := range trend {
			cell.Trend = append(cell.Trend, TrendStep{Term: tp.Rating.Term.String(), Rating: string(tp.Rating.Rating), Movement: string(tp.Movement)})
		}
		if len(trend) > 1 {
			switch first, last := trend[0].Rating.Rating.Rank(), trend[len(trend)-1].Rating.Rating.Rank(); {
			case last > first:
				cell.Movement = string(partnership.MovementImproved)
			case last < first:
				cell.Movement = string(partnership.MovementDeclined)
			default:
				cell.Movement = string(partnership.MovementUnchanged)
			}
		}
		out = append(out, cell)
	}
	slices.SortFunc(out, func(a, b BoardCell) int {
		return cmp.Or(byName(a.School, b.School), strings.Compare(strings.ToLower(a.Area), strings.ToLower(b.Area)), strings.Compare(a.Cohort, b.Cohort))
	})
	return out
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
