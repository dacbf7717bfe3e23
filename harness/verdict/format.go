package verdict

import (
	"fmt"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// Lines of a step's stdout and stderr that Format shows.
const formatTailLines = 3

// keyFields are the output fields Format shows under every alert: enough to
// tell which process of which victim raised it.
var keyFields = []string{alert.FieldCmdline, alert.FieldUser, alert.FieldContainerName}

// Format renders a verdict for a human reading a failed test: why, what was
// expected and what came close, every alert of the attempt, what each step
// did, and how long things took. Errors and inconclusive attempts say so
// first, so they are not read as rule failures.
func Format(v Verdict) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("%s %s", strings.ToUpper(string(v.Outcome)), v.ScenarioID)
	if v.Technique != "" {
		w(" [%s %s]", v.Technique, v.Tactic)
	}
	if v.Benign {
		w(" (benign)")
	}
	switch {
	case v.File != "" && v.Line > 0:
		w(" %s:%d", v.File, v.Line)
	case v.File != "":
		w(" %s", v.File)
	}
	w(" attempt %d\n", v.Attempt)
	w("  reason: %s\n", v.Reason)
	switch v.Outcome {
	case Error:
		w("  the scenario could not emulate the technique: this says nothing about the rules\n")
	case Inconclusive:
		w("  Falco dropped %d syscall events: a missing alert proves nothing, rerun on a quieter machine\n", v.Drops)
	case Skip:
		w("  the scenario was not run: it proves nothing either way\n")
	}
	for _, n := range v.Notes {
		w("  note: %s\n", n)
	}

	if len(v.Expectations) > 0 {
		w("expectations:\n")
		for ei, e := range v.Expectations {
			status := "met   "
			if !e.OK {
				status = "UNMET "
			}
			w("  %s%s", status, describe(e.Matcher))
			if c := criteria(e.Matcher, true); c != "" {
				w(": %s", c)
			}
			if e.OK {
				w(" (%s%s)\n", plural(e.Count, "alert"), alertRefs(e.Matched))
			} else {
				w(" - %s%s\n", e.Problem, alertRefs(e.Matched))
				nearMisses(&b, v, ei)
			}
		}
	}
	if len(v.Forbidden) > 0 {
		w("forbidden alerts that fired:\n")
		for _, f := range v.Forbidden {
			w("  %s", describeHit(f))
			if c := criteria(f.Matcher, false); c != "" {
				w(": %s", c)
			}
			w(" (%s%s)\n", plural(len(f.Matched), "alert"), alertRefs(f.Matched))
		}
	}

	w("alerts (%d; only those of the steps phase are judged):\n", len(v.Alerts))
	if len(v.Alerts) == 0 {
		w("  none\n")
	}
	for i, a := range v.Alerts {
		w("  #%d %s %s %q: %s", i+1, where(a), a.Priority, a.Rule, shorten(oneLine(a.Output), 160))
		if i >= v.Judged {
			w(" (arrived after the verdict)")
		}
		w("\n")
		var kv []string
		for _, f := range keyFields {
			if val, ok := a.Field(f); ok {
				kv = append(kv, fmt.Sprintf("%s=%q", f, val))
			}
		}
		if len(kv) > 0 {
			w("     %s\n", strings.Join(kv, " "))
		}
	}

	if len(v.Steps) > 0 {
		w("steps:\n")
	}
	for _, s := range v.Steps {
		w("  %s/%d %s", s.Phase, s.Index, exitText(s))
		w(" %s", s.Duration.Round(time.Millisecond))
		if s.User != "" && s.Sleep == 0 {
			w(" as %s", s.User)
		}
		if s.TTY {
			w(" with a tty")
		}
		w(": %s\n", shorten(oneLine(s.Command()), 120))
		tail(&b, "stdout", s.Stdout)
		tail(&b, "stderr", s.Stderr)
	}

	if len(v.Latencies) > 0 {
		w("latency (step start -> event -> received):\n")
		for _, l := range v.Latencies {
			step := "step ?"
			if l.Step > 0 {
				step = fmt.Sprintf("step %d", l.Step)
			}
			det := "?"
			if l.Step > 0 {
				det = l.Detection.Round(time.Microsecond).String()
			}
			w("  %q %s: detection %s, delivery %s\n", l.Rule, step, det, l.Delivery.Round(time.Microsecond))
		}
	}
	if v.VictimID != "" {
		w("victim: %s\n", v.VictimID[:min(12, len(v.VictimID))])
	}
	t := v.Timings
	w("timings: victim start %s, setup %s, steps %s, barrier %s, cleanup %s, victim removal %s, total %s\n",
		ms(t.VictimStart), ms(t.Setup), ms(t.Steps), ms(t.Barrier), ms(t.Cleanup), ms(t.VictimRemove), ms(t.Total))
	if v.Drops > 0 && v.Outcome != Inconclusive {
		w("Falco dropped %d syscall events during the attempt\n", v.Drops)
	}
	return b.String()
}

