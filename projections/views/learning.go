package views

import (
	"cmp"
	"slices"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

// LearningView is the name of the "learning" view.
const LearningView = "learning"

func init() { register(func() projections.Projection { return NewLearning() }) }

// Learning is the "learning" view: the learning structures of each school
// and year (peer coaching triads, design communities, professional
// learning pathways) and the rewards recorded for ISLC chairs.
type Learning struct{ stateView[learningState] }

type learningState struct {
	Triads   []governance.TriadFormed           `json:"triads"`
	Design   []governance.DesignCommunityJoined `json:"design"`
	Pathways []governance.LearningPathwayJoined `json:"pathways"`
	Rewards  []governance.ChairRewardRecorded   `json:"rewards"`
}

// NewLearning returns an empty "learning" view.
func NewLearning() *Learning {
	return &Learning{newStateView(LearningView, 2, func() learningState {
		return learningState{Triads: []governance.TriadFormed{}, Design: []governance.DesignCommunityJoined{},
			Pathways: []governance.LearningPathwayJoined{}, Rewards: []governance.ChairRewardRecorded{}}
	})}
}

// Apply implements projections.Projection.
func (v *Learning) Apply(m domain.Message) error {
	switch e := m.Event.(type) {
	case governance.TriadFormed:
		v.state.Triads = append(v.state.Triads, e)
	case governance.DesignCommunityJoined:
		v.state.Design = append(v.state.Design, e)
	case governance.LearningPathwayJoined:
		v.state.Pathways = append(v.state.Pathways, e)
	case governance.ChairRewardRecorded:
		v.state.Rewards = append(v.state.Rewards, e)
	}
	return nil
}

// learningJoin is one person joining a named group in a year.
type learningJoin struct {
	person, school uuid.UUID
	year, name     string
}

// Triad is a peer coaching triad.
type Triad struct {
	ID      uuid.UUID `json:"id"`
	School  uuid.UUID `json:"school_id"`
	Year    string    `json:"year"`
	Members []Ref     `json:"members"`
}

// Group is a design community or a learning pathway and who joined it.
type Group struct {
	Name    string `json:"name"`
	Year    string `json:"year"`
	Members []Ref  `json:"members"`
}

// Reward is a reward recorded for an ISLC's chair.
type Reward struct {
	Community    uuid.UUID         `json:"community_id"`
	Year         string            `json:"year"`
	Chair        Ref               `json:"chair"`
	HoursPerWeek float64           `json:"hours_per_week,omitempty"`
	Stipend      *governance.Money `json:"stipend,omitempty"`
}

// Structures are a school's learning structures in a year.
type Structures struct {
	School            uuid.UUID `json:"school_id"`
	Year              string    `json:"year"`
	Triads            []Triad   `json:"triads"`
	DesignCommunities []Group   `json:"design_communities"`
	Pathways          []Group   `json:"pathways"`
	ChairRewards      []Reward  `json:"chair_rewards"`
}

// Structures returns school's learning structures in year ("" for every
// year), naming people through names.
func (v *Learning) Structures(school uuid.UUID, year string, names PersonNames) Structures {
	out := Structures{School: school, Year: year, Triads: []Triad{}, DesignCommunities: []Group{}, Pathways: []Group{}, ChairRewards: []Reward{}}
	in := func(s uuid.UUID, y string) bool { return s == school && (year == "" || y == year) }
	for _, t := range v.state.Triads {
		if in(t.SchoolID, t.Year) {
			out.Triads = append(out.Triads, Triad{ID: t.TriadID, School: t.SchoolID, Year: t.Year, Members: personRefs(names, t.Members)})
		}
	}
	// Only the school's joins are copied: the lists hold every school's
	// joins of every year.
	var design, paths []learningJoin
	for _, d := range v.state.Design {
		if in(d.SchoolID, d.Year) {
			design = append(design, learningJoin{d.PersonID, d.SchoolID, d.Year, d.Name})
		}
	}
	for _, p := range v.state.Pathways {
		if in(p.SchoolID, p.Year) {
			paths = append(paths, learningJoin{p.PersonID, p.SchoolID, p.Year, p.Name})
		}
	}
	groups := func(joins []learningJoin) []Group {
		gs := []Group{}
		for _, j := range joins {
			i := slices.IndexFunc(gs, func(g Group) bool { return g.Name == j.name && g.Year == j.year })
			if i < 0 {
				gs = append(gs, Group{Name: j.name, Year: j.year})
				i = len(gs) - 1
			}
			gs[i].Members = append(gs[i].Members, personRef(names, j.person))
		}
		slices.SortFunc(gs, func(a, b Group) int { return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Name, b.Name)) })
		return gs
	}
	out.DesignCommunities, out.Pathways = groups(design), groups(paths)
	for _, r := range v.state.Rewards {
		if in(r.SchoolID, r.Year) {
			out.ChairRewards = append(out.ChairRewards, Reward{Community: r.CommunityID, Year: r.Year, Chair: personRef(names, r.ChairID), HoursPerWeek: r.HoursPerWeek, Stipend: r.Stipend})
		}
	}
	return out
}

// Triad returns the triad id, if formed.
func (v *Learning) Triad(id uuid.UUID, names PersonNames) (Triad, bool) {
	for _, t := range v.state.Triads {
		if t.TriadID == id {
			return Triad{ID: t.TriadID, School: t.SchoolID, Year: t.Year, Members: personRefs(names, t.Members)}, true
		}
	}
	return Triad{}, false
}
