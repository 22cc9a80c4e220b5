package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestFormsRecordThroughTheDomain(t *testing.T) {
	f := newFixture(t)
	community := func(c string) string { return "/communities/" + c }
	election := func(c, e string) string { return community(c) + "/elections/" + e }

	// Ben nominates Cai in the culture election; Cai accepts.
	ben := f.signIn("ben-token")
	ben.get(community(f.culture.String()))
	res, body := ben.post(election(f.culture.String(), f.nominating.String())+"/nominate", url.Values{"nominee_id": {f.cai.String()}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Your nomination of Cai Jones was recorded") || !strings.Contains(body, "Cai Jones (by Ben Morgan, pending)") {
		t.Fatalf("nominate: %d\n%s", res.StatusCode, body)
	}
	cai := f.signIn("cai-token")
	_, body = cai.get(community(f.culture.String()))
	if !strings.Contains(body, "Accept the nomination") {
		t.Fatal("the nominee is not offered to answer")
	}
	_, body = cai.post(election(f.culture.String(), f.nominating.String())+"/accept", url.Values{"answer": {"accept"}})
	if !strings.Contains(body, "Cai Jones (by Ben Morgan, accepted)") {
		t.Fatalf("accept:\n%s", body)
	}

	// Ben votes in the finance election; the turnout goes up.
	ben.get(community(f.finance.String()))
	_, body = ben.post(election(f.finance.String(), f.voting.String())+"/vote", url.Values{"candidate_id": {f.ana.String()}})
	if !strings.Contains(body, "Your vote was recorded") || !strings.Contains(body, "Turnout 1 of 4") {
		t.Fatalf("vote:\n%s", body)
	}

	// Ana, the research chair, submits the draft.
	ana := f.signIn("chair-token")
	ana.get("/proposals/" + f.draft.String())
	_, body = ana.post("/proposals/"+f.draft.String()+"/submit", url.Values{})
	if !strings.Contains(body, "submitted to the Leadership Team") || !strings.Contains(body, "<strong>submitted</strong>") {
		t.Fatalf("submit:\n%s", body)
	}

	// The Leadership Team (the Director and Ana, the research chair)
	// votes on the submitted proposal; the Director signs it off.
	vote := func() url.Values {
		return url.Values{"vote": {"approve"}, "reason": {"Clear and affordable."}, "aligned": {"yes"}, "alignment_note": {"Learners lead."}}
	}
	ana.get("/proposals/" + f.submitted.String())
	if _, body = ana.post("/proposals/"+f.submitted.String()+"/team-vote", vote()); !strings.Contains(body, "Your vote was recorded") || !strings.Contains(body, "Ana Evans: <strong>approve</strong>") {
		t.Fatalf("Ana's Team vote:\n%s", body)
	}
	dir := f.signIn("director-token")
	dir.get("/proposals/" + f.submitted.String())
	if res, body := dir.post("/proposals/"+f.submitted.String()+"/team-vote", vote()); !strings.Contains(body, "Gwen Price: <strong>approve</strong>") {
		t.Fatalf("the Director's Team vote: %d\n%s", res.StatusCode, body)
	}
	_, body = dir.post("/proposals/"+f.submitted.String()+"/resolve", url.Values{"action": {"sign_off"}, "reason": {"The Team approved it."}})
	if !strings.Contains(body, "You signed off") || !strings.Contains(body, "<strong>approved</strong> version 2") || !strings.Contains(body, "signed it off") {
		t.Fatalf("sign-off:\n%s", body)
	}

	// Ben drafts a proposal from the ISLC page.
	ben.get(community(f.research.String()))
	_, body = ben.post(community(f.research.String())+"/proposals", url.Values{"year": {year}, "title": {"Lesson study"}, "body": {"Lesson study in triads."}, "expected_impact": {"Better lessons."}, "costs": {"1,250.50"}})
	if !strings.Contains(body, "Lesson study") || !strings.Contains(body, "was drafted") {
		t.Fatalf("draft:\n%s", body)
	}

	// Cwm's head requests the minibus; the Director declines one loan
	// and approves the other.
	head := f.signIn("head-token")
	head.get("/resources")
	_, body = head.post("/resources/loans", url.Values{"resource_id": {f.minibus.String()}, "borrower_school_id": {f.cwm.String()},
		"start": {"2025-12-08T08:00"}, "end": {"2025-12-08T17:00"}, "purpose": {"Choir competition"}})
	if !strings.Contains(body, "Your loan request was recorded") || !strings.Contains(body, "Choir competition") {
		t.Fatalf("request loan:\n%s", body)
	}
	dir.get("/resources")
	_, body = dir.post("/resources/"+f.minibus.String()+"/loans/"+f.requestedLoan.String()+"/approve", url.Values{})
	if !strings.Contains(body, "The loan was approved") {
		t.Fatalf("approve:\n%s", body)
	}
	if !strings.Contains(body, "Carol concert") || strings.Count(body, ">Approve</button>") != 1 {
		t.Fatalf("after approval one loan should still wait:\n%s", body)
	}
}

func TestRejectedFormsShowTheRuleAndChangeNothing(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, token, page, path string
		form                    url.Values
		want                    []string
		status                  int
	}{
		{"vote from another school (the API's scope check)", "head-token", "/communities/" + f.finance.String(), "/communities/" + f.finance.String() + "/elections/" + f.voting.String() + "/vote",
			url.Values{"candidate_id": {f.ana.String()}}, []string{"another school"}, http.StatusForbidden},
		{"vote for someone not standing (a domain rule)", "ben-token", "/communities/" + f.finance.String(), "/communities/" + f.finance.String() + "/elections/" + f.voting.String() + "/vote",
			url.Values{"candidate_id": {f.cai.String()}}, []string{"Nothing was recorded", "Rule:"}, http.StatusUnprocessableEntity},
		{"vote for no one", "ben-token", "/communities/" + f.finance.String(), "/communities/" + f.finance.String() + "/elections/" + f.voting.String() + "/vote",
			url.Values{}, []string{"Choose one.", `aria-invalid="true"`}, http.StatusUnprocessableEntity},
		{"loan ending before it starts", "head-token", "/resources", "/resources/loans",
			url.Values{"resource_id": {f.minibus.String()}, "borrower_school_id": {f.cwm.String()}, "start": {"2025-12-09T17:00"}, "end": {"2025-12-09T08:00"}, "purpose": {"Backwards"}},
			[]string{"Nothing was recorded", `value="Backwards"`}, http.StatusUnprocessableEntity},
		{"Team vote without alignment", "director-token", "/proposals/" + f.submitted.String(), "/proposals/" + f.submitted.String() + "/team-vote",
			url.Values{"vote": {"approve"}, "reason": {"Fine."}}, []string{"Nothing was recorded", "Fine."}, http.StatusUnprocessableEntity},
		{"Team vote by someone not on the Team", "ben-token", "/proposals/" + f.submitted.String(), "/proposals/" + f.submitted.String() + "/team-vote",
			url.Values{"vote": {"approve"}, "reason": {"Fine."}, "aligned": {"yes"}, "alignment_note": {"ok"}}, []string{"Nothing was recorded", "Leadership Team"}, http.StatusForbidden},
		{"sign-off before a quorum", "director-token", "/proposals/" + f.submitted.String(), "/proposals/" + f.submitted.String() + "/resolve",
			url.Values{"action": {"sign_off"}, "reason": {"Early."}}, []string{"Nothing was recorded", "quorum"}, http.StatusConflict},
		{"submit by someone not the chair", "ben-token", "/proposals/" + f.draft.String(), "/proposals/" + f.draft.String() + "/submit",
			url.Values{}, []string{"Nothing was recorded", "not the chair in office"}, http.StatusForbidden},
		{"draft without a title", "ben-token", "/communities/" + f.research.String(), "/communities/" + f.research.String() + "/proposals",
			url.Values{"year": {year}, "body": {"No title."}, "expected_impact": {"None."}}, []string{"Nothing was recorded", "No title."}, http.StatusUnprocessableEntity},
	}
	for _, c := range cases {
		b := f.signIn(c.token)
		b.get(c.page)
		before := f.head()
		res, body := b.post(c.path, c.form)
		if res.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d\n%s", c.name, res.StatusCode, c.status, body)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page lacks %q\n%s", c.name, w, body)
			}
		}
		if got := f.head(); got != before {
			t.Errorf("%s: head = %d, want %d: a rejected form wrote events", c.name, got, before)
		}
	}
}
