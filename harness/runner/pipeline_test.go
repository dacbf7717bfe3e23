package runner_test

import (
	"context"
	"errors"
	"fmt"
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

// census wraps a StartFunc and counts its victims: started, not yet used
// (no exec), not yet removed, and the attempt runs (token runs) each one
// served. The maxima are what the pipeline's bounds are checked against.
type census struct {
	mu                 sync.Mutex
	started            int
	unused, live       int
	maxUnused, maxLive int
	runs               map[string]map[string]bool // victim id -> token runs of its execs
	startedCh          chan struct{}              // one send per started victim
	terminated         int
}

func newCensus() *census {
	return &census{runs: map[string]map[string]bool{}, startedCh: make(chan struct{}, 100)}
}

func (c *census) wrap(start runner.StartFunc) runner.StartFunc {
	return func(ctx context.Context, sc *scenario.Scenario, runID string) (runner.Victim, error) {
		v, err := start(ctx, sc, runID)
		if v == nil {
			return nil, err
		}
		c.mu.Lock()
		c.started++
		c.unused++
		c.live++
		c.maxUnused = max(c.maxUnused, c.unused)
		c.maxLive = max(c.maxLive, c.live)
		c.runs[v.ID()] = map[string]bool{}
		c.mu.Unlock()
		c.startedCh <- struct{}{}
		return &counted{Victim: v, c: c}, err
	}
}

// waitStarted waits until n victims have started in all, or fails after a
// minute: a deadlock guard, not a timing assertion.
func (c *census) waitStarted(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		got := c.started
		c.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-c.startedCh:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
			return fmt.Errorf("%d victims started within a minute, want %d", got, n)
		}
	}
}

type counted struct {
	runner.Victim
	c    *census
	once sync.Once
}

func (v *counted) Notes() []string {
	if n, ok := v.Victim.(runner.Noter); ok {
		return n.Notes()
	}
	return nil
}

func (v *counted) Exec(ctx context.Context, req victim.ExecRequest) (victim.ExecResult, error) {
	v.once.Do(func() {
		v.c.mu.Lock()
		v.c.unused--
		v.c.mu.Unlock()
	})
	for _, kv := range req.Env {
		if val, ok := strings.CutPrefix(kv, alert.EnvToken+"="); ok {
			if tok, err := alert.ParseToken(val); err == nil {
				v.c.mu.Lock()
				v.c.runs[v.ID()][tok.Run] = true
				v.c.mu.Unlock()
			}
		}
	}
	return v.Victim.Exec(ctx, req)
}

func (v *counted) Terminate(ctx context.Context) error {
	err := v.Victim.Terminate(ctx)
	v.c.mu.Lock()
	defer v.c.mu.Unlock()
	v.c.live--
	v.c.terminated++
	return err
}

// TestPipelineStartsAhead shows the next victims start while a scenario
// runs: the first scenario's step waits until two more victims are up (one
// worker: Workers+1 ready), which never happens without the pipeline.
func TestPipelineStartsAhead(t *testing.T) {
	f := newFalco(t)
	c := newCensus()
	var waitErr error
	f.Before(func(ctx context.Context, _ runner.Victim, e runnertest.Exec) {
		if e.Run == "echo first" {
			waitErr = c.waitStarted(ctx, 3)
		}
	})
	cfg := config(t, f)
	cfg.Workers = 1
	cfg.StartVictim = c.wrap(cfg.StartVictim)
	first := scn("first", "echo first")
	first.Forbid = []scenario.Matcher{{Rule: seedRule}}
	scs := []*scenario.Scenario{first}
	for i := range 3 {
		s := scn(fmt.Sprintf("next-%d", i), "true")
		s.Forbid = []scenario.Matcher{{Rule: seedRule}}
		scs = append(scs, s)
	}
	res := run(t, cfg, scs...)
	if waitErr != nil {
		t.Errorf("while the first scenario ran: %v: the next victims were not started ahead", waitErr)
	}
	for _, s := range scs {
		only(t, res[s.ID], verdict.Pass)
	}
}

