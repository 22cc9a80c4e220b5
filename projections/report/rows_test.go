package report_test

import (
	"bytes"
	"html/template"
	"math/rand/v2"
	"testing"

	"github.com/concord-ledger/concord/projections/report"
)

// TestTableRowsEscapeAsTheTemplateDoes: the table rows drawn without the
// template are byte for byte what html/template draws from the same cells,
// for cells of every awkward character (markup, quotes, plus, NUL,
// non-ASCII, broken UTF-8).
func TestTableRowsEscapeAsTheTemplateDoes(t *testing.T) {
	oracle := template.Must(template.New("rows").Parse(`{{range .}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}`))
	alphabet := []string{"a", "Z", " ", "<", ">", "&", "'", `"`, "+", "\x00", "é", "≥", "\xff", "&amp;", "<script>", "=", "`", "\n", "£"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		rows := make([][]string, rng.IntN(4))
		for i := range rows {
			rows[i] = make([]string, rng.IntN(5))
			for j := range rows[i] {
				var cell string
				for range rng.IntN(8) {
					cell += alphabet[rng.IntN(len(alphabet))]
				}
				rows[i][j] = cell
			}
		}
		var want bytes.Buffer
		if err := oracle.Execute(&want, rows); err != nil {
			t.Fatal(err)
		}
		got := report.LinkedTable{Table: report.Table{Rows: rows}}.BodyRows()
		if string(got) != want.String() {
			t.Fatalf("rows %q:\ngot  %q\nwant %q", rows, got, want.String())
		}
	}
}
