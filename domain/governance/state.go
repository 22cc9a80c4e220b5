package governance

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// State is every governance aggregate folded from the log: a pure fold
// for projections and tests. Apply routes each message by its stream;
// messages of other streams are ignored.
type State struct {
	Schools     map[uuid.UUID]*School
	People      map[uuid.UUID]*Person
	Communities map[uuid.UUID]*Community
	Proposals   map[uuid.UUID]*Proposal
	Triads      map[uuid.UUID]*Triad
	Challenges  map[uuid.UUID]*Challenge
}

// NewState returns an empty State.
func NewState() *State {
	return &State{Schools: map[uuid.UUID]*School{}, People: map[uuid.UUID]*Person{}, Communities: map[uuid.UUID]*Community{},
		Proposals: map[uuid.UUID]*Proposal{}, Triads: map[uuid.UUID]*Triad{}, Challenges: map[uuid.UUID]*Challenge{}}
}

// BuildState folds msgs (in log order) "as corrected now": every
// correction is applied first, as domain.Load does. Folding messages with
// Apply directly gives "as known then".
func BuildState(codec *domain.Codec, msgs []domain.Message) (*State, error) {
	fixed, err := domain.ApplyCorrections(codec, msgs)
	if err != nil {
		return nil, fmt.Errorf("governance state: %w", err)
	}
	st := NewState()
	for _, m := range fixed {
		st.Apply(m)
	}
	return st, nil
}

func agg[A domain.Aggregate](m map[uuid.UUID]A, id uuid.UUID, newAgg func() A) A {
	a, ok := m[id]
	if !ok {
		a = newAgg()
		m[id] = a
	}
	return a
}

// Apply folds one message into the state.
func (s *State) Apply(m domain.Message) {
	kind, id, ok := ParseStream(m.Stream)
	if !ok {
		return
	}
	switch kind {
	case KindSchool:
		agg(s.Schools, id, NewSchool).Apply(m)
	case KindPerson:
		agg(s.People, id, NewPerson).Apply(m)
	case KindCommunity:
		agg(s.Communities, id, NewCommunity).Apply(m)
	case KindProposal:
		agg(s.Proposals, id, NewProposal).Apply(m)
	case KindTriad:
		agg(s.Triads, id, NewTriad).Apply(m)
	case KindChallenge:
		agg(s.Challenges, id, NewChallenge).Apply(m)
	}
}

// CommunitiesOf returns the established ISLCs of school in its segment
// order.
func (s *State) CommunitiesOf(school uuid.UUID) []*Community {
	sc, ok := s.Schools[school]
	if !ok {
		return nil
	}
	var all []*Community
	for _, c := range s.Communities {
		if c.Established() {
			all = append(all, c)
		}
	}
	return schoolOrder(sc, all)
}

// StaffOf returns the registered staff of school (including those who
// have left), ordered by id.
func (s *State) StaffOf(school uuid.UUID) []*Person {
	var out []*Person
	for _, p := range s.People {
		if p.Kind == PersonStaff && p.SchoolID == school {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Person) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out
}

// ProposalsOf returns the proposals of community, ordered by id (UUID v7
// ids sort by creation).
func (s *State) ProposalsOf(community uuid.UUID) []*Proposal {
	var out []*Proposal
	for _, p := range s.Proposals {
		if p.CommunityID == community {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Proposal) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	return out
}

// LeadershipTeam returns school's Leadership Team for year (see the
// function LeadershipTeam).
func (s *State) LeadershipTeam(school uuid.UUID, year string) Team {
	sc, ok := s.Schools[school]
	if !ok {
		return Team{SchoolID: school, Year: year}
	}
	return LeadershipTeam(sc, s.CommunitiesOf(school), year)
}

// UnassignedStaff returns school's staff in no ISLC for year (see the
// function UnassignedStaff).
func (s *State) UnassignedStaff(school uuid.UUID, year string) []uuid.UUID {
	sc, ok := s.Schools[school]
	if !ok {
		return nil
	}
	return UnassignedStaff(sc, s.StaffOf(school), s.CommunitiesOf(school), year)
}

// StrengthsBalance returns the strengths balance of community for year
// (see the function StrengthsBalance).
func (s *State) StrengthsBalance(community uuid.UUID, year string) Balance {
	c, ok := s.Communities[community]
	if !ok {
		return Balance{CommunityID: community, Year: year}
	}
	return StrengthsBalance(c, s.People, year)
}