// TestPipelineInvariants runs passing, failing and erring scenarios, one of
// its own victim shape, through one worker: every attempt gets a fresh
// victim of its scenario's shape, used by that attempt only; the victims
// waiting unused and those existing at all stay within the pipeline's
// bounds, where starting every victim at once would exceed them; and
// nothing is left when Run returns (run checks the engine by the run's
// label).
func TestPipelineInvariants(t *testing.T) {
	f := newFalco(t)
	f.On("rm -rf /tmp/x", sample(t, lineSeedRm)...)
	c := newCensus()
	cfg := config(t, f)
	cfg.Workers = 1
	cfg.Repeat = 2
	cfg.StartVictim = c.wrap(cfg.StartVictim)

	var scs []*scenario.Scenario
	for i := range 3 {
		// Each victim is fresh: a file left by an earlier attempt would make
		// set -o noclobber fail the step.
		s := scn(fmt.Sprintf("pass-%d", i), "set -C; echo once > /tmp/used", "rm -rf /tmp/x")
		s.Expect = []scenario.Matcher{expectRule(seedRule)}
		scs = append(scs, s)
	}
	fail := scn("fails", "true")
	fail.Expect = []scenario.Matcher{expectRule(seedRule)}
	broken := scn("errs", "exit 3")
	broken.Steps[0].Exit = []int{0}
	readOnly := scn("read-only", "touch /probe")
	readOnly.Victim.ReadOnly = true
	readOnly.Steps[0].Exit = []int{1} // touch on a read-only root
	readOnly.Forbid = []scenario.Matcher{{Rule: seedRule}}
	scs = append(scs, fail, broken, readOnly)

	res := run(t, cfg, scs...)
	for _, s := range scs[:3] {
		for _, v := range res[s.ID].Attempts {
			if v.Outcome != verdict.Pass {
				t.Errorf("%s attempt %d: %s", s.ID, v.Attempt, verdict.Format(v))
			}
		}
	}
	if r := res["fails"]; r.Outcome != verdict.Fail {
		t.Errorf("fails: outcome %s, want fail", r.Outcome)
	}
	if r := res["errs"]; r.Outcome != verdict.Error {
		t.Errorf("errs: outcome %s, want error", r.Outcome)
	}
	if r := res["read-only"]; r.Outcome != verdict.Pass {
		t.Errorf("read-only: the victim did not get its own shape:\n%s", describe(r))
	}

	attempts := len(scs) * cfg.Repeat
	seen := map[string]string{}
	for _, r := range res {
		for _, v := range r.Attempts {
			if prev, dup := seen[v.VictimID]; dup {
				t.Errorf("victim %s served %s and %s attempt %d", v.VictimID, prev, r.ScenarioID, v.Attempt)
			}
			seen[v.VictimID] = fmt.Sprintf("%s attempt %d", r.ScenarioID, v.Attempt)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(seen) != attempts || c.started != attempts {
		t.Errorf("%d victims in the verdicts, %d started, want one per attempt: %d", len(seen), c.started, attempts)
	}
	for id, runs := range c.runs {
		if len(runs) != 1 {
			t.Errorf("victim %s ran the execs of %d attempts: %v", id[:12], len(runs), runs)
		}
	}
	// Unused, as the census sees it: the Workers+1 ready, and one per
	// worker that took its attempt but has not reached the first exec.
	if want := cfg.Workers + 1 + cfg.Workers; c.maxUnused > want {
		t.Errorf("%d victims waited unused at once, want at most %d (Workers+1 ready, one per worker about to use its own)", c.maxUnused, want)
	}
	if want := (cfg.Workers + 1) + cfg.Workers + cfg.Workers; c.maxLive > want {
		t.Errorf("%d victims existed at once, want at most %d (ready, in use, being removed)", c.maxLive, want)
	}
	if c.live != 0 || c.terminated != attempts {
		t.Errorf("%d victims still live, %d terminated of %d", c.live, c.terminated, attempts)
	}
}

// TestCancelRemovesReadyVictims cancels the run while victims wait ready
// for scenarios that never start: they are removed, their scenarios absent.
func TestCancelRemovesReadyVictims(t *testing.T) {
	f := newFalco(t)
	c := newCensus()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waitErr error
	f.Before(func(bctx context.Context, _ runner.Victim, e runnertest.Exec) {
		if e.Run == "sleep 600" {
			// Cancel once the pipeline is full: the step's victim and two
			// ready ones.
			waitErr = c.waitStarted(bctx, 3)
			cancel()
		}
	})
	cfg := config(t, f)
	cfg.Workers = 1
	cfg.StartVictim = c.wrap(cfg.StartVictim)
	first := scn("sleeps", "sleep 600")
	scs := []*scenario.Scenario{first}
	for i := range 4 {
		scs = append(scs, scn(fmt.Sprintf("never-%d", i), "true"))
	}
	results, err := runner.New(cfg).Run(ctx, scs)
	assertNoVictims(t, cfg.RunID)
	if waitErr != nil {
		t.Fatalf("the pipeline did not fill: %v", waitErr)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want context.Canceled", err)
	}
	if len(results) != 1 || results[0].ScenarioID != "sleeps" {
		t.Errorf("results %+v, want only the scenario that started", results)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started < 3 || c.live != 0 || c.terminated != c.started {
		t.Errorf("%d victims started, %d terminated, %d live: every ready victim must be removed", c.started, c.terminated, c.live)
	}
}

// TestStartPanics: a StartFunc that panics while the victim of one
// scenario starts, ahead of its worker, fails that scenario and is
// reported by Run; the process and the other scenarios go on.
func TestStartPanics(t *testing.T) {
	f := newFalco(t)
	cfg := config(t, f)
	start := cfg.StartVictim
	cfg.StartVictim = func(ctx context.Context, sc *scenario.Scenario, runID string) (runner.Victim, error) {
		if sc.ID == "start-panics" {
			panic("engine client exploded")
		}
		return start(ctx, sc, runID)
	}
	boom := scn("start-panics", "true")
	fine := scn("fine", "true")
	fine.Forbid = []scenario.Matcher{{Rule: seedRule}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	results, err := runner.New(cfg).Run(ctx, []*scenario.Scenario{boom, fine})
	assertNoVictims(t, cfg.RunID)
	if err == nil || !strings.Contains(err.Error(), "panic while its victim started: engine client exploded") {
		t.Errorf("Run error = %v, want the panic", err)
	}
	res := byID(t, results)
	if v := only(t, res["start-panics"], verdict.Error); !strings.Contains(v.Reason, "panic: engine client exploded") || len(v.Steps) != 0 {
		t.Errorf("reason %q, %d steps", v.Reason, len(v.Steps))
	}
	only(t, res["fine"], verdict.Pass)
}
