package export_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

var quiet = slog.New(slog.DiscardHandler)

// sampleData are event bodies covering the export's cases: plain JSON,
// escapes and non-ASCII, and bodies that must travel as base64.
var sampleData = []string{
	`{"n":1}`,
	`{"name":"Zoë <b>&</b> \"quoted\"","list":[1,2,3]}`,
	`{ "spaced" : true }`,
	"{\n  \"pretty\": true\n}",
	` {"leading":"space"}`,
	`"just a string"`,
	`[]`,
	"{\"tab\":\t1}",
}

// fill appends n events to s across a few streams, with every metadata
// field in use somewhere.
func fill(t testing.TB, s eventstore.Store, n int, r *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		e := eventstore.EventData{
			ID: uuid.New(), Type: "TestHappened", Schema: uint32(1 + i%2),
			Data: []byte(sampleData[i%len(sampleData)]),
			Metadata: eventstore.Metadata{
				ActorID: fmt.Sprintf("p-%d", r.IntN(5)), ActorRole: "staff",
				CorrelationID: uuid.New(),
			},
		}
		if i%3 == 0 {
			e.Metadata.Reason = "because — " + strings.Repeat("r", i%7)
			e.Metadata.CausationID = uuid.New()
		}
		if i%4 == 0 {
			e.Metadata.EffectiveAt = time.Date(2025, 9, 1, 0, 0, 0, i, time.UTC)
		}
		if _, err := s.Append(ctx, fmt.Sprintf("stream-%d", r.IntN(6)), eventstore.Any(), e); err != nil {
			t.Fatal(err)
		}
	}
}

