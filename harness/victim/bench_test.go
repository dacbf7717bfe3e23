package victim_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/victim"
)

// BenchmarkVictimLifecycle measures the harness's cost per scenario for the victim alone:
// start a victim, run one trivial exec, terminate it. The privilege probe runs once per
// process, before the timer. Besides ns/op it reports the median of each phase in seconds.
//
//	go test -run '^$' -bench VictimLifecycle -benchtime 20x ./harness/victim
func BenchmarkVictimLifecycle(b *testing.B) {
	img := requireImage(b)
	run := runID(b)
	ctx := context.Background()
	b.Cleanup(func() { assertNoContainers(b, map[string]string{victim.LabelRun: run}) })

	// Per-container log lines would bury the figures in the benchmark's output.
	silent := testcontainers.WithLogger(nopLogger{})
	probeStart := time.Now()
	warm, err := victim.Run(ctx, img, victim.WithRunID(run), silent)
	if terr := warm.Terminate(ctx); terr != nil {
		b.Fatal(terr)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first victim, including the privilege probe: %v (%s)", time.Since(probeStart).Round(time.Millisecond), warm.Privileges())

	var start, execs, stop, total []time.Duration
	for b.Loop() {
		t0 := time.Now()
		c, err := victim.Run(ctx, img, victim.WithRunID(run), silent)
		if err != nil {
			_ = c.Terminate(ctx)
			b.Fatal(err)
		}
		t1 := time.Now()
		res, err := c.Exec(ctx, victim.ExecRequest{Cmd: []string{"true"}, Timeout: 30 * time.Second})
		if err != nil || res.ExitCode != 0 {
			_ = c.Terminate(ctx)
			b.Fatalf("exec true: exit %d, %v", res.ExitCode, err)
		}
		t2 := time.Now()
		if err := c.Terminate(ctx); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		start, execs, stop, total = append(start, t1.Sub(t0)), append(execs, t2.Sub(t1)), append(stop, t3.Sub(t2)), append(total, t3.Sub(t0))
	}
	b.ReportMetric(median(total), "s/victim-median")
	b.ReportMetric(median(start), "s/start-median")
	b.ReportMetric(median(execs), "s/exec-median")
	b.ReportMetric(median(stop), "s/terminate-median")
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

func median(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Seconds()
}
