package partnership

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// PeerReviewScheduled records a review of a member school by reviewers
// from its partners.
type PeerReviewScheduled struct {
	PartnershipID     uuid.UUID   `json:"partnership_id" doc:"Id of the partnership."`
	ReviewID          uuid.UUID   `json:"review_id" doc:"Id of the review."`
	ReviewedSchoolID  uuid.UUID   `json:"reviewed_school_id" doc:"Id of the school under review."`
	ReviewerIDs       []uuid.UUID `json:"reviewer_ids" doc:"Person ids of the reviewers."`
	ReviewerSchoolIDs []uuid.UUID `json:"reviewer_school_ids" doc:"The reviewers' schools, in the same order; never the school under review."`
	FocusAreas        []string    `json:"focus_areas" doc:"What the review looks at, e.g. Culture & Climate, Year 9 science."`
	On                time.Time   `json:"on" doc:"Day of the review visit."`
	AcademicYear      string      `json:"academic_year" doc:"Academic year of the visit, e.g. 2025-26."`
}

// ReviewFindingRecorded records one finding of a review with its
// traffic-light rating.
type ReviewFindingRecorded struct {
	PartnershipID    uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	ReviewID         uuid.UUID `json:"review_id" doc:"Id of the review."`
	ReviewedSchoolID uuid.UUID `json:"reviewed_school_id" doc:"Id of the school under review."`
	FindingID        uuid.UUID `json:"finding_id" doc:"Id of the finding."`
	ReviewerID       uuid.UUID `json:"reviewer_id" doc:"Person id of the reviewer who recorded it."`
	Area             string    `json:"area" doc:"Area the finding is about."`
	Rating           RAG       `json:"rating" doc:"red, amber or green."`
	Finding          string    `json:"finding" doc:"What the reviewers found, from first-hand evidence."`
	Recommendations  []string  `json:"recommendations" doc:"What they recommend."`
}

// PeerReviewCompleted records the reviewers completing a review.
type PeerReviewCompleted struct {
	PartnershipID    uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	ReviewID         uuid.UUID `json:"review_id" doc:"Id of the review."`
	ReviewedSchoolID uuid.UUID `json:"reviewed_school_id" doc:"Id of the school under review."`
	Summary          string    `json:"summary" doc:"The reviewers' summary."`
	CompletedOn      time.Time `json:"completed_on" doc:"Day the review was completed."`
}

// FollowUpActionAgreed records an action agreed after a review.
type FollowUpActionAgreed struct {
	PartnershipID    uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	ReviewID         uuid.UUID `json:"review_id" doc:"Id of the review."`
	ReviewedSchoolID uuid.UUID `json:"reviewed_school_id" doc:"Id of the school reviewed."`
	ActionID         uuid.UUID `json:"action_id" doc:"Id of the action."`
	FindingID        uuid.UUID `json:"finding_id" doc:"Id of the finding it answers (all zeros when it answers the review as a whole)."`
	Action           string    `json:"action" doc:"What will be done."`
	OwnerID          uuid.UUID `json:"owner_id" doc:"Person id of who owns the action."`
	DueOn            time.Time `json:"due_on" doc:"Day it is due."`
}

// FollowUpActionCompleted records a follow-up action done.
type FollowUpActionCompleted struct {
	PartnershipID    uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	ReviewID         uuid.UUID `json:"review_id" doc:"Id of the review."`
	ReviewedSchoolID uuid.UUID `json:"reviewed_school_id" doc:"Id of the school reviewed."`
	ActionID         uuid.UUID `json:"action_id" doc:"Id of the action."`
	Note             string    `json:"note" doc:"What was done."`
	CompletedOn      time.Time `json:"completed_on" doc:"Day it was done."`
	Late             bool      `json:"late" doc:"True when done after its due day."`
}

// EventType implements domain.Event.
func (PeerReviewScheduled) EventType() string { return "PeerReviewScheduled" }

// EventType implements domain.Event.
func (ReviewFindingRecorded) EventType() string { return "ReviewFindingRecorded" }

