package runner_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/runner/runnertest"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

func run(t *testing.T, cfg runner.Config, scs ...*scenario.Scenario) map[string]verdict.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := runner.New(cfg).Run(ctx, scs)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	// Every victim is gone when Run returns, not merely eventually.
	assertNoVictims(t, cfg.RunID)
	if len(results) != len(scs) {
		t.Fatalf("got %d results for %d scenarios", len(results), len(scs))
	}
	return byID(t, results)
}

// only returns the single verdict of a result, failing the test on its outcome.
func only(t *testing.T, r verdict.Result, want verdict.Outcome) verdict.Verdict {
	t.Helper()
	if len(r.Attempts) != 1 {
		t.Fatalf("scenario %q: %d attempts, want 1", r.ScenarioID, len(r.Attempts))
	}
	v := r.Attempts[0]
	if v.Outcome != want || r.Outcome != want {
		t.Errorf("scenario %q: outcome %s, want %s\n%s", r.ScenarioID, v.Outcome, want, verdict.Format(v))
	}
	return v
}

func TestOutcomes(t *testing.T) {
	f := newFalco(t)
	f.On("rm -rf /tmp/x", sample(t, lineSeedRm, lineAnyRm)...)
	f.On("mkdir -p /tmp/build-cache && rm -rf /tmp/build-cache", sample(t, lineSeedRm)...)
	f.On("su nobody -s /bin/sh -c true", sample(t, lineSeedUser)...)

	pass := scn("pass", "mkdir -p /tmp/x", "rm -rf /tmp/x")
	pass.Setup = []scenario.Step{{Run: "touch /tmp/setup-done"}}
	pass.Cleanup = []scenario.Step{{Run: "rm -f /tmp/setup-done"}}
	pass.Expect = []scenario.Matcher{expectRule(seedRule, contains("proc.cmdline", "/tmp/x")), expectRule("Any rm")}

	benign := scn("benign-fails", "mkdir -p /tmp/build-cache && rm -rf /tmp/build-cache")
	benign.Benign = true
	benign.Forbid = []scenario.Matcher{{Rule: seedRule}}

	near := scn("near-miss", "su nobody -s /bin/sh -c true")
	near.Expect = []scenario.Matcher{expectRule(seedRule, contains("proc.cmdline", "rescue.service"), equals("user.name", "nobody"))}

	missing := scn("command-not-found", "no-such-command --now")
	missing.Expect = []scenario.Matcher{expectRule(seedRule)}

	mustSucceed := scn("must-succeed", "rm -rf /tmp/x", "exit 3", "rm -rf /tmp/x")
	mustSucceed.Steps[1].Exit = []int{0}
	mustSucceed.Expect = []scenario.Matcher{expectRule(seedRule)}

	badSetup := scn("setup-fails", "rm -rf /tmp/x")
	badSetup.Setup = []scenario.Step{{Run: "echo cannot prepare >&2; exit 4"}}
	badSetup.Expect = []scenario.Matcher{expectRule(seedRule)}

	timeout := scn("step-timeout", "sleep 30")
	timeout.Steps[0].Timeout = 500 * time.Millisecond
	timeout.Expect = []scenario.Matcher{expectRule(seedRule)}

	asUser := scn("as-user", `echo "$(id -un) $LANG $PWD $AR_TOKEN"`)
	asUser.User = "nobody"
	asUser.Env = map[string]string{"LANG": "C"}
	asUser.Workdir = "/tmp"
	asUser.Setup = []scenario.Step{{Run: "id -un"}}
	asUser.Forbid = []scenario.Matcher{{Rule: seedRule}}

	slow := scn("scenario-timeout", "sleep 60")
	slow.Timeout = 3 * time.Second
	slow.Expect = []scenario.Matcher{expectRule(seedRule)}

	cfg := config(t, f)
	var mu sync.Mutex
	var progress []string
	cfg.OnResult = func(r verdict.Result) {
		mu.Lock()
		defer mu.Unlock()
		progress = append(progress, r.ScenarioID)
	}
	res := run(t, cfg, pass, benign, near, missing, mustSucceed, badSetup, timeout, asUser, slow)

	v := only(t, res["pass"], verdict.Pass)
	if v.VictimID == "" || len(v.VictimID) != 64 {
		t.Errorf("victim id %q, want the full container id", v.VictimID)
	}
	for _, a := range v.Alerts {
		if got := a.ContainerID(); got != v.VictimID[:12] {
			t.Errorf("alert %q has container.id %q, want the victim's %q", a.Rule, got, v.VictimID[:12])
		}
		if a.ByID || a.Phase != alert.PhaseSteps || a.Step != 2 {
			t.Errorf("alert %q attributed to %s/%d (by id: %v), want steps/2 by token", a.Rule, a.Phase, a.Step, a.ByID)
		}
	}
	var phases []string
	for _, s := range v.Steps {
		phases = append(phases, string(s.Phase))
		if s.ExitCode != 0 || s.Start.IsZero() || s.Duration <= 0 || s.User != "root" {
			t.Errorf("step %s/%d: %+v", s.Phase, s.Index, s)
		}
	}
	if got := strings.Join(phases, ","); got != "setup,steps,steps,cleanup" {
		t.Errorf("steps run: %s, want setup,steps,steps,cleanup", got)
	}
	if len(v.Latencies) != 2 || v.Latencies[0].Step != 2 || v.Latencies[0].Detection <= 0 || v.Latencies[0].Delivery < 0 {
		t.Errorf("latencies = %+v, want two of step 2", v.Latencies)
	}
	tm := v.Timings
	if tm.VictimStart <= 0 || tm.Setup <= 0 || tm.Steps <= 0 || tm.Barrier <= 0 || tm.Cleanup <= 0 || tm.VictimRemove <= 0 || tm.Total < tm.VictimStart+tm.Steps+tm.VictimRemove {
		t.Errorf("timings incomplete: %+v", tm)
	}

	v = only(t, res["benign-fails"], verdict.Fail)
	if len(v.Forbidden) != 1 || !strings.Contains(v.Reason, `forbidden "Disable recovery features" fired`) {
		t.Errorf("benign: forbidden = %+v, reason %q", v.Forbidden, v.Reason)
	}

	v = only(t, res["near-miss"], verdict.Fail)
	if len(v.NearMisses) != 1 {
		t.Fatalf("near misses = %+v, want one", v.NearMisses)
	}
	if n := v.NearMisses[0]; n.Field != "proc.cmdline" || n.Want != `contains "rescue.service"` || n.Got != "systemctl disable recovery-mode.service" {
		t.Errorf("near miss = %+v", n)
	}
	if !strings.Contains(verdict.Format(v), `near miss #1: proc.cmdline want contains "rescue.service", got "systemctl disable recovery-mode.service"`) {
		t.Errorf("Format lacks the near miss:\n%s", verdict.Format(v))
	}

	v = only(t, res["command-not-found"], verdict.Error)
	if !strings.Contains(v.Reason, "exited 127 (command not found)") || !strings.Contains(v.Reason, "no-such-command") {
		t.Errorf("reason %q", v.Reason)
	}

	v = only(t, res["must-succeed"], verdict.Error)
	if len(v.Steps) != 2 || v.Reason != `step 2 "exit 3" exited 3, expected 0` {
		t.Errorf("must_succeed: %d steps run (want 2: the failed step stops the rest), reason %q", len(v.Steps), v.Reason)
	}

	v = only(t, res["setup-fails"], verdict.Error)
	if len(v.Steps) != 1 || !strings.Contains(v.Reason, "setup step 1") || !strings.Contains(v.Reason, "exited 4: cannot prepare") {
		t.Errorf("setup failure: %d steps run (want 1), reason %q", len(v.Steps), v.Reason)
	}

	v = only(t, res["step-timeout"], verdict.Error)
	if !strings.Contains(v.Reason, "timed out after 500ms") || !v.Steps[0].TimedOut || v.Steps[0].Duration > 20*time.Second {
		t.Errorf("timeout: reason %q, step %+v", v.Reason, v.Steps[0])
	}

	v = only(t, res["as-user"], verdict.Pass)
	if len(v.Steps) != 2 || v.Steps[0].User != "root" || strings.TrimSpace(v.Steps[0].Stdout) != "root" || v.Steps[1].User != "nobody" {
		t.Fatalf("setup runs as root, steps as the scenario's user: %+v", v.Steps)
	}
	got := strings.Fields(v.Steps[1].Stdout)
	if len(got) != 4 || got[0] != "nobody" || got[1] != "C" || got[2] != "/tmp" || !strings.HasPrefix(got[3], cfg.RunID+"-") || !strings.HasSuffix(got[3], "/steps/1") {
		t.Errorf("step saw user, LANG, PWD, AR_TOKEN = %q, want nobody C /tmp <run>/steps/1", got)
	}

	v = only(t, res["scenario-timeout"], verdict.Error)
	if !strings.HasPrefix(v.Reason, "scenario timeout 3s exceeded") {
		t.Errorf("reason %q", v.Reason)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(progress) != 9 {
		t.Errorf("OnResult called for %v, want every scenario once", progress)
	}
}

// TestBarrierOrdering shows what the barrier guarantees with no grace at
// all: an alert delivered before the barrier alert is judged, one delivered
// after it is listed but not judged.
func TestBarrierOrdering(t *testing.T) {
	f := newFalco(t)
	var mu sync.Mutex
	lastStep := map[string]runnertest.Exec{} // victim -> its step exec
	f.React(func(e runnertest.Exec) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case e.Token.Phase == alert.PhaseSteps:
			lastStep[e.VictimID] = e
			if e.Run == "rm -rf /tmp/early" {
				f.Raise(e, sample(t, lineSeedRm)...)
			}
		case e.Barrier != "":
			f.Default(e)
		case e.Token.Phase == alert.PhaseCleanup && strings.Contains(e.Run, "late"):
			// Falco reports the step's alert only now, after the barrier
			// and the verdict: it carries the step's token all the same.
			f.Raise(lastStep[e.VictimID], sample(t, lineSeedRm)...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := f.Flush(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	early := scn("alert-then-barrier", "rm -rf /tmp/early")
	early.Expect = []scenario.Matcher{expectRule(seedRule)}
	late := scn("barrier-then-alert", "rm -rf /tmp/late")
	late.Expect = []scenario.Matcher{expectRule(seedRule)}
	late.Cleanup = []scenario.Step{{Run: "echo late"}}

	res := run(t, config(t, f), early, late)

	v := only(t, res["alert-then-barrier"], verdict.Pass)
	if v.Judged != 1 {
		t.Errorf("alert-then-barrier: %d alerts judged, want 1", v.Judged)
	}
	v = only(t, res["barrier-then-alert"], verdict.Fail)
	if v.Judged != 0 || len(v.Alerts) != 1 || v.Alerts[0].Phase != alert.PhaseSteps || v.Alerts[0].Step != 1 {
		t.Errorf("barrier-then-alert: judged %d of %d alerts, want 0 of 1 (a steps/1 alert listed after the verdict): %+v", v.Judged, len(v.Alerts), v.Alerts)
	}
	if !strings.Contains(verdict.Format(v), "(arrived after the verdict)") {
		t.Errorf("Format does not mark the late alert:\n%s", verdict.Format(v))
	}
}

func TestBarrierErrors(t *testing.T) {
	t.Run("barrier never arrives", func(t *testing.T) {
		f := newFalco(t, runnertest.DropBarriers()) // Falco sees nothing
		cfg := config(t, f)
		cfg.BarrierTimeout = 300 * time.Millisecond
		s := scn("silent-falco", "true")
		s.Expect = []scenario.Matcher{expectRule(seedRule)}
		v := only(t, run(t, cfg, s)["silent-falco"], verdict.Error)
		if !strings.Contains(v.Reason, "never arrived within 300ms") || !strings.Contains(v.Reason, "falco double: 0 alerts") {
			t.Errorf("reason %q, want the barrier and Falco's state", v.Reason)
		}
	})
	t.Run("falco dies during the barrier", func(t *testing.T) {
		f := newFalco(t)
		f.React(func(e runnertest.Exec) {
			if e.Barrier != "" {
				f.Fail(errors.New("falco exited 134"))
			}
		})
		s := scn("falco-dies", "true")
		s.Expect = []scenario.Matcher{expectRule(seedRule)}
		after := scn("after-falco-died", "true")
		after.Expect = []scenario.Matcher{expectRule(seedRule)}
		cfg := config(t, f)
		cfg.Workers = 1
		res := run(t, cfg, s, after)
		v := only(t, res["falco-dies"], verdict.Error)
		if !strings.Contains(v.Reason, "falco died") || !strings.Contains(v.Reason, "falco exited 134") {
			t.Errorf("reason %q", v.Reason)
		}
		v = only(t, res["after-falco-died"], verdict.Error)
		// Its victim may have been started ahead, while the first
		// scenario ran; no step of it may run.
		if !strings.Contains(v.Reason, "falco died before the scenario started") || len(v.Steps) != 0 {
			t.Errorf("after Falco died: reason %q, %d steps (want none run)", v.Reason, len(v.Steps))
		}
	})
	t.Run("falco exits with its last log lines", func(t *testing.T) {
		// What the hub fails with when Falco's container exits: a headline,
		// then twenty log lines. The state is what the session says then:
		// the same headline.
		exit := &falco.ExitError{Phase: falco.PhaseRun, ExitCode: 3, Message: "unexpected signal"}
		for i := range 20 {
			exit.LogTail = append(exit.LogTail, fmt.Sprintf("Thu Nov 26 01:00:%02d 2026: falco log line %d", i, i))
		}
		headline, _, _ := strings.Cut(exit.Error(), "\n")
		f := newFalco(t)
		f.React(func(e runnertest.Exec) {
			if e.Barrier != "" {
				f.Fail(exit)
			}
		})
		cfg := config(t, f)
		cfg.Workers = 1
		cfg.FalcoState = func() string {
			if err := f.Hub().Err(); err != nil {
				return headline
			}
			return "falco running"
		}
		dies, after := scn("falco-exits", "true"), scn("after-falco-exited", "true")
		dies.Expect = []scenario.Matcher{expectRule(seedRule)}
		after.Expect = []scenario.Matcher{expectRule(seedRule)}
		res := run(t, cfg, dies, after)
		for id, want := range map[string]string{
			"falco-exits":        "falco died: the alert stream failed while waiting for the barrier: ",
			"after-falco-exited": "falco died before the scenario started: ",
		} {
			v := only(t, res[id], verdict.Error)
			// The headline once, whole, and nothing of the log: the
			// session's Close error carries that, once for the run. (The
			// double's source puts "alert source: " before the error.)
			if !strings.HasPrefix(v.Reason, want) || !strings.HasSuffix(v.Reason, headline) ||
				strings.Count(v.Reason, "exited with code 3") != 1 || strings.Contains(v.Reason, "log line") {
				t.Errorf("%s: reason %q, want %q…%q, the exit said once", id, v.Reason, want, headline)
			}
			if n := strings.Count(verdict.Format(v), "exited with code 3"); n != 1 {
				t.Errorf("%s: Format says the exit %d times, want once:\n%s", id, n, verdict.Format(v))
			}
		}
	})
	t.Run("victim cannot start", func(t *testing.T) {
		f := newFalco(t)
		cfg := config(t, f)
		cfg.StartVictim = runner.StartVictims(runner.Victims{Image: "attack-replay/victim:no-such-tag"})
		s := scn("no-image", "true")
		s.Expect = []scenario.Matcher{expectRule(seedRule)}
		v := only(t, run(t, cfg, s)["no-image"], verdict.Error)
		if !strings.Contains(v.Reason, "start victim:") || !strings.Contains(v.Reason, "no-such-tag") {
			t.Errorf("reason %q", v.Reason)
		}
	})
}

// TestBarrierLate: the barrier alert comes well after the marker ran, and an
// alert of the steps comes between the two. The runner waits for the barrier
// (and then the grace period) before judging, so that alert counts.
func TestBarrierLate(t *testing.T) {
	const delay, grace = 300 * time.Millisecond, 100 * time.Millisecond
	f := newFalco(t, runnertest.BarrierDelay(delay))
	var mu sync.Mutex
	lastStep := map[string]runnertest.Exec{}
	f.React(func(e runnertest.Exec) {
		mu.Lock()
		defer mu.Unlock()
		if e.Token.Phase == alert.PhaseSteps {
			lastStep[e.VictimID] = e
			return
		}
		if e.Barrier != "" {
			f.Raise(lastStep[e.VictimID], sample(t, lineSeedRm)...)
		}
		f.Default(e)
	})
	s := scn("late-barrier", "rm -rf /tmp/x")
	s.Expect = []scenario.Matcher{expectRule(seedRule)}
	cfg := config(t, f)
	cfg.Grace = grace
	v := only(t, run(t, cfg, s)["late-barrier"], verdict.Pass)
	if v.Judged != 1 {
		t.Errorf("%d alerts judged, want the step's alert that came before the barrier", v.Judged)
	}
	if v.Timings.Barrier < delay+grace {
		t.Errorf("barrier phase took %v: the runner did not wait %v for the barrier and %v of grace", v.Timings.Barrier, delay, grace)
	}
}

func TestInconclusiveOnDrops(t *testing.T) {
	f := newFalco(t)
	f.React(func(e runnertest.Exec) {
		if e.Token.Phase == alert.PhaseSteps {
			f.AddDrops(5) // Falco dropped the events of the step
			return
		}
		f.Default(e)
	})
	s := scn("dropped", "rm -rf /tmp/x")
	s.Expect = []scenario.Matcher{expectRule(seedRule)}
	v := only(t, run(t, config(t, f), s)["dropped"], verdict.Inconclusive)
	if v.Drops != 5 || !strings.Contains(v.Reason, "Falco dropped 5 syscall events") {
		t.Errorf("drops %d, reason %q", v.Drops, v.Reason)
	}
}

// TestRepeatFlaky runs a scenario whose rule fires every other time.
func TestRepeatFlaky(t *testing.T) {
	f := newFalco(t)
	var n atomic.Int64
	// Every second exec of the flaky step gets no alert. Only that step
	// counts: the stable scenario's steps run between them in any order.
	f.React(func(e runnertest.Exec) {
		if e.Run == "rm -rf /tmp/x" && n.Add(1)%2 == 0 {
			return
		}
		f.Default(e)
	})
	f.On("rm -rf /tmp/x", sample(t, lineSeedRm)...)
	s := scn("flaky", "rm -rf /tmp/x")
	s.Expect = []scenario.Matcher{expectRule(seedRule)}
	stable := scn("stable", "true")
	stable.Forbid = []scenario.Matcher{{Rule: seedRule}}
	cfg := config(t, f)
	cfg.Repeat = 4
	var attempts atomic.Int64
	cfg.OnAttempt = func(verdict.Verdict) { attempts.Add(1) }
	res := run(t, cfg, s, stable)

	r := res["flaky"]
	if !r.Flaky || r.Outcome != verdict.Fail || len(r.Attempts) != 4 {
		t.Errorf("flaky: outcome %s flaky=%v with %d attempts, want fail flaky with 4\n%s", r.Outcome, r.Flaky, len(r.Attempts), describe(r))
	}
	count := map[verdict.Outcome]int{}
	for i, a := range r.Attempts {
		count[a.Outcome]++
		if a.Attempt != i+1 {
			t.Errorf("attempt %d numbered %d", i+1, a.Attempt)
		}
	}
	if count[verdict.Pass] != 2 || count[verdict.Fail] != 2 {
		t.Errorf("outcomes %v, want 2 pass and 2 fail", count)
	}
	if r := res["stable"]; r.Flaky || r.Outcome != verdict.Pass || len(r.Attempts) != 4 {
		t.Errorf("stable: %s flaky=%v\n%s", r.Outcome, r.Flaky, describe(r))
	}
	if attempts.Load() != 8 {
		t.Errorf("OnAttempt called %d times, want 8", attempts.Load())
	}
}

// TestPanics: a panic in a step handler or a callback is recovered, the
// victim is removed (the bed's cleanup checks the engine), and Run says so.
func TestPanics(t *testing.T) {
	f := newFalco(t)
	f.Before(func(_ context.Context, _ runner.Victim, e runnertest.Exec) {
		if e.Run == "boom" {
			panic("step handler exploded")
		}
	})
	boom := scn("panics", "true", "boom")
	boom.Expect = []scenario.Matcher{expectRule(seedRule)}
	fine := scn("callback-panics", "true")
	fine.Forbid = []scenario.Matcher{{Rule: seedRule}}
	cfg := config(t, f)
	cfg.OnResult = func(r verdict.Result) {
		if r.ScenarioID == "callback-panics" {
			panic("progress printer exploded")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := runner.New(cfg).Run(ctx, []*scenario.Scenario{boom, fine})
	assertNoVictims(t, cfg.RunID)
	if err == nil || !strings.Contains(err.Error(), "step handler exploded") || !strings.Contains(err.Error(), "progress printer exploded") {
		t.Errorf("Run error = %v, want both panics", err)
	}
	res := byID(t, results)
	v := only(t, res["panics"], verdict.Error)
	if !strings.Contains(v.Reason, "panic: step handler exploded") || v.VictimID == "" {
		t.Errorf("reason %q, victim %q", v.Reason, v.VictimID)
	}
	only(t, res["callback-panics"], verdict.Pass)
}

// TestCancel cancels the run while a step sleeps: the step is killed, the
// victim removed, scenarios not started are absent, and Run says why.
func TestCancel(t *testing.T) {
	f := newFalco(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watcherDone := make(chan error, 1)
	f.Before(func(_ context.Context, v runner.Victim, e runnertest.Exec) {
		if e.Run != "sleep 600" {
			return
		}
		// Cancel once the step's process really runs in the victim. The
		// pattern does not match the watcher's own command line.
		go func() {
			_, err := v.Exec(context.Background(), victim.ExecRequest{
				Cmd:     []string{"/bin/sh", "-c", "until pgrep -f 'sleep 60[0]' >/dev/null; do sleep 0.05; done"},
				Timeout: time.Minute,
			})
			cancel()
			watcherDone <- err
		}()
	})
	first := scn("sleeps", "sleep 600")
	first.Expect = []scenario.Matcher{expectRule(seedRule)}
	var rest []*scenario.Scenario
	for _, id := range []string{"never-1", "never-2", "never-3"} {
		s := scn(id, "true")
		s.Expect = []scenario.Matcher{expectRule(seedRule)}
		rest = append(rest, s)
	}
	cfg := config(t, f)
	cfg.Workers = 1
	results, err := runner.New(cfg).Run(ctx, append([]*scenario.Scenario{first}, rest...))
	assertNoVictims(t, cfg.RunID)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want context.Canceled", err)
	}
	if len(results) != 1 || results[0].ScenarioID != "sleeps" {
		t.Fatalf("results %+v, want only the scenario that started", results)
	}
	v := only(t, results[0], verdict.Error)
	if !strings.HasPrefix(v.Reason, "cancelled during step 1") {
		t.Errorf("reason %q", v.Reason)
	}
	if err := <-watcherDone; err != nil {
		t.Errorf("watch for the step's process: %v", err)
	}
	if s := v.Steps[0]; s.Duration > time.Minute || s.ExitCode != -1 || !strings.Contains(s.Err, "context canceled") {
		t.Errorf("the step was not killed by the cancellation: %+v", s)
	}
}

// TestParallel proves the workers run attempts at once: each step waits
// until the other scenario's step has started too.
func TestParallel(t *testing.T) {
	f := newFalco(t)
	var wg sync.WaitGroup
	wg.Add(2)
	both := make(chan struct{})
	go func() {
		wg.Wait()
		close(both)
	}()
	var alone atomic.Bool
	f.Before(func(ctx context.Context, _ runner.Victim, e runnertest.Exec) {
		if e.Token.Phase != alert.PhaseSteps {
			return
		}
		wg.Done()
		select {
		case <-both:
		case <-time.After(time.Minute):
			alone.Store(true)
		case <-ctx.Done():
		}
	})
	a := scn("parallel-a", "true")
	a.Forbid = []scenario.Matcher{{Rule: seedRule}}
	b := scn("parallel-b", "true")
	b.Forbid = []scenario.Matcher{{Rule: seedRule}}
	cfg := config(t, f)
	cfg.Workers = 2
	res := run(t, cfg, a, b)
	if alone.Load() {
		t.Error("a step waited a minute for the other worker's step: the workers did not run in parallel")
	}
	only(t, res["parallel-a"], verdict.Pass)
	only(t, res["parallel-b"], verdict.Pass)
}

func TestConfigErrors(t *testing.T) {
	_, err := runner.New(runner.Config{}).Run(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "StartVictim") {
		t.Errorf("missing StartVictim and Hub: err = %v", err)
	}
	cfg := config(t, newFalco(t))
	if _, err := runner.New(cfg).Run(context.Background(), []*scenario.Scenario{nil}); err == nil || !strings.Contains(err.Error(), "scenario 1 of 1 is nil") {
		t.Errorf("nil scenario: err = %v", err)
	}
	cfg.RunID = "a/b"
	if _, err := runner.New(cfg).Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), `"a/b"`) {
		t.Errorf("run id with a slash: err = %v", err)
	}
}
