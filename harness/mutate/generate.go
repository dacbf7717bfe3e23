package mutate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/attack-replay/attack-replay/harness/condition"
	"github.com/attack-replay/attack-replay/harness/rules"
)

// Operator names a way of changing one clause of a condition.
type Operator string

// The mutation operators, in the order Generate applies them at each node.
const (
	DropOr   Operator = "drop-or"   // drop one term of an `or`: an attack the rule no longer catches
	DropAnd  Operator = "drop-and"  // drop one term of an `and`: a guard or an exception
	Negate   Operator = "negate"    // `a = b` becomes `a != b` (and back), any other comparison `not (…)`
	SwapOp   Operator = "swap-op"   // startswith, contains, endswith and = replace each other
	DropItem Operator = "drop-item" // drop one item of an in, intersects or pmatch list
	NearMiss Operator = "near-miss" // a string constant loses its last character
)

// Operators lists every operator.
func Operators() []Operator { return []Operator{DropOr, DropAnd, Negate, SwapOp, DropItem, NearMiss} }

// Mutant is one changed copy of a rule.
type Mutant struct {
	Rule     string // the original rule's name
	N        int    // 1-based, in generation order within the rule
	Operator Operator
	// Clause is the changed clause as the expanded condition prints it (a
	// macro's whole condition by the macro's name); Change says what
	// became of it.
	Clause string
	Change string
	// In is where the clause was written (`rule "X"`, `macro "Y"`, `list
	// "Z"`) and Span its byte offsets in that condition (zero for a list's
	// item).
	In   string
	Span condition.Span
	// Condition is the mutant's whole condition, macros and lists expanded.
	Condition string
}

// maxNameChange bounds what a mutant's name says of its change: enough to
// tell mutants apart in an alert, the whole change is in the report.
const maxNameChange = 80

// Name is the mutant's rule name: "<rule> [mutant N: <what changed>]".
func (m Mutant) Name() string {
	change := m.Change
	if utf8.RuneCountInString(change) > maxNameChange {
		change = string([]rune(change)[:maxNameChange-1]) + "…"
	}
	return fmt.Sprintf("%s [mutant %d: %s]", m.Rule, m.N, change)
}

// RuleMutants are the mutants of one rule.
type RuleMutants struct {
	Rule rules.Rule
	// Expanded is the rule's condition with macros and lists expanded, as
	// the mutants' conditions are written.
	Expanded string
	Mutants  []Mutant
	// Duplicates counts the mutants left out because their condition
	// printed as the original's or an earlier mutant's.
	Duplicates int
	// Rejected are mutants Screen found Falco would refuse, with why.
	Rejected []Rejected
}

// Rejected is a mutant left out because Falco would not load it.
type Rejected struct {
	Mutant
	Problem string
}

// Set is the mutants of the selected rules, in the order of the selection.
type Set struct {
	Rules []RuleMutants
}

// Mutants returns every mutant of the set, rule by rule.
func (s *Set) Mutants() []Mutant {
	var out []Mutant
	for _, r := range s.Rules {
		out = append(out, r.Mutants...)
	}
	return out
}

// Generate makes the mutants of the named rules of idx, in the order given;
// no names means every rule of the syscall source. A name the index lacks,
// a condition that does not parse or a macro that is undefined is an error
// naming the rule and its file:line.
func Generate(idx *rules.Index, names []string) (*Set, error) {
	if len(names) == 0 {
		for _, r := range idx.Rules() {
			if r.Source == rules.DefaultSource {
				names = append(names, r.Name)
			}
		}
	}
	x := newExpander(idx)
	set := &Set{}
	for _, name := range names {
		r, ok := idx.Rule(name)
		if !ok {
			hint := ""
			if close := idx.Closest(name, 3); len(close) > 0 {
				hint = fmt.Sprintf("; did you mean %q?", strings.Join(close, `", "`))
			}
			return nil, fmt.Errorf("mutate: no rule %q in the rules loaded (name one of their rules exactly%s)", name, hint)
		}
		rm, err := x.mutants(r)
		if err != nil {
			return nil, fmt.Errorf("mutate: %w", err)
		}
		set.Rules = append(set.Rules, rm)
	}
	return set, nil
}

