package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

func TestMarkdownTechniqueTable(t *testing.T) {
	md := Build(recordedRun(t)).Markdown()
	golden(t, MarkdownFile, []byte(md))

	want := []string{
		"| Technique | Name | Tactic | Scenarios | Pass | Fail | Error | Inconclusive | Flaky | p50 | p95 |",
		"|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
		"| T1490 | Inhibit System Recovery | impact | 5 | 1 | 3 | 1 | 0 | 1 | 37 ms | 50 ms |",
		"| T1552.001 | Credentials In Files | credential-access | 2 | 1 | 0 | 0 | 1 | 0 | 312 ms | 312 ms |",
		"| T1555 | Credentials from Password Stores | credential-access | 1 | 1 | 0 | 0 | 0 | 0 | 122 ms | 122 ms |",
	}
	lines := strings.Split(md, "\n")
	start := indexOf(lines, want[0])
	if start < 0 {
		t.Fatalf("no technique table header in:\n%s", md)
	}
	for i, w := range want {
		if got := lines[start+i]; got != w {
			t.Errorf("table line %d:\n got %s\nwant %s", i, got, w)
		}
	}
	if lines[start+len(want)] != "" {
		t.Errorf("table has an extra row: %s", lines[start+len(want)])
	}
}

func TestMarkdownSaysFirstThatDropsMakeTheRunUntrustworthy(t *testing.T) {
	md := Build(recordedRun(t)).Markdown()
	lines := strings.Split(md, "\n")
	if lines[2] != "> [!WARNING]" || !strings.HasPrefix(lines[3], "> **This run is not trustworthy.** Falco dropped 12 syscall events") {
		t.Errorf("report.md does not open with the drops warning:\n%s", strings.Join(lines[:5], "\n"))
	}

	run := recordedRun(t)
	run.Results = run.Results[:7] // without the attempt that had drops
	if md := Build(run).Markdown(); strings.Contains(md, "not trustworthy") || strings.Contains(md, "[!WARNING]") {
		t.Errorf("a run without drops is called untrustworthy:\n%s", md)
	}
}

func TestMarkdownDetailsEveryScenarioThatDidNotPass(t *testing.T) {
	md := Build(recordedRun(t)).Markdown()
	for _, want := range []string{
		"## Not passing (5)",
		"### FLAKY `root-rm-rf` · T1490 Inhibit System Recovery",
		"`scenarios/impact/T1490.yaml:18` · attempt 2 of 2 (pass, fail) · expected \"Disable recovery features\": no alert matched",
		"- ✗ `rule \"Disable recovery features\", priority Critical, proc.cmdline contains \"/tmp/x\"` — no alert matched",
		"**What fired:** nothing during the steps (0 alerts in other phases).",

		"### FAIL `systemctl-disable-recovery-mode` · T1490 Inhibit System Recovery",
		"- `Disable recovery features` (`systemctl disable recovery-mode.service`) `user.name`: want `equals \"root\"`, got `<NA>`",
		"**What fired** during the steps (1 of the attempt's 1 alert)",

		"### FAIL `benign-rm-build-cache` (benign) · T1490 Inhibit System Recovery",
		"- ✗ `rule \"Disable recovery features\"` — 1 alert",
		"- `Any rm` Notice, step 1: `20:44:20.346333729: Notice rm seen rm -rf /tmp/y`",

		"### ERROR `mkfs-nodiscard` · T1490 Inhibit System Recovery",
		"| steps | 1 | `mkfs.ext4 -E nodiscard /dev/loop0` | 127 | 60 ms | `command not found: sh: 1: mkfs.ext4: not found` |",

		"### INCONCLUSIVE `grep-passwords` · T1552.001 Credentials In Files",
	} {
		if !strings.Contains(md, want+"\n") {
			t.Errorf("report.md lacks the line\n%s", want)
		}
	}
	for _, passing := range []string{"root-systemctl-rescue", "read-shadow", "find-private-keys"} {
		if strings.Contains(md, "`"+passing+"`") {
			t.Errorf("passing scenario %s is detailed", passing)
		}
	}
	if !strings.Contains(md, "Coverage: 3 of 6 candidate rules expected by at least one scenario (50.0%). Not expected by any scenario: 3 rules. Techniques tagged but untested: T1485. 2 rule tags out of date with ATT&CK.\n") {
		t.Errorf("coverage line missing or wrong:\n%s", md)
	}
}

