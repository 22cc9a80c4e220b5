// Package ledger assembles a running Concord ledger from a data directory:
// the event store (the embedded segment log, or KurrentDB), the keyring that
// seals personal data, the codec and command handler, the governance and
// partnership services, the projection engine with every view, and the
// transparency log. The HTTP API, the web pages and the command line all
// open the ledger through Open, so they see one wiring.
//
// Layout of a data directory:
//
//	events/          the segment store (absent with KurrentDB)
//	keys/            per-person keys (eventstore/keyring)
//	ballots/         per-ballot keys, destroyed at close; never backed up
//	projections.db   projection checkpoints and snapshots
//	checkpoint.key   the ed25519 key that signs checkpoints (and .pub)
//	merkle/          the Merkle tree's stored nodes
//	witnesses        trusted witnesses' verifier keys
//	tokens.db        API tokens and Idempotency-Key records (package api)
//
// The directory is the ledger user's alone: Open makes it 0700 and every
// directory in it 0700 and every file 0600, tightening what an older
// version left more open.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/keyring"
	"github.com/concord-ledger/concord/eventstore/kurrentdb"
	"github.com/concord-ledger/concord/eventstore/memory"
	"github.com/concord-ledger/concord/eventstore/segment"
	"github.com/concord-ledger/concord/eventstore/transparency"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
)

// Names inside a data directory.
const (
	EventsDir       = "events"
	ProjectionsFile = "projections.db"
)

// Config says where the ledger lives and how it runs. The zero value is an
// in-memory ledger (for tests and trials): nothing survives Close.
type Config struct {
	// DataDir holds the ledger's files; "" keeps everything in memory.
	DataDir string
	// KurrentDBURL, when set, stores events in KurrentDB instead of the
	// embedded segment log (keys, projections and the Merkle tree stay in
	// DataDir, which is then required).
	KurrentDBURL string
	// KurrentDBPrefix is the stream prefix on a shared KurrentDB server.
	KurrentDBPrefix string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives diagnostics (default slog.Default()).
	Logger *slog.Logger
	// NoTransparency skips the Merkle log and signed checkpoints.
	NoTransparency bool
	// Transparency configures the Merkle log (Logger defaults to Logger).
	Transparency transparency.Options
	// Projections configures the projection engine (Logger defaults to Logger).
	Projections projections.Options
	// Segment configures the embedded store (Now and Logger default to the above).
	Segment segment.Options
	// WrapStore, when set, decorates the store the command handler writes
	// through (metrics, tracing). Ledger.Store stays the undecorated store,
	// so backend-specific features (backups) remain reachable.
	WrapStore func(eventstore.Store) eventstore.Store
}

// Keys is the keyring the ledger seals personal data and ballots with.
type Keys interface {
	domain.Keyring
	// Erase destroys subject's key for good (crypto-shredding).
	Erase(subject string) error
	// IsErased reports whether subject's key was destroyed.
	IsErased(subject string) bool
}

// Ledger is an open ledger. Its fields are ready to use until Close.
type Ledger struct {
	Store       eventstore.Store
	Keys        Keys
	Codec       *domain.Codec
	Handler     *domain.Handler
	Governance  *governance.Service
	Partnership *partnership.Service
	Directory   *governance.Directory
	Engine      *projections.Engine
	Views       *views.Reader
	// Log is the transparency log; nil with NoTransparency.
	Log     *transparency.Log
	DataDir string
	// Backend names the event store: "segment", "kurrentdb" or "memory".
	Backend string

	logger  *slog.Logger
	now     func() time.Time
	tmpDir  string // an in-memory ledger's scratch directory, removed by Close
	closers []func() error
	// erasures counts the personal keys Erase destroyed (views.Reader.Erasures).
	erasures atomic.Uint64
}

