package governance

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Service runs the governance commands. Each method validates the
// command's fields, reads any other aggregate it needs for read-only
// checks, and records the events of one aggregate atomically through the
// handler (which retries on concurrent changes). Methods return a
// *domain.Rejection of one of the package's rules (or of the core rules
// domain.ErrRequired, ErrInvalidValue, ErrNotFound, ErrAlreadyExists) when
// the command is refused; nothing is recorded then.
type Service struct {
	h       *domain.Handler
	box     BallotBox
	leavers []Leavers
	loans   Loans
}

// NewService returns a Service recording through h and sealing secret
// ballots with box (a new MemoryBallotBox when box is nil).
func NewService(h *domain.Handler, box BallotBox) *Service {
	if box == nil {
		box = NewMemoryBallotBox()
	}
	return &Service{h: h, box: box}
}

// Handler returns the handler the service records through.
func (s *Service) Handler() *domain.Handler { return s.h }

func (s *Service) today() time.Time { return Date(s.h.Now()) }

func run[A domain.Aggregate](ctx context.Context, s *Service, stream string, newAgg func() A, meta domain.Meta, decide func(A) ([]domain.Event, error)) (domain.Result, error) {
	return domain.Execute(ctx, s.h, domain.Command[A]{Stream: stream, New: newAgg, Meta: meta, Decide: decide})
}

func events(es ...domain.Event) []domain.Event { return es }

func (s *Service) school(ctx context.Context, field string, id uuid.UUID) (*School, error) {
	sc, _, err := domain.Peek(ctx, s.h, SchoolStream(id), NewSchool)
	if err != nil {
		return nil, err
	}
	if !sc.Registered() {
		return nil, domain.RejectField(domain.ErrNotFound, field, "no school %s is registered", id)
	}
	return sc, nil
}

// person loads person id, shared and with their personal data still sealed
// (see domain.PeekSealed): the checks it serves read none of it.
func (s *Service) person(ctx context.Context, field string, id uuid.UUID) (*Person, error) {
	p, _, err := domain.PeekSealed(ctx, s.h, PersonStream(id), NewPerson)
	if err != nil {
		return nil, err
	}
	if !p.Registered() {
		return nil, domain.RejectField(domain.ErrNotFound, field, "no person %s is registered", id)
	}
	return p, nil
}

func (s *Service) community(ctx context.Context, field string, id uuid.UUID) (*Community, error) {
	c, _, err := domain.Peek(ctx, s.h, CommunityStream(id), NewCommunity)
	if err != nil {
		return nil, err
	}
	if !c.Established() {
		return nil, domain.RejectField(domain.ErrNotFound, field, "no ISLC %s is established", id)
	}
	return c, nil
}

// staff loads person id and checks they are staff of school who have not
// left.
func (s *Service) staff(ctx context.Context, field string, id, school uuid.UUID) (*Person, error) {
	p, err := s.person(ctx, field, id)
	if err != nil {
		return nil, err
	}
	if p.Kind != PersonStaff || p.SchoolID != school {
		return nil, domain.RejectField(ErrNotStaff, field, "person %s is not registered as staff of this school; register them as an educator or administrator first", id)
	}
	if p.Left() {
		return nil, domain.RejectField(ErrPersonLeft, field, "person %s left the school on %s", id, p.LeftOn.Format(time.DateOnly))
	}
	return p, nil
}

// communitiesOf loads the established ISLCs of school's segments, in
// segment order.
func (s *Service) communitiesOf(ctx context.Context, school *School) ([]*Community, error) {
	var out []*Community
	for _, g := range school.Segments {
		c, _, err := domain.Peek(ctx, s.h, CommunityStream(CommunityID(school.ID, g.ID)), NewCommunity)
		if err != nil {
			return nil, err
		}
		if c.Established() {
			out = append(out, c)
		}
	}
	return out, nil
}

func openYear(school *School, field, label string) (AcademicYear, error) {
	y, ok := school.Year(label)
	if !ok {
		return AcademicYear{}, domain.RejectField(ErrYearNotOpen, field, "%s has not opened the academic year %s; open it first", school.Name, label)
	}
	return y, nil
}

// communityCorrection lets domain.Correct mark a correction of a decided
// ballot's event as changed after decision: a community is not decided as
// a whole, its elections are.
type communityCorrection struct {
	*Community
	target uuid.UUID
}

// Decided implements domain.Decided.
func (c communityCorrection) Decided() bool { return c.Community.ballotDecided(c.target) }

