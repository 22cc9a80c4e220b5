package views

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

// AuditView is the name of the "audit" view.
const AuditView = "audit"

func init() { register(func() projections.Projection { return NewAudit() }) }

// Link kinds: what an audit entry touches.
const (
	LinkSchool      = "school"
	LinkCommunity   = "community"
	LinkPerson      = "person"
	LinkProposal    = "proposal"
	LinkResource    = "resource"
	LinkPartnership = "partnership"
)

var linkKinds = []string{LinkSchool, LinkCommunity, LinkPerson, LinkProposal, LinkResource, LinkPartnership}

// Audit is the "audit" view: the timeline of every event, with who, when,
// why, a one-line summary and the schools, ISLCs, people, proposals,
// resources and partnerships it touches, filtered and paged by position.
//
// It holds one compact record per event: strings repeated across events
// (streams, types, actors, roles, reasons) are interned in one table and
// the ids an event touches are indices into an entity table, so a million
// events cost a few hundred bytes each. Records hold no pointers: each
// event's summary and links sit in arenas of their own (text, linkArena),
// so the collector neither scans the million records nor follows two
// pointers out of each (at a million events the view is two thirds of
// the live heap, and every collection marked through it).
type Audit struct {
	Strings  []string     `json:"strings"`
	Entities []auditThing `json:"entities"`
	// Records are held in chunks of auditChunk, so the timeline grows
	// without ever copying what it holds.
	Records [][]auditRec `json:"records"`

	text      [][]byte   // summaries, in chunks of auditTextChunk bytes
	linkArena [][]uint32 // links, in chunks of auditLinkChunk
	// mem holds the chunks of Records, text and linkArena after the
	// first of each, outside the collector's heap (offHeap): nil until
	// one is needed. It is given back once the Audit is unreachable.
	mem *offHeap

	strIndex map[string]uint32
	entIndex map[uuid.UUID]uint32
	persons  map[uuid.UUID]bool
	postings map[uint32][]uint32 // entity → record indices
	// types is the set of the event types the log holds (bits by string
	// index), and schoolTypes that of the events touching each school
	// (by entity index), so that the audit page's choice of types is not
	// worked out from a million records each time it is shown.
	types       bitset
	schoolTypes map[uint32]*bitset
	names       map[uuid.UUID]string
}

// auditThing is an entity an event touches; Name is kept for things
// that are not people (schools, ISLCs, proposals, resources,
// partnerships), whose names are not personal data.
type auditThing struct {
	Kind uint8     `json:"k"`
	ID   uuid.UUID `json:"id"`
	Name string    `json:"n,omitempty"`
	// Parent is 1 + the index of the school (or ISLC) it belongs to, 0
	// for none: an event touching an ISLC touches its school too.
	Parent uint32 `json:"up,omitempty"`
}

// auditRec is one event of the timeline (see Audit.encode for its stored
// form); it holds no pointers.
type auditRec struct {
	Pos     uint64
	ID      uuid.UUID
	At      int64
	Eff     int64
	Stream  uint32
	Type    uint32
	Actor   uint32
	Role    uint32
	Reason  uint32
	Corr    uuid.UUID
	Cause   uuid.UUID
	Summary arenaRef // in Audit.text
	Links   arenaRef // in Audit.linkArena
}

// arenaRef is where a record's summary or links sit in their arena: a
// chunk, an offset in it, and a length.
type arenaRef struct{ chunk, off, n uint32 }

// auditChunk is how many records one chunk holds; auditTextChunk how many
// bytes of summaries, auditLinkChunk how many links.
const (
	auditChunk     = 8192
	auditTextChunk = 1 << 20
	auditLinkChunk = 1 << 16
)

// putText stores a summary read back in the text arena; putSummary one
// just made.
func (a *Audit) putText(b []byte) arenaRef {
	ref := a.textRoom(len(b))
	a.text[ref.chunk] = append(a.text[ref.chunk], b...)
	return ref
}

func (a *Audit) putSummary(s string) arenaRef {
	ref := a.textRoom(len(s))
	a.text[ref.chunk] = append(a.text[ref.chunk], s...)
	return ref
}

// textRoom returns where n bytes of text go next, with room made for them.
func (a *Audit) textRoom(n int) arenaRef {
	last := len(a.text) - 1
	if last < 0 || cap(a.text[last])-len(a.text[last]) < n {
		a.text = append(a.text, offHeapSlice[byte](&a.mem, len(a.text), max(auditTextChunk, n)))
		last++
	}
	return arenaRef{chunk: uint32(last), off: uint32(len(a.text[last])), n: uint32(n)}
}

// textBytes returns the summary at ref (the arena's bytes: read only).
func (a *Audit) textBytes(ref arenaRef) []byte {
	if ref.n == 0 {
		return nil
	}
	return a.text[ref.chunk][ref.off : ref.off+ref.n]
}

// summaryOf returns record r's summary.
func (a *Audit) summaryOf(r *auditRec) string { return string(a.textBytes(r.Summary)) }

