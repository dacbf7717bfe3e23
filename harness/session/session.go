package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Inputs are what a session replays.
type Inputs struct {
	Rules       *rules.Index         // the candidate rules, as Load read them
	All         []*scenario.Scenario // every loaded scenario: the report's coverage counts them all
	Selected    []*scenario.Scenario // the scenarios to replay, in order
	LabelFilter string               // recorded in the report when the run is partial
	// MutantRules are rules files Falco loads after the candidates whose
	// rules run but are not candidates: "*" does not stand for them
	// (attack-replay mutate's mutants, judged apart by harness/mutate).
	MutantRules []string
}

// errClosed is the cause the runner's context is cancelled with by Close:
// the runner's "cancelled" error carrying it is Close's own doing, not a
// problem of the run.
var errClosed = errors.New("session closed")

// Session is one Falco and one runner replaying the selected scenarios in
// the background.
type Session struct {
	cfg      Config
	in       Inputs
	log      *slog.Logger
	falco    *falco.Container // nil when no container was created
	startErr error            // why Start failed; nil once the runner runs
	start    time.Time
	cancel   context.CancelCauseFunc // nil when Start failed

	mu      sync.Mutex
	results map[string]verdict.Result
	ready   map[string]chan struct{} // closed when the scenario's result is recorded
	order   []verdict.Result
	done    chan struct{} // closed when the runner has returned (or never started)
	runErr  error         // the runner's error, set before done closes

	closeOnce sync.Once
	report    *report.Report
	closeErr  error
}

// Start starts Falco with the candidate rules and the runner over the
// selected scenarios. It returns once Falco is ready (its canary alert
// arrived) or could not start; Falco's own rules error comes back verbatim.
// The session is returned in every case: Close it on every path, which
// removes what was started and writes the reports. The run goes on after
// ctx ends (ctx bounds Falco's start only); Close stops it.
func Start(ctx context.Context, cfg Config, in Inputs, log *slog.Logger) (*Session, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		cfg: cfg, in: in, log: log, start: time.Now(),
		results: map[string]verdict.Result{},
		ready:   map[string]chan struct{}{},
		done:    make(chan struct{}),
	}
	for _, sc := range in.Selected {
		s.ready[sc.ID] = make(chan struct{})
	}
	if in.Rules == nil {
		return s.failStart(errors.New("start session: no rules index in the inputs (read it with Load)"))
	}
	opts := []falco.Option{
		falco.WithRules(slices.Concat(cfg.Rules, in.MutantRules)...),
		falco.WithTransport(cfg.FalcoTransport),
		falco.WithPrivileges(cfg.FalcoPrivileges),
		falco.WithImageRules(cfg.FalcoImageRules),
		// A rule the scenarios expect or forbid runs even when it is not a
		// candidate (an image rule that fires next to one): "*" still
		// stands for the candidates only.
		falco.WithAlsoEnabledRules(NamedRules(in.Selected)...),
		falco.WithExtraHosts(cfg.FalcoExtraHosts...),
		falco.WithStartupTimeout(cfg.FalcoStartup),
		falco.WithLogger(slogPrintf{log}),
	}
	fc, err := falco.Run(ctx, cfg.FalcoImage, opts...)
	s.falco = fc
	if err != nil {
		return s.failStart(err)
	}
	log.Info("falco ready", "version", fc.Version().String(), "transport", string(fc.Transport()),
		"engine", fc.Engine(), "startup", time.Since(s.start).Round(time.Millisecond))

	var candidates []string
	for _, r := range report.RulesFromIndex(in.Rules, cfg.Rules) {
		if r.Candidate {
			candidates = append(candidates, r.Name)
		}
	}
	victims := cfg.Victims()
	victims.Options = append(victims.Options, victim.WithLogger(log))
	r := runner.New(runner.Config{
		Workers:        cfg.Workers,
		Repeat:         cfg.Repeat,
		Grace:          cfg.Grace,
		BarrierTimeout: cfg.BarrierTimeout,
		StartVictim:    runner.StartVictims(victims),
		Hub:            fc.Hub(),
		Drops:          fc.Drops,
		FalcoState:     s.falcoState,
		Candidates:     candidates,
		// Victims carry Falco's run id: one label query finds everything
		// the run started.
		RunID:    fc.RunID(),
		OnResult: s.record,
	})
	// The run outlives ctx (a Ginkgo BeforeSuite's context ends with it);
	// Close cancels it.
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	s.cancel = cancel
	go func() {
		_, err := r.Run(runCtx, in.Selected)
		s.mu.Lock()
		s.runErr = err
		s.mu.Unlock()
		close(s.done)
	}()
	return s, nil
}

