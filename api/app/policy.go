package app

import (
	"sort"

	"github.com/concord-ledger/concord/domain"
)

// Rules of authority. They are rejections like the domain's, so an edge
// maps them to 403 with the rule's code and statement.
var (
	// ErrNotPermitted is returned when the actor stands in none of the
	// relations a use case's policy grants it to.
	ErrNotPermitted = domain.NewRule("not-permitted", domain.KindForbidden, "You may not do this",
		"What a person may do follows from the ledger at that moment: the staff of a school act in its records, an ISLC's members and chair in its own, the Director in the school's, the partnership's lead in the partnership's; governors and auditors read and record nothing.")
	// ErrNotForAdministrators is returned when the system administrator
	// asks for a governance decision or a school's records.
	ErrNotForAdministrators = domain.NewRule("not-for-administrators", domain.KindForbidden, "Not for the system administrator",
		"The system administrator manages tokens, backups and projections and registers schools, partnerships and auditors; governance decisions and a school's records belong to its people.")
	// ErrNotSignedIn is returned for an actor of no known kind.
	ErrNotSignedIn = domain.NewRule("not-signed-in", domain.KindForbidden, "Sign in first",
		"Every use case is done by an authenticated person or the system administrator.")
	// ErrReasonForAnother is returned when someone records a fact for
	// another person (the Director entering a paper form) without saying
	// why.
	ErrReasonForAnother = domain.NewRule("reason-for-another", domain.KindInvalid, "Say why you record this for someone else",
		"A fact about a person is recorded by that person, or by the Director on their behalf with a reason; a vote never is.")
)

// Policy is who may run one use case: any actor standing in one of Who to
// the use case's target.
type Policy struct {
	// Summary says the use case in words ("Cast a vote").
	Summary string
	// Kind is "command", "read" or "operation".
	Kind string
	// Who are the relations the use case is granted to.
	Who []Relation
	// ForAnother marks a command about a person (Target.Subject) that
	// someone other than the person may record only with a reason.
	ForAnother bool
}

func cmd(summary string, who ...Relation) Policy {
	return Policy{Summary: summary, Kind: "command", Who: who}
}
func forAnother(summary string, who ...Relation) Policy {
	return Policy{Summary: summary, Kind: "command", Who: who, ForAnother: true}
}
func read(summary string, who ...Relation) Policy {
	return Policy{Summary: summary, Kind: "read", Who: who}
}
func op(summary string, who ...Relation) Policy {
	return Policy{Summary: summary, Kind: "operation", Who: who}
}

// Groups of relations the policies share.
var (
	// schoolReaders read a school's own records.
	schoolReaders = []Relation{RelStaff, RelGovernor, RelSchoolAuditor}
	// partnershipReaders read a partnership's records.
	partnershipReaders = []Relation{RelLead, RelAuditor, RelPartnerStaff, RelPartnerGovernor}
	// chairing is running an ISLC's business.
	chairing = []Relation{RelChair, RelDirector, RelMemberWhileVacant}
)

