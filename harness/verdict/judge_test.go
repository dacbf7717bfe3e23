package verdict

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// Recorded alerts of a real Falco (fixtures/falco, copied unchanged from the
// shared samples). Lines of http-0.40.0.jsonl used below, 1-based:
//
//	2  Disable recovery features  Critical  root  rm -rf /tmp/x
//	3  Any rm                     Notice    root  rm -rf /tmp/x
//	4  Disable recovery features  Critical  root  systemctl disable rescue.service
//	5  Disable recovery features  Critical  <NA>  systemctl disable recovery-mode.service
//	14-23 Test rm -rf             Warning   root  rm -rf /tmp/lat1..10 (proc.pid, no proc.name)
//
// and of http-0.44.1.jsonl: 2  Read sensitive file untrusted  cat /etc/shadow
// (proc.name, fd.name, container.name).
func samples(t testing.TB, name string) []alert.Alert {
	t.Helper()
	path := filepath.Join("..", "..", "fixtures", "falco", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open sample: %v (fixtures/falco/README.md lists the recorded samples)", err)
	}
	defer f.Close()
	as, err := alert.DecodeJSONL(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

var (
	http040 []alert.Alert
	http044 []alert.Alert
)

// line returns the alert on a 1-based line of http-0.40.0.jsonl.
func line(t testing.TB, n int) alert.Alert {
	t.Helper()
	if http040 == nil {
		http040 = samples(t, "http-0.40.0.jsonl")
	}
	return http040[n-1]
}

func line44(t testing.TB, n int) alert.Alert {
	t.Helper()
	if http044 == nil {
		http044 = samples(t, "http-0.44.1.jsonl")
	}
	return http044[n-1]
}

func at(a alert.Alert, p alert.Phase, step int) alert.Attributed {
	return alert.Attributed{Alert: a, Phase: p, Step: step}
}

func prio(p rules.Priority) *rules.Priority { return &p }
func ptr(n int) *int                        { return &n }

func eq(v string) scenario.TextMatch { return scenario.TextMatch{Kind: scenario.Equals, Value: v} }
func contains(v string) scenario.TextMatch {
	return scenario.TextMatch{Kind: scenario.Contains, Value: v}
}
func regex(v string) scenario.TextMatch {
	return scenario.TextMatch{Kind: scenario.Regex, Value: v, Re: regexp.MustCompile(v)}
}
func field(name string, m scenario.TextMatch) scenario.FieldMatch {
	return scenario.FieldMatch{Field: name, TextMatch: m}
}

const seedRule = "Disable recovery features"

func expect(rule string, opts ...func(*scenario.Matcher)) scenario.Matcher {
	m := scenario.Matcher{Rule: rule, Min: 1}
	for _, o := range opts {
		o(&m)
	}
	return m
}

func forbid(rule string, opts ...func(*scenario.Matcher)) scenario.Matcher {
	m := scenario.Matcher{Rule: rule}
	for _, o := range opts {
		o(&m)
	}
	return m
}

func withFields(f ...scenario.FieldMatch) func(*scenario.Matcher) {
	return func(m *scenario.Matcher) { m.Fields = f }
}
func withPriority(p rules.Priority) func(*scenario.Matcher) {
	return func(m *scenario.Matcher) { m.Priority = prio(p) }
}
func withOutput(o scenario.TextMatch) func(*scenario.Matcher) {
	return func(m *scenario.Matcher) { m.Output = &o }
}
func withTags(tags ...string) func(*scenario.Matcher) {
	return func(m *scenario.Matcher) { m.Tags = tags }
}
func withCount(lo int, hi *int) func(*scenario.Matcher) {
	return func(m *scenario.Matcher) { m.Min, m.Max = lo, hi }
}

func sc(steps []scenario.Step, exp, forb []scenario.Matcher) *scenario.Scenario {
	return &scenario.Scenario{
		ID: "disable-rescue", Technique: "T1490", Tactic: "impact",
		File: "scenarios/impact/T1490.yaml", Line: 4,
		Setup: []scenario.Step{{Run: "useradd -m analyst", Line: 8}},
		Steps: steps, Expect: exp, Forbid: forb,
		Cleanup: []scenario.Step{{Run: "userdel -r analyst", Line: 14}},
	}
}

func oneStep(run string) []scenario.Step { return []scenario.Step{{Run: run, Line: 10}} }

func ok(p alert.Phase, i int, run string) StepResult {
	return StepResult{Phase: p, Index: i, Run: run, User: "root", ExitCode: 0}
}

func TestJudgeOutcomes(t *testing.T) {
	rmStep := oneStep("rm -rf /tmp/x")
	setupOK := ok(alert.PhaseSetup, 1, "useradd -m analyst")
	stepsOK := []StepResult{setupOK, ok(alert.PhaseSteps, 1, "rm -rf /tmp/x")}
	withExit := func(code int, stderr string) []StepResult {
		s := ok(alert.PhaseSteps, 1, "rm -rf /tmp/x")
		s.ExitCode, s.Stderr = code, stderr
		return []StepResult{setupOK, s}
	}
	// expecting gives the step of withExit the exit statuses it must end with.
	expecting := func(steps []StepResult, codes ...int) []StepResult {
		steps[len(steps)-1].ExpectExit = codes
		return steps
	}
	latN := func(from, to int) []alert.Attributed { // Test rm -rf alerts of step 1
		var as []alert.Attributed
		for n := from; n <= to; n++ {
			as = append(as, at(line(t, n), alert.PhaseSteps, 1))
		}
		return as
	}

	tests := []struct {
		name       string
		scenario   *scenario.Scenario
		alerts     []alert.Attributed
		steps      []StepResult
		candidates []string
		drops      int64
		err        error
		want       Outcome
		reason     string // substring of the reason
	}{
		{
			name:     "expected rule with priority and cmdline fires: pass",
			scenario: sc(oneStep("systemctl disable rescue.service"), []scenario.Matcher{expect(seedRule, withPriority(rules.Critical), withFields(field("proc.cmdline", contains("rescue.service"))))}, nil),
			alerts:   []alert.Attributed{at(line(t, 4), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Pass, reason: "1 expectation met",
		},
		{
			name:     "expected rule silent: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 3), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail, reason: `expected "Disable recovery features": no alert matched`,
		},
		{
			name:     "benign forbid on the seed rule, root rm -rf fired it: fail",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(seedRule)}),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1), at(line(t, 3), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail, reason: `forbidden "Disable recovery features" fired (1 alert)`,
		},
		{
			name:     "forbidden rule fired only during setup: pass",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(seedRule)}),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSetup, 1), at(line(t, 3), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Pass, reason: "no forbidden alert among 1 alert of the steps",
		},
		{
			name:     "forbidden rule fired only during cleanup: pass",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(seedRule)}),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseCleanup, 1)},
			steps:    stepsOK, want: Pass,
		},
		{
			name:     "expected alert seen only in setup does not count: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSetup, 1)},
			steps:    stepsOK, want: Fail, reason: "no alert matched",
		},
		{
			name:       "forbid * ignores rules that are not candidates: pass",
			scenario:   sc(rmStep, nil, []scenario.Matcher{forbid(scenario.AnyRule)}),
			alerts:     []alert.Attributed{at(line(t, 3), alert.PhaseSteps, 1)},
			candidates: []string{seedRule},
			steps:      stepsOK, want: Pass,
		},
		{
			name:       "forbid * catches a candidate rule: fail",
			scenario:   sc(rmStep, nil, []scenario.Matcher{forbid(scenario.AnyRule)}),
			alerts:     []alert.Attributed{at(line(t, 3), alert.PhaseSteps, 1), at(line(t, 2), alert.PhaseSteps, 1)},
			candidates: []string{seedRule},
			steps:      stepsOK, want: Fail, reason: "forbidden any candidate rule fired (1 alert)",
		},
		{
			name:     "forbid * without a candidate list counts every rule: fail",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(scenario.AnyRule)}),
			alerts:   []alert.Attributed{at(line(t, 3), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail, reason: "forbidden any candidate rule fired",
		},
		{
			name:     "forbid * never counts the barrier rule: pass",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(scenario.AnyRule)}),
			alerts:   []alert.Attributed{at(line(t, 1), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Pass,
		},
		{
			name:     "user.name regex accepts <NA> for a non-root user: pass",
			scenario: sc(oneStep("systemctl disable recovery-mode.service"), []scenario.Matcher{expect(seedRule, withFields(field("user.name", regex(`^(analyst|<NA>)$`))))}, nil),
			alerts:   []alert.Attributed{at(line(t, 5), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Pass,
		},
		{
			name:     "user.name equals a name Falco could not resolve: fail",
			scenario: sc(oneStep("systemctl disable recovery-mode.service"), []scenario.Matcher{expect(seedRule, withFields(field("user.name", eq("analyst"))))}, nil),
			alerts:   []alert.Attributed{at(line(t, 5), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail,
		},
		{
			name:     "a missing field never matches, not even .*: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule, withFields(field("fd.name", regex(`.*`))))}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail,
		},
		{
			name:     "a forbid on a missing field does not fire: pass",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(seedRule, withFields(field("proc.name", regex(`.*`))))}),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Pass,
		},
		{
			name:     "output contains, fields equals, tags: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule, withOutput(contains("non-recoverable")), withFields(field("proc.cmdline", eq("rm -rf /tmp/x")), field("container.name", eq("victim-demo"))), withTags("T1490", "mitre_impact"))}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Pass,
		},
		{
			name:     "output equals the whole line: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect("Any rm", withOutput(eq("20:44:19.906857153: Notice rm seen rm -rf /tmp/x")))}, nil),
			alerts:   []alert.Attributed{at(line(t, 3), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Pass,
		},
		{
			name:     "output regex does not match: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect("Any rm", withOutput(regex(`rm seen rm -rf /etc\b`)))}, nil),
			alerts:   []alert.Attributed{at(line(t, 3), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail,
		},
		{
			name:     "tag the alert lacks: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule, withTags("T1485"))}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail,
		},
		{
			name:     "wrong priority: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect("Any rm", withPriority(rules.Warning))}, nil),
			alerts:   []alert.Attributed{at(line(t, 3), alert.PhaseSteps, 1)},
			steps:    stepsOK, want: Fail,
		},
		{
			name:     "count within min and max: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect("Test rm -rf", withCount(2, ptr(3)))}, nil),
			alerts:   latN(14, 16),
			steps:    stepsOK, want: Pass,
		},
		{
			name:     "more than max: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect("Test rm -rf", withCount(2, ptr(3)))}, nil),
			alerts:   latN(14, 17),
			steps:    stepsOK, want: Fail, reason: "4 alerts matched, at most 3 allowed",
		},
		{
			name:     "fewer than min: fail",
			scenario: sc(rmStep, []scenario.Matcher{expect("Test rm -rf", withCount(2, ptr(3)))}, nil),
			alerts:   latN(14, 14),
			steps:    stepsOK, want: Fail, reason: "1 alert matched, at least 2 required",
		},
		{
			name:     "max 0 on an expect: fail when it fires",
			scenario: sc(rmStep, []scenario.Matcher{expect("Test rm -rf", withCount(0, ptr(0)))}, nil),
			alerts:   latN(14, 14),
			steps:    stepsOK, want: Fail, reason: "1 alert matched, at most 0 allowed",
		},
		{
			name:     "victim did not start: error",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			err:      errors.New("start victim: image \"attack-replay/victim:bookworm\" not found"),
			want:     Error, reason: "start victim: image",
		},
		{
			name:     "barrier never arrived: error, even with a forbidden alert",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(seedRule)}),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    stepsOK,
			err:      errors.New("barrier: not received within 15s (falco: running)"),
			want:     Error, reason: "barrier: not received",
		},
		{
			name:     "setup step failed: error",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			steps:    []StepResult{{Phase: alert.PhaseSetup, Index: 1, Run: "useradd -m analyst", ExitCode: 9, Stderr: "useradd: user 'analyst' already exists\n"}},
			want:     Error, reason: `setup step 1 (line 8) "useradd -m analyst" exited 9: useradd: user 'analyst' already exists`,
		},
		{
			name:     "step command not found: error",
			scenario: sc(oneStep("systemctl disable rescue.service"), []scenario.Matcher{expect(seedRule)}, nil),
			steps:    []StepResult{setupOK, {Phase: alert.PhaseSteps, Index: 1, Run: "systemctl disable rescue.service", ExitCode: 127, Stderr: "sh: 1: systemctl: not found\n"}},
			want:     Error, reason: `step 1 (line 10) "systemctl disable rescue.service" exited 127 (command not found): sh: 1: systemctl: not found`,
		},
		{
			name:     "step command not executable: error, even when its forbidden alert fired",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(seedRule)}),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    withExit(126, "sh: 1: /dev/shm/x: Permission denied"),
			want:     Error, reason: "exited 126 (command not executable)",
		},
		{
			name:     "step timed out: error",
			scenario: sc([]scenario.Step{{Run: "sleep 60", Timeout: 2 * time.Second, Line: 10}}, []scenario.Matcher{expect(seedRule)}, nil),
			steps:    []StepResult{setupOK, {Phase: alert.PhaseSteps, Index: 1, Run: "sleep 60", ExitCode: -1, TimedOut: true}},
			want:     Error, reason: `step 1 (line 10) "sleep 60" timed out after 2s and was killed`,
		},
		{
			name:     "exec could not run: error",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			steps:    []StepResult{setupOK, {Phase: alert.PhaseSteps, Index: 1, Run: "rm -rf /tmp/x", ExitCode: -1, Err: "exec in victim: container is not running"}},
			want:     Error, reason: "could not run: exec in victim: container is not running",
		},
		{
			name:     "cleanup failure is never judged: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    append(stepsOK, StepResult{Phase: alert.PhaseCleanup, Index: 1, Run: "userdel -r analyst", ExitCode: 127}),
			want:     Pass,
		},
		{
			name:     "non-zero exit without must_succeed is only recorded: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    withExit(1, "rm: cannot remove"),
			want:     Pass,
		},
		{
			name:     "must_succeed (exit 0) step exited non-zero: error",
			scenario: sc([]scenario.Step{{Run: "rm -rf /tmp/x", Exit: []int{0}, Line: 10}}, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    expecting(withExit(1, "rm: cannot remove '/tmp/x': Read-only file system"), 0),
			want:     Error, reason: `step 1 (line 10) "rm -rf /tmp/x" exited 1, expected 0: rm: cannot remove '/tmp/x': Read-only file system`,
		},
		{
			name:     "an exit status among those expected: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    expecting(withExit(1, ""), 0, 1),
			want:     Pass,
		},
		{
			name:     "an expected 126 is a legitimate outcome: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    expecting(withExit(126, "sh: 1: /dev/shm/x: Permission denied"), 126),
			want:     Pass,
		},
		{
			name:     "an unexpected 127 says what it means and what was expected: error",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			steps:    expecting(withExit(127, "sh: 1: nope: not found"), 0, 1, 2),
			want:     Error, reason: `step 1 (line 10) "rm -rf /tmp/x" exited 127 (command not found), expected one of 0, 1, 2: sh: 1: nope: not found`,
		},
		{
			name:     "a setup step with its own exit statuses: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps: []StepResult{{Phase: alert.PhaseSetup, Index: 1, Run: "pkill sshd", ExitCode: 1, ExpectExit: []int{0, 1}},
				ok(alert.PhaseSteps, 1, "rm -rf /tmp/x")},
			want: Pass,
		},
		{
			name:     "a sleep step is never an exit problem: pass",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 2)},
			steps:    []StepResult{{Phase: alert.PhaseSteps, Index: 1, Sleep: time.Second}, ok(alert.PhaseSteps, 2, "rm -rf /tmp/x")},
			want:     Pass,
		},
		{
			name:     "drops turn a pass inconclusive",
			scenario: sc(rmStep, nil, []scenario.Matcher{forbid(seedRule)}),
			steps:    stepsOK, drops: 12,
			want: Inconclusive, reason: "Falco dropped 12 syscall events during the attempt: a pass cannot be trusted",
		},
		{
			name:     "drops turn a missing alert inconclusive",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			steps:    stepsOK, drops: 3,
			want: Inconclusive, reason: `dropped 3 syscall events during the attempt: expected "Disable recovery features": no alert matched`,
		},
		{
			name:     "drops do not excuse a forbidden alert that fired",
			scenario: sc(rmStep, []scenario.Matcher{expect("Any rm")}, []scenario.Matcher{forbid(seedRule)}),
			alerts:   []alert.Attributed{at(line(t, 2), alert.PhaseSteps, 1)},
			steps:    stepsOK, drops: 3,
			want: Fail, reason: `forbidden "Disable recovery features" fired (1 alert); expected "Any rm": no alert matched`,
		},
		{
			name:     "drops do not excuse too many alerts",
			scenario: sc(rmStep, []scenario.Matcher{expect("Test rm -rf", withCount(1, ptr(1)))}, nil),
			alerts:   latN(14, 15),
			steps:    stepsOK, drops: 3,
			want: Fail, reason: "2 alerts matched, at most 1 allowed",
		},
		{
			name:     "drops do not excuse an exit mismatch",
			scenario: sc([]scenario.Step{{Run: "rm -rf /tmp/x", Exit: []int{0}, Line: 10}}, []scenario.Matcher{expect(seedRule)}, nil),
			steps:    expecting(withExit(1, ""), 0), drops: 3,
			want: Error, reason: "exited 1, expected 0",
		},
		{
			name:     "drops do not hide an error",
			scenario: sc(rmStep, []scenario.Matcher{expect(seedRule)}, nil),
			steps:    withExit(127, ""), drops: 3,
			want: Error,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(Input{Scenario: tt.scenario, Attempt: 1, Alerts: tt.alerts, Steps: tt.steps, Candidates: tt.candidates, Drops: tt.drops, Err: tt.err})
			if v.Outcome != tt.want {
				t.Errorf("outcome %s, want %s (reason: %s)", v.Outcome, tt.want, v.Reason)
			}
			if !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("reason %q, want it to contain %q", v.Reason, tt.reason)
			}
			if strings.Contains(v.Reason, "\n") {
				t.Errorf("reason spans lines: %q", v.Reason)
			}
			if v.Judged != len(tt.alerts) || len(v.Alerts) != len(tt.alerts) {
				t.Errorf("judged %d of %d alerts, want all %d", v.Judged, len(v.Alerts), len(tt.alerts))
			}
		})
	}
}

