package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/api/web"
)

// routeTiming is one kind of page or API read, timed over its samples.
type routeTiming struct {
	Route string  `json:"route"`
	N     int     `json:"n"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
}

// readTimings is what the benchmark measured of the served reads: every
// kind of web page a Director and the partnership's lead reach from the
// overview, and every GET route of the API whose parameters the crawl
// could fill.
type readTimings struct {
	Pages    []routeTiming `json:"pages"`
	API      []routeTiming `json:"api"`
	PagesP99 float64       `json:"pages_p99_ms"`
	APIP99   float64       `json:"api_p99_ms"`
	// Skipped lists the API's GET routes that were not timed, with why.
	Skipped []string `json:"skipped,omitempty"`
}

var (
	hrefRE = regexp.MustCompile(`href="(/[^"#]*)"`)
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	numRE  = regexp.MustCompile(`/[0-9]+(/|$)`)
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// routeKind names the route a path belongs to: ids become {id}, numbers
// {n}, and the query's keys are kept (an "as of" page is its own kind).
func routeKind(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	p := uuidRE.ReplaceAllString(u.Path, "{id}")
	p = numRE.ReplaceAllString(p, "/{n}$1")
	keys := make([]string, 0, len(u.Query()))
	for k := range u.Query() {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return p
	}
	sort.Strings(keys)
	return p + "?" + strings.Join(keys, "&")
}

// measureReads serves l's API and web pages in-process, signs in as each
// of readers (people of the ledger), crawls the pages they reach from the
// overview (at most perKind addresses of each kind), fills the API's GET
// routes from what the API lists, and times every kind samples times
// (under a CPU profile written to profile, when set).
func measureReads(ctx context.Context, l *ledger.Ledger, readers []uuid.UUID, perKind, samples int, profile string, log io.Writer) (readTimings, error) {
	var out readTimings
	tokens, err := api.OpenTokens("", api.TokensOptions{})
	if err != nil {
		return out, err
	}
	defer tokens.Close()
	var srv *api.Server
	srv = api.New(l, api.Options{Auth: tokens, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mount: func(r chi.Router) { web.MountFunc(r, func() *api.Server { return srv }) }})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	type pageAddr struct{ path, secret string }
	pages := map[string][]pageAddr{} // kind → addresses, with who reached them
	var pageOrder []string
	apiURLs := map[string][]apiCall{}
	var apiOrder []string
	for _, who := range readers {
		secret, _, err := tokens.Create(ctx, api.TokenSpec{Kind: app.KindPerson, PersonID: who, Label: "bench"})
		if err != nil {
			return out, fmt.Errorf("token for %s: %w", who, err)
		}
		c, err := signedInClient(ctx, ts.URL, secret)
		if err != nil {
			return out, err
		}
		crawled := crawlPages(ctx, c, ts.URL, perKind)
		for _, p := range crawled {
			k := routeKind(p)
			if _, ok := pages[k]; !ok {
				pageOrder = append(pageOrder, k)
			}
			if len(pages[k]) < perKind {
				pages[k] = append(pages[k], pageAddr{p, secret})
			}
		}
		calls, skipped, err := apiReads(ctx, ts.URL, secret, who, crawled)
		if err != nil {
			return out, err
		}
		for _, sk := range skipped {
			if !slices.Contains(out.Skipped, sk) {
				out.Skipped = append(out.Skipped, sk)
			}
		}
		for _, call := range calls {
			if _, ok := apiURLs[call.route]; !ok {
				apiOrder = append(apiOrder, call.route)
			}
			apiURLs[call.route] = append(apiURLs[call.route], call)
		}
	}
	clients := map[string]*http.Client{}
	var allPages, allAPI []time.Duration
	stopProfile, err := startCPUProfile(profile)
	if err != nil {
		return out, err
	}
	defer stopProfile()
	for _, kind := range pageOrder {
		var ds []time.Duration
		for i := range samples {
			addr := pages[kind][i%len(pages[kind])]
			path, secret := addr.path, addr.secret
			c := clients[secret]
			if c == nil {
				if c, err = signedInClient(ctx, ts.URL, secret); err != nil {
					return out, err
				}
				clients[secret] = c
			}
			d, status, err := timedGet(ctx, c, ts.URL+path, "")
			if err != nil {
				return out, err
			}
			if status != http.StatusOK {
				return out, fmt.Errorf("page %s answered %d", path, status)
			}
			ds = append(ds, d)
		}
		out.Pages = append(out.Pages, timing(kind, ds))
		allPages = append(allPages, ds...)
	}
	plain := &http.Client{Timeout: 10 * time.Minute}
	for _, route := range apiOrder {
		var ds []time.Duration
		calls := apiURLs[route]
		for i := range samples {
			call := calls[i%len(calls)]
			d, status, err := timedGet(ctx, plain, ts.URL+call.path, call.secret)
			if err != nil {
				return out, err
			}
			if status != http.StatusOK {
				return out, fmt.Errorf("GET %s answered %d", call.path, status)
			}
			ds = append(ds, d)
		}
		out.API = append(out.API, timing(route, ds))
		allAPI = append(allAPI, ds...)
	}
	// A route one reader could not read but another could was timed.
	out.Skipped = slices.DeleteFunc(out.Skipped, func(sk string) bool {
		route, _, _ := strings.Cut(sk, " ")
		_, timed := apiURLs[route]
		return timed
	})
	out.PagesP99 = percentileMS(sortedDur(allPages), 0.99)
	out.APIP99 = percentileMS(sortedDur(allAPI), 0.99)
	sort.Slice(out.Pages, func(i, j int) bool { return out.Pages[i].P99MS > out.Pages[j].P99MS })
	sort.Slice(out.API, func(i, j int) bool { return out.API[i].P99MS > out.API[j].P99MS })
	if log != nil {
		fmt.Fprintf(log, "timed %d kinds of page and %d API reads, %d samples each\n", len(out.Pages), len(out.API), samples)
	}
	return out, nil
}

func sortedDur(ds []time.Duration) []time.Duration {
	slices.Sort(ds)
	return ds
}

func timing(route string, ds []time.Duration) routeTiming {
	slices.Sort(ds)
	return routeTiming{Route: route, N: len(ds), P50MS: percentileMS(ds, 0.50), P99MS: percentileMS(ds, 0.99)}
}

// timedGet GETs addr (with a bearer token when secret is set), reads the
// whole body and returns how long that took.
func timedGet(ctx context.Context, c *http.Client, addr, secret string) (time.Duration, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return 0, 0, err
	}
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", addr, err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(t0), resp.StatusCode, err
}

