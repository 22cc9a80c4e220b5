package governance

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// correctionWorld is the proposal world with one more event of each
// correctable kind in its history.
type correctionWorld struct {
	*proposalWorld
	governor, contact2 uuid.UUID
	auditor            uuid.UUID
	triad, proposal    uuid.UUID
	leaver             uuid.UUID
}

func newCorrectionWorld(t *testing.T) *correctionWorld {
	w := &correctionWorld{proposalWorld: newProposalWorld(t)}
	e := w.env
	w.governor, w.contact2, w.triad, w.leaver, w.auditor = domaintest.ID(), domaintest.ID(), domaintest.ID(), domaintest.ID(), domaintest.ID()
	extra := domaintest.ID()
	e.Given(SchoolStream(e.school),
		SegmentAdded{SchoolID: e.school, SegmentID: extra, Name: "Wellbeing"},
		SegmentRenamed{SchoolID: e.school, SegmentID: extra, OldName: "Wellbeing", Name: "Wellbeing & Care"},
		TeamQuorumSet{SchoolID: e.school, Quorum: Quorum{Rule: QuorumCount, Count: 2}},
		TieBreakSet{SchoolID: e.school, RunOffs: 1, Previous: DefaultRunOffs})
	e.Given(PersonStream(w.governor), GovernorRegistered{PersonID: w.governor, SchoolID: e.school, Personal: domain.PersonalData{Name: "Governor Grey"}},
		PersonDetailsAmended{PersonID: w.governor, SchoolID: e.school, Personal: domain.PersonalData{Name: "Governor Gray"}})
	e.Given(PersonStream(w.auditor), AuditorRegistered{PersonID: w.auditor, Organisation: "Diocesan board", Personal: domain.PersonalData{Name: "Inspector"}})
	e.Given(PersonStream(w.contact2), AdvisoryContactRegistered{PersonID: w.contact2, SchoolID: e.school, Personal: domain.PersonalData{Name: "Parent"}},
		PersonalDataErased{PersonID: w.contact2, SchoolID: e.school, Reason: "Request 12"})
	s := w.staff
	e.Given(PersonStream(s[1]),
		StrengthsAssessed{PersonID: s[1], SchoolID: e.school, Year: year, Scores: Strengths{RelationshipBuilding: 50, Executing: 60, StrategicThinking: 70, Influencing: 80}, AssessedOn: yearStart.AddDate(0, 0, 10)},
		DesignCommunityJoined{PersonID: s[1], SchoolID: e.school, Year: year, Name: "Year 7 projects"},
		LearningPathwayJoined{PersonID: s[1], SchoolID: e.school, Year: year, Name: "Early career"})
	e.Given(PersonStream(w.leaver), StaffRegistered{PersonID: w.leaver, SchoolID: e.school, Kind: StaffEducator, Personal: domain.PersonalData{Name: "Leaver"}},
		PersonLeftSchool{PersonID: w.leaver, SchoolID: e.school, LeftOn: yearStart.AddDate(0, 2, 0)})
	e.Given(CommunityStream(w.c),
		GovernorLinked{CommunityID: w.c, SchoolID: e.school, GovernorID: w.governor},
		RosterConfirmed{CommunityID: w.c, SchoolID: e.school, Year: year, Members: s[:3], PreviousYear: prevYear, Continuing: []uuid.UUID{}},
		ChairRewardRecorded{CommunityID: w.c, SchoolID: e.school, Year: year, ChairID: w.chair, HoursPerWeek: 2},
		e.joined(w.c, year, w.leaver),
		MemberLeft{CommunityID: w.c, SchoolID: e.school, PersonID: w.leaver, Year: year, LeftOn: yearStart.AddDate(0, 2, 0), Exception: ExceptionLeftSchool})
	e.Given(TriadStream(w.triad), TriadFormed{TriadID: w.triad, SchoolID: e.school, Year: year, Members: s[:3]})
	w.proposal = w.givenDraft()
	text2 := text1
	text2.Title = "Reading buddies for all"
	e.Given(ProposalStream(w.proposal),
		ProposalRevised{ProposalID: w.proposal, CommunityID: w.c, SchoolID: e.school, Year: year, Version: 2, ProposalText: text2, RevisedBy: s[2]},
		AdviceGiven{ProposalID: w.proposal, CommunityID: w.c, SchoolID: e.school, GroupID: w.group, GroupName: "Parent forum", Version: 2, Stance: StanceSupport, Text: "Yes."},
		ProposalSubmitted{ProposalID: w.proposal, CommunityID: w.c, SchoolID: e.school, Year: year, Version: 2, SubmittedBy: w.chair},
		w.opened(w.proposal, 2, 1),
		TeamVoteCast{ProposalID: w.proposal, CommunityID: w.c, SchoolID: e.school, Round: 1, VoterID: w.director, Vote: VoteApprove, Reason: "r", Alignment: Alignment{Aligned: true, Note: "n"}})
	return w
}

