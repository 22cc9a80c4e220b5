package api

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/projections/views"
)

// Limits of GET /v1/events.
const (
	DefaultEventsLimit = 100
	MaxEventsLimit     = 1000
)

func init() { addRoutes(eventRoutes) }

func eventRoutes() []route {
	return []route{
		{Method: http.MethodGet, Pattern: "/v1/events", Summary: "Read the audit log", Tag: "audit", Auth: true, UseCase: "ReadSchoolEvents",
			Response: EventPage{}, Handle: (*Server).listEvents},
		{Method: http.MethodGet, Pattern: "/v1/events/stream", Summary: "Follow the ledger live (Server-Sent Events)", Tag: "audit", Auth: true, UseCase: "ReadSchoolEvents",
			Handle: (*Server).streamEvents},
	}
}

// LedgerEvent is one recorded event as the audit log and the live feed
// show it: the whole envelope and the event's data. Personal data in the
// data is shown opened while the person's key exists (contact details only
// to whoever may read them: the person and their Director; others see the
// name), and as {"name":"(erased)","erased":true} once it was destroyed;
// the sealed ciphertext is never shown.
type LedgerEvent struct {
	Position    uint64    `json:"position"`
	ID          uuid.UUID `json:"id"`
	Stream      string    `json:"stream"`
	Revision    uint64    `json:"revision"`
	Type        string    `json:"type"`
	Schema      uint32    `json:"schema"`
	RecordedAt  time.Time `json:"recorded_at"`
	EffectiveAt time.Time `json:"effective_at"`
	Actor       string    `json:"actor"`
	Role        string    `json:"role"`
	Reason      string    `json:"reason,omitempty"`
	Correlation uuid.UUID `json:"correlation"`
	Causation   uuid.UUID `json:"causation"`
	// Data is the event's body as recorded (at its recorded schema).
	Data json.RawMessage `json:"data"`
}

// EventPage is a page of the audit log. Next, when not zero, is the
// cursor of the next page (also given in a Link header).
type EventPage struct {
	Events []LedgerEvent `json:"events"`
	Next   uint64        `json:"next,omitempty"`
}

// shownPersonal is how personal data appears in LedgerEvent.Data.
type shownPersonal struct {
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Erased bool   `json:"erased,omitempty"`
}

var personalType = reflect.TypeFor[domain.PersonalData]()

// personalFields returns the personal data fields of a decoded event by
// their JSON names.
func personalFields(ev domain.Event) map[string]domain.PersonalData {
	v := reflect.ValueOf(ev)
	if v.Kind() != reflect.Struct {
		return nil
	}
	var out map[string]domain.PersonalData
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(v.Field(i))
				continue
			}
			if f.Type != personalType || !f.IsExported() {
				continue
			}
			name := f.Name
			if tag := f.Tag.Get("json"); tag != "" {
				if n, _, _ := strings.Cut(tag, ","); n != "" && n != "-" {
					name = n
				}
			}
			if out == nil {
				out = map[string]domain.PersonalData{}
			}
			out[name] = v.Field(i).Interface().(domain.PersonalData)
		}
	}
	walk(v)
	return out
}

// impersonal holds the event types whose Go type has no PersonalData
// field (learnt at their first decoding): ledgerEvent shows them as
// recorded without decoding them.
var impersonal sync.Map

