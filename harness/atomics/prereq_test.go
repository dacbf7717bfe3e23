package atomics_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/atomics"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/runner/runnertest"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// TestImportedPrerequisites runs imported scenarios in real tools victims,
// with runnertest's Falco double answering the steps' execs with a recorded
// alert (fixtures/falco/http-0.40.0.jsonl line 2) retagged T1548, the
// parent of the atomics' T1548.001:
//   - a prerequisite that get_prereq_command meets lets the steps run, and
//     the parent-tagged alert passes the expectation;
//   - a prerequisite that stays unmet is an error whose reason names it and
//     quotes its check's output, never a rule failure.
func TestImportedPrerequisites(t *testing.T) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	img := victim.ToolsImageFromEnv()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if ok, err := victim.ImagePresent(ctx, img); err != nil || !ok {
		t.Fatalf("tools victim image %q: present %v, %v (build it with make victim-images, or set %s)", img, ok, err, victim.ToolsImageEnv)
	}

	out := filepath.Join(t.TempDir(), "atomics")
	if _, err := atomics.Import(filepath.Join("..", "..", "cmd", "attack-replay", "testdata", "atomics"), out, atomics.Options{}); err != nil {
		t.Fatal(err)
	}
	set, err := scenario.LoadDir(out, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const (
		met   = "art-t1548-001-3-set-the-setuid-bit-on-a-helper-the-setup"
		unmet = "art-t1053-003-3-write-a-user-crontab-file"
	)
	var run []*scenario.Scenario
	for _, s := range set.Scenarios() {
		if s.ID == met || s.ID == unmet {
			run = append(run, s)
		}
	}
	if len(run) != 2 {
		t.Fatalf("found %d of the scenarios %s and %s", len(run), met, unmet)
	}

	samples, err := runnertest.LoadSamples(filepath.Join("..", "..", "fixtures", "falco", "http-0.40.0.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	setuid := samples[1]
	setuid.Tags = []string{"T1548", "mitre_privilege_escalation"}
	f, err := runnertest.NewFalco(samples)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.On("chmod u+s /tmp/art-helper", setuid)
	f.On("echo '* * * * * id' > /var/spool/cron/crontabs/root", setuid)

	results, err := runner.New(runner.Config{
		Workers:     1,
		StartVictim: f.Wrap(runner.StartVictims(runner.Victims{})),
		Hub:         f.Hub(),
		Drops:       f.Drops,
		FalcoState:  f.State,
		Candidates:  []string{setuid.Rule},
	}).Run(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]verdict.Verdict{}
	for _, r := range results {
		got[r.ScenarioID] = r.Attempts[len(r.Attempts)-1]
	}

	if v := got[met]; v.Outcome != verdict.Pass {
		t.Errorf("%s: %s (%s), want pass: get_prereq_command provides the helper\n%s", met, v.Outcome, v.Reason, verdict.Format(v))
	}
	v := got[unmet]
	if v.Outcome != verdict.Error {
		t.Fatalf("%s: %s (%s), want error\n%s", unmet, v.Outcome, v.Reason, verdict.Format(v))
	}
	for _, want := range []string{"setup step 1", "prerequisite 1 not met (The cron spool directory holds a marker file): no marker in /var/spool/cron/crontabs"} {
		if !strings.Contains(v.Reason, want) {
			t.Errorf("reason %q lacks %q", v.Reason, want)
		}
	}
	for _, s := range v.Steps {
		if s.Phase == alert.PhaseSteps {
			t.Errorf("a step ran after the prerequisite failed: %+v", s)
		}
	}
}
