package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/export"
)

// beProgramEnv makes the test binary behave as the concord program, so
// that the crash test can run it as the server it kills.
const beProgramEnv = "CONCORD_TEST_BE_PROGRAM"

func TestMain(m *testing.M) {
	if os.Getenv(beProgramEnv) == "1" {
		os.Exit(NewMain().Run(context.Background(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// TestCrashTestHTTP runs "concord crashtest --http" for three cycles: the
// server, a child process, is killed with SIGKILL under concurrent
// clients and restarted, and nothing acknowledged may be lost or
// recorded twice, views must equal their rebuild, the Merkle tree and the
// checkpoints the log, and verify must pass with the pinned key.
func TestCrashTestHTTP(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	plan := httpCrashPlan{Exe: exe, Env: append(os.Environ(), beProgramEnv+"=1"), Work: t.TempDir(),
		Cycles: 3, Clients: 3, MaxRun: time.Second, Seed: 18, Out: &out}
	res, err := runHTTPCrashTest(t.Context(), plan)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Cycles != plan.Cycles || res.Lost != 0 || res.Duplicated != 0 {
		t.Fatalf("%d cycles, %d lost, %d duplicated; want %d, 0, 0", res.Cycles, res.Lost, res.Duplicated, plan.Cycles)
	}
	if res.Commands == 0 || res.Replayed == 0 || res.Events == 0 {
		t.Fatalf("nothing was exercised: %+v", res)
	}
}

// TestCrashTestHTTPFindsLostAndDuplicatedCommands feeds the log check a
// log in which one acknowledged command's events are missing and another
// command's events are there twice (run again under its command id).
func TestCrashTestHTTPFindsLostAndDuplicatedCommands(t *testing.T) {
	cmdA, cmdB := commandIDForTest(1), commandIDForTest(2)
	event := func(pos uint64, cause uuid.UUID) eventstore.RecordedEvent {
		return eventstore.RecordedEvent{EventData: eventstore.EventData{ID: uuid.New(), Type: "StrengthsAssessed", Schema: 1, Data: []byte(`{}`),
			Metadata: eventstore.Metadata{ActorID: "p", ActorRole: "staff", CausationID: cause}},
			StreamID: "person-p", Revision: pos - 1, Position: pos, RecordedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	log := []eventstore.RecordedEvent{event(1, cmdA), event(2, cmdA)} // command A recorded twice
	var body []byte
	for _, e := range log {
		body = export.AppendEvent(body, e)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer srv.Close()
	r := &crashRun{http: srv.Client(), srv: &crashServer{url: srv.URL, changed: make(chan struct{})}}
	answered := func(e eventstore.RecordedEvent) *crashOp {
		return &crashOp{command: true, result: api.CommandResult{Events: []api.RecordedEvent{{ID: e.ID, Type: e.Type, Position: e.Position, Revision: e.Revision}}}}
	}
	missing := event(3, cmdB)
	lost, dup, n, err := r.checkLog(t.Context(), []*crashOp{answered(log[0]), answered(missing)})
	if err != nil {
		t.Fatal(err)
	}
	if lost != 1 || dup != 1 || n != 2 {
		t.Fatalf("lost %d, duplicated %d, %d events; want 1, 1, 2", lost, dup, n)
	}

	// An event caused by a command no one was answered for is refused.
	log = append(log, event(3, cmdB))
	body = nil
	for _, e := range log {
		body = export.AppendEvent(body, e)
	}
	if _, _, _, err := r.checkLog(t.Context(), []*crashOp{answered(log[0])}); err == nil || !strings.Contains(err.Error(), "no acknowledged command") {
		t.Fatalf("an unclaimed command's events: %v", err)
	}
}

// commandIDForTest returns a UUID shaped as a command id (version 8).
func commandIDForTest(n byte) uuid.UUID {
	id := uuid.UUID{n}
	id[6] = id[6]&0x0f | 0x80
	id[8] = id[8]&0x3f | 0x80
	return id
}
