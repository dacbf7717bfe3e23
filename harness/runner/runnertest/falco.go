package runnertest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// LoadSamples reads recorded Falco alerts, one JSON alert per line
// (alert.DecodeJSONL: HTTP bodies or gRPC responses), in file order: in a
// file without blank lines, as the recordings are, samples[n-1] is line n.
// Errors name the file and line.
func LoadSamples(path string) ([]alert.Alert, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load samples: %w", err)
	}
	defer f.Close()
	samples, err := alert.DecodeJSONL(f, path)
	if err != nil {
		return nil, fmt.Errorf("load samples: %w", err)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("load samples: %s holds no alert: record one Falco JSON alert per line", path)
	}
	return samples, nil
}

// Exec is one exec the runner made in a victim, as the double sees it.
type Exec struct {
	VictimID string // the victim's full container id
	Req      victim.ExecRequest
	Token    alert.Token // parsed from AR_TOKEN; zero when the exec had none
	Barrier  string      // AR_BARRIER: set only on the barrier marker
	Run      string      // a run step's command, from /bin/sh -c; "" for the marker and exec steps
	Argv     []string    // an exec step's argv, run without a shell; nil otherwise
}

// Command is what On matches: a run step's command, or an exec step's argv
// joined by spaces ("cat /etc/shadow" for exec: [cat, /etc/shadow]).
func (e Exec) Command() string {
	if e.Argv != nil {
		return strings.Join(e.Argv, " ")
	}
	return e.Run
}

func newExec(id string, req victim.ExecRequest) Exec {
	e := Exec{VictimID: id, Req: req}
	for _, kv := range req.Env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case alert.EnvToken:
			e.Token, _ = alert.ParseToken(v)
		case alert.EnvBarrier:
			e.Barrier = v
		}
	}
	switch {
	case e.Barrier != "" || e.Token.Run == "":
		// The marker, or an exec of the harness's own (the kill of a step).
	case len(req.Cmd) == 3 && req.Cmd[0] == "/bin/sh" && req.Cmd[1] == "-c":
		e.Run = req.Cmd[2]
	default:
		e.Argv = slices.Clone(req.Cmd)
	}
	return e
}

// Alert rewrites a recorded alert as if Falco had just seen this exec: its
// time and evt.time are now, container.id is the victim's short id, ar_token
// the exec's token (empty, as Falco prints an unset variable, when it had
// none) and, for the barrier marker, ar_barrier its marker token. Every other
// field stays as recorded; template is not changed.
func (e Exec) Alert(template alert.Alert) alert.Alert {
	a := template.Clone()
	if a.Fields == nil {
		a.Fields = map[string]string{}
	}
	now := time.Now()
	a.Time = now
	// The source stamps the time of delivery, as a transport does.
	a.ReceivedAt = time.Time{}
	a.Fields[alert.FieldContainerID] = e.VictimID[:min(12, len(e.VictimID))]
	a.Fields[alert.FieldToken] = ""
	if e.Token.Run != "" {
		a.Fields[alert.FieldToken] = e.Token.String()
	}
	a.Fields[alert.FieldEventTime] = strconv.FormatInt(now.UnixNano(), 10)
	if e.Barrier != "" {
		a.Fields[alert.FieldBarrier] = e.Barrier
	}
	return a
}

// Option changes how the double answers barrier markers.
type Option func(*Falco)

// BarrierDelay answers each barrier marker d after its exec returned
// instead of at once, as a slow Falco would. Alerts pushed meanwhile
// overtake it; use it for tests of the barrier's waiting and timeout paths.
func BarrierDelay(d time.Duration) Option {
	return func(f *Falco) { f.barrierDelay = d }
}

// DropBarriers never answers barrier markers, as a Falco that does not
// capture or lacks the barrier rule.
func DropBarriers() Option {
	return func(f *Falco) { f.dropBarriers = true }
}

// Falco is the double. Create it with NewFalco and Close it when done.
type Falco struct {
	src     *alert.ChannelSource
	hub     *alert.Hub
	barrier alert.Alert // the recording's barrier-rule alert

	barrierDelay time.Duration
	dropBarriers bool

	mu     sync.Mutex
	on     map[string][]alert.Alert // step command -> its alerts
	before func(ctx context.Context, v runner.Victim, e Exec)
	react  func(e Exec)

	drops   atomic.Int64
	flushes atomic.Int64
	stop    context.CancelFunc
	done    chan struct{}
	closed  sync.Once
}

