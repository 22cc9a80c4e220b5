package partnership

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// resource loads resource id and checks it was registered.
func (s *Service) resource(ctx context.Context, id uuid.UUID) (*Resource, error) {
	r, _, err := domain.Peek(ctx, s.h, ResourceStream(id), NewResource)
	if err != nil {
		return nil, err
	}
	if !r.Registered() {
		return nil, domain.RejectField(domain.ErrNotFound, "resource_id", "no resource %s is registered", id)
	}
	return r, nil
}

func loanIn(r *Resource, id uuid.UUID) (Loan, error) {
	l, ok := r.Loan(id)
	if !ok {
		return Loan{}, domain.RejectField(domain.ErrNotFound, "loan_id", "%s has no loan %s", r.Name, id)
	}
	return l, nil
}

func keysOf(r *Resource, l Loan) LoanKeys {
	return LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ID, LoanID: l.ID, OwnerSchoolID: r.OwnerSchoolID, BorrowerSchoolID: l.BorrowerSchoolID}
}

func overlapError(r *Resource, clash Loan, start, end time.Time) error {
	from, to, _ := clash.Held()
	return domain.Reject(ErrLoanOverlaps, "%s is already lent on loan %s for %s (UTC), which overlaps %s; choose another time or resource",
		r.Name, clash.ID, window(from, to), window(start, end))
}

// loanParty checks that the actor works at the borrowing or the owning
// school of loan l, and returns that school.
func (s *Service) loanParty(ctx context.Context, meta domain.Meta, r *Resource, l Loan, doing string) (uuid.UUID, error) {
	school, ok, err := s.actorSchool(ctx, meta)
	if err != nil {
		return uuid.Nil, err
	}
	if !ok || (school != l.BorrowerSchoolID && school != r.OwnerSchoolID) {
		return uuid.Nil, domain.Reject(ErrNotLoanParty, "%s is not staff of the borrowing school (%s) or the owning school (%s) of loan %s, so cannot %s it", actorName(meta), l.BorrowerSchoolID, r.OwnerSchoolID, l.ID, doing)
	}
	return school, nil
}

// RegisterResource is the command for a school to register a resource it
// owns, and optionally offer it at once.
type RegisterResource struct {
	ResourceID       uuid.UUID    `json:"resource_id"`
	PartnershipID    uuid.UUID    `json:"partnership_id"`
	OwnerSchoolID    uuid.UUID    `json:"owner_school_id"`
	Kind             ResourceKind `json:"kind"`
	Name             string       `json:"name"`
	Description      string       `json:"description"`
	Capacity         int          `json:"capacity"`
	HourlyValuePence int64        `json:"hourly_value_pence"`
	// Offer offers the resource to partners straight away.
	Offer bool `json:"offer"`
}

// RegisterResource records ResourceRegistered (and ResourceOffered when
// cmd.Offer). The actor must be staff of the owning school. Returns
// domain.ErrNotFound for an unknown partnership, ErrNotPartnershipMember
// when the owner is not a member, ErrNotOwningSchool for an actor from
// another school, domain.ErrAlreadyExists for a resource id already used,
// and domain.ErrRequired or ErrInvalidValue for missing or malformed
// fields.
func (s *Service) RegisterResource(ctx context.Context, meta domain.Meta, cmd RegisterResource) (domain.Result, error) {
	if err := requireIDs(fieldID{"resource_id", cmd.ResourceID}, fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"owner_school_id", cmd.OwnerSchoolID}); err != nil {
		return domain.Result{}, err
	}
	if !cmd.Kind.Valid() {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of resource: use science_lab, minibus, coach, sports_hall, teaching_resource or cpd_place", cmd.Kind)
	}
	name, err := text("name", cmd.Name, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	desc, err := text("description", cmd.Description, maxText, false)
	if err != nil {
		return domain.Result{}, err
	}
	if cmd.Capacity < 0 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "capacity", "capacity cannot be negative (%d); use 0 when it does not apply", cmd.Capacity)
	}
	if cmd.HourlyValuePence < 0 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "hourly_value_pence", "the hourly value cannot be negative (%d); use 0 when not valued", cmd.HourlyValuePence)
	}
	if _, err := s.member(ctx, cmd.PartnershipID, fieldID{"owner_school_id", cmd.OwnerSchoolID}); err != nil {
		return domain.Result{}, err
	}
	if err := s.requireOwner(ctx, meta, cmd.OwnerSchoolID, "register its resources"); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, ResourceStream(cmd.ResourceID), NewResource, meta, func(r *Resource) ([]domain.Event, error) {
		if r.Registered() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "resource_id", "resource %s (%s) is already registered", r.ID, r.Name)
		}
		es := events(ResourceRegistered{PartnershipID: cmd.PartnershipID, ResourceID: cmd.ResourceID, OwnerSchoolID: cmd.OwnerSchoolID,
			Kind: cmd.Kind, Name: name, Description: desc, Capacity: cmd.Capacity, HourlyValuePence: cmd.HourlyValuePence})
		if cmd.Offer {
			es = append(es, ResourceOffered{PartnershipID: cmd.PartnershipID, ResourceID: cmd.ResourceID, OwnerSchoolID: cmd.OwnerSchoolID})
		}
		return es, nil
	})
}

