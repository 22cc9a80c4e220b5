package replay

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// Every kind of step a replay of a proposal, an election or a loan shows
// is told in a sentence that names who acted and what it concerned. The
// expected sentences are written from the rules, not read off the code.
func TestEveryStepIsToldInASentence(t *testing.T) {
	sam, ana, ben, dir := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	islc, pant, cwm, kit, prop := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	n := Namer{
		People: func(id uuid.UUID) string {
			return map[uuid.UUID]string{sam: "Sam Jones", ana: "Ana Evans", ben: "Ben Morgan", dir: "Gwen Price"}[id]
		},
		Things: func(id uuid.UUID) string {
			return map[uuid.UUID]string{islc: "Research ISLC", pant: "Ysgol y Pant", cwm: "Cwm Primary", kit: "the science kit", prop: "Reading corners"}[id]
		},
	}
	by := func(p uuid.UUID, role string) domain.Meta { return domain.Meta{ActorID: p.String(), ActorRole: role} }
	keys := partnership.LoanKeys{ResourceID: kit, OwnerSchoolID: pant, BorrowerSchoolID: cwm}
	ben2 := ben
	for _, c := range []struct {
		meta  domain.Meta
		event domain.Event
		want  string
	}{
		{by(ben, domain.RoleStaff), governance.ProposalDrafted{CommunityID: islc, ProposalText: governance.ProposalText{Title: "Reading corners"}}, "Ben Morgan drafted the proposal “Reading corners” for Research ISLC"},
		{by(ben, domain.RoleStaff), governance.ProposalRevised{Version: 2, ProposalText: governance.ProposalText{Title: "Reading nooks"}}, "Ben Morgan revised the proposal as version 2, “Reading nooks”"},
		{by(ana, domain.RoleChair), governance.ProposalSubmitted{Version: 2}, "Ana Evans submitted version 2 to the Leadership Team"},
		{by(ana, domain.RoleChair), governance.AdviceGiven{GroupName: "Parent forum", Version: 1, Stance: governance.StanceConcerns}, "The Parent forum gave its advice on version 1: it has concerns"},
		{by(ana, domain.RoleChair), governance.TeamResolutionOpened{Version: 1, Round: 1, Team: []uuid.UUID{dir, ana}}, "The Leadership Team's vote on version 1 opened (round 1, 2 members)"},
		{by(dir, domain.RoleDirector), governance.TeamVoteCast{Vote: governance.VoteSendBack}, "Gwen Price voted to send the proposal back"},
		{by(ana, domain.RoleChair), governance.TeamVoteCast{Vote: governance.VoteApprove}, "Ana Evans voted to approve the proposal"},
		{by(dir, domain.RoleDirector), governance.TeamVoteClosed{Approve: 1, SendBack: 1, Turnout: 2, TeamInOffice: []uuid.UUID{dir, ana}}, "The Leadership Team's vote closed: 1 to approve, 1 to send back, 2 of 2 voted"},
		{by(dir, domain.RoleDirector), governance.ResolutionSignedOff{Outcome: governance.VoteSendBack}, "Gwen Price signed off the Leadership Team's decision to send the proposal back"},
		{by(dir, domain.RoleDirector), governance.ResolutionReferredBack{}, "Gwen Price referred the vote back to the Leadership Team"},
		{by(dir, domain.RoleDirector), governance.ProposalReturned{Version: 1}, "The Leadership Team sent the proposal back"},
		{by(dir, domain.RoleDirector), governance.ProposalApproved{Version: 2}, "The Leadership Team approved version 2 of the proposal"},
		{domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}, governance.ElectionOpened{CommunityID: islc, Year: "2025-26", Ballot: governance.BallotSecret, Electorate: []uuid.UUID{sam, ana, ben}},
			"An administrator opened the election of the chair of Research ISLC for 2025-26 (secret ballot, 3 electors)"},
		{by(ana, domain.RoleStaff), governance.CandidateNominated{NomineeID: ana, NominatedBy: ana}, "Ana Evans stood for chair"},
		{by(sam, domain.RoleStaff), governance.CandidateNominated{NomineeID: ben, NominatedBy: sam}, "Sam Jones nominated Ben Morgan for chair"},
		{by(ben, domain.RoleStaff), governance.NominationAccepted{NomineeID: ben}, "Ben Morgan accepted the nomination"},
		{by(ben, domain.RoleStaff), governance.NominationDeclined{NomineeID: ben}, "Ben Morgan declined the nomination"},
		{by(dir, domain.RoleDirector), governance.VotingOpened{Candidates: []uuid.UUID{ana, ben}}, "Voting opened with 2 candidates: Ana Evans and Ben Morgan"},
		{by(sam, domain.RoleStaff), governance.VoteCast{VoterID: sam}, "Sam Jones cast a secret vote"},
		{by(sam, domain.RoleStaff), governance.VoteCast{VoterID: sam, CandidateID: &ben2}, "Sam Jones voted for Ben Morgan"},
		{domain.Meta{ActorID: "system", ActorRole: domain.RoleSystem}, governance.CandidateWithdrawn{CandidateID: ben, Reason: "left_community"}, "Ben Morgan withdrew from the election (left the ISLC)"},
		{by(dir, domain.RoleDirector), governance.ElectionClosed{Turnout: 3, ElectorateSize: 4}, "The election closed: 3 of 4 voted"},
		{by(dir, domain.RoleDirector), governance.ElectionClosed{Turnout: 4, ElectorateSize: 4, Tie: true}, "The election closed: 4 of 4 voted, and the leaders tied"},
		{by(dir, domain.RoleDirector), governance.ElectionFailed{Reason: "quorum_not_reached", Turnout: 1, ElectorateSize: 4, QuorumRequired: 3}, "The election failed: too few members voted (1 of 4 voted, 3 needed)"},
		{by(dir, domain.RoleDirector), governance.ChairElected{CommunityID: islc, Year: "2025-26", ChairID: ana}, "Ana Evans was elected chair of Research ISLC for 2025-26"},
		{by(dir, domain.RoleDirector), governance.RunOffCalled{Candidates: []uuid.UUID{ana, ben}}, "A run-off was called between Ana Evans and Ben Morgan after a tie"},
		{by(dir, domain.RoleDirector), governance.CastingVoteAwaited{RunOffs: 1, Candidates: []uuid.UUID{ana, ben}}, "Still tied after 1 run-off: the Director's casting vote between Ana Evans and Ben Morgan is due"},
		{by(dir, domain.RoleDirector), governance.CastingVoteCast{CandidateID: ben}, "Gwen Price gave the casting vote to Ben Morgan"},
		{by(sam, domain.RoleStaff), governance.ConfidenceVoteCalled{CalledBy: sam, ChairID: ana}, "Sam Jones called a vote of confidence in the chair, Ana Evans"},
		{by(ben, domain.RoleStaff), governance.ConfidenceVoteCast{VoterID: ben, Choice: governance.ChoiceNoConfidence}, "Ben Morgan voted no confidence"},
		{by(dir, domain.RoleDirector), governance.ConfidenceVoteClosed{Outcome: governance.OutcomeLost, Turnout: 3, ElectorateSize: 3}, "The confidence vote closed: the chair lost the ISLC's confidence (3 of 3 voted)"},
		{by(dir, domain.RoleDirector), governance.ChairRemoved{ChairID: ana}, "Ana Evans was removed as chair after losing the vote of confidence"},
		{by(sam, domain.RoleStaff), partnership.LoanRequested{LoanKeys: keys}, "Sam Jones asked to borrow the science kit for Cwm Primary"},
		{by(dir, domain.RoleStaff), partnership.LoanApproved{LoanKeys: keys}, "Gwen Price approved the loan of the science kit to Cwm Primary"},
		{by(dir, domain.RoleStaff), partnership.LoanDeclined{LoanKeys: keys}, "Gwen Price declined the loan of the science kit"},
		{by(sam, domain.RoleStaff), partnership.LoanCancelled{LoanKeys: keys}, "Sam Jones cancelled the loan of the science kit"},
		{by(sam, domain.RoleStaff), partnership.LoanCollected{LoanKeys: keys}, "Sam Jones collected the science kit for Cwm Primary"},
		{by(sam, domain.RoleStaff), partnership.LoanReturned{LoanKeys: keys, Condition: partnership.ConditionDamaged, Late: true}, "Sam Jones returned the science kit in damaged condition, late"},
		{domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}, domain.EventCorrected{CorrectsType: "ProposalDrafted"}, "An administrator corrected an earlier step"},
		// Someone whose name the ledger does not give (erased, or never
		// known) is named by the role they acted in.
		{by(uuid.New(), domain.RoleDirector), governance.ResolutionReferredBack{}, "The Director referred the vote back to the Leadership Team"},
	} {
		m := domain.Message{Event: c.event}
		m.Meta = c.meta
		m.Type = c.event.EventType()
		got := Heading(m, n, "a summary")
		if got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", m.Type, got, c.want)
		}
		if strings.Contains(got, m.Type) {
			t.Errorf("%s: the heading names the event type: %q", m.Type, got)
		}
	}
}

