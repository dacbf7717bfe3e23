package scenario

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/rules"
)

// harnessFields are the names of the output fields the harness adds to
// every alert (alert.AppendedFields): a matcher may name them whatever the
// rule's own output prints.
var harnessFields = func() []string {
	var names []string
	for _, f := range alert.AppendedFields() {
		names = append(names, f.Name)
	}
	return names
}()

// outputField finds the fields a rule's output prints ("%proc.name",
// "%proc.aname[2]"); they are the rule's own output_fields in an alert.
var outputField = regexp.MustCompile(`%([A-Za-z0-9_]+(?:\.[A-Za-z0-9_.]+)?(?:\[[^\]]*\])?)`)

// checkScenario runs the checks that need the whole scenario.
func (d *decoder) checkScenario(s *Scenario, n *yaml.Node, has map[string]*yaml.Node) {
	_, notSure := has[unsure]
	switch {
	case notSure:
	case !s.Benign && len(s.Expect) == 0:
		if _, wrote := has["expect"]; !wrote || isEmptyList(has["expect"]) {
			d.errorf(n, "add expect: with the rule that must fire, or set benign: true for a false-positive check", "scenario expects no alert")
		}
	case s.Benign && len(s.Forbid) == 0 && !s.ForbidOthers:
		if _, wrote := has["forbid"]; !wrote || isEmptyList(has["forbid"]) {
			d.errorf(n, `add forbid: with the rules that must stay quiet, rule: "*" for all of them, or forbid_others: true`, "benign scenario forbids nothing")
		}
	}
	d.checkStepTimeouts(s, s.Setup)
	d.checkStepTimeouts(s, s.Steps)
	d.checkStepTimeouts(s, s.Cleanup)
	d.checkSleeps(s)
	d.checkConflicts(s)
	if s.ForbidOthers {
		saved := d.where
		for _, e := range s.Expect {
			if e.Rule == AnyRule {
				d.where = d.label(e.Line, e.Column)
				d.warnf(&yaml.Node{Line: e.Line, Column: e.Column}, "name the rules that must fire, so forbid_others forbids the rest",
					`expect rule "*" names every candidate rule, so forbid_others forbids none`)
			}
		}
		d.where = saved
	}
	if d.rules != nil {
		saved := d.where
		for _, m := range s.Expect {
			d.where = d.label(m.Line, m.Column)
			d.checkRule(m, true)
		}
		for _, m := range s.Forbid {
			d.where = d.label(m.Line, m.Column)
			d.checkRule(m, false)
		}
		d.where = saved
	}
}

func isEmptyList(n *yaml.Node) bool {
	return isNull(n) || (n.Kind == yaml.SequenceNode && len(n.Content) == 0)
}

func (d *decoder) checkStepTimeouts(s *Scenario, steps []Step) {
	saved := d.where
	for _, st := range steps {
		if !st.IsSleep() && st.Timeout > s.Timeout {
			d.where = d.label(st.Line, st.Column)
			d.errorf(&yaml.Node{Line: st.Line, Column: st.Column}, "raise the scenario's timeout or shorten the step's",
				"step timeout %s is longer than the scenario timeout %s", st.Timeout, s.Timeout)
		}
	}
	d.where = saved
}

// checkSleeps holds the scenario's sleeps, over every phase, within its
// timeout: the waits alone must not use it up.
func (d *decoder) checkSleeps(s *Scenario) {
	saved := d.where
	defer func() { d.where = saved }()
	var total time.Duration
	for _, st := range slices.Concat(s.Setup, s.Steps, s.Cleanup) {
		if !st.IsSleep() {
			continue
		}
		total += st.Sleep
		if total >= s.Timeout {
			d.where = d.label(st.Line, st.Column)
			d.errorf(&yaml.Node{Line: st.Line, Column: st.Column}, "raise the scenario's timeout or sleep less",
				"the scenario's sleeps add up to %s by this one, not less than the scenario timeout %s", total, s.Timeout)
			return
		}
	}
}

// checkConflicts finds forbid matchers that rule out an expected alert
// whatever happens: same rule (or "*") and no other criterion.
func (d *decoder) checkConflicts(s *Scenario) {
	saved := d.where
	for _, f := range s.Forbid {
		if !f.ruleOnly() || f.Rule == "" {
			continue
		}
		for _, e := range s.Expect {
			if e.Min == 0 {
				continue // the expectation allows no alert at all
			}
			if f.Rule == AnyRule || f.Rule == e.Rule {
				d.where = d.label(f.Line, f.Column)
				what := fmt.Sprintf("rule %q", f.Rule)
				if f.Rule == AnyRule {
					what = `every candidate rule ("*")`
				}
				d.errorf(&yaml.Node{Line: f.Line, Column: f.Column}, "narrow the forbid with priority, output, fields or tags, or forbid other rules",
					"forbids %s, but %s requires an alert of rule %q", what, d.label(e.Line, e.Column), e.Rule)
				break
			}
		}
	}
	d.where = saved
}

