package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/views"
)

// MaxBodySize is the largest request body accepted (1 MiB).
const MaxBodySize = 1 << 20

// decodeJSON decodes r's body into v strictly: JSON only, at most
// MaxBodySize bytes, no unknown fields, one value. Errors are problems
// (400 malformed, 413 too large, 415 not JSON, 422 wrong type).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Send JSON",
			"the body is %q; send application/json", ct)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// readBody reads a JSON body of at most MaxBodySize bytes (415 for another
// content type, 413 over the limit).
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Send JSON",
			"the body is %q; send application/json", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodySize))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, problem(http.StatusRequestEntityTooLarge, "too-large", "The request is too large",
			"the body is over %d bytes", MaxBodySize)
	}
	if err != nil {
		return nil, badRequest("reading the body: %v", err)
	}
	return body, nil
}

// decodeBytes is decodeJSON's strict decoding of a body already read.
func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("the body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return badRequest("the body is not valid JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ):
			return invalidField(typ.Field, "%s must be %s, not a JSON %s", fieldName(typ.Field), typ.Type, typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return invalidField(f, "%q is not a field of this request; remove it", f)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("the body ends too early: the JSON is incomplete")
		}
		return invalidField("", "%v", err)
	}
	if dec.More() {
		return badRequest("the body holds more than one JSON value")
	}
	return nil
}

func fieldName(f string) string {
	if f == "" {
		return "the body"
	}
	return f
}

// pathUUID parses the URL parameter name as a UUID (400 if malformed).
func pathUUID(r *http.Request, name string) (uuid.UUID, error) {
	s := chi.URLParam(r, name)
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, badRequest("%s %q is not a valid id (a UUID like 0190a5b4-…)", name, s)
	}
	return id, nil
}

// queryUUID parses an optional query parameter as a UUID.
func queryUUID(r *http.Request, name string) (uuid.UUID, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, badRequest("%s %q is not a valid id", name, s)
	}
	return id, nil
}

// queryUint parses an optional non-negative integer query parameter.
func queryUint(r *http.Request, name string, def uint64) (uint64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, badRequest("%s %q is not a whole number", name, s)
	}
	return n, nil
}

// parseTime accepts RFC 3339 (with or without fractional seconds) or a
// plain date (YYYY-MM-DD, meaning the end of that day, UTC).
func parseTime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Nanosecond).UTC(), true
	}
	return time.Time{}, false
}

// AsOfFromRequest reads the reading a request asks for: as_of (a position,
// an RFC 3339 time or a date) and reading=corrected (as corrected now).
func AsOfFromRequest(r *http.Request) (views.AsOf, error) {
	var a views.AsOf
	q := r.URL.Query()
	switch q.Get("reading") {
	case "", "known":
	case "corrected":
		a.Corrected = true
	default:
		return a, badRequest("reading %q is not known; use reading=known (as known then) or reading=corrected (as corrected now)", q.Get("reading"))
	}
	s := q.Get("as_of")
	if s == "" {
		s = q.Get("position")
	}
	if s == "" {
		return a, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if a.Corrected {
			return a, badRequest("as corrected now takes a date, not a position")
		}
		if n == 0 {
			return a, badRequest("positions start at 1")
		}
		a.Position = n
		return a, nil
	}
	t, ok := parseTime(s)
	if !ok {
		return a, badRequest("as_of %q is neither a ledger position (a whole number) nor a time (RFC 3339, e.g. 2025-10-01T09:00:00Z, or a date 2025-10-01)", s)
	}
	a.Time = t
	return a, nil
}

// etag quotes a revision as an ETag.
func etag(rev int64) string { return fmt.Sprintf("%q", strconv.FormatInt(rev, 10)) }

// ifMatch reads an If-Match header: ok is false when there is none.
func ifMatch(r *http.Request) (rev int64, ok bool, err error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return 0, false, nil
	}
	h = strings.TrimPrefix(h, "W/")
	n, perr := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if perr != nil || n < -1 {
		return 0, false, badRequest("If-Match %q is not an ETag this API gave out (a quoted revision like \"3\")", h)
	}
	return n, true, nil
}
