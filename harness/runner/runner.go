package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Victim is the victim container of one attempt (*victim.Container).
type Victim interface {
	ID() string
	Exec(ctx context.Context, req victim.ExecRequest) (victim.ExecResult, error)
	Terminate(ctx context.Context) error
}

// StartFunc starts the victim of one attempt of sc, labelled with the run id
// (victim.LabelRun) and the scenario id (victim.LabelScenario) so a label
// query finds what a run left behind. It may return a victim together with
// an error (testcontainers does): the runner then removes that victim.
type StartFunc func(ctx context.Context, sc *scenario.Scenario, runID string) (Victim, error)

// Hub routes alerts to attempts (*alert.Hub).
type Hub interface {
	Track(containerID, run string) *alert.Recorder
	Barrier(token string) *alert.BarrierWait
	Err() error
}

// Defaults of Config.
const (
	DefaultRepeat         = 1
	DefaultGrace          = 50 * time.Millisecond
	DefaultBarrierTimeout = 15 * time.Second
)

const (
	// markerCmd is the barrier marker: the harness's barrier rule fires on
	// any spawned process whose AR_BARRIER is set (fixtures/falco/FACTS.md: "proc.env[NAME]
	// works in conditions", seen with docker exec -e AR_BARRIER=tok /bin/true).
	markerCmd     = "/bin/true"
	markerTimeout = 10 * time.Second
	// teardownTimeout bounds removing a victim. It runs on a context of its
	// own so that cancellation, the very case that needs it, cannot skip it.
	teardownTimeout = 30 * time.Second
	// outputTail bounds the stdout and stderr kept per step: enough to see
	// why a command failed, never a megabyte of find(1) output per verdict.
	outputTail = 4 << 10
)

// Config says how to run scenarios. StartVictim is required, and Hub unless
// Rehearse.
type Config struct {
	Workers int // attempts run at once; default runtime.NumCPU()
	Repeat  int // attempts per scenario (--repeat); default 1
	// Grace is an extra wait after the barrier alert before the verdict, for
	// safety only: the barrier already orders the alerts. 0 means
	// DefaultGrace, a negative value none.
	Grace time.Duration
	// BarrierTimeout bounds the wait for a barrier alert; default
	// DefaultBarrierTimeout. A barrier that never arrives is an error.
	BarrierTimeout time.Duration
	StartVictim    StartFunc
	Hub            Hub
	// Rehearse runs every attempt without Falco (attack-replay rehearse):
	// setup, steps and cleanup in a real victim of the scenario's shape, no
	// alerts tracked, no barrier. The verdict judges the steps only: Pass
	// when each ran as the scenario declares, else Error naming the step.
	Rehearse bool
	// Drops returns the syscall events Falco has dropped so far (a counter);
	// nil when unknown. An attempt with drops during its steps is
	// inconclusive where a missing alert would decide.
	Drops func() int64
	// FalcoState describes Falco in one line for error messages ("running,
	// 1234 alerts", "exited 134: ..."); nil when unknown.
	FalcoState func() string
	Candidates []string // the rule names "*" stands for
	// RunID labels every victim of the run and prefixes every token; it
	// must not contain "/" or spaces. Default: random.
	RunID string
	// OnAttempt is called after each attempt, its victim removed; OnResult
	// when a scenario has finished all its attempts (progress; Run returns
	// every result anyway). Both are called one at a time from the runner's
	// goroutines, before Run returns: keep them short. A panic in them is
	// recovered and returned by Run.
	OnAttempt func(verdict.Verdict)
	OnResult  func(verdict.Result)
}

// Runner runs scenarios. Create it with New.
type Runner struct {
	cfg Config
	seq atomic.Int64 // numbers attempts, for unique tokens
}

// New returns a runner with cfg's defaults applied.
func New(cfg Config) *Runner {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Repeat <= 0 {
		cfg.Repeat = DefaultRepeat
	}
	switch {
	case cfg.Grace == 0:
		cfg.Grace = DefaultGrace
	case cfg.Grace < 0:
		cfg.Grace = 0
	}
	if cfg.BarrierTimeout <= 0 {
		cfg.BarrierTimeout = DefaultBarrierTimeout
	}
	if cfg.RunID == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
		cfg.RunID = hex.EncodeToString(b)
	}
	if cfg.FalcoState == nil {
		cfg.FalcoState = func() string { return "state unknown" }
	}
	if cfg.Drops == nil {
		cfg.Drops = func() int64 { return 0 }
	}
	return &Runner{cfg: cfg}
}

