package partnership

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// ResourceKind is the kind of resource a school shares.
type ResourceKind string

// The kinds of shared resource.
const (
	ScienceLab       ResourceKind = "science_lab"
	Minibus          ResourceKind = "minibus"
	Coach            ResourceKind = "coach"
	SportsHall       ResourceKind = "sports_hall"
	TeachingResource ResourceKind = "teaching_resource"
	CPDPlace         ResourceKind = "cpd_place"
)

// String implements fmt.Stringer.
func (k ResourceKind) String() string { return string(k) }

// Valid reports whether k is one of the resource kinds.
func (k ResourceKind) Valid() bool {
	switch k {
	case ScienceLab, Minibus, Coach, SportsHall, TeachingResource, CPDPlace:
		return true
	}
	return false
}

// Condition is the state a lent resource came back in.
type Condition string

// The conditions of a returned resource.
const (
	ConditionGood    Condition = "good"
	ConditionFair    Condition = "fair"
	ConditionDamaged Condition = "damaged"
)

// String implements fmt.Stringer.
func (c Condition) String() string { return string(c) }

// Valid reports whether c is good, fair or damaged.
func (c Condition) Valid() bool {
	return c == ConditionGood || c == ConditionFair || c == ConditionDamaged
}

// LoanStatus is where a loan stands.
type LoanStatus string

// The statuses of a loan. LoanOverdue is never recorded: it is derived
// (Loan.StatusAt) for a collected loan not returned by its end.
const (
	LoanRequestedStatus LoanStatus = "requested"
	LoanApprovedStatus  LoanStatus = "approved"
	LoanDeclinedStatus  LoanStatus = "declined"
	LoanCancelledStatus LoanStatus = "cancelled"
	LoanCollectedStatus LoanStatus = "collected"
	LoanReturnedStatus  LoanStatus = "returned"
	LoanOverdue         LoanStatus = "overdue"
)

// String implements fmt.Stringer.
func (s LoanStatus) String() string { return string(s) }

// LoanKeys identifies a loan in each of its events: the partnership, the
// resource and the two schools.
type LoanKeys struct {
	PartnershipID    uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	ResourceID       uuid.UUID `json:"resource_id" doc:"Id of the resource lent."`
	LoanID           uuid.UUID `json:"loan_id" doc:"Id of the loan."`
	OwnerSchoolID    uuid.UUID `json:"owner_school_id" doc:"Id of the school that owns the resource."`
	BorrowerSchoolID uuid.UUID `json:"borrower_school_id" doc:"Id of the school borrowing it."`
}

// ResourceRegistered records a resource a school owns and may share.
type ResourceRegistered struct {
	PartnershipID    uuid.UUID    `json:"partnership_id" doc:"Id of the partnership the resource is shared in."`
	ResourceID       uuid.UUID    `json:"resource_id" doc:"Id of the resource."`
	OwnerSchoolID    uuid.UUID    `json:"owner_school_id" doc:"Id of the school that owns it."`
	Kind             ResourceKind `json:"kind" doc:"science_lab, minibus, coach, sports_hall, teaching_resource or cpd_place."`
	Name             string       `json:"name" doc:"The resource's name, e.g. Minibus 2 (17 seats)."`
	Description      string       `json:"description" doc:"What it is and any conditions of use."`
	Capacity         int          `json:"capacity" doc:"How many people it serves (seats, places, benches); 0 when not applicable."`
	HourlyValuePence int64        `json:"hourly_value_pence" doc:"What an hour of it is worth, in pence, for reporting the partnership's benefit; 0 when not valued."`
}

// ResourceOffered records the owning school offering a resource to its
// partners.
type ResourceOffered struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	ResourceID    uuid.UUID `json:"resource_id" doc:"Id of the resource."`
	OwnerSchoolID uuid.UUID `json:"owner_school_id" doc:"Id of the owning school."`
}

// ResourceOfferWithdrawn records the owning school no longer offering a
// resource; loans already approved stand.
type ResourceOfferWithdrawn struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	ResourceID    uuid.UUID `json:"resource_id" doc:"Id of the resource."`
	OwnerSchoolID uuid.UUID `json:"owner_school_id" doc:"Id of the owning school."`
}

