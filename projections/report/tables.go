package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/concord-ledger/concord/projections/views"
)

// Table is one table of the report, as rows of display strings: the
// Markdown and HTML renderers show them and CSV writes them.
type Table struct {
	// Name identifies the table (CSV file name without ".csv").
	Name string
	// Title is the table's heading.
	Title  string
	Header []string
	// Rows are the table's rows, held; a streamed table (stream) holds
	// none and makes each row as it is read (EachRow).
	Rows [][]string
	// n and row stand for Rows in a streamed table: its n rows, row i's
	// cells appended to cells by row.
	n   int
	row func(i int, cells []string) []string
}

// stream makes t's n rows as they are read, row i's cells appended by row,
// instead of holding them: the report's longest tables have thousands of
// rows, which a page, a CSV file or the markdown read once.
func (t *Table) stream(n int, row func(i int, cells []string) []string) { t.n, t.row = n, row }

// Len returns how many rows the table has.
func (t Table) Len() int {
	if t.row != nil {
		return t.n
	}
	return len(t.Rows)
}

// EachRow calls fn with each row in order, until fn fails. A streamed
// table's rows are made in one slice, one after the other: fn reads a
// row before it returns, and keeps none.
func (t Table) EachRow(fn func(cells []string) error) error {
	if t.row == nil {
		for _, r := range t.Rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
	cells := make([]string, 0, len(t.Header))
	for i := range t.n {
		cells = t.row(i, cells[:0])
		if err := fn(cells); err != nil {
			return err
		}
	}
	return nil
}

// AllRows returns every row, each a slice of its own.
func (t Table) AllRows() [][]string {
	if t.row == nil {
		return t.Rows
	}
	out := make([][]string, 0, t.n)
	for i := range t.n {
		out = append(out, t.row(i, make([]string, 0, len(t.Header))))
	}
	return out
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var b [10]byte
	return string(appendDay(b[:0], t.UTC()))
}

// appendDay appends t's date as "2006-01-02" (years 0–9999), as Format
// would, without parsing the layout: a report writes thousands.
func appendDay(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02")
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(m)/10), byte('0'+int(m)%10), '-')
	return append(b, byte('0'+d/10), byte('0'+d%10))
}

// longDay is a day in words, e.g. "1 September 2026".
func longDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

func dayp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return day(*t)
}

