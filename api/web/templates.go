package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/concord-ledger/concord/domain/governance"
	"github.com/concord-ledger/concord/projections/views"
)

// datetimeText is a day and time, or a dash for none.
func datetimeText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04")
}

// penceText is an amount in pounds, with thousands separated.
func penceText(p int64) string {
	neg := ""
	if p < 0 {
		neg, p = "-", -p
	}
	return fmt.Sprintf("%s£%s.%02d", neg, thousands(p/100), p%100)
}

// humanText is a status or kind in words (underscores as spaces).
func humanText(s string) string { return strings.ReplaceAll(s, "_", " ") }

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"datetime": datetimeText,
	"isodate":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dateptr": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"pence": penceText,
	"money": func(m *governance.Money) string {
		if m == nil {
			return "none"
		}
		return m.String()
	},
	"hours":   func(h float64) string { return fmt.Sprintf("%.1f h", h) },
	"fte":     func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"score":   func(f float64) string { return fmt.Sprintf("%.0f", f) },
	"percent": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"upper":   strings.ToUpper,
	// sentence ends s with a full stop unless it already ends a sentence.
	"sentence": func(s string) string {
		s = strings.TrimSpace(s)
		if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
			return s
		}
		return s + "."
	},
	"human":      humanText,
	"eventWords": eventWords,
	"link":       linkURL,
	"add":        func(a, b int) int { return a + b },
	"ratingFill": func(r string) string {
		switch r {
		case "red":
			return "#b3261e"
		case "amber":
			return "#f0a500"
		case "green":
			return "#1e7b34"
		}
		return "#767676"
	},
	"ratingText": func(r string) string {
		if r == "amber" {
			return "#1a1a1a"
		}
		return "#ffffff"
	},
	"refName": func(r *views.Ref) string {
		if r == nil {
			return "—"
		}
		return r.Name
	},
	"intptr": func(p *int) string {
		if p == nil {
			return "—"
		}
		return fmt.Sprintf("%d%%", *p)
	},
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parsePages parses the layout with each page's template.
func parsePages() (map[string]*template.Template, error) {
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", f)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}
