// Package partnership owns the between-schools part of the ledger: a
// partnership (a trust, cluster or network) and its member schools and
// lead; the capital and teaching resources schools share and the loans of
// them; teacher secondments; shared CPD, TeachMeets, shadowing, trips and
// events with their bookings and attendance; the transaction costs of
// keeping the partnership running; peer reviews with findings and
// follow-up actions; traffic-light (red, amber, green) progress ratings;
// the partnership's priorities and the commitments schools and ISLCs make
// to them; celebrations of contributions; and the school-improvement
// timeline of the year.
//
// # Streams
//
// Each aggregate is one stream:
//
//	partnership-<id>   Partnership: formation, member schools (joined, left), lead,
//	                   priorities, recognised contributions
//	costs-<id>         CostLedger: transaction costs of partnership <id>
//	resource-<id>      Resource: registration, offer, and every loan of it
//	secondments-<id>   Secondments: every secondment of teacher (person) <id>
//	cpd-<id>           CPDEvent: a CPD session, TeachMeet, shadowing, trip or event,
//	                   its bookings and attendance
//	review-<id>        Review: a peer review, its findings and follow-up actions
//	progress-<id>      Progress: the ratings of one school in one partnership
//	                   (id from ProgressID)
//	commitment-<id>    Commitment: a school's or ISLC's commitment to a priority
//	timeline-<id>      Timeline: a school-improvement programme for a year
//
// # Where the invariants live
//
// "Approved loans of one resource never overlap" is decided inside the
// resource's stream, which holds all its loans: two approvals of
// overlapping loans are decided one after the other on the same revision
// (the handler retries the loser on fresh state), so both can never
// succeed. Likewise all the secondments of one teacher live in that
// teacher's stream, so the 100% limit holds however many partnerships
// borrow them, and a CPD event's bookings live with the event, so it is
// never overbooked.
//
// Each loan and each secondment is its own decision: its events share the
// correlation id of the event that requested or agreed it, although they
// share a stream with the resource's or teacher's other loans or
// secondments.
//
// Facts about schools and people (that a school exists, a person's
// school, who is staff where, an ISLC's school) come from the Directory
// port, which the wiring connects to governance; this package does not
// import it. Membership of the partnership is checked against the
// partnership's stream when a command starts.
//
// # Reading state
//
// Aggregates have exported fields and read-only methods; the query
// helpers (Resource.Loans, OverdueLoans, Resource.UtilisationHours,
// ActiveSecondments, FTEByReceivingSchool, CPDEvent.Costs, Trend,
// LatestRatings, CommitmentsByStatus, Timeline.NextItems, CostLedger.Totals)
// are pure functions over that state, for the projections and the
// partnership report. Every event carries the partnership id and the ids
// of the schools it concerns, so a projection can filter by partnership
// without loading other streams.
package partnership
