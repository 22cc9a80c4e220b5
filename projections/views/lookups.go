package views

import (
	"time"

	"github.com/google/uuid"
)

// ResourceOfLoan returns the resource a loan was requested of, looking
// through the loans themselves rather than building the register (which
// names and sorts every loan of a partnership).
func (v *Loans) ResourceOfLoan(loan uuid.UUID) (uuid.UUID, bool) {
	if x := v.state.loans; x != nil {
		k, ok := x.at[loan]
		return k.res, ok
	}
	for id, r := range v.state.Resources {
		for _, l := range r.LoanList {
			if l.ID == loan {
				return id, true
			}
		}
	}
	return uuid.Nil, false
}

// Loan returns one loan of resource res as the register shows it at now.
func (v *Loans) Loan(res, loan uuid.UUID, now time.Time) (LoanEntry, bool) {
	r := v.state.Resources[res]
	if r == nil {
		return LoanEntry{}, false
	}
	if l, ok := r.Loan(loan); ok {
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
	for teacher, a := range v.state.Teachers {
		for _, s := range a.List {
			if s.ID == id {
				return teacher, true
			}
		}
	}
	return uuid.Nil, false
}
