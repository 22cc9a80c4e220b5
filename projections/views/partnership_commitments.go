package views

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewCommitments() }) }

// Commitments is the "commitments" view: the accountability tracker —
// every commitment a school or ISLC made to a partnership priority, by
// owner and status, with its progress updates and evidence.
//
// The view is versioned (projections.Versioned): each commitment (and priority title) keeps every
// version it has had, with the position each holds from (an event folds
// into a copy), so its state as of a past position is looked up (At).
type Commitments struct{ stateView[commitmentsState] }

type commitmentsState struct {
	Commitments versions[*partnership.Commitment] `json:"commitments"`
	Priorities  versions[string]                  `json:"priorities"`
	Names       namesAt                           `json:"names"`
}

// NewCommitments returns an empty "commitments" view.
func NewCommitments() *Commitments {
	return &Commitments{newStateView("commitments", 3, func() commitmentsState {
		return commitmentsState{Commitments: newVersions[*partnership.Commitment](), Priorities: newVersions[string](), Names: newNamesAt(true)}
	})}
}

// restore implements stateRestorer.
func (s *commitmentsState) restore() error {
	s.Commitments.restore()
	s.Priorities.restore()
	s.Names.restore()
	return nil
}

// At implements projections.Versioned: the commitments as known at pos.
func (v *Commitments) At(pos uint64) projections.Projection {
	out := NewCommitments()
	out.state = commitmentsState{Commitments: v.state.Commitments.upTo(pos), Priorities: v.state.Priorities.upTo(pos), Names: v.state.Names.upTo(pos)}
	return out
}

// Lens implements projections.Lensed: the commitments, priorities and
// names as known at pos, looked up in v's own versions while v is
// read-locked.
func (v *Commitments) Lens(pos uint64) projections.Projection {
	return &Commitments{v.reading(commitmentsState{Commitments: v.state.Commitments.lens(pos), Priorities: v.state.Priorities.lens(pos), Names: v.state.Names.lens(pos)})}
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Commitments) MarshalState() ([]byte, error) {
	return v.saved(v.state.Commitments.lensed, v.state.Commitments.at, v.At)
}

// Apply implements projections.Projection.
func (v *Commitments) Apply(m domain.Message) error {
	if v.state.Commitments.lensed {
		return errLens
	}
	if v.state.Names.apply(m) {
		return nil
	}
	var id uuid.UUID
	switch e := m.Event.(type) {
	case partnership.PriorityAgreed:
		v.state.Priorities.set(e.PriorityID, m.Position, e.Title)
		return nil
	case partnership.CommitmentMade:
		id = e.CommitmentID
	case partnership.CommitmentProgressUpdated:
		id = e.CommitmentID
	case partnership.CommitmentAchieved:
		id = e.CommitmentID
	case partnership.CommitmentMissed:
		id = e.CommitmentID
	default:
		return nil
	}
	applyVersion(&v.state.Commitments, id, m, partnership.NewCommitment)
	return nil
}

// CommitmentUpdate is one progress update.
type CommitmentUpdate struct {
	On      time.Time `json:"on"`
	Note    string    `json:"note"`
	Percent *int      `json:"percent,omitempty"`
}

// CommitmentInfo is one commitment in the tracker.
type CommitmentInfo struct {
	ID             uuid.UUID          `json:"id"`
	Priority       Ref                `json:"priority"`
	PartyKind      string             `json:"party_kind"`
	Party          Ref                `json:"party"`
	School         Ref                `json:"school"`
	Owner          Ref                `json:"owner"`
	DueOn          time.Time          `json:"due_on"`
	SuccessMeasure string             `json:"success_measure"`
	Status         string             `json:"status"`
	Percent        *int               `json:"percent,omitempty"`
	Overdue        bool               `json:"overdue"`
	Evidence       string             `json:"evidence,omitempty"`
	ClosedOn       *time.Time         `json:"closed_on,omitempty"`
	Updates        []CommitmentUpdate `json:"updates"`
}

func (v *Commitments) of(pid uuid.UUID, p Period) []*partnership.Commitment {
	var out []*partnership.Commitment
	v.state.Commitments.each(func(_ uuid.UUID, c *partnership.Commitment) {
		if c.Made() && c.PartnershipID == pid && p.overlapsYear(c.AcademicYear) {
			out = append(out, c)
		}
	})
	slices.SortFunc(out, func(a, b *partnership.Commitment) int { return cmp.Or(a.DueOn.Compare(b.DueOn), uuidCmp(a.ID, b.ID)) })
	return out
}

