package governance

import (
	"maps"
	"slices"

	"github.com/concord-ledger/concord/domain"
)

// CopyAggregate implements domain.Copier: an ISLC is copied for every
// command on it and holds every membership, roster and ballot of its
// history.
func (c *Community) CopyAggregate() domain.Aggregate {
	out := *c
	out.Memberships = slices.Clone(c.Memberships)
	for i := range out.Memberships {
		out.Memberships[i].Basis = slices.Clone(out.Memberships[i].Basis)
	}
	if c.Rosters != nil {
		out.Rosters = make(map[string]Roster, len(c.Rosters))
		for k, r := range c.Rosters {
			r.Members, r.Continuing = slices.Clone(r.Members), slices.Clone(r.Continuing)
			out.Rosters[k] = r
		}
	}
	out.AdvisoryGroups = slices.Clone(c.AdvisoryGroups)
	for i := range out.AdvisoryGroups {
		out.AdvisoryGroups[i].Contacts = slices.Clone(out.AdvisoryGroups[i].Contacts)
	}
	if c.Elections != nil {
		out.Elections = make([]*Election, len(c.Elections))
		for i, e := range c.Elections {
			out.Elections[i] = e.copy()
		}
	}
	if c.ConfidenceVotes != nil {
		out.ConfidenceVotes = make([]*ConfidenceVote, len(c.ConfidenceVotes))
		for i, v := range c.ConfidenceVotes {
			out.ConfidenceVotes[i] = v.copy()
		}
	}
	out.Chairs = slices.Clone(c.Chairs)
	out.Rewards = slices.Clone(c.Rewards)
	for i, r := range out.Rewards {
		if r.Stipend != nil {
			s := *r.Stipend
			out.Rewards[i].Stipend = &s
		}
	}
	out.ballotOf = maps.Clone(c.ballotOf)
	return &out
}

func (b Ballot) copy() Ballot {
	b.Electorate = slices.Clone(b.Electorate)
	if b.votes != nil {
		votes := make([]cast, len(b.votes))
		for i, v := range b.votes {
			v.sealed = slices.Clone(v.sealed)
			votes[i] = v
		}
		b.votes = votes
	}
	return b
}

func (e *Election) copy() *Election {
	if e == nil {
		return nil
	}
	out := *e
	out.Ballot = e.Ballot.copy()
	out.Nominations = slices.Clone(e.Nominations)
	out.Candidates = slices.Clone(e.Candidates)
	out.Withdrawn = slices.Clone(e.Withdrawn)
	out.Tally = slices.Clone(e.Tally)
	out.Choices = slices.Clone(e.Choices)
	out.CastingCandidates = slices.Clone(e.CastingCandidates)
	return &out
}

func (v *ConfidenceVote) copy() *ConfidenceVote {
	if v == nil {
		return nil
	}
	out := *v
	out.Ballot = v.Ballot.copy()
	out.Choices = slices.Clone(v.Choices)
	return &out
}
