package session_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

func TestLoad(t *testing.T) {
	idx, set, err := session.Load(context.Background(), session.Config{Rules: []string{"testdata/rules"}, Scenarios: "testdata/scenarios"})
	if err != nil {
		t.Fatal(err)
	}
	if !idx.Has("Test rm -rf") || len(idx.Files()) != 1 {
		t.Errorf("rules index: %d files, has %q: %v", len(idx.Files()), "Test rm -rf", idx.Has("Test rm -rf"))
	}
	var ids []string
	for _, sc := range set.Scenarios() {
		ids = append(ids, sc.ID)
	}
	if got := strings.Join(ids, " "); got != "rm-rf-data rm-rf-var-tmp rm-single-file" {
		t.Errorf("scenarios = %s", got)
	}
}

// TestLoadEveryProblem loads a copy of the test data with broken rules and
// broken scenarios beside the good ones: one error lists them all.
func TestLoadEveryProblem(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/rules/rm_rf.yaml", filepath.Join(dir, "rules", "rm_rf.yaml"))
	copyFile(t, "testdata/scenarios/impact/T1485.yaml", filepath.Join(dir, "scenarios", "impact", "T1485.yaml"))
	write(t, filepath.Join(dir, "rules", "zz-broken.yaml"), `- rule: No condition
  desc: a rule without its condition
  output: "x"
  priority: WARNING
- rule: Loud
  desc: a priority Falco does not have
  condition: evt.type = execve
  output: "x"
  priority: LOUD
`)
	write(t, filepath.Join(dir, "scenarios", "impact", "T1490.yaml"), `technique: T1490
tactic: impact
scenarios:
  - id: Bad_ID
    steps:
      - "true"
    expect:
      - rule: No such rule
  - id: typo
    steps:
      - "true"
    expect:
      - rule: Test rm -rf
    forbidd:
      - rule: Test rm -rf
`)
	cfg := session.Config{Rules: []string{filepath.Join(dir, "rules")}, Scenarios: filepath.Join(dir, "scenarios")}
	_, _, err := session.Load(context.Background(), cfg)
	if err == nil {
		t.Fatal("Load accepted broken rules and scenarios")
	}
	t.Logf("error:\n%v", err)
	rulesFile := filepath.Join(dir, "rules", "zz-broken.yaml")
	scenariosFile := filepath.Join(dir, "scenarios", "impact", "T1490.yaml")
	lines := strings.Split(err.Error(), "\n")
	if want := "load rules " + cfg.Rules[0] + " and scenarios " + cfg.Scenarios + ": 5 problem(s):"; lines[0] != want {
		t.Errorf("headline %q, want %q", lines[0], want)
	}
	want := []string{
		rulesFile + `:1:3: rule "No condition": missing key "condition"`,
		rulesFile + `:9:13: rule "Loud": unknown priority "LOUD"`,
		scenariosFile + `:4:9: scenario "Bad_ID": id "Bad_ID" is not valid`,
		scenariosFile + `:8:9: scenario "Bad_ID": expect 1: rule "No such rule" is not in the loaded rules files`,
		scenariosFile + `:14:5: scenario "typo": unknown key "forbidd" in a scenario (did you mean "forbid"?`,
	}
	if len(lines) != 1+len(want) {
		t.Errorf("%d problem lines, want %d", len(lines)-1, len(want))
	}
	for i, w := range want {
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], w) {
			t.Errorf("problem %d does not start with %q", i+1, w)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	write(t, to, string(data))
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPreflightAbsentFalcoImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := victim.ImagePresent(ctx, victim.DefaultImage); err != nil {
		t.Skipf("docker engine not reachable: %v", err)
	}
	start := time.Now()
	err := session.Preflight(ctx, session.Config{FalcoImage: "attack-replay/no-such-falco:0.0.0", VictimImage: victim.DefaultImage})
	t.Logf("failed after %s: %v", time.Since(start).Round(time.Millisecond), err)
	if !errors.Is(err, falco.ErrImageUnavailable) || !strings.Contains(err.Error(), "set FALCO_IMAGE") ||
		!strings.Contains(err.Error(), `"attack-replay/no-such-falco:0.0.0"`) {
		t.Errorf("Preflight = %v; want ErrImageUnavailable naming the image and FALCO_IMAGE", err)
	}
}

