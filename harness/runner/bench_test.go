package runner_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

const benchScenarios = 20

// BenchmarkOverhead measures what the harness costs per scenario with a
// trivial step: victim start, one exec, the barrier exec and wait (answered
// at once by the double), victim removal. One op runs 20 scenarios. Metrics:
// s/scenario (wall time / 20), the median attempt's total and phases, and for
// workers > 1 the speedup over workers=1.
func BenchmarkOverhead(b *testing.B) {
	var base float64 // s/scenario with one worker
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			cfg := config(b, newFalco(b))
			cfg.Workers = workers
			cfg.Grace = -1
			scs := make([]*scenario.Scenario, benchScenarios)
			for i := range scs {
				scs[i] = scn(fmt.Sprintf("bench-%02d", i), "true")
				scs[i].Forbid = []scenario.Matcher{{Rule: seedRule}}
			}
			// One unmeasured scenario: the victim module learns the
			// engine's privileges once per process (about 2 s here).
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
			perScenario := b.Elapsed().Seconds() / float64(b.N) / benchScenarios
			b.ReportMetric(perScenario, "s/scenario")
			if busy1, ok := cpuBusy(); ok && cpuOK {
				// What bounds the speedup: CPU seconds the whole machine
				// (engine, runc, shims, this process) spent per scenario,
				// and how much of every CPU was busy.
				used := (busy1 - busy0).Seconds()
				b.ReportMetric(used/float64(b.N)/benchScenarios, "cpu-s/scenario")
				b.ReportMetric(used/b.Elapsed().Seconds()/float64(runtime.NumCPU()), "cpu-busy")
			}
			b.ReportMetric(median(attempts, func(t verdict.Timings) time.Duration { return t.Total }), "median-total-ms")
			b.ReportMetric(median(attempts, func(t verdict.Timings) time.Duration { return t.VictimStart }), "median-start-ms")
			b.ReportMetric(median(attempts, func(t verdict.Timings) time.Duration { return t.Steps }), "median-exec-ms")
			b.ReportMetric(median(attempts, func(t verdict.Timings) time.Duration { return t.Barrier }), "median-barrier-ms")
			b.ReportMetric(median(attempts, func(t verdict.Timings) time.Duration { return t.VictimRemove }), "median-remove-ms")
			if workers == 1 {
				base = perScenario
			} else if base > 0 {
				b.ReportMetric(base/perScenario, "speedup")
			}
		})
	}
}

// BenchmarkVictimFloor is the floor under BenchmarkOverhead: the same
// container work done directly with the victim module, one scenario per op,
// no runner, no hub. Metrics split it into docker create+start (victim.Run),
// the step exec, the marker exec and removal.
func BenchmarkVictimFloor(b *testing.B) {
	img := requireImage(b)
	ctx := context.Background()
	runID := "bench-floor-" + fmt.Sprint(time.Now().UnixNano())
	defer assertNoVictims(b, runID)
	warm, err := victim.Run(ctx, img, victim.WithRunID(runID))
	if err != nil {
		b.Fatal(err)
	}
	if err := warm.Terminate(ctx); err != nil {
		b.Fatal(err)
	}
	var start, exec, marker, remove []time.Duration
	busy0, cpuOK := cpuBusy()
	b.ResetTimer()
	for b.Loop() {
		t := time.Now()
		c, err := victim.Run(ctx, img, victim.WithRunID(runID), victim.WithScenario("floor"))
		if err != nil {
			b.Fatal(err)
		}
		start = append(start, time.Since(t))
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
	b.ReportMetric(medianOf(start), "median-start-ms")
	b.ReportMetric(medianOf(exec), "median-exec-ms")
	b.ReportMetric(medianOf(marker), "median-marker-ms")
	b.ReportMetric(medianOf(remove), "median-remove-ms")
}

// median of one timing over the attempts, in milliseconds.
func median(vs []verdict.Verdict, of func(verdict.Timings) time.Duration) float64 {
	d := make([]time.Duration, len(vs))
	for i, v := range vs {
		d[i] = of(v.Timings)
	}
	return medianOf(d)
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
