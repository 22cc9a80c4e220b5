// Package app is Concord's application layer: one function per use case,
// each taking the context, the authenticated actor and the command (or
// query). It owns the one policy of who may do what, declared in a table
// (Policies) and checked here, once, from what the ledger says about the
// actor at that moment (staff of a school, member or chair of an ISLC,
// Director, governor, partnership lead, appointed auditor); then the domain
// decides. The HTTP API, the web pages and the command line all call it;
// none of them checks a right of its own, and none builds a request to
// call another edge.
//
// The actor of every command is the authenticated person: commands name no
// voter, nominator or decider, and the domain takes who acts from the
// metadata this package builds. A token only authenticates; what its
// holder may do follows from the ledger, so a chair elected a minute ago
// acts as chair with the token they already hold.
package app

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/domain"
)

// Kind is what sort of principal an actor is.
type Kind string

// The kinds of actor.
const (
	// KindPerson is a person registered in the ledger (staff, a governor,
	// an advisory contact, an auditor). Everything they may do follows
	// from the ledger.
	KindPerson Kind = "person"
	// KindAdmin is the system administrator: tokens, backups, projections,
	// registering schools and partnerships and their first Director or
	// lead, registering auditors. Never a governance decision.
	KindAdmin Kind = "admin"
)

// Actor is who is acting: authenticated by the edge (a token, a web
// session), never named by a request's body.
type Actor struct {
	Kind Kind
	// PersonID is the person acting (zero for the administrator).
	PersonID uuid.UUID
	// TokenID is the token that authenticated them, for the audit of
	// requests ("" from the command line).
	TokenID string
}

// Person returns the actor for person id.
func Person(id uuid.UUID) Actor { return Actor{Kind: KindPerson, PersonID: id} }

// Admin returns the system administrator as an actor.
func Admin() Actor { return Actor{Kind: KindAdmin} }

// IsAdmin reports whether a is the system administrator.
func (a Actor) IsAdmin() bool { return a.Kind == KindAdmin }

// ID returns the actor's id as recorded in events' metadata.
func (a Actor) ID() string {
	if a.Kind == KindPerson && a.PersonID != uuid.Nil {
		return a.PersonID.String()
	}
	return "admin"
}

// App runs the use cases over one ledger.
type App struct {
	L   *ledger.Ledger
	Now func() time.Time

	// targets keeps the streams' targets worked out at the ledger's
	// last position (StreamTargetAt).
	targets targetMemo
}

// New returns the application layer over l.
func New(l *ledger.Ledger) *App { return &App{L: l, Now: time.Now} }

// Request is what an edge knows about a command besides its body: why
// (recorded with the events), when it took effect if not now, and what
// caused it (a request id).
type Request struct {
	Reason      string
	EffectiveAt time.Time
	CausationID uuid.UUID
	// ExpectedRevision, when set, is the revision the client read
	// (If-Match): the command is refused if the record has moved on.
	ExpectedRevision *int64
}

type ctxKey int

const keyRequest ctxKey = iota

// WithRequest returns ctx carrying r for the commands run with it.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, keyRequest, r)
}

func requestOf(ctx context.Context) Request {
	r, _ := ctx.Value(keyRequest).(Request)
	return r
}

// meta builds the metadata of a command run by actor in role.
func meta(ctx context.Context, actor Actor, role string) (context.Context, domain.Meta) {
	r := requestOf(ctx)
	m := domain.Meta{ActorID: actor.ID(), ActorRole: role, Reason: r.Reason, EffectiveAt: r.EffectiveAt, CausationID: r.CausationID}
	if r.ExpectedRevision != nil {
		ctx = domain.WithExpectedRevision(ctx, *r.ExpectedRevision)
	}
	return ctx, m
}
