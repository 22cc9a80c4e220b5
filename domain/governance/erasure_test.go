package governance

import (
	"testing"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

func TestErasePersonalData(t *testing.T) {
	e := newEnv(t).givenSchool()
	staff := e.givenStaff(2)
	person := staff[0]

	res, err := e.svc.ErasePersonalData(e.Ctx, e.meta, ErasePersonalData{PersonID: person, Reason: "erasure request ER-17"})
	e.ThenEvents(res, err, PersonalDataErased{PersonID: person, SchoolID: e.school, Reason: "erasure request ER-17"})
	if got := res.Events[0].Meta.Reason; got != "erasure request ER-17" {
		t.Errorf("meta reason = %q, want the erasure's reason", got)
	}
	if got, want := res.Events[0].Stream, PersonStream(person); got != want {
		t.Errorf("stream = %s, want %s", got, want)
	}

	// The event erases nothing by itself: the caller destroys the key.
	if p := e.person(person); p.Personal.Erased || p.Personal.Name != "Staff member 1" {
		t.Fatalf("before the key is destroyed: %+v", p.Personal)
	}
	e.Keys.Erase(person.String())
	if p := e.person(person); !p.Personal.Erased || p.Personal.Name != domain.ErasedName || !p.IsStaffOf(e.school) {
		t.Fatalf("after the key is destroyed: %+v", p)
	}
	if p := e.person(staff[1]); p.Personal.Erased {
		t.Fatalf("the other staff member was erased too")
	}

	// Erasing again (a retry after a crash before the key was destroyed)
	// records nothing and succeeds.
	res, err = e.svc.ErasePersonalData(e.Ctx, e.meta, ErasePersonalData{PersonID: person, Reason: "retry"})
	e.ThenEvents(res, err)
	if res.Revision != 1 {
		t.Errorf("revision after a repeated erasure = %d, want 1", res.Revision)
	}

	// The reason may come from the request's metadata.
	meta := e.meta
	meta.Reason = "request ER-18"
	res, err = e.svc.ErasePersonalData(e.Ctx, meta, ErasePersonalData{PersonID: staff[1]})
	e.ThenEvents(res, err, PersonalDataErased{PersonID: staff[1], SchoolID: e.school, Reason: "request ER-18"})

	cases := []struct {
		name  string
		cmd   ErasePersonalData
		rule  error
		field string
	}{
		{"unknown person", ErasePersonalData{PersonID: domaintest.ID(), Reason: "request"}, domain.ErrNotFound, "person_id"},
		{"no reason", ErasePersonalData{PersonID: person, Reason: "  "}, domain.ErrRequired, "reason"},
		{"no person", ErasePersonalData{Reason: "request"}, domain.ErrRequired, "person_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.Mark()
			_, err := e.svc.ErasePersonalData(e.Ctx, e.meta, c.cmd)
			rej := e.ThenError(err, c.rule)
			if rej == nil || rej.Field != c.field {
				t.Errorf("rejection = %+v, want one naming field %s", rej, c.field)
			}
		})
	}
}
