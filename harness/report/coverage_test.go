package report

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

func TestCoverageOfTheRecordedRun(t *testing.T) {
	run := recordedRun(t)
	c := Coverage(run.Rules, run.Scenarios)

	if c.CandidateRules != 6 || c.Exercised != 3 || c.Percent != 50 {
		t.Errorf("candidates %d exercised %d percent %v, want 6 3 50 (the upstream rule is no candidate)", c.CandidateRules, c.Exercised, c.Percent)
	}
	var unexercised []string
	for _, r := range c.unexercised() {
		unexercised = append(unexercised, r.Name)
	}
	if got := strings.Join(unexercised, "|"); got != "Any rm|Wipe block devices|Clear Log Activities" {
		t.Errorf("rules no scenario expects: %s", got)
	}
	drf := c.Rules[0]
	if drf.Name != "Disable recovery features" || len(drf.ExpectedBy) != 4 || !slices.Equal(drf.ForbiddenBy, []string{"benign-rm-build-cache"}) {
		t.Errorf("Disable recovery features coverage: %+v", drf)
	}

	if len(c.Untested) != 1 || c.Untested[0].ID != "T1485" || c.Untested[0].Name != "Data Destruction" ||
		!slices.Equal(c.Untested[0].Tactics, []string{"impact"}) || !slices.Equal(c.Untested[0].Rules, []string{"Wipe block devices"}) {
		t.Errorf("untested techniques: %+v, want T1485 Data Destruction under impact from Wipe block devices", c.Untested)
	}
	wantDangling := DanglingRef{Scenario: "benign-rm-build-cache", File: "scenarios/impact/T1490.yaml", Line: 52, Kind: "forbid", Rule: "Clear Log Activity"}
	if len(c.Dangling) != 1 || c.Dangling[0] != wantDangling {
		t.Errorf("dangling references: %+v, want %+v", c.Dangling, wantDangling)
	}
	var tags []string
	for _, p := range c.TagProblems {
		if p.Rule != "Clear Log Activities" || p.File != "rules/stealth.yaml" || p.Problem == "" {
			t.Errorf("tag problem %+v", p)
		}
		tags = append(tags, p.Tag)
	}
	if got := strings.Join(tags, " "); got != "mitre_defense_evasion T1070.002" {
		t.Errorf("out-of-date tags %q (the upstream rule's tags are not the user's problem)", got)
	}
}

func TestCoverageCountsASubTechniqueScenarioForItsParentTag(t *testing.T) {
	candidates := []Rule{
		{Name: "Dump creds", Tags: []string{"T1003", "mitre_credential_access"}, Candidate: true, Enabled: true},
		{Name: "Shadow copy", Tags: []string{"T1003.008"}, Candidate: true, Enabled: true},
		{Name: "Cron job", Tags: []string{"T1053.003"}, Candidate: true, Enabled: true},
	}
	scenarios := []*scenario.Scenario{{ID: "cat-shadow", Technique: "T1003.008", Tactic: "credential-access",
		Expect: []scenario.Matcher{{Rule: "Shadow copy", Min: 1}, {Rule: scenario.AnyRule, Min: 1}}}}
	c := Coverage(candidates, scenarios)
	if len(c.Untested) != 1 || c.Untested[0].ID != "T1053.003" {
		t.Errorf("untested %+v, want only T1053.003 (T1003 is covered by its sub-technique's scenario)", c.Untested)
	}
	if got := c.Untested[0].Tactics; !slices.Equal(got, []string{"execution", "persistence", "privilege-escalation"}) {
		t.Errorf("tactics of an untagged-tactic technique: %v, want all of its tactics", got)
	}
	if c.Exercised != 1 {
		t.Errorf("exercised %d, want 1 (\"*\" names no rule)", c.Exercised)
	}
}

