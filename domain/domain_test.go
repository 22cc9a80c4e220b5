package domain_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/domaintest"
)

// A toy aggregate: a counter with a person registration, for testing the
// machinery without the real domain.
type counted struct {
	By int `json:"by"`
}

func (counted) EventType() string { return "TestCounted" }

type registered struct {
	Person   string              `json:"person" concord:"subject"`
	Personal domain.PersonalData `json:"personal"`
}

func (registered) EventType() string { return "TestPersonRegistered" }

type counter struct {
	n       int
	corr    uuid.UUID
	decided bool
}

func (c *counter) Apply(m domain.Message) {
	if c.corr == uuid.Nil {
		c.corr = m.ID
	}
	if e, ok := m.Event.(counted); ok {
		c.n += e.By
		c.decided = c.n >= 10
	}
}
func (c *counter) CorrelationID() uuid.UUID { return c.corr }
func (c *counter) Decided() bool            { return c.decided }

var errTooBig = domain.NewRule("too-big", domain.KindInvalid, "Too big", "A step is at most 5.")

func init() {
	domain.MustRegister[counted](domain.Spec{Type: "TestCounted", Schema: 2, Group: "test", Doc: "Counted.",
		Upcasters: map[uint32]domain.Upcaster{1: func(b []byte) ([]byte, error) {
			// schema 1 was {"step": n}
			var v1 struct{ Step int }
			if err := json.Unmarshal(b, &v1); err != nil {
				return nil, err
			}
			return json.Marshal(counted{By: v1.Step})
		}}})
	domain.MustRegister[registered](domain.Spec{Type: "TestPersonRegistered", Schema: 1, Group: "test", Doc: "Registered."})
}

func count(f *domaintest.Fixture, by int) (domain.Result, error) {
	return domain.Execute(f.Ctx, f.Handler, domain.Command[*counter]{
		Stream: "counter-1", New: func() *counter { return &counter{} }, Meta: domain.Meta{ActorID: "p-1", ActorRole: domain.RoleStaff},
		Decide: func(c *counter) ([]domain.Event, error) {
			if by > 5 {
				return nil, domain.RejectField(errTooBig, "by", "%d is more than 5", by)
			}
			return []domain.Event{counted{By: by}}, nil
		},
	})
}

func TestExecuteRecordsAndRejects(t *testing.T) {
	f := domaintest.New(t)
	f.Given("counter-1", counted{By: 1})
	res, err := count(f, 2)
	f.ThenEvents(res, err, counted{By: 2})
	if res.Revision != 1 {
		t.Fatalf("revision=%d, want 1", res.Revision)
	}
	_, err = count(f, 7)
	rej := f.ThenError(err, errTooBig)
	if rej.Field != "by" || !strings.Contains(rej.Detail, "7") {
		t.Fatalf("rejection = %+v", rej)
	}
	// The chain of a decision shares the aggregate's correlation id.
	msgs := f.Messages()
	if msgs[1].Meta.CorrelationID != msgs[0].ID {
		t.Fatalf("correlation=%s, want first event %s", msgs[1].Meta.CorrelationID, msgs[0].ID)
	}
}

// conflictingLog makes the first n appends fail as if someone else wrote.
type conflictingLog struct {
	*domaintest.Log
	n atomic.Int32
}

func (l *conflictingLog) AppendStream(ctx context.Context, s string, exp int64, e []domain.Envelope) ([]domain.Recorded, error) {
	if l.n.Add(-1) >= 0 {
		return nil, domain.ErrStreamConflict
	}
	return l.Log.AppendStream(ctx, s, exp, e)
}

func TestExecuteRetriesBounded(t *testing.T) {
	for _, c := range []struct {
		conflicts int32
		want      error
	}{{2, nil}, {10, domain.ErrConcurrentChange}} {
		f := domaintest.New(t)
		l := &conflictingLog{Log: f.Log}
		l.n.Store(c.conflicts)
		f.Handler.Log = l
		_, err := count(f, 1)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Fatalf("conflicts=%d: err=%v, want %v", c.conflicts, err, c.want)
		}
	}
}

func TestExpectedRevisionMismatch(t *testing.T) {
	f := domaintest.New(t)
	f.Given("counter-1", counted{By: 1})
	exp := int64(5)
	_, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*counter]{
		Stream: "counter-1", New: func() *counter { return &counter{} }, Expected: &exp,
		Decide: func(*counter) ([]domain.Event, error) { return []domain.Event{counted{By: 1}}, nil },
	})
	f.ThenError(err, domain.ErrRevisionMismatch)
}

