//go:build !rules

package techniques

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

func sc(id string, tech attack.TechniqueID, tactic attack.Tactic, benign bool, line int) *scenario.Scenario {
	return &scenario.Scenario{
		ID: id, Technique: tech, Tactic: tactic, Benign: benign,
		File: "scenarios/" + string(tactic) + "/" + string(tech) + ".yaml", Line: line,
		Timeout: 2 * time.Minute, Description: "first line\nsecond line",
	}
}

func TestPlanSpecs(t *testing.T) {
	specs, err := PlanSpecs([]*scenario.Scenario{
		sc("rm-rf-as-user", "T1490", "impact", false, 7),
		sc("cat-shadow", "T1003.008", "credential-access", false, 5),
		sc("status-rescue", "T1490", "impact", true, 30),
	}, "/repo", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 3 {
		t.Fatalf("got %d specs, want 3", len(specs))
	}
	s := specs[1]
	if want := "T1003.008 credential-access/cat-shadow [attack]: first line"; s.Text != want {
		t.Errorf("text = %q, want %q", s.Text, want)
	}
	wantLabels := []string{"technique:T1003.008", "technique:T1003", "tactic:credential-access", "scenario:cat-shadow", "attack"}
	if !slices.Equal(s.Labels, wantLabels) {
		t.Errorf("labels = %q, want %q", s.Labels, wantLabels)
	}
	if want := filepath.FromSlash("/repo/scenarios/credential-access/T1003.008.yaml"); s.Location.FileName != want || s.Location.LineNumber != 5 {
		t.Errorf("location = %s, want %s:5", s.Location, want)
	}
	if want := 3*2*time.Minute + queueMargin; s.Timeout != want {
		t.Errorf("timeout = %s, want %s", s.Timeout, want)
	}
	if !slices.Contains(specs[2].Labels, "benign") || slices.Contains(specs[2].Labels, "attack") {
		t.Errorf("benign scenario labels = %q", specs[2].Labels)
	}
}

func TestSelect(t *testing.T) {
	specs, err := PlanSpecs([]*scenario.Scenario{
		sc("a", "T1490", "impact", false, 1),
		sc("b", "T1003.008", "credential-access", false, 1),
		sc("c", "T1003.008", "credential-access", true, 9),
	}, "/repo", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"", []string{"a", "b", "c"}},
		{"technique:T1490", []string{"a"}},
		{"technique:T1003", []string{"b", "c"}},
		{"(technique:T1490 || technique:T1003.008) && (tactic:credential-access)", []string{"b", "c"}},
		{"tactic:credential-access && !benign", []string{"b"}},
		{"benign", []string{"c"}},
	} {
		got, err := Select(specs, tc.filter)
		if err != nil {
			t.Fatalf("%q: %v", tc.filter, err)
		}
		var ids []string
		for _, s := range got {
			ids = append(ids, s.Scenario.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("Select(%q) = %q, want %q", tc.filter, ids, tc.want)
		}
	}
	if _, err := Select(specs, "technique:(T1490"); err == nil {
		t.Error("a malformed filter was accepted")
	}
}

func TestSummaryTable(t *testing.T) {
	att := func(tech, tactic string, o verdict.Outcome, lat ...time.Duration) verdict.Verdict {
		v := verdict.Verdict{Technique: tech, Tactic: tactic, Outcome: o}
		for _, l := range lat {
			v.Latencies = append(v.Latencies, verdict.Latency{Detection: l - time.Millisecond, Delivery: time.Millisecond})
		}
		return v
	}
	results := []verdict.Result{
		{ScenarioID: "a", Outcome: verdict.Pass, Attempts: []verdict.Verdict{att("T1490", "impact", verdict.Pass, 3*time.Millisecond)}},
		{ScenarioID: "b", Outcome: verdict.Fail, Flaky: true, Attempts: []verdict.Verdict{
			att("T1490", "impact", verdict.Pass, 9*time.Millisecond), att("T1490", "impact", verdict.Fail)}},
		{ScenarioID: "c", Outcome: verdict.Error, Attempts: []verdict.Verdict{att("T1490", "impact", verdict.Error)}},
		{ScenarioID: "d", Outcome: verdict.Inconclusive, Attempts: []verdict.Verdict{att("T1003.008", "credential-access", verdict.Inconclusive)}},
		{ScenarioID: "e", Outcome: verdict.Pass, Attempts: []verdict.Verdict{att("T1003.008", "credential-access", verdict.Pass, 2*time.Millisecond, 4*time.Millisecond, 30*time.Millisecond)}},
		{ScenarioID: "f", Outcome: verdict.Skip, Attempts: []verdict.Verdict{att("T1490", "impact", verdict.Skip)}},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, report.Build(report.Run{Results: results})); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	fields := func(i int) string { return strings.Join(strings.Fields(lines[i]), " ") }
	want := []string{
		"TECHNIQUE TACTIC SCENARIOS PASSED FAILED ERRORS INCONCLUSIVE SKIPPED FLAKY MEDIAN LATENCY",
		"T1003.008 credential-access 2 1 0 0 1 0 0 4ms",
		"T1490 impact 4 1 1 1 0 1 1 3ms", // nearest-rank p50 of 3 ms and 9 ms, as report.md
		"total 6 2 1 1 1 1 1",
	}
	if len(lines) != len(want) {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i := range want {
		if got := fields(i); got != want[i] {
			t.Errorf("line %d = %q, want %q", i, got, want[i])
		}
	}
}
