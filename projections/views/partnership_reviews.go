package views

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

func init() { register(func() projections.Projection { return NewReviews() }) }

// Reviews is the "reviews" view: the peer-review log — each review, its
// reviewers and their schools, findings with their RAG rating, and the
// follow-up actions done and open.
//
// The view is versioned (projections.Versioned): each review keeps every
// version it has had, with the position each holds from (an event folds
// into a copy), so its state as of a past position is looked up (At).
type Reviews struct{ stateView[reviewsState] }

type reviewsState struct {
	Reviews versions[*partnership.Review] `json:"reviews"`
	Names   namesAt                       `json:"names"`
}

// NewReviews returns an empty "reviews" view.
func NewReviews() *Reviews {
	return &Reviews{newStateView("reviews", 3, func() reviewsState {
		return reviewsState{Reviews: newVersions[*partnership.Review](), Names: newNamesAt(false)}
	})}
}

// restore implements stateRestorer.
func (s *reviewsState) restore() error {
	s.Reviews.restore()
	s.Names.restore()
	return nil
}

// At implements projections.Versioned: the reviews as known at pos.
func (v *Reviews) At(pos uint64) projections.Projection {
	out := NewReviews()
	out.state = reviewsState{Reviews: v.state.Reviews.upTo(pos), Names: v.state.Names.upTo(pos)}
	return out
}

// Lens implements projections.Lensed: the reviews and names as known at
// pos, looked up in v's own versions while v is read-locked.
func (v *Reviews) Lens(pos uint64) projections.Projection {
	return &Reviews{v.reading(reviewsState{Reviews: v.state.Reviews.lens(pos), Names: v.state.Names.lens(pos)})}
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Reviews) MarshalState() ([]byte, error) {
	return v.saved(v.state.Reviews.lensed, v.state.Reviews.at, v.At)
}

// Apply implements projections.Projection.
func (v *Reviews) Apply(m domain.Message) error {
	if v.state.Reviews.lensed {
		return errLens
	}
	if v.state.Names.apply(m) {
		return nil
	}
	var id uuid.UUID
	switch e := m.Event.(type) {
	case partnership.PeerReviewScheduled:
		id = e.ReviewID
	case partnership.ReviewFindingRecorded:
		id = e.ReviewID
	case partnership.PeerReviewCompleted:
		id = e.ReviewID
	case partnership.FollowUpActionAgreed:
		id = e.ReviewID
	case partnership.FollowUpActionCompleted:
		id = e.ReviewID
	default:
		return nil
	}
	applyVersion(&v.state.Reviews, id, m, partnership.NewReview)
	return nil
}

// Reviewer is a reviewer and their school.
type Reviewer struct {
	Person Ref `json:"person"`
	School Ref `json:"school"`
}

// FindingInfo is one finding of a review.
type FindingInfo struct {
	ID              uuid.UUID `json:"id"`
	Area            string    `json:"area"`
	Rating          string    `json:"rating"`
	Finding         string    `json:"finding"`
	Recommendations []string  `json:"recommendations"`
	Reviewer        Ref       `json:"reviewer"`
}

// ActionInfo is one follow-up action of a review.
type ActionInfo struct {
	ID          uuid.UUID  `json:"id"`
	ReviewID    uuid.UUID  `json:"review_id"`
	School      Ref        `json:"reviewed_school"`
	Action      string     `json:"action"`
	Owner       Ref        `json:"owner"`
	DueOn       time.Time  `json:"due_on"`
	Done        bool       `json:"done"`
	CompletedOn *time.Time `json:"completed_on,omitempty"`
	Note        string     `json:"note,omitempty"`
	Overdue     bool       `json:"overdue"`
}

// ReviewInfo is one peer review in the log.
type ReviewInfo struct {
	ID          uuid.UUID     `json:"id"`
	School      Ref           `json:"reviewed_school"`
	Reviewers   []Reviewer    `json:"reviewers"`
	FocusAreas  []string      `json:"focus_areas"`
	On          time.Time     `json:"on"`
	Completed   bool          `json:"completed"`
	CompletedOn *time.Time    `json:"completed_on,omitempty"`
	Summary     string        `json:"summary,omitempty"`
	Red         int           `json:"red"`
	Amber       int           `json:"amber"`
	Green       int           `json:"green"`
	Findings    []FindingInfo `json:"findings"`
	Actions     []ActionInfo  `json:"actions"`
}

func (v *Reviews) of(pid uuid.UUID, p Period) []*partnership.Review {
	var out []*partnership.Review
	v.state.Reviews.each(func(_ uuid.UUID, r *partnership.Review) {
		if r.Scheduled() && r.PartnershipID == pid && p.Contains(r.On) {
			out = append(out, r)
		}
	})
	slices.SortFunc(out, func(a, b *partnership.Review) int { return cmp.Or(a.On.Compare(b.On), uuidCmp(a.ID, b.ID)) })
	return out
}

// Log returns the peer reviews of partnership pid in academic year (all
// for ""), by visit day, with follow-up actions overdue on day now
// flagged, naming people through names.
func (v *Reviews) Log(pid uuid.UUID, year string, now time.Time, names PersonNames) []ReviewInfo {
	return v.LogIn(pid, periodOf(year), now, names)
}

// LogIn is Log for the reviews visiting in period p.
func (v *Reviews) LogIn(pid uuid.UUID, p Period, now time.Time, names PersonNames) []ReviewInfo {
	out, _ := v.logPage(pid, p, now, names, 0, math.MaxInt)
	return out
}

// LogPage is the page of Log from entry from, at most n entries, and how
// many the whole log has: only the page's reviews are built, and only
// their people named.
func (v *Reviews) LogPage(pid uuid.UUID, year string, now time.Time, names PersonNames, from, n int) ([]ReviewInfo, int) {
	return v.logPage(pid, periodOf(year), now, names, from, n)
}

