package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command as main would and returns its exit status and
// outputs, with dir (a temp tree) removed from paths.
func runCLI(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	clean := func(s string) string {
		if dir == "" {
			return s
		}
		return strings.ReplaceAll(s, dir+string(filepath.Separator), "")
	}
	return code, clean(stdout.String()), clean(stderr.String())
}

// copyTree copies testdata/good into a temp dir and applies edits
// (path -> old -> new); an edit whose old text is "" writes a new file.
func copyTree(t *testing.T, edits map[string][2]string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir("testdata/good", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata/good", p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel, e := range edits {
		p := filepath.Join(dst, rel)
		if e[0] == "" {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(e[1]), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), e[0]) {
			t.Fatalf("%s does not contain %q", rel, e[0])
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), e[0], e[1], 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func paths(dir string) []string {
	return []string{"--rules", filepath.Join(dir, "rules"), "--scenarios", filepath.Join(dir, "scenarios")}
}

func TestUsage(t *testing.T) {
	code, stdout, stderr := runCLI(t, "")
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "Commands:\n  validate  ") || !strings.Contains(stderr, "\n  list      ") {
		t.Errorf("no args: %d %q %q", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "", "help")
	if code != exitOK || !strings.HasPrefix(stdout, "attack-replay tests Falco rules") {
		t.Errorf("help: %d %q", code, stdout)
	}
	code, _, stderr = runCLI(t, "", "frobnicate")
	if code != exitUsage || !strings.HasPrefix(stderr, `attack-replay: unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "validate", "-h")
	if code != exitOK || !strings.Contains(stderr, "Usage: attack-replay validate [flags]") || !strings.Contains(stderr, "-scenarios directory") {
		t.Errorf("validate -h: %d %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "validate", "extra")
	if code != exitUsage || !strings.HasPrefix(stderr, `attack-replay validate: unexpected argument "extra"`) {
		t.Errorf("extra argument: %d %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "list", "--bogus")
	if code != exitUsage || !strings.Contains(stderr, "flag provided but not defined: -bogus") {
		t.Errorf("bad flag: %d %q", code, stderr)
	}
}

func TestUsageListsEveryCommandAndHelpPrintsItsFlags(t *testing.T) {
	_, usageText, _ := runCLI(t, "", "help")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		line := "\n  " + c.name + strings.Repeat(" ", width-len(c.name)) + "  " + c.summary + "\n"
		if !strings.Contains(usageText, line) {
			t.Errorf("usage lacks %q:\n%s", line, usageText)
		}
		for _, args := range [][]string{{"help", c.name}, {c.name, "-h"}} {
			code, stdout, stderr := runCLI(t, "", args...)
			out := stdout + stderr
			// check-config reads only the environment: no flags to list.
			if code != exitOK || !strings.HasPrefix(out, "Usage: attack-replay "+c.name+" [flags]") || strings.Contains(out, "\nFlags:\n  -") == (c.name == "check-config") {
				t.Errorf("%q: exit %d\nstdout %q\nstderr %q", args, code, stdout, stderr)
			}
			// help asked for is on stdout; -h, like every flag error, on stderr.
			if (args[0] == "help") != (stdout != "") {
				t.Errorf("%q printed on the wrong stream: stdout %q stderr %q", args, stdout, stderr)
			}
		}
	}
	for _, args := range [][]string{{"help", "frobnicate"}, {"help", "diff", "list"}} {
		code, stdout, stderr := runCLI(t, "", args...)
		if code != exitUsage || stdout != "" || stderr == "" {
			t.Errorf("%q: exit %d stdout %q stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestValidateGoodTree(t *testing.T) {
	dir := copyTree(t, nil)
	code, stdout, stderr := runCLI(t, dir, append([]string{"validate"}, paths(dir)...)...)
	want := "ok: 4 scenarios (2 attack, 2 benign) for 2 techniques in 2 tactics; 2 rules in 3 rules files; ATT&CK as of 2026-05-12\n"
	if code != exitOK || stdout != want || stderr != "" {
		t.Errorf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, stdout, want, stderr)
	}
}

func TestValidateDefaultsToTheWorkingDirectory(t *testing.T) {
	dir := copyTree(t, nil)
	t.Chdir(dir)
	code, stdout, stderr := runCLI(t, dir, "validate")
	if code != exitOK || !strings.HasPrefix(stdout, "ok: 4 scenarios") {
		t.Errorf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	// With no rules/ here, every named rule is missing.
	if err := os.RemoveAll("rules"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, dir, "validate")
	if code != exitProblems || !strings.HasPrefix(stderr, "rules/: read rules: no such file or directory (pass an existing rules file or directory)\n") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

func TestValidateBrokenTreeListsEveryProblem(t *testing.T) {
	dir := copyTree(t, map[string][2]string{
		"rules/stealth.yaml":          {"tags: [mitre_stealth, T1070.003]", "tags: [mitre_stealth, T1070.003, mitre_defense_evasion]"},
		"rules/zz-broken.yaml":        {"", "- rule: Half written\n  desc: \"no end\n"},
		"rules/impact.yaml":           {"  tags: [mitre_impact, T1490]\n", "  tags: [mitre_impact, T1490]\n- rule: No output\n  desc: d\n  condition: spawned_process\n  priority: INFO\n"},
		"scenarios/impact/T1490.yaml": {"        timeout: 10s\n    forbid:\n      - rule: Disable recovery features", "        timeout: ten\n    forbid:\n      - rule: Disable recovery feature"},
		"scenarios/stealth/T1070.003.yaml": {"tactic: stealth\nscenarios:\n  - id: truncate-bash-history\n    steps:\n      - truncate -s 0 /root/.bash_history\n    expect:\n      - rule: Shell history cleared\n        output: { regex: 'History cleared' }\n  - id: benign-read-history",
			"tactic: defense-impairment\nscenarios:\n  - id: truncate-bash-history\n    steps:\n      - truncate -s 0 /root/.bash_history\n    expect:\n      - rule: Shell history cleared\n        output: { regex: 'History cleared(' }\n  - id: rm-rf-as-analyst"},
	})
	code, stdout, stderr := runCLI(t, dir, append([]string{"validate"}, paths(dir)...)...)
	want := strings.Join([]string{
		`rules/stealth.yaml:6:36: warning: rule "Shell history cleared": tag "mitre_defense_evasion" names tactic "defense-evasion", which ATT&CK as of 2026-05-12 split into stealth, defense-impairment (use mitre_stealth or mitre_defense_impairment)`,
		`rules/impact.yaml:10:3: rule "No output": missing key "output" (a rule needs desc, condition, output and priority; to change an existing rule use override:)`,
		`rules/zz-broken.yaml:2:1: YAML syntax: found unexpected end of stream (fix the YAML; Falco would refuse the whole file)`,
		`scenarios/impact/T1490.yaml:21:18: scenario "benign-rm-as-root": step 1: timeout "ten" is not a duration (use a Go duration like 500ms, 10s or 2m)`,
		`scenarios/impact/T1490.yaml:23:9: scenario "benign-rm-as-root": forbid 1: rule "Disable recovery feature" is not in the loaded rules files (did you mean "Disable recovery features"?)`,
		`scenarios/stealth/T1070.003.yaml:2:9: technique T1070.003 "Indicator Removal on Host: Clear Command History" belongs to tactic stealth, not defense-impairment (set tactic: stealth and move the file under stealth/)`,
		`scenarios/stealth/T1070.003.yaml:9:26: scenario "truncate-bash-history": expect 1: regex "History cleared(" does not compile: missing closing ) in "History cleared(" (write an RE2 regular expression (https://github.com/google/re2/wiki/Syntax))`,
		`scenarios/stealth/T1070.003.yaml:10:5: scenario "rm-rf-as-analyst": id "rm-rf-as-analyst" is already used by the scenario at scenarios/impact/T1490.yaml:4:5 (ids are unique across the whole scenarios tree; rename one)`,
		`attack-replay validate: 7 problems (scenarios were checked against the rules that did load)`,
	}, "\n") + "\n"
	if code != exitProblems || stdout != "" || stderr != want {
		t.Errorf("exit %d stdout %q\nstderr:\n%s\nwant:\n%s", code, stdout, stderr, want)
	}
}

func TestValidateDoesNotRepeatABrokenRule(t *testing.T) {
	// The rule fails to load; the scenarios naming it are not reported
	// again as naming a missing rule.
	dir := copyTree(t, map[string][2]string{"rules/impact.yaml": {"priority: CRITICAL", "priority: HIGH"}})
	code, _, stderr := runCLI(t, dir, append([]string{"validate"}, paths(dir)...)...)
	want := `rules/impact.yaml:8:13: rule "Disable recovery features": unknown priority "HIGH" (use one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG)
attack-replay validate: 1 problem (scenarios were checked against the rules that did load)
`
	if code != exitProblems || stderr != want {
		t.Errorf("exit %d stderr:\n%s\nwant:\n%s", code, stderr, want)
	}
}

// TestValidateReportsTheCauseNotTheCascade breaks the shipped rules the
// way a user does (a YAML error, a mistyped path): one problem each, not
// one per scenario naming a rule of the unread file.
func TestValidateReportsTheCauseNotTheCascade(t *testing.T) {
	for _, p := range []string{"../../rules", "../../scenarios"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no %s beside this package: %v", p, err)
		}
	}
	rulesDir := t.TempDir()
	entries, err := os.ReadDir("../../rules")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("../../rules", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "impact.yaml" {
			b = bytes.Replace(b, []byte("  priority: CRITICAL"), []byte("  priority: [CRITICAL"), 1)
		}
		if err := os.WriteFile(filepath.Join(rulesDir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The shipped tree holds the upstream library, which validate names in a
	// note of its own: not a problem, and not part of the cascade.
	withoutLibraryNotes := func(s string) string {
		var keep []string
		for _, l := range strings.SplitAfter(s, "\n") {
			if !strings.Contains(l, "is not loaded with its parent directory") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "")
	}
	code, _, stderr := runCLI(t, rulesDir, "validate", "--rules", rulesDir, "--scenarios", "../../scenarios")
	stderr = withoutLibraryNotes(stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != exitProblems || len(lines) != 2 || !strings.Contains(lines[0], "impact.yaml:") || !strings.Contains(lines[0], "YAML syntax") ||
		lines[1] != "attack-replay validate: 1 problem (scenarios were checked against the rules that did load)" {
		t.Errorf("YAML error: exit %d, want the YAML error alone:\n%s", code, stderr)
	}

	code, _, stderr = runCLI(t, "", "validate", "--rules", "rulez/", "--scenarios", "../../scenarios")
	stderr = withoutLibraryNotes(stderr)
	want := "rulez/: read rules: no such file or directory (pass an existing rules file or directory)\n" +
		"attack-replay validate: 1 problem (scenarios were checked against the rules that did load)\n"
	if code != exitProblems || stderr != want {
		t.Errorf("missing path: exit %d stderr:\n%s\nwant:\n%s", code, stderr, want)
	}
}

func TestValidateWarningsDoNotFail(t *testing.T) {
	dir := copyTree(t, map[string][2]string{
		"rules/impact.yaml": {"tags: [mitre_impact, T1490]", "tags: [mitre_impact, T1490, T1562.001]"},
	})
	code, stdout, stderr := runCLI(t, dir, append([]string{"validate"}, paths(dir)...)...)
	wantErr := `rules/impact.yaml:9:31: warning: rule "Disable recovery features": tag "T1562.001": technique T1562.001 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685 "Disable or Modify Tools" (use T1685 and mitre_defense_impairment)` + "\n"
	if code != exitOK || stderr != wantErr || !strings.HasSuffix(stdout, "; 1 warning\n") {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant   %q", code, stdout, stderr, wantErr)
	}
}

func TestValidateSeveralRulesPaths(t *testing.T) {
	dir := copyTree(t, nil)
	// The stealth rule comes from a second --rules path: without it the
	// stealth scenario names a missing rule.
	if err := os.Rename(filepath.Join(dir, "rules", "stealth.yaml"), filepath.Join(dir, "stealth.yaml")); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, dir, "validate", "--rules", filepath.Join(dir, "rules"), "--scenarios", filepath.Join(dir, "scenarios"))
	if code != exitProblems || !strings.Contains(stderr, `rule "Shell history cleared" is not in the loaded rules files`) {
		t.Errorf("one path: exit %d stderr %q", code, stderr)
	}
	code, stdout, stderr := runCLI(t, dir, "validate", "--rules", filepath.Join(dir, "rules"), "--rules", filepath.Join(dir, "stealth.yaml"), "--scenarios", filepath.Join(dir, "scenarios"))
	if code != exitOK || !strings.Contains(stdout, "2 rules in 3 rules files") {
		t.Errorf("two paths: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestList(t *testing.T) {
	dir := copyTree(t, nil)
	code, stdout, stderr := runCLI(t, dir, append([]string{"list"}, paths(dir)...)...)
	want := `T1070.003  stealth  Indicator Removal on Host: Clear Command History  (scenarios/stealth/T1070.003.yaml)
  attack  truncate-bash-history  scenarios/stealth/T1070.003.yaml:4
      expect  Shell history cleared      rules/stealth.yaml:1
  benign  benign-read-history    scenarios/stealth/T1070.003.yaml:10
      forbid  *                          any candidate rule
T1490  impact  Inhibit System Recovery  (scenarios/impact/T1490.yaml)
  attack  rm-rf-as-analyst       scenarios/impact/T1490.yaml:4
      expect  Disable recovery features  rules/impact.yaml:1
  benign  benign-rm-as-root      scenarios/impact/T1490.yaml:17
      forbid  Disable recovery features  rules/impact.yaml:1
2 technique files, 4 scenarios (2 attack, 2 benign)
`
	if code != exitOK || stdout != want || stderr != "" {
		t.Errorf("exit %d stderr %q\nstdout:\n%s\nwant:\n%s", code, stderr, stdout, want)
	}
}

func TestListShowsMissingAndDisabledRules(t *testing.T) {
	dir := copyTree(t, map[string][2]string{
		"scenarios/impact/T1490.yaml": {"    forbid:\n      - rule: Disable recovery features", "    forbid:\n      - rule: Clear Log Activities"},
		"rules/stealth.yaml":          {"priority: WARNING", "priority: WARNING\n  enabled: false"},
	})
	code, stdout, stderr := runCLI(t, dir, append([]string{"list"}, paths(dir)...)...)
	for _, line := range []string{
		"      forbid  Clear Log Activities       MISSING\n",
		"      expect  Shell history cleared      rules/stealth.yaml:1 (disabled)\n",
	} {
		if !strings.Contains(stdout, line) {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	}
	wantErr := `scenarios/stealth/T1070.003.yaml:8:9: warning: scenario "truncate-bash-history": expect 1: rule "Shell history cleared" is disabled in its rules file (enabled: false): the harness enables it for the scenarios that name it, but Falco running that file as it is will not raise it (enable it in its rules file if it should fire in production)
scenarios/impact/T1490.yaml:23:9: scenario "benign-rm-as-root": forbid 1: rule "Clear Log Activities" is not in the loaded rules files (check the name against the rules files, or pass the file that defines it with --rules)
attack-replay list: 1 problem
`
	if code != exitProblems || stderr != wantErr {
		t.Errorf("exit %d stderr:\n%s\nwant:\n%s", code, stderr, wantErr)
	}
}

// TestShippedFilesValidate is `make validate` on the repository's own rules
// and scenarios: what ships must load without a problem.
func TestShippedFilesValidate(t *testing.T) {
	for _, p := range []string{"../../rules", "../../scenarios"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no %s beside this package: %v", p, err)
		}
	}
	code, stdout, stderr := runCLI(t, "", "validate", "--rules", "../../rules", "--scenarios", "../../scenarios")
	if code != exitOK {
		t.Errorf("validate of the shipped files: exit %d\n%s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "ok: ") {
		t.Errorf("stdout %q", stdout)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	getenv := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	var stdout, stderr bytes.Buffer
	if code := checkConfig(nil, getenv(map[string]string{"REPORT_DIR": dir, "WORKERS": "3"}), &stdout, &stderr); code != exitOK ||
		stdout.String() != "configuration ok: 3 worker(s), 1 attempt(s) per scenario, reports in "+dir+"\n" {
		t.Errorf("good configuration: exit %d stdout %q stderr %q", code, &stdout, &stderr)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("REPORT_DIR was not created: %v", err)
	}
	stdout.Reset()
	code := checkConfig(nil, getenv(map[string]string{"REPORT_DIR": "/proc/x", "TACTICS": "defense-evasion"}), &stdout, &stderr)
	want := `attack-replay: TACTICS="defense-evasion": want ATT&CK tactics such as impact,persistence: tactic "defense-evasion" is not in ATT&CK as of 2026-05-12: it was split into stealth and defense-impairment
attack-replay: REPORT_DIR="/proc/x": cannot write reports there (no such file or directory); set REPORT_DIR to a directory you can write
attack-replay check-config: 2 bad variables; nothing was started
`
	if code != exitUsage || stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("bad configuration: exit %d stderr:\n%s\nwant:\n%s", code, &stderr, want)
	}
}

// TestValidateChecksConditions: each kind of condition and output problem
// Falco finds only at compile time fails validate, at its line and column.
func TestValidateChecksConditions(t *testing.T) {
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"unbalanced parenthesis", `or (proc.name = systemctl and proc.args contains "disable rescue"))`, `or (proc.name = systemctl and proc.args contains "disable rescue")`,
			`rules/impact.yaml:5:9: rule "Disable recovery features": condition does not parse: unbalanced parenthesis: this "(" is never closed [LOAD_ERR_COMPILE_CONDITION]`},
		{"undefined macro", "spawned_process and user.uid", "spawned_proces and user.uid",
			`rules/impact.yaml:4:5: rule "Disable recovery features": undefined macro "spawned_proces" (define it with - macro: spawned_proces, load the file that defines it, or fix the name; did you mean "spawned_process"?) [LOAD_ERR_VALIDATE]`},
		{"unknown field", "user.uid != 0", "user.iud != 0",
			`rules/impact.yaml:4:25: rule "Disable recovery features": unknown field "user.iud" for the syscall source (did you mean user.uid?) [LOAD_ERR_COMPILE_CONDITION]`},
		{"unknown operator", "user.uid != 0", "user.uid !== 0",
			`rules/impact.yaml:4:34: rule "Disable recovery features": condition does not parse: unknown operator "!==" (Falco's operators: exists <= < >= > == = != glob iglob contains icontains bcontains startswith bstartswith endswith regex intersects in pmatch) [LOAD_ERR_COMPILE_CONDITION]`},
		{"bad list", "(proc.name = rm and", "(proc.name = removers and",
			`rules/impact.yaml:5:23: rule "Disable recovery features": list "removers" after =: Falco replaces a list name with its 2 items separated by commas, which does not parse here (write in (removers)) [LOAD_ERR_COMPILE_CONDITION]`},
		{"bad output token", "user=%user.name", "user=%user.nam3",
			`rules/impact.yaml:7:36: rule "Disable recovery features": output token %user.nam3 names no field of the syscall source: Falco says "invalid formatting token" (did you mean %user.name?) [LOAD_ERR_COMPILE_OUTPUT]`},
	} {
		dir := copyTree(t, map[string][2]string{
			"rules/impact.yaml":    {c.old, c.new},
			"rules/00-macros.yaml": {"- macro: spawned_process", "- list: removers\n  items: [rm, shred]\n- macro: spawned_process"},
		})
		code, stdout, stderr := runCLI(t, dir, append([]string{"validate"}, paths(dir)...)...)
		want := c.want + "\nattack-replay validate: 1 problem\n"
		if code != exitProblems || stdout != "" || stderr != want {
			t.Errorf("%s: exit %d stdout %q\nstderr %s\nwant   %s", c.name, code, stdout, stderr, want)
		}
	}
}
