package partnership

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Group is the catalogue group of this package's events.
const Group = "partnership"

// Stream kinds (the part of a stream name before "-<uuid>").
const (
	KindPartnership = "partnership"
	KindCosts       = "costs"
	KindResource    = "resource"
	KindSecondments = "secondments"
	KindCPD         = "cpd"
	KindReview      = "review"
	KindProgress    = "progress"
	KindCommitment  = "commitment"
	KindTimeline    = "timeline"
)

// PartnershipStream returns the stream of partnership id: "partnership-<id>".
func PartnershipStream(id uuid.UUID) string { return KindPartnership + "-" + id.String() }

// CostsStream returns the stream of partnership id's transaction costs:
// "costs-<id>".
func CostsStream(partnershipID uuid.UUID) string { return KindCosts + "-" + partnershipID.String() }

// ResourceStream returns the stream of resource id and its loans:
// "resource-<id>".
func ResourceStream(id uuid.UUID) string { return KindResource + "-" + id.String() }

// SecondmentsStream returns the stream of every secondment of teacher
// (a person id): "secondments-<id>".
func SecondmentsStream(teacherID uuid.UUID) string {
	return KindSecondments + "-" + teacherID.String()
}

// CPDStream returns the stream of CPD event id: "cpd-<id>".
func CPDStream(id uuid.UUID) string { return KindCPD + "-" + id.String() }

// ReviewStream returns the stream of peer review id: "review-<id>".
func ReviewStream(id uuid.UUID) string { return KindReview + "-" + id.String() }

// ProgressStream returns the stream of the progress ratings of school in
// partnership: "progress-<ProgressID(partnership, school)>".
func ProgressStream(partnershipID, schoolID uuid.UUID) string {
	return KindProgress + "-" + ProgressID(partnershipID, schoolID).String()
}

// ProgressID returns the id of the progress record of school in
// partnership. It is derived (UUID v5) rather than chosen, so a school has
// exactly one progress record per partnership.
func ProgressID(partnershipID, schoolID uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(partnershipID, []byte("progress:"+schoolID.String()))
}

// CommitmentStream returns the stream of commitment id: "commitment-<id>".
func CommitmentStream(id uuid.UUID) string { return KindCommitment + "-" + id.String() }

// TimelineStream returns the stream of timeline id: "timeline-<id>".
func TimelineStream(id uuid.UUID) string { return KindTimeline + "-" + id.String() }

