package api

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

const (
	docPath       = "../docs/api.md"
	docTableBegin = "<!-- BEGIN ROLE TABLE: generated from api.Routes() by TestAPIDocRoleTable; regenerate with CONCORD_UPDATE_DOCS=1 go test ./api -run TestAPIDocRoleTable -->"
	docTableEnd   = "<!-- END ROLE TABLE -->"
)

// roleTable renders the authorisation table of Routes(): one section per
// tag, one row per route, a mark per role allowed.
func roleTable() string {
	routes := Routes()
	slices.SortStableFunc(routes, func(a, b route) int { return strings.Compare(a.Tag, b.Tag) })
	var b strings.Builder
	header := "| Method | Path | What it does |"
	rule := "| --- | --- | --- |"
	for _, r := range AllRoles {
		header += " " + strings.ReplaceAll(string(r), "_", " ") + " |"
		rule += " :-: |"
	}
	tag := "\x00"
	for _, rt := range routes {
		if rt.Tag != tag {
			if tag != "\x00" {
				b.WriteString("\n")
			}
			tag = rt.Tag
			fmt.Fprintf(&b, "### %s\n\n%s\n%s\n", tag, header, rule)
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s |", rt.Method, rt.Pattern, strings.ReplaceAll(rt.Summary, "|", `\|`))
		for _, r := range AllRoles {
			switch {
			case rt.Roles == nil:
				b.WriteString(" public |")
			case slices.Contains(rt.Roles, r):
				b.WriteString(" ✓ |")
			default:
				b.WriteString("  |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestAPIDocRoleTable fails when docs/api.md's authorisation table differs
// from the route table; CONCORD_UPDATE_DOCS=1 rewrites it.
func TestAPIDocRoleTable(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, docTableBegin), strings.Index(doc, docTableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the role table markers", docPath)
	}
	got := strings.TrimSpace(doc[i+len(docTableBegin) : j])
	want := strings.TrimSpace(roleTable())
	if got == want {
		return
	}
	if os.Getenv("CONCORD_UPDATE_DOCS") != "" {
		doc = doc[:i+len(docTableBegin)] + "\n\n" + want + "\n\n" + doc[j:]
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the role table of %s", docPath)
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for k := 0; k < max(len(gl), len(wl)); k++ {
		var g, w string
		if k < len(gl) {
			g = gl[k]
		}
		if k < len(wl) {
			w = wl[k]
		}
		if g != w {
			t.Fatalf("%s's role table differs from the routes at line %d:\n doc:    %s\n routes: %s\nregenerate with CONCORD_UPDATE_DOCS=1 go test ./api -run TestAPIDocRoleTable", docPath, k+1, g, w)
		}
	}
}