// LoanRequested records a partner school asking to borrow a resource.
type LoanRequested struct {
	LoanKeys
	Start   time.Time `json:"start" doc:"Start of the loan window (included)."`
	End     time.Time `json:"end" doc:"End of the loan window (excluded)."`
	Purpose string    `json:"purpose" doc:"What the borrower will use it for."`
}

// LoanApproved records the owning school approving a loan.
type LoanApproved struct {
	LoanKeys
	Start time.Time `json:"start" doc:"Start of the approved window (included)."`
	End   time.Time `json:"end" doc:"End of the approved window (excluded)."`
}

// LoanDeclined records the owning school declining a loan; the reason is
// in the event's metadata.
type LoanDeclined struct {
	LoanKeys
}

// LoanCancelled records a loan called off before collection.
type LoanCancelled struct {
	LoanKeys
	CancelledBySchoolID uuid.UUID  `json:"cancelled_by_school_id" doc:"Id of the school that cancelled it (borrower or owner)."`
	WasStatus           LoanStatus `json:"was_status" doc:"Status of the loan when cancelled: requested or approved."`
}

// LoanCollected records the borrower collecting the resource.
type LoanCollected struct {
	LoanKeys
	CollectedAt time.Time `json:"collected_at" doc:"When it was collected."`
}

// LoanReturned records the resource coming back, and its condition.
type LoanReturned struct {
	LoanKeys
	ReturnedAt time.Time `json:"returned_at" doc:"When it was returned."`
	Condition  Condition `json:"condition" doc:"good, fair or damaged."`
	Note       string    `json:"note" doc:"Notes on its condition; required when damaged."`
	Late       bool      `json:"late" doc:"True when returned after the end of the loan window."`
}

// EventType implements domain.Event.
func (ResourceRegistered) EventType() string { return "ResourceRegistered" }

// EventType implements domain.Event.
func (ResourceOffered) EventType() string { return "ResourceOffered" }

// EventType implements domain.Event.
func (ResourceOfferWithdrawn) EventType() string { return "ResourceOfferWithdrawn" }

// EventType implements domain.Event.
func (LoanRequested) EventType() string { return "LoanRequested" }

// EventType implements domain.Event.
func (LoanApproved) EventType() string { return "LoanApproved" }

// EventType implements domain.Event.
func (LoanDeclined) EventType() string { return "LoanDeclined" }

// EventType implements domain.Event.
func (LoanCancelled) EventType() string { return "LoanCancelled" }

// EventType implements domain.Event.
func (LoanCollected) EventType() string { return "LoanCollected" }

// EventType implements domain.Event.
func (LoanReturned) EventType() string { return "LoanReturned" }

func init() {
	domain.MustRegister[ResourceRegistered](domain.Spec{Type: "ResourceRegistered", Schema: 1, Group: Group,
		Doc: "A member school registered a resource it owns (a science lab, minibus, coach, sports hall, teaching resource or CPD place) for sharing in the partnership. Stream `resource-<id>`, which also holds every loan of it.", EmittedBy: []string{"RegisterResource"}})
	domain.MustRegister[ResourceOffered](domain.Spec{Type: "ResourceOffered", Schema: 1, Group: Group,
		Doc: "The owning school offered the resource to its partners, who may now request loans of it.", EmittedBy: []string{"RegisterResource", "OfferResource"}})
	domain.MustRegister[ResourceOfferWithdrawn](domain.Spec{Type: "ResourceOfferWithdrawn", Schema: 1, Group: Group,
		Doc: "The owning school withdrew its offer: no new loans are requested or approved; loans already approved stand.", EmittedBy: []string{"WithdrawResourceOffer"}})
	domain.MustRegister[LoanRequested](domain.Spec{Type: "LoanRequested", Schema: 1, Group: Group,
		Doc: "A partner school asked to borrow the resource for a window of time and a purpose. Starts the loan's correlation.", EmittedBy: []string{"RequestLoan"}})
	domain.MustRegister[LoanApproved](domain.Spec{Type: "LoanApproved", Schema: 1, Group: Group,
		Doc: "The owning school approved the loan; no other approved loan of the resource overlaps its window.", EmittedBy: []string{"ApproveLoan"}})
	domain.MustRegister[LoanDeclined](domain.Spec{Type: "LoanDeclined", Schema: 1, Group: Group,
		Doc: "The owning school declined the loan (the reason is in the metadata).", EmittedBy: []string{"DeclineLoan"}})
	domain.MustRegister[LoanCancelled](domain.Spec{Type: "LoanCancelled", Schema: 1, Group: Group,
		Doc: "The borrowing or owning school called the loan off before the resource was collected.", EmittedBy: []string{"CancelLoan"}})
	domain.MustRegister[LoanCollected](domain.Spec{Type: "LoanCollected", Schema: 1, Group: Group,
		Doc: "The borrower collected the resource on an approved loan. Until it is returned, the loan is overdue from the end of its window (derived, never recorded).", EmittedBy: []string{"CollectLoan"}})
	domain.MustRegister[LoanReturned](domain.Spec{Type: "LoanReturned", Schema: 1, Group: Group,
		Doc: "The resource came back, in good, fair or damaged condition (with a note when damaged).", EmittedBy: []string{"ReturnLoan"}})
}

