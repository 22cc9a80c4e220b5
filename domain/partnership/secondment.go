package partnership

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// SecondmentStatus is where a secondment stands.
type SecondmentStatus string

// The statuses of a secondment.
const (
	SecondmentAgreedStatus     SecondmentStatus = "agreed"
	SecondmentEndedEarlyStatus SecondmentStatus = "ended_early"
	SecondmentCancelledStatus  SecondmentStatus = "cancelled"
)

// String implements fmt.Stringer.
func (s SecondmentStatus) String() string { return string(s) }

// fractionSlack absorbs float rounding when fractions are summed
// (0.1 + 0.2 + 0.7 must fit in 1).
const fractionSlack = 1e-9

// SecondmentKeys identifies a secondment in each of its events.
type SecondmentKeys struct {
	PartnershipID     uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	SecondmentID      uuid.UUID `json:"secondment_id" doc:"Id of the secondment."`
	TeacherID         uuid.UUID `json:"teacher_id" doc:"Person id of the teacher seconded."`
	LendingSchoolID   uuid.UUID `json:"lending_school_id" doc:"Id of the school the teacher works at."`
	ReceivingSchoolID uuid.UUID `json:"receiving_school_id" doc:"Id of the school the teacher is seconded to."`
}

// SecondmentAgreed records a teacher seconded to a partner school for part
// or all of their time.
type SecondmentAgreed struct {
	SecondmentKeys
	Subject      string    `json:"subject" doc:"Subject the teacher teaches at the receiving school, e.g. Physics."`
	Start        time.Time `json:"start" doc:"First day of the secondment."`
	End          time.Time `json:"end" doc:"Day the secondment ends (excluded: the first day the teacher is back in full)."`
	Fraction     float64   `json:"fraction" doc:"Share of the teacher's time seconded, more than 0 and at most 1 (1 = full time)."`
	AcademicYear string    `json:"academic_year" doc:"Academic year the secondment starts in, e.g. 2025-26."`
}

// SecondmentEndedEarly records a secondment ending before its agreed end.
type SecondmentEndedEarly struct {
	SecondmentKeys
	EndOn      time.Time `json:"end_on" doc:"New end (excluded): the first day the teacher is back in full."`
	PlannedEnd time.Time `json:"planned_end" doc:"The end agreed before."`
}

// SecondmentCancelled records a secondment called off before it started.
type SecondmentCancelled struct {
	SecondmentKeys
}

// EventType implements domain.Event.
func (SecondmentAgreed) EventType() string { return "SecondmentAgreed" }

// EventType implements domain.Event.
func (SecondmentEndedEarly) EventType() string { return "SecondmentEndedEarly" }

// EventType implements domain.Event.
func (SecondmentCancelled) EventType() string { return "SecondmentCancelled" }

func init() {
	domain.MustRegister[SecondmentAgreed](domain.Spec{Type: "SecondmentAgreed", Schema: 1, Group: Group,
		Doc: "A member school seconded one of its teachers to a partner school for a subject, a period and a share of their time; the teacher's overlapping secondments never add up to more than their whole time. Stream `secondments-<teacher id>`, which holds all the teacher's secondments. Starts the secondment's correlation.", EmittedBy: []string{"ArrangeSecondment"}})
	domain.MustRegister[SecondmentEndedEarly](domain.Spec{Type: "SecondmentEndedEarly", Schema: 1, Group: Group,
		Doc: "A secondment was brought to an end before its agreed end (also when the teacher left the school lending them).", EmittedBy: []string{"EndSecondmentEarly", "LeaveSchool (governance, through PersonLeftSchool)"}})
	domain.MustRegister[SecondmentCancelled](domain.Spec{Type: "SecondmentCancelled", Schema: 1, Group: Group,
		Doc: "A secondment was called off before it started (also when the teacher left the school lending them).", EmittedBy: []string{"CancelSecondment", "LeaveSchool (governance, through PersonLeftSchool)"}})
}

// Secondment is one secondment of a teacher.
type Secondment struct {
	ID                uuid.UUID
	PartnershipID     uuid.UUID
	TeacherID         uuid.UUID
	LendingSchoolID   uuid.UUID
	ReceivingSchoolID uuid.UUID
	Subject           string
	// Start and End are the days [Start, End); End is cut short when the
	// secondment ends early.
	Start, End time.Time
	// PlannedEnd is the End agreed.
	PlannedEnd time.Time
	Fraction   float64
	Status     SecondmentStatus
	// CorrelationID is the id of the SecondmentAgreed event.
	CorrelationID uuid.UUID
}

