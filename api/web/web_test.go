package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/concord-ledger/concord/api/web"
)

func TestSignInSessionAndSignOut(t *testing.T) {
	f := newFixture(t)
	b := &browser{t: t, f: f, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	res, _ := b.get("/schools/" + f.pant.String())
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin?next=") {
		t.Fatalf("unsigned visit: %d %s, want a redirect to /signin", res.StatusCode, res.Header.Get("Location"))
	}
	jar, _ := cookiejar.New(nil)
	b.c.Jar = jar
	// Without the sign-in form's own token (another site's form), no one is signed in.
	res, body := b.post("/signin", url.Values{"token": {f.secret["director-token"]}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "did not come from this site") {
		t.Fatalf("sign-in CSRF: %d\n%s", res.StatusCode, body)
	}
	b.get("/signin")
	res, body = b.post("/signin", url.Values{"token": {"not-a-token"}})
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unknown, revoked or expired") {
		t.Fatalf("bad token: %d\n%s", res.StatusCode, body)
	}
	b.get("/signin")
	res, _ = b.post("/signin", url.Values{"token": {f.secret["director-token"]}, "next": {"//evil.example/"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("sign in: %d to %q, want 303 to / (an off-site next is ignored)", res.StatusCode, res.Header.Get("Location"))
	}
	var c *http.Cookie
	for _, k := range res.Cookies() {
		if k.Name == "concord_session" {
			c = k
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || len(c.Value) < 40 {
		t.Fatalf("session cookie = %+v", c)
	}

	u := f.signIn("director-token")
	if _, body := u.get("/"); !strings.Contains(body, "Gwen Price") || !strings.Contains(body, "Director") {
		t.Fatalf("the signed-in person is not shown:\n%s", body)
	}
	res, _ = u.post("/signout", url.Values{})
	if res.Request.URL.Path != "/signin" {
		t.Fatalf("after sign-out landed on %s", res.Request.URL.Path)
	}
	if res, _ := u.get("/"); res.Request.URL.Path != "/signin" {
		t.Fatalf("the session still works after sign-out: %s", res.Request.URL.Path)
	}
}

func TestPostWithoutCSRFIsRefusedAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("ben-token")
	before := f.head()
	res, body := b.post("/communities/"+f.finance.String()+"/elections/"+f.voting.String()+"/vote",
		url.Values{"csrf": {"forged"}, "candidate_id": {f.ana.String()}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
		t.Fatalf("forged CSRF: %d %s", res.StatusCode, body)
	}
	if got := f.head(); got != before {
		t.Fatalf("head = %d after a refused form, want %d", got, before)
	}
}

func TestGovernorsAndAuditorsSeeNoFormsAndCannotPost(t *testing.T) {
	f := newFixture(t)
	for _, tok := range []string{"governor-token", "auditor-token"} {
		b := f.signIn(tok)
		for _, p := range []string{"/communities/" + f.culture.String(), "/communities/" + f.finance.String(), "/proposals/" + f.submitted.String(),
			"/proposals/" + f.draft.String(), "/resources"} {
			res, body := b.get(p)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d", tok, p, res.StatusCode)
			}
			// Sign-out, and for a governor the challenge forms.
			if n := strings.Count(body, `method="post"`) - strings.Count(body, `action="/challenges"`); n != 1 {
				t.Errorf("%s sees %d POST forms on %s besides challenges, want only sign-out", tok, n, p)
			}
			if tok == "auditor-token" && strings.Contains(body, `action="/challenges"`) {
				t.Errorf("an auditor is offered a challenge form on %s", p)
			}
		}
		before := f.head()
		res, body := b.post("/communities/"+f.finance.String()+"/elections/"+f.voting.String()+"/vote", url.Values{"candidate_id": {f.ana.String()}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not cast a vote") {
			t.Fatalf("%s vote: %d %s", tok, res.StatusCode, body)
		}
		if f.head() != before {
			t.Fatalf("%s's refused POST wrote events", tok)
		}
	}
	// A staff member does see them.
	if _, body := f.signIn("ben-token").get("/communities/" + f.finance.String()); !strings.Contains(body, "Cast your vote") {
		t.Fatal("staff see no vote form")
	}
}

func TestPagesShowTheLedger(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("director-token") // Director of Ysgol y Pant, lead of the partnership
	pages := []struct {
		path string
		want []string
	}{
		{"/", []string{"Valleys Learning Partnership", "Ysgol y Pant", "Gwen Price"}},
		{"/schools/" + f.pant.String(), []string{"Research, Innovation &amp; Professional Development", "Ana Evans", "Leadership Team 2025-26", "Membership over the years", `class="bar-value"`}},
		{"/communities/" + f.research.String(), []string{"Huw Governor", "Elected: Ana Evans", "Turnout 3 of 4", "Research weeks", "Journal club"}},
		{"/proposals/" + f.submitted.String(), []string{"Version 2: Research weeks", "<del>fortnights</del>", "<ins>weeks</ins>", "submitted", "Your vote as a member of the Leadership Team"}},
		{"/proposals/" + f.submitted.String() + "/replay?step=1", []string{"Ben Morgan drafted the proposal", "Step 1 of 4", "Next step"}},
		{"/proposals/" + f.submitted.String() + "/replay?step=2", []string{"revised the proposal as version 2, “Research weeks”", "<dt>Status</dt><dd>Draft</dd>"}},
		{"/proposals/" + f.submitted.String() + "/replay?step=3", []string{"Ana Evans submitted version 2", "<dt>Status</dt><dd>Submitted to the Leadership Team</dd>", "<dt>Version submitted</dt><dd>2</dd>"}},
		{"/elections/" + f.chairElection.String() + "/replay", []string{"Ana Evans was elected chair of Research", "Step 9 of 9", "Back to Research"}},
		{"/loans/" + f.overdueLoan.String() + "/replay?step=1", []string{"Sian Davies asked to borrow Minibus", "Back to Minibus"}},
		{"/proposals/" + f.corrected.String(), []string{"Changed after decision", "The title was mistyped", "See it as corrected now", "Reading corners"}},
		{"/proposals/" + f.corrected.String() + "?reading=corrected", []string{"Reading nooks", "as corrected now", "See it as it was recorded"}},
		{"/resources", []string{"Minibus (17 seats)", "Overdue loans", "Year 6 trip to the Big Pit", "Carol concert", "Request a loan"}},
		{"/resources?school=" + f.cwm.String(), []string{"Carol concert", `value="` + f.cwm.String() + `" selected`, "2 loans."}},
		{"/progress", []string{`<table class="heatmap">`, `class="heat heat-amber"`, "Numeracy", "Year 7", "AMBER", "improved"}},
		{"/accountability", []string{"Peer-review follow-ups", "Celebrating"}},
		{"/audit", []string{`<option value="SchoolRegistered">School registered</option>`, "Chair elected", "/verify/proof/"}},
		{"/audit?type=LoanRequested", []string{`<strong title="LoanRequested">Loan requested</strong>`}},
		{"/report", []string{"Downloads", "format=md"}},
		{"/verify", []string{"Latest signed checkpoint", "concord verify"}},
		{"/verify/proof/3", []string{"Verified:"}},
	}
	for _, p := range pages {
		res, body := b.get(p.path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d\n%s", p.path, res.StatusCode, body)
			continue
		}
		for _, w := range p.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q\n%s", p.path, w, body)
			}
		}
		for _, w := range []string{`lang="en-GB"`, `class="skip" href="#main"`, `<main id="main"`, `name="as_of"`} {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q", p.path, w)
			}
		}
	}
	if _, body := b.get("/audit?type=LoanRequested"); strings.Contains(body, `<strong title="ChairElected">`) {
		t.Error("the audit filter lets other event types through")
	}
	for _, p := range []string{"/schools/" + f.cai.String(), "/proposals/not-an-id", "/resources?school=nope", "/resources?page=0", "/audit?as_of=yesterday", "/verify/proof/999999"} {
		if res, _ := b.get(p); res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 404 or 400", p, res.StatusCode)
		}
	}
}