func TestMarkdownStaysShortEnoughForAComment(t *testing.T) {
	rep := &Report{Schema: Schema, Summary: Summary{Trustworthy: true}}
	for ti := 0; ti < 40; ti++ {
		tech := Technique{ID: fmt.Sprintf("T%04d", 1000+ti), Name: "Technique", Tactic: "impact"}
		for si := 0; si < 10; si++ {
			a := Attempt{Attempt: 1, Outcome: verdict.Fail, Reason: strings.Repeat("why ", 100)}
			for i := 0; i < 25; i++ {
				a.Alerts = append(a.Alerts, Alert{Rule: "Noisy rule", Priority: rules.Warning, Phase: alert.PhaseSteps, Step: 1,
					Output: strings.Repeat("x", 400), Time: time.Unix(0, 0)})
			}
			for i := 0; i < 30; i++ {
				a.Steps = append(a.Steps, Step{Phase: alert.PhaseSteps, Index: i + 1, Run: "true"})
			}
			tech.Scenarios = append(tech.Scenarios, Scenario{ID: fmt.Sprintf("s-%d-%d", ti, si), Outcome: verdict.Fail, Attempts: []Attempt{a}})
			tech.Counts.add(verdict.Fail, false)
		}
		rep.Techniques = append(rep.Techniques, tech)
	}
	md := rep.Markdown()
	if len(md) > MaxMarkdownBytes {
		t.Errorf("report.md is %d bytes, over %d", len(md), MaxMarkdownBytes)
	}
	for _, want := range []string{
		"| T1039 | Technique | impact | 10 | 0 | 10 | 0 | 0 | 0 | - | - |", // every technique row fits
		"- … 15 more (see report.json)",                                    // 25 alerts, 10 listed
		"| … 10 more steps | | | | | |",                                    // 30 steps, 20 listed
		"more not-passing scenarios: see report.json or report.html.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("bounded report.md lacks %q", want)
		}
	}
	if strings.Contains(md, strings.Repeat("x", maxText+1)) {
		t.Error("an alert output was not truncated")
	}
}

func TestMarkdownEscapesWhatAlertsAndScenariosSay(t *testing.T) {
	a := Attempt{Attempt: 1, Outcome: verdict.Fail, Alerts: []Alert{{
		Rule: "Odd | rule", Priority: rules.Warning, Phase: alert.PhaseSteps, Step: 1,
		Output: "cmd=`echo hi` user=<NA> <img src=x onerror=alert(1)> @octocat",
	}}, Steps: []Step{{Phase: alert.PhaseSteps, Index: 1, Run: "echo a | tee b", ExitCode: 2, Stderr: "bad | pipe\n"}}}
	rep := &Report{Schema: Schema, Summary: Summary{Trustworthy: true}, Techniques: []Technique{{
		ID: "T1490", Name: "Inhibit <b>System</b> Recovery", Tactic: "impact",
		Scenarios: []Scenario{{ID: "odd", Outcome: verdict.Fail, Reason: "forbidden *rule* fired <script>", Description: "# not a heading\nsecond line", Attempts: []Attempt{a}}},
	}}}
	md := rep.Markdown()
	for _, want := range []string{
		"| T1490 | Inhibit \\<b\\>System\\</b\\> Recovery | impact |",
		"forbidden \\*rule\\* fired \\<script\\>",
		"> \\# not a heading second line",
		"- `Odd | rule` Warning, step 1: ``cmd=`echo hi` user=<NA> <img src=x onerror=alert(1)> @octocat``",
		"| steps | 1 | `echo a \\| tee b` | 2 | - | `bad \\| pipe` |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks the escaped text %q:\n%s", want, md)
		}
	}
}

func TestCodeSpan(t *testing.T) {
	cases := map[string]string{
		"plain":          "`plain`",
		"a `b` c":        "``a `b` c``",
		"`start":         "`` `start ``",
		"x ``y``":        "``` x ``y`` ```",
		"multi\nline  x": "`multi line x`",
		"":               "",
	}
	for in, want := range cases {
		if got := codeSpan(in); got != want {
			t.Errorf("codeSpan(%q) = %q, want %q", in, got, want)
		}
	}
}

func indexOf(lines []string, s string) int {
	for i, l := range lines {
		if l == s {
			return i
		}
	}
	return -1
}

// TestHeadlineCountsInTheSingular: a run of one scenario in one technique
// says so, not "1 scenarios in 1 techniques".
func TestHeadlineCountsInTheSingular(t *testing.T) {
	r := &Report{}
	r.Summary.Counts.Scenarios, r.Summary.Counts.Pass, r.Summary.Techniques = 1, 1, 1
	if got, want := r.headline(), "1 scenario in 1 technique: 1 pass, 0 fail, 0 error, 0 inconclusive; 0 flaky."; got != want {
		t.Errorf("headline = %q, want %q", got, want)
	}
	if md := r.Markdown(); !strings.Contains(md, "**1 scenario in 1 technique:") {
		t.Errorf("report.md lacks the singular headline:\n%s", md)
	}
}

func TestReportsShowWhatWentWrongWithTheRun(t *testing.T) {
	run := recordedRun(t)
	run.Meta.RunErrors = []string{"falco exited with code 3 during run\nlast log lines:\n  Error: Initialization issues during scap_init ~~~"}
	r := Build(run)
	md := r.Markdown()
	for _, want := range []string{"> [!CAUTION]", "> - falco exited with code 3 during run\n>   ~~~text\n>   last log lines:\n>     Error: Initialization issues during scap_init ~ ~ ~\n>   ~~~\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md[:min(len(md), 1500)])
		}
	}
	var page strings.Builder
	if err := r.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `<div class="run-errors" role="alert">`) || !strings.Contains(page.String(), "<pre>falco exited with code 3 during run\nlast log lines:") {
		t.Error("report.html does not show the run's errors")
	}

	clean := Build(recordedRun(t))
	var cleanPage strings.Builder
	if err := clean.WriteHTML(&cleanPage); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(clean.Markdown(), "[!CAUTION]") || strings.Contains(cleanPage.String(), `class="run-errors"`) {
		t.Error("a run without run errors shows the run-errors block")
	}
}