// ruleOnly reports whether the matcher names a rule and nothing else.
func (m Matcher) ruleOnly() bool {
	return m.Priority == nil && m.Output == nil && len(m.Fields) == 0 && len(m.Tags) == 0
}

// ruleLister is a RuleIndex that can list its rules (rules.Index can).
type ruleLister interface{ Rules() []rules.Rule }

// checkAnyRuleTags warns of an expect rule "*" whose tags no loaded rule
// carries (nor, for a sub-technique, its parent's id, which "*" accepts):
// no alert can match it, so the scenario can only fail. Imported Atomic Red
// Team scenarios expect this way, whatever rules are loaded.
func (d *decoder) checkAnyRuleTags(m Matcher, at *yaml.Node) {
	lister, ok := d.rules.(ruleLister)
	if !ok || len(m.Tags) == 0 {
		return
	}
	all := lister.Rules()
	if len(all) == 0 {
		return
	}
	for _, t := range m.Tags {
		id := attack.TechniqueID(t)
		carried := false
		for _, r := range all {
			if slices.Contains(r.Tags, t) || id.WellFormed() && id.IsSub() && slices.Contains(r.Tags, string(id.Parent())) {
				carried = true
				break
			}
		}
		if !carried {
			also := ""
			if id.WellFormed() && id.IsSub() {
				also = fmt.Sprintf(" (nor %s)", id.Parent())
			}
			d.warnf(at, "load rules that carry the tag, or expect another one",
				`expect rule "*" wants tag %q, which no loaded rule carries%s: no alert can match, so the scenario can only fail`, t, also)
		}
	}
}

// checkRule checks a matcher against the rules index: the rule exists and
// the matcher's priority, tags and fields can match its alerts.
func (d *decoder) checkRule(m Matcher, expect bool) {
	at := &yaml.Node{Line: m.Line, Column: m.Column}
	switch m.Rule {
	case AnyRule:
		if expect {
			d.checkAnyRuleTags(m, at)
		}
		return
	case "":
		return
	case alert.BarrierRule:
		d.errorf(at, "name a candidate rule", "rule %q is the harness's own barrier rule and never counts", m.Rule)
		return
	}
	r, ok := d.rules.Rule(m.Rule)
	if !ok && d.rules.Failed(m.Rule) {
		return // the rules load already says what is wrong with it
	}
	if !ok {
		hint := "check the name against the rules files, or pass the file that defines it with --rules"
		if c := d.rules.Closest(m.Rule, 3); len(c) > 0 {
			hint = fmt.Sprintf("did you mean %q?", strings.Join(c, `" or "`))
		}
		d.errorf(at, hint, "rule %q is not in the loaded rules files", m.Rule)
		return
	}
	if m.Priority != nil && *m.Priority != r.Priority {
		d.errorf(at, fmt.Sprintf("use %s, or drop priority", strings.ToUpper(r.Priority.String())),
			"priority %s does not match rule %q, which has priority %s", strings.ToUpper(m.Priority.String()), r.Name, strings.ToUpper(r.Priority.String()))
	}
	for _, t := range m.Tags {
		if !slices.Contains(r.Tags, t) {
			d.errorf(at, fmt.Sprintf("its tags: %s; drop the tag or add it to the rule", strings.Join(r.Tags, ", ")),
				"rule %q has no tag %q, so no alert of it can match", r.Name, t)
		}
	}
	if expect && !r.Enabled {
		d.warnf(at, "enable it in its rules file if it should fire in production", "rule %q is disabled in its rules file (enabled: false): the harness enables it for the scenarios that name it, but Falco running that file as it is will not raise it", r.Name)
	}
	printed := map[string]bool{}
	for _, f := range outputField.FindAllStringSubmatch(r.Output, -1) {
		printed[f[1]] = true
	}
	for _, f := range m.Fields {
		if printed[f.Field] || slices.Contains(harnessFields, f.Field) {
			continue
		}
		d.warnf(&yaml.Node{Line: f.Line, Column: f.Column}, "match a field the rule's output prints, or one the harness adds: "+strings.Join(harnessFields, ", "),
			"rule %q does not print field %q and the harness does not add it, so no alert carries it", r.Name, f.Field)
	}
}

// RuleIndex is what the loader needs from a rules index (*rules.Index has
// it) to check the rule names scenarios expect and forbid.
type RuleIndex interface {
	Rule(name string) (rules.Rule, bool)
	// Closest returns up to n rule names close to name, for hints.
	Closest(name string, n int) []string
	// Failed reports a rule that is defined but failed to load: naming it
	// is not reported again.
	Failed(name string) bool
}
