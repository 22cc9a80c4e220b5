package views

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewSecondments() }) }

// Secondments is the "secondments" view: every teacher secondment between
// member schools, per teacher and school, with the FTE each school lent
// and received.
//
// The view is versioned (projections.Versioned): each teacher's secondments keeps every
// version it has had, with the position each holds from (an event folds
// into a copy), so its state as of a past position is looked up (At).
type Secondments struct{ stateView[secondmentsState] }

type secondmentsState struct {
	Teachers versions[*partnership.Secondments] `json:"teachers"`
	Names    namesAt                            `json:"names"`
}

// NewSecondments returns an empty "secondments" view.
func NewSecondments() *Secondments {
	return &Secondments{newStateView("secondments", 3, func() secondmentsState {
		return secondmentsState{Teachers: newVersions[*partnership.Secondments](), Names: newNamesAt(false)}
	})}
}

// restore implements stateRestorer.
func (s *secondmentsState) restore() error {
	s.Teachers.restore()
	s.Names.restore()
	return nil
}

// At implements projections.Versioned: the secondments as known at pos.
func (v *Secondments) At(pos uint64) projections.Projection {
	out := NewSecondments()
	out.state = secondmentsState{Teachers: v.state.Teachers.upTo(pos), Names: v.state.Names.upTo(pos)}
	return out
}

// Lens implements projections.Lensed: the secondments and names as known
// at pos, looked up in v's own versions while v is read-locked.
func (v *Secondments) Lens(pos uint64) projections.Projection {
	return &Secondments{v.reading(secondmentsState{Teachers: v.state.Teachers.lens(pos), Names: v.state.Names.lens(pos)})}
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Secondments) MarshalState() ([]byte, error) {
	return v.saved(v.state.Teachers.lensed, v.state.Teachers.at, v.At)
}

// Apply implements projections.Projection.
func (v *Secondments) Apply(m domain.Message) error {
	if v.state.Teachers.lensed {
		return errLens
	}
	if v.state.Names.apply(m) {
		return nil
	}
	var teacher uuid.UUID
	switch e := m.Event.(type) {
	case partnership.SecondmentAgreed:
		teacher = e.TeacherID
	case partnership.SecondmentEndedEarly:
		teacher = e.TeacherID
	case partnership.SecondmentCancelled:
		teacher = e.TeacherID
	default:
		return nil
	}
	applyVersion(&v.state.Teachers, teacher, m, partnership.NewSecondments)
	return nil
}

// SecondmentEntry is one secondment.
type SecondmentEntry struct {
	ID        uuid.UUID `json:"id"`
	Teacher   Ref       `json:"teacher"`
	Lending   Ref       `json:"lending_school"`
	Receiving Ref       `json:"receiving_school"`
	Subject   string    `json:"subject"`
	Start     time.Time `json:"start"`
	// End is excluded: the first day back in full.
	End      time.Time `json:"end"`
	Fraction float64   `json:"fraction"`
	Status   string    `json:"status"`
	// FTEYears is Fraction times the share of the academic year asked for
	// that the secondment ran (0 for a cancelled one).
	FTEYears float64 `json:"fte_years"`
}

// List returns the secondments of partnership pid that run during
// academic year (all for ""), cancelled ones included, by start then id,
// naming teachers through names. Returns an error for a malformed year.
func (v *Secondments) List(pid uuid.UUID, year string, names PersonNames) ([]SecondmentEntry, error) {
	p, err := YearPeriod(year)
	if err != nil {
		return nil, err
	}
	return v.ListIn(pid, p, names), nil
}

// ListIn is List for the secondments that run during period p; FTEYears is
// then the fraction weighted by the share of the academic year (of 365
// days for a period that is not one) that the secondment ran in p.
func (v *Secondments) ListIn(pid uuid.UUID, p Period, names PersonNames) []SecondmentEntry {
	from, to := p.window()
	out := []SecondmentEntry{}
	v.state.Teachers.each(func(_ uuid.UUID, a *partnership.Secondments) {
		for _, s := range a.List {
			if s.PartnershipID != pid || !s.Start.Before(to) || !s.End.After(from) {
				continue
			}
			e := SecondmentEntry{ID: s.ID, Teacher: personRef(names, s.TeacherID), Lending: v.state.Names.school(s.LendingSchoolID),
				Receiving: v.state.Names.school(s.ReceivingSchoolID), Subject: s.Subject, Start: s.Start, End: s.End,
				Fraction: s.Fraction, Status: string(s.Status)}
			if s.Status != partnership.SecondmentCancelledStatus {
				e.FTEYears = fteYears(s, from, to, p.Year)
			}
			out = append(out, e)
		}
	})
	slices.SortFunc(out, func(a, b SecondmentEntry) int { return cmp.Or(a.Start.Compare(b.Start), uuidCmp(a.ID, b.ID)) })
	return out
}