// putLinks stores a record's links in the link arena.
func (a *Audit) putLinks(l []uint32) arenaRef {
	if len(l) == 0 {
		return arenaRef{}
	}
	n := len(a.linkArena)
	if n == 0 || cap(a.linkArena[n-1])-len(a.linkArena[n-1]) < len(l) {
		a.linkArena = append(a.linkArena, offHeapSlice[uint32](&a.mem, n, max(auditLinkChunk, len(l))))
		n++
	}
	c := a.linkArena[n-1]
	ref := arenaRef{chunk: uint32(n - 1), off: uint32(len(c)), n: uint32(len(l))}
	a.linkArena[n-1] = append(c, l...)
	return ref
}

// linksOf returns record r's links (the arena's: read only).
func (a *Audit) linksOf(r *auditRec) []uint32 {
	if r.Links.n == 0 {
		return nil
	}
	return a.linkArena[r.Links.chunk][r.Links.off : r.Links.off+r.Links.n : r.Links.off+r.Links.n]
}

// NewAudit returns an empty "audit" view.
func NewAudit() *Audit {
	a := &Audit{Strings: []string{""}, Entities: []auditThing{}, Records: [][]auditRec{}}
	a.index()
	return a
}

// rec returns record i (0-based).
func (a *Audit) rec(i int) *auditRec { return &a.Records[i/auditChunk][i%auditChunk] }

// push appends r and returns its index.
func (a *Audit) push(r auditRec) int {
	n := len(a.Records)
	if n == 0 || len(a.Records[n-1]) == auditChunk {
		a.Records = append(a.Records, offHeapSlice[auditRec](&a.mem, n, auditChunk))
		n++
	}
	a.Records[n-1] = append(a.Records[n-1], r)
	return (n-1)*auditChunk + len(a.Records[n-1]) - 1
}

// index rebuilds the lookup maps from the serialised tables.
func (a *Audit) index() {
	a.strIndex = make(map[string]uint32, len(a.Strings))
	for i, s := range a.Strings {
		a.strIndex[s] = uint32(i)
	}
	a.entIndex = make(map[uuid.UUID]uint32, len(a.Entities))
	a.persons = map[uuid.UUID]bool{}
	a.names = map[uuid.UUID]string{}
	for i, e := range a.Entities {
		a.entIndex[e.ID] = uint32(i)
		if linkKinds[e.Kind] == LinkPerson {
			a.persons[e.ID] = true
		}
	}
	// The postings are counted first and laid out in one block, each
	// entity's list capped (so a later append moves it out), rather than
	// grown by append a million times.
	counts := make([]int, len(a.Entities))
	total := 0
	for i := range a.Len() {
		for _, l := range a.linksOf(a.rec(i)) {
			if int(l) < len(counts) {
				counts[l]++
				total++
			}
		}
	}
	block := make([]uint32, 0, total)
	lists := make([][]uint32, len(a.Entities))
	for l, c := range counts {
		lists[l] = block[len(block) : len(block) : len(block)+c]
		block = block[:len(block)+c]
	}
	a.postings = make(map[uint32][]uint32, len(a.Entities))
	a.types, a.schoolTypes = nil, map[uint32]*bitset{}
	for i := range a.Len() {
		r := a.rec(i)
		links := a.linksOf(r)
		a.noteType(r.Type, links)
		for _, l := range links {
			if int(l) < len(lists) {
				lists[l] = append(lists[l], uint32(i))
			}
		}
	}
	for l, list := range lists {
		if len(list) > 0 {
			a.postings[uint32(l)] = list
		}
	}
}

// Name implements projections.Projection.
func (*Audit) Name() string { return AuditView }

// Version implements projections.Projection.
func (*Audit) Version() int { return 2 }

func (a *Audit) intern(s string) uint32 {
	if i, ok := a.strIndex[s]; ok {
		return i
	}
	i := uint32(len(a.Strings))
	a.Strings = append(a.Strings, s)
	a.strIndex[s] = i
	return i
}

func (a *Audit) entity(kind string, id uuid.UUID) uint32 {
	if i, ok := a.entIndex[id]; ok {
		return i
	}
	k := uint8(0)
	for j, lk := range linkKinds {
		if lk == kind {
			k = uint8(j)
		}
	}
	i := uint32(len(a.Entities))
	a.Entities = append(a.Entities, auditThing{Kind: k, ID: id})
	a.entIndex[id] = i
	if kind == LinkPerson {
		a.persons[id] = true
	}
	return i
}

// Apply implements projections.Projection.
func (a *Audit) Apply(m domain.Message) error {
	if a.strIndex == nil {
		a.index()
	}
	// People are known by their registration, so later events can tell a
	// person's id from other ids.
	parent := func(kind string, id, school uuid.UUID) {
		i := a.entity(kind, id)
		if a.Entities[i].Parent == 0 {
			a.Entities[i].Parent = 1 + a.entity(LinkSchool, school)
		}
	}
	switch e := m.Event.(type) {
	case governance.StaffRegistered:
		parent(LinkPerson, e.PersonID, e.SchoolID)
	case governance.GovernorRegistered:
		parent(LinkPerson, e.PersonID, e.SchoolID)
	case governance.AdvisoryContactRegistered:
		parent(LinkPerson, e.PersonID, e.SchoolID)
	case governance.CommunityEstablished:
		parent(LinkCommunity, e.CommunityID, e.SchoolID)
	case governance.ProposalDrafted:
		i := a.entity(LinkProposal, e.ProposalID)
		a.Entities[i].Parent = 1 + a.entity(LinkCommunity, e.CommunityID)
	}
	r := auditRec{Pos: m.Position, ID: m.ID, At: m.RecordedAt.UnixNano(), Stream: a.intern(m.Stream), Type: a.intern(m.Type),
		Actor: a.intern(m.Meta.ActorID), Role: a.intern(m.Meta.ActorRole), Reason: a.intern(m.Meta.Reason),
		Corr: m.Meta.CorrelationID, Cause: m.Meta.CausationID}
	if !m.Meta.EffectiveAt.IsZero() && !m.Meta.EffectiveAt.Equal(m.RecordedAt) {
		r.Eff = m.Meta.EffectiveAt.UnixNano()
	}
	if r.Corr == uuid.Nil {
		r.Corr = m.ID
	}
	links := a.links(m)
	r.Links = a.putLinks(links)
	r.Summary = a.putSummary(a.summary(m))
	idx := uint32(a.push(r))
	for _, l := range links {
		a.postings[l] = append(a.postings[l], idx)
	}
	a.noteType(r.Type, links)
	return nil
}

