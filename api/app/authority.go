package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// Relation is how an actor stands to the target of a use case, as the
// ledger says at the moment of asking. A policy grants a use case to
// actors in one of its relations.
type Relation string

// The relations. "The school" is the target's school, "the ISLC" its
// community, "the partnership" its partnership, "a party school" one of
// the schools party to it (a loan's owner and borrower, a secondment's
// lending and receiving schools, a CPD event's organiser and booking
// school).
const (
	// RelAdmin is the system administrator.
	RelAdmin Relation = "admin"
	// RelAdminOfNewSchool is the system administrator while the school has
	// no Director: they register its first one.
	RelAdminOfNewSchool Relation = "admin_of_new_school"
	// RelDirector is the Director of the school.
	RelDirector Relation = "director"
	// RelStaff is a staff member of the school who has not left (the
	// Director included).
	RelStaff Relation = "staff"
	// RelGovernor is a governor of the school who has not left.
	RelGovernor Relation = "governor"
	// RelAdvisoryContact is an advisory-group contact of the school.
	RelAdvisoryContact Relation = "advisory_contact"
	// RelChair is the chair in office of the ISLC.
	RelChair Relation = "chair"
	// RelMemberWhileVacant is a member of the ISLC while it has no chair
	// in office (its first election, or after a chair was removed).
	RelMemberWhileVacant Relation = "member_while_vacant"
	// RelMember is a member of the ISLC (in any year still open to them).
	RelMember Relation = "member"
	// RelSelf is the person the command is about, acting for themselves.
	RelSelf Relation = "self"
	// RelLead is the partnership's lead.
	RelLead Relation = "lead"
	// RelAuditor is an auditor appointed to the partnership.
	RelAuditor Relation = "auditor"
	// RelPartnerStaff is staff of a current member school of the
	// partnership.
	RelPartnerStaff Relation = "partner_staff"
	// RelPartnerDirector is the Director of a current member school of
	// the partnership.
	RelPartnerDirector Relation = "partner_director"
	// RelPartnerGovernor is a governor of a current member school.
	RelPartnerGovernor Relation = "partner_governor"
	// RelPartyStaff is staff of a party school.
	RelPartyStaff Relation = "party_staff"
	// RelPartyDirector is the Director of a party school.
	RelPartyDirector Relation = "party_director"
	// RelSchoolAuditor is an auditor appointed to a partnership the school
	// is (or was) a member of.
	RelSchoolAuditor Relation = "school_auditor"
)

// role is the role recorded in the events' metadata for an actor granted a
// use case through rel.
func (rel Relation) role() string {
	switch rel {
	case RelAdmin, RelAdminOfNewSchool:
		return domain.RoleAdmin
	case RelDirector, RelPartnerDirector, RelPartyDirector:
		return domain.RoleDirector
	case RelChair:
		return domain.RoleChair
	case RelGovernor, RelPartnerGovernor:
		return domain.RoleGovernor
	case RelLead:
		return domain.RolePartnershipLead
	case RelAuditor, RelSchoolAuditor:
		return domain.RoleAuditor
	default:
		return domain.RoleStaff
	}
}

// Target is what a use case is about: the school, ISLC, partnership and
// party schools its rights are checked against, and the person it
// concerns. Zero fields are not part of the target.
type Target struct {
	School      uuid.UUID
	Community   uuid.UUID
	Partnership uuid.UUID
	Parties     []uuid.UUID
	Subject     uuid.UUID
}

// rights answers, for one actor and one use case, whether a relation
// holds. It loads each aggregate it needs once, from the log as recorded
// (not from the projections, which may lag a moment), so rights are those
// at the moment of the command.
type rights struct {
	app   *App
	ctx   context.Context
	actor Actor

	person       *governance.Person
	schools      map[uuid.UUID]*governance.School
	communities  map[uuid.UUID]*governance.Community
	partnerships map[uuid.UUID]*partnership.Partnership
}

func (a *App) rights(ctx context.Context, actor Actor) *rights {
	return &rights{app: a, ctx: ctx, actor: actor, schools: map[uuid.UUID]*governance.School{},
		communities: map[uuid.UUID]*governance.Community{}, partnerships: map[uuid.UUID]*partnership.Partnership{}}
}

// self returns the acting person's record (nil for the administrator or
// an unknown person).
func (r *rights) self() (*governance.Person, error) {
	if r.actor.Kind != KindPerson || r.actor.PersonID == uuid.Nil {
		return nil, nil
	}
	if r.person == nil {
		p, _, err := domain.PeekSealed(r.ctx, r.app.L.Handler, governance.PersonStream(r.actor.PersonID), governance.NewPerson)
		if err != nil {
			return nil, fmt.Errorf("load the acting person %s: %w", r.actor.PersonID, err)
		}
		r.person = p
	}
	if !r.person.Registered() {
		return nil, nil
	}
	return r.person, nil
}

