package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

func init() { addRoutes(governanceRoutes) }

// Role sets of the governance routes.
var (
	schoolAdmins = []Role{RoleAdmin, RoleDirector}
	schoolStaff  = []Role{RoleAdmin, RoleDirector, RoleStaff, RoleChair}
	leadership   = []Role{RoleAdmin, RoleDirector, RoleChair}
)

// DecideProposalRequest is the Leadership Team's decision on a proposal:
// approve it, or send it back for revision, with reasons and the check
// against the school's mission, vision and values.
type DecideProposalRequest struct {
	// Outcome is "approve" or "return" (send back).
	Outcome string `json:"outcome"`
	governance.DecideProposal
}

func (s *Server) personSchool(ctx context.Context, id uuid.UUID) (uuid.UUID, error) {
	p, rev, err := domain.Load(ctx, s.L.Handler, governance.PersonStream(id), governance.NewPerson)
	if err != nil {
		return uuid.Nil, fmt.Errorf("load person %s: %w", id, err)
	}
	if rev < 0 {
		return uuid.Nil, nil
	}
	return p.SchoolID, nil
}

func (s *Server) loadProposal(ctx context.Context, id uuid.UUID) (*governance.Proposal, int64, error) {
	p, rev, err := domain.Load(ctx, s.L.Handler, governance.ProposalStream(id), governance.NewProposal)
	if err != nil {
		return nil, 0, fmt.Errorf("load proposal %s: %w", id, err)
	}
	return p, rev, nil
}

// scopePerson checks an action on person id: the caller's school, and for
// staff (self true) that it is themselves.
func (s *Server) scopePerson(r *http.Request, id uuid.UUID, selfOnly bool, what string) error {
	school, err := s.personSchool(r.Context(), id)
	if err != nil {
		return err
	}
	if err := s.scopeSchool(r, school); err != nil {
		return err
	}
	if selfOnly {
		return scopeSelf(r, id, what)
	}
	return nil
}

