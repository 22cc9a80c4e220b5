package kurrentdb

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// These tests cover the code that needs no server: the mapping between
// Concord's envelope and KurrentDB's events, errors, connection strings and
// the dense numbering of $all. contract_test.go runs the contract suite
// against a real server.

func sampleEvent() eventstore.EventData {
	return eventstore.EventData{
		ID:     uuid.MustParse("0192f3a0-0000-7000-8000-000000000001"),
		Type:   "MemberJoined",
		Schema: 2,
		Data:   []byte("{\"community\": \"c-1\",\n \"name\":\"Zo\u00eb\"}"),
		Metadata: eventstore.Metadata{
			ActorID:       "p-9",
			ActorRole:     "director",
			Reason:        "new year \u2713 \"quoted\"",
			CausationID:   uuid.MustParse("0192f3a0-0000-7000-8000-000000000002"),
			CorrelationID: uuid.MustParse("0192f3a0-0000-7000-8000-000000000003"),
			EffectiveAt:   time.Date(2025, 9, 1, 0, 0, 0, 120, time.UTC),
		},
	}
}

// recorded builds the event KurrentDB would return for e appended to
// kurrentStream.
func recorded(kurrentStream string, rev, commit uint64, e eventstore.EventData, created time.Time) *esdb.RecordedEvent {
	p := toProposed(e)
	return &esdb.RecordedEvent{
		EventID:        p.EventID,
		EventType:      p.EventType,
		ContentType:    "application/json",
		StreamID:       kurrentStream,
		EventNumber:    rev,
		Position:       esdb.Position{Commit: commit, Prepare: commit},
		CreatedDate:    created,
		Data:           p.Data,
		SystemMetadata: map[string]string{"type": p.EventType, "content-type": "application/json"},
		UserMetadata:   p.Metadata,
	}
}

func TestToExpected(t *testing.T) {
	cases := []struct {
		in   eventstore.ExpectedRevision
		want esdb.ExpectedRevision
	}{
		{eventstore.Any(), esdb.Any{}},
		{eventstore.ExpectedRevision{}, esdb.Any{}},
		{eventstore.NoStream(), esdb.NoStream{}},
		{eventstore.StreamExists(), esdb.StreamExists{}},
		{eventstore.Exact(0), esdb.Revision(0)},
		{eventstore.Exact(41), esdb.Revision(41)},
	}
	for _, c := range cases {
		if got := toExpected(c.in); got != c.want {
			t.Errorf("toExpected(%s)=%#v, want %#v", c.in, got, c.want)
		}
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	full := sampleEvent()
	bare := eventstore.EventData{ID: uuid.New(), Type: "T", Schema: 1, Data: []byte(`{}`)}
	zoned := sampleEvent()
	zoned.Metadata.EffectiveAt = time.Date(2025, 9, 1, 2, 0, 0, 5, time.FixedZone("CEST", 2*60*60))
	for _, e := range []eventstore.EventData{full, bare, zoned} {
		b := encodeMetadata(e)
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatalf("metadata is not JSON: %v", err)
		}
		for k, v := range raw {
			if _, ok := v.(string); !ok {
				t.Errorf("metadata field %q is %T, want a string", k, v)
			}
		}
		schema, md, err := decodeMetadata(b)
		if err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if schema != e.Schema {
			t.Errorf("schema=%d, want %d", schema, e.Schema)
		}
		got := e
		got.Schema, got.Metadata = schema, md
		if !eventstore.SameContent(got, e) {
			t.Errorf("metadata round trip:\n got %+v\nwant %+v", md, e.Metadata)
		}
		if !md.EffectiveAt.IsZero() && md.EffectiveAt.Location() != time.UTC {
			t.Errorf("effective_at location=%v, want UTC", md.EffectiveAt.Location())
		}
	}
}