// ledgerEvent renders a stored event for the audit log and the live feed.
// Events the codec cannot decode (an unknown type) are shown as recorded.
// contacts reports whether the reader may see the contact details of the
// data subject (nil: no one may).
func ledgerEvent(codec *domain.Codec, e eventstore.RecordedEvent, contacts func(subject string) bool) LedgerEvent {
	out := LedgerEvent{Position: e.Position, ID: e.ID, Stream: e.StreamID, Revision: e.Revision, Type: e.Type, Schema: e.Schema,
		RecordedAt: e.RecordedAt.UTC(), EffectiveAt: e.RecordedAt.UTC(), Actor: e.Metadata.ActorID, Role: e.Metadata.ActorRole,
		Reason: e.Metadata.Reason, Correlation: e.Metadata.CorrelationID, Causation: e.Metadata.CausationID, Data: json.RawMessage(e.Data)}
	if !e.Metadata.EffectiveAt.IsZero() {
		out.EffectiveAt = e.Metadata.EffectiveAt.UTC()
	}
	if codec == nil {
		return out
	}
	if _, none := impersonal.Load(e.Type); none {
		return out // shown as recorded: nothing to open or hide
	}
	m, err := codec.Decode(domainlog.ToDomain(e))
	if err != nil {
		return out
	}
	pf := personalFields(m.Event)
	if len(pf) == 0 {
		// The fields personalFields finds depend on the event's Go type
		// alone, not on its values: events of this type need no decoding
		// to be shown.
		impersonal.Store(e.Type, true)
		return out
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(e.Data, &obj); err != nil {
		return out
	}
	subject, _ := domain.Subject(m.Event)
	seeContacts := contacts != nil && contacts(subject)
	for name, pd := range pf {
		if _, ok := obj[name]; !ok {
			continue
		}
		shown := shownPersonal{Name: pd.Name}
		if seeContacts {
			shown.Email, shown.Phone = pd.Email, pd.Phone
		}
		if pd.Erased {
			shown = shownPersonal{Name: domain.ErasedName, Erased: true}
		}
		b, err := json.Marshal(shown)
		if err != nil {
			return out
		}
		obj[name] = b
	}
	if b, err := json.Marshal(obj); err == nil {
		out.Data = b
	}
	return out
}

// eventQuery is a parsed GET /v1/events request.
type eventQuery struct {
	Type, Stream              string
	School, Community, Person uuid.UUID
	From, To                  time.Time
	Cursor                    uint64
	Limit                     int
	// visible says whether the caller may read an event; visibleStream
	// whether they may read the events of a stream (given as bytes), which
	// is the same thing asked before an event is decoded.
	visible       func(eventstore.RecordedEvent) (bool, error)
	visibleStream func(stream []byte) (bool, error)
	// reader, when set, is the eventReader behind visibleStream: what it
	// sees of the audit view's streams is kept for the next page
	// (sightMemo).
	reader *eventReader
	// scanned counts events read and not shown, to bound a page's work:
	// at most scanLimit (0: maxScan).
	scanned, scanLimit int
}

// scannedEnough counts one more event read and not shown, and reports
// whether the page has read as many as it may.
func (q *eventQuery) scannedEnough() bool {
	q.scanned++
	if q.scanLimit > 0 {
		return q.scanned >= q.scanLimit
	}
	return q.scanned >= maxScan
}

// maxScan bounds the events one page reads to find those its caller may
// see; a page cut short says where to go on (its cursor).
const maxScan = 20 * MaxEventsLimit

// see reports whether e passes q's visibility.
func (q *eventQuery) see(e eventstore.RecordedEvent) (bool, error) {
	if q.visible == nil {
		return true, nil
	}
	return q.visible(e)
}

// parseBound reads a time filter: RFC 3339, or a date meaning the start
// of that day (UTC).
func parseBound(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.UTC(), nil
	}
	return time.Time{}, badRequest("%s %q is not an RFC 3339 time (e.g. 2025-10-01T09:00:00Z) or a date (2025-10-01)", name, s)
}

