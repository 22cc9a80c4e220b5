package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/concord-ledger/concord/eventstore"
)

// placed is an appended event and where the store put it.
type placed struct {
	e        eventstore.EventData
	stream   string
	rev, pos uint64
}

// appendPlaced appends evs and records where each landed.
func appendPlaced(t *testing.T, s *suite, st eventstore.Store, log *[]placed, stream string, expected eventstore.ExpectedRevision, evs ...eventstore.EventData) {
	t.Helper()
	res := mustAppend(t, s.ctx(t), st, stream, expected, evs...)
	first := res.Revision + 1 - uint64(len(evs))
	for i, e := range evs {
		*log = append(*log, placed{e, stream, first + uint64(i), res.Positions[i]})
	}
}

func (s *suite) testReadStream(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	var log []placed
	appendPlaced(t, s, st, &log, "read-1", eventstore.NoStream(), events("R", 3)...)
	appendPlaced(t, s, st, &log, "read-2", eventstore.NoStream(), events("Other", 2)...)
	appendPlaced(t, s, st, &log, "read-1", eventstore.Exact(2), events("R", 4)...)
	appendPlaced(t, s, st, &log, "read-2", eventstore.Exact(1), events("Other", 1)...)
	appendPlaced(t, s, st, &log, "read-1", eventstore.Exact(6), events("R", 3)...)
	var stream []placed
	for _, p := range log {
		if p.stream == "read-1" {
			stream = append(stream, p)
		}
	}
	if len(stream) != 10 {
		t.Fatalf("read-1 got %d events, want 10", len(stream))
	}
	for i, p := range stream {
		if p.rev != uint64(i) {
			t.Fatalf("read-1 event %d got revision %d, want %d", i, p.rev, i)
		}
	}

	revs := func(from, to int) []uint64 {
		var out []uint64
		if from <= to {
			for r := from; r <= to; r++ {
				out = append(out, uint64(r))
			}
		} else {
			for r := from; r >= to; r-- {
				out = append(out, uint64(r))
			}
		}
		return out
	}
	cases := []struct {
		name  string
		from  uint64
		dir   eventstore.Direction
		limit int
		want  []uint64
	}{
		{"forward all", 0, eventstore.Forward, 0, revs(0, 9)},
		{"forward negative limit", 0, eventstore.Forward, -1, revs(0, 9)},
		{"forward from middle", 4, eventstore.Forward, 0, revs(4, 9)},
		{"forward from middle with limit", 4, eventstore.Forward, 3, revs(4, 6)},
		{"forward limit 1", 0, eventstore.Forward, 1, revs(0, 0)},
		{"forward limit beyond end", 7, eventstore.Forward, 50, revs(7, 9)},
		{"forward from last", 9, eventstore.Forward, 0, revs(9, 9)},
		{"forward past end", 10, eventstore.Forward, 0, nil},
		{"forward far past end", 1000, eventstore.Forward, 5, nil},
		{"backward from LastRevision", eventstore.LastRevision, eventstore.Backward, 0, revs(9, 0)},
		{"backward from LastRevision with limit", eventstore.LastRevision, eventstore.Backward, 3, revs(9, 7)},
		{"backward from middle", 4, eventstore.Backward, 0, revs(4, 0)},
		{"backward from middle with limit", 4, eventstore.Backward, 2, revs(4, 3)},
		{"backward from first", 0, eventstore.Backward, 0, revs(0, 0)},
		{"backward from last revision number", 9, eventstore.Backward, 0, revs(9, 0)},
		{"backward from beyond end", 100, eventstore.Backward, 2, revs(9, 8)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mustReadStream(t, ctx, st, "read-1", c.from, c.dir, c.limit)
			if len(got) != len(c.want) {
				var gotRevs []uint64
				for _, e := range got {
					gotRevs = append(gotRevs, e.Revision)
				}
				t.Fatalf("revisions=%v, want %v", gotRevs, c.want)
			}
			for i, e := range got {
				p := stream[c.want[i]]
				checkEvent(t, fmt.Sprintf("event %d", i), e, p.e, "read-1", p.rev, p.pos)
			}
		})
	}
	t.Run("missing stream reads empty", func(t *testing.T) {
		for _, dir := range []eventstore.Direction{eventstore.Forward, eventstore.Backward} {
			from := uint64(0)
			if dir == eventstore.Backward {
				from = eventstore.LastRevision
			}
			got, err := st.ReadStream(ctx, "never-written", from, dir, 0)
			if err != nil || len(got) != 0 {
				t.Errorf("direction %d: %d events, err=%v; want none and no error", dir, len(got), err)
			}
		}
	})
	t.Run("invalid stream id", func(t *testing.T) {
		for _, id := range invalidStreamIDs() {
			if _, err := st.ReadStream(ctx, id, 0, eventstore.Forward, 0); !errors.Is(err, eventstore.ErrInvalidStreamID) {
				t.Errorf("ReadStream(%.20q): err=%v, want ErrInvalidStreamID", id, err)
			}
		}
	})
}

