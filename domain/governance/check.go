package governance

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
)

// The Check methods below implement domain.Checker: whether an event could
// have been recorded on the aggregate's state, with the checks of the
// command that records it, at the event's effective moment. A correction
// is accepted only if the replacement passes them and no later event of
// the record fails them because of it (domain.Correct). Checks of other
// records (that a person is staff of the school, that a year is open) are
// made by Service.CorrectEvent.

// notThisRecord is the rejection of an event that names another record
// than the one it is in.
func notThisRecord(what string, got, want uuid.UUID) error {
	return domain.RejectField(domain.ErrCorrectionTarget, "replacement", "the event names %s %s, but it is recorded in the record of %s %s", what, got, what, want)
}

// Check implements domain.Checker.
func (s *School) Check(m domain.Message) error {
	if e, ok := m.Event.(SchoolRegistered); ok {
		if s.Registered() {
			return domain.RejectField(domain.ErrAlreadyExists, "school_id", "school %s is already registered", s.ID)
		}
		return checkSchoolRegistered(e)
	}
	if !s.Registered() {
		return domain.RejectField(domain.ErrNotFound, "school_id", "the school is not registered yet")
	}
	switch e := m.Event.(type) {
	case SegmentAdded:
		if e.SchoolID != s.ID {
			return notThisRecord("school", e.SchoolID, s.ID)
		}
		return s.checkNewSegment(e.SegmentID, e.Name)
	case SegmentRenamed:
		if e.SchoolID != s.ID {
			return notThisRecord("school", e.SchoolID, s.ID)
		}
		if _, ok := s.Segment(e.SegmentID); !ok {
			return domain.RejectField(ErrUnknownSegment, "segment_id", "%s has no segment %s", s.Name, e.SegmentID)
		}
		return s.checkSegmentName(e.SegmentID, e.Name)
	case DirectorAppointed:
		if e.SchoolID != s.ID {
			return notThisRecord("school", e.SchoolID, s.ID)
		}
		return required("director_id", e.DirectorID, "the staff member appointed")
	case TeamQuorumSet:
		return e.Quorum.normal().validate(len(s.Segments) + 1)
	case TieBreakSet:
		return checkRunOffs(e.RunOffs)
	case DirectorLeft:
		if e.DirectorID != s.DirectorID || e.DirectorID == uuid.Nil {
			return domain.RejectField(ErrNotDirector, "director_id", "person %s is not the Director of %s", e.DirectorID, s.Name)
		}
	case AcademicYearOpened:
		if e.SchoolID != s.ID {
			return notThisRecord("school", e.SchoolID, s.ID)
		}
		return s.checkYear(AcademicYear{Label: e.Year, StartsOn: Date(e.StartsOn), EndsOn: Date(e.EndsOn)})
	}
	return nil
}

