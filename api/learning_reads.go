package api

import (
	"net/http"

	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/views"
)

func init() { addRoutes(learningReadRoutes) }

// learningReadRoutes are the reads of the learning structures (triads,
// design communities, pathways) and of chairs' rewards.
func learningReadRoutes() []route {
	const tLearning = "Learning"
	return []route{
		schoolRead("/v1/schools/{id}/learning", "Show a school's triads, design communities, pathways and chair rewards", tLearning, views.Structures{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := s.schoolPath(r)
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.LearningView, nil, func(v *views.Learning, rc readCtx) (any, error) {
					return v.Structures(id, yearParam(r), rc.Names), nil
				})
			}),
		schoolRead("/v1/triads/{id}", "Show a peer coaching triad", tLearning, views.Triad{},
			func(s *Server, w http.ResponseWriter, r *http.Request) error {
				id, err := pathUUID(r, "id")
				if err != nil {
					return err
				}
				return readAs(s, w, r, views.LearningView, streamOf(governance.TriadStream(id)), func(v *views.Learning, rc readCtx) (any, error) {
					t, ok := v.Triad(id, rc.Names)
					if !ok {
						return nil, notFound("there is no triad %s", id)
					}
					if err := s.readSchool(r, t.School); err != nil {
						return nil, err
					}
					return t, nil
				})
			}),
	}
}
