package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The shipped seed rule and scenarios, predicted: the per-rule table on
// stdout, the three reports and the mutants' rules file in --report-dir, and
// --fail-under on each side of the score.
func TestMutatePredict(t *testing.T) {
	dir := t.TempDir()
	args := []string{"mutate", "--predict", "--rules", "../../rules", "--scenarios", "../../scenarios",
		"--rule", "Disable recovery features", "--report-dir", dir}
	code, stdout, stderr := runCLI(t, "", append(args, "--fail-under", "50")...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "predicted from the scenarios' steps without Falco") ||
		!regexp.MustCompile(`Disable recovery features +\d+ +\d+ +\d+ +\d+\.\d%`).MatchString(stdout) {
		t.Errorf("stdout:\n%s", stdout)
	}
	var rep struct {
		Schema     string  `json:"schema"`
		Prediction bool    `json:"prediction"`
		Score      float64 `json:"score"`
		Rules      []struct {
			Rule     string `json:"rule"`
			Survived int    `json:"survived"`
			All      []struct {
				Clause string `json:"clause"`
				Killed bool   `json:"killed"`
			} `json:"all"`
		} `json:"rules"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "mutants.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != "attack-replay/mutants/v1" || !rep.Prediction || len(rep.Rules) != 1 || rep.Rules[0].Survived == 0 || rep.Score < 50 || rep.Score >= 100 {
		t.Errorf("mutants.json: %+v", rep)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "mutants.md"))
	page, _ := os.ReadFile(filepath.Join(dir, "mutants.html"))
	// A survivor the scenarios leave open: no scenario runs rm -fr.
	for name, text := range map[string]string{"mutants.md": string(md), "mutants.html": string(page)} {
		if !strings.Contains(text, `proc.args contains "-fr"`) && !strings.Contains(text, `proc.args contains &#34;-fr&#34;`) {
			t.Errorf("%s does not list the -fr survivor", name)
		}
	}
	if regexp.MustCompile(`(?i)<script|<link|src=|https?://`).Match(page) {
		t.Error("mutants.html is not self-contained")
	}
	if _, err := os.Stat(filepath.Join(dir, "mutants.yaml")); err != nil {
		t.Errorf("no mutants rules file: %v", err)
	}

	code, _, stderr = runCLI(t, "", append(args, "--fail-under", "99")...)
	if code != exitProblems || !strings.Contains(stderr, "is below --fail-under 99%") {
		t.Errorf("--fail-under 99: exit %d, stderr %s", code, stderr)
	}
}

func TestMutateUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fail-under", "150"}, "--fail-under 150 is not a percentage"},
		{[]string{"--rule", "disable recovery features"}, `no rule "disable recovery features" in the rules loaded (name one of their rules exactly; did you mean "Disable recovery features"?)`},
	} {
		args := append([]string{"mutate", "--predict", "--rules", "../../rules", "--scenarios", "../../scenarios", "--report-dir", t.TempDir()}, tc.args...)
		code, _, stderr := runCLI(t, "", args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %s; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// Without --predict the mutants run in Falco: without a Falco image the
// command stops before anything starts, naming FALCO_IMAGE.
func TestMutateNeedsFalcoImage(t *testing.T) {
	t.Setenv("FALCO_IMAGE", "attack-replay/no-such-falco:0.0.0")
	code, _, stderr := runCLI(t, "", "mutate", "--rules", "../../rules", "--scenarios", "../../scenarios",
		"--rule", "Disable recovery features", "--report-dir", t.TempDir())
	if strings.Contains(stderr, "Docker engine") && strings.Contains(stderr, "not reachable") {
		t.Skipf("no Docker engine: %s", stderr)
	}
	if code != exitUsage || !strings.Contains(stderr, "FALCO_IMAGE") {
		t.Errorf("exit %d, stderr %s; want 2 naming FALCO_IMAGE", code, stderr)
	}
}
