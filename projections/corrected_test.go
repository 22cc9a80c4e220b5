package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/eventstore/memory"
)

// facts keeps every happened event folded, by event id: the fact each
// shows and when it took effect.
type facts struct {
	F map[uuid.UUID]fact `json:"f"`
}

type fact struct {
	N  int       `json:"n"`
	At time.Time `json:"at"`
}

func (*facts) Name() string { return "facts" }
func (*facts) Version() int { return 1 }
func (f *facts) Apply(m domain.Message) error {
	if e, ok := m.Event.(happened); ok {
		f.F[m.ID] = fact{N: e.N, At: m.Effective().UTC()}
	}
	return nil
}
func (f *facts) MarshalState() ([]byte, error) { return json.Marshal(f) }
func (f *facts) UnmarshalState(b []byte) error { return json.Unmarshal(b, f) }

// history is a random history: events, some entered after they took
// effect, some before (planned ahead), and corrections of them (replacements and retractions, some
// effective from later than the event, some earlier, some corrected
// twice), in log order.
type history struct {
	store *memory.Store
	codec *domain.Codec
	// log is every event and correction, in log order.
	log []domain.Message
}

func randomHistory(t *testing.T, rng *rand.Rand) *history { return randomHistoryIn(t, rng, false) }

// randomHistoryIn is randomHistory with each correction in the stream of
// the event it corrects when ownStream is set (as the domain records
// them), else in any of the streams.
func randomHistoryIn(t *testing.T, rng *rand.Rand, ownStream bool) *history {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	h := &history{store: memory.New(memory.Options{Now: clock}), codec: &domain.Codec{}}
	handler := domain.NewHandler(domainlog.Log{Store: h.store}, h.codec)
	handler.Now = clock
	var events []uuid.UUID
	streamOf := map[uuid.UUID]string{}
	day := 24 * time.Hour
	for i := range 10 + rng.IntN(20) {
		now = now.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
		if len(events) > 0 && rng.IntN(3) == 0 {
			target := events[rng.IntN(len(events))]
			c := domain.Correction{EventID: target, Reason: "wrong", Replacement: happened{Key: "k", N: 100 + i}}
			if rng.IntN(4) == 0 {
				c.Replacement = nil
			}
			if rng.IntN(3) > 0 {
				c.EffectiveFrom = now.Add(time.Duration(rng.IntN(40)-30) * day)
			}
			// A correction of an event already retracted is refused;
			// the history goes on without it.
			stream := "s-" + fmt.Sprint(rng.IntN(3))
			if ownStream {
				stream = streamOf[target]
			}
			_, _ = domain.Correct(ctx, handler, stream, func() *nopAgg { return &nopAgg{} }, domain.Meta{ActorID: "d"}, c)
			continue
		}
		meta := domain.Meta{ActorID: "t", ActorRole: "system"}
		switch rng.IntN(6) {
		case 0, 1, 2:
			meta.EffectiveAt = now.Add(-time.Duration(rng.IntN(30*24)) * time.Hour)
		case 3:
			meta.EffectiveAt = now.Add(time.Duration(1+rng.IntN(10*24)) * time.Hour) // planned ahead
		}
		env, err := h.codec.Encode(happened{Key: "k", N: i}, uuid.Must(uuid.NewV7()), meta)
		if err != nil {
			t.Fatal(err)
		}
		stream := "s-" + fmt.Sprint(rng.IntN(3))
		if _, err := h.store.Append(ctx, stream, eventstore.Any(), domainlog.ToStore(env)); err != nil {
			t.Fatal(err)
		}
		events = append(events, env.ID)
		streamOf[env.ID] = stream
	}
	recs, err := h.store.ReadAll(ctx, 1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		m, err := h.codec.Decode(domainlog.ToDomain(r))
		if err != nil {
			t.Fatal(err)
		}
		h.log = append(h.log, m)
	}
	return h
}

