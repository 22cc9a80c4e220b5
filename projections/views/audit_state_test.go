package views

import (
	"bytes"
	"encoding/base64"
	"testing"
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
		if _, err := decodeAudit(bad); err == nil {
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
		v, err := decodeAudit(b)
		if err != nil {
			return
		}
		v.index()
		if _, err := decodeAudit(v.encode()); err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
	})
}