// TestMetadataFormat pins the documented JSON (docs/kurrentdb.md): a
// change here changes what is stored in every KurrentDB ledger.
func TestMetadataFormat(t *testing.T) {
	got := string(encodeMetadata(sampleEvent()))
	want := `{"concord":"concord/1","schema":"2","actor_id":"p-9","actor_role":"director",` +
		`"reason":"new year ✓ \"quoted\"","causation_id":"0192f3a0-0000-7000-8000-000000000002",` +
		`"correlation_id":"0192f3a0-0000-7000-8000-000000000003","effective_at":"2025-09-01T00:00:00.000000120Z"}`
	if got != want {
		t.Errorf("metadata\n got %s\nwant %s", got, want)
	}
	bare := eventstore.EventData{ID: uuid.New(), Type: "T", Schema: 1, Data: []byte(`{}`)}
	got = string(encodeMetadata(bare))
	want = `{"concord":"concord/1","schema":"1","actor_id":"","actor_role":"",` +
		`"causation_id":"00000000-0000-0000-0000-000000000000","correlation_id":"00000000-0000-0000-0000-000000000000"}`
	if got != want {
		t.Errorf("bare metadata\n got %s\nwant %s", got, want)
	}
}

func TestDecodeMetadataRejects(t *testing.T) {
	good := map[string]string{}
	if err := json.Unmarshal(encodeMetadata(sampleEvent()), &good); err != nil {
		t.Fatal(err)
	}
	with := func(k, v string) []byte {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return b
	}
	cases := map[string][]byte{
		"empty":              nil,
		"not json":           []byte(`{"concord":`),
		"not an object":      []byte(`[1]`),
		"no format":          with("concord", ""),
		"other format":       with("concord", "concord/2"),
		"schema 0":           with("schema", "0"),
		"schema not number":  with("schema", "two"),
		"schema too large":   with("schema", "4294967296"),
		"bad causation":      with("causation_id", "nope"),
		"bad correlation":    with("correlation_id", "0192f3a0"),
		"bad effective time": with("effective_at", "2025-09-01"),
	}
	for name, b := range cases {
		if _, _, err := decodeMetadata(b); err == nil {
			t.Errorf("%s: decodeMetadata(%s) accepted it", name, b)
		}
	}
}

func TestToProposed(t *testing.T) {
	e := sampleEvent()
	p := toProposed(e)
	if p.EventID != e.ID || p.EventType != e.Type || p.ContentType != esdb.ContentTypeJson {
		t.Errorf("proposed id/type/content type = %s/%s/%d, want %s/%s/json", p.EventID, p.EventType, p.ContentType, e.ID, e.Type)
	}
	if !bytes.Equal(p.Data, e.Data) {
		t.Errorf("data=%q, want exactly %q", p.Data, e.Data)
	}
	if !bytes.Equal(p.Metadata, encodeMetadata(e)) {
		t.Errorf("metadata=%s, want %s", p.Metadata, encodeMetadata(e))
	}
}

func TestFromRecorded(t *testing.T) {
	e := sampleEvent()
	created := time.Date(2025, 10, 2, 10, 30, 0, 1200, time.FixedZone("CEST", 2*60*60))
	got, err := fromRecorded("t1-", recorded("t1-community-c-1", 7, 1234, e, created))
	if err != nil {
		t.Fatal(err)
	}
	want := eventstore.RecordedEvent{EventData: e, StreamID: "community-c-1", Revision: 7, RecordedAt: created.UTC()}
	if !eventstore.SameContent(got.EventData, e) || got.StreamID != want.StreamID || got.Revision != want.Revision ||
		!got.RecordedAt.Equal(want.RecordedAt) || got.RecordedAt.Location() != time.UTC || got.Position != 0 {
		t.Errorf("fromRecorded:\n got %+v\nwant %+v", got, want)
	}
	if !bytes.Equal(got.Data, e.Data) {
		t.Errorf("data=%q, want exactly %q", got.Data, e.Data)
	}

	bad := map[string]*esdb.RecordedEvent{
		"nil":            nil,
		"other prefix":   recorded("t2-community-c-1", 0, 1, e, created),
		"no prefix":      recorded("community-c-1", 0, 1, e, created),
		"system stream":  recorded("t1-$ce-community", 0, 1, e, created),
		"invalid stream": recorded("t1-a b", 0, 1, e, created),
		"system type": func() *esdb.RecordedEvent {
			r := recorded("t1-s", 0, 1, e, created)
			r.EventType = "$>"
			return r
		}(),
		"foreign metadata": func() *esdb.RecordedEvent {
			r := recorded("t1-s", 0, 1, e, created)
			r.UserMetadata = []byte(`{"$correlationId":"x"}`)
			return r
		}(),
	}
	for name, r := range bad {
		if _, err := fromRecorded("t1-", r); err == nil {
			t.Errorf("%s: fromRecorded accepted it", name)
		}
	}
}

