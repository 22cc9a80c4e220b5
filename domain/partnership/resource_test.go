package partnership_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

// minibus registers school A's minibus (£25 an hour), offered to
// partners, and returns its id.
func (w *world) minibus() uuid.UUID {
	w.t.Helper()
	id := domaintest.ID()
	w.Given(partnership.ResourceStream(id),
		partnership.ResourceRegistered{PartnershipID: w.pid, ResourceID: id, OwnerSchoolID: w.a, Kind: partnership.Minibus, Name: "Minibus (17 seats)", Capacity: 17, HourlyValuePence: 2500},
		partnership.ResourceOffered{PartnershipID: w.pid, ResourceID: id, OwnerSchoolID: w.a})
	return id
}

func (w *world) request(rid uuid.UUID, borrower uuid.UUID, start, end time.Time) uuid.UUID {
	w.t.Helper()
	id := domaintest.ID()
	w.ok(w.svc.RequestLoan(w.Ctx, as(w.b1), partnership.RequestLoan{ResourceID: rid, LoanID: id, BorrowerSchoolID: borrower, Start: start, End: end, Purpose: "Year 9 field trip"}))
	return id
}

func (w *world) approve(rid, loan uuid.UUID) {
	w.t.Helper()
	w.ok(w.svc.ApproveLoan(w.Ctx, as(w.a1), partnership.ApproveLoan{ResourceID: rid, LoanID: loan}))
}

func TestRegisterAndOfferResource(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	cmd := partnership.RegisterResource{ResourceID: id, PartnershipID: w.pid, OwnerSchoolID: w.a, Kind: partnership.ScienceLab, Name: "Chemistry lab 2",
		Description: "Fume cupboard; 30 places", Capacity: 30, HourlyValuePence: 4000, Offer: true}
	res, err := w.svc.RegisterResource(w.Ctx, as(w.a1), cmd)
	w.ThenEvents(res, err,
		partnership.ResourceRegistered{PartnershipID: w.pid, ResourceID: id, OwnerSchoolID: w.a, Kind: partnership.ScienceLab, Name: "Chemistry lab 2", Description: "Fume cupboard; 30 places", Capacity: 30, HourlyValuePence: 4000},
		partnership.ResourceOffered{PartnershipID: w.pid, ResourceID: id, OwnerSchoolID: w.a})

	for _, c := range []struct {
		name   string
		meta   domain.Meta
		change func(*partnership.RegisterResource)
		rule   error
	}{
		{"again", as(w.a1), func(*partnership.RegisterResource) {}, domain.ErrAlreadyExists},
		{"by another school", as(w.b1), func(c *partnership.RegisterResource) { c.ResourceID = domaintest.ID() }, partnership.ErrNotOwningSchool},
		{"by someone on no staff", lead, func(c *partnership.RegisterResource) { c.ResourceID = domaintest.ID() }, partnership.ErrNotOwningSchool},
		{"owner not a member", as(w.stranger), func(c *partnership.RegisterResource) {
			c.ResourceID, c.OwnerSchoolID = domaintest.ID(), w.outsider
		}, partnership.ErrNotPartnershipMember},
		{"bad kind", as(w.a1), func(c *partnership.RegisterResource) { c.ResourceID, c.Kind = domaintest.ID(), "swimming_pool" }, domain.ErrInvalidValue},
		{"no name", as(w.a1), func(c *partnership.RegisterResource) { c.ResourceID, c.Name = domaintest.ID(), "" }, domain.ErrRequired},
		{"negative capacity", as(w.a1), func(c *partnership.RegisterResource) { c.ResourceID, c.Capacity = domaintest.ID(), -1 }, domain.ErrInvalidValue},
		{"negative value", as(w.a1), func(c *partnership.RegisterResource) { c.ResourceID, c.HourlyValuePence = domaintest.ID(), -1 }, domain.ErrInvalidValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			c.change(&cc)
			_, err := w.svc.RegisterResource(w.Ctx, c.meta, cc)
			w.ThenError(err, c.rule)
		})
	}

	// Offer and withdrawal belong to the owner; repeating them changes nothing.
	w.none(w.svc.OfferResource(w.Ctx, as(w.a2), partnership.OfferResource{ResourceID: id}))
	_, err = w.svc.WithdrawResourceOffer(w.Ctx, as(w.b1), partnership.WithdrawResourceOffer{ResourceID: id})
	w.ThenError(err, partnership.ErrNotOwningSchool)
	res, err = w.svc.WithdrawResourceOffer(w.Ctx, as(w.a2), partnership.WithdrawResourceOffer{ResourceID: id})
	w.ThenEvents(res, err, partnership.ResourceOfferWithdrawn{PartnershipID: w.pid, ResourceID: id, OwnerSchoolID: w.a})
	w.none(w.svc.WithdrawResourceOffer(w.Ctx, as(w.a2), partnership.WithdrawResourceOffer{ResourceID: id}))

	_, err = w.svc.RequestLoan(w.Ctx, as(w.b1), partnership.RequestLoan{ResourceID: id, LoanID: domaintest.ID(), BorrowerSchoolID: w.b,
		Start: at(2025, 10, 1, 9), End: at(2025, 10, 1, 12), Purpose: "GCSE required practical"})
	w.ThenError(err, partnership.ErrResourceNotOffered)

	_, err = w.svc.OfferResource(w.Ctx, as(w.c1), partnership.OfferResource{ResourceID: id})
	w.ThenError(err, partnership.ErrNotOwningSchool)
	res, err = w.svc.OfferResource(w.Ctx, as(w.a1), partnership.OfferResource{ResourceID: id})
	w.ThenEvents(res, err, partnership.ResourceOffered{PartnershipID: w.pid, ResourceID: id, OwnerSchoolID: w.a})
	_, err = w.svc.OfferResource(w.Ctx, as(w.a1), partnership.OfferResource{ResourceID: domaintest.ID()})
	w.ThenError(err, domain.ErrNotFound)
}