func TestJudgeExpectationDetails(t *testing.T) {
	s := sc(oneStep("rm -rf /tmp/lat*"), []scenario.Matcher{
		expect("Test rm -rf", withFields(field("proc.cmdline", regex(`/tmp/lat[12]$`)))),
		expect(seedRule),
	}, []scenario.Matcher{forbid("Test rm -rf", withFields(field("proc.cmdline", contains("lat3"))))})
	alerts := []alert.Attributed{
		at(line(t, 14), alert.PhaseSetup, 1), // lat1, but setup: ignored
		at(line(t, 15), alert.PhaseSteps, 1), // lat2
		at(line(t, 16), alert.PhaseSteps, 1), // lat3: forbidden
		at(line(t, 14), alert.PhaseSteps, 1), // lat1
	}
	v := Judge(Input{Scenario: s, Attempt: 2, Alerts: alerts})
	if v.Attempt != 2 || v.ScenarioID != "disable-rescue" || v.Technique != "T1490" || v.File != "scenarios/impact/T1490.yaml" || v.Line != 4 {
		t.Errorf("identity not copied: %+v", v)
	}
	if got := v.Expectations[0]; !got.OK || got.Count != 2 || len(got.Matched) != 2 || got.Matched[0] != 1 || got.Matched[1] != 3 {
		t.Errorf("expectation 0 = %+v, want OK with alerts 1 and 3", got)
	}
	if got := v.Expectations[1]; got.OK || got.Count != 0 || got.Problem != "no alert matched" {
		t.Errorf("expectation 1 = %+v, want unmet", got)
	}
	if len(v.Forbidden) != 1 || len(v.Forbidden[0].Matched) != 1 || v.Forbidden[0].Matched[0] != 2 {
		t.Errorf("forbidden = %+v, want alert 2", v.Forbidden)
	}
	// The forbidden lat3 alert is of the expected rule and differs in its
	// cmdline: a near miss of expectation 0. The setup alert is not.
	if len(v.NearMisses) != 1 {
		t.Fatalf("near misses = %+v, want one", v.NearMisses)
	}
	n := v.NearMisses[0]
	if n.Expectation != 0 || n.Alert != 2 || n.Field != "proc.cmdline" || n.Want != `regex "/tmp/lat[12]$"` || n.Got != "rm -rf /tmp/lat3" {
		t.Errorf("near miss = %+v", n)
	}
}

