package partnership

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// ProgressRated records a traffic-light rating of a cohort's progress in
// an area of a school for a half-term. No pupil is ever named: ratings
// are per cohort.
type ProgressRated struct {
	PartnershipID uuid.UUID `json:"partnership_id" doc:"Id of the partnership."`
	SchoolID      uuid.UUID `json:"school_id" doc:"Id of the school rated."`
	RatingID      uuid.UUID `json:"rating_id" doc:"Id of the rating."`
	Area          string    `json:"area" doc:"Segment or subject rated, e.g. Mathematics or Culture & Climate."`
	Cohort        string    `json:"cohort" doc:"Year group rated, e.g. Year 7 (Nursery, Reception, Year 1-13, Key Stage 1-5 or Sixth Form)."`
	AcademicYear  string    `json:"academic_year" doc:"Academic year of the half-term, e.g. 2025-26."`
	Term          TermCode  `json:"term" doc:"Half-term rated: autumn_1, autumn_2, spring_1, spring_2, summer_1 or summer_2."`
	Rating        RAG       `json:"rating" doc:"red, amber or green."`
	Evidence      string    `json:"evidence" doc:"The first-hand evidence for the rating (never a pupil's name)."`
	RatedOn       time.Time `json:"rated_on" doc:"Day the rating was made."`
}

// EventType implements domain.Event.
func (ProgressRated) EventType() string { return "ProgressRated" }

func init() {
	domain.MustRegister[ProgressRated](domain.Spec{Type: "ProgressRated", Schema: 1, Group: Group,
		Doc:       "A member school's progress in an area for a cohort was rated red, amber or green for a half-term, with its evidence. Every rating is kept, so movement between terms can be shown; a later rating of the same half-term supersedes the earlier in trends. Stream `progress-<id>`, one per school and partnership (ProgressID).",
		EmittedBy: []string{"RateProgress"}})
}

// Rating is one progress rating.
type Rating struct {
	ID            uuid.UUID
	PartnershipID uuid.UUID
	SchoolID      uuid.UUID
	Area          string
	Cohort        string
	Term          Term
	Rating        RAG
	Evidence      string
	RatedOn       time.Time
}

// Progress is the aggregate of the progress ratings of one school in one
// partnership.
type Progress struct {
	PartnershipID uuid.UUID
	SchoolID      uuid.UUID
	// Ratings are in the order recorded.
	Ratings []Rating
}

// NewProgress returns an empty Progress aggregate.
func NewProgress() *Progress { return &Progress{} }

// Apply implements domain.Aggregate.
func (p *Progress) Apply(m domain.Message) {
	if e, ok := m.Event.(ProgressRated); ok {
		p.PartnershipID, p.SchoolID = e.PartnershipID, e.SchoolID
		p.Ratings = append(p.Ratings, Rating{ID: e.RatingID, PartnershipID: e.PartnershipID, SchoolID: e.SchoolID, Area: e.Area, Cohort: e.Cohort,
			Term: Term{AcademicYear: e.AcademicYear, Code: e.Term}, Rating: e.Rating, Evidence: e.Evidence, RatedOn: e.RatedOn})
	}
}

// Trend returns the movement of the school's ratings of area and cohort.
func (p *Progress) Trend(area, cohort string) []TrendPoint {
	return Trend(p.Ratings, p.SchoolID, area, cohort)
}

// Latest returns the school's most recent rating of area and cohort.
func (p *Progress) Latest(area, cohort string) (Rating, bool) {
	t := p.Trend(area, cohort)
	if len(t) == 0 {
		return Rating{}, false
	}
	return t[len(t)-1].Rating, true
}

// Movement is how a rating moved from the term before.
type Movement string

// The movements of a rating. The first rating of a series has none.
const (
	MovementNone      Movement = ""
	MovementImproved  Movement = "improved"
	MovementDeclined  Movement = "declined"
	MovementUnchanged Movement = "unchanged"
)

// String implements fmt.Stringer.
func (m Movement) String() string { return string(m) }

// MovementBetween is how a rating moved from one to the next: improved
// towards green, declined towards red, or unchanged.
func MovementBetween(from, to RAG) Movement {
	switch a, b := from.Rank(), to.Rank(); {
	case b > a:
		return MovementImproved
	case b < a:
		return MovementDeclined
	}
	return MovementUnchanged
}

// TrendPoint is the rating of one half-term in a trend, and how it moved
// from the previous rated half-term.
type TrendPoint struct {
	Rating   Rating
	Movement Movement
}

// sameKey reports whether r rates school's area and cohort, given as
// cellKey gives them.
func sameKey(r Rating, school uuid.UUID, area, cohort string) bool {
	return r.SchoolID == school && strings.EqualFold(strings.TrimSpace(r.Area), area) && r.Cohort == cohort
}

// cellKey is the area (trimmed) and cohort (normalised) sameKey compares
// ratings with, worked out once for many ratings.
func cellKey(area, cohort string) (string, string) {
	c, ok := NormaliseCohort(cohort)
	if !ok {
		c = cohort
	}
	return strings.TrimSpace(area), c
}