// bruteForce is the definition of "as corrected now" at moment at, fold
// by fold: for each event, the last recorded of its corrections whose
// effective period has started by at decides it (its data from its
// EffectiveFrom, or nothing when it retracts); with none, the event as
// recorded stands, once it took effect. A zero at is no limit.
func (h *history) bruteForce(at time.Time) map[uuid.UUID]fact {
	out := map[uuid.UUID]fact{}
	for _, m := range h.log {
		e, ok := m.Event.(happened)
		if !ok {
			continue
		}
		var applies *domain.EventCorrected
		for _, c := range h.log {
			if ec, ok := c.Event.(domain.EventCorrected); ok && ec.Corrects == m.ID && (at.IsZero() || !ec.EffectiveFrom.After(at)) {
				applies = &ec
			}
		}
		switch {
		case applies == nil:
			if at.IsZero() || !m.Effective().After(at) {
				out[m.ID] = fact{N: e.N, At: m.Effective().UTC()}
			}
		case !applies.Retracted:
			var r happened
			if err := json.Unmarshal(applies.Replacement, &r); err != nil {
				panic(err)
			}
			out[m.ID] = fact{N: r.N, At: applies.EffectiveFrom.UTC()}
		}
	}
	return out
}

// moments are the moments worth reading a history at: just before, at and
// just after every effective time and every correction's start, and no
// limit.
func (h *history) moments() []time.Time {
	out := []time.Time{{}}
	for _, m := range h.log {
		ts := []time.Time{m.Effective()}
		if c, ok := m.Event.(domain.EventCorrected); ok {
			ts = append(ts, c.EffectiveFrom)
		}
		for _, t := range ts {
			out = append(out, t.Add(-time.Nanosecond), t, t.Add(time.Nanosecond))
		}
	}
	return out
}

// At every moment, "as corrected now" shows each fact as corrected where
// its correction's effective period covers the moment and as recorded
// elsewhere: the fold of the projections (FoldCorrected) and the domain's
// ApplyCorrectionsAt agree with the brute-force definition, over random
// histories with corrections.
func TestAsCorrectedNowAtEveryMoment(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(150) {
		rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
		h := randomHistory(t, rng)
		for _, at := range h.moments() {
			want := h.bruteForce(at)
			got := &facts{F: map[uuid.UUID]fact{}}
			if _, err := FoldCorrected(ctx, h.store, h.codec, got, at); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got.F, want) {
				t.Fatalf("seed %d, at %s: FoldCorrected\n got %v\nwant %v", seed, at.Format(time.RFC3339Nano), got.F, want)
			}
			msgs, err := domain.ApplyCorrectionsAt(h.codec, h.log, at)
			if err != nil {
				t.Fatal(err)
			}
			dom := &facts{F: map[uuid.UUID]fact{}}
			for _, m := range msgs {
				if at.IsZero() || !m.Effective().After(at) {
					dom.Apply(m)
				}
			}
			if !maps.Equal(dom.F, want) {
				t.Fatalf("seed %d, at %s: ApplyCorrectionsAt\n got %v\nwant %v", seed, at.Format(time.RFC3339Nano), dom.F, want)
			}
		}
	}
}

// order keeps the position of every event it is given, in the order given
// (with the fact it shows), so that two folds agree only when they fold
// the same events, the same way, in the same order.
type order struct {
	Seen []string `json:"seen"`
}

func (*order) Name() string { return "order" }
func (*order) Version() int { return 1 }
func (o *order) Apply(m domain.Message) error {
	o.Seen = append(o.Seen, orderEntry(m))
	return nil
}

// orderEntry is what order keeps of m.
func orderEntry(m domain.Message) string {
	n := -1
	if e, ok := m.Event.(happened); ok {
		n = e.N
	}
	return fmt.Sprintf("%d:%s:%d:%s", m.Position, m.Type, n, m.Effective().UTC().Format(time.RFC3339Nano))
}
func (o *order) MarshalState() ([]byte, error) { return json.Marshal(o) }
func (o *order) UnmarshalState(b []byte) error { return json.Unmarshal(b, o) }