// EventType implements domain.Event.
func (PeerReviewCompleted) EventType() string { return "PeerReviewCompleted" }

// EventType implements domain.Event.
func (FollowUpActionAgreed) EventType() string { return "FollowUpActionAgreed" }

// EventType implements domain.Event.
func (FollowUpActionCompleted) EventType() string { return "FollowUpActionCompleted" }

func init() {
	domain.MustRegister[PeerReviewScheduled](domain.Spec{Type: "PeerReviewScheduled", Schema: 1, Group: Group,
		Doc: "A peer review of a member school was scheduled, by reviewers from the other partner schools, with its focus areas. Stream `review-<id>`; every event of the review shares its correlation id.", EmittedBy: []string{"SchedulePeerReview"}})
	domain.MustRegister[ReviewFindingRecorded](domain.Spec{Type: "ReviewFindingRecorded", Schema: 1, Group: Group,
		Doc: "A reviewer recorded a finding with a red, amber or green rating and recommendations.", EmittedBy: []string{"RecordReviewFinding"}})
	domain.MustRegister[PeerReviewCompleted](domain.Spec{Type: "PeerReviewCompleted", Schema: 1, Group: Group,
		Doc: "The reviewers completed the review; later corrections of its events are marked changed after decision.", EmittedBy: []string{"CompletePeerReview"}})
	domain.MustRegister[FollowUpActionAgreed](domain.Spec{Type: "FollowUpActionAgreed", Schema: 1, Group: Group,
		Doc: "An action following a completed review was agreed, with its owner and due day.", EmittedBy: []string{"AgreeFollowUpAction"}})
	domain.MustRegister[FollowUpActionCompleted](domain.Spec{Type: "FollowUpActionCompleted", Schema: 1, Group: Group,
		Doc: "A follow-up action was done.", EmittedBy: []string{"CompleteFollowUpAction"}})
}

// Finding is a finding of a review.
type Finding struct {
	ID              uuid.UUID
	ReviewerID      uuid.UUID
	Area            string
	Rating          RAG
	Finding         string
	Recommendations []string
}

// FollowUpAction is an action agreed after a review.
type FollowUpAction struct {
	ID          uuid.UUID
	FindingID   uuid.UUID
	Action      string
	OwnerID     uuid.UUID
	DueOn       time.Time
	Done        bool
	CompletedOn time.Time
	Note        string
}

// OverdueOn reports whether the action is not done by the end of its due
// day, on day d.
func (a FollowUpAction) OverdueOn(d time.Time) bool { return !a.Done && Date(d).After(a.DueOn) }

// Review is the aggregate of a peer review: its reviewers, findings,
// completion and follow-up actions.
type Review struct {
	ID                uuid.UUID
	PartnershipID     uuid.UUID
	ReviewedSchoolID  uuid.UUID
	ReviewerIDs       []uuid.UUID
	ReviewerSchoolIDs []uuid.UUID
	FocusAreas        []string
	On                time.Time
	AcademicYear      string
	Findings          []Finding
	Completed         bool
	CompletedOn       time.Time
	Summary           string
	Actions           []FollowUpAction

	first uuid.UUID
}

// NewReview returns an empty Review aggregate.
func NewReview() *Review { return &Review{} }

// Scheduled reports whether the review has been scheduled.
func (r *Review) Scheduled() bool { return r.ID != uuid.Nil }

// CorrelationID implements domain.Correlated.
func (r *Review) CorrelationID() uuid.UUID { return r.first }

// Decided implements domain.Decided: a completed review is decided.
func (r *Review) Decided() bool { return r.Completed }