func (r *rights) school(id uuid.UUID) (*governance.School, error) {
	if s, ok := r.schools[id]; ok {
		return s, nil
	}
	s, _, err := domain.Peek(r.ctx, r.app.L.Handler, governance.SchoolStream(id), governance.NewSchool)
	if err != nil {
		return nil, fmt.Errorf("load school %s: %w", id, err)
	}
	r.schools[id] = s
	return s, nil
}

func (r *rights) community(id uuid.UUID) (*governance.Community, error) {
	if c, ok := r.communities[id]; ok {
		return c, nil
	}
	c, _, err := domain.Peek(r.ctx, r.app.L.Handler, governance.CommunityStream(id), governance.NewCommunity)
	if err != nil {
		return nil, fmt.Errorf("load ISLC %s: %w", id, err)
	}
	r.communities[id] = c
	return c, nil
}

func (r *rights) partnership(id uuid.UUID) (*partnership.Partnership, error) {
	if p, ok := r.partnerships[id]; ok {
		return p, nil
	}
	p, _, err := domain.Peek(r.ctx, r.app.L.Handler, partnership.PartnershipStream(id), partnership.NewPartnership)
	if err != nil {
		return nil, fmt.Errorf("load partnership %s: %w", id, err)
	}
	r.partnerships[id] = p
	return p, nil
}

// staffOf reports whether the actor is staff of school (and has not left).
func (r *rights) staffOf(school uuid.UUID) (bool, error) {
	p, err := r.self()
	if err != nil || p == nil || school == uuid.Nil {
		return false, err
	}
	return p.IsStaffOf(school), nil
}

// directorOf reports whether the actor is the Director of school.
func (r *rights) directorOf(school uuid.UUID) (bool, error) {
	p, err := r.self()
	if err != nil || p == nil || school == uuid.Nil || p.Left() {
		return false, err
	}
	s, err := r.school(school)
	if err != nil {
		return false, err
	}
	return s.Registered() && s.DirectorID == p.ID, nil
}

// kindOf reports whether the actor is a person of kind at school who has
// not left.
func (r *rights) kindOf(kind string, school uuid.UUID) (bool, error) {
	p, err := r.self()
	if err != nil || p == nil || school == uuid.Nil {
		return false, err
	}
	return p.Kind == kind && p.SchoolID == school && !p.Left(), nil
}

// member reports whether the actor is an active member of the ISLC in
// some year, and whether it has a chair in office.
func (r *rights) member(community uuid.UUID) (isMember, isChair, anyChair bool, err error) {
	p, err := r.self()
	if err != nil || p == nil || community == uuid.Nil {
		return false, false, false, err
	}
	c, err := r.community(community)
	if err != nil || !c.Established() {
		return false, false, false, err
	}
	for _, m := range c.Memberships {
		if m.PersonID == p.ID && c.IsMember(p.ID, m.Year) {
			isMember = true
		}
	}
	for _, t := range c.Chairs {
		if t.InOffice() {
			anyChair = true
			if t.ChairID == p.ID {
				isChair = true
			}
		}
	}
	return isMember, isChair, anyChair, nil
}

