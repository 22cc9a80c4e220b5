package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/export"
	"github.com/concord-ledger/concord/eventstore/keyring"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

func mustOpen(t *testing.T, dir string) *keyring.Keyring {
	t.Helper()
	k, err := keyring.Open(dir)
	if err != nil {
		t.Fatalf("open keyring: %v", err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// keyFiles returns the key files in dir's keyring.
func keyFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "keys", "*.key"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// grep reports which files under dir contain needle.
func grep(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func TestSealOpenAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	k := mustOpen(t, dir)
	sealed, err := k.Seal("person-1", []byte("Ada"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open("person-2", sealed); !errors.Is(err, domain.ErrErased) {
		t.Errorf("open for a person with no key: %v, want ErrErased", err)
	}
	k.Close()

	k = mustOpen(t, dir)
	got, err := k.Open("person-1", sealed)
	if err != nil || string(got) != "Ada" {
		t.Fatalf("open after reopen: %q %v", got, err)
	}
	// Sealed for person-1, it does not open as someone else's.
	files := keyFiles(t, dir)
	if len(files) != 1 {
		t.Fatalf("key files %v, want one", files)
	}
	fi, _ := os.Stat(files[0])
	if fi.Mode().Perm() != 0o600 || fi.Size() != keyring.KeySize {
		t.Errorf("key file mode %v size %d, want 0600 and %d bytes", fi.Mode().Perm(), fi.Size(), keyring.KeySize)
	}
	di, _ := os.Stat(filepath.Join(dir, "keys"))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("keys dir mode %v, want 0700", di.Mode().Perm())
	}
}

func TestConcurrentSealMakesOneKey(t *testing.T) {
	dir := t.TempDir()
	k := mustOpen(t, dir)
	var wg sync.WaitGroup
	sealed := make([][]byte, 16)
	for i := range sealed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sealed[i], _ = k.Seal("p", []byte("x"))
		}()
	}
	wg.Wait()
	k.Close()
	k = mustOpen(t, dir)
	for i, s := range sealed {
		if got, err := k.Open("p", s); err != nil || string(got) != "x" {
			t.Fatalf("sealed %d: %q %v", i, got, err)
		}
	}
}

func TestEraseDestroysTheKey(t *testing.T) {
	dir := t.TempDir()
	k := mustOpen(t, dir)
	sealed, err := k.Seal("person-1", []byte("Ada"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := k.Seal("person-2", []byte("Grace"))
	files := keyFiles(t, dir)
	var key1 []byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if _, err := domain.OpenWithKey(b, "person-1", sealed); err == nil {
			key1 = b
		}
	}
	if key1 == nil {
		t.Fatal("no key file opens person-1's data")
	}

	if err := k.Erase("person-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open("person-1", sealed); !errors.Is(err, domain.ErrErased) {
		t.Errorf("open after erase: %v, want ErrErased", err)
	}
	if _, err := k.Seal("person-1", []byte("again")); !errors.Is(err, domain.ErrErased) {
		t.Errorf("seal after erase: %v, want ErrErased", err)
	}
	if !k.IsErased("person-1") || k.IsErased("person-2") {
		t.Error("IsErased wrong")
	}
	if err := k.Erase("person-1"); err != nil {
		t.Errorf("erase twice: %v", err)
	}
	if found := grep(t, dir, key1); len(found) != 0 {
		t.Fatalf("the erased key's bytes are still in %v", found)
	}
	if n := len(keyFiles(t, dir)); n != 1 {
		t.Fatalf("%d key files after erasure, want 1 (person-2's)", n)
	}
	k.Close()

	// Still erased after reopening; the other person is untouched.
	k = mustOpen(t, dir)
	if _, err := k.Open("person-1", sealed); !errors.Is(err, domain.ErrErased) {
		t.Errorf("open after reopen: %v, want ErrErased", err)
	}
	if _, err := k.Seal("person-1", []byte("again")); !errors.Is(err, domain.ErrErased) {
		t.Errorf("seal after reopen: %v, want ErrErased", err)
	}
	if got, err := k.Open("person-2", other); err != nil || string(got) != "Grace" {
		t.Errorf("person-2: %q %v", got, err)
	}
}

// TestOpenFinishesInterruptedErasure: a crash after the tombstone was
// recorded but before the key file was destroyed.
func TestOpenFinishesInterruptedErasure(t *testing.T) {
	dir := t.TempDir()
	k := mustOpen(t, dir)
	sealed, _ := k.Seal("person-1", []byte("Ada"))
	key, _ := os.ReadFile(keyFiles(t, dir)[0])
	if err := k.Erase("person-1"); err != nil {
		t.Fatal(err)
	}
	k.Close()
	// Put the key file back, as if the crash came before its removal,
	// and leave a temporary file as a crash during a write would.
	h := strings.Split(string(mustRead(t, filepath.Join(dir, "keys", "erased"))), "\n")[0]
	if err := os.WriteFile(filepath.Join(dir, "keys", h+".key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", ".tmp-123"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	k = mustOpen(t, dir)
	if _, err := k.Open("person-1", sealed); !errors.Is(err, domain.ErrErased) {
		t.Errorf("open: %v, want ErrErased", err)
	}
	if found := grep(t, dir, key); len(found) != 0 {
		t.Fatalf("the erased key is still in %v", found)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// personRegistered is a toy event carrying personal data.
type personRegistered struct {
	Person   string              `json:"person" concord:"subject"`
	Role     string              `json:"role"`
	Personal domain.PersonalData `json:"personal"`
}

func (personRegistered) EventType() string { return "TestPersonRegistered" }

func init() {
	domain.MustRegister[personRegistered](domain.Spec{Type: "TestPersonRegistered", Schema: 1, Group: "test", Doc: "A person registered."})
}

// TestErasureEndToEnd: a person's event goes through the codec under the
// keyring into a segment store with the transparency log on; the log is
// exported; the person is erased. Their name and email never reach the
// disk in plaintext, and every proof and the export still verify after
// erasure.
func TestErasureEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	const name, email = "Ada Lovelace", "ada.lovelace@school.example"

	keys := mustOpen(t, dir)
	store, err := segment.Open(ctx, filepath.Join(dir, "events"), segment.Options{Logger: quiet, SegmentSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tl, err := transparency.Open(ctx, store, dir, transparency.Options{Logger: quiet, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	codec := domain.Codec{Keys: keys}
	person := uuid.NewString()
	env, err := codec.Encode(personRegistered{Person: person, Role: "staff", Personal: domain.PersonalData{Name: name, Email: email}},
		uuid.New(), domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin, CorrelationID: uuid.New()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, "person-"+person, eventstore.NoStream(), domainlog.ToStore(env))
	if err != nil {
		t.Fatal(err)
	}
	pos := res.Positions[0]
	// Some other events around it.
	for i := 0; i < 5; i++ {
		other, _ := codec.Encode(personRegistered{Person: uuid.NewString(), Role: "staff"}, uuid.New(), domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin})
		if _, err := store.Append(ctx, "person-other-"+uuid.NewString(), eventstore.NoStream(), domainlog.ToStore(other)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tl.WaitFor(ctx, pos+5); err != nil {
		t.Fatal(err)
	}
	cp, err := tl.SignCheckpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Before erasure the codec reads the name back.
	recs, _ := store.ReadAll(ctx, pos, 1)
	m, err := codec.Decode(domainlog.ToDomain(recs[0]))
	if err != nil || m.Event.(personRegistered).Personal.Name != name {
		t.Fatalf("decode before erasure: %+v %v", m.Event, err)
	}
	proofBefore, err := tl.InclusionProof(ctx, pos, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	exportPath := filepath.Join(dir, "export.ndjson")
	f, err := os.Create(exportPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := export.Export(ctx, store, f, mustKey(t, dir), nil); err != nil {
		t.Fatal(err)
	}
	f.Close()

	if err := keys.Erase(person); err != nil {
		t.Fatal(err)
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}

	// The plaintext never reached the disk: not in the segments, the
	// index, the Merkle files, the keyring or the export.
	for _, needle := range []string{name, email, "Lovelace", "ada.lovelace"} {
		if found := grep(t, dir, []byte(needle)); len(found) != 0 {
			t.Errorf("%q found on disk in %v", needle, found)
		}
	}
	// After erasure the details cannot be read...
	m, err = codec.Decode(domainlog.ToDomain(recs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if p := m.Event.(personRegistered).Personal; !p.Erased || p.Name != domain.ErasedName || p.Email != "" {
		t.Fatalf("decode after erasure: %+v", p)
	}
	// ...and every proof still holds: the log did not change.
	v := mustKey(t, dir).Verifier
	if err := proofBefore.Verify(v); err != nil {
		t.Fatalf("inclusion proof after erasure: %v", err)
	}
	tl, err = transparency.Open(ctx, store, dir, transparency.Options{Logger: quiet, CheckpointInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	proofAfter, err := tl.InclusionProof(ctx, pos, cp.Size)
	if err != nil {
		t.Fatal(err)
	}
	if proofAfter.LeafHex != proofBefore.LeafHex || proofAfter.RootHex != proofBefore.RootHex {
		t.Fatal("the proof changed after erasure")
	}
	if err := proofAfter.Verify(v); err != nil {
		t.Fatal(err)
	}
	if _, err := transparency.VerifyStore(ctx, store, v, mustRead(t, filepath.Join(dir, transparency.LatestFile))); err != nil {
		t.Fatalf("store after erasure: %v", err)
	}
	ef, _ := os.Open(exportPath)
	defer ef.Close()
	if _, err := export.Verify(ef, v, nil); err != nil {
		t.Fatalf("export after erasure: %v", err)
	}
}

func mustKey(t *testing.T, dir string) transparency.Key {
	t.Helper()
	k, err := transparency.ReadKey(filepath.Join(dir, transparency.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