// NamedRules are the rules the scenarios that run expect or forbid by name,
// each once in order of first mention: "*" (the candidates) and the
// harness's barrier rule are not names, and skipped scenarios do not run.
func NamedRules(scenarios []*scenario.Scenario) []string {
	var out []string
	for _, sc := range scenarios {
		if sc.Skip != "" {
			continue
		}
		for _, m := range slices.Concat(sc.Expect, sc.Forbid) {
			if m.Rule != "" && m.Rule != scenario.AnyRule && m.Rule != alert.BarrierRule && !slices.Contains(out, m.Rule) {
				out = append(out, m.Rule)
			}
		}
	}
	return out
}

// failStart records why the run never started: Await and Close report it.
func (s *Session) failStart(err error) (*Session, error) {
	s.startErr = err
	close(s.done)
	return s, err
}

// falcoState describes Falco in one line for barrier and error messages
// (an exit error's log tail stays out: verdict reasons are one line).
func (s *Session) falcoState() string {
	fc := s.falco
	switch {
	case fc == nil:
		return "falco not started"
	case fc.Err() != nil:
		return firstLine(fc.Err().Error())
	case fc.Hub() == nil:
		return "falco not connected"
	}
	st := fc.Hub().Stats()
	return fmt.Sprintf("falco %s running (%s), %d alerts received, %d barriers, %d drop reports",
		fc.Version(), fc.Transport(), st.Received, st.Barriers, fc.Drops())
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func (s *Session) record(res verdict.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[res.ScenarioID] = res
	s.order = append(s.order, res)
	if ch, ok := s.ready[res.ScenarioID]; ok {
		close(ch)
		delete(s.ready, res.ScenarioID)
	}
}

// Await returns the result of one scenario as soon as all its attempts are
// judged. It fails when ctx ends first, when the scenario is not part of the
// session, or when the run stopped (Start failed, or Close) before the
// scenario finished.
func (s *Session) Await(ctx context.Context, id string) (verdict.Result, error) {
	s.mu.Lock()
	if res, ok := s.results[id]; ok {
		s.mu.Unlock()
		return res, nil
	}
	ch, ok := s.ready[id]
	s.mu.Unlock()
	if !ok {
		return verdict.Result{}, fmt.Errorf("await scenario %q: not selected for this run", id)
	}
	select {
	case <-ch:
	case <-s.done:
	case <-ctx.Done():
	}
	// A result or the run's end wins over ctx when they came together.
	s.mu.Lock()
	defer s.mu.Unlock()
	if res, ok := s.results[id]; ok {
		return res, nil
	}
	select {
	case <-s.done:
		if s.startErr != nil {
			return verdict.Result{}, fmt.Errorf("await scenario %q: the run did not start: %w", id, s.startErr)
		}
		return verdict.Result{}, fmt.Errorf("await scenario %q: the run stopped before the scenario finished: %w", id, s.runErr)
	default:
		return verdict.Result{}, fmt.Errorf("await scenario %q: %w (%s)", id, context.Cause(ctx), s.falcoState())
	}
}

// Results returns the results so far, in the order they finished.
func (s *Session) Results() []verdict.Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]verdict.Result(nil), s.order...)
}

// Falco is the running Falco (nil when it could not be created at all).
func (s *Session) Falco() *falco.Container { return s.falco }