// last returns the id of the last event of type typ in stream.
func (w *correctionWorld) last(stream, typ string) uuid.UUID {
	w.t.Helper()
	var id uuid.UUID
	for _, m := range w.Messages() {
		if m.Stream == stream && m.Type == typ {
			id = m.ID
		}
	}
	if id == uuid.Nil {
		w.t.Fatalf("no %s in %s", typ, stream)
	}
	return id
}

// Every correctable kind of governance event: a correction that keeps
// the rules is accepted, one that breaks a rule is refused naming it.
func TestCorrectionsKeepGovernanceRules(t *testing.T) {
	segs := func(w *correctionWorld) []Segment { return w.segs }
	type tc struct {
		name   string
		stream func(*correctionWorld) string
		typ    string
		// replacement returns the corrected event (nil: a retraction).
		replacement func(*correctionWorld) domain.Event
		rule        error // nil: accepted
	}
	school := func(w *correctionWorld) string { return SchoolStream(w.school) }
	community := func(w *correctionWorld) string { return CommunityStream(w.c) }
	proposal := func(w *correctionWorld) string { return ProposalStream(w.proposal) }
	staff1 := func(w *correctionWorld) string { return PersonStream(w.staff[1]) }
	scores := Strengths{RelationshipBuilding: 55, Executing: 60, StrategicThinking: 70, Influencing: 80}
	cases := []tc{
		{"school renamed", school, "SchoolRegistered", func(w *correctionWorld) domain.Event {
			return SchoolRegistered{SchoolID: w.school, Name: "Infinity Academy", Segments: segs(w), YearStartMonth: 9, YearStartDay: 1}
		}, nil},
		{"school with a start day that does not exist", school, "SchoolRegistered", func(w *correctionWorld) domain.Event {
			return SchoolRegistered{SchoolID: w.school, Name: "Infinity School", Segments: segs(w), YearStartMonth: 2, YearStartDay: 30}
		}, domain.ErrInvalidValue},
		{"segment added under another name", school, "SegmentAdded", func(w *correctionWorld) domain.Event {
			return SegmentAdded{SchoolID: w.school, SegmentID: w.schoolAgg().Segments[6].ID, Name: "Care"}
		}, nil},
		{"segment added with a name taken", school, "SegmentAdded", func(w *correctionWorld) domain.Event {
			return SegmentAdded{SchoolID: w.school, SegmentID: w.schoolAgg().Segments[6].ID, Name: w.segs[0].Name}
		}, domain.ErrAlreadyExists},
		{"segment renamed otherwise", school, "SegmentRenamed", func(w *correctionWorld) domain.Event {
			g := w.schoolAgg().Segments[6]
			return SegmentRenamed{SchoolID: w.school, SegmentID: g.ID, OldName: "Wellbeing", Name: "Wellbeing and Care"}
		}, nil},
		{"rename of a segment the school lacks", school, "SegmentRenamed", func(w *correctionWorld) domain.Event {
			return SegmentRenamed{SchoolID: w.school, SegmentID: domaintest.ID(), OldName: "Wellbeing", Name: "Care"}
		}, ErrUnknownSegment},
		{"another staff member appointed Director", school, "DirectorAppointed", func(w *correctionWorld) domain.Event {
			return DirectorAppointed{SchoolID: w.school, DirectorID: w.staff[4]}
		}, nil},
		{"a governor appointed Director", school, "DirectorAppointed", func(w *correctionWorld) domain.Event {
			return DirectorAppointed{SchoolID: w.school, DirectorID: w.governor}
		}, ErrNotStaff},
		{"someone who had left appointed Director", school, "DirectorAppointed", func(w *correctionWorld) domain.Event {
			return DirectorAppointed{SchoolID: w.school, DirectorID: w.leaver}
		}, nil}, // appointed on the first day, before they left
		{"Team quorum of three", school, "TeamQuorumSet", func(w *correctionWorld) domain.Event {
			return TeamQuorumSet{SchoolID: w.school, Quorum: Quorum{Rule: QuorumCount, Count: 3}}
		}, nil},
		{"Team quorum beyond the Team", school, "TeamQuorumSet", func(w *correctionWorld) domain.Event {
			return TeamQuorumSet{SchoolID: w.school, Quorum: Quorum{Rule: QuorumCount, Count: 9}}
		}, domain.ErrInvalidValue},
		{"one run-off more", school, "TieBreakSet", func(w *correctionWorld) domain.Event {
			return TieBreakSet{SchoolID: w.school, RunOffs: 2, Previous: DefaultRunOffs}
		}, nil},
		{"run-offs beyond the most", school, "TieBreakSet", func(w *correctionWorld) domain.Event {
			return TieBreakSet{SchoolID: w.school, RunOffs: 9, Previous: DefaultRunOffs}
		}, domain.ErrInvalidValue},
		{"year ending in July", school, "AcademicYearOpened", func(w *correctionWorld) domain.Event {
			return AcademicYearOpened{SchoolID: w.school, Year: year, StartsOn: yearStart, EndsOn: time.Date(2026, 7, 31, 0, 0, 0, 0, time.UTC)}
		}, nil},
		{"year overlapping the one before", school, "AcademicYearOpened", func(w *correctionWorld) domain.Event {
			return AcademicYearOpened{SchoolID: w.school, Year: year, StartsOn: yearStart.AddDate(0, -3, 0), EndsOn: yearEnd}
		}, ErrYearsOverlap},
		{"staff kind corrected", func(w *correctionWorld) string { return PersonStream(w.leaver) }, "StaffRegistered", func(w *correctionWorld) domain.Event {
			return StaffRegistered{PersonID: w.leaver, SchoolID: w.school, Kind: StaffAdministrator, Personal: domain.PersonalData{Name: "Leaver"}}
		}, nil},
		{"staff of no known kind", func(w *correctionWorld) string { return PersonStream(w.leaver) }, "StaffRegistered", func(w *correctionWorld) domain.Event {
			return StaffRegistered{PersonID: w.leaver, SchoolID: w.school, Kind: "teacher", Personal: domain.PersonalData{Name: "Leaver"}}
		}, domain.ErrInvalidValue},
		{"governor's name", func(w *correctionWorld) string { return PersonStream(w.governor) }, "GovernorRegistered", func(w *correctionWorld) domain.Event {
			return GovernorRegistered{PersonID: w.governor, SchoolID: w.school, Personal: domain.PersonalData{Name: "Governor Green"}}
		}, nil},
		{"governor without a name", func(w *correctionWorld) string { return PersonStream(w.governor) }, "GovernorRegistered", func(w *correctionWorld) domain.Event {
			return GovernorRegistered{PersonID: w.governor, SchoolID: w.school}
		}, domain.ErrRequired},
		{"auditor's organisation", func(w *correctionWorld) string { return PersonStream(w.auditor) }, "AuditorRegistered", func(w *correctionWorld) domain.Event {
			return AuditorRegistered{PersonID: w.auditor, Organisation: "Inspectorate", Personal: domain.PersonalData{Name: "Inspector"}}
		}, nil},
		{"auditor without a name", func(w *correctionWorld) string { return PersonStream(w.auditor) }, "AuditorRegistered", func(w *correctionWorld) domain.Event {
			return AuditorRegistered{PersonID: w.auditor, Organisation: "Inspectorate"}
		}, domain.ErrRequired},
		{"contact's name", func(w *correctionWorld) string { return PersonStream(w.contact2) }, "AdvisoryContactRegistered", func(w *correctionWorld) domain.Event {
			return AdvisoryContactRegistered{PersonID: w.contact2, SchoolID: w.school, Personal: domain.PersonalData{Name: "Parent rep"}}
		}, nil},
		{"contact without a name", func(w *correctionWorld) string { return PersonStream(w.contact2) }, "AdvisoryContactRegistered", func(w *correctionWorld) domain.Event {
			return AdvisoryContactRegistered{PersonID: w.contact2, SchoolID: w.school}
		}, domain.ErrRequired},
		{"erasure's reference", func(w *correctionWorld) string { return PersonStream(w.contact2) }, "PersonalDataErased", func(w *correctionWorld) domain.Event {
			return PersonalDataErased{PersonID: w.contact2, SchoolID: w.school, Reason: "Request 21"}
		}, nil},
		{"erasure without a reason", func(w *correctionWorld) string { return PersonStream(w.contact2) }, "PersonalDataErased", func(w *correctionWorld) domain.Event {
			return PersonalDataErased{PersonID: w.contact2, SchoolID: w.school}
		}, domain.ErrRequired},
		{"erasure retracted", func(w *correctionWorld) string { return PersonStream(w.contact2) }, "PersonalDataErased", func(*correctionWorld) domain.Event { return nil }, ErrErasureFinal},
		{"details amended", func(w *correctionWorld) string { return PersonStream(w.governor) }, "PersonDetailsAmended", func(w *correctionWorld) domain.Event {
			return PersonDetailsAmended{PersonID: w.governor, SchoolID: w.school, Personal: domain.PersonalData{Name: "Governor Grey-Smith"}}
		}, nil},
		{"subjects of a governor", func(w *correctionWorld) string { return PersonStream(w.governor) }, "PersonDetailsAmended", func(w *correctionWorld) domain.Event {
			return PersonDetailsAmended{PersonID: w.governor, SchoolID: w.school, Personal: domain.PersonalData{Name: "Governor Grey"}, Subjects: &[]string{"Maths"}}
		}, domain.ErrInvalidValue},
		{"left a week later", func(w *correctionWorld) string { return PersonStream(w.leaver) }, "PersonLeftSchool", func(w *correctionWorld) domain.Event {
			return PersonLeftSchool{PersonID: w.leaver, SchoolID: w.school, LeftOn: yearStart.AddDate(0, 2, 7)}
		}, nil},
		{"left on no day", func(w *correctionWorld) string { return PersonStream(w.leaver) }, "PersonLeftSchool", func(w *correctionWorld) domain.Event {
			return PersonLeftSchool{PersonID: w.leaver, SchoolID: w.school}
		}, domain.ErrRequired},
		{"strengths rescored", staff1, "StrengthsAssessed", func(w *correctionWorld) domain.Event {
			return StrengthsAssessed{PersonID: w.staff[1], SchoolID: w.school, Year: year, Scores: scores, AssessedOn: yearStart.AddDate(0, 0, 10)}
		}, nil},
		{"strengths off the scale", staff1, "StrengthsAssessed", func(w *correctionWorld) domain.Event {
			s := scores
			s.Influencing = 120
			return StrengthsAssessed{PersonID: w.staff[1], SchoolID: w.school, Year: year, Scores: s, AssessedOn: yearStart.AddDate(0, 0, 10)}
		}, domain.ErrInvalidValue},
		{"strengths assessed outside the year", staff1, "StrengthsAssessed", func(w *correctionWorld) domain.Event {
			return StrengthsAssessed{PersonID: w.staff[1], SchoolID: w.school, Year: year, Scores: scores, AssessedOn: yearStart.AddDate(0, 0, -10)}
		}, ErrOutsideYear},
		{"design community renamed", staff1, "DesignCommunityJoined", func(w *correctionWorld) domain.Event {
			return DesignCommunityJoined{PersonID: w.staff[1], SchoolID: w.school, Year: year, Name: "Year 8 projects"}
		}, nil},
		{"design community of a year not open", staff1, "DesignCommunityJoined", func(w *correctionWorld) domain.Event {
			return DesignCommunityJoined{PersonID: w.staff[1], SchoolID: w.school, Year: "2030-31", Name: "Year 8 projects"}
		}, ErrYearNotOpen},
		{"pathway renamed", staff1, "LearningPathwayJoined", func(w *correctionWorld) domain.Event {
			return LearningPathwayJoined{PersonID: w.staff[1], SchoolID: w.school, Year: year, Name: "Middle leaders"}
		}, nil},
		{"pathway without a name", staff1, "LearningPathwayJoined", func(w *correctionWorld) domain.Event {
			return LearningPathwayJoined{PersonID: w.staff[1], SchoolID: w.school, Year: year}
		}, domain.ErrRequired},
		{"ISLC renamed", community, "CommunityEstablished", func(w *correctionWorld) domain.Event {
			return CommunityEstablished{CommunityID: w.c, SchoolID: w.school, SegmentID: w.segs[0].ID, Name: "Curriculum"}
		}, nil},
		{"ISLC retracted under its members", community, "CommunityEstablished", func(*correctionWorld) domain.Event { return nil }, domain.ErrNotFound},
		{"membership on both bases", community, "MemberJoined", func(w *correctionWorld) domain.Event {
			j := w.joined(w.c, year, w.leaver)
			j.Basis = []string{BasisInterest, BasisStrengths}
			return j
		}, nil},
		{"membership of a governor", community, "MemberJoined", func(w *correctionWorld) domain.Event {
			return w.joined(w.c, year, w.governor)
		}, ErrNotStaff},
		{"membership from before the year", community, "MemberJoined", func(w *correctionWorld) domain.Event {
			j := w.joined(w.c, year, w.leaver)
			j.EffectiveFrom = yearStart.AddDate(0, 0, -1)
			return j
		}, ErrOutsideYear},
		{"membership twice over", community, "MemberJoined", func(w *correctionWorld) domain.Event {
			return w.joined(w.c, year, w.staff[1])
		}, ErrAlreadyMember},
		{"early leaving on long-term absence", community, "MemberLeft", func(w *correctionWorld) domain.Event {
			return MemberLeft{CommunityID: w.c, SchoolID: w.school, PersonID: w.leaver, Year: year, LeftOn: yearStart.AddDate(0, 2, 0), Exception: ExceptionLongTermAbsence}
		}, nil},
		{"early leaving without an exception", community, "MemberLeft", func(w *correctionWorld) domain.Event {
			return MemberLeft{CommunityID: w.c, SchoolID: w.school, PersonID: w.leaver, Year: year, LeftOn: yearStart.AddDate(0, 2, 0)}
		}, ErrMinimumTermNotServed},
		{"early leaving approved by someone not the Director", community, "MemberLeft", func(w *correctionWorld) domain.Event {
			return MemberLeft{CommunityID: w.c, SchoolID: w.school, PersonID: w.leaver, Year: year, LeftOn: yearStart.AddDate(0, 2, 0), Exception: ExceptionDirectorApproved, ApprovedBy: w.chair}
		}, ErrNotDirector},
		{"roster as it was", community, "RosterConfirmed", func(w *correctionWorld) domain.Event {
			return RosterConfirmed{CommunityID: w.c, SchoolID: w.school, Year: year, Members: w.staff[:3], PreviousYear: prevYear, Continuing: []uuid.UUID{}}
		}, nil},
		{"roster of people not members", community, "RosterConfirmed", func(w *correctionWorld) domain.Event {
			return RosterConfirmed{CommunityID: w.c, SchoolID: w.school, Year: year, Members: w.staff[2:5], PreviousYear: prevYear, Continuing: []uuid.UUID{}}
		}, domain.ErrInvalidValue},
		{"governor link of a staff member", community, "GovernorLinked", func(w *correctionWorld) domain.Event {
			return GovernorLinked{CommunityID: w.c, SchoolID: w.school, GovernorID: w.staff[4]}
		}, ErrNotGovernor},
		{"advisory group renamed", community, "AdvisoryGroupLinked", func(w *correctionWorld) domain.Event {
			return AdvisoryGroupLinked{CommunityID: w.c, SchoolID: w.school, GroupID: w.group, Name: "Parents' forum", Kind: AdvisoryParents, Contacts: []uuid.UUID{w.contact}}
		}, nil},
		{"advisory group with a staff member as contact", community, "AdvisoryGroupLinked", func(w *correctionWorld) domain.Event {
			return AdvisoryGroupLinked{CommunityID: w.c, SchoolID: w.school, GroupID: w.group, Name: "Parent forum", Kind: AdvisoryParents, Contacts: []uuid.UUID{w.staff[1]}}
		}, ErrNotAdvisoryContact},
		{"reward of three hours", community, "ChairRewardRecorded", func(w *correctionWorld) domain.Event {
			return ChairRewardRecorded{CommunityID: w.c, SchoolID: w.school, Year: year, ChairID: w.chair, HoursPerWeek: 3}
		}, nil},
		{"reward of someone not the chair", community, "ChairRewardRecorded", func(w *correctionWorld) domain.Event {
			return ChairRewardRecorded{CommunityID: w.c, SchoolID: w.school, Year: year, ChairID: w.staff[1], HoursPerWeek: 3}
		}, ErrNotChair},
		{"draft's costs", proposal, "ProposalDrafted", func(w *correctionWorld) domain.Event {
			t := text1
			t.Costs = &Money{AmountMinor: 99000, Currency: "GBP"}
			return ProposalDrafted{ProposalID: w.proposal, CommunityID: w.c, SchoolID: w.school, SegmentID: w.segs[0].ID, Year: year, Version: 1, ProposalText: t, DraftedBy: w.staff[1]}
		}, nil},
		{"draft by someone not a member", proposal, "ProposalDrafted", func(w *correctionWorld) domain.Event {
			return ProposalDrafted{ProposalID: w.proposal, CommunityID: w.c, SchoolID: w.school, SegmentID: w.segs[0].ID, Year: year, Version: 1, ProposalText: text1, DraftedBy: w.staff[4]}
		}, ErrNotAMember},
		{"revision's impact", proposal, "ProposalRevised", func(w *correctionWorld) domain.Event {
			t := text1
			t.ExpectedImpact = "Reading ages up two years."
			return ProposalRevised{ProposalID: w.proposal, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, ProposalText: t, RevisedBy: w.staff[2]}
		}, nil},
		{"revision skipping a version", proposal, "ProposalRevised", func(w *correctionWorld) domain.Event {
			return ProposalRevised{ProposalID: w.proposal, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 5, ProposalText: text1, RevisedBy: w.staff[2]}
		}, domain.ErrInvalidValue},
		{"submission by someone not the chair", proposal, "ProposalSubmitted", func(w *correctionWorld) domain.Event {
			return ProposalSubmitted{ProposalID: w.proposal, CommunityID: w.c, SchoolID: w.school, Year: year, Version: 2, SubmittedBy: w.staff[1]}
		}, ErrNotChair},
		{"submission retracted under the Team's votes", proposal, "ProposalSubmitted", func(*correctionWorld) domain.Event { return nil }, ErrNotSubmitted},
		{"advice neutral", proposal, "AdviceGiven", func(w *correctionWorld) domain.Event {
			return AdviceGiven{ProposalID: w.proposal, CommunityID: w.c, SchoolID: w.school, GroupID: w.group, GroupName: "Parent forum", Version: 2, Stance: StanceNeutral, Text: "Either way."}
		}, nil},
		{"advice of a group not linked", proposal, "AdviceGiven", func(w *correctionWorld) domain.Event {
			return AdviceGiven{ProposalID: w.proposal, CommunityID: w.c, SchoolID: w.school, GroupID: domaintest.ID(), GroupName: "Other", Version: 2, Stance: StanceSupport, Text: "Yes."}
		}, ErrAdvisoryGroupNotLinked},
		{"triad of others", func(w *correctionWorld) string { return TriadStream(w.triad) }, "TriadFormed", func(w *correctionWorld) domain.Event {
			return TriadFormed{TriadID: w.triad, SchoolID: w.school, Year: year, Members: w.staff[2:5]}
		}, nil},
		{"triad of two", func(w *correctionWorld) string { return TriadStream(w.triad) }, "TriadFormed", func(w *correctionWorld) domain.Event {
			return TriadFormed{TriadID: w.triad, SchoolID: w.school, Year: year, Members: []uuid.UUID{w.staff[0], w.staff[1], w.staff[1]}}
		}, ErrTriadSize},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newCorrectionWorld(t)
			stream := c.stream(w)
			id := w.last(stream, c.typ)
			res, err := w.svc.CorrectEvent(w.Ctx, w.meta, stream, domain.Correction{EventID: id, Replacement: c.replacement(w), Reason: "corrected in a test"})
			if c.rule == nil {
				if err != nil {
					t.Fatalf("correction refused: %v", err)
				}
				if got := res.Events[0].Event.(domain.EventCorrected); got.Corrects != id {
					t.Fatalf("correction = %+v", got)
				}
				return
			}
			w.ThenError(err, c.rule)
		})
		if c.rule != nil {
			covered[c.typ] = true
		}
	}
	// Each correctable kind has a refused correction above; the others
	// are refused as uncorrectable.
	for _, s := range domain.Specs(Group) {
		if !s.Uncorrectable && !covered[s.Type] && !testedElsewhere[s.Type] {
			t.Errorf("no test of a correction of %s that breaks a rule", s.Type)
		}
	}
}

