package views

import (
	"cmp"
	"iter"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewResources() }) }

// resourceState is the state of the "resources" view (also read as
// "loans"): every resource aggregate with its loans, and school names.
//
// The view is versioned (projections.Versioned): what it saves is each
// resource's own changes and each of its loans' changes, with their
// positions; the resources as they are now are folded from them when the
// state is read. Its state as of a past position is looked up (At): a
// loan that has not changed since is copied as it is, and one that has is
// folded from its own few changes.
type resourceState struct {
	// Rows are each resource's changes and its loans' (saved).
	Rows    map[uuid.UUID]*resourceRow `json:"rows"`
	Schools schoolNames                `json:"schools"`
	// Resources are the resource aggregates as the changes leave them,
	// Names the schools' names (neither saved).
	Resources map[uuid.UUID]*partnership.Resource `json:"-"`
	Names     partnershipNames                    `json:"-"`
	// pastOf and pastAt stand for Rows in a state looked up in the past
	// (At): the live view's rows, which it no longer changes (shared), read up to
	// position pastAt. Rows are cut from them only when the state is
	// changed or saved (rows).
	pastOf map[uuid.UUID]*resourceRow
	pastAt uint64
	// changed are, in a state looked up in the past, the loans that have
	// changed since its position, as they were then, by resource (sorted
	// by slot): the resource's LoanList is the live view's own array,
	// which holds them as they are now. Readers go through loansOf and
	// loanAt, never LoanList's values; rows puts them in place before the
	// state is changed or saved.
	changed map[uuid.UUID][]changedLoan
	// loans indexes each partnership's loans in the register's order
	// (start, then id), so a page of the register costs its own entries,
	// not a sort of every loan of ten years. Not saved: a state read back
	// has none until a reader needs it (index); a reading in the past
	// that only counts a year's loans never builds it. Once built, Apply
	// keeps it up to date.
	loans *loanIndex
	// indexMu guards the building of loans by readers, who share a view.
	indexMu *sync.Mutex
	// liveIndex is, in a state looked up in the past, the loan index of
	// the state it was looked up in, if that had one (nil otherwise, and
	// once the state is changed), frozen (see loanIndex.frozen): its
	// readers pick their candidates from it and read them as they were
	// (sharedLoan, changed), instead of scanning every loan.
	liveIndex *loanIndex
	// ordered caches each partnership's registered resources in of's
	// order (guarded by indexMu); apply drops it when a resource is
	// registered (nothing else changes which resources are listed, or
	// their names).
	ordered map[uuid.UUID][]*partnership.Resource
	// live marks the state the engine keeps up to date (Resources.Live):
	// its readers build the index when first needed, where a state read
	// back for one reading scans instead.
	live bool
	// util keeps the live state's utilisation answers until its next
	// event (see UtilisationIn).
	util *utilCache
	// books are the state's books of utilisation (nil in a state looked
	// up in the past), booksOf, in a state in the past, those of the state
	// it was looked up in, which its utilisation in an academic year reads
	// until it is changed.
	books, booksOf *loanBooks
	// lens marks a state read in place in the past (Resources.Lens):
	// Rows and Resources are the live view's, read as of lens.at through
	// res, loanCount, pastChanged and of, never directly.
	lens *resourceLens
}

// resourceLens is what a lens works out once, when a reader first needs
// it; a lens's readers may share it, hence the lock.
type resourceLens struct {
	at uint64
	// live is the state the lens reads (for its order of resources).
	live *resourceState
	mu   sync.Mutex
	// own are the resources whose own changes (registration, offer)
	// came after at, as they were then (nil for one not seen by then).
	own map[uuid.UUID]*partnership.Resource
	// changed are the loans changed since at, as they were then, by
	// resource (the state's changed, worked out on first need).
	changed map[uuid.UUID][]changedLoan
	// store holds the changed loans, one array for all (from
	// changedLoans, given back with changed by Release); nil until they
	// are worked out.
	store *[]changedLoan
	// ordered are of's answers.
	ordered map[uuid.UUID][]*partnership.Resource
}

// res returns resource id as the state holds it: in a lens, as it was at
// the lens's position (nil if it was not seen by then), its LoanList
// the live one, of which loanCount are its loans then.
func (s *resourceState) res(id uuid.UUID) *partnership.Resource {
	live := s.Resources[id]
	l := s.lens
	if l == nil || live == nil {
		return live
	}
	row := s.Rows[id]
	if row == nil {
		return nil
	}
	if n := len(row.Changes); n > 0 && row.Changes[n-1].P <= l.at {
		return live // its own fields as they are now
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.own[id]; ok {
		return r
	}
	// A copy as it was: its loans the live array cut to those requested
	// by then (the changed ones are read from pastChanged).
	r, _, ok := row.fold(l.at, live)
	if !ok {
		r = nil
	}
	if l.own == nil {
		l.own = map[uuid.UUID]*partnership.Resource{}
	}
	l.own[id] = r
	return r
}

// loanCount returns how many loans r (as res gives it) has as the state
// holds it: in a lens, those requested by its position (a copy res made
// holds just those).
func (s *resourceState) loanCount(r *partnership.Resource) int {
	if s.lens == nil || s.Resources[r.ID] != r {
		return len(r.LoanList)
	}
	row := s.Rows[r.ID]
	if row == nil {
		return 0
	}
	return s.loanCountOf(row)
}

// loanCountOf returns how many of row's loans a lens reads: those
// requested by its position.
func (s *resourceState) loanCountOf(row *resourceRow) int { return row.requestedBy(s.lens.at) }

// requestedBy returns how many of the row's loans were requested by pos
// (loans are in the order requested).
func (row *resourceRow) requestedBy(pos uint64) int {
	if len(row.first) == len(row.Loans) {
		return sort.Search(len(row.first), func(i int) bool { return row.first[i] > pos })
	}
	return sort.Search(len(row.Loans), func(i int) bool { lcs := row.Loans[i]; return len(lcs) == 0 || lcs[0].P > pos })
}

// pastChanged returns the loans changed since a past state's position,
// as they were then, by resource: in a lens, worked out on first need.
func (s *resourceState) pastChanged() map[uuid.UUID][]changedLoan {
	l := s.lens
	if l == nil {
		return s.changed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		// One array for all: a resource's list is cut from it with no
		// room beyond its end, so that appending the next copies (if the
		// array must grow) and never reaches it.
		l.store, l.changed = changedLoans.get(), changedMaps.get()
		store := *l.store
		for id, row := range s.Rows {
			k := 0
			if r := s.Resources[id]; r != nil {
				k = min(s.loanCountOf(row), len(row.last), len(r.LoanList))
			}
			from := len(store)
			for slot, p := range row.last[:k] {
				if p > l.at {
					store = append(store, changedLoan{slot, row.loanAt(slot, l.at)})
				}
			}
			if n := len(store); n > from {
				l.changed[id] = store[from:n:n]
			}
		}
		*l.store = store
	}
	return l.changed
}

// changedLoans and changedMaps keep a lens's changed loans between
// readings (Release).
var (
	changedLoans scratch[changedLoan]
	changedMaps  mapScratch[uuid.UUID, []changedLoan]
)

// Release implements projections.Releaser: a lens gives back the loans
// it folded, for the next reading.
func (v *Resources) Release() {
	l := v.state.lens
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store != nil {
		changedLoans.put(l.store)
		changedMaps.put(l.changed)
		l.store, l.changed = nil, nil
	}
}

// utilCache holds the utilisation answers the live state gave since its
// last event, by partnership and period: an answer depends only on the
// events folded, and names no person (resources and schools only).
// Readers share the view, hence the lock; apply empties it.
type utilCache struct {
	mu sync.Mutex
	m  map[utilKey]Utilisation
}

type utilKey struct {
	pid      uuid.UUID
	from, to time.Time
	year     string
}

// maxUtilAnswers bounds the answers kept between two events: periods
// other than academic years and all time are few, but any may be asked.
const maxUtilAnswers = 64

func (c *utilCache) get(k utilKey) (Utilisation, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.m[k]
	return u, ok
}

func (c *utilCache) put(k utilKey, u Utilisation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxUtilAnswers {
		c.m = make(map[utilKey]Utilisation)
	}
	c.m[k] = u
}

func (c *utilCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// clone returns u with lists of its own, so that a caller may change
// them.
func (u Utilisation) clone() Utilisation {
	u.Resources, u.Schools = slices.Clone(u.Resources), slices.Clone(u.Schools)
	return u
}

// sharedLoan reports whether the loan under live index key k is, in a
// state in the past, a loan of partnership pid as it is now: requested by
// the state's position and not changed since (else it is among changed).
func (s *resourceState) sharedLoan(pid uuid.UUID, k loanKey) bool {
	r := s.res(k.res)
	if r == nil || !r.Registered() || r.PartnershipID != pid || int(k.slot) >= s.loanCount(r) || r.LoanList[k.slot].ID != k.id {
		return false
	}
	ch := s.pastChanged()[k.res]
	_, changed := slices.BinarySearchFunc(ch, int(k.slot), func(c changedLoan, slot int) int { return cmp.Compare(c.slot, slot) })
	return !changed
}

// changedOf calls fn with each loan of partnership pid that changed since
// a past state's position, as it was then, with its key.
func (s *resourceState) changedOf(pid uuid.UUID, fn func(k loanKey, l *partnership.Loan)) {
	for res, ch := range s.pastChanged() {
		r := s.res(res)
		if r == nil || !r.Registered() || r.PartnershipID != pid {
			continue
		}
		for i := range ch {
			l := &ch[i].loan
			fn(loanKey{start: l.Start, id: l.ID, res: res, slot: int32(ch[i].slot)}, l)
		}
	}
}

// pastKeys returns, for a state in the past reading the live index, the
// keys of partnership pid's loans starting in [from, to), as they were,
// in the register's order.
func (s *resourceState) pastKeys(pid uuid.UUID, from, to time.Time) []loanKey {
	var out []loanKey
	s.sharedKeys(pid, from, to, func(k loanKey, _ *partnership.Loan) { out = append(out, k) })
	n := len(out)
	s.changedOf(pid, func(k loanKey, l *partnership.Loan) {
		if !l.Start.Before(from) && l.Start.Before(to) {
			out = append(out, k)
		}
	})
	if len(out) > n {
		slices.SortFunc(out, loanKey.cmp)
	}
	return out
}

// sharedKeys calls fn, for a state in the past reading the live index,
// with each of partnership pid's loans starting in [from, to) that is as
// it was then (sharedLoan), by start, and its key.
func (s *resourceState) sharedKeys(pid uuid.UUID, from, to time.Time, fn func(k loanKey, l *partnership.Loan)) {
	keys := s.liveIndex.byPartnership[pid]
	lo := sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(from) })
	hi := max(lo, sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(to) }))
	for _, k := range keys[lo:hi] {
		if s.sharedLoan(pid, k) {
			fn(k, &s.res(k.res).LoanList[k.slot])
		}
	}
}

