package partnership

import "github.com/concord-ledger/concord/domain"

// Rules of partnership membership.
var (
	// ErrNotPartnershipMember is returned when a command names a school that
	// is not (or no longer) a member of the partnership.
	ErrNotPartnershipMember = domain.NewRule("not-partnership-member", domain.KindInvalid, "This school is not a member of the partnership",
		"Only the partnership's current member schools share resources, teachers and CPD, review each other, rate progress, record costs and make commitments; a school that has left takes part in nothing new.")
	// ErrAlreadyPartnershipMember is returned when a school joins a
	// partnership it is already a member of.
	ErrAlreadyPartnershipMember = domain.NewRule("already-partnership-member", domain.KindConflict, "Already a member of the partnership",
		"A school joins a partnership once; it can join again only after it has left.")
)

// Rules of dates.
var (
	// ErrOutsideYear is returned when a business date falls outside the
	// academic year its command or event claims.
	// It is domain.ErrOutsideYear, shared with the governance rules.
	ErrOutsideYear = domain.ErrOutsideYear
)

// Rules of shared resources and loans.
var (
	// ErrNotOwningSchool is returned when someone who is not staff of the
	// school that owns a resource registers, offers, withdraws, approves or
	// declines it.
	ErrNotOwningSchool = domain.NewRule("not-owning-school", domain.KindForbidden, "Only the owning school can do this",
		"Only staff of the school that owns a resource may register it, offer it, withdraw the offer, and approve or decline loans of it.")
	// ErrOwnResource is returned when a school asks to borrow a resource it
	// owns.
	ErrOwnResource = domain.NewRule("own-resource", domain.KindInvalid, "A school cannot borrow its own resource",
		"Loans are between partner schools; a school uses its own resources without a loan.")
	// ErrResourceNotOffered is returned when a loan of a resource is
	// requested or approved while the resource is not offered to partners.
	ErrResourceNotOffered = domain.NewRule("resource-not-offered", domain.KindConflict, "This resource is not on offer",
		"A loan can be requested or approved only while the owning school offers the resource to its partners.")
	// ErrLoanOverlaps is returned when a loan would overlap a loan of the
	// same resource already approved for that time.
	ErrLoanOverlaps = domain.NewRule("loan-overlaps", domain.KindConflict, "The resource is already lent for that time",
		"A resource cannot be lent twice for overlapping times: approved loans of one resource never overlap.")
	// ErrLoanNotApproved is returned when a loan that has not been approved
	// is collected.
	ErrLoanNotApproved = domain.NewRule("loan-not-approved", domain.KindConflict, "The loan has not been approved",
		"A resource is collected only on a loan the owning school has approved.")
	// ErrLoanState is returned when a loan is not at the stage a command
	// needs (approving a cancelled loan, returning one never collected…).
	ErrLoanState = domain.NewRule("loan-state", domain.KindConflict, "The loan is not at the right stage for this",
		"A loan goes requested → approved → collected → returned, or ends declined or cancelled; each step is taken once, in order.")
	// ErrNotLoanParty is returned when someone from neither the borrowing
	// nor the owning school cancels, collects or returns a loan.
	ErrNotLoanParty = domain.NewRule("not-loan-party", domain.KindForbidden, "Only the borrowing or owning school can do this",
		"A loan is cancelled, collected and returned by staff of the borrowing or the owning school.")
	// ErrDamageNoteRequired is returned when a resource is returned damaged
	// without a note of the damage.
	ErrDamageNoteRequired = domain.NewRule("damage-note-required", domain.KindInvalid, "Say what was damaged",
		"A resource returned damaged needs a note of the damage, so the owning school can follow it up.")
)

// Rules of teacher secondments.
var (
	// ErrNotStaffOfLendingSchool is returned when the teacher of a
	// secondment is not staff of the lending school.
	ErrNotStaffOfLendingSchool = domain.NewRule("not-staff-of-lending-school", domain.KindInvalid, "The teacher is not staff of the lending school",
		"A school can second only its own staff to a partner school.")
	// ErrSecondmentSameSchool is returned when a secondment's lending and
	// receiving schools are the same.
	ErrSecondmentSameSchool = domain.NewRule("secondment-same-school", domain.KindInvalid, "A secondment is to another school",
		"A secondment sends a teacher from one member school to a different member school.")
	// ErrSecondmentOverCommitted is returned when a teacher's overlapping
	// secondments would add up to more than their whole time.
	ErrSecondmentOverCommitted = domain.NewRule("secondment-over-committed", domain.KindConflict, "The teacher would be seconded for more than their whole time",
		"At any time, a teacher's secondments together may take at most 100% of their time.")
	// ErrSecondmentState is returned when a secondment is ended or cancelled
	// when it cannot be (already ended, or started and so must be ended
	// rather than cancelled).
	ErrSecondmentState = domain.NewRule("secondment-state", domain.KindConflict, "The secondment cannot be changed like this",
		"A secondment is cancelled before it starts, or ended early while it runs; once ended or cancelled it is closed.")
)

// Rules of shared CPD and events.
var (
	// ErrNoPlacesLeft is returned when a booking asks for more places than
	// an event has left.
	ErrNoPlacesLeft = domain.NewRule("no-places-left", domain.KindConflict, "Not enough places left",
		"An event is never booked beyond the places its organiser offered.")
	// ErrBookingState is returned when a booking is cancelled or its
	// attendance recorded when it cannot be (already cancelled, the event
	// has or has not yet started, attendance already recorded).
	ErrBookingState = domain.NewRule("cpd-booking-state", domain.KindConflict, "The booking cannot be changed like this",
		"A booking is cancelled before the event starts; its attendance is recorded once, after the event starts, for a booking that was not cancelled.")
)

// Rules of peer review.
var (
	// ErrReviewerFromReviewedSchool is returned when a reviewer works at the
	// school under review.
	ErrReviewerFromReviewedSchool = domain.NewRule("reviewer-from-reviewed-school", domain.KindInvalid, "A school cannot review itself",
		"Peer reviewers come from the other partner schools, never from the school being reviewed.")
	// ErrNotReviewer is returned when someone who is not one of a review's
	// reviewers records a finding or completes the review.
	ErrNotReviewer = domain.NewRule("not-a-reviewer", domain.KindForbidden, "Only the review's reviewers can do this",
		"A peer review's findings are recorded, and the review completed, by its reviewers.")
	// ErrReviewState is returned when a review is changed out of turn: a
	// finding after completion, completing twice or with no findings,
	// completing a follow-up action twice.
	ErrReviewState = domain.NewRule("review-state", domain.KindConflict, "The review is not at the right stage for this",
		"Findings are recorded until the review is completed; a review is completed once, with at least one finding; each follow-up action is completed once.")
)

// Rules of collective accountability and the improvement timeline.
var (
	// ErrCommitmentClosed is returned when a commitment already marked
	// achieved or missed is updated.
	ErrCommitmentClosed = domain.NewRule("commitment-closed", domain.KindConflict, "The commitment is already closed",
		"Once a commitment is marked achieved or missed it takes no further updates; record a new commitment instead.")
	// ErrTimelineItemDone is returned when an item of an improvement
	// timeline that is already done is rescheduled or marked done again.
	ErrTimelineItemDone = domain.NewRule("timeline-item-done", domain.KindConflict, "That item is already done",
		"An item of the improvement timeline is marked done once and is not rescheduled afterwards.")
)
