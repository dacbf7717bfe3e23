package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// WriteMarkdown writes matrix.md (see Markdown).
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	if _, err := io.WriteString(w, m.Markdown()); err != nil {
		return fmt.Errorf("write matrix markdown: %w", err)
	}
	return nil
}

// Markdown renders matrix.md for a pull-request comment or a job summary:
// one line per entry (Falco version, transport, engine, drops, latency, how
// the run went), then the rows whose entries disagree, then the others
// folded away; bounded by MaxMarkdownBytes.
func (m *Matrix) Markdown() string {
	b := &mdBuilder{limit: MaxMarkdownBytes}
	b.line("# attack-replay Falco version matrix")
	b.line("")
	b.line("**" + MarkdownText(m.Headline()) + "**")
	b.line("")
	b.line("| Entry | Falco | Transport | Engine | Scenarios | Pass | Fail | Error | Inconclusive | Flaky | Drops | p50 | p95 | Run |")
	b.line("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, e := range m.Entries {
		c := e.Counts
		b.line(fmt.Sprintf("| %s | %s | %s | %s | %d | %d | %d | %d | %d | %d | %s | %s | %s | %s |",
			CodeCell(e.Label), MarkdownText(valueOr(e.Falco.Version, "-")), MarkdownText(valueOr(e.Falco.Transport, "-")),
			MarkdownText(valueOr(e.Falco.Engine, "-")), c.Scenarios, c.Pass, c.Fail, c.Error, c.Inconclusive, c.Flaky,
			dropsCell(e), formatDuration(e.Latency.P50), formatDuration(e.Latency.P95), MarkdownText(e.runLine())))
	}
	b.line("")
	b.line("Latency: step start to alert received, over the expected alerts that matched. " +
		"A row differs when the entries that ran disagree on its result (absent included).")

	var differing, same []MatrixRow
	for _, r := range m.Rows {
		if r.Differs {
			differing = append(differing, r)
		} else {
			same = append(same, r)
		}
	}
	heads := m.headings()
	b.line("")
	b.line(fmt.Sprintf("## Differing (%d)", len(differing)))
	b.line("")
	if len(differing) == 0 {
		b.line("Every scenario has the same result on every entry that ran.")
	} else {
		m.rowsTable(b, heads, differing)
	}
	if len(same) == 0 {
		return b.String()
	}
	b.line("")
	b.line(fmt.Sprintf("## Same on every entry (%d)", len(same)))
	b.line("")
	b.line("<details><summary>" + plural(len(same), "scenario") + " with one result everywhere</summary>")
	b.line("")
	m.rowsTable(b, heads, same)
	b.line("")
	b.line("</details>")
	return b.String()
}

// rowsTable writes one table row per scenario, as many as fit.
func (m *Matrix) rowsTable(b *mdBuilder, heads []string, rows []MatrixRow) {
	var head, rule strings.Builder
	head.WriteString("| Technique | Scenario |")
	rule.WriteString("|---|---|")
	for _, h := range heads {
		head.WriteString(" " + MarkdownText(h) + " |")
		rule.WriteString("---|")
	}
	b.line(head.String())
	b.line(rule.String())
	for i, r := range rows {
		var line strings.Builder
		kind := ""
		if r.Benign {
			kind = " (benign)"
		}
		fmt.Fprintf(&line, "| %s | %s%s |", MarkdownText(strings.TrimSpace(r.Technique+" "+r.Tactic)), CodeCell(r.Scenario), kind)
		for _, c := range r.Cells {
			line.WriteString(" " + markdownCell(c) + " |")
		}
		if !b.fits(line.String()) {
			b.line(fmt.Sprintf("| … %d more scenarios in matrix.json |%s", len(rows)-i, strings.Repeat(" |", len(heads)+1)))
			return
		}
		b.line(line.String())
	}
}

func markdownCell(c MatrixCell) string {
	switch c.Status {
	case CellNotRun:
		return "—"
	case CellAbsent:
		return "*absent*"
	case string(verdict.Pass):
		return c.Status
	}
	s := "**" + MarkdownText(c.Status) + "**"
	if c.Note != "" {
		s += " " + MarkdownText(c.Note)
	}
	return s
}

func dropsCell(e MatrixEntry) string {
	if !e.Ran {
		return "-"
	}
	if !e.Trustworthy {
		return fmt.Sprintf("%d (untrustworthy)", e.Drops)
	}
	return fmt.Sprint(e.Drops)
}

// runLine says how the entry's run went, in one line.
func (e MatrixEntry) runLine() string {
	switch {
	case !e.Ran:
		return "did not run: " + strings.Join(e.Errors, "; ")
	case len(e.Errors) > 0:
		return strings.Join(e.Errors, "; ")
	}
	return "ok"
}
