package soak

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
)

// sweepRules is the candidate rules file of the sweep.
const sweepRules = `- rule: Sweep rm -rf
  desc: detect rm -rf (sweep rule)
  condition: evt.type in (execve, execveat) and proc.name=rm and proc.args contains "-rf"
  output: "rm -rf seen (cmdline=%proc.cmdline)"
  priority: WARNING
  tags: [T1485]
`

// sweepScenario is a good scenario file; each case breaks one thing.
const sweepScenario = `technique: T1485
tactic: impact
scenarios:
  - id: sweep-touch
    benign: true
    description: Creating a file is not destruction.
    steps:
      - touch /tmp/a
    forbid:
      - rule: Sweep rm -rf
`

// badInput is one class of bad input a user can cause: files written under
// the case's directory (rules/sweep.yaml and scenarios/impact/T1485.yaml
// unless replaced), variables, and what the run must say. ${DIR} in files,
// variables and wants is the case's directory.
type badInput struct {
	name  string
	files map[string]string
	env   []string
	want  []string
	// falcoStarts: the bad input is one only Falco can judge, so Falco
	// starts (and refuses); no scenario may run all the same.
	falcoStarts bool
	// rejecting: FALCO_IMAGE is a stand-in that replays Falco 0.43.1
	// rejecting a rules file named rm_rf.yaml.
	rejecting bool
}

const scenarioFile = "scenarios/impact/T1485.yaml"

func replaced(old, new string) map[string]string {
	return map[string]string{scenarioFile: strings.Replace(sweepScenario, old, new, 1)}
}

var badInputs = []badInput{
	{name: "malformed YAML", files: replaced("      - touch /tmp/a\n", "      - [touch /tmp/a\n"),
		want: []string{"${DIR}/" + scenarioFile + ":8"}},
	{name: "tab-indented file", files: replaced("    benign: true\n", "\tbenign: true\n"),
		want: []string{"${DIR}/" + scenarioFile + ":5:1: YAML syntax: this line is indented with a tab", "indent with spaces"}},
	{name: "unknown key", files: replaced("    benign: true\n", "    benign: true\n    severity: high\n"),
		want: []string{"${DIR}/" + scenarioFile + ":6", "severity"}},
	{name: "duplicate scenario id across files", files: map[string]string{"scenarios/impact/T1490.yaml": strings.Replace(sweepScenario, "T1485", "T1490", 1)},
		want: []string{"${DIR}/scenarios/impact/T1490.yaml:4", "sweep-touch", "${DIR}/" + scenarioFile + ":4", "rename one"}},
	{name: "empty file", files: map[string]string{"scenarios/impact/T1490.yaml": ""},
		want: []string{"${DIR}/scenarios/impact/T1490.yaml", "empty"}},
	{name: "binary file", files: map[string]string{"scenarios/impact/T1490.yaml": "\x7fELF\x02\x01\x01\x00\x00\x00"},
		want: []string{"${DIR}/scenarios/impact/T1490.yaml:1:8: not a text file", "remove this file from the scenarios tree"}},
	{name: "50 MB file", files: replaced("Creating a file is not destruction.", strings.Repeat("x", 50<<20)),
		want: []string{"${DIR}/" + scenarioFile + ":1:1: file is 52428", "stays under 1 MiB"}},
	{name: "unknown ATT&CK id", files: replaced("technique: T1485", "technique: T1999"),
		want: []string{"${DIR}/" + scenarioFile + ":1", "T1999"}},
	{name: "renumbered (deprecated) ATT&CK id", files: replaced("technique: T1485", "technique: T1070.002"),
		want: []string{"${DIR}/" + scenarioFile + ":1", "T1070.002", "T1685.006"}},
	{name: "tactic the technique does not have", files: replaced("tactic: impact", "tactic: persistence"),
		want: []string{"${DIR}/" + scenarioFile + ":2", "persistence", "impact"}},
	{name: "bad duration", files: replaced("      - touch /tmp/a\n", "      - run: touch /tmp/a\n        timeout: 5 parsecs\n"),
		want: []string{"${DIR}/" + scenarioFile + ":9", "5 parsecs"}},
	{name: "bad regex", files: replaced("      - rule: Sweep rm -rf\n", "      - rule: Sweep rm -rf\n        output: {regex: 'rm (-rf'}\n"),
		want: []string{"${DIR}/" + scenarioFile + ":11", "regex"}},
	{name: "rule no rules file defines", files: replaced("      - rule: Sweep rm -rf\n", "      - rule: Sweep rm -fr\n"),
		want: []string{"${DIR}/" + scenarioFile + ":10", "Sweep rm -fr"}},
	{name: "rules file Falco rejects", rejecting: true, falcoStarts: true,
		files: map[string]string{"rules/sweep.yaml": "", "rules/rm_rf.yaml": sweepRules},
		want:  []string{"${DIR}/rules/rm_rf.yaml:4:11", "LOAD_ERR_COMPILE_OUTPUT"}},
	{name: "missing rules path", env: []string{"RULES=${DIR}/no-such-rules"},
		want: []string{"${DIR}/no-such-rules: RULES names it, but it does not exist (set RULES to rules files or directories"}},
	{name: "missing scenarios path", env: []string{"SCENARIOS=${DIR}/no-such-scenarios"},
		want: []string{"${DIR}/no-such-scenarios: SCENARIOS names it, but it does not exist (set SCENARIOS to the scenarios directory"}},
	{name: "bad WORKERS", env: []string{"WORKERS=many"}, want: []string{`WORKERS="many"`}},
	{name: "bad REPEAT", env: []string{"REPEAT=0"}, want: []string{`REPEAT="0"`}},
	{name: "bad BARRIER_TIMEOUT", env: []string{"BARRIER_TIMEOUT=15"}, want: []string{`BARRIER_TIMEOUT="15"`}},
	{name: "bad FALCO_TRANSPORT", env: []string{"FALCO_TRANSPORT=grcp"}, want: []string{`FALCO_TRANSPORT="grcp"`, "grpc"}},
	{name: "unknown TECHNIQUES id", env: []string{"TECHNIQUES=T1485,T9999"}, want: []string{`TECHNIQUES="T1485,T9999"`, "T9999"}},
	{name: "unwritable REPORT_DIR", env: []string{"REPORT_DIR=/proc/attack-replay-sweep"}, want: []string{`REPORT_DIR="/proc/attack-replay-sweep"`}},
	{name: "missing victim image", env: []string{"VICTIM_IMAGE=attack-replay/no-such-victim:sweep"},
		want: []string{"attack-replay/no-such-victim:sweep", "VICTIM_IMAGE", "make victim-image"}},
	{name: "missing Falco image", env: []string{"FALCO_IMAGE=attack-replay/no-such-falco:sweep"},
		want: []string{"attack-replay/no-such-falco:sweep", "FALCO_IMAGE"}},
	{name: "missing Docker engine", env: []string{"DOCKER_HOST=unix://${DIR}/no-engine.sock"},
		want: []string{`DOCKER_HOST="unix://${DIR}/no-engine.sock": no Docker engine answers there`, "unset DOCKER_HOST"}},
}

