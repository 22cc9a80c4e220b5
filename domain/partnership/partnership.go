package partnership

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// PartnershipKind is the form a partnership takes.
type PartnershipKind string

// The kinds of partnership.
const (
	// KindTrust is a multi-academy trust.
	KindTrust PartnershipKind = "trust"
	// KindCluster is a local cluster of schools (often a secondary and its
	// primaries).
	KindCluster PartnershipKind = "cluster"
	// KindNetwork is a looser network of schools.
	KindNetwork PartnershipKind = "network"
)

// String implements fmt.Stringer.
func (k PartnershipKind) String() string { return string(k) }

// Valid reports whether k is trust, cluster or network.
func (k PartnershipKind) Valid() bool { return k == KindTrust || k == KindCluster || k == KindNetwork }

// RecipientKind is who a contribution is recognised for.
type RecipientKind string

// The kinds of recipient.
const (
	RecipientPerson    RecipientKind = "person"
	RecipientSchool    RecipientKind = "school"
	RecipientCommunity RecipientKind = "community"
)

// String implements fmt.Stringer.
func (k RecipientKind) String() string { return string(k) }

// ReferenceKind is the kind of partnership work a recognition points to.
type ReferenceKind string

// The kinds of reference.
const (
	RefCommitment ReferenceKind = "commitment"
	RefLoan       ReferenceKind = "loan"
	RefReview     ReferenceKind = "review"
	RefCPDEvent   ReferenceKind = "cpd_event"
	RefSecondment ReferenceKind = "secondment"
	RefPriority   ReferenceKind = "priority"
)

// String implements fmt.Stringer.
func (k ReferenceKind) String() string { return string(k) }

// Valid reports whether k is one of the reference kinds.
func (k ReferenceKind) Valid() bool {
	switch k {
	case RefCommitment, RefLoan, RefReview, RefCPDEvent, RefSecondment, RefPriority:
		return true
	}
	return false
}

// PartnershipFormed records a new partnership of schools.
type PartnershipFormed struct {
	PartnershipID uuid.UUID       `json:"partnership_id" doc:"Id of the partnership."`
	Name          string          `json:"name" doc:"The partnership's name."`
	Kind          PartnershipKind `json:"kind" doc:"trust, cluster or network."`
	FormedOn      time.Time       `json:"formed_on" doc:"Day the partnership was formed."`
}

// SchoolJoinedPartnership records a school becoming a member.
type SchoolJoinedPartnership struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school that joined."`
	JoinedOn      time.Time `json:"joined_on" doc:"Day its membership starts."`
}

// SchoolLeftPartnership records a school ceasing to be a member; its past
// in the partnership stays.
type SchoolLeftPartnership struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school that left."`
	LeftOn        time.Time `json:"left_on" doc:"Last day of its membership."`
}

// PartnershipLeadAppointed records who leads the partnership.
type PartnershipLeadAppointed struct {
	PartnershipID  uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	LeadID         uuid.UUID `json:"lead_id" doc:"Person id of the partnership lead."`
	LeadSchoolID   uuid.UUID `json:"lead_school_id" doc:"Id of the school the lead works at (all zeros for a lead employed by the trust itself)."`
	PreviousLeadID uuid.UUID `json:"previous_lead_id" doc:"Person id of the lead replaced (all zeros for the first)."`
}

// PriorityAgreed records a priority the partnership agreed for a year.
type PriorityAgreed struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	PriorityID    uuid.UUID `json:"priority_id" doc:"Id of the priority."`
	Title         string    `json:"title" doc:"Short title of the priority."`
	Description   string    `json:"description" doc:"What the partnership means to achieve."`
	AcademicYear  string    `json:"academic_year" doc:"Academic year of the priority, e.g. 2025-26."`
}

