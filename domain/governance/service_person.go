package governance

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// PersonDetails are a person's name and contact details. They are recorded
// only in the person's own events, sealed with the person's key.
type PersonDetails struct {
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

func (d PersonDetails) personal() domain.PersonalData {
	return domain.PersonalData{Name: strings.TrimSpace(d.Name), Email: strings.TrimSpace(d.Email), Phone: strings.TrimSpace(d.Phone)}
}

// RegisterStaff registers an educator or administrator of a school.
type RegisterStaff struct {
	PersonID uuid.UUID `json:"person_id"`
	SchoolID uuid.UUID `json:"school_id"`
	// Kind is "educator" or "administrator".
	Kind     string   `json:"kind"`
	Subjects []string `json:"subjects,omitempty"`
	PersonDetails
}

// RegisterGovernor registers a governor of a school.
type RegisterGovernor struct {
	PersonID uuid.UUID `json:"person_id"`
	SchoolID uuid.UUID `json:"school_id"`
	PersonDetails
}

// RegisterAdvisoryContact registers an adult contact of a student or
// parent advisory group (never a pupil).
type RegisterAdvisoryContact struct {
	PersonID uuid.UUID `json:"person_id"`
	SchoolID uuid.UUID `json:"school_id"`
	PersonDetails
}

func (s *Service) register(ctx context.Context, meta domain.Meta, person, school uuid.UUID, d PersonDetails, ev domain.Event) (domain.Result, error) {
	if err := firstErr(required("person_id", person, "the person"), required("school_id", school, "the school"),
		requiredText("name", d.Name, "the person's name")); err != nil {
		return domain.Result{}, err
	}
	if _, err := s.school(ctx, "school_id", school); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, PersonStream(person), NewPerson, meta, func(p *Person) ([]domain.Event, error) {
		if p.Registered() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "person_id", "person %s is already registered", person)
		}
		return events(ev), nil
	})
}

// RegisterStaff records StaffRegistered. Returns domain.ErrNotFound for an
// unknown school, domain.ErrAlreadyExists if the person is registered,
// domain.ErrInvalidValue for a kind other than educator or administrator.
func (s *Service) RegisterStaff(ctx context.Context, meta domain.Meta, cmd RegisterStaff) (domain.Result, error) {
	if cmd.Kind != StaffEducator && cmd.Kind != StaffAdministrator {
		return domain.Result{}, domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of staff; use educator or administrator", cmd.Kind)
	}
	return s.register(ctx, meta, cmd.PersonID, cmd.SchoolID, cmd.PersonDetails, StaffRegistered{PersonID: cmd.PersonID, SchoolID: cmd.SchoolID,
		Kind: cmd.Kind, Subjects: cleanList(cmd.Subjects), Personal: cmd.personal()})
}

// RegisterGovernor records GovernorRegistered. Returns domain.ErrNotFound
// for an unknown school, domain.ErrAlreadyExists if the person is
// registered.
func (s *Service) RegisterGovernor(ctx context.Context, meta domain.Meta, cmd RegisterGovernor) (domain.Result, error) {
	return s.register(ctx, meta, cmd.PersonID, cmd.SchoolID, cmd.PersonDetails, GovernorRegistered{PersonID: cmd.PersonID, SchoolID: cmd.SchoolID, Personal: cmd.personal()})
}

// RegisterAdvisoryContact records AdvisoryContactRegistered. Returns
// domain.ErrNotFound for an unknown school, domain.ErrAlreadyExists if the
// person is registered.
func (s *Service) RegisterAdvisoryContact(ctx context.Context, meta domain.Meta, cmd RegisterAdvisoryContact) (domain.Result, error) {
	return s.register(ctx, meta, cmd.PersonID, cmd.SchoolID, cmd.PersonDetails, AdvisoryContactRegistered{PersonID: cmd.PersonID, SchoolID: cmd.SchoolID, Personal: cmd.personal()})
}

// RegisterAuditor registers an outside auditor or inspector, who belongs
// to no school.
type RegisterAuditor struct {
	PersonID     uuid.UUID `json:"person_id"`
	Organisation string    `json:"organisation,omitempty"`
	PersonDetails
}

// RegisterAuditor records AuditorRegistered. Returns domain.ErrRequired
// without an id or a name, domain.ErrAlreadyExists if the person is
// registered.
func (s *Service) RegisterAuditor(ctx context.Context, meta domain.Meta, cmd RegisterAuditor) (domain.Result, error) {
	if err := firstErr(required("person_id", cmd.PersonID, "the person"), requiredText("name", cmd.Name, "the auditor's name")); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, PersonStream(cmd.PersonID), NewPerson, meta, func(p *Person) ([]domain.Event, error) {
		if p.Registered() {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "person_id", "person %s is already registered", cmd.PersonID)
		}
		return events(AuditorRegistered{PersonID: cmd.PersonID, Organisation: strings.TrimSpace(cmd.Organisation), Personal: cmd.personal()}), nil
	})
}

