package views

import (
	"bytes"
	"context"
	"encoding/base64"
	"slices"
	"testing"

	"github.com/concord-ledger/concord/eventstore/domainlog"
)

// TestAuditStateRoundTrip checks the audit view's binary state: decoding
// and encoding again gives the same bytes, and the decoded view answers
// the same pages.
func TestAuditStateRoundTrip(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	a := w.fold(AuditView, w.head()).(*Audit)
	b, err := a.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	back := NewAudit()
	if err := back.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	again, _ := back.MarshalState()
	if !bytes.Equal(again, b) {
		t.Fatal("encode(decode(state)) differs from state")
	}
	names := w.names()
	for _, f := range []AuditFilter{{}, {Person: w.leaver}, {Community: w.communities[0], Type: "MemberJoined"}} {
		want, got := a.Events(f, 3, 10, names), back.Events(f, 3, 10, names)
		if len(got.Entries) != len(want.Entries) || got.Next != want.Next {
			t.Fatalf("filter %+v: %d entries next %d, want %d next %d", f, len(got.Entries), got.Next, len(want.Entries), want.Next)
		}
		for i := range got.Entries {
			if g, w := got.Entries[i], want.Entries[i]; g.Position != w.Position || g.Summary != w.Summary || len(g.Links) != len(w.Links) || g.Actor != w.Actor {
				t.Fatalf("entry %d: %+v, want %+v", i, g, w)
			}
		}
	}
	// Truncated, unknown or over-long states are refused.
	raw := a.encode()
	for _, bad := range [][]byte{nil, {9}, raw[:len(raw)-1], append(append([]byte{}, raw...), 0)} {
		if _, err := decodeAudit(newAuditReader([][]byte{bad})); err == nil {
			t.Fatalf("malformed state (%d bytes) accepted", len(bad))
		}
	}
	// The form version 1 wrote (base64 in a JSON string) still reads.
	old := append(append([]byte{'"'}, base64.StdEncoding.EncodeToString(raw)...), '"')
	if err := NewAudit().UnmarshalState(old); err != nil {
		t.Fatalf("version 1 state: %v", err)
	}
	for _, bad := range []string{``, `{}`, `"!!"`, `"AQ=="`} {
		if err := NewAudit().UnmarshalState([]byte(bad)); err == nil {
			t.Fatalf("state %q accepted", bad)
		}
	}
}

// FuzzAuditState feeds arbitrary bytes to the audit state decoder: it
// must fail cleanly or give a state that encodes back to the same bytes.
func FuzzAuditState(f *testing.F) {
	f.Add(NewAudit().encode())
	f.Add([]byte{1, 1, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeAudit(newAuditReader([][]byte{b}))
		if err != nil {
			return
		}
		v.index()
		if _, err := decodeAudit(newAuditReader([][]byte{v.encode()})); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
	})
}

// TestAuditStateRoundTripOverChunks: a state of several chunks of records
// (read back a chunk at a time) decodes to the same bytes, summaries and
// postings as the view it came from.
func TestAuditStateRoundTripOverChunks(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	recs, err := w.store.ReadAll(context.Background(), 1, int(w.head()))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAudit()
	pos := uint64(0)
	for a.Len() < 4*auditChunk+123 {
		for _, rec := range recs {
			m, err := w.codec.Decode(domainlog.ToDomain(rec))
			if err != nil {
				t.Fatal(err)
			}
			pos++
			m.Position = pos
			if err := a.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(a.text) < 2 || len(a.linkArena) < 2 {
		t.Fatalf("%d text and %d link chunks: the test no longer crosses the arenas' chunks", len(a.text), len(a.linkArena))
	}
	b, _ := a.MarshalState()
	back := NewAudit()
	if err := back.UnmarshalState(b); err != nil {
		t.Fatal(err)
	}
	// Every chunk after the first of each arena is off the heap, in the
	// view folded and in the view read back.
	for _, v := range []*Audit{a, back} {
		checkOffHeap(t, v, len(v.Records)-1+len(v.text)-1+len(v.linkArena)-1)
	}
	if again, _ := back.MarshalState(); !bytes.Equal(again, b) {
		t.Fatal("encode(decode(state)) differs from state")
	}
	for i := range a.Len() {
		g, w := back.rec(i), a.rec(i)
		if gs, ws := back.summaryOf(g), a.summaryOf(w); gs != ws || !slices.Equal(back.linksOf(g), a.linksOf(w)) {
			t.Fatalf("record %d: %q %v, want %q %v", i, gs, back.linksOf(g), ws, a.linksOf(w))
		}
	}
	if len(back.postings) != len(a.postings) {
		t.Fatalf("%d posting lists, want %d", len(back.postings), len(a.postings))
	}
	for l, want := range a.postings {
		if got := back.postings[l]; !slices.Equal(got, want) {
			t.Fatalf("postings of entity %d: %d records, want %d", l, len(got), len(want))
		}
	}
	// Folding on after the read appends to the postings without touching
	// another entity's list laid out beside it.
	m, _ := w.codec.Decode(domainlog.ToDomain(recs[len(recs)-1]))
	m.Position = pos + 1
	a.Apply(m)
	back.Apply(m)
	for l, want := range a.postings {
		if got := back.postings[l]; !slices.Equal(got, want) {
			t.Fatalf("after one more event, postings of entity %d differ", l)
		}
	}
}

// TestAuditStateReadsFromPieces: the state cut into pieces anywhere (at
// every byte of its first hundred, pieces of one byte, pieces of odd
// sizes) reads back as the whole does, encoding to the same bytes; cut
// and truncated, it is refused.
func TestAuditStateReadsFromPieces(t *testing.T) {
	w := newGovWorld(t)
	w.run(nil)
	raw := w.fold(AuditView, w.head()).(*Audit).encode()
	cut := func(b []byte, sizes ...int) [][]byte {
		var out [][]byte
		for i := 0; len(b) > 0; i++ {
			n := min(sizes[i%len(sizes)], len(b))
			out, b = append(out, b[:n]), b[n:]
		}
		return out
	}
	var cuts [][][]byte
	for at := 1; at < min(100, len(raw)); at++ {
		cuts = append(cuts, [][]byte{raw[:at], raw[at:]})
	}
	cuts = append(cuts, cut(raw, 1), cut(raw, 7, 3, 64), cut(raw, 17), [][]byte{nil, raw, nil})
	for i, pieces := range cuts {
		back := NewAudit()
		if err := back.UnmarshalPieces(pieces); err != nil {
			t.Fatalf("cut %d (%d pieces): %v", i, len(pieces), err)
		}
		if again := back.encode(); !bytes.Equal(again, raw) {
			t.Fatalf("cut %d (%d pieces): read back as a different state", i, len(pieces))
		}
	}
	for _, bad := range [][][]byte{cut(raw[:len(raw)-1], 5), cut(append(slices.Clone(raw), 0), 5), {}} {
		if err := NewAudit().UnmarshalPieces(bad); err == nil {
			t.Fatalf("a malformed state in %d pieces accepted", len(bad))
		}
	}
}