// site is one change a generator proposes: old replaced by repl.
type site struct {
	op        Operator
	old, repl condition.Node
	clause    condition.Node // the clause shown (old, or the comparison old is part of)
	change    string         // what became of the clause, with %s for its text
}

func (x *expander) mutants(r rules.Rule) (RuleMutants, error) {
	e, err := x.expand(r)
	if err != nil {
		return RuleMutants{}, err
	}
	orig, err := condition.Print(e.tree)
	if err != nil {
		return RuleMutants{}, fmt.Errorf("%s: rule %q: %w", r.Pos, r.Name, err)
	}
	rm := RuleMutants{Rule: r, Expanded: orig}
	seen := map[string]bool{orig: true}
	for _, s := range sites(e.tree) {
		text, err := condition.Print(condition.Replace(e.tree, s.old, s.repl))
		if err != nil {
			return RuleMutants{}, fmt.Errorf("%s: rule %q: %s: %w", r.Pos, r.Name, s.op, err)
		}
		if seen[text] {
			rm.Duplicates++
			continue
		}
		seen[text] = true
		o, dropped := e.origins[s.clause], s.op == DropOr || s.op == DropAnd
		if n, ok := e.named[s.clause]; ok && dropped {
			o = n
		}
		clause := e.clause(s.clause, o)
		rm.Mutants = append(rm.Mutants, Mutant{
			Rule: r.Name, N: len(rm.Mutants) + 1, Operator: s.op,
			Clause: clause, Change: fmt.Sprintf(s.change, clause),
			In: o.in, Span: o.span, Condition: text,
		})
	}
	return rm, nil
}

// clause prints a clause of the expansion, or the name of the macro it
// stands for when o says it was written as that name.
func (e expansion) clause(n condition.Node, o origin) string {
	if o.macro != "" {
		return o.macro
	}
	text, err := condition.Print(n)
	if err != nil {
		return fmt.Sprintf("%T", n)
	}
	return text
}

// sites lists the changes of every operator, depth first in the order the
// clauses are written, each node's changes in the order of Operators.
func sites(tree condition.Expr) []site {
	var out []site
	condition.Walk(tree, func(n condition.Node) bool {
		switch n := n.(type) {
		case *condition.Or:
			out = append(out, dropTerms(DropOr, n, n.Terms, func(ts []condition.Expr) condition.Node { return &condition.Or{Terms: ts} })...)
		case *condition.And:
			out = append(out, dropTerms(DropAnd, n, n.Terms, func(ts []condition.Expr) condition.Node { return &condition.And{Terms: ts} })...)
		case *condition.Compare:
			out = append(out, negate(n))
			out = append(out, swaps(n)...)
			out = append(out, dropItems(n)...)
			out = append(out, nearMisses(n)...)
		case *condition.Exists:
			out = append(out, site{op: Negate, old: n, repl: &condition.Not{X: condition.Clone(n)}, clause: n, change: "not (%s)"})
		}
		return true
	})
	return out
}

// dropTerms drops each term of an and/or in turn; one term left stands alone.
func dropTerms(op Operator, n condition.Node, terms []condition.Expr, build func([]condition.Expr) condition.Node) []site {
	word := map[Operator]string{DropOr: "or", DropAnd: "and"}[op]
	var out []site
	for i, t := range terms {
		rest := make([]condition.Expr, 0, len(terms)-1)
		for j, u := range terms {
			if j != i {
				rest = append(rest, condition.Clone(u))
			}
		}
		var repl condition.Node = build(rest)
		if len(rest) == 1 {
			repl = rest[0]
		}
		out = append(out, site{op: op, old: n, repl: repl, clause: t, change: "drop " + word + "-clause %s"})
	}
	return out
}

