package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// Visibility is what an actor may read, worked out from the policies
// "ReadSchool", "ReadPartnership" and "ReadContacts" for every school and
// partnership they stand in some relation to. Lists filter by it; a read
// of one record asks Authorize instead.
type Visibility struct {
	// Admin is the system administrator, who reads the list of schools and
	// people's names (to issue tokens), and nothing of their records.
	Admin bool
	// Person is the person reading (zero for the administrator).
	Person uuid.UUID
	// Schools are the schools whose own records the actor reads.
	Schools map[uuid.UUID]bool
	// Partnerships are the partnerships whose records the actor reads.
	Partnerships map[uuid.UUID]bool
	// Contacts are the schools whose people's contact details the actor
	// reads (the Director's own school).
	Contacts map[uuid.UUID]bool
}

// ReadsSchool reports whether the actor reads school's own records.
func (v Visibility) ReadsSchool(school uuid.UUID) bool { return v.Schools[school] }

// ReadsPartnership reports whether the actor reads the partnership's
// records.
func (v Visibility) ReadsPartnership(pid uuid.UUID) bool { return v.Partnerships[pid] }

// SeesContacts reports whether the actor reads the contact details of
// person, of school: themselves, or their Director.
func (v Visibility) SeesContacts(person, school uuid.UUID) bool {
	return (person != uuid.Nil && person == v.Person) || v.Contacts[school]
}

// Visibility works out what actor may read now.
func (a *App) Visibility(ctx context.Context, actor Actor) (Visibility, error) {
	v := Visibility{Admin: actor.IsAdmin(), Schools: map[uuid.UUID]bool{}, Partnerships: map[uuid.UUID]bool{}, Contacts: map[uuid.UUID]bool{}}
	if actor.Kind != KindPerson {
		return v, nil
	}
	v.Person = actor.PersonID
	r := a.rights(ctx, actor)
	self, err := r.self()
	if err != nil || self == nil {
		return v, err
	}
	candidates := map[uuid.UUID]bool{}
	if self.SchoolID != uuid.Nil {
		candidates[self.SchoolID] = true
	}
	pids, err := a.partnershipIDs(ctx)
	if err != nil {
		return v, err
	}
	check := func(name string, t Target) (bool, error) {
		p := Policies[name]
		for _, rel := range p.Who {
			ok, err := r.holds(rel, t)
			if ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	}
	for _, pid := range pids {
		ok, err := check("ReadPartnership", Target{Partnership: pid})
		if err != nil {
			return v, err
		}
		if ok {
			v.Partnerships[pid] = true
		}
		part, err := r.partnership(pid)
		if err != nil {
			return v, err
		}
		if part.HasAuditor(self.ID) {
			for _, m := range part.Memberships {
				candidates[m.SchoolID] = true
			}
		}
	}
	for school := range candidates {
		ok, err := check("ReadSchool", Target{School: school})
		if err != nil {
			return v, err
		}
		if ok {
			v.Schools[school] = true
		}
		if ok, err := r.directorOf(school); err != nil {
			return v, err
		} else if ok {
			v.Contacts[school] = true
		}
	}
	return v, nil
}

// SchoolOfPerson returns the school person belongs to (uuid.Nil for
// someone of no school, or unknown).
func (a *App) SchoolOfPerson(ctx context.Context, person uuid.UUID) (uuid.UUID, error) {
	p, _, err := domain.PeekSealed(ctx, a.L.Handler, governance.PersonStream(person), governance.NewPerson)
	if err != nil {
		return uuid.Nil, fmt.Errorf("load person %s: %w", person, err)
	}
	return p.SchoolID, nil
}

// Standing is who the actor is, as the ledger says now: for the pages'
// header ("Director of Oakfield Primary") and to offer forms only to those
// who record anything.
type Standing struct {
	// Label says it in words.
	Label string
	// School is the person's own school (zero for none, or after leaving).
	School uuid.UUID
	// Records is false for those who read and record nothing but
	// challenges: governors, auditors, people who left, the administrator
	// (whose operations are not on the pages).
	Records bool
	// Governor is a governor who has not left: they raise challenges.
	Governor bool
	// Director is the Director of School: they answer challenges.
	Director bool
}

// Standing works out actor's standing now.
func (a *App) Standing(ctx context.Context, actor Actor) (Standing, error) {
	if actor.IsAdmin() {
		return Standing{Label: "system administrator"}, nil
	}
	if actor.Kind != KindPerson {
		return Standing{Label: "not signed in"}, nil
	}
	r := a.rights(ctx, actor)
	p, err := r.self()
	if err != nil {
		return Standing{}, err
	}
	if p == nil {
		return Standing{Label: "a person the ledger does not know"}, nil
	}
	st := Standing{}
	school := ""
	if p.SchoolID != uuid.Nil {
		s, err := r.school(p.SchoolID)
		if err != nil {
			return st, err
		}
		school = s.Name
		if !p.Left() {
			st.School = p.SchoolID
		}
	}
	switch {
	case p.Left():
		st.Label = "left " + school
	case p.Kind == governance.PersonStaff:
		st.Records = true
		st.Label = "staff of " + school
		if ok, err := r.directorOf(p.SchoolID); err != nil {
			return st, err
		} else if ok {
			st.Label, st.Director = "Director of "+school, true
		}
	case p.Kind == governance.PersonGovernor:
		st.Label, st.Governor = "governor of "+school, true
	case p.Kind == governance.PersonAdvisoryContact:
		st.Records = true
		st.Label = "advisory-group contact at " + school
	case p.Kind == governance.PersonAuditor:
		st.Label = "auditor"
	}
	pids, err := a.partnershipIDs(ctx)
	if err != nil {
		return st, err
	}
	for _, pid := range pids {
		part, err := r.partnership(pid)
		if err != nil {
			return st, err
		}
		if part.LeadID == p.ID {
			st.Records = true
			st.Label += "; lead of " + part.Name
		}
		if part.HasAuditor(p.ID) {
			st.Label += " of " + part.Name
		}
	}
	return st, nil
}
