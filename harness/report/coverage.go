package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// CoverageReport says how well the scenarios exercise the candidate rules
// and the techniques those rules claim.
type CoverageReport struct {
	CandidateRules int `json:"candidate_rules"`
	// Exercised counts candidate rules that at least one scenario expects.
	Exercised int     `json:"exercised"`
	Percent   float64 `json:"percent"` // Exercised / CandidateRules * 100; 0 with no candidates
	// Rules lists every candidate rule with the scenarios that name it.
	Rules []RuleCoverage `json:"rules"`
	// Skipped counts scenarios marked skip: they are not run, so the rules
	// they name are not exercised by them (RuleCoverage.SkippedBy).
	Skipped int `json:"skipped,omitempty"`
	// Untested are techniques tagged in candidate rules that no scenario
	// emulates (a scenario of a sub-technique covers its parent's tag).
	Untested []UntestedTechnique `json:"untested,omitempty"`
	// Dangling are expect/forbid entries naming rules that no rules file
	// defines: the scenario can never pass, or forbids nothing.
	Dangling []DanglingRef `json:"dangling,omitempty"`
	// TagProblems are candidate-rule tags that look like ATT&CK but are not
	// in this release: unknown, renumbered, or of a retired tactic.
	TagProblems []TagProblem `json:"tag_problems,omitempty"`
}

// RuleCoverage is one candidate rule and the scenarios that name it.
type RuleCoverage struct {
	Name        string   `json:"name"`
	File        string   `json:"file"`
	Line        int      `json:"line,omitempty"`
	ExpectedBy  []string `json:"expected_by,omitempty"`
	ForbiddenBy []string `json:"forbidden_by,omitempty"`
	// SkippedBy are skipped scenarios that expect or forbid the rule: they
	// would test it, but cannot run here.
	SkippedBy []string `json:"skipped_by,omitempty"`
	// TwinBy are the benign scenarios among ForbiddenBy: look-alikes of the
	// attack that must not fire the rule, which it names.
	TwinBy []string `json:"twin_by,omitempty"`
	// SkipReasons are the distinct reasons of the skipped scenarios that
	// expect the rule.
	SkipReasons []string `json:"skip_reasons,omitempty"`
	// Disabled marks a rule its file disables (enabled: false). The harness
	// enables it for the scenarios that name it; one that no scenario names
	// is measured only with CoverageOptions.IncludeDisabled.
	Disabled bool `json:"disabled,omitempty"`
	// Techniques are the rule's ATT&CK technique tags, each with the id this
	// release gives it (the same id, or a successor's for a renumbered tag).
	Techniques []TechniqueTag `json:"techniques,omitempty"`
	// Status sums up how the rule is tested: one of the Status* constants.
	Status string `json:"status"`
}

// Status values of RuleCoverage.
const (
	StatusTested     = "attack+twin" // an attack expects it and a benign twin forbids it
	StatusAttackOnly = "attack only" // no benign twin forbids it by name
	StatusTwinOnly   = "twin only"   // forbidden by a benign scenario, expected by none
	StatusSkipped    = "skipped"     // only skipped scenarios expect it: untestable here
	StatusMissing    = "missing"     // no scenario expects it
)

// TechniqueTag is a rule's technique tag and the id it has in this release.
type TechniqueTag struct {
	Tag     string `json:"tag"`
	Current string `json:"current,omitempty"` // empty when the id is unknown with no successor
}

// String is "T1059.004", or "T1562.001→T1685" for a renumbered tag.
func (t TechniqueTag) String() string {
	switch t.Current {
	case t.Tag:
		return t.Tag
	case "":
		return t.Tag + " (unknown)"
	}
	return t.Tag + "→" + t.Current
}

// UntestedTechnique is a technique a candidate rule claims with no scenario.
type UntestedTechnique struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Tactics are the technique's tactics that its rules also tag
	// (mitre_impact), else all of the technique's tactics.
	Tactics []string `json:"tactics"`
	Rules   []string `json:"rules"`
}

