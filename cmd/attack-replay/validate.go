package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/attack-replay/attack-replay/harness/attack"
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	l, code, ok := parseAndLoad("validate", "Loads the rules files and the scenarios, checks them against each other and\n"+
		"against ATT&CK, checks the rules' conditions and outputs as Falco compiles them (syntax,\n"+
		"macros, lists, fields), and prints every problem on stderr as path:line:col: what is wrong\n"+
		"(what to do). Warnings (out-of-date ATT&CK tags, deprecated forms) are printed but do not fail.", args, stderr)
	if !ok {
		return code
	}
	if code := l.report("validate", stderr); code != exitOK {
		return code
	}
	fmt.Fprintln(stdout, summary(l))
	return exitOK
}

// summary is validate's one line on success.
func summary(l loaded) string {
	t := count(l.set.Files)
	parts := []string{
		fmt.Sprintf("ok: %s for %s in %s", t.scenarios(), plural(t.techniques, "technique"), plural(t.tactics, "tactic")),
		fmt.Sprintf("%s in %s", plural(len(l.index.Rules()), "rule"), plural(len(l.index.Files()), "rules file")),
		"ATT&CK as of " + attack.ReleaseDate(),
	}
	if len(l.warnings) > 0 {
		parts = append(parts, plural(len(l.warnings), "warning"))
	}
	return strings.Join(parts, "; ")
}
