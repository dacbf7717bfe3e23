package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unexercisedRule is a candidate rule no scenario of testdata/good names.
const unexercisedRule = `- rule: Unexercised rule
  desc: Nothing replays this.
  condition: spawned_process and proc.name = nothing-runs-this
  output: "Unexercised (command=%proc.cmdline)"
  priority: NOTICE
  tags: [mitre_impact, T1490]
`

func TestCoverageOfTheShippedFilesPasses(t *testing.T) {
	for _, p := range []string{"../../rules", "../../scenarios"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("no %s beside this package: %v", p, err)
		}
	}
	code, stdout, stderr := runCLI(t, "", "coverage", "--rules", "../../rules", "--scenarios", "../../scenarios")
	if code != exitOK || !strings.HasPrefix(stdout, "coverage: ") || strings.Contains(stdout, "FAIL") || stderr != "" {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

func TestCoverageGates(t *testing.T) {
	dir := copyTree(t, map[string][2]string{"rules/zz-extra.yaml": {"", unexercisedRule}})
	args := func(extra ...string) []string { return append(append([]string{"coverage"}, paths(dir)...), extra...) }
	for _, tc := range []struct {
		name  string
		flags []string
		code  int
		want  []string // in stdout
	}{
		{"no gate", nil, exitOK, []string{
			"coverage: 2 of 3 candidate rules expected by at least one scenario (66.7%)\n",
			"rules no scenario expects:\n  rules/zz-extra.yaml:1: \"Unexercised rule\"\n",
		}},
		{"require all rules", []string{"--require-all-rules"}, exitProblems, []string{
			"FAIL --require-all-rules: 1 candidate rules have no scenario expecting them: \"Unexercised rule\"\n",
		}},
		{"fail under 100", []string{"--fail-under", "100"}, exitProblems, []string{"FAIL 66.7% of candidate rules are expected by a scenario, under --fail-under 100.0%"}},
		{"fail under 66", []string{"--fail-under", "66"}, exitOK, []string{"coverage: 2 of 3"}},
		{"fail under 0", []string{"--fail-under", "0"}, exitOK, []string{"coverage: 2 of 3"}},
		{"markdown", []string{"--format", "markdown", "--require-all-rules"}, exitProblems, []string{
			"## Coverage\n",
			"> **Gate failed:** --require-all-rules",
			"| `Unexercised rule` | `rules/zz-extra.yaml:1` |",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, dir, args(tc.flags...)...)
			if code != tc.code || stderr != "" {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			if tc.code == exitOK && strings.Contains(stdout, "FAIL") {
				t.Errorf("passing gate printed a failure:\n%s", stdout)
			}
		})
	}
}

func TestCoverageWithoutTheExtraRulePassesEveryGate(t *testing.T) {
	dir := copyTree(t, nil)
	code, stdout, stderr := runCLI(t, dir, append(append([]string{"coverage"}, paths(dir)...), "--require-all-rules", "--fail-under", "100")...)
	if code != exitOK || stdout != "coverage: 2 of 2 candidate rules expected by at least one scenario (100.0%)\n" || stderr != "" {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

func TestCoverageUpstreamRulesAreNotCandidates(t *testing.T) {
	// The benign T1490 scenario forbids a rule only the upstream file
	// defines: dangling without --upstream, fine with it, and never counted
	// as a candidate.
	dir := copyTree(t, map[string][2]string{
		"scenarios/impact/T1490.yaml": {"    forbid:\n      - rule: Disable recovery features", "    forbid:\n      - rule: Upstream rule"},
		"upstream/falco_rules.yaml":   {"", strings.NewReplacer("Unexercised rule", "Upstream rule", "spawned_process and ", "").Replace(unexercisedRule)},
	})
	code, stdout, _ := runCLI(t, dir, append([]string{"coverage"}, paths(dir)...)...)
	if code != exitOK || !strings.Contains(stdout, "scenarios naming rules that do not exist:\n  scenarios/impact/T1490.yaml:23: scenario \"benign-rm-as-root\" forbid rule \"Upstream rule\"\n") {
		t.Errorf("without --upstream: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr := runCLI(t, dir, append(append([]string{"coverage"}, paths(dir)...), "--upstream", filepath.Join(dir, "upstream"), "--require-all-rules")...)
	if code != exitOK || stdout != "coverage: 2 of 2 candidate rules expected by at least one scenario (100.0%)\n" || stderr != "" {
		t.Errorf("with --upstream: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

func TestCoverageLoadErrorsExit2(t *testing.T) {
	dir := copyTree(t, map[string][2]string{"rules/zz-broken.yaml": {"", "- rule: Half written\n  desc: \"no end\n"}})
	code, stdout, stderr := runCLI(t, dir, append([]string{"coverage"}, paths(dir)...)...)
	if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, "attack-replay coverage: measure coverage: load rules: 1 problem(s):\nrules/zz-broken.yaml:2:1: YAML syntax") {
		t.Errorf("exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

func TestCoverageUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fail-under", "101"}, "attack-replay coverage: --fail-under 101 is not a percentage (give 0 to 100)\n"},
		{[]string{"--fail-under", "-1"}, "attack-replay coverage: --fail-under -1 is not a percentage (give 0 to 100)\n"},
		{[]string{"--format", "html"}, "attack-replay coverage: unknown --format \"html\" (use text or markdown)\n"},
		{[]string{"--fail-under", "most"}, "invalid value \"most\" for flag -fail-under"},
		{[]string{"rules/"}, "attack-replay coverage: unexpected argument \"rules/\""},
	} {
		code, stdout, stderr := runCLI(t, "", append([]string{"coverage"}, tc.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d stdout %q stderr %q, want %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}
