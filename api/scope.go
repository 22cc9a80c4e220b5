package api

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
)

// The helpers here ask the application layer whether the caller may read
// something or run an operation: the policy is app.Policies, checked from
// the ledger; nothing here decides on its own.

// caller returns the actor of an authenticated request.
func caller(r *http.Request) app.Actor {
	a, _ := ActorOf(r.Context())
	return a
}

// authorize asks the application layer whether the caller may run use
// case name on t.
func (s *Server) authorize(r *http.Request, name string, t app.Target) error {
	_, err := s.App.Authorize(r.Context(), caller(r), name, t)
	return err
}

// authorizeOp asks whether the caller may run an operation (tokens,
// backups, projections, metrics).
func (s *Server) authorizeOp(r *http.Request, name string) error {
	return s.authorize(r, name, app.Target{})
}

// readSchool refuses a caller who may not read school's own records.
func (s *Server) readSchool(r *http.Request, school uuid.UUID) error {
	return s.authorize(r, "ReadSchool", app.Target{School: school})
}

// readPartnership refuses a caller who may not read the partnership's
// records.
func (s *Server) readPartnership(r *http.Request, pid uuid.UUID) error {
	return s.authorize(r, "ReadPartnership", app.Target{Partnership: pid})
}

// visibility returns what the caller may read, worked out once per
// request.
func (s *Server) visibility(r *http.Request) (app.Visibility, error) {
	return s.App.Visibility(r.Context(), caller(r))
}

// Protect serves h only to an authenticated caller whose use case name
// the application layer allows (e.g. "ReadMetrics" for /metrics, which
// lives outside the route table); others get 401 or 403 problems.
func (s *Server) Protect(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := s.Authenticate(r)
		if err != nil {
			writeProblem(w, r, ProblemOf(err))
			return
		}
		r = r.WithContext(WithActor(r.Context(), a))
		if err := s.authorizeOp(r, name); err != nil {
			writeProblem(w, r, ProblemOf(err))
			return
		}
		h.ServeHTTP(w, r)
	})
}
