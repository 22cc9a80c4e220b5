package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
)

// A command sent with an Idempotency-Key has a command id: an HMAC, keyed
// with the server's fingerprint secret, of the caller, the key and the
// request's fingerprint, shaped as a UUID of version 8. It is recorded as
// the causation id of every event the command appends, and the ids the
// command gives new records (a school, a loan) are derived from it, so a
// retry of the same request is the same command.
//
// That closes the hole between the append and the record of the answer:
// the record is written after the events are durable, so a crash (or a
// failed write of the record) in between loses the record but not the
// events. A retry then finds no record; before running the command again
// the middleware looks in the log for events caused by the command id
// (recorded within the TTL). When it finds them, the use case runs again
// with them at hand (domain.WithRecorded): each append the first attempt
// made returns its events instead of deciding again, so the answer is the
// first one — the same events, positions, revision and Location — and
// nothing is appended twice, while a step the first attempt did not reach
// (a leaving's consequences) is completed. If the use case now refuses
// (a check before the append sees what the first attempt did), the
// answer is made from the events found.
//
// The id says nothing about the request to anyone without the secret,
// and on the routes that cast a vote the fingerprint leaves the body out
// (see Idempotency), so the id of a vote does not depend on the choice.

// CommandLog is what Idempotency reads of the event log to find the events
// of a command whose answer was not remembered. eventstore.Store
// satisfies it.
type CommandLog interface {
	Head(ctx context.Context) (uint64, error)
	PositionAt(ctx context.Context, t time.Time) (uint64, error)
	ReadAll(ctx context.Context, from uint64, limit int) ([]eventstore.RecordedEvent, error)
}

// keyedCommand is put on the context of a request with an Idempotency-Key
// that has no remembered answer.
type keyedCommand struct {
	id uuid.UUID
	// prior holds the events the command appended before (found in the
	// log), nil when it has not run.
	prior []eventstore.RecordedEvent
	// ids counts the ids derived for new records.
	ids int
}

type keyedCommandKey struct{}

func keyedCommandOf(ctx context.Context) (*keyedCommand, bool) {
	c, ok := ctx.Value(keyedCommandKey{}).(*keyedCommand)
	return c, ok
}

// commandID returns the command id of the request rkey (caller and key)
// with fingerprint fp.
func (i *Idempotency) commandID(rkey string, fp []byte) uuid.UUID {
	mac := hmac.New(sha256.New, i.secret)
	fmt.Fprintf(mac, "command\x00%s\x00", rkey)
	mac.Write(fp)
	var id uuid.UUID
	copy(id[:], mac.Sum(nil))
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// isCommandID reports whether id has the shape of a command id.
func isCommandID(id uuid.UUID) bool {
	return id.Version() == 8 && id.Variant() == uuid.RFC4122
}

// newID gives *field a fresh id when the body named none: derived from
// the command id when r is a command with an Idempotency-Key (the n-th new
// id of the command, so a retry names the same records), else a UUID v7.
func newID(r *http.Request, field *uuid.UUID) {
	if *field != uuid.Nil {
		return
	}
	if c, ok := keyedCommandOf(r.Context()); ok {
		c.ids++
		*field = uuid.NewSHA1(c.id, fmt.Appendf(nil, "new-record-%d", c.ids))
		return
	}
	*field = uuid.Must(uuid.NewV7())
}

// commandIndex finds, by command id, the appends made by each keyed
// command recorded within the TTL. It reads the log lazily: each lookup
// first reads the events appended since the previous one (starting, on
// the first lookup, at the position recorded TTL ago), so every event is
// read once more in all, and a lookup sees every event acknowledged
// before it began.
type commandIndex struct {
	log CommandLog

	mu      sync.Mutex
	next    uint64 // next position to read; 0 before the first lookup
	spans   map[uuid.UUID][]commandSpan
	lookups int
}

// commandSpan is one append of a keyed command: its events are the n at
// positions first.. of stream (an append is atomic, so they are
// contiguous).
type commandSpan struct {
	stream string
	first  uint64
	n      int
	at     time.Time
}

func newCommandIndex(log CommandLog) *commandIndex {
	return &commandIndex{log: log, spans: map[uuid.UUID][]commandSpan{}}
}

// lookup returns the events command id appended, by actor, recorded
// after now-ttl, in log order; nil when there are none.
func (x *commandIndex) lookup(ctx context.Context, id uuid.UUID, actor string, now time.Time, ttl time.Duration) ([]eventstore.RecordedEvent, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	cutoff := now.Add(-ttl)
	if x.next == 0 {
		p, err := x.log.PositionAt(ctx, cutoff)
		if err != nil {
			return nil, fmt.Errorf("find the commands recorded since %s: %w", cutoff.Format(time.RFC3339), err)
		}
		x.next = p + 1
	}
	head, err := x.log.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("find recorded commands: %w", err)
	}
	for x.next <= head {
		evs, err := x.log.ReadAll(ctx, x.next, 1024)
		if err != nil {
			return nil, fmt.Errorf("find recorded commands: %w", err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			x.add(e)
		}
		x.next = evs[len(evs)-1].Position + 1
	}
	if x.lookups++; x.lookups%4096 == 0 {
		for k, ss := range x.spans {
			if ss[len(ss)-1].at.Before(cutoff) {
				delete(x.spans, k)
			}
		}
	}
	var out []eventstore.RecordedEvent
	for _, s := range x.spans[id] {
		if s.at.Before(cutoff) {
			continue
		}
		evs, err := x.log.ReadAll(ctx, s.first, s.n)
		if err != nil {
			return nil, fmt.Errorf("read the events of a recorded command: %w", err)
		}
		if len(evs) != s.n {
			return nil, fmt.Errorf("read the events of a recorded command: %d of %d at position %d", len(evs), s.n, s.first)
		}
		for _, e := range evs {
			// Only the caller's own events answer the caller: a causation
			// id copied from the log into another request proves nothing.
			if e.Metadata.CausationID != id || e.Metadata.ActorID != actor {
				return nil, nil
			}
		}
		out = append(out, evs...)
	}
	return out, nil
}

func (x *commandIndex) add(e eventstore.RecordedEvent) {
	c := e.Metadata.CausationID
	if !isCommandID(c) {
		return
	}
	ss := x.spans[c]
	if n := len(ss); n > 0 && ss[n-1].stream == e.StreamID && ss[n-1].first+uint64(ss[n-1].n) == e.Position {
		ss[n-1].n++
		return
	}
	x.spans[c] = append(ss, commandSpan{stream: e.StreamID, first: e.Position, n: 1, at: e.RecordedAt})
}

// recordedOn returns the events the command appended to stream before
// (see domain.WithRecorded).
func (c *keyedCommand) recordedOn(_ context.Context, stream string) ([]domain.Recorded, error) {
	var out []domain.Recorded
	for _, e := range c.prior {
		if e.StreamID == stream {
			out = append(out, domainlog.ToDomain(e))
		}
	}
	return out, nil
}
