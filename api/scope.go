package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// Scope checks: the route table's Roles say which roles may call a route at
// all; the helpers here say whether this caller may act on this thing.
// They answer only "who is asking" — whether the thing may happen at all is
// the domain's decision, and nothing here re-checks a domain rule.
//
// The rules:
//   - an admin acts on anything;
//   - a principal scoped to a school (its token's school, else the school of
//     the person it is bound to) acts only on that school's things;
//   - a principal scoped to a partnership acts only within it;
//   - staff (and chairs) act only in ISLCs they are members of; joining,
//     leaving and answering a nomination they may do only for themselves;
//   - chair-only actions (submitting a proposal, opening voting, closing an
//     election, confirming a roster) need the chair in office of that ISLC;
//     while an ISLC has no chair in office (its first election, or after one
//     was removed), its members may run its election;
//   - a school approves or declines only loans of its own resources;
//   - governors and auditors never write (they are not in Writers).

// caller returns the principal of an authenticated request.
func caller(r *http.Request) Principal {
	p, _ := PrincipalOf(r.Context())
	return p
}

// isAdmin reports whether p acts on anything.
func isAdmin(p Principal) bool { return p.Role == RoleAdmin }

// principalSchool returns the school p acts for: its token's school scope,
// else the school of the person it is bound to (uuid.Nil when neither is
// known, e.g. a partnership lead's token bound to no one).
func (s *Server) principalSchool(ctx context.Context, p Principal) (uuid.UUID, error) {
	if p.SchoolID != uuid.Nil {
		return p.SchoolID, nil
	}
	if p.PersonID == uuid.Nil {
		return uuid.Nil, nil
	}
	person, rev, err := domain.Load(ctx, s.L.Handler, governance.PersonStream(p.PersonID), governance.NewPerson)
	if err != nil {
		return uuid.Nil, fmt.Errorf("load the caller's record: %w", err)
	}
	if rev < 0 {
		return uuid.Nil, nil
	}
	return person.SchoolID, nil
}

// scopeSchool refuses a caller scoped to another school than school. A
// caller with no school (an unscoped director, a partnership lead) passes:
// the domain decides what they may do.
func (s *Server) scopeSchool(r *http.Request, school uuid.UUID) error {
	p := caller(r)
	if isAdmin(p) || school == uuid.Nil {
		return nil
	}
	if p.SchoolID != uuid.Nil && p.SchoolID != school {
		return forbidden("your token is for another school; you may act only on your own school's things")
	}
	return nil
}

// scopeOwnSchool requires the caller to act for school (admins excepted):
// approving or declining a loan is the owning school's.
func (s *Server) scopeOwnSchool(r *http.Request, school uuid.UUID, what string) error {
	p := caller(r)
	if isAdmin(p) {
		return nil
	}
	mine, err := s.principalSchool(r.Context(), p)
	if err != nil {
		return err
	}
	if mine == uuid.Nil || mine != school {
		return forbidden("only the school that owns it may %s", what)
	}
	return nil
}

// scopeSchoolOf requires the caller to act for one of schools (admins and
// callers not bound to a school excepted).
func (s *Server) scopeSchoolOf(r *http.Request, what string, schools ...uuid.UUID) error {
	p := caller(r)
	if isAdmin(p) {
		return nil
	}
	mine, err := s.principalSchool(r.Context(), p)
	if err != nil {
		return err
	}
	if mine == uuid.Nil {
		return nil
	}
	for _, sc := range schools {
		if sc == mine {
			return nil
		}
	}
	return forbidden("only the schools concerned may %s", what)
}

// scopePartnership refuses a caller scoped to another partnership.
func scopePartnership(r *http.Request, pid uuid.UUID) error {
	p := caller(r)
	if isAdmin(p) || pid == uuid.Nil {
		return nil
	}
	if p.PartnershipID != uuid.Nil && p.PartnershipID != pid {
		return forbidden("your token is for another partnership")
	}
	return nil
}

// scopeLead requires the partnership's lead (or an admin) for
// partnership-level decisions when the caller's role is partnership lead;
// other roles allowed on the route pass to the domain.
func (s *Server) scopeLead(r *http.Request, pid uuid.UUID) error {
	if err := scopePartnership(r, pid); err != nil {
		return err
	}
	p := caller(r)
	if p.Role != RolePartnershipLead {
		return nil
	}
	part, rev, err := domain.Load(r.Context(), s.L.Handler, partnership.PartnershipStream(pid), partnership.NewPartnership)
	if err != nil {
		return fmt.Errorf("load partnership %s: %w", pid, err)
	}
	if rev < 0 {
		return nil // the domain says it does not exist
	}
	if part.LeadID != uuid.Nil && part.LeadID != p.PersonID {
		return forbidden("only the partnership's lead may do this")
	}
	return nil
}

