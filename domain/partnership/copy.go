package partnership

import (
	"maps"

	"github.com/concord-ledger/concord/domain"
)

// CopyAggregate implements domain.Copier: a resource is copied for every
// command on one of its loans, and holds every loan it has had.
func (r *Resource) CopyAggregate() domain.Aggregate {
	out := *r
	out.LoanList = domain.GrowCopy(r.LoanList, 1) // a Loan holds no reference
	out.loanOf = maps.Clone(r.loanOf)
	return &out
}

// CopyAggregate implements domain.Copier: a CPD event is copied for every
// booking and attendance.
func (c *CPDEvent) CopyAggregate() domain.Aggregate {
	out := *c
	out.Bookings = domain.GrowCopy(c.Bookings, 1) // a Booking holds no reference
	return &out
}

// CopyAggregate implements domain.Copier: a school's progress is copied
// for every rating and holds every rating it has had.
func (p *Progress) CopyAggregate() domain.Aggregate {
	out := *p
	out.Ratings = domain.GrowCopy(p.Ratings, 1) // a Rating holds no reference
	return &out
}