// OfferResource is the command to offer a registered resource to
// partners.
type OfferResource struct {
	ResourceID uuid.UUID `json:"resource_id"`
}

// OfferResource records ResourceOffered; offering a resource already on
// offer records nothing. Returns domain.ErrNotFound for an unknown
// resource, ErrNotOwningSchool for an actor not of the owning school, and
// ErrNotPartnershipMember when the owning school has left the partnership.
func (s *Service) OfferResource(ctx context.Context, meta domain.Meta, cmd OfferResource) (domain.Result, error) {
	if err := requireID("resource_id", cmd.ResourceID); err != nil {
		return domain.Result{}, err
	}
	r, err := s.resource(ctx, cmd.ResourceID)
	if err != nil {
		return domain.Result{}, err
	}
	if err := s.requireOwner(ctx, meta, r.OwnerSchoolID, "offer it"); err != nil {
		return domain.Result{}, err
	}
	if _, err := s.member(ctx, r.PartnershipID, fieldID{"resource_id", r.OwnerSchoolID}); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, ResourceStream(cmd.ResourceID), NewResource, meta, func(r *Resource) ([]domain.Event, error) {
		if r.Offered {
			return nil, nil
		}
		return events(ResourceOffered{PartnershipID: r.PartnershipID, ResourceID: r.ID, OwnerSchoolID: r.OwnerSchoolID}), nil
	})
}

// WithdrawResourceOffer is the command to stop offering a resource. Say
// why in meta.Reason.
type WithdrawResourceOffer struct {
	ResourceID uuid.UUID `json:"resource_id"`
}

// WithdrawResourceOffer records ResourceOfferWithdrawn; withdrawing a
// resource not on offer records nothing. Loans already approved stand.
// Returns domain.ErrNotFound for an unknown resource and
// ErrNotOwningSchool for an actor not of the owning school.
func (s *Service) WithdrawResourceOffer(ctx context.Context, meta domain.Meta, cmd WithdrawResourceOffer) (domain.Result, error) {
	if err := requireID("resource_id", cmd.ResourceID); err != nil {
		return domain.Result{}, err
	}
	r, err := s.resource(ctx, cmd.ResourceID)
	if err != nil {
		return domain.Result{}, err
	}
	if err := s.requireOwner(ctx, meta, r.OwnerSchoolID, "withdraw its offer"); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, ResourceStream(cmd.ResourceID), NewResource, meta, func(r *Resource) ([]domain.Event, error) {
		if !r.Offered {
			return nil, nil
		}
		return events(ResourceOfferWithdrawn{PartnershipID: r.PartnershipID, ResourceID: r.ID, OwnerSchoolID: r.OwnerSchoolID}), nil
	})
}

// RequestLoan is the command for a member school to ask to borrow a
// resource for the window [Start, End).
type RequestLoan struct {
	ResourceID       uuid.UUID `json:"resource_id"`
	LoanID           uuid.UUID `json:"loan_id"`
	BorrowerSchoolID uuid.UUID `json:"borrower_school_id"`
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	Purpose          string    `json:"purpose"`
}

