package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore/transparency"
)

// ballotWorld is an open secret election in a ledger on disk: a school,
// three members of one ISLC, two of them standing, two votes cast.
type ballotWorld struct {
	cfg       Config
	community uuid.UUID
	election  uuid.UUID
	members   []uuid.UUID
}

func as(p uuid.UUID) domain.Meta {
	return domain.Meta{ActorID: p.String(), ActorRole: domain.RoleStaff}
}

func must(t *testing.T, _ domain.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func openElectionWithVotes(t *testing.T, ctx context.Context, l *Ledger) ballotWorld {
	t.Helper()
	g := l.Governance
	admin := domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}
	school := uuid.New()
	year := partnership.AcademicYearOf(time.Now().UTC())
	r, err := g.RegisterSchool(ctx, admin, governance.RegisterSchool{SchoolID: school, Name: "Hill Top Primary"})
	must(t, r, err)
	r, err = g.OpenAcademicYear(ctx, admin, governance.OpenAcademicYear{SchoolID: school, Year: year})
	must(t, r, err)
	seg := governance.DefaultSegmentID(school, governance.DefaultSegmentNames[0])
	r, err = g.EstablishCommunity(ctx, admin, governance.EstablishCommunity{SchoolID: school, SegmentID: seg})
	must(t, r, err)
	w := ballotWorld{community: governance.CommunityID(school, seg), election: uuid.New()}
	for i := range 3 {
		p := uuid.New()
		w.members = append(w.members, p)
		r, err = g.RegisterStaff(ctx, admin, governance.RegisterStaff{PersonID: p, SchoolID: school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: "Member " + string(rune('A'+i))}})
		must(t, r, err)
		r, err = g.JoinCommunity(ctx, as(p), governance.JoinCommunity{CommunityID: w.community, PersonID: p, Year: year, Basis: []string{governance.BasisInterest}})
		must(t, r, err)
	}
	c, el := w.community, w.election
	r, err = g.OpenElection(ctx, as(w.members[0]), governance.OpenElection{CommunityID: c, ElectionID: el, Year: year})
	must(t, r, err)
	for _, cand := range w.members[:2] {
		r, err = g.Nominate(ctx, as(cand), governance.Nominate{CommunityID: c, ElectionID: el, NomineeID: cand})
		must(t, r, err)
		r, err = g.AcceptNomination(ctx, as(cand), governance.AnswerNomination{CommunityID: c, ElectionID: el})
		must(t, r, err)
	}
	r, err = g.OpenVoting(ctx, as(w.members[0]), governance.OpenVoting{CommunityID: c, ElectionID: el})
	must(t, r, err)
	r, err = g.CastVote(ctx, as(w.members[0]), governance.CastVote{CommunityID: c, ElectionID: el, CandidateID: w.members[1]})
	must(t, r, err)
	r, err = g.CastVote(ctx, as(w.members[1]), governance.CastVote{CommunityID: c, ElectionID: el, CandidateID: w.members[1]})
	must(t, r, err)
	return w
}

func keyFilesIn(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.key"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range m {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// onDisk reports the files under root that contain needle.
func onDisk(t *testing.T, root string, needle []byte) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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

// subjectFile is the file name the keyring gives a ballot's key.
func subjectFile(ballot uuid.UUID) string {
	h := sha256.Sum256([]byte(ballotSubject(ballot)))
	return hex.EncodeToString(h[:]) + ".key"
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
}

// TestBallotKeysLiveApartAndDieAtStartUp: a secret ballot's key is kept
// in ballots/, not keys/. A crash between recording the close and
// destroying the key (reproduced by putting back the ballot keyring as it
// was before the close) leaves the key on disk; the next start destroys
// it, and its bytes are then nowhere under the data directory.
func TestBallotKeysLiveApartAndDieAtStartUp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Logger: quiet, Transparency: transparency.Options{CheckpointInterval: time.Hour}}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := openElectionWithVotes(t, ctx, l)
	ballotDir := filepath.Join(dir, BallotKeysDir)
	keys := keyFilesIn(t, ballotDir)
	if len(keys) != 1 {
		t.Fatalf("%d keys in %s while the ballot is open, want 1", len(keys), ballotDir)
	}
	var ballotKey []byte
	for _, k := range keys {
		ballotKey = k
	}
	if found := onDisk(t, filepath.Join(dir, "keys"), ballotKey); len(found) != 0 {
		t.Fatalf("the ballot key is in the personal-data keyring: %v", found)
	}
	saved := t.TempDir()
	copyTree(t, ballotDir, saved)

	r, err := l.Governance.CloseElection(ctx, as(w.members[0]), governance.CloseElection{CommunityID: w.community, ElectionID: w.election})
	must(t, r, err)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if found := onDisk(t, dir, ballotKey); len(found) != 0 {
		t.Fatalf("after the close the ballot key is still in %v", found)
	}

	// The crash: the key survives the recorded close.
	if err := os.RemoveAll(ballotDir); err != nil {
		t.Fatal(err)
	}
	copyTree(t, saved, ballotDir)
	if found := onDisk(t, dir, ballotKey); len(found) == 0 {
		t.Fatal("the test did not put the key back")
	}
	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if found := onDisk(t, dir, ballotKey); len(found) != 0 {
		t.Fatalf("start-up left the decided ballot's key in %v", found)
	}
}