// Apply implements domain.Aggregate.
func (r *Review) Apply(m domain.Message) {
	if r.first == uuid.Nil {
		r.first = m.ID
	}
	switch e := m.Event.(type) {
	case PeerReviewScheduled:
		r.ID, r.PartnershipID, r.ReviewedSchoolID = e.ReviewID, e.PartnershipID, e.ReviewedSchoolID
		r.ReviewerIDs, r.ReviewerSchoolIDs, r.FocusAreas, r.On, r.AcademicYear = e.ReviewerIDs, e.ReviewerSchoolIDs, e.FocusAreas, e.On, e.AcademicYear
	case ReviewFindingRecorded:
		r.Findings = append(r.Findings, Finding{ID: e.FindingID, ReviewerID: e.ReviewerID, Area: e.Area, Rating: e.Rating, Finding: e.Finding, Recommendations: e.Recommendations})
	case PeerReviewCompleted:
		r.Completed, r.CompletedOn, r.Summary = true, e.CompletedOn, e.Summary
	case FollowUpActionAgreed:
		r.Actions = append(r.Actions, FollowUpAction{ID: e.ActionID, FindingID: e.FindingID, Action: e.Action, OwnerID: e.OwnerID, DueOn: e.DueOn})
	case FollowUpActionCompleted:
		for i := range r.Actions {
			if r.Actions[i].ID == e.ActionID {
				r.Actions[i].Done, r.Actions[i].CompletedOn, r.Actions[i].Note = true, e.CompletedOn, e.Note
			}
		}
	}
}

// IsReviewer reports whether person is one of the reviewers.
func (r *Review) IsReviewer(person uuid.UUID) bool { return slices.Contains(r.ReviewerIDs, person) }

// Finding returns the finding with id.
func (r *Review) Finding(id uuid.UUID) (Finding, bool) {
	for _, f := range r.Findings {
		if f.ID == id {
			return f, true
		}
	}
	return Finding{}, false
}

// Action returns the follow-up action with id.
func (r *Review) Action(id uuid.UUID) (FollowUpAction, bool) {
	for _, a := range r.Actions {
		if a.ID == id {
			return a, true
		}
	}
	return FollowUpAction{}, false
}

// RAGCounts returns how many findings have each rating.
func (r *Review) RAGCounts() map[RAG]int {
	out := map[RAG]int{}
	for _, f := range r.Findings {
		out[f.Rating]++
	}
	return out
}

// OpenActions returns the follow-up actions not yet done, by due day.
func (r *Review) OpenActions() []FollowUpAction {
	var out []FollowUpAction
	for _, a := range r.Actions {
		if !a.Done {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b FollowUpAction) int { return a.DueOn.Compare(b.DueOn) })
	return out
}

// OverdueActions returns the follow-up actions overdue on day d, by due
// day.
func (r *Review) OverdueActions(d time.Time) []FollowUpAction {
	var out []FollowUpAction
	for _, a := range r.OpenActions() {
		if a.OverdueOn(d) {
			out = append(out, a)
		}
	}
	return out
}

// requireReviewer checks that the actor is one of the review's reviewers.
func requireReviewer(r *Review, meta domain.Meta, doing string) (uuid.UUID, error) {
	id, err := uuid.Parse(meta.ActorID)
	if err != nil || !r.IsReviewer(id) {
		return uuid.Nil, domain.Reject(ErrNotReviewer, "%s is not one of the reviewers of review %s, so cannot %s", actorName(meta), r.ID, doing)
	}
	return id, nil
}

// SchedulePeerReview is the command to schedule a peer review of a member
// school.
type SchedulePeerReview struct {
	ReviewID         uuid.UUID   `json:"review_id"`
	PartnershipID    uuid.UUID   `json:"partnership_id"`
	ReviewedSchoolID uuid.UUID   `json:"reviewed_school_id"`
	ReviewerIDs      []uuid.UUID `json:"reviewer_ids"`
	FocusAreas       []string    `json:"focus_areas"`
	On               time.Time   `json:"on"`
}