// negate flips = and != and wraps any other comparison in not.
func negate(c *condition.Compare) site {
	flip := map[condition.Operator]condition.Operator{
		condition.OpEq: condition.OpNe, condition.OpEqEq: condition.OpNe, condition.OpNe: condition.OpEq,
	}
	if to, ok := flip[c.Op]; ok {
		m := condition.Clone(c)
		m.Op = to
		return site{op: Negate, old: c, repl: m, clause: c, change: fmt.Sprintf("%s -> %s in %%s", c.Op, to)}
	}
	return site{op: Negate, old: c, repl: &condition.Not{X: condition.Clone(c)}, clause: c, change: "not (%s)"}
}

// swapOps replace each other: the string operators an author picks between
// for one value, each matching more or less than the others.
var swapOps = []condition.Operator{condition.OpStartsWith, condition.OpContains, condition.OpEndsWith, condition.OpEq}

// enumFields compare with names from a fixed set (event types, directions):
// a near miss or a swapped operator of theirs says nothing about a scenario
// (Falco may refuse an unknown event type outright).
var enumFields = map[string]bool{"evt.type": true, "evt.dir": true}

func swaps(c *condition.Compare) []site {
	v, ok := c.Right.(*condition.Value)
	op := c.Op
	if op == condition.OpEqEq {
		op = condition.OpEq
	}
	if !ok || c.Modifier != "" || !stringField(c) || !isSwap(op) || isNumber(v) {
		return nil
	}
	var out []site
	for _, to := range swapOps {
		if to == op {
			continue
		}
		m := condition.Clone(c)
		m.Op = to
		out = append(out, site{op: SwapOp, old: c, repl: m, clause: c, change: fmt.Sprintf("%s -> %s in %%s", c.Op, to)})
	}
	return out
}

func isSwap(op condition.Operator) bool {
	for _, o := range swapOps {
		if o == op {
			return true
		}
	}
	return false
}

// stringField reports a comparison of a plain field that is not an
// enumeration (transformers and val() are left alone).
func stringField(c *condition.Compare) bool {
	f, ok := c.Left.(*condition.Field)
	return ok && !enumFields[f.Name]
}

func isNumber(v *condition.Value) bool {
	_, err := strconv.ParseInt(v.Text, 0, 64)
	return err == nil && v.Quote == 0
}

func dropItems(c *condition.Compare) []site {
	l, ok := c.Right.(*condition.List)
	if !ok || len(l.Items) < 2 {
		return nil
	}
	var out []site
	for i, it := range l.Items {
		m := condition.Clone(c)
		ml := m.Right.(*condition.List)
		ml.Items = append(ml.Items[:i:i], ml.Items[i+1:]...)
		item, err := condition.Print(it)
		if err != nil {
			item = strconv.Quote(it.Text)
		}
		out = append(out, site{op: DropItem, old: c, repl: m, clause: c, change: "drop " + strings.ReplaceAll(item, "%", "%%") + " from %s"})
	}
	return out
}

// nearMisses drops the last character of each string constant the
// comparison holds: `"root"` becomes `"roo"`, `-rf` becomes `-r`.
func nearMisses(c *condition.Compare) []site {
	if !stringField(c) {
		return nil
	}
	var values []*condition.Value
	switch r := c.Right.(type) {
	case *condition.Value:
		values = []*condition.Value{r}
	case *condition.List:
		values = r.Items
	}
	var out []site
	for _, v := range values {
		if isNumber(v) || utf8.RuneCountInString(v.Text) < 2 {
			continue
		}
		runes := []rune(v.Text)
		near := &condition.Value{Text: string(runes[:len(runes)-1]), Quote: '"'}
		from, to := strconv.Quote(v.Text), strconv.Quote(near.Text)
		out = append(out, site{op: NearMiss, old: v, repl: near, clause: c,
			change: strings.ReplaceAll(from+" -> "+to, "%", "%%") + " in %s"})
	}
	return out
}
