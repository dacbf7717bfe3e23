package rules

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong (or worth a warning) in a rules file.
type Problem struct {
	Pos Position
	// Subject names the item: `rule "Disable recovery features"`,
	// `macro "spawned_process"`, `list "shell_binaries"`; empty when the
	// problem is not about one item.
	Subject string
	Msg     string // what is wrong, then in parentheses what to do
	Warning bool   // Falco would load it; worth fixing all the same
	// Code is Falco's load-result code for the same problem
	// (LOAD_ERR_COMPILE_CONDITION …) where Check found it, else empty.
	Code string
	// Missing names the macro that no loaded file defines, when that is
	// the problem: a caller that will load more rules than it checked
	// (the Falco image's own) may treat it as not yet known.
	Missing string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Pos.String())
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Subject != "" {
		b.WriteString(p.Subject)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// LoadError lists every problem found while loading rules files, sorted by
// file and position.
type LoadError struct {
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("load rules: %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Pos.Compare(b.Pos) })
}