func TestJudgeNearMisses(t *testing.T) {
	cat := line44(t, 2) // Read sensitive file untrusted: cat /etc/shadow, proc.name cat
	tests := []struct {
		name    string
		matcher scenario.Matcher
		alert   alert.Alert
		want    NearMiss
	}{
		{
			name:    "field equals",
			matcher: expect("Read sensitive file untrusted", withFields(field("proc.name", eq("systemctl")))),
			alert:   cat,
			want:    NearMiss{Field: "proc.name", Want: `equals "systemctl"`, Got: "cat"},
		},
		{
			name:    "first differing field in file order",
			matcher: expect("Read sensitive file untrusted", withFields(field("fd.name", eq("/etc/shadow")), field("proc.name", eq("grep")), field("user.name", eq("analyst")))),
			alert:   cat,
			want:    NearMiss{Field: "proc.name", Want: `equals "grep"`, Got: "cat"},
		},
		{
			name:    "priority before fields",
			matcher: expect("Read sensitive file untrusted", withPriority(rules.Critical), withFields(field("proc.name", eq("grep")))),
			alert:   cat,
			want:    NearMiss{Field: "priority", Want: "Critical", Got: "Warning"},
		},
		{
			name:    "output",
			matcher: expect("Read sensitive file untrusted", withOutput(contains("/etc/gshadow"))),
			alert:   cat,
			want:    NearMiss{Field: "output", Want: `contains "/etc/gshadow"`, Got: cat.Output},
		},
		{
			name:    "missing field",
			matcher: expect(seedRule, withFields(field("proc.name", eq("rm")))),
			alert:   line(t, 2),
			want:    NearMiss{Field: "proc.name", Want: `equals "rm"`, Missing: true},
		},
		{
			name:    "<NA> user is a value, not a missing field",
			matcher: expect(seedRule, withFields(field("user.name", eq("analyst")))),
			alert:   line(t, 5),
			want:    NearMiss{Field: "user.name", Want: `equals "analyst"`, Got: "<NA>"},
		},
		{
			name:    "tags",
			matcher: expect(seedRule, withTags("T1490", "T1485")),
			alert:   line(t, 2),
			want:    NearMiss{Field: "tags", Want: `has "T1485"`, Got: "T1490, inhibit_system_recovery, mitre_impact"},
		},
		{
			name:    "contains on a field",
			matcher: expect(seedRule, withFields(field("proc.cmdline", contains("rescue")))),
			alert:   line(t, 5),
			want:    NearMiss{Field: "proc.cmdline", Want: `contains "rescue"`, Got: "systemctl disable recovery-mode.service"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sc(oneStep("x"), []scenario.Matcher{tt.matcher}, nil)
			other := at(line(t, 3), alert.PhaseSteps, 1) // Any rm: another rule, never a near miss
			v := Judge(Input{Scenario: s, Alerts: []alert.Attributed{other, at(tt.alert, alert.PhaseSteps, 1)}})
			if v.Outcome != Fail {
				t.Errorf("outcome %s, want fail", v.Outcome)
			}
			want := tt.want
			want.Alert = 1
			if len(v.NearMisses) != 1 || v.NearMisses[0] != want {
				t.Errorf("near misses = %+v, want [%+v]", v.NearMisses, want)
			}
			if hint := "(1 near miss, e.g. alert #2: " + want.Field + " want " + want.Want; !strings.Contains(v.Reason, hint) {
				t.Errorf("reason %q lacks %q", v.Reason, hint)
			}
		})
	}
}