func cleanList(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// AmendPersonDetails replaces a person's details.
type AmendPersonDetails struct {
	PersonID uuid.UUID `json:"person_id"`
	PersonDetails
	// Subjects, when given, replace a staff member's subjects.
	Subjects *[]string `json:"subjects,omitempty"`
}

// AmendPersonDetails records PersonDetailsAmended with the full new
// details. Returns domain.ErrNotFound for an unknown person,
// domain.ErrInvalidValue for subjects of someone who is not staff.
func (s *Service) AmendPersonDetails(ctx context.Context, meta domain.Meta, cmd AmendPersonDetails) (domain.Result, error) {
	if err := firstErr(required("person_id", cmd.PersonID, "the person"), requiredText("name", cmd.Name, "the person's name")); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, PersonStream(cmd.PersonID), NewPerson, meta, func(p *Person) ([]domain.Event, error) {
		if !p.Registered() {
			return nil, domain.RejectField(domain.ErrNotFound, "person_id", "no person %s is registered", cmd.PersonID)
		}
		ev := PersonDetailsAmended{PersonID: p.ID, SchoolID: p.SchoolID, Personal: cmd.personal()}
		if cmd.Subjects != nil {
			if p.Kind != PersonStaff {
				return nil, domain.RejectField(domain.ErrInvalidValue, "subjects", "only staff have subjects taught")
			}
			subj := cleanList(*cmd.Subjects)
			if subj == nil {
				subj = []string{}
			}
			ev.Subjects = &subj
		}
		return events(ev), nil
	})
}

// dayOf returns the day a command's fact happened: d if given, else
// meta's effective day, else today. Returns domain.ErrFutureDate (naming
// field) for a day later than today beyond domain.FutureTolerance.
func (s *Service) dayOf(field string, d time.Time, meta domain.Meta) (time.Time, error) {
	at, err := domain.When(meta, field, Date(d), s.h.Now())
	if err != nil {
		return time.Time{}, err
	}
	return Date(at), nil
}

// inYear checks that day d falls in academic year y, which a command
// claims.
func inYear(field string, y AcademicYear, d time.Time) error {
	if !y.Contains(d) {
		return domain.RejectField(ErrOutsideYear, field, "%s is outside the academic year %s (%s to %s)",
			Date(d).Format(time.DateOnly), y.Label, y.StartsOn.Format(time.DateOnly), y.EndsOn.Format(time.DateOnly))
	}
	return nil
}

// RecordStrengthsAssessment records a staff member's annual strengths
// assessment.
type RecordStrengthsAssessment struct {
	PersonID uuid.UUID `json:"person_id"`
	Year     string    `json:"year"`
	// Scores are 0 to 100 in each of the four domains.
	Scores Strengths `json:"scores"`
	// Interests are segment ids of the person's school.
	Interests []uuid.UUID `json:"interests,omitempty"`
	// Themes are Strength-Finder themes (optional).
	Themes []string `json:"themes,omitempty"`
	// AssessedOn defaults to meta.EffectiveAt, else today; it falls in
	// the year.
	AssessedOn time.Time `json:"assessed_on,omitzero"`
}

