package api

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain/governance"
)

func init() { addRoutes(governanceRoutes) }

// The governance routes: each binds the ids its path names and runs the
// application layer's use case, which decides who may.
func governanceRoutes() []route {
	const (
		tSchools   = "Schools"
		tPeople    = "People"
		tComm      = "Communities"
		tElections = "Elections"
		tProposals = "Proposals"
		tLearning  = "Learning"
	)
	return []route{
		// Schools.
		commandRoute("/v1/schools", "Register a school", tSchools, "RegisterSchool",
			func(s *Server, r *http.Request, c *governance.RegisterSchool) error {
				newID(r, &c.SchoolID)
				return nil
			},
			(*app.App).RegisterSchool, func(c *governance.RegisterSchool) string { return "/v1/schools/" + c.SchoolID.String() }),
		commandRoute("/v1/schools/{id}/segments", "Add a segment to a school", tSchools, "AddSegment",
			func(s *Server, r *http.Request, c *governance.AddSegment) error {
				newID(r, &c.SegmentID)
				return setPathID(r, "id", &c.SchoolID, "school_id")
			}, (*app.App).AddSegment),
		commandRoute("/v1/schools/{id}/segments/{segment}/rename", "Rename a segment", tSchools, "RenameSegment",
			func(s *Server, r *http.Request, c *governance.RenameSegment) error {
				if err := setPathID(r, "segment", &c.SegmentID, "segment_id"); err != nil {
					return err
				}
				return setPathID(r, "id", &c.SchoolID, "school_id")
			}, (*app.App).RenameSegment),
		commandRoute("/v1/schools/{id}/director", "Appoint the Director", tSchools, "AppointDirector",
			func(s *Server, r *http.Request, c *governance.AppointDirector) error {
				return setPathID(r, "id", &c.SchoolID, "school_id")
			}, (*app.App).AppointDirector),
		commandRoute("/v1/schools/{id}/years", "Open an academic year", tSchools, "OpenAcademicYear",
			func(s *Server, r *http.Request, c *governance.OpenAcademicYear) error {
				return setPathID(r, "id", &c.SchoolID, "school_id")
			}, (*app.App).OpenAcademicYear),

		// People.
		commandRoute("/v1/people/staff", "Register a staff member", tPeople, "RegisterStaff",
			func(s *Server, r *http.Request, c *governance.RegisterStaff) error { newID(r, &c.PersonID); return nil },
			(*app.App).RegisterStaff, func(c *governance.RegisterStaff) string { return personPath(c.PersonID) }),
		commandRoute("/v1/people/governors", "Register a governor", tPeople, "RegisterGovernor",
			func(s *Server, r *http.Request, c *governance.RegisterGovernor) error {
				newID(r, &c.PersonID)
				return nil
			},
			(*app.App).RegisterGovernor, func(c *governance.RegisterGovernor) string { return personPath(c.PersonID) }),
		commandRoute("/v1/people/advisory-contacts", "Register an advisory-group contact", tPeople, "RegisterAdvisoryContact",
			func(s *Server, r *http.Request, c *governance.RegisterAdvisoryContact) error {
				newID(r, &c.PersonID)
				return nil
			},
			(*app.App).RegisterAdvisoryContact, func(c *governance.RegisterAdvisoryContact) string { return personPath(c.PersonID) }),
		commandRoute("/v1/people/auditors", "Register an outside auditor", tPeople, "RegisterAuditor",
			func(s *Server, r *http.Request, c *governance.RegisterAuditor) error {
				newID(r, &c.PersonID)
				return nil
			},
			(*app.App).RegisterAuditor, func(c *governance.RegisterAuditor) string { return personPath(c.PersonID) }),
		commandRoute("/v1/people/{id}/details", "Amend a person's details", tPeople, "AmendPersonDetails",
			func(s *Server, r *http.Request, c *governance.AmendPersonDetails) error {
				return setPathID(r, "id", &c.PersonID, "person_id")
			}, (*app.App).AmendPersonDetails),
		commandRoute("/v1/people/{id}/leave", "Record that a person left the school", tPeople, "LeaveSchool",
			func(s *Server, r *http.Request, c *governance.LeaveSchool) error {
				return setPathID(r, "id", &c.PersonID, "person_id")
			}, (*app.App).LeaveSchool),
		commandRoute("/v1/people/{id}/strengths", "Record a strengths assessment", tPeople, "RecordStrengthsAssessment",
			func(s *Server, r *http.Request, c *governance.RecordStrengthsAssessment) error {
				return setPathID(r, "id", &c.PersonID, "person_id")
			}, (*app.App).RecordStrengthsAssessment),
		commandRoute("/v1/people/{id}/design-communities", "Join a design community", tLearning, "JoinDesignCommunity",
			func(s *Server, r *http.Request, c *governance.JoinDesignCommunity) error {
				return setPathID(r, "id", &c.PersonID, "person_id")
			}, (*app.App).JoinDesignCommunity),
		commandRoute("/v1/people/{id}/pathways", "Join a learning pathway", tLearning, "JoinLearningPathway",
			func(s *Server, r *http.Request, c *governance.JoinLearningPathway) error {
				return setPathID(r, "id", &c.PersonID, "person_id")
			}, (*app.App).JoinLearningPathway),
		commandRoute("/v1/people/{id}/erasure", "Erase a person's personal data", tPeople, "ErasePersonalData",
			func(s *Server, r *http.Request, c *governance.ErasePersonalData) error {
				return setPathID(r, "id", &c.PersonID, "person_id")
			}, (*app.App).ErasePersonalData),
		commandRoute("/v1/triads", "Form a peer coaching triad", tLearning, "FormTriad",
			func(s *Server, r *http.Request, c *governance.FormTriad) error { newID(r, &c.TriadID); return nil },
			(*app.App).FormTriad, func(c *governance.FormTriad) string { return "/v1/triads/" + c.TriadID.String() }),

		// Communities.
		commandRoute("/v1/communities", "Establish an ISLC", tComm, "EstablishCommunity", nil,
			(*app.App).EstablishCommunity, func(c *governance.EstablishCommunity) string {
				return "/v1/communities/" + governance.CommunityID(c.SchoolID, c.SegmentID).String()
			}),
		commandRoute("/v1/communities/{id}/members", "Join an ISLC", tComm, "JoinCommunity",
			func(s *Server, r *http.Request, c *governance.JoinCommunity) error {
				return setPathID(r, "id", &c.CommunityID, "community_id")
			}, (*app.App).JoinCommunity),
		commandRoute("/v1/communities/{id}/members/{person}/leave", "Leave an ISLC", tComm, "LeaveCommunity",
			func(s *Server, r *http.Request, c *governance.LeaveCommunity) error {
				if err := setPathID(r, "id", &c.CommunityID, "community_id"); err != nil {
					return err
				}
				return setPathID(r, "person", &c.PersonID, "person_id")
			}, (*app.App).LeaveCommunity),
		commandRoute("/v1/communities/{id}/roster", "Confirm an ISLC's roster", tComm, "ConfirmRoster",
			func(s *Server, r *http.Request, c *governance.ConfirmRoster) error {
				return setPathID(r, "id", &c.CommunityID, "community_id")
			}, (*app.App).ConfirmRoster),
		commandRoute("/v1/communities/{id}/governor", "Link a governor to an ISLC", tComm, "LinkGovernor",
			func(s *Server, r *http.Request, c *governance.LinkGovernor) error {
				return setPathID(r, "id", &c.CommunityID, "community_id")
			}, (*app.App).LinkGovernor),
		commandRoute("/v1/communities/{id}/advisory-groups", "Link an advisory group to an ISLC", tComm, "LinkAdvisoryGroup",
			func(s *Server, r *http.Request, c *governance.LinkAdvisoryGroup) error {
				newID(r, &c.GroupID)
				return setPathID(r, "id", &c.CommunityID, "community_id")
			}, (*app.App).LinkAdvisoryGroup),
		commandRoute("/v1/communities/{id}/chair-rewards", "Record a chair's reward", tComm, "RecordChairReward",
			func(s *Server, r *http.Request, c *governance.RecordChairReward) error {
				return setPathID(r, "id", &c.CommunityID, "community_id")
			}, (*app.App).RecordChairReward),
		commandRoute("/v1/communities/{id}/elections", "Open an election of the chair", tElections, "OpenElection",
			func(s *Server, r *http.Request, c *governance.OpenElection) error {
				newID(r, &c.ElectionID)
				return setPathID(r, "id", &c.CommunityID, "community_id")
			}, (*app.App).OpenElection, func(c *governance.OpenElection) string { return "/v1/elections/" + c.ElectionID.String() }),
		commandRoute("/v1/communities/{id}/confidence-votes", "Call a vote of confidence in the chair", tElections, "CallConfidenceVote",
			func(s *Server, r *http.Request, c *governance.CallConfidenceVote) error {
				newID(r, &c.VoteID)
				return setPathID(r, "id", &c.CommunityID, "community_id")
			}, (*app.App).CallConfidenceVote, func(c *governance.CallConfidenceVote) string { return "/v1/confidence-votes/" + c.VoteID.String() }),

		// Elections.
		commandRoute("/v1/elections/{id}/nominations", "Nominate a member for chair", tElections, "Nominate",
			func(s *Server, r *http.Request, c *governance.Nominate) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID)
			}, (*app.App).Nominate),
		commandRoute("/v1/elections/{id}/nomination/accept", "Accept your nomination", tElections, "AcceptNomination",
			func(s *Server, r *http.Request, c *governance.AnswerNomination) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID)
			}, (*app.App).AcceptNomination),
		commandRoute("/v1/elections/{id}/nomination/decline", "Decline your nomination", tElections, "DeclineNomination",
			func(s *Server, r *http.Request, c *governance.AnswerNomination) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID)
			}, (*app.App).DeclineNomination),
		commandRoute("/v1/elections/{id}/voting", "Open voting", tElections, "OpenVoting",
			func(s *Server, r *http.Request, c *governance.OpenVoting) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID)
			}, (*app.App).OpenVoting),
		commandRoute("/v1/elections/{id}/votes", "Cast your vote", tElections, "CastVote",
			func(s *Server, r *http.Request, c *governance.CastVote) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID)
			}, (*app.App).CastVote),
		commandRoute("/v1/elections/{id}/close", "Close an election", tElections, "CloseElection",
			func(s *Server, r *http.Request, c *governance.CloseElection) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID)
			}, (*app.App).CloseElection),
		commandRoute("/v1/confidence-votes/{id}/votes", "Cast your vote of confidence", tElections, "CastConfidenceVote",
			func(s *Server, r *http.Request, c *governance.CastConfidenceVote) error {
				return bindConfidenceVote(s, r, &c.VoteID, &c.CommunityID)
			}, (*app.App).CastConfidenceVote),
		commandRoute("/v1/confidence-votes/{id}/close", "Close a vote of confidence", tElections, "CloseConfidenceVote",
			func(s *Server, r *http.Request, c *governance.CloseConfidenceVote) error {
				return bindConfidenceVote(s, r, &c.VoteID, &c.CommunityID)
			}, (*app.App).CloseConfidenceVote),

		// Proposals.
		commandRoute("/v1/proposals", "Draft a proposal", tProposals, "DraftProposal",
			func(s *Server, r *http.Request, c *governance.DraftProposal) error {
				newID(r, &c.ProposalID)
				return nil
			},
			(*app.App).DraftProposal, func(c *governance.DraftProposal) string { return "/v1/proposals/" + c.ProposalID.String() }),
		commandRoute("/v1/proposals/{id}/versions", "Revise a proposal", tProposals, "ReviseProposal",
			func(s *Server, r *http.Request, c *governance.ReviseProposal) error {
				return setPathID(r, "id", &c.ProposalID, "proposal_id")
			}, (*app.App).ReviseProposal),
		commandRoute("/v1/proposals/{id}/submit", "Submit a proposal to the Leadership Team", tProposals, "SubmitProposal",
			func(s *Server, r *http.Request, c *governance.SubmitProposal) error {
				return setPathID(r, "id", &c.ProposalID, "proposal_id")
			}, (*app.App).SubmitProposal),
		commandRoute("/v1/proposals/{id}/advice", "Record an advisory group's advice", tProposals, "GiveAdvice",
			func(s *Server, r *http.Request, c *governance.GiveAdvice) error {
				return setPathID(r, "id", &c.ProposalID, "proposal_id")
			}, (*app.App).GiveAdvice),
		commandRoute("/v1/proposals/{id}/team-votes", "Cast your Leadership Team vote on a proposal", tProposals, "CastTeamVote",
			func(s *Server, r *http.Request, c *governance.CastTeamVote) error {
				return setPathID(r, "id", &c.ProposalID, "proposal_id")
			}, (*app.App).CastTeamVote),
		commandRoute("/v1/proposals/{id}/sign-off", "Sign off the Leadership Team's decision", tProposals, "SignOffResolution",
			func(s *Server, r *http.Request, c *governance.ResolveProposal) error {
				return setPathID(r, "id", &c.ProposalID, "proposal_id")
			}, (*app.App).SignOffResolution),
		commandRoute("/v1/proposals/{id}/refer-back", "Refer a decision back to the Leadership Team", tProposals, "ReferBackResolution",
			func(s *Server, r *http.Request, c *governance.ResolveProposal) error {
				return setPathID(r, "id", &c.ProposalID, "proposal_id")
			}, (*app.App).ReferBackResolution),
		commandRoute("/v1/schools/{id}/team-quorum", "Set the Leadership Team's quorum", tSchools, "SetTeamQuorum",
			func(s *Server, r *http.Request, c *governance.SetTeamQuorum) error {
				return setPathID(r, "id", &c.SchoolID, "school_id")
			}, (*app.App).SetTeamQuorum),
		commandRoute("/v1/schools/{id}/tie-break", "Set how tied elections are settled", tSchools, "SetTieBreak",
			func(s *Server, r *http.Request, c *governance.SetTieBreak) error {
				return setPathID(r, "id", &c.SchoolID, "school_id")
			}, (*app.App).SetTieBreak),
		commandRoute("/v1/elections/{id}/casting-vote", "Cast the casting vote in a tied election", tElections, "CastCastingVote",
			func(s *Server, r *http.Request, c *governance.CastCastingVote) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID)
			}, (*app.App).CastCastingVote),

		// Governors' challenges.
		commandRoute("/v1/challenges", "Raise a challenge to the Director", "Challenges", "RaiseChallenge",
			func(s *Server, r *http.Request, c *governance.RaiseChallenge) error {
				newID(r, &c.ChallengeID)
				return nil
			},
			(*app.App).RaiseChallenge, func(c *governance.RaiseChallenge) string { return "/v1/challenges/" + c.ChallengeID.String() }),
		commandRoute("/v1/challenges/{id}/answer", "Answer a governor's challenge", "Challenges", "AnswerChallenge",
			func(s *Server, r *http.Request, c *governance.AnswerChallenge) error {
				return setPathID(r, "id", &c.ChallengeID, "challenge_id")
			}, (*app.App).AnswerChallenge),

		// Corrections.
		{Method: http.MethodPost, Pattern: "/v1/corrections", Summary: "Correct a recorded event", Tag: "Corrections",
			Auth: true, UseCase: "CorrectEvent", Request: CorrectionRequest{}, Response: CommandResult{},
			Status: http.StatusCreated, Handle: (*Server).handleCorrection},
	}
}

func personPath(id uuid.UUID) string { return "/v1/people/" + id.String() }

// bindElection sets an election command's election from the path and its
// ISLC from the "elections" view.
func bindElection(s *Server, r *http.Request, election, community *uuid.UUID) error {
	if err := setPathID(r, "id", election, "election_id"); err != nil {
		return err
	}
	cid, err := s.electionCommunity(r.Context(), *election)
	if err != nil {
		return err
	}
	if *community != uuid.Nil && *community != cid {
		return invalidField("community_id", "election %s belongs to ISLC %s, not %s", *election, cid, *community)
	}
	*community = cid
	return nil
}

// bindConfidenceVote sets a confidence vote command's vote from the path
// and its ISLC from the "elections" view.
func bindConfidenceVote(s *Server, r *http.Request, vote, community *uuid.UUID) error {
	if err := setPathID(r, "id", vote, "vote_id"); err != nil {
		return err
	}
	cid, err := s.confidenceVoteCommunity(r.Context(), *vote)
	if err != nil {
		return err
	}
	if *community != uuid.Nil && *community != cid {
		return invalidField("community_id", "confidence vote %s belongs to ISLC %s, not %s", *vote, cid, *community)
	}
	*community = cid
	return nil
}