// noteType records an event of type typ (a string index) touching links
// in the sets of types.
func (a *Audit) noteType(typ uint32, links []uint32) {
	a.types.set(typ)
	for _, l := range links {
		if int(l) < len(a.Entities) && linkKinds[a.Entities[l].Kind] == LinkSchool {
			b := a.schoolTypes[l]
			if b == nil {
				b = &bitset{}
				a.schoolTypes[l] = b
			}
			b.set(typ)
		}
	}
}

// bitset is a set of small numbers.
type bitset []uint64

func (b *bitset) set(i uint32) {
	w := int(i / 64)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b))...)
	}
	(*b)[w] |= 1 << (i % 64)
}

// each calls fn with every number in the set, in order.
func (b bitset) each(fn func(i uint32)) {
	for w, word := range b {
		for word != 0 {
			i := bits.TrailingZeros64(word)
			fn(uint32(w*64 + i))
			word &^= 1 << i
		}
	}
}

// fieldPlan says where an event type's uuid fields are and what they
// name; it is computed once per type.
type fieldPlan struct {
	index []int
	kind  string // "" → a person if a registered person's id
}

var plans sync.Map // reflect.Type → []fieldPlan

func planOf(t reflect.Type) []fieldPlan {
	if p, ok := plans.Load(t); ok {
		return p.([]fieldPlan)
	}
	var out []fieldPlan
	var walk func(t reflect.Type, prefix []int)
	uuidType := reflect.TypeFor[uuid.UUID]()
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			idx := append(append([]int(nil), prefix...), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			if f.Type != uuidType {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			kind := ""
			for _, k := range []string{LinkSchool, LinkCommunity, LinkProposal, LinkResource, LinkPartnership} {
				if strings.Contains(tag, k) {
					kind = k
					break
				}
			}
			out = append(out, fieldPlan{index: idx, kind: kind})
		}
	}
	if t.Kind() == reflect.Struct {
		walk(t, nil)
	}
	plans.Store(t, out)
	return out
}

// links returns the entities m touches: its stream's own aggregate, the
// ids in its fields naming schools, ISLCs, proposals, resources and
// partnerships, registered people, and the acting person.
func (a *Audit) links(m domain.Message) []uint32 {
	var out []uint32
	add := func(i uint32) {
		for _, x := range out {
			if x == i {
				return
			}
		}
		out = append(out, i)
	}
	if kind, id, ok := streamEntity(m.Stream); ok {
		add(a.entity(kind, id))
	}
	if m.Event != nil {
		v := reflect.ValueOf(m.Event)
		for _, f := range planOf(v.Type()) {
			id := v.FieldByIndex(f.index).Interface().(uuid.UUID)
			if id == uuid.Nil {
				continue
			}
			switch {
			case f.kind != "":
				add(a.entity(f.kind, id))
			case a.persons[id]:
				add(a.entity(LinkPerson, id))
			}
		}
	}
	if actor, err := uuid.Parse(m.Meta.ActorID); err == nil && a.persons[actor] {
		add(a.entity(LinkPerson, actor))
	}
	// What the event touches belongs to its ISLC and school too (people
	// only through the event's own fields: a person's school is not
	// touched by their vote).
	for k := 0; k < len(out); k++ {
		if e := a.Entities[out[k]]; e.Parent != 0 && linkKinds[e.Kind] != LinkPerson {
			add(e.Parent - 1)
		}
	}
	a.nameThings(m)
	return out
}

// streamEntity returns the entity a stream belongs to ("proposal-<id>").
func streamEntity(stream string) (string, uuid.UUID, bool) {
	kind, rest, ok := strings.Cut(stream, "-")
	if !ok {
		return "", uuid.Nil, false
	}
	switch kind {
	case LinkSchool, LinkCommunity, LinkPerson, LinkProposal, LinkResource, LinkPartnership:
	default:
		return "", uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	if err != nil {
		return "", uuid.Nil, false
	}
	return kind, id, true
}

// nameThings keeps the names of schools, ISLCs and proposals (not
// personal data) for the entries' links.
func (a *Audit) nameThings(m domain.Message) {
	set := func(id uuid.UUID, name string) {
		if i, ok := a.entIndex[id]; ok {
			a.Entities[i].Name = name
		}
	}
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		set(e.SchoolID, e.Name)
	case governance.CommunityEstablished:
		set(e.CommunityID, e.Name)
	case governance.ProposalDrafted:
		set(e.ProposalID, e.Title)
	case governance.ProposalRevised:
		set(e.ProposalID, e.Title)
	}
}

