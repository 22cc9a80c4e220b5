package governance

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// EstablishCommunity establishes the ISLC of a school segment. Its id is
// CommunityID(SchoolID, SegmentID).
type EstablishCommunity struct {
	SchoolID  uuid.UUID `json:"school_id"`
	SegmentID uuid.UUID `json:"segment_id"`
}

// EstablishCommunity records CommunityEstablished, named after the
// segment. Returns ErrUnknownSegment, or domain.ErrAlreadyExists if the
// segment has its ISLC.
func (s *Service) EstablishCommunity(ctx context.Context, meta domain.Meta, cmd EstablishCommunity) (domain.Result, error) {
	if err := firstErr(required("school_id", cmd.SchoolID, "the school"), required("segment_id", cmd.SegmentID, "the segment")); err != nil {
		return domain.Result{}, err
	}
	sc, err := s.school(ctx, "school_id", cmd.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	g, ok := sc.Segment(cmd.SegmentID)
	if !ok {
		return domain.Result{}, domain.RejectField(ErrUnknownSegment, "segment_id", "%s has no segment %s", sc.Name, cmd.SegmentID)
	}
	id := CommunityID(sc.ID, g.ID)
	return run(ctx, s, CommunityStream(id), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if c.Established() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "segment_id", "the %s segment already has its ISLC, %q", g.Name, c.Name)
		}
		return events(CommunityEstablished{CommunityID: id, SchoolID: sc.ID, SegmentID: g.ID, Name: g.Name}), nil
	})
}

// JoinCommunity makes a staff member a member of an ISLC for an academic
// year.
type JoinCommunity struct {
	CommunityID uuid.UUID `json:"community_id"`
	PersonID    uuid.UUID `json:"person_id"`
	Year        string    `json:"year"`
	// Basis is interest, strengths, or both.
	Basis []string `json:"basis"`
	// EffectiveFrom is the day the membership starts; it defaults to
	// meta.EffectiveAt, else today (or the year's first day if the year
	// has not started). It must fall within the year.
	EffectiveFrom time.Time `json:"effective_from,omitzero"`
}

func validBasis(basis []string) ([]string, error) {
	if len(basis) == 0 {
		return nil, domain.RejectField(domain.ErrRequired, "basis", "say what the place is based on: interest, strengths, or both")
	}
	var out []string
	for _, b := range []string{BasisInterest, BasisStrengths} {
		if slices.Contains(basis, b) {
			out = append(out, b)
		}
	}
	for _, b := range basis {
		if b != BasisInterest && b != BasisStrengths {
			return nil, domain.RejectField(domain.ErrInvalidValue, "basis", "%q is not a basis for joining; use interest and/or strengths", b)
		}
	}
	return out, nil
}

// JoinCommunity records MemberJoined, carrying the day the membership takes
// effect (also set as meta.EffectiveAt when it is before today).
// Returns ErrAlreadyMember, ErrNotStaff, ErrPersonLeft, ErrYearNotOpen, or
// ErrOutsideYear for a start outside the year.
func (s *Service) JoinCommunity(ctx context.Context, meta domain.Meta, cmd JoinCommunity) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("person_id", cmd.PersonID, "the staff member"),
		validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	basis, err := validBasis(cmd.Basis)
	if err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "community_id", cmd.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	sc, err := s.school(ctx, "community_id", c.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	y, err := openYear(sc, "year", cmd.Year)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := s.staff(ctx, "person_id", cmd.PersonID, c.SchoolID); err != nil {
		return domain.Result{}, err
	}
	from := cmd.EffectiveFrom
	if from.IsZero() {
		from = meta.EffectiveAt
	}
	if from.IsZero() {
		from = s.today()
		if from.Before(y.StartsOn) {
			from = y.StartsOn
		}
	}
	from = Date(from)
	if err := inYear("effective_from", y, from); err != nil {
		return domain.Result{}, err
	}
	// A membership recorded after it started takes effect from its first
	// day; one that starts later (next September) is recorded now and
	// carries its first day in effective_from.
	if meta.EffectiveAt.IsZero() && from.Before(s.today()) {
		meta.EffectiveAt = from
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if c.IsMember(cmd.PersonID, cmd.Year) {
			return nil, domain.RejectField(ErrAlreadyMember, "person_id", "person %s is already a member of the %s ISLC for %s", cmd.PersonID, c.Name, cmd.Year)
		}
		return events(MemberJoined{CommunityID: c.ID, SchoolID: c.SchoolID, PersonID: cmd.PersonID, Year: cmd.Year, Basis: basis,
			EffectiveFrom: from, TermEndsOn: y.EndsOn}), nil
	})
}

// LeaveCommunity ends a membership of an ISLC.
type LeaveCommunity struct {
	CommunityID uuid.UUID `json:"community_id"`
	PersonID    uuid.UUID `json:"person_id"`
	Year        string    `json:"year"`
	// LeftOn is the last day (default: meta.EffectiveAt, else today).
	LeftOn time.Time `json:"left_on,omitzero"`
	// Exception is required to leave before the year ends: left_school,
	// long_term_absence or director_approved (recorded by the Director, who
	// is then the one approving).
	Exception string `json:"exception,omitempty"`
}

