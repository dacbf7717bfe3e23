package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

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
	Rules       *rules.Index
	All         []*scenario.Scenario // every loaded scenario: the report's coverage counts them all
	Selected    []*scenario.Scenario // the scenarios to replay, in order
	LabelFilter string               // recorded in the report when the run is partial
}

// Progress counts finished scenarios.
type Progress struct {
	Done, Total                          int
	Passed, Failed, Errors, Inconclusive int
	Flaky                                int
}

// Session is one Falco and one runner replaying the selected scenarios in
// the background.
type Session struct {
	cfg    Config
	in     Inputs
	log    *slog.Logger
	falco  *falco.Container
	start  time.Time
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	results  map[string]verdict.Result
	ready    map[string]chan struct{}
	order    []verdict.Result
	progress Progress
	done     chan struct{} // closed when the runner has returned
	runErr   error
}

// Start starts Falco with the candidate rules and the runner over the
// selected scenarios. It returns once Falco is ready (its canary alert
// arrived) or could not start; Falco's own rules error comes back verbatim.
// Close the session on every path.
func Start(ctx context.Context, cfg Config, in Inputs, log *slog.Logger) (*Session, error) {
	s := &Session{
		cfg: cfg, in: in, log: log, start: time.Now(),
		results: map[string]verdict.Result{},
		ready:   map[string]chan struct{}{},
		done:    make(chan struct{}),
	}
	s.progress.Total = len(in.Selected)
	for _, sc := range in.Selected {
		s.ready[sc.ID] = make(chan struct{})
	}
	opts := []falco.Option{
		falco.WithRules(cfg.Rules...),
		falco.WithTransport(cfg.FalcoTransport),
		falco.WithPrivileges(cfg.FalcoPrivileges),
		falco.WithImageRules(cfg.FalcoImageRules),
		falco.WithStartupTimeout(cfg.FalcoStartup),
		falco.WithLogger(slogPrintf{log}),
	}
	fc, err := falco.Run(ctx, cfg.FalcoImage, opts...)
	s.falco = fc
	if err != nil {
		close(s.done)
		return s, err
	}
	log.Info("falco ready", "version", fc.Version().String(), "transport", string(fc.Transport()),
		"engine", fc.Engine(), "startup", time.Since(s.start).Round(time.Millisecond))

	var candidates []string
	for _, r := range report.RulesFromIndex(in.Rules, cfg.Rules) {
		if r.Candidate {
			candidates = append(candidates, r.Name)
		}
	}
	r := runner.New(runner.Config{
		Workers:        cfg.Workers,
		Repeat:         cfg.Repeat,
		Grace:          cfg.Grace,
		BarrierTimeout: cfg.BarrierTimeout,
		StartVictim: runner.StartVictims(cfg.VictimImage,
			victim.WithPrivileges(cfg.VictimPrivileges), victim.WithLogger(log)),
		Hub:        fc.Hub(),
		Drops:      fc.Drops,
		FalcoState: s.falcoState,
		Candidates: candidates,
		RunID:      fc.RunID(),
		OnResult:   s.record,
	})
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	s.cancel = cancel
	go func() {
		defer close(s.done)
		_, err := r.Run(runCtx, in.Selected)
		s.mu.Lock()
		s.runErr = err
		s.mu.Unlock()
	}()
	return s, nil
}

// falcoState describes Falco in one line for barrier and error messages.
func (s *Session) falcoState() string {
	if err := s.falco.Err(); err != nil {
		return err.Error()
	}
	st := s.falco.Hub().Stats()
	return fmt.Sprintf("falco %s running (%s), %d alerts received, %d barriers, %d drop reports",
		s.falco.Version(), s.falco.Transport(), st.Received, st.Barriers, s.falco.Drops())
}

func (s *Session) record(res verdict.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[res.ScenarioID] = res
	s.order = append(s.order, res)
	p := &s.progress
	p.Done++
	switch res.Outcome {
	case verdict.Pass:
		p.Passed++
	case verdict.Fail:
		p.Failed++
	case verdict.Error:
		p.Errors++
	case verdict.Inconclusive:
		p.Inconclusive++
	}
	if res.Flaky {
		p.Flaky++
	}
	if ch, ok := s.ready[res.ScenarioID]; ok {
		close(ch)
		delete(s.ready, res.ScenarioID)
	}
}

// Await returns the result of one scenario as soon as all its attempts are
// judged. It fails when ctx ends first, when the scenario is not part of the
// session, or when the run stopped before reaching it.
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
		return verdict.Result{}, fmt.Errorf("await scenario %q: %w (%s)", id, context.Cause(ctx), s.falcoState())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if res, ok := s.results[id]; ok {
		return res, nil
	}
	return verdict.Result{}, fmt.Errorf("await scenario %q: the run stopped before it: %v", id, s.runErr)
}

// Progress returns the counts so far.
func (s *Session) Progress() Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
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
// reports into the report directory. Safe on a session whose Start failed.
func (s *Session) Close(ctx context.Context) (*report.Report, error) {
	if s.cancel != nil {
		s.cancel(fmt.Errorf("run closed"))
	}
	<-s.done
	var errs []error
	meta := report.Meta{
		Tool:        toolInfo(ctx),
		Falco:       report.Falco{Image: s.cfg.FalcoImage},
		VictimImage: s.cfg.VictimImage,
		RulesFiles:  report.FilesFromIndex(s.in.Rules),
		Start:       s.start.UTC(),
		Repeat:      s.cfg.Repeat,
		LabelFilter: s.in.LabelFilter,
	}
	if fc := s.falco; fc != nil {
		if err := fc.Terminate(ctx); err != nil {
			errs = append(errs, err)
		}
		meta.Falco.Version = fc.Version().String()
		meta.Falco.Engine = fc.Engine()
		meta.Falco.Transport = string(fc.Transport())
		meta.Drops = fc.DroppedEvents()
		if hub := fc.Hub(); hub != nil {
			meta.HostAlerts = hub.Stats().Host
		}
	}
	meta.End = time.Now().UTC()
	rep := report.Build(report.Run{
		Meta:      meta,
		Results:   s.Results(),
		Scenarios: s.in.All,
		Rules:     report.RulesFromIndex(s.in.Rules, s.cfg.Rules),
	})
	if err := report.WriteDir(s.cfg.ReportDir, rep); err != nil {
		errs = append(errs, err)
	}
	return rep, errors.Join(errs...)
}

// slogPrintf adapts a slog.Logger to the falco module's Printf logger.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(format string, v ...any) { l.log.Info(fmt.Sprintf(format, v...)) }
