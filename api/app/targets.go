package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/views"
)

// The functions here find a use case's target from the records its
// command names, loaded from the log. A record that does not exist is
// answered as the domain would (domain.ErrNotFound naming the field), and
// nothing runs.

func (a *App) load(ctx context.Context) *loader { return &loader{a: a, ctx: ctx} }

type loader struct {
	a   *App
	ctx context.Context
}

func notFound(field, format string, args ...any) error {
	return domain.RejectField(domain.ErrNotFound, field, format, args...)
}

func (l *loader) school(field string, id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, field, "give the id of the school")
	}
	s, _, err := domain.Peek(l.ctx, l.a.L.Handler, governance.SchoolStream(id), governance.NewSchool)
	if err != nil {
		return Target{}, fmt.Errorf("load school %s: %w", id, err)
	}
	if !s.Registered() {
		return Target{}, notFound(field, "no school %s is registered", id)
	}
	return Target{School: id}, nil
}

func (l *loader) person(field string, id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, field, "give the id of the person")
	}
	p, _, err := domain.PeekSealed(l.ctx, l.a.L.Handler, governance.PersonStream(id), governance.NewPerson)
	if err != nil {
		return Target{}, fmt.Errorf("load person %s: %w", id, err)
	}
	if !p.Registered() {
		return Target{}, notFound(field, "no person %s is registered", id)
	}
	return Target{School: p.SchoolID, Subject: id}, nil
}

func (l *loader) community(field string, id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, field, "give the id of the ISLC")
	}
	c, _, err := domain.Peek(l.ctx, l.a.L.Handler, governance.CommunityStream(id), governance.NewCommunity)
	if err != nil {
		return Target{}, fmt.Errorf("load ISLC %s: %w", id, err)
	}
	if !c.Established() {
		return Target{}, notFound(field, "no ISLC %s is established", id)
	}
	return Target{School: c.SchoolID, Community: id}, nil
}

func (l *loader) proposal(id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, "proposal_id", "give the id of the proposal")
	}
	p, _, err := domain.Peek(l.ctx, l.a.L.Handler, governance.ProposalStream(id), governance.NewProposal)
	if err != nil {
		return Target{}, fmt.Errorf("load proposal %s: %w", id, err)
	}
	if !p.Drafted() {
		return Target{}, notFound("proposal_id", "no proposal %s has been drafted", id)
	}
	return Target{School: p.SchoolID, Community: p.CommunityID}, nil
}

func (l *loader) challenge(id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, "challenge_id", "give the id of the challenge")
	}
	c, _, err := domain.Peek(l.ctx, l.a.L.Handler, governance.ChallengeStream(id), governance.NewChallenge)
	if err != nil {
		return Target{}, fmt.Errorf("load challenge %s: %w", id, err)
	}
	if !c.Raised() {
		return Target{}, notFound("challenge_id", "no challenge %s was raised", id)
	}
	return Target{School: c.SchoolID}, nil
}

// own is the target of a use case about the actor's own school (a
// governor raising a challenge: the domain checks its subject is of that
// school).
func (l *loader) own(actor Actor) (Target, error) {
	if actor.Kind != KindPerson {
		return Target{}, nil
	}
	p, _, err := domain.PeekSealed(l.ctx, l.a.L.Handler, governance.PersonStream(actor.PersonID), governance.NewPerson)
	if err != nil {
		return Target{}, fmt.Errorf("load person %s: %w", actor.PersonID, err)
	}
	return Target{School: p.SchoolID}, nil
}

func (l *loader) triad(id uuid.UUID) (Target, error) {
	t, _, err := domain.Peek(l.ctx, l.a.L.Handler, governance.TriadStream(id), governance.NewTriad)
	if err != nil {
		return Target{}, fmt.Errorf("load triad %s: %w", id, err)
	}
	if t.ID == uuid.Nil {
		return Target{}, notFound("triad_id", "no triad %s was formed", id)
	}
	return Target{School: t.SchoolID}, nil
}