// ContributionRecognised records the partnership honouring a person's,
// school's or ISLC's contribution.
type ContributionRecognised struct {
	PartnershipID uuid.UUID     `json:"partnership_id" doc:"Id of the partnership."`
	RecognitionID uuid.UUID     `json:"recognition_id" doc:"Id of the recognition."`
	RecipientKind RecipientKind `json:"recipient_kind" doc:"person, school or community (an ISLC)."`
	RecipientID   uuid.UUID     `json:"recipient_id" doc:"Id of the person, school or ISLC recognised."`
	SchoolID      uuid.UUID     `json:"school_id" doc:"The school recognised, or the recipient's school (all zeros when a person's school is not known)."`
	ReferenceKind ReferenceKind `json:"reference_kind,omitempty" doc:"Kind of work the recognition is for: commitment, loan, review, cpd_event, secondment or priority; empty when none."`
	ReferenceID   uuid.UUID     `json:"reference_id" doc:"Id of that work (all zeros when none)."`
	Citation      string        `json:"citation" doc:"What is being honoured, in the partnership's words (name people by id, not in the text)."`
	RecognisedOn  time.Time     `json:"recognised_on" doc:"Day of the recognition."`
}

// EventType implements domain.Event.
func (PartnershipFormed) EventType() string { return "PartnershipFormed" }

// EventType implements domain.Event.
func (SchoolJoinedPartnership) EventType() string { return "SchoolJoinedPartnership" }

// EventType implements domain.Event.
func (SchoolLeftPartnership) EventType() string { return "SchoolLeftPartnership" }

// EventType implements domain.Event.
func (PartnershipLeadAppointed) EventType() string { return "PartnershipLeadAppointed" }

// EventType implements domain.Event.
func (PriorityAgreed) EventType() string { return "PriorityAgreed" }

// EventType implements domain.Event.
func (ContributionRecognised) EventType() string { return "ContributionRecognised" }

func init() {
	domain.MustRegister[PartnershipFormed](domain.Spec{Type: "PartnershipFormed", Schema: 1, Group: Group,
		Doc: "A partnership of schools (a trust, cluster or network) was formed. Stream `partnership-<id>`.", EmittedBy: []string{"FormPartnership"}})
	domain.MustRegister[SchoolJoinedPartnership](domain.Spec{Type: "SchoolJoinedPartnership", Schema: 1, Group: Group,
		Doc: "A school joined the partnership and from then on takes part in it.", EmittedBy: []string{"JoinPartnership"}})
	domain.MustRegister[SchoolLeftPartnership](domain.Spec{Type: "SchoolLeftPartnership", Schema: 1, Group: Group,
		Doc: "A school left the partnership: it takes part in nothing new, and everything it did while a member stays on record.", EmittedBy: []string{"LeavePartnership"}})
	domain.MustRegister[PartnershipLeadAppointed](domain.Spec{Type: "PartnershipLeadAppointed", Schema: 1, Group: Group,
		Doc: "A person was appointed to lead the partnership.", EmittedBy: []string{"AppointPartnershipLead"}})
	domain.MustRegister[PriorityAgreed](domain.Spec{Type: "PriorityAgreed", Schema: 1, Group: Group,
		Doc: "The partnership agreed a priority for an academic year; schools and ISLCs commit to it (collective accountability).", EmittedBy: []string{"AgreePriority"}})
	domain.MustRegister[ContributionRecognised](domain.Spec{Type: "ContributionRecognised", Schema: 1, Group: Group,
		Doc: "The partnership honoured the contribution of a person, school or ISLC, optionally linked to the work it achieved (collective celebrating).", EmittedBy: []string{"RecogniseContribution"}})
}

// Membership is one period of a school's membership of a partnership.
type Membership struct {
	SchoolID uuid.UUID
	JoinedOn time.Time
	// LeftOn is the last day of the membership; zero while it lasts.
	LeftOn time.Time
}

// Current reports whether the membership has not ended.
func (m Membership) Current() bool { return m.LeftOn.IsZero() }

// On reports whether the school was a member on day d.
func (m Membership) On(d time.Time) bool {
	d = Date(d)
	return !d.Before(m.JoinedOn) && (m.LeftOn.IsZero() || !d.After(m.LeftOn))
}

// Priority is a priority the partnership agreed.
type Priority struct {
	ID           uuid.UUID
	Title        string
	Description  string
	AcademicYear string
}

// Recognition is a recognised contribution.
type Recognition = ContributionRecognised