// RequestLoan records LoanRequested. Requests may overlap one another
// (the owning school chooses), but not a loan already approved. Returns
// domain.ErrNotFound for an unknown resource, ErrNotPartnershipMember when
// the borrower (or the owner) is not a member, ErrOwnResource when the
// borrower owns the resource, ErrResourceNotOffered when it is not on
// offer, ErrLoanOverlaps when an approved loan overlaps the window,
// domain.ErrAlreadyExists for a loan id already used, and
// domain.ErrRequired or ErrInvalidValue for missing fields or an empty
// window.
func (s *Service) RequestLoan(ctx context.Context, meta domain.Meta, cmd RequestLoan) (domain.Result, error) {
	if err := requireIDs(fieldID{"resource_id", cmd.ResourceID}, fieldID{"loan_id", cmd.LoanID}, fieldID{"borrower_school_id", cmd.BorrowerSchoolID}); err != nil {
		return domain.Result{}, err
	}
	if err := requireWindow("start", cmd.Start, cmd.End); err != nil {
		return domain.Result{}, err
	}
	purpose, err := text("purpose", cmd.Purpose, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	r, err := s.resource(ctx, cmd.ResourceID)
	if err != nil {
		return domain.Result{}, err
	}
	if cmd.BorrowerSchoolID == r.OwnerSchoolID {
		return domain.Result{}, domain.RejectField(ErrOwnResource, "borrower_school_id", "school %s owns %s; it can use it without a loan", cmd.BorrowerSchoolID, r.Name)
	}
	if _, err := s.member(ctx, r.PartnershipID, fieldID{"borrower_school_id", cmd.BorrowerSchoolID}, fieldID{"resource_id", r.OwnerSchoolID}); err != nil {
		return domain.Result{}, err
	}
	start, end := utc(cmd.Start), utc(cmd.End)
	return runOnLoan(ctx, s, cmd.ResourceID, cmd.LoanID, meta, func(r *Resource) ([]domain.Event, error) {
		if _, ok := r.Loan(cmd.LoanID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "loan_id", "loan %s of %s is already requested", cmd.LoanID, r.Name)
		}
		if !r.Offered {
			return nil, domain.Reject(ErrResourceNotOffered, "%s is not offered to partners at the moment; ask its owning school to offer it", r.Name)
		}
		if clash, ok := r.Clash(start, end, uuid.Nil); ok {
			return nil, overlapError(r, clash, start, end)
		}
		keys := LoanKeys{PartnershipID: r.PartnershipID, ResourceID: r.ID, LoanID: cmd.LoanID, OwnerSchoolID: r.OwnerSchoolID, BorrowerSchoolID: cmd.BorrowerSchoolID}
		return events(LoanRequested{LoanKeys: keys, Start: start, End: end, Purpose: purpose}), nil
	})
}

// ApproveLoan is the command for the owning school to approve a loan.
type ApproveLoan struct {
	ResourceID uuid.UUID `json:"resource_id"`
	LoanID     uuid.UUID `json:"loan_id"`
}

// ApproveLoan records LoanApproved. The actor must be staff of the owning
// school. The check that no approved loan overlaps is made on the
// resource's latest state, so of two concurrent approvals of overlapping
// loans only one succeeds. Returns domain.ErrNotFound for an unknown
// resource or loan, ErrNotOwningSchool for an actor of another school,
// ErrNotPartnershipMember when the borrower has left, ErrLoanState for a
// loan not awaiting a decision, ErrResourceNotOffered when the offer was
// withdrawn, and ErrLoanOverlaps (naming the clashing loan and its
// window) when an approved loan overlaps.
func (s *Service) ApproveLoan(ctx context.Context, meta domain.Meta, cmd ApproveLoan) (domain.Result, error) {
	r, l, err := s.loanCommand(ctx, cmd.ResourceID, cmd.LoanID)
	if err != nil {
		return domain.Result{}, err
	}
	if err := s.requireOwner(ctx, meta, r.OwnerSchoolID, "approve loans of it"); err != nil {
		return domain.Result{}, err
	}
	if _, err := s.member(ctx, r.PartnershipID, fieldID{"loan_id", l.BorrowerSchoolID}); err != nil {
		return domain.Result{}, err
	}
	return runOnLoan(ctx, s, cmd.ResourceID, cmd.LoanID, meta, func(r *Resource) ([]domain.Event, error) {
		l, err := loanIn(r, cmd.LoanID)
		if err != nil {
			return nil, err
		}
		if l.Status != LoanRequestedStatus {
			return nil, domain.Reject(ErrLoanState, "loan %s of %s is %s, not awaiting a decision", l.ID, r.Name, l.Status)
		}
		if !r.Offered {
			return nil, domain.Reject(ErrResourceNotOffered, "the offer of %s was withdrawn; offer it again before approving loan %s, or decline it", r.Name, l.ID)
		}
		if clash, ok := r.Clash(l.Start, l.End, l.ID); ok {
			return nil, overlapError(r, clash, l.Start, l.End)
		}
		return events(LoanApproved{LoanKeys: keysOf(r, l), Start: l.Start, End: l.End}), nil
	})
}