func parseEventQuery(r *http.Request) (eventQuery, error) {
	q := eventQuery{Type: r.URL.Query().Get("type"), Stream: r.URL.Query().Get("stream")}
	var err error
	for _, f := range []struct {
		name string
		dst  *uuid.UUID
	}{{"school", &q.School}, {"community", &q.Community}, {"person", &q.Person}} {
		if *f.dst, err = queryUUID(r, f.name); err != nil {
			return q, err
		}
	}
	if q.From, err = parseBound(r, "from"); err != nil {
		return q, err
	}
	if q.To, err = parseBound(r, "to"); err != nil {
		return q, err
	}
	// The audit view counts time in nanoseconds since 1970 (years 1678
	// to 2262); bounds beyond are brought within.
	lo, hi := time.Unix(0, math.MinInt64).UTC(), time.Unix(0, math.MaxInt64).UTC()
	switch {
	case q.From.IsZero():
	case q.From.Before(lo):
		q.From = time.Time{}
	case q.From.After(hi):
		q.From = hi
	}
	switch {
	case q.To.IsZero():
	case q.To.After(hi):
		q.To = time.Time{}
	case q.To.Before(lo):
		q.To = lo
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, badRequest("from (%s) must be before to (%s)", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if q.Cursor, err = queryUint(r, "cursor", 0); err != nil {
		return q, err
	}
	limit, err := queryUint(r, "limit", DefaultEventsLimit)
	if err != nil {
		return q, err
	}
	if limit < 1 || limit > MaxEventsLimit {
		return q, badRequest("limit %d is out of range: ask for 1 to %d events", limit, MaxEventsLimit)
	}
	q.Limit = int(limit)
	return q, nil
}

// match applies the filters the store path checks itself.
func (q eventQuery) match(e eventstore.RecordedEvent) bool {
	return (q.Type == "" || e.Type == q.Type) && (q.Stream == "" || e.StreamID == q.Stream) &&
		(q.From.IsZero() || !e.RecordedAt.Before(q.From)) && (q.To.IsZero() || e.RecordedAt.Before(q.To))
}

// listEvents answers GET /v1/events. Filters by school, ISLC, person or
// type go through the "audit" view (which indexes what each event
// touches; the read waits for it to reach the head); a stream or time
// filter alone, or none, reads the store directly.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	q, err := parseEventQuery(r)
	if err != nil {
		return err
	}
	// Each event is shown only to a caller who may read it (its school's
	// or its partnership's events), whatever the filters.
	er, err := s.newEventReader(r.Context(), caller(r))
	if err != nil {
		return err
	}
	if q.School != uuid.Nil {
		if err := s.authorize(r, "ReadSchoolEvents", app.Target{School: q.School}); err != nil {
			return err
		}
	}
	q.visible, q.visibleStream, q.reader = er.visible, er.visibleStream, er
	var evs []eventstore.RecordedEvent
	if q.School != uuid.Nil || q.Community != uuid.Nil || q.Person != uuid.Nil || q.Type != "" {
		evs, err = s.eventsByAudit(r.Context(), &q)
	} else {
		evs, err = s.eventsByLogIndex(r.Context(), &q)
	}
	if err != nil {
		return err
	}
	page := EventPage{Events: make([]LedgerEvent, 0, min(len(evs), q.Limit))}
	if n := len(evs); n > 0 && evs[n-1].ID == uuid.Nil && evs[n-1].Type == "" {
		// A page cut short: go on after the last event read.
		page.Next = evs[n-1].Position
		evs = evs[:n-1]
	}
	if len(evs) > q.Limit {
		evs = evs[:q.Limit]
		page.Next = evs[len(evs)-1].Position
	}
	for _, e := range evs {
		page.Events = append(page.Events, er.render(e))
	}
	if page.Next != 0 {
		u := url.URL{Path: r.URL.Path}
		v := r.URL.Query()
		v.Set("cursor", strconv.FormatUint(page.Next, 10))
		u.RawQuery = v.Encode()
		w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
	}
	return reply(w, http.StatusOK, page)
}

// eventsByStore returns up to q.Limit+1 events after q.Cursor matching q,
// read from the store.
// streamAfter returns the first revision of stream recorded after
// position cursor (0: the stream's first): positions grow along a stream,
// so it is found by bisection, one event read per step, instead of
// reading the stream from its start.
func (s *Server) streamAfter(ctx context.Context, stream string, cursor uint64) (uint64, error) {
	if cursor == 0 {
		return 0, nil
	}
	last, err := s.L.Store.ReadStream(ctx, stream, eventstore.LastRevision, eventstore.Backward, 1)
	if err != nil || len(last) == 0 {
		return 0, err
	}
	if last[0].Position <= cursor {
		return last[0].Revision + 1, nil
	}
	lo, hi := uint64(0), last[0].Revision // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		one, err := s.L.Store.ReadStream(ctx, stream, mid, eventstore.Forward, 1)
		if err != nil {
			return 0, err
		}
		if len(one) == 0 { // cannot happen below the last revision; read on from lo
			return lo, nil
		}
		if one[0].Position > cursor {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

func (s *Server) eventsByStore(ctx context.Context, q *eventQuery) ([]eventstore.RecordedEvent, error) {
	want := q.Limit + 1
	var out []eventstore.RecordedEvent
	if q.Stream != "" {
		if err := eventstore.ValidateStreamID(q.Stream); err != nil {
			return nil, badRequest("stream %q is not a stream id", q.Stream)
		}
		rev, err := s.streamAfter(ctx, q.Stream, q.Cursor)
		if err != nil {
			return nil, err
		}
		// A page is read in batches of what it still wants (each event
		// is a read of its own from the segment files).
		for len(out) < want {
			ask := want - len(out)
			batch, err := s.L.Store.ReadStream(ctx, q.Stream, rev, eventstore.Forward, ask)
			if err != nil {
				return nil, err
			}
			for _, e := range batch {
				if e.Position > q.Cursor && q.match(e) && len(out) < want {
					ok, err := q.see(e)
					if err != nil {
						return nil, err
					}
					if ok {
						out = append(out, e)
					}
				}
			}
			if len(batch) < ask {
				break
			}
			rev = batch[len(batch)-1].Revision + 1
		}
		return out, nil
	}
	from := q.Cursor + 1
	if !q.From.IsZero() {
		// The first event recorded at or after From follows the last one
		// recorded before it.
		before, err := s.L.Store.PositionAt(ctx, q.From.Add(-time.Nanosecond))
		if err != nil {
			return nil, err
		}
		from = max(from, before+1)
	}
	for len(out) < want {
		// Read at least minReadAll events at a time: a reader who may not
		// see some of them would otherwise read the log one event at a
		// time as the page fills.
		ask := max(want-len(out), minReadAll)
		batch, err := s.readAllFor(ctx, from, ask, q)
		if err != nil {
			return nil, err
		}
		for _, e := range batch {
			if len(out) >= want {
				return out, nil
			}
			if !q.To.IsZero() && !e.RecordedAt.Before(q.To) {
				// Recorded times never decrease along the log.
				return out, nil
			}
			// A stub (no type: see readAllFor) is an event of a stream the
			// caller does not see; it was looked up once already.
			if e.Type != "" && q.match(e) {
				ok, err := q.see(e)
				if err != nil {
					return nil, err
				}
				if ok {
					out = append(out, e)
					continue
				}
			}
			if q.scannedEnough() && len(out) < want {
				// Cut the page short here; the cursor goes on from e.
				out = append(out, eventstore.RecordedEvent{Position: e.Position})
				return out, nil
			}
		}
		if len(batch) < ask {
			break
		}
		from = batch[len(batch)-1].Position + 1
	}
	return out, nil
}

// eventsByLogIndex is eventsByStore for a page of the whole log (no
// stream, no filter but time): the "audit" view, which holds the
// position, time and stream of every event up to its position, picks the
// events the caller sees, and only those are read from the store. A
// Director of one school of fifty sees about one event in fifty: a page
// of 100 read 5,000 events before. Events past the view's position, and
// every event when the view cannot be read (it stopped at an event it
// could not fold), are read from the store as before; the view is not
// waited for.
func (s *Server) eventsByLogIndex(ctx context.Context, q *eventQuery) ([]eventstore.RecordedEvent, error) {
	if q.Stream != "" || q.visibleStream == nil {
		return s.eventsByStore(ctx, q)
	}
	want := q.Limit + 1
	after := q.Cursor
	if !q.From.IsZero() {
		before, err := s.L.Store.PositionAt(ctx, q.From.Add(-time.Nanosecond))
		if err != nil {
			return nil, err
		}
		after = max(after, before)
	}
	to := int64(math.MaxInt64)
	if !q.To.IsZero() {
		to = q.To.UnixNano()
	}
	var (
		positions []uint64
		cut       uint64 // the position a page cut short goes on from
		done      bool   // the page is full, cut short or past To
	)
	var known map[uint32]bool // what the caller was seen to see before, at this head
	now := time.Now()
	if q.reader != nil {
		known = s.sights.get(q.reader.actor, q.reader.head, now)
	}
	seen := map[uint32]bool{} // learnt in this page
	// The view is read in batches, each under its read lock; what the
	// caller sees of each stream, which may load records from the log, is
	// worked out between them, so the view's folding never waits on it.
	var (
		viewPos uint64
		entries []views.LogEntry
		names   = map[uint32]string{} // the ids of streams not known yet
	)
	for !done {
		exhausted := true
		pos, err := views.Read(ctx, s.L.Views, views.AuditView, views.AsOf{}, func(a *views.Audit) error {
			entries, exhausted = entries[:0], true
			a.Scan(after, func(e views.LogEntry) bool {
				if len(entries) == logIndexBatch {
					exhausted = false
					return false
				}
				entries = append(entries, e)
				if _, ok := known[e.Stream]; !ok {
					if _, ok := seen[e.Stream]; !ok {
						names[e.Stream] = a.StreamOf(e.Stream)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			s.Logger.Warn("the audit view cannot pick a page of the log: reading the log itself", "err", err)
			q.scanned = 0
			return s.eventsByStore(ctx, q)
		}
		viewPos = pos
		for _, e := range entries {
			if len(positions) >= want || e.RecordedAt >= to {
				done = true
				break
			}
			visible, ok := known[e.Stream]
			if !ok {
				visible, ok = seen[e.Stream]
			}
			if !ok {
				if visible, err = q.visibleStream([]byte(names[e.Stream])); err != nil {
					return nil, err
				}
				seen[e.Stream] = visible
			}
			if visible {
				positions = append(positions, e.Position)
				continue
			}
			if q.scannedEnough() {
				cut, done = e.Position, true
				break
			}
		}
		if n := len(entries); n > 0 {
			after = entries[n-1].Position
		}
		clear(names)
		if exhausted {
			break
		}
	}
	if q.reader != nil {
		s.sights.add(q.reader.actor, q.reader.head, now, known, seen)
	}
	out, _, _, err := s.readSeen(ctx, q, positions)
	if err != nil {
		return nil, err
	}
	switch {
	case cut != 0:
		return append(out, eventstore.RecordedEvent{Position: cut}), nil
	case done || len(out) >= want:
		return out, nil
	}
	// The events the view has not folded yet are read from the log.
	rest := *q
	rest.Cursor = max(after, viewPos)
	rest.From = time.Time{}
	rest.Limit = want - len(out) - 1
	tail, err := s.eventsByStore(ctx, &rest)
	q.scanned = rest.scanned
	if err != nil {
		return nil, err
	}
	return append(out, tail...), nil
}

// logIndexBatch is how many events eventsByLogIndex reads from the audit
// view at a time (a variable for the tests, which read a small log in
// many batches).
var logIndexBatch = 1024

// minReadAll is the fewest events eventsByStore reads from the log at a
// time.
const minReadAll = 256

// keepingReader is a store that can read the log without decoding the
// events of streams a reader does not see (the embedded store).
type keepingReader interface {
	ReadAllKeeping(ctx context.Context, from uint64, limit int, keep func(stream []byte) bool) ([]eventstore.RecordedEvent, error)
}

// readAllFor reads up to n events of the log from position from for q's
// caller. From a store that can, the events of streams the caller does
// not see come back as stubs (position and recorded time, no type): they
// are counted and skipped as before, without being decoded.
func (s *Server) readAllFor(ctx context.Context, from uint64, n int, q *eventQuery) ([]eventstore.RecordedEvent, error) {
	kr, ok := s.L.Store.(keepingReader)
	if !ok || q.visibleStream == nil {
		return s.L.Store.ReadAll(ctx, from, n)
	}
	var failed error
	batch, err := kr.ReadAllKeeping(ctx, from, n, func(stream []byte) bool {
		if failed != nil {
			return false
		}
		ok, err := q.visibleStream(stream)
		failed = err
		return ok
	})
	if err == nil {
		err = failed
	}
	return batch, err
}

// eventsByAudit returns up to q.Limit+1 events after q.Cursor matching q,
// selected through the "audit" view and read from the store.
func (s *Server) eventsByAudit(ctx context.Context, q *eventQuery) ([]eventstore.RecordedEvent, error) {
	want := q.Limit + 1
	// Read your writes: the view reflects every event acknowledged before
	// the request.
	head, err := s.L.Store.Head(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.syncViews(ctx, head, views.AuditView); err != nil {
		return nil, err
	}
	var positions []uint64
	f := views.AuditFilter{School: q.School, Community: q.Community, Person: q.Person, Type: q.Type, From: q.From, To: q.To}
	_, err = views.Read(ctx, s.L.Views, views.AuditView, views.AsOf{}, func(a *views.Audit) error {
		after := q.Cursor
		for len(positions) < want {
			page := a.Events(f, after, MaxEventsLimit, nil)
			for _, e := range page.Entries {
				if (q.Stream == "" || e.Stream == q.Stream) && len(positions) < want {
					positions = append(positions, e.Position)
				}
			}
			if page.Next == 0 {
				break
			}
			after = page.Next
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, read, last, err := s.readSeen(ctx, q, positions)
	if err != nil {
		return nil, err
	}
	if len(out) < read && read == want {
		// Some were not the caller's to see: the cursor goes on from the
		// last one read.
		out = append(out, eventstore.RecordedEvent{Position: last})
	}
	return out, nil
}

// readSeen reads the events at positions (ascending) and returns those q's
// caller sees (q.see, which remembers each stream's school for render),
// with how many were read and the position of the last.
func (s *Server) readSeen(ctx context.Context, q *eventQuery, positions []uint64) (seen []eventstore.RecordedEvent, read int, last uint64, err error) {
	evs, err := s.readPositions(ctx, positions)
	if err != nil || len(evs) == 0 {
		return nil, 0, 0, err
	}
	last = evs[len(evs)-1].Position
	out := evs[:0]
	for _, e := range evs {
		ok, err := q.see(e)
		if err != nil {
			return nil, 0, 0, err
		}
		if ok {
			out = append(out, e)
		}
	}
	return out, len(evs), last, nil
}

// readPositions reads the events at positions (ascending), one read per
// run of consecutive positions.
func (s *Server) readPositions(ctx context.Context, positions []uint64) ([]eventstore.RecordedEvent, error) {
	out := make([]eventstore.RecordedEvent, 0, len(positions))
	for i := 0; i < len(positions); {
		j := i + 1
		for j < len(positions) && positions[j] == positions[j-1]+1 {
			j++
		}
		batch, err := s.L.Store.ReadAll(ctx, positions[i], j-i)
		if err != nil {
			return nil, err
		}
		out = append(out, batch...)
		i = j
	}
	return out, nil
}
