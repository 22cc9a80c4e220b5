package partnership

import (
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// The Check methods below implement domain.Checker: whether an event could
// have been recorded on the aggregate's state, with the checks of the
// command that records it, at the event's effective moment (a booking
// before the event ended, a cancellation before the start). A correction
// is accepted only if the replacement passes them and no later event of
// the record fails them because of it (domain.Correct): a loan cannot be
// made to overlap another, a secondment pushed past a teacher's whole
// time, an event overbooked. Membership of the partnership, from its own
// record, is checked by Service.CorrectEvent.

func notThisRecord(what string, got, want uuid.UUID) error {
	return domain.RejectField(domain.ErrCorrectionTarget, "replacement", "the event names %s %s, but it is recorded in the record of %s %s", what, got, what, want)
}

// Check implements domain.Checker.
func (p *Partnership) Check(m domain.Message) error {
	if e, ok := m.Event.(PartnershipFormed); ok {
		if p.Formed() {
			return domain.RejectField(domain.ErrAlreadyExists, "partnership_id", "partnership %s was already formed", p.ID)
		}
		if !e.Kind.Valid() {
			return domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of partnership: use trust, cluster or network", e.Kind)
		}
		if e.FormedOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "formed_on", "give the day it was formed")
		}
		_, err := text("name", e.Name, maxName, true)
		return err
	}
	if !p.Formed() {
		return domain.RejectField(domain.ErrNotFound, "partnership_id", "the partnership is not formed yet")
	}
	switch e := m.Event.(type) {
	case SchoolJoinedPartnership:
		if mb, ok := p.current(e.SchoolID); ok {
			return domain.RejectField(ErrAlreadyPartnershipMember, "school_id", "school %s has been a member of %s since %s", e.SchoolID, p.Name, day(mb.JoinedOn))
		}
		if e.JoinedOn.Before(p.FormedOn) {
			return domain.RejectField(domain.ErrInvalidValue, "joined_on", "%s was formed on %s; a school cannot join before that (%s)", p.Name, day(p.FormedOn), day(e.JoinedOn))
		}
		for _, mb := range p.Memberships {
			if mb.SchoolID == e.SchoolID && !e.JoinedOn.After(mb.LeftOn) {
				return domain.RejectField(domain.ErrInvalidValue, "joined_on", "school %s was a member until %s; it can rejoin from the day after", e.SchoolID, day(mb.LeftOn))
			}
		}
	case SchoolLeftPartnership:
		mb, ok := p.current(e.SchoolID)
		if !ok {
			return p.checkMember("school_id", e.SchoolID)
		}
		if e.LeftOn.Before(mb.JoinedOn) {
			return domain.RejectField(domain.ErrInvalidValue, "left_on", "school %s joined on %s; it cannot leave before that (%s)", e.SchoolID, day(mb.JoinedOn), day(e.LeftOn))
		}
	case PartnershipLeadAppointed:
		return requireID("lead_id", e.LeadID)
	case AuditorAppointed:
		if err := requireID("auditor_id", e.AuditorID); err != nil {
			return err
		}
		if p.HasAuditor(e.AuditorID) {
			return domain.RejectField(domain.ErrAlreadyExists, "auditor_id", "person %s is already appointed to audit %s", e.AuditorID, p.Name)
		}
		if e.AppointedOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "appointed_on", "give the day the appointment starts")
		}
	case AuditorAppointmentEnded:
		if !p.HasAuditor(e.AuditorID) {
			return domain.RejectField(domain.ErrNotFound, "auditor_id", "person %s is not appointed to audit %s", e.AuditorID, p.Name)
		}
		if e.EndedOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "ended_on", "give the last day of the appointment")
		}
	case PriorityAgreed:
		if pr, ok := p.Priority(e.PriorityID); ok {
			return domain.RejectField(domain.ErrAlreadyExists, "priority_id", "priority %s (%q) is already agreed", pr.ID, pr.Title)
		}
		if _, err := text("title", e.Title, maxName, true); err != nil {
			return err
		}
		return academicYear("academic_year", e.AcademicYear)
	case ContributionRecognised:
		for _, r := range p.Recognitions {
			if r.RecognitionID == e.RecognitionID {
				return domain.RejectField(domain.ErrAlreadyExists, "recognition_id", "recognition %s is already recorded", r.RecognitionID)
			}
		}
		switch e.RecipientKind {
		case RecipientPerson:
		case RecipientSchool, RecipientCommunity:
			if !p.WasMember(e.SchoolID) {
				return domain.RejectField(ErrNotPartnershipMember, "recipient_id", "school %s has never been a member of %s", e.SchoolID, p.Name)
			}
		default:
			return domain.RejectField(domain.ErrInvalidValue, "recipient_kind", "%q is not a kind of recipient: use person, school or community", e.RecipientKind)
		}
		if e.ReferenceKind != "" && !e.ReferenceKind.Valid() {
			return domain.RejectField(domain.ErrInvalidValue, "reference_kind", "%q is not a kind of partnership work", e.ReferenceKind)
		}
		if e.RecognisedOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "recognised_on", "give the day of the recognition")
		}
		_, err := text("citation", e.Citation, maxText, true)
		return err
	}
	return nil
}

