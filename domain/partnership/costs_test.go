package partnership_test

import (
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

func TestRecordTransactionCost(t *testing.T) {
	w := newWorld(t)
	id := domaintest.ID()
	w.Clock.Set(at(2025, 9, 20, 9)) // recorded after the cost was incurred
	cmd := partnership.RecordTransactionCost{PartnershipID: w.pid, EntryID: id, SchoolID: w.b, Category: partnership.CostTravel, On: at(2025, 9, 18, 15),
		Hours: 1.5, AmountPence: 2340, Note: "Mileage to the cluster heads' meeting"}
	res, err := w.svc.RecordTransactionCost(w.Ctx, as(w.b1), cmd)
	w.ThenEvents(res, err, partnership.TransactionCostRecorded{PartnershipID: w.pid, EntryID: id, SchoolID: w.b, Category: partnership.CostTravel,
		On: day(2025, 9, 18), AcademicYear: "2025-26", Hours: 1.5, AmountPence: 2340, Note: cmd.Note})

	for _, c := range []struct {
		name   string
		change func(*partnership.RecordTransactionCost)
		rule   error
	}{
		{"same id", func(c *partnership.RecordTransactionCost) { c.EntryID = id }, domain.ErrAlreadyExists},
		{"not a member", func(c *partnership.RecordTransactionCost) { c.SchoolID = w.outsider }, partnership.ErrNotPartnershipMember},
		{"bad category", func(c *partnership.RecordTransactionCost) { c.Category = "lunch" }, domain.ErrInvalidValue},
		{"negative hours", func(c *partnership.RecordTransactionCost) { c.Hours = -1 }, domain.ErrInvalidValue},
		{"negative amount", func(c *partnership.RecordTransactionCost) { c.AmountPence = -1 }, domain.ErrInvalidValue},
		{"nothing spent", func(c *partnership.RecordTransactionCost) { c.Hours, c.AmountPence = 0, 0 }, domain.ErrRequired},
		{"no note", func(c *partnership.RecordTransactionCost) { c.Note = "" }, domain.ErrRequired},
		{"a day to come", func(c *partnership.RecordTransactionCost) { c.On = day(2025, 9, 25) }, domain.ErrFutureDate},
	} {
		t.Run(c.name, func(t *testing.T) {
			cc := cmd
			cc.EntryID = domaintest.ID()
			c.change(&cc)
			_, err := w.svc.RecordTransactionCost(w.Ctx, as(w.b1), cc)
			w.ThenError(err, c.rule)
		})
	}

	w.Clock.Set(at(2025, 11, 5, 9))
	for _, c := range []partnership.RecordTransactionCost{
		{SchoolID: w.a, Category: partnership.CostMeetings, On: day(2025, 9, 30), Hours: 6, Note: "Three staff at the half-termly partnership meeting"},
		{SchoolID: w.a, Category: partnership.CostCoordination, On: day(2025, 10, 2), Hours: 2, AmountPence: 0, Note: "Timetabling the secondment"},
		{SchoolID: w.c, Category: partnership.CostOther, On: day(2025, 11, 3), AmountPence: 5000, Note: "Room hire"},
	} {
		c.PartnershipID, c.EntryID = w.pid, domaintest.ID()
		w.ok(w.svc.RecordTransactionCost(w.Ctx, as(w.a1), c))
	}
	l, _, err := domain.Load(w.Ctx, w.Handler, partnership.CostsStream(w.pid), partnership.NewCostLedger)
	if err != nil {
		t.Fatal(err)
	}
	tot := l.Totals(day(2025, 9, 1), day(2025, 11, 1))
	if tot.Hours != 9.5 || tot.AmountPence != 2340 || tot.BySchool[w.a].Hours != 8 || tot.ByCategory[partnership.CostTravel].AmountPence != 2340 || tot.BySchool[w.c].AmountPence != 0 {
		t.Fatalf("totals=%+v", tot)
	}
	if all := l.Totals(zeroTime, zeroTime); all.AmountPence != 7340 || len(all.BySchool) != 3 {
		t.Fatalf("all=%+v", all)
	}
}
