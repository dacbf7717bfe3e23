package soak

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/victim"
)

// TestCancelledVictimStartLeavesNothing is the soak's "SIGINT mid-steps"
// leak in small: victim starts cancelled at random moments (as Ctrl-C
// cancels the runner's context) must leave no container of the run, the
// privilege probe's included, once the engine is done.
func TestCancelledVictimStartLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: starts victim containers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if ok, err := victim.ImagePresent(ctx, victim.DefaultImage); err != nil || !ok {
		t.Skipf("victim image %q is not built (%v): run `make victim-image`", victim.DefaultImage, err)
	}
	run := "soak-cancel-" + randomSuffix()
	for i := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(time.Duration(rand.Int64N(int64(1500*time.Millisecond))), cancel)
		c, _ := victim.Run(ctx, victim.DefaultImage, victim.WithRunID(run), victim.WithScenario("cancel"))
		if c != nil { // returned with or without an error: Run says to Terminate what it returned
			if err := c.Terminate(context.Background()); err != nil {
				t.Errorf("attempt %d: remove victim: %v", i+1, err)
			}
		}
		cancel()
	}
	// The engine finishes a removal it was asked for; give it time.
	time.Sleep(10 * time.Second)
	left, err := victim.Labelled(ctx, map[string]string{victim.LabelRun: run})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range left {
		t.Errorf("left behind: container %s (%s)", id, describe(id))
	}
}

func randomSuffix() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 8)
	for i := range b {
		b[i] = hex[rand.IntN(len(hex))]
	}
	return string(b)
}
