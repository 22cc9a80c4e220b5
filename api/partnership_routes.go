package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/views"
)

func init() { addRoutes(partnershipRoutes) }

// Role sets of the partnership routes.
var (
	partnershipLeads = []Role{RoleAdmin, RolePartnershipLead}
	partnershipHeads = []Role{RoleAdmin, RolePartnershipLead, RoleDirector}
	schoolWorkers    = []Role{RoleAdmin, RoleDirector, RoleStaff, RoleChair, RolePartnershipLead}
)

// aggPartnership loads the aggregate of a partnership stream kind and
// returns the partnership and school it belongs to (uuid.Nil, uuid.Nil when
// it does not exist: the domain then answers 404).
func (s *Server) aggPartnership(ctx context.Context, kind string, id uuid.UUID) (pid, school uuid.UUID, err error) {
	h := s.L.Handler
	switch kind {
	case partnership.KindResource:
		a, _, e := domain.Load(ctx, h, partnership.ResourceStream(id), partnership.NewResource)
		if e == nil {
			pid, school = a.PartnershipID, a.OwnerSchoolID
		}
		err = e
	case partnership.KindCPD:
		a, _, e := domain.Load(ctx, h, partnership.CPDStream(id), partnership.NewCPDEvent)
		if e == nil {
			pid, school = a.PartnershipID, a.OrganiserSchoolID
		}
		err = e
	case partnership.KindReview:
		a, _, e := domain.Load(ctx, h, partnership.ReviewStream(id), partnership.NewReview)
		if e == nil {
			pid = a.PartnershipID
		}
		err = e
	case partnership.KindCommitment:
		a, _, e := domain.Load(ctx, h, partnership.CommitmentStream(id), partnership.NewCommitment)
		if e == nil {
			pid, school = a.PartnershipID, a.SchoolID
		}
		err = e
	case partnership.KindTimeline:
		a, _, e := domain.Load(ctx, h, partnership.TimelineStream(id), partnership.NewTimeline)
		if e == nil {
			pid, school = a.PartnershipID, a.SchoolID
		}
		err = e
	default:
		return uuid.Nil, uuid.Nil, fmt.Errorf("aggPartnership: unknown kind %q", kind)
	}
	if err != nil {
		return uuid.Nil, uuid.Nil, fmt.Errorf("load %s %s: %w", kind, id, err)
	}
	return pid, school, nil
}

// bindAgg sets a command's id from the path parameter name and checks the
// caller's partnership (and, with school true, school) scope for the
// aggregate of kind it names.
func bindAgg(s *Server, r *http.Request, name string, field *uuid.UUID, jsonName, kind string, school bool) error {
	if err := setPathID(r, name, field, jsonName); err != nil {
		return err
	}
	pid, sc, err := s.aggPartnership(r.Context(), kind, *field)
	if err != nil {
		return err
	}
	if err := scopePartnership(r, pid); err != nil {
		return err
	}
	if school {
		return s.scopeSchool(r, sc)
	}
	return nil
}

// bindPartnership sets a command's partnership from the path and checks the
// caller's partnership scope (lead: that the caller is its lead).
func bindPartnership(s *Server, r *http.Request, field *uuid.UUID, leadOnly bool) error {
	if err := setPathID(r, "id", field, "partnership_id"); err != nil {
		return err
	}
	if leadOnly {
		return s.scopeLead(r, *field)
	}
	return scopePartnership(r, *field)
}

// loanResource returns the resource a loan is of, from the "loans" view.
func (s *Server) loanResource(ctx context.Context, loan uuid.UUID) (uuid.UUID, error) {
	return s.lookup(ctx, "loan", loan, func() (uuid.UUID, bool, error) {
		pids, err := s.partnershipIDs(ctx, views.AsOf{})
		if err != nil {
			return uuid.Nil, false, err
		}
		var res uuid.UUID
		var ok bool
		_, err = views.Read(ctx, s.L.Views, "loans", views.AsOf{}, func(v *views.Loans) error {
			for _, pid := range pids {
				for _, l := range v.Register(pid, "", s.Now()) {
					if l.LoanID == loan {
						res, ok = l.ResourceID, true
						return nil
					}
				}
			}
			return nil
		})
		return res, ok, err
	})
}

