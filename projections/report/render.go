package report

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Formats the report renders to.
const (
	FormatJSON     = "json"
	FormatMarkdown = "md"
	FormatHTML     = "html"
	FormatCSV      = "csv"
)

// Title is the report's title line.
func (r *Report) Title() string {
	if r.AcademicYear == "" {
		return fmt.Sprintf("%s: collective partnership report %s to %s", r.Partnership.Name, day(r.From), day(r.To))
	}
	return fmt.Sprintf("%s: collective partnership report %s", r.Partnership.Name, r.AcademicYear)
}

// FooterText is the footer in words: the reading, the ledger position, the
// reckoning day and, when given, the signed checkpoint.
func (r *Report) FooterText() string {
	s := fmt.Sprintf("Reading: %s. Ledger position %d. Dates reckoned on %s.", r.Footer.Reading, r.Footer.Position, day(r.Footer.ReckonedOn))
	if r.Footer.Checkpoint != "" {
		s += " Signed checkpoint: " + r.Footer.Checkpoint + "."
	}
	return s
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("report json: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// sections groups the tables under the three parts of the report.
var sections = []struct {
	title  string
	intro  string
	tables []string
}{
	{"Collective reporting", "What the partnership did and what it brought, next to the transaction costs of collaborating.",
		[]string{"headline", "members", "community_membership_by_year", "resource_utilisation", "school_utilisation", "loans_by_status", "loans_returned", "overdue_loans", "secondments", "secondment_fte", "cpd_events", "cpd_schools", "peer_reviews", "costs_schools", "costs_categories"}},
	{"Collective accountability", "Each commitment with its owner, status and evidence; progress ratings and their movement; proposals decided; governors' challenges to the Directors, open and answered; peer-review follow-ups.",
		[]string{"commitments", "rag_board", "proposals_decided", "challenges", "follow_ups"}},
	{"Collective celebrating", "Contributions recognised, by person, school and ISLC.",
		[]string{"recognitions", "recognised_people", "recognised_schools", "recognised_islcs"}},
	{"Improvement timeline", "What comes next, what is outstanding, and what is done.",
		[]string{"timeline_next", "timeline_outstanding", "timeline_done"}},
}

func byName(ts []Table) map[string]Table {
	m := make(map[string]Table, len(ts))
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\\\")
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// WriteMarkdown writes the report as Markdown.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", mdCell(r.Title()))
	fmt.Fprintf(&b, "%s (%s), %s to %s.\n", mdCell(r.Partnership.Name), r.Partnership.Kind, day(r.From), day(r.To))
	if r.Partnership.Lead != nil {
		fmt.Fprintf(&b, "Partnership lead: %s.\n", mdCell(name(*r.Partnership.Lead)))
	}
	tables := byName(r.Tables())
	b.WriteString("\nMember schools over the years: ")
	var parts []string
	for _, y := range r.Membership {
		parts = append(parts, fmt.Sprintf("%s %d", y.AcademicYear, y.Members))
	}
	b.WriteString(strings.Join(parts, ", ") + ".\n")
	b.WriteString("ISLC members over the years: ")
	parts = nil
	for i, y := range r.CommunityMembership.Years {
		parts = append(parts, fmt.Sprintf("%s %d", y, r.CommunityMembership.Members[i]))
	}
	b.WriteString(strings.Join(parts, ", ") + ".\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", s.title, s.intro)
		for _, n := range s.tables {
			t := tables[n]
			fmt.Fprintf(&b, "\n### %s\n\n", t.Title)
			if t.Len() == 0 {
				b.WriteString("None.\n")
				continue
			}
			b.WriteString("| " + strings.Join(t.Header, " | ") + " |\n|")
			for range t.Header {
				b.WriteString(" --- |")
			}
			b.WriteString("\n")
			_ = t.EachRow(func(row []string) error { // writing to a buffer does not fail
				cells := make([]string, len(row))
				for i, c := range row {
					cells[i] = mdCell(c)
				}
				b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
				return nil
			})
		}
	}
	fmt.Fprintf(&b, "\n---\n\n%s\n", mdCell(r.FooterText()))
	_, err := w.Write(b.Bytes())
	return err
}

// ErrUnknownTable is returned by WriteCSV for a table name the report
// does not have.
var ErrUnknownTable = fmt.Errorf("report: unknown table (one of %s)", strings.Join(TableNames(), ", "))

// WriteCSV writes table name as CSV with a header row. Returns
// ErrUnknownTable for a name not in TableNames.
func (r *Report) WriteCSV(w io.Writer, table string) error {
	t, ok := byName(r.Tables())[table]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownTable, table)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := t.EachRow(cw.Write); err != nil {
		return fmt.Errorf("report csv %s: %w", table, err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report csv %s: %w", table, err)
	}
	return nil
}

// WriteZip writes a zip archive holding every table as <name>.csv, plus
// README.txt with the title and footer. Entries carry the reckoning day
// as their time, so the same report gives the same bytes.
func (r *Report) WriteZip(w io.Writer) error {
	zw := zip.NewWriter(w)
	mod := r.Footer.ReckonedOn
	if mod.Before(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
		mod = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	put := func(name string, write func(io.Writer) error) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod})
		if err != nil {
			return err
		}
		return write(f)
	}
	if err := put("README.txt", func(f io.Writer) error {
		_, err := fmt.Fprintf(f, "%s\n\n%s\n", r.Title(), r.FooterText())
		return err
	}); err != nil {
		return fmt.Errorf("report zip: %w", err)
	}
	for _, t := range r.Tables() {
		if err := put(t.Name+".csv", func(f io.Writer) error { return r.WriteCSV(f, t.Name) }); err != nil {
			return fmt.Errorf("report zip %s: %w", t.Name, err)
		}
	}
	return zw.Close()
}

// Write renders the report in format: json, md, html, or csv (a zip of
// every table; use WriteCSV for one table). Returns an error for another
// format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatMarkdown:
		return r.WriteMarkdown(w)
	case FormatHTML:
		return r.WriteHTML(w)
	case FormatCSV:
		return r.WriteZip(w)
	}
	return fmt.Errorf("report: unknown format %q (json, md, html or csv)", format)
}
