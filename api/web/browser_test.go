package web_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/governance"
)

// findChromium returns the path of a Chromium or Chrome binary, or skips
// the test (fails it when CONCORD_REQUIRE_BROWSER=1, as in CI).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CONCORD_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium is required (CONCORD_REQUIRE_BROWSER=1) but none was found on PATH: install it with apt-get install -y chromium")
	}
	t.Skip("chromium is missing, so the browser tests are skipped: install it with `apt-get install -y chromium` (or set CONCORD_REQUIRE_BROWSER=1 to make this a failure)")
	return ""
}

// TestInABrowser drives the pages in headless Chromium: it signs in as each
// role, walks the pages, submits every form (and a rejected one), checks
// that governors and auditors see no forms, and saves screenshots of the
// main pages to $CONCORD_SCREENSHOTS when set, each checked with axe-core
// when it is installed.
func TestInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := findChromium(t)
	f := newFixture(t)
	shots := os.Getenv("CONCORD_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), chromedp.Flag("headless", "new"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	base := f.srv.URL
	// The first call starts the browser and must not carry a timeout.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/signin")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 100*time.Second)
	defer cancel()

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	textOf := func(sel string) string {
		t.Helper()
		// A node found just before the document is replaced (the last
		// moments of a navigation) is gone when its text is asked for:
		// ask again, a few times.
		var err error
		for range 5 {
			var s string
			if s, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel))); err == nil {
				return s
			}
			if !strings.Contains(err.Error(), "No node with given id") {
				break
			}
		}
		t.Fatalf("text of %s: %v", sel, err)
		return ""
	}
	mainText := func(path string) string {
		t.Helper()
		run("open "+path, chromedp.Navigate(base+path))
		return textOf("main")
	}
	postForms := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[method="post"]').length`))
		if err != nil {
			t.Fatalf("count forms: %v", err)
		}
		return n
	}
	challengeForms := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action="/challenges"]').length`))
		if err != nil {
			t.Fatalf("count challenge forms: %v", err)
		}
		return n
	}
	// Each page shot is also checked with axe-core when it is installed
	// (TestAccessibilityInABrowser requires it in CI).
	axe, _, _ := loadAxe()
	page := &chrome{t: t, ctx: ctx, base: base, shots: shots, axe: axe}
	shoot := func(name string) {
		t.Helper()
		page.checkAxe(name)
		page.shoot(name)
	}
	signIn := func(token string) {
		t.Helper()
		run("sign in "+token, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS("#token")),
			chromedp.SendKeys(chromedp.CSS("#token"), f.secret[token]), chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitVisible(chromedp.CSS("header .who button")))
	}
	signOut := func() {
		t.Helper()
		run("sign out", chromedp.Click(chromedp.CSS("header .who button")), chromedp.WaitVisible(chromedp.CSS("#token")))
	}
	expect := func(got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("the page lacks %q:\n%s", w, got)
			}
		}
	}
	submitAndRead := func(what, button, wait string) string {
		t.Helper()
		// The page's own notices go first, so that waiting for one waits
		// for the next page's, not this one's.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll('.flash, .error').forEach(e => e.remove()); true`)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		run(what, chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS(wait)))
		return textOf("main")
	}

	// Anyone unsigned lands on the sign-in page.
	run("unsigned", chromedp.Navigate(base+"/"))
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(title, "Sign in") {
		t.Fatalf("unsigned visit shows %q", title)
	}
	shoot("signin")

	// A governor reads everything and is offered no form.
	signIn("governor-token")
	pages := []struct{ name, path, want string }{
		{"overview", "/", "Valleys Learning Partnership"},
		{"school", "/schools/" + f.pant.String(), "Leadership Team 2025-26"},
		{"community", "/communities/" + f.research.String(), "Elected: Ana Evans"},
		{"proposal", "/proposals/" + f.submitted.String(), "Version 2: Research weeks"},
		{"replay", "/proposals/" + f.submitted.String() + "/replay?step=2", "Step 2 of 4"},
		{"resources", "/resources", "Overdue loans"},
		{"progress", "/progress", "Numeracy"},
		{"accountability", "/accountability", "Peer-review follow-ups"},
		{"audit", "/audit", "Chair elected"},
		{"report", "/report", "Downloads"},
		{"verify", "/verify", "Latest signed checkpoint"},
		{"proof", "/verify/proof/3", "Verified:"},
		{"past", "/communities/" + f.research.String() + "?as_of=2025-09-10", "Looking at the past"},
	}
	for _, p := range pages {
		run("open "+p.path, chromedp.Navigate(base+p.path))
		body := textOf("body")
		expect(body, p.want)
		if n := postForms() - challengeForms(); n != 1 {
			t.Errorf("a governor sees %d POST forms on %s besides challenges, want only sign-out", n, p.path)
		}
		shoot(p.name)
	}
	signOut()

	// An auditor too.
	signIn("auditor-token")
	mainText("/communities/" + f.finance.String())
	if n := postForms(); n != 1 {
		t.Errorf("an auditor sees %d POST forms", n)
	}
	signOut()

	// A staff member of another school may request a loan of the minibus.
	signIn("head-token")
	mainText("/resources")
	shoot("resources-loan-form")
	run("fill loan", chromedp.SetValue(chromedp.CSS("#l-start"), "2025-12-08T08:00"), chromedp.SetValue(chromedp.CSS("#l-end"), "2025-12-08T17:00"),
		chromedp.SendKeys(chromedp.CSS("#l-purpose"), "Choir competition"))
	expect(submitAndRead("request loan", `form[action="/resources/loans"] button[type=submit]`, ".flash"), "Your loan request was recorded", "Choir competition")
	signOut()

	// Staff vote and nominate.
	signIn("ben-token")
	mainText("/communities/" + f.finance.String())
	shoot("community-vote-form")
	run("choose", chromedp.Click(chromedp.CSS(`form[action$="/vote"] input[value="`+f.ana.String()+`"]`)))
	expect(submitAndRead("vote", `form[action$="/vote"] button[type=submit]`, ".flash"), "Your vote was recorded", "Turnout 1 of 4")
	// Voting twice breaks a rule: the rule shows next to the form and
	// nothing is recorded.
	before := f.head()
	run("choose again", chromedp.Click(chromedp.CSS(`form[action$="/vote"] input[value="`+f.ben.String()+`"]`)))
	expect(submitAndRead("vote again", `form[action$="/vote"] button[type=submit]`, ".error"), "Nothing was recorded", "Turnout 1 of 4")
	shoot("rejected-vote")
	if f.head() != before {
		t.Fatal("a rejected vote wrote events")
	}
	mainText("/communities/" + f.culture.String())
	run("choose nominee", chromedp.SetValue(chromedp.CSS(`#nominee-`+f.nominating.String()), f.cai.String()))
	expect(submitAndRead("nominate", `form[action$="/nominate"] button[type=submit]`, ".flash"), "Your nomination of Cai Jones was recorded")
	signOut()

	// The nominee accepts.
	signIn("cai-token")
	mainText("/communities/" + f.culture.String())
	expect(submitAndRead("accept", `form[action$="/accept"] button[value=accept]`, ".flash"), "Cai Jones (by Ben Morgan, accepted)")
	signOut()

	// The chair submits the draft, and votes on the submitted proposal as
	// a member of the Leadership Team.
	teamVote := func(who string) {
		t.Helper()
		mainText("/proposals/" + f.submitted.String())
		run(who+" votes", chromedp.Click(chromedp.CSS("#o-approve")), chromedp.SendKeys(chromedp.CSS("#d-reason"), "Clear and affordable."),
			chromedp.Click(chromedp.CSS("#a-yes")), chromedp.SendKeys(chromedp.CSS("#d-note"), "Learners lead."))
		expect(submitAndRead(who+"'s vote", `form[action$="/team-vote"] button[type=submit]`, ".flash"), "Your vote was recorded")
	}
	signIn("chair-token")
	mainText("/proposals/" + f.draft.String())
	shoot("proposal-draft-chair")
	expect(submitAndRead("submit", `form[action$="/submit"] button[type=submit]`, ".flash"), "submitted to the Leadership Team")
	teamVote("the chair")
	signOut()

	// The Director votes, signs the Team's decision off, and approves the
	// waiting loan.
	signIn("director-token")
	teamVote("the Director")
	shoot("proposal-sign-off-form")
	run("sign-off reason", chromedp.SendKeys(chromedp.CSS("#r-reason"), "The Team approved it."))
	expect(submitAndRead("sign off", `form[action$="/resolve"] button[value=sign_off]`, ".flash"), "You signed off", "approved")
	shoot("proposal-decided")
	mainText("/resources")
	expect(submitAndRead("approve loan", `form[action$="/loans/`+f.requestedLoan.String()+`/approve"] button`, ".flash"), "The loan was approved")
	shoot("resources-after")
	mainText("/accountability")
	shoot("accountability-director")

	// A live page says when the ledger moves on (static/live.js over the
	// API's feed).
	mainText("/")
	f.must(f.l.Governance.RegisterStaff(f.ctx, adminMeta, governance.RegisterStaff{PersonID: uuid.New(), SchoolID: f.pant, Kind: governance.StaffEducator,
		PersonDetails: governance.PersonDetails{Name: "Nia Newcomer"}}))
	run("live notice", chromedp.WaitVisible(chromedp.CSS("#live a")))
	expect(textOf("#live"), "been recorded since this page was drawn")
	signOut()
}
