package transparency

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// fuzzKey returns a note key named name from a fixed seed, so that the
// notes in the seed corpus keep verifying from run to run.
func fuzzKey(t testing.TB, name string, seed byte) Key {
	t.Helper()
	skey, _, err := note.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)), name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(skey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzParseCheckpoint feeds arbitrary notes to ParseCheckpoint, the
// parser of every checkpoint a verifier, a witness or a restore reads.
// It must not panic; it fails with ErrBadSignature or
// ErrMalformedCheckpoint; what it accepts is a note signed by the log's
// key whose text starts with the canonical body of the checkpoint it
// returns, which a witness can cosign and which parses the same after.
func FuzzParseCheckpoint(f *testing.F) {
	logKey := fuzzKey(f, "fuzz.example/ledger", 1)
	witness := fuzzKey(f, "witness.example/w", 2)
	root := bytes.Repeat([]byte{0xab}, HashSize)
	for _, size := range []uint64{0, 1, 42, 1 << 40} {
		cp, err := SignCheckpoint(logKey.Signer, logKey.Name(), size, root)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(cp.Note))
		cosigned, err := Cosign([]byte(cp.Note), logKey.Verifier, witness)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cosigned)
	}
	ext, _ := note.Sign(&note.Note{Text: CheckpointBody(logKey.Name(), 7, root) + "extension line\n"}, logKey.Signer)
	f.Add(ext)
	bad, _ := note.Sign(&note.Note{Text: logKey.Name() + "\n007\nnot base64\n"}, logKey.Signer)
	f.Add(bad)
	other, _ := SignCheckpoint(witness.Signer, witness.Name(), 3, root)
	f.Add([]byte(other.Note))
	f.Add([]byte("fuzz.example/ledger\n1\n" + strings.Repeat("A", 43) + "=\n\n— fuzz.example/ledger AAAA\n"))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := ParseCheckpoint(msg, logKey.Verifier)
		if err != nil {
			if !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrMalformedCheckpoint) {
				t.Fatalf("error %v is neither ErrBadSignature nor ErrMalformedCheckpoint", err)
			}
			if errors.Is(err, ErrBadSignature) {
				if _, cerr := Cosign(msg, logKey.Verifier, witness); cerr == nil {
					t.Fatalf("a witness cosigned a note whose log signature fails: %v", err)
				}
			}
			return
		}
		if cp.Origin != logKey.Name() || len(cp.Root) != HashSize || cp.Note != string(msg) {
			t.Fatalf("accepted %q as %+v", msg, cp)
		}
		text, _, _ := strings.Cut(string(msg), "\n\n")
		if !strings.HasPrefix(text+"\n", CheckpointBody(cp.Origin, cp.Size, cp.Root)) {
			t.Fatalf("accepted note %q does not start with its checkpoint's body %q", msg, CheckpointBody(cp.Origin, cp.Size, cp.Root))
		}
		cosigned, err := Cosign(msg, logKey.Verifier, witness)
		if err != nil {
			t.Fatalf("cannot cosign an accepted checkpoint: %v", err)
		}
		again, err := ParseCheckpoint(cosigned, logKey.Verifier)
		if err != nil {
			t.Fatalf("the cosigned note no longer parses: %v", err)
		}
		if again.Size != cp.Size || !bytes.Equal(again.Root, cp.Root) {
			t.Fatalf("cosigning changed the checkpoint: %+v, was %+v", again, cp)
		}
		if _, err := note.Open(cosigned, note.VerifierList(witness.Verifier)); err != nil {
			t.Fatalf("the witness's signature does not verify: %v", err)
		}
	})
}

// FuzzParseCheckpointBody feeds arbitrary text to the checkpoint body
// parser: no panic; errors are ErrMalformedCheckpoint; what it accepts
// starts with the canonical body of what it returns (so it is strict:
// one text per checkpoint, before extension lines).
func FuzzParseCheckpointBody(f *testing.F) {
	root := bytes.Repeat([]byte{7}, HashSize)
	f.Add(CheckpointBody("a.example/log", 0, root))
	f.Add(CheckpointBody("a.example/log", 18446744073709551615, root))
	f.Add(CheckpointBody("a.example/log", 5, root) + "ext\n")
	f.Add("a.example/log\n05\n" + strings.Repeat("B", 44) + "\n")
	f.Add("a\n1\n\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		cp, err := ParseCheckpointBody(text)
		if err != nil {
			if !errors.Is(err, ErrMalformedCheckpoint) {
				t.Fatalf("error %v is not ErrMalformedCheckpoint", err)
			}
			return
		}
		body := CheckpointBody(cp.Origin, cp.Size, cp.Root)
		if !strings.HasPrefix(text, body) {
			t.Fatalf("accepted %q, which does not start with its canonical body %q", text, body)
		}
		again, err := ParseCheckpointBody(body)
		if err != nil || again.Origin != cp.Origin || again.Size != cp.Size || !bytes.Equal(again.Root, cp.Root) {
			t.Fatalf("canonical body %q parses to %+v, %v; want %+v", body, again, err, cp)
		}
	})
}