// fteYears is s's fraction weighted by the share of [from, to) it ran;
// for all time ("") it is weighted by its length in 365-day years.
func fteYears(s partnership.Secondment, from, to time.Time, year string) float64 {
	a, b := s.Start, s.End
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if !a.Before(b) {
		return 0
	}
	span := to.Sub(from)
	if year == "" {
		span = 365 * 24 * time.Hour
	}
	return s.Fraction * float64(b.Sub(a)) / float64(span)
}

// SchoolFTE is what one school lent and received.
type SchoolFTE struct {
	School Ref `json:"school"`
	// LentFTEYears and ReceivedFTEYears are time-weighted over the year.
	LentFTEYears     float64 `json:"lent_fte_years"`
	ReceivedFTEYears float64 `json:"received_fte_years"`
	// LentOn and ReceivedOn are the FTE seconded on the day asked for.
	LentOn     float64 `json:"lent_fte_on_day"`
	ReceivedOn float64 `json:"received_fte_on_day"`
	Teachers   int     `json:"teachers_lent"`
}

// BySchool returns, for each school of partnership pid that lent or
// received a teacher in academic year, the FTE lent and received over the
// year and on day on, by school name.
func (v *Secondments) BySchool(pid uuid.UUID, year string, on time.Time) ([]SchoolFTE, error) {
	p, err := YearPeriod(year)
	if err != nil {
		return nil, err
	}
	return v.BySchoolIn(pid, p, on), nil
}

// secondmentScratch holds BySchoolIn's secondments between readings.
var secondmentScratch scratch[partnership.Secondment]

// BySchoolIn is BySchool over period p.
func (v *Secondments) BySchoolIn(pid uuid.UUID, p Period, on time.Time) []SchoolFTE {
	list := v.ListIn(pid, p, nil)
	buf := secondmentScratch.get()
	defer secondmentScratch.put(buf)
	all := *buf
	defer func() { *buf = all }()
	v.state.Teachers.each(func(_ uuid.UUID, a *partnership.Secondments) {
		for _, s := range a.List {
			if s.PartnershipID == pid {
				all = append(all, s)
			}
		}
	})
	// Summing floats depends on order: fix it, so the same state gives
	// the same bytes.
	slices.SortFunc(all, func(a, b partnership.Secondment) int { return uuidCmp(a.ID, b.ID) })
	lentOn := partnership.FTEByLendingSchool(all, on)
	recvOn := partnership.FTEByReceivingSchool(all, on)
	by := map[uuid.UUID]*SchoolFTE{}
	get := func(id uuid.UUID) *SchoolFTE {
		if s := by[id]; s != nil {
			return s
		}
		s := &SchoolFTE{School: v.state.Names.school(id), LentOn: lentOn[id], ReceivedOn: recvOn[id]}
		by[id] = s
		return s
	}
	teachers := map[uuid.UUID]map[uuid.UUID]bool{}
	for _, e := range list {
		if e.Status == string(partnership.SecondmentCancelledStatus) {
			continue
		}
		get(e.Lending.ID).LentFTEYears += e.FTEYears
		get(e.Receiving.ID).ReceivedFTEYears += e.FTEYears
		if teachers[e.Lending.ID] == nil {
			teachers[e.Lending.ID] = map[uuid.UUID]bool{}
		}
		teachers[e.Lending.ID][e.Teacher.ID] = true
	}
	out := []SchoolFTE{}
	for id, s := range by {
		s.Teachers = len(teachers[id])
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b SchoolFTE) int { return byName(a.School, b.School) })
	return out
}

// TeacherSecondments is every secondment of one teacher.
type TeacherSecondments struct {
	Teacher     Ref               `json:"teacher"`
	Secondments []SecondmentEntry `json:"secondments"`
}

// ByTeacher returns the secondments of partnership pid in academic year
// grouped by teacher, by teacher name then id.
func (v *Secondments) ByTeacher(pid uuid.UUID, year string, names PersonNames) ([]TeacherSecondments, error) {
	list, err := v.List(pid, year, names)
	if err != nil {
		return nil, err
	}
	idx := map[uuid.UUID]int{}
	out := []TeacherSecondments{}
	for _, e := range list {
		i, ok := idx[e.Teacher.ID]
		if !ok {
			i = len(out)
			idx[e.Teacher.ID] = i
			out = append(out, TeacherSecondments{Teacher: e.Teacher})
		}
		out[i].Secondments = append(out[i].Secondments, e)
	}
	slices.SortFunc(out, func(a, b TeacherSecondments) int { return byName(a.Teacher, b.Teacher) })
	return out, nil
}
