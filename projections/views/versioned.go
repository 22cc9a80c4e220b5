package views

import (
	"sort"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// rowVersion is one value of a row, holding from ledger position P on (until
// the next version's).
type rowVersion[T any] struct {
	P uint64 `json:"p"`
	V T      `json:"v"`
}

// history is a row's versions in position order; the last is the row as
// it is now. A version's value is never changed once it is in a history
// (a change makes a new value), so histories of the past share it.
type history[T any] []rowVersion[T]

// current returns the row as it is now (the zero T for no version).
func (h history[T]) current() T {
	if len(h) == 0 {
		var zero T
		return zero
	}
	return h[len(h)-1].V
}

// upTo returns the versions from positions up to pos: the row's history as
// known at pos (empty when the row did not exist then). It shares h's
// array, with no room beyond its end, so appending to either copies.
func (h history[T]) upTo(pos uint64) history[T] {
	if n := len(h); n == 0 || h[n-1].P <= pos {
		return h[:n:n]
	}
	i := sort.Search(len(h), func(i int) bool { return h[i].P > pos })
	return h[:i:i]
}

// add appends v as the version from position pos on.
func (h history[T]) add(pos uint64, v T) history[T] { return append(h, rowVersion[T]{pos, v}) }

// rowsUpTo returns the histories of rows as known at pos: the rows that
// existed then, each with its versions up to pos.
func rowsUpTo[T any](rows map[uuid.UUID]history[T], pos uint64) map[uuid.UUID]history[T] {
	out := make(map[uuid.UUID]history[T], len(rows))
	for id, h := range rows {
		if h = h.upTo(pos); len(h) > 0 {
			out[id] = h
		}
	}
	return out
}

// schoolNames are the names schools were registered under, each with the
// position it was given at: partnershipNames (schools only) for a view
// whose past states are looked up.
type schoolNames map[uuid.UUID]history[string]

// apply folds a school's registration into n and names (the names as they
// are now); it reports whether m was one.
func (n schoolNames) apply(m domain.Message, names *partnershipNames) bool {
	e, ok := m.Event.(governance.SchoolRegistered)
	if !ok {
		return false
	}
	n[e.SchoolID] = n[e.SchoolID].add(m.Position, e.Name)
	names.Schools[e.SchoolID] = e.Name
	return true
}

// upTo returns the names as known at pos, with the names they give.
func (n schoolNames) upTo(pos uint64) (schoolNames, partnershipNames) {
	out, names := rowsUpTo(n, pos), newNames(false)
	for id, h := range out {
		names.Schools[id] = h.current()
	}
	return out, names
}

// current returns the names n gives now.
func (n schoolNames) current() partnershipNames {
	names := newNames(false)
	for id, h := range n {
		names.Schools[id] = h.current()
	}
	return names
}
