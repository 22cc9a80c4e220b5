package governance

import "github.com/concord-ledger/concord/domain"

// Rules of schools, academic years and people.
var (
	// ErrUnknownSegment is returned when a command names a segment the school does not have.
	ErrUnknownSegment = domain.NewRule("unknown-segment", domain.KindNotFound, "The school has no such segment",
		"A command can only name segments the school has registered.")
	// ErrYearNotOpen is returned when a command names an academic year the school has not opened.
	ErrYearNotOpen = domain.NewRule("academic-year-not-open", domain.KindConflict, "That academic year is not open",
		"Memberships, elections, assessments and proposals belong to an academic year the school has opened.")
	// ErrYearsOverlap is returned when a new academic year would overlap one already opened.
	ErrYearsOverlap = domain.NewRule("academic-years-overlap", domain.KindConflict, "Academic years cannot overlap",
		"A school's academic years follow one another without overlapping.")
	// ErrErasureFinal is returned when a correction would retract an
	// erasure of personal data.
	ErrErasureFinal = domain.NewRule("erasure-final", domain.KindConflict, "An erasure cannot be undone",
		"Erased personal data cannot be read again: its key is destroyed. An erasure's reason can be corrected, the erasure cannot be retracted.")
	// ErrOutsideYear is returned when a business date falls outside the
	// academic year its command or event claims.
	// It is domain.ErrOutsideYear, shared with the partnership rules.
	ErrOutsideYear = domain.ErrOutsideYear
	// ErrNotStaff is returned when a command names someone who is not a registered staff member of the school.
	ErrNotStaff = domain.NewRule("not-staff-of-school", domain.KindInvalid, "Not a staff member of this school",
		"Only the school's registered educators and administrators can be its Director, join its ISLCs or form its triads.")
	// ErrPersonLeft is returned when a command names someone who has left the school.
	ErrPersonLeft = domain.NewRule("person-left-school", domain.KindConflict, "This person has left the school",
		"Someone who has left the school can no longer take on a role in it.")
	// ErrNotGovernor is returned when a governor link names, or a challenge is raised by, someone not registered as a
	// governor of the school.
	ErrNotGovernor = domain.NewRule("not-a-governor", domain.KindInvalid, "Not a governor of this school",
		"Only a registered governor of the school can be linked to one of its ISLCs or raise a challenge to its Director.")
	// ErrChallengeOutsideSchool is returned when a governor challenges something that does not concern their school.
	ErrChallengeOutsideSchool = domain.NewRule("challenge-outside-school", domain.KindInvalid, "Not a matter of this governor's school",
		"A governor challenges the Director on decisions, proposals, elections and loans of their own school, or on the school itself.")
	// ErrChallengeAnswered is returned when a challenge already answered is answered again.
	ErrChallengeAnswered = domain.NewRule("challenge-answered", domain.KindConflict, "The challenge is already answered",
		"The Director answers a challenge once; a further question is a new challenge.")
	// ErrNotAdvisoryContact is returned when an advisory group names a contact not registered as one.
	ErrNotAdvisoryContact = domain.NewRule("not-an-advisory-contact", domain.KindInvalid, "Not an advisory-group contact of this school",
		"An advisory group's contacts must be registered as advisory contacts of the school.")
)

