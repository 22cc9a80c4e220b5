package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
)

// The tests of this file check what the authority rework changed: who
// acts is the authenticated person, never a field of the body, and what
// they may do follows from the ledger at that moment, not from their
// token. Each fails on the API as it was before the rework (tokens with a
// role and a scope, actors named in bodies).

// send sends body (marshalled; nil for none) as who and returns the answer.
func (e *coreEnv) send(t *testing.T, who Role, method, path string, body any, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	return e.do(t, who, method, path, b, header...)
}

// ok runs a command as who that must record something (201).
func (e *coreEnv) ok(t *testing.T, who Role, path string, body any) CommandResult {
	t.Helper()
	w := e.send(t, who, http.MethodPost, path, body)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST %s as %s: status %d, want 201: %s", path, who, w.Code, w.Body)
	}
	return mustJSON[CommandResult](t, w)
}

// refused runs a request as who that must be refused with status, and
// checks that the ledger did not move.
func (e *coreEnv) refused(t *testing.T, who Role, method, path string, body any, status int) Problem {
	t.Helper()
	before := headOf(t, e)
	p := mustProblem(t, e.send(t, who, method, path, body), status)
	if after := headOf(t, e); after != before {
		t.Fatalf("%s %s as %s was refused but the ledger moved from %d to %d", method, path, who, before, after)
	}
	return p
}

// wantField checks that p names exactly field.
func wantField(t *testing.T, p Problem, field string) {
	t.Helper()
	if len(p.Errors) != 1 || p.Errors[0].Field != field {
		t.Errorf("problem %+v, want the field %s", p, field)
	}
}

// lastEvent returns the last event of stream.
func lastEvent(t *testing.T, e *coreEnv, stream string) eventstore.RecordedEvent {
	t.Helper()
	recs, err := e.L.Store.ReadStream(context.Background(), stream, 0, 0, 0)
	if err != nil || len(recs) == 0 {
		t.Fatalf("read %s: %d events, %v", stream, len(recs), err)
	}
	return recs[len(recs)-1]
}

// 1. A Director cannot vote in a member's name; the member votes for
// themselves.
func TestADirectorCannotVoteForAMember(t *testing.T) {
	env := coreServer(t)
	w := env.W
	el := "/v1/elections/" + w.Election.String()
	staffA := w.Person[apitest.StaffA]
	env.ok(t, RoleStaff, el+"/nomination/accept", nil)
	env.ok(t, RoleChair, el+"/voting", nil)

	p := env.refused(t, RoleDirector, http.MethodPost, el+"/votes", map[string]any{"candidate_id": staffA, "voter_id": staffA}, http.StatusUnprocessableEntity)
	wantField(t, p, "voter_id")

	res := env.ok(t, RoleStaff, el+"/votes", map[string]any{"candidate_id": staffA})
	if len(res.Events) != 1 || res.Events[0].Type != "VoteCast" {
		t.Fatalf("StaffA's vote recorded %+v, want one VoteCast", res.Events)
	}
	if got := lastEvent(t, env, res.Stream); got.Metadata.ActorID != staffA.String() {
		t.Errorf("the vote is recorded as cast by %s, want StaffA %s", got.Metadata.ActorID, staffA)
	}
}

