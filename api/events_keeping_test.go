package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/apitest"
	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/projections/views"
)

// TestEventPagesReadWithoutDecodingAreTheSame: on the embedded store the
// log is read for GET /v1/events without decoding the events of streams
// the caller does not see. For every actor of the test world, from every
// cursor, with pages of 1, 3 and 1,000 and with and without a time
// window, the page is the one read with every event decoded.
func TestEventPagesReadWithoutDecodingAreTheSame(t *testing.T) {
	w := apitest.NewOnDisk(t)
	if _, ok := w.L.Store.(keepingReader); !ok {
		t.Fatalf("the on-disk world's store (%T) does not read without decoding: this test would test nothing", w.L.Store)
	}
	s := New(w.L, Options{Logger: coreQuiet, Now: func() time.Time { return apitest.Now }})
	ctx := context.Background()
	head, mid := headAndMiddle(t, w)
	refused := 0 // events left undecoded
	for name, actor := range w.Actor {
		for _, limit := range []int{1, 3, 1000} {
			for _, to := range []time.Time{{}, mid} {
				for cursor := uint64(0); cursor <= head; cursor += 7 {
					page := func(keeping bool) []eventstore.RecordedEvent {
						er, err := s.newEventReader(ctx, actor)
						if err != nil {
							t.Fatal(err)
						}
						q := eventQuery{Limit: limit, Cursor: cursor, To: to, visible: er.visible}
						if keeping {
							q.visibleStream = func(stream []byte) (bool, error) {
								ok, err := er.visibleStream(stream)
								if !ok {
									refused++
								}
								return ok, err
							}
						}
						evs, err := s.eventsByStore(ctx, &q)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						return evs
					}
					decoded, keeping := page(false), page(true)
					if !reflect.DeepEqual(keeping, decoded) {
						t.Fatalf("%s, limit %d, to %v, cursor %d: %d events read without decoding, %d decoded, not the same", name, limit, to, cursor, len(keeping), len(decoded))
					}
				}
			}
		}
	}
	if refused == 0 {
		t.Fatal("every event was decoded: nobody was refused one, so the pages compared nothing")
	}
}

