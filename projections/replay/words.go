package replay

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// Field is one labelled value of a decision's state, in words.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Namer names what a replay mentions: People names a person through the
// ledger's name lookups ("" when unknown or erased), Things names a
// school, ISLC, proposal or resource ("" when unknown). Pupils are never
// people of the ledger, so they are never named.
type Namer struct {
	People func(uuid.UUID) string
	Things func(uuid.UUID) string
}

func (n Namer) person(id uuid.UUID) string {
	if n.People != nil && id != uuid.Nil {
		if s := n.People(id); s != "" {
			return s
		}
	}
	return ""
}

// someone names a person, or says "a member" when the name is unknown.
func (n Namer) someone(id uuid.UUID) string {
	if s := n.person(id); s != "" {
		return s
	}
	return "a member"
}

func (n Namer) thing(id uuid.UUID, fallback string) string {
	if n.Things != nil && id != uuid.Nil {
		if s := n.Things(id); s != "" {
			return s
		}
	}
	return fallback
}

// people names a list of people: "Ana Evans, Ben Morgan and Cai Jones".
func (n Namer) people(ids []uuid.UUID) string {
	var names []string
	for _, id := range ids {
		names = append(names, n.someone(id))
	}
	return list(names)
}

// list joins words as a sentence does: "a", "a and b", "a, b and c".
func list(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// Plural says n things: "1 piece of advice", "2 pieces of advice".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// when is a moment in words: "3 Dec 2026 09:00", or only the day at
// midnight; "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if t.Hour() == 0 && t.Minute() == 0 {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2 Jan 2006 15:04")
}

// roleWords names whoever acted in a role when their name is not known.
var roleWords = map[string]string{
	domain.RoleAdmin: "An administrator", domain.RoleDirector: "The Director", domain.RoleStaff: "A member of staff",
	domain.RoleChair: "The chair", domain.RoleGovernor: "A governor", domain.RolePartnershipLead: "The partnership lead",
	domain.RoleAuditor: "An auditor", domain.RoleSystem: "Concord",
}

// ByRole names whoever acted in role when their name is not known:
// "The Director", "An administrator".
func ByRole(role string) string {
	if w, ok := roleWords[role]; ok {
		return w
	}
	return "Someone"
}

// Actor is who acted in m, in words: their name through n, else their
// role ("The Director", "An administrator").
func Actor(m domain.Message, n Namer) string {
	if id, err := uuid.Parse(m.Meta.ActorID); err == nil {
		if s := n.person(id); s != "" {
			return s
		}
	}
	return ByRole(m.Meta.ActorRole)
}

// words for the code values a replay shows.
var stateWords = map[string]string{
	// Proposals.
	governance.StatusDraft: "draft", governance.StatusSubmitted: "submitted to the Leadership Team",
	governance.StatusReturned: "sent back for revision", governance.StatusApproved: "approved",
	governance.StanceSupport: "supports it", governance.StanceConcerns: "has concerns", governance.StanceNeutral: "neutral",
	"approve": "approve", "send_back": "send it back",
	// Elections.
	governance.StatusNominating: "taking nominations", governance.StatusVoting: "voting", governance.StatusClosed: "closed",
	governance.StatusFailed: "failed", governance.BallotSecret: "secret", governance.BallotOpen: "open",
	governance.AnswerPending: "not yet answered", governance.AnswerAccepted: "accepted", governance.AnswerDeclined: "declined",
	governance.AnswerWithdrawn: "withdrawn", governance.OutcomeKept: "the chair kept the ISLC's confidence",
	governance.OutcomeLost: "the chair lost the ISLC's confidence", governance.OutcomeNoQuorum: "too few voted; the chair stays",
	governance.OutcomeVoid: "void", "quorum_not_reached": "too few members voted", "no_standing_candidate": "no candidate was standing",
	"ballot_key_lost": "the sealed votes could not be counted", "left_community": "left the ISLC", "left_school": "left the school",
	governance.ChoiceConfidence: "confidence", governance.ChoiceNoConfidence: "no confidence",
}

// loanStatus says a loan's recorded status in words.
var loanStatus = map[partnership.LoanStatus]string{
	partnership.LoanRequestedStatus: "requested", partnership.LoanApprovedStatus: "approved", partnership.LoanDeclinedStatus: "declined",
	partnership.LoanCancelledStatus: "cancelled", partnership.LoanCollectedStatus: "collected, not yet returned", partnership.LoanReturnedStatus: "returned",
}

// Words says a code value of a decision's state in words.
func Words(v string) string {
	if w, ok := stateWords[v]; ok {
		return w
	}
	return strings.ReplaceAll(v, "_", " ")
}