// A proposal's state reads as labelled fields: plurals right, dates in
// words, nothing empty.
func TestProposalFieldsInWords(t *testing.T) {
	dir := uuid.New()
	n := Namer{People: func(id uuid.UUID) string {
		if id == dir {
			return "Gwen Price"
		}
		return ""
	}}
	at := time.Date(2025, 10, 2, 14, 30, 0, 0, time.UTC)
	msg := func(e domain.Event) domain.Message {
		m := domain.Message{Event: e}
		m.RecordedAt, m.Type = at, e.EventType()
		return m
	}
	p := governance.NewProposal()
	if f := ProposalFields(p, n); len(f) != 0 {
		t.Errorf("an undrafted proposal has fields %v", f)
	}
	p.Apply(msg(governance.ProposalDrafted{ProposalID: uuid.New(), Version: 1, ProposalText: governance.ProposalText{Title: "Reading corners"}}))
	p.Apply(msg(governance.AdviceGiven{GroupName: "Parent forum", Version: 1, Stance: governance.StanceSupport}))
	value := func(fs []Field, label string) string {
		for _, f := range fs {
			if f.Label == label {
				return f.Value
			}
		}
		return ""
	}
	if got := value(ProposalFields(p, n), "Advice"); !strings.HasPrefix(got, "1 piece of advice: Parent forum (supports it, version 1)") {
		t.Errorf("one piece of advice reads %q", got)
	}
	p.Apply(msg(governance.AdviceGiven{GroupName: "Student council", Version: 1, Stance: governance.StanceConcerns}))
	p.Apply(msg(governance.ProposalSubmitted{Version: 1}))
	p.Apply(msg(governance.ProposalReturned{Version: 1, DecidedBy: dir, Reason: "Cost it."}))
	fs := ProposalFields(p, n)
	for label, want := range map[string]string{
		"Title":             "Reading corners",
		"Status":            "Sent back for revision",
		"Current version":   "1",
		"Version submitted": "1",
		"Advice":            "2 pieces of advice: Parent forum (supports it, version 1); Student council (has concerns, version 1)",
		"Decision":          "Sent version 1 back for revision, signed off by Gwen Price on 2 Oct 2025 14:30: Cost it.",
	} {
		if got := value(fs, label); got != want {
			t.Errorf("%s = %q, want %q", label, got, want)
		}
	}
	for _, f := range fs {
		if strings.TrimSpace(f.Value) == "" || strings.Contains(f.Value, "0001") || strings.Contains(f.Value, "{") {
			t.Errorf("field %s = %q", f.Label, f.Value)
		}
	}
}