// Check implements domain.Checker.
func (l *CostLedger) Check(m domain.Message) error {
	e, ok := m.Event.(TransactionCostRecorded)
	if !ok {
		return nil
	}
	for _, x := range l.Entries {
		if x.EntryID == e.EntryID {
			return domain.RejectField(domain.ErrAlreadyExists, "entry_id", "cost entry %s is already recorded", e.EntryID)
		}
	}
	return checkCost(e)
}

// checkCost applies the rules of one transaction cost.
func checkCost(e TransactionCostRecorded) error {
	if !e.Category.Valid() {
		return domain.RejectField(domain.ErrInvalidValue, "category", "%q is not a category of cost: use meetings, travel, coordination or other", e.Category)
	}
	if e.Hours < 0 || math.IsNaN(e.Hours) || math.IsInf(e.Hours, 0) || e.Hours > 10000 {
		return domain.RejectField(domain.ErrInvalidValue, "hours", "hours must be a number from 0 to 10000, not %v", e.Hours)
	}
	if e.AmountPence < 0 {
		return domain.RejectField(domain.ErrInvalidValue, "amount_pence", "the amount cannot be negative (%d)", e.AmountPence)
	}
	if e.Hours == 0 && e.AmountPence == 0 {
		return domain.RejectField(domain.ErrRequired, "hours", "give the hours spent, the amount spent, or both")
	}
	if e.On.IsZero() || e.AcademicYear != AcademicYearOf(e.On) {
		return domain.RejectField(ErrOutsideYear, "on", "the cost's day %s is not in the academic year %s it names", day(e.On), e.AcademicYear)
	}
	_, err := text("note", e.Note, maxText, true)
	return err
}