// changedLoan is a loan at slot of its resource's LoanList as a state in
// the past holds it.
type changedLoan struct {
	slot int
	loan partnership.Loan
}

// loansOf iterates over the loans of r (in the order requested, with their
// slots) as the state holds them. The loans are not to be changed.
func (s *resourceState) loansOf(r *partnership.Resource) iter.Seq2[int, *partnership.Loan] {
	return func(yield func(int, *partnership.Loan) bool) {
		ch := s.pastChanged()[r.ID]
		j := 0
		for i := range s.loanCount(r) {
			l := &r.LoanList[i]
			if j < len(ch) && ch[j].slot == i {
				l = &ch[j].loan
				j++
			}
			if !yield(i, l) {
				return
			}
		}
	}
}

// loanAt returns the loan at slot of r as the state holds it.
func (s *resourceState) loanAt(r *partnership.Resource, slot int) partnership.Loan {
	return *s.loanPtr(r, slot)
}

// loanPtr is loanAt without copying the loan, which is not to be changed:
// the resource's own, or the one a state in the past holds apart.
func (s *resourceState) loanPtr(r *partnership.Resource, slot int) *partnership.Loan {
	if ch := s.pastChanged()[r.ID]; len(ch) > 0 {
		if j, ok := slices.BinarySearchFunc(ch, slot, func(c changedLoan, slot int) int { return cmp.Compare(c.slot, slot) }); ok {
			return &ch[j].loan
		}
	}
	return &r.LoanList[slot]
}

// loanByID returns loan id of r as the state holds it.
func (s *resourceState) loanByID(r *partnership.Resource, id uuid.UUID) (partnership.Loan, bool) {
	if i := s.slotOf(r.ID, id); i >= 0 {
		return s.loanAt(r, i), true
	}
	return partnership.Loan{}, false
}

// loanKey is a loan's place in the register: its start and id, and the
// resource it is of.
type loanKey struct {
	start   time.Time
	id, res uuid.UUID
	// slot is the loan's place in its resource's LoanList (loans are only
	// ever appended), so that a key finds its loan without a search.
	slot int32
}

func (a loanKey) cmp(b loanKey) int { return cmp.Or(a.start.Compare(b.start), uuidCmp(a.id, b.id)) }

// loanIndex is each partnership's loans by start, then id.
type loanIndex struct {
	byPartnership map[uuid.UUID][]loanKey
	// at is the key each loan is filed under, to move it when an
	// approval changes its window.
	at map[uuid.UUID]loanKey
	// pid is the partnership each key was filed in.
	pid map[uuid.UUID]uuid.UUID
	// collected are the loans collected and not yet returned (the only
	// ones that can be overdue), by loan id.
	collected map[uuid.UUID]loanKey
	// span is, by partnership, at least the longest window of any loan
	// filed (it never shrinks), so that the loans holding a resource at a
	// time are among those starting less than span before it.
	span map[uuid.UUID]time.Duration
	// returned are, by partnership, the loans returned, by return time
	// then loan id (a returned loan changes no more), with what
	// ReturnedByCondition counts.
	returned map[uuid.UUID][]returnedLoan

	// frozen is set once a state in the past reads the index (At): it is
	// never changed again, and the state that kept it up to date changes
	// a copy of it (thawed) from then on.
	frozen atomic.Bool
	// lentKeys and lentReturned are the partnerships whose lists in
	// byPartnership and returned are still a frozen index's: they are
	// copied before they are changed in place (ownKeys, ownReturned).
	lentKeys, lentReturned map[uuid.UUID]bool
}

// thawed returns a copy of a frozen index to change: the maps a state in
// the past reads are copied (each partnership's lists when first
// changed); at and pid, which it does not read, are shared.
func (x *loanIndex) thawed() *loanIndex {
	y := &loanIndex{byPartnership: maps.Clone(x.byPartnership), at: x.at, pid: x.pid, collected: maps.Clone(x.collected),
		span: maps.Clone(x.span), returned: maps.Clone(x.returned),
		lentKeys: make(map[uuid.UUID]bool, len(x.byPartnership)), lentReturned: make(map[uuid.UUID]bool, len(x.returned))}
	for pid := range x.byPartnership {
		y.lentKeys[pid] = true
	}
	for pid := range x.returned {
		y.lentReturned[pid] = true
	}
	return y
}

// ownKeys returns partnership pid's keys, to change in place.
func (x *loanIndex) ownKeys(pid uuid.UUID) []loanKey { return own(x.byPartnership, x.lentKeys, pid) }

// ownReturned returns partnership pid's returned loans, to change in
// place.
func (x *loanIndex) ownReturned(pid uuid.UUID) []returnedLoan {
	return own(x.returned, x.lentReturned, pid)
}

// own returns lists[pid], copied first (with some room) if it is lent,
// to change in place.
func own[T any](lists map[uuid.UUID][]T, lent map[uuid.UUID]bool, pid uuid.UUID) []T {
	list := lists[pid]
	if lent[pid] {
		list = append(make([]T, 0, len(list)+len(list)/8+1), list...)
		lists[pid] = list
		delete(lent, pid)
	}
	return list
}

// thaw makes the state's loan index its own to change, if a state in the
// past reads it.
func (s *resourceState) thaw() {
	if s.loans != nil && s.loans.frozen.Load() {
		s.loans = s.loans.thawed()
	}
}

// returnedLoan is a returned loan as ReturnedByCondition counts it.
type returnedLoan struct {
	at        time.Time
	id        uuid.UUID
	condition partnership.Condition
	late      bool
	// key is the loan's key when it was filed as returned.
	key loanKey
}

func (a returnedLoan) cmp(b returnedLoan) int { return cmp.Or(a.at.Compare(b.at), uuidCmp(a.id, b.id)) }

