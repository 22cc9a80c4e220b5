package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

// ProblemBase is the prefix of every problem type URI; the rule's code
// follows it ("https://concord.example/problems/not-a-member").
const ProblemBase = "https://concord-ledger.org/problems/"

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Rule is the ledger rule that was broken, in full, when one was.
	Rule string `json:"rule,omitempty"`
	// Code is the rule's or problem's stable code.
	Code string `json:"code,omitempty"`
	// Errors lists invalid fields, for forms.
	Errors []FieldError `json:"errors,omitempty"`
	// Instance is the request's id, to quote when asking for help.
	Instance string `json:"instance,omitempty"`
}

// FieldError names one invalid field of a request.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error lets a *Problem travel as an error from a handler.
func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail) }

// problem builds a Problem with a code of the API's own (not a domain rule).
func problem(status int, code, title, format string, args ...any) *Problem {
	return &Problem{Type: ProblemBase + code, Code: code, Title: title, Status: status, Detail: fmt.Sprintf(format, args...)}
}

// Problems the API itself raises.
func badRequest(format string, args ...any) *Problem {
	return problem(http.StatusBadRequest, "bad-request", "The request is malformed", format, args...)
}

func invalidField(field, format string, args ...any) *Problem {
	p := problem(http.StatusUnprocessableEntity, "invalid-field", "A field is invalid", format, args...)
	p.Errors = []FieldError{{Field: field, Detail: p.Detail}}
	return p
}

func notFound(format string, args ...any) *Problem {
	return problem(http.StatusNotFound, "not-found", "Not found", format, args...)
}

func unauthorized(format string, args ...any) *Problem {
	return problem(http.StatusUnauthorized, "unauthenticated", "Sign in first", format, args...)
}

func forbidden(format string, args ...any) *Problem {
	return problem(http.StatusForbidden, "forbidden", "You may not do this", format, args...)
}

// ProblemOf maps any error a handler returns to the problem it answers
// with. It is the one place where domain, store and API errors become HTTP
// statuses.
func ProblemOf(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if rule, rej, ok := domain.RuleOf(err); ok {
		status := http.StatusUnprocessableEntity
		switch rule.Kind {
		case domain.KindConflict:
			status = http.StatusConflict
		case domain.KindNotFound:
			status = http.StatusNotFound
		case domain.KindForbidden:
			status = http.StatusForbidden
		}
		if errors.Is(err, domain.ErrRevisionMismatch) {
			status = http.StatusPreconditionFailed
		}
		out := &Problem{Type: ProblemBase + rule.Code, Code: rule.Code, Title: rule.Title, Status: status, Rule: rule.Statement, Detail: rule.Title + "."}
		if rej != nil {
			out.Detail = rej.Detail
			if rej.Field != "" {
				out.Errors = []FieldError{{Field: rej.Field, Detail: rej.Detail}}
			}
		}
		return out
	}
	var wrong *eventstore.WrongExpectedRevisionError
	switch {
	case errors.As(err, &wrong):
		return problem(http.StatusPreconditionFailed, "revision-mismatch", "The record has changed",
			"%s is at revision %d, not %d; reload it and try again", wrong.Stream, wrong.Actual, wrong.Expected)
	case errors.Is(err, eventstore.ErrEventTooLarge):
		return problem(http.StatusRequestEntityTooLarge, "too-large", "The request is too large", "%v", err)
	case errors.Is(err, eventstore.ErrInvalidEvent), errors.Is(err, eventstore.ErrInvalidStreamID):
		return problem(http.StatusUnprocessableEntity, "invalid-event", "The event is invalid", "%v", err)
	case errors.Is(err, eventstore.ErrDuplicateEvent):
		return problem(http.StatusConflict, "duplicate-event", "The event was already recorded differently", "%v", err)
	case errors.Is(err, projections.ErrFutureAsOf), errors.Is(err, transparency.ErrPositionBeyondTree),
		errors.Is(err, transparency.ErrSizeBeyondTree), errors.Is(err, transparency.ErrInvalidRange),
		errors.Is(err, transparency.ErrMalformedCheckpoint):
		return problem(http.StatusBadRequest, "bad-range", "That position is not in the ledger", "%v", err)
	case errors.Is(err, transparency.ErrNoCheckpoint), errors.Is(err, views.ErrUnknownView):
		return notFound("%v", err)
	case errors.Is(err, transparency.ErrUnknownWitness):
		return problem(http.StatusForbidden, "unknown-witness", "The witness is not trusted", "%v; ask the ledger's operator to add your verifier key", err)
	case errors.Is(err, transparency.ErrBadSignature), errors.Is(err, transparency.ErrCheckpointMismatch):
		return problem(http.StatusUnprocessableEntity, "bad-cosignature", "The cosignature does not verify", "%v", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return problem(http.StatusServiceUnavailable, "cancelled", "The request was cancelled", "the request ended before it was answered; nothing was recorded unless a later read shows it")
	case errors.Is(err, eventstore.ErrClosed):
		return problem(http.StatusServiceUnavailable, "shutting-down", "The ledger is shutting down", "try again in a moment")
	}
	return problem(http.StatusInternalServerError, "internal", "Something went wrong on the server",
		"the error was logged; quote the instance id when asking for help")
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Instance == "" {
		p.Instance = RequestID(r.Context())
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