func TestPreflightAbsentVictimImage(t *testing.T) {
	falcoImage := standinImage(t, "0.44.1", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := session.Preflight(ctx, session.Config{FalcoImage: falcoImage, VictimImage: "attack-replay/no-such-victim:0"})
	t.Logf("error: %v", err)
	if !errors.Is(err, victim.ErrImageMissing) || !strings.Contains(err.Error(), `"attack-replay/no-such-victim:0"`) ||
		!strings.Contains(err.Error(), "VICTIM_IMAGE") || !strings.Contains(err.Error(), "make victim-image") {
		t.Errorf("Preflight = %v; want ErrImageMissing naming the image, VICTIM_IMAGE and make victim-image", err)
	}
	if err := session.Preflight(ctx, session.Config{FalcoImage: falcoImage, VictimImage: victimImage(t)}); err != nil {
		t.Errorf("Preflight with both images present = %v", err)
	}
}

// TestLoadImageRules loads candidate rules and scenarios written against
// the stand-in image's falco_rules.yaml (testdata/imagerules): with
// FalcoImageRules the image's file is read and loaded first, so the
// candidates' list override and the scenario expecting an upstream rule
// load; the upstream rule is no candidate, so `forbid: "*"` does not cover
// it. Without FalcoImageRules the same files fail to load.
func TestLoadImageRules(t *testing.T) {
	img := standinImage(t, "0.44.1", "")
	const upstream = "Read sensitive file untrusted"
	cfg := session.Config{FalcoImage: img, FalcoImageRules: true,
		Rules: []string{"testdata/imagerules/rules"}, Scenarios: "testdata/imagerules/scenarios"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	idx, set, err := session.Load(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	files := idx.Files()
	if len(files) != 2 || !strings.HasSuffix(filepath.ToSlash(files[0].Path), "/etc/falco/falco_rules.yaml") ||
		!strings.Contains(files[0].Path, "attack-replay_falco-standin_0.44.1") || files[1].Path != "testdata/imagerules/rules/shadow.yaml" {
		t.Errorf("files = %+v; want the image's rules file (its path naming the image), then the candidates", files)
	}
	if _, err := os.Stat(files[0].Path); !os.IsNotExist(err) {
		t.Errorf("the image's rules file was left at %s: %v", files[0].Path, err)
	}
	if l := idx.Lists(); !slices.ContainsFunc(l, func(l rules.List) bool {
		return l.Name == "trusted_sensitive_readers" && slices.Contains(l.Items, "chage") && slices.Contains(l.Items, "sshd")
	}) {
		t.Errorf("the candidates' override of the image's list did not apply: %+v", l)
	}
	if got := len(set.Scenarios()); got != 2 {
		t.Errorf("%d scenarios, want 2", got)
	}

	var candidates []string
	for _, r := range report.RulesFromIndex(idx, cfg.Rules) {
		if r.Candidate {
			candidates = append(candidates, r.Name)
		}
	}
	if !slices.Equal(candidates, []string{"Shadow read by cat"}) || !idx.Has(upstream) || !idx.Has("Image rule") {
		t.Errorf("candidates = %q (index has %q: %v); want only the candidate file's rule", candidates, upstream, idx.Has(upstream))
	}
	// The benign scenario forbids "*": an alert of the upstream rule
	// leaves it passing, one of the candidate rule fails it.
	var benign *scenario.Scenario
	for _, sc := range set.Scenarios() {
		if sc.ID == "list-etc" {
			benign = sc
		}
	}
	if benign == nil {
		t.Fatal("no scenario list-etc")
	}
	judge := func(rule string) verdict.Verdict {
		a := alert.Attributed{Alert: alert.Alert{Rule: rule, Priority: rules.Warning, Time: time.Now()}, Phase: alert.PhaseSteps, Step: 1}
		return verdict.Judge(verdict.Input{Scenario: benign, Attempt: 1, Alerts: []alert.Attributed{a}, Candidates: candidates,
			Steps: []verdict.StepResult{{Phase: alert.PhaseSteps, Index: 1, Run: "ls /etc"}}})
	}
	if v := judge(upstream); v.Outcome != verdict.Pass {
		t.Errorf("forbid \"*\" with an alert of %q: %s, %s; want pass (not a candidate)", upstream, v.Outcome, v.Reason)
	}
	if v := judge("Shadow read by cat"); v.Outcome != verdict.Fail {
		t.Errorf("forbid \"*\" with an alert of the candidate rule: %s, %s; want fail", v.Outcome, v.Reason)
	}

	cfg.FalcoImageRules = false
	_, _, err = session.Load(ctx, cfg)
	for _, want := range []string{`rule "` + upstream + `" is not in the loaded rules files`, `list "trusted_sensitive_readers"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load without the image's rules = %v; want a problem containing %q", err, want)
		}
	}
}

// TestLoadOffline: the dry run's load reads no image, even with
// FalcoImageRules and an absent image. What only the image's rules could
// settle (the candidates' override of its list, the macros of its that they use,
// a scenario naming its rule) is a warning; every other problem stays an
// error.
func TestLoadOffline(t *testing.T) {
	dir := t.TempDir()
	rulesDir, scenariosDir := filepath.Join(dir, "rules"), filepath.Join(dir, "scenarios")
	copyFile(t, "testdata/imagerules/rules/shadow.yaml", filepath.Join(rulesDir, "shadow.yaml"))
	copyFile(t, "testdata/imagerules/scenarios/credential-access/T1003.008.yaml", filepath.Join(scenariosDir, "credential-access", "T1003.008.yaml"))
	cfg := session.Config{FalcoImage: "attack-replay/no-such-falco:0.0.0", FalcoImageRules: true, Rules: []string{rulesDir}, Scenarios: scenariosDir}
	_, set, err := session.LoadOffline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, w := range set.Warnings {
		warned = append(warned, w.String())
	}
	const unread = "(not checked: the Falco image's rules were not read; a run with FALCO_IMAGE_RULES reads them and checks it)"
	for _, want := range []string{
		filepath.Join(rulesDir, "shadow.yaml") + `:4:3: warning: list "trusted_sensitive_readers": appends to a list that is not defined before it`,
		filepath.Join(scenariosDir, "credential-access", "T1003.008.yaml") + `:12:9: warning: scenario "cat-shadow": expect 2: rule "Read sensitive file untrusted" is not in the candidate rules ` + unread,
		// The candidates use the image's macros.
		filepath.Join(rulesDir, "shadow.yaml") + `:11:14: warning: rule "Shadow read by cat": undefined macro "open_read"`,
		filepath.Join(rulesDir, "shadow.yaml") + `:11:28: warning: rule "Shadow read by cat": undefined macro "sensitive_files"`,
	} {
		if !slices.ContainsFunc(warned, func(w string) bool { return strings.HasPrefix(w, want) && strings.HasSuffix(w, unread) }) {
			t.Errorf("warnings:\n%s\nwant one starting %s", strings.Join(warned, "\n"), want)
		}
	}
	if len(warned) != 4 || len(set.Scenarios()) != 2 {
		t.Errorf("%d warnings, %d scenarios; want 4 and 2", len(warned), len(set.Scenarios()))
	}

	// A problem of the candidates' own is an error all the same.
	write(t, filepath.Join(rulesDir, "zz-broken.yaml"), "- rule: No condition\n  desc: a rule without its condition\n  output: x\n  priority: WARNING\n")
	if _, _, err := session.LoadOffline(cfg); err == nil || !strings.Contains(err.Error(), "1 problem(s):\n"+filepath.Join(rulesDir, "zz-broken.yaml")+`:1:3: rule "No condition": missing key "condition"`) {
		t.Errorf("LoadOffline with a broken candidate = %v; want that problem alone", err)
	}
	// Without FalcoImageRules, LoadOffline is Load: both are errors.
	cfg.FalcoImageRules = false
	_, _, err = session.LoadOffline(cfg)
	for _, want := range []string{`rule "Read sensitive file untrusted" is not in the loaded rules files`, `list "trusted_sensitive_readers": appends`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadOffline without FalcoImageRules = %v; want a problem containing %q", err, want)
		}
	}
}

// TestLoadChecksConditions: a candidate condition Falco would refuse stops
// the load before any Falco starts, naming file, line and column.
func TestLoadChecksConditions(t *testing.T) {
	rulesDir := filepath.Join(t.TempDir(), "rules")
	b, err := os.ReadFile("testdata/rules/rm_rf.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(rulesDir, "rm_rf.yaml"), strings.Replace(string(b), "proc.name=rm", "proc.name!==rm", 1))
	_, _, err = session.LoadOffline(session.Config{Rules: []string{rulesDir}, Scenarios: "testdata/scenarios"})
	want := filepath.Join(rulesDir, "rm_rf.yaml") + `:6:58: rule "Test rm -rf": condition does not parse: unknown operator "!=="`
	if err == nil || !strings.Contains(err.Error(), "1 problem(s):\n"+want) {
		t.Errorf("LoadOffline = %v; want the one problem %s", err, want)
	}
}

func TestLoadImageRulesAbsentImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := victim.ImagePresent(ctx, victim.DefaultImage); err != nil {
		t.Skipf("docker engine not reachable: %v", err)
	}
	cfg := session.Config{FalcoImage: "attack-replay/no-such-falco:0.0.0", FalcoImageRules: true,
		Rules: []string{"testdata/imagerules/rules"}, Scenarios: "testdata/imagerules/scenarios"}
	_, _, err := session.Load(ctx, cfg)
	t.Logf("error: %v", err)
	if !errors.Is(err, falco.ErrImageUnavailable) || !strings.Contains(err.Error(), "FALCO_IMAGE_RULES") ||
		!strings.Contains(err.Error(), "set FALCO_IMAGE") || !strings.Contains(err.Error(), `"attack-replay/no-such-falco:0.0.0"`) {
		t.Errorf("Load = %v; want ErrImageUnavailable naming the image, FALCO_IMAGE and FALCO_IMAGE_RULES", err)
	}
}
