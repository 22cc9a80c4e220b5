package governance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Governors hold the Director to account (seed 000: "The governing body
// will have the key responsibility of holding the Director to account").
// A governor raises a challenge on a decision, a proposal, an election, a
// loan or the school as a whole, with a due day; the Director answers it.
// Each challenge is its own record, challenge-<id>.

// Kinds of what a challenge is about.
const (
	SubjectSchool   = "school"
	SubjectProposal = "proposal"
	SubjectDecision = "decision"
	SubjectElection = "election"
	SubjectLoan     = "loan"
)

// ChallengeSubject is what a challenge is about: its kind, its id, and
// the record that holds it (the proposal of a decision, the ISLC of an
// election, the resource of a loan; zero for a school or a proposal).
type ChallengeSubject struct {
	Kind   string    `json:"kind" doc:"school, proposal, decision, election or loan."`
	ID     uuid.UUID `json:"id" doc:"Id of the school, proposal, decision (the event recording it), election or loan."`
	Within uuid.UUID `json:"within" doc:"The record holding it: the proposal of a decision, the ISLC of an election, the resource of a loan (all zeros otherwise)."`
}

// ChallengeRaised records a governor's challenge to the Director.
type ChallengeRaised struct {
	ChallengeID uuid.UUID        `json:"challenge_id" doc:"Id of the challenge."`
	SchoolID    uuid.UUID        `json:"school_id" doc:"Id of the governor's school."`
	GovernorID  uuid.UUID        `json:"governor_id" doc:"The governor who raised it (the acting person)."`
	Subject     ChallengeSubject `json:"subject" doc:"What it is about."`
	Text        string           `json:"text" doc:"The challenge."`
	DueOn       time.Time        `json:"due_on" doc:"Day by which the Director answers."`
	RaisedOn    time.Time        `json:"raised_on" doc:"Day it was raised."`
}

// ChallengeAnswered records the Director's answer to a challenge.
type ChallengeAnswered struct {
	ChallengeID uuid.UUID `json:"challenge_id" doc:"Id of the challenge."`
	SchoolID    uuid.UUID `json:"school_id" doc:"Id of the school."`
	DirectorID  uuid.UUID `json:"director_id" doc:"The Director who answered (the acting person)."`
	Answer      string    `json:"answer" doc:"The Director's answer."`
	AnsweredOn  time.Time `json:"answered_on" doc:"Day it was answered."`
	Late        bool      `json:"late" doc:"True when answered after the due day."`
}

// EventType implements domain.Event.
func (ChallengeRaised) EventType() string { return "ChallengeRaised" }

// EventType implements domain.Event.
func (ChallengeAnswered) EventType() string { return "ChallengeAnswered" }

func init() {
	domain.MustRegister[ChallengeRaised](domain.Spec{Type: "ChallengeRaised", Schema: 1, Group: Group,
		Doc:       "A governor challenged the Director on a decision, a proposal, an election, a loan or the school, with a day to answer by (governors hold the Director to account). Stream `challenge-<id>`.",
		EmittedBy: []string{"RaiseChallenge"}})
	domain.MustRegister[ChallengeAnswered](domain.Spec{Type: "ChallengeAnswered", Schema: 1, Group: Group,
		Doc: "The Director answered a governor's challenge, on time or late.", EmittedBy: []string{"AnswerChallenge"}})
}

// Challenge is the aggregate of one governor's challenge.
type Challenge struct {
	ID         uuid.UUID
	SchoolID   uuid.UUID
	GovernorID uuid.UUID
	Subject    ChallengeSubject
	Text       string
	DueOn      time.Time
	RaisedOn   time.Time
	// Set once answered.
	Answered   bool
	DirectorID uuid.UUID
	Answer     string
	AnsweredOn time.Time
	Late       bool
}

// NewChallenge returns an empty Challenge aggregate.
func NewChallenge() *Challenge { return &Challenge{} }

// Raised reports whether the challenge was raised.
func (c *Challenge) Raised() bool { return c.ID != uuid.Nil }

// OverdueOn reports whether the challenge is unanswered after its due
// day, on day d.
func (c *Challenge) OverdueOn(d time.Time) bool { return !c.Answered && Date(d).After(c.DueOn) }

// Apply implements domain.Aggregate.
func (c *Challenge) Apply(m domain.Message) {
	switch e := m.Event.(type) {
	case ChallengeRaised:
		c.ID, c.SchoolID, c.GovernorID, c.Subject, c.Text, c.DueOn, c.RaisedOn = e.ChallengeID, e.SchoolID, e.GovernorID, e.Subject, e.Text, Date(e.DueOn), Date(e.RaisedOn)
	case ChallengeAnswered:
		c.Answered, c.DirectorID, c.Answer, c.AnsweredOn, c.Late = true, e.DirectorID, e.Answer, Date(e.AnsweredOn), e.Late
	}
}

// Check implements domain.Checker.
func (c *Challenge) Check(m domain.Message) error {
	switch e := m.Event.(type) {
	case ChallengeRaised:
		if c.Raised() {
			return domain.RejectField(domain.ErrAlreadyExists, "challenge_id", "challenge %s is already raised", c.ID)
		}
		return checkRaised(e.Subject.Kind, e.Text, Date(e.RaisedOn), Date(e.DueOn))
	case ChallengeAnswered:
		if !c.Raised() {
			return domain.RejectField(domain.ErrNotFound, "challenge_id", "the challenge is not raised yet")
		}
		if c.Answered {
			return domain.Reject(ErrChallengeAnswered, "challenge %s was answered on %s", c.ID, c.AnsweredOn.Format(time.DateOnly))
		}
		if err := requiredText("answer", e.Answer, "the answer"); err != nil {
			return err
		}
		if on := Date(e.AnsweredOn); on.Before(c.RaisedOn) || e.Late != on.After(c.DueOn) {
			return domain.RejectField(domain.ErrInvalidValue, "answered_on", "an answer on %s to a challenge raised on %s and due on %s is late exactly when after the due day",
				on.Format(time.DateOnly), c.RaisedOn.Format(time.DateOnly), c.DueOn.Format(time.DateOnly))
		}
	}
	return nil
}

// checkRaised applies the rules of a challenge's fields.
func checkRaised(kind, text string, raised, due time.Time) error {
	switch kind {
	case SubjectSchool, SubjectProposal, SubjectDecision, SubjectElection, SubjectLoan:
	default:
		return domain.RejectField(domain.ErrInvalidValue, "subject.kind", "%q is not what a challenge is about; use school, proposal, decision, election or loan", kind)
	}
	if err := requiredText("text", text, "the challenge"); err != nil {
		return err
	}
	if due.IsZero() {
		return domain.RejectField(domain.ErrRequired, "due_on", "give the day by which the Director answers")
	}
	if due.Before(raised) {
		return domain.RejectField(domain.ErrInvalidValue, "due_on", "a challenge raised on %s cannot be due before then (%s)", raised.Format(time.DateOnly), due.Format(time.DateOnly))
	}
	return nil
}

// Loans says which schools a loan of a shared resource is between, for a
// challenge on a loan. partnership.Service implements it; the wiring sets
// it with Service.SetLoans.
type Loans interface {
	// LoanSchools returns the owning and the borrowing school of loan of
	// resource; ok is false for a loan that does not exist.
	LoanSchools(ctx context.Context, resource, loan uuid.UUID) (owner, borrower uuid.UUID, ok bool, err error)
}

// SetLoans sets what answers for loans. It is not safe to call while
// commands run: call it when wiring.
func (s *Service) SetLoans(l Loans) { s.loans = l }

// RaiseChallenge is a governor's challenge to the Director. The governor
// is the acting person.
type RaiseChallenge struct {
	ChallengeID uuid.UUID        `json:"challenge_id"`
	Subject     ChallengeSubject `json:"subject"`
	Text        string           `json:"text"`
	// DueOn is the day by which the Director answers.
	DueOn time.Time `json:"due_on"`
}

// RaiseChallenge records ChallengeRaised, raised on the effective day
// (meta.EffectiveAt, else today). Returns ErrNoActingPerson without a
// person acting, ErrNotGovernor unless they are a governor of a school
// who had not left, domain.ErrRequired or ErrInvalidValue for a missing
// text, a due day missing or before the raising, or an unknown kind of
// subject, domain.ErrNotFound for a subject that does not exist,
// ErrChallengeOutsideSchool for one of another school,
// domain.ErrAlreadyExists for a challenge id already used.
func (s *Service) RaiseChallenge(ctx context.Context, meta domain.Meta, cmd RaiseChallenge) (domain.Result, error) {
	by, err := actor(meta, "governor_id", "Raising a challenge")
	if err != nil {
		return domain.Result{}, err
	}
	if err := required("challenge_id", cmd.ChallengeID, "the challenge"); err != nil {
		return domain.Result{}, err
	}
	raised, err := s.dayOf("raised_on", time.Time{}, meta)
	if err != nil {
		return domain.Result{}, err
	}
	text := strings.TrimSpace(cmd.Text)
	if err := checkRaised(cmd.Subject.Kind, text, raised, Date(cmd.DueOn)); err != nil {
		return domain.Result{}, err
	}
	g, err := s.person(ctx, "governor_id", by)
	if err != nil {
		return domain.Result{}, err
	}
	if g.Kind != PersonGovernor || g.Left() && raised.After(g.LeftOn) {
		return domain.Result{}, domain.RejectField(ErrNotGovernor, "governor_id", "person %s is not a governor in office; governors raise challenges", by)
	}
	if err := s.checkSubject(ctx, g.SchoolID, cmd.Subject); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, ChallengeStream(cmd.ChallengeID), NewChallenge, meta, func(c *Challenge) ([]domain.Event, error) {
		if c.Raised() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "challenge_id", "challenge %s is already raised", c.ID)
		}
		return events(ChallengeRaised{ChallengeID: cmd.ChallengeID, SchoolID: g.SchoolID, GovernorID: by, Subject: cmd.Subject, Text: text,
			DueOn: Date(cmd.DueOn), RaisedOn: raised}), nil
	})
}