func newLoanIndex() *loanIndex {
	return &loanIndex{byPartnership: map[uuid.UUID][]loanKey{}, at: map[uuid.UUID]loanKey{}, pid: map[uuid.UUID]uuid.UUID{},
		collected: map[uuid.UUID]loanKey{}, span: map[uuid.UUID]time.Duration{},
		returned: map[uuid.UUID][]returnedLoan{}}
}

// track notes whether loan l (under key k) of partnership pid is
// collected and not returned, and its window; a returned loan is filed
// among the returned in order, or, when sorted is false (reindex, which
// sorts them once at the end), appended. before is the loan as it was
// filed last (nil for none): if it was returned, it is taken out of the
// returned first (a view folds a returned loan changed again, which the
// domain refuses, as the ledger holds it).
func (x *loanIndex) track(pid uuid.UUID, l partnership.Loan, k loanKey, sorted bool, before *partnership.Loan) {
	x.span[pid] = max(x.span[pid], l.End.Sub(l.Start))
	if before != nil && before.Status == partnership.LoanReturnedStatus {
		rs := x.ownReturned(pid)
		if i, found := slices.BinarySearchFunc(rs, returnedLoan{at: before.ReturnedAt, id: before.ID}, returnedLoan.cmp); found {
			x.returned[pid] = slices.Delete(rs, i, i+1)
		}
	}
	if l.Status == partnership.LoanReturnedStatus {
		e := returnedLoan{at: l.ReturnedAt, id: l.ID, condition: l.Condition, late: l.ReturnedAt.After(l.End), key: k}
		rs := x.ownReturned(pid)
		if !sorted {
			x.returned[pid] = append(rs, e)
		} else if i, found := slices.BinarySearchFunc(rs, e, returnedLoan.cmp); !found {
			x.returned[pid] = slices.Insert(rs, i, e)
		}
	}
	if l.Status == partnership.LoanCollectedStatus {
		x.collected[l.ID] = k
	} else {
		delete(x.collected, l.ID)
	}
}

// file puts loan l of resource r under its current start, moving it if
// it was filed under another.
func (x *loanIndex) file(r *partnership.Resource, l partnership.Loan, slot int, before *partnership.Loan) {
	k := loanKey{start: l.Start, id: l.ID, res: r.ID, slot: int32(slot)}
	x.track(r.PartnershipID, l, k, true, before)
	if old, ok := x.at[l.ID]; ok {
		if old == k && x.pid[l.ID] == r.PartnershipID {
			return
		}
		keys := x.ownKeys(x.pid[l.ID])
		if i, found := slices.BinarySearchFunc(keys, old, loanKey.cmp); found {
			x.byPartnership[x.pid[l.ID]] = slices.Delete(keys, i, i+1)
		}
	}
	keys := x.ownKeys(r.PartnershipID)
	i, _ := slices.BinarySearchFunc(keys, k, loanKey.cmp)
	x.byPartnership[r.PartnershipID] = slices.Insert(keys, i, k)
	x.at[l.ID], x.pid[l.ID] = k, r.PartnershipID
}

// reindex builds s.loans afresh from the resources (after a state is read).
func (s *resourceState) reindex() {
	x := newLoanIndex()
	for _, r := range s.Resources {
		if !r.Registered() {
			continue
		}
		keys := x.byPartnership[r.PartnershipID]
		for i, l := range s.loansOf(r) {
			k := loanKey{start: l.Start, id: l.ID, res: r.ID, slot: int32(i)}
			keys = append(keys, k)
			x.at[l.ID], x.pid[l.ID] = k, r.PartnershipID
			x.track(r.PartnershipID, *l, k, false, nil)
		}
		x.byPartnership[r.PartnershipID] = keys
	}
	for _, keys := range x.byPartnership {
		slices.SortFunc(keys, loanKey.cmp)
	}
	for _, rs := range x.returned {
		slices.SortFunc(rs, returnedLoan.cmp)
	}
	s.loans = x
}

// LoanAnswer is how a loan request was answered: approved or declined by
// the owning school, or cancelled, by whom (a person's id, zero for the
// system or an administrator), in what role, when and why.
type LoanAnswer struct {
	Outcome string    `json:"outcome"`
	ByID    uuid.UUID `json:"by_id,omitzero"`
	Role    string    `json:"role"`
	At      time.Time `json:"at"`
	Reason  string    `json:"reason,omitempty"`
}

func newResourceState() resourceState {
	return resourceState{Rows: map[uuid.UUID]*resourceRow{}, Schools: schoolNames{}, Resources: map[uuid.UUID]*partnership.Resource{},
		Names: newNames(false)}
}

// resourceRow is what a resource was folded from: its own changes and,
// in the order requested (its LoanList's), each loan's, in position order.
type resourceRow struct {
	Changes []resourceChange `json:"c,omitempty"`
	Loans   [][]loanChange   `json:"l,omitempty"`
	// last is the position of each loan's last change, and first that of
	// its request (not saved: see relast), so that a reading in the past
	// finds the loans requested by then and those that changed since
	// without reaching into every loan's own list.
	last, first []uint64
	// shared is set once a state in the past (At) holds the row, and the
	// resource's LoanList with it: the live view then changes a copy of
	// both (copied), never the row or the list.
	shared atomic.Bool
}

// relast works out last from the loans' changes.
func (row *resourceRow) relast() {
	row.last, row.first = make([]uint64, len(row.Loans)), make([]uint64, len(row.Loans))
	for i, lcs := range row.Loans {
		if len(lcs) > 0 {
			row.last[i], row.first[i] = lcs[len(lcs)-1].P, lcs[0].P
		}
	}
}

// resourceChange is an event of the resource itself: its registration
// (whole), or it being offered or withdrawn.
type resourceChange struct {
	P          uint64                          `json:"p"`
	Registered *partnership.ResourceRegistered `json:"r,omitempty"`
	Offered    *bool                           `json:"o,omitempty"`
}

// loanChange is an event of one loan, with as much of it as the fold
// reads, and the answer it gave the request (approved, declined or
// cancelled), which the view shows beside the loan.
type loanChange struct {
	P         uint64                 `json:"p"`
	Requested *loanRequest           `json:"q,omitempty"`
	Approved  *[2]time.Time          `json:"a,omitempty"`
	Status    partnership.LoanStatus `json:"s,omitempty"` // declined or cancelled
	Collected *time.Time             `json:"k,omitempty"`
	Returned  *loanReturn            `json:"r,omitempty"`
	Answer    *LoanAnswer            `json:"w,omitempty"`
}

// loanRequest is a loan asked for; Event is the request's event id (the
// loan's correlation id).
type loanRequest struct {
	ID       uuid.UUID `json:"id"`
	Event    uuid.UUID `json:"e"`
	Borrower uuid.UUID `json:"b"`
	Start    time.Time `json:"s"`
	End      time.Time `json:"t"`
	Purpose  string    `json:"u,omitempty"`
}

// loanReturn is a loan coming back.
type loanReturn struct {
	At        time.Time             `json:"at"`
	Condition partnership.Condition `json:"c"`
	Note      string                `json:"n,omitempty"`
}

// loan returns the loan a request makes.
func (q *loanRequest) loan() partnership.Loan {
	return partnership.RequestedLoan(partnership.LoanRequested{LoanKeys: partnership.LoanKeys{LoanID: q.ID, BorrowerSchoolID: q.Borrower},
		Start: q.Start, End: q.End, Purpose: q.Purpose}, q.Event)
}

// event returns a change after the request as the event the domain's
// loan folds (with what its fold reads); nil for none.
func (ch loanChange) event() domain.Event {
	switch {
	case ch.Approved != nil:
		return partnership.LoanApproved{Start: ch.Approved[0], End: ch.Approved[1]}
	case ch.Status == partnership.LoanDeclinedStatus:
		return partnership.LoanDeclined{}
	case ch.Status == partnership.LoanCancelledStatus:
		return partnership.LoanCancelled{}
	case ch.Collected != nil:
		return partnership.LoanCollected{CollectedAt: *ch.Collected}
	case ch.Returned != nil:
		r := ch.Returned
		return partnership.LoanReturned{ReturnedAt: r.At, Condition: r.Condition, Note: r.Note}
	}
	return nil
}