// Loan is one loan of a resource.
type Loan struct {
	ID               uuid.UUID
	BorrowerSchoolID uuid.UUID
	// Start and End are the window [Start, End).
	Start, End time.Time
	Purpose    string
	// Status is the recorded status (never LoanOverdue; see StatusAt).
	Status        LoanStatus
	CollectedAt   time.Time
	ReturnedAt    time.Time
	Condition     Condition
	ConditionNote string
	// CorrelationID is the id of the LoanRequested event, shared by every
	// event of the loan.
	CorrelationID uuid.UUID
}

// Decided reports whether the owning school has approved or declined the
// loan, or it was cancelled.
func (l Loan) Decided() bool { return l.Status != LoanRequestedStatus }

// Overdue reports whether the resource was collected and not returned by
// the end of the loan window, at time now.
func (l Loan) Overdue(now time.Time) bool {
	return l.Status == LoanCollectedStatus && !now.Before(l.End)
}

// StatusAt returns the loan's status at time now: its recorded status, or
// LoanOverdue when it is overdue.
func (l Loan) StatusAt(now time.Time) LoanStatus {
	if l.Overdue(now) {
		return LoanOverdue
	}
	return l.Status
}

// Held returns the window during which the loan holds the resource: the
// loan window for an approved or collected loan, cut short by an early
// return; ok is false for a loan that holds nothing (requested, declined,
// cancelled).
func (l Loan) Held() (from, to time.Time, ok bool) {
	switch l.Status {
	case LoanApprovedStatus, LoanCollectedStatus:
		return l.Start, l.End, true
	case LoanReturnedStatus:
		to = l.End
		if l.ReturnedAt.Before(to) {
			to = l.ReturnedAt
		}
		if !l.Start.Before(to) {
			return time.Time{}, time.Time{}, false
		}
		return l.Start, to, true
	}
	return time.Time{}, time.Time{}, false
}

// Resource is the aggregate of a shared resource and all its loans; it
// holds the rule that approved loans never overlap.
type Resource struct {
	ID               uuid.UUID
	PartnershipID    uuid.UUID
	OwnerSchoolID    uuid.UUID
	Kind             ResourceKind
	Name             string
	Description      string
	Capacity         int
	HourlyValuePence int64
	// Offered is true while the owning school offers it to partners.
	Offered bool
	// LoanList is every loan in the order requested; Loans sorts them.
	LoanList []Loan

	loanOf map[uuid.UUID]uuid.UUID // event id → loan id
}

// NewResource returns an empty Resource aggregate.
func NewResource() *Resource { return &Resource{loanOf: map[uuid.UUID]uuid.UUID{}} }

// Registered reports whether the resource has been registered.
func (r *Resource) Registered() bool { return r.ID != uuid.Nil }

func (r *Resource) loanIndex(id uuid.UUID) int {
	// From the newest: the loans acted on are mostly the recent ones (a
	// resource lent for ten years has thousands), and ids are unique.
	for i := len(r.LoanList) - 1; i >= 0; i-- {
		if r.LoanList[i].ID == id {
			return i
		}
	}
	return -1
}