// RecordStrengthsAssessment records StrengthsAssessed. Returns
// domain.ErrInvalidValue for a score off the 0–100 scale, ErrNotStaff,
// ErrPersonLeft, ErrYearNotOpen, ErrUnknownSegment for an interest that is
// not a segment of the school, domain.ErrFutureDate for a day not come yet,
// ErrOutsideYear for a day outside the year.
func (s *Service) RecordStrengthsAssessment(ctx context.Context, meta domain.Meta, cmd RecordStrengthsAssessment) (domain.Result, error) {
	if err := firstErr(required("person_id", cmd.PersonID, "the staff member"), validYear("year", cmd.Year), cmd.Scores.validate()); err != nil {
		return domain.Result{}, err
	}
	p, err := s.person(ctx, "person_id", cmd.PersonID)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := s.staff(ctx, "person_id", cmd.PersonID, p.SchoolID); err != nil {
		return domain.Result{}, err
	}
	sc, err := s.school(ctx, "person_id", p.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	y, err := openYear(sc, "year", cmd.Year)
	if err != nil {
		return domain.Result{}, err
	}
	assessed, err := s.dayOf("assessed_on", cmd.AssessedOn, meta)
	if err != nil {
		return domain.Result{}, err
	}
	if err := inYear("assessed_on", y, assessed); err != nil {
		return domain.Result{}, err
	}
	var interests []uuid.UUID
	for _, id := range cmd.Interests {
		if _, ok := sc.Segment(id); !ok {
			return domain.Result{}, domain.RejectField(ErrUnknownSegment, "interests", "%s has no segment %s", sc.Name, id)
		}
		if !slices.Contains(interests, id) {
			interests = append(interests, id)
		}
	}
	ev := StrengthsAssessed{PersonID: p.ID, SchoolID: p.SchoolID, Year: cmd.Year, Scores: cmd.Scores, Interests: interests,
		Themes: cleanList(cmd.Themes), AssessedOn: assessed}
	return run(ctx, s, PersonStream(cmd.PersonID), NewPerson, meta, func(p *Person) ([]domain.Event, error) {
		return events(ev), nil
	})
}

// JoinDesignCommunity records a staff member's design community for a
// year.
type JoinDesignCommunity struct {
	PersonID uuid.UUID `json:"person_id"`
	Year     string    `json:"year"`
	Name     string    `json:"name"`
}

// JoinLearningPathway records a staff member's professional learning
// pathway for a year.
type JoinLearningPathway struct {
	PersonID uuid.UUID `json:"person_id"`
	Year     string    `json:"year"`
	Name     string    `json:"name"`
}

// JoinDesignCommunity records DesignCommunityJoined (nothing if already
// joined). Returns ErrNotStaff, ErrPersonLeft or ErrYearNotOpen.
func (s *Service) JoinDesignCommunity(ctx context.Context, meta domain.Meta, cmd JoinDesignCommunity) (domain.Result, error) {
	return s.joinLearning(ctx, meta, cmd.PersonID, cmd.Year, cmd.Name, false)
}

// JoinLearningPathway records LearningPathwayJoined (nothing if already
// joined). Returns ErrNotStaff, ErrPersonLeft or ErrYearNotOpen.
func (s *Service) JoinLearningPathway(ctx context.Context, meta domain.Meta, cmd JoinLearningPathway) (domain.Result, error) {
	return s.joinLearning(ctx, meta, cmd.PersonID, cmd.Year, cmd.Name, true)
}

func (s *Service) joinLearning(ctx context.Context, meta domain.Meta, person uuid.UUID, year, name string, pathway bool) (domain.Result, error) {
	name = strings.TrimSpace(name)
	if err := firstErr(required("person_id", person, "the staff member"), validYear("year", year), requiredText("name", name, "the name")); err != nil {
		return domain.Result{}, err
	}
	p, err := s.person(ctx, "person_id", person)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := s.staff(ctx, "person_id", person, p.SchoolID); err != nil {
		return domain.Result{}, err
	}
	sc, err := s.school(ctx, "person_id", p.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := openYear(sc, "year", year); err != nil {
		return domain.Result{}, err
	}
	return run(ctx, s, PersonStream(person), NewPerson, meta, func(p *Person) ([]domain.Event, error) {
		if pathway {
			if slices.Contains(p.Pathways[year], name) {
				return nil, nil
			}
			return events(LearningPathwayJoined{PersonID: p.ID, SchoolID: p.SchoolID, Year: year, Name: name}), nil
		}
		if slices.Contains(p.DesignCommunities[year], name) {
			return nil, nil
		}
		return events(DesignCommunityJoined{PersonID: p.ID, SchoolID: p.SchoolID, Year: year, Name: name}), nil
	})
}

// FormTriad forms a peer coaching triad.
type FormTriad struct {
	TriadID  uuid.UUID   `json:"triad_id"`
	SchoolID uuid.UUID   `json:"school_id"`
	Year     string      `json:"year"`
	Members  []uuid.UUID `json:"members"`
}

// FormTriad records TriadFormed. Returns ErrTriadSize unless there are
// exactly three different members, ErrTriadMixedSchools if one is staff of
// another school, ErrNotStaff, ErrPersonLeft, ErrYearNotOpen,
// domain.ErrAlreadyExists if the triad exists.
func (s *Service) FormTriad(ctx context.Context, meta domain.Meta, cmd FormTriad) (domain.Result, error) {
	if err := firstErr(required("triad_id", cmd.TriadID, "the triad"), required("school_id", cmd.SchoolID, "the school"), validYear("year", cmd.Year)); err != nil {
		return domain.Result{}, err
	}
	distinct := slices.Compact(sortedIDs(cmd.Members))
	if len(cmd.Members) != 3 || len(distinct) != 3 || slices.Contains(cmd.Members, uuid.Nil) {
		return domain.Result{}, domain.RejectField(ErrTriadSize, "members", "%d members given, %d of them different; name three different staff members", len(cmd.Members), len(distinct))
	}
	sc, err := s.school(ctx, "school_id", cmd.SchoolID)
	if err != nil {
		return domain.Result{}, err
	}
	if _, err := openYear(sc, "year", cmd.Year); err != nil {
		return domain.Result{}, err
	}
	for _, id := range cmd.Members {
		p, err := s.person(ctx, "members", id)
		if err != nil {
			return domain.Result{}, err
		}
		if p.Kind == PersonStaff && p.SchoolID != cmd.SchoolID {
			return domain.Result{}, domain.RejectField(ErrTriadMixedSchools, "members", "person %s is staff of another school, not of %s", id, sc.Name)
		}
		if _, err := s.staff(ctx, "members", id, cmd.SchoolID); err != nil {
			return domain.Result{}, err
		}
	}
	return run(ctx, s, TriadStream(cmd.TriadID), NewTriad, meta, func(t *Triad) ([]domain.Event, error) {
		if t.ID != uuid.Nil {
			return nil, domain.RejectField(domain.ErrAlreadyExists, "triad_id", "triad %s already exists", t.ID)
		}
		return events(TriadFormed{TriadID: cmd.TriadID, SchoolID: cmd.SchoolID, Year: cmd.Year, Members: slices.Clone(cmd.Members)}), nil
	})
}
