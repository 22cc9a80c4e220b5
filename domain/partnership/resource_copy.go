package partnership

import (
	"maps"
	"slices"

	"github.com/concord-ledger/concord/domain"
)

// CopyAggregate implements domain.Copier: a resource is copied for every
// command on one of its loans, and holds every loan it has had.
func (r *Resource) CopyAggregate() domain.Aggregate {
	out := *r
	out.LoanList = slices.Clone(r.LoanList) // a Loan holds no reference
	out.loanOf = maps.Clone(r.loanOf)
	return &out
}