// message returns the change as the event the domain folds.
func (ch resourceChange) message() domain.Message {
	m := domain.Message{Recorded: domain.Recorded{Position: ch.P}}
	switch {
	case ch.Registered != nil:
		m.Event = *ch.Registered
	case ch.Offered != nil && *ch.Offered:
		m.Event = partnership.ResourceOffered{}
	case ch.Offered != nil:
		m.Event = partnership.ResourceOfferWithdrawn{}
	}
	return m
}

// fold returns the resource as known at pos, folded from the row's
// changes up to pos; false when it did not exist then. now is the live
// resource's LoanList (nil for none), whose loans are the row's, slot for
// slot (apply and foldRows keep them so).
//
// A loan with no change after pos is as it is now: the past LoanList is
// now's own array up to the loans requested by pos, with no room beyond
// its end, and nothing is copied (apply copies a shared row's list before
// it changes a loan in it). The loans that changed since are folded from
// their changes up to pos and returned apart (changed), to be read in
// their place (resourceState.loansOf). With now nil, every loan is folded
// into LoanList.
func (row *resourceRow) fold(pos uint64, live *partnership.Resource) (r *partnership.Resource, changed []changedLoan, ok bool) {
	// No index of loan events (NewResource's): the view folds loans
	// itself, and Apply makes one if it is asked to fold one.
	r = &partnership.Resource{}
	seen := false
	if n := len(row.Changes); n > 0 && row.Changes[n-1].P <= pos && live != nil {
		// Not changed since: its own fields are the live resource's.
		r.ID, r.PartnershipID, r.OwnerSchoolID, r.Kind, r.Name = live.ID, live.PartnershipID, live.OwnerSchoolID, live.Kind, live.Name
		r.Description, r.Capacity, r.HourlyValuePence, r.Offered = live.Description, live.Capacity, live.HourlyValuePence, live.Offered
		seen = true
	} else {
		for _, ch := range row.Changes {
			if ch.P > pos {
				break
			}
			r.Apply(ch.message())
			seen = true
		}
	}
	var now []partnership.Loan
	if live != nil {
		now = live.LoanList
	}
	k := row.requestedBy(pos)
	if k == 0 {
		return r, nil, seen
	}
	if len(now) >= k && len(row.last) >= k {
		r.LoanList = now[:k:k]
		for slot, p := range row.last[:k] {
			if p > pos {
				changed = append(changed, changedLoan{slot, row.loanAt(slot, pos)})
			}
		}
		return r, changed, true
	}
	r.LoanList = make([]partnership.Loan, 0, k)
	for slot := range k {
		if row.Loans[slot][0].Requested != nil {
			r.LoanList = append(r.LoanList, row.loanAt(slot, pos))
		}
	}
	if len(r.LoanList) == 0 {
		r.LoanList = nil // as a fold of no request leaves it
	}
	return r, nil, true
}

// loanAt returns the loan at slot folded from its changes up to pos (its
// first, the request, came by pos).
func (row *resourceRow) loanAt(slot int, pos uint64) partnership.Loan {
	lcs := row.Loans[slot]
	l := lcs[0].Requested.loan()
	for _, ch := range lcs[1:] {
		if ch.P > pos {
			break
		}
		if ch.Requested == nil {
			l.Fold(ch.event())
		}
	}
	return l
}

// copied returns a copy of the row sharing its lists, each with no room
// beyond its end, so that appending to the copy's reaches nothing the row
// holds.
func (row *resourceRow) copied() *resourceRow {
	out := &resourceRow{Changes: row.Changes[:len(row.Changes):len(row.Changes)], last: slices.Clone(row.last),
		first: row.first[:len(row.first):len(row.first)]}
	if len(row.Loans) > 0 {
		out.Loans = make([][]loanChange, len(row.Loans))
		for i, lcs := range row.Loans {
			out.Loans[i] = lcs[:len(lcs):len(lcs)]
		}
	}
	return out
}

// upTo returns the row as known at pos: its changes up to pos (sharing
// the arrays, with no room beyond their ends, so appending copies).
func (row *resourceRow) upTo(pos uint64) *resourceRow {
	out := &resourceRow{}
	k := sort.Search(len(row.Changes), func(i int) bool { return row.Changes[i].P > pos })
	if k > 0 {
		out.Changes = row.Changes[:k:k]
	}
	for i, lcs := range row.Loans {
		k := sort.Search(len(lcs), func(i int) bool { return lcs[i].P > pos })
		if k > 0 {
			if out.Loans == nil {
				out.Loans = make([][]loanChange, 0, len(row.Loans)-i)
			}
			out.Loans = append(out.Loans, lcs[:k:k])
		}
	}
	out.relast()
	return out
}

// loanAnswer returns m's answer to a loan request.
func loanAnswer(outcome string, m domain.Message) LoanAnswer {
	by, _ := uuid.Parse(m.Meta.ActorID)
	return LoanAnswer{Outcome: outcome, ByID: by, Role: m.Meta.ActorRole, At: m.Effective().UTC(), Reason: m.Meta.Reason}
}

// loanChangeOf returns m's change to a loan, and the loan it is of; a
// zero id for an event that is not a loan's.
func loanChangeOf(m domain.Message) (loanChange, uuid.UUID) {
	ch := loanChange{P: m.Position}
	var keys partnership.LoanKeys
	switch e := m.Event.(type) {
	case partnership.LoanRequested:
		keys = e.LoanKeys
		ch.Requested = &loanRequest{ID: e.LoanID, Event: m.ID, Borrower: e.BorrowerSchoolID, Start: e.Start, End: e.End, Purpose: e.Purpose}
	case partnership.LoanApproved:
		keys = e.LoanKeys
		ch.Approved, ch.Answer = &[2]time.Time{e.Start, e.End}, ptr(loanAnswer("approved", m))
	case partnership.LoanDeclined:
		keys = e.LoanKeys
		ch.Status, ch.Answer = partnership.LoanDeclinedStatus, ptr(loanAnswer("declined", m))
	case partnership.LoanCancelled:
		keys = e.LoanKeys
		ch.Status, ch.Answer = partnership.LoanCancelledStatus, ptr(loanAnswer("cancelled", m))
	case partnership.LoanCollected:
		keys = e.LoanKeys
		ch.Collected = &e.CollectedAt
	case partnership.LoanReturned:
		keys = e.LoanKeys
		ch.Returned = &loanReturn{At: e.ReturnedAt, Condition: e.Condition, Note: e.Note}
	}
	return ch, keys.LoanID
}

func ptr[T any](v T) *T { return &v }

func (s *resourceState) apply(m domain.Message) {
	if s.util != nil {
		s.util.clear()
	}
	s.rows()
	if s.Schools.apply(m, &s.Names) {
		return
	}
	// id is the resource the event is of.
	var id uuid.UUID
	var own *resourceChange
	switch e := m.Event.(type) {
	case partnership.ResourceRegistered:
		id, own = e.ResourceID, &resourceChange{P: m.Position, Registered: &e}
		s.dropOrder()
	case partnership.ResourceOffered:
		id, own = e.ResourceID, &resourceChange{P: m.Position, Offered: ptr(true)}
	case partnership.ResourceOfferWithdrawn:
		id, own = e.ResourceID, &resourceChange{P: m.Position, Offered: ptr(false)}
	case partnership.LoanRequested:
		id = e.ResourceID
	case partnership.LoanApproved:
		id = e.ResourceID
	case partnership.LoanDeclined:
		id = e.ResourceID
	case partnership.LoanCancelled:
		id = e.ResourceID
	case partnership.LoanCollected:
		id = e.ResourceID
	case partnership.LoanReturned:
		id = e.ResourceID
	default:
		return
	}
	r := s.Resources[id]
	if r == nil {
		r = partnership.NewResource()
		s.Resources[id] = r
	}
	row := s.Rows[id]
	switch {
	case row == nil:
		row = &resourceRow{}
		s.Rows[id] = row
	case row.shared.Load():
		// A state in the past reads the row and shares the resource's
		// loans: change copies.
		row = row.copied()
		s.Rows[id] = row
		r.LoanList = slices.Clone(r.LoanList)
	}
	if own != nil {
		was := r.Registered()
		r.Apply(m)
		row.Changes = append(row.Changes, *own)
		if !was && r.Registered() {
			s.books.registered(m.Position, r)
		}
		if own.Registered != nil && s.loans != nil {
			// Loans asked for before the registration (which the domain
			// refuses, but a view folds what the ledger holds) are filed
			// now, as the index built afresh would hold them.
			s.thaw()
			for i, l := range r.LoanList {
				s.loans.file(r, l, i, nil)
			}
		}
		return
	}
	// A loan's event is folded into the loan alone, as the resource's
	// Apply would (without its index of events to loans, which no reader
	// of the view needs).
	ch, loan := loanChangeOf(m)
	var slot int
	var before *partnership.Loan
	if ch.Requested != nil {
		slot = len(r.LoanList)
		r.LoanList = append(r.LoanList, ch.Requested.loan())
		row.Loans = append(row.Loans, []loanChange{ch})
		row.last, row.first = append(row.last, m.Position), append(row.first, m.Position)
	} else {
		if slot = s.slotOf(id, loan); slot < 0 || slot >= len(row.Loans) {
			return // no such loan: the event changed nothing
		}
		was := r.LoanList[slot]
		before = &was
		r.LoanList[slot].Fold(m.Event)
		row.Loans[slot] = append(row.Loans[slot], ch)
		row.last[slot] = m.Position
	}
	s.fileLoan(id, slot, before)
	s.books.changed(m.Position, r, slot, before)
}

