package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// skippedRun is the recorded run plus two skipped scenarios: one of a
// technique nothing else emulates, and one beside T1555's passing scenario.
func skippedRun(t *testing.T) Run {
	t.Helper()
	run := recordedRun(t)
	add := func(id, technique, tactic, name, file string, line int, why string, expect string) {
		sc := &scenario.Scenario{ID: id, File: file, Line: line, Technique: attack.TechniqueID(technique), Tactic: attack.Tactic(tactic),
			TechniqueName: name, Timeout: scenario.DefaultScenarioTimeout, Skip: why,
			Steps: []scenario.Step{{Run: "kubectl get pods"}}, Expect: []scenario.Matcher{{Rule: expect, Min: 1}}}
		run.Scenarios = append(run.Scenarios, sc)
		run.Results = append(run.Results, verdict.Summarise([]verdict.Verdict{verdict.Judge(verdict.Input{Scenario: sc, Attempt: 1})}))
	}
	add("list-pods", "T1613", "discovery", "Container and Resource Discovery", "scenarios/upstream/stable/discovery/T1613.yaml", 5,
		"needs Kubernetes: no API server here", "Contact K8S API Server From Container")
	add("read-keychain", "T1555", "credential-access", "Credentials from Password Stores", "scenarios/credential-access/T1555.yaml", 12,
		"needs a desktop keyring", "Read sensitive file untrusted")
	run.Rules = append(run.Rules, Rule{Name: "Contact K8S API Server From Container", Priority: rules.Notice, Tags: []string{"T1565", "mitre_discovery"},
		File: "rules/discovery.yaml", Line: 1, Hash: "sha256:k1", Candidate: true, Enabled: true})
	return run
}

func TestSkippedScenariosAreReportedAsUntestable(t *testing.T) {
	rep := Build(skippedRun(t))
	if c := rep.Summary.Counts; c.Scenarios != 10 || c.Skip != 2 || c.Pass != 3 {
		t.Errorf("summary counts %+v: want 10 scenarios, 2 skipped, the 3 passes unchanged", c)
	}
	var k8s *Technique
	for i := range rep.Techniques {
		if rep.Techniques[i].ID == "T1613" {
			k8s = &rep.Techniques[i]
		}
	}
	if k8s == nil || k8s.Scenarios[0].Outcome != verdict.Skip || k8s.Scenarios[0].Skip != "needs Kubernetes: no API server here" ||
		k8s.Scenarios[0].Reason != "skipped: needs Kubernetes: no API server here" || len(k8s.Scenarios[0].Attempts[0].Steps) != 0 {
		t.Fatalf("T1613: %+v", k8s)
	}

	md := rep.Markdown()
	golden(t, "report-skipped.md", []byte(md))
	for _, want := range []string{
		"**10 scenarios in 4 techniques: 3 pass, 3 fail, 1 error, 1 inconclusive, 2 skipped; 1 flaky.**",
		"| Technique | Name | Tactic | Scenarios | Pass | Fail | Error | Inconclusive | Skip | Flaky | p50 | p95 |",
		"| T1613 | Container and Resource Discovery | discovery | 1 | 0 | 0 | 0 | 0 | 1 | 0 | - | - |",
		"## Not passing (5)",
		"## Skipped: not run, untestable here (2)",
		"- `list-pods` · T1613 Container and Resource Discovery · `scenarios/upstream/stable/discovery/T1613.yaml:5` — needs Kubernetes: no API server here",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if strings.Contains(md, "### SKIP") {
		t.Error("a skipped scenario is detailed among the scenarios that did not pass")
	}

	layer := rep.Navigator()
	status := map[string]LayerTechnique{}
	for _, lt := range layer.Techniques {
		status[lt.TechniqueID] = lt
	}
	if lt := status["T1613"]; lt.Color != statusColor[StatusUntestable] || *lt.Score != 0 ||
		!slices.Contains(lt.Metadata, LayerMetadata{Name: "scenario list-pods", Value: "skip: needs Kubernetes: no API server here"}) {
		t.Errorf("T1613 on the map: %+v", lt)
	}
	if lt := status["T1555"]; lt.Color != statusColor[StatusUntestable] || *lt.Score != 50 {
		t.Errorf("T1555 (one pass, one skip) must not be green: colour %s, score %d", lt.Color, *lt.Score)
	}
	if !slices.Contains(layer.LegendItems, LegendItem{Label: "untestable: a scenario was skipped, with its reason", Color: "#76b7b2"}) {
		t.Errorf("legend %+v has no entry for untestable", layer.LegendItems)
	}

	cov := rep.Coverage
	var k8sRule RuleCoverage
	for _, r := range cov.Rules {
		if r.Name == "Contact K8S API Server From Container" {
			k8sRule = r
		}
	}
	if cov.Skipped != 2 || len(k8sRule.ExpectedBy) != 0 || !slices.Equal(k8sRule.SkippedBy, []string{"list-pods"}) {
		t.Errorf("coverage: %d skipped, K8S rule %+v; a rule only a skipped scenario names is not exercised", cov.Skipped, k8sRule)
	}
	if !strings.Contains(cov.headline(), "; 2 scenarios skipped, not counted") {
		t.Errorf("coverage headline %q", cov.headline())
	}
	for _, u := range cov.Untested {
		if u.ID == "T1613" {
			t.Errorf("T1613 counted untested: its scenario emulates it, it is untestable here")
		}
	}

	var html bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<option value="skip">skip (2)</option>`, `<span class="badge skip">skip</span>`, `<span class="badge untestable">untestable</span>`,
		`<td data-key="skip" class="num">1</td>`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&js, "report.json")
	if err != nil {
		t.Fatal(err)
	}
	if back.Summary.Skip != 2 || back.Techniques[len(back.Techniques)-1].Scenarios[0].Skip == "" {
		t.Errorf("skips lost in report.json: %+v", back.Summary)
	}

	// A scenario that ran in base and is skipped in head informs; it is no regression.
	base := Build(recordedRun(t))
	head := Build(skippedRun(t))
	for ti := range head.Techniques {
		for si := range head.Techniques[ti].Scenarios {
			if s := &head.Techniques[ti].Scenarios[si]; s.ID == "read-shadow" {
				s.Outcome, s.Reason, s.Skip = verdict.Skip, "skipped: not here", "not here"
			}
		}
	}
	d := Diff(base, head, DefaultDiffOptions())
	if len(d.NewlySkipped) != 1 || d.NewlySkipped[0].Scenario != "read-shadow" || d.Regressed() || !strings.Contains(d.Summary(), "1 newly skipped") ||
		!strings.Contains(d.Markdown(), "### Newly skipped: ran in base, not run in head (1)") {
		t.Errorf("diff: %+v; summary %q", d.NewlySkipped, d.Summary())
	}
}
