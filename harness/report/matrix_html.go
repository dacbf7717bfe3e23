package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// matrix.html is report.html's sibling: the same style sheet plus its own
// rules, and a script of its own, all inlined.
var (
	//go:embed assets/matrix.html.tmpl
	matrixTemplateText string
	//go:embed assets/matrix.css
	matrixCSS string
	//go:embed assets/matrix.js
	matrixJS string

	matrixTemplate = template.Must(template.New("matrix").Parse(matrixTemplateText))
)

type matrixPage struct {
	CSS       template.CSS
	Script    template.JS
	Headline  string
	Differing int
	Entries   []matrixPageEntry
	Rows      []matrixPageRow
}

type matrixPageEntry struct {
	MatrixEntry
	Index    int
	Heading  string
	P50, P95 string
	Run      string
}

type matrixPageRow struct {
	MatrixRow
	Text string // what the text filter searches, lower case
}

// WriteHTML writes matrix.html: one self-contained page (no network) with
// the entries and one row per scenario, the differing rows highlighted and
// flagged, filterable to only those and by text. The filter lives in the
// URL fragment (#differing=1&q=T1490); without script every row shows.
func (m *Matrix) WriteHTML(w io.Writer) error {
	page := matrixPage{
		CSS:       template.CSS(htmlCSS + "\n" + matrixCSS),
		Script:    template.JS(matrixJS),
		Headline:  m.Headline(),
		Differing: m.Summary.Differing,
	}
	heads := m.headings()
	for i, e := range m.Entries {
		page.Entries = append(page.Entries, matrixPageEntry{
			MatrixEntry: e, Index: i, Heading: heads[i], Run: e.runLine(),
			P50: formatDuration(e.Latency.P50), P95: formatDuration(e.Latency.P95),
		})
	}
	for _, r := range m.Rows {
		page.Rows = append(page.Rows, matrixPageRow{MatrixRow: r,
			Text: strings.ToLower(strings.Join([]string{r.Technique, r.Name, r.Tactic, r.Scenario}, " "))})
	}
	if err := matrixTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("write matrix html: %w", err)
	}
	return nil
}
