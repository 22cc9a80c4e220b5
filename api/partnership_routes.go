package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/views"
)

func init() { addRoutes(partnershipRoutes) }

// loanResource returns the resource a loan is of, from the "loans" view.
func (s *Server) loanResource(ctx context.Context, loan uuid.UUID) (uuid.UUID, error) {
	return s.lookup(ctx, "loan", loan, func() (uuid.UUID, bool, error) {
		var res uuid.UUID
		var ok bool
		_, err := views.Read(ctx, s.L.Views, "loans", views.AsOf{}, func(v *views.Loans) error {
			res, ok = v.ResourceOfLoan(loan)
			return nil
		})
		return res, ok, err
	})
}

// secondmentTeacher returns the teacher of a secondment, from the
// "secondments" view.
func (s *Server) secondmentTeacher(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	return s.lookup(ctx, "secondment", id, func() (uuid.UUID, bool, error) {
		var teacher uuid.UUID
		var ok bool
		_, err := views.Read(ctx, s.L.Views, "secondments", views.AsOf{}, func(v *views.Secondments) error {
			teacher, ok = v.TeacherOfSecondment(id)
			return nil
		})
		return teacher, ok, err
	})
}

// bindLoan sets a loan command's loan from the path and its resource from
// the "loans" view (unless the body names it: the application layer then
// checks the loan is that resource's).
func bindLoan(s *Server, r *http.Request, resource, loan *uuid.UUID) error {
	if err := setPathID(r, "id", loan, "loan_id"); err != nil {
		return err
	}
	if *resource != uuid.Nil {
		return nil
	}
	res, err := s.loanResource(r.Context(), *loan)
	if err != nil {
		return err
	}
	*resource = res
	return nil
}

