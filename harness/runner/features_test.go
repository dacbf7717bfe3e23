package runner_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// ppid reads the parent pid from /proc/self/stat output: "pid (comm) state ppid ...".
func ppid(t *testing.T, stat string) int {
	t.Helper()
	_, rest, _ := strings.Cut(stat, ") ")
	f := strings.Fields(rest)
	if len(f) < 2 {
		t.Fatalf("unreadable /proc/self/stat %q", stat)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("ppid %q: %v", f[1], err)
	}
	return n
}

// TestStepForms runs exec steps (no shell), terminals, sleeps and exit lists
// in real victims, with the double answering an exec step's argv.
func TestStepForms(t *testing.T) {
	f := newFalco(t)
	f.On("cat /proc/self/stat", sample(t, lineSeedRm)...)

	noShell := scn("exec-no-shell")
	noShell.Steps = []scenario.Step{
		{Exec: []string{"cat", "/proc/self/stat"}, Timeout: 10 * time.Second},
		{Run: "cat /proc/self/stat", Timeout: 10 * time.Second},
		{Exec: []string{"tty"}, TTY: true, Timeout: 10 * time.Second},
	}
	noShell.Expect = []scenario.Matcher{expectRule(seedRule)}

	sleeps := scn("sleeps", "date +%s%N")
	sleeps.Steps = append(sleeps.Steps, scenario.Step{Sleep: 400 * time.Millisecond}, scenario.Step{Run: "date +%s%N", Timeout: 10 * time.Second})
	sleeps.Forbid = []scenario.Matcher{{Rule: seedRule}}

	exits := scn("exit-lists", "exit 3", "no-such-command", "true")
	exits.Steps[0].Exit = []int{0, 3}
	exits.Steps[1].Exit = []int{127}
	exits.Forbid = []scenario.Matcher{{Rule: seedRule}}

	mismatch := scn("exit-mismatch", "exit 2", "echo never")
	mismatch.Steps[0].Exit = []int{0, 1}
	mismatch.Forbid = []scenario.Matcher{{Rule: seedRule}}

	res := run(t, config(t, f), noShell, sleeps, exits, mismatch)

	v := only(t, res["exec-no-shell"], verdict.Pass)
	if got := ppid(t, v.Steps[0].Stdout); got != 0 {
		t.Errorf("exec step: parent pid %d inside the victim, want 0 (the runtime, outside it)", got)
	}
	if got := ppid(t, v.Steps[1].Stdout); got == 0 {
		t.Errorf("run step: parent pid 0, want the shell's")
	}
	if out := v.Steps[2].Stdout; !strings.HasPrefix(out, "/dev/pts/") || !v.Steps[2].TTY {
		t.Errorf("tty step printed %q, want /dev/pts/N", out)
	}
	if a := v.Alerts[0]; a.Step != 1 || !slices.Equal(v.Steps[0].Argv, []string{"cat", "/proc/self/stat"}) || v.Steps[0].Run != "" {
		t.Errorf("exec step's alert at step %d; step recorded as %+v", a.Step, v.Steps[0])
	}

	v = only(t, res["sleeps"], verdict.Pass)
	first, _ := strconv.ParseInt(strings.TrimSpace(v.Steps[0].Stdout), 10, 64)
	last, _ := strconv.ParseInt(strings.TrimSpace(v.Steps[2].Stdout), 10, 64)
	if gap := time.Duration(last - first); gap < 400*time.Millisecond || v.Steps[1].Sleep != 400*time.Millisecond || v.Steps[1].Duration < 400*time.Millisecond {
		t.Errorf("the steps around a 400ms sleep ran %v apart; sleep step %+v", gap, v.Steps[1])
	}

	v = only(t, res["exit-lists"], verdict.Pass)
	if v.Steps[0].ExitCode != 3 || v.Steps[1].ExitCode != 127 || len(v.Steps) != 3 {
		t.Errorf("exit lists: %+v", v.Steps)
	}

	v = only(t, res["exit-mismatch"], verdict.Error)
	if len(v.Steps) != 1 || v.Reason != `step 1 "exit 2" exited 2, expected 0 or 1` {
		t.Errorf("exit mismatch: %d steps run (want 1), reason %q", len(v.Steps), v.Reason)
	}
}