// NewFalco starts a double answering barriers with the first barrier-rule
// alert (alert.BarrierRule) of samples, and the hub it feeds.
func NewFalco(samples []alert.Alert, opts ...Option) (*Falco, error) {
	f := &Falco{src: alert.NewChannelSource(), on: map[string][]alert.Alert{}, done: make(chan struct{})}
	found := false
	for _, s := range samples {
		if s.Rule == alert.BarrierRule {
			f.barrier, found = s.Clone(), true
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("start falco double: the samples hold no %q alert to answer barriers with: load a recording that has one (fixtures/falco/http-0.40.0.jsonl line 1)", alert.BarrierRule)
	}
	for _, o := range opts {
		o(f)
	}
	f.hub = alert.NewHub(f.src)
	ctx, cancel := context.WithCancel(context.Background())
	f.stop = cancel
	go func() {
		defer close(f.done)
		// A failure (Fail) is kept by the hub and reported by Hub().Err.
		_ = f.hub.Run(ctx)
	}()
	return f, nil
}

// Close stops the hub and waits for it. Later calls do nothing.
func (f *Falco) Close() {
	f.closed.Do(func() {
		f.stop()
		<-f.done
	})
}

// Hub is the real hub the double feeds: runner.Config.Hub.
func (f *Falco) Hub() *alert.Hub { return f.hub }

// Wrap returns a StartFunc whose victims are start's, with every exec seen
// by the double: runner.Config.StartVictim.
func (f *Falco) Wrap(start runner.StartFunc) runner.StartFunc {
	return func(ctx context.Context, sc *scenario.Scenario, runID string) (runner.Victim, error) {
		v, err := start(ctx, sc, runID)
		if v == nil {
			return nil, err
		}
		return &watched{Victim: v, f: f}, err
	}
}

// On makes the default reaction push alerts, rewritten for the exec (see
// Exec.Alert), after each exec of a step whose command (Exec.Command) is
// exactly run, in any phase. A later call for the same command replaces the
// alerts.
func (f *Falco) On(run string, alerts ...alert.Alert) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on[run] = alerts
}

// Before sets a function called before each exec reaches the victim, with
// the exec's context and the unwrapped victim (whose own execs the double
// does not see). A panic in it is the exec's panic.
func (f *Falco) Before(fn func(ctx context.Context, v runner.Victim, e Exec)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = fn
}

// React replaces the default reaction to an exec that returned without
// error; fn may call Default for the execs it leaves alone.
func (f *Falco) React(fn func(e Exec)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.react = fn
}

// Default is the double's reaction to e when React was not called: answer
// a barrier marker (per the options), else push the alerts On gave for the
// step's command.
func (f *Falco) Default(e Exec) {
	if e.Barrier != "" {
		switch {
		case f.dropBarriers:
		case f.barrierDelay > 0:
			a := e.Alert(f.barrier)
			time.AfterFunc(f.barrierDelay, func() {
				// Event time stays the marker's; delivery is late.
				f.src.Push(a)
			})
		default:
			f.src.Push(e.Alert(f.barrier))
		}
		return
	}
	f.mu.Lock()
	alerts := f.on[e.Command()]
	f.mu.Unlock()
	f.Raise(e, alerts...)
}

// Raise pushes alerts rewritten for e (see Exec.Alert), in order.
func (f *Falco) Raise(e Exec, alerts ...alert.Alert) {
	for _, a := range alerts {
		f.src.Push(e.Alert(a))
	}
}

// Flush returns once the hub has routed every alert pushed before it: it
// pushes a barrier of its own behind them and waits for it, as the runner
// does. It fails when ctx ends first or the stream failed.
func (f *Falco) Flush(ctx context.Context) error {
	tok := "runnertest-flush-" + strconv.FormatInt(f.flushes.Add(1), 10)
	w := f.hub.Barrier(tok)
	f.src.Push(Exec{Barrier: tok}.Alert(f.barrier))
	if _, err := w.Wait(ctx); err != nil {
		return fmt.Errorf("flush alerts: %w", err)
	}
	return nil
}

// Fail makes the alert stream fail with err once the alerts pushed before
// are delivered, as when Falco dies: the hub fails every barrier wait.
func (f *Falco) Fail(err error) { f.src.Fail(err) }

// AddDrops counts n more syscall events as dropped by Falco.
func (f *Falco) AddDrops(n int64) { f.drops.Add(n) }

// Drops is the count of dropped events so far: runner.Config.Drops.
func (f *Falco) Drops() int64 { return f.drops.Load() }

// State describes the double in one line, "falco double: N alerts":
// runner.Config.FalcoState.
func (f *Falco) State() string {
	return "falco double: " + strconv.Itoa(f.hub.Stats().Received) + " alerts"
}

// watched is a victim whose execs the double sees.
type watched struct {
	runner.Victim
	f *Falco
}

// Notes passes on what the wrapped victim says about its shape.
func (w *watched) Notes() []string {
	if n, ok := w.Victim.(runner.Noter); ok {
		return n.Notes()
	}
	return nil
}

func (w *watched) Exec(ctx context.Context, req victim.ExecRequest) (victim.ExecResult, error) {
	e := newExec(w.ID(), req)
	w.f.mu.Lock()
	before, react := w.f.before, w.f.react
	w.f.mu.Unlock()
	if before != nil {
		before(ctx, w.Victim, e)
	}
	res, err := w.Victim.Exec(ctx, req)
	if err != nil {
		// An exec that failed (engine error, cancelled) gets no reaction:
		// the runner ends the attempt on it anyway.
		return res, err
	}
	if react != nil {
		react(e)
	} else {
		w.f.Default(e)
	}
	return res, nil
}
