// Package replay replays one decision of the ledger step by step: a
// proposal from its draft to its decisions, an election from its opening
// to its chair, a loan from its request to its return. Each step is one
// event of the decision, in log order, with who acted, in what role, why,
// when, and the decision's state before and after it, rebuilt with the
// domain's own aggregates. Each step is also told in words (words.go): a
// sentence saying what happened, naming people only through the ledger's
// name lookups, and the state as labelled fields.
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/eventstore"
	"github.com/concord-ledger/concord/eventstore/domainlog"
	"github.com/concord-ledger/concord/projections"
	"github.com/concord-ledger/concord/projections/views"
)

// Kinds of decision that can be replayed.
const (
	KindProposal = "proposal"
	KindElection = "election"
	KindLoan     = "loan"
)

var (
	// ErrNotFound is returned (as a *NotFoundError) when no decision of
	// the kind has the id, as of the position asked.
	ErrNotFound = errors.New("replay: decision not found")
	// ErrUnknownKind is returned for a kind other than proposal, election
	// or loan.
	ErrUnknownKind = errors.New("replay: unknown kind of decision")
)

// NotFoundError names the decision that was not found. It matches
// ErrNotFound with errors.Is.
type NotFoundError struct {
	Kind string
	ID   uuid.UUID
	AsOf uint64
}