// Open opens (creating if needed) the ledger described by cfg and restores
// every projection from its checkpoint; call Run or CatchUp to bring them
// up to date. On error, whatever was opened is closed again.
func Open(ctx context.Context, cfg Config) (_ *Ledger, err error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	l := &Ledger{DataDir: cfg.DataDir, logger: logger}
	defer func() {
		if err != nil {
			_ = l.Close()
		}
	}()

	dir := cfg.DataDir
	if dir == "" {
		if cfg.KurrentDBURL != "" {
			return nil, errors.New("open ledger: KurrentDB needs a data directory for keys and projections")
		}
		tmp, err := os.MkdirTemp("", "concord-memory-")
		if err != nil {
			return nil, fmt.Errorf("open ledger: %w", err)
		}
		l.closers = append(l.closers, func() error { return os.RemoveAll(tmp) })
		l.tmpDir, dir = tmp, tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open ledger: create data directory: %w", err)
	} else if err := TightenDataDir(dir); err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}

	// The event store.
	switch {
	case cfg.KurrentDBURL != "":
		s, err := kurrentdb.Open(ctx, cfg.KurrentDBURL, kurrentdb.Options{StreamPrefix: cfg.KurrentDBPrefix, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("open ledger: connect to KurrentDB: %w", err)
		}
		l.Store, l.Backend = s, "kurrentdb"
	case cfg.DataDir == "":
		l.Store, l.Backend = memory.New(memory.Options{Now: now}), "memory"
	default:
		so := cfg.Segment
		if so.Now == nil {
			so.Now = now
		}
		if so.Logger == nil {
			so.Logger = logger
		}
		if so.RepairHint == "" {
			so.RepairHint = RepairCommand(dir)
		}
		s, err := segment.Open(ctx, filepath.Join(dir, EventsDir), so)
		if err != nil {
			return nil, fmt.Errorf("open ledger: open the event store: %w", err)
		}
		l.Store, l.Backend = s, "segment"
	}
	l.closers = append(l.closers, l.Store.Close)

	// Keys, codec, handler, services.
	var ballots governance.BallotKeys
	if cfg.DataDir == "" {
		l.Keys = memoryKeys{domain.NewMemoryKeyring()}
		ballots = l.Keys
	} else {
		k, err := keyring.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("open ledger: open the keyring: %w", err)
		}
		l.Keys = k
		l.closers = append(l.closers, k.Close)
		bk, err := openBallotKeys(ctx, l.Store, dir, k, logger)
		if err != nil {
			return nil, fmt.Errorf("open ledger: open the ballot keys: %w", err)
		}
		ballots = bk
		l.closers = append(l.closers, bk.Close)
	}
	l.Codec = &domain.Codec{Keys: l.Keys}
	writeStore := l.Store
	if cfg.WrapStore != nil {
		writeStore = cfg.WrapStore(l.Store)
	}
	l.Handler = domain.NewHandler(domainlog.Log{Store: writeStore}, l.Codec)
	l.Handler.Now = now
	l.now = now
	l.Governance = governance.NewService(l.Handler, governance.KeyringBallotBox{Keys: ballots})
	l.Directory = governance.NewDirectory(l.Handler)
	l.Partnership = partnership.NewService(l.Handler, l.Directory)
	// Leaving a school ends the teacher's secondments from it too, and
	// governors may challenge loans.
	l.Governance.AddLeavers(l.Partnership)
	l.Governance.SetLoans(l.Partnership)

	// Transparency log before projections, so that it closes after them
	// (closers run in reverse) but before the store.
	if !cfg.NoTransparency {
		to := cfg.Transparency
		if to.Logger == nil {
			to.Logger = logger
		}
		tl, err := transparency.Open(ctx, l.Store, dir, to)
		if err != nil {
			return nil, fmt.Errorf("open ledger: open the transparency log: %w", err)
		}
		l.Log = tl
		l.closers = append(l.closers, tl.Close)
	}

	po := cfg.Projections
	if po.Logger == nil {
		po.Logger = logger
	}
	po.Retired = append(po.Retired, views.Retired...)
	eng, err := projections.Open(l.Store, l.Codec, filepath.Join(dir, ProjectionsFile), po, views.All()...)
	if err != nil {
		return nil, fmt.Errorf("open ledger: open projections: %w", err)
	}
	l.Engine = eng
	l.closers = append(l.closers, eng.Close)
	l.Views = &views.Reader{Engine: eng, Store: l.Store, Codec: l.Codec, Erasures: l.erasures.Load}
	return l, nil
}

// Run follows the log into every projection until ctx ends; it returns
// nil when ctx ends, or the error that stopped it. It first catches up in
// batches (CatchUp), the faster way over many events, then warms the
// readings in the past (Warm).
func (l *Ledger) Run(ctx context.Context) error {
	err := l.CatchUp(ctx)
	if err == nil {
		l.Warm(ctx)
		err = l.Engine.Run(ctx)
	}
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}

