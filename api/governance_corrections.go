package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
)

// CorrectionRequest corrects an earlier event: it names the event (its
// stream and id) and gives the corrected event in full (same type), or no
// replacement to retract it. The original stays in the ledger; the
// correction is a new event that says what changed and why.
type CorrectionRequest struct {
	Stream  string    `json:"stream"`
	EventID uuid.UUID `json:"event_id"`
	// Replacement is the corrected event's data, in the event's own JSON
	// shape (see docs/events.md); absent or null retracts the event.
	Replacement json.RawMessage `json:"replacement,omitempty"`
	Reason      string          `json:"reason"`
	// EffectiveFrom defaults to the corrected event's effective time.
	EffectiveFrom time.Time `json:"effective_from,omitzero"`
}

// handleCorrection records a correction. Directors correct the records of
// their own school (governance streams); partnership leads the partnership
// records; admins anything.
func (s *Server) handleCorrection(w http.ResponseWriter, r *http.Request) error {
	var req CorrectionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.EventID == uuid.Nil {
		return invalidField("event_id", "name the event to correct")
	}
	ctx := r.Context()
	_, govID, isGov := governance.ParseStream(req.Stream)
	_, _, isPart := partnership.ParseStream(req.Stream)
	if !isGov && !isPart {
		return invalidField("stream", "%q is not a record of the ledger (e.g. proposal-<id>, resource-<id>)", req.Stream)
	}
	p := caller(r)
	switch {
	case p.Role == RoleDirector && !isGov, p.Role == RolePartnershipLead && !isPart:
		return forbidden("a %s may not correct %s", p.Role, req.Stream)
	case p.Role == RoleDirector:
		school, err := s.streamSchool(ctx, req.Stream, govID)
		if err != nil {
			return err
		}
		if err := s.scopeSchool(r, school); err != nil {
			return err
		}
	}
	orig, err := s.findEvent(ctx, req.Stream, req.EventID)
	if err != nil {
		return err
	}
	c := domain.Correction{EventID: req.EventID, Reason: req.Reason, EffectiveFrom: req.EffectiveFrom}
	if len(req.Replacement) > 0 && !bytes.Equal(bytes.TrimSpace(req.Replacement), []byte("null")) {
		ev, err := decodeReplacement(orig.Event, req.Replacement)
		if err != nil {
			return err
		}
		c.Replacement = ev
	}
	return s.command(w, r, func(ctx context.Context, meta domain.Meta) (domain.Result, error) {
		if isGov {
			return s.L.Governance.CorrectEvent(ctx, meta, req.Stream, c)
		}
		return s.L.Partnership.CorrectEvent(ctx, meta, req.Stream, c)
	})
}

// findEvent reads event id of stream back, decoded.
func (s *Server) findEvent(ctx context.Context, stream string, id uuid.UUID) (domain.Message, error) {
	recs, err := s.L.Store.ReadStream(ctx, stream, 0, eventstore.Forward, 0)
	if err != nil {
		return domain.Message{}, fmt.Errorf("read %s: %w", stream, err)
	}
	for _, rec := range recs {
		if rec.ID == id {
			m, err := s.L.Codec.Decode(domainlog.ToDomain(rec))
			if err != nil {
				return domain.Message{}, fmt.Errorf("decode event %s: %w", id, err)
			}
			return m, nil
		}
	}
	return domain.Message{}, notFound("%s has no event %s", stream, id)
}

// decodeReplacement decodes raw strictly into a value of orig's type.
func decodeReplacement(orig domain.Event, raw json.RawMessage) (domain.Event, error) {
	t := reflect.TypeOf(orig)
	ptr := t.Kind() == reflect.Pointer
	if ptr {
		t = t.Elem()
	}
	v := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return nil, invalidField("replacement", "the replacement is not a %s: %v", orig.EventType(), err)
	}
	var out any = v.Interface()
	if !ptr {
		out = v.Elem().Interface()
	}
	ev, ok := out.(domain.Event)
	if !ok {
		return nil, invalidField("replacement", "a %s cannot be replaced", orig.EventType())
	}
	return ev, nil
}

// streamSchool returns the school a governance stream belongs to.
func (s *Server) streamSchool(ctx context.Context, stream string, id uuid.UUID) (uuid.UUID, error) {
	kind, _, _ := governance.ParseStream(stream)
	switch kind {
	case governance.KindSchool:
		return id, nil
	case governance.KindPerson:
		return s.personSchool(ctx, id)
	case governance.KindCommunity:
		c, _, err := s.loadCommunity(ctx, id)
		if err != nil {
			return uuid.Nil, err
		}
		return c.SchoolID, nil
	case governance.KindProposal:
		p, _, err := s.loadProposal(ctx, id)
		if err != nil {
			return uuid.Nil, err
		}
		return p.SchoolID, nil
	case governance.KindTriad:
		t, _, err := domain.Load(ctx, s.L.Handler, governance.TriadStream(id), governance.NewTriad)
		if err != nil {
			return uuid.Nil, fmt.Errorf("load triad %s: %w", id, err)
		}
		return t.SchoolID, nil
	}
	return uuid.Nil, nil
}
