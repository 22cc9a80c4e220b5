package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/views"
)

// GET /v1/timeline keeps its live answer, as sent, until the next event:
// a second reader of the address at the same position gets the same bytes
// and Link header (from the memo), which are the reading as of that
// position's but for how the reading is told; the answer names no one;
// the partnership is still checked for every reader (a school outside it,
// the administrator, no token); and after an event
// the answer is worked out again.
func TestTimelineAnswerIsKeptUntilTheNextEvent(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	P := y.partnership.String()
	base := w.now.AddDate(0, 0, 20)
	timeline := uuid.New()
	w.ok(y.tDirector, "/v1/timelines", map[string]any{"timeline_id": timeline, "partnership_id": y.partnership, "school_id": y.schoolA, "academic_year": y.year, "title": "Our year"})
	items := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	for i, id := range items {
		w.ok(y.tDirector, "/v1/timelines/"+timeline.String()+"/items", map[string]any{"item_id": id, "kind": "meeting", "title": "Meet", "on": base.AddDate(0, 0, i)})
	}
	w.ok(y.tS1, "/v1/timelines/"+timeline.String()+"/items/"+items[0].String()+"/done", map[string]any{"note": "Done by Sam."})
	w.ok(y.tS1, "/v1/timelines/"+timeline.String()+"/items/"+items[1].String()+"/done", map[string]any{"note": "Done."})
	// A school outside the partnership, with a Director who reads none of
	// its records.
	_, _, outsider := w.school("West School", "Wyn Director", y.year)
	ctx := context.Background()
	head, err := w.l.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addr := "/v1/timeline?partnership=" + P + "&limit=1"
	first := w.do(y.tDirector, http.MethodGet, addr, nil)
	if first.Status != http.StatusOK || first.Header.Get("Link") == "" {
		t.Fatalf("first reading: %d, Link %q: %s", first.Status, first.Header.Get("Link"), first.Body)
	}
	key := keptKey{view: "timeline", pid: y.partnership, path: "/v1/timeline", query: "partnership=" + P + "&limit=1", day: w.now.Truncate(24 * time.Hour)}
	if _, ok := w.l.Views.Memo().Get(key, head); !ok {
		t.Fatal("the first live reading was not kept")
	}
	second := w.do(y.tS1, http.MethodGet, addr, nil)
	if second.Status != http.StatusOK || !bytes.Equal(second.Body, first.Body) || second.Header.Get("Link") != first.Header.Get("Link") {
		t.Errorf("the second reader at one position got %d, Link %q:\n%s\nwant the first's, Link %q:\n%s", second.Status, second.Header.Get("Link"), second.Body, first.Header.Get("Link"), first.Body)
	}
	asOf := w.do(y.tDirector, http.MethodGet, addr+fmt.Sprintf("&as_of=%d", head), nil)
	if !reflect.DeepEqual(butHowTold(t, second.Body), butHowTold(t, asOf.Body)) {
		t.Errorf("the kept answer differs from the reading as of its position:\n%s\n%s", second.Body, asOf.Body)
	}
	names, err := w.l.Views.PersonNames(ctx, views.AsOf{})
	if err != nil || len(names) == 0 {
		t.Fatalf("no names to look for (%v)", err)
	}
	for _, name := range names {
		if bytes.Contains(first.Body, []byte(name)) {
			t.Errorf("the kept answer names %s", name)
		}
	}
	if r := w.do(y.tB, http.MethodGet, addr, nil); r.Status != http.StatusOK || !bytes.Equal(r.Body, first.Body) {
		t.Errorf("a reader of the partnership's other school got %d: %s", r.Status, r.Body)
	}
	if r := w.do(outsider, http.MethodGet, addr, nil); r.Status != http.StatusForbidden {
		t.Errorf("the Director of a school outside the partnership read its kept timeline: %d %s", r.Status, r.Body)
	}
	if r := w.do("", http.MethodGet, addr, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("without a token, the kept answer: %d, want 401", r.Status)
	}
	if r := w.do("admin", http.MethodGet, addr, nil); r.Status == http.StatusOK {
		t.Errorf("the administrator read the partnership's kept timeline: %s", r.Body)
	}
	// The third item done: the answer is worked out again.
	w.ok(y.tS1, "/v1/timelines/"+timeline.String()+"/items/"+items[2].String()+"/done", map[string]any{"note": "Done."})
	// The views catch up first, so that only the position tells the kept
	// answer from the new one.
	if err := w.l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	var after struct {
		Total int          `json:"total"`
		Data  TimelineData `json:"data"`
	}
	third := w.do(y.tDirector, http.MethodGet, addr, nil)
	if err := json.Unmarshal(third.Body, &after); err != nil {
		t.Fatal(err)
	}
	if after.Total != 3 {
		t.Errorf("after the third item was done: %d done, want 3", after.Total)
	}
	for _, e := range after.Data.Next {
		if e.ItemID == items[2] {
			t.Error("the item done after the answer was kept is still next")
		}
	}
}