// inPartnership reports whether fn holds for a current member school of
// the partnership.
func (r *rights) inPartnership(pid uuid.UUID, fn func(school uuid.UUID) (bool, error)) (bool, error) {
	if pid == uuid.Nil {
		return false, nil
	}
	p, err := r.partnership(pid)
	if err != nil || !p.Formed() {
		return false, err
	}
	for _, s := range p.MemberSchools() {
		ok, err := fn(s)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func anyOf(schools []uuid.UUID, fn func(uuid.UUID) (bool, error)) (bool, error) {
	for _, s := range schools {
		ok, err := fn(s)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// holds reports whether rel holds between the actor and t.
func (r *rights) holds(rel Relation, t Target) (bool, error) {
	if rel == RelAdmin {
		return r.actor.IsAdmin(), nil
	}
	if rel == RelAdminOfNewSchool {
		return r.holdsAdminOfNewSchool(t)
	}
	if r.actor.Kind != KindPerson {
		return false, nil
	}
	switch rel {
	case RelDirector:
		return r.directorOf(t.School)
	case RelStaff:
		return r.staffOf(t.School)
	case RelGovernor:
		return r.kindOf(governance.PersonGovernor, t.School)
	case RelAdvisoryContact:
		return r.kindOf(governance.PersonAdvisoryContact, t.School)
	case RelChair:
		_, chair, _, err := r.member(t.Community)
		return chair, err
	case RelMember:
		m, _, _, err := r.member(t.Community)
		return m, err
	case RelMemberWhileVacant:
		m, _, any, err := r.member(t.Community)
		return m && !any, err
	case RelSelf:
		p, err := r.self()
		return err == nil && p != nil && !p.Left() && t.Subject != uuid.Nil && t.Subject == p.ID, err

	case RelLead:
		p, err := r.self()
		if err != nil || p == nil || t.Partnership == uuid.Nil {
			return false, err
		}
		part, err := r.partnership(t.Partnership)
		return err == nil && part.Formed() && part.LeadID == p.ID, err
	case RelAuditor:
		return r.auditorOf(t.Partnership)
	case RelSchoolAuditor:
		return r.schoolAuditor(t)
	case RelPartnerStaff:
		return r.inPartnership(t.Partnership, r.staffOf)
	case RelPartnerDirector:
		return r.inPartnership(t.Partnership, r.directorOf)
	case RelPartnerGovernor:
		return r.inPartnership(t.Partnership, func(s uuid.UUID) (bool, error) { return r.kindOf(governance.PersonGovernor, s) })
	case RelPartyStaff:
		return anyOf(t.Parties, r.staffOf)
	case RelPartyDirector:
		return anyOf(t.Parties, r.directorOf)
	}
	return false, fmt.Errorf("app: unknown relation %q", rel)
}

// holdsAdminOfNewSchool reports whether the actor is the administrator
// and the target school has no Director yet.
func (r *rights) holdsAdminOfNewSchool(t Target) (bool, error) {
	if !r.actor.IsAdmin() || t.School == uuid.Nil {
		return false, nil
	}
	s, err := r.school(t.School)
	return err == nil && s.Registered() && s.DirectorID == uuid.Nil, err
}

func (r *rights) auditorOf(pid uuid.UUID) (bool, error) {
	p, err := r.self()
	if err != nil || p == nil || pid == uuid.Nil || p.Kind != governance.PersonAuditor {
		return false, err
	}
	part, err := r.partnership(pid)
	return err == nil && part.HasAuditor(p.ID), err
}

// schoolAuditor reports whether the actor audits a partnership the
// target's school belongs (or belonged) to. An auditor's partnerships are
// found from the partnerships view's list of partnerships, then checked
// against the log.
func (r *rights) schoolAuditor(t Target) (bool, error) {
	p, err := r.self()
	if err != nil || p == nil || p.Kind != governance.PersonAuditor || t.School == uuid.Nil {
		return false, err
	}
	pids, err := r.app.partnershipIDs(r.ctx)
	if err != nil {
		return false, err
	}
	for _, pid := range pids {
		part, err := r.partnership(pid)
		if err != nil {
			return false, err
		}
		if part.HasAuditor(p.ID) && part.WasMember(t.School) {
			return true, nil
		}
	}
	return false, nil
}

// authorize checks that actor may run use case name on t: one of the
// policy's relations holds. It returns the relation that granted it.
// Returns a *domain.Rejection of ErrNotPermitted (403) naming who may, or
// ErrNotSignedIn for an actor of no known kind.
func (a *App) authorize(ctx context.Context, actor Actor, name string, t Target) (Relation, error) {
	p, ok := Policies[name]
	if !ok {
		return "", fmt.Errorf("app: no policy for %q", name)
	}
	if actor.Kind != KindPerson && actor.Kind != KindAdmin {
		return "", domain.Reject(ErrNotSignedIn, "sign in to %s", lowerFirst(p.Summary))
	}
	r := a.rights(ctx, actor)
	for _, rel := range p.Who {
		ok, err := r.holds(rel, t)
		if err != nil {
			return "", err
		}
		if ok {
			return rel, nil
		}
	}
	if actor.IsAdmin() {
		return "", domain.Reject(ErrNotForAdministrators, "the system administrator cannot %s: %s", lowerFirst(p.Summary), whoMay(p))
	}
	if pr, err := r.self(); err == nil && pr != nil && pr.Left() {
		return "", domain.Reject(ErrNotPermitted, "you left %s; %s", "the school", whoMay(p))
	}
	return "", domain.Reject(ErrNotPermitted, "you may not %s here: %s", lowerFirst(p.Summary), whoMay(p))
}

func whoMay(p Policy) string {
	var names []string
	for _, rel := range p.Who {
		names = append(names, relationText[rel])
	}
	if len(names) == 0 {
		return "no one may"
	}
	return "only " + joinOr(names) + " may"
}

func joinOr(xs []string) string {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " or " + xs[1]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func lowerFirst(s string) string {
	if s == "" {
		return "do this"
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// relationText names each relation in words, for refusals and the docs.
var relationText = map[Relation]string{
	RelAdmin:             "the system administrator",
	RelAdminOfNewSchool:  "the system administrator while the school has no Director",
	RelDirector:          "the school's Director",
	RelStaff:             "the school's staff",
	RelGovernor:          "the school's governors",
	RelAdvisoryContact:   "the school's advisory-group contacts",
	RelChair:             "the ISLC's chair in office",
	RelMemberWhileVacant: "the ISLC's members while it has no chair",
	RelMember:            "the ISLC's members",
	RelSelf:              "the person concerned",
	RelLead:              "the partnership's lead",
	RelAuditor:           "the partnership's appointed auditors",
	RelSchoolAuditor:     "auditors appointed to the school's partnership",
	RelPartnerStaff:      "staff of the partnership's schools",
	RelPartnerDirector:   "Directors of the partnership's schools",
	RelPartnerGovernor:   "governors of the partnership's schools",
	RelPartyStaff:        "staff of the schools concerned",
	RelPartyDirector:     "Directors of the schools concerned",
}

// RelationText returns rel in words.
func RelationText(rel Relation) string { return relationText[rel] }