func TestAsOfShowsThePastWithABannerAndNoForms(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("ben-token")
	// On 10 September, before any proposal was drafted.
	res, body := b.get("/communities/" + f.research.String() + "?as_of=2025-09-10")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("as of: %d", res.StatusCode)
	}
	if !strings.Contains(body, "Looking at the past") || strings.Contains(body, "Research weeks") || !strings.Contains(body, "Elected: Ana Evans") {
		t.Fatalf("as of 10 September:\n%s", body)
	}
	if strings.Count(body, `method="post"`) != 1 {
		t.Fatal("forms are offered in the past")
	}
	// Links keep the reading.
	if !strings.Contains(body, "as_of=2025-09-10") {
		t.Fatal("links drop the as-of reading")
	}
	// At position 1 only the first school exists.
	_, body = b.get("/?position=1")
	if !strings.Contains(body, "Ysgol y Pant") || strings.Contains(body, "Cwm Primary") || !strings.Contains(body, "ledger position 1") {
		t.Fatalf("as of position 1:\n%s", body)
	}
	_, body = b.get("/?reading=corrected")
	if !strings.Contains(body, "as corrected now") {
		t.Fatal("no banner for the corrected reading")
	}
}

func TestReportDownloads(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("governor-token")
	for format, ctype := range map[string]string{"html": "text/html", "md": "text/markdown", "json": "application/json", "csv": "application/zip"} {
		res, body := b.get("/report/download?format=" + format)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) || len(body) == 0 ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s: %d %s %q", format, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
		}
	}
	if res, _ := b.get("/report/download?format=pdf"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("pdf: %d, want 400", res.StatusCode)
	}
}