func TestConcordStream(t *testing.T) {
	cases := []struct {
		prefix, in, want string
		ok               bool
	}{
		{"", "community-c-1", "community-c-1", true},
		{"", "$all", "", false},
		{"", "$$community-c-1", "", false},
		{"concord:", "concord:community-c-1", "community-c-1", true},
		{"concord:", "community-c-1", "", false},
		{"concord:", "concord:", "", false},
		{"concord:", "concord:$x", "", false},
		{"concord:", "$$concord:x", "", false},
	}
	for _, c := range cases {
		got, ok := concordStream(c.prefix, c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("concordStream(%q, %q)=%q,%v, want %q,%v", c.prefix, c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseActual(t *testing.T) {
	cases := []struct {
		msg  string
		want int64
		ok   bool
	}{
		// The client's message, and the same wrapped in esdb.Error's text.
		{"wrong expected version: expecting '3' but got '7'", 7, true},
		{"wrong expected version: expecting 'no_stream' but got '0'", 0, true},
		{"wrong expected version: expecting 'stream_exists' but got 'no_stream'", -1, true},
		{"[ErrorCodeWrongExpectedVersion] an append request failed the optimistic concurrency on the server: wrong expected version: expecting '0' but got '12'", 12, true},
		{"", 0, false},
		{"wrong expected version", 0, false},
		{"expecting '1' but got 'x'", 0, false},
		{"expecting '1' but got '-1'", 0, false},
		{"expecting '1' but got '3", 0, false},
	}
	for _, c := range cases {
		got, ok := parseActual(c.msg)
		if got != c.want || ok != c.ok {
			t.Errorf("parseActual(%q)=%d,%v, want %d,%v", c.msg, got, ok, c.want, c.ok)
		}
	}
}

func TestTranslate(t *testing.T) {
	esWrapped := func(err error) error {
		e, _ := esdb.FromError(err)
		return fmt.Errorf("could not send append request. Reason: %w", e)
	}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"context canceled", fmt.Errorf("read: %w", context.Canceled), context.Canceled},
		{"context deadline", context.DeadlineExceeded, context.DeadlineExceeded},
		{"grpc canceled", status.Error(codes.Canceled, "context canceled"), context.Canceled},
		{"grpc canceled in esdb error", esWrapped(status.Error(codes.Canceled, "context canceled")), context.Canceled},
		{"grpc deadline", esWrapped(status.Error(codes.DeadlineExceeded, "deadline")), context.DeadlineExceeded},
		{"append too large", esWrapped(status.Error(codes.InvalidArgument, "Maximum Append Size of 1048576 Exceeded.")), eventstore.ErrEventTooLarge},
		{"event too large", esWrapped(status.Error(codes.InvalidArgument, "Maximum Append Event Size of 65536 Exceeded.")), eventstore.ErrEventTooLarge},
	}
	for _, c := range cases {
		got := translate("op", c.err)
		if !errors.Is(got, c.want) {
			t.Errorf("%s: translate=%v, want %v", c.name, got, c.want)
		}
		if !strings.HasPrefix(got.Error(), "op: ") {
			t.Errorf("%s: %q does not say what failed", c.name, got)
		}
	}
	other := esWrapped(status.Error(codes.Unavailable, "node down"))
	got := translate("op", other)
	if !errors.Is(got, other) || !strings.Contains(got.Error(), "node down") {
		t.Errorf("unavailable: translate=%v, want it wrapped", got)
	}
	for _, sentinel := range []error{eventstore.ErrEventTooLarge, context.Canceled, eventstore.ErrClosed, eventstore.ErrWrongExpectedRevision} {
		if errors.Is(got, sentinel) {
			t.Errorf("unavailable: translate=%v matches %v", got, sentinel)
		}
	}
	if translate("op", nil) != nil {
		t.Error("translate(nil) is not nil")
	}
}

func TestFatal(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.PermissionDenied, "access denied"), true},
		{fmt.Errorf("subscribe: %w", status.Error(codes.Unauthenticated, "who")), true},
		{status.Error(codes.Unavailable, "down"), false},
		{errors.New("dropped"), false},
		{nil, false},
	}
	for _, c := range cases {
		if got := fatal(c.err); got != c.want {
			t.Errorf("fatal(%v)=%v, want %v", c.err, got, c.want)
		}
	}
}