func (l *loader) partnership(field string, id uuid.UUID) (Target, *partnership.Partnership, error) {
	if id == uuid.Nil {
		return Target{}, nil, domain.RejectField(domain.ErrRequired, field, "give the id of the partnership")
	}
	p, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.PartnershipStream(id), partnership.NewPartnership)
	if err != nil {
		return Target{}, nil, fmt.Errorf("load partnership %s: %w", id, err)
	}
	if !p.Formed() {
		return Target{}, nil, notFound(field, "no partnership %s has been formed", id)
	}
	return Target{Partnership: id}, p, nil
}

// inPartnership is the target of a partnership command about one school
// (named by the command): the school's people and the partnership's lead
// act on it.
func (l *loader) inPartnership(pid, school uuid.UUID) (Target, error) {
	t, _, err := l.partnership("partnership_id", pid)
	if err != nil {
		return t, err
	}
	t.School = school
	t.Parties = []uuid.UUID{school}
	return t, nil
}

func (l *loader) resource(id uuid.UUID) (Target, *partnership.Resource, error) {
	if id == uuid.Nil {
		return Target{}, nil, domain.RejectField(domain.ErrRequired, "resource_id", "give the id of the resource")
	}
	r, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.ResourceStream(id), partnership.NewResource)
	if err != nil {
		return Target{}, nil, fmt.Errorf("load resource %s: %w", id, err)
	}
	if !r.Registered() {
		return Target{}, nil, notFound("resource_id", "no resource %s is registered", id)
	}
	return Target{Partnership: r.PartnershipID, School: r.OwnerSchoolID, Parties: []uuid.UUID{r.OwnerSchoolID}}, r, nil
}

// loan is the target of a loan: the owning school, with the borrowing
// school as a party.
func (l *loader) loan(resource, loan uuid.UUID) (Target, error) {
	t, r, err := l.resource(resource)
	if err != nil {
		return t, err
	}
	ln, ok := r.Loan(loan)
	if !ok {
		return Target{}, notFound("loan_id", "resource %s has no loan %s", resource, loan)
	}
	t.Parties = []uuid.UUID{r.OwnerSchoolID, ln.BorrowerSchoolID}
	return t, nil
}

func (l *loader) cpd(id uuid.UUID) (Target, *partnership.CPDEvent, error) {
	if id == uuid.Nil {
		return Target{}, nil, domain.RejectField(domain.ErrRequired, "cpd_id", "give the id of the CPD event")
	}
	c, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.CPDStream(id), partnership.NewCPDEvent)
	if err != nil {
		return Target{}, nil, fmt.Errorf("load CPD event %s: %w", id, err)
	}
	if !c.Organised() {
		return Target{}, nil, notFound("cpd_id", "no CPD event %s is organised", id)
	}
	return Target{Partnership: c.PartnershipID, School: c.OrganiserSchoolID, Parties: []uuid.UUID{c.OrganiserSchoolID}}, c, nil
}

// booking is the target of a CPD booking: the booking school, with the
// organising school as a party.
func (l *loader) booking(cpd, booking uuid.UUID) (Target, error) {
	t, c, err := l.cpd(cpd)
	if err != nil {
		return t, err
	}
	b, ok := c.Booking(booking)
	if !ok {
		return Target{}, notFound("booking_id", "CPD event %s has no booking %s", cpd, booking)
	}
	t.School = b.SchoolID
	t.Parties = []uuid.UUID{c.OrganiserSchoolID, b.SchoolID}
	return t, nil
}

func (l *loader) review(id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, "review_id", "give the id of the review")
	}
	r, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.ReviewStream(id), partnership.NewReview)
	if err != nil {
		return Target{}, fmt.Errorf("load review %s: %w", id, err)
	}
	if !r.Scheduled() {
		return Target{}, notFound("review_id", "no peer review %s is scheduled", id)
	}
	return Target{Partnership: r.PartnershipID, School: r.ReviewedSchoolID,
		Parties: append([]uuid.UUID{r.ReviewedSchoolID}, r.ReviewerSchoolIDs...)}, nil
}

