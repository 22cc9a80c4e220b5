package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

const year = "2025-26"

type world struct {
	t        *testing.T
	ctx      context.Context
	now      time.Time
	store    eventstore.Store
	codec    *domain.Codec
	svc      *governance.Service
	school   uuid.UUID
	staff    []uuid.UUID
	director uuid.UUID
	islc     uuid.UUID
}

func as(p uuid.UUID, role string) domain.Meta {
	return domain.Meta{ActorID: p.String(), ActorRole: role}
}

func (w *world) do(_ domain.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// newWorld records a school with one ISLC of four members, through the
// real service on a memory store.
func newWorld(t *testing.T) *world {
	w := &world{t: t, ctx: context.Background(), now: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)}
	w.store = memory.New(memory.Options{Now: func() time.Time { return w.now }})
	w.codec = &domain.Codec{Keys: domain.NewMemoryKeyring()}
	h := domain.NewHandler(domainlog.Log{Store: w.store}, w.codec)
	h.Now = func() time.Time { return w.now }
	w.svc = governance.NewService(h, governance.NewMemoryBallotBox())
	admin := domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin}
	w.school = uuid.Must(uuid.NewV7())
	w.do(w.svc.RegisterSchool(w.ctx, admin, governance.RegisterSchool{SchoolID: w.school, Name: "Infinity School"}))
	w.do(w.svc.OpenAcademicYear(w.ctx, admin, governance.OpenAcademicYear{SchoolID: w.school, Year: year}))
	for i := range 5 {
		id := uuid.Must(uuid.NewV7())
		w.staff = append(w.staff, id)
		w.do(w.svc.RegisterStaff(w.ctx, admin, governance.RegisterStaff{PersonID: id, SchoolID: w.school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Teacher %d", i)}}))
	}
	w.director = w.staff[4]
	w.do(w.svc.AppointDirector(w.ctx, admin, governance.AppointDirector{SchoolID: w.school, DirectorID: w.director}))
	seg := governance.DefaultSegmentID(w.school, governance.DefaultSegmentNames[0])
	w.do(w.svc.EstablishCommunity(w.ctx, admin, governance.EstablishCommunity{SchoolID: w.school, SegmentID: seg}))
	w.islc = governance.CommunityID(w.school, seg)
	for _, p := range w.staff[:4] {
		w.do(w.svc.JoinCommunity(w.ctx, as(p, domain.RoleStaff), governance.JoinCommunity{CommunityID: w.islc, PersonID: p, Year: year, Basis: []string{governance.BasisInterest}}))
	}
	return w
}

// elect runs an election of the ISLC's chair that staff 1 wins 3–1.
func (w *world) elect() uuid.UUID {
	admin := domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin, Reason: "Annual election."}
	el := uuid.Must(uuid.NewV7())
	s := w.staff
	w.do(w.svc.OpenElection(w.ctx, admin, governance.OpenElection{CommunityID: w.islc, ElectionID: el, Year: year}))
	for _, c := range s[:2] {
		w.do(w.svc.Nominate(w.ctx, as(c, domain.RoleStaff), governance.Nominate{CommunityID: w.islc, ElectionID: el, NomineeID: c}))
		w.do(w.svc.AcceptNomination(w.ctx, as(c, domain.RoleStaff), governance.AnswerNomination{CommunityID: w.islc, ElectionID: el}))
	}
	w.do(w.svc.OpenVoting(w.ctx, admin, governance.OpenVoting{CommunityID: w.islc, ElectionID: el}))
	for i, v := range s[:4] {
		cand := s[1]
		if i == 0 {
			cand = s[0]
		}
		w.do(w.svc.CastVote(w.ctx, as(v, domain.RoleStaff), governance.CastVote{CommunityID: w.islc, ElectionID: el, CandidateID: cand}))
	}
	w.now = w.now.Add(time.Hour)
	w.do(w.svc.CloseElection(w.ctx, admin, governance.CloseElection{CommunityID: w.islc, ElectionID: el}))
	return el
}

func (w *world) head() uint64 {
	h, err := w.store.Head(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return h
}

func types(r *Replay) []string {
	out := make([]string, len(r.Steps))
	for i, s := range r.Steps {
		out[i] = s.Type
	}
	return out
}

func TestReplayElectionFromOpeningToChair(t *testing.T) {
	w := newWorld(t)
	el := w.elect()
	// Events after the election, in the same stream, are not steps.
	w.do(w.svc.JoinCommunity(w.ctx, as(w.director, domain.RoleStaff), governance.JoinCommunity{CommunityID: w.islc, PersonID: w.director, Year: year, Basis: []string{governance.BasisInterest}}))
	rp := &Replayer{Store: w.store, Codec: w.codec}
	names := views.NameMap{w.staff[1]: "Teacher 1"}
	r, err := rp.Replay(w.ctx, Request{Kind: KindElection, ID: el, Names: names})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(types(r))
	want := "[ElectionOpened CandidateNominated NominationAccepted CandidateNominated NominationAccepted VotingOpened VoteCast VoteCast VoteCast VoteCast ElectionClosed ChairElected]"
	if got != want {
		t.Fatalf("steps %s\nwant  %s", got, want)
	}
	first, last := r.Steps[0], r.Steps[len(r.Steps)-1]
	if first.ActorID != "admin-1" || first.Role != domain.RoleAdmin || first.Reason != "Annual election." || string(first.Before) != "{}" {
		t.Fatalf("first step = %+v", first)
	}
	for i := 1; i < len(r.Steps); i++ {
		if r.Steps[i].Position <= r.Steps[i-1].Position || string(r.Steps[i].Before) != string(r.Steps[i-1].After) {
			t.Fatalf("step %d does not follow step %d", i, i-1)
		}
	}
	if r.Steps[2].ActorName != "" || r.Steps[3].ActorName != "Teacher 1" {
		t.Fatalf("actor names %q %q", r.Steps[2].ActorName, r.Steps[3].ActorName)
	}
	var before, after electionState
	if err := json.Unmarshal(last.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(last.After, &after); err != nil {
		t.Fatal(err)
	}
	if len(before.Chairs) != 0 || len(after.Chairs) != 1 || after.Chairs[0].ChairID != w.staff[1] || after.Elections[0].Status != governance.StatusClosed {
		t.Fatalf("last step: before %+v after %+v", before, after)
	}
	// The secret ballot stays secret: a vote leaves the rendered state
	// as it was, so no step pairs a voter with a choice.
	for _, s := range r.Steps {
		if s.Type == "VoteCast" && string(s.Before) != string(s.After) {
			t.Fatalf("a vote changed the rendered state: %s -> %s", s.Before, s.After)
		}
	}
	// As of the third vote: the replay stops there.
	asOf := r.Steps[8].Position
	part, err := rp.Replay(w.ctx, Request{Kind: KindElection, ID: el, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	if len(part.Steps) != 9 || part.AsOf != asOf || string(part.Steps[8].After) != string(r.Steps[8].After) {
		t.Fatalf("as of %d: %d steps", asOf, len(part.Steps))
	}
	// Before the election opened, it does not exist.
	_, err = rp.Replay(w.ctx, Request{Kind: KindElection, ID: el, AsOf: r.Steps[0].Position - 1})
	var nf *NotFoundError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || nf.ID != el {
		t.Fatalf("before opening: %v", err)
	}
	if _, err := rp.Replay(w.ctx, Request{Kind: KindElection, ID: el, AsOf: w.head() + 1}); !errors.Is(err, projections.ErrFutureAsOf) {
		t.Fatalf("beyond the head: %v", err)
	}
	if _, err := rp.Replay(w.ctx, Request{Kind: "vote", ID: el}); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("unknown kind: %v", err)
	}
}

func TestReplayProposalFromDraftToDecision(t *testing.T) {
	w := newWorld(t)
	w.elect()
	chair := w.staff[1]
	p := uuid.Must(uuid.NewV7())
	yes := true
	w.now = w.now.Add(24 * time.Hour)
	w.do(w.svc.DraftProposal(w.ctx, as(w.staff[2], domain.RoleStaff), governance.DraftProposal{ProposalID: p, CommunityID: w.islc, Year: year,
		ProposalText: governance.ProposalText{Title: "Project weeks", Body: "Two weeks.", ExpectedImpact: "Deeper learning."}}))
	w.do(w.svc.SubmitProposal(w.ctx, as(chair, domain.RoleChair), governance.SubmitProposal{ProposalID: p}))
	vote := func(by uuid.UUID, role, v string) {
		w.do(w.svc.CastTeamVote(w.ctx, as(by, role), governance.CastTeamVote{ProposalID: p, Vote: v, Reason: "At the meeting.", Aligned: &yes, AlignmentNote: "In line."}))
	}
	// The Team is the Director and the ISLC's chair: both vote, a tie
	// sends it back, and the Director signs that off.
	vote(w.director, domain.RoleDirector, governance.VoteSendBack)
	vote(chair, domain.RoleChair, governance.VoteApprove)
	returnMeta := as(w.director, domain.RoleDirector)
	returnMeta.Reason = "Too long for one term."
	w.do(w.svc.SignOffResolution(w.ctx, returnMeta, governance.ResolveProposal{ProposalID: p, Reason: "Halve it."}))
	w.do(w.svc.ReviseProposal(w.ctx, as(w.staff[2], domain.RoleStaff), governance.ReviseProposal{ProposalID: p,
		ProposalText: governance.ProposalText{Title: "One project week", Body: "One week.", ExpectedImpact: "Deeper learning."}}))
	w.do(w.svc.SubmitProposal(w.ctx, as(chair, domain.RoleChair), governance.SubmitProposal{ProposalID: p}))
	w.now = w.now.Add(24 * time.Hour)
	vote(w.director, domain.RoleDirector, governance.VoteApprove)
	vote(chair, domain.RoleChair, governance.VoteApprove)
	w.do(w.svc.SignOffResolution(w.ctx, as(w.director, domain.RoleDirector), governance.ResolveProposal{ProposalID: p, Reason: "Good."}))

	rp := &Replayer{Store: w.store, Codec: w.codec}
	r, err := rp.Replay(w.ctx, Request{Kind: KindProposal, ID: p})
	if err != nil {
		t.Fatal(err)
	}
	round := "TeamResolutionOpened TeamVoteCast TeamVoteCast TeamVoteClosed ResolutionSignedOff"
	if got, want := fmt.Sprint(types(r)), "[ProposalDrafted ProposalSubmitted "+round+" ProposalReturned ProposalRevised ProposalSubmitted "+round+" ProposalApproved]"; got != want {
		t.Fatalf("steps %s, want %s", got, want)
	}
	if r.Stream != governance.ProposalStream(p) || len(r.Correlations) != 1 {
		t.Fatalf("stream %s correlations %v", r.Stream, r.Correlations)
	}
	ret := r.Steps[7]
	if ret.ActorID != w.director.String() || ret.Role != domain.RoleDirector || ret.Reason != "Too long for one term." || ret.Summary == "" {
		t.Fatalf("return step = %+v", ret)
	}
	state := func(b json.RawMessage) governance.Proposal {
		var p governance.Proposal
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if b, a := state(ret.Before), state(ret.After); b.Status != governance.StatusSubmitted || a.Status != governance.StatusReturned || len(a.Decisions) != 1 {
		t.Fatalf("return: before %s after %s", b.Status, a.Status)
	}
	// Each vote is a step, with the votes so far in its state.
	if v := state(r.Steps[4].After); len(v.Resolutions) != 1 || len(v.Resolutions[0].Votes) != 2 || v.Resolutions[0].Votes[0].VoterID != w.director {
		t.Fatalf("after the second vote: %+v", v.Resolutions)
	}
	if c := state(r.Steps[5].After); c.Resolutions[0].Closed == nil || c.Resolutions[0].Closed.Outcome != governance.VoteSendBack || c.Status != governance.StatusSubmitted {
		t.Fatalf("after closing: %+v", c.Resolutions[0])
	}
	if so := state(r.Steps[6].After); so.Resolutions[0].Status != governance.ResolutionStatusSignedOff || so.Resolutions[0].DirectorID != w.director {
		t.Fatalf("after sign-off: %+v", so.Resolutions[0])
	}
	last := state(r.Steps[len(r.Steps)-1].After)
	if last.Status != governance.StatusApproved || len(last.Versions) != 2 || last.Versions[1].Title != "One project week" || len(last.Decisions) != 2 || len(last.Resolutions) != 2 {
		t.Fatalf("final state = %+v", last)
	}
	if !r.Steps[len(r.Steps)-1].RecordedAt.After(r.Steps[0].RecordedAt) {
		t.Fatal("times do not advance")
	}
	if _, err := rp.Replay(w.ctx, Request{Kind: KindProposal, ID: uuid.New()}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown proposal: %v", err)
	}
}

func TestReplayLoanFromRequestToReturn(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	store := memory.New(memory.Options{Now: func() time.Time { return now }})
	codec := &domain.Codec{Keys: domain.NewMemoryKeyring()}
	h := domain.NewHandler(domainlog.Log{Store: store}, codec)
	h.Now = func() time.Time { return now }
	dir := &partnership.MemoryDirectory{}
	svc := partnership.NewService(h, dir)
	id := func() uuid.UUID { return uuid.Must(uuid.NewV7()) }
	pid, a, b, a1, b1, rid, loan := id(), id(), id(), id(), id(), id(), id()
	dir.AddStaff(a1, a)
	dir.AddStaff(b1, b)
	do := func(_ domain.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	lead := domain.Meta{ActorID: "00000000-0000-7000-8000-00000000001e", ActorRole: domain.RolePartnershipLead}
	staff := func(p uuid.UUID) domain.Meta { return domain.Meta{ActorID: p.String(), ActorRole: domain.RoleStaff} }
	do(svc.FormPartnership(ctx, lead, partnership.FormPartnership{PartnershipID: pid, Name: "Valleys", Kind: partnership.KindCluster}))
	do(svc.JoinPartnership(ctx, lead, partnership.JoinPartnership{PartnershipID: pid, SchoolID: a}))
	do(svc.JoinPartnership(ctx, lead, partnership.JoinPartnership{PartnershipID: pid, SchoolID: b}))
	do(svc.RegisterResource(ctx, staff(a1), partnership.RegisterResource{ResourceID: rid, PartnershipID: pid, OwnerSchoolID: a, Kind: partnership.Minibus,
		Name: "Minibus", Capacity: 17, HourlyValuePence: 2500, Offer: true}))
	start := time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)
	do(svc.RequestLoan(ctx, staff(b1), partnership.RequestLoan{ResourceID: rid, LoanID: loan, BorrowerSchoolID: b, Start: start, End: start.Add(8 * time.Hour), Purpose: "Field trip"}))
	// Another loan of the same resource is not part of this one.
	do(svc.RequestLoan(ctx, staff(b1), partnership.RequestLoan{ResourceID: rid, LoanID: id(), BorrowerSchoolID: b, Start: start.AddDate(0, 1, 0), End: start.AddDate(0, 1, 0).Add(time.Hour), Purpose: "Match"}))
	do(svc.ApproveLoan(ctx, staff(a1), partnership.ApproveLoan{ResourceID: rid, LoanID: loan}))
	now = start
	do(svc.CollectLoan(ctx, staff(b1), partnership.CollectLoan{ResourceID: rid, LoanID: loan, CollectedAt: start}))
	now = start.Add(7 * time.Hour)
	do(svc.ReturnLoan(ctx, staff(b1), partnership.ReturnLoan{ResourceID: rid, LoanID: loan, ReturnedAt: now, Condition: partnership.ConditionFair, Note: "Muddy"}))

	r, err := (&Replayer{Store: store, Codec: codec}).Replay(ctx, Request{Kind: KindLoan, ID: loan})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(types(r)), "[LoanRequested LoanApproved LoanCollected LoanReturned]"; got != want {
		t.Fatalf("steps %s, want %s", got, want)
	}
	var first, last loanState
	if err := json.Unmarshal(r.Steps[0].After, &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.Steps[3].After, &last); err != nil {
		t.Fatal(err)
	}
	if first.ResourceName != "Minibus" || first.Loan == nil || first.Loan.Status != partnership.LoanRequestedStatus {
		t.Fatalf("after request = %+v", first)
	}
	if last.Loan.Status != partnership.LoanReturnedStatus || last.Loan.Condition != partnership.ConditionFair || r.Steps[1].ActorID != a1.String() {
		t.Fatalf("after return = %+v", last.Loan)
	}
	var before loanState
	json.Unmarshal(r.Steps[0].Before, &before)
	if before.Loan != nil || before.ResourceName != "Minibus" {
		t.Fatalf("before the request = %+v", before)
	}
}