func TestRequestLoan(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	loan := domaintest.ID()
	cmd := partnership.RequestLoan{ResourceID: rid, LoanID: loan, BorrowerSchoolID: w.b, Start: at(2025, 10, 6, 8), End: at(2025, 10, 6, 17), Purpose: "Year 9 geography field trip"}
	res, err := w.svc.RequestLoan(w.Ctx, as(w.b1), cmd)
	keys := partnership.LoanKeys{PartnershipID: w.pid, ResourceID: rid, LoanID: loan, OwnerSchoolID: w.a, BorrowerSchoolID: w.b}
	w.ThenEvents(res, err, partnership.LoanRequested{LoanKeys: keys, Start: cmd.Start, End: cmd.End, Purpose: cmd.Purpose})

	// A second request for an overlapping time is allowed while neither is approved.
	other := w.request(rid, w.c, at(2025, 10, 6, 12), at(2025, 10, 6, 15))
	w.approve(rid, other)

	for _, c := range []struct {
		name   string
		change func(*partnership.RequestLoan)
		rule   error
	}{
		{"same loan id", func(*partnership.RequestLoan) {}, domain.ErrAlreadyExists},
		{"own resource", func(c *partnership.RequestLoan) { c.LoanID, c.BorrowerSchoolID = domaintest.ID(), w.a }, partnership.ErrOwnResource},
		{"borrower not a member", func(c *partnership.RequestLoan) { c.LoanID, c.BorrowerSchoolID = domaintest.ID(), w.outsider }, partnership.ErrNotPartnershipMember},
		{"overlaps an approved loan", func(c *partnership.RequestLoan) { c.LoanID = domaintest.ID() }, partnership.ErrLoanOverlaps},
		{"empty window", func(c *partnership.RequestLoan) { c.LoanID, c.End = domaintest.ID(), c.Start }, domain.ErrInvalidValue},
		{"no end", func(c *partnership.RequestLoan) { c.LoanID, c.End = domaintest.ID(), time.Time{} }, domain.ErrRequired},
		{"no purpose", func(c *partnership.RequestLoan) { c.LoanID, c.Purpose = domaintest.ID(), " " }, domain.ErrRequired},
		{"unknown resource", func(c *partnership.RequestLoan) { c.LoanID, c.ResourceID = domaintest.ID(), domaintest.ID() }, domain.ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			c.change(&cc)
			_, err := w.svc.RequestLoan(w.Ctx, as(w.b1), cc)
			w.ThenError(err, c.rule)
		})
	}
}

