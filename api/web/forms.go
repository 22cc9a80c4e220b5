package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/domain/governance"
)

// The forms read their fields and run the command through the API's route
// for it (apiCommand), which calls the domain service; every rule is the
// domain's and every role and scope check the API's. Form names tie a rejection to the form
// it came from so the page shows it there; field names are the commands'
// JSON names, which is what a domain rejection's Field says.

func formID(rq *req, field string, required bool) (uuid.UUID, error) {
	s := strings.TrimSpace(rq.r.PostForm.Get(field))
	if s == "" {
		if required {
			return uuid.Nil, fieldError{field, "Choose one."}
		}
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fieldError{field, "This is not a valid choice."}
	}
	return id, nil
}

// formTime reads a datetime-local (or date) field as UTC.
func formTime(rq *req, field string) (time.Time, error) {
	s := strings.TrimSpace(rq.r.PostForm.Get(field))
	if s == "" {
		return time.Time{}, fieldError{field, "Enter a date and time."}
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fieldError{field, "Enter a date and time like 2025-10-06 09:00."}
}

func electionIDs(rq *req) (community, election uuid.UUID, err error) {
	if community, err = pathID(rq, "id"); err != nil {
		return
	}
	election, err = pathID(rq, "eid")
	return
}

func (st *site) nominate(rq *req) (string, string, error) {
	_, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "nominate-" + e.String()
	nominee, err := formID(rq, "nominee_id", true)
	if err != nil {
		return name, "", err
	}
	err = st.apiCommand(rq, "/v1/elections/"+e.String()+"/nominations", map[string]any{"nominee_id": nominee})
	return name, "Your nomination of " + rq.names.Name(nominee) + " was recorded.", err
}

func (st *site) accept(rq *req) (string, string, error) {
	_, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "accept-" + e.String()
	path := "/v1/elections/" + e.String() + "/nominations/" + rq.p.PersonID.String()
	if rq.r.PostForm.Get("answer") == "decline" {
		return name, "You declined the nomination.", st.apiCommand(rq, path+"/decline", nil)
	}
	return name, "You accepted the nomination: you stand for chair.", st.apiCommand(rq, path+"/accept", nil)
}

func (st *site) vote(rq *req) (string, string, error) {
	_, e, err := electionIDs(rq)
	if err != nil {
		return "", "", err
	}
	name := "vote-" + e.String()
	cand, err := formID(rq, "candidate_id", true)
	if err != nil {
		return name, "", err
	}
	return name, "Your vote was recorded.", st.apiCommand(rq, "/v1/elections/"+e.String()+"/votes", map[string]any{"candidate_id": cand})
}

func (st *site) draftProposal(rq *req) (string, string, error) {
	c, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	const name = "draft"
	f := rq.r.PostForm
	body := map[string]any{"community_id": c, "year": strings.TrimSpace(f.Get("year")), "title": strings.TrimSpace(f.Get("title")),
		"body": strings.TrimSpace(f.Get("body")), "expected_impact": strings.TrimSpace(f.Get("expected_impact"))}
	if s := strings.TrimSpace(f.Get("costs")); s != "" {
		pence, ok := parsePounds(s)
		if !ok {
			return name, "", fieldError{"costs", "Enter an amount in pounds, like 1250 or 1250.50."}
		}
		body["costs"] = governance.Money{AmountMinor: pence, Currency: "GBP"}
	}
	if err := st.apiCommand(rq, "/v1/proposals", body); err != nil {
		return name, "", err
	}
	return name, "The proposal “" + body["title"].(string) + "” was drafted. Submit it to the Leadership Team from its page.", nil
}

// parsePounds reads "1250", "1,250.50" or "£1250.5" as pence.
func parsePounds(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "£"), ",", "")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, false
	}
	var n int64
	for _, r := range whole + (frac + "00")[:2] {
		if r < '0' || r > '9' || n > 1e15 {
			return 0, false
		}
		n = n*10 + int64(r-'0')
	}
	return n, true
}

func (st *site) submitProposal(rq *req) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	return "submit", "The proposal was submitted to the Leadership Team.", st.apiCommand(rq, "/v1/proposals/"+id.String()+"/submit", nil)
}