// Rules of ISLC membership.
var (
	// ErrNoActingPerson is returned when a command that a person does in
	// their own name (voting, nominating, drafting, deciding) comes from
	// no person: the administrator, a witness or the system.
	ErrNoActingPerson = domain.NewRule("no-acting-person", domain.KindForbidden, "A person must do this in their own name",
		"Votes, nominations, proposals and decisions are recorded in the name of the person who makes them, never by someone else for them.")
	// ErrNotAMember is returned when someone who is not a member of the ISLC for the year
	// nominates, stands, votes, drafts or calls a vote.
	ErrNotAMember = domain.NewRule("not-an-islc-member", domain.KindInvalid, "Only members of the ISLC may do this",
		"Only members of an ISLC for the academic year may nominate, stand and vote for its chair, call a confidence vote or draft its proposals.")
	// ErrAlreadyMember is returned when someone joins an ISLC they already belong to for that year.
	ErrAlreadyMember = domain.NewRule("already-an-islc-member", domain.KindConflict, "Already a member for that year",
		"A staff member joins an ISLC once per academic year.")
	// ErrMinimumTermNotServed is returned when a member leaves before the end of their academic year
	// without a recorded exception.
	ErrMinimumTermNotServed = domain.NewRule("minimum-term-not-served", domain.KindConflict, "Members serve at least one academic year",
		"A member may leave an ISLC before the end of the academic year only for a recorded exception: leaving the school, long-term absence, or the Director's approval.")
	// ErrNotDirector is returned when an approval or a casting vote is credited to someone who is not the school's
	// Director.
	ErrNotDirector = domain.NewRule("not-the-director", domain.KindForbidden, "Only the Director can do this",
		"An early leaving approved by the Director, and the casting vote that settles a tied election, are the school's Director's.")
	// ErrEmptyRoster is returned when a roster is confirmed, or a ballot opened, for an ISLC with no members that year.
	ErrEmptyRoster = domain.NewRule("empty-roster", domain.KindConflict, "The ISLC has no members for that year",
		"An ISLC needs members for the year before its roster is confirmed or a ballot is held.")
	// ErrNoContinuity is returned when a new year's roster keeps none of the previous year's members.
	ErrNoContinuity = domain.NewRule("no-continuity", domain.KindConflict, "Keep at least one member from last year",
		"An ISLC's roster for a new year must keep at least one member of the previous year, for institutional memory.")
)

// Rules of elections, chairs and confidence votes.
var (
	// ErrBallotInProgress is returned when an election or confidence vote is opened while another is running.
	ErrBallotInProgress = domain.NewRule("ballot-in-progress", domain.KindConflict, "A vote is already running in this ISLC",
		"An ISLC holds one election or confidence vote at a time; close the running one first.")
	// ErrNominationsClosed is returned when a nomination is made or answered after voting has opened.
	ErrNominationsClosed = domain.NewRule("nominations-closed", domain.KindConflict, "Nominations are closed",
		"Members are nominated, and answer their nominations, before voting opens.")
	// ErrNotNominated is returned when someone answers a nomination they have not received.
	ErrNotNominated = domain.NewRule("not-nominated", domain.KindConflict, "There is no nomination to answer",
		"Only a member who has been nominated can accept or decline.")
	// ErrNoCandidates is returned when voting is opened with no accepted nomination.
	ErrNoCandidates = domain.NewRule("no-candidates", domain.KindConflict, "No one is standing",
		"Voting opens once at least one nominee has accepted.")
	// ErrElectionNotOpen is returned when a vote is cast in, or a close asked of, a ballot that is not open for voting.
	ErrElectionNotOpen = domain.NewRule("election-not-open", domain.KindConflict, "Voting is not open",
		"Votes are cast, and a ballot is closed, only while its voting is open.")
	// ErrNotCandidate is returned when a vote names someone who is not standing.
	ErrNotCandidate = domain.NewRule("not-a-candidate", domain.KindInvalid, "Not a candidate",
		"A vote must go to a member who accepted their nomination and is still standing.")
	// ErrAlreadyVoted is returned when a member votes a second time in one ballot.
	ErrAlreadyVoted = domain.NewRule("already-voted", domain.KindConflict, "Already voted",
		"Each member has one vote per election or confidence vote, and each member of the Leadership Team one vote per round on a proposal.")
	// ErrNotChair is returned when a command needs the ISLC's chair in office and names someone else.
	ErrNotChair = domain.NewRule("not-the-chair", domain.KindForbidden, "Only the ISLC's chair can do this",
		"Only the chair in office submits the ISLC's proposals and receives the chair's reward.")
	// ErrNoCastingVoteDue is returned when a casting vote is cast in an election that awaits none.
	ErrNoCastingVoteDue = domain.NewRule("no-casting-vote-due", domain.KindConflict, "No casting vote is due",
		"The Director casts a deciding vote only in an election that tied after every run-off the school allows.")
	// ErrNoChair is returned when a confidence vote is called in an ISLC with no chair in office.
	ErrNoChair = domain.NewRule("no-chair-in-office", domain.KindConflict, "The ISLC has no chair in office",
		"A confidence vote is about the chair in office; there is none for that year.")
)