func TestJudgeLatency(t *testing.T) {
	a := line(t, 14)                                  // evt.time 1795639...
	start := a.EventTime().Add(-3 * time.Millisecond) // the step began 3 ms before the event
	a.ReceivedAt = a.EventTime().Add(1500 * time.Microsecond)
	b := line(t, 15)
	b.ReceivedAt = b.EventTime().Add(2 * time.Millisecond)
	byID := alert.Attributed{Alert: b, Phase: alert.PhaseSteps, ByID: true}

	s := sc([]scenario.Step{{Run: "a"}, {Run: "b"}}, []scenario.Matcher{
		expect("Test rm -rf"),
		expect("Test rm -rf", withFields(field("proc.cmdline", contains("/tmp/lat")))), // same alerts again
	}, nil)
	steps := []StepResult{
		{Phase: alert.PhaseSteps, Index: 1, Start: start.Add(-time.Hour)},
		{Phase: alert.PhaseSteps, Index: 2, Start: start},
	}
	v := Judge(Input{Scenario: s, Alerts: []alert.Attributed{at(a, alert.PhaseSteps, 2), byID}, Steps: steps})
	if v.Outcome != Pass {
		t.Fatalf("outcome %s: %s", v.Outcome, v.Reason)
	}
	want := []Latency{
		{Rule: "Test rm -rf", Step: 2, Detection: 3 * time.Millisecond, Delivery: 1500 * time.Microsecond},
		{Rule: "Test rm -rf", Step: 0, Detection: 0, Delivery: 2 * time.Millisecond},
	}
	if len(v.Latencies) != len(want) {
		t.Fatalf("latencies = %+v, want %+v (one per matched alert)", v.Latencies, want)
	}
	for i := range want {
		if v.Latencies[i] != want[i] {
			t.Errorf("latency %d = %+v, want %+v", i, v.Latencies[i], want[i])
		}
	}
}