func TestCoverageGates(t *testing.T) {
	run := recordedRun(t)
	half := Coverage(run.Rules, run.Scenarios) // 50%
	var all []Rule
	for _, r := range run.Rules {
		if r.Name != "Any rm" && r.Name != "Wipe block devices" && r.Name != "Clear Log Activities" {
			all = append(all, r)
		}
	}
	full := Coverage(all, run.Scenarios) // 100%
	none := Coverage(nil, run.Scenarios)

	cases := []struct {
		name string
		c    CoverageReport
		gate Gate
		fail []string // substrings of the failures; none = passes
	}{
		{"no gate", half, Gate{}, nil},
		{"fail-under met exactly", half, Gate{FailUnder: 50}, nil},
		{"fail-under missed", half, Gate{FailUnder: 50.1}, []string{"50.0% of candidate rules", "--fail-under 50.1%"}},
		{"require-all-rules off", half, Gate{RequireAllRules: false, FailUnder: 10}, nil},
		{"require-all-rules on", half, Gate{RequireAllRules: true}, []string{`3 candidate rules have no scenario expecting them: "Any rm", "Wipe block devices", "Clear Log Activities"`}},
		{"both", half, Gate{FailUnder: 80, RequireAllRules: true}, []string{"--fail-under 80.0%", "--require-all-rules"}},
		{"all rules exercised", full, Gate{FailUnder: 100, RequireAllRules: true}, nil},
		{"no candidate rules", none, Gate{FailUnder: 1}, []string{"no candidate rules found"}},
		{"no candidate rules, all required", none, Gate{RequireAllRules: true}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.c.Check(c.gate)
			if len(c.fail) == 0 && len(got) > 0 {
				t.Fatalf("gate failed: %v", got)
			}
			if len(c.fail) > 0 && len(got) == 0 {
				t.Fatal("gate passed")
			}
			joined := strings.Join(got, "\n")
			for _, f := range c.fail {
				if !strings.Contains(joined, f) {
					t.Errorf("failures %q lack %q", joined, f)
				}
			}
			text := c.c.Text(c.gate)
			if strings.Contains(text, "FAIL ") != (len(c.fail) > 0) {
				t.Errorf("text rendering disagrees with the gate:\n%s", text)
			}
			md := c.c.Markdown(c.gate)
			if strings.Contains(md, "Gate failed") != (len(c.fail) > 0) {
				t.Errorf("markdown rendering disagrees with the gate:\n%s", md)
			}
		})
	}
}

