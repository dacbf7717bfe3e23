package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// MatrixSchema names the matrix.json format; like Schema, a change that
// alters the meaning of an existing field bumps it.
const MatrixSchema = "attack-replay/matrix/v1"

// Cell statuses beside a scenario's own (Scenario.Status).
const (
	// CellAbsent: the entry ran, but not this scenario (another scenario
	// tree, a label filter, a run cut short).
	CellAbsent = "absent"
	// CellNotRun: the entry's run did not start; it says nothing about any
	// scenario.
	CellNotRun = "not-run"
)

// Bounds, in runes, of a cell's note and of an entry's error line (long
// enough for Falco's rules error: file:line:column, code and message).
const (
	maxNote       = 120
	maxEntryError = 300
)

// Matrix sets the reports of several runs of the same scenarios side by
// side, one entry per Falco version and transport: one row per scenario,
// one cell per entry, and the rows where the entries disagree flagged.
type Matrix struct {
	Schema  string        `json:"schema"`
	Summary MatrixSummary `json:"summary"`
	Entries []MatrixEntry `json:"entries"`
	Rows    []MatrixRow   `json:"rows"` // technique, tactic, file and line order
}

// MatrixSummary counts entries and rows.
type MatrixSummary struct {
	Entries   int `json:"entries"`
	NotRun    int `json:"not_run"`   // entries whose run did not start
	Scenarios int `json:"scenarios"` // rows
	Differing int `json:"differing"` // rows whose entries disagree
}

// MatrixEntry is one run: what its report's meta says about Falco (the
// version Falco reported, not the image tag), its counts and its latency
// over every matched expected alert.
type MatrixEntry struct {
	Label       string  `json:"label"`            // column name: as given, else image@transport
	Source      string  `json:"source,omitempty"` // the report.json or directory it was read from
	Falco       Falco   `json:"falco"`
	Drops       int64   `json:"drops"`
	Trustworthy bool    `json:"trustworthy"`
	Counts      Counts  `json:"counts"`
	Latency     Latency `json:"latency"`
	// Ran is false when no scenario ran: no report, or Falco did not start.
	Ran bool `json:"ran"`
	// Errors are the run's errors (Meta.RunErrors), or why there is no
	// report, one line each.
	Errors []string `json:"errors,omitempty"`
}

// MatrixRow is one scenario across the entries.
type MatrixRow struct {
	Technique string       `json:"technique"`
	Name      string       `json:"name,omitempty"` // the technique's
	Tactic    string       `json:"tactic,omitempty"`
	Scenario  string       `json:"scenario"`
	Benign    bool         `json:"benign,omitempty"`
	File      string       `json:"file,omitempty"`
	Line      int          `json:"line,omitempty"`
	Differs   bool         `json:"differs"`
	Cells     []MatrixCell `json:"cells"` // one per entry, in entry order
}

// MatrixCell is one scenario's result in one entry.
type MatrixCell struct {
	Status string `json:"status"`         // Scenario.Status, CellAbsent or CellNotRun
	Note   string `json:"note,omitempty"` // why it did not pass, one short line
}

// MatrixInput is one entry to assemble: a run's report, or why there is none.
type MatrixInput struct {
	Label   string  // "" names the column after the report's image and transport
	Source  string  // shown to the reader: the path it came from
	Report  *Report // nil when the run wrote no report
	Missing string  // why Report is nil
}