// Policies is every use case's policy, by name. docs/api.md publishes the
// same rules as a table written by hand from ../shared/DOMAIN.md, and the
// API's cross-tenant test checks the running server against that table,
// not against this one.
var Policies = map[string]Policy{
	// Schools.
	"RegisterSchool":   cmd("Register a school", RelAdmin),
	"AddSegment":       cmd("Add a segment to a school", RelDirector),
	"RenameSegment":    cmd("Rename a segment", RelDirector),
	"AppointDirector":  cmd("Appoint the Director", RelAdmin, RelDirector),
	"OpenAcademicYear": cmd("Open an academic year", RelDirector),

	// People.
	"RegisterStaff":             cmd("Register a staff member", RelDirector, RelAdminOfNewSchool),
	"RegisterGovernor":          cmd("Register a governor", RelDirector),
	"RegisterAdvisoryContact":   cmd("Register an advisory-group contact", RelDirector),
	"RegisterAuditor":           cmd("Register an outside auditor", RelAdmin),
	"AmendPersonDetails":        forAnother("Amend a person's details", RelSelf, RelDirector),
	"LeaveSchool":               cmd("Record that a person left the school", RelDirector),
	"RecordStrengthsAssessment": forAnother("Record a strengths assessment", RelSelf, RelDirector),
	"JoinDesignCommunity":       forAnother("Join a design community", RelSelf, RelDirector),
	"JoinLearningPathway":       forAnother("Join a learning pathway", RelSelf, RelDirector),
	"FormTriad":                 cmd("Form a peer coaching triad", RelDirector),
	"ErasePersonalData":         cmd("Erase a person's details", RelDirector, RelAdmin),

	// ISLCs.
	"EstablishCommunity":  cmd("Establish an ISLC", RelDirector),
	"JoinCommunity":       forAnother("Join an ISLC", RelSelf, RelDirector),
	"LeaveCommunity":      forAnother("Leave an ISLC", RelSelf, RelDirector),
	"ConfirmRoster":       cmd("Confirm an ISLC's roster", RelChair, RelDirector),
	"LinkGovernor":        cmd("Link a governor to an ISLC", RelDirector),
	"LinkAdvisoryGroup":   cmd("Link an advisory group to an ISLC", RelChair, RelDirector),
	"RecordChairReward":   cmd("Record a chair's reward", RelDirector),
	"OpenElection":        cmd("Open an election of the chair", chairing...),
	"CallConfidenceVote":  cmd("Call a vote of confidence in the chair", RelStaff),
	"Nominate":            cmd("Nominate a member for chair", RelStaff),
	"AcceptNomination":    cmd("Accept a nomination", RelStaff),
	"DeclineNomination":   cmd("Decline a nomination", RelStaff),
	"OpenVoting":          cmd("Open voting", chairing...),
	"CastVote":            cmd("Cast a vote", RelStaff),
	"CloseElection":       cmd("Close an election", chairing...),
	"CastConfidenceVote":  cmd("Cast a vote of confidence", RelStaff),
	"CloseConfidenceVote": cmd("Close a vote of confidence", RelDirector, RelMember),

	// Proposals.
	"DraftProposal":       cmd("Draft a proposal", RelStaff),
	"ReviseProposal":      cmd("Revise a proposal", RelStaff),
	"SubmitProposal":      cmd("Submit a proposal to the Leadership Team", RelStaff),
	"GiveAdvice":          cmd("Record an advisory group's advice", RelStaff, RelAdvisoryContact),
	"CastTeamVote":        cmd("Cast your Leadership Team vote on a proposal", RelStaff),
	"SignOffResolution":   cmd("Sign off the Leadership Team's decision", RelDirector),
	"ReferBackResolution": cmd("Refer a decision back to the Leadership Team", RelDirector),
	"SetTeamQuorum":       cmd("Set the Leadership Team's quorum", RelDirector),
	"SetTieBreak":         cmd("Set how tied elections are settled", RelDirector),
	"CastCastingVote":     cmd("Cast the casting vote in a tied election", RelDirector),

	// Governors' challenges.
	"RaiseChallenge":  cmd("Raise a challenge to the Director", RelGovernor),
	"AnswerChallenge": cmd("Answer a governor's challenge", RelDirector),

	// Corrections.
	"CorrectEvent": cmd("Correct a recorded event", RelDirector, RelLead),

	// Partnerships.
	"FormPartnership":        cmd("Form a partnership", RelAdmin),
	"JoinPartnership":        cmd("Add a school to a partnership", RelLead, RelDirector),
	"LeavePartnership":       cmd("Record a school leaving a partnership", RelLead, RelDirector),
	"AppointPartnershipLead": cmd("Appoint the partnership lead", RelAdmin, RelLead),
	"AppointAuditor":         cmd("Appoint an auditor to a partnership", RelAdmin, RelLead),
	"EndAuditorAppointment":  cmd("End an auditor's appointment", RelAdmin, RelLead),
	"AgreePriority":          cmd("Agree a partnership priority", RelLead),
	"RecordTransactionCost":  cmd("Record a transaction cost", RelStaff, RelLead),
	"RecogniseContribution":  cmd("Recognise a contribution", RelLead, RelPartnerDirector),
	"RateProgress":           cmd("Rate progress", RelStaff, RelLead),

	// Resources and loans.
	"RegisterResource":      cmd("Register a shared resource", RelStaff),
	"OfferResource":         cmd("Offer a resource to partners", RelStaff),
	"WithdrawResourceOffer": cmd("Withdraw a resource's offer", RelStaff),
	"RequestLoan":           cmd("Request a loan", RelStaff),
	"ApproveLoan":           cmd("Approve a loan", RelStaff),
	"DeclineLoan":           cmd("Decline a loan", RelStaff),
	"CancelLoan":            cmd("Cancel a loan", RelPartyStaff),
	"CollectLoan":           cmd("Record a loan collected", RelPartyStaff),
	"ReturnLoan":            cmd("Record a loan returned", RelPartyStaff),

	// Secondments.
	"ArrangeSecondment":  cmd("Arrange a secondment", RelPartyDirector, RelLead),
	"CancelSecondment":   cmd("Cancel a secondment", RelPartyDirector, RelLead),
	"EndSecondmentEarly": cmd("End a secondment early", RelPartyDirector, RelLead),

	// CPD.
	"OrganiseCPD":         cmd("Organise a CPD event", RelStaff, RelLead),
	"BookCPDPlaces":       cmd("Book places at a CPD event", RelStaff),
	"CancelCPDBooking":    cmd("Cancel a CPD booking", RelStaff, RelLead),
	"RecordCPDAttendance": cmd("Record attendance at a CPD event", RelPartyStaff, RelLead),

	// Peer reviews.
	"SchedulePeerReview":     cmd("Schedule a peer review", RelLead, RelPartnerDirector),
	"RecordReviewFinding":    cmd("Record a review finding", RelPartnerStaff, RelLead),
	"CompletePeerReview":     cmd("Complete a peer review", RelPartnerStaff, RelLead),
	"AgreeFollowUpAction":    cmd("Agree a follow-up action", RelStaff, RelLead),
	"CompleteFollowUpAction": cmd("Complete a follow-up action", RelStaff, RelLead),

	// Commitments.
	"MakeCommitment":           cmd("Make a commitment to a priority", RelStaff, RelLead),
	"UpdateCommitmentProgress": cmd("Record progress on a commitment", RelStaff, RelLead),
	"MarkCommitmentAchieved":   cmd("Mark a commitment achieved", RelStaff, RelLead),
	"MarkCommitmentMissed":     cmd("Mark a commitment missed", RelStaff, RelLead),

	// Improvement timeline.
	"CreateTimeline":         cmd("Create an improvement timeline", RelDirector, RelLead),
	"AddTimelineItem":        cmd("Add a timeline item", RelDirector, RelLead),
	"RescheduleTimelineItem": cmd("Reschedule a timeline item", RelDirector, RelLead),
	"MarkTimelineItemDone":   cmd("Mark a timeline item done", RelStaff, RelLead),

	// Reads.
	"ReadSchool":       read("Read a school's own records", schoolReaders...),
	"ReadPartnership":  read("Read a partnership's records", partnershipReaders...),
	"ReadContacts":     read("Read a person's contact details", RelSelf, RelDirector),
	"ReadSchoolEvents": read("Read a school's recorded events", RelStaff, RelGovernor, RelSchoolAuditor),
	"ReadPartnershipEvents": read("Read a partnership's recorded events", RelLead, RelAuditor,
		RelPartnerDirector, RelPartnerGovernor),

	// Operations.
	"ManageTokens":      op("Manage tokens", RelAdmin),
	"TakeBackup":        op("Take a backup", RelAdmin),
	"ExportLedger":      op("Export the whole log", RelAdmin),
	"ManageProjections": op("Manage the projections", RelAdmin),
	"ReadMetrics":       op("Read the metrics", RelAdmin),
}

// PolicyNames returns the use cases' names, sorted.
func PolicyNames() []string {
	out := make([]string, 0, len(Policies))
	for n := range Policies {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