// MarshalState implements projections.Projection. The audit view, whose
// state grows with every event, is written in a compact binary form
// (auditCodec) rather than as JSON: smaller and several times faster for
// the engine's checkpoints and snapshots.
func (a *Audit) MarshalState() ([]byte, error) { return a.encode(), nil }

// UnmarshalState implements projections.Projection. It also reads the
// binary form carried in a JSON string (base64), as version 1 wrote it.
func (a *Audit) UnmarshalState(b []byte) error {
	raw := b
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		var err error
		if raw, err = base64.StdEncoding.AppendDecode(nil, b[1:len(b)-1]); err != nil {
			return fmt.Errorf("audit state: %w: %v", errAuditState, err)
		}
	}
	return a.UnmarshalPieces([][]byte{raw})
}

// UnmarshalPieces implements projections.PiecesUnmarshaler: the binary
// state read from the pieces it was stored in, as if joined.
func (a *Audit) UnmarshalPieces(pieces [][]byte) error {
	fresh, err := decodeAudit(newAuditReader(pieces))
	if err != nil {
		return fmt.Errorf("audit state: %w", err)
	}
	fresh.index()
	*a = *fresh
	return nil
}

// auditCodec is the version byte of the audit view's binary state:
//
//	u8 version
//	uvarint n, then n strings          (uvarint length, bytes)
//	uvarint n, then n entities         (u8 kind, 16B id, uvarint parent, string name)
//	uvarint n, then n records          (uvarint position, 16B id, varint at, varint effective,
//	                                    uvarint stream, type, actor, role, reason (string indices),
//	                                    16B correlation, 16B causation, string summary,
//	                                    uvarint k, then k uvarint entity indices)
const auditCodec = 1

func (a *Audit) encode() []byte {
	n := a.Len()
	b := make([]byte, 0, 64+n*160)
	b = append(b, auditCodec)
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	b = binary.AppendUvarint(b, uint64(len(a.Strings)))
	for _, s := range a.Strings {
		str(s)
	}
	b = binary.AppendUvarint(b, uint64(len(a.Entities)))
	for _, e := range a.Entities {
		b = append(b, e.Kind)
		b = append(b, e.ID[:]...)
		b = binary.AppendUvarint(b, uint64(e.Parent))
		str(e.Name)
	}
	b = binary.AppendUvarint(b, uint64(n))
	for i := range n {
		r := a.rec(i)
		b = binary.AppendUvarint(b, r.Pos)
		b = append(b, r.ID[:]...)
		b = binary.AppendVarint(b, r.At)
		b = binary.AppendVarint(b, r.Eff)
		for _, x := range [...]uint32{r.Stream, r.Type, r.Actor, r.Role, r.Reason} {
			b = binary.AppendUvarint(b, uint64(x))
		}
		b = append(b, r.Corr[:]...)
		b = append(b, r.Cause[:]...)
		summary := a.textBytes(r.Summary)
		b = binary.AppendUvarint(b, uint64(len(summary)))
		b = append(b, summary...)
		links := a.linksOf(r)
		b = binary.AppendUvarint(b, uint64(len(links)))
		for _, l := range links {
			b = binary.AppendUvarint(b, uint64(l))
		}
	}
	return b
}

// errAuditState is returned for audit state bytes that do not decode.
var errAuditState = errors.New("malformed audit view state")

// auditReader reads a state held in pieces, in order, as if they were
// joined: a value that straddles two pieces is joined alone.
type auditReader struct {
	b    []byte   // what is left of the piece being read
	rest [][]byte // the pieces after it
	left int      // the bytes in rest
	err  error
}

func newAuditReader(pieces [][]byte) *auditReader {
	r := &auditReader{}
	if len(pieces) > 0 {
		r.b, r.rest = pieces[0], pieces[1:]
	}
	for _, p := range r.rest {
		r.left += len(p)
	}
	return r
}

// remaining is the bytes left to read.
func (r *auditReader) remaining() int { return len(r.b) + r.left }

// want makes the next n bytes (or all that are left, if fewer) one slice
// at r.b: the next piece once this one is read, or the few bytes of a
// value that straddles two pieces copied together.
func (r *auditReader) want(n int) {
	for len(r.b) == 0 && len(r.rest) > 0 {
		r.b, r.rest = r.rest[0], r.rest[1:]
		r.left -= len(r.b)
	}
	if len(r.b) >= n || len(r.rest) == 0 {
		return
	}
	joined := make([]byte, len(r.b), max(n, len(r.b)))
	copy(joined, r.b)
	for len(joined) < n && len(r.rest) > 0 {
		p := r.rest[0]
		take := min(n-len(joined), len(p))
		joined = append(joined, p[:take]...)
		r.left -= take
		if r.rest[0] = p[take:]; len(r.rest[0]) == 0 {
			r.rest = r.rest[1:]
		}
	}
	r.b = joined
}

func (r *auditReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	r.want(binary.MaxVarintLen64)
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errAuditState
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *auditReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	r.want(binary.MaxVarintLen64)
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errAuditState
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *auditReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(r.remaining()) < n {
		r.err = errAuditState
		return nil
	}
	r.want(int(n))
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *auditReader) str() string { return string(r.bytes(r.uvarint())) }