// TestEventPagesPickedByTheAuditViewAreTheSame: a page of the whole log
// is picked with the audit view (eventsByLogIndex) and is the page read
// from the store, event by event, for every actor of the test world,
// from every seventh cursor and the last eight, with pages of 1, 3 and 1,000, with and
// without a time window, with the scan bound met or not; with the view
// at the head, and with the view behind it (the events it has not folded
// read from the store); what each actor sees of the streams kept from
// page to page.
func TestEventPagesPickedByTheAuditViewAreTheSame(t *testing.T) {
	w := apitest.NewOnDisk(t)
	var logged bytes.Buffer
	s := New(w.L, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil)), Now: func() time.Time { return apitest.Now }})
	ctx := context.Background()
	compare := func(state string) {
		head, mid := headAndMiddle(t, w)
		refused, shown := 0, 0
		for name, actor := range w.Actor {
			for _, limit := range []int{1, 3, 1000} {
				for _, window := range [][2]time.Time{{}, {{}, mid}, {mid, {}}} {
					for _, bound := range []int{0, 4} {
						for _, cursor := range cursors(head) {
							page := func(picked bool) []eventstore.RecordedEvent {
								er, err := s.newEventReader(ctx, actor)
								if err != nil {
									t.Fatal(err)
								}
								q := eventQuery{Limit: limit, Cursor: cursor, From: window[0], To: window[1], scanLimit: bound, visible: er.visible,
									visibleStream: func(stream []byte) (bool, error) {
										ok, err := er.visibleStream(stream)
										if !ok {
											refused++
										}
										return ok, err
									}}
								read := s.eventsByStore
								if picked {
									// What the actor sees of each stream is
									// kept from page to page (sightMemo).
									read, q.reader = s.eventsByLogIndex, er
								}
								evs, err := read(ctx, &q)
								if err != nil {
									t.Fatalf("%s: %v", name, err)
								}
								return evs
							}
							stored, picked := page(false), page(true)
							if (len(picked) > 0 || len(stored) > 0) && !reflect.DeepEqual(picked, stored) {
								t.Fatalf("%s: %s, limit %d, window %v, bound %d, cursor %d: picked %v, read %v", state, name, limit, window, bound, cursor,
									positionsOf(picked), positionsOf(stored))
							}
							shown += len(picked)
						}
					}
				}
			}
		}
		if refused == 0 || shown == 0 {
			t.Fatalf("%s: %d events refused, %d shown: the pages compared nothing", state, refused, shown)
		}
	}
	viewAt := func() uint64 {
		pos, err := views.Read(ctx, w.L.Views, views.AuditView, views.AsOf{}, func(*views.Audit) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return pos
	}
	head, _ := w.L.Store.Head(ctx)
	if at := viewAt(); at != head {
		t.Fatalf("the audit view is at %d, the head at %d: the world should be caught up", at, head)
	}
	compare("the view at the head")
	defer func(n int) { logIndexBatch = n }(logIndexBatch)
	logIndexBatch = 5
	compare("the view at the head, read five events at a time")
	logIndexBatch = 1024

	// Four more people registered in schools A and B, by the
	// administrator: their Directors and the partnership's readers see
	// them, in events the view has not folded.
	for i, school := range []uuid.UUID{w.SchoolA, w.SchoolB, w.SchoolA, w.SchoolB} {
		if _, err := w.L.Governance.RegisterStaff(ctx, domain.Meta{ActorID: "admin", ActorRole: domain.RoleAdmin}, governance.RegisterStaff{PersonID: uuid.Must(uuid.NewV7()),
			SchoolID: school, Kind: governance.StaffEducator, PersonDetails: governance.PersonDetails{Name: fmt.Sprintf("Late Staff %d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if head2, _ := w.L.Store.Head(ctx); viewAt() >= head2 || head2 <= head {
		t.Fatalf("the audit view is at %d, the head at %d: the view should be behind", viewAt(), head2)
	}
	compare("the view behind the head")
	logIndexBatch = 5
	compare("the view behind the head, read five events at a time")
	if logged.Len() != 0 {
		t.Fatalf("the pages were not all picked with the view: %s", logged.String())
	}
}

// headAndMiddle returns the head of w's log and when its middle event was
// recorded.
func headAndMiddle(t *testing.T, w *apitest.World) (uint64, time.Time) {
	t.Helper()
	ctx := context.Background()
	head, err := w.L.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := w.L.Store.ReadAll(ctx, 1, 0)
	if err != nil || len(all) == 0 {
		t.Fatalf("read the log: %d events, %v", len(all), err)
	}
	return head, all[len(all)/2].RecordedAt
}

// cursors are every seventh position of a log of head events, and each of
// its last eight (where a page ends in the view's last events and goes on
// in the events the view has not folded).
func cursors(head uint64) []uint64 {
	var out []uint64
	for c := uint64(0); c <= head; c++ {
		if c%7 == 0 || c+8 >= head {
			out = append(out, c)
		}
	}
	return out
}

func positionsOf(evs []eventstore.RecordedEvent) []uint64 {
	out := make([]uint64, len(evs))
	for i, e := range evs {
		out[i] = e.Position
	}
	return out
}

// TestSightsKeptForOneActorAtOneHead: what an actor sees of the streams
// is given back to the same actor at the same head within the reader's
// minute, merged with what later pages learnt; not at another head, to
// another actor, or later.
func TestSightsKeptForOneActorAtOneHead(t *testing.T) {
	var m sightMemo
	ann, bob := app.Person(uuid.Must(uuid.NewV7())), app.Person(uuid.Must(uuid.NewV7()))
	t0 := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	if got := m.get(ann, 10, t0); got != nil {
		t.Fatalf("nothing kept yet, got %v", got)
	}
	m.add(ann, 10, t0, nil, map[uint32]bool{1: true, 2: false})
	known := m.get(ann, 10, t0.Add(time.Second))
	if !reflect.DeepEqual(known, map[uint32]bool{1: true, 2: false}) {
		t.Fatalf("kept %v", known)
	}
	m.add(ann, 10, t0.Add(2*time.Second), known, map[uint32]bool{3: true})
	if got := m.get(ann, 10, t0.Add(3*time.Second)); !reflect.DeepEqual(got, map[uint32]bool{1: true, 2: false, 3: true}) {
		t.Fatalf("merged %v", got)
	}
	if !reflect.DeepEqual(known, map[uint32]bool{1: true, 2: false}) {
		t.Fatalf("a map given out was changed: %v", known)
	}
	for name, got := range map[string]map[uint32]bool{
		"another head":             m.get(ann, 11, t0.Add(time.Second)),
		"another actor":            m.get(bob, 10, t0.Add(time.Second)),
		"a minute after the first": m.get(ann, 10, t0.Add(eventReaderTTL)),
	} {
		if got != nil {
			t.Errorf("%s: got %v, want nothing", name, got)
		}
	}
	// A new head starts afresh.
	m.add(ann, 11, t0.Add(4*time.Second), nil, map[uint32]bool{4: false})
	if got := m.get(ann, 11, t0.Add(4*time.Second)); !reflect.DeepEqual(got, map[uint32]bool{4: false}) {
		t.Fatalf("at the new head: %v", got)
	}
}
