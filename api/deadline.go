package api

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// DefaultBodyTimeout is how long a request may take to deliver its body by
// default (concord serve --body-timeout).
const DefaultBodyTimeout = 30 * time.Second

// BodyDeadline returns middleware that gives every request with a body d,
// from when its handling starts, to deliver that body (up to MaxBodySize
// bytes: what any route reads), so that a client sending a byte a second
// holds a connection and a goroutine for d at most. The body is read
// under a read deadline on the connection (http.ResponseController), then
// the deadline is lifted and the handler gets the bytes read. A body not
// delivered in time is answered 408 problem+json, and the connection is
// closed.
//
// Requests without a body, the live feed (GET /v1/events/stream) among
// them, are passed on untouched: a feed reads nothing after its headers,
// which the server's ReadHeaderTimeout bounds, and must stay open for as
// long as the client wants. Behind a writer that cannot set deadlines
// (a test's recorder) it does nothing.
func BodyDeadline(d time.Duration) func(http.Handler) http.Handler {
	if d <= 0 {
		d = DefaultBodyTimeout
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
				next.ServeHTTP(w, r)
				return
			}
			rc := http.NewResponseController(w)
			if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
				next.ServeHTTP(w, r)
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
			_ = rc.SetReadDeadline(time.Time{})
			if err != nil {
				w.Header().Set("Connection", "close")
				if isTimeout(err) {
					writeProblem(w, r, problem(http.StatusRequestTimeout, "body-timeout", "The request body came too slowly",
						"the body was not delivered within %s; send it at once", d))
					return
				}
				writeProblem(w, r, badRequest("reading the body: %v", err))
				return
			}
			if len(body) > MaxBodySize {
				// The handler refuses it (413) without reading the rest,
				// which is not waited for.
				w.Header().Set("Connection", "close")
				r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			} else {
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			next.ServeHTTP(w, r)
		})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
