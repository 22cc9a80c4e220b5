package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// MaxLineSize is the longest line Verify and Import read (an event of
// eventstore's largest size, base64-encoded, with room for escapes).
const MaxLineSize = 8 << 20

// Line is one decoded line of an export: an event, or the final
// checkpoint (Checkpoint != nil).
type Line struct {
	Event      eventstore.RecordedEvent
	Checkpoint *transparency.Checkpoint
}

// AppendEvent appends the export line of e (with its newline) to b. The
// form is fixed, so that every event has exactly one line and a verifier
// can insist on it:
//
//	{"position":1,"stream":"…","revision":0,"id":"…","type":"…","schema":1,
//	 "recorded_at":"…","data":{…},"metadata":{"actor_id":"…","actor_role":"…",
//	 "reason":"…","causation_id":"…","correlation_id":"…","effective_at":"…"}}
//
// on one line, keys in this order, no spaces. data is the event's JSON
// byte for byte. When those bytes cannot sit on one line unchanged (they
// hold a newline or carriage return, start or end with whitespace, or are
// not UTF-8), "data" is replaced by "data_base64", their standard base64
// encoding. effective_at is "" when not set.
func AppendEvent(b []byte, e eventstore.RecordedEvent) []byte {
	b = append(b, `{"position":`...)
	b = strconv.AppendUint(b, e.Position, 10)
	b = append(b, `,"stream":`...)
	b = appendString(b, e.StreamID)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, e.Revision, 10)
	b = append(b, `,"id":"`...)
	b = append(b, e.ID.String()...)
	b = append(b, `","type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"schema":`...)
	b = strconv.AppendUint(b, uint64(e.Schema), 10)
	b = append(b, `,"recorded_at":"`...)
	b = append(b, eventstore.FormatTime(e.RecordedAt)...)
	b = append(b, '"')
	if rawSafe(e.Data) {
		b = append(b, `,"data":`...)
		b = append(b, e.Data...)
	} else {
		b = append(b, `,"data_base64":"`...)
		b = base64.StdEncoding.AppendEncode(b, e.Data)
		b = append(b, '"')
	}
	m := e.Metadata
	b = append(b, `,"metadata":{"actor_id":`...)
	b = appendString(b, m.ActorID)
	b = append(b, `,"actor_role":`...)
	b = appendString(b, m.ActorRole)
	b = append(b, `,"reason":`...)
	b = appendString(b, m.Reason)
	b = append(b, `,"causation_id":"`...)
	b = append(b, m.CausationID.String()...)
	b = append(b, `","correlation_id":"`...)
	b = append(b, m.CorrelationID.String()...)
	b = append(b, `","effective_at":"`...)
	if !m.EffectiveAt.IsZero() {
		b = append(b, eventstore.FormatTime(m.EffectiveAt)...)
	}
	b = append(b, "\"}}\n"...)
	return b
}

