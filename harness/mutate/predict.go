package mutate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/condition"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Predictor tells which rules, originals and mutants, would fire on an
// event, by evaluating their expanded conditions (condition.Eval).
type Predictor struct {
	rules []predictedRule
	// unknown holds, by original rule, what Eval could not know of the
	// events it was asked about.
	unknown map[string]map[string]bool
}

type predictedRule struct {
	name, original string
	tree           condition.Expr
	rule           rules.Rule
}

// NewPredictor prepares the syscall rules of idx and every mutant of set. A
// rule of idx whose condition cannot be expanded is left out (Falco would
// not load it either); a mutant's condition that does not parse is an error.
func NewPredictor(idx *rules.Index, set *Set) (*Predictor, error) {
	p := &Predictor{unknown: map[string]map[string]bool{}}
	x := newExpander(idx)
	for _, r := range idx.Rules() {
		if r.Source != rules.DefaultSource || !r.Enabled {
			continue
		}
		e, err := x.expand(r)
		if err != nil {
			continue
		}
		p.rules = append(p.rules, predictedRule{name: r.Name, original: r.Name, tree: e.tree, rule: r})
		if len(r.Exceptions) > 0 {
			// Falco adds them to the condition; Eval sees the condition
			// only, so it may fire where an exception would not.
			p.unknown[r.Name] = map[string]bool{"the rule's exceptions (not evaluated)": true}
		}
	}
	for _, rm := range set.Rules {
		for _, m := range rm.Mutants {
			tree, err := condition.Parse(m.Condition)
			if err != nil {
				return nil, fmt.Errorf("mutate: %s: %w", m.Name(), err)
			}
			p.rules = append(p.rules, predictedRule{name: m.Name(), original: rm.Rule.Name, tree: tree, rule: rm.Rule})
		}
	}
	return p, nil
}

// Alerts are the alerts Falco would raise for ev, one per rule whose
// condition is true; a rule whose condition is unknown for ev raises none
// and what it lacked is recorded (Unknown).
func (p *Predictor) Alerts(ev condition.Event) []alert.Alert {
	var out []alert.Alert
	for _, r := range p.rules {
		t, unknown := condition.Eval(r.tree, ev)
		if t == condition.Unknown {
			if p.unknown[r.original] == nil {
				p.unknown[r.original] = map[string]bool{}
			}
			for _, u := range unknown {
				p.unknown[r.original][u] = true
			}
		}
		if t != condition.True {
			continue
		}
		out = append(out, alert.Alert{
			Rule: r.name, Priority: r.rule.Priority, Source: r.rule.Source,
			Output: render(r.rule.Output, ev), Fields: fields(r.rule.Output, ev),
			Tags: slices.Clone(r.rule.Tags), Transport: "prediction",
		})
	}
	return out
}

// Unknown lists, sorted, what evaluating the rule (or its mutants) lacked.
func (p *Predictor) Unknown(rule string) []string {
	var out []string
	for u := range p.unknown[rule] {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// outputToken is a %field token of an output, with its argument.
var outputToken = regexp.MustCompile(`%([a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)+(?:\[[^\]]*\])?)`)

// render fills an output's %field tokens from ev, <NA> where it has none,
// as Falco prints a field without a value.
func render(output string, ev condition.Event) string {
	return outputToken.ReplaceAllStringFunc(strings.TrimSpace(output), func(tok string) string {
		if v, ok := ev[tok[1:]]; ok {
			return v
		}
		return alert.NA
	})
}

// fields are the output fields Falco would send: the output's own and
// those the harness appends to every alert (alert.AppendedFields).
func fields(output string, ev condition.Event) map[string]string {
	out := map[string]string{}
	add := func(name string) {
		if v, ok := ev[name]; ok {
			out[name] = v
		} else {
			out[name] = alert.NA
		}
	}
	for _, m := range outputToken.FindAllStringSubmatch(output, -1) {
		add(m[1])
	}
	for _, f := range alert.AppendedFields() {
		if f.Format == "" {
			add(f.Name)
		}
	}
	return out
}

// Report is a classification and what it rests on: for a prediction, what the
// events did not tell and the steps that were not read.
type Report struct {
	Result
	// Unknown lists, by rule, what the events did not tell the evaluator.
	Unknown map[string][]string
	// Unmodelled lists the steps whose processes were not all predicted,
	// as "scenario step N: why".
	Unmodelled []string
}

// Predict classifies the mutants of set without Falco: it synthesises the
// events of each scenario's steps (Events), predicts the alerts of the
// rules of idx and of the mutants on them, judges each scenario over them
// as if every step exited as it declares, and classifies (Classify).
func Predict(idx *rules.Index, set *Set, scenarios []*scenario.Scenario, candidates []string) (Report, error) {
	p, err := NewPredictor(idx, set)
	if err != nil {
		return Report{}, err
	}
	var pred Report
	var results []verdict.Result
	for _, sc := range scenarios {
		if sc.Skip != "" {
			continue
		}
		var as []alert.Attributed
		for _, se := range Events(sc) {
			if se.Unmodelled != "" {
				pred.Unmodelled = append(pred.Unmodelled, fmt.Sprintf("%s step %d: %s", sc.ID, se.Step, se.Unmodelled))
			}
			for _, ev := range se.Events {
				for _, a := range p.Alerts(ev) {
					as = append(as, alert.Attributed{Alert: a, Phase: alert.PhaseSteps, Step: se.Step})
				}
			}
		}
		v := verdict.Judge(verdict.Input{Scenario: sc, Attempt: 1, Alerts: as, Steps: declaredSteps(sc), Candidates: candidates})
		results = append(results, verdict.Result{ScenarioID: sc.ID, Attempts: []verdict.Verdict{v}, Outcome: v.Outcome})
	}
	pred.Result = Classify(set, scenarios, results, candidates)
	pred.Prediction = true
	pred.Unknown = map[string][]string{}
	for _, rr := range pred.Rules {
		if u := p.Unknown(rr.Rule); len(u) > 0 {
			pred.Unknown[rr.Rule] = u
		}
	}
	return pred, nil
}

// declaredSteps are step results as if each step ended as it declares:
// with its first allowed exit status, else 0.
func declaredSteps(sc *scenario.Scenario) []verdict.StepResult {
	var out []verdict.StepResult
	for i, st := range sc.Steps {
		code := 0
		if len(st.Exit) > 0 {
			code = st.Exit[0]
		}
		out = append(out, verdict.StepResult{Phase: alert.PhaseSteps, Index: i + 1, Run: st.Run, Argv: st.Exec,
			Sleep: st.Sleep, User: st.User, ExpectExit: st.Exit, ExitCode: code})
	}
	return out
}
