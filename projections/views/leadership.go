package views

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections"
)

// LeadershipTeamView is the name of the "leadership-team" view.
const LeadershipTeamView = "leadership-team"

func init() { register(func() projections.Projection { return NewLeadershipTeams() }) }

// LeadershipTeams is the "leadership-team" view: per school and academic
// year, the Director and the chair in office of each ISLC, and the
// decisions the Team took on proposals.
type LeadershipTeams struct {
	Schools     govSchools                   `json:"schools"`
	Communities map[uuid.UUID]*teamCommunity `json:"communities"`
	Titles      map[uuid.UUID]string         `json:"titles"`
	Decisions   []teamDecision               `json:"decisions"`
	// Closed holds the last closed round of each proposal until its
	// decision is recorded.
	Closed map[uuid.UUID]*TeamTally `json:"closed,omitempty"`
}

// TeamTally is how the Leadership Team voted in the round a decision
// signs off.
type TeamTally struct {
	Round          int `json:"round"`
	TeamInOffice   int `json:"team_in_office"`
	QuorumRequired int `json:"quorum_required"`
	Turnout        int `json:"turnout"`
	Approve        int `json:"approve"`
	SendBack       int `json:"send_back"`
}

type teamCommunity struct {
	govCommunity
	Chairs []govChair `json:"chairs,omitempty"`
}

type teamDecision struct {
	Proposal  uuid.UUID  `json:"p"`
	School    uuid.UUID  `json:"s"`
	Community uuid.UUID  `json:"c"`
	Year      string     `json:"y"`
	Version   int        `json:"v"`
	Outcome   string     `json:"o"`
	Reason    string     `json:"r"`
	Aligned   bool       `json:"al"`
	Note      string     `json:"n,omitempty"`
	DecidedBy uuid.UUID  `json:"by"`
	Role      string     `json:"role"`
	At        time.Time  `json:"at"`
	Position  uint64     `json:"pos"`
	Tally     *TeamTally `json:"tally,omitempty"`
}

// NewLeadershipTeams returns an empty "leadership-team" view.
func NewLeadershipTeams() *LeadershipTeams {
	return &LeadershipTeams{Schools: govSchools{}, Communities: map[uuid.UUID]*teamCommunity{}, Titles: map[uuid.UUID]string{}, Decisions: []teamDecision{},
		Closed: map[uuid.UUID]*TeamTally{}}
}

// Name implements projections.Projection.
func (*LeadershipTeams) Name() string { return LeadershipTeamView }

// Version implements projections.Projection.
func (*LeadershipTeams) Version() int { return 3 }

// Apply implements projections.Projection.
func (v *LeadershipTeams) Apply(m domain.Message) error {
	if v.Schools.apply(m) {
		return nil
	}
	decided := func(p, school, community uuid.UUID, year string, version int, outcome, reason string, al governance.Alignment, by uuid.UUID) {
		v.Decisions = append(v.Decisions, teamDecision{Proposal: p, School: school, Community: community, Year: year, Version: version,
			Outcome: outcome, Reason: reason, Aligned: al.Aligned, Note: al.Note, DecidedBy: by, Role: m.Meta.ActorRole, At: m.Effective().UTC(), Position: m.Position,
			Tally: v.Closed[p]})
		delete(v.Closed, p)
	}
	switch e := m.Event.(type) {
	case governance.CommunityEstablished:
		v.Communities[e.CommunityID] = &teamCommunity{govCommunity: govCommunity{Name: e.Name, School: e.SchoolID, Segment: e.SegmentID}}
	case governance.ProposalDrafted:
		v.Titles[e.ProposalID] = e.Title
	case governance.ProposalRevised:
		v.Titles[e.ProposalID] = e.Title
	case governance.TeamVoteClosed:
		v.Closed[e.ProposalID] = &TeamTally{Round: e.Round, TeamInOffice: len(e.TeamInOffice), QuorumRequired: e.QuorumRequired, Turnout: e.Turnout,
			Approve: e.Approve, SendBack: e.SendBack}
	case governance.ProposalApproved:
		decided(e.ProposalID, e.SchoolID, e.CommunityID, e.Year, e.Version, governance.StatusApproved, e.Reason, e.Alignment, e.DecidedBy)
	case governance.ProposalReturned:
		decided(e.ProposalID, e.SchoolID, e.CommunityID, e.Year, e.Version, governance.StatusReturned, e.Reason, e.Alignment, e.DecidedBy)
	default:
		kind, id, ok := governance.ParseStream(m.Stream)
		if !ok || kind != governance.KindCommunity {
			return nil
		}
		if c, ok := v.Communities[id]; ok {
			govChairs(&c.Chairs, m)
		}
	}
	return nil
}

// MarshalState implements projections.Projection.
func (v *LeadershipTeams) MarshalState() ([]byte, error) { return encodeState(v, 0) }