func TestSummarise(t *testing.T) {
	tests := []struct {
		outcomes []Outcome
		want     Outcome
		flaky    bool
	}{
		{[]Outcome{Pass}, Pass, false},
		{[]Outcome{Fail, Fail, Fail}, Fail, false},
		{[]Outcome{Pass, Fail, Pass}, Fail, true},
		{[]Outcome{Pass, Inconclusive}, Inconclusive, true},
		{[]Outcome{Inconclusive, Error}, Error, true},
		{[]Outcome{Error, Fail, Inconclusive}, Fail, true},
		{[]Outcome{Error, Error}, Error, false},
		{[]Outcome{Skip}, Skip, false},
		{[]Outcome{Pass, Skip}, Skip, true}, // never a pass
		{[]Outcome{Skip, Fail}, Fail, true},
	}
	for _, tt := range tests {
		var vs []Verdict
		for i, o := range tt.outcomes {
			vs = append(vs, Verdict{ScenarioID: "s", Attempt: i + 1, Outcome: o})
		}
		r := Summarise(vs)
		if r.Outcome != tt.want || r.Flaky != tt.flaky || r.ScenarioID != "s" || len(r.Attempts) != len(vs) {
			t.Errorf("Summarise(%v) = %s flaky=%v id=%q, want %s flaky=%v", tt.outcomes, r.Outcome, r.Flaky, r.ScenarioID, tt.want, tt.flaky)
		}
	}
}

