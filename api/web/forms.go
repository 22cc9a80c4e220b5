package web

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// The forms read their fields and run the use case through the application
// layer (command), as the signed-in person: the same function the API's
// route calls, so who may do what is checked in one place, from the
// ledger, and every rule is the domain's. Form names tie a rejection to
// the form it came from so the page shows it there; field names are the
// commands' JSON names, which is what a rejection's Field says.

func formID(rq *req, field string, required bool) (uuid.UUID, error) {
	s := strings.TrimSpace(rq.r.PostForm.Get(field))
	if s == "" {
		if required {
			return uuid.Nil, fieldError{field, "Choose one."}
		}
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fieldError{field, "This is not a valid choice."}
	}
	return id, nil
}

// formTime reads a datetime-local (or date) field as UTC.
func formTime(rq *req, field string) (time.Time, error) {
	s := strings.TrimSpace(rq.r.PostForm.Get(field))
	if s == "" {
		return time.Time{}, fieldError{field, "Enter a date and time."}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fieldError{field, "Enter a date and time like 2025-10-06 09:00."}
}

func electionIDs(rq *req) (community, election uuid.UUID, err error) {
	if community, err = pathID(rq, "id"); err != nil {
		return
	}
	election, err = pathID(rq, "eid")
	return
}

func (st *site) nominate(rq *req) (string, string, error) {
	c, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "nominate-" + e.String()
	nominee, err := formID(rq, "nominee_id", true)
	if err != nil {
		return name, "", err
	}
	err = st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.Nominate(ctx, actor, governance.Nominate{CommunityID: c, ElectionID: e, NomineeID: nominee})
	})
	return name, "Your nomination of " + rq.names.Name(nominee) + " was recorded.", err
}

func (st *site) accept(rq *req) (string, string, error) {
	c, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "accept-" + e.String()
	cmd := governance.AnswerNomination{CommunityID: c, ElectionID: e}
	if rq.r.PostForm.Get("answer") == "decline" {
		return name, "You declined the nomination.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
			return a.DeclineNomination(ctx, actor, cmd)
		})
	}
	return name, "You accepted the nomination: you stand for chair.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.AcceptNomination(ctx, actor, cmd)
	})
}

func (st *site) vote(rq *req) (string, string, error) {
	c, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "vote-" + e.String()
	cand, err := formID(rq, "candidate_id", true)
	if err != nil {
		return name, "", err
	}
	return name, "Your vote was recorded.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.CastVote(ctx, actor, governance.CastVote{CommunityID: c, ElectionID: e, CandidateID: cand})
	})
}

func (st *site) draftProposal(rq *req) (string, string, error) {
	c, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	const name = "draft"
	f := rq.r.PostForm
	cmd := governance.DraftProposal{ProposalID: uuid.Must(uuid.NewV7()), CommunityID: c, Year: strings.TrimSpace(f.Get("year")),
		ProposalText: governance.ProposalText{Title: strings.TrimSpace(f.Get("title")), Body: strings.TrimSpace(f.Get("body")),
			ExpectedImpact: strings.TrimSpace(f.Get("expected_impact"))}}
	if s := strings.TrimSpace(f.Get("costs")); s != "" {
		pence, ok := parsePounds(s)
		if !ok {
			return name, "", fieldError{"costs", "Enter an amount in pounds, like 1250 or 1250.50."}
		}
		cmd.Costs = &governance.Money{AmountMinor: pence, Currency: "GBP"}
	}
	if err := formLengths(&cmd); err != nil {
		return name, "", err
	}
	if err := st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.DraftProposal(ctx, actor, cmd)
	}); err != nil {
		return name, "", err
	}
	return name, "The proposal “" + cmd.Title + "” was drafted. Submit it to the Leadership Team from its page.", nil
}

// parsePounds reads "1250", "1,250.50" or "£1250.5" as pence.
func parsePounds(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "£"), ",", "")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, false
	}
	var n int64
	for _, r := range whole + (frac + "00")[:2] {
		if r < '0' || r > '9' || n > 1e15 {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	return n, true
}

func (st *site) submitProposal(rq *req) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	return "submit", "The proposal was submitted to the Leadership Team.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.SubmitProposal(ctx, actor, governance.SubmitProposal{ProposalID: id})
	})
}

func (st *site) teamVote(rq *req) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	const name = "vote"
	f := rq.r.PostForm
	cmd := governance.CastTeamVote{ProposalID: id, Vote: f.Get("vote"), Reason: strings.TrimSpace(f.Get("reason")), AlignmentNote: strings.TrimSpace(f.Get("alignment_note"))}
	switch f.Get("aligned") {
	case "yes":
		yes := true
		cmd.Aligned = &yes
	case "no":
		no := false
		cmd.Aligned = &no
	}
	if cmd.Vote != governance.VoteApprove && cmd.Vote != governance.VoteSendBack {
		return name, "", fieldError{"vote", "Choose approve or send back."}
	}
	if err := formLengths(&cmd); err != nil {
		return name, "", err
	}
	return name, "Your vote was recorded; the Director closes the round once a quorum of the Team has voted.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.CastTeamVote(ctx, actor, cmd)
	})
}