// Heading says in one sentence what m did, naming the actor and what it
// concerns through n: "The Leadership Team sent the proposal back",
// "Sam Jones collected the Minibus for Cwm Primary". Never an event type
// name. Events a replay does not know fall back to their summary.
func Heading(m domain.Message, n Namer, summary string) string {
	who := Actor(m, n)
	switch e := m.Event.(type) {
	// Proposals.
	case governance.ProposalDrafted:
		return fmt.Sprintf("%s drafted the proposal “%s” for %s", who, e.Title, n.thing(e.CommunityID, "the ISLC"))
	case governance.ProposalRevised:
		return fmt.Sprintf("%s revised the proposal as version %d, “%s”", who, e.Version, e.Title)
	case governance.ProposalSubmitted:
		return fmt.Sprintf("%s submitted version %d to the Leadership Team", who, e.Version)
	case governance.AdviceGiven:
		return fmt.Sprintf("%s gave its advice on version %d: it %s", capital(groupName(e.GroupName)), e.Version, Words(e.Stance))
	case governance.TeamResolutionOpened:
		return fmt.Sprintf("The Leadership Team's vote on version %d opened (round %d, %s)", e.Version, e.Round, Plural(len(e.Team), "member", "members"))
	case governance.TeamVoteCast:
		if e.Vote == "send_back" {
			return fmt.Sprintf("%s voted to send the proposal back", who)
		}
		return fmt.Sprintf("%s voted to %s the proposal", who, Words(e.Vote))
	case governance.TeamVoteClosed:
		return fmt.Sprintf("The Leadership Team's vote closed: %d to approve, %d to send back, %d of %d voted", e.Approve, e.SendBack, e.Turnout, len(e.TeamInOffice))
	case governance.ResolutionSignedOff:
		if e.Outcome == "send_back" {
			return fmt.Sprintf("%s signed off the Leadership Team's decision to send the proposal back", who)
		}
		return fmt.Sprintf("%s signed off the Leadership Team's decision to approve the proposal", who)
	case governance.ResolutionReferredBack:
		return fmt.Sprintf("%s referred the vote back to the Leadership Team", who)
	case governance.ProposalApproved:
		return fmt.Sprintf("The Leadership Team approved version %d of the proposal", e.Version)
	case governance.ProposalReturned:
		return "The Leadership Team sent the proposal back"

	// Elections and confidence votes.
	case governance.ElectionOpened:
		what := "the election of the chair"
		if e.RunOffOf != uuid.Nil {
			what = "a run-off for the chair"
		}
		return fmt.Sprintf("%s opened %s of %s for %s (%s ballot, %s)", who, what, n.thing(e.CommunityID, "the ISLC"), e.Year, Words(e.Ballot), Plural(len(e.Electorate), "elector", "electors"))
	case governance.CandidateNominated:
		if e.NomineeID == e.NominatedBy {
			return fmt.Sprintf("%s stood for chair", n.someone(e.NomineeID))
		}
		return fmt.Sprintf("%s nominated %s for chair", capital(n.someone(e.NominatedBy)), n.someone(e.NomineeID))
	case governance.NominationAccepted:
		return fmt.Sprintf("%s accepted the nomination", capital(n.someone(e.NomineeID)))
	case governance.NominationDeclined:
		return fmt.Sprintf("%s declined the nomination", capital(n.someone(e.NomineeID)))
	case governance.VotingOpened:
		return fmt.Sprintf("Voting opened with %s: %s", Plural(len(e.Candidates), "candidate", "candidates"), n.people(e.Candidates))
	case governance.VoteCast:
		if e.CandidateID != nil {
			return fmt.Sprintf("%s voted for %s", capital(n.someone(e.VoterID)), n.someone(*e.CandidateID))
		}
		return fmt.Sprintf("%s cast a secret vote", capital(n.someone(e.VoterID)))
	case governance.CandidateWithdrawn:
		return fmt.Sprintf("%s withdrew from the election (%s)", capital(n.someone(e.CandidateID)), Words(e.Reason))
	case governance.ElectionClosed:
		s := fmt.Sprintf("The election closed: %d of %d voted", e.Turnout, e.ElectorateSize)
		if e.Tie {
			s += ", and the leaders tied"
		}
		return s
	case governance.ElectionFailed:
		return fmt.Sprintf("The election failed: %s (%d of %d voted, %d needed)", Words(e.Reason), e.Turnout, e.ElectorateSize, e.QuorumRequired)
	case governance.ChairElected:
		return fmt.Sprintf("%s was elected chair of %s for %s", capital(n.someone(e.ChairID)), n.thing(e.CommunityID, "the ISLC"), e.Year)
	case governance.RunOffCalled:
		return fmt.Sprintf("A run-off was called between %s after a tie", n.people(e.Candidates))
	case governance.CastingVoteAwaited:
		return fmt.Sprintf("Still tied after %s: the Director's casting vote between %s is due", Plural(e.RunOffs, "run-off", "run-offs"), n.people(e.Candidates))
	case governance.CastingVoteCast:
		return fmt.Sprintf("%s gave the casting vote to %s", who, n.someone(e.CandidateID))
	case governance.ConfidenceVoteCalled:
		return fmt.Sprintf("%s called a vote of confidence in the chair, %s", capital(n.someone(e.CalledBy)), n.someone(e.ChairID))
	case governance.ConfidenceVoteCast:
		if e.Choice != "" {
			return fmt.Sprintf("%s voted %s", capital(n.someone(e.VoterID)), Words(e.Choice))
		}
		return fmt.Sprintf("%s cast a secret vote of confidence or no confidence", capital(n.someone(e.VoterID)))
	case governance.ConfidenceVoteClosed:
		return fmt.Sprintf("The confidence vote closed: %s (%d of %d voted)", Words(e.Outcome), e.Turnout, e.ElectorateSize)
	case governance.ChairRemoved:
		return fmt.Sprintf("%s was removed as chair after losing the vote of confidence", capital(n.someone(e.ChairID)))
	case governance.ChairVacated:
		return fmt.Sprintf("The chair of %s fell vacant", n.thing(e.CommunityID, "the ISLC"))

	// Loans.
	case partnership.LoanRequested:
		return fmt.Sprintf("%s asked to borrow %s for %s", who, n.thing(e.ResourceID, "the resource"), n.thing(e.BorrowerSchoolID, "their school"))
	case partnership.LoanApproved:
		return fmt.Sprintf("%s approved the loan of %s to %s", who, n.thing(e.ResourceID, "the resource"), n.thing(e.BorrowerSchoolID, "the borrowing school"))
	case partnership.LoanDeclined:
		return fmt.Sprintf("%s declined the loan of %s", who, n.thing(e.ResourceID, "the resource"))
	case partnership.LoanCancelled:
		return fmt.Sprintf("%s cancelled the loan of %s", who, n.thing(e.ResourceID, "the resource"))
	case partnership.LoanCollected:
		return fmt.Sprintf("%s collected %s for %s", who, n.thing(e.ResourceID, "the resource"), n.thing(e.BorrowerSchoolID, "the borrowing school"))
	case partnership.LoanReturned:
		s := fmt.Sprintf("%s returned %s in %s condition", who, n.thing(e.ResourceID, "the resource"), e.Condition)
		if e.Late {
			s += ", late"
		}
		return s

	case domain.EventCorrected:
		if e.Retracted {
			return fmt.Sprintf("%s withdrew an earlier step as recorded in error", who)
		}
		return fmt.Sprintf("%s corrected an earlier step", who)
	}
	if summary != "" {
		return summary
	}
	return fmt.Sprintf("%s recorded a step", who)
}