// Apply implements domain.Aggregate.
func (r *Resource) Apply(m domain.Message) {
	if r.loanOf == nil {
		r.loanOf = map[uuid.UUID]uuid.UUID{}
	}
	var keys *LoanKeys
	switch e := m.Event.(type) {
	case ResourceRegistered:
		r.ID, r.PartnershipID, r.OwnerSchoolID = e.ResourceID, e.PartnershipID, e.OwnerSchoolID
		r.Kind, r.Name, r.Description, r.Capacity, r.HourlyValuePence = e.Kind, e.Name, e.Description, e.Capacity, e.HourlyValuePence
	case ResourceOffered:
		r.Offered = true
	case ResourceOfferWithdrawn:
		r.Offered = false
	case LoanRequested:
		r.LoanList = append(r.LoanList, RequestedLoan(e, m.ID))
		keys = &e.LoanKeys
	case LoanApproved:
		keys = &e.LoanKeys
	case LoanDeclined:
		keys = &e.LoanKeys
	case LoanCancelled:
		keys = &e.LoanKeys
	case LoanCollected:
		keys = &e.LoanKeys
	case LoanReturned:
		keys = &e.LoanKeys
	}
	if keys == nil {
		return
	}
	r.loanOf[m.ID] = keys.LoanID
	if _, requested := m.Event.(LoanRequested); !requested {
		if i := r.loanIndex(keys.LoanID); i >= 0 {
			r.LoanList[i].Fold(m.Event)
		}
	}
}

// RequestedLoan returns the loan request e (recorded as event id) makes.
func RequestedLoan(e LoanRequested, id uuid.UUID) Loan {
	return Loan{ID: e.LoanID, BorrowerSchoolID: e.BorrowerSchoolID, Start: e.Start, End: e.End,
		Purpose: e.Purpose, Status: LoanRequestedStatus, CorrelationID: id}
}

// Fold folds an event of the loan after its request (approved, declined,
// cancelled, collected, returned) into it; any other event changes
// nothing. The Resource folds its loans' events with it, and so may a
// read model keeping loans on their own.
func (l *Loan) Fold(e domain.Event) {
	switch e := e.(type) {
	case LoanApproved:
		l.Status, l.Start, l.End = LoanApprovedStatus, e.Start, e.End
	case LoanDeclined:
		l.Status = LoanDeclinedStatus
	case LoanCancelled:
		l.Status = LoanCancelledStatus
	case LoanCollected:
		l.Status, l.CollectedAt = LoanCollectedStatus, e.CollectedAt
	case LoanReturned:
		l.Status, l.ReturnedAt, l.Condition, l.ConditionNote = LoanReturnedStatus, e.ReturnedAt, e.Condition, e.Note
	}
}

// Loan returns the loan with id.
func (r *Resource) Loan(id uuid.UUID) (Loan, bool) {
	if i := r.loanIndex(id); i >= 0 {
		return r.LoanList[i], true
	}
	return Loan{}, false
}

// LoanOfEvent returns the loan an event of this stream belongs to.
func (r *Resource) LoanOfEvent(eventID uuid.UUID) (uuid.UUID, bool) {
	id, ok := r.loanOf[eventID]
	return id, ok
}

// Loans returns every loan, by start of window (then by id).
func (r *Resource) Loans() []Loan {
	out := slices.Clone(r.LoanList)
	slices.SortStableFunc(out, byStart)
	return out
}

// byStart orders loans by the start of their window, then id.
func byStart(a, b Loan) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	return slices.Compare(a.ID[:], b.ID[:])
}

// LoansWithStatus returns the loans whose status at time now is one of
// statuses (all loans when none is given), by start of window.
func (r *Resource) LoansWithStatus(now time.Time, statuses ...LoanStatus) []Loan {
	var out []Loan
	for _, l := range r.Loans() {
		if len(statuses) == 0 || slices.Contains(statuses, l.StatusAt(now)) {
			out = append(out, l)
		}
	}
	return out
}

