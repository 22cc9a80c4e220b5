package views

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
)

// TestCPDEventsOfAPeriodFollowTheRule: over random CPD events of two
// partnerships, the events of a period are the partnership's events
// starting in it, by start then id (the rule, computed here from the
// events organised), in the live view and in one read back from its
// saved state.
func TestCPDEventsOfAPeriodFollowTheRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	v := NewCPD()
	pids := []uuid.UUID{uuid.New(), uuid.New()}
	type organised struct {
		pid, id uuid.UUID
		start   time.Time
	}
	var all []organised
	base := time.Date(2024, 8, 20, 9, 0, 0, 0, time.UTC)
	for i := range 200 {
		o := organised{pid: pids[rng.IntN(2)], id: uuid.New(), start: base.AddDate(0, 0, rng.IntN(700))}
		if i%10 == 0 && len(all) > 0 {
			o.start = all[rng.IntN(len(all))].start // same start: ordered by id
		}
		e := partnership.CPDEventOrganised{PartnershipID: o.pid, CPDID: o.id, OrganiserSchoolID: uuid.New(), Kind: partnership.TeachMeet,
			Title: "TeachMeet", StartsAt: o.start, EndsAt: o.start.Add(time.Hour), AcademicYear: partnership.AcademicYearOf(o.start), Places: 10}
		if err := v.Apply(domain.Message{Recorded: domain.Recorded{Position: uint64(i + 1)}, Event: e}); err != nil {
			t.Fatal(err)
		}
		all = append(all, o)
	}
	saved, err := v.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	back := NewCPD()
	if err := back.UnmarshalState(saved); err != nil {
		t.Fatal(err)
	}
	year, err := YearPeriod("2025-26")
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		for _, p := range []Period{{}, year, periodOf("not a year")} {
			var want []uuid.UUID
			var in []organised
			for _, o := range all {
				if o.pid == pid && p.Contains(o.start) {
					in = append(in, o)
				}
			}
			slices.SortFunc(in, func(a, b organised) int {
				if c := a.start.Compare(b.start); c != 0 {
					return c
				}
				return bytes.Compare(a.id[:], b.id[:])
			})
			for _, o := range in {
				want = append(want, o.id)
			}
			for name, view := range map[string]*CPD{"live": v, "read back": back} {
				var got []uuid.UUID
				for _, e := range view.EventsIn(pid, p) {
					got = append(got, e.ID)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s, period %q: %d events not in the rule's order (want %d)", name, p.Year, len(got), len(want))
				}
			}
		}
	}
}