func TestApproveLoan(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	first := w.request(rid, w.b, at(2025, 10, 6, 8), at(2025, 10, 6, 17))
	clash := w.request(rid, w.c, at(2025, 10, 6, 16), at(2025, 10, 7, 10))
	after := w.request(rid, w.c, at(2025, 10, 6, 17), at(2025, 10, 6, 20)) // starts as first ends

	_, err := w.svc.ApproveLoan(w.Ctx, as(w.b1), partnership.ApproveLoan{ResourceID: rid, LoanID: first})
	w.ThenError(err, partnership.ErrNotOwningSchool)
	_, err = w.svc.ApproveLoan(w.Ctx, lead, partnership.ApproveLoan{ResourceID: rid, LoanID: first})
	w.ThenError(err, partnership.ErrNotOwningSchool)

	res, err := w.svc.ApproveLoan(w.Ctx, as(w.a2), partnership.ApproveLoan{ResourceID: rid, LoanID: first})
	keys := partnership.LoanKeys{PartnershipID: w.pid, ResourceID: rid, LoanID: first, OwnerSchoolID: w.a, BorrowerSchoolID: w.b}
	w.ThenEvents(res, err, partnership.LoanApproved{LoanKeys: keys, Start: at(2025, 10, 6, 8), End: at(2025, 10, 6, 17)})

	_, err = w.svc.ApproveLoan(w.Ctx, as(w.a1), partnership.ApproveLoan{ResourceID: rid, LoanID: clash})
	rej := w.ThenError(err, partnership.ErrLoanOverlaps)
	detailHas(t, rej, first.String(), "2025-10-06 08:00 to 2025-10-06 17:00")

	_, err = w.svc.ApproveLoan(w.Ctx, as(w.a1), partnership.ApproveLoan{ResourceID: rid, LoanID: first})
	detailHas(t, w.ThenError(err, partnership.ErrLoanState), "approved")
	_, err = w.svc.ApproveLoan(w.Ctx, as(w.a1), partnership.ApproveLoan{ResourceID: rid, LoanID: domaintest.ID()})
	w.ThenError(err, domain.ErrNotFound)

	// Back-to-back windows do not overlap.
	w.approve(rid, after)

	// A withdrawn offer stops approvals too.
	w.ok(w.svc.WithdrawResourceOffer(w.Ctx, as(w.a1), partnership.WithdrawResourceOffer{ResourceID: rid}))
	late := domaintest.ID()
	w.Given(partnership.ResourceStream(rid), partnership.LoanRequested{LoanKeys: partnership.LoanKeys{PartnershipID: w.pid, ResourceID: rid, LoanID: late, OwnerSchoolID: w.a, BorrowerSchoolID: w.b},
		Start: at(2025, 11, 1, 8), End: at(2025, 11, 1, 9), Purpose: "x"})
	_, err = w.svc.ApproveLoan(w.Ctx, as(w.a1), partnership.ApproveLoan{ResourceID: rid, LoanID: late})
	w.ThenError(err, partnership.ErrResourceNotOffered)

	// A borrower that has left the partnership is not lent to.
	w.ok(w.svc.OfferResource(w.Ctx, as(w.a1), partnership.OfferResource{ResourceID: rid}))
	w.Given(partnership.PartnershipStream(w.pid), partnership.SchoolLeftPartnership{PartnershipID: w.pid, SchoolID: w.b, LeftOn: day(2025, 9, 1)})
	_, err = w.svc.ApproveLoan(w.Ctx, as(w.a1), partnership.ApproveLoan{ResourceID: rid, LoanID: late})
	w.ThenError(err, partnership.ErrNotPartnershipMember)

	r := w.resource(rid)
	if got := r.LoansWithStatus(at(2025, 9, 1, 8), partnership.LoanApprovedStatus); len(got) != 2 || got[0].ID != first || got[1].ID != after {
		t.Fatalf("approved loans=%+v", got)
	}
}

