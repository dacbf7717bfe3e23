package mutate_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/mutate"
	"github.com/attack-replay/attack-replay/harness/runner"
	"github.com/attack-replay/attack-replay/harness/runner/runnertest"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// memVictim is a victim without a container: every exec exits 0 at once.
type memVictim struct{ id string }

func (v memVictim) ID() string { return v.id }
func (memVictim) Exec(context.Context, victim.ExecRequest) (victim.ExecResult, error) {
	return victim.ExecResult{Start: time.Now(), Duration: time.Microsecond}, nil
}
func (memVictim) Terminate(context.Context) error { return nil }

// The whole path of a run with the originals and their mutants in one
// Falco, with the runner's Falco double standing in for Falco: it answers
// each exec with the alerts of the rules, originals and mutants, whose
// conditions are true for the exec's events, so what fires comes from the
// conditions, not from the test. The runner attributes the alerts by token,
// waits for the barriers and judges; Classify then re-judges the recorded
// verdicts and must find what the offline prediction finds.
func TestClassifyWithFalcoDouble(t *testing.T) {
	idx, scs, want := predict(t, "../../rules", "../../scenarios/impact")
	set, err := mutate.Generate(idx, []string{seedRule})
	if err != nil {
		t.Fatal(err)
	}
	pred, err := mutate.NewPredictor(idx, set)
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
	defer f.Close()
	users := mutate.Users(scs...)
	fired := 0
	f.React(func(e runnertest.Exec) {
		if e.Barrier != "" || e.Token.Run == "" {
			f.Default(e)
			return
		}
		for _, ev := range mutate.ExecEvents(e.Run, e.Argv, e.Req.User, users) {
			as := pred.Alerts(ev)
			fired += len(as)
			f.Raise(e, as...)
		}
	})
	cands := candidates(idx, "../../rules")
	cfg := runner.Config{
		Workers: 1, Grace: -1,
		StartVictim: f.Wrap(func(context.Context, *scenario.Scenario, string) (runner.Victim, error) {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			return memVictim{id: hex.EncodeToString(b)}, nil
		}),
		Hub: f.Hub(), Drops: f.Drops, FalcoState: f.State, Candidates: cands,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	results, err := runner.New(cfg).Run(ctx, scs)
	if err != nil {
		t.Fatal(err)
	}
	if fired == 0 {
		t.Fatal("the double raised no alert")
	}
	got := mutate.Classify(set, scs, results, cands)
	if got.Prediction {
		t.Error("a classification of recorded verdicts says it is a prediction")
	}
	g, w := got.Rules[0], want.Rules[0]
	if !slices.Equal(g.Scenarios, w.Scenarios) || len(g.Unjudged) > 0 {
		t.Errorf("scenarios judged: %q, unjudged %q; predicted %q", g.Scenarios, g.Unjudged, w.Scenarios)
	}
	for i, m := range g.Mutants {
		if m.Killed != w.Mutants[i].Killed {
			t.Errorf("mutant %d (%s): killed=%v in the run, %v predicted (kills %+v)", m.N, m.Change, m.Killed, w.Mutants[i].Killed, m.Kills)
		}
	}
	if g.Killed == 0 || g.Survived == 0 {
		t.Errorf("%d killed, %d survived", g.Killed, g.Survived)
	}
	t.Logf("%d mutants: %d killed, %d survived, %d alerts raised", len(g.Mutants), g.Killed, g.Survived, fired)
}