// Close stops the run (scenarios not yet started are dropped, running ones
// are cut short and their victims removed), stops Falco and writes the
// reports into the report directory (none when Config.ReportDir is empty).
// It does all of that on every path, ctx ended or not, and returns the
// report with every problem of the run: why Start failed, Falco exiting
// mid-run, scenarios that did not finish, victims that could not be
// removed. Calling it again returns the same.
func (s *Session) Close(ctx context.Context) (*report.Report, error) {
	s.closeOnce.Do(func() { s.report, s.closeErr = s.close(ctx) })
	return s.report, s.closeErr
}

func (s *Session) close(ctx context.Context) (*report.Report, error) {
	if s.cancel != nil {
		s.cancel(errClosed)
	}
	// The runner returns once every victim is removed; its removals run on
	// contexts of their own, bounded, so this wait is bounded too.
	<-s.done
	var errs []error
	if s.startErr != nil {
		errs = append(errs, s.startErr)
	} else if s.falco != nil && s.falco.Err() != nil {
		errs = append(errs, s.falco.Err()) // "falco exited with code N during run", with its last words
	}
	if s.cancel != nil {
		if err := withoutClosed(s.runErr); err != nil {
			errs = append(errs, err)
		}
		if err := s.unfinished(); err != nil {
			errs = append(errs, err)
		}
	}
	meta := report.Meta{
		Tool:        toolInfo(context.WithoutCancel(ctx)),
		Falco:       report.Falco{Image: s.cfg.FalcoImage},
		VictimImage: s.cfg.VictimImage,
		Start:       s.start.UTC(),
		Repeat:      s.cfg.Repeat,
		LabelFilter: s.in.LabelFilter,
	}
	if fc := s.falco; fc != nil {
		// Terminated before its figures are read: its exit summary holds
		// the run's final drop count.
		if err := fc.Terminate(ctx); err != nil {
			errs = append(errs, err)
		}
		if v := fc.Version(); !v.IsZero() {
			meta.Falco.Version = v.String()
		}
		meta.Falco.Engine = fc.Engine()
		meta.Falco.Transport = string(fc.Transport())
		meta.Drops = fc.DroppedEvents()
		if hub := fc.Hub(); hub != nil {
			meta.HostAlerts = hub.Stats().Host
		}
	}
	var rulesList []report.Rule
	if s.in.Rules != nil {
		meta.RulesFiles = report.FilesFromIndex(s.in.Rules)
		rulesList = report.RulesFromIndex(s.in.Rules, s.cfg.Rules)
	}
	for _, err := range errs {
		meta.RunErrors = append(meta.RunErrors, err.Error())
	}
	meta.End = time.Now().UTC()
	rep := report.Build(report.Run{
		Meta:      meta,
		Results:   s.Results(),
		Scenarios: s.in.All,
		Rules:     rulesList,
	})
	if s.cfg.ReportDir != "" {
		if err := report.WriteDir(s.cfg.ReportDir, rep); err != nil {
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// unfinished names the selected scenarios without a result: Close cut the
// run short, and the report lacks them.
func (s *Session) unfinished() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, sc := range s.in.Selected {
		if _, ok := s.results[sc.ID]; !ok {
			ids = append(ids, fmt.Sprintf("%q", sc.ID))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return fmt.Errorf("close run: %d of %d scenarios did not finish and are not in the report: %s",
		len(ids), len(s.in.Selected), strings.Join(ids, ", "))
}

// withoutClosed drops, from the runner's error, the cancellation Close
// caused, keeping the problems (victims not removed, panics).
func withoutClosed(err error) error {
	if err == nil {
		return nil
	}
	parts := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	var keep []error
	for _, e := range parts {
		if !errors.Is(e, errClosed) {
			keep = append(keep, e)
		}
	}
	return errors.Join(keep...)
}

// slogPrintf adapts a slog.Logger to the falco module's Printf logger.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, v ...any) { l.log.Info(fmt.Sprintf(format, v...)) }
