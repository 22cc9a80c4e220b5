package partnership

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// PartyKind is who makes a commitment: a school or one of its ISLCs.
type PartyKind string

// The kinds of committed party.
const (
	PartySchool    PartyKind = "school"
	PartyCommunity PartyKind = "community"
)

// String implements fmt.Stringer.
func (k PartyKind) String() string { return string(k) }

// CommitmentStatus is where a commitment stands.
type CommitmentStatus string

// The statuses of a commitment.
const (
	CommitmentOpenStatus     CommitmentStatus = "open"
	CommitmentAchievedStatus CommitmentStatus = "achieved"
	CommitmentMissedStatus   CommitmentStatus = "missed"
)

// String implements fmt.Stringer.
func (s CommitmentStatus) String() string { return string(s) }

// CommitmentMade records a school or ISLC committing to a partnership
// priority.
type CommitmentMade struct {
	PartnershipID  uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CommitmentID   uuid.UUID `json:"commitment_id" doc:"Id of the commitment."`
	PriorityID     uuid.UUID `json:"priority_id" doc:"Id of the partnership priority it serves."`
	AcademicYear   string    `json:"academic_year" doc:"Academic year of the priority, e.g. 2025-26."`
	PartyKind      PartyKind `json:"party_kind" doc:"school or community (an ISLC)."`
	PartyID        uuid.UUID `json:"party_id" doc:"Id of the school or ISLC committed."`
	SchoolID       uuid.UUID `json:"school_id" doc:"Id of the school committed, or of the ISLC's school."`
	OwnerID        uuid.UUID `json:"owner_id" doc:"Person id of who owns the commitment."`
	DueOn          time.Time `json:"due_on" doc:"Day it is due."`
	SuccessMeasure string    `json:"success_measure" doc:"How everyone will know it was achieved."`
}

// CommitmentProgressUpdated records progress on an open commitment.
type CommitmentProgressUpdated struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CommitmentID  uuid.UUID `json:"commitment_id" doc:"Id of the commitment."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school committed (or the ISLC's school)."`
	Note          string    `json:"note" doc:"What has been done."`
	Percent       *int      `json:"percent,omitempty" doc:"How far along it is, 0-100, when that can be said."`
	UpdatedOn     time.Time `json:"updated_on" doc:"Day of the update."`
}

// CommitmentAchieved records a commitment met, with the evidence.
type CommitmentAchieved struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CommitmentID  uuid.UUID `json:"commitment_id" doc:"Id of the commitment."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school committed (or the ISLC's school)."`
	Evidence      string    `json:"evidence" doc:"Evidence that the success measure was met."`
	ClosedOn      time.Time `json:"closed_on" doc:"Day it was marked achieved."`
}

// CommitmentMissed records a commitment not met, with the evidence.
type CommitmentMissed struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	CommitmentID  uuid.UUID `json:"commitment_id" doc:"Id of the commitment."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school committed (or the ISLC's school)."`
	Evidence      string    `json:"evidence" doc:"What happened and what was learned."`
	ClosedOn      time.Time `json:"closed_on" doc:"Day it was marked missed."`
}

// EventType implements domain.Event.
func (CommitmentMade) EventType() string { return "CommitmentMade" }

// EventType implements domain.Event.
func (CommitmentProgressUpdated) EventType() string { return "CommitmentProgressUpdated" }

// EventType implements domain.Event.
func (CommitmentAchieved) EventType() string { return "CommitmentAchieved" }

// EventType implements domain.Event.
func (CommitmentMissed) EventType() string { return "CommitmentMissed" }

