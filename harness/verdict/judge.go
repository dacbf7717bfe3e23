package verdict

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// Input is everything Judge needs about one attempt of one scenario.
type Input struct {
	Scenario *scenario.Scenario
	Attempt  int // 1-based
	// Alerts are the attempt's alerts in arrival order, as recorded when the
	// barrier arrived. Only those of the steps phase are judged.
	Alerts []alert.Attributed
	Steps  []StepResult // setup and steps, in execution order
	// Candidates are the rule names "*" stands for. Empty means every rule
	// but the barrier rule: a caller that forgot the list must not turn each
	// `forbid: "*"` into a silent pass.
	Candidates []string
	Drops      int64 // syscall events Falco dropped during the attempt
	Timings    Timings
	VictimID   string
	// Err says why the attempt could not be completed: the victim did not
	// start, the barrier never arrived, Falco died, the run was cancelled.
	// It makes the outcome Error with Err's text as the reason.
	Err error
}

// Judge decides the outcome of one attempt. It is pure: everything it looks
// at is in the input.
func Judge(in Input) Verdict {
	sc := in.Scenario
	v := Verdict{
		ScenarioID: sc.ID,
		Technique:  string(sc.Technique),
		Tactic:     string(sc.Tactic),
		Benign:     sc.Benign,
		File:       sc.File,
		Line:       sc.Line,
		Attempt:    in.Attempt,
		Alerts:     slices.Clone(in.Alerts),
		Judged:     len(in.Alerts),
		Steps:      slices.Clone(in.Steps),
		Timings:    in.Timings,
		Drops:      in.Drops,
		VictimID:   in.VictimID,
	}
	m := matching{candidates: in.Candidates}

	var stepAlerts []int
	for i, a := range v.Alerts {
		if a.Phase == alert.PhaseSteps && a.Rule != alert.BarrierRule {
			stepAlerts = append(stepAlerts, i)
		}
	}

	latencyDone := map[int]bool{}
	for ei, e := range sc.Expect {
		res := ExpectationResult{Matcher: e}
		for _, ai := range stepAlerts {
			d, ruleMatched := m.differ(e, v.Alerts[ai].Alert)
			switch {
			case d == nil:
				res.Matched = append(res.Matched, ai)
				if !latencyDone[ai] {
					latencyDone[ai] = true
					v.Latencies = append(v.Latencies, latency(v.Alerts[ai], v.Steps))
				}
			case ruleMatched:
				d.Expectation, d.Alert = ei, ai
				v.NearMisses = append(v.NearMisses, *d)
			}
		}
		res.Count = len(res.Matched)
		res.OK, res.Problem = countOK(res.Count, e.Min, e.Max)
		v.Expectations = append(v.Expectations, res)
	}
	for _, f := range sc.Forbid {
		var hit []int
		for _, ai := range stepAlerts {
			if d, _ := m.differ(f, v.Alerts[ai].Alert); d == nil {
				hit = append(hit, ai)
			}
		}
		if len(hit) > 0 {
			v.Forbidden = append(v.Forbidden, ForbiddenHit{Matcher: f, Matched: hit})
		}
	}
	v.Outcome, v.Reason = decide(in, v, len(stepAlerts))
	return v
}

func countOK(n, lo int, hi *int) (bool, string) {
	switch {
	case n == 0 && lo > 0:
		return false, "no alert matched"
	case n < lo:
		return false, fmt.Sprintf("%s matched, at least %d required", plural(n, "alert"), lo)
	case hi != nil && n > *hi:
		return false, fmt.Sprintf("%s matched, at most %d allowed", plural(n, "alert"), *hi)
	}
	return true, ""
}

// decide turns what was found into an outcome and its one-line reason.
// Errors come first: a scenario that could not emulate says nothing about
// the rules, whatever alerts it raised.
func decide(in Input, v Verdict, stepAlerts int) (Outcome, string) {
	sc := in.Scenario
	if in.Err != nil {
		return Error, oneLine(in.Err.Error())
	}
	for _, s := range v.Steps {
		if s.Phase != alert.PhaseSetup && s.Phase != alert.PhaseSteps {
			continue
		}
		name := stepName(sc, s)
		switch {
		case s.Err != "":
			return Error, fmt.Sprintf("%s could not run: %s", name, oneLine(s.Err))
		case s.TimedOut:
			return Error, fmt.Sprintf("%s timed out after %s and was killed", name, stepTimeout(sc, s))
		case s.Phase == alert.PhaseSetup && s.ExitCode != 0:
			return Error, fmt.Sprintf("%s exited %d%s", name, s.ExitCode, lastLine(s.Stderr))
		case s.ExitCode == 126:
			return Error, fmt.Sprintf("%s exited 126 (command not executable)%s", name, lastLine(s.Stderr))
		case s.ExitCode == 127:
			return Error, fmt.Sprintf("%s exited 127 (command not found)%s", name, lastLine(s.Stderr))
		}
	}

	// missing: failures that drops could explain; hard: those they cannot.
	var missing, hard []string
	for ei, e := range v.Expectations {
		if e.OK {
			continue
		}
		msg := fmt.Sprintf("expected %s: %s", describe(e.Matcher), e.Problem)
		if e.Count < e.Matcher.Min {
			missing = append(missing, msg+nearMissHint(v.NearMisses, ei))
		} else {
			hard = append(hard, msg)
		}
	}
	for _, f := range v.Forbidden {
		hard = append(hard, fmt.Sprintf("forbidden %s fired (%s)", describe(f.Matcher), plural(len(f.Matched), "alert")))
	}
	for _, s := range v.Steps {
		if s.Phase == alert.PhaseSteps && s.ExitCode != 0 && s.Index >= 1 && s.Index <= len(sc.Steps) && sc.Steps[s.Index-1].MustSucceed {
			hard = append(hard, fmt.Sprintf("%s must succeed but exited %d%s", stepName(sc, s), s.ExitCode, lastLine(s.Stderr)))
		}
	}
	if in.Drops > 0 && len(hard) == 0 {
		why := "a pass cannot be trusted"
		if len(missing) > 0 {
			why = strings.Join(missing, "; ")
		}
		return Inconclusive, fmt.Sprintf("Falco dropped %d syscall events during the attempt: %s", in.Drops, why)
	}
	if len(hard)+len(missing) > 0 {
		return Fail, strings.Join(append(hard, missing...), "; ")
	}
	switch {
	case len(sc.Expect) == 0:
		return Pass, fmt.Sprintf("no forbidden alert among %s of the steps", plural(stepAlerts, "alert"))
	case len(sc.Forbid) == 0:
		return Pass, fmt.Sprintf("%s met", plural(len(sc.Expect), "expectation"))
	}
	return Pass, fmt.Sprintf("%s met, no forbidden alert", plural(len(sc.Expect), "expectation"))
}

