package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain/partnership"
)

// TestPartnershipWork walks the rest of a partnership's year over HTTP —
// a secondment, CPD with bookings, a peer review with a finding and a
// follow-up, a priority with a commitment, an improvement timeline,
// costs, a progress rating and a recognition — and reads each back, each
// step done by whoever the ledger says may, and refused to others.
func TestPartnershipWork(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	now := w.now
	day := now.Truncate(24 * time.Hour)
	P := y.partnership.String()
	// School C in another partnership, led by its Director.
	_, _, tDirectorC := w.school("East School", "Cato Director", y.year)
	p2 := uuid.New()
	w.ok("admin", "/v1/partnerships", map[string]any{"partnership_id": p2, "name": "Hill Partnership", "kind": "cluster"})
	w.ok("admin", "/v1/partnerships/"+p2.String()+"/lead", map[string]any{"lead_id": w.auth[tDirectorC].PersonID})
	if err := w.l.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A secondment of S3 from A to B, then cancelled before it starts.
	sec := uuid.New()
	w.ok(y.tDirector, "/v1/secondments", map[string]any{"secondment_id": sec, "partnership_id": y.partnership, "teacher_id": y.s3,
		"lending_school_id": y.schoolA, "receiving_school_id": y.schoolB, "subject": "Physics",
		"start": day.AddDate(0, 0, 30), "end": day.AddDate(0, 0, 60), "fraction": 0.5})
	var se struct {
		Teacher struct {
			ID uuid.UUID `json:"id"`
		} `json:"teacher"`
		Fraction float64 `json:"fraction"`
	}
	w.get(y.tB, "/v1/secondments/"+sec.String(), &se)
	if se.Teacher.ID != y.s3 || se.Fraction != 0.5 {
		t.Errorf("secondment = %+v, want S3 at 0.5", se)
	}
	// Staff of school B is not its Director; the Director of a school
	// outside the partnership may not either.
	w.refused(y.tB, "/v1/secondments/"+sec.String()+"/cancel", nil, http.StatusForbidden)
	w.refused(tDirectorC, "/v1/secondments/"+sec.String()+"/cancel", nil, http.StatusForbidden)
	w.ok(y.tDirector, "/v1/secondments/"+sec.String()+"/cancel", nil)

	// CPD organised by A, booked by B, the booking cancelled.
	cpd, booking := uuid.New(), uuid.New()
	w.ok(y.tS1, "/v1/cpd", map[string]any{"cpd_id": cpd, "partnership_id": y.partnership, "organiser_school_id": y.schoolA,
		"kind": "cpd", "title": "Questioning that makes pupils think", "starts_at": day.AddDate(0, 0, 5).Add(15 * time.Hour),
		"ends_at": day.AddDate(0, 0, 5).Add(17 * time.Hour), "places": 10, "cost_per_place_pence": 2500})
	w.refused(y.tB, "/v1/cpd/"+cpd.String()+"/bookings", map[string]any{"booking_id": booking, "school_id": y.schoolA, "places": 2}, http.StatusForbidden)
	w.ok(y.tB, "/v1/cpd/"+cpd.String()+"/bookings", map[string]any{"booking_id": booking, "school_id": y.schoolB, "places": 2})
	var ev struct {
		Booked  int `json:"places_booked"`
		Offered int `json:"places_offered"`
	}
	w.get(y.tS2, "/v1/cpd/"+cpd.String(), &ev)
	if ev.Booked != 2 || ev.Offered != 10 {
		t.Errorf("CPD event = %+v, want 2 of 10 booked", ev)
	}
	// A's staff organised the event but the booking is B's to cancel.
	w.refused(y.tS1, "/v1/cpd/"+cpd.String()+"/bookings/"+booking.String()+"/cancel", nil, http.StatusForbidden)
	w.ok(y.tB, "/v1/cpd/"+cpd.String()+"/bookings/"+booking.String()+"/cancel", nil)
	var cpdList CPDData
	w.get(y.tDirector, "/v1/cpd?partnership="+P, &cpdList)
	if len(cpdList.Events) != 1 || cpdList.Events[0].Booked != 0 {
		t.Errorf("CPD list = %+v, want one event with nothing booked", cpdList.Events)
	}

	// A peer review of B by S1, scheduled by A's Director, with a finding
	// and a follow-up action that B agrees and completes.
	review, action := uuid.New(), uuid.New()
	reviewBody := map[string]any{"review_id": review, "partnership_id": y.partnership, "reviewed_school_id": y.schoolB,
		"reviewer_ids": []uuid.UUID{y.s1}, "focus_areas": []string{"Reading"}, "on": day}
	if p := w.refused("admin", "/v1/reviews", reviewBody, http.StatusForbidden); p.Code != "not-for-administrators" {
		t.Errorf("the administrator scheduling a review: %+v, want not-for-administrators", p)
	}
	w.ok(y.tDirector, "/v1/reviews", reviewBody)
	w.ok(y.tS1, "/v1/reviews/"+review.String()+"/findings", map[string]any{"area": "Reading", "rating": "amber",
		"finding": "Guided reading is strong in KS3.", "recommendations": []string{"Extend to KS4"}})
	w.ok(y.tS1, "/v1/reviews/"+review.String()+"/complete", map[string]any{"summary": "A strong reading culture."})
	actionBody := map[string]any{"action_id": action, "action": "Plan KS4 guided reading", "owner_id": y.sb, "due_on": day.AddDate(0, 0, 30)}
	// The reviewer does not agree the reviewed school's actions.
	w.refused(y.tS1, "/v1/reviews/"+review.String()+"/actions", actionBody, http.StatusForbidden)
	w.ok(y.tB, "/v1/reviews/"+review.String()+"/actions", actionBody)
	w.ok(y.tB, "/v1/reviews/"+review.String()+"/actions/"+action.String()+"/complete", map[string]any{"note": "Planned."})
	var rv struct {
		Completed bool `json:"completed"`
		Amber     int  `json:"amber"`
		Actions   []struct {
			Done bool `json:"done"`
		} `json:"actions"`
	}
	w.get(y.tB, "/v1/reviews/"+review.String(), &rv)
	if !rv.Completed || rv.Amber != 1 || len(rv.Actions) != 1 || !rv.Actions[0].Done {
		t.Errorf("review = %+v, want completed with one amber finding and its action done", rv)
	}

	// A priority (the lead's) and a commitment to it, with progress, then
	// achieved.
	priority, commitment := uuid.New(), uuid.New()
	priorityBody := map[string]any{"priority_id": priority, "title": "Reading for pleasure", "description": "Every pupil reads every day.", "academic_year": y.year}
	w.refused("admin", "/v1/partnerships/"+P+"/priorities", priorityBody, http.StatusForbidden)
	w.refused(y.tDirector, "/v1/partnerships/"+P+"/priorities", priorityBody, http.StatusForbidden)
	w.ok(y.tLead, "/v1/partnerships/"+P+"/priorities", priorityBody)
	w.ok(y.tS1, "/v1/commitments", map[string]any{"commitment_id": commitment, "partnership_id": y.partnership, "priority_id": priority,
		"party_kind": "school", "party_id": y.schoolA, "owner_id": y.s1, "due_on": day.AddDate(0, 0, 60), "success_measure": "Library loans up 20%"})
	w.ok(y.tS1, "/v1/commitments/"+commitment.String()+"/progress", map[string]any{"note": "Half way", "percent": 50})
	w.refused(y.tB, "/v1/commitments/"+commitment.String()+"/achieved", map[string]any{"evidence": "not ours"}, http.StatusForbidden)
	w.ok(y.tS1, "/v1/commitments/"+commitment.String()+"/achieved", map[string]any{"evidence": "Loans up 24%."})
	var cm struct {
		Status  string            `json:"status"`
		Updates []json.RawMessage `json:"updates"`
	}
	w.get(y.tB, "/v1/commitments/"+commitment.String(), &cm)
	if cm.Status != "achieved" || len(cm.Updates) != 1 {
		t.Errorf("commitment = %+v, want achieved with one update", cm)
	}
	var byStatus []struct {
		Status      string            `json:"status"`
		Commitments []json.RawMessage `json:"commitments"`
	}
	w.get(y.tDirector, "/v1/commitments?group=status", &byStatus)
	if len(byStatus) != 3 {
		t.Errorf("commitments by status = %d groups, want 3", len(byStatus))
	}

	// School A's improvement timeline, with an item added, moved (its
	// Director) and done (its staff).
	timeline, item := uuid.New(), uuid.New()
	w.refused(y.tS1, "/v1/timelines", map[string]any{"timeline_id": timeline, "partnership_id": y.partnership, "school_id": y.schoolA, "academic_year": y.year, "title": "Our year"}, http.StatusForbidden)
	if p := w.refused("admin", "/v1/timelines", map[string]any{"timeline_id": timeline, "partnership_id": y.partnership, "school_id": y.schoolA, "academic_year": y.year, "title": "Our year"}, http.StatusForbidden); p.Code != "not-for-administrators" {
		t.Errorf("the administrator creating a timeline: %+v, want not-for-administrators", p)
	}
	w.ok(y.tDirector, "/v1/timelines", map[string]any{"timeline_id": timeline, "partnership_id": y.partnership, "school_id": y.schoolA, "academic_year": y.year, "title": "Our year"})
	w.ok(y.tDirector, "/v1/timelines/"+timeline.String()+"/items", map[string]any{"item_id": item, "kind": "meeting", "title": "Reading leads meet", "on": day.AddDate(0, 0, 3)})
	w.ok(y.tDirector, "/v1/timelines/"+timeline.String()+"/items/"+item.String()+"/reschedule", map[string]any{"on": day.AddDate(0, 0, 4)})
	var tl TimelineData
	w.get(y.tDirector, "/v1/timeline?next=50", &tl)
	found := false
	for _, e := range tl.Next {
		if e.ItemID == item && e.Rescheduled == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("the added item is not next, rescheduled once: %+v", tl.Next)
	}
	w.refused(y.tB, "/v1/timelines/"+timeline.String()+"/items/"+item.String()+"/done", map[string]any{"note": "not ours"}, http.StatusForbidden)
	w.ok(y.tS1, "/v1/timelines/"+timeline.String()+"/items/"+item.String()+"/done", map[string]any{"note": "Agreed a reading spine."})
	w.get(y.tDirector, "/v1/timeline", &tl)
	if len(tl.Done) != 1 || tl.Done[0].ItemID != item {
		t.Errorf("done = %+v, want the one item", tl.Done)
	}

	// Costs, a progress rating and a recognition.
	w.ok(y.tS1, "/v1/partnerships/"+P+"/costs", map[string]any{"school_id": y.schoolA, "category": "meetings", "hours": 2.5, "amount_pence": 1200, "note": "Reading leads"})
	w.refused(y.tS1, "/v1/partnerships/"+P+"/costs", map[string]any{"school_id": y.schoolB, "category": "meetings", "hours": 1, "note": "x"}, http.StatusForbidden)
	var costs struct {
		Total struct {
			Hours       float64 `json:"hours"`
			AmountPence int64   `json:"amount_pence"`
		} `json:"total"`
	}
	w.get(y.tDirector, "/v1/costs?year="+y.year, &costs)
	if costs.Total.Hours != 2.5 || costs.Total.AmountPence != 1200 {
		t.Errorf("costs = %+v, want 2.5 h and 1200p", costs.Total)
	}
	term := partnership.TermOf(now).String()
	w.ok(y.tS1, "/v1/partnerships/"+P+"/progress", map[string]any{"school_id": y.schoolA, "area": "Reading", "cohort": "Year 7",
		"term": term, "rating": "amber", "evidence": "Reading ages"})
	var board []struct {
		Area   string `json:"area"`
		Rating string `json:"rating"`
	}
	w.get(y.tDirector, "/v1/progress?partnership="+P+"&year="+y.year, &board)
	if len(board) != 1 || board[0].Rating != "amber" {
		t.Errorf("RAG board = %+v, want one amber cell", board)
	}
	// The board in pages: two cells (Maths, Reading), one a page.
	w.ok(y.tS1, "/v1/partnerships/"+P+"/progress", map[string]any{"school_id": y.schoolA, "area": "Maths", "cohort": "Year 7",
		"term": term, "rating": "green", "evidence": "Book looks"})
	for cursor, want := range []string{"Maths", "Reading"} {
		page, _ := w.get(y.tDirector, fmt.Sprintf("/v1/progress?partnership=%s&year=%s&limit=1&cursor=%d", P, y.year, cursor), &board)
		if len(board) != 1 || board[0].Area != want || page.Total == nil || *page.Total != 2 || (page.Next != nil) != (cursor == 0) {
			t.Errorf("RAG board page %d = %+v (total %v, next %v), want the %s cell of 2", cursor, board, page.Total, page.Next, want)
		}
	}
	recognition := map[string]any{"recipient_kind": "person", "recipient_id": y.s1, "citation": "Led the reading review."}
	w.refused("admin", "/v1/partnerships/"+P+"/recognitions", recognition, http.StatusForbidden)
	w.refused(tDirectorC, "/v1/partnerships/"+P+"/recognitions", recognition, http.StatusForbidden)
	w.ok(y.tDirectorB, "/v1/partnerships/"+P+"/recognitions", recognition)
	var cel CelebrationsData
	w.get(y.tDirector, "/v1/celebrations", &cel)
	if len(cel.Recognitions) != 1 || cel.Recognitions[0].Recipient.Name != "Ada Staff" {
		t.Errorf("celebrations = %+v, want Ada Staff recognised", cel.Recognitions)
	}

	// Partnership reads: the administrator lists every partnership (to
	// manage them), a member school's staff theirs.
	var ps []struct {
		ID      uuid.UUID `json:"id"`
		Current int       `json:"current_members"`
	}
	w.get("admin", "/v1/partnerships", &ps)
	if len(ps) != 2 {
		t.Errorf("the administrator lists %d partnerships, want 2", len(ps))
	}
	w.get(y.tS2, "/v1/partnerships", &ps)
	if len(ps) != 1 || ps[0].ID != y.partnership || ps[0].Current != 2 {
		t.Errorf("partnerships = %+v, want River Trust with 2 members", ps)
	}
	var res ResourceData
	_, resp := w.get(y.tB, "/v1/resources/"+y.resource.String(), &res)
	if res.Name != "Physics lab" || len(res.Calendar) != 1 || resp.Header.Get("ETag") == "" {
		t.Errorf("resource = %+v (ETag %q), want the lab with one booking and an ETag", res, resp.Header.Get("ETag"))
	}
	// The lead of another partnership sees nothing of it.
	if r := w.do(tDirectorC, http.MethodGet, "/v1/partnerships/"+P, nil); r.Status != http.StatusForbidden {
		t.Errorf("another partnership's lead: status %d, want 403", r.Status)
	}
	if r := w.do(y.tDirector, http.MethodGet, "/v1/secondments/fte?year=nonsense", nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a malformed year: status %d, want 422: %s", r.Status, r.Body)
	}
}