func init() {
	domain.MustRegister[CommitmentMade](domain.Spec{Type: "CommitmentMade", Schema: 1, Group: Group,
		Doc: "A member school, or one of its ISLCs, committed to a partnership priority with an owner, a due day and a success measure (collective accountability). Stream `commitment-<id>`; every event of the commitment shares its correlation id.", EmittedBy: []string{"MakeCommitment"}})
	domain.MustRegister[CommitmentProgressUpdated](domain.Spec{Type: "CommitmentProgressUpdated", Schema: 1, Group: Group,
		Doc: "Progress on an open commitment, with an optional percentage.", EmittedBy: []string{"UpdateCommitmentProgress"}})
	domain.MustRegister[CommitmentAchieved](domain.Spec{Type: "CommitmentAchieved", Schema: 1, Group: Group,
		Doc: "The commitment was met; it is closed.", EmittedBy: []string{"MarkCommitmentAchieved"}})
	domain.MustRegister[CommitmentMissed](domain.Spec{Type: "CommitmentMissed", Schema: 1, Group: Group,
		Doc: "The commitment was not met; it is closed.", EmittedBy: []string{"MarkCommitmentMissed"}})
}

// ProgressUpdate is one update of a commitment.
type ProgressUpdate struct {
	Note      string
	Percent   *int
	UpdatedOn time.Time
}

// Commitment is the aggregate of one commitment to a partnership priority.
type Commitment struct {
	ID             uuid.UUID
	PartnershipID  uuid.UUID
	PriorityID     uuid.UUID
	AcademicYear   string
	PartyKind      PartyKind
	PartyID        uuid.UUID
	SchoolID       uuid.UUID
	OwnerID        uuid.UUID
	DueOn          time.Time
	SuccessMeasure string
	Updates        []ProgressUpdate
	Status         CommitmentStatus
	Evidence       string
	ClosedOn       time.Time

	first uuid.UUID
}

// NewCommitment returns an empty Commitment aggregate.
func NewCommitment() *Commitment { return &Commitment{} }

// Made reports whether the commitment has been made.
func (c *Commitment) Made() bool { return c.ID != uuid.Nil }

// Closed reports whether it was marked achieved or missed.
func (c *Commitment) Closed() bool {
	return c.Status == CommitmentAchievedStatus || c.Status == CommitmentMissedStatus
}

// CorrelationID implements domain.Correlated.
func (c *Commitment) CorrelationID() uuid.UUID { return c.first }

// Decided implements domain.Decided: a closed commitment is decided.
func (c *Commitment) Decided() bool { return c.Closed() }

// OverdueOn reports whether the commitment is open after its due day, on
// day d.
func (c *Commitment) OverdueOn(d time.Time) bool {
	return c.Status == CommitmentOpenStatus && Date(d).After(c.DueOn)
}

// LatestPercent returns the most recent percentage given in an update.
func (c *Commitment) LatestPercent() (int, bool) {
	for i := len(c.Updates) - 1; i >= 0; i-- {
		if p := c.Updates[i].Percent; p != nil {
			return *p, true
		}
	}
	return 0, false
}

// Apply implements domain.Aggregate.
func (c *Commitment) Apply(m domain.Message) {
	if c.first == uuid.Nil {
		c.first = m.ID
	}
	switch e := m.Event.(type) {
	case CommitmentMade:
		c.ID, c.PartnershipID, c.PriorityID, c.AcademicYear = e.CommitmentID, e.PartnershipID, e.PriorityID, e.AcademicYear
		c.PartyKind, c.PartyID, c.SchoolID, c.OwnerID, c.DueOn, c.SuccessMeasure = e.PartyKind, e.PartyID, e.SchoolID, e.OwnerID, e.DueOn, e.SuccessMeasure
		c.Status = CommitmentOpenStatus
	case CommitmentProgressUpdated:
		c.Updates = append(c.Updates, ProgressUpdate{Note: e.Note, Percent: e.Percent, UpdatedOn: e.UpdatedOn})
	case CommitmentAchieved:
		c.Status, c.Evidence, c.ClosedOn = CommitmentAchievedStatus, e.Evidence, e.ClosedOn
	case CommitmentMissed:
		c.Status, c.Evidence, c.ClosedOn = CommitmentMissedStatus, e.Evidence, e.ClosedOn
	}
}

