package runner_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

const benchScenarios = 20

// BenchmarkOverhead measures what the harness costs per scenario with a
// trivial step: victim create and start, one exec, the barrier round trip
// (marker exec and the double's answer), the verdict, victim removal. One op
// runs 20 scenarios. s/scenario is the wall time per scenario, what a run of
// many scenarios pays; the *-ms metrics are medians over the attempts of
// each phase on its own (phases off the critical path, such as a removal in
// the background, count there but not in s/scenario). For workers > 1,
// speedup is over workers=1.
func BenchmarkOverhead(b *testing.B) {
	var base float64 // s/scenario with one worker
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			perScenario := benchRun(b, workers, benchScenarios)
			if workers == 1 {
				base = perScenario
			} else if base > 0 {
				b.ReportMetric(base/perScenario, "speedup")
			}
		})
	}
}

// BenchmarkRun100 is a run of 100 trivial scenarios end to end on two
// workers against the double: s/run is what the PR gate of a library that
// size pays in harness overhead alone.
func BenchmarkRun100(b *testing.B) {
	perScenario := benchRun(b, 2, 100)
	b.ReportMetric(perScenario*100, "s/run")
}

// benchRun times runs of n trivial scenarios on workers and reports the
// per-phase metrics; it returns the wall time per scenario.
func benchRun(b *testing.B, workers, n int) float64 {
	f := newFalco(b)
	cfg := config(b, f)
	cfg.Workers = workers
	cfg.Grace = -1
	created := &creations{at: map[string]time.Time{}}
	cfg.StartVictim = f.Wrap(runner.StartVictims(runner.Victims{Image: requireImage(b), Options: []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(nopLogger{}), created.hook(),
	}}))
	scs := make([]*scenario.Scenario, n)
	byID := map[string]*scenario.Scenario{}
	for i := range scs {
		scs[i] = scn(fmt.Sprintf("bench-%03d", i), "true")
		scs[i].Forbid = []scenario.Matcher{{Rule: seedRule}}
		byID[scs[i].ID] = scs[i]
	}
	// One unmeasured scenario: the victim module learns the engine's
	// privileges once per process (about 2 s here).
	warm := cfg
	warm.RunID += "-warm"
	if _, err := runner.New(warm).Run(context.Background(), scs[:1]); err != nil {
		b.Fatal(err)
	}
	assertNoVictims(b, warm.RunID)

	var attempts []verdict.Verdict
	busy0, cpuOK := cpuBusy()
	b.ResetTimer()
	for b.Loop() {
		results, err := runner.New(cfg).Run(context.Background(), scs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if r.Outcome != verdict.Pass {
				b.Fatalf("%s", verdict.FormatResult(r))
			}
			attempts = append(attempts, r.Attempts...)
		}
	}
	b.StopTimer()
	perScenario := b.Elapsed().Seconds() / float64(b.N) / float64(n)
	b.ReportMetric(perScenario, "s/scenario")
	if busy1, ok := cpuBusy(); ok && cpuOK {
		// What bounds the speedup: CPU seconds the whole machine (engine,
		// runc, shims, this process) spent per scenario, and how much of
		// every CPU was busy.
		used := (busy1 - busy0).Seconds()
		b.ReportMetric(used/float64(b.N)/float64(n), "cpu-s/scenario")
		b.ReportMetric(used/b.Elapsed().Seconds()/float64(runtime.NumCPU()), "cpu-busy")
	}
	var create, engineStart, exec, barrier, judge, remove, total []time.Duration
	for _, v := range attempts {
		c, ok := created.of(v.VictimID)
		if !ok {
			b.Fatalf("victim %s of %q: no creation time recorded", v.VictimID, v.ScenarioID)
		}
		t := v.Timings
		create = append(create, c.Sub(t.Start))
		engineStart = append(engineStart, t.Start.Add(t.VictimStart).Sub(c))
		for _, s := range v.Steps {
			exec = append(exec, s.Duration)
		}
		barrier = append(barrier, t.Barrier)
		judge = append(judge, judgeTime(byID[v.ScenarioID], v, cfg.Candidates))
		remove = append(remove, t.VictimRemove)
		total = append(total, t.Total)
	}
	b.ReportMetric(medianOf(create), "create-ms")
	b.ReportMetric(medianOf(engineStart), "start-ms")
	b.ReportMetric(medianOf(exec), "exec-ms")
	b.ReportMetric(medianOf(barrier), "barrier-ms")
	b.ReportMetric(medianOf(judge), "verdict-ms")
	b.ReportMetric(medianOf(remove), "remove-ms")
	b.ReportMetric(medianOf(total), "total-ms")
	return perScenario
}

