package views

import (
	"strings"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/domain/partnership"
)

// The views' Wants (projections.Selective): which recorded events can
// change a view, told from the event's type and stream before it is
// decoded, so that a past reading folds a large view snapshotted far
// behind over the events of its own kind only. Each set follows its
// view's Apply (a set may say more than Apply uses, never less);
// TestUnwantedEventsLeaveTheViewsAsTheyWere checks, at every event of the
// test ledgers, that an event a view does not want leaves its state byte
// for byte as it was.

// typeSet returns the registered type names of events.
func typeSet(sets ...[]domain.Event) map[string]bool {
	out := map[string]bool{}
	for _, events := range sets {
		for _, e := range events {
			out[e.EventType()] = true
		}
	}
	return out
}

var (
	// partnershipNameEvents name schools and ISLCs in the partnership
	// views (namesAt.apply, schoolNames.apply).
	partnershipNameEvents = []domain.Event{governance.SchoolRegistered{}, governance.CommunityEstablished{}}
	// govSchoolEvents are the school facts of govSchools.apply.
	govSchoolEvents = []domain.Event{governance.SchoolRegistered{}, governance.SegmentAdded{}, governance.SegmentRenamed{},
		governance.DirectorAppointed{}, governance.DirectorLeft{}, governance.AcademicYearOpened{}}

	resourceWants = typeSet(partnershipNameEvents, []domain.Event{partnership.ResourceRegistered{}, partnership.ResourceOffered{},
		partnership.ResourceOfferWithdrawn{}, partnership.LoanRequested{}, partnership.LoanApproved{}, partnership.LoanDeclined{},
		partnership.LoanCancelled{}, partnership.LoanCollected{}, partnership.LoanReturned{}})
	cpdWants = typeSet(partnershipNameEvents, []domain.Event{partnership.CPDEventOrganised{}, partnership.CPDPlacesBooked{},
		partnership.CPDBookingCancelled{}, partnership.CPDAttendanceRecorded{}})
	progressWants = typeSet(partnershipNameEvents, []domain.Event{partnership.ProgressRated{}})
	timelineWants = typeSet(partnershipNameEvents, []domain.Event{partnership.TimelineCreated{}, partnership.TimelineItemScheduled{},
		partnership.TimelineItemRescheduled{}, partnership.TimelineItemDone{}})
	peopleWants = typeSet([]domain.Event{governance.StaffRegistered{}, governance.GovernorRegistered{},
		governance.AdvisoryContactRegistered{}, governance.PersonDetailsAmended{}, governance.PersonLeftSchool{}})
	proposalTypeWants  = typeSet(partnershipNameEvents, []domain.Event{governance.ProposalDrafted{}})
	communityTypeWants = typeSet(govSchoolEvents, []domain.Event{governance.StrengthsAssessed{}})
)

// Wants reports whether an event of type typ can change the resources.
func (v *Resources) Wants(typ, _ string) bool { return resourceWants[typ] }

// Wants reports whether an event of type typ can change the CPD view.
func (v *CPD) Wants(typ, _ string) bool { return cpdWants[typ] }

// Wants reports whether an event of type typ can change the progress view.
func (v *Progress) Wants(typ, _ string) bool { return progressWants[typ] }

// Wants reports whether an event of type typ can change the timelines.
func (v *Timelines) Wants(typ, _ string) bool { return timelineWants[typ] }

// Wants reports whether an event of type typ can change the people view.
func (v *People) Wants(typ, _ string) bool { return peopleWants[typ] }

// Wants reports whether an event of type typ on stream can change the
// proposals: the names it keeps, a draft, or anything on a proposal's
// stream.
func (v *Proposals) Wants(typ, stream string) bool {
	return proposalTypeWants[typ] || strings.HasPrefix(stream, governance.KindProposal+"-")
}

// Wants reports whether an event of type typ on stream can change the
// communities: a school's facts, a strengths assessment, or anything on
// a community's stream.
func (v *Communities) Wants(typ, stream string) bool {
	return communityTypeWants[typ] || strings.HasPrefix(stream, governance.KindCommunity+"-")
}