// testedElsewhere are the correctable kinds whose corrections are tested
// in their own tests below.
var testedElsewhere = map[string]bool{"DirectorLeft": true, "ChallengeRaised": true, "ChallengeAnswered": true}

// A Director's leaving names the Director: a correction naming someone
// else is refused; its day can be corrected.
func TestCorrectDirectorLeft(t *testing.T) {
	w := newProposalWorld(t)
	left := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	w.Clock.Set(left)
	w.ok(w.svc.LeaveSchool(w.Ctx, w.meta, LeaveSchool{PersonID: w.director, LeftOn: left}))
	var id uuid.UUID
	for _, m := range w.Messages() {
		if m.Type == "DirectorLeft" {
			id = m.ID
		}
	}
	_, err := w.svc.CorrectEvent(w.Ctx, w.meta, SchoolStream(w.school), domain.Correction{EventID: id, Reason: "wrong person",
		Replacement: DirectorLeft{SchoolID: w.school, DirectorID: w.chair, LeftOn: left}})
	w.ThenError(err, ErrNotDirector)
	w.ok(w.svc.CorrectEvent(w.Ctx, w.meta, SchoolStream(w.school), domain.Correction{EventID: id, Reason: "day mistyped",
		Replacement: DirectorLeft{SchoolID: w.school, DirectorID: w.director, LeftOn: left.AddDate(0, 0, -1)}}))
}