// barrierLog holds back appends to one stream until it has been read n
// times, so concurrent commands all decide on the same revision.
type barrierLog struct {
	*domaintest.Log
	stream string
	n      int32
	reads  atomic.Int32
	ready  chan struct{}
	once   sync.Once
}

func (l *barrierLog) ReadStream(ctx context.Context, s string) ([]domain.Recorded, error) {
	recs, err := l.Log.ReadStream(ctx, s)
	if s == l.stream && l.reads.Add(1) >= l.n {
		l.once.Do(func() { close(l.ready) })
	}
	return recs, err
}

func (l *barrierLog) AppendStream(ctx context.Context, s string, exp int64, e []domain.Envelope) ([]domain.Recorded, error) {
	if s == l.stream {
		select {
		case <-l.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return l.Log.AppendStream(ctx, s, exp, e)
}

// Two owners' staff approve overlapping loans at the same moment: the
// no-overlap rule lives in the resource's stream, so one approval wins
// and the other, retried on the new revision, is refused.
func TestConcurrentOverlappingApprovals(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	l1 := w.request(rid, w.b, at(2025, 10, 6, 8), at(2025, 10, 6, 17))
	l2 := w.request(rid, w.c, at(2025, 10, 6, 12), at(2025, 10, 6, 20))

	// Each approval reads the resource twice (its checks, then its
	// decision) before appending.
	bl := &barrierLog{Log: w.Log, stream: partnership.ResourceStream(rid), n: 4, ready: make(chan struct{})}
	w.Handler.Log = bl
	ctx, cancel := context.WithTimeout(w.Ctx, 10*time.Second)
	defer cancel()

	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, l := range []uuid.UUID{l1, l2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = w.svc.ApproveLoan(ctx, as(w.a1), partnership.ApproveLoan{ResourceID: rid, LoanID: l})
		}()
	}
	wg.Wait()

	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, partnership.ErrLoanOverlaps):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d approvals succeeded (%v), want exactly 1", won, errs)
	}
	if got := bl.reads.Load(); got != 5 {
		t.Fatalf("resource read %d times, want 5 (the loser decided again on fresh state)", got)
	}
	if got := w.resource(rid).LoansWithStatus(at(2025, 9, 1, 8), partnership.LoanApprovedStatus); len(got) != 1 {
		t.Fatalf("approved loans=%d, want 1", len(got))
	}
}