// TestVictimShapes gives scenarios the victims they ask for, and checks each
// from inside: the tools image, a dropped capability, a read-only root, host
// entries, no network; a refused capability and a refused privileged victim.
func TestVictimShapes(t *testing.T) {
	f := newFalco(t)
	shaped := scn("shaped",
		"command -v strace",
		"grep CapEff /proc/self/status",
		"touch /attack-replay-probe",
		"cat /etc/hosts",
		"ip -o link show | grep -v ' lo:' | wc -l")
	shaped.Steps[2].Exit = []int{1}
	shaped.Steps = append(shaped.Steps, scenario.Step{Exec: []string{"ping", "-c1", "-W1", "127.0.0.1"}, Exit: []int{1, 2, 126}, Timeout: 10 * time.Second})
	shaped.Victim = scenario.Victim{Image: scenario.ImageTools, CapDrop: []string{"NET_RAW"}, ReadOnly: true,
		ExtraHosts: []string{"metadata.test:198.51.100.9"}, Network: scenario.NetworkNone}
	shaped.Forbid = []scenario.Matcher{{Rule: seedRule}}

	refused := scn("refused-capability", "true")
	refused.Victim.CapAdd = []string{"SYS_RESOURCE"}
	refused.Forbid = []scenario.Matcher{{Rule: seedRule}}

	privileged := scn("privileged", "grep CapEff /proc/self/status")
	privileged.Victim.Privileged = true
	privileged.Forbid = []scenario.Matcher{{Rule: seedRule}}

	// Without network: a victim gets none, loopback still up; bridge asks for one.
	links := "ip -o link show | grep -v ' lo:' | wc -l; ip -o link show lo"
	noNetwork := scn("no-network", links)
	noNetwork.Forbid = []scenario.Matcher{{Rule: seedRule}}
	bridge := scn("bridge", links)
	bridge.Victim.Network = scenario.NetworkBridge
	bridge.Forbid = []scenario.Matcher{{Rule: seedRule}}

	cfg := config(t, f)
	cfg.StartVictim = f.Wrap(runner.StartVictims(runner.Victims{Image: requireImage(t), ToolsImage: victim.ToolsImageFromEnv(), Privileges: victim.PrivilegesDefault}))
	res := run(t, cfg, shaped, refused, privileged, noNetwork, bridge)

	v := only(t, res["no-network"], verdict.Pass)
	if out := v.Steps[0].Stdout; !strings.HasPrefix(out, "0\n") || !strings.Contains(out, "lo: <LOOPBACK,UP") {
		t.Errorf("a victim without network: links %q, want lo alone, up", out)
	}
	v = only(t, res["bridge"], verdict.Pass)
	if out := v.Steps[0].Stdout; !strings.HasPrefix(out, "1\n") {
		t.Errorf("network: bridge: links %q, want one besides lo", out)
	}

	v = only(t, res["shaped"], verdict.Pass)
	if out := v.Steps[0].Stdout; !strings.Contains(out, "strace") {
		t.Errorf("the tools image has no strace: %q", out)
	}
	capEff, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(v.Steps[1].Stdout, "CapEff:")), 16, 64)
	if err != nil || capEff&(1<<13) != 0 {
		t.Errorf("CapEff %q (%v): NET_RAW (bit 13) must be dropped", v.Steps[1].Stdout, err)
	}
	if !strings.Contains(v.Steps[2].Stderr, "Read-only file system") {
		t.Errorf("touch / on a read-only root: %q", v.Steps[2].Stderr)
	}
	if !strings.Contains(v.Steps[3].Stdout, "198.51.100.9\tmetadata.test") {
		t.Errorf("/etc/hosts lacks the scenario's entry:\n%s", v.Steps[3].Stdout)
	}
	if n := strings.TrimSpace(v.Steps[4].Stdout); n != "0" {
		t.Errorf("network none: %s links besides lo", n)
	}

	// This engine refuses SYS_RESOURCE (DESIGN.md); one that grants it passes.
	r := res["refused-capability"]
	switch v := r.Attempts[0]; v.Outcome {
	case verdict.Error:
		if !strings.Contains(v.Reason, "start victim:") || !strings.Contains(v.Reason, "refuses") || !strings.Contains(v.Reason, "SYS_RESOURCE") {
			t.Errorf("refused capability: reason %q, want it named", v.Reason)
		}
	case verdict.Pass:
		t.Logf("the engine grants SYS_RESOURCE")
	default:
		t.Errorf("refused capability: %s %s", v.Outcome, v.Reason)
	}

	v = only(t, res["privileged"], verdict.Pass)
	capEff, _ = strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(v.Steps[0].Stdout, "CapEff:")), 16, 64)
	if capEff&(1<<21) == 0 {
		t.Errorf("privileged: true in a default run: CapEff %q lacks SYS_ADMIN", v.Steps[0].Stdout)
	}
	if len(v.Notes) > 0 {
		if !strings.Contains(v.Notes[0], "privileged: true, but the victim is not privileged") || !strings.Contains(verdict.Format(v), "note: privileged: true") {
			t.Errorf("notes %q", v.Notes)
		}
		t.Logf("note: %s", v.Notes[0])
	}
}