// CorrectEvent records a correction of an earlier event of stream (any
// governance stream). The correction is accepted only if the record, with
// the corrected event in place, keeps every rule the event's command
// checks (see domain.Correct): the record's own rules, and the facts of
// other records the command checks (that a person is staff of the school
// and had not left, that a year is open and holds the day, that a drafter
// is a member or a submitter the chair in office). Votes, nominations,
// tallies and the outcomes computed from votes (a chair elected or
// removed, a decision of the Leadership Team) cannot be corrected. A
// correction of a decided proposal's events, or of an event of a closed
// election or confidence vote, is marked changed_after_decision. Returns
// domain.ErrCorrectionTarget for a stream that is not a governance stream
// or an event not in it, domain.ErrCorrectionReason without a reason,
// domain.ErrUncorrectable for a vote or an outcome, and the rule the
// correction would break otherwise.
func (s *Service) CorrectEvent(ctx context.Context, meta domain.Meta, stream string, c domain.Correction) (domain.Result, error) {
	kind, _, ok := ParseStream(stream)
	if !ok {
		return domain.Result{}, domain.RejectField(domain.ErrCorrectionTarget, "stream", "%q is not a record of schools, people, ISLCs, proposals, triads or challenges", stream)
	}
	facts := func(m domain.Message) error { return s.correctionFacts(ctx, m) }
	switch kind {
	case KindSchool:
		return domain.Correct(ctx, s.h, stream, NewSchool, meta, c, facts)
	case KindPerson:
		if c.Replacement == nil {
			recs, err := s.h.Log.ReadStream(ctx, stream)
			if err != nil {
				return domain.Result{}, fmt.Errorf("read %s: %w", stream, err)
			}
			for _, r := range recs {
				if r.ID == c.EventID && r.Type == "PersonalDataErased" {
					return domain.Result{}, domain.RejectField(ErrErasureFinal, "event_id", "event %s erased a person's data; it cannot be retracted", c.EventID)
				}
			}
		}
		return domain.Correct(ctx, s.h, stream, NewPerson, meta, c, facts)
	case KindCommunity:
		return domain.Correct(ctx, s.h, stream, func() communityCorrection {
			return communityCorrection{Community: NewCommunity(), target: c.EventID}
		}, meta, c, facts)
	case KindProposal:
		return domain.Correct(ctx, s.h, stream, NewProposal, meta, c, facts)
	case KindChallenge:
		return domain.Correct(ctx, s.h, stream, NewChallenge, meta, c, facts)
	default:
		return domain.Correct(ctx, s.h, stream, NewTriad, meta, c, facts)
	}
}