// UnmarshalState implements projections.Projection.
func (v *LeadershipTeams) UnmarshalState(b []byte) error {
	fresh := NewLeadershipTeams()
	if err := decodeState(b, fresh); err != nil {
		return err
	}
	if fresh.Schools == nil {
		fresh.Schools = govSchools{}
	}
	if fresh.Communities == nil {
		fresh.Communities = map[uuid.UUID]*teamCommunity{}
	}
	if fresh.Titles == nil {
		fresh.Titles = map[uuid.UUID]string{}
	}
	if fresh.Decisions == nil {
		fresh.Decisions = []teamDecision{}
	}
	if fresh.Closed == nil {
		fresh.Closed = map[uuid.UUID]*TeamTally{}
	}
	*v = *fresh
	return nil
}

// TeamSeat is one ISLC's seat on the Leadership Team.
type TeamSeat struct {
	Community Ref `json:"community"`
	Segment   Ref `json:"segment"`
	// Chair is the chair in office; nil when the seat is vacant.
	Chair *Ref `json:"chair,omitempty"`
}

// TeamDecision is a decision of the Leadership Team on a proposal.
type TeamDecision struct {
	Proposal  Ref       `json:"proposal"` // Name: the proposal's current title
	Community Ref       `json:"community"`
	Version   int       `json:"version"`
	Outcome   string    `json:"outcome"` // approved or returned
	Reason    string    `json:"reason"`
	Aligned   bool      `json:"aligned"`
	Note      string    `json:"alignment_note,omitempty"`
	DecidedBy Ref       `json:"decided_by"`
	Role      string    `json:"role"`
	At        time.Time `json:"at"`
	Position  uint64    `json:"position"`
	// Tally is how the Team voted in the round the Director signed off
	// (nil for decisions recorded before the Team voted).
	Tally *TeamTally `json:"tally,omitempty"`
}

// Team is a school's Leadership Team for an academic year: the Director,
// who chairs it, the chairs in office of its ISLCs, and its decisions on
// the year's proposals.
type Team struct {
	School   Ref    `json:"school"`
	Year     string `json:"year"`
	Director *Ref   `json:"director,omitempty"`
	// Seats lists every ISLC in segment order; Members the distinct
	// people on the Team, the Director first.
	Seats     []TeamSeat     `json:"seats"`
	Members   []Ref          `json:"members"`
	Vacant    []Ref          `json:"vacant"`
	Decisions []TeamDecision `json:"decisions"`
}

// Team returns school's Leadership Team for year. It reports false for
// an unknown school.
func (v *LeadershipTeams) Team(school uuid.UUID, year string, names PersonNames) (Team, bool) {
	sc, ok := v.Schools[school]
	if !ok {
		return Team{}, false
	}
	t := Team{School: Ref{ID: school, Name: sc.Name}, Year: year, Director: optPersonRef(names, sc.Director),
		Seats: []TeamSeat{}, Members: []Ref{}, Vacant: []Ref{}, Decisions: []TeamDecision{}}
	var members []uuid.UUID
	if sc.Director != uuid.Nil {
		members = append(members, sc.Director)
	}
	for _, id := range v.communityIDs(school) {
		c := v.Communities[id]
		seat := TeamSeat{Community: Ref{ID: id, Name: c.Name}, Segment: v.Schools.segment(school, c.Segment)}
		if chair, ok := chairInOffice(c.Chairs, year); ok {
			seat.Chair = optPersonRef(names, chair)
			if !slices.Contains(members, chair) {
				members = append(members, chair)
			}
		} else {
			t.Vacant = append(t.Vacant, seat.Community)
		}
		t.Seats = append(t.Seats, seat)
	}
	t.Members = personRefs(names, members)
	for _, d := range v.Decisions {
		if d.School != school || d.Year != year {
			continue
		}
		t.Decisions = append(t.Decisions, TeamDecision{Proposal: Ref{ID: d.Proposal, Name: v.Titles[d.Proposal]},
			Community: Ref{ID: d.Community, Name: v.communityName(d.Community)}, Version: d.Version, Outcome: d.Outcome, Reason: d.Reason,
			Aligned: d.Aligned, Note: d.Note, DecidedBy: personRef(names, d.DecidedBy), Role: d.Role, At: d.At, Position: d.Position, Tally: d.Tally})
	}
	return t, true
}

// Years returns the academic years school opened, oldest first.
func (v *LeadershipTeams) Years(school uuid.UUID) []string {
	out := []string{}
	if sc, ok := v.Schools[school]; ok {
		for _, y := range sc.Years {
			out = append(out, y.Label)
		}
	}
	return out
}

func (v *LeadershipTeams) communityName(id uuid.UUID) string {
	if c, ok := v.Communities[id]; ok {
		return c.Name
	}
	return ""
}

func (v *LeadershipTeams) communityIDs(school uuid.UUID) []uuid.UUID {
	var ids []uuid.UUID
	for id, c := range v.Communities {
		if c.School == school {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int {
		ia, ib := v.Schools.segmentIndex(school, v.Communities[a].Segment), v.Schools.segmentIndex(school, v.Communities[b].Segment)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a.String(), b.String())
	})
	return ids
}