// Run runs every scenario Repeat times on the worker pool and returns one
// result per scenario that ran, in the order given. When ctx ends it stops
// (see the package doc) and returns what it has with ctx's error. Problems
// that do not belong to one verdict (a victim that could not be removed, a
// panic, a callback's panic) are returned as errors too, after every
// scenario ran.
func (r *Runner) Run(ctx context.Context, scenarios []*scenario.Scenario) ([]verdict.Result, error) {
	if r.cfg.StartVictim == nil || (r.cfg.Hub == nil && !r.cfg.Rehearse) {
		return nil, errors.New("run scenarios: the runner needs Config.StartVictim and, unless it rehearses, Config.Hub")
	}
	if strings.ContainsAny(r.cfg.RunID, "/ \t\n") {
		return nil, fmt.Errorf("run scenarios: run id %q contains \"/\" or spaces (tokens are run/phase/step)", r.cfg.RunID)
	}
	for i, sc := range scenarios {
		if sc == nil {
			return nil, fmt.Errorf("run scenarios: scenario %d of %d is nil", i+1, len(scenarios))
		}
	}
	st := &runState{cfg: &r.cfg, attempts: make([][]verdict.Verdict, len(scenarios)), done: make([]int, len(scenarios))}
	for i := range st.attempts {
		st.attempts[i] = make([]verdict.Verdict, r.cfg.Repeat)
	}

	// A skipped scenario is not run at all: its verdict says why.
	runnable := 0
	for i, sc := range scenarios {
		if sc.Skip != "" {
			st.skip(i, verdict.Judge(verdict.Input{Scenario: sc, Attempt: 1, Candidates: r.cfg.Candidates}))
		} else {
			runnable++
		}
	}

	// The pipeline: preparers start the victims of the next attempts while
	// the workers run attempts. A preparer takes a token before it takes a
	// job and a worker gives it back when it takes the prepared attempt, so
	// at most Workers+1 victims are started ahead, never used yet. Workers
	// take attempts in job order, each from its own slot. Every attempt gets
	// the victim started for it, of its scenario's shape, and only that one.
	type job struct {
		index, attempt int
		slot           chan *attempt // filled once by the preparer, always
	}
	total := runnable * r.cfg.Repeat
	jobs := make(chan job)                        // to the preparers
	order := make(chan chan *attempt, total)      // to the workers
	ahead := make(chan struct{}, r.cfg.Workers+1) // tokens
	var preparers, workers, removals sync.WaitGroup
	for range min(r.cfg.Workers+1, total) {
		preparers.Go(func() {
			for {
				ahead <- struct{}{}
				j, ok := <-jobs
				if !ok {
					<-ahead
					return
				}
				a := &attempt{cfg: &r.cfg, sc: scenarios[j.index], index: j.index, n: j.attempt, run: fmt.Sprintf("%s-%d", r.cfg.RunID, r.seq.Add(1))}
				// The feeder may hand out a job in the same instant ctx
				// ends: no victim is started then.
				if ctx.Err() == nil {
					a.prepare(ctx)
				}
				j.slot <- a
			}
		})
	}
	// A victim is removed off the worker's path: its verdict is made, so
	// the worker starts the next attempt while the engine removes it. The
	// semaphore keeps at most Workers removals pending.
	removing := make(chan struct{}, r.cfg.Workers)
	for range min(r.cfg.Workers, total) {
		workers.Go(func() {
			for slot := range order {
				a := <-slot
				<-ahead
				if ctx.Err() != nil {
					// Prepared but never run: no verdict, as for an attempt
					// never started, but its victim goes all the same.
					st.discard(errors.Join(a.panicked, a.teardown(ctx)))
					continue
				}
				v, problem := a.do(ctx)
				removing <- struct{}{}
				removals.Go(func() {
					defer func() { <-removing }()
					v, problem = a.remove(ctx, v, problem)
					st.finish(a.index, v, problem)
				})
			}
		})
	}
feed:
	for i, sc := range scenarios {
		if sc.Skip != "" {
			continue
		}
		for n := 1; n <= r.cfg.Repeat; n++ {
			j := job{i, n, make(chan *attempt, 1)}
			select {
			case jobs <- j:
				order <- j.slot // cannot block: room for every job
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	close(order)
	preparers.Wait()
	workers.Wait()
	removals.Wait()

	var results []verdict.Result
	for i := range scenarios {
		var done []verdict.Verdict
		for _, v := range st.attempts[i] {
			if v.Attempt != 0 {
				done = append(done, v)
			}
		}
		if len(done) > 0 {
			results = append(results, verdict.Summarise(done))
		}
	}
	errs := st.problems
	if ctx.Err() != nil {
		errs = append([]error{fmt.Errorf("run scenarios: cancelled: %w", context.Cause(ctx))}, errs...)
	}
	return results, errors.Join(errs...)
}

// runState gathers the attempts of one Run and calls the callbacks.
type runState struct {
	cfg      *Config
	mu       sync.Mutex
	attempts [][]verdict.Verdict // by scenario, by attempt - 1
	done     []int
	problems []error
}

func (s *runState) finish(i int, v verdict.Verdict, problem error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if problem != nil {
		s.problems = append(s.problems, problem)
	}
	s.attempts[i][v.Attempt-1] = v
	s.done[i]++
	if s.cfg.OnAttempt != nil {
		s.call("OnAttempt", v.ScenarioID, func() { s.cfg.OnAttempt(v) })
	}
	if s.done[i] == s.cfg.Repeat && s.cfg.OnResult != nil {
		res := verdict.Summarise(s.attempts[i])
		s.call("OnResult", v.ScenarioID, func() { s.cfg.OnResult(res) })
	}
}

// discard records the problem of removing a victim that was started but
// never used (the run was cancelled first).
func (s *runState) discard(problem error) {
	if problem == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, problem)
}

// skip records the single verdict of a skipped scenario as its result.
func (s *runState) skip(i int, v verdict.Verdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[i] = []verdict.Verdict{v}
	s.done[i] = s.cfg.Repeat
	if s.cfg.OnAttempt != nil {
		s.call("OnAttempt", v.ScenarioID, func() { s.cfg.OnAttempt(v) })
	}
	if s.cfg.OnResult != nil {
		res := verdict.Summarise(s.attempts[i])
		s.call("OnResult", v.ScenarioID, func() { s.cfg.OnResult(res) })
	}
}

// call runs a callback; its panic becomes a problem of the run instead of
// killing the process with victims still running in other workers.
func (s *runState) call(name, id string, f func()) {
	defer func() {
		if p := recover(); p != nil {
			s.problems = append(s.problems, fmt.Errorf("callback %s for scenario %q panicked: %v\n%s", name, id, p, debug.Stack()))
		}
	}()
	f()
}

// attempt is one run of one scenario in its own victim.
type attempt struct {
	cfg   *Config
	sc    *scenario.Scenario
	index int // of sc in the run's scenarios
	n     int
	run   string // token run: unique per attempt

	vic      Victim
	rec      *alert.Recorder
	steps    []verdict.StepResult
	timings  verdict.Timings
	drops    int64
	err      error     // why the attempt could not complete
	taken    time.Time // when a worker took it, its victim started
	barriers int
	notes    []string // what the victim could not be given
	panicked error    // a panic while the victim started, with its stack
}

// prepare starts the attempt's victim and tracks its alerts, ahead of the
// worker that runs it (see Run). The start is bounded by the scenario's
// timeout; a failure is kept in a.err for do to judge. A hub that already
// failed (Falco died) fails the attempt before any container is started.
func (a *attempt) prepare(ctx context.Context) {
	a.timings.Start = time.Now()
	defer func() {
		if p := recover(); p != nil {
			a.err = fmt.Errorf("panic: %v", p)
			a.panicked = fmt.Errorf("scenario %q attempt %d: panic while its victim started: %v\n%s", a.sc.ID, a.n, p, debug.Stack())
		}
	}()
	sctx, cancel := context.WithTimeoutCause(ctx, a.timeout(), fmt.Errorf("scenario timeout %s exceeded", a.timeout()))
	defer cancel()
	a.start(sctx, ctx)
}

// timeout is the scenario's: it bounds the victim's start and the rest of
// the attempt together, waiting in the pipeline apart.
func (a *attempt) timeout() time.Duration {
	if a.sc.Timeout > 0 {
		return a.sc.Timeout
	}
	return scenario.DefaultScenarioTimeout
}

// do runs a prepared attempt up to its verdict and cleanup, and returns the
// verdict and a problem that belongs to the run rather than the verdict (a
// panic's stack). It never panics: the caller must always get to remove the
// victim.
func (a *attempt) do(ctx context.Context) (v verdict.Verdict, problem error) {
	a.taken = time.Now()
	defer func() {
		if p := recover(); p != nil {
			a.err = fmt.Errorf("panic: %v", p)
			problem = fmt.Errorf("scenario %q attempt %d: panic: %v\n%s", a.sc.ID, a.n, p, debug.Stack())
			v = a.judge()
		}
	}()
	if a.err != nil {
		return a.judge(), a.panicked
	}
	if !a.falcoAlive() {
		return a.judge(), nil
	}
	remaining := a.timeout() - a.timings.VictimStart
	actx, cancel := context.WithTimeoutCause(ctx, remaining, fmt.Errorf("scenario timeout %s exceeded", a.timeout()))
	defer cancel()

	// A rehearsal has no Falco: no alerts to wait for.
	falco := !a.cfg.Rehearse
	t := time.Now()
	ok := a.phase(actx, ctx, alert.PhaseSetup, a.sc.Setup)
	if ok && falco && len(a.sc.Setup) > 0 {
		// Setup's alerts must all be in before the phase changes, so that
		// an alert of a setup daemon is not taken for one of the steps.
		ok = a.barrier(actx, ctx)
	}
	a.timings.Setup = time.Since(t)
	if !ok {
		return a.judge(), nil
	}

	a.setPhase(alert.PhaseSteps)
	drops0 := a.cfg.Drops()
	t = time.Now()
	ok = a.phase(actx, ctx, alert.PhaseSteps, a.sc.Steps)
	a.timings.Steps = time.Since(t)
	if ok && falco {
		t = time.Now()
		ok = a.barrier(actx, ctx) && a.grace(actx, ctx)
		a.timings.Barrier = time.Since(t)
	}
	a.drops = a.cfg.Drops() - drops0
	v = a.judge()
	if !ok {
		return v, nil
	}

	a.setPhase(alert.PhaseCleanup)
	t = time.Now()
	n := len(a.steps)
	a.phase(actx, ctx, alert.PhaseCleanup, a.sc.Cleanup)
	a.timings.Cleanup = time.Since(t)
	v.Steps = append(v.Steps, a.steps[n:]...)
	// Alerts that came after the verdict (cleanup, stragglers) are listed,
	// never judged: the recorder only appends, so the verdict's alerts are
	// a prefix of what it holds now.
	if a.rec != nil {
		if all := a.rec.Alerts(); len(all) > len(v.Alerts) {
			v.Alerts = append(v.Alerts, all[len(v.Alerts):]...)
		}
	}
	return v, nil
}

func (a *attempt) setPhase(p alert.Phase) {
	if a.rec != nil {
		a.rec.SetPhase(p)
	}
}

// falcoAlive fails the attempt when the hub has failed (Falco died): before
// its victim starts, and again before its first step, since the victim may
// have waited ready meanwhile.
func (a *attempt) falcoAlive() bool {
	if a.cfg.Hub == nil || a.cfg.Rehearse {
		return true
	}
	if err := a.cfg.Hub.Err(); err != nil {
		a.err = errors.New("falco died before the scenario started: " + a.died(err))
		return false
	}
	return true
}

// start starts the victim and tracks its alerts.
func (a *attempt) start(actx, ctx context.Context) {
	if !a.falcoAlive() {
		return
	}
	t := time.Now()
	vic, err := a.cfg.StartVictim(actx, a.sc, a.cfg.RunID)
	a.timings.VictimStart = time.Since(t)
	a.vic = vic
	if err != nil {
		if a.ended(actx, ctx, "while the victim started") {
			return
		}
		a.err = fmt.Errorf("start victim: %w", err)
		return
	}
	if n, ok := vic.(Noter); ok {
		a.notes = n.Notes()
	}
	if !a.cfg.Rehearse {
		a.rec = a.cfg.Hub.Track(vic.ID(), a.run)
	}
}

// phase runs the steps of one phase in order. It reports whether the attempt
// can go on: false after a setup step or step that did not run as the
// scenario declares (verdict.StepError: an exec failure, a timeout, another
// exit status than its exit: lists, 126/127 with none), which makes the
// attempt an error, or when the context ended. Cleanup steps all run, their
// failures reported, never judged.
func (a *attempt) phase(actx, ctx context.Context, p alert.Phase, steps []scenario.Step) bool {
	for i, step := range steps {
		if a.ended(actx, ctx, "before "+stepLabel(p, i+1)) {
			return false
		}
		sr := verdict.StepResult{Phase: p, Index: i + 1, Run: step.Run, Argv: step.Exec, Sleep: step.Sleep, TTY: step.TTY, ExpectExit: step.Exit}
		if step.IsSleep() {
			sr = a.sleep(actx, sr)
		} else {
			sr.User = step.User
			if sr.User == "" && p == alert.PhaseSteps {
				sr.User = a.sc.User
			}
			if sr.User == "" {
				sr.User = "root"
			}
			timeout := step.Timeout
			if timeout <= 0 {
				timeout = scenario.DefaultStepTimeout
			}
			cmd := step.Exec
			if len(cmd) == 0 {
				cmd = []string{"/bin/sh", "-c", step.Run}
			}
			tok := alert.Token{Run: a.run, Phase: p, Step: i + 1}
			sr = a.exec(actx, sr, victim.ExecRequest{Cmd: cmd, User: sr.User, Env: a.env(tok), Workdir: a.sc.Workdir, Timeout: timeout, TTY: step.TTY})
		}
		a.steps = append(a.steps, sr)
		if a.ended(actx, ctx, "during "+stepLabel(p, i+1)) {
			return false
		}
		if verdict.StepError(a.sc, sr) != "" {
			return false
		}
	}
	return true
}

// sleep waits a sleep step's time, or until the context ends.
func (a *attempt) sleep(ctx context.Context, sr verdict.StepResult) verdict.StepResult {
	sr.Start = time.Now()
	t := time.NewTimer(sr.Sleep)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	sr.Duration = time.Since(sr.Start)
	return sr
}

// stepLabel names a step the way verdict reasons do: "step 2", "setup step 1".
func stepLabel(p alert.Phase, i int) string {
	if p == alert.PhaseSteps {
		return fmt.Sprintf("step %d", i)
	}
	return fmt.Sprintf("%s step %d", p, i)
}

// exec runs one command in the victim and records what it did.
func (a *attempt) exec(ctx context.Context, sr verdict.StepResult, req victim.ExecRequest) verdict.StepResult {
	t := time.Now()
	res, err := a.vic.Exec(ctx, req)
	sr.ExitCode = res.ExitCode
	sr.Stdout = tail(res.Stdout)
	sr.Stderr = tail(res.Stderr)
	sr.Start = res.Start
	sr.Duration = res.Duration
	sr.TimedOut = res.TimedOut
	if sr.Start.IsZero() {
		sr.Start = t
	}
	if sr.Duration == 0 {
		sr.Duration = time.Since(t)
	}
	if err != nil {
		sr.Err = err.Error()
		sr.ExitCode = -1
	}
	return sr
}

// env is the environment of every exec: the scenario's, then the token.
func (a *attempt) env(tok alert.Token) []string {
	env := make([]string, 0, len(a.sc.Env)+1)
	for k, v := range a.sc.Env {
		env = append(env, k+"="+v)
	}
	// Map order is random; a stable order keeps execs reproducible.
	slices.Sort(env)
	return append(env, alert.EnvToken+"="+tok.String())
}

// barrier execs the marker with a fresh token and waits for its alert. The
// waiter is registered before the exec, so the alert cannot arrive
// unclaimed. Once it is in, every alert of earlier execs is in too.
func (a *attempt) barrier(actx, ctx context.Context) bool {
	a.barriers++
	tok := alert.Token{Run: a.run, Phase: alert.PhaseBarrier, Step: a.barriers}.String()
	w := a.cfg.Hub.Barrier(tok)
	res, err := a.vic.Exec(actx, victim.ExecRequest{
		Cmd:     []string{markerCmd},
		User:    "root",
		Env:     []string{alert.EnvBarrier + "=" + tok, alert.EnvToken + "=" + tok},
		Timeout: markerTimeout,
	})
	if err != nil || res.ExitCode != 0 || res.TimedOut {
		abandon(w)
		if a.ended(actx, ctx, "during the barrier") {
			return false
		}
		if err == nil {
			err = fmt.Errorf("exited %d (timed out: %v): %s", res.ExitCode, res.TimedOut, strings.TrimSpace(string(res.Stderr)))
		}
		a.err = fmt.Errorf("exec barrier marker %s: %w", markerCmd, err)
		return false
	}
	wctx, cancel := context.WithTimeout(actx, a.cfg.BarrierTimeout)
	defer cancel()
	_, err = w.Wait(wctx)
	switch {
	case err == nil:
		return true
	case a.ended(actx, ctx, "waiting for the barrier"):
	case errors.Is(err, alert.ErrBarrierTimeout):
		a.err = fmt.Errorf("barrier alert %q never arrived within %s: is the barrier rule loaded and Falco capturing? (falco: %s; %v)",
			tok, a.cfg.BarrierTimeout, a.cfg.FalcoState(), err)
	default:
		a.err = errors.New("falco died: the alert stream failed while waiting for the barrier: " + a.died(err))
	}
	return false
}

// died says in one line why the alert stream failed: the headline of its
// error, then Falco's state where that adds to it. Falco's exit error
// carries its last log lines after the headline; a verdict reason is one
// line (it fills a table cell per scenario), and the session reports the
// whole exit error once, when the run closes.
func (a *attempt) died(err error) string {
	headline, _, _ := strings.Cut(err.Error(), "\n")
	if state := a.cfg.FalcoState(); !strings.Contains(headline, state) {
		headline += " (falco: " + state + ")"
	}
	return headline
}

// abandon removes a barrier waiter whose marker never ran: Wait on an ended
// context returns at once and always unregisters.
func abandon(w *alert.BarrierWait) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = w.Wait(done)
}

func (a *attempt) grace(actx, ctx context.Context) bool {
	if a.cfg.Grace <= 0 {
		return true
	}
	t := time.NewTimer(a.cfg.Grace)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-actx.Done():
		return !a.ended(actx, ctx, "during the grace period")
	}
}

