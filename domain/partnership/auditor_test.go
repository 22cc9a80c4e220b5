package partnership_test

import (
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
	"github.com/concord-ledger/concord/domain/partnership"
)

func TestAppointAndEndAuditor(t *testing.T) {
	w := newWorld(t)
	auditor := domaintest.ID()
	w.dir.AddAuditor(auditor)

	// Given a formed partnership, when a registered auditor is appointed,
	// then AuditorAppointed; appointing again records nothing.
	res, err := w.svc.AppointAuditor(w.Ctx, lead, partnership.AppointAuditor{PartnershipID: w.pid, AuditorID: auditor, AppointedOn: day(2025, 9, 1)})
	w.ThenEvents(res, err, partnership.AuditorAppointed{PartnershipID: w.pid, AuditorID: auditor, AppointedOn: day(2025, 9, 1)})
	w.none(w.svc.AppointAuditor(w.Ctx, lead, partnership.AppointAuditor{PartnershipID: w.pid, AuditorID: auditor}))
	if !w.partnership().HasAuditor(auditor) {
		t.Fatal("the partnership does not list its auditor")
	}

	// A staff member is not an auditor; an unknown partnership is not found.
	_, err = w.svc.AppointAuditor(w.Ctx, lead, partnership.AppointAuditor{PartnershipID: w.pid, AuditorID: w.a1})
	w.ThenError(err, partnership.ErrNotAnAuditor)
	_, err = w.svc.AppointAuditor(w.Ctx, lead, partnership.AppointAuditor{PartnershipID: domaintest.ID(), AuditorID: auditor})
	w.ThenError(err, domain.ErrNotFound)

	// When the appointment ends, then AuditorAppointmentEnded and the
	// auditor is no longer listed; ending it again is not found.
	res, err = w.svc.EndAuditorAppointment(w.Ctx, lead, partnership.EndAuditorAppointment{PartnershipID: w.pid, AuditorID: auditor, EndedOn: day(2026, 7, 31)})
	w.ThenEvents(res, err, partnership.AuditorAppointmentEnded{PartnershipID: w.pid, AuditorID: auditor, EndedOn: day(2026, 7, 31)})
	if w.partnership().HasAuditor(auditor) {
		t.Fatal("an ended appointment still lists the auditor")
	}
	_, err = w.svc.EndAuditorAppointment(w.Ctx, lead, partnership.EndAuditorAppointment{PartnershipID: w.pid, AuditorID: auditor})
	w.ThenError(err, domain.ErrNotFound)
}