// secondmentTeacher returns the teacher of a secondment, from the
// "secondments" view.
func (s *Server) secondmentTeacher(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	return s.lookup(ctx, "secondment", id, func() (uuid.UUID, bool, error) {
		pids, err := s.partnershipIDs(ctx, views.AsOf{})
		if err != nil {
			return uuid.Nil, false, err
		}
		var teacher uuid.UUID
		var ok bool
		_, err = views.Read(ctx, s.L.Views, "secondments", views.AsOf{}, func(v *views.Secondments) error {
			for _, pid := range pids {
				list, err := v.List(pid, "", nil)
				if err != nil {
					return err
				}
				for _, e := range list {
					if e.ID == id {
						teacher, ok = e.Teacher.ID, true
						return nil
					}
				}
			}
			return nil
		})
		return teacher, ok, err
	})
}

// bindLoan sets a loan command's loan from the path and its resource from
// the "loans" view (unless the body names it: then no lookup is needed),
// and checks the caller: the owning school for owner
// decisions, else the owning or borrowing school.
func bindLoan(s *Server, r *http.Request, resource, loan *uuid.UUID, owner bool, what string) error {
	if err := setPathID(r, "id", loan, "loan_id"); err != nil {
		return err
	}
	if *resource != uuid.Nil {
		// The body named the resource: no lookup in the register, but the
		// loan must be one of its loans.
		a, rev, err := domain.Load(r.Context(), s.L.Handler, partnership.ResourceStream(*resource), partnership.NewResource)
		if err != nil {
			return fmt.Errorf("load resource %s: %w", *resource, err)
		}
		if _, ok := a.Loan(*loan); rev >= 0 && !ok {
			return invalidField("resource_id", "resource %s has no loan %s", *resource, *loan)
		}
		return s.scopeLoan(r, *resource, *loan, owner, what)
	}
	res, err := s.loanResource(r.Context(), *loan)
	if err != nil {
		return err
	}
	*resource = res
	return s.scopeLoan(r, res, *loan, owner, what)
}

// bindSecondment sets a secondment command's ids (the teacher from the
// "secondments" view unless the body names them) and checks the caller acts
// for the lending or receiving school.
func bindSecondment(s *Server, r *http.Request, teacher, id *uuid.UUID) error {
	if err := setPathID(r, "id", id, "secondment_id"); err != nil {
		return err
	}
	if *teacher == uuid.Nil {
		t, err := s.secondmentTeacher(r.Context(), *id)
		if err != nil {
			return err
		}
		*teacher = t
	}
	a, _, err := domain.Load(r.Context(), s.L.Handler, partnership.SecondmentsStream(*teacher), partnership.NewSecondments)
	if err != nil {
		return fmt.Errorf("load secondments of %s: %w", *teacher, err)
	}
	sec, ok := a.Secondment(*id)
	if !ok {
		return invalidField("teacher_id", "teacher %s has no secondment %s", *teacher, *id)
	}
	if err := scopePartnership(r, sec.PartnershipID); err != nil {
		return err
	}
	return s.scopeSchoolOf(r, "change this secondment", sec.LendingSchoolID, sec.ReceivingSchoolID)
}