func TestDeclineAndCancelLoan(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	l1 := w.request(rid, w.b, at(2025, 10, 6, 8), at(2025, 10, 6, 17))
	keys := partnership.LoanKeys{PartnershipID: w.pid, ResourceID: rid, LoanID: l1, OwnerSchoolID: w.a, BorrowerSchoolID: w.b}

	_, err := w.svc.DeclineLoan(w.Ctx, as(w.c1), partnership.DeclineLoan{ResourceID: rid, LoanID: l1})
	w.ThenError(err, partnership.ErrNotOwningSchool)
	res, err := w.svc.DeclineLoan(w.Ctx, as(w.a1), partnership.DeclineLoan{ResourceID: rid, LoanID: l1})
	w.ThenEvents(res, err, partnership.LoanDeclined{LoanKeys: keys})
	_, err = w.svc.DeclineLoan(w.Ctx, as(w.a1), partnership.DeclineLoan{ResourceID: rid, LoanID: l1})
	w.ThenError(err, partnership.ErrLoanState)
	_, err = w.svc.CancelLoan(w.Ctx, as(w.b1), partnership.CancelLoan{ResourceID: rid, LoanID: l1})
	w.ThenError(err, partnership.ErrLoanState)

	// The borrower cancels an approved loan; its window is free again.
	l2 := w.request(rid, w.b, at(2025, 10, 6, 8), at(2025, 10, 6, 17))
	w.approve(rid, l2)
	_, err = w.svc.CancelLoan(w.Ctx, as(w.c1), partnership.CancelLoan{ResourceID: rid, LoanID: l2})
	w.ThenError(err, partnership.ErrNotLoanParty)
	res, err = w.svc.CancelLoan(w.Ctx, as(w.b2), partnership.CancelLoan{ResourceID: rid, LoanID: l2})
	keys.LoanID = l2
	w.ThenEvents(res, err, partnership.LoanCancelled{LoanKeys: keys, CancelledBySchoolID: w.b, WasStatus: partnership.LoanApprovedStatus})
	l3 := w.request(rid, w.c, at(2025, 10, 6, 9), at(2025, 10, 6, 11))
	w.approve(rid, l3)

	// The owner cancels a request.
	l4 := w.request(rid, w.b, at(2025, 10, 8, 9), at(2025, 10, 8, 11))
	res, err = w.svc.CancelLoan(w.Ctx, as(w.a1), partnership.CancelLoan{ResourceID: rid, LoanID: l4})
	keys.LoanID = l4
	w.ThenEvents(res, err, partnership.LoanCancelled{LoanKeys: keys, CancelledBySchoolID: w.a, WasStatus: partnership.LoanRequestedStatus})

	// Once collected, a loan can no longer be cancelled.
	w.ok(w.svc.CollectLoan(w.Ctx, as(w.c1), partnership.CollectLoan{ResourceID: rid, LoanID: l3}))
	_, err = w.svc.CancelLoan(w.Ctx, as(w.a1), partnership.CancelLoan{ResourceID: rid, LoanID: l3})
	detailHas(t, w.ThenError(err, partnership.ErrLoanState), "collected")
}

func TestCollectAndReturnLoan(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	loan := w.request(rid, w.b, at(2025, 10, 6, 8), at(2025, 10, 6, 17))
	keys := partnership.LoanKeys{PartnershipID: w.pid, ResourceID: rid, LoanID: loan, OwnerSchoolID: w.a, BorrowerSchoolID: w.b}

	w.Clock.Set(at(2025, 10, 7, 9)) // recorded after the loan
	_, err := w.svc.CollectLoan(w.Ctx, as(w.b1), partnership.CollectLoan{ResourceID: rid, LoanID: loan})
	w.ThenError(err, partnership.ErrLoanNotApproved)
	w.approve(rid, loan)
	_, err = w.svc.ReturnLoan(w.Ctx, as(w.b1), partnership.ReturnLoan{ResourceID: rid, LoanID: loan, Condition: partnership.ConditionGood})
	detailHas(t, w.ThenError(err, partnership.ErrLoanState), "approved")
	_, err = w.svc.CollectLoan(w.Ctx, as(w.stranger), partnership.CollectLoan{ResourceID: rid, LoanID: loan})
	w.ThenError(err, partnership.ErrNotLoanParty)

	res, err := w.svc.CollectLoan(w.Ctx, as(w.b1), partnership.CollectLoan{ResourceID: rid, LoanID: loan, CollectedAt: at(2025, 10, 6, 8)})
	w.ThenEvents(res, err, partnership.LoanCollected{LoanKeys: keys, CollectedAt: at(2025, 10, 6, 8)})
	_, err = w.svc.CollectLoan(w.Ctx, as(w.b1), partnership.CollectLoan{ResourceID: rid, LoanID: loan})
	w.ThenError(err, partnership.ErrLoanState)

	r := w.resource(rid)
	l, _ := r.Loan(loan)
	if l.Overdue(at(2025, 10, 6, 16)) || !l.Overdue(at(2025, 10, 6, 17)) || l.StatusAt(at(2025, 10, 7, 9)) != partnership.LoanOverdue {
		t.Fatalf("overdue is derived from the end of the window: %+v", l)
	}
	if got := partnership.OverdueLoans(at(2025, 10, 7, 9), r); len(got) != 1 || got[0].Loan.ID != loan || got[0].OwnerSchoolID != w.a {
		t.Fatalf("overdue loans=%+v", got)
	}

	for _, c := range []struct {
		name string
		cmd  partnership.ReturnLoan
		rule error
	}{
		{"damaged without a note", partnership.ReturnLoan{ResourceID: rid, LoanID: loan, Condition: partnership.ConditionDamaged, Note: "  "}, partnership.ErrDamageNoteRequired},
		{"unknown condition", partnership.ReturnLoan{ResourceID: rid, LoanID: loan, Condition: "muddy"}, domain.ErrInvalidValue},
		{"before collection", partnership.ReturnLoan{ResourceID: rid, LoanID: loan, Condition: partnership.ConditionGood, ReturnedAt: at(2025, 10, 6, 7)}, domain.ErrInvalidValue},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.svc.ReturnLoan(w.Ctx, as(w.b1), c.cmd)
			w.ThenError(err, c.rule)
		})
	}
	res, err = w.svc.ReturnLoan(w.Ctx, as(w.a1), partnership.ReturnLoan{ResourceID: rid, LoanID: loan, ReturnedAt: at(2025, 10, 7, 9),
		Condition: partnership.ConditionDamaged, Note: "Wing mirror cracked"})
	w.ThenEvents(res, err, partnership.LoanReturned{LoanKeys: keys, ReturnedAt: at(2025, 10, 7, 9), Condition: partnership.ConditionDamaged, Note: "Wing mirror cracked", Late: true})
	_, err = w.svc.ReturnLoan(w.Ctx, as(w.a1), partnership.ReturnLoan{ResourceID: rid, LoanID: loan, Condition: partnership.ConditionGood})
	w.ThenError(err, partnership.ErrLoanState)

	l, _ = w.resource(rid).Loan(loan)
	if l.Status != partnership.LoanReturnedStatus || l.Condition != partnership.ConditionDamaged || l.Overdue(at(2025, 10, 8, 9)) {
		t.Fatalf("returned loan=%+v", l)
	}
}

