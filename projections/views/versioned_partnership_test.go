package views

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections"
)

// partnershipLedger returns random events of two partnerships, as messages
// at positions 1, 2, …, recorded hours apart and now and then earlier
// than the one before (so that the day of the last event folded goes back
// as well as on): schools registered, ISLCs established, schools joining
// and leaving, leads appointed, priorities agreed (some under a title
// given again), peer reviews with their findings, completions and
// follow-up actions, commitments with their progress and closing,
// secondments agreed, ended early and cancelled, transaction costs,
// recognitions, governors' challenges and the Director's answers (some to
// challenges never raised), and the proposals and resources challenges
// name.
func partnershipLedger(seed uint64, n int) []domain.Message {
	rng := rand.New(rand.NewPCG(seed, 5))
	var msgs []domain.Message
	base := time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC)
	emit := func(e domain.Event) {
		m := messageAt(len(msgs), "", e)
		m.RecordedAt = base.Add(time.Duration(len(msgs))*5*time.Hour - time.Duration(rng.IntN(40))*time.Hour)
		msgs = append(msgs, m)
	}
	day := func() time.Time { return base.AddDate(0, 0, rng.IntN(500)) }
	pick := func(ids []uuid.UUID) uuid.UUID { return ids[rng.IntN(len(ids))] }
	pids := []uuid.UUID{uuid.New(), uuid.New()}
	var schools, communities, people, priorities, reviews, commitments, challenges, subjects []uuid.UUID
	type secondment struct{ keys partnership.SecondmentKeys }
	var secondments []secondment
	findings := map[uuid.UUID][]uuid.UUID{}
	actions := map[uuid.UUID][]uuid.UUID{}
	for i := range 3 {
		id := uuid.New()
		schools = append(schools, id)
		emit(governance.SchoolRegistered{SchoolID: id, Name: fmt.Sprint("School ", i)})
	}
	for _, pid := range pids {
		emit(partnership.PartnershipFormed{PartnershipID: pid, Name: "Trust " + pid.String()[:4], Kind: partnership.PartnershipKind("trust"), FormedOn: day()})
	}
	for range 6 {
		people = append(people, uuid.New())
	}
	for len(msgs) < n {
		pid := pick(pids)
		switch k := rng.IntN(24); k {
		case 0:
			// Now and then a school registered again, under a new name:
			// a reading in the past gives the name it had then.
			if rng.IntN(3) == 0 {
				emit(governance.SchoolRegistered{SchoolID: pick(schools), Name: fmt.Sprint("School renamed at ", len(msgs))})
				break
			}
			id := uuid.New()
			schools = append(schools, id)
			emit(governance.SchoolRegistered{SchoolID: id, Name: fmt.Sprint("School ", len(schools))})
		case 1:
			id, school := uuid.New(), pick(schools)
			if len(communities) > 0 && rng.IntN(3) == 0 {
				id = pick(communities) // established again, under a new name
			} else {
				communities = append(communities, id)
			}
			emit(governance.CommunityEstablished{CommunityID: id, SchoolID: school, SegmentID: uuid.New(), Name: fmt.Sprint("ISLC at ", len(msgs))})
		case 2:
			emit(partnership.SchoolJoinedPartnership{PartnershipID: pid, SchoolID: pick(schools), JoinedOn: day()})
		case 3:
			emit(partnership.SchoolLeftPartnership{PartnershipID: pid, SchoolID: pick(schools), LeftOn: day()})
		case 4:
			emit(partnership.PartnershipLeadAppointed{PartnershipID: pid, LeadID: pick(people), LeadSchoolID: pick(schools)})
		case 5:
			id := uuid.New()
			if len(priorities) > 0 && rng.IntN(3) == 0 {
				id = pick(priorities) // agreed again, under another title
			} else {
				priorities = append(priorities, id)
			}
			emit(partnership.PriorityAgreed{PartnershipID: pid, PriorityID: id, Title: fmt.Sprint("Priority ", len(msgs)),
				AcademicYear: partnership.AcademicYearOf(day())})
		case 6:
			id, on := uuid.New(), day()
			reviews = append(reviews, id)
			emit(partnership.PeerReviewScheduled{PartnershipID: pid, ReviewID: id, ReviewedSchoolID: pick(schools),
				ReviewerIDs: []uuid.UUID{pick(people)}, ReviewerSchoolIDs: []uuid.UUID{pick(schools)}, FocusAreas: []string{"Reading"},
				On: on, AcademicYear: partnership.AcademicYearOf(on)})
		case 7, 8:
			if len(reviews) == 0 {
				continue
			}
			r, fid := pick(reviews), uuid.New()
			findings[r] = append(findings[r], fid)
			emit(partnership.ReviewFindingRecorded{PartnershipID: pid, ReviewID: r, FindingID: fid, ReviewerID: pick(people), Area: "Maths",
				Rating: []partnership.RAG{partnership.Red, partnership.Amber, partnership.Green}[rng.IntN(3)], Finding: "seen",
				Recommendations: []string{fmt.Sprint("do ", len(msgs))}})
		case 9:
			if len(reviews) == 0 {
				continue
			}
			r, aid := pick(reviews), uuid.New()
			var fid uuid.UUID
			if f := findings[r]; len(f) > 0 && rng.IntN(2) == 0 {
				fid = pick(f)
			}
			actions[r] = append(actions[r], aid)
			emit(partnership.FollowUpActionAgreed{PartnershipID: pid, ReviewID: r, ActionID: aid, FindingID: fid, Action: "act",
				OwnerID: pick(people), DueOn: day()})
		case 10:
			if len(reviews) == 0 {
				continue
			}
			r := pick(reviews)
			if a := actions[r]; len(a) > 0 && rng.IntN(3) != 0 {
				emit(partnership.FollowUpActionCompleted{PartnershipID: pid, ReviewID: r, ActionID: pick(a), Note: "done", CompletedOn: day(),
					Late: rng.IntN(2) == 0})
			} else {
				emit(partnership.PeerReviewCompleted{PartnershipID: pid, ReviewID: r, Summary: "good", CompletedOn: day()})
			}
		case 11, 12:
			if len(priorities) == 0 {
				continue
			}
			id, due := uuid.New(), day()
			commitments = append(commitments, id)
			c := partnership.CommitmentMade{PartnershipID: pid, CommitmentID: id, PriorityID: pick(priorities), AcademicYear: partnership.AcademicYearOf(due),
				PartyKind: partnership.PartySchool, PartyID: pick(schools), OwnerID: pick(people), DueOn: due, SuccessMeasure: "measured"}
			c.SchoolID = c.PartyID
			if len(communities) > 0 && rng.IntN(2) == 0 {
				c.PartyKind, c.PartyID = partnership.PartyCommunity, pick(communities)
			}
			emit(c)
		case 13, 14:
			if len(commitments) == 0 {
				continue
			}
			c := pick(commitments)
			switch rng.IntN(4) {
			case 0:
				emit(partnership.CommitmentAchieved{PartnershipID: pid, CommitmentID: c, Evidence: "shown", ClosedOn: day()})
			case 1:
				emit(partnership.CommitmentMissed{PartnershipID: pid, CommitmentID: c, Evidence: "learned", ClosedOn: day()})
			default:
				p := rng.IntN(101)
				emit(partnership.CommitmentProgressUpdated{PartnershipID: pid, CommitmentID: c, Note: "going", Percent: &p, UpdatedOn: day()})
			}
		case 15, 16:
			if len(secondments) > 0 && rng.IntN(2) == 0 {
				s := secondments[rng.IntN(len(secondments))]
				if rng.IntN(2) == 0 {
					emit(partnership.SecondmentCancelled{SecondmentKeys: s.keys})
				} else {
					emit(partnership.SecondmentEndedEarly{SecondmentKeys: s.keys, EndOn: day(), PlannedEnd: day()})
				}
				continue
			}
			start := day()
			s := secondment{partnership.SecondmentKeys{PartnershipID: pid, SecondmentID: uuid.New(), TeacherID: pick(people),
				LendingSchoolID: pick(schools), ReceivingSchoolID: pick(schools)}}
			secondments = append(secondments, s)
			emit(partnership.SecondmentAgreed{SecondmentKeys: s.keys, Subject: "Physics", Start: start, End: start.AddDate(0, 2, 0),
				Fraction: 0.5, AcademicYear: partnership.AcademicYearOf(start)})
		case 17, 18:
			on := day()
			emit(partnership.TransactionCostRecorded{PartnershipID: pid, EntryID: uuid.New(), SchoolID: pick(schools),
				Category: []partnership.CostCategory{partnership.CostMeetings, partnership.CostTravel, partnership.CostCoordination, partnership.CostOther}[rng.IntN(4)],
				On:       on, AcademicYear: partnership.AcademicYearOf(on), Hours: float64(rng.IntN(8)), AmountPence: int64(rng.IntN(5000)), Note: "met"})
		case 19:
			r := partnership.ContributionRecognised{PartnershipID: pid, RecognitionID: uuid.New(), RecipientKind: partnership.RecipientPerson,
				RecipientID: pick(people), SchoolID: pick(schools), Citation: "thanks", RecognisedOn: day()}
			switch {
			case rng.IntN(3) == 0:
				r.RecipientKind, r.RecipientID = partnership.RecipientSchool, r.SchoolID
			case len(communities) > 0 && rng.IntN(2) == 0:
				r.RecipientKind, r.RecipientID = partnership.RecipientCommunity, pick(communities)
			}
			emit(r)
		case 20:
			id := uuid.New()
			subjects = append(subjects, id)
			if rng.IntN(2) == 0 {
				emit(partnership.ResourceRegistered{PartnershipID: pid, ResourceID: id, OwnerSchoolID: pick(schools), Kind: "minibus",
					Name: fmt.Sprint("Bus ", len(msgs))})
			} else {
				emit(governance.ProposalDrafted{ProposalID: id, SchoolID: pick(schools), Version: 1,
					ProposalText: governance.ProposalText{Title: fmt.Sprint("Proposal ", len(msgs))}})
			}
		case 21:
			if len(subjects) == 0 {
				continue
			}
			emit(governance.ProposalRevised{ProposalID: pick(subjects), Version: 2, ProposalText: governance.ProposalText{Title: fmt.Sprint("Revised ", len(msgs))}})
		case 22:
			id, on := uuid.New(), day()
			challenges = append(challenges, id)
			subj := governance.ChallengeSubject{Kind: governance.SubjectSchool, ID: pick(schools)}
			if len(subjects) > 0 && rng.IntN(2) == 0 {
				subj = governance.ChallengeSubject{Kind: governance.SubjectDecision, ID: uuid.New(), Within: pick(subjects)}
			}
			emit(governance.ChallengeRaised{ChallengeID: id, SchoolID: pick(schools), GovernorID: pick(people), Subject: subj, Text: "why?",
				DueOn: on.AddDate(0, 0, 14), RaisedOn: on})
		default:
			id := uuid.New() // never raised
			if len(challenges) > 0 && rng.IntN(5) != 0 {
				id = pick(challenges)
			}
			emit(governance.ChallengeAnswered{ChallengeID: id, DirectorID: pick(people), Answer: fmt.Sprint("because ", len(msgs)),
				AnsweredOn: day(), Late: rng.IntN(2) == 0})
		}
	}
	return msgs
}