func TestConnectionString(t *testing.T) {
	ca := writeTestCA(t)
	cases := []struct {
		in, want string
		ok       bool
		seeds    int  // gossip seeds the client parses
		noTLS    bool // tls=false
	}{
		{"esdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false", true, 0, true},
		{"kurrentdb://localhost:2113?tls=false", "esdb://localhost:2113?tls=false", true, 0, true},
		{"KurrentDB://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true&tlsCAFile=" + ca,
			"esdb://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true&tlsCAFile=" + ca, true, 3, false},
		{"kurrentdb+discover://cluster.example.org:2113", "esdb+discover://cluster.example.org:2113", true, 0, false},
		{"esdb+discover://cluster.example.org:2113", "esdb+discover://cluster.example.org:2113", true, 0, false},
		{"kdb://localhost:2113", "esdb://localhost:2113", true, 0, false},
		{"http://localhost:2113", "", false, 0, false},
		{"localhost:2113", "", false, 0, false},
		{"kurrentdb://", "", false, 0, false},
		{"", "", false, 0, false},
	}
	for _, c := range cases {
		got, err := connectionString(c.in)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("connectionString(%q)=%q,%v, want %q (ok=%v)", c.in, got, err, c.want, c.ok)
		}
		if !c.ok {
			continue
		}
		// The client must parse what we hand it, as we meant it.
		cfg, err := esdb.ParseConnectionString(got)
		if err != nil {
			t.Errorf("esdb.ParseConnectionString(%q): %v", got, err)
			continue
		}
		if len(cfg.GossipSeeds) != c.seeds || cfg.DisableTLS != c.noTLS {
			t.Errorf("%q parsed to %d gossip seeds, tls disabled %v; want %d, %v", got, len(cfg.GossipSeeds), cfg.DisableTLS, c.seeds, c.noTLS)
		}
		if strings.Contains(c.in, "+discover") != cfg.DnsDiscover {
			t.Errorf("%q parsed with DNS discovery %v", got, cfg.DnsDiscover)
		}
	}
}

// writeTestCA writes a self-signed CA certificate, as tlsCAFile names, and
// returns its path.
func writeTestCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Concord test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRedact(t *testing.T) {
	got := redact("kurrentdb://admin:changeit@localhost:2113?tls=false")
	if strings.Contains(got, "changeit") || !strings.Contains(got, "admin:***@localhost") {
		t.Errorf("redact=%q", got)
	}
	if got := redact("esdb://localhost:2113"); got != "esdb://localhost:2113" {
		t.Errorf("redact without credentials=%q", got)
	}
}

func TestOpenRefusesBadInputWithoutNetwork(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "http://localhost:2113", Options{}); err == nil {
		t.Error("Open accepted an http:// URL")
	}
	for _, prefix := range []string{"$concord", "a b", strings.Repeat("p", eventstore.MaxStreamIDLength+1)} {
		if _, err := Open(ctx, "esdb://localhost:2113?tls=false", Options{StreamPrefix: prefix}); !errors.Is(err, eventstore.ErrInvalidStreamID) {
			t.Errorf("prefix %q: err=%v, want ErrInvalidStreamID", prefix, err)
		}
	}
}

func TestClientLogger(t *testing.T) {
	var buf bytes.Buffer
	log := clientLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	log(esdb.LogDebug, "hidden %d", 1)
	log(esdb.LogError, "subscription has dropped. Reason: %v", "boom")
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "Reason: boom") {
		t.Errorf("logged %q", out)
	}
	clientLogger(nil)(esdb.LogError, "discarded") // must not panic
}

// feed is a synthetic $all: events of the store interleaved with what a
// real $all also holds.
type feed struct {
	commit  uint64
	created time.Time
	out     []*esdb.RecordedEvent
}

func (f *feed) add(stream string, rev uint64, e eventstore.EventData) *esdb.RecordedEvent {
	f.commit += 137 // $all positions are byte offsets: gaps everywhere
	f.created = f.created.Add(time.Millisecond)
	r := recorded(stream, rev, f.commit, e, f.created)
	f.out = append(f.out, r)
	return r
}

func newEventData() eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: "T", Schema: 1, Data: []byte(`{}`)}
}