func TestCoverageRenderings(t *testing.T) {
	run := recordedRun(t)
	c := Coverage(run.Rules, run.Scenarios)
	text := c.Text(Gate{FailUnder: 60})
	for _, want := range []string{
		"coverage: 3 of 6 candidate rules expected by at least one scenario (50.0%)\n",
		"  rules/impact.yaml:21: \"Any rm\"\n",
		"  T1485 Data Destruction (impact): rules \"Wipe block devices\"\n",
		"  scenarios/impact/T1490.yaml:52: scenario \"benign-rm-build-cache\" forbid rule \"Clear Log Activity\"\n",
		"  rules/stealth.yaml:1: rule \"Clear Log Activities\": tag \"mitre_defense_evasion\"",
		"FAIL 50.0% of candidate rules are expected by a scenario, under --fail-under 60.0%",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	md := c.Markdown(Gate{})
	for _, want := range []string{
		"**3 of 6 candidate rules expected by at least one scenario (50.0%).**",
		"| `Any rm` | `rules/impact.yaml:21` |  |",
		"| T1485 | Data Destruction | impact | Wipe block devices |",
		"| `benign-rm-build-cache` | `scenarios/impact/T1490.yaml:52` | forbid | `Clear Log Activity` |",
		"| `Clear Log Activities` | `T1070.002` |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestCoverageFromPaths(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"rules/impact.yaml": `- macro: spawned_process
  condition: (evt.type in (execve, execveat) and evt.dir=<)
- rule: Disable recovery features
  desc: disables recovery
  condition: spawned_process and proc.name = systemctl
  output: "recovery off (%proc.cmdline)"
  priority: CRITICAL
  tags: [mitre_impact, T1490]
- rule: Wipe block devices
  desc: wipes disks
  condition: spawned_process and proc.name = wipefs
  output: "wipe (%proc.cmdline)"
  priority: CRITICAL
  tags: [mitre_impact, T1485]
- rule: Switched off
  desc: not run by Falco
  condition: spawned_process and proc.name = nothing
  output: "never"
  priority: INFO
  enabled: false
`,
		"upstream/falco_rules.yaml": `- rule: Read sensitive file untrusted
  desc: upstream
  condition: evt.type = open
  output: "read %fd.name"
  priority: WARNING
  tags: [T1555, mitre_credential_access]
`,
		"scenarios/impact/T1490.yaml": `technique: T1490
tactic: impact
scenarios:
  - id: rescue
    steps:
      - systemctl disable rescue.service
    expect:
      - rule: Disable recovery features
  - id: benign-cache
    benign: true
    steps:
      - rm -rf /tmp/cache
    forbid:
      - rule: Read sensitive file untrusted
      - rule: Clear Log Activity
`,
	}
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := CoverageInputs{
		Rules:     []string{filepath.Join(dir, "rules")},
		Upstream:  []string{filepath.Join(dir, "upstream", "falco_rules.yaml")},
		Scenarios: filepath.Join(dir, "scenarios"),
	}

	res, err := CoverageFromPaths(in, Gate{FailUnder: 50})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Report
	if c.CandidateRules != 2 || c.Exercised != 1 || res.ExitCode() != ExitOK {
		t.Errorf("candidates %d exercised %d exit %d, want 2 1 0 (the disabled and the upstream rule are not measured)", c.CandidateRules, c.Exercised, res.ExitCode())
	}
	if len(c.Untested) != 1 || c.Untested[0].ID != "T1485" {
		t.Errorf("untested %+v, want T1485", c.Untested)
	}
	if len(c.Dangling) != 1 || c.Dangling[0].Rule != "Clear Log Activity" || c.Dangling[0].Line != 15 {
		t.Errorf("dangling %+v, want only Clear Log Activity at line 15 (the upstream rule exists)", c.Dangling)
	}

	res, err = CoverageFromPaths(in, Gate{RequireAllRules: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode() != ExitFailed || !strings.Contains(res.Text(), `"Wipe block devices"`) || !strings.Contains(res.Markdown(), "Gate failed") {
		t.Errorf("require-all-rules: exit %d\n%s", res.ExitCode(), res.Text())
	}

	in.Upstream = nil
	res, err = CoverageFromPaths(in, Gate{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Dangling) != 2 {
		t.Errorf("without the upstream file: dangling %+v, want 2", res.Report.Dangling)
	}

	if _, err := CoverageFromPaths(CoverageInputs{Rules: []string{filepath.Join(dir, "missing")}, Scenarios: in.Scenarios}, Gate{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing rules path: %v", err)
	}
	if _, err := CoverageFromPaths(CoverageInputs{Scenarios: in.Scenarios}, Gate{}); err == nil || !strings.Contains(err.Error(), "--rules") {
		t.Errorf("no rules path: %v", err)
	}
}

func TestRulesFromIndexMarksCandidatesByTheirFinalDefinition(t *testing.T) {
	dir := t.TempDir()
	upstream := filepath.Join(dir, "falco_rules.yaml")
	candidates := filepath.Join(dir, "rules")
	body := map[string]string{
		upstream: `- rule: Upstream kept
  desc: d
  condition: evt.type = open
  output: "o"
  priority: WARNING
- rule: Upstream overridden
  desc: d
  condition: evt.type = open
  output: "o"
  priority: WARNING
- rule: Upstream appended
  desc: d
  condition: evt.type = open
  output: "o"
  priority: WARNING
`,
		filepath.Join(candidates, "append.yaml"): `- rule: Upstream appended
  condition: and proc.name = cat
  override:
    condition: append
`,
		filepath.Join(candidates, "mine.yaml"): `- rule: Upstream overridden
  desc: mine now
  condition: evt.type = openat
  output: "o"
  priority: ERROR
- rule: Mine
  desc: d
  condition: evt.type = execve
  output: "o"
  priority: NOTICE
  tags: [T1490]
`,
	}
	for path, b := range body {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	x, err := rules.LoadPaths(upstream, candidates)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Rule{}
	for _, r := range RulesFromIndex(x, []string{candidates + "/"}) {
		got[r.Name] = r
	}
	if got["Upstream kept"].Candidate || !got["Upstream overridden"].Candidate || !got["Upstream appended"].Candidate || !got["Mine"].Candidate {
		t.Errorf("candidates: %+v", got)
	}
	if m := got["Mine"]; m.Hash == "" || m.Line != 6 || !m.Enabled || !slices.Equal(m.Tags, []string{"T1490"}) || m.Priority != rules.Notice {
		t.Errorf("rule Mine: %+v", m)
	}
	files := FilesFromIndex(x)
	if len(files) != 3 || files[0].Path != upstream || len(files[1].SHA256) != 64 {
		t.Errorf("files %+v", files)
	}
}

// A ruleset library is judged rule by rule: an attack and a benign twin
// that forbids the rule by name, or a skip with its reason.
func TestCoveragePerRuleStatus(t *testing.T) {
	rules := []Rule{
		{Name: "Tested", Tags: []string{"T1490"}, Candidate: true, Enabled: true},
		{Name: "Attack only", Candidate: true, Enabled: true},
		{Name: "Twin only", Candidate: true, Enabled: true},
		{Name: "Skipped", Tags: []string{"T1562.001"}, Candidate: true, Enabled: true},
		{Name: "Missing", Candidate: true, Enabled: true},
		{Name: "Off and unnamed", Candidate: true, Enabled: false},
		{Name: "Off but named", Candidate: true, Enabled: false},
		{Name: "Image rule", Candidate: false, Enabled: true},
	}
	sc := func(id string, benign bool, skip string, expect, forbid []string) *scenario.Scenario {
		s := &scenario.Scenario{ID: id, Technique: "T1490", Tactic: "impact", Benign: benign, Skip: skip}
		for _, r := range expect {
			s.Expect = append(s.Expect, scenario.Matcher{Rule: r, Min: 1})
		}
		for _, r := range forbid {
			s.Forbid = append(s.Forbid, scenario.Matcher{Rule: r})
		}
		return s
	}
	scenarios := []*scenario.Scenario{
		sc("attack", false, "", []string{"Tested", "Attack only", "Off but named"}, []string{"Twin only"}), // not benign: no twin
		sc("twin", true, "", nil, []string{"Tested", "Twin only", scenario.AnyRule}),
		sc("needs-k8s", false, "needs Kubernetes", []string{"Skipped"}, nil),
		sc("needs-k8s-2", false, "needs Kubernetes", []string{"Skipped"}, nil),
		sc("skipped-twin", true, "needs a module", nil, []string{"Missing"}), // a skipped twin is no twin
	}
	c := Coverage(rules, scenarios)
	want := map[string]string{"Tested": StatusTested, "Attack only": StatusAttackOnly, "Twin only": StatusTwinOnly,
		"Skipped": StatusSkipped, "Missing": StatusMissing, "Off but named": StatusAttackOnly}
	got := map[string]string{}
	for _, r := range c.Rules {
		got[r.Name] = r.Status
	}
	if !maps.Equal(got, want) {
		t.Errorf("statuses %v, want %v (a disabled rule no scenario names and a non-candidate are not measured)", got, want)
	}
	for _, r := range c.Rules {
		switch r.Name {
		case "Skipped":
			if !slices.Equal(r.SkipReasons, []string{"needs Kubernetes"}) {
				t.Errorf("skip reasons %q, want the one reason once", r.SkipReasons)
			}
			if len(r.Techniques) != 1 || r.Techniques[0].String() != "T1562.001→T1685" {
				t.Errorf("techniques %+v, want the old tag mapped to its successor", r.Techniques)
			}
		case "Off but named":
			if !r.Disabled {
				t.Error("a rule its file disables is not marked disabled")
			}
		}
	}
	if all := CoverageWith(CoverageOptions{IncludeDisabled: true}, rules, scenarios); len(all.Rules) != len(c.Rules)+1 {
		t.Errorf("IncludeDisabled measured %d rules, want %d (the disabled rule no scenario names too)", len(all.Rules), len(c.Rules)+1)
	}

	fails := strings.Join(c.Check(Gate{RequireTwins: true}), "\n")
	for _, name := range []string{`"Attack only" (attack only)`, `"Twin only" (twin only)`, `"Missing" (missing)`, "4 candidate rules"} {
		if !strings.Contains(fails, name) {
			t.Errorf("--require-twins failures %q lack %s", fails, name)
		}
	}
	for _, name := range []string{`"Tested"`, `"Skipped"`} {
		if strings.Contains(fails, name) {
			t.Errorf("--require-twins failed %s, which is %s", name, got[strings.Trim(name, `"`)])
		}
	}
	text := c.PerRuleText()
	for _, line := range []string{"1 attack+twin, 2 attack only, 1 twin only, 1 skipped, 1 missing", `attack+twin "Tested"`,
		"twin:   twin", "skip:   needs Kubernetes", "[T1562.001→T1685]", "(disabled in its file)"} {
		if !strings.Contains(text, line) {
			t.Errorf("per-rule text lacks %q:\n%s", line, text)
		}
	}
	if md := c.PerRuleMarkdown(); !strings.Contains(md, "| `Skipped` | skipped | T1562.001→T1685 |  |  | needs Kubernetes |") {
		t.Errorf("per-rule markdown lacks the skipped row:\n%s", md)
	}
}