func (l *loader) commitment(id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, "commitment_id", "give the id of the commitment")
	}
	c, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.CommitmentStream(id), partnership.NewCommitment)
	if err != nil {
		return Target{}, fmt.Errorf("load commitment %s: %w", id, err)
	}
	if !c.Made() {
		return Target{}, notFound("commitment_id", "no commitment %s was made", id)
	}
	return Target{Partnership: c.PartnershipID, School: c.SchoolID, Parties: []uuid.UUID{c.SchoolID}}, nil
}

func (l *loader) timeline(id uuid.UUID) (Target, error) {
	if id == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, "timeline_id", "give the id of the timeline")
	}
	t, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.TimelineStream(id), partnership.NewTimeline)
	if err != nil {
		return Target{}, fmt.Errorf("load timeline %s: %w", id, err)
	}
	if !t.Created() {
		return Target{}, notFound("timeline_id", "no timeline %s was created", id)
	}
	return Target{Partnership: t.PartnershipID, School: t.SchoolID, Parties: []uuid.UUID{t.SchoolID}}, nil
}

func (l *loader) secondment(teacher, id uuid.UUID) (Target, error) {
	if teacher == uuid.Nil {
		return Target{}, domain.RejectField(domain.ErrRequired, "teacher_id", "give the id of the seconded teacher")
	}
	a, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.SecondmentsStream(teacher), partnership.NewSecondments)
	if err != nil {
		return Target{}, fmt.Errorf("load the secondments of %s: %w", teacher, err)
	}
	s, ok := a.Secondment(id)
	if !ok {
		return Target{}, notFound("secondment_id", "teacher %s has no secondment %s", teacher, id)
	}
	return Target{Partnership: s.PartnershipID, Parties: []uuid.UUID{s.LendingSchoolID, s.ReceivingSchoolID}}, nil
}

// StreamTarget returns what a stream of the ledger belongs to: the school
// and ISLC of a governance record, the partnership and schools of a
// partnership record. ok is false for a stream that is neither (the
// transparency log's own, the system's) or a record that does not exist.
func (a *App) StreamTarget(ctx context.Context, stream string) (t Target, ok bool, err error) {
	l := a.load(ctx)
	if kind, id, isGov := governance.ParseStream(stream); isGov {
		switch kind {
		case governance.KindSchool:
			t, err = l.school("stream", id)
		case governance.KindPerson:
			t, err = l.person("stream", id)
		case governance.KindCommunity:
			t, err = l.community("stream", id)
		case governance.KindProposal:
			t, err = l.proposal(id)
		case governance.KindChallenge:
			t, err = l.challenge(id)
		default:
			t, err = l.triad(id)
		}
		return targetOK(t, err)
	}
	kind, id, isPart := partnership.ParseStream(stream)
	if !isPart {
		return Target{}, false, nil
	}
	switch kind {
	case partnership.KindPartnership:
		t, _, err = l.partnership("stream", id)
	case partnership.KindResource:
		t, _, err = l.resource(id)
	case partnership.KindCPD:
		t, _, err = l.cpd(id)
	case partnership.KindReview:
		t, err = l.review(id)
	case partnership.KindCommitment:
		t, err = l.commitment(id)
	case partnership.KindTimeline:
		t, err = l.timeline(id)
	case partnership.KindSecondments:
		t, err = l.teacherSecondments(id)
	case partnership.KindProgress:
		t, err = l.progress(id)
	default: // the cost ledger's id is its partnership's
		t, _, err = l.partnership("stream", id)
	}
	return targetOK(t, err)
}

// StreamTargetAt is StreamTarget for a reader of the log who read the
// ledger's head at position head: the answers worked out at one head are
// kept until the ledger moves on (a stream's target is worked out from
// the records as they stand, so it can change only with an event), and
// a page of the log, which asks for the targets of hundreds of streams,
// asks again for the same ones. Commands and reads of one record use
// StreamTarget. The target's Parties are shared: do not change them.
func (a *App) StreamTargetAt(ctx context.Context, stream string, head uint64) (Target, bool, error) {
	if kept, ok := keptTarget(&a.targets, stream, head); ok {
		return kept.t, kept.ok, nil
	}
	t, ok, err := a.StreamTarget(ctx, stream)
	if err == nil {
		a.targets.put(stream, head, targetAnswer{t, ok})
	}
	return t, ok, err
}

