package runner_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/log"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// The test bed: real victims on the Docker engine, the real alert Hub, and
// in place of Falco a double that watches the execs the runner makes and
// pushes recorded Falco alerts (fixtures/falco/http-0.40.0.jsonl) rewritten
// with the victim's real container id, the exec's real token and the current
// time. Attribution and the barrier therefore take the real paths.

const sampleFile = "http-0.40.0.jsonl"

func TestMain(m *testing.M) {
	// Ryuk, testcontainers' reaper, is an image that cannot be pulled where
	// there is no registry; the runner removes its victims itself, which
	// these tests check on the engine.
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

// Lines of http-0.40.0.jsonl the tests replay (1-based).
const (
	lineBarrier  = 1 // attack-replay barrier, fired by `true` with AR_BARRIER set
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

func sample(t testing.TB, line int) alert.Alert {
	t.Helper()
	samplesOnce.Do(func() {
		path := filepath.Join("..", "..", "fixtures", "falco", sampleFile)
		f, err := os.Open(path)
		if err != nil {
			samplesErr = err
			return
		}
		defer f.Close()
		samples, samplesErr = alert.DecodeJSONL(f, path)
	})
	if samplesErr != nil {
		t.Fatalf("load recorded alerts: %v", samplesErr)
	}
	return samples[line-1].Clone()
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

// execEvent is one exec the runner made in a victim, as the double sees it.
type execEvent struct {
	VictimID string
	Req      victim.ExecRequest
	Token    alert.Token
	Barrier  string // AR_BARRIER: set only on the barrier marker
	Run      string // the step's command ("" for the marker)
}

func newExecEvent(id string, req victim.ExecRequest) execEvent {
	e := execEvent{VictimID: id, Req: req}
	for _, kv := range req.Env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case alert.EnvToken:
			e.Token, _ = alert.ParseToken(v)
		case alert.EnvBarrier:
			e.Barrier = v
		}
	}
	if len(req.Cmd) == 3 && req.Cmd[0] == "/bin/sh" && req.Cmd[1] == "-c" {
		e.Run = req.Cmd[2]
	}
	return e
}

// alert rewrites a recorded alert as if Falco had just seen this exec.
func (e execEvent) alert(a alert.Alert) alert.Alert {
	a = a.Clone()
	now := time.Now()
	a.Time = now
	a.Fields[alert.FieldContainerID] = e.VictimID[:12]
	a.Fields[alert.FieldToken] = e.Token.String()
	a.Fields[alert.FieldEventTime] = strconv.FormatInt(now.UnixNano(), 10)
	if e.Barrier != "" {
		a.Fields[alert.FieldBarrier] = e.Barrier
	}
	return a
}

// falcoDouble plays Falco: by default, after each step it pushes the
// recorded alerts listed for that step's command in raises, and after the
// barrier marker it pushes the barrier alert.
type falcoDouble struct {
	t      testing.TB
	image  string
	src    *alert.ChannelSource
	hub    *alert.Hub
	raises map[string][]int // step command -> sample lines
	// before runs before an exec reaches the victim v (rendezvous, cancel,
	// panic); react replaces the default reaction after it.
	before func(ctx context.Context, v runner.Victim, e execEvent)
	react  func(f *falcoDouble, e execEvent)
	drops  atomic.Int64
	execs  atomic.Int64
}

func newFalcoDouble(t testing.TB) *falcoDouble {
	f := &falcoDouble{t: t, image: requireImage(t), src: alert.NewChannelSource(), raises: map[string][]int{}}
	f.hub = alert.NewHub(f.src)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.hub.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return f
}

// Default is the double's normal reaction to an exec.
func (f *falcoDouble) Default(e execEvent) {
	if e.Barrier != "" {
		f.src.Push(e.alert(sample(f.t, lineBarrier)))
		return
	}
	f.Raise(e, f.raises[e.Run]...)
}

// Raise pushes the sample lines as alerts of e.
func (f *falcoDouble) Raise(e execEvent, lines ...int) {
	for _, l := range lines {
		f.src.Push(e.alert(sample(f.t, l)))
	}
}

// Flush returns once the hub has routed every alert pushed so far: it sends
// a barrier of its own behind them and waits for it, as the runner does.
func (f *falcoDouble) Flush(e execEvent) {
	e.Barrier = "flush-" + e.Token.String()
	w := f.hub.Barrier(e.Barrier)
	f.src.Push(e.alert(sample(f.t, lineBarrier)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w.Wait(ctx); err != nil {
		f.t.Errorf("flush alerts: %v", err)
	}
}

func (f *falcoDouble) start(ctx context.Context, sc *scenario.Scenario, runID string) (runner.Victim, error) {
	v, err := runner.StartVictims(f.image, testcontainers.WithLogger(log.TestLogger(f.t)))(ctx, sc, runID)
	if v == nil {
		return nil, err
	}
	return &watched{Victim: v, f: f}, err
}

// watched is a real victim whose execs the double sees.
type watched struct {
	runner.Victim
	f *falcoDouble
}

func (w *watched) Exec(ctx context.Context, req victim.ExecRequest) (victim.ExecResult, error) {
	e := newExecEvent(w.ID(), req)
	w.f.execs.Add(1)
	if w.f.before != nil {
		w.f.before(ctx, w.Victim, e)
	}
	res, err := w.Victim.Exec(ctx, req)
	if err == nil {
		if w.f.react != nil {
			w.f.react(w.f, e)
		} else {
			w.f.Default(e)
		}
	}
	return res, err
}

// config is a runner configuration on the double, with a run id of its own;
// the test fails if any container of that run outlives it.
func (f *falcoDouble) config(t testing.TB) runner.Config {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	runID := "test-" + hex.EncodeToString(b)
	t.Cleanup(func() { assertNoVictims(t, runID) })
	return runner.Config{
		Workers:        2,
		Grace:          -1, // the barrier alone must make the verdict right
		BarrierTimeout: 10 * time.Second,
		StartVictim:    f.start,
		Hub:            f.hub,
		Drops:          f.drops.Load,
		FalcoState:     func() string { return "falco double: " + strconv.Itoa(f.hub.Stats().Received) + " alerts" },
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