func (s *suite) testGlobalOrder(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	if got := mustHead(t, ctx, st); got != 0 {
		t.Fatalf("empty store: head=%d, want 0", got)
	}
	if got := mustReadAll(t, ctx, st, 0, 0); len(got) != 0 {
		t.Fatalf("empty store: ReadAll has %d events, want 0", len(got))
	}
	var log []placed
	appendPlaced(t, s, st, &log, "order-a", eventstore.NoStream(), events("A", 2)...)
	appendPlaced(t, s, st, &log, "order-b", eventstore.NoStream(), events("B", 1)...)
	appendPlaced(t, s, st, &log, "order-a", eventstore.Exact(1), events("A", 1)...)
	appendPlaced(t, s, st, &log, "order-c", eventstore.Any(), events("C", 3)...)
	appendPlaced(t, s, st, &log, "order-b", eventstore.StreamExists(), events("B", 2)...)
	wantPlace := []struct {
		stream string
		rev    uint64
	}{{"order-a", 0}, {"order-a", 1}, {"order-b", 0}, {"order-a", 2}, {"order-c", 0}, {"order-c", 1}, {"order-c", 2}, {"order-b", 1}, {"order-b", 2}}
	if len(log) != len(wantPlace) {
		t.Fatalf("appended %d events, want %d", len(log), len(wantPlace))
	}
	for i, p := range log {
		if p.pos != uint64(i+1) || p.stream != wantPlace[i].stream || p.rev != wantPlace[i].rev {
			t.Fatalf("append %d landed at %s@%d position %d, want %s@%d position %d",
				i, p.stream, p.rev, p.pos, wantPlace[i].stream, wantPlace[i].rev, i+1)
		}
	}
	if got, want := mustHead(t, ctx, st), uint64(len(log)); got != want {
		t.Errorf("head=%d, want %d", got, want)
	}

	cases := []struct {
		from     uint64
		limit    int
		from1, n int // want positions from1..from1+n-1
	}{
		{0, 0, 1, 9},
		{1, 0, 1, 9},
		{1, -1, 1, 9},
		{0, 3, 1, 3},
		{4, 0, 4, 6},
		{4, 2, 4, 2},
		{9, 0, 9, 1},
		{9, 5, 9, 1},
		{10, 0, 0, 0},
		{100, 5, 0, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("ReadAll(%d,%d)", c.from, c.limit), func(t *testing.T) {
			got := mustReadAll(t, ctx, st, c.from, c.limit)
			if len(got) != c.n {
				t.Fatalf("%d events, want %d", len(got), c.n)
			}
			for i, e := range got {
				p := log[c.from1-1+i]
				checkEvent(t, fmt.Sprintf("event %d", i), e, p.e, p.stream, p.rev, p.pos)
			}
		})
	}
	t.Run("RecordedAtNonDecreasing", func(t *testing.T) {
		all := mustReadAll(t, ctx, st, 0, 0)
		for i := 1; i < len(all); i++ {
			if all[i].RecordedAt.Before(all[i-1].RecordedAt) {
				t.Errorf("position %d recorded at %v, before position %d at %v; PositionAt needs recorded times in commit order",
					all[i].Position, all[i].RecordedAt, all[i-1].Position, all[i-1].RecordedAt)
			}
		}
	})
}

func (s *suite) testPositionAt(t *testing.T) {
	ctx := s.ctx(t)
	st := s.open(t)
	mustPositionAt := func(at time.Time) uint64 {
		t.Helper()
		p, err := st.PositionAt(ctx, at)
		if err != nil {
			t.Fatalf("PositionAt(%v): %v", at, err)
		}
		return p
	}
	farFuture := time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{{}, time.Now(), farFuture} {
		if got := mustPositionAt(at); got != 0 {
			t.Errorf("empty store: PositionAt(%v)=%d, want 0", at, got)
		}
	}

	mustAppend(t, ctx, st, "time-1", eventstore.NoStream(), events("T", 2)...)
	mustAppend(t, ctx, st, "time-2", eventstore.NoStream(), events("T", 1)...)
	for i := 0; i < 4; i++ {
		mustAppend(t, ctx, st, "time-1", eventstore.Any(), newEvent("T"))
	}
	mustAppend(t, ctx, st, "time-2", eventstore.Any(), events("T", 3)...)
	all := mustReadAll(t, ctx, st, 0, 0)
	head := uint64(len(all))

	// want is the last position recorded at or before at.
	want := func(at time.Time) uint64 {
		var p uint64
		for _, e := range all {
			if !e.RecordedAt.After(at) {
				p = e.Position
			}
		}
		return p
	}
	check := func(what string, at time.Time) {
		t.Helper()
		if got, want := mustPositionAt(at), want(at); got != want {
			t.Errorf("%s: PositionAt(%s)=%d, want %d", what, eventstore.FormatTime(at), got, want)
		}
	}
	if got := mustPositionAt(all[0].RecordedAt.Add(-time.Nanosecond)); got != 0 {
		t.Errorf("just before the first event: PositionAt=%d, want 0", got)
	}
	if got := mustPositionAt(time.Time{}); got != 0 {
		t.Errorf("PositionAt(zero time)=%d, want 0", got)
	}
	for i, e := range all {
		check(fmt.Sprintf("at event %d", e.Position), e.RecordedAt)
		check(fmt.Sprintf("at event %d in another zone", e.Position), e.RecordedAt.In(time.FixedZone("X", -5*60*60)))
		check(fmt.Sprintf("just after event %d", e.Position), e.RecordedAt.Add(time.Nanosecond))
		if i+1 < len(all) {
			next := all[i+1].RecordedAt
			check(fmt.Sprintf("between events %d and %d", e.Position, e.Position+1), e.RecordedAt.Add(next.Sub(e.RecordedAt)/2))
		}
	}
	if got := mustPositionAt(all[len(all)-1].RecordedAt); got != head {
		t.Errorf("at the last event: PositionAt=%d, want head %d", got, head)
	}
	if got := mustPositionAt(farFuture); got != head {
		t.Errorf("far future: PositionAt=%d, want head %d", got, head)
	}
}