// ended reports whether the attempt's context is over, and records why:
// the run was cancelled, or the scenario's own timeout expired.
func (a *attempt) ended(actx, ctx context.Context, when string) bool {
	if actx.Err() == nil {
		return false
	}
	if ctx.Err() != nil {
		a.err = fmt.Errorf("cancelled %s: %v", when, context.Cause(ctx))
	} else {
		a.err = fmt.Errorf("%v %s", context.Cause(actx), when)
	}
	return true
}

func (a *attempt) judge() verdict.Verdict {
	var alerts []alert.Attributed
	if a.rec != nil {
		alerts = a.rec.Alerts()
	}
	var id string
	if a.vic != nil {
		id = a.vic.ID()
	}
	return verdict.Judge(verdict.Input{
		Scenario:   a.sc,
		Attempt:    a.n,
		Alerts:     alerts,
		Steps:      a.steps,
		Candidates: a.cfg.Candidates,
		Drops:      a.drops,
		Timings:    a.timings,
		VictimID:   id,
		Err:        a.err,
		Rehearsal:  a.cfg.Rehearse,
		Notes:      a.notes,
	})
}

// remove removes the victim and completes the verdict's timings; a victim
// that could not be removed is a problem of the run.
func (a *attempt) remove(ctx context.Context, v verdict.Verdict, problem error) (verdict.Verdict, error) {
	if err := a.teardown(ctx); err != nil {
		problem = errors.Join(problem, err)
	}
	// The attempt's own time: its victim's start, then from a worker
	// taking it to its removal; not the wait in the pipeline in between.
	a.timings.Total = a.timings.VictimStart
	if !a.taken.IsZero() {
		a.timings.Total += time.Since(a.taken)
	}
	v.Timings = a.timings
	return v, problem
}

// teardown stops recording and removes the victim, on a fresh context so
// that it happens after cancellation too.
func (a *attempt) teardown(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("remove victim of scenario %q: panic: %v\n%s", a.sc.ID, p, debug.Stack())
		}
	}()
	if a.rec != nil {
		a.rec.Close()
	}
	if a.vic == nil {
		return nil
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
	defer cancel()
	t := time.Now()
	err = a.vic.Terminate(tctx)
	a.timings.VictimRemove = time.Since(t)
	if err != nil {
		return fmt.Errorf("remove victim %s of scenario %q: %w", a.vic.ID(), a.sc.ID, err)
	}
	return nil
}

// tail keeps the end of a command's output, valid UTF-8.
func tail(b []byte) string {
	if len(b) > outputTail {
		b = b[len(b)-outputTail:]
	}
	return strings.ToValidUTF8(string(b), "")
}
