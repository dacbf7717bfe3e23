package scenario

import (
	"fmt"
	"strings"

	"github.com/attack-replay/attack-replay/harness/attack"
)

// Selection picks scenarios by technique and tactic. Empty lists select
// everything; both lists given select scenarios matching one of each.
type Selection struct {
	// Techniques match by id; a technique also selects its sub-techniques
	// (T1003 selects T1003.008).
	Techniques []attack.TechniqueID
	Tactics    []attack.Tactic
}

// ParseSelection reads comma- or space-separated technique ids and tactics,
// as in TECHNIQUES=T1490,T1003.008 TACTICS=impact. Unknown ids and tactics
// are errors: a typo would otherwise select nothing and pass.
func ParseSelection(techniques, tactics string) (Selection, error) {
	var sel Selection
	var problems []string
	for _, s := range splitList(techniques) {
		id, err := attack.ParseTechniqueID(s)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		sel.Techniques = append(sel.Techniques, id)
	}
	for _, s := range splitList(tactics) {
		t, err := attack.ParseTactic(s)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		sel.Tactics = append(sel.Tactics, t)
	}
	if len(problems) > 0 {
		return Selection{}, fmt.Errorf("parse selection: %s", strings.Join(problems, "; "))
	}
	return sel, nil
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// Empty reports whether the selection selects everything.
func (sel Selection) Empty() bool { return len(sel.Techniques) == 0 && len(sel.Tactics) == 0 }

// Matches reports whether the selection selects the scenario.
func (sel Selection) Matches(s *Scenario) bool {
	if len(sel.Techniques) > 0 {
		ok := false
		for _, id := range sel.Techniques {
			if s.Technique == id || (!id.IsSub() && s.Technique.Parent() == id) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(sel.Tactics) > 0 {
		for _, t := range sel.Tactics {
			if s.Tactic == t {
				return true
			}
		}
		return false
	}
	return true
}

// Filter returns the scenarios the selection selects, in their order.
func Filter(scenarios []*Scenario, sel Selection) []*Scenario {
	var out []*Scenario
	for _, s := range scenarios {
		if sel.Matches(s) {
			out = append(out, s)
		}
	}
	return out
}