// Every uncorrectable kind of governance event is refused, replaced or
// retracted.
func TestUncorrectableGovernanceEvents(t *testing.T) {
	e := newEnv(t).givenSchool()
	c, p, el, v := domaintest.ID(), domaintest.ID(), domaintest.ID(), domaintest.ID()
	person := domaintest.ID()
	samples := []domain.Event{
		ElectionOpened{ElectionID: el}, CandidateNominated{ElectionID: el}, NominationAccepted{ElectionID: el}, NominationDeclined{ElectionID: el},
		VotingOpened{ElectionID: el}, VoteCast{ElectionID: el, VoterID: person, SealedChoice: []byte("sealed")}, CandidateWithdrawn{ElectionID: el},
		ElectionClosed{ElectionID: el}, ElectionFailed{ElectionID: el}, ChairElected{ElectionID: el, ChairID: person}, RunOffCalled{ElectionID: el},
		ConfidenceVoteCalled{VoteID: v}, ConfidenceVoteCast{VoteID: v, VoterID: person}, ConfidenceVoteClosed{VoteID: v}, ChairRemoved{VoteID: v},
		ChairVacated{ChairID: person}, CastingVoteAwaited{ElectionID: el}, CastingVoteCast{ElectionID: el},
	}
	proposalSamples := []domain.Event{
		TeamResolutionOpened{ProposalID: p}, TeamVoteCast{ProposalID: p}, TeamVoteClosed{ProposalID: p}, ResolutionSignedOff{ProposalID: p},
		ResolutionReferredBack{ProposalID: p}, ProposalApproved{ProposalID: p}, ProposalReturned{ProposalID: p},
	}
	e.Given(CommunityStream(c), samples...)
	e.Given(ProposalStream(p), proposalSamples...)
	seen := map[string]bool{}
	for _, m := range e.Messages() {
		if m.Stream != CommunityStream(c) && m.Stream != ProposalStream(p) {
			continue
		}
		seen[m.Type] = true
		_, err := e.svc.CorrectEvent(e.Ctx, e.meta, m.Stream, domain.Correction{EventID: m.ID, Replacement: m.Event, Reason: "changed"})
		e.ThenError(err, domain.ErrUncorrectable)
		_, err = e.svc.CorrectEvent(e.Ctx, e.meta, m.Stream, domain.Correction{EventID: m.ID, Reason: "never happened"})
		e.ThenError(err, domain.ErrUncorrectable)
	}
	for _, s := range domain.Specs(Group) {
		if s.Uncorrectable && !seen[s.Type] {
			t.Errorf("uncorrectable %s not tried", s.Type)
		}
	}
}