// KeptStreamTarget is the answer StreamTargetAt keeps for stream at head,
// if it keeps one (hit), looked up by the stream's bytes without a copy.
func (a *App) KeptStreamTarget(stream []byte, head uint64) (t Target, ok, hit bool) {
	kept, hit := keptTarget(&a.targets, stream, head)
	return kept.t, kept.ok, hit
}

// targetMemo keeps the targets of streams worked out at one ledger
// position (see StreamTargetAt). Safe for concurrent use.
type targetMemo struct {
	mu  sync.RWMutex
	pos uint64
	m   map[string]targetAnswer
}

type targetAnswer struct {
	t  Target
	ok bool
}

// maxKeptTargets bounds the targets kept (a million-event ledger of fifty
// schools has some tens of thousands of streams).
const maxKeptTargets = 1 << 17

// keptTarget is the target c keeps for stream at pos, looked up by the
// stream's id or its bytes (without a copy).
func keptTarget[S string | []byte](c *targetMemo, stream S, pos uint64) (targetAnswer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.pos != pos {
		return targetAnswer{}, false
	}
	t, ok := c.m[string(stream)]
	return t, ok
}

// put keeps a stream's target worked out at pos; answers of an earlier
// position are dropped, answers arriving for one are not kept.
func (c *targetMemo) put(stream string, pos uint64, t targetAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case pos < c.pos:
		return
	case pos > c.pos || c.m == nil || len(c.m) >= maxKeptTargets:
		c.pos, c.m = pos, make(map[string]targetAnswer)
	}
	c.m[stream] = t
}

func targetOK(t Target, err error) (Target, bool, error) {
	if err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return Target{}, false, nil
		}
		return Target{}, false, err
	}
	return t, true, nil
}

// teacherSecondments is the target of a teacher's secondments record: the
// teacher's school and every school they were seconded to or from.
func (l *loader) teacherSecondments(teacher uuid.UUID) (Target, error) {
	a, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.SecondmentsStream(teacher), partnership.NewSecondments)
	if err != nil {
		return Target{}, fmt.Errorf("load the secondments of %s: %w", teacher, err)
	}
	if len(a.List) == 0 {
		return Target{}, notFound("stream", "teacher %s has no secondments", teacher)
	}
	t := Target{Partnership: a.List[0].PartnershipID, School: a.List[0].LendingSchoolID}
	for _, s := range a.List {
		t.Parties = append(t.Parties, s.LendingSchoolID, s.ReceivingSchoolID)
	}
	return t, nil
}

// progress is the target of a school's progress record in a partnership.
func (l *loader) progress(id uuid.UUID) (Target, error) {
	p, _, err := domain.Peek(l.ctx, l.a.L.Handler, partnership.KindProgress+"-"+id.String(), partnership.NewProgress)
	if err != nil {
		return Target{}, fmt.Errorf("load progress record %s: %w", id, err)
	}
	if p.PartnershipID == uuid.Nil {
		return Target{}, notFound("stream", "no progress record %s", id)
	}
	return Target{Partnership: p.PartnershipID, School: p.SchoolID, Parties: []uuid.UUID{p.SchoolID}}, nil
}

// partnershipIDs lists every partnership formed, from the partnerships
// view (kept up to date by the projections).
func (a *App) partnershipIDs(ctx context.Context) ([]uuid.UUID, error) {
	var out []uuid.UUID
	_, err := views.Read(ctx, a.L.Views, "partnerships", views.AsOf{}, func(v *views.Partnerships) error {
		for _, p := range v.List(nil) {
			out = append(out, p.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the partnerships: %w", err)
	}
	return out, nil
}
