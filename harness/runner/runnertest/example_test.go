package runnertest_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/runner/runnertest"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// A scenario expects a rule the recording never fired for its command: the
// runner, fed recorded samples, fails it with the full explanation. It needs
// Docker and the victim image, so it is compiled, not run.
func Example() {
	samples, err := runnertest.LoadSamples("../../../fixtures/falco/http-0.40.0.jsonl")
	if err != nil {
		log.Fatal(err)
	}
	f, err := runnertest.NewFalco(samples)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	// Line 2: "Disable recovery features" for rm -rf /tmp/x.
	f.On("rm -rf /tmp/x", samples[1])

	cfg := runner.Config{
		Workers:     1,
		StartVictim: f.Wrap(runner.StartVictims(runner.Victims{})),
		Hub:         f.Hub(),
		Drops:       f.Drops,
		FalcoState:  f.State,
		Candidates:  []string{"Disable recovery features", "Any rm"},
	}
	sc := &scenario.Scenario{
		ID: "rm-tmp", Technique: "T1490", Tactic: "impact", Timeout: time.Minute,
		Steps:  []scenario.Step{{Run: "rm -rf /tmp/x"}},
		Expect: []scenario.Matcher{{Rule: "Any rm", Min: 1}}, // never pushed: fails
	}
	results, err := runner.New(cfg).Run(context.Background(), []*scenario.Scenario{sc})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(verdict.FormatResult(results[0]))
}
