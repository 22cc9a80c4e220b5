package kurrentdb

import (
	"sort"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// positionLog gives a store's events the dense, 1-based positions of the
// Concord contract. KurrentDB's $all positions are byte offsets with gaps
// (and hold other streams' and system events); positionLog is fed $all in
// order and numbers the events that belong to the store 1, 2, 3, … in that
// order, remembering for each its $all position (to read it back), its
// stream and revision, its ID and its recorded time (for PositionAt).
//
// Invariants:
//   - entries[i] is the event with position i+1, and entries are in
//     strictly increasing $all order;
//   - an event is numbered at most once: $all positions at or before the
//     furthest one observed are ignored, so replays after a resubscription
//     are harmless;
//   - entries' recorded times never decrease (a created date earlier than
//     the previous event's, after a server clock step, is raised to it),
//     so at can binary-search them.
//
// It is a pure data structure, not safe for concurrent use; the Store
// guards it with its mutex.
type positionLog struct {
	prefix  string
	entries []entry
	byID    map[uuid.UUID]uint64
	byRev   map[streamRev]uint64
	last    map[string]uint64 // stream → last revision numbered
	names   map[string]string // interned stream IDs
	// furthest is the furthest $all position observed (event or
	// checkpoint); seen is false until one was.
	furthest esdb.Position
	seen     bool
}

type entry struct {
	pos      esdb.Position
	stream   string
	revision uint64
	id       uuid.UUID
	recorded time.Time
}

type streamRev struct {
	stream   string
	revision uint64
}

func newPositionLog(prefix string) *positionLog {
	return &positionLog{
		prefix: prefix,
		byID:   make(map[uuid.UUID]uint64),
		byRev:  make(map[streamRev]uint64),
		last:   make(map[string]uint64),
		names:  make(map[string]string),
	}
}

// after reports whether $all position a comes after b.
func after(a, b esdb.Position) bool {
	return a.Commit > b.Commit || a.Commit == b.Commit && a.Prepare > b.Prepare
}

// observe offers the next event read from $all. It returns the position
// it numbered the event with, or 0 if the event is not one of the store's
// (another prefix, a system stream or type, metadata that is not Concord's)
// or was observed before.
func (l *positionLog) observe(r *esdb.RecordedEvent) uint64 {
	if r == nil || l.seen && !after(r.Position, l.furthest) {
		return 0
	}
	l.furthest, l.seen = r.Position, true
	stream, ok := concordStream(l.prefix, r.StreamID)
	if !ok || r.EventType == "" || r.EventType[0] == '$' {
		return 0
	}
	if _, _, err := decodeMetadata(r.UserMetadata); err != nil {
		return 0
	}
	if name, ok := l.names[stream]; ok {
		stream = name
	} else {
		stream = string([]byte(stream)) // do not pin the event's buffers
		l.names[stream] = stream
	}
	recorded := r.CreatedDate.UTC()
	if n := len(l.entries); n > 0 && recorded.Before(l.entries[n-1].recorded) {
		recorded = l.entries[n-1].recorded
	}
	l.entries = append(l.entries, entry{pos: r.Position, stream: stream, revision: r.EventNumber, id: r.EventID, recorded: recorded})
	p := uint64(len(l.entries))
	l.byRev[streamRev{stream, r.EventNumber}] = p
	if last, ok := l.last[stream]; !ok || r.EventNumber > last {
		l.last[stream] = r.EventNumber
	}
	// An ID KurrentDB holds twice (written around this store) keeps its
	// first position; both events are still numbered.
	if _, dup := l.byID[r.EventID]; !dup {
		l.byID[r.EventID] = p
	}
	return p
}

// checkpoint records that $all has been searched up to p.
func (l *positionLog) checkpoint(p esdb.Position) {
	if !l.seen || after(p, l.furthest) {
		l.furthest, l.seen = p, true
	}
}

// reached reports whether $all has been observed up to p.
func (l *positionLog) reached(p esdb.Position) bool {
	return l.seen && !after(p, l.furthest)
}

// head is the last position numbered (0 if none).
func (l *positionLog) head() uint64 { return uint64(len(l.entries)) }

// get returns the entry at position p.
func (l *positionLog) get(p uint64) (entry, bool) {
	if p == 0 || p > uint64(len(l.entries)) {
		return entry{}, false
	}
	return l.entries[p-1], true
}

// slice copies up to limit entries from position from (limit <= 0: all).
func (l *positionLog) slice(from uint64, limit int) []entry {
	from = max(from, 1)
	n := uint64(len(l.entries))
	if from > n {
		return nil
	}
	end := n
	if limit > 0 && from-1+uint64(limit) < n {
		end = from - 1 + uint64(limit)
	}
	return append([]entry(nil), l.entries[from-1:end]...)
}

// at returns the last position recorded at or before t (0 if none).
func (l *positionLog) at(t time.Time) uint64 {
	return uint64(sort.Search(len(l.entries), func(i int) bool { return l.entries[i].recorded.After(t) }))
}

// position returns the position of revision rev of stream.
func (l *positionLog) position(stream string, rev uint64) (uint64, bool) {
	p, ok := l.byRev[streamRev{stream, rev}]
	return p, ok
}

// lastRevision returns the last revision of stream numbered so far.
func (l *positionLog) lastRevision(stream string) (uint64, bool) {
	r, ok := l.last[stream]
	return r, ok
}

// byEventID returns the position of the event with this ID.
func (l *positionLog) byEventID(id uuid.UUID) (uint64, bool) {
	p, ok := l.byID[id]
	return p, ok
}
