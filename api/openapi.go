package api

import (
	"encoding"
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
)

// APIVersion is the version of the HTTP API the OpenAPI document states.
const APIVersion = "1.0.0"

func init() { addRoutes(openapiRoutes) }

func openapiRoutes() []route {
	return []route{
		{Method: http.MethodGet, Pattern: "/v1/openapi.json", Summary: "Describe the API (OpenAPI 3.1)", Tag: "Operations",
			Response: map[string]any{}, Handle: serveOpenAPI},
	}
}

var (
	openapiOnce sync.Once
	openapiJSON []byte
	openapiErr  error
)

func serveOpenAPI(s *Server, w http.ResponseWriter, r *http.Request) error {
	openapiOnce.Do(func() { openapiJSON, openapiErr = json.MarshalIndent(OpenAPI(), "", "  ") })
	if openapiErr != nil {
		return openapiErr
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(openapiJSON)
	return err
}

// OpenAPI returns the OpenAPI 3.1 document of every route in Routes():
// paths, operations with summaries, tags and the roles allowed
// (x-roles), bearer security on every non-public route, path parameters,
// request and response schemas reflected from the body types, and the
// problem responses.
func OpenAPI() map[string]any {
	g := &schemaGen{schemas: map[string]any{}, names: map[reflect.Type]string{}}
	problemRef := g.ref(reflect.TypeFor[Problem]())
	paths := map[string]map[string]any{}
	tagSet := map[string]bool{}
	for _, rt := range Routes() {
		item := paths[rt.Pattern]
		if item == nil {
			item = map[string]any{}
			paths[rt.Pattern] = item
		}
		tagSet[rt.Tag] = true
		item[strings.ToLower(rt.Method)] = g.operation(rt, problemRef)
	}
	var tags []map[string]any
	for _, t := range sortedKeys(tagSet) {
		tags = append(tags, map[string]any{"name": t})
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Concord API",
			"version":     APIVersion,
			"description": "The HTTP interface of the Concord collaboration ledger. Errors are RFC 9457 problem+json; reads accept as_of; commands accept If-Match and Idempotency-Key. See docs/api.md.",
		},
		"tags":  tags,
		"paths": paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A token from concord token create, POST /v1/tokens, or the demo's tokens.json."},
			},
		},
	}
}

var pathParam = regexp.MustCompile(`\{([^}/]+)\}`)

func (g *schemaGen) operation(rt route, problemRef map[string]any) map[string]any {
	op := map[string]any{
		"summary":     rt.Summary,
		"operationId": operationID(rt),
		"tags":        []string{rt.Tag},
	}
	var params []map[string]any
	for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
		name := strings.TrimSuffix(strings.SplitN(m[1], ":", 2)[0], "*")
		sch := map[string]any{"type": "string"}
		if isIDParam(name) {
			sch["format"] = "uuid"
		}
		params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": sch})
	}
	write := rt.Method == http.MethodPost || rt.Method == http.MethodDelete || rt.Method == http.MethodPut || rt.Method == http.MethodPatch
	for _, name := range queryOf(rt) {
		q := queryParams[name]
		params = append(params, map[string]any{"name": name, "in": "query", "required": false, "description": q.Description, "schema": q.Schema})
	}
	if write && rt.Auth {
		params = append(params,
			map[string]any{"name": "Idempotency-Key", "in": "header", "required": false, "description": "Retry safely: the first successful answer to this key is replayed for 24 hours.", "schema": map[string]any{"type": "string", "maxLength": 255}},
			map[string]any{"name": "If-Match", "in": "header", "required": false, "description": "The ETag (revision) the change expects; 412 when the record has moved on.", "schema": map[string]any{"type": "string"}},
		)
	}
	if params != nil {
		op["parameters"] = params
	}
	if rt.Request != nil {
		sch := g.schema(reflect.TypeOf(rt.Request))
		if rt.Command {
			sch = g.commandSchema(rt)
		}
		op["requestBody"] = map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": sch}},
		}
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	ok := map[string]any{"description": http.StatusText(status)}
	if rt.Response != nil {
		ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(rt.Response))}}
	}
	if rt.Method == http.MethodGet || write {
		ok["headers"] = map[string]any{"ETag": map[string]any{"description": "The aggregate's revision, when the answer has one.", "schema": map[string]any{"type": "string"}}}
	}
	responses := map[string]any{itoa(status): ok}
	prob := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/problem+json": map[string]any{"schema": problemRef}}}
	}
	responses["400"] = prob("The request is malformed (bad JSON, id, date or header).")
	if rt.Auth {
		responses["401"] = prob("No token, or an unknown, revoked or expired one.")
		responses["403"] = prob("The ledger gives the caller no right to this (see x-policy).")
		responses["404"] = prob("No such resource.")
	}
	if rt.Request != nil {
		responses["413"] = prob("The body is over 1 MiB.")
		responses["415"] = prob("The body is not JSON.")
	}
	if write {
		responses["409"] = prob("A rule of the ledger conflicts, or the Idempotency-Key is in use.")
		responses["412"] = prob("If-Match does not match the record's revision.")
		responses["422"] = prob("A field is invalid, a rule was broken, or the Idempotency-Key was used for another request.")
	}
	if rt.Pattern == "/readyz" {
		responses["503"] = prob("The store does not answer, or a projection lags or failed.")
	}
	op["responses"] = responses
	if !rt.Auth {
		op["security"] = []map[string][]string{}
	} else {
		op["security"] = []map[string][]string{{"bearer": {}}}
		if p, ok := app.Policies[rt.UseCase]; ok {
			who := make([]string, len(p.Who))
			for i, rel := range p.Who {
				who[i] = app.RelationText(rel)
			}
			op["x-use-case"] = rt.UseCase
			op["x-policy"] = who
		}
	}
	return op
}

