package views

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

// ChallengesView is the name of the "challenges" view.
const ChallengesView = "challenges"

func init() { register(func() projections.Projection { return NewChallenges() }) }

// Challenges is the "challenges" view, the accountability of the Director
// to the governors: every challenge a governor raised, on what, by when,
// and the Director's answer, on time or late; with the names of what they
// are about.
//
// The view is versioned (projections.Versioned): each challenge and name
// keeps every version it has had, with the position each holds from, so
// its state as of a past position is looked up (At).
type Challenges struct{ stateView[challengesState] }

type challengesState struct {
	C versions[challengeRec] `json:"challenges"`
	// Names of schools, proposals, ISLCs and resources (not personal
	// data), for what challenges are about.
	Things versions[string] `json:"things"`
}

type challengeRec struct {
	School     uuid.UUID                   `json:"s"`
	Governor   uuid.UUID                   `json:"g"`
	Subject    governance.ChallengeSubject `json:"subj"`
	Text       string                      `json:"t"`
	DueOn      time.Time                   `json:"due"`
	RaisedOn   time.Time                   `json:"on"`
	Answered   bool                        `json:"a,omitempty"`
	Director   uuid.UUID                   `json:"d,omitzero"`
	Answer     string                      `json:"ans,omitempty"`
	AnsweredOn time.Time                   `json:"aon,omitzero"`
	Late       bool                        `json:"late,omitempty"`
	Position   uint64                      `json:"pos"`
}

// NewChallenges returns an empty "challenges" view.
func NewChallenges() *Challenges {
	return &Challenges{newStateView(ChallengesView, 3, func() challengesState {
		return challengesState{C: newVersions[challengeRec](), Things: newVersions[string]()}
	})}
}

// restore implements stateRestorer.
func (s *challengesState) restore() error {
	s.C.restore()
	s.Things.restore()
	return nil
}

// At implements projections.Versioned: the challenges and names as known
// at pos.
func (v *Challenges) At(pos uint64) projections.Projection {
	out := NewChallenges()
	out.state = challengesState{C: v.state.C.upTo(pos), Things: v.state.Things.upTo(pos)}
	return out
}

// Lens implements projections.Lensed: the challenges and names as known
// at pos, looked up in v's own versions while v is read-locked.
func (v *Challenges) Lens(pos uint64) projections.Projection {
	return &Challenges{v.reading(challengesState{C: v.state.C.lens(pos), Things: v.state.Things.lens(pos)})}
}

// MarshalState implements projections.Projection; a lens saves the
// state as of its position.
func (v *Challenges) MarshalState() ([]byte, error) {
	return v.saved(v.state.C.lensed, v.state.C.at, v.At)
}

// Apply implements projections.Projection.
func (v *Challenges) Apply(m domain.Message) error {
	st := &v.state
	if st.C.lensed {
		return errLens
	}
	switch e := m.Event.(type) {
	case governance.SchoolRegistered:
		st.Things.set(e.SchoolID, m.Position, e.Name)
	case governance.CommunityEstablished:
		st.Things.set(e.CommunityID, m.Position, e.Name)
	case governance.ProposalDrafted:
		st.Things.set(e.ProposalID, m.Position, e.Title)
	case governance.ProposalRevised:
		st.Things.set(e.ProposalID, m.Position, e.Title)
	case partnership.ResourceRegistered:
		st.Things.set(e.ResourceID, m.Position, e.Name)
	case governance.ChallengeRaised:
		st.C.set(e.ChallengeID, m.Position, challengeRec{School: e.SchoolID, Governor: e.GovernorID, Subject: e.Subject, Text: e.Text,
			DueOn: governance.Date(e.DueOn), RaisedOn: governance.Date(e.RaisedOn), Position: m.Position})
	case governance.ChallengeAnswered:
		if c, ok := st.C.Now[e.ChallengeID]; ok {
			c.Answered, c.Director, c.Answer, c.AnsweredOn, c.Late = true, e.DirectorID, e.Answer, governance.Date(e.AnsweredOn), e.Late
			st.C.set(e.ChallengeID, m.Position, c)
		}
	}
	return nil
}