// Check implements domain.Checker.
func (r *Resource) Check(m domain.Message) error {
	if e, ok := m.Event.(ResourceRegistered); ok {
		if r.Registered() {
			return domain.RejectField(domain.ErrAlreadyExists, "resource_id", "resource %s is already registered", r.ID)
		}
		if !e.Kind.Valid() {
			return domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of resource", e.Kind)
		}
		if e.Capacity < 0 || e.HourlyValuePence < 0 {
			return domain.RejectField(domain.ErrInvalidValue, "capacity", "capacity and hourly value cannot be negative")
		}
		_, err := text("name", e.Name, maxName, true)
		return err
	}
	if !r.Registered() {
		return domain.RejectField(domain.ErrNotFound, "resource_id", "the resource is not registered yet")
	}
	keys := func(k LoanKeys) error {
		if k.ResourceID != r.ID {
			return notThisRecord("resource", k.ResourceID, r.ID)
		}
		if k.OwnerSchoolID != r.OwnerSchoolID {
			return notThisRecord("owning school", k.OwnerSchoolID, r.OwnerSchoolID)
		}
		return nil
	}
	loan := func(k LoanKeys) (Loan, error) {
		if err := keys(k); err != nil {
			return Loan{}, err
		}
		l, err := loanIn(r, k.LoanID)
		if err == nil && l.BorrowerSchoolID != k.BorrowerSchoolID {
			return l, notThisRecord("borrowing school", k.BorrowerSchoolID, l.BorrowerSchoolID)
		}
		return l, err
	}
	switch e := m.Event.(type) {
	case ResourceOffered:
		if e.ResourceID != r.ID {
			return notThisRecord("resource", e.ResourceID, r.ID)
		}
	case ResourceOfferWithdrawn:
		if e.ResourceID != r.ID {
			return notThisRecord("resource", e.ResourceID, r.ID)
		}
	case LoanRequested:
		if err := keys(e.LoanKeys); err != nil {
			return err
		}
		if _, ok := r.Loan(e.LoanID); ok {
			return domain.RejectField(domain.ErrAlreadyExists, "loan_id", "loan %s of %s is already requested", e.LoanID, r.Name)
		}
		if e.BorrowerSchoolID == r.OwnerSchoolID {
			return domain.RejectField(ErrOwnResource, "borrower_school_id", "school %s owns %s; it can use it without a loan", e.BorrowerSchoolID, r.Name)
		}
		if err := requireWindow("start", e.Start, e.End); err != nil {
			return err
		}
		if !r.Offered {
			return domain.Reject(ErrResourceNotOffered, "%s was not offered to partners", r.Name)
		}
		if clash, ok := r.Clash(e.Start, e.End, uuid.Nil); ok {
			return overlapError(r, clash, e.Start, e.End)
		}
		_, err := text("purpose", e.Purpose, maxText, true)
		return err
	case LoanApproved:
		l, err := loan(e.LoanKeys)
		if err != nil {
			return err
		}
		if l.Status != LoanRequestedStatus {
			return domain.Reject(ErrLoanState, "loan %s of %s is %s, not awaiting a decision", l.ID, r.Name, l.Status)
		}
		if err := requireWindow("start", e.Start, e.End); err != nil {
			return err
		}
		if !r.Offered {
			return domain.Reject(ErrResourceNotOffered, "the offer of %s was withdrawn", r.Name)
		}
		if clash, ok := r.Clash(e.Start, e.End, l.ID); ok {
			return overlapError(r, clash, e.Start, e.End)
		}
	case LoanDeclined:
		l, err := loan(e.LoanKeys)
		if err != nil {
			return err
		}
		if l.Status != LoanRequestedStatus {
			return domain.Reject(ErrLoanState, "loan %s of %s is %s, not awaiting a decision", l.ID, r.Name, l.Status)
		}
	case LoanCancelled:
		l, err := loan(e.LoanKeys)
		if err != nil {
			return err
		}
		if l.Status != LoanRequestedStatus && l.Status != LoanApprovedStatus {
			return domain.Reject(ErrLoanState, "loan %s of %s is %s; only a loan not yet collected can be cancelled", l.ID, r.Name, l.Status)
		}
		if e.CancelledBySchoolID != l.BorrowerSchoolID && e.CancelledBySchoolID != r.OwnerSchoolID {
			return domain.RejectField(ErrNotLoanParty, "cancelled_by_school_id", "school %s is neither the borrower nor the owner of loan %s", e.CancelledBySchoolID, l.ID)
		}
	case LoanCollected:
		l, err := loan(e.LoanKeys)
		if err != nil {
			return err
		}
		switch l.Status {
		case LoanApprovedStatus:
		case LoanRequestedStatus:
			return domain.Reject(ErrLoanNotApproved, "loan %s of %s is still awaiting the owning school's approval", l.ID, r.Name)
		default:
			return domain.Reject(ErrLoanState, "loan %s of %s is %s; only an approved loan is collected", l.ID, r.Name, l.Status)
		}
		if e.CollectedAt.IsZero() {
			return domain.RejectField(domain.ErrRequired, "collected_at", "give when it was collected")
		}
	case LoanReturned:
		l, err := loan(e.LoanKeys)
		if err != nil {
			return err
		}
		if l.Status != LoanCollectedStatus {
			return domain.Reject(ErrLoanState, "loan %s of %s is %s; only a collected loan is returned", l.ID, r.Name, l.Status)
		}
		return checkReturn(l, e)
	}
	return nil
}

