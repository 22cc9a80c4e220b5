package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

func init() { addRoutes(erasureRoutes) }

func erasureRoutes() []route {
	return []route{
		{Method: http.MethodPost, Pattern: "/v1/people/{id}/erasure", Summary: "Erase a person's personal data", Tag: "people",
			Roles: []Role{RoleAdmin, RoleDirector}, Request: governance.ErasePersonalData{}, Response: CommandResult{}, Status: http.StatusCreated,
			Handle: (*Server).erasePerson},
	}
}

// erasePerson answers POST /v1/people/{id}/erasure: it records
// PersonalDataErased (with the reason from the body, or the
// X-Concord-Reason header) and then destroys the person's key, so their
// name and contact details become unreadable everywhere. An admin may
// erase anyone; a director only people of the school they direct. A
// repeated request records nothing, destroys the key if a crash left it,
// and answers 200.
func (s *Server) erasePerson(w http.ResponseWriter, r *http.Request) error {
	id, err := pathUUID(r, "id")
	if err != nil {
		return err
	}
	var cmd governance.ErasePersonalData
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		if err := decodeJSON(w, r, &cmd); err != nil {
			return err
		}
	}
	if cmd.PersonID != uuid.Nil && cmd.PersonID != id {
		return invalidField("person_id", "person_id %s in the body is not the person %s of the path", cmd.PersonID, id)
	}
	cmd.PersonID = id
	if err := s.mayErase(r.Context(), id); err != nil {
		return err
	}
	return s.command(w, r, func(ctx context.Context, meta domain.Meta) (domain.Result, error) {
		res, err := s.L.Governance.ErasePersonalData(ctx, meta, cmd)
		if err != nil {
			return res, err
		}
		// Recorded first, destroyed second: a crash in between leaves an
		// erasure a retry completes, never a destroyed key with no record.
		if err := s.L.Erase(id.String()); err != nil {
			return res, err
		}
		s.Logger.Info("personal data erased", "request_id", RequestID(ctx), "person_id", id)
		return res, nil
	})
}

// mayErase checks that the caller may erase person: an admin always; a
// director only if they direct the person's school.
func (s *Server) mayErase(ctx context.Context, person uuid.UUID) error {
	p, _ := PrincipalOf(ctx)
	if p.Role == RoleAdmin {
		return nil
	}
	school, ok, err := s.L.Directory.SchoolOf(ctx, person)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("no person %s is registered", person)
	}
	if p.SchoolID != uuid.Nil && p.SchoolID != school {
		return forbidden("a director may erase only people of their own school")
	}
	sc, _, err := domain.Load(ctx, s.L.Handler, governance.SchoolStream(school), governance.NewSchool)
	if err != nil {
		return err
	}
	if sc.DirectorID != p.PersonID {
		return forbidden("only the Director of the person's school, or an admin, may erase their personal data")
	}
	return nil
}
