package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// sign waits for the Merkle tree to reach the head and signs a checkpoint.
func (w *feedWorld) sign() transparency.Checkpoint {
	w.t.Helper()
	ctx := context.Background()
	head, err := w.L.Store.Head(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.L.Log.WaitFor(ctx, head); err != nil {
		w.t.Fatal(err)
	}
	cp, err := w.L.Log.SignCheckpoint(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	return cp
}

func TestTransparencyRoutesServeTheClient(t *testing.T) {
	w := newFeedWorld(t, "")
	ctx := context.Background()
	v := w.L.Log.Verifier()
	c := &transparency.Client{URL: w.HTTP.URL}

	cp1 := w.sign()
	got, err := c.Update(ctx, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != cp1.Size || !bytes.Equal(got.Root, cp1.Root) {
		t.Fatalf("latest = size %d, want %d", got.Size, cp1.Size)
	}

	// The log grows; the client proves the new checkpoint extends the old.
	w.assess()
	w.assess()
	cp2 := w.sign()
	if cp2.Size <= cp1.Size {
		t.Fatalf("second checkpoint size %d not above %d", cp2.Size, cp1.Size)
	}
	got, err = c.Update(ctx, v, &cp1)
	if err != nil {
		t.Fatalf("update from size %d: %v", cp1.Size, err)
	}
	if got.Size != cp2.Size {
		t.Fatalf("latest after growth = %d, want %d", got.Size, cp2.Size)
	}
	// A forged earlier checkpoint (another root) is refused.
	forged := cp1
	forged.Root = bytes.Repeat([]byte{7}, transparency.HashSize)
	if _, err := c.Update(ctx, v, &forged); err == nil {
		t.Fatal("update from a forged checkpoint succeeded")
	}

	// Inclusion of event 3 in the latest checkpoint, checked offline.
	p, err := c.InclusionProof(ctx, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(v); err != nil {
		t.Fatalf("inclusion proof: %v", err)
	}
	evs, err := w.L.Store.ReadAll(ctx, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The proof names the leaf by its hash (RFC 6962: SHA-256 of 0x00 and
	// the leaf); whoever holds the event checks that it hashes to it.
	leafHash := sha256.Sum256(append([]byte{0}, eventstore.EncodeCanonical(evs[0])...))
	if p.LeafHashHex != hex.EncodeToString(leafHash[:]) || p.TreeSize != cp2.Size || p.LeafIndex != 2 {
		t.Fatalf("inclusion proof of another leaf or size: %+v", p)
	}
	p, err = c.InclusionProof(ctx, 3, cp1.Size)
	if err != nil || p.Verify(v) != nil || p.TreeSize != cp1.Size {
		t.Fatalf("inclusion in size %d: %+v %v", cp1.Size, p, err)
	}

	// A trusted witness cosigns; the checkpoint's page lists it.
	wk, _, err := transparency.GenerateKey("partner-school.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.L.Log.AddWitness(wk.VerifierKey); err != nil {
		t.Fatal(err)
	}
	cosigned, err := transparency.Cosign([]byte(cp2.Note), v, wk)
	if err != nil {
		t.Fatal(err)
	}
	cosigners, err := c.PostCosignature(ctx, cp2.Size, cosigned)
	if err != nil {
		t.Fatal(err)
	}
	if len(cosigners) != 1 || cosigners[0].Witness != "partner-school.example" {
		t.Fatalf("cosigners = %+v", cosigners)
	}
	var page CheckpointPage
	w.getJSON("/v1/checkpoints/"+u64s(cp2.Size), "", &page)
	if page.TreeSize != cp2.Size || page.Note != cp2.Note || len(page.Cosigners) != 1 || page.RootHex != hex.EncodeToString(cp2.Root) {
		t.Fatalf("checkpoint page = %+v", page)
	}
	// An untrusted witness is refused.
	stranger, _, err := transparency.GenerateKey("stranger.example")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := transparency.Cosign([]byte(cp2.Note), v, stranger)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := w.do(http.MethodPost, "/v1/checkpoints/"+u64s(cp2.Size)+"/cosignatures", "", `{"note":`+quoteJSON(string(bad))+`}`)
	wantProblem(t, resp, body, http.StatusForbidden)

	var list CheckpointList
	w.getJSON("/v1/checkpoints", "", &list)
	if list.Latest != cp2.Size || len(list.Sizes) < 2 || list.Sizes[len(list.Sizes)-1] != cp2.Size {
		t.Fatalf("checkpoint list = %+v", list)
	}
	var pk PublicKey
	w.getJSON("/v1/publickey", "", &pk)
	if pk.Key != w.L.Log.PublicKey() || pk.Origin != w.L.Log.Origin() {
		t.Fatalf("public key = %+v", pk)
	}
	resp, body = w.do(http.MethodGet, "/v1/publickey?format=text", "", "")
	if _, err := note.NewVerifier(strings.TrimSpace(string(body))); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("public key as text: %s %q %v", resp.Status, body, err)
	}

	bads := []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/v1/proofs/inclusion", "", 400},
		{"GET", "/v1/proofs/inclusion?position=0", "", 400},
		{"GET", "/v1/proofs/inclusion?position=x", "", 400},
		{"GET", "/v1/proofs/inclusion?position=2&tree_size=100000", "", 400},
		{"GET", "/v1/proofs/consistency?from=3", "", 400},
		{"GET", "/v1/proofs/consistency?from=5&to=3", "", 400},
		{"GET", "/v1/proofs/consistency?from=1&to=100000", "", 400},
		{"GET", "/v1/checkpoints/abc", "", 400},
		{"GET", "/v1/checkpoints/99999", "", 404},
		{"POST", "/v1/checkpoints/" + u64s(cp2.Size) + "/cosignatures", `{"note":"nonsense"}`, 400},
		{"POST", "/v1/checkpoints/" + u64s(cp2.Size) + "/cosignatures", `{"note":1}`, 422},
		{"POST", "/v1/checkpoints/" + u64s(cp2.Size) + "/cosignatures", `{"nope":"x"}`, 422},
	}
	for _, b := range bads {
		resp, body := w.do(b.method, b.path, "", b.body)
		if resp.StatusCode != b.status {
			t.Errorf("%s %s: %d, want %d: %s", b.method, b.path, resp.StatusCode, b.status, body)
		}
	}
	var cons transparency.ConsistencyProof
	w.getJSON("/v1/proofs/consistency?from="+u64s(cp1.Size)+"&to="+u64s(cp2.Size), "", &cons)
	if err := cons.Verify(cp1.Root, cp2.Root); err != nil {
		t.Fatalf("consistency proof: %v", err)
	}
}

func TestTransparencyOff(t *testing.T) {
	l, err := ledger.Open(context.Background(), ledger.Config{NoTransparency: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := New(l, Options{})
	for _, path := range []string{"/v1/checkpoints/latest", "/v1/checkpoints", "/v1/proofs/inclusion?position=1", "/v1/publickey"} {
		rec := newRecorder()
		s.ServeHTTP(rec, mustRequest(t, http.MethodGet, path))
		p := wantProblem(t, rec.Result(), rec.Body.Bytes(), http.StatusNotFound)
		if !strings.Contains(p.Detail, "verifiable history is off") {
			t.Errorf("%s: detail %q", path, p.Detail)
		}
	}
}