// ActiveOn reports whether the secondment runs on day d.
func (s Secondment) ActiveOn(d time.Time) bool {
	d = Date(d)
	return s.Status != SecondmentCancelledStatus && !d.Before(s.Start) && d.Before(s.End)
}

func (s Secondment) String() string {
	return fmt.Sprintf("secondment %s (%s, %s of their time, %s to %s)", s.ID, s.Subject, percent(s.Fraction), day(s.Start), day(s.End))
}

// Secondments is the aggregate of all the secondments of one teacher; it
// holds the rule that they never add up to more than their whole time.
type Secondments struct {
	TeacherID uuid.UUID
	// List is every secondment in the order agreed.
	List []Secondment

	ofEvent map[uuid.UUID]uuid.UUID
}

// NewSecondments returns an empty Secondments aggregate.
func NewSecondments() *Secondments { return &Secondments{ofEvent: map[uuid.UUID]uuid.UUID{}} }

func (a *Secondments) index(id uuid.UUID) int {
	for i := range a.List {
		if a.List[i].ID == id {
			return i
		}
	}
	return -1
}

// Apply implements domain.Aggregate.
func (a *Secondments) Apply(m domain.Message) {
	if a.ofEvent == nil {
		a.ofEvent = map[uuid.UUID]uuid.UUID{}
	}
	switch e := m.Event.(type) {
	case SecondmentAgreed:
		a.TeacherID = e.TeacherID
		a.List = append(a.List, Secondment{ID: e.SecondmentID, PartnershipID: e.PartnershipID, TeacherID: e.TeacherID,
			LendingSchoolID: e.LendingSchoolID, ReceivingSchoolID: e.ReceivingSchoolID, Subject: e.Subject,
			Start: e.Start, End: e.End, PlannedEnd: e.End, Fraction: e.Fraction, Status: SecondmentAgreedStatus, CorrelationID: m.ID})
		a.ofEvent[m.ID] = e.SecondmentID
	case SecondmentEndedEarly:
		if i := a.index(e.SecondmentID); i >= 0 {
			a.List[i].End, a.List[i].Status = e.EndOn, SecondmentEndedEarlyStatus
		}
		a.ofEvent[m.ID] = e.SecondmentID
	case SecondmentCancelled:
		if i := a.index(e.SecondmentID); i >= 0 {
			a.List[i].Status = SecondmentCancelledStatus
		}
		a.ofEvent[m.ID] = e.SecondmentID
	}
}

// Secondment returns the secondment with id.
func (a *Secondments) Secondment(id uuid.UUID) (Secondment, bool) {
	if i := a.index(id); i >= 0 {
		return a.List[i], true
	}
	return Secondment{}, false
}

// Commitment returns the largest share of the teacher's time taken by
// secondments running at once during the days [start, end), and the
// secondments (not cancelled) that overlap those days.
func (a *Secondments) Commitment(start, end time.Time) (peak float64, overlapping []Secondment) {
	for _, s := range a.List {
		if s.Status != SecondmentCancelledStatus && overlaps(start, end, s.Start, s.End) {
			overlapping = append(overlapping, s)
		}
	}
	// The total only changes where a secondment starts, so the peak is at
	// the window's start or at one of those starts.
	points := []time.Time{start}
	for _, s := range overlapping {
		if s.Start.After(start) {
			points = append(points, s.Start)
		}
	}
	for _, p := range points {
		var sum float64
		for _, s := range overlapping {
			if s.ActiveOn(p) {
				sum += s.Fraction
			}
		}
		peak = math.Max(peak, sum)
	}
	return peak, overlapping
}

// percent writes a fraction of time as a percentage, e.g. 0.4 → "40%".
func percent(f float64) string { return fmt.Sprintf("%g%%", math.Round(f*1000)/10) }

// ActiveOn returns the teacher's secondments running on day d.
func (a *Secondments) ActiveOn(d time.Time) []Secondment { return ActiveSecondments(a.List, d) }

// ActiveSecondments returns the secondments running on day d.
func ActiveSecondments(secs []Secondment, d time.Time) []Secondment {
	var out []Secondment
	for _, s := range secs {
		if s.ActiveOn(d) {
			out = append(out, s)
		}
	}
	return out
}

