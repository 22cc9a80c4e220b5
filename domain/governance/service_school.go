package governance

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// RegisterSchool registers a school.
type RegisterSchool struct {
	SchoolID uuid.UUID `json:"school_id"`
	Name     string    `json:"name"`
	Mission  string    `json:"mission,omitempty"`
	Vision   string    `json:"vision,omitempty"`
	Values   string    `json:"values,omitempty"`
	// Segments default to DefaultSegmentNames; a segment without an id is
	// given DefaultSegmentID(school, name).
	Segments []Segment `json:"segments,omitempty"`
	// YearStartMonth and YearStartDay set the day academic years start on
	// by default (1 September when zero).
	YearStartMonth int `json:"year_start_month,omitempty"`
	YearStartDay   int `json:"year_start_day,omitempty"`
}

// RegisterSchool records SchoolRegistered. Returns domain.ErrAlreadyExists
// if the school is registered, domain.ErrInvalidValue for duplicate
// segment names or an impossible start day.
func (s *Service) RegisterSchool(ctx context.Context, meta domain.Meta, cmd RegisterSchool) (domain.Result, error) {
	if err := firstErr(required("school_id", cmd.SchoolID, "the school"), requiredText("name", cmd.Name, "the school's name")); err != nil {
		return domain.Result{}, err
	}
	month, day := cmd.YearStartMonth, cmd.YearStartDay
	if month == 0 && day == 0 {
		month, day = 9, 1
	}
	if month < 1 || month > 12 || day < 1 || time.Date(2001, time.Month(month), day, 0, 0, 0, 0, time.UTC).Day() != day {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "year_start_day", "academic years cannot start on day %d of month %d", day, month)
	}
	segs := cmd.Segments
	if len(segs) == 0 {
		for _, n := range DefaultSegmentNames {
			segs = append(segs, Segment{Name: n})
		}
	}
	seen := map[string]bool{}
	ids := map[uuid.UUID]bool{}
	out := make([]Segment, len(segs))
	for i, g := range segs {
		g.Name = strings.TrimSpace(g.Name)
		if g.Name == "" {
			return domain.Result{}, domain.RejectField(domain.ErrRequired, "segments", "segment %d has no name", i+1)
		}
		if seen[strings.ToLower(g.Name)] {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "segments", "the segment %q is named twice", g.Name)
		}
		if g.ID == uuid.Nil {
			g.ID = DefaultSegmentID(cmd.SchoolID, g.Name)
		}
		if ids[g.ID] {
			return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "segments", "the segment id %s is used twice", g.ID)
		}
		seen[strings.ToLower(g.Name)], ids[g.ID] = true, true
		out[i] = g
	}
	return run(ctx, s, SchoolStream(cmd.SchoolID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
		if sc.Registered() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "school_id", "school %s (%s) is already registered", sc.ID, sc.Name)
		}
		return events(SchoolRegistered{SchoolID: cmd.SchoolID, Name: strings.TrimSpace(cmd.Name), Mission: cmd.Mission, Vision: cmd.Vision, Values: cmd.Values,
			Segments: out, YearStartMonth: month, YearStartDay: day}), nil
	})
}

// AddSegment adds a segment to a school.
type AddSegment struct {
	SchoolID  uuid.UUID `json:"school_id"`
	SegmentID uuid.UUID `json:"segment_id"`
	Name      string    `json:"name"`
}

