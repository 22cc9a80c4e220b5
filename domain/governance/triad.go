package governance

import (
	"slices"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// TriadFormed records a peer coaching triad of three staff of one school
// for a year.
type TriadFormed struct {
	TriadID  uuid.UUID   `json:"triad_id" doc:"Id of the triad."`
	SchoolID uuid.UUID   `json:"school_id" doc:"Id of the school."`
	Year     string      `json:"year" doc:"Academic year."`
	Members  []uuid.UUID `json:"members" doc:"The three staff members."`
}

// EventType implements domain.Event.
func (TriadFormed) EventType() string { return "TriadFormed" }

func init() {
	domain.MustRegister[TriadFormed](domain.Spec{Type: "TriadFormed", Schema: 1, Group: Group,
		Doc: "A peer coaching triad of three staff members of one school was formed for a year.", EmittedBy: []string{"FormTriad"}})
}

// Triad is the aggregate of a peer coaching triad.
type Triad struct {
	ID       uuid.UUID
	SchoolID uuid.UUID
	Year     string
	Members  []uuid.UUID
}

// NewTriad returns an empty Triad aggregate.
func NewTriad() *Triad { return &Triad{} }

// Apply implements domain.Aggregate.
func (t *Triad) Apply(m domain.Message) {
	if e, ok := m.Event.(TriadFormed); ok {
		t.ID, t.SchoolID, t.Year, t.Members = e.TriadID, e.SchoolID, e.Year, slices.Clone(e.Members)
	}
}
