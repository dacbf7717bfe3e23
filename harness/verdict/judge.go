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
	// Rehearsal says the attempt ran without Falco (attack-replay
	// rehearse): only the emulation is judged, so the outcome is Pass when
	// every step ran as the scenario declares, else Error.
	Rehearsal bool
	Notes     []string // see Verdict.Notes
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
		Notes:      slices.Clone(in.Notes),
	}
	if in.Rehearsal {
		v.Outcome, v.Reason = decide(in, v, 0)
		return v
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
	if sc.ForbidOthers {
		v.Forbidden = append(v.Forbidden, m.others(sc, v, stepAlerts)...)
	}
	v.Outcome, v.Reason = decide(in, v, len(stepAlerts))
	return v
}

// others are the hits of forbid_others: alerts of candidate rules that no
// expect matcher names, one hit per rule in order of first alert. Alerts a
// forbid matcher already caught are not counted twice; an expect of "*"
// names every candidate, so nothing is left to forbid.
func (x matching) others(sc *scenario.Scenario, v Verdict, stepAlerts []int) []ForbiddenHit {
	named := map[string]bool{}
	for _, e := range sc.Expect {
		if e.Rule == scenario.AnyRule {
			return nil
		}
		named[e.Rule] = true
	}
	caught := map[int]bool{}
	for _, f := range v.Forbidden {
		for _, ai := range f.Matched {
			caught[ai] = true
		}
	}
	var hits []ForbiddenHit
	byRule := map[string]int{}
	for _, ai := range stepAlerts {
		rule := v.Alerts[ai].Rule
		if named[rule] || caught[ai] || !x.ruleMatches(scenario.AnyRule, rule) {
			continue
		}
		i, ok := byRule[rule]
		if !ok {
			i = len(hits)
			byRule[rule] = i
			hits = append(hits, ForbiddenHit{Matcher: scenario.Matcher{Rule: rule}, Others: true})
		}
		hits[i].Matched = append(hits[i].Matched, ai)
	}
	return hits
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
	if sc.Skip != "" && len(v.Steps) == 0 && in.Err == nil {
		return Skip, "skipped: " + oneLine(sc.Skip)
	}
	if in.Err != nil {
		return Error, oneLine(in.Err.Error())
	}
	for _, s := range v.Steps {
		if why := StepError(sc, s); why != "" {
			return Error, why
		}
	}
	if in.Rehearsal {
		return Pass, fmt.Sprintf("rehearsed: %s ran as declared (no Falco: alerts not judged)", plural(len(v.Steps), "step"))
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
		hard = append(hard, fmt.Sprintf("forbidden %s fired (%s)", describeHit(f), plural(len(f.Matched), "alert")))
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

// StepError says why a setup step or step did not run as the scenario
// declares, which makes the attempt an error; "" when it did (cleanup steps
// are never judged). The exec could not be made, it timed out, it ended with
// another exit status than its exit: lists, or, with no exit:, a setup step
// exited non-zero or a step exited 126 or 127 (command not executable or not
// found: nothing was emulated).
func StepError(sc *scenario.Scenario, s StepResult) string {
	if s.Phase != alert.PhaseSetup && s.Phase != alert.PhaseSteps {
		return ""
	}
	name := stepName(sc, s)
	switch {
	case s.Err != "":
		return fmt.Sprintf("%s could not run: %s", name, oneLine(s.Err))
	case s.TimedOut:
		return fmt.Sprintf("%s timed out after %s and was killed", name, stepTimeout(sc, s))
	case s.Sleep > 0:
		return ""
	case len(s.ExpectExit) > 0:
		if !slices.Contains(s.ExpectExit, s.ExitCode) {
			return fmt.Sprintf("%s exited %d%s, expected %s%s", name, s.ExitCode, exitMeaning(s.ExitCode), scenario.ExitText(s.ExpectExit), lastLine(s.Stderr))
		}
	case s.Phase == alert.PhaseSetup && s.ExitCode != 0:
		return fmt.Sprintf("%s exited %d%s", name, s.ExitCode, lastLine(s.Stderr))
	case s.ExitCode == 126 || s.ExitCode == 127:
		return fmt.Sprintf("%s exited %d%s%s", name, s.ExitCode, exitMeaning(s.ExitCode), lastLine(s.Stderr))
	}
	return ""
}

// exitMeaning explains the exit statuses a shell or runtime gives a command
// it could not run.
func exitMeaning(code int) string {
	switch code {
	case 126:
		return " (command not executable)"
	case 127:
		return " (command not found)"
	}
	return ""
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
	return fmt.Sprintf("%s %q", name, shorten(s.Command(), 60))
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
// scenario flaky. A skipped scenario has skip attempts only (the runner
// makes one, never judged flaky); a skip among passes would still keep the
// scenario from passing. attempts must not be empty.
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
	case Skip:
		return 1
	case Inconclusive:
		return 2
	case Error:
		return 3
	}
	return 4
}
