package partnership

import (
	"context"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// CostCategory is what a transaction cost of the partnership was spent on.
type CostCategory string

// The categories of transaction cost.
const (
	CostMeetings     CostCategory = "meetings"
	CostTravel       CostCategory = "travel"
	CostCoordination CostCategory = "coordination"
	CostOther        CostCategory = "other"
)

// String implements fmt.Stringer.
func (c CostCategory) String() string { return string(c) }

// Valid reports whether c is meetings, travel, coordination or other.
func (c CostCategory) Valid() bool {
	return c == CostMeetings || c == CostTravel || c == CostCoordination || c == CostOther
}

// TransactionCostRecorded records time and money a school spent keeping
// the partnership running.
type TransactionCostRecorded struct {
	PartnershipID uuid.UUID    `json:"partnership_id" doc:"Id of the partnership."`
	EntryID       uuid.UUID    `json:"entry_id" doc:"Id of the cost entry."`
	SchoolID      uuid.UUID    `json:"school_id" doc:"Id of the school that bore the cost."`
	Category      CostCategory `json:"category" doc:"meetings, travel, coordination or other."`
	On            time.Time    `json:"on" doc:"Day the cost was incurred."`
	AcademicYear  string       `json:"academic_year" doc:"Academic year of that day, e.g. 2025-26."`
	Hours         float64      `json:"hours" doc:"Staff hours spent."`
	AmountPence   int64        `json:"amount_pence" doc:"Money spent, in pence."`
	Note          string       `json:"note" doc:"What the time or money went on."`
}

// EventType implements domain.Event.
func (TransactionCostRecorded) EventType() string { return "TransactionCostRecorded" }

func init() {
	domain.MustRegister[TransactionCostRecorded](domain.Spec{Type: "TransactionCostRecorded", Schema: 1, Group: Group,
		Doc:       "A school recorded time and money spent keeping the partnership running (meetings, travel, coordination), so the partnership report can set cost beside benefit. Stream `costs-<partnership id>`.",
		EmittedBy: []string{"RecordTransactionCost"}})
}

// CostEntry is one recorded transaction cost.
type CostEntry = TransactionCostRecorded

// CostLedger is the aggregate of a partnership's transaction costs.
type CostLedger struct {
	PartnershipID uuid.UUID
	// Entries are in the order recorded.
	Entries []CostEntry
}

// NewCostLedger returns an empty CostLedger aggregate.
func NewCostLedger() *CostLedger { return &CostLedger{} }

// Apply implements domain.Aggregate.
func (l *CostLedger) Apply(m domain.Message) {
	if e, ok := m.Event.(TransactionCostRecorded); ok {
		l.PartnershipID = e.PartnershipID
		l.Entries = append(l.Entries, e)
	}
}

// CostTotal is time and money spent.
type CostTotal struct {
	Hours       float64
	AmountPence int64
}

func (t *CostTotal) add(e CostEntry) {
	t.Hours += e.Hours
	t.AmountPence += e.AmountPence
}

// CostTotals sums transaction costs overall, by school and by category.
type CostTotals struct {
	CostTotal
	BySchool   map[uuid.UUID]CostTotal
	ByCategory map[CostCategory]CostTotal
}

// Totals sums the entries incurred on days in [from, to); a zero from or
// to leaves that end open.
func (l *CostLedger) Totals(from, to time.Time) CostTotals {
	return SumCosts(l.Entries, from, to)
}

// SumCosts sums entries incurred on days in [from, to); a zero from or to
// leaves that end open.
func SumCosts(entries []CostEntry, from, to time.Time) CostTotals {
	out := CostTotals{BySchool: map[uuid.UUID]CostTotal{}, ByCategory: map[CostCategory]CostTotal{}}
	for _, e := range entries {
		if !from.IsZero() && e.On.Before(from) || !to.IsZero() && !e.On.Before(to) {
			continue
		}
		out.add(e)
		s := out.BySchool[e.SchoolID]
		s.add(e)
		out.BySchool[e.SchoolID] = s
		c := out.ByCategory[e.Category]
		c.add(e)
		out.ByCategory[e.Category] = c
	}
	return out
}

// RecordTransactionCost is the command to record a transaction cost.
type RecordTransactionCost struct {
	PartnershipID uuid.UUID    `json:"partnership_id"`
	EntryID       uuid.UUID    `json:"entry_id"`
	SchoolID      uuid.UUID    `json:"school_id"`
	Category      CostCategory `json:"category"`
	// On is the day it was incurred (default: meta.EffectiveAt, else
	// today); never a day to come.
	On          time.Time `json:"on"`
	Hours       float64   `json:"hours"`
	AmountPence int64     `json:"amount_pence"`
	Note        string    `json:"note"`
}

// RecordTransactionCost records TransactionCostRecorded. Requires hours
// ≥ 0 and amount ≥ 0, not both zero. Returns domain.ErrNotFound for an
// unknown partnership, ErrNotPartnershipMember for a school that is not a
// member, domain.ErrAlreadyExists for an entry id already used, and
// domain.ErrRequired or ErrInvalidValue for missing or malformed fields.
func (s *Service) RecordTransactionCost(ctx context.Context, meta domain.Meta, cmd RecordTransactionCost) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"entry_id", cmd.EntryID}, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	if !cmd.Category.Valid() {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "category", "%q is not a category of cost: use meetings, travel, coordination or other", cmd.Category)
	}
	if cmd.Hours < 0 || math.IsNaN(cmd.Hours) || math.IsInf(cmd.Hours, 0) || cmd.Hours > 10000 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "hours", "hours must be a number from 0 to 10000, not %v", cmd.Hours)
	}
	if cmd.AmountPence < 0 {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "amount_pence", "the amount cannot be negative (%d)", cmd.AmountPence)
	}
	if cmd.Hours == 0 && cmd.AmountPence == 0 {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "hours", "give the hours spent, the amount spent, or both")
	}
	note, err := text("note", cmd.Note, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	at, err := s.happened("on", Date(cmd.On), meta)
	if err != nil {
		return domain.Result{}, err
	}
	on := Date(at)
	if _, err := s.member(ctx, cmd.PartnershipID, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	ev := TransactionCostRecorded{PartnershipID: cmd.PartnershipID, EntryID: cmd.EntryID, SchoolID: cmd.SchoolID, Category: cmd.Category,
		On: on, AcademicYear: AcademicYearOf(on), Hours: cmd.Hours, AmountPence: cmd.AmountPence, Note: note}
	return run(ctx, s, CostsStream(cmd.PartnershipID), NewCostLedger, meta, func(l *CostLedger) ([]domain.Event, error) {
		for _, e := range l.Entries {
			if e.EntryID == cmd.EntryID {
				return nil, domain.RejectField(domain.ErrAlreadyExists, "entry_id", "cost entry %s is already recorded", e.EntryID)
			}
		}
		return events(ev), nil
	})
}