// FTE returns the full-time equivalent of secs: the sum of their
// fractions.
func FTE(secs []Secondment) float64 {
	var sum float64
	for _, s := range secs {
		sum += s.Fraction
	}
	return sum
}

// FTEByReceivingSchool returns, for each school receiving teachers on day
// d, the full-time equivalent it receives.
func FTEByReceivingSchool(secs []Secondment, d time.Time) map[uuid.UUID]float64 {
	out := map[uuid.UUID]float64{}
	for _, s := range ActiveSecondments(secs, d) {
		out[s.ReceivingSchoolID] += s.Fraction
	}
	return out
}

// FTEByLendingSchool returns, for each school lending teachers on day d,
// the full-time equivalent it lends.
func FTEByLendingSchool(secs []Secondment, d time.Time) map[uuid.UUID]float64 {
	out := map[uuid.UUID]float64{}
	for _, s := range ActiveSecondments(secs, d) {
		out[s.LendingSchoolID] += s.Fraction
	}
	return out
}

// secondmentScope is a teacher's Secondments seen from one secondment, so
// every event of that secondment shares its correlation id.
type secondmentScope struct {
	*Secondments
	id uuid.UUID
}

// CorrelationID implements domain.Correlated.
func (s secondmentScope) CorrelationID() uuid.UUID {
	if x, ok := s.Secondment(s.id); ok {
		return x.CorrelationID
	}
	return uuid.Nil
}

func newSecondmentScope(id uuid.UUID) func() secondmentScope {
	return func() secondmentScope { return secondmentScope{Secondments: NewSecondments(), id: id} }
}

func keysOfSecondment(s Secondment) SecondmentKeys {
	return SecondmentKeys{PartnershipID: s.PartnershipID, SecondmentID: s.ID, TeacherID: s.TeacherID, LendingSchoolID: s.LendingSchoolID, ReceivingSchoolID: s.ReceivingSchoolID}
}

// ArrangeSecondment is the command to second a teacher to a partner
// school for the days [Start, End).
type ArrangeSecondment struct {
	SecondmentID      uuid.UUID `json:"secondment_id"`
	PartnershipID     uuid.UUID `json:"partnership_id"`
	TeacherID         uuid.UUID `json:"teacher_id"`
	LendingSchoolID   uuid.UUID `json:"lending_school_id"`
	ReceivingSchoolID uuid.UUID `json:"receiving_school_id"`
	Subject           string    `json:"subject"`
	Start             time.Time `json:"start"`
	// End is excluded: the first day the teacher is back in full.
	End time.Time `json:"end"`
	// Fraction is the share of the teacher's time: 0 < fraction ≤ 1.
	Fraction float64 `json:"fraction"`
}

