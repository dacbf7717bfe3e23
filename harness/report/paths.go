package report

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// Exit codes of the coverage and diff commands.
const (
	ExitOK      = 0 // gate passed, no regression
	ExitFailed  = 1 // gate failed, or head regressed
	ExitBadArgs = 2 // inputs could not be read
)

// RulesFromIndex lists every rule of an index for Run.Rules. A rule is a
// candidate when the item that finally defined it is in one of the
// candidates paths (files or directories, as given to rules.LoadPaths), so
// a candidate file overriding an upstream rule puts that rule under test.
func RulesFromIndex(x *rules.Index, candidates []string) []Rule {
	var out []Rule
	for _, r := range x.Rules() {
		out = append(out, Rule{
			Name: r.Name, Priority: r.Priority, Tags: r.Tags, File: r.Pos.File, Line: r.Pos.Line, Hash: r.Hash,
			Candidate: candidate(r, candidates), Enabled: r.Enabled,
		})
	}
	return out
}

// FilesFromIndex lists the rules files an index read, for Meta.RulesFiles.
func FilesFromIndex(x *rules.Index) []FileHash {
	var out []FileHash
	for _, f := range x.Files() {
		out = append(out, FileHash{Path: f.Path, SHA256: f.SHA256})
	}
	return out
}

// candidate reports whether a candidate file defined the rule or changed it
// (appended to its condition, overrode a key): Falco then runs the rule as
// the candidates shaped it, so it is under test.
func candidate(r rules.Rule, paths []string) bool {
	if under(r.Pos.File, paths) {
		return true
	}
	for _, c := range r.Changes {
		if under(c.File, paths) {
			return true
		}
	}
	return false
}

func under(file string, paths []string) bool {
	file = filepath.Clean(file)
	for _, p := range paths {
		p = filepath.Clean(p)
		if file == p || strings.HasPrefix(file, p+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// CoverageInputs are the paths `attack-replay coverage` reads.
type CoverageInputs struct {
	// Rules are the candidate rules files or directories.
	Rules []string
	// Upstream are rules files loaded first only for their macros, lists
	// and rule names (e.g. a copy of the Falco image's falco_rules.yaml), so
	// scenarios that forbid upstream rules do not count as dangling.
	Upstream  []string
	Scenarios string
	Options   CoverageOptions
}

// CoverageResult is what `attack-replay coverage` prints and how it exits.
type CoverageResult struct {
	Report   CoverageReport
	Gate     Gate
	Failures []string // why the gate failed; empty when it passed
	// PerRule adds the table of every measured rule and its status.
	PerRule bool
}

// ExitCode is ExitFailed when the gate failed, else ExitOK.
func (r CoverageResult) ExitCode() int {
	if len(r.Failures) > 0 {
		return ExitFailed
	}
	return ExitOK
}

// Text renders the result for a terminal.
func (r CoverageResult) Text() string {
	if r.PerRule {
		return r.Report.Text(r.Gate) + r.Report.PerRuleText()
	}
	return r.Report.Text(r.Gate)
}

// Markdown renders the result for a pull request or job summary.
func (r CoverageResult) Markdown() string {
	if r.PerRule {
		return r.Report.Markdown(r.Gate) + r.Report.PerRuleMarkdown()
	}
	return r.Report.Markdown(r.Gate)
}

// CoverageFromPaths loads the rules and scenarios and applies the gate. A
// load error (rules or scenarios that do not parse) is returned as an
// error: exit with ExitBadArgs. Scenarios are loaded without checking their
// rule names, so a name that no rules file defines is reported as dangling
// instead of stopping the command.
func CoverageFromPaths(in CoverageInputs, gate Gate) (CoverageResult, error) {
	if len(in.Rules) == 0 {
		return CoverageResult{}, fmt.Errorf("measure coverage: no rules paths (pass the candidate rules directory, e.g. --rules rules/)")
	}
	x, err := rules.LoadPaths(append(append([]string(nil), in.Upstream...), in.Rules...)...)
	if err != nil {
		return CoverageResult{}, fmt.Errorf("measure coverage: %w", err)
	}
	set, err := scenario.LoadDir(in.Scenarios, scenario.Options{})
	if err != nil {
		return CoverageResult{}, fmt.Errorf("measure coverage: %w", err)
	}
	c := CoverageWith(in.Options, RulesFromIndex(x, in.Rules), set.Scenarios())
	return CoverageResult{Report: c, Gate: gate, Failures: c.Check(gate)}, nil
}

// ExitCode is ExitFailed when head regressed, else ExitOK.
func (d DiffReport) ExitCode() int {
	if d.Regressed() {
		return ExitFailed
	}
	return ExitOK
}

// DiffFiles loads two report.json files and compares head against base. A
// file that cannot be read is an error: exit with ExitBadArgs.
func DiffFiles(basePath, headPath string, opts DiffOptions) (DiffReport, error) {
	base, err := Load(basePath)
	if err != nil {
		return DiffReport{}, fmt.Errorf("diff reports: base: %w", err)
	}
	head, err := Load(headPath)
	if err != nil {
		return DiffReport{}, fmt.Errorf("diff reports: head: %w", err)
	}
	return Diff(base, head, opts), nil
}