// checkReturn applies the rules of the return of loan l.
func checkReturn(l Loan, e LoanReturned) error {
	if !e.Condition.Valid() {
		return domain.RejectField(domain.ErrInvalidValue, "condition", "%q is not a condition: use good, fair or damaged", e.Condition)
	}
	if e.Condition == ConditionDamaged && e.Note == "" {
		return domain.RejectField(ErrDamageNoteRequired, "note", "the resource came back damaged; say what the damage is")
	}
	if e.ReturnedAt.Before(l.CollectedAt) {
		return domain.RejectField(domain.ErrInvalidValue, "returned_at", "it was collected at %s; it cannot be returned before that", l.CollectedAt.Format(time.RFC3339))
	}
	if e.Late != e.ReturnedAt.After(l.End) {
		return domain.RejectField(domain.ErrInvalidValue, "late", "a return at %s is late exactly when it is after the end of the loan, %s", e.ReturnedAt.Format(time.RFC3339), l.End.Format(time.RFC3339))
	}
	return nil
}

// Check implements domain.Checker.
func (a *Secondments) Check(m domain.Message) error {
	switch e := m.Event.(type) {
	case SecondmentAgreed:
		if a.TeacherID != uuid.Nil && e.TeacherID != a.TeacherID {
			return notThisRecord("teacher", e.TeacherID, a.TeacherID)
		}
		if _, ok := a.Secondment(e.SecondmentID); ok {
			return domain.RejectField(domain.ErrAlreadyExists, "secondment_id", "secondment %s is already agreed", e.SecondmentID)
		}
		return a.checkAgreed(e)
	case SecondmentEndedEarly:
		x, err := a.agreed(e.SecondmentID)
		if err != nil {
			return err
		}
		if !e.EndOn.After(x.Start) {
			return domain.RejectField(domain.ErrInvalidValue, "end_on", "%s starts on %s; to end it on %s, cancel it instead", x, day(x.Start), day(e.EndOn))
		}
		if !e.EndOn.Before(x.End) {
			return domain.RejectField(domain.ErrInvalidValue, "end_on", "%s already ends on %s; an early end must come before that", x, day(x.End))
		}
	case SecondmentCancelled:
		x, err := a.agreed(e.SecondmentID)
		if err != nil {
			return err
		}
		if !Date(m.Effective()).Before(x.Start) {
			return domain.Reject(ErrSecondmentState, "%s started on %s; it is ended early, not cancelled", x, day(x.Start))
		}
	}
	return nil
}

func (a *Secondments) agreed(id uuid.UUID) (Secondment, error) {
	x, ok := a.Secondment(id)
	if !ok {
		return x, domain.RejectField(domain.ErrNotFound, "secondment_id", "teacher %s has no secondment %s", a.TeacherID, id)
	}
	if x.Status != SecondmentAgreedStatus {
		return x, domain.Reject(ErrSecondmentState, "%s is already %s", x, x.Status)
	}
	return x, nil
}