func TestJudgeForbidOthers(t *testing.T) {
	// Lines 2 and 3: "Disable recovery features" and "Any rm" for rm -rf /tmp/x.
	alerts := []alert.Attributed{
		at(line(t, 2), alert.PhaseSteps, 1), at(line(t, 3), alert.PhaseSteps, 1), at(line(t, 3), alert.PhaseSteps, 1),
		at(line(t, 3), alert.PhaseSetup, 1), // setup alerts are never judged
	}
	steps := []StepResult{ok(alert.PhaseSteps, 1, "rm -rf /tmp/x")}
	candidates := []string{seedRule, "Any rm"}
	judge := func(s *scenario.Scenario, cands []string) Verdict {
		s.ForbidOthers = true
		return Judge(Input{Scenario: s, Attempt: 1, Alerts: alerts, Steps: steps, Candidates: cands})
	}

	v := judge(sc(oneStep("rm -rf /tmp/x"), []scenario.Matcher{expect(seedRule)}, nil), candidates)
	if v.Outcome != Fail || len(v.Forbidden) != 1 || !v.Forbidden[0].Others || v.Forbidden[0].Matcher.Rule != "Any rm" || len(v.Forbidden[0].Matched) != 2 {
		t.Fatalf("outcome %s, forbidden %+v", v.Outcome, v.Forbidden)
	}
	if want := `forbidden "Any rm" (forbid_others: no expect names it) fired (2 alerts)`; v.Reason != want {
		t.Errorf("reason %q, want %q", v.Reason, want)
	}
	if got := Format(v); !strings.Contains(got, `"Any rm" (forbid_others: no expect names it) (2 alerts: #2 #3)`) {
		t.Errorf("Format does not show the forbid_others hit:\n%s", got)
	}

	// Expecting both: the exact alert set, a pass.
	if v := judge(sc(oneStep("rm -rf /tmp/x"), []scenario.Matcher{expect(seedRule), expect("Any rm")}, nil), candidates); v.Outcome != Pass {
		t.Errorf("both expected: %s %s", v.Outcome, v.Reason)
	}
	// A rule outside the candidates is not forbidden by forbid_others.
	if v := judge(sc(oneStep("rm -rf /tmp/x"), []scenario.Matcher{expect(seedRule)}, nil), []string{seedRule}); v.Outcome != Pass {
		t.Errorf("non-candidate rule: %s %s", v.Outcome, v.Reason)
	}
	// An explicit forbid that caught the alerts is not repeated.
	v = judge(sc(oneStep("rm -rf /tmp/x"), []scenario.Matcher{expect(seedRule)}, []scenario.Matcher{forbid("Any rm")}), candidates)
	if len(v.Forbidden) != 1 || v.Forbidden[0].Others {
		t.Errorf("forbid and forbid_others both counted: %+v", v.Forbidden)
	}
	// expect "*" names every candidate: nothing is left to forbid.
	if v := judge(sc(oneStep("rm -rf /tmp/x"), []scenario.Matcher{expect("*")}, nil), candidates); v.Outcome != Pass || len(v.Forbidden) != 0 {
		t.Errorf(`expect "*": %s %+v`, v.Outcome, v.Forbidden)
	}
	// A benign scenario with forbid_others alone forbids every candidate.
	benign := sc(oneStep("rm -rf /tmp/x"), nil, nil)
	benign.Benign = true
	if v := judge(benign, candidates); v.Outcome != Fail || len(v.Forbidden) != 2 {
		t.Errorf("benign with forbid_others: %s %+v", v.Outcome, v.Forbidden)
	}
}