// groupName is an advisory group as the subject of a sentence.
func groupName(g string) string {
	if g == "" {
		return "an advisory group"
	}
	if strings.HasPrefix(strings.ToLower(g), "the ") {
		return g
	}
	return "the " + g
}

// fields collects labelled values, leaving out empty ones.
type fields []Field

func (f *fields) add(label, value string) {
	if strings.TrimSpace(value) != "" {
		*f = append(*f, Field{Label: label, Value: value})
	}
}

// ProposalFields is a proposal's state in labelled fields: its title,
// status, versions, advice and decisions, people named through n.
func ProposalFields(p *governance.Proposal, n Namer) []Field {
	var f fields
	if p == nil || !p.Drafted() {
		return nil
	}
	f.add("Title", p.Current().Title)
	f.add("Status", capital(Words(p.Status)))
	f.add("Current version", fmt.Sprint(len(p.Versions)))
	if p.SubmittedVersion > 0 {
		f.add("Version submitted", fmt.Sprint(p.SubmittedVersion))
	}
	if len(p.Advice) > 0 {
		var who []string
		for _, a := range p.Advice {
			who = append(who, fmt.Sprintf("%s (%s, version %d)", a.GroupName, Words(a.Stance), a.Version))
		}
		f.add("Advice", Plural(len(p.Advice), "piece of advice", "pieces of advice")+": "+strings.Join(who, "; "))
	} else {
		f.add("Advice", "none yet")
	}
	for _, r := range p.Resolutions {
		var votes []string
		for _, v := range r.Votes {
			what := "to approve"
			if v.Vote == governance.VoteSendBack {
				what = "to send it back"
			}
			votes = append(votes, n.someone(v.VoterID)+" "+what)
		}
		v := fmt.Sprintf("Version %d, %s of %s", r.Version, Plural(len(r.Votes), "vote", "votes"), Plural(len(r.Team), "member", "members"))
		if len(votes) > 0 {
			v += ": " + strings.Join(votes, "; ")
		}
		switch r.Status {
		case governance.ResolutionStatusSignedOff:
			v += ". Signed off by the Director"
		case governance.ResolutionStatusReferredBack:
			v += ". Referred back to the Team by the Director"
		default:
			v += ". Voting"
		}
		f.add(fmt.Sprintf("Leadership Team vote, round %d", r.Round), v)
	}
	for i, d := range p.Decisions {
		label := "Decision"
		if len(p.Decisions) > 1 {
			label = fmt.Sprintf("Decision %d", i+1)
		}
		v := fmt.Sprintf("Approved version %d", d.Version)
		if d.Outcome == governance.StatusReturned {
			v = fmt.Sprintf("Sent version %d back for revision", d.Version)
		}
		if by := n.person(d.DecidedBy); by != "" {
			v += ", signed off by " + by
		}
		if !d.At.IsZero() {
			v += " on " + when(d.At)
		}
		if d.Reason != "" {
			v += ": " + d.Reason
		}
		f.add(label, v)
	}
	return f
}

