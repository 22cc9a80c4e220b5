// Package views holds Concord's read models: one projection per view
// (communities, Leadership Team, elections, proposals, resources, loans,
// progress, accountability, celebrating, the audit timeline…), each a pure
// fold of the global log, and a Reader that answers any of them live, as
// known at a past position or time, or as corrected now.
package views

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/projections"
)

var (
	regMu    sync.Mutex
	registry = map[string]projections.Factory{}
)

// register adds a view's factory; each view file calls it from init.
// It panics on a duplicate name (a programming error caught by every test).
func register(f projections.Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	name := f().Name()
	if _, dup := registry[name]; dup {
		panic("views: duplicate view " + name)
	}
	registry[name] = f
}

// All returns the factories of every view, ordered by name, for
// projections.Open.
func All() []projections.Factory {
	regMu.Lock()
	defer regMu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]projections.Factory, len(names))
	for i, n := range names {
		out[i] = registry[n]
	}
	return out
}

// Names returns the names of every view, sorted.
func Names() []string {
	fs := All()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f().Name()
	}
	return out
}

func factory(name string) (projections.Factory, bool) {
	regMu.Lock()
	defer regMu.Unlock()
	f, ok := registry[canonical(name)]
	return f, ok
}

// Names of views read under another view's name.
const (
	ResourcesView = "resources"
	// LoansView is the "resources" view read for its loans (Loans).
	LoansView = "loans"
)

// Retired are the names of projections no longer kept (their stored
// states are dropped: see projections.Options.Retired): "loans" was a
// projection of its own, the same state as "resources".
var Retired = []string{LoansView}

// aliases maps the other names of views to the projection that answers
// them.
var aliases = map[string]string{LoansView: ResourcesView}

// Canonical returns the name of the projection that answers view name
// (the projections engine knows views by it): "resources" for "loans",
// name itself for the others.
func Canonical(name string) string { return canonical(name) }

func canonical(name string) string {
	if c, ok := aliases[name]; ok {
		return c
	}
	return name
}

// AsOf says which reading of the ledger a query wants. The zero value is
// "now, live". Position (if not zero) or else Time (if not zero) select
// the ledger as known then; Corrected selects today's knowledge with every
// correction applied from its effective date, up to Time (zero: no limit).
type AsOf struct {
	Position  uint64
	Time      time.Time
	Corrected bool
}

// Live reports whether a is the live, current reading.
func (a AsOf) Live() bool { return a.Position == 0 && a.Time.IsZero() && !a.Corrected }

// Describe says in words which reading a is, for banners and report footers.
func (a AsOf) Describe() string {
	switch {
	case a.Corrected && a.Time.IsZero():
		return "as corrected now"
	case a.Corrected:
		return "as corrected now, effective on " + a.Time.UTC().Format(time.RFC3339)
	case a.Position != 0:
		return fmt.Sprintf("as known at ledger position %d", a.Position)
	case !a.Time.IsZero():
		return "as known on " + a.Time.UTC().Format(time.RFC3339)
	}
	return "now"
}

// jsonV1 (un)marshals view states with encoding/json's semantics at
// about twice its speed.
var jsonV1 = jsonv1.DefaultOptionsV1()

// ErrUnknownView is returned for a view name that is not registered.
var ErrUnknownView = errors.New("views: unknown view")

// Reader answers views live or as of a past moment.
type Reader struct {
	Engine *projections.Engine
	Store  eventstore.Store
	Codec  *domain.Codec
	// Erasures, when set, counts the personal keys destroyed so far, and
	// is raised after each is destroyed. An answer that names people may
	// be kept (see Memo) while it stands as it was when the answer was
	// worked out: a name opened before an erasure is not shown after it.
	Erasures func() uint64

	// A pinned reader (see At) serves readings at pinAt from pinned, and
	// those of the views in lensed from the live views, read in place as
	// of lensPos (projections.Engine.ViewPast); both reflect pinPos.
	pinAt   AsOf
	pinPos  uint64
	pinned  map[string]projections.Projection
	lensed  map[string]bool
	lensPos uint64

	memoOnce sync.Once
	memo     *Memo
}

