package governance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// DirectorLeft records that the school's Director left the school: the
// school has no Director, and the Leadership Team no one to chair it and
// sign off its decisions, until another is appointed.
type DirectorLeft struct {
	SchoolID   uuid.UUID `json:"school_id" doc:"Id of the school."`
	DirectorID uuid.UUID `json:"director_id" doc:"The Director who left."`
	LeftOn     time.Time `json:"left_on" doc:"Their last day."`
}

// EventType implements domain.Event.
func (DirectorLeft) EventType() string { return "DirectorLeft" }

func init() {
	domain.MustRegister[DirectorLeft](domain.Spec{Type: "DirectorLeft", Schema: 1, Group: Group,
		Doc:       "The school's Director left the school; until another is appointed the school has no Director and the Leadership Team's decisions wait for one to sign them off.",
		EmittedBy: []string{"LeaveSchool"}})
}

// Reasons recorded on the events that end a person's places when they
// leave.
const (
	// ReasonLeftCommunity: the person left the ISLC.
	ReasonLeftCommunity = "left_community"
	// ReasonLeftSchool: the person left the school.
	ReasonLeftSchool = "left_school"
)

// Leavers is told when a person leaves a school, so that what they hold
// outside governance ends on the same day (a partnership's secondments of
// a teacher). partnership.Service implements it; the wiring adds it with
// Service.AddLeavers.
type Leavers interface {
	// PersonLeftSchool ends what person, who left school on lastDay,
	// holds, and returns the events it recorded. Calling it again for the
	// same leaving records nothing more.
	PersonLeftSchool(ctx context.Context, meta domain.Meta, person, school uuid.UUID, lastDay time.Time) ([]domain.Message, error)
}

// AddLeavers adds l to those told when a person leaves a school. It is
// not safe to call while commands run: call it when wiring.
func (s *Service) AddLeavers(l Leavers) { s.leavers = append(s.leavers, l) }

// LeaveSchool records that a person left the school.
type LeaveSchool struct {
	PersonID uuid.UUID `json:"person_id"`
	// LeftOn is their last day (default: meta.EffectiveAt, else today).
	LeftOn time.Time `json:"left_on,omitzero"`
}

// LeaveSchool records PersonLeftSchool and then ends, at that day, every
// place the person holds, each as events in its own record: every
// membership of an ISLC not over by then (MemberLeft, with the exception
// left_school when before the end of its year), every chair (ChairVacated)
// and so their seat on the Leadership Team, every nomination and
// candidacy in a running election (CandidateWithdrawn), the school's
// Director (DirectorLeft), and through the Leavers added, the rest
// (secondments from the school). Their right to vote or decide ends with
// those places: votes of the Team they cast in a round still open lapse.
// The consequences carry the leaving day as their effective time.
//
// The result's Stream and Revision are the person's; its Events are
// every event recorded, in every record. Leaving again on the same day
// records what is missing and nothing else, so a leaving interrupted
// (a crash between records) is completed by recording it again.
//
// Returns domain.ErrNotFound for an unknown person, ErrPersonLeft if they
// left on another day, domain.ErrFutureDate for a day not come yet.
func (s *Service) LeaveSchool(ctx context.Context, meta domain.Meta, cmd LeaveSchool) (domain.Result, error) {
	if err := required("person_id", cmd.PersonID, "the person"); err != nil {
		return domain.Result{}, err
	}
	left, err := s.dayOf("left_on", cmd.LeftOn, meta)
	if err != nil {
		return domain.Result{}, err
	}
	res, err := run(ctx, s, PersonStream(cmd.PersonID), NewPerson, meta, func(p *Person) ([]domain.Event, error) {
		if !p.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "person_id", "no person %s is registered", cmd.PersonID)
		}
		if p.Left() {
			if p.LeftOn.Equal(left) {
				return nil, nil
			}
			return nil, domain.RejectField(ErrPersonLeft, "left_on", "person %s already left the school on %s; correct that event instead", p.ID, p.LeftOn.Format(time.DateOnly))
		}
		return events(PersonLeftSchool{PersonID: p.ID, SchoolID: p.SchoolID, LeftOn: left}), nil
	})
	if err != nil {
		return res, err
	}
	p, err := s.person(ctx, "person_id", cmd.PersonID)
	if err != nil {
		return res, err
	}
	// The consequences take effect on the last day, and are caused by
	// the leaving.
	meta.EffectiveAt = left
	if len(res.Events) > 0 {
		meta.CausationID = res.Events[0].ID
	}
	more, err := s.settleLeaving(ctx, meta, p, left)
	res.Events = append(res.Events, more...)
	return res, err
}

