package report

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attack-replay/attack-replay/harness/scenario"
)

// hitString describes a forbidden hit: its matcher, or for forbid_others
// the rule no expect names.
func (f ForbiddenHit) hitString() string {
	if f.Others {
		return fmt.Sprintf("rule %q (forbid_others: no expect names it)", f.Matcher.Rule)
	}
	return f.Matcher.String()
}

// String describes the matcher the way a scenario author wrote it:
// rule "Disable recovery features", priority Critical, proc.name equals "systemctl".
func (m Matcher) String() string {
	var parts []string
	if m.Rule == scenario.AnyRule {
		parts = append(parts, "any candidate rule")
	} else {
		parts = append(parts, fmt.Sprintf("rule %q", m.Rule))
	}
	if m.Priority != nil {
		parts = append(parts, "priority "+m.Priority.String())
	}
	if m.Output != nil {
		parts = append(parts, "output "+m.Output.String())
	}
	for _, f := range m.Fields {
		parts = append(parts, f.Field+" "+f.TextMatch.String())
	}
	if len(m.Tags) > 0 {
		parts = append(parts, "tags ["+strings.Join(m.Tags, ", ")+"]")
	}
	switch {
	case m.Max != nil && *m.Max == max(m.Min, 1):
		parts = append(parts, fmt.Sprintf("exactly %d", *m.Max))
	case m.Max != nil:
		parts = append(parts, fmt.Sprintf("%d to %d alerts", max(m.Min, 1), *m.Max))
	case m.Min > 1:
		parts = append(parts, fmt.Sprintf("at least %d alerts", m.Min))
	}
	return strings.Join(parts, ", ")
}

func (t TextMatch) String() string { return fmt.Sprintf("%s %q", t.Kind, t.Value) }

// formatDuration prints latencies and step times at a precision a person
// compares at a glance; "-" when there is nothing to show.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
}

// truncate shortens s to at most n runes on one line, saying how much was cut.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + fmt.Sprintf("… (+%d chars)", len(r)-n)
}

// lastLine is the last non-empty line of a step's output tail.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// stepNote says why a step deserves a look: it could not run, timed out, or
// printed an error.
func stepNote(st Step) string {
	switch {
	case st.Err != "":
		return st.Err
	case st.TimedOut:
		return "timed out"
	case st.Sleep > 0:
		return ""
	case len(st.ExpectExit) > 0 && !slices.Contains(st.ExpectExit, st.ExitCode):
		return strings.TrimSuffix("expected exit "+scenario.ExitText(st.ExpectExit)+": "+lastLine(st.Stderr), ": ")
	case len(st.ExpectExit) > 0:
		return ""
	case st.ExitCode == 126:
		return "not executable: " + lastLine(st.Stderr)
	case st.ExitCode == 127:
		return "command not found: " + lastLine(st.Stderr)
	case st.ExitCode != 0:
		return lastLine(st.Stderr)
	}
	return ""
}

// attemptsLine lists the outcomes of every attempt when there were several.
func attemptsLine(s Scenario, d Attempt) string {
	if len(s.Attempts) <= 1 {
		return ""
	}
	var outs []string
	for _, a := range s.Attempts {
		outs = append(outs, string(a.Outcome))
	}
	return fmt.Sprintf("attempt %d of %d (%s)", d.Attempt, len(s.Attempts), strings.Join(outs, ", "))
}

// dropsWarning is the sentence shown first when drops make a run untrustworthy.
func (r *Report) dropsWarning() string {
	if r.Summary.Trustworthy {
		return ""
	}
	return fmt.Sprintf("Falco dropped %d syscall events during this run, so a missing alert proves nothing. "+
		"Rerun on a less loaded host or give Falco larger buffers before trusting a fail.", r.Summary.Drops)
}

// plural says "1 alert", "2 alerts".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