func (st *site) resolve(rq *req) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	const name = "resolve"
	cmd := governance.ResolveProposal{ProposalID: id, Reason: strings.TrimSpace(rq.r.PostForm.Get("reason"))}
	if err := formLengths(&cmd); err != nil {
		return name, "", err
	}
	switch rq.r.PostForm.Get("action") {
	case "sign_off":
		return name, "You signed off the Leadership Team's decision.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
			return a.SignOffResolution(ctx, actor, cmd)
		})
	case "refer_back":
		return name, "You referred the decision back to the Leadership Team: a new round of votes is open.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
			return a.ReferBackResolution(ctx, actor, cmd)
		})
	}
	return name, "", fieldError{"action", "Choose to sign off or to refer back."}
}

func (st *site) requestLoan(rq *req) (string, string, error) {
	const name = "loan"
	res, err := formID(rq, "resource_id", true)
	if err != nil {
		return name, "", err
	}
	borrower, err := formID(rq, "borrower_school_id", true)
	if err != nil {
		return name, "", err
	}
	start, err := formTime(rq, "start")
	if err != nil {
		return name, "", err
	}
	end, err := formTime(rq, "end")
	if err != nil {
		return name, "", err
	}
	cmd := partnership.RequestLoan{ResourceID: res, LoanID: uuid.Must(uuid.NewV7()), BorrowerSchoolID: borrower, Start: start, End: end,
		Purpose: strings.TrimSpace(rq.r.PostForm.Get("purpose"))}
	if err := formLengths(&cmd); err != nil {
		return name, "", err
	}
	err = st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.RequestLoan(ctx, actor, cmd)
	})
	return name, "Your loan request was recorded; the owning school will answer it.", err
}

func loanIDs(rq *req) (res, loan uuid.UUID, err error) {
	if res, err = pathID(rq, "rid"); err != nil {
		return
	}
	loan, err = pathID(rq, "lid")
	return
}

func (st *site) approveLoan(rq *req) (string, string, error) {
	res, loan, err := loanIDs(rq)
	if err != nil {
		return "", "", err
	}
	return "answer-" + loan.String(), "The loan was approved.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.ApproveLoan(ctx, actor, partnership.ApproveLoan{ResourceID: res, LoanID: loan})
	})
}

func (st *site) declineLoan(rq *req) (string, string, error) {
	res, loan, err := loanIDs(rq)
	if err != nil {
		return "", "", err
	}
	return "answer-" + loan.String(), "The loan was declined.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.DeclineLoan(ctx, actor, partnership.DeclineLoan{ResourceID: res, LoanID: loan})
	})
}

// command runs a use case of the application layer as the signed-in
// person, with the form's reason field as the reason recorded. A refusal
// (a rule of the ledger, or who may) comes back as the API's *api.Problem,
// so the page shows it as the API would answer it.
func (st *site) command(rq *req, run func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error)) error {
	req := app.Request{Reason: strings.TrimSpace(rq.r.PostForm.Get("reason"))}
	if id, err := uuid.Parse(api.RequestID(rq.ctx)); err == nil {
		req.CausationID = id
	}
	_, err := run(app.WithRequest(rq.ctx, req), st.s.App, rq.actor)
	if err == nil {
		return nil
	}
	if _, _, ok := domain.RuleOf(err); ok {
		return api.ProblemOf(err)
	}
	var pr *api.Problem
	if errors.As(err, &pr) {
		return pr
	}
	return err
}

// formLengths refuses a form whose text is over the API's limits.
func formLengths(cmd any) error {
	if err := api.CheckLengths(cmd); err != nil {
		return err
	}
	return nil
}

func (st *site) raiseChallenge(rq *req) (string, string, error) {
	const name = "challenge"
	f := rq.r.PostForm
	due, err := time.Parse(time.DateOnly, strings.TrimSpace(f.Get("due_on")))
	if err != nil {
		return name, "", fieldError{"due_on", "Enter the day the Director should answer by, like 2025-12-01."}
	}
	subject, err := formID(rq, "subject_id", true)
	if err != nil {
		return name, "", err
	}
	within, err := formID(rq, "within", false)
	if err != nil {
		return name, "", err
	}
	cmd := governance.RaiseChallenge{ChallengeID: uuid.Must(uuid.NewV7()), Text: strings.TrimSpace(f.Get("text")), DueOn: due,
		Subject: governance.ChallengeSubject{Kind: f.Get("subject_kind"), ID: subject, Within: within}}
	if err := formLengths(&cmd); err != nil {
		return name, "", err
	}
	return name, "Your challenge was recorded; the Director will answer it.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.RaiseChallenge(ctx, actor, cmd)
	})
}

func (st *site) answerChallenge(rq *req) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	name := "answer-" + id.String()
	cmd := governance.AnswerChallenge{ChallengeID: id, Answer: strings.TrimSpace(rq.r.PostForm.Get("answer"))}
	if err := formLengths(&cmd); err != nil {
		return name, "", err
	}
	return name, "Your answer was recorded.", st.command(rq, func(ctx context.Context, a *app.App, actor app.Actor) (domain.Result, error) {
		return a.AnswerChallenge(ctx, actor, cmd)
	})
}
