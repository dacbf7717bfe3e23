package mutate_test

import (
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/mutate"
	"github.com/attack-replay/attack-replay/harness/report"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

const seedRule = "Disable recovery features"

// predict generates the mutants of the seed rule in the rules of rulesPath
// and predicts their classification by the scenarios of scenariosPath.
func predict(t *testing.T, rulesPath, scenariosPath string) (*rules.Index, []*scenario.Scenario, mutate.Report) {
	t.Helper()
	idx, err := rules.LoadPaths(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	set, err := mutate.Generate(idx, []string{seedRule})
	if err != nil {
		t.Fatal(err)
	}
	scs, err := scenario.LoadDir(scenariosPath, scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := mutate.Predict(idx, set, scs.Scenarios(), candidates(idx, rulesPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Unmodelled) > 0 {
		t.Errorf("steps not modelled: %q", p.Unmodelled)
	}
	return idx, scs.Scenarios(), p
}

func candidates(idx *rules.Index, paths ...string) []string {
	var out []string
	for _, r := range report.RulesFromIndex(idx, paths) {
		if r.Candidate {
			out = append(out, r.Name)
		}
	}
	return out
}

// find returns the results of the mutants of op whose changed clause is clause.
func find(t *testing.T, rr mutate.RuleResult, op mutate.Operator, clause string) []mutate.MutantResult {
	t.Helper()
	var out []mutate.MutantResult
	for _, m := range rr.Mutants {
		if m.Operator == op && m.Clause == clause {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s mutant of %q among %d", op, clause, len(rr.Mutants))
	}
	return out
}

// The seed's published rule reads `A or … or I and user.name != "root"`:
// `and` binds tighter than `or`, so the guard meant for every trigger guards
// only I (systemctl disable recovery-mode.service). The project's scenarios
// test root on rm -rf and on remount (the benign twins, where the published
// guard never applied: the rule fires there with or without it) and
// recovery-mode only for a non-root user (where the guard is true). No
// scenario runs I as root, the one case the guard decides, so dropping the
// guard changes no verdict: the mutation survives, and says that the guard
// the author wrote protects nothing the scenarios look at. The published
// scenarios, written to document the bug, do run root on I (a scenario that
// must stay silent), and kill it.
func TestPublishedGuardSurvives(t *testing.T) {
	const guard = `user.name != "root"`
	_, _, p := predict(t, "../../fixtures/published/rules", "../../scenarios/impact")
	if !p.Prediction {
		t.Error("a classification without Falco does not say it is a prediction")
	}
	rr := p.Rules[0]
	for _, m := range find(t, rr, mutate.DropAnd, guard) {
		if m.Killed {
			t.Errorf("dropping the published guard was killed by %+v; the project's scenarios never run root on the clause it guards", m.Kills)
		}
	}
	if !strings.Contains(rr.Rule, seedRule) || rr.Survived == 0 {
		t.Errorf("%s: %d killed, %d survived", rr.Rule, rr.Killed, rr.Survived)
	}

	_, _, p = predict(t, "../../fixtures/published/rules", "../../fixtures/published/scenarios")
	for _, m := range find(t, p.Rules[0], mutate.DropAnd, guard) {
		if len(m.Kills) != 1 || m.Kills[0].Scenario != "published-t1490-root-disable-recovery-mode-silent" {
			t.Errorf("dropping the published guard: kills %+v, want the root recovery-mode scenario", m.Kills)
		}
	}
}

// The corrected rule (rules/impact.yaml) puts its guard around every
// trigger: the project's scenarios kill every mutant of the guard, since a
// root twin fires once it is weakened and a non-root attack goes silent once
// it is negated.
func TestCorrectedGuardKilled(t *testing.T) {
	_, _, p := predict(t, "../../rules", "../../scenarios/impact")
	rr := p.Rules[0]
	guard := 0
	for _, m := range rr.Mutants {
		if !strings.Contains(m.Clause, "user.uid") && !strings.Contains(m.Clause, "user.loginuid") {
			continue
		}
		guard++
		if !m.Killed {
			t.Errorf("guard mutant %d survived: %s", m.N, m.Change)
		}
	}
	// drop the guard; drop either side; negate or nearly miss either side.
	if guard < 5 {
		t.Errorf("only %d mutants of the guard", guard)
	}
	if rr.Killed == 0 || rr.Survived == 0 {
		t.Errorf("%d killed, %d survived: the corrected rule's scenarios still leave clauses unpinned (-fr, ro,remount)", rr.Killed, rr.Survived)
	}
	if fr := find(t, rr, mutate.DropOr, `proc.args contains "-fr"`); fr[0].Killed {
		t.Errorf("dropping -fr was killed by %+v; no scenario runs rm -fr", fr[0].Kills)
	}
}
