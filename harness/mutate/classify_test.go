package mutate_test

import (
	"slices"
	"testing"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/mutate"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// recorded judges sc over alerts of the named rules, as a run records it.
func recorded(sc *scenario.Scenario, candidates []string, fired ...string) verdict.Result {
	var as []alert.Attributed
	for _, r := range fired {
		as = append(as, alert.Attributed{Alert: alert.Alert{Rule: r, Output: "out"}, Phase: alert.PhaseSteps, Step: 1})
	}
	steps := []verdict.StepResult{{Phase: alert.PhaseSteps, Index: 1, Run: "true"}}
	v := verdict.Judge(verdict.Input{Scenario: sc, Attempt: 1, Alerts: as, Steps: steps, Candidates: candidates})
	return verdict.Result{ScenarioID: sc.ID, Attempts: []verdict.Verdict{v}, Outcome: v.Outcome}
}

// Classification from recorded alerts: a mutant that misses the attack or
// fires on the benign twin is killed, one that behaves as the original on
// both survives, and a forbid of "*" judges the rule as a candidate.
func TestClassify(t *testing.T) {
	set := generate(t, oneRule(cond(`proc.name = rm and proc.args contains "-rf"`), ""))
	ms := set.Rules[0].Mutants
	name := func(n int) string { return ms[n-1].Name() }
	// Mutant 1 drops `proc.name = rm`, 2 drops the -rf check; say the attack
	// (rm -rf) fires the original and mutants 1 and 2, the twin (rm -r)
	// fires mutant 2 only, and the "*" twin (shred -rf) fires mutant 1.
	if ms[0].Clause != "proc.name = rm" || ms[1].Clause != `proc.args contains "-rf"` {
		t.Fatalf("unexpected first mutants %q, %q", ms[0].Clause, ms[1].Clause)
	}
	attack := &scenario.Scenario{ID: "attack", Expect: []scenario.Matcher{{Rule: "R", Min: 1}}}
	twin := &scenario.Scenario{ID: "twin", Benign: true, Forbid: []scenario.Matcher{{Rule: "R"}}}
	anyTwin := &scenario.Scenario{ID: "any-twin", Benign: true, Forbid: []scenario.Matcher{{Rule: scenario.AnyRule}}}
	unrelated := &scenario.Scenario{ID: "unrelated", Expect: []scenario.Matcher{{Rule: "Other", Min: 1}}}
	cands := []string{"R", "Other"}
	results := []verdict.Result{
		recorded(attack, cands, "R", name(1), name(2)),
		recorded(twin, cands, name(2)),
		recorded(anyTwin, cands, name(1)),
		recorded(unrelated, cands, "Other"),
	}
	got := mutate.Classify(set, []*scenario.Scenario{attack, twin, anyTwin, unrelated}, results, cands)
	rr := got.Rules[0]
	if want := []string{"attack", "twin", "any-twin"}; !slices.Equal(rr.Scenarios, want) {
		t.Errorf("scenarios judging R: %q, want %q", rr.Scenarios, want)
	}
	for _, mr := range rr.Mutants {
		var by []string
		for _, k := range mr.Kills {
			by = append(by, k.Scenario)
		}
		var want []string
		switch mr.N {
		case 1:
			want = []string{"any-twin"} // fires on shred -rf: a candidate in "*"'s place
		case 2:
			want = []string{"twin"} // fires on rm -r
		default:
			want = []string{"attack"} // fired on nothing: misses the attack
		}
		if !slices.Equal(by, want) {
			t.Errorf("mutant %d (%s) killed by %q, want %q", mr.N, mr.Change, by, want)
		}
	}
	if rr.Survived != 0 || rr.Killed != len(ms) || rr.Score() != 100 {
		t.Errorf("killed %d, survived %d, score %.0f", rr.Killed, rr.Survived, rr.Score())
	}

	// Had the twin not been run, mutant 2 would survive: nothing else
	// tells it from the original.
	got = mutate.Classify(set, []*scenario.Scenario{attack, twin, anyTwin}, []verdict.Result{results[0], results[2]}, cands)
	rr = got.Rules[0]
	if rr.Mutants[1].Killed || rr.Survived != 1 || !slices.Equal(rr.Unjudged, []string{"twin (not run)"}) {
		t.Errorf("without the twin: mutant 2 killed=%v, %d survived, unjudged %q", rr.Mutants[1].Killed, rr.Survived, rr.Unjudged)
	}
}
