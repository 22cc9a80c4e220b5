package partnership

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// AuditorAppointed records that an outside auditor or inspector was
// appointed to a partnership: from then on they read its records (never
// contact details) and verify its history. Stream `partnership-<id>`.
type AuditorAppointed struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	AuditorID     uuid.UUID `json:"auditor_id" doc:"Person id of the auditor (registered by AuditorRegistered)."`
	AppointedOn   time.Time `json:"appointed_on" doc:"Day the appointment starts."`
}

// AuditorAppointmentEnded records that an auditor's appointment to a
// partnership ended: from then on they read nothing of it.
type AuditorAppointmentEnded struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	AuditorID     uuid.UUID `json:"auditor_id" doc:"Person id of the auditor."`
	EndedOn       time.Time `json:"ended_on" doc:"Last day of the appointment."`
}

// EventType implements domain.Event.
func (AuditorAppointed) EventType() string { return "AuditorAppointed" }

// EventType implements domain.Event.
func (AuditorAppointmentEnded) EventType() string { return "AuditorAppointmentEnded" }

func init() {
	domain.MustRegister[AuditorAppointed](domain.Spec{Type: "AuditorAppointed", Schema: 1, Group: Group,
		Doc: "An outside auditor or inspector was appointed to the partnership: they read its records and verify its history, and record nothing.", EmittedBy: []string{"AppointAuditor"}})
	domain.MustRegister[AuditorAppointmentEnded](domain.Spec{Type: "AuditorAppointmentEnded", Schema: 1, Group: Group,
		Doc: "An auditor's appointment to the partnership ended.", EmittedBy: []string{"EndAuditorAppointment"}})
}

// Rules of auditors' appointments.
var (
	// ErrNotAnAuditor is returned when someone not registered as an
	// auditor is appointed as one.
	ErrNotAnAuditor = domain.NewRule("not-an-auditor", domain.KindInvalid, "Not a registered auditor",
		"Only a person registered as an auditor or inspector can be appointed to audit a partnership.")
)

// HasAuditor reports whether person is appointed to audit p now.
func (p *Partnership) HasAuditor(person uuid.UUID) bool {
	return person != uuid.Nil && slices.Contains(p.Auditors, person)
}

// AppointAuditor is the command to appoint an auditor to a partnership.
type AppointAuditor struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	AuditorID     uuid.UUID `json:"auditor_id"`
	// AppointedOn defaults to meta.EffectiveAt, else today.
	AppointedOn time.Time `json:"appointed_on,omitzero"`
}

// AppointAuditor records AuditorAppointed (nothing if already appointed).
// Returns domain.ErrNotFound for an unknown partnership, ErrNotAnAuditor
// for a person not registered as an auditor.
func (s *Service) AppointAuditor(ctx context.Context, meta domain.Meta, cmd AppointAuditor) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"auditor_id", cmd.AuditorID}); err != nil {
		return domain.Result{}, err
	}
	ok, err := s.dir.IsAuditor(ctx, cmd.AuditorID)
	if err != nil {
		return domain.Result{}, fmt.Errorf("directory: auditor %s: %w", cmd.AuditorID, err)
	}
	if !ok {
		return domain.Result{}, domain.RejectField(ErrNotAnAuditor, "auditor_id", "person %s is not registered as an auditor; register them first", cmd.AuditorID)
	}
	on := Date(cmd.AppointedOn)
	if on.IsZero() {
		on = s.day(meta)
	}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		if !p.Formed() {
			return nil, domain.RejectField(domain.ErrNotFound, "partnership_id", "no partnership %s has been formed", cmd.PartnershipID)
		}
		if p.HasAuditor(cmd.AuditorID) {
			return nil, nil
		}
		return events(AuditorAppointed{PartnershipID: p.ID, AuditorID: cmd.AuditorID, AppointedOn: on}), nil
	})
}

// EndAuditorAppointment is the command to end an auditor's appointment.
type EndAuditorAppointment struct {
	PartnershipID uuid.UUID `json:"partnership_id"`
	AuditorID     uuid.UUID `json:"auditor_id"`
	// EndedOn defaults to meta.EffectiveAt, else today.
	EndedOn time.Time `json:"ended_on,omitzero"`
}

// EndAuditorAppointment records AuditorAppointmentEnded. Returns
// domain.ErrNotFound for an unknown partnership or an auditor not
// appointed to it.
func (s *Service) EndAuditorAppointment(ctx context.Context, meta domain.Meta, cmd EndAuditorAppointment) (domain.Result, error) {
	if err := requireIDs(fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"auditor_id", cmd.AuditorID}); err != nil {
		return domain.Result{}, err
	}
	on := Date(cmd.EndedOn)
	if on.IsZero() {
		on = s.day(meta)
	}
	return run(ctx, s, PartnershipStream(cmd.PartnershipID), NewPartnership, meta, func(p *Partnership) ([]domain.Event, error) {
		if !p.Formed() {
			return nil, domain.RejectField(domain.ErrNotFound, "partnership_id", "no partnership %s has been formed", cmd.PartnershipID)
		}
		if !p.HasAuditor(cmd.AuditorID) {
			return nil, domain.RejectField(domain.ErrNotFound, "auditor_id", "person %s is not appointed to audit %s", cmd.AuditorID, p.Name)
		}
		return events(AuditorAppointmentEnded{PartnershipID: p.ID, AuditorID: cmd.AuditorID, EndedOn: on}), nil
	})
}
