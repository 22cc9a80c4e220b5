package governance

import (
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

func TestDirectoryAnswersFromTheGovernanceStreams(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(2)
	gov := domaintest.ID()
	e.Given(PersonStream(gov), GovernorRegistered{PersonID: gov, SchoolID: e.school, Personal: domain.PersonalData{Name: "Gwen Hale"}})
	e.Given(PersonStream(staff[1]), PersonLeftSchool{PersonID: staff[1], SchoolID: e.school, LeftOn: yearStart})
	community := e.givenCommunity(0)
	d := NewDirectory(e.Handler)

	if ok, err := d.SchoolExists(e.Ctx, e.school); err != nil || !ok {
		t.Fatalf("SchoolExists(registered) = %v, %v", ok, err)
	}
	if ok, err := d.SchoolExists(e.Ctx, domaintest.ID()); err != nil || ok {
		t.Fatalf("SchoolExists(unknown) = %v, %v", ok, err)
	}
	cases := []struct {
		name     string
		person   [16]byte
		wantOK   bool
		wantStaf bool
	}{
		{"current staff", staff[0], true, true},
		{"left the school", staff[1], false, false},
		{"governor is not staff", gov, false, false},
		{"unknown", domaintest.ID(), false, false},
	}
	for _, c := range cases {
		school, ok, err := d.SchoolOf(e.Ctx, c.person)
		if err != nil || ok != c.wantOK || (ok && school != e.school) {
			t.Errorf("%s: SchoolOf = %v, %v, %v", c.name, school, ok, err)
		}
		isStaff, err := d.IsStaffOf(e.Ctx, c.person, e.school)
		if err != nil || isStaff != c.wantStaf {
			t.Errorf("%s: IsStaffOf = %v, %v", c.name, isStaff, err)
		}
	}
	if s, ok, err := d.CommunitySchool(e.Ctx, community); err != nil || !ok || s != e.school {
		t.Fatalf("CommunitySchool = %v, %v, %v", s, ok, err)
	}
	if _, ok, err := d.CommunitySchool(e.Ctx, domaintest.ID()); err != nil || ok {
		t.Fatalf("CommunitySchool(unknown) = %v, %v", ok, err)
	}
}

// erasingKeys adapts domain.MemoryKeyring to BallotKeys.
type erasingKeys struct{ *domain.MemoryKeyring }

func (k erasingKeys) Erase(subject string) error { k.MemoryKeyring.Erase(subject); return nil }

func TestKeyringBallotBox(t *testing.T) {
	box := KeyringBallotBox{Keys: erasingKeys{domain.NewMemoryKeyring()}}
	ballot, alice, bob := domaintest.ID(), domaintest.ID(), domaintest.ID()
	a, err := box.Seal(ballot, alice, "candidate-1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := box.Seal(ballot, bob, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("sealed lengths differ (%d, %d): they reveal the choice", len(a), len(b))
	}
	if got, err := box.Open(ballot, alice, a); err != nil || got != "candidate-1" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(ballot, bob, a); err == nil {
		t.Fatal("alice's sealed choice opened as bob's")
	}
	if err := box.Destroy(ballot); err != nil {
		t.Fatal(err)
	}
	if _, err := box.Open(ballot, alice, a); err != ErrBallotKeyDestroyed {
		t.Fatalf("Open after Destroy = %v, want ErrBallotKeyDestroyed", err)
	}
	if _, err := box.Seal(ballot, alice, "x"); err != ErrBallotKeyDestroyed {
		t.Fatalf("Seal after Destroy = %v, want ErrBallotKeyDestroyed", err)
	}
}