// CatchUp brings every projection up to the log's head once.
//
// A catch-up that folds many events (a replay from zero, or a restart far
// behind the log) leaves the fold's garbage behind: at a million events,
// about as much again as the views themselves. Left to the collector,
// the heap would stay sized to the replay, and the first collection would
// come late and large, in the middle of the first readings. So such a
// catch-up collects at once and returns the freed memory to the
// operating system, before the ledger serves.
func (l *Ledger) CatchUp(ctx context.Context) error {
	from := l.lowest(ctx)
	if err := l.Engine.CatchUp(ctx); err != nil {
		return fmt.Errorf("catch up projections: %w", err)
	}
	if to := l.lowest(ctx); to >= from+releaseAfter {
		release()
	}
	return nil
}

// Warm reads each partnership's report once in the past in each reading,
// and throws them away: as known then half way through the log, and as
// corrected now half way between the partnership's forming and now (for
// a partnership that did not exist yet then, at the head and now). Views
// read back from their checkpoints build some indexes at their first
// reading in the past (the books of loans and of CPD, the index of
// decisions): half a second at a million events, which the first reader
// after a restart would otherwise wait. A reading that fails is logged;
// nothing else depends on it. It returns the readings made.
func (l *Ledger) Warm(ctx context.Context) int {
	head, err := l.Store.Head(ctx)
	if err != nil || head < 2 {
		return 0
	}
	var list []views.PartnershipInfo
	if _, err := views.Read(ctx, l.Views, "partnerships", views.AsOf{}, func(v *views.Partnerships) error {
		list = v.List(nil)
		return nil
	}); err != nil {
		l.logger.Warn("warm the readings in the past", "err", err)
		return 0
	}
	made := 0
	for _, p := range list {
		now := l.now()
		mid := p.FormedOn.Add(now.Sub(p.FormedOn) / 2)
		for _, tries := range [][]views.AsOf{
			{{Position: head / 2}, {Position: head}},
			{{Corrected: true, Time: mid}, {Corrected: true, Time: now}},
		} {
			for i, at := range tries {
				if ctx.Err() != nil {
					return made
				}
				_, err := report.Build(ctx, l.Views, p.ID, "", at)
				if err == nil {
					made++
					break
				}
				if !errors.Is(err, report.ErrNoPartnership) || i == len(tries)-1 {
					l.logger.Warn("warm the readings in the past", "partnership", p.ID, "reading", at.Describe(), "err", err)
					break
				}
			}
		}
	}
	return made
}

// releaseAfter is how many events a catch-up folds before it releases
// what the fold left (see CatchUp); release is how (variables for tests).
var (
	releaseAfter uint64 = 100_000
	release             = debug.FreeOSMemory
)

// lowest is the lowest position the projections have folded up to.
func (l *Ledger) lowest(ctx context.Context) uint64 {
	st := l.Engine.Status(ctx)
	if len(st) == 0 {
		return 0
	}
	low := st[0].Position
	for _, s := range st[1:] {
		low = min(low, s.Position)
	}
	return low
}

// Erase destroys a person's key: their name and contact details become
// unreadable everywhere, while every event, hash and proof stays as it was.
// The caller records the erasure event through the domain first.
func (l *Ledger) Erase(subject string) error {
	// Answers kept with names in them are let go, whether or not the
	// key's destruction reported an error (see views.Reader.Erasures).
	defer l.erasures.Add(1)
	if err := l.Keys.Erase(subject); err != nil {
		return fmt.Errorf("erase %s: %w", subject, err)
	}
	return nil
}

// Close closes everything Open opened, in reverse order, and returns the
// first error.
func (l *Ledger) Close() error {
	var first error
	for i := len(l.closers) - 1; i >= 0; i-- {
		if err := l.closers[i](); err != nil && first == nil {
			first = err
		}
	}
	l.closers = nil
	return first
}

// memoryKeys adapts domain.MemoryKeyring to Keys.
type memoryKeys struct{ *domain.MemoryKeyring }

func (k memoryKeys) Erase(subject string) error { k.MemoryKeyring.Erase(subject); return nil }