func (r *auditReader) id() (u uuid.UUID) {
	copy(u[:], r.bytes(16))
	return u
}

// count reads a count no larger than what the remaining bytes can hold
// at min bytes per item, so bad input cannot ask for a huge allocation.
func (r *auditReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(r.remaining()/min) {
		r.err = errAuditState
		return 0
	}
	return int(n)
}

func decodeAudit(r *auditReader) (*Audit, error) {
	if v := r.bytes(1); len(v) == 0 || v[0] != auditCodec {
		return nil, fmt.Errorf("%w: unknown version", errAuditState)
	}
	a := &Audit{}
	a.Strings = make([]string, r.count(1))
	for i := range a.Strings {
		a.Strings[i] = r.str()
	}
	a.Entities = make([]auditThing, r.count(19))
	for i := range a.Entities {
		e := &a.Entities[i]
		if k := r.bytes(1); len(k) == 1 {
			e.Kind = k[0]
		}
		e.ID = r.id()
		e.Parent = uint32(r.uvarint())
		e.Name = r.str()
		if r.err != nil {
			return nil, r.err
		}
		if int(e.Kind) >= len(linkKinds) || int(e.Parent) > len(a.Entities) {
			return nil, errAuditState
		}
	}
	// The smallest record takes 58 bytes: a one-byte position, times, five
	// string indexes, summary length and link count, and three 16-byte ids.
	n := r.count(58)
	a.Records = [][]auditRec{}
	// Summaries and links go straight into their arenas: a million events
	// make a few dozen allocations, not two million.
	var links []uint32
	for range n {
		var rec auditRec
		rec.Pos = r.uvarint()
		rec.ID = r.id()
		rec.At, rec.Eff = r.varint(), r.varint()
		for _, x := range []*uint32{&rec.Stream, &rec.Type, &rec.Actor, &rec.Role, &rec.Reason} {
			*x = uint32(r.uvarint())
			if r.err == nil && int(*x) >= len(a.Strings) {
				return nil, errAuditState
			}
		}
		rec.Corr, rec.Cause = r.id(), r.id()
		if summary := r.bytes(r.uvarint()); len(summary) > 0 {
			rec.Summary = a.putText(summary)
		}
		links = links[:0]
		for range r.count(1) {
			l := uint32(r.uvarint())
			if r.err == nil && int(l) >= len(a.Entities) {
				return nil, errAuditState
			}
			links = append(links, l)
		}
		rec.Links = a.putLinks(links)
		if r.err != nil {
			return nil, r.err
		}
		a.push(rec)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.remaining() != 0 {
		return nil, fmt.Errorf("%w: trailing bytes", errAuditState)
	}
	if len(a.Strings) == 0 {
		a.Strings = []string{""}
	}
	return a, nil
}

// AuditFilter selects audit entries; zero fields match everything. From
// and To bound the recorded time (From included, To excluded).
type AuditFilter struct {
	School    uuid.UUID
	Community uuid.UUID
	Person    uuid.UUID
	Type      string
	From, To  time.Time
}

// AuditLink is something an audit entry touches.
type AuditLink struct {
	Kind string    `json:"kind"`
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name,omitempty"`
}

// AuditEntry is one event of the audit timeline.
type AuditEntry struct {
	Position    uint64    `json:"position"`
	EventID     uuid.UUID `json:"event_id"`
	RecordedAt  time.Time `json:"recorded_at"`
	EffectiveAt time.Time `json:"effective_at"`
	Stream      string    `json:"stream"`
	Type        string    `json:"type"`
	// Actor is the acting person (Name set when a registered person) or
	// an id such as "system".
	Actor         AuditLink   `json:"actor"`
	ActorID       string      `json:"actor_id"`
	Role          string      `json:"role"`
	Reason        string      `json:"reason,omitempty"`
	CorrelationID uuid.UUID   `json:"correlation_id"`
	CausationID   uuid.UUID   `json:"causation_id,omitzero"`
	Summary       string      `json:"summary"`
	Links         []AuditLink `json:"links"`
}

// AuditPage is a page of the audit timeline. Next is the cursor of the
// next page (0 when there is none).
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    uint64       `json:"next"`
}

// Events returns up to limit entries f selects with a position greater
// than after, in position order, people named through names. limit <= 0
// means 100.
func (a *Audit) Events(f AuditFilter, after uint64, limit int, names PersonNames) AuditPage {
	if limit <= 0 {
		limit = 100
	}
	page := AuditPage{Entries: []AuditEntry{}}
	rec, n, typ, hasType, ok := a.candidates(f)
	if !ok {
		return page
	}
	start := sort.Search(n, func(k int) bool { return rec(k).Pos > after })
	for k := start; k < n; k++ {
		r := rec(k)
		if !a.matches(r, f, hasType, typ) {
			continue
		}
		if len(page.Entries) == limit {
			page.Next = page.Entries[limit-1].Position
			break
		}
		page.Entries = append(page.Entries, a.entry(r, names))
	}
	return page
}