// checkAgreed applies the rules of a new secondment: a window, a share of
// time in (0, 1], two different schools, and the teacher's secondments
// never over their whole time.
func (a *Secondments) checkAgreed(e SecondmentAgreed) error {
	if err := requireWindow("start", e.Start, e.End); err != nil {
		return err
	}
	if !(e.Fraction > 0 && e.Fraction <= 1) {
		return domain.RejectField(domain.ErrInvalidValue, "fraction", "the share of the teacher's time must be more than 0 and at most 1 (full time), not %v", e.Fraction)
	}
	if e.LendingSchoolID == e.ReceivingSchoolID {
		return domain.RejectField(ErrSecondmentSameSchool, "receiving_school_id", "school %s would both lend and receive the teacher", e.LendingSchoolID)
	}
	if e.AcademicYear != AcademicYearOf(e.Start) {
		return domain.RejectField(ErrOutsideYear, "start", "a secondment starting on %s starts in %s, not %s", day(e.Start), AcademicYearOf(e.Start), e.AcademicYear)
	}
	if peak, overlapping := a.Commitment(e.Start, e.End); peak+e.Fraction > 1+fractionSlack {
		return overCommitted(e.Start, e.End, peak, e.Fraction, overlapping)
	}
	_, err := text("subject", e.Subject, maxName, true)
	return err
}

// Check implements domain.Checker.
func (c *CPDEvent) Check(m domain.Message) error {
	if e, ok := m.Event.(CPDEventOrganised); ok {
		if c.Organised() {
			return domain.RejectField(domain.ErrAlreadyExists, "cpd_id", "CPD event %s is already organised", c.ID)
		}
		return checkOrganised(e)
	}
	if !c.Organised() {
		return domain.RejectField(domain.ErrNotFound, "cpd_id", "the CPD event is not organised yet")
	}
	at := m.Effective()
	switch e := m.Event.(type) {
	case CPDPlacesBooked:
		if _, ok := c.Booking(e.BookingID); ok {
			return domain.RejectField(domain.ErrAlreadyExists, "booking_id", "booking %s is already made", e.BookingID)
		}
		if e.Places < 1 {
			return domain.RejectField(domain.ErrInvalidValue, "places", "book at least one place (not %d)", e.Places)
		}
		if !at.Before(c.EndsAt) {
			return domain.Reject(ErrBookingState, "%s ended on %s; it can no longer be booked", c.Title, day(c.EndsAt))
		}
		if left := c.PlacesLeft(); e.Places > left {
			return domain.RejectField(ErrNoPlacesLeft, "places", "%s has %d of its %d places left, not %d", c.Title, left, c.Places, e.Places)
		}
	case CPDBookingCancelled:
		b, ok := c.Booking(e.BookingID)
		if !ok {
			return domain.RejectField(domain.ErrNotFound, "booking_id", "%s has no booking %s", c.Title, e.BookingID)
		}
		if b.Cancelled {
			return domain.Reject(ErrBookingState, "booking %s of %s is already cancelled", b.ID, c.Title)
		}
		if !at.Before(c.StartsAt) {
			return domain.Reject(ErrBookingState, "%s started at %s; a booking can only be cancelled before then", c.Title, c.StartsAt.Format(time.RFC3339))
		}
	case CPDAttendanceRecorded:
		b, ok := c.Booking(e.BookingID)
		switch {
		case !ok:
			return domain.RejectField(domain.ErrNotFound, "booking_id", "%s has no booking %s", c.Title, e.BookingID)
		case b.Cancelled:
			return domain.Reject(ErrBookingState, "booking %s of %s was cancelled", b.ID, c.Title)
		case at.Before(c.StartsAt):
			return domain.Reject(ErrBookingState, "%s starts at %s; attendance is recorded once it has started", c.Title, c.StartsAt.Format(time.RFC3339))
		case b.Recorded:
			return domain.Reject(ErrBookingState, "attendance of booking %s is already recorded", b.ID)
		case e.Attended < 0 || e.Attended > b.Places:
			return domain.RejectField(domain.ErrInvalidValue, "attended", "booking %s has %d places; attendance must be 0 to %d, not %d", b.ID, b.Places, b.Places, e.Attended)
		}
	}
	return nil
}

