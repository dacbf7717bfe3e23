package scenario

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoadNewStepForms loads every form the format additions give a step
// and a scenario, and checks what the loader makes of each.
func TestLoadNewStepForms(t *testing.T) {
	const f = "scenarios/impact/T1490.yaml"
	body := header + `  - id: shaped
    skip: "  needs Kubernetes: no API server here  "
    forbid_others: true
    victim:
      image: tools
      capabilities: {add: [net_admin, CAP_SYS_PTRACE], drop: [NET_RAW]}
      privileged: true
      extra_hosts: ["metadata.test:198.51.100.9", "v6.test:::1"]
      read_only: true
      network: none
    setup:
      - {exec: [mkdir, -p, /run/sshd], exit: [0, 1]}
    steps:
      - exec: [cat, /tmp/../../etc/passwd]
        tty: true
        exit: 1
      - run: systemctl disable rescue.service
        must_succeed: true
      - sleep: 6s
      - {exec: [/dev/shm/x, "two words", ""], exit: [126, 127]}
    expect: [{rule: Disable recovery features}]
`
	set, lines := loadLines(t, map[string]string{f: body}, Options{Rules: testRules(t)})
	if len(lines) != 0 {
		t.Fatalf("problems:\n%s", strings.Join(lines, "\n"))
	}
	s := set.Scenarios()[0]
	if s.Skip != "needs Kubernetes: no API server here" || !s.ForbidOthers {
		t.Errorf("skip %q, forbid_others %v", s.Skip, s.ForbidOthers)
	}
	want := Victim{Image: ImageTools, CapAdd: []string{"NET_ADMIN", "SYS_PTRACE"}, CapDrop: []string{"NET_RAW"}, Privileged: true,
		ExtraHosts: []string{"metadata.test:198.51.100.9", "v6.test:::1"}, ReadOnly: true, Network: NetworkNone, Line: 7, Column: 5}
	if !reflect.DeepEqual(s.Victim, want) {
		t.Errorf("victim = %+v\nwant     %+v", s.Victim, want)
	}
	if st := s.Setup[0]; !slices.Equal(st.Exec, []string{"mkdir", "-p", "/run/sshd"}) || !slices.Equal(st.Exit, []int{0, 1}) {
		t.Errorf("setup step = %+v", st)
	}
	steps := s.Steps
	if st := steps[0]; !st.TTY || !slices.Equal(st.Exit, []int{1}) || st.Run != "" || st.Command() != "exec: [cat, /tmp/../../etc/passwd]" {
		t.Errorf("exec step = %+v (%s)", st, st.Command())
	}
	if st := steps[1]; !slices.Equal(st.Exit, []int{0}) {
		t.Errorf("must_succeed: true is exit 0, got %v", st.Exit)
	}
	if st := steps[2]; !st.IsSleep() || st.Sleep != 6*time.Second || st.Timeout != 0 || st.Command() != "sleep: 6s" {
		t.Errorf("sleep step = %+v (%s)", st, st.Command())
	}
	if got := steps[3].Command(); got != `exec: [/dev/shm/x, "two words", ""]` {
		t.Errorf("command of an exec with odd arguments = %s", got)
	}
	if got := ExitText([]int{126, 127}); got != "126 or 127" {
		t.Errorf("ExitText = %q", got)
	}
	// A benign scenario may forbid with forbid_others alone.
	benign := header + "  - id: quiet\n    benign: true\n    forbid_others: true\n    steps: [true]\n"
	if _, lines := loadLines(t, map[string]string{f: benign}, Options{}); len(lines) != 0 {
		t.Errorf("benign scenario with forbid_others: %q", lines)
	}
}