func minute(t time.Time) string {
	t = t.UTC()
	var b [16]byte
	out := append(appendDay(b[:0], t), ' ')
	h, m := t.Hour(), t.Minute()
	return string(append(out, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10)))
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func fixed2(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// gbp formats pence as pounds with two decimals, e.g. 1800 → "18.00".
func gbp(p int64) string {
	var b [24]byte
	out := b[:0]
	u := uint64(p)
	if p < 0 {
		out, u = append(out, '-'), uint64(-p) // the least int64 too: -p wraps to itself, as uint64 its magnitude
	}
	out = strconv.AppendUint(out, u/100, 10)
	return string(append(out, '.', byte('0'+u%100/10), byte('0'+u%10)))
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func itoa(n int) string { return strconv.Itoa(n) }

// name shows a ref's name, or its id when the name is not known.
func name(r views.Ref) string {
	if r.Name != "" {
		return r.Name
	}
	if r.ID.String() == "00000000-0000-0000-0000-000000000000" {
		return ""
	}
	return r.ID.String()
}

// Tables returns every table of the report, in the order the report
// presents them. The same report gives the same tables.
func (r *Report) Tables() []Table {
	rp, ac, ce, tl := r.Reporting, r.Accountability, r.Celebrating, r.Timeline
	var ts []Table
	add := func(t Table) { ts = append(ts, t) }

	h := rp.Headline
	add(Table{Name: "headline", Title: "The year in numbers", Header: []string{"Measure", "Value"}, Rows: [][]string{
		{"Resources shared", itoa(h.ResourcesShared)}, {"Resource hours used", num(h.HoursUsed)}, {"Loans", itoa(h.Loans)},
		{"Secondments (FTE years)", fixed2(h.SecondmentFTEYears)}, {"CPD places booked", itoa(h.CPDPlacesBooked)}, {"CPD attendance", itoa(h.CPDAttended)},
		{"Peer reviews", itoa(h.PeerReviews)}, {"Benefit (£)", gbp(h.BenefitPence)}, {"Cost of collaborating (hours)", num(h.CostHours)},
		{"Cost of collaborating (£)", gbp(h.CostPence)},
	}})

	t := Table{Name: "members", Title: "Member schools", Header: []string{"School", "Joined on", "Left on", "Member now"}}
	for _, m := range r.Partnership.Members {
		t.Rows = append(t.Rows, []string{name(m.School), day(m.JoinedOn), dayp(m.LeftOn), yes(m.Current)})
	}
	add(t)
	t = Table{Name: "membership_by_year", Title: "Member schools over the years", Header: []string{"Academic year", "Member schools", "Joined", "Left"}}
	for _, y := range r.Membership {
		t.Rows = append(t.Rows, []string{y.AcademicYear, itoa(y.Members), itoa(y.Joined), itoa(y.Left)})
	}
	add(t)
	cm := r.CommunityMembership
	t = Table{Name: "community_membership_by_year", Title: "ISLC members over the years", Header: append([]string{"Academic year", "ISLC members (people)"}, func() []string {
		var h []string
		for _, s := range cm.Schools {
			h = append(h, name(s.School))
		}
		return h
	}()...)}
	for i, y := range cm.Years {
		row := []string{y, itoa(cm.Members[i])}
		for _, s := range cm.Schools {
			row = append(row, itoa(s.Members[i]))
		}
		t.Rows = append(t.Rows, row)
	}
	add(t)

	t = Table{Name: "resource_utilisation", Title: "Resources shared and hours used", Header: []string{"Resource", "Kind", "Owner", "Offered now", "Hours on loan", "Benefit (£)"}}
	us := rp.Utilisation.Resources
	t.stream(len(us), func(i int, cells []string) []string {
		u := us[i]
		return append(cells, u.Resource.Name, Words(u.Resource.Kind), name(u.Resource.Owner), yes(u.Resource.Offered), num(u.Hours), gbp(u.BenefitPence))
	})
	add(t)
	t = Table{Name: "school_utilisation", Title: "Hours borrowed and lent per school", Header: []string{"School", "Hours borrowed", "Hours lent"}}
	for _, s := range rp.Utilisation.Schools {
		t.Rows = append(t.Rows, []string{name(s.School), num(s.HoursBorrowed), num(s.HoursLent)})
	}
	add(t)
	t = Table{Name: "loans_by_status", Title: "Loans by status", Header: []string{"Status", "Loans"}}
	for _, s := range rp.LoansByStatus {
		t.Rows = append(t.Rows, []string{capital(Words(s.Status)), itoa(s.Count)})
	}
	add(t)
	t = Table{Name: "loans_returned", Title: "Loans returned, by condition", Header: []string{"Condition", "Loans returned", "Of which late"}}
	for _, c := range rp.LoansReturned {
		t.Rows = append(t.Rows, []string{capital(Words(c.Condition)), itoa(c.Count), itoa(c.Late)})
	}
	add(t)
	t = Table{Name: "overdue_loans", Title: "Overdue loans", Header: []string{"Resource", "Owner", "Borrower", "From", "Due back"}}
	for _, l := range rp.OverdueLoans {
		t.Rows = append(t.Rows, []string{l.ResourceName, name(l.Owner), name(l.Borrower), minute(l.Start), minute(l.End)})
	}
	add(t)
	t = Table{Name: "secondments", Title: "Secondments", Header: []string{"Teacher", "From school", "To school", "Subject", "Starts", "Ends", "Fraction of full time", "Status", "FTE years"}}
	for _, s := range rp.Secondments {
		t.Rows = append(t.Rows, []string{name(s.Teacher), name(s.Lending), name(s.Receiving), s.Subject, day(s.Start), day(s.End), num(s.Fraction), Words(s.Status), fixed2(s.FTEYears)})
	}
	add(t)
	t = Table{Name: "secondment_fte", Title: "FTE lent and received per school", Header: []string{"School", "FTE years lent", "FTE years received", "Teachers lent"}}
	for _, s := range rp.SecondmentFTE {
		t.Rows = append(t.Rows, []string{name(s.School), fixed2(s.LentFTEYears), fixed2(s.ReceivedFTEYears), itoa(s.Teachers)})
	}
	add(t)
	t = Table{Name: "cpd_events", Title: "CPD and events", Header: []string{"Title", "Kind", "Organiser", "Starts", "Places offered", "Places booked", "Attended", "Paid (£)", "Saved (£)"}}
	events := rp.CPDEvents
	t.stream(len(events), func(i int, cells []string) []string {
		e := events[i]
		return append(cells, e.Title, Words(e.Kind), name(e.Organiser), minute(e.StartsAt), itoa(e.Offered), itoa(e.Booked), itoa(e.Attended), gbp(e.PaidPence), gbp(e.SavingsPence))
	})
	add(t)
	t = Table{Name: "cpd_schools", Title: "CPD places per school", Header: []string{"School", "Places offered", "Places booked", "Attended", "Paid (£)", "Saved (£)"}}
	for _, s := range rp.CPDSchools {
		t.Rows = append(t.Rows, []string{name(s.School), itoa(s.Offered), itoa(s.Booked), itoa(s.Attended), gbp(s.PaidPence), gbp(s.SavingsPence)})
	}
	add(t)
	t = Table{Name: "peer_reviews", Title: "Peer reviews", Header: []string{"School reviewed", "On", "Reviewers", "Completed", "Red findings", "Amber findings", "Green findings", "Follow-up actions"}}
	for _, rv := range rp.PeerReviews {
		var who []string
		for _, x := range rv.Reviewers {
			who = append(who, name(x.Person)+" ("+name(x.School)+")")
		}
		t.Rows = append(t.Rows, []string{name(rv.School), day(rv.On), strings.Join(who, "; "), yes(rv.Completed), itoa(rv.Red), itoa(rv.Amber), itoa(rv.Green), itoa(len(rv.Actions))})
	}
	add(t)
	t = Table{Name: "costs_schools", Title: "Transaction costs per school", Header: []string{"School", "Hours", "Spent (£)"}}
	for _, c := range rp.Costs.Schools {
		t.Rows = append(t.Rows, []string{name(c.School), num(c.Hours), gbp(c.AmountPence)})
	}
	add(t)
	t = Table{Name: "costs_categories", Title: "Transaction costs per category", Header: []string{"Category", "Hours", "Spent (£)"}}
	for _, c := range rp.Costs.Categories {
		t.Rows = append(t.Rows, []string{capital(Words(c.Category)), num(c.Hours), gbp(c.AmountPence)})
	}
	add(t)

	t = Table{Name: "commitments", Title: "Commitments", Header: []string{"Priority", "Committed by", "School", "Owner", "Due on", "Status", "Per cent done", "Overdue", "Evidence"}}
	for _, g := range ac.Commitments {
		for _, c := range g.Commitments {
			pct := ""
			if c.Percent != nil {
				pct = itoa(*c.Percent)
			}
			t.Rows = append(t.Rows, []string{name(c.Priority), name(c.Party), name(c.School), name(c.Owner), day(c.DueOn), Words(c.Status), pct, yes(c.Overdue), c.Evidence})
		}
	}
	add(t)
	t = Table{Name: "rag_board", Title: "RAG board", Header: []string{"School", "Area", "Cohort", "Latest rating", "Term", "Movement", "Ratings through the year"}}
	board := ac.RAGBoard
	t.stream(len(board), func(i int, cells []string) []string {
		c := board[i]
		var tr strings.Builder
		for j, s := range c.Trend {
			if j > 0 {
				tr.WriteString(" > ")
			}
			tr.WriteString(Words(s.Rating))
		}
		return append(cells, name(c.School), c.Area, c.Cohort, Words(c.Rating), c.Term, Words(c.Movement), tr.String())
	})
	add(t)
	t = Table{Name: "proposals_decided", Title: "Proposals decided", Header: []string{"School", "ISLC", "Proposal", "Outcome", "Decided on", "Changed after the decision"}}
	decided := ac.ProposalsDecided
	t.stream(len(decided), func(i int, cells []string) []string {
		p := decided[i]
		return append(cells, name(p.School), name(p.Community), p.Title, outcome(p.Outcome), day(p.DecidedAt), yes(p.ChangedAfterDecision))
	})
	add(t)
	t = Table{Name: "challenges", Title: "Governors' challenges", Header: []string{"School", "Governor", "About a", "Subject", "Raised on", "Due on", "State", "Answered on", "Challenge", "Answer"}}
	for _, g := range [][]views.ChallengeInfo{ac.Challenges.Open, ac.Challenges.Answered} {
		for _, c := range g {
			state := "open"
			switch {
			case c.Answered && c.Late:
				state = "answered late"
			case c.Answered:
				state = "answered"
			case c.Overdue:
				state = "overdue"
			}
			t.Rows = append(t.Rows, []string{name(c.School), name(c.Governor), Words(c.Subject.Kind), c.Subject.Name, day(c.RaisedOn), day(c.DueOn), state, day(c.AnsweredOn), c.Text, c.Answer})
		}
	}
	add(t)
	t = Table{Name: "follow_ups", Title: "Peer-review follow-up actions", Header: []string{"Action", "School", "Owner", "Due on", "Done", "Completed on", "Overdue"}}
	for _, a := range ac.FollowUps.Actions {
		t.Rows = append(t.Rows, []string{a.Action, name(a.School), name(a.Owner), day(a.DueOn), yes(a.Done), dayp(a.CompletedOn), yes(a.Overdue)})
	}
	add(t)

	t = Table{Name: "recognitions", Title: "Contributions recognised", Header: []string{"On", "Recognised", "Name", "School", "For a", "Citation"}}
	for _, c := range ce.Recognitions {
		t.Rows = append(t.Rows, []string{day(c.On), recipient(c.RecipientKind), name(c.Recipient), name(c.School), Words(c.ReferenceKind), c.Citation})
	}
	add(t)
	for _, g := range []struct {
		name, title string
		ts          []views.Tally
	}{{"recognised_people", "Recognised people", ce.Tallies.People}, {"recognised_schools", "Recognised schools", ce.Tallies.Schools}, {"recognised_islcs", "Recognised ISLCs", ce.Tallies.Communities}} {
		t = Table{Name: g.name, Title: g.title, Header: []string{"Name", "Recognitions"}}
		for _, x := range g.ts {
			t.Rows = append(t.Rows, []string{name(x.Ref), itoa(x.Count)})
		}
		add(t)
	}

	for _, g := range []struct {
		name, title string
		es          []views.TimelineEntry
	}{{"timeline_next", "What comes next", tl.Next}, {"timeline_outstanding", "Outstanding", tl.Outstanding}, {"timeline_done", "Done", tl.Done}} {
		t = Table{Name: g.name, Title: g.title, Header: []string{"On", "Kind", "Title", "School", "Done on"}}
		es := g.es
		t.stream(len(es), func(i int, cells []string) []string {
			e := es[i]
			school := ""
			if e.School != nil {
				school = name(*e.School)
			}
			return append(cells, day(e.On), capital(Words(e.Kind)), e.Title, school, dayp(e.DoneOn))
		})
		add(t)
	}
	return ts
}

// TableNames returns the names of the report's tables, in order.
func TableNames() []string {
	var out []string
	for _, t := range (&Report{}).Tables() {
		out = append(out, t.Name)
	}
	return out
}