// 2. A staff member who chairs nothing cannot decide a proposal, no body
// names the voter or the decider, and no one member decides for the
// Team: the Leadership Team votes and the Director signs its decision off.
func TestOnlyTheLeadershipTeamDecides(t *testing.T) {
	env := coreServer(t)
	prop := "/v1/proposals/" + env.W.Proposal.String()
	vote := map[string]any{"vote": "approve", "reason": "Well argued.", "aligned": true, "alignment_note": "Serves the mission."}
	signOff := map[string]any{"reason": "The Team approved it."}
	with := func(field string, v any) map[string]any {
		out := map[string]any{field: v}
		for k, v := range vote {
			out[k] = v
		}
		return out
	}
	// The decision of one member is gone: there is no such route.
	env.refused(t, RoleChair, http.MethodPost, prop+"/decision", map[string]any{"outcome": "approve", "reason": "Well argued.", "aligned": true, "alignment_note": "n"}, http.StatusNotFound)
	// StaffA is a member of X but chairs nothing: not on the Team.
	if p := env.refused(t, RoleStaff, http.MethodPost, prop+"/team-votes", vote, http.StatusForbidden); p.Code != "not-leadership-team" {
		t.Errorf("StaffA voting: code %q, want not-leadership-team", p.Code)
	}
	for _, field := range []string{"voter_id", "decided_by"} {
		p := env.refused(t, RoleChair, http.MethodPost, prop+"/team-votes", with(field, env.PersonOf[RoleChair]), http.StatusUnprocessableEntity)
		wantField(t, p, field)
	}
	// The chair of X, on the Team, votes in their own name; their vote
	// alone is not the Team's decision (the Team in office is A's
	// Director and the chairs of X and Y: a quorum of two).
	res := env.ok(t, RoleChair, prop+"/team-votes", vote)
	if got := lastEvent(t, env, res.Stream); got.Type != "TeamVoteCast" || got.Metadata.ActorID != env.PersonOf[RoleChair].String() {
		t.Errorf("recorded %s by %s, want TeamVoteCast by ChairA", got.Type, got.Metadata.ActorID)
	}
	if p := env.refused(t, RoleDirector, http.MethodPost, prop+"/sign-off", signOff, http.StatusConflict); p.Code != "team-quorum-not-reached" {
		t.Errorf("signing off one vote of three: code %q, want team-quorum-not-reached", p.Code)
	}
	if p := env.refused(t, RoleChair, http.MethodPost, prop+"/team-votes", vote, http.StatusConflict); p.Code != "already-voted" {
		t.Errorf("ChairA voting twice: code %q, want already-voted", p.Code)
	}
	env.ok(t, RoleDirector, prop+"/team-votes", vote)
	// Only the Director signs off, in their own name.
	for _, who := range []Role{RoleChair, RoleStaff, RoleGovernor, apitest.DirB} {
		env.refused(t, who, http.MethodPost, prop+"/sign-off", signOff, http.StatusForbidden)
	}
	p := env.refused(t, RoleDirector, http.MethodPost, prop+"/sign-off", map[string]any{"reason": "The Team approved it.", "director_id": env.PersonOf[RoleDirector]}, http.StatusUnprocessableEntity)
	wantField(t, p, "director_id")
	res = env.ok(t, RoleDirector, prop+"/sign-off", signOff)
	var types []string
	for _, e := range res.Events {
		types = append(types, e.Type)
	}
	if want := []string{"TeamVoteClosed", "ResolutionSignedOff", "ProposalApproved"}; !slices.Equal(types, want) {
		t.Errorf("the sign-off recorded %v, want %v", types, want)
	}
	if got := lastEvent(t, env, res.Stream); got.Type != "ProposalApproved" || got.Metadata.ActorID != env.PersonOf[RoleDirector].String() {
		t.Errorf("recorded %s by %s, want ProposalApproved by DirA", got.Type, got.Metadata.ActorID)
	}
}

// 3. No body names who calls a confidence vote.
func TestConfidenceVoteCallerIsNotInTheBody(t *testing.T) {
	env := coreServer(t)
	p := env.refused(t, RoleStaff, http.MethodPost, "/v1/communities/"+env.W.CommunityX.String()+"/confidence-votes",
		map[string]any{"year": apitest.Year, "called_by": env.PersonOf[RoleStaff]}, http.StatusUnprocessableEntity)
	wantField(t, p, "called_by")
}

// allEvents pages through GET /v1/events as who.
func allEvents(t *testing.T, env *coreEnv, who Role) (events []LedgerEvent, raw string) {
	t.Helper()
	path := "/v1/events?limit=1000"
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		w := env.do(t, who, http.MethodGet, path, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s as %s: %d %s", path, who, w.Code, w.Body)
		}
		raw += w.Body.String()
		page := mustJSON[EventPage](t, w)
		events = append(events, page.Events...)
		if page.Next == 0 {
			return events, raw
		}
		path = fmt.Sprintf("/v1/events?limit=1000&cursor=%d", page.Next)
	}
}

