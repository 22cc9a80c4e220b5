package report

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/domain"
	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/views"
	"github.com/concord-ledger/concord/projections/views/partnershiptest"
)

// yearWorld is the test partnership's year, caught up, with the position
// of its last event.
func yearWorld(t *testing.T) (*partnershiptest.World, uint64) {
	t.Helper()
	w := partnershiptest.New(t, 16)
	w.Year()
	w.CatchUp()
	head, err := w.Store.Head(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	return w, head
}

func liveReport(t *testing.T, r *views.Reader, pid uuid.UUID) *Report {
	t.Helper()
	rep, err := Build(t.Context(), r, pid, "2025-26", views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// plainJSON is the report as encoding/json gives it, the API's way.
func plainJSON(t *testing.T, rep *Report) []byte {
	t.Helper()
	b, err := encodeJSON(rep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func appended(t *testing.T, rep *Report) []byte {
	t.Helper()
	b, err := rep.AppendJSON([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != 'x' {
		t.Fatal("AppendJSON lost what it appended to")
	}
	return b[1:]
}

// A second live report at the same position takes the shared parts the
// first kept, and is, byte for byte, the report read as of that position
// (which keeps nothing) with the live footer.
func TestLiveReportFromTheMemoIsTheReportReadAsOfItsPosition(t *testing.T) {
	w, _ := yearWorld(t)
	// Something still to come on the timeline (the year's own items are
	// done by its last event). Proposals decided are compared by the
	// API's test of the report, whose world decides one.
	lead := domain.Meta{ActorID: w.PantDirector.String(), ActorRole: domain.RolePartnershipLead}
	if _, err := w.Part.AddTimelineItem(t.Context(), w.M(lead), partnership.AddTimelineItem{TimelineID: w.Timeline, ItemID: w.ID(),
		Kind: partnership.ItemReview, Title: "Summer review", On: partnershiptest.Day(2026, 8, 20)}); err != nil {
		t.Fatal(err)
	}
	w.CatchUp()
	head, err := w.Store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	first := liveReport(t, w.Reader, w.PID)
	second := liveReport(t, w.Reader, w.PID)
	if first.raw == nil || reflect.ValueOf(first.raw).Pointer() != reflect.ValueOf(second.raw).Pointer() {
		t.Fatal("the second live report at one position did not take the parts the first kept")
	}
	for i, idx := range sharedIndex {
		part := reflect.ValueOf(second).Elem().FieldByIndex(idx)
		if part.Kind() == reflect.Slice && part.Len() == 0 {
			continue
		}
		if part.IsZero() {
			t.Errorf("%s is empty in the report from the memo", sharedParts[i])
		}
	}
	pinned, err := Build(t.Context(), w.Reader, w.PID, "2025-26", views.AsOf{Position: head})
	if err != nil {
		t.Fatal(err)
	}
	if pinned.raw != nil {
		t.Fatal("a reading as of a position kept parts")
	}
	pinned.Footer.Reading = second.Footer.Reading
	want := plainJSON(t, pinned)
	for name, rep := range map[string]*Report{"first": first, "second": second} {
		if got := appended(t, rep); !bytes.Equal(got, want) {
			t.Errorf("the %s live report's JSON differs from the report as of its position:\n got %.300s\nwant %.300s", name, got, want)
		}
		if got := plainJSON(t, rep); !bytes.Equal(got, want) {
			t.Errorf("the %s live report's values differ from the report as of its position", name)
		}
	}
	// The world's report has something in each part for the copy to miss.
	for _, path := range sharedParts {
		if path == "collective_accountability.proposals_decided" {
			continue
		}
		switch raw := string(first.raw[path]); raw {
		case "", "null", "[]", "{}":
			t.Errorf("%s is %q in the test world's report: the memo test cannot see it copied", path, raw)
		}
	}
}

// The parts kept between readers name no one; the report itself does.
func TestLiveReportKeepsNoPersonsName(t *testing.T) {
	w, _ := yearWorld(t)
	rep := liveReport(t, w.Reader, w.PID)
	names, err := w.Reader.PersonNames(t.Context(), views.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 6 {
		t.Fatalf("%d names in the test world", len(names))
	}
	whole := string(plainJSON(t, rep))
	named := 0
	for _, name := range names {
		if strings.Contains(whole, name) {
			named++
		}
	}
	if named < 3 {
		t.Fatalf("the report names %d people: the test cannot tell a kept name", named)
	}
	if len(rep.raw) != len(sharedParts) {
		t.Fatalf("%d parts kept, want %d", len(rep.raw), len(sharedParts))
	}
	for path, raw := range rep.raw {
		for _, name := range names {
			if bytes.Contains(raw, []byte(name)) {
				t.Errorf("the kept part %s names %s", path, name)
			}
		}
	}
}

// A key destroyed without an event (an erasure's second step) leaves the
// live position where it was: the next live report, which takes the kept
// parts, names the person erased no more.
func TestLiveReportAfterAKeyIsDestroyedNamesThePersonNoMore(t *testing.T) {
	w, _ := yearWorld(t)
	before := string(plainJSON(t, liveReport(t, w.Reader, w.PID)))
	if !strings.Contains(before, "Mari Jones") {
		t.Fatal("the report does not name Mari Jones to begin with")
	}
	w.Keys.Erase(w.Phys2.String())
	after := liveReport(t, w.Reader, w.PID)
	if after.raw == nil {
		t.Fatal("the live report after the key was destroyed did not take the kept parts")
	}
	if got := string(appended(t, after)); strings.Contains(got, "Mari Jones") {
		t.Error("the live report still names the person whose key was destroyed")
	}
}

// After an event, the live report is worked out again: the parts kept
// before it are not the answer any more.
func TestLiveReportAfterAnEventIsWorkedOutAgain(t *testing.T) {
	w, _ := yearWorld(t)
	before := liveReport(t, w.Reader, w.PID)
	if n := len(before.Reporting.Resources); n != 2 {
		t.Fatalf("%d resources to begin with", n)
	}
	staff := partnershiptest.As(w.PantDirector)
	if _, err := w.Part.RegisterResource(t.Context(), w.M(staff), partnership.RegisterResource{ResourceID: w.ID(), PartnershipID: w.PID,
		OwnerSchoolID: w.Pant, Kind: partnership.ScienceLab, Name: "Pant's new lab", Capacity: 20, HourlyValuePence: 3000, Offer: true}); err != nil {
		t.Fatal(err)
	}
	w.CatchUp()
	after := liveReport(t, w.Reader, w.PID)
	if n := len(after.Reporting.Resources); n != 3 {
		t.Errorf("%d resources after a third was registered", n)
	}
	if !bytes.Contains(appended(t, after), []byte("Pant's new lab")) {
		t.Error("the live report's JSON lacks the resource registered after the parts were kept")
	}
	if len(before.Reporting.Resources) != 2 {
		t.Error("the report read before the event changed")
	}
}

// AppendJSON writes what encoding/json writes (HTML not escaped, the
// characters JSON must escape escaped, omitempty honoured), with kept
// parts or without.
func TestAppendJSONIsEncodingJSON(t *testing.T) {
	odd := "<b>Tom & Jerry's</b> \"lab\"\u2028\\ \x01 é"
	rep := &Report{AcademicYear: odd, From: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)}
	rep.Partnership.Name = odd
	rep.Reporting.Resources = []views.ResourceInfo{{Name: odd, Kind: "minibus"}}
	rep.Reporting.OverdueLoans = []views.LoanEntry{}
	rep.Accountability.ProposalsDecided = []DecidedProposal{{Title: odd}, {Title: "b", ChangedAfterDecision: true}}
	rep.Timeline.Done = []views.TimelineEntry{{Title: odd}}
	for _, checkpoint := range []string{"", odd} {
		rep.Footer.Checkpoint = checkpoint
		rep.raw = nil
		want := plainJSON(t, rep)
		if got := appended(t, rep); !bytes.Equal(got, want) {
			t.Errorf("without kept parts:\n got %s\nwant %s", got, want)
		}
		k, err := keep(rep)
		if err != nil {
			t.Fatal(err)
		}
		rep.raw = k.raw
		if got := appended(t, rep); !bytes.Equal(got, want) {
			t.Errorf("with kept parts:\n got %s\nwant %s", got, want)
		}
	}
}

// Readers of one position share the kept parts: rendering them in every
// format at once changes nothing another reader sees (run with -race).
func TestLiveReportsReadTogetherShareTheKeptPartsSafely(t *testing.T) {
	w, _ := yearWorld(t)
	want := plainJSON(t, liveReport(t, w.Reader, w.PID))
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			rep, err := Build(t.Context(), w.Reader, w.PID, "2025-26", views.AsOf{})
			if err == nil {
				for _, f := range []string{FormatJSON, FormatMarkdown, FormatHTML, FormatCSV} {
					if err = rep.Write(new(bytes.Buffer), f); err != nil {
						break
					}
				}
			}
			if err == nil {
				var got []byte
				if got, err = rep.AppendJSON(nil); err == nil && !bytes.Equal(got, want) {
					err = errors.New("a live report read beside others differs")
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