// ArrangeSecondment records SecondmentAgreed. Returns domain.ErrNotFound
// for an unknown partnership, ErrSecondmentSameSchool when lending and
// receiving schools are one, ErrNotPartnershipMember when either is not a
// member, ErrNotStaffOfLendingSchool when the teacher is not its staff,
// ErrSecondmentOverCommitted (naming the overlapping secondments) when
// the teacher's secondments would at some point take more than their
// whole time, domain.ErrAlreadyExists for a secondment id already used,
// and domain.ErrRequired or ErrInvalidValue for missing fields, an empty
// period or a fraction outside (0, 1].
func (s *Service) ArrangeSecondment(ctx context.Context, meta domain.Meta, cmd ArrangeSecondment) (domain.Result, error) {
	if err := requireIDs(fieldID{"secondment_id", cmd.SecondmentID}, fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"teacher_id", cmd.TeacherID},
		fieldID{"lending_school_id", cmd.LendingSchoolID}, fieldID{"receiving_school_id", cmd.ReceivingSchoolID}); err != nil {
		return domain.Result{}, err
	}
	subject, err := text("subject", cmd.Subject, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	start, end := Date(cmd.Start), Date(cmd.End)
	if err := requireWindow("start", start, end); err != nil {
		return domain.Result{}, err
	}
	if !(cmd.Fraction > 0 && cmd.Fraction <= 1) {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "fraction", "the share of the teacher's time must be more than 0 and at most 1 (full time), not %v", cmd.Fraction)
	}
	if cmd.LendingSchoolID == cmd.ReceivingSchoolID {
		return domain.Result{}, domain.RejectField(ErrSecondmentSameSchool, "receiving_school_id", "school %s would both lend and receive the teacher; choose the partner school receiving them", cmd.LendingSchoolID)
	}
	if _, err := s.member(ctx, cmd.PartnershipID, fieldID{"lending_school_id", cmd.LendingSchoolID}, fieldID{"receiving_school_id", cmd.ReceivingSchoolID}); err != nil {
		return domain.Result{}, err
	}
	staff, err := s.dir.IsStaffOf(ctx, cmd.TeacherID, cmd.LendingSchoolID)
	if err != nil {
		return domain.Result{}, fmt.Errorf("directory: staff %s of %s: %w", cmd.TeacherID, cmd.LendingSchoolID, err)
	}
	if !staff {
		return domain.Result{}, domain.RejectField(ErrNotStaffOfLendingSchool, "teacher_id", "person %s is not on the staff of school %s, so that school cannot second them", cmd.TeacherID, cmd.LendingSchoolID)
	}
	keys := SecondmentKeys{PartnershipID: cmd.PartnershipID, SecondmentID: cmd.SecondmentID, TeacherID: cmd.TeacherID, LendingSchoolID: cmd.LendingSchoolID, ReceivingSchoolID: cmd.ReceivingSchoolID}
	return run(ctx, s, SecondmentsStream(cmd.TeacherID), newSecondmentScope(cmd.SecondmentID), meta, func(a secondmentScope) ([]domain.Event, error) {
		if _, ok := a.Secondment(cmd.SecondmentID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "secondment_id", "secondment %s is already agreed", cmd.SecondmentID)
		}
		if peak, overlapping := a.Commitment(start, end); peak+cmd.Fraction > 1+fractionSlack {
			return nil, overCommitted(start, end, peak, cmd.Fraction, overlapping)
		}
		return events(SecondmentAgreed{SecondmentKeys: keys, Subject: subject, Start: start, End: end, Fraction: cmd.Fraction, AcademicYear: AcademicYearOf(start)}), nil
	})
}

// EndSecondmentEarly is the command to end a secondment before its agreed
// end. Say why in meta.Reason.
type EndSecondmentEarly struct {
	TeacherID    uuid.UUID `json:"teacher_id"`
	SecondmentID uuid.UUID `json:"secondment_id"`
	// EndOn is the new end (excluded): the first day the teacher is back
	// in full. It defaults to meta.EffectiveAt, else today.
	EndOn time.Time `json:"end_on"`
}

// EndSecondmentEarly records SecondmentEndedEarly. Returns
// domain.ErrNotFound for an unknown secondment, ErrSecondmentState for one
// already ended or cancelled, and domain.ErrInvalidValue for a new end not
// after its start (cancel it instead) or not before its agreed end.
func (s *Service) EndSecondmentEarly(ctx context.Context, meta domain.Meta, cmd EndSecondmentEarly) (domain.Result, error) {
	if err := requireIDs(fieldID{"teacher_id", cmd.TeacherID}, fieldID{"secondment_id", cmd.SecondmentID}); err != nil {
		return domain.Result{}, err
	}
	endOn := Date(cmd.EndOn)
	if endOn.IsZero() {
		endOn = s.day(meta)
	}
	return run(ctx, s, SecondmentsStream(cmd.TeacherID), newSecondmentScope(cmd.SecondmentID), meta, func(a secondmentScope) ([]domain.Event, error) {
		x, ok := a.Secondment(cmd.SecondmentID)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "secondment_id", "teacher %s has no secondment %s", cmd.TeacherID, cmd.SecondmentID)
		}
		if x.Status != SecondmentAgreedStatus {
			return nil, domain.Reject(ErrSecondmentState, "%s is already %s", x, x.Status)
		}
		if !endOn.After(x.Start) {
			return nil, domain.RejectField(domain.ErrInvalidValue, "end_on", "%s starts on %s; to end it on %s, cancel it instead", x, day(x.Start), day(endOn))
		}
		if !endOn.Before(x.End) {
			return nil, domain.RejectField(domain.ErrInvalidValue, "end_on", "%s already ends on %s; an early end must come before that", x, day(x.End))
		}
		return events(SecondmentEndedEarly{SecondmentKeys: keysOfSecondment(x), EndOn: endOn, PlannedEnd: x.End}), nil
	})
}