// TestPartnershipAnswersKeptUntilTheNextEventOrErasure: the resources,
// their utilisation, the RAG board, the costs, the celebrations, the peer
// reviews and their follow-ups, and the commitments keep their live
// answers as the timeline does. A second reader at the same
// position gets the first's bytes, which are the reading as of that
// position; a person named in the celebrations and the commitments shows
// erased once their key is destroyed (an erasure retried after a crash
// destroys it with no new event); and after an event every answer is
// worked out again.
func TestPartnershipAnswersKeptUntilTheNextEventOrErasure(t *testing.T) {
	w := newRoutesWorld(t)
	y := walkSchoolYear(t, w)
	P := y.partnership.String()
	term := partnership.TermOf(w.now).String()
	w.ok(y.tS1, "/v1/partnerships/"+P+"/costs", map[string]any{"school_id": y.schoolA, "category": "meetings", "hours": 2.5, "amount_pence": 1200, "note": "Reading leads"})
	w.ok(y.tS1, "/v1/partnerships/"+P+"/progress", map[string]any{"school_id": y.schoolA, "area": "Reading", "cohort": "Year 7", "term": term, "rating": "amber", "evidence": "Reading ages"})
	w.ok(y.tDirectorB, "/v1/partnerships/"+P+"/recognitions", map[string]any{"recipient_kind": "person", "recipient_id": y.s1, "citation": "Led the reading review."})
	// A peer review of B by S1 with a follow-up action, and a commitment
	// of A's that S1 owns.
	day := partnership.Date(w.now).AddDate(0, 0, 1)
	review, priority := uuid.New(), uuid.New()
	w.ok(y.tDirector, "/v1/reviews", map[string]any{"review_id": review, "partnership_id": y.partnership, "reviewed_school_id": y.schoolB,
		"reviewer_ids": []uuid.UUID{y.s1}, "focus_areas": []string{"Reading"}, "on": day})
	w.ok(y.tS1, "/v1/reviews/"+review.String()+"/findings", map[string]any{"area": "Reading", "rating": "amber", "finding": "Guided reading is strong.", "recommendations": []string{"Extend it"}})
	w.ok(y.tS1, "/v1/reviews/"+review.String()+"/complete", map[string]any{"summary": "A strong reading culture."})
	w.ok(y.tB, "/v1/reviews/"+review.String()+"/actions", map[string]any{"action_id": uuid.New(), "action": "Plan guided reading", "owner_id": y.sb, "due_on": day.AddDate(0, 0, 30)})
	w.ok(y.tLead, "/v1/partnerships/"+P+"/priorities", map[string]any{"priority_id": priority, "title": "Reading for pleasure", "description": "Every pupil reads.", "academic_year": y.year})
	w.ok(y.tS1, "/v1/commitments", map[string]any{"commitment_id": uuid.New(), "partnership_id": y.partnership, "priority_id": priority,
		"party_kind": "school", "party_id": y.schoolA, "owner_id": y.s1, "due_on": day.AddDate(0, 0, 60), "success_measure": "Library loans up 20%"})
	_, _, outsider := w.school("West School", "Wyn Director", y.year)
	ctx := context.Background()
	if err := w.l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	head, err := w.l.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ view, path, query string }{
		{"resources", "/v1/resources", "partnership=" + P},
		{"resources", "/v1/resources/utilisation", "partnership=" + P + "&year=" + y.year},
		{"progress", "/v1/progress", "partnership=" + P + "&year=" + y.year},
		{"costs", "/v1/costs", "partnership=" + P + "&year=" + y.year},
		{"celebrations", "/v1/celebrations", "partnership=" + P},
		{"reviews", "/v1/reviews", "partnership=" + P},
		{"reviews", "/v1/reviews/follow-ups", "partnership=" + P},
		{"commitments", "/v1/commitments", "partnership=" + P},
		{"commitments", "/v1/commitments", "partnership=" + P + "&group=owner"},
	}
	first := map[string][]byte{}
	for _, c := range cases {
		addr := c.path + "?" + c.query
		one := w.do(y.tDirector, http.MethodGet, addr, nil)
		if one.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", addr, one.Status, one.Body)
		}
		key := keptKey{view: c.view, pid: y.partnership, path: c.path, query: c.query, day: w.now.Truncate(24 * time.Hour)}
		if _, ok := w.l.Views.Memo().Get(key, head); !ok {
			t.Fatalf("%s: the live reading was not kept", addr)
		}
		two := w.do(y.tB, http.MethodGet, addr, nil)
		if two.Status != http.StatusOK || !bytes.Equal(two.Body, one.Body) {
			t.Errorf("%s: the second reader got %d:\n%s\nwant the first's:\n%s", addr, two.Status, two.Body, one.Body)
		}
		// Kept, it is still given only to the partnership's readers.
		if r := w.do(outsider, http.MethodGet, addr, nil); r.Status != http.StatusForbidden {
			t.Errorf("%s: the Director of a school outside the partnership got %d %s, want 403", addr, r.Status, r.Body)
		}
		if r := w.do("", http.MethodGet, addr, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("%s: without a token: %d, want 401", addr, r.Status)
		}
		asOf := w.do(y.tDirector, http.MethodGet, addr+fmt.Sprintf("&as_of=%d", head), nil)
		if !reflect.DeepEqual(butHowTold(t, two.Body), butHowTold(t, asOf.Body)) {
			t.Errorf("%s: the kept answer differs from the reading as of its position:\n%s\n%s", addr, two.Body, asOf.Body)
		}
		first[addr] = one.Body
	}
	celebrations, commitments := "/v1/celebrations?partnership="+P, "/v1/commitments?partnership="+P
	for _, addr := range []string{celebrations, commitments, "/v1/reviews?partnership=" + P} {
		if !bytes.Contains(first[addr], []byte("Ada Staff")) {
			t.Fatalf("%s does not name Ada Staff: %s", addr, first[addr])
		}
	}
	if err := w.l.Erase(y.s1.String()); err != nil {
		t.Fatal(err)
	}
	if h, _ := w.l.Store.Head(ctx); h != head {
		t.Fatalf("the key's destruction moved the head from %d to %d", head, h)
	}
	for _, addr := range []string{celebrations, commitments} {
		after := w.do(y.tDirector, http.MethodGet, addr, nil)
		if bytes.Contains(after.Body, []byte("Ada Staff")) || !bytes.Contains(after.Body, []byte(domain.ErasedName)) {
			t.Errorf("after the key was destroyed, %s read:\n%s\nwant Ada Staff shown erased", addr, after.Body)
		}
	}

	// An event: every answer is worked out again.
	w.ok(y.tS1, "/v1/partnerships/"+P+"/costs", map[string]any{"school_id": y.schoolA, "category": "travel", "hours": 1, "amount_pence": 300, "note": "Minibus"})
	if err := w.l.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	costs := "/v1/costs?partnership=" + P + "&year=" + y.year
	if again := w.do(y.tDirector, http.MethodGet, costs, nil); bytes.Equal(again.Body, first[costs]) || !bytes.Contains(again.Body, []byte(`"amount_pence":1500`)) {
		t.Errorf("after another cost was recorded the costs read:\n%s\nwant 1500p in all", again.Body)
	}
}

// butHowTold is an answer's JSON without how its reading is told (as_of,
// reading, describe), which a kept answer and a reading as of its
// position tell differently.
func butHowTold(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	for _, k := range []string{"as_of", "reading", "describe"} {
		delete(m, k)
	}
	return m
}