// rows returns the rows, cut from the live view's first for a state
// looked up in the past.
func (s *resourceState) rows() map[uuid.UUID]*resourceRow {
	if s.pastOf != nil {
		for id, row := range s.pastOf {
			if r, ok := s.Resources[id]; ok {
				s.Rows[id] = row.upTo(s.pastAt)
				// The loans are the live view's own (fold), which this
				// state is about to change: copy them, as they were.
				r.LoanList = slices.Clone(r.LoanList)
				for _, c := range s.changed[id] {
					r.LoanList[c.slot] = c.loan
				}
			}
		}
		s.pastOf, s.changed, s.liveIndex, s.booksOf = nil, nil, nil, nil
	}
	return s.Rows
}

// answerOf returns how the request for loan id of resource res was
// answered (its loan's last answer), nil while it waits: the owning
// school's answer, or a cancellation, with who gave it, when and why,
// which the domain's Loan does not keep.
func (s *resourceState) answerOf(res, id uuid.UUID) *LoanAnswer {
	rows, limit := s.Rows, uint64(math.MaxUint64)
	if s.pastOf != nil {
		rows, limit = s.pastOf, s.pastAt
	}
	if s.lens != nil {
		limit = s.lens.at
	}
	row := rows[res]
	slot := s.slotOf(res, id)
	if row == nil || slot < 0 || slot >= len(row.Loans) {
		return nil
	}
	var out *LoanAnswer
	for _, ch := range row.Loans[slot] {
		if ch.P > limit {
			break
		}
		if ch.Answer != nil {
			a := *ch.Answer
			out = &a
		}
	}
	return out
}

// slotOf returns the place of loan id in resource res's LoanList, -1 for
// none.
func (s *resourceState) slotOf(res, id uuid.UUID) int {
	r := s.res(res)
	if r == nil {
		return -1
	}
	for i := s.loanCount(r) - 1; i >= 0; i-- { // mostly a recent loan
		if r.LoanList[i].ID == id {
			return i
		}
	}
	return -1
}

// foldRows works out the resources, names and answers from the saved rows.
func (s *resourceState) foldRows() {
	s.Names = s.Schools.current()
	for id, row := range s.Rows {
		row.relast()
		if r, _, ok := row.fold(math.MaxUint64, nil); ok {
			s.Resources[id] = r
		}
	}
}

// index returns the loan index, building it from the loans if the state
// was read back and no reader has needed it yet.
func (s *resourceState) index() *loanIndex {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if s.loans == nil {
		s.reindex()
	}
	return s.loans
}

// loansIndex returns the loan index for a reader that can do without:
// the live state's, built if need be; a state read back for one reading
// has one only if a reader needed it (else nil).
func (s *resourceState) loansIndex() *loanIndex {
	if s.live {
		return s.index()
	}
	return s.indexed()
}

// indexed returns the loan index if it is built, else nil.
func (s *resourceState) indexed() *loanIndex {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	return s.loans
}

// fileLoan keeps the loan index (when s has one) up to date with the loan
// at slot of resource res, just applied; before is the loan before the
// event (nil for a request).
func (s *resourceState) fileLoan(res uuid.UUID, slot int, before *partnership.Loan) {
	r := s.Resources[res]
	if s.loans == nil || r == nil || !r.Registered() {
		return
	}
	s.thaw()
	s.loans.file(r, r.LoanList[slot], slot, before)
}

// dropOrder forgets the resources' order, for of to work out again.
func (s *resourceState) dropOrder() {
	s.indexMu.Lock()
	s.ordered = nil
	s.indexMu.Unlock()
}

// of returns the registered resources of partnership pid by name, then
// id: kept from the last call until a resource is registered.
// Callers must not change the slice.
func (s *resourceState) of(pid uuid.UUID) []*partnership.Resource {
	if s.lens != nil {
		return s.lensOf(pid)
	}
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	if out, ok := s.ordered[pid]; ok {
		return out
	}
	out := s.order(pid)
	if s.ordered == nil {
		s.ordered = map[uuid.UUID][]*partnership.Resource{}
	}
	s.ordered[pid] = out
	return out
}

// lensOf is of for a lens: the live view's order when none of the
// partnership's resources changed its own fields since the lens's
// position (nothing to copy), else worked out again from res.
func (s *resourceState) lensOf(pid uuid.UUID) []*partnership.Resource {
	l := s.lens
	l.mu.Lock()
	out, ok := l.ordered[pid]
	l.mu.Unlock()
	if ok {
		return out
	}
	live := l.live.of(pid)
	same := true
	for id, row := range s.Rows {
		if n := len(row.Changes); n > 0 && row.Changes[n-1].P > l.at {
			if r := s.Resources[id]; r != nil && r.PartnershipID == pid {
				same = false
				break
			}
		}
	}
	if same {
		out = live
	} else {
		for id := range s.Rows {
			if r := s.res(id); r != nil && r.Registered() && r.PartnershipID == pid {
				out = append(out, r)
			}
		}
		sortResources(out)
	}
	l.mu.Lock()
	if l.ordered == nil {
		l.ordered = map[uuid.UUID][]*partnership.Resource{}
	}
	l.ordered[pid] = out
	l.mu.Unlock()
	return out
}

// order works out of's answer.
func (s *resourceState) order(pid uuid.UUID) []*partnership.Resource {
	var out []*partnership.Resource
	for _, r := range s.Resources {
		if r.Registered() && r.PartnershipID == pid {
			out = append(out, r)
		}
	}
	sortResources(out)
	return out
}

// sortResources sorts rs by name, then id.
func sortResources(rs []*partnership.Resource) {
	slices.SortFunc(rs, func(a, b *partnership.Resource) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), uuidCmp(a.ID, b.ID))
	})
}

// Resources is the "resources" view: the resources schools share (owner
// school, kind, offered or withdrawn), the calendar of approved loans of
// each, utilisation (hours booked per resource and per school, per
// academic year), and the register of their loans (see Loans).
type Resources struct{ stateView[resourceState] }

// NewResources returns an empty "resources" view.
func NewResources() *Resources {
	return &Resources{newStateView(ResourcesView, 4, func() resourceState {
		s := newResourceState()
		s.loans, s.indexMu, s.util, s.books = newLoanIndex(), new(sync.Mutex), new(utilCache), &loanBooks{ready: true}
		return s
	})}
}

// UnmarshalState implements projections.Projection: the state read; its
// loan index is built when first needed.
func (v *Resources) UnmarshalState(b []byte) error {
	if err := v.stateView.UnmarshalState(b); err != nil {
		return err
	}
	v.state.loans, v.state.indexMu, v.state.util, v.state.books = nil, new(sync.Mutex), new(utilCache), &loanBooks{}
	v.state.foldRows()
	return nil
}

// MarshalState implements projections.Projection.
// A lens saves the state as of its position.
func (v *Resources) MarshalState() ([]byte, error) {
	if v.state.lens != nil {
		return v.At(v.state.lens.at).MarshalState()
	}
	v.state.rows()
	return v.stateView.MarshalState()
}