func TestLoanQueries(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	l1 := w.request(rid, w.b, at(2025, 10, 6, 8), at(2025, 10, 6, 16))  // 8h, returned 2h early
	l2 := w.request(rid, w.c, at(2025, 10, 7, 8), at(2025, 10, 7, 12))  // 4h, approved
	l3 := w.request(rid, w.c, at(2025, 10, 8, 8), at(2025, 10, 8, 12))  // declined
	l4 := w.request(rid, w.b, at(2025, 10, 31, 20), at(2025, 11, 1, 4)) // 8h across the range's end
	for _, l := range []uuid.UUID{l1, l2, l4} {
		w.approve(rid, l)
	}
	w.ok(w.svc.DeclineLoan(w.Ctx, as(w.a1), partnership.DeclineLoan{ResourceID: rid, LoanID: l3}))
	w.Clock.Set(at(2025, 10, 6, 15))
	w.ok(w.svc.CollectLoan(w.Ctx, as(w.b1), partnership.CollectLoan{ResourceID: rid, LoanID: l1, CollectedAt: at(2025, 10, 6, 8)}))
	w.ok(w.svc.ReturnLoan(w.Ctx, as(w.b1), partnership.ReturnLoan{ResourceID: rid, LoanID: l1, ReturnedAt: at(2025, 10, 6, 14), Condition: partnership.ConditionGood}))

	r := w.resource(rid)
	got := r.Loans()
	if len(got) != 4 || got[0].ID != l1 || got[3].ID != l4 {
		t.Fatalf("loans not by start: %+v", got)
	}
	// October: 6h (l1, returned early) + 4h (l2) + 4h of l4.
	if h := r.UtilisationHours(day(2025, 10, 1), day(2025, 11, 1)); h != 14 {
		t.Fatalf("utilisation=%v hours, want 14", h)
	}
	if b := r.BenefitPence(day(2025, 10, 1), day(2025, 11, 1)); b != 14*2500 {
		t.Fatalf("benefit=%d pence, want %d", b, 14*2500)
	}
	// The early return frees the rest of l1's window.
	l5 := w.request(rid, w.c, at(2025, 10, 6, 14), at(2025, 10, 6, 16))
	w.approve(rid, l5)
	if n := len(w.resource(rid).LoansWithStatus(at(2025, 9, 1, 0), partnership.LoanDeclinedStatus)); n != 1 {
		t.Fatalf("declined=%d, want 1", n)
	}
}