// nearMissHint summarises the near misses of one expectation for a reason
// line: how many, and what the first one got wrong.
func nearMissHint(nm []NearMiss, expectation int) string {
	var first *NearMiss
	n := 0
	for i := range nm {
		if nm[i].Expectation == expectation {
			if first == nil {
				first = &nm[i]
			}
			n++
		}
	}
	if first == nil {
		return ""
	}
	got := fmt.Sprintf("%q", shorten(first.Got, 60))
	if first.Missing {
		got = "no such field"
	}
	count := "1 near miss"
	if n > 1 {
		count = fmt.Sprintf("%d near misses", n)
	}
	return fmt.Sprintf(" (%s, e.g. alert #%d: %s want %s, got %s)", count, first.Alert+1, first.Field, first.Want, got)
}

// latency measures one matched alert: from the start of the step whose
// token it carries to Falco's event time, and from there to its arrival.
func latency(a alert.Attributed, steps []StepResult) Latency {
	ev := a.EventTime()
	l := Latency{Rule: a.Rule, Delivery: a.ReceivedAt.Sub(ev)}
	if a.ByID {
		return l
	}
	for _, s := range steps {
		if s.Phase == a.Phase && s.Index == a.Step {
			l.Step = a.Step
			l.Detection = ev.Sub(s.Start)
		}
	}
	return l
}

// stepName names a step for a reason line: phase, index, the YAML line and
// the command, so the user finds it without opening Go code.
func stepName(sc *scenario.Scenario, s StepResult) string {
	name := fmt.Sprintf("step %d", s.Index)
	if s.Phase != alert.PhaseSteps {
		name = fmt.Sprintf("%s step %d", s.Phase, s.Index)
	}
	if st, ok := scenarioStep(sc, s); ok && st.Line > 0 {
		name += fmt.Sprintf(" (line %d)", st.Line)
	}
	return fmt.Sprintf("%s %q", name, shorten(s.Run, 60))
}

func scenarioStep(sc *scenario.Scenario, s StepResult) (scenario.Step, bool) {
	var list []scenario.Step
	switch s.Phase {
	case alert.PhaseSetup:
		list = sc.Setup
	case alert.PhaseSteps:
		list = sc.Steps
	case alert.PhaseCleanup:
		list = sc.Cleanup
	}
	if s.Index < 1 || s.Index > len(list) {
		return scenario.Step{}, false
	}
	return list[s.Index-1], true
}

func stepTimeout(sc *scenario.Scenario, s StepResult) time.Duration {
	if st, ok := scenarioStep(sc, s); ok && st.Timeout > 0 {
		return st.Timeout
	}
	return scenario.DefaultStepTimeout
}

// lastLine is the last non-empty line of a command's stderr, as ": text",
// or "" when there is none.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n "), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	if l == "" {
		return ""
	}
	return ": " + shorten(l, 120)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// Summarise gathers the attempts of one scenario. Outcome is the one every
// attempt had, or the worst (see Outcome) when they differ, which makes the
// scenario flaky. attempts must not be empty.
func Summarise(attempts []Verdict) Result {
	r := Result{Attempts: attempts}
	if len(attempts) == 0 {
		return r
	}
	r.ScenarioID = attempts[0].ScenarioID
	r.Outcome = attempts[0].Outcome
	for _, a := range attempts[1:] {
		if a.Outcome != r.Outcome {
			r.Flaky = true
		}
		if rank(a.Outcome) > rank(r.Outcome) {
			r.Outcome = a.Outcome
		}
	}
	return r
}

func rank(o Outcome) int {
	switch o {
	case Pass:
		return 0
	case Inconclusive:
		return 1
	case Error:
		return 2
	}
	return 3
}