// scopeProposal checks an action on a proposal: member of its ISLC, or for
// chair-only actions its chair in office.
func (s *Server) scopeProposal(r *http.Request, id uuid.UUID, chairOnly bool) error {
	p, rev, err := s.loadProposal(r.Context(), id)
	if err != nil || rev < 0 {
		return err
	}
	if chairOnly {
		return s.scopeChair(r, p.CommunityID, false)
	}
	_, err = s.scopeCommunity(r, p.CommunityID, uuid.Nil)
	return err
}

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
		commandRoute("/v1/schools", "Register a school", tSchools, []Role{RoleAdmin},
			func(s *Server, r *http.Request, c *governance.RegisterSchool) error { newID(&c.SchoolID); return nil },
			gov((*governance.Service).RegisterSchool)),
		commandRoute("/v1/schools/{id}/segments", "Add a segment to a school", tSchools, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.AddSegment) error {
				newID(&c.SegmentID)
				return bindSchoolID(s, r, &c.SchoolID)
			}, gov((*governance.Service).AddSegment)),
		commandRoute("/v1/schools/{id}/segments/{segment}/rename", "Rename a segment", tSchools, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.RenameSegment) error {
				if err := setPathID(r, "segment", &c.SegmentID, "segment_id"); err != nil {
					return err
				}
				return bindSchoolID(s, r, &c.SchoolID)
			}, gov((*governance.Service).RenameSegment)),
		commandRoute("/v1/schools/{id}/director", "Appoint the Director", tSchools, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.AppointDirector) error {
				return bindSchoolID(s, r, &c.SchoolID)
			},
			gov((*governance.Service).AppointDirector)),
		commandRoute("/v1/schools/{id}/years", "Open an academic year", tSchools, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.OpenAcademicYear) error {
				return bindSchoolID(s, r, &c.SchoolID)
			},
			gov((*governance.Service).OpenAcademicYear)),

		// People.
		commandRoute("/v1/people/staff", "Register a staff member", tPeople, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.RegisterStaff) error {
				newID(&c.PersonID)
				return s.scopeSchool(r, c.SchoolID)
			}, gov((*governance.Service).RegisterStaff)),
		commandRoute("/v1/people/governors", "Register a governor", tPeople, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.RegisterGovernor) error {
				newID(&c.PersonID)
				return s.scopeSchool(r, c.SchoolID)
			}, gov((*governance.Service).RegisterGovernor)),
		commandRoute("/v1/people/advisory-contacts", "Register an advisory-group contact", tPeople, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.RegisterAdvisoryContact) error {
				newID(&c.PersonID)
				return s.scopeSchool(r, c.SchoolID)
			}, gov((*governance.Service).RegisterAdvisoryContact)),
		commandRoute("/v1/people/{id}/details", "Amend a person's details", tPeople, schoolStaff,
			func(s *Server, r *http.Request, c *governance.AmendPersonDetails) error {
				return bindPerson(s, r, &c.PersonID, true, "amend details")
			}, gov((*governance.Service).AmendPersonDetails)),
		commandRoute("/v1/people/{id}/leave", "Record that a person left the school", tPeople, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.LeaveSchool) error {
				return bindPerson(s, r, &c.PersonID, false, "")
			}, gov((*governance.Service).LeaveSchool)),
		commandRoute("/v1/people/{id}/strengths", "Record a strengths assessment", tPeople, schoolStaff,
			func(s *Server, r *http.Request, c *governance.RecordStrengthsAssessment) error {
				return bindPerson(s, r, &c.PersonID, true, "record a strengths assessment")
			}, gov((*governance.Service).RecordStrengthsAssessment)),
		commandRoute("/v1/people/{id}/design-communities", "Join a design community", tLearning, schoolStaff,
			func(s *Server, r *http.Request, c *governance.JoinDesignCommunity) error {
				return bindPerson(s, r, &c.PersonID, true, "join a design community")
			}, gov((*governance.Service).JoinDesignCommunity)),
		commandRoute("/v1/people/{id}/pathways", "Join a learning pathway", tLearning, schoolStaff,
			func(s *Server, r *http.Request, c *governance.JoinLearningPathway) error {
				return bindPerson(s, r, &c.PersonID, true, "join a learning pathway")
			}, gov((*governance.Service).JoinLearningPathway)),
		commandRoute("/v1/triads", "Form a peer coaching triad", tLearning, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.FormTriad) error {
				newID(&c.TriadID)
				return s.scopeSchool(r, c.SchoolID)
			}, gov((*governance.Service).FormTriad)),

		// Communities.
		commandRoute("/v1/communities", "Establish an ISLC", tComm, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.EstablishCommunity) error {
				return s.scopeSchool(r, c.SchoolID)
			},
			gov((*governance.Service).EstablishCommunity)),
		commandRoute("/v1/communities/{id}/members", "Join an ISLC", tComm, schoolStaff,
			func(s *Server, r *http.Request, c *governance.JoinCommunity) error {
				if err := setPathID(r, "id", &c.CommunityID, "community_id"); err != nil {
					return err
				}
				if err := scopeSelf(r, c.PersonID, "join an ISLC"); err != nil {
					return err
				}
				_, err := s.scopeCommunity(r, c.CommunityID, c.PersonID)
				return err
			}, gov((*governance.Service).JoinCommunity)),
		commandRoute("/v1/communities/{id}/members/{person}/leave", "Leave an ISLC", tComm, schoolStaff,
			func(s *Server, r *http.Request, c *governance.LeaveCommunity) error {
				if err := setPathID(r, "id", &c.CommunityID, "community_id"); err != nil {
					return err
				}
				if err := setPathID(r, "person", &c.PersonID, "person_id"); err != nil {
					return err
				}
				if err := scopeSelf(r, c.PersonID, "leave an ISLC"); err != nil {
					return err
				}
				_, err := s.scopeCommunity(r, c.CommunityID, c.PersonID)
				return err
			}, gov((*governance.Service).LeaveCommunity)),
		commandRoute("/v1/communities/{id}/roster", "Confirm an ISLC's roster", tComm, leadership,
			func(s *Server, r *http.Request, c *governance.ConfirmRoster) error {
				if err := setPathID(r, "id", &c.CommunityID, "community_id"); err != nil {
					return err
				}
				return s.scopeChair(r, c.CommunityID, true)
			}, gov((*governance.Service).ConfirmRoster)),
		commandRoute("/v1/communities/{id}/governor", "Link a governor to an ISLC", tComm, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.LinkGovernor) error {
				return bindCommunity(s, r, &c.CommunityID)
			}, gov((*governance.Service).LinkGovernor)),
		commandRoute("/v1/communities/{id}/advisory-groups", "Link an advisory group to an ISLC", tComm, leadership,
			func(s *Server, r *http.Request, c *governance.LinkAdvisoryGroup) error {
				newID(&c.GroupID)
				if err := setPathID(r, "id", &c.CommunityID, "community_id"); err != nil {
					return err
				}
				return s.scopeChair(r, c.CommunityID, false)
			}, gov((*governance.Service).LinkAdvisoryGroup)),
		commandRoute("/v1/communities/{id}/chair-rewards", "Record a chair's reward", tComm, schoolAdmins,
			func(s *Server, r *http.Request, c *governance.RecordChairReward) error {
				return bindCommunity(s, r, &c.CommunityID)
			}, gov((*governance.Service).RecordChairReward)),
		commandRoute("/v1/communities/{id}/elections", "Open an election of the chair", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.OpenElection) error {
				newID(&c.ElectionID)
				if err := setPathID(r, "id", &c.CommunityID, "community_id"); err != nil {
					return err
				}
				return s.scopeChair(r, c.CommunityID, true)
			}, gov((*governance.Service).OpenElection)),
		commandRoute("/v1/communities/{id}/confidence-votes", "Call a vote of confidence in the chair", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.CallConfidenceVote) error {
				newID(&c.VoteID)
				return bindCommunity(s, r, &c.CommunityID)
			}, gov((*governance.Service).CallConfidenceVote)),

		// Elections.
		commandRoute("/v1/elections/{id}/nominations", "Nominate a member for chair", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.Nominate) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID, false)
			}, gov((*governance.Service).Nominate)),
		commandRoute("/v1/elections/{id}/nominations/{person}/accept", "Accept a nomination", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.AnswerNomination) error {
				return bindAnswer(s, r, c)
			}, gov((*governance.Service).AcceptNomination)),
		commandRoute("/v1/elections/{id}/nominations/{person}/decline", "Decline a nomination", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.AnswerNomination) error {
				return bindAnswer(s, r, c)
			}, gov((*governance.Service).DeclineNomination)),
		commandRoute("/v1/elections/{id}/voting", "Open voting", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.OpenVoting) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID, true)
			}, gov((*governance.Service).OpenVoting)),
		commandRoute("/v1/elections/{id}/votes", "Cast a vote", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.CastVote) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID, false)
			}, gov((*governance.Service).CastVote)),
		commandRoute("/v1/elections/{id}/close", "Close an election", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.CloseElection) error {
				return bindElection(s, r, &c.ElectionID, &c.CommunityID, true)
			}, gov((*governance.Service).CloseElection)),
		commandRoute("/v1/confidence-votes/{id}/votes", "Cast a vote of confidence", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.CastConfidenceVote) error {
				return bindConfidenceVote(s, r, &c.VoteID, &c.CommunityID)
			}, gov((*governance.Service).CastConfidenceVote)),
		commandRoute("/v1/confidence-votes/{id}/close", "Close a vote of confidence", tElections, schoolStaff,
			func(s *Server, r *http.Request, c *governance.CloseConfidenceVote) error {
				return bindConfidenceVote(s, r, &c.VoteID, &c.CommunityID)
			}, gov((*governance.Service).CloseConfidenceVote)),

		// Proposals.
		commandRoute("/v1/proposals", "Draft a proposal", tProposals, schoolStaff,
			func(s *Server, r *http.Request, c *governance.DraftProposal) error {
				newID(&c.ProposalID)
				_, err := s.scopeCommunity(r, c.CommunityID, uuid.Nil)
				return err
			}, gov((*governance.Service).DraftProposal)),
		commandRoute("/v1/proposals/{id}/versions", "Revise a proposal", tProposals, schoolStaff,
			func(s *Server, r *http.Request, c *governance.ReviseProposal) error {
				return bindProposal(s, r, &c.ProposalID, false)
			}, gov((*governance.Service).ReviseProposal)),
		commandRoute("/v1/proposals/{id}/submit", "Submit a proposal to the Leadership Team", tProposals, leadership,
			func(s *Server, r *http.Request, c *governance.SubmitProposal) error {
				return bindProposal(s, r, &c.ProposalID, true)
			}, gov((*governance.Service).SubmitProposal)),
		commandRoute("/v1/proposals/{id}/advice", "Record an advisory group's advice", tProposals, schoolStaff,
			func(s *Server, r *http.Request, c *governance.GiveAdvice) error {
				return bindProposal(s, r, &c.ProposalID, false)
			}, gov((*governance.Service).GiveAdvice)),
		commandRoute("/v1/proposals/{id}/decision", "Decide a proposal", tProposals, leadership,
			func(s *Server, r *http.Request, c *DecideProposalRequest) error {
				if err := setPathID(r, "id", &c.ProposalID, "proposal_id"); err != nil {
					return err
				}
				p, rev, err := s.loadProposal(r.Context(), c.ProposalID)
				if err != nil || rev < 0 {
					return err
				}
				return s.scopeSchool(r, p.SchoolID)
			}, decideProposal),

		// Corrections.
		{Method: http.MethodPost, Pattern: "/v1/corrections", Summary: "Correct a recorded event", Tag: "Corrections",
			Roles: []Role{RoleAdmin, RoleDirector, RolePartnershipLead}, Request: CorrectionRequest{}, Response: CommandResult{},
			Status: http.StatusCreated, Handle: (*Server).handleCorrection},
	}
}

