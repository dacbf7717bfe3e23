package mutate_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/attack-replay/attack-replay/harness/mutate"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// brief is an event as "user uid/loginuid: cmdline (pname)".
func brief(ev map[string]string) string {
	uid, ok := ev["user.uid"]
	if !ok {
		uid = "?"
	}
	return fmt.Sprintf("%s %s/%s: %s (%s)", ev["user.name"], uid, ev["user.loginuid"], ev["proc.cmdline"], ev["proc.pname"])
}

func TestEvents(t *testing.T) {
	users := map[string]string{"root": "0", "analyst": "4242"}
	for _, tc := range []struct {
		run  string
		argv []string
		user string
		want []string
	}{
		{run: "rm -rf /tmp/x", want: []string{"root 0/-1: sh -c rm -rf /tmp/x ()", "root 0/-1: rm -rf /tmp/x (sh)"}},
		{run: `echo 4242 > /proc/self/loginuid && mount -o remount,ro /mnt/recovery`, user: "analyst", want: []string{
			"analyst 4242/-1: sh -c echo 4242 > /proc/self/loginuid && mount -o remount,ro /mnt/recovery ()",
			// mount is setuid root: Falco's user.uid is the effective uid
			"root 0/4242: mount -o remount,ro /mnt/recovery (sh)",
		}},
		{run: `X=1 systemctl disable "rescue.service" 2>&1 | tee /tmp/log; true`, user: "nobody", want: []string{
			`nobody ?/-1: sh -c X=1 systemctl disable "rescue.service" 2>&1 | tee /tmp/log; true ()`,
			"nobody ?/-1: systemctl disable rescue.service (sh)",
			"nobody ?/-1: tee /tmp/log (sh)",
		}},
		{run: "sudo -n rm -rf /srv # clean", user: "analyst", want: []string{
			"analyst 4242/-1: sh -c sudo -n rm -rf /srv # clean ()",
			"root 0/-1: sudo -n rm -rf /srv (sh)",
			"root 0/-1: rm -rf /srv (sudo)",
		}},
		{argv: []string{"/usr/bin/cat", "/etc/shadow"}, want: []string{"root 0/-1: cat /etc/shadow ()"}},
		// setpriv execs the command in its own process, as the uid it was given.
		{run: "echo 4242 > /proc/self/loginuid && exec setpriv --reuid=4242 --regid 4242 --init-groups mount -o remount,ro /mnt", want: []string{
			"root 0/-1: sh -c echo 4242 > /proc/self/loginuid && exec setpriv --reuid=4242 --regid 4242 --init-groups mount -o remount,ro /mnt ()",
			"root 0/4242: setpriv --reuid=4242 --regid 4242 --init-groups mount -o remount,ro /mnt (sh)",
			"root 0/4242: mount -o remount,ro /mnt (sh)", // setuid root again
		}},
		{run: "setpriv --reuid analyst -- id -u", want: []string{
			"root 0/-1: sh -c setpriv --reuid analyst -- id -u ()",
			"root 0/-1: setpriv --reuid analyst -- id -u (sh)",
			"analyst 4242/-1: id -u (sh)",
		}},
		{run: "setpriv --no-new-privs", want: []string{"root 0/-1: sh -c setpriv --no-new-privs ()", "root 0/-1: setpriv --no-new-privs (sh)"}},
	} {
		var got []string
		for _, ev := range mutate.ExecEvents(tc.run, tc.argv, tc.user, users) {
			got = append(got, brief(ev))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("events of %q %q:\n got %q\nwant %q", tc.run, tc.argv, got, tc.want)
		}
	}
}

func TestEventsOfScenario(t *testing.T) {
	sc := &scenario.Scenario{
		ID: "s", User: "analyst",
		Setup: []scenario.Step{{Run: "useradd -m -u 4242 analyst"}},
		Steps: []scenario.Step{{Run: "cat /etc/passwd"}, {Sleep: 1}, {Run: "for f in a b; do rm $f; done"}, {Exec: []string{"id"}, User: "root"}},
	}
	got := mutate.Events(sc)
	if len(got) != 3 || got[0].Step != 1 || got[1].Step != 3 || got[2].Step != 4 {
		t.Fatalf("steps %+v, want 1, 3 and 4 (a sleep execs nothing)", got)
	}
	if ev := got[0].Events[1]; brief(ev) != "analyst 4242/-1: cat /etc/passwd (sh)" || ev["evt.num"] != "2" {
		t.Errorf("step 1: %s, evt.num %s", brief(ev), ev["evt.num"])
	}
	if got[1].Unmodelled == "" || len(got[1].Events) != 1 {
		t.Errorf("a for loop is not read, and says so: %+v", got[1])
	}
	if brief(got[2].Events[0]) != "root 0/-1: id ()" {
		t.Errorf("step 4: %s", brief(got[2].Events[0]))
	}
}
