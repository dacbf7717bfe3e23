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

// candidateRules gathers, over the candidate files in load order, the
// rules to enable once every rule is disabled: every rule they define,
// override or append to, unless their last word on it is enabled: false.
// A rules selection overrides the files' enabled keys ("regardless of their
// enabled status in the files or any override", Falco docs, Controlling
// Rules), so a rule the candidates disable must stay out of it.
type candidateRules struct {
	order   []string // first mention
	enabled map[string]bool
}

// read takes in one candidate file.
func (c *candidateRules) read(file string, data []byte) error {
	var items []map[string]any
	if err := yaml.Unmarshal(data, &items); err != nil {
		// Falco reports the error with its position when it loads the file.
		return fmt.Errorf("read rule names from %q: %w (run falco.Validate for Falco's own report)", file, err)
	}
	if c.enabled == nil {
		c.enabled = map[string]bool{}
	}
	for _, it := range items {
		name, ok := it["rule"].(string)
		if !ok {
			continue
		}
		if _, seen := c.enabled[name]; !seen {
			c.order = append(c.order, name)
		}
		_, override := it["override"]
		_, appends := it["append"]
		_, condition := it["condition"]
		switch enabled, ok := it["enabled"].(bool); {
		case ok:
			c.enabled[name] = enabled
		case condition && !override && !appends:
			c.enabled[name] = true // a definition: enabled unless it says otherwise
		default:
			if _, seen := c.enabled[name]; !seen {
				c.enabled[name] = true // a rule loaded before them that they change is under test
			}
		}
	}
	return nil
}

// names lists the rules to enable, in order of first mention.
func (c *candidateRules) names() []string {
	var out []string
	for _, name := range c.order {
		if c.enabled[name] {
			out = append(out, name)
		}
	}
	return out
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
	var candidateNames candidateRules
	n := 0
	for i, group := range [][]string{extra, candidates} {
		for _, f := range group {
			data, err := os.ReadFile(f)
			if err != nil {
				return rs, fmt.Errorf("read rules file: %w", err)
			}
			if i == 1 && s.imageRules && len(s.enableRules) == 0 && len(s.enableTags) == 0 {
				if err := candidateNames.read(f, data); err != nil {
					return rs, err
				}
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
		names = candidateNames.names()
	}
	for _, name := range append(slices.Clone(names), s.alsoEnable...) {
		if sel := (RuleSelection{Enable: true, Rule: name}); !slices.Contains(rs.selection, sel) {
			rs.selection = append(rs.selection, sel)
		}
	}
	for _, tag := range s.enableTags {
		rs.selection = append(rs.selection, RuleSelection{Enable: true, Tag: tag})
	}
	return rs, nil
}

// args are Falco's -r arguments. -r replaces the configured rules list
// (fixtures/falco/FACTS.md), so the image's falco_rules.yaml and rules.d load only when
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
