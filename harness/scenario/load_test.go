package scenario

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/attack-replay/attack-replay/harness/rules"
)

// header starts a valid T1490 file; the first scenario goes on line 4.
const header = "technique: T1490\ntactic: impact\nscenarios:\n"

func testRules(t testing.TB) *rules.Index {
	t.Helper()
	idx, err := rules.LoadPaths("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

// loadLines loads files (paths below "scenarios/") and returns every problem
// line, errors and warnings, the way the CLI prints them.
func loadLines(t *testing.T, files map[string]string, opts Options) (*Set, []string) {
	t.Helper()
	set, err := Load(mapFS(files), "scenarios", opts)
	var lines []string
	if err != nil {
		var le *LoadError
		if !errors.As(err, &le) {
			t.Fatalf("error %v is not a *LoadError", err)
		}
		for _, p := range le.Problems {
			if p.Warning {
				t.Errorf("warning in the error list: %v", p)
			}
			lines = append(lines, p.String())
		}
	}
	if set == nil {
		t.Fatal("Load returned no set")
	}
	for _, w := range set.Warnings {
		if !w.Warning {
			t.Errorf("error in the warning list: %v", w)
		}
		lines = append(lines, w.String())
	}
	return set, lines
}

func TestLoadProblemClasses(t *testing.T) {
	const f = "scenarios/impact/T1490.yaml"
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name:  "yaml syntax",
			files: map[string]string{f: header + "  - id: a\n    steps: [\n"},
			want:  []string{f + ":5:1: YAML syntax: did not find expected node content (fix the YAML)"},
		},
		{
			name:  "tab indentation",
			files: map[string]string{f: header + "  - id: a\n\tsteps: [true]\n"},
			want:  []string{f + ":5:1: YAML syntax: this line is indented with a tab (indent with spaces: YAML forbids tabs in indentation)"},
		},
		{
			name:  "binary file",
			files: map[string]string{f: "technique: T1490\n\x7fELF\x00\x01"},
			want:  []string{f + ":2:5: not a text file: byte 0x00 at offset 21 (a technique file is YAML text: remove this file from the scenarios tree)"},
		},
		{
			name:  "invalid UTF-8",
			files: map[string]string{f: header + "  - id: a\xff\n"},
			want: []string{f + ":4:10: not a text file: byte 0xff at offset " + strconv.Itoa(len(header)+9) +
				" (a technique file is YAML text: remove this file from the scenarios tree)"},
		},
		{
			name:  "file over 1 MiB",
			files: map[string]string{f: header + "# " + strings.Repeat("x", 1<<20) + "\n"},
			want: []string{f + ":1:1: file is " + strconv.Itoa(len(header)+3+1<<20) +
				" bytes (a technique file stays under 1 MiB: split it, or move what is large out of the scenarios tree)"},
		},
		{
			name:  "empty file",
			files: map[string]string{f: "# nothing yet\n"},
			want:  []string{f + ":1:1: file is empty (a technique file needs technique, tactic and scenarios; see docs/scenario-format.md)"},
		},
		{
			name:  "null document",
			files: map[string]string{f: "---\n~\n"},
			want:  []string{f + ":1:1: file is empty (a technique file needs technique, tactic and scenarios; see docs/scenario-format.md)"},
		},
		{
			name:  "second document",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n---\ntechnique: T1490\n"},
			want:  []string{f + ":8:1: a technique file holds one YAML document, this is a second one (move its scenarios into the first document and delete the ---)"},
		},
		{
			name:  "not a mapping",
			files: map[string]string{f: "- technique: T1490\n"},
			want:  []string{f + ":1:1: a technique file must be a mapping (write it as key: value lines; keys: technique, tactic, name, scenarios)"},
		},
		{
			name: "unknown keys",
			files: map[string]string{f: "technique: T1490\ntactic: impact\nscenario: []\nscenarios:\n" +
				"  - id: a\n    setps: [x]\n    steps:\n      - run: x\n        timeout_s: 3\n    expect:\n      - rule: '*'\n        feilds: {}\n        output: {matches: x}\n"},
			want: []string{
				f + `:3:1: unknown key "scenario" in a technique file (did you mean "scenarios"? known keys: technique, tactic, name, scenarios)`,
				f + `:6:5: scenario "a": unknown key "setps" in a scenario (did you mean "steps"? known keys: id, description, skip, benign, victim, user, env, workdir, timeout, setup, steps, cleanup, expect, forbid, forbid_others)`,
				f + `:9:9: scenario "a": step 1: unknown key "timeout_s" in a step (did you mean "timeout"? known keys: run, exec, sleep, tty, exit, timeout, must_succeed, user)`,
				f + `:12:9: scenario "a": expect 1: unknown key "feilds" in a matcher (did you mean "fields"? known keys: rule, priority, output, fields, tags, min, max)`,
				f + `:13:18: scenario "a": expect 1: unknown key "matches" in output (known keys: equals, contains, regex)`,
			},
		},
		{
			name:  "misspelled expect",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    expcet: [{rule: '*'}]\n"},
			// Only the key: "expects no alert" would say the same twice.
			want: []string{f + `:6:5: scenario "a": unknown key "expcet" in a scenario (did you mean "expect"? known keys: id, description, skip, benign, victim, user, env, workdir, timeout, setup, steps, cleanup, expect, forbid, forbid_others)`},
		},
		{
			name:  "duplicate key",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n    steps: [y]\n"},
			want:  []string{f + `:7:5: scenario "a": key "steps" appears twice (first at line 5) (keep one)`},
		},
		{
			name:  "missing top-level keys",
			files: map[string]string{f: "name: x\n"},
			want: []string{
				f + `:1:1: missing key "technique" (add technique: with an ATT&CK id like T1490)`,
				f + `:1:1: missing key "tactic" (add tactic: with one of the technique's tactics, like impact)`,
				f + `:1:1: missing key "scenarios" (add scenarios: with at least one scenario)`,
			},
		},
		{
			name: "unknown technique",
			files: map[string]string{
				"scenarios/stealth/T1070.002.yaml": "technique: T1070.002\ntactic: stealth\nscenarios:\n  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/impact/T9999.yaml":      "technique: T9999\ntactic: impact\nscenarios:\n  - id: b\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/impact/x.yaml":          "technique: 1490\ntactic: impact\nscenarios:\n  - id: c\n    steps: [x]\n    expect: [{rule: '*'}]\n",
			},
			want: []string{
				`scenarios/impact/T9999.yaml:1:12: technique T9999 is not in ATT&CK as of 2026-05-12 (check the id against ATT&CK Enterprise)`,
				`scenarios/impact/x.yaml:1:12: "1490" is not an ATT&CK technique id (ids look like T1490 or T1003.008)`,
				`scenarios/stealth/T1070.002.yaml:1:12: technique T1070.002 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685.006 "Disable or Modify Tools: Clear Linux or Mac System Logs" (write technique: T1685.006 and tactic: defense-impairment and move the file to scenarios/defense-impairment/T1685.006.yaml)`,
			},
		},
		{
			name: "renumbered technique under the split tactic",
			files: map[string]string{
				"scenarios/defense-evasion/T1070.002.yaml": "technique: T1070.002\ntactic: defense-evasion\nscenarios:\n  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/defense-evasion/T1562.001.yaml": "technique: T1562.001\ntactic: defense-evasion\nscenarios:\n  - id: b\n    steps: [x]\n    expect: [{rule: '*'}]\n",
			},
			want: []string{
				`scenarios/defense-evasion/T1070.002.yaml:1:12: technique T1070.002 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685.006 "Disable or Modify Tools: Clear Linux or Mac System Logs" (write technique: T1685.006 and move the file to scenarios/defense-impairment/T1685.006.yaml)`,
				`scenarios/defense-evasion/T1070.002.yaml:2:9: tactic "defense-evasion" is not in ATT&CK as of 2026-05-12: it was split into stealth and defense-impairment (T1685.006, which replaced T1070.002, belongs to defense-impairment: write tactic: defense-impairment)`,
				`scenarios/defense-evasion/T1562.001.yaml:1:12: technique T1562.001 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685 "Disable or Modify Tools" (write technique: T1685 and move the file to scenarios/defense-impairment/T1685.yaml)`,
				`scenarios/defense-evasion/T1562.001.yaml:2:9: tactic "defense-evasion" is not in ATT&CK as of 2026-05-12: it was split into stealth and defense-impairment (T1685, which replaced T1562.001, belongs to defense-impairment: write tactic: defense-impairment)`,
			},
		},
		{
			name:  "unknown technique and tactic",
			files: map[string]string{"scenarios/bogus/T9999.yaml": "technique: T9999\ntactic: bogus\nscenarios:\n  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n"},
			want: []string{
				`scenarios/bogus/T9999.yaml:1:12: technique T9999 is not in ATT&CK as of 2026-05-12 (check the id against ATT&CK Enterprise)`,
				`scenarios/bogus/T9999.yaml:2:9: tactic "bogus" is not in ATT&CK as of 2026-05-12 (tactics: reconnaissance, resource-development, initial-access, execution, persistence, privilege-escalation, stealth, defense-impairment, credential-access, discovery, lateral-movement, collection, command-and-control, exfiltration, impact)`,
			},
		},
		{
			name:  "missing tactic",
			files: map[string]string{"scenarios/persistence/T1053.003.yaml": "technique: T1053.003\nscenarios:\n  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n"},
			want:  []string{`scenarios/persistence/T1053.003.yaml:1:1: missing key "tactic" (add tactic: with one of T1053.003's tactics: execution, persistence, privilege-escalation)`},
		},
		{
			name: "tactic",
			files: map[string]string{
				"scenarios/persistence/T1490.yaml":     "technique: T1490\ntactic: persistence\nscenarios:\n  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/impact/T1053.yaml":          "technique: T1053\ntactic: impact\nscenarios:\n  - id: b\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/defense-evasion/T1027.yaml": "technique: T1027\ntactic: defense-evasion\nscenarios:\n  - id: c\n    steps: [x]\n    expect: [{rule: '*'}]\n",
			},
			want: []string{
				`scenarios/defense-evasion/T1027.yaml:2:9: tactic "defense-evasion" is not in ATT&CK as of 2026-05-12: it was split into stealth and defense-impairment (T1027 belongs to stealth: write tactic: stealth)`,
				`scenarios/impact/T1053.yaml:2:9: technique T1053 "Scheduled Task/Job" belongs to tactics execution, persistence, privilege-escalation, not impact (use one of execution, persistence, privilege-escalation)`,
				`scenarios/persistence/T1490.yaml:2:9: technique T1490 "Inhibit System Recovery" belongs to tactic impact, not persistence (set tactic: impact and move the file under impact/)`,
			},
		},
		{
			name: "placement",
			files: map[string]string{
				"scenarios/persistence/T1490.yaml": header + "  - id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/T1490.yml":              header + "  - id: b\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/impact/rescue.yaml":     header + "  - id: c\n    steps: [x]\n    expect: [{rule: '*'}]\n",
			},
			want: []string{
				`scenarios/T1490.yml:2:9: file is not in a tactic directory but its tactic is impact (move it to scenarios/impact/T1490.yml)`,
				`scenarios/impact/rescue.yaml:1:12: file name "rescue.yaml" does not match its technique T1490 (rename it to scenarios/impact/T1490.yaml)`,
				`scenarios/persistence/T1490.yaml:2:9: file is under "persistence/" but its tactic is impact (move it to scenarios/impact/T1490.yaml)`,
			},
		},
		{
			name:  "scenarios empty",
			files: map[string]string{f: header + "  []\n"},
			want:  []string{f + ":4:3: scenarios is empty (add at least one scenario)"},
		},
		{
			name:  "scenarios not a list",
			files: map[string]string{f: header + "  id: a\n"},
			want:  []string{f + ":4:3: scenarios must be a list, not a mapping (write a list: each scenario starts with - id: ...)"},
		},
		{
			name:  "scenario not a mapping",
			files: map[string]string{f: header + "  - just words\n"},
			want:  []string{f + `:4:5: scenario 1: scenario must be a mapping, not "just words" (each scenario is a mapping starting with - id: ...)`},
		},
		{
			name:  "missing id",
			files: map[string]string{f: header + "  - steps: [x]\n    expect: [{rule: '*'}]\n"},
			want:  []string{f + `:4:5: scenario 1: missing key "id" (add id: a-unique-name (lower-case letters, digits, hyphens))`},
		},
		{
			name:  "id syntax",
			files: map[string]string{f: header + "  - id: Disable_Rescue Target\n    steps: [x]\n    expect: [{rule: '*'}]\n"},
			want:  []string{f + `:4:9: scenario "Disable_Rescue Target": id "Disable_Rescue Target" is not valid (use lower-case letters, digits and hyphens, starting with a letter or digit, like "disable-rescue-target")`},
		},
		{
			name: "duplicate id across files",
			files: map[string]string{
				f: header + "  - id: shared\n    steps: [x]\n    expect: [{rule: '*'}]\n",
				"scenarios/stealth/T1027.yaml": "technique: T1027\ntactic: stealth\nscenarios:\n  - id: other\n    steps: [x]\n    expect: [{rule: '*'}]\n" +
					"  - id: shared\n    steps: [y]\n    expect: [{rule: '*'}]\n",
			},
			want: []string{`scenarios/stealth/T1027.yaml:7:5: scenario "shared": id "shared" is already used by the scenario at scenarios/impact/T1490.yaml:4:5 (ids are unique across the whole scenarios tree; rename one)`},
		},
		{
			name: "steps missing or empty",
			files: map[string]string{f: header + "  - id: a\n    expect: [{rule: '*'}]\n" +
				"  - id: b\n    steps: []\n    expect: [{rule: '*'}]\n" +
				"  - id: c\n    steps:\n    expect: [{rule: '*'}]\n"},
			want: []string{
				f + `:4:5: scenario "a": missing key "steps" (add steps: with the commands that emulate the technique)`,
				f + `:7:12: scenario "b": steps is empty (add the commands that emulate the technique)`,
				f + `:10:11: scenario "c": steps is empty (add the commands that emulate the technique)`,
			},
		},
		{
			name: "expects or forbids nothing",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    forbid: [{rule: '*'}]\n" +
				"  - id: b\n    benign: true\n    steps: [x]\n    expect: [{rule: '*'}]\n"},
			want: []string{
				f + `:4:5: scenario "a": scenario expects no alert (add expect: with the rule that must fire, or set benign: true for a false-positive check)`,
				f + `:7:5: scenario "b": benign scenario forbids nothing (add forbid: with the rules that must stay quiet, rule: "*" for all of them, or forbid_others: true)`,
			},
		},
		{
			name:  "durations",
			files: map[string]string{f: header + "  - id: a\n    timeout: 10\n    steps:\n      - run: x\n        timeout: 0s\n      - run: y\n        timeout: 3m\n    expect: [{rule: '*'}]\n"},
			want: []string{
				f + `:5:14: scenario "a": timeout "10" is not a duration (use a Go duration like 500ms, 10s or 2m)`,
				f + `:8:18: scenario "a": step 1: timeout must be positive, not "0s" (use a Go duration like 500ms, 10s or 2m)`,
				f + `:9:9: scenario "a": step 2: step timeout 3m0s is longer than the scenario timeout 2m0s (raise the scenario's timeout or shorten the step's)`,
			},
		},
		{
			name:  "regex",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect:\n      - rule: '*'\n        output: {regex: 'rescue(.service'}\n        fields:\n          proc.name: {regex: '[a-'}\n"},
			want: []string{
				f + `:8:25: scenario "a": expect 1: regex "rescue(.service" does not compile: missing closing ) in "rescue(.service" (write an RE2 regular expression (https://github.com/google/re2/wiki/Syntax))`,
				f + `:10:30: scenario "a": expect 1: regex "[a-" does not compile: missing closing ] in "[a-" (write an RE2 regular expression (https://github.com/google/re2/wiki/Syntax))`,
			},
		},
		{
			name:  "counts",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect:\n      - {rule: '*', min: -1}\n      - {rule: '*', min: 2, max: 1}\n      - {rule: '*', min: 0}\n      - {rule: '*', min: one}\n    forbid:\n      - {rule: x, min: 1, max: 2}\n"},
			want: []string{
				f + `:7:26: scenario "a": expect 1: min must not be negative, got -1 (use 0 or more)`,
				f + `:8:29: scenario "a": expect 2: max 1 is less than min 2 (make max at least min)`,
				f + `:9:21: scenario "a": expect 3: min: 0 with no max accepts any number of alerts, so it checks nothing (set max to bound the count, or remove the matcher)`,
				f + `:10:26: scenario "a": expect 4: min must be a whole number, not "one" (write a whole number like 1)`,
				f + `:12:19: scenario "a": forbid 1: min is not allowed in forbid (a forbid matcher must match no alert at all; to bound a count use expect with min and max)`,
				f + `:12:27: scenario "a": forbid 1: max is not allowed in forbid (a forbid matcher must match no alert at all; to bound a count use expect with min and max)`,
			},
		},
		{
			name:  "booleans",
			files: map[string]string{f: header + "  - id: a\n    benign: yes\n    steps:\n      - run: x\n        must_succeed: 1\n    forbid: [{rule: '*'}]\n"},
			want: []string{
				f + `:5:13: scenario "a": benign must be true or false, not "yes" (write true or false)`,
				f + `:8:23: scenario "a": step 1: must_succeed must be true or false, not "1" (write true or false)`,
			},
		},
		{
			name:  "env user workdir",
			files: map[string]string{f: header + "  - id: a\n    user: 'ana lyst'\n    workdir: tmp\n    env: {1X: a, AR_TOKEN: b, OK: , LIST: [a]}\n    steps:\n      - {run: x, user: 'root;id'}\n    expect: [{rule: '*'}]\n"},
			want: []string{
				f + `:5:11: scenario "a": user "ana lyst" is not a user name or uid (give a user name or uid, optionally with :group, like analyst or 1000:1000)`,
				f + `:6:14: scenario "a": workdir "tmp" is not an absolute path (give an absolute path like /tmp)`,
				f + `:7:11: scenario "a": env name "1X" is not a valid variable name (use letters, digits and underscores, not starting with a digit)`,
				f + `:7:18: scenario "a": env name "AR_TOKEN" is reserved for the harness (rename it: the harness sets AR_* variables to attribute alerts)`,
				f + `:7:35: scenario "a": env OK is empty (give a value; write "" for an empty one)`,
				f + `:7:43: scenario "a": env LIST must be a single value, not a list (give a value; write "" for an empty one)`,
				f + `:9:24: scenario "a": step 1: user "root;id" is not a user name or uid (give a user name or uid, optionally with :group, like analyst or 1000:1000)`,
			},
		},
		{
			name:  "steps",
			files: map[string]string{f: header + "  - id: a\n    setup:\n      - {run: x, must_succeed: false}\n    steps:\n      - ''\n      - {timeout: 1s}\n      - {run: '  '}\n      - [x]\n    cleanup:\n      - {run: x, must_succeed: true}\n    expect: [{rule: '*'}]\n"},
			want: []string{
				f + `:6:18: scenario "a": setup step 1: setup steps always must succeed (drop must_succeed: a failed setup step always makes the scenario an error)`,
				f + `:8:9: scenario "a": step 1: command is empty (give the shell command to run)`,
				f + `:9:9: scenario "a": step 2: missing key "run", "exec" or "sleep" (give a shell command in run:, an argv in exec: [program, args...], or a wait in sleep: 5s)`,
				f + `:10:15: scenario "a": step 3: run is empty (give the shell command to run)`,
				f + `:11:9: scenario "a": step 4: a step must be a mapping (write it as key: value lines; keys: run, exec, sleep, tty, exit, timeout, must_succeed, user)`,
				f + `:13:18: scenario "a": cleanup step 1: must_succeed has no effect in cleanup (drop must_succeed: cleanup failures are reported, never judged)`,
			},
		},
		{
			name:  "text matches",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect:\n      - rule: '*'\n        output: {equals: a, contains: b}\n        fields:\n          proc.name: {}\n          'proc name': x\n          user.name:\n        tags: T1490\n      - {}\n"},
			want: []string{
				f + `:8:29: scenario "a": expect 1: output gives both equals and contains (keep one)`,
				f + `:10:22: scenario "a": expect 1: field proc.name is an empty mapping (write a value, or one of {equals: ...}, {contains: ...}, {regex: ...})`,
				f + `:11:11: scenario "a": expect 1: field name "proc name" is not a Falco field (write a Falco field name like proc.name or proc.env[HOME])`,
				f + `:12:21: scenario "a": expect 1: field user.name is empty (write a value, or one of {equals: ...}, {contains: ...}, {regex: ...}; for a missing value write "<NA>")`,
				f + `:13:15: scenario "a": expect 1: tags must be a list, not "T1490" (write a list: tags: [T1490])`,
				f + `:14:9: scenario "a": expect 2: missing key "rule" (add rule: with a rule name, or "*" for any candidate rule)`,
			},
		},
		{
			name:  "forbid rules out an expected alert",
			files: map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect: [{rule: Disable recovery features}]\n    forbid:\n      - rule: '*'\n      - rule: Disable recovery features\n      - {rule: Disable recovery features, fields: {user.name: root}}\n"},
			want: []string{
				f + `:8:9: scenario "a": forbid 1: forbids every candidate rule ("*"), but expect 1 requires an alert of rule "Disable recovery features" (narrow the forbid with priority, output, fields or tags, or forbid other rules)`,
				f + `:9:9: scenario "a": forbid 2: forbids rule "Disable recovery features", but expect 1 requires an alert of rule "Disable recovery features" (narrow the forbid with priority, output, fields or tags, or forbid other rules)`,
			},
		},
		{
			name:  "alias cycle",
			files: map[string]string{f: header + "  - &s\n    id: a\n    steps: [x]\n    expect: [{rule: '*'}]\n    more: *s\n"},
			want:  []string{f + `:4:5: an alias refers to a node that contains it (write the values out instead of aliasing them)`},
		},
		{
			name: "alias bomb",
			files: map[string]string{f: "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
				"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"},
			want: []string{f + `:1:1: aliases expand this file to more than 100000 YAML nodes (write the values out instead of aliasing them)`},
		},
		{
			name:  "missing directory",
			files: map[string]string{"elsewhere/x.yaml": "x: 1\n"},
			want:  []string{`scenarios: read scenarios: file does not exist (pass an existing scenarios directory)`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, got := loadLines(t, c.files, Options{})
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestLoadRuleChecks(t *testing.T) {
	const f = "scenarios/impact/T1490.yaml"
	files := map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect:\n" +
		"      - rule: Disable recovery feature\n" + // 7
		"      - rule: disable recovery features\n" + // 8
		"      - rule: Nothing like it\n" + // 9
		"      - {rule: Disable recovery features, priority: WARNING, tags: [T1490, T1491]}\n" + // 10
		"      - {rule: Disable recovery features, priority: HIGH}\n" + // 11
		"      - {rule: attack-replay barrier}\n" + // 12
		"      - {rule: Dormant rule}\n" + // 13
		"      - rule: Disable recovery features\n        fields:\n          proc.args: x\n          proc.name: y\n          fd.name: z\n          proc.aname[2]: w\n" + // 14-19
		"    forbid:\n      - rule: Clear Log Activity\n      - rule: '*'\n        priority: DEBUG\n"} // 20-23
	_, got := loadLines(t, files, Options{Rules: testRules(t)})
	want := []string{
		f + `:7:9: scenario "a": expect 1: rule "Disable recovery feature" is not in the loaded rules files (did you mean "Disable recovery features"?)`,
		f + `:8:9: scenario "a": expect 2: rule "disable recovery features" is not in the loaded rules files (did you mean "Disable recovery features"?)`,
		f + `:9:9: scenario "a": expect 3: rule "Nothing like it" is not in the loaded rules files (check the name against the rules files, or pass the file that defines it with --rules)`,
		f + `:10:9: scenario "a": expect 4: priority WARNING does not match rule "Disable recovery features", which has priority CRITICAL (use CRITICAL, or drop priority)`,
		f + `:10:9: scenario "a": expect 4: rule "Disable recovery features" has no tag "T1491", so no alert of it can match (its tags: T1490, inhibit_system_recovery, mitre_impact; drop the tag or add it to the rule)`,
		f + `:11:53: scenario "a": expect 5: unknown priority "HIGH" (use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG)`,
		f + `:12:9: scenario "a": expect 6: rule "attack-replay barrier" is the harness's own barrier rule and never counts (name a candidate rule)`,
		f + `:21:9: scenario "a": forbid 1: rule "Clear Log Activity" is not in the loaded rules files (did you mean "Clear Log Activities"?)`,
		f + `:13:9: warning: scenario "a": expect 7: rule "Dormant rule" is disabled in its rules file (enabled: false): the harness enables it for the scenarios that name it, but Falco running that file as it is will not raise it (enable it in its rules file if it should fire in production)`,
		f + `:19:11: warning: scenario "a": expect 8: rule "Disable recovery features" does not print field "proc.aname[2]" and the harness does not add it, so no alert carries it (match a field the rule's output prints, or one the harness adds: container.id, container.name, proc.name, proc.exepath, proc.cmdline, proc.pid, proc.ppid, proc.pname, user.name, user.uid, fd.name, evt.type, evt.time, ar_token, ar_barrier)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadReportsEveryProblemOfEveryFile(t *testing.T) {
	files := map[string]string{
		"scenarios/impact/T1490.yaml": header +
			"  - id: Bad_ID\n    steps: []\n    expect: [{rule: '*', min: -2}]\n" +
			"  - id: two\n    timeout: forever\n    steps: [x]\n",
		"scenarios/persistence/T1053.003.yaml": "technique: T1053.003\ntactic: impact\nscenarios:\n  - id: two\n    steps: [x]\n    expect: [{rule: Nope}]\n",
		"scenarios/stealth/T1027.yaml":         "technique: T1027\ntactic: stealth\nscenarios:\n  - id: fine\n    steps: [x]\n    expect: [{rule: '*'}]\n  - {id: broken, steps: [x], expect: [{rule: '*', output: {regex: '('}}]}\n",
		"scenarios/stealth/notes.txt":          "not a technique file",
	}
	set, err := Load(mapFS(files), "scenarios", Options{Rules: testRules(t)})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range le.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`scenarios/impact/T1490.yaml:4:9: scenario "Bad_ID": id "Bad_ID" is not valid (use lower-case letters, digits and hyphens, starting with a letter or digit, like "bad-id")`,
		`scenarios/impact/T1490.yaml:5:12: scenario "Bad_ID": steps is empty (add the commands that emulate the technique)`,
		`scenarios/impact/T1490.yaml:6:31: scenario "Bad_ID": expect 1: min must not be negative, got -2 (use 0 or more)`,
		`scenarios/impact/T1490.yaml:7:5: scenario "two": scenario expects no alert (add expect: with the rule that must fire, or set benign: true for a false-positive check)`,
		`scenarios/impact/T1490.yaml:8:14: scenario "two": timeout "forever" is not a duration (use a Go duration like 500ms, 10s or 2m)`,
		`scenarios/persistence/T1053.003.yaml:2:9: technique T1053.003 "Scheduled Task/Job: Cron" belongs to tactics execution, persistence, privilege-escalation, not impact (use one of execution, persistence, privilege-escalation)`,
		`scenarios/persistence/T1053.003.yaml:4:5: scenario "two": id "two" is already used by the scenario at scenarios/impact/T1490.yaml:7:5 (ids are unique across the whole scenarios tree; rename one)`,
		`scenarios/persistence/T1053.003.yaml:6:14: scenario "two": expect 1: rule "Nope" is not in the loaded rules files (check the name against the rules files, or pass the file that defines it with --rules)`,
		`scenarios/stealth/T1027.yaml:7:67: scenario "broken": expect 1: regex "(" does not compile: missing closing ) in "(" (write an RE2 regular expression (https://github.com/google/re2/wiki/Syntax))`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// What could be decoded is still there, for listing.
	if n := len(set.Scenarios()); n != 5 {
		t.Errorf("set has %d scenarios, want 5", n)
	}
	if !strings.HasPrefix(err.Error(), "load scenarios: 9 problem(s):\nscenarios/impact/T1490.yaml:4:9: ") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestLoadNoFilesIsAWarning(t *testing.T) {
	set, lines := loadLines(t, map[string]string{"scenarios/README.md": "# scenarios\n"}, Options{})
	want := []string{"scenarios: warning: no technique files (*.yaml) found (add scenarios/<tactic>/<technique>.yaml files)"}
	if !reflect.DeepEqual(lines, want) || len(set.Files) != 0 {
		t.Errorf("lines = %q", lines)
	}
}

func TestLoadNumbersItemsAsWritten(t *testing.T) {
	// The first step and matcher fail to decode; later ones keep the
	// numbers the user sees in the file.
	const f = "scenarios/impact/T1490.yaml"
	files := map[string]string{f: header + "  - id: a\n    steps:\n      - {}\n      - run: x\n        timeout: 5m\n    expect:\n      - {priority: bogus}\n      - rule: Nope\n    forbid:\n      - {rule: '*', min: 1}\n      - rule: '*'\n"}
	_, got := loadLines(t, files, Options{Rules: testRules(t)})
	want := []string{
		f + `:6:9: scenario "a": step 1: missing key "run", "exec" or "sleep" (give a shell command in run:, an argv in exec: [program, args...], or a wait in sleep: 5s)`,
		f + `:7:9: scenario "a": step 2: step timeout 5m0s is longer than the scenario timeout 2m0s (raise the scenario's timeout or shorten the step's)`,
		f + `:10:9: scenario "a": expect 1: missing key "rule" (add rule: with a rule name, or "*" for any candidate rule)`,
		f + `:10:20: scenario "a": expect 1: unknown priority "bogus" (use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG)`,
		f + `:11:9: scenario "a": expect 2: rule "Nope" is not in the loaded rules files (check the name against the rules files, or pass the file that defines it with --rules)`,
		f + `:13:9: scenario "a": forbid 1: forbids every candidate rule ("*"), but expect 2 requires an alert of rule "Nope" (narrow the forbid with priority, output, fields or tags, or forbid other rules)`,
		f + `:13:21: scenario "a": forbid 1: min is not allowed in forbid (a forbid matcher must match no alert at all; to bound a count use expect with min and max)`,
		f + `:14:9: scenario "a": forbid 2: forbids every candidate rule ("*"), but expect 2 requires an alert of rule "Nope" (narrow the forbid with priority, output, fields or tags, or forbid other rules)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadWarnsOfAnyRuleTagsNoRuleCarries(t *testing.T) {
	const f = "scenarios/impact/T1490.yaml"
	files := map[string]string{f: header + "  - id: a\n    steps: [x]\n    expect:\n" +
		"      - {rule: '*', tags: [T1490]}\n" + // 7: carried
		"      - {rule: '*', tags: [T1490.001]}\n" + // 8: its parent is carried, which "*" accepts
		"      - {rule: '*', tags: [T1070.003, mitre_impact]}\n"} // 9: neither T1070.003 nor T1070
	_, got := loadLines(t, files, Options{Rules: testRules(t)})
	want := []string{
		f + `:9:9: warning: scenario "a": expect 3: expect rule "*" wants tag "T1070.003", which no loaded rule carries (nor T1070): no alert can match, so the scenario can only fail (load rules that carry the tag, or expect another one)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, got := loadLines(t, files, Options{}); len(got) != 0 {
		t.Errorf("without rules to check against, problems %q", got)
	}
}