func TestPositionLogNumbersDenselyInAllOrder(t *testing.T) {
	f := &feed{created: time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)}
	mine := []struct {
		stream string
		rev    uint64
	}{{"a", 0}, {"b", 0}, {"a", 1}, {"a", 2}, {"c", 0}, {"b", 1}}
	var want []*esdb.RecordedEvent
	foreign := func(i int) {
		switch i % 5 {
		case 0:
			f.add("other-a", uint64(i), newEventData()) // another prefix
		case 1:
			r := f.add("$et-T", uint64(i), newEventData()) // system stream
			r.EventType = "$>"
		case 2:
			r := f.add("p:x", uint64(i), newEventData()) // right prefix, system type
			r.EventType = "$metadata"
		case 3:
			r := f.add("p:y", uint64(i), newEventData()) // right prefix, not Concord's metadata
			r.UserMetadata = []byte(`{}`)
		case 4:
			f.add("p:a b", uint64(i), newEventData()) // not a valid Concord stream id
		}
	}
	for i, m := range mine {
		foreign(i)
		foreign(i + 2)
		want = append(want, f.add("p:"+m.stream, m.rev, newEventData()))
	}
	foreign(7)

	l := newPositionLog("p:")
	var got []uint64
	for _, r := range f.out {
		if p := l.observe(r); p != 0 {
			got = append(got, p)
		}
	}
	if !reflect.DeepEqual(got, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("positions=%v, want 1..6", got)
	}
	if l.head() != 6 {
		t.Errorf("head=%d, want 6", l.head())
	}
	for i, m := range mine {
		p := uint64(i + 1)
		if got, ok := l.position(m.stream, m.rev); !ok || got != p {
			t.Errorf("position(%s, %d)=%d,%v, want %d", m.stream, m.rev, got, ok, p)
		}
		if got, ok := l.byEventID(want[i].EventID); !ok || got != p {
			t.Errorf("byEventID(event %d)=%d,%v, want %d", i, got, ok, p)
		}
		e, ok := l.get(p)
		if !ok || e.pos != want[i].Position || e.stream != m.stream || e.revision != m.rev || e.id != want[i].EventID || !e.recorded.Equal(want[i].CreatedDate) {
			t.Errorf("entry %d=%+v, want $all %v %s@%d", p, e, want[i].Position, m.stream, m.rev)
		}
	}
	for stream, rev := range map[string]uint64{"a": 2, "b": 1, "c": 0} {
		if got, ok := l.lastRevision(stream); !ok || got != rev {
			t.Errorf("lastRevision(%s)=%d,%v, want %d", stream, got, ok, rev)
		}
	}
	if _, ok := l.lastRevision("other-a"); ok {
		t.Error("a foreign stream has a last revision")
	}
	if _, ok := l.get(0); ok {
		t.Error("get(0) found an entry")
	}
	if _, ok := l.get(7); ok {
		t.Error("get(7) found an entry past the head")
	}
}

func TestPositionLogIgnoresReplays(t *testing.T) {
	f := &feed{created: time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)}
	for i := 0; i < 5; i++ {
		f.add("s", uint64(i), newEventData())
	}
	l := newPositionLog("")
	for _, r := range f.out[:3] {
		l.observe(r)
	}
	// A resubscription replays from an earlier position (or the same).
	for _, r := range f.out[1:] {
		l.observe(r)
	}
	for _, r := range f.out {
		if p := l.observe(r); p != 0 {
			t.Errorf("replay of $all %v numbered %d", r.Position, p)
		}
	}
	if l.head() != 5 {
		t.Fatalf("head=%d after replays, want 5", l.head())
	}
	for i, r := range f.out {
		if e, _ := l.get(uint64(i + 1)); e.id != r.EventID {
			t.Errorf("position %d holds %s, want %s", i+1, e.id, r.EventID)
		}
	}
}