// OverdueLoans returns the loans overdue at time now, by start of window.
func (r *Resource) OverdueLoans(now time.Time) []Loan {
	// The few overdue loans are picked out first and only they are
	// sorted: a resource lent for ten years has thousands of loans.
	var out []Loan
	for _, l := range r.LoanList {
		if l.StatusAt(now) == LoanOverdue {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, byStart)
	return out
}

// Clash returns an approved (or collected or returned) loan other than
// except whose held window overlaps [start, end).
// Of several, it returns the first by start of window (then by id). It
// does not sort the loans, so checking every event of a long record stays
// cheap.
func (r *Resource) Clash(start, end time.Time, except uuid.UUID) (Loan, bool) {
	var clash Loan
	found := false
	for _, l := range r.LoanList {
		if l.ID == except {
			continue
		}
		if from, to, ok := l.Held(); ok && overlaps(start, end, from, to) {
			if !found || l.Start.Before(clash.Start) || l.Start.Equal(clash.Start) && slices.Compare(l.ID[:], clash.ID[:]) < 0 {
				clash, found = l, true
			}
		}
	}
	return clash, found
}

// UtilisationHours returns how many hours of [from, to) the resource was
// held by loans (approved, collected, or returned, up to the return).
func (r *Resource) UtilisationHours(from, to time.Time) float64 {
	var d time.Duration
	for _, l := range r.LoanList {
		d += l.HeldIn(from, to)
	}
	return d.Hours()
}

// HeldIn returns how long the loan held its resource within [from, to)
// (see Held); 0 when it did not.
func (l Loan) HeldIn(from, to time.Time) time.Duration {
	a, b, ok := l.Held()
	if !ok {
		return 0
	}
	if a.Before(from) {
		a = from
	}
	if b.After(to) {
		b = to
	}
	if a.Before(b) {
		return b.Sub(a)
	}
	return 0
}

// BenefitPence returns the value of the resource's use in [from, to):
// utilisation hours times its hourly value, rounded down to a penny.
func (r *Resource) BenefitPence(from, to time.Time) int64 {
	return r.BenefitOf(r.UtilisationHours(from, to))
}

// BenefitOf returns the value of hours of the resource's use, rounded down
// to a penny.
func (r *Resource) BenefitOf(hours float64) int64 {
	return int64(hours * float64(r.HourlyValuePence))
}

// ResourceLoan is a loan with the resource it is of.
type ResourceLoan struct {
	ResourceID    uuid.UUID
	PartnershipID uuid.UUID
	OwnerSchoolID uuid.UUID
	ResourceName  string
	Loan          Loan
}

// OverdueLoans returns the loans of resources overdue at time now, by end
// of window.
func OverdueLoans(now time.Time, resources ...*Resource) []ResourceLoan {
	var out []ResourceLoan
	for _, r := range resources {
		for _, l := range r.OverdueLoans(now) {
			out = append(out, ResourceLoan{ResourceID: r.ID, PartnershipID: r.PartnershipID, OwnerSchoolID: r.OwnerSchoolID, ResourceName: r.Name, Loan: l})
		}
	}
	slices.SortStableFunc(out, func(a, b ResourceLoan) int { return a.Loan.End.Compare(b.Loan.End) })
	return out
}

// loanCorrelation gives a command on loan the loan's correlation id, so
// every event of the loan shares it (a new loan starts its own).
func loanCorrelation(loan uuid.UUID) func(*Resource) uuid.UUID {
	return func(r *Resource) uuid.UUID {
		if l, ok := r.Loan(loan); ok {
			return l.CorrelationID
		}
		return uuid.Nil
	}
}

// resourceCorrection lets domain.Correct mark a correction of a decided
// loan's event as changed after decision, and correlate it with the loan.
type resourceCorrection struct {
	*Resource
	target uuid.UUID
}

// Decided implements domain.Decided.
func (c resourceCorrection) Decided() bool {
	id, ok := c.LoanOfEvent(c.target)
	if !ok {
		return false
	}
	l, _ := c.Loan(id)
	return l.Decided()
}

// CorrelationID implements domain.Correlated.
func (c resourceCorrection) CorrelationID() uuid.UUID {
	if id, ok := c.LoanOfEvent(c.target); ok {
		l, _ := c.Loan(id)
		return l.CorrelationID
	}
	return uuid.Nil
}

// LoanSchools returns the owning and the borrowing school of loan of
// resource; ok is false for a loan that does not exist. It implements
// governance.Loans, for governors' challenges on loans.
func (s *Service) LoanSchools(ctx context.Context, resource, loan uuid.UUID) (owner, borrower uuid.UUID, ok bool, err error) {
	r, _, err := domain.Peek(ctx, s.h, ResourceStream(resource), NewResource)
	if err != nil {
		return uuid.Nil, uuid.Nil, false, err
	}
	l, found := r.Loan(loan)
	if !r.Registered() || !found {
		return uuid.Nil, uuid.Nil, false, nil
	}
	return r.OwnerSchoolID, l.BorrowerSchoolID, true, nil
}