// Partnership is the aggregate of a partnership: its member schools past
// and present, its lead, priorities and recognitions.
type Partnership struct {
	ID       uuid.UUID
	Name     string
	Kind     PartnershipKind
	FormedOn time.Time
	// Memberships are every period of membership, in order of joining; a
	// school that left and rejoined has two.
	Memberships  []Membership
	LeadID       uuid.UUID
	LeadSchoolID uuid.UUID
	Priorities   []Priority
	Recognitions []Recognition
	// Auditors are the people appointed to audit the partnership now.
	Auditors []uuid.UUID
}

// NewPartnership returns an empty Partnership aggregate.
func NewPartnership() *Partnership { return &Partnership{} }

// Formed reports whether the partnership has been formed.
func (p *Partnership) Formed() bool { return p.ID != uuid.Nil }

// Apply implements domain.Aggregate.
func (p *Partnership) Apply(m domain.Message) {
	switch e := m.Event.(type) {
	case PartnershipFormed:
		p.ID, p.Name, p.Kind, p.FormedOn = e.PartnershipID, e.Name, e.Kind, e.FormedOn
	case SchoolJoinedPartnership:
		p.Memberships = append(p.Memberships, Membership{SchoolID: e.SchoolID, JoinedOn: e.JoinedOn})
	case SchoolLeftPartnership:
		for i := range p.Memberships {
			if p.Memberships[i].SchoolID == e.SchoolID && p.Memberships[i].Current() {
				p.Memberships[i].LeftOn = e.LeftOn
			}
		}
	case PartnershipLeadAppointed:
		p.LeadID, p.LeadSchoolID = e.LeadID, e.LeadSchoolID
	case PriorityAgreed:
		p.Priorities = append(p.Priorities, Priority{ID: e.PriorityID, Title: e.Title, Description: e.Description, AcademicYear: e.AcademicYear})
	case ContributionRecognised:
		p.Recognitions = append(p.Recognitions, e)
	case AuditorAppointed:
		p.Auditors = append(p.Auditors, e.AuditorID)
	case AuditorAppointmentEnded:
		p.Auditors = slices.DeleteFunc(p.Auditors, func(id uuid.UUID) bool { return id == e.AuditorID })
	}
}

func (p *Partnership) current(school uuid.UUID) (Membership, bool) {
	for _, m := range p.Memberships {
		if m.SchoolID == school && m.Current() {
			return m, true
		}
	}
	return Membership{}, false
}

// IsMember reports whether school is a current member.
func (p *Partnership) IsMember(school uuid.UUID) bool {
	_, ok := p.current(school)
	return ok
}

// WasMember reports whether school has ever been a member, now or before.
func (p *Partnership) WasMember(school uuid.UUID) bool {
	for _, m := range p.Memberships {
		if m.SchoolID == school {
			return true
		}
	}
	return false
}

// MemberOn reports whether school was a member on day d.
func (p *Partnership) MemberOn(school uuid.UUID, d time.Time) bool {
	for _, m := range p.Memberships {
		if m.SchoolID == school && m.On(d) {
			return true
		}
	}
	return false
}

// MemberSchools returns the current member schools in order of joining.
func (p *Partnership) MemberSchools() []uuid.UUID {
	var out []uuid.UUID
	for _, m := range p.Memberships {
		if m.Current() {
			out = append(out, m.SchoolID)
		}
	}
	return out
}

// Priority returns the priority with id.
func (p *Partnership) Priority(id uuid.UUID) (Priority, bool) {
	for _, pr := range p.Priorities {
		if pr.ID == id {
			return pr, true
		}
	}
	return Priority{}, false
}

// PrioritiesOf returns the priorities of academic year label.
func (p *Partnership) PrioritiesOf(label string) []Priority {
	var out []Priority
	for _, pr := range p.Priorities {
		if pr.AcademicYear == label {
			out = append(out, pr)
		}
	}
	return out
}

// FormPartnership is the command to form a partnership.
type FormPartnership struct {
	PartnershipID uuid.UUID       `json:"partnership_id"`
	Name          string          `json:"name"`
	Kind          PartnershipKind `json:"kind"`
	// FormedOn defaults to meta.EffectiveAt, else today.
	FormedOn time.Time `json:"formed_on"`
}