// settleLeaving records the consequences of p's leaving on day left.
func (s *Service) settleLeaving(ctx context.Context, meta domain.Meta, p *Person, left time.Time) ([]domain.Message, error) {
	var out []domain.Message
	sc, err := s.school(ctx, "person_id", p.SchoolID)
	if err != nil {
		return nil, err
	}
	if sc.DirectorID == p.ID {
		r, err := run(ctx, s, SchoolStream(sc.ID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
			if sc.DirectorID != p.ID {
				return nil, nil
			}
			return events(DirectorLeft{SchoolID: sc.ID, DirectorID: p.ID, LeftOn: left}), nil
		})
		if err != nil {
			return out, fmt.Errorf("end the Director's office of %s: %w", p.ID, err)
		}
		out = append(out, r.Events...)
	}
	communities, err := s.communitiesOf(ctx, sc)
	if err != nil {
		return out, err
	}
	for _, c := range communities {
		r, err := run(ctx, s, CommunityStream(c.ID), NewCommunity, meta, func(c *Community) ([]domain.Event, error) {
			return leavingSchool(c, p.ID, left), nil
		})
		if err != nil {
			return out, fmt.Errorf("end the places of %s in the %s ISLC: %w", p.ID, c.Name, err)
		}
		out = append(out, r.Events...)
	}
	var errs []error
	for _, l := range s.leavers {
		msgs, err := l.PersonLeftSchool(ctx, meta, p.ID, p.SchoolID, left)
		out = append(out, msgs...)
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// leavingSchool returns the events that end person's places in c when
// they leave the school on day left: each membership not over by then,
// the chair they hold, their nominations and candidacies.
func leavingSchool(c *Community, person uuid.UUID, left time.Time) []domain.Event {
	var out []domain.Event
	for _, m := range c.Memberships {
		if m.PersonID != person || !m.Active() || m.TermEndsOn.Before(left) {
			continue
		}
		exception := ""
		if left.Before(m.TermEndsOn) {
			exception = ExceptionLeftSchool
		}
		out = append(out, MemberLeft{CommunityID: c.ID, SchoolID: c.SchoolID, PersonID: person, Year: m.Year, LeftOn: left, Exception: exception})
		out = append(out, vacating(c, person, m.Year, ReasonLeftSchool)...)
	}
	return out
}

// vacating returns the events that follow a member's leaving c for year:
// ChairVacated if they are its chair in office, CandidateWithdrawn for
// each running election of the year they stand in or are nominated for.
func vacating(c *Community, person uuid.UUID, year, reason string) []domain.Event {
	var out []domain.Event
	if chair, ok := c.ChairInOffice(year); ok && chair == person {
		out = append(out, ChairVacated{CommunityID: c.ID, SchoolID: c.SchoolID, Year: year, ChairID: chair, Reason: reason})
	}
	for _, e := range c.Elections {
		if e.Decided() || e.Year != year {
			continue
		}
		n, nominated := e.Nomination(person)
		if e.Standing(person) || e.Status == StatusNominating && nominated && (n.Answer == AnswerPending || n.Answer == AnswerAccepted) {
			out = append(out, CandidateWithdrawn{ElectionID: e.ID, CommunityID: c.ID, CandidateID: person, Reason: reason})
		}
	}
	return out
}