// ChallengeSubjectRef is what a challenge is about, named.
type ChallengeSubjectRef struct {
	// Kind is school, proposal, decision, election or loan.
	Kind string    `json:"kind"`
	ID   uuid.UUID `json:"id"`
	// Within is the record that holds it (the proposal of a decision, the
	// ISLC of an election, the resource of a loan).
	Within uuid.UUID `json:"within,omitzero"`
	// Name names it: the school, the proposal (also for a decision), the
	// ISLC of an election, the resource of a loan.
	Name string `json:"name,omitempty"`
}

// ChallengeInfo is a governor's challenge and the Director's answer.
type ChallengeInfo struct {
	ID       uuid.UUID           `json:"id"`
	School   Ref                 `json:"school"`
	Governor Ref                 `json:"governor"`
	Subject  ChallengeSubjectRef `json:"subject"`
	Text     string              `json:"text"`
	DueOn    time.Time           `json:"due_on"`
	RaisedOn time.Time           `json:"raised_on"`
	// Answered is set once the Director answered; Late when after the
	// due day.
	Answered   bool      `json:"answered"`
	Director   *Ref      `json:"director,omitempty"`
	Answer     string    `json:"answer,omitempty"`
	AnsweredOn time.Time `json:"answered_on,omitzero"`
	Late       bool      `json:"late,omitempty"`
	// Overdue marks an open challenge past its due day, on the day asked.
	Overdue bool `json:"overdue,omitempty"`
}

// ChallengeFilter selects challenges; zero fields select all.
type ChallengeFilter struct {
	// Schools are the governors' schools wanted (any of them).
	Schools []uuid.UUID
	// From and To bound the day they were raised, both included.
	From, To time.Time
	// Status is open, answered or "" for both.
	Status string
}

// Challenge statuses for ChallengeFilter.
const (
	ChallengeOpen     = "open"
	ChallengeAnswered = "answered"
)

// List returns the challenges f selects, as they stand on day now: open
// ones first, by due day, then answered ones, by the day answered; naming
// people through names.
func (v *Challenges) List(f ChallengeFilter, now time.Time, names PersonNames) []ChallengeInfo {
	out := []ChallengeInfo{}
	things := v.state.Things
	v.state.C.each(func(id uuid.UUID, c challengeRec) {
		if len(f.Schools) > 0 && !slices.Contains(f.Schools, c.School) ||
			!f.From.IsZero() && c.RaisedOn.Before(f.From) || !f.To.IsZero() && c.RaisedOn.After(f.To) ||
			f.Status == ChallengeOpen && c.Answered || f.Status == ChallengeAnswered && !c.Answered {
			return
		}
		name := things.name(c.Subject.ID)
		if c.Subject.Within != uuid.Nil {
			name = things.name(c.Subject.Within)
		}
		out = append(out, ChallengeInfo{ID: id, School: Ref{ID: c.School, Name: things.name(c.School)}, Governor: personRef(names, c.Governor),
			Subject: ChallengeSubjectRef{Kind: c.Subject.Kind, ID: c.Subject.ID, Within: c.Subject.Within, Name: name},
			Text:    c.Text, DueOn: c.DueOn, RaisedOn: c.RaisedOn, Answered: c.Answered, Director: optPersonRef(names, c.Director),
			Answer: c.Answer, AnsweredOn: c.AnsweredOn, Late: c.Late, Overdue: !c.Answered && governance.Date(now).After(c.DueOn)})
	})
	slices.SortFunc(out, func(a, b ChallengeInfo) int {
		if a.Answered != b.Answered {
			if a.Answered {
				return 1
			}
			return -1
		}
		day := func(c ChallengeInfo) time.Time {
			if c.Answered {
				return c.AnsweredOn
			}
			return c.DueOn
		}
		return cmp.Or(day(a).Compare(day(b)), a.RaisedOn.Compare(b.RaisedOn), uuidCmp(a.ID, b.ID))
	})
	return out
}

// ChallengeCounts sums challenges up.
type ChallengeCounts struct {
	Open         int `json:"open"`
	Overdue      int `json:"overdue"`
	Answered     int `json:"answered"`
	AnsweredLate int `json:"answered_late"`
}

// Counts counts the challenges f selects on day now.
func (v *Challenges) Counts(f ChallengeFilter, now time.Time) ChallengeCounts {
	var out ChallengeCounts
	for _, c := range v.List(f, now, nil) {
		switch {
		case c.Answered && c.Late:
			out.Answered++
			out.AnsweredLate++
		case c.Answered:
			out.Answered++
		case c.Overdue:
			out.Open++
			out.Overdue++
		default:
			out.Open++
		}
	}
	return out
}
