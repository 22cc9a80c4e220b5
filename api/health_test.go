package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore"
)

func TestReadyzWaitsForProjections(t *testing.T) {
	env := coreServer(t)
	ctx := context.Background()
	if w := env.do(t, "", http.MethodGet, "/healthz", nil); w.Code != http.StatusOK {
		t.Fatalf("healthz: %d", w.Code)
	}
	if w := env.do(t, "", http.MethodGet, "/readyz", nil); w.Code != http.StatusOK {
		t.Fatalf("readyz with the projections caught up: %d %s", w.Code, w.Body)
	}
	// More events than ReadyMaxLag, with the projections not running.
	meta := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	for i := 0; i <= ReadyMaxLag; i++ {
		if _, err := env.L.Governance.RegisterSchool(ctx, meta, governance.RegisterSchool{SchoolID: uuid.New(), Name: "School"}); err != nil {
			t.Fatal(err)
		}
	}
	w := env.do(t, "", http.MethodGet, "/readyz", nil)
	p := mustProblem(t, w, http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, "events behind the head") {
		t.Fatalf("detail %q does not say which projection lags", p.Detail)
	}
	if err := env.L.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	w = env.do(t, "", http.MethodGet, "/readyz", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("readyz after catching up: %d %s", w.Code, w.Body)
	}
	h := mustJSON[Health](t, w)
	head, _ := env.L.Store.Head(ctx)
	if h.Head != head || len(h.Projections) == 0 {
		t.Fatalf("readyz %+v, want head %d and the projections", h, head)
	}
}

func TestReadyzReportsAFailedProjection(t *testing.T) {
	env := coreServer(t)
	ctx := context.Background()
	// A SchoolRegistered whose body does not decode stops the projections
	// that read it.
	res, err := env.L.Store.Append(ctx, "school-"+uuid.NewString(), eventstore.Any(), eventstore.EventData{
		ID: uuid.Must(uuid.NewV7()), Type: "SchoolRegistered", Schema: 1, Data: json.RawMessage(`{"school_id":5}`),
		Metadata: eventstore.Metadata{ActorID: "admin", ActorRole: "admin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = env.L.CatchUp(ctx)
	failed := false
	for _, st := range env.L.Engine.Status(ctx) {
		failed = failed || st.Failure != nil
	}
	if !failed {
		t.Skip("no projection failed on the malformed event; nothing to report")
	}
	p := mustProblem(t, env.do(t, "", http.MethodGet, "/readyz", nil), http.StatusServiceUnavailable)
	if !strings.Contains(p.Detail, fmt.Sprintf("failed at position %d ", res.Positions[0])) {
		t.Fatalf("detail %q does not say where the projection failed", p.Detail)
	}
	// The admin route shows the failure, and retry clears it (the event
	// still fails, so it fails again at the same place on the next run).
	w := env.do(t, RoleAdmin, http.MethodGet, "/v1/admin/projections", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"failure"`) {
		t.Fatalf("admin projections: %d %s", w.Code, w.Body)
	}
	mustProblem(t, env.do(t, RoleAdmin, http.MethodPost, "/v1/admin/projections/no-such/retry", nil), http.StatusNotFound)
	var name string
	for _, st := range env.L.Engine.Status(ctx) {
		if st.Failure != nil {
			name = st.Name
		}
	}
	w = env.do(t, RoleAdmin, http.MethodPost, "/v1/admin/projections/"+name+"/retry", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("retry: %d %s", w.Code, w.Body)
	}
	for _, st := range mustJSON[ProjectionsStatus](t, w).Projections {
		if st.Name == name && st.Failure != nil {
			t.Fatalf("%s still failed after retry: %+v", name, st.Failure)
		}
	}
}