func checkOrganised(e CPDEventOrganised) error {
	if !e.Kind.Valid() {
		return domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of event: use cpd, teachmeet, shadowing, trip or event", e.Kind)
	}
	if err := requireWindow("starts_at", e.StartsAt, e.EndsAt); err != nil {
		return err
	}
	if e.Places < 1 {
		return domain.RejectField(domain.ErrInvalidValue, "places", "offer at least one place (not %d)", e.Places)
	}
	if e.CostPerPlacePence < 0 {
		return domain.RejectField(domain.ErrInvalidValue, "cost_per_place_pence", "the cost of a place cannot be negative (%d)", e.CostPerPlacePence)
	}
	if e.BulkPercentOff < 0 || e.BulkPercentOff > 100 || e.BulkPercentOff > 0 && e.BulkMinPlaces < 1 {
		return domain.RejectField(domain.ErrInvalidValue, "bulk_percent_off", "a bulk discount is 1 to 100 percent from a number of places of at least 1")
	}
	if e.AcademicYear != AcademicYearOf(e.StartsAt) {
		return domain.RejectField(ErrOutsideYear, "starts_at", "an event starting on %s is in %s, not %s", day(e.StartsAt), AcademicYearOf(e.StartsAt), e.AcademicYear)
	}
	_, err := text("title", e.Title, maxName, true)
	return err
}

// Check implements domain.Checker.
func (r *Review) Check(m domain.Message) error {
	if e, ok := m.Event.(PeerReviewScheduled); ok {
		if r.Scheduled() {
			return domain.RejectField(domain.ErrAlreadyExists, "review_id", "peer review %s is already scheduled", r.ID)
		}
		if len(e.ReviewerIDs) == 0 || len(e.ReviewerIDs) != len(e.ReviewerSchoolIDs) {
			return domain.RejectField(domain.ErrRequired, "reviewer_ids", "name at least one reviewer, with their school")
		}
		for i, id := range e.ReviewerIDs {
			if id == uuid.Nil || slices.Index(e.ReviewerIDs, id) != i {
				return domain.RejectField(domain.ErrInvalidValue, "reviewer_ids", "reviewer %d is missing or named twice", i+1)
			}
			if e.ReviewerSchoolIDs[i] == e.ReviewedSchoolID {
				return domain.RejectField(ErrReviewerFromReviewedSchool, "reviewer_ids", "reviewer %s works at the school under review", id)
			}
		}
		if len(e.FocusAreas) == 0 {
			return domain.RejectField(domain.ErrRequired, "focus_areas", "name at least one focus area for the review")
		}
		if e.On.IsZero() || e.AcademicYear != AcademicYearOf(e.On) {
			return domain.RejectField(ErrOutsideYear, "on", "the visit's day %s is not in the academic year %s", day(e.On), e.AcademicYear)
		}
		return nil
	}
	if !r.Scheduled() {
		return domain.RejectField(domain.ErrNotFound, "review_id", "the peer review is not scheduled yet")
	}
	switch e := m.Event.(type) {
	case ReviewFindingRecorded:
		if !r.IsReviewer(e.ReviewerID) {
			return domain.RejectField(ErrNotReviewer, "reviewer_id", "person %s is not one of the review's reviewers", e.ReviewerID)
		}
		if r.Completed {
			return domain.Reject(ErrReviewState, "review %s was completed on %s; findings can no longer be added", r.ID, day(r.CompletedOn))
		}
		if _, ok := r.Finding(e.FindingID); ok {
			return domain.RejectField(domain.ErrAlreadyExists, "finding_id", "finding %s is already recorded", e.FindingID)
		}
		if !e.Rating.Valid() {
			return domain.RejectField(domain.ErrInvalidValue, "rating", "%q is not a rating: use red, amber or green", e.Rating)
		}
		if _, err := text("area", e.Area, maxName, true); err != nil {
			return err
		}
		_, err := text("finding", e.Finding, maxText, true)
		return err
	case PeerReviewCompleted:
		if r.Completed {
			return domain.Reject(ErrReviewState, "review %s was already completed on %s", r.ID, day(r.CompletedOn))
		}
		if len(r.Findings) == 0 {
			return domain.Reject(ErrReviewState, "review %s has no findings; record at least one before completing it", r.ID)
		}
		if e.CompletedOn.Before(r.On) {
			return domain.RejectField(domain.ErrInvalidValue, "completed_on", "the visit is on %s; the review is completed after it, not on %s", day(r.On), day(e.CompletedOn))
		}
		_, err := text("summary", e.Summary, maxText, true)
		return err
	case FollowUpActionAgreed:
		if !r.Completed {
			return domain.Reject(ErrReviewState, "review %s is not completed yet; follow-up actions are agreed once it is", r.ID)
		}
		if e.FindingID != uuid.Nil {
			if _, ok := r.Finding(e.FindingID); !ok {
				return domain.RejectField(domain.ErrNotFound, "finding_id", "review %s has no finding %s", r.ID, e.FindingID)
			}
		}
		if _, ok := r.Action(e.ActionID); ok {
			return domain.RejectField(domain.ErrAlreadyExists, "action_id", "follow-up action %s is already agreed", e.ActionID)
		}
		if e.DueOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "due_on", "give the day the action is due")
		}
		_, err := text("action", e.Action, maxText, true)
		return err
	case FollowUpActionCompleted:
		a, ok := r.Action(e.ActionID)
		if !ok {
			return domain.RejectField(domain.ErrNotFound, "action_id", "review %s has no follow-up action %s", r.ID, e.ActionID)
		}
		if a.Done {
			return domain.Reject(ErrReviewState, "follow-up action %s was already done on %s", a.ID, day(a.CompletedOn))
		}
		if e.Late != e.CompletedOn.After(a.DueOn) {
			return domain.RejectField(domain.ErrInvalidValue, "late", "an action done on %s is late exactly when that is after its due day, %s", day(e.CompletedOn), day(a.DueOn))
		}
	}
	return nil
}