func TestLoadNewFormProblems(t *testing.T) {
	const f = "scenarios/impact/T1490.yaml"
	cases := []struct {
		name, body string
		want       []string
	}{
		{
			name: "step kinds",
			body: "  - id: a\n    steps:\n      - {run: x, exec: [x]}\n      - {tty: true}\n      - {sleep: 2s, tty: true, exit: 0, user: nobody}\n    expect: [{rule: '*'}]\n",
			want: []string{
				f + `:6:18: scenario "a": step 1: a step does one thing: it has both run and exec (split it into two steps)`,
				f + `:7:9: scenario "a": step 2: missing key "run", "exec" or "sleep" (give a shell command in run:, an argv in exec: [program, args...], or a wait in sleep: 5s)`,
				f + `:8:21: scenario "a": step 3: tty has no effect on a sleep step (drop it: a sleep step only waits, it runs nothing)`,
				f + `:8:32: scenario "a": step 3: exit has no effect on a sleep step (drop it: a sleep step only waits, it runs nothing)`,
				f + `:8:41: scenario "a": step 3: user has no effect on a sleep step (drop it: a sleep step only waits, it runs nothing)`,
			},
		},
		{
			name: "exec argv",
			body: "  - id: a\n    steps:\n      - exec: cat /etc/passwd\n      - exec: []\n      - exec: ['', x]\n      - exec: [cat, [x]]\n      - exec:\n    expect: [{rule: '*'}]\n",
			want: []string{
				f + `:6:15: scenario "a": step 1: exec must be a list (the argv), not "cat /etc/passwd" (write exec: [program, arg, ...], or use run: for a shell command)`,
				f + `:7:15: scenario "a": step 2: exec is empty (write exec: [program, arg, ...], or use run: for a shell command)`,
				f + `:8:16: scenario "a": step 3: exec program is empty (name the program to run first)`,
				f + `:9:21: scenario "a": step 4: exec argument 2 must be a single value, not a list (give a value; quote it like "" only when the program takes an empty argument)`,
				f + `:10:14: scenario "a": step 5: exec is empty (write exec: [program, arg, ...], or use run: for a shell command)`,
			},
		},
		{
			name: "exit",
			body: "  - id: a\n    steps:\n      - {run: x, exit: 256}\n      - {run: x, exit: []}\n      - {run: x, exit: [0, 1, 0]}\n      - {run: x, exit: one}\n      - {run: x, exit: -1}\n      - {run: x, exit: 0, must_succeed: true}\n    cleanup:\n      - {run: x, exit: 0}\n    expect: [{rule: '*'}]\n",
			want: []string{
				f + `:6:24: scenario "a": step 1: exit status 256 is out of range (write an exit status 0 to 255, or a list like [0, 1])`,
				f + `:7:24: scenario "a": step 2: exit is an empty list (write an exit status 0 to 255, or a list like [0, 1])`,
				f + `:8:31: scenario "a": step 3: exit status 0 appears twice (keep one)`,
				f + `:9:24: scenario "a": step 4: exit status must be a whole number, not "one" (write an exit status 0 to 255, or a list like [0, 1])`,
				f + `:10:24: scenario "a": step 5: exit status -1 is out of range (write an exit status 0 to 255, or a list like [0, 1])`,
				f + `:11:27: scenario "a": step 6: must_succeed and exit both say how the step must end (keep exit: must_succeed: true is short for exit: 0)`,
				f + `:13:18: scenario "a": cleanup step 1: exit has no effect in cleanup (drop exit: cleanup failures are reported, never judged)`,
			},
		},
		{
			name: "sleep",
			body: "  - id: a\n    timeout: 10s\n    steps:\n      - sleep: 0s\n      - sleep: 90s\n      - sleep: 500us\n      - sleep: 6\n      - sleep: 6s\n      - sleep: 4s\n    expect: [{rule: '*'}]\n",
			want: []string{
				f + `:7:16: scenario "a": step 1: sleep must be positive, not "0s" (use a Go duration like 500ms, 10s or 2m)`,
				f + `:8:16: scenario "a": step 2: sleep 1m30s is out of range (sleep between 1ms and 1m0s)`,
				f + `:9:16: scenario "a": step 3: sleep 500µs is out of range (sleep between 1ms and 1m0s)`,
				f + `:10:16: scenario "a": step 4: sleep "6" is not a duration (use a Go duration like 500ms, 10s or 2m)`,
				f + `:12:9: scenario "a": step 6: the scenario's sleeps add up to 10s by this one, not less than the scenario timeout 10s (raise the scenario's timeout or sleep less)`,
			},
		},
		{
			name: "tty",
			body: "  - id: a\n    steps:\n      - {run: x, tty: yes}\n    expect: [{rule: '*'}]\n",
			want: []string{f + `:6:23: scenario "a": step 1: tty must be true or false, not "yes" (write true or false)`},
		},
		{
			name: "skip",
			body: "  - id: a\n    skip: '  '\n    steps: [x]\n    expect: [{rule: '*'}]\n  - id: b\n    skip:\n    steps: [x]\n    expect: [{rule: '*'}]\n",
			want: []string{
				f + `:5:11: scenario "a": skip is empty (give the reason it cannot run here, like "needs Kubernetes", or drop the key)`,
				f + `:9:10: scenario "b": skip is empty (give the reason it cannot run here, like "needs Kubernetes", or drop the key)`,
			},
		},
		{
			name: "forbid_others",
			body: "  - id: a\n    forbid_others: 1\n    steps: [x]\n    expect: [{rule: '*'}]\n  - id: b\n    forbid_others: true\n    steps: [x]\n    expect: [{rule: '*'}]\n",
			want: []string{
				f + `:5:20: scenario "a": forbid_others must be true or false, not "1" (write true or false)`,
				f + `:11:14: warning: scenario "b": expect 1: expect rule "*" names every candidate rule, so forbid_others forbids none (name the rules that must fire, so forbid_others forbids the rest)`,
			},
		},
		{
			name: "victim",
			body: "  - id: a\n    victim:\n      image: 'Not An Image'\n      capabilities:\n        add: [SYS_EVERYTHING, BPF, cap_perfmon, NET_ADMIN, net_admin]\n        drop: [NET_ADMIN]\n        keep: [x]\n      privileged: yes\n      extra_hosts: [metadata.test, 'x:999.1.1.1', 'a b:1.2.3.4', [x]]\n      read_only: 1\n      network: host\n      ports: [80]\n    steps: [x]\n    expect: [{rule: '*'}]\n" +
				"  - id: b\n    victim: [tools]\n    steps: [x]\n    expect: [{rule: '*'}]\n  - id: c\n    victim: {capabilities: {add: NET_ADMIN}, extra_hosts: 'x:1.2.3.4'}\n    steps: [x]\n    expect: [{rule: '*'}]\n",
			want: []string{
				f + `:6:14: scenario "a": image "Not An Image" is not an image name (use tools (the tools image), default, or a local image name like attack-replay/victim:tools)`,
				f + `:8:15: scenario "a": capability "SYS_EVERYTHING" is not a Linux capability (e.g. SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE, SYS_MODULE, LINUX_IMMUTABLE; see capabilities(7))`,
				f + `:8:31: scenario "a": capability BPF is unknown to Docker 20.10, which refuses a container that asks for it (ask for SYS_ADMIN: it covers PERFMON, BPF, CHECKPOINT_RESTORE where they are not split off)`,
				f + `:8:36: scenario "a": capability PERFMON is unknown to Docker 20.10, which refuses a container that asks for it (ask for SYS_ADMIN: it covers PERFMON, BPF, CHECKPOINT_RESTORE where they are not split off)`,
				f + `:8:60: scenario "a": capability NET_ADMIN appears twice (keep one)`,
				f + `:9:15: scenario "a": capability NET_ADMIN is both added and dropped (keep it in one of add and drop)`,
				f + `:10:9: scenario "a": unknown key "keep" in capabilities (known keys: add, drop)`,
				f + `:11:19: scenario "a": privileged must be true or false, not "yes" (write true or false)`,
				f + `:12:21: scenario "a": host entry "metadata.test" has no ip (write name:ip, like metadata.test:198.51.100.9)`,
				f + `:12:36: scenario "a": host entry "x:999.1.1.1": "999.1.1.1" is not an IP address (write name:ip, like metadata.test:198.51.100.9)`,
				f + `:12:51: scenario "a": host entry "a b:1.2.3.4": "a b" is not a host name (write name:ip, like metadata.test:198.51.100.9)`,
				f + `:12:66: scenario "a": host entry must be a single value, not a list (write a list of name:ip, like extra_hosts: ["metadata.test:198.51.100.9"])`,
				f + `:13:18: scenario "a": read_only must be true or false, not "1" (write true or false)`,
				f + `:14:16: scenario "a": network "host" is not one a victim can have (use none or bridge, or drop the key for the engine's default network)`,
				f + `:15:7: scenario "a": unknown key "ports" in victim (known keys: image, capabilities, privileged, extra_hosts, read_only, network)`,
				f + `:19:13: scenario "b": victim must be a mapping (write it as key: value lines; keys: image, capabilities, privileged, extra_hosts, read_only, network)`,
				f + `:23:34: scenario "c": capabilities add must be a list, not "NET_ADMIN" (write a list: add: [NET_ADMIN])`,
				f + `:23:59: scenario "c": extra_hosts must be a list, not "x:1.2.3.4" (write a list of name:ip, like extra_hosts: ["metadata.test:198.51.100.9"])`,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := loadLines(t, map[string]string{f: header + c.body}, Options{})
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
