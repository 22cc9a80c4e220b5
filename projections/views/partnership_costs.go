package views

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewCosts() }) }

// Costs is the "costs" view: the transaction costs of collaborating (staff
// time and money) per partnership, school, category and academic year.
//
// The view is versioned (projections.Versioned): a ledger's entries are
// only ever appended, each with the position it was recorded at
// (Positions), so the state as of a past position is each ledger's
// entries up to it (At), with no fold.
type Costs struct{ stateView[costsState] }

type costsState struct {
	Ledgers map[uuid.UUID]*partnership.CostLedger `json:"ledgers"`
	// Positions are, by partnership, the position of each of its ledger's
	// entries, in the same order.
	Positions map[uuid.UUID][]uint64 `json:"positions"`
	Names     namesAt                `json:"names"`
}

// NewCosts returns an empty "costs" view.
func NewCosts() *Costs {
	return &Costs{newStateView("costs", 3, func() costsState {
		return costsState{Ledgers: map[uuid.UUID]*partnership.CostLedger{}, Positions: map[uuid.UUID][]uint64{}, Names: newNamesAt(false)}
	})}
}

// restore implements stateRestorer.
func (s *costsState) restore() error {
	for id, l := range s.Ledgers {
		if len(s.Positions[id]) != len(l.Entries) {
			return fmt.Errorf("costs: ledger %s has %d entries and %d positions", id, len(l.Entries), len(s.Positions[id]))
		}
	}
	s.Names.restore()
	return nil
}

// At implements projections.Versioned: each ledger's entries up to pos
// (sharing the live view's arrays, with no room beyond their ends: the
// live view only appends), and the names given by then.
func (v *Costs) At(pos uint64) projections.Projection {
	if v.state.Names.lensed {
		pos = min(pos, v.state.Names.at)
	}
	out := NewCosts()
	s := &out.state
	for id, l := range v.state.Ledgers {
		if past, n := v.state.ledgerUpTo(l, id, pos); past != nil {
			s.Ledgers[id], s.Positions[id] = past, v.state.Positions[id][:n:n]
		}
	}
	s.Names = v.state.Names.upTo(pos)
	return out
}

// Lens implements projections.Lensed: the ledgers and names as known at
// pos, read in place in v's while v is read-locked (ledger cuts each).
func (v *Costs) Lens(pos uint64) projections.Projection {
	return &Costs{v.reading(costsState{Ledgers: v.state.Ledgers, Positions: v.state.Positions, Names: v.state.Names.lens(pos)})}
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Costs) MarshalState() ([]byte, error) {
	return v.saved(v.state.Names.lensed, v.state.Names.at, v.At)
}

// ledger returns partnership pid's ledger as the state reads it (nil for
// none): in a lens, its entries up to the lens's position.
func (v *Costs) ledger(pid uuid.UUID) *partnership.CostLedger {
	l := v.state.Ledgers[pid]
	if l == nil || !v.state.Names.lensed {
		return l
	}
	past, _ := v.state.ledgerUpTo(l, pid, v.state.Names.at)
	return past
}

// ledgerUpTo returns partnership pid's ledger l with its entries up to
// pos (sharing l's array, with no room beyond its end: the live view only
// appends) and how many there are; nil for none.
func (s *costsState) ledgerUpTo(l *partnership.CostLedger, pid uuid.UUID, pos uint64) (*partnership.CostLedger, int) {
	n := positionsUpTo(s.Positions[pid], pos)
	if n == 0 {
		return nil, 0
	}
	return &partnership.CostLedger{PartnershipID: l.PartnershipID, Entries: l.Entries[:n:n]}, n
}

// Apply implements projections.Projection.
func (v *Costs) Apply(m domain.Message) error {
	if v.state.Names.lensed {
		return errLens
	}
	if v.state.Names.apply(m) {
		return nil
	}
	e, ok := m.Event.(partnership.TransactionCostRecorded)
	if !ok {
		return nil
	}
	applyByID(v.state.Ledgers, e.PartnershipID, m, partnership.NewCostLedger)
	v.state.Positions[e.PartnershipID] = append(v.state.Positions[e.PartnershipID], m.Position)
	return nil
}

// CostLine is time and money spent.
type CostLine struct {
	Hours       float64 `json:"hours"`
	AmountPence int64   `json:"amount_pence"`
}

// SchoolCost is what one school spent.
type SchoolCost struct {
	School Ref `json:"school"`
	CostLine
}

// CategoryCost is what went on one category.
type CategoryCost struct {
	Category string `json:"category"`
	CostLine
}

// CostSummary is a partnership's transaction costs in a year.
type CostSummary struct {
	AcademicYear string         `json:"academic_year"`
	Total        CostLine       `json:"total"`
	Schools      []SchoolCost   `json:"schools"`
	Categories   []CategoryCost `json:"categories"`
}

// Summary returns the transaction costs of partnership pid in academic
// year (all for ""): in all, per school (by name) and per category (in
// the order meetings, travel, coordination, other). Returns an error for
// a malformed year.
func (v *Costs) Summary(pid uuid.UUID, year string) (CostSummary, error) {
	p, err := YearPeriod(year)
	if err != nil {
		return CostSummary{}, err
	}
	return v.SummaryIn(pid, p), nil
}

// SummaryIn is Summary for the costs incurred in period p.
func (v *Costs) SummaryIn(pid uuid.UUID, p Period) CostSummary {
	from, to := p.window()
	out := CostSummary{AcademicYear: p.Year, Schools: []SchoolCost{}, Categories: []CategoryCost{}}
	l := v.ledger(pid)
	if l == nil {
		l = partnership.NewCostLedger()
	}
	t := l.Totals(from, to)
	out.Total = CostLine{Hours: t.Hours, AmountPence: t.AmountPence}
	for id, c := range t.BySchool {
		out.Schools = append(out.Schools, SchoolCost{School: v.state.Names.school(id), CostLine: CostLine{Hours: c.Hours, AmountPence: c.AmountPence}})
	}
	slices.SortFunc(out.Schools, func(a, b SchoolCost) int { return byName(a.School, b.School) })
	for _, cat := range []partnership.CostCategory{partnership.CostMeetings, partnership.CostTravel, partnership.CostCoordination, partnership.CostOther} {
		c := t.ByCategory[cat]
		out.Categories = append(out.Categories, CategoryCost{Category: string(cat), CostLine: CostLine{Hours: c.Hours, AmountPence: c.AmountPence}})
	}
	return out
}

// YearCost is a partnership's transaction costs in one academic year.
type YearCost struct {
	AcademicYear string `json:"academic_year"`
	CostLine
}

// ByYear returns partnership pid's transaction costs per academic year,
// oldest first.
func (v *Costs) ByYear(pid uuid.UUID) []YearCost {
	by := map[string]*YearCost{}
	out := []YearCost{}
	if l := v.ledger(pid); l != nil {
		for _, e := range l.Entries {
			y := by[e.AcademicYear]
			if y == nil {
				y = &YearCost{AcademicYear: e.AcademicYear}
				by[e.AcademicYear] = y
			}
			y.Hours += e.Hours
			y.AmountPence += e.AmountPence
		}
	}
	for _, y := range by {
		out = append(out, *y)
	}
	slices.SortFunc(out, func(a, b YearCost) int { return cmp.Compare(a.AcademicYear, b.AcademicYear) })
	return out
}
