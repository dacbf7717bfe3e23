package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// upstreamRules are the three falcosecurity/rules files the upstream
// library tests, as make validate-upstream passes them.
func upstreamRules() []string {
	dir := "../../fixtures/upstream-rules/falco-rules-5.0.0"
	var args []string
	for _, f := range []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"} {
		args = append(args, "--rules", filepath.Join(dir, f))
	}
	return args
}

// TestValidateUpstream runs make validate-upstream's two commands on the
// shipped library, and on copies broken the three ways it must catch: a rule
// name no file defines, a rule that loses its benign twin, a skip without a
// reason.
func TestValidateUpstream(t *testing.T) {
	const file = "stable/credential-access/T1555.yaml"
	validate := func(dir string) (int, string) {
		code, _, stderr := runCLI(t, "", append([]string{"validate", "--scenarios", dir}, upstreamRules()...)...)
		return code, stderr
	}
	coverage := func(dir string) (int, string) {
		code, stdout, _ := runCLI(t, "", append([]string{"coverage", "--scenarios", dir, "--include-disabled", "--require-twins", "--per-rule"}, upstreamRules()...)...)
		return code, stdout
	}
	if code, stderr := validate("../../scenarios/upstream"); code != exitOK {
		t.Fatalf("validate the shipped library: exit %d\n%s", code, stderr)
	}
	code, stdout := coverage("../../scenarios/upstream")
	if code != exitOK || strings.Contains(stdout, "missing ") {
		t.Fatalf("coverage --require-twins of the shipped library: exit %d\n%s", code, stdout)
	}
	t.Log(strings.SplitN(stdout, "\n", 2)[0])

	broken := func(t *testing.T, old, new string) string {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "upstream")
		if err := os.CopyFS(dir, os.DirFS("../../scenarios/upstream")); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s no longer holds %q: update the test", file, old)
		}
		if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	t.Run("unknown rule", func(t *testing.T) {
		dir := broken(t, "      - rule: Read sensitive file untrusted\n        priority: WARNING", "      - rule: Read sensitive file untrustd\n        priority: WARNING")
		code, stderr := validate(dir)
		if code != exitProblems || !strings.Contains(stderr, `rule "Read sensitive file untrustd" is not in the loaded rules files (did you mean "Read sensitive file untrusted"?)`) {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
	t.Run("missing twin", func(t *testing.T) {
		dir := broken(t, "    forbid:\n      - rule: Read sensitive file untrusted\n", "    forbid:\n      - rule: Read sensitive file trusted after startup\n")
		if code, stderr := validate(dir); code != exitOK {
			t.Fatalf("validate: exit %d\n%s", code, stderr)
		}
		code, stdout := coverage(dir)
		if code != exitProblems || !strings.Contains(stdout, `FAIL --require-twins: 1 candidate rules lack`) || !strings.Contains(stdout, `"Read sensitive file untrusted" (attack only)`) {
			t.Errorf("exit %d, stdout:\n%s", code, stdout)
		}
	})
	t.Run("skip without a reason", func(t *testing.T) {
		dir := broken(t, "  - id: st-t1555-cat-shadow\n", "  - id: st-t1555-cat-shadow\n    skip: \"  \"\n")
		code, stderr := validate(dir)
		if code != exitProblems || !strings.Contains(stderr, `scenario "st-t1555-cat-shadow"`) || !strings.Contains(stderr, "skip") {
			t.Errorf("exit %d, stderr:\n%s", code, stderr)
		}
	})
}
