package views

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewCelebrations() }) }

// Celebrations is the "celebrations" view: the contributions a
// partnership recognised, by person, school and ISLC.
//
// The view is versioned (projections.Versioned): recognitions are only
// ever appended, each with the position it was recorded at, so the state
// as of a past position is the recognitions up to it (At), with no fold.
type Celebrations struct{ stateView[celebrationsState] }

type celebrationsState struct {
	// Recognitions are in the order recorded.
	Recognitions []partnership.ContributionRecognised `json:"recognitions"`
	// Positions are the position of each recognition, in the same order.
	Positions []uint64 `json:"positions"`
	Names     namesAt  `json:"names"`
}

// NewCelebrations returns an empty "celebrations" view.
func NewCelebrations() *Celebrations {
	return &Celebrations{newStateView("celebrations", 3, func() celebrationsState {
		return celebrationsState{Recognitions: []partnership.ContributionRecognised{}, Names: newNamesAt(true)}
	})}
}

// restore implements stateRestorer.
func (s *celebrationsState) restore() error {
	if len(s.Positions) != len(s.Recognitions) {
		return fmt.Errorf("celebrations: %d recognitions and %d positions", len(s.Recognitions), len(s.Positions))
	}
	s.Names.restore()
	return nil
}

// At implements projections.Versioned: the recognitions up to pos
// (sharing the live view's array, with no room beyond its end: the live
// view only appends), and the names given by then.
func (v *Celebrations) At(pos uint64) projections.Projection {
	out := NewCelebrations()
	s := &out.state
	if n := positionsUpTo(v.state.Positions, pos); n > 0 {
		s.Recognitions, s.Positions = v.state.Recognitions[:n:n], v.state.Positions[:n:n]
	}
	s.Names = v.state.Names.upTo(pos)
	return out
}

// Lens implements projections.Lensed: the recognitions up to pos and the
// names given by then, looked up in v's own while v is read-locked.
func (v *Celebrations) Lens(pos uint64) projections.Projection {
	out := &Celebrations{v.reading(celebrationsState{})}
	s := &out.state
	n := positionsUpTo(v.state.Positions, pos)
	s.Recognitions, s.Positions = v.state.Recognitions[:n:n], v.state.Positions[:n:n]
	s.Names = v.state.Names.lens(pos)
	return out
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Celebrations) MarshalState() ([]byte, error) {
	return v.saved(v.state.Names.lensed, v.state.Names.at, v.At)
}

// Apply implements projections.Projection.
func (v *Celebrations) Apply(m domain.Message) error {
	if v.state.Names.lensed {
		return errLens
	}
	if v.state.Names.apply(m) {
		return nil
	}
	if e, ok := m.Event.(partnership.ContributionRecognised); ok {
		v.state.Recognitions = append(v.state.Recognitions, e)
		v.state.Positions = append(v.state.Positions, m.Position)
	}
	return nil
}

// CelebrationInfo is one recognised contribution.
type CelebrationInfo struct {
	ID            uuid.UUID `json:"id"`
	RecipientKind string    `json:"recipient_kind"`
	Recipient     Ref       `json:"recipient"`
	School        Ref       `json:"school"`
	ReferenceKind string    `json:"reference_kind,omitempty"`
	ReferenceID   uuid.UUID `json:"reference_id,omitzero"`
	Citation      string    `json:"citation"`
	On            time.Time `json:"on"`
}

// List returns the recognitions of partnership pid in academic year (all
// for ""), by day then id, naming people through names (an erased person
// reads "(erased)").
func (v *Celebrations) List(pid uuid.UUID, year string, names PersonNames) []CelebrationInfo {
	return v.ListIn(pid, periodOf(year), names)
}

// ListIn is List for the recognitions made in period p.
func (v *Celebrations) ListIn(pid uuid.UUID, p Period, names PersonNames) []CelebrationInfo {
	out := []CelebrationInfo{}
	for _, r := range v.state.Recognitions {
		if r.PartnershipID != pid || !p.Contains(r.RecognisedOn) {
			continue
		}
		ci := CelebrationInfo{ID: r.RecognitionID, RecipientKind: string(r.RecipientKind), School: v.state.Names.school(r.SchoolID),
			ReferenceKind: string(r.ReferenceKind), ReferenceID: r.ReferenceID, Citation: r.Citation, On: r.RecognisedOn}
		switch r.RecipientKind {
		case partnership.RecipientPerson:
			ci.Recipient = personRef(names, r.RecipientID)
		case partnership.RecipientCommunity:
			ci.Recipient = v.state.Names.community(r.RecipientID)
		default:
			ci.Recipient = v.state.Names.school(r.RecipientID)
		}
		if r.SchoolID == uuid.Nil {
			ci.School = Ref{}
		}
		out = append(out, ci)
	}
	slices.SortStableFunc(out, func(a, b CelebrationInfo) int { return cmp.Or(a.On.Compare(b.On), uuidCmp(a.ID, b.ID)) })
	return out
}

// Tally is how many contributions of someone or something were
// recognised.
type Tally struct {
	Ref
	Count int `json:"count"`
}

// Tallies counts a year's recognitions by person, by school (every
// recognition counts for the recipient's school) and by ISLC, each by
// count (most first), then name.
type Tallies struct {
	People      []Tally `json:"people"`
	Schools     []Tally `json:"schools"`
	Communities []Tally `json:"communities"`
}

// Tallies returns the recognitions of partnership pid in academic year
// counted by person, school and ISLC.
func (v *Celebrations) Tallies(pid uuid.UUID, year string, names PersonNames) Tallies {
	return v.TalliesIn(pid, periodOf(year), names)
}

// TalliesIn is Tallies for the recognitions made in period p.
func (v *Celebrations) TalliesIn(pid uuid.UUID, p Period, names PersonNames) Tallies {
	people, schools, comms := map[uuid.UUID]*Tally{}, map[uuid.UUID]*Tally{}, map[uuid.UUID]*Tally{}
	bump := func(m map[uuid.UUID]*Tally, r Ref) {
		if t := m[r.ID]; t != nil {
			t.Count++
			return
		}
		m[r.ID] = &Tally{Ref: r, Count: 1}
	}
	for _, c := range v.ListIn(pid, p, names) {
		switch partnership.RecipientKind(c.RecipientKind) {
		case partnership.RecipientPerson:
			bump(people, c.Recipient)
		case partnership.RecipientCommunity:
			bump(comms, c.Recipient)
		}
		if c.School.ID != uuid.Nil {
			bump(schools, c.School)
		}
	}
	flat := func(m map[uuid.UUID]*Tally) []Tally {
		out := []Tally{}
		for _, t := range m {
			out = append(out, *t)
		}
		slices.SortFunc(out, func(a, b Tally) int { return cmp.Or(cmp.Compare(b.Count, a.Count), byName(a.Ref, b.Ref)) })
		return out
	}
	return Tallies{People: flat(people), Schools: flat(schools), Communities: flat(comms)}
}