func decideProposal(s *Server, ctx context.Context, meta domain.Meta, c DecideProposalRequest) (domain.Result, error) {
	switch strings.ToLower(strings.TrimSpace(c.Outcome)) {
	case "approve", "approved":
		return s.L.Governance.ApproveProposal(ctx, meta, c.DecideProposal)
	case "return", "returned", "send_back", "send-back":
		return s.L.Governance.ReturnProposal(ctx, meta, c.DecideProposal)
	}
	return domain.Result{}, invalidField("outcome", "outcome %q is neither approve nor return (send back)", c.Outcome)
}

// bindSchoolID sets a school command's school from the path and checks the
// caller's school.
func bindSchoolID(s *Server, r *http.Request, field *uuid.UUID) error {
	if err := setPathID(r, "id", field, "school_id"); err != nil {
		return err
	}
	return s.scopeSchool(r, *field)
}

// bindPerson sets a person command's person from the path and checks scope.
func bindPerson(s *Server, r *http.Request, field *uuid.UUID, selfOnly bool, what string) error {
	if err := setPathID(r, "id", field, "person_id"); err != nil {
		return err
	}
	return s.scopePerson(r, *field, selfOnly, what)
}

// bindCommunity sets an ISLC command's community from the path and checks
// the caller acts in it.
func bindCommunity(s *Server, r *http.Request, field *uuid.UUID) error {
	if err := setPathID(r, "id", field, "community_id"); err != nil {
		return err
	}
	_, err := s.scopeCommunity(r, *field, uuid.Nil)
	return err
}

// bindElection sets an election command's election from the path and its
// ISLC from the "elections" view, and checks the caller (chairOnly: the
// chair in office, or a member while there is none).
func bindElection(s *Server, r *http.Request, election, community *uuid.UUID, chairOnly bool) error {
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
	if chairOnly {
		return s.scopeChair(r, cid, true)
	}
	_, err = s.scopeCommunity(r, cid, uuid.Nil)
	return err
}

func bindAnswer(s *Server, r *http.Request, c *governance.AnswerNomination) error {
	if err := bindElection(s, r, &c.ElectionID, &c.CommunityID, false); err != nil {
		return err
	}
	nominee, err := pathUUID(r, "person")
	if err != nil {
		return err
	}
	if nominee != caller(r).PersonID {
		return forbidden("only the nominee answers their nomination")
	}
	return nil
}

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
	_, err = s.scopeCommunity(r, cid, uuid.Nil)
	return err
}

func bindProposal(s *Server, r *http.Request, field *uuid.UUID, chairOnly bool) error {
	if err := setPathID(r, "id", field, "proposal_id"); err != nil {
		return err
	}
	return s.scopeProposal(r, *field, chairOnly)
}
