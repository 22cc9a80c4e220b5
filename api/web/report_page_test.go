package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var (
	reportHrefRE = regexp.MustCompile(`href="([^"]*)"`)
	tagsRE       = regexp.MustCompile(`(?s)<[^>]*>`)
	hiddenRE     = regexp.MustCompile(`(?s)<title>[^<]*</title>|<head>.*?</head>`)
	codeNameRE   = regexp.MustCompile(`\b[a-z]+(_[a-z]+)+\b`)
	colHeadRE    = regexp.MustCompile(`<th scope="col">([^<]*)</th>`)
	mainRE       = regexp.MustCompile(`(?s)<main[^>]*>.*</main>`)
	chartFigure  = func(id string) *regexp.Regexp {
		return regexp.MustCompile(`(?s)<figure class="chart" id="` + id + `"><figcaption>[^<]+</figcaption>\s*<svg [^>]*aria-labelledby="` + id + `-t ` + id + `-d"[^>]*>\s*<title id="` + id + `-t">[^<]+</title><desc id="` + id + `-d">[^<]{20,}</desc>`)
	}
)

// downloads returns the report download links of a page, decoded.
func downloads(t *testing.T, page string) []*url.URL {
	t.Helper()
	var out []*url.URL
	for _, m := range reportHrefRE.FindAllStringSubmatch(page, -1) {
		href := html.UnescapeString(m[1])
		if !strings.HasPrefix(href, "/report/download") {
			continue
		}
		u, err := url.Parse(href)
		if err != nil {
			t.Fatalf("link %q: %v", href, err)
		}
		out = append(out, u)
	}
	return out
}

// The report page's download links carry the page's partnership, period
// and reading as they are (no escaped "=" or "&"), and each answers.
func TestReportDownloadLinksCarryThePagesQuery(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("governor-token")
	for _, q := range []url.Values{
		{"partnership": {f.pid.String()}, "from": {"2025-09-01"}, "to": {"2025-12-31"}},
		{"partnership": {f.pid.String()}, "year": {"2025-26"}, "as_of": {"2025-11-20"}, "reading": {"corrected"}},
	} {
		res, page := b.get("/report?" + q.Encode())
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/report?%s: %d\n%s", q.Encode(), res.StatusCode, page)
		}
		links := downloads(t, page)
		formats, tables := map[string]bool{}, 0
		for _, u := range links {
			if strings.Contains(strings.ToLower(u.RawQuery), "%3d") || strings.Contains(u.RawQuery, "%26") {
				t.Errorf("%s: the link's query is escaped twice", u)
			}
			got := u.Query()
			for k := range q {
				if got.Get(k) != q.Get(k) {
					t.Errorf("%s: %s=%q, want the page's %q", u, k, got.Get(k), q.Get(k))
				}
			}
			if tb := got.Get("table"); tb != "" {
				tables++
			} else {
				formats[got.Get("format")] = true
			}
		}
		for _, fm := range []string{"html", "md", "csv", "json"} {
			if !formats[fm] {
				t.Errorf("/report?%s offers no %s download", q.Encode(), fm)
			}
		}
		if tables == 0 {
			t.Errorf("/report?%s links no table's CSV", q.Encode())
		}
		for _, u := range links {
			res, body := b.get(u.String())
			if res.StatusCode != http.StatusOK || len(body) == 0 {
				t.Errorf("%s: %d", u, res.StatusCode)
			}
		}
	}
	// Half a period is refused.
	if res, _ := b.get("/report?from=2025-09-01"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("from without to: %d, want 400", res.StatusCode)
	}
}

// The report page reads as a governor would want: the year in numbers
// once, headings in words, no code names, every chart drawn with a title
// and a description, or a sentence saying there was nothing to chart.
func TestReportPageReadsInWords(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("governor-token")
	for _, path := range []string{"/report", "/report/download?format=html"} {
		res, page := b.get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if m := mainRE.FindString(page); m != "" {
			page = m
		}
		if n := strings.Count(page, ">The year in numbers<"); n != 1 {
			t.Errorf("%s: \"The year in numbers\" appears %d times, want once", path, n)
		}
		text := tagsRE.ReplaceAllString(hiddenRE.ReplaceAllString(page, " "), " ")
		if m := codeNameRE.FindAllString(text, -1); len(m) > 0 {
			t.Errorf("%s: a reader sees code names %q", path, m)
		}
		heads := colHeadRE.FindAllStringSubmatch(page, -1)
		if len(heads) == 0 {
			t.Errorf("%s: no table", path)
		}
		for _, h := range heads {
			if r, _ := utf8.DecodeRuneInString(html.UnescapeString(h[1])); !unicode.IsUpper(r) && r != '£' {
				t.Errorf("%s: column heading %q is not in words", path, h[1])
			}
		}
		// The fixture has ISLC members and progress ratings: those charts
		// are drawn; the others are drawn or say there was nothing.
		for _, id := range []string{"chart-membership", "chart-rag"} {
			if !chartFigure(id).MatchString(page) {
				t.Errorf("%s: no chart %s with a caption, title and description", path, id)
			}
		}
		for _, id := range []string{"chart-utilisation", "chart-costs", "chart-celebrated"} {
			if !chartFigure(id).MatchString(page) && !regexp.MustCompile(`<p class="none" id="`+id+`">No [^<]+\.</p>`).MatchString(page) {
				t.Errorf("%s: chart %s is neither drawn nor said to be empty", path, id)
			}
		}
		for _, want := range []string{"Collective reporting", "Collective accountability", "Collective celebrating", "Improvement timeline", "Valleys Learning Partnership (a cluster)"} {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
}