// 4. The audit log shows StaffA's e-mail only to StaffA and their
// Director; a governor of the school sees the name alone; people of other
// schools and partnerships, and the administrator, see neither.
func TestEventsShowContactDetailsOnlyToThePersonAndTheirDirector(t *testing.T) {
	env := coreServer(t)
	stream := governance.PersonStream(env.PersonOf[RoleStaff])
	registration := func(events []LedgerEvent) (LedgerEvent, bool) {
		for _, e := range events {
			if e.Stream == stream && e.Type == "StaffRegistered" {
				return e, true
			}
		}
		return LedgerEvent{}, false
	}
	for _, who := range []Role{apitest.Lead, apitest.DirC, apitest.Admin, apitest.StaffB} {
		events, raw := allEvents(t, env, who)
		if strings.Contains(raw, apitest.EmailStaffA) {
			t.Errorf("%s's audit log shows StaffA's e-mail", who)
		}
		if _, ok := registration(events); ok {
			t.Errorf("%s's audit log shows StaffA's registration, a record of school A", who)
		}
	}
	events, _ := allEvents(t, env, RoleDirector)
	e, ok := registration(events)
	if !ok {
		t.Fatal("A's Director does not see StaffA's registration")
	}
	if p := personalOf(t, e); p.Name != "Sam Staff" || p.Email != apitest.EmailStaffA {
		t.Errorf("A's Director is shown %+v, want StaffA's name and e-mail", p)
	}
	events, raw := allEvents(t, env, RoleGovernor)
	e, ok = registration(events)
	if !ok {
		t.Fatal("A's governor does not see StaffA's registration")
	}
	if p := personalOf(t, e); p.Name != "Sam Staff" || p.Email != "" || strings.Contains(raw, apitest.EmailStaffA) {
		t.Errorf("A's governor is shown %+v, want StaffA's name and no e-mail", p)
	}
}

// loanRequested returns the LoanRequested event of the world's loan (in
// the resource's stream) and its data.
func loanRequested(t *testing.T, env *coreEnv) (eventstore.RecordedEvent, map[string]any) {
	t.Helper()
	stream := partnership.ResourceStream(env.W.Resource)
	recs, err := env.L.Store.ReadStream(context.Background(), stream, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Type == "LoanRequested" {
			var data map[string]any
			if err := json.Unmarshal(r.Data, &data); err != nil {
				t.Fatal(err)
			}
			return r, data
		}
	}
	t.Fatalf("%s has no LoanRequested", stream)
	return eventstore.RecordedEvent{}, nil
}

// 5. Only P1's lead (or the owning school's Director) corrects P1's
// records: the lead of another partnership may not.
func TestOnlyThePartnershipsLeadCorrectsItsRecords(t *testing.T) {
	t.Run("replacement", func(t *testing.T) {
		env := coreServer(t)
		ev, data := loanRequested(t, env)
		data["purpose"] = "Museum trip (Year 8)"
		body := map[string]any{"stream": ev.StreamID, "event_id": ev.ID, "replacement": data, "reason": "The year group was left out."}
		if p := env.refused(t, apitest.DirC, http.MethodPost, "/v1/corrections", body, http.StatusForbidden); p.Code != "not-permitted" {
			t.Errorf("P2's lead correcting P1's loan: code %q, want not-permitted", p.Code)
		}
		res := env.ok(t, RolePartnershipLead, "/v1/corrections", body)
		if got := lastEvent(t, env, res.Stream); got.Metadata.ActorID != env.PersonOf[RolePartnershipLead].String() {
			t.Errorf("the correction is recorded by %s, want P1's lead", got.Metadata.ActorID)
		}
	})
	t.Run("retraction", func(t *testing.T) {
		env := coreServer(t)
		ev, _ := loanRequested(t, env)
		body := map[string]any{"stream": ev.StreamID, "event_id": ev.ID, "reason": "Requested by mistake."}
		env.refused(t, apitest.DirC, http.MethodPost, "/v1/corrections", body, http.StatusForbidden)
		env.ok(t, RolePartnershipLead, "/v1/corrections", body)
	})
}

// 6. A school's staff act for their own school only, and the lead of
// another partnership not at all.
func TestPartnershipRecordsAreTheirSchoolsToKeep(t *testing.T) {
	env := coreServer(t)
	w := env.W
	env.refused(t, apitest.StaffB, http.MethodPost, "/v1/commitments", map[string]any{"partnership_id": w.P1, "priority_id": w.Priority,
		"party_kind": "school", "party_id": w.SchoolA, "owner_id": w.Person[apitest.StaffB], "due_on": time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), "success_measure": "More reading."}, http.StatusForbidden)
	booking := "/v1/cpd/" + w.CPD.String() + "/bookings/" + w.Booking.String()
	env.refused(t, apitest.DirC, http.MethodPost, booking+"/cancel", nil, http.StatusForbidden)
	env.refused(t, apitest.DirC, http.MethodPost, booking+"/attendance", map[string]any{"attended": 2}, http.StatusForbidden)
	// B's staff, whose booking it is, may cancel it.
	env.ok(t, apitest.StaffB, booking+"/cancel", nil)
}

