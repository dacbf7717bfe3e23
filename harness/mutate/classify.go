package mutate

import (
	"fmt"
	"slices"

	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Kill is a scenario whose verdict tells a mutant from its original.
type Kill struct {
	Scenario string
	Attempt  int
	// Original and Mutant are the outcomes of the scenario judged for the
	// original rule and for the mutant in its place.
	Original, Mutant verdict.Outcome
	Reason           string // the mutant's verdict reason
}

// MutantResult is what the scenarios made of one mutant.
type MutantResult struct {
	Mutant
	Killed bool
	// Kills are the scenarios that killed it, in scenario order.
	Kills []Kill `json:",omitempty"`
}

// RuleResult is the classification of one rule's mutants.
type RuleResult struct {
	Rule string
	// Scenarios are the scenarios that judge the rule (they name it, or
	// "*" while it is a candidate) and whose run could be judged.
	Scenarios []string
	// Unjudged are the scenarios that name the rule but ran into an error
	// or were skipped, with their outcome: they prove nothing either way.
	Unjudged []string `json:",omitempty"`
	// OriginalFailed are the judged scenarios the original rule itself does
	// not pass, with their outcome: a mutant can only be killed there by
	// passing, so they weaken the classification.
	OriginalFailed   []string `json:",omitempty"`
	Mutants          []MutantResult
	Killed, Survived int
	Duplicates       int
	Rejected         []Rejected `json:",omitempty"`
}

// Score is the share of the rule's mutants that were killed, in percent;
// 100 for a rule without mutants.
func (r RuleResult) Score() float64 { return score(r.Killed, r.Killed+r.Survived) }

// Result is the classification of every mutant of a set.
type Result struct {
	// Prediction says the alerts came from evaluating the conditions over
	// synthesised events (Predict), not from a Falco.
	Prediction bool
	Rules      []RuleResult
}

// Totals counts the mutants of every rule.
func (r Result) Totals() (mutants, killed int) {
	for _, rr := range r.Rules {
		mutants += rr.Killed + rr.Survived
		killed += rr.Killed
	}
	return mutants, killed
}

// Score is the share of all mutants that were killed, in percent.
func (r Result) Score() float64 {
	n, killed := r.Totals()
	return score(killed, n)
}

func score(killed, n int) float64 {
	if n == 0 {
		return 100
	}
	return 100 * float64(killed) / float64(n)
}

// Classify tells, for every mutant of set, whether the scenarios' recorded
// verdicts notice it. results are the run's (every attempt is looked at),
// scenarios the scenarios that ran, candidates the names "*" stands for (the
// originals' candidates: the mutants never are; none means the set's rules).
//
// For each mutant M of rule R and each scenario S that judges R, S is judged
// again over the same recorded alerts, once as it is and once with R's
// matchers naming M (and M standing for R among the candidates), by
// verdict.Judge. M is killed when an outcome differs: an attack it no longer
// catches, a benign twin it now fires on. It survives otherwise.
func Classify(set *Set, scenarios []*scenario.Scenario, results []verdict.Result, candidates []string) Result {
	if len(candidates) == 0 {
		// The judge reads no candidates as every rule, mutants included:
		// the rules mutated are candidates at least.
		for _, rm := range set.Rules {
			candidates = append(candidates, rm.Rule.Name)
		}
	}
	byID := map[string]verdict.Result{}
	for _, r := range results {
		byID[r.ScenarioID] = r
	}
	var out Result
	for _, rm := range set.Rules {
		rr := RuleResult{Rule: rm.Rule.Name, Duplicates: rm.Duplicates, Rejected: rm.Rejected}
		type judged struct {
			sc       *scenario.Scenario
			attempt  verdict.Verdict
			original verdict.Verdict
		}
		var runs []judged
		for _, sc := range scenarios {
			if !judges(sc, rr.Rule, candidates) {
				continue
			}
			res, ok := byID[sc.ID]
			if !ok {
				rr.Unjudged = append(rr.Unjudged, sc.ID+" (not run)")
				continue
			}
			used := false
			for _, v := range res.Attempts {
				if v.Outcome == verdict.Error || v.Outcome == verdict.Skip {
					rr.Unjudged = append(rr.Unjudged, fmt.Sprintf("%s (attempt %d: %s)", sc.ID, v.Attempt, v.Outcome))
					continue
				}
				orig := verdict.Judge(input(sc, v, candidates))
				if orig.Outcome != verdict.Pass {
					rr.OriginalFailed = append(rr.OriginalFailed, fmt.Sprintf("%s (%s)", sc.ID, orig.Outcome))
				}
				runs = append(runs, judged{sc: sc, attempt: v, original: orig})
				used = true
			}
			if used {
				rr.Scenarios = append(rr.Scenarios, sc.ID)
			}
		}
		for _, m := range rm.Mutants {
			mr := MutantResult{Mutant: m}
			for _, j := range runs {
				sc, cands := renamed(j.sc, rr.Rule, m.Name(), candidates)
				mv := verdict.Judge(input(sc, j.attempt, cands))
				if mv.Outcome != j.original.Outcome {
					mr.Kills = append(mr.Kills, Kill{Scenario: j.sc.ID, Attempt: j.attempt.Attempt,
						Original: j.original.Outcome, Mutant: mv.Outcome, Reason: mv.Reason})
				}
			}
			mr.Killed = len(mr.Kills) > 0
			if mr.Killed {
				rr.Killed++
			} else {
				rr.Survived++
			}
			rr.Mutants = append(rr.Mutants, mr)
		}
		out.Rules = append(out.Rules, rr)
	}
	return out
}

// judges reports whether sc's verdict depends on rule: a matcher names it,
// or "*" (in a matcher, or forbid_others) stands for it as a candidate.
func judges(sc *scenario.Scenario, rule string, candidates []string) bool {
	if sc.Skip != "" {
		return false
	}
	candidate := slices.Contains(candidates, rule)
	if sc.ForbidOthers && candidate {
		return true
	}
	for _, m := range slices.Concat(sc.Expect, sc.Forbid) {
		if m.Rule == rule || m.Rule == scenario.AnyRule && candidate {
			return true
		}
	}
	return false
}

// input is the judge's input for a recorded attempt: its alerts up to the
// barrier, its steps and drops.
func input(sc *scenario.Scenario, v verdict.Verdict, candidates []string) verdict.Input {
	return verdict.Input{
		Scenario: sc, Attempt: v.Attempt, Alerts: v.Alerts[:v.Judged], Steps: v.Steps,
		Candidates: candidates, Drops: v.Drops, Timings: v.Timings, VictimID: v.VictimID,
	}
}

// renamed is sc with the matchers of rule naming the mutant instead, and
// the candidates with the mutant in the rule's place.
func renamed(sc *scenario.Scenario, rule, mutant string, candidates []string) (*scenario.Scenario, []string) {
	c := *sc
	rename := func(ms []scenario.Matcher) []scenario.Matcher {
		out := slices.Clone(ms)
		for i := range out {
			if out[i].Rule == rule {
				out[i].Rule = mutant
			}
		}
		return out
	}
	c.Expect, c.Forbid = rename(sc.Expect), rename(sc.Forbid)
	cands := slices.Clone(candidates)
	if i := slices.Index(cands, rule); i >= 0 {
		cands[i] = mutant
	}
	return &c, cands
}

// Judging returns the scenarios, in order, whose verdicts depend on some
// rule of set: those a run of the mutants needs.
func Judging(set *Set, scenarios []*scenario.Scenario, candidates []string) []*scenario.Scenario {
	var out []*scenario.Scenario
	for _, sc := range scenarios {
		if slices.ContainsFunc(set.Rules, func(rm RuleMutants) bool { return judges(sc, rm.Rule.Name, candidates) }) {
			out = append(out, sc)
		}
	}
	return out
}