// partnershipCases are the partnership views versioned with
// partnershipLedger, for versionedCases.
func partnershipCases() []func() projections.Projection {
	return []func() projections.Projection{
		func() projections.Projection { return NewReviews() },
		func() projections.Projection { return NewSecondments() },
		func() projections.Projection { return NewCommitments() },
		func() projections.Projection { return NewPartnerships() },
		func() projections.Projection { return NewCosts() },
		func() projections.Projection { return NewCelebrations() },
		func() projections.Projection { return NewChallenges() },
	}
}

// partnershipDigest returns what the partnership view p works out for
// each partnership it holds (as everything's derived part), and whether p
// is one of them.
func partnershipDigest(p projections.Projection) (any, bool) {
	now := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	years := []string{"", "2025-26", "2026-27"}
	var pids []uuid.UUID
	switch v := p.(type) {
	case *Partnerships:
		for _, info := range v.List(nil) {
			pids = append(pids, info.ID)
		}
		out := map[string]any{}
		for _, pid := range pids {
			info, _ := v.Get(pid, nil)
			out[pid.String()] = []any{info, v.MembershipByYear(pid, "2026-27")}
		}
		return []any{v.state.Partnerships.Now, v.state.Names.Now, v.LastRecordedOn(), v.List(nil), out}, true
	case *Challenges:
		return []any{v.state.C.Now, v.state.Things.Now, v.List(ChallengeFilter{}, now, nil), v.Counts(ChallengeFilter{Status: ChallengeOpen}, now)}, true
	}
	out := map[string]any{}
	for _, pid := range partnershipIDs(p) {
		for _, year := range years {
			key := pid.String() + " " + year
			switch v := p.(type) {
			case *Reviews:
				out[key] = []any{v.Log(pid, year, now, nil), v.FollowUps(pid, year, now, nil)}
			case *Secondments:
				list, err1 := v.List(pid, year, nil)
				by, err2 := v.BySchool(pid, year, now)
				teachers, err3 := v.ByTeacher(pid, year, nil)
				out[key] = []any{list, by, teachers, fmt.Sprint(err1, err2, err3)}
			case *Commitments:
				out[key] = []any{v.List(pid, year, now, nil), v.ByStatus(pid, year, now, nil), v.ByOwner(pid, year, now, nil)}
			case *Costs:
				s, err := v.Summary(pid, year)
				out[key] = []any{s, fmt.Sprint(err), v.ByYear(pid)}
			case *Celebrations:
				out[key] = []any{v.List(pid, year, nil), v.Tallies(pid, year, nil)}
			}
		}
	}
	switch v := p.(type) {
	case *Reviews:
		return []any{v.state.Reviews.Now, v.state.Names.Now, out}, true
	case *Secondments:
		return []any{v.state.Teachers.Now, v.state.Names.Now, out}, true
	case *Commitments:
		return []any{v.state.Commitments.Now, v.state.Priorities.Now, v.state.Names.Now, out}, true
	case *Costs:
		return []any{v.state.Ledgers, v.state.Names.Now, out}, true
	case *Celebrations:
		return []any{v.state.Recognitions, v.state.Names.Now, out}, true
	}
	return nil, false
}

// partnershipIDs returns the partnerships a partnership view holds
// anything of.
func partnershipIDs(p projections.Projection) []uuid.UUID {
	seen := map[uuid.UUID]bool{}
	switch v := p.(type) {
	case *Reviews:
		for _, r := range v.state.Reviews.Now {
			seen[r.PartnershipID] = true
		}
	case *Secondments:
		for _, a := range v.state.Teachers.Now {
			for _, s := range a.List {
				seen[s.PartnershipID] = true
			}
		}
	case *Commitments:
		for _, c := range v.state.Commitments.Now {
			seen[c.PartnershipID] = true
		}
	case *Costs:
		for id := range v.state.Ledgers {
			seen[id] = true
		}
	case *Celebrations:
		for _, r := range v.state.Recognitions {
			seen[r.PartnershipID] = true
		}
	}
	out := make([]uuid.UUID, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	return out
}