func TestUpcastOldSchema(t *testing.T) {
	f := domaintest.New(t)
	m, err := f.Codec.Decode(domain.Recorded{Envelope: domain.Envelope{Type: "TestCounted", Schema: 1, Data: []byte(`{"Step":4}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Event, (counted{By: 4}); got != want {
		t.Fatalf("upcast=%+v, want %+v", got, want)
	}
	if _, err := f.Codec.Decode(domain.Recorded{Envelope: domain.Envelope{Type: "TestCounted", Schema: 3, Data: []byte(`{}`)}}); err == nil {
		t.Fatal("decoded a schema from the future")
	}
	if _, err := f.Codec.Decode(domain.Recorded{Envelope: domain.Envelope{Type: "Nope", Schema: 1, Data: []byte(`{}`)}}); !errors.Is(err, domain.ErrUnknownEventType) {
		t.Fatalf("err=%v, want ErrUnknownEventType", err)
	}
}

func TestPersonalDataSealedAndErasable(t *testing.T) {
	f := domaintest.New(t)
	ev := registered{Person: "p-7", Personal: domain.PersonalData{Name: "Amara Osei", Email: "amara@example.org"}}
	f.Given("person-p-7", ev)
	raw := f.Log.All()[0]
	if strings.Contains(string(raw.Data), "Amara") || strings.Contains(string(raw.Data), "example.org") {
		t.Fatalf("plaintext in stored data: %s", raw.Data)
	}
	m := f.Messages()[0].Event.(registered)
	if m.Personal.Name != "Amara Osei" || m.Personal.Erased {
		t.Fatalf("opened = %+v", m.Personal)
	}
	f.Keys.Erase("p-7")
	m = f.Messages()[0].Event.(registered)
	if !m.Personal.Erased || m.Personal.Name != domain.ErasedName || m.Personal.Email != "" {
		t.Fatalf("after erasure = %+v", m.Personal)
	}
	if _, err := f.Codec.Encode(ev, domaintest.ID(), domain.Meta{}); !errors.Is(err, domain.ErrErased) {
		t.Fatalf("sealing for an erased person: err=%v, want ErrErased", err)
	}
	// Without a keyring, personal data cannot be written at all.
	if _, err := (&domain.Codec{}).Encode(ev, domaintest.ID(), domain.Meta{}); err == nil {
		t.Fatal("encoded personal data without a keyring")
	}
}

func TestCorrections(t *testing.T) {
	f := domaintest.New(t)
	f.Given("counter-1", counted{By: 4}, counted{By: 3})
	first := f.Messages()[0]
	meta := domain.Meta{ActorID: "p-1", ActorRole: domain.RoleDirector}
	newC := func() *counter { return &counter{} }

	_, err := domain.Correct(f.Ctx, f.Handler, "counter-1", newC, meta, domain.Correction{EventID: first.ID, Replacement: counted{By: 5}})
	f.ThenError(err, domain.ErrCorrectionReason)
	_, err = domain.Correct(f.Ctx, f.Handler, "counter-1", newC, meta, domain.Correction{EventID: domaintest.ID(), Reason: "x"})
	f.ThenError(err, domain.ErrCorrectionTarget)

	res, err := domain.Correct(f.Ctx, f.Handler, "counter-1", newC, meta, domain.Correction{EventID: first.ID, Replacement: counted{By: 7}, Reason: "miscounted"})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Events[0].Event.(domain.EventCorrected); c.ChangedAfterDecision || c.Corrects != first.ID {
		t.Fatalf("correction = %+v", c)
	}
	c, _, err := domain.Load(f.Ctx, f.Handler, "counter-1", newC)
	if err != nil || c.n != 10 || !c.decided {
		t.Fatalf("as corrected now: n=%d decided=%v err=%v, want 10", c.n, c.decided, err)
	}
	// Now decided: a further correction is marked changed after decision.
	res, err = domain.Correct(f.Ctx, f.Handler, "counter-1", newC, meta, domain.Correction{EventID: first.ID, Reason: "never happened"})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Events[0].Event.(domain.EventCorrected); !c.ChangedAfterDecision || !c.Retracted {
		t.Fatalf("correction = %+v", c)
	}
	c, _, _ = domain.Load(f.Ctx, f.Handler, "counter-1", newC)
	if c.n != 3 {
		t.Fatalf("after retraction n=%d, want 3", c.n)
	}
}

func TestCatalogueRendersFields(t *testing.T) {
	got := domain.Catalogue("test")
	for _, want := range []string{"### TestCounted (schema 2)", "upcast", "| `by` | integer |", "| `personal` | sealed personal data |"} {
		if !strings.Contains(got, want) {
			t.Errorf("catalogue lacks %q:\n%s", want, got)
		}
	}
}

func TestSystemCatalogue(t *testing.T) {
	domaintest.CheckCatalogue(t, "system", "../docs/events.md")
}

func TestExpectedRevisionFromContext(t *testing.T) {
	f := domaintest.New(t)
	f.Given("counter-1", counted{By: 1})
	ctx := f.Ctx
	f.Ctx = domain.WithExpectedRevision(ctx, 3)
	_, err := count(f, 1)
	f.ThenError(err, domain.ErrRevisionMismatch)
	f.Ctx = domain.WithExpectedRevision(ctx, 0)
	res, err := count(f, 1)
	f.ThenEvents(res, err, counted{By: 1})
}

// checkedCounter is a counter whose events can be corrected only within
// its rules: a step is at most 5 and the count at most 12.
type checkedCounter struct{ counter }

var errTooMany = domain.NewRule("too-many", domain.KindConflict, "Too many", "The count is at most 12.")

func (c *checkedCounter) Check(m domain.Message) error {
	e, ok := m.Event.(counted)
	if !ok {
		return nil
	}
	if e.By > 5 {
		return domain.RejectField(errTooBig, "by", "%d is more than 5", e.By)
	}
	if c.n+e.By > 12 {
		return domain.Reject(errTooMany, "%d and %d make more than 12", c.n, e.By)
	}
	return nil
}

// voted is a vote: it cannot be corrected.
type voted struct {
	For string `json:"for"`
}

func (voted) EventType() string { return "TestVoted" }

func init() {
	domain.MustRegister[voted](domain.Spec{Type: "TestVoted", Schema: 1, Group: "test", Doc: "Voted.", Uncorrectable: true})
}

// A correction is accepted only if the record, with the corrected event
// in place, keeps every rule: the replacement's own, and no later event
// may break one.
func TestCorrectionsObeyTheRules(t *testing.T) {
	f := domaintest.New(t)
	f.Given("counter-1", counted{By: 3}, counted{By: 5}, counted{By: 4}, voted{For: "a"})
	msgs := f.Messages()
	first, vote := msgs[0], msgs[3]
	meta := domain.Meta{ActorID: "p-1", ActorRole: domain.RoleDirector}
	newC := func() *checkedCounter { return &checkedCounter{} }
	correct := func(id uuid.UUID, e domain.Event) (domain.Result, error) {
		return domain.Correct(f.Ctx, f.Handler, "counter-1", newC, meta, domain.Correction{EventID: id, Replacement: e, Reason: "miscounted"})
	}

	_, err := correct(first.ID, counted{By: 6})
	if rej := f.ThenError(err, errTooBig); rej.Field != "replacement" || !strings.Contains(rej.Detail, "6 is more than 5") {
		t.Fatalf("rejection = %+v", rej)
	}
	// 4 is a step within the rule, but the count would reach 13 at the
	// third event.
	_, err = correct(first.ID, counted{By: 4})
	if rej := f.ThenError(err, errTooMany); !strings.Contains(rej.Detail, msgs[2].ID.String()) {
		t.Fatalf("rejection %q does not name the later event %s", rej.Detail, msgs[2].ID)
	}
	_, err = correct(vote.ID, voted{For: "b"})
	f.ThenError(err, domain.ErrUncorrectable)
	_, err = domain.Correct(f.Ctx, f.Handler, "counter-1", newC, meta, domain.Correction{EventID: vote.ID, Reason: "never cast"})
	f.ThenError(err, domain.ErrUncorrectable)

	res, err := correct(first.ID, counted{By: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c := res.Events[0].Event.(domain.EventCorrected); c.Corrects != first.ID {
		t.Fatalf("correction = %+v", c)
	}
	// A retraction is checked too; this one breaks nothing.
	if _, err := domain.Correct(f.Ctx, f.Handler, "counter-1", newC, meta, domain.Correction{EventID: msgs[1].ID, Reason: "never happened"}); err != nil {
		t.Fatal(err)
	}
	// A retracted event cannot be corrected again.
	f.Mark()
	_, err = correct(msgs[1].ID, counted{By: 1})
	f.ThenError(err, domain.ErrCorrectionTarget)
	c, _, _ := domain.Load(f.Ctx, f.Handler, "counter-1", newC)
	if c.n != 6 {
		t.Fatalf("as corrected now n=%d, want 2+4", c.n)
	}
}

// A command's effective date is the day its fact happened: never later
// than now beyond a day (time zones), any day before; the recorded time
// stays the server's.
func TestEffectiveDateNotInTheFuture(t *testing.T) {
	f := domaintest.New(t)
	now := f.Clock.Now()
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"a year ago", now.AddDate(-1, 0, 0), true},
		{"later today, in another time zone", now.Add(23 * time.Hour), true},
		{"the day after tomorrow", now.Add(49 * time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := domain.Execute(f.Ctx, f.Handler, domain.Command[*counter]{Stream: "counter-1", New: func() *counter { return &counter{} },
				Meta:   domain.Meta{ActorID: "p-1", ActorRole: domain.RoleStaff, EffectiveAt: tc.at},
				Decide: func(*counter) ([]domain.Event, error) { return []domain.Event{counted{By: 1}}, nil }})
			if !tc.ok {
				f.ThenError(err, domain.ErrFutureDate)
				return
			}
			f.ThenEvents(res, err, counted{By: 1})
			if m := res.Events[0]; !m.Meta.EffectiveAt.Equal(tc.at) || !m.RecordedAt.Equal(now) {
				t.Fatalf("effective %s recorded %s; want %s and the server's %s", m.Meta.EffectiveAt, m.RecordedAt, tc.at, now)
			}
		})
	}
}