// FormPartnership records PartnershipFormed. Returns domain.ErrAlreadyExists
// if the partnership id is taken, domain.ErrRequired or ErrInvalidValue for
// a missing name or an unknown kind.
func (s *Service) FormPartnership(ctx context.Context, meta domain.Meta, cmd FormPartnership) (domain.Result, error) {
	if err := requireID("partnership_id", cmd.PartnershipID); err != nil {
		return domain.Result{}, err
	}
	name, err := text("name", cmd.Name, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	if !cmd.Kind.Valid() {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of partnership: use trust, cluster or network", cmd.Kind)
	}
	formed := Date(cmd.FormedOn)
	if formed.IsZero() {
		formed = s.day(meta)
	}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		if p.Formed() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "partnership_id", "partnership %s (%s) was already formed", p.ID, p.Name)
		}
		return events(PartnershipFormed{PartnershipID: cmd.PartnershipID, Name: name, Kind: cmd.Kind, FormedOn: formed}), nil
	})
}

// JoinPartnership is the command for a school to join a partnership.
type JoinPartnership struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	SchoolID      uuid.UUID `json:"school_id"`
	// JoinedOn defaults to meta.EffectiveAt, else today.
	JoinedOn time.Time `json:"joined_on"`
}

// JoinPartnership records SchoolJoinedPartnership. Returns
// domain.ErrNotFound for an unknown partnership or school,
// ErrAlreadyPartnershipMember for a current member, and
// domain.ErrInvalidValue for a joining day before the partnership was
// formed. A school that left may join again.
func (s *Service) JoinPartnership(ctx context.Context, meta domain.Meta, cmd JoinPartnership) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	ok, err := s.dir.SchoolExists(ctx, cmd.SchoolID)
	if err != nil {
		return domain.Result{}, fmt.Errorf("directory: school %s: %w", cmd.SchoolID, err)
	}
	if !ok {
		return domain.Result{}, domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", cmd.SchoolID)
	}
	joined := Date(cmd.JoinedOn)
	if joined.IsZero() {
		joined = s.day(meta)
	}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		if !p.Formed() {
			return nil, domain.RejectField(domain.ErrNotFound, "partnership_id", "no partnership %s has been formed", cmd.PartnershipID)
		}
		if m, ok := p.current(cmd.SchoolID); ok {
			return nil, domain.RejectField(ErrAlreadyPartnershipMember, "school_id", "school %s has been a member of %s since %s", cmd.SchoolID, p.Name, day(m.JoinedOn))
		}
		if joined.Before(p.FormedOn) {
			return nil, domain.RejectField(domain.ErrInvalidValue, "joined_on", "%s was formed on %s; a school cannot join before that (%s)", p.Name, day(p.FormedOn), day(joined))
		}
		for _, m := range p.Memberships {
			if m.SchoolID == cmd.SchoolID && !joined.After(m.LeftOn) {
				return nil, domain.RejectField(domain.ErrInvalidValue, "joined_on", "school %s was a member until %s; it can rejoin from the day after", cmd.SchoolID, day(m.LeftOn))
			}
		}
		return events(SchoolJoinedPartnership{PartnershipID: p.ID, SchoolID: cmd.SchoolID, JoinedOn: joined}), nil
	})
}

// LeavePartnership is the command for a school to leave a partnership.
// Say why in meta.Reason.
type LeavePartnership struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	SchoolID      uuid.UUID `json:"school_id"`
	// LeftOn is the last day of membership; it defaults to
	// meta.EffectiveAt, else today.
	LeftOn time.Time `json:"left_on"`
}

// LeavePartnership records SchoolLeftPartnership. Returns
// domain.ErrNotFound for an unknown partnership, ErrNotPartnershipMember
// for a school that is not a member, and domain.ErrInvalidValue for a
// leaving day before it joined.
func (s *Service) LeavePartnership(ctx context.Context, meta domain.Meta, cmd LeavePartnership) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	left := Date(cmd.LeftOn)
	if left.IsZero() {
		left = s.day(meta)
	}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		if !p.Formed() {
			return nil, domain.RejectField(domain.ErrNotFound, "partnership_id", "no partnership %s has been formed", cmd.PartnershipID)
		}
		m, ok := p.current(cmd.SchoolID)
		if !ok {
			return nil, p.checkMember("school_id", cmd.SchoolID)
		}
		if left.Before(m.JoinedOn) {
			return nil, domain.RejectField(domain.ErrInvalidValue, "left_on", "school %s joined on %s; it cannot leave before that (%s)", cmd.SchoolID, day(m.JoinedOn), day(left))
		}
		return events(SchoolLeftPartnership{PartnershipID: p.ID, SchoolID: cmd.SchoolID, LeftOn: left}), nil
	})
}

