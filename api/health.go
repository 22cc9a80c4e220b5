package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/concord-ledger/concord/projections"
)

// ReadyMaxLag is how many events a projection may trail the head by and
// still count as caught up: under steady writes projections are always a
// few events behind, which is not "not ready".
const ReadyMaxLag = 64

// Health is the answer of /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
	// Head is the store's last acknowledged position (readyz only).
	Head uint64 `json:"head,omitempty"`
	// Backend names the event store (readyz only).
	Backend string `json:"backend,omitempty"`
	// Projections is every projection's progress (readyz only).
	Projections []projections.Status `json:"projections,omitempty"`
}

func init() { addRoutes(healthRoutes) }

func healthRoutes() []route {
	return []route{
		{Method: http.MethodGet, Pattern: "/healthz", Summary: "Check the process is up", Tag: "Operations",
			Response: Health{}, Handle: healthz},
		{Method: http.MethodGet, Pattern: "/readyz", Summary: "Check the ledger is ready to serve", Tag: "Operations",
			Response: Health{}, Handle: readyz},
	}
}

func healthz(s *Server, w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusOK, Health{Status: "ok"})
}

// readyz answers 200 when the store answers, the transparency log's
// self-audit has found nothing, and every projection is within ReadyMaxLag
// of the head and none has failed; otherwise 503 saying what is wrong (for
// a failed self-audit, the positions that changed).
func readyz(s *Server, w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	head, err := s.L.Store.Head(ctx)
	if err != nil {
		return problem(http.StatusServiceUnavailable, "not-ready", "The ledger is not ready", "the event store does not answer: %v", err)
	}
	sts := s.L.Engine.Status(ctx)
	var why []string
	if s.L.Log != nil {
		if e := s.L.Log.AuditFailure(); e != nil {
			why = append(why, fmt.Sprintf("self-audit failed, signing stopped: %v (first bad position %d)", e, e.FirstBad))
		}
	}
	for _, st := range sts {
		switch {
		case st.Failure != nil:
			why = append(why, fmt.Sprintf("projection %s failed at position %d (event %s, %s): %s",
				st.Name, st.Failure.Position, st.Failure.EventID, st.Failure.Type, st.Failure.Err))
		case st.Lag > ReadyMaxLag:
			why = append(why, fmt.Sprintf("projection %s is at position %d, %d events behind the head %d", st.Name, st.Position, st.Lag, st.Head))
		}
	}
	if len(why) > 0 {
		p := problem(http.StatusServiceUnavailable, "not-ready", "The ledger is not ready", "%s", strings.Join(why, "; "))
		w.Header().Set("Retry-After", "1")
		return p
	}
	return reply(w, http.StatusOK, Health{Status: "ready", Head: head, Backend: s.L.Backend, Projections: sts})
}
