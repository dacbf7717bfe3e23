package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// goldenReport is the report package's committed golden report.json: a
// run with passing, failing, flaky, erroring and inconclusive scenarios.
const goldenReport = "../../fixtures/report/report.json"

// writeReport writes the golden report, changed by edit, as dir/name.
func writeReport(t *testing.T, dir, name string, edit func(*report.Report)) string {
	t.Helper()
	r, err := report.Load(goldenReport)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(r)
	}
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := r.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	return p
}

// setScenario applies change to the golden report's scenario id.
func setScenario(t *testing.T, id string, change func(*report.Scenario)) func(*report.Report) {
	return func(r *report.Report) {
		for ti := range r.Techniques {
			for si := range r.Techniques[ti].Scenarios {
				if s := &r.Techniques[ti].Scenarios[si]; s.ID == id {
					change(s)
					return
				}
			}
		}
		t.Fatalf("the golden report has no scenario %q", id)
	}
}

const newReason = `expect 1: no alert of rule "Search Private Keys or Passwords"`

func newlyFailing(t *testing.T) func(*report.Report) {
	return setScenario(t, "find-private-keys", func(s *report.Scenario) {
		s.Outcome, s.Reason = verdict.Fail, newReason
	})
}

func TestDiffNoChange(t *testing.T) {
	dir := t.TempDir()
	base := writeReport(t, dir, "base.json", nil)
	head := writeReport(t, dir, "head.json", nil)
	md := filepath.Join(dir, "diff.md")
	code, stdout, stderr := runCLI(t, dir, "diff", "--markdown", md, base, head)
	want := "no regression, no change\nnote: The base run is not trustworthy: Falco dropped 12 events.\nnote: The head run is not trustworthy: Falco dropped 12 events.\n"
	if code != exitOK || stdout != want || stderr != "" {
		t.Errorf("exit %d\nstdout %q\nwant   %q\nstderr %q", code, stdout, want, stderr)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "## attack-replay: head against base\n\n> [!NOTE]\n> No regression, no change.\n") {
		t.Errorf("markdown:\n%s", b)
	}
}

// TestDiffAsTheWorkflowCallsIt runs the command line of
// .github/workflows/rules.yml from a working directory like the runner's.
func TestDiffAsTheWorkflowCallsIt(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"reports", "reports-base"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeReport(t, dir, "reports-base/report.json", nil)
	writeReport(t, dir, "reports/report.json", newlyFailing(t))
	t.Chdir(dir)
	code, stdout, stderr := runCLI(t, "", "diff", "--markdown", "reports/diff.md", "reports-base/report.json", "reports/report.json")
	if code != exitProblems || stderr != "" {
		t.Errorf("exit %d, want %d; stderr %q", code, exitProblems, stderr)
	}
	wantOut := "regressed: 1 newly failing\n  newly failing: find-private-keys (T1552.001 credential-access) pass -> fail at scenarios/credential-access/T1552.001.yaml:5: " + newReason + "\n"
	if !strings.HasPrefix(stdout, wantOut) {
		t.Errorf("stdout:\n%s\nwant prefix:\n%s", stdout, wantOut)
	}
	b, err := os.ReadFile("reports/diff.md")
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, w := range []string{
		"> **Regressed:** 1 newly failing.\n",
		"### Newly failing (1)\n",
		"| `find-private-keys` | T1552.001 credential-access | pass → fail | `scenarios/credential-access/T1552.001.yaml:5` |",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
}

func TestDiffMarkdownOnStdout(t *testing.T) {
	dir := t.TempDir()
	base := writeReport(t, dir, "base.json", nil)
	head := writeReport(t, dir, "head.json", newlyFailing(t))
	code, stdout, _ := runCLI(t, dir, "diff", "--markdown", "-", base, head)
	if code != exitProblems || !strings.HasPrefix(stdout, "## attack-replay: head against base\n") || !strings.Contains(stdout, "`find-private-keys`") || strings.Contains(stdout, "regressed: ") {
		t.Errorf("exit %d stdout:\n%s", code, stdout)
	}
}

func TestDiffRegressionsAndImprovements(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*testing.T) func(*report.Report)
		flags []string
		code  int
		want  string // stdout prefix
	}{
		{"new false positive", func(t *testing.T) func(*report.Report) {
			// read-shadow passes in base; in head it is a benign check that fails.
			return setScenario(t, "read-shadow", func(s *report.Scenario) { s.Benign, s.Outcome = true, verdict.Fail })
		}, nil, exitProblems, "regressed: 1 new false positive\n  new false positive: read-shadow (T1555 credential-access) pass -> fail"},
		{"new error", func(t *testing.T) func(*report.Report) {
			return setScenario(t, "find-private-keys", func(s *report.Scenario) { s.Outcome = verdict.Error })
		}, nil, exitProblems, "regressed: 1 new error\n  new error: find-private-keys"},
		{"newly passing", func(t *testing.T) func(*report.Report) {
			return setScenario(t, "systemctl-disable-recovery-mode", func(s *report.Scenario) { s.Outcome = verdict.Pass })
		}, nil, exitOK, "no regression; 1 newly passing\n"},
		{"latency under the default minimum", slowerReadShadow, nil, exitOK, "no regression, no change\n"},
		{"latency over a lower minimum", slowerReadShadow, []string{"--latency-min", "50ms"}, exitProblems,
			"regressed: 1 latency regression\n  latency regression: read-shadow (T1555) p50 122ms -> 200ms\n"},
		{"latency under a higher threshold", slowerReadShadow, []string{"--latency-min", "50ms", "--latency-threshold", "70"}, exitOK, "no regression, no change\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			base := writeReport(t, dir, "base.json", nil)
			head := writeReport(t, dir, "head.json", tc.edit(t))
			code, stdout, stderr := runCLI(t, dir, append(append([]string{"diff"}, tc.flags...), base, head)...)
			if code != tc.code || !strings.HasPrefix(stdout, tc.want) || stderr != "" {
				t.Errorf("exit %d, want %d\nstdout %q\nwant prefix %q\nstderr %q", code, tc.code, stdout, tc.want, stderr)
			}
		})
	}
}

