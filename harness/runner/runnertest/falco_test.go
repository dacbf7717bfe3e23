package runnertest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/runner/runnertest"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

var samplePath = filepath.Join("..", "..", "..", "fixtures", "falco", "http-0.40.0.jsonl")

const seedRule = "Disable recovery features"

func loadSamples(t *testing.T) []alert.Alert {
	t.Helper()
	s, err := runnertest.LoadSamples(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newFalco(t *testing.T, samples []alert.Alert, opts ...runnertest.Option) *runnertest.Falco {
	t.Helper()
	f, err := runnertest.NewFalco(samples, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// memVictim is a victim with no container: every exec succeeds at once,
// except the command "engine-error", which fails as a broken engine would.
type memVictim struct {
	id    string
	mu    sync.Mutex
	execs []victim.ExecRequest
}

func newMemVictim() *memVictim {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return &memVictim{id: hex.EncodeToString(b)}
}

func (v *memVictim) ID() string { return v.id }

func (v *memVictim) Exec(_ context.Context, req victim.ExecRequest) (victim.ExecResult, error) {
	v.mu.Lock()
	v.execs = append(v.execs, req)
	v.mu.Unlock()
	if len(req.Cmd) == 3 && req.Cmd[2] == "engine-error" {
		return victim.ExecResult{}, errors.New("engine gone")
	}
	return victim.ExecResult{Start: time.Now(), Duration: time.Microsecond}, nil
}

func (v *memVictim) Terminate(context.Context) error { return nil }

func (v *memVictim) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.execs)
}

// start wraps one memVictim with f, as the runner would get it.
func start(t *testing.T, f *runnertest.Falco) (runner.Victim, *memVictim) {
	t.Helper()
	mem := newMemVictim()
	v, err := f.Wrap(func(context.Context, *scenario.Scenario, string) (runner.Victim, error) { return mem, nil })(context.Background(), &scenario.Scenario{ID: "s"}, "run")
	if err != nil {
		t.Fatal(err)
	}
	return v, mem
}

func TestWrapPassesErrors(t *testing.T) {
	f := newFalco(t, loadSamples(t))
	boom := errors.New("no such image")
	v, err := f.Wrap(func(context.Context, *scenario.Scenario, string) (runner.Victim, error) { return nil, boom })(context.Background(), nil, "")
	if v != nil || !errors.Is(err, boom) {
		t.Errorf("start failed without a victim: got %v, %v; want nil and the error", v, err)
	}
	mem := newMemVictim()
	f.On("true", loadSamples(t)[1])
	v, err = f.Wrap(func(context.Context, *scenario.Scenario, string) (runner.Victim, error) { return mem, boom })(context.Background(), nil, "")
	if v == nil || v.ID() != mem.id || !errors.Is(err, boom) {
		t.Fatalf("start failed with a victim to remove: got %v, %v; want the victim and the error", v, err)
	}
	rec := f.Hub().Track(v.ID(), "r-1")
	defer rec.Close()
	if _, err := v.Exec(context.Background(), step("true", alert.Token{Run: "r-1", Phase: alert.PhaseSetup, Step: 1})); err != nil {
		t.Fatal(err)
	}
	if got := recorded(t, f, rec); len(got) != 1 {
		t.Errorf("the victim returned with an error is not watched: %d alerts", len(got))
	}
}

func step(run string, tok alert.Token) victim.ExecRequest {
	return victim.ExecRequest{Cmd: []string{"/bin/sh", "-c", run}, Env: []string{"LANG=C", alert.EnvToken + "=" + tok.String()}}
}

func marker(tok string) victim.ExecRequest {
	return victim.ExecRequest{Cmd: []string{"/bin/true"}, Env: []string{alert.EnvBarrier + "=" + tok, alert.EnvToken + "=" + tok}}
}

// recorded flushes the hub and returns what rec holds.
func recorded(t *testing.T, f *runnertest.Falco, rec *alert.Recorder) []alert.Attributed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return rec.Alerts()
}

func TestLoadSamples(t *testing.T) {
	s := loadSamples(t)
	if len(s) != 77 || s[0].Rule != alert.BarrierRule || s[1].Rule != seedRule || s[1].Fields["proc.cmdline"] != "rm -rf /tmp/x" {
		t.Errorf("got %d samples, line 1 %q, line 2 %q %q: want 77, the barrier, then %q for rm -rf /tmp/x", len(s), s[0].Rule, s[1].Rule, s[1].Fields["proc.cmdline"], seedRule)
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	empty := filepath.Join(dir, "empty.jsonl")
	line, _, _ := strings.Cut(readFile(t, samplePath), "\n")
	if err := os.WriteFile(bad, []byte(line+"\n{\"rule\": \"x\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.jsonl"): "missing.jsonl",
		bad:                                 "bad.jsonl:2: decode falco alert: missing priority, time",
		empty:                               "empty.jsonl holds no alert",
	} {
		if _, err := runnertest.LoadSamples(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadSamples(%s): err = %v, want it to say %q", filepath.Base(path), err, want)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewFalcoNeedsABarrierSample(t *testing.T) {
	s := loadSamples(t)
	_, err := runnertest.NewFalco(s[1:3])
	if err == nil || !strings.Contains(err.Error(), `no "attack-replay barrier" alert`) {
		t.Errorf("err = %v, want it to name the missing barrier alert", err)
	}
}

func TestExecAlert(t *testing.T) {
	s := loadSamples(t)
	tmpl := s[1]
	mem := newMemVictim()
	f := newFalco(t, s)
	var seen []runnertest.Exec
	f.React(func(e runnertest.Exec) { seen = append(seen, e) })
	v, _ := f.Wrap(func(context.Context, *scenario.Scenario, string) (runner.Victim, error) { return mem, nil })(context.Background(), nil, "")
	tok := alert.Token{Run: "r-1", Phase: alert.PhaseSteps, Step: 2}
	argv := victim.ExecRequest{Cmd: []string{"cat", "/tmp/../../etc/passwd"}, Env: []string{alert.EnvToken + "=" + tok.String()}}
	for _, req := range []victim.ExecRequest{step("rm -rf /tmp/x", tok), marker("r-1/barrier/1"), {Cmd: []string{"id"}}, argv} {
		if _, err := v.Exec(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 4 {
		t.Fatalf("React saw %d execs, want 4", len(seen))
	}
	if e := seen[3]; e.Run != "" || !slices.Equal(e.Argv, argv.Cmd) || e.Command() != "cat /tmp/../../etc/passwd" || e.Token != tok {
		t.Errorf("exec step (no shell) read as %+v", e)
	}
	if e := seen[2]; e.Argv != nil || e.Run != "" || e.Command() != "" {
		t.Errorf("an exec without a token is not a step: %+v", e)
	}
	if e := seen[0]; e.VictimID != mem.id || e.Token != tok || e.Run != "rm -rf /tmp/x" || e.Command() != e.Run || e.Argv != nil || e.Barrier != "" || e.Req.Env[0] != "LANG=C" {
		t.Errorf("step exec read as %+v", e)
	}
	if e := seen[1]; e.Barrier != "r-1/barrier/1" || e.Run != "" || e.Argv != nil || e.Token.Phase != alert.PhaseBarrier {
		t.Errorf("marker exec read as %+v", e)
	}

	t0 := time.Now()
	a := seen[0].Alert(tmpl)
	if a.ContainerID() != mem.id[:12] || a.Fields[alert.FieldToken] != "r-1/steps/2" || a.Rule != seedRule || a.Fields["proc.cmdline"] != "rm -rf /tmp/x" {
		t.Errorf("rewritten alert: rule %q, fields %v", a.Rule, a.Fields)
	}
	if got, ok := a.Token(); !ok || got != tok {
		t.Errorf("rewritten alert's token = %v, %v; want %v", got, ok, tok)
	}
	if ns, err := strconv.ParseInt(a.Fields[alert.FieldEventTime], 10, 64); err != nil || time.Unix(0, ns).Before(t0) || a.Time.Before(t0) || !a.ReceivedAt.IsZero() {
		t.Errorf("rewritten alert's times: evt.time %q, time %v, received %v; want now, now, unset", a.Fields[alert.FieldEventTime], a.Time, a.ReceivedAt)
	}
	if tmpl.Fields[alert.FieldContainerID] != "c373d3f043fb" || tmpl.Fields[alert.FieldToken] != "" {
		t.Errorf("the template was changed: %v", tmpl.Fields)
	}
	if b := seen[1].Alert(s[0]); b.Fields[alert.FieldBarrier] != "r-1/barrier/1" {
		t.Errorf("barrier alert's ar_barrier = %q", b.Fields[alert.FieldBarrier])
	}
	if n := seen[2].Alert(alert.Alert{Rule: "bare"}); n.Fields[alert.FieldToken] != "" || n.ContainerID() != mem.id[:12] {
		t.Errorf("exec with no token, template with no fields: %v", n.Fields)
	}
	if n := (runnertest.Exec{VictimID: "short"}).Alert(tmpl); n.Fields[alert.FieldContainerID] != "short" {
		t.Errorf("short victim id became %q", n.Fields[alert.FieldContainerID])
	}
}

// TestDefaultReaction drives the double's victim by hand: On's alerts follow
// their command only, barriers are answered, a failed exec raises nothing,
// and Before sees each exec before the victim does.
func TestDefaultReaction(t *testing.T) {
	s := loadSamples(t)
	f := newFalco(t, s)
	f.On("rm -rf /tmp/x", s[1], s[2])
	f.On("engine-error", s[1])
	var before []int // execs the victim had made when Before ran
	f.Before(func(_ context.Context, v runner.Victim, _ runnertest.Exec) {
		before = append(before, v.(*memVictim).count())
	})
	v, mem := start(t, f)
	rec := f.Hub().Track(v.ID(), "r-1")
	defer rec.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, run := range []string{"true", "rm -rf /tmp/x"} {
		if _, err := v.Exec(ctx, step(run, alert.Token{Run: "r-1", Phase: alert.PhaseSteps, Step: i + 1})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Exec(ctx, step("engine-error", alert.Token{Run: "r-1", Phase: alert.PhaseSteps, Step: 3})); err == nil {
		t.Fatal("the victim's exec error was lost")
	}
	got := recorded(t, f, rec)
	if len(got) != 2 || got[0].Rule != seedRule || got[1].Rule != "Any rm" {
		t.Fatalf("recorded %+v, want the two alerts of rm -rf /tmp/x", got)
	}
	for _, a := range got {
		if a.ByID || a.Phase != alert.PhaseSteps || a.Step != 2 || a.Transport != alert.TransportReplay || a.ReceivedAt.IsZero() {
			t.Errorf("alert %q: %s/%d by id %v, transport %q, received %v; want steps/2 by token, replay, stamped", a.Rule, a.Phase, a.Step, a.ByID, a.Transport, a.ReceivedAt)
		}
	}

	w := f.Hub().Barrier("r-1/barrier/1")
	if _, err := v.Exec(ctx, marker("r-1/barrier/1")); err != nil {
		t.Fatal(err)
	}
	b, err := w.Wait(ctx)
	if err != nil || b.Rule != alert.BarrierRule {
		t.Errorf("barrier: %q, %v", b.Rule, err)
	}
	if want := []int{0, 1, 2, 3}; !slices.Equal(before, want) || mem.count() != 4 {
		t.Errorf("Before ran with the victim at %v execs, want %v; victim made %d", before, want, mem.count())
	}
	if st := f.State(); st != "falco double: 4 alerts" {
		t.Errorf("State() = %q, want 4 alerts (2 raised, the flush's barrier, the marker's)", st)
	}
}

func TestBarrierOptions(t *testing.T) {
	s := loadSamples(t)
	t.Run("dropped", func(t *testing.T) {
		f := newFalco(t, s, runnertest.DropBarriers())
		v, _ := start(t, f)
		w := f.Hub().Barrier("r-1/barrier/1")
		if _, err := v.Exec(context.Background(), marker("r-1/barrier/1")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if _, err := w.Wait(ctx); !errors.Is(err, alert.ErrBarrierTimeout) {
			t.Errorf("Wait = %v, want a barrier timeout", err)
		}
		if n := f.Hub().Stats().Barriers; n != 0 {
			t.Errorf("hub saw %d barrier alerts, want none", n)
		}
	})
	t.Run("delayed", func(t *testing.T) {
		const delay = 150 * time.Millisecond
		f := newFalco(t, s, runnertest.BarrierDelay(delay))
		v, _ := start(t, f)
		w := f.Hub().Barrier("r-1/barrier/1")
		t0 := time.Now()
		if _, err := v.Exec(context.Background(), marker("r-1/barrier/1")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a, err := w.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if late := a.ReceivedAt.Sub(t0); late < delay {
			t.Errorf("barrier delivered %v after the marker, want at least %v", late, delay)
		}
		if a.EventTime().After(t0.Add(delay)) {
			t.Errorf("barrier's event time %v moved with the delay; it is the marker's", a.EventTime())
		}
	})
}

func TestReactFailDrops(t *testing.T) {
	s := loadSamples(t)
	f := newFalco(t, s)
	f.On("rm -rf /tmp/x", s[1])
	f.React(func(e runnertest.Exec) {
		if e.Token.Step == 2 {
			f.Default(e) // only the second step is seen
		}
		f.AddDrops(3)
	})
	v, _ := start(t, f)
	rec := f.Hub().Track(v.ID(), "r-1")
	defer rec.Close()
	for i := range 2 {
		if _, err := v.Exec(context.Background(), step("rm -rf /tmp/x", alert.Token{Run: "r-1", Phase: alert.PhaseSteps, Step: i + 1})); err != nil {
			t.Fatal(err)
		}
	}
	if got := recorded(t, f, rec); len(got) != 1 || got[0].Step != 2 {
		t.Errorf("recorded %+v, want the alert of step 2 only", got)
	}
	if f.Drops() != 6 {
		t.Errorf("Drops() = %d, want 6", f.Drops())
	}

	f.Fail(errors.New("falco exited 134"))
	select {
	case <-f.Hub().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not fail within 10s of Fail")
	}
	if err := f.Hub().Err(); err == nil || !strings.Contains(err.Error(), "falco exited 134") {
		t.Errorf("hub error = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Flush(ctx); err == nil || !strings.Contains(err.Error(), "flush alerts: alert source: falco exited 134") {
		t.Errorf("Flush after Fail = %v, want the failure", err)
	}
	f.Close()
	f.Close() // a second Close must not block or panic
}

// TestDrivesTheRunner runs the real runner on in-memory victims: the
// double's view of the runner's execs (token, marker) must be the one the
// runner really uses, or the verdicts below come out wrong.
func TestDrivesTheRunner(t *testing.T) {
	s := loadSamples(t)
	f := newFalco(t, s)
	f.On("rm -rf /tmp/x", s[1])
	var victims sync.Map
	cfg := runner.Config{
		Workers: 2,
		Grace:   -1,
		StartVictim: f.Wrap(func(context.Context, *scenario.Scenario, string) (runner.Victim, error) {
			v := newMemVictim()
			victims.Store(v, true)
			return v, nil
		}),
		Hub:        f.Hub(),
		Drops:      f.Drops,
		FalcoState: f.State,
		Candidates: []string{seedRule},
	}
	detected := &scenario.Scenario{ID: "detected", Timeout: time.Minute,
		Setup:  []scenario.Step{{Run: "true"}},
		Steps:  []scenario.Step{{Run: "true"}, {Run: "rm -rf /tmp/x"}},
		Expect: []scenario.Matcher{{Rule: seedRule, Min: 1}}}
	benign := &scenario.Scenario{ID: "benign", Benign: true, Timeout: time.Minute,
		Steps:  []scenario.Step{{Run: "rm -rf /tmp/x"}},
		Forbid: []scenario.Matcher{{Rule: seedRule}}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results, err := runner.New(cfg).Run(ctx, []*scenario.Scenario{detected, benign})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Outcome != verdict.Pass || results[1].Outcome != verdict.Fail {
		for _, r := range results {
			t.Log(verdict.FormatResult(r))
		}
		t.Fatalf("got %d results, want detected to pass and benign to fail", len(results))
	}
	v := results[0].Attempts[0]
	if len(v.Alerts) != 1 || v.Alerts[0].Phase != alert.PhaseSteps || v.Alerts[0].Step != 2 || v.Alerts[0].ContainerID() != v.VictimID[:12] {
		t.Errorf("detected: alerts %+v, want one of steps/2 from its victim", v.Alerts)
	}
	execs := 0
	victims.Range(func(k, _ any) bool {
		execs += k.(*memVictim).count()
		return true
	})
	// detected: setup, its barrier, 2 steps, the barrier; benign: 1 step, the barrier.
	if execs != 7 {
		t.Errorf("the victims saw %d execs, want 7", execs)
	}
}
