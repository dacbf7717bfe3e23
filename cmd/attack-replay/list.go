package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/attack-replay/attack-replay/harness/scenario"
)

func runList(args []string, stdout, stderr io.Writer) int {
	l, code, ok := parseAndLoad("list", "Prints each technique (id, tactic, name), its scenarios (id, attack or benign,\n"+
		"file:line) and the rules each scenario expects or forbids, with where each rule is\n"+
		"defined or MISSING. Problems found on the way are printed on stderr as by validate.", args, stderr)
	if !ok {
		return code
	}
	io.WriteString(stdout, listing(l))
	return l.report("list", stderr)
}

// listing renders the techniques in kill-chain order, then by id.
func listing(l loaded) string {
	files := byKillChain(l.set.Files)
	idWidth, ruleWidth := 0, 0
	for _, f := range files {
		for _, s := range f.Scenarios {
			idWidth = max(idWidth, len(s.ID))
			for _, m := range append(append([]scenario.Matcher(nil), s.Expect...), s.Forbid...) {
				ruleWidth = max(ruleWidth, len(m.Rule))
			}
		}
	}
	var b strings.Builder
	for _, f := range files {
		fmt.Fprintf(&b, "%s  %s  %s  (%s)\n", f.Technique, f.Tactic, f.Name, f.Path)
		for _, s := range f.Scenarios {
			kind := "attack"
			if s.Benign {
				kind = "benign"
			}
			fmt.Fprintf(&b, "  %s  %-*s  %s:%d", kind, idWidth, s.ID, s.File, s.Line)
			if s.Skip != "" {
				fmt.Fprintf(&b, "  SKIP: %s", s.Skip)
			}
			b.WriteString("\n")
			for _, m := range s.Expect {
				fmt.Fprintf(&b, "      expect  %-*s  %s\n", ruleWidth, m.Rule, ruleStatus(l, m.Rule))
			}
			for _, m := range s.Forbid {
				fmt.Fprintf(&b, "      forbid  %-*s  %s\n", ruleWidth, m.Rule, ruleStatus(l, m.Rule))
			}
		}
	}
	fmt.Fprintf(&b, "%s, %s\n", plural(len(files), "technique file"), count(files).scenarios())
	return b.String()
}

// ruleStatus says where a named rule is defined, or that it is not.
func ruleStatus(l loaded, name string) string {
	if name == scenario.AnyRule {
		return "any candidate rule"
	}
	r, ok := l.index.Rule(name)
	if !ok {
		return "MISSING"
	}
	s := fmt.Sprintf("%s:%d", r.Pos.File, r.Pos.Line)
	if !r.Enabled {
		s += " (disabled)"
	}
	return s
}
