package api

import (
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/projections"
)

// ProjectionsStatus is the projections' progress, as the operators see it.
type ProjectionsStatus struct {
	// Head is the store's last acknowledged position.
	Head        uint64               `json:"head"`
	Backend     string               `json:"backend"`
	Projections []projections.Status `json:"projections"`
}

func init() { addRoutes(adminRoutes) }

func adminRoutes() []route {
	return []route{
		{Method: http.MethodGet, Pattern: "/v1/admin/projections", Summary: "Show the projections' progress", Tag: "Operations",
			Auth: true, UseCase: "ManageProjections", Response: ProjectionsStatus{}, Handle: projectionsStatus},
		{Method: http.MethodPost, Pattern: "/v1/admin/projections/{name}/retry", Summary: "Retry a failed projection", Tag: "Operations",
			Auth: true, UseCase: "ManageProjections", Response: ProjectionsStatus{}, Handle: retryProjection},
	}
}

func projectionsStatus(s *Server, w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeOp(r, "ManageProjections"); err != nil {
		return err
	}
	head, err := s.L.Store.Head(r.Context())
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ProjectionsStatus{Head: head, Backend: s.L.Backend, Projections: s.L.Engine.Status(r.Context())})
}

// retryProjection clears a projection's failure so that it resumes from
// the event it stopped at (after the cause was fixed by a new build).
func retryProjection(s *Server, w http.ResponseWriter, r *http.Request) error {
	if err := s.authorizeOp(r, "ManageProjections"); err != nil {
		return err
	}
	name := chi.URLParam(r, "name")
	if err := s.L.Engine.Retry(name); errors.Is(err, projections.ErrUnknownProjection) {
		return notFound("there is no projection %q", name)
	} else if err != nil {
		return err
	}
	return projectionsStatus(s, w, r)
}
