package governance

import (
	"context"
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
	h   *domain.Handler
	box BallotBox
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
	sc, _, err := domain.Load(ctx, s.h, SchoolStream(id), NewSchool)
	if err != nil {
		return nil, err
	}
	if !sc.Registered() {
		return nil, domain.RejectField(domain.ErrNotFound, field, "no school %s is registered", id)
	}
	return sc, nil
}

func (s *Service) person(ctx context.Context, field string, id uuid.UUID) (*Person, error) {
	p, _, err := domain.Load(ctx, s.h, PersonStream(id), NewPerson)
	if err != nil {
		return nil, err
	}
	if !p.Registered() {
		return nil, domain.RejectField(domain.ErrNotFound, field, "no person %s is registered", id)
	}
	return p, nil
}

func (s *Service) community(ctx context.Context, field string, id uuid.UUID) (*Community, error) {
	c, _, err := domain.Load(ctx, s.h, CommunityStream(id), NewCommunity)
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
		c, _, err := domain.Load(ctx, s.h, CommunityStream(CommunityID(school.ID, g.ID)), NewCommunity)
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
// governance stream). A correction of a decided proposal's events, or of
// an event of a closed election or confidence vote, is marked
// changed_after_decision. Returns domain.ErrCorrectionTarget for a stream
// that is not a governance stream or an event not in it, and
// domain.ErrCorrectionReason without a reason.
func (s *Service) CorrectEvent(ctx context.Context, meta domain.Meta, stream string, c domain.Correction) (domain.Result, error) {
	kind, _, ok := ParseStream(stream)
	if !ok {
		return domain.Result{}, domain.RejectField(domain.ErrCorrectionTarget, "stream", "%q is not a record of schools, people, ISLCs, proposals or triads", stream)
	}
	switch kind {
	case KindSchool:
		return domain.Correct(ctx, s.h, stream, NewSchool, meta, c)
	case KindPerson:
		return domain.Correct(ctx, s.h, stream, NewPerson, meta, c)
	case KindCommunity:
		return domain.Correct(ctx, s.h, stream, func() communityCorrection {
			return communityCorrection{Community: NewCommunity(), target: c.EventID}
		}, meta, c)
	case KindProposal:
		return domain.Correct(ctx, s.h, stream, NewProposal, meta, c)
	default:
		return domain.Correct(ctx, s.h, stream, NewTriad, meta, c)
	}
}