func partnershipRoutes() []route {
	const (
		tPart    = "Partnerships"
		tRes     = "Resources"
		tSec     = "Secondments"
		tCPD     = "CPD"
		tReview  = "Peer reviews"
		tAcc     = "Accountability"
		tTime    = "Improvement timeline"
		tProg    = "Progress"
		tCelebr  = "Celebrating"
		tCosts   = "Costs"
		resource = partnership.KindResource
	)
	return []route{
		// Partnerships.
		commandRoute("/v1/partnerships", "Form a partnership", tPart, partnershipLeads,
			func(s *Server, r *http.Request, c *partnership.FormPartnership) error {
				newID(&c.PartnershipID)
				return nil
			},
			part((*partnership.Service).FormPartnership)),
		commandRoute("/v1/partnerships/{id}/schools", "Add a school to a partnership", tPart, partnershipLeads,
			func(s *Server, r *http.Request, c *partnership.JoinPartnership) error {
				return bindPartnership(s, r, &c.PartnershipID, true)
			}, part((*partnership.Service).JoinPartnership)),
		commandRoute("/v1/partnerships/{id}/schools/{school}/leave", "Record a school leaving a partnership", tPart, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.LeavePartnership) error {
				if err := setPathID(r, "school", &c.SchoolID, "school_id"); err != nil {
					return err
				}
				if err := s.scopeSchool(r, c.SchoolID); err != nil {
					return err
				}
				return bindPartnership(s, r, &c.PartnershipID, true)
			}, part((*partnership.Service).LeavePartnership)),
		commandRoute("/v1/partnerships/{id}/lead", "Appoint the partnership lead", tPart, partnershipLeads,
			func(s *Server, r *http.Request, c *partnership.AppointPartnershipLead) error {
				return bindPartnership(s, r, &c.PartnershipID, true)
			}, part((*partnership.Service).AppointPartnershipLead)),
		commandRoute("/v1/partnerships/{id}/priorities", "Agree a partnership priority", tAcc, partnershipLeads,
			func(s *Server, r *http.Request, c *partnership.AgreePriority) error {
				newID(&c.PriorityID)
				return bindPartnership(s, r, &c.PartnershipID, true)
			}, part((*partnership.Service).AgreePriority)),
		commandRoute("/v1/partnerships/{id}/costs", "Record a transaction cost", tCosts, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.RecordTransactionCost) error {
				newID(&c.EntryID)
				if err := s.scopeSchool(r, c.SchoolID); err != nil {
					return err
				}
				return bindPartnership(s, r, &c.PartnershipID, false)
			}, part((*partnership.Service).RecordTransactionCost)),
		commandRoute("/v1/partnerships/{id}/recognitions", "Recognise a contribution", tCelebr, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.RecogniseContribution) error {
				newID(&c.RecognitionID)
				return bindPartnership(s, r, &c.PartnershipID, false)
			}, part((*partnership.Service).RecogniseContribution)),
		commandRoute("/v1/partnerships/{id}/progress", "Rate progress", tProg, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.RateProgress) error {
				newID(&c.RatingID)
				if err := s.scopeSchool(r, c.SchoolID); err != nil {
					return err
				}
				return bindPartnership(s, r, &c.PartnershipID, false)
			}, part((*partnership.Service).RateProgress)),

		// Resources and loans.
		commandRoute("/v1/resources", "Register a shared resource", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.RegisterResource) error {
				newID(&c.ResourceID)
				if err := scopePartnership(r, c.PartnershipID); err != nil {
					return err
				}
				return s.scopeSchool(r, c.OwnerSchoolID)
			}, part((*partnership.Service).RegisterResource)),
		commandRoute("/v1/resources/{id}/offer", "Offer a resource to partners", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.OfferResource) error {
				return bindAgg(s, r, "id", &c.ResourceID, "resource_id", resource, true)
			}, part((*partnership.Service).OfferResource)),
		commandRoute("/v1/resources/{id}/withdraw", "Withdraw a resource's offer", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.WithdrawResourceOffer) error {
				return bindAgg(s, r, "id", &c.ResourceID, "resource_id", resource, true)
			}, part((*partnership.Service).WithdrawResourceOffer)),
		commandRoute("/v1/resources/{id}/loans", "Request a loan", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.RequestLoan) error {
				newID(&c.LoanID)
				if err := s.scopeSchool(r, c.BorrowerSchoolID); err != nil {
					return err
				}
				if err := setPathID(r, "id", &c.ResourceID, "resource_id"); err != nil {
					return err
				}
				pid, _, err := s.aggPartnership(r.Context(), resource, c.ResourceID)
				if err != nil {
					return err
				}
				return scopePartnership(r, pid)
			}, part((*partnership.Service).RequestLoan)),
		commandRoute("/v1/loans/{id}/approve", "Approve a loan", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.ApproveLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID, true, "approve a loan of its resource")
			}, part((*partnership.Service).ApproveLoan)),
		commandRoute("/v1/loans/{id}/decline", "Decline a loan", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.DeclineLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID, true, "decline a loan of its resource")
			}, part((*partnership.Service).DeclineLoan)),
		commandRoute("/v1/loans/{id}/cancel", "Cancel a loan", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.CancelLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID, false, "cancel a loan")
			}, part((*partnership.Service).CancelLoan)),
		commandRoute("/v1/loans/{id}/collect", "Record a loan collected", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.CollectLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID, false, "record a collection")
			}, part((*partnership.Service).CollectLoan)),
		commandRoute("/v1/loans/{id}/return", "Record a loan returned", tRes, schoolStaff,
			func(s *Server, r *http.Request, c *partnership.ReturnLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID, false, "record a return")
			}, part((*partnership.Service).ReturnLoan)),

		// Secondments.
		commandRoute("/v1/secondments", "Arrange a secondment", tSec, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.ArrangeSecondment) error {
				newID(&c.SecondmentID)
				if err := scopePartnership(r, c.PartnershipID); err != nil {
					return err
				}
				return s.scopeSchoolOf(r, "arrange this secondment", c.LendingSchoolID, c.ReceivingSchoolID)
			}, part((*partnership.Service).ArrangeSecondment)),
		commandRoute("/v1/secondments/{id}/cancel", "Cancel a secondment", tSec, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.CancelSecondment) error {
				return bindSecondment(s, r, &c.TeacherID, &c.SecondmentID)
			}, part((*partnership.Service).CancelSecondment)),
		commandRoute("/v1/secondments/{id}/end", "End a secondment early", tSec, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.EndSecondmentEarly) error {
				return bindSecondment(s, r, &c.TeacherID, &c.SecondmentID)
			}, part((*partnership.Service).EndSecondmentEarly)),

		// CPD.
		commandRoute("/v1/cpd", "Organise a CPD event", tCPD, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.OrganiseCPD) error {
				newID(&c.CPDID)
				if err := scopePartnership(r, c.PartnershipID); err != nil {
					return err
				}
				return s.scopeSchool(r, c.OrganiserSchoolID)
			}, part((*partnership.Service).OrganiseCPD)),
		commandRoute("/v1/cpd/{id}/bookings", "Book places at a CPD event", tCPD, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.BookCPDPlaces) error {
				newID(&c.BookingID)
				if err := s.scopeSchool(r, c.SchoolID); err != nil {
					return err
				}
				return bindAgg(s, r, "id", &c.CPDID, "cpd_id", partnership.KindCPD, false)
			}, part((*partnership.Service).BookCPDPlaces)),
		commandRoute("/v1/cpd/{id}/bookings/{booking}/cancel", "Cancel a CPD booking", tCPD, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.CancelCPDBooking) error {
				if err := setPathID(r, "booking", &c.BookingID, "booking_id"); err != nil {
					return err
				}
				return bindAgg(s, r, "id", &c.CPDID, "cpd_id", partnership.KindCPD, false)
			}, part((*partnership.Service).CancelCPDBooking)),
		commandRoute("/v1/cpd/{id}/bookings/{booking}/attendance", "Record attendance at a CPD event", tCPD, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.RecordCPDAttendance) error {
				if err := setPathID(r, "booking", &c.BookingID, "booking_id"); err != nil {
					return err
				}
				return bindAgg(s, r, "id", &c.CPDID, "cpd_id", partnership.KindCPD, false)
			}, part((*partnership.Service).RecordCPDAttendance)),

		// Peer reviews.
		commandRoute("/v1/reviews", "Schedule a peer review", tReview, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.SchedulePeerReview) error {
				newID(&c.ReviewID)
				return scopePartnership(r, c.PartnershipID)
			}, part((*partnership.Service).SchedulePeerReview)),
		commandRoute("/v1/reviews/{id}/findings", "Record a review finding", tReview, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.RecordReviewFinding) error {
				newID(&c.FindingID)
				return bindAgg(s, r, "id", &c.ReviewID, "review_id", partnership.KindReview, false)
			}, part((*partnership.Service).RecordReviewFinding)),
		commandRoute("/v1/reviews/{id}/complete", "Complete a peer review", tReview, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.CompletePeerReview) error {
				return bindAgg(s, r, "id", &c.ReviewID, "review_id", partnership.KindReview, false)
			}, part((*partnership.Service).CompletePeerReview)),
		commandRoute("/v1/reviews/{id}/actions", "Agree a follow-up action", tReview, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.AgreeFollowUpAction) error {
				newID(&c.ActionID)
				return bindAgg(s, r, "id", &c.ReviewID, "review_id", partnership.KindReview, false)
			}, part((*partnership.Service).AgreeFollowUpAction)),
		commandRoute("/v1/reviews/{id}/actions/{action}/complete", "Complete a follow-up action", tReview, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.CompleteFollowUpAction) error {
				if err := setPathID(r, "action", &c.ActionID, "action_id"); err != nil {
					return err
				}
				return bindAgg(s, r, "id", &c.ReviewID, "review_id", partnership.KindReview, false)
			}, part((*partnership.Service).CompleteFollowUpAction)),

		// Commitments.
		commandRoute("/v1/commitments", "Make a commitment to a priority", tAcc, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.MakeCommitment) error {
				newID(&c.CommitmentID)
				return scopePartnership(r, c.PartnershipID)
			}, part((*partnership.Service).MakeCommitment)),
		commandRoute("/v1/commitments/{id}/progress", "Record progress on a commitment", tAcc, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.UpdateCommitmentProgress) error {
				return bindAgg(s, r, "id", &c.CommitmentID, "commitment_id", partnership.KindCommitment, true)
			}, part((*partnership.Service).UpdateCommitmentProgress)),
		commandRoute("/v1/commitments/{id}/achieved", "Mark a commitment achieved", tAcc, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.CloseCommitment) error {
				return bindAgg(s, r, "id", &c.CommitmentID, "commitment_id", partnership.KindCommitment, true)
			}, part((*partnership.Service).MarkCommitmentAchieved)),
		commandRoute("/v1/commitments/{id}/missed", "Mark a commitment missed", tAcc, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.CloseCommitment) error {
				return bindAgg(s, r, "id", &c.CommitmentID, "commitment_id", partnership.KindCommitment, true)
			}, part((*partnership.Service).MarkCommitmentMissed)),

		// Improvement timeline.
		commandRoute("/v1/timelines", "Create an improvement timeline", tTime, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.CreateTimeline) error {
				newID(&c.TimelineID)
				if err := scopePartnership(r, c.PartnershipID); err != nil {
					return err
				}
				return s.scopeSchool(r, c.SchoolID)
			}, part((*partnership.Service).CreateTimeline)),
		commandRoute("/v1/timelines/{id}/items", "Add a timeline item", tTime, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.AddTimelineItem) error {
				newID(&c.ItemID)
				return bindAgg(s, r, "id", &c.TimelineID, "timeline_id", partnership.KindTimeline, true)
			}, part((*partnership.Service).AddTimelineItem)),
		commandRoute("/v1/timelines/{id}/items/{item}/reschedule", "Reschedule a timeline item", tTime, partnershipHeads,
			func(s *Server, r *http.Request, c *partnership.RescheduleTimelineItem) error {
				if err := setPathID(r, "item", &c.ItemID, "item_id"); err != nil {
					return err
				}
				return bindAgg(s, r, "id", &c.TimelineID, "timeline_id", partnership.KindTimeline, true)
			}, part((*partnership.Service).RescheduleTimelineItem)),
		commandRoute("/v1/timelines/{id}/items/{item}/done", "Mark a timeline item done", tTime, schoolWorkers,
			func(s *Server, r *http.Request, c *partnership.MarkTimelineItemDone) error {
				if err := setPathID(r, "item", &c.ItemID, "item_id"); err != nil {
					return err
				}
				return bindAgg(s, r, "id", &c.TimelineID, "timeline_id", partnership.KindTimeline, true)
			}, part((*partnership.Service).MarkTimelineItemDone)),
	}
}
