package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/attack-replay/attack-replay/harness/attack"
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", "Loads the rules files and the scenarios, checks them against each other and\n"+
		"against ATT&CK, and prints every problem on stderr as path:line:col: what is wrong (what to do).\n"+
		"Warnings (out-of-date ATT&CK tags, deprecated forms) are printed but do not fail.", stderr)
	var in inputs
	in.register(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	l := in.load()
	if code := l.report("validate", stderr); code != exitOK {
		return code
	}
	fmt.Fprintln(stdout, summary(l))
	return exitOK
}

// summary is validate's one line on success.
func summary(l loaded) string {
	techniques, tactics := map[attack.TechniqueID]bool{}, map[attack.Tactic]bool{}
	var attacks, benign int
	for _, f := range l.set.Files {
		techniques[f.Technique] = true
		tactics[f.Tactic] = true
		for _, s := range f.Scenarios {
			if s.Benign {
				benign++
			} else {
				attacks++
			}
		}
	}
	parts := []string{
		fmt.Sprintf("ok: %s (%d attack, %d benign) for %s in %s",
			plural(attacks+benign, "scenario"), attacks, benign, plural(len(techniques), "technique"), plural(len(tactics), "tactic")),
		fmt.Sprintf("%s in %s", plural(len(l.index.Rules()), "rule"), plural(len(l.index.Files()), "rules file")),
		"ATT&CK as of " + attack.ReleaseDate(),
	}
	if len(l.warnings) > 0 {
		parts = append(parts, plural(len(l.warnings), "warning"))
	}
	return strings.Join(parts, "; ")
}