func TestPagesOfAnotherSchoolAreRefused(t *testing.T) {
	f := newFixture(t)
	head := f.signIn("head-token") // scoped to Cwm Primary
	for _, p := range []string{"/schools/" + f.pant.String(), "/communities/" + f.research.String(), "/proposals/" + f.submitted.String(),
		"/proposals/" + f.submitted.String() + "/replay", "/audit?school=" + f.pant.String()} {
		if res, body := head.get(p); res.StatusCode != http.StatusForbidden || !strings.Contains(body, "another school") {
			t.Errorf("%s: %d, want 403", p, res.StatusCode)
		}
	}
	if _, body := head.get("/"); strings.Contains(body, "Ysgol y Pant</a>") || !strings.Contains(body, "Cwm Primary</a>") {
		t.Error("the overview lists schools outside the token's scope")
	}
	if _, body := head.get("/audit"); strings.Contains(body, "ChairElected</strong>") {
		t.Error("the audit log shows another school's events")
	}
	// The system administrator reads no school's records.
	if res, _ := f.signIn("admin-token").get("/schools/" + f.cwm.String()); res.StatusCode != http.StatusForbidden {
		t.Errorf("the administrator read a school's page: %d, want 403", res.StatusCode)
	}
}

func TestLiveFeedRelaysTheAPIsStream(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("director-token")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/live?from=2", nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	for sc.Scan() && len(lines) < 40 {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "data:") {
			break
		}
	}
	got := strings.Join(lines, "\n")
	if !strings.Contains(got, "\nid: ") || !strings.Contains(got, "data:") || strings.Contains(got, "event:") {
		t.Fatalf("the relayed feed starts:\n%s", got)
	}
	// Without a session there is no feed.
	anon, err := http.Get(f.srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	anon.Body.Close()
	if anon.Request.URL.Path != "/signin" {
		t.Fatalf("an unsigned visitor reached the feed: %s", anon.Request.URL.Path)
	}
}

func TestSessionCookieIsSecureBehindTLS(t *testing.T) {
	f := newFixture(t)
	get, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/signin", nil)
	get.Header.Set("X-Forwarded-Proto", "https")
	res, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var signin *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "concord_signin" {
			signin = c
		}
	}
	if signin == nil || !signin.Secure || !signin.HttpOnly {
		t.Fatalf("sign-in cookie = %+v", signin)
	}
	form := url.Values{"token": {f.secret["governor-token"]}, "csrf": {signin.Value}}
	post, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/signin", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("X-Forwarded-Proto", "https")
	post.AddCookie(signin)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = c.Do(post)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, k := range res.Cookies() {
		if k.Name == "concord_session" && k.Secure && k.HttpOnly && k.SameSite == http.SameSiteLaxMode {
			return
		}
	}
	t.Fatalf("no Secure, HttpOnly, SameSite session cookie: %v", res.Cookies())
}

// A session checks its token on every request: once the token is revoked
// the browser is sent to sign in again and its forms record nothing.
func TestRevokedTokenEndsTheSession(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("ben-token")
	if res, _ := b.get("/communities/" + f.finance.String()); res.Request.URL.Path == "/signin" {
		t.Fatal("not signed in")
	}
	var id string
	list, err := f.tokens.List(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range list {
		if info.PersonID == f.ben {
			id = info.ID
		}
	}
	if _, err := f.tokens.Revoke(f.ctx, id); err != nil {
		t.Fatal(err)
	}
	if res, _ := b.get("/communities/" + f.finance.String()); res.Request.URL.Path != "/signin" {
		t.Fatalf("after the token was revoked the session still shows %s", res.Request.URL.Path)
	}
	before := f.head()
	res, _ := b.post("/communities/"+f.finance.String()+"/elections/"+f.voting.String()+"/vote", url.Values{"candidate_id": {f.ana.String()}})
	if res.StatusCode != http.StatusUnauthorized || f.head() != before {
		t.Fatalf("a revoked session's vote: %d, head %d → %d; want 401 and nothing written", res.StatusCode, before, f.head())
	}
}

// A session ends SessionMaxAge after signing in, however busy.
func TestSessionHasAnAbsoluteLifetime(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("ben-token")
	start := f.clock.Now()
	for at := start.Add(web.SessionTTL / 2); at.Before(start.Add(web.SessionMaxAge)); at = at.Add(web.SessionTTL / 2) {
		f.clock.Set(at)
		if res, _ := b.get("/"); res.Request.URL.Path == "/signin" {
			t.Fatalf("the session ended at %v, before its absolute end", at.Sub(start))
		}
	}
	f.clock.Set(start.Add(web.SessionMaxAge + time.Minute))
	if res, _ := b.get("/"); res.Request.URL.Path != "/signin" {
		t.Fatal("the session outlived its absolute lifetime")
	}
}

// After signing in, the browser goes back only to a path of this site.
func TestSignInNextStaysOnTheSite(t *testing.T) {
	f := newFixture(t)
	for next, want := range map[string]string{
		"/schools/x?y=1":       "/schools/x?y=1",
		"//evil.example/":      "/",
		"/\t/evil.example":     "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"/\n/evil.example":     "/",
		"/ok path":             "/",
		"javascript:alert(1)":  "/",
	} {
		b := &browser{t: t, f: f, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		jar, _ := cookiejar.New(nil)
		b.c.Jar = jar
		b.get("/signin")
		res, _ := b.post("/signin", url.Values{"token": {f.secret["ben-token"]}, "next": {next}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("next %q: %d to %q, want 303 to %q", next, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}
