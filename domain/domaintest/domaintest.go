// Package domaintest is the harness for the domain's given/when/then
// tests: an in-memory EventLog, a pinned clock, a fixture that seeds
// history and checks that a rejected command left the log unchanged, and
// the check that keeps docs/events.md in step with the registered events.
package domaintest

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Log is an in-memory domain.EventLog.
type Log struct {
	mu      sync.Mutex
	streams map[string][]domain.Recorded
	all     []domain.Recorded
	Now     func() time.Time
}

// NewLog returns an empty log whose recorded times come from now.
func NewLog(now func() time.Time) *Log {
	return &Log{streams: map[string][]domain.Recorded{}, Now: now}
}

// ReadStream implements domain.EventLog.
func (l *Log) ReadStream(ctx context.Context, stream string) ([]domain.Recorded, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]domain.Recorded(nil), l.streams[stream]...), nil
}

// AppendStream implements domain.EventLog.
func (l *Log) AppendStream(ctx context.Context, stream string, expected int64, events []domain.Envelope) ([]domain.Recorded, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := int64(len(l.streams[stream])) - 1; cur != expected {
		return nil, fmt.Errorf("%s at %d, expected %d: %w", stream, cur, expected, domain.ErrStreamConflict)
	}
	out := make([]domain.Recorded, len(events))
	for i, e := range events {
		r := domain.Recorded{Envelope: e, Stream: stream, Revision: uint64(len(l.streams[stream])), Position: uint64(len(l.all)) + 1, RecordedAt: l.Now()}
		l.streams[stream] = append(l.streams[stream], r)
		l.all = append(l.all, r)
		out[i] = r
	}
	return out, nil
}

// All returns every recorded event in global order.
func (l *Log) All() []domain.Recorded {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]domain.Recorded(nil), l.all...)
}

// Fingerprint is a hash of the whole log's content, to prove a rejected
// command wrote nothing.
func (l *Log) Fingerprint() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := sha256.New()
	for _, r := range l.all {
		b, _ := json.Marshal(r)
		h.Write(b)
	}
	return fmt.Sprintf("%d:%x", len(l.all), h.Sum(nil))
}

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Fixture is one given/when/then test's world.
type Fixture struct {
	T       testing.TB
	Log     *Log
	Keys    *domain.MemoryKeyring
	Codec   *domain.Codec
	Clock   *Clock
	Handler *domain.Handler
	Ctx     context.Context
	// Meta is stamped on events seeded by Given.
	Meta domain.Meta

	given string // fingerprint after the last Given
}

// Start is the default time of a fixture's clock: the first day of the
// 2025-26 academic year.
var Start = time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)

// New returns a fixture with an empty log, a fresh keyring and the clock
// at Start.
func New(t testing.TB) *Fixture {
	clock := &Clock{t: Start}
	keys := domain.NewMemoryKeyring()
	codec := &domain.Codec{Keys: keys}
	log := NewLog(clock.Now)
	h := domain.NewHandler(log, codec)
	h.Now = clock.Now
	f := &Fixture{T: t, Log: log, Keys: keys, Codec: codec, Clock: clock, Handler: h, Ctx: context.Background(),
		Meta: domain.Meta{ActorID: "system", ActorRole: domain.RoleSystem}}
	f.given = log.Fingerprint()
	return f
}

// Given records events in stream as history, as if earlier commands had
// recorded them.
func (f *Fixture) Given(stream string, events ...domain.Event) {
	f.T.Helper()
	cur := int64(len(f.Log.streams[stream])) - 1
	envs := make([]domain.Envelope, len(events))
	for i, e := range events {
		env, err := f.Codec.Encode(e, f.Handler.NewID(), f.Meta)
		if err != nil {
			f.T.Fatalf("given %s: %v", e.EventType(), err)
		}
		envs[i] = env
	}
	if _, err := f.Log.AppendStream(f.Ctx, stream, cur, envs); err != nil {
		f.T.Fatalf("given %s: %v", stream, err)
	}
	f.given = f.Log.Fingerprint()
}

// Mark records the log's current state as the baseline ThenError compares
// against (Given does this itself).
func (f *Fixture) Mark() { f.given = f.Log.Fingerprint() }

// ThenEvents checks that the command succeeded and recorded exactly want,
// in order.
func (f *Fixture) ThenEvents(res domain.Result, err error, want ...domain.Event) {
	f.T.Helper()
	if err != nil {
		f.T.Fatalf("command failed: %v; want events %s", err, names(want))
	}
	got := make([]domain.Event, len(res.Events))
	for i, m := range res.Events {
		got[i] = m.Event
	}
	if len(got) != len(want) {
		f.T.Fatalf("recorded %s, want %s", names(got), names(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			f.T.Fatalf("event %d:\n got %s %+v\nwant %s %+v", i, got[i].EventType(), got[i], want[i].EventType(), want[i])
		}
	}
	f.given = f.Log.Fingerprint()
}

// ThenError checks that the command failed with rule (errors.Is) and left
// the log exactly as the last Given (or Mark, or successful command) left
// it. It returns the rejection for further checks of its detail.
func (f *Fixture) ThenError(err error, rule error) *domain.Rejection {
	f.T.Helper()
	if err == nil {
		f.T.Fatalf("command succeeded; want error %v", rule)
	}
	if !errors.Is(err, rule) {
		f.T.Fatalf("err = %v; want %v", err, rule)
	}
	if got := f.Log.Fingerprint(); got != f.given {
		f.T.Fatalf("rejected command changed the log (%s -> %s)", f.given, got)
	}
	_, rej, _ := domain.RuleOf(err)
	if rej != nil && strings.TrimSpace(rej.Detail) == "" {
		f.T.Fatalf("rejection of %v has no detail", rule)
	}
	return rej
}

// Messages decodes the whole log.
func (f *Fixture) Messages() []domain.Message {
	f.T.Helper()
	var out []domain.Message
	for _, r := range f.Log.All() {
		m, err := f.Codec.Decode(r)
		if err != nil {
			f.T.Fatalf("decode: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// ID returns a fresh id (UUID v7).
func ID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func names(es []domain.Event) string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.EventType()
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// CheckCatalogue fails unless the section of docPath between
// "<!-- catalogue:GROUP:start -->" and "<!-- catalogue:GROUP:end -->"
// equals domain.Catalogue(group). With CONCORD_UPDATE_CATALOGUE=1 it
// rewrites the section instead.
func CheckCatalogue(t testing.TB, group, docPath string) {
	t.Helper()
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read catalogue: %v", err)
	}
	doc := string(raw)
	start := "<!-- catalogue:" + group + ":start -->\n"
	end := "<!-- catalogue:" + group + ":end -->"
	i, j := strings.Index(doc, start), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", docPath, start, end)
	}
	want := domain.Catalogue(group)
	got := doc[i+len(start) : j]
	if got == want {
		return
	}
	if os.Getenv("CONCORD_UPDATE_CATALOGUE") == "1" {
		if err := os.WriteFile(docPath, []byte(doc[:i+len(start)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s: the %s catalogue is out of date with the registered events; run CONCORD_UPDATE_CATALOGUE=1 go test ./domain/... and review the diff", docPath, group)
}
