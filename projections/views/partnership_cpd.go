package views

import (
	"cmp"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewCPD() }) }

// CPD is the "cpd" view: shared CPD, TeachMeets, shadowing, trips and
// events, the places offered, booked and attended per school, and what
// they cost and saved.
type CPD struct{ stateView[cpdState] }

type cpdState struct {
	Events map[uuid.UUID]*partnership.CPDEvent `json:"events"`
	Names  partnershipNames                    `json:"names"`
	// byStart indexes each partnership's events by start, then id (an
	// event's start is set when it is organised and never changes), so a
	// year's events are found without reading ten years'. Not saved:
	// rebuilt when a state is read.
	byStart map[uuid.UUID][]cpdKey
}

// cpdKey is a CPD event's place in its partnership's index.
type cpdKey struct {
	start time.Time
	id    uuid.UUID
}

func (a cpdKey) cmp(b cpdKey) int { return cmp.Or(a.start.Compare(b.start), uuidCmp(a.id, b.id)) }

// file puts CPD event c in the index (once).
func (s *cpdState) file(c *partnership.CPDEvent) {
	k := cpdKey{c.StartsAt, c.ID}
	keys := s.byStart[c.PartnershipID]
	if i, found := slices.BinarySearchFunc(keys, k, cpdKey.cmp); !found {
		s.byStart[c.PartnershipID] = slices.Insert(keys, i, k)
	}
}

// NewCPD returns an empty "cpd" view.
func NewCPD() *CPD {
	return &CPD{newStateView("cpd", 2, func() cpdState {
		return cpdState{Events: map[uuid.UUID]*partnership.CPDEvent{}, Names: newNames(false), byStart: map[uuid.UUID][]cpdKey{}}
	})}
}

// UnmarshalState implements projections.Projection: the state read, with
// its index rebuilt.
func (v *CPD) UnmarshalState(b []byte) error {
	if err := v.stateView.UnmarshalState(b); err != nil {
		return err
	}
	for _, c := range v.state.Events {
		if c.Organised() {
			v.state.byStart[c.PartnershipID] = append(v.state.byStart[c.PartnershipID], cpdKey{c.StartsAt, c.ID})
		}
	}
	for _, keys := range v.state.byStart {
		slices.SortFunc(keys, cpdKey.cmp)
	}
	return nil
}

// Apply implements projections.Projection.
func (v *CPD) Apply(m domain.Message) error {
	if v.state.Names.apply(m) {
		return nil
	}
	var id uuid.UUID
	switch e := m.Event.(type) {
	case partnership.CPDEventOrganised:
		applyByID(v.state.Events, e.CPDID, m, partnership.NewCPDEvent)
		if c := v.state.Events[e.CPDID]; c.Organised() {
			v.state.file(c)
		}
		return nil
	case partnership.CPDPlacesBooked:
		id = e.CPDID
	case partnership.CPDBookingCancelled:
		id = e.CPDID
	case partnership.CPDAttendanceRecorded:
		id = e.CPDID
	default:
		return nil
	}
	applyByID(v.state.Events, id, m, partnership.NewCPDEvent)
	return nil
}

func (v *CPD) of(pid uuid.UUID, p Period) []*partnership.CPDEvent {
	keys := v.state.byStart[pid]
	from, to := p.window()
	lo := sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(from) })
	hi := max(lo, sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(to) }))
	out := make([]*partnership.CPDEvent, 0, hi-lo)
	for _, k := range keys[lo:hi] {
		out = append(out, v.state.Events[k.id])
	}
	return out
}