// At implements projections.Versioned: the view as known at pos, each
// resource folded from its changes up to pos, its loans that have not
// changed since copied from the live ones. Its loan index is built when
// a reader first needs it, as for a state read back.
func (v *Resources) At(pos uint64) projections.Projection {
	if v.state.lens != nil {
		pos = min(pos, v.state.lens.at)
	}
	out := NewResources()
	s := &out.state
	s.loans, s.books = nil, nil
	s.Resources = make(map[uuid.UUID]*partnership.Resource, len(v.state.Rows))
	if b := v.state.books; b != nil {
		// Its utilisation in a year is read from the books (built now
		// for a view read back).
		b.ensure(v.state.Rows, v.state.Resources)
		s.booksOf = b
	}
	past := make(map[uuid.UUID]*resourceRow, len(v.state.Rows))
	for id, row := range v.state.Rows {
		if r, changed, ok := row.fold(pos, v.state.Resources[id]); ok {
			row.shared.Store(true) // the live view changes a copy from now on
			s.Resources[id], past[id] = r, row
			if changed != nil {
				if s.changed == nil {
					s.changed = map[uuid.UUID][]changedLoan{}
				}
				s.changed[id] = changed
			}
		}
	}
	s.pastOf, s.pastAt = past, pos
	s.Schools, s.Names = v.state.Schools.upTo(pos)
	// Readers pick their loans from the index of the state looked up in
	// (built now for the live view, whose apply keeps it up to date).
	x := v.state.indexed()
	if x == nil && v.state.live {
		x = v.state.index()
	}
	if x != nil {
		x.frozen.Store(true) // the live view changes a copy from now on
		s.liveIndex = x
	}
	return out
}

// Lens implements projections.Lensed: the view as known at pos, read in
// place in v's own rows and resources while v is read-locked. Nothing is
// copied up front: a resource is copied only if its own fields changed
// since (res), and the loans changed since are folded when a reader first
// needs them (pastChanged), as At does.
func (v *Resources) Lens(pos uint64) projections.Projection {
	out := &Resources{v.reading(resourceState{Rows: v.state.Rows, Resources: v.state.Resources, pastAt: pos, indexMu: new(sync.Mutex),
		lens: &resourceLens{at: pos, live: &v.state}})}
	s := &out.state
	if b := v.state.books; b != nil {
		b.ensure(v.state.Rows, v.state.Resources)
		s.booksOf = b
	}
	s.Schools, s.Names = v.state.Schools.upTo(pos)
	// Readers pick their loans from the live index (built now if need
	// be), read as they were (sharedLoan, pastChanged); the live view
	// does not change it while the lens is read.
	s.liveIndex = v.state.index()
	return out
}

// Live implements projections.Live: the state is the live one, whose
// loan index readers build when first needed.
func (v *Resources) Live() { v.state.live = true }

// Apply implements projections.Projection.
func (v *Resources) Apply(m domain.Message) error {
	if v.state.lens != nil {
		return errLens
	}
	v.state.apply(m)
	return nil
}

// ResourceInfo is one shared resource.
type ResourceInfo struct {
	ID               uuid.UUID `json:"id"`
	Name             string    `json:"name"`
	Kind             string    `json:"kind"`
	Owner            Ref       `json:"owner"`
	Capacity         int       `json:"capacity"`
	HourlyValuePence int64     `json:"hourly_value_pence"`
	Offered          bool      `json:"offered"`
	Loans            int       `json:"loans"`
}

// List returns the resources of partnership pid by name.
func (v *Resources) List(pid uuid.UUID) []ResourceInfo {
	rs := v.state.of(pid)
	out := make([]ResourceInfo, 0, len(rs))
	for _, r := range rs {
		out = append(out, v.info(r))
	}
	return out
}

// info returns resource r as List lists it.
func (v *Resources) info(r *partnership.Resource) ResourceInfo {
	return ResourceInfo{ID: r.ID, Name: r.Name, Kind: string(r.Kind), Owner: v.state.Names.school(r.OwnerSchoolID),
		Capacity: r.Capacity, HourlyValuePence: r.HourlyValuePence, Offered: r.Offered, Loans: v.state.loanCount(r)}
}

