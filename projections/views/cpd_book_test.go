package views

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/concord-ledger/concord/domain"
)

// TestCPDSumsInThePastFollowTheLiveView: the sums of the CPD years read
// in the past, in place (Lens) or from a state of their own (At), come
// from each year's book of changes, built when first asked and then kept
// up to date by the live view. They answer as the fold from zero does,
// both for books built before the live view folded on and for books it
// kept up to date since: a live view is read at random positions after a
// third of a random ledger, folds the rest, and is read again. A live
// view folding from zero (Live) keeps every year's book from the start;
// one read back from its saved state builds a year's when first asked.
func TestCPDSumsInThePastFollowTheLiveView(t *testing.T) {
	for _, seed := range []uint64{7, 8, 9} {
		for _, how := range []string{"not live", "live from zero", "live read back"} {
			cpdBooksFollowTheLiveView(t, seed, how)
		}
	}
}

func cpdBooksFollowTheLiveView(t *testing.T, seed uint64, how string) {
	t.Helper()
	msgs := versionedLedger(seed, 1500)
	apply := func(v *CPD, msgs []domain.Message) {
		for _, m := range msgs {
			if err := v.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	all := NewCPD()
	apply(all, msgs)
	ids := idsOf(all)
	live := NewCPD()
	third := len(msgs) / 3
	switch how {
	case "live from zero":
		live.Live()
		apply(live, msgs[:third])
	case "live read back":
		saved := NewCPD()
		apply(saved, msgs[:third])
		b, err := saved.MarshalState()
		if err != nil {
			t.Fatal(err)
		}
		if err := live.UnmarshalState(b); err != nil {
			t.Fatal(err)
		}
		live.Live()
	default:
		apply(live, msgs[:third])
	}
	if kept := how == "live from zero"; kept != (len(live.state.books) > 0) {
		t.Fatalf("seed %d, %s: %d books kept before any reading", seed, how, len(live.state.books))
	}
	rng := rand.New(rand.NewPCG(seed, 17))
	check := func(upTo int) {
		for range 15 {
			pos := 1 + rng.Uint64N(uint64(upTo))
			want := NewCPD()
			apply(want, msgs[:pos])
			wantAnswers, _ := lensAnswers(t, want, ids)
			for way, past := range map[string]*CPD{"in place": live.Lens(pos).(*CPD), "on its own": live.At(pos).(*CPD)} {
				if got, _ := lensAnswers(t, past, ids); string(got) != string(wantAnswers) {
					t.Fatalf("seed %d (%s): the CPD read %s as of %d (the live view at %d) differs from the fold", seed, how, way, pos, upTo)
				}
				// Each year's sums themselves, not only what the
				// queries make of them (a wrong count of events
				// sends them to add the events up instead).
				for _, pid := range ids.partnerships {
					for _, label := range []string{"2024-25", "2025-26", "2026-27"} {
						y, err := YearPeriod(label)
						if err != nil {
							t.Fatal(err)
						}
						if got, w := past.yearSums(pid, y), sumCPD(want.of(pid, y)); !reflect.DeepEqual(got, w) {
							t.Fatalf("seed %d (%s): %s's sums read %s as of %d: %+v, want %+v", seed, how, label, way, pos, got, w)
						}
					}
				}
			}
		}
	}
	if how == "live read back" {
		// No reading before it folds on: every book is built from the
		// rows, those read back included, when first asked.
		apply(live, msgs[third:])
		check(len(msgs))
		return
	}
	check(third)
	if len(live.state.books) == 0 {
		t.Fatalf("seed %d (%s): no year's book was built: the readings added up no year changed since", seed, how)
	}
	apply(live, msgs[third:])
	kept := 0
	for _, b := range live.state.books {
		for _, e := range b.entries {
			if e.pos > uint64(third) {
				kept++
			}
		}
	}
	if kept == 0 {
		t.Fatalf("seed %d (%s): the live view added no change to the books built before it folded on", seed, how)
	}
	check(len(msgs))
}