// TestReplayAndReport: decisions replay step by step, and the partnership
// report comes in every format with its Content-Type.
func TestReplayAndReport(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)

	type step struct {
		Type      string `json:"type"`
		ActorName string `json:"actor_name"`
	}
	var rp struct {
		Kind  string `json:"kind"`
		Steps []step `json:"steps"`
	}
	// Replays are of a school's or a partnership's records: their readers',
	// not the administrator's.
	if r := w.do("admin", http.MethodGet, "/v1/replay/proposal/"+y.proposal.String(), nil); r.Status != http.StatusForbidden || problemCode(r.Body) != "not-for-administrators" {
		t.Errorf("the administrator replaying a proposal: %d %s, want 403 not-for-administrators", r.Status, r.Body)
	}
	env, _ := w.get(y.tDirector, "/v1/replay/loan/"+y.loan.String(), &rp)
	if rp.Kind != "loan" || len(rp.Steps) != 2 || rp.Steps[0].Type != "LoanRequested" || rp.Steps[1].Type != "LoanApproved" {
		t.Errorf("loan replay = %+v, want requested then approved", rp)
	}
	if env.Reading != ReadingLive {
		t.Errorf("reading = %q, want live", env.Reading)
	}
	// The proposal's decision, step by step: S2 drafts, S1 (C1's chair)
	// submits, which opens the Team's round; S1 and the Director vote; the
	// Director closes the round and signs the outcome off, which records
	// the approval.
	w.get(y.tDirector, "/v1/replay/proposal/"+y.proposal.String(), &rp)
	want := []step{{"ProposalDrafted", "Ben Staff"}, {"ProposalSubmitted", "Ada Staff"}, {"TeamResolutionOpened", "Ada Staff"},
		{"TeamVoteCast", "Ada Staff"}, {"TeamVoteCast", "Dee Director"},
		{"TeamVoteClosed", "Dee Director"}, {"ResolutionSignedOff", "Dee Director"}, {"ProposalApproved", "Dee Director"}}
	if !slices.Equal(rp.Steps, want) {
		t.Errorf("proposal replay = %+v, want %+v", rp.Steps, want)
	}
	w.get(y.tDirector, "/v1/replay/election/"+y.election.String(), &rp)
	if len(rp.Steps) < 5 {
		t.Errorf("election replay has %d steps, want its opening to its chair", len(rp.Steps))
	}
	// As of the loan's request only.
	recs, err := w.l.Store.ReadStream(t.Context(), partnership.ResourceStream(y.resource), 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	req := recs[len(recs)-2].Position
	env, _ = w.get(y.tDirector, fmt.Sprintf("/v1/replay/loan/%s?as_of=%d", y.loan, req), &rp)
	if len(rp.Steps) != 1 || env.Reading != ReadingKnownThen || env.Position != req {
		t.Errorf("loan replay as of %d = %d steps, %+v; want the request only, as known then", req, len(rp.Steps), env)
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/v1/replay/vote/" + y.loan.String(), http.StatusNotFound},
		{"/v1/replay/loan/" + uuid.NewString(), http.StatusNotFound},
		{"/v1/replay/loan/nope", http.StatusBadRequest},
		{"/v1/replay/loan/" + y.loan.String() + "?reading=corrected", http.StatusBadRequest},
	} {
		if r := w.do(y.tDirector, http.MethodGet, c.path, nil); r.Status != c.status {
			t.Errorf("GET %s: status %d, want %d", c.path, r.Status, c.status)
		}
	}

	for _, c := range []struct{ format, ctype, contains string }{
		{"md", "text/markdown; charset=utf-8", "River Trust"},
		{"html", "text/html; charset=utf-8", "<html"},
		{"csv", "application/zip", "PK"},
	} {
		r := w.do(y.tDirector, http.MethodGet, "/v1/reports/partnership?format="+c.format+"&year="+y.year, nil)
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != c.ctype || !strings.Contains(string(r.Body), c.contains) {
			t.Errorf("report %s: status %d, Content-Type %q, want 200 %q containing %q", c.format, r.Status, r.Header.Get("Content-Type"), c.ctype, c.contains)
		}
		if r.Header.Get("X-Concord-Position") != fmt.Sprint(w.head()) {
			t.Errorf("report %s: position %q, want the head %d", c.format, r.Header.Get("X-Concord-Position"), w.head())
		}
	}
	var rep struct {
		AcademicYear   string `json:"academic_year"`
		Accountability struct {
			Decided []struct {
				ID     uuid.UUID `json:"id"`
				School struct {
					ID uuid.UUID `json:"id"`
				} `json:"school"`
				Outcome string `json:"outcome"`
			} `json:"proposals_decided"`
		} `json:"collective_accountability"`
	}
	env, _ = w.get(y.tDirector, "/v1/reports/partnership?partnership="+y.partnership.String()+"&year="+y.year, &rep)
	if rep.AcademicYear != y.year || env.Position != w.head() {
		t.Errorf("JSON report = %+v at %d, want year %s at the head", rep, env.Position, y.year)
	}
	// School A's proposal, decided this year, is among the proposals the
	// year decided; the year before (no member school yet) decided none.
	if d := rep.Accountability.Decided; len(d) != 1 || d[0].ID != y.proposal || d[0].School.ID != y.schoolA || d[0].Outcome == "" {
		t.Errorf("proposals decided in %s = %+v, want school A's proposal %s", y.year, d, y.proposal)
	}
	// A live report read twice (the second takes the parts the first
	// kept) is the report as of the head, but for how the reading is told.
	liveURL := "/v1/reports/partnership?partnership=" + y.partnership.String() + "&year=" + y.year
	first, second := w.do(y.tDirector, http.MethodGet, liveURL, nil), w.do(y.tDirector, http.MethodGet, liveURL, nil)
	asOf := w.do(y.tDirector, http.MethodGet, liveURL+fmt.Sprintf("&as_of=%d", w.head()), nil)
	if !bytes.Equal(first.Body, second.Body) {
		t.Error("two live reports at one position differ")
	}
	told := func(body []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("the report is not JSON: %v", err)
		}
		for _, k := range []string{"as_of", "reading", "describe"} {
			delete(m, k)
		}
		delete(m["data"].(map[string]any)["footer"].(map[string]any), "reading")
		return m
	}
	if !reflect.DeepEqual(told(second.Body), told(asOf.Body)) {
		t.Errorf("the live report differs from the report as of the head:\n%.400s\n%.400s", second.Body, asOf.Body)
	}
	var before struct {
		Accountability struct {
			Decided []json.RawMessage `json:"proposals_decided"`
		} `json:"collective_accountability"`
	}
	w.get(y.tDirector, "/v1/reports/partnership?partnership="+y.partnership.String()+"&year=2024-25", &before)
	if len(before.Accountability.Decided) != 0 {
		t.Errorf("proposals decided in 2024-25 = %d, want none", len(before.Accountability.Decided))
	}
	// The same position reads the same bytes.
	pos := w.head()
	a := w.do(y.tDirector, http.MethodGet, fmt.Sprintf("/v1/reports/partnership?format=md&as_of=%d", pos), nil)
	w.ok(y.tLead, "/v1/partnerships/"+y.partnership.String()+"/priorities", map[string]any{"title": "Attendance", "academic_year": y.year})
	b := w.do(y.tDirector, http.MethodGet, fmt.Sprintf("/v1/reports/partnership?format=md&as_of=%d", pos), nil)
	if a.Status != http.StatusOK || string(a.Body) != string(b.Body) {
		t.Errorf("the report as of %d changed after a later command (status %d)", pos, a.Status)
	}
	for _, path := range []string{"/v1/reports/partnership?format=pdf", "/v1/reports/partnership?year=2025", "/v1/reports/partnership?format=csv&table=nope"} {
		if r := w.do(y.tDirector, http.MethodGet, path, nil); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("GET %s: status %d, want 422: %s", path, r.Status, r.Body)
		}
	}
	// A partnership the ledger gives the caller no right to read (here,
	// none at all) is refused.
	if r := w.do(y.tDirector, http.MethodGet, "/v1/reports/partnership?partnership="+uuid.NewString(), nil); r.Status != http.StatusForbidden || problemCode(r.Body) != "not-permitted" {
		t.Errorf("unknown partnership: status %d %s, want 403 not-permitted", r.Status, r.Body)
	}
}