// Check implements domain.Checker.
func (p *Progress) Check(m domain.Message) error {
	e, ok := m.Event.(ProgressRated)
	if !ok {
		return nil
	}
	for _, r := range p.Ratings {
		if r.ID == e.RatingID {
			return domain.RejectField(domain.ErrAlreadyExists, "rating_id", "rating %s is already recorded", r.ID)
		}
	}
	return checkRating(e)
}

// checkRating applies the rules of one progress rating: a valid rating,
// cohort, area and evidence, and a half-term under way on the day it was
// rated, in the academic year of that half-term.
func checkRating(e ProgressRated) error {
	if !e.Rating.Valid() {
		return domain.RejectField(domain.ErrInvalidValue, "rating", "%q is not a rating: use red, amber or green", e.Rating)
	}
	if c, ok := NormaliseCohort(e.Cohort); !ok || c != e.Cohort {
		return domain.RejectField(domain.ErrInvalidValue, "cohort", "%q is not a year group", e.Cohort)
	}
	term := Term{AcademicYear: e.AcademicYear, Code: e.Term}
	if err := term.Validate(); err != nil {
		return domain.RejectField(domain.ErrInvalidValue, "term", "%v", err)
	}
	if now := TermOf(e.RatedOn); now.Before(term) {
		return domain.RejectField(domain.ErrInvalidValue, "term", "%s had not started on %s (it was %s); a half-term is rated once it is under way", term, day(e.RatedOn), now)
	}
	if AcademicYearOf(e.RatedOn) != e.AcademicYear {
		return domain.RejectField(ErrOutsideYear, "rated_on", "a rating of %s is made within %s, not on %s", term, e.AcademicYear, day(e.RatedOn))
	}
	if _, err := text("area", e.Area, maxName, true); err != nil {
		return err
	}
	_, err := text("evidence", e.Evidence, maxText, true)
	return err
}