func (e *NotFoundError) Error() string {
	if e.AsOf != 0 {
		return fmt.Sprintf("replay: no %s %s as of position %d", e.Kind, e.ID, e.AsOf)
	}
	return fmt.Sprintf("replay: no %s %s", e.Kind, e.ID)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Request asks for the replay of one decision.
type Request struct {
	Kind string
	ID   uuid.UUID
	// AsOf stops the replay at this global position (0: the head).
	AsOf uint64
	// Names, if set, names the people acting.
	Names views.PersonNames
}

// Step is one event of a decision.
type Step struct {
	Position      uint64    `json:"position"`
	EventID       uuid.UUID `json:"event_id"`
	Stream        string    `json:"stream"`
	Type          string    `json:"type"`
	ActorID       string    `json:"actor_id"`
	ActorName     string    `json:"actor_name,omitempty"`
	Role          string    `json:"role"`
	Reason        string    `json:"reason,omitempty"`
	RecordedAt    time.Time `json:"recorded_at"`
	EffectiveAt   time.Time `json:"effective_at"`
	CorrelationID uuid.UUID `json:"correlation_id"`
	CausationID   uuid.UUID `json:"causation_id,omitzero"`
	Summary       string    `json:"summary"`
	// Heading says what happened in a sentence, naming the people acting
	// ("Ana Evans was elected chair of Research for 2025-26").
	Heading string `json:"heading"`
	// State is the decision's state after the step as labelled fields in
	// words, empty values left out.
	State []Field `json:"state"`
	// Before and After are the decision's state around the step, as JSON
	// objects.
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// Replay is the replay of one decision.
type Replay struct {
	Kind string    `json:"kind"`
	ID   uuid.UUID `json:"id"`
	// Stream is the aggregate's stream; Correlations the correlation ids
	// whose events the replay follows.
	Stream       string      `json:"stream"`
	Correlations []uuid.UUID `json:"correlations"`
	// AsOf is the last position considered.
	AsOf  uint64 `json:"as_of"`
	Steps []Step `json:"steps"`
}

// Replayer reads decisions from a store.
type Replayer struct {
	Store eventstore.Store
	Codec *domain.Codec
	// Locate, if set, names the stream a loan or an election was
	// recorded in (the caller's live views know it), so the replay need
	// not search the log for its opening event. A wrong or unknown answer
	// only costs that search.
	Locate func(kind string, id uuid.UUID) (stream string, ok bool)
}

// pageSize is how many events a scan reads at a time.
const pageSize = 4096

// Replay replays the decision r names. Returns a *NotFoundError (matching
// ErrNotFound) when there is no such decision as of r.AsOf,
// ErrUnknownKind for a bad kind, projections.ErrFutureAsOf for a position
// beyond the log, or a wrapped store or decode error.
//
// A decision's events are all in its aggregate's stream: an event's
// correlation id is its command's first event's id or the id its
// aggregate keeps for the decision, and a command appends to one stream
// (TestCorrelationsStayInTheirStream holds the ledger to it). So the
// replay reads that stream alone, up to r.AsOf; the log is searched only
// for a loan's or an election's opening event when Locate does not give
// its stream.
func (p *Replayer) Replay(ctx context.Context, r Request) (*Replay, error) {
	head, err := p.Store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	asOf := r.AsOf
	if asOf == 0 {
		asOf = head
	}
	if asOf > head {
		return nil, fmt.Errorf("replay %s %s: %w", r.Kind, r.ID, projections.ErrFutureAsOf)
	}
	var d decision
	switch r.Kind {
	case KindProposal:
		d = &proposalDecision{id: r.ID, agg: governance.NewProposal()}
	case KindElection:
		d = &electionDecision{id: r.ID, agg: governance.NewCommunity()}
	case KindLoan:
		d = &loanDecision{id: r.ID, agg: partnership.NewResource()}
	default:
		return nil, fmt.Errorf("%w: %q (use proposal, election or loan)", ErrUnknownKind, r.Kind)
	}
	notFound := &NotFoundError{Kind: r.Kind, ID: r.ID, AsOf: r.AsOf}
	// First: the decision's stream, its events up to asOf and the
	// decision's correlation ids.
	stream, evs, corrs, err := p.find(ctx, d, r, asOf)
	if err != nil {
		return nil, err
	}
	if stream == "" {
		return nil, notFound
	}
	out := &Replay{Kind: r.Kind, ID: r.ID, Stream: stream, Correlations: corrs, AsOf: asOf, Steps: []Step{}}
	// Then the steps, and the aggregate's other events folded silently
	// for context (a resource's registration). Schools, ISLCs, proposals
	// and resources are named in the summaries as they were named at each
	// step (their names are not personal data).
	things := &thingNames{p: p, ctx: ctx, asOf: asOf, byID: map[uuid.UUID][]named{}}
	for _, rec := range evs {
		corr := correlation(rec)
		inDecision := d.wholeStream() || slices.Contains(corrs, corr)
		if !inDecision && d.irrelevant(rec) {
			continue
		}
		m, err := p.Codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			return nil, fmt.Errorf("replay: decode position %d: %w", rec.Position, err)
		}
		if !inDecision {
			d.apply(m)
			continue
		}
		before, err := d.state()
		if err != nil {
			return nil, err
		}
		d.apply(m)
		after, err := d.state()
		if err != nil {
			return nil, err
		}
		nameOf := func(id uuid.UUID) string { return things.at(id, m.Position) }
		namer := Namer{Things: nameOf}
		if r.Names != nil {
			namer.People = r.Names.Name
		}
		s := Step{Position: m.Position, EventID: m.ID, Stream: m.Stream, Type: m.Type, ActorID: m.Meta.ActorID, Role: m.Meta.ActorRole,
			Reason: m.Meta.Reason, RecordedAt: m.RecordedAt.UTC(), EffectiveAt: m.Effective().UTC(), CorrelationID: corr,
			CausationID: m.Meta.CausationID, Summary: views.SummaryNamed(m, nameOf), Before: before, After: after, State: d.fields(namer)}
		s.Heading = Heading(m, namer, s.Summary)
		if r.Names != nil {
			if id, err := uuid.Parse(m.Meta.ActorID); err == nil {
				s.ActorName = r.Names.Name(id)
			}
		}
		out.Steps = append(out.Steps, s)
	}
	if len(out.Steps) == 0 {
		return nil, notFound
	}
	return out, nil
}

// find returns the decision's stream, its events up to asOf and the
// decision's correlation ids: a proposal's stream is named by its id; a
// loan's or an election's is the one Locate names if its opening event is
// there, else the one the log's search finds. An empty stream means no
// such decision as of asOf.
func (p *Replayer) find(ctx context.Context, d decision, r Request, asOf uint64) (string, []eventstore.RecordedEvent, []uuid.UUID, error) {
	if s, ok := d.knownStream(); ok {
		evs, err := p.streamUpTo(ctx, s, asOf)
		if err != nil || len(evs) == 0 {
			return "", nil, nil, err
		}
		var corrs []uuid.UUID
		for _, e := range evs {
			if corr := correlation(e); !slices.Contains(corrs, corr) {
				corrs = append(corrs, corr)
			}
		}
		return s, evs, corrs, nil
	}
	if p.Locate != nil {
		if s, ok := p.Locate(r.Kind, r.ID); ok {
			evs, err := p.streamUpTo(ctx, s, asOf)
			if err != nil {
				return "", nil, nil, err
			}
			corr, found, err := p.opening(d, evs)
			if err != nil {
				return "", nil, nil, err
			}
			if found {
				return s, evs, []uuid.UUID{corr}, nil
			}
		}
	}
	s, corrs, err := p.locate(ctx, d, asOf)
	if err != nil || s == "" {
		return "", nil, nil, err
	}
	evs, err := p.streamUpTo(ctx, s, asOf)
	return s, evs, corrs, err
}

// opening finds d's opening event among evs and returns its correlation.
func (p *Replayer) opening(d decision, evs []eventstore.RecordedEvent) (uuid.UUID, bool, error) {
	for _, rec := range evs {
		if rec.Type != d.opener() {
			continue
		}
		m, err := p.Codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			return uuid.Nil, false, fmt.Errorf("replay: decode position %d: %w", rec.Position, err)
		}
		if d.opens(m) {
			return correlation(rec), true, nil
		}
	}
	return uuid.Nil, false, nil
}