func TestSkipAndForbidOthers(t *testing.T) {
	f := newFalco(t)
	f.On("rm -rf /tmp/x", sample(t, lineSeedRm, lineAnyRm)...)
	skipped := scn("skipped", "kubectl get pods")
	skipped.Skip = "needs Kubernetes"
	skipped.Expect = []scenario.Matcher{expectRule(seedRule)}
	others := scn("forbid-others", "rm -rf /tmp/x")
	others.ForbidOthers = true
	others.Expect = []scenario.Matcher{expectRule(seedRule)}

	cfg := config(t, f)
	cfg.Repeat = 2
	var results []string
	cfg.OnResult = func(r verdict.Result) { results = append(results, r.ScenarioID+" "+string(r.Outcome)) }
	res := run(t, cfg, skipped, others)

	r := res["skipped"]
	if r.Outcome != verdict.Skip || r.Flaky || len(r.Attempts) != 1 || r.Attempts[0].VictimID != "" || len(r.Attempts[0].Steps) != 0 || r.Attempts[0].Reason != "skipped: needs Kubernetes" {
		t.Errorf("skipped scenario: %+v", r)
	}
	if r := res["forbid-others"]; r.Outcome != verdict.Fail || !strings.Contains(r.Attempts[0].Reason, `forbidden "Any rm" (forbid_others: no expect names it) fired`) {
		t.Errorf("forbid_others: %s", describe(r))
	}
	if !slices.Contains(results, "skipped skip") || len(results) != 2 {
		t.Errorf("OnResult saw %q", results)
	}
}

// TestRehearse runs scenarios without Falco: no hub, no barrier, the steps
// judged as declared.
func TestRehearse(t *testing.T) {
	ok := scn("rehearsed", "echo hello")
	ok.Setup = []scenario.Step{{Run: "mkdir -p /tmp/ready", Timeout: 10 * time.Second}}
	ok.Cleanup = []scenario.Step{{Run: "rm -rf /tmp/ready", Timeout: 10 * time.Second}}
	ok.Expect = []scenario.Matcher{expectRule(seedRule)}
	bad := scn("not-as-declared", "true", "no-such-command")
	bad.Expect = []scenario.Matcher{expectRule(seedRule)}

	cfg := runner.Config{Workers: 2, Rehearse: true, RunID: "test-rehearse-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		StartVictim: runner.StartVictims(runner.Victims{Image: requireImage(t)})}
	res := run(t, cfg, ok, bad)

	v := only(t, res["rehearsed"], verdict.Pass)
	if len(v.Steps) != 3 || v.Steps[1].Stdout != "hello\n" || v.Timings.Barrier != 0 || len(v.Expectations) != 0 {
		t.Errorf("rehearsal: %d steps, barrier %v, expectations %v", len(v.Steps), v.Timings.Barrier, v.Expectations)
	}
	v = only(t, res["not-as-declared"], verdict.Error)
	if !strings.Contains(v.Reason, `step 2 "no-such-command" exited 127 (command not found)`) {
		t.Errorf("reason %q", v.Reason)
	}
}
