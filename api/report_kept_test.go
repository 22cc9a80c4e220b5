package api

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
)

// TestLiveReportKeptUntilTheLedgerOrANameChanges: a live report is kept
// whole and given to the next reader at the same position, the bytes a
// fresh build gives; it is built again once a key is destroyed (an
// erasure retried after a crash destroys the key with no new event), and
// once the ledger moves on.
func TestLiveReportKeptUntilTheLedgerOrANameChanges(t *testing.T) {
	w := apitest.NewOnDisk(t)
	ctx := context.Background()
	live := views.AsOf{}
	build := func() *report.Report {
		t.Helper()
		rep, err := report.Build(ctx, w.L.Views, w.P1, "", live)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	jsonOf := func(rep *report.Report) string {
		t.Helper()
		b, err := rep.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The same report read without the memo: a reader of the same views.
	fresh := func() string {
		t.Helper()
		r := &views.Reader{Engine: w.L.Views.Engine, Store: w.L.Views.Store, Codec: w.L.Views.Codec}
		rep, err := report.Build(ctx, r, w.P1, "", live)
		if err != nil {
			t.Fatal(err)
		}
		return jsonOf(rep)
	}

	first := build()
	if first.Partnership.Lead == nil || first.Partnership.Lead.Name != "Lee Lead" {
		t.Fatalf("lead = %+v, want Lee Lead named", first.Partnership.Lead)
	}
	// The partnership's members name no one, but are read for every
	// report built: the same list is the report kept.
	kept := func(a, b *report.Report) bool {
		return len(a.Partnership.Members) > 0 && &a.Partnership.Members[0] == &b.Partnership.Members[0]
	}
	second := build()
	if !kept(first, second) {
		t.Fatal("the second reading at the same position was built again, not kept")
	}
	// The reader may change the footer of their copy; the next reader's
	// is as built.
	second.Footer.Checkpoint = "changed by a reader"
	if third := build(); third.Footer.Checkpoint != "" {
		t.Fatalf("a reader's change to the footer reached the next reader: %q", third.Footer.Checkpoint)
	}
	if got, want := jsonOf(build()), fresh(); got != want {
		t.Fatalf("the kept report differs from one built afresh:\n%s\n%s", got, want)
	}

	// The lead's key destroyed, with no new event.
	if err := w.L.Erase(w.Person[apitest.Lead].String()); err != nil {
		t.Fatal(err)
	}
	erased := build()
	if erased.Partnership.Lead == nil || erased.Partnership.Lead.Name != domain.ErasedName {
		t.Fatalf("after the erasure, lead = %+v, want %q", erased.Partnership.Lead, domain.ErasedName)
	}
	if !kept(erased, build()) {
		t.Fatal("after the erasure, the report is built again every time, not kept")
	}
	if got, want := jsonOf(build()), fresh(); got != want {
		t.Fatalf("after the erasure, the kept report differs from one built afresh:\n%s\n%s", got, want)
	}

	// One more event, folded: the report is built again at the new head.
	before := build().Footer.Position
	if _, err := w.L.Governance.RegisterSchool(ctx, domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}, governance.RegisterSchool{SchoolID: uuid.Must(uuid.NewV7()), Name: "Dale School", Mission: "Learning together."}); err != nil {
		t.Fatal(err)
	}
	if err := w.L.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if after := build(); after.Footer.Position <= before {
		t.Fatalf("after an event the report stands at %d, as before (%d)", after.Footer.Position, before)
	}
}
