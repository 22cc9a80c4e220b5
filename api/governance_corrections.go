package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
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

// handleCorrection records a correction, through the application layer:
// the Director corrects their school's records, the lead the
// partnership's.
func (s *Server) handleCorrection(w http.ResponseWriter, r *http.Request) error {
	var req CorrectionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := checkLengths(reflect.ValueOf(&req).Elem(), ""); err != nil {
		return err
	}
	if req.EventID == uuid.Nil {
		return invalidField("event_id", "name the event to correct")
	}
	_, _, isGov := governance.ParseStream(req.Stream)
	_, _, isPart := partnership.ParseStream(req.Stream)
	if !isGov && !isPart {
		return invalidField("stream", "%q is not a record of the ledger (e.g. proposal-<id>, resource-<id>)", req.Stream)
	}
	extra := commandExtras{Reason: req.Reason}
	return s.command(w, r, extra, "", func(ctx context.Context, actor app.Actor) (domain.Result, error) {
		return s.App.CorrectEvent(ctx, actor, req.Stream, req.EventID, func(orig domain.Message) (domain.Correction, error) {
			c := domain.Correction{Reason: req.Reason, EffectiveFrom: req.EffectiveFrom}
			if len(req.Replacement) > 0 && !bytes.Equal(bytes.TrimSpace(req.Replacement), []byte("null")) {
				ev, err := decodeReplacement(orig.Event, req.Replacement)
				if err != nil {
					return c, err
				}
				c.Replacement = ev
			}
			return c, nil
		})
	})
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