// 7. Another school's Director reads nothing of school A's ISLCs.
func TestAnotherSchoolsDirectorReadsNoElections(t *testing.T) {
	env := coreServer(t)
	path := "/v1/communities/" + env.W.CommunityX.String() + "/elections"
	if p := mustProblem(t, env.do(t, apitest.DirB, http.MethodGet, path, nil), http.StatusForbidden); p.Code != "not-permitted" {
		t.Errorf("B's Director: code %q, want not-permitted", p.Code)
	}
	if w := env.do(t, RoleDirector, http.MethodGet, path, nil); w.Code != http.StatusOK {
		t.Errorf("A's Director: %d %s", w.Code, w.Body)
	}
}

// 8. A public inclusion proof names the leaf by its hash and does not
// carry the event (its data is for those who may read it).
func TestPublicInclusionProofCarriesNoLeaf(t *testing.T) {
	w := newFeedWorld(t, "")
	cp := w.sign()
	const position = 5 // StaffRegistered of a teacher: personal data
	resp, body := w.do(http.MethodGet, fmt.Sprintf("/v1/proofs/inclusion?position=%d", position), "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("inclusion proof: %s %s", resp.Status, body)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	if _, ok := fields["leaf_hex"]; ok {
		t.Errorf("a public inclusion proof carries leaf_hex: %s", clip(string(body)))
	}
	evs, err := w.L.Store.ReadAll(context.Background(), position, 1)
	if err != nil || len(evs) != 1 {
		t.Fatalf("read event %d: %v", position, err)
	}
	// RFC 6962: the leaf hash is SHA-256 of 0x00 and the leaf.
	want := sha256.Sum256(append([]byte{0}, eventstore.EncodeCanonical(evs[0])...))
	var p struct {
		LeafHashHex string `json:"leaf_hash_hex"`
		TreeSize    uint64 `json:"tree_size"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.LeafHashHex != hex.EncodeToString(want[:]) || p.TreeSize != cp.Size {
		t.Errorf("proof %+v, want the leaf hash %x in a tree of %d", p, want, cp.Size)
	}
}

// 9. A token's secret is shown once: the idempotency record keeps the
// answer without it, and a replay says the secret was shown once.
func TestTokenSecretIsNotKeptForReplays(t *testing.T) {
	path := filepath.Join(t.TempDir(), TokensFile)
	ts, err := OpenTokens(path, TokensOptions{Now: func() time.Time { return apitest.Now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Close() })
	w := apitest.New(t)
	admin, _, err := ts.Create(t.Context(), TokenSpec{Kind: app.KindAdmin})
	if err != nil {
		t.Fatal(err)
	}
	idem := NewIdempotency(ts, ts, IdempotencyOptions{Logger: coreQuiet, Now: func() time.Time { return apitest.Now }})
	srv := New(w.L, Options{Auth: ts, Logger: coreQuiet, Now: func() time.Time { return apitest.Now }, Middleware: []func(http.Handler) http.Handler{idem.Middleware}})
	body := `{"kind":"person","person_id":"` + w.Person[apitest.StaffA].String() + `","label":"Sam's laptop"}`
	send := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Idempotency-Key", "new-token-1")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	first := send()
	if first.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", first.Code, first.Body)
	}
	created := mustJSON[CreatedToken](t, first)
	if !strings.HasPrefix(created.Token, TokenPrefix) {
		t.Fatalf("the first answer has no secret: %+v", created)
	}
	if first.Header().Get("X-Concord-Secret-Field") != "" {
		t.Errorf("an internal header was sent")
	}
	list, _ := ts.List(t.Context())

	again := send()
	if again.Code != http.StatusCreated || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %v", again.Code, again.Header())
	}
	replayed := mustJSON[CreatedToken](t, again)
	if replayed.Token == created.Token || strings.HasPrefix(replayed.Token, TokenPrefix) || strings.Contains(again.Body.String(), created.Token) {
		t.Errorf("the replay holds the secret: %s", again.Body)
	}
	if !strings.Contains(replayed.Token, "shown once") {
		t.Errorf("the replay's token %q does not say the secret was shown once", replayed.Token)
	}
	if replayed.TokenInfo != created.TokenInfo || again.Header().Get("Location") != first.Header().Get("Location") {
		t.Errorf("the replay describes %+v at %q, want the first answer's %+v at %q", replayed.TokenInfo, again.Header().Get("Location"), created.TokenInfo, first.Header().Get("Location"))
	}
	if after, _ := ts.List(t.Context()); len(after) != len(list) {
		t.Errorf("%d tokens after the replay, want %d (nothing made)", len(after), len(list))
	}
	// The secret the first answer showed works; the store's file (tokens
	// and idempotency records) never held it.
	if a, err := ts.Authenticate(t.Context(), created.Token); err != nil || a.PersonID != w.Person[apitest.StaffA] {
		t.Errorf("the new token authenticates as %+v, %v", a, err)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(created.Token)) || bytes.Contains(raw, []byte(strings.TrimPrefix(created.Token, TokenPrefix))) {
		t.Errorf("%s holds the new token's secret", path)
	}
	if !bytes.Contains(raw, []byte("new-token-1")) {
		t.Errorf("%s holds no idempotency record; the check above read nothing", path)
	}
}

// 10. A chair elected a moment ago acts as chair with the token they
// already held: rights come from the ledger, not the token.
func TestANewChairActsWithTheTokenTheyHeld(t *testing.T) {
	env := coreServer(t)
	w := env.W
	seg := governance.DefaultSegmentID(w.SchoolA, governance.DefaultSegmentNames[2])
	z := governance.CommunityID(w.SchoolA, seg)
	Z := "/v1/communities/" + z.String()
	env.ok(t, RoleDirector, "/v1/communities", map[string]any{"school_id": w.SchoolA, "segment_id": seg})
	for _, who := range []Role{RoleStaff, RoleChair} {
		env.ok(t, who, Z+"/members", map[string]any{"person_id": env.PersonOf[who], "year": apitest.Year, "basis": []string{"interest"}})
	}
	roster := map[string]any{"year": apitest.Year}
	if p := env.refused(t, RoleStaff, http.MethodPost, Z+"/roster", roster, http.StatusForbidden); p.Code != "not-permitted" {
		t.Fatalf("StaffA confirming Z's roster before the election: code %q, want not-permitted", p.Code)
	}

	opened := env.ok(t, RoleStaff, Z+"/elections", map[string]any{"year": apitest.Year, "ballot": "open"})
	el := opened.Location
	if !strings.HasPrefix(el, "/v1/elections/") {
		t.Fatalf("the election's location is %q", el)
	}
	env.ok(t, RoleChair, el+"/nominations", map[string]any{"nominee_id": env.PersonOf[RoleStaff]})
	env.ok(t, RoleStaff, el+"/nomination/accept", nil)
	env.ok(t, RoleStaff, el+"/voting", nil)
	for _, who := range []Role{RoleStaff, RoleChair} {
		env.ok(t, who, el+"/votes", map[string]any{"candidate_id": env.PersonOf[RoleStaff]})
	}
	closed := env.ok(t, RoleStaff, el+"/close", nil)
	elected := false
	for _, e := range closed.Events {
		elected = elected || e.Type == "ChairElected"
	}
	if !elected {
		t.Fatalf("closing recorded %+v, want ChairElected", closed.Events)
	}

	// The same token, now the chair's.
	if w := env.send(t, RoleStaff, http.MethodPost, Z+"/roster", roster); w.Code != http.StatusCreated && w.Code != http.StatusOK {
		t.Fatalf("the new chair confirming Z's roster: %d %s", w.Code, w.Body)
	}
}

// 11. A person who left the school can no longer act, with the token they
// still hold: neither as its staff nor for themselves.
func TestAPersonWhoLeftCannotAct(t *testing.T) {
	env := coreServer(t)
	w := env.W
	staffA := env.PersonOf[RoleStaff].String()
	draft := func() map[string]any {
		return map[string]any{"community_id": w.CommunityX, "year": apitest.Year, "title": "Quiet reading", "body": "Twenty minutes a day.", "expected_impact": "Calmer mornings."}
	}
	strengths := map[string]any{"year": apitest.Year, "scores": governance.Strengths{RelationshipBuilding: 60, Executing: 70, StrategicThinking: 50, Influencing: 40}}
	env.ok(t, RoleStaff, "/v1/proposals", draft())
	env.ok(t, RoleStaff, "/v1/people/"+staffA+"/strengths", strengths)

	env.ok(t, RoleDirector, "/v1/people/"+staffA+"/leave", map[string]any{"reason": "Moved to another school."})
	t.Run("as staff", func(t *testing.T) {
		if p := env.refused(t, RoleStaff, http.MethodPost, "/v1/proposals", draft(), http.StatusForbidden); p.Code != "not-permitted" {
			t.Errorf("StaffA drafting after leaving: code %q, want not-permitted", p.Code)
		}
		if p := env.refused(t, RoleStaff, http.MethodPost, "/v1/elections/"+w.Election.String()+"/nomination/accept", nil, http.StatusForbidden); p.Code != "not-permitted" {
			t.Errorf("StaffA accepting a nomination after leaving: code %q, want not-permitted", p.Code)
		}
		if p := mustProblem(t, env.do(t, RoleStaff, http.MethodGet, "/v1/schools/"+w.SchoolA.String(), nil), http.StatusForbidden); p.Code != "not-permitted" {
			t.Errorf("StaffA reading school A after leaving: code %q, want not-permitted", p.Code)
		}
	})
	t.Run("for themselves", func(t *testing.T) {
		// What a person records for themselves (their strengths) is an act
		// in the school too: refused by their rights, not left to a rule
		// of the record.
		if p := env.refused(t, RoleStaff, http.MethodPost, "/v1/people/"+staffA+"/strengths", strengths, http.StatusForbidden); p.Code != "not-permitted" {
			t.Errorf("StaffA recording their strengths after leaving: code %q, want not-permitted", p.Code)
		}
	})
}

// 12. A token stops working at its expiry; an expiry in the past is
// refused when the token is made.
func TestAnExpiredTokenIsRefused(t *testing.T) {
	now := apitest.Now
	ts, err := OpenTokens("", TokensOptions{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ts.Close() })
	w := apitest.New(t)
	srv := New(w.L, Options{Auth: ts, Logger: coreQuiet, Now: func() time.Time { return apitest.Now }})
	get := func(secret string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/v1/schools/"+w.SchoolA.String(), nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	staffA := w.Person[apitest.StaffA]
	if _, _, err := ts.Create(t.Context(), TokenSpec{Kind: app.KindPerson, PersonID: staffA, ExpiresAt: now.Add(-time.Second)}); err == nil {
		t.Fatal("a token with an expiry in the past was made")
	}
	secret, _, err := ts.Create(t.Context(), TokenSpec{Kind: app.KindPerson, PersonID: staffA, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if rec := get(secret); rec.Code != http.StatusOK {
		t.Fatalf("before the expiry: %d %s", rec.Code, rec.Body)
	}
	now = now.Add(time.Hour)
	mustProblem(t, get(secret), http.StatusUnauthorized)
	if _, err := ts.Authenticate(t.Context(), secret); !errors.Is(err, ErrExpiredToken) {
		t.Errorf("Authenticate after the expiry: %v, want ErrExpiredToken", err)
	}

	// Through the API too: the administrator cannot make one already
	// expired.
	admin, _, err := ts.Create(t.Context(), TokenSpec{Kind: app.KindAdmin})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := ts.List(t.Context())
	req := httptest.NewRequest(http.MethodPost, "/v1/tokens", strings.NewReader(`{"person_id":"`+staffA.String()+`","expires_at":"`+now.Add(-time.Minute).Format(time.RFC3339)+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	p := mustProblem(t, rec, http.StatusUnprocessableEntity)
	wantField(t, p, "expires_at")
	if after, _ := ts.List(t.Context()); len(after) != len(n) {
		t.Errorf("%d tokens after a refused request, want %d", len(after), len(n))
	}
}

// A chair who leaves the school leaves the Leadership Team: LeaveSchool
// ends their memberships and their chair, their vote in the open round
// lapses, and the Team in office when the Director closes the round
// decides. Here a tie of the two who count sends the proposal back.
func TestALeaverLeavesTheLeadershipTeam(t *testing.T) {
	env := coreServer(t)
	w := env.W
	const staffA2 = "staffA2" // the chair of Y, on the Team
	secret, _, err := env.Tokens.Create(t.Context(), TokenSpec{Kind: app.KindPerson, PersonID: w.StaffA2, Label: staffA2})
	if err != nil {
		t.Fatal(err)
	}
	env.Token[staffA2] = secret
	prop := "/v1/proposals/" + w.Proposal.String()
	vote := func(v string) map[string]any {
		return map[string]any{"vote": v, "reason": "Considered.", "aligned": true, "alignment_note": "In line with the values."}
	}
	signOff := map[string]any{"reason": "The Team in office decided."}
	chairA := env.PersonOf[RoleChair]

	env.ok(t, RoleChair, prop+"/team-votes", vote("approve"))
	left := env.ok(t, RoleDirector, "/v1/people/"+chairA.String()+"/leave", map[string]any{"reason": "Moved to another school."})
	count := map[string]int{}
	for _, e := range left.Events {
		count[e.Type]++
	}
	// ChairA was a member of X (its chair) and of Y.
	if count["PersonLeftSchool"] != 1 || count["MemberLeft"] != 2 || count["ChairVacated"] != 1 {
		t.Errorf("the leaving recorded %v, want PersonLeftSchool, MemberLeft in X and Y, ChairVacated in X", count)
	}
	type ref struct {
		ID uuid.UUID `json:"id"`
	}
	read := func(path string, v any) {
		t.Helper()
		rec := env.do(t, RoleDirector, http.MethodGet, path, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &struct {
			Data any `json:"data"`
		}{v}); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	var team struct {
		Members []ref `json:"members"`
	}
	read("/v1/schools/"+w.SchoolA.String()+"/leadership-team?year="+apitest.Year, &team)
	if len(team.Members) != 2 || team.Members[0].ID != env.PersonOf[RoleDirector] || team.Members[1].ID != w.StaffA2 {
		t.Errorf("the Team after ChairA left = %+v, want A's Director and Y's chair", team.Members)
	}
	// ChairA's vote lapsed: the Director's alone is short of a quorum of
	// the two in office.
	env.ok(t, RoleDirector, prop+"/team-votes", vote("approve"))
	if p := env.refused(t, RoleDirector, http.MethodPost, prop+"/sign-off", signOff, http.StatusConflict); p.Code != "team-quorum-not-reached" {
		t.Errorf("signing off with ChairA's vote lapsed: code %q, want team-quorum-not-reached", p.Code)
	}
	env.ok(t, staffA2, prop+"/team-votes", vote("send_back"))
	res := env.ok(t, RoleDirector, prop+"/sign-off", signOff)
	if got := lastEvent(t, env, res.Stream); got.Type != "ProposalReturned" {
		t.Errorf("one vote to approve and one to send back that count: %s, want ProposalReturned (a tie sends back)", got.Type)
	}
	var proposal struct {
		Status string `json:"status"`
		Rounds []struct {
			Turnout  int `json:"turnout"`
			Approve  int `json:"approve"`
			SendBack int `json:"send_back"`
			Votes    []struct {
				Voter  ref  `json:"voter"`
				Lapsed bool `json:"lapsed"`
			} `json:"votes"`
		} `json:"team_rounds"`
	}
	read(prop, &proposal)
	if proposal.Status != governance.StatusReturned || len(proposal.Rounds) != 1 {
		t.Fatalf("proposal = %+v, want returned after one round", proposal)
	}
	r := proposal.Rounds[0]
	if r.Turnout != 2 || r.Approve != 1 || r.SendBack != 1 || len(r.Votes) != 3 {
		t.Fatalf("round = %+v, want three votes cast, two counted: 1 approve, 1 send back", r)
	}
	for i, want := range []struct {
		who    uuid.UUID
		lapsed bool
	}{{chairA, true}, {env.PersonOf[RoleDirector], false}, {w.StaffA2, false}} {
		if v := r.Votes[i]; v.Voter.ID != want.who || v.Lapsed != want.lapsed {
			t.Errorf("vote %d = %+v, want by %s, lapsed %v", i, v, want.who, want.lapsed)
		}
	}
}

// The Director sets how the school settles ties and the Leadership Team's
// quorum, and casts the deciding vote in an election that tied after the
// run-offs the school allows; no one else does.
func TestTheDirectorSettlesTiesAndSetsTheQuorum(t *testing.T) {
	env := coreServer(t)
	w := env.W
	school := "/v1/schools/" + w.SchoolA.String()
	staffA, chairA := env.PersonOf[RoleStaff], env.PersonOf[RoleChair]

	// The Team's quorum: the Director's to set, within what the Team can
	// be; setting the rule in force again records nothing.
	count := map[string]any{"quorum": map[string]any{"rule": "count", "count": 2}}
	for _, who := range []Role{RoleStaff, RoleChair, RoleGovernor, apitest.DirB} {
		env.refused(t, who, http.MethodPost, school+"/team-quorum", count, http.StatusForbidden)
	}
	p := env.refused(t, RoleDirector, http.MethodPost, school+"/team-quorum", map[string]any{"quorum": map[string]any{"rule": "count", "count": 99}}, http.StatusUnprocessableEntity)
	wantField(t, p, "quorum.count")
	if res := env.ok(t, RoleDirector, school+"/team-quorum", count); len(res.Events) != 1 || res.Events[0].Type != "TeamQuorumSet" {
		t.Errorf("setting the quorum recorded %+v, want TeamQuorumSet", res.Events)
	}
	before := headOf(t, env)
	if rec := env.send(t, RoleDirector, http.MethodPost, school+"/team-quorum", count); rec.Code != http.StatusOK || headOf(t, env) != before {
		t.Errorf("setting the same quorum again: %d, ledger moved %v; want 200 and nothing recorded", rec.Code, headOf(t, env) != before)
	}

	// Ties: no run-off at A, straight to the Director's casting vote.
	for _, who := range []Role{RoleStaff, RoleChair, apitest.DirB} {
		env.refused(t, who, http.MethodPost, school+"/tie-break", map[string]any{"run_offs": 0}, http.StatusForbidden)
	}
	wantField(t, env.refused(t, RoleDirector, http.MethodPost, school+"/tie-break", map[string]any{"run_offs": 6}, http.StatusUnprocessableEntity), "run_offs")
	env.ok(t, RoleDirector, school+"/tie-break", map[string]any{"run_offs": 0})

	// StaffA (nominated) and ChairA stand; each votes for themselves.
	el := "/v1/elections/" + w.Election.String()
	cast := el + "/casting-vote"
	env.ok(t, RoleStaff, el+"/nominations", map[string]any{"nominee_id": chairA})
	env.ok(t, RoleStaff, el+"/nomination/accept", nil)
	env.ok(t, RoleChair, el+"/nomination/accept", nil)
	env.ok(t, RoleChair, el+"/voting", nil)
	if p := env.refused(t, RoleDirector, http.MethodPost, cast, map[string]any{"candidate_id": staffA}, http.StatusConflict); p.Code != "no-casting-vote-due" {
		t.Errorf("a casting vote while voting is open: code %q, want no-casting-vote-due", p.Code)
	}
	env.ok(t, RoleStaff, el+"/votes", map[string]any{"candidate_id": staffA})
	env.ok(t, RoleChair, el+"/votes", map[string]any{"candidate_id": chairA})
	closed := env.ok(t, RoleChair, el+"/close", nil)
	types := map[string]bool{}
	for _, e := range closed.Events {
		types[e.Type] = true
	}
	if !types["CastingVoteAwaited"] || types["ChairElected"] {
		t.Fatalf("closing a tie with no run-off allowed recorded %+v, want CastingVoteAwaited and no chair", closed.Events)
	}
	for _, who := range []Role{RoleChair, RoleStaff, RoleGovernor, apitest.DirB} {
		env.refused(t, who, http.MethodPost, cast, map[string]any{"candidate_id": staffA}, http.StatusForbidden)
	}
	if p := env.refused(t, RoleDirector, http.MethodPost, cast, map[string]any{"candidate_id": w.StaffA2}, http.StatusUnprocessableEntity); p.Code != "not-a-candidate" {
		t.Errorf("a casting vote for someone not tied: code %q, want not-a-candidate", p.Code)
	}
	wantField(t, env.refused(t, RoleDirector, http.MethodPost, cast, map[string]any{"candidate_id": staffA, "director_id": env.PersonOf[RoleDirector]}, http.StatusUnprocessableEntity), "director_id")
	res := env.ok(t, RoleDirector, cast, map[string]any{"candidate_id": staffA})
	var got []string
	for _, e := range res.Events {
		got = append(got, e.Type)
	}
	if want := []string{"CastingVoteCast", "ChairElected"}; !slices.Equal(got, want) {
		t.Errorf("the casting vote recorded %v, want %v", got, want)
	}
	if last := lastEvent(t, env, res.Stream); last.Metadata.ActorID != env.PersonOf[RoleDirector].String() {
		t.Errorf("the casting vote is recorded as cast by %s, want DirA", last.Metadata.ActorID)
	}
	type electionRead struct {
		Data struct {
			Elected *struct {
				ID uuid.UUID `json:"id"`
			} `json:"elected"`
		} `json:"data"`
	}
	rec := env.do(t, RoleStaff, http.MethodGet, el, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", el, rec.Code, rec.Body)
	}
	election := mustJSON[electionRead](t, rec)
	if election.Data.Elected == nil || election.Data.Elected.ID != staffA {
		t.Errorf("the election elected %+v, want StaffA by the casting vote", election.Data.Elected)
	}
}
