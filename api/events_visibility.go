package api

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/app"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
)

// eventReader decides which recorded events one actor may read, and how:
// a school's events to its Director, governors and the auditors of its
// partnerships ("ReadSchoolEvents"); a partnership's to its lead, auditors
// and its schools' Directors and governors ("ReadPartnershipEvents").
// Contact details in person events are shown only to whoever may read
// them (the person, their Director); others see the name alone. It caches
// its answers per stream for a minute, so a long live feed follows changes
// of office.
type eventReader struct {
	s       *Server
	ctx     context.Context
	actor   app.Actor
	vis     app.Visibility
	streams map[string]streamSight
	// may holds the policy's answers already given, by use case and
	// target: a page of events asks the same few many times.
	may   map[mayKey]bool
	since time.Time
	anyOK *bool
	// head is the ledger's head when the reader was made: the targets of
	// streams worked out at it are shared by the readers of that head.
	head uint64
}

type mayKey struct {
	useCase string
	target  uuid.UUID
}

// mayRead asks the policy whether the actor may use useCase on t (a
// school's or a partnership's events), once per reader.
func (er *eventReader) mayRead(useCase string, t app.Target) (bool, error) {
	k := mayKey{useCase, t.School}
	if t.School == uuid.Nil {
		k.target = t.Partnership
	}
	if may, ok := er.may[k]; ok {
		return may, nil
	}
	may, err := er.s.App.May(er.ctx, er.actor, useCase, t)
	if err != nil {
		return false, err
	}
	er.may[k] = may
	return may, nil
}

type streamSight struct {
	visible bool
	school  uuid.UUID
}

const eventReaderTTL = time.Minute

func (s *Server) newEventReader(ctx context.Context, actor app.Actor) (*eventReader, error) {
	head, err := s.L.Store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the ledger's head: %w", err)
	}
	vis, err := s.App.Visibility(ctx, actor)
	if err != nil {
		return nil, err
	}
	return &eventReader{s: s, ctx: ctx, actor: actor, vis: vis, streams: map[string]streamSight{}, may: map[mayKey]bool{}, since: time.Now(), head: head}, nil
}

func (er *eventReader) refresh() error {
	if time.Since(er.since) < eventReaderTTL {
		return nil
	}
	fresh, err := er.s.newEventReader(er.ctx, er.actor)
	if err != nil {
		return err
	}
	*er = *fresh
	return nil
}

// readsAny reports whether the actor reads the events of some school or
// partnership (then they also see the ledger's own events: checkpoints).
func (er *eventReader) readsAny() (bool, error) {
	if er.anyOK != nil {
		return *er.anyOK, nil
	}
	ok := false
	for school := range er.vis.Schools {
		may, err := er.mayRead("ReadSchoolEvents", app.Target{School: school})
		if err != nil {
			return false, err
		}
		ok = ok || may
	}
	for pid := range er.vis.Partnerships {
		may, err := er.mayRead("ReadPartnershipEvents", app.Target{Partnership: pid})
		if err != nil {
			return false, err
		}
		ok = ok || may
	}
	er.anyOK = &ok
	return ok, nil
}

func (er *eventReader) sight(stream string) (streamSight, error) {
	if err := er.refresh(); err != nil {
		return streamSight{}, err
	}
	if s, ok := er.streams[stream]; ok {
		return s, nil
	}
	t, ok, err := er.s.App.StreamTargetAt(er.ctx, stream, er.head)
	if err != nil {
		return streamSight{}, err
	}
	sight, err := er.sightOf(stream, t, ok)
	if err != nil {
		return sight, err
	}
	er.streams[stream] = sight
	return sight, nil
}

