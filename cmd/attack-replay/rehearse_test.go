package main

import (
	"os"
	"strings"
	"testing"
)

func requireDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped in -short mode: starts victim containers")
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

// TestRehearse rehearses the test scenarios in real victims: every step form
// runs as declared, a declared 127 is fine, a step not as declared fails the
// command, a skipped scenario is shown and not run.
func TestRehearse(t *testing.T) {
	requireDocker(t)
	code, stdout, stderr := runCLI(t, "", "rehearse", "--scenarios", "testdata/rehearse", "--workers", "2")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitProblems {
		t.Errorf("exit %d, want %d: a step did not run as declared", code, exitProblems)
	}
	for _, want := range []string{
		"rehearse: 4 scenarios from testdata/rehearse, 2 at once, without Falco",
		"ok     every-step-form  testdata/rehearse/credential-access/T1003.008.yaml:6",
		"step 1    exit 0",
		"exec: [cat, /tmp/../../etc/passwd]",
		"step 3    slept",
		"sleep: 200ms",
		"step 4    exit 0 ok",
		"exec: [ping, -c1, -W1, 127.0.0.1]",
		"cleanup 1 exit 0",
		"ok     declared-127",
		"exit 127 ok",
		"ERROR  not-as-declared  testdata/rehearse/credential-access/T1003.008.yaml:29",
		`step 1 (line 31) "exec: [false]" exited 1, expected 0`,
		"exit 1, want 0",
		"SKIP   needs-kubernetes",
		"skipped: needs Kubernetes: no API server here",
		"rehearse: 2 ok, 1 not as declared, 1 skipped",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(stdout, "echo never") {
		t.Error("a step after one that did not run as declared ran")
	}
	if strings.Contains(stdout, "Container created") {
		t.Error("testcontainers' chatter is in the output")
	}

	code, stdout, _ = runCLI(t, "", "rehearse", "--scenarios", "testdata/rehearse", "--run", "declared-127", "-v")
	if code != exitOK || !strings.Contains(stdout, "rehearse: 1 ok, 0 not as declared, 0 skipped") || !strings.Contains(stdout, "stderr| /bin/sh: 1: no-such-command: not found") {
		t.Errorf("--run declared-127 -v: exit %d\n%s", code, stdout)
	}
}

func TestRehearseUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--run", "nope,declared-127"}, exitUsage, `--run "nope": no such scenario among the 4 scenarios selected`},
		{[]string{"--workers", "-1"}, exitUsage, "--workers -1: want 1 or more"},
		{[]string{"extra"}, exitUsage, `unexpected argument "extra"`},
	} {
		code, _, stderr := runCLI(t, "", append([]string{"rehearse", "--scenarios", "testdata/rehearse"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("rehearse %q: exit %d, stderr %q; want %d, %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	dir := copyTree(t, map[string][2]string{"scenarios/impact/T1490.yaml": {"", "technique: T1490\ntactic: impact\nscenarios:\n  - id: a\n    steps: [{sleep: 2h}]\n    expect: [{rule: x}]\n"}})
	code, _, stderr := runCLI(t, dir, "rehearse", "--scenarios", dir+"/scenarios")
	if code != exitProblems || !strings.Contains(stderr, "scenarios/impact/T1490.yaml:5:21: scenario \"a\": step 1: sleep 2h0m0s is out of range") {
		t.Errorf("rehearse of a broken file: exit %d, stderr %q", code, stderr)
	}
}

// TestRehearseShippedScenarios replays every scenario the repository ships,
// and the upstream library, without Falco: each step must run as its
// scenario declares on this engine, with these victim images.
func TestRehearseShippedScenarios(t *testing.T) {
	requireDocker(t)
	for _, dir := range []string{"../../scenarios", "../../scenarios/upstream"} {
		t.Run(strings.TrimPrefix(dir, "../../"), func(t *testing.T) {
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("%s: %v", dir, err)
			}
			code, stdout, stderr := runCLI(t, "", "rehearse", "--scenarios", dir)
			if code == exitUsage && strings.Contains(stderr, "no scenario selected") {
				t.Skipf("%s holds no scenario yet", dir)
			}
			if code != exitOK {
				t.Errorf("rehearse %s: exit %d\nstdout:\n%s\nstderr:\n%s", dir, code, stdout, stderr)
				return
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			t.Log(lines[0])
			t.Log(lines[len(lines)-1])
		})
	}
}
