package views

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewPartnerships() }) }

// Partnerships is the "partnerships" view: every partnership, its member
// schools over time (joined, left), its lead and its priorities. It also
// keeps the day (UTC) the last event folded was recorded on, which reports
// use as "today" so that the same position always reads the same.
//
// The view is versioned (projections.Versioned): each partnership keeps
// every version it has had, with the position each holds from (an event
// folds into a copy), and the day of the last event folded changes with
// the first event of each later day, so its state as of a past position
// is looked up (At).
type Partnerships struct{ stateView[partnershipsState] }

type partnershipsState struct {
	Partnerships versions[*partnership.Partnership] `json:"partnerships"`
	Names        namesAt                            `json:"names"`
	// Days are the days events were recorded on, each from the position
	// of the first event recorded on a later day than every event before
	// it: the last is the day of the last event folded.
	Days history[time.Time] `json:"days"`
}

// NewPartnerships returns an empty "partnerships" view.
func NewPartnerships() *Partnerships {
	return &Partnerships{newStateView("partnerships", 3, func() partnershipsState {
		return partnershipsState{Partnerships: newVersions[*partnership.Partnership](), Names: newNamesAt(false)}
	})}
}

// restore implements stateRestorer.
func (s *partnershipsState) restore() error {
	s.Partnerships.restore()
	s.Names.restore()
	return nil
}

// At implements projections.Versioned: the partnerships as known at pos.
func (v *Partnerships) At(pos uint64) projections.Projection {
	out := NewPartnerships()
	out.state = partnershipsState{Partnerships: v.state.Partnerships.upTo(pos), Names: v.state.Names.upTo(pos), Days: v.state.Days.upTo(pos)}
	return out
}

// Lens implements projections.Lensed: the partnerships, names and days as
// known at pos, looked up in v's own versions while v is read-locked.
func (v *Partnerships) Lens(pos uint64) projections.Projection {
	return &Partnerships{v.reading(partnershipsState{Partnerships: v.state.Partnerships.lens(pos), Names: v.state.Names.lens(pos), Days: v.state.Days.upTo(pos)})}
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Partnerships) MarshalState() ([]byte, error) {
	return v.saved(v.state.Partnerships.lensed, v.state.Partnerships.at, v.At)
}

// Apply implements projections.Projection.
func (v *Partnerships) Apply(m domain.Message) error {
	if v.state.Partnerships.lensed {
		return errLens
	}
	if d := partnership.Date(m.RecordedAt); d.After(v.state.Days.current()) {
		v.state.Days = v.state.Days.add(m.Position, d)
	}
	if v.state.Names.apply(m) {
		return nil
	}
	var id uuid.UUID
	switch e := m.Event.(type) {
	case partnership.PartnershipFormed:
		id = e.PartnershipID
	case partnership.SchoolJoinedPartnership:
		id = e.PartnershipID
	case partnership.SchoolLeftPartnership:
		id = e.PartnershipID
	case partnership.PartnershipLeadAppointed:
		id = e.PartnershipID
	case partnership.PriorityAgreed:
		id = e.PartnershipID
	default:
		return nil
	}
	applyVersion(&v.state.Partnerships, id, m, partnership.NewPartnership)
	return nil
}

// LastRecordedOn returns the day (UTC) the last event folded was recorded
// on (zero for an empty log).
func (v *Partnerships) LastRecordedOn() time.Time { return v.state.Days.current() }

// MemberPeriod is one period of a school's membership.
type MemberPeriod struct {
	School   Ref       `json:"school"`
	JoinedOn time.Time `json:"joined_on"`
	// LeftOn is the last day of membership; absent while it lasts.
	LeftOn  *time.Time `json:"left_on,omitempty"`
	Current bool       `json:"current"`
}

// PriorityInfo is a priority the partnership agreed.
type PriorityInfo struct {
	ID           uuid.UUID `json:"id"`
	Title        string    `json:"title"`
	Description  string    `json:"description,omitempty"`
	AcademicYear string    `json:"academic_year"`
}