// ledger returns a memory store with about n events and signed
// checkpoints every 50 events recorded in it, and the checkpoint key.
func ledger(t testing.TB, n int) (*memory.Store, transparency.Key) {
	t.Helper()
	ctx := context.Background()
	s := memory.New(memory.Options{})
	dir := t.TempDir()
	l, err := transparency.Open(ctx, s, dir, transparency.Options{CheckpointEvery: 50, CheckpointInterval: time.Hour, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for done := 0; done < n; done += 25 {
		fill(t, s, 25, r)
		h, _ := s.Head(ctx)
		if err := l.WaitFor(ctx, h); err != nil {
			t.Fatal(err)
		}
		if done%50 == 25 {
			if _, err := l.SignCheckpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	key, err := transparency.ReadKey(dir + "/" + transparency.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return s, key
}

func mustExport(t testing.TB, s eventstore.Store, key transparency.Key) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := export.Export(context.Background(), s, &buf, key, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, key := ledger(t, 200)
	var calls []export.Progress
	var buf bytes.Buffer
	sum, err := export.Export(ctx, s, &buf, key, func(p export.Progress) { calls = append(calls, p) })
	if err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head(ctx)
	if sum.Events != head || sum.Checkpoint.Size != head {
		t.Fatalf("summary %+v, want %d events covered", sum, head)
	}
	if len(calls) == 0 || calls[len(calls)-1].Events != head || calls[len(calls)-1].Total != head {
		t.Fatalf("progress %+v", calls)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if uint64(len(lines)) != head+1 || !strings.HasPrefix(lines[len(lines)-1], `{"checkpoint":{"origin":`) {
		t.Fatalf("%d lines, last %q: want %d events and a checkpoint", len(lines), lines[len(lines)-1], head)
	}
	// Every line decodes to exactly the stored event.
	all, _ := s.ReadAll(ctx, 1, 0)
	for i, line := range lines[:head] {
		l, err := export.DecodeLine([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if !reflect.DeepEqual(l.Event, all[i]) && !bytes.Equal(eventstore.EncodeCanonical(l.Event), eventstore.EncodeCanonical(all[i])) {
			t.Fatalf("line %d decodes to %+v, want %+v", i+1, l.Event, all[i])
		}
	}
	if !strings.Contains(buf.String(), `"data_base64":`) || !strings.Contains(buf.String(), `"data":{ "spaced" : true }`) {
		t.Error("want both raw data (spacing kept) and base64 data (line breaks) in the export")
	}
	rep, err := export.Verify(bytes.NewReader(buf.Bytes()), key.Verifier, nil)
	if err != nil {
		t.Fatalf("untouched export: %v", err)
	}
	if rep.Events != head || rep.Checkpoints < 4 {
		t.Fatalf("report %+v", rep)
	}
	// Another key does not verify it.
	other, _, _ := transparency.GenerateKey(key.Name())
	if _, err := export.Verify(bytes.NewReader(buf.Bytes()), other.Verifier, nil); !isProblem(err, transparency.BadSignature) {
		t.Fatalf("wrong key: %v, want bad signature", err)
	}
}

func isProblem(err error, p transparency.Problem) bool {
	var ve *transparency.VerifyError
	return errors.As(err, &ve) && ve.Problem == p
}

func splitLines(b []byte) [][]byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func join(lines [][]byte) []byte { return bytes.Join(lines, nil) }

// TestVerifyNamesTheProblem checks the diagnosis of hand-made damage.
func TestVerifyNamesTheProblem(t *testing.T) {
	s, key := ledger(t, 120)
	good := mustExport(t, s, key)
	lines := splitLines(good)
	n := len(lines) - 1 // events
	clone := func() [][]byte { return append([][]byte(nil), lines...) }
	event := func(i int) eventstore.RecordedEvent {
		l, err := export.DecodeLine(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		return l.Event
	}
	for _, tc := range []struct {
		name    string
		mutate  func() []byte
		problem transparency.Problem
		at      uint64
	}{
		{"swap", func() []byte { l := clone(); l[9], l[29] = l[29], l[9]; return join(l) }, transparency.Reordered, 10},
		{"delete", func() []byte { l := clone(); return join(append(l[:40], l[41:]...)) }, transparency.Missing, 41},
		{"delete last event", func() []byte { l := clone(); return join(append(l[:n-1], l[n])) }, transparency.Missing, uint64(n)},
		{"delete checkpoint line", func() []byte { return join(lines[:n]) }, transparency.Missing, uint64(n + 1)},
		{"duplicate", func() []byte {
			l := clone()
			return join(append(l[:50], append([][]byte{l[20]}, l[50:]...)...))
		}, transparency.Inserted, 21},
		{"fabricated at the end", func() []byte {
			e := event(n - 1)
			e.Position++
			e.Revision = 0
			e.StreamID = "fabricated"
			e.ID = uuid.New()
			l := clone()
			return join(append(l[:n], export.AppendEvent(nil, e), l[n]))
		}, transparency.Inserted, uint64(n + 1)},
		{"changed data", func() []byte {
			l := clone()
			l[60] = bytes.Replace(l[60], []byte(`"actor_id":"p-`), []byte(`"actor_id":"q-`), 1)
			return join(l)
		}, transparency.Changed, 0},
		{"changed stream", func() []byte {
			l := clone()
			l[60] = bytes.Replace(l[60], []byte(`"stream":"stream-`), []byte(`"stream":"strean-`), 1)
			return join(l)
		}, transparency.Changed, 61},
		{"uppercase id", func() []byte {
			l := clone()
			id := event(70).ID.String()
			l[70] = bytes.Replace(l[70], []byte(id), []byte(strings.ToUpper(id)), 1)
			return join(l)
		}, transparency.Malformed, 71},
		{"checkpoint note", func() []byte {
			l := clone()
			l[n] = bytes.Replace(l[n], []byte(`\n`+fmt.Sprint(n)+`\n`), []byte(`\n`+fmt.Sprint(n-1)+`\n`), 1)
			return join(l)
		}, transparency.BadSignature, 0},
		{"cut short", func() []byte { return good[:len(good)-10] }, transparency.Malformed, uint64(n + 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := export.Verify(bytes.NewReader(tc.mutate()), key.Verifier, nil)
			var ve *transparency.VerifyError
			if !errors.As(err, &ve) || ve.Problem != tc.problem || (tc.at != 0 && ve.Position != tc.at) {
				t.Fatalf("got %v, want %s at position %d", err, tc.problem, tc.at)
			}
			t.Log(err)
		})
	}
}

// TestTamperDetection applies 1000 random mutations to an export of a
// ~200-event log: single-byte changes, line deletions, insertions
// (duplicated or fabricated lines) and swaps. Every one must be detected.
func TestTamperDetection(t *testing.T) {
	s, key := ledger(t, 200)
	good := mustExport(t, s, key)
	if _, err := export.Verify(bytes.NewReader(good), key.Verifier, nil); err != nil {
		t.Fatalf("untouched export: %v", err)
	}
	lines := splitLines(good)
	r := rand.New(rand.NewPCG(42, 7))
	fabricate := func() []byte {
		l, _ := export.DecodeLine(lines[r.IntN(len(lines)-1)])
		e := l.Event
		switch r.IntN(3) {
		case 0: // a made-up event at a plausible position
			e.Position = 1 + r.Uint64N(uint64(len(lines)))
			e.ID = uuid.New()
			e.Data = []byte(fmt.Sprintf(`{"forged":%d}`, r.IntN(1000)))
		case 1: // an existing event claiming the next position
			e.Position = uint64(len(lines))
		default: // an existing event changed slightly, same position
			e.Metadata.Reason += "!"
		}
		return export.AppendEvent(nil, e)
	}
	counts := map[string]int{}
	problems := map[transparency.Problem]int{}
	const mutations = 1000
	for i := 0; i < mutations; i++ {
		var kind string
		var bad []byte
		switch i % 5 {
		case 0, 1: // single-byte change
			kind = "byte"
			bad = bytes.Clone(good)
			j := r.IntN(len(bad))
			old := bad[j]
			for bad[j] == old {
				bad[j] = byte(r.IntN(256))
			}
		case 2: // delete a line
			kind = "delete"
			j := r.IntN(len(lines))
			l := append([][]byte(nil), lines[:j]...)
			bad = join(append(l, lines[j+1:]...))
		case 3: // insert a duplicated or fabricated line
			kind = "insert"
			ins := lines[r.IntN(len(lines))]
			if r.IntN(2) == 0 {
				kind = "fabricate"
				ins = fabricate()
			}
			j := r.IntN(len(lines) + 1)
			l := append([][]byte(nil), lines[:j]...)
			l = append(l, ins)
			bad = join(append(l, lines[j:]...))
		case 4: // swap two lines
			kind = "swap"
			l := append([][]byte(nil), lines...)
			a, b := r.IntN(len(l)), r.IntN(len(l))
			for b == a {
				b = r.IntN(len(l))
			}
			l[a], l[b] = l[b], l[a]
			bad = join(l)
		}
		counts[kind]++
		_, err := export.Verify(bytes.NewReader(bad), key.Verifier, nil)
		if err == nil {
			t.Fatalf("mutation %d (%s) not detected", i, kind)
		}
		var ve *transparency.VerifyError
		if errors.As(err, &ve) {
			problems[ve.Problem]++
		} else {
			t.Fatalf("mutation %d (%s): %v is not a VerifyError", i, kind, err)
		}
	}
	t.Logf("%d mutations, all detected: %v; diagnoses: %v", mutations, counts, problems)
}

func TestImportIntoImporter(t *testing.T) {
	ctx := context.Background()
	s, key := ledger(t, 120)
	good := mustExport(t, s, key)

	dst := memory.New(memory.Options{})
	sum, err := export.Import(ctx, dst, bytes.NewReader(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head(ctx)
	if sum.Imported != head || sum.Restamped != 0 {
		t.Fatalf("summary %+v, want %d imported, none restamped", sum, head)
	}
	// Byte-identical, so the imported store verifies against the same
	// key and exports the same lines.
	if _, err := transparency.VerifyStore(ctx, dst, key.Verifier, []byte(sum.Checkpoint.Note)); err != nil {
		t.Fatal(err)
	}
	again := mustExport(t, dst, key)
	if !bytes.Equal(again, good) {
		t.Fatal("re-export of the imported store differs from the export")
	}
	// Importing again matches everything and writes nothing.
	sum, err = export.Import(ctx, dst, bytes.NewReader(good), nil)
	if err != nil || sum.Matched != head || sum.Imported != 0 {
		t.Fatalf("re-import: %+v %v", sum, err)
	}
	// An interrupted import resumes.
	half := memory.New(memory.Options{})
	lines := splitLines(good)
	if _, err := export.Import(ctx, half, bytes.NewReader(join(lines[:60])), nil); !errors.Is(err, export.ErrIncomplete) {
		t.Fatalf("partial import: %v, want ErrIncomplete", err)
	}
	if sum, err := export.Import(ctx, half, bytes.NewReader(good), nil); err != nil || sum.Matched != 60 {
		t.Fatalf("resumed import: %+v %v", sum, err)
	}
	// A store with another history is refused.
	other := memory.New(memory.Options{})
	fill(t, other, 3, rand.New(rand.NewPCG(9, 9)))
	if _, err := export.Import(ctx, other, bytes.NewReader(good), nil); !errors.Is(err, export.ErrDiverges) {
		t.Fatalf("other history: %v, want ErrDiverges", err)
	}
	// Out of order lines are refused.
	l := append([][]byte(nil), lines...)
	l[3], l[4] = l[4], l[3]
	if _, err := export.Import(ctx, memory.New(memory.Options{}), bytes.NewReader(join(l)), nil); !errors.Is(err, export.ErrMalformed) {
		t.Fatalf("reordered: %v, want ErrMalformed", err)
	}
}

// TestImportWithoutImporter: a segment store stamps its own recorded
// times; positions and revisions still come out the same, and the
// restamping is reported.
func TestImportWithoutImporter(t *testing.T) {
	ctx := context.Background()
	s, key := ledger(t, 60)
	good := mustExport(t, s, key)
	dst, err := segment.Open(ctx, t.TempDir(), segment.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, ok := any(dst).(export.Importer); ok {
		t.Skip("segment now implements Importer")
	}
	sum, err := export.Import(ctx, dst, bytes.NewReader(good), nil)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := s.Head(ctx)
	if sum.Imported != head || sum.Restamped == 0 || sum.FirstRestamped != 1 {
		t.Fatalf("summary %+v, want %d imported and restamping reported from 1", sum, head)
	}
	all, _ := dst.ReadAll(ctx, 1, 0)
	orig, _ := s.ReadAll(ctx, 1, 0)
	for i := range all {
		if all[i].Position != orig[i].Position || all[i].Revision != orig[i].Revision || all[i].ID != orig[i].ID {
			t.Fatalf("position %d: got %d/%d/%s, want %d/%d/%s", i+1, all[i].Position, all[i].Revision, all[i].ID, orig[i].Position, orig[i].Revision, orig[i].ID)
		}
	}
}

func FuzzDecodeLine(f *testing.F) {
	s, key := ledger(f, 30)
	for _, l := range splitLines(mustExport(f, s, key)) {
		f.Add(l)
	}
	f.Add([]byte(`{"position":1}`))
	f.Add([]byte(`{"checkpoint":{}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := export.DecodeLine(line)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to the very same bytes.
		var again []byte
		if l.Checkpoint != nil {
			again = export.AppendCheckpoint(nil, *l.Checkpoint)
		} else {
			again = export.AppendEvent(nil, l.Event)
		}
		if !bytes.Equal(bytes.TrimSuffix(again, []byte("\n")), bytes.TrimSuffix(line, []byte("\n"))) {
			t.Fatalf("decoded %q re-encodes to %q", line, again)
		}
	})
}

func FuzzVerify(f *testing.F) {
	s, key := ledger(f, 20)
	good := mustExport(f, s, key)
	f.Add(good, uint16(0), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, at uint16, x byte) {
		// Flipping any byte of a good export must be detected; arbitrary
		// input must not crash the verifier.
		if x != 0 && len(data) > 0 {
			data = bytes.Clone(data)
			data[int(at)%len(data)] ^= x
		}
		_, err := export.Verify(io.MultiReader(bytes.NewReader(data)), key.Verifier, nil)
		if err == nil && !bytes.Equal(data, good) && bytes.Contains(data, []byte(`"checkpoint"`)) {
			// A different input that verifies must at least be a valid
			// export of the same log; it cannot be one with a flipped byte.
			if len(data) == len(good) {
				t.Fatalf("a changed export verifies")
			}
		}
	})
}