// FormatResult renders every attempt of a scenario that did not pass, after
// one line saying how the attempts went.
func FormatResult(r Result) string {
	var b strings.Builder
	outcomes := make([]string, len(r.Attempts))
	for i, a := range r.Attempts {
		outcomes[i] = string(a.Outcome)
	}
	fmt.Fprintf(&b, "%s %s", strings.ToUpper(string(r.Outcome)), r.ScenarioID)
	if r.Flaky {
		fmt.Fprintf(&b, " is FLAKY")
	}
	fmt.Fprintf(&b, ": %s (%s)\n", plural(len(r.Attempts), "attempt"), strings.Join(outcomes, ", "))
	for _, a := range r.Attempts {
		if a.Outcome != Pass {
			b.WriteString("\n")
			b.WriteString(Format(a))
		}
	}
	return b.String()
}

func nearMisses(b *strings.Builder, v Verdict, expectation int) {
	for _, n := range v.NearMisses {
		if n.Expectation != expectation {
			continue
		}
		got := fmt.Sprintf("%q", shorten(n.Got, 120))
		if n.Missing {
			got = "no such field"
		}
		fmt.Fprintf(b, "      near miss #%d: %s want %s, got %s\n", n.Alert+1, n.Field, n.Want, got)
	}
}

func alertRefs(idx []int) string {
	if len(idx) == 0 {
		return ""
	}
	refs := make([]string, len(idx))
	for i, x := range idx {
		refs[i] = fmt.Sprintf("#%d", x+1)
	}
	return ": " + strings.Join(refs, " ")
}

func where(a alert.Attributed) string {
	switch {
	case a.ByID:
		return fmt.Sprintf("[%s, by container id]", a.Phase)
	case a.Step > 0:
		return fmt.Sprintf("[%s/%d]", a.Phase, a.Step)
	}
	return fmt.Sprintf("[%s]", a.Phase)
}

func exitText(s StepResult) string {
	switch {
	case s.Err != "":
		return "could not run (" + oneLine(s.Err) + ")"
	case s.TimedOut:
		return "timed out, killed"
	case s.Sleep > 0:
		return "slept"
	case len(s.ExpectExit) > 0:
		return fmt.Sprintf("exit %d (expected %s)", s.ExitCode, scenario.ExitText(s.ExpectExit))
	}
	return fmt.Sprintf("exit %d", s.ExitCode)
}

func tail(b *strings.Builder, name, out string) {
	out = strings.TrimRight(out, "\n ")
	if out == "" {
		return
	}
	lines := strings.Split(out, "\n")
	if len(lines) > formatTailLines {
		lines = lines[len(lines)-formatTailLines:]
	}
	for _, l := range lines {
		fmt.Fprintf(b, "      %s| %s\n", name, shorten(l, 160))
	}
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
