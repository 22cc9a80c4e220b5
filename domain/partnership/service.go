package partnership

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Service runs the partnership commands. Each method validates the
// command's fields, checks the facts it needs from other records
// (partnership membership from the partnership's stream, schools and
// people from the Directory), and records the events of one aggregate
// atomically through the handler, which retries on concurrent changes.
// Methods return a *domain.Rejection of one of the package's rules (or of
// the core rules domain.ErrRequired, ErrInvalidValue, ErrNotFound,
// ErrAlreadyExists) when the command is refused, and then nothing is
// recorded; other errors are wrapped I/O or Directory failures.
type Service struct {
	h   *domain.Handler
	dir Directory
}

// NewService returns a Service recording through h and asking dir about
// schools and people. With a nil dir every command that needs the
// directory fails with ErrNoDirectory.
func NewService(h *domain.Handler, dir Directory) *Service {
	if dir == nil {
		dir = noDirectory{}
	}
	return &Service{h: h, dir: dir}
}

// Handler returns the handler the service records through.
func (s *Service) Handler() *domain.Handler { return s.h }

// at returns the moment a command's fact happened: the client's effective
// time (meta.EffectiveAt) if given, else now. The handler refuses an
// effective time in the future (domain.ErrFutureDate).
func (s *Service) at(meta domain.Meta) time.Time {
	if !meta.EffectiveAt.IsZero() {
		return meta.EffectiveAt.UTC()
	}
	return s.h.Now().UTC()
}

// day returns the day a command's fact happened (see at).
func (s *Service) day(meta domain.Meta) time.Time { return Date(s.at(meta)) }

// happened returns the moment given for a fact that has happened (a
// collection, a return, a cost), else at(meta). Returns
// domain.ErrFutureDate, naming field, for one not come yet.
func (s *Service) happened(field string, given time.Time, meta domain.Meta) (time.Time, error) {
	return domain.When(meta, field, utc(given), s.h.Now())
}

func run[A domain.Aggregate](ctx context.Context, s *Service, stream string, newAgg func() A, meta domain.Meta, decide func(A) ([]domain.Event, error)) (domain.Result, error) {
	return domain.Execute(ctx, s.h, domain.Command[A]{Stream: stream, New: newAgg, Meta: meta, Decide: decide})
}

// runOnLoan executes a command on loan of resource: on the resource, its
// events correlated with the loan's.
func runOnLoan(ctx context.Context, s *Service, resource, loan uuid.UUID, meta domain.Meta, decide func(*Resource) ([]domain.Event, error)) (domain.Result, error) {
	return domain.Execute(ctx, s.h, domain.Command[*Resource]{Stream: ResourceStream(resource), New: NewResource, Meta: meta,
		Correlation: loanCorrelation(loan), Decide: decide})
}

func events(es ...domain.Event) []domain.Event { return es }

// partnership loads partnership id and checks it was formed.
func (s *Service) partnership(ctx context.Context, field string, id uuid.UUID) (*Partnership, error) {
	p, _, err := domain.Peek(ctx, s.h, PartnershipStream(id), NewPartnership)
	if err != nil {
		return nil, err
	}
	if !p.Formed() {
		return nil, domain.RejectField(domain.ErrNotFound, field, "no partnership %s has been formed", id)
	}
	return p, nil
}