// candidates returns the records f can select from, in position order:
// the shortest posting list among its entity filters, or every record;
// with f's event type as an index (hasType). ok is false when a filter
// names something the log has never seen, so nothing can match.
func (a *Audit) candidates(f AuditFilter) (rec func(k int) *auditRec, n int, typ uint32, hasType, ok bool) {
	var cand []uint32
	useAll := true
	for _, id := range []uuid.UUID{f.School, f.Community, f.Person} {
		if id == uuid.Nil {
			continue
		}
		i, found := a.entIndex[id]
		if !found {
			return nil, 0, 0, false, false
		}
		if p := a.postings[i]; useAll || len(p) < len(cand) {
			cand, useAll = p, false
		}
	}
	if hasType = f.Type != ""; hasType {
		var found bool
		if typ, found = a.strIndex[f.Type]; !found {
			return nil, 0, 0, false, false
		}
	}
	if useAll {
		return a.rec, a.Len(), typ, hasType, true
	}
	return func(k int) *auditRec { return a.rec(int(cand[k])) }, len(cand), typ, hasType, true
}

func (a *Audit) matches(r *auditRec, f AuditFilter, hasType bool, typ uint32) bool {
	if hasType && r.Type != typ {
		return false
	}
	if !f.From.IsZero() && r.At < f.From.UnixNano() {
		return false
	}
	if !f.To.IsZero() && r.At >= f.To.UnixNano() {
		return false
	}
	for _, id := range []uuid.UUID{f.School, f.Community, f.Person} {
		if id == uuid.Nil {
			continue
		}
		i := a.entIndex[id]
		found := false
		for _, l := range a.linksOf(r) {
			if l == i {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (a *Audit) link(i uint32, names PersonNames) AuditLink {
	e := a.Entities[i]
	l := AuditLink{Kind: linkKinds[e.Kind], ID: e.ID, Name: e.Name}
	if l.Kind == LinkPerson {
		l.Name = personRef(names, e.ID).Name
	}
	return l
}

func (a *Audit) entry(r *auditRec, names PersonNames) AuditEntry {
	at := time.Unix(0, r.At).UTC()
	eff := at
	if r.Eff != 0 {
		eff = time.Unix(0, r.Eff).UTC()
	}
	e := AuditEntry{Position: r.Pos, EventID: r.ID, RecordedAt: at, EffectiveAt: eff, Stream: a.Strings[r.Stream], Type: a.Strings[r.Type],
		ActorID: a.Strings[r.Actor], Role: a.Strings[r.Role], Reason: a.Strings[r.Reason], CorrelationID: r.Corr, CausationID: r.Cause,
		Summary: a.summaryOf(r), Links: make([]AuditLink, 0, r.Links.n)}
	if id, err := uuid.Parse(e.ActorID); err == nil {
		if i, ok := a.entIndex[id]; ok {
			e.Actor = a.link(i, names)
		} else {
			e.Actor = AuditLink{Kind: LinkPerson, ID: id}
		}
	}
	for _, l := range a.linksOf(r) {
		e.Links = append(e.Links, a.link(l, names))
	}
	return e
}

// LogEntry is one event of the log as the audit view indexes it: enough
// to decide whether a reader may see it before it is read from the store.
type LogEntry struct {
	Position uint64
	// RecordedAt is in nanoseconds since 1970.
	RecordedAt int64
	// Stream is the stream's number in the view; StreamOf gives its id.
	Stream uint32
}

// Scan calls fn with the events after position after, in the log's
// order, until fn returns false. The view holds every event of the log up
// to its position (a projection that cannot fold one stops there), so a
// reader of the log may pick the events to read with it instead of
// reading every one.
func (a *Audit) Scan(after uint64, fn func(e LogEntry) bool) {
	n := a.Len()
	i := sort.Search(n, func(k int) bool { return a.rec(k).Pos > after })
	for ; i < n; i++ {
		r := a.rec(i)
		if !fn(LogEntry{Position: r.Pos, RecordedAt: r.At, Stream: r.Stream}) {
			return
		}
	}
}

// StreamOf is the id of the stream numbered n by Scan.
func (a *Audit) StreamOf(n uint32) string { return a.Strings[n] }

// Len returns how many events the view holds.
func (a *Audit) Len() int {
	n := len(a.Records)
	if n == 0 {
		return 0
	}
	return (n-1)*auditChunk + len(a.Records[n-1])
}

// summary is a one-line account of m without personal names (people are
// in the entry's links, named at query time).
func (a *Audit) summary(m domain.Message) string {
	return summarize(m, func(id uuid.UUID) string {
		if i, ok := a.entIndex[id]; ok {
			return a.Entities[i].Name
		}
		return ""
	})
}

// Summary is a one-line account of m without personal names, naming
// schools, ISLCs and proposals by short id.
func Summary(m domain.Message) string {
	return summarize(m, func(uuid.UUID) string { return "" })
}

// SummaryNamed is Summary with schools, ISLCs and proposals named by
// nameOf ("" for a short id).
func SummaryNamed(m domain.Message, nameOf func(uuid.UUID) string) string {
	return summarize(m, nameOf)
}

// quorumText says a quorum rule in words.
func quorumText(q governance.Quorum) string {
	switch q.Rule {
	case governance.QuorumPercent:
		return fmt.Sprintf("%d%% of the members", q.Percent)
	case governance.QuorumCount:
		return fmt.Sprintf("%d members", q.Count)
	}
	return "a majority"
}

// summarize renders m's summary; nameOf returns the name of a school,
// ISLC or proposal, or "" to show its short id.
func summarize(m domain.Message, nameOf func(uuid.UUID) string) string {
	short := func(id uuid.UUID) string { return id.String()[:8] }
	thing := func(id uuid.UUID) string {
		if n := nameOf(id); n != "" {
			return n
		}
		return short(id)
	}
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		return fmt.Sprintf("School %s registered with %d segments", e.Name, len(e.Segments))
	case governance.SegmentAdded:
		return fmt.Sprintf("Segment %s added", e.Name)
	case governance.SegmentRenamed:
		return fmt.Sprintf("Segment %s renamed %s", e.OldName, e.Name)
	case governance.DirectorAppointed:
		return fmt.Sprintf("Director appointed at %s", thing(e.SchoolID))
	case governance.AcademicYearOpened:
		return fmt.Sprintf("Academic year %s opened at %s", e.Year, thing(e.SchoolID))
	case governance.StaffRegistered:
		return fmt.Sprintf("Staff member (%s) registered at %s", e.Kind, thing(e.SchoolID))
	case governance.GovernorRegistered:
		return fmt.Sprintf("Governor registered at %s", thing(e.SchoolID))
	case governance.AdvisoryContactRegistered:
		return fmt.Sprintf("Advisory contact registered at %s", thing(e.SchoolID))
	case governance.PersonDetailsAmended:
		return "Personal details amended"
	case governance.PersonLeftSchool:
		return fmt.Sprintf("Left %s on %s", thing(e.SchoolID), e.LeftOn.Format(time.DateOnly))
	case governance.StrengthsAssessed:
		return fmt.Sprintf("Strengths assessed for %s", e.Year)
	case governance.CommunityEstablished:
		return fmt.Sprintf("ISLC %s established", e.Name)
	case governance.MemberJoined:
		return fmt.Sprintf("Joined ISLC %s for %s (%s)", thing(e.CommunityID), e.Year, strings.Join(e.Basis, ", "))
	case governance.MemberLeft:
		if e.Exception != "" {
			return fmt.Sprintf("Left ISLC %s for %s early (%s)", thing(e.CommunityID), e.Year, e.Exception)
		}
		return fmt.Sprintf("Left ISLC %s for %s", thing(e.CommunityID), e.Year)
	case governance.RosterConfirmed:
		return fmt.Sprintf("Roster of ISLC %s for %s confirmed: %d members, %d continuing", thing(e.CommunityID), e.Year, len(e.Members), len(e.Continuing))
	case governance.GovernorLinked:
		return fmt.Sprintf("Governor linked to ISLC %s", thing(e.CommunityID))
	case governance.AdvisoryGroupLinked:
		return fmt.Sprintf("Advisory group %s linked to ISLC %s", e.Name, thing(e.CommunityID))
	case governance.ElectionOpened:
		return fmt.Sprintf("Election %s of the chair of ISLC %s for %s opened (%s ballot, %d electors)", short(e.ElectionID), thing(e.CommunityID), e.Year, e.Ballot, len(e.Electorate))
	case governance.CandidateNominated:
		return fmt.Sprintf("Candidate nominated in election %s", short(e.ElectionID))
	case governance.NominationAccepted:
		return fmt.Sprintf("Nomination accepted in election %s", short(e.ElectionID))
	case governance.NominationDeclined:
		return fmt.Sprintf("Nomination declined in election %s", short(e.ElectionID))
	case governance.VotingOpened:
		return fmt.Sprintf("Voting opened in election %s between %d candidates", short(e.ElectionID), len(e.Candidates))
	case governance.VoteCast:
		return fmt.Sprintf("Vote cast in election %s", short(e.ElectionID))
	case governance.CandidateWithdrawn:
		return fmt.Sprintf("Candidate withdrawn from election %s (%s)", short(e.ElectionID), e.Reason)
	case governance.ElectionClosed:
		return fmt.Sprintf("Election %s closed: %d of %d voted", short(e.ElectionID), e.Turnout, e.ElectorateSize)
	case governance.ElectionFailed:
		return fmt.Sprintf("Election %s failed (%s): %d of %d voted, %d needed", short(e.ElectionID), e.Reason, e.Turnout, e.ElectorateSize, e.QuorumRequired)
	case governance.ChairElected:
		return fmt.Sprintf("Chair of ISLC %s elected for %s", thing(e.CommunityID), e.Year)
	case governance.RunOffCalled:
		return fmt.Sprintf("Run-off %s called after a tie in election %s", short(e.RunOffID), short(e.ElectionID))
	case governance.ChairRewardRecorded:
		return fmt.Sprintf("Chair's reward for %s recorded", e.Year)
	case governance.ConfidenceVoteCalled:
		return fmt.Sprintf("Confidence vote %s called in ISLC %s", short(e.VoteID), thing(e.CommunityID))
	case governance.ConfidenceVoteCast:
		return fmt.Sprintf("Vote cast in confidence vote %s", short(e.VoteID))
	case governance.ConfidenceVoteClosed:
		return fmt.Sprintf("Confidence vote %s closed: %s (%d of %d voted)", short(e.VoteID), e.Outcome, e.Turnout, e.ElectorateSize)
	case governance.ChairRemoved:
		return fmt.Sprintf("Chair of ISLC %s removed after confidence vote %s", thing(e.CommunityID), short(e.VoteID))
	case governance.ChairVacated:
		return fmt.Sprintf("Chair of ISLC %s vacated (%s)", thing(e.CommunityID), e.Reason)
	case governance.ProposalDrafted:
		return fmt.Sprintf("Proposal %q drafted by ISLC %s", e.Title, thing(e.CommunityID))
	case governance.ProposalRevised:
		return fmt.Sprintf("Proposal revised as version %d: %q", e.Version, e.Title)
	case governance.ProposalSubmitted:
		return fmt.Sprintf("Proposal %s version %d submitted to the Leadership Team", thing(e.ProposalID), e.Version)
	case governance.AdviceGiven:
		return fmt.Sprintf("Advice from %s on proposal %s: %s", e.GroupName, thing(e.ProposalID), e.Stance)
	case governance.ProposalApproved:
		return fmt.Sprintf("Proposal %s version %d approved by the Leadership Team", thing(e.ProposalID), e.Version)
	case governance.ProposalReturned:
		return fmt.Sprintf("Proposal %s version %d sent back for revision", thing(e.ProposalID), e.Version)
	case governance.TeamResolutionOpened:
		return fmt.Sprintf("Leadership Team vote on proposal %s version %d opened (round %d, %d members)", thing(e.ProposalID), e.Version, e.Round, len(e.Team))
	case governance.TeamVoteCast:
		return fmt.Sprintf("Leadership Team member voted %s on proposal %s (round %d)", strings.ReplaceAll(e.Vote, "_", " "), thing(e.ProposalID), e.Round)
	case governance.TeamVoteClosed:
		return fmt.Sprintf("Leadership Team vote on proposal %s closed: %d to approve, %d to send back, %d of %d voted (quorum %d); outcome %s",
			thing(e.ProposalID), e.Approve, e.SendBack, e.Turnout, len(e.TeamInOffice), e.QuorumRequired, strings.ReplaceAll(e.Outcome, "_", " "))
	case governance.ResolutionSignedOff:
		return fmt.Sprintf("Director signed off the Leadership Team's decision to %s proposal %s", strings.ReplaceAll(e.Outcome, "_", " "), thing(e.ProposalID))
	case governance.ResolutionReferredBack:
		return fmt.Sprintf("Director referred the Leadership Team's vote on proposal %s back to the Team", thing(e.ProposalID))
	case governance.TeamQuorumSet:
		return fmt.Sprintf("Leadership Team quorum of %s set to %s", thing(e.SchoolID), quorumText(e.Quorum))
	case governance.TieBreakSet:
		return fmt.Sprintf("Tied elections at %s settled by %d run-offs, then the Director's casting vote", thing(e.SchoolID), e.RunOffs)
	case governance.CastingVoteAwaited:
		return fmt.Sprintf("Election %s tied after %d run-offs: the Director's casting vote is due", short(e.ElectionID), e.RunOffs)
	case governance.CastingVoteCast:
		return fmt.Sprintf("Director's casting vote in election %s of ISLC %s", short(e.ElectionID), thing(e.CommunityID))
	case governance.DirectorLeft:
		return fmt.Sprintf("Director left %s on %s", thing(e.SchoolID), e.LeftOn.Format(time.DateOnly))
	case governance.ChallengeRaised:
		return fmt.Sprintf("Governor challenged the Director on %s %s, due %s", e.Subject.Kind, short(e.Subject.ID), e.DueOn.Format(time.DateOnly))
	case governance.ChallengeAnswered:
		if e.Late {
			return fmt.Sprintf("Director answered challenge %s, late", short(e.ChallengeID))
		}
		return fmt.Sprintf("Director answered challenge %s", short(e.ChallengeID))
	case governance.TriadFormed:
		return fmt.Sprintf("Peer coaching triad formed for %s", e.Year)
	case governance.DesignCommunityJoined:
		return fmt.Sprintf("Joined design community %s for %s", e.Name, e.Year)
	case governance.LearningPathwayJoined:
		return fmt.Sprintf("Joined learning pathway %s for %s", e.Name, e.Year)
	case partnership.ResourceRegistered:
		return fmt.Sprintf("Resource %s (%s) registered for sharing", e.Name, e.Kind)
	case partnership.LoanRequested:
		return fmt.Sprintf("Loan %s requested from %s to %s: %s", short(e.LoanID), e.Start.UTC().Format(time.DateTime), e.End.UTC().Format(time.DateTime), e.Purpose)
	case partnership.LoanApproved:
		return fmt.Sprintf("Loan %s approved by the owning school", short(e.LoanID))
	case partnership.LoanDeclined:
		return fmt.Sprintf("Loan %s declined by the owning school", short(e.LoanID))
	case partnership.LoanCancelled:
		return fmt.Sprintf("Loan %s cancelled (was %s)", short(e.LoanID), e.WasStatus)
	case partnership.LoanCollected:
		return fmt.Sprintf("Loan %s collected", short(e.LoanID))
	case partnership.LoanReturned:
		late := ""
		if e.Late {
			late = ", late"
		}
		return fmt.Sprintf("Loan %s returned in %s condition%s", short(e.LoanID), e.Condition, late)
	case domain.EventCorrected:
		if e.Retracted {
			return fmt.Sprintf("%s %s retracted", e.CorrectsType, short(e.Corrects))
		}
		return fmt.Sprintf("%s %s corrected", e.CorrectsType, short(e.Corrects))
	}
	return fmt.Sprintf("%s in %s", m.Type, m.Stream)
}