// judgeTime is what the verdict of v costs: verdict.Judge over the same
// scenario, alerts and steps.
func judgeTime(sc *scenario.Scenario, v verdict.Verdict, candidates []string) time.Duration {
	t := time.Now()
	verdict.Judge(verdict.Input{Scenario: sc, Attempt: v.Attempt, Alerts: v.Alerts, Steps: v.Steps, Candidates: candidates, VictimID: v.VictimID})
	return time.Since(t)
}

// creations records when the engine created each victim (a testcontainers
// PostCreates hook), which splits victim.Run into create and start.
type creations struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (c *creations) hook() testcontainers.CustomizeRequestOption {
	return testcontainers.WithAdditionalLifecycleHooks(testcontainers.ContainerLifecycleHooks{
		PostCreates: []testcontainers.ContainerHook{func(_ context.Context, ctr testcontainers.Container) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.at[ctr.GetContainerID()] = time.Now()
			return nil
		}},
	})
}

func (c *creations) of(id string) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.at[id]
	return t, ok
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

// BenchmarkVictimFloor is the floor under BenchmarkOverhead: the same
// container work done directly with the victim module, one scenario per op,
// no runner, no hub, no overlap. Metrics split it into docker create and start
// (victim.Run), the step exec, the marker exec and removal.
func BenchmarkVictimFloor(b *testing.B) {
	img := requireImage(b)
	ctx := context.Background()
	runID := "bench-floor-" + fmt.Sprint(time.Now().UnixNano())
	defer assertNoVictims(b, runID)
	silent := testcontainers.WithLogger(nopLogger{})
	warm, err := victim.Run(ctx, img, victim.WithRunID(runID), silent)
	if err != nil {
		b.Fatal(err)
	}
	if err := warm.Terminate(ctx); err != nil {
		b.Fatal(err)
	}
	created := &creations{at: map[string]time.Time{}}
	var create, start, exec, marker, remove []time.Duration
	busy0, cpuOK := cpuBusy()
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		// No network, as StartVictims gives a scenario that asks for none.
		c, err := victim.Run(ctx, img, victim.WithRunID(runID), victim.WithScenario("floor"), victim.WithNetworkMode("none"), silent, created.hook())
		if err != nil {
			b.Fatal(err)
		}
		at, _ := created.of(c.ID())
		create, start = append(create, at.Sub(t)), append(start, time.Since(at))
		t = time.Now()
		if _, err := c.Exec(ctx, victim.ExecRequest{Cmd: []string{"/bin/sh", "-c", "true"}, Env: []string{"AR_TOKEN=x/steps/1"}}); err != nil {
			b.Fatal(err)
		}
		exec = append(exec, time.Since(t))
		t = time.Now()
		if _, err := c.Exec(ctx, victim.ExecRequest{Cmd: []string{"/bin/true"}, Env: []string{"AR_BARRIER=x/barrier/1"}}); err != nil {
			b.Fatal(err)
		}
		marker = append(marker, time.Since(t))
		t = time.Now()
		if err := c.Terminate(ctx); err != nil {
			b.Fatal(err)
		}
		remove = append(remove, time.Since(t))
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/scenario")
	if busy1, ok := cpuBusy(); ok && cpuOK {
		b.ReportMetric((busy1-busy0).Seconds()/float64(b.N), "cpu-s/scenario")
	}
	b.ReportMetric(medianOf(create), "create-ms")
	b.ReportMetric(medianOf(start), "start-ms")
	b.ReportMetric(medianOf(exec), "exec-ms")
	b.ReportMetric(medianOf(marker), "marker-ms")
	b.ReportMetric(medianOf(remove), "remove-ms")
}

// cpuBusy is the time every CPU of the machine has spent busy since boot
// (Linux /proc/stat, in USER_HZ = 1/100 s); false where it cannot be read.
func cpuBusy() (time.Duration, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		// Fields: user nice system idle iowait irq softirq steal [guest...];
		// idle and iowait are not busy, guest time is already in user.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += n
	}
	return time.Duration(busy) * 10 * time.Millisecond, true
}

// medianOf returns the median in milliseconds.
func medianOf(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	d = slices.Clone(d)
	slices.Sort(d)
	return float64(d[len(d)/2]) / float64(time.Millisecond)
}