func TestPositionLogCheckpoints(t *testing.T) {
	l := newPositionLog("p:")
	end := esdb.Position{Commit: 1000, Prepare: 1000}
	if l.reached(end) {
		t.Fatal("an empty log reached the end")
	}
	l.checkpoint(esdb.Position{Commit: 500, Prepare: 500})
	if l.reached(end) {
		t.Fatal("checkpoint 500 reached 1000")
	}
	l.checkpoint(esdb.Position{Commit: 1000, Prepare: 1000})
	if !l.reached(end) {
		t.Fatal("checkpoint 1000 did not reach 1000")
	}
	l.checkpoint(esdb.Position{Commit: 10, Prepare: 10}) // never goes back
	if !l.reached(end) {
		t.Fatal("an older checkpoint moved the log back")
	}
	// An event at or before a checkpoint was searched past already.
	r := recorded("p:s", 0, 900, newEventData(), time.Now())
	if p := l.observe(r); p != 0 {
		t.Errorf("event before the checkpoint numbered %d", p)
	}
	r = recorded("p:s", 0, 1001, newEventData(), time.Now())
	if p := l.observe(r); p != 1 {
		t.Errorf("event after the checkpoint numbered %d, want 1", p)
	}
	if !after(esdb.Position{Commit: 5, Prepare: 6}, esdb.Position{Commit: 5, Prepare: 5}) ||
		after(esdb.Position{Commit: 5, Prepare: 9}, esdb.Position{Commit: 6, Prepare: 0}) {
		t.Error("after does not order by commit, then prepare")
	}
}

func TestPositionLogTimeIndex(t *testing.T) {
	t0 := time.Date(2025, 10, 1, 8, 0, 0, 0, time.UTC)
	created := []time.Time{
		t0,
		t0.Add(time.Second),
		t0.Add(time.Second),            // same instant
		t0.Add(500 * time.Millisecond), // the server's clock stepped back
		t0.Add(3 * time.Second).In(time.FixedZone("CEST", 2*60*60)),
	}
	l := newPositionLog("")
	for i, c := range created {
		l.observe(recorded("s", uint64(i), uint64(100*(i+1)), newEventData(), c))
	}
	wantRecorded := []time.Time{t0, t0.Add(time.Second), t0.Add(time.Second), t0.Add(time.Second), t0.Add(3 * time.Second)}
	for i, w := range wantRecorded {
		e, _ := l.get(uint64(i + 1))
		if !e.recorded.Equal(w) || e.recorded.Location() != time.UTC {
			t.Errorf("position %d recorded %v, want %v in UTC", i+1, e.recorded, w)
		}
	}
	cases := []struct {
		at   time.Time
		want uint64
	}{
		{time.Time{}, 0},
		{t0.Add(-time.Nanosecond), 0},
		{t0, 1},
		{t0.Add(999 * time.Millisecond), 1},
		{t0.Add(time.Second), 4},
		{t0.Add(2 * time.Second), 4},
		{t0.Add(3 * time.Second), 5},
		{t0.Add(3 * time.Second).In(time.FixedZone("X", -3*60*60)), 5},
		{time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC), 5},
	}
	for _, c := range cases {
		if got := l.at(c.at); got != c.want {
			t.Errorf("at(%v)=%d, want %d", c.at, got, c.want)
		}
	}
}

func TestPositionLogSlice(t *testing.T) {
	l := newPositionLog("")
	for i := 0; i < 10; i++ {
		l.observe(recorded("s", uint64(i), uint64(10*(i+1)), newEventData(), time.Now()))
	}
	cases := []struct {
		from        uint64
		limit       int
		first, want int
	}{
		{0, 0, 1, 10}, {1, 0, 1, 10}, {4, 3, 4, 3}, {9, 5, 9, 2}, {10, 1, 10, 1}, {11, 0, 0, 0}, {100, 3, 0, 0}, {1, -1, 1, 10},
	}
	for _, c := range cases {
		got := l.slice(c.from, c.limit)
		if len(got) != c.want {
			t.Errorf("slice(%d,%d) has %d entries, want %d", c.from, c.limit, len(got), c.want)
			continue
		}
		for i, e := range got {
			if want := uint64(c.first + i - 1); e.revision != want {
				t.Errorf("slice(%d,%d)[%d] is revision %d, want %d", c.from, c.limit, i, e.revision, want)
			}
		}
	}
	// A slice is a copy: the log may grow under it.
	s := l.slice(1, 2)
	s[0].revision = 99
	if e, _ := l.get(1); e.revision != 0 {
		t.Error("slice shares the log's entries")
	}
}

func TestPositionLogDuplicateIDKeepsFirst(t *testing.T) {
	e := newEventData()
	l := newPositionLog("")
	l.observe(recorded("s1", 0, 10, e, time.Now()))
	l.observe(recorded("s2", 0, 20, e, time.Now())) // written around the store
	if l.head() != 2 {
		t.Fatalf("head=%d, want 2: every event in $all is numbered", l.head())
	}
	if p, _ := l.byEventID(e.ID); p != 1 {
		t.Errorf("byEventID=%d, want the first position 1", p)
	}
}
