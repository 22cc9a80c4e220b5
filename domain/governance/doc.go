// Package governance owns the school-governance part of the ledger: schools
// and their segments and academic years; people (staff, governors and
// advisory-group contacts) and their annual strengths assessments; the
// leadership communities (ISLCs) with their members, rosters, governors and
// advisory groups; the elections and confidence votes of their chairs; the
// Leadership Team; proposals and their decisions; and the learning
// structures (peer coaching triads, design communities, learning
// pathways).
//
// # Streams
//
// Each aggregate is one stream:
//
//	school-<id>     School: segments, Director, academic years
//	person-<id>     Person: registration, details (sealed), leaving, strengths, learning
//	community-<id>  Community: members, rosters, governor, advisory groups,
//	                elections, confidence votes, chairs in office, rewards
//	proposal-<id>   Proposal: versions, submission, advice, decisions
//	triad-<id>      Triad: a peer coaching triad
//
// A community's id is derived from its school and segment (CommunityID),
// so "one ISLC per segment" holds without a second stream.
//
// # Why elections live in the community stream
//
// The rules of a chair's election cross membership and voting: only
// members nominate, stand and vote; one vote per member; a chair who
// leaves stops being chair; a lost confidence vote removes the chair and
// opens a new election. Keeping elections and confidence votes inside the
// community aggregate puts every one of these rules in one consistency
// boundary, so a vote and a concurrent leaving are decided one after the
// other on the same revision (the handler retries the loser on fresh
// state) and no interleaving can count a vote from someone who had
// already left, or leave a departed chair in office. Each election still
// has its own correlation id (that of the event that opened it), shared by
// every event of that decision, a run-off included, and corrections of a
// closed election's events are marked changed after decision.
//
// # Secret ballots
//
// By default a ballot is secret: VoteCast records who voted and their
// choice sealed with a key that belongs to that election alone (the
// BallotBox port; MemoryBallotBox is the in-memory AES-256-GCM
// implementation). At close the Service opens the sealed choices, records
// the tally and the choices in shuffled order without voter ids, and then
// destroys the election's key: from then on no one, the server included,
// can link a voter to a choice.
//
// # Reading state
//
// Aggregates have exported fields and read-only methods; State folds the
// events of every governance stream into one value, and the query helpers
// (Community.Members, Community.ChairInOffice, LeadershipTeam,
// UnassignedStaff, StrengthsBalance, ContinuityMembers) are pure functions
// over it, for the projections and the API.
package governance
