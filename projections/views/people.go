package views

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

// PeopleView is the name of the "people" view.
const PeopleView = "people"

func init() { register(func() projections.Projection { return NewPeople() }) }

// Person is one person as the "people" view shows them. Name is
// domain.ErasedName (and Erased true) once their personal data was erased.
type Person struct {
	ID uuid.UUID `json:"id"`
	// Name is the display name (never a pupil: only staff, governors and
	// adult advisory contacts are registered).
	Name   string `json:"name"`
	Erased bool   `json:"erased"`
	// Kind is staff, governor or advisory_contact.
	Kind string `json:"kind"`
	// StaffKind is educator or administrator, for staff.
	StaffKind string    `json:"staff_kind,omitempty"`
	SchoolID  uuid.UUID `json:"school_id"`
	// Since is when their registration took effect.
	Since time.Time `json:"since"`
	// LeftSchool is set once they left the school; LeftOn is their last day.
	LeftSchool bool      `json:"left_school"`
	LeftOn     time.Time `json:"left_on,omitzero"`
}

// personRec is what the view keeps of a person: their personal data stays
// sealed, opened only by queries, so no plaintext name reaches a
// checkpoint and an erasure shows at once, without a rebuild.
type personRec struct {
	Kind      string    `json:"kind"`
	StaffKind string    `json:"staff_kind,omitempty"`
	SchoolID  uuid.UUID `json:"school_id"`
	Since     time.Time `json:"since"`
	LeftOn    time.Time `json:"left_on,omitzero"`
	Sealed    []byte    `json:"sealed,omitempty"`
}

// People is the "people" view: every registered person's display name,
// kind, school, and whether they left or were erased. Its NameMap is the
// PersonNames the other views' queries take. Names are opened at query
// time with the keyring the caller passes.
//
// The view is versioned (projections.Versioned): each person's record
// keeps its versions with the position each holds from (a change makes a
// new version), so its state as of a past position is looked up (At).
type People struct {
	P map[uuid.UUID]history[personRec] `json:"people"`

	// A lens (see Lens) reads P as it was at position at.
	lensed bool
	at     uint64
}

// NewPeople returns an empty "people" view.
func NewPeople() *People { return &People{P: map[uuid.UUID]history[personRec]{}} }

// At implements projections.Versioned: every person as known at pos.
func (v *People) At(pos uint64) projections.Projection {
	if v.lensed {
		pos = min(pos, v.at)
	}
	return &People{P: rowsUpTo(v.P, pos)}
}

// Lens implements projections.Lensed: every person as known at pos,
// looked up in v's own versions while v is read-locked, copying none.
func (v *People) Lens(pos uint64) projections.Projection {
	return &People{P: v.P, lensed: true, at: pos}
}

// record returns person id's record as read (now, or as of a lens's
// position) and whether they were registered by then.
func (v *People) record(id uuid.UUID) (personRec, bool) {
	h := v.P[id]
	if v.lensed {
		h = h.upTo(v.at)
	}
	if len(h) == 0 {
		return personRec{}, false
	}
	return h.current(), true
}

// each calls fn with every person's record as read, in no order.
func (v *People) each(fn func(id uuid.UUID, r personRec)) {
	for id, h := range v.P {
		if v.lensed {
			if h = h.upTo(v.at); len(h) == 0 {
				continue
			}
		}
		fn(id, h.current())
	}
}

// Name implements projections.Projection.
func (*People) Name() string { return PeopleView }

// Version implements projections.Projection.
func (*People) Version() int { return 2 }

// Apply implements projections.Projection.
func (v *People) Apply(m domain.Message) error {
	if v.lensed {
		return errLens
	}
	reg := func(id, school uuid.UUID, kind, staffKind string, pd domain.PersonalData) {
		v.P[id] = v.P[id].add(m.Position, personRec{Kind: kind, StaffKind: staffKind, SchoolID: school, Since: m.Effective().UTC(), Sealed: pd.Sealed})
	}
	// change makes a new version of person id's record, if they are known.
	change := func(id uuid.UUID, fn func(*personRec)) {
		if h, ok := v.P[id]; ok {
			p := h.current()
			fn(&p)
			v.P[id] = h.add(m.Position, p)
		}
	}
	switch e := m.Event.(type) {
	case governance.StaffRegistered:
		reg(e.PersonID, e.SchoolID, governance.PersonStaff, e.Kind, e.Personal)
	case governance.GovernorRegistered:
		reg(e.PersonID, e.SchoolID, governance.PersonGovernor, "", e.Personal)
	case governance.AdvisoryContactRegistered:
		reg(e.PersonID, e.SchoolID, governance.PersonAdvisoryContact, "", e.Personal)
	case governance.PersonDetailsAmended:
		change(e.PersonID, func(p *personRec) { p.Sealed = e.Personal.Sealed })
	case governance.PersonLeftSchool:
		change(e.PersonID, func(p *personRec) { p.LeftOn = governance.Date(e.LeftOn) })
	}
	return nil
}

// MarshalState implements projections.Projection.
// A lens saves the state as of its position.
func (v *People) MarshalState() ([]byte, error) {
	if v.lensed {
		return govMarshal(v.At(v.at))
	}
	return govMarshal(v)
}

// UnmarshalState implements projections.Projection.
func (v *People) UnmarshalState(b []byte) error {
	*v = People{}
	if err := govUnmarshal(b, v); err != nil {
		return err
	}
	if v.P == nil {
		v.P = map[uuid.UUID]history[personRec]{}
	}
	return nil
}

func (v *People) person(keys domain.Keyring, id uuid.UUID, r personRec) Person {
	name, erased := openName(keys, id, r.Sealed)
	return Person{ID: id, Name: name, Erased: erased, Kind: r.Kind, StaffKind: r.StaffKind, SchoolID: r.SchoolID,
		Since: r.Since, LeftSchool: !r.LeftOn.IsZero(), LeftOn: r.LeftOn}
}

// NameOf returns the display name of id opened with keys: "" for an
// unknown id (or a nil keys), domain.ErasedName for an erased person.
func (v *People) NameOf(keys domain.Keyring, id uuid.UUID) string {
	r, ok := v.record(id)
	if !ok {
		return ""
	}
	name, _ := openName(keys, id, r.Sealed)
	return name
}

// NameMap returns every name opened with keys, for queries after the
// read ends.
func (v *People) NameMap(keys domain.Keyring) NameMap {
	out := make(NameMap, len(v.P))
	v.each(func(id uuid.UUID, r personRec) {
		out[id], _ = openName(keys, id, r.Sealed)
	})
	return out
}

// Person returns the person id, their name opened with keys.
func (v *People) Person(keys domain.Keyring, id uuid.UUID) (Person, bool) {
	r, ok := v.record(id)
	if !ok {
		return Person{}, false
	}
	return v.person(keys, id, r), true
}

// PeopleOf returns the people of school (every school for uuid.Nil),
// names opened with keys, ordered by name then id.
func (v *People) PeopleOf(keys domain.Keyring, school uuid.UUID) []Person {
	var out []Person
	v.each(func(id uuid.UUID, r personRec) {
		if school == uuid.Nil || r.SchoolID == school {
			out = append(out, v.person(keys, id, r))
		}
	})
	slices.SortFunc(out, func(a, b Person) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out
}
