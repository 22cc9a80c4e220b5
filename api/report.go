package api

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/concord-ledger/concord/domain/partnership"
	"github.com/concord-ledger/concord/projections/report"
)

func init() { addRoutes(reportRoutes) }

// reportTypes are the Content-Types of the report's formats (CSV: one table
// with table=NAME, else a zip of every table).
var reportTypes = map[string]string{
	report.FormatJSON:     "application/json",
	report.FormatMarkdown: "text/markdown; charset=utf-8",
	report.FormatHTML:     "text/html; charset=utf-8",
	report.FormatCSV:      "application/zip",
}

func reportRoutes() []route {
	return []route{{
		Method: http.MethodGet, Pattern: "/v1/reports/partnership",
		Summary: "Build the collective partnership report", Tag: "Reports", Auth: true, UseCase: "ReadPartnership",
		Response: Reading{Data: report.Report{}}, Status: http.StatusOK,
		Handle: (*Server).handleReport,
	}}
}

// handleReport answers GET /v1/reports/partnership?partnership=&year=&format=
// json|md|html|csv[&table=NAME] at any reading (as_of, reading). JSON comes
// in the envelope every read uses; the other formats are the documents
// themselves, with the reading in X-Concord-Position and X-Concord-Reading
// as well as in their footer.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = report.FormatJSON
	}
	ctype, ok := reportTypes[format]
	if !ok {
		return invalidField("format", "format %q is not json, md, html or csv", format)
	}
	table := q.Get("table")
	if table != "" && format != report.FormatCSV {
		return invalidField("table", "table= goes with format=csv")
	}
	if y := q.Get("year"); y != "" {
		if _, err := partnership.ParseAcademicYear(y); err != nil {
			return invalidField("year", "year %q is not an academic year like 2025-26: %v", y, err)
		}
	}
	a, pid, err := s.partnershipReading(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if a.Live() {
		// Reflect every command acknowledged before this request.
		head, err := s.L.Store.Head(ctx)
		if err != nil {
			return fmt.Errorf("read the ledger's head: %w", err)
		}
		if err := s.syncViews(ctx, head); err != nil {
			return err
		}
	}
	rep, err := report.Build(ctx, s.L.Views, pid, q.Get("year"), a)
	switch {
	case errors.Is(err, report.ErrNoPartnership):
		return notFound("there is no partnership %s at that moment", pid)
	case err != nil:
		return err
	}
	rep.Footer.Checkpoint = s.checkpointCovering(rep.Footer.Position)
	reading := ReadingLive
	switch {
	case a.Corrected:
		reading = ReadingCorrected
	case !a.Live():
		reading = ReadingKnownThen
	}
	if format == report.FormatJSON {
		out := Reading{Position: rep.Footer.Position, Reading: reading, Describe: a.Describe()}
		if v := q.Get("as_of"); v != "" {
			out.AsOf = v
		} else {
			out.AsOf = q.Get("position")
		}
		return replyReport(w, out, rep)
	}
	var b bytes.Buffer
	ext := format
	if table != "" {
		ctype, ext = "text/csv; charset=utf-8", "csv"
		if err := rep.WriteCSV(&b, table); err != nil {
			if errors.Is(err, report.ErrUnknownTable) {
				return invalidField("table", "%v", err)
			}
			return err
		}
	} else {
		if format == report.FormatCSV {
			ext = "zip"
		}
		if err := rep.Write(&b, format); err != nil {
			return err
		}
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("X-Concord-Position", strconv.FormatUint(rep.Footer.Position, 10))
	h.Set("X-Concord-Reading", reading)
	h.Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", fmt.Sprintf("partnership-report-%s-%d.%s", rep.AcademicYear, rep.Footer.Position, ext)))
	if format == report.FormatHTML {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	}
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b.Bytes())
	return err
}

// checkpointCovering describes the latest signed checkpoint if it covers
// position pos ("" when there is none, or it does not reach pos).
func (s *Server) checkpointCovering(pos uint64) string {
	if s.L.Log == nil || pos == 0 {
		return ""
	}
	cp, err := s.L.Log.LatestCheckpoint()
	if err != nil || cp.Size < pos {
		return ""
	}
	return fmt.Sprintf("%s, tree size %d, root %s", cp.Origin, cp.Size, hex.EncodeToString(cp.Root))
}

// reportBuffers hold reports' JSON while they are answered (about 2 MB
// for fifty schools).
var reportBuffers = sync.Pool{New: func() any { return new([]byte) }}

// replyReport answers env with rep as its data: the bytes reply gives,
// with the report's parts kept from an earlier reading copied rather
// than encoded again (report.AppendJSON).
func replyReport(w http.ResponseWriter, env Reading, rep *report.Report) error {
	env.Data = nil
	b, err := appendAnswer(nil, env)
	if err != nil {
		return fmt.Errorf("encode the reading: %w", err)
	}
	head, ok := bytes.CutSuffix(b, []byte("null}\n"))
	if !ok {
		return fmt.Errorf("encode the reading: data is not its last member: %s", b)
	}
	buf := reportBuffers.Get().(*[]byte)
	defer reportBuffers.Put(buf)
	body, err := rep.AppendJSON(append((*buf)[:0], head...))
	if err != nil {
		return err
	}
	*buf = append(body, '}', '\n')
	return (&keptReply{body: *buf}).write(w)
}