// member loads partnership id and checks that every school named is a
// current member; fields name the command field of each school.
func (s *Service) member(ctx context.Context, partnershipID uuid.UUID, schools ...fieldID) (*Partnership, error) {
	p, err := s.partnership(ctx, "partnership_id", partnershipID)
	if err != nil {
		return nil, err
	}
	for _, sc := range schools {
		if err := p.checkMember(sc.field, sc.id); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// fieldID is a school id and the command field that named it.
type fieldID struct {
	field string
	id    uuid.UUID
}

func (p *Partnership) checkMember(field string, school uuid.UUID) error {
	if p.IsMember(school) {
		return nil
	}
	if p.WasMember(school) {
		return domain.RejectField(ErrNotPartnershipMember, field, "school %s has left %s; it takes part in nothing new unless it joins again", school, p.Name)
	}
	return domain.RejectField(ErrNotPartnershipMember, field, "school %s is not a member of %s; it must join the partnership first", school, p.Name)
}

// actorSchool returns the school the acting person works at, if the actor
// is a person the directory knows.
func (s *Service) actorSchool(ctx context.Context, meta domain.Meta) (uuid.UUID, bool, error) {
	id, err := uuid.Parse(meta.ActorID)
	if err != nil {
		return uuid.Nil, false, nil
	}
	school, ok, err := s.dir.SchoolOf(ctx, id)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("directory: school of %s: %w", id, err)
	}
	return school, ok, nil
}

// requireOwner checks that the actor works at owner, the school that owns
// a resource.
func (s *Service) requireOwner(ctx context.Context, meta domain.Meta, owner uuid.UUID, doing string) error {
	school, ok, err := s.actorSchool(ctx, meta)
	if err != nil {
		return err
	}
	if !ok || school != owner {
		return domain.Reject(ErrNotOwningSchool, "%s is not staff of school %s, which owns the resource; only its staff can %s", actorName(meta), owner, doing)
	}
	return nil
}

func actorName(meta domain.Meta) string {
	if meta.ActorID == "" {
		return "an unnamed actor"
	}
	return "person " + meta.ActorID
}

// Field checks shared by the commands.

func requireID(field string, id uuid.UUID) error {
	if id == uuid.Nil {
		return domain.RejectField(domain.ErrRequired, field, "give the %s", strings.ReplaceAll(field, "_", " "))
	}
	return nil
}

func requireIDs(ids ...fieldID) error {
	for _, f := range ids {
		if err := requireID(f.field, f.id); err != nil {
			return err
		}
	}
	return nil
}

// Text limits, in characters.
const (
	maxName = 200
	maxText = 10000
)

// text checks a text field: trimmed, non-empty when required, at most max
// characters. It returns the trimmed text.
func text(field, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" && required {
		return "", domain.RejectField(domain.ErrRequired, field, "give the %s", strings.ReplaceAll(field, "_", " "))
	}
	if n := utf8.RuneCountInString(v); n > max {
		return "", domain.RejectField(domain.ErrInvalidValue, field, "the %s is %d characters long; keep it to %d", strings.ReplaceAll(field, "_", " "), n, max)
	}
	return v, nil
}

