package governance

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// Group is the catalogue group of this package's events.
const Group = "governance"

// Stream kinds (the part of a stream name before "-<uuid>").
const (
	KindSchool    = "school"
	KindPerson    = "person"
	KindCommunity = "community"
	KindProposal  = "proposal"
	KindTriad     = "triad"
	KindChallenge = "challenge"
)

// SchoolStream returns the stream of school id: "school-<id>".
func SchoolStream(id uuid.UUID) string { return KindSchool + "-" + id.String() }

// PersonStream returns the stream of person id: "person-<id>".
func PersonStream(id uuid.UUID) string { return KindPerson + "-" + id.String() }

// CommunityStream returns the stream of community id: "community-<id>".
func CommunityStream(id uuid.UUID) string { return KindCommunity + "-" + id.String() }

// ProposalStream returns the stream of proposal id: "proposal-<id>".
func ProposalStream(id uuid.UUID) string { return KindProposal + "-" + id.String() }

// TriadStream returns the stream of triad id: "triad-<id>".
func TriadStream(id uuid.UUID) string { return KindTriad + "-" + id.String() }

// ChallengeStream returns the stream of challenge id: "challenge-<id>".
func ChallengeStream(id uuid.UUID) string { return KindChallenge + "-" + id.String() }

// ParseStream splits a governance stream name into its kind and id. It
// reports false for a name that is not "<kind>-<uuid>" with one of this
// package's kinds.
func ParseStream(stream string) (kind string, id uuid.UUID, ok bool) {
	kind, rest, found := strings.Cut(stream, "-")
	if !found {
		return "", uuid.Nil, false
	}
	switch kind {
	case KindSchool, KindPerson, KindCommunity, KindProposal, KindTriad, KindChallenge:
	default:
		return "", uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	if err != nil {
		return "", uuid.Nil, false
	}
	return kind, id, true
}

// CommunityID returns the id of the ISLC of segment in school. It is
// derived (UUID v5) rather than chosen, so that a segment can have only
// one community: establishing it twice names the same stream.
func CommunityID(school, segment uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(school, []byte("community:"+segment.String()))
}

// DefaultSegmentID returns the id given to the default segment name of a
// school registered without explicit segments.
func DefaultSegmentID(school uuid.UUID, name string) uuid.UUID {
	return uuid.NewSHA1(school, []byte("segment:"+name))
}

// RunOffID returns the id of the run-off opened when election ends in a
// tie (unless CloseElection names one).
func RunOffID(election uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(election, []byte("run-off"))
}

// NextElectionID returns the id of the election opened when the
// confidence vote vote is lost (unless CloseConfidenceVote names one).
func NextElectionID(vote uuid.UUID) uuid.UUID {
	return uuid.NewSHA1(vote, []byte("next-election"))
}

// Money is an amount in a currency's minor units (pence for GBP), so sums
// are exact.
type Money struct {
	AmountMinor int64  `json:"amount_minor" doc:"Amount in the currency's minor units (e.g. pence)."`
	Currency    string `json:"currency" doc:"ISO 4217 currency code, e.g. GBP."`
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func (m Money) validate(field string) error {
	if m.AmountMinor < 0 {
		return domain.RejectField(domain.ErrInvalidValue, field+".amount_minor", "an amount cannot be negative (%d)", m.AmountMinor)
	}
	if !currencyRE.MatchString(m.Currency) {
		return domain.RejectField(domain.ErrInvalidValue, field+".currency", "%q is not a currency code; use three capital letters such as GBP", m.Currency)
	}
	return nil
}

// String formats m as "GBP 1250.00" (two minor digits assumed).
func (m Money) String() string {
	return fmt.Sprintf("%s %d.%02d", m.Currency, m.AmountMinor/100, m.AmountMinor%100)
}

// Quorum rules.
const (
	// QuorumMajority: more than half of the electorate must vote (the
	// default).
	QuorumMajority = "majority"
	// QuorumPercent: at least Percent per cent of the electorate must vote.
	QuorumPercent = "percent"
	// QuorumCount: at least Count members must vote.
	QuorumCount = "count"
)

// Quorum is how many members must vote for a ballot to count. The zero
// value is a majority.
type Quorum struct {
	Rule    string `json:"rule" doc:"majority (more than half of the electorate, the default), percent or count."`
	Percent int    `json:"percent,omitempty" doc:"For rule percent: the share of the electorate, 1 to 100, that must vote."`
	Count   int    `json:"count,omitempty" doc:"For rule count: how many members must vote."`
}

// normal returns q with the default rule filled in.
func (q Quorum) normal() Quorum {
	if q.Rule == "" {
		q.Rule = QuorumMajority
	}
	return q
}

// validate checks q against an electorate of n.
func (q Quorum) validate(n int) error {
	switch q.Rule {
	case QuorumMajority:
	case QuorumPercent:
		if q.Percent < 1 || q.Percent > 100 {
			return domain.RejectField(domain.ErrInvalidValue, "quorum.percent", "a quorum of %d%% is not possible; give a share from 1 to 100", q.Percent)
		}
	case QuorumCount:
		if q.Count < 1 || q.Count > n {
			return domain.RejectField(domain.ErrInvalidValue, "quorum.count", "a quorum of %d votes is not possible with %d members; give a number from 1 to %d", q.Count, n, n)
		}
	default:
		return domain.RejectField(domain.ErrInvalidValue, "quorum.rule", "%q is not a quorum rule; use majority, percent or count", q.Rule)
	}
	return nil
}

// Required returns how many votes reach the quorum with an electorate of
// n.
func (q Quorum) Required(n int) int {
	switch q.normal().Rule {
	case QuorumPercent:
		return (n*q.Percent + 99) / 100
	case QuorumCount:
		return q.Count
	default:
		return n/2 + 1
	}
}

// Ballot kinds.
const (
	// BallotSecret: the ledger records who voted, and the choice sealed
	// with the election's own key, destroyed at close (the default).
	BallotSecret = "secret"
	// BallotOpen: the ledger records who voted for whom.
	BallotOpen = "open"
)

func ballotKind(s string) (string, error) {
	switch s {
	case "", BallotSecret:
		return BallotSecret, nil
	case BallotOpen:
		return BallotOpen, nil
	}
	return "", domain.RejectField(domain.ErrInvalidValue, "ballot", "%q is not a kind of ballot; use secret or open", s)
}

var yearRE = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// ParseYear returns the calendar year an academic year label such as
// "2025-26" starts in. The second part must follow the first.
func ParseYear(label string) (int, bool) {
	m := yearRE.FindStringSubmatch(label)
	if m == nil {
		return 0, false
	}
	first, _ := strconv.Atoi(m[1])
	second, _ := strconv.Atoi(m[2])
	if (first+1)%100 != second {
		return 0, false
	}
	return first, true
}

// YearLabel returns the label of the academic year starting in calendar
// year first, e.g. 2025 → "2025-26".
func YearLabel(first int) string { return fmt.Sprintf("%04d-%02d", first, (first+1)%100) }

// PreviousYear returns the label of the academic year before label ("" if
// label is not a year label).
func PreviousYear(label string) string {
	first, ok := ParseYear(label)
	if !ok {
		return ""
	}
	return YearLabel(first - 1)
}

func validYear(field, label string) error {
	if label == "" {
		return domain.RejectField(domain.ErrRequired, field, "give the academic year, e.g. 2025-26")
	}
	if _, ok := ParseYear(label); !ok {
		return domain.RejectField(domain.ErrInvalidValue, field, "%q is not an academic year; write it like 2025-26", label)
	}
	return nil
}

// Date returns t's calendar date as midnight UTC: dates in this package
// are days, not instants.
func Date(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func required(field string, id uuid.UUID, what string) error {
	if id == uuid.Nil {
		return domain.RejectField(domain.ErrRequired, field, "give the id of %s", what)
	}
	return nil
}

func requiredText(field, s, what string) error {
	if strings.TrimSpace(s) == "" {
		return domain.RejectField(domain.ErrRequired, field, "give %s", what)
	}
	return nil
}

// actor returns the acting person's id from meta: the person the edge
// authenticated. Commands never name who acts in their body (no voter,
// nominator, drafter or decider field), so nobody can act in another's
// name. Returns ErrNoActingPerson when meta names no person (the system
// administrator, a witness, the system itself).
func actor(meta domain.Meta, field, doing string) (uuid.UUID, error) {
	a, err := uuid.Parse(meta.ActorID)
	if err != nil || a == uuid.Nil {
		return uuid.Nil, domain.RejectField(ErrNoActingPerson, field, "%s is done by a person in their own name; the administrator or the system cannot do it for them", doing)
	}
	return a, nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}