// loadCommunity returns community id and its revision (-1: none).
func (s *Server) loadCommunity(ctx context.Context, id uuid.UUID) (*governance.Community, int64, error) {
	c, rev, err := domain.Load(ctx, s.L.Handler, governance.CommunityStream(id), governance.NewCommunity)
	if err != nil {
		return nil, 0, fmt.Errorf("load ISLC %s: %w", id, err)
	}
	return c, rev, nil
}

// memberOfAnyYear reports whether person is an active member of c in any
// year.
func memberOfAnyYear(c *governance.Community, person uuid.UUID) bool {
	for _, m := range c.Memberships {
		if m.PersonID == person && c.IsMember(person, m.Year) {
			return true
		}
	}
	return false
}

// chairInAnyYear reports whether person is c's chair in office in some year,
// and whether c has a chair in office at all.
func chairInAnyYear(c *governance.Community, person uuid.UUID) (isChair, anyChair bool) {
	for _, t := range c.Chairs {
		if t.InOffice() {
			anyChair = true
			if t.ChairID == person {
				isChair = true
			}
		}
	}
	return isChair, anyChair
}

// isStaffish reports whether p is staff or a chair (a staff member in office).
func isStaffish(p Principal) bool { return p.Role == RoleStaff || p.Role == RoleChair }

// scopeCommunity checks that the caller may act in community id: its school
// for school-scoped callers, and membership for staff and chairs. self is
// the person the action is for (uuid.Nil: none); staff acting for
// themselves need not be members yet (joining). A community that does not
// exist passes, so that the domain answers 404.
func (s *Server) scopeCommunity(r *http.Request, id, self uuid.UUID) (*governance.Community, error) {
	c, rev, err := s.loadCommunity(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if rev < 0 {
		return c, nil
	}
	if err := s.scopeSchool(r, c.SchoolID); err != nil {
		return nil, err
	}
	p := caller(r)
	if !isStaffish(p) {
		return c, nil
	}
	if self != uuid.Nil && self == p.PersonID {
		return c, nil
	}
	if !memberOfAnyYear(c, p.PersonID) {
		return nil, forbidden("staff act only in their own ISLCs; you are not a member of this one")
	}
	return c, nil
}

// scopeSelf refuses staff acting for someone else (joining, leaving,
// answering a nomination for another person).
func scopeSelf(r *http.Request, person uuid.UUID, what string) error {
	p := caller(r)
	if isStaffish(p) && person != uuid.Nil && person != p.PersonID {
		return forbidden("staff may %s only for themselves", what)
	}
	return nil
}

// scopeChair checks a chair-only action in community id: staff and chairs
// must be its chair in office, except that while it has no chair in office
// its members may run its election (allowWhenVacant). Directors and admins
// pass (the Director leads the school's Leadership Team); the domain rules
// on the rest.
func (s *Server) scopeChair(r *http.Request, id uuid.UUID, allowWhenVacant bool) error {
	c, err := s.scopeCommunity(r, id, uuid.Nil)
	if err != nil {
		return err
	}
	p := caller(r)
	if !isStaffish(p) || !c.Established() {
		return nil
	}
	isChair, anyChair := chairInAnyYear(c, p.PersonID)
	if isChair || (allowWhenVacant && !anyChair) {
		return nil
	}
	return forbidden("only the ISLC's chair in office may do this")
}

// scopeLoan checks an action on a resource's loan: the caller's
// partnership scope, and for the owning school's decisions (owner true)
// that the caller acts for the owning school; otherwise that they act for
// the owner or the borrower.
func (s *Server) scopeLoan(r *http.Request, resourceID, loanID uuid.UUID, owner bool, what string) error {
	res, rev, err := domain.Load(r.Context(), s.L.Handler, partnership.ResourceStream(resourceID), partnership.NewResource)
	if err != nil {
		return fmt.Errorf("load resource %s: %w", resourceID, err)
	}
	if rev < 0 {
		return nil
	}
	if err := scopePartnership(r, res.PartnershipID); err != nil {
		return err
	}
	if owner {
		return s.scopeOwnSchool(r, res.OwnerSchoolID, what)
	}
	schools := []uuid.UUID{res.OwnerSchoolID}
	if l, ok := res.Loan(loanID); ok {
		schools = append(schools, l.BorrowerSchoolID)
	}
	return s.scopeSchoolOf(r, what, schools...)
}