// AddSegment records SegmentAdded (nothing if the same segment exists).
// Returns domain.ErrNotFound for an unknown school, domain.ErrAlreadyExists
// if the id or the name is taken by another segment.
func (s *Service) AddSegment(ctx context.Context, meta domain.Meta, cmd AddSegment) (domain.Result, error) {
	name := strings.TrimSpace(cmd.Name)
	if err := firstErr(required("school_id", cmd.SchoolID, "the school"), required("segment_id", cmd.SegmentID, "the new segment"),
		requiredText("name", name, "the segment's name")); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, SchoolStream(cmd.SchoolID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
		if !sc.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", cmd.SchoolID)
		}
		if g, ok := sc.Segment(cmd.SegmentID); ok {
			if g.Name == name {
				return nil, nil
			}
			return nil, domain.RejectField(domain.ErrAlreadyExists, "segment_id", "segment %s already exists as %q", g.ID, g.Name)
		}
		for _, g := range sc.Segments {
			if strings.EqualFold(g.Name, name) {
				return nil, domain.RejectField(domain.ErrAlreadyExists, "name", "%s already has a segment called %q", sc.Name, g.Name)
			}
		}
		return events(SegmentAdded{SchoolID: sc.ID, SegmentID: cmd.SegmentID, Name: name}), nil
	})
}

// RenameSegment renames a school's segment.
type RenameSegment struct {
	SchoolID  uuid.UUID `json:"school_id"`
	SegmentID uuid.UUID `json:"segment_id"`
	Name      string    `json:"name"`
}

// RenameSegment records SegmentRenamed (nothing if the name is unchanged).
// Returns ErrUnknownSegment, or domain.ErrAlreadyExists if another segment
// has the name.
func (s *Service) RenameSegment(ctx context.Context, meta domain.Meta, cmd RenameSegment) (domain.Result, error) {
	name := strings.TrimSpace(cmd.Name)
	if err := firstErr(required("school_id", cmd.SchoolID, "the school"), required("segment_id", cmd.SegmentID, "the segment"),
		requiredText("name", name, "the segment's new name")); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, SchoolStream(cmd.SchoolID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
		if !sc.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", cmd.SchoolID)
		}
		g, ok := sc.Segment(cmd.SegmentID)
		if !ok {
			return nil, domain.RejectField(ErrUnknownSegment, "segment_id", "%s has no segment %s", sc.Name, cmd.SegmentID)
		}
		if g.Name == name {
			return nil, nil
		}
		for _, o := range sc.Segments {
			if o.ID != g.ID && strings.EqualFold(o.Name, name) {
				return nil, domain.RejectField(domain.ErrAlreadyExists, "name", "%s already has a segment called %q", sc.Name, o.Name)
			}
		}
		return events(SegmentRenamed{SchoolID: sc.ID, SegmentID: g.ID, OldName: g.Name, Name: name}), nil
	})
}

// AppointDirector appoints a staff member the school's Director.
type AppointDirector struct {
	SchoolID   uuid.UUID `json:"school_id"`
	DirectorID uuid.UUID `json:"director_id"`
}

// AppointDirector records DirectorAppointed (nothing if they are already
// Director). Returns ErrNotStaff if the person is not staff of the school,
// ErrPersonLeft if they have left it.
func (s *Service) AppointDirector(ctx context.Context, meta domain.Meta, cmd AppointDirector) (domain.Result, error) {
	if err := firstErr(required("school_id", cmd.SchoolID, "the school"), required("director_id", cmd.DirectorID, "the staff member to appoint")); err != nil {
		return domain.Result{}, err
	}
	if _, err := s.staff(ctx, "director_id", cmd.DirectorID, cmd.SchoolID); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, SchoolStream(cmd.SchoolID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
		if !sc.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", cmd.SchoolID)
		}
		if sc.DirectorID == cmd.DirectorID {
			return nil, nil
		}
		return events(DirectorAppointed{SchoolID: sc.ID, DirectorID: cmd.DirectorID, PreviousID: sc.DirectorID}), nil
	})
}

// OpenAcademicYear opens an academic year of a school.
type OpenAcademicYear struct {
	SchoolID uuid.UUID `json:"school_id"`
	// Year is the label, e.g. "2025-26".
	Year string `json:"year"`
	// StartsOn defaults to the school's start day in the label's first
	// calendar year; EndsOn to the day before the same day a year later.
	StartsOn time.Time `json:"starts_on,omitzero"`
	EndsOn   time.Time `json:"ends_on,omitzero"`
}

