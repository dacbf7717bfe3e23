package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/report"
)

func runMatrix(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("matrix", "Sets the reports of several runs side by side, one entry per Falco version and\n"+
		"transport (make test-matrix writes one per FALCO_IMAGES entry): one row per scenario, one\n"+
		"cell per entry, the rows where the entries that ran disagree flagged as differing.\n"+
		"Each argument is [LABEL=]PATH: a report.json, or a directory holding one; a directory\n"+
		"without one is an entry whose run wrote no report, shown as such. LABEL names the column\n"+
		"(default: the report's image@transport). Prints the summary and each differing row.\n"+
		"Exits 0 (with --fail-on-diff, 1 when a row differs), 2 when an input cannot be read.", stderr, "[LABEL=]REPORT", "...")
	var markdown, htmlOut, jsonOut string
	var failOnDiff bool
	fs.StringVar(&markdown, "markdown", "", "write the matrix as Markdown to `FILE`; - prints it on stdout instead of the summary")
	fs.StringVar(&htmlOut, "html", "", "write the matrix as one self-contained HTML page to `FILE`")
	fs.StringVar(&jsonOut, "json", "", "write the matrix as JSON ("+report.MatrixSchema+") to `FILE`")
	fs.BoolVar(&failOnDiff, "fail-on-diff", false, "exit 1 when any row differs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 || slices.ContainsFunc(fs.Args(), func(a string) bool { return strings.HasPrefix(a, "-") }) {
		hint := "want at least one report.json or entry directory"
		if fs.NArg() > 0 {
			hint = "flags go before the reports"
		}
		fmt.Fprintf(stderr, "attack-replay matrix: %s\n", hint)
		fs.Usage()
		return exitUsage
	}
	m, err := report.MatrixFiles(fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "attack-replay matrix: %v\n", err)
		return exitUsage
	}
	outputs := []struct {
		path  string
		write func(io.Writer) error
	}{{markdown, m.WriteMarkdown}, {htmlOut, m.WriteHTML}, {jsonOut, m.WriteJSON}}
	for _, o := range outputs {
		if o.path == "" || o.path == "-" {
			continue
		}
		var buf bytes.Buffer
		if err := o.write(&buf); err != nil {
			fmt.Fprintf(stderr, "attack-replay matrix: %v\n", err)
			return exitUsage
		}
		if err := os.WriteFile(o.path, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "attack-replay matrix: %v\n", err)
			return exitUsage
		}
	}
	if markdown == "-" {
		io.WriteString(stdout, m.Markdown())
	} else {
		io.WriteString(stdout, matrixText(m))
	}
	if failOnDiff && m.Summary.Differing > 0 {
		return exitProblems
	}
	return exitOK
}

// matrixText is the matrix for a terminal or a CI log: the headline, one
// line per entry, one per differing row. The Markdown and HTML have the rest.
func matrixText(m *report.Matrix) string {
	var b strings.Builder
	b.WriteString(m.Headline() + "\n")
	for i, e := range m.Entries {
		fmt.Fprintf(&b, "  entry %d %s: ", i+1, e.Label)
		if e.Falco.Version != "" {
			fmt.Fprintf(&b, "falco %s %s, ", e.Falco.Version, e.Falco.Transport)
		}
		c := e.Counts
		fmt.Fprintf(&b, "%d scenarios, %d pass, %d fail, %d error, %d inconclusive, %d flaky",
			c.Scenarios, c.Pass, c.Fail, c.Error, c.Inconclusive, c.Flaky)
		if !e.Ran {
			b.WriteString("; did not run")
		}
		if len(e.Errors) > 0 {
			b.WriteString(": " + strings.Join(e.Errors, "; "))
		}
		b.WriteString("\n")
	}
	for _, r := range m.Rows {
		if !r.Differs {
			continue
		}
		statuses := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			statuses[i] = c.Status
		}
		fmt.Fprintf(&b, "  differs: %s (%s %s): %s\n", r.Scenario, r.Technique, r.Tactic, strings.Join(statuses, " | "))
	}
	return b.String()
}
