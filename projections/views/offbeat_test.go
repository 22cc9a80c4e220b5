package views

import (
	"slices"
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

// The offbeat view lists, in log order, every event that took effect at
// another time than it was recorded, and every correction.
func TestOffbeatViewListsOffbeatEventsAndCorrections(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	// A departure entered a week after the day it took effect, and a
	// correction of it.
	left := w.now.AddDate(0, 0, -7)
	backdated := w.admin
	backdated.EffectiveAt = left
	res, err := w.svc.LeaveCommunity(w.ctx, backdated, governance.LeaveCommunity{CommunityID: w.communities[1], PersonID: w.director, Year: scYear,
		LeftOn: left, Exception: governance.ExceptionLongTermAbsence})
	w.do(res, err)
	w.do(domain.Correct(w.ctx, w.h, res.Stream, governance.NewCommunity, w.admin, domain.Correction{EventID: res.Events[0].ID, Reason: "wrong day",
		Replacement: governance.MemberLeft{CommunityID: w.communities[1], SchoolID: w.school, PersonID: w.director, Year: scYear, LeftOn: left.AddDate(0, 0, 1), Exception: governance.ExceptionLongTermAbsence}}))
	msgs := w.messages()
	var want []projections.Offbeat
	var wantCorrections []uint64
	for _, m := range msgs {
		if !m.Effective().Equal(m.RecordedAt) {
			want = append(want, projections.Offbeat{Position: m.Position, Effective: m.Effective().UTC()})
		}
		if _, ok := m.Event.(domain.EventCorrected); ok {
			wantCorrections = append(wantCorrections, m.Position)
		}
	}
	if len(want) == 0 {
		t.Fatal("the world has no event entered after it took effect; the test needs one")
	}
	v := w.fold(OffbeatView, w.head()).(*Offbeats)
	if !slices.EqualFunc(v.Offbeat(), want, func(a, b projections.Offbeat) bool { return a.Position == b.Position && a.Effective.Equal(b.Effective) }) {
		t.Fatalf("offbeat %v, want %v", v.Offbeat(), want)
	}
	if len(wantCorrections) == 0 || !slices.Equal(v.Corrections(), wantCorrections) {
		t.Fatalf("corrections %v, want %v", v.Corrections(), wantCorrections)
	}
}