// ParseStream splits a partnership stream name into its kind and id. It
// reports false for a name that is not "<kind>-<uuid>" with one of this
// package's kinds.
func ParseStream(stream string) (kind string, id uuid.UUID, ok bool) {
	kind, rest, found := strings.Cut(stream, "-")
	if !found {
		return "", uuid.Nil, false
	}
	switch kind {
	case KindPartnership, KindCosts, KindResource, KindSecondments, KindCPD,
		KindReview, KindProgress, KindCommitment, KindTimeline:
	default:
		return "", uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	if err != nil {
		return "", uuid.Nil, false
	}
	return kind, id, true
}

// Date returns the calendar day of t (UTC) at midnight UTC; the zero time
// stays zero.
func Date(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// utc returns t in UTC, so events compare and encode the same whatever
// zone a caller used.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// overlaps reports whether the half-open windows [a1, a2) and [b1, b2)
// share any instant.
func overlaps(a1, a2, b1, b2 time.Time) bool {
	return a1.Before(b2) && b1.Before(a2)
}

// RAG is a traffic-light rating: red, amber or green.
type RAG string

// The traffic-light ratings, from most to least in need of support.
const (
	Red   RAG = "red"
	Amber RAG = "amber"
	Green RAG = "green"
)

// String implements fmt.Stringer.
func (r RAG) String() string { return string(r) }

// Valid reports whether r is red, amber or green.
func (r RAG) Valid() bool { return r == Red || r == Amber || r == Green }

// Rank orders ratings: red 0, amber 1, green 2 (-1 if invalid). Support
// and challenge go first to the lowest rank.
func (r RAG) Rank() int {
	switch r {
	case Red:
		return 0
	case Amber:
		return 1
	case Green:
		return 2
	}
	return -1
}

// AcademicYearOf returns the label ("2025-26") of the UK academic year
// (1 September to 31 August) that t falls in.
func AcademicYearOf(t time.Time) string { return AcademicYearLabel(AcademicStartYear(t)) }

// AcademicStartYear returns the first calendar year of the academic year
// t falls in (2025 for any instant of 2025-26, in UTC).
func AcademicStartYear(t time.Time) int {
	t = t.UTC()
	if t.Month() < time.September {
		return t.Year() - 1
	}
	return t.Year()
}

// AcademicYearBegins returns 1 September of startYear (midnight UTC), the
// first instant of the academic year starting then.
func AcademicYearBegins(startYear int) time.Time {
	return time.Date(startYear, time.September, 1, 0, 0, 0, 0, time.UTC)
}

// AcademicYearLabel returns the label of the academic year starting on
// 1 September of startYear, e.g. 2025 → "2025-26".
func AcademicYearLabel(startYear int) string {
	if i := startYear - firstLabelled; i >= 0 && i < len(yearLabels) {
		return yearLabels[i]
	}
	return academicYearLabel(startYear)
}

func academicYearLabel(startYear int) string {
	return fmt.Sprintf("%d-%02d", startYear, (startYear+1)%100)
}

// yearLabels are the labels of the academic years from firstLabelled on,
// made once: readings in the past label the year of every item they
// list.
var yearLabels = func() []string {
	out := make([]string, 300)
	for i := range out {
		out[i] = academicYearLabel(firstLabelled + i)
	}
	return out
}()

const firstLabelled = 1900

// ParseAcademicYear returns the first calendar year of an academic year
// label such as "2025-26". Returns an error unless the label has that form
// with consecutive years.
func ParseAcademicYear(label string) (startYear int, err error) {
	// Read by hand, not by a regular expression: every term's place in
	// time is worked out from its year label, thousands of times a read.
	digits := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	if len(label) != 7 || label[4] != '-' {
		return 0, fmt.Errorf("%q is not an academic year such as 2025-26", label)
	}
	start, ok1 := digits(label[:4])
	end, ok2 := digits(label[5:])
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("%q is not an academic year such as 2025-26", label)
	}
	if (start+1)%100 != end {
		return 0, fmt.Errorf("%q is not an academic year: %d is not followed by %02d", label, start, end)
	}
	return start, nil
}

// AcademicYearStart returns 1 September of the academic year label
// (midnight UTC).
func AcademicYearStart(label string) (time.Time, error) {
	y, err := ParseAcademicYear(label)
	if err != nil {
		return time.Time{}, err
	}
	return AcademicYearBegins(y), nil
}

// TermCode is one of the six half-terms of a UK school year.
type TermCode string

// The half-terms, in order.
const (
	Autumn1 TermCode = "autumn_1"
	Autumn2 TermCode = "autumn_2"
	Spring1 TermCode = "spring_1"
	Spring2 TermCode = "spring_2"
	Summer1 TermCode = "summer_1"
	Summer2 TermCode = "summer_2"
)

// TermCodes are the half-terms in order.
var TermCodes = []TermCode{Autumn1, Autumn2, Spring1, Spring2, Summer1, Summer2}

// String implements fmt.Stringer.
func (c TermCode) String() string { return string(c) }

// Index returns the half-term's place in the year, 0 (Autumn 1) to 5
// (Summer 2), or -1 if c is not a half-term.
func (c TermCode) Index() int {
	for i, k := range TermCodes {
		if k == c {
			return i
		}
	}
	return -1
}

// Label returns the half-term as people write it, e.g. "Autumn 1".
func (c TermCode) Label() string {
	season, n, ok := strings.Cut(string(c), "_")
	if !ok || season == "" {
		return string(c)
	}
	return strings.ToUpper(season[:1]) + season[1:] + " " + n
}

// Term is a half-term of an academic year, e.g. "2025-26 Autumn 1". Its
// zero value is not a valid term.
type Term struct {
	// AcademicYear is the year's label, e.g. "2025-26".
	AcademicYear string
	// Code is the half-term.
	Code TermCode
}

// ParseTerm parses "2025-26 Autumn 1" (or "2025-26 autumn_1"), case
// insensitively. Returns an error saying what is wrong otherwise.
func ParseTerm(s string) (Term, error) {
	year, rest, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return Term{}, fmt.Errorf("%q is not a term such as \"2025-26 Autumn 1\"", s)
	}
	t := Term{AcademicYear: year, Code: TermCode(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(rest)), " ", "_"))}
	if err := t.Validate(); err != nil {
		return Term{}, err
	}
	return t, nil
}

