package web_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// markJS puts invisible link markers (https://mark.invalid/NAME) in the
// report for the PDF to carry: one at the top and one at the bottom of
// every chart and of the year in numbers, and one at the top of every
// heading and of what follows it. Chromium writes each link as an
// annotation of the page it lands on, so the PDF says on which page each
// marker was printed. Returns how many boxes it marked.
const markJS = `(() => {
  const mark = (el, name, where) => {
    if (getComputedStyle(el).position === 'static') el.style.position = 'relative';
    const a = document.createElement('a');
    a.href = 'https://mark.invalid/' + name;
    a.setAttribute('aria-hidden', 'true');
    a.tabIndex = -1;
    a.style.cssText = 'position:absolute;left:0;width:3px;height:3px;display:block;' + (where === 'top' ? 'top:0' : 'bottom:0');
    el.appendChild(a);
  };
  let n = 0;
  document.querySelectorAll('figure.chart, dl.numbers').forEach((el, i) => {
    mark(el, 'box' + i + '-top', 'top'); mark(el, 'box' + i + '-bottom', 'bottom'); n++;
  });
  document.querySelectorAll('h2, h3').forEach((el, i) => {
    const next = el.nextElementSibling;
    if (el.getClientRects().length === 0 || !next || next.getClientRects().length === 0) return;
    mark(el, 'head' + i + '-top', 'top'); mark(next, 'head' + i + '-bottom', 'top'); n++;
  });
  return n;
})()`

var (
	pdfObjRE   = regexp.MustCompile(`(?s)(\d+) 0 obj\s*(.*?)endobj`)
	pdfPageRE  = regexp.MustCompile(`/Type\s*/Page\b`)
	pdfAnnotRE = regexp.MustCompile(`/Annots\s*\[([^\]]*)\]`)
	pdfRefRE   = regexp.MustCompile(`(\d+) 0 R`)
	pdfMarkRE  = regexp.MustCompile(`/URI\s*\(https://mark\.invalid/([a-z0-9-]+)\)`)
)

// pdfMarks reads a PDF as Chromium writes it (objects in the clear, page
// contents compressed) and returns its page count and, for every marker
// link, the page (1-based) it is on.
func pdfMarks(t *testing.T, pdf []byte) (int, map[string]int) {
	t.Helper()
	objs := map[string]string{}
	var pages []string
	for _, m := range pdfObjRE.FindAllSubmatch(pdf, -1) {
		objs[string(m[1])] = string(m[2])
		if pdfPageRE.Match(m[2]) {
			pages = append(pages, string(m[1]))
		}
	}
	// Pages in document order: the page tree's /Kids.
	var order []string
	for _, body := range objs {
		if regexp.MustCompile(`/Type\s*/Pages\b`).MatchString(body) && !strings.Contains(body, "/Parent") {
			kids := regexp.MustCompile(`/Kids\s*\[([^\]]*)\]`).FindStringSubmatch(body)
			if kids != nil {
				for _, r := range pdfRefRE.FindAllStringSubmatch(kids[1], -1) {
					order = append(order, r[1])
				}
			}
		}
	}
	if len(order) != len(pages) {
		t.Fatalf("the PDF's page tree lists %d pages, but it has %d page objects (nested page trees are not read here)", len(order), len(pages))
	}
	marks := map[string]int{}
	for i, id := range order {
		a := pdfAnnotRE.FindStringSubmatch(objs[id])
		if a == nil {
			continue
		}
		for _, r := range pdfRefRE.FindAllStringSubmatch(a[1], -1) {
			if m := pdfMarkRE.FindStringSubmatch(objs[r[1]]); m != nil {
				marks[m[1]] = i + 1
			}
		}
	}
	return len(order), marks
}

// TestReportPrintsCleanly prints the report page, and the HTML download,
// to PDF in Chromium and checks them page by page: no chart (nor the year
// in numbers) is cut by a page break, no heading is left at the foot of a
// page without what follows it, the navigation and forms are not printed,
// and the report is a few pages, not dozens. On screen the page is much
// shorter than the 9,000 px it was. It also checks, in the browser, that
// no text of a chart overlaps another text or a bar. Saves the PDFs to
// $CONCORD_SCREENSHOTS when set.
func TestReportPrintsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	f := newFixture(t)
	base := f.srv.URL
	ctx := startChrome(t, base, 100*time.Second).ctx
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#token")), chromedp.SendKeys(chromedp.CSS("#token"), f.secret["governor-token"]),
		chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS("header .who button")),
		chromedp.Navigate(base+"/report"), chromedp.WaitVisible(chromedp.CSS("#chart-rag"))); err != nil {
		t.Fatalf("open the report: %v", err)
	}
	h, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.documentElement.scrollHeight`))
	if err != nil {
		t.Fatal(err)
	}
	if h > 5000 {
		t.Errorf("the report page is %.0f px long at 1280 px wide, want it well under 9,000 (at most 5,000 for this small ledger)", h)
	}
	checkPrint(ctx, t, "report page", "report.pdf")

	// The HTML download, as a governor opens it from disk.
	res, doc := f.signIn("governor-token").get("/report/download?format=html")
	if res.StatusCode != 200 {
		t.Fatalf("download: %d", res.StatusCode)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), media(""),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.open(); document.write(`+string(js)+`); document.close(); true`)(ctx, tg)
			return err
		}), chromedp.WaitVisible(chromedp.CSS("#chart-rag"))); err != nil {
		t.Fatalf("open the download: %v", err)
	}
	checkPrint(ctx, t, "HTML download", "report-download.pdf")
}

