package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/concord-ledger/concord/eventstore/transparency"
)

// trust is where a verification starts: a key the verifier already holds.
// Every command that checks a history (verify, restore, import) takes the
// ledger's public key with --pubkey, or, said loudly, pins the key it
// finds on first use (--trust-on-first-use FILE); never silently the key
// that lies beside the data being checked, which whoever rewrote the data
// could have replaced. Witness cosignatures count only from the keys in
// --witnesses.
type trust struct {
	pub       *string
	tofu      *string
	witnesses *string
}

// trustFlags adds --pubkey, and --trust-on-first-use when tofu is set, and
// --witnesses to fs.
func trustFlags(fs *flag.FlagSet, tofu bool) *trust {
	t := &trust{
		pub: fs.String("pubkey", "", "the ledger's checkpoint public key `file` (its checkpoint.pub), obtained from a source you trust"),
		witnesses: fs.String("witnesses", "", "`file` of the witness keys you trust, one a line ('#' comments): cosignatures count only from them, "+
			"and at least one checkpoint must carry one"),
	}
	if tofu {
		t.tofu = fs.String("trust-on-first-use", "", "INSECURE ON FIRST USE: when `FILE` does not exist, trust the key found beside the data and record it there; "+
			"when it exists, use the key recorded in it and refuse any other")
	}
	return t
}

// keyFingerprint is how a key is shown to a person comparing it with the
// published one.
func keyFingerprint(vkey string) string {
	h := sha256.Sum256([]byte(strings.TrimSpace(vkey)))
	return "SHA256:" + hex.EncodeToString(h[:])
}

// verifier returns the key to verify with. found is the key file that
// came with the data (the data directory's or the backup's checkpoint.pub):
// never used unless --trust-on-first-use says so, and, when a key is
// given, refused if it differs (the data was signed with another key).
// what names the data in messages.
func (t *trust) verifier(m *Main, found, what string) (note.Verifier, error) {
	tofu := ""
	if t.tofu != nil {
		tofu = *t.tofu
	}
	switch {
	case *t.pub != "" && tofu != "":
		return nil, Usagef("give --pubkey or --trust-on-first-use, not both")
	case *t.pub != "":
		v, err := transparency.ReadVerifier(*t.pub)
		if err != nil {
			return nil, Usagef("public key: %v", err)
		}
		return v, nil
	case tofu == "":
		hint := ""
		if t.tofu != nil {
			hint = ", or pin the key found now with --trust-on-first-use FILE"
		}
		return nil, Usagef("--pubkey FILE is required: verification starts from the ledger's public key as you obtained it from a source you trust "+
			"(the governors' minutes, the trust's website), never from the key beside %s, which whoever changed the data could have replaced%s", what, hint)
	}
	foundKey, err := readKeyLine(found)
	if err != nil {
		return nil, fmt.Errorf("the key that came with %s: %w", what, err)
	}
	pinned, err := readKeyLine(tofu)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		v, err := note.NewVerifier(foundKey)
		if err != nil {
			return nil, fmt.Errorf("the key that came with %s: %w: %v", what, transparency.ErrBadKey, err)
		}
		if err := os.WriteFile(tofu, []byte(foundKey+"\n"), 0o600); err != nil {
			return nil, err
		}
		fmt.Fprintf(m.Stderr, "WARNING: TRUST ON FIRST USE: trusting the key that came with %s WITHOUT checking it against a key you already hold:\n"+
			"    %s\n    fingerprint %s\n"+
			"Compare that fingerprint with the ledger's published key now. The key is recorded in %s; later runs with --trust-on-first-use %s refuse any other key.\n",
			what, foundKey, keyFingerprint(foundKey), tofu, tofu)
		return v, nil
	case err != nil:
		return nil, fmt.Errorf("--trust-on-first-use: %w", err)
	case pinned != foundKey:
		return nil, fmt.Errorf("VERIFICATION FAILED: the key that came with %s (%s, fingerprint %s) is not the one recorded at first use in %s (%s, fingerprint %s): "+
			"the data was signed with another key, or the key beside it was replaced", what, foundKey, keyFingerprint(foundKey), tofu, pinned, keyFingerprint(pinned))
	}
	v, err := note.NewVerifier(pinned)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", tofu, transparency.ErrBadKey, err)
	}
	return v, nil
}

// sameKey refuses data whose own key file differs from the trusted key v:
// the data would go on being signed by a key the verifier does not trust.
func sameKey(v note.Verifier, found, what string) error {
	k, err := readKeyLine(found)
	if err != nil {
		return fmt.Errorf("the key that came with %s: %w", what, err)
	}
	fv, err := note.NewVerifier(k)
	if err != nil || fv.Name() != v.Name() || fv.KeyHash() != v.KeyHash() {
		return fmt.Errorf("VERIFICATION FAILED: %s carries the key %s (fingerprint %s), not the one you trust (%s+%08x)", what, k, keyFingerprint(k), v.Name(), v.KeyHash())
	}
	return nil
}

// checker returns a Checker of logs signed by v that trusts the witnesses
// in --witnesses.
func (t *trust) checker(v note.Verifier) (*transparency.Checker, error) {
	c := transparency.NewChecker(v)
	if *t.witnesses == "" {
		return c, nil
	}
	b, err := os.ReadFile(*t.witnesses)
	if err != nil {
		return nil, Usagef("--witnesses: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := c.TrustWitness(line); err != nil {
			return nil, Usagef("--witnesses %s: %v", *t.witnesses, err)
		}
		n++
	}
	if n == 0 {
		return nil, Usagef("--witnesses %s lists no key", *t.witnesses)
	}
	return c, nil
}

// witnessed checks a report against --witnesses: with it, at least one
// checkpoint must carry a cosignature by a trusted witness.
func (t *trust) witnessed(rep transparency.Report) error {
	if *t.witnesses != "" && rep.Cosignatures == 0 {
		return fmt.Errorf("VERIFICATION FAILED: no checkpoint in it is cosigned by a witness you trust (%d cosignatures by keys you do not hold): "+
			"nothing but the ledger's own key vouches for this history", rep.UntrustedCosignatures)
	}
	return nil
}

// witnessSummary says what the witnesses vouch for, for the OK line.
func witnessSummary(rep transparency.Report) string {
	s := fmt.Sprintf("%d witness cosignatures by keys you trust", rep.Cosignatures)
	if rep.Witnessed > 0 {
		s += fmt.Sprintf(" (positions 1..%d witnessed)", rep.Witnessed)
	}
	if rep.UntrustedCosignatures > 0 {
		s += fmt.Sprintf(", %d by keys you do not hold (not counted)", rep.UntrustedCosignatures)
	}
	return s
}

// readKeyLine reads a verifier key file: its one non-empty line.
func readKeyLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