func TestJudgeSkipAndRehearsal(t *testing.T) {
	s := sc(oneStep("kubectl get pods"), []scenario.Matcher{expect(seedRule)}, nil)
	s.Skip = "needs Kubernetes: no API server here"
	v := Judge(Input{Scenario: s, Attempt: 1, Candidates: []string{seedRule}})
	if v.Outcome != Skip || v.Reason != "skipped: needs Kubernetes: no API server here" || len(v.Expectations) != 1 {
		t.Errorf("skip: %s %q", v.Outcome, v.Reason)
	}
	if got := Format(v); !strings.HasPrefix(got, "SKIP disable-rescue") || !strings.Contains(got, "was not run: it proves nothing") {
		t.Errorf("Format of a skip:\n%s", got)
	}

	// A rehearsal judges the steps only: no alert, yet a pass.
	r := sc([]scenario.Step{{Exec: []string{"cat", "/tmp/../../etc/passwd"}, Line: 10}, {Sleep: time.Second, Line: 11}}, []scenario.Matcher{expect(seedRule)}, nil)
	steps := []StepResult{
		{Phase: alert.PhaseSteps, Index: 1, Argv: []string{"cat", "/tmp/../../etc/passwd"}, ExpectExit: []int{0}, ExitCode: 0},
		{Phase: alert.PhaseSteps, Index: 2, Sleep: time.Second, Duration: time.Second},
	}
	in := Input{Scenario: r, Attempt: 1, Steps: steps, Rehearsal: true, Notes: []string{"victim not privileged"}}
	v = Judge(in)
	if v.Outcome != Pass || v.Reason != "rehearsed: 2 steps ran as declared (no Falco: alerts not judged)" || len(v.Expectations) != 0 || len(v.Notes) != 1 {
		t.Errorf("rehearsal: %s %q %+v", v.Outcome, v.Reason, v.Expectations)
	}
	got := Format(v)
	for _, want := range []string{"note: victim not privileged", "steps/1 exit 0 (expected 0) 0s: exec: [cat, /tmp/../../etc/passwd]", "steps/2 slept 1s: sleep: 1s"} {
		if !strings.Contains(got, want) {
			t.Errorf("Format lacks %q:\n%s", want, got)
		}
	}
	in.Steps[0].ExitCode = 1
	if v := Judge(in); v.Outcome != Error || v.Reason != `step 1 (line 10) "exec: [cat, /tmp/../../etc/passwd]" exited 1, expected 0` {
		t.Errorf("rehearsal with a step not as declared: %s %q", v.Outcome, v.Reason)
	}
}