// correctionFacts checks a corrected event against the facts of other
// records that its command checks, at the event's effective moment.
func (s *Service) correctionFacts(ctx context.Context, m domain.Message) error {
	// staffOn checks that person is staff of school who had not left by
	// day d.
	staffOn := func(field string, person, school uuid.UUID, d time.Time) error {
		p, err := s.person(ctx, field, person)
		if err != nil {
			return err
		}
		return p.checkStaffOfOn(field, school, d)
	}
	yearHolds := func(school uuid.UUID, label string, d time.Time, field string) (AcademicYear, error) {
		sc, err := s.school(ctx, "school_id", school)
		if err != nil {
			return AcademicYear{}, err
		}
		y, err := openYear(sc, "year", label)
		if err != nil {
			return y, err
		}
		if !d.IsZero() && !y.Contains(d) {
			return y, domain.RejectField(ErrOutsideYear, field, "%s is outside the academic year %s (%s to %s)", Date(d).Format(time.DateOnly), y.Label, y.StartsOn.Format(time.DateOnly), y.EndsOn.Format(time.DateOnly))
		}
		return y, nil
	}
	memberOf := func(community, person uuid.UUID, year, field string) error {
		c, err := s.community(ctx, "community_id", community)
		if err != nil {
			return err
		}
		if !c.IsMember(person, year) {
			return domain.RejectField(ErrNotAMember, field, "person %s is not a member of the %s ISLC for %s", person, c.Name, year)
		}
		return nil
	}
	switch e := m.Event.(type) {
	case DirectorAppointed:
		return staffOn("director_id", e.DirectorID, e.SchoolID, m.Effective())
	case MemberJoined:
		y, err := yearHolds(e.SchoolID, e.Year, e.EffectiveFrom, "effective_from")
		if err != nil {
			return err
		}
		if !Date(e.TermEndsOn).Equal(y.EndsOn) {
			return domain.RejectField(domain.ErrInvalidValue, "term_ends_on", "the minimum term ends with the academic year, on %s", y.EndsOn.Format(time.DateOnly))
		}
		return staffOn("person_id", e.PersonID, e.SchoolID, e.EffectiveFrom)
	case MemberLeft:
		switch e.Exception {
		case ExceptionLeftSchool:
			p, err := s.person(ctx, "person_id", e.PersonID)
			if err != nil {
				return err
			}
			if !p.Left() || p.LeftOn.After(Date(e.LeftOn)) {
				return domain.RejectField(ErrMinimumTermNotServed, "exception", "person %s had not left the school by %s", e.PersonID, Date(e.LeftOn).Format(time.DateOnly))
			}
		case ExceptionDirectorApproved:
			sc, err := s.school(ctx, "school_id", e.SchoolID)
			if err != nil {
				return err
			}
			if sc.DirectorID != e.ApprovedBy {
				return domain.RejectField(ErrNotDirector, "approved_by", "person %s is not the Director of %s", e.ApprovedBy, sc.Name)
			}
		}
	case GovernorLinked:
		g, err := s.person(ctx, "governor_id", e.GovernorID)
		if err != nil {
			return err
		}
		if g.Kind != PersonGovernor || g.SchoolID != e.SchoolID || g.Left() && Date(m.Effective()).After(g.LeftOn) {
			return domain.RejectField(ErrNotGovernor, "governor_id", "person %s is not a governor of this school", e.GovernorID)
		}
	case AdvisoryGroupLinked:
		for _, id := range e.Contacts {
			p, err := s.person(ctx, "contacts", id)
			if err != nil {
				return err
			}
			if p.Kind != PersonAdvisoryContact || p.SchoolID != e.SchoolID {
				return domain.RejectField(ErrNotAdvisoryContact, "contacts", "person %s is not registered as an advisory contact of this school", id)
			}
		}
	case StrengthsAssessed:
		if _, err := yearHolds(e.SchoolID, e.Year, e.AssessedOn, "assessed_on"); err != nil {
			return err
		}
		sc, err := s.school(ctx, "school_id", e.SchoolID)
		if err != nil {
			return err
		}
		for _, id := range e.Interests {
			if _, ok := sc.Segment(id); !ok {
				return domain.RejectField(ErrUnknownSegment, "interests", "%s has no segment %s", sc.Name, id)
			}
		}
	case DesignCommunityJoined:
		_, err := yearHolds(e.SchoolID, e.Year, time.Time{}, "year")
		return err
	case LearningPathwayJoined:
		_, err := yearHolds(e.SchoolID, e.Year, time.Time{}, "year")
		return err
	case ProposalDrafted:
		c, err := s.community(ctx, "community_id", e.CommunityID)
		if err != nil {
			return err
		}
		if c.SchoolID != e.SchoolID || c.SegmentID != e.SegmentID {
			return domain.RejectField(domain.ErrInvalidValue, "community_id", "the %s ISLC is of another school or segment", c.Name)
		}
		return memberOf(e.CommunityID, e.DraftedBy, e.Year, "drafted_by")
	case ProposalRevised:
		return memberOf(e.CommunityID, e.RevisedBy, e.Year, "revised_by")
	case ProposalSubmitted:
		c, err := s.community(ctx, "community_id", e.CommunityID)
		if err != nil {
			return err
		}
		if chair, ok := c.ChairInOffice(e.Year); !ok || chair != e.SubmittedBy {
			return domain.RejectField(ErrNotChair, "submitted_by", "person %s is not the chair in office of the %s ISLC for %s", e.SubmittedBy, c.Name, e.Year)
		}
	case AdviceGiven:
		c, err := s.community(ctx, "community_id", e.CommunityID)
		if err != nil {
			return err
		}
		if _, ok := c.AdvisoryGroup(e.GroupID); !ok {
			return domain.RejectField(ErrAdvisoryGroupNotLinked, "group_id", "group %s is not linked to the %s ISLC", e.GroupID, c.Name)
		}
	case TriadFormed:
		for _, id := range e.Members {
			if err := staffOn("members", id, e.SchoolID, m.Effective()); err != nil {
				return err
			}
		}
		_, err := yearHolds(e.SchoolID, e.Year, time.Time{}, "year")
		return err
	}
	return nil
}
