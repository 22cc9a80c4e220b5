package governance

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// loansOf answers for loans from a table.
type loansOf map[uuid.UUID][2]uuid.UUID

func (l loansOf) LoanSchools(_ context.Context, _, loan uuid.UUID) (uuid.UUID, uuid.UUID, bool, error) {
	s, ok := l[loan]
	return s[0], s[1], ok, nil
}

// challengeWorld is the proposal world with a governor, a decided
// proposal, an election and loans.
type challengeWorld struct {
	*proposalWorld
	governor, decided, decision, election uuid.UUID
	ourLoan, theirLoan, otherSchool       uuid.UUID
}

func newChallengeWorld(t *testing.T) *challengeWorld {
	w := &challengeWorld{proposalWorld: newProposalWorld(t)}
	w.governor, w.election, w.ourLoan, w.theirLoan, w.otherSchool = domaintest.ID(), domaintest.ID(), domaintest.ID(), domaintest.ID(), domaintest.ID()
	w.Given(PersonStream(w.governor), GovernorRegistered{PersonID: w.governor, SchoolID: w.school, Personal: domain.PersonalData{Name: "Governor Grey"}})
	w.decided = w.givenSubmitted()
	w.Given(ProposalStream(w.decided), ProposalApproved{ProposalID: w.decided, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 1, DecidedBy: w.director, Reason: "r"})
	for _, m := range w.Messages() {
		if m.Type == "ProposalApproved" {
			w.decision = m.ID
		}
	}
	w.Given(CommunityStream(w.c), ElectionOpened{ElectionID: w.election, CommunityID: w.c, SchoolID: w.school, Year: year, Ballot: BallotSecret, Electorate: w.staff[:3]})
	w.svc.SetLoans(loansOf{w.ourLoan: {w.otherSchool, w.school}, w.theirLoan: {w.otherSchool, domaintest.ID()}})
	return w
}

func (w *challengeWorld) raise(by uuid.UUID, cmd RaiseChallenge) (domain.Result, error) {
	return w.svc.RaiseChallenge(w.Ctx, as(by, domain.RoleGovernor), cmd)
}

