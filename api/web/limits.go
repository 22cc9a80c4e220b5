package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/concord-ledger/concord/api"
)

// MaxFormBytes is the largest form body the pages accept. Their forms carry
// a few ids, a CSRF token and at most a reason or a proposal's text, far
// below this; the API's JSON routes have their own limit (api.MaxBodySize).
const MaxFormBytes = 64 << 10

// limitForms refuses, before anyone reads it, a request body over
// MaxFormBytes with 413 and an RFC 9457 problem+json (signed in or not: the
// sign-in form is behind it too), and hands the handlers a body already
// read, so that ParseForm never reads more. Nothing is recorded for a
// refused request.
func limitForms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if r.ContentLength > MaxFormBytes {
			tooLarge(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFormBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge(w, r)
			return
		}
		if err != nil {
			writeProblem(w, r, &api.Problem{Type: api.ProblemBase + "bad-request", Code: "bad-request", Title: "The request is malformed",
				Status: http.StatusBadRequest, Detail: "the form could not be read: " + err.Error()})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close") // the rest of the body is not read
	writeProblem(w, r, &api.Problem{Type: api.ProblemBase + "too-large", Code: "too-large", Title: "The form is too large",
		Status: http.StatusRequestEntityTooLarge, Detail: "a form may hold at most 64 KiB; shorten the text and send it again"})
}

// writeProblem writes p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p *api.Problem) {
	p.Instance = api.RequestID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