func (v *Reviews) logPage(pid uuid.UUID, p Period, now time.Time, names PersonNames, from, n int) ([]ReviewInfo, int) {
	rs := v.of(pid, p)
	lo, hi := pageRange(from, n, len(rs))
	out := make([]ReviewInfo, 0, hi-lo)
	for _, r := range rs[lo:hi] {
		out = append(out, v.info(r, now, names))
	}
	return out, len(rs)
}

// Review returns peer review id of partnership pid as Log shows it, and
// whether there is one: looked up, not found in the log of every year.
func (v *Reviews) Review(pid, id uuid.UUID, now time.Time, names PersonNames) (ReviewInfo, bool) {
	r := v.state.Reviews.name(id)
	if r == nil || !r.Scheduled() || r.PartnershipID != pid {
		return ReviewInfo{}, false
	}
	return v.info(r, now, names), true
}

// info is review r as Log shows it.
func (v *Reviews) info(r *partnership.Review, now time.Time, names PersonNames) ReviewInfo {
	ri := ReviewInfo{ID: r.ID, School: v.state.Names.school(r.ReviewedSchoolID), Reviewers: make([]Reviewer, 0, len(r.ReviewerIDs)), FocusAreas: r.FocusAreas,
		On: r.On, Completed: r.Completed, Summary: r.Summary, Findings: make([]FindingInfo, 0, len(r.Findings)), Actions: make([]ActionInfo, 0, len(r.Actions))}
	if r.Completed {
		t := r.CompletedOn
		ri.CompletedOn = &t
	}
	for i, who := range r.ReviewerIDs {
		rv := Reviewer{Person: personRef(names, who)}
		if i < len(r.ReviewerSchoolIDs) {
			rv.School = v.state.Names.school(r.ReviewerSchoolIDs[i])
		}
		ri.Reviewers = append(ri.Reviewers, rv)
	}
	counts := r.RAGCounts()
	ri.Red, ri.Amber, ri.Green = counts[partnership.Red], counts[partnership.Amber], counts[partnership.Green]
	for _, f := range r.Findings {
		ri.Findings = append(ri.Findings, FindingInfo{ID: f.ID, Area: f.Area, Rating: string(f.Rating), Finding: f.Finding,
			Recommendations: f.Recommendations, Reviewer: personRef(names, f.ReviewerID)})
	}
	for _, a := range r.Actions {
		ri.Actions = append(ri.Actions, v.action(r, a, now, names))
	}
	return ri
}

func (v *Reviews) action(r *partnership.Review, a partnership.FollowUpAction, now time.Time, names PersonNames) ActionInfo {
	ai := ActionInfo{ID: a.ID, ReviewID: r.ID, School: v.state.Names.school(r.ReviewedSchoolID), Action: a.Action, Owner: personRef(names, a.OwnerID),
		DueOn: a.DueOn, Done: a.Done, Note: a.Note, Overdue: a.OverdueOn(now)}
	if a.Done {
		t := a.CompletedOn
		ai.CompletedOn = &t
	}
	return ai
}

// FollowUps is the state of the follow-up actions of a year's reviews.
type FollowUps struct {
	Done    int          `json:"done"`
	Open    int          `json:"open"`
	Overdue int          `json:"overdue"`
	Actions []ActionInfo `json:"actions"`
}

// FollowUps returns the follow-up actions of partnership pid's reviews in
// academic year, open ones first (by due day), then done ones, with the
// counts done, open and overdue on day now.
func (v *Reviews) FollowUps(pid uuid.UUID, year string, now time.Time, names PersonNames) FollowUps {
	return v.FollowUpsIn(pid, periodOf(year), now, names)
}

// FollowUpsIn is FollowUps for the reviews visiting in period p.
func (v *Reviews) FollowUpsIn(pid uuid.UUID, p Period, now time.Time, names PersonNames) FollowUps {
	out, _ := v.followUpsPage(pid, p, now, names, 0, math.MaxInt)
	return out
}

// FollowUpsPage is FollowUps with the page of its actions from entry from,
// at most n actions (the counts still cover them all), and how many
// actions there are: only the page's actions are built, and only their
// owners named.
func (v *Reviews) FollowUpsPage(pid uuid.UUID, year string, now time.Time, names PersonNames, from, n int) (FollowUps, int) {
	return v.followUpsPage(pid, periodOf(year), now, names, from, n)
}

func (v *Reviews) followUpsPage(pid uuid.UUID, p Period, now time.Time, names PersonNames, from, n int) (FollowUps, int) {
	type ref struct {
		r *partnership.Review
		a *partnership.FollowUpAction
	}
	var refs []ref
	var out FollowUps
	for _, r := range v.of(pid, p) {
		for i := range r.Actions {
			a := &r.Actions[i]
			if a.Done {
				out.Done++
			} else {
				out.Open++
			}
			if a.OverdueOn(now) {
				out.Overdue++
			}
			refs = append(refs, ref{r, a})
		}
	}
	// Open ones first, each by due day (then id).
	slices.SortFunc(refs, func(x, y ref) int {
		if x.a.Done != y.a.Done {
			if x.a.Done {
				return 1
			}
			return -1
		}
		return cmp.Or(x.a.DueOn.Compare(y.a.DueOn), uuidCmp(x.a.ID, y.a.ID))
	})
	lo, hi := pageRange(from, n, len(refs))
	out.Actions = make([]ActionInfo, 0, hi-lo)
	for _, x := range refs[lo:hi] {
		out.Actions = append(out.Actions, v.action(x.r, *x.a, now, names))
	}
	return out, len(refs)
}