func correlation(e eventstore.RecordedEvent) uuid.UUID {
	if e.Metadata.CorrelationID == uuid.Nil {
		return e.ID
	}
	return e.Metadata.CorrelationID
}

// streamUpTo reads stream's events recorded at or before position asOf.
func (p *Replayer) streamUpTo(ctx context.Context, stream string, asOf uint64) ([]eventstore.RecordedEvent, error) {
	var out []eventstore.RecordedEvent
	for rev := uint64(0); ; {
		batch, err := p.Store.ReadStream(ctx, stream, rev, eventstore.Forward, pageSize)
		if err != nil {
			return nil, fmt.Errorf("replay: read %s: %w", stream, err)
		}
		for _, e := range batch {
			if e.Position > asOf {
				return out, nil
			}
			out = append(out, e)
		}
		if len(batch) < pageSize {
			return out, nil
		}
		rev = batch[len(batch)-1].Revision + 1
	}
}

// named is a thing's name from one position on.
type named struct {
	from uint64
	name string
}

// thingNames names schools, ISLCs, resources and proposals from their
// own streams as they were named at a position (a proposal's title
// changes when it is revised), reading each thing's stream once.
type thingNames struct {
	p    *Replayer
	ctx  context.Context
	asOf uint64
	byID map[uuid.UUID][]named
}

// at returns id's name at position pos, or "" when id is none of those
// things then (or its stream cannot be read: the summary shows a short id).
func (t *thingNames) at(id uuid.UUID, pos uint64) string {
	names, ok := t.byID[id]
	if !ok {
		names = t.load(id)
		t.byID[id] = names
	}
	name := ""
	for _, n := range names {
		if n.from > pos {
			break
		}
		name = n.name
	}
	return name
}

func (t *thingNames) load(id uuid.UUID) []named {
	// Schools, ISLCs and resources are named once, by their stream's first
	// event; a proposal by its draft and each revision.
	for _, s := range []string{governance.SchoolStream(id), governance.CommunityStream(id), partnership.ResourceStream(id)} {
		first, err := t.p.Store.ReadStream(t.ctx, s, 0, eventstore.Forward, 1)
		if err != nil || len(first) == 0 {
			continue
		}
		return t.names(id, first)
	}
	evs, err := t.p.streamUpTo(t.ctx, governance.ProposalStream(id), t.asOf)
	if err != nil {
		return nil
	}
	return t.names(id, evs)
}

func (t *thingNames) names(id uuid.UUID, evs []eventstore.RecordedEvent) []named {
	var out []named
	for _, rec := range evs {
		switch rec.Type {
		case "SchoolRegistered", "CommunityEstablished", "ProposalDrafted", "ProposalRevised", "ResourceRegistered":
		default:
			continue
		}
		if rec.Position > t.asOf {
			break
		}
		m, err := t.p.Codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			continue
		}
		one := map[uuid.UUID]string{}
		nameThing(one, m)
		if n, ok := one[id]; ok {
			out = append(out, named{from: rec.Position, name: n})
		}
	}
	return out
}