// signedInClient signs in to the web pages at base with secret, as a
// person does through the sign-in form, and returns a client holding the
// session.
func signedInClient(ctx context.Context, base, secret string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Minute}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/signin", nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("the sign-in page holds no form token")
	}
	form := url.Values{"token": {secret}, "csrf": {html.UnescapeString(string(m[1]))}, "next": {"/"}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		return nil, fmt.Errorf("sign-in answered %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	return c, nil
}

// crawlPages follows the links of the pages reachable from the overview,
// breadth first, visiting at most perKind addresses of each kind, and
// returns the addresses that answered 200 with a page.
func crawlPages(ctx context.Context, c *http.Client, base string, perKind int) []string {
	seen := map[string]bool{"/": true}
	perSeen := map[string]int{"/": 1}
	queue := []string{"/"}
	var ok []string
	for len(queue) > 0 && len(ok) < 2000 {
		p := queue[0]
		queue = queue[1:]
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
		resp, err := c.Do(req)
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Request.URL.Path == "/signin" {
			continue
		}
		ok = append(ok, p)
		for _, m := range hrefRE.FindAllSubmatch(body, -1) {
			next := html.UnescapeString(string(m[1]))
			if seen[next] || strings.HasPrefix(next, "/static") || strings.HasPrefix(next, "/signout") || strings.HasPrefix(next, "/live") || strings.HasPrefix(next, "/v1/") {
				continue
			}
			seen[next] = true
			k := routeKind(next)
			if perSeen[k] >= perKind {
				continue
			}
			perSeen[k]++
			queue = append(queue, next)
		}
	}
	return ok
}

// apiCall is one API read to time.
type apiCall struct {
	route, path, secret string
}

// apiReads lists the API's GET routes from its OpenAPI description and
// fills their path parameters with ids the API itself lists (a school's
// id for /v1/schools/{id}, ...) and the ids in the addresses of the pages
// the reader reached (pages), trying ids until one answers 200 to reader;
// routes it cannot fill, streams and administrators' routes are returned
// as skipped, with why.
func apiReads(ctx context.Context, base, secret string, reader uuid.UUID, pages []string) ([]apiCall, []string, error) {
	plain := &http.Client{Timeout: 10 * time.Minute}
	get := func(path string) (int, []byte, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := plain.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	status, doc, err := get("/v1/openapi.json")
	if err != nil || status != http.StatusOK {
		return nil, nil, fmt.Errorf("openapi.json: %d %v", status, err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		return nil, nil, fmt.Errorf("openapi.json: %w", err)
	}
	var routes []string
	for p, ops := range spec.Paths {
		if _, ok := ops["get"]; ok {
			routes = append(routes, p)
		}
	}
	// Fewer parameters first, so that lists fill the ids of the routes
	// below them.
	sort.Slice(routes, func(i, j int) bool {
		ci, cj := strings.Count(routes[i], "{"), strings.Count(routes[j], "{")
		if ci != cj {
			return ci < cj
		}
		return routes[i] < routes[j]
	})
	ids := map[string][]string{"people": {reader.String()}}
	for _, p := range pages {
		segs := strings.Split(strings.SplitN(p, "?", 2)[0], "/")
		for i := 1; i < len(segs); i++ {
			if uuidRE.MatchString(segs[i]) && !slices.Contains(ids[segs[i-1]], segs[i]) {
				ids[segs[i-1]] = append(ids[segs[i-1]], segs[i])
			}
		}
	}
	var calls []apiCall
	var skipped []string
	for _, route := range routes {
		switch {
		case strings.HasSuffix(route, "/stream") || strings.Contains(route, "/admin/") || route == "/v1/tokens" || route == "/v1/openapi.json":
			skipped = append(skipped, route+" (a stream, or an administrator's)")
			continue
		}
		var (
			path   string
			status int
			body   []byte
			tried  int
		)
		for try := range 10 {
			p, filled := fillRoute(route, ids, try)
			if !filled {
				break
			}
			tried++
			path = p
			if status, body, err = get(path); err != nil {
				return nil, nil, err
			}
			if status == http.StatusOK || !strings.Contains(route, "{") {
				break
			}
		}
		switch {
		case tried == 0:
			skipped = append(skipped, route+" (no id to fill it with)")
			continue
		case status != http.StatusOK:
			skipped = append(skipped, fmt.Sprintf("%s (answered %d to %s)", route, status, path))
			continue
		}
		calls = append(calls, apiCall{route: route, path: path, secret: secret})
		harvestIDs(route, body, ids)
	}
	return calls, skipped, nil
}

// fillRoute puts into each {param} of route an id listed under the
// segment before it ("schools" for /v1/schools/{id}): the try-th of the
// first parameter's list, the first of the others'.
func fillRoute(route string, ids map[string][]string, try int) (string, bool) {
	first := true
	segs := strings.Split(route, "/")
	for i, s := range segs {
		if !strings.HasPrefix(s, "{") {
			continue
		}
		if i == 0 {
			return "", false
		}
		list := ids[segs[i-1]]
		n := 0
		if first {
			n, first = try, false
		}
		if n >= len(list) {
			return "", false
		}
		segs[i] = list[n]
	}
	return strings.Join(segs, "/"), true
}

// harvestIDs records the ids a list answered under the route's last
// segment, and the ids of the objects nested in it under their fields'
// names pluralised the API's way ("school" → "schools").
func harvestIDs(route string, body []byte, ids map[string][]string) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return
	}
	segs := strings.Split(strings.TrimSuffix(route, "/"), "/")
	last := segs[len(segs)-1]
	var walk func(key string, v any, depth int)
	walk = func(key string, v any, depth int) {
		if depth > 6 {
			return
		}
		switch t := v.(type) {
		case map[string]any:
			if id, ok := t["id"].(string); ok && uuidRE.MatchString(id) && key != "" && !slices.Contains(ids[key], id) {
				ids[key] = append(ids[key], id)
			}
			for k, sub := range t {
				nk := k
				switch k {
				case "data", "items":
					nk = key
				default:
					if !strings.HasSuffix(k, "s") {
						nk = k + "s"
					}
				}
				walk(nk, sub, depth+1)
			}
		case []any:
			for _, sub := range t {
				walk(key, sub, depth+1)
			}
		}
	}
	walk(last, v, 0)
}
