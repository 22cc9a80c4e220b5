package views

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
)

// govSchool is what several governance views keep of a school: its name,
// segments in order, Director and academic years.
type govSchool struct {
	Name     string         `json:"name"`
	Segments []govSegment   `json:"segments"`
	Director uuid.UUID      `json:"director"`
	Years    []AcademicYear `json:"years"`
}

type govSegment struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// AcademicYear is a school's academic year.
type AcademicYear struct {
	Label    string    `json:"label"`
	StartsOn time.Time `json:"starts_on"`
	EndsOn   time.Time `json:"ends_on"`
}

// govSchools folds the school stream's facts; it reports whether m was one.
type govSchools map[uuid.UUID]*govSchool

func (s govSchools) apply(m domain.Message) bool {
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		sc := &govSchool{Name: e.Name}
		for _, g := range e.Segments {
			sc.Segments = append(sc.Segments, govSegment{ID: g.ID, Name: g.Name})
		}
		s[e.SchoolID] = sc
	case governance.SegmentAdded:
		if sc, ok := s[e.SchoolID]; ok {
			sc.Segments = append(sc.Segments, govSegment{ID: e.SegmentID, Name: e.Name})
		}
	case governance.SegmentRenamed:
		if sc, ok := s[e.SchoolID]; ok {
			for i := range sc.Segments {
				if sc.Segments[i].ID == e.SegmentID {
					sc.Segments[i].Name = e.Name
				}
			}
		}
	case governance.DirectorAppointed:
		if sc, ok := s[e.SchoolID]; ok {
			sc.Director = e.DirectorID
		}
	case governance.DirectorLeft:
		if sc, ok := s[e.SchoolID]; ok && sc.Director == e.DirectorID {
			sc.Director = uuid.Nil
		}
	case governance.AcademicYearOpened:
		if sc, ok := s[e.SchoolID]; ok {
			sc.Years = append(sc.Years, AcademicYear{Label: e.Year, StartsOn: governance.Date(e.StartsOn), EndsOn: governance.Date(e.EndsOn)})
			slices.SortStableFunc(sc.Years, func(a, b AcademicYear) int { return a.StartsOn.Compare(b.StartsOn) })
		}
	default:
		return false
	}
	return true
}

// ref returns the Ref of school id.
func (s govSchools) ref(id uuid.UUID) Ref {
	if sc, ok := s[id]; ok {
		return Ref{ID: id, Name: sc.Name}
	}
	return Ref{ID: id}
}

// segment returns the Ref of segment seg of school.
func (s govSchools) segment(school, seg uuid.UUID) Ref {
	if sc, ok := s[school]; ok {
		for _, g := range sc.Segments {
			if g.ID == seg {
				return Ref{ID: g.ID, Name: g.Name}
			}
		}
	}
	return Ref{ID: seg}
}

// segmentIndex returns the place of seg in school's order (len when
// unknown), so communities list in segment order.
func (s govSchools) segmentIndex(school, seg uuid.UUID) int {
	sc, ok := s[school]
	if !ok {
		return 0
	}
	for i, g := range sc.Segments {
		if g.ID == seg {
			return i
		}
	}
	return len(sc.Segments)
}

// year returns school's academic year label.
func (s govSchools) year(school uuid.UUID, label string) (AcademicYear, bool) {
	if sc, ok := s[school]; ok {
		for _, y := range sc.Years {
			if y.Label == label {
				return y, true
			}
		}
	}
	return AcademicYear{}, false
}

// govChair is one chair's term of office in an ISLC, folded as the
// community aggregate does.
type govChair struct {
	Year     string    `json:"year"`
	Chair    uuid.UUID `json:"chair"`
	Election uuid.UUID `json:"election"`
	From     time.Time `json:"from"`
	Until    time.Time `json:"until,omitzero"`
	EndedBy  string    `json:"ended_by,omitempty"`
	// P is the position of the election, EndP of the term's end (0 while
	// it lasts): the positions a versioned view cuts a list of terms at.
	P    uint64 `json:"p,omitempty"`
	EndP uint64 `json:"ep,omitempty"`
}

// govChairs folds ChairElected, ChairRemoved and ChairVacated into terms;
// it reports whether m was one of them.
func govChairs(terms *[]govChair, m domain.Message) bool {
	end := func(year string, chair uuid.UUID, why string) {
		for i := range *terms {
			t := &(*terms)[i]
			if t.Year == year && t.EndedBy == "" && (chair == uuid.Nil || t.Chair == chair) {
				t.Until, t.EndedBy, t.EndP = m.Effective().UTC(), why, m.Position
			}
		}
	}
	switch e := m.Event.(type) {
	case governance.ChairElected:
		end(e.Year, uuid.Nil, governance.ChairSucceeded)
		*terms = append(*terms, govChair{Year: e.Year, Chair: e.ChairID, Election: e.ElectionID, From: m.Effective().UTC(), P: m.Position})
	case governance.ChairRemoved:
		end(e.Year, e.ChairID, governance.ChairRemovedBy)
	case governance.ChairVacated:
		end(e.Year, e.ChairID, governance.ChairVacatedBy)
	default:
		return false
	}
	return true
}

// chairInOffice returns the chair in office for year.
func chairInOffice(terms []govChair, year string) (uuid.UUID, bool) {
	for i := len(terms) - 1; i >= 0; i-- {
		if t := terms[i]; t.Year == year && t.EndedBy == "" {
			return t.Chair, true
		}
	}
	return uuid.Nil, false
}

// ChairTerm is a chair's term as views show it.
type ChairTerm struct {
	Year       string    `json:"year"`
	Chair      Ref       `json:"chair"`
	ElectionID uuid.UUID `json:"election_id"`
	From       time.Time `json:"from"`
	Until      time.Time `json:"until,omitzero"`
	// EndedBy is succeeded, removed (lost a confidence vote) or vacated
	// (left the ISLC); empty while in office.
	EndedBy  string `json:"ended_by,omitempty"`
	InOffice bool   `json:"in_office"`
}

func chairTerms(names PersonNames, terms []govChair) []ChairTerm {
	out := make([]ChairTerm, len(terms))
	for i, t := range terms {
		out[i] = ChairTerm{Year: t.Year, Chair: personRef(names, t.Chair), ElectionID: t.Election, From: t.From, Until: t.Until, EndedBy: t.EndedBy, InOffice: t.EndedBy == ""}
	}
	return out
}

// communityName keeps an ISLC's name and place.
type govCommunity struct {
	Name    string    `json:"name"`
	School  uuid.UUID `json:"school"`
	Segment uuid.UUID `json:"segment"`
}