// sightOf is what the actor sees of stream, whose target is t (ok: it
// has one).
func (er *eventReader) sightOf(stream string, t app.Target, ok bool) (streamSight, error) {
	var sight streamSight
	switch {
	case !ok:
		_, _, gov := governance.ParseStream(stream)
		if !gov {
			any, err := er.readsAny()
			if err != nil {
				return sight, err
			}
			sight.visible = any && !isRecordStream(stream)
		}
	default:
		sight.school = t.School
		if t.School != uuid.Nil {
			may, err := er.mayRead("ReadSchoolEvents", app.Target{School: t.School})
			if err != nil {
				return sight, err
			}
			sight.visible = may
		}
		if !sight.visible && t.Partnership != uuid.Nil {
			may, err := er.mayRead("ReadPartnershipEvents", app.Target{Partnership: t.Partnership})
			if err != nil {
				return sight, err
			}
			sight.visible = may
		}
	}
	return sight, nil
}

// isRecordStream reports whether stream is a record of the domain (whose
// target could not be found), as opposed to the ledger's own streams.
func isRecordStream(stream string) bool {
	_, _, gov := governance.ParseStream(stream)
	return gov || partnershipStream(stream)
}

// visible reports whether the actor may read e.
func (er *eventReader) visible(e eventstore.RecordedEvent) (bool, error) {
	s, err := er.sight(e.StreamID)
	return s.visible, err
}

// visibleStream reports whether the actor may read the events of stream
// (its bytes, not kept: a stream seen before is looked up without a copy).
func (er *eventReader) visibleStream(stream []byte) (bool, error) {
	if err := er.refresh(); err != nil {
		return false, err
	}
	if s, ok := er.streams[string(stream)]; ok {
		return s.visible, nil
	}
	// A target kept for this head is looked up without copying the
	// stream's id, and the answer not remembered: the events of streams
	// the actor sees are looked up again by visible (which remembers
	// their school for render), the others are skipped.
	if t, ok, hit := er.s.App.KeptStreamTarget(stream, er.head); hit && ok {
		s, err := er.sightOf("", t, true)
		return s.visible, err
	}
	s, err := er.sight(string(stream))
	return s.visible, err
}

// render shows e as the actor may see it.
func (er *eventReader) render(e eventstore.RecordedEvent) LedgerEvent {
	s := er.streams[e.StreamID]
	return ledgerEvent(er.s.L.Codec, e, func(subject string) bool {
		id, err := uuid.Parse(subject)
		return err == nil && er.vis.SeesContacts(id, s.school)
	})
}

// partnershipStream reports whether stream is a partnership record.
func partnershipStream(stream string) bool {
	_, _, ok := partnership.ParseStream(stream)
	return ok
}

// sightMemo keeps what each actor sees of the streams of the audit view
// (by the view's number for the stream) at one ledger head, for as long
// as an eventReader keeps its answers (eventReaderTTL). A page of the
// whole log asks about thousands of streams, a Director's page of one
// school in fifty; the next page, or the same page read again, asks about
// the same ones. Safe for concurrent use; the maps it gives are shared
// and never changed.
type sightMemo struct {
	mu sync.Mutex
	m  map[app.Actor]keptSights
}

type keptSights struct {
	head    uint64
	since   time.Time
	visible map[uint32]bool
}

// maxSightActors bounds the actors whose sights are kept.
const maxSightActors = 1024

// get returns what actor sees of each stream at head, as far as known
// (nil: nothing known).
func (m *sightMemo) get(actor app.Actor, head uint64, now time.Time) map[uint32]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.m[actor]
	if !ok || k.head != head || now.Sub(k.since) >= eventReaderTTL {
		return nil
	}
	return k.visible
}

// add keeps known (what get gave) and learnt (what was worked out since)
// as what actor sees at head, learnt at now.
func (m *sightMemo) add(actor app.Actor, head uint64, now time.Time, known, learnt map[uint32]bool) {
	if len(learnt) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.m[actor]
	since := now
	if ok && k.head == head && now.Sub(k.since) < eventReaderTTL {
		since, known = k.since, k.visible // a reader at the same head kept more meanwhile
	}
	merged := make(map[uint32]bool, len(known)+len(learnt))
	for n, v := range known {
		merged[n] = v
	}
	for n, v := range learnt {
		merged[n] = v
	}
	if m.m == nil || (!ok && len(m.m) >= maxSightActors) {
		m.m = make(map[app.Actor]keptSights)
	}
	m.m[actor] = keptSights{head: head, since: since, visible: merged}
}