// AppointPartnershipLead is the command to appoint the partnership lead.
type AppointPartnershipLead struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	LeadID        uuid.UUID `json:"lead_id"`
}

// AppointPartnershipLead records PartnershipLeadAppointed, with the lead's
// school from the Directory if they work at one. Appointing the current
// lead again records nothing. Returns domain.ErrNotFound for an unknown
// partnership.
func (s *Service) AppointPartnershipLead(ctx context.Context, meta domain.Meta, cmd AppointPartnershipLead) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"lead_id", cmd.LeadID}); err != nil {
		return domain.Result{}, err
	}
	school, _, err := s.dir.SchoolOf(ctx, cmd.LeadID)
	if err != nil {
		return domain.Result{}, fmt.Errorf("directory: school of %s: %w", cmd.LeadID, err)
	}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		if !p.Formed() {
			return nil, domain.RejectField(domain.ErrNotFound, "partnership_id", "no partnership %s has been formed", cmd.PartnershipID)
		}
		if p.LeadID == cmd.LeadID {
			return nil, nil
		}
		return events(PartnershipLeadAppointed{PartnershipID: p.ID, LeadID: cmd.LeadID, LeadSchoolID: school, PreviousLeadID: p.LeadID}), nil
	})
}

// AgreePriority is the command to record a priority the partnership
// agreed.
type AgreePriority struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	PriorityID    uuid.UUID `json:"priority_id"`
	Title         string    `json:"title"`
	Description   string    `json:"description"`
	AcademicYear  string    `json:"academic_year"`
}

// AgreePriority records PriorityAgreed. Returns domain.ErrNotFound for an
// unknown partnership, domain.ErrAlreadyExists for a priority id already
// used, and domain.ErrRequired or ErrInvalidValue for a missing title or a
// malformed academic year.
func (s *Service) AgreePriority(ctx context.Context, meta domain.Meta, cmd AgreePriority) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"priority_id", cmd.PriorityID}); err != nil {
		return domain.Result{}, err
	}
	title, err := text("title", cmd.Title, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	desc, err := text("description", cmd.Description, maxText, false)
	if err != nil {
		return domain.Result{}, err
	}
	if err := academicYear("academic_year", cmd.AcademicYear); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		if !p.Formed() {
			return nil, domain.RejectField(domain.ErrNotFound, "partnership_id", "no partnership %s has been formed", cmd.PartnershipID)
		}
		if pr, ok := p.Priority(cmd.PriorityID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "priority_id", "priority %s (%q) is already agreed", pr.ID, pr.Title)
		}
		return events(PriorityAgreed{PartnershipID: p.ID, PriorityID: cmd.PriorityID, Title: title, Description: desc, AcademicYear: cmd.AcademicYear}), nil
	})
}

// RecogniseContribution is the command to honour a contribution.
type RecogniseContribution struct {
	PartnershipID uuid.UUID     `json:"partnership_id"`
	RecognitionID uuid.UUID     `json:"recognition_id"`
	RecipientKind RecipientKind `json:"recipient_kind"`
	RecipientID   uuid.UUID     `json:"recipient_id"`
	// ReferenceKind and ReferenceID optionally name the work recognised.
	ReferenceKind ReferenceKind `json:"reference_kind"`
	ReferenceID   uuid.UUID     `json:"reference_id"`
	Citation      string        `json:"citation"`
}

