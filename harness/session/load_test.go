package session_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/session"
	"github.com/attack-replay/attack-replay/harness/victim"
)

func TestLoad(t *testing.T) {
	idx, set, err := session.Load(session.Config{Rules: []string{"testdata/rules"}, Scenarios: "testdata/scenarios"})
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
	_, _, err := session.Load(cfg)
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