// TestBadInputSweep runs the suite, as `make test-rules` does, on each
// class of bad input: each must stop the run with a message that names the
// file and line (or the variable) and what to do, before any scenario ran.
func TestBadInputSweep(t *testing.T) {
	b := newBench(t)
	var rejecting string
	for _, c := range badInputs {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			expand := func(s string) string { return strings.ReplaceAll(s, "${DIR}", dir) }
			files := map[string]string{"rules/sweep.yaml": sweepRules, scenarioFile: sweepScenario}
			for name, content := range c.files {
				files[name] = content
			}
			for name, content := range files {
				path := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(expand(content)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			image := b.image
			if c.rejecting {
				if rejecting == "" {
					rejecting = standinImage(t, falcotest.WithReplay("start-fails-invalid-rules-0.43.1.stderr"))
				}
				image = rejecting
			}
			rl, err := startRelay(image, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, b.suite, "-test.run", "^TestTechniques$", "-ginkgo.no-color")
			cmd.Dir = filepath.Join(b.root, "suites", "techniques")
			cmd.Env = append(suiteEnv(), "TMPDIR="+dir, "FALCO_IMAGE="+image, "RULES="+filepath.Join(dir, "rules"),
				"SCENARIOS="+filepath.Join(dir, "scenarios"), "REPORT_DIR="+filepath.Join(dir, "reports"), "WORKERS=1")
			for _, kv := range c.env {
				cmd.Env = append(cmd.Env, expand(kv))
			}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			runErr := cmd.Run()
			rl.stop()
			if runErr == nil {
				t.Fatalf("the run passed:\n%s", tail(out.String(), 3000))
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), expand(w)) {
					t.Errorf("output lacks %q", expand(w))
				}
			}
			if n := rl.falcoStarted(); n > 0 && !c.falcoStarts {
				t.Errorf("Falco was started %d time(s): the bad input was not caught first", n)
			}
			if rl.stepVictim(0) != "" {
				t.Error("a scenario's step ran")
			}
			if t.Failed() {
				t.Logf("output:\n%s", tail(out.String(), 3000))
			} else {
				t.Logf("%s", verdictLines(out.String()))
			}
		})
	}
}

// verdictLines is what the suite said when it stopped: the lines after
// its failure's location.
func verdictLines(out string) string {
	_, after, ok := strings.Cut(out, "techniques_suite_test.go:")
	if !ok {
		return tail(out, 600)
	}
	lines := strings.Split(after, "\n")
	return strings.Join(lines[:min(len(lines), 4)], "\n")
}