// DanglingRef is a scenario matcher naming a rule that does not exist.
type DanglingRef struct {
	Scenario string `json:"scenario"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Kind     string `json:"kind"` // "expect" or "forbid"
	Rule     string `json:"rule"`
}

// TagProblem is a candidate rule's tag this ATT&CK release does not know.
type TagProblem struct {
	Rule    string `json:"rule"`
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Tag     string `json:"tag"`
	Problem string `json:"problem"`
	// Current is the id this release gives a renumbered technique tag.
	Current string `json:"current,omitempty"`
}

// status sums up the scenarios that name the rule.
func (r RuleCoverage) status() string {
	switch {
	case len(r.ExpectedBy) > 0 && len(r.TwinBy) > 0:
		return StatusTested
	case len(r.ExpectedBy) > 0:
		return StatusAttackOnly
	case len(r.SkipReasons) > 0:
		return StatusSkipped
	case len(r.TwinBy) > 0:
		return StatusTwinOnly
	}
	return StatusMissing
}

// CoverageOptions change what Coverage measures.
type CoverageOptions struct {
	// IncludeDisabled measures every candidate rule, also those their file
	// disables that no scenario names (a library that must test every rule
	// of a ruleset, such as upstream's sandbox file).
	IncludeDisabled bool
}

// Coverage measures rules against scenarios. rules are every loaded rule:
// candidates are measured (see Rule.Candidate) when enabled or named by a
// scenario (the harness enables those), and every rule counts as existing
// for the dangling check.
func Coverage(rules []Rule, scenarios []*scenario.Scenario) CoverageReport {
	return CoverageWith(CoverageOptions{}, rules, scenarios)
}

// CoverageWith is Coverage with options.
func CoverageWith(opts CoverageOptions, rules []Rule, scenarios []*scenario.Scenario) CoverageReport {
	var c CoverageReport
	exists := map[string]bool{}
	for _, r := range rules {
		exists[r.Name] = true
	}
	expected, forbidden, skipped := map[string][]string{}, map[string][]string{}, map[string][]string{}
	twins, reasons := map[string][]string{}, map[string][]string{}
	emulated := map[attack.TechniqueID]bool{}
	for _, sc := range scenarios {
		// A skipped scenario still emulates its technique (it is
		// untestable here, not untested), but exercises no rule.
		emulated[sc.Technique] = true
		emulated[sc.Technique.Parent()] = true
		if sc.Skip != "" {
			c.Skipped++
		}
		note := func(kind string, ms []scenario.Matcher, into map[string][]string) {
			for _, m := range ms {
				switch {
				case m.Rule == scenario.AnyRule:
				case !exists[m.Rule]:
					c.Dangling = append(c.Dangling, DanglingRef{Scenario: sc.ID, File: sc.File, Line: cmp.Or(m.Line, sc.Line), Kind: kind, Rule: m.Rule})
				case !slices.Contains(into[m.Rule], sc.ID):
					into[m.Rule] = append(into[m.Rule], sc.ID)
				}
			}
		}
		if sc.Skip != "" {
			note("expect", sc.Expect, skipped)
			note("forbid", sc.Forbid, skipped)
			for _, m := range sc.Expect {
				if m.Rule != scenario.AnyRule && !slices.Contains(reasons[m.Rule], sc.Skip) {
					reasons[m.Rule] = append(reasons[m.Rule], sc.Skip)
				}
			}
			continue
		}
		note("expect", sc.Expect, expected)
		note("forbid", sc.Forbid, forbidden)
		if sc.Benign {
			for _, m := range sc.Forbid {
				if m.Rule != scenario.AnyRule && !slices.Contains(twins[m.Rule], sc.ID) {
					twins[m.Rule] = append(twins[m.Rule], sc.ID)
				}
			}
		}
	}
	named := func(name string) bool {
		return len(expected[name])+len(forbidden[name])+len(skipped[name]) > 0
	}

	seen := map[string]bool{}
	untested := map[attack.TechniqueID]*UntestedTechnique{}
	for _, r := range rules {
		if !r.Candidate || seen[r.Name] || !r.Enabled && !opts.IncludeDisabled && !named(r.Name) {
			continue
		}
		seen[r.Name] = true
		rc := RuleCoverage{Name: r.Name, File: r.File, Line: r.Line, ExpectedBy: expected[r.Name], ForbiddenBy: forbidden[r.Name],
			SkippedBy: skipped[r.Name], TwinBy: twins[r.Name], SkipReasons: reasons[r.Name], Disabled: !r.Enabled}
		if len(rc.ExpectedBy) > 0 {
			c.Exercised++
		}
		var tactics []attack.Tactic
		var techniques []attack.Technique
		for _, tag := range r.Tags {
			info := attack.ClassifyTag(tag)
			switch info.Kind {
			case attack.OutOfDate:
				p := TagProblem{Rule: r.Name, File: r.File, Line: r.Line, Tag: tag, Problem: info.Problem}
				if info.Technique != "" {
					tt := TechniqueTag{Tag: tag}
					if s, ok := attack.Successor(info.Technique); ok {
						tt.Current, p.Current = string(s.ID), string(s.ID)
					} else if t, ok := attack.Lookup(info.Technique); ok {
						tt.Current = string(t.ID) // a spelling problem: the id itself is known
					}
					rc.Techniques = append(rc.Techniques, tt)
				}
				c.TagProblems = append(c.TagProblems, p)
			case attack.KnownTactic:
				tactics = append(tactics, info.Tactic)
			case attack.KnownTechnique:
				rc.Techniques = append(rc.Techniques, TechniqueTag{Tag: tag, Current: tag})
				if t, ok := attack.Lookup(info.Technique); ok && !emulated[t.ID] {
					techniques = append(techniques, t)
				}
			}
		}
		rc.Status = rc.status()
		c.Rules = append(c.Rules, rc)
		for _, t := range techniques {
			u := untested[t.ID]
			if u == nil {
				u = &UntestedTechnique{ID: string(t.ID), Name: t.Name}
				untested[t.ID] = u
			}
			u.Rules = append(u.Rules, r.Name)
			for _, tac := range t.Tactics {
				if slices.Contains(tactics, tac) && !slices.Contains(u.Tactics, string(tac)) {
					u.Tactics = append(u.Tactics, string(tac))
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(untested)) {
		u := untested[id]
		if len(u.Tactics) == 0 {
			t, _ := attack.Lookup(id)
			for _, tac := range t.Tactics {
				u.Tactics = append(u.Tactics, string(tac))
			}
		}
		c.Untested = append(c.Untested, *u)
	}
	c.CandidateRules = len(c.Rules)
	if c.CandidateRules > 0 {
		c.Percent = 100 * float64(c.Exercised) / float64(c.CandidateRules)
	}
	return c
}

// Gate turns coverage into a pass/fail check for CI.
type Gate struct {
	// FailUnder fails when fewer than this percentage of candidate rules
	// are expected by a scenario (0 disables the check).
	FailUnder float64
	// RequireAllRules fails when any candidate rule has no scenario
	// expecting it.
	RequireAllRules bool
	// RequireTwins fails when any candidate rule is neither attack+twin
	// (an attack expects it, a benign twin forbids it by name) nor skipped
	// with a reason: the bar of a library that proves a whole ruleset.
	RequireTwins bool
}

// Check returns why the gate fails; none means it passes.
func (c CoverageReport) Check(g Gate) []string {
	var out []string
	if g.FailUnder > 0 {
		switch {
		case c.CandidateRules == 0:
			out = append(out, fmt.Sprintf("no candidate rules found: nothing to cover (--fail-under %s)", percent(g.FailUnder)))
		case c.Percent < g.FailUnder:
			out = append(out, fmt.Sprintf("%s of candidate rules are expected by a scenario, under --fail-under %s: add scenarios that expect the rules listed above",
				percent(c.Percent), percent(g.FailUnder)))
		}
	}
	if g.RequireAllRules {
		if missing := c.unexercised(); len(missing) > 0 {
			names := make([]string, len(missing))
			for i, r := range missing {
				names[i] = r.Name
			}
			out = append(out, fmt.Sprintf("--require-all-rules: %d candidate rules have no scenario expecting them: %s",
				len(missing), strings.Join(quoteAll(names), ", ")))
		}
	}
	if g.RequireTwins {
		var lacking []string
		for _, r := range c.Rules {
			if r.Status != StatusTested && r.Status != StatusSkipped {
				lacking = append(lacking, fmt.Sprintf("%q (%s)", r.Name, r.Status))
			}
		}
		if len(lacking) > 0 {
			out = append(out, fmt.Sprintf("--require-twins: %d candidate rules lack an attack and a benign twin that forbids them by name (or a skip with its reason): %s",
				len(lacking), strings.Join(lacking, ", ")))
		}
	}
	return out
}

// PerRuleText lists every measured rule with its status, for a terminal.
func (c CoverageReport) PerRuleText() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("\nper rule (%s):\n", c.statusCounts())
	for _, r := range c.Rules {
		w("  %-11s %q  %s", r.Status, r.Name, location(r.File, r.Line))
		if t := r.techniqueList(); t != "" {
			w("  [%s]", t)
		}
		if r.Disabled {
			w("  (disabled in its file)")
		}
		w("\n")
		if len(r.ExpectedBy) > 0 {
			w("      attack: %s\n", strings.Join(r.ExpectedBy, ", "))
		}
		if len(r.TwinBy) > 0 {
			w("      twin:   %s\n", strings.Join(r.TwinBy, ", "))
		}
		for _, why := range r.SkipReasons {
			w("      skip:   %s\n", why)
		}
	}
	return b.String()
}

// PerRuleMarkdown is PerRuleText as a table for a pull request or the README.
func (c CoverageReport) PerRuleMarkdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("\n### Per rule\n\n%s.\n\n| Rule | Status | Techniques | Attack | Twin | Skip reason |\n|---|---|---|---|---|---|\n", MarkdownText(c.statusCounts()))
	for _, r := range c.Rules {
		name := CodeCell(r.Name)
		if r.Disabled {
			name += " (disabled in its file)"
		}
		w("| %s | %s | %s | %s | %s | %s |\n", name, r.Status, MarkdownText(r.techniqueList()),
			MarkdownText(strings.Join(r.ExpectedBy, ", ")), MarkdownText(strings.Join(r.TwinBy, ", ")), MarkdownText(strings.Join(r.SkipReasons, "; ")))
	}
	return b.String()
}

// statusCounts is "40 attack+twin, 3 skipped, 1 missing", in the order of the Status constants.
func (c CoverageReport) statusCounts() string {
	n := map[string]int{}
	for _, r := range c.Rules {
		n[r.Status]++
	}
	var parts []string
	for _, st := range []string{StatusTested, StatusAttackOnly, StatusTwinOnly, StatusSkipped, StatusMissing} {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	if len(parts) == 0 {
		return "no rules"
	}
	return strings.Join(parts, ", ")
}

func (r RuleCoverage) techniqueList() string {
	parts := make([]string, len(r.Techniques))
	for i, t := range r.Techniques {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}

// headline is the one-sentence result.
func (c CoverageReport) headline() string {
	h := fmt.Sprintf("%d of %d candidate rules expected by at least one scenario (%s)", c.Exercised, c.CandidateRules, percent(c.Percent))
	if c.Skipped > 0 {
		h += fmt.Sprintf("; %s skipped, not counted", plural(c.Skipped, "scenario"))
	}
	return h
}

// Text renders the coverage for a terminal, followed by the gate's failures.
func (c CoverageReport) Text(g Gate) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("coverage: %s\n", c.headline())
	if missing := c.unexercised(); len(missing) > 0 {
		w("\nrules no scenario expects:\n")
		for _, r := range missing {
			w("  %s: %q%s\n", location(r.File, r.Line), r.Name, forbiddenNote(r))
		}
	}
	if len(c.Untested) > 0 {
		w("\ntechniques tagged in rules with no scenario:\n")
		for _, u := range c.Untested {
			w("  %s %s (%s): rules %s\n", u.ID, u.Name, strings.Join(u.Tactics, ", "), strings.Join(quoteAll(u.Rules), ", "))
		}
	}
	if len(c.Dangling) > 0 {
		w("\nscenarios naming rules that do not exist:\n")
		for _, d := range c.Dangling {
			w("  %s: scenario %q %s rule %q\n", location(d.File, d.Line), d.Scenario, d.Kind, d.Rule)
		}
	}
	if len(c.TagProblems) > 0 {
		w("\nrule tags out of date with ATT&CK:\n")
		for _, p := range c.TagProblems {
			w("  %s: rule %q: %s\n", location(p.File, p.Line), p.Rule, p.Problem)
		}
	}
	if fails := c.Check(g); len(fails) > 0 {
		w("\n")
		for _, f := range fails {
			w("FAIL %s\n", f)
		}
	}
	return b.String()
}

// Markdown renders the coverage for a pull-request comment.
func (c CoverageReport) Markdown(g Gate) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Coverage\n\n**%s.**\n", MarkdownText(c.headline()))
	if fails := c.Check(g); len(fails) > 0 {
		w("\n> [!CAUTION]\n")
		for _, f := range fails {
			w("> **Gate failed:** %s\n", MarkdownText(f))
		}
	}
	if missing := c.unexercised(); len(missing) > 0 {
		w("\n### Rules no scenario expects\n\n| Rule | File | Forbidden by |\n|---|---|---|\n")
		for _, r := range missing {
			w("| %s | %s | %s |\n", CodeCell(r.Name), CodeCell(location(r.File, r.Line)), MarkdownText(strings.Join(r.ForbiddenBy, ", ")))
		}
	}
	if len(c.Untested) > 0 {
		w("\n### Techniques tagged in rules with no scenario\n\n| Technique | Name | Tactics | Rules |\n|---|---|---|---|\n")
		for _, u := range c.Untested {
			w("| %s | %s | %s | %s |\n", u.ID, MarkdownText(u.Name), MarkdownText(strings.Join(u.Tactics, ", ")), MarkdownText(strings.Join(u.Rules, ", ")))
		}
	}
	if len(c.Dangling) > 0 {
		w("\n### Scenarios naming rules that do not exist\n\n| Scenario | Where | Kind | Rule |\n|---|---|---|---|\n")
		for _, d := range c.Dangling {
			w("| %s | %s | %s | %s |\n", CodeCell(d.Scenario), CodeCell(location(d.File, d.Line)), d.Kind, CodeCell(d.Rule))
		}
	}
	if len(c.TagProblems) > 0 {
		w("\n### Rule tags out of date with ATT&CK\n\n| Rule | Tag | Problem |\n|---|---|---|\n")
		for _, p := range c.TagProblems {
			w("| %s | %s | %s |\n", CodeCell(p.Rule), CodeCell(p.Tag), MarkdownText(p.Problem))
		}
	}
	return b.String()
}

// summaryLine is the coverage sentence of report.md.
func (c CoverageReport) summaryLine() string {
	s := "Coverage: " + MarkdownText(c.headline()) + "."
	if missing := c.unexercised(); len(missing) > 0 {
		s += fmt.Sprintf(" Not expected by any scenario: %d rules.", len(missing))
	}
	if len(c.Untested) > 0 {
		ids := make([]string, len(c.Untested))
		for i, u := range c.Untested {
			ids[i] = u.ID
		}
		s += " Techniques tagged but untested: " + MarkdownText(strings.Join(ids, ", ")) + "."
	}
	if len(c.TagProblems) > 0 {
		s += fmt.Sprintf(" %d rule tags out of date with ATT&CK.", len(c.TagProblems))
	}
	return s
}

// unexercised are the candidate rules no scenario expects.
func (c CoverageReport) unexercised() []RuleCoverage {
	var out []RuleCoverage
	for _, r := range c.Rules {
		if len(r.ExpectedBy) == 0 {
			out = append(out, r)
		}
	}
	return out
}

func forbiddenNote(r RuleCoverage) string {
	var notes []string
	if len(r.ForbiddenBy) > 0 {
		notes = append(notes, "only forbidden, by "+strings.Join(r.ForbiddenBy, ", "))
	}
	if len(r.SkippedBy) > 0 {
		notes = append(notes, "named by skipped "+strings.Join(r.SkippedBy, ", "))
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

func location(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

func percent(p float64) string { return fmt.Sprintf("%.1f%%", p) }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