// media emulates a CSS media type ("print"; "" for the screen).
func media(m string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return err
	})
}

// checkPrint checks the report open in the browser: its chart texts
// clear of each other and of the bars on screen; then, printed to PDF,
// nothing but the report printed, no chart cut and no heading parted from
// what follows it.
func checkPrint(ctx context.Context, t *testing.T, what, file string) {
	t.Helper()
	eval := func(step, js string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](js))
		if err != nil {
			t.Fatalf("%s: %s: %v", what, step, err)
		}
		return v
	}
	// No text of a chart overlaps another of its texts or one of its
	// bars, as the browser lays them out.
	overlaps, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
	  const out = [];
	  const hit = (a, b) => a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
	  document.querySelectorAll('figure.chart svg').forEach(svg => {
	    const vb = svg.viewBox.baseVal;
	    const texts = [...svg.querySelectorAll('text')].map(e => [e.textContent, e.getBBox()]);
	    const rects = [...svg.querySelectorAll('rect')].map(e => e.getBBox());
	    texts.forEach(([s, b], i) => {
	      if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > vb.width + 0.5 || b.y + b.height > vb.height + 0.5) out.push(svg.parentNode.id + ': "' + s + '" runs out of the chart');
	      texts.slice(i + 1).forEach(([s2, b2]) => { if (hit(b, b2)) out.push(svg.parentNode.id + ': "' + s + '" overlaps "' + s2 + '"'); });
	      rects.forEach(r => { if (hit(b, r)) out.push(svg.parentNode.id + ': "' + s + '" overlaps a bar'); });
	    });
	  });
	  return out;
	})()`))
	if err != nil {
		t.Fatalf("%s: measure the charts: %v", what, err)
	}
	for _, o := range overlaps {
		t.Errorf("%s: %s", what, o)
	}
	if n := eval("count charts", `document.querySelectorAll('figure.chart svg').length`); n < 2 {
		t.Fatalf("%s: %v charts drawn, want at least the membership and ratings charts", what, n)
	}

	// What print hides: navigation, forms, downloads, folded tables.
	if err := chromedp.Do(ctx, media("print")); err != nil {
		t.Fatalf("%s: emulate print: %v", what, err)
	}
	shown := eval("printed chrome", `[...document.querySelectorAll('header.site nav, form, .downloads, details:not([open])')].filter(e => e.getClientRects().length > 0).length`)
	if shown != 0 {
		t.Errorf("%s: %v navigation, form, download or folded-table boxes are printed", what, shown)
	}
	boxes := eval("mark", markJS)
	if boxes < 5 {
		t.Fatalf("%s: only %v boxes to check", what, boxes)
	}

	// Printed on A4, then on Letter and A5, so that the page breaks fall
	// in different places.
	for i, paper := range []struct {
		name string
		w, h float64 // inches
	}{{"A4", 8.27, 11.69}, {"Letter", 8.5, 11}, {"A5", 5.83, 8.27}} {
		pages, n := printOn(ctx, t, what, paper.name, paper.w, paper.h, boxes, file)
		if i == 0 && (pages < 2 || pages > 8) {
			t.Errorf("%s prints on %d A4 pages, want 2 to 8 for this small ledger", what, pages)
		}
		t.Logf("%s prints on %d %s pages; %d boxes checked", what, pages, paper.name, n)
	}
}

// printOn prints the open page to PDF on paper w × h inches and checks
// that every marked box lies on one page. Returns the page count and how
// many boxes it checked.
func printOn(ctx context.Context, t *testing.T, what, paper string, w, h, boxes float64, file string) (int, int) {
	t.Helper()
	what += " on " + paper
	pdf, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PaperWidth: w, PaperHeight: h, PrintBackground: ptr(true)})
		return res.Data, err
	})
	if err != nil {
		t.Fatalf("%s: print to PDF: %v", what, err)
	}
	if dir := os.Getenv("CONCORD_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, strings.TrimSuffix(file, ".pdf")+"-"+paper+".pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pages, marks := pdfMarks(t, pdf)
	var names []string
	for n := range marks {
		if strings.HasSuffix(n, "-top") {
			names = append(names, strings.TrimSuffix(n, "-top"))
		}
	}
	slices.Sort(names)
	if float64(len(names)) != boxes {
		t.Fatalf("%s: the PDF carries %d of the %v marked boxes: %v", what, len(names), boxes, marks)
	}
	breaks := map[int]bool{}
	for _, n := range names {
		top, bottom := marks[n+"-top"], marks[n+"-bottom"]
		if bottom == 0 {
			t.Errorf("%s: %s: its end is not in the PDF", what, n)
			continue
		}
		if top != bottom {
			kind := "a chart or the year in numbers"
			if strings.HasPrefix(n, "head") {
				kind = "a heading and what follows it"
			}
			t.Errorf("%s: %s (%s) starts on page %d and ends on page %d", what, n, kind, top, bottom)
		}
		breaks[top] = true
	}
	if len(breaks) < 2 {
		t.Errorf("%s: every marked box is on one page (%v): the check saw no page break", what, breaks)
	}
	return pages, len(names)
}

func ptr[T any](v T) *T { return &v }