func isIDParam(name string) bool {
	return name == "id" || strings.HasSuffix(name, "_id") || strings.HasSuffix(name, "ID") || (strings.HasSuffix(name, "Id") && len(name) > 2)
}

// operationID is a stable id from the method and pattern:
// POST /v1/communities/{id}/members → post_communities_id_members.
func operationID(rt route) string {
	p := strings.TrimPrefix(rt.Pattern, "/v1")
	p = strings.NewReplacer("{", "", "}", "", ".", "_", "-", "_").Replace(p)
	parts := strings.FieldsFunc(p, func(c rune) bool { return c == '/' })
	return strings.ToLower(rt.Method) + "_" + strings.Join(parts, "_")
}

func itoa(n int) string { return strconv.Itoa(n) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// schemaGen reflects Go types into JSON Schema (the 2020-12 dialect
// OpenAPI 3.1 uses), naming struct types in components/schemas.
type schemaGen struct {
	schemas map[string]any
	names   map[reflect.Type]string
}

var (
	typeTime          = reflect.TypeFor[time.Time]()
	typeUUID          = reflect.TypeFor[uuid.UUID]()
	typeRaw           = reflect.TypeFor[json.RawMessage]()
	typeDuration      = reflect.TypeFor[time.Duration]()
	typeTextMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	typeJSONMarshaler = reflect.TypeFor[json.Marshaler]()
)

// ref names struct type t in components/schemas (generating it once)
// and returns a $ref to it.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	name, ok := g.names[t]
	if !ok {
		name = g.uniqueName(t)
		g.names[t] = name
		g.schemas[name] = map[string]any{} // placeholder: recursion ends here
		g.schemas[name] = g.object(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func (g *schemaGen) uniqueName(t reflect.Type) string {
	base := t.Name()
	if i := strings.IndexByte(base, '['); i >= 0 { // generic instance
		base = base[:i]
	}
	if base == "" {
		base = "Object"
	}
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	name := base
	if _, taken := g.schemas[name]; taken {
		name = strings.ToUpper(pkg[:1]) + pkg[1:] + base
	}
	for i := 2; ; i++ {
		if _, taken := g.schemas[name]; !taken {
			return name
		}
		name = base + itoa(i)
	}
}

// schema returns the schema of t.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case typeTime:
		return map[string]any{"type": "string", "format": "date-time"}
	case typeUUID:
		return map[string]any{"type": "string", "format": "uuid"}
	case typeRaw:
		return map[string]any{}
	case typeDuration:
		return map[string]any{"type": "integer", "description": "nanoseconds"}
	}
	if t.Implements(typeJSONMarshaler) || reflect.PointerTo(t).Implements(typeJSONMarshaler) {
		return map[string]any{}
	}
	if t.Implements(typeTextMarshaler) || reflect.PointerTo(t).Implements(typeTextMarshaler) {
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.ref(t)
	}
	return map[string]any{} // interfaces: any JSON value
}

// object reflects a struct's JSON fields: names from json tags, embedded
// structs flattened, required = without omitempty/omitzero.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required, map[reflect.Type]bool{})
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		slices.Sort(required)
		out["required"] = required
	}
	return out
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string, seen map[reflect.Type]bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			g.fields(ft, props, required, seen)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type)
		if strings.Contains(opts, "string") {
			s = map[string]any{"type": "string"}
		}
		if e := enumOf(t, f); e != nil {
			s = map[string]any{"type": "string", "enum": e}
		}
		s = withMaxLength(s, f)
		props[name] = s
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}

// withMaxLength adds the limit a request's string field f is held to (the
// same as decoding enforces) to its schema s.
func withMaxLength(s map[string]any, f reflect.StructField) map[string]any {
	switch s["type"] {
	case "string":
		if _, ok := s["format"]; ok || s["contentEncoding"] != nil {
			return s
		}
		out := maps.Clone(s)
		out["maxLength"] = maxLength(f)
		return out
	case "array":
		items, _ := s["items"].(map[string]any)
		if items["type"] == "string" && items["format"] == nil {
			out := maps.Clone(s)
			it := maps.Clone(items)
			it["maxLength"] = MaxNameLength
			out["items"] = it
			return out
		}
	}
	return s
}

// commandSchema is the body schema of a command route: the command's
// fields (those the server fills from the path or makes up are not
// required), with the reason and effective date every command takes.
func (g *schemaGen) commandSchema(rt route) map[string]any {
	t := reflect.TypeOf(rt.Request)
	props := map[string]any{}
	var required []string
	g.fields(t, props, &required, map[reflect.Type]bool{})
	var req []string
	for _, name := range required {
		if !contains(rt.Filled, name) && !contains(serverFilled, name) && !optionalFields[t.Name()+"."+name] {
			req = append(req, name)
		}
	}
	if _, ok := props["reason"]; !ok {
		props["reason"] = map[string]any{"type": "string", "maxLength": MaxTextLength, "description": "Why, recorded with the events (required when recording a fact for someone else, a correction or an erasure)."}
	}
	if _, ok := props["effective_at"]; !ok {
		props["effective_at"] = map[string]any{"type": "string", "maxLength": 40, "description": "When it took effect, if not now (RFC 3339 or a date)."}
	}
	out := map[string]any{"type": "object", "properties": props, "additionalProperties": false, "title": t.Name()}
	if len(req) > 0 {
		slices.Sort(req)
		out["required"] = req
	}
	return out
}
