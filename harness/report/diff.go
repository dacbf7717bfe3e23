package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// DiffOptions tune what counts as a latency regression: a scenario's p50
// must grow by more than LatencyRelative (0.5 = +50%) and by at least
// LatencyAbsolute, so neither a 2 ms → 4 ms jitter nor a +120 ms drift on a
// 10 s baseline fails a pull request.
type DiffOptions struct {
	LatencyRelative float64
	LatencyAbsolute time.Duration
}

// DefaultDiffOptions: +50% and at least 100 ms.
func DefaultDiffOptions() DiffOptions {
	return DiffOptions{LatencyRelative: 0.5, LatencyAbsolute: 100 * time.Millisecond}
}

// Change is one scenario whose result differs between base and head.
type Change struct {
	Scenario  string `json:"scenario"`
	Technique string `json:"technique"`
	Tactic    string `json:"tactic,omitempty"`
	Benign    bool   `json:"benign,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Base      string `json:"base,omitempty"` // Scenario.Status in base; "" when absent
	Head      string `json:"head,omitempty"` // Scenario.Status in head; "" when absent
	Reason    string `json:"reason,omitempty"`
}

// LatencyChange is a scenario whose p50 latency grew beyond the threshold.
type LatencyChange struct {
	Scenario  string        `json:"scenario"`
	Technique string        `json:"technique"`
	Base      time.Duration `json:"base_p50_ns"`
	Head      time.Duration `json:"head_p50_ns"`
}

// RuleChange is a candidate rule added, removed or changed.
type RuleChange struct {
	Name     string `json:"name"`
	File     string `json:"file"`
	BaseHash string `json:"base_hash,omitempty"`
	HeadHash string `json:"head_hash,omitempty"`
}

// DiffReport classifies every difference between a base and a head report.
type DiffReport struct {
	Options            DiffOptions     `json:"-"`
	NewlyFailing       []Change        `json:"newly_failing,omitempty"`
	NewFalsePositives  []Change        `json:"new_false_positives,omitempty"` // benign scenarios that now fail
	NewErrors          []Change        `json:"new_errors,omitempty"`
	LatencyRegressions []LatencyChange `json:"latency_regressions,omitempty"`
	NewInconclusive    []Change        `json:"new_inconclusive,omitempty"`
	NewFlaky           []Change        `json:"new_flaky,omitempty"`
	// NewlySkipped ran in base and are skipped in head: coverage lost on
	// purpose, to be reviewed, not a regression (like a removed scenario).
	NewlySkipped []Change     `json:"newly_skipped,omitempty"`
	NewlyPassing []Change     `json:"newly_passing,omitempty"`
	Added        []Change     `json:"added,omitempty"`
	Removed      []Change     `json:"removed,omitempty"`
	RulesAdded   []RuleChange `json:"rules_added,omitempty"`
	RulesRemoved []RuleChange `json:"rules_removed,omitempty"`
	RulesChanged []RuleChange `json:"rules_changed,omitempty"`
	// Notes say where the two runs differ in ways that weaken the
	// comparison: another Falco, transport, or a run with drops.
	Notes []string `json:"notes,omitempty"`
}

// Regressed reports whether head is worse than base: a scenario newly
// failing, a new false positive, a new error, or a latency regression.
// A scenario added in head counts when it fails or errors. Added and
// removed rules and scenarios, flakiness and inconclusive runs inform only.
func (d DiffReport) Regressed() bool {
	return len(d.NewlyFailing)+len(d.NewFalsePositives)+len(d.NewErrors)+len(d.LatencyRegressions) > 0
}

type located struct {
	t *Technique
	s *Scenario
}

func index(r *Report) map[string]located {
	m := map[string]located{}
	for ti := range r.Techniques {
		t := &r.Techniques[ti]
		for si := range t.Scenarios {
			m[t.Scenarios[si].ID] = located{t, &t.Scenarios[si]}
		}
	}
	return m
}

// Diff compares head against base, scenario by scenario id and candidate
// rule by name.
func Diff(base, head *Report, opts DiffOptions) DiffReport {
	d := DiffReport{Options: opts}
	bs, hs := index(base), index(head)
	change := func(b, h located) Change {
		ref := h
		if ref.s == nil {
			ref = b
		}
		c := Change{Scenario: ref.s.ID, Technique: ref.t.ID, Tactic: ref.t.Tactic, Benign: ref.s.Benign, File: ref.s.File, Line: ref.s.Line}
		if b.s != nil {
			c.Base = b.s.Status()
		}
		if h.s != nil {
			c.Head = h.s.Status()
			c.Reason = h.s.Reason
		}
		return c
	}
	for id, h := range hs {
		b, inBase := bs[id]
		c := change(b, h)
		if !inBase {
			d.Added = append(d.Added, c)
		}
		was := func(o verdict.Outcome) bool { return inBase && b.s.Outcome == o }
		switch o := h.s.Outcome; {
		case o == verdict.Fail && !was(verdict.Fail) && h.s.Benign:
			d.NewFalsePositives = append(d.NewFalsePositives, c)
		case o == verdict.Fail && !was(verdict.Fail):
			d.NewlyFailing = append(d.NewlyFailing, c)
		case o == verdict.Error && !was(verdict.Error):
			d.NewErrors = append(d.NewErrors, c)
		case o == verdict.Inconclusive && !was(verdict.Inconclusive):
			d.NewInconclusive = append(d.NewInconclusive, c)
		case o == verdict.Pass && inBase && !was(verdict.Pass):
			d.NewlyPassing = append(d.NewlyPassing, c)
		case o == verdict.Skip && inBase && !was(verdict.Skip):
			d.NewlySkipped = append(d.NewlySkipped, c)
		}
		if h.s.Flaky && (!inBase || !b.s.Flaky) {
			d.NewFlaky = append(d.NewFlaky, c)
		}
		if inBase && latencyRegressed(b.s.Latency, h.s.Latency, opts) {
			d.LatencyRegressions = append(d.LatencyRegressions, LatencyChange{Scenario: id, Technique: h.t.ID, Base: b.s.Latency.P50, Head: h.s.Latency.P50})
		}
	}
	for id, b := range bs {
		if _, ok := hs[id]; !ok {
			d.Removed = append(d.Removed, change(b, located{}))
		}
	}
	d.diffRules(base, head)
	d.Notes = diffNotes(base, head)
	d.sort()
	return d
}

func latencyRegressed(b, h Latency, opts DiffOptions) bool {
	if b.Count == 0 || h.Count == 0 {
		return false
	}
	grew := h.P50 - b.P50
	return grew >= opts.LatencyAbsolute && float64(h.P50) > float64(b.P50)*(1+opts.LatencyRelative)
}

func (d *DiffReport) diffRules(base, head *Report) {
	candidates := func(r *Report) map[string]Rule {
		m := map[string]Rule{}
		for _, rule := range r.Rules {
			if _, dup := m[rule.Name]; rule.Candidate && !dup {
				m[rule.Name] = rule
			}
		}
		return m
	}
	br, hr := candidates(base), candidates(head)
	for name, h := range hr {
		b, ok := br[name]
		switch {
		case !ok:
			d.RulesAdded = append(d.RulesAdded, RuleChange{Name: name, File: h.File, HeadHash: h.Hash})
		case b.Hash != h.Hash:
			d.RulesChanged = append(d.RulesChanged, RuleChange{Name: name, File: h.File, BaseHash: b.Hash, HeadHash: h.Hash})
		}
	}
	for name, b := range br {
		if _, ok := hr[name]; !ok {
			d.RulesRemoved = append(d.RulesRemoved, RuleChange{Name: name, File: b.File, BaseHash: b.Hash})
		}
	}
}

func diffNotes(base, head *Report) []string {
	var notes []string
	differ := func(what, b, h string) {
		if b != h {
			notes = append(notes, fmt.Sprintf("%s differs: base %q, head %q.", what, b, h))
		}
	}
	differ("Falco version", base.Meta.Falco.Version, head.Meta.Falco.Version)
	differ("Falco engine", base.Meta.Falco.Engine, head.Meta.Falco.Engine)
	differ("Alert transport", base.Meta.Falco.Transport, head.Meta.Falco.Transport)
	differ("Victim image", base.Meta.VictimImage, head.Meta.VictimImage)
	differ("ATT&CK release", base.Meta.AttackRelease, head.Meta.AttackRelease)
	if !base.Summary.Trustworthy {
		notes = append(notes, fmt.Sprintf("The base run is not trustworthy: Falco dropped %d events.", base.Summary.Drops))
	}
	if !head.Summary.Trustworthy {
		notes = append(notes, fmt.Sprintf("The head run is not trustworthy: Falco dropped %d events.", head.Summary.Drops))
	}
	if base.Meta.LabelFilter != head.Meta.LabelFilter {
		notes = append(notes, fmt.Sprintf("The runs selected different scenarios: base filter %q, head filter %q; added and removed scenarios may only be filtered.",
			base.Meta.LabelFilter, head.Meta.LabelFilter))
	}
	return notes
}

func (d *DiffReport) sort() {
	byScenario := func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Technique, b.Technique), cmp.Compare(a.Scenario, b.Scenario))
	}
	for _, cs := range []*[]Change{&d.NewlyFailing, &d.NewFalsePositives, &d.NewErrors, &d.NewInconclusive, &d.NewFlaky, &d.NewlySkipped, &d.NewlyPassing, &d.Added, &d.Removed} {
		slices.SortFunc(*cs, byScenario)
	}
	slices.SortFunc(d.LatencyRegressions, func(a, b LatencyChange) int {
		return cmp.Or(cmp.Compare(a.Technique, b.Technique), cmp.Compare(a.Scenario, b.Scenario))
	})
	for _, rs := range []*[]RuleChange{&d.RulesAdded, &d.RulesRemoved, &d.RulesChanged} {
		slices.SortFunc(*rs, func(a, b RuleChange) int { return cmp.Compare(a.Name, b.Name) })
	}
}

// maxDiffRows bounds each table of the diff's Markdown.
const maxDiffRows = 50

// Summary is the one-line verdict of the diff.
func (d DiffReport) Summary() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, plural(n, what))
		}
	}
	// "newly failing" and "newly passing" describe scenarios: no plural.
	state := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	state(len(d.NewlyFailing), "newly failing")
	add(len(d.NewFalsePositives), "new false positive")
	add(len(d.NewErrors), "new error")
	add(len(d.LatencyRegressions), "latency regression")
	if d.Regressed() {
		return "regressed: " + strings.Join(parts, ", ")
	}
	state(len(d.NewlyPassing), "newly passing")
	state(len(d.NewInconclusive), "newly inconclusive")
	state(len(d.NewFlaky), "newly flaky")
	state(len(d.NewlySkipped), "newly skipped")
	for _, c := range []struct {
		n          int
		what, verb string
	}{
		{len(d.Added), "scenario", "added"},
		{len(d.Removed), "scenario", "removed"},
		{len(d.RulesAdded), "rule", "added"},
		{len(d.RulesRemoved), "rule", "removed"},
		{len(d.RulesChanged), "rule", "changed"},
	} {
		if c.n > 0 {
			parts = append(parts, plural(c.n, c.what)+" "+c.verb)
		}
	}
	if len(parts) == 0 {
		return "no regression, no change"
	}
	return "no regression; " + strings.Join(parts, ", ")
}

// Markdown renders the diff for a pull-request comment or a job summary.
func (d DiffReport) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## attack-replay: head against base\n\n")
	if d.Regressed() {
		w("> [!CAUTION]\n> **Regressed:** %s.\n", MarkdownText(strings.TrimPrefix(d.Summary(), "regressed: ")))
	} else {
		w("> [!NOTE]\n> %s.\n", MarkdownText(capitalise(d.Summary())))
	}
	for _, n := range d.Notes {
		w("\n- %s", MarkdownText(n))
	}
	if len(d.Notes) > 0 {
		w("\n")
	}
	changes := func(title string, cs []Change) {
		diffTable(&b, fmt.Sprintf("%s (%d)", title, len(cs)), "| Scenario | Technique | Base → head | Where | Reason |\n|---|---|---|---|---|",
			"| … %d more in the JSON reports | | | | |", cs, func(c Change) string {
				where := ""
				if c.File != "" {
					where = CodeCell(location(c.File, c.Line))
				}
				return fmt.Sprintf("| %s | %s | %s → %s | %s | %s |", CodeCell(c.Scenario), MarkdownText(strings.TrimSpace(c.Technique+" "+c.Tactic)),
					valueOr(c.Base, "absent"), valueOr(c.Head, "absent"), where, MarkdownText(truncate(c.Reason, maxText)))
			})
	}
	changes("Newly failing", d.NewlyFailing)
	changes("New false positives: benign scenarios that now fail", d.NewFalsePositives)
	changes("New errors", d.NewErrors)
	diffTable(&b, fmt.Sprintf("Latency regressions (%d): p50 grew by more than %+.0f%% and at least %s",
		len(d.LatencyRegressions), 100*d.Options.LatencyRelative, formatDuration(d.Options.LatencyAbsolute)),
		"| Scenario | Technique | Base p50 | Head p50 | Change |\n|---|---|--:|--:|--:|",
		"| … %d more in the JSON reports | | | | |", d.LatencyRegressions, func(l LatencyChange) string {
			return fmt.Sprintf("| %s | %s | %s | %s | %+.0f%% |", CodeCell(l.Scenario), MarkdownText(l.Technique), formatDuration(l.Base), formatDuration(l.Head),
				100*(float64(l.Head)/float64(l.Base)-1))
		})
	changes("New inconclusive", d.NewInconclusive)
	changes("New flaky", d.NewFlaky)
	changes("Newly skipped: ran in base, not run in head", d.NewlySkipped)
	changes("Newly passing", d.NewlyPassing)
	changes("Scenarios added", d.Added)
	changes("Scenarios removed", d.Removed)
	rules := func(title string, rs []RuleChange) {
		diffTable(&b, fmt.Sprintf("%s (%d)", title, len(rs)), "| Rule | File | Base hash | Head hash |\n|---|---|---|---|",
			"| … %d more | | | |", rs, func(r RuleChange) string {
				return fmt.Sprintf("| %s | %s | %s | %s |", CodeCell(r.Name), CodeCell(r.File), CodeCell(shortHash(r.BaseHash)), CodeCell(shortHash(r.HeadHash)))
			})
	}
	rules("Rules added", d.RulesAdded)
	rules("Rules removed", d.RulesRemoved)
	rules("Rules changed", d.RulesChanged)
	return b.String()
}

// diffTable writes a table under a "###" title with one row per item, at
// most maxDiffRows of them; more formats the last row, counting the rest.
// No items, no table.
func diffTable[T any](b *strings.Builder, title, header, more string, items []T, row func(T) string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### %s\n\n%s\n", title, header)
	rows, rest := capped(items, maxDiffRows, row)
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	if rest > 0 {
		fmt.Fprintf(b, more+"\n", rest)
	}
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
