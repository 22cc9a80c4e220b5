package views

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

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

// progressState is the state of the "progress" view.
//
// The view is versioned (projections.Versioned): a record's ratings are
// only ever appended, each with the position it was recorded at
// (Positions), so the state as of a past position is each record's
// ratings up to it, and the school names given by then (At), with no
// fold.
type progressState struct {
	// Records are keyed by progress id (partnership.ProgressID).
	Records map[uuid.UUID]*partnership.Progress `json:"records"`
	// Positions are, by progress id, the position of each of the
	// record's ratings, in the same order.
	Positions map[uuid.UUID][]uint64 `json:"positions"`
	Schools   schoolNames            `json:"schools"`
	// Names are the names as they are now (not saved: Schools gives them).
	Names partnershipNames `json:"-"`
	// cells groups each partnership's ratings by board cell, so that a
	// board costs its ratings rather than hashing each one's cell and
	// half-term. Not saved: a state read back has none until a board is
	// asked of it (board); once built, Apply keeps it up to date.
	cells *cellIndex
	// cellsMu guards the building of cells by readers, who share a view.
	cellsMu *sync.Mutex
	// lensed marks a state read in place in the past (Progress.Lens):
	// Records, Positions and cells are the live view's, each cell's
	// ratings read up to position at (cut).
	lensed bool
	at     uint64
}

// cut returns cell c's ratings as the state reads them (indexes into its
// record's and their half-terms' ordinals): in a lens, those recorded by
// its position.
func (s *progressState) cut(c *cellRatings) (idx, ords []int32) {
	if !s.lensed {
		return c.idx, c.ords
	}
	ps := s.Positions[c.id]
	m := sort.Search(len(c.idx), func(j int) bool { return ps[c.idx[j]] > s.at })
	return c.idx[:m], c.ords[:m]
}

// NewProgress returns an empty "progress" view.
func NewProgress() *Progress {
	return &Progress{newStateView("progress", 3, func() progressState {
		return progressState{Records: map[uuid.UUID]*partnership.Progress{}, Positions: map[uuid.UUID][]uint64{},
			Schools: schoolNames{}, Names: newNames(false), cells: newCellIndex(), cellsMu: new(sync.Mutex)}
	})}
}

// UnmarshalState implements projections.Projection: the state read; its
// cell index is built when a board is first asked of it.
func (v *Progress) UnmarshalState(b []byte) error {
	if err := v.stateView.UnmarshalState(b); err != nil {
		return err
	}
	s := &v.state
	for id, rec := range s.Records {
		if len(s.Positions[id]) != len(rec.Ratings) {
			return fmt.Errorf("progress: record %s has %d ratings and %d positions", id, len(rec.Ratings), len(s.Positions[id]))
		}
	}
	s.Names, s.cells, s.cellsMu = s.Schools.current(), nil, new(sync.Mutex)
	return nil
}

// At implements projections.Versioned: the view as known at pos, each
// record's ratings up to pos (sharing the live view's arrays, with no room
// beyond their ends: the live view only appends), and the school names
// given by then. Its cell index is built when a board is first asked of
// it.
func (v *Progress) At(pos uint64) projections.Projection {
	if v.state.lensed {
		pos = min(pos, v.state.at)
	}
	out := NewProgress()
	s := &out.state
	s.cells = nil
	for id, rec := range v.state.Records {
		ps := v.state.Positions[id]
		n := sort.Search(len(ps), func(i int) bool { return ps[i] > pos })
		if n == 0 {
			continue
		}
		s.Records[id] = &partnership.Progress{PartnershipID: rec.PartnershipID, SchoolID: rec.SchoolID, Ratings: rec.Ratings[:n:n]}
		s.Positions[id] = ps[:n:n]
	}
	s.Schools, s.Names = v.state.Schools.upTo(pos)
	// The live view's cell index (built once, then kept up to date by
	// Apply) gives the past one without filing every rating again: the
	// engine's read lock keeps Apply from changing it meanwhile.
	s.cells = v.state.board().upTo(s.Records)
	return out
}

// Lens implements projections.Lensed: the view as known at pos, read in
// place in the live view's records and cell index while it is
// read-locked: a board reads each cell's ratings up to pos.
func (v *Progress) Lens(pos uint64) projections.Projection {
	out := &Progress{v.reading(progressState{})}
	out.state = progressState{Records: v.state.Records, Positions: v.state.Positions, cells: v.state.board(), cellsMu: new(sync.Mutex),
		lensed: true, at: pos}
	out.state.Schools, out.state.Names = v.state.Schools.upTo(pos)
	return out
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Progress) MarshalState() ([]byte, error) {
	return v.saved(v.state.lensed, v.state.at, v.At)
}