// bindSecondment sets a secondment command's ids (the teacher from the
// "secondments" view unless the body names them).
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
	return nil
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
		commandRoute("/v1/partnerships", "Form a partnership", tPart, "FormPartnership",
			func(s *Server, r *http.Request, c *partnership.FormPartnership) error {
				newID(r, &c.PartnershipID)
				return nil
			},
			(*app.App).FormPartnership, func(c *partnership.FormPartnership) string { return "/v1/partnerships/" + c.PartnershipID.String() }),
		commandRoute("/v1/partnerships/{id}/schools", "Add a school to a partnership", tPart, "JoinPartnership",
			func(s *Server, r *http.Request, c *partnership.JoinPartnership) error {
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).JoinPartnership),
		commandRoute("/v1/partnerships/{id}/schools/{school}/leave", "Record a school leaving a partnership", tPart, "LeavePartnership",
			func(s *Server, r *http.Request, c *partnership.LeavePartnership) error {
				if err := setPathID(r, "school", &c.SchoolID, "school_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).LeavePartnership),
		commandRoute("/v1/partnerships/{id}/lead", "Appoint the partnership lead", tPart, "AppointPartnershipLead",
			func(s *Server, r *http.Request, c *partnership.AppointPartnershipLead) error {
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).AppointPartnershipLead),
		commandRoute("/v1/partnerships/{id}/auditors", "Appoint an auditor to a partnership", tPart, "AppointAuditor",
			func(s *Server, r *http.Request, c *partnership.AppointAuditor) error {
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).AppointAuditor),
		commandRoute("/v1/partnerships/{id}/auditors/{person}/end", "End an auditor's appointment", tPart, "EndAuditorAppointment",
			func(s *Server, r *http.Request, c *partnership.EndAuditorAppointment) error {
				if err := setPathID(r, "person", &c.AuditorID, "auditor_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).EndAuditorAppointment),
		commandRoute("/v1/partnerships/{id}/priorities", "Agree a partnership priority", tAcc, "AgreePriority",
			func(s *Server, r *http.Request, c *partnership.AgreePriority) error {
				newID(r, &c.PriorityID)
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).AgreePriority),
		commandRoute("/v1/partnerships/{id}/costs", "Record a transaction cost", tCosts, "RecordTransactionCost",
			func(s *Server, r *http.Request, c *partnership.RecordTransactionCost) error {
				newID(r, &c.EntryID)
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).RecordTransactionCost),
		commandRoute("/v1/partnerships/{id}/recognitions", "Recognise a contribution", tCelebr, "RecogniseContribution",
			func(s *Server, r *http.Request, c *partnership.RecogniseContribution) error {
				newID(r, &c.RecognitionID)
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).RecogniseContribution),
		commandRoute("/v1/partnerships/{id}/progress", "Rate progress", tProg, "RateProgress",
			func(s *Server, r *http.Request, c *partnership.RateProgress) error {
				newID(r, &c.RatingID)
				return setPathID(r, "id", &c.PartnershipID, "partnership_id")
			}, (*app.App).RateProgress),

		// Resources and loans.
		commandRoute("/v1/resources", "Register a shared resource", tRes, "RegisterResource",
			func(s *Server, r *http.Request, c *partnership.RegisterResource) error {
				newID(r, &c.ResourceID)
				return nil
			},
			(*app.App).RegisterResource, func(c *partnership.RegisterResource) string { return "/v1/resources/" + c.ResourceID.String() }),
		commandRoute("/v1/resources/{id}/offer", "Offer a resource to partners", tRes, "OfferResource",
			func(s *Server, r *http.Request, c *partnership.OfferResource) error {
				return setPathID(r, "id", &c.ResourceID, "resource_id")
			}, (*app.App).OfferResource),
		commandRoute("/v1/resources/{id}/withdraw", "Withdraw a resource's offer", tRes, "WithdrawResourceOffer",
			func(s *Server, r *http.Request, c *partnership.WithdrawResourceOffer) error {
				return setPathID(r, "id", &c.ResourceID, "resource_id")
			}, (*app.App).WithdrawResourceOffer),
		commandRoute("/v1/resources/{id}/loans", "Request a loan", tRes, "RequestLoan",
			func(s *Server, r *http.Request, c *partnership.RequestLoan) error {
				newID(r, &c.LoanID)
				return setPathID(r, "id", &c.ResourceID, "resource_id")
			}, (*app.App).RequestLoan, func(c *partnership.RequestLoan) string { return "/v1/loans/" + c.LoanID.String() }),
		commandRoute("/v1/loans/{id}/approve", "Approve a loan", tRes, "ApproveLoan",
			func(s *Server, r *http.Request, c *partnership.ApproveLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID)
			},
			(*app.App).ApproveLoan),
		commandRoute("/v1/loans/{id}/decline", "Decline a loan", tRes, "DeclineLoan",
			func(s *Server, r *http.Request, c *partnership.DeclineLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID)
			},
			(*app.App).DeclineLoan),
		commandRoute("/v1/loans/{id}/cancel", "Cancel a loan", tRes, "CancelLoan",
			func(s *Server, r *http.Request, c *partnership.CancelLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID)
			},
			(*app.App).CancelLoan),
		commandRoute("/v1/loans/{id}/collect", "Record a loan collected", tRes, "CollectLoan",
			func(s *Server, r *http.Request, c *partnership.CollectLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID)
			},
			(*app.App).CollectLoan),
		commandRoute("/v1/loans/{id}/return", "Record a loan returned", tRes, "ReturnLoan",
			func(s *Server, r *http.Request, c *partnership.ReturnLoan) error {
				return bindLoan(s, r, &c.ResourceID, &c.LoanID)
			},
			(*app.App).ReturnLoan),

		// Secondments.
		commandRoute("/v1/secondments", "Arrange a secondment", tSec, "ArrangeSecondment",
			func(s *Server, r *http.Request, c *partnership.ArrangeSecondment) error {
				newID(r, &c.SecondmentID)
				return nil
			},
			(*app.App).ArrangeSecondment, func(c *partnership.ArrangeSecondment) string { return "/v1/secondments/" + c.SecondmentID.String() }),
		commandRoute("/v1/secondments/{id}/cancel", "Cancel a secondment", tSec, "CancelSecondment",
			func(s *Server, r *http.Request, c *partnership.CancelSecondment) error {
				return bindSecondment(s, r, &c.TeacherID, &c.SecondmentID)
			}, (*app.App).CancelSecondment),
		commandRoute("/v1/secondments/{id}/end", "End a secondment early", tSec, "EndSecondmentEarly",
			func(s *Server, r *http.Request, c *partnership.EndSecondmentEarly) error {
				return bindSecondment(s, r, &c.TeacherID, &c.SecondmentID)
			}, (*app.App).EndSecondmentEarly),

		// CPD.
		commandRoute("/v1/cpd", "Organise a CPD event", tCPD, "OrganiseCPD",
			func(s *Server, r *http.Request, c *partnership.OrganiseCPD) error { newID(r, &c.CPDID); return nil },
			(*app.App).OrganiseCPD, func(c *partnership.OrganiseCPD) string { return "/v1/cpd/" + c.CPDID.String() }),
		commandRoute("/v1/cpd/{id}/bookings", "Book places at a CPD event", tCPD, "BookCPDPlaces",
			func(s *Server, r *http.Request, c *partnership.BookCPDPlaces) error {
				newID(r, &c.BookingID)
				return setPathID(r, "id", &c.CPDID, "cpd_id")
			}, (*app.App).BookCPDPlaces),
		commandRoute("/v1/cpd/{id}/bookings/{booking}/cancel", "Cancel a CPD booking", tCPD, "CancelCPDBooking",
			func(s *Server, r *http.Request, c *partnership.CancelCPDBooking) error {
				if err := setPathID(r, "booking", &c.BookingID, "booking_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.CPDID, "cpd_id")
			}, (*app.App).CancelCPDBooking),
		commandRoute("/v1/cpd/{id}/bookings/{booking}/attendance", "Record attendance at a CPD event", tCPD, "RecordCPDAttendance",
			func(s *Server, r *http.Request, c *partnership.RecordCPDAttendance) error {
				if err := setPathID(r, "booking", &c.BookingID, "booking_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.CPDID, "cpd_id")
			}, (*app.App).RecordCPDAttendance),

		// Peer reviews.
		commandRoute("/v1/reviews", "Schedule a peer review", tReview, "SchedulePeerReview",
			func(s *Server, r *http.Request, c *partnership.SchedulePeerReview) error {
				newID(r, &c.ReviewID)
				return nil
			},
			(*app.App).SchedulePeerReview, func(c *partnership.SchedulePeerReview) string { return "/v1/reviews/" + c.ReviewID.String() }),
		commandRoute("/v1/reviews/{id}/findings", "Record a review finding", tReview, "RecordReviewFinding",
			func(s *Server, r *http.Request, c *partnership.RecordReviewFinding) error {
				newID(r, &c.FindingID)
				return setPathID(r, "id", &c.ReviewID, "review_id")
			}, (*app.App).RecordReviewFinding),
		commandRoute("/v1/reviews/{id}/complete", "Complete a peer review", tReview, "CompletePeerReview",
			func(s *Server, r *http.Request, c *partnership.CompletePeerReview) error {
				return setPathID(r, "id", &c.ReviewID, "review_id")
			}, (*app.App).CompletePeerReview),
		commandRoute("/v1/reviews/{id}/actions", "Agree a follow-up action", tReview, "AgreeFollowUpAction",
			func(s *Server, r *http.Request, c *partnership.AgreeFollowUpAction) error {
				newID(r, &c.ActionID)
				return setPathID(r, "id", &c.ReviewID, "review_id")
			}, (*app.App).AgreeFollowUpAction),
		commandRoute("/v1/reviews/{id}/actions/{action}/complete", "Complete a follow-up action", tReview, "CompleteFollowUpAction",
			func(s *Server, r *http.Request, c *partnership.CompleteFollowUpAction) error {
				if err := setPathID(r, "action", &c.ActionID, "action_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.ReviewID, "review_id")
			}, (*app.App).CompleteFollowUpAction),

		// Commitments.
		commandRoute("/v1/commitments", "Make a commitment to a priority", tAcc, "MakeCommitment",
			func(s *Server, r *http.Request, c *partnership.MakeCommitment) error {
				newID(r, &c.CommitmentID)
				return nil
			},
			(*app.App).MakeCommitment, func(c *partnership.MakeCommitment) string { return "/v1/commitments/" + c.CommitmentID.String() }),
		commandRoute("/v1/commitments/{id}/progress", "Record progress on a commitment", tAcc, "UpdateCommitmentProgress",
			func(s *Server, r *http.Request, c *partnership.UpdateCommitmentProgress) error {
				return setPathID(r, "id", &c.CommitmentID, "commitment_id")
			}, (*app.App).UpdateCommitmentProgress),
		commandRoute("/v1/commitments/{id}/achieved", "Mark a commitment achieved", tAcc, "MarkCommitmentAchieved",
			func(s *Server, r *http.Request, c *partnership.CloseCommitment) error {
				return setPathID(r, "id", &c.CommitmentID, "commitment_id")
			}, (*app.App).MarkCommitmentAchieved),
		commandRoute("/v1/commitments/{id}/missed", "Mark a commitment missed", tAcc, "MarkCommitmentMissed",
			func(s *Server, r *http.Request, c *partnership.CloseCommitment) error {
				return setPathID(r, "id", &c.CommitmentID, "commitment_id")
			}, (*app.App).MarkCommitmentMissed),

		// Improvement timeline.
		commandRoute("/v1/timelines", "Create an improvement timeline", tTime, "CreateTimeline",
			func(s *Server, r *http.Request, c *partnership.CreateTimeline) error {
				newID(r, &c.TimelineID)
				return nil
			},
			(*app.App).CreateTimeline),
		commandRoute("/v1/timelines/{id}/items", "Add a timeline item", tTime, "AddTimelineItem",
			func(s *Server, r *http.Request, c *partnership.AddTimelineItem) error {
				newID(r, &c.ItemID)
				return setPathID(r, "id", &c.TimelineID, "timeline_id")
			}, (*app.App).AddTimelineItem),
		commandRoute("/v1/timelines/{id}/items/{item}/reschedule", "Reschedule a timeline item", tTime, "RescheduleTimelineItem",
			func(s *Server, r *http.Request, c *partnership.RescheduleTimelineItem) error {
				if err := setPathID(r, "item", &c.ItemID, "item_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.TimelineID, "timeline_id")
			}, (*app.App).RescheduleTimelineItem),
		commandRoute("/v1/timelines/{id}/items/{item}/done", "Mark a timeline item done", tTime, "MarkTimelineItemDone",
			func(s *Server, r *http.Request, c *partnership.MarkTimelineItemDone) error {
				if err := setPathID(r, "item", &c.ItemID, "item_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.TimelineID, "timeline_id")
			}, (*app.App).MarkTimelineItemDone),
	}
}