// Booking is one approved loan on a resource's calendar.
type Booking struct {
	LoanID   uuid.UUID `json:"loan_id"`
	Borrower Ref       `json:"borrower"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Status   string    `json:"status"`
	Purpose  string    `json:"purpose,omitempty"`
}

// Calendar returns the loans of resource id that hold it (approved,
// collected, or returned — for the time actually held), by start. Approved
// loans of one resource never overlap (the domain's rule), so neither do
// the bookings.
func (v *Resources) Calendar(id uuid.UUID) []Booking {
	out := []Booking{}
	r := v.state.res(id)
	if r == nil {
		return out
	}
	var loans []partnership.Loan
	for _, l := range v.state.loansOf(r) {
		loans = append(loans, *l)
	}
	slices.SortStableFunc(loans, func(a, b partnership.Loan) int { return cmp.Or(a.Start.Compare(b.Start), uuidCmp(a.ID, b.ID)) })
	for _, l := range loans {
		from, to, ok := l.Held()
		if !ok {
			continue
		}
		out = append(out, Booking{LoanID: l.ID, Borrower: v.state.Names.school(l.BorrowerSchoolID), Start: from, End: to, Status: string(l.Status), Purpose: l.Purpose})
	}
	slices.SortStableFunc(out, func(a, b Booking) int { return a.Start.Compare(b.Start) })
	return out
}

// ResourceUse is how much one resource was used in a year.
type ResourceUse struct {
	Resource     ResourceInfo `json:"resource"`
	Hours        float64      `json:"hours"`
	BenefitPence int64        `json:"benefit_pence"`
}

// SchoolUse is how much a school borrowed and lent in a year.
type SchoolUse struct {
	School        Ref     `json:"school"`
	HoursBorrowed float64 `json:"hours_borrowed"`
	HoursLent     float64 `json:"hours_lent"`
}

// Utilisation is the use of a partnership's resources in a year.
type Utilisation struct {
	AcademicYear      string        `json:"academic_year"`
	Resources         []ResourceUse `json:"resources"`
	Schools           []SchoolUse   `json:"schools"`
	TotalHours        float64       `json:"total_hours"`
	TotalBenefitPence int64         `json:"total_benefit_pence"`
}

// Utilisation returns the hours each resource of partnership pid was held
// on loan in academic year (all time for ""), with its value, and the
// hours each school borrowed and lent. Returns an error for a malformed
// year.
func (v *Resources) Utilisation(pid uuid.UUID, year string) (Utilisation, error) {
	p, err := YearPeriod(year)
	if err != nil {
		return Utilisation{}, err
	}
	return v.UtilisationIn(pid, p), nil
}

// UtilisationIn is Utilisation over the days of period p. The live
// state keeps its answers until its next event (each caller gets its own
// copy); a state in the past works its answer out.
func (v *Resources) UtilisationIn(pid uuid.UUID, p Period) Utilisation {
	c := v.state.util
	if !v.state.live || c == nil {
		return v.utilisationIn(pid, p)
	}
	from, to := p.window()
	k := utilKey{pid: pid, from: from, to: to, year: p.Year}
	u, ok := c.get(k)
	if !ok {
		u = v.utilisationIn(pid, p)
		c.put(k, u)
	}
	return u.clone()
}

// utilisationIn works UtilisationIn out.
func (v *Resources) utilisationIn(pid uuid.UUID, p Period) Utilisation {
	from, to := p.window()
	out := Utilisation{AcademicYear: p.Year, Resources: []ResourceUse{}, Schools: []SchoolUse{}}
	resources := v.state.of(pid)
	// Hours are summed as durations and turned into hours once, so that
	// the sums do not depend on the order the loans are read in.
	var sums utilSums
	if y, ok := yearOfWindow(from, to); ok && v.state.booksOf != nil {
		// A state in the past reads an academic year's sums from the
		// books of the view it was looked up in.
		sums = v.state.booksOf.at(loanYear{pid, y}, v.state.pastAt, resources)
	} else {
		sums = v.heldIn(pid, resources, from, to)
	}
	out.Resources = make([]ResourceUse, 0, len(resources))
	for i, r := range resources {
		h := sums.held[i].Hours()
		benefit := r.BenefitOf(h)
		out.Resources = append(out.Resources, ResourceUse{Resource: v.info(r), Hours: h, BenefitPence: benefit})
		out.TotalHours += h
		out.TotalBenefitPence += benefit
	}
	for id, u := range sums.bySchool {
		out.Schools = append(out.Schools, SchoolUse{School: v.state.Names.school(id), HoursBorrowed: u.borrowed.Hours(), HoursLent: u.lent.Hours()})
	}
	slices.SortFunc(out.Schools, func(a, b SchoolUse) int {
		return cmp.Or(strings.Compare(a.School.Name, b.School.Name), uuidCmp(a.School.ID, b.School.ID))
	})
	return out
}

// heldIn adds up the time partnership pid's loans held its resources (in
// of's order) within [from, to), by resource and by school.
func (v *Resources) heldIn(pid uuid.UUID, resources []*partnership.Resource, from, to time.Time) utilSums {
	bySchool := map[uuid.UUID]*utilUse{}
	of := func(id uuid.UUID) *utilUse {
		u := bySchool[id]
		if u == nil {
			u = &utilUse{}
			bySchool[id] = u
		}
		return u
	}
	held := map[uuid.UUID]time.Duration{} // by resource
	add := func(r *partnership.Resource, l *partnership.Loan) {
		d := l.HeldIn(from, to)
		if d <= 0 {
			return
		}
		held[r.ID] += d
		of(l.BorrowerSchoolID).borrowed += d
		of(r.OwnerSchoolID).lent += d
	}
	// A loan holds its resource within its window, so only loans starting
	// less than the longest window before from can count: through the
	// index those are read alone, when they are fewer than half the loans
	// (reading every loan in place costs less than looking half of them
	// up).
	var keys []loanKey
	scan := true
	if x := v.state.liveIndex; x != nil {
		// The loans as they were that start less than the longest window
		// before from, and the loans changed since, whatever their window.
		scan = false
		v.state.sharedKeys(pid, from.Add(-x.span[pid]), to, func(k loanKey, l *partnership.Loan) { add(v.state.res(k.res), l) })
		v.state.changedOf(pid, func(k loanKey, l *partnership.Loan) { add(v.state.res(k.res), l) })
	} else if x := v.state.loansIndex(); x != nil {
		all := x.byPartnership[pid]
		lo := sort.Search(len(all), func(i int) bool { return all[i].start.After(from.Add(-x.span[pid])) })
		hi := lo + sort.Search(len(all)-lo, func(i int) bool { return !all[lo+i].start.Before(to) })
		keys, scan = all[lo:hi], 2*(hi-lo) > len(all)
	}
	if scan {
		// Every loan, read in place: each resource's hours summed apart,
		// its owner looked up once.
		for _, r := range resources {
			var sum time.Duration
			var owner *utilUse
			for _, l := range v.state.loansOf(r) {
				d := l.HeldIn(from, to)
				if d <= 0 {
					continue
				}
				if owner == nil {
					owner = of(r.OwnerSchoolID)
				}
				sum += d
				owner.lent += d
				of(l.BorrowerSchoolID).borrowed += d
			}
			if sum > 0 {
				held[r.ID] += sum
			}
		}
	} else {
		for _, k := range keys {
			if r, l, ok := v.loanRef(k); ok {
				add(r, l)
			}
		}
	}
	out := utilSums{held: make([]time.Duration, len(resources)), bySchool: bySchool}
	for i, r := range resources {
		out.held[i] = held[r.ID]
	}
	return out
}

// Loans is the "resources" view read for its loans, under the name
// "loans" (LoansView): the register of every loan of a shared resource
// (requested, approved, declined, cancelled, collected, returned with its
// condition) and the loans overdue on a day. The two names are one
// projection, folded and stored once (they were two of the same state).
type Loans = Resources

// LoanEntry is one loan in the register.
type LoanEntry struct {
	LoanID       uuid.UUID  `json:"loan_id"`
	ResourceID   uuid.UUID  `json:"resource_id"`
	ResourceName string     `json:"resource_name"`
	Owner        Ref        `json:"owner"`
	Borrower     Ref        `json:"borrower"`
	Start        time.Time  `json:"start"`
	End          time.Time  `json:"end"`
	Purpose      string     `json:"purpose,omitempty"`
	Status       string     `json:"status"`
	CollectedAt  *time.Time `json:"collected_at,omitempty"`
	ReturnedAt   *time.Time `json:"returned_at,omitempty"`
	Condition    string     `json:"condition,omitempty"`
	Note         string     `json:"condition_note,omitempty"`
	// Answer is how the request was answered (nil while it waits).
	Answer *LoanAnswer `json:"answer,omitempty"`
}

func (v *Loans) entry(r *partnership.Resource, l partnership.Loan, now time.Time) LoanEntry {
	e := LoanEntry{LoanID: l.ID, ResourceID: r.ID, ResourceName: r.Name, Owner: v.state.Names.school(r.OwnerSchoolID),
		Borrower: v.state.Names.school(l.BorrowerSchoolID), Start: l.Start, End: l.End, Purpose: l.Purpose,
		Status: string(l.StatusAt(now)), Condition: string(l.Condition), Note: l.ConditionNote}
	if !l.CollectedAt.IsZero() {
		t := l.CollectedAt
		e.CollectedAt = &t
	}
	if !l.ReturnedAt.IsZero() {
		t := l.ReturnedAt
		e.ReturnedAt = &t
	}
	e.Answer = v.state.answerOf(r.ID, l.ID)
	return e
}

// Register returns the loans of partnership pid starting in academic
// year (all for ""), by start then loan id, each with its status on day
// now (a collected loan past its end reads "overdue").
func (v *Loans) Register(pid uuid.UUID, year string, now time.Time) []LoanEntry {
	return v.RegisterIn(pid, periodOf(year), now)
}

// RegisterIn is Register for the loans starting in period p.
func (v *Loans) RegisterIn(pid uuid.UUID, p Period, now time.Time) []LoanEntry {
	out, _ := v.RegisterPage(pid, p, now, 0, math.MaxInt)
	return out
}

// RegisterPage is RegisterIn cut to n entries after the first from, with
// how many loans of partnership pid start in period p: it reads the loans
// of the page, not the whole register.
func (v *Loans) RegisterPage(pid uuid.UUID, p Period, now time.Time, from, n int) ([]LoanEntry, int) {
	if v.state.liveIndex == nil {
		v.state.index() // pages follow one another: the index pays for itself
	}
	keys := v.keysIn(pid, p)
	out := []LoanEntry{}
	for _, k := range keys[min(max(from, 0), len(keys)):] {
		if len(out) == n {
			break
		}
		if r, l, ok := v.loanOf(k); ok {
			out = append(out, v.entry(r, l, now))
		}
	}
	return out, len(keys)
}

// RegisterPageOf is RegisterPage for academic year (all for "") and the
// loans for which keep holds, given the owning and the borrowing school
// (keep nil: every loan): the loans of other schools are skipped without
// being read into entries, and the total counts the loans kept.
func (v *Loans) RegisterPageOf(pid uuid.UUID, year string, now time.Time, from, n int, keep func(owner, borrower uuid.UUID) bool) ([]LoanEntry, int) {
	p := periodOf(year)
	if keep == nil {
		return v.RegisterPage(pid, p, now, from, n)
	}
	if v.state.liveIndex == nil {
		v.state.index()
	}
	out := []LoanEntry{}
	total := 0
	for _, k := range v.keysIn(pid, p) {
		r, l, ok := v.loanOf(k)
		if !ok || !keep(r.OwnerSchoolID, l.BorrowerSchoolID) {
			continue
		}
		if total >= from && len(out) < n {
			out = append(out, v.entry(r, l, now))
		}
		total++
	}
	return out, total
}

// keysIn returns the index keys of the loans of partnership pid starting
// in period p, in the register's order.
func (v *Loans) keysIn(pid uuid.UUID, p Period) []loanKey {
	start, end := p.window()
	if v.state.liveIndex != nil {
		return v.state.pastKeys(pid, start, end)
	}
	if x := v.state.loansIndex(); x != nil {
		keys := x.byPartnership[pid]
		lo := sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(start) })
		hi := sort.Search(len(keys), func(i int) bool { return !keys[i].start.Before(end) })
		return keys[lo:max(hi, lo)]
	}
	// No index (a state read back for one reading): the period's loans
	// picked and sorted, rather than every loan of ten years.
	var keys []loanKey
	for _, r := range v.state.Resources {
		if !r.Registered() || r.PartnershipID != pid {
			continue
		}
		for i, l := range v.state.loansOf(r) {
			if !l.Start.Before(start) && l.Start.Before(end) {
				keys = append(keys, loanKey{start: l.Start, id: l.ID, res: r.ID, slot: int32(i)})
			}
		}
	}
	slices.SortFunc(keys, loanKey.cmp)
	return keys
}

// loanOf returns the resource and the loan an index key names.
func (v *Loans) loanOf(k loanKey) (*partnership.Resource, partnership.Loan, bool) {
	r, l, ok := v.loanRef(k)
	if !ok {
		return r, partnership.Loan{}, false
	}
	return r, *l, true
}

// loanRef is loanOf without copying the loan, which is not to be
// changed: for the loops that read thousands of loans and keep none.
func (v *Loans) loanRef(k loanKey) (*partnership.Resource, *partnership.Loan, bool) {
	r := v.state.res(k.res)
	if r == nil {
		return nil, nil, false
	}
	i := int(k.slot)
	if i >= v.state.loanCount(r) || r.LoanList[i].ID != k.id {
		if i = v.state.slotOf(k.res, k.id); i < 0 {
			return r, nil, false
		}
	}
	return r, v.state.loanPtr(r, i), true
}

// Overdue returns the loans of partnership pid that are overdue at now
// (collected and not returned by the end of their window), by end.
//
// With the loan index (the live state's, or one a reader built), only
// the loans collected and not returned are looked at; without (a state
// read back for one reading), every loan of the partnership is.
func (v *Loans) Overdue(pid uuid.UUID, now time.Time) []LoanEntry {
	out := []LoanEntry{}
	if x := v.state.liveIndex; x != nil {
		// Collected and not returned then: as now, unless changed since.
		buf := loanKeys.get()
		defer loanKeys.put(buf)
		keys := (*buf)[:0]
		defer func() { *buf = keys }()
		for _, k := range x.collected {
			if v.state.sharedLoan(pid, k) {
				keys = append(keys, k)
			}
		}
		v.state.changedOf(pid, func(k loanKey, l *partnership.Loan) { keys = append(keys, k) })
		for _, k := range keys {
			if r, l, ok := v.loanOf(k); ok && l.Overdue(now) {
				out = append(out, v.entry(r, l, now))
			}
		}
	} else if x := v.state.loansIndex(); x != nil {
		for id, k := range x.collected {
			if x.pid[id] != pid {
				continue
			}
			if r, l, ok := v.loanOf(k); ok && l.Overdue(now) {
				out = append(out, v.entry(r, l, now))
			}
		}
	} else {
		for _, r := range v.state.of(pid) {
			for _, l := range v.state.loansOf(r) {
				if l.StatusAt(now) == partnership.LoanOverdue {
					out = append(out, v.entry(r, *l, now))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b LoanEntry) int { return cmp.Or(a.End.Compare(b.End), uuidCmp(a.LoanID, b.LoanID)) })
	return out
}

// loanKeys are Overdue's keys, kept between readings.
var loanKeys scratch[loanKey]

// StatusCount is how many loans have a status.
type StatusCount struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// Counts returns how many loans of partnership pid starting in year have
// each status at now, in the order of the loan's life.
func (v *Loans) Counts(pid uuid.UUID, year string, now time.Time) []StatusCount {
	return v.CountsIn(pid, periodOf(year), now)
}

// CountsIn is Counts for the loans starting in period p.
func (v *Loans) CountsIn(pid uuid.UUID, p Period, now time.Time) []StatusCount {
	order := [...]partnership.LoanStatus{partnership.LoanRequestedStatus, partnership.LoanApprovedStatus, partnership.LoanCollectedStatus,
		partnership.LoanOverdue, partnership.LoanReturnedStatus, partnership.LoanDeclinedStatus, partnership.LoanCancelledStatus}
	var n [len(order)]int
	if y, ok := yearOfWindow(p.window()); ok && v.state.booksOf != nil {
		// A state in the past counts an academic year's loans from the
		// books of the view it was looked up in.
		c, overdue := v.state.booksOf.countsAt(loanYear{pid, y}, v.state.pastAt, now)
		n = [len(order)]int{c[0], c[1], c[2] - overdue, overdue, c[3], c[4], c[5]}
	} else {
		v.eachIn(pid, p, func(l *partnership.Loan) {
			if i := slices.Index(order[:], l.StatusAt(now)); i >= 0 {
				n[i]++
			}
		})
	}
	out := make([]StatusCount, 0, len(order))
	for i, s := range order {
		out = append(out, StatusCount{Status: string(s), Count: n[i]})
	}
	return out
}

// eachIn calls fn with each loan of partnership pid starting in period p,
// as the state holds it, in no particular order: a state in the past
// reading the live index visits the loans as they were then without
// listing, sorting or looking up their keys again.
func (v *Loans) eachIn(pid uuid.UUID, p Period, fn func(l *partnership.Loan)) {
	if v.state.liveIndex == nil {
		for _, k := range v.keysIn(pid, p) {
			if _, l, ok := v.loanRef(k); ok {
				fn(l)
			}
		}
		return
	}
	start, end := p.window()
	v.state.sharedKeys(pid, start, end, func(_ loanKey, l *partnership.Loan) { fn(l) })
	v.state.changedOf(pid, func(_ loanKey, l *partnership.Loan) {
		if !l.Start.Before(start) && l.Start.Before(end) {
			fn(l)
		}
	})
}

// ConditionCount is how many loans came back in one condition, and how
// many of them late.
type ConditionCount struct {
	Condition string `json:"condition"`
	Count     int    `json:"count"`
	Late      int    `json:"late"`
}

// ReturnedByCondition returns how many loans of partnership pid returned
// in period p came back good, fair and damaged (in that order), and how
// many of each were late.
func (v *Loans) ReturnedByCondition(pid uuid.UUID, p Period) []ConditionCount {
	out := []ConditionCount{{Condition: string(partnership.ConditionGood)}, {Condition: string(partnership.ConditionFair)}, {Condition: string(partnership.ConditionDamaged)}}
	from, to := p.window() // p.Contains, worked out once
	count := func(c partnership.Condition, late bool) {
		for i := range out {
			if out[i].Condition == string(c) {
				out[i].Count++
				if late {
					out[i].Late++
				}
			}
		}
	}
	if y, ok := yearOfWindow(from, to); ok && v.state.booksOf != nil {
		// A state in the past counts an academic year's returns from the
		// books of the view it was looked up in.
		n, late := v.state.booksOf.returnsAt(loanYear{pid, y}, v.state.pastAt)
		for i := range out {
			out[i].Count, out[i].Late = n[i], late[i]
		}
		return out
	}
	if x := v.state.liveIndex; x != nil {
		// Returned then: as now, unless changed since.
		rs := x.returned[pid]
		lo := sort.Search(len(rs), func(i int) bool { return !rs[i].at.Before(from) })
		for _, e := range rs[lo:] {
			if !e.at.Before(to) {
				break
			}
			if v.state.sharedLoan(pid, e.key) {
				count(e.condition, e.late)
			}
		}
		v.state.changedOf(pid, func(_ loanKey, l *partnership.Loan) {
			if l.Status == partnership.LoanReturnedStatus && !l.ReturnedAt.Before(from) && l.ReturnedAt.Before(to) {
				count(l.Condition, l.ReturnedAt.After(l.End))
			}
		})
		return out
	}
	if x := v.state.loansIndex(); x != nil {
		rs := x.returned[pid]
		lo := sort.Search(len(rs), func(i int) bool { return !rs[i].at.Before(from) })
		for _, e := range rs[lo:] {
			if !e.at.Before(to) {
				break
			}
			for i := range out {
				if out[i].Condition == string(e.condition) {
					out[i].Count++
					if e.late {
						out[i].Late++
					}
				}
			}
		}
		return out
	}
	for _, r := range v.state.of(pid) {
		for _, l := range v.state.loansOf(r) {
			if l.Status != partnership.LoanReturnedStatus || l.ReturnedAt.Before(from) || !l.ReturnedAt.Before(to) {
				continue
			}
			for i := range out {
				if out[i].Condition == string(l.Condition) {
					out[i].Count++
					if l.ReturnedAt.After(l.End) {
						out[i].Late++
					}
				}
			}
		}
	}
	return out
}