func requireWindow(startField string, start, end time.Time) error {
	if start.IsZero() {
		return domain.RejectField(domain.ErrRequired, startField, "give the start")
	}
	if end.IsZero() {
		return domain.RejectField(domain.ErrRequired, "end", "give the end")
	}
	if !start.Before(end) {
		return domain.RejectField(domain.ErrInvalidValue, "end", "the end (%s) must come after the start (%s)", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	return nil
}

func academicYear(field, label string) error {
	if label == "" {
		return domain.RejectField(domain.ErrRequired, field, "give the academic year, e.g. 2025-26")
	}
	if _, err := ParseAcademicYear(label); err != nil {
		return domain.RejectField(domain.ErrInvalidValue, field, "%v", err)
	}
	return nil
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

func window(a, b time.Time) string {
	return a.UTC().Format("2006-01-02 15:04") + " to " + b.UTC().Format("2006-01-02 15:04")
}

// CorrectEvent records a correction of an earlier event of stream (any
// partnership stream). The correction is accepted only if the record,
// with the corrected event in place, keeps every rule the event's command
// checks (see domain.Correct): a loan cannot be made to overlap another, a
// secondment to take a teacher past their whole time, an event to be
// overbooked; and the schools it names must have been members of the
// partnership on its day. A correction of an event of a decided loan
// (approved, declined or cancelled), of a completed peer review, or of a
// closed commitment is marked changed_after_decision. Returns
// domain.ErrCorrectionTarget for a stream that is not a partnership stream
// or an event not in it, domain.ErrCorrectionReason without a reason, and
// the rule the correction would break otherwise.
func (s *Service) CorrectEvent(ctx context.Context, meta domain.Meta, stream string, c domain.Correction) (domain.Result, error) {
	kind, _, ok := ParseStream(stream)
	if !ok {
		return domain.Result{}, domain.RejectField(domain.ErrCorrectionTarget, "stream", "%q is not a record of partnerships, resources, secondments, CPD, reviews, progress, commitments or timelines", stream)
	}
	facts := func(m domain.Message) error { return s.correctionFacts(ctx, m) }
	switch kind {
	case KindPartnership:
		return domain.Correct(ctx, s.h, stream, NewPartnership, meta, c, facts)
	case KindCosts:
		return domain.Correct(ctx, s.h, stream, NewCostLedger, meta, c, facts)
	case KindResource:
		return domain.Correct(ctx, s.h, stream, func() resourceCorrection {
			return resourceCorrection{Resource: NewResource(), target: c.EventID}
		}, meta, c, facts)
	case KindSecondments:
		return domain.Correct(ctx, s.h, stream, NewSecondments, meta, c, facts)
	case KindCPD:
		return domain.Correct(ctx, s.h, stream, NewCPDEvent, meta, c, facts)
	case KindReview:
		return domain.Correct(ctx, s.h, stream, NewReview, meta, c, facts)
	case KindProgress:
		return domain.Correct(ctx, s.h, stream, NewProgress, meta, c, facts)
	case KindCommitment:
		return domain.Correct(ctx, s.h, stream, NewCommitment, meta, c, facts)
	default:
		return domain.Correct(ctx, s.h, stream, NewTimeline, meta, c, facts)
	}
}

// correctionFacts checks a corrected event against the facts of other
// records its command checks: that the schools it names were members of
// the partnership on its day, that a priority or a referenced work is the
// partnership's, that a teacher is staff of the school lending them.
func (s *Service) correctionFacts(ctx context.Context, m domain.Message) error {
	members := func(pid uuid.UUID, on time.Time, schools ...fieldID) error {
		p, err := s.partnership(ctx, "partnership_id", pid)
		if err != nil {
			return err
		}
		for _, sc := range schools {
			if sc.id != uuid.Nil && !p.MemberOn(sc.id, on) {
				return domain.RejectField(ErrNotPartnershipMember, sc.field, "school %s was not a member of %s on %s", sc.id, p.Name, day(on))
			}
		}
		return nil
	}
	on := m.Effective()
	switch e := m.Event.(type) {
	case SchoolJoinedPartnership:
		ok, err := s.dir.SchoolExists(ctx, e.SchoolID)
		if err != nil {
			return fmt.Errorf("directory: school %s: %w", e.SchoolID, err)
		}
		if !ok {
			return domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", e.SchoolID)
		}
	case AuditorAppointed:
		ok, err := s.dir.IsAuditor(ctx, e.AuditorID)
		if err != nil {
			return fmt.Errorf("directory: auditor %s: %w", e.AuditorID, err)
		}
		if !ok {
			return domain.RejectField(ErrNotAnAuditor, "auditor_id", "person %s is not registered as an auditor", e.AuditorID)
		}
	case ContributionRecognised:
		p, err := s.partnership(ctx, "partnership_id", e.PartnershipID)
		if err != nil {
			return err
		}
		return s.checkReference(ctx, p, e.ReferenceKind, e.ReferenceID)
	case TransactionCostRecorded:
		return members(e.PartnershipID, e.On, fieldID{"school_id", e.SchoolID})
	case LoanRequested:
		return members(e.PartnershipID, on, fieldID{"borrower_school_id", e.BorrowerSchoolID}, fieldID{"owner_school_id", e.OwnerSchoolID})
	case SecondmentAgreed:
		if err := members(e.PartnershipID, e.Start, fieldID{"lending_school_id", e.LendingSchoolID}, fieldID{"receiving_school_id", e.ReceivingSchoolID}); err != nil {
			return err
		}
		staff, err := s.dir.IsStaffOf(ctx, e.TeacherID, e.LendingSchoolID)
		if err != nil {
			return fmt.Errorf("directory: staff %s of %s: %w", e.TeacherID, e.LendingSchoolID, err)
		}
		if !staff {
			return domain.RejectField(ErrNotStaffOfLendingSchool, "teacher_id", "person %s is not on the staff of school %s", e.TeacherID, e.LendingSchoolID)
		}
	case CPDEventOrganised:
		return members(e.PartnershipID, on, fieldID{"organiser_school_id", e.OrganiserSchoolID})
	case CPDPlacesBooked:
		return members(e.PartnershipID, on, fieldID{"school_id", e.SchoolID})
	case PeerReviewScheduled:
		schools := []fieldID{{"reviewed_school_id", e.ReviewedSchoolID}}
		for _, id := range e.ReviewerSchoolIDs {
			schools = append(schools, fieldID{"reviewer_ids", id})
		}
		return members(e.PartnershipID, on, schools...)
	case ProgressRated:
		return members(e.PartnershipID, e.RatedOn, fieldID{"school_id", e.SchoolID})
	case CommitmentMade:
		p, err := s.partnership(ctx, "partnership_id", e.PartnershipID)
		if err != nil {
			return err
		}
		pr, ok := p.Priority(e.PriorityID)
		if !ok {
			return domain.RejectField(domain.ErrNotFound, "priority_id", "%s has agreed no priority %s", p.Name, e.PriorityID)
		}
		if pr.AcademicYear != e.AcademicYear {
			return domain.RejectField(domain.ErrInvalidValue, "academic_year", "priority %s is of %s, not %s", pr.ID, pr.AcademicYear, e.AcademicYear)
		}
		return members(e.PartnershipID, on, fieldID{"party_id", e.SchoolID})
	case TimelineCreated:
		return members(e.PartnershipID, on, fieldID{"school_id", e.SchoolID})
	}
	return nil
}
