package views

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/projections"
)

// PersonNames resolves a person's id to the name a view shows. Views
// never call each other while folding; a query that shows people takes a
// PersonNames from its caller, usually the "people" view read at the same
// moment (Reader.PersonNames). A nil PersonNames shows ids only.
type PersonNames interface {
	// Name returns the person's display name, domain.ErasedName for an
	// erased person, or "" for an id it does not know.
	Name(id uuid.UUID) string
}

// NameMap is a PersonNames held in a map: a copy of the "people" view's names
// that outlives the read that made it.
type NameMap map[uuid.UUID]string

// Name implements PersonNames.
func (m NameMap) Name(id uuid.UUID) string { return m[id] }

// Ref names something a view shows: its id and its display name, so the
// API and the web pages can render it without another lookup.
type Ref struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// personRef returns the Ref of person id through names (nil: id only).
func personRef(names PersonNames, id uuid.UUID) Ref {
	if names == nil || id == uuid.Nil {
		return Ref{ID: id}
	}
	return Ref{ID: id, Name: names.Name(id)}
}

// personRefs returns the Refs of ids through names.
func personRefs(names PersonNames, ids []uuid.UUID) []Ref {
	out := make([]Ref, len(ids))
	for i, id := range ids {
		out[i] = personRef(names, id)
	}
	return out
}

// optPersonRef is personRef, nil for the zero id.
func optPersonRef(names PersonNames, id uuid.UUID) *Ref {
	if id == uuid.Nil {
		return nil
	}
	r := personRef(names, id)
	return &r
}

// Names returns the names of people as read at a, each opened when first
// asked for: a page of a list shows a few dozen people, and opening the
// whole register's names (thousands, each decrypted) cost more than the
// page. Names come from a "people" view standing at the reading itself —
// the pinned one of a pinned reader, the live one for a live reading or
// a reading at the position it stands at — and otherwise from that
// reading's whole name map (PersonNames), copied once when first needed.
// The result is for one goroutine. An error reading the names shows ids
// only (the view read at a reports the same error).
func (r *Reader) Names(ctx context.Context, a AsOf) PersonNames {
	return &lazyNames{r: r, ctx: ctx, a: a, seen: make(map[uuid.UUID]string, 256)}
}

type lazyNames struct {
	r    *Reader
	ctx  context.Context
	a    AsOf
	seen map[uuid.UUID]string
	then NameMap
}

// Name implements PersonNames.
func (n *lazyNames) Name(id uuid.UUID) string {
	if name, ok := n.seen[id]; ok {
		return name
	}
	if n.then != nil {
		return n.then[id]
	}
	name, ok := n.open(id)
	if !ok {
		then, err := n.r.PersonNames(n.ctx, n.a)
		if err != nil {
			return ""
		}
		n.then = then
		return then[id]
	}
	n.seen[id] = name
	return name
}

// open opens id's name from a "people" view standing at the reading, and
// reports whether there was one.
func (n *lazyNames) open(id uuid.UUID) (string, bool) {
	var keys domain.Keyring
	if n.r.Codec != nil {
		keys = n.r.Codec.Keys
	}
	if p, ok := n.r.pinned[PeopleView].(*People); ok && n.a == n.r.pinAt {
		return p.NameOf(keys, id), true
	}
	var name string
	open := func(p projections.Projection) error {
		if people, ok := p.(*People); ok {
			name = people.NameOf(keys, id)
		}
		return nil
	}
	if n.r.lensed[PeopleView] && n.a == n.r.pinAt {
		// A pinned reader reads the live view in place as of its
		// moment (projections.Engine.ViewPast).
		if done, err := n.r.Engine.ViewPast(PeopleView, n.r.lensPos, open); done && err == nil {
			return name, true
		}
	}
	if n.r.Engine == nil || n.a.Corrected || !n.a.Time.IsZero() {
		return "", false
	}
	if n.a.Position == 0 {
		_, err := n.r.Engine.View(PeopleView, open)
		return name, err == nil
	}
	done, err := n.r.Engine.ViewAt(PeopleView, n.a.Position, open)
	return name, done && err == nil
}

// PersonNames reads the "people" view at a and returns a copy of its
// names, opened with the Reader's keyring (so a person erased since shows
// domain.ErasedName at once). Returns the errors of View.
func (r *Reader) PersonNames(ctx context.Context, a AsOf) (NameMap, error) {
	var keys domain.Keyring
	if r.Codec != nil {
		keys = r.Codec.Keys
	}
	var out NameMap
	_, err := Read(ctx, r, PeopleView, a, func(p *People) error {
		out = p.NameMap(keys)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("names: %w", err)
	}
	return out, nil
}

// openName opens a person's sealed personal data with keys and returns
// their name and whether they were erased; "" when keys is nil or the
// data cannot be opened.
func openName(keys domain.Keyring, id uuid.UUID, sealed []byte) (string, bool) {
	if keys == nil || len(sealed) == 0 {
		return "", false
	}
	plain, err := keys.Open(id.String(), sealed)
	if errors.Is(err, domain.ErrErased) {
		return domain.ErasedName, true
	}
	if err != nil {
		return "", false
	}
	name, ok := plainName(plain)
	if !ok {
		return "", false
	}
	return name, false
}

// plainName reads the name from opened personal data, a JSON object.
// The domain writes the name first: when it has nothing escaped it is
// taken as it stands (a school's read opens every staff member's name);
// anything else goes through the decoder.
func plainName(plain []byte) (string, bool) {
	const lead = `{"name":"`
	if rest, ok := bytes.CutPrefix(plain, []byte(lead)); ok {
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i]), true
		}
	}
	var p struct {
		Name string `json:"name"`
	}
	if unmarshalState(plain, &p) != nil {
		return "", false
	}
	return p.Name, true
}

// govMarshal and govUnmarshal are the JSON encodings of the governance
// views' states: maps have uuid or string keys (sorted by encoding/json)
// and slices are kept in fold order, so equal states give equal bytes.
func govMarshal(v any) ([]byte, error) { return jsonv2.Marshal(v, jsonV1) }

func govUnmarshal(b []byte, v any) error { return jsonv2.Unmarshal(b, v, jsonV1) }