// Trend returns, for school, area and cohort, one point per rated
// half-term in term order (the last rating recorded for a half-term
// supersedes earlier ones), each with its movement from the point before:
// e.g. red → amber → green is improved, improved. Areas match whatever
// their case; cohorts match in any form NormaliseCohort accepts.
func Trend(ratings []Rating, school uuid.UUID, area, cohort string) []TrendPoint {
	byTerm := map[int]Rating{}
	area, cohort = cellKey(area, cohort)
	for _, r := range ratings {
		if sameKey(r, school, area, cohort) {
			byTerm[r.Term.Ordinal()] = r
		}
	}
	terms := make([]int, 0, len(byTerm))
	for t := range byTerm {
		terms = append(terms, t)
	}
	slices.Sort(terms)
	out := make([]TrendPoint, len(terms))
	for i, t := range terms {
		out[i].Rating = byTerm[t]
		if i == 0 {
			continue
		}
		out[i].Movement = MovementBetween(out[i-1].Rating.Rating, out[i].Rating.Rating)
	}
	return out
}

// LatestRatings returns the latest rating of every school, area and cohort
// in ratings, red first (where support and challenge go first), then
// amber, then green, each by school, area and cohort.
func LatestRatings(ratings []Rating) []Rating {
	type key struct {
		school       uuid.UUID
		area, cohort string
	}
	latest := map[key]Rating{}
	for _, r := range ratings {
		k := key{r.SchoolID, strings.ToLower(strings.TrimSpace(r.Area)), r.Cohort}
		if cur, ok := latest[k]; !ok || r.Term.Ordinal() >= cur.Term.Ordinal() {
			latest[k] = r
		}
	}
	out := make([]Rating, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rating) int {
		return cmp.Or(
			cmp.Compare(a.Rating.Rank(), b.Rating.Rank()),
			slices.Compare(a.SchoolID[:], b.SchoolID[:]),
			cmp.Compare(strings.ToLower(a.Area), strings.ToLower(b.Area)),
			cmp.Compare(a.Cohort, b.Cohort),
		)
	})
	return out
}

// RateProgress is the command to rate a cohort's progress in an area of a
// member school for a half-term.
type RateProgress struct {
	RatingID      uuid.UUID `json:"rating_id"`
	PartnershipID uuid.UUID `json:"partnership_id"`
	SchoolID      uuid.UUID `json:"school_id"`
	Area          string    `json:"area"`
	// Cohort is a year group: Nursery, Reception, Year 1-13, Key Stage 1-5
	// or Sixth Form.
	Cohort string `json:"cohort"`
	// Term is the half-term, e.g. "2025-26 Autumn 1".
	Term     string `json:"term"`
	Rating   RAG    `json:"rating"`
	Evidence string `json:"evidence"`
}

// RateProgress records ProgressRated. Returns domain.ErrNotFound for an
// unknown partnership, ErrNotPartnershipMember for a school that is not a
// member, domain.ErrAlreadyExists for a rating id already used, and
// domain.ErrRequired or ErrInvalidValue for a missing area or evidence, a
// cohort that is not a year group, a malformed half-term or one that has
// not started, or a rating other than red, amber or green.
func (s *Service) RateProgress(ctx context.Context, meta domain.Meta, cmd RateProgress) (domain.Result, error) {
	if err := requireIDs(fieldID{"rating_id", cmd.RatingID}, fieldID{"partnership_id", cmd.PartnershipID}, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	area, err := text("area", cmd.Area, maxName, true)
	if err != nil {
		return domain.Result{}, err
	}
	if strings.TrimSpace(cmd.Cohort) == "" {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "cohort", "give the year group rated, e.g. Year 7")
	}
	cohort, ok := NormaliseCohort(cmd.Cohort)
	if !ok {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "cohort", "%q is not a year group: use Nursery, Reception, Year 1 to Year 13, Key Stage 1 to 5 or Sixth Form (progress is rated per cohort, never per pupil)", cmd.Cohort)
	}
	if strings.TrimSpace(cmd.Term) == "" {
		return domain.Result{}, domain.RejectField(domain.ErrRequired, "term", "give the half-term rated, e.g. 2025-26 Autumn 1")
	}
	term, err := ParseTerm(cmd.Term)
	if err != nil {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "term", "%v", err)
	}
	today := s.day(meta)
	if now := TermOf(today); now.Before(term) {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "term", "%s has not started yet (it is %s); rate a half-term once it is under way", term, now)
	}
	if AcademicYearOf(today) != term.AcademicYear {
		return domain.Result{}, domain.RejectField(ErrOutsideYear, "term", "a rating of %s is made within %s; %s is in %s", term, term.AcademicYear, day(today), AcademicYearOf(today))
	}
	if !cmd.Rating.Valid() {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "rating", "%q is not a rating: use red, amber or green", cmd.Rating)
	}
	evidence, err := text("evidence", cmd.Evidence, maxText, true)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := s.member(ctx, cmd.PartnershipID, fieldID{"school_id", cmd.SchoolID}); err != nil {
		return domain.Result{}, err
	}
	ev := ProgressRated{PartnershipID: cmd.PartnershipID, SchoolID: cmd.SchoolID, RatingID: cmd.RatingID, Area: area, Cohort: cohort,
		AcademicYear: term.AcademicYear, Term: term.Code, Rating: cmd.Rating, Evidence: evidence, RatedOn: today}
	return run(ctx, s, ProgressStream(cmd.PartnershipID, cmd.SchoolID), NewProgress, meta, func(p *Progress) ([]domain.Event, error) {
		for _, r := range p.Ratings {
			if r.ID == cmd.RatingID {
				return nil, domain.RejectField(domain.ErrAlreadyExists, "rating_id", "rating %s is already recorded", r.ID)
			}
		}
		return events(ev), nil
	})
}