// Check implements domain.Checker.
func (c *Commitment) Check(m domain.Message) error {
	if e, ok := m.Event.(CommitmentMade); ok {
		if c.Made() {
			return domain.RejectField(domain.ErrAlreadyExists, "commitment_id", "commitment %s is already made", c.ID)
		}
		if e.PartyKind != PartySchool && e.PartyKind != PartyCommunity {
			return domain.RejectField(domain.ErrInvalidValue, "party_kind", "%q is not a kind of party: use school or community (an ISLC)", e.PartyKind)
		}
		if e.DueOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "due_on", "give the day the commitment is due")
		}
		_, err := text("success_measure", e.SuccessMeasure, maxText, true)
		return err
	}
	if !c.Made() {
		return domain.RejectField(domain.ErrNotFound, "commitment_id", "the commitment is not made yet")
	}
	if c.Closed() {
		return domain.Reject(ErrCommitmentClosed, "commitment %s was marked %s on %s; it takes no further updates", c.ID, c.Status, day(c.ClosedOn))
	}
	switch e := m.Event.(type) {
	case CommitmentProgressUpdated:
		if e.Percent != nil && (*e.Percent < 0 || *e.Percent > 100) {
			return domain.RejectField(domain.ErrInvalidValue, "percent", "a percentage is 0 to 100, not %d", *e.Percent)
		}
		_, err := text("note", e.Note, maxText, true)
		return err
	case CommitmentAchieved:
		_, err := text("evidence", e.Evidence, maxText, true)
		return err
	case CommitmentMissed:
		_, err := text("evidence", e.Evidence, maxText, true)
		return err
	}
	return nil
}

// Check implements domain.Checker.
func (t *Timeline) Check(m domain.Message) error {
	if e, ok := m.Event.(TimelineCreated); ok {
		if t.Created() {
			return domain.RejectField(domain.ErrAlreadyExists, "timeline_id", "timeline %s already exists", t.ID)
		}
		if err := academicYear("academic_year", e.AcademicYear); err != nil {
			return err
		}
		_, err := text("title", e.Title, maxName, true)
		return err
	}
	if !t.Created() {
		return domain.RejectField(domain.ErrNotFound, "timeline_id", "the timeline is not created yet")
	}
	inYear := func(d time.Time) error {
		if got := AcademicYearOf(d); got != t.AcademicYear {
			return domain.RejectField(ErrOutsideYear, "on", "%s is in %s, not in the timeline's year %s", day(d), got, t.AcademicYear)
		}
		return nil
	}
	switch e := m.Event.(type) {
	case TimelineItemScheduled:
		if t.item(e.ItemID) != nil {
			return domain.RejectField(domain.ErrAlreadyExists, "item_id", "item %s is already on the timeline", e.ItemID)
		}
		if !e.Kind.Valid() {
			return domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of item", e.Kind)
		}
		if _, err := text("title", e.Title, maxName, true); err != nil {
			return err
		}
		return inYear(e.On)
	case TimelineItemRescheduled:
		it := t.item(e.ItemID)
		if it == nil {
			return domain.RejectField(domain.ErrNotFound, "item_id", "timeline %s has no item %s", t.ID, e.ItemID)
		}
		if it.Done {
			return domain.Reject(ErrTimelineItemDone, "%q was done on %s; it cannot be moved", it.Title, day(it.DoneOn))
		}
		return inYear(e.On)
	case TimelineItemDone:
		it := t.item(e.ItemID)
		if it == nil {
			return domain.RejectField(domain.ErrNotFound, "item_id", "timeline %s has no item %s", t.ID, e.ItemID)
		}
		if it.Done {
			return domain.Reject(ErrTimelineItemDone, "%q was already marked done on %s", it.Title, day(it.DoneOn))
		}
		if e.DoneOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "done_on", "give the day it was done")
		}
	}
	return nil
}