// CancelSecondment is the command to call off a secondment before it
// starts. Say why in meta.Reason.
type CancelSecondment struct {
	TeacherID    uuid.UUID `json:"teacher_id"`
	SecondmentID uuid.UUID `json:"secondment_id"`
}

// CancelSecondment records SecondmentCancelled. Returns domain.ErrNotFound
// for an unknown secondment and ErrSecondmentState for one already ended,
// cancelled or started (end a started one early instead).
func (s *Service) CancelSecondment(ctx context.Context, meta domain.Meta, cmd CancelSecondment) (domain.Result, error) {
	if err := requireIDs(fieldID{"teacher_id", cmd.TeacherID}, fieldID{"secondment_id", cmd.SecondmentID}); err != nil {
		return domain.Result{}, err
	}
	today := s.day(meta)
	return run(ctx, s, SecondmentsStream(cmd.TeacherID), newSecondmentScope(cmd.SecondmentID), meta, func(a secondmentScope) ([]domain.Event, error) {
		x, ok := a.Secondment(cmd.SecondmentID)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "secondment_id", "teacher %s has no secondment %s", cmd.TeacherID, cmd.SecondmentID)
		}
		if x.Status != SecondmentAgreedStatus {
			return nil, domain.Reject(ErrSecondmentState, "%s is already %s", x, x.Status)
		}
		if !today.Before(x.Start) {
			return nil, domain.Reject(ErrSecondmentState, "%s started on %s; end it early instead of cancelling it", x, day(x.Start))
		}
		return events(SecondmentCancelled{SecondmentKeys: keysOfSecondment(x)}), nil
	})
}

// overCommitted is the rejection of a secondment of fraction over
// [start, end) when the teacher's overlapping secondments already take up
// to peak of their time.
func overCommitted(start, end time.Time, peak, fraction float64, overlapping []Secondment) error {
	names := make([]string, len(overlapping))
	for i, o := range overlapping {
		names[i] = o.String()
	}
	return domain.RejectField(ErrSecondmentOverCommitted, "fraction",
		"between %s and %s the teacher is already seconded for up to %s of their time by %s; at most %s more can be seconded then, not %s",
		day(start), day(end), percent(peak), strings.Join(names, "; "), percent(math.Max(0, 1-peak)), percent(fraction))
}

// AllSecondments returns the secondments of every teacher given, by start.
func AllSecondments(teachers ...*Secondments) []Secondment {
	var out []Secondment
	for _, t := range teachers {
		out = append(out, t.List...)
	}
	slices.SortStableFunc(out, func(a, b Secondment) int { return a.Start.Compare(b.Start) })
	return out
}

// PersonLeftSchool ends the secondments of teacher from school, who left
// it on lastDay: one running after that day ends early (SecondmentEndedEarly,
// the teacher back in full the day after), one not yet started is
// cancelled (SecondmentCancelled). Secondments from another school, and
// those over by then, are left as they are. It implements
// governance.Leavers, so leaving the school ends them; calling it again
// records nothing more. Returns the events recorded, and a wrapped I/O
// error.
func (s *Service) PersonLeftSchool(ctx context.Context, meta domain.Meta, teacher, school uuid.UUID, lastDay time.Time) ([]domain.Message, error) {
	back := Date(lastDay).AddDate(0, 0, 1)
	a, _, err := domain.Peek(ctx, s.h, SecondmentsStream(teacher), NewSecondments)
	if err != nil {
		return nil, err
	}
	var out []domain.Message
	for _, x := range a.List {
		if x.LendingSchoolID != school || x.Status != SecondmentAgreedStatus || !back.Before(x.End) {
			continue
		}
		res, err := run(ctx, s, SecondmentsStream(teacher), newSecondmentScope(x.ID), meta, func(a secondmentScope) ([]domain.Event, error) {
			x, ok := a.Secondment(x.ID)
			if !ok || x.Status != SecondmentAgreedStatus || !back.Before(x.End) {
				return nil, nil
			}
			if !x.Start.Before(back) {
				return events(SecondmentCancelled{SecondmentKeys: keysOfSecondment(x)}), nil
			}
			return events(SecondmentEndedEarly{SecondmentKeys: keysOfSecondment(x), EndOn: back, PlannedEnd: x.End}), nil
		})
		if err != nil {
			return out, fmt.Errorf("end secondment %s of a teacher who left: %w", x.ID, err)
		}
		out = append(out, res.Events...)
	}
	return out, nil
}