// Validate returns an error unless t names a valid academic year and
// half-term.
func (t Term) Validate() error {
	if _, err := ParseAcademicYear(t.AcademicYear); err != nil {
		return err
	}
	if t.Code.Index() < 0 {
		return fmt.Errorf("%q is not a half-term: use Autumn 1, Autumn 2, Spring 1, Spring 2, Summer 1 or Summer 2", t.Code)
	}
	return nil
}

// String returns the term as people write it, e.g. "2025-26 Autumn 1".
func (t Term) String() string { return t.AcademicYear + " " + t.Code.Label() }

// Ordinal returns a number that orders terms in time (6 per year); -1 for
// an invalid term.
func (t Term) Ordinal() int {
	y, err := ParseAcademicYear(t.AcademicYear)
	if err != nil || t.Code.Index() < 0 {
		return -1
	}
	return y*6 + t.Code.Index()
}

// Before reports whether t comes before u.
func (t Term) Before(u Term) bool { return t.Ordinal() < u.Ordinal() }

// Starts returns the usual first day of the half-term (midnight UTC): 1
// September for Autumn 1, then the first Monday on or after 1 November,
// 4 January, 22 February, 13 April and 1 June. Schools' own dates differ
// by a few days; the timeline template and TermOf use these. Returns the
// zero time for an invalid term.
func (t Term) Starts() time.Time {
	y, err := ParseAcademicYear(t.AcademicYear)
	if err != nil {
		return time.Time{}
	}
	monday := func(year int, m time.Month, d int) time.Time {
		day := time.Date(year, m, d, 0, 0, 0, 0, time.UTC)
		for day.Weekday() != time.Monday {
			day = day.AddDate(0, 0, 1)
		}
		return day
	}
	switch t.Code {
	case Autumn1:
		return time.Date(y, time.September, 1, 0, 0, 0, 0, time.UTC)
	case Autumn2:
		return monday(y, time.November, 1)
	case Spring1:
		return monday(y+1, time.January, 4)
	case Spring2:
		return monday(y+1, time.February, 22)
	case Summer1:
		return monday(y+1, time.April, 13)
	case Summer2:
		return monday(y+1, time.June, 1)
	}
	return time.Time{}
}

// TermOf returns the half-term that day d falls in, using Term.Starts
// (holidays belong to the half-term before them).
func TermOf(d time.Time) Term {
	year := AcademicYearOf(d)
	d = Date(d)
	cur := Term{AcademicYear: year, Code: Autumn1}
	for _, c := range TermCodes {
		t := Term{AcademicYear: year, Code: c}
		if !d.Before(t.Starts()) {
			cur = t
		}
	}
	return cur
}

var (
	cohortYear = regexp.MustCompile(`^(?i:year)\s*(\d{1,2})$`)
	cohortKS   = regexp.MustCompile(`^(?i:key\s*stage|ks)\s*(\d)$`)
)

// NormaliseCohort returns the canonical form of a cohort (year group)
// label: "Nursery", "Reception", "Year 1" to "Year 13", "Key Stage 1" to
// "Key Stage 5" or "Sixth Form"; case and spacing are forgiven ("year7",
// "KS3"). It reports false for anything else, so a cohort can never be a
// pupil's name.
func NormaliseCohort(s string) (string, bool) {
	s = strings.Join(strings.Fields(s), " ")
	switch strings.ToLower(s) {
	case "nursery":
		return "Nursery", true
	case "reception":
		return "Reception", true
	case "sixth form", "6th form":
		return "Sixth Form", true
	}
	if m := cohortYear.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n >= 1 && n <= 13 {
			return "Year " + strconv.Itoa(n), true
		}
	}
	if m := cohortKS.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n >= 1 && n <= 5 {
			return "Key Stage " + strconv.Itoa(n), true
		}
	}
	return "", false
}
