package report

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/projections/views"
)

// TestStreamedTablesHoldEveryRow: the report's long tables make their
// rows as they are read (Table.stream). Each is read whole, in order and
// with the cells the rules give (written out here by hand), as CSV, as
// the rows of the page and as markdown, and counts its rows; the cells of
// one row are not those of the next (the rows are made in one slice).
func TestStreamedTablesHoldEveryRow(t *testing.T) {
	alder, birch := views.Ref{ID: uuid.New(), Name: "Alder School"}, views.Ref{ID: uuid.New(), Name: "Birch School"}
	on := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	done := on(2026, 1, 20, 0, 0)
	r := &Report{}
	r.Reporting.Utilisation.Resources = []views.ResourceUse{
		{Resource: views.ResourceInfo{Name: "Minibus", Kind: "minibus", Owner: alder, Offered: true}, Hours: 12.5, BenefitPence: 1875},
		{Resource: views.ResourceInfo{Name: "Lab", Kind: "science_lab", Owner: birch}, Hours: 3, BenefitPence: 45000},
	}
	r.Reporting.CPDEvents = []views.CPDEventInfo{
		{Title: "Phonics", Kind: "cpd", Organiser: alder, StartsAt: on(2025, 10, 3, 9, 5), Offered: 30, Booked: 12, Attended: 10, PaidPence: 24000, SavingsPence: 1200},
		{Title: "Maths meet", Kind: "teachmeet", Organiser: birch, StartsAt: on(2026, 2, 14, 16, 30), Offered: 40, Booked: 0, Attended: 0},
		{Title: "Visit", Kind: "shadowing", Organiser: alder, StartsAt: on(2026, 6, 1, 8, 0), Offered: 2, Booked: 2, Attended: 1, PaidPence: 5, SavingsPence: 0},
	}
	r.Accountability.RAGBoard = []views.BoardCell{
		{School: alder, Area: "Reading", Cohort: "Year 3", Rating: "green", Term: "Spring 1", Movement: "improved",
			Trend: []views.TrendStep{{Rating: "red"}, {Rating: "amber"}, {Rating: "green"}}},
		{School: birch, Area: "Maths", Cohort: "Year 6", Rating: "amber", Term: "Autumn 2", Trend: []views.TrendStep{{Rating: "amber"}}},
	}
	r.Accountability.ProposalsDecided = []DecidedProposal{
		{Title: "Shared tutor", School: alder, Community: views.Ref{Name: "Reading ISLC"}, Outcome: "returned", DecidedAt: on(2025, 11, 5, 14, 0)},
		{Title: "Trip fund", School: birch, Community: views.Ref{Name: "Trips ISLC"}, Outcome: "approved", DecidedAt: on(2026, 3, 2, 9, 0), ChangedAfterDecision: true},
	}
	r.Timeline.Done = []views.TimelineEntry{
		{Kind: "data_drop", Title: "Autumn data", On: on(2025, 12, 12, 0, 0), School: &alder, Done: true, DoneOn: &done},
		{Kind: "meeting", Title: "Heads' meeting", On: on(2026, 1, 9, 0, 0)},
	}
	want := map[string][][]string{
		"resource_utilisation": {
			{"Minibus", "minibus", "Alder School", "yes", "12.5", "18.75"},
			{"Lab", "science lab", "Birch School", "no", "3", "450.00"},
		},
		"cpd_events": {
			{"Phonics", "CPD session", "Alder School", "2025-10-03 09:05", "30", "12", "10", "240.00", "12.00"},
			{"Maths meet", "TeachMeet", "Birch School", "2026-02-14 16:30", "40", "0", "0", "0.00", "0.00"},
			{"Visit", "shadowing", "Alder School", "2026-06-01 08:00", "2", "2", "1", "0.05", "0.00"},
		},
		"rag_board": {
			{"Alder School", "Reading", "Year 3", "green", "Spring 1", "improved", "red > amber > green"},
			{"Birch School", "Maths", "Year 6", "amber", "Autumn 2", "", "amber"},
		},
		"proposals_decided": {
			{"Alder School", "Reading ISLC", "Shared tutor", "sent back", "2025-11-05", "no"},
			{"Birch School", "Trips ISLC", "Trip fund", "approved", "2026-03-02", "yes"},
		},
		"timeline_done": {
			{"2025-12-12", "Data drop", "Autumn data", "Alder School", "2026-01-20"},
			{"2026-01-09", "Meeting", "Heads' meeting", "", ""},
		},
		"timeline_outstanding": {},
	}
	tables := byName(r.Tables())
	for name, rows := range want {
		tb, ok := tables[name]
		if !ok {
			t.Fatalf("no table %s", name)
		}
		if tb.row == nil {
			t.Errorf("%s: rows held, not streamed", name)
		}
		if tb.Len() != len(rows) {
			t.Errorf("%s: %d rows, want %d", name, tb.Len(), len(rows))
		}
		var out bytes.Buffer
		if err := r.WriteCSV(&out, name); err != nil {
			t.Fatal(err)
		}
		got, err := csv.NewReader(&out).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || !reflect.DeepEqual(got[0], tb.Header) {
			t.Fatalf("%s: CSV header %v, want %v", name, got[:min(1, len(got))], tb.Header)
		}
		if len(rows) > 0 && !reflect.DeepEqual(got[1:], rows) {
			t.Errorf("%s: CSV rows\n%q\nwant\n%q", name, got[1:], rows)
		}
		if len(rows) == 0 && len(got) != 1 {
			t.Errorf("%s: CSV rows %q, want none", name, got[1:])
		}
		if all := tb.AllRows(); len(rows) > 0 && !reflect.DeepEqual(all, rows) {
			t.Errorf("%s: AllRows %q, want %q", name, all, rows)
		}
		// The page's rows: each cell in its own td, row after row.
		var page bytes.Buffer
		LinkedTable{Table: tb}.writeRows(&page)
		var wantPage strings.Builder
		for _, row := range rows {
			wantPage.WriteString("<tr>")
			for _, c := range row {
				// Escaped as html/template escapes text: the cells here
				// hold only apostrophes and angle brackets of its set.
				wantPage.WriteString("<td>" + strings.NewReplacer("'", "&#39;", ">", "&gt;").Replace(c) + "</td>")
			}
			wantPage.WriteString("</tr>\n")
		}
		if page.String() != wantPage.String() {
			t.Errorf("%s: page rows\n%s\nwant\n%s", name, page.String(), wantPage.String())
		}
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"| Phonics | CPD session | Alder School | 2025-10-03 09:05 | 30 | 12 | 10 | 240.00 | 12.00 |",
		"| Visit | shadowing | Alder School | 2026-06-01 08:00 | 2 | 2 | 1 | 0.05 | 0.00 |",
		"| Birch School | Maths | Year 6 | amber | Autumn 2 |  | amber |"} {
		if !strings.Contains(md.String(), line+"\n") {
			t.Errorf("markdown lacks the row %q", line)
		}
	}
}
