package runner_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/runner/runnertest"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// The test bed: real victims on the Docker engine and, in place of Falco,
// runnertest's double: the real alert Hub fed with recorded Falco alerts
// (fixtures/falco/http-0.40.0.jsonl) rewritten with the victim's real
// container id, the exec's real token and the current time. Attribution and
// the barrier therefore take the real paths.

const samplePath = "../../fixtures/falco/http-0.40.0.jsonl"

func TestMain(m *testing.M) {
	// Ryuk, testcontainers' reaper, is an image that cannot be pulled where
	// there is no registry; the runner removes its victims itself, which
	// these tests check on the engine.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

// Lines of http-0.40.0.jsonl the tests replay (1-based); line 1, the
// barrier rule's alert, is what the double answers markers with.
const (
	lineSeedRm   = 2 // Disable recovery features: root rm -rf /tmp/x
	lineAnyRm    = 3 // Any rm: rm -rf /tmp/x
	lineSeedUser = 5 // Disable recovery features: systemctl ... as a non-root user (<NA>)
)

const seedRule = "Disable recovery features"

var (
	samplesOnce sync.Once
	samples     []alert.Alert
	samplesErr  error
)

func recorded(t testing.TB) []alert.Alert {
	t.Helper()
	samplesOnce.Do(func() { samples, samplesErr = runnertest.LoadSamples(samplePath) })
	if samplesErr != nil {
		t.Fatal(samplesErr)
	}
	return samples
}

// sample returns recorded alert lines, in order.
func sample(t testing.TB, lines ...int) []alert.Alert {
	t.Helper()
	all := recorded(t)
	out := make([]alert.Alert, len(lines))
	for i, l := range lines {
		out[i] = all[l-1]
	}
	return out
}

// requireImage stops the test, loudly, when the victim image is missing:
// these tests exist to run against real containers.
func requireImage(t testing.TB) string {
	t.Helper()
	img := victim.ImageFromEnv()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := victim.ImagePresent(ctx, img)
	if err != nil {
		t.Fatalf("docker: %v", err)
	}
	if !ok {
		t.Fatalf("victim image %q is missing: build it with scripts/victim-image.sh (make victim-image), or set %s", img, victim.ImageEnv)
	}
	return img
}

// newFalco starts the double for one test and closes it after.
func newFalco(t testing.TB, opts ...runnertest.Option) *runnertest.Falco {
	t.Helper()
	f, err := runnertest.NewFalco(recorded(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// config is a runner configuration on real victims watched by the double f,
// with a run id of its own;
// the test fails if any container of that run outlives it.
func config(t testing.TB, f *runnertest.Falco) runner.Config {
	image := requireImage(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	runID := "test-" + hex.EncodeToString(b)
	t.Cleanup(func() { assertNoVictims(t, runID) })
	return runner.Config{
		Workers:        2,
		Grace:          -1, // the barrier alone must make the verdict right
		BarrierTimeout: 10 * time.Second,
		StartVictim:    f.Wrap(runner.StartVictims(runner.Victims{Image: image, Options: []testcontainers.ContainerCustomizer{testcontainers.WithLogger(log.TestLogger(t))}})),
		Hub:            f.Hub(),
		Drops:          f.Drops,
		FalcoState:     f.State,
		Candidates:     []string{seedRule, "Any rm"},
		RunID:          runID,
	}
}

// assertNoVictims fails the test when a container of the run is left on the
// engine, and removes it.
func assertNoVictims(t testing.TB, runID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ids, err := victim.Labelled(ctx, map[string]string{victim.LabelRun: runID})
	if err != nil {
		t.Errorf("list containers of run %q: %v", runID, err)
		return
	}
	if len(ids) > 0 {
		t.Errorf("run %q leaked %d containers: %v", runID, len(ids), ids)
		_, _ = victim.Sweep(ctx, map[string]string{victim.LabelRun: runID})
	}
}

// scn is a scenario of steps (plain commands) with the loader's defaults.
func scn(id string, steps ...string) *scenario.Scenario {
	s := &scenario.Scenario{ID: id, Technique: "T1490", Tactic: "impact", File: "scenarios/impact/T1490.yaml", Timeout: scenario.DefaultScenarioTimeout}
	for _, run := range steps {
		s.Steps = append(s.Steps, scenario.Step{Run: run, Timeout: scenario.DefaultStepTimeout})
	}
	return s
}

func expectRule(rule string, fields ...scenario.FieldMatch) scenario.Matcher {
	return scenario.Matcher{Rule: rule, Fields: fields, Min: 1}
}

func contains(field, v string) scenario.FieldMatch {
	return scenario.FieldMatch{Field: field, TextMatch: scenario.TextMatch{Kind: scenario.Contains, Value: v}}
}

func equals(field, v string) scenario.FieldMatch {
	return scenario.FieldMatch{Field: field, TextMatch: scenario.TextMatch{Kind: scenario.Equals, Value: v}}
}

// byID indexes results by scenario id.
func byID(t *testing.T, results []verdict.Result) map[string]verdict.Result {
	t.Helper()
	m := map[string]verdict.Result{}
	for _, r := range results {
		if _, dup := m[r.ScenarioID]; dup {
			t.Fatalf("two results for scenario %q", r.ScenarioID)
		}
		m[r.ScenarioID] = r
	}
	return m
}

func describe(r verdict.Result) string {
	var b strings.Builder
	for _, a := range r.Attempts {
		fmt.Fprintf(&b, "attempt %d: %s: %s\n", a.Attempt, a.Outcome, a.Reason)
	}
	return b.String()
}
