package api

import (
	"fmt"
	"net/http"
	"testing"
)

// BenchmarkRoutes measures a command and item reads through the whole HTTP
// stack (routing, authentication, the caller's rights worked out from the
// ledger, decoding, the domain, the in-memory store, the views) in one
// process.
func BenchmarkRoutes(b *testing.B) {
	w := newRoutesWorld(b)
	y := walkSchoolYear(b, w)
	if err := w.l.CatchUp(b.Context()); err != nil {
		b.Fatal(err)
	}

	b.Run("command/register-staff", func(b *testing.B) {
		for i := range b.N {
			r := w.do(y.tDirector, http.MethodPost, "/v1/people/staff", map[string]any{"school_id": y.schoolA, "kind": "educator", "name": fmt.Sprintf("Bench %d", i)})
			if r.Status != http.StatusCreated {
				b.Fatalf("status %d: %s", r.Status, r.Body)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	})
	for _, r := range []struct{ name, path string }{
		{"proposal", "/v1/proposals/" + y.proposal.String()},
		{"community", "/v1/communities/" + y.c1.String()},
		{"loan", "/v1/loans/" + y.loan.String()},
		{"loans", "/v1/loans"},
	} {
		path := r.path
		b.Run("read/"+r.name, func(b *testing.B) {
			for range b.N {
				r := w.do(y.tS1, http.MethodGet, path, nil)
				if r.Status != http.StatusOK {
					b.Fatalf("status %d: %s", r.Status, r.Body)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}
