package victim_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/victim"
)

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	for name, tc := range map[string]struct {
		cmd  []string
		want []int // the exit codes the engine may give
	}{
		"success":                 {[]string{"true"}, []int{0}},
		"failure":                 {[]string{"false"}, []int{1}},
		"any other code":          {[]string{"sh", "-c", "exit 42"}, []int{42}},
		"shell: not executable":   {[]string{"sh", "-c", "/etc/passwd"}, []int{126}},
		"shell: command missing":  {[]string{"sh", "-c", "no-such-command"}, []int{127}},
		"engine: not executable":  {[]string{"/etc/passwd"}, []int{126}},
		"engine: command missing": {[]string{"no-such-command"}, []int{126, 127}}, // Docker 20.10 says 126
	} {
		t.Run(name, func(t *testing.T) {
			res, err := c.Exec(testContext(t), victim.ExecRequest{Cmd: tc.cmd, Timeout: 30 * time.Second})
			if err != nil {
				t.Fatalf("exec: %v", err)
			}
			if !slices.Contains(tc.want, res.ExitCode) || res.TimedOut {
				t.Fatalf("exit %d (timed out %v), want one of %v\nstdout: %s\nstderr: %s", res.ExitCode, res.TimedOut, tc.want, res.Stdout, res.Stderr)
			}
			t.Logf("exit %d, stdout %q, stderr %q", res.ExitCode, res.Stdout, res.Stderr)
		})
	}
}

func TestExecStreamsSeparate(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	res, err := c.Exec(testContext(t), victim.ExecRequest{
		Cmd: []string{"sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 3"},
	})
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	if string(res.Stdout) != "out1\nout2\n" || string(res.Stderr) != "err1\nerr2\n" || res.ExitCode != 3 {
		t.Fatalf("stdout %q, stderr %q, exit %d; want out1,out2 / err1,err2 / 3", res.Stdout, res.Stderr, res.ExitCode)
	}
	if res.Start.IsZero() || res.Duration <= 0 {
		t.Errorf("start %v, duration %v: want both set", res.Start, res.Duration)
	}
}

func TestExecOutputBounded(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	const n = 3*victim.MaxOutput + 123
	// Numbered lines, so the kept part can be checked to be the end of the output.
	script := "seq 1 1000000 | head -c " + strconv.Itoa(n)
	res, err := c.Exec(testContext(t), victim.ExecRequest{
		Cmd: []string{"sh", "-c", script + "; seq 1 100000 | head -c 100 >&2"},
	})
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	if len(res.Stdout) != victim.MaxOutput || res.StdoutDropped != n-victim.MaxOutput {
		t.Fatalf("kept %d bytes of stdout dropping %d, want %d dropping %d", len(res.Stdout), res.StdoutDropped, victim.MaxOutput, n-victim.MaxOutput)
	}
	full := mustExec(t, c, "sh", "-c", script)
	if !strings.HasSuffix(full, string(res.Stdout)) {
		t.Errorf("kept stdout is not the tail of the output")
	}
	if len(res.Stderr) != 100 || res.StderrDropped != 0 {
		t.Errorf("stderr %d bytes dropping %d, want 100 dropping 0", len(res.Stderr), res.StderrDropped)
	}
}