// CommitmentsByStatus groups commitments by status (open, achieved,
// missed), each group in the order given.
func CommitmentsByStatus(cs ...*Commitment) map[CommitmentStatus][]*Commitment {
	out := map[CommitmentStatus][]*Commitment{}
	for _, c := range cs {
		out[c.Status] = append(out[c.Status], c)
	}
	return out
}

// MakeCommitment is the command for a member school or one of its ISLCs
// to commit to a priority.
type MakeCommitment struct {
	CommitmentID   uuid.UUID `json:"commitment_id"`
	PartnershipID  uuid.UUID `json:"partnership_id"`
	PriorityID     uuid.UUID `json:"priority_id"`
	PartyKind      PartyKind `json:"party_kind"`
	PartyID        uuid.UUID `json:"party_id"`
	OwnerID        uuid.UUID `json:"owner_id"`
	DueOn          time.Time `json:"due_on"`
	SuccessMeasure string    `json:"success_measure"`
}

// MakeCommitment records CommitmentMade. Returns domain.ErrNotFound for an
// unknown partnership, priority or ISLC, ErrNotPartnershipMember when the
// school (or the ISLC's school) is not a member, domain.ErrAlreadyExists
// for a commitment id already used, and domain.ErrRequired or
// ErrInvalidValue for missing fields or an unknown party kind.
func (s *Service) MakeCommitment(ctx context.Context, meta domain.Meta, cmd MakeCommitment) (domain.Result, error) {
	if err := requireIDs(fieldID{"commitment_id", cmd.CommitmentID}, fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"priority_id", cmd.PriorityID},
		fieldID{"party_id", cmd.PartyID}, fieldID{"owner_id", cmd.OwnerID}); err != nil {
		return domain.Result{}, err
	}
	due := Date(cmd.DueOn)
	if due.IsZero() {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "due_on", "give the day the commitment is due")
	}
	measure, err := text("success_measure", cmd.SuccessMeasure, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	var school uuid.UUID
	switch cmd.PartyKind {
	case PartySchool:
		school = cmd.PartyID
	case PartyCommunity:
		sc, ok, err := s.dir.CommunitySchool(ctx, cmd.PartyID)
		if err != nil {
			return domain.Result{}, fmt.Errorf("directory: ISLC %s: %w", cmd.PartyID, err)
		}
		if !ok {
			return domain.Result{}, domain.RejectField(domain.ErrNotFound, "party_id", "no ISLC %s is established", cmd.PartyID)
		}
		school = sc
	default:
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "party_kind", "%q is not a kind of party: use school or community (an ISLC)", cmd.PartyKind)
	}
	p, err := s.member(ctx, cmd.PartnershipID, fieldID{"party_id", school})
	if err != nil {
		return domain.Result{}, err
	}
	pr, ok := p.Priority(cmd.PriorityID)
	if !ok {
		return domain.Result{}, domain.RejectField(domain.ErrNotFound, "priority_id", "%s has agreed no priority %s", p.Name, cmd.PriorityID)
	}
	return run(ctx, s, CommitmentStream(cmd.CommitmentID), NewCommitment, meta, func(c *Commitment) ([]domain.Event, error) {
		if c.Made() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "commitment_id", "commitment %s is already made", c.ID)
		}
		return events(CommitmentMade{PartnershipID: p.ID, CommitmentID: cmd.CommitmentID, PriorityID: pr.ID, AcademicYear: pr.AcademicYear,
			PartyKind: cmd.PartyKind, PartyID: cmd.PartyID, SchoolID: school, OwnerID: cmd.OwnerID, DueOn: due, SuccessMeasure: measure}), nil
	})
}