// loanFields is a loan's state in labelled fields.
func loanFields(st loanState, n Namer) []Field {
	var f fields
	f.add("Resource", st.ResourceName)
	f.add("Owned by", n.thing(st.OwnerSchoolID, ""))
	if l := st.Loan; l != nil {
		f.add("Borrowed by", n.thing(l.BorrowerSchoolID, ""))
		f.add("From", when(l.Start))
		f.add("Until", when(l.End))
		f.add("Purpose", l.Purpose)
		f.add("Status", capital(loanStatus[l.Status]))
		f.add("Collected", when(l.CollectedAt))
		f.add("Returned", when(l.ReturnedAt))
		if l.Condition != "" {
			f.add("Condition", capital(string(l.Condition)))
		}
		f.add("Note on its condition", l.ConditionNote)
	}
	return f
}

// electionFields is an election's state in labelled fields: each ballot
// of its chain (the election and its run-offs), confidence votes, and the
// chair it made.
func electionFields(st electionState, n Namer) []Field {
	var f fields
	for _, v := range st.ConfidenceVotes {
		f.add("Vote of confidence in", n.someone(v.ChairID))
		f.add("Called by", n.person(v.CalledBy))
		f.add("Confidence vote", capital(Words(v.Status)))
		if v.Outcome != "" {
			f.add("Confidence vote outcome", fmt.Sprintf("%s: %d for confidence, %d against", capital(Words(v.Outcome)), v.Confidence, v.NoConfidence))
		}
	}
	for i, e := range st.Elections {
		p := ""
		if len(st.Elections) > 1 {
			p = "Election: "
			if i > 0 {
				p = fmt.Sprintf("Run-off %d: ", i)
			}
		}
		f.add(p+"Year", e.Year)
		f.add(p+"Status", capital(Words(e.Status)))
		f.add(p+"Ballot", capital(Words(e.Kind)))
		if len(e.Electorate) > 0 {
			f.add(p+"Electors", Plural(len(e.Electorate), "member", "members"))
		}
		var noms []string
		for _, nm := range e.Nominations {
			noms = append(noms, fmt.Sprintf("%s (%s)", n.someone(nm.NomineeID), Words(nm.Answer)))
		}
		f.add(p+"Nominations", strings.Join(noms, "; "))
		f.add(p+"Candidates", n.people(e.Candidates))
		f.add(p+"Withdrawn", n.people(e.Withdrawn))
		var tally []string
		for _, t := range e.Tally {
			tally = append(tally, fmt.Sprintf("%s %s", n.someone(t.CandidateID), Plural(t.Votes, "vote", "votes")))
		}
		f.add(p+"Votes", strings.Join(tally, "; "))
		f.add(p+"Elected chair", n.person(e.ChairID))
		f.add(p+"Failed because", Words(e.FailReason))
		f.add(p+"Opened", when(e.OpenedAt))
		f.add(p+"Closed", when(e.ClosedAt))
	}
	for _, c := range st.Chairs {
		v := n.someone(c.ChairID)
		if !c.From.IsZero() {
			v += " from " + when(c.From)
		}
		if !c.Until.IsZero() {
			v += " until " + when(c.Until)
		}
		f.add("Chair for "+c.Year, v)
	}
	return f
}