func (v *Commitments) info(c *partnership.Commitment, now time.Time, names PersonNames) CommitmentInfo {
	ci := CommitmentInfo{ID: c.ID, Priority: Ref{ID: c.PriorityID, Name: v.state.Priorities.name(c.PriorityID)}, PartyKind: string(c.PartyKind),
		School: v.state.Names.school(c.SchoolID), Owner: personRef(names, c.OwnerID), DueOn: c.DueOn, SuccessMeasure: c.SuccessMeasure,
		Status: string(c.Status), Overdue: c.OverdueOn(now), Evidence: c.Evidence, Updates: make([]CommitmentUpdate, 0, len(c.Updates))}
	if c.PartyKind == partnership.PartyCommunity {
		ci.Party = v.state.Names.community(c.PartyID)
	} else {
		ci.Party = v.state.Names.school(c.PartyID)
	}
	if p, ok := c.LatestPercent(); ok {
		ci.Percent = &p
	}
	if c.Closed() {
		t := c.ClosedOn
		ci.ClosedOn = &t
	}
	for _, u := range c.Updates {
		ci.Updates = append(ci.Updates, CommitmentUpdate{On: u.UpdatedOn, Note: u.Note, Percent: u.Percent})
	}
	return ci
}

// List returns the commitments of partnership pid for academic year (all
// for ""), by due day, with overdue ones (open past their due day on day
// now) flagged and owners named through names.
func (v *Commitments) List(pid uuid.UUID, year string, now time.Time, names PersonNames) []CommitmentInfo {
	out, _ := v.ListPage(pid, year, now, names, 0, math.MaxInt)
	return out
}

// ListPage is the page of List from entry from, at most n entries, and
// how many the whole list has: only the page's commitments are built, and
// only their owners named.
func (v *Commitments) ListPage(pid uuid.UUID, year string, now time.Time, names PersonNames, from, n int) ([]CommitmentInfo, int) {
	cs := v.of(pid, periodOf(year))
	lo, hi := pageRange(from, n, len(cs))
	out := make([]CommitmentInfo, 0, hi-lo)
	for _, c := range cs[lo:hi] {
		out = append(out, v.info(c, now, names))
	}
	return out, len(cs)
}

// Commitment returns commitment id of partnership pid as List shows it,
// and whether there is one: looked up, not found in the list of every
// year.
func (v *Commitments) Commitment(pid, id uuid.UUID, now time.Time, names PersonNames) (CommitmentInfo, bool) {
	c := v.state.Commitments.name(id)
	if c == nil || !c.Made() || c.PartnershipID != pid {
		return CommitmentInfo{}, false
	}
	return v.info(c, now, names), true
}

// StatusGroup is the commitments of one status.
type StatusGroup struct {
	Status      string           `json:"status"`
	Commitments []CommitmentInfo `json:"commitments"`
}

// ByStatus returns List grouped by status: open, achieved, missed (every
// group present, possibly empty), each by due day.
func (v *Commitments) ByStatus(pid uuid.UUID, year string, now time.Time, names PersonNames) []StatusGroup {
	return v.ByStatusIn(pid, periodOf(year), now, names)
}

// ByStatusIn is ByStatus for the commitments to priorities of the
// academic years that period p meets.
func (v *Commitments) ByStatusIn(pid uuid.UUID, p Period, now time.Time, names PersonNames) []StatusGroup {
	groups := partnership.CommitmentsByStatus(v.of(pid, p)...)
	out := []StatusGroup{}
	for _, s := range []partnership.CommitmentStatus{partnership.CommitmentOpenStatus, partnership.CommitmentAchievedStatus, partnership.CommitmentMissedStatus} {
		g := StatusGroup{Status: string(s), Commitments: make([]CommitmentInfo, 0, len(groups[s]))}
		for _, c := range groups[s] {
			g.Commitments = append(g.Commitments, v.info(c, now, names))
		}
		out = append(out, g)
	}
	return out
}

// OwnerGroup is the commitments one person owns.
type OwnerGroup struct {
	Owner       Ref              `json:"owner"`
	Open        int              `json:"open"`
	Achieved    int              `json:"achieved"`
	Missed      int              `json:"missed"`
	Commitments []CommitmentInfo `json:"commitments"`
}

// ByOwner returns List grouped by owner, by owner name then id.
func (v *Commitments) ByOwner(pid uuid.UUID, year string, now time.Time, names PersonNames) []OwnerGroup {
	idx := map[uuid.UUID]int{}
	out := []OwnerGroup{}
	for _, c := range v.List(pid, year, now, names) {
		i, ok := idx[c.Owner.ID]
		if !ok {
			i = len(out)
			idx[c.Owner.ID] = i
			out = append(out, OwnerGroup{Owner: c.Owner})
		}
		g := &out[i]
		switch partnership.CommitmentStatus(c.Status) {
		case partnership.CommitmentOpenStatus:
			g.Open++
		case partnership.CommitmentAchievedStatus:
			g.Achieved++
		case partnership.CommitmentMissedStatus:
			g.Missed++
		}
		g.Commitments = append(g.Commitments, c)
	}
	slices.SortFunc(out, func(a, b OwnerGroup) int { return byName(a.Owner, b.Owner) })
	return out
}
