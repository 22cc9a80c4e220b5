package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/api/web"
)

// TestOversizedFormsAreRefused: a form body over web.MaxFormBytes, from a
// stranger at the sign-in form or from a signed-in member voting, is
// answered 413 problem+json and records nothing; a form just under the
// limit is read as before.
func TestOversizedFormsAreRefused(t *testing.T) {
	f := newFixture(t)
	huge := strings.Repeat("x", web.MaxFormBytes+1)
	b := f.signIn("ben-token")
	for _, c := range []struct {
		name, path string
		form       url.Values
	}{
		{"sign-in", "/signin", url.Values{"token": {huge}}},
		{"vote", "/communities/" + f.finance.String() + "/elections/" + f.voting.String() + "/vote",
			url.Values{"candidate_id": {f.ana.String()}, "pad": {huge}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.head()
			if c.form.Get("csrf") == "" && b.csrf != "" {
				c.form.Set("csrf", b.csrf)
			}
			res, err := b.c.PostForm(f.srv.URL+c.path, c.form)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge || res.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s: %s %s, want 413 problem+json", c.path, res.Status, res.Header.Get("Content-Type"))
			}
			var p api.Problem
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil || p.Status != http.StatusRequestEntityTooLarge || p.Code != "too-large" {
				t.Fatalf("problem %+v %v", p, err)
			}
			if got := f.head(); got != before {
				t.Fatalf("head %d after a refused form, want %d", got, before)
			}
		})
	}
	// Under the limit the form is read (here refused by its CSRF check,
	// which needs the form parsed).
	res, body := b.post("/communities/"+f.finance.String()+"/elections/"+f.voting.String()+"/vote",
		url.Values{"csrf": {"forged"}, "pad": {strings.Repeat("x", web.MaxFormBytes/2)}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Fatalf("a form under the limit: %d %s", res.StatusCode, body)
	}
}