// Every event of one loan shares the correlation id of its request; a
// correction of a decided loan's event is marked changed after decision.
func TestLoanCorrelationAndCorrection(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	l1 := w.request(rid, w.b, at(2025, 10, 6, 8), at(2025, 10, 6, 17))
	l2 := w.request(rid, w.c, at(2025, 10, 9, 8), at(2025, 10, 9, 17))
	w.approve(rid, l1)
	w.ok(w.svc.CollectLoan(w.Ctx, as(w.b1), partnership.CollectLoan{ResourceID: rid, LoanID: l1}))
	w.approve(rid, l2)

	corr := map[uuid.UUID]map[uuid.UUID]bool{}
	var approved domain.Message
	for _, m := range w.Messages() {
		var loan uuid.UUID
		switch e := m.Event.(type) {
		case partnership.LoanRequested:
			loan = e.LoanID
			if m.Meta.CorrelationID != m.ID {
				t.Fatalf("request of %s correlates with %s, want itself", loan, m.Meta.CorrelationID)
			}
		case partnership.LoanApproved:
			loan = e.LoanID
			if loan == l1 {
				approved = m
			}
		case partnership.LoanCollected:
			loan = e.LoanID
		default:
			continue
		}
		if corr[loan] == nil {
			corr[loan] = map[uuid.UUID]bool{}
		}
		corr[loan][m.Meta.CorrelationID] = true
	}
	if len(corr[l1]) != 1 || len(corr[l2]) != 1 {
		t.Fatalf("correlations: %v", corr)
	}
	for c := range corr[l1] {
		if corr[l2][c] {
			t.Fatal("two loans share a correlation id")
		}
	}

	res, err := w.svc.CorrectEvent(w.Ctx, as(w.a1), partnership.ResourceStream(rid), domain.Correction{EventID: approved.ID, Reason: "approved the wrong day",
		Replacement: partnership.LoanApproved{LoanKeys: approved.Event.(partnership.LoanApproved).LoanKeys, Start: at(2025, 10, 6, 9), End: at(2025, 10, 6, 17)}})
	w.ok(res, err)
	c := res.Events[0]
	if !c.Event.(domain.EventCorrected).ChangedAfterDecision || !corr[l1][c.Meta.CorrelationID] {
		t.Fatalf("correction=%+v meta=%+v", c.Event, c.Meta)
	}
	if l, _ := w.resource(rid).Loan(l1); !l.Start.Equal(at(2025, 10, 6, 9)) {
		t.Fatalf("as corrected now, start=%s", l.Start)
	}
	_, err = w.svc.CorrectEvent(w.Ctx, lead, "school-"+w.a.String(), domain.Correction{EventID: approved.ID, Reason: "x"})
	w.ThenError(err, domain.ErrCorrectionTarget)
}

// A resource whose owner has left the partnership is not lent.
func TestNoLoansFromASchoolThatLeft(t *testing.T) {
	w := newWorld(t)
	rid := w.minibus()
	w.Given(partnership.PartnershipStream(w.pid), partnership.SchoolLeftPartnership{PartnershipID: w.pid, SchoolID: w.a, LeftOn: day(2025, 8, 31)})
	_, err := w.svc.RequestLoan(w.Ctx, as(w.b1), partnership.RequestLoan{ResourceID: rid, LoanID: domaintest.ID(), BorrowerSchoolID: w.b,
		Start: at(2025, 10, 1, 9), End: at(2025, 10, 1, 10), Purpose: "x"})
	rej := w.ThenError(err, partnership.ErrNotPartnershipMember)
	if rej.Field != "resource_id" {
		t.Fatalf("field=%q, want resource_id", rej.Field)
	}
}
