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
}

// Coverage measures rules against scenarios. rules are every loaded rule:
// enabled candidates are measured (see Rule.Candidate), and every rule
// counts as existing for the dangling check.
func Coverage(rules []Rule, scenarios []*scenario.Scenario) CoverageReport {
	var c CoverageReport
	exists := map[string]bool{}
	for _, r := range rules {
		exists[r.Name] = true
	}
	expected, forbidden, skipped := map[string][]string{}, map[string][]string{}, map[string][]string{}
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
			continue
		}
		note("expect", sc.Expect, expected)
		note("forbid", sc.Forbid, forbidden)
	}

	seen := map[string]bool{}
	untested := map[attack.TechniqueID]*UntestedTechnique{}
	for _, r := range rules {
		if !r.underTest() || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		rc := RuleCoverage{Name: r.Name, File: r.File, Line: r.Line, ExpectedBy: expected[r.Name], ForbiddenBy: forbidden[r.Name], SkippedBy: skipped[r.Name]}
		c.Rules = append(c.Rules, rc)
		if len(rc.ExpectedBy) > 0 {
			c.Exercised++
		}
		var tactics []attack.Tactic
		var techniques []attack.Technique
		for _, tag := range r.Tags {
			info := attack.ClassifyTag(tag)
			switch info.Kind {
			case attack.OutOfDate:
				c.TagProblems = append(c.TagProblems, TagProblem{Rule: r.Name, File: r.File, Line: r.Line, Tag: tag, Problem: info.Problem})
			case attack.KnownTactic:
				tactics = append(tactics, info.Tactic)
			case attack.KnownTechnique:
				if t, ok := attack.Lookup(info.Technique); ok && !emulated[t.ID] {
					techniques = append(techniques, t)
				}
			}
		}
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
	return out
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
