package views

import (
	"cmp"
	"slices"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewCosts() }) }

// Costs is the "costs" view: the transaction costs of collaborating (staff
// time and money) per partnership, school, category and academic year.
type Costs struct{ stateView[costsState] }

type costsState struct {
	Ledgers map[uuid.UUID]*partnership.CostLedger `json:"ledgers"`
	Names   partnershipNames                      `json:"names"`
}

// NewCosts returns an empty "costs" view.
func NewCosts() *Costs {
	return &Costs{newStateView("costs", 2, func() costsState {
		return costsState{Ledgers: map[uuid.UUID]*partnership.CostLedger{}, Names: newNames(false)}
	})}
}

// Apply implements projections.Projection.
func (v *Costs) Apply(m domain.Message) error {
	if v.state.Names.apply(m) {
		return nil
	}
	e, ok := m.Event.(partnership.TransactionCostRecorded)
	if !ok {
		return nil
	}
	applyByID(v.state.Ledgers, e.PartnershipID, m, partnership.NewCostLedger)
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
	l := v.state.Ledgers[pid]
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
	if l := v.state.Ledgers[pid]; l != nil {
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