// A loan's state leaves out what has not happened yet: no zero dates.
func TestLoanFieldsLeaveOutWhatHasNotHappened(t *testing.T) {
	pant, cwm := uuid.New(), uuid.New()
	n := Namer{Things: func(id uuid.UUID) string { return map[uuid.UUID]string{pant: "Ysgol y Pant", cwm: "Cwm Primary"}[id] }}
	start := time.Date(2025, 10, 6, 8, 0, 0, 0, time.UTC)
	st := loanState{ResourceName: "Minibus", OwnerSchoolID: pant, Loan: &partnership.Loan{BorrowerSchoolID: cwm, Start: start, End: start.Add(8 * time.Hour),
		Purpose: "Trip", Status: partnership.LoanApprovedStatus}}
	got := map[string]string{}
	for _, f := range loanFields(st, n) {
		got[f.Label] = f.Value
	}
	want := map[string]string{"Resource": "Minibus", "Owned by": "Ysgol y Pant", "Borrowed by": "Cwm Primary", "From": "6 Oct 2025 08:00",
		"Until": "6 Oct 2025 16:00", "Purpose": "Trip", "Status": "Approved"}
	if len(got) != len(want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// A replayed election reads step by step in sentences, with the state
// after each step in fields free of raw structures and zero dates.
func TestReplayedElectionReadsInWords(t *testing.T) {
	w := newWorld(t)
	el := w.elect()
	names := map[uuid.UUID]string{}
	for i, p := range w.staff {
		names[p] = []string{"Ana Evans", "Ben Morgan", "Cai Jones", "Dee Hughes", "Gwen Price"}[i]
	}
	r, err := (&Replayer{Store: w.store, Codec: w.codec}).Replay(w.ctx, Request{Kind: KindElection, ID: el, Names: nameMap(names)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"An administrator opened the election of the chair of " + islcName + " for 2025-26 (secret ballot, 4 electors)",
		"Ana Evans stood for chair", "Ana Evans accepted the nomination", "Ben Morgan stood for chair", "Ben Morgan accepted the nomination",
		"Voting opened with 2 candidates: Ana Evans and Ben Morgan",
		"Ana Evans cast a secret vote", "Ben Morgan cast a secret vote", "Cai Jones cast a secret vote", "Dee Hughes cast a secret vote",
		"The election closed: 4 of 4 voted", "Ben Morgan was elected chair of " + islcName + " for 2025-26",
	}
	if len(r.Steps) != len(want) {
		t.Fatalf("%d steps, want %d", len(r.Steps), len(want))
	}
	for i, s := range r.Steps {
		if s.Heading != want[i] {
			t.Errorf("step %d: %q, want %q", i+1, s.Heading, want[i])
		}
		for _, f := range s.State {
			if strings.Contains(f.Value, "0001-01-01") || strings.Contains(f.Value, "{") || f.Value == "" {
				t.Errorf("step %d: %s = %q", i+1, f.Label, f.Value)
			}
		}
	}
	last := map[string]string{}
	for _, f := range r.Steps[len(r.Steps)-1].State {
		last[f.Label] = f.Value
	}
	if last["Votes"] != "Ana Evans 1 vote; Ben Morgan 3 votes" || last["Elected chair"] != "Ben Morgan" || last["Status"] != "Closed" {
		t.Errorf("the election after its last step: %v", last)
	}
}

type nameMap map[uuid.UUID]string

func (m nameMap) Name(id uuid.UUID) string { return m[id] }

// islcName is the name of the test world's ISLC: its segment's.
var islcName = governance.DefaultSegmentNames[0]