// loanCommand validates a command's resource and loan ids and loads the
// resource for the read-only checks that come before the decision.
func (s *Service) loanCommand(ctx context.Context, resourceID, loanID uuid.UUID) (*Resource, Loan, error) {
	if err := requireIDs(fieldID{"resource_id", resourceID}, fieldID{"loan_id", loanID}); err != nil {
		return nil, Loan{}, err
	}
	r, err := s.resource(ctx, resourceID)
	if err != nil {
		return nil, Loan{}, err
	}
	l, err := loanIn(r, loanID)
	if err != nil {
		return nil, Loan{}, err
	}
	return r, l, nil
}

// DeclineLoan is the command for the owning school to decline a loan. Say
// why in meta.Reason.
type DeclineLoan struct {
	ResourceID uuid.UUID `json:"resource_id"`
	LoanID     uuid.UUID `json:"loan_id"`
}

// DeclineLoan records LoanDeclined. Returns domain.ErrNotFound for an
// unknown resource or loan, ErrNotOwningSchool for an actor of another
// school and ErrLoanState for a loan not awaiting a decision.
func (s *Service) DeclineLoan(ctx context.Context, meta domain.Meta, cmd DeclineLoan) (domain.Result, error) {
	r, _, err := s.loanCommand(ctx, cmd.ResourceID, cmd.LoanID)
	if err != nil {
		return domain.Result{}, err
	}
	if err := s.requireOwner(ctx, meta, r.OwnerSchoolID, "decline loans of it"); err != nil {
		return domain.Result{}, err
	}
	return runOnLoan(ctx, s, cmd.ResourceID, cmd.LoanID, meta, func(r *Resource) ([]domain.Event, error) {
		l, err := loanIn(r, cmd.LoanID)
		if err != nil {
			return nil, err
		}
		if l.Status != LoanRequestedStatus {
			return nil, domain.Reject(ErrLoanState, "loan %s of %s is %s, not awaiting a decision", l.ID, r.Name, l.Status)
		}
		return events(LoanDeclined{LoanKeys: keysOf(r, l)}), nil
	})
}

// CancelLoan is the command to call a loan off before collection. Say why
// in meta.Reason.
type CancelLoan struct {
	ResourceID uuid.UUID `json:"resource_id"`
	LoanID     uuid.UUID `json:"loan_id"`
}

// CancelLoan records LoanCancelled. The actor must be staff of the
// borrowing or the owning school. Returns domain.ErrNotFound for an
// unknown resource or loan, ErrNotLoanParty for an actor of another
// school, and ErrLoanState once the resource was collected or the loan
// was declined or cancelled.
func (s *Service) CancelLoan(ctx context.Context, meta domain.Meta, cmd CancelLoan) (domain.Result, error) {
	r, l, err := s.loanCommand(ctx, cmd.ResourceID, cmd.LoanID)
	if err != nil {
		return domain.Result{}, err
	}
	by, err := s.loanParty(ctx, meta, r, l, "cancel")
	if err != nil {
		return domain.Result{}, err
	}
	return runOnLoan(ctx, s, cmd.ResourceID, cmd.LoanID, meta, func(r *Resource) ([]domain.Event, error) {
		l, err := loanIn(r, cmd.LoanID)
		if err != nil {
			return nil, err
		}
		if l.Status != LoanRequestedStatus && l.Status != LoanApprovedStatus {
			return nil, domain.Reject(ErrLoanState, "loan %s of %s is %s; only a loan not yet collected can be cancelled", l.ID, r.Name, l.Status)
		}
		return events(LoanCancelled{LoanKeys: keysOf(r, l), CancelledBySchoolID: by, WasStatus: l.Status}), nil
	})
}

// CollectLoan is the command recording that the borrower collected the
// resource.
type CollectLoan struct {
	ResourceID uuid.UUID `json:"resource_id"`
	LoanID     uuid.UUID `json:"loan_id"`
	// CollectedAt defaults to meta.EffectiveAt, else now; never a time
	// to come.
	CollectedAt time.Time `json:"collected_at"`
}