// RecogniseContribution records ContributionRecognised. A school
// recipient must be or have been a member; an ISLC recipient must belong
// to such a school; a person's school is recorded when the Directory
// knows it. A reference to a commitment, review, CPD event or priority
// must name one of this partnership's; loans and secondments are recorded
// as given (their records are keyed by resource and teacher). Returns
// domain.ErrNotFound for an unknown partnership, ISLC or referenced work,
// ErrNotPartnershipMember for a school that never belonged,
// domain.ErrAlreadyExists for a recognition id already used, and
// domain.ErrRequired or ErrInvalidValue for missing or malformed fields.
func (s *Service) RecogniseContribution(ctx context.Context, meta domain.Meta, cmd RecogniseContribution) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"recognition_id", cmd.RecognitionID}, fieldID{"recipient_id", cmd.RecipientID}); err != nil {
		return domain.Result{}, err
	}
	citation, err := text("citation", cmd.Citation, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	if cmd.ReferenceKind == "" && cmd.ReferenceID != uuid.Nil {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "reference_kind", "say what kind of work reference %s is", cmd.ReferenceID)
	}
	if cmd.ReferenceKind != "" {
		if !cmd.ReferenceKind.Valid() {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "reference_kind", "%q is not a kind of partnership work: use commitment, loan, review, cpd_event, secondment or priority", cmd.ReferenceKind)
		}
		if err := requireID("reference_id", cmd.ReferenceID); err != nil {
			return domain.Result{}, err
		}
	}
	p, err := s.partnership(ctx, "partnership_id", cmd.PartnershipID)
	if err != nil {
		return domain.Result{}, err
	}
	var school uuid.UUID
	switch cmd.RecipientKind {
	case RecipientSchool:
		school = cmd.RecipientID
	case RecipientCommunity:
		sc, ok, err := s.dir.CommunitySchool(ctx, cmd.RecipientID)
		if err != nil {
			return domain.Result{}, fmt.Errorf("directory: ISLC %s: %w", cmd.RecipientID, err)
		}
		if !ok {
			return domain.Result{}, domain.RejectField(domain.ErrNotFound, "recipient_id", "no ISLC %s is established", cmd.RecipientID)
		}
		school = sc
	case RecipientPerson:
		sc, _, err := s.dir.SchoolOf(ctx, cmd.RecipientID)
		if err != nil {
			return domain.Result{}, fmt.Errorf("directory: school of %s: %w", cmd.RecipientID, err)
		}
		school = sc
	default:
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "recipient_kind", "%q is not a kind of recipient: use person, school or community", cmd.RecipientKind)
	}
	if cmd.RecipientKind != RecipientPerson && !p.WasMember(school) {
		return domain.Result{}, domain.RejectField(ErrNotPartnershipMember, "recipient_id", "school %s has never been a member of %s", school, p.Name)
	}
	if err := s.checkReference(ctx, p, cmd.ReferenceKind, cmd.ReferenceID); err != nil {
		return domain.Result{}, err
	}
	ev := ContributionRecognised{PartnershipID: p.ID, RecognitionID: cmd.RecognitionID, RecipientKind: cmd.RecipientKind, RecipientID: cmd.RecipientID,
		SchoolID: school, ReferenceKind: cmd.ReferenceKind, ReferenceID: cmd.ReferenceID, Citation: citation, RecognisedOn: s.day(meta)}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		for _, r := range p.Recognitions {
			if r.RecognitionID == cmd.RecognitionID {
				return nil, domain.RejectField(domain.ErrAlreadyExists, "recognition_id", "recognition %s is already recorded", r.RecognitionID)
			}
		}
		return events(ev), nil
	})
}

// checkReference checks that work referenced by a recognition exists in
// partnership p, for the kinds whose records are keyed by their own id.
func (s *Service) checkReference(ctx context.Context, p *Partnership, kind ReferenceKind, id uuid.UUID) error {
	var of uuid.UUID
	switch kind {
	case RefPriority:
		if _, ok := p.Priority(id); ok {
			return nil
		}
	case RefCommitment:
		c, _, err := domain.Peek(ctx, s.h, CommitmentStream(id), NewCommitment)
		if err != nil {
			return err
		}
		of = c.PartnershipID
	case RefReview:
		r, _, err := domain.Peek(ctx, s.h, ReviewStream(id), NewReview)
		if err != nil {
			return err
		}
		of = r.PartnershipID
	case RefCPDEvent:
		e, _, err := domain.Peek(ctx, s.h, CPDStream(id), NewCPDEvent)
		if err != nil {
			return err
		}
		of = e.PartnershipID
	default:
		return nil
	}
	if of == p.ID {
		return nil
	}
	return domain.RejectField(domain.ErrNotFound, "reference_id", "%s has no %s %s", p.Name, kind, id)
}