// CPDEventInfo is one CPD event with its take-up and costs.
type CPDEventInfo struct {
	ID              uuid.UUID `json:"id"`
	Title           string    `json:"title"`
	Kind            string    `json:"kind"`
	Organiser       Ref       `json:"organiser"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
	Offered         int       `json:"places_offered"`
	Booked          int       `json:"places_booked"`
	Attended        int       `json:"attended"`
	FullPence       int64     `json:"full_pence"`
	PaidPence       int64     `json:"paid_pence"`
	SavingsPence    int64     `json:"savings_pence"`
	DiscountApplies bool      `json:"discount_applies"`
}

// Events returns the CPD events of partnership pid in academic year (all
// for ""), by start.
func (v *CPD) Events(pid uuid.UUID, year string) []CPDEventInfo {
	return v.EventsIn(pid, periodOf(year))
}

// EventsIn is Events for the events starting in period p.
func (v *CPD) EventsIn(pid uuid.UUID, p Period) []CPDEventInfo {
	out := []CPDEventInfo{}
	for _, c := range v.of(pid, p) {
		out = append(out, v.info(c))
	}
	return out
}

// Event returns CPD event id of partnership pid as Events lists it;
// false when it is no organised event of pid's.
func (v *CPD) Event(pid, id uuid.UUID) (CPDEventInfo, bool) {
	c := v.state.Events[id]
	if c == nil || !c.Organised() || c.PartnershipID != pid {
		return CPDEventInfo{}, false
	}
	return v.info(c), true
}

func (v *CPD) info(c *partnership.CPDEvent) CPDEventInfo {
	costs, discount := c.Total()
	_, attended := c.Attendance()
	return CPDEventInfo{ID: c.ID, Title: c.Title, Kind: string(c.Kind), Organiser: v.state.Names.school(c.OrganiserSchoolID),
		StartsAt: c.StartsAt, EndsAt: c.EndsAt, Offered: c.Places, Booked: c.PlacesBooked(), Attended: attended,
		FullPence: costs.FullPence, PaidPence: costs.PaidPence, SavingsPence: costs.SavingsPence, DiscountApplies: discount}
}

// CPDSchool is one school's part in the partnership's CPD in a year.
type CPDSchool struct {
	School       Ref   `json:"school"`
	Offered      int   `json:"places_offered"`
	Booked       int   `json:"places_booked"`
	Attended     int   `json:"attended"`
	PaidPence    int64 `json:"paid_pence"`
	SavingsPence int64 `json:"savings_pence"`
}

// BySchool returns, per school, the places it offered (as organiser),
// booked (not cancelled) and attended, and what its places cost and
// saved, in academic year, by school name.
func (v *CPD) BySchool(pid uuid.UUID, year string) []CPDSchool {
	return v.BySchoolIn(pid, periodOf(year))
}

// BySchoolIn is BySchool for the events starting in period p.
func (v *CPD) BySchoolIn(pid uuid.UUID, p Period) []CPDSchool {
	by := map[uuid.UUID]*CPDSchool{}
	get := func(id uuid.UUID) *CPDSchool {
		if s := by[id]; s != nil {
			return s
		}
		s := &CPDSchool{School: v.state.Names.school(id)}
		by[id] = s
		return s
	}
	for _, c := range v.of(pid, p) {
		get(c.OrganiserSchoolID).Offered += c.Places
		for _, b := range c.Bookings {
			if b.Cancelled {
				continue
			}
			s := get(b.SchoolID)
			s.Booked += b.Places
			if b.Recorded {
				s.Attended += b.Attended
			}
		}
		c.EachCost(func(id uuid.UUID, cost partnership.CPDCost) {
			s := get(id)
			s.PaidPence += cost.PaidPence
			s.SavingsPence += cost.SavingsPence
		})
	}
	out := []CPDSchool{}
	for _, s := range by {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b CPDSchool) int { return byName(a.School, b.School) })
	return out
}

// CPDTotals sums a year's CPD of a partnership.
type CPDTotals struct {
	Events       int   `json:"events"`
	Offered      int   `json:"places_offered"`
	Booked       int   `json:"places_booked"`
	Attended     int   `json:"attended"`
	FullPence    int64 `json:"full_pence"`
	PaidPence    int64 `json:"paid_pence"`
	SavingsPence int64 `json:"savings_pence"`
}

// Totals sums the CPD of partnership pid in academic year. Booked counts
// every place not cancelled; attendance counts recorded attendance.
func (v *CPD) Totals(pid uuid.UUID, year string) CPDTotals {
	return v.TotalsIn(pid, periodOf(year))
}

// TotalsIn is Totals for the events starting in period p.
func (v *CPD) TotalsIn(pid uuid.UUID, p Period) CPDTotals {
	evs := v.of(pid, p)
	sum := partnership.SumCPD(evs...)
	t := CPDTotals{Events: sum.Events, Attended: sum.Attended, FullPence: sum.FullPence, PaidPence: sum.PaidPence, SavingsPence: sum.SavingsPence}
	for _, c := range evs {
		t.Offered += c.Places
		t.Booked += c.PlacesBooked()
	}
	return t
}
