// Package domain is the centre of Concord: the rules the ledger enforces
// and the events it records. It owns the shared machinery every part of the
// domain uses — events and their envelope, the event registry and
// catalogue, the codec (with per-person sealing of personal data), rule
// errors and the command handler — and holds no I/O: the handler reaches
// the event store only through the small EventLog interface it declares.
//
// The rules themselves live in sub-packages: domain/governance (schools,
// people, communities, elections, the Leadership Team, proposals) and
// domain/partnership (partnerships, shared resources, secondments, CPD,
// peer review, progress, accountability, celebrating, the improvement
// timeline).
package domain

import (
	"time"

	"github.com/google/uuid"
)

// Event is a domain event: a past-tense fact such as MemberJoined. Every
// concrete event type is registered with Register so the codec can encode
// and decode it.
type Event interface {
	// EventType returns the registered type name, e.g. "MemberJoined".
	EventType() string
}

// Meta is who caused an event, in what role, why, and in answer to what.
// Every event of one command shares the command's Meta.
type Meta struct {
	// ActorID is the id of the person (or "system") acting.
	ActorID string
	// ActorRole is the role they act in: admin, director, staff, chair,
	// governor, partnership_lead, auditor or system.
	ActorRole string
	// Reason optionally explains the command in the actor's words.
	Reason string
	// CausationID is the id of what caused this command (an earlier event
	// or a request id). Zero means the command itself is the cause.
	CausationID uuid.UUID
	// CorrelationID ties together every event of one decision (from the
	// first nomination to the chair's appointment). Zero means a new
	// correlation starts with this command's first event.
	CorrelationID uuid.UUID
	// EffectiveAt is when the fact took effect in the real world, if that
	// differs from when it is recorded (a membership from 1 September
	// entered in October). Zero means "when recorded".
	EffectiveAt time.Time
}

// Envelope is an encoded event ready for the log.
type Envelope struct {
	ID     uuid.UUID
	Type   string
	Schema uint32
	Data   []byte
	Meta   Meta
}

// Recorded is an event as read back from the log.
type Recorded struct {
	Envelope
	Stream     string
	Revision   uint64
	Position   uint64
	RecordedAt time.Time
}

// Effective returns when the event took effect: its EffectiveAt if set,
// else when it was recorded.
func (r Recorded) Effective() time.Time {
	if !r.Meta.EffectiveAt.IsZero() {
		return r.Meta.EffectiveAt
	}
	return r.RecordedAt
}

// Message is a decoded recorded event: the envelope and the event value.
type Message struct {
	Recorded
	Event Event
}

// Roles an actor can act in.
const (
	RoleAdmin           = "admin"
	RoleDirector        = "director"
	RoleStaff           = "staff"
	RoleChair           = "chair"
	RoleGovernor        = "governor"
	RolePartnershipLead = "partnership_lead"
	RoleAuditor         = "auditor"
	RoleSystem          = "system"
)