// nameThing records the name m gives a school, ISLC or proposal.
func nameThing(things map[uuid.UUID]string, m domain.Message) {
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		things[e.SchoolID] = e.Name
	case governance.CommunityEstablished:
		things[e.CommunityID] = e.Name
	case governance.ProposalDrafted:
		things[e.ProposalID] = e.Title
	case governance.ProposalRevised:
		things[e.ProposalID] = e.Title
	case partnership.ResourceRegistered:
		things[e.ResourceID] = e.Name
	}
}

// locate scans the log up to asOf for the opening event of a decision
// whose stream is not named by its id, and returns its stream and
// correlation.
func (p *Replayer) locate(ctx context.Context, d decision, asOf uint64) (string, []uuid.UUID, error) {
	var stream string
	var corrs []uuid.UUID
	errFound := errors.New("found")
	err := p.scan(ctx, asOf, func(rec eventstore.RecordedEvent) error {
		if rec.Type != d.opener() {
			return nil
		}
		m, err := p.Codec.Decode(domainlog.ToDomain(rec))
		if err != nil {
			return fmt.Errorf("replay: decode position %d: %w", rec.Position, err)
		}
		if !d.opens(m) {
			return nil
		}
		corr := correlation(rec)
		stream, corrs = m.Stream, []uuid.UUID{corr}
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return "", nil, err
	}
	return stream, corrs, nil
}

// scan calls fn for every event 1..asOf in order, stopping at its first
// error.
func (p *Replayer) scan(ctx context.Context, asOf uint64, fn func(eventstore.RecordedEvent) error) error {
	for from := uint64(1); from <= asOf; {
		n := pageSize
		if left := asOf - from + 1; left < uint64(n) {
			n = int(left)
		}
		recs, err := p.Store.ReadAll(ctx, from, n)
		if err != nil {
			return fmt.Errorf("replay: read from %d: %w", from, err)
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			if rec.Position > asOf {
				return nil
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		from = recs[len(recs)-1].Position + 1
	}
	return nil
}

// decision is one kind of decision: where it lives and how its state is
// rendered.
type decision interface {
	// knownStream is the aggregate's stream when the id names it.
	knownStream() (string, bool)
	// opener is the type of the event that opens the decision, and opens
	// reports whether m opens this one (when the stream is not known).
	opener() string
	opens(m domain.Message) bool
	// wholeStream reports whether every event of the stream is a step.
	wholeStream() bool
	// irrelevant reports whether an event of the stream outside the
	// decision cannot change its state, so it need not be decoded and
	// folded (another loan's events in a resource's stream).
	irrelevant(rec eventstore.RecordedEvent) bool
	apply(m domain.Message)
	state() (json.RawMessage, error)
	// fields is the state in labelled fields, in words.
	fields(n Namer) []Field
}

func render(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("replay: render state: %w", err)
	}
	return b, nil
}

type proposalDecision struct {
	id  uuid.UUID
	agg *governance.Proposal
}

func (d *proposalDecision) knownStream() (string, bool)              { return governance.ProposalStream(d.id), true }
func (d *proposalDecision) opener() string                           { return "ProposalDrafted" }
func (d *proposalDecision) opens(domain.Message) bool                { return false }
func (d *proposalDecision) wholeStream() bool                        { return true }
func (d *proposalDecision) irrelevant(eventstore.RecordedEvent) bool { return false }
func (d *proposalDecision) apply(m domain.Message)                   { d.agg.Apply(m) }
func (d *proposalDecision) fields(n Namer) []Field                   { return ProposalFields(d.agg, n) }
func (d *proposalDecision) state() (json.RawMessage, error) {
	if !d.agg.Drafted() {
		return json.RawMessage("{}"), nil
	}
	return render(d.agg)
}

type electionDecision struct {
	id  uuid.UUID
	agg *governance.Community
}

func (d *electionDecision) knownStream() (string, bool) { return "", false }
func (d *electionDecision) opener() string              { return "ElectionOpened" }
func (d *electionDecision) opens(m domain.Message) bool {
	e, ok := m.Event.(governance.ElectionOpened)
	return ok && e.ElectionID == d.id
}
func (d *electionDecision) wholeStream() bool { return false }

// irrelevant is false: membership events are folded too (see apply).
func (d *electionDecision) irrelevant(eventstore.RecordedEvent) bool { return false }
func (d *electionDecision) apply(m domain.Message) {
	// Only the ballots matter; membership events are folded too so the
	// aggregate sees the same history it saw when deciding.
	d.agg.Apply(m)
}

// electionState is an election's state: the ballots of its chain (the
// confidence vote that opened it, run-offs) and the chair terms they made.
type electionState struct {
	Elections       []*governance.Election       `json:"elections"`
	ConfidenceVotes []*governance.ConfidenceVote `json:"confidence_votes"`
	Chairs          []governance.ChairTerm       `json:"chairs"`
}

func (d *electionDecision) fields(n Namer) []Field {
	st, ok := d.snapshot()
	if !ok {
		return nil
	}
	return electionFields(st, n)
}

func (d *electionDecision) state() (json.RawMessage, error) {
	st, ok := d.snapshot()
	if !ok {
		return json.RawMessage("{}"), nil
	}
	return render(st)
}

// snapshot is the election's chain as it stands, if it has opened.
func (d *electionDecision) snapshot() (electionState, bool) {
	st := electionState{Elections: []*governance.Election{}, ConfidenceVotes: []*governance.ConfidenceVote{}, Chairs: []governance.ChairTerm{}}
	var corr uuid.UUID
	for _, e := range d.agg.Elections {
		if e.ID == d.id {
			corr = e.CorrelationID
		}
	}
	if corr == uuid.Nil {
		return st, false
	}
	var ids []uuid.UUID
	for _, e := range d.agg.Elections {
		if e.CorrelationID == corr {
			st.Elections = append(st.Elections, e)
			ids = append(ids, e.ID)
		}
	}
	for _, v := range d.agg.ConfidenceVotes {
		if v.CorrelationID == corr {
			st.ConfidenceVotes = append(st.ConfidenceVotes, v)
		}
	}
	for _, t := range d.agg.Chairs {
		if slices.Contains(ids, t.ElectionID) {
			st.Chairs = append(st.Chairs, t)
		}
	}
	return st, true
}

type loanDecision struct {
	id  uuid.UUID
	agg *partnership.Resource
}

func (d *loanDecision) knownStream() (string, bool) { return "", false }
func (d *loanDecision) opener() string              { return "LoanRequested" }
func (d *loanDecision) opens(m domain.Message) bool {
	e, ok := m.Event.(partnership.LoanRequested)
	return ok && e.LoanID == d.id
}
func (d *loanDecision) wholeStream() bool { return false }

// irrelevant: the loan's state (snapshot) is the resource's registration
// and the loan itself, and a loan event changes only its own loan; the
// caller asks only about events without the loan's correlation, so every
// loan event it asks about is another loan's.
func (d *loanDecision) irrelevant(rec eventstore.RecordedEvent) bool {
	return strings.HasPrefix(rec.Type, "Loan")
}
func (d *loanDecision) apply(m domain.Message) { d.agg.Apply(m) }

// loanState is a loan's state with the resource it is of.
type loanState struct {
	ResourceID    uuid.UUID         `json:"resource_id"`
	ResourceName  string            `json:"resource_name"`
	OwnerSchoolID uuid.UUID         `json:"owner_school_id"`
	Loan          *partnership.Loan `json:"loan"`
}

func (d *loanDecision) snapshot() loanState {
	st := loanState{ResourceID: d.agg.ID, ResourceName: d.agg.Name, OwnerSchoolID: d.agg.OwnerSchoolID}
	if l, ok := d.agg.Loan(d.id); ok {
		st.Loan = &l
	}
	return st
}

func (d *loanDecision) state() (json.RawMessage, error) { return render(d.snapshot()) }
func (d *loanDecision) fields(n Namer) []Field          { return loanFields(d.snapshot(), n) }
