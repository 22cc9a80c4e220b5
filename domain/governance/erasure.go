package governance

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// PersonalDataErased records that a person's name and contact details were
// erased on request (the UK GDPR right to erasure). The event itself holds
// no personal data; the erasure is completed by destroying the person's key
// (crypto-shredding), after which every sealed copy of their details, in
// every event, export and backup, is unreadable while the events, their
// hashes and every proof stay as they were.
type PersonalDataErased struct {
	PersonID uuid.UUID `json:"person_id" doc:"Id of the person whose personal data was erased."`
	SchoolID uuid.UUID `json:"school_id" doc:"Id of their school."`
	Reason   string    `json:"reason" doc:"Why the data was erased (e.g. the request's reference); must not itself hold personal data."`
}

// EventType implements domain.Event.
func (PersonalDataErased) EventType() string { return "PersonalDataErased" }

func init() {
	domain.MustRegister[PersonalDataErased](domain.Spec{Type: "PersonalDataErased", Schema: 1, Group: Group,
		Doc:       "A person's name and contact details were erased on request; their key is destroyed, so every sealed copy becomes unreadable while their decisions stay on the ledger by id.",
		EmittedBy: []string{"ErasePersonalData"}})
}

// ErasePersonalData erases a person's personal data.
type ErasePersonalData struct {
	PersonID uuid.UUID `json:"person_id"`
	// Reason says why (a request reference, not personal data itself).
	Reason string `json:"reason"`
}

// erasure is the person aggregate as the erasure command sees it: the
// person, and whether their erasure was recorded already.
type erasure struct {
	person *Person
	erased bool
}

func newErasure() *erasure { return &erasure{person: NewPerson()} }

// Apply implements domain.Aggregate.
func (a *erasure) Apply(m domain.Message) {
	a.person.Apply(m)
	if _, ok := m.Event.(PersonalDataErased); ok {
		a.erased = true
	}
}

// ErasePersonalData records PersonalDataErased in the person's stream.
// The caller then destroys the person's key (the event alone erases
// nothing). Erasing a person a second time records nothing and succeeds,
// so a request retried after a crash between the event and the key's
// destruction completes the erasure.
//
// Returns domain.ErrRequired without a person id or a reason (the
// reason defaults to meta.Reason), domain.ErrNotFound for a person who was
// never registered.
func (s *Service) ErasePersonalData(ctx context.Context, meta domain.Meta, cmd ErasePersonalData) (domain.Result, error) {
	reason := strings.TrimSpace(cmd.Reason)
	if reason == "" {
		reason = strings.TrimSpace(meta.Reason)
	}
	if err := firstErr(required("person_id", cmd.PersonID, "the person"), requiredText("reason", reason, "the reason for the erasure")); err != nil {
		return domain.Result{}, err
	}
	if meta.Reason == "" {
		meta.Reason = reason
	}
	return run(ctx, s, PersonStream(cmd.PersonID), newErasure, meta, func(a *erasure) ([]domain.Event, error) {
		if !a.person.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "person_id", "no person %s is registered", cmd.PersonID)
		}
		if a.erased {
			return nil, nil
		}
		return events(PersonalDataErased{PersonID: a.person.ID, SchoolID: a.person.SchoolID, Reason: reason}), nil
	})
}