func TestExecUserEnvWorkdir(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	ctx := testContext(t)
	mustExec(t, c, "useradd", "--uid", "1234", "--create-home", "analyst")

	res, err := c.Exec(ctx, victim.ExecRequest{
		Cmd:     []string{"sh", "-c", "id -u; id -un; pwd; env"},
		User:    "analyst",
		Env:     []string{"AR_TOKEN=run1/step/0", "GREETING=hello world"},
		Workdir: "/home/analyst",
	})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exec: %v, exit %d, stderr %s", err, res.ExitCode, res.Stderr)
	}
	lines := strings.Split(string(res.Stdout), "\n")
	if lines[0] != "1234" || lines[1] != "analyst" || lines[2] != "/home/analyst" {
		t.Fatalf("id -u, id -un, pwd printed %q, want 1234, analyst, /home/analyst", lines[:3])
	}
	env := lines[3:]
	for _, want := range []string{"AR_TOKEN=run1/step/0", "GREETING=hello world"} {
		if !slices.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, res.Stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^` + victim.EnvExecID + `=[0-9a-f]{32}$`).Match(res.Stdout) {
		t.Errorf("env lacks the exec marker %s:\n%s", victim.EnvExecID, res.Stdout)
	}

	// A numeric uid needs no passwd entry.
	if got := mustExecAs(t, c, "4321", "id", "-u"); got != "4321\n" {
		t.Errorf("id -u as 4321 printed %q", got)
	}
}

func mustExecAs(t *testing.T, c *victim.Container, user string, cmd ...string) string {
	t.Helper()
	res, err := c.Exec(testContext(t), victim.ExecRequest{Cmd: cmd, User: user})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("exec %q as %s: %v, exit %d, stderr %s", cmd, user, err, res.ExitCode, res.Stderr)
	}
	return string(res.Stdout)
}

func TestExecBadRequest(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	ctx := testContext(t)
	for name, tc := range map[string]struct {
		req  victim.ExecRequest
		want string
	}{
		"empty command":    {victim.ExecRequest{}, "empty command"},
		"env without =":    {victim.ExecRequest{Cmd: []string{"true"}, Env: []string{"NOVALUE"}}, `"NOVALUE" is not KEY=VALUE`},
		"env with no key":  {victim.ExecRequest{Cmd: []string{"true"}, Env: []string{"=x"}}, `"=x" is not KEY=VALUE`},
		"reserved env key": {victim.ExecRequest{Cmd: []string{"true"}, Env: []string{victim.EnvExecID + "=x"}}, "reserved"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := c.Exec(ctx, tc.req)
			if err == nil || !strings.Contains(err.Error(), tc.want) || res.ExitCode != -1 {
				t.Fatalf("Exec = exit %d, %v; want exit -1 and an error containing %q", res.ExitCode, err, tc.want)
			}
		})
	}
	// The engine refuses a missing user or working directory: the command never ran, which
	// the runner must treat like a missing command.
	for name, req := range map[string]victim.ExecRequest{
		"missing user":    {Cmd: []string{"true"}, User: "nobody-here"},
		"missing workdir": {Cmd: []string{"true"}, Workdir: "/no/such/dir"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := c.Exec(ctx, req)
			if err != nil {
				t.Fatalf("exec: %v", err)
			}
			if res.ExitCode != 126 && res.ExitCode != 127 {
				t.Fatalf("exit %d, want 126 or 127 (not run)\nstdout %q\nstderr %q", res.ExitCode, res.Stdout, res.Stderr)
			}
			t.Logf("exit %d, stdout %q, stderr %q", res.ExitCode, res.Stdout, res.Stderr)
		})
	}
}

// treeScript starts the process shapes a step can leave behind, says so, and waits: a plain
// child, one in a new session, an orphan (its parent exited, so init adopted it), one that
// cleared its environment, and one under sudo (new session on a pty, reset environment).
const treeScript = `sleep 300 &
setsid sleep 301 &
(sleep 302 &)
env -i /bin/sleep 303 &
sudo -u nobody sleep 304 &
sleep 0.2
echo started
wait`

// leftovers lists the processes of treeScript still alive in the victim.
func leftovers(t *testing.T, c *victim.Container) []string {
	t.Helper()
	var left []string
	for line := range strings.Lines(mustExec(t, c, "ps", "-eo", "pid,ppid,stat,args")) {
		if strings.Contains(line, "sleep 30") {
			left = append(left, strings.TrimSpace(line))
		}
	}
	return left
}

func TestExecTimeoutKillsProcessTree(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	// Long enough for the tree to start on a loaded machine; the kill, not the wait, is tested.
	const timeout = 5 * time.Second
	res, err := c.Exec(testContext(t), victim.ExecRequest{Cmd: []string{"sh", "-c", treeScript}, Timeout: timeout})
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	if !res.TimedOut || res.ExitCode != -1 {
		t.Fatalf("timed out %v, exit %d; want true, -1", res.TimedOut, res.ExitCode)
	}
	if res.Duration < timeout {
		t.Errorf("duration %v is shorter than the timeout %v", res.Duration, timeout)
	}
	if string(res.Stdout) != "started\n" {
		t.Fatalf("stdout %q: the tree did not start (stderr %q)", res.Stdout, res.Stderr)
	}
	if left := leftovers(t, c); len(left) > 0 {
		t.Fatalf("processes survived the timeout:\n%s", strings.Join(left, "\n"))
	}
}

func TestExecCancelKillsProcessTree(t *testing.T) {
	t.Parallel()
	c := startVictim(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()

	// Cancel once all five sleeps run, as Ctrl-C in the middle of a step would.
	watchErr := make(chan error, 1)
	go func() {
		defer cancel()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			res, err := c.Exec(testContext(t), victim.ExecRequest{Cmd: []string{"sh", "-c", "pgrep -c -f '^(/bin/)?sleep 30[0-4]$'"}})
			if err != nil {
				watchErr <- err
				return
			}
			if strings.TrimSpace(string(res.Stdout)) == "5" {
				watchErr <- nil
				return
			}
		}
		watchErr <- errors.New("the five sleeps never ran")
	}()

	t0 := time.Now()
	res, err := c.Exec(ctx, victim.ExecRequest{Cmd: []string{"sh", "-c", treeScript}})
	t.Logf("step ran %v before it was killed; Exec returned after %v", res.Duration, time.Since(t0))
	if werr := <-watchErr; werr != nil {
		t.Fatalf("watch the step: %v", werr)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("exec error %v, want context.Canceled", err)
	}
	if res.ExitCode != -1 || res.TimedOut {
		t.Errorf("exit %d, timed out %v; want -1, false", res.ExitCode, res.TimedOut)
	}
	if left := leftovers(t, c); len(left) > 0 {
		t.Fatalf("processes survived the cancellation:\n%s", strings.Join(left, "\n"))
	}
}