// BuildMatrix assembles the matrix. Rows are matched by scenario id, as Diff
// does. A row differs when the entries that ran give it different statuses,
// absent included: a scenario one Falco version did not replay is as worth a
// look as one it failed. Entries that did not run are left out of the
// comparison; their column says why.
func BuildMatrix(inputs []MatrixInput) *Matrix {
	m := &Matrix{Schema: MatrixSchema, Entries: make([]MatrixEntry, len(inputs))}
	rows := map[string]*MatrixRow{}
	for i, in := range inputs {
		m.Entries[i] = matrixEntry(in)
		if in.Report == nil {
			continue
		}
		for _, t := range in.Report.Techniques {
			for si := range t.Scenarios {
				s := &t.Scenarios[si]
				row := rows[s.ID]
				if row == nil {
					row = &MatrixRow{Technique: t.ID, Name: t.Name, Tactic: t.Tactic, Scenario: s.ID, Benign: s.Benign, File: s.File, Line: s.Line,
						Cells: make([]MatrixCell, len(inputs))}
					rows[s.ID] = row
				}
				row.Cells[i] = MatrixCell{Status: s.Status(), Note: cellNote(s)}
			}
		}
	}
	for _, row := range rows {
		seen := map[string]bool{}
		for i := range row.Cells {
			c := &row.Cells[i]
			switch {
			case !m.Entries[i].Ran:
				*c = MatrixCell{Status: CellNotRun}
				continue
			case c.Status == "":
				c.Status = CellAbsent
			}
			seen[c.Status] = true
		}
		row.Differs = len(seen) > 1
		m.Rows = append(m.Rows, *row)
	}
	slices.SortFunc(m.Rows, func(a, b MatrixRow) int {
		return cmp.Or(cmp.Compare(a.Technique, b.Technique), cmp.Compare(a.Tactic, b.Tactic),
			cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Scenario, b.Scenario))
	})
	m.Summary = MatrixSummary{Entries: len(m.Entries), Scenarios: len(m.Rows)}
	for _, e := range m.Entries {
		if !e.Ran {
			m.Summary.NotRun++
		}
	}
	for _, r := range m.Rows {
		if r.Differs {
			m.Summary.Differing++
		}
	}
	return m
}

func matrixEntry(in MatrixInput) MatrixEntry {
	e := MatrixEntry{Label: in.Label, Source: in.Source}
	r := in.Report
	if r == nil {
		e.Errors = []string{valueOr(truncate(in.Missing, maxEntryError), "no report")}
		if e.Label == "" {
			e.Label = filepath.Base(in.Source) // an entry directory, named after its image
		}
		return e
	}
	e.Falco = r.Meta.Falco
	e.Drops, e.Trustworthy, e.Counts = r.Summary.Drops, r.Summary.Trustworthy, r.Summary.Counts
	e.Ran = r.Summary.Scenarios > 0
	var lat []time.Duration
	for _, t := range r.Techniques {
		for _, s := range t.Scenarios {
			lat = append(lat, latencies(s)...)
		}
	}
	e.Latency = summarise(lat)
	for _, msg := range r.Meta.RunErrors {
		e.Errors = append(e.Errors, truncate(firstLine(msg), maxEntryError))
	}
	if !e.Ran && len(e.Errors) == 0 {
		e.Errors = []string{"no scenario ran"}
	}
	if e.Label == "" {
		e.Label = valueOr(strings.Trim(e.Falco.Image+"@"+e.Falco.Transport, "@"), in.Source)
	}
	return e
}

// cellNote says in one short line why a scenario did not pass: the
// expected rules that did not fire and the forbidden ones that did, else
// the verdict's reason. Attempts that disagreed come first.
func cellNote(s *Scenario) string {
	if s.Outcome == verdict.Pass && !s.Flaky {
		return ""
	}
	var parts []string
	if s.Flaky {
		var outs []string
		for _, a := range s.Attempts {
			outs = append(outs, string(a.Outcome))
		}
		parts = append(parts, "attempts "+strings.Join(outs, ", "))
	}
	why := s.Reason
	if a, ok := s.Decisive(); ok && s.Outcome == verdict.Fail {
		if rules := failedMatchers(a); rules != "" {
			why = rules
		}
	}
	if why != "" {
		parts = append(parts, why)
	}
	return truncate(strings.Join(parts, ": "), maxNote)
}

