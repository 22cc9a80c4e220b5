package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/concord-ledger/concord/api/ledger"
	"github.com/concord-ledger/concord/projections/report"
	"github.com/concord-ledger/concord/projections/views"
)

func init() {
	register(command{
		name:    "report",
		summary: "write the collective partnership report of a year (html, md, json or csv)",
		run:     runReport,
	})
}

// dataDirOf returns the data directory: the flag, else CONCORD_DATA, else
// "concord-data".
func dataDirOf(m *Main, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if d := m.Getenv("CONCORD_DATA"); d != "" {
		return d
	}
	return "concord-data"
}

// parseAsOf reads --as-of (a ledger position or an RFC 3339 time) and
// --corrected into a reading.
func parseAsOf(s string, corrected bool) (views.AsOf, error) {
	a := views.AsOf{Corrected: corrected}
	if s == "" {
		return a, nil
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		if corrected {
			return a, Usagef("--corrected reads today's knowledge: give --as-of a time (its effective date), not a position")
		}
		if n == 0 {
			return a, Usagef("--as-of position must be at least 1")
		}
		a.Position = n
		return a, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return a, Usagef("--as-of %q is neither a ledger position nor an RFC 3339 time (e.g. 2026-03-31T17:00:00Z)", s)
	}
	a.Time = t.UTC()
	return a, nil
}

func runReport(ctx context.Context, m *Main, args []string) error {
	fs := m.FlagSet("report", "[--partnership ID | --all] [--year 2025-26] [--format html|md|json|csv] [--table NAME] [--as-of POSITION|TIME] [--corrected] [--out FILE] [--data DIR]")
	pidFlag := fs.String("partnership", "", "id of the partnership (may be left out when the ledger holds exactly one)")
	all := fs.Bool("all", false, "report every partnership (--out then names a directory, one file per partnership)")
	year := fs.String("year", "", "academic year, e.g. 2025-26 (default: the year of the reading)")
	format := fs.String("format", report.FormatHTML, "html, md, json or csv")
	table := fs.String("table", "", "with --format csv, write only this table; without it, a zip of every table. Tables: "+fmt.Sprint(report.TableNames()))
	asOf := fs.String("as-of", "", "read the ledger as known at this position or RFC 3339 time (default: now)")
	corrected := fs.Bool("corrected", false, "read as corrected now (corrections applied from their effective dates; --as-of then gives the effective time)")
	out := fs.String("out", "", "write to this file (default: standard output)")
	data := fs.String("data", "", "data directory (default $CONCORD_DATA, else concord-data)")
	if err := Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected arguments %q", fs.Args())
	}
	switch *format {
	case report.FormatHTML, report.FormatMarkdown, report.FormatJSON, report.FormatCSV:
	default:
		return Usagef("--format %q: use html, md, json or csv", *format)
	}
	if *table != "" && *format != report.FormatCSV {
		return Usagef("--table goes with --format csv")
	}
	if *all && *pidFlag != "" {
		return Usagef("give --partnership or --all, not both")
	}
	at, err := parseAsOf(*asOf, *corrected)
	if err != nil {
		return err
	}
	var pid uuid.UUID
	if *pidFlag != "" {
		if pid, err = uuid.Parse(*pidFlag); err != nil {
			return Usagef("--partnership %q is not an id", *pidFlag)
		}
	}

	dir := dataDirOf(m, *data)
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	l, err := ledger.Open(ctx, ledger.Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return fmt.Errorf("open ledger: %w", err)
	}
	defer l.Close()
	if err := l.CatchUp(ctx); err != nil {
		return fmt.Errorf("catch up views: %w", err)
	}

	var ids []uuid.UUID
	if pid != uuid.Nil {
		ids = []uuid.UUID{pid}
	} else {
		var list []views.PartnershipInfo
		if _, err := views.Read(ctx, l.Views, "partnerships", at, func(v *views.Partnerships) error { list = v.List(nil); return nil }); err != nil {
			return err
		}
		for _, p := range list {
			ids = append(ids, p.ID)
		}
		switch {
		case len(ids) == 0:
			return errors.New("the ledger holds no partnership at that moment")
		case len(ids) > 1 && !*all:
			var names []string
			for _, p := range list {
				names = append(names, p.ID.String()+" ("+p.Name+")")
			}
			return Usagef("the ledger holds %d partnerships; name one with --partnership or use --all: %v", len(ids), names)
		}
	}

	for _, id := range ids {
		rep, err := report.Build(ctx, l.Views, id, *year, at)
		if err != nil {
			return err
		}
		rep.Footer.Checkpoint = checkpointCovering(l, rep.Footer.Position)
		var b bytes.Buffer
		if *table != "" {
			err = rep.WriteCSV(&b, *table)
			if errors.Is(err, report.ErrUnknownTable) {
				return Usagef("%v", err)
			}
		} else {
			err = rep.Write(&b, *format)
		}
		if err != nil {
			return err
		}
		dest := *out
		if *all && dest != "" {
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return err
			}
			ext := *format
			if *format == report.FormatCSV && *table == "" {
				ext = "zip"
			}
			dest = filepath.Join(dest, id.String()+"."+ext)
		}
		if err := writeOut(m.Stdout, dest, b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// checkpointCovering describes the latest signed checkpoint if it covers
// position pos ("" when there is none, or it does not reach pos).
func checkpointCovering(l *ledger.Ledger, pos uint64) string {
	if l.Log == nil || pos == 0 {
		return ""
	}
	cp, err := l.Log.LatestCheckpoint()
	if err != nil || cp.Size < pos {
		return ""
	}
	return fmt.Sprintf("%s, tree size %d, root %s", cp.Origin, cp.Size, hex.EncodeToString(cp.Root))
}

func writeOut(stdout io.Writer, path string, b []byte) error {
	if path == "" {
		_, err := stdout.Write(b)
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
