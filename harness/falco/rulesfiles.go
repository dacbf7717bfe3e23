package falco

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/alert"
)

// rulesFile is one rules file as the host and the container see it.
type rulesFile struct {
	host      string // path on the host ("" for files of the image)
	container string
	data      []byte // content to copy in (nil for files of the image)
}

// expandRules turns files and directories into files: a directory gives its
// *.yaml and *.yml files in name order, as Falco reads a rules directory.
func expandRules(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules path %q: %w", p, err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("rules directory %q: %w", p, err)
		}
		var found []string
		for _, e := range entries {
			if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
				found = append(found, filepath.Join(p, e.Name()))
			}
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("rules directory %q: no .yaml or .yml file", p)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// ruleNames lists the rules a rules file defines, in file order.
func ruleNames(file string, data []byte) ([]string, error) {
	var items []map[string]any
	if err := yaml.Unmarshal(data, &items); err != nil {
		// Falco reports the error with its position when it loads the file.
		return nil, fmt.Errorf("read rule names from %q: %w (run falco.Validate for Falco's own report)", file, err)
	}
	var names []string
	for _, it := range items {
		if name, ok := it["rule"].(string); ok && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// ruleSet is the ordered list of rules files a Falco loads, and how the
// rule selection enables them.
type ruleSet struct {
	files     []rulesFile
	selection []RuleSelection
}

// buildRuleSet places the rules files in the container, in load order: the
// image's rules, the extra rules, the candidates, the barrier rule. Names
// are numbered so that two files with one base name do not collide and
// errors still show which file was meant.
func buildRuleSet(s settings, v Version) (ruleSet, error) {
	var rs ruleSet
	if s.imageRules {
		rs.files = append(rs.files, rulesFile{container: ImageRulesFile})
	}
	extra, err := expandRules(s.extraRules)
	if err != nil {
		return rs, err
	}
	candidates, err := expandRules(s.rules)
	if err != nil {
		return rs, err
	}
	var candidateNames []string
	n := 0
	for i, group := range [][]string{extra, candidates} {
		for _, f := range group {
			data, err := os.ReadFile(f)
			if err != nil {
				return rs, fmt.Errorf("read rules file: %w", err)
			}
			if i == 1 && s.imageRules && len(s.enableRules) == 0 && len(s.enableTags) == 0 {
				names, err := ruleNames(f, data)
				if err != nil {
					return rs, err
				}
				candidateNames = append(candidateNames, names...)
			}
			n++
			rs.files = append(rs.files, rulesFile{
				host:      f,
				container: path.Join(RulesDir, fmt.Sprintf("%02d-%s", n, filepath.Base(f))),
				data:      data,
			})
		}
	}
	rs.files = append(rs.files, rulesFile{
		container: path.Join(RulesDir, fmt.Sprintf("%02d-attack-replay-barrier.yaml", n+1)),
		data:      RenderBarrierRule(v),
	})

	// Only what is under test runs: with image rules loaded, or an explicit
	// selection, every rule is disabled first, then the barrier and the
	// selected rules (or, by default, the candidates' rules) are enabled.
	if !s.imageRules && len(s.enableRules) == 0 && len(s.enableTags) == 0 {
		return rs, nil
	}
	rs.selection = []RuleSelection{{Rule: "*"}, {Enable: true, Rule: alert.BarrierRule}}
	names := s.enableRules
	if len(s.enableRules) == 0 && len(s.enableTags) == 0 {
		names = candidateNames
	}
	for _, name := range names {
		rs.selection = append(rs.selection, RuleSelection{Enable: true, Rule: name})
	}
	for _, tag := range s.enableTags {
		rs.selection = append(rs.selection, RuleSelection{Enable: true, Tag: tag})
	}
	return rs, nil
}

// args are Falco's -r arguments. -r replaces the configured rules list
// (FACTS.md), so the image's falco_rules.yaml and rules.d load only when
// asked.
func (rs ruleSet) args() []string {
	var out []string
	for _, f := range rs.files {
		out = append(out, "-r", f.container)
	}
	return out
}

// hostPath maps a container path to the file the user gave, leaving other
// paths as they are.
func (rs ruleSet) hostPath(p string) string {
	for _, f := range rs.files {
		if f.container == p && f.host != "" {
			return f.host
		}
	}
	return p
}