// SchedulePeerReview records PeerReviewScheduled with each reviewer's
// school from the Directory. Returns domain.ErrNotFound for an unknown
// partnership or a reviewer not on any school's staff,
// ErrNotPartnershipMember when the reviewed school or a reviewer's school
// is not a member, ErrReviewerFromReviewedSchool when a reviewer works at
// the school under review, domain.ErrAlreadyExists for a review id
// already used, and domain.ErrRequired or ErrInvalidValue for no
// reviewers, a reviewer named twice, no focus areas or no day.
func (s *Service) SchedulePeerReview(ctx context.Context, meta domain.Meta, cmd SchedulePeerReview) (domain.Result, error) {
	if err := requireIDs(fieldID{"review_id", cmd.ReviewID}, fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"reviewed_school_id", cmd.ReviewedSchoolID}); err != nil {
		return domain.Result{}, err
	}
	if len(cmd.ReviewerIDs) == 0 {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "reviewer_ids", "name at least one reviewer from a partner school")
	}
	for i, id := range cmd.ReviewerIDs {
		if id == uuid.Nil {
			return domain.Result{}, domain.RejectField(domain.ErrRequired, "reviewer_ids", "reviewer %d has no id", i+1)
		}
		if slices.Index(cmd.ReviewerIDs, id) != i {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "reviewer_ids", "reviewer %s is named twice", id)
		}
	}
	var focus []string
	for _, f := range cmd.FocusAreas {
		f, err := text("focus_areas", f, maxName, false)
		if err != nil {
			return domain.Result{}, err
		}
		if f != "" {
			focus = append(focus, f)
		}
	}
	if len(focus) == 0 {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "focus_areas", "name at least one focus area for the review")
	}
	on := Date(cmd.On)
	if on.IsZero() {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "on", "give the day of the review visit")
	}
	p, err := s.member(ctx, cmd.PartnershipID, fieldID{"reviewed_school_id", cmd.ReviewedSchoolID})
	if err != nil {
		return domain.Result{}, err
	}
	schools := make([]uuid.UUID, len(cmd.ReviewerIDs))
	for i, id := range cmd.ReviewerIDs {
		school, ok, err := s.dir.SchoolOf(ctx, id)
		if err != nil {
			return domain.Result{}, fmt.Errorf("directory: school of %s: %w", id, err)
		}
		if !ok {
			return domain.Result{}, domain.RejectField(domain.ErrNotFound, "reviewer_ids", "reviewer %s is not on the staff of any school", id)
		}
		if school == cmd.ReviewedSchoolID {
			return domain.Result{}, domain.RejectField(ErrReviewerFromReviewedSchool, "reviewer_ids", "reviewer %s works at school %s, the school under review; choose a reviewer from a partner school", id, school)
		}
		if err := p.checkMember("reviewer_ids", school); err != nil {
			return domain.Result{}, err
		}
		schools[i] = school
	}
	return run(ctx, s, ReviewStream(cmd.ReviewID), NewReview, meta, func(r *Review) ([]domain.Event, error) {
		if r.Scheduled() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "review_id", "peer review %s is already scheduled", r.ID)
		}
		return events(PeerReviewScheduled{PartnershipID: cmd.PartnershipID, ReviewID: cmd.ReviewID, ReviewedSchoolID: cmd.ReviewedSchoolID,
			ReviewerIDs: slices.Clone(cmd.ReviewerIDs), ReviewerSchoolIDs: schools, FocusAreas: focus, On: on, AcademicYear: AcademicYearOf(on)}), nil
	})
}

// RecordReviewFinding is the command for a reviewer to record a finding.
type RecordReviewFinding struct {
	ReviewID        uuid.UUID `json:"review_id"`
	FindingID       uuid.UUID `json:"finding_id"`
	Area            string    `json:"area"`
	Rating          RAG       `json:"rating"`
	Finding         string    `json:"finding"`
	Recommendations []string  `json:"recommendations"`
}

