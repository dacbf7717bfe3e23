package verdict

import (
	"fmt"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// matching applies expect and forbid matchers to alerts.
type matching struct {
	candidates []string // what "*" stands for; empty: every rule but the barrier
}

// differ returns nil when m matches a, else the first criterion that differs,
// in the order rule, priority, output, fields (file order), tags. ruleMatched
// says whether the rule name matched, which makes a difference a near miss.
func (x matching) differ(m scenario.Matcher, a alert.Alert) (d *NearMiss, ruleMatched bool) {
	if !x.ruleMatches(m.Rule, a.Rule) {
		return &NearMiss{Field: "rule", Want: fmt.Sprintf("%q", m.Rule), Got: a.Rule}, false
	}
	if m.Priority != nil && *m.Priority != a.Priority {
		return &NearMiss{Field: "priority", Want: m.Priority.String(), Got: a.Priority.String()}, true
	}
	if m.Output != nil && !textMatches(*m.Output, a.Output) {
		return &NearMiss{Field: "output", Want: describeText(*m.Output), Got: a.Output}, true
	}
	for _, f := range m.Fields {
		got, ok := a.Field(f.Field)
		if !ok {
			// A field Falco did not send never matches, whatever the
			// matcher: a regex like ".*" must not pass on an absent field.
			return &NearMiss{Field: f.Field, Want: describeText(f.TextMatch), Missing: true}, true
		}
		if !textMatches(f.TextMatch, got) {
			return &NearMiss{Field: f.Field, Want: describeText(f.TextMatch), Got: got}, true
		}
	}
	for _, t := range m.Tags {
		if !hasTag(m.Rule, a.Tags, t) {
			return &NearMiss{Field: "tags", Want: fmt.Sprintf("has %q", t), Got: strings.Join(a.Tags, ", ")}, true
		}
	}
	return nil, true
}

func (x matching) ruleMatches(want, got string) bool {
	if got == alert.BarrierRule {
		return false
	}
	if want != scenario.AnyRule {
		return want == got
	}
	return len(x.candidates) == 0 || slices.Contains(x.candidates, got)
}

// hasTag reports whether an alert's tags hold tag. Under rule "*" a
// sub-technique id is also held by a tag of its parent technique: "some
// candidate rule for T1070.003 fired" counts a rule that covers all of T1070
// (imported Atomic Red Team scenarios expect this way). A named rule's tags
// are known and checked exactly.
func hasTag(rule string, tags []string, tag string) bool {
	if slices.Contains(tags, tag) {
		return true
	}
	id := attack.TechniqueID(tag)
	return rule == scenario.AnyRule && id.WellFormed() && id.IsSub() && slices.Contains(tags, string(id.Parent()))
}

// tagText names the tags a matcher asks for, with the parents "*" accepts.
func tagText(m scenario.Matcher) string {
	out := make([]string, len(m.Tags))
	for i, t := range m.Tags {
		out[i] = t
		if id := attack.TechniqueID(t); m.Rule == scenario.AnyRule && id.WellFormed() && id.IsSub() {
			out[i] += " (or " + string(id.Parent()) + ")"
		}
	}
	return strings.Join(out, ", ")
}

func textMatches(m scenario.TextMatch, s string) bool {
	switch m.Kind {
	case scenario.Equals:
		return s == m.Value
	case scenario.Contains:
		return strings.Contains(s, m.Value)
	case scenario.Regex:
		return m.Re != nil && m.Re.MatchString(s)
	}
	return false
}

func describeText(m scenario.TextMatch) string { return fmt.Sprintf("%s %q", m.Kind, m.Value) }

// describeHit names a forbidden hit in a reason line.
func describeHit(f ForbiddenHit) string {
	if f.Others {
		return fmt.Sprintf("%q (forbid_others: no expect names it)", f.Matcher.Rule)
	}
	return describe(f.Matcher)
}

// describe names a matcher in a reason line: its rule and where it is.
func describe(m scenario.Matcher) string {
	s := fmt.Sprintf("%q", m.Rule)
	if m.Rule == scenario.AnyRule {
		s = "any candidate rule"
	}
	if m.Line > 0 {
		s += fmt.Sprintf(" (line %d)", m.Line)
	}
	return s
}

// criteria lists every criterion of a matcher beyond its rule, for Format.
func criteria(m scenario.Matcher, expect bool) string {
	var c []string
	if m.Priority != nil {
		c = append(c, "priority "+m.Priority.String())
	}
	if m.Output != nil {
		c = append(c, "output "+describeText(*m.Output))
	}
	for _, f := range m.Fields {
		c = append(c, f.Field+" "+describeText(f.TextMatch))
	}
	if len(m.Tags) > 0 {
		c = append(c, "tags "+tagText(m))
	}
	if expect {
		switch {
		case m.Max != nil && *m.Max == m.Min:
			c = append(c, fmt.Sprintf("exactly %d", m.Min))
		case m.Max != nil:
			c = append(c, fmt.Sprintf("%d to %d alerts", m.Min, *m.Max))
		case m.Min != 1:
			c = append(c, fmt.Sprintf("at least %d", m.Min))
		}
	}
	return strings.Join(c, ", ")
}
