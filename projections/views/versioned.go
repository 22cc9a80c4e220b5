package views

import (
	"errors"
	"sort"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// errLens is returned by Apply on a lens (projections.Lensed), which is
// only ever read.
var errLens = errors.New("views: a state read in place in the past is not folded")

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
// array, with no room beyond its end, so appending to either copies; nil
// when there is none.
func (h history[T]) upTo(pos uint64) history[T] {
	if n := len(h); n == 0 || h[n-1].P <= pos {
		return h[:n:n]
	}
	i := sort.Search(len(h), func(i int) bool { return h[i].P > pos })
	if i == 0 {
		return nil
	}
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

// communityNames are the names ISLCs were established under, with the
// school of each, and the position each was given at: partnershipNames'
// communities for a view whose past states are looked up.
type communityNames map[uuid.UUID]history[communityRef]

// apply folds an ISLC's establishment into n and names; it reports
// whether m was one.
func (n communityNames) apply(m domain.Message, names *partnershipNames) bool {
	e, ok := m.Event.(governance.CommunityEstablished)
	if !ok {
		return false
	}
	ref := communityRef{Name: e.Name, SchoolID: e.SchoolID}
	n[e.CommunityID] = n[e.CommunityID].add(m.Position, ref)
	names.Communities[e.CommunityID] = ref
	return true
}

// into adds the ISLCs' names as they are in n to names.
func (n communityNames) into(names *partnershipNames) {
	for id, h := range n {
		names.Communities[id] = h.current()
	}
}

// versions are rows by id with every version each has had (Rows, saved)
// and each one's current version (Now, not saved: Rows gives it), so that
// a view's queries read Now as they would a plain map.
type versions[T any] struct {
	Rows map[uuid.UUID]history[T] `json:"rows"`
	Now  map[uuid.UUID]T          `json:"-"`

	// A lens (see lens) reads Rows as they were at position at, and Now
	// not at all.
	lensed bool
	at     uint64
}

// lens returns v read as of pos in place: get and each look each row up
// in v's own histories, copying none. Only for reading, while v is not
// being changed (projections.Lensed).
func (v versions[T]) lens(pos uint64) versions[T] {
	return versions[T]{Rows: v.Rows, lensed: true, at: pos}
}

// get returns row id's version as read (now, or as of a lens's position)
// and whether it had one.
func (v versions[T]) get(id uuid.UUID) (T, bool) {
	if !v.lensed {
		x, ok := v.Now[id]
		return x, ok
	}
	h := v.Rows[id].upTo(v.at)
	if len(h) == 0 {
		var zero T
		return zero, false
	}
	return h[len(h)-1].V, true
}

// name returns row id's version as read, the zero T for none.
func (v versions[T]) name(id uuid.UUID) T {
	x, _ := v.get(id)
	return x
}

// each calls fn with every row's version as read, in no order.
func (v versions[T]) each(fn func(id uuid.UUID, x T)) {
	if !v.lensed {
		for id, x := range v.Now {
			fn(id, x)
		}
		return
	}
	for id, h := range v.Rows {
		if h = h.upTo(v.at); len(h) > 0 {
			fn(id, h[len(h)-1].V)
		}
	}
}

func newVersions[T any]() versions[T] {
	return versions[T]{Rows: map[uuid.UUID]history[T]{}, Now: map[uuid.UUID]T{}}
}

// set makes x row id's version from position pos on.
func (v *versions[T]) set(id uuid.UUID, pos uint64, x T) {
	v.Rows[id] = v.Rows[id].add(pos, x)
	v.Now[id] = x
}

// upTo returns the rows as known at pos, sharing every version with v
// (a lens's rows as known at the earlier of pos and its own position).
func (v versions[T]) upTo(pos uint64) versions[T] {
	if v.lensed {
		pos = min(pos, v.at)
	}
	out := versions[T]{Rows: rowsUpTo(v.Rows, pos)}
	out.restore()
	return out
}

// restore works out Now from Rows (after a state is read back).
func (v *versions[T]) restore() {
	if v.Rows == nil {
		v.Rows = map[uuid.UUID]history[T]{}
	}
	v.Now = make(map[uuid.UUID]T, len(v.Rows))
	for id, h := range v.Rows {
		v.Now[id] = h.current()
	}
}

// applyVersion folds m into a copy of aggregate id's current version
// (fresh's for a new one), never into a version already kept, and makes
// the copy the version from m's position on: the partnership views' rows
// are the domain's own aggregates, folded by the domain's Apply.
func applyVersion[A interface{ Apply(domain.Message) }](v *versions[A], id uuid.UUID, m domain.Message, fresh func() A) {
	var a A
	if h, ok := v.Rows[id]; ok {
		a = domain.CopyOf(h.current())
	} else {
		a = fresh()
	}
	a.Apply(m)
	v.set(id, m.Position, a)
}

// positionsUpTo returns how many of positions (ascending) are at most pos.
func positionsUpTo(positions []uint64, pos uint64) int {
	if n := len(positions); n == 0 || positions[n-1] <= pos {
		return n
	}
	return sort.Search(len(positions), func(i int) bool { return positions[i] > pos })
}

// namesAt are the names of schools (and, for views that name them, of
// ISLCs) with the position each was given at (saved), and the names they
// give now (Now, not saved).
type namesAt struct {
	Schools     schoolNames      `json:"schools"`
	Communities communityNames   `json:"communities"`
	Now         partnershipNames `json:"-"`

	// A lens (see lens) reads Schools and Communities as they were at
	// position at, and Now not at all.
	lensed bool
	at     uint64
}

// lens returns n read as of pos in place, copying no name: only for
// reading, while n is not being changed (projections.Lensed).
func (n namesAt) lens(pos uint64) namesAt {
	return namesAt{Schools: n.Schools, Communities: n.Communities, lensed: true, at: pos}
}

// school returns school id's reference with its name as read (now, or as
// of a lens's position).
func (n *namesAt) school(id uuid.UUID) Ref {
	if !n.lensed {
		return n.Now.school(id)
	}
	return Ref{ID: id, Name: n.Schools[id].upTo(n.at).current()}
}

// community returns ISLC id's reference with its name as read.
func (n *namesAt) community(id uuid.UUID) Ref {
	if !n.lensed {
		return n.Now.community(id)
	}
	return Ref{ID: id, Name: n.Communities[id].upTo(n.at).current().Name}
}

// newNamesAt returns no names; communities says whether ISLCs are named.
func newNamesAt(communities bool) namesAt {
	n := namesAt{Schools: schoolNames{}, Now: newNames(communities)}
	if communities {
		n.Communities = communityNames{}
	}
	return n
}

// apply folds the governance facts that name schools and ISLCs; it
// reports whether m was one of them.
func (n *namesAt) apply(m domain.Message) bool {
	if n.Schools.apply(m, &n.Now) {
		return true
	}
	if _, ok := m.Event.(governance.CommunityEstablished); ok {
		if n.Communities != nil {
			n.Communities.apply(m, &n.Now)
		}
		return true
	}
	return false
}

// upTo returns the names as known at pos (a lens's as known at the
// earlier of pos and its own position).
func (n namesAt) upTo(pos uint64) namesAt {
	if n.lensed {
		pos = min(pos, n.at)
	}
	out := namesAt{}
	out.Schools, out.Now = n.Schools.upTo(pos)
	if n.Communities != nil {
		out.Communities = communityNames(rowsUpTo(n.Communities, pos))
		out.Now.Communities = map[uuid.UUID]communityRef{}
		out.Communities.into(&out.Now)
	}
	return out
}

// restore works out Now from the names kept (after a state is read back).
func (n *namesAt) restore() {
	if n.Schools == nil {
		n.Schools = schoolNames{}
	}
	n.Now = n.Schools.current()
	if n.Communities != nil {
		n.Now.Communities = map[uuid.UUID]communityRef{}
		n.Communities.into(&n.Now)
	}
}