// RecordReviewFinding records ReviewFindingRecorded. The actor must be one
// of the reviewers. Returns domain.ErrNotFound for an unknown review,
// ErrNotReviewer for anyone else, ErrReviewState once the review is
// completed, domain.ErrAlreadyExists for a finding id already used, and
// domain.ErrRequired or ErrInvalidValue for a missing area or finding or a
// rating other than red, amber or green.
func (s *Service) RecordReviewFinding(ctx context.Context, meta domain.Meta, cmd RecordReviewFinding) (domain.Result, error) {
	if err := requireIDs(fieldID{"review_id", cmd.ReviewID}, fieldID{"finding_id", cmd.FindingID}); err != nil {
		return domain.Result{}, err
	}
	area, err := text("area", cmd.Area, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	if !cmd.Rating.Valid() {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "rating", "%q is not a rating: use red, amber or green", cmd.Rating)
	}
	finding, err := text("finding", cmd.Finding, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	var recs []string
	for _, r := range cmd.Recommendations {
		r, err := text("recommendations", r, maxText, false)
		if err != nil {
			return domain.Result{}, err
		}
		if r != "" {
			recs = append(recs, r)
		}
	}
	return run(ctx, s, ReviewStream(cmd.ReviewID), NewReview, meta, func(r *Review) ([]domain.Event, error) {
		if !r.Scheduled() {
			return nil, domain.RejectField(domain.ErrNotFound, "review_id", "no peer review %s is scheduled", cmd.ReviewID)
		}
		reviewer, err := requireReviewer(r, meta, "record its findings")
		if err != nil {
			return nil, err
		}
		if r.Completed {
			return nil, domain.Reject(ErrReviewState, "review %s was completed on %s; findings can no longer be added (correct an existing one if it was wrong)", r.ID, day(r.CompletedOn))
		}
		if _, ok := r.Finding(cmd.FindingID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "finding_id", "finding %s is already recorded", cmd.FindingID)
		}
		return events(ReviewFindingRecorded{PartnershipID: r.PartnershipID, ReviewID: r.ID, ReviewedSchoolID: r.ReviewedSchoolID, FindingID: cmd.FindingID,
			ReviewerID: reviewer, Area: area, Rating: cmd.Rating, Finding: finding, Recommendations: recs}), nil
	})
}

// CompletePeerReview is the command for a reviewer to complete a review.
type CompletePeerReview struct {
	ReviewID uuid.UUID `json:"review_id"`
	Summary  string    `json:"summary"`
}

