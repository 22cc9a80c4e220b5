package web

import (
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/projections/views"
)

// loanRow is a loan of the register as the resources page shows it: with
// its answer in words, and whether the reader may answer it now.
type loanRow struct {
	views.LoanEntry
	// AnsweredBy names who answered (and in what role), "" while the
	// request waits.
	AnsweredBy string
	// MayAnswer is set when the request waits and the reader may approve
	// or decline it (staff of the owning school, reading now).
	MayAnswer bool
}

// loanRows turns a page of the register into rows, asking the
// application layer once per waiting request whether the reader may
// answer it (only writers reading now are asked).
func (st *site) loanRows(rq *req, pid uuid.UUID, loans []views.LoanEntry) ([]loanRow, error) {
	out := make([]loanRow, 0, len(loans))
	for _, l := range loans {
		r := loanRow{LoanEntry: l}
		if a := l.Answer; a != nil {
			r.AnsweredBy = answeredBy(rq.names, *a)
		}
		if l.Status == "requested" && rq.data.Writer {
			may, err := st.s.App.May(rq.ctx, rq.actor, "ApproveLoan", app.Target{Partnership: pid, School: l.Owner.ID, Parties: []uuid.UUID{l.Owner.ID, l.Borrower.ID}})
			if err != nil {
				return nil, err
			}
			r.MayAnswer = may
		}
		out = append(out, r)
	}
	return out, nil
}

// answeredBy names who answered: the person (or "an administrator", "the
// system") and their role.
func answeredBy(names views.PersonNames, a views.LoanAnswer) string {
	who := ""
	if a.ByID != uuid.Nil {
		who = names.Name(a.ByID)
	}
	role := roleWords[a.Role]
	switch {
	case who == "" && a.Role == "admin":
		return "an administrator"
	case who == "" && a.Role == "system":
		return "the system"
	case who == "":
		who = "someone unnamed"
	}
	if role != "" {
		who += " (" + role + ")"
	}
	return who
}

// roleWords are the roles as people say them.
var roleWords = map[string]string{
	"admin": "administrator", "director": "Director", "staff": "staff", "chair": "ISLC chair", "governor": "governor",
	"partnership_lead": "partnership lead", "auditor": "auditor",
}