// At returns a Reader that serves every reading at a of the named views
// (every view when none is named) from states folded once, in one pass
// over the log, for all of them together; other readings go through as
// usual. Use it to read many views at one past moment (a report, a page):
// it decodes each event once instead of once per view. A live a returns
// r itself. The returned Reader must not be used after the caller is done
// with the moment; several goroutines may read it at once.
//
// A view that can be read in place as of the moment (projections.Lensed,
// and the live view has folded it) is not folded at all: its readings
// look its rows up in the live view as they were then. As corrected now,
// so is one that folds none of the events after the start of the log
// the reading keeps whole (projections.Engine.AsCorrectedRead).
func (r *Reader) At(ctx context.Context, a AsOf, names ...string) (*Reader, error) {
	if a.Live() {
		return r, nil
	}
	if len(names) == 0 {
		names = Names()
	}
	names = canonicalNames(names)
	out := &Reader{Engine: r.Engine, Store: r.Store, Codec: r.Codec, pinAt: a}
	switch {
	case a.Corrected:
		for _, n := range names {
			if _, ok := factory(n); !ok {
				return nil, fmt.Errorf("%w: %q", ErrUnknownView, n)
			}
		}
		if r.Engine != nil {
			rd, err := r.Engine.AsCorrectedRead(ctx, names, a.Time)
			if err != nil {
				return nil, fmt.Errorf("views as corrected: %w", err)
			}
			out.pinned, out.pinPos, out.lensed, out.lensPos = rd.States, rd.Head, rd.Lensed, rd.At
			return out, nil
		}
		all, pos, err := r.corrected(ctx, names, a.Time)
		if err != nil {
			return nil, fmt.Errorf("views as corrected: %w", err)
		}
		out.pinned, out.pinPos = all, pos
	default:
		pos := a.Position
		if pos == 0 {
			p, err := r.Store.PositionAt(ctx, a.Time)
			if err != nil {
				return nil, fmt.Errorf("views as of %s: %w", a.Time.Format(time.RFC3339), err)
			}
			pos = p
		}
		fold := make([]string, 0, len(names))
		out.lensed = map[string]bool{}
		for _, n := range names {
			if r.Engine.CanViewPast(n, pos) {
				out.lensed[n] = true
			} else {
				fold = append(fold, n)
			}
		}
		all, err := r.Engine.AsOfAll(ctx, fold, pos)
		if err != nil {
			return nil, fmt.Errorf("views as of position %d: %w", pos, err)
		}
		out.pinned, out.pinPos, out.lensPos = all, pos, pos
	}
	return out, nil
}

// canonicalNames returns names with each alias replaced by the view that
// answers it, each once, in order.
func canonicalNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if c := canonical(n); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// View calls fn with the view named name as read at a, and returns the
// ledger position the state reflects. fn must not keep the projection
// after it returns (the live one is shared and read-locked during fn).
// Returns ErrUnknownView for an unknown name and projections.ErrFutureAsOf
// for a position beyond the log.
func (r *Reader) View(ctx context.Context, name string, a AsOf, fn func(projections.Projection) error) (uint64, error) {
	name = canonical(name)
	if _, ok := factory(name); !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownView, name)
	}
	if p, ok := r.pinned[name]; ok && a == r.pinAt {
		return r.pinPos, fn(p)
	}
	if r.lensed[name] && a == r.pinAt {
		if done, err := r.Engine.ViewPast(name, r.lensPos, fn); done || err != nil {
			return r.pinPos, err
		}
	}
	switch {
	case a.Corrected:
		all, pos, err := r.corrected(ctx, []string{name}, a.Time)
		if err != nil {
			return 0, fmt.Errorf("view %s as corrected: %w", name, err)
		}
		return pos, fn(all[name])
	case a.Position != 0:
		if done, err := r.Engine.ViewAt(name, a.Position, fn); done || err != nil {
			return a.Position, err
		}
		p, err := r.Engine.AsOf(ctx, name, a.Position)
		if err != nil {
			return 0, fmt.Errorf("view %s as of position %d: %w", name, a.Position, err)
		}
		return a.Position, fn(p)
	case !a.Time.IsZero():
		p, pos, err := r.Engine.AsOfTime(ctx, name, a.Time)
		if err != nil {
			return 0, fmt.Errorf("view %s as of %s: %w", name, a.Time.Format(time.RFC3339), err)
		}
		return pos, fn(p)
	}
	return r.Engine.View(name, fn)
}

// corrected reads the views named as corrected now at until: through the
// engine (its snapshots stand for the start of the log that needs no
// correction) when the reader has one, else folded from zero.
func (r *Reader) corrected(ctx context.Context, names []string, until time.Time) (map[string]projections.Projection, uint64, error) {
	if r.Engine != nil {
		return r.Engine.AsCorrectedAll(ctx, names, until)
	}
	out := make(map[string]projections.Projection, len(names))
	ps := make([]projections.Projection, 0, len(names))
	for _, n := range names {
		f, _ := factory(n)
		p := f()
		out[n] = p
		ps = append(ps, p)
	}
	pos, err := projections.FoldCorrectedAll(ctx, r.Store, r.Codec, ps, until)
	return out, pos, err
}

// Read is View for a caller that wants the view's concrete type V.
func Read[V projections.Projection](ctx context.Context, r *Reader, name string, a AsOf, fn func(V) error) (uint64, error) {
	return r.View(ctx, name, a, func(p projections.Projection) error {
		v, ok := p.(V)
		if !ok {
			return fmt.Errorf("views: %s is %T, not the type asked for", name, p)
		}
		return fn(v)
	})
}