// Rules of proposals and the Leadership Team.
var (
	// ErrNotLeadershipTeam is returned when someone outside the Leadership Team in office votes on a proposal.
	ErrNotLeadershipTeam = domain.NewRule("not-leadership-team", domain.KindForbidden, "Only the Leadership Team decides proposals",
		"Proposals are approved or sent back by a vote of the Leadership Team in office: the Director and the chairs in office of the school's ISLCs.")
	// ErrQuorumNotReached is returned when the Director closes a round of
	// the Leadership Team's votes before a quorum of the Team in office
	// has voted.
	ErrQuorumNotReached = domain.NewRule("team-quorum-not-reached", domain.KindConflict, "Not enough of the Leadership Team has voted",
		"The Leadership Team decides a proposal only once a quorum of the Team in office (a majority unless the school set another rule) has voted.")
	// ErrNotDirectorSignOff is returned when someone other than the
	// school's Director signs off or refers back a decision of the
	// Leadership Team.
	ErrNotDirectorSignOff = domain.NewRule("sign-off-by-director", domain.KindForbidden, "Only the Director signs off the Team's decisions",
		"The Director, who chairs the Leadership Team, closes its votes and signs off its decisions or refers them back to it.")
	// ErrNotSubmitted is returned when a decision is asked on a proposal that is not waiting for one.
	ErrNotSubmitted = domain.NewRule("proposal-not-submitted", domain.KindConflict, "The proposal is not waiting for a decision",
		"The Leadership Team decides proposals that their ISLC's chair has submitted.")
	// ErrProposalLocked is returned when a proposal is changed, submitted or advised on while it is
	// with the Leadership Team or approved.
	ErrProposalLocked = domain.NewRule("proposal-locked", domain.KindConflict, "The proposal cannot change now",
		"A proposal is revised while its ISLC holds it; once submitted it waits for the Team's decision, and once approved it is final.")
	// ErrRevisionNeeded is returned when a sent-back proposal is resubmitted without a new version.
	ErrRevisionNeeded = domain.NewRule("revision-needed", domain.KindConflict, "Revise the proposal before resubmitting",
		"A proposal sent back by the Leadership Team is revised as a new version before it is submitted again.")
	// ErrNotAligned is returned when the Team approves a proposal it found out of line with the school's mission,
	// vision and values.
	ErrNotAligned = domain.NewRule("proposal-not-aligned", domain.KindConflict, "A proposal out of line with the mission cannot be approved",
		"The Leadership Team approves only proposals it finds aligned with the school's mission, vision and values; otherwise it sends them back.")
	// ErrAdvisoryGroupNotLinked is returned when advice comes from a group not linked to the proposal's ISLC.
	ErrAdvisoryGroupNotLinked = domain.NewRule("advisory-group-not-linked", domain.KindInvalid, "That group does not advise this ISLC",
		"Advice on a proposal comes from a student or parent group linked to the proposal's ISLC.")
)

// Rules of learning structures.
var (
	// ErrTriadSize is returned when a peer coaching triad does not have exactly three different people.
	ErrTriadSize = domain.NewRule("triad-size", domain.KindInvalid, "A triad has exactly three people",
		"A peer coaching triad is three different staff members.")
	// ErrTriadMixedSchools is returned when a triad's members are not all staff of its school.
	ErrTriadMixedSchools = domain.NewRule("triad-mixed-schools", domain.KindInvalid, "A triad's members belong to one school",
		"The three members of a peer coaching triad are staff of the same school.")
)
