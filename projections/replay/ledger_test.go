package replay

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
)

// demoLedger generates a demo partnership through the domain's services
// on a memory store and returns its store, codec and every event.
func demoLedger(t *testing.T) (eventstore.Store, *domain.Codec, []eventstore.RecordedEvent) {
	t.Helper()
	ctx := context.Background()
	clock := demo.NewClock(nil)
	store := memory.New(memory.Options{Now: clock.Now})
	codec := &domain.Codec{Keys: domain.NewMemoryKeyring()}
	h := domain.NewHandler(domainlog.Log{Store: store}, codec)
	gov := governance.NewService(h, governance.NewMemoryBallotBox())
	part := partnership.NewService(h, governance.NewDirectory(h))
	gov.AddLeavers(part)
	gov.SetLoans(part)
	if _, err := demo.Generate(ctx, gov, part, demo.Options{Schools: 2, Years: 2, Seed: 11, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	var all []eventstore.RecordedEvent
	for from := uint64(1); ; {
		recs, err := store.ReadAll(ctx, from, 4096)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		all = append(all, recs...)
		from = recs[len(recs)-1].Position + 1
	}
	return store, codec, all
}

// The replay reads a decision's stream alone because every event carrying
// one correlation id is in one stream (a command appends to one stream and
// takes its correlation from its own first event or its aggregate). The
// ledger a partnership makes holds to that.
func TestCorrelationsStayInTheirStream(t *testing.T) {
	_, _, all := demoLedger(t)
	streamOf := map[uuid.UUID]string{}
	for _, e := range all {
		c := correlation(e)
		if s, ok := streamOf[c]; ok && s != e.StreamID {
			t.Fatalf("correlation %s is in %s and in %s (position %d, %s)", c, s, e.StreamID, e.Position, e.Type)
		}
		streamOf[c] = e.StreamID
	}
}

// Every loan, election and proposal of a demo partnership replays, at the
// head and as of a position in the middle of it, as the steps the rule
// names, read off the whole log: a loan's or an election's steps are the
// events carrying its opening event's correlation, a proposal's are its
// stream's events, in log order, up to the position asked. Whether Locate
// names the right stream, a wrong one or none, the steps are the same.
func TestReplaysFollowTheRuleOverAWholeLedger(t *testing.T) {
	store, codec, all := demoLedger(t)
	ctx := context.Background()
	type decisionRef struct {
		kind   string
		id     uuid.UUID
		stream string
	}
	var decisions []decisionRef
	for _, e := range all {
		m, err := codec.Decode(domainlog.ToDomain(e))
		if err != nil {
			t.Fatal(err)
		}
		switch ev := m.Event.(type) {
		case partnership.LoanRequested:
			decisions = append(decisions, decisionRef{KindLoan, ev.LoanID, e.StreamID})
		case governance.ElectionOpened:
			decisions = append(decisions, decisionRef{KindElection, ev.ElectionID, e.StreamID})
		case governance.ProposalDrafted:
			decisions = append(decisions, decisionRef{KindProposal, ev.ProposalID, e.StreamID})
		}
	}
	kinds := map[string]int{}
	for _, d := range decisions {
		kinds[d.kind]++
	}
	if kinds[KindLoan] == 0 || kinds[KindElection] == 0 || kinds[KindProposal] == 0 {
		t.Fatalf("the demo ledger has %v decisions; the test needs each kind", kinds)
	}
	// expected returns the positions the rule gives for d up to asOf: a
	// proposal's stream; for a loan or an election, every event carrying
	// its opening event's correlation (an election opened by a vote of no
	// confidence shares the vote's, so the vote's events come first).
	expected := func(d decisionRef, asOf uint64) []uint64 {
		var out []uint64
		if d.kind == KindProposal {
			for _, e := range all {
				if e.Position <= asOf && e.StreamID == d.stream {
					out = append(out, e.Position)
				}
			}
			return out
		}
		var corr uuid.UUID
		for _, e := range all {
			if e.Position > asOf || corr != uuid.Nil {
				break
			}
			if e.Type != "LoanRequested" && e.Type != "ElectionOpened" {
				continue
			}
			m, _ := codec.Decode(domainlog.ToDomain(e))
			switch ev := m.Event.(type) {
			case partnership.LoanRequested:
				if ev.LoanID == d.id {
					corr = correlation(e)
				}
			case governance.ElectionOpened:
				if ev.ElectionID == d.id {
					corr = correlation(e)
				}
			}
		}
		for _, e := range all {
			if corr != uuid.Nil && e.Position <= asOf && correlation(e) == corr {
				out = append(out, e.Position)
			}
		}
		return out
	}
	head := all[len(all)-1].Position
	// Every decision at the head, and every third one at the midpoint,
	// each with Locate right, wrong and absent.
	for i, d := range decisions {
		positions := []uint64{head}
		if i%3 == 0 {
			positions = append(positions, head/2)
		}
		for _, asOf := range positions {
			want := expected(d, asOf)
			for _, locate := range []func(string, uuid.UUID) (string, bool){
				nil,
				func(string, uuid.UUID) (string, bool) { return d.stream, true },
				func(string, uuid.UUID) (string, bool) { return governance.SchoolStream(uuid.New()), true },
				func(string, uuid.UUID) (string, bool) { return "", false },
			} {
				rp, err := (&Replayer{Store: store, Codec: codec, Locate: locate}).Replay(ctx, Request{Kind: d.kind, ID: d.id, AsOf: asOf})
				if len(want) == 0 {
					if !errors.Is(err, ErrNotFound) {
						t.Fatalf("%s %s as of %d: %v, want not found", d.kind, d.id, asOf, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s %s as of %d: %v", d.kind, d.id, asOf, err)
				}
				var got []uint64
				for _, s := range rp.Steps {
					got = append(got, s.Position)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%s %s as of %d: steps at %v, want %v", d.kind, d.id, asOf, got, want)
				}
				if rp.Stream != d.stream {
					t.Fatalf("%s %s: stream %s, want %s", d.kind, d.id, rp.Stream, d.stream)
				}
				if d.kind == KindLoan {
					// The loan's state after its last step is the loan as
					// the resource's whole stream, folded by the domain up
					// to that step, has it.
					last := rp.Steps[len(rp.Steps)-1]
					res := partnership.NewResource()
					for _, e := range all {
						if e.Position > last.Position {
							break
						}
						if e.StreamID == d.stream {
							m, err := codec.Decode(domainlog.ToDomain(e))
							if err != nil {
								t.Fatal(err)
							}
							res.Apply(m)
						}
					}
					want, err := (&loanDecision{id: d.id, agg: res}).state()
					if err != nil {
						t.Fatal(err)
					}
					if string(last.After) != string(want) {
						t.Fatalf("loan %s as of %d: after its last step %s, want %s", d.id, asOf, last.After, want)
					}
				}
			}
		}
	}
}