// CompletePeerReview records PeerReviewCompleted. The actor must be one of
// the reviewers. Returns domain.ErrNotFound for an unknown review,
// ErrNotReviewer for anyone else, ErrReviewState for a review already
// completed or with no findings, and domain.ErrRequired without a summary.
func (s *Service) CompletePeerReview(ctx context.Context, meta domain.Meta, cmd CompletePeerReview) (domain.Result, error) {
	if err := requireID("review_id", cmd.ReviewID); err != nil {
		return domain.Result{}, err
	}
	summary, err := text("summary", cmd.Summary, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	today := s.day(meta)
	return run(ctx, s, ReviewStream(cmd.ReviewID), NewReview, meta, func(r *Review) ([]domain.Event, error) {
		if !r.Scheduled() {
			return nil, domain.RejectField(domain.ErrNotFound, "review_id", "no peer review %s is scheduled", cmd.ReviewID)
		}
		if _, err := requireReviewer(r, meta, "complete it"); err != nil {
			return nil, err
		}
		if r.Completed {
			return nil, domain.Reject(ErrReviewState, "review %s was already completed on %s", r.ID, day(r.CompletedOn))
		}
		if len(r.Findings) == 0 {
			return nil, domain.Reject(ErrReviewState, "review %s has no findings yet; record at least one before completing it", r.ID)
		}
		return events(PeerReviewCompleted{PartnershipID: r.PartnershipID, ReviewID: r.ID, ReviewedSchoolID: r.ReviewedSchoolID, Summary: summary, CompletedOn: today}), nil
	})
}

// AgreeFollowUpAction is the command to agree an action after a completed
// review.
type AgreeFollowUpAction struct {
	ReviewID uuid.UUID `json:"review_id"`
	ActionID uuid.UUID `json:"action_id"`
	// FindingID optionally names the finding the action answers.
	FindingID uuid.UUID `json:"finding_id"`
	Action    string    `json:"action"`
	OwnerID   uuid.UUID `json:"owner_id"`
	DueOn     time.Time `json:"due_on"`
}

// AgreeFollowUpAction records FollowUpActionAgreed. Returns
// domain.ErrNotFound for an unknown review or finding, ErrReviewState for
// a review not yet completed, domain.ErrAlreadyExists for an action id
// already used, and domain.ErrRequired for a missing action, owner or due
// day.
func (s *Service) AgreeFollowUpAction(ctx context.Context, meta domain.Meta, cmd AgreeFollowUpAction) (domain.Result, error) {
	if err := requireIDs(fieldID{"review_id", cmd.ReviewID}, fieldID{"action_id", cmd.ActionID}, fieldID{"owner_id", cmd.OwnerID}); err != nil {
		return domain.Result{}, err
	}
	action, err := text("action", cmd.Action, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	due := Date(cmd.DueOn)
	if due.IsZero() {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "due_on", "give the day the action is due")
	}
	return run(ctx, s, ReviewStream(cmd.ReviewID), NewReview, meta, func(r *Review) ([]domain.Event, error) {
		if !r.Scheduled() {
			return nil, domain.RejectField(domain.ErrNotFound, "review_id", "no peer review %s is scheduled", cmd.ReviewID)
		}
		if !r.Completed {
			return nil, domain.Reject(ErrReviewState, "review %s is not completed yet; agree follow-up actions once it is", r.ID)
		}
		if cmd.FindingID != uuid.Nil {
			if _, ok := r.Finding(cmd.FindingID); !ok {
				return nil, domain.RejectField(domain.ErrNotFound, "finding_id", "review %s has no finding %s", r.ID, cmd.FindingID)
			}
		}
		if _, ok := r.Action(cmd.ActionID); ok {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "action_id", "follow-up action %s is already agreed", cmd.ActionID)
		}
		return events(FollowUpActionAgreed{PartnershipID: r.PartnershipID, ReviewID: r.ID, ReviewedSchoolID: r.ReviewedSchoolID, ActionID: cmd.ActionID,
			FindingID: cmd.FindingID, Action: action, OwnerID: cmd.OwnerID, DueOn: due}), nil
	})
}

// CompleteFollowUpAction is the command to record a follow-up action done.
type CompleteFollowUpAction struct {
	ReviewID uuid.UUID `json:"review_id"`
	ActionID uuid.UUID `json:"action_id"`
	Note     string    `json:"note"`
}

// CompleteFollowUpAction records FollowUpActionCompleted. Returns
// domain.ErrNotFound for an unknown review or action and ErrReviewState
// for an action already done.
func (s *Service) CompleteFollowUpAction(ctx context.Context, meta domain.Meta, cmd CompleteFollowUpAction) (domain.Result, error) {
	if err := requireIDs(fieldID{"review_id", cmd.ReviewID}, fieldID{"action_id", cmd.ActionID}); err != nil {
		return domain.Result{}, err
	}
	note, err := text("note", cmd.Note, maxText, false)
	if err != nil {
		return domain.Result{}, err
	}
	today := s.day(meta)
	return run(ctx, s, ReviewStream(cmd.ReviewID), NewReview, meta, func(r *Review) ([]domain.Event, error) {
		a, ok := r.Action(cmd.ActionID)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "action_id", "review %s has no follow-up action %s", cmd.ReviewID, cmd.ActionID)
		}
		if a.Done {
			return nil, domain.Reject(ErrReviewState, "follow-up action %s was already done on %s", a.ID, day(a.CompletedOn))
		}
		return events(FollowUpActionCompleted{PartnershipID: r.PartnershipID, ReviewID: r.ID, ReviewedSchoolID: r.ReviewedSchoolID, ActionID: a.ID,
			Note: note, CompletedOn: today, Late: today.After(a.DueOn)}), nil
	})
}