// OpenAcademicYear records AcademicYearOpened (nothing if the same year is
// open with the same dates). Returns domain.ErrAlreadyExists for the same
// label with other dates, ErrYearsOverlap if it overlaps an opened year,
// domain.ErrInvalidValue if it ends before it starts.
func (s *Service) OpenAcademicYear(ctx context.Context, meta domain.Meta, cmd OpenAcademicYear) (domain.Result, error) {
	if err := firstErr(required("school_id", cmd.SchoolID, "the school"), validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, SchoolStream(cmd.SchoolID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
		if !sc.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", cmd.SchoolID)
		}
		y, _ := sc.DefaultYear(cmd.Year)
		if !cmd.StartsOn.IsZero() {
			y.StartsOn = Date(cmd.StartsOn)
			y.EndsOn = y.StartsOn.AddDate(1, 0, -1)
		}
		if !cmd.EndsOn.IsZero() {
			y.EndsOn = Date(cmd.EndsOn)
		}
		if !y.EndsOn.After(y.StartsOn) {
			return nil, domain.RejectField(domain.ErrInvalidValue, "ends_on", "the year cannot end (%s) before it starts (%s)", y.EndsOn.Format(time.DateOnly), y.StartsOn.Format(time.DateOnly))
		}
		if old, ok := sc.Year(cmd.Year); ok {
			if old.StartsOn.Equal(y.StartsOn) && old.EndsOn.Equal(y.EndsOn) {
				return nil, nil
			}
			return nil, domain.RejectField(domain.ErrAlreadyExists, "year", "%s is already open, from %s to %s", old.Label, old.StartsOn.Format(time.DateOnly), old.EndsOn.Format(time.DateOnly))
		}
		for _, o := range sc.Years {
			if !y.StartsOn.After(o.EndsOn) && !o.StartsOn.After(y.EndsOn) {
				return nil, domain.RejectField(ErrYearsOverlap, "starts_on", "%s (%s to %s) would overlap %s (%s to %s)", y.Label,
					y.StartsOn.Format(time.DateOnly), y.EndsOn.Format(time.DateOnly), o.Label, o.StartsOn.Format(time.DateOnly), o.EndsOn.Format(time.DateOnly))
			}
		}
		return events(AcademicYearOpened{SchoolID: sc.ID, Year: y.Label, StartsOn: y.StartsOn, EndsOn: y.EndsOn}), nil
	})
}

// SetTeamQuorum sets the quorum of a school's Leadership Team votes.
type SetTeamQuorum struct {
	SchoolID uuid.UUID `json:"school_id"`
	Quorum   Quorum    `json:"quorum"`
}

// SetTeamQuorum records TeamQuorumSet (nothing if the rule is unchanged).
// Rounds of votes opened afterwards use the new rule. Returns
// domain.ErrNotFound for an unknown school, domain.ErrInvalidValue for an
// impossible rule (a count larger than the Team can be: one chair per
// segment and the Director).
func (s *Service) SetTeamQuorum(ctx context.Context, meta domain.Meta, cmd SetTeamQuorum) (domain.Result, error) {
	if err := required("school_id", cmd.SchoolID, "the school"); err != nil {
		return domain.Result{}, err
	}
	q := cmd.Quorum.normal()
	return run(ctx, s, SchoolStream(cmd.SchoolID), NewSchool, meta, func(sc *School) ([]domain.Event, error) {
		if !sc.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "school_id", "no school %s is registered", cmd.SchoolID)
		}
		if err := q.validate(len(sc.Segments) + 1); err != nil {
			return nil, err
		}
		if sc.TeamQuorum.normal() == q {
			return nil, nil
		}
		return events(TeamQuorumSet{SchoolID: sc.ID, Quorum: q, Previous: sc.TeamQuorum.normal()}), nil
	})
}
