package web_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var (
	stepHeadRE = regexp.MustCompile(`(?s)<h2 id="ev-h">(.*?)</h2>`)
	stepListRE = regexp.MustCompile(`(?s)<li[^>]*><a href="[^"]*replay\?step=\d+">([^<]*)</a>`)
	// camelRE is an event type name such as ProposalReturned.
	camelRE = regexp.MustCompile(`\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b`)
)

// Every replay the fixture offers (a proposal decided after a
// correction, one submitted, the election of a chair, a loan collected
// and one requested) is told in words: each step's heading is the
// sentence the rules give, in order; the state is labelled fields; no
// page shows a raw structure, a zero date, an event type name as a
// heading, or "(s)" for a plural.
func TestReplaysAreToldInWords(t *testing.T) {
	f := newFixture(t)
	b := f.signIn("governor-token")
	const research = "Research, Innovation & Professional Development"
	for _, c := range []struct {
		path  string
		steps []string
		// fields are labelled values of the state after the last step.
		fields map[string]string
	}{
		{"/proposals/" + f.submitted.String() + "/replay", []string{
			"Ben Morgan drafted the proposal “Research fortnights” for " + research,
			"Ben Morgan revised the proposal as version 2, “Research weeks”",
			"Ana Evans submitted version 2 to the Leadership Team",
			"The Leadership Team's vote on version 2 opened (round 1, 2 members)",
		}, map[string]string{"Title": "Research weeks", "Status": "Submitted to the Leadership Team", "Current version": "2", "Version submitted": "2", "Advice": "none yet"}},
		{"/proposals/" + f.corrected.String() + "/replay", []string{
			"Cai Jones drafted the proposal “Reading corners” for " + research,
			"Ana Evans submitted version 1 to the Leadership Team",
			"The Leadership Team's vote on version 1 opened (round 1, 2 members)",
			"Ana Evans voted to approve the proposal",
			"Gwen Price voted to approve the proposal",
			"The Leadership Team's vote closed: 2 to approve, 0 to send back, 2 of 2 voted",
			"Gwen Price signed off the Leadership Team's decision to approve the proposal",
			"The Leadership Team approved version 1 of the proposal",
			"An administrator corrected an earlier step",
		}, map[string]string{"Status": "Approved"}},
		{"/elections/" + f.chairElection.String() + "/replay", []string{
			"An administrator opened the election of the chair of " + research + " for 2025-26 (secret ballot, 4 electors)",
			"Ana Evans stood for chair",
			"Ana Evans accepted the nomination",
			"Voting opened with 1 candidate: Ana Evans",
			"Ana Evans cast a secret vote",
			"Ben Morgan cast a secret vote",
			"Cai Jones cast a secret vote",
			"The election closed: 3 of 4 voted",
			"Ana Evans was elected chair of " + research + " for 2025-26",
		}, map[string]string{"Status": "Closed", "Ballot": "Secret", "Electors": "4 members", "Votes": "Ana Evans 3 votes", "Elected chair": "Ana Evans"}},
		{"/loans/" + f.overdueLoan.String() + "/replay", []string{
			"Sian Davies asked to borrow Minibus (17 seats) for Cwm Primary",
			"Gwen Price approved the loan of Minibus (17 seats) to Cwm Primary",
			"Sian Davies collected Minibus (17 seats) for Cwm Primary",
		}, map[string]string{"Resource": "Minibus (17 seats)", "Owned by": "Ysgol y Pant", "Borrowed by": "Cwm Primary", "From": "6 Oct 2025 08:00",
			"Until": "6 Oct 2025 16:00", "Purpose": "Year 6 trip to the Big Pit", "Status": "Collected, not yet returned", "Collected": "6 Oct 2025 08:00"}},
		{"/loans/" + f.requestedLoan.String() + "/replay", []string{
			"Sian Davies asked to borrow Minibus (17 seats) for Cwm Primary",
		}, map[string]string{"Status": "Requested", "Purpose": "Carol concert"}},
	} {
		for n := 1; n <= len(c.steps); n++ {
			path := fmt.Sprintf("%s?step=%d", c.path, n)
			res, page := b.get(path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", path, res.StatusCode)
			}
			main := page
			if m := mainRE.FindString(page); m != "" {
				main = m
			}
			for _, bad := range []string{`{"`, `{&#34;`, "0001-01-01", "(s)", "0001"} {
				if strings.Contains(main, bad) {
					t.Errorf("%s shows %q", path, bad)
				}
			}
			h := stepHeadRE.FindStringSubmatch(main)
			if h == nil {
				t.Fatalf("%s: no step heading", path)
			}
			head := html.UnescapeString(h[1])
			if want := c.steps[n-1] + "."; head != want {
				t.Errorf("%s: heading %q, want %q", path, head, want)
			}
			if m := camelRE.FindString(head); m != "" {
				t.Errorf("%s: the heading names %q", path, m)
			}
			var list []string
			for _, m := range stepListRE.FindAllStringSubmatch(main, -1) {
				list = append(list, strings.TrimSuffix(html.UnescapeString(m[1]), "."))
			}
			if strings.Join(list, "\n") != strings.Join(c.steps, "\n") {
				t.Errorf("%s lists the steps\n%s\nwant\n%s", path, strings.Join(list, "\n"), strings.Join(c.steps, "\n"))
			}
			for _, l := range list {
				if m := camelRE.FindString(l); m != "" {
					t.Errorf("%s: a step is named %q", path, m)
				}
			}
			if n < len(c.steps) {
				continue
			}
			for label, value := range c.fields {
				want := "<dt>" + html.EscapeString(label) + "</dt><dd>" + html.EscapeString(value) + "</dd>"
				if !strings.Contains(main, want) {
					t.Errorf("%s lacks the field %s = %q", path, label, value)
				}
			}
		}
	}
}
