package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/concord-ledger/concord/api/app"
)

// openapiDoc is the document as a client reads it.
type openapiDoc struct {
	OpenAPI    string                           `json:"openapi"`
	Paths      map[string]map[string]openapiOp  `json:"paths"`
	Components struct{ Schemas map[string]any } `json:"components"`
	Tags       []struct{ Name string }          `json:"tags"`
}

type openapiOp struct {
	Summary     string                `json:"summary"`
	OperationID string                `json:"operationId"`
	Tags        []string              `json:"tags"`
	Security    []map[string][]string `json:"security"`
	UseCase     string                `json:"x-use-case"`
	Policy      []string              `json:"x-policy"`
	Parameters  []struct {
		Name, In string
		Required bool
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct{ Schema map[string]any } `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct{ Schema map[string]any } `json:"content"`
	} `json:"responses"`
}

func TestOpenAPIDescribesEveryRouteAndNothingElse(t *testing.T) {
	env := coreServer(t)
	w := env.do(t, "", http.MethodGet, "/v1/openapi.json", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: %d %s", w.Code, w.Body)
	}
	doc := mustJSON[openapiDoc](t, w)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}

	// Every route the router serves is documented …
	served := map[string]bool{}
	err := chi.Walk(env.Srv.mux, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		served[method+" "+pattern] = true
		op, ok := doc.Paths[pattern][strings.ToLower(method)]
		if !ok {
			t.Errorf("%s %s is served but not in the OpenAPI document", method, pattern)
		} else if op.Summary == "" || len(op.Tags) != 1 || op.Tags[0] == "" || op.OperationID == "" {
			t.Errorf("%s %s: summary %q, tags %v, operationId %q", method, pattern, op.Summary, op.Tags, op.OperationID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// … and every documented operation is served.
	ids := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			key := strings.ToUpper(method) + " " + path
			if !served[key] {
				t.Errorf("%s is documented but not served", key)
			}
			if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s of %s is also %s's", op.OperationID, key, prev)
			}
			ids[op.OperationID] = key
		}
	}
	if len(served) != len(Routes()) {
		t.Errorf("router serves %d routes, the table has %d", len(served), len(Routes()))
	}

	// Security, the use case and its policy, parameters, problems follow
	// the table.
	for _, rt := range Routes() {
		op := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]
		key := rt.Method + " " + rt.Pattern
		if !rt.Auth {
			if len(op.Security) != 0 || op.UseCase != "" {
				t.Errorf("%s is public but documents security %v, use case %q", key, op.Security, op.UseCase)
			}
		} else {
			if len(op.Security) != 1 || op.Security[0]["bearer"] == nil {
				t.Errorf("%s: security %v, want bearer", key, op.Security)
			}
			// Every route that needs a token runs a use case of the
			// application layer, whose policy the document states.
			policy, ok := app.Policies[rt.UseCase]
			if !ok {
				t.Errorf("%s: use case %q has no policy in app.Policies", key, rt.UseCase)
			} else if op.UseCase != rt.UseCase || len(op.Policy) != len(policy.Who) {
				t.Errorf("%s: x-use-case %q, x-policy %v; want %q with %d relations", key, op.UseCase, op.Policy, rt.UseCase, len(policy.Who))
			}
			if _, ok := op.Responses["401"].Content["application/problem+json"]; !ok {
				t.Errorf("%s: no 401 problem+json response", key)
			}
			if _, ok := op.Responses["403"].Content["application/problem+json"]; !ok {
				t.Errorf("%s: no 403 problem+json response", key)
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
			if !slices.ContainsFunc(op.Parameters, func(p struct {
				Name, In string
				Required bool
			}) bool {
				return p.In == "path" && p.Name == m[1] && p.Required
			}) {
				t.Errorf("%s: path parameter %s not documented", key, m[1])
			}
		}
		if (rt.Request != nil) != (op.RequestBody != nil) {
			t.Errorf("%s: request body documented %v, table has %v", key, op.RequestBody != nil, rt.Request != nil)
		}
	}

	// Every $ref resolves.
	var refs func(v any)
	refs = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				name := strings.TrimPrefix(r, "#/components/schemas/")
				if _, ok := doc.Components.Schemas[name]; !ok {
					t.Errorf("$ref %s does not resolve", r)
				}
			}
			for _, x := range v {
				refs(x)
			}
		case []any:
			for _, x := range v {
				refs(x)
			}
		}
	}
	var raw any
	_ = json.Unmarshal(w.Body.Bytes(), &raw)
	refs(raw)
}

func TestOpenAPISchemasFollowJSONTags(t *testing.T) {
	g := &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}}
	g.schema(reflect.TypeOf(CreatedToken{}))
	s, ok := g.schemas["CreatedToken"].(map[string]any)
	if !ok {
		t.Fatalf("no CreatedToken schema: %v", g.schemas)
	}
	props := s["properties"].(map[string]any)
	// Embedded TokenInfo is flattened; a token carries no role or scope.
	for _, f := range []string{"token", "id", "kind", "person_id", "created_at", "expires_at", "revoked_at", "label"} {
		if _, ok := props[f]; !ok {
			t.Errorf("property %s missing: %v", f, props)
		}
	}
	for _, f := range []string{"role", "school_id", "partnership_id"} {
		if _, ok := props[f]; ok {
			t.Errorf("a token still has a %s: %v", f, props)
		}
	}
	if got := props["person_id"].(map[string]any)["format"]; got != "uuid" {
		t.Errorf("person_id format %v, want uuid", got)
	}
	if got := props["created_at"].(map[string]any)["format"]; got != "date-time" {
		t.Errorf("created_at format %v, want date-time", got)
	}
	req := s["required"].([]string)
	if !slices.Contains(req, "token") || !slices.Contains(req, "kind") || slices.Contains(req, "label") || slices.Contains(req, "revoked_at") || slices.Contains(req, "person_id") {
		t.Errorf("required %v: want token and kind, not label, revoked_at or person_id", req)
	}
	// A slice of structs refers to the named schema.
	if got := g.schema(reflect.TypeOf([]TokenInfo{})); got["type"] != "array" || got["items"].(map[string]any)["$ref"] != "#/components/schemas/TokenInfo" {
		t.Errorf("[]TokenInfo schema %v", got)
	}
}
