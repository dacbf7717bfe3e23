package scenario

import (
	"fmt"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/rules"
)

// Problem is one thing wrong in a technique file, placed so that a user can
// fix the YAML without reading Go code.
type Problem struct {
	File   string
	Line   int // 1-based; 0 when the problem is about the whole file or directory
	Column int // 1-based
	// Scenario is the id of the scenario the problem is in ("" when it is
	// about the file, or the scenario has no id yet).
	Scenario string
	// Where narrows the place inside the scenario: "step 2", "setup step 1",
	// "cleanup step 1", "expect 1", "forbid 3", or "scenario 2" when the
	// scenario has no id.
	Where   string
	Msg     string // what is wrong
	Hint    string // what to do; printed in parentheses
	Warning bool   // worth fixing, but the scenarios still load and run
}

// String formats the problem as
// `path:line:col: [warning: ]scenario "id": step 2: what is wrong (what to do)`.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.pos().String())
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Scenario != "" {
		fmt.Fprintf(&b, "scenario %q: ", p.Scenario)
	}
	if p.Where != "" {
		b.WriteString(p.Where)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Hint != "" {
		b.WriteString(" (")
		b.WriteString(p.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// LoadError lists every problem of one load, sorted by file and position.
// Print one Problem per line.
type LoadError struct {
	Problems []Problem
}

func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("load scenarios: %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// pos is where the problem is, printed and ordered like a rules problem.
func (p Problem) pos() rules.Position {
	return rules.Position{File: p.File, Line: p.Line, Column: p.Column}
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.pos().Compare(b.pos()) })
}