// openCommitment runs decide on commitment id once it is known to exist
// and be open.
func (s *Service) openCommitment(ctx context.Context, meta domain.Meta, id uuid.UUID, decide func(*Commitment) domain.Event) (domain.Result, error) {
	return run(ctx, s, CommitmentStream(id), NewCommitment, meta, func(c *Commitment) ([]domain.Event, error) {
		if !c.Made() {
			return nil, domain.RejectField(domain.ErrNotFound, "commitment_id", "no commitment %s is made", id)
		}
		if c.Closed() {
			return nil, domain.Reject(ErrCommitmentClosed, "commitment %s was marked %s on %s; it takes no further updates", c.ID, c.Status, day(c.ClosedOn))
		}
		return events(decide(c)), nil
	})
}

// UpdateCommitmentProgress is the command to record progress on a
// commitment.
type UpdateCommitmentProgress struct {
	CommitmentID uuid.UUID `json:"commitment_id"`
	Note         string    `json:"note"`
	// Percent is optional, 0-100.
	Percent *int `json:"percent"`
}

// UpdateCommitmentProgress records CommitmentProgressUpdated. Returns
// domain.ErrNotFound for an unknown commitment, ErrCommitmentClosed for
// one marked achieved or missed, and domain.ErrRequired or ErrInvalidValue
// for a missing note or a percentage outside 0-100.
func (s *Service) UpdateCommitmentProgress(ctx context.Context, meta domain.Meta, cmd UpdateCommitmentProgress) (domain.Result, error) {
	if err := requireID("commitment_id", cmd.CommitmentID); err != nil {
		return domain.Result{}, err
	}
	note, err := text("note", cmd.Note, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	var pct *int
	if cmd.Percent != nil {
		if *cmd.Percent < 0 || *cmd.Percent > 100 {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "percent", "a percentage is 0 to 100, not %d", *cmd.Percent)
		}
		v := *cmd.Percent
		pct = &v
	}
	today := s.day(meta)
	return s.openCommitment(ctx, meta, cmd.CommitmentID, func(c *Commitment) domain.Event {
		return CommitmentProgressUpdated{PartnershipID: c.PartnershipID, CommitmentID: c.ID, SchoolID: c.SchoolID, Note: note, Percent: pct, UpdatedOn: today}
	})
}

// CloseCommitment is the command to mark a commitment achieved or missed.
type CloseCommitment struct {
	CommitmentID uuid.UUID `json:"commitment_id"`
	Evidence     string    `json:"evidence"`
}

// MarkCommitmentAchieved records CommitmentAchieved. Returns
// domain.ErrNotFound for an unknown commitment, ErrCommitmentClosed for
// one already closed, and domain.ErrRequired without evidence.
func (s *Service) MarkCommitmentAchieved(ctx context.Context, meta domain.Meta, cmd CloseCommitment) (domain.Result, error) {
	return s.closeCommitment(ctx, meta, cmd, true)
}

// MarkCommitmentMissed records CommitmentMissed. Returns
// domain.ErrNotFound for an unknown commitment, ErrCommitmentClosed for
// one already closed, and domain.ErrRequired without evidence.
func (s *Service) MarkCommitmentMissed(ctx context.Context, meta domain.Meta, cmd CloseCommitment) (domain.Result, error) {
	return s.closeCommitment(ctx, meta, cmd, false)
}

func (s *Service) closeCommitment(ctx context.Context, meta domain.Meta, cmd CloseCommitment, achieved bool) (domain.Result, error) {
	if err := requireID("commitment_id", cmd.CommitmentID); err != nil {
		return domain.Result{}, err
	}
	evidence, err := text("evidence", cmd.Evidence, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	today := s.day(meta)
	return s.openCommitment(ctx, meta, cmd.CommitmentID, func(c *Commitment) domain.Event {
		if achieved {
			return CommitmentAchieved{PartnershipID: c.PartnershipID, CommitmentID: c.ID, SchoolID: c.SchoolID, Evidence: evidence, ClosedOn: today}
		}
		return CommitmentMissed{PartnershipID: c.PartnershipID, CommitmentID: c.ID, SchoolID: c.SchoolID, Evidence: evidence, ClosedOn: today}
	})
}