// Apply implements projections.Projection.
func (v *Progress) Apply(m domain.Message) error {
	if v.state.lensed {
		return errLens
	}
	if v.state.Schools.apply(m, &v.state.Names) {
		return nil
	}
	e, ok := m.Event.(partnership.ProgressRated)
	if !ok {
		return nil
	}
	id := partnership.ProgressID(e.PartnershipID, e.SchoolID)
	applyByID(v.state.Records, id, m, partnership.NewProgress)
	v.state.Positions[id] = append(v.state.Positions[id], m.Position)
	if v.state.cells != nil {
		rec := v.state.Records[id]
		v.state.cells.file(rec, len(rec.Ratings)-1)
	}
	return nil
}

// board returns the cell index, building it from the records if the
// state was read back and no board has been asked of it yet.
func (s *progressState) board() *cellIndex {
	s.cellsMu.Lock()
	defer s.cellsMu.Unlock()
	if s.cells == nil {
		x := newCellIndex()
		for _, rec := range s.Records {
			for i := range rec.Ratings {
				x.file(rec, i)
			}
		}
		s.cells = x
	}
	return s.cells
}

// cellIndex is each partnership's ratings by board cell: school, area
// (trimmed, in any case) and cohort as written.
type cellIndex struct {
	byPartnership map[uuid.UUID][]*cellRatings
	at            map[cellKey]*cellRatings
	// labels are the half-terms' names by ordinal.
	labels map[int32]string
}

type cellKey struct {
	pid, school  uuid.UUID
	area, cohort string
}

// cellRatings are one cell's ratings, in the order recorded: indexes into
// rec.Ratings and their half-terms' ordinals.
type cellRatings struct {
	rec *partnership.Progress
	// id is rec's id (partnership.ProgressID of the cell's partnership
	// and school), worked out once: a hash, and every reading in the past
	// looks each cell's record up.
	id   uuid.UUID
	idx  []int32
	ords []int32
	// area is the cell's area trimmed and in lower case; cohortOK is
	// whether its cohort is written as partnership.NormaliseCohort writes
	// it (or is not one it knows), which Trend asks of a cell's ratings.
	area     string
	cohortOK bool
}

func newCellIndex() *cellIndex {
	return &cellIndex{byPartnership: map[uuid.UUID][]*cellRatings{}, at: map[cellKey]*cellRatings{}, labels: map[int32]string{}}
}

// upTo returns the index of the ratings recs hold, each record a prefix
// of the one x indexes (a state in the past's records): each cell's lists
// cut to them, with no room beyond their ends, shared with x.
func (x *cellIndex) upTo(recs map[uuid.UUID]*partnership.Progress) *cellIndex {
	out := &cellIndex{byPartnership: make(map[uuid.UUID][]*cellRatings, len(x.byPartnership)), at: make(map[cellKey]*cellRatings, len(x.at)),
		labels: maps.Clone(x.labels)}
	for k, c := range x.at {
		rec := recs[c.id]
		if rec == nil {
			continue
		}
		n := int32(len(rec.Ratings))
		m := sort.Search(len(c.idx), func(i int) bool { return c.idx[i] >= n })
		if m == 0 {
			continue
		}
		pc := &cellRatings{rec: rec, id: c.id, idx: c.idx[:m:m], ords: c.ords[:m:m], area: c.area, cohortOK: c.cohortOK}
		out.at[k] = pc
		out.byPartnership[k.pid] = append(out.byPartnership[k.pid], pc)
	}
	return out
}

// file adds rating i of rec to its cell.
func (x *cellIndex) file(rec *partnership.Progress, i int) {
	r := &rec.Ratings[i]
	k := cellKey{r.PartnershipID, r.SchoolID, strings.ToLower(strings.TrimSpace(r.Area)), r.Cohort}
	c := x.at[k]
	if c == nil {
		c = &cellRatings{rec: rec, id: partnership.ProgressID(r.PartnershipID, r.SchoolID), area: k.area, cohortOK: true}
		if n, ok := partnership.NormaliseCohort(r.Cohort); ok && n != r.Cohort {
			c.cohortOK = false
		}
		x.at[k] = c
		x.byPartnership[r.PartnershipID] = append(x.byPartnership[r.PartnershipID], c)
	}
	ord := int32(r.Term.Ordinal())
	if _, ok := x.labels[ord]; !ok && ord >= 0 {
		x.labels[ord] = r.Term.String()
	}
	c.idx = append(c.idx, int32(i))
	c.ords = append(c.ords, ord)
}

// label is the name of the half-term of r, whose ordinal is ord.
func (x *cellIndex) label(r *partnership.Rating, ord int32) string {
	if l, ok := x.labels[ord]; ok {
		return l
	}
	return r.Term.String()
}

// boardRow is a cell of the board being ordered: its school, its area in
// lower case, its ratings (those read: idx and ords) and its latest
// rating, of half-term ord.
type boardRow struct {
	school    Ref
	area      string
	c         *cellRatings
	idx, ords []int32
	latest    *partnership.Rating
	ord       int32
}

