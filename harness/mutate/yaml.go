package mutate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/rules"
)

// FileName is the name of the mutants' rules file in a report directory.
const FileName = "mutants.yaml"

// ruleItem is one mutant as a Falco rules item.
type ruleItem struct {
	Rule       string         `yaml:"rule"`
	Desc       string         `yaml:"desc"`
	Condition  string         `yaml:"condition"`
	Output     string         `yaml:"output"`
	Priority   rules.Priority `yaml:"priority"`
	Source     string         `yaml:"source,omitempty"`
	Tags       []string       `yaml:"tags,omitempty"`
	Exceptions []*yaml.Node   `yaml:"exceptions,omitempty"`
	Enabled    bool           `yaml:"enabled"`
}

// YAML renders every mutant of the set as a rules file to load after the
// originals. Each is a full rule: its conditions name no macro or list, so
// the file loads after any rules that define the originals.
func (s *Set) YAML() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Mutants of Falco rules (attack-replay mutate): each rule is a copy of a\n")
	b.WriteString("# candidate rule with one clause changed, macros and lists expanded. Load it\n")
	b.WriteString("# after the candidate rules; its rules are not candidates.\n")
	var items []ruleItem
	for _, rm := range s.Rules {
		r := rm.Rule
		for _, m := range rm.Mutants {
			items = append(items, ruleItem{
				Rule:      m.Name(),
				Desc:      fmt.Sprintf("Mutant %d of %q (%s): %s", m.N, r.Name, m.Operator, m.Change),
				Condition: m.Condition, Output: strings.TrimSpace(r.Output), Priority: r.Priority,
				Source: r.Source, Tags: r.Tags, Exceptions: r.Exceptions, Enabled: true,
			})
		}
	}
	if len(items) == 0 {
		b.WriteString("[]\n")
		return b.Bytes(), nil
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(items); err != nil {
		return nil, fmt.Errorf("mutate: render mutants: %w", err)
	}
	return b.Bytes(), enc.Close()
}

// Screen loads the rules files rulesPaths (the originals, in load order)
// and the set's mutants after them, as Falco would, and moves every mutant
// that rules.Index.Check or the load finds a problem in (not a warning) to
// its rule's Rejected, with the problem. dir is where the mutants file is
// written for the load.
func (s *Set) Screen(rulesPaths []string, dir string) error {
	data, err := s.YAML()
	if err != nil {
		return err
	}
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("mutate: write %s: %w (REPORT_DIR must be writable)", path, err)
	}
	idx, err := rules.LoadPaths(append(append([]string(nil), rulesPaths...), path)...)
	problems := idx.Check()
	if le, ok := err.(*rules.LoadError); ok {
		problems = append(problems, le.Problems...)
	} else if err != nil {
		return fmt.Errorf("mutate: load the mutants: %w", err)
	}
	bad := map[string]string{}
	for _, p := range problems {
		if p.Warning || p.Pos.File != path {
			continue
		}
		if _, seen := bad[p.Subject]; !seen {
			bad[p.Subject] = p.String()
		}
	}
	if len(bad) == 0 {
		return nil
	}
	for i := range s.Rules {
		rm := &s.Rules[i]
		kept := rm.Mutants[:0]
		for _, m := range rm.Mutants {
			if why, ok := bad[fmt.Sprintf("rule %q", m.Name())]; ok {
				rm.Rejected = append(rm.Rejected, Rejected{Mutant: m, Problem: why})
				continue
			}
			kept = append(kept, m)
		}
		rm.Mutants = kept
	}
	data, err = s.YAML()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("mutate: write %s: %w", path, err)
	}
	return nil
}
