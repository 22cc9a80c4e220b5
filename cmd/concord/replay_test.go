package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/replay"
	"github.com/concord-ledger/concord/projections/views"
)

// electionDataDir records, through a real ledger in a data directory, an
// ISLC of three members electing staff 0; it returns the directory and
// the election's id.
func electionDataDir(t *testing.T) (string, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g := l.Governance
	admin := domain.Meta{ActorID: "admin-1", ActorRole: domain.RoleAdmin}
	do := func(_ domain.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	school := uuid.Must(uuid.NewV7())
	do(g.RegisterSchool(ctx, admin, governance.RegisterSchool{SchoolID: school, Name: "Infinity School"}))
	year := governance.YearLabel(l.Handler.Now().Year())
	if l.Handler.Now().Month() < 9 {
		year = governance.YearLabel(l.Handler.Now().Year() - 1)
	}
	do(g.OpenAcademicYear(ctx, admin, governance.OpenAcademicYear{SchoolID: school, Year: year}))
	seg := governance.DefaultSegmentID(school, governance.DefaultSegmentNames[0])
	do(g.EstablishCommunity(ctx, admin, governance.EstablishCommunity{SchoolID: school, SegmentID: seg}))
	islc := governance.CommunityID(school, seg)
	var staff []uuid.UUID
	for i := range 3 {
		id := uuid.Must(uuid.NewV7())
		staff = append(staff, id)
		do(g.RegisterStaff(ctx, admin, governance.RegisterStaff{PersonID: id, SchoolID: school, Kind: governance.StaffEducator,
			PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Teacher %d", i)}}))
		do(g.JoinCommunity(ctx, admin, governance.JoinCommunity{CommunityID: islc, PersonID: id, Year: year, Basis: []string{governance.BasisInterest}}))
	}
	el := uuid.Must(uuid.NewV7())
	as := func(p uuid.UUID) domain.Meta { return domain.Meta{ActorID: p.String(), ActorRole: domain.RoleStaff} }
	do(g.OpenElection(ctx, admin, governance.OpenElection{CommunityID: islc, ElectionID: el, Year: year}))
	do(g.Nominate(ctx, as(staff[0]), governance.Nominate{CommunityID: islc, ElectionID: el, NomineeID: staff[0]}))
	do(g.AcceptNomination(ctx, as(staff[0]), governance.AnswerNomination{CommunityID: islc, ElectionID: el}))
	do(g.OpenVoting(ctx, admin, governance.OpenVoting{CommunityID: islc, ElectionID: el}))
	for _, v := range staff {
		do(g.CastVote(ctx, as(v), governance.CastVote{CommunityID: islc, ElectionID: el, CandidateID: staff[0]}))
	}
	do(g.CloseElection(ctx, admin, governance.CloseElection{CommunityID: islc, ElectionID: el}))
	return dir, el
}

func TestReplayAndRebuildCLI(t *testing.T) {
	dir, el := electionDataDir(t)

	code, out, errOut := run(t, "replay", "election", el.String(), "--data", dir)
	if code != exitOK {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Replay of election " + el.String(), "ElectionOpened", "ChairElected", "by Teacher 0", "changed: ", "was elected chair of"} {
		if !strings.Contains(out, want) {
			t.Fatalf("replay output lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = run(t, "replay", "--json", "--data", dir, "election", el.String())
	if code != exitOK {
		t.Fatalf("replay --json: exit %d: %s", code, errOut)
	}
	var r replay.Replay
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Steps) != 9 || r.Steps[8].Type != "ChairElected" {
		t.Fatalf("json replay has %d steps", len(r.Steps))
	}
	code, out, _ = run(t, "replay", "--json", "--data", dir, "--as-of", fmt.Sprint(r.Steps[4].Position), "election", el.String())
	if err := json.Unmarshal([]byte(out), &r); code != exitOK || err != nil || len(r.Steps) != 5 {
		t.Fatalf("replay --as-of: exit %d, %d steps, %v", code, len(r.Steps), err)
	}

	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"replay", "vote", el.String(), "--data", dir}, exitUsage},
		{[]string{"replay", "election", "not-an-id", "--data", dir}, exitUsage},
		{[]string{"replay", "election", "--data", dir}, exitUsage},
		{[]string{"replay", "election", uuid.NewString(), "--data", dir}, exitFailure},
		{[]string{"replay", "election", el.String(), "--data", dir, "--as-of", "yesterday"}, exitUsage},
		{[]string{"rebuild", "--data", dir, "--view", "nonesuch"}, exitUsage},
	} {
		if code, _, errOut := run(t, c.args...); code != c.code {
			t.Errorf("%v: exit %d, want %d (%s)", c.args, code, c.code, errOut)
		}
	}

	code, out, errOut = run(t, "rebuild", "--data", dir)
	if code != exitOK {
		t.Fatalf("rebuild: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "\rrebuilding elections") || !strings.Contains(errOut, "100%") {
		t.Fatalf("no progress bar: %q", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(views.Names()) {
		t.Fatalf("rebuild printed %d lines for %d views:\n%s", len(lines), len(views.Names()), out)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 5 || f[2] != f[4] || f[2] == "0" {
			t.Fatalf("view not at the head after rebuild: %q", line)
		}
	}
	code, out, _ = run(t, "rebuild", "--data", dir, "--view", views.ElectionsView)
	if code != exitOK || !strings.Contains(out, views.ElectionsView) {
		t.Fatalf("rebuild --view: exit %d\n%s", code, out)
	}
}