// TestJudgeParentTechniqueTag: under rule "*" an expected sub-technique tag
// is met by a rule tagged with its parent technique, as imported Atomic Red
// Team scenarios expect; a named rule's tags match exactly, and a parent
// tag is not met by a sibling sub-technique.
func TestJudgeParentTechniqueTag(t *testing.T) {
	tagged := func(tags ...string) []alert.Attributed {
		a := line(t, 2)
		a.Tags = tags
		return []alert.Attributed{at(a, alert.PhaseSteps, 1)}
	}
	steps := []StepResult{ok(alert.PhaseSteps, 1, "rm -rf /tmp/x")}
	for _, tc := range []struct {
		rule      string
		want      string
		alertTags []string
		outcome   Outcome
	}{
		{"*", "T1070.003", []string{"T1070.003"}, Pass},
		{"*", "T1070.003", []string{"T1070", "mitre_stealth"}, Pass},
		{"*", "T1070.003", []string{"T1070.004"}, Fail},
		{"*", "T1070", []string{"T1070.003"}, Fail},
		{seedRule, "T1070.003", []string{"T1070"}, Fail},
		{"*", "mitre_stealth", []string{"mitre"}, Fail},
	} {
		s := sc(oneStep("rm -rf /tmp/x"), []scenario.Matcher{expect(tc.rule, withTags(tc.want))}, nil)
		v := Judge(Input{Scenario: s, Attempt: 1, Alerts: tagged(tc.alertTags...), Steps: steps, Candidates: []string{seedRule}})
		if v.Outcome != tc.outcome {
			t.Errorf("expect %q tags [%s], alert tagged %v: %s (%s), want %s", tc.rule, tc.want, tc.alertTags, v.Outcome, v.Reason, tc.outcome)
		}
	}
	s := sc(oneStep("rm -rf /tmp/x"), []scenario.Matcher{expect("*", withTags("T1070.003"))}, nil)
	if got := Format(Judge(Input{Scenario: s, Attempt: 1, Steps: steps})); !strings.Contains(got, "tags T1070.003 (or T1070)") {
		t.Errorf("Format does not say the parent counts:\n%s", got)
	}
}