// LeaveCommunity records MemberLeft; if the member is the chair in office
// it also records ChairVacated, and if they stand in a running election,
// CandidateWithdrawn. The membership stays in the history. Returns
// ErrNotAMember, ErrMinimumTermNotServed for an early leaving without a
// valid exception (left_school needs the person's leaving of the school
// recorded first), ErrNotDirector when director_approved is recorded by
// someone other than the school's Director, domain.ErrFutureDate for a day
// not come yet, ErrOutsideYear for a day after the membership's year.
func (s *Service) LeaveCommunity(ctx context.Context, meta domain.Meta, cmd LeaveCommunity) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("person_id", cmd.PersonID, "the member"),
		validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	switch cmd.Exception {
	case "", ExceptionLeftSchool, ExceptionLongTermAbsence, ExceptionDirectorApproved:
	default:
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "exception", "%q is not an exception; use left_school, long_term_absence or director_approved", cmd.Exception)
	}
	left, err := s.dayOf("left_on", cmd.LeftOn, meta)
	if err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "community_id", cmd.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	m, ok := c.MembershipOf(cmd.PersonID, cmd.Year)
	if !ok || !m.Active() {
		return domain.Result{}, domain.RejectField(ErrNotAMember, "person_id", "person %s is not a member of the %s ISLC for %s", cmd.PersonID, c.Name, cmd.Year)
	}
	exception, approvedBy := "", uuid.Nil
	if left.Before(m.TermEndsOn) {
		exception = cmd.Exception
		switch exception {
		case "":
			return domain.Result{}, domain.RejectField(ErrMinimumTermNotServed, "exception", "the membership of %s runs to %s; leaving on %s needs an exception (left_school, long_term_absence or director_approved)",
				cmd.Year, m.TermEndsOn.Format(time.DateOnly), left.Format(time.DateOnly))
		case ExceptionLeftSchool:
			p, err := s.person(ctx, "person_id", cmd.PersonID)
			if err != nil {
				return domain.Result{}, err
			}
			if !p.Left() {
				return domain.Result{}, domain.RejectField(ErrMinimumTermNotServed, "exception", "person %s has not left the school; record their leaving of the school first, or give another exception", cmd.PersonID)
			}
		case ExceptionDirectorApproved:
			sc, err := s.school(ctx, "community_id", c.SchoolID)
			if err != nil {
				return domain.Result{}, err
			}
			by, err := uuid.Parse(meta.ActorID)
			if err != nil || by == uuid.Nil || sc.DirectorID != by {
				return domain.Result{}, domain.RejectField(ErrNotDirector, "exception", "only the Director of %s approves an early leaving; the Director records it", sc.Name)
			}
			approvedBy = by
		}
	}
	if left.Before(m.EffectiveFrom) {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "left_on", "the membership started on %s; a member cannot leave before that", m.EffectiveFrom.Format(time.DateOnly))
	}
	if left.After(m.TermEndsOn) {
		return domain.Result{}, domain.RejectField(ErrOutsideYear, "left_on", "the membership of %s ended with its year on %s; a leaving on %s is outside that year",
			cmd.Year, m.TermEndsOn.Format(time.DateOnly), left.Format(time.DateOnly))
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if !c.IsMember(cmd.PersonID, cmd.Year) {
			return nil, domain.RejectField(ErrNotAMember, "person_id", "person %s is not a member of the %s ISLC for %s", cmd.PersonID, c.Name, cmd.Year)
		}
		out := events(MemberLeft{CommunityID: c.ID, SchoolID: c.SchoolID, PersonID: cmd.PersonID, Year: cmd.Year, LeftOn: left,
			Exception: exception, ApprovedBy: approvedBy})
		return append(out, vacating(c, cmd.PersonID, cmd.Year, ReasonLeftCommunity)...), nil
	})
}

// ConfirmRoster confirms an ISLC's roster for a year.
type ConfirmRoster struct {
	CommunityID uuid.UUID `json:"community_id"`
	Year        string    `json:"year"`
}

