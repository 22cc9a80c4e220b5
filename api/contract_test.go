package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/concord-ledger/concord/api/apitest"
)

// openAPIDoc loads the served OpenAPI document with kin-openapi.
func openAPIDoc(t *testing.T) *openapi3.T {
	t.Helper()
	b, err := json.Marshal(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("kin-openapi cannot load the document: %v", err)
	}
	return doc
}

// TestOpenAPIValidates: the document is valid OpenAPI 3.1 as kin-openapi
// checks it.
func TestOpenAPIValidates(t *testing.T) {
	doc := openAPIDoc(t)
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
}

// TestOpenAPIContract: every string a request carries has a maxLength;
// every query parameter a route reads is listed (a request with another
// is refused); enumerations are stated; commands take reason and
// effective_at in their bodies and no header for them.
func TestOpenAPIContract(t *testing.T) {
	doc := openAPIDoc(t)
	var walk func(where string, s *openapi3.Schema, seen map[*openapi3.Schema]bool)
	walk = func(where string, s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		if s.Type.Is("string") && s.Format == "" && s.Enum == nil && s.MaxLength == nil {
			t.Errorf("%s: a string without maxLength", where)
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p.Value, seen)
		}
		if s.Items != nil {
			walk(where+"[]", s.Items.Value, seen)
		}
	}
	commands := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			for _, p := range op.Parameters {
				if p.Value.In == "header" && strings.HasPrefix(p.Value.Name, "X-Concord-") {
					t.Errorf("%s takes the header %s: reasons and dates go in the body", where, p.Value.Name)
				}
			}
			if op.RequestBody == nil {
				continue
			}
			s := op.RequestBody.Value.Content.Get("application/json").Schema.Value
			walk(where, s, map[*openapi3.Schema]bool{})
			// A correction has its own reason and effective_from.
			if op.Extensions["x-use-case"] != nil && method == http.MethodPost && path != "/v1/tokens" && path != "/v1/corrections" {
				commands++
				if s.Properties["reason"] == nil || s.Properties["effective_at"] == nil {
					t.Errorf("%s: the body lacks reason or effective_at", where)
				}
			}
		}
	}
	if commands < 75 {
		t.Errorf("only %d commands have bodies", commands)
	}
	ballot := doc.Paths.Find("/v1/communities/{id}/elections").Post.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties["ballot"].Value
	if len(ballot.Enum) != 2 {
		t.Errorf("an election's ballot enum = %v, want secret and open", ballot.Enum)
	}
	var loans *openapi3.Operation = doc.Paths.Find("/v1/loans").Get
	names := map[string]bool{}
	for _, p := range loans.Parameters {
		names[p.Value.Name] = true
	}
	for _, want := range []string{"partnership", "year", "overdue", "as_of", "reading"} {
		if !names[want] {
			t.Errorf("GET /v1/loans does not list the query parameter %s", want)
		}
	}
}

// TestContractIsEnforced: what the document says is what the server does
// — an unlisted query parameter is refused, a string over its maxLength is
// refused, a field the document requires cannot be left out, a 201 that
// creates a record says where it is.
func TestContractIsEnforced(t *testing.T) {
	w := apitest.New(t)
	srv, tokens := worldServer(t, w)
	send := func(method, path, who string, body any) *httptest.ResponseRecorder {
		t.Helper()
		var b []byte
		if body != nil {
			var err error
			if b, err = json.Marshal(body); err != nil {
				t.Fatal(err)
			}
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(b))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+tokens[who])
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	head := func() uint64 {
		h, err := w.L.Store.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	if rec := send("GET", "/v1/loans?partnership="+w.P1.String()+"&colour=blue", apitest.StaffA, nil); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "colour") {
		t.Errorf("an unknown query parameter: %d %s", rec.Code, rec.Body)
	}
	before := head()
	long := strings.Repeat("m", MaxTextLength+1)
	if rec := send("POST", "/v1/proposals", apitest.StaffA, map[string]any{"community_id": w.CommunityX, "year": apitest.Year,
		"title": "T", "body": long, "expected_impact": "e"}); rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "body") {
		t.Errorf("a body of %d characters: %d %s", len(long), rec.Code, rec.Body)
	}
	if rec := send("POST", "/v1/schools", apitest.Admin, map[string]any{"name": strings.Repeat("n", MaxNameLength+1)}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("a name over %d characters: %d %s", MaxNameLength, rec.Code, rec.Body)
	}
	if head() != before {
		t.Fatal("a refused request wrote events")
	}
	// Every field the document requires of a body is required: without
	// it, the walk's request, which the server accepts from the first
	// principal docs/api.md's table lets through, is refused.
	doc := openAPIDoc(t)
	table := policyTable(t)
	checked := 0
	for _, rt := range Routes() {
		if !rt.Command {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		who := ""
		for i, mark := range table[key] {
			if mark == "✓" {
				who = apitest.Principals[i]
				break
			}
		}
		if who == "" {
			continue
		}
		op := doc.Paths.Find(rt.Pattern).GetOperation(rt.Method)
		required := op.RequestBody.Value.Content.Get("application/json").Schema.Value.Required
		try := func(drop string) (int, bool) {
			fw := apitest.New(t)
			fsrv, ftok := worldServer(t, fw)
			rq := walkRequests(fw)[key]
			full := map[string]any{}
			if rq.body != nil {
				b, _ := json.Marshal(rq.body)
				_ = json.Unmarshal(b, &full)
			}
			delete(full, drop)
			b, _ := json.Marshal(full)
			req := httptest.NewRequest(rt.Method, rq.path, bytes.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+ftok[who])
			before, _ := fw.L.Store.Head(t.Context())
			rec := httptest.NewRecorder()
			fsrv.ServeHTTP(rec, req)
			after, _ := fw.L.Store.Head(t.Context())
			if rec.Code == http.StatusCreated {
				var res CommandResult
				_ = json.Unmarshal(rec.Body.Bytes(), &res)
				if res.Location != "" && (rec.Header().Get("Location") != res.Location || !strings.HasSuffix(res.Location, res.ID)) {
					t.Errorf("%s: created %+v, Location %q", key, res, rec.Header().Get("Location"))
				}
			}
			return rec.Code, after == before
		}
		if code, _ := try(""); code/100 != 2 {
			continue // the walk's request is refused on the record's state
		}
		checked++
		for _, field := range required {
			if code, unchanged := try(field); code < 400 || !unchanged {
				t.Errorf("%s without %s (required by the document): %d, ledger unchanged %v", key, field, code, unchanged)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d commands were checked for their required fields", checked)
	}
}
