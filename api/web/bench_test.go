package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/api/web"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
	"github.com/concord-ledger/concord/projections/views"
)

// BenchmarkPages renders each page, live, over a generated demo partnership
// (domain/demo). The size is CONCORD_BENCH_SCHOOLS schools over
// CONCORD_BENCH_YEARS years at CONCORD_BENCH_VOLUME (default 4 × 2 × 1,
// about 9,000 events; 50 × 10 × 15 is about a million). The caller is the
// first school's Director. It reports the p99 of the page's render time
// next to the mean.
func BenchmarkPages(b *testing.B) {
	env := func(k string, def int) int {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
			return n
		}
		return def
	}
	ctx := context.Background()
	clock := demo.NewClock(nil)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.Open(ctx, ledger.Config{Now: clock.Now, Logger: quiet, NoTransparency: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: env("CONCORD_BENCH_SCHOOLS", 4), Years: env("CONCORD_BENCH_YEARS", 2),
		Volume: env("CONCORD_BENCH_VOLUME", 1), Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.CatchUp(ctx); err != nil {
		b.Fatal(err)
	}
	var community, proposal string
	views.Read(ctx, l.Views, views.ProposalsView, views.AsOf{}, func(v *views.Proposals) error {
		if ps := v.Register(views.ProposalFilter{School: sum.Schools[0]}, nil); len(ps) > 0 {
			proposal, community = ps[len(ps)-1].ID.String(), ps[len(ps)-1].Community.ID.String()
		}
		return nil
	})
	auth := tokens{"t": app.Person(sum.Sample[domain.RoleDirector])}
	var srv *api.Server
	srv = api.New(l, api.Options{Auth: auth, Logger: quiet, Now: clock.Now, Mount: func(r chi.Router) { web.MountFunc(r, func() *api.Server { return srv }) }})

	// Sign in once.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(url.Values{"token": {"t"}, "csrf": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "concord_signin", Value: "x"})
	srv.ServeHTTP(rec, req)
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 {
		b.Fatalf("sign in: %d", rec.Code)
	}
	year := sum.Years[len(sum.Years)-1]
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"school", "/schools/" + sum.Schools[0].String()},
		{"community", "/communities/" + community},
		{"proposal", "/proposals/" + proposal},
		{"replay", "/proposals/" + proposal + "/replay"},
		{"resources", "/resources?year=" + year},
		{"progress", "/progress?year=" + year},
		{"accountability", "/accountability?year=" + year},
		{"audit", "/audit"},
		{"audit-filtered", "/audit?type=ChairElected"},
		{"report", "/report?year=" + year},
	}
	b.Logf("demo: %d schools, %d events", len(sum.Schools), sum.Events)
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, p.path, nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			var times []time.Duration
			for b.Loop() {
				rec := httptest.NewRecorder()
				start := time.Now()
				srv.ServeHTTP(rec, req)
				times = append(times, time.Since(start))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", p.path, rec.Code, rec.Body.String())
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
