package verdict

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files of Format")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test ./harness/verdict -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("Format output differs from %s (rerun with -update if the change is wanted)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// formatInput is a T1490 attempt where the rule fired for the wrong command:
// an unmet expectation with its near misses, a forbidden alert, a setup
// alert, a straggler that arrived after the verdict, step output and timings.
func formatInput(t *testing.T) Input {
	start := line(t, 4).EventTime().Add(-4 * time.Millisecond)
	received := func(a alert.Alert, d time.Duration) alert.Alert {
		a.ReceivedAt = a.EventTime().Add(d)
		return a
	}
	s := sc([]scenario.Step{
		{Run: "systemctl disable rescue.service", Line: 10},
		{Run: "rm -rf /tmp/x", Line: 11},
	}, []scenario.Matcher{
		{Rule: seedRule, Priority: prio(rules.Critical), Fields: []scenario.FieldMatch{field("proc.cmdline", contains("recovery-mode")), field("user.name", regex(`^(analyst|<NA>)$`))}, Min: 1, Line: 16},
		{Rule: seedRule, Fields: []scenario.FieldMatch{field("proc.cmdline", contains("rescue.service"))}, Min: 1, Max: ptr(1), Line: 20},
	}, []scenario.Matcher{{Rule: "Any rm", Line: 24}})
	return Input{
		Scenario: s,
		Attempt:  1,
		Alerts: []alert.Attributed{
			at(received(line(t, 3), time.Millisecond), alert.PhaseSetup, 1),
			at(received(line(t, 4), 1200*time.Microsecond), alert.PhaseSteps, 1),
			at(received(line(t, 2), 2*time.Millisecond), alert.PhaseSteps, 2),
			at(received(line(t, 3), 2*time.Millisecond), alert.PhaseSteps, 2),
		},
		Steps: []StepResult{
			{Phase: alert.PhaseSetup, Index: 1, Run: "useradd -m analyst", User: "root", Start: start.Add(-time.Second), Duration: 41 * time.Millisecond},
			{Phase: alert.PhaseSteps, Index: 1, Run: "systemctl disable rescue.service", User: "analyst", Start: start, Duration: 83 * time.Millisecond,
				Stderr: "line 1\nline 2\nline 3\nSystem has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n", ExitCode: 1},
			{Phase: alert.PhaseSteps, Index: 2, Run: "rm -rf /tmp/x", User: "analyst", Start: start.Add(90 * time.Millisecond), Duration: 3 * time.Millisecond},
		},
		Timings: Timings{VictimStart: 312 * time.Millisecond, Setup: 41 * time.Millisecond, Steps: 95 * time.Millisecond,
			Barrier: 61 * time.Millisecond, Cleanup: 20 * time.Millisecond, VictimRemove: 140 * time.Millisecond, Total: 700 * time.Millisecond},
		VictimID: "c373d3f043fb5e1d",
	}
}

func TestFormatFail(t *testing.T) {
	in := formatInput(t)
	v := Judge(in)
	// What the runner adds after the verdict: cleanup and a late alert.
	v.Steps = append(v.Steps, StepResult{Phase: alert.PhaseCleanup, Index: 1, Run: "userdel -r analyst", User: "root", Duration: 20 * time.Millisecond})
	v.Alerts = append(v.Alerts, at(line(t, 5), alert.PhaseSteps, 1))
	if v.Outcome != Fail {
		t.Fatalf("outcome %s: %s", v.Outcome, v.Reason)
	}
	got := Format(v)
	golden(t, "fail", got)
	for _, want := range []string{
		`near miss #2: proc.cmdline want contains "recovery-mode", got "systemctl disable rescue.service"`,
		`(arrived after the verdict)`,
		`forbidden alerts that fired:`,
		`stderr| Failed to connect to bus: Host is down`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Format output lacks %q", want)
		}
	}
}

func TestFormatError(t *testing.T) {
	in := formatInput(t)
	in.Steps[1].ExitCode = 127
	in.Steps[1].Stderr = "sh: 1: systemctl: not found\n"
	in.Steps = in.Steps[:2]
	in.Alerts = in.Alerts[:1]
	got := Format(Judge(in))
	golden(t, "error", got)
	if !strings.HasPrefix(got, "ERROR ") || !strings.Contains(got, "says nothing about the rules") {
		t.Errorf("an error must read as an error, not as a rule failure:\n%s", got)
	}
}

func TestFormatInconclusive(t *testing.T) {
	in := formatInput(t)
	in.Alerts = in.Alerts[:2]
	in.Scenario.Forbid = nil
	in.Drops = 42
	v := Judge(in)
	got := Format(v)
	golden(t, "inconclusive", got)
	if v.Outcome != Inconclusive || !strings.HasPrefix(got, "INCONCLUSIVE ") || !strings.Contains(got, "Falco dropped 42 syscall events") {
		t.Errorf("an inconclusive attempt must say so:\n%s", got)
	}
}

func TestFormatResultFlaky(t *testing.T) {
	in := formatInput(t)
	failed := Judge(in)
	in.Attempt = 2
	in.Scenario.Forbid = nil
	in.Scenario.Expect = in.Scenario.Expect[1:]
	in.Alerts = in.Alerts[:2]
	passed := Judge(in)
	if passed.Outcome != Pass {
		t.Fatalf("attempt 2: %s: %s", passed.Outcome, passed.Reason)
	}
	got := FormatResult(Summarise([]Verdict{failed, passed}))
	if !strings.HasPrefix(got, "FAIL disable-rescue is FLAKY: 2 attempts (fail, pass)\n") {
		t.Errorf("summary line wrong:\n%s", got)
	}
	if strings.Count(got, "attempt 1\n") != 1 || strings.Contains(got, "attempt 2\n") {
		t.Errorf("want only the failed attempt rendered:\n%s", got)
	}
}
