package api

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain"
)

// commandExtras are the fields every command body may carry besides the
// command's own: why (recorded with the events; a correction, an erasure
// and a fact recorded for someone else need one) and when the fact took
// effect if not now. They are the only way to give either: there is no
// header for them.
type commandExtras struct {
	// Reason says why, in the actor's words.
	Reason string `json:"reason,omitempty"`
	// EffectiveAt is when the fact took effect, if not when recorded (RFC
	// 3339, or a date).
	EffectiveAt time.Time `json:"effective_at,omitzero"`
}

// String limits. Every string a request carries has a maximum length,
// enforced on decoding and stated in the OpenAPI document.
const (
	// MaxNameLength bounds names and titles.
	MaxNameLength = 200
	// MaxTextLength bounds every other text.
	MaxTextLength = 10000
)

// maxLength returns the longest string field f of a request may hold.
func maxLength(f reflect.StructField) int {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch {
	case name == "name", name == "title", strings.HasSuffix(name, "_name"), name == "year", name == "academic_year",
		name == "kind", name == "stance", name == "outcome", name == "ballot", name == "choice", name == "category",
		name == "area", name == "cohort", name == "term", name == "rating", name == "subject", name == "exception",
		name == "email", name == "phone", name == "label", name == "organisation", name == "stream", name == "currency",
		name == "condition", name == "party_kind", name == "status":
		return MaxNameLength
	}
	return MaxTextLength
}

// jsonFields returns the JSON names of t's fields (embedded structs'
// included), cached.
func jsonFields(t reflect.Type) map[string]bool {
	if v, ok := fieldCache.Load(t); ok {
		return v.(map[string]bool)
	}
	out := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			out[name] = true
		}
	}
	if t.Kind() == reflect.Struct {
		walk(t)
	}
	fieldCache.Store(t, out)
	return out
}

var fieldCache sync.Map

// decodeCommand decodes a command body strictly into c and takes the
// extras (reason, effective_at) out of it: a command that has a field of
// the same name (a decision's reason) gets it too. An empty body leaves the
// zero value, for commands whose ids all come from the path. Strings over
// their limit are refused (422).
func decodeCommand[C any](w http.ResponseWriter, r *http.Request, c *C) (commandExtras, error) {
	var extra commandExtras
	if r.ContentLength == 0 {
		return extra, nil
	}
	body, err := readBody(w, r)
	if err != nil {
		return extra, err
	}
	var raw map[string]json.RawMessage
	if err := decodeBytes(body, &raw); err != nil {
		return extra, err
	}
	own := jsonFields(reflect.TypeFor[C]())
	if v, ok := raw["reason"]; ok {
		if err := json.Unmarshal(v, &extra.Reason); err != nil {
			return extra, invalidField("reason", "reason must be a string")
		}
		if !own["reason"] {
			delete(raw, "reason")
		}
	}
	if v, ok := raw["effective_at"]; ok {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return extra, invalidField("effective_at", "effective_at must be a date (2025-09-01) or an RFC 3339 time")
		}
		t, ok := parseTime(s)
		if !ok {
			return extra, invalidField("effective_at", "effective_at %q is not a date or an RFC 3339 time", s)
		}
		extra.EffectiveAt = t
		if !own["effective_at"] {
			delete(raw, "effective_at")
		}
	}
	if utf8.RuneCountInString(extra.Reason) > MaxTextLength {
		return extra, invalidField("reason", "reason is over %d characters", MaxTextLength)
	}
	rest, err := json.Marshal(raw)
	if err != nil {
		return extra, badRequest("the body could not be read: %v", err)
	}
	if err := decodeBytes(rest, c); err != nil {
		return extra, err
	}
	return extra, checkLengths(reflect.ValueOf(c).Elem(), "")
}

// checkLengths refuses a string over its limit anywhere in v.
func checkLengths(v reflect.Value, prefix string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return checkLengths(v.Elem(), prefix)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			path := prefix
			if !f.Anonymous {
				path = joinField(prefix, name)
			}
			fv := v.Field(i)
			limit := maxLength(f)
			switch {
			case fv.Kind() == reflect.String:
				if n := utf8.RuneCountInString(fv.String()); n > limit {
					return invalidField(path, "%s is %d characters long; at most %d are allowed", path, n, limit)
				}
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.String:
				for j := range fv.Len() {
					if n := utf8.RuneCountInString(fv.Index(j).String()); n > MaxNameLength {
						return invalidField(path, "an item of %s is %d characters long; at most %d are allowed", path, n, MaxNameLength)
					}
				}
				if fv.Len() > 100 {
					return invalidField(path, "%s has %d items; at most 100 are allowed", path, fv.Len())
				}
			default:
				if err := checkLengths(fv, path); err != nil {
					return err
				}
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		if v.Len() > 1000 {
			return invalidField(prefix, "%s has %d items; at most 1000 are allowed", prefix, v.Len())
		}
		for j := range v.Len() {
			if err := checkLengths(v.Index(j), prefix); err != nil {
				return err
			}
		}
	}
	return nil
}

func joinField(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// commandRoute builds a POST route whose body is the command C: the body
// is decoded strictly, bind sets the ids from the path, and exec runs the
// application layer's use case (named useCase) as the authenticated
// actor. created, when not nil, says where the new record is read.
func commandRoute[C any](pattern, summary, tag, useCase string,
	bind func(s *Server, r *http.Request, c *C) error,
	exec func(a *app.App, ctx context.Context, actor app.Actor, c C) (domain.Result, error),
	created ...func(c *C) string) route {
	var zero C
	return route{Method: http.MethodPost, Pattern: pattern, Summary: summary, Tag: tag, Auth: true, UseCase: useCase,
		Request: zero, Response: CommandResult{}, Status: http.StatusCreated, Command: true, Filled: filledBy(pattern, bind),
		Handle: func(s *Server, w http.ResponseWriter, r *http.Request) error {
			var c C
			extra, err := decodeCommand(w, r, &c)
			if err != nil {
				return err
			}
			if bind != nil {
				if err := bind(s, r, &c); err != nil {
					return err
				}
			}
			where := ""
			if len(created) > 0 {
				where = created[0](&c)
			}
			return s.command(w, r, extra, where, func(ctx context.Context, actor app.Actor) (domain.Result, error) {
				return exec(s.App, ctx, actor, c)
			})
		}}
}

// CheckLengths refuses a command (a pointer to it) with a string over its
// limit, as the API's decoding does (422 naming the field): the web forms
// build commands themselves and check them the same way.
func CheckLengths(cmd any) error {
	return checkLengths(reflect.ValueOf(cmd), "")
}
