package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/api/web"
	"github.com/concord-ledger/concord/domain"
)

// chrome is one headless Chromium driven by a test: every action fails
// the test with what it was doing.
type chrome struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string // folder for screenshots ("" for none)
	axe   string // axe-core's source ("" to skip the accessibility check)
}

// startChrome starts Chromium (skipping or failing the test when there is
// none, see findChromium) on a window of 1280×900 with every action
// bounded by timeout.
func startChrome(t *testing.T, base string, timeout time.Duration) *chrome {
	t.Helper()
	exe := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), chromedp.Flag("headless", "new"), chromedp.Flag("lang", "en-US"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first call starts the browser and must not carry a timeout.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/signin")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, timeout)
	t.Cleanup(cancel)
	c := &chrome{t: t, ctx: ctx, base: base, shots: os.Getenv("CONCORD_SCREENSHOTS")}
	if c.shots != "" {
		if err := os.MkdirAll(c.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value into a T.
func eval[T any](c *chrome, expr string) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		c.t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

func (c *chrome) open(path string) {
	c.t.Helper()
	c.do("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// signIn signs in with token through the sign-in form.
func (c *chrome) signIn(token string) {
	c.t.Helper()
	c.do("sign in", chromedp.Navigate(c.base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("header .who button")))
}

func (c *chrome) signOut() {
	c.t.Helper()
	c.do("sign out", chromedp.Click(chromedp.CSS("header .who button")), chromedp.WaitVisible(chromedp.CSS("#token")))
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// shoot saves a full-page screenshot as name.png in the screenshots
// folder, when there is one.
func (c *chrome) shoot(name string) {
	c.t.Helper()
	if c.shots == "" {
		return
	}
	png, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(c.shots, unsafeName.ReplaceAllString(name, "_")+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// loadAxe returns the source of axe-core's axe.min.js: from $CONCORD_AXE
// (which .ci/run sets), else from .ci/node where .ci/run installs it; ok
// is false when it is missing.
func loadAxe() (src string, where string, ok bool) {
	where = filepath.Join("..", "..", ".ci", "node", "node_modules", "axe-core", "axe.min.js")
	if p := os.Getenv("CONCORD_AXE"); p != "" {
		where = p
	}
	b, err := os.ReadFile(where)
	return string(b), where, err == nil
}

// findAxe returns axe-core's source (see loadAxe). When it is missing the
// test is skipped, or failed when CONCORD_REQUIRE_BROWSER=1 (as in CI).
func findAxe(t *testing.T) string {
	t.Helper()
	src, where, ok := loadAxe()
	if ok {
		return src
	}
	if os.Getenv("CONCORD_REQUIRE_BROWSER") == "1" {
		t.Fatalf("axe-core is required (CONCORD_REQUIRE_BROWSER=1) but %s is missing: install it with `npm install --prefix .ci/node axe-core@4` (as .ci/run does) or set CONCORD_AXE to its axe.min.js", where)
	}
	t.Skipf("axe-core is missing (%s), so the accessibility check is skipped: install it with `npm install --prefix .ci/node axe-core@4`, or set CONCORD_AXE to its axe.min.js (CONCORD_REQUIRE_BROWSER=1 makes this a failure)", where)
	return ""
}

// axeViolation is one rule axe-core found broken, with the elements.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	URL    string   `json:"helpUrl"`
	Nodes  []string `json:"nodes"`
}

func (v axeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s — %s\n\t\t%s", v.ID, v.Impact, v.Help, v.URL, strings.Join(v.Nodes, "\n\t\t"))
}

// axeRun injects axe-core into the page shown and runs it (WCAG 2.2 A and
// AA rules and best practices); it returns the serious and critical
// violations.
const axeRun = `(async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.slice(0, 8).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' '))
  }));
})()`

// checkAxe runs axe-core on the page shown and fails the test on any
// serious or critical violation, naming the page, rule, elements and help.
func (c *chrome) checkAxe(page string) {
	c.t.Helper()
	if c.axe == "" {
		return
	}
	if !eval[bool](c, c.axe+";\ntypeof axe === 'object'") {
		c.t.Fatalf("%s: axe-core did not load", page)
	}
	for _, v := range eval[[]axeViolation](c, axeRun) {
		c.t.Errorf("%s: accessibility: %s", page, v)
	}
}

// demoServer serves a generated demo partnership (two schools, two
// years) with fixed tokens "governor" and "director".
func demoServer(t *testing.T) string {
	t.Helper()
	l, sum, clock := apitest.Demo(t)
	quiet := slog.New(slog.DiscardHandler)
	auth := tokens{
		"director": app.Person(sum.Sample[domain.RoleDirector]),
		"governor": app.Person(sum.Sample[domain.RoleGovernor]),
	}
	var srv *api.Server
	srv = api.New(l, api.Options{Auth: auth, Logger: quiet, Now: clock.Now, Mount: func(r chi.Router) { web.MountFunc(r, func() *api.Server { return srv }) }})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

var (
	idInPath   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|/\d+(/|$)`)
	linkScript = `Array.from(document.querySelectorAll('a[href]'), a => a.getAttribute('href'))`
)

// kindQueries are the query parameters that change what kind of page a
// path shows (others filter or page the same kind: ?year=, ?before=).
var kindQueries = []string{"step"}

// pageKind is what kind of page a link opens: its path with ids and
// numbers left out, and the names of its kindQueries.
func pageKind(link string) string {
	path, query, _ := strings.Cut(link, "?")
	kind := idInPath.ReplaceAllStringFunc(path, func(s string) string {
		if strings.HasPrefix(s, "/") {
			return "/{n}" + strings.TrimLeft(s, "/0123456789")
		}
		return "{id}"
	})
	var keys []string
	for _, kv := range strings.Split(query, "&") {
		if k, _, _ := strings.Cut(kv, "="); slices.Contains(kindQueries, k) && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if len(keys) > 0 {
		kind += "?" + strings.Join(keys, "&")
	}
	return kind
}

// crawl opens every kind of page reachable by links from the overview
// (the first link of each kind), runs axe-core on it and saves its
// screenshot as prefix-kind; it returns the kinds seen.
func (c *chrome) crawl(prefix string) []string {
	c.t.Helper()
	seen := map[string]bool{}
	queue := []string{"/"}
	seen[pageKind("/")] = true
	var kinds []string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		c.open(p)
		kind := pageKind(p)
		kinds = append(kinds, kind)
		// An error page (templates/error.html) is a broken link.
		if problem := eval[string](c, `(document.querySelector('main p.problem') || {}).textContent || ''`); problem != "" {
			c.t.Errorf("%s: %s is an error page: %s: %s", prefix, p, eval[string](c, `document.title`), problem)
		}
		c.checkAxe(prefix + " " + p)
		name := strings.Trim(unsafeName.ReplaceAllString(strings.ReplaceAll(kind, "{id}", "x"), "-"), "-")
		if name == "" {
			name = "overview"
		}
		c.shoot(prefix + "-" + name)
		for _, l := range eval[[]string](c, linkScript) {
			l, _, _ = strings.Cut(l, "#")
			if !strings.HasPrefix(l, "/") || strings.HasPrefix(l, "/static/") || strings.HasPrefix(l, "/v1/") || strings.HasPrefix(l, "/report/download") {
				continue
			}
			if k := pageKind(l); !seen[k] {
				seen[k] = true
				queue = append(queue, l)
			}
		}
	}
	return kinds
}

// TestAccessibilityInABrowser opens every kind of page of a generated
// demo partnership in headless Chromium, as a governor and as a Director,
// runs axe-core on each (failing on any serious or critical violation)
// and saves a screenshot of each to $CONCORD_SCREENSHOTS.
func TestAccessibilityInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	findChromium(t)
	axe := findAxe(t)
	base := demoServer(t)
	c := startChrome(t, base, 10*time.Minute)
	c.axe = axe
	// The check finds what it should: an image without a text and a
	// button without a name, planted in the sign-in page, are serious or
	// critical violations.
	c.open("/signin")
	if !eval[bool](c, axe+";\n"+`document.querySelector('main').insertAdjacentHTML('beforeend', '<img src="/static/none.png"><button type="button"></button>'); true`) {
		t.Fatal("could not plant the faults")
	}
	var found []string
	for _, v := range eval[[]axeViolation](c, axeRun) {
		found = append(found, v.ID)
	}
	if !slices.Contains(found, "image-alt") || !slices.Contains(found, "button-name") {
		t.Fatalf("axe-core found %v on a page with an image without alt text and an unnamed button", found)
	}
	c.open("/signin")
	c.checkAxe("the sign-in page")
	for _, role := range []string{"governor", "director"} {
		c.signIn(role)
		kinds := c.crawl(role)
		t.Logf("%s: %d kinds of page: %s", role, len(kinds), strings.Join(kinds, " "))
		for _, want := range []string{"/", "/schools/{id}", "/communities/{id}", "/proposals/{id}", "/proposals/{id}/replay?step", "/loans/{id}/replay?step",
			"/resources", "/progress", "/accountability", "/audit", "/report", "/verify"} {
			if !slices.Contains(kinds, want) {
				t.Errorf("%s never reached a page of kind %s", role, want)
			}
		}
		if role == "governor" {
			c.open("/")
			school := eval[string](c, `(document.querySelector('a[href^="/schools/"]') || {}).getAttribute?.('href') || ''`)
			if school == "" {
				t.Fatal("the overview links to no school")
			}
			c.checkCharts(school)
		}
		c.signOut()
	}
}

// heatmapCheck measures the RAG heatmap shown: the WCAG contrast of each
// cell's text on its colour (computed by the browser from the styles in
// force), the size of every piece of text, and the table's width beside
// the width main gives its content.
const heatmapCheck = `(() => {
  const lum = c => { const m = c.match(/[\d.]+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4) }); return 0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2] };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05) };
  const t = document.querySelector('table.heatmap');
  if (!t) return {cells: 0, low: [], small: [], width: 0, inner: 1};
  const main = document.querySelector('main'), ms = getComputedStyle(main);
  const out = {cells: 0, low: [], small: [], width: t.getBoundingClientRect().width, inner: main.clientWidth - parseFloat(ms.paddingLeft) - parseFloat(ms.paddingRight)};
  for (const td of t.querySelectorAll('td.heat:not(.heat-none)')) {
    out.cells++;
    const s = getComputedStyle(td), r = ratio(s.color, s.backgroundColor);
    if (r < 4.5) out.low.push(td.title + ': ' + s.color + ' on ' + s.backgroundColor + ' is ' + r.toFixed(2) + ':1');
  }
  for (const el of t.querySelectorAll('caption, th, td, td span')) {
    if (!el.closest('.sr-only') && Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) {
      const f = parseFloat(getComputedStyle(el).fontSize);
      if (f < 12) out.small.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '": ' + f + 'px');
    }
  }
  return out;
})()`

type heatmapMeasure struct {
	Cells int      `json:"cells"`
	Low   []string `json:"low"`
	Small []string `json:"small"`
	Width float64  `json:"width"`
	Inner float64  `json:"inner"`
}

// chartCheck finds, on the school's membership chart, every label whose
// box meets a value's box (or a bar's), from getBoundingClientRect.
const chartCheck = `(() => {
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const out = {values: 0, overlaps: []};
  for (const g of document.querySelectorAll('figure.bars .bar-group')) {
    const nameEl = g.querySelector('.bar-name'), name = nameEl.getBoundingClientRect();
    for (const line of g.querySelectorAll('.bar-line')) {
      const valueEl = line.querySelector('.bar-value'), value = valueEl.getBoundingClientRect();
      const series = line.querySelector('.bar-series').getBoundingClientRect();
      const bar = line.querySelector('svg.bar rect').getBoundingClientRect();
      out.values++;
      const say = what => out.overlaps.push(nameEl.textContent + ' ' + line.querySelector('.bar-series').textContent + ': ' + what);
      if (hit(name, value)) say('the ISLC\'s name covers the value ' + valueEl.textContent);
      if (hit(series, value)) say('the year covers the value ' + valueEl.textContent);
      if (hit(bar, value)) say('the bar covers the value ' + valueEl.textContent);
      if (hit(name, bar)) say('the ISLC\'s name runs over its bar');
      if (hit(series, bar)) say('the year runs over the bar');
    }
  }
  return out;
})()`

type chartMeasure struct {
	Values   int      `json:"values"`
	Overlaps []string `json:"overlaps"`
}

// checkCharts checks the heatmap on /progress and the membership chart on
// school's page, at the window's width and at a phone's.
func (c *chrome) checkCharts(school string) {
	c.t.Helper()
	for _, width := range []int64{1280, 390} {
		c.do("window", chromedp.EmulateViewport(width, 900))
		c.open("/progress")
		c.checkAxe(fmt.Sprintf("/progress at %dpx", width))
		h := eval[heatmapMeasure](c, heatmapCheck)
		if h.Cells == 0 {
			c.t.Errorf("%dpx: the progress page shows no rated cell", width)
		}
		for _, l := range h.Low {
			c.t.Errorf("%dpx: heatmap contrast below 4.5:1: %s", width, l)
		}
		for _, s := range h.Small {
			c.t.Errorf("%dpx: heatmap text smaller than 12px: %s", width, s)
		}
		if width == 1280 && h.Width < 0.98*h.Inner {
			c.t.Errorf("the heatmap is %.0fpx wide of the %.0fpx the page gives it", h.Width, h.Inner)
		}
		c.open(school)
		c.checkAxe(fmt.Sprintf("%s at %dpx", school, width))
		m := eval[chartMeasure](c, chartCheck)
		if m.Values == 0 {
			c.t.Errorf("%dpx: the school page's chart shows no value", width)
		}
		for _, o := range m.Overlaps {
			c.t.Errorf("%dpx: membership chart: %s", width, o)
		}
	}
	c.do("window", chromedp.EmulateViewport(1280, 900))
}

// press sends keys (kb constants for Tab, Enter, arrows) to the focused
// element.
func (c *chrome) press(keys string) {
	c.t.Helper()
	c.do(fmt.Sprintf("press %q", keys), chromedp.KeyEvent(keys))
}

// focused describes the focused element, for messages.
const focused = `(e => e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '') + ' "' + (e.textContent || e.value || '').trim().slice(0, 40) + '"' : 'nothing')(document.activeElement)`

// tabTo presses Tab until the focused element matches sel (at most 400
// times), checking that every element reached shows where the focus is.
func (c *chrome) tabTo(sel string) {
	c.t.Helper()
	for range 400 {
		c.press(kb.Tab)
		if eval[bool](c, `document.activeElement !== document.body && getComputedStyle(document.activeElement).outlineStyle === 'none' && getComputedStyle(document.activeElement).boxShadow === 'none'`) {
			c.t.Errorf("the focus on %s cannot be seen", eval[string](c, focused))
		}
		if eval[bool](c, fmt.Sprintf(`document.activeElement.matches(%q)`, sel)) {
			return
		}
	}
	c.t.Fatalf("400 presses of Tab never reached %s (the focus is on %s)", sel, eval[string](c, focused))
}

// TestKeyboardOnly votes in an election and requests a loan with the
// keyboard alone: Tab to each field, arrows to choose, keys to type,
// Enter to submit; the page then shows what was recorded.
func TestKeyboardOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	findChromium(t)
	f := newFixture(t)
	c := startChrome(t, f.srv.URL, 5*time.Minute)

	// Ben votes for Ana as chair of the finance ISLC.
	c.signIn(f.secret["ben-token"])
	c.open("/communities/" + f.finance.String())
	c.press(kb.Tab)
	if !eval[bool](c, `document.activeElement.matches('a.skip')`) {
		t.Errorf("the first Tab reaches %s, not the skip link", eval[string](c, focused))
	}
	c.press(kb.Enter)
	if !eval[bool](c, `location.hash === '#main'`) {
		t.Errorf("the skip link leads to %s", eval[string](c, `location.href`))
	}
	c.tabTo(`form[action$="/vote"] input[type=radio]`)
	ana := f.ana.String()
	for range 10 {
		if eval[string](c, `document.activeElement.value`) == ana {
			break
		}
		c.press(kb.ArrowDown)
	}
	c.press(" ") // checks the focused radio (the arrows already did)
	if !eval[bool](c, fmt.Sprintf(`document.querySelector('form[action$="/vote"] input[value=%q]').checked`, ana)) {
		t.Fatalf("the keyboard did not choose Ana (the focus is on %s)", eval[string](c, focused))
	}
	c.tabTo(`form[action$="/vote"] button[type=submit]`)
	c.press(kb.Enter)
	c.do("the vote's notice", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := eval[string](c, `document.querySelector('main').innerText`); !strings.Contains(got, "Your vote was recorded") || !strings.Contains(got, "Turnout 1 of 4") {
		t.Errorf("after the vote the page reads:\n%s", got)
	}
	c.signOut()

	// Sian (Cwm) asks for Pant's minibus.
	c.signIn(f.secret["head-token"])
	c.open("/resources")
	c.tabTo("#l-res")
	if got := eval[string](c, `document.activeElement.value`); got != f.minibus.String() {
		t.Errorf("the resource chosen is %s, want the minibus", got)
	}
	c.tabTo("#l-school")
	if got := eval[string](c, `document.activeElement.value`); got != f.cwm.String() {
		t.Errorf("the borrower chosen is %s, want Cwm Primary", got)
	}
	for _, field := range []struct{ id, keys, want string }{
		// The date's year takes up to six digits, so Tab moves on to the
		// time (Chromium's fields for en-US: mm/dd/yyyy, hh:mm AM/PM).
		{"#l-start", "12082025" + kb.Tab + "0800A", "2025-12-08T08:00"},
		{"#l-end", "12082025" + kb.Tab + "0500P", "2025-12-08T17:00"},
		{"#l-purpose", "Choir competition", "Choir competition"},
	} {
		c.tabTo(field.id)
		c.press(field.keys)
		if got := eval[string](c, `document.activeElement.value`); got != field.want {
			t.Fatalf("typing %q into %s gives %q, want %q", field.keys, field.id, got, field.want)
		}
	}
	c.tabTo(`form[action="/resources/loans"] button[type=submit]`)
	c.press(kb.Enter)
	c.do("the request's notice", chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := eval[string](c, `document.querySelector('main').innerText`); !strings.Contains(got, "Your loan request was recorded") || !strings.Contains(got, "Choir competition") {
		t.Errorf("after the request the page reads:\n%s", got)
	}
}
