package views_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/views"
	"github.com/concord-ledger/concord/projections/views/partnershiptest"
)

func TestLearningViewShowsTriadsGroupsAndRewards(t *testing.T) {
	w := partnershiptest.New(t, 16)
	w.Year()
	ctx := w.Ctx
	admin := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	// The year may already be open; a refusal for that is fine.
	if _, err := w.Gov.OpenAcademicYear(ctx, admin, governance.OpenAcademicYear{SchoolID: w.Pant, Year: "2025-26"}); err != nil {
		if _, _, isRule := domain.RuleOf(err); !isRule {
			t.Fatal(err)
		}
	}
	triad := uuid.New()
	if _, err := w.Gov.FormTriad(ctx, admin, governance.FormTriad{TriadID: triad, SchoolID: w.Pant, Year: "2025-26", Members: []uuid.UUID{w.Phys1, w.Phys2, w.MathsLead}}); err != nil {
		t.Fatalf("form triad: %v", err)
	}
	for _, p := range []uuid.UUID{w.Phys1, w.Phys2} {
		if _, err := w.Gov.JoinDesignCommunity(ctx, admin, governance.JoinDesignCommunity{PersonID: p, Year: "2025-26", Name: "Year 7 science projects"}); err != nil {
			t.Fatalf("join design community: %v", err)
		}
	}
	if _, err := w.Gov.JoinLearningPathway(ctx, admin, governance.JoinLearningPathway{PersonID: w.MathsLead, Year: "2025-26", Name: "Middle leaders"}); err != nil {
		t.Fatalf("join pathway: %v", err)
	}
	w.CatchUp()
	names, err := w.Reader.PersonNames(ctx, views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = views.Read(ctx, w.Reader, views.LearningView, views.AsOf{}, func(v *views.Learning) error {
		st := v.Structures(w.Pant, "2025-26", names)
		if len(st.Triads) != 1 || st.Triads[0].ID != triad || len(st.Triads[0].Members) != 3 || st.Triads[0].Members[0].Name != "Dafydd Evans" {
			t.Errorf("triads %+v", st.Triads)
		}
		if len(st.DesignCommunities) != 1 || st.DesignCommunities[0].Name != "Year 7 science projects" || len(st.DesignCommunities[0].Members) != 2 {
			t.Errorf("design communities %+v", st.DesignCommunities)
		}
		if len(st.Pathways) != 1 || st.Pathways[0].Members[0].Name != "Rhys Morgan" {
			t.Errorf("pathways %+v", st.Pathways)
		}
		if other := v.Structures(w.Cwm, "2025-26", names); len(other.Triads)+len(other.DesignCommunities)+len(other.Pathways) != 0 {
			t.Errorf("another school's structures leaked: %+v", other)
		}
		if got, ok := v.Triad(triad, names); !ok || got.School != w.Pant {
			t.Errorf("Triad(%s) = %+v, %v", triad, got, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