// TestBallotKeysMovedOutOfAnOlderKeyring: a data directory of an older
// version keeps ballot keys in keys/. The first start moves the key of an
// open ballot to ballots/ (the ballot can still be counted) and destroys
// that of a decided one.
func TestBallotKeysMovedOutOfAnOlderKeyring(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Logger: quiet, Transparency: transparency.Options{CheckpointInterval: time.Hour}}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := openElectionWithVotes(t, ctx, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The older layout: the ballot key under keys/, no ballots/.
	ballotDir := filepath.Join(dir, BallotKeysDir)
	var ballotKey []byte
	for name, k := range keyFilesIn(t, ballotDir) {
		ballotKey = k
		if err := os.WriteFile(filepath.Join(dir, "keys", name), k, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(ballotDir); err != nil {
		t.Fatal(err)
	}

	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if found := onDisk(t, filepath.Join(dir, "keys"), ballotKey); len(found) != 0 {
		t.Fatalf("the open ballot's key is still in keys/: %v", found)
	}
	if found := onDisk(t, ballotDir, ballotKey); len(found) != 1 {
		t.Fatalf("the open ballot's key is not in ballots/ (%v)", found)
	}
	res, err := l.Governance.CloseElection(ctx, as(w.members[0]), governance.CloseElection{CommunityID: w.community, ElectionID: w.election})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Events[0].Event.EventType(); got != "ElectionClosed" {
		t.Fatalf("closing after the move recorded %s, want ElectionClosed (the votes counted)", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

}

// TestDecidedBallotKeyInAnOlderKeyringIsDestroyed: an older version's data
// directory whose keys/ still holds the key of a decided ballot (it
// crashed before destroying it): the first start destroys it.
func TestDecidedBallotKeyInAnOlderKeyringIsDestroyed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Logger: quiet, Transparency: transparency.Options{CheckpointInterval: time.Hour}}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := openElectionWithVotes(t, ctx, l)
	var ballotKey []byte
	for _, k := range keyFilesIn(t, filepath.Join(dir, BallotKeysDir)) {
		ballotKey = k
	}
	r, err := l.Governance.CloseElection(ctx, as(w.members[0]), governance.CloseElection{CommunityID: w.community, ElectionID: w.election})
	must(t, r, err)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// The older layout, as its crash left it: the decided ballot's key in
	// keys/ (no tombstone there), no ballots/.
	if err := os.WriteFile(filepath.Join(dir, "keys", subjectFile(w.election)), ballotKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, BallotKeysDir)); err != nil {
		t.Fatal(err)
	}
	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if found := onDisk(t, dir, ballotKey); len(found) != 0 {
		t.Fatalf("the decided ballot's key found in keys/ survived the start: %v", found)
	}
}

// TestOpenTightensTheDataDirectory: a data directory left readable by
// other users (0755, files 0644) is closed on open: every directory 0700,
// every file 0600.
func TestOpenTightensTheDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{DataDir: dir, Logger: quiet, Transparency: transparency.Options{CheckpointInterval: time.Hour}}
	l, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	openElectionWithVotes(t, ctx, l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	loosen := func() {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if d.IsDir() {
				return os.Chmod(path, 0o755)
			}
			return os.Chmod(path, 0o644)
		})
	}
	loosen()
	l, err = Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
		}
		return nil
	})
	if files < 8 {
		t.Fatalf("only %d files in the data directory", files)
	}
}
