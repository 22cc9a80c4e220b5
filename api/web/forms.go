package web

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// The forms read their fields, call the domain service the API calls, and
// leave every rule to the domain. Form names tie a rejection to the form
// it came from so the page shows it there; field names are the commands'
// JSON names, which is what a domain rejection's Field says.

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

func (st *site) nominate(rq *req, meta domain.Meta) (string, string, error) {
	c, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "nominate-" + e.String()
	nominee, err := formID(rq, "nominee_id", true)
	if err != nil {
		return name, "", err
	}
	_, err = st.s.L.Governance.Nominate(rq.ctx, meta, governance.Nominate{CommunityID: c, ElectionID: e, NomineeID: nominee})
	return name, "Your nomination of " + rq.names.Name(nominee) + " was recorded.", err
}

func (st *site) accept(rq *req, meta domain.Meta) (string, string, error) {
	c, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "accept-" + e.String()
	cmd := governance.AnswerNomination{CommunityID: c, ElectionID: e}
	if rq.r.PostForm.Get("answer") == "decline" {
		_, err = st.s.L.Governance.DeclineNomination(rq.ctx, meta, cmd)
		return name, "You declined the nomination.", err
	}
	_, err = st.s.L.Governance.AcceptNomination(rq.ctx, meta, cmd)
	return name, "You accepted the nomination: you stand for chair.", err
}

func (st *site) vote(rq *req, meta domain.Meta) (string, string, error) {
	c, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "vote-" + e.String()
	cand, err := formID(rq, "candidate_id", true)
	if err != nil {
		return name, "", err
	}
	_, err = st.s.L.Governance.CastVote(rq.ctx, meta, governance.CastVote{CommunityID: c, ElectionID: e, CandidateID: cand})
	return name, "Your vote was recorded.", err
}

func (st *site) draftProposal(rq *req, meta domain.Meta) (string, string, error) {
	c, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	const name = "draft"
	f := rq.r.PostForm
	cmd := governance.DraftProposal{ProposalID: uuid.New(), CommunityID: c, Year: strings.TrimSpace(f.Get("year")),
		ProposalText: governance.ProposalText{Title: strings.TrimSpace(f.Get("title")), Body: strings.TrimSpace(f.Get("body")), ExpectedImpact: strings.TrimSpace(f.Get("expected_impact"))}}
	if s := strings.TrimSpace(f.Get("costs")); s != "" {
		pence, ok := parsePounds(s)
		if !ok {
			return name, "", fieldError{"costs", "Enter an amount in pounds, like 1250 or 1250.50."}
		}
		cmd.Costs = &governance.Money{AmountMinor: pence, Currency: "GBP"}
	}
	if _, err := st.s.L.Governance.DraftProposal(rq.ctx, meta, cmd); err != nil {
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

func (st *site) submitProposal(rq *req, meta domain.Meta) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	_, err = st.s.L.Governance.SubmitProposal(rq.ctx, meta, governance.SubmitProposal{ProposalID: id})
	return "submit", "The proposal was submitted to the Leadership Team.", err
}

func (st *site) decideProposal(rq *req, meta domain.Meta) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	const name = "decide"
	f := rq.r.PostForm
	cmd := governance.DecideProposal{ProposalID: id, Reason: strings.TrimSpace(f.Get("reason")), AlignmentNote: strings.TrimSpace(f.Get("alignment_note"))}
	switch f.Get("aligned") {
	case "yes":
		cmd.Aligned = new(true)
	case "no":
		cmd.Aligned = new(false)
	}
	switch f.Get("outcome") {
	case "approve":
		_, err = st.s.L.Governance.ApproveProposal(rq.ctx, meta, cmd)
		return name, "The Leadership Team's approval was recorded.", err
	case "return":
		_, err = st.s.L.Governance.ReturnProposal(rq.ctx, meta, cmd)
		return name, "The proposal was returned to its ISLC for revision.", err
	}
	return name, "", fieldError{"outcome", "Choose approve or return."}
}

func (st *site) requestLoan(rq *req, meta domain.Meta) (string, string, error) {
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
	_, err = st.s.L.Partnership.RequestLoan(rq.ctx, meta, partnership.RequestLoan{ResourceID: res, LoanID: uuid.New(), BorrowerSchoolID: borrower,
		Start: start, End: end, Purpose: strings.TrimSpace(rq.r.PostForm.Get("purpose"))})
	return name, "Your loan request was recorded; the owning school will answer it.", err
}

func loanIDs(rq *req) (res, loan uuid.UUID, err error) {
	if res, err = pathID(rq, "rid"); err != nil {
		return
	}
	loan, err = pathID(rq, "lid")
	return
}

func (st *site) approveLoan(rq *req, meta domain.Meta) (string, string, error) {
	res, loan, err := loanIDs(rq)
	if err != nil {
		return "", "", err
	}
	_, err = st.s.L.Partnership.ApproveLoan(rq.ctx, meta, partnership.ApproveLoan{ResourceID: res, LoanID: loan})
	return "answer-" + loan.String(), "The loan was approved.", err
}

func (st *site) declineLoan(rq *req, meta domain.Meta) (string, string, error) {
	res, loan, err := loanIDs(rq)
	if err != nil {
		return "", "", err
	}
	_, err = st.s.L.Partnership.DeclineLoan(rq.ctx, meta, partnership.DeclineLoan{ResourceID: res, LoanID: loan})
	return "answer-" + loan.String(), "The loan was declined.", err
}
