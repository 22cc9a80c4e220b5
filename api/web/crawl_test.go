package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
)

var hrefRE = regexp.MustCompile(`href="(/[^"#]*)`)

// TestCrawlTheDemo follows every link from the overview of a generated
// demo partnership (two schools, two years), as a governor and as the
// Director: every page answers 200, and the governor meets no form.
func TestCrawlTheDemo(t *testing.T) {
	base := demoServer(t)

	for _, tok := range []string{"governor", "director"} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		res, err := c.Get(base + "/signin")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfRE.FindSubmatch(page)
		if m == nil {
			t.Fatal("the sign-in page has no CSRF field")
		}
		res, err = c.PostForm(base+"/signin", map[string][]string{"token": {tok}, "csrf": {string(m[1])}})
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
			res, err := c.Get(base + p)
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
