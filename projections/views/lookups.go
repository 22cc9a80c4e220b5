package views

import (
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
)

// ResourceOfLoan returns the resource a loan was requested of, from the
// loan index (built if the state was read back and has none yet), rather
// than the register (which names every loan it lists).
func (v *Loans) ResourceOfLoan(loan uuid.UUID) (uuid.UUID, bool) {
	k, ok := v.state.index().at[loan]
	return k.res, ok
}

// Loan returns one loan of resource res as the register shows it at now.
func (v *Loans) Loan(res, loan uuid.UUID, now time.Time) (LoanEntry, bool) {
	r := v.state.Resources[res]
	if r == nil {
		return LoanEntry{}, false
	}
	if l, ok := v.state.loanByID(r, loan); ok {
		return v.entry(r, l, now), true
	}
	return LoanEntry{}, false
}

// LoanIn returns loan as the register of partnership pid shows it at now
// (false when it is no loan of pid's).
func (v *Loans) LoanIn(pid, loan uuid.UUID, now time.Time) (LoanEntry, bool) {
	res, ok := v.ResourceOfLoan(loan)
	if !ok {
		return LoanEntry{}, false
	}
	if r := v.state.Resources[res]; r == nil || r.PartnershipID != pid {
		return LoanEntry{}, false
	}
	return v.Loan(res, loan, now)
}

// TeacherOfSecondment returns the teacher a secondment is of, looking
// through the secondments themselves rather than listing (and naming)
// every partnership's.
func (v *Secondments) TeacherOfSecondment(id uuid.UUID) (uuid.UUID, bool) {
	teacher, found := uuid.Nil, false
	v.state.Teachers.each(func(t uuid.UUID, a *partnership.Secondments) {
		for _, s := range a.List {
			if !found && s.ID == id {
				teacher, found = t, true
			}
		}
	})
	return teacher, found
}