// rawSafe reports whether data can be written into a line unchanged and
// read back byte for byte by a JSON decoder: valid JSON, UTF-8, no line
// breaks, no surrounding whitespace.
func rawSafe(data []byte) bool {
	if len(data) == 0 || !json.Valid(data) || !utf8.Valid(data) {
		return false
	}
	if isSpace(data[0]) || isSpace(data[len(data)-1]) {
		return false
	}
	return bytes.IndexByte(data, '\n') < 0 && bytes.IndexByte(data, '\r') < 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// AppendCheckpoint appends the final line of an export:
// {"checkpoint":{"origin":…,"tree_size":…,"root_hex":…,"note":…}}.
func AppendCheckpoint(b []byte, cp transparency.Checkpoint) []byte {
	cp.Position = 0
	j, _ := json.Marshal(struct {
		Checkpoint transparency.Checkpoint `json:"checkpoint"`
	}{cp})
	b = append(b, j...)
	return append(b, '\n')
}

// wireLine is every field a line may hold.
type wireLine struct {
	Position   *uint64          `json:"position"`
	Stream     string           `json:"stream"`
	Revision   uint64           `json:"revision"`
	ID         string           `json:"id"`
	Type       string           `json:"type"`
	Schema     uint32           `json:"schema"`
	RecordedAt string           `json:"recorded_at"`
	Data       json.RawMessage  `json:"data"`
	DataBase64 *string          `json:"data_base64"`
	Metadata   wireMeta         `json:"metadata"`
	Checkpoint *json.RawMessage `json:"checkpoint"`
}

type wireMeta struct {
	ActorID       string `json:"actor_id"`
	ActorRole     string `json:"actor_role"`
	Reason        string `json:"reason"`
	CausationID   string `json:"causation_id"`
	CorrelationID string `json:"correlation_id"`
	EffectiveAt   string `json:"effective_at"`
}

// ErrMalformed is returned (wrapped) for a line that is not an export
// line in its one fixed form.
var ErrMalformed = errors.New("export: malformed line")

// DecodeLine parses one line (with or without its newline). It is strict:
// the line must be exactly what AppendEvent or AppendCheckpoint would
// write for the value it holds, so no byte of an export can change
// without changing what it says. Returns an error wrapping ErrMalformed.
func DecodeLine(line []byte) (Line, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	if len(line) > MaxLineSize {
		return Line{}, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformed, len(line), MaxLineSize)
	}
	var w wireLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Line{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.InputOffset() != int64(len(line)) {
		return Line{}, fmt.Errorf("%w: trailing bytes", ErrMalformed)
	}
	var out Line
	var again []byte
	if w.Checkpoint != nil {
		var cp transparency.Checkpoint
		if err := json.Unmarshal(*w.Checkpoint, &cp); err != nil {
			return Line{}, fmt.Errorf("%w: checkpoint: %v", ErrMalformed, err)
		}
		out.Checkpoint = &cp
		again = AppendCheckpoint(nil, cp)
	} else {
		e, err := w.event()
		if err != nil {
			return Line{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		out.Event = e
		again = AppendEvent(nil, e)
	}
	if !bytes.Equal(again[:len(again)-1], line) {
		return Line{}, fmt.Errorf("%w: not in the export's fixed form (extra, missing or reordered keys, spacing or escapes)", ErrMalformed)
	}
	return out, nil
}

func (w *wireLine) event() (eventstore.RecordedEvent, error) {
	var e eventstore.RecordedEvent
	if w.Position == nil {
		return e, errors.New("no position")
	}
	e.Position = *w.Position
	e.StreamID = w.Stream
	e.Revision = w.Revision
	var err error
	if e.ID, err = uuid.Parse(w.ID); err != nil {
		return e, fmt.Errorf("id: %v", err)
	}
	e.Type = w.Type
	e.Schema = w.Schema
	if e.RecordedAt, err = time.Parse(eventstore.TimeLayout, w.RecordedAt); err != nil {
		return e, fmt.Errorf("recorded_at: %v", err)
	}
	switch {
	case w.DataBase64 != nil && w.Data != nil:
		return e, errors.New("both data and data_base64")
	case w.DataBase64 != nil:
		if e.Data, err = base64.StdEncoding.Strict().DecodeString(*w.DataBase64); err != nil {
			return e, fmt.Errorf("data_base64: %v", err)
		}
	default:
		e.Data = bytes.Clone(w.Data)
	}
	m := w.Metadata
	e.Metadata.ActorID, e.Metadata.ActorRole, e.Metadata.Reason = m.ActorID, m.ActorRole, m.Reason
	if e.Metadata.CausationID, err = uuid.Parse(m.CausationID); err != nil {
		return e, fmt.Errorf("causation_id: %v", err)
	}
	if e.Metadata.CorrelationID, err = uuid.Parse(m.CorrelationID); err != nil {
		return e, fmt.Errorf("correlation_id: %v", err)
	}
	if m.EffectiveAt != "" {
		if e.Metadata.EffectiveAt, err = time.Parse(eventstore.TimeLayout, m.EffectiveAt); err != nil {
			return e, fmt.Errorf("effective_at: %v", err)
		}
	}
	return e, nil
}