// boardRows are boardPage's rows, kept between readings.
var boardRows scratch[boardRow]

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
	page, _ := v.boardPage(pid, p, 0, math.MaxInt)
	return page
}

// BoardPage is the page of Board's cells from index from, at most n of
// them, and how many cells the whole board has: a page's trends are
// worked out for its own cells only.
func (v *Progress) BoardPage(pid uuid.UUID, year string, from, n int) ([]BoardCell, int) {
	return v.boardPage(pid, periodOf(year), from, n)
}

// boardPage is BoardPage for the half-terms starting in period p.
//
// Each cell's trend is partnership.Trend over the cell's ratings, worked
// out from the cell index rather than by filtering every rating of the
// partnership for each cell: the board of ten years is tens of thousands
// of ratings (TestBoardMatchesTrend checks it against Trend itself).
func (v *Progress) boardPage(pid uuid.UUID, p Period, from, n int) ([]BoardCell, int) {
	x := v.state.board()
	// Whether each half-term starts in p, by ordinal, worked out once:
	// known[ord-first] is 1 for in, 2 for not (the ordinals filed are
	// few and close together: ten years are sixty), so that a rating is
	// read only when its half-term is in p.
	first, last := int32(math.MaxInt32), int32(-1)
	for ord := range x.labels {
		first, last = min(first, ord), max(last, ord)
	}
	var known []int8
	if last >= first {
		known = make([]int8, last-first+1)
	}
	in := func(r *partnership.Rating, ord int32) bool {
		if ord < first || ord > last {
			return p.Contains(r.Term.Starts())
		}
		k := &known[ord-first]
		if *k == 0 {
			*k = 2
			if p.Contains(r.Term.Starts()) {
				*k = 1
			}
		}
		return *k == 1
	}
	// The cells rated in the period, each with its latest rating (the
	// last recorded of the latest half-term), in the board's order.
	type row = boardRow
	buf := boardRows.get()
	defer boardRows.put(buf)
	rows := *buf
	defer func() { *buf = rows }()
	for _, c := range x.byPartnership[pid] {
		var latest *partnership.Rating
		var lo int32
		idx, ords := v.state.cut(c)
		for j, i := range idx {
			r, ord := &c.rec.Ratings[i], ords[j] // r is not read unless its half-term is new
			if (latest == nil || ord >= lo) && in(r, ord) {
				latest, lo = r, ord
			}
		}
		if latest != nil {
			rows = append(rows, row{v.state.Names.school(latest.SchoolID), strings.ToLower(latest.Area), c, idx, ords, latest, lo})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(byName(a.school, b.school), strings.Compare(a.area, b.area), strings.Compare(a.latest.Cohort, b.latest.Cohort))
	})
	lo, hi := pageRange(from, n, len(rows))
	page := rows[lo:hi]
	out := make([]BoardCell, len(page))
	type point struct {
		r   *partnership.Rating
		ord int32
	}
	var points []point
	for k, w := range page {
		lr := w.latest
		cell := BoardCell{School: w.school, Area: lr.Area, Cohort: lr.Cohort, Rating: string(lr.Rating), Term: x.label(lr, w.ord)}
		// partnership.Trend's points: the cell's ratings in the period
		// of the latest's area (trimmed, any case) and normalised cohort,
		// the last recorded of each half-term, in half-term order.
		points = points[:0]
		if w.c.cohortOK {
			area := strings.TrimSpace(lr.Area)
			for j, i := range w.idx {
				r, ord := &w.c.rec.Ratings[i], w.ords[j]
				if in(r, ord) && strings.EqualFold(strings.TrimSpace(r.Area), area) {
					points = append(points, point{r, ord})
				}
			}
		}
		if !slices.IsSortedFunc(points, func(a, b point) int { return cmp.Compare(a.ord, b.ord) }) {
			slices.SortStableFunc(points, func(a, b point) int { return cmp.Compare(a.ord, b.ord) })
		}
		m := 0
		for i, pt := range points {
			if i+1 < len(points) && points[i+1].ord == pt.ord {
				continue
			}
			points[m] = pt
			m++
		}
		points = points[:m]
		cell.Trend = make([]TrendStep, len(points))
		for i, pt := range points {
			cell.Trend[i] = TrendStep{Term: x.label(pt.r, pt.ord), Rating: string(pt.r.Rating)}
			if i > 0 {
				cell.Trend[i].Movement = string(partnership.MovementBetween(points[i-1].r.Rating, pt.r.Rating))
			}
		}
		if len(points) > 1 {
			cell.Movement = string(partnership.MovementBetween(points[0].r.Rating, points[len(points)-1].r.Rating))
		}
		out[k] = cell
	}
	return out, len(rows)
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
	type key struct {
		school uuid.UUID
		area   string // in lower case
	}
	idx := make(map[key]int, len(board))
	for _, c := range board {
		k := key{c.School.ID, strings.ToLower(c.Area)}
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