// slowerReadShadow raises read-shadow's p50 from 122 ms to 200 ms: +64%,
// +78 ms.
func slowerReadShadow(t *testing.T) func(*report.Report) {
	return setScenario(t, "read-shadow", func(s *report.Scenario) { s.Latency.P50 = 200 * time.Millisecond })
}

func TestDiffUnreadableInput(t *testing.T) {
	dir := t.TempDir()
	good := writeReport(t, dir, "good.json", nil)
	badJSON := filepath.Join(dir, "bad.json")
	otherSchema := filepath.Join(dir, "other.json")
	for p, content := range map[string]string{badJSON: "{\n  \"schema\": \n", otherSchema: `{"schema": "attack-replay/report/v0"}`} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		base, head string
		want       string
	}{
		{filepath.Join(dir, "missing.json"), good, "attack-replay diff: diff reports: base: load report: open missing.json: no such file or directory\n"},
		{good, badJSON, `attack-replay diff: diff reports: head: read report "bad.json": line 3, column 1: unexpected end of JSON input`},
		{otherSchema, good, `attack-replay diff: diff reports: base: read report "other.json": schema "attack-replay/report/v0", want "attack-replay/report/v1"`},
	} {
		code, stdout, stderr := runCLI(t, dir, "diff", tc.base, tc.head)
		if code != exitUsage || stdout != "" || !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("diff %s %s: exit %d stdout %q\nstderr %q\nwant   %q", tc.base, tc.head, code, stdout, stderr, tc.want)
		}
	}
}

func TestDiffMarkdownUnwritable(t *testing.T) {
	dir := t.TempDir()
	base := writeReport(t, dir, "base.json", nil)
	code, _, stderr := runCLI(t, dir, "diff", "--markdown", filepath.Join(dir, "no-such-dir", "diff.md"), base, base)
	if code != exitUsage || !strings.HasPrefix(stderr, "attack-replay diff: write markdown: open no-such-dir/diff.md: no such file or directory") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}

func TestDiffUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"base.json"}, "attack-replay diff: want BASE.json and HEAD.json, got 1 argument [\"base.json\"]\nUsage: attack-replay diff [flags] BASE.json HEAD.json\n"},
		{[]string{"base.json", "head.json", "--markdown", "d.md"}, `got 4 arguments ["base.json" "head.json" "--markdown" "d.md"] (flags go before the files)`},
		{[]string{"--latency-threshold", "-5", "a", "b"}, "attack-replay diff: --latency-threshold and --latency-min must not be negative\n"},
		{[]string{"--latency-min", "soon", "a", "b"}, `invalid value "soon" for flag -latency-min`},
	} {
		code, stdout, stderr := runCLI(t, "", append([]string{"diff"}, tc.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d stdout %q\nstderr %q\nwant   %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}