func (st *site) decideProposal(rq *req) (string, string, error) {
	id, err := pathID(rq, "id")
	if err != nil {
		return "", "", err
	}
	const name = "decide"
	f := rq.r.PostForm
	body := map[string]any{"reason": strings.TrimSpace(f.Get("reason")), "alignment_note": strings.TrimSpace(f.Get("alignment_note"))}
	switch f.Get("aligned") {
	case "yes":
		body["aligned"] = true
	case "no":
		body["aligned"] = false
	}
	flash := ""
	switch f.Get("outcome") {
	case "approve":
		flash = "The Leadership Team's approval was recorded."
	case "return":
		flash = "The proposal was returned to its ISLC for revision."
	default:
		return name, "", fieldError{"outcome", "Choose approve or return."}
	}
	body["outcome"] = f.Get("outcome")
	return name, flash, st.apiCommand(rq, "/v1/proposals/"+id.String()+"/decision", body)
}

func (st *site) requestLoan(rq *req) (string, string, error) {
	const name = "loan"
	res, err := formID(rq, "resource_id", true)
	if err != nil {
		return name, "", err
	}
	borrower, err := formID(rq, "borrower_school_id", true)
	if err != nil {
		return name, "", err
	}
	start, err := formTime(rq, "start")
	if err != nil {
		return name, "", err
	}
	end, err := formTime(rq, "end")
	if err != nil {
		return name, "", err
	}
	err = st.apiCommand(rq, "/v1/resources/"+res.String()+"/loans", map[string]any{"borrower_school_id": borrower,
		"start": start, "end": end, "purpose": strings.TrimSpace(rq.r.PostForm.Get("purpose"))})
	return name, "Your loan request was recorded; the owning school will answer it.", err
}

func loanIDs(rq *req) (res, loan uuid.UUID, err error) {
	if res, err = pathID(rq, "rid"); err != nil {
		return
	}
	loan, err = pathID(rq, "lid")
	return
}

func (st *site) approveLoan(rq *req) (string, string, error) {
	res, loan, err := loanIDs(rq)
	if err != nil {
		return "", "", err
	}
	return "answer-" + loan.String(), "The loan was approved.", st.apiCommand(rq, "/v1/loans/"+loan.String()+"/approve", map[string]any{"resource_id": res})
}

func (st *site) declineLoan(rq *req) (string, string, error) {
	res, loan, err := loanIDs(rq)
	if err != nil {
		return "", "", err
	}
	return "answer-" + loan.String(), "The loan was declined.", st.apiCommand(rq, "/v1/loans/"+loan.String()+"/decline", map[string]any{"resource_id": res})
}

// apiCommand runs a form's command through the API's own route, as the
// signed-in person: the route's role check, its scope checks ("who is
// asking"), strict decoding, the metadata api.Meta builds (the form's
// reason field as X-Concord-Reason) and the domain service behind it. So a
// form can do exactly what the same person could do with their token, and
// no rule is checked twice. A refusal comes back as the API's *api.Problem.
func (st *site) apiCommand(rq *req, path string, body any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encode the command for %s: %w", path, err)
		}
	}
	// A fresh routing context: chi would otherwise reuse (and overwrite)
	// the page request's.
	ctx := context.WithValue(rq.ctx, chi.RouteCtxKey, (*chi.Context)(nil))
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("build the command for %s: %w", path, err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if reason := strings.TrimSpace(rq.r.PostForm.Get("reason")); reason != "" {
		r.Header.Set("X-Concord-Reason", reason)
	}
	if id := api.RequestID(rq.ctx); id != "" {
		r.Header.Set("X-Request-ID", id)
	}
	r.RemoteAddr = rq.r.RemoteAddr
	w := &captured{header: http.Header{}}
	st.s.ServeHTTP(w, r)
	if w.status >= 200 && w.status < 300 {
		return nil
	}
	p := &api.Problem{}
	if err := json.Unmarshal(w.body.Bytes(), p); err != nil || p.Status == 0 {
		return fmt.Errorf("the command at %s answered %d: %s", path, w.status, w.body.String())
	}
	return p
}

// captured is a ResponseWriter that keeps an internal command's answer.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captured) Header() http.Header { return c.header }
func (c *captured) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *captured) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