// failedMatchers names, by rule, what a failed attempt missed or raised.
func failedMatchers(a Attempt) string {
	var parts []string
	for i, e := range a.Expectations {
		if e.OK {
			continue
		}
		p := fmt.Sprintf("expected %q: %s", ruleName(e.Matcher.Rule), e.Problem)
		for _, n := range a.NearMisses {
			if n.Expectation == i {
				p += fmt.Sprintf(" (near miss on %s)", n.Field)
				break
			}
		}
		parts = append(parts, p)
	}
	for _, f := range a.Forbidden {
		parts = append(parts, fmt.Sprintf("forbidden %q fired (%s)", ruleName(f.Matcher.Rule), plural(len(f.Matched), "alert")))
	}
	return strings.Join(parts, "; ")
}

func ruleName(rule string) string {
	if rule == "*" {
		return "any candidate rule"
	}
	return rule
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// Headline is the matrix in one sentence.
func (m *Matrix) Headline() string {
	entries := "entries"
	if m.Summary.Entries == 1 {
		entries = "entry"
	}
	s := fmt.Sprintf("%s on %d Falco %s: %d differ", plural(m.Summary.Scenarios, "scenario"), m.Summary.Entries, entries, m.Summary.Differing)
	if n := m.Summary.NotRun; n > 0 {
		s += fmt.Sprintf("; %d did not run", n)
	}
	return s + "."
}

// headings are the short column names of the entries: Falco version and
// transport, else the label without its repository path; numbered where two
// would read the same.
func (m *Matrix) headings() []string {
	out := make([]string, len(m.Entries))
	count := map[string]int{}
	for i, e := range m.Entries {
		h := e.Label[strings.LastIndex(e.Label, "/")+1:]
		if e.Falco.Version != "" && e.Falco.Transport != "" {
			h = e.Falco.Version + " " + e.Falco.Transport
		}
		out[i] = h
		count[h]++
	}
	for i, h := range out {
		if count[h] > 1 {
			out[i] = fmt.Sprintf("%s (#%d)", h, i+1)
		}
	}
	return out
}

// WriteJSON writes matrix.json.
func (m *Matrix) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("write matrix json: %w", err)
	}
	return nil
}

// MatrixFiles reads the entries named by args and assembles the matrix.
// Each arg is [LABEL=]PATH: PATH a report.json, or a directory holding one
// (a `make test-matrix` entry). A directory without report.json is an entry
// whose run wrote no report: its column says so. A path that does not
// exist, or a report that does not decode, is an error: exit with
// ExitBadArgs.
func MatrixFiles(args []string) (*Matrix, error) {
	if len(args) == 0 {
		return nil, errors.New("assemble matrix: no reports given (pass report.json files or the entry directories of make test-matrix)")
	}
	var inputs []MatrixInput
	for _, arg := range args {
		in, err := matrixInput(arg)
		if err != nil {
			return nil, fmt.Errorf("assemble matrix: %w", err)
		}
		inputs = append(inputs, in)
	}
	return BuildMatrix(inputs), nil
}

func matrixInput(arg string) (MatrixInput, error) {
	label, path, found := strings.Cut(arg, "=")
	if !found {
		label, path = "", arg
	}
	label = strings.TrimSpace(label)
	if found && (label == "" || path == "") {
		return MatrixInput{}, fmt.Errorf("entry %q: want [LABEL=]PATH, e.g. 0.44.1=reports/matrix/falco_0.44.1/report.json", arg)
	}
	in := MatrixInput{Label: label, Source: path}
	fi, err := os.Stat(path)
	if err != nil {
		return in, fmt.Errorf("entry %q: %w", arg, err)
	}
	if fi.IsDir() {
		file := filepath.Join(path, JSONFile)
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			in.Missing = fmt.Sprintf("the run wrote no %s", JSONFile)
			if log := filepath.Join(path, RunLogFile); fileExists(log) {
				in.Missing += " (see " + log + ")"
			}
			return in, nil
		}
		path = file
	}
	r, err := Load(path)
	if err != nil {
		return in, err
	}
	in.Report = r
	return in, nil
}

// RunLogFile is the output of one entry's run, beside its reports, kept by
// `make test-matrix`.
const RunLogFile = "run.log"

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