// The engine's reading as corrected now (the start of the log from
// snapshots, the rest folded) is the fold from zero, event for event and
// in the same order, at every moment of random histories with
// corrections (most recorded beside the event they correct, as the domain
// records them), whatever the snapshots' spacing, with a timeline or
// without.
func TestEngineAsCorrectedEqualsTheFoldFromZero(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 0xfeed))
		h := randomHistoryIn(t, rng, seed%3 != 0)
		factories := []Factory{func() Projection { return &facts{F: map[uuid.UUID]fact{}} }, func() Projection { return &order{} }}
		// Half the engines have a timeline (caught up, or behind by a
		// few events), half read the whole log.
		withTimeline := seed%2 == 0
		if withTimeline {
			factories = append(factories, func() Projection { return &timeline{} })
		}
		e := caughtUpEngine(t, h, rng, factories)
		if withTimeline && seed%4 == 0 {
			// The timeline behind: as of a few events back.
			r := e.projs["timeline"]
			r.mu.Lock()
			back := min(r.pos, uint64(rng.IntN(4)))
			tl := &timeline{}
			if err := Fold(ctx, h.store, h.codec, tl, 1, r.pos-back, nil); err != nil {
				t.Fatal(err)
			}
			r.proj, r.pos = tl, r.pos-back
			r.mu.Unlock()
		}
		for _, at := range h.moments() {
			want := []Projection{&facts{F: map[uuid.UUID]fact{}}, &order{}}
			wantPos, err := FoldCorrectedAll(ctx, h.store, h.codec, want, at)
			if err != nil {
				t.Fatal(err)
			}
			got, pos, err := e.AsCorrectedAll(ctx, []string{"facts", "order"}, at)
			if err != nil {
				t.Fatal(err)
			}
			if pos != wantPos {
				t.Fatalf("seed %d, at %s: position %d, want %d", seed, at.Format(time.RFC3339Nano), pos, wantPos)
			}
			for _, w := range want {
				gb, _ := got[w.Name()].MarshalState()
				wb, _ := w.MarshalState()
				if string(gb) != string(wb) {
					t.Fatalf("seed %d, at %s: %s\n got %s\nwant %s", seed, at.Format(time.RFC3339Nano), w.Name(), gb, wb)
				}
			}
		}
		e.Close()
	}
}

// timeline is a Timeline kept as the rule says: every event whose
// effective time differs from its recorded time, and every correction.
type timeline struct {
	O []Offbeat `json:"o"`
	C []uint64  `json:"c"`
}

func (*timeline) Name() string { return "timeline" }
func (*timeline) Version() int { return 1 }
func (tl *timeline) Apply(m domain.Message) error {
	if !m.Effective().Equal(m.RecordedAt) {
		tl.O = append(tl.O, Offbeat{Position: m.Position, Effective: m.Effective()})
	}
	if _, ok := m.Event.(domain.EventCorrected); ok {
		tl.C = append(tl.C, m.Position)
	}
	return nil
}
func (tl *timeline) MarshalState() ([]byte, error) { return json.Marshal(tl) }
func (tl *timeline) UnmarshalState(b []byte) error { return json.Unmarshal(b, tl) }
func (tl *timeline) Offbeat() []Offbeat            { return tl.O }
func (tl *timeline) Corrections() []uint64         { return tl.C }

// caughtUpEngine opens an engine of factories over history h, snapshots
// and checkpoints at random spacings, and catches it up.
func caughtUpEngine(t *testing.T, h *history, rng *rand.Rand, factories []Factory) *Engine {
	t.Helper()
	e, err := Open(h.store, h.codec, filepath.Join(t.TempDir(), "p.db"), Options{SnapshotEvery: uint64(1 + rng.IntN(5)), CheckpointEvery: 1 + rng.IntN(10)}, factories...)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}