// ConfirmRoster records RosterConfirmed with the year's members and those
// continuing from the previous year (nothing if confirmed unchanged).
// Returns ErrEmptyRoster without members, ErrNoContinuity if the ISLC had
// members the previous year and none of them is in the roster.
func (s *Service) ConfirmRoster(ctx context.Context, meta domain.Meta, cmd ConfirmRoster) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	prev := PreviousYear(cmd.Year)
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if !c.Established() {
			return nil, domain.RejectField(domain.ErrNotFound, "community_id", "no ISLC %s is established", cmd.CommunityID)
		}
		members := c.Members(cmd.Year)
		if len(members) == 0 {
			return nil, domain.RejectField(ErrEmptyRoster, "year", "the %s ISLC has no members for %s; members join before the roster is confirmed", c.Name, cmd.Year)
		}
		continuing := ContinuityMembers(c, cmd.Year)
		if len(c.Members(prev)) > 0 && len(continuing) == 0 {
			return nil, domain.RejectField(ErrNoContinuity, "year", "none of the %d members of the %s ISLC in %s is a member in %s; keep at least one of them",
				len(c.Members(prev)), c.Name, prev, cmd.Year)
		}
		if r, ok := c.Rosters[cmd.Year]; ok && slices.Equal(r.Members, members) {
			return nil, nil
		}
		if continuing == nil {
			continuing = []uuid.UUID{}
		}
		return events(RosterConfirmed{CommunityID: c.ID, SchoolID: c.SchoolID, Year: cmd.Year, Members: members, PreviousYear: prev, Continuing: continuing}), nil
	})
}

// LinkGovernor links a governor to an ISLC for oversight.
type LinkGovernor struct {
	CommunityID uuid.UUID `json:"community_id"`
	GovernorID  uuid.UUID `json:"governor_id"`
}

// LinkGovernor records GovernorLinked (nothing if already linked).
// Returns ErrNotGovernor unless the person is a governor of the ISLC's
// school, ErrPersonLeft if they have left.
func (s *Service) LinkGovernor(ctx context.Context, meta domain.Meta, cmd LinkGovernor) (domain.Result, error) {
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("governor_id", cmd.GovernorID, "the governor")); err != nil {
		return domain.Result{}, err
	}
	c, err := s.community(ctx, "community_id", cmd.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	g, err := s.person(ctx, "governor_id", cmd.GovernorID)
	if err != nil {
		return domain.Result{}, err
	}
	if g.Kind != PersonGovernor || g.SchoolID != c.SchoolID {
		return domain.Result{}, domain.RejectField(ErrNotGovernor, "governor_id", "person %s is not registered as a governor of this school", g.ID)
	}
	if g.Left() {
		return domain.Result{}, domain.RejectField(ErrPersonLeft, "governor_id", "governor %s left on %s", g.ID, g.LeftOn.Format(time.DateOnly))
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if c.GovernorID == g.ID {
			return nil, nil
		}
		return events(GovernorLinked{CommunityID: c.ID, SchoolID: c.SchoolID, GovernorID: g.ID, PreviousID: c.GovernorID}), nil
	})
}

// LinkAdvisoryGroup links a student or parent advisory group to an ISLC.
type LinkAdvisoryGroup struct {
	CommunityID uuid.UUID `json:"community_id"`
	GroupID     uuid.UUID `json:"group_id"`
	// Name names the group, never a pupil: "Year 9 student council".
	Name string `json:"name"`
	// Kind is students, parents or students_and_parents.
	Kind string `json:"kind"`
	// Contacts are registered advisory contacts of the school.
	Contacts []uuid.UUID `json:"contacts"`
}

// LinkAdvisoryGroup records AdvisoryGroupLinked. Returns
// ErrNotAdvisoryContact for a contact not registered as one at the school,
// domain.ErrAlreadyExists if the group is linked.
func (s *Service) LinkAdvisoryGroup(ctx context.Context, meta domain.Meta, cmd LinkAdvisoryGroup) (domain.Result, error) {
	name := strings.TrimSpace(cmd.Name)
	if err := firstErr(required("community_id", cmd.CommunityID, "the ISLC"), required("group_id", cmd.GroupID, "the advisory group"),
		requiredText("name", name, "the group's name, e.g. Year 9 student council")); err != nil {
		return domain.Result{}, err
	}
	switch cmd.Kind {
	case AdvisoryStudents, AdvisoryParents, AdvisoryStudentsAndParents:
	default:
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of advisory group; use students, parents or students_and_parents", cmd.Kind)
	}
	if len(cmd.Contacts) == 0 {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "contacts", "name at least one adult contact of the group")
	}
	c, err := s.community(ctx, "community_id", cmd.CommunityID)
	if err != nil {
		return domain.Result{}, err
	}
	contacts := slices.Compact(slices.Clone(cmd.Contacts))
	for _, id := range contacts {
		p, err := s.person(ctx, "contacts", id)
		if err != nil {
			return domain.Result{}, err
		}
		if p.Kind != PersonAdvisoryContact || p.SchoolID != c.SchoolID || p.Left() {
			return domain.Result{}, domain.RejectField(ErrNotAdvisoryContact, "contacts", "person %s is not registered as an advisory contact of this school", id)
		}
	}
	return run(ctx, s, CommunityStream(cmd.CommunityID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
		if g, ok := c.AdvisoryGroup(cmd.GroupID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "group_id", "the group %q is already linked to the %s ISLC", g.Name, c.Name)
		}
		return events(AdvisoryGroupLinked{CommunityID: c.ID, SchoolID: c.SchoolID, GroupID: cmd.GroupID, Name: name, Kind: cmd.Kind, Contacts: contacts}), nil
	})
}
