//go:build !rules

package techniques

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/runner/runnertest"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// TestFailureMessages runs the suite's testdata scenarios through the real
// runner, real victims and a Falco double that answers with recorded alerts,
// and checks what a spec would print for each outcome.
func TestFailureMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: starts victim containers")
	}
	idx, err := rules.LoadPaths("testdata/rules")
	if err != nil {
		t.Fatal(err)
	}
	set, err := scenario.LoadDir("testdata/scenarios", scenario.Options{Rules: idx})
	if err != nil {
		t.Fatal(err)
	}
	samples, err := runnertest.LoadSamples("../../fixtures/falco/http-0.40.0.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f, err := runnertest.NewFalco(samples)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	// Recorded line 5: "Disable recovery features" for a non-root systemctl
	// (user.name <NA>). Raised by the attack it should catch, and by the
	// benign status check it must not fire on.
	f.On("systemctl disable rescue.service", samples[4])
	f.On("systemctl status rescue.service", samples[4])
	// cat-shadow gets nothing: its expectation goes unmet.

	runID := "suite-failure-" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	results, err := runner.New(runner.Config{
		Workers: 2, Grace: -1, RunID: runID,
		StartVictim: f.Wrap(runner.StartVictims(runner.Victims{})),
		Hub:         f.Hub(), Drops: f.Drops, FalcoState: f.State,
		Candidates: []string{"Disable recovery features", "Shadow file read"},
	}).Run(ctx, set.Scenarios())
	if err != nil {
		t.Fatal(err)
	}
	if left, err := victim.Labelled(ctx, map[string]string{victim.LabelRun: runID}); err != nil || len(left) > 0 {
		t.Errorf("victims left behind: %v %v", left, err)
	}
	byID := map[string]verdict.Result{}
	for _, r := range results {
		byID[r.ScenarioID] = r
	}

	m := HavePassed()
	if ok, err := m.Match(byID["disable-rescue"]); err != nil || !ok {
		t.Errorf("disable-rescue did not pass: %v\n%s", err, m.FailureMessage(byID["disable-rescue"]))
	}
	for id, want := range map[string][]string{
		"status-rescue": {
			"FAIL: the rules did not behave as the scenario says",
			"FAIL status-rescue [T1490 impact] (benign) testdata/scenarios/impact/T1490.yaml:13 attempt 1",
			`forbidden alerts that fired:`,
			`"Disable recovery features"`,
			`steps/1 exit `, "systemctl status rescue.service",
		},
		"cat-shadow": {
			"FAIL: the rules did not behave as the scenario says",
			`UNMET "Shadow file read"`,
			`fd.name equals "/etc/shadow"`,
			"steps/1 exit 0", "cat /etc/shadow",
		},
	} {
		res := byID[id]
		ok, err := m.Match(res)
		if err != nil || ok {
			t.Errorf("%s: matched=%v err=%v, want a failure", id, ok, err)
			continue
		}
		msg := m.FailureMessage(res)
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: failure message lacks %q:\n%s", id, w, msg)
			}
		}
	}
}

func TestHeadlines(t *testing.T) {
	for _, tc := range []struct {
		res  verdict.Result
		want string
	}{
		{verdict.Result{Outcome: verdict.Error}, "ERROR: the scenario could not emulate the technique; this says nothing about the rules"},
		{verdict.Result{Outcome: verdict.Inconclusive}, "INCONCLUSIVE: Falco dropped syscall events during the scenario; a missing alert proves nothing"},
		{verdict.Result{Outcome: verdict.Skip}, "SKIP: the scenario was not run; it proves nothing either way"},
		{verdict.Result{Outcome: verdict.Fail, Flaky: true, Attempts: make([]verdict.Verdict, 3)},
			"FLAKY (3 attempts disagree), worst: FAIL: the rules did not behave as the scenario says"},
	} {
		if got := Headline(tc.res); got != tc.want {
			t.Errorf("Headline(%s) = %q, want %q", tc.res.Outcome, got, tc.want)
		}
		if ok, _ := HavePassed().Match(tc.res); ok {
			t.Errorf("HavePassed matched a %s result", tc.res.Outcome)
		}
	}
	if _, err := HavePassed().Match("not a result"); err == nil {
		t.Error("HavePassed accepted a string")
	}
}
