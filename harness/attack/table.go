package attack

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
)

// enterpriseJSON is the project's ATT&CK technique table (enterprise-techniques.md): every
// Enterprise technique and sub-technique of one ATT&CK release. Replace the
// file to move to another release; its "source" line becomes Release().
//
//go:embed enterprise-techniques.json
var enterpriseJSON []byte

// retiredTactics are tactics older releases had and this one split; rule tags
// and scenarios written for older releases still use them. The table's own
// notes (enterprise-techniques.md, beside it) record it.
var retiredTactics = map[Tactic][]Tactic{
	"defense-evasion": {"stealth", "defense-impairment"},
}

// renumbered are technique ids of older releases that this one replaced, with
// the id that took their place. The table lists current ids only; these pairs
// are the ones its notes record.
var renumbered = map[TechniqueID]TechniqueID{
	"T1562.001": "T1685",     // Impair Defenses: Disable or Modify Tools
	"T1070.002": "T1685.006", // Indicator Removal: Clear Linux or Mac System Logs
}

type techniqueTable struct {
	source      string
	tactics     []Tactic
	tacticIndex map[Tactic]int
	techniques  []Technique // sorted by id
	byID        map[TechniqueID]int
}

var table = mustParseTable(enterpriseJSON)

func mustParseTable(b []byte) techniqueTable {
	t, err := parseTable(b)
	if err != nil {
		// The table is embedded at build time: a broken one is a build
		// defect, not an input error.
		panic(err)
	}
	return t
}

func parseTable(b []byte) (techniqueTable, error) {
	var raw struct {
		Source     string   `json:"source"`
		Tactics    []Tactic `json:"tactics"`
		Techniques []struct {
			ID         TechniqueID `json:"id"`
			Name       string      `json:"name"`
			Tactics    []Tactic    `json:"tactics"`
			Platforms  []string    `json:"platforms"`
			Deprecated bool        `json:"deprecated"`
		} `json:"techniques"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return techniqueTable{}, fmt.Errorf("parse ATT&CK table: %w", err)
	}
	t := techniqueTable{
		source:      raw.Source,
		tactics:     raw.Tactics,
		tacticIndex: make(map[Tactic]int, len(raw.Tactics)),
		byID:        make(map[TechniqueID]int, len(raw.Techniques)),
	}
	for i, tac := range raw.Tactics {
		t.tacticIndex[tac] = i
	}
	for _, r := range raw.Techniques {
		if !r.ID.WellFormed() {
			return techniqueTable{}, fmt.Errorf("parse ATT&CK table: malformed technique id %q", r.ID)
		}
		if _, dup := t.byID[r.ID]; dup {
			return techniqueTable{}, fmt.Errorf("parse ATT&CK table: technique %s listed twice", r.ID)
		}
		for _, tac := range r.Tactics {
			if _, ok := t.tacticIndex[tac]; !ok {
				return techniqueTable{}, fmt.Errorf("parse ATT&CK table: technique %s has unlisted tactic %q", r.ID, tac)
			}
		}
		// The table lists a technique's tactics in ATT&CK's object order;
		// Technique.Tactics promises kill-chain order.
		tactics := append([]Tactic(nil), r.Tactics...)
		sort.SliceStable(tactics, func(i, j int) bool { return t.tacticIndex[tactics[i]] < t.tacticIndex[tactics[j]] })
		t.byID[r.ID] = 0
		t.techniques = append(t.techniques, Technique{
			ID: r.ID, Name: r.Name, Tactics: tactics, Platforms: r.Platforms, Deprecated: r.Deprecated,
		})
	}
	sort.Slice(t.techniques, func(i, j int) bool { return t.techniques[i].ID < t.techniques[j].ID })
	for i, tech := range t.techniques {
		t.byID[tech.ID] = i
	}
	return t, nil
}