// A governor raises a challenge on a decision, a proposal, an election, a
// loan or the school; the Director answers it, once.
func TestGovernorChallengesTheDirector(t *testing.T) {
	w := newChallengeWorld(t)
	due := yearStart.AddDate(0, 0, 14)
	on := func(kind string, id, within uuid.UUID) ChallengeSubject {
		return ChallengeSubject{Kind: kind, ID: id, Within: within}
	}
	refused := []struct {
		name string
		by   uuid.UUID
		cmd  RaiseChallenge
		rule error
	}{
		{"raised by a staff member", w.staff[1], RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectSchool, w.school, uuid.Nil), Text: "Why?", DueOn: due}, ErrNotGovernor},
		{"no text", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectSchool, w.school, uuid.Nil), DueOn: due}, domain.ErrRequired},
		{"no due day", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectSchool, w.school, uuid.Nil), Text: "Why?"}, domain.ErrRequired},
		{"due before it is raised", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectSchool, w.school, uuid.Nil), Text: "Why?", DueOn: yearStart.AddDate(0, 0, -1)}, domain.ErrInvalidValue},
		{"about nothing known", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on("budget", w.school, uuid.Nil), Text: "Why?", DueOn: due}, domain.ErrInvalidValue},
		{"another school", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectSchool, w.otherSchool, uuid.Nil), Text: "Why?", DueOn: due}, ErrChallengeOutsideSchool},
		{"unknown proposal", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectProposal, domaintest.ID(), uuid.Nil), Text: "Why?", DueOn: due}, domain.ErrNotFound},
		{"a decision that is not one", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectDecision, domaintest.ID(), w.decided), Text: "Why?", DueOn: due}, domain.ErrNotFound},
		{"unknown election", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectElection, domaintest.ID(), w.c), Text: "Why?", DueOn: due}, domain.ErrNotFound},
		{"a loan between other schools", w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectLoan, w.theirLoan, domaintest.ID()), Text: "Why?", DueOn: due}, ErrChallengeOutsideSchool},
		{"no person acting", uuid.Nil, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: on(SubjectSchool, w.school, uuid.Nil), Text: "Why?", DueOn: due}, ErrNoActingPerson},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			meta := as(tc.by, domain.RoleGovernor)
			if tc.by == uuid.Nil {
				meta = w.meta
			}
			_, err := w.svc.RaiseChallenge(w.Ctx, meta, tc.cmd)
			w.ThenError(err, tc.rule)
		})
	}
	for _, s := range []ChallengeSubject{on(SubjectSchool, w.school, uuid.Nil), on(SubjectProposal, w.decided, uuid.Nil), on(SubjectElection, w.election, w.c),
		on(SubjectLoan, w.ourLoan, domaintest.ID())} {
		w.ok(w.raise(w.governor, RaiseChallenge{ChallengeID: domaintest.ID(), Subject: s, Text: "Explain, please.", DueOn: due}))
	}
	id := domaintest.ID()
	res, err := w.raise(w.governor, RaiseChallenge{ChallengeID: id, Subject: on(SubjectDecision, w.decision, w.decided), Text: " Why was the cost not shared? ", DueOn: due})
	w.ThenEvents(res, err, ChallengeRaised{ChallengeID: id, SchoolID: w.school, GovernorID: w.governor, Subject: on(SubjectDecision, w.decision, w.decided),
		Text: "Why was the cost not shared?", DueOn: due, RaisedOn: yearStart})
	_, err = w.raise(w.governor, RaiseChallenge{ChallengeID: id, Subject: on(SubjectSchool, w.school, uuid.Nil), Text: "Again", DueOn: due})
	w.ThenError(err, domain.ErrAlreadyExists)

	answer := func(by uuid.UUID, text string) (domain.Result, error) {
		return w.svc.AnswerChallenge(w.Ctx, as(by, domain.RoleDirector), AnswerChallenge{ChallengeID: id, Answer: text})
	}
	_, err = answer(w.chair, "Because.")
	w.ThenError(err, ErrNotDirector)
	_, err = answer(w.director, " ")
	w.ThenError(err, domain.ErrRequired)
	w.Clock.Set(due.Add(10 * time.Hour)) // on the due day
	res, err = answer(w.director, "The partner school declined to share.")
	w.ThenEvents(res, err, ChallengeAnswered{ChallengeID: id, SchoolID: w.school, DirectorID: w.director, Answer: "The partner school declined to share.", AnsweredOn: due})
	_, err = answer(w.director, "More.")
	w.ThenError(err, ErrChallengeAnswered)

	// An answer after the due day is recorded late.
	late := domaintest.ID()
	w.ok(w.raise(w.governor, RaiseChallenge{ChallengeID: late, Subject: on(SubjectSchool, w.school, uuid.Nil), Text: "Budget?", DueOn: due}))
	w.Clock.Set(due.AddDate(0, 0, 3))
	got := w.ok(w.svc.AnswerChallenge(w.Ctx, as(w.director, domain.RoleDirector), AnswerChallenge{ChallengeID: late, Answer: "Balanced."}))
	if a := got[0].(ChallengeAnswered); !a.Late || !a.AnsweredOn.Equal(due.AddDate(0, 0, 3)) {
		t.Fatalf("answer = %+v, want late on %s", a, due.AddDate(0, 0, 3).Format(time.DateOnly))
	}
}

// A challenge's corrections keep its rules.
func TestCorrectChallenge(t *testing.T) {
	w := newChallengeWorld(t)
	id, due := domaintest.ID(), yearStart.AddDate(0, 0, 14)
	subject := ChallengeSubject{Kind: SubjectSchool, ID: w.school}
	w.ok(w.raise(w.governor, RaiseChallenge{ChallengeID: id, Subject: subject, Text: "Why?", DueOn: due}))
	w.ok(w.svc.AnswerChallenge(w.Ctx, as(w.director, domain.RoleDirector), AnswerChallenge{ChallengeID: id, Answer: "Because."}))
	var raised, answered uuid.UUID
	for _, m := range w.Messages() {
		switch m.Type {
		case "ChallengeRaised":
			raised = m.ID
		case "ChallengeAnswered":
			answered = m.ID
		}
	}
	correct := func(event uuid.UUID, e domain.Event) (domain.Result, error) {
		return w.svc.CorrectEvent(w.Ctx, w.meta, ChallengeStream(id), domain.Correction{EventID: event, Replacement: e, Reason: "mistyped"})
	}
	_, err := correct(raised, ChallengeRaised{ChallengeID: id, SchoolID: w.school, GovernorID: w.governor, Subject: subject, Text: "Why?", DueOn: yearStart.AddDate(0, 0, -2), RaisedOn: yearStart})
	w.ThenError(err, domain.ErrInvalidValue)
	_, err = correct(answered, ChallengeAnswered{ChallengeID: id, SchoolID: w.school, DirectorID: w.director, Answer: "Because.", AnsweredOn: yearStart, Late: true})
	w.ThenError(err, domain.ErrInvalidValue)
	w.ok(correct(raised, ChallengeRaised{ChallengeID: id, SchoolID: w.school, GovernorID: w.governor, Subject: subject, Text: "Why so?", DueOn: due, RaisedOn: yearStart}))
	w.ok(correct(answered, ChallengeAnswered{ChallengeID: id, SchoolID: w.school, DirectorID: w.director, Answer: "Because we must.", AnsweredOn: yearStart}))
}