// PartnershipInfo is one partnership as the view shows it.
type PartnershipInfo struct {
	ID         uuid.UUID      `json:"id"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	FormedOn   time.Time      `json:"formed_on"`
	Lead       *Ref           `json:"lead,omitempty"`
	LeadSchool *Ref           `json:"lead_school,omitempty"`
	Members    []MemberPeriod `json:"members"`
	Current    int            `json:"current_members"`
	Priorities []PriorityInfo `json:"priorities"`
}

func (v *Partnerships) info(p *partnership.Partnership, names PersonNames) PartnershipInfo {
	out := PartnershipInfo{ID: p.ID, Name: p.Name, Kind: string(p.Kind), FormedOn: p.FormedOn, Members: []MemberPeriod{}, Priorities: []PriorityInfo{}}
	if p.LeadID != uuid.Nil {
		out.Lead = optPersonRef(names, p.LeadID)
		if p.LeadSchoolID != uuid.Nil {
			s := v.state.Names.school(p.LeadSchoolID)
			out.LeadSchool = &s
		}
	}
	for _, m := range p.Memberships {
		mp := MemberPeriod{School: v.state.Names.school(m.SchoolID), JoinedOn: m.JoinedOn, Current: m.Current()}
		if !m.Current() {
			left := m.LeftOn
			mp.LeftOn = &left
		} else {
			out.Current++
		}
		out.Members = append(out.Members, mp)
	}
	for _, pr := range p.Priorities {
		out.Priorities = append(out.Priorities, PriorityInfo{ID: pr.ID, Title: pr.Title, Description: pr.Description, AcademicYear: pr.AcademicYear})
	}
	return out
}

// List returns every formed partnership by name (then id), naming the
// lead through names (nil: ids only).
func (v *Partnerships) List(names PersonNames) []PartnershipInfo {
	out := []PartnershipInfo{}
	v.state.Partnerships.each(func(_ uuid.UUID, p *partnership.Partnership) {
		if p.Formed() {
			out = append(out, v.info(p, names))
		}
	})
	slices.SortFunc(out, func(a, b PartnershipInfo) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), uuidCmp(a.ID, b.ID))
	})
	return out
}

// Get returns partnership id; ok is false when no such partnership was
// formed.
func (v *Partnerships) Get(id uuid.UUID, names PersonNames) (PartnershipInfo, bool) {
	p := v.state.Partnerships.name(id)
	if p == nil || !p.Formed() {
		return PartnershipInfo{}, false
	}
	return v.info(p, names), true
}

// YearMembership is the membership of a partnership in one academic year.
type YearMembership struct {
	AcademicYear string `json:"academic_year"`
	// Members counts schools that were members on any day of the year.
	Members int `json:"members"`
	Joined  int `json:"joined"`
	Left    int `json:"left"`
}

// MembershipByYear returns, for every academic year from the one the
// partnership was formed in through year through (or the latest year a
// school joined or left, when through is ""), how many schools were
// members, joined and left. It returns nil for an unknown partnership or
// a malformed year.
func (v *Partnerships) MembershipByYear(id uuid.UUID, through string) []YearMembership {
	p := v.state.Partnerships.name(id)
	if p == nil || !p.Formed() {
		return nil
	}
	first, err := partnership.ParseAcademicYear(partnership.AcademicYearOf(p.FormedOn))
	if err != nil {
		return nil
	}
	last := first
	if through != "" {
		if last, err = partnership.ParseAcademicYear(through); err != nil {
			return nil
		}
	} else {
		for _, m := range p.Memberships {
			for _, d := range []time.Time{m.JoinedOn, m.LeftOn} {
				if !d.IsZero() {
					y, _ := partnership.ParseAcademicYear(partnership.AcademicYearOf(d))
					last = max(last, y)
				}
			}
		}
	}
	out := []YearMembership{}
	for y := first; y <= last; y++ {
		label := partnership.AcademicYearLabel(y)
		from := partnership.AcademicYearBegins(y)
		to := from.AddDate(1, 0, 0)
		ym := YearMembership{AcademicYear: label}
		seen := map[uuid.UUID]bool{}
		for _, m := range p.Memberships {
			if m.JoinedOn.Before(to) && (m.LeftOn.IsZero() || !m.LeftOn.Before(from)) && !seen[m.SchoolID] {
				seen[m.SchoolID] = true
				ym.Members++
			}
			if partnership.AcademicYearOf(m.JoinedOn) == label {
				ym.Joined++
			}
			if !m.LeftOn.IsZero() && partnership.AcademicYearOf(m.LeftOn) == label {
				ym.Left++
			}
		}
		out = append(out, ym)
	}
	return out
}