// checkSubject checks that subject exists and concerns school.
func (s *Service) checkSubject(ctx context.Context, school uuid.UUID, subject ChallengeSubject) error {
	if err := required("subject.id", subject.ID, "what the challenge is about"); err != nil {
		return err
	}
	outside := func(what string) error {
		return domain.RejectField(ErrChallengeOutsideSchool, "subject.id", "%s %s does not concern the governor's school %s", what, subject.ID, school)
	}
	switch subject.Kind {
	case SubjectSchool:
		if subject.ID != school {
			return outside("school")
		}
	case SubjectProposal:
		p, err := s.proposal(ctx, subject.ID)
		if err != nil {
			return err
		}
		if p.SchoolID != school {
			return outside("proposal")
		}
	case SubjectDecision:
		p, err := s.proposal(ctx, subject.Within)
		if err != nil {
			return err
		}
		recs, err := s.h.Log.ReadStream(ctx, ProposalStream(subject.Within))
		if err != nil {
			return fmt.Errorf("read %s: %w", ProposalStream(subject.Within), err)
		}
		found := false
		for _, r := range recs {
			found = found || r.ID == subject.ID && (r.Type == "ProposalApproved" || r.Type == "ProposalReturned")
		}
		if !found {
			return domain.RejectField(domain.ErrNotFound, "subject.id", "proposal %s has no decision %s", subject.Within, subject.ID)
		}
		if p.SchoolID != school {
			return outside("decision")
		}
	case SubjectElection:
		c, err := s.community(ctx, "subject.within", subject.Within)
		if err != nil {
			return err
		}
		if _, ok := c.Election(subject.ID); !ok {
			return domain.RejectField(domain.ErrNotFound, "subject.id", "the %s ISLC has no election %s", c.Name, subject.ID)
		}
		if c.SchoolID != school {
			return outside("election")
		}
	case SubjectLoan:
		if s.loans == nil {
			return domain.RejectField(domain.ErrNotFound, "subject.id", "this ledger keeps no loans to challenge")
		}
		owner, borrower, ok, err := s.loans.LoanSchools(ctx, subject.Within, subject.ID)
		if err != nil {
			return fmt.Errorf("loan %s: %w", subject.ID, err)
		}
		if !ok {
			return domain.RejectField(domain.ErrNotFound, "subject.id", "resource %s has no loan %s", subject.Within, subject.ID)
		}
		if owner != school && borrower != school {
			return outside("loan")
		}
	}
	return nil
}