// CollectLoan records LoanCollected. The actor must be staff of the
// borrowing or the owning school. Returns domain.ErrNotFound for an
// unknown resource or loan, ErrNotLoanParty for an actor of another
// school, ErrLoanNotApproved for a loan still awaiting approval, and
// ErrLoanState for one declined, cancelled or already collected.
func (s *Service) CollectLoan(ctx context.Context, meta domain.Meta, cmd CollectLoan) (domain.Result, error) {
	r, l, err := s.loanCommand(ctx, cmd.ResourceID, cmd.LoanID)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := s.loanParty(ctx, meta, r, l, "collect"); err != nil {
		return domain.Result{}, err
	}
	at, err := s.happened("collected_at", cmd.CollectedAt, meta)
	if err != nil {
		return domain.Result{}, err
	}
	return runOnLoan(ctx, s, cmd.ResourceID, cmd.LoanID, meta, func(r *Resource) ([]domain.Event, error) {
		l, err := loanIn(r, cmd.LoanID)
		if err != nil {
			return nil, err
		}
		switch l.Status {
		case LoanApprovedStatus:
		case LoanRequestedStatus:
			return nil, domain.Reject(ErrLoanNotApproved, "loan %s of %s is still awaiting the owning school's approval; it cannot be collected yet", l.ID, r.Name)
		default:
			return nil, domain.Reject(ErrLoanState, "loan %s of %s is %s; only an approved loan is collected", l.ID, r.Name, l.Status)
		}
		return events(LoanCollected{LoanKeys: keysOf(r, l), CollectedAt: at}), nil
	})
}

// ReturnLoan is the command recording the resource's return and its
// condition.
type ReturnLoan struct {
	ResourceID uuid.UUID `json:"resource_id"`
	LoanID     uuid.UUID `json:"loan_id"`
	// ReturnedAt defaults to meta.EffectiveAt, else now; never a time
	// to come.
	ReturnedAt time.Time `json:"returned_at"`
	Condition  Condition `json:"condition"`
	// Note is required when the condition is damaged.
	Note string `json:"note"`
}

// ReturnLoan records LoanReturned. The actor must be staff of the
// borrowing or the owning school. Returns domain.ErrNotFound for an
// unknown resource or loan, ErrNotLoanParty for an actor of another
// school, ErrLoanState for a loan not collected (or already returned),
// ErrDamageNoteRequired for a damaged return without a note, and
// domain.ErrInvalidValue for an unknown condition or a return before the
// collection.
func (s *Service) ReturnLoan(ctx context.Context, meta domain.Meta, cmd ReturnLoan) (domain.Result, error) {
	if !cmd.Condition.Valid() {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "condition", "%q is not a condition: use good, fair or damaged", cmd.Condition)
	}
	note, err := text("note", cmd.Note, maxText, false)
	if err != nil {
		return domain.Result{}, err
	}
	if cmd.Condition == ConditionDamaged && note == "" {
		return domain.Result{}, domain.RejectField(ErrDamageNoteRequired, "note", "the resource came back damaged; say what the damage is")
	}
	r, l, err := s.loanCommand(ctx, cmd.ResourceID, cmd.LoanID)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := s.loanParty(ctx, meta, r, l, "return"); err != nil {
		return domain.Result{}, err
	}
	at, err := s.happened("returned_at", cmd.ReturnedAt, meta)
	if err != nil {
		return domain.Result{}, err
	}
	return runOnLoan(ctx, s, cmd.ResourceID, cmd.LoanID, meta, func(r *Resource) ([]domain.Event, error) {
		l, err := loanIn(r, cmd.LoanID)
		if err != nil {
			return nil, err
		}
		if l.Status != LoanCollectedStatus {
			return nil, domain.Reject(ErrLoanState, "loan %s of %s is %s; only a collected loan is returned", l.ID, r.Name, l.Status)
		}
		if at.Before(l.CollectedAt) {
			return nil, domain.RejectField(domain.ErrInvalidValue, "returned_at", "%s was collected at %s; it cannot be returned before that", r.Name, l.CollectedAt.Format(time.RFC3339))
		}
		return events(LoanReturned{LoanKeys: keysOf(r, l), ReturnedAt: at, Condition: cmd.Condition, Note: note, Late: at.After(l.End)}), nil
	})
}
