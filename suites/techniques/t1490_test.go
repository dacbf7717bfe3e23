//go:build !rules

package techniques

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// TestT1490RemountRunsInALoginSession checks, in a real victim, the two
// facts "Disable recovery features" relies on for t1490-user-remount-ro
// (rules/impact.yaml): the victim's mount is setuid root, so Falco reports
// its effective uid 0 as user.uid; and the scenario's step, run verbatim,
// gives the mount it starts the login uid 4242 (user.loginuid). A
// stand-in mount first in PATH reports what the real one would inherit.
func TestT1490RemountRunsInALoginSession(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: starts a victim container")
	}
	idx, err := rules.LoadPaths("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	set, err := scenario.LoadDir("../../scenarios", scenario.Options{Rules: idx})
	if err != nil {
		t.Fatal(err)
	}
	var sc *scenario.Scenario
	for _, s := range set.Scenarios() {
		if s.ID == "t1490-user-remount-ro" {
			sc = s
		}
	}
	if sc == nil || len(sc.Steps) != 1 {
		t.Fatalf("no one-step scenario t1490-user-remount-ro in scenarios/: %+v", sc)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	runID := "t1490-loginuid-" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	c, err := victim.Run(ctx, victim.ImageFromEnv(), victim.WithRunID(runID), victim.WithScenario(sc.ID))
	t.Cleanup(func() {
		if err := c.Terminate(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	exec := func(user, script string, env ...string) string {
		t.Helper()
		res, err := c.Exec(ctx, victim.ExecRequest{Cmd: []string{"sh", "-c", script}, User: user, Env: env, Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 0 {
			t.Fatalf("%q as %q: exit %d\n%s%s", script, user, res.ExitCode, res.Stdout, res.Stderr)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	if got := exec("", "stat -c '%u %A' /usr/bin/mount"); got != "0 -rwsr-xr-x" {
		t.Errorf("/usr/bin/mount is %q, want setuid root (0 -rwsr-xr-x)", got)
	}
	exec("", "useradd -m -u 4242 analyst")
	exec("", "mkdir -p /probe && printf '#!/bin/sh\\necho $(cat /proc/self/loginuid) $(id -u) \"$*\"\\n' > /probe/mount && chmod 755 /probe/mount")
	got := exec(sc.User, sc.Steps[0].Run, "PATH=/probe:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	if want := "4242 4242 -o remount,ro /mnt/recovery"; got != want {
		t.Errorf("the step's mount ran with loginuid, uid, args %q, want %q", got, want)
	}
	// A docker exec of its own has no login: the rule would not see one.
	if got := exec(sc.User, "cat /proc/self/loginuid"); got != "4294967295" {
		t.Errorf("a plain exec's loginuid is %q, want unset (4294967295)", got)
	}
}