// AnswerChallenge is the Director's answer to a governor's challenge. The
// Director is the acting person.
type AnswerChallenge struct {
	ChallengeID uuid.UUID `json:"challenge_id"`
	Answer      string    `json:"answer"`
}

// AnswerChallenge records ChallengeAnswered, answered on the effective day
// (meta.EffectiveAt, else today), late when after the due day. Returns
// ErrNoActingPerson without a person acting, domain.ErrRequired without an
// answer, domain.ErrNotFound for an unknown challenge, ErrNotDirector
// unless the acting person is the school's Director, ErrChallengeAnswered
// once answered.
func (s *Service) AnswerChallenge(ctx context.Context, meta domain.Meta, cmd AnswerChallenge) (domain.Result, error) {
	by, err := actor(meta, "director_id", "Answering a challenge")
	if err != nil {
		return domain.Result{}, err
	}
	answer := strings.TrimSpace(cmd.Answer)
	if err := firstErr(required("challenge_id", cmd.ChallengeID, "the challenge"), requiredText("answer", answer, "the answer")); err != nil {
		return domain.Result{}, err
	}
	on, err := s.dayOf("answered_on", time.Time{}, meta)
	if err != nil {
		return domain.Result{}, err
	}
	c, _, err := domain.Peek(ctx, s.h, ChallengeStream(cmd.ChallengeID), NewChallenge)
	if err != nil {
		return domain.Result{}, err
	}
	if !c.Raised() {
		return domain.Result{}, domain.RejectField(domain.ErrNotFound, "challenge_id", "no challenge %s is raised", cmd.ChallengeID)
	}
	sc, err := s.school(ctx, "challenge_id", c.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	if sc.DirectorID == uuid.Nil || sc.DirectorID != by {
		return domain.Result{}, domain.RejectField(ErrNotDirector, "director_id", "person %s is not the Director of %s; the Director answers governors' challenges", by, sc.Name)
	}
	return run(ctx, s, ChallengeStream(cmd.ChallengeID), NewChallenge, meta, func(c *Challenge) ([]domain.Event, error) {
		if c.Answered {
			return nil, domain.Reject(ErrChallengeAnswered, "challenge %s was answered on %s", c.ID, c.AnsweredOn.Format(time.DateOnly))
		}
		if on.Before(c.RaisedOn) {
			return nil, domain.RejectField(domain.ErrInvalidValue, "answered_on", "the challenge was raised on %s; it cannot be answered before", c.RaisedOn.Format(time.DateOnly))
		}
		return events(ChallengeAnswered{ChallengeID: c.ID, SchoolID: c.SchoolID, DirectorID: by, Answer: answer, AnsweredOn: on, Late: on.After(c.DueOn)}), nil
	})
}