func checkSchoolRegistered(e SchoolRegistered) error {
	if err := firstErr(required("school_id", e.SchoolID, "the school"), requiredText("name", e.Name, "the school's name")); err != nil {
		return err
	}
	if m, d := e.YearStartMonth, e.YearStartDay; m < 1 || m > 12 || d < 1 || time.Date(2001, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() != d {
		return domain.RejectField(domain.ErrInvalidValue, "year_start_day", "academic years cannot start on day %d of month %d", d, m)
	}
	sc := &School{ID: e.SchoolID, Name: e.Name}
	for _, g := range e.Segments {
		if err := sc.checkNewSegment(g.ID, g.Name); err != nil {
			return err
		}
		sc.Segments = append(sc.Segments, g)
	}
	return nil
}

// checkNewSegment checks that a segment with id and name can be added.
func (s *School) checkNewSegment(id uuid.UUID, name string) error {
	if err := firstErr(required("segment_id", id, "the segment"), requiredText("name", name, "the segment's name")); err != nil {
		return err
	}
	if g, ok := s.Segment(id); ok {
		return domain.RejectField(domain.ErrAlreadyExists, "segment_id", "segment %s already exists as %q", g.ID, g.Name)
	}
	return s.checkSegmentName(id, name)
}

// checkSegmentName checks that no segment other than id is called name.
func (s *School) checkSegmentName(id uuid.UUID, name string) error {
	if err := requiredText("name", name, "the segment's name"); err != nil {
		return err
	}
	for _, g := range s.Segments {
		if g.ID != id && strings.EqualFold(g.Name, strings.TrimSpace(name)) {
			return domain.RejectField(domain.ErrAlreadyExists, "name", "%s already has a segment called %q", s.Name, g.Name)
		}
	}
	return nil
}

// checkYear checks that year y can be opened: a valid label, an end after
// its start, and no overlap with the years already open.
func (s *School) checkYear(y AcademicYear) error {
	if err := validYear("year", y.Label); err != nil {
		return err
	}
	if !y.EndsOn.After(y.StartsOn) {
		return domain.RejectField(domain.ErrInvalidValue, "ends_on", "the year cannot end (%s) before it starts (%s)", y.EndsOn.Format(time.DateOnly), y.StartsOn.Format(time.DateOnly))
	}
	if old, ok := s.Year(y.Label); ok {
		return domain.RejectField(domain.ErrAlreadyExists, "year", "%s is already open, from %s to %s", old.Label, old.StartsOn.Format(time.DateOnly), old.EndsOn.Format(time.DateOnly))
	}
	for _, o := range s.Years {
		if !y.StartsOn.After(o.EndsOn) && !o.StartsOn.After(y.EndsOn) {
			return domain.RejectField(ErrYearsOverlap, "starts_on", "%s (%s to %s) would overlap %s (%s to %s)", y.Label,
				y.StartsOn.Format(time.DateOnly), y.EndsOn.Format(time.DateOnly), o.Label, o.StartsOn.Format(time.DateOnly), o.EndsOn.Format(time.DateOnly))
		}
	}
	return nil
}

// Check implements domain.Checker.
func (p *Person) Check(m domain.Message) error {
	register := func(person, school uuid.UUID, name string) error {
		if p.Registered() {
			return domain.RejectField(domain.ErrAlreadyExists, "person_id", "person %s is already registered", p.ID)
		}
		return firstErr(required("person_id", person, "the person"), required("school_id", school, "the school"), requiredText("name", name, "the person's name"))
	}
	switch e := m.Event.(type) {
	case StaffRegistered:
		if e.Kind != StaffEducator && e.Kind != StaffAdministrator {
			return domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of staff; use educator or administrator", e.Kind)
		}
		return register(e.PersonID, e.SchoolID, e.Personal.Name)
	case GovernorRegistered:
		return register(e.PersonID, e.SchoolID, e.Personal.Name)
	case AdvisoryContactRegistered:
		return register(e.PersonID, e.SchoolID, e.Personal.Name)
	case AuditorRegistered:
		if p.Registered() {
			return domain.RejectField(domain.ErrAlreadyExists, "person_id", "person %s is already registered", p.ID)
		}
		return firstErr(required("person_id", e.PersonID, "the person"), requiredText("name", e.Personal.Name, "the person's name"))
	}
	if !p.Registered() {
		return domain.RejectField(domain.ErrNotFound, "person_id", "the person is not registered yet")
	}
	switch e := m.Event.(type) {
	case PersonDetailsAmended:
		if e.PersonID != p.ID {
			return notThisRecord("person", e.PersonID, p.ID)
		}
		if e.Subjects != nil && p.Kind != PersonStaff {
			return domain.RejectField(domain.ErrInvalidValue, "subjects", "only staff have subjects taught")
		}
		return requiredText("name", e.Personal.Name, "the person's name")
	case PersonLeftSchool:
		if e.PersonID != p.ID {
			return notThisRecord("person", e.PersonID, p.ID)
		}
		if p.Left() {
			return domain.RejectField(ErrPersonLeft, "left_on", "person %s already left the school on %s", p.ID, p.LeftOn.Format(time.DateOnly))
		}
		if e.LeftOn.IsZero() {
			return domain.RejectField(domain.ErrRequired, "left_on", "give the last day")
		}
	case StrengthsAssessed:
		if e.PersonID != p.ID {
			return notThisRecord("person", e.PersonID, p.ID)
		}
		return firstErr(p.checkStaffOn(e.AssessedOn), validYear("year", e.Year), e.Scores.validate())
	case PersonalDataErased:
		if e.PersonID != p.ID {
			return notThisRecord("person", e.PersonID, p.ID)
		}
		return requiredText("reason", e.Reason, "the reason for the erasure")
	case DesignCommunityJoined:
		return firstErr(p.checkStaffOn(m.Effective()), validYear("year", e.Year), requiredText("name", e.Name, "the name"))
	case LearningPathwayJoined:
		return firstErr(p.checkStaffOn(m.Effective()), validYear("year", e.Year), requiredText("name", e.Name, "the name"))
	}
	return nil
}

// checkStaffOn checks that p is staff who had not left by day d.
func (p *Person) checkStaffOn(d time.Time) error {
	if p.Kind != PersonStaff {
		return domain.RejectField(ErrNotStaff, "person_id", "person %s is not registered as staff", p.ID)
	}
	if p.Left() && Date(d).After(p.LeftOn) {
		return domain.RejectField(ErrPersonLeft, "person_id", "person %s left the school on %s", p.ID, p.LeftOn.Format(time.DateOnly))
	}
	return nil
}

// Check implements domain.Checker.
func (c *Community) Check(m domain.Message) error {
	if _, ok := m.Event.(CommunityEstablished); ok {
		if c.Established() {
			return domain.RejectField(domain.ErrAlreadyExists, "community_id", "the ISLC %s is already established", c.ID)
		}
		return nil
	}
	if !c.Established() {
		return domain.RejectField(domain.ErrNotFound, "community_id", "the ISLC is not established yet")
	}
	switch e := m.Event.(type) {
	case MemberJoined:
		if e.CommunityID != c.ID {
			return notThisRecord("ISLC", e.CommunityID, c.ID)
		}
		if _, err := validBasis(e.Basis); err != nil {
			return err
		}
		if c.IsMember(e.PersonID, e.Year) {
			return domain.RejectField(ErrAlreadyMember, "person_id", "person %s is already a member of the %s ISLC for %s", e.PersonID, c.Name, e.Year)
		}
		if Date(e.EffectiveFrom).After(Date(e.TermEndsOn)) {
			return domain.RejectField(domain.ErrInvalidValue, "effective_from", "the membership would start (%s) after its year ends (%s)", Date(e.EffectiveFrom).Format(time.DateOnly), Date(e.TermEndsOn).Format(time.DateOnly))
		}
		return validYear("year", e.Year)
	case MemberLeft:
		if e.CommunityID != c.ID {
			return notThisRecord("ISLC", e.CommunityID, c.ID)
		}
		mb, ok := c.MembershipOf(e.PersonID, e.Year)
		if !ok || !mb.Active() {
			return domain.RejectField(ErrNotAMember, "person_id", "person %s is not a member of the %s ISLC for %s", e.PersonID, c.Name, e.Year)
		}
		return checkLeaving(mb, Date(e.LeftOn), e.Exception, e.ApprovedBy)
	case RosterConfirmed:
		members := c.Members(e.Year)
		if len(members) == 0 {
			return domain.RejectField(ErrEmptyRoster, "year", "the %s ISLC has no members for %s", c.Name, e.Year)
		}
		if !slices.Equal(sortedIDs(members), sortedIDs(e.Members)) {
			return domain.RejectField(domain.ErrInvalidValue, "members", "a roster lists the ISLC's members for %s, who are %d, not the %d given", e.Year, len(members), len(e.Members))
		}
		continuing := ContinuityMembers(c, e.Year)
		if prev := c.Members(PreviousYear(e.Year)); len(prev) > 0 && len(continuing) == 0 {
			return domain.RejectField(ErrNoContinuity, "year", "none of the %d members of the %s ISLC in %s is a member in %s", len(prev), c.Name, PreviousYear(e.Year), e.Year)
		}
		if !slices.Equal(sortedIDs(continuing), sortedIDs(e.Continuing)) {
			return domain.RejectField(domain.ErrInvalidValue, "continuing", "the members continuing from %s are %d, not the %d given", PreviousYear(e.Year), len(continuing), len(e.Continuing))
		}
	case GovernorLinked:
		return required("governor_id", e.GovernorID, "the governor")
	case AdvisoryGroupLinked:
		switch e.Kind {
		case AdvisoryStudents, AdvisoryParents, AdvisoryStudentsAndParents:
		default:
			return domain.RejectField(domain.ErrInvalidValue, "kind", "%q is not a kind of advisory group; use students, parents or students_and_parents", e.Kind)
		}
		if g, ok := c.AdvisoryGroup(e.GroupID); ok {
			return domain.RejectField(domain.ErrAlreadyExists, "group_id", "the group %q is already linked to the %s ISLC", g.Name, c.Name)
		}
		if len(e.Contacts) == 0 {
			return domain.RejectField(domain.ErrRequired, "contacts", "name at least one adult contact of the group")
		}
		return requiredText("name", e.Name, "the group's name")
	case ChairRewardRecorded:
		if chair, ok := c.ChairInOffice(e.Year); !ok || chair != e.ChairID {
			return domain.RejectField(ErrNotChair, "chair_id", "person %s is not the chair in office of the %s ISLC for %s", e.ChairID, c.Name, e.Year)
		}
		return checkReward(e.HoursPerWeek, e.Stipend)
	default:
		return c.checkBallot(m)
	}
	return nil
}

// checkLeaving applies the rules of leaving membership mb on day left:
// not before it started, and before the end of its term only with a valid
// exception (one approved by the Director names who approved it).
func checkLeaving(mb Membership, left time.Time, exception string, approvedBy uuid.UUID) error {
	if left.IsZero() {
		return domain.RejectField(domain.ErrRequired, "left_on", "give the last day in the ISLC")
	}
	if left.Before(mb.EffectiveFrom) && exception != ExceptionLeftSchool {
		return domain.RejectField(domain.ErrInvalidValue, "left_on", "the membership started on %s; a member cannot leave before that", mb.EffectiveFrom.Format(time.DateOnly))
	}
	if !left.Before(mb.TermEndsOn) {
		return nil
	}
	switch exception {
	case ExceptionLeftSchool, ExceptionLongTermAbsence:
	case ExceptionDirectorApproved:
		if approvedBy == uuid.Nil {
			return domain.RejectField(ErrNotDirector, "exception", "an early leaving approved by the Director names the Director who approved it")
		}
	default:
		return domain.RejectField(ErrMinimumTermNotServed, "exception", "the membership of %s runs to %s; leaving on %s needs an exception (left_school, long_term_absence or director_approved)",
			mb.Year, mb.TermEndsOn.Format(time.DateOnly), left.Format(time.DateOnly))
	}
	return nil
}

func checkReward(hours float64, stipend *Money) error {
	if hours == 0 && stipend == nil {
		return domain.RejectField(domain.ErrRequired, "hours_per_week", "give the time allowance, the stipend, or both")
	}
	if hours < 0 || hours > 40 {
		return domain.RejectField(domain.ErrInvalidValue, "hours_per_week", "%.1f hours a week is not a possible allowance; give 0 to 40", hours)
	}
	if stipend != nil {
		return stipend.validate("stipend")
	}
	return nil
}

// checkBallot checks the events of elections, confidence votes and chairs,
// which are never corrected themselves but must stay valid when an
// earlier event (a membership) is corrected.
func (c *Community) checkBallot(m domain.Message) error {
	election := func(id uuid.UUID, status string) (*Election, error) {
		e, ok := c.Election(id)
		if !ok {
			return nil, domain.RejectField(domain.ErrNotFound, "election_id", "the %s ISLC has no election %s", c.Name, id)
		}
		if status != "" && e.Status != status {
			return nil, domain.Reject(ErrElectionNotOpen, "election %s is %s, not %s", id, e.Status, status)
		}
		return e, nil
	}
	member := func(person uuid.UUID, year, field string) error {
		if !c.IsMember(person, year) {
			return domain.RejectField(ErrNotAMember, field, "person %s is not a member of the %s ISLC for %s", person, c.Name, year)
		}
		return nil
	}
	switch e := m.Event.(type) {
	case ElectionOpened:
		if e.RunOffOf == uuid.Nil && e.AfterConfidenceVote == uuid.Nil {
			if running, ok := c.RunningBallot(); ok {
				return domain.Reject(ErrBallotInProgress, "ballot %s of the %s ISLC is still running", running, c.Name)
			}
		}
		for _, p := range e.Electorate {
			if err := member(p, e.Year, "electorate"); err != nil {
				return err
			}
		}
	case CandidateNominated:
		el, err := election(e.ElectionID, StatusNominating)
		if err != nil {
			return err
		}
		return firstErr(member(e.NominatedBy, el.Year, "nominated_by"), member(e.NomineeID, el.Year, "nominee_id"))
	case NominationAccepted, NominationDeclined:
		var id, nominee uuid.UUID
		if a, ok := e.(NominationAccepted); ok {
			id, nominee = a.ElectionID, a.NomineeID
		} else {
			d := e.(NominationDeclined)
			id, nominee = d.ElectionID, d.NomineeID
		}
		el, err := election(id, StatusNominating)
		if err != nil {
			return err
		}
		if _, ok := el.Nomination(nominee); !ok {
			return domain.RejectField(ErrNotNominated, "nominee_id", "person %s has no nomination in election %s", nominee, id)
		}
	case VoteCast:
		el, err := election(e.ElectionID, StatusVoting)
		if err != nil {
			return err
		}
		if err := checkVoter(c, &el.Ballot, e.VoterID); err != nil {
			return err
		}
		if e.CandidateID != nil && !el.Standing(*e.CandidateID) {
			return domain.RejectField(ErrNotCandidate, "candidate_id", "person %s is not standing in election %s", *e.CandidateID, el.ID)
		}
	case ConfidenceVoteCast:
		v, ok := c.ConfidenceVote(e.VoteID)
		if !ok || v.Status != StatusVoting {
			return domain.Reject(ErrElectionNotOpen, "confidence vote %s is not open", e.VoteID)
		}
		return checkVoter(c, &v.Ballot, e.VoterID)
	case ConfidenceVoteCalled:
		if chair, ok := c.ChairInOffice(e.Year); !ok || chair != e.ChairID {
			return domain.RejectField(ErrNoChair, "year", "person %s is not the chair in office of the %s ISLC for %s", e.ChairID, c.Name, e.Year)
		}
		return member(e.CalledBy, e.Year, "called_by")
	case ChairElected:
		return member(e.ChairID, e.Year, "chair_id")
	case CastingVoteCast:
		el, err := election(e.ElectionID, "")
		if err != nil {
			return err
		}
		if !el.AwaitingCastingVote() || !slices.Contains(el.CastingCandidates, e.CandidateID) {
			return domain.RejectField(ErrNoCastingVoteDue, "candidate_id", "election %s awaits no casting vote for person %s", e.ElectionID, e.CandidateID)
		}
	case ChairVacated:
		if chair, ok := c.ChairInOffice(e.Year); !ok || chair != e.ChairID {
			return domain.RejectField(ErrNotChair, "chair_id", "person %s is not the chair in office of the %s ISLC for %s", e.ChairID, c.Name, e.Year)
		}
		if c.IsMember(e.ChairID, e.Year) {
			return domain.RejectField(ErrNotAMember, "chair_id", "person %s is still a member of the %s ISLC for %s; a chair vacates the chair by leaving it", e.ChairID, c.Name, e.Year)
		}
	case ChairRemoved:
		if chair, ok := c.ChairInOffice(e.Year); !ok || chair != e.ChairID {
			return domain.RejectField(ErrNotChair, "chair_id", "person %s is not the chair in office of the %s ISLC for %s", e.ChairID, c.Name, e.Year)
		}
	}
	return nil
}

// Check implements domain.Checker.
func (p *Proposal) Check(m domain.Message) error {
	if e, ok := m.Event.(ProposalDrafted); ok {
		if p.Drafted() {
			return domain.RejectField(domain.ErrAlreadyExists, "proposal_id", "proposal %s already exists", p.ID)
		}
		if e.Version != 1 {
			return domain.RejectField(domain.ErrInvalidValue, "version", "a proposal is drafted as version 1, not %d", e.Version)
		}
		return firstErr(required("proposal_id", e.ProposalID, "the proposal"), validYear("year", e.Year), e.ProposalText.validate())
	}
	if !p.Drafted() {
		return domain.RejectField(domain.ErrNotFound, "proposal_id", "the proposal is not drafted yet")
	}
	title := p.Current().Title
	switch e := m.Event.(type) {
	case ProposalRevised:
		if p.Status == StatusSubmitted || p.Status == StatusApproved {
			return domain.Reject(ErrProposalLocked, "%q is %s; it can be revised only while its ISLC holds it", title, p.Status)
		}
		if e.Version != p.Current().Version+1 {
			return domain.RejectField(domain.ErrInvalidValue, "version", "the next version of %q is %d, not %d", title, p.Current().Version+1, e.Version)
		}
		return e.ProposalText.validate()
	case ProposalSubmitted:
		switch {
		case p.Status == StatusSubmitted || p.Status == StatusApproved:
			return domain.Reject(ErrProposalLocked, "%q is already %s", title, p.Status)
		case p.Status == StatusReturned && !p.RevisedSinceReturn():
			return domain.Reject(ErrRevisionNeeded, "the Leadership Team sent back version %d of %q; it is revised before it is submitted again", p.Current().Version, title)
		case e.Version != p.Current().Version:
			return domain.RejectField(domain.ErrInvalidValue, "version", "the latest version of %q is %d, not %d", title, p.Current().Version, e.Version)
		}
	case AdviceGiven:
		if p.Status == StatusApproved {
			return domain.Reject(ErrProposalLocked, "%q is already approved; advice is taken before the decision", title)
		}
		switch e.Stance {
		case StanceSupport, StanceConcerns, StanceNeutral:
		default:
			return domain.RejectField(domain.ErrInvalidValue, "stance", "%q is not a stance; use support, concerns or neutral", e.Stance)
		}
		return requiredText("text", e.Text, "the advice")
	case TeamResolutionOpened, TeamVoteCast, TeamVoteClosed, ResolutionSignedOff, ResolutionReferredBack, ProposalApproved, ProposalReturned:
		if p.Status != StatusSubmitted {
			return domain.Reject(ErrNotSubmitted, "%q is %s; the Team decides proposals once their chair submits them", title, p.Status)
		}
		if v, ok := e.(TeamVoteCast); ok {
			if r, open := p.OpenResolution(); open && r.Round == v.Round && r.Voted(v.VoterID) {
				return domain.RejectField(ErrAlreadyVoted, "voter_id", "person %s has already voted in round %d", v.VoterID, v.Round)
			}
		}
	}
	return nil
}

// Check implements domain.Checker.
func (t *Triad) Check(m domain.Message) error {
	e, ok := m.Event.(TriadFormed)
	if !ok {
		return nil
	}
	if t.ID != uuid.Nil {
		return domain.RejectField(domain.ErrAlreadyExists, "triad_id", "triad %s already exists", t.ID)
	}
	distinct := slices.Compact(sortedIDs(e.Members))
	if len(e.Members) != 3 || len(distinct) != 3 || slices.Contains(e.Members, uuid.Nil) {
		return domain.RejectField(ErrTriadSize, "members", "%d members given, %d of them different; a triad is three different staff members", len(e.Members), len(distinct))
	}
	return validYear("year", e.Year)
}

// checkStaffOfOn checks that p is staff of school who had not left by day
// d.
func (p *Person) checkStaffOfOn(field string, school uuid.UUID, d time.Time) error {
	if p.Kind != PersonStaff || p.SchoolID != school {
		return domain.RejectField(ErrNotStaff, field, "person %s is not registered as staff of this school", p.ID)
	}
	if p.Left() && Date(d).After(p.LeftOn) {
		return domain.RejectField(ErrPersonLeft, field, "person %s left the school on %s", p.ID, p.LeftOn.Format(time.DateOnly))
	}
	return nil
}
