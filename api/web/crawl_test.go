package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/api/web"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/demo"
)

var hrefRE = regexp.MustCompile(`href="(/[^"#]*)`)

// TestCrawlTheDemo follows every link from the overview of a generated
// demo partnership (two schools, two years), as a governor and as the
// Director: every page answers 200, and the governor meets no form.
func TestCrawlTheDemo(t *testing.T) {
	ctx := context.Background()
	clock := demo.NewClock(nil)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.Open(ctx, ledger.Config{Now: clock.Now, Logger: quiet, NoTransparency: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sum, err := demo.Generate(ctx, l.Governance, l.Partnership, demo.Options{Schools: 2, Years: 2, Seed: 7, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	auth := tokens{
		"director": app.Person(sum.Sample[domain.RoleDirector]),
		"governor": app.Person(sum.Sample[domain.RoleGovernor]),
	}
	var srv *api.Server
	srv = api.New(l, api.Options{Auth: auth, Logger: quiet, Now: clock.Now, Mount: func(r chi.Router) { web.MountFunc(r, func() *api.Server { return srv }) }})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	for _, tok := range []string{"governor", "director"} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		res, err := c.Get(hs.URL + "/signin")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfRE.FindSubmatch(page)
		if m == nil {
			t.Fatal("the sign-in page has no CSRF field")
		}
		res, err = c.PostForm(hs.URL+"/signin", map[string][]string{"token": {tok}, "csrf": {string(m[1])}})
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("sign in %s: %v %v", tok, err, res)
		}
		res.Body.Close()
		seen := map[string]bool{"/": true}
		from := map[string]string{}
		queue := []string{"/"}
		for len(queue) > 0 && len(seen) < 400 {
			p := queue[0]
			queue = queue[1:]
			res, err := c.Get(hs.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body := string(b)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s %s (linked from %s): %d\n%s", tok, p, from[p], res.StatusCode, body)
				continue
			}
			// A governor records nothing but challenges to the Director.
			if tok == "governor" && strings.Count(body, `method="post"`)-strings.Count(body, `action="/challenges"`) != 1 {
				t.Errorf("a governor meets a form other than a challenge on %s", p)
			}
			for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
				u := strings.ReplaceAll(m[1], "&amp;", "&")
				if strings.HasPrefix(u, "/static/") || strings.HasPrefix(u, "/v1/") || strings.HasPrefix(u, "/report/download") || seen[u] {
					continue
				}
				seen[u] = true
				from[u] = p
				queue = append(queue, u)
			}
		}
		if len(seen) < 20 {
			t.Errorf("%s reached only %d pages", tok, len(seen))
		}
		t.Logf("%s: %d pages", tok, len(seen))
	}
}
